//! Counters shared by storage, batcher and network; shown under `stats` in the cluster status.

use std::sync::atomic::AtomicU64;
use std::sync::atomic::Ordering::Relaxed;
use std::time::Instant;

use prometheus_client::metrics::histogram::exponential_buckets;
use prometheus_client::metrics::histogram::Histogram;
use serde::Deserialize;
use serde::Serialize;

/// How many leader changes the status keeps.
pub(crate) const RECENT_LEADERS: usize = 20;

/// Live counters of one node.
#[derive(Debug)]
pub(crate) struct Stats {
    /// Histograms exported on `/metrics` (see `crate::metrics`).
    pub hist: Histograms,
    /// Times a different leader (or none) became known to this node.
    pub leader_changes: AtomicU64,
    /// Milliseconds since `started` at which this node last lost (or never had) a leader.
    pub leaderless_since_ms: AtomicU64,
    /// The last [`RECENT_LEADERS`] leader changes, oldest first.
    pub recent_leaders: std::sync::Mutex<std::collections::VecDeque<crate::status::LeaderChange>>,
    started: Instant,
    pub log_appends: AtomicU64,
    pub log_entries_appended: AtomicU64,
    /// Log reads (replication, apply) answered from the in-memory window / from the file.
    pub log_reads_cached: AtomicU64,
    pub log_reads_file: AtomicU64,
    pub entries_proposed: AtomicU64,
    pub commands_proposed: AtomicU64,
    pub read_rounds: AtomicU64,
    pub reads_served: AtomicU64,
    pub forwarded_writes: AtomicU64,
    /// Commit index as last told to this node's log store (`u64::MAX` = none yet).
    pub committed_index: AtomicU64,
    /// Milliseconds since `started` at which the last append-entries from a leader arrived.
    pub last_leader_contact_ms: AtomicU64,
}

impl Default for Stats {
    fn default() -> Self {
        Stats {
            hist: Histograms::default(),
            leader_changes: AtomicU64::new(0),
            leaderless_since_ms: AtomicU64::new(0),
            recent_leaders: std::sync::Mutex::new(std::collections::VecDeque::new()),
            started: Instant::now(),
            log_appends: AtomicU64::new(0),
            log_entries_appended: AtomicU64::new(0),
            log_reads_cached: AtomicU64::new(0),
            log_reads_file: AtomicU64::new(0),
            entries_proposed: AtomicU64::new(0),
            commands_proposed: AtomicU64::new(0),
            read_rounds: AtomicU64::new(0),
            reads_served: AtomicU64::new(0),
            forwarded_writes: AtomicU64::new(0),
            committed_index: AtomicU64::new(u64::MAX),
            last_leader_contact_ms: AtomicU64::new(u64::MAX),
        }
    }
}

impl Stats {
    pub fn committed(&self) -> Option<u64> {
        match self.committed_index.load(Relaxed) {
            u64::MAX => None,
            i => Some(i),
        }
    }

    fn now_ms(&self) -> u64 {
        u64::try_from(self.started.elapsed().as_millis()).unwrap_or(u64::MAX - 1)
    }

    /// Remembers a leader change for the status page.
    pub fn note_leader_change(&self, term: u64, leader: Option<u64>) {
        let at_unix_ms = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX));
        if let Ok(mut recent) = self.recent_leaders.lock() {
            if recent.len() == RECENT_LEADERS {
                recent.pop_front();
            }
            recent.push_back(crate::status::LeaderChange { at_unix_ms, term, leader });
        }
    }

    pub fn recent_leaders(&self) -> Vec<crate::status::LeaderChange> {
        self.recent_leaders.lock().map(|r| r.iter().cloned().collect()).unwrap_or_default()
    }

    /// Records that no leader is known from now on.
    pub fn note_leader_lost(&self) {
        self.leaderless_since_ms.store(self.now_ms(), Relaxed);
    }

    /// How long this node has been without a leader (meaningful only while it has none).
    pub fn leaderless_for_ms(&self) -> u64 {
        self.now_ms().saturating_sub(self.leaderless_since_ms.load(Relaxed))
    }

    pub fn note_leader_contact(&self) {
        let ms = u64::try_from(self.started.elapsed().as_millis()).unwrap_or(u64::MAX - 1);
        self.last_leader_contact_ms.store(ms, Relaxed);
    }

    /// Milliseconds since the last append-entries from a leader, if any arrived.
    pub fn since_leader_contact_ms(&self) -> Option<u64> {
        match self.last_leader_contact_ms.load(Relaxed) {
            u64::MAX => None,
            at => Some(u64::try_from(self.started.elapsed().as_millis()).unwrap_or(u64::MAX).saturating_sub(at)),
        }
    }

    pub fn snapshot(&self) -> StatsSnapshot {
        StatsSnapshot {
            log_appends: self.log_appends.load(Relaxed),
            log_entries_appended: self.log_entries_appended.load(Relaxed),
            entries_proposed: self.entries_proposed.load(Relaxed),
            commands_proposed: self.commands_proposed.load(Relaxed),
            read_rounds: self.read_rounds.load(Relaxed),
            reads_served: self.reads_served.load(Relaxed),
            forwarded_writes: self.forwarded_writes.load(Relaxed),
        }
    }
}

/// Distributions of storage, batching and read work.
#[derive(Debug, Clone)]
pub(crate) struct Histograms {
    /// One log append: encode, redb commit, fsync.
    pub log_append_seconds: Histogram,
    /// Entries per log append.
    pub entries_per_append: Histogram,
    /// Client commands per proposed entry (the group-commit batch).
    pub commands_per_entry: Histogram,
    /// Reads served per read-index round.
    pub reads_per_round: Histogram,
    /// Applying one batch of committed entries.
    pub apply_seconds: Histogram,
    /// Building a snapshot image.
    pub snapshot_build_seconds: Histogram,
    /// Installing a snapshot received from the leader.
    pub snapshot_install_seconds: Histogram,
    /// Size of snapshot images built or installed.
    pub snapshot_bytes: Histogram,
}

impl Default for Histograms {
    fn default() -> Self {
        let seconds = || Histogram::new(exponential_buckets(0.000_05, 2.0, 18)); // 50 µs … 6.5 s
        let counts = || Histogram::new(exponential_buckets(1.0, 2.0, 13)); // 1 … 4096
        Histograms {
            log_append_seconds: seconds(),
            entries_per_append: counts(),
            commands_per_entry: counts(),
            reads_per_round: counts(),
            apply_seconds: seconds(),
            snapshot_build_seconds: seconds(),
            snapshot_install_seconds: seconds(),
            snapshot_bytes: Histogram::new(exponential_buckets(1024.0, 4.0, 12)), // 1 KiB … 4 GiB
        }
    }
}

/// Cumulative counters since the node started.
#[derive(Debug, Clone, Default, Serialize, Deserialize, utoipa::ToSchema)]
pub struct StatsSnapshot {
    /// fsynced log appends (one redb commit each).
    pub log_appends: u64,
    /// Log entries written by those appends.
    pub log_entries_appended: u64,
    /// Log entries this node proposed as leader (group-commit batches).
    pub entries_proposed: u64,
    /// Client commands inside those entries.
    pub commands_proposed: u64,
    /// Read-index rounds (one quorum heartbeat or one leader RPC each).
    pub read_rounds: u64,
    /// Linearizable reads served by those rounds.
    pub reads_served: u64,
    /// Writes this node forwarded to the leader.
    pub forwarded_writes: u64,
}
