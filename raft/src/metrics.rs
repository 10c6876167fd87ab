//! Prometheus metrics of the consensus layer: gauges read from openraft's metrics at scrape time,
//! our counters, and the storage / batching histograms of [`crate::stats::Histograms`].

use std::sync::atomic::Ordering::Relaxed;
use std::sync::Weak;

use prometheus_client::collector::Collector;
use prometheus_client::encoding::DescriptorEncoder;
use prometheus_client::encoding::EncodeMetric;
use prometheus_client::metrics::counter::ConstCounter;
use prometheus_client::metrics::gauge::ConstGauge;
use prometheus_client::registry::Registry;

use crate::node::NodeInner;
use crate::stats::Stats;

/// Registers every raft metric of `node` under `metaraft_raft_*`.
pub(crate) fn register(registry: &mut Registry, node: Weak<NodeInner>, stats: &Stats) {
    let raft = registry.sub_registry_with_prefix("metaraft_raft");
    let h = &stats.hist;
    raft.register("log_append_seconds", "One log append: encode, commit, fsync", h.log_append_seconds.clone());
    raft.register("entries_per_append", "Log entries written per append", h.entries_per_append.clone());
    raft.register(
        "commands_per_entry",
        "Client commands per proposed entry (group commit)",
        h.commands_per_entry.clone(),
    );
    raft.register("reads_per_round", "Linearizable reads served per read-index round", h.reads_per_round.clone());
    raft.register("apply_seconds", "Applying one batch of committed entries", h.apply_seconds.clone());
    raft.register("snapshot_build_seconds", "Building a snapshot image", h.snapshot_build_seconds.clone());
    raft.register(
        "snapshot_install_seconds",
        "Installing a snapshot from the leader",
        h.snapshot_install_seconds.clone(),
    );
    raft.register("snapshot_bytes", "Size of snapshot images built or installed", h.snapshot_bytes.clone());
    raft.register_collector(Box::new(NodeCollector { node }));
}

/// Reads the node's state on every scrape; a stopped node exports nothing.
#[derive(Debug)]
struct NodeCollector {
    node: Weak<NodeInner>,
}

fn gauge(enc: &mut DescriptorEncoder, name: &str, help: &str, v: i64) -> Result<(), std::fmt::Error> {
    let g = ConstGauge::new(v);
    g.encode(enc.encode_descriptor(name, help, None, g.metric_type())?)
}

fn counter(enc: &mut DescriptorEncoder, name: &str, help: &str, v: u64) -> Result<(), std::fmt::Error> {
    let c = ConstCounter::new(v);
    c.encode(enc.encode_descriptor(name, help, None, c.metric_type())?)
}

fn signed(v: Option<u64>) -> i64 {
    v.map_or(-1, |v| i64::try_from(v).unwrap_or(i64::MAX))
}

impl Collector for NodeCollector {
    fn encode(&self, mut enc: DescriptorEncoder) -> Result<(), std::fmt::Error> {
        let Some(node) = self.node.upgrade() else { return Ok(()) };
        let status = node.status();
        let is_leader = status.leader_id == Some(status.node_id);
        let e = &mut enc;
        gauge(e, "term", "Current term", signed(Some(status.term)))?;
        gauge(e, "is_leader", "1 on the leader", i64::from(is_leader))?;
        gauge(e, "has_leader", "1 when this node knows a leader", i64::from(status.leader_id.is_some()))?;
        gauge(e, "last_log_index", "Last log index on this node (-1: none)", signed(status.last_log_index))?;
        gauge(e, "committed_index", "Highest index known committed (-1: none)", signed(status.committed))?;
        gauge(e, "applied_index", "Highest index applied (-1: none)", signed(status.last_applied))?;
        let lag = status.committed.unwrap_or(0).saturating_sub(status.last_applied.unwrap_or(0));
        gauge(e, "apply_lag", "Entries committed but not yet applied here", signed(Some(lag)))?;
        gauge(e, "snapshot_index", "Index covered by the current snapshot (-1: none)", signed(status.snapshot_index))?;
        gauge(e, "voters", "Voting members", signed(Some(status.voters.len() as u64)))?;
        gauge(e, "learners", "Learners", signed(Some(status.learners.len() as u64)))?;
        gauge(
            e,
            "failure_tolerance",
            "Voters that can be lost while a quorum remains",
            signed(Some(status.failure_tolerance)),
        )?;
        let s = &node.stats;
        counter(e, "leader_changes", "Times the known leader changed", s.leader_changes.load(Relaxed))?;
        counter(e, "log_appends", "fsynced log appends", s.log_appends.load(Relaxed))?;
        counter(e, "log_entries_appended", "Log entries written", s.log_entries_appended.load(Relaxed))?;
        counter(e, "log_reads_cached", "Log reads served from memory", s.log_reads_cached.load(Relaxed))?;
        counter(e, "log_reads_file", "Log reads served from the log file", s.log_reads_file.load(Relaxed))?;
        counter(e, "entries_proposed", "Log entries proposed as leader", s.entries_proposed.load(Relaxed))?;
        counter(e, "commands_proposed", "Client commands proposed as leader", s.commands_proposed.load(Relaxed))?;
        counter(e, "read_rounds", "Read-index rounds", s.read_rounds.load(Relaxed))?;
        counter(e, "reads_served", "Linearizable reads served", s.reads_served.load(Relaxed))?;
        counter(e, "forwarded_writes", "Writes forwarded to the leader", s.forwarded_writes.load(Relaxed))?;
        Ok(())
    }
}

/// Counts leader changes as this node sees them (a new leader id, or losing the leader), and
/// notes when the leader was lost for `/readyz`.
pub(crate) async fn watch_leader(node: Weak<NodeInner>) {
    let Some(mut rx) = node.upgrade().map(|n| n.raft.metrics()) else { return };
    let mut last = rx.borrow_and_update().current_leader;
    while rx.changed().await.is_ok() {
        let (now, term) = {
            let m = rx.borrow_and_update();
            (m.current_leader, m.current_term)
        };
        if now != last {
            last = now;
            let Some(n) = node.upgrade() else { return };
            n.stats.leader_changes.fetch_add(1, Relaxed);
            n.stats.note_leader_change(term, now);
            if now.is_none() {
                n.stats.note_leader_lost();
            }
        }
    }
}
