//! Operational routes (not Doris): liveness, readiness, and this node's view of the cluster.

use axum::http::StatusCode;
use axum::response::IntoResponse;
use axum::response::Response;
use axum::Json;

use axum::http::header;
use axum::http::HeaderValue;

use super::envelope::Envelope;
use super::envelope::Text;
use super::error::ApiError;
use super::query::DorisQuery;
use super::replicate;
use super::AppState;
use crate::meta;
use crate::pbjson;
use crate::pbjson::json::Json as PbJson;

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

/// `GET /api/v1/instances?token=…[&consistency=stale]`: every instance with its clusters and
/// nodes, credentials left out (the status page's list).
pub async fn instances(
    axum::extract::State(state): axum::extract::State<AppState>,
    query: DorisQuery,
) -> Result<Envelope, ApiError> {
    let consistency = query.consistency()?;
    let list = replicate::read(&state, consistency, meta::instance_overview).await?.map_err(ApiError::from)?;
    Ok(Envelope::ok_with(PbJson::Array(list.iter().map(pbjson::encode).collect())))
}

/// `GET /`: the status page (one self-contained HTML file; it reads the token from its own URL
/// and polls the API routes above).
pub async fn page() -> Response {
    let mut response = include_str!("status.html").into_response();
    response.headers_mut().insert(header::CONTENT_TYPE, HeaderValue::from_static("text/html; charset=utf-8"));
    response
}

/// `GET /api/v1/cluster?token=…`: `node.status()` as JSON.
pub async fn cluster(axum::extract::State(state): axum::extract::State<AppState>) -> Response {
    Json(state.node.status()).into_response()
}
