//! Instance changes through Doris's `alter_instance`: `drop_instance`, `set_instance_status`,
//! `enable_instance_sse`, `disable_instance_sse`, `rename_instance` (endpoints §2, §4, §5).
//!
//! The route fixes the op, except `set_instance_status`, which takes it from the body and then
//! executes whatever op it names (endpoints §4). [`prepare`] runs the stateless checks (op known,
//! `instance_id` set) on the proposer and fixes `mtime`; [`alter`] runs in apply: existence, then
//! the op's own rule, then the write. A refused op writes nothing.

use metaraft_raft::KvRead;
use metaraft_raft::KvWrite;
use serde::Deserialize;
use serde::Serialize;

use super::command::Reply;
use super::error::MetaError;
use super::error::MetaResult;
use super::error::ServiceCode;
use super::pb::InstanceInfoPb;
use super::pb::InstanceStatus;
use super::schema::proto_enum;
use super::schema::proto_message;
use super::store::load;
use super::store::save;
use super::store::Outcome;
use super::validate;
use crate::keys;

proto_enum! {
    /// `AlterInstanceRequest.Operation`.
    pub enum AlterInstanceOp = "doris.cloud.AlterInstanceRequest.Operation" {
        Unknown = "UNKNOWN" 0,
        Drop = "DROP" 1,
        Refresh = "REFRESH" 2,
        Rename = "RENAME" 3,
        EnableSse = "ENABLE_SSE" 4,
        DisableSse = "DISABLE_SSE" 5,
        SetOverdue = "SET_OVERDUE" 6,
        SetNormal = "SET_NORMAL" 7,
        SetSnapshotProperty = "SET_SNAPSHOT_PROPERTY" 8,
    }
}

impl AlterInstanceOp {
    /// The number Doris prints in `invalid request op, op=<n>`.
    pub fn number(self) -> i32 {
        match self {
            AlterInstanceOp::Unknown => 0,
            AlterInstanceOp::Drop => 1,
            AlterInstanceOp::Refresh => 2,
            AlterInstanceOp::Rename => 3,
            AlterInstanceOp::EnableSse => 4,
            AlterInstanceOp::DisableSse => 5,
            AlterInstanceOp::SetOverdue => 6,
            AlterInstanceOp::SetNormal => 7,
            AlterInstanceOp::SetSnapshotProperty => 8,
        }
    }
}

proto_message! {
    /// `AlterInstanceRequest`: the body of every instance-alter route.
    pub struct AlterInstanceRequest = "doris.cloud.AlterInstanceRequest" {
        1 instance_id: optional string,
        2 op: optional enum(AlterInstanceOp),
        3 name: optional string,
        4 request_ip: optional string,
        5 properties: map string,
    }
}

/// An instance alteration, validated on the proposer.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AlterInstance {
    /// The instance (non-empty).
    pub instance_id: String,
    /// The op (never `Unknown`, `Refresh` or `SetSnapshotProperty`: those never reach the log).
    pub op: AlterInstanceOp,
    /// New name (`RENAME`); the emptiness check runs in apply, after existence, as in Doris.
    pub name: Option<String>,
    /// Seconds since the epoch, fixed by the proposer (`mtime`).
    pub now: i64,
}

/// What the handler does after [`prepare`].
#[derive(Debug, Clone, PartialEq)]
pub enum Plan {
    /// Propose this command.
    Write(AlterInstance),
    /// `REFRESH`: Doris reloads its cache; nothing to change. Answer OK once the instance is
    /// known to exist (a read).
    Refresh(String),
}

/// Stateless part: the op must be one Doris executes (`invalid request op, op=<n>`, checked
/// before the id), then `instance id not set`.
pub fn prepare(request: AlterInstanceRequest, now: i64) -> MetaResult<Plan> {
    let op = request.op.unwrap_or(AlterInstanceOp::Unknown);
    if matches!(op, AlterInstanceOp::Unknown | AlterInstanceOp::SetSnapshotProperty) {
        return Err(MetaError::invalid_argument(format!("invalid request op, op={}", op.number())));
    }
    let instance_id = validate::instance_id_set(request.instance_id.as_ref())?.to_string();
    if op == AlterInstanceOp::Refresh {
        return Ok(Plan::Refresh(instance_id));
    }
    Ok(Plan::Write(AlterInstance { instance_id, op, name: request.name, now }))
}

/// `instance not existed, instance_id=<id>, err=KeyNotFound` (CLUSTER_NOT_FOUND → 404).
pub fn not_existed(instance_id: &str) -> MetaError {
    MetaError::new(
        ServiceCode::ClusterNotFound,
        format!("instance not existed, instance_id={instance_id}, err=KeyNotFound"),
    )
}

/// `REFRESH` (read side): OK when the instance exists.
pub fn refresh(kv: &KvRead, instance_id: &str) -> Outcome<()> {
    load::<InstanceInfoPb>(kv, &keys::instance_key(instance_id))?.ok_or_else(|| not_existed(instance_id))?;
    Ok(())
}

/// Applies the op: 404 for an unknown instance, then the op's rule, then the write.
pub fn alter(kv: &mut KvWrite<'_, '_>, cmd: &AlterInstance) -> Outcome<Reply> {
    let key = keys::instance_key(&cmd.instance_id);
    let mut instance = load::<InstanceInfoPb>(kv, &key)?.ok_or_else(|| not_existed(&cmd.instance_id))?;
    change(&mut instance, cmd)?;
    save(kv, &key, &instance)?;
    Ok(Reply::Done)
}

/// The op's rule and effect on the record (Doris's alter_instance lambdas).
fn change(instance: &mut InstanceInfoPb, cmd: &AlterInstance) -> MetaResult<()> {
    let id = &cmd.instance_id;
    let status = instance.status.unwrap_or(InstanceStatus::Normal);
    let invalid = |msg: String| Err(MetaError::invalid_argument(msg));
    match cmd.op {
        AlterInstanceOp::Drop => {
            if !instance.clusters.is_empty() {
                return invalid("failed to drop instance, instance has clusters".into());
            }
            instance.status = Some(InstanceStatus::Deleted);
        }
        AlterInstanceOp::SetOverdue => {
            if status == InstanceStatus::Deleted {
                return invalid(format!("can't set deleted instance to overdue, instance_id = {id}"));
            }
            if status == InstanceStatus::Overdue {
                return invalid(format!("the instance has already set  instance to overdue, instance_id = {id}"));
            }
            instance.status = Some(InstanceStatus::Overdue);
        }
        AlterInstanceOp::SetNormal => {
            if status == InstanceStatus::Deleted {
                return invalid(format!("can't set deleted instance to normal, instance_id = {id}"));
            }
            if status == InstanceStatus::Normal {
                return invalid(format!("the instance is already normal, instance_id = {id}"));
            }
            instance.status = Some(InstanceStatus::Normal);
        }
        AlterInstanceOp::EnableSse | AlterInstanceOp::DisableSse => {
            let enable = cmd.op == AlterInstanceOp::EnableSse;
            if instance.sse_enabled.unwrap_or(false) == enable {
                let (verb, state) = if enable { ("enable", "enabled") } else { ("disable", "disabled") };
                return invalid(format!("failed to {verb} sse, instance has {state} sse"));
            }
            instance.sse_enabled = Some(enable);
            // Legacy obj_infos follow; vault obj_infos (storage_vault records) do not.
            for obj in &mut instance.obj_info {
                obj.sse_enabled = Some(enable);
            }
        }
        AlterInstanceOp::Rename => {
            match cmd.name.as_deref() {
                Some(name) if !name.is_empty() => instance.name = Some(name.to_string()),
                _ => return invalid("rename instance name, but not set".into()),
            }
            // Rename does not touch mtime.
            return Ok(());
        }
        AlterInstanceOp::Unknown | AlterInstanceOp::Refresh | AlterInstanceOp::SetSnapshotProperty => {
            return invalid(format!("invalid request op, op={}", cmd.op.number()));
        }
    }
    instance.mtime = Some(cmd.now);
    Ok(())
}

#[cfg(test)]
mod test {
    use metaraft_raft::ScratchKv;

    use super::super::pb::ClusterPb;
    use super::super::pb::ObjectStoreInfoPb;
    use super::super::store::Failure;
    use super::*;

    fn kv_with(instance: &InstanceInfoPb) -> (tempfile::TempDir, ScratchKv) {
        let dir = tempfile::tempdir().unwrap();
        let kv = ScratchKv::open(&dir.path().join("x.redb")).unwrap();
        let key = keys::instance_key(instance.instance_id.as_deref().unwrap());
        kv.write(|w| {
            Failure::split(save(w, &key, instance)).unwrap().unwrap();
            Ok(())
        })
        .unwrap();
        (dir, kv)
    }

    fn base() -> InstanceInfoPb {
        InstanceInfoPb {
            instance_id: Some("i".into()),
            name: Some("n".into()),
            status: Some(InstanceStatus::Normal),
            sse_enabled: Some(false),
            obj_info: vec![ObjectStoreInfoPb { id: Some("1".into()), sse_enabled: Some(false), ..Default::default() }],
            ..Default::default()
        }
    }

    fn run(kv: &ScratchKv, op: AlterInstanceOp, name: Option<&str>, now: i64) -> MetaResult<InstanceInfoPb> {
        let req = AlterInstanceRequest {
            instance_id: Some("i".into()),
            op: Some(op),
            name: name.map(str::to_string),
            ..Default::default()
        };
        let Plan::Write(cmd) = prepare(req, now)? else { panic!("not a write") };
        kv.write(|w| Failure::split(alter(w, &cmd))).unwrap()?;
        let r = kv.read().unwrap();
        Ok(Failure::split(load::<InstanceInfoPb>(&r, &keys::instance_key("i"))).unwrap().unwrap().unwrap())
    }

    fn msg(r: MetaResult<InstanceInfoPb>) -> (ServiceCode, String) {
        let e = r.unwrap_err();
        (e.code, e.msg)
    }

    #[test]
    fn stateless_rows() {
        let e = prepare(AlterInstanceRequest::default(), 1).unwrap_err();
        assert_eq!(e.msg, "invalid request op, op=0");
        let req = |op| AlterInstanceRequest { op: Some(op), ..Default::default() };
        assert_eq!(prepare(req(AlterInstanceOp::SetNormal), 1).unwrap_err().msg, "instance id not set");
        assert_eq!(prepare(req(AlterInstanceOp::SetSnapshotProperty), 1).unwrap_err().msg, "invalid request op, op=8");
        let r = AlterInstanceRequest { instance_id: Some("x".into()), ..req(AlterInstanceOp::Refresh) };
        assert_eq!(prepare(r, 1).unwrap(), Plan::Refresh("x".into()));
    }

    #[test]
    fn status_transitions() {
        let (_d, kv) = kv_with(&base());
        let id = "instance_id = i";
        let e = msg(run(&kv, AlterInstanceOp::SetNormal, None, 5));
        assert_eq!(e, (ServiceCode::InvalidArgument, format!("the instance is already normal, {id}")));
        let got = run(&kv, AlterInstanceOp::SetOverdue, None, 6).unwrap();
        assert_eq!((got.status, got.mtime), (Some(InstanceStatus::Overdue), Some(6)));
        let e = msg(run(&kv, AlterInstanceOp::SetOverdue, None, 7));
        assert_eq!(e.1, format!("the instance has already set  instance to overdue, {id}"));
        let got = run(&kv, AlterInstanceOp::SetNormal, None, 8).unwrap();
        assert_eq!((got.status, got.mtime), (Some(InstanceStatus::Normal), Some(8)));
        let got = run(&kv, AlterInstanceOp::Drop, None, 9).unwrap();
        assert_eq!((got.status, got.mtime), (Some(InstanceStatus::Deleted), Some(9)));
        assert_eq!(
            msg(run(&kv, AlterInstanceOp::SetOverdue, None, 10)).1,
            format!("can't set deleted instance to overdue, {id}")
        );
        assert_eq!(
            msg(run(&kv, AlterInstanceOp::SetNormal, None, 10)).1,
            format!("can't set deleted instance to normal, {id}")
        );
        // Dropping again succeeds and only bumps mtime.
        let got = run(&kv, AlterInstanceOp::Drop, None, 11).unwrap();
        assert_eq!((got.status, got.mtime), (Some(InstanceStatus::Deleted), Some(11)));
    }

    #[test]
    fn drop_refuses_while_clusters_exist() {
        let (_d, kv) = kv_with(&InstanceInfoPb { clusters: vec![ClusterPb::default()], ..base() });
        let e = msg(run(&kv, AlterInstanceOp::Drop, None, 1));
        assert_eq!(e, (ServiceCode::InvalidArgument, "failed to drop instance, instance has clusters".into()));
    }

    #[test]
    fn sse_and_rename() {
        let (_d, kv) = kv_with(&base());
        let e = msg(run(&kv, AlterInstanceOp::DisableSse, None, 1));
        assert_eq!(e.1, "failed to disable sse, instance has disabled sse");
        let got = run(&kv, AlterInstanceOp::EnableSse, None, 2).unwrap();
        assert_eq!((got.sse_enabled, got.obj_info[0].sse_enabled, got.mtime), (Some(true), Some(true), Some(2)));
        assert_eq!(
            msg(run(&kv, AlterInstanceOp::EnableSse, None, 3)).1,
            "failed to enable sse, instance has enabled sse"
        );
        let got = run(&kv, AlterInstanceOp::DisableSse, None, 4).unwrap();
        assert_eq!((got.sse_enabled, got.obj_info[0].sse_enabled), (Some(false), Some(false)));
        assert_eq!(msg(run(&kv, AlterInstanceOp::Rename, None, 5)).1, "rename instance name, but not set");
        assert_eq!(msg(run(&kv, AlterInstanceOp::Rename, Some(""), 5)).1, "rename instance name, but not set");
        let got = run(&kv, AlterInstanceOp::Rename, Some("new"), 6).unwrap();
        assert_eq!((got.name.as_deref(), got.mtime), (Some("new"), Some(4)));
    }

    #[test]
    fn unknown_instance_is_not_found() {
        let (_d, kv) = kv_with(&base());
        let req = AlterInstanceRequest {
            instance_id: Some("nope".into()),
            op: Some(AlterInstanceOp::Drop),
            ..Default::default()
        };
        let Plan::Write(cmd) = prepare(req, 1).unwrap() else { panic!() };
        let e = kv.write(|w| Failure::split(alter(w, &cmd))).unwrap().unwrap_err();
        assert_eq!(
            (e.code, e.msg.as_str()),
            (ServiceCode::ClusterNotFound, "instance not existed, instance_id=nope, err=KeyNotFound")
        );
    }
}
