//! Human-readable tables for any answer: an object's scalar fields as a two-column table, each
//! list of objects as a table of its own (one row per element, nested lists counted), secrets
//! masked. `--json` prints the server's answer instead.

use comfy_table::presets::UTF8_BORDERS_ONLY;
use comfy_table::Table;
use serde_json::Value;

/// Fields never printed in a table (`--json` shows what the server sent).
fn secret(key: &str) -> bool {
    matches!(key, "sk" | "secret" | "token" | "cluster_secret") || key.ends_with("_sk")
}

fn cell(key: &str, v: &Value) -> String {
    match v {
        _ if secret(key) => "****".to_string(),
        Value::Null => "-".to_string(),
        Value::String(s) => s.clone(),
        Value::Array(items) if items.iter().all(|i| !i.is_object() && !i.is_array()) => {
            items.iter().map(|i| cell(key, i)).collect::<Vec<_>>().join(", ")
        }
        Value::Array(items) => format!("{} {key}", items.len()),
        Value::Object(fields) if fields.values().all(|v| !v.is_object() && !v.is_array()) => {
            fields.iter().map(|(k, v)| format!("{k}={}", cell(k, v))).collect::<Vec<_>>().join(", ")
        }
        Value::Object(fields) => format!("{{{} fields}}", fields.len()),
        other => other.to_string(),
    }
}

fn table() -> Table {
    let mut t = Table::new();
    t.load_preset(UTF8_BORDERS_ONLY);
    t
}

/// Prints `value` (an envelope's `result`, or a whole answer) as tables.
pub fn result(value: &Value) {
    named("", value);
}

/// A nested value worth a table of its own: a list of objects, or an object holding more.
fn nested(v: &Value) -> Option<&[Value]> {
    match v {
        Value::Array(items) if items.iter().any(Value::is_object) => Some(items.as_slice()),
        Value::Object(inner) if inner.values().any(|v| v.is_object() || v.is_array()) => Some(std::slice::from_ref(v)),
        _ => None,
    }
}

/// `value` under the title `path` (`clusters[0].nodes`).
fn named(path: &str, value: &Value) {
    match value {
        Value::Object(fields) => {
            let mut scalars = table();
            for (k, v) in fields.iter().filter(|(_, v)| nested(v).is_none()) {
                scalars.add_row(vec![k.clone(), cell(k, v)]);
            }
            if !scalars.is_empty() {
                println!("{scalars}");
            }
            for (k, v) in fields {
                match (v, nested(v)) {
                    (Value::Object(_), Some(_)) => {
                        println!("{}:", join(path, k));
                        named(&join(path, k), v);
                    }
                    (_, Some(items)) => rows(&join(path, k), items),
                    _ => {}
                }
            }
        }
        Value::Array(items) if items.is_empty() => println!("(none)"),
        Value::Array(items) if items.iter().all(Value::is_object) => rows(path, items),
        other => println!("{}", cell("", other)),
    }
}

fn join(path: &str, key: &str) -> String {
    if path.is_empty() {
        key.to_string()
    } else {
        format!("{path}.{key}")
    }
}

/// One row per object (columns: keys in order of first appearance), then each element's own
/// nested lists under `path[i].field`.
fn rows(path: &str, items: &[Value]) {
    if !path.is_empty() {
        println!("{path}:");
    }
    let mut columns: Vec<&str> = Vec::new();
    for item in items {
        if let Value::Object(fields) = item {
            for k in fields.keys() {
                if !columns.contains(&k.as_str()) {
                    columns.push(k);
                }
            }
        }
    }
    let mut t = table();
    t.set_header(columns.clone());
    for item in items {
        t.add_row(columns.iter().map(|c| item.get(*c).map_or(String::new(), |v| cell(c, v))).collect::<Vec<_>>());
    }
    println!("{t}");
    for (i, item) in items.iter().enumerate() {
        if let Value::Object(fields) = item {
            for (k, v) in fields {
                let title = format!("{path}[{i}].{k}");
                match (v, nested(v)) {
                    (Value::Object(_), Some(_)) => {
                        println!("{title}:");
                        named(&title, v);
                    }
                    (_, Some(inner)) => rows(&title, inner),
                    _ => {}
                }
            }
        }
    }
}

#[cfg(test)]
mod test {
    use super::*;

    #[test]
    fn cells_mask_secrets_and_count_nested_lists() {
        assert_eq!(cell("sk", &Value::String("x".into())), "****");
        assert_eq!(cell("ak", &Value::String("x".into())), "x");
        assert_eq!(cell("mysql_user_name", &serde_json::json!(["a", "b"])), "a, b");
        assert_eq!(cell("nodes", &serde_json::json!([{"ip": "1"}, {"ip": "2"}])), "2 nodes");
        assert_eq!(cell("status", &serde_json::json!({"code": "OK", "msg": ""})), "code=OK, msg=");
    }
}
