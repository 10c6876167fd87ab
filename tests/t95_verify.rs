//! `metaraft verify` against a real `metaraft dev` cluster under faults: the real system must come
//! out with zero anomalies, and the same run with reads deliberately served from each node's local
//! state machine (`--reads stale`, no read index) must be caught.
//!
//! Partitions need root and iptables; `.ci/run` sets METARAFT_REQUIRE_PARTITION=1 where they work,
//! and then they are part of both runs.

mod common;

use std::path::Path;
use std::process::Child;
use std::time::Duration;

use common::binary;
use common::run_to_exit;
use common::spawn_logged;

/// A `metaraft dev` cluster, stopped (and healed) on drop.
struct Dev {
    child: Child,
    dir: tempfile::TempDir,
}

impl Dev {
    fn start(ip_per_node: bool) -> Dev {
        let dir = tempfile::tempdir().expect("temp dir");
        let base = three_free_ports();
        let mut args: Vec<String> = vec![
            "dev".into(),
            "--data-dir".into(),
            dir.path().display().to_string(),
            "--base-port".into(),
            base.to_string(),
        ];
        if ip_per_node {
            args.push("--ip-per-node".into());
        }
        args.extend(
            [
                "--token",
                common::TOKEN,
                "--",
                "--heartbeat-ms",
                common::HEARTBEAT_MS,
                "--election-timeout-ms",
                common::ELECTION_TIMEOUT_MS,
            ]
            .map(String::from),
        );
        let child = spawn_logged(&args, &dir.path().join("dev.out"));
        let members = dir.path().join("members");
        common::wait_until("dev writes its members file", common::START_TIMEOUT, || members.exists().then_some(()));
        Dev { child, dir }
    }

    fn path(&self) -> &Path {
        self.dir.path()
    }

    /// Runs `metaraft verify` on this cluster; returns whether it passed and what it printed.
    fn verify(&self, name: &str, extra: &[&str]) -> (bool, String) {
        let mut args: Vec<String> =
            ["verify", "--quiet", "--token", common::TOKEN, "--dev-dir"].map(String::from).to_vec();
        args.push(self.path().display().to_string());
        args.extend(extra.iter().map(|s| s.to_string()));
        let (status, out) = run_to_exit(&args, &self.path().join(format!("{name}.out")), Duration::from_secs(600));
        println!("---- verify {name}:\n{out}");
        (status.success(), out)
    }
}

impl Drop for Dev {
    fn drop(&mut self) {
        let dir = self.path().display().to_string();
        let _ = std::process::Command::new(binary()).args(["chaos", "--dev-dir", &dir, "heal"]).output();
        common::sigterm(&self.child);
        if common::wait_exit(&mut self.child, Duration::from_secs(20)).is_none() {
            let _ = self.child.kill();
        }
        if std::thread::panicking() {
            for id in 1..=3 {
                eprintln!("---- node {id}:\n{}", common::tail(&self.path().join(format!("node-{id}.log")), 40));
            }
        }
    }
}

/// A base port with the two ports above it free too.
fn three_free_ports() -> u16 {
    loop {
        let p = common::free_port();
        if (1..3).all(|i| std::net::TcpListener::bind(("127.0.0.1", p + i)).is_ok()) {
            return p;
        }
    }
}

fn faults(base: &str) -> String {
    if std::env::var("METARAFT_REQUIRE_PARTITION").is_ok_and(|v| v == "1") {
        format!("{base},partition")
    } else {
        base.to_string()
    }
}

#[test]
fn verify_finds_no_anomaly_under_faults_and_catches_injected_stale_reads() {
    let partitions = faults("").contains("partition");
    let dev = Dev::start(partitions);

    // The real system: kills, pauses (and partitions) of the leader and of random nodes.
    let nemesis = faults("kill,pause");
    let (ok, out) = dev.verify("real", &["--duration", "60s", "--clients", "8", "--nemesis", &nemesis]);
    assert!(ok, "verify found anomalies on the real system:\n{out}");
    assert!(out.contains("== result: 0 anomalies"), "{out}");
    for fault in nemesis.split(',') {
        assert!(out.contains(&format!("  {fault} node ")), "no {fault} event in the run:\n{out}");
    }

    // Reads from each node's own state machine: a node paused (or cut off) while writes go on
    // answers with old values once it runs again, and the checker must say so.
    let nemesis = faults("pause");
    let (ok, out) = dev.verify(
        "stale",
        &["--duration", "20s", "--clients", "8", "--nemesis", &nemesis, "--fault-every", "4s", "--reads", "stale"],
    );
    assert!(!ok, "verify missed the injected stale reads:\n{out}");
    assert!(out.contains("NOT linearizable"), "{out}");
    assert!(out.contains("minimal offending sub-history"), "{out}");
}
