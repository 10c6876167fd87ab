//! Instance routes: `create_instance`, `get_instance` (endpoints §1, §3).

use std::time::SystemTime;
use std::time::UNIX_EPOCH;

use axum::extract::State;

use super::body::DorisJson;
use super::envelope::Envelope;
use super::error::ApiError;
use super::json::Json;
use super::pbjson;
use super::query::DorisQuery;
use super::replicate;
use super::AppState;
use crate::meta;
use crate::meta::pb::CreateInstanceRequest;
use crate::meta::Command;
use crate::meta::Reply;

/// Seconds since the epoch: every `ctime`/`mtime` Doris writes is in seconds.
fn now_secs() -> i64 {
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
    let command = meta::prepare_create_instance(request, now_secs(), new_guid)?;
    match replicate::propose(&state, &Command::CreateInstance(command)).await?? {
        Reply::Done => Ok(Envelope::ok()),
    }
}

/// `get_instance?instance_id=…|cloud_unique_id=…[&consistency=stale]`. Doris prints `result`
/// even on error (an empty instance: `{}`).
pub async fn get_instance(State(state): State<AppState>, query: DorisQuery) -> Result<Envelope, ApiError> {
    let empty = || Json::Object(Vec::new());
    let instance_id = query.get("instance_id").to_string();
    let cloud_unique_id = query.get("cloud_unique_id").to_string();
    meta::check_get_instance(&instance_id, &cloud_unique_id).map_err(|e| ApiError::from(e).with_result(empty()))?;
    let consistency = query.consistency()?;
    let instance =
        replicate::read(&state, consistency, move |kv| meta::get_instance(kv, &instance_id, &cloud_unique_id))
            .await
            .and_then(|r| r.map_err(ApiError::from))
            .map_err(|e| e.with_result(empty()))?;
    Ok(Envelope::ok_with(pbjson::encode(&instance)))
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
