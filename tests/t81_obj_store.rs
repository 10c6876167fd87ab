//! Object storage against a real three-node cluster, requests rotated across members:
//! `get_obj_store_info` / `show_storage_vaults`, `add_obj_info`, `legacy_update_ak_sk`,
//! `update_ak_sk` (endpoints §6–§9), and secrets at rest: no plaintext sk in any file of any
//! member's data dir, replies decrypted, a configured `--encryption-key` honoured.

mod common;

use std::path::Path;

use common::expect;
use common::ok;
use common::Cluster;
use common::Options;
use common::Rotating;
use serde_json::json;
use serde_json::Value;

impl Rotating<'_> {
    fn store(&self, instance_id: &str) -> Value {
        let r = self.call("get_obj_store_info", &json!({"cloud_unique_id": format!("1:{instance_id}:x")}).to_string());
        assert!(r.is_ok(), "get_obj_store_info {instance_id}: {r:?}");
        r.json()["result"].clone()
    }
}

const MARKER_SK: &str = "PLAINTEXT-SK-MARKER-4c1d";

fn obj(ak: &str, sk: &str, prefix: &str) -> Value {
    json!({"ak": ak, "sk": sk, "bucket": "b", "prefix": prefix, "endpoint": "e", "external_endpoint": "x",
           "region": "r", "provider": "COS"})
}

fn legacy(id: &str) -> String {
    json!({"instance_id": id, "name": "n", "user_id": "u", "obj_info": obj("ak", MARKER_SK, "/p/"),
           "ram_user": {"user_id": "ru", "ak": "rak", "sk": "rsk"}})
    .to_string()
}

fn alter_body(instance_id: &str, obj: &Value) -> String {
    json!({"cloud_unique_id": format!("1:{instance_id}:x"), "obj": obj}).to_string()
}

/// True when some file under `dir` contains `needle`.
fn found_in(dir: &Path, needle: &[u8]) -> bool {
    let Ok(entries) = std::fs::read_dir(dir) else { return false };
    entries.flatten().any(|e| {
        let p = e.path();
        if p.is_dir() {
            found_in(&p, needle)
        } else {
            std::fs::read(&p).is_ok_and(|bytes| bytes.windows(needle.len()).any(|w| w == needle))
        }
    })
}

#[test]
fn obj_store_routes_follow_the_spec() {
    let c = Cluster::start("t81-obj-store");
    let r = Rotating::new(&c);
    ok(&r.call("create_instance", &legacy("leg")), "create legacy");
    ok(&r.call("create_instance", &common::instance_body("vlt", "n")), "create vault");

    // --- get_obj_store_info: result (with status) printed on errors too
    let get_cases: &[(&str, &str, u16, &str, &str, &str)] = &[
        ("get_obj_store_info", "{}", 400, "INVALID_ARGUMENT", "INVALID_ARGUMENT", "cloud unique id not set"),
        (
            "get_obj_store_info",
            r#"{"cloud_unique_id": ""}"#,
            400,
            "INVALID_ARGUMENT",
            "INVALID_ARGUMENT",
            "cloud unique id not set",
        ),
        (
            "get_obj_store_info",
            r#"{"cloud_unique_id": "junk"}"#,
            400,
            "INVALID_ARGUMENT",
            "INVALID_ARGUMENT",
            "empty instance_id",
        ),
        (
            "get_obj_store_info",
            r#"{"cloud_unique_id": "2:leg:x"}"#,
            400,
            "INVALID_ARGUMENT",
            "INVALID_ARGUMENT",
            "empty instance_id",
        ),
        (
            "get_obj_store_info",
            r#"{"cloud_unique_id": "1:nope:x"}"#,
            400,
            "INVALID_ARGUMENT",
            "INVALID_ARGUMENT",
            "empty instance_id",
        ),
        ("show_storage_vaults", "{}", 400, "INVALID_ARGUMENT", "INVALID_ARGUMENT", "cloud unique id not set"),
        (
            "v1/get_obj_store_info",
            r#"{"cloud_unique_id": "1:leg"}"#,
            400,
            "INVALID_ARGUMENT",
            "INVALID_ARGUMENT",
            "empty instance_id",
        ),
    ];
    for (route, body, status, code, inner, msg) in get_cases {
        let resp = r.call(route, body);
        expect(&resp, *status, code, msg, &format!("{route} {body}"));
        assert_eq!(resp.json()["result"], json!({"status": {"code": inner, "msg": msg}}), "{resp:?}");
    }
    let st = r.store("leg");
    assert_eq!(st["status"], json!({"code": "OK", "msg": ""}), "{st}");
    // Field order as printed: status, obj_info, enable_storage_vault (GetObjStoreInfoResponse numbers).
    let raw = r.call("get_obj_store_info", r#"{"cloud_unique_id": "1:leg:x"}"#).body;
    let pos = |k: &str| raw.find(&format!("\n        \"{k}\"")).unwrap_or_else(|| panic!("{k} in {raw}"));
    assert!(pos("status") < pos("obj_info") && pos("obj_info") < pos("enable_storage_vault"), "{raw}");
    let o = &st["obj_info"][0];
    assert_eq!(
        (o["id"].as_str(), o["sk"].as_str(), o["prefix"].as_str()),
        (Some("1"), Some(MARKER_SK), Some("p")),
        "{o}"
    );
    assert_eq!(o["encryption_info"], json!({"encryption_method": "AES_256_ECB", "key_id": "1"}), "{o}");
    assert_eq!(st["enable_storage_vault"], false);
    let vs = r.store("vlt");
    assert_eq!(vs["enable_storage_vault"], true, "{vs}");
    let v = &vs["storage_vault"][0];
    assert_eq!((v["id"].as_str(), v["name"].as_str()), (Some("1"), Some("built_in_storage_vault")), "{v}");
    assert_eq!(v["obj_info"]["sk"], "s", "vault sk decrypted: {v}");
    let shown = r.call("show_storage_vaults", &json!({"cloud_unique_id": "1:vlt:y"}).to_string());
    assert_eq!(shown.json()["result"], vs, "show_storage_vaults is the same route");
    // get_instance shows the sks decrypted too.
    let inst = r.instance("leg");
    assert_eq!((inst["obj_info"][0]["sk"].as_str(), inst["ram_user"]["sk"].as_str()), (Some(MARKER_SK), Some("rsk")));

    // --- add_obj_info: stateless rows (messages echo the request, op set by the route)
    let cuid = r#""cloud_unique_id":"1:leg:x""#;
    let big = "x".repeat(1100);
    let add_cases: Vec<(String, u16, &str, String)> = vec![
        (
            r#"{"cloud_unique_id": "1:leg:x"}"#.into(),
            400,
            "INVALID_ARGUMENT",
            format!(r#"s3 obj info err {{{cuid},"op":"ADD_OBJ_INFO"}}"#),
        ),
        (
            r#"{"cloud_unique_id": "1:leg:x", "obj": {"ak": "a"}}"#.into(),
            400,
            "INVALID_ARGUMENT",
            format!(r#"s3 obj info err {{{cuid},"obj":{{"ak":"a"}},"op":"ADD_OBJ_INFO"}}"#),
        ),
        (
            json!({"cloud_unique_id": "1:leg:x", "obj": {"bucket": big}}).to_string(),
            400,
            "INVALID_ARGUMENT",
            format!(r#"s3 obj info greater than 1k {{{cuid},"obj":{{"bucket":"{big}"}},"op":"ADD_OBJ_INFO"}}"#),
        ),
        (
            r#"{"obj": {"ak": "a", "role_arn": "arn"}}"#.into(),
            400,
            "INVALID_ARGUMENT",
            "invaild argument, both set ak/sk and role_arn is not allowed".into(),
        ),
        (json!({"obj": obj("a", "s", "p")}).to_string(), 400, "INVALID_ARGUMENT", "cloud unique id not set".into()),
        (
            alter_body("nope", &obj("a", "s", "p")).replace("1:nope:x", "junk"),
            400,
            "INVALID_ARGUMENT",
            "empty instance_id".into(),
        ),
        (alter_body("nope", &obj("a", "s", "p")), 400, "INVALID_ARGUMENT", "empty instance_id".into()),
        (
            alter_body("vlt", &obj("a", "s", "p")),
            400,
            "INVALID_ARGUMENT",
            "Storage vault doesn't support add obj info".into(),
        ),
        (
            alter_body(
                "leg",
                &json!({"ak": "a", "sk": "s", "bucket": "b", "prefix": "p", "endpoint": "e", "region": "r"}),
            ),
            400,
            "INVALID_ARGUMENT",
            "s3 conf lease provider info".into(),
        ),
        (
            alter_body(
                "leg",
                &json!({"ak": "a", "sk": "s", "bucket": "b", "endpoint": "e", "region": "r", "provider": "S3"}),
            ),
            400,
            "INVALID_ARGUMENT",
            "s3 conf info err, please check it".into(),
        ),
        (
            alter_body(
                "leg",
                &json!({"ak": "a", "sk": "s", "prefix": "p", "endpoint": "e", "region": "r", "provider": "S3"}),
            ),
            400,
            "INVALID_ARGUMENT",
            "s3 conf info err, please check it".into(),
        ),
        // Present but empty keys pass the presence row and fail the conf row.
        (
            alter_body(
                "leg",
                &json!({"ak": "", "sk": "", "bucket": "b", "prefix": "p", "endpoint": "e", "region": "r", "provider": "S3"}),
            ),
            400,
            "INVALID_ARGUMENT",
            "s3 conf info err, please check it".into(),
        ),
        // Same conf as obj 1: stored prefix "p" (trimmed) equals the request's untrimmed "p".
        (
            alter_body("leg", &obj("ak", MARKER_SK, "p")),
            400,
            "INVALID_ARGUMENT",
            "original obj infos has a same conf, please check it".into(),
        ),
    ];
    for (body, status, code, msg) in &add_cases {
        expect(&r.call("add_obj_info", body), *status, code, msg, body);
    }
    // Untrimmed "/p/" differs from the stored "p" (Doris compares the raw request prefix).
    ok(&r.call("add_obj_info", &alter_body("leg", &obj("ak", MARKER_SK, "/p/"))), "add with untrimmed prefix");
    for n in 3..=10 {
        ok(&r.call("v1/add_obj_info", &alter_body("leg", &obj(&format!("ak{n}"), MARKER_SK, "p"))), "add");
        let st = r.store("leg");
        let last = &st["obj_info"][n - 1];
        assert_eq!(last["id"], n.to_string(), "id assignment: {st}");
        assert_eq!((last["sk"].as_str(), last["external_endpoint"].as_str()), (Some(MARKER_SK), Some("x")), "{last}");
        assert_eq!(last["ctime"], last["mtime"], "{last}");
        assert_eq!(last["sse_enabled"], false, "{last}");
    }
    let resp = r.call("add_obj_info", &alter_body("leg", &obj("ak11", "s", "p")));
    expect(
        &resp,
        500,
        "INTERNAL_ERROR",
        "this instance history has greater than 10 objs, please new another instance",
        "11th",
    );
    assert_eq!(r.store("leg")["obj_info"].as_array().map(Vec::len), Some(10));

    // --- legacy_update_ak_sk
    let legacy_cases: &[(Value, u16, &str, &str)] = &[
        (json!({"ak": "n", "sk": "n"}), 400, "INVALID_ARGUMENT", "id invalid, please check it"),
        (json!({"id": "0", "ak": "n", "sk": "n"}), 400, "INVALID_ARGUMENT", "id invalid, please check it"),
        (json!({"id": "11", "ak": "n", "sk": "n"}), 400, "INVALID_ARGUMENT", "id invalid, please check it"),
        (json!({"id": "abc", "ak": "n", "sk": "n"}), 400, "INVALID_ARGUMENT", "id invalid, please check it"),
        (json!({"id": "-1", "ak": "n", "sk": "n"}), 400, "INVALID_ARGUMENT", "id invalid, please check it"),
        // Unchanged keys: OK, nothing written.
        (json!({"id": "1", "ak": "ak", "sk": MARKER_SK}), 200, "OK", ""),
        (json!({"id": "2", "ak": "ak-new", "sk": "sk-new"}), 200, "OK", ""),
    ];
    for (o, status, code, msg) in legacy_cases {
        expect(&r.call("legacy_update_ak_sk", &alter_body("leg", o)), *status, code, msg, &o.to_string());
    }
    let resp = r.call("legacy_update_ak_sk", r#"{"cloud_unique_id": "1:leg:x", "obj": {"id": "1", "ak": "a"}}"#);
    let msg = format!(r#"s3 obj info err {{{cuid},"obj":{{"id":"1","ak":"a"}},"op":"LEGACY_UPDATE_AK_SK"}}"#);
    expect(&resp, 400, "INVALID_ARGUMENT", &msg, "legacy without sk");
    let st = r.store("leg");
    assert!(st["obj_info"][0].get("mtime") == st["obj_info"][0].get("ctime"), "unchanged: no write: {st}");
    let o2 = &st["obj_info"][1];
    assert_eq!((o2["ak"].as_str(), o2["sk"].as_str()), (Some("ak-new"), Some("sk-new")), "{o2}");

    // --- update_ak_sk
    let upd = |v: Value| v.to_string();
    let update_cases: Vec<(String, u16, &str, String)> = vec![
        (upd(json!({})), 400, "INVALID_ARGUMENT", "instance id not set".into()),
        (upd(json!({"instance_id": "leg"})), 400, "INVALID_ARGUMENT", "nothing to update".into()),
        (upd(json!({"instance_id": "nope", "ram_user": {"user_id": "ru"}})), 500, "INTERNAL_ERROR",
         "failed to get instance, instance_id=nope err=KeyNotFound".into()),
        (upd(json!({"instance_id": "leg", "ram_user": {"user_id": "ru"}})), 400, "INVALID_ARGUMENT",
         r#"ram user info err {"instance_id":"leg","ram_user":{"user_id":"ru"}}"#.into()),
        (upd(json!({"instance_id": "vlt", "ram_user": {"user_id": "ru", "ak": "a", "sk": "s"}})), 400, "INVALID_ARGUMENT",
         "instance doesn't have ram user info".into()),
        (upd(json!({"instance_id": "leg", "ram_user": {"user_id": "zz", "ak": "a", "sk": "s"}})), 400, "INVALID_ARGUMENT",
         "ram user_id err".into()),
        (upd(json!({"instance_id": "leg", "ram_user": {"user_id": "ru", "ak": "rak", "sk": "rsk"}})), 400, "INVALID_ARGUMENT",
         "ak sk eq original, please check it".into()),
        (upd(json!({"instance_id": "leg", "internal_bucket_user": [{"user_id": "b1", "ak": "a"}]})), 400, "INVALID_ARGUMENT",
         r#"s3 bucket info err {"instance_id":"leg","internal_bucket_user":[{"user_id":"b1","ak":"a"}]}"#.into()),
        (upd(json!({"instance_id": "leg", "internal_bucket_user": [{"user_id": "b1", "ak": "a", "sk": "s"}, {"user_id": "b2", "ak": "a", "sk": "s"}]})),
         400, "INVALID_ARGUMENT",
         r#"fail to update old instance's obj_info, s3 obj info err {"instance_id":"leg","internal_bucket_user":[{"user_id":"b1","ak":"a","sk":"s"},{"user_id":"b2","ak":"a","sk":"s"}]}"#.into()),
        (upd(json!({"instance_id": "leg", "ram_user": {"user_id": "ru", "ak": "rak2", "sk": "rsk2"}})), 200, "OK", String::new()),
    ];
    for (body, status, code, msg) in &update_cases {
        expect(&r.call("update_ak_sk", body), *status, code, msg, body);
    }
    let inst = r.instance("leg");
    assert_eq!(
        (inst["ram_user"]["ak"].as_str(), inst["ram_user"]["sk"].as_str()),
        (Some("rak2"), Some("rsk2")),
        "{inst}"
    );
    // A vault-only instance has no legacy obj_info to match.
    let resp = r.call(
        "update_ak_sk",
        &upd(json!({"instance_id": "vlt", "internal_bucket_user": [{"user_id": "b1", "ak": "a", "sk": "s"}]})),
    );
    expect(&resp, 400, "INVALID_ARGUMENT", "fail to find the alter obj info", "no obj_info matched");

    // --- after DELETED: writes refused with 404, reads still answer
    ok(&r.call("drop_instance", &json!({"instance_id": "leg"}).to_string()), "drop");
    let deleted = "instance status has been set delete, plz check it";
    expect(
        &r.call("add_obj_info", &alter_body("leg", &obj("z", "z", "z"))),
        404,
        "NOT_FOUND",
        deleted,
        "add on deleted",
    );
    expect(
        &r.call("legacy_update_ak_sk", &alter_body("leg", &json!({"id": "1", "ak": "z", "sk": "z"}))),
        404,
        "NOT_FOUND",
        deleted,
        "legacy on deleted",
    );
    let resp = r
        .call("update_ak_sk", &upd(json!({"instance_id": "leg", "ram_user": {"user_id": "ru", "ak": "a", "sk": "s"}})));
    expect(&resp, 404, "NOT_FOUND", deleted, "update on deleted");
    assert_eq!(r.store("leg")["obj_info"].as_array().map(Vec::len), Some(10), "get on a DELETED instance");

    // Doris echoes the request, plaintext sk included, in some messages: the reply has it, no log does.
    let resp = r.call("add_obj_info", &json!({"cloud_unique_id": "1:x:y", "obj": {"sk": MARKER_SK}}).to_string());
    let msg =
        format!(r#"s3 obj info err {{"cloud_unique_id":"1:x:y","obj":{{"sk":"{MARKER_SK}"}},"op":"ADD_OBJ_INFO"}}"#);
    expect(&resp, 400, "INVALID_ARGUMENT", &msg, "echo");
    for node in &c.nodes {
        let log = std::fs::read_to_string(&node.log_path).unwrap_or_default();
        assert!(!log.contains(MARKER_SK) && !log.contains("rsk2"), "node {} logs a secret", node.id);
    }

    // --- secrets at rest: the marker sk was written many times, never stored in plain text
    for node in 1..=3 {
        assert!(!found_in(c.data_dir(node), MARKER_SK.as_bytes()), "node {node} stores a plaintext sk");
        assert!(!found_in(c.data_dir(node), b"rsk2"), "node {node} stores a plaintext ram_user sk");
    }
}

#[test]
fn racing_add_obj_info_on_two_members_assigns_distinct_ids() {
    let c = Cluster::start("t81-race");
    let r = Rotating::new(&c);
    ok(&r.call("create_instance", &legacy("race")), "create");
    let a_body = alter_body("race", &obj("a1", "s1", "p"));
    let b_body = alter_body("race", &obj("a2", "s2", "p"));
    let (a, b) = std::thread::scope(|s| {
        let ha = s.spawn(|| c.api(1, "add_obj_info", "", Some(&a_body)).expect("node 1"));
        let hb = s.spawn(|| c.api(3, "add_obj_info", "", Some(&b_body)).expect("node 3"));
        (ha.join().expect("join"), hb.join().expect("join"))
    });
    ok(&a, "a");
    ok(&b, "b");
    let st = r.store("race");
    let mut ids: Vec<&str> = st["obj_info"].as_array().expect("list").iter().filter_map(|o| o["id"].as_str()).collect();
    ids.sort_unstable();
    assert_eq!(ids, ["1", "2", "3"], "{st}");
    // The same obj on two members: one wins, the other is a duplicate.
    let dup = alter_body("race", &obj("a9", "s9", "p"));
    let (a, b) = std::thread::scope(|s| {
        let ha = s.spawn(|| c.api(2, "add_obj_info", "", Some(&dup)).expect("node 2"));
        let hb = s.spawn(|| c.api(3, "add_obj_info", "", Some(&dup)).expect("node 3"));
        (ha.join().expect("join"), hb.join().expect("join"))
    });
    assert_eq!([&a, &b].iter().filter(|x| x.is_ok()).count(), 1, "{a:?} {b:?}");
    let loser = if a.is_ok() { &b } else { &a };
    expect(loser, 400, "INVALID_ARGUMENT", "original obj infos has a same conf, please check it", "dup");
}

#[test]
fn a_configured_encryption_key_seals_and_opens() {
    let key = "8f".repeat(32);
    let opts = Options { extra_args: vec!["--encryption-key".into(), key], ..Options::default() };
    let c = Cluster::start_with("t81-key", opts);
    let r = Rotating::new(&c);
    ok(&r.call("create_instance", &legacy("k")), "create");
    ok(&r.call("add_obj_info", &alter_body("k", &obj("ak2", MARKER_SK, "q"))), "add");
    let st = r.store("k");
    assert_eq!(st["obj_info"][1]["sk"], MARKER_SK, "{st}");
    for node in 1..=3 {
        assert!(!found_in(c.data_dir(node), MARKER_SK.as_bytes()), "node {node} stores a plaintext sk");
    }
}

#[test]
fn a_malformed_encryption_key_stops_serve() {
    let dir = tempfile::tempdir().expect("tmp");
    let port = common::free_port();
    let args: Vec<String> = [
        "serve",
        "--node-id",
        "1",
        "--listen",
        &format!("127.0.0.1:{port}"),
        "--data-dir",
        &dir.path().join("d").display().to_string(),
        "--peers",
        &format!("1=127.0.0.1:{port}"),
        "--encryption-key",
        "not-a-key",
    ]
    .iter()
    .map(ToString::to_string)
    .collect();
    let (status, output) = common::run_to_exit(&args, &dir.path().join("log"), std::time::Duration::from_secs(20));
    assert!(!status.success(), "{output}");
    assert!(output.contains("--encryption-key"), "{output}");
    assert!(!output.contains("not-a-key"), "the key is not echoed: {output}");
}

#[test]
fn a_registered_node_cloud_unique_id_resolves_too() {
    let c = Cluster::start("t81-node-cuid");
    let r = Rotating::new(&c);
    ok(&r.call("create_instance", &legacy("nc")), "create");
    let cluster = json!({
        "instance_id": "nc",
        "cluster": {"cluster_name": "c1", "cluster_id": "cid1", "type": "COMPUTE",
                    "nodes": [{"cloud_unique_id": "free-form-node-id", "ip": "127.0.0.1", "heartbeat_port": 9050}]}
    });
    let added = r.call("add_cluster", &cluster.to_string());
    assert!(added.is_ok(), "add_cluster: {added:?}");
    let resp = r.call("get_obj_store_info", r#"{"cloud_unique_id": "free-form-node-id"}"#);
    assert!(resp.is_ok(), "{resp:?}");
    assert_eq!(resp.json()["result"]["obj_info"][0]["sk"], MARKER_SK, "{resp:?}");
    ok(
        &r.call(
            "add_obj_info",
            &json!({"cloud_unique_id": "free-form-node-id", "obj": obj("a2", "s2", "q")}).to_string(),
        ),
        "add",
    );
    assert_eq!(r.store("nc")["obj_info"][1]["id"], "2");
}
