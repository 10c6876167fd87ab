//! `metaraft serve`: one node. Opens the stores, starts Raft, serves HTTP until SIGTERM/SIGINT,
//! then stops Raft and closes redb cleanly.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::atomic::AtomicU64;
use std::sync::atomic::Ordering::Relaxed;
use std::sync::Arc;

use axum::extract::Request;
use axum::middleware::Next;
use axum::response::Response;
use metaraft_raft::NodeConfig;
use metaraft_raft::RaftNode;
use serde::Deserialize;
use tracing::Instrument;

use crate::api;
use crate::meta;

/// Doris's well-known default token (`http_token` in cloud/src/common/config.h).
pub const DEFAULT_TOKEN: &str = "greedisgood9999";
const DEFAULT_CLUSTER_SECRET: &str = "metaraft-insecure-default-secret";

/// Flags of `metaraft serve`.
#[derive(clap::Args, Debug, Default, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct ServeArgs {
    /// TOML file with any of these settings (keys as the long flags, e.g. `node-id = 1`).
    #[arg(long, env = "METARAFT_CONFIG")]
    #[serde(skip)]
    pub config: Option<PathBuf>,
    /// This node's id (a key of --peers).
    #[arg(long, env = "METARAFT_NODE_ID")]
    pub node_id: Option<u64>,
    /// Address to bind, e.g. 0.0.0.0:5000.
    #[arg(long, env = "METARAFT_LISTEN")]
    pub listen: Option<String>,
    /// Directory for raft-log.redb, state.redb and snapshots.
    #[arg(long, env = "METARAFT_DATA_DIR")]
    pub data_dir: Option<PathBuf>,
    /// Initial members: 1=host:port,2=host:port,3=host:port (the addresses peers reach).
    #[arg(long, env = "METARAFT_PEERS")]
    pub peers: Option<String>,
    /// API token (Doris's `token` query parameter).
    #[arg(long, env = "METARAFT_TOKEN", hide_env_values = true)]
    pub token: Option<String>,
    /// Secret every node presents on /raft/* requests.
    #[arg(long, env = "METARAFT_CLUSTER_SECRET", hide_env_values = true)]
    pub cluster_secret: Option<String>,
    /// Raft heartbeat interval, ms.
    #[arg(long, env = "METARAFT_HEARTBEAT_MS")]
    pub heartbeat_ms: Option<u64>,
    /// Election timeout range, ms: MIN,MAX.
    #[arg(long, env = "METARAFT_ELECTION_TIMEOUT_MS")]
    pub election_timeout_ms: Option<String>,
    /// Build a snapshot after this many log entries.
    #[arg(long, env = "METARAFT_SNAPSHOT_THRESHOLD")]
    pub snapshot_threshold: Option<u64>,
    /// Log filter (tracing-subscriber EnvFilter syntax), e.g. info or metaraft=debug.
    #[arg(long, env = "METARAFT_LOG")]
    pub log: Option<String>,
    /// Key sealing `sk` values at rest (AES-256-GCM): 32 bytes as 64 hex digits or base64. Every
    /// member must have the same key. Without it, Doris's well-known default key is used.
    #[arg(long, env = "METARAFT_ENCRYPTION_KEY", hide_env_values = true)]
    pub encryption_key: Option<String>,
}

/// Why `serve` could not run.
#[derive(Debug, thiserror::Error)]
pub enum ServeError {
    #[error("{0}")]
    Config(String),
    #[error(transparent)]
    Start(#[from] metaraft_raft::StartError),
    #[error("cannot listen on {addr}: {source}")]
    Listen { addr: String, source: std::io::Error },
    #[error("server: {0}")]
    Server(std::io::Error),
}

macro_rules! fill_from {
    ($dst:ident, $src:ident, $($f:ident),*) => { $( if $dst.$f.is_none() { $dst.$f = $src.$f; } )* };
}

impl ServeArgs {
    /// Fills unset flags from the `--config` file.
    fn merged(mut self) -> Result<Self, ServeError> {
        if let Some(path) = &self.config {
            let text = std::fs::read_to_string(path)
                .map_err(|e| ServeError::Config(format!("reading {}: {e}", path.display())))?;
            let file: ServeArgs =
                toml::from_str(&text).map_err(|e| ServeError::Config(format!("{}: {e}", path.display())))?;
            fill_from!(
                self,
                file,
                node_id,
                listen,
                data_dir,
                peers,
                token,
                cluster_secret,
                heartbeat_ms,
                election_timeout_ms,
                snapshot_threshold,
                log,
                encryption_key
            );
        }
        Ok(self)
    }
}

/// Parses `1=host:port,2=host:port`.
pub fn parse_peers(s: &str) -> Result<BTreeMap<u64, String>, String> {
    let mut peers = BTreeMap::new();
    for part in s.split(',').map(str::trim).filter(|p| !p.is_empty()) {
        let (id, addr) = part.split_once('=').ok_or_else(|| format!("peer '{part}' is not ID=HOST:PORT"))?;
        let id: u64 = id.trim().parse().map_err(|_| format!("peer id '{id}' is not a number"))?;
        if addr.trim().is_empty() {
            return Err(format!("peer {id} has no address"));
        }
        if peers.insert(id, addr.trim().to_string()).is_some() {
            return Err(format!("peer id {id} is listed twice"));
        }
    }
    if peers.is_empty() {
        return Err("--peers is empty".into());
    }
    Ok(peers)
}

fn required<T>(v: Option<T>, flag: &str) -> Result<T, ServeError> {
    v.ok_or_else(|| {
        ServeError::Config(format!(
            "--{flag} is required (or METARAFT_{} / config file)",
            flag.to_uppercase().replace('-', "_")
        ))
    })
}

pub async fn run(args: ServeArgs) -> Result<(), ServeError> {
    let args = args.merged()?;
    let node_id = required(args.node_id, "node-id")?;
    init_logging(args.log.as_deref());
    let span = tracing::info_span!("node", id = node_id);
    serve(args, node_id).instrument(span).await
}

/// The IP of `host:port` when it names one address (not 0.0.0.0 / ::): peer calls then leave
/// from the address the node listens on.
fn specific_ip(listen: &str) -> Option<std::net::IpAddr> {
    let addr: std::net::SocketAddr = listen.parse().ok()?;
    (!addr.ip().is_unspecified()).then_some(addr.ip())
}

async fn serve(args: ServeArgs, node_id: u64) -> Result<(), ServeError> {
    let listen = required(args.listen, "listen")?;
    let data_dir = required(args.data_dir, "data-dir")?;
    let peers = parse_peers(&required(args.peers, "peers")?).map_err(ServeError::Config)?;
    let token = args.token.unwrap_or_else(|| {
        tracing::warn!("no --token given: using Doris's well-known default token; set one for any real deployment");
        DEFAULT_TOKEN.to_string()
    });
    let cluster_secret = args.cluster_secret.unwrap_or_else(|| {
        tracing::warn!("no --cluster-secret given: raft RPCs are guarded by a well-known default secret");
        DEFAULT_CLUSTER_SECRET.to_string()
    });
    let secrets = match &args.encryption_key {
        Some(key) => meta::Secrets::parse(key).map_err(|e| ServeError::Config(format!("--encryption-key: {e}")))?,
        None => {
            tracing::warn!(
                "no --encryption-key given: sk values are sealed with Doris's well-known default key; \
                 set one for any real deployment"
            );
            meta::Secrets::dev()
        }
    };
    let mut config = NodeConfig::new(node_id, peers, data_dir, cluster_secret);
    config.source_ip = specific_ip(&listen);
    if let Some(h) = args.heartbeat_ms {
        config.heartbeat_ms = h;
    }
    if let Some(e) = &args.election_timeout_ms {
        let (lo, hi) = e
            .split_once(',')
            .and_then(|(a, b)| Some((a.trim().parse().ok()?, b.trim().parse().ok()?)))
            .ok_or_else(|| ServeError::Config(format!("--election-timeout-ms '{e}' is not MIN,MAX")))?;
        config.election_timeout_ms = (lo, hi);
    }
    if let Some(s) = args.snapshot_threshold {
        config.snapshot_threshold = s;
        config.keep_logs_after_snapshot = config.keep_logs_after_snapshot.min(s);
    }

    let listener = tokio::net::TcpListener::bind(&listen)
        .await
        .map_err(|source| ServeError::Listen { addr: listen.clone(), source })?;
    let node = RaftNode::start(config, Arc::new(meta::MetaApp::new())).await?;
    let metrics = api::Metrics::new(&node);
    let state = std::sync::Arc::new(api::Shared { node: node.clone(), token: token.into(), node_id, secrets, metrics });
    let app = api::router(state).merge(node.router()).layer(axum::middleware::from_fn(request_span));
    tracing::info!(%listen, "serving");
    let served = axum::serve(listener, app).with_graceful_shutdown(shutdown_signal()).await;
    tracing::info!("stopping");
    node.shutdown().await;
    drop(node);
    served.map_err(ServeError::Server)
}

/// Gives every request a span with its id, so its log lines can be told apart.
async fn request_span(req: Request, next: Next) -> Response {
    static NEXT_ID: AtomicU64 = AtomicU64::new(1);
    let id = NEXT_ID.fetch_add(1, Relaxed);
    // The path only: the query string carries the token.
    let span = tracing::debug_span!("request", id, path = %req.uri().path());
    next.run(req).instrument(span).await
}

async fn shutdown_signal() {
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    tokio::select! {
        _ = tokio::signal::ctrl_c() => {}
        _ = term => {}
    }
}

fn init_logging(filter: Option<&str>) {
    let filter = filter
        .map(tracing_subscriber::EnvFilter::new)
        .or_else(|| tracing_subscriber::EnvFilter::try_from_default_env().ok())
        .unwrap_or_else(|| tracing_subscriber::EnvFilter::new("info,openraft=warn"));
    let ansi = std::io::IsTerminal::is_terminal(&std::io::stderr());
    let _ = tracing_subscriber::fmt().with_env_filter(filter).with_ansi(ansi).with_writer(std::io::stderr).try_init();
}

#[cfg(test)]
mod test {
    use super::*;

    #[test]
    fn peers_parse_and_reject() {
        let p = parse_peers("1=127.0.0.1:5000, 2=127.0.0.1:5001,3=h:1").unwrap();
        assert_eq!(p.len(), 3);
        assert_eq!(p[&2], "127.0.0.1:5001");
        assert!(parse_peers("1=a,1=b").unwrap_err().contains("twice"));
        assert!(parse_peers("x=a").unwrap_err().contains("not a number"));
        assert!(parse_peers("1").unwrap_err().contains("ID=HOST:PORT"));
        assert!(parse_peers("").is_err());
    }

    #[test]
    fn config_file_fills_only_unset_flags() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("m.toml");
        std::fs::write(&path, "node-id = 2\nlisten = \"0.0.0.0:1\"\npeers = \"2=a:1\"\n").unwrap();
        let args = ServeArgs { config: Some(path), listen: Some("cli:9".into()), ..Default::default() };
        let m = args.merged().unwrap();
        assert_eq!(m.node_id, Some(2));
        assert_eq!(m.listen.as_deref(), Some("cli:9"));
        assert_eq!(m.peers.as_deref(), Some("2=a:1"));
    }

    #[test]
    fn config_file_rejects_unknown_keys() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("m.toml");
        std::fs::write(&path, "nodeid = 2\n").unwrap();
        let args = ServeArgs { config: Some(path), ..Default::default() };
        assert!(args.merged().is_err());
    }
}
