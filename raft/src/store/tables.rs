//! Every redb table, in one place. Values are `codec::encode_tagged` bytes unless noted.

use redb::TableDefinition;

// --- raft-log.redb
/// Log entries by index.
pub(crate) const LOGS: TableDefinition<u64, &[u8]> = TableDefinition::new("logs");
/// Vote and last purged log id (keys below).
pub(crate) const LOG_META: TableDefinition<&str, &[u8]> = TableDefinition::new("log_meta");
pub(crate) const KEY_VOTE: &str = "vote";
pub(crate) const KEY_LAST_PURGED: &str = "last_purged";

// --- state.redb
/// The application's replicated map; raw bytes in, raw bytes out.
pub(crate) const DATA: TableDefinition<&[u8], &[u8]> = TableDefinition::new("data");
/// last_applied, membership, cluster id, node identity, ids ever members (keys below).
pub(crate) const SM_META: TableDefinition<&str, &[u8]> = TableDefinition::new("sm_meta");
pub(crate) const KEY_LAST_APPLIED: &str = "last_applied";
pub(crate) const KEY_MEMBERSHIP: &str = "membership";
pub(crate) const KEY_CLUSTER_ID: &str = "cluster_id";
pub(crate) const KEY_NODE_ID: &str = "node_id";
pub(crate) const KEY_MEMBERS_EVER: &str = "members_ever";
pub(crate) const KEY_RESTORED_FROM: &str = "restored_from";
