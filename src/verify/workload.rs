//! The operations `metaraft verify` drives, over the real Doris API, and how each HTTP answer maps
//! onto the checker's register model ([`check::Op`], [`check::Outcome`]).
//!
//! Every key is one register:
//! - `status/<inst>`: the instance's status. `set_instance_status` SET_OVERDUE / SET_NORMAL is a
//!   transition (refused with "already …" when the status already is the target); `get_instance`
//!   reads it.
//! - `user/<inst>`: the first `mysql_user_name` of cluster `c0`. `update_cluster_mysql_user_name`
//!   writes it; `get_cluster` reads it.
//! - `create/<id>`: the name of instance `<id>`, created by racing `create_instance`s with distinct
//!   names: exactly one may succeed, the rest must get ALREADY_EXISTED; `get_instance` reads it.
//! - `cluster/<inst>/<cid>`: the name of a cluster raced by `add_cluster`s, read by `get_cluster`.
//!
//! Keys live for one generation (`--key-period`), which keeps each key's history short enough for
//! the linearizability search.

use serde_json::json;
use serde_json::Value;

use super::check::Op;
use super::check::Outcome;
use super::check::State;

/// Keys of each kind per generation.
pub const PER_KIND: usize = 2;

/// The kinds of register.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Status,
    User,
    Create,
    Cluster,
}

/// One register of one generation.
#[derive(Debug, Clone)]
pub struct Key {
    pub kind: Kind,
    /// The instance the register lives in (for Create: the instance being raced).
    pub instance: String,
    /// For Cluster: the raced cluster id.
    pub cluster: String,
    /// The checker's name for it.
    pub name: String,
}

/// The instances and registers of one generation.
pub struct Generation {
    /// Instances created before the run (with cluster `c0`), holding the Status, User and Cluster keys.
    pub setup: Vec<String>,
    pub keys: Vec<Key>,
}

impl Generation {
    pub fn new(run: &str, g: usize) -> Self {
        let setup: Vec<String> = (0..PER_KIND).map(|k| format!("{run}-g{g}-i{k}")).collect();
        let mut keys = Vec::new();
        for inst in &setup {
            keys.push(Key {
                kind: Kind::Status,
                instance: inst.clone(),
                cluster: String::new(),
                name: format!("status/{inst}"),
            });
            keys.push(Key {
                kind: Kind::User,
                instance: inst.clone(),
                cluster: "c0".into(),
                name: format!("user/{inst}"),
            });
            keys.push(Key {
                kind: Kind::Cluster,
                instance: inst.clone(),
                cluster: "r1".into(),
                name: format!("cluster/{inst}/r1"),
            });
        }
        for k in 0..PER_KIND {
            let inst = format!("{run}-g{g}-n{k}");
            keys.push(Key {
                kind: Kind::Create,
                name: format!("create/{inst}"),
                instance: inst,
                cluster: String::new(),
            });
        }
        Generation { setup, keys }
    }

    /// Each register's value once setup is done.
    pub fn initial(&self) -> Vec<(String, State)> {
        self.keys
            .iter()
            .map(|k| {
                let v = match k.kind {
                    Kind::Status => Some("NORMAL".to_string()),
                    Kind::User => Some(INITIAL_USER.to_string()),
                    Kind::Create | Kind::Cluster => None,
                };
                (k.name.clone(), v)
            })
            .collect()
    }
}

/// `mysql_user_name` of cluster `c0` after setup.
pub const INITIAL_USER: &str = "init";

/// A request: route, query parameters (besides the token) and JSON body (may be empty).
pub struct Request {
    pub route: &'static str,
    pub query: String,
    pub body: String,
}

impl Request {
    fn post(route: &'static str, body: Value) -> Self {
        Request { route, query: String::new(), body: body.to_string() }
    }
}

/// The `create_instance` body of a verify instance named `name`.
pub fn create_instance(instance: &str, name: &str) -> Request {
    let body = json!({
        "instance_id": instance, "name": name, "user_id": "verify",
        "vault": {"obj_info": {"ak": "ak", "sk": "sk", "bucket": "b", "prefix": "p", "endpoint": "e",
                               "external_endpoint": "e", "region": "r", "provider": "S3"}}
    });
    Request::post("create_instance", body)
}

/// `add_cluster` of an empty compute cluster.
pub fn add_cluster(instance: &str, cluster_id: &str, name: &str, users: &[&str]) -> Request {
    let body = json!({"instance_id": instance, "cluster": {
        "cluster_id": cluster_id, "cluster_name": name, "type": "COMPUTE", "nodes": [], "mysql_user_name": users
    }});
    Request::post("add_cluster", body)
}

/// A random operation on `key`: half reads, half the kind's write (`value` names what it writes).
pub fn random_op(key: &Key, rng: &mut impl rand::Rng, value: String) -> Op {
    use rand::RngExt as _;
    if rng.random_bool(0.5) {
        return Op::Read;
    }
    match key.kind {
        Kind::Status => Op::Transition(if rng.random_bool(0.5) { "OVERDUE" } else { "NORMAL" }.into()),
        Kind::User => Op::Write(value),
        Kind::Create | Kind::Cluster => Op::Create(value),
    }
}

/// The request carrying `op` on `key`; None for a pairing [`random_op`] never makes.
pub fn request(key: &Key, op: &Op) -> Option<Request> {
    let cuid = format!("1:{}:verify", key.instance);
    Some(match (key.kind, op) {
        (Kind::User | Kind::Cluster, Op::Read) => {
            Request::post("get_cluster", json!({"cloud_unique_id": cuid, "cluster_id": key.cluster}))
        }
        (Kind::Status, Op::Transition(to)) => {
            let op = if to == "OVERDUE" { "SET_OVERDUE" } else { "SET_NORMAL" };
            Request::post("set_instance_status", json!({"instance_id": key.instance, "op": op}))
        }
        (Kind::User, Op::Write(v)) => Request::post(
            "update_cluster_mysql_user_name",
            json!({"instance_id": key.instance, "cluster": {"cluster_id": key.cluster, "mysql_user_name": [v]}}),
        ),
        (Kind::Create, Op::Create(v)) => create_instance(&key.instance, v),
        (Kind::Cluster, Op::Create(v)) => add_cluster(&key.instance, &key.cluster, v, &[]),
        (Kind::Status | Kind::Create, Op::Read) => {
            Request { route: "get_instance", query: format!("instance_id={}", key.instance), body: String::new() }
        }
        _ => return None,
    })
}

/// What the client learnt from an answer.
pub enum Answer {
    /// An HTTP answer with the envelope's code and (for OK) its result.
    Reply { status: u16, code: String, msg: String, result: Option<Value> },
    /// Could not connect: the request never reached the node.
    NotSent,
    /// Sent, then no (complete) answer: timeout, reset, …
    Lost,
}

/// Maps an answer onto the model. `None`: drop the operation (it certainly had no effect and
/// observed nothing — a refused connection, a failed read). `Some((outcome, unexpected))`: record
/// it; `unexpected` names an answer the workload does not foresee (recorded as Unknown and listed
/// in the report).
pub fn outcome(key: &Key, op: &Op, answer: Answer) -> Option<(Outcome, Option<String>)> {
    let (status, code, msg, result) = match answer {
        Answer::NotSent => return None,
        Answer::Lost => return (!matches!(op, Op::Read)).then_some((Outcome::Unknown, None)),
        Answer::Reply { status, code, msg, result } => (status, code, msg, result),
    };
    // Not found is a value too (None): for a Create key before anyone wins, and for setup records it
    // would be a lost acknowledged write, which the checker must see. Doris answers get_instance of a
    // missing instance with INTERNAL_ERROR "… err=KeyNotFound".
    if matches!(op, Op::Read) && (code == "NOT_FOUND" || msg.contains("err=KeyNotFound")) {
        return Some((Outcome::Ok(None), None));
    }
    if status >= 500 || code == "INTERNAL_ERROR" {
        // Our 5xx (timeout, no leader, forwarding failed) do not say whether a write applied.
        return (!matches!(op, Op::Read)).then_some((Outcome::Unknown, None));
    }
    match (op, code.as_str()) {
        (Op::Read, "OK") => match read_value(key, result.as_ref()) {
            Some(v) => Some((Outcome::Ok(Some(v)), None)),
            None => Some((Outcome::Unknown, Some(format!("{status} OK without a {:?} value in the result", key.kind)))),
        },
        // A refused read observed nothing.
        (Op::Read, _) => None,
        (_, "OK") => Some((Outcome::Ok(None), None)),
        (Op::Transition(_), "INVALID_ARGUMENT") if msg.contains("already") => Some((Outcome::Failed, None)),
        (Op::Create(_), "ALREADY_EXISTED") => Some((Outcome::Failed, None)),
        _ => Some((Outcome::Unknown, Some(format!("{status} {code} {msg}")))),
    }
}

/// The register's value in a successful read's `result` (None: the answer does not hold it).
fn read_value(key: &Key, result: Option<&Value>) -> Option<String> {
    let r = result?;
    let text = |v: &Value| v.as_str().map(str::to_string);
    match key.kind {
        // Doris prints the status only when set; a fresh instance is NORMAL.
        Kind::Status => Some(r.get("status").and_then(text).unwrap_or_else(|| "NORMAL".into())),
        Kind::User => r.get("mysql_user_name").and_then(|v| v.get(0)).and_then(text),
        Kind::Create => r.get("name").and_then(text),
        Kind::Cluster => r.get("cluster_name").and_then(text),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn reply(status: u16, code: &str, msg: &str, result: Option<Value>) -> Answer {
        Answer::Reply { status, code: code.into(), msg: msg.into(), result }
    }

    #[test]
    fn answers_map_onto_the_model() {
        let g = Generation::new("r", 0);
        let status = g.keys.iter().find(|k| k.kind == Kind::Status).unwrap();
        let create = g.keys.iter().find(|k| k.kind == Kind::Create).unwrap();
        let to = Op::Transition("OVERDUE".into());
        let ok = |a| outcome(status, &to, a).map(|o| o.0);
        assert_eq!(ok(reply(200, "OK", "", None)), Some(Outcome::Ok(None)));
        assert_eq!(
            ok(reply(400, "INVALID_ARGUMENT", "the instance is already normal, x", None)),
            Some(Outcome::Failed)
        );
        assert_eq!(ok(reply(500, "INTERNAL_ERROR", "timed out", None)), Some(Outcome::Unknown));
        assert_eq!(ok(Answer::Lost), Some(Outcome::Unknown));
        assert_eq!(ok(Answer::NotSent), None);
        // A refusal the workload does not expect is kept, as Unknown, and reported.
        let odd = outcome(status, &to, reply(400, "INVALID_ARGUMENT", "bad", None)).unwrap();
        assert_eq!((odd.0, odd.1.is_some()), (Outcome::Unknown, true));

        let read = |k: &Key, a| outcome(k, &Op::Read, a).map(|o| o.0);
        assert_eq!(
            read(status, reply(200, "OK", "", Some(json!({"status": "OVERDUE"})))),
            Some(Outcome::Ok(Some("OVERDUE".into())))
        );
        assert_eq!(read(status, reply(200, "OK", "", Some(json!({})))), Some(Outcome::Ok(Some("NORMAL".into()))));
        assert_eq!(read(create, reply(404, "NOT_FOUND", "", None)), Some(Outcome::Ok(None)));
        // A setup record not found is a value the checker must judge, not a dropped read.
        assert_eq!(read(status, reply(404, "NOT_FOUND", "", None)), Some(Outcome::Ok(None)));
        let odd = outcome(create, &Op::Read, reply(200, "OK", "", Some(json!({"no_name": 1})))).unwrap();
        assert_eq!((odd.0, odd.1.is_some()), (Outcome::Unknown, true));
        let missing = "failed to get instance, instance_id=x err=KeyNotFound";
        assert_eq!(read(create, reply(500, "INTERNAL_ERROR", missing, None)), Some(Outcome::Ok(None)));
        assert_eq!(read(status, reply(400, "INVALID_ARGUMENT", "", None)), None);
        assert_eq!(read(status, Answer::Lost), None);
        assert_eq!(
            outcome(create, &Op::Create("a".into()), reply(409, "ALREADY_EXISTED", "", None)).map(|o| o.0),
            Some(Outcome::Failed)
        );
    }

    #[test]
    fn requests_are_json_for_their_route() {
        let g = Generation::new("r", 3);
        let mut rng = rand::rng();
        for key in &g.keys {
            for i in 0..20 {
                let op = random_op(key, &mut rng, format!("v{i}"));
                let r = request(key, &op).unwrap_or_else(|| panic!("{key:?} {op:?} has no request"));
                if r.body.is_empty() {
                    assert!(r.query.starts_with("instance_id=r-g3-"), "{} {}", r.route, r.query);
                } else {
                    let v: Value = serde_json::from_str(&r.body).unwrap();
                    assert!(v.is_object(), "{} {}", r.route, r.body);
                }
            }
        }
        assert!(request(&g.keys[0], &Op::Create("x".into())).is_none(), "a status key has no create");
        assert_eq!(g.keys.len(), 4 * PER_KIND);
        assert!(g.initial().iter().any(|(k, v)| k.starts_with("status/") && v.as_deref() == Some("NORMAL")));
    }
}
