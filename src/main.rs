//! `metaraft`: the Doris Meta Service HTTP API on a self-contained Raft cluster.

mod api;
mod bench;
mod cli;
mod dev;
mod keys;
mod meta;
mod serve;

fn main() -> std::process::ExitCode {
    cli::main()
}
