//! The Raft log on `raft-log.redb`: vote, entries, committed and purged ids.
//!
//! Durability contract: `save_vote`, `append` and `truncate` each commit one redb transaction with
//! `Durability::Immediate` (one fsync) before returning or calling back; vote and log share the
//! file so their writes stay ordered. `purge` may be lost on power failure (the entries are
//! already applied durably) and the committed index is not persisted at all.

use std::fmt::Debug;
use std::ops::Bound;
use std::ops::RangeBounds;
use std::sync::atomic::Ordering::Relaxed;
use std::sync::Arc;

use openraft::storage::LogFlushed;
use openraft::storage::LogState;
use openraft::storage::RaftLogStorage;
use openraft::ErrorSubject;
use openraft::ErrorVerb;
use openraft::OptionalSend;
use openraft::RaftLogId;
use openraft::RaftLogReader;
use redb::Durability;
use redb::ReadableDatabase;
use redb::ReadableTable;

use super::recent::RecentEntries;
use super::tables::KEY_LAST_PURGED;
use super::tables::KEY_VOTE;
use super::tables::LOGS;
use super::tables::LOG_META;
use super::StateStore;
use crate::codec;
use crate::stats::Stats;
use crate::types::Entry;
use crate::types::LogId;
use crate::types::StorageError;
use crate::types::StorageIOError;
use crate::types::TypeConfig;
use crate::types::Vote;

/// Log storage; clones share the same file.
#[derive(Clone)]
pub(crate) struct LogStore {
    db: Arc<redb::Database>,
    stats: Arc<Stats>,
    /// When set, purges never go past the state machine's durable `last_applied`.
    purge_floor: Option<Arc<StateStore>>,
    /// The newest entries, served to replication and apply without a read of the file.
    recent: Arc<RecentEntries>,
}

fn err(subject: ErrorSubject<u64>, verb: ErrorVerb, e: impl ToString) -> StorageError {
    StorageIOError::new(subject, verb, openraft::AnyError::error(e.to_string())).into()
}
fn logs_err(verb: ErrorVerb, e: impl ToString) -> StorageError {
    err(ErrorSubject::Logs, verb, e)
}

impl LogStore {
    /// Opens the log. With `purge_floor`, a purge is clamped to what the state machine has durably
    /// applied: openraft 0.9 purges right after queueing a snapshot install, without waiting for
    /// it, and a crash in between must not leave the log purged past the state machine.
    pub fn open(
        db: Arc<redb::Database>,
        stats: Arc<Stats>,
        purge_floor: Option<Arc<StateStore>>,
    ) -> Result<Self, StorageError> {
        let tx = db.begin_write().map_err(|e| logs_err(ErrorVerb::Write, e))?;
        tx.open_table(LOGS).map_err(|e| logs_err(ErrorVerb::Write, e))?;
        tx.open_table(LOG_META).map_err(|e| logs_err(ErrorVerb::Write, e))?;
        tx.commit().map_err(|e| logs_err(ErrorVerb::Write, e))?;
        Ok(LogStore { db, stats, purge_floor, recent: Arc::default() })
    }

    /// True when nothing was ever written: no vote and no entries.
    pub fn is_pristine(&self) -> Result<bool, StorageError> {
        let tx = self.db.begin_read().map_err(|e| logs_err(ErrorVerb::Read, e))?;
        let logs = tx.open_table(LOGS).map_err(|e| logs_err(ErrorVerb::Read, e))?;
        let empty = logs.first().map_err(|e| logs_err(ErrorVerb::Read, e))?.is_none();
        Ok(empty && self.read_meta::<Vote>(KEY_VOTE)?.is_none() && self.read_meta::<LogId>(KEY_LAST_PURGED)?.is_none())
    }

    fn read_meta<T: serde::de::DeserializeOwned + codec::Tagged>(&self, key: &str) -> Result<Option<T>, StorageError> {
        let tx = self.db.begin_read().map_err(|e| logs_err(ErrorVerb::Read, e))?;
        let table = tx.open_table(LOG_META).map_err(|e| logs_err(ErrorVerb::Read, e))?;
        let Some(v) = table.get(key).map_err(|e| logs_err(ErrorVerb::Read, e))? else {
            return Ok(None);
        };
        let value = codec::decode_tagged(v.value()).map_err(|e| logs_err(ErrorVerb::Read, e))?;
        Ok(Some(value))
    }

    /// Runs `f` in a write transaction (see [`super::in_place`]) and commits with the given durability.
    async fn write<F>(
        &self,
        cost: super::Cost,
        durability: Durability,
        verb_subject: ErrorSubject<u64>,
        f: F,
    ) -> Result<(), StorageError>
    where
        F: FnOnce(&redb::WriteTransaction) -> Result<(), String> + Send + 'static,
    {
        let db = &self.db;
        super::in_place(cost, move || -> Result<(), String> {
            let mut tx = db.begin_write().map_err(|e| e.to_string())?;
            tx.set_durability(durability).map_err(|e| e.to_string())?;
            f(&tx)?;
            tx.commit().map_err(|e| e.to_string())
        })
        .map_err(|e| err(verb_subject, ErrorVerb::Write, e))
    }
}

fn put_meta<T: serde::Serialize + codec::Tagged>(tx: &redb::WriteTransaction, key: &str, v: &T) -> Result<(), String> {
    let bytes = codec::encode_tagged(v).map_err(|e| e.to_string())?;
    let mut t = tx.open_table(LOG_META).map_err(|e| e.to_string())?;
    t.insert(key, bytes.as_slice()).map_err(|e| e.to_string())?;
    Ok(())
}

impl RaftLogReader<TypeConfig> for LogStore {
    async fn try_get_log_entries<RB: RangeBounds<u64> + Clone + Debug + OptionalSend>(
        &mut self,
        range: RB,
    ) -> Result<Vec<Entry>, StorageError> {
        let start = match range.start_bound() {
            Bound::Included(s) => Bound::Included(*s),
            Bound::Excluded(s) => Bound::Excluded(*s),
            Bound::Unbounded => Bound::Unbounded,
        };
        let end = match range.end_bound() {
            Bound::Included(s) => Bound::Included(*s),
            Bound::Excluded(s) => Bound::Excluded(*s),
            Bound::Unbounded => Bound::Unbounded,
        };
        if let Some(entries) = self.recent.get(start, end) {
            self.stats.log_reads_cached.fetch_add(1, Relaxed);
            return Ok(entries);
        }
        self.stats.log_reads_file.fetch_add(1, Relaxed);
        let tx = self.db.begin_read().map_err(|e| logs_err(ErrorVerb::Read, e))?;
        let logs = tx.open_table(LOGS).map_err(|e| logs_err(ErrorVerb::Read, e))?;
        let mut out = Vec::new();
        for item in logs.range::<u64>((start, end)).map_err(|e| logs_err(ErrorVerb::Read, e))? {
            let (_, v) = item.map_err(|e| logs_err(ErrorVerb::Read, e))?;
            out.push(codec::decode_tagged::<Entry>(v.value()).map_err(|e| logs_err(ErrorVerb::Read, e))?);
        }
        Ok(out)
    }
}

impl RaftLogStorage<TypeConfig> for LogStore {
    type LogReader = Self;

    async fn get_log_state(&mut self) -> Result<LogState<TypeConfig>, StorageError> {
        let last_purged_log_id = self.read_meta::<LogId>(KEY_LAST_PURGED)?;
        let tx = self.db.begin_read().map_err(|e| logs_err(ErrorVerb::Read, e))?;
        let logs = tx.open_table(LOGS).map_err(|e| logs_err(ErrorVerb::Read, e))?;
        let last = match logs.last().map_err(|e| logs_err(ErrorVerb::Read, e))? {
            Some((_, v)) => {
                let entry: Entry = codec::decode_tagged(v.value()).map_err(|e| logs_err(ErrorVerb::Read, e))?;
                Some(*entry.get_log_id())
            }
            None => last_purged_log_id,
        };
        Ok(LogState { last_purged_log_id, last_log_id: last })
    }

    async fn get_log_reader(&mut self) -> Self::LogReader {
        self.clone()
    }

    async fn save_vote(&mut self, vote: &Vote) -> Result<(), StorageError> {
        let vote = *vote;
        self.write(super::Cost::Short, Durability::Immediate, ErrorSubject::Vote, move |tx| {
            put_meta(tx, KEY_VOTE, &vote)
        })
        .await
    }

    async fn read_vote(&mut self) -> Result<Option<Vote>, StorageError> {
        self.read_meta(KEY_VOTE)
    }

    async fn save_committed(&mut self, committed: Option<LogId>) -> Result<(), StorageError> {
        // Kept in memory only: persisting it would cost a redb commit per heartbeat. After a
        // restart the state machine re-applies from its fsynced point once the leader's commit
        // index arrives, and reads wait for that.
        if let Some(c) = committed {
            self.stats.committed_index.store(c.index, Relaxed);
        }
        Ok(())
    }

    async fn append<I>(&mut self, entries: I, callback: LogFlushed<TypeConfig>) -> Result<(), StorageError>
    where
        I: IntoIterator<Item = Entry> + OptionalSend,
    {
        let started = std::time::Instant::now();
        let entries: Vec<Entry> = entries.into_iter().collect();
        let mut encoded = Vec::with_capacity(entries.len());
        for e in &entries {
            let bytes = codec::encode_tagged(e).map_err(|e| logs_err(ErrorVerb::Write, e))?;
            encoded.push((e.get_log_id().index, bytes));
        }
        let n = encoded.len() as u64;
        let cost = super::Cost::of_entries(encoded.len());
        self.write(cost, Durability::Immediate, ErrorSubject::Logs, move |tx| {
            let mut logs = tx.open_table(LOGS).map_err(|e| e.to_string())?;
            for (index, bytes) in &encoded {
                logs.insert(*index, bytes.as_slice()).map_err(|e| e.to_string())?;
            }
            Ok(())
        })
        .await?;
        self.recent.appended(&entries);
        self.stats.log_appends.fetch_add(1, Relaxed);
        self.stats.log_entries_appended.fetch_add(n, Relaxed);
        self.stats.hist.entries_per_append.observe(n as f64);
        self.stats.hist.log_append_seconds.observe(started.elapsed().as_secs_f64());
        // Only now is the data on disk: acknowledging earlier is how openraft users lose writes.
        callback.log_io_completed(Ok(()));
        Ok(())
    }

    async fn truncate(&mut self, log_id: LogId) -> Result<(), StorageError> {
        self.write(super::Cost::Long, Durability::Immediate, ErrorSubject::Logs, move |tx| {
            let mut logs = tx.open_table(LOGS).map_err(|e| e.to_string())?;
            logs.retain_in(log_id.index.., |_, _| false).map_err(|e| e.to_string())?;
            Ok(())
        })
        .await?;
        self.recent.truncated(log_id.index);
        Ok(())
    }

    async fn purge(&mut self, log_id: LogId) -> Result<(), StorageError> {
        // Purging less than asked is always safe: openraft never reads below its own purge point.
        let log_id = match &self.purge_floor {
            Some(sm) => match sm.durable_last_applied()? {
                Some(applied) if applied.index < log_id.index => applied,
                Some(_) => log_id,
                None => return Ok(()),
            },
            None => log_id,
        };
        // The purged id is written in the same transaction as the deletion, so the log state
        // seen after a crash is always consistent (an un-fsynced purge simply did not happen).
        self.write(super::Cost::Long, Durability::None, ErrorSubject::Logs, move |tx| {
            put_meta(tx, KEY_LAST_PURGED, &log_id)?;
            let mut logs = tx.open_table(LOGS).map_err(|e| e.to_string())?;
            logs.retain_in(..=log_id.index, |_, _| false).map_err(|e| e.to_string())?;
            Ok(())
        })
        .await?;
        self.recent.purged(log_id.index);
        Ok(())
    }
}
