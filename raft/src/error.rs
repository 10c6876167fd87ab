//! Errors of the consensus layer, split as openraft splits them: a request that was refused
//! (retry elsewhere or later) versus a node that is broken.

/// A write or read could not be served.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum RaftNodeError {
    /// No leader is known right now (election in progress, or this node is cut off).
    #[error("no leader available: {0}")]
    Unavailable(String),
    /// The request did not complete in time; it may or may not have been applied.
    #[error("timed out: {0}")]
    Timeout(String),
    /// Forwarding to the leader failed on the network.
    #[error("forwarding to leader {leader} failed: {reason}")]
    Forward {
        /// Node the request was sent to.
        leader: u64,
        /// What went wrong.
        reason: String,
    },
    /// The local store failed.
    #[error("storage: {0}")]
    Storage(String),
    /// The node is shutting down or hit a fatal error.
    #[error("node stopped: {0}")]
    Fatal(String),
}

/// The node could not start.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum StartError {
    /// The configuration is inconsistent (e.g. this node's id is not among the peers).
    #[error("invalid configuration: {0}")]
    Config(String),
    /// The data directory belongs to another cluster or another node.
    #[error("data directory mismatch: {0}")]
    DataDir(String),
    /// Opening or reading the stores failed.
    #[error("storage: {0}")]
    Storage(String),
    /// openraft refused to start.
    #[error("raft: {0}")]
    Raft(String),
}
