//! `GET /api/v1/backup`: a consistent backup of the replicated state, streamed (format:
//! `metaraft_raft::restore`). Taken on the member asked, after a linearizable barrier, from an
//! MVCC read view: writes are not stalled while it streams.

use axum::body::Body;
use axum::extract::State;
use axum::http::header;
use axum::http::HeaderValue;
use axum::response::IntoResponse;
use axum::response::Response;

use super::error::ApiError;
use super::AppState;

/// `GET /api/v1/backup?token=…`.
pub async fn backup(State(state): State<AppState>) -> Result<Response, ApiError> {
    let stream = state.node.backup().await?;
    let mut response = Body::from_stream(stream).into_response();
    let headers = response.headers_mut();
    headers.insert(header::CONTENT_TYPE, HeaderValue::from_static("application/octet-stream"));
    headers.insert(header::CONTENT_DISPOSITION, HeaderValue::from_static("attachment; filename=\"metaraft.backup\""));
    Ok(response)
}
