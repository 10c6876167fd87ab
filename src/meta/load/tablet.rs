//! Tablets (spec §2): `create_tablets`, `update_tablet`, `prepare_rowset`, `commit_rowset`
//! (writes) and `get_tablet`, `get_tablet_stats`, `get_version` (reads), plus the stats and
//! rowset helpers `commit_txn` and compaction share.

use std::collections::btree_map::Entry;
use std::collections::BTreeMap;

use metaraft_raft::KvRead;
use metaraft_raft::KvWrite;

use super::super::error::MetaError;
use super::super::error::ServiceCode;
use super::super::pb_tablet::RowsetMetaCloudPb;
use super::super::pb_tablet::TabletMetaCloudPb;
use super::super::pb_tablet::TabletSchemaCloudPb;
use super::super::resolve::Scan;
use super::super::store::load;
use super::super::store::save;
use super::super::store::Get;
use super::super::store::Outcome;
use super::instance_of;
use super::refused;
use crate::keys;
use crate::keys::load as key;
use crate::keys::load::TabletPlace;
use crate::meta::pb_txn::*;

/// The place a tablet index names.
pub fn place_of(index: &TabletIndexPb) -> TabletPlace {
    TabletPlace {
        table: index.table_id.unwrap_or(0),
        index: index.index_id.unwrap_or(0),
        partition: index.partition_id.unwrap_or(0),
        tablet: index.tablet_id.unwrap_or(0),
    }
}

/// A tablet's index record; TABLET_NOT_FOUND as `get_tablet_idx` words it.
pub fn tablet_index(kv: &impl Get, iid: &str, tablet_id: i64) -> Outcome<TabletIndexPb> {
    let index_key = key::tablet_index(iid, tablet_id);
    load::<TabletIndexPb>(kv, &index_key)?.ok_or_else(|| {
        let msg =
            format!("failed to get tablet_idx, err=KeyNotFound tablet_id={tablet_id} key={}", keys::hex(&index_key));
        MetaError::new(ServiceCode::TabletNotFound, msg).into()
    })
}

/// The index given in a request, completed from `tablet_index` when any id is missing.
pub fn complete_index(kv: &impl Get, iid: &str, given: &TabletIndexPb) -> Outcome<TabletIndexPb> {
    let complete = given.table_id.is_some()
        && given.index_id.is_some()
        && given.partition_id.is_some()
        && given.tablet_id.is_some();
    if complete {
        Ok(given.clone())
    } else {
        tablet_index(kv, iid, given.tablet_id.unwrap_or(0))
    }
}

/// Decoded rowsets under `prefix`, with their keys, in key order.
pub fn scan_rowsets(kv: &impl Scan, prefix: &[u8]) -> Outcome<Vec<(Vec<u8>, RowsetMetaCloudPb)>> {
    let mut out = Vec::new();
    for (k, _) in kv.scan_raw(prefix)? {
        if let Some(rowset) = load::<RowsetMetaCloudPb>(kv, &k)? {
            out.push((k, rowset));
        }
    }
    Ok(out)
}

/// What committed rowsets add to a tablet's stats.
#[derive(Debug, Default, Clone, Copy)]
pub struct StatsDelta {
    pub rowsets: i64,
    pub segments: i64,
    pub rows: i64,
    pub data_size: i64,
}

impl StatsDelta {
    /// Counts one rowset in.
    pub fn add_rowset(&mut self, rowset: &RowsetMetaCloudPb) {
        self.rowsets += 1;
        self.segments += rowset.num_segments.unwrap_or(0);
        self.rows += rowset.num_rows.unwrap_or(0);
        self.data_size += rowset.total_disk_size.unwrap_or(0);
    }
}

/// Adds a load's rowsets to a tablet's stats. As Doris does, rows, size and segments move only
/// when the rowsets have segments (empty rowsets only count as rowsets).
pub fn apply_load_delta(kv: &mut KvWrite<'_, '_>, iid: &str, at: TabletPlace, delta: &StatsDelta) -> Outcome<()> {
    let stats_key = key::tablet_stats(iid, at);
    let mut stats = load::<TabletStatsPb>(kv, &stats_key)?.unwrap_or_else(|| TabletStatsPb {
        idx: Some(TabletIndexPb {
            table_id: Some(at.table),
            index_id: Some(at.index),
            partition_id: Some(at.partition),
            tablet_id: Some(at.tablet),
            db_id: None,
        }),
        ..Default::default()
    });
    let add = |field: &mut Option<i64>, by: i64| *field = Some(field.unwrap_or(0).saturating_add(by));
    add(&mut stats.num_rowsets, delta.rowsets);
    if delta.segments > 0 {
        add(&mut stats.num_segments, delta.segments);
        add(&mut stats.num_rows, delta.rows);
        add(&mut stats.data_size, delta.data_size);
    }
    save(kv, &stats_key, &stats)
}

/// Stats as Doris's merged read returns them: the four counters always present.
pub fn merged(mut stats: TabletStatsPb) -> TabletStatsPb {
    stats.data_size = Some(stats.data_size.unwrap_or(0).max(0));
    stats.num_rows = Some(stats.num_rows.unwrap_or(0));
    stats.num_rowsets = Some(stats.num_rowsets.unwrap_or(0));
    stats.num_segments = Some(stats.num_segments.unwrap_or(0));
    stats
}

/// `create_tablets`: each tablet's meta (schema detached), index, first rowset and fresh stats.
/// Like Doris, an existing tablet is overwritten (FE retries), and a refused tablet leaves the
/// ones before it created.
pub fn create_tablets(
    kv: &mut KvWrite<'_, '_>,
    req: &CreateTabletsRequest,
    _now: i64,
) -> Outcome<CreateTabletsResponse> {
    if req.tablet_metas.is_empty() {
        return Err(MetaError::invalid_argument("no tablet meta").into());
    }
    let iid = instance_of(kv, req.cloud_unique_id.as_deref(), || "empty instance_id".into())?;
    for meta in &req.tablet_metas {
        let schema_version = match (&meta.schema, meta.schema_version) {
            (_, Some(v)) => v,
            (Some(schema), None) => schema.schema_version.unwrap_or(0),
            (None, None) => {
                return Err(MetaError::invalid_argument("tablet_meta must have either schema or schema_version").into())
            }
        };
        let at = TabletPlace {
            table: meta.table_id.unwrap_or(0),
            index: meta.index_id.unwrap_or(0),
            partition: meta.partition_id.unwrap_or(0),
            tablet: meta.tablet_id.unwrap_or(0),
        };
        if let Some(first) = meta.rs_metas.first() {
            let mut rowset = first.clone();
            rowset.tablet_schema = None;
            rowset.index_id = Some(at.index);
            rowset.schema_version = Some(schema_version);
            save(kv, &key::rowset(&iid, at.tablet, rowset.end_version.unwrap_or(1)), &rowset)?;
        }
        if let Some(schema) = &meta.schema {
            let mut schema = schema.clone();
            schema.schema_version = Some(schema_version);
            for column in &mut schema.column {
                if column.r#type.as_deref() == Some("DECIMAL128") {
                    column.r#type = Some("DECIMAL128I".into());
                }
            }
            save(kv, &key::tablet_schema(&iid, at.index, i64::from(schema_version)), &schema)?;
        }
        let mut stored = meta.clone();
        stored.schema = None;
        stored.rs_metas = Vec::new();
        stored.schema_version = Some(schema_version);
        save(kv, &key::tablet_meta(&iid, at), &stored)?;
        let index = TabletIndexPb {
            db_id: req.db_id,
            table_id: Some(at.table),
            index_id: Some(at.index),
            partition_id: Some(at.partition),
            tablet_id: Some(at.tablet),
        };
        save(kv, &key::tablet_index(&iid, at.tablet), &index)?;
        let stats = TabletStatsPb {
            idx: Some(TabletIndexPb { db_id: None, ..index }),
            num_rowsets: Some(1),
            num_segments: Some(0),
            base_compaction_cnt: Some(0),
            cumulative_compaction_cnt: Some(0),
            cumulative_point: Some(2),
            ..Default::default()
        };
        save(kv, &key::tablet_stats(&iid, at), &stats)?;
    }
    Ok(CreateTabletsResponse::default())
}

/// The stored meta of a tablet, by id.
fn stored_meta(kv: &impl Get, iid: &str, tablet_id: i64) -> Outcome<(TabletPlace, TabletMetaCloudPb)> {
    let index = tablet_index(kv, iid, tablet_id)?;
    if index.tablet_id != Some(tablet_id) {
        return Err(MetaError::undefined("internal error").into());
    }
    let at = place_of(&index);
    let meta = load::<TabletMetaCloudPb>(kv, &key::tablet_meta(iid, at))?
        .ok_or_else(|| MetaError::new(ServiceCode::TabletNotFound, "failed to get tablet, err=not found"))?;
    Ok((at, meta))
}

/// `get_tablet`: the meta with its schema attached (rowsets are not returned).
pub fn get_tablet(kv: &KvRead, req: &GetTabletRequest, _now: i64) -> Outcome<GetTabletResponse> {
    let iid = instance_of(kv, req.cloud_unique_id.as_deref(), || "empty instance_id".into())?;
    let (at, mut meta) = stored_meta(kv, &iid, req.tablet_id.unwrap_or(0))?;
    let version = i64::from(meta.schema_version.unwrap_or(0));
    let schema = load::<TabletSchemaCloudPb>(kv, &key::tablet_schema(&iid, at.index, version))?
        .ok_or_else(|| MetaError::kv_get("failed to get schema, err=not found"))?;
    meta.schema = Some(schema);
    Ok(GetTabletResponse { tablet_meta: Some(meta), ..Default::default() })
}

/// `update_tablet`: one property per `TabletMetaInfoPB` (the first present, in field order).
/// All or nothing, as Doris's single FDB transaction: changes are staged and written only when
/// every info succeeded. Several infos may name the same tablet (FE sends one per property), so
/// each one edits the meta as the previous one left it.
pub fn update_tablet(kv: &mut KvWrite<'_, '_>, req: &UpdateTabletRequest, _now: i64) -> Outcome<StatusResponse> {
    let iid = instance_of(kv, req.cloud_unique_id.as_deref(), || "empty instance_id".into())?;
    let mut metas: BTreeMap<i64, (TabletPlace, TabletMetaCloudPb)> = BTreeMap::new();
    for info in &req.tablet_meta_infos {
        let id = info.tablet_id.unwrap_or(0);
        if let Entry::Vacant(e) = metas.entry(id) {
            e.insert(stored_meta(kv, &iid, id)?);
        }
    }
    let mut schemas: BTreeMap<Vec<u8>, TabletSchemaCloudPb> = BTreeMap::new();
    for info in &req.tablet_meta_infos {
        let Some((at, meta)) = metas.get_mut(&info.tablet_id.unwrap_or(0)) else { continue };
        if let Some(v) = info.is_in_memory {
            meta.is_in_memory = Some(v);
        } else if let Some(v) = info.is_persistent {
            meta.is_persistent = Some(v);
        } else if let Some(v) = info.ttl_seconds {
            meta.ttl_seconds = Some(v);
        } else if info.group_commit_interval_ms.is_some() || info.group_commit_data_bytes.is_some() {
            // Reserved tablet-meta fields in current Doris: accepted, nothing to store.
        } else if let Some(v) = &info.compaction_policy {
            meta.compaction_policy = Some(v.clone());
        } else if let Some(v) = info.time_series_compaction_goal_size_mbytes {
            meta.time_series_compaction_goal_size_mbytes = Some(v);
        } else if let Some(v) = info.time_series_compaction_file_count_threshold {
            meta.time_series_compaction_file_count_threshold = Some(v);
        } else if let Some(v) = info.time_series_compaction_time_threshold_seconds {
            meta.time_series_compaction_time_threshold_seconds = Some(v);
        } else if let Some(v) = info.time_series_compaction_empty_rowsets_threshold {
            meta.time_series_compaction_empty_rowsets_threshold = Some(v);
        } else if let Some(v) = info.time_series_compaction_level_threshold {
            meta.time_series_compaction_level_threshold = Some(v);
        } else if let Some(v) = info.disable_auto_compaction {
            let schema_key = key::tablet_schema(&iid, at.index, i64::from(meta.schema_version.unwrap_or(0)));
            let schema = match schemas.entry(schema_key) {
                Entry::Occupied(e) => e.into_mut(),
                Entry::Vacant(e) => {
                    let stored = load::<TabletSchemaCloudPb>(kv, e.key())?
                        .ok_or_else(|| MetaError::kv_get("failed to get schema, err=not found"))?;
                    e.insert(stored)
                }
            };
            schema.disable_auto_compaction = Some(v);
        }
    }
    for (at, meta) in metas.into_values() {
        save(kv, &key::tablet_meta(&iid, at), &meta)?;
    }
    for (schema_key, schema) in schemas {
        save(kv, &schema_key, &schema)?;
    }
    Ok(StatusResponse::default())
}

/// `get_tablet_stats` (also the HTTP route): merged stats of each tablet asked for.
pub fn get_tablet_stats(kv: &KvRead, req: &GetTabletStatsRequest, _now: i64) -> Outcome<GetTabletStatsResponse> {
    let iid = instance_of(kv, req.cloud_unique_id.as_deref(), || "empty instance_id".into())?;
    let mut response = GetTabletStatsResponse::default();
    for given in &req.tablet_idx {
        let index = complete_index(kv, &iid, given)?;
        let at = place_of(&index);
        let stats = load::<TabletStatsPb>(kv, &key::tablet_stats(&iid, at))?.ok_or_else(|| {
            MetaError::new(ServiceCode::TabletNotFound, format!("tablet stats not found, tablet_id={}", at.tablet))
        })?;
        response.tablet_stats.push(merged(stats));
    }
    Ok(response)
}

fn flag(b: bool) -> u8 {
    u8::from(b)
}

/// `get_version`: a partition's (or table's) visible version, or a batch of them (−1 when
/// unknown).
pub fn get_version(kv: &KvRead, req: &GetVersionRequest, _now: i64) -> Outcome<GetVersionResponse> {
    let table_version = req.is_table_version == Some(true);
    let version_key = |iid: &str, db: i64, table: i64, partition: i64| {
        if table_version {
            key::table_version(iid, db, table)
        } else {
            key::partition_version(iid, db, table, partition)
        }
    };
    if req.batch_mode == Some(true) {
        let n = req.db_ids.len();
        if n == 0 || req.table_ids.len() != n || (!table_version && req.partition_ids.len() != n) {
            let msg = format!(
                "param error, num db_ids={} num table_ids={} num partition_ids={} is_table_version={}",
                n,
                req.table_ids.len(),
                req.partition_ids.len(),
                flag(table_version)
            );
            return Err(MetaError::invalid_argument(msg).into());
        }
        let iid = instance_of(kv, req.cloud_unique_id.as_deref(), || "empty instance_id".into())?;
        let mut response = GetVersionResponse {
            db_ids: req.db_ids.clone(),
            table_ids: req.table_ids.clone(),
            partition_ids: req.partition_ids.clone(),
            ..Default::default()
        };
        for i in 0..n {
            let partition = req.partition_ids.get(i).copied().unwrap_or(0);
            let v = load::<VersionPb>(kv, &version_key(&iid, req.db_ids[i], req.table_ids[i], partition))?;
            response.versions.push(v.as_ref().and_then(|v| v.version).unwrap_or(-1));
            response.version_update_time_ms.push(v.and_then(|v| v.update_time_ms).unwrap_or(-1));
        }
        return Ok(response);
    }
    let (Some(db), Some(table)) = (req.db_id, req.table_id) else {
        return Err(params_error(req, table_version));
    };
    if !table_version && req.partition_id.is_none() {
        return Err(params_error(req, table_version));
    }
    let iid = instance_of(kv, req.cloud_unique_id.as_deref(), || "empty instance_id".into())?;
    let stored = load::<VersionPb>(kv, &version_key(&iid, db, table, req.partition_id.unwrap_or(0)))?;
    let Some(VersionPb { version: Some(version), update_time_ms, .. }) = stored else {
        return Err(MetaError::new(ServiceCode::VersionNotFound, "not found").into());
    };
    let mut response = GetVersionResponse { version: Some(version), ..Default::default() };
    if !table_version {
        response.version_update_time_ms.extend(update_time_ms);
    }
    Ok(response)
}

fn params_error(req: &GetVersionRequest, table_version: bool) -> super::super::store::Failure {
    let msg = format!(
        "params error, db_id={} table_id={} partition_id={} is_table_version={}",
        req.db_id.unwrap_or(-1),
        req.table_id.unwrap_or(-1),
        req.partition_id.unwrap_or(-1),
        flag(table_version)
    );
    MetaError::invalid_argument(msg).into()
}

/// The temporary-rowset key of a request, after Doris's checks.
fn tmp_rowset_of(kv: &impl Scan, req: &CreateRowsetRequest) -> Outcome<(String, RowsetMetaCloudPb, Vec<u8>)> {
    let Some(rowset) = &req.rowset_meta else {
        return Err(MetaError::invalid_argument("no rowset meta").into());
    };
    let iid = instance_of(kv, req.cloud_unique_id.as_deref(), || "empty instance_id".into())?;
    let tmp_key = key::rowset_tmp(&iid, rowset.txn_id.unwrap_or(0), rowset.tablet_id.unwrap_or(0));
    Ok((iid, rowset.clone(), tmp_key))
}

/// `prepare_rowset`: refuses a temporary rowset that already exists (no object bookkeeping).
pub fn prepare_rowset(kv: &mut KvWrite<'_, '_>, req: &CreateRowsetRequest, _now: i64) -> Outcome<CreateRowsetResponse> {
    let (_, _, tmp_key) = tmp_rowset_of(kv, req)?;
    if let Some(existed) = load::<RowsetMetaCloudPb>(kv, &tmp_key)? {
        let response = CreateRowsetResponse { existed_rowset_meta: Some(existed), ..Default::default() };
        return refused(response, ServiceCode::AlreadyExisted, "rowset already exists");
    }
    Ok(CreateRowsetResponse::default())
}

/// `commit_rowset`: records a load's (or compaction's) temporary rowset, schema detached;
/// idempotent for the same `rowset_id_v2`.
pub fn commit_rowset(kv: &mut KvWrite<'_, '_>, req: &CreateRowsetRequest, _now: i64) -> Outcome<CreateRowsetResponse> {
    let (iid, mut rowset, tmp_key) = tmp_rowset_of(kv, req)?;
    if rowset.tablet_schema.is_none() && rowset.schema_version.is_none() {
        return Err(MetaError::invalid_argument("rowset_meta must have either schema or schema_version").into());
    }
    if let Some(existed) = load::<RowsetMetaCloudPb>(kv, &tmp_key)? {
        if existed.rowset_id_v2 == rowset.rowset_id_v2 {
            return Ok(CreateRowsetResponse::default());
        }
        let response = CreateRowsetResponse { existed_rowset_meta: Some(existed), ..Default::default() };
        return refused(response, ServiceCode::AlreadyExisted, "rowset already exists");
    }
    if let Some(schema) = rowset.tablet_schema.take() {
        let version = rowset.schema_version.or(schema.schema_version).unwrap_or(0);
        rowset.schema_version = Some(version);
        let index_id = match rowset.index_id {
            Some(i) => i,
            None => tablet_index(kv, &iid, rowset.tablet_id.unwrap_or(0))?.index_id.unwrap_or(0),
        };
        let schema_key = key::tablet_schema(&iid, index_id, i64::from(version));
        if load::<TabletSchemaCloudPb>(kv, &schema_key)?.is_none() {
            save(kv, &schema_key, &schema)?;
        }
    }
    save(kv, &tmp_key, &rowset)?;
    Ok(CreateRowsetResponse::default())
}
