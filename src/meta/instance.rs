//! Instances: `create_instance` and `get_instance` (endpoints §1, §3).
//!
//! Three steps per write, on two sides of the log:
//! * [`prepare_create`] (proposer): stateless checks in Doris's order, sks sealed, time and
//!   random values fixed → a [`CreateInstance`] command;
//! * [`create`] (apply, every replica): state-dependent checks, then the records. All checks run
//!   before the first write, so a refused command leaves no trace in the batch's transaction.
//! * [`get`] (read side): resolution, lookup, secrets unsealed for the reply.

use metaraft_raft::KvRead;
use metaraft_raft::KvWrite;

use super::command::CreateInstance;
use super::command::Reply;
use super::error::MetaError;
use super::error::MetaResult;
use super::pb::CreateInstanceRequest;
use super::pb::InstanceInfoPb;
use super::pb::InstanceStatus;
use super::pb::MultiVersionStatus;
use super::pb::ObjectStoreInfoPb;
use super::pb::RamUserPb;
use super::pb::StorageVaultPb;
use super::resolve;
use super::secret;
use super::secret::Secrets;
use super::store::load;
use super::store::save;
use super::store::Outcome;
use super::validate;
use crate::keys;

/// Stateless part of `create_instance`: validation rows 1–4c of endpoints §1 in order (with the
/// id pattern right after row 3), then secrets sealed. `now` is seconds since the epoch;
/// `guid` makes the HDFS prefix suffix and is called only when the request has an HDFS vault.
pub fn prepare_create(
    mut request: CreateInstanceRequest,
    now: i64,
    guid: impl FnOnce() -> String,
    secrets: &Secrets,
) -> MetaResult<CreateInstance> {
    if let Some(ram) = &request.ram_user {
        validate::ram_user(ram)?;
    }
    if let Some(obj) = &request.obj_info {
        validate::create_obj_info(obj)?;
    }
    let id = validate::instance_id_set(request.instance_id.as_ref())?;
    validate::instance_id_pattern(id)?;
    let mut hdfs_prefix_suffix = None;
    if let Some(vault) = &request.vault {
        match &vault.hdfs_info {
            Some(hdfs) => {
                validate::hdfs_info(hdfs)?;
                hdfs_prefix_suffix = Some(format!("_{}", guid()));
            }
            None => validate::create_obj_info(vault.obj_info.as_ref().unwrap_or(&ObjectStoreInfoPb::default()))?,
        }
    }
    if let Some(obj) = request.obj_info.as_mut() {
        secrets.seal_opt(&mut obj.sk)?;
    }
    if let Some(obj) = request.vault.as_mut().and_then(|v| v.obj_info.as_mut()) {
        secrets.seal_opt(&mut obj.sk)?;
    }
    if let Some(ram) = request.ram_user.as_mut() {
        secrets.seal_opt(&mut ram.sk)?;
    }
    Ok(CreateInstance { request, now, hdfs_prefix_suffix })
}

/// Applies `create_instance`: 409 if the id is taken, else writes the instance and its vault.
pub fn create(kv: &mut KvWrite<'_, '_>, cmd: &CreateInstance) -> Outcome<Reply> {
    let req = &cmd.request;
    let id = req.instance_id.clone().unwrap_or_default();
    let key = keys::instance_key(&id);
    if kv.get(&key)?.is_some() {
        return Err(MetaError::already_existed(format!("instance already existed, instance_id={id}, err=Ok")).into());
    }
    let sse_enabled = req.sse_enabled.unwrap_or(false);
    let mut instance = InstanceInfoPb {
        user_id: Some(req.user_id.clone().unwrap_or_default()),
        instance_id: Some(id.clone()),
        name: Some(req.name.clone().unwrap_or_default()),
        status: Some(InstanceStatus::Normal),
        sse_enabled: Some(sse_enabled),
        enable_storage_vault: Some(req.obj_info.is_none()),
        multi_version_status: Some(MultiVersionStatus::Enabled),
        ..Default::default()
    };
    // Vault ids are shared by legacy obj_infos and vaults: max existing + 1 (next_available_vault_id).
    let mut next_id = 1u32;
    if let Some(obj) = &req.obj_info {
        instance.obj_info.push(stored_obj_info(obj, next_id, cmd.now, sse_enabled));
        next_id += 1;
    }
    if let Some(ram) = &req.ram_user {
        instance.ram_user = Some(RamUserPb { encryption_info: Some(secret::encryption_info()), ..ram.clone() });
    }
    let mut vault_record = None;
    if let Some(vault) = &req.vault {
        let vault_id = next_id.to_string();
        let mut v = StorageVaultPb {
            id: Some(vault_id.clone()),
            name: Some(keys::BUILT_IN_STORAGE_VAULT_NAME.to_string()),
            ..vault.clone()
        };
        if let Some(hdfs) = v.hdfs_info.as_mut() {
            let prefix = validate::trim_prefix(hdfs.prefix.as_deref().unwrap_or_default());
            hdfs.prefix = Some(format!("{prefix}{}", cmd.hdfs_prefix_suffix.as_deref().unwrap_or_default()));
        } else if let Some(obj) = &vault.obj_info {
            // The built-in vault's object store always has SSE on (create_object_info_with_encrypt(.., true, ..)).
            v.obj_info = Some(stored_obj_info(obj, next_id, cmd.now, true));
        }
        instance.resource_ids.push(vault_id.clone());
        instance.storage_vault_names.push(keys::BUILT_IN_STORAGE_VAULT_NAME.to_string());
        vault_record = Some((keys::storage_vault_key(&id, &vault_id), v));
    }
    save(kv, &key, &instance)?;
    if let Some((vault_key, vault)) = vault_record {
        save(kv, &vault_key, &vault)?;
    }
    Ok(Reply::Done)
}

/// Doris's `create_object_info_with_encrypt`: the request's object store with its prefix
/// trimmed, its id, time stamps, SSE flag and `encryption_info` set (sk already sealed).
fn stored_obj_info(obj: &ObjectStoreInfoPb, id: u32, now: i64, sse_enabled: bool) -> ObjectStoreInfoPb {
    ObjectStoreInfoPb {
        id: Some(id.to_string()),
        ctime: Some(now),
        mtime: Some(now),
        prefix: Some(validate::trim_prefix(obj.prefix.as_deref().unwrap_or_default())),
        bucket: Some(obj.bucket.clone().unwrap_or_default()),
        endpoint: Some(obj.endpoint.clone().unwrap_or_default()),
        external_endpoint: Some(obj.external_endpoint.clone().unwrap_or_default()),
        region: Some(obj.region.clone().unwrap_or_default()),
        encryption_info: Some(secret::encryption_info()),
        sse_enabled: Some(sse_enabled),
        ..obj.clone()
    }
}

/// Stateless part of `get_instance`.
pub fn check_get(instance_id: &str, cloud_unique_id: &str) -> MetaResult<()> {
    if instance_id.is_empty() && cloud_unique_id.is_empty() {
        return Err(MetaError::invalid_argument("empty instance_id and cloud_unique_id"));
    }
    Ok(())
}

/// `get_instance`: the instance named by `instance_id` (wins) or `cloud_unique_id`, with
/// secrets unsealed and `iam_user` filled in as Doris does.
pub fn get(kv: &KvRead, instance_id: &str, cloud_unique_id: &str, secrets: &Secrets) -> Outcome<InstanceInfoPb> {
    check_get(instance_id, cloud_unique_id)?;
    let id = if instance_id.is_empty() {
        resolve::instance_id_of(kv, cloud_unique_id)?.ok_or_else(|| {
            MetaError::invalid_argument(format!("cannot find instance_id with cloud_unique_id={cloud_unique_id}"))
        })?
    } else {
        instance_id.to_string()
    };
    let mut instance = load::<InstanceInfoPb>(kv, &keys::instance_key(&id))?.ok_or_else(|| {
        MetaError::kv_get(format!(
            "failed to get instance, info=failed to get instance, instance_id={id} err=KeyNotFound"
        ))
    })?;
    for obj in &mut instance.obj_info {
        secrets.unseal_opt(&mut obj.sk)?;
    }
    if let Some(ram) = instance.ram_user.as_mut() {
        secrets.unseal_opt(&mut ram.sk)?;
    }
    let iam = match load::<RamUserPb>(kv, &keys::system_meta_service_key("arn_info"))? {
        Some(mut arn) => {
            secrets.unseal_opt(&mut arn.sk)?;
            arn
        }
        // Doris falls back to its `arn_id`/`arn_ak`/`arn_sk` config, empty by default.
        None => RamUserPb {
            user_id: Some(String::new()),
            ak: Some(String::new()),
            sk: Some(String::new()),
            external_id: Some(id.clone()),
            encryption_info: None,
        },
    };
    instance.iam_user = Some(iam);
    Ok(instance)
}

#[cfg(test)]
mod test {
    use metaraft_raft::ScratchKv;

    use super::super::error::ServiceCode;
    use super::super::pb::HdfsBuildConf;
    use super::super::pb::HdfsVaultInfo;
    use super::super::pb::Provider;
    use super::super::store::Failure;
    use super::*;

    fn kv() -> (tempfile::TempDir, ScratchKv) {
        let dir = tempfile::tempdir().unwrap();
        let kv = ScratchKv::open(&dir.path().join("x.redb")).unwrap();
        (dir, kv)
    }

    fn obj() -> ObjectStoreInfoPb {
        ObjectStoreInfoPb {
            ak: Some("ak".into()),
            sk: Some("sk".into()),
            bucket: Some("bucket".into()),
            prefix: Some("/aa/bb/".into()),
            endpoint: Some("ep".into()),
            external_endpoint: Some("xep".into()),
            region: Some("r".into()),
            provider: Some(Provider::Cos),
            ..Default::default()
        }
    }

    fn request(id: &str) -> CreateInstanceRequest {
        CreateInstanceRequest { instance_id: Some(id.into()), ..Default::default() }
    }

    fn apply(kv: &ScratchKv, cmd: &CreateInstance) -> MetaResult<Reply> {
        kv.write(|w| Failure::split(create(w, cmd))).unwrap()
    }

    fn read(kv: &ScratchKv, iid: &str, cuid: &str) -> MetaResult<InstanceInfoPb> {
        Failure::split(get(&kv.read().unwrap(), iid, cuid, &Secrets::dev())).unwrap()
    }

    fn prepare(req: CreateInstanceRequest) -> MetaResult<CreateInstance> {
        prepare_create(req, 1_700_000_000, || "guid".to_string(), &Secrets::dev())
    }

    #[test]
    fn validation_order_follows_master() {
        let bad_ram = Some(RamUserPb { user_id: Some("u".into()), ..Default::default() });
        let bad_obj = Some(ObjectStoreInfoPb::default());
        // Row 1 before row 2 before row 3.
        let r = CreateInstanceRequest { ram_user: bad_ram, obj_info: bad_obj.clone(), ..Default::default() };
        assert_eq!(prepare(r).unwrap_err().msg, "ram user info err, please check it");
        let r = CreateInstanceRequest { obj_info: bad_obj, ..Default::default() };
        assert_eq!(prepare(r).unwrap_err().msg, "s3 conf info err, please check it");
        assert_eq!(prepare(CreateInstanceRequest::default()).unwrap_err().msg, "instance id not set");
        let e = prepare(request("a/b")).unwrap_err();
        assert_eq!(
            (e.code, e.msg.as_str()),
            (
                ServiceCode::InvalidArgument,
                "invalid instance_id, instance_id=a/b does not match pattern [0-9a-zA-Z_-]+"
            )
        );
        // Vault rows come after the id.
        let vault = |v: StorageVaultPb| CreateInstanceRequest { vault: Some(v), ..request("i") };
        assert_eq!(prepare(vault(StorageVaultPb::default())).unwrap_err().msg, "s3 conf info err, please check it");
        let hdfs = |prefix: &str, fs: &str| StorageVaultPb {
            hdfs_info: Some(HdfsVaultInfo {
                build_conf: Some(HdfsBuildConf { fs_name: Some(fs.into()), ..Default::default() }),
                prefix: Some(prefix.into()),
            }),
            ..Default::default()
        };
        assert_eq!(prepare(vault(hdfs("hdfs://x", ""))).unwrap_err().msg, "invalid prefix: hdfs://x");
        assert_eq!(prepare(vault(hdfs("p", " "))).unwrap_err().msg, "invalid fs_name:  ");
        let ok = prepare(vault(hdfs("/p/", "hdfs://nn"))).unwrap();
        assert_eq!(ok.hdfs_prefix_suffix.as_deref(), Some("_guid"));
    }

    #[test]
    fn legacy_create_then_get() {
        let (_d, kv) = kv();
        let ram = RamUserPb {
            user_id: Some("ru".into()),
            ak: Some("rak".into()),
            sk: Some("rsk".into()),
            ..Default::default()
        };
        let req = CreateInstanceRequest {
            user_id: Some("u1".into()),
            name: Some("n1".into()),
            obj_info: Some(obj()),
            ram_user: Some(ram),
            ..request("i1")
        };
        apply(&kv, &prepare(req).unwrap()).unwrap();
        let got = read(&kv, "i1", "").unwrap();
        assert_eq!(got.user_id.as_deref(), Some("u1"));
        assert_eq!(got.status, Some(InstanceStatus::Normal));
        assert_eq!(got.sse_enabled, Some(false));
        assert_eq!(got.enable_storage_vault, Some(false));
        assert_eq!(got.ctime, None);
        let o = &got.obj_info[0];
        assert_eq!(o.id.as_deref(), Some("1"));
        assert_eq!(o.prefix.as_deref(), Some("aa/bb"));
        assert_eq!(o.sk.as_deref(), Some("sk"));
        assert_eq!((o.ctime, o.mtime), (Some(1_700_000_000), Some(1_700_000_000)));
        assert_eq!(o.encryption_info, Some(secret::encryption_info()));
        assert_eq!(got.ram_user.as_ref().unwrap().sk.as_deref(), Some("rsk"));
        let iam = got.iam_user.unwrap();
        assert_eq!(iam.external_id.as_deref(), Some("i1"));
        assert!(got.resource_ids.is_empty());
        // By degraded cloud_unique_id.
        assert_eq!(read(&kv, "", "1:i1:whatever").unwrap().instance_id.as_deref(), Some("i1"));
    }

    #[test]
    fn vault_obj_create_writes_the_built_in_vault() {
        let (_d, kv) = kv();
        let req = CreateInstanceRequest {
            vault: Some(StorageVaultPb { obj_info: Some(obj()), name: Some("ignored".into()), ..Default::default() }),
            ..request("i2")
        };
        apply(&kv, &prepare(req).unwrap()).unwrap();
        let got = read(&kv, "i2", "").unwrap();
        assert_eq!(got.enable_storage_vault, Some(true));
        assert_eq!(got.resource_ids, vec!["1".to_string()]);
        assert_eq!(got.storage_vault_names, vec!["built_in_storage_vault".to_string()]);
        assert!(got.obj_info.is_empty());
        let r = kv.read().unwrap();
        let vault = Failure::split(load::<StorageVaultPb>(&r, &keys::storage_vault_key("i2", "1"))).unwrap().unwrap();
        let vault = vault.unwrap();
        assert_eq!(vault.name.as_deref(), Some("built_in_storage_vault"));
        let o = vault.obj_info.unwrap();
        assert_eq!((o.id.as_deref(), o.sse_enabled), (Some("1"), Some(true)));
    }

    #[test]
    fn hdfs_vault_prefix_gets_the_suffix_and_both_forms_number_ids() {
        let (_d, kv) = kv();
        let req = CreateInstanceRequest {
            obj_info: Some(obj()),
            vault: Some(StorageVaultPb {
                hdfs_info: Some(HdfsVaultInfo {
                    build_conf: Some(HdfsBuildConf { fs_name: Some("hdfs://nn".into()), ..Default::default() }),
                    prefix: Some(" /big_data/ ".into()),
                }),
                ..Default::default()
            }),
            ..request("i3")
        };
        apply(&kv, &prepare(req).unwrap()).unwrap();
        let got = read(&kv, "i3", "").unwrap();
        assert_eq!(got.obj_info[0].id.as_deref(), Some("1"));
        assert_eq!(got.resource_ids, vec!["2".to_string()]);
        assert_eq!(got.enable_storage_vault, Some(false));
        let r = kv.read().unwrap();
        let vault =
            Failure::split(load::<StorageVaultPb>(&r, &keys::storage_vault_key("i3", "2"))).unwrap().unwrap().unwrap();
        assert_eq!(vault.hdfs_info.unwrap().prefix.as_deref(), Some("big_data_guid"));
    }

    #[test]
    fn second_create_is_already_existed_and_writes_nothing() {
        let (_d, kv) = kv();
        let cmd = prepare(CreateInstanceRequest { name: Some("first".into()), ..request("dup") }).unwrap();
        apply(&kv, &cmd).unwrap();
        let again = prepare(CreateInstanceRequest { name: Some("second".into()), ..request("dup") }).unwrap();
        let e = apply(&kv, &again).unwrap_err();
        assert_eq!(e.code, ServiceCode::AlreadyExisted);
        assert_eq!(e.msg, "instance already existed, instance_id=dup, err=Ok");
        assert_eq!(read(&kv, "dup", "").unwrap().name.as_deref(), Some("first"));
    }

    #[test]
    fn get_errors_follow_the_table() {
        let (_d, kv) = kv();
        let e = read(&kv, "", "").unwrap_err();
        assert_eq!((e.code, e.msg.as_str()), (ServiceCode::InvalidArgument, "empty instance_id and cloud_unique_id"));
        let e = read(&kv, "", "1:nope:x").unwrap_err();
        assert_eq!(e.msg, "cannot find instance_id with cloud_unique_id=1:nope:x");
        let e = read(&kv, "", "garbage").unwrap_err();
        assert_eq!(e.msg, "cannot find instance_id with cloud_unique_id=garbage");
        let e = read(&kv, "nope", "").unwrap_err();
        assert_eq!(e.code, ServiceCode::KvTxnGetErr);
        assert_eq!(e.msg, "failed to get instance, info=failed to get instance, instance_id=nope err=KeyNotFound");
    }

    #[test]
    fn command_round_trips_through_the_codec() {
        let cmd = super::super::command::Command::CreateInstance(Box::new(
            prepare(CreateInstanceRequest { obj_info: Some(obj()), ..request("i") }).unwrap(),
        ));
        let bytes = cmd.encode().unwrap();
        let back: super::super::command::Command = metaraft_raft::codec::decode_tagged(&bytes).unwrap();
        assert_eq!(back, cmd);
    }
}
