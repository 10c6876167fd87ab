//! Key layouts of the records metaraft stores (endpoints §18.2), built with Doris's tuple codec so
//! `decode_key` / `get_value` speak about the same bytes Doris would write to FoundationDB.

use super::codec::encode_bytes;

/// First byte of every user key (`CLOUD_USER_KEY_SPACE01`).
pub const USER_KEY_SPACE: u8 = 0x01;
/// First byte of every system key (`CLOUD_SYS_KEY_SPACE02`).
pub const SYSTEM_KEY_SPACE: u8 = 0x02;
/// Name Doris gives the vault created by `create_instance` (`BUILT_IN_STORAGE_VAULT_NAME`).
pub const BUILT_IN_STORAGE_VAULT_NAME: &str = "built_in_storage_vault";

fn user_key(parts: &[&str]) -> Vec<u8> {
    let mut out = vec![USER_KEY_SPACE];
    for part in parts {
        encode_bytes(&mut out, part.as_bytes());
    }
    out
}

// Format: 0x01 ${"instance"} ${instance_id} → InstanceInfoPB
/// Key of an instance record. Instances sort by id.
pub fn instance_key(instance_id: &str) -> Vec<u8> {
    user_key(&["instance", instance_id])
}

/// Prefix shared by every instance key.
pub fn instance_key_prefix() -> Vec<u8> {
    user_key(&["instance"])
}

// Format: 0x01 ${"storage_vault"} ${instance_id} ${"vault"} ${vault_id} → StorageVaultPB
/// Key of one storage vault of an instance. Vaults of one instance are contiguous, sorted by id
/// as a string (so "10" sorts before "2", as in Doris).
pub fn storage_vault_key(instance_id: &str, vault_id: &str) -> Vec<u8> {
    user_key(&["storage_vault", instance_id, "vault", vault_id])
}

/// Prefix of every storage vault key of `instance_id` (for a scan).
pub fn storage_vault_key_prefix(instance_id: &str) -> Vec<u8> {
    user_key(&["storage_vault", instance_id, "vault"])
}

// Format: 0x02 ${"system"} ${"meta-service"} ${name}
/// A system key under `"system" "meta-service"`: `"registry"`, `"arn_info"`, `"encryption_key_info"`.
pub fn system_meta_service_key(name: &str) -> Vec<u8> {
    let mut out = vec![SYSTEM_KEY_SPACE];
    for part in ["system", "meta-service", name] {
        encode_bytes(&mut out, part.as_bytes());
    }
    out
}

#[cfg(test)]
mod test {
    use super::super::codec::decode;
    use super::super::codec::Element;
    use super::*;

    fn hex(bytes: &[u8]) -> String {
        bytes.iter().map(|b| format!("{b:02x}")).collect()
    }

    #[test]
    fn golden_instance_keys() {
        // endpoints §18.3 worked example 1 and §18.4's encode_key unit test.
        assert_eq!(
            hex(&instance_key("regression_instance0")),
            "0110696e7374616e636500011072656772657373696f6e5f696e7374616e6365300001"
        );
        assert_eq!(hex(&instance_key("test")), "0110696e7374616e6365000110746573740001");
    }

    #[test]
    fn golden_system_registry_key() {
        // endpoints §18.3 worked example 3.
        assert_eq!(
            hex(&system_meta_service_key("registry")),
            "021073797374656d0001106d6574612d7365727669636500011072656769737472790001"
        );
    }

    #[test]
    fn storage_vault_key_decodes_to_its_parts() {
        let (space, elems) = decode(&storage_vault_key("i1", "1")).unwrap();
        assert_eq!(space, USER_KEY_SPACE);
        let parts: Vec<Element> = elems.into_iter().map(|d| d.element).collect();
        let expected: Vec<Element> =
            ["storage_vault", "i1", "vault", "1"].iter().map(|s| Element::Bytes(s.as_bytes().to_vec())).collect();
        assert_eq!(parts, expected);
        assert!(storage_vault_key("i1", "1").starts_with(&storage_vault_key_prefix("i1")));
        // The escaping keeps one instance's vaults apart from a longer instance id's.
        assert!(!storage_vault_key("i10", "1").starts_with(&storage_vault_key_prefix("i1")));
    }

    #[test]
    fn instance_keys_sort_by_id_and_share_the_prefix() {
        let mut ids = ["b", "a", "a\u{0}", "ab", "", "A"];
        let mut keys: Vec<Vec<u8>> = ids.iter().map(|id| instance_key(id)).collect();
        keys.sort();
        ids.sort_unstable();
        let expected: Vec<Vec<u8>> = ids.iter().map(|id| instance_key(id)).collect();
        assert_eq!(keys, expected);
        assert!(keys.iter().all(|k| k.starts_with(&instance_key_prefix())));
    }
}
