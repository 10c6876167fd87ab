//! Nodes inside clusters: endpoint and `cloud_unique_id` uniqueness, `add_node`, `drop_node`,
//! `decommission_node`, `notify_decommissioned` (endpoints §11 row 7, §15). Called from
//! [`super::cluster::alter`]; every check runs before the caller's single write.

use super::cluster::bad;
use super::cluster::compact;
use super::cluster::not_found;
use super::cluster::text;
use super::cluster::HELP_MSG;
use super::error::MetaError;
use super::error::MetaResult;
use super::error::ServiceCode;
use super::pb::ClusterPb;
use super::pb::ClusterType;
use super::pb::InstanceInfoPb;
use super::pb::NodeInfoPb;
use super::pb::NodeStatus;
use super::pb::NodeType;
use super::resolve;
use super::resolve::Scan;
use super::store::Outcome;

/// `host` when set, else `ip`.
fn node_addr(n: &NodeInfoPb) -> Option<&str> {
    [&n.host, &n.ip].into_iter().flatten().map(String::as_str).find(|s| !s.is_empty())
}

fn node_port(n: &NodeInfoPb, kind: ClusterType) -> i32 {
    match kind {
        ClusterType::Sql => n.edit_log_port.unwrap_or(0),
        _ => n.heartbeat_port.unwrap_or(0),
    }
}

/// [M] add_cluster row 7 / add_node: a node's endpoint must be new among clusters of its type.
pub(super) fn check_endpoints(instance: &InstanceInfoPb, c: &ClusterPb) -> MetaResult<()> {
    let Some(kind) = c.r#type else { return Ok(()) };
    if kind == ClusterType::Virtual {
        return Ok(());
    }
    for node in &c.nodes {
        let Some(addr) = node_addr(node) else {
            return Err(bad(format!("add node input args node invalid, cluster={}", compact(node))));
        };
        let endpoint = format!("{addr}:{}", node_port(node, kind));
        let taken = instance
            .clusters
            .iter()
            .filter(|x| x.r#type.unwrap_or(ClusterType::Sql) == kind)
            .flat_map(|x| &x.nodes)
            .any(|n| node_addr(n).is_some_and(|a| format!("{a}:{}", node_port(n, kind)) == endpoint));
        if taken {
            return Err(MetaError::already_existed(match kind {
                ClusterType::Sql => format!("sql node endpoint has been added, registered fe node={endpoint}"),
                _ => format!("compute node endpoint has been added, registered be node={endpoint}"),
            }));
        }
    }
    Ok(())
}

/// A request node's `cloud_unique_id` registered under another instance.
pub(super) fn check_occupied(kv: &impl Scan, c: &ClusterPb, instance_id: &str, code: ServiceCode) -> Outcome<()> {
    for node in &c.nodes {
        let cuid = text(node.cloud_unique_id.as_ref());
        if cuid.is_empty() {
            continue;
        }
        if let Some(owner) = resolve::node_owner(kv, cuid)? {
            if owner.instance_id != instance_id {
                return Err(MetaError::new(
                    code,
                    format!(
                        "cloud_unique_id is already occupied by an instance, instance_id={} cluster_name={} \
                         cluster_id={} cloud_unique_id={cuid}",
                        owner.instance_id, owner.cluster_name, owner.cluster_id
                    ),
                )
                .into());
            }
        }
    }
    Ok(())
}

fn targets(instance: &InstanceInfoPb, c: &ClusterPb) -> Vec<usize> {
    let (name, id) = (text(c.cluster_name.as_ref()), text(c.cluster_id.as_ref()));
    (0..instance.clusters.len())
        .filter(|&i| {
            let x = &instance.clusters[i];
            text(x.cluster_name.as_ref()) == name || text(x.cluster_id.as_ref()) == id
        })
        .collect()
}

/// [M]: the first SQL cluster must keep exactly one master, or followers and no master.
fn check_sql_masters(instance: &InstanceInfoPb) -> MetaResult<()> {
    let Some(sql) = instance.clusters.iter().find(|x| x.r#type == Some(ClusterType::Sql)) else { return Ok(()) };
    let count = |t| sql.nodes.iter().filter(|n| n.node_type == Some(t)).count();
    let (masters, followers) = (count(NodeType::FeMaster), count(NodeType::FeFollower));
    if masters > 1 || (masters == 0 && followers == 0) {
        return Err(bad("instance invalid, cant modify, plz check"));
    }
    Ok(())
}

pub(super) fn add_nodes(
    kv: &impl Scan,
    instance: &mut InstanceInfoPb,
    c: &ClusterPb,
    instance_id: &str,
    now: i64,
) -> Outcome<()> {
    check_endpoints(instance, c).map_err(|e| bad(e.msg))?;
    check_occupied(kv, c, instance_id, ServiceCode::InvalidArgument)?;
    for i in targets(instance, c) {
        for node in &c.nodes {
            let mut node = node.clone();
            node.status = Some(NodeStatus::Running);
            node.ctime = Some(node.ctime.unwrap_or(now));
            node.mtime = Some(now);
            instance.clusters[i].nodes.push(node);
        }
    }
    check_sql_masters(instance)?;
    Ok(())
}

pub(super) fn drop_nodes(instance: &mut InstanceInfoPb, c: &ClusterPb, request_instance_id: &str) -> MetaResult<()> {
    let kind = c.r#type.unwrap_or(ClusterType::Sql);
    let ts = targets(instance, c);
    for node in &c.nodes {
        let cuid = text(node.cloud_unique_id.as_ref());
        let endpoint = node_addr(node).map(|a| (a.to_string(), node_port(node, kind)));
        let mut found = false;
        for &i in &ts {
            let nodes = &mut instance.clusters[i].nodes;
            if let Some(j) = nodes.iter().position(|n| {
                text(n.cloud_unique_id.as_ref()) == cuid
                    && node_addr(n).map(|a| (a.to_string(), node_port(n, kind))) == endpoint
            }) {
                nodes.remove(j);
                found = true;
                break;
            }
        }
        if !found {
            return Err(not_found(format!(
                "not found ,can not find to drop nodes by cloud_unique_id={cuid} instance_id={request_instance_id} \
                 cluster_name={} cluster_id={}{HELP_MSG}",
                text(c.cluster_name.as_ref()),
                text(c.cluster_id.as_ref())
            )));
        }
    }
    check_sql_masters(instance)
}

/// The first request node's `cloud_unique_id` (Doris reads `nodes()[0]`; empty lists are
/// refused earlier).
fn decommission_cuid(c: &ClusterPb) -> &str {
    c.nodes.first().map_or("", |n| text(n.cloud_unique_id.as_ref()))
}

/// Doris's endpoint rule for decommissioning: `ip:heartbeat_port` when both sides have an ip,
/// else `host:heartbeat_port` when both have a host.
fn decommission_match(c: &ClusterPb, n: &NodeInfoPb) -> bool {
    let same = |a: &Option<String>, b: &Option<String>| a.is_some() && a == b;
    text(n.cloud_unique_id.as_ref()) == decommission_cuid(c)
        && c.nodes.iter().any(|r| {
            let port = n.heartbeat_port.unwrap_or(0) == r.heartbeat_port.unwrap_or(0);
            port && if n.ip.is_some() && r.ip.is_some() { same(&n.ip, &r.ip) } else { same(&n.host, &r.host) }
        })
}

/// `decommission_node` / `notify_decommissioned` before the instance read: the node index
/// (every instance) must know the id, and some registered node must match an endpoint.
pub(super) fn check_decommission(kv: &impl Scan, c: &ClusterPb) -> Outcome<()> {
    let instances = resolve::all_instances(kv)?;
    let registered: Vec<&NodeInfoPb> = instances
        .iter()
        .flat_map(|i| &i.clusters)
        .flat_map(|x| &x.nodes)
        .filter(|n| text(n.cloud_unique_id.as_ref()) == decommission_cuid(c))
        .collect();
    if registered.is_empty() {
        return Err(bad("cloud_unique_id not found").into());
    }
    if !registered.iter().any(|n| decommission_match(c, n)) {
        return Err(bad("to_add and to_del both empty or both not empty").into());
    }
    Ok(())
}

/// The matching nodes are dropped and re-added with `status` (Doris's two `modify_nodes`
/// calls: the node moves to the end of its cluster, `mtime` = now, `ctime` kept).
pub(super) fn mark_nodes(instance: &mut InstanceInfoPb, c: &ClusterPb, status: NodeStatus, now: i64) -> MetaResult<()> {
    let mut changed = 0;
    for cluster in &mut instance.clusters {
        let (hit, mut keep): (Vec<NodeInfoPb>, Vec<NodeInfoPb>) =
            cluster.nodes.drain(..).partition(|n| decommission_match(c, n));
        changed += hit.len();
        keep.extend(hit.into_iter().map(|mut n| {
            n.status = Some(status);
            n.mtime = Some(now);
            n
        }));
        cluster.nodes = keep;
    }
    if changed == 0 {
        return Err(not_found(format!(
            "not found ,can not find to drop nodes by cloud_unique_id={} instance_id={} cluster_name={} \
             cluster_id={}{HELP_MSG}",
            decommission_cuid(c),
            text(instance.instance_id.as_ref()),
            text(c.cluster_name.as_ref()),
            text(c.cluster_id.as_ref())
        )));
    }
    Ok(())
}
