//! `metaraft ctl` against a real three-node cluster: every Doris route through its friendly form
//! (or `ctl call`), each effect checked over HTTP on another member, refusals and command-line
//! mistakes reported as one line with a non-zero exit, tables by default and JSON with `--json`.

mod common;

use std::process::Command;

use common::Cluster;
use common::TOKEN;
use serde_json::Value;

struct Ctl {
    urls: String,
}

impl Ctl {
    fn new(c: &Cluster) -> Ctl {
        // The first URL is a dead port: ctl must move on to a member that answers.
        let dead = format!("http://127.0.0.1:{}", common::free_port());
        let urls: Vec<String> = std::iter::once(dead).chain((1..=3).map(|id| c.base(id))).collect();
        Ctl { urls: urls.join(",") }
    }

    /// Runs `metaraft ctl ARGS`; (exit success, stdout, stderr).
    fn run(&self, args: &[&str]) -> (bool, String, String) {
        let out = Command::new(common::binary())
            .args(["ctl", "--url", &self.urls, "--token", TOKEN])
            .args(args)
            .env("NO_COLOR", "1")
            .output()
            .expect("run metaraft ctl");
        let text = |b: &[u8]| String::from_utf8_lossy(b).into_owned();
        (out.status.success(), text(&out.stdout), text(&out.stderr))
    }

    /// Runs and expects success; returns stdout.
    fn ok(&self, args: &[&str]) -> String {
        let (ok, out, err) = self.run(args);
        assert!(ok, "ctl {}: failed\nstdout: {out}\nstderr: {err}", args.join(" "));
        out
    }

    /// Runs and expects failure; returns stderr.
    fn fails(&self, args: &[&str]) -> String {
        let (ok, out, err) = self.run(args);
        assert!(!ok, "ctl {}: succeeded but should not\nstdout: {out}", args.join(" "));
        err
    }
}

fn instance(c: &Cluster, node: u64, id: &str) -> Value {
    let r = c.get_instance(node, id, false).expect("get_instance");
    assert!(r.is_ok(), "get_instance {id}: {r:?}");
    r.json()["result"].clone()
}

fn cluster(c: &Cluster, node: u64, instance_id: &str, cluster_id: &str) -> Value {
    instance(c, node, instance_id)["clusters"]
        .as_array()
        .and_then(|cs| cs.iter().find(|x| x["cluster_id"] == cluster_id).cloned())
        .unwrap_or(Value::Null)
}

const OBJ: &str = "ak=AK1,sk=SECRET-SK-1,bucket=b,prefix=p,endpoint=e,external_endpoint=e,region=r,provider=S3";

#[test]
fn every_doris_route_through_ctl() {
    let c = Cluster::start("t29-ctl");
    let ctl = Ctl::new(&c);

    // --- instances
    assert_eq!(ctl.ok(&["instance", "create", "ctl-1", "--name", "one", "--user-id", "u1", "--obj", OBJ]), "OK\n");
    let i = instance(&c, 2, "ctl-1");
    assert_eq!((i["name"].as_str(), i["user_id"].as_str()), (Some("one"), Some("u1")));
    let table = ctl.ok(&["instance", "get", "ctl-1"]);
    assert!(table.contains("ctl-1") && table.contains("built_in_storage_vault"), "{table}");
    let json: Value = serde_json::from_str(&ctl.ok(&["instance", "get", "ctl-1", "--json"])).expect("--json is JSON");
    assert_eq!(json["result"]["instance_id"], "ctl-1");
    assert!(ctl.ok(&["instance", "list"]).contains("ctl-1"));
    // Already exists: Doris's refusal, one line, non-zero exit.
    let err = ctl.fails(&["instance", "create", "ctl-1", "--name", "one", "--user-id", "u1", "--obj", OBJ]);
    assert!(err.contains("409 ALREADY_EXISTED"), "{err}");

    ctl.ok(&["instance", "rename", "ctl-1", "uno"]);
    assert_eq!(instance(&c, 3, "ctl-1")["name"], "uno");
    ctl.ok(&["instance", "set-status", "ctl-1", "overdue"]);
    assert_eq!(instance(&c, 1, "ctl-1")["status"], "OVERDUE");
    ctl.ok(&["instance", "set-status", "ctl-1", "normal"]);
    assert_eq!(instance(&c, 1, "ctl-1")["status"], "NORMAL");
    ctl.ok(&["instance", "sse", "ctl-1", "on"]);
    assert_eq!(instance(&c, 2, "ctl-1")["sse_enabled"], true);
    ctl.ok(&["instance", "sse", "ctl-1", "off"]);
    assert_eq!(instance(&c, 2, "ctl-1")["sse_enabled"], false);

    // --- storage: tables never show an sk.
    let table = ctl.ok(&["storage", "get", "ctl-1"]);
    assert!(table.contains("built_in_storage_vault") && table.contains("AK1"), "{table}");
    assert!(!table.contains("SECRET-SK-1"), "{table}");
    let vaults = ctl.ok(&["call", "show_storage_vaults", r#"{"cloud_unique_id":"1:ctl-1:x"}"#]);
    assert!(vaults.contains("built_in_storage_vault"), "{vaults}");
    // The legacy form (no vault) takes add_obj_info, legacy_update_ak_sk and update_ak_sk.
    let legacy =
        "ak=AK2,sk=SK2,bucket=b,prefix=p,endpoint=e,external_endpoint=e,region=r,provider=S3,user_id=bucket-user";
    ctl.ok(&["instance", "create", "ctl-2", "--name", "two", "--user-id", "u2", "--legacy-obj", legacy]);
    ctl.ok(&[
        "storage",
        "add",
        "ctl-2",
        "--obj",
        "ak=AK3,sk=SK3,bucket=b3,prefix=p3,endpoint=e,external_endpoint=e,region=r,provider=S3",
    ]);
    let objs = instance(&c, 3, "ctl-2")["obj_info"].as_array().cloned().unwrap_or_default();
    assert_eq!(objs.len(), 2, "{objs:?}");
    ctl.ok(&["storage", "set-obj-ak-sk", "ctl-2", "--obj-id", "2", "--ak", "AK4", "--sk", "SK4"]);
    let objs = instance(&c, 1, "ctl-2")["obj_info"].as_array().cloned().unwrap_or_default();
    assert!(objs.iter().any(|o| o["id"] == "2" && o["ak"] == "AK4"), "{objs:?}");
    ctl.ok(&["storage", "update-ak-sk", "ctl-2", "--user", "user_id=bucket-user,ak=AK5,sk=SK5"]);
    let objs = instance(&c, 2, "ctl-2")["obj_info"].as_array().cloned().unwrap_or_default();
    assert!(objs.iter().any(|o| o["id"] == "1" && o["ak"] == "AK5"), "{objs:?}");

    // --- clusters and nodes
    let be = |n: u32| format!("ip=10.0.0.{n},heartbeat_port=9050,cloud_unique_id=1:ctl-1:be{n}");
    ctl.ok(&["cluster", "add", "ctl-1", "--cluster-id", "c1", "--name", "compute", "--node", &be(1), "--node", &be(2)]);
    ctl.ok(&[
        "cluster",
        "add",
        "ctl-1",
        "--cluster-id",
        "fe",
        "--name",
        "fe",
        "--type",
        "sql",
        "--node",
        "ip=10.0.0.9,edit_log_port=9010,node_type=FE_MASTER,cloud_unique_id=1:ctl-1:fe",
    ]);
    assert_eq!(cluster(&c, 2, "ctl-1", "c1")["nodes"].as_array().map(Vec::len), Some(2));
    assert_eq!(cluster(&c, 2, "ctl-1", "fe")["type"], "SQL");
    let table = ctl.ok(&["cluster", "get", "ctl-1", "--cluster-name", "compute"]);
    assert!(table.contains("10.0.0.2") && table.contains("COMPUTE"), "{table}");
    assert!(ctl.ok(&["cluster", "list", "ctl-1"]).contains("fe"));
    ctl.ok(&["cluster", "set-mysql-user", "ctl-1", "--cluster-id", "c1", "root", "admin"]);
    assert_eq!(cluster(&c, 3, "ctl-1", "c1")["mysql_user_name"], serde_json::json!(["root", "admin"]));
    assert!(ctl.ok(&["cluster", "get", "ctl-1", "--mysql-user", "admin"]).contains("compute"));
    ctl.ok(&["cluster", "rename", "ctl-1", "--cluster-id", "c1", "compute2"]);
    assert_eq!(cluster(&c, 1, "ctl-1", "c1")["cluster_name"], "compute2");
    ctl.ok(&["cluster", "set-status", "ctl-1", "--cluster-id", "c1", "suspended"]);
    assert_eq!(cluster(&c, 1, "ctl-1", "c1")["cluster_status"], "SUSPENDED");
    assert!(ctl.ok(&["cluster", "status", "ctl-1", "--status", "SUSPENDED"]).contains("ctl-1"));
    ctl.ok(&["cluster", "set-endpoint", "ctl-1", "--cluster-id", "c1", "--public", "pub", "--private", "priv"]);
    assert_eq!(cluster(&c, 2, "ctl-1", "c1")["public_endpoint"], "pub");
    ctl.ok(&["cluster", "add-node", "ctl-1", "--cluster-id", "c1", "--node", &be(3)]);
    assert_eq!(cluster(&c, 2, "ctl-1", "c1")["nodes"].as_array().map(Vec::len), Some(3));
    let node3 = |c: &Cluster| {
        cluster(c, 3, "ctl-1", "c1")["nodes"]
            .as_array()
            .and_then(|ns| ns.iter().find(|n| n["ip"] == "10.0.0.3").cloned())
            .unwrap_or(Value::Null)
    };
    ctl.ok(&["cluster", "decommission-node", "ctl-1", "--cluster-id", "c1", "--node", &be(3)]);
    assert_eq!(node3(&c)["status"], "NODE_STATUS_DECOMMISSIONING");
    ctl.ok(&["cluster", "notify-decommissioned", "ctl-1", "--cluster-id", "c1", "--node", &be(3)]);
    assert_eq!(node3(&c)["status"], "NODE_STATUS_DECOMMISSIONED");
    ctl.ok(&["cluster", "drop-node", "ctl-1", "--cluster-id", "c1", "--node", &be(3)]);
    assert_eq!(node3(&c), Value::Null);
    ctl.ok(&["cluster", "drop", "ctl-1", "--cluster-id", "fe"]);
    assert_eq!(cluster(&c, 1, "ctl-1", "fe"), Value::Null);

    // --- keys (text routes print as they are)
    let encoded = ctl.ok(&["key", "encode", "InstanceKey", "instance_id=ctl-1"]);
    let hex = encoded.lines().find(|l| !l.is_empty() && l.chars().all(|ch| ch.is_ascii_hexdigit())).expect("hex line");
    assert!(ctl.ok(&["key", "decode", hex]).contains("ctl-1"));
    let stored = ctl.ok(&["key", "get", "InstanceKey", "instance_id=ctl-1"]);
    assert!(stored.contains(r#""instance_id":"ctl-1""#), "{stored}");
    assert!(ctl.ok(&["key", "get", "InstanceKey", "--key", hex]).contains("compute2"));

    // --- any route as is, body from a file; drop_instance refuses while clusters remain.
    let dir = tempfile::tempdir().expect("temp dir");
    let body = dir.path().join("body.json");
    std::fs::write(&body, r#"{instance_id: 'ctl-1',}"#).expect("write body"); // Doris's lenient JSON
    let err = ctl.fails(&["call", "drop_instance", &format!("@{}", body.display())]);
    assert!(err.contains("instance has clusters"), "{err}");
    ctl.ok(&["cluster", "drop", "ctl-1", "--cluster-id", "c1"]);
    ctl.ok(&["instance", "drop", "ctl-2"]);
    assert_eq!(instance(&c, 3, "ctl-2")["status"], "DELETED");

    // --- command-line mistakes are refused before anything is sent
    let err = ctl.fails(&["cluster", "add", "ctl-1", "--cluster-id", "c9", "--name", "x", "--node", "ipp=1"]);
    assert!(err.contains("has no field \"ipp\""), "{err}");
    let err = ctl.fails(&["cluster", "add", "ctl-1", "--cluster-id", "c9", "--name", "x", "--type", "big"]);
    assert!(err.contains("is not one of SQL, COMPUTE, VIRTUAL"), "{err}");
    assert!(ctl.fails(&["call", "no_such_route"]).contains("no Doris route \"no_such_route\""));
    assert_eq!(cluster(&c, 1, "ctl-1", "c9"), Value::Null);

    // --- operations
    let members = ctl.ok(&["nodes", "list"]);
    assert_eq!(members.matches("voter").count(), 3, "{members}");
    assert!(ctl.ok(&["status"]).contains("failure_tolerance"));
}
