//! The router over real HTTP, in process: one single-node Raft cluster per test on a port-0
//! listener, `/raft/*` merged after our layers exactly as `serve` does.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use metaraft_raft::NodeConfig;
use metaraft_raft::RaftNode;
use reqwest::Method;

use super::router;
use super::routes::DORIS_ROUTES;
use super::Shared;
use crate::meta::MetaApp;

const TOKEN: &str = "greedisgood9999";

struct Server {
    base: String,
    client: reqwest::Client,
    _dir: tempfile::TempDir,
}

impl Server {
    async fn start() -> Server {
        let dir = tempfile::tempdir().unwrap();
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap().to_string();
        let peers = BTreeMap::from([(1, addr.clone())]);
        let config = NodeConfig::new(1, peers, dir.path().to_path_buf(), "secret".into());
        let node = RaftNode::start(config, Arc::new(MetaApp::new())).await.unwrap();
        let state = Arc::new(Shared {
            node: node.clone(),
            token: TOKEN.into(),
            node_id: 1,
            secrets: crate::meta::Secrets::dev(),
            metrics: super::Metrics::new(&node),
        });
        let app = router(state).merge(node.router());
        tokio::spawn(async move { axum::serve(listener, app).await });
        let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
        while node.readiness().is_err() {
            assert!(tokio::time::Instant::now() < deadline, "node never became ready");
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        Server { base: format!("http://{addr}"), client: reqwest::Client::new(), _dir: dir }
    }

    async fn call(&self, method: Method, path_and_query: &str, body: &str) -> (u16, String) {
        let resp = self
            .client
            .request(method, format!("{}{path_and_query}", self.base))
            .body(body.to_string())
            .send()
            .await
            .unwrap();
        (resp.status().as_u16(), resp.text().await.unwrap())
    }

    async fn post(&self, route: &str, body: &str) -> (u16, String) {
        self.call(Method::POST, &format!("/MetaService/http/{route}?token={TOKEN}"), body).await
    }

    async fn get(&self, route_and_query: &str) -> (u16, String) {
        self.call(Method::GET, &format!("/MetaService/http/{route_and_query}&token={TOKEN}"), "").await
    }
}

fn envelope(code: &str, msg: &str) -> String {
    format!("{{\n    \"code\": \"{code}\",\n    \"msg\": \"{msg}\"\n}}\n")
}

const OBJ: &str = r#"{"ak":"ak1","sk":"sk1","bucket":"b","prefix":"/p/","endpoint":"ep","external_endpoint":"xep",
    "region":"r","provider":"COS"}"#;

#[tokio::test]
async fn token_is_checked_before_route_lookup() {
    let s = Server::start().await;
    let not_found = (404, "http path not found or not allowed\n".to_string());
    assert_eq!(
        s.call(Method::GET, "/MetaService/http/nope?token=bad", "").await,
        (403, "incorrect token, token=bad\n".into())
    );
    assert_eq!(
        s.call(Method::GET, "/MetaService/http/create_instance", "").await,
        (403, "incorrect token, token=(not given)\n".into())
    );
    assert_eq!(s.call(Method::GET, "/MetaService/http/get_instance?token=", "").await.0, 403);
    assert_eq!(s.call(Method::GET, "/api/v1/cluster?token=x", "").await.0, 403);
    assert_eq!(s.call(Method::GET, &format!("/MetaService/http/nope?token={TOKEN}"), "").await, not_found);
    assert_eq!(
        s.call(Method::GET, &format!("/MetaService/http/v2/create_instance?token={TOKEN}"), "").await,
        not_found
    );
    assert_eq!(s.call(Method::GET, &format!("/MetaService/http/v1?token={TOKEN}"), "").await, not_found);
    assert_eq!(s.call(Method::GET, "/elsewhere", "").await, not_found);
    // The raft routes are not behind the token (they answer their own way, never with ours).
    let (_, raft) = s.call(Method::POST, "/raft/vote", "").await;
    assert!(!raft.starts_with("incorrect token"), "{raft}");
}

#[tokio::test]
async fn status_routes() {
    let s = Server::start().await;
    assert_eq!(s.call(Method::GET, "/healthz", "").await, (200, "ok\n".into()));
    assert_eq!(s.call(Method::GET, "/readyz", "").await, (200, "ready\n".into()));
    let (status, body) = s.call(Method::GET, &format!("/api/v1/cluster?token={TOKEN}"), "").await;
    assert_eq!(status, 200);
    let v: serde_json::Value = serde_json::from_str(&body).unwrap();
    assert_eq!(v["node_id"], 1);
}

#[tokio::test]
async fn every_route_answers_at_both_versions() {
    let s = Server::start().await;
    for route in DORIS_ROUTES.iter().map(|r| r.name) {
        for prefix in ["", "v1/"] {
            let (status, body) = s.post(&format!("{prefix}{route}"), "{}").await;
            assert!(status != 404 || body.starts_with('{'), "{prefix}{route}: {status} {body}");
        }
    }
}

#[tokio::test]
async fn openapi_document_lists_every_route_and_its_schemas() {
    let s = Server::start().await;
    assert_eq!(s.call(Method::GET, "/api/v1/openapi.json", "").await.0, 403, "the token is checked");
    let (status, body) = s.call(Method::GET, &format!("/api/v1/openapi.json?token={TOKEN}"), "").await;
    assert_eq!(status, 200);
    let doc: serde_json::Value = serde_json::from_str(&body).unwrap();
    assert_eq!(doc["openapi"], "3.1.0");
    let paths = doc["paths"].as_object().unwrap();
    for route in DORIS_ROUTES {
        for prefix in ["/MetaService/http/", "/MetaService/http/v1/"] {
            let item = &paths[&format!("{prefix}{}", route.name)];
            let op = if route.body.is_some() { &item["post"] } else { &item["get"] };
            assert_eq!(op["summary"], route.summary, "{prefix}{}", route.name);
            if let Some(body) = route.body {
                let reference = op["requestBody"]["content"]["application/json"]["schema"]["$ref"].as_str().unwrap();
                let name = reference.trim_start_matches("#/components/schemas/");
                assert_eq!(format!("doris.cloud.{name}"), body.full_name);
                let schema = &doc["components"]["schemas"][name];
                let properties = schema["properties"].as_object().unwrap();
                let fields: Vec<&str> = body.fields.iter().map(|f| f.name()).collect();
                assert_eq!(properties.keys().map(String::as_str).collect::<Vec<_>>(), fields, "{name}");
            }
        }
    }
    for route in super::routes::OPS_ROUTES {
        let method = format!("{:?}", route.method).to_lowercase();
        assert!(paths[route.path][&method]["summary"].is_string(), "{method} {}", route.path);
    }
    // Nested messages are registered too, and int64 fields take numbers or strings.
    let cluster = &doc["components"]["schemas"]["ClusterPB"]["properties"];
    assert_eq!(cluster["nodes"]["items"]["$ref"], "#/components/schemas/NodeInfoPB");
    let ctime = &doc["components"]["schemas"]["NodeInfoPB"]["properties"]["ctime"];
    assert_eq!(ctime["type"], serde_json::json!(["integer", "string"]));
    // What /api/v1/nodes prints is what the Member schema says.
    let (_, listed) = s.call(Method::GET, &format!("/api/v1/nodes?token={TOKEN}"), "").await;
    let listed: serde_json::Value = serde_json::from_str(&listed).unwrap();
    let printed: Vec<&String> = listed["result"][0].as_object().unwrap().keys().collect();
    let documented: Vec<&String> =
        doc["components"]["schemas"]["Member"]["properties"].as_object().unwrap().keys().collect();
    assert_eq!(printed, documented);
}

#[tokio::test]
async fn create_instance_parse_and_validation_errors() {
    let s = Server::start().await;
    let (status, body) = s.post("v1/create_instance", "").await;
    assert_eq!(status, 400);
    assert_eq!(
        body,
        envelope(
            "INVALID_ARGUMENT",
            "parse http request 'v1/create_instance': INVALID_ARGUMENT:Unexpected end of string. Expected a value.\\n\\n^"
        )
    );
    let (status, body) = s.post("create_instance", r#"{"instance_id":1}"#).await;
    assert_eq!(status, 400);
    assert!(body.contains(r#"INVALID_ARGUMENT:(instance_id): invalid value 1 for type TYPE_STRING"#), "{body}");
    assert_eq!(s.post("create_instance", "{}").await, (400, envelope("INVALID_ARGUMENT", "instance id not set")));
    let (status, body) = s.post("create_instance", r#"{"instance_id":"x","obj_info":{"ak":"a"}}"#).await;
    assert_eq!((status, body), (400, envelope("INVALID_ARGUMENT", "s3 conf info err, please check it")));
}

#[tokio::test]
async fn create_then_get_legacy_instance() {
    let s = Server::start().await;
    let body = format!(
        "{{'instance_id':'i1','user_id':'u','name':'n','obj_info':{OBJ},'ram_user':{{'user_id':'ru','ak':'rak','sk':'rsk'}},}}"
    );
    // Any method reaches the route.
    let (status, reply) = s.call(Method::PUT, &format!("/MetaService/http/create_instance?token={TOKEN}"), &body).await;
    assert_eq!((status, reply), (200, envelope("OK", "")));
    let (status, reply) = s.post("v1/create_instance", &body).await;
    assert_eq!((status, reply), (409, envelope("ALREADY_EXISTED", "instance already existed, instance_id=i1, err=Ok")));

    let (status, reply) = s.get("get_instance?instance_id=i1").await;
    assert_eq!(status, 200, "{reply}");
    let v: serde_json::Value = serde_json::from_str(&reply).unwrap();
    assert_eq!(v["code"], "OK");
    assert_eq!(v["msg"], "");
    let r = &v["result"];
    let keys: Vec<&str> = r.as_object().unwrap().keys().map(String::as_str).collect();
    // Print order is field-number order (serde_json keeps key order here).
    let expected = vec![
        "user_id",
        "instance_id",
        "name",
        "obj_info",
        "status",
        "ram_user",
        "iam_user",
        "sse_enabled",
        "enable_storage_vault",
        "multi_version_status",
    ];
    assert_eq!(keys, expected);
    assert_eq!(r["obj_info"][0]["sk"], "sk1");
    assert_eq!(r["obj_info"][0]["prefix"], "p");
    assert_eq!(r["obj_info"][0]["encryption_info"]["key_id"], "1");
    assert!(r["obj_info"][0]["ctime"].is_string());
    assert_eq!(r["iam_user"]["external_id"], "i1");
    // Field order is the proto's, and the body is 4-space pretty JSON with one trailing newline.
    let order: Vec<usize> = ["user_id", "instance_id", "obj_info", "status", "ram_user", "iam_user", "sse_enabled"]
        .iter()
        .map(|k| reply.find(&format!("\n        \"{k}\": ")).unwrap())
        .collect();
    assert!(order.windows(2).all(|w| w[0] < w[1]), "{reply}");
    assert!(reply
        .starts_with("{\n    \"code\": \"OK\",\n    \"msg\": \"\",\n    \"result\": {\n        \"user_id\": \"u\","));
    assert!(reply.ends_with("}\n}\n") && !reply.ends_with("\n\n"));

    let (status, reply) = s.get("v1/get_instance?cloud_unique_id=1:i1:be&consistency=stale").await;
    assert_eq!(status, 200, "{reply}");
}

#[tokio::test]
async fn create_vault_forms() {
    let s = Server::start().await;
    let obj_vault = format!(r#"{{"instance_id":"v1","vault":{{"obj_info":{OBJ}}}}}"#);
    assert_eq!(s.post("create_instance", &obj_vault).await, (200, envelope("OK", "")));
    let hdfs = r#"{"instance_id":"v2","vault":{"hdfs_info":{"build_conf":{"fs_name":"hdfs://nn:8020","user":"hadoop",
        "hdfs_confs":[{"key":"hadoop.security.authentication","value":"kerberos"}]},"prefix":"big_data"}}}"#;
    assert_eq!(s.post("create_instance", hdfs).await, (200, envelope("OK", "")));
    let (_, reply) = s.get("get_instance?instance_id=v2").await;
    let v: serde_json::Value = serde_json::from_str(&reply).unwrap();
    assert_eq!(v["result"]["resource_ids"], serde_json::json!(["1"]));
    assert_eq!(v["result"]["storage_vault_names"], serde_json::json!(["built_in_storage_vault"]));
    assert_eq!(v["result"]["enable_storage_vault"], true);
    let bad = r#"{"instance_id":"v3","vault":{"hdfs_info":{"build_conf":{"fs_name":""},"prefix":"p"}}}"#;
    assert_eq!(s.post("create_instance", bad).await, (400, envelope("INVALID_ARGUMENT", "invalid fs_name: ")));
}

#[tokio::test]
async fn get_instance_errors_carry_an_empty_result() {
    let s = Server::start().await;
    let with_result = |code: &str, msg: &str| {
        format!("{{\n    \"code\": \"{code}\",\n    \"msg\": \"{msg}\",\n    \"result\": {{}}\n}}\n")
    };
    let (status, body) = s.call(Method::GET, &format!("/MetaService/http/get_instance?token={TOKEN}"), "").await;
    assert_eq!((status, body), (400, with_result("INVALID_ARGUMENT", "empty instance_id and cloud_unique_id")));
    assert_eq!(
        s.get("get_instance?cloud_unique_id=1:nope:x").await,
        (400, with_result("INVALID_ARGUMENT", "cannot find instance_id with cloud_unique_id=1:nope:x"))
    );
    assert_eq!(
        s.get("get_instance?instance_id=nope").await,
        (
            500,
            with_result(
                "INTERNAL_ERROR",
                "failed to get instance, info=failed to get instance, instance_id=nope err=KeyNotFound"
            )
        )
    );
    let (status, body) = s.get("get_instance?instance_id=x&consistency=eventual").await;
    assert_eq!(status, 400, "{body}");
}

#[tokio::test]
async fn racing_creates_give_one_ok_and_one_conflict() {
    let s = Arc::new(Server::start().await);
    let body = r#"{"instance_id":"race"}"#;
    let (a, b) = tokio::join!(s.post("create_instance", body), s.post("create_instance", body));
    let mut statuses = vec![a.0, b.0];
    statuses.sort_unstable();
    assert_eq!(statuses, vec![200, 409]);
}
