//! `metaraft restore`: seeds one fresh data directory from a backup (offline). Run it for every
//! initial member of the new cluster, with the same file, then start them with `serve`; the
//! lowest id bootstraps once every peer holds the same restored state.

use std::path::PathBuf;

use clap::Args;

use crate::serve::parse_peers;

/// `metaraft restore` arguments.
#[derive(Args, Debug)]
pub struct RestoreArgs {
    /// A file written by `metaraft ctl backup`.
    #[arg(long)]
    from: PathBuf,
    /// The new node's data directory (must not hold a node's data).
    #[arg(long)]
    data_dir: PathBuf,
    /// The new node's id (a key of --peers).
    #[arg(long)]
    node_id: u64,
    /// The new cluster's initial members: 1=host:port,2=host:port,3=host:port.
    #[arg(long)]
    peers: String,
}

pub fn run(args: RestoreArgs) -> Result<(), String> {
    let peers = parse_peers(&args.peers)?;
    if !peers.contains_key(&args.node_id) {
        return Err(format!("--node-id {} is not in --peers {}", args.node_id, args.peers));
    }
    let started = std::time::Instant::now();
    let file = std::fs::File::open(&args.from).map_err(|e| format!("{}: {e}", args.from.display()))?;
    let size = file.metadata().map_err(|e| format!("{}: {e}", args.from.display()))?.len();
    // The bar counts bytes read from the file; indicatif draws nothing when stderr is not a terminal.
    let bar = indicatif::ProgressBar::new(size);
    bar.set_style(
        indicatif::ProgressStyle::with_template(
            "restoring [{bar:30}] {bytes}/{total_bytes} ({bytes_per_sec}, {elapsed})",
        )
        .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
    );
    let input = bar.wrap_read(std::io::BufReader::with_capacity(1 << 20, file));
    let restored = metaraft_raft::restore(input, &args.data_dir, args.node_id);
    bar.finish_and_clear();
    let summary = restored.map_err(|e| e.to_string())?;
    println!(
        "restored {} records (source applied index {}, source cluster {}) into {} for node {} in {:.1} s; sha256 {}",
        summary.pairs,
        summary.source_applied.map_or("-".to_string(), |i| i.to_string()),
        summary.source_cluster.as_deref().unwrap_or("-"),
        args.data_dir.display(),
        args.node_id,
        started.elapsed().as_secs_f64(),
        summary.sha256
    );
    println!(
        "next: restore the same file for every other member of --peers, then start each with\n  metaraft serve --node-id {} --data-dir {} --peers {} …",
        args.node_id,
        args.data_dir.display(),
        args.peers
    );
    Ok(())
}
