//! Fault injection against our own deployments — the nemeses of `metaraft verify` and of
//! `scripts/chaos/`. Two deployments:
//! - **local**: a `metaraft dev` cluster, found through its data dir ([`layout`]): kill -9 (the node
//!   stays down while its hold file exists), SIGSTOP/SIGCONT, and partitions by `iptables` DROP
//!   rules between the nodes' own loopback addresses (`dev --ip-per-node`, root).
//! - **compose**: the `docker-compose.yml` stack: `docker kill`/`start`, `pause`/`unpause`,
//!   `network disconnect`/`connect`.
//!
//! Only our own processes, containers and firewall chain are touched; [`Deployment::heal_all`]
//! undoes every fault.

pub mod layout;

use std::path::PathBuf;
use std::process::Command;
use std::time::Duration;

use nix::sys::signal::kill;
use nix::sys::signal::Signal;
use nix::unistd::Pid;

/// Prefix of the iptables chains holding our partition rules (one chain per dev cluster).
const CHAIN_PREFIX: &str = "METARAFT-";
/// Compose: the stack's network and container names (see docker-compose.yml).
const COMPOSE_NETWORK: &str = "metaraft";
const COMPOSE_BASE_PORT: u16 = 5000;
const COMPOSE_NODES: u64 = 3;

/// Why a fault could not be injected or undone.
#[derive(Debug, thiserror::Error)]
pub enum ChaosError {
    #[error("{0}")]
    Invalid(String),
    #[error("{what}: {source}")]
    Io { what: String, source: std::io::Error },
    #[error("`{cmd}` failed: {stderr}")]
    Command { cmd: String, stderr: String },
}

/// Where the cluster runs.
#[derive(Debug, Clone)]
pub enum Deployment {
    /// A `metaraft dev` cluster with this data dir.
    Local { dir: PathBuf },
    /// The docker-compose stack.
    Compose,
}

/// Which node a fault hits.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Target {
    Leader,
    Follower,
    Random,
    Node(u64),
}

impl std::str::FromStr for Target {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s {
            "leader" => Ok(Target::Leader),
            "follower" => Ok(Target::Follower),
            "random" => Ok(Target::Random),
            n => n.parse().map(Target::Node).map_err(|_| format!("'{s}' is not leader, follower, random or a node id")),
        }
    }
}

/// One fault, applied to one node.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Fault {
    /// SIGKILL; the node stays down until restarted.
    Kill,
    /// SIGSTOP (docker pause) until resumed.
    Pause,
    /// Cut every link between the node and its peers until healed.
    Partition,
}

impl Fault {
    pub fn name(self) -> &'static str {
        match self {
            Fault::Kill => "kill",
            Fault::Pause => "pause",
            Fault::Partition => "partition",
        }
    }
}

impl Deployment {
    /// The deployment named by the `--dev-dir DIR` / `--compose` flags (clap makes them exclusive).
    pub fn from_flags(dev_dir: Option<&std::path::Path>, compose: bool) -> Option<Deployment> {
        match (dev_dir, compose) {
            (Some(dir), _) => Some(Deployment::Local { dir: dir.to_path_buf() }),
            (None, true) => Some(Deployment::Compose),
            (None, false) => None,
        }
    }

    /// Members as `(id, host:port)` reachable from this machine.
    pub fn members(&self) -> Result<Vec<(u64, String)>, ChaosError> {
        match self {
            Deployment::Local { dir } => {
                let path = layout::members_file(dir);
                let text = std::fs::read_to_string(&path).map_err(|source| ChaosError::Io {
                    what: format!(
                        "reading {} (is `metaraft dev --data-dir {}` running?)",
                        path.display(),
                        dir.display()
                    ),
                    source,
                })?;
                let members = layout::parse_members(&text);
                if members.is_empty() {
                    return Err(ChaosError::Invalid(format!("{} lists no members", path.display())));
                }
                Ok(members)
            }
            Deployment::Compose => Ok((1..=COMPOSE_NODES)
                .map(|id| (id, format!("127.0.0.1:{}", u64::from(COMPOSE_BASE_PORT) + id - 1)))
                .collect()),
        }
    }

    /// Picks the node a target names, asking the members who leads when needed.
    pub async fn resolve(&self, target: Target, token: &str) -> Result<u64, ChaosError> {
        let members = self.members()?;
        let ids: Vec<u64> = members.iter().map(|(id, _)| *id).collect();
        let pick = |from: &[u64]| -> Result<u64, ChaosError> {
            if from.is_empty() {
                return Err(ChaosError::Invalid("no node to pick from".into()));
            }
            Ok(from[rand::random_range(0..from.len())])
        };
        match target {
            Target::Node(id) if ids.contains(&id) => Ok(id),
            Target::Node(id) => Err(ChaosError::Invalid(format!("node {id} is not a member ({ids:?})"))),
            Target::Random => pick(&ids),
            Target::Leader | Target::Follower => {
                let leader = leader(&members, token)
                    .await
                    .ok_or_else(|| ChaosError::Invalid("no member names a leader right now".into()))?;
                if target == Target::Leader {
                    Ok(leader)
                } else {
                    pick(&ids.into_iter().filter(|id| *id != leader).collect::<Vec<_>>())
                }
            }
        }
    }

    /// Injects `fault` on node `id`.
    pub fn inject(&self, fault: Fault, id: u64) -> Result<(), ChaosError> {
        match (self, fault) {
            (Deployment::Local { dir }, Fault::Kill) => {
                let hold = layout::hold_file(dir, id);
                std::fs::write(&hold, "held by metaraft chaos\n")
                    .map_err(|source| ChaosError::Io { what: format!("writing {}", hold.display()), source })?;
                signal(dir, id, Signal::SIGKILL).inspect_err(|_| {
                    // Not killed: a hold left behind would keep the node down after a real crash.
                    let _ = std::fs::remove_file(&hold);
                })
            }
            (Deployment::Local { dir }, Fault::Pause) => signal(dir, id, Signal::SIGSTOP),
            (Deployment::Local { .. }, Fault::Partition) => self.isolate_local(id),
            (Deployment::Compose, Fault::Kill) => docker(&["kill", "-s", "KILL", &container(id)]),
            (Deployment::Compose, Fault::Pause) => docker(&["pause", &container(id)]),
            (Deployment::Compose, Fault::Partition) => {
                docker(&["network", "disconnect", COMPOSE_NETWORK, &container(id)])
            }
        }
    }

    /// Undoes `fault` on node `id` (restart, resume, heal).
    pub fn recover(&self, fault: Fault, id: u64) -> Result<(), ChaosError> {
        match (self, fault) {
            (Deployment::Local { dir }, Fault::Kill) => {
                // `dev` removes the pid file when it sees the node end; removing the hold before that
                // would make the end look unexpected (and `dev` stops the cluster then).
                let deadline = std::time::Instant::now() + Duration::from_secs(5);
                while layout::pid_file(dir, id).exists() && std::time::Instant::now() < deadline {
                    std::thread::sleep(Duration::from_millis(20));
                }
                // `dev` notices the hold is gone and starts the node again.
                match std::fs::remove_file(layout::hold_file(dir, id)) {
                    Ok(()) => Ok(()),
                    Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
                    Err(source) => Err(ChaosError::Io { what: "removing the hold file".into(), source }),
                }
            }
            (Deployment::Local { dir }, Fault::Pause) => signal(dir, id, Signal::SIGCONT),
            (Deployment::Local { dir }, Fault::Partition) => remove_chain(&chain(dir)),
            (Deployment::Compose, Fault::Kill) => docker(&["start", &container(id)]),
            (Deployment::Compose, Fault::Pause) => docker(&["unpause", &container(id)]),
            (Deployment::Compose, Fault::Partition) => docker(&["network", "connect", COMPOSE_NETWORK, &container(id)])
                .or_else(|e| match &e {
                    ChaosError::Command { stderr, .. } if stderr.contains("already exists") => Ok(()),
                    _ => Err(e),
                }),
        }
    }

    /// Undoes every fault this tooling can make: resumes, restarts and reconnects every node and
    /// removes our firewall chain. Errors from faults that were not in place are ignored.
    pub fn heal_all(&self) -> Result<(), ChaosError> {
        let members = self.members()?;
        for (id, _) in &members {
            let _ = self.recover(Fault::Pause, *id);
            let _ = self.recover(Fault::Kill, *id);
            if matches!(self, Deployment::Compose) {
                let _ = self.recover(Fault::Partition, *id);
            }
        }
        if let Deployment::Local { dir } = self {
            remove_chain(&chain(dir))?;
        }
        Ok(())
    }

    /// DROPs every packet between `id` and its peers (both directions), matched on address and the
    /// listening port, so only this cluster's links are cut. Clients on 127.0.0.1 still reach every
    /// node, so a cut-off node keeps answering them.
    fn isolate_local(&self, id: u64) -> Result<(), ChaosError> {
        let Deployment::Local { dir } = self else { return Ok(()) };
        let members = self.members()?;
        let split = |addr: &str| addr.rsplit_once(':').map(|(h, p)| (h.to_string(), p.to_string()));
        let me = members.iter().find(|(m, _)| *m == id).and_then(|(_, a)| split(a));
        let others: Vec<(String, String)> =
            members.iter().filter(|(m, _)| *m != id).filter_map(|(_, a)| split(a)).collect();
        let Some((my_ip, my_port)) = me else {
            return Err(ChaosError::Invalid(format!("node {id} is not a member")));
        };
        if my_ip == "127.0.0.1" || others.iter().any(|(ip, _)| *ip == my_ip) {
            return Err(ChaosError::Invalid(
                "partitions need one address per node: start the cluster with `metaraft dev --ip-per-node`".into(),
            ));
        }
        let chain = chain(dir);
        if iptables(&["-L", &chain, "-n"]).is_err() {
            iptables(&["-N", &chain])?;
        }
        if iptables(&["-C", "INPUT", "-j", &chain]).is_err() {
            iptables(&["-I", "INPUT", "-j", &chain])?;
        }
        // A call from A to B goes to B's listening port and its answer comes from it: cut both
        // directions of calls both ways.
        let cut = |src: &str, dst: &str, which: &str, port: &str| {
            iptables(&["-A", &chain, "-p", "tcp", "-s", src, "-d", dst, which, port, "-j", "DROP"])
        };
        for (ip, port) in &others {
            cut(&my_ip, ip, "--dport", port)?;
            cut(ip, &my_ip, "--sport", port)?;
            cut(ip, &my_ip, "--dport", &my_port)?;
            cut(&my_ip, ip, "--sport", &my_port)?;
        }
        Ok(())
    }
}

/// The partition chain of the dev cluster in `dir`: named after node 1's port, which no other
/// cluster on this host can share (iptables chain names are short, paths would not fit).
fn chain(dir: &std::path::Path) -> String {
    let port = std::fs::read_to_string(layout::members_file(dir))
        .ok()
        .and_then(|t| {
            layout::parse_members(&t).first().and_then(|(_, a)| a.rsplit_once(':').map(|(_, p)| p.to_string()))
        })
        .unwrap_or_else(|| "0".into());
    format!("{CHAIN_PREFIX}{port}")
}

/// Removes a partition chain and its jump, if present.
fn remove_chain(chain: &str) -> Result<(), ChaosError> {
    if iptables(&["-L", chain, "-n"]).is_err() {
        return Ok(());
    }
    while iptables(&["-D", "INPUT", "-j", chain]).is_ok() {}
    iptables(&["-F", chain])?;
    iptables(&["-X", chain])
}

/// The compose container of node `id`.
fn container(id: u64) -> String {
    format!("metaraft-node{id}")
}

/// Signals node `id` of the dev cluster in `dir` — only if its pid file names a live `metaraft serve`
/// of that data dir (a stale pid may belong to anyone by now).
fn signal(dir: &std::path::Path, id: u64, sig: Signal) -> Result<(), ChaosError> {
    let path = layout::pid_file(dir, id);
    let text = std::fs::read_to_string(&path)
        .map_err(|source| ChaosError::Io { what: format!("reading {} (is node {id} up?)", path.display()), source })?;
    let pid: i32 = text.trim().parse().map_err(|_| ChaosError::Invalid(format!("{} holds no pid", path.display())))?;
    let cmdline = std::fs::read(format!("/proc/{pid}/cmdline")).unwrap_or_default();
    // `dev` runs nodes with the canonical path of their data dir.
    let node_dir = std::fs::canonicalize(dir).unwrap_or_else(|_| dir.to_path_buf()).join(format!("node-{id}"));
    let args: Vec<&[u8]> = cmdline.split(|b| *b == 0).collect();
    let ours = args.contains(&&b"serve"[..]) && args.contains(&node_dir.as_os_str().as_encoded_bytes());
    if !ours {
        return Err(ChaosError::Invalid(format!("pid {pid} in {} is not node {id} any more", path.display())));
    }
    kill(Pid::from_raw(pid), sig).map_err(|e| ChaosError::Io {
        what: format!("sending {sig} to node {id} (pid {pid})"),
        source: std::io::Error::from(e),
    })
}

fn run(program: &str, args: &[&str]) -> Result<(), ChaosError> {
    let cmd = format!("{program} {}", args.join(" "));
    let out = Command::new(program)
        .args(args)
        .output()
        .map_err(|source| ChaosError::Io { what: format!("running `{cmd}`"), source })?;
    if out.status.success() {
        Ok(())
    } else {
        Err(ChaosError::Command { cmd, stderr: String::from_utf8_lossy(&out.stderr).trim().to_string() })
    }
}

fn docker(args: &[&str]) -> Result<(), ChaosError> {
    run("docker", args)
}

fn iptables(args: &[&str]) -> Result<(), ChaosError> {
    // -w: wait for the xtables lock instead of failing when another rule change runs.
    let mut all = vec!["-w"];
    all.extend_from_slice(args);
    run("iptables", &all)
}

/// The leader as named by the first member that knows one.
pub async fn leader(members: &[(u64, String)], token: &str) -> Option<u64> {
    let http = reqwest::Client::builder().timeout(Duration::from_millis(800)).build().ok()?;
    for (_, addr) in members {
        let url = format!("http://{addr}/api/v1/cluster?token={token}");
        let Ok(resp) = http.get(url).send().await else { continue };
        let Ok(status) = resp.json::<serde_json::Value>().await else { continue };
        if let Some(id) = status.get("leader_id").and_then(|v| v.as_u64()) {
            return Some(id);
        }
    }
    None
}

/// Flags of `metaraft chaos`.
#[derive(clap::Args, Debug)]
pub struct ChaosArgs {
    /// Data dir of a running `metaraft dev` cluster.
    #[arg(long, conflicts_with = "compose")]
    pub dev_dir: Option<PathBuf>,
    /// Act on the docker-compose stack instead.
    #[arg(long)]
    pub compose: bool,
    /// API token (to ask who leads).
    #[arg(long, env = "METARAFT_TOKEN", default_value = crate::serve::DEFAULT_TOKEN, hide_env_values = true)]
    pub token: String,
    #[command(subcommand)]
    pub action: ChaosAction,
}

#[derive(clap::Subcommand, Debug)]
pub enum ChaosAction {
    /// SIGKILL a node (leader, follower, random or an id); it stays down until `restart`.
    Kill { target: Target },
    /// Start a killed node again.
    Restart { target: Target },
    /// SIGSTOP a node until `resume`.
    Pause { target: Target },
    /// SIGCONT a paused node.
    Resume { target: Target },
    /// Cut a node off from its peers until `heal`.
    Partition { target: Target },
    /// Undo every fault: resume, restart, reconnect, drop our firewall rules.
    Heal,
    /// Print the members and the leader.
    Members,
}

impl ChaosArgs {
    pub fn deployment(&self) -> Result<Deployment, ChaosError> {
        Deployment::from_flags(self.dev_dir.as_deref(), self.compose)
            .ok_or_else(|| ChaosError::Invalid("say which cluster: --dev-dir DIR or --compose".into()))
    }
}

/// `metaraft chaos …`: one fault or one repair, then exit (scripts/chaos/ bound and sequence them).
pub async fn run_cli(args: ChaosArgs) -> Result<(), ChaosError> {
    let deployment = args.deployment()?;
    let act = |fault: Fault, undo: bool, target: Target| {
        let deployment = deployment.clone();
        let token = args.token.clone();
        async move {
            let id = deployment.resolve(target, &token).await?;
            if undo {
                deployment.recover(fault, id)?;
            } else {
                deployment.inject(fault, id)?;
            }
            println!("{} {} node {id}", if undo { "recovered" } else { "injected" }, fault.name());
            Ok::<u64, ChaosError>(id)
        }
    };
    match args.action {
        ChaosAction::Kill { target } => act(Fault::Kill, false, target).await.map(drop),
        ChaosAction::Restart { target } => act(Fault::Kill, true, target).await.map(drop),
        ChaosAction::Pause { target } => act(Fault::Pause, false, target).await.map(drop),
        ChaosAction::Resume { target } => act(Fault::Pause, true, target).await.map(drop),
        ChaosAction::Partition { target } => act(Fault::Partition, false, target).await.map(drop),
        ChaosAction::Heal => {
            deployment.heal_all()?;
            println!("healed");
            Ok(())
        }
        ChaosAction::Members => {
            let members = deployment.members()?;
            let leader = leader(&members, &args.token).await;
            for (id, addr) in members {
                println!("{id} {addr}{}", if leader == Some(id) { " leader" } else { "" });
            }
            Ok(())
        }
    }
}
