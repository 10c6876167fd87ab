//! The client side: one shared `reqwest::Client` for every peer and every RPC.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::sync::RwLock;
use std::time::Duration;

use openraft::error::InstallSnapshotError;
use openraft::error::NetworkError;
use openraft::error::RPCError;
use openraft::error::RaftError;
use openraft::error::RemoteError;
use openraft::error::Unreachable;
use openraft::network::RPCOption;
use openraft::network::RaftNetwork;
use openraft::network::RaftNetworkFactory;
use openraft::BasicNode;
use serde::de::DeserializeOwned;
use serde::Serialize;

use super::CLUSTER_HEADER;
use super::SECRET_HEADER;
use crate::codec;
use crate::membership::Contacts;
use crate::types::typ;
use crate::types::NodeId;
use crate::types::TypeConfig;

/// A call to a peer failed before a reply could be read.
#[derive(Debug, thiserror::Error)]
pub(crate) enum TransportError {
    /// Could not connect: the request certainly did not arrive.
    #[error("unreachable: {0}")]
    Unreachable(String),
    /// Sent, but no reply in time: it may or may not have been processed.
    #[error("timed out after {0:?}")]
    Timeout(Duration),
    /// Any other failure after sending (reset, bad status, bad body).
    #[error("{0}")]
    Other(String),
}

/// Everything needed to call peers; shared by openraft's network and our own calls.
pub(crate) struct Peers {
    http: reqwest::Client,
    secret: String,
    /// This cluster's id once known; sent so a peer from another cluster refuses us.
    pub cluster_id: RwLock<Option<String>>,
    /// Initial peer addresses, used before membership is known.
    pub initial: BTreeMap<NodeId, String>,
    /// When each peer last answered an openraft RPC.
    contacts: Contacts,
}

impl Peers {
    pub fn new(
        secret: String,
        initial: BTreeMap<NodeId, String>,
        source_ip: Option<std::net::IpAddr>,
    ) -> Result<Arc<Self>, reqwest::Error> {
        let http = reqwest::Client::builder()
            .local_address(source_ip)
            .connect_timeout(Duration::from_millis(500))
            .pool_idle_timeout(Duration::from_secs(60))
            .tcp_nodelay(true)
            .build()?;
        Ok(Arc::new(Peers { http, secret, cluster_id: RwLock::new(None), initial, contacts: Contacts::default() }))
    }

    /// POSTs a bincode body to `http://addr/raft/<route>` and decodes the bincode reply.
    pub async fn call<Req: Serialize, Resp: DeserializeOwned>(
        &self,
        addr: &str,
        route: &str,
        req: &Req,
        timeout: Duration,
    ) -> Result<Resp, TransportError> {
        let body = codec::encode(req).map_err(|e| TransportError::Other(e.to_string()))?;
        let mut rb = self
            .http
            .post(format!("http://{addr}/raft/{route}"))
            .timeout(timeout)
            .header(SECRET_HEADER, &self.secret)
            .body(body);
        if let Some(id) = self.cluster_id.read().ok().and_then(|c| c.clone()) {
            rb = rb.header(CLUSTER_HEADER, id);
        }
        let resp = rb.send().await.map_err(|e| classify(e, timeout))?;
        let status = resp.status();
        let bytes = resp.bytes().await.map_err(|e| classify(e, timeout))?;
        if !status.is_success() {
            let text = String::from_utf8_lossy(&bytes);
            return Err(TransportError::Other(format!("{addr} answered {status}: {}", text.trim())));
        }
        codec::decode(&bytes).map_err(|e| TransportError::Other(format!("bad reply from {addr}: {e}")))
    }

    /// Milliseconds since peer `id` last answered an openraft RPC.
    pub fn since_contact_ms(&self, id: NodeId) -> Option<u64> {
        self.contacts.since_ms(id)
    }

    /// `GET /raft/identity` of the node at `addr`.
    pub async fn identity(&self, addr: &str) -> Result<super::Identity, TransportError> {
        self.call(addr, "identity", &(), Duration::from_millis(1000)).await
    }
}

fn classify(e: reqwest::Error, timeout: Duration) -> TransportError {
    if e.is_connect() {
        TransportError::Unreachable(e.to_string())
    } else if e.is_timeout() {
        TransportError::Timeout(timeout)
    } else {
        TransportError::Other(e.to_string())
    }
}

/// openraft's view of the network.
#[derive(Clone)]
pub(crate) struct NetworkFactory {
    pub peers: Arc<Peers>,
}

impl RaftNetworkFactory<TypeConfig> for NetworkFactory {
    type Network = PeerConnection;

    async fn new_client(&mut self, target: NodeId, node: &BasicNode) -> PeerConnection {
        PeerConnection { peers: self.peers.clone(), target, addr: node.addr.clone() }
    }
}

/// Calls to one peer.
pub(crate) struct PeerConnection {
    peers: Arc<Peers>,
    target: NodeId,
    addr: String,
}

impl PeerConnection {
    async fn rpc<Req, Resp, E>(
        &self,
        route: &str,
        req: &Req,
        option: &RPCOption,
    ) -> Result<Resp, RPCError<NodeId, BasicNode, RaftError<NodeId, E>>>
    where
        Req: Serialize,
        Resp: DeserializeOwned,
        E: std::error::Error + DeserializeOwned,
    {
        let reply: Result<Resp, RaftError<NodeId, E>> =
            self.peers.call(&self.addr, route, req, option.hard_ttl()).await.map_err(|e| match e {
                // openraft backs off from an unreachable peer instead of retrying hot.
                TransportError::Unreachable(_) => RPCError::Unreachable(Unreachable::new(&e)),
                _ => RPCError::Network(NetworkError::new(&e)),
            })?;
        self.peers.contacts.note(self.target);
        reply.map_err(|e| RPCError::RemoteError(RemoteError::new(self.target, e)))
    }
}

impl RaftNetwork<TypeConfig> for PeerConnection {
    async fn append_entries(
        &mut self,
        rpc: typ::AppendEntriesRequest,
        option: RPCOption,
    ) -> Result<typ::AppendEntriesResponse, typ::RPCError> {
        self.rpc("append", &rpc, &option).await
    }

    async fn install_snapshot(
        &mut self,
        rpc: typ::InstallSnapshotRequest,
        option: RPCOption,
    ) -> Result<typ::InstallSnapshotResponse, typ::RPCError<InstallSnapshotError>> {
        self.rpc("snapshot", &rpc, &option).await
    }

    async fn vote(&mut self, rpc: typ::VoteRequest, option: RPCOption) -> Result<typ::VoteResponse, typ::RPCError> {
        self.rpc("vote", &rpc, &option).await
    }
}
