//! [`MetaApp`]: the meta service as a Raft application. One match, delegating per command.

use metaraft_raft::codec;
use metaraft_raft::Application;
use metaraft_raft::KvError;
use metaraft_raft::KvWrite;

use super::command::Command;
use super::command::CommandResult;
use super::command::Reply;
use super::error::MetaError;
use super::instance;
use super::store::Failure;
use super::store::Outcome;

/// The replicated meta service state machine. Deterministic: no clock, no randomness.
#[derive(Debug, Default, Clone, Copy)]
pub struct MetaApp;

impl MetaApp {
    /// A new application instance.
    pub fn new() -> Self {
        MetaApp
    }
}

fn dispatch(kv: &mut KvWrite<'_, '_>, command: &Command) -> Outcome<Reply> {
    match command {
        Command::CreateInstance(c) => instance::create(kv, c),
        Command::AlterInstance(c) => super::instance_alter::alter(kv, c),
        Command::AlterObjStore(c) => super::obj_store::apply_alter(kv, c),
        Command::UpdateAkSk(c) => super::obj_store::apply_update_ak_sk(kv, c),
        Command::AlterCluster(c) => super::cluster::alter(kv, c),
        Command::Load(c) => Ok(Reply::Load(Box::new(super::load::apply(kv, c)?))),
    }
}

impl Application for MetaApp {
    fn apply(&self, kv: &mut KvWrite<'_, '_>, command: &[u8]) -> Result<Vec<u8>, KvError> {
        let result = match codec::decode_tagged::<Command>(command) {
            Ok(cmd) => Failure::split(dispatch(kv, &cmd))?,
            // Only a node running older code than the proposer gets here. The refusal is the same
            // on every replica that cannot decode it; replicas that can will apply it.
            Err(e) => {
                tracing::error!(error = %e, "command does not decode; refusing it");
                Err(MetaError::undefined("command not understood by this meta service version"))
            }
        };
        Ok(CommandResult(result).encode().unwrap_or_else(|e| {
            tracing::error!(error = %e, "reply does not encode");
            Vec::new()
        }))
    }
}

#[cfg(test)]
mod test {
    use metaraft_raft::ScratchKv;

    use super::super::command::CreateInstance;
    use super::super::error::ServiceCode;
    use super::super::pb::CreateInstanceRequest;
    use super::*;

    fn create(id: &str) -> Vec<u8> {
        Command::CreateInstance(Box::new(CreateInstance {
            request: CreateInstanceRequest { instance_id: Some(id.into()), ..Default::default() },
            now: 1,
            hdfs_prefix_suffix: None,
        }))
        .encode()
        .unwrap()
    }

    #[test]
    fn racing_creates_give_one_ok_and_one_already_existed() {
        let dir = tempfile::tempdir().unwrap();
        let kv = ScratchKv::open(&dir.path().join("x.redb")).unwrap();
        let app = MetaApp::new();
        // Two proposals of the same id, applied in log order within one batch.
        let (a, b) = kv
            .write(|w| {
                let a = app.apply(w, &create("race"))?;
                let b = app.apply(w, &create("race"))?;
                Ok((a, b))
            })
            .unwrap();
        assert_eq!(CommandResult::decode(&a).unwrap().0, Ok(Reply::Done));
        let e = CommandResult::decode(&b).unwrap().0.unwrap_err();
        assert_eq!(e.code, ServiceCode::AlreadyExisted);
        assert_eq!(e.msg, "instance already existed, instance_id=race, err=Ok");
    }

    #[test]
    fn undecodable_command_is_refused_not_fatal() {
        let dir = tempfile::tempdir().unwrap();
        let kv = ScratchKv::open(&dir.path().join("x.redb")).unwrap();
        let out = kv.write(|w| MetaApp::new().apply(w, b"garbage")).unwrap();
        let e = CommandResult::decode(&out).unwrap().0.unwrap_err();
        assert_eq!(e.code, ServiceCode::UndefinedErr);
    }
}
