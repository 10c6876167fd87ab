//! Domain refusals: a Doris `MetaServiceCode` and the exact message Doris would send.
//!
//! [`MetaError`] travels inside apply replies (it is part of the replicated result), so it is
//! serializable and must stay deterministic: never put node-local details (paths, addresses) in it.

use serde::Deserialize;
use serde::Serialize;

/// The subset of Doris's `MetaServiceCode` (cloud.proto, transport §3.5) that metaraft produces.
/// The HTTP layer folds these into the five envelope codes (transport §3.2); the full name shows
/// up only where Doris embeds a `status` object inside `result`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub enum ServiceCode {
    /// Success.
    Ok,
    /// A request field is missing or malformed.
    InvalidArgument,
    /// A KV read failed, including a missing key the handler does not special-case.
    KvTxnGetErr,
    /// The body is not a valid request message.
    ProtobufParseErr,
    /// Instance or cluster not found where the handler special-cases it.
    ClusterNotFound,
    /// The object already exists.
    AlreadyExisted,
    /// A storage vault is missing.
    StorageVaultNotFound,
    /// Decrypting a stored secret failed.
    ErrDecrypt,
    /// Encrypting a secret failed.
    ErrEncrypt,
    /// A cluster update without its private endpoint.
    ClusterEndpointMissing,
    /// Catch-all for string-only errors.
    UndefinedErr,
}

impl ServiceCode {
    /// Doris's enum name, as printed inside embedded `status` objects.
    pub fn name(self) -> &'static str {
        match self {
            ServiceCode::Ok => "OK",
            ServiceCode::InvalidArgument => "INVALID_ARGUMENT",
            ServiceCode::KvTxnGetErr => "KV_TXN_GET_ERR",
            ServiceCode::ProtobufParseErr => "PROTOBUF_PARSE_ERR",
            ServiceCode::ClusterNotFound => "CLUSTER_NOT_FOUND",
            ServiceCode::AlreadyExisted => "ALREADY_EXISTED",
            ServiceCode::StorageVaultNotFound => "STORAGE_VAULT_NOT_FOUND",
            ServiceCode::ErrDecrypt => "ERR_DECPYPT",
            ServiceCode::ErrEncrypt => "ERR_ENCRYPT",
            ServiceCode::ClusterEndpointMissing => "CLUSTER_ENDPOINT_MISSING",
            ServiceCode::UndefinedErr => "UNDEFINED_ERR",
        }
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
