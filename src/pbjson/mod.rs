//! Protobuf-JSON mapping, driven by the message schemas of `meta::schema`: shared by the HTTP layer
//! (request bodies, replies) and the domain (messages that quote a request), so neither depends on
//! the other for it. [`json`] is the lenient JSON dialect underneath.
//!
//! Input ([`decode`]): what protobuf 3.21's `JsonStringToMessage` with `ignore_unknown_fields`
//! accepts (transport §2): unknown fields dropped at any depth, lowerCamelCase names, `null` =
//! unset, ints from strings or integral floats, bools from `"true"`/`"false"`, a scalar for a
//! repeated field, duplicate keys (last scalar wins, messages merge, lists concatenate — the binary
//! merge semantics protobuf ends up with). Type errors name the field path as protobuf does:
//! `(vault.obj_info.ak): invalid value 1 for type TYPE_STRING`. When several fields are wrong the
//! last one reported wins, as protobuf's error listener overwrites its status.
//!
//! Deviation by profile: an unknown enum name or number is an error naming the allowed values
//! (protobuf's lenient pass would silently drop it).
//!
//! Output ([`encode`]): `proto_to_json` — fields in number order, unset fields omitted, empty
//! repeated/map fields omitted, int64/uint64 as strings, int32 as numbers, enums by name.

pub mod json;

use serde_json::Map;
use serde_json::Value;

use crate::meta::schema::FieldSchema;
use crate::meta::schema::Kind;
use crate::meta::schema::Label;
use crate::meta::schema::MessageSchema;
use crate::meta::schema::ProtoMessage;
use json::Json;

/// A request body that is JSON but not a valid message; text as protobuf's status message.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct FieldError(pub String);

/// Which JSON ↔ protobuf mapping: Doris's HTTP routes use protobuf's own JSON parser and
/// `proto_to_json`; brpc's built-in HTTP access to RPC methods uses its `json2pb`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Dialect {
    /// protobuf 3.21 `JsonStringToMessage` (lenient pass) / `proto_to_json`.
    Protobuf,
    /// brpc `json2pb` (txn-tablet-rpc §4.2/§4.3): exact proto names only; a value of the wrong
    /// type for an optional singular field is dropped, one inside a repeated field fails the
    /// request; int32/bool only from their JSON type; int64 printed as numbers.
    Brpc,
}

/// Converts parsed JSON into message `T`.
pub fn decode<T: ProtoMessage>(json: &Json) -> Result<T, FieldError> {
    decode_in(json, Dialect::Protobuf)
}

/// Converts parsed JSON into message `T` as brpc's `json2pb` does; the error is brpc's
/// `Fail to parse http json body as <message>: <detail>`.
pub fn decode_brpc<T: ProtoMessage>(json: &Json) -> Result<T, FieldError> {
    decode_in::<T>(json, Dialect::Brpc)
        .map_err(|e| FieldError(format!("Fail to parse http json body as {}: {}", T::SCHEMA.full_name, e.0)))
}

fn decode_in<T: ProtoMessage>(json: &Json, dialect: Dialect) -> Result<T, FieldError> {
    let Json::Object(entries) = json else {
        return Err(FieldError(match dialect {
            Dialect::Protobuf => ": Root element must be a message.".into(),
            Dialect::Brpc => "The input is not a json object".into(),
        }));
    };
    let mut last_error = None;
    let map = message(T::SCHEMA, entries, &Path::Root, &mut last_error, dialect);
    if let Some(e) = last_error {
        return Err(e);
    }
    serde_json::from_value(Value::Object(map))
        .map_err(|e| FieldError(format!(": {} does not fit its schema: {e}", T::SCHEMA.full_name)))
}

/// Renders message `T` as `proto_to_json` would.
pub fn encode<T: ProtoMessage>(msg: &T) -> Json {
    encode_in(msg, Dialect::Protobuf)
}

/// Renders message `T` as brpc's `ProtoMessageToJson` does for an RPC reply: like [`encode`]
/// but int64 as JSON numbers.
pub fn encode_brpc<T: ProtoMessage>(msg: &T) -> Json {
    encode_in(msg, Dialect::Brpc)
}

fn encode_in<T: ProtoMessage>(msg: &T, dialect: Dialect) -> Json {
    match serde_json::to_value(msg) {
        Ok(Value::Object(map)) => render_message(T::SCHEMA, &map, dialect),
        // Every ProtoMessage serializes to an object; anything else would be a schema bug.
        _ => Json::Object(Vec::new()),
    }
}

/// Where a value sits in the request. Rendered only when an error names it, so a valid body
/// costs no path strings.
#[derive(Clone, Copy)]
enum Path<'a> {
    Root,
    Field(&'a Path<'a>, &'static str),
    Index(&'a Path<'a>, usize),
    Key(&'a Path<'a>, &'a str),
}

impl std::fmt::Display for Path<'_> {
    /// protobuf's spelling: `obj_info.provider`, `nodes[1]`, `properties["k"]`.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Path::Root => Ok(()),
            Path::Field(Path::Root, name) => f.write_str(name),
            Path::Field(parent, name) => write!(f, "{parent}.{name}"),
            Path::Index(parent, i) => write!(f, "{parent}[{i}]"),
            Path::Key(parent, k) => write!(f, "{parent}[\"{k}\"]"),
        }
    }
}

fn loc(path: &Path) -> String {
    match path {
        Path::Root => String::new(),
        p => format!("({p})"),
    }
}

/// protobuf `InvalidName`: `"(<parent>) <name>: <message>"`.
fn invalid_name(parent: &Path, name: &str, message: &str) -> FieldError {
    let l = loc(parent);
    let sep = if l.is_empty() { "" } else { " " };
    FieldError(format!("{l}{sep}{name}: {message}"))
}

/// protobuf `InvalidValue`: `"(<path>): invalid value <v> for type <T>"`.
fn invalid_value(path: &Path, kind: Kind, value: &Json) -> FieldError {
    FieldError(format!("{}: invalid value {} for type {}", loc(path), show(value), kind.type_name()))
}

/// How protobuf prints an offending value: strings quoted (raw), numbers as doubles or ints.
fn show(value: &Json) -> String {
    match value {
        Json::String(s) => format!("\"{s}\""),
        Json::Number(n) if n.contains(['.', 'e', 'E']) => {
            n.parse::<f64>().map_or_else(|_| n.clone(), |f| f.to_string())
        }
        other => other.to_compact(),
    }
}

fn message(
    schema: &'static MessageSchema,
    entries: &[(String, Json)],
    path: &Path,
    err: &mut Option<FieldError>,
    dialect: Dialect,
) -> Map<String, Value> {
    let mut out = Map::new();
    for (key, value) in entries {
        let field = match dialect {
            Dialect::Protobuf => schema.field(key),
            Dialect::Brpc => schema.fields.iter().find(|f| f.name() == key),
        };
        let Some(field) = field else { continue };
        if matches!(value, Json::Null) {
            continue;
        }
        let fpath = Path::Field(path, field.name());
        match field.label {
            Label::Repeated => {
                let items: Vec<&Json> = match value {
                    Json::Array(items) => items.iter().collect(),
                    _ if dialect == Dialect::Brpc => {
                        *err = Some(FieldError(format!("Invalid value for repeated field `{fpath}'")));
                        continue;
                    }
                    single => vec![single],
                };
                let slot = out.entry(field.name()).or_insert_with(|| Value::Array(Vec::new()));
                for (i, item) in items.into_iter().enumerate() {
                    if matches!(item, Json::Null) {
                        continue;
                    }
                    let ipath = Path::Index(&fpath, i);
                    if let (Some(v), Value::Array(list)) = (single(field, item, &ipath, err, dialect), &mut *slot) {
                        list.push(v);
                    }
                }
            }
            Label::Map => {
                let Json::Object(pairs) = value else {
                    *err = Some(invalid_value(&fpath, field.kind, value));
                    continue;
                };
                let slot = out.entry(field.name()).or_insert_with(|| Value::Object(Map::new()));
                for (k, item) in pairs {
                    let ipath = Path::Key(&fpath, k);
                    if let (Some(v), Value::Object(m)) = (single(field, item, &ipath, err, dialect), &mut *slot) {
                        m.insert(k.clone(), v);
                    }
                }
            }
            Label::Optional | Label::Required => {
                if matches!(value, Json::Array(_)) {
                    if dialect == Dialect::Protobuf {
                        *err = Some(invalid_name(path, key, "Proto field is not repeating, cannot start list."));
                    }
                    continue;
                }
                // json2pb drops a mistyped optional field and goes on; its error is not reported.
                // Errors inside a nested message are the nested fields' own.
                let nested = matches!((field.kind, value), (Kind::Message(_), Json::Object(_)));
                let mut field_err = None;
                let v = single(field, value, &fpath, if nested { &mut *err } else { &mut field_err }, dialect);
                if let Some(e) = field_err {
                    if dialect == Dialect::Protobuf || field.label == Label::Required {
                        *err = Some(e);
                    }
                }
                let Some(v) = v else { continue };
                match (out.get_mut(field.name()), v) {
                    (Some(Value::Object(prev)), Value::Object(next)) => merge(prev, next),
                    (_, v) => {
                        out.insert(field.name().to_string(), v);
                    }
                }
            }
        }
    }
    for field in schema.fields {
        if field.label == Label::Required && !out.contains_key(field.name()) {
            *err = Some(FieldError(format!("{}: missing field {}", loc(path), field.name())));
        }
    }
    out
}

/// Protobuf merge: scalars replaced, lists concatenated, messages merged recursively.
fn merge(into: &mut Map<String, Value>, from: Map<String, Value>) {
    for (k, v) in from {
        match (into.get_mut(&k), v) {
            (Some(Value::Object(a)), Value::Object(b)) => merge(a, b),
            (Some(Value::Array(a)), Value::Array(b)) => a.extend(b),
            (_, v) => {
                into.insert(k, v);
            }
        }
    }
}

fn single(
    field: &FieldSchema,
    value: &Json,
    path: &Path,
    err: &mut Option<FieldError>,
    dialect: Dialect,
) -> Option<Value> {
    let kind = field.kind;
    let bad = |err: &mut Option<FieldError>| {
        *err = Some(match dialect {
            Dialect::Protobuf => invalid_value(path, kind, value),
            Dialect::Brpc => FieldError(format!(
                "Invalid value `{}' for field `{path}' which SHOULD be {}",
                show(value),
                kind.type_name()
            )),
        });
        None
    };
    let brpc = dialect == Dialect::Brpc;
    match (kind, value) {
        (Kind::String, Json::String(s)) => Some(Value::String(s.clone())),
        (Kind::Bool, Json::Bool(b)) => Some(Value::Bool(*b)),
        (Kind::Bool | Kind::Int32, Json::String(_)) if brpc => bad(err),
        (Kind::Bool, Json::String(s)) if s == "true" || s == "false" => Some(Value::Bool(s == "true")),
        (Kind::Int32, Json::Number(t) | Json::String(t)) => match integer(t).and_then(|n| i32::try_from(n).ok()) {
            Some(n) => Some(Value::from(n)),
            None => bad(err),
        },
        (Kind::Int64, Json::Number(t) | Json::String(t)) => match integer(t).and_then(|n| i64::try_from(n).ok()) {
            Some(n) => Some(Value::from(n)),
            None => bad(err),
        },
        (Kind::Uint64, Json::Number(t) | Json::String(t)) => match integer(t).and_then(|n| u64::try_from(n).ok()) {
            Some(n) => Some(Value::from(n)),
            None => bad(err),
        },
        (Kind::Enum(e), Json::String(name)) if e.has_name(name) => Some(Value::String(name.clone())),
        (Kind::Enum(e), Json::String(t) | Json::Number(t)) => {
            match integer(t).and_then(|n| i64::try_from(n).ok()).and_then(|n| e.name_of(n)) {
                Some(name) => Some(Value::String(name.to_string())),
                None => {
                    *err = Some(FieldError(format!(
                        "{}: invalid value {} for type {}, allowed values: {}",
                        loc(path),
                        show(value),
                        kind.type_name(),
                        e.names()
                    )));
                    None
                }
            }
        }
        (Kind::Message(m), Json::Object(entries)) => Some(Value::Object(message(m, entries, path, err, dialect))),
        _ => bad(err),
    }
}

/// An integer from protobuf-accepted text: a decimal integer, or a float with an integral value
/// (`9050.0`, `9.05e3`). No surrounding spaces.
fn integer(text: &str) -> Option<i128> {
    if text.is_empty() || text.trim() != text {
        return None;
    }
    if let Ok(n) = text.parse::<i128>() {
        return Some(n);
    }
    let f = text.parse::<f64>().ok()?;
    // Beyond ±2^63 the float cannot be an int64/uint64 we accept anyway; the cast saturates.
    #[allow(clippy::cast_possible_truncation)]
    let n = f as i128;
    (f.is_finite() && f.fract() == 0.0 && (n as f64) == f).then_some(n)
}

fn render_message(schema: &'static MessageSchema, map: &Map<String, Value>, dialect: Dialect) -> Json {
    let mut out = Vec::new();
    for field in schema.fields {
        let Some(value) = map.get(field.name()) else { continue };
        let rendered = match (field.label, value) {
            (_, Value::Null) => continue,
            (Label::Repeated, Value::Array(items)) => {
                if items.is_empty() {
                    continue;
                }
                Json::Array(items.iter().map(|v| render_single(field.kind, v, dialect)).collect())
            }
            (Label::Map, Value::Object(m)) => {
                if m.is_empty() {
                    continue;
                }
                Json::Object(m.iter().map(|(k, v)| (k.clone(), render_single(field.kind, v, dialect))).collect())
            }
            (_, v) => render_single(field.kind, v, dialect),
        };
        out.push((field.name().to_string(), rendered));
    }
    Json::Object(out)
}

fn render_single(kind: Kind, value: &Value, dialect: Dialect) -> Json {
    match (kind, value) {
        (Kind::Int64 | Kind::Uint64, Value::Number(n)) if dialect == Dialect::Protobuf => Json::String(n.to_string()),
        (Kind::Message(m), Value::Object(map)) => render_message(m, map, dialect),
        (_, Value::Number(n)) => Json::Number(n.to_string()),
        (_, Value::String(s)) => Json::String(s.clone()),
        (_, Value::Bool(b)) => Json::Bool(*b),
        (_, Value::Null) => Json::Null,
        (_, Value::Array(items)) => Json::Array(items.iter().map(|v| render_single(kind, v, dialect)).collect()),
        (_, Value::Object(map)) => {
            Json::Object(map.iter().map(|(k, v)| (k.clone(), render_single(kind, v, dialect))).collect())
        }
    }
}

#[cfg(test)]
mod test {
    use super::json::parse;
    use super::*;
    use crate::meta::pb::ClusterPb;
    use crate::meta::pb::CreateInstanceRequest;
    use crate::meta::pb::InstanceInfoPb;
    use crate::meta::pb::InstanceStatus;
    use crate::meta::pb::ObjectStoreInfoPb;
    use crate::meta::pb::Provider;

    fn req(body: &str) -> Result<CreateInstanceRequest, String> {
        decode::<CreateInstanceRequest>(&parse(body.as_bytes()).map_err(|e| e.0)?).map_err(|e| e.0)
    }

    fn cluster(body: &str) -> Result<ClusterPb, String> {
        decode::<ClusterPb>(&parse(body.as_bytes()).unwrap()).map_err(|e| e.0)
    }

    #[test]
    fn lenient_acceptance_rows() {
        // Rows of transport §2's table that must be accepted.
        let r = req("{'instance_id':'x', 'foo': {'bar': [1, {}]}, instanceId: 'y', 'user_id': null,}").unwrap();
        assert_eq!(r.instance_id.as_deref(), Some("y"));
        assert_eq!(r.user_id, None);
        // json_name is exactly lowerCamelCase of the proto name; near misses are unknown keys.
        let r = req("{'instanceid':'a','instanceIdx':'b','instance_Id':'c','userId':'u','sseEnabled':true}").unwrap();
        assert_eq!((r.instance_id, r.user_id.as_deref(), r.sse_enabled), (None, Some("u"), Some(true)));
        assert_eq!(req("{}").unwrap(), CreateInstanceRequest::default());
        let r = req(r#"{"obj_info":{"provider":"COS"},"sse_enabled":"true"}"#).unwrap();
        assert_eq!(r.obj_info.unwrap().provider, Some(Provider::Cos));
        assert_eq!(r.sse_enabled, Some(true));
        assert_eq!(req(r#"{"obj_info":{"provider":2}}"#).unwrap().obj_info.unwrap().provider, Some(Provider::Cos));
        assert_eq!(req(r#"{"obj_info":{"provider":"1"}}"#).unwrap().obj_info.unwrap().provider, Some(Provider::S3));
        let r = req(r#"{"obj_info":{"ctime":"12","mtime":9050.0}}"#).unwrap().obj_info.unwrap();
        assert_eq!((r.ctime, r.mtime), (Some(12), Some(9050)));
        let c = cluster(r#"{"mysql_user_name":"jack","nodes":[{"heartbeat_port":"9050"},{"heartbeat_port":9.05e3}]}"#)
            .unwrap();
        assert_eq!(c.mysql_user_name, vec!["jack".to_string()]);
        assert_eq!(c.nodes[1].heartbeat_port, Some(9050));
    }

    #[test]
    fn duplicate_keys_merge_like_protobuf() {
        let r = req(r#"{"instance_id":"a","instance_id":"b","obj_info":{"ak":"x"},"obj_info":{"sk":"y"}}"#).unwrap();
        assert_eq!(r.instance_id.as_deref(), Some("b"));
        let o = r.obj_info.unwrap();
        assert_eq!((o.ak.as_deref(), o.sk.as_deref()), (Some("x"), Some("y")));
    }

    #[test]
    fn type_errors_name_the_path() {
        assert_eq!(req("null").unwrap_err(), ": Root element must be a message.");
        assert_eq!(req("[]").unwrap_err(), ": Root element must be a message.");
        assert_eq!(req("1").unwrap_err(), ": Root element must be a message.");
        assert_eq!(req(r#"{"instance_id":123}"#).unwrap_err(), "(instance_id): invalid value 123 for type TYPE_STRING");
        assert_eq!(
            req(r#"{"foo":1,"instance_id":1.5}"#).unwrap_err(),
            "(instance_id): invalid value 1.5 for type TYPE_STRING"
        );
        assert_eq!(req(r#"{"sse_enabled":1}"#).unwrap_err(), "(sse_enabled): invalid value 1 for type TYPE_BOOL");
        assert_eq!(
            req(r#"{"obj_info":[]}"#).unwrap_err(),
            "obj_info: Proto field is not repeating, cannot start list."
        );
        assert_eq!(
            req(r#"{"vault":{"obj_info":[]}}"#).unwrap_err(),
            "(vault) obj_info: Proto field is not repeating, cannot start list."
        );
        assert_eq!(
            req(r#"{"obj_info":"x"}"#).unwrap_err(),
            "(obj_info): invalid value \"x\" for type type.googleapis.com/doris.cloud.ObjectStoreInfoPB"
        );
        assert_eq!(
            cluster(r#"{"nodes":[{"heartbeat_port":9050.5}]}"#).unwrap_err(),
            "(nodes[0].heartbeat_port): invalid value 9050.5 for type TYPE_INT32"
        );
        assert_eq!(
            cluster(r#"{"nodes":[{"heartbeat_port":2147483648}]}"#).unwrap_err(),
            "(nodes[0].heartbeat_port): invalid value 2147483648 for type TYPE_INT32"
        );
        assert_eq!(
            req(r#"{"vault":{"hdfs_info":{"build_conf":{"hdfs_confs":[{"key":"k"}]}}}}"#).unwrap_err(),
            "(vault.hdfs_info.build_conf.hdfs_confs[0]): missing field value"
        );
    }

    #[test]
    fn unknown_enum_values_are_refused_with_the_allowed_names() {
        let e = req(r#"{"obj_info":{"provider":"s3"}}"#).unwrap_err();
        assert_eq!(
            e,
            "(obj_info.provider): invalid value \"s3\" for type type.googleapis.com/doris.cloud.ObjectStoreInfoPB.Provider, \
             allowed values: UNKONWN, OSS, S3, COS, OBS, BOS, GCP, AZURE, TOS"
        );
        assert!(req(r#"{"obj_info":{"provider":42}}"#)
            .unwrap_err()
            .starts_with("(obj_info.provider): invalid value 42"));
        assert!(cluster(r#"{"cluster_status":"STOPPED"}"#).unwrap_err().contains("allowed values: UNKNOWN, NORMAL,"));
    }

    #[test]
    fn render_follows_proto_to_json() {
        let inst = InstanceInfoPb {
            user_id: Some(String::new()),
            instance_id: Some("i1".into()),
            ctime: Some(1_662_543_056),
            obj_info: vec![ObjectStoreInfoPb {
                id: Some("1".into()),
                provider: Some(Provider::Bos),
                sse_enabled: Some(false),
                ..Default::default()
            }],
            status: Some(InstanceStatus::Normal),
            enable_storage_vault: Some(false),
            ..Default::default()
        };
        assert_eq!(
            encode(&inst).to_compact(),
            r#"{"user_id":"","instance_id":"i1","ctime":"1662543056","obj_info":[{"id":"1","provider":"BOS","sse_enabled":false}],"status":"NORMAL","enable_storage_vault":false}"#
        );
        let c = ClusterPb {
            nodes: vec![crate::meta::pb::NodeInfoPb { heartbeat_port: Some(9050), ..Default::default() }],
            ..Default::default()
        };
        assert_eq!(encode(&c).to_compact(), r#"{"nodes":[{"heartbeat_port":9050}]}"#);
    }

    #[test]
    fn brpc_dialect_drops_mistyped_optionals_and_refuses_mistyped_lists() {
        use crate::meta::pb_txn::BeginTxnRequest;
        use crate::meta::pb_txn::GetTxnRequest;
        let get = |body: &str| decode_brpc::<GetTxnRequest>(&parse(body.as_bytes()).unwrap()).map_err(|e| e.0);
        // int64 from a string; a string given a number is dropped; camelCase names are unknown.
        let r = get(r#"{"txn_id":"12","label":5,"cloudUniqueId":"x","db_id":3}"#).unwrap();
        assert_eq!((r.txn_id, r.label, r.cloud_unique_id, r.db_id), (Some(12), None, None, Some(3)));
        let begin = |body: &str| decode_brpc::<BeginTxnRequest>(&parse(body.as_bytes()).unwrap()).map_err(|e| e.0);
        let e = begin(r#"{"txn_info":{"table_ids":"x"}}"#).unwrap_err();
        assert_eq!(e, "Fail to parse http json body as doris.cloud.BeginTxnRequest: Invalid value for repeated field `txn_info.table_ids'");
        let e = begin(r#"{"txn_info":{"table_ids":[1,"a"]}}"#).unwrap_err();
        assert!(e.contains("`txn_info.table_ids[1]' which SHOULD be TYPE_INT64"), "{e}");
        // Replies print int64 as numbers, unlike proto_to_json.
        let r = get(r#"{"txn_id":12}"#).unwrap();
        assert_eq!(encode_brpc(&r).to_compact(), r#"{"txn_id":12}"#);
        assert_eq!(encode(&r).to_compact(), r#"{"txn_id":"12"}"#);
    }
}
