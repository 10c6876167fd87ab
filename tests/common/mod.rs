//! Black-box harness: real `metaraft serve` processes on loopback ports, each with its own temp data
//! dir and log file. Tests drive them only through HTTP and signals, the way an operator would.
//!
//! Everything waits on a condition with a deadline (`wait_until`), never on a bare sleep. When a test
//! panics, dropping the [`Cluster`] kills its nodes and prints the tail of every node's log.

#![allow(dead_code)] // each test binary uses a different part of the harness

use std::collections::BTreeSet;
use std::fs::File;
use std::io::Write as _;
use std::path::Path;
use std::path::PathBuf;
use std::process::Child;
use std::process::Command;
use std::process::ExitStatus;
use std::process::Stdio;
use std::sync::atomic::AtomicU32;
use std::sync::atomic::Ordering;
use std::time::Duration;
use std::time::Instant;

use serde_json::Value;

/// API token of test clusters; deliberately not Doris's well-known default.
pub const TOKEN: &str = "test-token-7";
/// Cluster secret of test clusters.
pub const SECRET: &str = "test-cluster-secret";
/// Timings that keep elections and failover short on loopback.
pub const HEARTBEAT_MS: &str = "50";
pub const ELECTION_TIMEOUT_MS: &str = "150,300";

/// How long a cluster may take to elect a leader and become ready.
pub const START_TIMEOUT: Duration = Duration::from_secs(30);
/// Upper bound for any single wait inside a test.
pub const WAIT_TIMEOUT: Duration = Duration::from_secs(30);

/// The metaraft binary under test.
pub fn binary() -> &'static str {
    env!("CARGO_BIN_EXE_metaraft")
}

/// An HTTP answer: status and raw body.
#[derive(Debug, Clone)]
pub struct Resp {
    pub status: u16,
    pub body: String,
}

impl Resp {
    /// The body parsed as JSON; panics with the body when it is not JSON.
    pub fn json(&self) -> Value {
        serde_json::from_str(&self.body)
            .unwrap_or_else(|e| panic!("body is not JSON ({e}): status {} body {:?}", self.status, self.body))
    }

    /// The envelope's `code` (`None` if the body is not a JSON envelope).
    pub fn code(&self) -> Option<String> {
        serde_json::from_str::<Value>(&self.body).ok()?.get("code")?.as_str().map(str::to_string)
    }

    /// True for HTTP 200 with code `OK`.
    pub fn is_ok(&self) -> bool {
        self.status == 200 && self.code().as_deref() == Some("OK")
    }
}

/// One `metaraft serve` process slot; `child` is `None` while the node is down.
pub struct Node {
    pub id: u64,
    pub addr: String,
    pub data_dir: PathBuf,
    pub log_path: PathBuf,
    pub child: Option<Child>,
    /// `--peers` of this node when it differs from the cluster's (a node added later).
    pub peers: Option<String>,
}

/// Options of a test cluster.
#[derive(Debug, Clone, Default)]
pub struct Options {
    /// `--snapshot-threshold`.
    pub snapshot_threshold: Option<u64>,
    /// Extra arguments appended to every `serve` command line.
    pub extra_args: Vec<String>,
    /// Data directories of nodes 1, 2, 3 (default: folders in the cluster's temp dir).
    pub data_dirs: Vec<PathBuf>,
}

/// A three-node cluster of real processes. Dropping it kills every node.
pub struct Cluster {
    pub name: String,
    pub dir: tempfile::TempDir,
    pub nodes: Vec<Node>,
    pub peers: String,
    pub opts: Options,
    pub http: reqwest::blocking::Client,
}

/// A blocking client with a request timeout, so no test can hang on a request.
pub fn http_client(timeout: Duration) -> reqwest::blocking::Client {
    reqwest::blocking::Client::builder()
        .timeout(timeout)
        .connect_timeout(Duration::from_secs(2))
        .pool_idle_timeout(Duration::from_secs(5))
        .build()
        .expect("build http client")
}

/// Sends requests to members 1, 2, 3, 1, … so every case meets a different node.
pub struct Rotating<'a> {
    pub c: &'a Cluster,
    next: std::cell::Cell<u64>,
}

impl<'a> Rotating<'a> {
    pub fn new(c: &'a Cluster) -> Self {
        Rotating { c, next: std::cell::Cell::new(0) }
    }

    /// The next member in turn.
    pub fn node(&self) -> u64 {
        let n = self.next.get();
        self.next.set(n + 1);
        n % 3 + 1
    }

    /// A Doris route with a body, on the next member.
    pub fn call(&self, route: &str, body: &str) -> Resp {
        let node = self.node();
        self.c.api(node, route, "", Some(body)).unwrap_or_else(|e| panic!("{route} on node {node}: {e}"))
    }

    /// `get_instance`'s result on the next member (linearizable); the reply must be OK.
    pub fn instance(&self, instance_id: &str) -> Value {
        let node = self.node();
        let r = self.c.get_instance(node, instance_id, false).expect("get_instance");
        assert!(r.is_ok(), "get_instance {instance_id} on node {node}: {r:?}");
        r.json()["result"].clone()
    }
}

/// Asserts a Doris envelope: HTTP status, `code` and `msg`.
pub fn expect(r: &Resp, status: u16, code: &str, msg: &str, what: &str) {
    assert_eq!(
        (r.status, r.code().as_deref(), r.json()["msg"].as_str()),
        (status, Some(code), Some(msg)),
        "{what}: {r:?}"
    );
}

/// Asserts the exact bytes of Doris's success envelope without a result.
pub fn ok(r: &Resp, what: &str) {
    assert_eq!(r.body, "{\n    \"code\": \"OK\",\n    \"msg\": \"\"\n}\n", "{what}: {r:?}");
}

/// One HTTP request; `Err` on transport failure or timeout.
pub fn send(http: &reqwest::blocking::Client, method: &str, url: &str, body: Option<Vec<u8>>) -> Result<Resp, String> {
    let method = reqwest::Method::from_bytes(method.as_bytes()).expect("method");
    let mut req = http.request(method, url);
    if let Some(b) = body {
        req = req.body(b);
    }
    let resp = req.send().map_err(|e| {
        let kind = if e.is_timeout() { "TIMEOUT " } else { "" };
        format!("{kind}{url}: {e}")
    })?;
    let status = resp.status().as_u16();
    let body = resp.text().map_err(|e| format!("{url}: body: {e}"))?;
    Ok(Resp { status, body })
}

/// `create_instance` against a node's base URL, for threads that cannot borrow the [`Cluster`].
pub fn create_at(http: &reqwest::blocking::Client, base: &str, instance_id: &str, name: &str) -> Result<Resp, String> {
    let url = format!("{base}/MetaService/http/create_instance?token={TOKEN}");
    send(http, "POST", &url, Some(instance_body(instance_id, name).into_bytes()))
}

/// Polls `f` every 20 ms until it yields `Some`, or panics after `timeout` naming `what`.
pub fn wait_until<T>(what: &str, timeout: Duration, mut f: impl FnMut() -> Option<T>) -> T {
    let deadline = Instant::now() + timeout;
    loop {
        if let Some(v) = f() {
            return v;
        }
        assert!(Instant::now() < deadline, "timed out after {timeout:?} waiting for: {what}");
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// A loopback port that is free right now, below the kernel's ephemeral range (32768+) so that no
/// outbound connection can take a stopped node's port before it restarts. Different test threads
/// get different ports; different processes start at pid-dependent offsets.
pub fn free_port() -> u16 {
    static NEXT: AtomicU32 = AtomicU32::new(0);
    const LOW: u32 = 20_000;
    const SPAN: u32 = 12_000;
    let offset = std::process::id().wrapping_mul(7_919) % SPAN;
    for _ in 0..SPAN {
        let n = NEXT.fetch_add(1, Ordering::Relaxed);
        let port = u16::try_from(LOW + (offset + n) % SPAN).expect("port fits u16");
        if std::net::TcpListener::bind(("127.0.0.1", port)).is_ok() {
            return port;
        }
    }
    panic!("no free loopback port in {LOW}..{}", LOW + SPAN);
}

/// Instance body accepted by `create_instance` (vault form, every `obj_info` field set).
pub fn instance_body(instance_id: &str, name: &str) -> String {
    serde_json::json!({
        "instance_id": instance_id,
        "name": name,
        "user_id": "u1",
        "vault": {"obj_info": {
            "ak": "a", "sk": "s", "bucket": "b", "prefix": "p", "endpoint": "e",
            "external_endpoint": "e", "region": "r", "provider": "S3"
        }}
    })
    .to_string()
}

impl Cluster {
    /// Starts three nodes with default options and waits until all are ready.
    pub fn start(name: &str) -> Cluster {
        Cluster::start_with(name, Options::default())
    }

    /// Starts three nodes and waits until all are ready and agree on a leader.
    pub fn start_with(name: &str, opts: Options) -> Cluster {
        let dir = tempfile::Builder::new().prefix(&format!("metaraft-{name}-")).tempdir().expect("temp dir");
        let nodes: Vec<Node> = (1..=3)
            .map(|id| Node {
                id,
                addr: format!("127.0.0.1:{}", free_port()),
                data_dir: opts
                    .data_dirs
                    .get(usize::try_from(id - 1).expect("small id"))
                    .cloned()
                    .unwrap_or_else(|| dir.path().join(format!("node{id}"))),
                log_path: dir.path().join(format!("node{id}.log")),
                child: None,
                peers: None,
            })
            .collect();
        let peers = nodes.iter().map(|n| format!("{}={}", n.id, n.addr)).collect::<Vec<_>>().join(",");
        let mut cluster =
            Cluster { name: name.to_string(), dir, nodes, peers, opts, http: http_client(Duration::from_secs(10)) };
        for id in 1..=3 {
            cluster.spawn(id);
        }
        cluster.wait_ready(START_TIMEOUT);
        cluster
    }

    fn node(&self, id: u64) -> &Node {
        &self.nodes[usize::try_from(id - 1).expect("small id")]
    }

    fn node_mut(&mut self, id: u64) -> &mut Node {
        &mut self.nodes[usize::try_from(id - 1).expect("small id")]
    }

    /// Command-line arguments of `metaraft serve` for node `id`.
    pub fn serve_args(&self, id: u64) -> Vec<String> {
        let node = self.node(id);
        let mut args: Vec<String> = vec![
            "serve".into(),
            "--node-id".into(),
            id.to_string(),
            "--listen".into(),
            node.addr.clone(),
            "--data-dir".into(),
            node.data_dir.display().to_string(),
            "--peers".into(),
            node.peers.clone().unwrap_or_else(|| self.peers.clone()),
            "--token".into(),
            TOKEN.into(),
            "--cluster-secret".into(),
            SECRET.into(),
            "--heartbeat-ms".into(),
            HEARTBEAT_MS.into(),
            "--election-timeout-ms".into(),
            ELECTION_TIMEOUT_MS.into(),
        ];
        if let Some(n) = self.opts.snapshot_threshold {
            args.extend(["--snapshot-threshold".to_string(), n.to_string()]);
        }
        args.extend(self.opts.extra_args.iter().cloned());
        args
    }

    /// Starts node `id` (which must be down) with the same arguments as always.
    pub fn spawn(&mut self, id: u64) {
        assert!(self.node(id).child.is_none(), "node {id} is already running");
        let args = self.serve_args(id);
        let node = self.node(id);
        let child = spawn_logged(&args, &node.log_path);
        self.node_mut(id).child = Some(child);
    }

    /// Starts a pristine node `id` (the next slot) that knows the cluster's initial members and
    /// itself; it joins once a membership change adds it. Returns its address.
    pub fn spawn_new(&mut self, id: u64) -> String {
        assert_eq!(id, self.nodes.len() as u64 + 1, "new nodes take the next slot");
        let addr = format!("127.0.0.1:{}", free_port());
        self.nodes.push(Node {
            id,
            addr: addr.clone(),
            data_dir: self.dir.path().join(format!("node{id}")),
            log_path: self.dir.path().join(format!("node{id}.log")),
            child: None,
            peers: Some(format!("{},{id}={addr}", self.peers)),
        });
        self.spawn(id);
        addr
    }

    /// Restarts a stopped node on the same data dir and port.
    pub fn restart(&mut self, id: u64) {
        self.spawn(id);
    }

    /// SIGKILLs node `id` and reaps it.
    pub fn kill(&mut self, id: u64) {
        let mut child = self.node_mut(id).child.take().unwrap_or_else(|| panic!("node {id} is not running"));
        child.kill().expect("SIGKILL");
        child.wait().expect("reap killed node");
    }

    /// SIGTERMs node `id` and waits for it to exit; returns its exit status.
    pub fn terminate(&mut self, id: u64) -> ExitStatus {
        let mut child = self.node_mut(id).child.take().unwrap_or_else(|| panic!("node {id} is not running"));
        sigterm(&child);
        if let Some(status) = wait_exit(&mut child, Duration::from_secs(15)) {
            return status;
        }
        let _ = child.kill();
        let _ = child.wait();
        panic!("node {id} did not exit within 15 s of SIGTERM");
    }

    pub fn is_running(&self, id: u64) -> bool {
        self.node(id).child.is_some()
    }

    /// Ids of running nodes.
    pub fn running(&self) -> Vec<u64> {
        self.nodes.iter().filter(|n| n.child.is_some()).map(|n| n.id).collect()
    }

    pub fn addr(&self, id: u64) -> &str {
        &self.node(id).addr
    }

    pub fn data_dir(&self, id: u64) -> &Path {
        &self.node(id).data_dir
    }

    /// `http://host:port` of node `id`.
    pub fn base(&self, id: u64) -> String {
        format!("http://{}", self.node(id).addr)
    }

    /// Any request against node `id`; `Err` on transport failure or timeout.
    pub fn request(&self, id: u64, method: &str, path: &str, body: Option<&str>) -> Result<Resp, String> {
        send(&self.http, method, &format!("{}{path}", self.base(id)), body.map(|b| b.as_bytes().to_vec()))
    }

    /// Like [`Cluster::request`] with a raw byte body (e.g. invalid UTF-8).
    pub fn request_raw(&self, id: u64, method: &str, path: &str, body: Vec<u8>) -> Result<Resp, String> {
        send(&self.http, method, &format!("{}{path}", self.base(id)), Some(body))
    }

    /// A Doris route on node `id`: `/MetaService/http/<route>?token=…[&query]`.
    pub fn api(&self, id: u64, route: &str, query: &str, body: Option<&str>) -> Result<Resp, String> {
        let sep = if query.is_empty() { "" } else { "&" };
        let path = format!("/MetaService/http/{route}?token={TOKEN}{sep}{query}");
        self.request(id, if body.is_some() { "POST" } else { "GET" }, &path, body)
    }

    /// `create_instance` of `instance_id` sent to node `id`.
    pub fn create_instance(&self, id: u64, instance_id: &str, name: &str) -> Result<Resp, String> {
        self.api(id, "create_instance", "", Some(&instance_body(instance_id, name)))
    }

    /// `create_instance` that must succeed with 200 OK.
    pub fn create_ok(&self, id: u64, instance_id: &str) {
        let resp = self.create_instance(id, instance_id, "n").unwrap_or_else(|e| panic!("create {instance_id}: {e}"));
        assert!(resp.is_ok(), "create {instance_id} on node {id}: {resp:?}");
    }

    /// `get_instance` of `instance_id` on node `id`, linearizable or `consistency=stale`.
    pub fn get_instance(&self, id: u64, instance_id: &str, stale: bool) -> Result<Resp, String> {
        let query = if stale {
            format!("instance_id={instance_id}&consistency=stale")
        } else {
            format!("instance_id={instance_id}")
        };
        self.api(id, "get_instance", &query, None)
    }

    /// True when node `id` answers `get_instance` with 200 OK and the right id.
    pub fn has_instance(&self, id: u64, instance_id: &str, stale: bool) -> bool {
        match self.get_instance(id, instance_id, stale) {
            Ok(r) if r.is_ok() => r.json()["result"]["instance_id"] == instance_id,
            _ => false,
        }
    }

    /// `/api/v1/cluster` of node `id`, `None` when it does not answer 200 with JSON.
    pub fn status(&self, id: u64) -> Option<Value> {
        let r = self.request(id, "GET", &format!("/api/v1/cluster?token={TOKEN}"), None).ok()?;
        if r.status != 200 {
            return None;
        }
        serde_json::from_str(&r.body).ok()
    }

    /// A numeric counter under `stats` in node `id`'s status.
    pub fn stat(&self, id: u64, name: &str) -> Option<u64> {
        self.status(id)?.get("stats")?.get(name)?.as_u64()
    }

    /// `GET /readyz` is 200 on node `id`.
    pub fn is_ready(&self, id: u64) -> bool {
        matches!(self.request(id, "GET", "/readyz", None), Ok(r) if r.status == 200)
    }

    /// The leader every running node agrees on, if there is one right now.
    pub fn agreed_leader(&self) -> Option<u64> {
        let running = self.running();
        let mut leaders = BTreeSet::new();
        for &id in &running {
            let s = self.status(id)?;
            leaders.insert(s.get("leader_id")?.as_u64()?);
        }
        let leader = *leaders.iter().next()?;
        if leaders.len() != 1 || !running.contains(&leader) {
            return None;
        }
        let s = self.status(leader)?;
        (s["state"] == "Leader").then_some(leader)
    }

    /// Waits until every running node agrees on one running leader.
    pub fn leader(&self) -> u64 {
        wait_until(&format!("[{}] a leader agreed by nodes {:?}", self.name, self.running()), WAIT_TIMEOUT, || {
            self.agreed_leader()
        })
    }

    /// Running nodes other than the current leader.
    pub fn followers(&self) -> Vec<u64> {
        let leader = self.leader();
        self.running().into_iter().filter(|&id| id != leader).collect()
    }

    /// Waits until every running node is ready and all agree on a leader.
    pub fn wait_ready(&self, timeout: Duration) {
        let running = self.running();
        wait_until(&format!("[{}] nodes {running:?} ready with an agreed leader", self.name), timeout, || {
            (running.iter().all(|&id| self.is_ready(id)) && self.agreed_leader().is_some()).then_some(())
        });
    }

    /// Waits until node `id` has applied at least `index`.
    pub fn wait_applied(&self, id: u64, index: u64, timeout: Duration) {
        wait_until(&format!("[{}] node {id} applied index {index}", self.name), timeout, || {
            let applied = self.status(id)?.get("last_applied")?.as_u64()?;
            (applied >= index).then_some(())
        });
    }

    /// Prints the last `lines` lines of every node's log to stderr.
    pub fn print_logs(&self, lines: usize) {
        for node in &self.nodes {
            eprintln!("----- [{}] node {} log tail ({}) -----", self.name, node.id, node.log_path.display());
            eprintln!("{}", tail(&node.log_path, lines));
        }
    }
}

impl Drop for Cluster {
    fn drop(&mut self) {
        for node in &mut self.nodes {
            if let Some(mut child) = node.child.take() {
                let _ = child.kill();
                let _ = child.wait();
            }
        }
        if std::thread::panicking() {
            self.print_logs(60);
            if std::env::var_os("METARAFT_KEEP_TEST_DIRS").is_some() {
                let path = std::mem::replace(&mut self.dir, tempfile::tempdir().expect("temp dir")).keep();
                eprintln!("kept test dir {}", path.display());
            }
        }
    }
}

/// Spawns `metaraft <args>` with stdout and stderr appended to `log`.
pub fn spawn_logged(args: &[String], log: &Path) -> Child {
    let mut file = File::options().create(true).append(true).open(log).expect("open node log");
    let _ = writeln!(file, "===== metaraft {}", args.join(" "));
    let err = file.try_clone().expect("clone log handle");
    Command::new(binary())
        .args(args)
        .env("NO_COLOR", "1") // plain log files (tracing-subscriber honours NO_COLOR)
        .stdin(Stdio::null())
        .stdout(file)
        .stderr(err)
        .spawn()
        .expect("spawn metaraft")
}

/// Runs `metaraft <args>` expecting it to exit by itself within `timeout`; returns the exit status
/// and everything it printed (`log` must be a new file). Panics (after killing it) if it is still running then.
pub fn run_to_exit(args: &[String], log: &Path, timeout: Duration) -> (ExitStatus, String) {
    let mut child = spawn_logged(args, log);
    let status = wait_exit(&mut child, timeout);
    let text = std::fs::read_to_string(log).unwrap_or_default();
    // Only what the process printed, not the command line written before it.
    let output = text.split_once('\n').map_or("", |(_, rest)| rest).to_string();
    if let Some(status) = status {
        return (status, output);
    }
    let _ = child.kill();
    let _ = child.wait();
    panic!("`metaraft {}` still running after {timeout:?}; output:\n{output}", args.join(" "));
}

/// Sends SIGTERM to a child.
pub fn sigterm(child: &Child) {
    let pid = nix::unistd::Pid::from_raw(i32::try_from(child.id()).expect("pid fits i32"));
    nix::sys::signal::kill(pid, nix::sys::signal::Signal::SIGTERM).expect("kill(SIGTERM)");
}

/// Waits up to `timeout` for a child to exit.
pub fn wait_exit(child: &mut Child, timeout: Duration) -> Option<ExitStatus> {
    let deadline = Instant::now() + timeout;
    loop {
        if let Some(status) = child.try_wait().expect("try_wait") {
            return Some(status);
        }
        if Instant::now() >= deadline {
            return None;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// The last `lines` lines of a file.
pub fn tail(path: &Path, lines: usize) -> String {
    let text = std::fs::read_to_string(path).unwrap_or_else(|e| format!("(cannot read: {e})"));
    let all: Vec<&str> = text.lines().collect();
    all[all.len().saturating_sub(lines)..].join("\n")
}
