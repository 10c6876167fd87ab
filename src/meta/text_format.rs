//! Protobuf text format (`DebugString` / `ShortDebugString`, protobuf 3.21) for the messages
//! Doris quotes in error texts. Flat and nested messages; strings C-escaped, non-ASCII bytes
//! as octal (`\344\270\255`), int64 bare, enums by name.

use super::schema::Kind;
use super::schema::MessageSchema;
use super::schema::ProtoMessage;
use crate::pbjson;
use crate::pbjson::json::Json;

/// `msg.DebugString()`: one field per line, nested messages indented by two spaces.
pub fn debug_string<T: ProtoMessage>(msg: &T) -> String {
    let mut out = String::new();
    write_message(&mut out, T::SCHEMA, &pbjson::encode(msg), Some(0));
    out
}

/// `msg.ShortDebugString()`: one line, fields separated by one space, no trailing space.
pub fn short_debug_string<T: ProtoMessage>(msg: &T) -> String {
    let mut out = String::new();
    write_message(&mut out, T::SCHEMA, &pbjson::encode(msg), None);
    out.trim_end().to_string()
}

fn write_message(out: &mut String, schema: &MessageSchema, json: &Json, indent: Option<usize>) {
    let Json::Object(entries) = json else { return };
    for (name, value) in entries {
        let Some(field) = schema.field(name) else { continue };
        let items: Vec<&Json> = match value {
            Json::Array(items) => items.iter().collect(),
            other => vec![other],
        };
        for item in items {
            if let Some(level) = indent {
                out.push_str(&" ".repeat(level));
            }
            out.push_str(name);
            match field.kind {
                Kind::Message(sub) => {
                    out.push_str(" {");
                    match indent {
                        Some(level) => {
                            out.push('\n');
                            write_message(out, sub, item, Some(level + 2));
                            out.push_str(&" ".repeat(level));
                            out.push_str("}\n");
                        }
                        None => {
                            out.push(' ');
                            write_message(out, sub, item, None);
                            out.push_str("} ");
                        }
                    }
                    continue;
                }
                Kind::String => {
                    out.push_str(": \"");
                    if let Json::String(s) = item {
                        c_escape(out, s);
                    }
                    out.push('"');
                }
                _ => {
                    out.push_str(": ");
                    match item {
                        Json::String(s) | Json::Number(s) => out.push_str(s),
                        Json::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
                        _ => {}
                    }
                }
            }
            out.push(if indent.is_some() { '\n' } else { ' ' });
        }
    }
}

fn c_escape(out: &mut String, s: &str) {
    for b in s.bytes() {
        match b {
            b'\n' => out.push_str("\\n"),
            b'\r' => out.push_str("\\r"),
            b'\t' => out.push_str("\\t"),
            b'"' => out.push_str("\\\""),
            b'\'' => out.push_str("\\'"),
            b'\\' => out.push_str("\\\\"),
            0x20..=0x7e => out.push(char::from(b)),
            _ => out.push_str(&format!("\\{b:03o}")),
        }
    }
}

#[cfg(test)]
mod test {
    use super::super::pb::GetClusterRequest;
    use super::super::pb::NodeInfoPb;
    use super::super::pb::NodeType;
    use super::*;

    #[test]
    fn short_form_matches_protobuf_3_21() {
        let r = GetClusterRequest {
            cloud_unique_id: Some("1:i:x".into()),
            cluster_id: Some("c9".into()),
            ..Default::default()
        };
        assert_eq!(short_debug_string(&r), r#"cloud_unique_id: "1:i:x" cluster_id: "c9""#);
        let r = GetClusterRequest { cluster_name: Some("中".into()), ..Default::default() };
        assert_eq!(short_debug_string(&r), "cluster_name: \"\\344\\270\\255\"");
    }

    #[test]
    fn long_form_has_one_field_per_line() {
        let n = NodeInfoPb {
            cloud_unique_id: Some("1:i:x".into()),
            ip: Some("1.2.3.4".into()),
            ctime: Some(5),
            edit_log_port: Some(9010),
            node_type: Some(NodeType::FeMaster),
            ..Default::default()
        };
        assert_eq!(
            debug_string(&n),
            "cloud_unique_id: \"1:i:x\"\nip: \"1.2.3.4\"\nctime: 5\nedit_log_port: 9010\nnode_type: FE_MASTER\n"
        );
    }
}
