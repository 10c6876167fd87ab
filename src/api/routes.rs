//! Every route, in one table.
//!
//! ```text
//! /MetaService/http/[v1/]<route>?token=T   Doris Meta Service API (any method; token first)
//! GET /api/v1/cluster?token=T              this node's view of the cluster (JSON)
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
use axum::Router;

use super::body::DORIS_PREFIX;
use super::envelope::route_not_found;
use super::error::log_errors;
use super::instance;
use super::status;
use super::token::check_token;
use super::AppState;

/// Every Doris route served, without prefix. A test checks each answers something other than
/// the route-404.
#[cfg(test)]
pub const ROUTES: &[&str] = &["create_instance", "get_instance"];

/// The Doris routes, relative to `/MetaService/http[/v1]`. Handler names are Doris route names.
fn doris_routes() -> Router<AppState> {
    Router::new()
        // --- instances
        .route("/create_instance", any(instance::create_instance))
        .route("/get_instance", any(instance::get_instance))
}

/// The whole HTTP surface of the meta service (without `/raft/*`).
pub fn router(state: AppState) -> Router {
    Router::new()
        .nest(DORIS_PREFIX, doris_routes())
        .nest(&format!("{DORIS_PREFIX}/v1"), doris_routes())
        // --- operations (not Doris)
        .route("/api/v1/cluster", get(status::cluster))
        .route("/healthz", get(status::healthz))
        .route("/readyz", get(status::readyz))
        .fallback(route_not_found)
        .layer(from_fn_with_state(state.clone(), check_token))
        .layer(from_fn(log_errors))
        .with_state(state)
}
