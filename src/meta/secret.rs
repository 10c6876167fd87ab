//! The one place secrets (`sk` of object stores and RAM users) enter and leave storage.
//!
//! Secrets are sealed by the proposing node before a command enters the Raft log, so neither the
//! log nor the state ever holds a plaintext secret, and unsealed only when a reply is built.
//!
//! Sealed form: `mr1:<fingerprint>:<nonce ‖ ciphertext ‖ tag>` (both parts base64):
//! * AES-256-GCM with the configured key and a random 96-bit nonce chosen by the proposer;
//! * fingerprint = the first 16 bytes of HMAC-SHA256 over the plaintext, under a key derived from
//!   the configured key. Doris detects "same sk as before" by comparing ciphertexts of its
//!   deterministic AES-ECB (endpoints §0.5); our ciphertexts are randomized, so apply compares
//!   fingerprints instead ([`same`]) — deterministic on every replica and without the key, and
//!   leaking no more than Doris's ECB does (equality of two secrets under one key).
//!
//! Every member of a cluster must be configured with the same key. Doris marks every stored
//! secret with `encryption_info {AES_256_ECB, key_id 1}` and shows it in replies, so we do too.

use std::fmt;
use std::sync::Arc;

use aes_gcm::aead::Aead;
use aes_gcm::aead::AeadCore;
use aes_gcm::aead::KeyInit;
use aes_gcm::aead::OsRng;
use aes_gcm::Aes256Gcm;
use aes_gcm::Key;
use aes_gcm::Nonce;
use base64::engine::general_purpose::STANDARD as B64;
use base64::Engine as _;
use hmac::Hmac;
use hmac::Mac;
use sha2::Sha256;

use super::error::MetaError;
use super::error::MetaResult;
use super::error::ServiceCode;
use super::pb::EncryptionInfoPb;

/// Marks the sealed format (version 1).
const PREFIX: &str = "mr1:";
const NONCE_LEN: usize = 12;
const FINGERPRINT_LEN: usize = 16;

/// Doris's default `encryption_key` (config.h): "selectdbselectdbselectdbselectdb", 32 bytes.
/// Used only when no key is configured, with a warning at start-up.
pub const DEV_KEY: &[u8; 32] = b"selectdbselectdbselectdbselectdb";

/// A configured key that is not 32 bytes of hex or base64.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("encryption key must be 32 bytes, given as 64 hex digits or base64")]
pub struct BadKey;

/// The at-rest key. Cheap to clone; never printed.
#[derive(Clone)]
pub struct Secrets {
    inner: Arc<Keys>,
}

struct Keys {
    aead: Aes256Gcm,
    fingerprint: [u8; 32],
}

impl fmt::Debug for Secrets {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secrets(..)")
    }
}

impl Secrets {
    /// Keys derived from 32 raw bytes.
    pub fn new(key: &[u8; 32]) -> Self {
        let aead = Aes256Gcm::new(Key::<Aes256Gcm>::from_slice(key));
        let fingerprint = hmac(key, b"metaraft/sk-fingerprint/v1");
        Secrets { inner: Arc::new(Keys { aead, fingerprint }) }
    }

    /// The well-known development key ([`DEV_KEY`]).
    pub fn dev() -> Self {
        Secrets::new(DEV_KEY)
    }

    /// Parses a configured key: 64 hex digits or base64 of 32 bytes.
    pub fn parse(text: &str) -> Result<Self, BadKey> {
        let text = text.trim();
        let bytes = if text.len() == 64 && text.bytes().all(|b| b.is_ascii_hexdigit()) {
            (0..32).map(|i| u8::from_str_radix(&text[2 * i..2 * i + 2], 16)).collect::<Result<Vec<u8>, _>>().ok()
        } else {
            B64.decode(text).ok()
        };
        let key: [u8; 32] = bytes.and_then(|b| b.try_into().ok()).ok_or(BadKey)?;
        Ok(Secrets::new(&key))
    }

    /// Seals a plaintext secret for storage. `""` stays `""`, as in Doris.
    pub fn seal(&self, plain: &str) -> MetaResult<String> {
        if plain.is_empty() {
            return Ok(String::new());
        }
        let nonce = Aes256Gcm::generate_nonce(&mut OsRng);
        let ct = self
            .inner
            .aead
            .encrypt(&nonce, plain.as_bytes())
            .map_err(|_| MetaError::new(ServiceCode::ErrEncrypt, "failed to encrypt"))?;
        let mut body = nonce.to_vec();
        body.extend_from_slice(&ct);
        let fp = &hmac(&self.inner.fingerprint, plain.as_bytes())[..FINGERPRINT_LEN];
        Ok(format!("{PREFIX}{}:{}", B64.encode(fp), B64.encode(body)))
    }

    /// Seals an optional secret in place.
    pub fn seal_opt(&self, secret: &mut Option<String>) -> MetaResult<()> {
        if let Some(s) = secret.as_mut() {
            *s = self.seal(s)?;
        }
        Ok(())
    }

    /// Recovers the plaintext of a sealed secret (`ERR_DECPYPT "failed to decrypt"` on failure:
    /// wrong key, tampered or foreign value).
    pub fn unseal(&self, sealed: &str) -> MetaResult<String> {
        if sealed.is_empty() {
            return Ok(String::new());
        }
        let fail = || MetaError::new(ServiceCode::ErrDecrypt, "failed to decrypt");
        let rest = sealed.strip_prefix(PREFIX).ok_or_else(fail)?;
        let (_, body) = rest.split_once(':').ok_or_else(fail)?;
        let body = B64.decode(body).map_err(|_| fail())?;
        if body.len() < NONCE_LEN {
            return Err(fail());
        }
        let (nonce, ct) = body.split_at(NONCE_LEN);
        let plain = self.inner.aead.decrypt(Nonce::from_slice(nonce), ct).map_err(|_| fail())?;
        String::from_utf8(plain).map_err(|_| fail())
    }

    /// Unseals an optional secret in place.
    pub fn unseal_opt(&self, secret: &mut Option<String>) -> MetaResult<()> {
        if let Some(s) = secret.as_mut() {
            *s = self.unseal(s)?;
        }
        Ok(())
    }
}

fn hmac(key: &[u8], data: &[u8]) -> [u8; 32] {
    // HMAC accepts keys of any length; new_from_slice cannot fail for it.
    let Ok(mut mac) = <Hmac<Sha256> as Mac>::new_from_slice(key) else { return [0; 32] };
    mac.update(data);
    mac.finalize().into_bytes().into()
}

/// The fingerprint part of a sealed secret (`""` for an empty secret).
fn fingerprint(sealed: &str) -> &str {
    sealed.strip_prefix(PREFIX).and_then(|r| r.split_once(':')).map_or(sealed, |(fp, _)| fp)
}

/// Whether two sealed secrets (sealed under the same key) hide the same plaintext. Key-free, so
/// apply can use it: this is Doris's "stored cipher == fresh cipher" comparison.
pub fn same(a: Option<&str>, b: Option<&str>) -> bool {
    fingerprint(a.unwrap_or_default()) == fingerprint(b.unwrap_or_default())
}

/// The `encryption_info` recorded next to a sealed secret.
pub fn encryption_info() -> EncryptionInfoPb {
    EncryptionInfoPb { encryption_method: Some("AES_256_ECB".into()), key_id: Some(1) }
}

#[cfg(test)]
mod test {
    use super::*;

    #[test]
    fn round_trip_and_randomized() {
        let s = Secrets::dev();
        let a = s.seal("my-sk").unwrap();
        let b = s.seal("my-sk").unwrap();
        assert!(a.starts_with("mr1:"));
        assert!(!a.contains("my-sk"));
        assert_ne!(a, b, "random nonces");
        assert_eq!(s.unseal(&a).unwrap(), "my-sk");
        assert_eq!(s.unseal(&b).unwrap(), "my-sk");
        assert!(same(Some(&a), Some(&b)));
        assert!(!same(Some(&a), Some(&s.seal("other").unwrap())));
        assert_eq!(s.seal("").unwrap(), "");
        assert_eq!(s.unseal("").unwrap(), "");
        assert!(same(None, Some("")));
        let unicode = s.seal("ключ ✓").unwrap();
        assert_eq!(s.unseal(&unicode).unwrap(), "ключ ✓");
    }

    #[test]
    fn wrong_key_is_refused() {
        let a = Secrets::new(&[7; 32]).seal("sk").unwrap();
        let e = Secrets::dev().unseal(&a).unwrap_err();
        assert_eq!((e.code, e.msg.as_str()), (ServiceCode::ErrDecrypt, "failed to decrypt"));
    }

    #[test]
    fn tampered_or_foreign_values_are_refused() {
        let s = Secrets::dev();
        let sealed = s.seal("sk").unwrap();
        let (head, body) = sealed.rsplit_once(':').unwrap();
        let mut raw = B64.decode(body).unwrap();
        let last = raw.len() - 1;
        raw[last] ^= 1;
        assert!(s.unseal(&format!("{head}:{}", B64.encode(&raw))).is_err());
        raw[last] ^= 1;
        raw[NONCE_LEN] ^= 0x80;
        assert!(s.unseal(&format!("{head}:{}", B64.encode(&raw))).is_err());
        for foreign in ["sk", "mr1:", "mr1:x", "mr1:x:!!", "mr1:x:AAAA"] {
            assert!(s.unseal(foreign).is_err(), "{foreign}");
        }
    }

    #[test]
    fn key_parsing() {
        let hex = "00".repeat(31) + "01";
        let mut raw = [0u8; 32];
        raw[31] = 1;
        let from_hex = Secrets::parse(&hex).unwrap();
        let from_b64 = Secrets::parse(&B64.encode(raw)).unwrap();
        assert_eq!(from_b64.unseal(&from_hex.seal("x").unwrap()).unwrap(), "x");
        // Doris's default key, base64, is the dev key.
        let doris = Secrets::parse("c2VsZWN0ZGJzZWxlY3RkYnNlbGVjdGRic2VsZWN0ZGI=").unwrap();
        assert_eq!(Secrets::dev().unseal(&doris.seal("y").unwrap()).unwrap(), "y");
        for bad in ["", "abc", &"0".repeat(62), &B64.encode([1u8; 16])] {
            assert_eq!(Secrets::parse(bad).unwrap_err(), BadKey, "{bad}");
        }
        assert_eq!(format!("{:?}", Secrets::dev()), "Secrets(..)");
    }
}
