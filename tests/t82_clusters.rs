//! Clusters and nodes (endpoints §10–§17) against a real three-node cluster: every validation row
//! (status, code, message), every cluster-status edge, reads right after writes on another
//! member, and racing duplicate `add_cluster`s on two members.

mod common;

use common::Cluster;
use common::Resp;
use serde_json::json;
use serde_json::Value;

/// Sends each request to the next member in turn, so a read usually follows its write elsewhere.
struct Rot<'a> {
    c: &'a Cluster,
    next: u64,
}

impl Rot<'_> {
    fn call(&mut self, route: &str, body: &str) -> Resp {
        let id = self.next % 3 + 1;
        self.next += 1;
        self.c.api(id, route, "", Some(body)).unwrap_or_else(|e| panic!("{route} on node {id}: {e}"))
    }

    fn expect(&mut self, route: &str, body: &str, status: u16, code: &str, msg: &str) -> Value {
        let r = self.call(route, body);
        let v = r.json();
        assert_eq!(
            (r.status, v["code"].as_str(), v["msg"].as_str()),
            (status, Some(code), Some(msg)),
            "{route} {body}: {r:?}"
        );
        v
    }

    fn ok(&mut self, route: &str, body: &str) -> Value {
        self.expect(route, body, 200, "OK", "")
    }
}

const BAD: (u16, &str) = (400, "INVALID_ARGUMENT");
const NF: (u16, &str) = (404, "NOT_FOUND");
const DUP: (u16, &str) = (409, "ALREADY_EXISTED");
const INTERNAL: (u16, &str) = (500, "INTERNAL_ERROR");

const HELP: &str = " help Msg=Ms nodes memory cache may be inconsistent, pls check registry key may be contain \
                    127.0.0.1, and call get_instance api get instance info from fdb";

fn be(cuid: &str, ip: &str, port: u16) -> String {
    format!(r#"{{"cloud_unique_id":"{cuid}","ip":"{ip}","heartbeat_port":{port}}}"#)
}

fn fe(cuid: &str, ip: &str, kind: &str) -> String {
    format!(r#"{{"cloud_unique_id":"{cuid}","ip":"{ip}","edit_log_port":9010,"node_type":"{kind}"}}"#)
}

fn alter(inst: &str, cluster: &str) -> String {
    format!(r#"{{"instance_id":"{inst}","cluster":{cluster}}}"#)
}

fn compute(id: &str, name: &str, nodes: &[String]) -> String {
    format!(r#"{{"cluster_id":"{id}","cluster_name":"{name}","type":"COMPUTE","nodes":[{}]}}"#, nodes.join(","))
}

fn sql(id: &str, name: &str, nodes: &[String]) -> String {
    format!(r#"{{"cluster_id":"{id}","cluster_name":"{name}","type":"SQL","nodes":[{}]}}"#, nodes.join(","))
}

#[test]
fn cluster_routes_follow_the_spec() {
    let c = Cluster::start("t82-spec");
    c.create_ok(1, "ci1");
    c.create_ok(2, "ci2");
    let mut t = Rot { c: &c, next: 0 };

    // --- §10 preamble and §10.1 parameters, through add_cluster.
    let n1 = be("1:ci1:be1", "10.0.0.1", 9050);
    let rows: Vec<(String, (u16, &str), String)> = vec![
        ("{}".into(), BAD, "invalid request instance_id or cluster not given".into()),
        (r#"{"instance_id":"ci1"}"#.into(), BAD, "invalid request instance_id or cluster not given".into()),
        (r#"{"cloud_unique_id":"garbage","cluster":{}}"#.into(), BAD, "empty instance_id".into()),
        (
            r#"{"cloud_unique_id":"1:nope:x","cluster":{}}"#.into(),
            BAD,
            "use degrade cloud_unique_id, but instance_id invalid, cloud_unique_id=1:nope:x".into(),
        ),
        (r#"{"cloud_unique_id":"1:ci1:x"}"#.into(), BAD, "invalid request instance_id or cluster not given".into()),
        (alter("ci1", "{}"), BAD, "cluster must have type arg".into()),
        (alter("ci1", r#"{"type":"COMPUTE"}"#), BAD, "not have cluster name".into()),
        (alter("ci1", r#"{"type":"COMPUTE","cluster_name":""}"#), BAD, "not have cluster name".into()),
        (
            alter("ci1", r#"{"type":"COMPUTE","cluster_name":"1bad"}"#),
            BAD,
            "cluster name not regex with ^[a-zA-Z][a-zA-Z0-9_]*$, please check it".into(),
        ),
        (
            alter("ci1", r#"{"type":"COMPUTE","cluster_name":"a-b"}"#),
            BAD,
            "cluster name not regex with ^[a-zA-Z][a-zA-Z0-9_]*$, please check it".into(),
        ),
        (
            alter("ci1", &compute("c1", "compute1", &[r#"{"cloud_unique_id":"1:ci1:a","ip":"1.2.3.4"}"#.into()])),
            BAD,
            r#"check cluster params failed, node : {"cloud_unique_id":"1:ci1:a","ip":"1.2.3.4"}"#.into(),
        ),
        (
            alter("ci1", &compute("c1", "compute1", &[be("1:ci1:a", "1.2.3.4", 0)])),
            BAD,
            r#"check cluster params failed, node : {"cloud_unique_id":"1:ci1:a","ip":"1.2.3.4","heartbeat_port":0}"#
                .into(),
        ),
        (
            alter("ci1", &sql("s1", "sql1", &[r#"{"ip":"1.2.3.4","node_type":"FE_MASTER"}"#.into()])),
            BAD,
            r#"check cluster params failed, node : {"ip":"1.2.3.4","node_type":"FE_MASTER"}"#.into(),
        ),
        (
            alter("ci1", &sql("s1", "sql1", &[r#"{"ip":"1.2.3.4","edit_log_port":9010}"#.into()])),
            BAD,
            r#"check cluster params failed, node : {"ip":"1.2.3.4","edit_log_port":9010}"#.into(),
        ),
        (
            alter(
                "ci1",
                &sql("s1", "sql1", &[fe("1:ci1:f1", "1.1.1.1", "FE_MASTER"), fe("1:ci1:f2", "1.1.1.2", "FE_MASTER")]),
            ),
            BAD,
            "cluster is SQL type, must have only one master node, now master count: 2".into(),
        ),
        (
            alter("ci1", &sql("s1", "sql1", &[fe("1:ci1:f1", "1.1.1.1", "FE_OBSERVER")])),
            BAD,
            "cluster is SQL type, must have only one master node, now master count: 0".into(),
        ),
        (
            alter("ci1", &sql("s1", "sql1", &[])),
            BAD,
            "cluster is SQL type, must have only one master node, now master count: 0".into(),
        ),
        (
            alter(
                "ci1",
                &sql("s1", "sql1", &[fe("1:ci1:f1", "1.1.1.1", "FE_MASTER"), fe("1:ci1:f2", "1.1.1.2", "FE_FOLLOWER")]),
            ),
            BAD,
            "cluster is SQL type, and use multi follower mode, cant set master node, master count: 1 follower count: 1"
                .into(),
        ),
        (
            alter("ci1", &compute("c1", "compute1", &[be("1:nope:x", "1.2.3.4", 9050)])),
            BAD,
            "node=cloud_unique_id: \"1:nope:x\"\nip: \"1.2.3.4\"\nheartbeat_port: 9050\n cloud_unique_id use degrade \
             format, but check instance failed"
                .into(),
        ),
        (
            alter("absent", &compute("c1", "compute1", std::slice::from_ref(&n1))),
            INTERNAL,
            "failed to get instance, info failed to get instance, instance_id=absent err=KeyNotFound".into(),
        ),
    ];
    for (body, (status, code), msg) in &rows {
        t.expect("add_cluster", body, *status, code, msg);
    }

    // --- add_cluster successes and state-dependent refusals.
    t.ok("add_cluster", &alter("ci1", &compute("c1", "compute1", std::slice::from_ref(&n1))));
    t.ok("v1/add_cluster", &alter("ci1", &sql("s1", "sql1", &[fe("1:ci1:fe1", "10.0.1.1", "FE_MASTER")])));
    // An empty COMPUTE cluster, added through cloud_unique_id resolution.
    t.ok("add_cluster", r#"{"cloud_unique_id":"1:ci1:zz","cluster":{"cluster_id":"c2","cluster_name":"empty2","type":"COMPUTE","nodes":[]}}"#);
    // A node whose cloud_unique_id is not of the degraded form: resolvable only through the index.
    t.ok("add_cluster", &alter("ci1", &compute("c3", "plain3", &[be("be-plain-1", "10.0.0.3", 9050)])));
    let dup_rows: Vec<(String, (u16, &str), String)> = vec![
        (
            alter("ci1", &compute("c1", "other", &[])),
            DUP,
            "try to add a existing cluster id, existing_cluster_id=c1".into(),
        ),
        (
            alter("ci1", &compute("c9", "compute1", &[])),
            DUP,
            "try to add a existing cluster name, existing_cluster_name=compute1".into(),
        ),
        (
            alter("ci1", &compute("c9", "c9", &[be("1:ci1:be9", "10.0.0.1", 9050)])),
            DUP,
            "compute node endpoint has been added, registered be node=10.0.0.1:9050".into(),
        ),
        (
            alter("ci1", &sql("s9", "s9", &[fe("1:ci1:fe9", "10.0.1.1", "FE_MASTER")])),
            DUP,
            "sql node endpoint has been added, registered fe node=10.0.1.1:9010".into(),
        ),
        (
            alter("ci1", &compute("c9", "c9", &[r#"{"cloud_unique_id":"1:ci1:be9","heartbeat_port":9050}"#.into()])),
            BAD,
            r#"add node input args node invalid, cluster={"cloud_unique_id":"1:ci1:be9","heartbeat_port":9050}"#.into(),
        ),
        (
            alter("ci2", &compute("c1", "compute1", &[be("1:ci1:be1", "10.9.9.9", 9050)])),
            DUP,
            "cloud_unique_id is already occupied by an instance, instance_id=ci1 cluster_name=compute1 cluster_id=c1 \
             cloud_unique_id=1:ci1:be1"
                .into(),
        ),
        (
            alter("absent", &compute("c1", "compute1", &[be("be-plain-1", "10.9.9.9", 9050)])),
            DUP,
            "cloud_unique_id is already occupied by an instance, instance_id=ci1 cluster_name=plain3 cluster_id=c3 \
             cloud_unique_id=be-plain-1"
                .into(),
        ),
    ];
    for (body, (status, code), msg) in &dup_rows {
        t.expect("add_cluster", body, *status, code, msg);
    }
    // The same endpoint in another instance is fine.
    t.ok("add_cluster", &alter("ci2", &compute("c1", "compute1", &[be("1:ci2:be1", "10.0.0.1", 9050)])));

    // --- get_instance resolves registered nodes (§0.2).
    let r = c.api(2, "get_instance", "cloud_unique_id=be-plain-1", None).unwrap();
    assert!(r.is_ok(), "{r:?}");
    assert_eq!(r.json()["result"]["instance_id"], "ci1");
    assert_eq!(r.json()["result"]["clusters"].as_array().map(Vec::len), Some(4));

    // --- get_cluster (§12).
    t.expect("get_cluster", "{}", BAD.0, BAD.1, "cloud_unique_id must be given");
    t.expect("get_cluster", r#"{"instance_id":"ci1"}"#, BAD.0, BAD.1, "cloud_unique_id must be given");
    t.expect("get_cluster", r#"{"cloud_unique_id":"garbage"}"#, BAD.0, BAD.1, "empty instance_id");
    t.expect(
        "get_cluster",
        r#"{"cloud_unique_id":"garbage","instance_id":"absent"}"#,
        INTERNAL.0,
        INTERNAL.1,
        "failed to get instance, instance_id=absent err=KeyNotFound",
    );
    t.expect(
        "get_cluster",
        r#"{"cloud_unique_id":"1:ci1:x","cluster_id":"zz"}"#,
        NF.0,
        NF.1,
        r#"fail to get cluster with cloud_unique_id: "1:ci1:x" cluster_id: "zz""#,
    );
    t.expect(
        "get_cluster",
        r#"{"cloud_unique_id":"1:ci1:x","cluster_name":"nope","mysql_user_name":"u"}"#,
        NF.0,
        NF.1,
        r#"fail to get cluster with cloud_unique_id: "1:ci1:x" cluster_name: "nope" mysql_user_name: "u""#,
    );
    let v = t.ok("get_cluster", r#"{"cloud_unique_id":"1:ci1:x","cluster_id":"c1"}"#);
    let got = &v["result"];
    assert_eq!(got["cluster_id"], "c1");
    assert_eq!(got["cluster_name"], "compute1");
    assert_eq!(got["type"], "COMPUTE");
    assert_eq!(got["cluster_status"], "NORMAL");
    let node = &got["nodes"][0];
    assert_eq!((node["ip"].as_str(), node["heartbeat_port"].as_i64()), (Some("10.0.0.1"), Some(9050)));
    let ctime = node["ctime"].as_str().expect("ctime is an int64 string");
    assert_eq!(node["mtime"].as_str(), Some(ctime));
    assert_eq!(got["ctime"].as_str(), Some(ctime));
    // Fields print in field-number order (the JSON value above sorts its keys; check the text).
    let r = t.call("get_cluster", r#"{"cloud_unique_id":"1:ci1:x","cluster_id":"c1"}"#);
    let at = |k: &str| r.body.find(&format!("\n        \"{k}\": ")).unwrap_or_else(|| panic!("{k} in {}", r.body));
    let order = ["cluster_id", "cluster_name", "type", "nodes", "cluster_status", "ctime", "mtime"].map(at);
    assert!(order.windows(2).all(|w| w[0] < w[1]), "{}", r.body);
    let v = t.ok("get_cluster", r#"{"cloud_unique_id":"be-plain-1","cluster_name":"sql1"}"#);
    assert_eq!(v["result"]["type"], "SQL");
    assert!(v["result"].get("cluster_status").is_none(), "SQL clusters get no status: {v}");
    // cluster_id wins over cluster_name.
    let v = t.ok("get_cluster", r#"{"cloud_unique_id":"1:ci1:x","cluster_id":"c3","cluster_name":"compute1"}"#);
    assert_eq!(v["result"]["cluster_name"], "plain3");
    let v = t.ok("v1/get_cluster", r#"{"cloud_unique_id":"1:ci1:x"}"#);
    assert_eq!(v["result"]["status"], json!({"code": "OK", "msg": ""}));
    assert_eq!(v["result"]["cluster"].as_array().map(Vec::len), Some(4));
    assert_eq!(v["result"]["enable_storage_vault"], true);
    t.expect(
        "get_cluster",
        r#"{"cloud_unique_id":"1:ci2:x","instance_id":"ci1","cluster_id":"c3"}"#,
        NF.0,
        NF.1,
        r#"fail to get cluster with instance_id: "ci1" cloud_unique_id: "1:ci2:x" cluster_id: "c3""#,
    );

    // --- update_cluster_mysql_user_name (§16), rename_cluster (§14): the update_cluster rows.
    for route in ["rename_cluster", "update_cluster_mysql_user_name", "set_cluster_status", "drop_cluster"] {
        t.expect(route, &alter("ci1", r#"{"cluster_name":"x"}"#), BAD.0, BAD.1, "missing cluster_id=");
        t.expect(route, r#"{"instance_id":"ci1"}"#, BAD.0, BAD.1, "invalid request instance_id or cluster not given");
    }
    for route in ["rename_cluster", "update_cluster_mysql_user_name", "set_cluster_status"] {
        t.expect(
            route,
            &alter("absent", r#"{"cluster_id":"c1"}"#),
            BAD.0,
            BAD.1,
            "failed to get instance, instance_id=absent err=KeyNotFound",
        );
        t.expect(
            route,
            &alter("ci1", r#"{"cluster_id":"zz","cluster_name":"nn"}"#),
            BAD.0,
            BAD.1,
            "failed to find cluster to update, instance_id=ci1 cluster_id=zz cluster_name=nn",
        );
    }
    t.ok("update_cluster_mysql_user_name", &alter("ci1", r#"{"cluster_id":"c1","mysql_user_name":["jack","rose"]}"#));
    let v = t.ok("get_cluster", r#"{"cloud_unique_id":"1:ci1:x","mysql_user_name":"rose"}"#);
    assert_eq!(v["result"]["cluster_id"], "c1");
    assert_eq!(v["result"]["mysql_user_name"], json!(["jack", "rose"]));
    t.ok("v1/update_cluster_mysql_user_name", &alter("ci1", r#"{"cluster_id":"c1","mysql_user_name":"solo"}"#));
    let v = t.ok("get_cluster", r#"{"cloud_unique_id":"1:ci1:x","cluster_id":"c1"}"#);
    assert_eq!(v["result"]["mysql_user_name"], json!(["solo"]));

    let r = t.call("rename_cluster", &alter("ci1", r#"{"cluster_id":"c1","cluster_name":"compute1"}"#));
    assert_eq!(r.status, 400, "{r:?}");
    let msg = r.json()["msg"].as_str().unwrap().to_string();
    assert!(
        msg.starts_with(
            r#"failed to rename cluster, a cluster with the same name already exists in this instance {"cluster_id":"c1","cluster_name":"compute1","type":"COMPUTE","nodes":[{"#
        ),
        "{msg}"
    );
    t.expect("rename_cluster", &alter("ci1", r#"{"cluster_id":"c1","cluster_name":"sql1"}"#), BAD.0, BAD.1, &msg);
    t.ok("rename_cluster", &alter("ci1", r#"{"cluster_id":"c1","cluster_name":"renamed1"}"#));
    t.ok("get_cluster", r#"{"cloud_unique_id":"1:ci1:x","cluster_name":"renamed1"}"#);
    t.expect(
        "get_cluster",
        r#"{"cloud_unique_id":"1:ci1:x","cluster_name":"compute1"}"#,
        NF.0,
        NF.1,
        r#"fail to get cluster with cloud_unique_id: "1:ci1:x" cluster_name: "compute1""#,
    );
    t.ok("v1/rename_cluster", &alter("ci1", r#"{"cluster_id":"c1","cluster_name":"compute1"}"#));

    // --- set_cluster_status (§17): every refusal and every allowed edge.
    let set = |s: &str| alter("ci1", &format!(r#"{{"cluster_id":"c1","cluster_status":"{s}"}}"#));
    t.expect(
        "set_cluster_status",
        &alter("ci1", r#"{"cluster_id":"s1","cluster_status":"NORMAL"}"#),
        BAD.0,
        BAD.1,
        "just support set COMPUTE cluster status",
    );
    t.expect(
        "set_cluster_status",
        &alter("ci1", r#"{"cluster_id":"c1"}"#),
        BAD.0,
        BAD.1,
        "failed to set cluster status, original cluster is NORMAL and want set UNKNOWN",
    );
    let r = t.call("set_cluster_status", &set("STOPPED"));
    assert_eq!((r.status, r.code().as_deref()), (400, Some("INVALID_ARGUMENT")), "{r:?}");
    let m = r.json()["msg"].as_str().unwrap().to_string();
    assert!(m.contains("cluster_status") && m.contains("STOPPED") && m.contains("MANUAL_SHUTDOWN"), "{m}");
    // (from, to, allowed) over the whole 5×5 table, walking the graph to reach each `from`.
    let names = ["UNKNOWN", "NORMAL", "SUSPENDED", "TO_RESUME", "MANUAL_SHUTDOWN"];
    let allowed = [
        ("UNKNOWN", "NORMAL"),
        ("NORMAL", "SUSPENDED"),
        ("SUSPENDED", "TO_RESUME"),
        ("TO_RESUME", "NORMAL"),
        ("SUSPENDED", "NORMAL"),
        ("NORMAL", "MANUAL_SHUTDOWN"),
        ("MANUAL_SHUTDOWN", "NORMAL"),
    ];
    // Paths from NORMAL to each state a COMPUTE cluster can reach, and back.
    let path_to = |s: &str| -> Vec<&'static str> {
        match s {
            "SUSPENDED" => vec!["SUSPENDED"],
            "TO_RESUME" => vec!["SUSPENDED", "TO_RESUME"],
            "MANUAL_SHUTDOWN" => vec!["MANUAL_SHUTDOWN"],
            _ => vec![],
        }
    };
    let mut current = "NORMAL".to_string();
    let mut edges_taken = 0;
    for from in &names[1..] {
        for to in &names[1..] {
            // Go to `from`: back to NORMAL, then along its path.
            if current != *from {
                if current != "NORMAL" {
                    t.ok("set_cluster_status", &set("NORMAL"));
                }
                for step in path_to(from) {
                    t.ok("set_cluster_status", &set(step));
                }
                current = from.to_string();
            }
            let v = t.ok("get_cluster", r#"{"cloud_unique_id":"1:ci1:x","cluster_id":"c1"}"#);
            assert_eq!(v["result"]["cluster_status"], *from);
            if from == to {
                let msg =
                    format!("failed to set cluster status, status eq original status, original cluster is {from}");
                t.expect("set_cluster_status", &set(to), BAD.0, BAD.1, &msg);
            } else if allowed.contains(&(*from, *to)) {
                t.ok("v1/set_cluster_status", &set(to));
                let v = t.ok("get_cluster_status", r#"{"instance_ids":["ci1"]}"#);
                assert_eq!(v["result"]["details"][0]["clusters"][0]["cluster_status"], *to, "{v}");
                current = to.to_string();
                edges_taken += 1;
            } else {
                let msg = format!("failed to set cluster status, original cluster is {from} and want set {to}");
                t.expect("set_cluster_status", &set(to), BAD.0, BAD.1, &msg);
            }
        }
    }
    assert_eq!(edges_taken, 6);
    if current != "NORMAL" {
        t.ok("set_cluster_status", &set("NORMAL"));
    }
    let v = t.ok("get_cluster", r#"{"cloud_unique_id":"1:ci1:x","cluster_id":"c1"}"#);
    assert_eq!(v["result"]["cluster_status"], "NORMAL");

    // --- get_cluster_status (§17).
    let v = t.expect(
        "get_cluster_status",
        "{}",
        BAD.0,
        BAD.1,
        "cloud_unique_ids or instance_ids must be given, instance_ids.size: 0 cloud_unique_ids.size: 0",
    );
    assert_eq!(
        v["result"],
        json!({"status": {"code": "INVALID_ARGUMENT", "msg": "cloud_unique_ids or instance_ids must be given, instance_ids.size: 0 cloud_unique_ids.size: 0"}})
    );
    let v = t.ok("get_cluster_status", r#"{"cloud_unique_ids":["garbage"]}"#);
    assert_eq!(v["result"], json!({"status": {"code": "OK", "msg": ""}}));
    let v = t.ok("get_cluster_status", r#"{"instance_ids":["absent"]}"#);
    assert_eq!(v["result"], json!({"status": {"code": "OK", "msg": "{}"}}));
    t.ok("set_cluster_status", &set("SUSPENDED"));
    let v = t.ok("v1/get_cluster_status", r#"{"cloud_unique_ids":["be-plain-1","1:ci2:x"]}"#);
    let details = json!([
        {"instance_id": "ci1", "clusters": [
            {"cluster_id": "c1", "cluster_name": "compute1", "cluster_status": "SUSPENDED"},
            {"cluster_id": "c2", "cluster_name": "empty2", "cluster_status": "NORMAL"},
            {"cluster_id": "c3", "cluster_name": "plain3", "cluster_status": "NORMAL"}]},
        {"instance_id": "ci2", "clusters": [
            {"cluster_id": "c1", "cluster_name": "compute1", "cluster_status": "NORMAL"}]}
    ]);
    assert_eq!(v["result"]["details"], details, "{v}");
    let msg = v["result"]["status"]["msg"].as_str().unwrap();
    assert_eq!(serde_json::from_str::<Value>(msg).unwrap(), json!({ "details": details }), "{v}");
    assert!(msg.starts_with(r#"{"details":[{"instance_id":"ci1","clusters":[{"cluster_id":"c1","#), "{msg}");
    let v = t.ok("get_cluster_status", r#"{"instance_ids":["ci1","ci2"],"status":"SUSPENDED"}"#);
    assert_eq!(
        v["result"]["details"],
        json!([{"instance_id": "ci1", "clusters": [{"cluster_id": "c1", "cluster_name": "compute1", "cluster_status": "SUSPENDED"}]}])
    );
    t.ok("set_cluster_status", &set("NORMAL"));

    // --- add_node / drop_node (§15).
    for route in ["add_node", "drop_node"] {
        t.expect(
            route,
            &alter("ci1", r#"{"cluster_id":"c1","cluster_name":"compute1"}"#),
            BAD.0,
            BAD.1,
            "cluster must have type arg",
        );
        t.expect(
            route,
            &alter("ci1", &compute("c1", "compute1", &[])),
            BAD.0,
            BAD.1,
            "to_add and to_del both empty or both not empty",
        );
        t.expect(
            route,
            &alter("ci1", &compute("c1", "9x", &[])),
            BAD.0,
            BAD.1,
            "cluster name not regex with ^[a-zA-Z][a-zA-Z0-9_]*$, please check it",
        );
        t.expect(
            route,
            &alter("ci1", &compute("c1", "compute1", &[be("1:ci1:z", "10.0.0.9", 0)])),
            BAD.0,
            BAD.1,
            r#"check cluster params failed, node : {"cloud_unique_id":"1:ci1:z","ip":"10.0.0.9","heartbeat_port":0}"#,
        );
        t.expect(
            route,
            &alter("absent", &compute("c1", "compute1", &[be("1:ci1:z", "10.0.0.9", 9050)])),
            BAD.0,
            BAD.1,
            "failed to get instance, instance_id=absent err=KeyNotFound",
        );
    }
    t.expect(
        "add_node",
        &alter("ci1", &compute("c1", "compute1", &[be("1:ci1:be2", "10.0.0.3", 9050)])),
        BAD.0,
        BAD.1,
        "compute node endpoint has been added, registered be node=10.0.0.3:9050",
    );
    t.expect("add_node", &alter("ci1", &compute("c1", "compute1", &[be("1:ci2:be1", "10.0.0.2", 9050)])), BAD.0, BAD.1,
        "cloud_unique_id is already occupied by an instance, instance_id=ci2 cluster_name=compute1 cluster_id=c1 cloud_unique_id=1:ci2:be1");
    t.expect(
        "add_node",
        &alter("ci1", &sql("s1", "sql1", &[fe("1:ci1:fe2", "10.0.1.2", "FE_MASTER")])),
        BAD.0,
        BAD.1,
        "instance invalid, cant modify, plz check",
    );
    t.ok("add_node", &alter("ci1", &compute("c1", "compute1", &[be("1:ci1:be2", "10.0.0.2", 9050)])));
    t.ok("v1/add_node", &alter("ci1", &sql("s1", "sql1", &[fe("1:ci1:fe2", "10.0.1.2", "FE_OBSERVER")])));
    // No matching cluster: nothing changes, still OK.
    t.ok("add_node", &alter("ci1", &compute("c77", "nomatch", &[be("1:ci1:be77", "10.0.0.77", 9050)])));
    let v = t.ok("get_cluster", r#"{"cloud_unique_id":"1:ci1:x","cluster_id":"c1"}"#);
    let nodes = v["result"]["nodes"].as_array().unwrap().clone();
    assert_eq!(nodes.len(), 2, "{v}");
    assert_eq!(nodes[1]["status"], "NODE_STATUS_RUNNING");
    assert_eq!(nodes[1]["ip"], "10.0.0.2");
    let v = t.ok("get_cluster", r#"{"cloud_unique_id":"1:ci1:x"}"#);
    let all = v["result"]["cluster"].as_array().unwrap();
    assert!(all.iter().all(|c| c["nodes"].as_array().is_none_or(|n| n.iter().all(|n| n["ip"] != "10.0.0.77"))), "{v}");

    t.expect("drop_node", &alter("ci1", &compute("c1", "compute1", &[be("1:ci1:nobody", "10.0.0.2", 9050)])), NF.0, NF.1,
        &format!("not found ,can not find to drop nodes by cloud_unique_id=1:ci1:nobody instance_id=ci1 cluster_name=compute1 cluster_id=c1{HELP}"));
    t.expect("drop_node", &alter("ci1", &compute("c1", "compute1", &[be("1:ci1:be2", "10.0.0.2", 9051)])), NF.0, NF.1,
        &format!("not found ,can not find to drop nodes by cloud_unique_id=1:ci1:be2 instance_id=ci1 cluster_name=compute1 cluster_id=c1{HELP}"));
    t.expect(
        "drop_node",
        &alter("ci1", &sql("s1", "sql1", &[fe("1:ci1:fe1", "10.0.1.1", "FE_MASTER")])),
        BAD.0,
        BAD.1,
        "instance invalid, cant modify, plz check",
    );
    t.ok("drop_node", &alter("ci1", &compute("c1", "compute1", &[be("1:ci1:be2", "10.0.0.2", 9050)])));
    t.ok("v1/drop_node", &alter("ci1", &sql("s1", "sql1", &[fe("1:ci1:fe2", "10.0.1.2", "FE_OBSERVER")])));
    let v = t.ok("get_cluster", r#"{"cloud_unique_id":"1:ci1:x","cluster_id":"c1"}"#);
    assert_eq!(v["result"]["nodes"].as_array().map(Vec::len), Some(1));
    // The dropped endpoint can be added again.
    t.ok("add_node", &alter("ci1", &compute("c1", "compute1", &[be("1:ci1:be2", "10.0.0.2", 9050)])));

    // --- drop_cluster (§13).
    t.expect(
        "drop_cluster",
        &alter("absent", r#"{"cluster_id":"c1"}"#),
        NF.0,
        NF.1,
        "failed to get instance, instance_id=absent err=KeyNotFound",
    );
    t.expect(
        "drop_cluster",
        &alter("ci1", r#"{"cluster_id":"zz","cluster_name":"nn"}"#),
        NF.0,
        NF.1,
        &format!("failed to find cluster to drop, instance_id=ci1 cluster_id=zz cluster_name=nn{HELP}"),
    );
    t.ok("drop_cluster", &alter("ci1", r#"{"cluster_id":"c3"}"#));
    t.expect(
        "v1/drop_cluster",
        &alter("ci1", r#"{"cluster_id":"c3"}"#),
        NF.0,
        NF.1,
        &format!("failed to find cluster to drop, instance_id=ci1 cluster_id=c3 cluster_name={HELP}"),
    );
    t.expect(
        "get_cluster",
        r#"{"cloud_unique_id":"1:ci1:x","cluster_id":"c3"}"#,
        NF.0,
        NF.1,
        r#"fail to get cluster with cloud_unique_id: "1:ci1:x" cluster_id: "c3""#,
    );
    // Its node left the index: the plain id no longer resolves.
    let r = c.api(3, "get_instance", "cloud_unique_id=be-plain-1", None).unwrap();
    assert_eq!(
        (r.status, r.json()["msg"].as_str()),
        (400, Some("cannot find instance_id with cloud_unique_id=be-plain-1"))
    );
    // …and may be registered elsewhere now.
    t.ok("add_cluster", &alter("ci2", &compute("c3", "plain3", &[be("be-plain-1", "10.0.0.3", 9050)])));
    let r = c.api(1, "get_instance", "cloud_unique_id=be-plain-1", None).unwrap();
    assert_eq!(r.json()["result"]["instance_id"], "ci2");
    // Dropping every cluster leaves get_cluster (all) with 404.
    for id in ["c1", "c2", "s1"] {
        t.ok("drop_cluster", &alter("ci1", &format!(r#"{{"cluster_id":"{id}"}}"#)));
    }
    t.expect(
        "get_cluster",
        r#"{"cloud_unique_id":"1:ci1:x"}"#,
        NF.0,
        NF.1,
        r#"fail to get cluster with cloud_unique_id: "1:ci1:x""#,
    );
}

#[test]
fn racing_duplicate_add_cluster_gives_exactly_one_ok() {
    let c = Cluster::start("t82-race");
    c.create_ok(1, "race");
    for round in 0..5 {
        let body = alter(
            "race",
            &compute(
                &format!("rc{round}"),
                &format!("race{round}"),
                &[be(&format!("1:race:b{round}"), &format!("10.1.0.{round}"), 9050)],
            ),
        );
        let (a, b) = std::thread::scope(|s| {
            let ha = s.spawn(|| c.api(1 + round % 3, "add_cluster", "", Some(&body)).unwrap());
            let hb = s.spawn(|| c.api(1 + (round + 1) % 3, "add_cluster", "", Some(&body)).unwrap());
            (ha.join().unwrap(), hb.join().unwrap())
        });
        let oks = [&a, &b].iter().filter(|r| r.is_ok()).count();
        assert_eq!(oks, 1, "round {round}: {a:?} {b:?}");
        let loser = if a.is_ok() { &b } else { &a };
        assert_eq!(loser.status, 409, "{loser:?}");
        assert_eq!(loser.json()["msg"], format!("try to add a existing cluster id, existing_cluster_id=rc{round}"));
        // Read right away on the third member.
        let r = c
            .api(
                1 + (round + 2) % 3,
                "get_cluster",
                "",
                Some(&format!(r#"{{"cloud_unique_id":"1:race:x","cluster_id":"rc{round}"}}"#)),
            )
            .unwrap();
        assert!(r.is_ok(), "{r:?}");
        assert_eq!(r.json()["result"]["nodes"].as_array().map(Vec::len), Some(1));
    }
}

#[test]
fn endpoints_and_decommissioning() {
    let c = Cluster::start("t82-decom");
    c.create_ok(1, "di");
    let mut t = Rot { c: &c, next: 1 };
    let n1 = be("1:di:be1", "10.2.0.1", 9050);
    let n2 = be("1:di:be2", "10.2.0.2", 9050);
    t.ok("add_cluster", &alter("di", &compute("dc", "dcomp", &[n1.clone(), n2.clone()])));

    // --- A DELETED instance: 404 where Doris special-cases it (add_cluster, drop_cluster), else 400.
    c.create_ok(2, "gone");
    t.ok("drop_instance", r#"{"instance_id":"gone"}"#);
    let deleted = "instance status has been set delete, plz check it";
    let gone_compute = alter("gone", &compute("g1", "g1", &[be("1:gone:b", "10.3.0.1", 9050)]));
    let gone_update = alter("gone", r#"{"cluster_id":"g1","cluster_name":"g2","private_endpoint":"p"}"#);
    for (route, body, (status, code)) in [
        ("add_cluster", &gone_compute, NF),
        ("drop_cluster", &gone_update, NF),
        ("rename_cluster", &gone_update, BAD),
        ("update_cluster_mysql_user_name", &gone_update, BAD),
        ("set_cluster_status", &gone_update, BAD),
        ("update_cluster_endpoint", &gone_update, BAD),
        ("add_node", &gone_compute, BAD),
        ("drop_node", &gone_compute, BAD),
    ] {
        t.expect(route, body, status, code, deleted);
    }
    // Decommissioning consults the node index before the instance.
    for route in ["decommission_node", "notify_decommissioned"] {
        t.expect(route, &gone_compute, BAD.0, BAD.1, "cloud_unique_id not found");
    }

    // --- update_cluster_endpoint: the update_cluster rows, then the private endpoint.
    let rows: Vec<(String, (u16, &str), &str)> = vec![
        (alter("di", r#"{"private_endpoint":"p"}"#), BAD, "missing cluster_id="),
        (alter("absent", r#"{"cluster_id":"dc"}"#), BAD, "failed to get instance, instance_id=absent err=KeyNotFound"),
        (
            alter("di", r#"{"cluster_id":"zz","cluster_name":"n"}"#),
            BAD,
            "failed to find cluster to update, instance_id=di cluster_id=zz cluster_name=n",
        ),
        (alter("di", r#"{"cluster_id":"dc","public_endpoint":"pub"}"#), INTERNAL, "missing private endpoint"),
        (alter("di", r#"{"cluster_id":"dc","private_endpoint":""}"#), INTERNAL, "missing private endpoint"),
    ];
    for (body, (status, code), msg) in &rows {
        t.expect("update_cluster_endpoint", body, *status, code, msg);
    }
    t.ok(
        "update_cluster_endpoint",
        &alter("di", r#"{"cluster_id":"dc","public_endpoint":"pub:1","private_endpoint":"priv:2"}"#),
    );
    let v = t.ok("get_cluster", r#"{"cloud_unique_id":"1:di:x","cluster_id":"dc"}"#);
    assert_eq!(
        (v["result"]["public_endpoint"].as_str(), v["result"]["private_endpoint"].as_str()),
        (Some("pub:1"), Some("priv:2"))
    );
    t.ok("v1/update_cluster_endpoint", &alter("di", r#"{"cluster_id":"dc","private_endpoint":"priv:3"}"#));
    let v = t.ok("get_cluster", r#"{"cloud_unique_id":"1:di:x","cluster_id":"dc"}"#);
    assert_eq!(
        (v["result"]["public_endpoint"].as_str(), v["result"]["private_endpoint"].as_str()),
        (Some(""), Some("priv:3"))
    );

    // --- decommission_node / notify_decommissioned.
    for route in ["decommission_node", "notify_decommissioned", "v1/decommission_node", "v1/notify_decommissioned"] {
        t.expect(route, r#"{"instance_id":"di"}"#, BAD.0, BAD.1, "invalid request instance_id or cluster not given");
        t.expect(route, &alter("di", r#"{"cluster_id":"dc"}"#), BAD.0, BAD.1, "cluster must have type arg");
        t.expect(
            route,
            &alter("di", &compute("dc", "dcomp", &[])),
            BAD.0,
            BAD.1,
            "to_add and to_del both empty or both not empty",
        );
        t.expect(
            route,
            &alter("di", &compute("dc", "dcomp", &[be("1:di:nobody", "10.2.0.1", 9050)])),
            BAD.0,
            BAD.1,
            "cloud_unique_id not found",
        );
        t.expect(
            route,
            &alter("di", &compute("dc", "dcomp", &[be("1:di:be1", "10.2.0.1", 9051)])),
            BAD.0,
            BAD.1,
            "to_add and to_del both empty or both not empty",
        );
        t.expect(
            route,
            &alter("absent", &compute("dc", "dcomp", std::slice::from_ref(&n1))),
            BAD.0,
            BAD.1,
            "failed to get instance, instance_id=absent err=KeyNotFound",
        );
    }
    t.ok("decommission_node", &alter("di", &compute("dc", "dcomp", std::slice::from_ref(&n1))));
    let v = t.ok("get_cluster", r#"{"cloud_unique_id":"1:di:x","cluster_id":"dc"}"#);
    let nodes = v["result"]["nodes"].as_array().unwrap().clone();
    assert_eq!(nodes.len(), 2);
    // Doris drops and re-adds the node: it moves to the end.
    assert_eq!(
        (nodes[1]["cloud_unique_id"].as_str(), nodes[1]["status"].as_str()),
        (Some("1:di:be1"), Some("NODE_STATUS_DECOMMISSIONING"))
    );
    assert!(nodes[0].get("status").is_none(), "{v}");
    t.ok("notify_decommissioned", &alter("di", &compute("dc", "dcomp", std::slice::from_ref(&n1))));
    let v = t.ok("get_cluster", r#"{"cloud_unique_id":"1:di:x","cluster_id":"dc"}"#);
    assert_eq!(v["result"]["nodes"][1]["status"], "NODE_STATUS_DECOMMISSIONED");
    // A decommissioned node can then be dropped.
    t.ok("drop_node", &alter("di", &compute("dc", "dcomp", &[n1])));
    let v = t.ok("get_cluster", r#"{"cloud_unique_id":"1:di:x","cluster_id":"dc"}"#);
    assert_eq!(v["result"]["nodes"].as_array().map(Vec::len), Some(1));
}
