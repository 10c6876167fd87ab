//! `metaraft`: the Doris Meta Service HTTP API on a self-contained Raft cluster.

mod api;
mod bench;
mod chaos;
mod cli;
mod dev;
mod keys;
mod meta;
mod pbjson;
mod serve;
mod verify;

/// mimalloc: glibc malloc was a fifth of the CPU profile under write load.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> std::process::ExitCode {
    cli::main()
}
