//! `metaraft`: the Doris Meta Service HTTP API on a self-contained Raft cluster.

mod api;
mod bench;
mod chaos;
mod cli;
mod ctl;
mod dev;
mod keys;
mod meta;
mod pbjson;
mod restore;
mod serve;
mod verify;

/// mimalloc: glibc malloc was a fifth of the CPU profile under write load.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> std::process::ExitCode {
    // With transparent huge pages set to `always`, every page mimalloc purges and reuses faults
    // back in as a fresh 2 MiB page that the kernel zeroes: 5% of the leader's CPU under write
    // load. The process's heap is small; 4 KiB pages cost nothing. Best effort (Linux only).
    let _ = nix::sys::prctl::set_thp_disable(true);
    cli::main()
}
