//! The state machine on `state.redb`: the application's map plus `last_applied`, membership and
//! the cluster id, always changed together in one transaction so they can never disagree.
//!
//! Snapshots are built from a redb read transaction (an MVCC view) on a task of their own, so
//! apply goes on while one is built; installing one replaces everything in one transaction.
//! A build and an install may overlap (openraft spawns builds); the current snapshot is only ever
//! replaced by a newer one.
//!
//! Apply does not fsync every batch: the Raft log already holds every applied entry durably, so
//! a crash only rolls the state machine back to its last durable commit and openraft re-applies
//! the rest from the log once the commit index is known again (reads wait for that: the read
//! index is at least the leader's first entry of its term). Two rules keep that true: the log is
//! never purged past the *durable* `last_applied` ([`StateStore::durable_last_applied`]), and a
//! durable commit happens at least every [`FLUSH_INTERVAL`] under load and on shutdown. This takes
//! one of three fsyncs off the path of every write.

use std::io::Cursor;
use std::sync::atomic::AtomicU64;
use std::sync::atomic::Ordering::Relaxed;
use std::sync::Arc;
use std::sync::Mutex;

use openraft::storage::RaftStateMachine;
use openraft::EntryPayload;
use openraft::ErrorSubject;
use openraft::ErrorVerb;
use openraft::OptionalSend;
use openraft::RaftSnapshotBuilder;
use redb::Durability;
use redb::ReadableDatabase;
use redb::ReadableTable;
use serde::de::DeserializeOwned;
use serde::Serialize;
use serde_bytes::ByteBuf;

use super::records::ClusterId;
use super::records::MembersEver;
use super::records::NodeIdentity;
use super::records::RestoredFrom;
use super::snapshot::SnapshotImage;
use super::tables::DATA;
use super::tables::KEY_CLUSTER_ID;
use super::tables::KEY_LAST_APPLIED;
use super::tables::KEY_MEMBERSHIP;
use super::tables::KEY_MEMBERS_EVER;
use super::tables::KEY_NODE_ID;
use super::tables::KEY_RESTORED_FROM;
use super::tables::SM_META;
use crate::app::Application;
use crate::codec;
use crate::kv::KvRead;
use crate::kv::KvWrite;
use crate::stats::Stats;
use crate::types::BatchReply;
use crate::types::Entry;
use crate::types::LogId;
use crate::types::Request;
use crate::types::Snapshot;
use crate::types::SnapshotMeta;
use crate::types::StorageError;
use crate::types::StorageIOError;
use crate::types::StoredMembership;
use crate::types::TypeConfig;

fn sm_err(verb: ErrorVerb, e: impl ToString) -> StorageError {
    StorageIOError::new(ErrorSubject::StateMachine, verb, openraft::AnyError::error(e.to_string())).into()
}
fn snap_err(verb: ErrorVerb, e: impl ToString) -> StorageError {
    StorageIOError::new(ErrorSubject::Snapshot(None), verb, openraft::AnyError::error(e.to_string())).into()
}

/// Longest time an applied batch may stay without an fsync while writes keep coming. The durable
/// commit writes out everything buffered since the last one and stalls apply meanwhile: at 500 ms
/// that was 13–25 ms under create_instance load and the p99; at 100 ms the stall is a few ms and
/// throughput is unchanged (A/B at 64 clients: p99 18–20 → 11–12 ms).
pub(crate) const FLUSH_INTERVAL: std::time::Duration = std::time::Duration::from_millis(100);

/// The state machine's storage, shared by the openraft worker, snapshot builders and readers.
pub(crate) struct StateStore {
    db: redb::Database,
    app: Arc<dyn Application>,
    current: Mutex<Option<(SnapshotMeta, Arc<Vec<u8>>)>>,
    snapshot_seq: AtomicU64,
    /// `last_applied` as of the last fsynced commit, and when that was.
    durable: Mutex<(Option<LogId>, std::time::Instant)>,
}

fn get_meta<T: DeserializeOwned + codec::Tagged>(
    table: &impl ReadableTable<&'static str, &'static [u8]>,
    key: &str,
) -> Result<Option<T>, String> {
    match table.get(key).map_err(|e| e.to_string())? {
        Some(v) => codec::decode_tagged(v.value()).map(Some).map_err(|e| e.to_string()),
        None => Ok(None),
    }
}

fn put_meta<T: Serialize + codec::Tagged>(
    table: &mut redb::Table<&'static str, &'static [u8]>,
    key: &str,
    v: &T,
) -> Result<(), String> {
    let bytes = codec::encode_tagged(v).map_err(|e| e.to_string())?;
    table.insert(key, bytes.as_slice()).map_err(|e| e.to_string())?;
    Ok(())
}

impl StateStore {
    pub fn open(db: redb::Database, app: Arc<dyn Application>) -> Result<Arc<Self>, StorageError> {
        let tx = db.begin_write().map_err(|e| sm_err(ErrorVerb::Write, e))?;
        tx.open_table(DATA).map_err(|e| sm_err(ErrorVerb::Write, e))?;
        tx.open_table(SM_META).map_err(|e| sm_err(ErrorVerb::Write, e))?;
        tx.commit().map_err(|e| sm_err(ErrorVerb::Write, e))?;
        let store = StateStore {
            db,
            app,
            current: Mutex::new(None),
            snapshot_seq: AtomicU64::new(0),
            durable: Mutex::new((None, std::time::Instant::now())),
        };
        // Whatever is on disk at open is durable.
        let applied = store.read_meta::<LogId>(KEY_LAST_APPLIED)?;
        store.mark_durable(applied);
        Ok(Arc::new(store))
    }

    fn mark_durable(&self, applied: Option<LogId>) {
        if let Ok(mut d) = self.durable.lock() {
            *d = (applied.max(d.0), std::time::Instant::now());
        }
    }

    /// Makes every applied batch durable (one fsync), e.g. before a clean shutdown.
    pub fn flush(&self) -> Result<(), StorageError> {
        let mut tx = self.db.begin_write().map_err(|e| sm_err(ErrorVerb::Write, e))?;
        tx.set_durability(Durability::Immediate).map_err(|e| sm_err(ErrorVerb::Write, e))?;
        let applied = {
            let t = tx.open_table(SM_META).map_err(|e| sm_err(ErrorVerb::Write, e))?;
            get_meta::<LogId>(&t, KEY_LAST_APPLIED).map_err(|e| sm_err(ErrorVerb::Read, e))?
        };
        tx.commit().map_err(|e| sm_err(ErrorVerb::Write, e))?;
        self.mark_durable(applied);
        Ok(())
    }

    fn read_meta<T: DeserializeOwned + codec::Tagged>(&self, key: &str) -> Result<Option<T>, StorageError> {
        let tx = self.db.begin_read().map_err(|e| sm_err(ErrorVerb::Read, e))?;
        let table = tx.open_table(SM_META).map_err(|e| sm_err(ErrorVerb::Read, e))?;
        get_meta(&table, key).map_err(|e| sm_err(ErrorVerb::Read, e))
    }

    /// The node id this directory belongs to, recording `node_id` on the first start.
    pub fn claim_node_id(&self, node_id: u64) -> Result<u64, StorageError> {
        if let Some(NodeIdentity(owner)) = self.read_meta::<NodeIdentity>(KEY_NODE_ID)? {
            return Ok(owner);
        }
        let tx = self.db.begin_write().map_err(|e| sm_err(ErrorVerb::Write, e))?;
        {
            let mut t = tx.open_table(SM_META).map_err(|e| sm_err(ErrorVerb::Write, e))?;
            put_meta(&mut t, KEY_NODE_ID, &NodeIdentity(node_id)).map_err(|e| sm_err(ErrorVerb::Write, e))?;
        }
        tx.commit().map_err(|e| sm_err(ErrorVerb::Write, e))?;
        Ok(node_id)
    }

    /// The checksum of the backup this state was restored from, if any.
    pub fn restored_from(&self) -> Result<Option<String>, StorageError> {
        Ok(self.read_meta::<RestoredFrom>(KEY_RESTORED_FROM)?.map(|r| r.0))
    }

    /// Streams a backup of the applied state (see `backup`); `sink` returning false stops it.
    pub fn export(&self, sink: impl FnMut(Vec<u8>) -> bool) -> Result<(), String> {
        super::backup::export(&self.db, sink)
    }

    /// Every node id that was ever a member, as applied here.
    pub fn members_ever(&self) -> Result<std::collections::BTreeSet<u64>, StorageError> {
        Ok(self.read_meta::<MembersEver>(KEY_MEMBERS_EVER)?.unwrap_or_default().0)
    }

    pub fn cluster_id(&self) -> Result<Option<String>, StorageError> {
        Ok(self.read_meta::<ClusterId>(KEY_CLUSTER_ID)?.map(|c| c.0))
    }

    pub fn read(&self) -> Result<KvRead, crate::kv::KvError> {
        KvRead::open(&self.db)
    }

    pub fn snapshot_index(&self) -> Option<u64> {
        self.current.lock().ok().and_then(|c| c.as_ref().and_then(|(m, _)| m.last_log_id.map(|l| l.index)))
    }

    fn apply_blocking(&self, entries: Vec<Entry>) -> Result<Vec<BatchReply>, String> {
        let mut replies = Vec::with_capacity(entries.len());
        let Some(last) = entries.last().map(|e| e.log_id) else {
            return Ok(replies);
        };
        let durable = self.durable.lock().map(|d| d.1.elapsed() >= FLUSH_INTERVAL).unwrap_or(true);
        let mut tx = self.db.begin_write().map_err(|e| e.to_string())?;
        tx.set_durability(if durable { Durability::Immediate } else { Durability::None }).map_err(|e| e.to_string())?;
        {
            let mut data = tx.open_table(DATA).map_err(|e| e.to_string())?;
            let mut meta = tx.open_table(SM_META).map_err(|e| e.to_string())?;
            for entry in entries {
                match entry.payload {
                    EntryPayload::Blank => replies.push(BatchReply::default()),
                    EntryPayload::Normal(batch) => {
                        let mut out = Vec::with_capacity(batch.0.len());
                        for req in batch.0 {
                            match req {
                                Request::App(cmd) => {
                                    let mut kv = KvWrite::new(&mut data);
                                    out.push(ByteBuf::from(self.app.apply(&mut kv, &cmd).map_err(|e| e.to_string())?));
                                }
                                Request::SetClusterId(id) => {
                                    // First stamp wins; a re-proposal after a leader change is a no-op.
                                    if get_meta::<ClusterId>(&meta, KEY_CLUSTER_ID)?.is_none() {
                                        put_meta(&mut meta, KEY_CLUSTER_ID, &ClusterId(id))?;
                                    }
                                    out.push(ByteBuf::new());
                                }
                            }
                        }
                        replies.push(BatchReply(out));
                    }
                    EntryPayload::Membership(m) => {
                        let mut ever: MembersEver = get_meta(&meta, KEY_MEMBERS_EVER)?.unwrap_or_default();
                        if m.nodes().any(|(id, _)| !ever.0.contains(id)) {
                            ever.0.extend(m.nodes().map(|(id, _)| *id));
                            put_meta(&mut meta, KEY_MEMBERS_EVER, &ever)?;
                        }
                        put_meta(&mut meta, KEY_MEMBERSHIP, &StoredMembership::new(Some(entry.log_id), m))?;
                        replies.push(BatchReply::default());
                    }
                }
            }
            put_meta(&mut meta, KEY_LAST_APPLIED, &last)?;
        }
        tx.commit().map_err(|e| e.to_string())?;
        if durable {
            self.mark_durable(Some(last));
        }
        Ok(replies)
    }

    fn build_blocking(&self) -> Result<(SnapshotMeta, Vec<u8>), String> {
        // A read transaction is an MVCC view: apply keeps committing while we copy.
        let tx = self.db.begin_read().map_err(|e| e.to_string())?;
        let meta_t = tx.open_table(SM_META).map_err(|e| e.to_string())?;
        let last_applied: Option<LogId> = get_meta(&meta_t, KEY_LAST_APPLIED)?;
        let membership: StoredMembership = get_meta(&meta_t, KEY_MEMBERSHIP)?.unwrap_or_default();
        let cluster_id = get_meta::<ClusterId>(&meta_t, KEY_CLUSTER_ID)?.map(|c| c.0);
        let members_ever = get_meta::<MembersEver>(&meta_t, KEY_MEMBERS_EVER)?.unwrap_or_default().0;
        let data = tx.open_table(DATA).map_err(|e| e.to_string())?;
        let mut pairs = Vec::new();
        for item in data.iter().map_err(|e| e.to_string())? {
            let (k, v) = item.map_err(|e| e.to_string())?;
            pairs.push((ByteBuf::from(k.value()), ByteBuf::from(v.value())));
        }
        let seq = self.snapshot_seq.fetch_add(1, Relaxed);
        let snapshot_id = match last_applied {
            Some(l) => format!("{}-{}-{}", l.leader_id.term, l.index, seq),
            None => format!("0-0-{seq}"),
        };
        let meta = SnapshotMeta { last_log_id: last_applied, last_membership: membership, snapshot_id };
        let image = SnapshotImage { meta: meta.clone(), cluster_id, members_ever, pairs };
        let bytes = codec::encode_tagged(&image).map_err(|e| e.to_string())?;
        Ok((meta, bytes))
    }

    fn install_blocking(&self, expected: &SnapshotMeta, bytes: &[u8]) -> Result<(), String> {
        let image: SnapshotImage = codec::decode_tagged(bytes).map_err(|e| e.to_string())?;
        if image.meta.last_log_id != expected.last_log_id {
            return Err(format!(
                "snapshot image covers {:?}, its metadata says {:?}",
                image.meta.last_log_id, expected.last_log_id
            ));
        }
        let mut tx = self.db.begin_write().map_err(|e| e.to_string())?;
        tx.set_durability(Durability::Immediate).map_err(|e| e.to_string())?;
        {
            let mut data = tx.open_table(DATA).map_err(|e| e.to_string())?;
            data.retain(|_, _| false).map_err(|e| e.to_string())?;
            for (k, v) in &image.pairs {
                data.insert(k.as_slice(), v.as_slice()).map_err(|e| e.to_string())?;
            }
            let mut meta = tx.open_table(SM_META).map_err(|e| e.to_string())?;
            match &image.meta.last_log_id {
                Some(l) => put_meta(&mut meta, KEY_LAST_APPLIED, l)?,
                None => {
                    meta.remove(KEY_LAST_APPLIED).map_err(|e| e.to_string())?;
                }
            }
            put_meta(&mut meta, KEY_MEMBERSHIP, &image.meta.last_membership)?;
            if let Some(id) = &image.cluster_id {
                put_meta(&mut meta, KEY_CLUSTER_ID, &ClusterId(id.clone()))?;
            }
            put_meta(&mut meta, KEY_MEMBERS_EVER, &MembersEver(image.members_ever.clone()))?;
        }
        tx.commit().map_err(|e| e.to_string())?;
        // Replaces the state wholesale: the durable point is exactly the image's, even if lower.
        if let Ok(mut d) = self.durable.lock() {
            *d = (image.meta.last_log_id, std::time::Instant::now());
        }
        Ok(())
    }

    /// Makes `meta` the current snapshot unless a newer one is already current.
    fn set_current(&self, meta: SnapshotMeta, bytes: Vec<u8>) {
        if let Ok(mut cur) = self.current.lock() {
            if cur.as_ref().is_none_or(|(m, _)| m.last_log_id <= meta.last_log_id) {
                *cur = Some((meta, Arc::new(bytes)));
            }
        }
    }

    /// `last_applied` as fsynced to disk: the floor below which the log may be purged (entries
    /// above it may have to be re-applied after a crash).
    pub fn durable_last_applied(&self) -> Result<Option<LogId>, StorageError> {
        self.durable.lock().map(|d| d.0).map_err(|e| sm_err(ErrorVerb::Read, e))
    }
}

/// openraft's handle on the state machine. Clones share the store.
#[derive(Clone)]
pub(crate) struct StateMachine {
    store: Arc<StateStore>,
    stats: Arc<Stats>,
}

impl StateMachine {
    pub fn new(store: Arc<StateStore>, stats: Arc<Stats>) -> Self {
        StateMachine { store, stats }
    }
}

async fn blocking<T: Send + 'static>(
    f: impl FnOnce() -> Result<T, String> + Send + 'static,
    on_err: fn(ErrorVerb, String) -> StorageError,
    verb: ErrorVerb,
) -> Result<T, StorageError> {
    match tokio::task::spawn_blocking(f).await {
        Ok(Ok(v)) => Ok(v),
        Ok(Err(e)) => Err(on_err(verb, e)),
        Err(join) => Err(on_err(verb, join.to_string())),
    }
}

impl RaftSnapshotBuilder<TypeConfig> for StateMachine {
    async fn build_snapshot(&mut self) -> Result<Snapshot, StorageError> {
        let store = self.store.clone();
        let started = std::time::Instant::now();
        let (meta, bytes) = blocking(move || store.build_blocking(), snap_err, ErrorVerb::Write).await?;
        self.stats.hist.snapshot_build_seconds.observe(started.elapsed().as_secs_f64());
        self.stats.hist.snapshot_bytes.observe(bytes.len() as f64);
        self.store.set_current(meta.clone(), bytes.clone());
        tracing::info!(snapshot = %meta.snapshot_id, bytes = bytes.len(), "snapshot built");
        Ok(Snapshot { meta, snapshot: Box::new(Cursor::new(bytes)) })
    }
}

impl RaftStateMachine<TypeConfig> for StateMachine {
    type SnapshotBuilder = Self;

    async fn applied_state(&mut self) -> Result<(Option<LogId>, StoredMembership), StorageError> {
        let last = self.store.read_meta::<LogId>(KEY_LAST_APPLIED)?;
        let membership = self.store.read_meta::<StoredMembership>(KEY_MEMBERSHIP)?.unwrap_or_default();
        Ok((last, membership))
    }

    async fn apply<I>(&mut self, entries: I) -> Result<Vec<BatchReply>, StorageError>
    where
        I: IntoIterator<Item = Entry> + OptionalSend,
        I::IntoIter: OptionalSend,
    {
        let entries: Vec<Entry> = entries.into_iter().collect();
        let started = std::time::Instant::now();
        let cost = super::Cost::of_entries(entries.len());
        let replies =
            super::in_place(cost, || self.store.apply_blocking(entries)).map_err(|e| sm_err(ErrorVerb::Write, e));
        self.stats.hist.apply_seconds.observe(started.elapsed().as_secs_f64());
        replies
    }

    async fn get_snapshot_builder(&mut self) -> Self::SnapshotBuilder {
        self.clone()
    }

    async fn begin_receiving_snapshot(&mut self) -> Result<Box<Cursor<Vec<u8>>>, StorageError> {
        Ok(Box::new(Cursor::new(Vec::new())))
    }

    async fn install_snapshot(
        &mut self,
        meta: &SnapshotMeta,
        snapshot: Box<Cursor<Vec<u8>>>,
    ) -> Result<(), StorageError> {
        let bytes = snapshot.into_inner();
        self.stats.hist.snapshot_bytes.observe(bytes.len() as f64);
        let started = std::time::Instant::now();
        let store = self.store.clone();
        let expected = meta.clone();
        let bytes =
            blocking(move || store.install_blocking(&expected, &bytes).map(|()| bytes), snap_err, ErrorVerb::Write)
                .await?;
        self.stats.hist.snapshot_install_seconds.observe(started.elapsed().as_secs_f64());
        tracing::info!(snapshot = %meta.snapshot_id, "snapshot installed");
        self.store.set_current(meta.clone(), bytes);
        Ok(())
    }

    async fn get_current_snapshot(&mut self) -> Result<Option<Snapshot>, StorageError> {
        let cur = self.store.current.lock().map_err(|e| snap_err(ErrorVerb::Read, e))?.clone();
        Ok(cur.map(|(meta, bytes)| Snapshot { meta, snapshot: Box::new(Cursor::new(bytes.to_vec())) }))
    }
}
