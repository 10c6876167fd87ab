//! Backup and restore, end to end: data written to one cluster, backed up with `metaraft ctl
//! backup` while writes go on, restored with `metaraft restore` into three fresh data dirs, a new
//! cluster started on them — every record equal on every member. Damaged backups and non-empty
//! targets are refused.

mod common;

use std::path::Path;
use std::sync::atomic::AtomicBool;
use std::sync::atomic::AtomicU64;
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::Duration;

use common::Cluster;
use common::Options;
use common::TOKEN;

fn run(args: &[String], log: &Path) -> (bool, String) {
    let (status, out) = common::run_to_exit(args, log, Duration::from_secs(120));
    (status.success(), out)
}

const GET_CLUSTER: &str = r#"{"cloud_unique_id":"1:bk-7:x","cluster_id":"c1"}"#;

fn s(v: &str) -> String {
    v.to_string()
}

#[test]
fn backup_restore_round_trip() {
    let a = Cluster::start("t27-source");
    let leader = a.leader();
    let n = 300;
    for i in 0..n {
        a.create_ok(leader, &format!("bk-{i}"));
    }
    let r = a.api(leader, "add_cluster", "", Some(r#"{"instance_id":"bk-7","cluster":{"cluster_id":"c1","cluster_name":"c1","type":"COMPUTE","nodes":[]}}"#)).unwrap();
    assert!(r.is_ok(), "add_cluster: {r:?}");

    // Writes keep going (and succeeding) while the backup streams.
    let stop = Arc::new(AtomicBool::new(false));
    let written = Arc::new(AtomicU64::new(0));
    let writer = {
        let (stop, written, base) = (stop.clone(), written.clone(), a.base(leader));
        std::thread::spawn(move || {
            let http = common::http_client(Duration::from_secs(10));
            let mut i = 0;
            while !stop.load(Ordering::Relaxed) {
                i += 1;
                let r = common::create_at(&http, &base, &format!("during-{i}"), "d").expect("write during backup");
                assert!(r.is_ok(), "write during backup: {r:?}");
                written.fetch_add(1, Ordering::Relaxed);
            }
        })
    };
    let file = a.dir.path().join("cluster.backup");
    let urls = format!("http://127.0.0.1:1,{}", a.base(a.followers()[0]));
    let (ok, out) = run(
        &[s("ctl"), s("--url"), urls, s("--token"), s(TOKEN), s("backup"), s("--out"), file.display().to_string()],
        &a.dir.path().join("backup.log"),
    );
    assert!(ok, "ctl backup: {out}");
    assert!(out.contains("records"), "{out}");
    let first_backup = out.clone();
    stop.store(true, Ordering::Relaxed);
    writer.join().unwrap();
    eprintln!("{} writes succeeded while the backup ran; {}", written.load(Ordering::Relaxed), out.trim());

    // Restore into three fresh dirs of a new cluster.
    let target = tempfile::tempdir().unwrap();
    let dirs: Vec<_> = (1..=3).map(|i| target.path().join(format!("n{i}"))).collect();
    let peers = "1=127.0.0.1:1,2=127.0.0.1:2,3=127.0.0.1:3"; // ids matter here; serve gets the real ones
    for (i, dir) in dirs.iter().enumerate() {
        let args = [
            s("restore"),
            s("--from"),
            file.display().to_string(),
            s("--data-dir"),
            dir.display().to_string(),
            s("--node-id"),
            (i + 1).to_string(),
            s("--peers"),
            s(peers),
        ];
        let (ok, out) = run(&args, &target.path().join("restore.log"));
        assert!(ok, "restore node {}: {out}", i + 1);
        // Never over existing data.
        if i == 0 {
            let (ok, out) = run(&args, &target.path().join("restore-again.log"));
            assert!(!ok && out.contains("empty data directory"), "second restore into the same dir: {out}");
        }
    }
    // A damaged file is refused and leaves nothing behind.
    let mut bytes = std::fs::read(&file).unwrap();
    let mid = bytes.len() / 2;
    bytes[mid] ^= 0x01;
    let bad = target.path().join("bad.backup");
    std::fs::write(&bad, bytes).unwrap();
    let bad_dir = target.path().join("bad");
    let (ok, out) = run(
        &[
            s("restore"),
            s("--from"),
            bad.display().to_string(),
            s("--data-dir"),
            bad_dir.display().to_string(),
            s("--node-id"),
            s("1"),
            s("--peers"),
            s(peers),
        ],
        &target.path().join("restore-bad.log"),
    );
    assert!(!ok && out.contains("not a valid backup"), "damaged backup: {out}");
    assert!(!bad_dir.join("state.redb").exists());

    let b = Cluster::start_with("t27-restored", Options { data_dirs: dirs, ..Options::default() });
    let b_leader = b.leader();
    for id in 1..=3 {
        for i in (0..n).step_by(7).chain([n - 1]) {
            let iid = format!("bk-{i}");
            let (ra, rb) = (a.get_instance(leader, &iid, false).unwrap(), b.get_instance(id, &iid, false).unwrap());
            assert!(rb.is_ok(), "{iid} on restored node {id}: {rb:?}");
            assert_eq!(ra.json()["result"], rb.json()["result"], "{iid} differs on restored node {id}");
        }
        let (ra, rb) = (
            a.api(leader, "get_cluster", "", Some(GET_CLUSTER)).unwrap(),
            b.api(id, "get_cluster", "", Some(GET_CLUSTER)).unwrap(),
        );
        assert!(rb.is_ok(), "{rb:?}");
        assert_eq!(ra.json()["result"], rb.json()["result"]);
    }
    // Every record equal: the backup of the restored cluster holds exactly the same records.
    let again = b.dir.path().join("again.backup");
    let (ok, out2) = run(
        &[
            s("ctl"),
            s("--url"),
            b.base(b_leader),
            s("--token"),
            s(TOKEN),
            s("backup"),
            s("--out"),
            again.display().to_string(),
        ],
        &b.dir.path().join("backup2.log"),
    );
    assert!(ok, "{out2}");
    let records = |out: &str| out.split_whitespace().skip_while(|w| !w.ends_with(':')).nth(1).map(str::to_string);
    assert_eq!(records(&first_backup), records(&out2), "record counts: {first_backup} / {out2}");
    // The restored cluster is a new cluster that takes writes.
    b.create_ok(b_leader, "after-restore");
    assert_ne!(a.status(leader).unwrap()["cluster_id"], b.status(b_leader).unwrap()["cluster_id"]);
}
