//! What the status page lists: every instance with its clusters and their nodes — identities and
//! shape only, never an sk or other credential.

use metaraft_raft::KvRead;

use super::pb::ClusterPb;
use super::pb::InstanceInfoPb;
use super::resolve;
use super::store::Outcome;

/// Every instance, reduced to id, name, status and clusters (id, name, type, status, nodes).
pub fn instances(kv: &KvRead) -> Outcome<Vec<InstanceInfoPb>> {
    Ok(resolve::all_instances(kv)?
        .into_iter()
        .map(|i| InstanceInfoPb {
            instance_id: i.instance_id,
            name: i.name,
            status: i.status,
            clusters: i
                .clusters
                .into_iter()
                .map(|c| ClusterPb {
                    cluster_id: c.cluster_id,
                    cluster_name: c.cluster_name,
                    r#type: c.r#type,
                    cluster_status: c.cluster_status,
                    nodes: c.nodes,
                    ..ClusterPb::default()
                })
                .collect(),
            ..InstanceInfoPb::default()
        })
        .collect())
}
