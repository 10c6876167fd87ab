//! [`RaftNode`]: the running consensus node and its public operations.

use std::collections::BTreeMap;
use std::collections::BTreeSet;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;
use std::time::Instant;

use openraft::BasicNode;
use openraft::ServerState;

use crate::app::Application;
use crate::batcher::ReadCoalescer;
use crate::batcher::ReadIndexResult;
use crate::batcher::WriteBatcher;
use crate::batcher::WriteResult;
use crate::error::RaftNodeError;
use crate::error::StartError;
use crate::forwarder::Forwarder;
use crate::kv::KvError;
use crate::kv::KvRead;
use crate::membership::Member;
use crate::membership::MembershipError;
use crate::membership::MembershipOp;
use crate::network;
use crate::network::ForwardRequest;
use crate::network::Identity;
use crate::network::Peers;
use crate::network::TransportError;
use crate::network::WriteFailure;
use crate::stats::Stats;
use crate::status::ClusterStatus;
use crate::status::NodeState;
use crate::store;
use crate::store::LogStore;
use crate::store::StateMachine;
use crate::store::StateStore;
use crate::types::NodeId;
use crate::types::Raft;
use crate::types::Request;

/// A write is forwarded at most this many times (follower → leader → new leader).
const MAX_HOPS: u8 = 2;
/// How long a write or read may wait for a leader and its answer.
const REQUEST_TIMEOUT: Duration = Duration::from_secs(10);

/// How fresh a read must be.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Consistency {
    /// Reflects every write acknowledged before the read began (read index via the leader).
    #[default]
    Linearizable,
    /// Whatever this node has applied; may lag the leader.
    Stale,
}

/// Everything a node needs to start.
#[derive(Debug, Clone)]
pub struct NodeConfig {
    /// This node's id; must be a key of `peers`.
    pub node_id: u64,
    /// Initial members, id → `host:port` where their HTTP server listens.
    pub peers: BTreeMap<u64, String>,
    /// Directory holding `raft-log.redb` and `state.redb`.
    pub data_dir: PathBuf,
    /// Shared secret required on every `/raft/*` request.
    pub cluster_secret: String,
    /// Heartbeat interval in ms (in openraft 0.9 also the append RPC timeout).
    pub heartbeat_ms: u64,
    /// Election timeout range in ms.
    pub election_timeout_ms: (u64, u64),
    /// Log entries after which a snapshot is built.
    pub snapshot_threshold: u64,
    /// Log entries kept behind a snapshot for lagging followers.
    pub keep_logs_after_snapshot: u64,
    /// Local address that calls to peers leave from (None: the kernel's choice). Nodes sharing one
    /// host on distinct loopback addresses set it so that a firewall rule on source and destination
    /// cuts exactly one link (the chaos tooling's partitions).
    pub source_ip: Option<std::net::IpAddr>,
}

impl NodeConfig {
    /// A config with the defaults for loopback / LAN clusters. In openraft 0.9 the heartbeat
    /// interval is also the append RPC timeout, so it must cover a round trip plus a follower's
    /// fsync; 50 ms does on a LAN (measured: no leader change at 64 writers on 2 loaded cores) and
    /// gives a median failover of ~0.6 s. Raise both for slow disks or a WAN.
    pub fn new(node_id: u64, peers: BTreeMap<u64, String>, data_dir: PathBuf, cluster_secret: String) -> Self {
        NodeConfig {
            node_id,
            peers,
            data_dir,
            cluster_secret,
            heartbeat_ms: 50,
            election_timeout_ms: (150, 300),
            snapshot_threshold: 20_000,
            keep_logs_after_snapshot: 2_000,
            source_ip: None,
        }
    }

    fn raft_config(&self) -> Result<openraft::Config, StartError> {
        let c = openraft::Config {
            cluster_name: "metaraft".into(),
            heartbeat_interval: self.heartbeat_ms,
            election_timeout_min: self.election_timeout_ms.0,
            election_timeout_max: self.election_timeout_ms.1,
            max_payload_entries: 256,
            snapshot_policy: openraft::SnapshotPolicy::LogsSinceLast(self.snapshot_threshold),
            max_in_snapshot_log_to_keep: self.keep_logs_after_snapshot,
            install_snapshot_timeout: 10_000,
            ..Default::default()
        };
        c.validate().map_err(|e| StartError::Config(e.to_string()))
    }
}

/// State shared by the public handle, the `/raft/*` handlers and background tasks.
pub(crate) struct NodeInner {
    pub config: NodeConfig,
    pub raft: Raft,
    pub stats: Arc<Stats>,
    pub state: Arc<StateStore>,
    log: LogStore,
    pub peers: Arc<Peers>,
    writes: WriteBatcher,
    forwarder: Forwarder,
    reads: ReadCoalescer,
    leader_reads: ReadCoalescer,
}

/// A running node. Cheap to clone.
#[derive(Clone)]
pub struct RaftNode {
    inner: Arc<NodeInner>,
}

impl RaftNode {
    /// Opens the stores, starts openraft and bootstraps the cluster when this is the first start.
    pub async fn start(config: NodeConfig, app: Arc<dyn Application>) -> Result<Self, StartError> {
        let id = config.node_id;
        if !config.peers.contains_key(&id) {
            return Err(StartError::Config(format!(
                "node id {id} is not in the peer list ({})",
                config.peers.keys().map(|k| k.to_string()).collect::<Vec<_>>().join(", ")
            )));
        }
        let raft_config = Arc::new(config.raft_config()?);
        let dir = config.data_dir.clone();
        create_dir_durably(&dir).map_err(|e| StartError::Storage(format!("{}: {e}", dir.display())))?;

        let stats = Arc::new(Stats::default());
        let storage = |e: crate::types::StorageError| StartError::Storage(e.to_string());
        let io = |e: std::io::Error| StartError::Storage(e.to_string());
        let state_db = store::open_db(&dir.join("state.redb")).map_err(io)?;
        let state = StateStore::open(state_db, app).map_err(storage)?;
        let owner = state.claim_node_id(id).map_err(storage)?;
        if owner != id {
            return Err(StartError::DataDir(format!(
                "{} belongs to node {owner}, not node {id}; a node id must never change",
                dir.display()
            )));
        }
        let log_db = store::open_db(&dir.join("raft-log.redb")).map_err(io)?;
        let log = LogStore::open(Arc::new(log_db), stats.clone(), Some(state.clone())).map_err(storage)?;

        let peers = Peers::new(config.cluster_secret.clone(), config.peers.clone(), config.source_ip)
            .map_err(|e| StartError::Config(format!("http client: {e}")))?;
        let cluster_id = state.cluster_id().map_err(storage)?;
        if let Some(ours) = &cluster_id {
            check_peers_cluster(&peers, id, ours).await?;
            if let Ok(mut c) = peers.cluster_id.write() {
                *c = Some(ours.clone());
            }
        }

        let network = network::client_factory(peers.clone());
        let raft = Raft::new(id, raft_config, network, log.clone(), StateMachine::new(state.clone(), stats.clone()))
            .await
            .map_err(|e| StartError::Raft(e.to_string()))?;

        let writes = WriteBatcher::spawn(raft.clone(), stats.clone());
        let forwarder = Forwarder::spawn(peers.clone(), REQUEST_TIMEOUT);
        let inner = Arc::new_cyclic(|weak: &std::sync::Weak<NodeInner>| {
            let w = weak.clone();
            let reads = ReadCoalescer::spawn(stats.clone(), move || {
                let w = w.clone();
                async move {
                    match w.upgrade() {
                        Some(n) => n.read_index_round().await,
                        None => Err(WriteFailure::Fatal("node stopped".into())),
                    }
                }
            });
            let raft2 = raft.clone();
            let leader_reads = ReadCoalescer::spawn(stats.clone(), move || {
                let raft = raft2.clone();
                async move { local_read_index(&raft).await }
            });
            NodeInner { config, raft, stats, state, log, peers, writes, forwarder, reads, leader_reads }
        });
        tokio::spawn(bootstrap(Arc::downgrade(&inner)));
        tokio::spawn(stamp_cluster_id(Arc::downgrade(&inner)));
        tokio::spawn(crate::metrics::watch_leader(Arc::downgrade(&inner)));
        Ok(RaftNode { inner })
    }

    /// The `/raft/*` routes (cluster-secret protected) to merge into the node's HTTP server.
    pub fn router(&self) -> axum::Router {
        network::router(self.inner.clone())
    }

    /// Replicates `command` (forwarding to the leader when needed) and returns its reply.
    pub async fn write(&self, command: Vec<u8>) -> Result<Vec<u8>, RaftNodeError> {
        self.inner.write(Request::App(command.into()), 0).await.map(|b| b.into_vec()).map_err(RaftNodeError::from)
    }

    /// Runs `f` over applied state at the requested consistency.
    pub async fn read<T, F>(&self, consistency: Consistency, f: F) -> Result<T, RaftNodeError>
    where
        F: FnOnce(&KvRead) -> Result<T, KvError>,
    {
        if consistency == Consistency::Linearizable {
            let index = self.inner.reads.read_index().await.map_err(RaftNodeError::from)?;
            self.inner
                .raft
                .wait(Some(REQUEST_TIMEOUT))
                .applied_index_at_least(Some(index), "linearizable read")
                .await
                .map_err(|e| RaftNodeError::Timeout(format!("waiting to apply index {index}: {e}")))?;
        }
        let kv = self.inner.state.read().map_err(|e| RaftNodeError::Storage(e.to_string()))?;
        f(&kv).map_err(|e| RaftNodeError::Storage(e.to_string()))
    }

    /// Every member with the leader's view of its replication (asked of the leader).
    pub async fn members(&self) -> Result<Vec<Member>, MembershipError> {
        self.inner.membership(MembershipOp::List).await
    }

    /// Adds node `id` at `addr` as a learner, waits for it to catch up, then makes it a voter.
    pub async fn add_member(&self, id: u64, addr: String) -> Result<Vec<Member>, MembershipError> {
        self.inner.membership(MembershipOp::Add { id, addr }).await
    }

    /// Removes node `id`, refusing when the remaining voters could not form a quorum.
    pub async fn remove_member(&self, id: u64) -> Result<Vec<Member>, MembershipError> {
        self.inner.membership(MembershipOp::Remove { id }).await
    }

    /// Streams a consistent backup of the replicated state: every write acknowledged before the
    /// call is in it (a linearizable barrier first), and writes go on while it is copied (an MVCC
    /// read transaction). Chunks arrive through the returned stream.
    pub async fn backup(
        &self,
    ) -> Result<impl futures::Stream<Item = Result<bytes::Bytes, std::io::Error>> + Send + 'static, RaftNodeError> {
        self.read(Consistency::Linearizable, |_| Ok(())).await?;
        let (tx, rx) = tokio::sync::mpsc::channel::<Result<bytes::Bytes, std::io::Error>>(8);
        let state = self.inner.state.clone();
        tokio::task::spawn_blocking(move || {
            let result = state.export(|chunk| tx.blocking_send(Ok(bytes::Bytes::from(chunk))).is_ok());
            if let Err(e) = result {
                tracing::warn!("backup failed: {e}");
                let _ = tx.blocking_send(Err(std::io::Error::other(e)));
            }
        });
        Ok(futures::stream::unfold(rx, |mut rx| async move { rx.recv().await.map(|item| (item, rx)) }))
    }

    /// Adds this node's raft metrics (`metaraft_raft_*`) to `registry`.
    pub fn register_metrics(&self, registry: &mut prometheus_client::registry::Registry) {
        crate::metrics::register(registry, Arc::downgrade(&self.inner), &self.inner.stats);
    }

    /// This node's view of the cluster.
    pub fn status(&self) -> ClusterStatus {
        self.inner.status()
    }

    /// `Ok` when the node knows a leader and has applied its commit index; else the reason.
    pub fn readiness(&self) -> Result<(), String> {
        self.inner.readiness()
    }

    /// Stops openraft; the stores close when the last handle is dropped.
    pub async fn shutdown(&self) {
        if let Err(e) = self.inner.raft.shutdown().await {
            tracing::warn!("raft shutdown: {e}");
        }
        // Apply fsyncs lazily; a clean stop leaves nothing to re-apply.
        let state = self.inner.state.clone();
        match tokio::task::spawn_blocking(move || state.flush()).await {
            Ok(Ok(())) => {}
            Ok(Err(e)) => tracing::warn!("state machine flush: {e}"),
            Err(e) => tracing::warn!("state machine flush: {e}"),
        }
    }
}

impl NodeInner {
    pub fn cluster_id(&self) -> Option<String> {
        self.peers.cluster_id.read().ok().and_then(|c| c.clone())
    }

    pub(crate) fn leader(&self) -> Option<NodeId> {
        self.raft.metrics().borrow().current_leader
    }

    pub(crate) fn addr_of(&self, id: NodeId) -> Option<String> {
        let m = self.raft.metrics().borrow().membership_config.clone();
        m.membership().get_node(&id).map(|n| n.addr.clone()).or_else(|| self.peers.initial.get(&id).cloned())
    }

    /// Waits until some leader is known, or the deadline passes.
    async fn wait_for_leader(&self, deadline: Instant) -> Result<NodeId, WriteFailure> {
        let mut rx = self.raft.metrics();
        loop {
            if let Some(l) = rx.borrow_and_update().current_leader {
                return Ok(l);
            }
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                return Err(WriteFailure::Unavailable("no leader elected".into()));
            }
            match tokio::time::timeout(left, rx.changed()).await {
                Ok(Ok(())) => {}
                Ok(Err(_)) => return Err(WriteFailure::Fatal("raft stopped".into())),
                Err(_) => return Err(WriteFailure::Unavailable("no leader elected".into())),
            }
        }
    }

    /// Writes locally when leader, else forwards; retries only refusals that never committed.
    async fn write(&self, request: Request, hops: u8) -> WriteResult {
        let deadline = Instant::now() + REQUEST_TIMEOUT;
        loop {
            let leader = self.wait_for_leader(deadline).await?;
            let result = if leader == self.config.node_id {
                self.writes.submit(request.clone()).await
            } else {
                self.forward(leader, &request, hops).await
            };
            match result {
                Err(WriteFailure::NotLeader(_)) if Instant::now() < deadline => {
                    // The leader we knew is gone or moved; give the election a moment.
                    tokio::time::sleep(Duration::from_millis(20)).await;
                }
                Err(WriteFailure::NotLeader(_)) => {
                    return Err(WriteFailure::Unavailable("leader kept changing".into()))
                }
                other => return other,
            }
        }
    }

    async fn forward(&self, leader: NodeId, request: &Request, hops: u8) -> WriteResult {
        let Request::App(command) = request else {
            return Err(WriteFailure::NotLeader(Some(leader)));
        };
        if hops >= MAX_HOPS {
            return Err(WriteFailure::Unavailable(format!("not forwarded further after {hops} hops")));
        }
        let Some(addr) = self.addr_of(leader) else {
            return Err(WriteFailure::Unavailable(format!("no address for leader {leader}")));
        };
        self.stats.forwarded_writes.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        self.forwarder.submit(addr, hops + 1, command.to_vec()).await
    }

    /// `/raft/forward`: writes another node sent us, each answered on its own.
    pub async fn writes_on_behalf(&self, req: ForwardRequest) -> Vec<WriteResult> {
        let hops = req.hops;
        futures::future::join_all(req.commands.into_iter().map(|c| self.write(Request::App(c.into_vec().into()), hops)))
            .await
    }

    /// One read-index round for this node: asks itself when leader, else the leader.
    async fn read_index_round(&self) -> ReadIndexResult {
        let deadline = Instant::now() + REQUEST_TIMEOUT;
        loop {
            let leader = self.wait_for_leader(deadline).await?;
            let result = if leader == self.config.node_id {
                self.leader_reads.read_index().await
            } else {
                match self.addr_of(leader) {
                    Some(addr) => self
                        .peers
                        .call::<_, ReadIndexResult>(&addr, "read_index", &(), Duration::from_secs(2))
                        .await
                        .unwrap_or_else(|e| {
                            Err(WriteFailure::NotLeader(match e {
                                TransportError::Unreachable(_) => None,
                                _ => Some(leader),
                            }))
                        }),
                    None => Err(WriteFailure::Unavailable(format!("no address for leader {leader}"))),
                }
            };
            match result {
                // Reads have no side effects: any failure to reach the leader may be retried.
                Err(WriteFailure::NotLeader(_)) | Err(WriteFailure::Unknown(_)) if Instant::now() < deadline => {
                    tokio::time::sleep(Duration::from_millis(20)).await;
                }
                other => return other,
            }
        }
    }

    /// `/raft/read_index`: the leader's read index, coalesced with other callers.
    pub async fn leader_read_index(&self) -> ReadIndexResult {
        if self.leader() != Some(self.config.node_id) {
            return Err(WriteFailure::NotLeader(self.leader()));
        }
        self.leader_reads.read_index().await
    }

    pub async fn identity(&self) -> Identity {
        Identity {
            node_id: self.config.node_id,
            cluster_id: self.cluster_id(),
            initialized: !self.log.is_pristine().unwrap_or(false),
            restored_from: self.state.restored_from().ok().flatten(),
        }
    }

    pub(crate) fn status(&self) -> ClusterStatus {
        let m = self.raft.metrics().borrow().clone();
        let membership = m.membership_config.membership();
        let voters: Vec<u64> = membership.voter_ids().collect();
        let voter_set: BTreeSet<u64> = voters.iter().copied().collect();
        let learners: Vec<u64> = membership.learner_ids().filter(|l| !voter_set.contains(l)).collect();
        let nodes = membership.nodes().map(|(id, n)| (*id, n.addr.clone())).collect();
        let failure_tolerance = (voters.len() as u64).saturating_sub(1) / 2;
        ClusterStatus {
            node_id: self.config.node_id,
            state: node_state(m.state),
            leader_id: m.current_leader,
            term: m.current_term,
            last_log_index: m.last_log_index,
            // Applied implies committed; after a restart the commit index is not yet re-learned.
            committed: self.stats.committed().max(m.last_applied.map(|l| l.index)),
            last_applied: m.last_applied.map(|l| l.index),
            snapshot_index: m.snapshot.map(|l| l.index).or_else(|| self.state.snapshot_index()),
            voters,
            learners,
            nodes,
            failure_tolerance,
            cluster_id: self.cluster_id(),
            stats: self.stats.snapshot(),
            recent_leaders: self.stats.recent_leaders(),
        }
    }

    fn readiness(&self) -> Result<(), String> {
        let m = self.raft.metrics().borrow().clone();
        let Some(leader) = m.current_leader else {
            let ms = self.stats.leaderless_for_ms();
            return Err(format!("no leader for {:.1} s", ms as f64 / 1000.0));
        };
        let fresh_ms = self.config.election_timeout_ms.1 * 2;
        if leader == self.config.node_id {
            match m.millis_since_quorum_ack {
                Some(ms) if ms <= fresh_ms => {}
                Some(ms) => return Err(format!("leader without quorum contact for {:.1} s", ms as f64 / 1000.0)),
                None => return Err("leader has not yet heard from a quorum".into()),
            }
        } else {
            match self.stats.since_leader_contact_ms() {
                Some(ms) if ms <= fresh_ms => {}
                Some(ms) => return Err(format!("no contact from leader {leader} for {:.1} s", ms as f64 / 1000.0)),
                None => return Err(format!("no contact from leader {leader} yet")),
            }
        }
        let applied = m.last_applied.map(|l| l.index).unwrap_or(0);
        let committed = self.stats.committed().unwrap_or(0);
        if applied < committed {
            return Err(format!("applied {applied}, {} entries behind the leader's commit index", committed - applied));
        }
        Ok(())
    }
}

fn node_state(s: ServerState) -> NodeState {
    match s {
        ServerState::Leader => NodeState::Leader,
        ServerState::Follower => NodeState::Follower,
        ServerState::Learner => NodeState::Learner,
        ServerState::Candidate => NodeState::Candidate,
        ServerState::Shutdown => NodeState::Shutdown,
    }
}

/// One leadership confirmation on the leader (a heartbeat round to a quorum).
async fn local_read_index(raft: &Raft) -> ReadIndexResult {
    match raft.get_read_log_id().await {
        Ok((read_log_id, _applied)) => Ok(read_log_id.map(|l| l.index).unwrap_or(0)),
        Err(e) => match e.forward_to_leader() {
            Some(f) => Err(WriteFailure::NotLeader(f.leader_id)),
            None => Err(WriteFailure::NotLeader(None)),
        },
    }
}

/// Creates the data directory and fsyncs every level that may be new, on every start: a crash
/// after an earlier start created them but before anything synced must not lose them later.
pub(crate) fn create_dir_durably(dir: &std::path::Path) -> std::io::Result<()> {
    std::fs::create_dir_all(dir)?;
    let dir = dir.canonicalize()?;
    for level in dir.ancestors() {
        store::sync_dir(level)?;
    }
    Ok(())
}

/// Refuses to start when a reachable peer belongs to a different cluster than our data. Peers are
/// asked at once with a short timeout: on a whole-cluster restart they are all starting too.
/// A peer that does not answer proves nothing; the cluster-id header on every RPC still keeps a
/// foreign node out later.
async fn check_peers_cluster(peers: &Peers, me: NodeId, ours: &str) -> Result<(), StartError> {
    let asks = peers.initial.iter().filter(|(id, _)| **id != me).map(|(id, addr)| async move {
        (*id, addr, tokio::time::timeout(Duration::from_millis(300), peers.identity(addr)).await)
    });
    for (id, addr, answer) in futures::future::join_all(asks).await {
        if let Ok(Ok(Identity { cluster_id: Some(theirs), .. })) = answer {
            if theirs != ours {
                return Err(StartError::DataDir(format!(
                    "this data directory belongs to cluster {ours}, but peer {id} at {addr} is in cluster {theirs}"
                )));
            }
        }
    }
    Ok(())
}

/// The lowest id initializes the cluster, once, when its store and every peer's are pristine.
async fn bootstrap(weak: std::sync::Weak<NodeInner>) {
    loop {
        // A weak handle: a node shut down while a peer never answers must not be kept alive.
        let Some(node) = weak.upgrade() else { return };
        let me = node.config.node_id;
        if node.config.peers.keys().next() != Some(&me) {
            return;
        }
        match node.log.is_pristine() {
            Ok(true) => {}
            Ok(false) => return,
            Err(e) => {
                tracing::error!("bootstrap: reading the log store: {e}");
                return;
            }
        }
        let mut all_pristine = true;
        let ours = node.state.restored_from().ok().flatten();
        for (id, addr) in &node.config.peers {
            if *id == me {
                continue;
            }
            match node.peers.identity(addr).await {
                Ok(ident) if ident.initialized || ident.cluster_id.is_some() => {
                    tracing::info!(peer = id, "peer already initialized; not bootstrapping");
                    return;
                }
                Ok(ident) if ident.node_id != *id => {
                    tracing::error!(peer = id, answered = ident.node_id, %addr, "peer address answers as another node");
                    all_pristine = false;
                }
                // Members seeded from different backups (or one not at all) would diverge.
                Ok(ident) if ident.restored_from != ours => {
                    tracing::error!(peer = id, theirs = ?ident.restored_from, ours = ?ours,
                        "peer was not restored from the same backup; restore every initial member from one file");
                    all_pristine = false;
                }
                Ok(_) => {}
                Err(_) => all_pristine = false,
            }
        }
        if all_pristine {
            let members: BTreeMap<NodeId, BasicNode> =
                node.config.peers.iter().map(|(id, a)| (*id, BasicNode::new(a))).collect();
            match node.raft.initialize(members).await {
                Ok(()) => tracing::info!("bootstrapped the cluster"),
                Err(e) => tracing::info!("initialize: {e}"),
            }
            return;
        }
        drop(node);
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

/// Keeps the cached cluster id fresh, and has the leader stamp one if the cluster has none.
async fn stamp_cluster_id(weak: std::sync::Weak<NodeInner>) {
    loop {
        let Some(node) = weak.upgrade() else { return };
        if node.cluster_id().is_none() {
            match node.state.cluster_id() {
                Ok(Some(id)) => {
                    if let Ok(mut c) = node.peers.cluster_id.write() {
                        *c = Some(id);
                    }
                }
                Ok(None) if node.leader() == Some(node.config.node_id) => {
                    let id = format!("{:032x}", rand::random::<u128>());
                    if let Err(e) = node.writes.submit(Request::SetClusterId(id)).await {
                        tracing::debug!("stamping the cluster id: {e:?}");
                    }
                }
                _ => {}
            }
        }
        let done = node.cluster_id().is_some();
        drop(node);
        tokio::time::sleep(Duration::from_millis(if done { 5_000 } else { 200 })).await;
    }
}
