//! Typed access to records in the replicated map: which struct lives under which key, and how a
//! failure is classified (storage broken → [`Failure::Storage`], request refused → [`Failure::Refused`]).

use metaraft_raft::codec;
use metaraft_raft::codec::Tagged;
use metaraft_raft::KvError;
use metaraft_raft::KvRead;
use metaraft_raft::KvWrite;
use serde::de::DeserializeOwned;
use serde::Serialize;

use super::error::MetaError;
use super::pb::InstanceInfoPb;
use super::pb::RamUserPb;
use super::pb::StorageVaultPb;

impl Tagged for InstanceInfoPb {
    const TAG: &'static str = "meta.instance.v1";
}

impl Tagged for StorageVaultPb {
    const TAG: &'static str = "meta.storage_vault.v1";
}

impl Tagged for RamUserPb {
    const TAG: &'static str = "meta.ram_user.v1";
}

/// Why a domain operation did not produce a reply.
#[derive(Debug, thiserror::Error)]
pub enum Failure {
    /// The request is refused; the refusal is the (replicated) reply.
    #[error(transparent)]
    Refused(#[from] MetaError),
    /// The store failed; the node must stop applying.
    #[error(transparent)]
    Storage(#[from] KvError),
}

/// Result of a domain operation that touches storage.
pub type Outcome<T> = Result<T, Failure>;

impl Failure {
    /// Splits into the storage error (outer) and the domain result (inner).
    pub fn split<T>(outcome: Outcome<T>) -> Result<Result<T, MetaError>, KvError> {
        match outcome {
            Ok(v) => Ok(Ok(v)),
            Err(Failure::Refused(e)) => Ok(Err(e)),
            Err(Failure::Storage(e)) => Err(e),
        }
    }
}

/// Point reads shared by the write side (apply) and the read side.
pub trait Get {
    /// Raw value under `key`.
    fn get_raw(&self, key: &[u8]) -> Result<Option<Vec<u8>>, KvError>;
}

impl Get for KvRead {
    fn get_raw(&self, key: &[u8]) -> Result<Option<Vec<u8>>, KvError> {
        self.get(key)
    }
}

impl Get for KvWrite<'_, '_> {
    fn get_raw(&self, key: &[u8]) -> Result<Option<Vec<u8>>, KvError> {
        self.get(key)
    }
}

/// Reads and decodes the record under `key`. A record that does not decode is refused with
/// `UNDEFINED_ERR` (deterministic on every replica, unlike a crash).
pub fn load<T: DeserializeOwned + Tagged>(kv: &impl Get, key: &[u8]) -> Outcome<Option<T>> {
    let Some(bytes) = kv.get_raw(key)? else { return Ok(None) };
    match codec::decode_tagged::<T>(&bytes) {
        Ok(v) => Ok(Some(v)),
        Err(e) => {
            tracing::error!(tag = T::TAG, error = %e, "stored record does not decode");
            Err(MetaError::undefined(format!("failed to decode stored {}", T::TAG)).into())
        }
    }
}

/// Encodes and stores `value` under `key`.
pub fn save<T: Serialize + Tagged>(kv: &mut KvWrite<'_, '_>, key: &[u8], value: &T) -> Outcome<()> {
    let bytes =
        codec::encode_tagged(value).map_err(|e| MetaError::undefined(format!("failed to encode {}: {e}", T::TAG)))?;
    kv.put(key, &bytes)?;
    Ok(())
}
