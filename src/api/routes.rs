//! Every route, in two tables: [`DORIS_ROUTES`] and [`OPS_ROUTES`]. The router, the OpenAPI
//! document (`openapi.rs`) and `metaraft ctl call` are built from them.
//!
//! ```text
//! /MetaService/http/[v1/]<route>?token=T   Doris Meta Service API (any method; token first)
//! /MetaService/<method>?token=T             Doris's brpc methods, brpc's JSON mapping (rpc.rs)
//! GET /api/v1/cluster?token=T              this node's view of the cluster (JSON)
//! GET|POST|DELETE /api/v1/nodes?token=T    membership: list / add / remove     (nodes.rs)
//! POST /api/v1/leader?token=T&to=N         501: no leadership transfer in openraft 0.9
//! GET /api/v1/backup?token=T               a consistent backup, streamed        (backup.rs)
//! GET /api/v1/instances?token=T            instances, clusters, nodes (no secrets)
//! GET /api/v1/openapi.json?token=T         the OpenAPI document of all of this  (openapi.rs)
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
use axum::routing::delete;
use axum::routing::get;
use axum::routing::post;
use axum::routing::MethodRouter;
use axum::Router;

use super::backup;
use super::body::buffer_body;
use super::body::DORIS_PREFIX;
use super::cluster;
use super::envelope::route_not_found;
use super::error::log_errors;
use super::instance;
use super::keys;
use super::load;
use super::metrics;
use super::nodes;
use super::obj_store;
use super::openapi;
use super::openapi::array_of;
use super::openapi::messages_of;
use super::openapi::schema_of;
use super::openapi::Schemas;
use super::rpc;
use super::status;
use super::token::check_token;
use super::AppState;
use crate::meta::pb::AlterClusterRequest;
use crate::meta::pb::ClusterPb;
use crate::meta::pb::CreateInstanceRequest;
use crate::meta::pb::GetClusterRequest;
use crate::meta::pb::GetClusterStatusRequest;
use crate::meta::pb::InstanceInfoPb;
use crate::meta::pb_txn::AbortTxnRequest;
use crate::meta::pb_txn::FinishTabletJobRequest;
use crate::meta::pb_txn::GetTabletStatsRequest;
use crate::meta::schema::MessageSchema;
use crate::meta::schema::ProtoMessage as _;
use crate::meta::AlterInstanceRequest;
use crate::meta::AlterObjStoreInfoRequest;
use crate::meta::GetObjStoreInfoRequest;
use crate::meta::ObjStoreInfo;
use crate::meta::UpdateAkSkRequest;
use utoipa::openapi::schema::ObjectBuilder;
use utoipa::openapi::schema::Schema;
use utoipa::openapi::RefOr;

/// A query parameter a route reads.
#[derive(Debug)]
pub struct Param {
    pub name: &'static str,
    pub about: &'static str,
}

/// What a Doris route answers with when it succeeds.
#[derive(Debug)]
pub enum Answer {
    /// The bare envelope `{"code":"OK","msg":""}`.
    Ok,
    /// The envelope with `result` = this message (protobuf JSON).
    Message(&'static MessageSchema),
    /// The envelope with `result` = a whole response object, `status` first.
    Response(&'static str),
    /// Plain text (the key tools).
    Text,
}

/// One Doris route: its name, its handler, and what it reads and answers — the router, the
/// OpenAPI document and `metaraft ctl call` are all built from this table.
pub struct DorisRoute {
    /// Route name, without prefix (`create_instance`).
    pub name: &'static str,
    /// One line for humans (OpenAPI summary, `ctl` help).
    pub summary: &'static str,
    /// The axum handler, for any method (Doris does not look at the method).
    pub handler: fn() -> MethodRouter<AppState>,
    /// The body's message, when the route parses a body.
    pub body: Option<&'static MessageSchema>,
    /// Query parameters read besides `token`.
    pub query: &'static [Param],
    /// The successful answer.
    pub answer: Answer,
}

const CONSISTENCY: Param =
    Param { name: "consistency", about: "`linearizable` (default) or `stale` (this member's applied state)" };
const INSTANCE_ID: Param = Param { name: "instance_id", about: "the instance" };
const CLOUD_UNIQUE_ID: Param =
    Param { name: "cloud_unique_id", about: "`1:<instance_id>:<anything>`, instead of instance_id" };
const HEX_KEY: Param = Param { name: "key", about: "the key, hex-encoded" };
const UNICODE: Param = Param { name: "unicode", about: "`false` draws the key picture in ASCII" };
const KEY_TYPE: Param = Param { name: "key_type", about: "a key type (`InstanceKey`, …); its parameters follow" };
const READ: &[Param] = &[CONSISTENCY];
const NONE: &[Param] = &[];

/// Shorthand for the table below.
macro_rules! doris_route {
    ($name:ident, $module:ident :: $handler:ident, $summary:literal, body: $body:expr, query: $query:expr, $answer:expr) => {
        DorisRoute {
            name: stringify!($name),
            summary: $summary,
            handler: || any($module::$handler),
            body: $body,
            query: $query,
            answer: $answer,
        }
    };
}

const INSTANCE_INFO: Answer = Answer::Message(InstanceInfoPb::SCHEMA);
const ALTER_INSTANCE: Option<&MessageSchema> = Some(AlterInstanceRequest::SCHEMA);
const ALTER_CLUSTER: Option<&MessageSchema> = Some(AlterClusterRequest::SCHEMA);
const ALTER_OBJ: Option<&MessageSchema> = Some(AlterObjStoreInfoRequest::SCHEMA);

/// Every Doris route, in the reference's order. Handler names are Doris route names.
#[rustfmt::skip]
pub static DORIS_ROUTES: &[DorisRoute] = &[
    // --- instances (instance.rs)
    doris_route!(create_instance, instance::create_instance, "Create an instance (vault or legacy object storage)",
        body: Some(CreateInstanceRequest::SCHEMA), query: NONE, Answer::Ok),
    doris_route!(get_instance, instance::get_instance, "An instance with its clusters and storage",
        body: None, query: &[INSTANCE_ID, CLOUD_UNIQUE_ID, CONSISTENCY], INSTANCE_INFO),
    doris_route!(drop_instance, instance::drop_instance, "Mark an instance deleted",
        body: ALTER_INSTANCE, query: NONE, Answer::Ok),
    doris_route!(set_instance_status, instance::set_instance_status, "Run the op the body names (SET_OVERDUE, SET_NORMAL, …)",
        body: ALTER_INSTANCE, query: NONE, Answer::Ok),
    doris_route!(enable_instance_sse, instance::enable_instance_sse, "Turn server-side encryption on",
        body: ALTER_INSTANCE, query: NONE, Answer::Ok),
    doris_route!(disable_instance_sse, instance::disable_instance_sse, "Turn server-side encryption off",
        body: ALTER_INSTANCE, query: NONE, Answer::Ok),
    doris_route!(rename_instance, instance::rename_instance, "Rename an instance",
        body: ALTER_INSTANCE, query: NONE, Answer::Ok),
    // --- object storage (obj_store.rs)
    doris_route!(get_obj_store_info, obj_store::get_obj_store_info, "Object storage and vaults of an instance",
        body: Some(GetObjStoreInfoRequest::SCHEMA), query: READ, Answer::Message(ObjStoreInfo::SCHEMA)),
    doris_route!(show_storage_vaults, obj_store::get_obj_store_info, "Same as get_obj_store_info",
        body: Some(GetObjStoreInfoRequest::SCHEMA), query: READ, Answer::Message(ObjStoreInfo::SCHEMA)),
    doris_route!(add_obj_info, obj_store::add_obj_info, "Add an object storage",
        body: ALTER_OBJ, query: NONE, Answer::Ok),
    doris_route!(legacy_update_ak_sk, obj_store::legacy_update_ak_sk, "Replace the ak/sk of one object storage",
        body: ALTER_OBJ, query: NONE, Answer::Ok),
    doris_route!(update_ak_sk, obj_store::update_ak_sk, "Replace an ak/sk everywhere it is used",
        body: Some(UpdateAkSkRequest::SCHEMA), query: NONE, Answer::Ok),
    // --- clusters and nodes (cluster.rs)
    doris_route!(add_cluster, cluster::add_cluster, "Add a cluster with its nodes",
        body: ALTER_CLUSTER, query: NONE, Answer::Ok),
    doris_route!(drop_cluster, cluster::drop_cluster, "Drop a cluster",
        body: ALTER_CLUSTER, query: NONE, Answer::Ok),
    doris_route!(rename_cluster, cluster::rename_cluster, "Rename a cluster",
        body: ALTER_CLUSTER, query: NONE, Answer::Ok),
    doris_route!(update_cluster_mysql_user_name, cluster::update_cluster_mysql_user_name, "Set a cluster's MySQL user names",
        body: ALTER_CLUSTER, query: NONE, Answer::Ok),
    doris_route!(add_node, cluster::add_node, "Add nodes to a cluster",
        body: ALTER_CLUSTER, query: NONE, Answer::Ok),
    doris_route!(drop_node, cluster::drop_node, "Drop nodes from a cluster",
        body: ALTER_CLUSTER, query: NONE, Answer::Ok),
    doris_route!(set_cluster_status, cluster::set_cluster_status, "Set a compute cluster's status",
        body: ALTER_CLUSTER, query: NONE, Answer::Ok),
    doris_route!(update_cluster_endpoint, cluster::update_cluster_endpoint, "Set a cluster's public/private endpoints",
        body: ALTER_CLUSTER, query: NONE, Answer::Ok),
    doris_route!(decommission_node, cluster::decommission_node, "Mark nodes decommissioning",
        body: ALTER_CLUSTER, query: NONE, Answer::Ok),
    doris_route!(notify_decommissioned, cluster::notify_decommissioned, "Mark nodes decommissioned",
        body: ALTER_CLUSTER, query: NONE, Answer::Ok),
    doris_route!(get_cluster, cluster::get_cluster, "One cluster by id, name or MySQL user; all of them without a key",
        body: Some(GetClusterRequest::SCHEMA), query: READ, Answer::Message(ClusterPb::SCHEMA)),
    doris_route!(get_cluster_status, cluster::get_cluster_status, "Clusters of the given instances, by status",
        body: Some(GetClusterStatusRequest::SCHEMA), query: READ, Answer::Response("GetClusterStatusResponse")),
    // --- keys (keys.rs)
    doris_route!(decode_key, keys::decode_key, "Draw a hex key as Doris's key picture",
        body: None, query: &[HEX_KEY, UNICODE], Answer::Text),
    doris_route!(encode_key, keys::encode_key, "Encode a key from its type and parameters",
        body: None, query: &[KEY_TYPE, UNICODE], Answer::Text),
    doris_route!(get_value, keys::get_value, "The record stored under a key, as compact protobuf JSON",
        body: None, query: &[KEY_TYPE, HEX_KEY, CONSISTENCY], Answer::Text),
    // --- transactions, tablets, compaction jobs (load.rs; the brpc methods are in rpc.rs)
    doris_route!(get_tablet_stats, load::get_tablet_stats, "Tablet stats as protobuf text (DebugString)",
        body: Some(GetTabletStatsRequest::SCHEMA), query: NONE, Answer::Text),
    doris_route!(abort_txn, load::abort_txn, "Abort a load transaction by txn_id, or by db_id + label",
        body: Some(AbortTxnRequest::SCHEMA), query: NONE, Answer::Ok),
    doris_route!(abort_tablet_job, load::abort_tablet_job, "Abort a running compaction job of a tablet",
        body: Some(FinishTabletJobRequest::SCHEMA), query: NONE, Answer::Ok),
];

/// The Doris routes, relative to `/MetaService/http[/v1]`.
fn doris_routes() -> Router<AppState> {
    DORIS_ROUTES.iter().fold(Router::new(), |router, r| router.route(&format!("/{}", r.name), (r.handler)()))
}

/// An HTTP method of an operations route.
#[derive(Debug, Clone, Copy)]
pub enum Method {
    Get,
    Post,
    Delete,
}

/// A schema for the OpenAPI document, registering what it refers to.
pub type SchemaFn = fn(&mut Schemas) -> RefOr<Schema>;

/// What an operations route answers with.
pub enum OpsAnswer {
    /// The envelope with this `result`.
    Envelope(SchemaFn),
    /// Plain JSON of this schema.
    Json(SchemaFn),
    /// Another media type: `(media type, what it is)`.
    Media(&'static str, &'static str),
}

/// One operations route (not Doris). Routes under `/api/` take the token like Doris's.
pub struct OpsRoute {
    pub path: &'static str,
    pub method: Method,
    pub handler: fn() -> MethodRouter<AppState>,
    pub summary: &'static str,
    pub query: &'static [Param],
    /// Whether the query parameters are required.
    pub required_query: bool,
    /// A JSON body, when the route takes one.
    pub body: Option<SchemaFn>,
    pub answer: OpsAnswer,
}

const NODE_ID: &[Param] = &[Param { name: "id", about: "a node id" }];

/// Shorthand for the table below.
macro_rules! ops_route {
    ($method:ident $path:literal, $router:ident($handler:path), $summary:literal, query: $query:expr, required: $required:expr, body: $body:expr, $answer:expr) => {
        OpsRoute {
            path: $path,
            method: Method::$method,
            handler: || $router($handler),
            summary: $summary,
            query: $query,
            required_query: $required,
            body: $body,
            answer: $answer,
        }
    };
}

/// Every operations route.
#[rustfmt::skip]
pub static OPS_ROUTES: &[OpsRoute] = &[
    ops_route!(Get "/api/v1/cluster", get(status::cluster), "This member's view: role, leader, term, indices, failure tolerance",
        query: NONE, required: false, body: None, OpsAnswer::Json(schema_of::<metaraft_raft::ClusterStatus>)),
    ops_route!(Get "/api/v1/nodes", get(nodes::list), "Every member (or `?id=N`) with role, replication and last contact",
        query: NODE_ID, required: false, body: None, OpsAnswer::Envelope(array_of::<metaraft_raft::Member>)),
    ops_route!(Post "/api/v1/nodes", post(nodes::add), "Add a node: learner, catch-up, then voter (waits; ids are never reused)",
        query: NONE, required: false, body: Some(schema_of::<nodes::AddNode>), OpsAnswer::Envelope(array_of::<metaraft_raft::Member>)),
    ops_route!(Delete "/api/v1/nodes", delete(nodes::remove), "Remove a member (refused when it would leave no quorum)",
        query: NODE_ID, required: true, body: None, OpsAnswer::Envelope(array_of::<metaraft_raft::Member>)),
    ops_route!(Post "/api/v1/leader", post(nodes::transfer_leader), "Leadership transfer: 501, openraft 0.9 has none",
        query: &[Param { name: "to", about: "the node to hand leadership to" }], required: false, body: None,
        OpsAnswer::Envelope(|_| ObjectBuilder::new().into())),
    ops_route!(Get "/api/v1/backup", get(backup::backup), "A consistent backup, streamed (restore with `metaraft restore`)",
        query: NONE, required: false, body: None, OpsAnswer::Media("application/octet-stream", "the backup stream")),
    ops_route!(Get "/api/v1/instances", get(status::instances), "Instances with their clusters and nodes (no credentials)",
        query: READ, required: false, body: None, OpsAnswer::Envelope(messages_of::<InstanceInfoPb>)),
    ops_route!(Get "/api/v1/openapi.json", get(openapi::document), "This document",
        query: NONE, required: false, body: None, OpsAnswer::Media("application/json", "OpenAPI 3.1")),
    ops_route!(Get "/", get(status::page), "The status page (self-contained HTML)",
        query: NONE, required: false, body: None, OpsAnswer::Media("text/html", "the page")),
    ops_route!(Get "/metrics", get(metrics::scrape), "Prometheus metrics",
        query: NONE, required: false, body: None, OpsAnswer::Media("application/openmetrics-text; version=1.0.0; charset=utf-8", "OpenMetrics text")),
    ops_route!(Get "/healthz", get(status::healthz), "Liveness: the process serves HTTP",
        query: NONE, required: false, body: None, OpsAnswer::Media("text/plain", "`ok`")),
    ops_route!(Get "/readyz", get(status::readyz), "Readiness: a leader is known and this member is caught up",
        query: NONE, required: false, body: None, OpsAnswer::Media("text/plain", "`ready`")),
];

/// The whole HTTP surface of the meta service (without `/raft/*`).
pub fn router(state: AppState) -> Router {
    let ops = OPS_ROUTES.iter().fold(Router::new(), |router, r| router.route(r.path, (r.handler)()));
    Router::new()
        .nest(DORIS_PREFIX, doris_routes())
        .nest(&format!("{DORIS_PREFIX}/v1"), doris_routes())
        .merge(ops)
        .merge(rpc::routes())
        .route_layer(from_fn_with_state(state.clone(), metrics::record))
        .fallback(route_not_found)
        // Inside the token check: a bad token is refused before any body byte is read.
        .layer(from_fn(buffer_body))
        .layer(from_fn_with_state(state.clone(), check_token))
        .layer(from_fn(log_errors))
        .with_state(state)
}
