//! `metaraft bench`: closed-loop load against a running cluster over the Doris HTTP API.
//!
//! N client tasks share one pooled, keep-alive `reqwest::Client`; each sends one request, waits for
//! the answer, records its latency and sends the next, until the run's duration is over. Clients are
//! spread round-robin over the targets. One row per (workload, clients): requests/s, p50, p99,
//! errors, and for writes the group-commit figures read from the leader's `/api/v1/cluster` `stats`
//! before and after the run (commands per log entry, log entries per fsynced append).
//!
//! Must not know: how the cluster is built. It speaks only the public HTTP API, like a Doris client.

// Counts and microseconds become f64 only for reporting; precision beyond 2^52 does not matter there.
#![allow(clippy::cast_precision_loss)]

use std::fmt::Write as _;
use std::sync::atomic::AtomicU64;
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::Duration;
use std::time::Instant;
use std::time::SystemTime;

use futures::stream::StreamExt;
use hdrhistogram::Histogram;
use serde::Serialize;

/// Highest latency the histograms track, in microseconds (one minute).
const MAX_LATENCY_US: u64 = 60_000_000;

/// Arguments of `metaraft bench`.
#[derive(Debug, Clone, clap::Args)]
pub struct BenchArgs {
    /// Base URLs of cluster nodes, comma separated (e.g. `http://127.0.0.1:5000,http://127.0.0.1:5001`).
    #[arg(long, value_delimiter = ',', required = true)]
    pub targets: Vec<String>,
    /// Which nodes receive the load: `any` uses `--targets` as given; `leader` / `follower` resolve the
    /// members through `/api/v1/cluster` of the first reachable target.
    #[arg(long, value_enum, default_value_t = TargetRole::Any)]
    pub target_role: TargetRole,
    /// Doris API token.
    #[arg(long, env = "METARAFT_TOKEN", hide_env_values = true, default_value = "greedisgood9999")]
    pub token: String,
    /// Numbers of concurrent clients, comma separated; one run each.
    #[arg(long, value_delimiter = ',', default_value = "1,16,64")]
    pub clients: Vec<usize>,
    /// Length of each run (`10s`, `500ms`, `2m`).
    #[arg(long, value_parser = parse_duration, default_value = "10s")]
    pub duration: Duration,
    /// Workloads to run, comma separated; each is run for every client count.
    #[arg(long, value_enum, value_delimiter = ',', default_value = "create_instance")]
    pub workload: Vec<Workload>,
    /// Instances created before `get_instance` runs and read round-robin by them.
    #[arg(long, default_value_t = 1000)]
    pub preload: usize,
    /// Read consistency for `get_instance`.
    #[arg(long, value_enum, default_value_t = ReadConsistency::Linearizable)]
    pub consistency: ReadConsistency,
    /// Per-request timeout (counted as an error when hit).
    #[arg(long, value_parser = parse_duration, default_value = "10s")]
    pub request_timeout: Duration,
    /// Prefix of generated instance ids; defaults to one derived from the clock so runs never collide.
    #[arg(long)]
    pub id_prefix: Option<String>,
    /// Print one JSON document instead of the table.
    #[arg(long)]
    pub json: bool,
}

/// What the clients send.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum, Serialize)]
#[value(rename_all = "snake_case")]
#[serde(rename_all = "snake_case")]
pub enum Workload {
    /// One `create_instance` per request, each with a fresh instance id.
    CreateInstance,
    /// `get_instance` over the preloaded instances.
    GetInstance,
}

impl Workload {
    fn name(self) -> &'static str {
        match self {
            Workload::CreateInstance => "create_instance",
            Workload::GetInstance => "get_instance",
        }
    }
}

/// Which members receive the load.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum TargetRole {
    /// The targets as given.
    Any,
    /// Only the current leader.
    Leader,
    /// Every member except the leader.
    Follower,
}

/// `consistency` query parameter of reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum ReadConsistency {
    /// Default: read index through the leader.
    Linearizable,
    /// `?consistency=stale`: whatever the node has applied.
    Stale,
}

/// Why a benchmark could not run (request failures during a run are counted, not raised).
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum BenchError {
    /// The arguments cannot describe a run.
    #[error("invalid arguments: {0}")]
    Args(String),
    /// The HTTP client could not be built.
    #[error("http client: {0}")]
    Client(#[from] reqwest::Error),
    /// No target answered `/api/v1/cluster`, or its answer was unusable.
    #[error("cluster status: {0}")]
    Status(String),
    /// Creating the instances read by `get_instance` failed.
    #[error("preload: {0}")]
    Preload(String),
    /// Writing the report failed.
    #[error("output: {0}")]
    Output(String),
}

/// One result row.
#[derive(Debug, Clone, Serialize)]
pub struct BenchRow {
    /// Workload of the run.
    pub workload: Workload,
    /// Concurrent clients.
    pub clients: usize,
    /// Requests answered with the expected success (plus errors: see `errors`).
    pub requests: u64,
    /// Requests that failed: transport error, timeout, or a non-OK answer.
    pub errors: u64,
    /// Wall time of the run in seconds.
    pub seconds: f64,
    /// Successful requests per second.
    pub requests_per_sec: f64,
    /// Median latency of successful requests, in milliseconds.
    pub p50_ms: f64,
    /// 99th percentile latency of successful requests, in milliseconds.
    pub p99_ms: f64,
    /// Highest latency of successful requests, in milliseconds.
    pub max_ms: f64,
    /// Group commit on the leader: commands per proposed log entry (writes only).
    pub commands_per_entry: Option<f64>,
    /// Log entries per fsynced append call on the leader (writes only).
    pub entries_per_append: Option<f64>,
    /// First error seen, as a sample for diagnosis.
    pub first_error: Option<String>,
}

/// Runs every (workload, clients) combination and prints the report.
pub async fn run(args: BenchArgs) -> Result<(), BenchError> {
    if args.clients.is_empty() || args.clients.contains(&0) {
        return Err(BenchError::Args("--clients needs positive numbers".into()));
    }
    if args.workload.is_empty() {
        return Err(BenchError::Args("--workload is empty".into()));
    }
    let max_clients = args.clients.iter().copied().max().unwrap_or(1);
    let http = reqwest::Client::builder()
        .pool_max_idle_per_host(max_clients)
        .tcp_nodelay(true)
        .timeout(args.request_timeout)
        .build()?;
    let seed_targets = normalize_targets(&args.targets)?;
    let targets = resolve_targets(&http, &seed_targets, args.target_role, &args.token).await?;
    let prefix = args.id_prefix.clone().unwrap_or_else(default_prefix);

    if !args.json {
        eprintln!("targets: {}", targets.join(", "));
        println!("{}", table_header());
    }
    let mut rows = Vec::new();
    let sequence = Arc::new(AtomicU64::new(0));
    for &workload in &args.workload {
        let read_ids = match workload {
            Workload::GetInstance => Arc::new(preload(&http, &targets, &args.token, &prefix, args.preload).await?),
            Workload::CreateInstance => Arc::new(Vec::new()),
        };
        for &clients in &args.clients {
            let plan = RunPlan {
                workload,
                clients,
                duration: args.duration,
                token: &args.token,
                prefix: &prefix,
                consistency: args.consistency,
                read_ids: Arc::clone(&read_ids),
                sequence: Arc::clone(&sequence),
            };
            let row = run_one(&http, &seed_targets, &targets, &plan).await;
            if !args.json {
                println!("{}", table_row(&row));
            }
            rows.push(row);
        }
    }
    if args.json {
        let doc = serde_json::json!({ "targets": targets, "duration_secs": args.duration.as_secs_f64(), "runs": rows });
        let text = serde_json::to_string_pretty(&doc).map_err(|e| BenchError::Output(e.to_string()))?;
        println!("{text}");
    }
    Ok(())
}

/// Everything one run needs besides the client and targets.
struct RunPlan<'a> {
    workload: Workload,
    clients: usize,
    duration: Duration,
    token: &'a str,
    prefix: &'a str,
    consistency: ReadConsistency,
    read_ids: Arc<Vec<String>>,
    /// Shared by every run of this process, so generated instance ids never repeat.
    sequence: Arc<AtomicU64>,
}

/// What one client task measured.
struct ClientResult {
    latencies: Histogram<u64>,
    errors: u64,
    first_error: Option<String>,
}

async fn run_one(http: &reqwest::Client, seed_targets: &[String], targets: &[String], plan: &RunPlan<'_>) -> BenchRow {
    let is_write = plan.workload == Workload::CreateInstance;
    let before = if is_write { leader_stats(http, seed_targets, plan.token).await } else { None };

    // Per-target URL prefixes, built once; each request appends only what varies.
    let urls: Arc<Vec<String>> = Arc::new(
        targets
            .iter()
            .map(|t| match plan.workload {
                Workload::CreateInstance => format!("{t}/MetaService/http/create_instance?token={}", plan.token),
                Workload::GetInstance => {
                    let stale = match plan.consistency {
                        ReadConsistency::Linearizable => "",
                        ReadConsistency::Stale => "&consistency=stale",
                    };
                    format!("{t}/MetaService/http/get_instance?token={}{stale}&instance_id=", plan.token)
                }
            })
            .collect(),
    );
    let counter = Arc::clone(&plan.sequence);
    let started = Instant::now();
    let deadline = started + plan.duration;
    let mut tasks = Vec::with_capacity(plan.clients);
    for client in 0..plan.clients {
        let http = http.clone();
        let url = Arc::clone(&urls);
        let counter = Arc::clone(&counter);
        let read_ids = Arc::clone(&plan.read_ids);
        let workload = plan.workload;
        let id_prefix = format!("{}-w-", plan.prefix);
        tasks.push(tokio::spawn(async move {
            let base = &url[client % url.len()];
            client_loop(&http, base, workload, &id_prefix, &counter, &read_ids, deadline).await
        }));
    }
    let mut latencies = new_histogram();
    let mut errors = 0;
    let mut first_error = None;
    for task in tasks {
        match task.await {
            Ok(r) => {
                // Same bounds everywhere, so adding cannot fail.
                let _ = latencies.add(&r.latencies);
                errors += r.errors;
                if first_error.is_none() {
                    first_error = r.first_error;
                }
            }
            Err(e) => {
                errors += 1;
                first_error.get_or_insert_with(|| format!("client task failed: {e}"));
            }
        }
    }
    let seconds = started.elapsed().as_secs_f64();

    let (commands_per_entry, entries_per_append) = match (before, is_write) {
        (Some(before), true) => match leader_stats(http, seed_targets, plan.token).await {
            Some(after) if after.leader == before.leader => after.ratios_since(&before),
            _ => (None, None),
        },
        _ => (None, None),
    };
    let requests = latencies.len();
    let ms = |us: u64| us as f64 / 1000.0;
    BenchRow {
        workload: plan.workload,
        clients: plan.clients,
        requests,
        errors,
        seconds,
        requests_per_sec: requests as f64 / seconds,
        p50_ms: ms(latencies.value_at_quantile(0.50)),
        p99_ms: ms(latencies.value_at_quantile(0.99)),
        max_ms: ms(latencies.max()),
        commands_per_entry,
        entries_per_append,
        first_error,
    }
}

async fn client_loop(
    http: &reqwest::Client,
    base: &str,
    workload: Workload,
    id_prefix: &str,
    counter: &AtomicU64,
    read_ids: &[String],
    deadline: Instant,
) -> ClientResult {
    let mut result = ClientResult { latencies: new_histogram(), errors: 0, first_error: None };
    let mut url = String::with_capacity(base.len() + 64);
    let mut id = String::with_capacity(id_prefix.len() + 20);
    while Instant::now() < deadline {
        let n = counter.fetch_add(1, Ordering::Relaxed);
        let request = match workload {
            Workload::CreateInstance => {
                id.clear();
                let _ = write!(id, "{id_prefix}{n}");
                http.post(base).body(instance_body(&id))
            }
            Workload::GetInstance => {
                url.clear();
                url.push_str(base);
                url.push_str(&read_ids[usize::try_from(n).unwrap_or(0) % read_ids.len()]);
                http.get(url.as_str())
            }
        };
        let sent = Instant::now();
        let outcome = send(request).await;
        let elapsed_us = u64::try_from(sent.elapsed().as_micros()).unwrap_or(u64::MAX);
        match outcome {
            Ok(()) => result.latencies.saturating_record(elapsed_us.max(1)),
            Err(e) => {
                result.errors += 1;
                result.first_error.get_or_insert(e);
            }
        }
    }
    result
}

/// Sends one request; `Ok` only for HTTP 200 with code `OK`.
async fn send(request: reqwest::RequestBuilder) -> Result<(), String> {
    let response = request.send().await.map_err(|e| format!("transport: {e}"))?;
    let status = response.status();
    let bytes = response.bytes().await.map_err(|e| format!("body: {e}"))?;
    if status == reqwest::StatusCode::OK && is_ok_envelope(&bytes) {
        Ok(())
    } else {
        Err(format!("HTTP {status}: {}", String::from_utf8_lossy(&bytes[..bytes.len().min(300)]).trim_end()))
    }
}

/// `"code": "OK"` near the start of a pretty-printed envelope; avoids parsing every reply.
fn is_ok_envelope(body: &[u8]) -> bool {
    let head = &body[..body.len().min(64)];
    head.windows(12).any(|w| w == br#""code": "OK""#) || head.windows(11).any(|w| w == br#""code":"OK""#)
}

fn instance_body(instance_id: &str) -> String {
    format!(
        r#"{{"instance_id":"{instance_id}","name":"bench","user_id":"bench","vault":{{"obj_info":{{"ak":"a","sk":"s","bucket":"b","prefix":"p","endpoint":"e","external_endpoint":"e","region":"r","provider":"S3"}}}}}}"#
    )
}

fn new_histogram() -> Histogram<u64> {
    // Bounds are constants that hdrhistogram accepts.
    Histogram::new_with_bounds(1, MAX_LATENCY_US, 3).expect("valid histogram bounds")
}

/// Creates `count` instances (409 counts as done) with bounded concurrency; returns their ids.
async fn preload(
    http: &reqwest::Client,
    targets: &[String],
    token: &str,
    prefix: &str,
    count: usize,
) -> Result<Vec<String>, BenchError> {
    if count == 0 {
        return Err(BenchError::Args("--preload must be positive for get_instance".into()));
    }
    let ids: Vec<String> = (0..count).map(|i| format!("{prefix}-read-{i}")).collect();
    let failures = futures::stream::iter(ids.iter().enumerate())
        .map(|(i, id)| {
            let url = format!("{}/MetaService/http/create_instance?token={token}", targets[i % targets.len()]);
            let request = http.post(url).body(instance_body(id));
            async move {
                let response = request.send().await.map_err(|e| e.to_string())?;
                match response.status().as_u16() {
                    200 | 409 => Ok(()),
                    s => Err(format!("HTTP {s}: {}", response.text().await.unwrap_or_default().trim_end())),
                }
            }
        })
        .buffer_unordered(32)
        .filter_map(|r| async move { r.err() })
        .collect::<Vec<_>>()
        .await;
    match failures.first() {
        None => Ok(ids),
        Some(first) => {
            Err(BenchError::Preload(format!("{} of {count} creates failed, first: {first}", failures.len())))
        }
    }
}

/// The leader's cumulative counters at one moment.
struct LeaderStats {
    leader: u64,
    log_appends: u64,
    log_entries_appended: u64,
    entries_proposed: u64,
    commands_proposed: u64,
}

impl LeaderStats {
    fn ratios_since(&self, before: &LeaderStats) -> (Option<f64>, Option<f64>) {
        let ratio = |num: u64, den: u64| (den > 0).then(|| num as f64 / den as f64);
        (
            ratio(
                self.commands_proposed.saturating_sub(before.commands_proposed),
                self.entries_proposed.saturating_sub(before.entries_proposed),
            ),
            ratio(
                self.log_entries_appended.saturating_sub(before.log_entries_appended),
                self.log_appends.saturating_sub(before.log_appends),
            ),
        )
    }
}

/// Finds the leader through any seed target and reads its `stats`; `None` when unavailable.
async fn leader_stats(http: &reqwest::Client, seeds: &[String], token: &str) -> Option<LeaderStats> {
    let status = first_status(http, seeds, token).await.ok()?;
    let leader = status.get("leader_id")?.as_u64()?;
    let addr = status.get("nodes")?.get(leader.to_string())?.as_str()?;
    let leader_status = cluster_status(http, &format!("http://{addr}"), token).await.ok()?;
    if leader_status.get("state")?.as_str()? != "Leader" {
        return None;
    }
    let counters = leader_status.get("stats")?;
    let field = |name: &str| counters.get(name).and_then(serde_json::Value::as_u64);
    Some(LeaderStats {
        leader,
        log_appends: field("log_appends")?,
        log_entries_appended: field("log_entries_appended")?,
        entries_proposed: field("entries_proposed")?,
        commands_proposed: field("commands_proposed")?,
    })
}

async fn cluster_status(http: &reqwest::Client, base: &str, token: &str) -> Result<serde_json::Value, String> {
    let response =
        http.get(format!("{base}/api/v1/cluster?token={token}")).send().await.map_err(|e| format!("{base}: {e}"))?;
    let status = response.status();
    if !status.is_success() {
        return Err(format!("{base}: HTTP {status}"));
    }
    response.json().await.map_err(|e| format!("{base}: {e}"))
}

async fn first_status(http: &reqwest::Client, seeds: &[String], token: &str) -> Result<serde_json::Value, String> {
    let mut last = String::from("no targets");
    for seed in seeds {
        match cluster_status(http, seed, token).await {
            Ok(v) => return Ok(v),
            Err(e) => last = e,
        }
    }
    Err(last)
}

async fn resolve_targets(
    http: &reqwest::Client,
    seeds: &[String],
    role: TargetRole,
    token: &str,
) -> Result<Vec<String>, BenchError> {
    if role == TargetRole::Any {
        return Ok(seeds.to_vec());
    }
    let status = first_status(http, seeds, token).await.map_err(BenchError::Status)?;
    let nodes = status
        .get("nodes")
        .and_then(serde_json::Value::as_object)
        .ok_or_else(|| BenchError::Status("no `nodes` in /api/v1/cluster".into()))?;
    let leader = status
        .get("leader_id")
        .and_then(serde_json::Value::as_u64)
        .ok_or_else(|| BenchError::Status("no leader known".into()))?
        .to_string();
    let picked: Vec<String> = nodes
        .iter()
        .filter(|(id, _)| (role == TargetRole::Leader) == (**id == leader))
        .filter_map(|(_, addr)| addr.as_str().map(|a| format!("http://{a}")))
        .collect();
    if picked.is_empty() {
        return Err(BenchError::Status(format!("no member has role {role:?}")));
    }
    Ok(picked)
}

fn normalize_targets(targets: &[String]) -> Result<Vec<String>, BenchError> {
    let out: Vec<String> = targets
        .iter()
        .map(|t| t.trim().trim_end_matches('/'))
        .filter(|t| !t.is_empty())
        .map(|t| if t.contains("://") { t.to_string() } else { format!("http://{t}") })
        .collect();
    if out.is_empty() {
        return Err(BenchError::Args("--targets is empty".into()));
    }
    Ok(out)
}

fn default_prefix() -> String {
    let nanos = SystemTime::now().duration_since(SystemTime::UNIX_EPOCH).map_or(0, |d| d.as_nanos());
    format!("bench-{:x}", nanos % (1 << 48))
}

/// Parses `10s`, `500ms`, `2m`, `1h`, or a bare number of seconds.
pub(crate) fn parse_duration(text: &str) -> Result<Duration, String> {
    let text = text.trim();
    let split = text.find(|c: char| !(c.is_ascii_digit() || c == '.')).unwrap_or(text.len());
    let (number, unit) = text.split_at(split);
    let value: f64 = number.parse().map_err(|_| format!("invalid duration `{text}`"))?;
    let secs = match unit.trim() {
        "" | "s" => value,
        "ms" => value / 1000.0,
        "m" => value * 60.0,
        "h" => value * 3600.0,
        other => return Err(format!("unknown duration unit `{other}` (use ms, s, m, h)")),
    };
    if !secs.is_finite() || secs <= 0.0 {
        return Err(format!("duration must be positive: `{text}`"));
    }
    Ok(Duration::from_secs_f64(secs))
}

fn table_header() -> String {
    format!(
        "{:<16} {:>7} {:>9} {:>10} {:>8} {:>8} {:>8} {:>7} {:>10} {:>12}",
        "workload",
        "clients",
        "requests",
        "req/s",
        "p50 ms",
        "p99 ms",
        "max ms",
        "errors",
        "cmds/entry",
        "entries/fsync"
    )
}

fn table_row(r: &BenchRow) -> String {
    let opt = |v: Option<f64>| v.map_or_else(|| "-".to_string(), |v| format!("{v:.2}"));
    let mut line = format!(
        "{:<16} {:>7} {:>9} {:>10.1} {:>8.2} {:>8.2} {:>8.2} {:>7} {:>10} {:>12}",
        r.workload.name(),
        r.clients,
        r.requests,
        r.requests_per_sec,
        r.p50_ms,
        r.p99_ms,
        r.max_ms,
        r.errors,
        opt(r.commands_per_entry),
        opt(r.entries_per_append),
    );
    if let Some(e) = &r.first_error {
        let _ = write!(line, "   first error: {e}");
    }
    line
}

#[cfg(test)]
mod test {
    use super::*;

    #[test]
    fn durations() {
        assert_eq!(parse_duration("10s"), Ok(Duration::from_secs(10)));
        assert_eq!(parse_duration("500ms"), Ok(Duration::from_millis(500)));
        assert_eq!(parse_duration("2m"), Ok(Duration::from_mins(2)));
        assert_eq!(parse_duration("3"), Ok(Duration::from_secs(3)));
        assert_eq!(parse_duration("1.5s"), Ok(Duration::from_millis(1500)));
        assert!(parse_duration("0s").is_err());
        assert!(parse_duration("10x").is_err());
        assert!(parse_duration("s").is_err());
    }

    #[test]
    fn ok_envelope_detection() {
        assert!(is_ok_envelope(b"{\n    \"code\": \"OK\",\n    \"msg\": \"\"\n}\n"));
        assert!(is_ok_envelope(b"{\"code\":\"OK\",\"msg\":\"\"}"));
        assert!(!is_ok_envelope(b"{\n    \"code\": \"ALREADY_EXISTED\",\n    \"msg\": \"x\"\n}\n"));
        assert!(!is_ok_envelope(b"incorrect token, token=x\n"));
    }

    #[test]
    fn instance_body_is_valid_json() {
        let v: serde_json::Value = serde_json::from_str(&instance_body("abc-1")).unwrap();
        assert_eq!(v["instance_id"], "abc-1");
        assert_eq!(v["vault"]["obj_info"]["provider"], "S3");
    }

    #[test]
    fn targets_are_normalized() {
        let t = normalize_targets(&["127.0.0.1:5000/".into(), " http://h:1 ".into(), String::new()]).unwrap();
        assert_eq!(t, vec!["http://127.0.0.1:5000".to_string(), "http://h:1".to_string()]);
        assert!(normalize_targets(&[]).is_err());
    }

    #[test]
    fn ratios() {
        let s = |a, b, c, d| LeaderStats {
            leader: 1,
            log_appends: a,
            log_entries_appended: b,
            entries_proposed: c,
            commands_proposed: d,
        };
        let (cpe, epa) = s(110, 130, 20, 100).ratios_since(&s(100, 100, 10, 50));
        assert_eq!(cpe, Some(5.0));
        assert_eq!(epa, Some(3.0));
        assert_eq!(s(1, 1, 1, 1).ratios_since(&s(1, 1, 1, 1)), (None, None));
    }
}
