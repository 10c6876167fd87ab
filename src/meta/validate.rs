//! Stateless request checks, shared by every route. Pure functions: no storage, no clock.
//! Messages are Doris's, word for word (endpoints §1, [M]); the id pattern is the public doc's
//! (profile table in reference/README.md).

use super::error::MetaError;
use super::error::MetaResult;
use super::pb::CredProviderType;
use super::pb::HdfsVaultInfo;
use super::pb::ObjectStoreInfoPb;
use super::pb::Provider;
use super::pb::RamUserPb;

/// The pattern the public doc gives for `instance_id`.
pub const INSTANCE_ID_PATTERN: &str = "[0-9a-zA-Z_-]+";

fn empty(s: Option<&String>) -> bool {
    s.is_none_or(String::is_empty)
}

/// `instance_id` is present and non-empty (`instance id not set`).
pub fn instance_id_set(id: Option<&String>) -> MetaResult<&str> {
    match id {
        Some(id) if !id.is_empty() => Ok(id),
        _ => Err(MetaError::invalid_argument("instance id not set")),
    }
}

/// `instance_id` matches [`INSTANCE_ID_PATTERN`].
pub fn instance_id_pattern(id: &str) -> MetaResult<()> {
    if !id.is_empty() && id.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-') {
        Ok(())
    } else {
        Err(MetaError::invalid_argument(format!(
            "invalid instance_id, instance_id={id} does not match pattern {INSTANCE_ID_PATTERN}"
        )))
    }
}

/// A RAM user needs `user_id`, `ak` and `sk` (`ram user info err, please check it`).
pub fn ram_user(user: &RamUserPb) -> MetaResult<()> {
    if empty(user.user_id.as_ref()) || empty(user.ak.as_ref()) || empty(user.sk.as_ref()) {
        return Err(MetaError::invalid_argument("ram user info err, please check it"));
    }
    Ok(())
}

/// The object-store rule of create_instance (rows 2 / 2'): with `role_arn`, an S3
/// instance-profile location; otherwise ak, sk, bucket, endpoint, region, provider and
/// external_endpoint all given.
pub fn create_obj_info(obj: &ObjectStoreInfoPb) -> MetaResult<()> {
    let located = !empty(obj.bucket.as_ref()) && !empty(obj.endpoint.as_ref()) && !empty(obj.region.as_ref());
    if obj.role_arn.is_some() {
        let ok = !empty(obj.role_arn.as_ref())
            && obj.cred_provider_type == Some(CredProviderType::InstanceProfile)
            && obj.provider == Some(Provider::S3)
            && located;
        if !ok {
            return Err(MetaError::invalid_argument("s3 conf info err with role_arn, please check it"));
        }
        return Ok(());
    }
    if empty(obj.ak.as_ref())
        || empty(obj.sk.as_ref())
        || !located
        || obj.provider.is_none()
        || empty(obj.external_endpoint.as_ref())
    {
        return Err(MetaError::invalid_argument("s3 conf info err, please check it"));
    }
    Ok(())
}

/// An HDFS vault: no scheme in `prefix` (`invalid prefix: …`), a non-blank `fs_name`
/// (`invalid fs_name: …`).
pub fn hdfs_info(hdfs: &HdfsVaultInfo) -> MetaResult<()> {
    let prefix = hdfs.prefix.as_deref().unwrap_or_default();
    if prefix.contains("://") {
        return Err(MetaError::invalid_argument(format!("invalid prefix: {prefix}")));
    }
    let fs_name = hdfs.build_conf.as_ref().and_then(|c| c.fs_name.as_deref()).unwrap_or_default();
    if fs_name.trim().is_empty() {
        return Err(MetaError::invalid_argument(format!("invalid fs_name: {fs_name}")));
    }
    Ok(())
}

/// Doris's `trim()` for path prefixes: strips `/`, space and tab at both ends.
pub fn trim_prefix(prefix: &str) -> String {
    prefix.trim_matches(|c| c == '/' || c == ' ' || c == '\t').to_string()
}

#[cfg(test)]
mod test {
    use super::super::pb::HdfsBuildConf;
    use super::*;

    fn full_obj() -> ObjectStoreInfoPb {
        ObjectStoreInfoPb {
            ak: Some("ak".into()),
            sk: Some("sk".into()),
            bucket: Some("b".into()),
            endpoint: Some("e".into()),
            region: Some("r".into()),
            provider: Some(Provider::Cos),
            external_endpoint: Some("x".into()),
            ..Default::default()
        }
    }

    fn msg<T: std::fmt::Debug>(r: MetaResult<T>) -> String {
        r.unwrap_err().msg
    }

    #[test]
    fn instance_id_rows() {
        assert_eq!(msg(instance_id_set(None)), "instance id not set");
        assert_eq!(msg(instance_id_set(Some(&String::new()))), "instance id not set");
        assert_eq!(instance_id_set(Some(&"i".to_string())).unwrap(), "i");
        for ok in ["a", "A-9_z", "6ADDF03D-4C71-4F43-9D84-5FC89B3514F8"] {
            instance_id_pattern(ok).unwrap();
        }
        for bad in ["a/b", "a b", "é", "a:b", ""] {
            assert_eq!(
                msg(instance_id_pattern(bad)),
                format!("invalid instance_id, instance_id={bad} does not match pattern [0-9a-zA-Z_-]+")
            );
        }
    }

    #[test]
    fn ram_user_rows() {
        let mut u =
            RamUserPb { user_id: Some("u".into()), ak: Some("a".into()), sk: Some("s".into()), ..Default::default() };
        ram_user(&u).unwrap();
        u.sk = Some(String::new());
        assert_eq!(msg(ram_user(&u)), "ram user info err, please check it");
    }

    #[test]
    fn obj_info_rows() {
        create_obj_info(&full_obj()).unwrap();
        type Edit = fn(&mut ObjectStoreInfoPb);
        let edits: [Edit; 7] = [
            |o| o.ak = None,
            |o| o.sk = Some(String::new()),
            |o| o.bucket = None,
            |o| o.endpoint = None,
            |o| o.region = None,
            |o| o.provider = None,
            |o| o.external_endpoint = Some(String::new()),
        ];
        for edit in edits {
            let mut o = full_obj();
            edit(&mut o);
            assert_eq!(msg(create_obj_info(&o)), "s3 conf info err, please check it");
        }
        let mut o = full_obj();
        o.ak = None;
        o.sk = None;
        o.role_arn = Some("arn".into());
        assert_eq!(msg(create_obj_info(&o)), "s3 conf info err with role_arn, please check it");
        o.provider = Some(Provider::S3);
        o.cred_provider_type = Some(CredProviderType::InstanceProfile);
        create_obj_info(&o).unwrap();
    }

    #[test]
    fn hdfs_rows() {
        let mut h = HdfsVaultInfo {
            build_conf: Some(HdfsBuildConf { fs_name: Some("hdfs://nn:8020".into()), ..Default::default() }),
            prefix: Some("p".into()),
        };
        hdfs_info(&h).unwrap();
        h.prefix = Some("hdfs://x/p".into());
        assert_eq!(msg(hdfs_info(&h)), "invalid prefix: hdfs://x/p");
        h.prefix = None;
        h.build_conf = Some(HdfsBuildConf { fs_name: Some("  ".into()), ..Default::default() });
        assert_eq!(msg(hdfs_info(&h)), "invalid fs_name:   ");
        h.build_conf = None;
        assert_eq!(msg(hdfs_info(&h)), "invalid fs_name: ");
    }

    #[test]
    fn prefix_trim_is_dorises() {
        assert_eq!(trim_prefix("/aa/bb/"), "aa/bb");
        assert_eq!(trim_prefix(" \t/x/ "), "x");
        assert_eq!(trim_prefix(""), "");
    }
}
