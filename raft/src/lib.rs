//! `metaraft-raft`: consensus, storage and transport for metaraft. Knows nothing of Doris.
//!
//! Each node runs openraft 0.9 over two redb files (`raft-log.redb`, `state.redb`). The application
//! plugs in through [`Application`] (how a committed command changes the replicated map) and reads
//! through [`KvRead`]. [`RaftNode`] is the whole public surface: start, write (local or forwarded to
//! the leader, group-committed), linearizable read, status, and the `/raft/*` router.

// openraft's `StorageError` is large and its storage traits return it by value.
#![allow(clippy::result_large_err)]

mod app;
mod batcher;
pub mod codec;
pub mod docs;
mod error;
mod forwarder;
mod kv;
mod membership;
mod metrics;
mod network;
mod node;
mod stats;
mod status;
mod store;
mod types;

pub use app::Application;
pub use error::RaftNodeError;
pub use error::StartError;
pub use kv::KvError;
pub use kv::KvPairs;
pub use kv::KvRead;
pub use kv::KvWrite;
pub use kv::ScratchKv;
pub use kv::DATA_TABLE;
pub use membership::Member;
pub use membership::MembershipError;
pub use membership::Role;
pub use node::Consistency;
pub use node::NodeConfig;
pub use node::RaftNode;
pub use status::ClusterStatus;
pub use status::LeaderChange;
pub use status::NodeState;
pub use store::backup::restore;
pub use store::backup::verify as verify_backup;
pub use store::backup::BackupError;
pub use store::backup::RestoreSummary;
