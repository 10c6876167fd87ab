//! The `key_type` table of `encode_key` / `get_value` (endpoints §18.4, Doris `http_encode_key.cpp`):
//! each Doris key type, the query parameters that fill it (in order), how it is encoded, and the
//! protobuf message stored under it (named only; this module knows nothing of record contents).
//!
//! Layouts (endpoints §18.2; `${…}` string elements, `<…>` int64 elements):
//! ```text
//! 0x01 "txn" ${iid} "txn_label" <db_id> ${label}           0x01 "meta" ${iid} "rowset" <tablet_id> <version>
//! 0x01 "txn" ${iid} "txn_info" <db_id> <txn_id>            0x01 "meta" ${iid} "tablet" <tbl> <idx> <part> <tablet>
//! 0x01 "version" ${iid} "partition" <db> <tbl> <part>      0x01 "recycle" ${iid} "rowset" <tablet_id> ${rowset_id}
//! 0x01 "job" ${iid} "check"                                0x02 "system" "meta-service" ${name}
//! ```
//! and the rest as listed in [`KEY_TYPES`].

use super::codec::encode_bytes;
use super::codec::encode_int64;
use super::layout::instance_key;
use super::layout::storage_vault_key;
use super::layout::system_meta_service_key;
use super::layout::USER_KEY_SPACE;

/// One element of a key: a literal infix, or the value of the n-th query parameter.
#[derive(Debug, Clone, Copy)]
enum Part {
    /// A fixed string element.
    Lit(&'static str),
    /// The n-th parameter as a string element.
    Str(usize),
    /// The n-th parameter as an int64 element (parsed like C `strtoll(…, 10)`).
    Int(usize),
}

use Part::Int;
use Part::Lit;
use Part::Str;

/// A Doris key type.
#[derive(Debug)]
pub struct KeyType {
    /// Doris's name (`InstanceKey`, …).
    pub name: &'static str,
    /// Required query parameters, in the order Doris checks them.
    pub params: &'static [&'static str],
    /// The protobuf message stored under such a key (`get_value`'s parser).
    pub value: &'static str,
    layout: Layout,
}

#[derive(Debug)]
enum Layout {
    /// `0x01` followed by these elements.
    User(&'static [Part]),
    /// A key built by a [`super::layout`] function from the string parameters.
    Custom(fn(&[&str]) -> Vec<u8>),
}

macro_rules! key_types {
    ($( $name:literal [$($param:literal),*] $value:literal => $layout:expr ;)*) => {
        /// Every key type `encode_key` and `get_value` accept, as Doris lists them.
        pub static KEY_TYPES: &[KeyType] = &[
            $( KeyType { name: $name, params: &[$($param),*], value: $value, layout: $layout }, )*
        ];
    };
}

fn custom_instance(p: &[&str]) -> Vec<u8> {
    instance_key(p.first().copied().unwrap_or_default())
}

fn custom_vault(p: &[&str]) -> Vec<u8> {
    storage_vault_key(p.first().copied().unwrap_or_default(), p.get(1).copied().unwrap_or_default())
}

fn registry(_: &[&str]) -> Vec<u8> {
    system_meta_service_key("registry")
}

fn arn_info(_: &[&str]) -> Vec<u8> {
    system_meta_service_key("arn_info")
}

fn encryption_key_info(_: &[&str]) -> Vec<u8> {
    system_meta_service_key("encryption_key_info")
}

use Layout::Custom;
use Layout::User;

key_types! {
    "InstanceKey" ["instance_id"] "InstanceInfoPB" => Custom(custom_instance);
    "TxnLabelKey" ["instance_id", "db_id", "label"] "TxnLabelPB"
        => User(&[Lit("txn"), Str(0), Lit("txn_label"), Int(1), Str(2)]);
    "TxnInfoKey" ["instance_id", "db_id", "txn_id"] "TxnInfoPB"
        => User(&[Lit("txn"), Str(0), Lit("txn_info"), Int(1), Int(2)]);
    "TxnIndexKey" ["instance_id", "txn_id"] "TxnIndexPB" => User(&[Lit("txn"), Str(0), Lit("txn_index"), Int(1)]);
    "TxnRunningKey" ["instance_id", "db_id", "txn_id"] "TxnRunningPB"
        => User(&[Lit("txn"), Str(0), Lit("txn_running"), Int(1), Int(2)]);
    "PartitionVersionKey" ["instance_id", "db_id", "tbl_id", "partition_id"] "VersionPB"
        => User(&[Lit("version"), Str(0), Lit("partition"), Int(1), Int(2), Int(3)]);
    "TableVersionKey" ["instance_id", "db_id", "tbl_id"] "VersionPB"
        => User(&[Lit("version"), Str(0), Lit("table"), Int(1), Int(2)]);
    "MetaRowsetKey" ["instance_id", "tablet_id", "version"] "RowsetMetaCloudPB"
        => User(&[Lit("meta"), Str(0), Lit("rowset"), Int(1), Int(2)]);
    "MetaRowsetTmpKey" ["instance_id", "txn_id", "tablet_id"] "RowsetMetaCloudPB"
        => User(&[Lit("meta"), Str(0), Lit("rowset_tmp"), Int(1), Int(2)]);
    "MetaTabletKey" ["instance_id", "table_id", "index_id", "part_id", "tablet_id"] "TabletMetaCloudPB"
        => User(&[Lit("meta"), Str(0), Lit("tablet"), Int(1), Int(2), Int(3), Int(4)]);
    "MetaTabletIdxKey" ["instance_id", "tablet_id"] "TabletIndexPB"
        => User(&[Lit("meta"), Str(0), Lit("tablet_index"), Int(1)]);
    "RecycleIndexKey" ["instance_id", "index_id"] "RecycleIndexPB"
        => User(&[Lit("recycle"), Str(0), Lit("index"), Int(1)]);
    "RecyclePartKey" ["instance_id", "part_id"] "RecyclePartitionPB"
        => User(&[Lit("recycle"), Str(0), Lit("partition"), Int(1)]);
    "RecycleRowsetKey" ["instance_id", "tablet_id", "rowset_id"] "RecycleRowsetPB"
        => User(&[Lit("recycle"), Str(0), Lit("rowset"), Int(1), Str(2)]);
    "RecycleTxnKey" ["instance_id", "db_id", "txn_id"] "RecycleTxnPB"
        => User(&[Lit("recycle"), Str(0), Lit("txn"), Int(1), Int(2)]);
    "StatsTabletKey" ["instance_id", "table_id", "index_id", "part_id", "tablet_id"] "TabletStatsPB"
        => User(&[Lit("stats"), Str(0), Lit("tablet"), Int(1), Int(2), Int(3), Int(4)]);
    "JobTabletKey" ["instance_id", "table_id", "index_id", "part_id", "tablet_id"] "TabletJobInfoPB"
        => User(&[Lit("job"), Str(0), Lit("tablet"), Int(1), Int(2), Int(3), Int(4)]);
    "CopyJobKey" ["instance_id", "stage_id", "table_id", "copy_id", "group_id"] "CopyJobPB"
        => User(&[Lit("copy"), Str(0), Lit("job"), Str(1), Int(2), Str(3), Int(4)]);
    "CopyFileKey" ["instance_id", "stage_id", "table_id", "obj_key", "obj_etag"] "CopyFilePB"
        => User(&[Lit("copy"), Str(0), Lit("loading_file"), Str(1), Int(2), Str(3), Str(4)]);
    "RecycleStageKey" ["instance_id", "stage_id"] "RecycleStagePB"
        => User(&[Lit("recycle"), Str(0), Lit("stage"), Str(1)]);
    // Doris encodes the "check" key for this type (`job_check_key`).
    "JobRecycleKey" ["instance_id"] "JobRecyclePB" => User(&[Lit("job"), Str(0), Lit("check")]);
    "MetaSchemaKey" ["instance_id", "index_id", "schema_version"] "TabletSchemaCloudPB"
        => User(&[Lit("meta"), Str(0), Lit("schema"), Int(1), Int(2)]);
    // `rowest_id` (sic) is Doris's parameter name.
    "MetaDeleteBitmap" ["instance_id", "tablet_id", "rowest_id", "version", "seg_id"] "DeleteBitmapPB"
        => User(&[Lit("meta"), Str(0), Lit("delete_bitmap"), Int(1), Str(2), Int(3), Int(4)]);
    "MetaDeleteBitmapUpdateLock" ["instance_id", "table_id", "partition_id"] "DeleteBitmapUpdateLockPB"
        => User(&[Lit("meta"), Str(0), Lit("delete_bitmap_lock"), Int(1), Int(2)]);
    "MetaPendingDeleteBitmap" ["instance_id", "tablet_id"] "PendingDeleteBitmapPB"
        => User(&[Lit("meta"), Str(0), Lit("delete_bitmap_pending"), Int(1)]);
    "RLJobProgressKey" ["instance_id", "db_id", "job_id"] "RoutineLoadProgressPB"
        => User(&[Lit("job"), Str(0), Lit("routine_load_progress"), Int(1), Int(2)]);
    "MetaServiceRegistryKey" [] "ServiceRegistryPB" => Custom(registry);
    "MetaServiceArnInfoKey" [] "RamUserPB" => Custom(arn_info);
    "MetaServiceEncryptionKey" [] "EncryptionKeyInfoPB" => Custom(encryption_key_info);
    "StorageVaultKey" ["instance_id", "vault_id"] "StorageVaultPB" => Custom(custom_vault);
}

/// The key type named `name` (exact, case-sensitive).
pub fn key_type(name: &str) -> Option<&'static KeyType> {
    KEY_TYPES.iter().find(|t| t.name == name)
}

impl KeyType {
    /// Encodes the key from its parameter values, given in [`KeyType::params`] order. Int
    /// parameters are parsed as C's `strtoll(…, 10)` does (garbage → 0, overflow saturates).
    pub fn encode(&self, params: &[&str]) -> Vec<u8> {
        match self.layout {
            Custom(f) => f(params),
            User(parts) => {
                let mut out = vec![USER_KEY_SPACE];
                for part in parts {
                    match *part {
                        Lit(s) => encode_bytes(&mut out, s.as_bytes()),
                        Str(i) => encode_bytes(&mut out, params.get(i).copied().unwrap_or_default().as_bytes()),
                        Int(i) => encode_int64(&mut out, strtoll(params.get(i).copied().unwrap_or_default())),
                    }
                }
                out
            }
        }
    }
}

/// A typed key parameter, for keys built by code rather than from query strings.
#[derive(Debug, Clone, Copy)]
pub enum Arg<'a> {
    /// A string element.
    S(&'a str),
    /// An int64 element.
    I(i64),
}

impl KeyType {
    /// Encodes the key from typed values in [`KeyType::params`] order. With fewer values than
    /// parameters the result is the prefix shared by every key that starts with them (for scans).
    /// A value of the wrong kind for its element is encoded as that element's kind of zero.
    pub fn encode_args(&self, args: &[Arg<'_>]) -> Vec<u8> {
        let User(parts) = self.layout else {
            let params: Vec<String> =
                args.iter().map(|a| if let Arg::S(s) = a { (*s).to_string() } else { String::new() }).collect();
            let params: Vec<&str> = params.iter().map(String::as_str).collect();
            return self.encode(&params);
        };
        let mut out = vec![USER_KEY_SPACE];
        for part in parts {
            match *part {
                Lit(s) => encode_bytes(&mut out, s.as_bytes()),
                Str(i) | Int(i) if i >= args.len() => break,
                Str(i) => encode_bytes(&mut out, if let Some(Arg::S(s)) = args.get(i) { s.as_bytes() } else { b"" }),
                Int(i) => encode_int64(&mut out, if let Some(Arg::I(n)) = args.get(i) { *n } else { 0 }),
            }
        }
        out
    }
}

/// C `strtoll(s, nullptr, 10)`: leading white space, an optional sign, decimal digits up to the
/// first non-digit; no digits → 0; out of range → `i64::MAX` / `i64::MIN`.
pub fn strtoll(s: &str) -> i64 {
    let bytes = s.as_bytes();
    let mut i = bytes.iter().take_while(|b| matches!(b, b' ' | b'\t' | b'\n' | 0x0b | 0x0c | b'\r')).count();
    let negative = match bytes.get(i) {
        Some(b'-') => {
            i += 1;
            true
        }
        Some(b'+') => {
            i += 1;
            false
        }
        _ => false,
    };
    // Accumulate as a negative number so i64::MIN is reachable.
    let mut acc: i64 = 0;
    for &b in bytes.get(i..).unwrap_or_default().iter().take_while(|b| b.is_ascii_digit()) {
        let digit = i64::from(b - b'0');
        match acc.checked_mul(10).and_then(|v| v.checked_sub(digit)) {
            Some(v) => acc = v,
            None => return if negative { i64::MIN } else { i64::MAX },
        }
    }
    if negative {
        acc
    } else {
        acc.checked_neg().unwrap_or(i64::MAX)
    }
}

#[cfg(test)]
mod test {
    use super::*;

    fn hex(bytes: &[u8]) -> String {
        bytes.iter().map(|b| format!("{b:02x}")).collect()
    }

    fn encode(name: &str, params: &[&str]) -> String {
        hex(&key_type(name).unwrap().encode(params))
    }

    #[test]
    fn golden_keys_from_doris_tests() {
        // Doris http_encode_key tests (instance "gavin-instance").
        assert_eq!(
            encode("MetaDeleteBitmap", &["gavin-instance", "10086", "10010", "10000", "1008601"]),
            "01106d657461000110676176696e2d696e7374616e636500011064656c6574655f6269746d6170000112000000000000276610313030313000011200000000000027101200000000000f63d9"
        );
        assert_eq!(
            encode("MetaDeleteBitmapUpdateLock", &["gavin-instance", "10086", "10010"]),
            "01106d657461000110676176696e2d696e7374616e636500011064656c6574655f6269746d61705f6c6f636b000112000000000000276612000000000000271a"
        );
        assert_eq!(
            encode("MetaSchemaKey", &["gavin-instance", "10086", "10010"]),
            "01106d657461000110676176696e2d696e7374616e6365000110736368656d61000112000000000000276612000000000000271a"
        );
        assert_eq!(
            encode("MetaPendingDeleteBitmap", &["gavin-instance", "10086"]),
            "01106d657461000110676176696e2d696e7374616e636500011064656c6574655f6269746d61705f70656e64696e670001120000000000002766"
        );
        assert_eq!(encode("InstanceKey", &["test"]), "0110696e7374616e6365000110746573740001");
        assert_eq!(
            encode("MetaServiceRegistryKey", &[]),
            "021073797374656d0001106d6574612d7365727669636500011072656769737472790001"
        );
    }

    #[test]
    fn txn_index_key_matches_the_util_h_example() {
        assert_eq!(
            encode("TxnIndexKey", &["instance_id_deadbeef", "10003"])[..],
            *"011074786e000110696e7374616e63655f69645f646561646265656600011074786e5f696e6465780001120000000000002713"
        );
    }

    #[test]
    fn every_type_is_unique_and_encodes_with_its_params() {
        for (i, t) in KEY_TYPES.iter().enumerate() {
            assert!(KEY_TYPES[i + 1..].iter().all(|o| o.name != t.name), "{} twice", t.name);
            let params: Vec<&str> = t.params.iter().map(|_| "7").collect();
            let key = t.encode(&params);
            assert!(super::super::codec::decode(&key).is_ok(), "{}", t.name);
        }
        assert_eq!(KEY_TYPES.len(), 30);
        assert!(key_type("instancekey").is_none());
    }

    #[test]
    fn strtoll_is_c_like() {
        let cases: &[(&str, i64)] = &[
            ("10086", 10086),
            ("  -12x", -12),
            ("+5", 5),
            ("abc", 0),
            ("", 0),
            ("-", 0),
            ("%2012", 0),
            ("9223372036854775807", i64::MAX),
            ("9223372036854775808", i64::MAX),
            ("-9223372036854775808", i64::MIN),
            ("-99999999999999999999", i64::MIN),
        ];
        for (s, want) in cases {
            assert_eq!(strtoll(s), *want, "{s:?}");
        }
    }
}
