//! `metaraft ctl`: the operator's client. Talks HTTP to any member (trying the next one when a
//! member does not answer; members forward to the leader themselves), prints tables by default
//! and the server's JSON with `--json`.

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
    #[arg(long)]
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
    #[error("{status} {code}: {msg}")]
    Refused { status: u16, code: String, msg: String },
    /// The answer was not what the route returns.
    #[error("unexpected answer: {0}")]
    BadAnswer(String),
}

pub async fn run(args: CtlArgs) -> Result<(), CtlError> {
    let client = Client::new(&args)?;
    let answer = match &args.command {
        CtlCommand::Status => client.call(reqwest::Method::GET, "/api/v1/cluster", "", None).await?,
        CtlCommand::Nodes(NodesCommand::List) => client.call(reqwest::Method::GET, "/api/v1/nodes", "", None).await?,
        CtlCommand::Nodes(NodesCommand::Add { id, addr }) => {
            let body = serde_json::json!({ "id": id, "addr": addr });
            eprintln!("adding node {id} at {addr}: waiting for it to catch up and be promoted…");
            client.call(reqwest::Method::POST, "/api/v1/nodes", "", Some(body)).await?
        }
        CtlCommand::Nodes(NodesCommand::Remove { id }) => {
            client.call(reqwest::Method::DELETE, "/api/v1/nodes", &format!("&id={id}"), None).await?
        }
    };
    if args.json {
        println!("{}", serde_json::to_string_pretty(&answer).unwrap_or_default());
        return Ok(());
    }
    match &args.command {
        CtlCommand::Status => print_status(&answer),
        CtlCommand::Nodes(_) => print_members(answer.get("result").unwrap_or(&Value::Null)),
    }
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

    /// Sends to the first member that answers; a member's error answer is final (it was the
    /// leader's, or the member's own refusal), only transport failures move on to the next.
    async fn call(
        &self,
        method: reqwest::Method,
        path: &str,
        query: &str,
        body: Option<Value>,
    ) -> Result<Value, CtlError> {
        let mut failures = Vec::new();
        for base in &self.args.urls {
            let url = format!("{}{path}?token={}{query}", base.trim_end_matches('/'), self.args.token);
            let mut req = self.http.request(method.clone(), &url);
            if let Some(b) = &body {
                req = req.json(b);
            }
            let resp = match req.send().await {
                Ok(r) => r,
                Err(e) => {
                    failures
                        .push(format!("{base}: {}", if e.is_timeout() { "timed out".into() } else { e.to_string() }));
                    continue;
                }
            };
            let status = resp.status().as_u16();
            let text = resp.text().await.map_err(|e| CtlError::BadAnswer(e.to_string()))?;
            let value: Value = serde_json::from_str(&text).map_err(|_| CtlError::Refused {
                status,
                code: String::new(),
                msg: text.trim().to_string(),
            })?;
            // Doris-style envelope: an error carries a code other than OK.
            let code = value.get("code").and_then(Value::as_str).unwrap_or("OK");
            if status >= 400 || code != "OK" {
                let msg = value.get("msg").and_then(Value::as_str).unwrap_or_default().to_string();
                return Err(CtlError::Refused { status, code: code.to_string(), msg });
            }
            return Ok(value);
        }
        Err(CtlError::Unreachable(failures.join("; ")))
    }
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

fn print_members(members: &Value) -> Result<(), CtlError> {
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
