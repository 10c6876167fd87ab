//! `metaraft ctl`: the operator's client. Talks HTTP to any member (trying the next one when a
//! member does not answer; members forward to the leader themselves), prints tables by default
//! and the server's JSON with `--json`. Operations routes are here; the Doris routes' friendly
//! forms are in `doris.rs`, typed `key=value` bodies in `fields.rs`, tables in `print.rs`.

mod doris;
mod fields;
mod print;

use std::time::Duration;

use clap::Args;
use clap::Subcommand;
use comfy_table::presets::UTF8_BORDERS_ONLY;
use comfy_table::Table;
use serde_json::Value;

/// `metaraft ctl` arguments.
#[derive(Args, Debug)]
pub struct CtlArgs {
    /// Members to talk to, tried in order until one answers.
    #[arg(
        long = "url",
        env = "METARAFT_URL",
        value_delimiter = ',',
        default_value = "http://127.0.0.1:5000,http://127.0.0.1:5001,http://127.0.0.1:5002"
    )]
    urls: Vec<String>,
    /// The API token.
    #[arg(long, env = "METARAFT_TOKEN", default_value = "greedisgood9999", hide_env_values = true)]
    token: String,
    /// Print the server's JSON instead of a table.
    #[arg(long, global = true)]
    json: bool,
    /// Per-request timeout in seconds (an add waits for the new node to catch up).
    #[arg(long, default_value_t = 150)]
    timeout_s: u64,
    #[command(subcommand)]
    command: CtlCommand,
}

#[derive(Subcommand, Debug)]
enum CtlCommand {
    /// This member's view: role, leader, term, log indices, failure tolerance.
    Status,
    /// List, add or remove members.
    #[command(subcommand)]
    Nodes(NodesCommand),
    /// Stream a consistent backup to FILE (written to FILE.partial, fsynced, verified, renamed).
    Backup {
        #[arg(long)]
        out: std::path::PathBuf,
    },
    /// Doris instances: list, get, create, drop, rename, set-status, sse.
    #[command(subcommand)]
    Instance(doris::InstanceCommand),
    /// Object storage of an instance: get, add, set-obj-ak-sk, update-ak-sk.
    #[command(subcommand)]
    Storage(doris::StorageCommand),
    /// Clusters and their nodes: list, get, add, drop, rename, set-*, add-node, drop-node, …
    #[command(subcommand)]
    Cluster(doris::ClusterCommand),
    /// Doris keys: decode, encode, get (the stored record).
    #[command(subcommand)]
    Key(doris::KeyCommand),
    /// Any Doris route as is: `ctl call get_instance --query instance_id=i1`,
    /// `ctl call add_cluster '{"instance_id": …}'` (BODY may be `@FILE`).
    Call {
        route: String,
        body: Option<String>,
        /// A query parameter (repeatable).
        #[arg(long = "query", value_name = "PARAM=VALUE")]
        query: Vec<String>,
    },
}

#[derive(Subcommand, Debug)]
enum NodesCommand {
    /// Every member with its role, replication and last contact.
    List,
    /// Add node ID at ADDR (host:port): learner, catch-up, then voter.
    Add { id: u64, addr: String },
    /// Remove node ID.
    Remove { id: u64 },
}

/// A failed `ctl` command, printed as one line.
#[derive(Debug, thiserror::Error)]
pub enum CtlError {
    /// No member answered.
    #[error("no member answered ({0})")]
    Unreachable(String),
    /// A member answered with an error.
    #[error("{status} {code}{}{msg}", if code.is_empty() { "" } else { ": " })]
    Refused { status: u16, code: String, msg: String },
    /// The answer was not what the route returns.
    #[error("unexpected answer: {0}")]
    BadAnswer(String),
    /// Writing the backup file failed.
    #[error("{0}")]
    File(String),
    /// The command line does not make a valid request.
    #[error("{0}")]
    Usage(String),
}

/// Renders an answer as a table.
type Printer = fn(&Value) -> Result<(), CtlError>;

pub async fn run(args: CtlArgs) -> Result<(), CtlError> {
    let client = Client::new(&args)?;
    let get = reqwest::Method::GET;
    let (answer, print): (Value, Printer) = match &args.command {
        CtlCommand::Backup { out } => return backup(&client, out).await,
        CtlCommand::Instance(cmd) => match cmd.call()? {
            Some(call) => return client.doris(call, None).await,
            None => (client.call(get, "/api/v1/instances", "", None).await?, print_envelope),
        },
        CtlCommand::Storage(cmd) => return client.doris(cmd.call()?, None).await,
        CtlCommand::Cluster(cmd) => return client.doris(cmd.call()?, None).await,
        CtlCommand::Key(cmd) => return client.doris(cmd.call()?, None).await,
        CtlCommand::Call { route, body, query } => {
            let (call, body) = doris::raw_call(route, body.as_deref(), query)?;
            return client.doris(call, body).await;
        }
        CtlCommand::Status => (client.call(get, "/api/v1/cluster", "", None).await?, print_status),
        CtlCommand::Nodes(NodesCommand::List) => (client.call(get, "/api/v1/nodes", "", None).await?, print_members),
        CtlCommand::Nodes(NodesCommand::Add { id, addr }) => (add_node(&client, *id, addr).await?, print_members),
        CtlCommand::Nodes(NodesCommand::Remove { id }) => {
            let query = format!("&id={id}");
            (client.call(reqwest::Method::DELETE, "/api/v1/nodes", &query, None).await?, print_members)
        }
    };
    if args.json {
        println!("{}", serde_json::to_string_pretty(&answer).unwrap_or_default());
        return Ok(());
    }
    print(&answer)
}

/// Downloads `/api/v1/backup` with a progress bar, then makes the file durable and checks it
/// end to end before it takes its final name: a backup that exists is a backup that restores.
async fn backup(client: &Client<'_>, out: &std::path::Path) -> Result<(), CtlError> {
    use std::io::Write as _;
    let file_err = |e: std::io::Error| CtlError::File(format!("{}: {e}", out.display()));
    let partial = out.with_extension("partial");
    let started = std::time::Instant::now();
    let mut resp = client.send(reqwest::Method::GET, "/api/v1/backup", "", None).await?;
    let mut file = std::io::BufWriter::new(std::fs::File::create(&partial).map_err(file_err)?);
    let bar = indicatif::ProgressBar::new_spinner();
    bar.set_style(
        indicatif::ProgressStyle::with_template("{spinner} {bytes} received ({bytes_per_sec}, {elapsed})")
            .unwrap_or_else(|_| indicatif::ProgressStyle::default_spinner()),
    );
    let mut total = 0u64;
    while let Some(chunk) = resp.chunk().await.map_err(|e| CtlError::Unreachable(format!("backup stream: {e}")))? {
        file.write_all(&chunk).map_err(file_err)?;
        total += chunk.len() as u64;
        bar.set_position(total);
    }
    bar.finish_and_clear();
    let file = file.into_inner().map_err(|e| file_err(e.into_error()))?;
    file.sync_all().map_err(file_err)?;
    drop(file);
    let summary =
        metaraft_raft::verify_backup(std::io::BufReader::new(std::fs::File::open(&partial).map_err(file_err)?))
            .map_err(|e| {
                CtlError::File(format!("the downloaded backup does not verify ({e}); kept as {}", partial.display()))
            })?;
    std::fs::rename(&partial, out).map_err(file_err)?;
    let dir = out.parent().filter(|p| !p.as_os_str().is_empty()).unwrap_or(std::path::Path::new("."));
    std::fs::File::open(dir).and_then(|d| d.sync_all()).map_err(file_err)?;
    println!(
        "backup {}: {} records, {} bytes, applied index {}, sha256 {}, {:.1} s",
        out.display(),
        summary.pairs,
        total,
        summary.source_applied.map_or("-".to_string(), |i| i.to_string()),
        summary.sha256,
        started.elapsed().as_secs_f64()
    );
    Ok(())
}

struct Client<'a> {
    http: reqwest::Client,
    args: &'a CtlArgs,
}

impl<'a> Client<'a> {
    fn new(args: &'a CtlArgs) -> Result<Self, CtlError> {
        let http = reqwest::Client::builder()
            .timeout(Duration::from_secs(args.timeout_s))
            .connect_timeout(Duration::from_secs(2))
            .build()
            .map_err(|e| CtlError::Unreachable(e.to_string()))?;
        Ok(Client { http, args })
    }

    /// Sends to the first member that answers and returns its successful response unread; a
    /// member's error answer is final (it was the leader's, or the member's own refusal), only
    /// transport failures move on to the next member.
    async fn send(
        &self,
        method: reqwest::Method,
        path: &str,
        query: &str,
        body: Option<&str>,
    ) -> Result<reqwest::Response, CtlError> {
        let mut failures = Vec::new();
        for base in &self.args.urls {
            let url = format!("{}{path}?token={}{query}", base.trim_end_matches('/'), self.args.token);
            let mut req = self.http.request(method.clone(), &url);
            if let Some(b) = body {
                req = req.header(reqwest::header::CONTENT_TYPE, "application/json").body(b.to_string());
            }
            match req.send().await {
                Ok(r) if r.status().is_success() => return Ok(r),
                Ok(r) => {
                    let status = r.status().as_u16();
                    let text = r.text().await.unwrap_or_default();
                    return Err(refusal(status, &text));
                }
                Err(e) => failures
                    .push(format!("{base}: {}", if e.is_timeout() { "timed out".into() } else { e.to_string() })),
            }
        }
        Err(CtlError::Unreachable(failures.join("; ")))
    }

    /// [`Client::send`], then the JSON answer; an envelope whose code is not OK is an error.
    async fn call(
        &self,
        method: reqwest::Method,
        path: &str,
        query: &str,
        body: Option<Value>,
    ) -> Result<Value, CtlError> {
        let body = body.map(|b| b.to_string());
        let resp = self.send(method, path, query, body.as_deref()).await?;
        let status = resp.status().as_u16();
        let text = resp.text().await.map_err(|e| CtlError::BadAnswer(e.to_string()))?;
        let value: Value = serde_json::from_str(&text).map_err(|_| CtlError::BadAnswer(text.trim().to_string()))?;
        match value.get("code").and_then(Value::as_str) {
            Some(code) if code != "OK" => Err(refusal(status, &text)),
            _ => Ok(value),
        }
    }
}

impl Client<'_> {
    /// Sends a Doris call (`body` overrides the call's own, for `ctl call`) and prints the
    /// answer: text routes as they are, envelopes as tables (or JSON with `--json`).
    async fn doris(&self, call: doris::DorisCall, body: Option<String>) -> Result<(), CtlError> {
        let body = body.or_else(|| call.body.as_ref().map(Value::to_string));
        let method = if body.is_some() { reqwest::Method::POST } else { reqwest::Method::GET };
        let path = format!("{}/{}", crate::api::DORIS_PREFIX, call.route.name);
        let query: String = call.query.iter().map(|(k, v)| format!("&{k}={v}")).collect();
        if matches!(call.route.answer, crate::api::Answer::Text) {
            let resp = self.send(method, &path, &query, body.as_deref()).await?;
            print!("{}", resp.text().await.map_err(|e| CtlError::BadAnswer(e.to_string()))?);
            return Ok(());
        }
        let resp = self.send(method, &path, &query, body.as_deref()).await?;
        let status = resp.status().as_u16();
        let text = resp.text().await.map_err(|e| CtlError::BadAnswer(e.to_string()))?;
        let value: Value = serde_json::from_str(&text).map_err(|_| CtlError::BadAnswer(text.trim().to_string()))?;
        if value.get("code").and_then(Value::as_str) != Some("OK") {
            return Err(refusal(status, &text));
        }
        if self.args.json {
            println!("{}", serde_json::to_string_pretty(&value).unwrap_or_default());
        } else {
            print_envelope(&value)?;
        }
        Ok(())
    }
}

/// An envelope's `result` as tables, or `OK` when it has none.
fn print_envelope(answer: &Value) -> Result<(), CtlError> {
    match answer.get("result") {
        Some(result) => print::result(result),
        None => println!("OK"),
    }
    Ok(())
}

/// `POST /api/v1/nodes`, with a progress bar of the new learner's catch-up: while the add runs
/// (it returns once the node is promoted), the member list is polled for its matched index.
async fn add_node(client: &Client<'_>, id: u64, addr: &str) -> Result<Value, CtlError> {
    let body = serde_json::json!({ "id": id, "addr": addr });
    let add = client.call(reqwest::Method::POST, "/api/v1/nodes", "", Some(body));
    tokio::pin!(add);
    let bar = indicatif::ProgressBar::new(0);
    bar.set_style(
        indicatif::ProgressStyle::with_template("{msg} [{bar:30}] {pos}/{len} entries ({elapsed})")
            .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
    );
    bar.set_message(format!("node {id}: catching up"));
    let mut poll = tokio::time::interval(Duration::from_millis(250));
    let result = loop {
        tokio::select! {
            result = &mut add => break result,
            _ = poll.tick() => {
                let Ok(member) = client.call(reqwest::Method::GET, "/api/v1/nodes", &format!("&id={id}"), None).await else {
                    continue; // not a learner yet
                };
                let m = member.get("result").unwrap_or(&Value::Null);
                let matched = m.get("matched_index").and_then(Value::as_u64).unwrap_or(0);
                let lag = m.get("lag").and_then(Value::as_u64).unwrap_or(0);
                bar.set_length(matched + lag);
                bar.set_position(matched);
                if m.get("role").and_then(Value::as_str) == Some("voter") {
                    bar.set_message(format!("node {id}: voter"));
                }
            }
        }
    };
    bar.finish_and_clear();
    result
}

/// An error answer: the envelope's code and message when it has one, else the plain text.
fn refusal(status: u16, text: &str) -> CtlError {
    let v: Value = serde_json::from_str(text).unwrap_or(Value::Null);
    let code = v.get("code").and_then(Value::as_str).unwrap_or_default().to_string();
    let msg = v.get("msg").and_then(Value::as_str).map_or(text.trim().to_string(), str::to_string);
    CtlError::Refused { status, code, msg }
}

fn print_status(s: &Value) -> Result<(), CtlError> {
    let field = |k: &str| match s.get(k) {
        Some(Value::Null) | None => "-".to_string(),
        Some(Value::String(v)) => v.clone(),
        Some(v) => v.to_string(),
    };
    let mut t = Table::new();
    t.load_preset(UTF8_BORDERS_ONLY);
    for key in [
        "node_id",
        "state",
        "leader_id",
        "term",
        "last_log_index",
        "committed",
        "last_applied",
        "snapshot_index",
        "voters",
        "learners",
        "failure_tolerance",
        "cluster_id",
    ] {
        t.add_row(vec![key.to_string(), field(key)]);
    }
    println!("{t}");
    Ok(())
}

fn print_members(answer: &Value) -> Result<(), CtlError> {
    let members = answer.get("result").unwrap_or(&Value::Null);
    let list = members.as_array().ok_or_else(|| CtlError::BadAnswer(format!("member list expected: {members}")))?;
    let cell = |m: &Value, k: &str| match m.get(k) {
        Some(Value::Null) | None => "-".to_string(),
        Some(Value::String(v)) => v.clone(),
        Some(v) => v.to_string(),
    };
    let mut t = Table::new();
    t.load_preset(UTF8_BORDERS_ONLY);
    t.set_header(vec!["id", "addr", "role", "leader", "matched", "lag", "last contact ms"]);
    for m in list {
        let leader = if m.get("leader") == Some(&Value::Bool(true)) { "*" } else { "" };
        t.add_row(vec![
            cell(m, "id"),
            cell(m, "addr"),
            cell(m, "role"),
            leader.to_string(),
            cell(m, "matched_index"),
            cell(m, "lag"),
            cell(m, "last_contact_ms"),
        ]);
    }
    println!("{t}");
    Ok(())
}
