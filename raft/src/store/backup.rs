//! Backups of the replicated map, and seeding a fresh data directory from one.
//!
//! A backup is read from one redb read transaction (an MVCC view: apply keeps committing while it
//! is copied) and written as a stream, so neither side holds the whole image:
//!
//! ```text
//! "METARAFT-BACKUP\n"  then frames  [u32 LE length][bincode Frame] …
//!   Header { format, cluster_id, last_applied }   once
//!   Pairs([(key, value)])                         any number, keys ascending
//!   End { pairs, sha256 }                         sha256 of every byte before this frame
//! ```
//!
//! Restore writes the pairs into a new `state.redb` and nothing else: no log, no membership, no
//! cluster id. Every initial member of the new cluster is restored from the same file; the
//! bootstrapping node checks that they were (`restored_from`) before it initializes the cluster.

use std::io::Read;
use std::path::Path;

use redb::Durability;
use redb::ReadableDatabase;
use redb::ReadableTable;
use serde::Deserialize;
use serde::Serialize;
use serde_bytes::ByteBuf;
use sha2::Digest;
use sha2::Sha256;

use super::records::ClusterId;
use super::records::NodeIdentity;
use super::records::RestoredFrom;
use super::tables::DATA;
use super::tables::KEY_CLUSTER_ID;
use super::tables::KEY_LAST_APPLIED;
use super::tables::KEY_NODE_ID;
use super::tables::KEY_RESTORED_FROM;
use super::tables::SM_META;
use crate::codec;
use crate::types::LogId;

const MAGIC: &[u8] = b"METARAFT-BACKUP\n";
const FORMAT: u32 = 1;
/// Pairs per frame: big enough to amortize framing, small enough to stream smoothly.
const PAIRS_PER_FRAME: usize = 1024;
/// A frame larger than this is corruption, not data (values are bounded far below it).
const MAX_FRAME: usize = 256 * 1024 * 1024;

#[derive(Debug, Serialize, Deserialize)]
enum Frame {
    Header { format: u32, cluster_id: Option<String>, last_applied: Option<u64> },
    Pairs(Vec<(ByteBuf, ByteBuf)>),
    End { pairs: u64, sha256: [u8; 32] },
}

/// Why a backup could not be taken or restored.
#[derive(Debug, thiserror::Error)]
pub enum BackupError {
    /// The file is not a backup, is truncated, or fails its checksum.
    #[error("not a valid backup: {0}")]
    Corrupt(String),
    /// The target directory already holds a node's data.
    #[error("{0}")]
    NotEmpty(String),
    /// Reading or writing failed.
    #[error("{0}")]
    Io(String),
}

/// What a restore wrote.
#[derive(Debug, Clone)]
pub struct RestoreSummary {
    /// Records written.
    pub pairs: u64,
    /// Index the source had applied when the backup was taken.
    pub source_applied: Option<u64>,
    /// The source cluster's id (the restored cluster gets a new one).
    pub source_cluster: Option<String>,
    /// Hex SHA-256 of the backup, recorded in the new state as `restored_from`.
    pub sha256: String,
}

fn frame_bytes(frame: &Frame) -> Result<Vec<u8>, String> {
    let body = codec::encode(frame).map_err(|e| e.to_string())?;
    let len = u32::try_from(body.len()).map_err(|_| "frame too large".to_string())?;
    let mut out = Vec::with_capacity(4 + body.len());
    out.extend_from_slice(&len.to_le_bytes());
    out.extend_from_slice(&body);
    Ok(out)
}

/// Writes the backup of `db` to `sink` chunk by chunk; `sink` returning `false` stops early.
pub(crate) fn export(db: &redb::Database, mut sink: impl FnMut(Vec<u8>) -> bool) -> Result<(), String> {
    let tx = db.begin_read().map_err(|e| e.to_string())?;
    let meta = tx.open_table(SM_META).map_err(|e| e.to_string())?;
    let get = |key: &str| meta.get(key).map(|v| v.map(|v| v.value().to_vec())).map_err(|e| e.to_string());
    let cluster_id = match get(KEY_CLUSTER_ID)? {
        Some(b) => Some(codec::decode_tagged::<ClusterId>(&b).map_err(|e| e.to_string())?.0),
        None => None,
    };
    let last_applied = match get(KEY_LAST_APPLIED)? {
        Some(b) => Some(codec::decode_tagged::<LogId>(&b).map_err(|e| e.to_string())?.index),
        None => None,
    };
    let mut hasher = Sha256::new();
    let mut emit = |bytes: Vec<u8>, hasher: &mut Sha256| {
        hasher.update(&bytes);
        sink(bytes)
    };
    let mut head = MAGIC.to_vec();
    head.extend(frame_bytes(&Frame::Header { format: FORMAT, cluster_id, last_applied })?);
    if !emit(head, &mut hasher) {
        return Ok(());
    }
    let data = tx.open_table(DATA).map_err(|e| e.to_string())?;
    let (mut batch, mut total) = (Vec::with_capacity(PAIRS_PER_FRAME), 0u64);
    for item in data.iter().map_err(|e| e.to_string())? {
        let (k, v) = item.map_err(|e| e.to_string())?;
        batch.push((ByteBuf::from(k.value()), ByteBuf::from(v.value())));
        total += 1;
        if batch.len() == PAIRS_PER_FRAME && !emit(frame_bytes(&Frame::Pairs(std::mem::take(&mut batch)))?, &mut hasher)
        {
            return Ok(());
        }
    }
    if !batch.is_empty() && !emit(frame_bytes(&Frame::Pairs(batch))?, &mut hasher) {
        return Ok(());
    }
    let sha256: [u8; 32] = hasher.finalize().into();
    sink(frame_bytes(&Frame::End { pairs: total, sha256 })?);
    Ok(())
}

/// Reads frames from a backup, hashing every byte before the `End` frame.
struct FrameReader<R> {
    inner: R,
    hasher: Sha256,
}

impl<R: Read> FrameReader<R> {
    fn read_exact(&mut self, buf: &mut [u8], what: &str) -> Result<(), BackupError> {
        self.inner.read_exact(buf).map_err(|e| match e.kind() {
            std::io::ErrorKind::UnexpectedEof => BackupError::Corrupt(format!("truncated in {what}")),
            _ => BackupError::Io(e.to_string()),
        })
    }

    /// The next frame, and the bytes it took (hashed by the caller unless it is `End`).
    fn next(&mut self) -> Result<(Frame, Vec<u8>), BackupError> {
        let mut len = [0u8; 4];
        self.read_exact(&mut len, "a frame header")?;
        let n = u32::from_le_bytes(len) as usize;
        if n > MAX_FRAME {
            return Err(BackupError::Corrupt(format!("frame of {n} bytes")));
        }
        let mut body = vec![0u8; n];
        self.read_exact(&mut body, "a frame")?;
        let frame = codec::decode(&body).map_err(|e| BackupError::Corrupt(format!("bad frame: {e}")))?;
        let mut raw = len.to_vec();
        raw.extend_from_slice(&body);
        Ok((frame, raw))
    }
}

/// Checks a whole backup (framing, order, checksum) without writing anything.
pub fn verify(input: impl Read) -> Result<RestoreSummary, BackupError> {
    read_backup(input, |_| Ok(()))
}

/// Seeds `data_dir` (which must not hold a node's data) for node `node_id` from a backup.
/// Nothing is committed unless the whole file reads back and its checksum matches.
pub fn restore(input: impl Read, data_dir: &Path, node_id: u64) -> Result<RestoreSummary, BackupError> {
    let io = |e: std::io::Error| BackupError::Io(format!("{}: {e}", data_dir.display()));
    for file in ["state.redb", "raft-log.redb"] {
        if data_dir.join(file).exists() {
            return Err(BackupError::NotEmpty(format!(
                "{} already holds {file}: restore only into an empty data directory",
                data_dir.display()
            )));
        }
    }
    crate::node::create_dir_durably(data_dir).map_err(io)?;
    let path = data_dir.join("state.redb");
    let result = (|| {
        let db = super::open_db(&path).map_err(io)?;
        let mut tx = db.begin_write().map_err(|e| BackupError::Io(e.to_string()))?;
        tx.set_durability(Durability::Immediate).map_err(|e| BackupError::Io(e.to_string()))?;
        let summary = {
            let mut data = tx.open_table(DATA).map_err(|e| BackupError::Io(e.to_string()))?;
            read_backup(input, |pairs| {
                for (k, v) in pairs {
                    data.insert(k.as_slice(), v.as_slice()).map_err(|e| BackupError::Io(e.to_string()))?;
                }
                Ok(())
            })?
        };
        {
            let mut meta = tx.open_table(SM_META).map_err(|e| BackupError::Io(e.to_string()))?;
            let mut put = |key: &str, bytes: Vec<u8>| {
                meta.insert(key, bytes.as_slice()).map(|_| ()).map_err(|e| BackupError::Io(e.to_string()))
            };
            let encode = |e: codec::CodecError| BackupError::Io(e.to_string());
            put(KEY_NODE_ID, codec::encode_tagged(&NodeIdentity(node_id)).map_err(encode)?)?;
            put(KEY_RESTORED_FROM, codec::encode_tagged(&RestoredFrom(summary.sha256.clone())).map_err(encode)?)?;
        }
        tx.commit().map_err(|e| BackupError::Io(e.to_string()))?;
        Ok(summary)
    })();
    if result.is_err() {
        // A half-written state must not pass for a node's data on the next try.
        let _ = std::fs::remove_file(&path);
    }
    result
}

fn read_backup(
    input: impl Read,
    mut on_pairs: impl FnMut(&[(ByteBuf, ByteBuf)]) -> Result<(), BackupError>,
) -> Result<RestoreSummary, BackupError> {
    let mut r = FrameReader { inner: input, hasher: Sha256::new() };
    let mut magic = vec![0u8; MAGIC.len()];
    r.read_exact(&mut magic, "the file header")?;
    if magic != MAGIC {
        return Err(BackupError::Corrupt("missing METARAFT-BACKUP header".into()));
    }
    r.hasher.update(&magic);
    let (source_cluster, source_applied) = match r.next()? {
        (Frame::Header { format: FORMAT, cluster_id, last_applied }, raw) => {
            r.hasher.update(&raw);
            (cluster_id, last_applied)
        }
        (Frame::Header { format, .. }, _) => return Err(BackupError::Corrupt(format!("unknown format {format}"))),
        _ => return Err(BackupError::Corrupt("first frame is not a header".into())),
    };
    let mut count = 0u64;
    let mut last_key: Option<ByteBuf> = None;
    loop {
        match r.next()? {
            (Frame::Pairs(pairs), raw) => {
                r.hasher.update(&raw);
                for (k, _) in &pairs {
                    if last_key.as_ref().is_some_and(|l| l >= k) {
                        return Err(BackupError::Corrupt("keys out of order".into()));
                    }
                    last_key = Some(k.clone());
                }
                count += pairs.len() as u64;
                on_pairs(&pairs)?;
            }
            (Frame::End { pairs, sha256 }, _) => {
                let actual: [u8; 32] = r.hasher.clone().finalize().into();
                if actual != sha256 {
                    return Err(BackupError::Corrupt("checksum mismatch".into()));
                }
                if pairs != count {
                    return Err(BackupError::Corrupt(format!("{count} records, the trailer says {pairs}")));
                }
                let mut rest = [0u8; 1];
                if r.inner.read(&mut rest).map_err(|e| BackupError::Io(e.to_string()))? != 0 {
                    return Err(BackupError::Corrupt("bytes after the end".into()));
                }
                let sha256 = actual.iter().map(|b| format!("{b:02x}")).collect();
                return Ok(RestoreSummary { pairs: count, source_applied, source_cluster, sha256 });
            }
            (Frame::Header { .. }, _) => return Err(BackupError::Corrupt("second header".into())),
        }
    }
}

#[cfg(test)]
mod test {
    use redb::ReadableTableMetadata as _;

    use super::*;

    fn sample_db(dir: &Path, n: u32) -> redb::Database {
        let db = super::super::open_db(&dir.join("src.redb")).unwrap();
        let tx = db.begin_write().unwrap();
        {
            let mut data = tx.open_table(DATA).unwrap();
            for i in 0..n {
                data.insert(format!("k{i:06}").as_bytes(), format!("v{i}").repeat(10).as_bytes()).unwrap();
            }
            tx.open_table(SM_META).unwrap();
        }
        tx.commit().unwrap();
        db
    }

    fn backup_of(db: &redb::Database) -> Vec<u8> {
        let mut out = Vec::new();
        export(db, |chunk| {
            out.extend(chunk);
            true
        })
        .unwrap();
        out
    }

    #[test]
    fn round_trip_and_corruption() {
        let dir = tempfile::tempdir().unwrap();
        let db = sample_db(dir.path(), 3000);
        let bytes = backup_of(&db);
        let summary = verify(bytes.as_slice()).unwrap();
        assert_eq!(summary.pairs, 3000);

        let target = dir.path().join("node");
        let restored = restore(bytes.as_slice(), &target, 7).unwrap();
        assert_eq!(restored.sha256, summary.sha256);
        let db2 = redb::Database::open(target.join("state.redb")).unwrap();
        let tx = db2.begin_read().unwrap();
        let data = tx.open_table(DATA).unwrap();
        assert_eq!(data.len().unwrap(), 3000);
        assert_eq!(data.get(b"k002999".as_slice()).unwrap().unwrap().value(), "v2999".repeat(10).as_bytes());
        drop((data, tx, db2));
        // Never over existing data.
        assert!(matches!(restore(bytes.as_slice(), &target, 7), Err(BackupError::NotEmpty(_))));

        // Any flipped byte, a truncation, or trailing junk is refused, and nothing is left behind.
        for (i, damaged) in [
            {
                let mut b = bytes.clone();
                b[bytes.len() / 2] ^= 0x40;
                b
            },
            bytes[..bytes.len() - 5].to_vec(),
            [bytes.as_slice(), b"x"].concat(),
            b"not a backup at all".to_vec(),
        ]
        .into_iter()
        .enumerate()
        {
            let t = dir.path().join(format!("bad{i}"));
            assert!(matches!(restore(damaged.as_slice(), &t, 1), Err(BackupError::Corrupt(_))), "case {i}");
            assert!(!t.join("state.redb").exists(), "case {i} left a state file");
        }
    }
}
