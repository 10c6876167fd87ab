//! Instance routes: `create_instance`, `get_instance` (endpoints §1, §3) and the
//! `alter_instance` family: `drop_instance`, `set_instance_status`, `enable_instance_sse`,
//! `disable_instance_sse`, `rename_instance` (§2, §4, §5).

use std::time::SystemTime;
use std::time::UNIX_EPOCH;

use axum::extract::State;
use metaraft_raft::Consistency;

use super::body::DorisJson;
use super::envelope::Envelope;
use super::error::ApiError;
use super::query::DorisQuery;
use super::replicate;
use super::AppState;
use crate::meta;
use crate::meta::pb::CreateInstanceRequest;
use crate::meta::AlterInstanceOp;
use crate::meta::AlterInstancePlan;
use crate::meta::AlterInstanceRequest;
use crate::meta::Command;
use crate::pbjson;
use crate::pbjson::json::Json;

/// Seconds since the epoch: every `ctime`/`mtime` Doris writes is in seconds.
pub(super) fn now_secs() -> i64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX))
}

/// A random UUID (v4, lower-case), as Doris's `generate_uuid_string`.
fn new_guid() -> String {
    uuid::Uuid::new_v4().to_string()
}

/// `create_instance`: vault (`obj_info` or `hdfs_info`) or legacy (`obj_info` [+ `ram_user`]) form.
pub async fn create_instance(
    State(state): State<AppState>,
    DorisJson(request): DorisJson<CreateInstanceRequest>,
) -> Result<Envelope, ApiError> {
    let command = meta::prepare_create_instance(request, now_secs(), new_guid, &state.secrets)?;
    replicate::propose(&state, &Command::CreateInstance(Box::new(command))).await??;
    Ok(Envelope::ok())
}

/// `get_instance?instance_id=…|cloud_unique_id=…[&consistency=stale]`. Doris prints `result`
/// even on error (an empty instance: `{}`).
pub async fn get_instance(State(state): State<AppState>, query: DorisQuery) -> Result<Envelope, ApiError> {
    let empty = || Json::Object(Vec::new());
    let instance_id = query.get("instance_id").to_string();
    let cloud_unique_id = query.get("cloud_unique_id").to_string();
    meta::check_get_instance(&instance_id, &cloud_unique_id).map_err(|e| ApiError::from(e).with_result(empty()))?;
    let consistency = query.consistency()?;
    let secrets = state.secrets.clone();
    let instance = replicate::read(&state, consistency, move |kv| {
        meta::get_instance(kv, &instance_id, &cloud_unique_id, &secrets)
    })
    .await
    .and_then(|r| r.map_err(ApiError::from))
    .map_err(|e| e.with_result(empty()))?;
    Ok(Envelope::ok_with(pbjson::encode(&instance)))
}

/// The `alter_instance` family: the route forces `op`, except `set_instance_status` (`None`),
/// which executes whatever op the body names (endpoints §4).
async fn alter_instance(
    state: AppState,
    mut request: AlterInstanceRequest,
    forced: Option<AlterInstanceOp>,
) -> Result<Envelope, ApiError> {
    if let Some(op) = forced {
        request.op = Some(op);
    }
    match meta::prepare_alter_instance(request, now_secs())? {
        AlterInstancePlan::Write(cmd) => {
            replicate::propose(&state, &Command::AlterInstance(cmd)).await??;
            Ok(Envelope::ok())
        }
        AlterInstancePlan::Refresh(id) => {
            replicate::read(&state, Consistency::Linearizable, move |kv| meta::refresh_instance(kv, &id)).await??;
            Ok(Envelope::ok())
        }
    }
}

/// `drop_instance`: marks the instance DELETED (refused while it has clusters).
pub async fn drop_instance(
    State(state): State<AppState>,
    DorisJson(request): DorisJson<AlterInstanceRequest>,
) -> Result<Envelope, ApiError> {
    alter_instance(state, request, Some(AlterInstanceOp::Drop)).await
}

/// `set_instance_status`: `op` from the body (SET_OVERDUE / SET_NORMAL, or any other op).
pub async fn set_instance_status(
    State(state): State<AppState>,
    DorisJson(request): DorisJson<AlterInstanceRequest>,
) -> Result<Envelope, ApiError> {
    alter_instance(state, request, None).await
}

/// `enable_instance_sse`.
pub async fn enable_instance_sse(
    State(state): State<AppState>,
    DorisJson(request): DorisJson<AlterInstanceRequest>,
) -> Result<Envelope, ApiError> {
    alter_instance(state, request, Some(AlterInstanceOp::EnableSse)).await
}

/// `disable_instance_sse`.
pub async fn disable_instance_sse(
    State(state): State<AppState>,
    DorisJson(request): DorisJson<AlterInstanceRequest>,
) -> Result<Envelope, ApiError> {
    alter_instance(state, request, Some(AlterInstanceOp::DisableSse)).await
}

/// `rename_instance`.
pub async fn rename_instance(
    State(state): State<AppState>,
    DorisJson(request): DorisJson<AlterInstanceRequest>,
) -> Result<Envelope, ApiError> {
    alter_instance(state, request, Some(AlterInstanceOp::Rename)).await
}

#[cfg(test)]
mod test {
    use super::*;

    #[test]
    fn guid_is_a_v4_uuid() {
        let g = new_guid();
        assert_eq!(g.len(), 36);
        assert_eq!(&g[14..15], "4");
        assert_eq!(g.matches('-').count(), 4);
        assert_ne!(g, new_guid());
    }
}
