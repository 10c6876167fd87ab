//! Doris's tuple encoding of meta-service keys (`cloud/src/meta-store/codec.cpp`, endpoints §18.1).
//!
//! A key is one key-space byte followed by tuple elements. Each element starts with a tag:
//!
//! | element | bytes |
//! |---|---|
//! | bytes / string | `0x10`, payload with every `0x00` written as `0x00 0xff`, then `0x00 0x01` |
//! | int64 ≥ 0 | `0x12` + 8-byte big-endian value |
//! | int64 < 0 | `0x11` + 8-byte big-endian absolute value |
//!
//! We must produce byte-identical keys, so the encoding's quirks are kept, including the one
//! Doris marks `FIXME`: negative integers store their absolute value, so they do not sort among
//! themselves. No element length is ever encoded from a `usize`.

/// Tag of a bytes/string element.
pub const BYTES_TAG: u8 = 0x10;
/// Tag of a negative int64 element.
pub const NEGATIVE_FIXED_INT_TAG: u8 = 0x11;
/// Tag of a non-negative int64 element.
pub const POSITIVE_FIXED_INT_TAG: u8 = 0x12;

/// One decoded tuple element.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Element {
    /// A bytes/string element, unescaped.
    Bytes(Vec<u8>),
    /// An int64 element.
    Int(i64),
}

/// A decoded element and the byte offset of its tag, relative to the byte after the key space
/// (the convention of Doris's `decode_key`, which `decode_key`'s drawing depends on).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Decoded {
    /// The element.
    pub element: Element,
    /// Offset of the element's tag byte after the key-space byte.
    pub offset: u32,
}

/// Why bytes are not a valid tuple. The numbers are Doris's return codes.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum DecodeError {
    /// Unknown tag, or an integer with fewer than 8 bytes after its tag (Doris −1).
    #[error("bad tag or truncated integer at offset {offset}")]
    BadTagOrInt {
        /// Offset of the offending tag.
        offset: u32,
    },
    /// A string without its `0x00` terminator (Doris −2).
    #[error("unterminated string at offset {offset}")]
    Unterminated {
        /// Offset of the string's tag.
        offset: u32,
    },
    /// A string ending in a lone `0x00` (Doris −3).
    #[error("truncated string escape at offset {offset}")]
    TruncatedEscape {
        /// Offset of the string's tag.
        offset: u32,
    },
    /// `0x00` followed by a byte other than `0x01` or `0xff` (Doris −4).
    #[error("invalid string escape at offset {offset}")]
    BadEscape {
        /// Offset of the string's tag.
        offset: u32,
    },
    /// The key is empty (no key-space byte).
    #[error("empty key")]
    Empty,
}

/// Appends a bytes/string element.
///
/// Order-preserving: for any byte strings `a < b`, `encode(a) < encode(b)` bytewise, and a string
/// sorts before every string it is a proper prefix of.
pub fn encode_bytes(out: &mut Vec<u8>, payload: &[u8]) {
    out.push(BYTES_TAG);
    for &b in payload {
        out.push(b);
        if b == 0x00 {
            out.push(0xff);
        }
    }
    out.extend_from_slice(&[0x00, 0x01]);
}

/// Appends an int64 element.
///
/// Order-preserving for non-negative values, and every negative value sorts before every
/// non-negative one. **Not** order-preserving among negative values (Doris stores the absolute
/// value; `-1` sorts before `-2`).
pub fn encode_int64(out: &mut Vec<u8>, value: i64) {
    if value >= 0 {
        out.push(POSITIVE_FIXED_INT_TAG);
    } else {
        out.push(NEGATIVE_FIXED_INT_TAG);
    }
    out.extend_from_slice(&value.unsigned_abs().to_be_bytes());
}

/// Decodes the tuple elements after the key-space byte of `key`, returning the key space and the
/// elements with their offsets. Accepts exactly what Doris's `decode_key` accepts.
pub fn decode(key: &[u8]) -> Result<(u8, Vec<Decoded>), DecodeError> {
    let (&space, rest) = key.split_first().ok_or(DecodeError::Empty)?;
    Ok((space, decode_elements(rest)?))
}

/// Decodes a sequence of tuple elements (no key-space byte).
pub fn decode_elements(bytes: &[u8]) -> Result<Vec<Decoded>, DecodeError> {
    let mut out = Vec::new();
    let mut pos = 0usize;
    while pos < bytes.len() {
        let offset = offset_u32(pos);
        match bytes[pos] {
            BYTES_TAG => {
                let (payload, next) = decode_bytes_at(bytes, pos + 1, offset)?;
                out.push(Decoded { element: Element::Bytes(payload), offset });
                pos = next;
            }
            tag @ (NEGATIVE_FIXED_INT_TAG | POSITIVE_FIXED_INT_TAG) => {
                let raw: [u8; 8] = bytes
                    .get(pos + 1..pos + 9)
                    .and_then(|s| s.try_into().ok())
                    .ok_or(DecodeError::BadTagOrInt { offset })?;
                let magnitude = u64::from_be_bytes(raw);
                // Two's-complement reinterpretation mirrors Doris's `int64_t` arithmetic.
                #[allow(clippy::cast_possible_wrap)]
                let value = magnitude as i64;
                let value = if tag == NEGATIVE_FIXED_INT_TAG { value.wrapping_neg() } else { value };
                out.push(Decoded { element: Element::Int(value), offset });
                pos += 9;
            }
            _ => return Err(DecodeError::BadTagOrInt { offset }),
        }
    }
    Ok(out)
}

fn decode_bytes_at(bytes: &[u8], mut pos: usize, offset: u32) -> Result<(Vec<u8>, usize), DecodeError> {
    let mut payload = Vec::new();
    loop {
        let rel = bytes[pos.min(bytes.len())..]
            .iter()
            .position(|&b| b == 0x00)
            .ok_or(DecodeError::Unterminated { offset })?;
        payload.extend_from_slice(&bytes[pos..pos + rel]);
        pos += rel;
        match bytes.get(pos + 1) {
            None => return Err(DecodeError::TruncatedEscape { offset }),
            Some(0x01) => return Ok((payload, pos + 2)),
            Some(0xff) => {
                payload.push(0x00);
                pos += 2;
            }
            Some(_) => return Err(DecodeError::BadEscape { offset }),
        }
    }
}

fn offset_u32(pos: usize) -> u32 {
    u32::try_from(pos).unwrap_or(u32::MAX)
}

#[cfg(test)]
mod test {
    use super::*;

    fn hex(bytes: &[u8]) -> String {
        bytes.iter().map(|b| format!("{b:02x}")).collect()
    }

    fn unhex(s: &str) -> Vec<u8> {
        (0..s.len() / 2).map(|i| u8::from_str_radix(&s[2 * i..2 * i + 2], 16).unwrap()).collect()
    }

    #[test]
    fn golden_bytes_from_codec_h() {
        let mut out = Vec::new();
        encode_bytes(&mut out, &[0xde, 0xad, 0x00, 0xbe, 0xef]);
        assert_eq!(hex(&out), "10dead00ffbeef0001");
    }

    #[test]
    fn golden_ints() {
        let mut out = Vec::new();
        encode_int64(&mut out, 10003);
        assert_eq!(hex(&out), "120000000000002713");
        out.clear();
        encode_int64(&mut out, -2);
        assert_eq!(hex(&out), "110000000000000002");
        out.clear();
        encode_int64(&mut out, i64::MIN);
        assert_eq!(hex(&out), "118000000000000000");
    }

    #[test]
    fn golden_txn_key_decodes_with_offsets() {
        // endpoints §18.3 worked example 2.
        let key = unhex(concat!(
            "011074786e000110696e7374616e63655f69645f646561646265656600011074786e5f696e646578000112",
            "000000000000271310696e736572745f336664356164313264303035346139622d386337373664333231",
            "386336616462370001"
        ));
        let (space, elems) = decode(&key).unwrap();
        assert_eq!(space, 1);
        let got: Vec<(Element, u32)> = elems.into_iter().map(|d| (d.element, d.offset)).collect();
        assert_eq!(
            got,
            vec![
                (Element::Bytes(b"txn".to_vec()), 0),
                (Element::Bytes(b"instance_id_deadbeef".to_vec()), 6),
                (Element::Bytes(b"txn_index".to_vec()), 29),
                (Element::Int(10003), 41),
                (Element::Bytes(b"insert_3fd5ad12d0054a9b-8c776d3218c6adb7".to_vec()), 50),
            ]
        );
    }

    #[test]
    fn round_trip_edge_values() {
        let strings: [&[u8]; 6] = [b"", b"\x00", b"\x00\x00", b"a\x00b", b"\xff", b"instance"];
        for s in strings {
            let mut out = Vec::new();
            encode_bytes(&mut out, s);
            let d = decode_elements(&out).unwrap();
            assert_eq!(d, vec![Decoded { element: Element::Bytes(s.to_vec()), offset: 0 }]);
        }
        for v in [0, 1, -1, 255, 256, i64::MAX, i64::MIN, -10003] {
            let mut out = Vec::new();
            encode_int64(&mut out, v);
            let d = decode_elements(&out).unwrap();
            assert_eq!(d, vec![Decoded { element: Element::Int(v), offset: 0 }]);
        }
    }

    #[test]
    fn strings_sort_like_their_payloads() {
        let mut values: Vec<&[u8]> =
            vec![b"", b"\x00", b"\x00\x01", b"\x00\xff", b"\x01", b"a", b"a\x00", b"ab", b"b", b"\xff", b"\xff\xff"];
        let mut encoded: Vec<Vec<u8>> = values
            .iter()
            .map(|v| {
                let mut out = Vec::new();
                encode_bytes(&mut out, v);
                out
            })
            .collect();
        encoded.sort();
        values.sort();
        let decoded: Vec<Vec<u8>> = encoded
            .iter()
            .map(|e| match decode_elements(e).unwrap().remove(0).element {
                Element::Bytes(b) => b,
                Element::Int(_) => unreachable!(),
            })
            .collect();
        let expected: Vec<Vec<u8>> = values.iter().map(|v| v.to_vec()).collect();
        assert_eq!(decoded, expected);
    }

    #[test]
    fn non_negative_ints_sort_and_negatives_come_first() {
        let mut values = vec![0i64, 1, 255, 256, 65_535, 1 << 40, i64::MAX, -1, -5];
        let mut encoded: Vec<Vec<u8>> = values
            .iter()
            .map(|&v| {
                let mut out = Vec::new();
                encode_int64(&mut out, v);
                out
            })
            .collect();
        encoded.sort();
        let decoded: Vec<i64> = encoded
            .iter()
            .map(|e| match decode_elements(e).unwrap().remove(0).element {
                Element::Int(v) => v,
                Element::Bytes(_) => unreachable!(),
            })
            .collect();
        // Negatives first, ordered by absolute value (Doris's FIXME), then non-negatives ascending.
        values.sort_by_key(|&v| (v >= 0, v.unsigned_abs()));
        assert_eq!(decoded, values);
    }

    #[test]
    fn malformed_inputs_are_errors_with_doris_codes() {
        assert_eq!(decode(&[]), Err(DecodeError::Empty));
        assert_eq!(decode_elements(&[0x13]), Err(DecodeError::BadTagOrInt { offset: 0 }));
        assert_eq!(decode_elements(&[0x12, 0, 0]), Err(DecodeError::BadTagOrInt { offset: 0 }));
        assert_eq!(decode_elements(&[0x10, b'a']), Err(DecodeError::Unterminated { offset: 0 }));
        assert_eq!(decode_elements(&[0x10, b'a', 0x00]), Err(DecodeError::TruncatedEscape { offset: 0 }));
        assert_eq!(decode_elements(&[0x10, b'a', 0x00, 0x02]), Err(DecodeError::BadEscape { offset: 0 }));
        assert_eq!(decode_elements(&[0x10, 0x00, 0x01, 0x10, b'x']), Err(DecodeError::Unterminated { offset: 3 }));
    }
}
