//! `metaraft dev`: a local cluster of real `metaraft serve` processes on loopback, for trying
//! metaraft out. Data lives under `--data-dir` (one folder per node) and is resumed on the next
//! run; the cluster secret is generated once and kept there too.
//!
//! The data dir also tells chaos tooling about the cluster (see [`layout`]): `members` lists
//! `id host:port`, `node-N.pid` holds each running node's pid, and while `node-N.hold` exists a node
//! that ends stays down instead of stopping the whole cluster.

use std::path::Path;
use std::path::PathBuf;
use std::process::Child;
use std::process::Command;
use std::process::Stdio;
use std::time::Duration;
use std::time::Instant;

use nix::sys::signal::kill;
use nix::sys::signal::Signal;
use nix::unistd::Pid;

use crate::chaos::layout;
use crate::serve::DEFAULT_TOKEN;

/// Flags of `metaraft dev`.
#[derive(clap::Args, Debug)]
pub struct DevArgs {
    /// Number of nodes.
    #[arg(long, default_value_t = 3)]
    pub nodes: u64,
    /// Port of node 1; node N listens on base-port + N - 1 (Doris's meta service uses 5000).
    #[arg(long, default_value_t = 5000)]
    pub base_port: u16,
    /// Parent directory of the nodes' data directories.
    #[arg(long, default_value = "./data")]
    pub data_dir: PathBuf,
    /// API token the nodes require.
    #[arg(long, env = "METARAFT_TOKEN", default_value = DEFAULT_TOKEN)]
    pub token: String,
    /// Node N listens on 127.0.1.N instead of 127.0.0.1 and calls its peers from there, so
    /// `metaraft chaos partition` can cut links with firewall rules (Linux).
    #[arg(long)]
    pub ip_per_node: bool,
    /// Extra flags passed to every `metaraft serve` (after `--`), e.g. `-- --heartbeat-ms 100`.
    #[arg(last = true)]
    pub serve_args: Vec<String>,
}

/// Why the dev cluster could not run.
#[derive(Debug, thiserror::Error)]
pub enum DevError {
    #[error("{0}")]
    Invalid(String),
    #[error("{what}: {source}")]
    Io { what: String, source: std::io::Error },
}

fn io(what: impl Into<String>) -> impl FnOnce(std::io::Error) -> DevError {
    let what = what.into();
    move |source| DevError::Io { what, source }
}

/// A secret of this dev data dir (`name`): made on the first run, reused afterwards.
fn dev_secret(dir: &Path, name: &str, make: impl FnOnce() -> String) -> Result<String, DevError> {
    let path = dir.join(name);
    if let Ok(s) = std::fs::read_to_string(&path) {
        return Ok(s.trim().to_string());
    }
    let secret = make();
    std::fs::write(&path, &secret).map_err(io(format!("writing {}", path.display())))?;
    Ok(secret)
}

/// The node processes and what is needed to start one again.
struct Nodes {
    children: Vec<Option<Child>>,
    spawn: Box<dyn Fn(u64) -> Result<Child, DevError> + Send>,
    dir: PathBuf,
}

impl Nodes {
    fn start(&mut self, id: u64) -> Result<(), DevError> {
        let mut child = (self.spawn)(id)?;
        let pid_file = layout::pid_file(&self.dir, id);
        if let Err(e) = std::fs::write(&pid_file, child.id().to_string()) {
            let _ = child.kill();
            let _ = child.wait();
            return Err(io(format!("writing {}", pid_file.display()))(e));
        }
        if let Some(slot) = self.children.get_mut(id as usize - 1) {
            *slot = Some(child);
        }
        Ok(())
    }

    /// Nodes whose process has ended since the last call (their slot is emptied): id, exit status,
    /// and whether it was held. The hold is read before the pid file goes: chaos tooling waits for
    /// the pid file to go before it lifts a hold.
    fn reap(&mut self) -> Vec<(u64, String, bool)> {
        let mut ended = Vec::new();
        for (i, slot) in self.children.iter_mut().enumerate() {
            let id = i as u64 + 1;
            if let Some(c) = slot {
                if let Ok(Some(status)) = c.try_wait() {
                    let held = layout::hold_file(&self.dir, id).exists();
                    ended.push((id, status.to_string(), held));
                    *slot = None;
                    let _ = std::fs::remove_file(layout::pid_file(&self.dir, id));
                }
            }
        }
        ended
    }

    /// SIGCONT (a paused node cannot handle SIGTERM) and SIGTERM every node (clean redb close),
    /// then SIGKILL whatever is still up after 10 s.
    fn stop(&mut self) {
        for c in self.children.iter().flatten() {
            if let Ok(pid) = i32::try_from(c.id()) {
                let _ = kill(Pid::from_raw(pid), Signal::SIGCONT);
                let _ = kill(Pid::from_raw(pid), Signal::SIGTERM);
            }
        }
        let deadline = Instant::now() + Duration::from_secs(10);
        for c in self.children.iter_mut().flatten() {
            while Instant::now() < deadline {
                if let Ok(Some(_)) = c.try_wait() {
                    break;
                }
                std::thread::sleep(Duration::from_millis(50));
            }
            let _ = c.kill();
            let _ = c.wait();
        }
        self.children.iter_mut().for_each(|c| *c = None);
        for id in 1..=self.children.len() as u64 {
            let _ = std::fs::remove_file(layout::pid_file(&self.dir, id));
        }
    }
}

impl Drop for Nodes {
    fn drop(&mut self) {
        self.stop();
    }
}

pub async fn run(args: DevArgs) -> Result<(), DevError> {
    if args.nodes == 0 || args.nodes > 9 {
        return Err(DevError::Invalid("--nodes must be between 1 and 9".into()));
    }
    let exe = std::env::current_exe().map_err(io("locating the metaraft binary"))?;
    std::fs::create_dir_all(&args.data_dir).map_err(io(format!("creating {}", args.data_dir.display())))?;
    // Absolute, so chaos tooling can tell our node processes by their command line.
    let data_dir =
        std::fs::canonicalize(&args.data_dir).map_err(io(format!("resolving {}", args.data_dir.display())))?;
    let args = DevArgs { data_dir, ..args };
    let secret = dev_secret(&args.data_dir, "cluster-secret", || format!("{:032x}", rand::random::<u128>()))?;
    // 32 random bytes, hex: the AES-256 key that seals sk values at rest.
    let encryption_key = dev_secret(&args.data_dir, "encryption-key", || {
        format!("{:032x}{:032x}", rand::random::<u128>(), rand::random::<u128>())
    })?;
    let (base_port, ip_per_node) = (args.base_port, args.ip_per_node);
    let addr = move |id: u64| layout::node_addr(base_port, ip_per_node, id);
    let peers: Vec<String> = (1..=args.nodes).map(|id| format!("{id}={}", addr(id))).collect();
    let peers = peers.join(",");
    let members: String = (1..=args.nodes).map(|id| format!("{id} {}\n", addr(id))).collect();
    let members_file = layout::members_file(&args.data_dir);
    std::fs::write(&members_file, members).map_err(io(format!("writing {}", members_file.display())))?;
    for id in 1..=args.nodes {
        // A hold left by a chaos run that was cut short must not keep a node down forever.
        let _ = std::fs::remove_file(layout::hold_file(&args.data_dir, id));
    }

    let (data_dir, token, extra) = (args.data_dir.clone(), args.token.clone(), args.serve_args.clone());
    let spawn = move |id: u64| -> Result<Child, DevError> {
        let dir = data_dir.join(format!("node-{id}"));
        std::fs::create_dir_all(&dir).map_err(io(format!("creating {}", dir.display())))?;
        let log_path = data_dir.join(format!("node-{id}.log"));
        let log = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&log_path)
            .map_err(io(format!("opening {}", log_path.display())))?;
        let err = log.try_clone().map_err(io("duplicating the log handle"))?;
        Command::new(&exe)
            .arg("serve")
            .args(["--node-id", &id.to_string(), "--listen", &addr(id), "--peers", &peers])
            .arg("--data-dir")
            .arg(&dir)
            .args(&extra)
            .env("METARAFT_TOKEN", &token)
            .env("METARAFT_CLUSTER_SECRET", &secret)
            .env("METARAFT_ENCRYPTION_KEY", &encryption_key)
            .stdin(Stdio::null())
            .stdout(log)
            .stderr(err)
            .spawn()
            .map_err(io(format!("starting node {id}")))
    };
    let mut nodes =
        Nodes { children: (0..args.nodes).map(|_| None).collect(), spawn: Box::new(spawn), dir: args.data_dir.clone() };
    for id in 1..=args.nodes {
        nodes.start(id)?;
    }

    println!("metaraft dev cluster: {} nodes, data in {}", args.nodes, args.data_dir.display());
    for id in 1..=args.nodes {
        println!("  node {id}: http://{}  (log: {})", addr(id), args.data_dir.join(format!("node-{id}.log")).display());
    }
    wait_ready(&(1..=args.nodes).map(addr).collect::<Vec<_>>(), &mut nodes).await;
    let a = addr(1);
    let t = &args.token;
    println!(
        "\nTry it:\n  curl -s 'http://{a}/MetaService/http/create_instance?token={t}' -d '{{\"instance_id\":\"demo\",\"name\":\"demo\",\"user_id\":\"u1\",\"vault\":{{\"obj_info\":{{\"ak\":\"AK\",\"sk\":\"SK\",\"bucket\":\"bucket\",\"prefix\":\"doris\",\"endpoint\":\"s3.us-east-1.amazonaws.com\",\"external_endpoint\":\"s3.us-east-1.amazonaws.com\",\"region\":\"us-east-1\",\"provider\":\"S3\"}}}}}}'\n  curl -s 'http://{}/MetaService/http/get_instance?token={t}&instance_id=demo'\n  curl -s 'http://{a}/api/v1/cluster?token={t}'\n\nCtrl-C stops the cluster; the next run resumes the same data.",
        addr(args.nodes)
    );

    let mut term = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
        .map_err(io("installing the SIGTERM handler"))?;
    let failed = loop {
        tokio::select! {
            _ = tokio::signal::ctrl_c() => break None,
            _ = term.recv() => break None,
            _ = tokio::time::sleep(Duration::from_millis(200)) => {}
        }
        // A node that ends while held (`node-N.hold`, made by `metaraft chaos kill`) stays down until
        // the hold is removed (`metaraft chaos restart`); any other exit stops the cluster.
        let mut unexpected = None;
        for (id, status, held) in nodes.reap() {
            if held {
                println!(
                    "node {id} ended ({status}); held down until {} is removed",
                    layout::hold_file(&args.data_dir, id).display()
                );
            } else {
                unexpected = Some(id);
            }
        }
        if unexpected.is_some() {
            break unexpected;
        }
        for id in 1..=args.nodes {
            let down = nodes.children.get(id as usize - 1).is_some_and(|c| c.is_none());
            if down && !layout::hold_file(&args.data_dir, id).exists() {
                println!("node {id}: hold removed, starting it again");
                nodes.start(id)?;
            }
        }
    };
    println!("\nstopping…");
    nodes.stop();
    match failed {
        Some(id) => Err(DevError::Invalid(format!(
            "node {id} exited; see {}",
            args.data_dir.join(format!("node-{id}.log")).display()
        ))),
        None => Ok(()),
    }
}

/// Waits (up to 30 s) until every node answers /readyz with 200, reporting progress.
async fn wait_ready(addrs: &[String], nodes: &mut Nodes) {
    let client = reqwest::Client::new();
    let deadline = Instant::now() + Duration::from_secs(30);
    while Instant::now() < deadline {
        let mut ready = 0;
        for a in addrs {
            if let Ok(r) = client.get(format!("http://{a}/readyz")).timeout(Duration::from_millis(500)).send().await {
                if r.status().is_success() {
                    ready += 1;
                }
            }
        }
        if ready == addrs.len() {
            println!("all {} nodes ready", addrs.len());
            return;
        }
        if nodes.children.iter_mut().flatten().any(|c| matches!(c.try_wait(), Ok(Some(_)))) {
            return;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    println!("warning: not every node is ready after 30 s; see the logs");
}
