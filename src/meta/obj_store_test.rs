//! Unit tests of `obj_store`: every row of endpoints §6–§9 against a scratch store.

use metaraft_raft::ScratchKv;

use super::super::pb::Provider;
use super::super::store::Failure;
use super::*;

const CUID: &str = "1:i:x";

fn secrets() -> Secrets {
    Secrets::dev()
}

fn kv_with(instance: &InstanceInfoPb) -> (tempfile::TempDir, ScratchKv) {
    let dir = tempfile::tempdir().unwrap();
    let kv = ScratchKv::open(&dir.path().join("x.redb")).unwrap();
    kv.write(|w| {
        Failure::split(save(w, &keys::instance_key("i"), instance)).unwrap().unwrap();
        Ok(())
    })
    .unwrap();
    (dir, kv)
}

fn sealed(sk: &str) -> Option<String> {
    Some(secrets().seal(sk).unwrap())
}

fn stored_obj(id: &str, ak: &str, sk: &str) -> ObjectStoreInfoPb {
    ObjectStoreInfoPb {
        id: Some(id.into()),
        ak: Some(ak.into()),
        sk: sealed(sk),
        bucket: Some("b".into()),
        prefix: Some("p".into()),
        endpoint: Some("e".into()),
        region: Some("r".into()),
        external_endpoint: Some(String::new()),
        provider: Some(Provider::S3),
        ..Default::default()
    }
}

fn legacy_instance() -> InstanceInfoPb {
    InstanceInfoPb {
        instance_id: Some("i".into()),
        status: Some(InstanceStatus::Normal),
        sse_enabled: Some(true),
        enable_storage_vault: Some(false),
        obj_info: vec![stored_obj("1", "ak", "sk")],
        ..Default::default()
    }
}

fn new_obj(ak: &str, sk: &str) -> ObjectStoreInfoPb {
    ObjectStoreInfoPb { id: None, sk: Some(sk.into()), ak: Some(ak.into()), ..stored_obj("", ak, sk) }
}

fn alter(kv: &ScratchKv, op: AlterObjOp, obj: ObjectStoreInfoPb) -> MetaResult<InstanceInfoPb> {
    let req = AlterObjStoreInfoRequest { cloud_unique_id: Some(CUID.into()), obj: Some(obj), ..Default::default() };
    let cmd = prepare_alter(req, op, 42, &secrets())?;
    kv.write(|w| Failure::split(apply_alter(w, &cmd))).unwrap()?;
    Ok(read_instance(kv))
}

fn read_instance(kv: &ScratchKv) -> InstanceInfoPb {
    let r = kv.read().unwrap();
    Failure::split(load::<InstanceInfoPb>(&r, &keys::instance_key("i"))).unwrap().unwrap().unwrap()
}

#[test]
fn stateless_rows_in_master_order() {
    let p = |req: AlterObjStoreInfoRequest| prepare_alter(req, AlterObjOp::AddObjInfo, 1, &secrets()).unwrap_err().msg;
    assert_eq!(p(AlterObjStoreInfoRequest::default()), "s3 obj info err ");
    let big = ObjectStoreInfoPb { bucket: Some("x".repeat(1100)), ..Default::default() };
    let r = AlterObjStoreInfoRequest { obj: Some(big), ..Default::default() };
    assert_eq!(p(r), "s3 obj info greater than 1k ");
    let r = AlterObjStoreInfoRequest {
        obj: Some(ObjectStoreInfoPb { ak: Some("a".into()), ..Default::default() }),
        ..Default::default()
    };
    assert_eq!(p(r), "s3 obj info err ");
    let arn = ObjectStoreInfoPb { ak: Some("a".into()), role_arn: Some("r".into()), ..Default::default() };
    let r = AlterObjStoreInfoRequest { obj: Some(arn), ..Default::default() };
    assert_eq!(p(r), "invaild argument, both set ak/sk and role_arn is not allowed");
    let r = AlterObjStoreInfoRequest { obj: Some(new_obj("a", "s")), ..Default::default() };
    assert_eq!(p(r), "cloud unique id not set");
    let r = AlterObjStoreInfoRequest {
        cloud_unique_id: Some(CUID.into()),
        obj: Some(new_obj("a", "plain")),
        ..Default::default()
    };
    let cmd = prepare_alter(r, AlterObjOp::AddObjInfo, 1, &secrets()).unwrap();
    let sk = cmd.request.obj.as_ref().unwrap().sk.clone().unwrap();
    assert!(sk.starts_with("mr1:") && !sk.contains("plain"));
    assert_eq!(cmd.request.op, Some(AlterObjOp::AddObjInfo));
}

#[test]
fn stoi_is_cpp_like() {
    assert_eq!(stoi("1"), Some(1));
    assert_eq!(stoi(" 01"), Some(1));
    assert_eq!(stoi("2abc"), Some(2));
    assert_eq!(stoi("-3"), Some(-3));
    assert_eq!(stoi("abc"), None);
    assert_eq!(stoi(""), None);
    assert_eq!(stoi("99999999999"), None);
}

#[test]
fn add_obj_info_rows_and_ids() {
    let (_d, kv) = kv_with(&legacy_instance());
    let got =
        alter(&kv, AlterObjOp::AddObjInfo, ObjectStoreInfoPb { prefix: Some("/q/".into()), ..new_obj("ak2", "sk2") })
            .unwrap();
    let o = &got.obj_info[1];
    assert_eq!(o.id.as_deref(), Some("2"));
    assert_eq!(o.prefix.as_deref(), Some("q"));
    assert_eq!((o.ctime, o.mtime, o.sse_enabled, o.use_path_style), (Some(42), Some(42), Some(true), Some(false)));
    assert_eq!(secrets().unseal(o.sk.as_deref().unwrap()).unwrap(), "sk2");
    // Same conf as entry 1 (prefix "p", sk "sk").
    let e = alter(&kv, AlterObjOp::AddObjInfo, new_obj("ak", "sk")).unwrap_err();
    assert_eq!(e.msg, "original obj infos has a same conf, please check it");
    let e = alter(&kv, AlterObjOp::AddObjInfo, ObjectStoreInfoPb { provider: None, ..new_obj("a", "s") }).unwrap_err();
    assert_eq!(e.msg, "s3 conf lease provider info");
    let e = alter(&kv, AlterObjOp::AddObjInfo, ObjectStoreInfoPb { prefix: None, ..new_obj("a", "s") }).unwrap_err();
    assert_eq!(e.msg, "s3 conf info err, please check it");
    for n in 3..=10 {
        let got = alter(&kv, AlterObjOp::AddObjInfo, new_obj(&format!("ak{n}"), "s")).unwrap();
        assert_eq!(got.obj_info.last().unwrap().id, Some(n.to_string()));
    }
    let e = alter(&kv, AlterObjOp::AddObjInfo, new_obj("ak11", "s")).unwrap_err();
    assert_eq!(e.code, ServiceCode::UndefinedErr);
    assert_eq!(e.msg, "this instance history has greater than 10 objs, please new another instance");
}

#[test]
fn state_rows_before_op_rows() {
    let (_d, kv) = kv_with(&InstanceInfoPb { enable_storage_vault: Some(true), ..legacy_instance() });
    let e = alter(&kv, AlterObjOp::AddObjInfo, new_obj("a", "s")).unwrap_err();
    assert_eq!(e.msg, "Storage vault doesn't support add obj info");
    let (_d, kv) = kv_with(&InstanceInfoPb { status: Some(InstanceStatus::Deleted), ..legacy_instance() });
    let e = alter(&kv, AlterObjOp::LegacyUpdateAkSk, new_obj("a", "s")).unwrap_err();
    assert_eq!(
        (e.code, e.msg.as_str()),
        (ServiceCode::ClusterNotFound, "instance status has been set delete, plz check it")
    );
    let req = AlterObjStoreInfoRequest {
        cloud_unique_id: Some("nope".into()),
        obj: Some(new_obj("a", "s")),
        ..Default::default()
    };
    let cmd = prepare_alter(req, AlterObjOp::AddObjInfo, 1, &secrets()).unwrap();
    let e = kv.write(|w| Failure::split(apply_alter(w, &cmd))).unwrap().unwrap_err();
    assert_eq!(e.msg, "empty instance_id");
}

#[test]
fn legacy_update() {
    let (_d, kv) = kv_with(&legacy_instance());
    for id in [None, Some("0"), Some("2"), Some("abc")] {
        let e =
            alter(&kv, AlterObjOp::LegacyUpdateAkSk, ObjectStoreInfoPb { id: id.map(Into::into), ..new_obj("a", "s") })
                .unwrap_err();
        assert_eq!(e.msg, "id invalid, please check it", "{id:?}");
    }
    // Unchanged: OK, nothing written (mtime stays unset).
    let got =
        alter(&kv, AlterObjOp::LegacyUpdateAkSk, ObjectStoreInfoPb { id: Some("1".into()), ..new_obj("ak", "sk") })
            .unwrap();
    assert_eq!(got.obj_info[0].mtime, None);
    let got =
        alter(&kv, AlterObjOp::LegacyUpdateAkSk, ObjectStoreInfoPb { id: Some(" 01".into()), ..new_obj("ak9", "sk9") })
            .unwrap();
    let o = &got.obj_info[0];
    assert_eq!((o.ak.as_deref(), o.mtime), (Some("ak9"), Some(42)));
    assert_eq!(secrets().unseal(o.sk.as_deref().unwrap()).unwrap(), "sk9");
}

fn update(kv: &ScratchKv, req: UpdateAkSkRequest) -> MetaResult<InstanceInfoPb> {
    let cmd = prepare_update_ak_sk(req, 50, &secrets())?;
    kv.write(|w| Failure::split(apply_update_ak_sk(w, &cmd))).unwrap()?;
    Ok(read_instance(kv))
}

fn user(id: &str, ak: &str, sk: &str) -> RamUserPb {
    RamUserPb { user_id: Some(id.into()), ak: Some(ak.into()), sk: Some(sk.into()), ..Default::default() }
}

#[test]
fn update_ak_sk_rows() {
    let ram = RamUserPb { sk: sealed("rsk"), ..user("ru", "rak", "") };
    let (_d, kv) = kv_with(&InstanceInfoPb { ram_user: Some(ram), ..legacy_instance() });
    let req = |ram: Option<RamUserPb>, bucket: Vec<RamUserPb>| UpdateAkSkRequest {
        instance_id: Some("i".into()),
        ram_user: ram,
        internal_bucket_user: bucket,
    };
    assert_eq!(update(&kv, UpdateAkSkRequest::default()).unwrap_err().msg, "instance id not set");
    assert_eq!(update(&kv, req(None, vec![])).unwrap_err().msg, "nothing to update");
    let missing = UpdateAkSkRequest { instance_id: Some("zz".into()), ..req(Some(user("ru", "a", "b")), vec![]) };
    let e = update(&kv, missing).unwrap_err();
    assert_eq!(
        (e.code, e.msg.as_str()),
        (ServiceCode::KvTxnGetErr, "failed to get instance, instance_id=zz err=KeyNotFound")
    );
    assert_eq!(update(&kv, req(Some(user("ru", "", "b")), vec![])).unwrap_err().msg, "ram user info err ");
    assert_eq!(update(&kv, req(Some(user("other", "a", "b")), vec![])).unwrap_err().msg, "ram user_id err");
    assert_eq!(
        update(&kv, req(Some(user("ru", "rak", "rsk")), vec![])).unwrap_err().msg,
        "ak sk eq original, please check it"
    );
    let got = update(&kv, req(Some(user("ru", "rak", "rsk2")), vec![])).unwrap();
    assert_eq!(secrets().unseal(got.ram_user.unwrap().sk.as_deref().unwrap()).unwrap(), "rsk2");
    // Bucket users.
    let partial = RamUserPb { sk: None, ..user("b1", "a", "") };
    assert_eq!(update(&kv, req(None, vec![partial])).unwrap_err().msg, "s3 bucket info err ");
    let two = vec![user("b1", "a", "s"), user("b2", "a", "s")];
    assert_eq!(
        update(&kv, req(None, two)).unwrap_err().msg,
        "fail to update old instance's obj_info, s3 obj info err "
    );
    assert_eq!(
        update(&kv, req(None, vec![user("b1", "ak", "sk")])).unwrap_err().msg,
        "ak sk eq original, please check it"
    );
    let got = update(&kv, req(None, vec![user("b1", "ak2", "sk2")])).unwrap();
    let o = &got.obj_info[0];
    assert_eq!((o.user_id.as_deref(), o.ak.as_deref(), o.mtime), (Some("b1"), Some("ak2"), Some(50)));
    assert_eq!(update(&kv, req(None, vec![user("b9", "x", "y")])).unwrap_err().msg, "fail to find the alter obj info");
    let (_d2, kv2) = kv_with(&legacy_instance());
    assert_eq!(
        update(&kv2, req(Some(user("ru", "a", "b")), vec![])).unwrap_err().msg,
        "instance doesn't have ram user info"
    );
}

#[test]
fn get_unseals_and_lists_vaults() {
    let inst = InstanceInfoPb { resource_ids: vec!["2".into()], ..legacy_instance() };
    let (_d, kv) = kv_with(&inst);
    let vault = StorageVaultPb {
        id: Some("2".into()),
        name: Some("v".into()),
        obj_info: Some(stored_obj("2", "vak", "vsk")),
        ..Default::default()
    };
    kv.write(|w| {
        Failure::split(save(w, &keys::storage_vault_key("i", "2"), &vault)).unwrap().unwrap();
        Ok(())
    })
    .unwrap();
    let r = kv.read().unwrap();
    let got = Failure::split(get(&r, CUID, &secrets())).unwrap().unwrap();
    assert_eq!(got.obj_info[0].sk.as_deref(), Some("sk"));
    assert_eq!(got.storage_vault[0].obj_info.as_ref().unwrap().sk.as_deref(), Some("vsk"));
    assert_eq!(got.enable_storage_vault, Some(false));
    let e = Failure::split(get(&r, "junk", &secrets())).unwrap().unwrap_err();
    assert_eq!(e.msg, "empty instance_id");
    let e = Failure::split(get(&r, "", &secrets())).unwrap().unwrap_err();
    assert_eq!(e.msg, "cloud unique id not set");
}
