//! Keys of the load path (transactions, tablets, versions, jobs; txn-tablet-rpc §1.2, §2.2),
//! built from the [`KEY_TYPES`](super::KEY_TYPES) table so `encode_key` and the domain can never
//! disagree on a layout. Functions ending in `_prefix` give the shared prefix for a scan.

use super::codec::POSITIVE_FIXED_INT_TAG;
use super::key_types::key_type;
use super::key_types::Arg;
use super::key_types::Arg::I;
use super::key_types::Arg::S;
use super::layout::system_meta_service_key;

fn key(name: &str, args: &[Arg<'_>]) -> Vec<u8> {
    // Every name used below is in KEY_TYPES (checked by a test); an empty key matches nothing.
    key_type(name).map(|t| t.encode_args(args)).unwrap_or_default()
}

/// `txn_label <db> ${label}` → `TxnLabelPB`.
pub fn txn_label(iid: &str, db: i64, label: &str) -> Vec<u8> {
    key("TxnLabelKey", &[S(iid), I(db), S(label)])
}

/// Every label of one database.
pub fn txn_label_prefix(iid: &str, db: i64) -> Vec<u8> {
    key("TxnLabelKey", &[S(iid), I(db)])
}

/// `txn_info <db> <txn>` → `TxnInfoPB`.
pub fn txn_info(iid: &str, db: i64, txn: i64) -> Vec<u8> {
    key("TxnInfoKey", &[S(iid), I(db), I(txn)])
}

/// `txn_index <txn>` → `TxnIndexPB` (txn → db).
pub fn txn_index(iid: &str, txn: i64) -> Vec<u8> {
    key("TxnIndexKey", &[S(iid), I(txn)])
}

/// `txn_running <db> <txn>` → `TxnRunningPB`.
pub fn txn_running(iid: &str, db: i64, txn: i64) -> Vec<u8> {
    key("TxnRunningKey", &[S(iid), I(db), I(txn)])
}

/// Every running txn of one database, in txn id order.
pub fn txn_running_prefix(iid: &str, db: i64) -> Vec<u8> {
    key("TxnRunningKey", &[S(iid), I(db)])
}

/// `recycle txn <db> <txn>` → `RecycleTxnPB`.
pub fn recycle_txn(iid: &str, db: i64, txn: i64) -> Vec<u8> {
    key("RecycleTxnKey", &[S(iid), I(db), I(txn)])
}

/// `version partition <db> <table> <partition>` → `VersionPB`.
pub fn partition_version(iid: &str, db: i64, table: i64, partition: i64) -> Vec<u8> {
    key("PartitionVersionKey", &[S(iid), I(db), I(table), I(partition)])
}

/// `version table <db> <table>` → `VersionPB` (Doris: a raw atomic counter).
pub fn table_version(iid: &str, db: i64, table: i64) -> Vec<u8> {
    key("TableVersionKey", &[S(iid), I(db), I(table)])
}

/// A tablet's place: `(table, index, partition, tablet)`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TabletPlace {
    pub table: i64,
    pub index: i64,
    pub partition: i64,
    pub tablet: i64,
}

impl TabletPlace {
    fn args<'a>(&self, iid: &'a str) -> [Arg<'a>; 5] {
        [S(iid), I(self.table), I(self.index), I(self.partition), I(self.tablet)]
    }
}

/// `meta tablet <table> <index> <partition> <tablet>` → `TabletMetaCloudPB`.
pub fn tablet_meta(iid: &str, at: TabletPlace) -> Vec<u8> {
    key("MetaTabletKey", &at.args(iid))
}

/// `meta tablet_index <tablet>` → `TabletIndexPB`.
pub fn tablet_index(iid: &str, tablet: i64) -> Vec<u8> {
    key("MetaTabletIdxKey", &[S(iid), I(tablet)])
}

/// `meta schema <index> <schema_version>` → `TabletSchemaCloudPB`.
pub fn tablet_schema(iid: &str, index: i64, schema_version: i64) -> Vec<u8> {
    key("MetaSchemaKey", &[S(iid), I(index), I(schema_version)])
}

/// `meta rowset <tablet> <end_version>` → `RowsetMetaCloudPB`.
pub fn rowset(iid: &str, tablet: i64, version: i64) -> Vec<u8> {
    key("MetaRowsetKey", &[S(iid), I(tablet), I(version)])
}

/// Every visible rowset of one tablet, in version order.
pub fn rowset_prefix(iid: &str, tablet: i64) -> Vec<u8> {
    key("MetaRowsetKey", &[S(iid), I(tablet)])
}

/// `meta rowset_tmp <txn> <tablet>` → `RowsetMetaCloudPB`.
pub fn rowset_tmp(iid: &str, txn: i64, tablet: i64) -> Vec<u8> {
    key("MetaRowsetTmpKey", &[S(iid), I(txn), I(tablet)])
}

/// Every temporary rowset of one txn.
pub fn rowset_tmp_prefix(iid: &str, txn: i64) -> Vec<u8> {
    key("MetaRowsetTmpKey", &[S(iid), I(txn)])
}

/// `stats tablet <table> <index> <partition> <tablet>` → `TabletStatsPB`.
pub fn tablet_stats(iid: &str, at: TabletPlace) -> Vec<u8> {
    key("StatsTabletKey", &at.args(iid))
}

/// `job tablet <table> <index> <partition> <tablet>` → `TabletJobInfoPB`.
pub fn tablet_job(iid: &str, at: TabletPlace) -> Vec<u8> {
    key("JobTabletKey", &at.args(iid))
}

/// metaraft's own: the last transaction id issued, cluster-wide (Doris has FDB versionstamps).
pub fn last_txn_id() -> Vec<u8> {
    system_meta_service_key("metaraft_last_txn_id")
}

/// The int64 element a key ends with (a txn id of `txn_running`, a version of `rowset`, …).
pub fn trailing_int(key: &[u8]) -> Option<i64> {
    let tail: [u8; 8] = key.get(key.len().checked_sub(8)?..)?.try_into().ok()?;
    let tag = *key.get(key.len().checked_sub(9)?)?;
    // Only non-negative ids are written by the load path.
    (tag == POSITIVE_FIXED_INT_TAG).then(|| i64::try_from(u64::from_be_bytes(tail)).ok()).flatten()
}

#[cfg(test)]
mod test {
    use super::*;

    #[test]
    fn every_load_key_has_a_layout_and_round_trips_its_trailing_int() {
        let at = TabletPlace { table: 1, index: 2, partition: 3, tablet: 4 };
        for k in [
            txn_label("i", 1, "l"),
            txn_info("i", 1, 2),
            txn_index("i", 2),
            txn_running("i", 1, 2),
            recycle_txn("i", 1, 2),
            partition_version("i", 1, 2, 3),
            table_version("i", 1, 2),
            tablet_meta("i", at),
            tablet_index("i", 4),
            tablet_schema("i", 2, 0),
            rowset("i", 4, 2),
            rowset_tmp("i", 9, 4),
            tablet_stats("i", at),
            tablet_job("i", at),
        ] {
            assert!(k.len() > 10, "{k:?}");
        }
        assert_eq!(trailing_int(&txn_running("i", 1, 77)), Some(77));
        assert!(txn_running("i", 1, 77).starts_with(&txn_running_prefix("i", 1)));
        assert!(!txn_running("i", 10, 77).starts_with(&txn_running_prefix("i", 1)));
        let from_query = key_type("TxnIndexKey").map(|t| t.encode(&["instance_id_deadbeef", "10003"]));
        assert_eq!(Some(txn_index("instance_id_deadbeef", 10003)), from_query);
    }
}
