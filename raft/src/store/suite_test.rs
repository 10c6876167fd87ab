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
        let log = LogStore::open(Arc::new(log_db), stats)?;
        let store = StateStore::open(sm_db, Arc::new(Echo), dir.path().to_path_buf())?;
        Ok((dir, log, StateMachine::new(store)))
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
