//! `key=value` arguments into protobuf JSON, typed by the route's [`MessageSchema`]: the same
//! description the server parses with, so `ctl` can set any field without knowing it, and a
//! misspelt field or a bad enum name is refused before anything is sent.

use serde_json::Map;
use serde_json::Value;

use super::CtlError;
use crate::meta::schema::Kind;
use crate::meta::schema::Label;
use crate::meta::schema::MessageSchema;

/// Sets `path` (`cluster.cluster_name`, `properties.k`, `mysql_user_name`) to `raw` in `object`,
/// a message of `schema`. Repeated scalars append; map fields take the key after the field name.
pub fn set(object: &mut Map<String, Value>, schema: &MessageSchema, path: &str, raw: &str) -> Result<(), CtlError> {
    let (head, rest) = match path.split_once('.') {
        Some((h, r)) => (h, Some(r)),
        None => (path, None),
    };
    let field = schema.fields.iter().find(|f| f.name() == head).ok_or_else(|| {
        let names: Vec<&str> = schema.fields.iter().map(|f| f.name()).collect();
        usage(format!("{} has no field {head:?} (fields: {})", schema.full_name, names.join(", ")))
    })?;
    match (field.label, field.kind, rest) {
        (Label::Map, kind, Some(key)) => {
            let map = object.entry(head).or_insert_with(|| Value::Object(Map::new()));
            if let Value::Object(map) = map {
                map.insert(key.to_string(), scalar(kind, raw, path)?);
            }
            Ok(())
        }
        (Label::Map, _, None) => Err(usage(format!("{path} is a map: give {path}.KEY=VALUE"))),
        (Label::Repeated, Kind::Message(_), _) => {
            Err(usage(format!("{path} is a list of messages: use the command's own option for it")))
        }
        (_, Kind::Message(inner), Some(rest)) => {
            let child = object.entry(head).or_insert_with(|| Value::Object(Map::new()));
            match child {
                Value::Object(child) => set(child, inner, rest, raw),
                _ => Err(usage(format!("{head} is already set to a value"))),
            }
        }
        (_, Kind::Message(_), None) => Err(usage(format!("{path} is a message: set its fields as {path}.FIELD=VALUE"))),
        (Label::Repeated, kind, None) => {
            let list = object.entry(head).or_insert_with(|| Value::Array(Vec::new()));
            if let Value::Array(list) = list {
                list.push(scalar(kind, raw, path)?);
            }
            Ok(())
        }
        (_, kind, None) => {
            object.insert(head.to_string(), scalar(kind, raw, path)?);
            Ok(())
        }
        (_, _, Some(_)) => Err(usage(format!("{head} is not a message: {path} cannot be set"))),
    }
}

/// A message built from `k=v` pairs, each typed by `schema`.
pub fn message<'a>(
    schema: &MessageSchema,
    pairs: impl IntoIterator<Item = &'a str>,
) -> Result<Map<String, Value>, CtlError> {
    let mut object = Map::new();
    for pair in pairs {
        let (path, value) = pair.split_once('=').ok_or_else(|| usage(format!("expected FIELD=VALUE, got {pair:?}")))?;
        set(&mut object, schema, path.trim(), value)?;
    }
    Ok(object)
}

/// A message from one comma-separated `k=v,k=v` spec (a node, an object store).
pub fn spec(schema: &MessageSchema, text: &str) -> Result<Value, CtlError> {
    Ok(Value::Object(message(schema, text.split(',').filter(|p| !p.trim().is_empty()))?))
}

fn scalar(kind: Kind, raw: &str, path: &str) -> Result<Value, CtlError> {
    match kind {
        Kind::String => Ok(Value::String(raw.to_string())),
        Kind::Bool => match raw {
            "true" | "1" => Ok(Value::Bool(true)),
            "false" | "0" => Ok(Value::Bool(false)),
            _ => Err(usage(format!("{path} is a bool: true or false, got {raw:?}"))),
        },
        Kind::Int32 | Kind::Int64 | Kind::Uint64 => {
            raw.parse::<i64>().map(Value::from).map_err(|_| usage(format!("{path} is an integer, got {raw:?}")))
        }
        Kind::Enum(e) => {
            let upper = raw.to_ascii_uppercase();
            e.values
                .iter()
                .find(|(name, _)| *name == raw || name.to_ascii_uppercase() == upper)
                .map(|(name, _)| Value::String((*name).to_string()))
                .ok_or_else(|| {
                    let names: Vec<&str> = e.values.iter().map(|v| v.0).collect();
                    usage(format!("{path}: {raw:?} is not one of {}", names.join(", ")))
                })
        }
        Kind::Message(_) => Err(usage(format!("{path} is a message"))),
    }
}

fn usage(msg: String) -> CtlError {
    CtlError::Usage(msg)
}

#[cfg(test)]
mod test {
    use super::*;
    use crate::meta::pb::AlterClusterRequest;
    use crate::meta::pb::NodeInfoPb;
    use crate::meta::schema::ProtoMessage as _;
    use crate::meta::AlterInstanceRequest;

    #[test]
    fn fields_are_typed_by_the_schema() {
        let m = message(
            AlterClusterRequest::SCHEMA,
            ["instance_id=i1", "cluster.cluster_id=c1", "cluster.type=compute", "cluster.mysql_user_name=a"],
        )
        .unwrap();
        assert_eq!(
            Value::Object(m),
            serde_json::json!({"instance_id": "i1", "cluster": {"cluster_id": "c1", "type": "COMPUTE", "mysql_user_name": ["a"]}})
        );
        let node =
            spec(NodeInfoPb::SCHEMA, "ip=10.0.0.1,heartbeat_port=9050,node_type=fe_master,is_smooth_upgrade=true")
                .unwrap();
        assert_eq!(
            node,
            serde_json::json!({"ip": "10.0.0.1", "heartbeat_port": 9050, "node_type": "FE_MASTER", "is_smooth_upgrade": true})
        );
        let props = message(AlterInstanceRequest::SCHEMA, ["properties.k=v"]).unwrap();
        assert_eq!(Value::Object(props), serde_json::json!({"properties": {"k": "v"}}));
    }

    #[test]
    fn mistakes_are_refused_with_the_reason() {
        let e = |pairs: &[&str]| message(AlterClusterRequest::SCHEMA, pairs.iter().copied()).unwrap_err().to_string();
        assert!(e(&["instanceid=x"]).contains("has no field \"instanceid\""), "{}", e(&["instanceid=x"]));
        assert!(e(&["cluster.type=big"]).contains("is not one of SQL, COMPUTE, VIRTUAL"));
        assert!(e(&["cluster.nodes=x"]).contains("list of messages"));
        assert!(e(&["cluster=x"]).contains("is a message"));
        assert!(e(&["nothing"]).contains("expected FIELD=VALUE"));
        assert!(spec(NodeInfoPb::SCHEMA, "heartbeat_port=x").unwrap_err().to_string().contains("is an integer"));
    }
}
