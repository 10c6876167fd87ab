//! Unit tests of [`super`]: parameter rows, status edges, apply on a scratch store.

use metaraft_raft::ScratchKv;

use super::super::command::CreateInstance;
use super::super::instance;
use super::super::pb::CreateInstanceRequest;
use super::super::pb::NodeInfoPb;
use super::super::store::Failure;
use super::*;

fn node(cuid: &str, ip: &str, hb: i32) -> NodeInfoPb {
    NodeInfoPb {
        cloud_unique_id: Some(cuid.into()),
        ip: Some(ip.into()),
        heartbeat_port: Some(hb),
        ..Default::default()
    }
}

fn fe(ip: &str, t: NodeType) -> NodeInfoPb {
    NodeInfoPb { ip: Some(ip.into()), edit_log_port: Some(9010), node_type: Some(t), ..Default::default() }
}

fn cluster(id: &str, name: &str, t: ClusterType, nodes: Vec<NodeInfoPb>) -> ClusterPb {
    ClusterPb {
        cluster_id: Some(id.into()),
        cluster_name: Some(name.into()),
        r#type: Some(t),
        nodes,
        ..Default::default()
    }
}

fn request(inst: &str, c: ClusterPb) -> AlterClusterRequest {
    AlterClusterRequest { instance_id: Some(inst.into()), cluster: Some(c), ..Default::default() }
}

fn kv_with(instances: &[&str]) -> (tempfile::TempDir, ScratchKv) {
    let dir = tempfile::tempdir().unwrap();
    let kv = ScratchKv::open(&dir.path().join("x.redb")).unwrap();
    for id in instances {
        let cmd = CreateInstance {
            request: CreateInstanceRequest { instance_id: Some((*id).into()), ..Default::default() },
            now: 1,
            hdfs_prefix_suffix: None,
        };
        kv.write(|w| Failure::split(instance::create(w, &cmd))).unwrap().unwrap();
    }
    (dir, kv)
}

fn apply(kv: &ScratchKv, op: ClusterOp, r: AlterClusterRequest) -> MetaResult<Reply> {
    let cmd = AlterCluster { op, request: r, now: 7 };
    kv.write(|w| Failure::split(alter(w, &cmd))).unwrap()
}

fn msg(r: MetaResult<()>) -> String {
    r.unwrap_err().msg
}

#[test]
fn params_rows_in_order() {
    let op = ClusterOp::AddCluster;
    assert_eq!(msg(check_params(op, &ClusterPb::default())), "cluster must have type arg");
    let mut c = cluster("c", "", ClusterType::Compute, vec![]);
    assert_eq!(msg(check_params(op, &c)), "not have cluster name");
    check_params(ClusterOp::AddNode, &c).unwrap_err(); // "" does not match the pattern
    c.cluster_name = None;
    check_params(ClusterOp::AddNode, &c).unwrap();
    for bad in ["1a", "a-b", "_a", "中"] {
        c.cluster_name = Some(bad.into());
        assert_eq!(msg(check_params(op, &c)), "cluster name not regex with ^[a-zA-Z][a-zA-Z0-9_]*$, please check it");
    }
    for good in ["a", "A_1", "compute_cluster"] {
        c.cluster_name = Some(good.into());
        check_params(op, &c).unwrap();
    }
    c.nodes = vec![node("u", "1.1.1.1", 0)];
    assert_eq!(
        msg(check_params(op, &c)),
        r#"check cluster params failed, node : {"cloud_unique_id":"u","ip":"1.1.1.1","heartbeat_port":0}"#
    );
    let sql = |nodes| cluster("s", "s", ClusterType::Sql, nodes);
    check_params(op, &sql(vec![fe("a", NodeType::FeMaster), fe("b", NodeType::FeObserver)])).unwrap();
    check_params(op, &sql(vec![fe("a", NodeType::FeFollower), fe("b", NodeType::FeFollower)])).unwrap();
    assert_eq!(
        msg(check_params(op, &sql(vec![fe("a", NodeType::FeMaster), fe("b", NodeType::FeMaster)]))),
        "cluster is SQL type, must have only one master node, now master count: 2"
    );
    // Master count is add_cluster only.
    check_params(ClusterOp::AddNode, &sql(vec![fe("a", NodeType::FeMaster), fe("b", NodeType::FeMaster)])).unwrap();
    let unknown = fe("a", NodeType::Unknown);
    assert!(msg(check_params(op, &sql(vec![unknown]))).starts_with("check cluster params failed, node : "));
    check_params(op, &cluster("v", "v", ClusterType::Virtual, vec![NodeInfoPb::default()])).unwrap();
}

#[test]
fn every_transition_pair() {
    use ClusterStatus::*;
    let all = [Unknown, Normal, Suspended, ToResume, ManualShutdown];
    let mut allowed = 0;
    for from in all {
        for to in all {
            let mut c = cluster("c", "n", ClusterType::Compute, vec![]);
            c.cluster_status = Some(from);
            let r = set_status(&mut c, to);
            if from == to {
                assert!(msg(r).contains("status eq original status"));
            } else if transition_allowed(from, to) {
                r.unwrap();
                assert_eq!(c.cluster_status, Some(to));
                allowed += 1;
            } else {
                assert_eq!(
                    msg(r),
                    format!(
                        "failed to set cluster status, original cluster is {} and want set {}",
                        status_name(from),
                        status_name(to)
                    )
                );
            }
        }
    }
    assert_eq!(allowed, 7);
    let mut sql = cluster("s", "s", ClusterType::Sql, vec![]);
    assert_eq!(msg(set_status(&mut sql, Normal)), "just support set COMPUTE cluster status");
}

#[test]
fn add_then_conflicts_then_drop() {
    let (_d, kv) = kv_with(&["i1", "i2"]);
    let c1 = cluster("c1", "n1", ClusterType::Compute, vec![node("plain", "1.1.1.1", 9050)]);
    apply(&kv, ClusterOp::AddCluster, request("i1", c1.clone())).unwrap();
    let e = apply(&kv, ClusterOp::AddCluster, request("i1", c1.clone())).unwrap_err();
    assert_eq!(
        (e.code, e.msg.as_str()),
        (ServiceCode::AlreadyExisted, "try to add a existing cluster id, existing_cluster_id=c1")
    );
    let e = apply(&kv, ClusterOp::AddCluster, request("i2", c1)).unwrap_err();
    assert_eq!(
        e.msg,
        "cloud_unique_id is already occupied by an instance, instance_id=i1 cluster_name=n1 cluster_id=c1 \
         cloud_unique_id=plain"
    );
    let r = kv.read().unwrap();
    assert_eq!(Failure::split(resolve::instance_id_of(&r, "plain")).unwrap().unwrap().as_deref(), Some("i1"));
    let stored = Failure::split(load::<InstanceInfoPb>(&r, &keys::instance_key("i1"))).unwrap().unwrap().unwrap();
    let c = &stored.clusters[0];
    assert_eq!((c.ctime, c.mtime, c.cluster_status), (Some(7), Some(7), Some(ClusterStatus::Normal)));
    assert_eq!((c.nodes[0].ctime, c.nodes[0].mtime), (Some(7), Some(7)));
    drop(r);
    let by_cuid = AlterClusterRequest {
        cloud_unique_id: Some("plain".into()),
        cluster: Some(ClusterPb { cluster_id: Some("c1".into()), ..Default::default() }),
        ..Default::default()
    };
    // Stateless rows are not run before proposing when a cloud_unique_id must be resolved.
    prepare(ClusterOp::DropCluster, by_cuid.clone(), 7).unwrap();
    apply(&kv, ClusterOp::DropCluster, by_cuid.clone()).unwrap();
    let e = apply(&kv, ClusterOp::DropCluster, by_cuid).unwrap_err();
    assert_eq!(e.msg, "empty instance_id");
}

#[test]
fn prepare_refuses_stateless_rows_early() {
    let e = prepare(ClusterOp::AddCluster, AlterClusterRequest::default(), 1).unwrap_err();
    assert_eq!(e.msg, "invalid request instance_id or cluster not given");
    let e = prepare(ClusterOp::RenameCluster, request("i", ClusterPb::default()), 1).unwrap_err();
    assert_eq!(e.msg, "missing cluster_id=");
    let e = prepare(ClusterOp::AddNode, request("i", cluster("c", "n", ClusterType::Compute, vec![])), 1).unwrap_err();
    assert_eq!(e.msg, "to_add and to_del both empty or both not empty");
}
