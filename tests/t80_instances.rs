//! Instance alterations against a real three-node cluster, requests rotated across members:
//! `drop_instance`, `set_instance_status`, `enable_instance_sse`, `disable_instance_sse`,
//! `rename_instance` (endpoints §2, §4, §5) — every listed error, every transition, reads right
//! after writes on another member, and racing duplicates on two members.

mod common;

use common::expect;
use common::ok;
use common::Cluster;
use common::Rotating;
use serde_json::json;

/// A legacy instance (obj_info + ram_user), so SSE flags show on its obj_info too.
fn legacy_body(id: &str) -> String {
    json!({
        "instance_id": id, "name": "n0", "user_id": "u",
        "obj_info": {"ak": "ak", "sk": "sk", "bucket": "b", "prefix": "p", "endpoint": "e",
                     "external_endpoint": "x", "region": "r", "provider": "COS"},
    })
    .to_string()
}

fn create(r: &Rotating<'_>, id: &str) {
    ok(&r.call("create_instance", &legacy_body(id)), "create");
}

fn id_body(id: &str) -> String {
    json!({ "instance_id": id }).to_string()
}

fn op_body(id: &str, op: &str) -> String {
    json!({ "instance_id": id, "op": op }).to_string()
}

#[test]
fn instance_alterations_follow_the_spec() {
    let c = Cluster::start("t80-instances");
    let r = Rotating::new(&c);

    // --- stateless rows, every route (table: route, body, status, code, msg)
    let not_set = "instance id not set";
    let cases: &[(&str, &str, u16, &str, &str)] = &[
        ("drop_instance", "{}", 400, "INVALID_ARGUMENT", not_set),
        ("drop_instance", r#"{"instance_id": ""}"#, 400, "INVALID_ARGUMENT", not_set),
        ("enable_instance_sse", "{}", 400, "INVALID_ARGUMENT", not_set),
        ("disable_instance_sse", "{}", 400, "INVALID_ARGUMENT", not_set),
        ("rename_instance", r#"{"name": "x"}"#, 400, "INVALID_ARGUMENT", not_set),
        ("set_instance_status", "{}", 400, "INVALID_ARGUMENT", "invalid request op, op=0"),
        ("set_instance_status", r#"{"instance_id": "a"}"#, 400, "INVALID_ARGUMENT", "invalid request op, op=0"),
        ("set_instance_status", r#"{"op": "SET_NORMAL"}"#, 400, "INVALID_ARGUMENT", not_set),
        ("set_instance_status", r#"{"op": "SET_OVERDUE"}"#, 400, "INVALID_ARGUMENT", not_set),
        ("set_instance_status", r#"{"op": 7}"#, 400, "INVALID_ARGUMENT", not_set),
        (
            "set_instance_status",
            r#"{"op": "SET_SNAPSHOT_PROPERTY", "instance_id": "a"}"#,
            400,
            "INVALID_ARGUMENT",
            "invalid request op, op=8",
        ),
        (
            "drop_instance",
            r#"{"instance_id": "nope"}"#,
            404,
            "NOT_FOUND",
            "instance not existed, instance_id=nope, err=KeyNotFound",
        ),
        (
            "enable_instance_sse",
            r#"{"instance_id": "nope"}"#,
            404,
            "NOT_FOUND",
            "instance not existed, instance_id=nope, err=KeyNotFound",
        ),
        (
            "disable_instance_sse",
            r#"{"instance_id": "nope"}"#,
            404,
            "NOT_FOUND",
            "instance not existed, instance_id=nope, err=KeyNotFound",
        ),
        (
            "rename_instance",
            r#"{"instance_id": "nope", "name": "n"}"#,
            404,
            "NOT_FOUND",
            "instance not existed, instance_id=nope, err=KeyNotFound",
        ),
        (
            "rename_instance",
            r#"{"instance_id": "nope"}"#,
            404,
            "NOT_FOUND",
            "instance not existed, instance_id=nope, err=KeyNotFound",
        ),
        (
            "set_instance_status",
            r#"{"instance_id": "nope", "op": "SET_OVERDUE"}"#,
            404,
            "NOT_FOUND",
            "instance not existed, instance_id=nope, err=KeyNotFound",
        ),
        (
            "set_instance_status",
            r#"{"instance_id": "nope", "op": "SET_NORMAL"}"#,
            404,
            "NOT_FOUND",
            "instance not existed, instance_id=nope, err=KeyNotFound",
        ),
        (
            "set_instance_status",
            r#"{"instance_id": "nope", "op": "REFRESH"}"#,
            404,
            "NOT_FOUND",
            "instance not existed, instance_id=nope, err=KeyNotFound",
        ),
    ];
    for (route, body, status, code, msg) in cases {
        expect(&r.call(route, body), *status, code, msg, &format!("{route} {body}"));
    }
    // Unknown enum names are refused at parse time, naming the field (profile).
    let resp = r.call("set_instance_status", r#"{"instance_id": "a", "op": "STOPPED"}"#);
    assert_eq!((resp.status, resp.code().as_deref()), (400, Some("INVALID_ARGUMENT")), "{resp:?}");
    assert!(resp.json()["msg"].as_str().unwrap_or_default().contains("op"), "{resp:?}");

    // --- status transitions: NORMAL → OVERDUE → NORMAL → DELETED (terminal)
    create(&r, "st");
    let id = "instance_id = st";
    let steps: &[(&str, u16, &str, String, &str)] = &[
        ("SET_NORMAL", 400, "INVALID_ARGUMENT", format!("the instance is already normal, {id}"), "NORMAL"),
        ("SET_OVERDUE", 200, "OK", String::new(), "OVERDUE"),
        (
            "SET_OVERDUE",
            400,
            "INVALID_ARGUMENT",
            format!("the instance has already set  instance to overdue, {id}"),
            "OVERDUE",
        ),
        ("SET_NORMAL", 200, "OK", String::new(), "NORMAL"),
        ("SET_OVERDUE", 200, "OK", String::new(), "OVERDUE"),
        ("REFRESH", 200, "OK", String::new(), "OVERDUE"),
        ("DROP", 200, "OK", String::new(), "DELETED"),
        ("SET_OVERDUE", 400, "INVALID_ARGUMENT", format!("can't set deleted instance to overdue, {id}"), "DELETED"),
        ("SET_NORMAL", 400, "INVALID_ARGUMENT", format!("can't set deleted instance to normal, {id}"), "DELETED"),
    ];
    for (op, status, code, msg, after) in steps {
        expect(&r.call("set_instance_status", &op_body("st", op)), *status, code, msg, op);
        // Read right after the write, on the next member.
        let inst = r.instance("st");
        assert_eq!(inst["status"], *after, "after {op}: {inst}");
    }
    let inst = r.instance("st");
    assert!(inst["mtime"].as_str().is_some_and(|m| m.parse::<u64>().is_ok()), "mtime is a string of seconds: {inst}");

    // --- drop_instance: marks DELETED, keeps the record, drops again, blocks re-creation
    create(&r, "dr");
    assert!(r.instance("dr").get("mtime").is_none(), "no mtime at creation");
    ok(&r.call("drop_instance", &id_body("dr")), "drop");
    let inst = r.instance("dr");
    assert_eq!((inst["status"].as_str(), inst["name"].as_str()), (Some("DELETED"), Some("n0")), "{inst}");
    ok(&r.call("v1/drop_instance", &id_body("dr")), "drop again");
    let resp = r.call("create_instance", &legacy_body("dr"));
    expect(&resp, 409, "ALREADY_EXISTED", "instance already existed, instance_id=dr, err=Ok", "recreate");
    // SSE and rename still work on a DELETED instance (no status check in Doris).
    ok(&r.call("enable_instance_sse", &id_body("dr")), "sse on deleted");
    ok(&r.call("rename_instance", &json!({"instance_id": "dr", "name": "gone"}).to_string()), "rename deleted");

    // --- SSE: disabled after create; enable/disable flip the instance and its obj_infos
    create(&r, "sse");
    let sse_cases: &[(&str, u16, &str, &str, bool)] = &[
        ("disable_instance_sse", 400, "INVALID_ARGUMENT", "failed to disable sse, instance has disabled sse", false),
        ("enable_instance_sse", 200, "OK", "", true),
        ("enable_instance_sse", 400, "INVALID_ARGUMENT", "failed to enable sse, instance has enabled sse", true),
        ("v1/disable_instance_sse", 200, "OK", "", false),
        ("disable_instance_sse", 400, "INVALID_ARGUMENT", "failed to disable sse, instance has disabled sse", false),
        ("v1/enable_instance_sse", 200, "OK", "", true),
    ];
    for (route, status, code, msg, after) in sse_cases {
        expect(&r.call(route, &id_body("sse")), *status, code, msg, route);
        let inst = r.instance("sse");
        assert_eq!(inst["sse_enabled"], *after, "after {route}: {inst}");
        assert_eq!(inst["obj_info"][0]["sse_enabled"], *after, "obj_info follows: {inst}");
    }
    // set_instance_status executes any op it is given.
    ok(&r.call("set_instance_status", &op_body("sse", "DISABLE_SSE")), "DISABLE_SSE via op");
    assert_eq!(r.instance("sse")["sse_enabled"], false);

    // --- rename: name required (checked after existence), mtime untouched
    create(&r, "rn");
    let rename_cases: &[(&str, u16, &str, &str)] = &[
        (r#"{"instance_id": "rn"}"#, 400, "INVALID_ARGUMENT", "rename instance name, but not set"),
        (r#"{"instance_id": "rn", "name": ""}"#, 400, "INVALID_ARGUMENT", "rename instance name, but not set"),
        (r#"{"instance_id": "rn", "name": "renamed"}"#, 200, "OK", ""),
        (r#"{'instance_id': 'rn', 'name': 'again',}"#, 200, "OK", ""),
    ];
    for (body, status, code, msg) in rename_cases {
        expect(&r.call("rename_instance", body), *status, code, msg, body);
    }
    let inst = r.instance("rn");
    assert_eq!(inst["name"], "again", "{inst}");
    assert!(inst.get("mtime").is_none(), "rename leaves mtime unset: {inst}");
    ok(
        &r.call("set_instance_status", &json!({"instance_id": "rn", "op": "RENAME", "name": "viaop"}).to_string()),
        "RENAME op",
    );
    assert_eq!(r.instance("rn")["name"], "viaop");
}

#[test]
fn drop_is_refused_while_clusters_exist() {
    let c = Cluster::start("t80-drop-clusters");
    let r = Rotating::new(&c);
    create(&r, "dc");
    let cluster = json!({
        "instance_id": "dc",
        "cluster": {"cluster_name": "c1", "cluster_id": "cid1", "type": "COMPUTE",
                    "nodes": [{"cloud_unique_id": "1:dc:be1", "ip": "127.0.0.1", "heartbeat_port": 9050}]}
    });
    let added = r.call("add_cluster", &cluster.to_string());
    assert!(added.is_ok(), "add_cluster: {added:?}");
    let resp = r.call("drop_instance", &id_body("dc"));
    expect(&resp, 400, "INVALID_ARGUMENT", "failed to drop instance, instance has clusters", "drop with clusters");
    assert_eq!(r.instance("dc")["status"], "NORMAL");
}

#[test]
fn racing_status_changes_on_two_members_give_one_serial_answer() {
    let c = Cluster::start("t80-race");
    let r = Rotating::new(&c);
    for round in 0..5 {
        let id = format!("race{round}");
        create(&r, &id);
        let body = op_body(&id, "SET_OVERDUE");
        let (a, b) = std::thread::scope(|s| {
            let ha = s.spawn(|| c.api(1, "set_instance_status", "", Some(&body)).expect("node 1"));
            let hb = s.spawn(|| c.api(2, "set_instance_status", "", Some(&body)).expect("node 2"));
            (ha.join().expect("join"), hb.join().expect("join"))
        });
        let oks = [&a, &b].iter().filter(|x| x.is_ok()).count();
        assert_eq!(oks, 1, "exactly one wins: {a:?} {b:?}");
        let loser = if a.is_ok() { &b } else { &a };
        let msg = format!("the instance has already set  instance to overdue, instance_id = {id}");
        expect(loser, 400, "INVALID_ARGUMENT", &msg, "loser");
        for node in 1..=3 {
            let inst = c.get_instance(node, &id, false).expect("get").json();
            assert_eq!(inst["result"]["status"], "OVERDUE", "node {node}");
        }
    }
    // Racing drops: both succeed (drop is idempotent in Doris).
    create(&r, "race-drop");
    let body = id_body("race-drop");
    let (a, b) = std::thread::scope(|s| {
        let ha = s.spawn(|| c.api(2, "drop_instance", "", Some(&body)).expect("node 2"));
        let hb = s.spawn(|| c.api(3, "drop_instance", "", Some(&body)).expect("node 3"));
        (ha.join().expect("join"), hb.join().expect("join"))
    });
    ok(&a, "drop a");
    ok(&b, "drop b");
}
