//! The one place secrets (`sk` of object stores and RAM users) enter and leave storage.
//!
//! Secrets are sealed by the proposing node before a command enters the Raft log, so neither the
//! log nor the state ever holds a secret in a form other than [`seal`]'s output, and unsealed
//! only when a reply is built. At-rest encryption with a configured key plugs in here (next
//! issue); today sealing is the identity. Doris marks every stored secret with
//! `encryption_info {AES_256_ECB, key_id 1}` and shows it in replies (endpoints §0.5), so we do too.

use super::error::MetaError;
use super::error::MetaResult;
use super::error::ServiceCode;
use super::pb::EncryptionInfoPb;

/// Seals a plaintext secret for storage.
pub fn seal(plain: &str) -> String {
    plain.to_string()
}

/// Recovers the plaintext of a sealed secret (`ERR_DECPYPT "failed to decrypt"` on failure).
pub fn unseal(sealed: &str) -> MetaResult<String> {
    if sealed.is_empty() {
        return Ok(String::new());
    }
    String::from_utf8(sealed.as_bytes().to_vec())
        .map_err(|_| MetaError::new(ServiceCode::ErrDecrypt, "failed to decrypt"))
}

/// The `encryption_info` recorded next to a sealed secret.
pub fn encryption_info() -> EncryptionInfoPb {
    EncryptionInfoPb { encryption_method: Some("AES_256_ECB".into()), key_id: Some(1) }
}
