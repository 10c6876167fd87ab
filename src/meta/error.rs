//! Domain refusals: a Doris `MetaServiceCode` and the exact message Doris would send.
//!
//! [`MetaError`] travels inside apply replies (it is part of the replicated result), so it is
//! serializable and must stay deterministic: never put node-local details (paths, addresses) in it.

use serde::Deserialize;
use serde::Serialize;

use super::schema::proto_enum;
use super::schema::ProtoEnum;

proto_enum! {
    /// Doris's `MetaServiceCode` (cloud.proto, transport §3.5): the codes metaraft produces. The
    /// HTTP layer folds them into the five envelope codes (transport §3.2); the full name shows up
    /// where Doris embeds a `status` object (inside `result`, and in every brpc-method reply).
    /// Declaration order is the replicated encoding (bincode variant index): append only. The
    /// numbers are cloud.proto's (apache/doris `gensrc/proto/cloud.proto`); replies print names.
    pub enum ServiceCode = "doris.cloud.MetaServiceCode" {
        Ok = "OK" 0,
        InvalidArgument = "INVALID_ARGUMENT" 1001,
        KvTxnGetErr = "KV_TXN_GET_ERR" 1003,
        ProtobufParseErr = "PROTOBUF_PARSE_ERR" 1006,
        ClusterNotFound = "CLUSTER_NOT_FOUND" 3001,
        AlreadyExisted = "ALREADY_EXISTED" 3002,
        StorageVaultNotFound = "STORAGE_VAULT_NOT_FOUND" 3004,
        ErrDecrypt = "ERR_DECPYPT" 7002,
        ErrEncrypt = "ERR_ENCRYPT" 7001,
        ClusterEndpointMissing = "CLUSTER_ENDPOINT_MISSING" 3003,
        UndefinedErr = "UNDEFINED_ERR" 1000000,
        TxnGenIdErr = "TXN_GEN_ID_ERR" 2001,
        TxnDuplicatedReq = "TXN_DUPLICATED_REQ" 2002,
        TxnLabelAlreadyUsed = "TXN_LABEL_ALREADY_USED" 2003,
        TxnInvalidStatus = "TXN_INVALID_STATUS" 2004,
        TxnLabelNotFound = "TXN_LABEL_NOT_FOUND" 2005,
        TxnIdNotFound = "TXN_ID_NOT_FOUND" 2006,
        TxnAlreadyAborted = "TXN_ALREADY_ABORTED" 2007,
        TxnAlreadyVisible = "TXN_ALREADY_VISIBLE" 2008,
        TxnAlreadyPrecommited = "TXN_ALREADY_PRECOMMITED" 2009,
        VersionNotFound = "VERSION_NOT_FOUND" 2010,
        TabletNotFound = "TABLET_NOT_FOUND" 2011,
        StaleTabletCache = "STALE_TABLET_CACHE" 2012,
        JobTabletBusy = "JOB_TABLET_BUSY" 5001,
        JobExpired = "JOB_EXPIRED" 5000,
    }
}

impl ServiceCode {
    /// Doris's enum name, as printed inside embedded `status` objects.
    pub fn name(self) -> &'static str {
        // Variants are declared in schema order, so the discriminant indexes the schema.
        <Self as ProtoEnum>::SCHEMA.values.get(self as usize).map_or("UNDEFINED_ERR", |(name, _)| *name)
    }
}

/// A refusal with Doris's code and message, word for word.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, thiserror::Error)]
#[error("{}: {msg}", code.name())]
pub struct MetaError {
    /// Doris's code.
    pub code: ServiceCode,
    /// Doris's message.
    pub msg: String,
}

impl MetaError {
    /// An error with an explicit code.
    pub fn new(code: ServiceCode, msg: impl Into<String>) -> Self {
        MetaError { code, msg: msg.into() }
    }

    /// `INVALID_ARGUMENT` (400).
    pub fn invalid_argument(msg: impl Into<String>) -> Self {
        MetaError::new(ServiceCode::InvalidArgument, msg)
    }

    /// `ALREADY_EXISTED` (409).
    pub fn already_existed(msg: impl Into<String>) -> Self {
        MetaError::new(ServiceCode::AlreadyExisted, msg)
    }

    /// `KV_TXN_GET_ERR` (500): how Doris reports most missing records.
    pub fn kv_get(msg: impl Into<String>) -> Self {
        MetaError::new(ServiceCode::KvTxnGetErr, msg)
    }

    /// `UNDEFINED_ERR` (500): an internal failure (e.g. a stored record that does not decode).
    pub fn undefined(msg: impl Into<String>) -> Self {
        MetaError::new(ServiceCode::UndefinedErr, msg)
    }
}

/// Result of a domain operation.
pub type MetaResult<T> = Result<T, MetaError>;
