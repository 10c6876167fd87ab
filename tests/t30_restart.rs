//! Restarts: a killed node catches up when it comes back; the whole cluster restarted on the same
//! data dirs (after SIGTERM or after SIGKILL) keeps every acknowledged write.

mod common;

use std::time::Instant;

use common::Cluster;
use common::START_TIMEOUT;
use common::WAIT_TIMEOUT;

/// Every id must be readable from node `id` (linearizable).
fn assert_all_readable(c: &Cluster, id: u64, ids: &[String]) {
    for inst in ids {
        assert!(c.has_instance(id, inst, false), "{inst} not readable on node {id}");
    }
}

/// Node `id` has caught up on `ids` (in write order): stale reads see the last one, then all.
fn wait_caught_up_stale(c: &Cluster, id: u64, ids: &[String]) {
    let last = ids.last().expect("some ids");
    let started = Instant::now();
    common::wait_until(&format!("node {id} to apply {last} (stale read)"), WAIT_TIMEOUT, || {
        c.has_instance(id, last, true).then_some(())
    });
    eprintln!("node {id} caught up in {} ms after restart", started.elapsed().as_millis());
    for inst in ids {
        assert!(c.has_instance(id, inst, true), "{inst} missing from node {id} (stale) though {last} is there");
    }
}

#[test]
fn killed_follower_restarts_and_catches_up() {
    let mut c = Cluster::start("t30-follower");
    let leader = c.leader();
    let down = c.followers()[0];
    let up = c.followers()[1];
    let mut ids: Vec<String> = (0..5).map(|i| format!("before-{i}")).collect();
    for inst in &ids {
        c.create_ok(leader, inst);
    }

    c.kill(down);
    for i in 0..30 {
        let inst = format!("while-down-{i}");
        c.create_ok(if i % 2 == 0 { leader } else { up }, &inst);
        ids.push(inst);
    }
    let committed = c.status(leader).expect("status")["committed"].as_u64().expect("committed");

    c.restart(down);
    c.wait_ready(START_TIMEOUT);
    c.wait_applied(down, committed, WAIT_TIMEOUT);
    wait_caught_up_stale(&c, down, &ids);
    assert_all_readable(&c, down, &ids);
    let now = c.leader();
    if now != leader {
        // Not a safety violation, but worth knowing: the restart caused an election.
        eprintln!("note: leadership moved from {leader} to {now} when node {down} restarted");
    }
}

#[test]
fn killed_leader_restarts_as_follower_and_catches_up() {
    let mut c = Cluster::start("t30-leader");
    let old = c.leader();
    let mut ids: Vec<String> = (0..5).map(|i| format!("before-{i}")).collect();
    for inst in &ids {
        c.create_ok(old, inst);
    }

    c.kill(old);
    let new = c.leader();
    assert_ne!(new, old);
    for i in 0..30 {
        let inst = format!("while-down-{i}");
        c.create_ok(new, &inst);
        ids.push(inst);
    }

    c.restart(old);
    c.wait_ready(START_TIMEOUT);
    wait_caught_up_stale(&c, old, &ids);
    assert_all_readable(&c, old, &ids);
    let now = c.leader();
    if now != new {
        eprintln!("note: leadership moved from {new} to {now} when node {old} restarted");
    }
}

/// Writes `n` instances spread over all nodes, restarts the whole cluster with `stop`, checks them.
fn whole_cluster_restart(name: &str, stop: impl Fn(&mut Cluster, u64)) {
    let mut c = Cluster::start(name);
    let ids: Vec<String> = (0..24).map(|i| format!("{name}-{i}")).collect();
    for (i, inst) in ids.iter().enumerate() {
        c.create_ok(1 + (i as u64 % 3), inst);
    }
    for id in 1..=3 {
        stop(&mut c, id);
    }
    assert!(c.running().is_empty());
    let started = Instant::now();
    for id in 1..=3 {
        c.restart(id);
    }
    c.wait_ready(START_TIMEOUT);
    eprintln!("[{name}] cluster ready {} ms after restart", started.elapsed().as_millis());
    for id in 1..=3 {
        assert_all_readable(&c, id, &ids);
    }
    // And it still takes writes.
    c.create_ok(c.followers()[0], &format!("{name}-after"));
    for id in 1..=3 {
        assert!(c.has_instance(id, &format!("{name}-after"), false));
    }
}

#[test]
fn whole_cluster_sigterm_restart_keeps_data() {
    whole_cluster_restart("t30-sigterm", |c, id| {
        let status = c.terminate(id);
        assert!(status.success(), "node {id} must exit 0 on SIGTERM, got {status}");
    });
}

#[test]
fn whole_cluster_sigkill_restart_keeps_data() {
    whole_cluster_restart("t30-sigkill", Cluster::kill);
}
