//! JSON as Doris reads and writes it.
//!
//! Reading: Doris parses bodies with protobuf 3.21's `JsonStreamParser`, which is more lenient
//! than RFC 8259 (single-quoted strings, trailing commas, unquoted keys) and stricter than JSON5
//! (no comments, no BOM). [`parse`] accepts exactly that dialect and reproduces its error text,
//! `"<message>\n<±20 bytes of context>\n<caret>"` (transport §2).
//!
//! Writing: Doris pretty-prints every envelope with rapidjson's `PrettyWriter` (4-space indent,
//! `"key": value`, `[]`/`{}` when empty, `/` and non-ASCII unescaped). [`Json::to_pretty`] writes
//! that format. Numbers keep their text, so int64 fields can be emitted as strings by the caller
//! and nothing is lost to `f64`.

use std::fmt::Write as _;

/// A JSON value. Objects keep their keys in order (duplicates included) because protobuf's
/// parser sees every occurrence and our writer must print fields in field-number order.
#[derive(Debug, Clone, PartialEq)]
pub enum Json {
    /// `null`.
    Null,
    /// `true` / `false`.
    Bool(bool),
    /// A number, as written in the input (or as produced by the writer's caller).
    Number(String),
    /// A string.
    String(String),
    /// An array.
    Array(Vec<Json>),
    /// An object, keys in input order.
    Object(Vec<(String, Json)>),
}

/// Protobuf's parser gives up past this nesting depth.
const MAX_DEPTH: usize = 100;
/// Bytes of context shown on each side of the caret (`kContextLength` in protobuf).
const CONTEXT: usize = 20;

/// A syntax error, already formatted as protobuf formats it (message, context line, caret line).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct SyntaxError(pub String);

/// Parses `input` the way Doris's body parser does.
pub fn parse(input: &[u8]) -> Result<Json, SyntaxError> {
    match std::str::from_utf8(input) {
        Ok(text) => {
            let mut p = Parser::new(text.as_bytes(), true);
            p.document()
        }
        Err(e) => {
            // Protobuf parses the structurally valid UTF-8 prefix first; a real syntax error there
            // wins, otherwise it reports the encoding error where the prefix parse stopped.
            let prefix = &input[..e.valid_up_to()];
            let mut p = Parser::new(prefix, false);
            match p.document() {
                Err(err) if p.incomplete_at.is_none() => Err(err),
                _ => {
                    let at = p.incomplete_at.unwrap_or(p.pos).min(prefix.len());
                    Err(report(prefix, at, "Encountered non UTF-8 code points."))
                }
            }
        }
    }
}

fn report(s: &[u8], pos: usize, message: &str) -> SyntaxError {
    let begin = pos.saturating_sub(CONTEXT);
    let end = (pos + CONTEXT).min(s.len());
    let segment = String::from_utf8_lossy(&s[begin..end]);
    let caret = " ".repeat(pos - begin);
    SyntaxError(format!("{message}\n{segment}\n{caret}^"))
}

struct Parser<'a> {
    s: &'a [u8],
    pos: usize,
    /// `false` while parsing a prefix that may continue (the non-UTF-8 case): running out of
    /// input is then not an error of its own.
    finishing: bool,
    /// Where a non-finishing parse stopped for lack of input (the start of the open token).
    incomplete_at: Option<usize>,
}

impl<'a> Parser<'a> {
    fn new(s: &'a [u8], finishing: bool) -> Self {
        Parser { s, pos: 0, finishing, incomplete_at: None }
    }

    fn document(&mut self) -> Result<Json, SyntaxError> {
        self.skip_ws();
        let value = self.value(0)?;
        self.skip_ws();
        if self.pos < self.s.len() {
            return Err(self.fail("Parsing terminated before end of input."));
        }
        Ok(value)
    }

    fn peek(&self) -> Option<u8> {
        self.s.get(self.pos).copied()
    }

    fn skip_ws(&mut self) {
        while let Some(c) = self.peek() {
            if matches!(c, b' ' | b'\t' | b'\n' | b'\r' | 0x0b | 0x0c) {
                self.pos += 1;
            } else {
                break;
            }
        }
    }

    fn fail(&self, message: &str) -> SyntaxError {
        report(self.s, self.pos, message)
    }

    /// A failure caused by running out of input: protobuf prefixes "Unexpected end of string."
    fn fail_unknown(&mut self, message: &str, token_start: usize) -> SyntaxError {
        if !self.finishing && self.pos >= self.s.len() {
            self.incomplete_at = Some(token_start);
            return SyntaxError(String::new());
        }
        if self.pos >= self.s.len() {
            return self.fail(&format!("Unexpected end of string. {message}"));
        }
        self.fail(message)
    }

    fn value(&mut self, depth: usize) -> Result<Json, SyntaxError> {
        if depth > MAX_DEPTH {
            return Err(self.fail("Message too deep. Max recursion depth reached."));
        }
        let start = self.pos;
        let Some(c) = self.peek() else {
            return Err(self.fail_unknown("Expected a value.", start));
        };
        match c {
            b'{' => self.object(depth),
            b'[' => self.array(depth),
            b'"' | b'\'' => Ok(Json::String(self.string()?)),
            b'-' | b'0'..=b'9' => self.number(),
            _ => {
                let rest = &self.s[self.pos..];
                for (word, v) in [("true", Json::Bool(true)), ("false", Json::Bool(false)), ("null", Json::Null)] {
                    if rest.starts_with(word.as_bytes()) {
                        self.pos += word.len();
                        return Ok(v);
                    }
                    if !self.finishing && word.as_bytes().starts_with(rest) {
                        return Err(self.fail_unknown("Expected a value.", start));
                    }
                }
                if is_key_start(c) {
                    Err(self.fail("Unexpected token."))
                } else {
                    Err(self.fail_unknown("Expected a value.", start))
                }
            }
        }
    }

    fn object(&mut self, depth: usize) -> Result<Json, SyntaxError> {
        let start = self.pos;
        self.pos += 1;
        let mut entries = Vec::new();
        loop {
            self.skip_ws();
            match self.peek() {
                Some(b'}') => {
                    self.pos += 1;
                    return Ok(Json::Object(entries));
                }
                Some(b'"' | b'\'') => {}
                Some(c) if is_key_start(c) => {}
                _ => return Err(self.fail_unknown("Expected an object key or }.", start)),
            }
            let key = self.key()?;
            self.skip_ws();
            match self.peek() {
                Some(b':') => self.pos += 1,
                _ => return Err(self.fail_unknown("Expected : between key:value pair.", start)),
            }
            self.skip_ws();
            let value = self.value(depth + 1)?;
            entries.push((key, value));
            self.skip_ws();
            match self.peek() {
                // A comma may be followed by `}`: protobuf accepts trailing commas.
                Some(b',') => self.pos += 1,
                Some(b'}') => {
                    self.pos += 1;
                    return Ok(Json::Object(entries));
                }
                _ => return Err(self.fail_unknown("Expected , or } after key:value pair.", start)),
            }
        }
    }

    fn array(&mut self, depth: usize) -> Result<Json, SyntaxError> {
        let start = self.pos;
        self.pos += 1;
        let mut items = Vec::new();
        loop {
            self.skip_ws();
            if self.peek() == Some(b']') {
                self.pos += 1;
                return Ok(Json::Array(items));
            }
            items.push(self.value(depth + 1)?);
            self.skip_ws();
            match self.peek() {
                Some(b',') => self.pos += 1,
                Some(b']') => {
                    self.pos += 1;
                    return Ok(Json::Array(items));
                }
                _ => return Err(self.fail_unknown("Expected , or ] after array value.", start)),
            }
        }
    }

    fn key(&mut self) -> Result<String, SyntaxError> {
        if matches!(self.peek(), Some(b'"' | b'\'')) {
            return self.string();
        }
        let start = self.pos;
        while self.peek().is_some_and(|c| c.is_ascii_alphanumeric() || c == b'_' || c == b'$') {
            self.pos += 1;
        }
        Ok(String::from_utf8_lossy(&self.s[start..self.pos]).into_owned())
    }

    fn string(&mut self) -> Result<String, SyntaxError> {
        let start = self.pos;
        let Some(quote) = self.peek() else {
            return Err(self.fail_unknown("Expected a value.", start));
        };
        self.pos += 1;
        let mut out: Vec<u8> = Vec::new();
        loop {
            let Some(c) = self.peek() else {
                return Err(self.unterminated(start));
            };
            if c == quote {
                self.pos += 1;
                return Ok(String::from_utf8_lossy(&out).into_owned());
            }
            if c != b'\\' {
                out.push(c);
                self.pos += 1;
                continue;
            }
            let Some(e) = self.s.get(self.pos + 1).copied() else {
                return Err(self.unterminated(start));
            };
            let simple = match e {
                b'"' => Some(b'"'),
                b'\'' => Some(b'\''),
                b'\\' => Some(b'\\'),
                b'/' => Some(b'/'),
                b'b' => Some(0x08),
                b'f' => Some(0x0c),
                b'n' => Some(b'\n'),
                b'r' => Some(b'\r'),
                b't' => Some(b'\t'),
                _ => None,
            };
            if let Some(b) = simple {
                out.push(b);
                self.pos += 2;
                continue;
            }
            if e != b'u' {
                return Err(self.fail("Invalid escape sequence."));
            }
            let ch = self.unicode_escape(start)?;
            let mut buf = [0u8; 4];
            out.extend_from_slice(ch.encode_utf8(&mut buf).as_bytes());
        }
    }

    fn unterminated(&mut self, start: usize) -> SyntaxError {
        if !self.finishing {
            self.incomplete_at = Some(start);
            return SyntaxError(String::new());
        }
        self.pos = start;
        self.fail("Closing quote expected in string.")
    }

    /// Parses `\uXXXX` (and a following low surrogate) at `pos`.
    fn unicode_escape(&mut self, token_start: usize) -> Result<char, SyntaxError> {
        let high = self.hex4(self.pos + 2, token_start)?;
        self.pos += 6;
        if (0xdc00..0xe000).contains(&high) {
            return Err(self.fail("Invalid unicode code point."));
        }
        if !(0xd800..0xdc00).contains(&high) {
            return char::from_u32(high).ok_or_else(|| self.fail("Invalid unicode code point."));
        }
        if self.s.get(self.pos) != Some(&b'\\') || self.s.get(self.pos + 1) != Some(&b'u') {
            return Err(self.fail("Missing low surrogate."));
        }
        let low = self.hex4(self.pos + 2, token_start)?;
        if !(0xdc00..0xe000).contains(&low) {
            return Err(self.fail("Invalid low surrogate."));
        }
        self.pos += 6;
        let cp = 0x10000 + ((high - 0xd800) << 10) + (low - 0xdc00);
        char::from_u32(cp).ok_or_else(|| self.fail("Invalid unicode code point."))
    }

    fn hex4(&mut self, at: usize, token_start: usize) -> Result<u32, SyntaxError> {
        let Some(digits) = self.s.get(at..at + 4) else {
            return Err(self.fail_unknown("Illegal hex string.", token_start));
        };
        let text = std::str::from_utf8(digits).map_err(|_| self.fail("Illegal hex string."))?;
        if !text.bytes().all(|b| b.is_ascii_hexdigit()) {
            return Err(self.fail("Illegal hex string."));
        }
        u32::from_str_radix(text, 16).map_err(|_| self.fail("Illegal hex string."))
    }

    fn number(&mut self) -> Result<Json, SyntaxError> {
        let start = self.pos;
        while self.peek().is_some_and(|c| c.is_ascii_digit() || matches!(c, b'-' | b'+' | b'.' | b'e' | b'E')) {
            self.pos += 1;
        }
        if !self.finishing && self.pos == self.s.len() {
            return Err(self.fail_unknown("Unable to parse number.", start));
        }
        let text = String::from_utf8_lossy(&self.s[start..self.pos]).into_owned();
        let floating = text.contains(['.', 'e', 'E']);
        let ok = if floating {
            text.parse::<f64>().is_ok_and(f64::is_finite)
        } else {
            text.parse::<i128>().is_ok() || text.parse::<f64>().is_ok_and(f64::is_finite)
        };
        if !ok {
            self.pos = start;
            return Err(self.fail("Unable to parse number."));
        }
        Ok(Json::Number(text))
    }
}

fn is_key_start(c: u8) -> bool {
    c.is_ascii_alphabetic() || c == b'_' || c == b'$'
}

impl Json {
    /// The compact single-line form (used inside error messages).
    pub fn to_compact(&self) -> String {
        let mut out = String::new();
        write_value(&mut out, self, None, 0);
        out
    }

    /// rapidjson `PrettyWriter` output with 4-space indentation, no trailing newline.
    pub fn to_pretty(&self) -> String {
        let mut out = String::new();
        write_value(&mut out, self, Some(4), 0);
        out
    }

    /// An object from `(key, value)` pairs.
    pub fn object<K: Into<String>>(entries: impl IntoIterator<Item = (K, Json)>) -> Json {
        Json::Object(entries.into_iter().map(|(k, v)| (k.into(), v)).collect())
    }

    /// A string value.
    pub fn string(s: impl Into<String>) -> Json {
        Json::String(s.into())
    }
}

fn newline_indent(out: &mut String, indent: Option<usize>, level: usize) {
    if let Some(width) = indent {
        out.push('\n');
        out.extend(std::iter::repeat_n(' ', width * level));
    }
}

fn write_value(out: &mut String, v: &Json, indent: Option<usize>, level: usize) {
    match v {
        Json::Null => out.push_str("null"),
        Json::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
        Json::Number(n) => out.push_str(n),
        Json::String(s) => write_string(out, s),
        Json::Array(items) if items.is_empty() => out.push_str("[]"),
        Json::Object(entries) if entries.is_empty() => out.push_str("{}"),
        Json::Array(items) => {
            out.push('[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                newline_indent(out, indent, level + 1);
                write_value(out, item, indent, level + 1);
            }
            newline_indent(out, indent, level);
            out.push(']');
        }
        Json::Object(entries) => {
            out.push('{');
            for (i, (k, item)) in entries.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                newline_indent(out, indent, level + 1);
                write_string(out, k);
                out.push(':');
                if indent.is_some() {
                    out.push(' ');
                }
                write_value(out, item, indent, level + 1);
            }
            newline_indent(out, indent, level);
            out.push('}');
        }
    }
}

/// rapidjson's escaping: `"` `\` and control characters only; `\u00XX` in upper-case hex.
fn write_string(out: &mut String, s: &str) {
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\u{08}' => out.push_str("\\b"),
            '\u{0c}' => out.push_str("\\f"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if (c as u32) < 0x20 => {
                let _ = write!(out, "\\u{:04X}", c as u32);
            }
            c => out.push(c),
        }
    }
    out.push('"');
}

#[cfg(test)]
mod test {
    use super::*;

    fn err(input: &str) -> String {
        parse(input.as_bytes()).unwrap_err().0
    }

    #[test]
    fn accepts_protobuf_leniencies() {
        let v = parse(b"{'instance_id':'x', \"a\": [1, 2,], b: {},}").unwrap();
        assert_eq!(
            v,
            Json::object([
                ("instance_id", Json::string("x")),
                ("a", Json::Array(vec![Json::Number("1".into()), Json::Number("2".into())])),
                ("b", Json::Object(vec![])),
            ])
        );
        assert_eq!(parse(b" {} ").unwrap(), Json::Object(vec![]));
        assert_eq!(
            parse(br#"{"s":"a\u00e9\ud83d\ude00\'\n"}"#).unwrap(),
            Json::object([("s", Json::string("aé😀'\n"))])
        );
        assert_eq!(parse(b"null").unwrap(), Json::Null);
        assert_eq!(parse(b"9.05e3").unwrap(), Json::Number("9.05e3".into()));
    }

    #[test]
    fn errors_match_protobuf_text() {
        // Rows of transport §2's table.
        assert_eq!(err(""), "Unexpected end of string. Expected a value.\n\n^");
        assert_eq!(err("abc"), "Unexpected token.\nabc\n^");
        assert_eq!(
            err(r#"{"a":"x" /* c */}"#),
            "Expected , or } after key:value pair.\n{\"a\":\"x\" /* c */}\n         ^"
        );
        assert_eq!(err("{} xyz"), "Parsing terminated before end of input.\n{} xyz\n   ^");
        assert_eq!(err("{}{}"), "Parsing terminated before end of input.\n{}{}\n  ^");
        assert!(err("\u{feff}{}").starts_with("Expected a value.\n"));
        assert!(err("{\"a\" 1}").starts_with("Expected : between key:value pair."));
        assert!(err("{\"a\":1").starts_with("Unexpected end of string. Expected , or } after key:value pair."));
        assert!(err("[1 2]").starts_with("Expected , or ] after array value."));
        assert!(err("{,}").starts_with("Expected an object key or }."));
        assert!(err("{\"a\":\"x}").starts_with("Closing quote expected in string."));
        assert!(err(r#"{"a":"\q"}"#).starts_with("Invalid escape sequence."));
        assert!(err("{\"a\":1-2}").starts_with("Unable to parse number."));
    }

    #[test]
    fn context_is_twenty_bytes_each_side() {
        let input = format!("{{\"k\":\"{}\"}} trailing garbage here and more", "v".repeat(30));
        let e = err(&input);
        let lines: Vec<&str> = e.split('\n').collect();
        assert_eq!(lines[0], "Parsing terminated before end of input.");
        assert_eq!(lines[1].len(), 40);
        assert_eq!(lines[2], format!("{}^", " ".repeat(20)));
    }

    #[test]
    fn invalid_utf8_is_reported() {
        let e = parse(b"{\"a\":\"\xff\"}").unwrap_err().0;
        assert!(e.starts_with("Encountered non UTF-8 code points.\n"), "{e}");
        let e = parse(b"{\"a\" 1, \"b\":\"\xff\"}").unwrap_err().0;
        assert!(e.starts_with("Expected : between key:value pair."), "{e}");
    }

    #[test]
    fn deep_nesting_is_an_error_not_a_crash() {
        let input = "[".repeat(100_000);
        assert!(err(&input).starts_with("Message too deep."));
    }

    #[test]
    fn pretty_matches_rapidjson() {
        let v = Json::object([
            ("code", Json::string("OK")),
            ("msg", Json::string("")),
            (
                "result",
                Json::object([
                    ("a", Json::Array(vec![Json::Number("1".into()), Json::string("x/<>&é")])),
                    ("e", Json::Array(vec![])),
                    ("o", Json::Object(vec![])),
                    ("s", Json::string("q\"\\\n\t\u{1}")),
                ]),
            ),
        ]);
        assert_eq!(
            v.to_pretty(),
            "{\n    \"code\": \"OK\",\n    \"msg\": \"\",\n    \"result\": {\n        \"a\": [\n            1,\n            \
             \"x/<>&é\"\n        ],\n        \"e\": [],\n        \"o\": {},\n        \"s\": \"q\\\"\\\\\\n\\t\\u0001\"\n    }\n}"
        );
        assert_eq!(v.to_compact().lines().count(), 1);
    }
}
