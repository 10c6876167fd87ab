//! Bad input: malformed bodies, wrong types, bad tokens and unknown routes get Doris's status and
//! envelope (transport §1.3, §1.4, §2, §3), never a 500 and never a hang; a node whose id is not
//! among its peers, or whose data dir belongs to another cluster, refuses to start.

mod common;

use std::time::Duration;

use common::Cluster;
use common::TOKEN;
use serde_json::json;

/// The exact pretty-printed Doris envelope without `result`.
fn envelope(code: &str, msg: &str) -> String {
    format!("{{\n    \"code\": \"{code}\",\n    \"msg\": \"{msg}\"\n}}\n")
}

#[test]
fn malformed_create_instance_bodies_get_invalid_argument() {
    let c = Cluster::start("t60-bodies");
    let node = c.followers()[0];
    let path = format!("/MetaService/http/create_instance?token={TOKEN}");

    // Syntax errors and type errors: PROTOBUF_PARSE_ERR → 400 INVALID_ARGUMENT, msg names the path.
    let parse_errors: &[&str] = &[
        "",
        "   ",
        "abc",
        "{",
        "[]",
        "null",
        "1",
        "{} xyz",
        "{\"instance_id\": 123}",
        "{\"instance_id\": \"x\", \"sse_enabled\": 1}",
        "{\"instance_id\": \"x\", \"vault\": \"s3\"}",
        "{\"instance_id\": \"x\", \"vault\": []}",
        "{\"instance_id\": \"x\", \"obj_info\": {\"ak\": {\"nested\": true}}}",
    ];
    for body in parse_errors {
        let r = c.request(node, "POST", &path, Some(body)).expect("no hang, no transport error");
        assert_eq!(r.status, 400, "body {body:?}: {r:?}");
        let v = r.json();
        assert_eq!(v["code"], "INVALID_ARGUMENT", "body {body:?}: {v}");
        let msg = v["msg"].as_str().unwrap_or_default();
        assert!(msg.starts_with("parse http request 'create_instance': "), "body {body:?}: msg {msg:?}");
        assert!(r.body.ends_with("}\n"), "envelope ends with one newline: {:?}", r.body);
    }

    // The path in the message is the route as sent, version prefix included (§2).
    let v1 = format!("/MetaService/http/v1/create_instance?token={TOKEN}");
    let r = c.request(node, "POST", &v1, Some("[]")).expect("no hang");
    assert_eq!(
        (r.status, r.body.as_str()),
        (
            400,
            envelope(
                "INVALID_ARGUMENT",
                "parse http request 'v1/create_instance': INVALID_ARGUMENT:: Root element must be a message."
            )
            .as_str()
        )
    );

    // Invalid UTF-8 inside a string.
    let r = c
        .request_raw(node, "POST", &path, b"{\"instance_id\": \"\xff\xfe\"}".to_vec())
        .expect("no hang on invalid UTF-8");
    assert_eq!((r.status, r.code().as_deref()), (400, Some("INVALID_ARGUMENT")), "{r:?}");

    // Well-formed JSON that fails validation, with the exact Doris messages (endpoints §1).
    let validation: &[(&str, &str)] = &[
        ("{}", "instance id not set"),
        ("{\"instance_id\": \"\"}", "instance id not set"),
        ("{\"instance_id\": \"x\", \"vault\": {\"obj_info\": {\"sk\": \"s\"}}}", "s3 conf info err, please check it"),
        ("{\"instance_id\": \"x\", \"ram_user\": {\"user_id\": \"u\"}}", "ram user info err, please check it"),
    ];
    for (body, msg) in validation {
        let r = c.request(node, "POST", &path, Some(body)).expect("no hang");
        assert_eq!((r.status, r.body.as_str()), (400, envelope("INVALID_ARGUMENT", msg).as_str()), "body {body}");
    }
    for inst in ["x", ""] {
        let r = c.get_instance(node, inst, false).expect("get_instance");
        assert_ne!(r.code().as_deref(), Some("OK"), "rejected create of {inst:?} must not have stored anything: {r:?}");
    }

    // Lenient parse: unknown fields are dropped, single quotes and trailing commas accepted (§2).
    let r = c
        .request(node, "POST", &path, Some("{'instance_id': 'lenient-1', 'no_such_field': {'a': [1]},}"))
        .expect("lenient body");
    assert_eq!((r.status, r.body.as_str()), (200, envelope("OK", "").as_str()), "{r:?}");
    assert!(c.has_instance(node, "lenient-1", false));

    // An 8 MiB body of garbage: rejected (400 or 413), not a crash, not a hang.
    // The server may also answer early and close while the client is still sending (a reset).
    let big = "x".repeat(8 << 20);
    match c.request(node, "POST", &path, Some(&big)) {
        Ok(r) => assert!(
            r.status == 400 || r.status == 413,
            "huge body: {} {:?}",
            r.status,
            &r.body[..r.body.len().min(200)]
        ),
        Err(e) => assert!(!e.starts_with("TIMEOUT"), "huge body hung: {e}"),
    }
    // Still serving: ready again (readiness may flicker under CPU load, so poll) and answering.
    common::wait_until("node ready after bad input", common::WAIT_TIMEOUT, || c.is_ready(node).then_some(()));
    assert!(c.has_instance(node, "lenient-1", false), "node answers reads after bad input");
}

#[test]
fn tokens_routes_and_get_instance_errors() {
    let c = Cluster::start("t60-routes");
    let node = c.leader();
    let body = common::instance_body("tok-1", "n");

    // Token is checked before the route and answered in plain text (§1.3).
    let cases: &[(&str, &str)] = &[
        ("/MetaService/http/create_instance", "incorrect token, token=(not given)\n"),
        ("/MetaService/http/create_instance?token=", "incorrect token, token=(not given)\n"),
        ("/MetaService/http/create_instance?token=wrong", "incorrect token, token=wrong\n"),
        ("/MetaService/http/get_instance?token=WRONG&instance_id=tok-1", "incorrect token, token=WRONG\n"),
        ("/MetaService/http/no_such_route?token=bad", "incorrect token, token=bad\n"),
    ];
    for (path, want) in cases {
        let r = c.request(node, "POST", path, Some(&body)).expect("no hang");
        assert_eq!((r.status, r.body.as_str()), (403, *want), "{path}");
    }
    assert!(!c.has_instance(node, "tok-1", false), "a request with a bad token must not write");

    // Unknown routes and versions: 404 plain text (§1.4, [M]).
    for route in ["no_such_route", "v2/get_instance", "create_instance/extra", ""] {
        let r = c.request(node, "GET", &format!("/MetaService/http/{route}?token={TOKEN}"), None).expect("no hang");
        assert_eq!((r.status, r.body.as_str()), (404, "http path not found or not allowed\n"), "route {route:?}");
    }

    // The HTTP method is never checked (§1.1).
    for (i, method) in ["PUT", "GET", "DELETE", "PATCH"].iter().enumerate() {
        let inst = format!("method-{i}");
        let path = format!("/MetaService/http/create_instance?token={TOKEN}");
        let r = c.request(node, method, &path, Some(&common::instance_body(&inst, "n"))).expect("no hang");
        assert!(r.is_ok(), "{method} create_instance: {r:?}");
        let r = c
            .request(node, method, &format!("/MetaService/http/get_instance?token={TOKEN}&instance_id={inst}"), None)
            .expect("no hang");
        assert!(r.is_ok(), "{method} get_instance: {r:?}");
    }

    // get_instance errors carry an empty `result` (endpoints §3).
    let r = c.api(node, "get_instance", "", None).expect("no hang");
    assert_eq!(r.status, 400, "{r:?}");
    assert_eq!(
        r.json(),
        json!({"code": "INVALID_ARGUMENT", "msg": "empty instance_id and cloud_unique_id", "result": {}})
    );
    let r = c.api(node, "get_instance", "cloud_unique_id=nonsense", None).expect("no hang");
    assert_eq!(r.status, 400, "{r:?}");
    assert_eq!(
        r.json(),
        json!({"code": "INVALID_ARGUMENT", "msg": "cannot find instance_id with cloud_unique_id=nonsense", "result": {}})
    );
    // An unknown instance is KV_TXN_GET_ERR in Doris: 500 INTERNAL_ERROR, by the spec, not a crash.
    let r = c.api(node, "get_instance", "instance_id=nope", None).expect("no hang");
    assert_eq!(r.status, 500, "{r:?}");
    assert_eq!(
        r.json(),
        json!({"code": "INTERNAL_ERROR",
               "msg": "failed to get instance, info=failed to get instance, instance_id=nope err=KeyNotFound",
               "result": {}})
    );

    // Duplicate create: 409 with the exact message.
    c.create_ok(node, "dup-1");
    let r = c.create_instance(node, "dup-1", "n").expect("no hang");
    assert_eq!(
        (r.status, r.body.as_str()),
        (409, envelope("ALREADY_EXISTED", "instance already existed, instance_id=dup-1, err=Ok").as_str())
    );
}

fn serve_args(id: u64, listen: &str, data_dir: &std::path::Path, peers: &str, secret: &str) -> Vec<String> {
    [
        "serve",
        "--node-id",
        &id.to_string(),
        "--listen",
        listen,
        "--data-dir",
        &data_dir.display().to_string(),
        "--peers",
        peers,
        "--token",
        TOKEN,
        "--cluster-secret",
        secret,
        "--heartbeat-ms",
        common::HEARTBEAT_MS,
        "--election-timeout-ms",
        common::ELECTION_TIMEOUT_MS,
    ]
    .iter()
    .map(ToString::to_string)
    .collect()
}

fn fresh_peers() -> (Vec<String>, String) {
    let addrs: Vec<String> = (0..3).map(|_| format!("127.0.0.1:{}", common::free_port())).collect();
    let peers = addrs.iter().enumerate().map(|(i, a)| format!("{}={a}", i + 1)).collect::<Vec<_>>().join(",");
    (addrs, peers)
}

#[test]
fn node_id_not_in_peers_refuses_to_start() {
    let dir = tempfile::tempdir().expect("temp dir");
    let (_, peers) = fresh_peers();
    let listen = format!("127.0.0.1:{}", common::free_port());
    let args = serve_args(4, &listen, &dir.path().join("data"), &peers, common::SECRET);
    let (status, output) = common::run_to_exit(&args, &dir.path().join("node4.log"), Duration::from_secs(15));
    assert!(!status.success(), "node 4 with peers {peers} must not start; output:\n{output}");
    let lower = output.to_lowercase();
    assert!(lower.contains("peer") && output.contains('4'), "the message should name node 4 and the peers:\n{output}");
}

/// `serve` arguments of node `id` of `c`, with the listen address and data dir replaced.
fn args_with(c: &Cluster, id: u64, listen: &str, data_dir: &std::path::Path) -> Vec<String> {
    let mut args = c.serve_args(id);
    let at = |flag: &str, args: &[String]| args.iter().position(|a| a == flag).expect(flag) + 1;
    let i = at("--listen", &args);
    args[i] = listen.to_string();
    let i = at("--data-dir", &args);
    args[i] = data_dir.display().to_string();
    args
}

/// Waits until every running node of `c` reports the same stamped cluster id; returns it.
fn cluster_id(c: &Cluster) -> String {
    common::wait_until(&format!("[{}] a cluster id on every node", c.name), common::WAIT_TIMEOUT, || {
        let ids: std::collections::BTreeSet<String> = c
            .running()
            .iter()
            .map(|&id| c.status(id)?.get("cluster_id")?.as_str().map(str::to_string))
            .collect::<Option<_>>()?;
        (ids.len() == 1).then(|| ids.into_iter().next().expect("one id"))
    })
}

/// The data dir remembers its node id and its cluster: given to another node id, or to a node of
/// another cluster (detected through the peers, which answer with their own cluster id), the node
/// refuses to start, and the refusal leaves both clusters intact.
#[test]
fn data_dir_of_another_node_or_cluster_refuses_to_start() {
    let mut a = Cluster::start("t60-dir-a");
    let mut b = Cluster::start("t60-dir-b");
    a.create_ok(a.leader(), "belongs-to-a");
    b.create_ok(b.leader(), "belongs-to-b");
    let (id_a, id_b) = (cluster_id(&a), cluster_id(&b));
    assert_ne!(id_a, id_b, "two bootstraps must give two cluster ids");

    // Node 2's data dir started as node 1 (same cluster, free port, node 2 stopped so redb is free).
    assert!(a.terminate(2).success());
    let listen = format!("127.0.0.1:{}", common::free_port());
    let args = args_with(&a, 1, &listen, a.data_dir(2));
    let log = a.dir.path().join("wrong-node.log");
    let (status, output) = common::run_to_exit(&args, &log, Duration::from_secs(20));
    assert!(!status.success(), "node 1 started on node 2's data dir; output:\n{output}");
    assert!(output.contains("node 2"), "the message should name the dir's owner, node 2:\n{output}");

    // Cluster A's node-1 dir started as node 1 of cluster B (B's address and peers, which are up).
    assert!(a.terminate(1).success());
    assert!(b.terminate(1).success());
    let args = args_with(&b, 1, b.addr(1), a.data_dir(1));
    let log = b.dir.path().join("other-cluster.log");
    let (status, output) = common::run_to_exit(&args, &log, Duration::from_secs(20));
    assert!(!status.success(), "node 1 of cluster B started on cluster A's data dir; output:\n{output}");
    assert!(
        output.contains(&id_a) || output.to_lowercase().contains("cluster"),
        "the message should say the dir belongs to another cluster:\n{output}"
    );

    // Both clusters come back whole, and neither holds the other's data.
    b.restart(1);
    b.wait_ready(common::START_TIMEOUT);
    assert!(b.has_instance(1, "belongs-to-b", false));
    assert!(!b.has_instance(1, "belongs-to-a", false), "cluster A's data leaked into cluster B");
    a.restart(1);
    a.restart(2);
    a.wait_ready(common::START_TIMEOUT);
    for id in 1..=3 {
        assert!(a.has_instance(id, "belongs-to-a", false), "node {id} of A lost its data");
    }
    assert_eq!(cluster_id(&a), id_a);
    assert_eq!(cluster_id(&b), id_b);
}
