//! Raft RPCs and node-to-node calls over HTTP: bincode bodies, one pooled client, a cluster
//! secret on every request.

mod client;
mod server;
mod wire;

pub(crate) use client::Peers;
pub(crate) use client::TransportError;
pub(crate) use server::router;

/// openraft's network over the shared peer client.
pub(crate) fn client_factory(peers: std::sync::Arc<Peers>) -> client::NetworkFactory {
    client::NetworkFactory { peers }
}
pub(crate) use wire::ForwardRequest;
pub(crate) use wire::Identity;
pub(crate) use wire::WriteFailure;

/// Header carrying the cluster secret.
pub(crate) const SECRET_HEADER: &str = "x-metaraft-secret";
/// Header carrying the sender's cluster id, once it has one.
pub(crate) const CLUSTER_HEADER: &str = "x-metaraft-cluster";
