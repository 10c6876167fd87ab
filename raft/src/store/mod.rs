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

/// How long a piece of storage work may hold its worker thread.
#[derive(Clone, Copy)]
pub(crate) enum Cost {
    /// One group-commit batch (a commit, often an fsync: about a millisecond): run it right on
    /// the worker. Any hand-off costs more: measured at 64 clients, running it inline instead of
    /// `block_in_place` took create_instance from ~7.1k to ~9.0k/s (medians of six A/B pairs).
    /// While it runs, tokio's other workers steal the blocked worker's queued tasks.
    Short,
    /// A catch-up batch, a truncation or a purge (can take tens of ms): `block_in_place`, so
    /// tokio moves the worker's other tasks elsewhere first.
    Long,
}

impl Cost {
    /// Entries up to which an append or apply counts as [`Cost::Short`]; under load the leader
    /// appends one entry (of ~20 commands) at a time and a follower 1–2.
    pub(crate) fn of_entries(n: usize) -> Cost {
        if n <= 4 {
            Cost::Short
        } else {
            Cost::Long
        }
    }
}

/// Runs blocking storage work (a redb commit) on the calling worker thread: no hand-off to the
/// blocking pool and back per append or apply. On a current-thread runtime (tests) it simply runs.
pub(crate) fn in_place<T>(cost: Cost, f: impl FnOnce() -> T) -> T {
    match (tokio::runtime::Handle::try_current().map(|h| h.runtime_flavor()), cost) {
        (Ok(tokio::runtime::RuntimeFlavor::MultiThread), Cost::Long) => tokio::task::block_in_place(f),
        _ => f(),
    }
}

/// fsyncs a directory so that entries created or renamed in it survive a power loss.
pub(crate) fn sync_dir(dir: &Path) -> Result<(), std::io::Error> {
    std::fs::File::open(dir)?.sync_all()
}

#[cfg(test)]
mod suite_test;
