//! The envelope codes and the one error type of the HTTP layer.
//!
//! Doris folds its many `MetaServiceCode`s into five envelope codes, each with one HTTP status
//! (`convert_ms_code_to_http_code`, transport §3.2). Every error a handler can meet converts into
//! [`ApiError`] with `?`; exactly one `IntoResponse` (through [`Envelope`]) writes it. Internal
//! details (raft, storage) never reach the client: they ride in a response extension that
//! [`log_errors`] logs.

use axum::extract::Request;
use axum::http::StatusCode;
use axum::middleware::Next;
use axum::response::IntoResponse;
use axum::response::Response;
use metaraft_raft::codec::CodecError;
use metaraft_raft::KvError;
use metaraft_raft::RaftNodeError;

use super::envelope::Envelope;
use crate::meta::MetaError;
use crate::meta::ServiceCode;
use crate::pbjson::json::Json;

/// The `code` strings that appear at the top of an envelope.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MetaCode {
    /// 200.
    Ok,
    /// 400: bad argument or unparsable body.
    InvalidArgument,
    /// 404: instance/cluster not found where Doris special-cases it.
    NotFound,
    /// 409.
    AlreadyExisted,
    /// 500: everything else.
    InternalError,
    /// 409, operations routes only: refused in the cluster's present state (e.g. quorum).
    FailedPrecondition,
    /// 503, operations routes only: no leader to run the request.
    Unavailable,
    /// 501, operations routes only.
    NotImplemented,
}

impl MetaCode {
    /// The envelope's `code` string.
    pub fn as_str(self) -> &'static str {
        match self {
            MetaCode::Ok => "OK",
            MetaCode::InvalidArgument => "INVALID_ARGUMENT",
            MetaCode::NotFound => "NOT_FOUND",
            MetaCode::AlreadyExisted => "ALREADY_EXISTED",
            MetaCode::InternalError => "INTERNAL_ERROR",
            MetaCode::FailedPrecondition => "FAILED_PRECONDITION",
            MetaCode::Unavailable => "UNAVAILABLE",
            MetaCode::NotImplemented => "NOT_IMPLEMENTED",
        }
    }

    /// The HTTP status sent with this code.
    pub fn http_status(self) -> StatusCode {
        match self {
            MetaCode::Ok => StatusCode::OK,
            MetaCode::InvalidArgument => StatusCode::BAD_REQUEST,
            MetaCode::NotFound => StatusCode::NOT_FOUND,
            MetaCode::AlreadyExisted => StatusCode::CONFLICT,
            MetaCode::InternalError => StatusCode::INTERNAL_SERVER_ERROR,
            MetaCode::FailedPrecondition => StatusCode::CONFLICT,
            MetaCode::Unavailable => StatusCode::SERVICE_UNAVAILABLE,
            MetaCode::NotImplemented => StatusCode::NOT_IMPLEMENTED,
        }
    }
}

impl From<ServiceCode> for MetaCode {
    fn from(code: ServiceCode) -> Self {
        match code {
            ServiceCode::Ok => MetaCode::Ok,
            ServiceCode::InvalidArgument | ServiceCode::ProtobufParseErr => MetaCode::InvalidArgument,
            // [M]: TABLET_NOT_FOUND is a 404 too ([C] sent 500).
            ServiceCode::ClusterNotFound | ServiceCode::TabletNotFound => MetaCode::NotFound,
            ServiceCode::AlreadyExisted => MetaCode::AlreadyExisted,
            _ => MetaCode::InternalError,
        }
    }
}

/// A request that did not succeed: code, Doris message, optional `result` (some routes print one
/// even on error), and an internal detail for the log only.
#[derive(Debug)]
pub struct ApiError {
    code: MetaCode,
    msg: String,
    result: Option<Json>,
    detail: Option<String>,
}

impl ApiError {
    /// An error with a code and client-visible message.
    pub fn new(code: MetaCode, msg: impl Into<String>) -> Self {
        ApiError { code, msg: msg.into(), result: None, detail: None }
    }

    /// Adds the `result` Doris prints alongside this error.
    pub fn with_result(mut self, result: Json) -> Self {
        self.result = Some(result);
        self
    }

    fn internal(msg: &str, detail: String) -> Self {
        ApiError { code: MetaCode::InternalError, msg: msg.to_string(), result: None, detail: Some(detail) }
    }

    /// The envelope code.
    #[cfg(test)]
    pub fn code(&self) -> MetaCode {
        self.code
    }

    /// The client-visible message.
    #[cfg(test)]
    pub fn msg(&self) -> &str {
        &self.msg
    }
}

impl From<MetaError> for ApiError {
    fn from(e: MetaError) -> Self {
        let detail = (MetaCode::from(e.code) == MetaCode::InternalError).then(|| e.code.name().to_string());
        ApiError { code: e.code.into(), msg: e.msg, result: None, detail }
    }
}

impl From<RaftNodeError> for ApiError {
    fn from(e: RaftNodeError) -> Self {
        let msg = match &e {
            RaftNodeError::Unavailable(_) => "meta service unavailable: no raft leader, retry later",
            RaftNodeError::Timeout(_) => "meta service timed out; the request may or may not have been applied",
            RaftNodeError::Forward { .. } => "meta service failed to reach the raft leader, retry later",
            RaftNodeError::Storage(_) => "meta service storage error",
            RaftNodeError::Fatal(_) => "meta service node is stopped",
            _ => "meta service internal error",
        };
        ApiError::internal(msg, e.to_string())
    }
}

impl From<KvError> for ApiError {
    fn from(e: KvError) -> Self {
        ApiError::internal("meta service storage error", e.to_string())
    }
}

impl From<CodecError> for ApiError {
    fn from(e: CodecError) -> Self {
        ApiError::internal("meta service internal error", format!("codec: {e}"))
    }
}

/// Internal cause of an error response, for [`log_errors`].
#[derive(Debug, Clone)]
struct ErrorDetail(String);

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let mut response = Envelope { code: self.code, msg: self.msg, result: self.result }.into_response();
        if let Some(detail) = self.detail {
            response.extensions_mut().insert(ErrorDetail(detail));
        }
        response
    }
}

/// Logs the internal cause of failed requests (path only: query strings carry the token).
pub async fn log_errors(req: Request, next: Next) -> Response {
    let path = req.uri().path().to_string();
    let response = next.run(req).await;
    if let Some(ErrorDetail(detail)) = response.extensions().get::<ErrorDetail>() {
        tracing::warn!(%path, status = response.status().as_u16(), %detail, "request failed");
    }
    response
}
