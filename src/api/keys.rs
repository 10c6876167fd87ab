//! Key routes: `decode_key`, `encode_key`, `get_value` (endpoints §18.3–§18.5). Query string only;
//! the body is ignored. Successes are text (`http_text_reply`, transport §3.3) — the picture of a
//! key may hold raw bytes of its strings, so bodies are bytes; refusals are JSON envelopes.

use axum::extract::State;
use axum::http::header;
use axum::http::HeaderValue;
use axum::http::StatusCode;
use axum::response::IntoResponse;
use axum::response::Response;

use super::error::ApiError;
use super::error::MetaCode;
use super::query::DorisQuery;
use super::replicate;
use super::AppState;
use crate::keys;
use crate::meta;
use crate::meta::Lookup;
use crate::meta::MetaError;
use crate::meta::ServiceCode;
use crate::pbjson::json::Json;

/// A 200 text reply of raw bytes; the dispatcher's `"\n"` is appended.
#[derive(Debug)]
pub struct KeyText(Vec<u8>);

impl IntoResponse for KeyText {
    fn into_response(self) -> Response {
        let mut body = self.0;
        body.push(b'\n');
        let mut response = (StatusCode::OK, body).into_response();
        response.headers_mut().insert(header::CONTENT_TYPE, HeaderValue::from_static("text/plain"));
        response
    }
}

fn invalid(msg: String) -> ApiError {
    ApiError::new(MetaCode::InvalidArgument, msg)
}

/// `unicode` unless the parameter is exactly `false`.
fn unicode(query: &DorisQuery) -> bool {
    query.get("unicode") != "false"
}

/// The key type named by `key_type`, or Doris's refusal.
fn key_type(query: &DorisQuery) -> Result<&'static keys::KeyType, ApiError> {
    let name = query.get("key_type");
    keys::key_type(name)
        .ok_or_else(|| invalid(format!("key_type not supported: {}", if name.is_empty() { "(empty)" } else { name })))
}

/// Doris `encode_key`: the key type, then each of its parameters present and non-empty, in order.
fn encode_from_query(query: &DorisQuery) -> Result<Vec<u8>, ApiError> {
    let kind = key_type(query)?;
    let mut params = Vec::with_capacity(kind.params.len());
    for &name in kind.params {
        let value = query.get(name);
        if value.is_empty() {
            return Err(invalid(format!("{name} is not given or empty")));
        }
        params.push(value);
    }
    Ok(kind.encode(&params))
}

/// `decode_key?key=<hex>[&unicode=false]`.
pub async fn decode_key(query: DorisQuery) -> Result<KeyText, ApiError> {
    let key = query.get("key");
    if key.is_empty() {
        return Err(invalid("no key to decode".into()));
    }
    let picture = keys::prettify(key, unicode(&query)).map_err(|e| match e {
        keys::RenderError::TooLarge { .. } => invalid(format!("failed to decode key, {e}, key={key}")),
        _ => invalid(format!("failed to decode key, key={key}")),
    })?;
    Ok(KeyText(picture))
}

/// `encode_key?key_type=<T>&<params>[&unicode=false]`: the picture, then the key as `\x..` bytes.
pub async fn encode_key(query: DorisQuery) -> Result<KeyText, ApiError> {
    let key = encode_from_query(&query)?;
    let hex = keys::hex(&key);
    let mut body = keys::prettify(&hex, unicode(&query))
        .map_err(|e| invalid(format!("failed to decode encoded key, {e}, key={hex}")))?;
    body.extend_from_slice(keys::fdb_escaped(&hex).as_bytes());
    body.push(b'\n');
    Ok(KeyText(body))
}

/// `get_value?key_type=<T>&(key=<hex> | <params>)[&consistency=stale]`: the stored record as
/// compact protobuf JSON. `key_type` is always required: it names the message.
pub async fn get_value(State(state): State<AppState>, query: DorisQuery) -> Result<KeyText, ApiError> {
    let hex_key = query.get("key");
    let key = if hex_key.is_empty() { encode_from_query(&query)? } else { keys::unhex(hex_key) };
    let message = key_type(&query)?.value;
    let consistency = query.consistency()?;
    let shown = keys::hex(&key);
    let lookup = replicate::read(&state, consistency, move |kv| Ok(meta::get_value(kv, message, &key)?)).await??;
    let json = match lookup {
        Lookup::Found(json) => json,
        Lookup::NotFound => {
            return Err(MetaError::new(ServiceCode::KvTxnGetErr, format!("kv not found, key={shown}")).into())
        }
        Lookup::Unparsable => {
            return Err(
                MetaError::new(ServiceCode::ProtobufParseErr, format!("failed to parse value, key={shown}")).into()
            )
        }
    };
    let mut out = String::new();
    write_compact(&mut out, &json);
    Ok(KeyText(out.into_bytes()))
}

/// protobuf's `MessageToJsonString` without whitespace: `{"a":"x","b":1}`, strings escaped as
/// protobuf escapes them (`<` `>` as `\u003c` `\u003e`, control and C1 characters as `\u00XX`).
fn write_compact(out: &mut String, value: &Json) {
    match value {
        Json::Null => out.push_str("null"),
        Json::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
        Json::Number(n) => out.push_str(n),
        Json::String(s) => write_string(out, s),
        Json::Array(items) => {
            out.push('[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                write_compact(out, item);
            }
            out.push(']');
        }
        Json::Object(fields) => {
            out.push('{');
            for (i, (k, v)) in fields.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                write_string(out, k);
                out.push(':');
                write_compact(out, v);
            }
            out.push('}');
        }
    }
}

fn write_string(out: &mut String, s: &str) {
    use std::fmt::Write as _;
    out.push('"');
    for c in s.chars() {
        let cp = u32::from(c);
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\u{8}' => out.push_str("\\b"),
            '\t' => out.push_str("\\t"),
            '\n' => out.push_str("\\n"),
            '\u{c}' => out.push_str("\\f"),
            '\r' => out.push_str("\\r"),
            '<' | '>' => {
                let _ = write!(out, "\\u{cp:04x}");
            }
            _ if cp < 0x20 || (0x7f..0xa0).contains(&cp) || protobuf_escapes(cp) => {
                if cp > 0xffff {
                    let v = cp - 0x1_0000;
                    let _ = write!(out, "\\u{:04x}\\u{:04x}", 0xd800 + (v >> 10), 0xdc00 + (v & 0x3ff));
                } else {
                    let _ = write!(out, "\\u{cp:04x}");
                }
            }
            _ => out.push(c),
        }
    }
    out.push('"');
}

/// Code points protobuf's JSON writer escapes "to prevent security bugs in javascript".
fn protobuf_escapes(cp: u32) -> bool {
    matches!(cp, 0xfeff | 0xfff9..=0xfffb | 0x00ad | 0x06dd | 0x070f | 0x17b4 | 0x17b5)
        || matches!(cp, 0x0600..=0x0603 | 0x200b..=0x200f | 0x2028..=0x202e | 0x2060..=0x2064 | 0x206a..=0x206f)
        || matches!(cp, 0xe0001 | 0x1d173..=0x1d17a | 0xe0020..=0xe007f)
}

#[cfg(test)]
mod test {
    use super::*;

    #[test]
    fn compact_json_escapes_like_protobuf() {
        let v = Json::Object(vec![
            ("a".into(), Json::string("x<y>&/\"\\\n\u{1}\u{7f}\u{85}中\u{2028}\u{e0001}")),
            ("n".into(), Json::Number("1".into())),
            ("l".into(), Json::Array(vec![Json::Bool(true), Json::Null])),
        ]);
        let mut out = String::new();
        write_compact(&mut out, &v);
        assert_eq!(
            out,
            "{\"a\":\"x\\u003cy\\u003e&/\\\"\\\\\\n\\u0001\\u007f\\u0085中\\u2028\\udb40\\udc01\",\"n\":1,\"l\":[true,null]}"
        );
    }
}
