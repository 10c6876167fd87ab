//! Bodies of the node-to-node routes that are ours rather than openraft's.

use serde::Deserialize;
use serde::Serialize;

use crate::error::RaftNodeError;

/// `POST /raft/forward`: writes handed to the leader, answered with one result each, in order.
#[derive(Debug, Serialize, Deserialize)]
pub(crate) struct ForwardRequest {
    /// How many nodes have forwarded these writes so far; bounded to stop loops.
    pub hops: u8,
    pub commands: Vec<serde_bytes::ByteBuf>,
}

/// Why a write failed, in a form that crosses the wire.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub(crate) enum WriteFailure {
    /// Refused before it could commit: safe to retry on the leader named (if known).
    NotLeader(Option<u64>),
    /// No leader could be found in time; nothing was proposed.
    Unavailable(String),
    /// Proposed, but the outcome is unknown (leadership lost, timeout).
    Unknown(String),
    /// The node is stopped or its storage failed.
    Fatal(String),
}

impl From<WriteFailure> for RaftNodeError {
    fn from(f: WriteFailure) -> Self {
        match f {
            WriteFailure::NotLeader(l) => RaftNodeError::Unavailable(format!("leader changed (hint: {l:?})")),
            WriteFailure::Unavailable(s) => RaftNodeError::Unavailable(s),
            WriteFailure::Unknown(s) => RaftNodeError::Timeout(s),
            WriteFailure::Fatal(s) => RaftNodeError::Fatal(s),
        }
    }
}

/// `GET /raft/identity`: who answers at an address, for bootstrap and data-dir checks.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct Identity {
    pub node_id: u64,
    pub cluster_id: Option<String>,
    /// Whether the node's log holds anything (a vote or an entry).
    pub initialized: bool,
    /// Checksum of the backup its state was seeded from, if any.
    pub restored_from: Option<String>,
}
