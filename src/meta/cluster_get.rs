//! Cluster reads: `get_cluster` (endpoints §12) and `get_cluster_status` (§17).

use metaraft_raft::KvRead;

use super::error::MetaError;
use super::error::MetaResult;
use super::error::ServiceCode;
use super::pb::ClusterPb;
use super::pb::ClusterStatus;
use super::pb::ClusterType;
use super::pb::GetClusterRequest;
use super::pb::GetClusterStatusRequest;
use super::pb::InstanceInfoPb;
use super::resolve;
use super::store::load;
use super::store::Outcome;
use super::text_format;
use crate::keys;

/// What `get_cluster` found.
#[derive(Debug, Clone, PartialEq)]
pub enum ClusterSelection {
    /// No key given: every cluster, wrapped in a `GetClusterResponse`.
    All {
        /// The instance's clusters.
        clusters: Vec<ClusterPb>,
        /// `InstanceInfoPB.enable_storage_vault`.
        enable_storage_vault: bool,
    },
    /// The first cluster matching the key.
    One(Box<ClusterPb>),
}

fn text(s: Option<&String>) -> &str {
    s.map_or("", String::as_str)
}

/// Stateless part of `get_cluster`.
pub fn check_get(r: &GetClusterRequest) -> MetaResult<()> {
    if text(r.cloud_unique_id.as_ref()).is_empty() {
        return Err(MetaError::invalid_argument("cloud_unique_id must be given"));
    }
    Ok(())
}

/// `get_cluster`: by `cluster_id` > `cluster_name` > `mysql_user_name`, or all.
pub fn get(kv: &KvRead, r: &GetClusterRequest) -> Outcome<ClusterSelection> {
    check_get(r)?;
    let id = match resolve::instance_id_of(kv, text(r.cloud_unique_id.as_ref()))? {
        Some(id) => id,
        None if !text(r.instance_id.as_ref()).is_empty() => text(r.instance_id.as_ref()).to_string(),
        None => return Err(MetaError::invalid_argument("empty instance_id").into()),
    };
    let instance = load::<InstanceInfoPb>(kv, &keys::instance_key(&id))?
        .ok_or_else(|| MetaError::kv_get(format!("failed to get instance, instance_id={id} err=KeyNotFound")))?;
    let (cid, mut name, mut user) =
        (text(r.cluster_id.as_ref()), text(r.cluster_name.as_ref()), text(r.mysql_user_name.as_ref()));
    if !cid.is_empty() {
        (name, user) = ("", "");
    } else if !name.is_empty() {
        user = "";
    }
    let not_found = || {
        MetaError::new(
            ServiceCode::ClusterNotFound,
            format!("fail to get cluster with {}", text_format::short_debug_string(r).replace('\n', " ")),
        )
    };
    if cid.is_empty() && name.is_empty() && user.is_empty() {
        if instance.clusters.is_empty() {
            return Err(not_found().into());
        }
        return Ok(ClusterSelection::All {
            clusters: instance.clusters,
            enable_storage_vault: instance.enable_storage_vault.unwrap_or(false),
        });
    }
    let hit = instance.clusters.into_iter().find(|c| {
        c.cluster_name.as_deref().is_some_and(|n| n == name)
            || c.cluster_id.as_deref().is_some_and(|i| i == cid)
            || c.mysql_user_name.iter().any(|u| u == user)
    });
    hit.map(|c| ClusterSelection::One(Box::new(c))).ok_or_else(|| not_found().into())
}

/// `get_cluster_status` details: per instance id, its reported clusters.
pub type StatusDetails = Vec<(String, Vec<ClusterPb>)>;

/// Stateless part of `get_cluster_status`.
pub fn check_status(r: &GetClusterStatusRequest) -> MetaResult<()> {
    if r.instance_ids.is_empty() && r.cloud_unique_ids.is_empty() {
        return Err(MetaError::invalid_argument(
            "cloud_unique_ids or instance_ids must be given, instance_ids.size: 0 cloud_unique_ids.size: 0",
        ));
    }
    Ok(())
}

/// `get_cluster_status`: per instance, its COMPUTE clusters as `{cluster_id, cluster_name,
/// cluster_status}` (unset status reported as NORMAL), filtered by `status`. `None` when no
/// instance id could be resolved (Doris returns before filling `msg`).
pub fn status(kv: &KvRead, r: &GetClusterStatusRequest) -> Outcome<Option<StatusDetails>> {
    check_status(r)?;
    let ids = if r.instance_ids.is_empty() {
        let mut ids = Vec::new();
        for cuid in &r.cloud_unique_ids {
            if let Some(id) = resolve::instance_id_of(kv, cuid)? {
                ids.push(id);
            }
        }
        ids
    } else {
        r.instance_ids.clone()
    };
    if ids.is_empty() {
        return Ok(None);
    }
    let mut details = Vec::new();
    for id in ids {
        let Ok(Some(instance)) = load::<InstanceInfoPb>(kv, &keys::instance_key(&id)) else { continue };
        let clusters: Vec<ClusterPb> = instance
            .clusters
            .iter()
            .filter(|c| c.r#type == Some(ClusterType::Compute))
            .map(|c| ClusterPb {
                cluster_id: Some(text(c.cluster_id.as_ref()).to_string()),
                cluster_name: Some(text(c.cluster_name.as_ref()).to_string()),
                cluster_status: Some(c.cluster_status.unwrap_or(ClusterStatus::Normal)),
                ..Default::default()
            })
            .filter(|c| r.status.is_none() || c.cluster_status == r.status)
            .collect();
        if !clusters.is_empty() {
            details.push((id, clusters));
        }
    }
    Ok(Some(details))
}
