//! The snapshot image: the whole replicated map plus the state machine's metadata, and the file
//! that keeps the latest one across restarts.

use std::io::Write;
use std::path::Path;
use std::path::PathBuf;

use serde::Deserialize;
use serde::Serialize;

use crate::codec;
use crate::codec::Tagged;
use crate::types::SnapshotMeta;

// Format: tagged { meta | cluster_id | pairs: [(key, value)] in key order }
#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct SnapshotImage {
    pub meta: SnapshotMeta,
    pub cluster_id: Option<String>,
    pub pairs: Vec<(serde_bytes::ByteBuf, serde_bytes::ByteBuf)>,
}

impl Tagged for SnapshotImage {
    const TAG: &'static str = "raft.snapshot.v1";
}

pub(crate) fn file_path(dir: &Path) -> PathBuf {
    dir.join("snapshot.bin")
}

/// Writes `bytes` as the snapshot file: temp file, fsync, rename, fsync the directory — so a power
/// loss leaves either the old or the new snapshot, never a torn one.
pub(crate) fn save(dir: &Path, bytes: &[u8]) -> std::io::Result<()> {
    let tmp = dir.join("snapshot.bin.tmp");
    {
        let mut f = std::fs::File::create(&tmp)?;
        f.write_all(bytes)?;
        f.sync_all()?;
    }
    std::fs::rename(&tmp, file_path(dir))?;
    super::sync_dir(dir)
}

/// Loads the snapshot file, if any. A file that does not decode is an error, not "no snapshot".
pub(crate) fn load(dir: &Path) -> std::io::Result<Option<(SnapshotMeta, Vec<u8>)>> {
    let bytes = match std::fs::read(file_path(dir)) {
        Ok(b) => b,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(e),
    };
    let image: SnapshotImage = codec::decode_tagged(&bytes).map_err(std::io::Error::other)?;
    Ok(Some((image.meta, bytes)))
}
