//! Wire size of a message: protobuf's `ByteSizeLong`, computed from the schema. Doris bounds
//! some request parts by their binary size (`add_obj_info`'s 1 KiB `obj`, endpoints §8 row 3).

use serde_json::Value;

use super::schema::Kind;
use super::schema::Label;
use super::schema::MessageSchema;
use super::schema::ProtoMessage;

/// protobuf `ByteSizeLong` of a message: the length of its binary encoding.
pub fn proto_size<T: ProtoMessage>(msg: &T) -> usize {
    match serde_json::to_value(msg) {
        Ok(Value::Object(map)) => message_size(T::SCHEMA, &map),
        _ => 0,
    }
}

fn message_size(schema: &MessageSchema, map: &serde_json::Map<String, Value>) -> usize {
    let mut total = 0;
    for field in schema.fields {
        let Some(value) = map.get(field.name()) else { continue };
        let tag = varint_len(u64::from(field.number) << 3);
        match (field.label, value) {
            (_, Value::Null) => {}
            (Label::Repeated, Value::Array(items)) => {
                total += items.iter().map(|v| tag + value_size(field.kind, v)).sum::<usize>();
            }
            (Label::Map, Value::Object(entries)) => {
                for (k, v) in entries {
                    let entry = 1 + len_prefixed(k.len()) + 1 + value_size(field.kind, v);
                    total += tag + len_prefixed(entry);
                }
            }
            _ => total += tag + value_size(field.kind, value),
        }
    }
    total
}

fn value_size(kind: Kind, value: &Value) -> usize {
    match (kind, value) {
        (Kind::String, Value::String(s)) => len_prefixed(s.len()),
        (Kind::Bool, _) => 1,
        // Negative int32/int64/enum values take ten bytes (sign-extended varint).
        (Kind::Int32 | Kind::Int64 | Kind::Uint64, Value::Number(n)) => n.as_u64().map_or(10, varint_len),
        (Kind::Enum(e), Value::String(name)) => {
            let number = e.values.iter().find(|(n, _)| n == name).map_or(0, |(_, v)| *v);
            u64::try_from(number).map_or(10, varint_len)
        }
        (Kind::Message(m), Value::Object(map)) => len_prefixed(message_size(m, map)),
        _ => 0,
    }
}

fn len_prefixed(len: usize) -> usize {
    varint_len(u64::try_from(len).unwrap_or(u64::MAX)) + len
}

fn varint_len(mut v: u64) -> usize {
    let mut n = 1;
    while v >= 0x80 {
        v >>= 7;
        n += 1;
    }
    n
}

#[cfg(test)]
mod test {
    use super::super::pb::ObjectStoreInfoPb;
    use super::super::pb::Provider;
    use super::super::secret;
    use super::*;

    #[test]
    fn proto_size_matches_protobuf() {
        // tag(1) + len(1) + 3 bytes; int64 300 → tag + 2-byte varint; negative enum → 10 bytes.
        let o = ObjectStoreInfoPb { ak: Some("abc".into()), ..Default::default() };
        assert_eq!(proto_size(&o), 5);
        let o = ObjectStoreInfoPb { ctime: Some(300), provider: Some(Provider::Unkonwn), ..Default::default() };
        assert_eq!(proto_size(&o), 3 + 11);
        let o = ObjectStoreInfoPb { encryption_info: Some(secret::encryption_info()), ..Default::default() };
        // encryption_info: tag + len + ("AES_256_ECB": 1+1+11) + (key_id 1: 1+1)
        assert_eq!(proto_size(&o), 2 + 13 + 2);
    }
}
