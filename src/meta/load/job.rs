//! Compaction jobs (spec §3): `start_tablet_job` records a running compaction on a tablet,
//! `finish_tablet_job` COMMITs (stats, cumulative point, input rowsets replaced by the output),
//! ABORTs (also the HTTP `abort_tablet_job`) or extends the LEASE of one.
//!
//! Deviations: Doris prefixes most messages of `meta_service_job.cpp` with
//! `meta_service_job.cpp:<line> ` (build-specific); metaraft sends the message without it.
//! Schema-change jobs are refused with `UNDEFINED_ERR` "schema change jobs are not supported".

use metaraft_raft::KvWrite;

use super::super::error::MetaError;
use super::super::error::ServiceCode;
use super::super::store::load;
use super::super::store::save;
use super::super::store::Failure;
use super::super::store::Outcome;
use super::instance_of;
use super::refused;
use super::shown;
use super::tablet;
use crate::keys;
use crate::keys::load as key;
use crate::meta::pb_txn::*;
use crate::pbjson;

/// `proto_to_json` of a message, as Doris quotes it in job messages.
fn json<T: crate::meta::schema::ProtoMessage>(msg: &T) -> String {
    pbjson::encode(msg).to_compact()
}

fn unsupported_schema_change() -> Failure {
    MetaError::undefined("schema change jobs are not supported").into()
}

/// The preamble both methods share: instance, job, tablet. Returns the instance, the job with
/// its index completed, and the tablet id.
fn job_of(
    kv: &impl super::super::resolve::Scan,
    cloud_unique_id: Option<&str>,
    job: Option<&TabletJobInfoPb>,
) -> Outcome<(String, TabletJobInfoPb, i64)> {
    let iid = instance_of(kv, cloud_unique_id, || {
        format!("cannot find instance_id with cloud_unique_id={}", shown(cloud_unique_id))
    })?;
    let Some(job) = job.filter(|j| !j.compaction.is_empty() || j.schema_change.is_some()) else {
        return Err(MetaError::invalid_argument("no valid job specified").into());
    };
    let given = job.idx.clone().unwrap_or_default();
    let tablet_id = given.tablet_id.unwrap_or(0);
    if tablet_id <= 0 {
        return Err(MetaError::invalid_argument("no valid tablet_id given").into());
    }
    let mut job = job.clone();
    job.idx = Some(tablet::complete_index(kv, &iid, &given)?);
    Ok((iid, job, tablet_id))
}

fn range(c: &TabletCompactionJobPb) -> Option<(i64, i64)> {
    match (c.check_input_versions_range, c.input_versions.as_slice()) {
        (Some(false), _) => None,
        (_, [a, b]) => Some((*a, *b)),
        _ => None,
    }
}

/// `start_tablet_job`: records a compaction unless a live one of the same type (or a FULL one)
/// overlaps it; retrying the same job id is OK.
pub fn start_tablet_job(
    kv: &mut KvWrite<'_, '_>,
    req: &StartTabletJobRequest,
    now_ms: i64,
) -> Outcome<StartTabletJobResponse> {
    let now = now_ms / 1000;
    let (iid, job, tablet_id) = job_of(kv, req.cloud_unique_id.as_deref(), req.job.as_ref())?;
    let Some(new) = job.compaction.first() else { return Err(unsupported_schema_change()) };
    if new.id.as_deref().unwrap_or_default().is_empty() {
        return Err(MetaError::invalid_argument("no job id specified").into());
    }
    let (Some(req_base), Some(req_cumu)) = (new.base_compaction_cnt, new.cumulative_compaction_cnt) else {
        return Err(MetaError::invalid_argument("no valid compaction_cnt given").into());
    };
    if new.expiration.unwrap_or(0) <= 0 && new.r#type != Some(CompactionType::EmptyCumulative) {
        return Err(MetaError::invalid_argument("no valid expiration given").into());
    }
    if new.lease.unwrap_or(0) <= 0 {
        return Err(MetaError::invalid_argument("no valid lease given").into());
    }
    let index = job.idx.clone().unwrap_or_default();
    let at = tablet::place_of(&index);
    let stats_key = key::tablet_stats(&iid, at);
    let Some(stats) = load::<TabletStatsPb>(kv, &stats_key)? else {
        let msg = format!(
            "not found when get tablet stats, tablet_id={tablet_id} key={} err=KeyNotFound",
            keys::hex(&stats_key)
        );
        return Err(MetaError::new(ServiceCode::TabletNotFound, msg).into());
    };
    let (base, cumu) = (stats.base_compaction_cnt.unwrap_or(0), stats.cumulative_compaction_cnt.unwrap_or(0));
    if req_base < base || req_cumu < cumu {
        let msg = format!(
            "could not perform compaction on expired tablet cache. req_base_compaction_cnt={req_base}, \
             base_compaction_cnt={base}, req_cumulative_compaction_cnt={req_cumu}, cumulative_compaction_cnt={cumu}"
        );
        return Err(MetaError::new(ServiceCode::StaleTabletCache, msg).into());
    }
    let job_key = key::tablet_job(&iid, at);
    let mut recorded = load::<TabletJobInfoPb>(kv, &job_key)?.unwrap_or_default();
    if recorded.idx.is_none() {
        recorded.idx = Some(index);
    }
    let live = |e: Option<i64>| !e.is_some_and(|t| t > 0 && t < now);
    recorded.compaction.retain(|c| live(c.expiration) && live(c.lease));
    if new.r#type == Some(CompactionType::Full) {
        recorded.compaction.clear();
    } else {
        let new_range = range(new);
        let rivals: Vec<&TabletCompactionJobPb> = recorded
            .compaction
            .iter()
            .filter(|c| c.r#type == new.r#type || c.r#type == Some(CompactionType::Full))
            .collect();
        for rival in &rivals {
            let conflict = match (new_range, range(rival)) {
                (Some((a0, a1)), Some((b0, b1))) => a0 <= b1 && b0 <= a1,
                _ => true,
            };
            if !conflict {
                continue;
            }
            if rival.id == new.id {
                return Ok(StartTabletJobResponse::default());
            }
            let mut response = StartTabletJobResponse::default();
            if new_range.is_some() && range(rival).is_some() {
                response.version_in_compaction =
                    rivals.iter().filter_map(|c| range(c)).flat_map(|(s, e)| [s, e]).collect();
            }
            let msg = format!("compaction has already started, tablet_id={tablet_id} job={}", json(*rival));
            return refused(response, ServiceCode::JobTabletBusy, msg);
        }
    }
    recorded.compaction.push(new.clone());
    save(kv, &job_key, &recorded)?;
    Ok(StartTabletJobResponse::default())
}

/// `finish_tablet_job`: COMMIT, ABORT or LEASE one recorded compaction.
pub fn finish_tablet_job(
    kv: &mut KvWrite<'_, '_>,
    req: &FinishTabletJobRequest,
    now_ms: i64,
) -> Outcome<FinishTabletJobResponse> {
    let now = now_ms / 1000;
    let (iid, job, tablet_id) = job_of(kv, req.cloud_unique_id.as_deref(), req.job.as_ref())?;
    let at = tablet::place_of(job.idx.as_ref().unwrap_or(&TabletIndexPb::default()));
    let job_key = key::tablet_job(&iid, at);
    let Some(mut recorded) = load::<TabletJobInfoPb>(kv, &job_key)? else {
        let msg = format!("job not found, instance_id={iid} tablet_id={tablet_id} job={} err=KeyNotFound", json(&job));
        return Err(MetaError::invalid_argument(msg).into());
    };
    let Some(given) = job.compaction.first() else { return Err(unsupported_schema_change()) };
    if recorded.compaction.is_empty() {
        return Err(
            MetaError::invalid_argument(format!("there is no running compaction, tablet_id={tablet_id}")).into()
        );
    }
    let Some(pos) = recorded.compaction.iter().position(|c| c.id == given.id) else {
        let msg = format!("unmatched job id, recorded_job={} given_job={}", json(&recorded), json(given));
        return Err(MetaError::invalid_argument(msg).into());
    };
    let running = recorded.compaction[pos].clone();
    if running.expiration.is_some_and(|e| e > 0 && e < now) {
        let msg = format!("expired compaction job, tablet_id={tablet_id} job={}", json(&running));
        return Err(MetaError::new(ServiceCode::JobExpired, msg).into());
    }
    match req.action {
        Some(JobAction::Abort) => {
            recorded.compaction.remove(pos);
            save(kv, &job_key, &recorded)?;
            Ok(FinishTabletJobResponse::default())
        }
        Some(JobAction::Lease) => {
            let (recorded_lease, req_lease) = (running.lease.unwrap_or(0), given.lease.unwrap_or(0));
            if req_lease <= 0 || recorded_lease > req_lease {
                let msg = format!("invalid lease. recoreded_lease={recorded_lease} req_lease={req_lease}");
                return Err(MetaError::invalid_argument(msg).into());
            }
            recorded.compaction[pos].lease = Some(req_lease);
            save(kv, &job_key, &recorded)?;
            Ok(FinishTabletJobResponse::default())
        }
        Some(JobAction::Commit) => commit(kv, &iid, at, recorded, pos, given, now),
        other => {
            let number = other.map_or(0, |a| a as i32);
            let msg = format!("unsupported action, tablet_id={tablet_id} action={number}");
            Err(MetaError::invalid_argument(msg).into())
        }
    }
}

/// COMMIT: the stats change by the compaction's deltas, its input rowsets are replaced by the
/// output rowset, and the job leaves the list.
fn commit(
    kv: &mut KvWrite<'_, '_>,
    iid: &str,
    at: key::TabletPlace,
    mut recorded: TabletJobInfoPb,
    pos: usize,
    given: &TabletCompactionJobPb,
    now: i64,
) -> Outcome<FinishTabletJobResponse> {
    let tablet_id = at.tablet;
    let stats_key = key::tablet_stats(iid, at);
    // The stored record, raw: Doris clamps a negative data_size only in replies (`merged`).
    let Some(mut stats) = load::<TabletStatsPb>(kv, &stats_key)? else {
        let msg = format!("tablet stats not found, tablet_id={tablet_id}");
        return Err(MetaError::new(ServiceCode::TabletNotFound, msg).into());
    };
    let now_ms = Some(now.saturating_mul(1000));
    let bump = |f: &mut Option<i64>| *f = Some(f.unwrap_or(0).saturating_add(1));
    let output_point = given.output_cumulative_point.unwrap_or(0);
    let raise_point = |stats: &mut TabletStatsPb| {
        if output_point > stats.cumulative_point.unwrap_or(0) {
            stats.cumulative_point = Some(output_point);
        }
    };
    let kind = given.r#type;
    match kind {
        Some(CompactionType::EmptyCumulative) => {
            bump(&mut stats.cumulative_compaction_cnt);
            stats.cumulative_point = Some(output_point);
            stats.last_cumu_compaction_time_ms = now_ms;
        }
        Some(CompactionType::Cumulative) => {
            bump(&mut stats.cumulative_compaction_cnt);
            raise_point(&mut stats);
            stats.last_cumu_compaction_time_ms = now_ms;
        }
        Some(CompactionType::Base) => {
            bump(&mut stats.base_compaction_cnt);
            stats.last_base_compaction_time_ms = now_ms;
        }
        Some(CompactionType::Full) => {
            bump(&mut stats.base_compaction_cnt);
            raise_point(&mut stats);
            stats.last_full_compaction_time_ms = now_ms;
        }
        _ => return Err(MetaError::invalid_argument("invalid compaction type").into()),
    }
    if kind != Some(CompactionType::EmptyCumulative) {
        let delta = |f: &mut Option<i64>, out: Option<i64>, input: Option<i64>| {
            // Request values: saturate rather than overflow inside apply (Doris's int64 maths has no check).
            *f = Some(f.unwrap_or(0).saturating_add(out.unwrap_or(0)).saturating_sub(input.unwrap_or(0)));
        };
        delta(&mut stats.num_rows, given.num_output_rows, given.num_input_rows);
        delta(&mut stats.data_size, given.size_output_rowsets, given.size_input_rowsets);
        delta(&mut stats.num_rowsets, given.num_output_rowsets, given.num_input_rowsets);
        delta(&mut stats.num_segments, given.num_output_segments, given.num_input_segments);
    }
    recorded.compaction.remove(pos);
    let response = FinishTabletJobResponse { stats: Some(tablet::merged(stats.clone())), ..Default::default() };
    if kind == Some(CompactionType::EmptyCumulative) {
        save(kv, &stats_key, &stats)?;
        save(kv, &job_key_of(iid, at), &recorded)?;
        return Ok(response);
    }
    let (inputs, outputs, ids) = (&given.input_versions, &given.output_versions, &given.output_rowset_ids);
    let ([in0, in1], [out], [rowset_id]) = (inputs.as_slice(), outputs.as_slice(), ids.as_slice()) else {
        let msg = format!(
            "invalid input or output versions, input_versions_size={} output_versions_size={} output_rowset_ids_size={}",
            inputs.len(),
            outputs.len(),
            ids.len()
        );
        return Err(MetaError::invalid_argument(msg).into());
    };
    let replaced: Vec<Vec<u8>> = tablet::scan_rowsets(kv, &key::rowset_prefix(iid, tablet_id))?
        .into_iter()
        .filter(|(k, _)| key::trailing_int(k).is_some_and(|v| (*in0..=*in1).contains(&v)))
        .map(|(k, _)| k)
        .collect();
    if replaced.is_empty() {
        // Doris commits the stats and drops the job before failing here.
        save(kv, &stats_key, &stats)?;
        save(kv, &job_key_of(iid, at), &recorded)?;
        return Err(MetaError::undefined(format!("too few input rowsets, tablet_id={tablet_id} num_rowsets=0")).into());
    }
    let [txn_id] = given.txn_id.as_slice() else {
        return Err(MetaError::invalid_argument(format!("invalid txn_id, txn_id_size={}", given.txn_id.len())).into());
    };
    if *txn_id <= 0 || rowset_id.is_empty() {
        let msg = format!("invalid txn_id or rowset_id, tablet_id={tablet_id} txn_id={txn_id} rowset_id={rowset_id}");
        return Err(MetaError::invalid_argument(msg).into());
    }
    let tmp_key = key::rowset_tmp(iid, *txn_id, tablet_id);
    let Some(mut output) = load::<crate::meta::pb_tablet::RowsetMetaCloudPb>(kv, &tmp_key)? else {
        let msg = format!(
            "failed to get tmp rowset key (not found), tablet_id={tablet_id} tmp_rowset_key={}, err=KeyNotFound",
            keys::hex(&tmp_key)
        );
        return Err(MetaError::undefined(msg).into());
    };
    for k in replaced {
        kv.delete(&k)?;
    }
    output.start_version = Some(output.start_version.unwrap_or(*in0));
    output.end_version = Some(*out);
    save(kv, &key::rowset(iid, tablet_id, *out), &output)?;
    kv.delete(&tmp_key)?;
    save(kv, &stats_key, &stats)?;
    save(kv, &job_key_of(iid, at), &recorded)?;
    Ok(FinishTabletJobResponse { alter_version: Some(-1), ..response })
}

fn job_key_of(iid: &str, at: key::TabletPlace) -> Vec<u8> {
    key::tablet_job(iid, at)
}
