//! Key routes against a real three-node cluster (endpoints §18.3–§18.5): `decode_key`'s picture
//! byte for byte (unicode and ASCII), `encode_key` for Doris's key types, `get_value` of the records
//! we store under Doris's own keys, and every refusal the spec lists. Requests rotate across
//! members; reads follow writes on a different member.

mod common;

use common::Cluster;
use serde_json::Value;

fn envelope(code: &str, msg: &str) -> String {
    format!("{{\n    \"code\": \"{code}\",\n    \"msg\": \"{msg}\"\n}}\n")
}

const INSTANCE_KEY: &str = "0110696e7374616e636500011072656772657373696f6e5f696e7374616e6365300001";

fn example_1_unicode() -> String {
    concat!(
        "┌───────────────────────── 0. key space: 1\n",
        "│ ┌─────────────────────── 1. instance\n",
        "│ │                     ┌─ 2. regression_instance0\n",
        "│ │                     │ \n",
        "▼ ▼                     ▼ \n",
        "0110696e7374616e636500011072656772657373696f6e5f696e7374616e6365300001\n",
        "\n",
    )
    .to_string()
}

fn example_1_ascii() -> String {
    concat!(
        "/------------------------- 0. key space: 1\n",
        "| /----------------------- 1. instance\n",
        "| |                     /- 2. regression_instance0\n",
        "| |                     | \n",
        "v v                     v \n",
        "0110696e7374616e636500011072656772657373696f6e5f696e7374616e6365300001\n",
        "\n",
    )
    .to_string()
}

#[test]
fn decode_and_encode_key() {
    let c = Cluster::start("t83-decode");
    let mut n = 0u64;
    let mut next = || {
        n += 1;
        n % 3 + 1
    };

    // Success: text, 200, exact bytes (the dispatcher's "\n" included). Only `false` selects ASCII.
    let ok: Vec<(String, String)> = vec![
        (format!("key={INSTANCE_KEY}"), example_1_unicode()),
        (format!("key={INSTANCE_KEY}&unicode=true"), example_1_unicode()),
        (format!("key={INSTANCE_KEY}&unicode=False"), example_1_unicode()),
        (format!("key={INSTANCE_KEY}&unicode=false"), example_1_ascii()),
        (format!("unicode=true&key={INSTANCE_KEY}&unicode=false"), example_1_ascii()),
        ("key=01".into(), "┌─ 0. key space: 1\n│ \n▼ \n01\n\n".into()),
        ("key=01&unicode=false".into(), "/- 0. key space: 1\n| \nv \n01\n\n".into()),
        (
            "key=021073797374656d0001106d6574612d7365727669636500011072656769737472790001".into(),
            concat!(
                "┌─────────────────────────────────────────────────── 0. key space: 2\n",
                "│ ┌───────────────────────────────────────────────── 1. system\n",
                "│ │                 ┌─────────────────────────────── 2. meta-service\n",
                "│ │                 │                             ┌─ 3. registry\n",
                "│ │                 │                             │ \n",
                "▼ ▼                 ▼                             ▼ \n",
                "021073797374656d0001106d6574612d7365727669636500011072656769737472790001\n\n",
            )
            .into(),
        ),
        // Upper-case hex decodes; the last line echoes the key as given.
        (
            format!("key={}&unicode=false", INSTANCE_KEY.to_uppercase()),
            example_1_ascii().replace(INSTANCE_KEY, &INSTANCE_KEY.to_uppercase()),
        ),
        // Negative ints print with '-'.
        (
            "key=0110610001110000000000000002&unicode=false".into(),
            "/----------- 0. key space: 1\n| /--------- 1. a\n| |       /- 2. -2\n| |       | \nv v       v \n0110610001110000000000000002\n\n".into(),
        ),
    ];
    for (query, want) in &ok {
        for route in ["decode_key", "v1/decode_key"] {
            let r = c.api(next(), route, query, None).expect("no hang");
            assert_eq!((r.status, r.body.as_str()), (200, want.as_str()), "{route}?{query}");
        }
    }

    // Worked example 2: the txn key (ASCII), line by line.
    let txn = concat!(
        "011074786e000110696e7374616e63655f69645f646561646265656600011074786e5f696e646578000112",
        "000000000000271310696e736572745f336664356164313264303035346139622d386337373664333231",
        "386336616462370001"
    );
    let r = c.api(next(), "decode_key", &format!("key={txn}&unicode=false"), None).expect("no hang");
    assert_eq!(r.status, 200);
    let lines: Vec<&str> = r.body.split('\n').collect();
    assert_eq!(lines.len(), 11, "{:?}", r.body);
    assert_eq!(lines[1], format!("| /{} 1. txn", "-".repeat(101)));
    assert_eq!(lines[2], format!("| |           /{} 2. instance_id_deadbeef", "-".repeat(89)));
    assert_eq!(lines[3], format!("| |           |{}/{} 3. txn_index", " ".repeat(45), "-".repeat(43)));
    assert_eq!(
        lines[7],
        "v v           v                                             v                       v                 v "
    );
    assert_eq!((lines[8], lines[9], lines[10]), (txn, "", ""));

    // Refusals: JSON envelopes, 400.
    let bad: &[(&str, &str)] = &[
        ("", "no key to decode"),
        ("key=", "no key to decode"),
        ("unicode=false", "no key to decode"),
        ("key=zz01", "failed to decode key, key=zz01"),
        ("key=0", "failed to decode key, key=0"),
        ("key=0113", "failed to decode key, key=0113"),
        ("key=0110616263", "failed to decode key, key=0110616263"),
        ("key=01106100", "failed to decode key, key=01106100"),
        ("key=0110610002", "failed to decode key, key=0110610002"),
        ("key=0112000000", "failed to decode key, key=0112000000"),
        ("key=%30%31", "failed to decode key, key=%30%31"),
    ];
    for (query, msg) in bad {
        let r = c.api(next(), "decode_key", query, None).expect("no hang");
        assert_eq!(
            (r.status, r.body.as_str()),
            (400, envelope("INVALID_ARGUMENT", msg).as_str()),
            "decode_key?{query}"
        );
    }

    // encode_key: the unit test of Doris (InstanceKey "test"), exact.
    let want = concat!(
        "┌───────────────────────── 0. key space: 1\n",
        "│ ┌─────────────────────── 1. instance\n",
        "│ │                     ┌─ 2. test\n",
        "│ │                     │ \n",
        "▼ ▼                     ▼ \n",
        "0110696e7374616e6365000110746573740001\n",
        "\\x01\\x10\\x69\\x6e\\x73\\x74\\x61\\x6e\\x63\\x65\\x00\\x01\\x10\\x74\\x65\\x73\\x74\\x00\\x01\n",
        "\n",
    );
    for route in ["encode_key", "v1/encode_key"] {
        let r = c.api(next(), route, "key_type=InstanceKey&instance_id=test", None).expect("no hang");
        assert_eq!((r.status, r.body.as_str()), (200, want), "{route}");
    }
    let r = c.api(next(), "encode_key", "key_type=InstanceKey&instance_id=test&unicode=false", None).expect("no hang");
    assert!(r.body.starts_with("/------------------------- 0. key space: 1\n"), "{:?}", r.body);

    // Key hex of several types (golden vectors from Doris's http_encode_key tests): the picture's
    // hex line, then the `\x` line.
    let golden: &[(&str, &str)] = &[
        ("key_type=MetaDeleteBitmap&instance_id=gavin-instance&tablet_id=10086&rowest_id=10010&version=10000&seg_id=1008601",
         "01106d657461000110676176696e2d696e7374616e636500011064656c6574655f6269746d6170000112000000000000276610313030313000011200000000000027101200000000000f63d9"),
        ("key_type=MetaDeleteBitmapUpdateLock&instance_id=gavin-instance&table_id=10086&partition_id=10010",
         "01106d657461000110676176696e2d696e7374616e636500011064656c6574655f6269746d61705f6c6f636b000112000000000000276612000000000000271a"),
        ("key_type=MetaSchemaKey&instance_id=gavin-instance&index_id=10086&schema_version=10010",
         "01106d657461000110676176696e2d696e7374616e6365000110736368656d61000112000000000000276612000000000000271a"),
        ("key_type=MetaPendingDeleteBitmap&instance_id=gavin-instance&tablet_id=10086",
         "01106d657461000110676176696e2d696e7374616e636500011064656c6574655f6269746d61705f70656e64696e670001120000000000002766"),
        ("key_type=TxnIndexKey&instance_id=instance_id_deadbeef&txn_id=10003",
         "011074786e000110696e7374616e63655f69645f646561646265656600011074786e5f696e6465780001120000000000002713"),
        ("key_type=MetaServiceRegistryKey",
         "021073797374656d0001106d6574612d7365727669636500011072656769737472790001"),
        ("key_type=StorageVaultKey&instance_id=i&vault_id=1",
         "011073746f726167655f7661756c74000110690001107661756c74000110310001"),
        // strtoll: garbage → 0, negative → 0x11 + absolute value.
        ("key_type=TxnIndexKey&instance_id=i&txn_id=abc", "011074786e0001106900011074786e5f696e6465780001120000000000000000"),
        ("key_type=TxnIndexKey&instance_id=i&txn_id=-2", "011074786e0001106900011074786e5f696e6465780001110000000000000002"),
    ];
    for (query, hex) in golden {
        let r = c.api(next(), "encode_key", query, None).expect("no hang");
        assert_eq!(r.status, 200, "{query}: {r:?}");
        let lines: Vec<&str> = r.body.split('\n').collect();
        let n = lines.len();
        assert_eq!(lines[n - 4], *hex, "{query}");
        let escaped: String =
            hex.as_bytes().chunks(2).map(|p| format!("\\x{}", std::str::from_utf8(p).unwrap())).collect();
        assert_eq!((lines[n - 3], lines[n - 2], lines[n - 1]), (escaped.as_str(), "", ""), "{query}");
    }
    // Every listed key type encodes when all its parameters are given.
    let all_params = "instance_id=i&db_id=1&label=l&txn_id=2&tbl_id=3&partition_id=4&tablet_id=5&version=6&table_id=7&index_id=8&part_id=9&rowset_id=r&stage_id=s&copy_id=c&group_id=10&obj_key=k&obj_etag=e&schema_version=11&rowest_id=r&seg_id=12&job_id=13&vault_id=14";
    let types = [
        "InstanceKey",
        "TxnLabelKey",
        "TxnInfoKey",
        "TxnIndexKey",
        "TxnRunningKey",
        "PartitionVersionKey",
        "TableVersionKey",
        "MetaRowsetKey",
        "MetaRowsetTmpKey",
        "MetaTabletKey",
        "MetaTabletIdxKey",
        "RecycleIndexKey",
        "RecyclePartKey",
        "RecycleRowsetKey",
        "RecycleTxnKey",
        "StatsTabletKey",
        "JobTabletKey",
        "CopyJobKey",
        "CopyFileKey",
        "RecycleStageKey",
        "JobRecycleKey",
        "MetaSchemaKey",
        "MetaDeleteBitmap",
        "MetaDeleteBitmapUpdateLock",
        "MetaPendingDeleteBitmap",
        "RLJobProgressKey",
        "MetaServiceRegistryKey",
        "MetaServiceArnInfoKey",
        "MetaServiceEncryptionKey",
        "StorageVaultKey",
    ];
    for t in types {
        let r = c.api(next(), "encode_key", &format!("key_type={t}&{all_params}"), None).expect("no hang");
        assert_eq!(r.status, 200, "{t}: {r:?}");
        // The hex it prints decodes back to the same picture.
        let lines: Vec<&str> = r.body.split('\n').collect();
        let hex = lines[lines.len() - 4];
        let d = c.api(next(), "decode_key", &format!("key={hex}"), None).expect("no hang");
        assert!(r.body.starts_with(d.body.trim_end_matches('\n')), "{t}: encode and decode pictures differ");
    }
    // JobRecycleKey encodes the "check" key.
    let r = c.api(next(), "encode_key", "key_type=JobRecycleKey&instance_id=i&unicode=false", None).expect("no hang");
    assert!(r.body.contains(" 3. check\n"), "{:?}", r.body);

    // encode_key refusals: JSON, 400, parameters checked in Doris's order.
    let bad: &[(&str, &str)] = &[
        ("", "key_type not supported: (empty)"),
        ("key_type=", "key_type not supported: (empty)"),
        ("key_type=instancekey&instance_id=x", "key_type not supported: instancekey"),
        ("key_type=Nope", "key_type not supported: Nope"),
        ("key_type=InstanceKey", "instance_id is not given or empty"),
        ("key_type=InstanceKey&instance_id=", "instance_id is not given or empty"),
        ("key_type=TxnInfoKey&instance_id=x", "db_id is not given or empty"),
        ("key_type=TxnInfoKey&instance_id=x&txn_id=1", "db_id is not given or empty"),
        ("key_type=TxnInfoKey&instance_id=x&db_id=1", "txn_id is not given or empty"),
        ("key_type=MetaDeleteBitmap&instance_id=x&tablet_id=1&rowset_id=r", "rowest_id is not given or empty"),
        ("key_type=StorageVaultKey&instance_id=x", "vault_id is not given or empty"),
    ];
    for (query, msg) in bad {
        let r = c.api(next(), "encode_key", query, None).expect("no hang");
        assert_eq!(
            (r.status, r.body.as_str()),
            (400, envelope("INVALID_ARGUMENT", msg).as_str()),
            "encode_key?{query}"
        );
    }
}

/// The JSON of a `get_value` body: compact protobuf JSON and one newline.
fn compact_json(body: &str) -> Value {
    let text = body.strip_suffix('\n').unwrap_or_else(|| panic!("no trailing newline: {body:?}"));
    assert!(!text.contains('\n') && !text.contains(": ") && !text.contains(", "), "not compact: {text:?}");
    serde_json::from_str(text).unwrap_or_else(|e| panic!("not JSON ({e}): {text:?}"))
}

fn instance_key_hex(id: &str) -> String {
    let mut out = String::from("0110696e7374616e63650001");
    out.push_str("10");
    for b in id.bytes() {
        out.push_str(&format!("{b:02x}"));
    }
    out.push_str("0001");
    out
}

#[test]
fn get_value_shows_stored_records() {
    let c = Cluster::start("t83-get-value");
    let writer = c.leader();
    let readers: Vec<u64> = c.followers();
    c.create_ok(writer, "gv-1");

    // Read right after the write, on a different member: by parameters and by hex key.
    let by_params = c.api(readers[0], "get_value", "key_type=InstanceKey&instance_id=gv-1", None).expect("no hang");
    assert_eq!(by_params.status, 200, "{by_params:?}");
    let v = compact_json(&by_params.body);
    assert_eq!(v["instance_id"], "gv-1");
    assert_eq!(v["name"], "n");
    assert_eq!(v["user_id"], "u1");
    assert_eq!(v["status"], "NORMAL");
    assert_eq!(v["storage_vault_names"], serde_json::json!(["built_in_storage_vault"]));
    assert_eq!(v["resource_ids"], serde_json::json!(["1"]));
    let hex = instance_key_hex("gv-1");
    let by_hex = c.api(readers[1], "get_value", &format!("key={hex}&key_type=InstanceKey"), None).expect("no hang");
    assert_eq!((by_hex.status, &by_hex.body), (200, &by_params.body));
    let upper = c.api(writer, "v1/get_value", &format!("key={}&key_type=InstanceKey", hex.to_uppercase()), None);
    assert_eq!(upper.expect("no hang").body, by_params.body);

    // The same fields get_instance shows (get_instance unseals secrets; get_value shows the stored form).
    let gi = c.get_instance(readers[1], "gv-1", false).expect("no hang").json()["result"].clone();
    for field in ["instance_id", "user_id", "name", "status", "sse_enabled", "enable_storage_vault", "resource_ids"] {
        assert_eq!(v[field], gi[field], "{field}");
    }

    // The built-in vault under StorageVaultKey; int64 fields as strings.
    let r =
        c.api(readers[0], "get_value", "key_type=StorageVaultKey&instance_id=gv-1&vault_id=1", None).expect("no hang");
    assert_eq!(r.status, 200, "{r:?}");
    let vault = compact_json(&r.body);
    assert_eq!((vault["id"].as_str(), vault["name"].as_str()), (Some("1"), Some("built_in_storage_vault")));
    assert!(vault["obj_info"]["ctime"].is_string(), "{vault}");
    assert_eq!(vault["obj_info"]["bucket"], "b");

    // Missing key: KV_TXN_GET_ERR → 500 INTERNAL_ERROR (the spec's answer).
    let missing = instance_key_hex("nope");
    let r = c.api(readers[0], "get_value", "key_type=InstanceKey&instance_id=nope", None).expect("no hang");
    assert_eq!(
        (r.status, r.body.as_str()),
        (500, envelope("INTERNAL_ERROR", &format!("kv not found, key={missing}")).as_str())
    );
    let r =
        c.api(readers[1], "get_value", "key_type=TxnInfoKey&instance_id=gv-1&db_id=1&txn_id=2", None).expect("no hang");
    assert_eq!(r.status, 500, "{r:?}");
    assert_eq!(r.code().as_deref(), Some("INTERNAL_ERROR"));

    // A value that is not the message its key type names: PROTOBUF_PARSE_ERR → 400.
    let r = c.api(readers[0], "get_value", &format!("key={hex}&key_type=StorageVaultKey"), None).expect("no hang");
    assert_eq!(
        (r.status, r.body.as_str()),
        (400, envelope("INVALID_ARGUMENT", &format!("failed to parse value, key={hex}")).as_str())
    );

    // key_type is always required; params are checked only when no key is given.
    let bad: &[(String, String)] = &[
        (format!("key={hex}"), "key_type not supported: (empty)".into()),
        (format!("key={hex}&key_type=Bogus"), "key_type not supported: Bogus".into()),
        ("".into(), "key_type not supported: (empty)".into()),
        ("key_type=InstanceKey".into(), "instance_id is not given or empty".into()),
        (
            "key_type=InstanceKey&instance_id=gv-1&consistency=bogus".into(),
            "invalid consistency=bogus, expected linearizable or stale".into(),
        ),
    ];
    for (query, msg) in bad {
        let r = c.api(readers[1], "get_value", query, None).expect("no hang");
        assert_eq!((r.status, r.body.as_str()), (400, envelope("INVALID_ARGUMENT", msg).as_str()), "get_value?{query}");
    }
    // Stale reads are served locally.
    let r = c.api(readers[0], "get_value", "key_type=InstanceKey&instance_id=gv-1&consistency=stale", None);
    assert_eq!(r.expect("no hang").body, by_params.body);
}
