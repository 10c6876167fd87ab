//! Replication: a write accepted by any node is readable from every node, with the Doris envelope.

mod common;

use common::Cluster;
use common::WAIT_TIMEOUT;
use serde_json::json;

#[test]
fn create_on_follower_is_readable_on_every_node() {
    let c = Cluster::start("t10-follower-write");
    let leader = c.leader();
    let follower = c.followers()[0];

    for id in 1..=3 {
        let r = c.request(id, "GET", "/healthz", None).expect("healthz");
        assert_eq!(r.status, 200, "healthz of node {id}: {r:?}");
    }

    // Write through a follower: forwarded to the leader, answered with the exact Doris envelope.
    let r = c.create_instance(follower, "inst-f1", "name-f1").expect("create via follower");
    assert_eq!(r.status, 200, "{r:?}");
    assert_eq!(r.body, "{\n    \"code\": \"OK\",\n    \"msg\": \"\"\n}\n", "create_instance reply envelope");

    // Linearizable by default: readable right away from every node, leader included.
    for id in 1..=3 {
        let r = c.get_instance(id, "inst-f1", false).expect("get_instance");
        assert_eq!(r.status, 200, "get_instance on node {id} (leader {leader}): {r:?}");
        let v = r.json();
        assert_eq!(v["code"], "OK", "node {id}: {v}");
        assert_eq!(v["msg"], "", "node {id}: {v}");
        let inst = &v["result"];
        assert_eq!(inst["instance_id"], "inst-f1", "node {id}: {v}");
        assert_eq!(inst["name"], "name-f1", "node {id}: {v}");
        assert_eq!(inst["user_id"], "u1", "node {id}: {v}");
        assert_eq!(inst["status"], "NORMAL", "node {id}: {v}");
    }

    // The other entry points: the leader itself, and the `v1/` prefix on the other follower.
    c.create_ok(leader, "inst-l1");
    let other = c.followers()[1];
    let r = c.api(other, "v1/create_instance", "", Some(&common::instance_body("inst-v1", "n"))).expect("v1 create");
    assert_eq!(r.json(), json!({"code": "OK", "msg": ""}), "{r:?}");
    for id in 1..=3 {
        for inst in ["inst-l1", "inst-v1"] {
            assert!(c.has_instance(id, inst, false), "{inst} not readable on node {id}");
        }
        let r = c.api(id, "v1/get_instance", "instance_id=inst-l1", None).expect("v1 get");
        assert!(r.is_ok(), "v1/get_instance on node {id}: {r:?}");
    }

    // Stale reads converge too (they may lag for a moment, so poll).
    for id in 1..=3 {
        common::wait_until(&format!("stale read of inst-v1 on node {id}"), WAIT_TIMEOUT, || {
            c.has_instance(id, "inst-v1", true).then_some(())
        });
    }

    // Every node reports the same three voters and the same leader.
    for id in 1..=3 {
        let s = c.status(id).expect("status");
        assert_eq!(s["node_id"], id, "{s}");
        assert_eq!(s["leader_id"], leader, "{s}");
        assert_eq!(s["voters"], json!([1, 2, 3]), "{s}");
        assert_eq!(s["failure_tolerance"], 1, "{s}");
        assert_eq!(s["nodes"].as_object().map(serde_json::Map::len), Some(3), "{s}");
        assert_eq!(s["nodes"]["1"], c.addr(1), "{s}");
    }
}

#[test]
fn status_reports_a_consistent_cluster_view() {
    let c = Cluster::start("t10-status");
    let leader = c.leader();
    c.create_ok(leader, "s-1");
    let s = c.status(leader).expect("leader status");
    assert_eq!(s["state"], "Leader", "{s}");
    let committed = s["committed"].as_u64().expect("committed index");
    let applied = s["last_applied"].as_u64().expect("last_applied");
    let last_log = s["last_log_index"].as_u64().expect("last_log_index");
    assert!(
        applied <= committed && committed <= last_log,
        "applied {applied} ≤ committed {committed} ≤ last log {last_log}: {s}"
    );
    assert!(s["term"].as_u64().expect("term") >= 1, "{s}");
    for name in ["log_appends", "log_entries_appended", "entries_proposed", "commands_proposed"] {
        assert!(s["stats"][name].as_u64().is_some(), "stats.{name} missing: {s}");
    }
    assert!(s["stats"]["commands_proposed"].as_u64() >= Some(1), "the leader proposed our command: {s}");
    for id in c.followers() {
        c.wait_applied(id, applied, WAIT_TIMEOUT);
        let f = c.status(id).expect("follower status");
        assert_eq!(f["state"], "Follower", "{f}");
        // Readiness trails the commit index by a moment (entries keep arriving): poll it.
        common::wait_until(&format!("follower {id} ready"), WAIT_TIMEOUT, || c.is_ready(id).then_some(()));
    }
}
