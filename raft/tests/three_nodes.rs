//! Three in-process nodes over real loopback sockets and real redb files: replication, forwarding,
//! linearizable reads on followers, group commit, and leader loss.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;
use std::time::Instant;

use metaraft_raft::Application;
use metaraft_raft::Consistency;
use metaraft_raft::KvError;
use metaraft_raft::KvWrite;
use metaraft_raft::NodeConfig;
use metaraft_raft::NodeState;
use metaraft_raft::RaftNode;

/// `key=value` sets; replies with the previous value (so replies prove apply order).
struct Register;
impl Application for Register {
    fn apply(&self, kv: &mut KvWrite<'_, '_>, command: &[u8]) -> Result<Vec<u8>, KvError> {
        let s = String::from_utf8_lossy(command);
        let (k, v) = s.split_once('=').unwrap_or((&s, ""));
        let prev = kv.get(k.as_bytes())?.unwrap_or_default();
        kv.put(k.as_bytes(), v.as_bytes())?;
        Ok(prev)
    }
}

struct Cluster {
    nodes: BTreeMap<u64, (RaftNode, tokio::task::JoinHandle<()>)>,
    _dirs: Vec<tempfile::TempDir>,
}

async fn start_cluster() -> Cluster {
    let mut listeners = BTreeMap::new();
    for id in 1..=3u64 {
        let l = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        listeners.insert(id, l);
    }
    let peers: BTreeMap<u64, String> =
        listeners.iter().map(|(id, l)| (*id, l.local_addr().unwrap().to_string())).collect();
    let mut nodes = BTreeMap::new();
    let mut dirs = Vec::new();
    for (id, listener) in listeners {
        let dir = tempfile::tempdir().unwrap();
        let mut cfg = NodeConfig::new(id, peers.clone(), dir.path().join("data"), "s3cret".into());
        cfg.heartbeat_ms = 50;
        cfg.election_timeout_ms = (150, 300);
        let node = RaftNode::start(cfg, Arc::new(Register)).await.unwrap();
        let router = node.router();
        let server = tokio::spawn(async move {
            let _ = axum::serve(listener, router).await;
        });
        nodes.insert(id, (node, server));
        dirs.push(dir);
    }
    Cluster { nodes, _dirs: dirs }
}

impl Cluster {
    async fn leader(&self, timeout: Duration) -> u64 {
        let deadline = Instant::now() + timeout;
        loop {
            for (id, (n, _)) in &self.nodes {
                let st = n.status();
                if st.state == NodeState::Leader && n.readiness().is_ok() {
                    return *id;
                }
            }
            assert!(Instant::now() < deadline, "no leader elected");
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }
}

async fn get(node: &RaftNode, c: Consistency, key: &str) -> Option<String> {
    let k = key.as_bytes().to_vec();
    node.read(c, move |kv| kv.get(&k)).await.unwrap().map(|v| String::from_utf8(v).unwrap())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn replicate_forward_read_and_fail_over() {
    let mut cluster = start_cluster().await;
    let leader = cluster.leader(Duration::from_secs(10)).await;
    let follower = (1..=3).find(|i| *i != leader).unwrap();

    // A write entering at a follower is forwarded and its reply comes back.
    let (f, _) = &cluster.nodes[&follower];
    assert_eq!(f.write(b"a=1".to_vec()).await.unwrap(), b"");
    assert_eq!(f.write(b"a=2".to_vec()).await.unwrap(), b"1");
    // Linearizable reads on every node see it immediately.
    for (n, _) in cluster.nodes.values() {
        assert_eq!(get(n, Consistency::Linearizable, "a").await.as_deref(), Some("2"));
    }

    // 200 concurrent writes through all nodes: all applied, and group commit packs them.
    let before = cluster.nodes[&leader].0.status().stats;
    let mut tasks = Vec::new();
    for i in 0..200u32 {
        let n = cluster.nodes[&(u64::from(i % 3) + 1)].0.clone();
        tasks.push(tokio::spawn(async move { n.write(format!("k{i}={i}").into_bytes()).await }));
    }
    for t in tasks {
        t.await.unwrap().unwrap();
    }
    let after = cluster.nodes[&leader].0.status().stats;
    let commands = after.commands_proposed - before.commands_proposed;
    let entries = after.entries_proposed - before.entries_proposed;
    assert!(commands >= 200, "commands {commands}");
    assert!(entries < commands, "no batching: {entries} entries for {commands} commands");
    for i in (0..200).step_by(37) {
        assert_eq!(
            get(&cluster.nodes[&follower].0, Consistency::Linearizable, &format!("k{i}")).await,
            Some(i.to_string())
        );
    }

    // Lose the leader: its server stops answering; the others elect a new one and go on.
    let (old, server) = cluster.nodes.remove(&leader).unwrap();
    server.abort();
    old.shutdown().await;
    let t0 = Instant::now();
    let new_leader = cluster.leader(Duration::from_secs(10)).await;
    assert_ne!(new_leader, leader);
    let survivor = cluster.nodes.keys().copied().find(|i| *i != new_leader).unwrap();
    cluster.nodes[&survivor].0.write(b"b=after".to_vec()).await.unwrap();
    eprintln!("failover: first write acknowledged {:?} after losing the leader", t0.elapsed());
    for (n, _) in cluster.nodes.values() {
        assert_eq!(get(n, Consistency::Linearizable, "a").await.as_deref(), Some("2"));
        assert_eq!(get(n, Consistency::Linearizable, "b").await.as_deref(), Some("after"));
    }
    // Each node refreshes its cached cluster id from applied state every 200 ms.
    let deadline = Instant::now() + Duration::from_secs(5);
    while cluster.nodes[&new_leader].0.status().cluster_id.is_none() {
        assert!(Instant::now() < deadline, "cluster id not stamped");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}
