//! The snapshot image: the whole replicated map plus the state machine's metadata.
//!
//! Images are kept in memory only. The state machine itself is durable, so after a restart
//! openraft rebuilds a snapshot from it whenever logs were purged (`get_initial_state`); a file
//! could only ever be older or torn relative to the state it claims to describe.

use serde::Deserialize;
use serde::Serialize;

use crate::codec::Tagged;
use crate::types::SnapshotMeta;

// Format: tagged { meta | cluster_id | members_ever | pairs: [(key, value)] in key order }
#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct SnapshotImage {
    pub meta: SnapshotMeta,
    pub cluster_id: Option<String>,
    pub members_ever: std::collections::BTreeSet<u64>,
    pub pairs: Vec<(serde_bytes::ByteBuf, serde_bytes::ByteBuf)>,
}

impl Tagged for SnapshotImage {
    const TAG: &'static str = "raft.snapshot.v2";
}
