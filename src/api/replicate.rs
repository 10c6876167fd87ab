//! The handlers' way into consensus: propose a command, or read applied state.

use metaraft_raft::Consistency;
use metaraft_raft::KvRead;

use super::error::ApiError;
use super::AppState;
use crate::meta::Command;
use crate::meta::CommandResult;
use crate::meta::Failure;
use crate::meta::MetaError;
use crate::meta::Reply;

/// Replicates `command` and returns its (replicated) reply.
pub async fn propose(state: &AppState, command: &Command) -> Result<Result<Reply, MetaError>, ApiError> {
    tracing::debug!(node_id = state.node_id, command = command.name(), "propose");
    let bytes = command.encode()?;
    let reply = state.node.write(bytes).await?;
    Ok(CommandResult::decode(&reply)?.0)
}

/// Runs a domain read over applied state at `consistency`.
pub async fn read<T, F>(state: &AppState, consistency: Consistency, f: F) -> Result<Result<T, MetaError>, ApiError>
where
    F: FnOnce(&KvRead) -> Result<T, Failure>,
{
    Ok(state.node.read(consistency, move |kv| Failure::split(f(kv))).await?)
}
