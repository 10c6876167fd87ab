//! The HTTP face of the meta service: Doris's `/MetaService/http/…` API, wire-compatible, plus a
//! few operational routes. Owns transport concerns only — routing, the token, lenient body
//! parsing, the envelope, code → status — and hands domain work to `meta`.

mod backup;
mod body;
mod cluster;
mod envelope;
mod error;
mod instance;
mod keys;
mod load;
mod metrics;
mod nodes;
mod obj_store;
mod openapi;
mod query;
mod replicate;
mod routes;
#[cfg(test)]
mod routes_test;
mod rpc;
mod status;
mod token;

use std::sync::Arc;

pub use body::DORIS_PREFIX;
pub use metrics::Metrics;
pub use routes::router;
pub use routes::Answer;
pub use routes::DorisRoute;
pub use routes::DORIS_ROUTES;

/// What every handler shares: one `Arc`, because axum clones the state for every layer and
/// extractor of every request, and one shared count bounces between cores less than three.
pub type AppState = Arc<Shared>;

/// The contents of [`AppState`].
pub struct Shared {
    /// The consensus node all reads and writes go through.
    pub node: metaraft_raft::RaftNode,
    /// The Doris `token` every `/MetaService/…` request must carry.
    pub token: Arc<str>,
    /// This node's id.
    pub node_id: u64,
    /// The at-rest key for `sk` values (sealed before proposing, unsealed for replies).
    pub secrets: crate::meta::Secrets,
    /// What `/metrics` exports.
    pub metrics: metrics::Metrics,
}
