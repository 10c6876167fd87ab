//! Tags of the persisted raft records, so a record is never decoded as the wrong type.

use serde::Deserialize;
use serde::Serialize;

use crate::codec::Tagged;
use crate::types::Entry;
use crate::types::LogId;
use crate::types::StoredMembership;
use crate::types::Vote;

impl Tagged for Entry {
    const TAG: &'static str = "raft.entry.v1";
}
impl Tagged for Vote {
    const TAG: &'static str = "raft.vote.v1";
}
impl Tagged for LogId {
    const TAG: &'static str = "raft.log_id.v1";
}
impl Tagged for StoredMembership {
    const TAG: &'static str = "raft.membership.v1";
}

/// Which cluster a state machine belongs to.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct ClusterId(pub String);
impl Tagged for ClusterId {
    const TAG: &'static str = "raft.cluster_id.v1";
}

/// Every node id that was ever in a membership config: ids are never reused.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct MembersEver(pub std::collections::BTreeSet<u64>);
impl Tagged for MembersEver {
    const TAG: &'static str = "raft.members_ever.v1";
}

/// The SHA-256 (hex) of the backup a state machine was seeded from.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct RestoredFrom(pub String);
impl Tagged for RestoredFrom {
    const TAG: &'static str = "raft.restored_from.v1";
}

/// Which node a data directory belongs to; written on the first start.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct NodeIdentity(pub u64);
impl Tagged for NodeIdentity {
    const TAG: &'static str = "raft.node_id.v1";
}
