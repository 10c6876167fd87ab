//! Clusters and nodes: every `alter_cluster` route (endpoints §10–§17) and the two reads
//! (`get_cluster`, `get_cluster_status`). Clusters live inside the instance record
//! (`InstanceInfoPB.clusters`), as in Doris.
//!
//! * [`prepare`] (proposer): the preamble and the route's stateless checks, when they do not
//!   depend on resolving a `cloud_unique_id`; time fixed → an [`AlterCluster`] command.
//! * [`alter`] (apply): the whole check sequence again in Doris's order (the stateless rows are
//!   pure, so re-running them is harmless and keeps the order exact when resolution comes first),
//!   then the change. Every check runs before the single write.
//! * node-level rows and changes live in `node.rs`; the reads (`get_cluster`,
//!   `get_cluster_status`) in `cluster_get.rs`.
//!
//! Profile choices: validation order and messages are [M]'s (string-only errors are 400), node
//! ports are checked as [C] does, the cluster-name pattern is always enforced.

use metaraft_raft::KvWrite;
use serde::Deserialize;
use serde::Serialize;

use super::command::Reply;
use super::error::MetaError;
use super::error::MetaResult;
use super::error::ServiceCode;
use super::node::add_nodes;
use super::node::check_decommission;
use super::node::check_endpoints;
use super::node::check_occupied;
use super::node::drop_nodes;
use super::node::mark_nodes;
use super::pb::AlterClusterRequest;
use super::pb::ClusterPb;
use super::pb::ClusterStatus;
use super::pb::ClusterType;
use super::pb::InstanceInfoPb;
use super::pb::InstanceStatus;
use super::pb::NodeStatus;
use super::pb::NodeType;
use super::resolve;
use super::resolve::Scan;
use super::store::load;
use super::store::save;
use super::store::Outcome;
use super::text_format;
use crate::keys;
use crate::pbjson;

/// The cluster-name pattern (`check_cluster_params_valid`, public doc).
pub const CLUSTER_NAME_PATTERN: &str = "^[a-zA-Z][a-zA-Z0-9_]*$";

/// Doris's hint appended to "not found" texts of drop routes ([M]).
pub(super) const HELP_MSG: &str =
    " help Msg=Ms nodes memory cache may be inconsistent, pls check registry key may be contain \
                        127.0.0.1, and call get_instance api get instance info from fdb";

/// The `alter_cluster` operation a route forces.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum ClusterOp {
    /// `add_cluster`.
    AddCluster,
    /// `drop_cluster`.
    DropCluster,
    /// `rename_cluster`.
    RenameCluster,
    /// `update_cluster_mysql_user_name`.
    UpdateClusterMysqlUserName,
    /// `add_node`.
    AddNode,
    /// `drop_node`.
    DropNode,
    /// `set_cluster_status`.
    SetClusterStatus,
    /// `update_cluster_endpoint`.
    UpdateClusterEndpoint,
    /// `decommission_node`.
    DecommissionNode,
    /// `notify_decommissioned`.
    NotifyDecommissioned,
}

impl ClusterOp {
    /// The route name.
    pub fn route(self) -> &'static str {
        match self {
            ClusterOp::AddCluster => "add_cluster",
            ClusterOp::DropCluster => "drop_cluster",
            ClusterOp::RenameCluster => "rename_cluster",
            ClusterOp::UpdateClusterMysqlUserName => "update_cluster_mysql_user_name",
            ClusterOp::AddNode => "add_node",
            ClusterOp::DropNode => "drop_node",
            ClusterOp::SetClusterStatus => "set_cluster_status",
            ClusterOp::UpdateClusterEndpoint => "update_cluster_endpoint",
            ClusterOp::DecommissionNode => "decommission_node",
            ClusterOp::NotifyDecommissioned => "notify_decommissioned",
        }
    }
}

/// One `alter_cluster` write, validated as far as the state allows; `now` fixed by the proposer.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AlterCluster {
    /// The route's operation.
    pub op: ClusterOp,
    /// The request as received.
    pub request: AlterClusterRequest,
    /// Seconds since the epoch (`ctime`/`mtime`).
    pub now: i64,
}

pub(super) fn bad(msg: impl Into<String>) -> MetaError {
    MetaError::invalid_argument(msg)
}

pub(super) fn not_found(msg: impl Into<String>) -> MetaError {
    MetaError::new(ServiceCode::ClusterNotFound, msg)
}

pub(super) fn text(s: Option<&String>) -> &str {
    s.map_or("", String::as_str)
}

pub(super) fn compact<T: super::schema::ProtoMessage>(msg: &T) -> String {
    pbjson::encode(msg).to_compact()
}

/// Stateless part: run on the proposer unless a `cloud_unique_id` must be resolved first.
pub fn prepare(op: ClusterOp, request: AlterClusterRequest, now: i64) -> MetaResult<AlterCluster> {
    if !needs_resolution(&request) {
        let cluster = preamble_shape(&request, text(request.instance_id.as_ref()))?;
        check_route(op, cluster)?;
    }
    Ok(AlterCluster { op, request, now })
}

fn needs_resolution(r: &AlterClusterRequest) -> bool {
    text(r.instance_id.as_ref()).is_empty() && !text(r.cloud_unique_id.as_ref()).is_empty()
}

/// §10 step 2.
fn preamble_shape<'a>(r: &'a AlterClusterRequest, instance_id: &str) -> MetaResult<&'a ClusterPb> {
    match &r.cluster {
        Some(c) if !instance_id.is_empty() => Ok(c),
        _ => Err(bad("invalid request instance_id or cluster not given")),
    }
}

/// The route's stateless rows, in order.
fn check_route(op: ClusterOp, c: &ClusterPb) -> MetaResult<()> {
    match op {
        ClusterOp::AddCluster => check_params(op, c),
        ClusterOp::AddNode | ClusterOp::DropNode | ClusterOp::DecommissionNode | ClusterOp::NotifyDecommissioned => {
            check_params(op, c)?;
            if c.nodes.is_empty() {
                return Err(bad("to_add and to_del both empty or both not empty"));
            }
            Ok(())
        }
        ClusterOp::DropCluster
        | ClusterOp::RenameCluster
        | ClusterOp::UpdateClusterMysqlUserName
        | ClusterOp::UpdateClusterEndpoint
        | ClusterOp::SetClusterStatus => {
            if text(c.cluster_id.as_ref()).is_empty() {
                return Err(bad("missing cluster_id="));
            }
            Ok(())
        }
    }
}

fn name_matches_pattern(name: &str) -> bool {
    let mut bytes = name.bytes();
    bytes.next().is_some_and(|b| b.is_ascii_alphabetic()) && bytes.all(|b| b.is_ascii_alphanumeric() || b == b'_')
}

/// `check_cluster_params_valid` (§10.1): [M] order and texts, node ports as [C].
pub fn check_params(op: ClusterOp, c: &ClusterPb) -> MetaResult<()> {
    let Some(kind) = c.r#type else { return Err(bad("cluster must have type arg")) };
    if op == ClusterOp::AddCluster && text(c.cluster_name.as_ref()).is_empty() {
        return Err(bad("not have cluster name"));
    }
    if let Some(name) = &c.cluster_name {
        if !name_matches_pattern(name) {
            return Err(bad(format!("cluster name not regex with {CLUSTER_NAME_PATTERN}, please check it")));
        }
    }
    let (mut masters, mut followers) = (0u32, 0u32);
    for node in &c.nodes {
        let ok = match kind {
            ClusterType::Sql => {
                let port_ok = node.edit_log_port.unwrap_or(0) != 0;
                match node.node_type {
                    Some(NodeType::FeMaster) if port_ok => {
                        masters += 1;
                        true
                    }
                    Some(NodeType::FeFollower) if port_ok => {
                        followers += 1;
                        true
                    }
                    Some(NodeType::FeObserver) => port_ok,
                    _ => false,
                }
            }
            ClusterType::Compute => node.heartbeat_port.unwrap_or(0) != 0,
            ClusterType::Virtual => true,
        };
        if !ok {
            return Err(bad(format!("check cluster params failed, node : {}", compact(node))));
        }
    }
    if op == ClusterOp::AddCluster && kind == ClusterType::Sql {
        if masters > 0 && followers > 0 {
            return Err(bad(format!(
                "cluster is SQL type, and use multi follower mode, cant set master node, master count: {masters} \
                 follower count: {followers}"
            )));
        }
        if followers == 0 && masters != 1 {
            return Err(bad(format!(
                "cluster is SQL type, must have only one master node, now master count: {masters}"
            )));
        }
    }
    Ok(())
}

/// Applies one `alter_cluster` write.
pub fn alter(kv: &mut KvWrite<'_, '_>, cmd: &AlterCluster) -> Outcome<Reply> {
    let r = &cmd.request;
    let instance_id = resolve_instance(kv, r)?;
    let c = preamble_shape(r, &instance_id)?;
    check_route(cmd.op, c)?;
    if matches!(
        cmd.op,
        ClusterOp::AddCluster
            | ClusterOp::AddNode
            | ClusterOp::DropNode
            | ClusterOp::DecommissionNode
            | ClusterOp::NotifyDecommissioned
    ) {
        check_node_ids(kv, c)?;
    }
    if cmd.op == ClusterOp::AddCluster {
        // Row 2 precedes the instance read.
        check_occupied(kv, c, &instance_id, ServiceCode::AlreadyExisted)?;
    }
    if matches!(cmd.op, ClusterOp::DecommissionNode | ClusterOp::NotifyDecommissioned) {
        check_decommission(kv, c)?;
    }
    let key = keys::instance_key(&instance_id);
    let loaded = load::<InstanceInfoPb>(kv, &key)?;
    let mut instance = match cmd.op {
        ClusterOp::AddCluster => {
            existing(loaded, &instance_id, ServiceCode::KvTxnGetErr, "info failed to get instance, ")?
        }
        ClusterOp::DropCluster => existing(loaded, &instance_id, ServiceCode::ClusterNotFound, "")?,
        _ => existing(loaded, &instance_id, ServiceCode::InvalidArgument, "")?,
    };
    match cmd.op {
        ClusterOp::AddCluster => add_cluster(&mut instance, c, cmd.now)?,
        ClusterOp::DropCluster => drop_cluster(&mut instance, c)?,
        ClusterOp::RenameCluster => {
            let i = find_for_update(&instance, c)?;
            let new_name = text(c.cluster_name.as_ref());
            if instance.clusters.iter().any(|x| text(x.cluster_name.as_ref()) == new_name) {
                return Err(bad(format!(
                    "failed to rename cluster, a cluster with the same name already exists in this instance {}",
                    compact(&instance.clusters[i])
                ))
                .into());
            }
            instance.clusters[i].cluster_name = Some(new_name.to_string());
        }
        ClusterOp::UpdateClusterMysqlUserName => {
            let i = find_for_update(&instance, c)?;
            instance.clusters[i].mysql_user_name.clone_from(&c.mysql_user_name);
        }
        ClusterOp::SetClusterStatus => {
            let i = find_for_update(&instance, c)?;
            set_status(&mut instance.clusters[i], c.cluster_status.unwrap_or(ClusterStatus::Unknown))?;
        }
        ClusterOp::AddNode => add_nodes(kv, &mut instance, c, &instance_id, cmd.now)?,
        ClusterOp::DropNode => drop_nodes(&mut instance, c, text(r.instance_id.as_ref()))?,
        ClusterOp::UpdateClusterEndpoint => {
            let i = find_for_update(&instance, c)?;
            if text(c.private_endpoint.as_ref()).is_empty() {
                return Err(MetaError::new(ServiceCode::ClusterEndpointMissing, "missing private endpoint").into());
            }
            let target = &mut instance.clusters[i];
            target.public_endpoint = Some(text(c.public_endpoint.as_ref()).to_string());
            target.private_endpoint = Some(text(c.private_endpoint.as_ref()).to_string());
        }
        ClusterOp::DecommissionNode => mark_nodes(&mut instance, c, NodeStatus::Decommissioning, cmd.now)?,
        ClusterOp::NotifyDecommissioned => mark_nodes(&mut instance, c, NodeStatus::Decommissioned, cmd.now)?,
    }
    save(kv, &key, &instance)?;
    Ok(Reply::Done)
}

/// §10 step 1 ([M]).
fn resolve_instance(kv: &impl Scan, r: &AlterClusterRequest) -> Outcome<String> {
    let instance_id = text(r.instance_id.as_ref());
    let cuid = text(r.cloud_unique_id.as_ref());
    if !instance_id.is_empty() || cuid.is_empty() {
        return Ok(instance_id.to_string());
    }
    if let Some(id) = resolve::degraded_instance_id(cuid) {
        if load::<InstanceInfoPb>(kv, &keys::instance_key(&id))?.is_none() {
            return Err(
                bad(format!("use degrade cloud_unique_id, but instance_id invalid, cloud_unique_id={cuid}")).into()
            );
        }
    }
    match resolve::instance_id_of(kv, cuid)? {
        Some(id) => Ok(id),
        None => Err(bad("empty instance_id").into()),
    }
}

/// [M] §10.1: a node's degraded `cloud_unique_id` must name an existing instance.
fn check_node_ids(kv: &impl Scan, c: &ClusterPb) -> Outcome<()> {
    for node in &c.nodes {
        if let Some(id) = resolve::degraded_instance_id(text(node.cloud_unique_id.as_ref())) {
            if load::<InstanceInfoPb>(kv, &keys::instance_key(&id))?.is_none() {
                return Err(bad(format!(
                    "node={} cloud_unique_id use degrade format, but check instance failed",
                    text_format::debug_string(node)
                ))
                .into());
            }
        }
    }
    Ok(())
}

fn existing(loaded: Option<InstanceInfoPb>, id: &str, code: ServiceCode, info: &str) -> MetaResult<InstanceInfoPb> {
    let instance = loaded.ok_or_else(|| {
        MetaError::new(code, format!("failed to get instance, {info}instance_id={id} err=KeyNotFound"))
    })?;
    if instance.status == Some(InstanceStatus::Deleted) {
        let code = if code == ServiceCode::KvTxnGetErr { ServiceCode::ClusterNotFound } else { code };
        return Err(MetaError::new(code, "instance status has been set delete, plz check it"));
    }
    Ok(instance)
}

fn add_cluster(instance: &mut InstanceInfoPb, c: &ClusterPb, now: i64) -> MetaResult<()> {
    for x in &instance.clusters {
        if text(x.cluster_id.as_ref()) == text(c.cluster_id.as_ref()) {
            let id = text(x.cluster_id.as_ref());
            return Err(MetaError::already_existed(format!(
                "try to add a existing cluster id, existing_cluster_id={id}"
            )));
        }
        if text(x.cluster_name.as_ref()) == text(c.cluster_name.as_ref()) {
            let name = text(x.cluster_name.as_ref());
            return Err(MetaError::already_existed(format!(
                "try to add a existing cluster name, existing_cluster_name={name}"
            )));
        }
    }
    check_endpoints(instance, c)?;
    let mut cluster = c.clone();
    for node in &mut cluster.nodes {
        node.ctime = Some(now);
        node.mtime = Some(now);
    }
    if cluster.r#type == Some(ClusterType::Compute) {
        cluster.cluster_status = Some(ClusterStatus::Normal);
    }
    cluster.ctime = Some(now);
    cluster.mtime = Some(now);
    instance.clusters.push(cluster);
    Ok(())
}

fn drop_cluster(instance: &mut InstanceInfoPb, c: &ClusterPb) -> MetaResult<()> {
    let id = text(c.cluster_id.as_ref());
    let Some(i) = instance.clusters.iter().position(|x| text(x.cluster_id.as_ref()) == id) else {
        return Err(not_found(format!(
            "failed to find cluster to drop, instance_id={} cluster_id={id} cluster_name={}{HELP_MSG}",
            text(instance.instance_id.as_ref()),
            text(c.cluster_name.as_ref())
        )));
    };
    let name = text(instance.clusters[i].cluster_name.as_ref());
    if let Some(v) = instance
        .clusters
        .iter()
        .find(|x| x.r#type == Some(ClusterType::Virtual) && x.cluster_names.iter().any(|n| n == name))
    {
        let v = text(v.cluster_name.as_ref());
        return Err(MetaError::already_existed(format!(
            "failed to drop cluster, this cluster owned by virtual cluster={v} if you want drop this cluster, please \
             drop virtual cluster={v} firstly"
        )));
    }
    instance.clusters.remove(i);
    Ok(())
}

fn find_for_update(instance: &InstanceInfoPb, c: &ClusterPb) -> MetaResult<usize> {
    let id = text(c.cluster_id.as_ref());
    instance.clusters.iter().position(|x| text(x.cluster_id.as_ref()) == id).ok_or_else(|| {
        bad(format!(
            "failed to find cluster to update, instance_id={} cluster_id={id} cluster_name={}",
            text(instance.instance_id.as_ref()),
            text(c.cluster_name.as_ref())
        ))
    })
}

/// The status edges both versions allow (§17).
pub fn transition_allowed(from: ClusterStatus, to: ClusterStatus) -> bool {
    use ClusterStatus::*;
    matches!(
        (from, to),
        (Unknown, Normal)
            | (Normal, Suspended)
            | (Suspended, ToResume)
            | (ToResume, Normal)
            | (Suspended, Normal)
            | (Normal, ManualShutdown)
            | (ManualShutdown, Normal)
    )
}

fn status_name(s: ClusterStatus) -> &'static str {
    match s {
        ClusterStatus::Unknown => "UNKNOWN",
        ClusterStatus::Normal => "NORMAL",
        ClusterStatus::Suspended => "SUSPENDED",
        ClusterStatus::ToResume => "TO_RESUME",
        ClusterStatus::ManualShutdown => "MANUAL_SHUTDOWN",
    }
}

fn set_status(cluster: &mut ClusterPb, want: ClusterStatus) -> MetaResult<()> {
    if cluster.r#type != Some(ClusterType::Compute) {
        return Err(bad("just support set COMPUTE cluster status"));
    }
    let cur = cluster.cluster_status.unwrap_or(ClusterStatus::Unknown);
    if cur == want {
        return Err(bad(format!(
            "failed to set cluster status, status eq original status, original cluster is {}",
            status_name(cur)
        )));
    }
    if !transition_allowed(cur, want) {
        return Err(bad(format!(
            "failed to set cluster status, original cluster is {} and want set {}",
            status_name(cur),
            status_name(want)
        )));
    }
    cluster.cluster_status = Some(want);
    Ok(())
}

#[cfg(test)]
#[path = "cluster_test.rs"]
mod test;
