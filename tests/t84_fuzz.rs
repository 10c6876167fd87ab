//! Bad input at every route: malformed bodies, wrong types, huge strings, deep nesting, invalid
//! UTF-8, odd methods and odd query strings, thrown at every Doris route of `src/api/routes.rs`
//! (read from the source at run time, so routes added later are covered without touching this
//! file), against a real three-node cluster. Checks, per request: an answer (no hang, no dropped
//! connection), never a 5xx for a client's mistake — the only 500 accepted is the spec's own
//! answer for a missing key (`KV_TXN_GET_ERR`: `…err=KeyNotFound` / `kv not found, key=…`) —,
//! always the pretty envelope with the status its code maps to (transport §3.2), or the spec's
//! plain-text 403, or a text success of a text route. After the run: every node healthy, no panic
//! in any log, and the seeded records byte-identical on every member.

mod common;

use std::time::Duration;
use std::time::Instant;

use common::Cluster;
use common::Resp;
use common::TOKEN;

/// Doris routes whose success is text (`http_text_reply`, transport §3.3).
const TEXT_ROUTES: &[&str] = &["decode_key", "encode_key", "get_value", "get_tablet_stats", "show_meta_ranges"];
/// Odd methods, rotated; Doris never checks the method (transport §1.1).
const METHODS: &[&str] = &["POST", "PUT", "GET", "DELETE", "PATCH", "OPTIONS", "FUZZ", "HEAD"];
/// Instances seeded before the run; no request may change them.
const SEEDS: &[&str] = &["seed-1", "seed-2"];
/// The server's body limit (`api::body::MAX_BODY_BYTES`).
const BODY_LIMIT: usize = 1 << 20;

/// Every Doris route of the `DORIS_ROUTES` table in `src/api/routes.rs` (one `doris_route!(name, …)` each).
fn routes() -> Vec<String> {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/src/api/routes.rs");
    let text = std::fs::read_to_string(path).expect("read src/api/routes.rs");
    let start = text.find("pub static DORIS_ROUTES").expect("DORIS_ROUTES in routes.rs");
    let body = &text[start..];
    let body = &body[..body.find("\n];\n").expect("end of DORIS_ROUTES")];
    let routes: Vec<String> =
        body.split("doris_route!(").skip(1).filter_map(|rest| rest.split(',').next()).map(str::to_string).collect();
    assert!(routes.len() >= 5 && routes.iter().any(|r| r == "create_instance"), "routes parsed: {routes:?}");
    routes
}

/// A small deterministic generator (xorshift64*), so failures replay.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }

    fn below(&mut self, n: usize) -> usize {
        usize::try_from(self.next() % n as u64).expect("fits")
    }

    fn bytes(&mut self, len: usize) -> Vec<u8> {
        (0..len).map(|_| self.next().to_le_bytes()[0]).collect()
    }

    /// JSON-looking token soup: usually malformed, sometimes valid with odd types.
    fn soup(&mut self) -> Vec<u8> {
        const TOKENS: &[&str] = &[
            "{",
            "}",
            "[",
            "]",
            ",",
            ":",
            "\"instance_id\"",
            "\"cluster\"",
            "\"obj_info\"",
            "\"nodes\"",
            "\"cloud_unique_id\"",
            "\"op\"",
            "123",
            "-1.5e99",
            "true",
            "null",
            "'x'",
            "\"\\u0000\"",
            "\"\\ud800\"",
            "\"a\\\"b\"",
            " ",
            "\n",
            "9223372036854775808",
            "\"COMPUTE\"",
            "\"STOPPED\"",
        ];
        let n = 1 + self.below(40);
        let mut out = Vec::new();
        for _ in 0..n {
            out.extend_from_slice(TOKENS[self.below(TOKENS.len())].as_bytes());
        }
        out
    }
}

/// Bodies thrown at every route: none is a valid request for any route.
fn bad_bodies(rng: &mut Rng) -> Vec<(String, Vec<u8>)> {
    let mut bodies: Vec<(String, Vec<u8>)> = [
        ("empty", ""),
        ("blank", "  \n\t"),
        ("open brace", "{"),
        ("close brace", "}"),
        ("array", "[]"),
        ("null", "null"),
        ("number", "1"),
        ("string", "\"s\""),
        ("trailing garbage", "{} xyz"),
        ("two objects", "{}{}"),
        ("comment", "/* c */ {}"),
        ("bom", "\u{feff}{}"),
        ("unterminated string", "{\"instance_id\": \"abc"),
        ("bad escape", "{\"instance_id\": \"\\q\"}"),
        ("lone surrogate", "{\"instance_id\": \"\\ud800\"}"),
        ("string as number", "{\"instance_id\": 123}"),
        ("string as float", "{\"cloud_unique_id\": 1.5}"),
        ("string as object", "{\"cloud_unique_id\": {\"a\": 1}}"),
        ("message as string", "{\"cluster\": \"x\"}"),
        ("message as list", "{\"cluster\": []}"),
        ("obj_info as string", "{\"obj_info\": \"x\"}"),
        ("vault as number", "{\"vault\": 1}"),
        ("bool as number", "{\"sse_enabled\": 1}"),
        ("int overflow", "{\"cluster\": {\"nodes\": [{\"heartbeat_port\": 99999999999}]}}"),
        ("int fraction", "{\"cluster\": {\"nodes\": [{\"heartbeat_port\": 9050.5}]}}"),
        // Naming the seeded records, but broken before any route can act on them. (A wrong-typed
        // field the route's message lacks is an unknown field, dropped by the lenient parse — so
        // the type errors sit on the id fields themselves.)
        ("seeded id, unterminated", "{\"instance_id\": \"seed-1\", \"cloud_unique_id\": \"1:seed-1:x\","),
        ("seeded id, trailing garbage", "{\"instance_id\": \"seed-1\", \"cloud_unique_id\": \"1:seed-1:x\"} x"),
        ("seeded id as list", "{\"instance_id\": [\"seed-1\"], \"cloud_unique_id\": [\"1:seed-1:x\"]}"),
        (
            "seeded id as object",
            "{\"instance_id\": {\"id\": \"seed-1\"}, \"cloud_unique_id\": {\"id\": \"1:seed-1:x\"}}",
        ),
    ]
    .iter()
    .map(|(name, b)| (name.to_string(), b.as_bytes().to_vec()))
    .collect();
    bodies.push(("10k [".into(), "[".repeat(10_000).into_bytes()));
    bodies.push(("10k objects".into(), "{\"a\":".repeat(10_000).into_bytes()));
    let deep = format!("{{\"instance_id\": 1, \"x\": {}{}}}", "[".repeat(5_000), "]".repeat(5_000));
    bodies.push(("deep under unknown field".into(), deep.into_bytes()));
    bodies.push(("invalid utf-8 in string".into(), b"{\"instance_id\": \"\xff\xfe\"}".to_vec()));
    let seeded_utf8 = b"{\"instance_id\": \"seed-1\", \"cloud_unique_id\": \"1:seed-1:x\", \"name\": \"\xff\"}";
    bodies.push(("seeded id, invalid utf-8".into(), seeded_utf8.to_vec()));
    bodies.push(("invalid utf-8 raw".into(), b"\xc3\x28\xa0\xa1{}".to_vec()));
    bodies.push(("nul bytes".into(), b"{\"instance_id\"\x00: 1}".to_vec()));
    let huge = format!("{{\"instance_id\": 1, \"name\": \"{}\"}}", "a".repeat(900_000));
    bodies.push(("900 KB string, wrong type beside it".into(), huge.into_bytes()));
    let many = format!("{{\"cluster\": {{\"nodes\": [{}1]}}}}", "{\"ip\": 1},".repeat(50_000));
    bodies.push(("50k wrong-typed list items".into(), many.into_bytes()));
    for i in 0..4 {
        let len = rng.below(300);
        bodies.push((format!("random bytes #{i}"), rng.bytes(len)));
        bodies.push((format!("token soup #{i}"), rng.soup()));
    }
    bodies
}

/// Query strings (after the token) thrown at every route, with an empty object body.
fn odd_queries() -> Vec<String> {
    vec![
        String::new(),
        "instance_id=%ff%fe&cloud_unique_id=%00".into(),
        format!("instance_id={}", "a".repeat(20_000)),
        format!("key={}", "10".repeat(10_000)),
        "&&&==&=x&k".into(),
        "key=zz&key_type=%00&unicode=".into(),
        "cloud_unique_id=1:seed-1&cluster_id=&cluster_name=".into(),
        "instance_id=seed-1&instance_id=".into(),
        "consistency=bogus".into(),
        "key_type=InstanceKey&instance_id=seed-1&consistency=stale".into(),
        "cloud_unique_id=1:no-such-instance:x&cluster_name=c".into(),
    ]
}

fn envelope_status(code: &str) -> Option<u16> {
    Some(match code {
        "OK" => 200,
        "INVALID_ARGUMENT" => 400,
        "NOT_FOUND" => 404,
        "ALREADY_EXISTED" => 409,
        "INTERNAL_ERROR" => 500,
        _ => return None,
    })
}

fn envelope_status_known(status: u16) -> bool {
    matches!(status, 200 | 400 | 404 | 409 | 500)
}

/// Returns a description of what is wrong with `resp`, or `None`.
fn violation(route: &str, method: &str, resp: &Resp, expect_403: bool) -> Option<String> {
    if expect_403 {
        return (resp.status != 403 || (method != "HEAD" && resp.body != "incorrect token, token=bad\n"))
            .then(|| "a bad token must be the plain-text 403".into());
    }
    if method == "HEAD" {
        // No body to check; a 500 is re-asked with GET by the caller to see its message.
        return (!envelope_status_known(resp.status)).then(|| format!("HTTP {} on HEAD", resp.status));
    }
    if resp.status == 200 && TEXT_ROUTES.contains(&route.trim_start_matches("v1/")) {
        return None;
    }
    // get_tablet_stats answers a refusal with its status and an empty text body (endpoints §19).
    if route.trim_start_matches("v1/") == "get_tablet_stats" && resp.body == "\n" {
        return (!matches!(resp.status, 400 | 404 | 500))
            .then(|| format!("HTTP {} for a refused stats read", resp.status));
    }
    let Ok(json) = serde_json::from_str::<serde_json::Value>(&resp.body) else {
        return Some("not a JSON envelope".into());
    };
    let (Some(code), Some(msg)) = (json["code"].as_str(), json["msg"].as_str()) else {
        return Some("envelope without string code and msg".into());
    };
    if !resp.body.starts_with("{\n    \"code\": ") || !resp.body.ends_with("}\n") || resp.body.ends_with("}\n\n") {
        return Some("envelope not pretty-printed with one trailing newline".into());
    }
    if envelope_status(code) != Some(resp.status) {
        return Some(format!("code {code} with HTTP {}", resp.status));
    }
    if resp.status >= 500 && !(msg.contains("err=KeyNotFound") || msg.starts_with("kv not found, key=")) {
        return Some("a 5xx for a client's mistake".into());
    }
    None
}

/// The seeded records as every member shows them: `get_instance` and the stored bytes (`get_value`).
fn snapshot(c: &Cluster, node: u64) -> Vec<String> {
    let mut out = Vec::new();
    for id in SEEDS {
        let r = c.get_instance(node, id, false).expect("get_instance");
        assert!(r.is_ok(), "seed {id} readable on node {node}: {r:?}");
        out.push(r.body);
        let r = c.api(node, "get_value", &format!("key_type=InstanceKey&instance_id={id}"), None).expect("get_value");
        assert_eq!(r.status, 200, "{r:?}");
        out.push(r.body);
    }
    out
}

#[test]
fn every_route_survives_bad_input() {
    let started = Instant::now();
    let c = Cluster::start("t84-fuzz");
    for (i, id) in SEEDS.iter().enumerate() {
        c.create_ok(u64::try_from(i % 3 + 1).expect("small"), id);
    }
    let before = snapshot(&c, c.followers()[0]);
    let routes = routes();
    let mut rng = Rng(0x5eed_d0e5_f00d_cafe);
    let bodies = bad_bodies(&mut rng);
    let queries = odd_queries();

    // One worker per node; each takes every third (route, case).
    let mut cases: Vec<(String, String, String, Option<Vec<u8>>)> = Vec::new();
    for (ri, route) in routes.iter().enumerate() {
        let route = if ri % 2 == 0 { route.clone() } else { format!("v1/{route}") };
        for (bi, (name, body)) in bodies.iter().enumerate() {
            let method = METHODS[(ri + bi) % METHODS.len()];
            cases.push((route.clone(), method.into(), format!("token={TOKEN}&fuzz={name}"), Some(body.clone())));
        }
        for (qi, q) in queries.iter().enumerate() {
            let method = METHODS[(ri + qi + 1) % METHODS.len()];
            cases.push((route.clone(), method.into(), format!("token={TOKEN}&{q}"), Some(b"{}".to_vec())));
        }
        cases.push((route.clone(), "POST".into(), format!("token={TOKEN}&token=bad"), Some(b"{}".to_vec())));
        let over = [b"{\"name\": \"".to_vec(), vec![b'a'; BODY_LIMIT + 512 * 1024], b"\"}".to_vec()].concat();
        cases.push((route.clone(), "POST".into(), format!("token={TOKEN}&fuzz=over-limit"), Some(over)));
    }
    let failures: Vec<String> = std::thread::scope(|s| {
        let handles: Vec<_> = (0..3u64)
            .map(|w| {
                let (c, cases) = (&c, &cases);
                s.spawn(move || {
                    let http = common::http_client(Duration::from_secs(20));
                    // The server may close a connection after refusing an over-limit body unread;
                    // keep those off the shared pool so no later request reuses a closing connection.
                    let http_over = common::http_client(Duration::from_secs(20));
                    let mut failures = Vec::new();
                    for (route, method, query, body) in cases.iter().skip(usize::try_from(w).expect("small")).step_by(3)
                    {
                        let url = format!("{}/MetaService/http/{route}?{query}", c.base(w + 1));
                        let shown = format!("{method} {route}?{}", &query[..query.len().min(120)]);
                        let over_limit = body.as_ref().is_some_and(|b| b.len() > BODY_LIMIT);
                        let client = if over_limit { &http_over } else { &http };
                        match common::send(client, method, &url, body.clone()) {
                            Ok(resp) if method == "HEAD" && resp.status == 500 => {
                                match common::send(client, "GET", &url, body.clone()) {
                                    Ok(get) => {
                                        if let Some(why) = violation(route, "GET", &get, false) {
                                            failures
                                                .push(format!("{shown} (re-asked with GET): {why}: {}", get.status));
                                        }
                                    }
                                    Err(e) => failures.push(format!("{shown} (re-asked with GET): no answer: {e}")),
                                }
                            }
                            Ok(resp) => {
                                if over_limit && resp.status != 400 {
                                    failures.push(format!("{shown}: over-limit body got HTTP {}", resp.status));
                                } else if let Some(why) = violation(route, method, &resp, query.ends_with("token=bad"))
                                {
                                    let body = &resp.body[..resp.body.len().min(300)];
                                    failures.push(format!("{shown}: {why}: {} {body:?}", resp.status));
                                }
                            }
                            // The server may answer an over-limit body early and close while the
                            // client still sends; that is a refusal, not a hang.
                            Err(e) if over_limit && !e.starts_with("TIMEOUT") => {}
                            Err(e) => failures.push(format!("{shown}: no answer: {e}")),
                        }
                    }
                    failures
                })
            })
            .collect();
        handles.into_iter().flat_map(|h| h.join().expect("worker")).collect()
    });
    assert!(failures.is_empty(), "{} of {} requests misbehaved:\n{}", failures.len(), cases.len(), failures.join("\n"));

    // Alive, no panic logged, state unchanged on every member.
    for id in 1..=3u64 {
        let r = c.request(id, "GET", "/healthz", None).expect("healthz");
        assert_eq!((r.status, r.body.as_str()), (200, "ok\n"), "node {id}");
        let log = std::fs::read_to_string(&c.nodes[usize::try_from(id - 1).expect("small")].log_path).expect("log");
        assert!(!log.contains("panicked"), "node {id} panicked:\n{}", common::tail(&c.nodes[0].log_path, 40));
        assert_eq!(snapshot(&c, id), before, "seeded records changed (seen on node {id})");
    }
    eprintln!("{} requests over {} routes in {:?}", cases.len(), routes.len(), started.elapsed());
    assert!(started.elapsed() < Duration::from_secs(50), "took {:?}", started.elapsed());
}

/// The body limit over real HTTP: exact refusal on a body route and on a query-only route, the
/// connection stays usable after a route ignored a body, and a bad token is refused before the
/// body is looked at.
#[test]
fn body_limit_and_keep_alive() {
    let c = Cluster::start("t84-limit");
    let node = c.followers()[0];
    let over = vec![b' '; BODY_LIMIT + 1];
    let http = common::http_client(Duration::from_secs(20));
    for route in ["create_instance", "v1/get_instance", "decode_key"] {
        let url = format!("{}/MetaService/http/{route}?token={TOKEN}", c.base(node));
        match common::send(&http, "POST", &url, Some(over.clone())) {
            Ok(r) => assert_eq!(
                (r.status, r.body.as_str()),
                (
                    400,
                    format!(
                        "{{\n    \"code\": \"INVALID_ARGUMENT\",\n    \"msg\": \"parse http request '{route}': \
                         INVALID_ARGUMENT:request body exceeds 1048576 bytes\"\n}}\n"
                    )
                    .as_str()
                ),
                "{route}"
            ),
            Err(e) => assert!(!e.starts_with("TIMEOUT"), "{route}: over-limit body hung: {e}"),
        }
    }
    // Exactly at the limit the body is read (and here, refused as JSON).
    let r = c.request_raw(
        node,
        "POST",
        &format!("/MetaService/http/create_instance?token={TOKEN}"),
        vec![b' '; BODY_LIMIT],
    );
    assert_eq!(r.expect("answer").status, 400);
    // Bad token with a huge body: 403 first.
    let r = c.request_raw(node, "POST", "/MetaService/http/create_instance?token=bad", over);
    if let Ok(r) = r {
        assert_eq!((r.status, r.body.as_str()), (403, "incorrect token, token=bad\n"));
    }
    // A query-only route given a 100 KB body, then more requests on the same keep-alive client.
    let one = common::http_client(Duration::from_secs(10));
    for i in 0..20 {
        let url = format!("{}/MetaService/http/decode_key?token={TOKEN}&key=01", c.base(node));
        let body = if i % 2 == 0 { Some(vec![b'['; 100_000]) } else { None };
        let r = common::send(&one, "GET", &url, body).unwrap_or_else(|e| panic!("request {i}: {e}"));
        assert_eq!((r.status, r.body.as_str()), (200, "┌─ 0. key space: 1\n│ \n▼ \n01\n\n"), "request {i}");
    }
}
