//! `cloud_unique_id` → `instance_id` (Doris `get_instance_id`, endpoints §0.2, [M]).
//!
//! Doris first consults its index of registered nodes, then falls back to the "degraded" form
//! `1:<instance_id>:<anything>`, which [M] honours only when that instance exists
//! (`enable_check_instance_id`, on by default). The node index is not a separate table: it is
//! read from `clusters[].nodes[]` of every instance record, so it can never disagree with them.

use metaraft_raft::codec;
use metaraft_raft::KvError;
use metaraft_raft::KvPairs;
use metaraft_raft::KvRead;
use metaraft_raft::KvWrite;

use super::pb::InstanceInfoPb;
use super::store::load;
use super::store::Get;
use super::store::Outcome;
use crate::keys;

/// Prefix scans, for the node index (read side and apply side alike).
pub trait Scan: Get {
    /// All `(key, value)` pairs under `prefix`, in key order.
    fn scan_raw(&self, prefix: &[u8]) -> Result<KvPairs, KvError>;
}

impl Scan for KvRead {
    fn scan_raw(&self, prefix: &[u8]) -> Result<KvPairs, KvError> {
        self.scan_prefix(prefix)
    }
}

impl Scan for KvWrite<'_, '_> {
    fn scan_raw(&self, prefix: &[u8]) -> Result<KvPairs, KvError> {
        self.scan_prefix(prefix)
    }
}

/// Where a registered node lives: Doris's `NodeInfo` of the node index.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NodeOwner {
    /// The instance.
    pub instance_id: String,
    /// Its cluster's name (`""` when unset).
    pub cluster_name: String,
    /// Its cluster's id (`""` when unset).
    pub cluster_id: String,
}

/// Every instance record, in key order. Records that do not decode are skipped (logged by the
/// codec caller elsewhere); the index is best-effort like Doris's in-memory cache.
pub fn all_instances(kv: &impl Scan) -> Outcome<Vec<InstanceInfoPb>> {
    let pairs = kv.scan_raw(&keys::instance_key_prefix())?;
    Ok(pairs.iter().filter_map(|(_, v)| codec::decode_tagged::<InstanceInfoPb>(v).ok()).collect())
}

/// The node index lookup: the owner of `cloud_unique_id` among registered nodes; when several
/// nodes carry it, the last one wins, as in Doris.
pub fn node_owner(kv: &impl Scan, cloud_unique_id: &str) -> Outcome<Option<NodeOwner>> {
    let mut found = None;
    for instance in all_instances(kv)? {
        for cluster in &instance.clusters {
            if cluster.nodes.iter().any(|n| n.cloud_unique_id.as_deref() == Some(cloud_unique_id)) {
                found = Some(NodeOwner {
                    instance_id: instance.instance_id.clone().unwrap_or_default(),
                    cluster_name: cluster.cluster_name.clone().unwrap_or_default(),
                    cluster_id: cluster.cluster_id.clone().unwrap_or_default(),
                });
            }
        }
    }
    Ok(found)
}

/// The instance `cloud_unique_id` belongs to, or `None` when it cannot be resolved: a registered
/// node first, then the degraded form.
pub fn instance_id_of(kv: &impl Scan, cloud_unique_id: &str) -> Outcome<Option<String>> {
    if let Some(owner) = node_owner(kv, cloud_unique_id)? {
        return Ok(Some(owner.instance_id));
    }
    degraded_existing(kv, cloud_unique_id)
}

/// The degraded form, honoured only when the instance exists ([M] `enable_check_instance_id`).
pub fn degraded_existing(kv: &impl Get, cloud_unique_id: &str) -> Outcome<Option<String>> {
    let Some(id) = degraded_instance_id(cloud_unique_id) else { return Ok(None) };
    let exists = load::<InstanceInfoPb>(kv, &keys::instance_key(&id))?.is_some();
    Ok(exists.then_some(id))
}

/// The degraded parse: split on `:` dropping empty fields; exactly three parts and
/// `atoi(part0) == 1` → `part1`.
pub fn degraded_instance_id(cloud_unique_id: &str) -> Option<String> {
    let parts: Vec<&str> = cloud_unique_id.split(':').filter(|p| !p.is_empty()).collect();
    (parts.len() == 3 && atoi(parts[0]) == 1).then(|| parts[1].to_string())
}

/// C `atoi`: optional leading whitespace and sign, then digits up to the first non-digit.
fn atoi(s: &str) -> i64 {
    let s = s.trim_start_matches([' ', '\t', '\n', '\r', '\x0b', '\x0c']);
    let (neg, digits) = match s.as_bytes().first() {
        Some(b'-') => (true, &s[1..]),
        Some(b'+') => (false, &s[1..]),
        _ => (false, s),
    };
    let mut n: i64 = 0;
    for b in digits.bytes().take_while(u8::is_ascii_digit) {
        n = n.saturating_mul(10).saturating_add(i64::from(b - b'0'));
    }
    if neg {
        -n
    } else {
        n
    }
}

#[cfg(test)]
mod test {
    use super::*;

    #[test]
    fn degraded_parse_matches_get_instance_id_test() {
        assert_eq!(degraded_instance_id("1:ALBJLH4Q:m-n3qdpyal27rh8iprxx").as_deref(), Some("ALBJLH4Q"));
        assert_eq!(degraded_instance_id("2:ALBJLH4Q:m-n3qdpyal27rh8iprxx"), None);
        assert_eq!(degraded_instance_id("1:ALBJLH4Q"), None);
        assert_eq!(degraded_instance_id("1::i:x").as_deref(), Some("i"));
        assert_eq!(degraded_instance_id(" 01:i:x").as_deref(), Some("i"));
        assert_eq!(degraded_instance_id("1:i:x:y"), None);
        assert_eq!(degraded_instance_id(""), None);
    }
}
