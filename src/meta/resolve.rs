//! `cloud_unique_id` → `instance_id` (Doris `get_instance_id`, endpoints §0.2, [M]).
//!
//! Doris first consults its index of registered nodes, then falls back to the "degraded" form
//! `1:<instance_id>:<anything>`, which [M] honours only when that instance exists
//! (`enable_check_instance_id`, on by default). No node is registered before clusters exist, so
//! today only the degraded form resolves; the node index joins here with `add_cluster`.

use super::pb::InstanceInfoPb;
use super::store::load;
use super::store::Get;
use super::store::Outcome;
use crate::keys;

/// The instance `cloud_unique_id` belongs to, or `None` when it cannot be resolved.
pub fn instance_id_of(kv: &impl Get, cloud_unique_id: &str) -> Outcome<Option<String>> {
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
