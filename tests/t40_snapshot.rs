//! Snapshots: with `--snapshot-threshold 50`, a node that was down while 300 entries were written
//! comes back and catches up by installing the leader's snapshot, not by replaying the log.

mod common;

use std::time::Instant;

use common::Cluster;
use common::Options;
use common::START_TIMEOUT;
use common::WAIT_TIMEOUT;

const THRESHOLD: u64 = 50;
const WRITES_WHILE_DOWN: usize = 300;

#[test]
fn lagging_node_catches_up_by_snapshot() {
    let opts = Options { snapshot_threshold: Some(THRESHOLD), ..Options::default() };
    let mut c = Cluster::start_with("t40-snapshot", opts);
    let leader = c.leader();
    let down = c.followers()[0];
    c.create_ok(leader, "early");

    c.kill(down);
    // Sequential writes: group commit would pack concurrent ones into a few entries.
    let started = Instant::now();
    let ids: Vec<String> = (0..WRITES_WHILE_DOWN).map(|i| format!("snap-{i}")).collect();
    for inst in &ids {
        c.create_ok(leader, inst);
    }
    eprintln!("{WRITES_WHILE_DOWN} sequential writes in {} ms", started.elapsed().as_millis());

    // The leader has built a snapshot covering most of those entries.
    let leader_status = c.status(leader).expect("leader status");
    let committed = leader_status["committed"].as_u64().expect("committed");
    let snap = common::wait_until("a snapshot on the leader", WAIT_TIMEOUT, || {
        let s = c.status(leader)?;
        let idx = s["snapshot_index"].as_u64()?;
        (idx + THRESHOLD * 2 >= committed).then_some(idx)
    });
    eprintln!("leader {leader}: committed {committed}, snapshot_index {snap}");

    c.restart(down);
    c.wait_ready(START_TIMEOUT);
    c.wait_applied(down, committed, WAIT_TIMEOUT);
    let s = c.status(down).expect("status of the restarted node");
    eprintln!("restarted node {down}: {s}");

    // It has all the data...
    assert!(c.has_instance(down, "early", true), "early write missing on node {down}");
    for inst in &ids {
        assert!(c.has_instance(down, inst, true), "{inst} missing on node {down} (stale read)");
    }
    // ...and got most of it from a snapshot: it appended far fewer log entries since the restart
    // than were written while it was down, and its snapshot plus those entries cover the whole log.
    // (The snapshot it receives may be an older one of the leader's, e.g. 249 of 299, followed by
    // the entries after it: the leader keeps `THRESHOLD` entries behind its newest snapshot.)
    let node_snap = s["snapshot_index"].as_u64().unwrap_or_else(|| panic!("node {down} has no snapshot: {s}"));
    let appended = s["stats"]["log_entries_appended"].as_u64().expect("stats.log_entries_appended");
    assert!(
        node_snap + appended >= committed,
        "node {down}: snapshot {node_snap} + {appended} appended entries do not reach the commit index {committed}"
    );
    assert!(
        appended < WRITES_WHILE_DOWN as u64 / 2,
        "node {down} appended {appended} log entries after restart for {WRITES_WHILE_DOWN} writes: it replayed the log \
         instead of installing a snapshot (is the leader keeping its log after snapshots?) {s}"
    );
}
