//! `metaraft verify`: a Jepsen-style linearizability test shipped in the binary. Concurrent clients
//! drive the real Doris API on any members while a nemesis kills, pauses and partitions nodes; every
//! operation's invocation, completion and outcome is recorded; then each key's history is checked
//! against a register model ([`check`]) and every register is read once more after healing, so an
//! acknowledged write that was lost shows up as an anomaly too.

pub mod check;
mod nemesis;
mod workload;

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::atomic::AtomicBool;
use std::sync::atomic::AtomicU64;
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::sync::Mutex;
use std::time::Duration;
use std::time::Instant;

use rand::RngExt as _;
use rand::SeedableRng as _;

use crate::bench::parse_duration;
use crate::chaos::ChaosError;
use crate::chaos::Deployment;
use crate::chaos::Fault;
use check::Event;
use check::Op;
use check::Outcome;
use check::Verdict;
use nemesis::NemesisEvent;
use workload::Answer;
use workload::Generation;
use workload::Key;

/// Flags of `metaraft verify`.
#[derive(clap::Args, Debug)]
pub struct VerifyArgs {
    /// Data dir of a running `metaraft dev` cluster (nemeses act on its processes).
    #[arg(long, conflicts_with_all = ["compose", "targets"])]
    pub dev_dir: Option<PathBuf>,
    /// Run against the docker-compose stack (nemeses act on its containers).
    #[arg(long, conflicts_with = "targets")]
    pub compose: bool,
    /// Members as host:port, comma separated (no nemesis: faults need --dev-dir or --compose).
    #[arg(long, value_delimiter = ',')]
    pub targets: Vec<String>,
    /// API token.
    #[arg(long, env = "METARAFT_TOKEN", default_value = crate::serve::DEFAULT_TOKEN, hide_env_values = true)]
    pub token: String,
    /// Concurrent clients.
    #[arg(long, default_value_t = 10)]
    pub clients: usize,
    /// How long clients run.
    #[arg(long, value_parser = parse_duration, default_value = "60s")]
    pub duration: Duration,
    /// Faults to inject, comma separated: kill, pause, partition (empty: none).
    #[arg(long, value_enum, value_delimiter = ',', num_args = 0..)]
    pub nemesis: Vec<Fault>,
    /// Time between the starts of two faults.
    #[arg(long, value_parser = parse_duration, default_value = "5s")]
    pub fault_every: Duration,
    /// How long each fault lasts.
    #[arg(long, value_parser = parse_duration, default_value = "2s")]
    pub fault_for: Duration,
    /// Lifetime of a set of keys; shorter keeps each key's history small for the checker.
    #[arg(long, value_parser = parse_duration, default_value = "10s")]
    pub key_period: Duration,
    /// Client request timeout; a write without an answer by then is recorded as unknown.
    #[arg(long, value_parser = parse_duration, default_value = "3s")]
    pub timeout: Duration,
    /// Test-only fault in the system under test: `stale` serves reads from the answering node's
    /// state machine without a read index, which the checker must catch.
    #[arg(long, value_enum, default_value_t = ReadMode::Linearizable)]
    pub reads: ReadMode,
    /// Write the history, nemesis events and report as JSON to this file.
    #[arg(long)]
    pub history: Option<PathBuf>,
    /// No progress bar (for logs and CI).
    #[arg(long)]
    pub quiet: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum ReadMode {
    Linearizable,
    Stale,
}

/// Why a run could not be completed or did not pass.
#[derive(Debug, thiserror::Error)]
pub enum VerifyError {
    #[error("{0}")]
    Invalid(String),
    #[error("setup failed: {0}")]
    Setup(String),
    #[error(transparent)]
    Chaos(#[from] ChaosError),
    #[error("writing {path}: {source}")]
    Io { path: String, source: std::io::Error },
    #[error("{0} key(s) NOT linearizable — see the report above")]
    Anomalies(usize),
    #[error("{0} key(s) undecided (search budget exhausted) — see the report above")]
    Undecided(usize),
    #[error("no anomaly found, but the run is not a pass: {0}")]
    Incomplete(String),
}

/// Shared by the clients.
#[derive(Clone)]
struct Ctx {
    http: reqwest::Client,
    members: Vec<String>,
    token: String,
    reads: ReadMode,
    start: Instant,
}

impl Ctx {
    fn now(&self) -> u64 {
        self.start.elapsed().as_nanos() as u64
    }

    /// Sends one request to `member` and classifies the answer.
    async fn send(&self, member: &str, req: &workload::Request, is_read: bool) -> Answer {
        let mut url = format!("http://{member}/MetaService/http/{}?token={}", req.route, self.token);
        if !req.query.is_empty() {
            url.push('&');
            url.push_str(&req.query);
        }
        if is_read && self.reads == ReadMode::Stale {
            url.push_str("&consistency=stale");
        }
        let sent = if req.body.is_empty() {
            self.http.get(url).send().await
        } else {
            self.http.post(url).body(req.body.clone()).send().await
        };
        let resp = match sent {
            Ok(r) => r,
            Err(e) if e.is_connect() => return Answer::NotSent,
            Err(_) => return Answer::Lost,
        };
        let status = resp.status().as_u16();
        let Ok(body) = resp.bytes().await else { return Answer::Lost };
        let Ok(v) = serde_json::from_slice::<serde_json::Value>(&body) else {
            let text = String::from_utf8_lossy(&body[..body.len().min(200)]).trim().to_string();
            return Answer::Reply { status, code: format!("HTTP {status}"), msg: text, result: None };
        };
        let text = |k: &str| v.get(k).and_then(|c| c.as_str()).unwrap_or_default().to_string();
        Answer::Reply { status, code: text("code"), msg: text("msg"), result: v.get("result").cloned() }
    }
}

/// One finished operation, before ids are given.
struct Record {
    client: usize,
    key: String,
    op: Op,
    call: u64,
    ret: Option<u64>,
    outcome: Outcome,
    unexpected: Option<String>,
}

/// Performs `op` on `key` at `member` and records it (unless it certainly did nothing).
async fn perform(ctx: &Ctx, client: usize, member: &str, key: &Key, op: Op) -> Option<Record> {
    let req = workload::request(key, &op)?;
    let call = ctx.now();
    let answer = ctx.send(member, &req, matches!(op, Op::Read)).await;
    let end = ctx.now();
    let (outcome, unexpected) = workload::outcome(key, &op, answer)?;
    let ret = (outcome != Outcome::Unknown).then_some(end);
    Some(Record { client, key: key.name.clone(), op, call, ret, outcome, unexpected })
}

/// A client: random operations on the current generation's keys, each at a random member.
async fn client(
    ctx: Arc<Ctx>,
    id: usize,
    gens: Arc<Vec<Generation>>,
    period: Duration,
    until: Instant,
    ops: Arc<AtomicU64>,
    stop: Arc<AtomicBool>,
) -> Vec<Record> {
    let mut rng = rand::rngs::StdRng::from_rng(&mut rand::rng());
    let mut out = Vec::new();
    let mut seq = 0u64;
    while Instant::now() < until && !stop.load(Ordering::Relaxed) {
        let g = ((ctx.start.elapsed().as_nanos() / period.as_nanos().max(1)) as usize).min(gens.len() - 1);
        let keys = &gens[g].keys;
        let key = &keys[rng.random_range(0..keys.len())];
        seq += 1;
        let op = workload::random_op(key, &mut rng, format!("c{id}_{seq}"));
        let member = &ctx.members[rng.random_range(0..ctx.members.len())];
        if let Some(r) = perform(&ctx, id, member, key, op).await {
            out.push(r);
        }
        ops.fetch_add(1, Ordering::Relaxed);
    }
    out
}

pub async fn run(args: VerifyArgs) -> Result<(), VerifyError> {
    let deployment = Deployment::from_flags(args.dev_dir.as_deref(), args.compose);
    let members: Vec<String> = match &deployment {
        Some(d) => d.members()?.into_iter().map(|(_, a)| a).collect(),
        None => {
            args.targets.iter().map(|t| t.trim_start_matches("http://").trim_end_matches('/').to_string()).collect()
        }
    };
    if members.is_empty() {
        return Err(VerifyError::Invalid("say which cluster: --dev-dir DIR, --compose or --targets".into()));
    }
    if !args.nemesis.is_empty() && deployment.is_none() {
        return Err(VerifyError::Invalid(
            "faults need --dev-dir or --compose (--targets runs without a nemesis)".into(),
        ));
    }
    if args.clients == 0 {
        return Err(VerifyError::Invalid("--clients must be at least 1".into()));
    }
    if let Some(d) = &deployment {
        d.heal_all()?;
    }
    let http = reqwest::Client::builder()
        .timeout(args.timeout)
        .connect_timeout(Duration::from_millis(500))
        .build()
        .map_err(|e| VerifyError::Setup(e.to_string()))?;
    wait_ready(&http, &members, Duration::from_secs(60)).await?;

    // 64 random bits: a run never meets an earlier run's records in the same cluster.
    let run_id = format!("verify-{:016x}", rand::random::<u64>());
    let count = (args.duration.as_nanos() / args.key_period.as_nanos().max(1)) as usize + 1;
    let gens: Arc<Vec<Generation>> = Arc::new((0..count).map(|g| Generation::new(&run_id, g)).collect());
    setup(&http, &members, &args.token, &gens).await?;
    let mut initial: HashMap<String, check::State> = HashMap::new();
    for g in gens.iter() {
        initial.extend(g.initial());
    }
    println!(
        "verify {run_id}: {} clients on {} members for {:?}, nemesis [{}], {} keys in {} generations",
        args.clients,
        members.len(),
        args.duration,
        args.nemesis.iter().map(|f| f.name()).collect::<Vec<_>>().join(","),
        initial.len(),
        gens.len()
    );

    let ctx = Arc::new(Ctx {
        http,
        members: members.clone(),
        token: args.token.clone(),
        reads: args.reads,
        start: Instant::now(),
    });
    let until = ctx.start + args.duration;
    let ops = Arc::new(AtomicU64::new(0));
    let current_fault = Arc::new(Mutex::new(String::from("none")));
    let nemesis_task = deployment.clone().map(|d| {
        let plan = nemesis::Plan { faults: args.nemesis.clone(), every: args.fault_every, lasts: args.fault_for };
        tokio::spawn(nemesis::run(d, plan, args.token.clone(), ctx.start, until, current_fault.clone()))
    });
    let stop = Arc::new(AtomicBool::new(false));
    let clients: Vec<_> = (0..args.clients)
        .map(|i| tokio::spawn(client(ctx.clone(), i, gens.clone(), args.key_period, until, ops.clone(), stop.clone())))
        .collect();
    let progress = progress_bar(args.quiet, args.duration);
    // Whatever goes wrong from here on is reported after the check, which always runs.
    let mut problems: Vec<String> = Vec::new();
    let ctrl_c = tokio::signal::ctrl_c();
    tokio::pin!(ctrl_c);
    while Instant::now() < until {
        tokio::select! {
            _ = tokio::time::sleep(Duration::from_millis(250)) => {}
            _ = &mut ctrl_c => {
                problems.push("interrupted: the history is cut short".into());
                stop.store(true, Ordering::Relaxed);
                break;
            }
        }
        if let Some(p) = &progress {
            let fault = current_fault.lock().map(|f| f.clone()).unwrap_or_default();
            p.set_position(ctx.start.elapsed().as_millis().min(args.duration.as_millis()) as u64);
            p.set_message(format!("{} ops, fault: {fault}", ops.load(Ordering::Relaxed)));
        }
    }
    let mut records = Vec::new();
    for c in clients {
        match c.await {
            Ok(r) => records.extend(r),
            Err(e) => problems.push(format!("a client task failed, its operations are missing: {e}")),
        }
    }
    let events_nemesis: Vec<NemesisEvent> = match nemesis_task {
        Some(t) if stop.load(Ordering::Relaxed) => {
            t.abort();
            Vec::new()
        }
        Some(t) => t.await.unwrap_or_else(|e| {
            problems.push(format!("the nemesis task failed: {e}"));
            Vec::new()
        }),
        None => Vec::new(),
    };
    if let Some(p) = &progress {
        p.finish_and_clear();
    }
    if let Some(d) = &deployment {
        if let Err(e) = d.heal_all() {
            problems.push(format!("healing failed (check the cluster by hand): {e}"));
        }
    }

    // Every register read once more, linearizably, after healing: acknowledged writes must be there.
    if let Err(e) = wait_ready(&ctx.http, &members, Duration::from_secs(60)).await {
        problems.push(format!("after healing: {e}"));
    }
    let final_reads = Ctx { reads: ReadMode::Linearizable, ..(*ctx).clone() };
    for (i, key) in gens.iter().flat_map(|g| g.keys.iter()).enumerate() {
        let member = &members[i % members.len()];
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            if let Some(r) = perform(&final_reads, args.clients, member, key, Op::Read).await {
                if r.ret.is_some() {
                    records.push(r);
                    break;
                }
            }
            if Instant::now() > deadline {
                problems.push(format!("final read of {} did not succeed in 30 s", key.name));
                break;
            }
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
    }

    let unexpected: Vec<String> = records.iter().filter_map(|r| r.unexpected.clone()).collect();
    let events: Vec<Event> = records
        .into_iter()
        .enumerate()
        .map(|(id, r)| Event {
            id,
            client: r.client,
            key: r.key,
            op: r.op,
            call: r.call,
            ret: r.ret,
            outcome: r.outcome,
        })
        .collect();
    let checked_at = Instant::now();
    let reports = check::check(&events, &initial, &check::Limits::default());
    let check_time = checked_at.elapsed();

    print_report(&events, &events_nemesis, &reports, &unexpected, check_time);
    if let Some(path) = &args.history {
        let doc = serde_json::json!({
            "run": run_id, "events": events, "nemesis": events_nemesis, "keys": reports, "initial": initial,
        });
        let io = |source| VerifyError::Io { path: path.display().to_string(), source };
        std::fs::write(path, serde_json::to_vec_pretty(&doc).map_err(|e| io(e.into()))?).map_err(io)?;
        println!("history written to {}", path.display());
    }
    let bad = reports.iter().filter(|r| matches!(r.verdict, Verdict::NotLinearizable)).count();
    let undecided = reports.iter().filter(|r| matches!(r.verdict, Verdict::Undecided)).count();
    if !unexpected.is_empty() {
        problems.push(format!("{} answers the workload does not expect (listed above)", unexpected.len()));
    }
    if bad > 0 {
        Err(VerifyError::Anomalies(bad))
    } else if undecided > 0 {
        Err(VerifyError::Undecided(undecided))
    } else if !problems.is_empty() {
        Err(VerifyError::Incomplete(problems.join("; ")))
    } else {
        Ok(())
    }
}

fn progress_bar(quiet: bool, duration: Duration) -> Option<indicatif::ProgressBar> {
    if quiet {
        return None;
    }
    let p = indicatif::ProgressBar::new(duration.as_millis() as u64);
    if let Ok(style) = indicatif::ProgressStyle::with_template("{elapsed_precise} [{bar:40}] {percent:>3}% {msg}") {
        p.set_style(style.progress_chars("=> "));
    }
    Some(p)
}

/// Waits until every member answers /readyz with 200.
async fn wait_ready(http: &reqwest::Client, members: &[String], timeout: Duration) -> Result<(), VerifyError> {
    let deadline = Instant::now() + timeout;
    loop {
        let mut not_ready = Vec::new();
        for m in members {
            let ok = match http.get(format!("http://{m}/readyz")).send().await {
                Ok(r) => r.status().is_success(),
                Err(_) => false,
            };
            if !ok {
                not_ready.push(m.clone());
            }
        }
        if not_ready.is_empty() {
            return Ok(());
        }
        if Instant::now() > deadline {
            return Err(VerifyError::Setup(format!("not ready after {timeout:?}: {}", not_ready.join(", "))));
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

/// Creates each generation's instances (with cluster `c0`) before any fault.
async fn setup(
    http: &reqwest::Client,
    members: &[String],
    token: &str,
    gens: &[Generation],
) -> Result<(), VerifyError> {
    let mut steps = Vec::new();
    for g in gens {
        for inst in &g.setup {
            steps.push((workload::create_instance(inst, inst), inst.clone()));
            steps.push((workload::add_cluster(inst, "c0", "c0", &[workload::INITIAL_USER]), inst.clone()));
        }
    }
    let ctx = Ctx {
        http: http.clone(),
        members: members.to_vec(),
        token: token.into(),
        reads: ReadMode::Linearizable,
        start: Instant::now(),
    };
    // Instances concurrently, each instance's cluster after it.
    let chunks: Vec<_> = steps.chunks(2).map(|c| c.iter().map(|(r, _)| r).collect::<Vec<_>>()).collect();
    let results = futures::future::join_all(chunks.into_iter().enumerate().map(|(i, pair)| {
        let ctx = &ctx;
        async move {
            for req in pair {
                let member = &ctx.members[i % ctx.members.len()];
                let deadline = Instant::now() + Duration::from_secs(30);
                loop {
                    match ctx.send(member, req, false).await {
                        Answer::Reply { code, .. } if code == "OK" || code == "ALREADY_EXISTED" => break,
                        other => {
                            if Instant::now() > deadline {
                                let why = match other {
                                    Answer::Reply { status, code, msg, .. } => format!("{status} {code} {msg}"),
                                    Answer::NotSent => "connection refused".into(),
                                    Answer::Lost => "no answer".into(),
                                };
                                return Err(format!("{}: {why}", req.route));
                            }
                            tokio::time::sleep(Duration::from_millis(200)).await;
                        }
                    }
                }
            }
            Ok(())
        }
    }))
    .await;
    results.into_iter().collect::<Result<Vec<()>, String>>().map(drop).map_err(VerifyError::Setup)
}

fn secs(ns: u64) -> String {
    format!("{:.3}s", ns as f64 / 1e9)
}

fn print_report(
    events: &[Event],
    nemesis: &[NemesisEvent],
    reports: &[check::KeyReport],
    unexpected: &[String],
    check_time: Duration,
) {
    let count = |f: &dyn Fn(&Event) -> bool| events.iter().filter(|e| f(e)).count();
    let reads = count(&|e| matches!(e.op, Op::Read));
    let ok = count(&|e| matches!(e.outcome, Outcome::Ok(_)));
    let failed = count(&|e| matches!(e.outcome, Outcome::Failed));
    let unknown = count(&|e| matches!(e.outcome, Outcome::Unknown));
    println!("\n== history");
    println!(
        "{} operations ({reads} reads, {} writes): {ok} ok, {failed} refused by the model's rule, {unknown} unknown",
        events.len(),
        events.len() - reads
    );
    println!("== nemesis: {} events", nemesis.len());
    for n in nemesis {
        println!("  {:>9}  {}", secs(n.at), n.what);
    }
    if !unexpected.is_empty() {
        let mut tally: HashMap<&str, usize> = HashMap::new();
        for u in unexpected {
            *tally.entry(u.as_str()).or_default() += 1;
        }
        println!("== unexpected answers (recorded as unknown): {}", unexpected.len());
        for (u, n) in tally {
            println!("  {n} × {u}");
        }
    }
    let bad: Vec<_> = reports.iter().filter(|r| !matches!(r.verdict, Verdict::Linearizable)).collect();
    println!(
        "== checker: {} keys in {:.2?}: {} linearizable, {} not",
        reports.len(),
        check_time,
        reports.len() - bad.len(),
        bad.len()
    );
    for r in bad {
        println!("\n  key {} ({} ops): {:?}", r.key, r.ops, r.verdict);
        if let Some(id) = r.stuck_at {
            println!("  could not linearize operation #{id}");
        }
        if !r.minimal.is_empty() {
            println!("  minimal offending sub-history:");
            for e in &r.minimal {
                let ret = e.ret.map_or("      ?".to_string(), secs);
                println!(
                    "    #{:<6} client {:<3} [{} .. {}] {:?} -> {:?}",
                    e.id,
                    e.client,
                    secs(e.call),
                    ret,
                    e.op,
                    e.outcome
                );
            }
        }
    }
    if reports.iter().all(|r| matches!(r.verdict, Verdict::Linearizable)) {
        println!("== result: 0 anomalies");
    }
}
