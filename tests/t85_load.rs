//! The load path on a real three-node cluster: brpc methods over HTTP (`/MetaService/<method>`)
//! and the three HTTP debug routes riding on them (`get_tablet_stats`, `abort_txn`,
//! `abort_tablet_job`). Each step is sent to one member and checked on the others.

mod common;

use std::collections::BTreeSet;
use std::sync::Mutex;
use std::time::Duration;
use std::time::Instant;
use std::time::SystemTime;
use std::time::UNIX_EPOCH;

use common::Cluster;
use common::Resp;
use common::TOKEN;
use serde_json::json;
use serde_json::Value;

const CUID: &str = "1:inst1:be";

/// A brpc method on node `id`; the reply must be HTTP 200 JSON.
fn rpc(c: &Cluster, id: u64, method: &str, mut body: Value) -> Value {
    body["cloud_unique_id"] = json!(CUID);
    let r = rpc_raw(c, id, method, &body.to_string());
    assert_eq!(r.status, 200, "{method} on node {id}: {r:?}");
    r.json()
}

fn rpc_raw(c: &Cluster, id: u64, method: &str, body: &str) -> Resp {
    c.request(id, "POST", &format!("/MetaService/{method}?token={TOKEN}"), Some(body))
        .unwrap_or_else(|e| panic!("{method} on node {id}: {e}"))
}

/// `status` of a reply: `(code, msg)`.
fn status(v: &Value) -> (String, String) {
    (v["status"]["code"].as_str().unwrap_or("?").to_string(), v["status"]["msg"].as_str().unwrap_or("?").to_string())
}

fn assert_ok(v: &Value, what: &str) {
    assert_eq!(status(v).0, "OK", "{what}: {v}");
}

fn assert_status(v: &Value, code: &str, msg: &str, what: &str) {
    assert_eq!(status(v), (code.to_string(), msg.to_string()), "{what}: {v}");
}

fn tablet_meta(table: i64, partition: i64, tablet: i64) -> Value {
    json!({
        "table_id": table, "index_id": 21, "partition_id": partition, "tablet_id": tablet,
        "schema": {"schema_version": 0, "keys_type": "DUP_KEYS",
                   "column": [{"unique_id": 0, "name": "k", "type": "INT", "is_key": true}]},
        "rs_metas": [{"rowset_id": 0, "rowset_id_v2": format!("init-{tablet}"), "tablet_id": tablet,
                      "partition_id": partition, "start_version": 0, "end_version": 1,
                      "num_rows": 0, "num_segments": 0}]
    })
}

fn begin(c: &Cluster, id: u64, label: &str, extra: Value) -> Value {
    let mut info = json!({"db_id": 10, "label": label, "table_ids": [20], "timeout_ms": 60000});
    if let (Some(info), Some(extra)) = (info.as_object_mut(), extra.as_object()) {
        info.extend(extra.clone());
    }
    rpc(c, id, "begin_txn", json!({ "txn_info": info }))
}

fn begin_ok(c: &Cluster, id: u64, label: &str) -> i64 {
    let r = begin(c, id, label, json!({}));
    assert_ok(&r, &format!("begin {label}"));
    r["txn_id"].as_i64().unwrap_or_else(|| panic!("txn_id in {r}"))
}

fn txn_status(c: &Cluster, id: u64, txn: i64) -> Value {
    let r = rpc(c, id, "get_txn", json!({ "txn_id": txn }));
    assert_ok(&r, "get_txn");
    r["txn_info"].clone()
}

/// `get_tablet_stats` through the HTTP debug route (protobuf text).
fn stats_text(c: &Cluster, id: u64, tablet: i64) -> Resp {
    let body = json!({"cloud_unique_id": CUID, "tablet_idx": [{"tablet_id": tablet}]}).to_string();
    c.api(id, "get_tablet_stats", "", Some(&body)).expect("get_tablet_stats")
}

fn stats_debug_string(tablet: i64, partition: i64, counters: &str) -> String {
    format!(
        "status {{\n  code: OK\n  msg: \"\"\n}}\ntablet_stats {{\n  idx {{\n    table_id: 20\n    index_id: 21\n    \
         partition_id: {partition}\n    tablet_id: {tablet}\n  }}\n{counters}}}\n\n"
    )
}

fn now_s() -> i64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_secs() as i64).unwrap_or(0)
}

fn compaction(id: &str, extra: Value) -> Value {
    let mut job = json!({"id": id, "initiator": "be1:9050", "type": "CUMULATIVE", "base_compaction_cnt": 0,
                         "cumulative_compaction_cnt": 0, "expiration": now_s() + 300, "lease": now_s() + 60});
    if let (Some(job), Some(extra)) = (job.as_object_mut(), extra.as_object()) {
        job.extend(extra.clone());
    }
    job
}

#[test]
fn load_cycle_txn_states_and_compaction_on_every_member() {
    let c = Cluster::start("t85-load");
    c.create_ok(1, "inst1");

    // --- tablets: created on node 2, fresh stats visible on every member.
    let metas = [tablet_meta(20, 22, 23), tablet_meta(20, 22, 24), tablet_meta(20, 26, 25)];
    assert_ok(&rpc(&c, 2, "create_tablets", json!({"db_id": 10, "tablet_metas": metas})), "create_tablets");
    let fresh = "  data_size: 0\n  num_rows: 0\n  num_rowsets: 1\n  num_segments: 0\n  base_compaction_cnt: 0\n  \
                 cumulative_compaction_cnt: 0\n  cumulative_point: 2\n";
    for id in 1..=3 {
        let r = stats_text(&c, id, 23);
        assert_eq!((r.status, r.body.as_str()), (200, stats_debug_string(23, 22, fresh).as_str()), "node {id}");
    }
    let tablet = rpc(&c, 3, "get_tablet", json!({"tablet_id": 23}));
    assert_ok(&tablet, "get_tablet");
    assert_eq!(tablet["tablet_meta"]["schema"]["column"][0]["name"], "k", "{tablet}");
    assert_eq!(tablet["tablet_meta"]["index_id"], 21);
    let missing = rpc(&c, 1, "get_tablet", json!({"tablet_id": 999}));
    assert_eq!(status(&missing).0, "TABLET_NOT_FOUND", "{missing}");
    let r = stats_text(&c, 1, 999);
    assert_eq!((r.status, r.body.as_str()), (404, "\n"), "stats of an unknown tablet");
    assert_ok(
        &rpc(
            &c,
            1,
            "update_tablet",
            json!({"tablet_meta_infos": [{"tablet_id": 23, "ttl_seconds": 3600}, {"tablet_id": 23, "is_in_memory": true}]}),
        ),
        "update, two properties of one tablet",
    );
    let meta = &rpc(&c, 2, "get_tablet", json!({"tablet_id": 23}))["tablet_meta"];
    assert_eq!((&meta["ttl_seconds"], &meta["is_in_memory"]), (&json!(3600), &json!(true)), "{meta}");
    // All or nothing: the second info names a tablet whose schema is missing, so the first one's
    // ttl must not stick either.
    let mut schemaless = tablet_meta(20, 22, 27);
    schemaless["index_id"] = json!(28);
    schemaless["schema_version"] = json!(3);
    schemaless.as_object_mut().map(|m| m.remove("schema"));
    assert_ok(&rpc(&c, 2, "create_tablets", json!({"db_id": 10, "tablet_metas": [schemaless]})), "schemaless tablet");
    let infos = json!({"tablet_meta_infos": [{"tablet_id": 23, "ttl_seconds": 7200},
                                             {"tablet_id": 27, "disable_auto_compaction": true}]});
    let refused = rpc(&c, 3, "update_tablet", infos);
    assert_status(&refused, "KV_TXN_GET_ERR", "failed to get schema, err=not found", "update, schema missing");
    let meta = &rpc(&c, 1, "get_tablet", json!({"tablet_id": 23}))["tablet_meta"];
    assert_eq!(meta["ttl_seconds"], json!(3600), "a refused update changed nothing: {meta}");
    let infos = json!({"tablet_meta_infos": [{"tablet_id": 23, "disable_auto_compaction": true}]});
    assert_ok(&rpc(&c, 3, "update_tablet", infos), "disable_auto_compaction");
    let schema = &rpc(&c, 2, "get_tablet", json!({"tablet_id": 23}))["tablet_meta"]["schema"];
    assert_eq!(schema["disable_auto_compaction"], json!(true), "{schema}");

    // --- a load: begin on node 3, rowsets on node 1, commit on node 2.
    let t1 = begin_ok(&c, 3, "l1");
    for (tablet, partition) in [(23, 22), (25, 26)] {
        let rowset = json!({"rowset_id": 0, "rowset_id_v2": format!("r-{tablet}"), "tablet_id": tablet,
                            "partition_id": partition, "txn_id": t1, "num_rows": 100, "total_disk_size": 4096,
                            "num_segments": 1, "schema_version": 0});
        assert_ok(&rpc(&c, 1, "commit_rowset", json!({ "rowset_meta": rowset.clone() })), "commit_rowset");
        // Idempotent for the same rowset id; a different one is refused.
        assert_ok(&rpc(&c, 2, "commit_rowset", json!({ "rowset_meta": rowset.clone() })), "commit_rowset again");
        let mut other = rowset;
        other["rowset_id_v2"] = json!("other");
        assert_status(
            &rpc(&c, 2, "commit_rowset", json!({ "rowset_meta": other })),
            "ALREADY_EXISTED",
            "rowset already exists",
            "dup rowset",
        );
    }
    let committed = rpc(&c, 2, "commit_txn", json!({ "txn_id": t1 }));
    assert_ok(&committed, "commit_txn");
    assert_eq!(committed["txn_info"]["status"], "TXN_STATUS_VISIBLE", "{committed}");
    assert_eq!(
        (&committed["partition_ids"], &committed["versions"]),
        (&json!([22, 26]), &json!([2, 2])),
        "{committed}"
    );
    let loaded =
        "  data_size: 4096\n  num_rows: 100\n  num_rowsets: 2\n  num_segments: 1\n  base_compaction_cnt: 0\n  \
                  cumulative_compaction_cnt: 0\n  cumulative_point: 2\n";
    for id in 1..=3 {
        assert_eq!(stats_text(&c, id, 23).body, stats_debug_string(23, 22, loaded), "node {id}");
        assert_eq!(stats_text(&c, id, 24).body, stats_debug_string(24, 22, fresh), "untouched tablet, node {id}");
        let v = rpc(&c, id, "get_version", json!({"db_id": 10, "table_id": 20, "partition_id": 22}));
        assert_eq!(v["version"], 2, "node {id}: {v}");
        let batch = rpc(
            &c,
            id,
            "get_version",
            json!({"batch_mode": true, "db_ids": [10, 10, 10],
                        "table_ids": [20, 20, 20], "partition_ids": [22, 26, 99]}),
        );
        assert_eq!(batch["versions"], json!([2, 2, -1]), "node {id}: {batch}");
        assert_eq!(txn_status(&c, id, t1)["status"], "TXN_STATUS_VISIBLE");
    }
    let unknown = rpc(&c, 1, "get_version", json!({"db_id": 10, "table_id": 20, "partition_id": 99}));
    assert_status(&unknown, "VERSION_NOT_FOUND", "not found", "unknown partition");
    let again = rpc(&c, 3, "commit_txn", json!({ "txn_id": t1 }));
    assert_status(&again, "OK", &format!("transaction is already visible: db_id=10 txn_id={t1}"), "re-commit");
    let value =
        c.api(1, "get_value", &format!("key_type=TxnInfoKey&instance_id=inst1&db_id=10&txn_id={t1}"), None).unwrap();
    assert!(value.status == 200 && value.body.contains("\"status\":\"TXN_STATUS_VISIBLE\""), "{value:?}");

    // --- abort in each state, by id and by label, over the brpc method and the HTTP route.
    let visible = rpc(&c, 1, "abort_txn", json!({ "txn_id": t1 }));
    assert_status(
        &visible,
        "TXN_ALREADY_VISIBLE",
        &format!("transaction [{t1}] is already VISIBLE, db_id=10"),
        "abort visible",
    );
    let r = c.api(2, "abort_txn", "", Some(&json!({"cloud_unique_id": CUID, "txn_id": t1}).to_string())).unwrap();
    common::expect(
        &r,
        500,
        "INTERNAL_ERROR",
        &format!("transaction [{t1}] is already VISIBLE, db_id=10"),
        "HTTP abort visible",
    );
    let used = begin(&c, 1, "l1", json!({}));
    let msg = format!("Label [l1] has already been used, relate to txn [{t1}], status=[TXN_STATUS_VISIBLE]");
    assert_status(&used, "TXN_LABEL_ALREADY_USED", &msg, "duplicate label");

    let t2 = begin_ok(&c, 1, "l2"); // PREPARED, aborted by label over HTTP
    let by_label = json!({"cloud_unique_id": CUID, "db_id": 10, "label": "l2"}).to_string();
    common::ok(&c.api(3, "abort_txn", "", Some(&by_label)).unwrap(), "HTTP abort by label");
    let info = txn_status(&c, 2, t2);
    assert_eq!((&info["status"], &info["reason"]), (&json!("TXN_STATUS_ABORTED"), &json!("User Abort")), "{info}");
    let r = c.api(3, "abort_txn", "", Some(&by_label)).unwrap();
    common::expect(&r, 500, "INTERNAL_ERROR", "running transaction not found, db_id=10 label=l2", "nothing running");
    let t3 = begin_ok(&c, 2, "l2"); // the label is free again
    assert!(t3 > t2, "{t3} > {t2}");
    assert_ok(&rpc(&c, 3, "precommit_txn", json!({ "txn_id": t3 })), "precommit");
    assert_eq!(txn_status(&c, 1, t3)["status"], "TXN_STATUS_PRECOMMITTED");
    let r = rpc(&c, 1, "abort_txn", json!({"txn_id": t3, "reason": "operator"}));
    assert_ok(&r, "abort precommitted by id");
    assert_eq!(txn_status(&c, 3, t3)["reason"], "operator");
    let r = rpc(&c, 2, "abort_txn", json!({ "txn_id": t3 }));
    assert_status(
        &r,
        "TXN_ALREADY_ABORTED",
        &format!("transaction [{t3}] is already aborted, db_id=10"),
        "abort twice",
    );
    let r = c
        .api(1, "abort_txn", "", Some(&json!({"cloud_unique_id": CUID, "db_id": 10, "label": "nope"}).to_string()))
        .unwrap();
    common::expect(&r, 500, "INTERNAL_ERROR", "txn->get() failed, label=nope err=KeyNotFound", "unknown label");
    let r = c.api(1, "abort_txn", "", Some(&json!({"cloud_unique_id": CUID}).to_string())).unwrap();
    common::expect(&r, 400, "INVALID_ARGUMENT", "invalid txn id and label, db_id=-1 txn_id=-1 label=", "no id");
    let negative = json!({"cloud_unique_id": CUID, "txn_id": -5, "db_id": -1, "label": "l"}).to_string();
    let r = c.api(1, "abort_txn", "", Some(&negative)).unwrap();
    common::expect(&r, 400, "INVALID_ARGUMENT", "invalid txn id and label, db_id=-1 txn_id=-5 label=l", "negative ids");
    let committed_aborted = rpc(&c, 1, "commit_txn", json!({ "txn_id": t3 }));
    assert_status(
        &committed_aborted,
        "TXN_ALREADY_ABORTED",
        &format!("transaction [{t3}] is already aborted, db_id=10"),
        "commit aborted",
    );

    // By label in PRECOMMITTED, by id in PREPARED (over HTTP).
    let t5 = begin_ok(&c, 1, "l5");
    assert_ok(&rpc(&c, 2, "precommit_txn", json!({"db_id": 10, "txn_id": t5})), "precommit l5");
    let r = rpc(&c, 2, "precommit_txn", json!({ "txn_id": t5 }));
    let msg = format!("ransaction is already precommited: db_id=10 txn_id={t5}");
    assert_status(&r, "TXN_ALREADY_PRECOMMITED", &msg, "precommit twice (Doris's typo kept)");
    let body = json!({"cloud_unique_id": CUID, "db_id": 10, "label": "l5"}).to_string();
    common::ok(&c.api(3, "abort_txn", "", Some(&body)).unwrap(), "HTTP abort precommitted by label");
    assert_eq!(txn_status(&c, 1, t5)["status"], "TXN_STATUS_ABORTED");
    let t6 = begin_ok(&c, 2, "l6");
    let body = json!({"cloud_unique_id": CUID, "txn_id": t6.to_string()}).to_string();
    common::ok(&c.api(1, "abort_txn", "", Some(&body)).unwrap(), "HTTP abort prepared by id (int64 as a string)");
    assert_eq!(txn_status(&c, 3, t6)["status"], "TXN_STATUS_ABORTED");
    let r = c.api(1, "abort_txn", "", Some(&json!({"cloud_unique_id": CUID, "txn_id": 424242}).to_string())).unwrap();
    common::expect(&r, 500, "INTERNAL_ERROR", "transaction [424242] not found", "unknown txn id");

    // Duplicate request ids; label → id; the watermark and conflicts.
    let rid = json!({"request_id": {"hi": 1, "lo": 2}});
    let first = begin(&c, 3, "l4", rid.clone());
    assert_ok(&first, "begin l4");
    let t4 = first["txn_id"].as_i64().expect("t4");
    let dup = begin(&c, 1, "l4", rid);
    assert_eq!((status(&dup).0.as_str(), &dup["dup_txn_id"]), ("TXN_DUPLICATED_REQ", &json!(t4)), "{dup}");
    assert_eq!(rpc(&c, 2, "get_txn_id", json!({"db_id": 10, "label": "l4"}))["txn_id"], t4);
    let prepared = rpc(&c, 2, "get_txn_id", json!({"db_id": 10, "label": "l2", "txn_status": ["TXN_STATUS_ABORTED"]}));
    assert_eq!(prepared["txn_id"], t2, "{prepared}");
    let w = rpc(&c, 1, "get_current_max_txn_id", json!({}))["current_max_txn_id"].as_i64().expect("watermark");
    assert!(w > t4, "{w} > {t4}");
    let conflict = rpc(&c, 2, "check_txn_conflict", json!({"db_id": 10, "end_txn_id": w, "table_ids": [20]}));
    assert_eq!(
        (&conflict["finished"], &conflict["conflict_txns"][0]["txn_id"]),
        (&json!(false), &json!(t4)),
        "{conflict}"
    );
    let other_table = rpc(&c, 2, "check_txn_conflict", json!({"db_id": 10, "end_txn_id": w, "table_ids": [99]}));
    assert_eq!(other_table["finished"], true, "{other_table}");
    let before = rpc(&c, 2, "check_txn_conflict", json!({"db_id": 10, "end_txn_id": t4, "table_ids": [20]}));
    assert_eq!(before["finished"], true, "txns below t4: {before}");

    // --- compaction: start, busy, abort over HTTP, then a job leased and committed.
    let start = |id: u64, job: Value| {
        rpc(&c, id, "start_tablet_job", json!({"job": {"idx": {"tablet_id": 23}, "compaction": [job]}}))
    };
    assert_ok(&start(1, compaction("j1", json!({}))), "start j1");
    assert_ok(&start(2, compaction("j1", json!({}))), "start j1 again (retry)");
    let busy = start(3, compaction("j2", json!({})));
    assert_eq!(status(&busy).0, "JOB_TABLET_BUSY", "{busy}");
    assert!(status(&busy).1.starts_with("compaction has already started, tablet_id=23 job={"), "{busy}");
    let abort =
        json!({"cloud_unique_id": CUID, "job": {"idx": {"tablet_id": 23}, "compaction": [{"id": "j1"}]}}).to_string();
    common::ok(&c.api(2, "abort_tablet_job", "", Some(&abort)).unwrap(), "HTTP abort_tablet_job");
    let r = c.api(3, "abort_tablet_job", "", Some(&abort)).unwrap();
    common::expect(&r, 400, "INVALID_ARGUMENT", "there is no running compaction, tablet_id=23", "abort twice");
    let numeric =
        json!({"cloud_unique_id": CUID, "job": {"idx": {"tablet_id": 23}, "compaction": [{"id": 113974}]}}).to_string();
    let r = c.api(3, "abort_tablet_job", "", Some(&numeric)).unwrap();
    assert_eq!(r.status, 400, "the public doc's numeric id is a parse error: {r:?}");
    let none =
        json!({"cloud_unique_id": CUID, "job": {"idx": {"tablet_id": 24}, "compaction": [{"id": "x"}]}}).to_string();
    let r = c.api(1, "abort_tablet_job", "", Some(&none)).unwrap();
    assert!(r.status == 400 && r.body.contains("job not found, instance_id=inst1 tablet_id=24"), "{r:?}");

    assert_ok(&start(1, compaction("j3", json!({"input_versions": [0, 2]}))), "start j3");
    let lease = json!({"action": "LEASE", "job": {"idx": {"tablet_id": 23}, "compaction": [{"id": "j3", "lease": now_s() + 120}]}});
    assert_ok(&rpc(&c, 2, "finish_tablet_job", lease), "lease");
    let output = json!({"rowset_id": 0, "rowset_id_v2": "compacted", "tablet_id": 23, "partition_id": 22,
                        "txn_id": 777, "start_version": 0, "end_version": 2, "num_rows": 100,
                        "total_disk_size": 4000, "num_segments": 1, "schema_version": 0});
    assert_ok(&rpc(&c, 3, "commit_rowset", json!({ "rowset_meta": output })), "compaction output rowset");
    let commit = json!({"action": "COMMIT", "job": {"idx": {"tablet_id": 23}, "compaction": [{
        "id": "j3", "type": "CUMULATIVE", "input_versions": [0, 2], "output_versions": [2],
        "output_rowset_ids": ["compacted"], "txn_id": [777], "output_cumulative_point": 3,
        "num_input_rowsets": 2, "num_output_rowsets": 1, "num_input_segments": 1, "num_output_segments": 1,
        "num_input_rows": 100, "num_output_rows": 100, "size_input_rowsets": 4096, "size_output_rowsets": 4000}]}});
    let done = rpc(&c, 1, "finish_tablet_job", commit);
    assert_ok(&done, "commit compaction");
    assert_eq!(done["stats"]["cumulative_compaction_cnt"], 1, "{done}");
    for id in 1..=3 {
        let text = stats_text(&c, id, 23).body;
        for line in ["data_size: 4000", "num_rowsets: 1", "cumulative_compaction_cnt: 1", "cumulative_point: 3"] {
            assert!(text.contains(line), "node {id}: {line} in {text}");
        }
    }

    // --- transport: unknown method, bad bodies, the token.
    let r = rpc_raw(&c, 1, "nope", "{}");
    assert_eq!((r.status, r.body.as_str()), (404, "[E1002]Fail to find method on `/MetaService/nope'"));
    let r = rpc_raw(&c, 2, "begin_txn", "{\"txn_info\":{\"table_ids\":\"x\"}}");
    assert!(
        r.status == 400 && r.body.starts_with("[E1003]Fail to parse http json body as doris.cloud.BeginTxnRequest"),
        "{r:?}"
    );
    let r = rpc_raw(&c, 2, "begin_txn", "{nope");
    assert_eq!(r.status, 400, "{r:?}");
    // A mistyped optional field is dropped, as brpc's json2pb does.
    let r = rpc(&c, 3, "get_txn", json!({"txn_id": t1, "label": 5}));
    assert_eq!(r["txn_info"]["txn_id"], t1, "{r}");
    let r = c.request(1, "POST", "/doris.cloud.MetaService/get_txn?token=wrong", Some("{}")).unwrap();
    assert_ne!(r.status, 200, "a wrong token is refused: {r:?}");
    let full = c
        .request(
            1,
            "POST",
            &format!("/doris.cloud.MetaService/get_txn?token={TOKEN}"),
            Some(&json!({"cloud_unique_id": CUID, "txn_id": t1}).to_string()),
        )
        .unwrap();
    assert!(full.status == 200 && full.body.contains("TXN_STATUS_VISIBLE"), "full service name: {full:?}");
    let nobody = rpc_raw(&c, 1, "get_txn", "");
    assert!(nobody.status == 200 && nobody.body.contains("INVALID_ARGUMENT"), "{nobody:?}");
}

#[test]
fn txn_ids_stay_ordered_across_a_leader_kill_and_the_watermark_separates_them() {
    let mut c = Cluster::start("t85-txn-ids");
    c.create_ok(1, "inst1");
    // (sent, answered, id) of every acknowledged begin, and (sent, answered, W) of every watermark.
    let begins: Mutex<Vec<(Instant, Instant, i64)>> = Mutex::new(Vec::new());
    let marks: Mutex<Vec<(Instant, Instant, i64)>> = Mutex::new(Vec::new());
    let call = |base: &str, method: &str, body: Value| -> Option<Value> {
        let http = common::http_client(Duration::from_secs(2));
        let url = format!("{base}/MetaService/{method}?token={TOKEN}");
        let r = common::send(&http, "POST", &url, Some(body.to_string().into_bytes())).ok()?;
        let v: Value = serde_json::from_str(&r.body).ok()?;
        (r.status == 200 && v["status"]["code"] == "OK").then_some(v)
    };
    let round = |c: &Cluster, tag: &str, members: &[u64]| {
        std::thread::scope(|s| {
            for &id in members {
                let base = c.base(id);
                let (begins, marks, call) = (&begins, &marks, &call);
                s.spawn(move || {
                    for i in 0..15 {
                        let sent = Instant::now();
                        let body = json!({"cloud_unique_id": CUID, "txn_info": {"db_id": 10,
                            "label": format!("{tag}-{id}-{i}"), "table_ids": [20], "timeout_ms": 60000}});
                        if let Some(v) = call(&base, "begin_txn", body) {
                            begins.lock().unwrap().push((sent, Instant::now(), v["txn_id"].as_i64().unwrap()));
                        }
                        let sent = Instant::now();
                        if let Some(v) = call(&base, "get_current_max_txn_id", json!({"cloud_unique_id": CUID})) {
                            marks.lock().unwrap().push((
                                sent,
                                Instant::now(),
                                v["current_max_txn_id"].as_i64().unwrap(),
                            ));
                        }
                    }
                });
            }
        });
    };
    round(&c, "before", &[1, 2, 3]);
    let before_max = begins.lock().unwrap().iter().map(|b| b.2).max().expect("begins before the kill");
    let leader = c.leader();
    c.kill(leader);
    let survivors: Vec<u64> = (1..=3).filter(|&id| id != leader).collect();
    c.leader();
    round(&c, "after", &survivors);
    let begins = begins.into_inner().unwrap();
    let marks = marks.into_inner().unwrap();
    let after: Vec<i64> = begins.iter().map(|b| b.2).filter(|&id| id > before_max).collect();
    assert!(after.len() >= 20, "begins after the kill: {}", after.len());
    let ids: BTreeSet<i64> = begins.iter().map(|b| b.2).collect();
    assert_eq!(ids.len(), begins.len(), "txn ids are unique");
    // Ids follow real time: a begin answered before another was sent has the smaller id.
    for a in &begins {
        for b in &begins {
            if a.1 < b.0 {
                assert!(a.2 < b.2, "begin {} answered before begin {} was sent", a.2, b.2);
            }
        }
    }
    // The watermark: begins answered before the call are below it, begins sent after it above.
    for m in &marks {
        for b in &begins {
            if b.1 < m.0 {
                assert!(b.2 < m.2, "txn {} begun before watermark {}", b.2, m.2);
            }
            if m.1 < b.0 {
                assert!(b.2 > m.2, "txn {} begun after watermark {}", b.2, m.2);
            }
        }
    }
    println!("{} begins, {} watermarks, ids up to {:?}", begins.len(), marks.len(), ids.last());
}
