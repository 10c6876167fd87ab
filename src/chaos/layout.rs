//! What a `metaraft dev` data dir tells chaos tooling about its cluster. Files, so that shell
//! scripts and a separate `metaraft chaos` process can act on a running `dev` without talking to it.

use std::path::Path;
use std::path::PathBuf;

/// `host:port` of node `id` of a dev cluster. With one IP per node, node N is 127.0.1.N, a loopback
/// address of its own that firewall rules can single out.
pub fn node_addr(base_port: u16, ip_per_node: bool, id: u64) -> String {
    let port = u64::from(base_port) + id - 1;
    if ip_per_node {
        format!("127.0.1.{id}:{port}")
    } else {
        format!("127.0.0.1:{port}")
    }
}

/// Lines `id host:port`, one per member.
pub fn members_file(dir: &Path) -> PathBuf {
    dir.join("members")
}

/// The pid of node `id` while `dev` runs it.
pub fn pid_file(dir: &Path, id: u64) -> PathBuf {
    dir.join(format!("node-{id}.pid"))
}

/// While this file exists, `dev` leaves node `id` down after it ends.
pub fn hold_file(dir: &Path, id: u64) -> PathBuf {
    dir.join(format!("node-{id}.hold"))
}

/// Parses a members file.
pub fn parse_members(text: &str) -> Vec<(u64, String)> {
    text.lines()
        .filter_map(|l| {
            let (id, addr) = l.trim().split_once(' ')?;
            Some((id.parse().ok()?, addr.trim().to_string()))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn members_round_trip() {
        let text: String = (1..=3).map(|id| format!("{id} {}\n", node_addr(5000, true, id))).collect();
        assert_eq!(
            parse_members(&text),
            vec![(1, "127.0.1.1:5000".into()), (2, "127.0.1.2:5001".into()), (3, "127.0.1.3:5002".into())]
        );
        assert_eq!(node_addr(7000, false, 2), "127.0.0.1:7001");
        assert!(parse_members("garbage\n\n4\n").is_empty());
    }
}
