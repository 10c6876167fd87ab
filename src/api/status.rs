//! Operational routes (not Doris): liveness, readiness, and this node's view of the cluster.

use axum::http::StatusCode;
use axum::response::IntoResponse;
use axum::response::Response;
use axum::Json;

use super::envelope::Text;
use super::AppState;

/// `GET /healthz`: the process serves HTTP.
pub async fn healthz() -> Text {
    Text { status: StatusCode::OK, text: "ok".into() }
}

/// `GET /readyz`: 200 `ready`, or 503 with the node's one-line reason.
pub async fn readyz(axum::extract::State(state): axum::extract::State<AppState>) -> Text {
    match state.node.readiness() {
        Ok(()) => Text { status: StatusCode::OK, text: "ready".into() },
        Err(reason) => Text { status: StatusCode::SERVICE_UNAVAILABLE, text: reason.replace('\n', " ") },
    }
}

/// `GET /api/v1/cluster?token=…`: `node.status()` as JSON.
pub async fn cluster(axum::extract::State(state): axum::extract::State<AppState>) -> Response {
    Json(state.node.status()).into_response()
}
