//! Command line: `metaraft serve | dev | bench` (clap). Every `serve` flag is also an environment
//! variable (`METARAFT_<FLAG>`) and a key of the optional `--config` TOML file; the command line
//! wins over the environment, which wins over the file.

use std::process::ExitCode;

use clap::Parser;
use clap::Subcommand;

use crate::bench;
use crate::dev;
use crate::serve;

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
    /// Drive concurrent clients against a running cluster and report throughput and latency.
    Bench(bench::BenchArgs),
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
            Command::Bench(args) => bench::run(args).await.map_err(|e| e.to_string()),
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
