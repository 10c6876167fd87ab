//! Durable storage: the Raft log (`raft-log.redb`) and the state machine (`state.redb`).

pub(crate) mod backup;
mod log;
mod recent;
mod records;
mod sm;
mod snapshot;
pub(crate) mod tables;

pub(crate) use log::LogStore;
pub(crate) use sm::StateMachine;
pub(crate) use sm::StateStore;

use std::path::Path;

/// redb's page cache per file; the default (1 GiB) is far beyond what metadata needs.
const CACHE_BYTES: usize = 64 * 1024 * 1024;

/// Opens or creates a redb file. A newly created file's directory entry is fsynced, so a power
/// loss right after the first start cannot lose the file that holds an acknowledged write.
pub(crate) fn open_db(path: &Path) -> Result<redb::Database, std::io::Error> {
    let existed = path.exists();
    let db = redb::Database::builder().set_cache_size(CACHE_BYTES).create(path).map_err(std::io::Error::other)?;
    if !existed {
        if let Some(dir) = path.parent() {
            sync_dir(dir)?;
        }
    }
    Ok(db)
}

/// Runs blocking storage work (a redb commit, often an fsync) on the calling worker thread, with
/// tokio moving the worker's other tasks elsewhere: no hand-off to the blocking pool and back per
/// append or apply. On a current-thread runtime (tests) it simply runs.
pub(crate) fn in_place<T>(f: impl FnOnce() -> T) -> T {
    match tokio::runtime::Handle::try_current().map(|h| h.runtime_flavor()) {
        Ok(tokio::runtime::RuntimeFlavor::MultiThread) => tokio::task::block_in_place(f),
        _ => f(),
    }
}

/// fsyncs a directory so that entries created or renamed in it survive a power loss.
pub(crate) fn sync_dir(dir: &Path) -> Result<(), std::io::Error> {
    std::fs::File::open(dir)?.sync_all()
}

#[cfg(test)]
mod suite_test;
