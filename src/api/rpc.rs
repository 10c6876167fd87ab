//! Doris's brpc methods over HTTP, as brpc's built-in HTTP access maps them (txn-tablet-rpc §4):
//! `POST /MetaService/<method>` (also `/doris.cloud.MetaService/<method>`, any HTTP method), the
//! body a request message in brpc's JSON (`pbjson::decode_brpc`), the reply the response
//! message as compact JSON with int64 as numbers, HTTP 200 whatever `status.code` says.
//!
//! Authentication: these routes sit behind the same `token` check as the `/MetaService/http`
//! routes. Doris leaves its brpc port open, but its FE and BE speak binary brpc, not this JSON
//! mapping, so no Doris client is broken by requiring the token here, and writes stay closed.
//!
//! Deviations: brpc prefixes its transport errors with `[<ip>:<port>]`; metaraft omits it.
//! Every read is linearizable (a read-index round), like an FDB read at a fresh version.

use axum::body::Bytes;
use axum::extract::OriginalUri;
use axum::extract::State;
use axum::http::header;
use axum::http::HeaderValue;
use axum::http::StatusCode;
use axum::response::IntoResponse;
use axum::response::Response;
use axum::routing::any;
use axum::routing::MethodRouter;
use axum::Router;
use metaraft_raft::Consistency;
use metaraft_raft::KvRead;

use super::body::MAX_BODY_BYTES;
use super::replicate;
use super::AppState;
use crate::meta::load;
use crate::meta::load::HasStatus;
use crate::meta::load::LoadCommand;
use crate::meta::load::LoadOp;
use crate::meta::pb_txn::*;
use crate::meta::schema::MessageSchema;
use crate::meta::schema::ProtoMessage;
use crate::meta::Command;
use crate::meta::Failure;
use crate::meta::MetaError;
use crate::meta::Reply;
use crate::pbjson;
use crate::pbjson::json;
use crate::pbjson::json::Json;

/// The two service names brpc resolves: short and fully qualified.
pub const SERVICE_PREFIXES: [&str; 2] = ["/MetaService", "/doris.cloud.MetaService"];

/// One brpc method.
pub struct RpcMethod {
    /// Method name (`begin_txn`).
    pub name: &'static str,
    /// The axum handler (any HTTP method, as brpc does not look at it).
    pub handler: fn() -> MethodRouter<AppState>,
    /// Request message.
    pub request: &'static MessageSchema,
    /// Response message.
    pub response: &'static MessageSchema,
    /// Whether the method goes through the Raft log.
    pub writes: bool,
}

macro_rules! write_method {
    ($name:ident, $variant:ident, $req:ty, $resp:ty) => {
        RpcMethod {
            name: stringify!($name),
            handler: || any(|State(s): State<AppState>, b: Bytes| write::<$req>(s, b, LoadOp::$variant)),
            request: <$req>::SCHEMA,
            response: <$resp>::SCHEMA,
            writes: true,
        }
    };
}

macro_rules! read_method {
    ($name:ident, $req:ty, $resp:ty) => {
        RpcMethod {
            name: stringify!($name),
            handler: || any(|State(s): State<AppState>, b: Bytes| read::<$req, $resp>(s, b, load::$name)),
            request: <$req>::SCHEMA,
            response: <$resp>::SCHEMA,
            writes: false,
        }
    };
}

/// Every brpc method metaraft serves (txn-tablet-rpc §5.1).
#[rustfmt::skip]
pub static RPC_METHODS: &[RpcMethod] = &[
    write_method!(begin_txn, BeginTxn, BeginTxnRequest, BeginTxnResponse),
    write_method!(precommit_txn, PrecommitTxn, PrecommitTxnRequest, PrecommitTxnResponse),
    write_method!(commit_txn, CommitTxn, CommitTxnRequest, CommitTxnResponse),
    write_method!(abort_txn, AbortTxn, AbortTxnRequest, AbortTxnResponse),
    read_method!(get_txn, GetTxnRequest, GetTxnResponse),
    read_method!(get_txn_id, GetTxnIdRequest, GetTxnIdResponse),
    read_method!(get_current_max_txn_id, GetCurrentMaxTxnRequest, GetCurrentMaxTxnResponse),
    read_method!(check_txn_conflict, CheckTxnConflictRequest, CheckTxnConflictResponse),
    write_method!(clean_txn_label, CleanTxnLabel, CleanTxnLabelRequest, StatusResponse),
    write_method!(create_tablets, CreateTablets, CreateTabletsRequest, CreateTabletsResponse),
    read_method!(get_tablet, GetTabletRequest, GetTabletResponse),
    write_method!(update_tablet, UpdateTablet, UpdateTabletRequest, StatusResponse),
    read_method!(get_tablet_stats, GetTabletStatsRequest, GetTabletStatsResponse),
    read_method!(get_version, GetVersionRequest, GetVersionResponse),
    write_method!(prepare_rowset, PrepareRowset, CreateRowsetRequest, CreateRowsetResponse),
    write_method!(commit_rowset, CommitRowset, CreateRowsetRequest, CreateRowsetResponse),
    write_method!(start_tablet_job, StartTabletJob, StartTabletJobRequest, StartTabletJobResponse),
    write_method!(finish_tablet_job, FinishTabletJob, FinishTabletJobRequest, FinishTabletJobResponse),
];

/// The methods under both service names, and brpc's 404 for any other method.
pub fn routes() -> Router<AppState> {
    let mut router = Router::new();
    for prefix in SERVICE_PREFIXES {
        for m in RPC_METHODS {
            router = router.route(&format!("{prefix}/{}", m.name), (m.handler)());
        }
        router = router.route(&format!("{prefix}/{{method}}"), any(no_such_method));
    }
    router
}

/// Milliseconds since the epoch: the load path's times are in milliseconds.
pub fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
}

fn text(status: StatusCode, body: String) -> Response {
    let mut response = (status, body).into_response();
    response.headers_mut().insert(header::CONTENT_TYPE, HeaderValue::from_static("text/plain"));
    response
}

async fn no_such_method(OriginalUri(uri): OriginalUri) -> Response {
    text(StatusCode::NOT_FOUND, format!("[E1002]Fail to find method on `{}'", uri.path()))
}

fn json_reply(body: &Json) -> Response {
    let mut response = (StatusCode::OK, body.to_compact()).into_response();
    response.headers_mut().insert(header::CONTENT_TYPE, HeaderValue::from_static("application/json"));
    response
}

/// A reply carrying only a status (a refusal from outside the method, e.g. an undecodable
/// command on an older replica).
fn status_reply(e: &MetaError) -> Response {
    json_reply(&pbjson::encode_brpc(&StatusResponse { status: load::status(e.code, e.msg.clone()) }))
}

/// The request message of a body; brpc's 400 text when it is not one. An empty body is a
/// message with every field unset.
fn decode<Q: ProtoMessage>(body: &[u8]) -> Result<Q, Box<Response>> {
    let fail = |detail: String| {
        Box::new(text(
            StatusCode::BAD_REQUEST,
            format!("[E1003]Fail to parse http json body as {}: {detail}", Q::SCHEMA.full_name),
        ))
    };
    if body.len() > MAX_BODY_BYTES {
        return Err(fail(format!("body exceeds {MAX_BODY_BYTES} bytes")));
    }
    if body.iter().all(u8::is_ascii_whitespace) {
        return pbjson::decode_brpc(&Json::Object(Vec::new())).map_err(|e| fail(e.0));
    }
    let parsed = json::parse(body).map_err(|e| fail(format!("Invalid json: {}", e.0)))?;
    pbjson::decode_brpc::<Q>(&parsed).map_err(|e| {
        // decode_brpc words the whole error; keep brpc's error-code prefix.
        Box::new(text(StatusCode::BAD_REQUEST, format!("[E1003]{}", e.0)))
    })
}

async fn write<Q: ProtoMessage>(state: AppState, body: Bytes, op: fn(Q) -> LoadOp) -> Response {
    let request = match decode::<Q>(&body) {
        Ok(r) => r,
        Err(response) => return *response,
    };
    let command = Command::Load(Box::new(LoadCommand { now_ms: now_ms(), op: op(request) }));
    match replicate::propose(&state, &command).await {
        Ok(Ok(Reply::Load(reply))) => json_reply(&reply.to_brpc_json()),
        Ok(Ok(Reply::Done)) => status_reply(&MetaError::undefined("unexpected reply")),
        Ok(Err(e)) => status_reply(&e),
        Err(e) => e.into_response(),
    }
}

type ReadFn<Q, R> = fn(&KvRead, &Q, i64) -> Result<R, Failure>;

async fn read<Q: ProtoMessage + Send + 'static, R: HasStatus + Send + 'static>(
    state: AppState,
    body: Bytes,
    f: ReadFn<Q, R>,
) -> Response {
    let request = match decode::<Q>(&body) {
        Ok(r) => r,
        Err(response) => return *response,
    };
    let now = now_ms();
    let answer =
        replicate::read(&state, Consistency::Linearizable, move |kv| Ok(load::respond(f(kv, &request, now))?)).await;
    match answer {
        Ok(Ok(response)) => json_reply(&pbjson::encode_brpc(&response)),
        Ok(Err(e)) => status_reply(&e),
        Err(e) => e.into_response(),
    }
}
