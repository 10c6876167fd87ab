//! `decode_key`'s picture of a key (Doris `prettify_key` / `explain_fields`, endpoints §18.3), and
//! the hex forms Doris reads and prints.
//!
//! Column math is done in ASCII (`/`, `|`, `-`, `v`); the unicode form widens each mark to its
//! box-drawing character (`┌`, `│`, `─`, `▼`) afterwards, character for character. Strings are
//! printed raw, so the picture is bytes, not text.

use super::codec::decode;
use super::codec::DecodeError;
use super::codec::Element;

/// Largest picture drawn. The picture grows as (fields × key length), so a long key of tiny
/// elements would otherwise cost gigabytes; real Doris keys draw in a few kilobytes.
pub const MAX_PICTURE_BYTES: usize = 4 << 20;

/// Why a key has no picture.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum RenderError {
    /// The bytes are not a key (Doris: `prettify_key` returns "").
    #[error(transparent)]
    Decode(#[from] DecodeError),
    /// The picture would exceed [`MAX_PICTURE_BYTES`].
    #[error("picture of {fields} fields over {columns} columns exceeds {MAX_PICTURE_BYTES} bytes")]
    TooLarge {
        /// Number of fields (key space included).
        fields: usize,
        /// Width of the drawing.
        columns: usize,
    },
}

/// Lower-case hex of `bytes` (Doris `hex`).
pub fn hex(bytes: &[u8]) -> String {
    use std::fmt::Write as _;
    let mut out = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        let _ = write!(out, "{b:02x}");
    }
    out
}

/// Doris `unhex`: `len / 2` bytes (a trailing odd nibble is ignored); conversion stops at the
/// first non-hex character, leaving the remaining bytes zero (a half-filled byte keeps its high
/// nibble).
pub fn unhex(text: &str) -> Vec<u8> {
    let bytes = text.as_bytes();
    let len = bytes.len() & !1;
    let mut out = vec![0u8; len / 2];
    for (i, &c) in bytes[..len].iter().enumerate() {
        let Some(nibble) = (c as char).to_digit(16) else { break };
        // to_digit(16) < 16, so the cast is exact.
        #[allow(clippy::cast_possible_truncation)]
        let nibble = nibble as u8;
        out[i / 2] |= if i % 2 == 1 { nibble } else { nibble << 4 };
    }
    out
}

/// `\x01\x10…`: each pair of hex digits prefixed with `\x` (the last line of `encode_key`).
pub fn fdb_escaped(key_hex: &str) -> String {
    let mut out = String::with_capacity(key_hex.len() * 2);
    for (i, c) in key_hex.chars().enumerate() {
        if i % 2 == 0 {
            out.push_str("\\x");
        }
        out.push(c);
    }
    out
}

/// The picture of the key whose hex is `key_hex` (echoed as given on the last line), ending in
/// one `"\n"`.
pub fn prettify(key_hex: &str, unicode: bool) -> Result<Vec<u8>, RenderError> {
    let key = unhex(key_hex);
    let (space, elements) = decode(&key)?;
    // Doris reads the key-space byte into a (signed) `char`.
    #[allow(clippy::cast_possible_wrap)]
    let space = i32::from(space as i8);
    let mut fields: Vec<Vec<u8>> = vec![format!("key space: {space}").into_bytes()];
    let mut columns: Vec<usize> = vec![0];
    for d in elements {
        fields.push(match d.element {
            Element::Bytes(b) => b,
            Element::Int(v) => v.to_string().into_bytes(),
        });
        columns.push((d.offset as usize + 1) * 2);
    }
    let width = columns.last().copied().unwrap_or(0) + 2;
    let estimate = fields.len().saturating_mul(width.saturating_mul(3) + 16)
        + fields.iter().map(Vec::len).sum::<usize>()
        + key_hex.len();
    if estimate > MAX_PICTURE_BYTES {
        return Err(RenderError::TooLarge { fields: fields.len(), columns: width });
    }
    let mut out = Vec::with_capacity(estimate);
    let blank = vec![b' '; width];
    for (i, field) in fields.iter().enumerate() {
        let mut line = blank.clone();
        line[columns[i]] = b'/';
        for &c in &columns[..i] {
            line[c] = b'|';
        }
        for cell in &mut line[columns[i] + 1..] {
            *cell = b'-';
        }
        push_marks(&mut out, &line, unicode);
        out.extend_from_slice(format!(" {i}. ").as_bytes());
        out.extend_from_slice(field);
        out.push(b'\n');
    }
    for mark in [b'|', b'v'] {
        let mut line = blank.clone();
        for &c in &columns {
            line[c] = mark;
        }
        push_marks(&mut out, &line, unicode);
        out.push(b'\n');
    }
    out.extend_from_slice(key_hex.as_bytes());
    out.push(b'\n');
    Ok(out)
}

fn push_marks(out: &mut Vec<u8>, line: &[u8], unicode: bool) {
    if !unicode {
        out.extend_from_slice(line);
        return;
    }
    for &c in line {
        match c {
            b'-' => out.extend_from_slice("─".as_bytes()),
            b'|' => out.extend_from_slice("│".as_bytes()),
            b'/' => out.extend_from_slice("┌".as_bytes()),
            b'v' => out.extend_from_slice("▼".as_bytes()),
            other => out.push(other),
        }
    }
}

#[cfg(test)]
mod test {
    use super::*;

    fn picture(key: &str, unicode: bool) -> String {
        String::from_utf8(prettify(key, unicode).unwrap()).unwrap()
    }

    const INSTANCE: &str = "0110696e7374616e636500011072656772657373696f6e5f696e7374616e6365300001";

    #[test]
    fn worked_example_1_unicode_and_ascii() {
        let want = concat!(
            "┌───────────────────────── 0. key space: 1\n",
            "│ ┌─────────────────────── 1. instance\n",
            "│ │                     ┌─ 2. regression_instance0\n",
            "│ │                     │ \n",
            "▼ ▼                     ▼ \n",
            "0110696e7374616e636500011072656772657373696f6e5f696e7374616e6365300001\n",
        );
        assert_eq!(picture(INSTANCE, true), want);
        let want = concat!(
            "/------------------------- 0. key space: 1\n",
            "| /----------------------- 1. instance\n",
            "| |                     /- 2. regression_instance0\n",
            "| |                     | \n",
            "v v                     v \n",
            "0110696e7374616e636500011072656772657373696f6e5f696e7374616e6365300001\n",
        );
        assert_eq!(picture(INSTANCE, false), want);
    }

    #[test]
    fn worked_example_3_system_key() {
        let key = "021073797374656d0001106d6574612d7365727669636500011072656769737472790001";
        let want = concat!(
            "┌─────────────────────────────────────────────────── 0. key space: 2\n",
            "│ ┌───────────────────────────────────────────────── 1. system\n",
            "│ │                 ┌─────────────────────────────── 2. meta-service\n",
            "│ │                 │                             ┌─ 3. registry\n",
            "│ │                 │                             │ \n",
            "▼ ▼                 ▼                             ▼ \n",
            "021073797374656d0001106d6574612d7365727669636500011072656769737472790001\n",
        );
        assert_eq!(picture(key, true), want);
    }

    #[test]
    fn worked_example_2_txn_key_ascii() {
        let key = concat!(
            "011074786e000110696e7374616e63655f69645f646561646265656600011074786e5f696e646578000112",
            "000000000000271310696e736572745f336664356164313264303035346139622d386337373664333231",
            "386336616462370001"
        );
        let p = picture(key, false);
        let lines: Vec<&str> = p.lines().collect();
        assert_eq!(lines[0], format!("/{} 0. key space: 1", "-".repeat(103)));
        assert_eq!(
            lines[4],
            format!("| |           |{}|{}/------------------- 4. 10003", " ".repeat(45), " ".repeat(23))
        );
        assert_eq!(lines[5], "| |           |                                             |                       |                 /- 5. insert_3fd5ad12d0054a9b-8c776d3218c6adb7");
        assert_eq!(
            lines[7],
            "v v           v                                             v                       v                 v "
        );
        assert_eq!(lines[8], key);
    }

    #[test]
    fn edge_cases() {
        assert_eq!(picture("01", true), "┌─ 0. key space: 1\n│ \n▼ \n01\n");
        // Upper-case hex decodes and is echoed as given.
        assert!(picture(&INSTANCE.to_uppercase(), false).ends_with(&format!("\n{}\n", INSTANCE.to_uppercase())));
        // A NUL inside a string is printed raw; negatives with '-'.
        let raw = prettify("01106100ff620001110000000000000002", false).unwrap();
        assert!(raw.windows(5).any(|w| w == b"a\x00b\n|"), "{raw:?}");
        assert!(String::from_utf8_lossy(&raw).contains(" 2. -2\n"));
        // A key-space byte >= 0x80 prints as a signed char.
        assert!(picture("ff", false).starts_with("/- 0. key space: -1\n"));
        for bad in ["", "0", "0113", "01zz", "0110616263", "01120000"] {
            assert!(matches!(prettify(bad, true), Err(RenderError::Decode(_))), "{bad:?}");
        }
    }

    #[test]
    fn huge_pictures_are_refused() {
        let key = format!("01{}", "100001".repeat(20_000));
        assert!(matches!(prettify(&key, true), Err(RenderError::TooLarge { .. })));
    }

    #[test]
    fn unhex_is_doris_unhex() {
        assert_eq!(unhex("0aFf"), vec![0x0a, 0xff]);
        assert_eq!(unhex("0a1"), vec![0x0a]);
        assert_eq!(unhex("01zz02"), vec![0x01, 0x00, 0x00]);
        assert_eq!(unhex("0z"), vec![0x00]);
        assert_eq!(unhex("1z"), vec![0x10]);
        assert_eq!(hex(&[0x01, 0xab]), "01ab");
        assert_eq!(fdb_escaped("0110ab"), "\\x01\\x10\\xab");
    }
}
