//! `GET /metrics` on a live cluster: Prometheus text whose numbers follow what the cluster did.

mod common;

use common::Cluster;

/// The value of the sample line `name` (exact, labels included) in Prometheus text.
fn sample(text: &str, name: &str) -> Option<f64> {
    text.lines().filter(|l| !l.starts_with('#')).find_map(|l| {
        let (key, value) = l.rsplit_once(' ')?;
        (key == name).then(|| value.parse().ok()).flatten()
    })
}

fn scrape(c: &Cluster, id: u64) -> String {
    let r = c.request(id, "GET", "/metrics", None).expect("GET /metrics");
    assert_eq!(r.status, 200, "{r:?}");
    r.body
}

#[test]
fn metrics_follow_the_cluster() {
    let mut c = Cluster::start("t26-metrics");
    let leader = c.leader();
    let follower = c.followers()[0];
    let before = scrape(&c, leader);
    let proposed_before = sample(&before, "metaraft_raft_commands_proposed_total").expect("commands counter");

    for i in 0..20 {
        c.create_ok(follower, &format!("m-{i}"));
    }
    assert!(c.has_instance(follower, "m-19", false));

    let l = scrape(&c, leader);
    let f = scrape(&c, follower);
    assert_eq!(sample(&l, "metaraft_raft_is_leader"), Some(1.0), "{l}");
    assert_eq!(sample(&f, "metaraft_raft_is_leader"), Some(0.0), "{f}");
    assert_eq!(sample(&f, "metaraft_raft_voters"), Some(3.0));
    assert_eq!(sample(&l, "metaraft_raft_failure_tolerance"), Some(1.0));
    let term = sample(&l, "metaraft_raft_term").expect("term");
    assert!(term >= 1.0 && sample(&f, "metaraft_raft_term") == Some(term), "terms agree");
    assert!(sample(&l, "metaraft_raft_commands_proposed_total").unwrap() >= proposed_before + 20.0, "{l}");
    assert!(sample(&f, "metaraft_raft_forwarded_writes_total").unwrap() >= 20.0, "{f}");
    assert!(sample(&l, "metaraft_raft_leader_changes_total").unwrap() >= 1.0);
    assert!(sample(&l, "metaraft_raft_log_append_seconds_count").unwrap() >= 20.0, "fsync histogram");
    assert!(sample(&f, "metaraft_raft_applied_index").unwrap() >= 20.0);
    assert!(sample(&f, "metaraft_raft_reads_per_round_count").unwrap() >= 1.0, "the linearizable read");
    // HTTP requests by matched route and status, where they were received.
    let route = "/MetaService/http/create_instance";
    let count = sample(&f, &format!("metaraft_http_requests_total{{route=\"{route}\",code=\"200\"}}"));
    assert_eq!(count, Some(20.0), "{f}");
    assert!(sample(&f, &format!("metaraft_http_request_seconds_count{{route=\"{route}\"}}")).unwrap() >= 20.0);

    // A bad request is counted under its status; an unknown path is not a label (no cardinality blow-up).
    let r = c.api(follower, "get_instance", "instance_id=nope", None).unwrap();
    assert!(r.status >= 400, "{r:?}");
    let _ = c.api(follower, "no_such_route_xyz", "", None).unwrap();
    let f = scrape(&c, follower);
    let route = "/MetaService/http/get_instance";
    assert!(
        sample(&f, &format!("metaraft_http_requests_total{{route=\"{route}\",code=\"{}\"}}", r.status)).is_some(),
        "{f}"
    );
    assert!(!f.contains("no_such_route_xyz"));

    // Cut the survivor off (leader and the other follower killed): `/readyz` says why, with how
    // long, and the metrics say there is no leader.
    let other = c.followers().into_iter().find(|&id| id != follower).expect("second follower");
    c.kill(leader);
    c.kill(other);
    let reason = common::wait_until("readyz names the missing leader", common::WAIT_TIMEOUT, || {
        let r = c.request(follower, "GET", "/readyz", None).ok()?;
        (r.status == 503 && r.body.starts_with("no leader for ")).then_some(r.body)
    });
    let secs: f64 =
        reason.trim_end().trim_start_matches("no leader for ").trim_end_matches(" s").parse().expect("seconds");
    assert!((0.0..30.0).contains(&secs), "{reason:?}");
    std::thread::sleep(std::time::Duration::from_millis(1200));
    let r = c.request(follower, "GET", "/readyz", None).unwrap();
    let later: f64 =
        r.body.trim_end().trim_start_matches("no leader for ").trim_end_matches(" s").parse().expect("seconds");
    assert!(later >= secs + 1.0, "the leaderless time grows: {secs} then {later}");
    assert_eq!(sample(&scrape(&c, follower), "metaraft_raft_has_leader"), Some(0.0));
}
