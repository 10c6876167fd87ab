//! Membership changes on a live cluster under a steady write load: add a node (learner →
//! catch-up → voter), remove one, replace a failed one, refusals that protect the quorum, ids never
//! reused, and the longest write stall each change caused.

mod common;

use std::sync::atomic::AtomicBool;
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::sync::Mutex;
use std::time::Duration;
use std::time::Instant;

use common::Cluster;
use common::Resp;
use common::TOKEN;
use common::WAIT_TIMEOUT;
use serde_json::Value;

/// One acknowledged (or failed) write of the background writer.
struct Sample {
    start: Instant,
    latency: Duration,
    ok: bool,
}

/// Writes `create_instance` one after another to `base` until stopped.
struct Writer {
    stop: Arc<AtomicBool>,
    samples: Arc<Mutex<Vec<Sample>>>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl Writer {
    fn start(base: String) -> Writer {
        let stop = Arc::new(AtomicBool::new(false));
        let samples = Arc::new(Mutex::new(Vec::new()));
        let (s, out) = (stop.clone(), samples.clone());
        let thread = std::thread::spawn(move || {
            let http = common::http_client(Duration::from_secs(15));
            let mut n = 0u64;
            while !s.load(Ordering::Relaxed) {
                n += 1;
                let start = Instant::now();
                let ok = matches!(common::create_at(&http, &base, &format!("w-{n}"), "w"), Ok(r) if r.is_ok());
                out.lock().unwrap().push(Sample { start, latency: start.elapsed(), ok });
            }
        });
        Writer { stop, samples, thread: Some(thread) }
    }

    /// The longest write latency among writes that overlapped `[from, to]`, and failures there.
    fn worst_between(&self, from: Instant, to: Instant) -> (Duration, usize) {
        let samples = self.samples.lock().unwrap();
        let overlapping = samples.iter().filter(|s| s.start <= to && s.start + s.latency >= from);
        overlapping.fold((Duration::ZERO, 0), |(worst, failed), s| (worst.max(s.latency), failed + usize::from(!s.ok)))
    }

    fn finish(mut self) -> (usize, usize) {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(t) = self.thread.take() {
            t.join().unwrap();
        }
        let samples = self.samples.lock().unwrap();
        (samples.len(), samples.iter().filter(|s| !s.ok).count())
    }
}

fn nodes_path(query: &str) -> String {
    format!("/api/v1/nodes?token={TOKEN}{query}")
}

fn add_node(c: &Cluster, via: u64, id: u64, addr: &str) -> Resp {
    let body = format!(r#"{{"id": {id}, "addr": "{addr}"}}"#);
    c.request(via, "POST", &nodes_path(""), Some(&body)).expect("POST /api/v1/nodes")
}

fn remove_node(c: &Cluster, via: u64, id: u64) -> Resp {
    c.request(via, "DELETE", &nodes_path(&format!("&id={id}")), None).expect("DELETE /api/v1/nodes")
}

/// Voter ids in a member list.
fn voters(members: &Value) -> Vec<u64> {
    let list = members.as_array().unwrap_or_else(|| panic!("member list: {members}"));
    list.iter().filter(|m| m["role"] == "voter").map(|m| m["id"].as_u64().unwrap()).collect()
}

fn expect_error(r: &Resp, status: u16, code: &str, msg_part: &str, what: &str) {
    let v = r.json();
    assert_eq!(r.status, status, "{what}: {r:?}");
    assert_eq!(v["code"], code, "{what}: {v}");
    let msg = v["msg"].as_str().unwrap_or_default();
    assert!(msg.contains(msg_part), "{what}: message {msg:?} lacks {msg_part:?}");
}

/// Runs `f`, returning how long it took and the worst write it overlapped.
fn phase<T>(name: &str, writer: &Writer, f: impl FnOnce() -> T) -> T {
    let from = Instant::now();
    let out = f();
    let to = Instant::now();
    // Let writes that were in flight at the end finish before reading the window.
    std::thread::sleep(Duration::from_millis(300));
    let (worst, failed) = writer.worst_between(from, to);
    eprintln!(
        "membership phase {name:<28} took {:>6} ms; longest write {:>4} ms",
        to.duration_since(from).as_millis(),
        worst.as_millis()
    );
    assert_eq!(failed, 0, "{name}: writes failed during the change");
    assert!(worst < Duration::from_secs(1), "{name}: a write stalled for {worst:?}");
    out
}

#[test]
fn add_remove_replace_under_write_load() {
    // Small snapshots: nodes added later catch up from one, so the ids-ever-used record must
    // travel in snapshots too (checked at the end on a leader that joined late).
    let opts = common::Options { snapshot_threshold: Some(100), ..Default::default() };
    let mut c = Cluster::start_with("t25-membership", opts);
    let leader = c.leader();
    let followers = c.followers();
    let (f1, f2) = (followers[0], followers[1]);

    // The member list, on a follower (forwarded to the leader for its replication view).
    let r = c.request(f1, "GET", &nodes_path(""), None).expect("GET nodes");
    assert!(r.is_ok(), "{r:?}");
    let members = r.json()["result"].clone();
    assert_eq!(voters(&members), vec![1, 2, 3], "{members}");
    let lead: Vec<&Value> = members.as_array().unwrap().iter().filter(|m| m["leader"] == true).collect();
    assert_eq!(lead.len(), 1, "{members}");
    assert_eq!(lead[0]["id"].as_u64(), Some(leader), "{members}");
    for m in members.as_array().unwrap() {
        assert!(m["matched_index"].as_u64().is_some(), "{m}");
        assert!(m["addr"].as_str().unwrap().starts_with("127.0.0.1:"), "{m}");
    }
    let r = c.request(f2, "GET", &nodes_path(&format!("&id={f1}")), None).expect("GET one node");
    assert!(r.is_ok(), "{r:?}");
    assert_eq!(r.json()["result"]["id"].as_u64(), Some(f1));
    assert_eq!(r.json()["result"]["role"], "voter");

    // Bad requests: a clear 4xx, nothing changed.
    let r = c.request(f1, "GET", "/api/v1/nodes", None).expect("no token");
    assert_eq!(r.status, 403, "membership needs the token: {r:?}");
    expect_error(&remove_node(&c, f1, 9), 404, "NOT_FOUND", "node 9 is not a member", "remove unknown");
    let r = c.request(f1, "POST", &nodes_path(""), Some(r#"{"addr": "127.0.0.1:1"}"#)).unwrap();
    expect_error(&r, 400, "INVALID_ARGUMENT", "\"id\"", "add without id");
    expect_error(&add_node(&c, f1, 7, "nohost"), 400, "INVALID_ARGUMENT", "host:port", "add with bad addr");
    expect_error(&add_node(&c, f1, f2, "127.0.0.1:1"), 409, "ALREADY_EXISTED", "already a voter", "add a voter");
    let r = c.request(f1, "POST", &format!("/api/v1/leader?token={TOKEN}&to={f1}"), None).unwrap();
    expect_error(&r, 501, "NOT_IMPLEMENTED", "openraft 0.9", "leader transfer");

    for i in 0..50 {
        c.create_ok(leader, &format!("before-{i}"));
    }
    let writer = Writer::start(c.base(leader));

    // Add node 4 through a follower: learner, catch-up, promotion, all in one call.
    let addr4 = c.spawn_new(4);
    let r = phase("add node 4", &writer, || add_node(&c, f1, 4, &addr4));
    assert!(r.is_ok(), "add node 4: {r:?}");
    assert_eq!(voters(&r.json()["result"]), vec![1, 2, 3, 4]);
    common::wait_until("node 4 serves the data written before it joined", WAIT_TIMEOUT, || {
        c.has_instance(4, "before-49", true).then_some(())
    });

    // Remove a follower through the new node; its id can never come back.
    let r = phase(&format!("remove node {f2}"), &writer, || remove_node(&c, 4, f2));
    assert!(r.is_ok(), "remove {f2}: {r:?}");
    c.terminate(f2);
    let mut expected: Vec<u64> = vec![leader, f1, 4];
    expected.sort_unstable();
    assert_eq!(voters(&r.json()["result"]), expected);
    expect_error(&add_node(&c, leader, f2, "127.0.0.1:1"), 409, "ALREADY_EXISTED", "never reused", "re-add id");

    // Node f1 fails: removing a healthy voter now would leave no up-to-date quorum — refused.
    c.kill(f1);
    common::wait_until("leader sees node f1 as gone", WAIT_TIMEOUT, || {
        let r = c.request(leader, "GET", &nodes_path(&format!("&id={f1}")), None).ok()?;
        (r.json()["result"]["last_contact_ms"].as_u64()? > 1_000).then_some(())
    });
    expect_error(&remove_node(&c, leader, 4), 409, "FAILED_PRECONDITION", "a quorum needs 2", "remove healthy voter");

    // Replace the failed node: remove it, add node 5.
    let r = phase(&format!("remove failed node {f1}"), &writer, || remove_node(&c, 4, f1));
    assert!(r.is_ok(), "remove failed {f1}: {r:?}");
    let addr5 = c.spawn_new(5);
    let r = phase("add node 5", &writer, || add_node(&c, leader, 5, &addr5));
    assert!(r.is_ok(), "add node 5: {r:?}");
    let mut expected: Vec<u64> = vec![leader, 4, 5];
    expected.sort_unstable();
    assert_eq!(voters(&r.json()["result"]), expected);
    let applied = c.status(5).and_then(|s| s["last_applied"].as_u64()).unwrap_or(0);
    let appended = c.stat(5, "log_entries_appended").unwrap_or(u64::MAX);
    assert!(appended + 100 < applied, "node 5 joined from a snapshot: appended {appended}, applied {applied}");

    let (writes, failed) = writer.finish();
    eprintln!("membership: {writes} writes during the changes, {failed} failed");
    assert!(writes > 50, "the writer made progress: {writes}");

    // Remove the leader itself: it steps down once the change commits; the others go on.
    let r = remove_node(&c, 4, leader);
    assert!(r.is_ok(), "remove leader {leader}: {r:?}");
    c.terminate(leader);
    let new_leader = c.leader();
    assert!([4, 5].contains(&new_leader), "new leader {new_leader}");
    c.create_ok(5, "after-leader-removal");
    assert!(c.has_instance(4, "w-1", false) && c.has_instance(5, "before-0", false));
    let r = c.request(4, "GET", &nodes_path(""), None).unwrap();
    assert_eq!(voters(&r.json()["result"]), vec![4, 5], "{r:?}");
    for old in [leader, f1, f2] {
        let r = add_node(&c, new_leader, old, "127.0.0.1:1");
        expect_error(&r, 409, "ALREADY_EXISTED", "never reused", &format!("re-add {old} on late joiner {new_leader}"));
    }
}
