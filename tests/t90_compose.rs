//! The docker-compose deployment (`docker-compose.yml`, image from `scripts/docker/build-image.sh`):
//! three containers come up ready, replicate, survive the loss of the leader container, and the
//! restarted container catches up from its volume and the log.
//!
//! Runs only with `METARAFT_REQUIRE_COMPOSE=1` (`.ci/run` sets it where docker and docker-compose
//! work, after building the image); otherwise it prints why it skipped. It needs host ports
//! 5000-5002 free and no other containers named `metaraft-node1..3`; it runs the compose project
//! `metaraft-t90` and removes it (`down -v`) before and after, also when it fails.

use std::path::PathBuf;
use std::process::Command;
use std::time::Duration;
use std::time::Instant;

use serde_json::Value;

const PROJECT: &str = "metaraft-t90";
const TOKEN: &str = "t90-compose-token";
const SECRET: &str = "t90-compose-cluster-secret";
const KEY: &str = "5f1e0c3a9b7d2468ace013579bdf02468ace13579bdf02468ace13579bdf0246";
const START_TIMEOUT: Duration = Duration::from_secs(90);
const FAILOVER_TIMEOUT: Duration = Duration::from_secs(15);
const CATCH_UP_TIMEOUT: Duration = Duration::from_secs(60);

/// Host port of node `id` (1..=3), as published by docker-compose.yml.
fn port(id: u64) -> u16 {
    4999 + u16::try_from(id).expect("node id")
}

fn container(id: u64) -> String {
    format!("metaraft-node{id}")
}

fn image() -> String {
    std::env::var("METARAFT_IMAGE").unwrap_or_else(|_| "metaraft:latest".into())
}

/// Runs a command; `(success, stdout + stderr)`. Panics only when the program cannot be started.
fn run(program: &str, args: &[&str]) -> (bool, String) {
    let out = Command::new(program).args(args).output().unwrap_or_else(|e| panic!("cannot run {program}: {e}"));
    let text = format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    (out.status.success(), text)
}

fn docker(args: &[&str]) -> String {
    let (ok, out) = run("docker", args);
    assert!(ok, "docker {} failed:\n{out}", args.join(" "));
    out
}

/// The compose project `metaraft-t90` on the repository's docker-compose.yml.
struct Compose {
    file: PathBuf,
}

/// A started project: dropping it prints the containers' logs if the test failed, then `down -v`.
struct Up<'a>(&'a Compose);

impl Compose {
    fn new() -> Compose {
        Compose { file: PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("docker-compose.yml") }
    }

    /// `docker-compose -p metaraft-t90 -f <repo>/docker-compose.yml ARGS` with this test's secrets.
    fn run(&self, args: &[&str]) -> (bool, String) {
        let file = self.file.to_str().expect("utf-8 path");
        let out = Command::new("docker-compose")
            .args(["-p", PROJECT, "-f", file])
            .args(args)
            .env("METARAFT_TOKEN", TOKEN)
            .env("METARAFT_CLUSTER_SECRET", SECRET)
            .env("METARAFT_ENCRYPTION_KEY", KEY)
            .env("METARAFT_PUBLISH_IP", "127.0.0.1")
            .output()
            .unwrap_or_else(|e| panic!("cannot run docker-compose: {e}"));
        let text = format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
        (out.status.success(), text)
    }

    fn down(&self) {
        let (ok, out) = self.run(&["down", "-v", "--remove-orphans", "--timeout", "10"]);
        if !ok {
            eprintln!("docker-compose down -v failed:\n{out}");
        }
    }

    /// The last lines of every node's log, for failure messages.
    fn logs() -> String {
        let mut all = String::new();
        for id in 1..=3 {
            let (_, out) = run("docker", &["logs", "--tail", "40", &container(id)]);
            all.push_str(&format!("----- docker logs {} (last 40 lines)\n{out}\n", container(id)));
        }
        all
    }
}

impl Drop for Up<'_> {
    fn drop(&mut self) {
        if std::thread::panicking() {
            eprintln!("{}", Compose::logs());
        }
        self.0.down();
    }
}

/// Fails clearly when something outside this test holds what the compose file needs.
fn check_preconditions() {
    let (ok, out) = run("docker", &["image", "inspect", "--format", "{{.Id}}", &image()]);
    assert!(ok, "image {} not found: build it with scripts/docker/build-image.sh\n{out}", image());
    let names = docker(&["ps", "-a", "--format", "{{.Names}} ({{.Label \"com.docker.compose.project\"}})"]);
    let taken: Vec<&str> =
        names.lines().filter(|l| (1..=3).any(|id| l.starts_with(&format!("{} ", container(id))))).collect();
    assert!(
        taken.is_empty(),
        "containers with the compose file's fixed names already exist: {taken:?}; \
         stop that deployment first (docker-compose down, or docker rm -f metaraft-node1 metaraft-node2 metaraft-node3)"
    );
    for id in 1..=3 {
        let p = port(id);
        if let Err(e) = std::net::TcpListener::bind(("127.0.0.1", p)) {
            panic!("host port {p} (node{id}'s published API port) is not free: {e}; free ports 5000-5002 first");
        }
    }
    // A leftover network of that name with no containers would make `up` fail on its labels.
    let (exists, _) = run("docker", &["network", "inspect", "metaraft"]);
    if exists {
        let (ok, out) = run("docker", &["network", "rm", "metaraft"]);
        assert!(ok, "a docker network named metaraft already exists and cannot be removed:\n{out}");
    }
}

struct Api {
    http: reqwest::blocking::Client,
}

/// An HTTP answer; `status` 0 with the error text when the request did not get an answer.
#[derive(Debug)]
struct Resp {
    status: u16,
    body: String,
}

impl Resp {
    fn json(&self) -> Value {
        serde_json::from_str(&self.body).unwrap_or(Value::Null)
    }

    fn is_ok(&self) -> bool {
        self.status == 200 && self.json()["code"] == "OK"
    }
}

impl Api {
    fn new() -> Api {
        let http = reqwest::blocking::Client::builder()
            .timeout(Duration::from_secs(5))
            .connect_timeout(Duration::from_secs(2))
            .pool_max_idle_per_host(0)
            .no_proxy()
            .build()
            .expect("http client");
        Api { http }
    }

    fn send(&self, id: u64, path: &str, body: Option<String>) -> Resp {
        let url = format!("http://127.0.0.1:{}{path}", port(id));
        let req = match body {
            Some(b) => self.http.post(&url).body(b),
            None => self.http.get(&url),
        };
        match req.send() {
            Ok(r) => {
                let status = r.status().as_u16();
                Resp { status, body: r.text().unwrap_or_else(|e| format!("(body: {e})")) }
            }
            Err(e) => Resp { status: 0, body: e.to_string() },
        }
    }

    fn ready(&self, id: u64) -> Resp {
        self.send(id, "/readyz", None)
    }

    fn create(&self, id: u64, instance_id: &str) -> Resp {
        let body = serde_json::json!({
            "instance_id": instance_id,
            "name": format!("name-{instance_id}"),
            "user_id": "u1",
            "obj_info": {
                "ak": "ak", "sk": "sk-secret", "bucket": "b", "prefix": "p", "endpoint": "e",
                "external_endpoint": "e", "region": "r", "provider": "S3"
            }
        });
        self.send(id, &format!("/MetaService/http/create_instance?token={TOKEN}"), Some(body.to_string()))
    }

    fn get(&self, id: u64, instance_id: &str, stale: bool) -> Resp {
        let consistency = if stale { "&consistency=stale" } else { "" };
        self.send(
            id,
            &format!("/MetaService/http/get_instance?token={TOKEN}&instance_id={instance_id}{consistency}"),
            None,
        )
    }

    /// Asserts that node `id` returns the instance, with its sk decrypted (sealed with the compose key).
    fn assert_instance(&self, id: u64, instance_id: &str, stale: bool) {
        let r = self.get(id, instance_id, stale);
        assert!(r.is_ok(), "get_instance {instance_id} on node{id} (stale: {stale}): {r:?}");
        let inst = &r.json()["result"];
        assert_eq!(inst["instance_id"], instance_id, "node{id}: {r:?}");
        assert_eq!(inst["name"], format!("name-{instance_id}"), "node{id}: {r:?}");
        assert_eq!(inst["obj_info"][0]["sk"], "sk-secret", "node{id}: {r:?}");
    }

    fn cluster(&self, id: u64) -> Option<Value> {
        let r = self.send(id, &format!("/api/v1/cluster?token={TOKEN}"), None);
        (r.status == 200).then(|| r.json())
    }
}

/// Polls `f` every 100 ms until it yields `Some`; panics after `timeout` with `what` and the last
/// value `f` reported through `last`.
fn wait_until<T>(what: &str, timeout: Duration, mut f: impl FnMut(&mut String) -> Option<T>) -> T {
    let deadline = Instant::now() + timeout;
    let mut last = String::new();
    loop {
        if let Some(v) = f(&mut last) {
            return v;
        }
        assert!(Instant::now() < deadline, "timed out after {timeout:?} waiting for: {what}; last: {last}");
        std::thread::sleep(Duration::from_millis(100));
    }
}

fn wait_ready(api: &Api, id: u64, timeout: Duration) {
    wait_until(&format!("node{id} /readyz on 127.0.0.1:{}", port(id)), timeout, |last| {
        let r = api.ready(id);
        *last = format!("{r:?}");
        (r.status == 200).then_some(())
    });
}

#[test]
fn compose_cluster_replicates_and_survives_losing_the_leader() {
    if std::env::var("METARAFT_REQUIRE_COMPOSE").as_deref() != Ok("1") {
        println!(
            "skipped: set METARAFT_REQUIRE_COMPOSE=1 (needs docker, docker-compose and scripts/docker/build-image.sh)"
        );
        return;
    }
    let started = Instant::now();
    let compose = Compose::new();
    compose.down(); // leftovers of an interrupted run of this test
    check_preconditions();
    let _up = Up(&compose);
    let (ok, out) = compose.run(&["up", "-d"]);
    assert!(ok, "docker-compose up -d failed:\n{out}");

    let api = Api::new();
    for id in 1..=3 {
        wait_ready(&api, id, START_TIMEOUT);
    }
    println!("all three containers ready after {:?}", started.elapsed());

    // The token comes from the environment: Doris's default no longer opens the API.
    let r = api.send(1, "/MetaService/http/get_instance?token=greedisgood9999&instance_id=x", None);
    assert_eq!(r.status, 403, "default token must be refused when METARAFT_TOKEN is set: {r:?}");

    // Replication across containers: written through node1, read (linearizable) on node2 and node3.
    let r = api.create(1, "t90-a");
    assert!(r.is_ok(), "create_instance t90-a through node1: {r:?}");
    for id in 1..=3 {
        api.assert_instance(id, "t90-a", false);
    }

    let leader = wait_until("a leader in /api/v1/cluster of node1", START_TIMEOUT, |last| {
        let s = api.cluster(1)?;
        *last = s.to_string();
        assert_eq!(s["voters"], serde_json::json!([1, 2, 3]), "{s}");
        s["leader_id"].as_u64()
    });
    let survivors: Vec<u64> = (1..=3).filter(|&id| id != leader).collect();
    println!("leader is node{leader}; stopping {}", container(leader));

    // Lose the leader's container.
    let t = Instant::now();
    docker(&["stop", "--time", "10", &container(leader)]);
    println!("docker stop took {:?}", t.elapsed());

    // Writes go on through a survivor; the other survivor reads them.
    let t = Instant::now();
    let mut attempts = 0;
    wait_until(
        &format!("create_instance t90-b through node{} after node{leader} stopped", survivors[0]),
        FAILOVER_TIMEOUT,
        |last| {
            attempts += 1;
            let r = api.create(survivors[0], "t90-b");
            *last = format!("{r:?}");
            // An earlier attempt may have committed without its answer arriving.
            (r.is_ok() || (attempts > 1 && r.json()["code"] == "ALREADY_EXISTED")).then_some(())
        },
    );
    println!("write accepted {:?} after the leader stopped", t.elapsed());
    api.assert_instance(survivors[1], "t90-b", false);
    let new_leader = api.cluster(survivors[1]).and_then(|s| s["leader_id"].as_u64());
    assert!(
        new_leader.is_some_and(|l| survivors.contains(&l)),
        "the survivors elect one of themselves: {new_leader:?}"
    );

    // The stopped container comes back with its volume and catches up on what it missed.
    docker(&["start", &container(leader)]);
    wait_ready(&api, leader, CATCH_UP_TIMEOUT);
    wait_until(&format!("node{leader} serving t90-b from its own replica"), CATCH_UP_TIMEOUT, |last| {
        let r = api.get(leader, "t90-b", true);
        *last = format!("{r:?}");
        r.is_ok().then_some(())
    });
    api.assert_instance(leader, "t90-b", true);
    api.assert_instance(leader, "t90-a", true);
    api.assert_instance(leader, "t90-b", false);
    let s = api.cluster(leader).expect("cluster status of the restarted node");
    assert_eq!(s["voters"], serde_json::json!([1, 2, 3]), "{s}");
    println!("compose test passed in {:?}", started.elapsed());
}
