//! Transactions (spec §1): `begin_txn`, `precommit_txn`, `commit_txn`, `abort_txn`,
//! `clean_txn_label` (writes) and `get_txn`, `get_txn_id`, `get_current_max_txn_id`,
//! `check_txn_conflict` (reads). Checks run in Doris's order with Doris's words.

use std::collections::BTreeMap;
use std::collections::BTreeSet;

use metaraft_raft::KvRead;
use metaraft_raft::KvWrite;

use super::super::error::MetaError;
use super::super::error::ServiceCode;
use super::super::pb_tablet::RowsetMetaCloudPb;
use super::super::resolve::Scan;
use super::super::store::load;
use super::super::store::save;
use super::super::store::Get;
use super::super::store::Outcome;
use super::instance_of;
use super::refused;
use super::shown;
use super::tablet;
use super::LastTxnId;
use crate::keys;
use crate::keys::load as key;
use crate::meta::pb_txn::*;

/// The meta service's `max_num_aborted_txn` default (`config.h`; a constant here): a label with this
/// many aborted txns cannot be begun again.
const MAX_NUM_ABORTED_TXN: usize = 100;

fn err(code: ServiceCode, msg: impl Into<String>) -> MetaError {
    MetaError::new(code, msg)
}

fn last_txn_id(kv: &impl Get) -> Outcome<i64> {
    Ok(load::<LastTxnId>(kv, &key::last_txn_id())?.unwrap_or_default().0)
}

fn status_name(status: Option<TxnStatus>) -> &'static str {
    use crate::meta::schema::ProtoEnum as _;
    let status = status.unwrap_or(TxnStatus::Unknown);
    TxnStatus::SCHEMA.values.get(status as usize).map_or("TXN_STATUS_UNKNOWN", |(n, _)| *n)
}

/// `begin_txn`: a new PREPARED txn under a label that is free (new, or whose newest txn aborted).
pub fn begin_txn(kv: &mut KvWrite<'_, '_>, req: &BeginTxnRequest, now: i64) -> Outcome<BeginTxnResponse> {
    let Some(info) = &req.txn_info else {
        return Err(MetaError::invalid_argument("invalid argument, missing txn info").into());
    };
    let label = info.label.clone().unwrap_or_default();
    let db = info.db_id.unwrap_or(-1);
    if label.is_empty() || db < 0 || info.table_ids.is_empty() || info.timeout_ms.is_none() {
        return Err(MetaError::invalid_argument(format!("invalid argument, label={label} db_id={db}")).into());
    }
    let cuid = req.cloud_unique_id.as_deref();
    let iid = instance_of(kv, cuid, || {
        format!("cannot find instance_id with cloud_unique_id={} label={label}", shown(cuid))
    })?;
    let txn_id = last_txn_id(kv)? + 2;
    let label_key = key::txn_label(&iid, db, &label);
    let mut label_pb = load::<TxnLabelPb>(kv, &label_key)?.unwrap_or_default();
    // Only the newest txn of a label matters: aborted frees the label, anything else holds it.
    if let Some(&newest) = label_pb.txn_ids.last() {
        let Some(cur) = load::<TxnInfoPb>(kv, &key::txn_info(&iid, db, newest))? else {
            let msg = format!("txn->get() failed, cur_txn_id={newest} label={label} err=KeyNotFound");
            return Err(err(ServiceCode::TxnIdNotFound, msg).into());
        };
        match cur.status {
            Some(TxnStatus::Aborted) => {
                if label_pb.txn_ids.len() >= MAX_NUM_ABORTED_TXN {
                    let msg = format!(
                        "too many aborted txn for label={label} txn_id={txn_id}, please check your data quality"
                    );
                    return Err(MetaError::invalid_argument(msg).into());
                }
            }
            Some(TxnStatus::Prepared | TxnStatus::Precommitted)
                if same_request(cur.request_id.as_ref(), info.request_id.as_ref()) =>
            {
                let response = BeginTxnResponse { dup_txn_id: Some(newest), ..Default::default() };
                let msg = format!("db_id={db} label={label} txn_id={newest} dup begin txn request.");
                return refused(response, ServiceCode::TxnDuplicatedReq, msg);
            }
            status => {
                let response =
                    BeginTxnResponse { txn_status: Some(status.unwrap_or(TxnStatus::Unknown)), ..Default::default() };
                let msg = format!(
                    "Label [{label}] has already been used, relate to txn [{newest}], status=[{}]",
                    status_name(status)
                );
                return refused(response, ServiceCode::TxnLabelAlreadyUsed, msg);
            }
        }
    }
    let mut stored = info.clone();
    stored.txn_id = Some(txn_id);
    stored.status = Some(TxnStatus::Prepared);
    stored.prepare_time = Some(now);
    let timeout_ms = info.timeout_ms.unwrap_or(0);
    save(kv, &key::txn_info(&iid, db, txn_id), &stored)?;
    let index = TxnIndexPb { tablet_index: Some(TabletIndexPb { db_id: Some(db), ..Default::default() }) };
    save(kv, &key::txn_index(&iid, txn_id), &index)?;
    let running =
        TxnRunningPb { table_ids: info.table_ids.clone(), timeout_time: Some(now.saturating_add(timeout_ms)) };
    save(kv, &key::txn_running(&iid, db, txn_id), &running)?;
    label_pb.txn_ids.push(txn_id);
    save(kv, &label_key, &label_pb)?;
    save(kv, &key::last_txn_id(), &LastTxnId(txn_id))?;
    Ok(BeginTxnResponse { txn_id: Some(txn_id), ..Default::default() })
}

fn same_request(a: Option<&UniqueIdPb>, b: Option<&UniqueIdPb>) -> bool {
    matches!((a, b), (Some(a), Some(b)) if a.hi == b.hi && a.lo == b.lo)
}

/// The db of `txn_id` from its `txn_index`.
fn db_of(kv: &impl Get, iid: &str, txn_id: i64) -> Outcome<Option<i64>> {
    Ok(load::<TxnIndexPb>(kv, &key::txn_index(iid, txn_id))?.map(|i| i.tablet_index.and_then(|t| t.db_id).unwrap_or(0)))
}

/// `precommit_txn`: PREPARED → PRECOMMITTED (two-phase loads).
pub fn precommit_txn(kv: &mut KvWrite<'_, '_>, req: &PrecommitTxnRequest, now: i64) -> Outcome<PrecommitTxnResponse> {
    let txn_id = req.txn_id.unwrap_or(-1);
    let mut db = req.db_id.unwrap_or(-1);
    if txn_id < 0 && db < 0 {
        return Err(MetaError::invalid_argument(format!("invalid argument, txn_id={txn_id} db_id={db}")).into());
    }
    let cuid = req.cloud_unique_id.as_deref();
    let iid = instance_of(kv, cuid, || {
        format!("cannot find instance_id with cloud_unique_id={} txn_id={txn_id}", shown(cuid))
    })?;
    if db < 0 {
        db = db_of(kv, &iid, txn_id)?.ok_or_else(|| {
            err(ServiceCode::TxnIdNotFound, format!("failed to get db id with txn_id={txn_id} err=KeyNotFound"))
        })?;
    }
    let info_key = key::txn_info(&iid, db, txn_id);
    let Some(mut info) = load::<TxnInfoPb>(kv, &info_key)? else {
        let msg = format!("failed to get db id with db_id={db} txn_id={txn_id} err=KeyNotFound");
        return Err(err(ServiceCode::TxnIdNotFound, msg).into());
    };
    // Doris sets the last two codes and goes on to downgrade the txn; we stop (same reply,
    // saner state). The missing "t" is Doris's.
    match info.status {
        Some(TxnStatus::Aborted) => {
            let msg = format!("transaction is already aborted: db_id={db} txn_id={txn_id}");
            return Err(err(ServiceCode::TxnAlreadyAborted, msg).into());
        }
        Some(TxnStatus::Visible) => {
            let msg = format!("ransaction is already visible: db_id={db} txn_id={txn_id}");
            return Err(err(ServiceCode::TxnAlreadyVisible, msg).into());
        }
        Some(TxnStatus::Precommitted) => {
            let msg = format!("ransaction is already precommited: db_id={db} txn_id={txn_id}");
            return Err(err(ServiceCode::TxnAlreadyPrecommited, msg).into());
        }
        _ => {}
    }
    info.status = Some(TxnStatus::Precommitted);
    info.precommit_time = Some(now);
    save(kv, &info_key, &info)?;
    let running = TxnRunningPb {
        table_ids: info.table_ids.clone(),
        timeout_time: Some(now.saturating_add(info.precommit_timeout_ms.unwrap_or(0))),
    };
    save(kv, &key::txn_running(&iid, db, txn_id), &running)?;
    Ok(PrecommitTxnResponse::default())
}

/// `commit_txn`: the txn's temporary rowsets become visible at a new version of each partition
/// they touch, tablet stats take their counts, and the txn becomes VISIBLE.
pub fn commit_txn(kv: &mut KvWrite<'_, '_>, req: &CommitTxnRequest, now: i64) -> Outcome<CommitTxnResponse> {
    let Some(txn_id) = req.txn_id else {
        return Err(MetaError::invalid_argument("invalid argument, missing txn id").into());
    };
    let iid = instance_of(kv, req.cloud_unique_id.as_deref(), || "empty instance_id".into())?;
    if req.is_txn_load == Some(true) {
        return Err(MetaError::undefined("transaction loads with sub-transactions are not supported").into());
    }
    // The request's db_id is ignored, as in Doris.
    let Some(db) = db_of(kv, &iid, txn_id)? else {
        return Err(MetaError::kv_get(format!("failed to get db id, txn_id={txn_id} err=KeyNotFound")).into());
    };
    let tmp: Vec<(Vec<u8>, RowsetMetaCloudPb)> = tablet::scan_rowsets(kv, &key::rowset_tmp_prefix(&iid, txn_id))?;
    let info_key = key::txn_info(&iid, db, txn_id);
    let Some(mut info) = load::<TxnInfoPb>(kv, &info_key)? else {
        return Err(err(ServiceCode::TxnIdNotFound, format!("transaction [{txn_id}] not found, db_id={db}")).into());
    };
    let is_2pc = req.is_2pc == Some(true);
    match info.status {
        Some(TxnStatus::Aborted) => {
            let msg = format!("transaction [{txn_id}] is already aborted, db_id={db}");
            return Err(err(ServiceCode::TxnAlreadyAborted, msg).into());
        }
        Some(TxnStatus::Visible) => {
            let response = CommitTxnResponse { txn_info: Some(info), ..Default::default() };
            return if is_2pc {
                let msg = format!("transaction [{txn_id}] is already visible, not pre-committed.");
                refused(response, ServiceCode::TxnAlreadyVisible, msg)
            } else {
                let msg = format!("transaction is already visible: db_id={db} txn_id={txn_id}");
                refused(response, ServiceCode::Ok, msg)
            };
        }
        Some(TxnStatus::Prepared) if is_2pc => {
            let msg = format!("transaction is prepare, not pre-committed: db_id={db} txn_id{txn_id}");
            return Err(err(ServiceCode::TxnInvalidStatus, msg).into());
        }
        _ => {}
    }
    // Where each rowset goes: its tablet's place, then one new version per partition.
    let mut placed = Vec::with_capacity(tmp.len());
    for (tmp_key, rowset) in tmp {
        let tablet_id = rowset.tablet_id.unwrap_or(0);
        let index_key = key::tablet_index(&iid, tablet_id);
        let Some(index) = load::<TabletIndexPb>(kv, &index_key)? else {
            let msg = format!(
                "failed to get tablet table index ids, err=not found tablet_id={tablet_id} key={}",
                keys::hex(&index_key)
            );
            return Err(MetaError::kv_get(msg).into());
        };
        placed.push((tmp_key, rowset, tablet::place_of(&index)));
    }
    let mut versions: BTreeMap<(i64, i64), i64> = BTreeMap::new();
    for (_, _, at) in &placed {
        if let std::collections::btree_map::Entry::Vacant(slot) = versions.entry((at.table, at.partition)) {
            let current = load::<VersionPb>(kv, &key::partition_version(&iid, db, at.table, at.partition))?
                .and_then(|v| v.version)
                .unwrap_or(1);
            slot.insert(current + 1);
        }
    }
    if info.prepare_time.unwrap_or(0).saturating_add(info.timeout_ms.unwrap_or(0)) < now {
        return Err(MetaError::undefined(format!("txn is expired, not allow to commit txn_id={txn_id}")).into());
    }
    let mut deltas: BTreeMap<i64, (key::TabletPlace, tablet::StatsDelta)> = BTreeMap::new();
    for (tmp_key, mut rowset, at) in placed {
        let version = versions.get(&(at.table, at.partition)).copied().unwrap_or(2);
        rowset.start_version = Some(version);
        rowset.end_version = Some(version);
        deltas.entry(at.tablet).or_insert_with(|| (at, tablet::StatsDelta::default())).1.add_rowset(&rowset);
        save(kv, &key::rowset(&iid, at.tablet, version), &rowset)?;
        kv.delete(&tmp_key)?;
    }
    for (at, delta) in deltas.values() {
        tablet::apply_load_delta(kv, &iid, *at, delta)?;
    }
    let mut response = CommitTxnResponse::default();
    let mut tables = BTreeSet::new();
    for (&(table, partition), &version) in &versions {
        let v = VersionPb { version: Some(version), update_time_ms: Some(now), pending_txn_ids: Vec::new() };
        save(kv, &key::partition_version(&iid, db, table, partition), &v)?;
        response.table_ids.push(table);
        response.partition_ids.push(partition);
        response.versions.push(version);
        tables.insert(table);
    }
    for table in tables {
        let table_key = key::table_version(&iid, db, table);
        let current = load::<VersionPb>(kv, &table_key)?.and_then(|v| v.version).unwrap_or(0);
        save(
            kv,
            &table_key,
            &VersionPb { version: Some(current + 1), update_time_ms: Some(now), ..Default::default() },
        )?;
    }
    if !versions.is_empty() {
        response.version_update_time_ms = Some(now);
    }
    info.status = Some(TxnStatus::Visible);
    info.commit_time = Some(now);
    info.finish_time = Some(now);
    save(kv, &info_key, &info)?;
    kv.delete(&key::txn_running(&iid, db, txn_id))?;
    let recycle = RecycleTxnPb { creation_time: Some(now), label: info.label.clone(), immediate: None };
    save(kv, &key::recycle_txn(&iid, db, txn_id), &recycle)?;
    response.txn_info = Some(info);
    Ok(response)
}

/// `abort_txn` (also the HTTP route): by id, any state but VISIBLE/ABORTED; by label, the
/// oldest PREPARED or PRECOMMITTED txn of the label.
pub fn abort_txn(kv: &mut KvWrite<'_, '_>, req: &AbortTxnRequest, now: i64) -> Outcome<AbortTxnResponse> {
    let label = req.label.clone().unwrap_or_default();
    let shown_txn = req.txn_id.unwrap_or(-1);
    // Doris: `txn_id < 0 && (label.empty() || db_id < 0)`, an unset field reading -1.
    if shown_txn < 0 && (label.is_empty() || req.db_id.unwrap_or(-1) < 0) {
        let msg =
            format!("invalid txn id and label, db_id={} txn_id={shown_txn} label={label}", req.db_id.unwrap_or(-1));
        return Err(MetaError::invalid_argument(msg).into());
    }
    let cuid = req.cloud_unique_id.as_deref();
    let iid = instance_of(kv, cuid, || {
        format!("cannot find instance_id with cloud_unique_id={} label={label} txn_id={shown_txn}", shown(cuid))
    })?;
    // Doris reads the raw fields here: unset is 0.
    let txn_raw = req.txn_id.unwrap_or(0);
    let mut db = req.db_id.unwrap_or(0);
    let (txn_id, mut info) = if txn_raw > 0 {
        if db == 0 {
            db = db_of(kv, &iid, txn_raw)?
                .ok_or_else(|| err(ServiceCode::TxnIdNotFound, format!("transaction [{txn_raw}] not found")))?;
        }
        let Some(info) = load::<TxnInfoPb>(kv, &key::txn_info(&iid, db, txn_raw))? else {
            let msg = format!("failed to get txn_info, db_id={db}txn_id={txn_raw}err=KeyNotFound");
            return Err(err(ServiceCode::TxnIdNotFound, msg).into());
        };
        match info.status {
            Some(TxnStatus::Aborted) => {
                let msg = format!("transaction [{txn_raw}] is already aborted, db_id={db}");
                return refused(
                    AbortTxnResponse { txn_info: Some(info), ..Default::default() },
                    ServiceCode::TxnAlreadyAborted,
                    msg,
                );
            }
            Some(TxnStatus::Visible) => {
                let msg = format!("transaction [{txn_raw}] is already VISIBLE, db_id={db}");
                return refused(
                    AbortTxnResponse { txn_info: Some(info), ..Default::default() },
                    ServiceCode::TxnAlreadyVisible,
                    msg,
                );
            }
            _ => (txn_raw, info),
        }
    } else {
        let Some(label_pb) = load::<TxnLabelPb>(kv, &key::txn_label(&iid, db, &label))? else {
            return Err(MetaError::kv_get(format!("txn->get() failed, label={label} err=KeyNotFound")).into());
        };
        let mut found = None;
        for &id in &label_pb.txn_ids {
            let Some(info) = load::<TxnInfoPb>(kv, &key::txn_info(&iid, db, id))? else {
                return Err(MetaError::kv_get(format!("txn->get() failed, cur_txn_id={id} err=KeyNotFound")).into());
            };
            if matches!(info.status, Some(TxnStatus::Prepared | TxnStatus::Precommitted)) {
                found = Some((id, info));
                break;
            }
        }
        found.ok_or_else(|| {
            err(ServiceCode::TxnInvalidStatus, format!("running transaction not found, db_id={db} label={label}"))
        })?
    };
    info.status = Some(TxnStatus::Aborted);
    info.finish_time = Some(now);
    info.reason = Some(req.reason.clone().unwrap_or_else(|| "User Abort".into()));
    save(kv, &key::txn_info(&iid, db, txn_id), &info)?;
    kv.delete(&key::txn_running(&iid, db, txn_id))?;
    let recycle = RecycleTxnPb { creation_time: Some(now), label: info.label.clone(), immediate: None };
    save(kv, &key::recycle_txn(&iid, db, txn_id), &recycle)?;
    Ok(AbortTxnResponse { txn_info: Some(info), ..Default::default() })
}

/// `clean_txn_label`: forgets the finished txns of one label (`labels[0]`) or of every label of
/// the database; running txns and their label entries stay.
pub fn clean_txn_label(kv: &mut KvWrite<'_, '_>, req: &CleanTxnLabelRequest, _now: i64) -> Outcome<StatusResponse> {
    let Some(db) = req.db_id else {
        return Err(MetaError::invalid_argument("missing db id").into());
    };
    let cuid = req.cloud_unique_id.as_deref();
    let iid = instance_of(kv, cuid, || format!("cannot find instance_id with cloud_unique_id={}", shown(cuid)))?;
    let label_keys: Vec<Vec<u8>> = match req.labels.first() {
        Some(label) => vec![key::txn_label(&iid, db, label)],
        None => kv.scan_raw(&key::txn_label_prefix(&iid, db))?.into_iter().map(|(k, _)| k).collect(),
    };
    for label_key in label_keys {
        let Some(label_pb) = load::<TxnLabelPb>(kv, &label_key)? else { continue };
        let mut survivors = Vec::new();
        for &id in &label_pb.txn_ids {
            let Some(info) = load::<TxnInfoPb>(kv, &key::txn_info(&iid, db, id))? else {
                return Err(MetaError::kv_get("failed to clean txn label. err=KeyNotFound").into());
            };
            if matches!(info.status, Some(TxnStatus::Visible | TxnStatus::Aborted)) {
                kv.delete(&key::txn_index(&iid, id))?;
                kv.delete(&key::txn_info(&iid, db, id))?;
                kv.delete(&key::recycle_txn(&iid, db, id))?;
            } else {
                survivors.push(id);
            }
        }
        if survivors.is_empty() {
            kv.delete(&label_key)?;
        } else {
            save(kv, &label_key, &TxnLabelPb { txn_ids: survivors })?;
        }
    }
    Ok(StatusResponse::default())
}

/// `get_txn`: by id, or the newest txn of a label.
pub fn get_txn(kv: &KvRead, req: &GetTxnRequest, _now: i64) -> Outcome<GetTxnResponse> {
    let mut txn_id = req.txn_id.unwrap_or(-1);
    let label = req.label.clone().unwrap_or_default();
    if txn_id < 0 && label.is_empty() {
        let msg = format!("invalid txn_id, it may be not given or set properly, txn_id={txn_id}");
        return Err(MetaError::invalid_argument(msg).into());
    }
    let cuid = req.cloud_unique_id.as_deref();
    let iid = instance_of(kv, cuid, || format!("cannot find instance_id with cloud_unique_id={}", shown(cuid)))?;
    let mut db = req.db_id.unwrap_or(-1);
    if !label.is_empty() {
        let Some(label_pb) = load::<TxnLabelPb>(kv, &key::txn_label(&iid, db, &label))? else {
            return Err(err(ServiceCode::TxnIdNotFound, format!("Label [{label}] has not found")).into());
        };
        txn_id = label_pb.txn_ids.iter().copied().fold(txn_id, i64::max);
    }
    if req.db_id.is_none() {
        db = db_of(kv, &iid, txn_id)?.ok_or_else(|| {
            err(ServiceCode::TxnIdNotFound, format!("failed to get db id with txn_id={txn_id} err=KeyNotFound"))
        })?;
        if db <= 0 {
            return Err(MetaError::undefined(format!("internal error: unexpected db_id {db}")).into());
        }
    }
    let Some(info) = load::<TxnInfoPb>(kv, &key::txn_info(&iid, db, txn_id))? else {
        let msg = format!("failed to get db id with db_id={db} txn_id={txn_id} err=KeyNotFound");
        return Err(err(ServiceCode::TxnIdNotFound, msg).into());
    };
    Ok(GetTxnResponse { txn_info: Some(info), ..Default::default() })
}

/// `get_txn_id`: the id of a label's txn — the newest, or the oldest in one of `txn_status`.
pub fn get_txn_id(kv: &KvRead, req: &GetTxnIdRequest, _now: i64) -> Outcome<GetTxnIdResponse> {
    let Some(db) = req.db_id else {
        return Err(MetaError::invalid_argument("missing db id").into());
    };
    let cuid = req.cloud_unique_id.as_deref();
    let iid = instance_of(kv, cuid, || format!("cannot find instance_id with cloud_unique_id={}", shown(cuid)))?;
    let label = req.label.clone().unwrap_or_default();
    // Doris builds this message but never sends it (its msg stays empty).
    let Some(label_pb) = load::<TxnLabelPb>(kv, &key::txn_label(&iid, db, &label))? else {
        return Err(err(ServiceCode::TxnIdNotFound, "").into());
    };
    let not_found = || err(ServiceCode::TxnIdNotFound, format!("transaction not found, label={label}"));
    if req.txn_status.is_empty() {
        let id = label_pb.txn_ids.last().copied().ok_or_else(not_found)?;
        return Ok(GetTxnIdResponse { txn_id: Some(id), ..Default::default() });
    }
    for &id in &label_pb.txn_ids {
        let info = load::<TxnInfoPb>(kv, &key::txn_info(&iid, db, id))?;
        if info.and_then(|i| i.status).is_some_and(|s| req.txn_status.contains(&s)) {
            return Ok(GetTxnIdResponse { txn_id: Some(id), ..Default::default() });
        }
    }
    Err(not_found().into())
}

/// `get_current_max_txn_id`: a watermark `W` with every txn begun before the call `< W` and
/// every later one `> W` (ids step by 2; `W` = last id + 1).
pub fn get_current_max_txn_id(
    kv: &KvRead,
    req: &GetCurrentMaxTxnRequest,
    _now: i64,
) -> Outcome<GetCurrentMaxTxnResponse> {
    instance_of(kv, req.cloud_unique_id.as_deref(), || "empty instance_id".into())?;
    Ok(GetCurrentMaxTxnResponse { current_max_txn_id: Some(last_txn_id(kv)? + 1), ..Default::default() })
}

/// `check_txn_conflict`: are all txns of the db below `end_txn_id` on these tables finished?
/// Running txns past their timeout (by the serving node's clock) count as finished, as in Doris.
pub fn check_txn_conflict(kv: &KvRead, req: &CheckTxnConflictRequest, now: i64) -> Outcome<CheckTxnConflictResponse> {
    let (Some(db), Some(end)) = (req.db_id, req.end_txn_id) else {
        return Err(MetaError::invalid_argument("invalid db id, end txn id or table_ids.").into());
    };
    if req.table_ids.is_empty() {
        return Err(MetaError::invalid_argument("invalid db id, end txn id or table_ids.").into());
    }
    let cuid = req.cloud_unique_id.as_deref();
    let iid = instance_of(kv, cuid, || format!("cannot find instance_id with cloud_unique_id={}", shown(cuid)))?;
    let mut response = CheckTxnConflictResponse::default();
    for (running_key, _) in kv.scan_raw(&key::txn_running_prefix(&iid, db))? {
        let Some(txn_id) = key::trailing_int(&running_key) else { continue };
        if txn_id >= end {
            break;
        }
        let Some(running) = load::<TxnRunningPb>(kv, &running_key)? else { continue };
        if running.timeout_time.unwrap_or(0) < now {
            continue;
        }
        if running.table_ids.iter().any(|t| req.table_ids.contains(t)) {
            if let Some(info) = load::<TxnInfoPb>(kv, &key::txn_info(&iid, db, txn_id))? {
                response.conflict_txns.push(info);
            }
        }
    }
    response.finished = Some(response.conflict_txns.is_empty());
    Ok(response)
}
