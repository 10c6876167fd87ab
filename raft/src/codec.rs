//! The one place that knows the wire and disk encoding (bincode 2, serde mode).
//!
//! bincode is not self-describing: decoding bytes as the wrong type yields garbage rather than an
//! error. Every value we persist is therefore wrapped in [`Versioned`], whose tag names the type
//! and its schema version; a mismatch is a [`CodecError`], never a silently wrong value.

use serde::de::DeserializeOwned;
use serde::Deserialize;
use serde::Serialize;

/// Encoding or decoding failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum CodecError {
    /// The value could not be encoded.
    #[error("encode: {0}")]
    Encode(#[from] bincode::error::EncodeError),
    /// The bytes are not a valid encoding of the requested type.
    #[error("decode: {0}")]
    Decode(#[from] bincode::error::DecodeError),
    /// The bytes hold a different type or schema version than requested.
    #[error("type tag mismatch: expected {expected}, found {found}")]
    TagMismatch {
        /// Tag of the type the caller asked for.
        expected: String,
        /// Tag found in the bytes.
        found: String,
    },
    /// Bytes were left over after the value: a sign of a wrong type.
    #[error("{0} trailing bytes after value")]
    Trailing(usize),
}

fn config() -> impl bincode::config::Config {
    // Fixed-width little-endian integers keep the layout independent of values and platform.
    bincode::config::standard().with_little_endian().with_fixed_int_encoding()
}

/// Encodes a transient value (RPC bodies, log payloads inside openraft's own framing).
pub fn encode<T: Serialize>(value: &T) -> Result<Vec<u8>, CodecError> {
    Ok(bincode::serde::encode_to_vec(value, config())?)
}

/// Decodes a value produced by [`encode`]; the whole input must be consumed.
pub fn decode<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, CodecError> {
    let (value, read) = bincode::serde::decode_from_slice(bytes, config())?;
    if read != bytes.len() {
        return Err(CodecError::Trailing(bytes.len() - read));
    }
    Ok(value)
}

/// A value that carries its type tag, so a persisted record can be checked before use.
pub trait Tagged {
    /// Short, stable name of the type and schema version, e.g. `"raft.vote.v1"`.
    const TAG: &'static str;
}

// Format: { tag: string | value }
#[derive(Serialize, Deserialize)]
struct Versioned<T> {
    tag: String,
    value: T,
}

#[derive(Deserialize)]
struct TagOnly {
    tag: String,
}

/// Encodes a persisted value with its tag.
pub fn encode_tagged<T: Serialize + Tagged>(value: &T) -> Result<Vec<u8>, CodecError> {
    #[derive(Serialize)]
    struct Ref<'a, T> {
        tag: &'static str,
        value: &'a T,
    }
    encode(&Ref { tag: T::TAG, value })
}

/// Decodes a value written by [`encode_tagged`], refusing bytes of another type or version.
pub fn decode_tagged<T: DeserializeOwned + Tagged>(bytes: &[u8]) -> Result<T, CodecError> {
    let (head, _): (TagOnly, usize) = bincode::serde::decode_from_slice(bytes, config())?;
    if head.tag != T::TAG {
        return Err(CodecError::TagMismatch { expected: T::TAG.to_string(), found: head.tag });
    }
    let v: Versioned<T> = decode(bytes)?;
    Ok(v.value)
}

#[cfg(test)]
mod test {
    use super::*;

    #[derive(Debug, PartialEq, Serialize, Deserialize)]
    struct A {
        x: u64,
        s: String,
    }
    impl Tagged for A {
        const TAG: &'static str = "test.a.v1";
    }
    #[derive(Debug, PartialEq, Serialize, Deserialize)]
    struct B {
        x: u64,
        s: String,
    }
    impl Tagged for B {
        const TAG: &'static str = "test.b.v1";
    }

    #[test]
    fn round_trip() {
        let a = A { x: 7, s: "hello".into() };
        let bytes = encode_tagged(&a).unwrap();
        assert_eq!(decode_tagged::<A>(&bytes).unwrap(), a);
        let plain = encode(&a).unwrap();
        assert_eq!(decode::<A>(&plain).unwrap(), a);
    }

    #[test]
    fn wrong_type_is_an_error_not_garbage() {
        let bytes = encode_tagged(&A { x: 1, s: "x".into() }).unwrap();
        match decode_tagged::<B>(&bytes) {
            Err(CodecError::TagMismatch { expected, found }) => {
                assert_eq!(expected, "test.b.v1");
                assert_eq!(found, "test.a.v1");
            }
            other => panic!("expected a tag mismatch, got {other:?}"),
        }
    }

    #[test]
    fn truncated_and_trailing_bytes_are_errors() {
        let bytes = encode_tagged(&A { x: 1, s: "abc".into() }).unwrap();
        assert!(decode_tagged::<A>(&bytes[..bytes.len() - 1]).is_err());
        let mut longer = bytes.clone();
        longer.push(0);
        assert!(matches!(decode_tagged::<A>(&longer), Err(CodecError::Trailing(1))));
    }
}
