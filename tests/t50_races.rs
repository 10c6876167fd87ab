//! Races: state-dependent checks run inside apply, so two nodes racing to create the same instance
//! yield exactly one OK and one `ALREADY_EXISTED`; concurrent distinct writes all succeed (and are
//! group-committed).

mod common;

use std::sync::Barrier;

use common::Cluster;

#[test]
fn duplicate_create_racing_on_two_nodes_has_one_winner() {
    let c = Cluster::start("t50-dup");
    let bases: Vec<String> = (1..=3).map(|id| c.base(id)).collect();
    let http = common::http_client(std::time::Duration::from_secs(10));
    for round in 0..20_usize {
        let inst = format!("dup-{round}");
        let (a, b) = (round % 3, (round + 1) % 3);
        let barrier = Barrier::new(2);
        let results: Vec<(usize, common::Resp)> = std::thread::scope(|s| {
            let handles: Vec<_> = [a, b]
                .into_iter()
                .map(|n| {
                    let (barrier, http, base, inst) = (&barrier, &http, &bases[n], &inst);
                    s.spawn(move || {
                        barrier.wait();
                        let r = common::create_at(http, base, inst, &format!("from-node-{}", n + 1));
                        (n, r.unwrap_or_else(|e| panic!("create {inst} on node {}: {e}", n + 1)))
                    })
                })
                .collect();
            handles.into_iter().map(|h| h.join().expect("racer")).collect()
        });
        let oks: Vec<_> = results.iter().filter(|(_, r)| r.is_ok()).collect();
        let dups: Vec<_> =
            results.iter().filter(|(_, r)| r.status == 409 && r.code().as_deref() == Some("ALREADY_EXISTED")).collect();
        assert!(oks.len() == 1 && dups.len() == 1, "round {round} ({inst}): want one OK and one 409, got {results:?}");
        let msg = dups[0].1.json()["msg"].as_str().unwrap_or_default().to_string();
        assert_eq!(msg, format!("instance already existed, instance_id={inst}, err=Ok"), "{:?}", dups[0]);
        // The stored record is the winner's, on every node.
        let winner = format!("from-node-{}", oks[0].0 + 1);
        for id in 1..=3 {
            let r = c.get_instance(id, &inst, false).expect("get_instance");
            assert!(r.is_ok(), "{r:?}");
            assert_eq!(r.json()["result"]["name"], winner.as_str(), "node {id} stores the loser's record of {inst}");
        }
    }
}

#[test]
fn concurrent_distinct_creates_all_succeed() {
    const THREADS: usize = 6;
    const PER_THREAD: usize = 25;
    let c = Cluster::start("t50-concurrent");
    let leader = c.leader();
    let before = c.status(leader).expect("status")["stats"].clone();
    let bases: Vec<String> = (1..=3).map(|id| c.base(id)).collect();
    let failures: Vec<String> = std::thread::scope(|s| {
        let handles: Vec<_> = (0..THREADS)
            .map(|t| {
                let base = &bases[t % 3];
                s.spawn(move || {
                    let http = common::http_client(std::time::Duration::from_secs(10));
                    (0..PER_THREAD)
                        .filter_map(|i| {
                            let inst = format!("cc-{t}-{i}");
                            match common::create_at(&http, base, &inst, "n") {
                                Ok(r) if r.is_ok() => None,
                                other => Some(format!("{inst}: {other:?}")),
                            }
                        })
                        .collect::<Vec<_>>()
                })
            })
            .collect();
        handles.into_iter().flat_map(|h| h.join().expect("writer")).collect()
    });
    assert!(failures.is_empty(), "{} creates failed: {:?}", failures.len(), &failures[..failures.len().min(5)]);
    for id in 1..=3 {
        for t in 0..THREADS {
            for i in 0..PER_THREAD {
                let inst = format!("cc-{t}-{i}");
                assert!(c.has_instance(id, &inst, false), "{inst} missing on node {id}");
            }
        }
    }
    // Group commit bookkeeping on the proposer (the leader; followers forward to it).
    assert_eq!(c.leader(), leader, "leader changed during the test; counters are per node");
    let after = c.status(leader).expect("status")["stats"].clone();
    let delta = |k: &str| after[k].as_u64().expect(k) - before[k].as_u64().expect(k);
    let (commands, entries, appends, appended) =
        (delta("commands_proposed"), delta("entries_proposed"), delta("log_appends"), delta("log_entries_appended"));
    eprintln!(
        "leader {leader}: {commands} commands in {entries} entries ({:.2}/entry); {appended} entries in {appends} appends",
        f64::from(u32::try_from(commands).unwrap_or(u32::MAX)) / f64::from(u32::try_from(entries.max(1)).unwrap_or(1))
    );
    let total = (THREADS * PER_THREAD) as u64;
    assert!(commands >= total, "the leader proposed {commands} commands for {total} creates");
    assert!(entries >= 1 && entries <= commands, "entries {entries} vs commands {commands}");
    assert!(appends >= 1 && appended >= entries, "appends {appends}, appended {appended}, entries {entries}");
}
