//! Every route, in one table.
//!
//! ```text
//! /MetaService/http/[v1/]<route>?token=T   Doris Meta Service API (any method; token first)
//! GET /api/v1/cluster?token=T              this node's view of the cluster (JSON)
//! GET|POST|DELETE /api/v1/nodes?token=T    membership: list / add / remove     (nodes.rs)
//! POST /api/v1/leader?token=T&to=N         501: no leadership transfer in openraft 0.9
//! GET /api/v1/backup?token=T               a consistent backup, streamed        (backup.rs)
//! GET /api/v1/instances?token=T            instances, clusters, nodes (no secrets)
//! GET /metrics                             Prometheus text                      (metrics.rs)
//! GET /                                    the status page (status.html)
//! GET /healthz                             200 "ok"
//! GET /readyz                              200 "ready" | 503 "<reason>"
//! anything else                            404 "http path not found or not allowed"
//! ```
//! The token layer wraps everything here, fallback included, because Doris checks the token
//! before route lookup (transport §1.3). `/raft/*` is merged by the caller after this router, so
//! it is outside the layer and keeps its own cluster-secret check.
//!
//! Versions (transport §1.2, [M]): a route answers at `<route>` and `v1/<route>`; any other
//! `vN/` falls through to the 404.

use axum::middleware::from_fn;
use axum::middleware::from_fn_with_state;
use axum::routing::any;
use axum::routing::get;
use axum::routing::post;
use axum::Router;

use super::backup;
use super::body::buffer_body;
use super::body::DORIS_PREFIX;
use super::cluster;
use super::envelope::route_not_found;
use super::error::log_errors;
use super::instance;
use super::keys;
use super::metrics;
use super::nodes;
use super::obj_store;
use super::status;
use super::token::check_token;
use super::AppState;

/// Every Doris route served, without prefix. A test checks each answers something other than
/// the route-404.
#[cfg(test)]
pub const ROUTES: &[&str] = &[
    "create_instance",
    "get_instance",
    "drop_instance",
    "set_instance_status",
    "enable_instance_sse",
    "disable_instance_sse",
    "rename_instance",
    "get_obj_store_info",
    "show_storage_vaults",
    "add_obj_info",
    "legacy_update_ak_sk",
    "update_ak_sk",
    "add_cluster",
    "drop_cluster",
    "rename_cluster",
    "update_cluster_mysql_user_name",
    "add_node",
    "drop_node",
    "set_cluster_status",
    "update_cluster_endpoint",
    "decommission_node",
    "notify_decommissioned",
    "get_cluster",
    "get_cluster_status",
    "decode_key",
    "encode_key",
    "get_value",
];

/// The Doris routes, relative to `/MetaService/http[/v1]`. Handler names are Doris route names.
fn doris_routes() -> Router<AppState> {
    Router::new()
        // --- instances
        .route("/create_instance", any(instance::create_instance))
        .route("/get_instance", any(instance::get_instance))
        .route("/drop_instance", any(instance::drop_instance))
        .route("/set_instance_status", any(instance::set_instance_status))
        .route("/enable_instance_sse", any(instance::enable_instance_sse))
        .route("/disable_instance_sse", any(instance::disable_instance_sse))
        .route("/rename_instance", any(instance::rename_instance))
        // --- object storage
        .route("/get_obj_store_info", any(obj_store::get_obj_store_info))
        .route("/show_storage_vaults", any(obj_store::get_obj_store_info))
        .route("/add_obj_info", any(obj_store::add_obj_info))
        .route("/legacy_update_ak_sk", any(obj_store::legacy_update_ak_sk))
        .route("/update_ak_sk", any(obj_store::update_ak_sk))
        // --- clusters and nodes
        .route("/add_cluster", any(cluster::add_cluster))
        .route("/drop_cluster", any(cluster::drop_cluster))
        .route("/rename_cluster", any(cluster::rename_cluster))
        .route("/update_cluster_mysql_user_name", any(cluster::update_cluster_mysql_user_name))
        .route("/add_node", any(cluster::add_node))
        .route("/drop_node", any(cluster::drop_node))
        .route("/set_cluster_status", any(cluster::set_cluster_status))
        .route("/update_cluster_endpoint", any(cluster::update_cluster_endpoint))
        .route("/decommission_node", any(cluster::decommission_node))
        .route("/notify_decommissioned", any(cluster::notify_decommissioned))
        .route("/get_cluster", any(cluster::get_cluster))
        .route("/get_cluster_status", any(cluster::get_cluster_status))
        // --- keys
        .route("/decode_key", any(keys::decode_key))
        .route("/encode_key", any(keys::encode_key))
        .route("/get_value", any(keys::get_value))
}

/// The whole HTTP surface of the meta service (without `/raft/*`).
pub fn router(state: AppState) -> Router {
    Router::new()
        .nest(DORIS_PREFIX, doris_routes())
        .nest(&format!("{DORIS_PREFIX}/v1"), doris_routes())
        // --- operations (not Doris)
        .route("/api/v1/cluster", get(status::cluster))
        .route("/api/v1/nodes", get(nodes::list).post(nodes::add).delete(nodes::remove))
        .route("/api/v1/leader", post(nodes::transfer_leader))
        .route("/api/v1/backup", get(backup::backup))
        .route("/api/v1/instances", get(status::instances))
        .route("/", get(status::page))
        .route("/metrics", get(metrics::scrape))
        .route("/healthz", get(status::healthz))
        .route("/readyz", get(status::readyz))
        .route_layer(from_fn_with_state(state.clone(), metrics::record))
        .fallback(route_not_found)
        // Inside the token check: a bad token is refused before any body byte is read.
        .layer(from_fn(buffer_body))
        .layer(from_fn_with_state(state.clone(), check_token))
        .layer(from_fn(log_errors))
        .with_state(state)
}
