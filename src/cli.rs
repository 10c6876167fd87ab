//! Command line: `metaraft serve | dev | ctl | restore | bench | chaos | verify | probe` (clap). Every `serve` flag is also an environment
//! variable (`METARAFT_<FLAG>`) and a key of the optional `--config` TOML file; the command line
//! wins over the environment, which wins over the file.

use std::process::ExitCode;

use clap::Parser;
use clap::Subcommand;

use crate::bench;
use crate::chaos;
use crate::ctl;
use crate::dev;
use crate::restore;
use crate::serve;
use crate::verify;

/// metaraft: the Doris Meta Service HTTP API on a self-contained Raft cluster.
#[derive(Parser)]
#[command(name = "metaraft", version, about)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Run one node: the Doris API, status routes and Raft RPCs on one port.
    Serve(serve::ServeArgs),
    /// Run a local cluster of `serve` processes (data kept between runs).
    Dev(dev::DevArgs),
    /// Operate a running cluster over HTTP: status, nodes list / add / remove.
    Ctl(ctl::CtlArgs),
    /// Seed a fresh data directory from a backup (offline; once per initial member).
    Restore(restore::RestoreArgs),
    /// Drive concurrent clients against a running cluster and report throughput and latency.
    Bench(bench::BenchArgs),
    /// Inject one fault into (or heal) a `dev` cluster or the compose stack.
    Chaos(chaos::ChaosArgs),
    /// Check a running cluster for linearizability under faults (a Jepsen-style test).
    Verify(verify::VerifyArgs),
    /// GET a URL and succeed only on a 2xx answer (a health check for images without curl).
    Probe {
        url: String,
        #[arg(long, default_value_t = 2000)]
        timeout_ms: u64,
    },
}

pub fn main() -> ExitCode {
    let cli = Cli::parse();
    let runtime = match tokio::runtime::Builder::new_multi_thread().enable_all().build() {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("metaraft: cannot start the async runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    let result: Result<(), String> = runtime.block_on(async {
        match cli.command {
            Command::Serve(args) => serve::run(args).await.map_err(|e| e.to_string()),
            Command::Dev(args) => dev::run(args).await.map_err(|e| e.to_string()),
            Command::Ctl(args) => ctl::run(args).await.map_err(|e| e.to_string()),
            Command::Restore(args) => restore::run(args),
            Command::Bench(args) => bench::run(args).await.map_err(|e| e.to_string()),
            Command::Chaos(args) => chaos::run_cli(args).await.map_err(|e| e.to_string()),
            Command::Verify(args) => verify::run(args).await.map_err(|e| e.to_string()),
            Command::Probe { url, timeout_ms } => probe(&url, timeout_ms).await,
        }
    });
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("metaraft: {e}");
            ExitCode::FAILURE
        }
    }
}

async fn probe(url: &str, timeout_ms: u64) -> Result<(), String> {
    let http = reqwest::Client::builder()
        .timeout(std::time::Duration::from_millis(timeout_ms))
        .build()
        .map_err(|e| e.to_string())?;
    let resp = http.get(url).send().await.map_err(|e| format!("{url}: {e}"))?;
    let status = resp.status();
    let body = resp.text().await.unwrap_or_default();
    if status.is_success() {
        Ok(())
    } else {
        Err(format!("{url}: {status} {}", body.trim()))
    }
}
