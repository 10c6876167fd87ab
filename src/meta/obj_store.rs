//! Object storage of an instance: `get_obj_store_info` / `show_storage_vaults`, `add_obj_info`,
//! `legacy_update_ak_sk` (Doris's `alter_obj_store_info`) and `update_ak_sk` (endpoints §6–§9).
//!
//! Split as everywhere: `prepare_*` (proposer) runs the stateless rows in Doris's order and seals
//! every sk; `apply_*` resolves the instance and runs the state-dependent rows; `get` reads.
//!
//! Some Doris messages end with the request rendered as compact protobuf JSON, plaintext keys
//! included. The log must never hold a plain sk, so the domain answers the bare message (one of
//! [`ECHOES_REQUEST`]) and the HTTP layer, which still has the plaintext request, appends it.
//! The "same ak/sk" comparisons use [`secret::same`], Doris's "stored cipher == fresh cipher".

use metaraft_raft::KvRead;
use metaraft_raft::KvWrite;
use serde::Deserialize;
use serde::Serialize;

use super::command::Reply;
use super::error::MetaError;
use super::error::MetaResult;
use super::error::ServiceCode;
use super::pb::InstanceInfoPb;
use super::pb::InstanceStatus;
use super::pb::ObjectStoreInfoPb;
use super::pb::RamUserPb;
use super::pb::StorageVaultPb;
use super::resolve;
use super::schema::proto_enum;
use super::schema::proto_message;
use super::secret;
use super::secret::Secrets;
use super::store::load;
use super::store::save;
use super::store::Outcome;
use super::validate;
use super::wire_size::proto_size;
use crate::keys;

proto_enum! {
    /// `AlterObjStoreInfoRequest.Operation`.
    pub enum AlterObjOp = "doris.cloud.AlterObjStoreInfoRequest.Operation" {
        Unknown = "UNKNOWN" 0,
        UpdateAkSk = "UPDATE_AK_SK" 1,
        AddObjInfo = "ADD_OBJ_INFO" 2,
        LegacyUpdateAkSk = "LEGACY_UPDATE_AK_SK" 3,
        AlterObjInfo = "ALTER_OBJ_INFO" 4,
        AddHdfsInfo = "ADD_HDFS_INFO" 100,
        DropHdfsInfo = "DROP_HDFS_INFO" 101,
        AddBuiltInVault = "ADD_BUILT_IN_VAULT" 102,
        AddS3Vault = "ADD_S3_VAULT" 103,
        DropS3Vault = "DROP_S3_VAULT" 104,
        SetDefaultVault = "SET_DEFAULT_VAULT" 200,
        UnsetDefaultVault = "UNSET_DEFAULT_VAULT" 201,
        AlterS3Vault = "ALTER_S3_VAULT" 202,
        AlterHdfsVault = "ALTER_HDFS_VAULT" 203,
    }
}

proto_message! {
    /// `AlterObjStoreInfoRequest`: body of `add_obj_info` and `legacy_update_ak_sk`.
    pub struct AlterObjStoreInfoRequest = "doris.cloud.AlterObjStoreInfoRequest" {
        1 cloud_unique_id: optional string,
        2 obj: optional message(ObjectStoreInfoPb),
        3 op: optional enum(AlterObjOp),
        4 vault: optional message(StorageVaultPb),
        5 set_as_default_storage_vault: optional bool,
        6 request_ip: optional string,
    }
}

proto_message! {
    /// `UpdateAkSkRequest`.
    pub struct UpdateAkSkRequest = "doris.cloud.UpdateAkSkRequest" {
        1 instance_id: optional string,
        2 internal_bucket_user: repeated message(RamUserPb),
        3 ram_user: optional message(RamUserPb),
    }
}

proto_message! {
    /// `GetObjStoreInfoRequest`.
    pub struct GetObjStoreInfoRequest = "doris.cloud.GetObjStoreInfoRequest" {
        1 cloud_unique_id: optional string,
    }
}

proto_message! {
    /// `GetObjStoreInfoResponse` without its `status` (field 1), which the HTTP layer prints first.
    pub struct ObjStoreInfo = "doris.cloud.GetObjStoreInfoResponse" {
        2 obj_info: repeated message(ObjectStoreInfoPb),
        3 storage_vault: repeated message(StorageVaultPb),
        4 default_storage_vault_id: optional string,
        5 default_storage_vault_name: optional string,
        6 enable_storage_vault: optional bool,
    }
}

/// Messages Doris completes with the compact JSON of the request (see the module doc).
pub const ECHOES_REQUEST: &[&str] = &[
    "s3 obj info err ",
    "s3 obj info greater than 1k ",
    "ram user info err ",
    "s3 bucket info err ",
    "fail to update old instance's obj_info, s3 obj info err ",
];

/// At most this many legacy obj_infos per instance.
pub const MAX_OBJ_INFOS: usize = 10;
/// Largest serialized `obj` accepted (protobuf binary size).
pub const MAX_OBJ_BYTES: usize = 1024;

/// `add_obj_info` or `legacy_update_ak_sk`, validated; sk sealed.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AlterObjStore {
    /// The request with its op set by the route and `obj.sk` sealed.
    pub request: AlterObjStoreInfoRequest,
    /// Seconds since the epoch, fixed by the proposer.
    pub now: i64,
}

/// `update_ak_sk`, validated; sks sealed.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct UpdateAkSk {
    /// The request with every sk sealed.
    pub request: UpdateAkSkRequest,
    /// Seconds since the epoch, fixed by the proposer.
    pub now: i64,
}

fn empty(s: Option<&String>) -> bool {
    s.is_none_or(String::is_empty)
}

fn invalid(msg: impl Into<String>) -> MetaError {
    MetaError::invalid_argument(msg)
}

/// Stateless rows of `alter_obj_store_info` ([M] order: presence, size, keys, then the id).
pub fn prepare_alter(
    mut request: AlterObjStoreInfoRequest,
    op: AlterObjOp,
    now: i64,
    secrets: &Secrets,
) -> MetaResult<AlterObjStore> {
    request.op = Some(op);
    let Some(obj) = request.obj.as_ref().or_else(|| request.vault.as_ref().and_then(|v| v.obj_info.as_ref())) else {
        return Err(invalid("s3 obj info err "));
    };
    if proto_size(obj) > MAX_OBJ_BYTES {
        return Err(invalid("s3 obj info greater than 1k "));
    }
    if obj.role_arn.is_some() {
        if obj.ak.is_some() || obj.sk.is_some() {
            return Err(invalid("invaild argument, both set ak/sk and role_arn is not allowed"));
        }
    } else if obj.ak.is_none() || obj.sk.is_none() {
        return Err(invalid("s3 obj info err "));
    }
    if empty(request.cloud_unique_id.as_ref()) {
        return Err(invalid("cloud unique id not set"));
    }
    if let Some(obj) = request.obj.as_mut() {
        secrets.seal_opt(&mut obj.sk)?;
    }
    if let Some(obj) = request.vault.as_mut().and_then(|v| v.obj_info.as_mut()) {
        secrets.seal_opt(&mut obj.sk)?;
    }
    Ok(AlterObjStore { request, now })
}

/// The instance behind `cloud_unique_id` for a write: `empty instance_id`, `failed to get
/// instance`, `instance status has been set delete`.
fn writable_instance(kv: &KvWrite<'_, '_>, cloud_unique_id: &str) -> Outcome<(Vec<u8>, InstanceInfoPb)> {
    let id = resolve::instance_id_of(kv, cloud_unique_id)?.ok_or_else(|| invalid("empty instance_id"))?;
    let (key, instance) = existing(kv, &id)?;
    if instance.status == Some(InstanceStatus::Deleted) {
        return Err(deleted().into());
    }
    Ok((key, instance))
}

fn existing(kv: &impl super::store::Get, id: &str) -> Outcome<(Vec<u8>, InstanceInfoPb)> {
    let key = keys::instance_key(id);
    let instance = load::<InstanceInfoPb>(kv, &key)?
        .ok_or_else(|| MetaError::kv_get(format!("failed to get instance, instance_id={id} err=KeyNotFound")))?;
    Ok((key, instance))
}

fn deleted() -> MetaError {
    MetaError::new(ServiceCode::ClusterNotFound, "instance status has been set delete, plz check it")
}

/// Applies `add_obj_info` or `legacy_update_ak_sk`.
pub fn apply_alter(kv: &mut KvWrite<'_, '_>, cmd: &AlterObjStore) -> Outcome<Reply> {
    let req = &cmd.request;
    let (key, mut instance) = writable_instance(kv, req.cloud_unique_id.as_deref().unwrap_or_default())?;
    let obj = req.obj.clone().unwrap_or_default();
    let changed = match req.op {
        Some(AlterObjOp::AddObjInfo) => add(&mut instance, obj, cmd.now)?,
        Some(AlterObjOp::LegacyUpdateAkSk) => legacy_update(&mut instance, &obj, cmd.now)?,
        other => return Err(invalid(format!("invalid request op, op={other:?}")).into()),
    };
    if changed {
        save(kv, &key, &instance)?;
    }
    Ok(Reply::Done)
}

/// `add_obj_info` rows 8–12 and the new entry (endpoints §9, [M]).
fn add(instance: &mut InstanceInfoPb, obj: ObjectStoreInfoPb, now: i64) -> MetaResult<bool> {
    if instance.enable_storage_vault == Some(true) {
        return Err(invalid("Storage vault doesn't support add obj info"));
    }
    if obj.provider.is_none() {
        return Err(invalid("s3 conf lease provider info"));
    }
    if instance.obj_info.len() >= MAX_OBJ_INFOS {
        return Err(MetaError::undefined(
            "this instance history has greater than 10 objs, please new another instance",
        ));
    }
    let keys_missing = obj.role_arn.is_none() && (empty(obj.ak.as_ref()) || empty(obj.sk.as_ref()));
    if keys_missing
        || empty(obj.bucket.as_ref())
        || empty(obj.endpoint.as_ref())
        || empty(obj.region.as_ref())
        || empty(obj.prefix.as_ref())
    {
        return Err(invalid("s3 conf info err, please check it"));
    }
    let s = |v: &Option<String>| v.clone().unwrap_or_default();
    let duplicate = instance.obj_info.iter().any(|o| {
        s(&o.bucket) == s(&obj.bucket)
            && s(&o.prefix) == s(&obj.prefix)
            && s(&o.endpoint) == s(&obj.endpoint)
            && s(&o.region) == s(&obj.region)
            && s(&o.ak) == s(&obj.ak)
            && secret::same(o.sk.as_deref(), obj.sk.as_deref())
            && o.provider == obj.provider
            && s(&o.external_endpoint) == s(&obj.external_endpoint)
    });
    if duplicate {
        return Err(invalid("original obj infos has a same conf, please check it"));
    }
    let entry = ObjectStoreInfoPb {
        ctime: Some(now),
        mtime: Some(now),
        id: Some(next_available_vault_id(instance).to_string()),
        prefix: Some(validate::trim_prefix(obj.prefix.as_deref().unwrap_or_default())),
        external_endpoint: Some(s(&obj.external_endpoint)),
        encryption_info: Some(secret::encryption_info()),
        sse_enabled: Some(instance.sse_enabled.unwrap_or(false)),
        use_path_style: Some(obj.use_path_style.unwrap_or(false)),
        ..obj
    };
    instance.obj_info.push(entry);
    Ok(true)
}

/// `max(int(obj_info[].id), int(resource_ids[])) + 1` (non-numeric ids count as 0).
fn next_available_vault_id(instance: &InstanceInfoPb) -> i64 {
    let ids = instance
        .obj_info
        .iter()
        .filter_map(|o| o.id.as_deref())
        .chain(instance.resource_ids.iter().map(String::as_str));
    ids.map(stoi).map(|r| r.unwrap_or(0)).max().unwrap_or(0).max(0) + 1
}

/// C++ `std::stoi`: leading whitespace, optional sign, at least one digit; `None` otherwise.
fn stoi(s: &str) -> Option<i64> {
    let t = s.trim_start_matches([' ', '\t', '\n', '\r', '\x0b', '\x0c']);
    let (neg, digits) = match t.as_bytes().first() {
        Some(b'-') => (true, &t[1..]),
        Some(b'+') => (false, &t[1..]),
        _ => (false, t),
    };
    let end = digits.bytes().take_while(u8::is_ascii_digit).count();
    if end == 0 {
        return None;
    }
    let n: i64 = digits[..end].parse().ok()?;
    if n > i64::from(i32::MAX) + 1 {
        return None;
    }
    Some(if neg { -n } else { n })
}

/// `legacy_update_ak_sk` row 8 and effect (endpoints §8). `false` when nothing changes.
fn legacy_update(instance: &mut InstanceInfoPb, obj: &ObjectStoreInfoPb, now: i64) -> MetaResult<bool> {
    let count = i64::try_from(instance.obj_info.len()).unwrap_or(i64::MAX);
    let idx = match obj.id.as_deref().map_or(Some(0), stoi) {
        Some(i) if (1..=count).contains(&i) => i,
        _ => return Err(invalid("id invalid, please check it")),
    };
    let Some(stored) = instance.obj_info.iter_mut().find(|o| o.id.as_deref().and_then(stoi) == Some(idx)) else {
        return Err(invalid("id invalid, please check it"));
    };
    if stored.ak == obj.ak && secret::same(stored.sk.as_deref(), obj.sk.as_deref()) {
        return Ok(false);
    }
    stored.ak = obj.ak.clone();
    stored.sk = obj.sk.clone();
    stored.encryption_info = Some(secret::encryption_info());
    stored.mtime = Some(now);
    // [M] a key pair replaces any role-based credentials.
    stored.role_arn = None;
    stored.external_id = None;
    stored.cred_provider_type = None;
    Ok(true)
}

/// Stateless rows 1–2 of `update_ak_sk`; sks sealed.
pub fn prepare_update_ak_sk(mut request: UpdateAkSkRequest, now: i64, secrets: &Secrets) -> MetaResult<UpdateAkSk> {
    validate::instance_id_set(request.instance_id.as_ref())?;
    if request.ram_user.is_none() && request.internal_bucket_user.is_empty() {
        return Err(invalid("nothing to update"));
    }
    if let Some(ram) = request.ram_user.as_mut() {
        secrets.seal_opt(&mut ram.sk)?;
    }
    for user in &mut request.internal_bucket_user {
        secrets.seal_opt(&mut user.sk)?;
    }
    Ok(UpdateAkSk { request, now })
}

/// Applies `update_ak_sk` rows 3–12 (endpoints §7).
pub fn apply_update_ak_sk(kv: &mut KvWrite<'_, '_>, cmd: &UpdateAkSk) -> Outcome<Reply> {
    let req = &cmd.request;
    let (key, mut instance) = existing(kv, req.instance_id.as_deref().unwrap_or_default())?;
    if instance.status == Some(InstanceStatus::Deleted) {
        return Err(deleted().into());
    }
    if let Some(ram) = &req.ram_user {
        update_ram_user(&mut instance, ram)?;
    }
    if !req.internal_bucket_user.is_empty() {
        update_bucket_users(&mut instance, &req.internal_bucket_user, cmd.now)?;
    }
    save(kv, &key, &instance)?;
    Ok(Reply::Done)
}

fn update_ram_user(instance: &mut InstanceInfoPb, ram: &RamUserPb) -> MetaResult<()> {
    if empty(ram.user_id.as_ref()) || empty(ram.ak.as_ref()) || empty(ram.sk.as_ref()) {
        return Err(invalid("ram user info err "));
    }
    let Some(stored) = instance.ram_user.as_mut() else {
        return Err(invalid("instance doesn't have ram user info"));
    };
    if stored.user_id != ram.user_id {
        return Err(invalid("ram user_id err"));
    }
    if stored.ak == ram.ak && secret::same(stored.sk.as_deref(), ram.sk.as_deref()) {
        return Err(invalid("ak sk eq original, please check it"));
    }
    stored.ak = ram.ak.clone();
    stored.sk = ram.sk.clone();
    stored.encryption_info = Some(secret::encryption_info());
    Ok(())
}

fn update_bucket_users(instance: &mut InstanceInfoPb, users: &[RamUserPb], now: i64) -> MetaResult<()> {
    if users.iter().any(|u| u.ak.is_none() || u.sk.is_none() || u.user_id.is_none()) {
        return Err(invalid("s3 bucket info err "));
    }
    let mut updated = 0;
    for obj in &mut instance.obj_info {
        let user = if obj.user_id.is_none() {
            // An instance from before per-user buckets: its one bucket user adopts the object store.
            let [user] = users else {
                return Err(invalid("fail to update old instance's obj_info, s3 obj info err "));
            };
            obj.user_id = user.user_id.clone();
            user
        } else {
            match users.iter().find(|u| u.user_id == obj.user_id) {
                Some(user) => user,
                None => continue,
            }
        };
        if obj.ak == user.ak && secret::same(obj.sk.as_deref(), user.sk.as_deref()) {
            return Err(invalid("ak sk eq original, please check it"));
        }
        obj.ak = user.ak.clone();
        obj.sk = user.sk.clone();
        obj.encryption_info = Some(secret::encryption_info());
        obj.mtime = Some(now);
        updated += 1;
    }
    if updated == 0 {
        return Err(invalid("fail to find the alter obj info"));
    }
    Ok(())
}

/// Stateless row of `get_obj_store_info`.
pub fn check_get(cloud_unique_id: &str) -> MetaResult<()> {
    if cloud_unique_id.is_empty() {
        return Err(invalid("cloud unique id not set"));
    }
    Ok(())
}

/// `get_obj_store_info`: legacy obj_infos and every vault of the instance, sks unsealed.
/// DELETED instances are answered too.
pub fn get(kv: &KvRead, cloud_unique_id: &str, secrets: &Secrets) -> Outcome<ObjStoreInfo> {
    check_get(cloud_unique_id)?;
    let id = resolve::instance_id_of(kv, cloud_unique_id)?.ok_or_else(|| invalid("empty instance_id"))?;
    let (_, instance) = existing(kv, &id)?;
    let mut obj_info = instance.obj_info;
    for obj in &mut obj_info {
        secrets.unseal_opt(&mut obj.sk)?;
    }
    let mut storage_vault = Vec::new();
    if !instance.resource_ids.is_empty() {
        for (_, bytes) in kv.scan_prefix(&keys::storage_vault_key_prefix(&id))? {
            let mut vault: StorageVaultPb = metaraft_raft::codec::decode_tagged(&bytes)
                .map_err(|_| MetaError::undefined("failed to decode stored meta.storage_vault.v1"))?;
            if let Some(obj) = vault.obj_info.as_mut() {
                secrets.unseal_opt(&mut obj.sk)?;
            }
            storage_vault.push(vault);
        }
    }
    Ok(ObjStoreInfo {
        obj_info,
        storage_vault,
        default_storage_vault_id: instance.default_storage_vault_id,
        default_storage_vault_name: instance.default_storage_vault_name,
        enable_storage_vault: Some(instance.enable_storage_vault.unwrap_or(false)),
    })
}

#[cfg(test)]
#[path = "obj_store_test.rs"]
mod test;
