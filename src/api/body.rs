//! [`DorisJson`]: the request-body extractor. Bodies are read as Doris reads them (lenient
//! protobuf JSON, transport §2) and a bad body answers 400 `INVALID_ARGUMENT` with Doris's text:
//! `parse http request '<path as sent>': INVALID_ARGUMENT:<protobuf status message>`.

use axum::body::Bytes;
use axum::extract::FromRequest;
use axum::extract::OriginalUri;
use axum::extract::Request;
use axum::http::Uri;

use super::error::ApiError;
use super::json;
use super::pbjson;
use crate::meta::schema::ProtoMessage;
use crate::meta::MetaError;
use crate::meta::ServiceCode;

/// Prefix of every Doris route.
pub const DORIS_PREFIX: &str = "/MetaService/http";

/// The path Doris calls `unresolved_path`: the route as sent, `v1/` included. Takes the original
/// URI (nesting strips the prefix from the request's own).
pub fn unresolved_path(uri: &Uri) -> &str {
    let path = uri.path();
    path.strip_prefix(DORIS_PREFIX).map_or(path, |rest| rest.trim_start_matches('/'))
}

fn parse_error(path: &str, status_message: &str) -> ApiError {
    MetaError::new(
        ServiceCode::ProtobufParseErr,
        format!("parse http request '{path}': INVALID_ARGUMENT:{status_message}"),
    )
    .into()
}

/// A request message parsed from the body.
#[derive(Debug)]
pub struct DorisJson<T>(pub T);

impl<S: Send + Sync, T: ProtoMessage> FromRequest<S> for DorisJson<T> {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, ApiError> {
        let path = match req.extensions().get::<OriginalUri>() {
            Some(OriginalUri(uri)) => unresolved_path(uri).to_string(),
            None => unresolved_path(req.uri()).to_string(),
        };
        let bytes = Bytes::from_request(req, state)
            .await
            .map_err(|e| parse_error(&path, &format!("failed to read body: {}", e.body_text())))?;
        Ok(DorisJson(decode_body(&path, &bytes)?))
    }
}

/// Parses a body for route `path` (exposed for tests).
pub fn decode_body<T: ProtoMessage>(path: &str, body: &[u8]) -> Result<T, ApiError> {
    let parsed = json::parse(body).map_err(|e| parse_error(path, &e.0))?;
    pbjson::decode::<T>(&parsed).map_err(|e| parse_error(path, &e.0))
}

#[cfg(test)]
mod test {
    use super::*;
    use crate::api::error::MetaCode;
    use crate::meta::pb::CreateInstanceRequest;

    #[test]
    fn errors_carry_the_route_as_sent() {
        let e = decode_body::<CreateInstanceRequest>("v1/create_instance", b"").unwrap_err();
        assert_eq!(e.code(), MetaCode::InvalidArgument);
        assert_eq!(
            e.msg(),
            "parse http request 'v1/create_instance': INVALID_ARGUMENT:Unexpected end of string. Expected a value.\n\n^"
        );
        let e = decode_body::<CreateInstanceRequest>("create_instance", b"[]").unwrap_err();
        assert_eq!(e.msg(), "parse http request 'create_instance': INVALID_ARGUMENT:: Root element must be a message.");
    }

    #[test]
    fn unresolved_path_strips_the_service_prefix_only() {
        let uri: Uri = "/MetaService/http/v1/create_instance?token=x".parse().unwrap();
        assert_eq!(unresolved_path(&uri), "v1/create_instance");
    }
}
