//! [`DorisJson`]: the request-body extractor. Bodies are read as Doris reads them (lenient
//! protobuf JSON, transport §2) and a bad body answers 400 `INVALID_ARGUMENT` with Doris's text:
//! `parse http request '<path as sent>': INVALID_ARGUMENT:<protobuf status message>`.

use axum::body::Body;
use axum::body::Bytes;
use axum::extract::FromRequest;
use axum::extract::OriginalUri;
use axum::extract::Request;
use axum::http::header::CONTENT_LENGTH;
use axum::http::Uri;
use axum::middleware::Next;
use axum::response::IntoResponse;
use axum::response::Response;

use super::error::ApiError;
use crate::meta::schema::ProtoMessage;
use crate::meta::MetaError;
use crate::meta::ServiceCode;
use crate::pbjson;
use crate::pbjson::json;

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

    async fn from_request(req: Request, _state: &S) -> Result<Self, ApiError> {
        let path = match req.extensions().get::<OriginalUri>() {
            Some(OriginalUri(uri)) => unresolved_path(uri).to_string(),
            None => unresolved_path(req.uri()).to_string(),
        };
        let bytes = read_body(req, &path).await?;
        Ok(DorisJson(decode_body(&path, &bytes)?))
    }
}

/// Largest request body read. Doris requests are a few kilobytes (an `add_cluster` with a thousand
/// nodes is ~200 KiB) and every accepted body becomes a Raft log entry, so 1 MiB leaves ample room
/// while bounding what one request can make a node buffer. brpc's own cap (`max_body_size`, 64 MiB)
/// is far above anything Doris sends and would be a memory lever here.
pub const MAX_BODY_BYTES: usize = 1 << 20;

/// Reads at most [`MAX_BODY_BYTES`] (a larger `Content-Length` is refused before reading). An
/// oversized body is the client's mistake: 400 `INVALID_ARGUMENT` like any unparsable body, so the
/// HTTP status stays a function of the envelope code (transport §3.2).
async fn read_body(req: Request, path: &str) -> Result<Bytes, ApiError> {
    let declared = req.headers().get(CONTENT_LENGTH).and_then(|v| v.to_str().ok()?.parse::<u64>().ok());
    read_limited(req.into_body(), declared, path).await
}

async fn read_limited(body: Body, declared: Option<u64>, path: &str) -> Result<Bytes, ApiError> {
    use futures::StreamExt as _;
    let too_large = || parse_error(path, &format!("request body exceeds {MAX_BODY_BYTES} bytes"));
    if declared.is_some_and(|n| n > MAX_BODY_BYTES as u64) {
        return Err(too_large());
    }
    let mut stream = body.into_data_stream();
    let mut buf = Vec::new();
    while let Some(chunk) = stream.next().await {
        let chunk = chunk.map_err(|e| parse_error(path, &format!("failed to read body: {e}")))?;
        if buf.len() + chunk.len() > MAX_BODY_BYTES {
            return Err(too_large());
        }
        buf.extend_from_slice(&chunk);
    }
    Ok(Bytes::from(buf))
}

/// Middleware: reads the whole body of every Doris request (bounded) before routing, as brpc
/// does, whether or not the route looks at it. So the limit holds on every route, and a body a
/// query-only route ignores never lingers unread on a keep-alive connection (which would make
/// the server close it under the client's next request).
pub async fn buffer_body(req: Request, next: Next) -> Response {
    if !req.uri().path().starts_with(DORIS_PREFIX) {
        return next.run(req).await;
    }
    let path = unresolved_path(req.uri()).to_string();
    let (parts, body) = req.into_parts();
    let declared = parts.headers.get(CONTENT_LENGTH).and_then(|v| v.to_str().ok()?.parse::<u64>().ok());
    match read_limited(body, declared, &path).await {
        Ok(bytes) => next.run(Request::from_parts(parts, Body::from(bytes))).await,
        Err(e) => e.into_response(),
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

    #[tokio::test]
    async fn bodies_are_read_up_to_the_limit() {
        let req = |body: Vec<u8>, declared: Option<usize>| {
            let mut b = Request::builder().uri("/MetaService/http/create_instance");
            if let Some(n) = declared {
                b = b.header(CONTENT_LENGTH, n);
            }
            b.body(axum::body::Body::from(body)).unwrap()
        };
        let ok = read_body(req(vec![b'x'; MAX_BODY_BYTES], None), "create_instance").await.unwrap();
        assert_eq!(ok.len(), MAX_BODY_BYTES);
        let too_large = "parse http request 'create_instance': INVALID_ARGUMENT:request body exceeds 1048576 bytes";
        let e = read_body(req(vec![b'x'; MAX_BODY_BYTES + 1], None), "create_instance").await.unwrap_err();
        assert_eq!((e.code(), e.msg()), (MetaCode::InvalidArgument, too_large));
        // A declared length over the limit is refused before any byte is read.
        let e = read_body(req(Vec::new(), Some(MAX_BODY_BYTES + 1)), "create_instance").await.unwrap_err();
        assert_eq!(e.msg(), too_large);
    }

    #[test]
    fn unresolved_path_strips_the_service_prefix_only() {
        let uri: Uri = "/MetaService/http/v1/create_instance?token=x".parse().unwrap();
        assert_eq!(unresolved_path(&uri), "v1/create_instance");
    }
}
