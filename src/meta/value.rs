//! `get_value`'s read (endpoints §18.5): the record stored under a raw key, decoded as the message
//! its key type names. Values are shown in their stored form (secrets stay sealed), as Doris does.

use metaraft_raft::codec;
use metaraft_raft::codec::Tagged;
use metaraft_raft::KvError;
use metaraft_raft::KvRead;
use serde::de::DeserializeOwned;

use super::pb::InstanceInfoPb;
use super::pb::RamUserPb;
use super::pb::StorageVaultPb;

/// A stored record, typed.
#[derive(Debug, Clone, PartialEq)]
pub enum StoredValue {
    /// `InstanceInfoPB` (`InstanceKey`).
    Instance(InstanceInfoPb),
    /// `StorageVaultPB` (`StorageVaultKey`).
    StorageVault(StorageVaultPb),
    /// `RamUserPB` (`MetaServiceArnInfoKey`).
    RamUser(RamUserPb),
}

/// What `get_value` finds under a key.
#[derive(Debug, Clone, PartialEq)]
pub enum Lookup {
    /// No value under the key (Doris: `kv not found`).
    NotFound,
    /// A value that is not a `message` (Doris: `failed to parse value`).
    Unparsable,
    /// The record.
    Found(Box<StoredValue>),
}

fn typed<T: DeserializeOwned + Tagged>(bytes: &[u8], wrap: fn(T) -> StoredValue) -> Lookup {
    codec::decode_tagged::<T>(bytes).map_or(Lookup::Unparsable, |v| Lookup::Found(Box::new(wrap(v))))
}

/// Reads `key` and decodes it as `message` (a protobuf message name such as `InstanceInfoPB`).
/// Messages metaraft never stores are [`Lookup::Unparsable`] when a value is present.
pub fn get_value(kv: &KvRead, message: &str, key: &[u8]) -> Result<Lookup, KvError> {
    let Some(bytes) = kv.get(key)? else { return Ok(Lookup::NotFound) };
    Ok(match message {
        "InstanceInfoPB" => typed(&bytes, StoredValue::Instance),
        "StorageVaultPB" => typed(&bytes, StoredValue::StorageVault),
        "RamUserPB" => typed(&bytes, StoredValue::RamUser),
        _ => Lookup::Unparsable,
    })
}
