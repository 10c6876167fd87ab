//! Failover: SIGKILL the leader while clients write through the followers. A new leader is elected,
//! writes succeed again, and every write acknowledged before (or during) the failover survives.
//! Prints the failover time: the kill → the first acknowledged write sent after the kill.

mod common;

use std::sync::atomic::AtomicBool;
use std::sync::atomic::AtomicUsize;
use std::sync::atomic::Ordering;
use std::sync::OnceLock;
use std::time::Duration;
use std::time::Instant;

use common::Cluster;
use common::WAIT_TIMEOUT;

/// What one writer thread saw.
#[derive(Default)]
struct WriterLog {
    /// Answered 200 OK: must be readable afterwards.
    acked: Vec<String>,
    /// Transport error, timeout or 5xx: may or may not have been applied.
    ambiguous: Vec<(String, String)>,
    /// Any other answer to a fresh id (`ALREADY_EXISTED` would mean a retried or duplicated command).
    wrong: Vec<(String, String)>,
    /// Time from the kill to this writer's first acknowledged write sent after the kill.
    failover: Option<Duration>,
}

#[test]
fn leader_kill_elects_new_leader_and_keeps_acknowledged_writes() {
    let mut c = Cluster::start("t20-failover");
    let old_leader = c.leader();
    let old_term = c.status(old_leader).expect("status")["term"].as_u64().expect("term");
    let survivors = c.followers();
    assert_eq!(survivors.len(), 2);

    let stop = AtomicBool::new(false);
    let acked_total = AtomicUsize::new(0);
    let killed_at: OnceLock<Instant> = OnceLock::new();
    let first_ack_after_kill: OnceLock<Duration> = OnceLock::new();
    let bases: Vec<String> = survivors.iter().map(|&id| c.base(id)).collect();

    let logs: Vec<WriterLog> = std::thread::scope(|s| {
        let writers: Vec<_> = bases
            .iter()
            .enumerate()
            .map(|(w, base)| {
                let (stop, acked_total, killed_at, first) = (&stop, &acked_total, &killed_at, &first_ack_after_kill);
                s.spawn(move || {
                    // Short timeout: a request stuck on the dead leader must not hide the recovery.
                    let http = common::http_client(Duration::from_secs(2));
                    let mut log = WriterLog::default();
                    let mut i = 0;
                    while !stop.load(Ordering::Relaxed) {
                        let id = format!("fo-w{w}-{i}");
                        i += 1;
                        let sent = Instant::now();
                        match common::create_at(&http, base, &id, "n") {
                            Ok(r) if r.is_ok() => {
                                if let Some(&k) = killed_at.get() {
                                    if sent >= k && log.failover.is_none() {
                                        let d = k.elapsed();
                                        log.failover = Some(d);
                                        let _ = first.set(d);
                                    }
                                }
                                log.acked.push(id);
                                acked_total.fetch_add(1, Ordering::Relaxed);
                            }
                            Ok(r) if r.status >= 500 => log.ambiguous.push((id, format!("{} {}", r.status, r.body))),
                            Ok(r) => log.wrong.push((id, format!("{} {}", r.status, r.body))),
                            Err(e) => log.ambiguous.push((id, e)),
                        }
                    }
                    log
                })
            })
            .collect();

        common::wait_until("20 acknowledged writes before the kill", WAIT_TIMEOUT, || {
            (acked_total.load(Ordering::Relaxed) >= 20).then_some(())
        });
        c.kill(old_leader);
        killed_at.set(Instant::now()).expect("kill time set once");
        eprintln!("killed leader {old_leader} (term {old_term})");

        let waited = common::wait_until("an acknowledged write after the kill", WAIT_TIMEOUT, || {
            first_ack_after_kill.get().copied()
        });
        // Let writes run on the new leader for a moment (by count, not by sleeping).
        let target = acked_total.load(Ordering::Relaxed) + 20;
        common::wait_until("20 more writes on the new leader", WAIT_TIMEOUT, || {
            (acked_total.load(Ordering::Relaxed) >= target).then_some(())
        });
        stop.store(true, Ordering::Relaxed);
        eprintln!("failover (kill → first acknowledged write): {} ms", waited.as_millis());
        writers.into_iter().map(|w| w.join().expect("writer thread")).collect()
    });

    let new_leader = c.leader();
    let new_term = c.status(new_leader).expect("status")["term"].as_u64().expect("term");
    assert_ne!(new_leader, old_leader, "the killed node cannot be the leader");
    assert!(new_term > old_term, "term must grow: {old_term} → {new_term}");

    for (w, log) in logs.iter().enumerate() {
        assert!(log.wrong.is_empty(), "writer {w}: fresh ids got non-OK, non-5xx answers: {:?}", log.wrong);
        eprintln!(
            "writer {w}: {} acknowledged, {} ambiguous, failover seen {:?}; ambiguous sample: {:?}",
            log.acked.len(),
            log.ambiguous.len(),
            log.failover,
            log.ambiguous.first()
        );
    }
    // Every acknowledged write is on every survivor (linearizable reads on both).
    let mut checked = 0;
    for log in &logs {
        for id in &log.acked {
            for &node in &survivors {
                assert!(c.has_instance(node, id, false), "acknowledged write {id} missing on node {node}");
            }
            checked += 1;
        }
    }
    eprintln!(
        "verified {checked} acknowledged writes on nodes {survivors:?}; new leader {new_leader} (term {new_term})"
    );
    let failover = *first_ack_after_kill.get().expect("failover measured");
    assert!(failover < Duration::from_secs(10), "failover took {failover:?}");
}
