//! Object-storage routes: `get_obj_store_info` (also `show_storage_vaults`), `add_obj_info`,
//! `legacy_update_ak_sk`, `update_ak_sk` (endpoints §6–§9).

use axum::extract::State;

use super::body::DorisJson;
use super::envelope::Envelope;
use super::error::ApiError;
use super::error::MetaCode;
use super::instance::now_secs;
use super::query::DorisQuery;
use super::replicate;
use super::AppState;
use crate::meta;
use crate::meta::schema::ProtoMessage;
use crate::meta::AlterObjOp;
use crate::meta::AlterObjStoreInfoRequest;
use crate::meta::Command;
use crate::meta::GetObjStoreInfoRequest;
use crate::meta::MetaError;
use crate::meta::UpdateAkSkRequest;
use crate::pbjson;
use crate::pbjson::json::Json;

/// Completes the messages Doris ends with the compact JSON of the (plaintext) request.
fn echo<T: ProtoMessage>(mut e: MetaError, request: &T) -> ApiError {
    if meta::OBJ_STORE_ECHOES_REQUEST.contains(&e.msg.as_str()) {
        e.msg.push_str(&pbjson::encode(request).to_compact());
    }
    e.into()
}

/// Proposes `command` and answers `{"code": "OK", "msg": ""}`, or the refusal completed by [`echo`].
async fn propose<T: ProtoMessage>(state: &AppState, command: Command, plain: &T) -> Result<Envelope, ApiError> {
    replicate::propose(state, &command).await?.map_err(|e| echo(e, plain))?;
    Ok(Envelope::ok())
}

/// `add_obj_info` / `legacy_update_ak_sk`: Doris's `alter_obj_store_info` with the route's op.
async fn alter_obj_store(
    state: AppState,
    mut request: AlterObjStoreInfoRequest,
    op: AlterObjOp,
) -> Result<Envelope, ApiError> {
    request.op = Some(op);
    let plain = request.clone();
    let cmd = meta::prepare_alter_obj_store(request, op, now_secs(), &state.secrets).map_err(|e| echo(e, &plain))?;
    propose(&state, Command::AlterObjStore(Box::new(cmd)), &plain).await
}

/// `add_obj_info`.
pub async fn add_obj_info(
    State(state): State<AppState>,
    DorisJson(request): DorisJson<AlterObjStoreInfoRequest>,
) -> Result<Envelope, ApiError> {
    alter_obj_store(state, request, AlterObjOp::AddObjInfo).await
}

/// `legacy_update_ak_sk`.
pub async fn legacy_update_ak_sk(
    State(state): State<AppState>,
    DorisJson(request): DorisJson<AlterObjStoreInfoRequest>,
) -> Result<Envelope, ApiError> {
    alter_obj_store(state, request, AlterObjOp::LegacyUpdateAkSk).await
}

/// `update_ak_sk`.
pub async fn update_ak_sk(
    State(state): State<AppState>,
    DorisJson(request): DorisJson<UpdateAkSkRequest>,
) -> Result<Envelope, ApiError> {
    let plain = request.clone();
    let cmd = meta::prepare_update_ak_sk(request, now_secs(), &state.secrets).map_err(|e| echo(e, &plain))?;
    propose(&state, Command::UpdateAkSk(cmd), &plain).await
}

/// `{"code": <ServiceCode name>, "msg": …}`, the `status` Doris embeds in the result.
fn status(code: &str, msg: &str) -> (String, Json) {
    ("status".to_string(), Json::Object(vec![("code".into(), Json::string(code)), ("msg".into(), Json::string(msg))]))
}

/// `get_obj_store_info` (and `show_storage_vaults`): `result` is the whole response, `status`
/// first, printed on errors too.
pub async fn get_obj_store_info(
    State(state): State<AppState>,
    query: DorisQuery,
    DorisJson(request): DorisJson<GetObjStoreInfoRequest>,
) -> Result<Envelope, ApiError> {
    let cloud_unique_id = request.cloud_unique_id.unwrap_or_default();
    let refused = |e: MetaError| {
        let result = Json::Object(vec![status(e.code.name(), &e.msg)]);
        ApiError::from(e).with_result(result)
    };
    meta::check_get_obj_store_info(&cloud_unique_id).map_err(refused)?;
    let consistency = query.consistency()?;
    let secrets = state.secrets.clone();
    let info = replicate::read(&state, consistency, move |kv| meta::get_obj_store_info(kv, &cloud_unique_id, &secrets))
        .await?
        .map_err(refused)?;
    let mut fields = vec![status(MetaCode::Ok.as_str(), "")];
    if let Json::Object(rest) = pbjson::encode(&info) {
        fields.extend(rest);
    }
    Ok(Envelope::ok_with(Json::Object(fields)))
}
