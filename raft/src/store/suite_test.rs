//! openraft's storage conformance suite over our real redb stores in a temp directory.

use std::sync::Arc;

use openraft::testing::StoreBuilder;
use openraft::testing::Suite;

use super::open_db;
use super::LogStore;
use super::StateMachine;
use super::StateStore;
use crate::app::Application;
use crate::kv::KvError;
use crate::kv::KvWrite;
use crate::stats::Stats;
use crate::types::StorageError;
use crate::types::TypeConfig;

/// Stores each command under itself and echoes it back.
struct Echo;
impl Application for Echo {
    fn apply(&self, kv: &mut KvWrite<'_, '_>, command: &[u8]) -> Result<Vec<u8>, KvError> {
        kv.put(command, command)?;
        Ok(command.to_vec())
    }
}

struct Builder;

impl StoreBuilder<TypeConfig, LogStore, StateMachine, tempfile::TempDir> for Builder {
    async fn build(&self) -> Result<(tempfile::TempDir, LogStore, StateMachine), StorageError> {
        let dir = tempfile::tempdir().map_err(io_err)?;
        let stats = Arc::new(Stats::default());
        let log_db = open_db(&dir.path().join("raft-log.redb")).map_err(io_err)?;
        let sm_db = open_db(&dir.path().join("state.redb")).map_err(io_err)?;
        // Without the purge floor: the suite purges logs it never applied.
        let log = LogStore::open(Arc::new(log_db), stats.clone(), None)?;
        let store = StateStore::open(sm_db, Arc::new(Echo))?;
        Ok((dir, log, StateMachine::new(store, stats)))
    }
}

#[test]
fn openraft_storage_suite() -> Result<(), StorageError> {
    Suite::test_all(Builder)
}

/// Wraps an I/O failure while opening the stores.
fn io_err(e: std::io::Error) -> crate::types::StorageError {
    crate::types::StorageIOError::new(
        openraft::ErrorSubject::Store,
        openraft::ErrorVerb::Read,
        openraft::AnyError::error(e.to_string()),
    )
    .into()
}

/// A purge never outruns the state machine's durable `last_applied` (openraft purges right after
/// queueing a snapshot install; a crash before the install commits must leave a usable log).
#[tokio::test]
async fn purge_is_clamped_to_durable_last_applied() -> Result<(), StorageError> {
    use openraft::storage::RaftLogStorage;
    use openraft::storage::RaftLogStorageExt;
    use openraft::storage::RaftStateMachine;
    use openraft::CommittedLeaderId;
    use openraft::EntryPayload;

    use crate::types::Entry;
    use crate::types::LogId;

    let dir = tempfile::tempdir().map_err(io_err)?;
    let stats = Arc::new(Stats::default());
    let sm_db = open_db(&dir.path().join("state.redb")).map_err(io_err)?;
    let store = StateStore::open(sm_db, Arc::new(Echo))?;
    let log_db = open_db(&dir.path().join("raft-log.redb")).map_err(io_err)?;
    let mut log = LogStore::open(Arc::new(log_db), stats.clone(), Some(store.clone()))?;
    let mut sm = StateMachine::new(store.clone(), stats);

    let id = |i| LogId::new(CommittedLeaderId::new(1, 1), i);
    let entries: Vec<Entry> = (1..=10).map(|i| Entry { log_id: id(i), payload: EntryPayload::Blank }).collect();
    log.blocking_append(entries.clone()).await?;

    // Nothing applied yet: nothing may be purged.
    log.purge(id(5)).await?;
    assert_eq!(log.get_log_state().await?.last_purged_log_id, None);

    // Applied but not yet fsynced (apply flushes lazily): still nothing.
    sm.apply(entries[..3].to_vec()).await?;
    log.purge(id(5)).await?;
    assert_eq!(log.get_log_state().await?.last_purged_log_id, None);
    store.flush()?;
    log.purge(id(5)).await?;
    assert_eq!(log.get_log_state().await?.last_purged_log_id, Some(id(3)));

    sm.apply(entries[3..8].to_vec()).await?;
    store.flush()?;
    log.purge(id(5)).await?;
    assert_eq!(log.get_log_state().await?.last_purged_log_id, Some(id(5)));
    Ok(())
}
