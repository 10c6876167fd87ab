//! The server side: `/raft/*` routes, guarded by the cluster secret (and, once known, the
//! cluster id, so a node from another cluster is refused rather than merged).

use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::DefaultBodyLimit;
use axum::extract::Request;
use axum::extract::State;
use axum::http::StatusCode;
use axum::middleware::Next;
use axum::response::IntoResponse;
use axum::response::Response;
use axum::routing::any;
use axum::routing::post;
use axum::Router;
use serde::de::DeserializeOwned;
use serde::Serialize;
use subtle::ConstantTimeEq;

use super::ForwardRequest;
use super::CLUSTER_HEADER;
use super::SECRET_HEADER;
use crate::codec;
use crate::membership::MembershipOp;
use crate::node::NodeInner;
use crate::types::typ;

/// Above openraft's snapshot chunk size (3 MiB) with room for a full append batch.
const BODY_LIMIT: usize = 64 * 1024 * 1024;

type Node = Arc<NodeInner>;

pub(crate) fn router(node: Node) -> Router {
    Router::new()
        .route("/raft/append", post(append))
        .route("/raft/vote", post(vote))
        .route("/raft/snapshot", post(snapshot))
        .route("/raft/forward", post(forward))
        .route("/raft/read_index", post(read_index))
        .route("/raft/identity", any(identity))
        .route("/raft/membership", post(membership))
        .layer(axum::middleware::from_fn_with_state(node.clone(), guard))
        .layer(DefaultBodyLimit::max(BODY_LIMIT))
        .with_state(node)
}

async fn guard(State(node): State<Node>, req: Request, next: Next) -> Response {
    let given = req.headers().get(SECRET_HEADER).map(|v| v.as_bytes()).unwrap_or_default();
    if !bool::from(given.ct_eq(node.config.cluster_secret.as_bytes())) {
        return (StatusCode::UNAUTHORIZED, "cluster secret missing or wrong\n").into_response();
    }
    if let (Some(theirs), Some(ours)) = (req.headers().get(CLUSTER_HEADER), node.cluster_id()) {
        if theirs.as_bytes() != ours.as_bytes() {
            tracing::warn!(theirs = ?theirs, ours = %ours, "refused a request from another cluster");
            return (StatusCode::CONFLICT, format!("node belongs to cluster {ours}, not {theirs:?}\n")).into_response();
        }
    }
    next.run(req).await
}

fn reply<T: Serialize>(value: &T) -> Response {
    match codec::encode(value) {
        Ok(bytes) => bytes.into_response(),
        Err(e) => (StatusCode::INTERNAL_SERVER_ERROR, e.to_string()).into_response(),
    }
}

fn parse<T: DeserializeOwned>(body: &Bytes) -> Result<T, Response> {
    codec::decode(body).map_err(|e| (StatusCode::BAD_REQUEST, format!("bad body: {e}\n")).into_response())
}

async fn append(State(node): State<Node>, body: Bytes) -> Response {
    let req: typ::AppendEntriesRequest = match parse(&body) {
        Ok(r) => r,
        Err(r) => return r,
    };
    let res = node.raft.append_entries(req).await;
    if res.is_ok() {
        node.stats.note_leader_contact();
    }
    reply(&res)
}

async fn vote(State(node): State<Node>, body: Bytes) -> Response {
    match parse::<typ::VoteRequest>(&body) {
        Ok(req) => reply(&node.raft.vote(req).await),
        Err(r) => r,
    }
}

async fn snapshot(State(node): State<Node>, body: Bytes) -> Response {
    match parse::<typ::InstallSnapshotRequest>(&body) {
        Ok(req) => {
            let res = node.raft.install_snapshot(req).await;
            if res.is_ok() {
                node.stats.note_leader_contact();
            }
            reply(&res)
        }
        Err(r) => r,
    }
}

async fn forward(State(node): State<Node>, body: Bytes) -> Response {
    match parse::<ForwardRequest>(&body) {
        Ok(req) => reply(&node.writes_on_behalf(req).await),
        Err(r) => r,
    }
}

async fn read_index(State(node): State<Node>, _body: Bytes) -> Response {
    reply(&node.leader_read_index().await)
}

async fn membership(State(node): State<Node>, body: Bytes) -> Response {
    match parse::<MembershipOp>(&body) {
        Ok(op) => reply(&node.membership_on_leader(op).await),
        Err(r) => r,
    }
}

async fn identity(State(node): State<Node>) -> Response {
    reply(&node.identity().await)
}
