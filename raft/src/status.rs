//! What `/api/v1/cluster` shows: one node's view of the cluster.

use std::collections::BTreeMap;

use serde::Deserialize;
use serde::Serialize;

/// Raft role of a node.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub enum NodeState {
    /// Accepts writes and serves read indexes.
    Leader,
    /// Voter replicating from the leader.
    Follower,
    /// Non-voting member.
    Learner,
    /// Asking for votes.
    Candidate,
    /// Stopped.
    Shutdown,
}

/// A node's view of the cluster.
#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
pub struct ClusterStatus {
    /// This node's id.
    pub node_id: u64,
    /// This node's role.
    pub state: NodeState,
    /// The leader this node knows of.
    pub leader_id: Option<u64>,
    /// Current term.
    pub term: u64,
    /// Index of the last log entry on this node.
    pub last_log_index: Option<u64>,
    /// Highest index known committed.
    pub committed: Option<u64>,
    /// Highest index applied to the state machine.
    pub last_applied: Option<u64>,
    /// Index covered by the current snapshot.
    pub snapshot_index: Option<u64>,
    /// Ids of voting members.
    pub voters: Vec<u64>,
    /// Ids of learners.
    pub learners: Vec<u64>,
    /// Address of every member, by id (JSON object keys are strings).
    #[schema(value_type = BTreeMap<String, String>)]
    pub nodes: BTreeMap<u64, String>,
    /// How many voters can be lost while a quorum remains.
    pub failure_tolerance: u64,
    /// The cluster's identity, stamped once after bootstrap.
    pub cluster_id: Option<String>,
    /// Cumulative counters: batching, read rounds, forwarding.
    pub stats: crate::stats::StatsSnapshot,
    /// The last leader changes this node saw, oldest first.
    pub recent_leaders: Vec<LeaderChange>,
}

/// One change of the leader known to a node.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct LeaderChange {
    /// Wall-clock time on this node, milliseconds since the Unix epoch.
    pub at_unix_ms: u64,
    /// The term it was seen in.
    pub term: u64,
    /// The new leader (`None`: leader lost).
    pub leader: Option<u64>,
}
