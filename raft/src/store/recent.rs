//! The newest log entries, kept in memory so that replication and apply do not read back and
//! decode what `append` has just written: on the leader every entry is otherwise read three times
//! (once per follower's replication stream, once by apply in openraft's core task).
//!
//! Invariant: the cache holds a contiguous run of entries ending at the log's last entry, equal to
//! what the log file holds at those indices. Every `append`, `truncate` and `purge` updates it
//! after the file, so a reader never sees an entry the file has not durably stored.

use std::collections::VecDeque;
use std::ops::Bound;
use std::sync::Mutex;

use openraft::EntryPayload;
use openraft::RaftLogId;

use crate::types::Entry;
use crate::types::Request;

/// At most this many entries are kept (a few seconds of group-committed writes).
const MAX_ENTRIES: usize = 4096;
/// And at most about this many payload bytes.
const MAX_BYTES: usize = 32 * 1024 * 1024;

#[derive(Default)]
pub(crate) struct RecentEntries {
    inner: Mutex<Window>,
}

#[derive(Default)]
struct Window {
    entries: VecDeque<Entry>,
    bytes: usize,
}

fn size_of(e: &Entry) -> usize {
    match &e.payload {
        EntryPayload::Normal(batch) => batch.0.iter().map(Request::len).sum::<usize>().saturating_add(64),
        _ => 64,
    }
}

impl Window {
    fn first_index(&self) -> Option<u64> {
        self.entries.front().map(|e| e.get_log_id().index)
    }
    fn last_index(&self) -> Option<u64> {
        self.entries.back().map(|e| e.get_log_id().index)
    }
    fn clear(&mut self) {
        self.entries.clear();
        self.bytes = 0;
    }
    /// Drops entries at `index` and after.
    fn truncate(&mut self, index: u64) {
        while self.last_index().is_some_and(|last| last >= index) {
            if let Some(e) = self.entries.pop_back() {
                self.bytes -= size_of(&e);
            }
        }
    }
    /// Drops entries up to and including `index`.
    fn purge(&mut self, index: u64) {
        while self.first_index().is_some_and(|first| first <= index) {
            if let Some(e) = self.entries.pop_front() {
                self.bytes -= size_of(&e);
            }
        }
    }
}

impl RecentEntries {
    fn window(&self) -> std::sync::MutexGuard<'_, Window> {
        // A panic while holding the lock can only leave a consistent window (each step is
        // complete), so a poisoned lock is still usable.
        self.inner.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Records entries just stored durably (contiguous, ascending).
    pub fn appended(&self, entries: &[Entry]) {
        let Some(first) = entries.first().map(|e| e.get_log_id().index) else {
            return;
        };
        let mut w = self.window();
        // Entries replacing cached ones drop those and all after (the file's later entries were
        // truncated before); a gap means the window no longer ends at the log's last entry.
        w.truncate(first);
        if w.last_index().is_some_and(|last| last + 1 != first) {
            w.clear();
        }
        for e in entries {
            w.bytes += size_of(e);
            w.entries.push_back(e.clone());
        }
        while w.entries.len() > MAX_ENTRIES || (w.bytes > MAX_BYTES && w.entries.len() > 1) {
            if let Some(e) = w.entries.pop_front() {
                w.bytes -= size_of(&e);
            }
        }
    }

    /// Records a truncation of the log at `index` and after.
    pub fn truncated(&self, index: u64) {
        self.window().truncate(index);
    }

    /// Records a purge of the log up to and including `index`.
    pub fn purged(&self, index: u64) {
        self.window().purge(index);
    }

    /// The log's entries in `(start, end)`, if the window holds the range's start; `None` means
    /// ask the file.
    pub fn get(&self, start: Bound<u64>, end: Bound<u64>) -> Option<Vec<Entry>> {
        let w = self.window();
        let first = w.first_index()?;
        let from = match start {
            Bound::Included(s) => s,
            Bound::Excluded(s) => s.checked_add(1)?,
            Bound::Unbounded => return None,
        };
        if from < first {
            return None;
        }
        let to = match end {
            Bound::Included(e) => e.saturating_add(1),
            Bound::Excluded(e) => e,
            Bound::Unbounded => u64::MAX,
        };
        let skip = usize::try_from(from - first).ok()?;
        let take = usize::try_from(to.saturating_sub(from)).unwrap_or(usize::MAX);
        let got: Vec<Entry> = w.entries.iter().skip(skip).take(take).cloned().collect();
        // Nothing found: let the file answer, so a broken invariant can never hide entries.
        (!got.is_empty()).then_some(got)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::types::Batch;
    use openraft::CommittedLeaderId;
    use openraft::LogId;

    fn entry(index: u64, term: u64) -> Entry {
        Entry {
            log_id: LogId::new(CommittedLeaderId::new(term, 1), index),
            payload: EntryPayload::Normal(Batch(vec![Request::App(vec![index as u8].into())])),
        }
    }
    fn indices(v: Option<Vec<Entry>>) -> Option<Vec<(u64, u64)>> {
        v.map(|v| v.iter().map(|e| (e.log_id.index, e.log_id.leader_id.term)).collect())
    }

    #[test]
    fn serves_ranges_inside_the_window_and_defers_the_rest() {
        let r = RecentEntries::default();
        assert_eq!(indices(r.get(Bound::Included(1), Bound::Unbounded)), None, "empty window");
        r.appended(&(5..=9).map(|i| entry(i, 1)).collect::<Vec<_>>());
        assert_eq!(indices(r.get(Bound::Included(4), Bound::Excluded(7))), None, "starts before the window");
        let got = indices(r.get(Bound::Included(6), Bound::Excluded(8))).unwrap();
        assert_eq!(got, vec![(6, 1), (7, 1)]);
        let got = indices(r.get(Bound::Included(8), Bound::Unbounded)).unwrap();
        assert_eq!(got, vec![(8, 1), (9, 1)]);
        assert_eq!(indices(r.get(Bound::Included(12), Bound::Excluded(20))), None, "past the window's end");

        // A conflicting append after a truncation replaces the tail.
        r.truncated(8);
        r.appended(&[entry(8, 2)]);
        assert_eq!(indices(r.get(Bound::Included(7), Bound::Unbounded)).unwrap(), vec![(7, 1), (8, 2)]);
        // A gap (appends after an installed snapshot) restarts the window.
        r.appended(&[entry(20, 3)]);
        assert_eq!(indices(r.get(Bound::Included(8), Bound::Unbounded)), None);
        assert_eq!(indices(r.get(Bound::Included(20), Bound::Unbounded)).unwrap(), vec![(20, 3)]);
        r.purged(20);
        assert_eq!(indices(r.get(Bound::Included(21), Bound::Unbounded)), None, "purged to empty");
    }

    #[test]
    fn stays_within_its_entry_bound() {
        let r = RecentEntries::default();
        for i in 1..=(MAX_ENTRIES as u64 + 10) {
            r.appended(&[entry(i, 1)]);
        }
        assert_eq!(indices(r.get(Bound::Included(10), Bound::Unbounded)), None);
        let got = r.get(Bound::Included(11), Bound::Unbounded).unwrap();
        assert_eq!(got.len(), MAX_ENTRIES);
    }
}
