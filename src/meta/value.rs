//! `get_value`'s read (endpoints §18.5): the record stored under a raw key, decoded as the message
//! its key type names and rendered as `proto_to_json`. Values are shown in their stored form
//! (secrets stay sealed), as Doris does. `TxnLabelPB` values carry no versionstamp here, so the
//! `txn_id=<id>` line Doris adds after them is not printed.

use metaraft_raft::codec;
use metaraft_raft::codec::Tagged;
use metaraft_raft::KvError;
use metaraft_raft::KvRead;
use serde::de::DeserializeOwned;

use super::pb::InstanceInfoPb;
use super::pb::RamUserPb;
use super::pb::StorageVaultPb;
use super::pb_tablet::RowsetMetaCloudPb;
use super::pb_tablet::TabletMetaCloudPb;
use super::pb_tablet::TabletSchemaCloudPb;
use super::pb_txn::*;
use super::schema::ProtoMessage;
use crate::pbjson;
use crate::pbjson::json::Json;

/// What `get_value` finds under a key.
#[derive(Debug, Clone, PartialEq)]
pub enum Lookup {
    /// No value under the key (Doris: `kv not found`).
    NotFound,
    /// A value that is not a `message` (Doris: `failed to parse value`).
    Unparsable,
    /// The record, as protobuf JSON.
    Found(Json),
}

fn typed<T: DeserializeOwned + Tagged + ProtoMessage>(bytes: &[u8]) -> Lookup {
    codec::decode_tagged::<T>(bytes).map_or(Lookup::Unparsable, |v| Lookup::Found(pbjson::encode(&v)))
}

/// Decodes a stored value as one message type.
type Decoder = fn(&[u8]) -> Lookup;

/// The messages metaraft stores, by protobuf name.
const STORED: &[(&str, Decoder)] = &[
    ("InstanceInfoPB", typed::<InstanceInfoPb>),
    ("StorageVaultPB", typed::<StorageVaultPb>),
    ("RamUserPB", typed::<RamUserPb>),
    ("TxnLabelPB", typed::<TxnLabelPb>),
    ("TxnInfoPB", typed::<TxnInfoPb>),
    ("TxnIndexPB", typed::<TxnIndexPb>),
    ("TxnRunningPB", typed::<TxnRunningPb>),
    ("RecycleTxnPB", typed::<RecycleTxnPb>),
    ("VersionPB", typed::<VersionPb>),
    ("TabletIndexPB", typed::<TabletIndexPb>),
    ("TabletStatsPB", typed::<TabletStatsPb>),
    ("TabletJobInfoPB", typed::<TabletJobInfoPb>),
    ("TabletMetaCloudPB", typed::<TabletMetaCloudPb>),
    ("TabletSchemaCloudPB", typed::<TabletSchemaCloudPb>),
    ("RowsetMetaCloudPB", typed::<RowsetMetaCloudPb>),
];

/// Reads `key` and decodes it as `message` (a protobuf message name such as `InstanceInfoPB`).
/// Messages metaraft never stores are [`Lookup::Unparsable`] when a value is present.
pub fn get_value(kv: &KvRead, message: &str, key: &[u8]) -> Result<Lookup, KvError> {
    let Some(bytes) = kv.get(key)? else { return Ok(Lookup::NotFound) };
    Ok(STORED.iter().find(|(name, _)| *name == message).map_or(Lookup::Unparsable, |(_, decode)| decode(&bytes)))
}
