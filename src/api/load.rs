//! The load path's HTTP debug routes (endpoints §19–§20): `abort_txn` and `abort_tablet_job`
//! answer the envelope of the same apply the brpc methods run; `get_tablet_stats` answers the
//! response's `DebugString` on success and an empty body on error.

use axum::extract::State;
use axum::http::StatusCode;
use metaraft_raft::Consistency;

use super::body::DorisJson;
use super::envelope::Envelope;
use super::envelope::Text;
use super::error::ApiError;
use super::error::MetaCode;
use super::replicate;
use super::rpc::now_ms;
use super::AppState;
use crate::meta::load;
use crate::meta::load::LoadCommand;
use crate::meta::load::LoadOp;
use crate::meta::pb_txn::AbortTxnRequest;
use crate::meta::pb_txn::FinishTabletJobRequest;
use crate::meta::pb_txn::GetTabletStatsRequest;
use crate::meta::pb_txn::JobAction;
use crate::meta::Command;
use crate::meta::MetaError;
use crate::meta::Reply;

/// Proposes a load write and folds its status into the envelope.
async fn propose(state: &AppState, op: LoadOp) -> Result<Envelope, ApiError> {
    let command = Command::Load(Box::new(LoadCommand { now_ms: now_ms(), op }));
    match replicate::propose(state, &command).await?? {
        Reply::Load(reply) => match load::status_error(reply.status()) {
            None => Ok(Envelope::ok()),
            Some(e) => Err(e.into()),
        },
        Reply::Done => Err(MetaError::undefined("unexpected reply").into()),
    }
}

/// `abort_txn`: by `txn_id`, or `db_id` + `label`.
pub async fn abort_txn(
    State(state): State<AppState>,
    DorisJson(request): DorisJson<AbortTxnRequest>,
) -> Result<Envelope, ApiError> {
    propose(&state, LoadOp::AbortTxn(request)).await
}

/// `abort_tablet_job`: `finish_tablet_job` with the action forced to ABORT.
pub async fn abort_tablet_job(
    State(state): State<AppState>,
    DorisJson(mut request): DorisJson<FinishTabletJobRequest>,
) -> Result<Envelope, ApiError> {
    request.action = Some(JobAction::Abort);
    propose(&state, LoadOp::FinishTabletJob(request)).await
}

/// `get_tablet_stats`: protobuf text of the response, or just the newline on error.
pub async fn get_tablet_stats(
    State(state): State<AppState>,
    DorisJson(request): DorisJson<GetTabletStatsRequest>,
) -> Result<Text, ApiError> {
    let now = now_ms();
    let response = replicate::read(&state, Consistency::Linearizable, move |kv| {
        Ok(load::respond(load::get_tablet_stats(kv, &request, now))?)
    })
    .await??;
    match load::status_error(response.status.as_ref()) {
        None => Ok(Text { status: StatusCode::OK, text: crate::meta::debug_string(&response) }),
        Some(e) => Ok(Text { status: MetaCode::from(e.code).http_status(), text: String::new() }),
    }
}
