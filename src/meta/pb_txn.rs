//! The `cloud.proto` messages of the load path: transactions, tablet indexes and stats,
//! partition versions, compaction jobs, and the requests/responses of the brpc methods that
//! change or read them (`../shared/reference/txn-tablet-rpc.md` §1–§3, field numbers from
//! `gensrc/proto/cloud.proto` @ `1bfa306f`). The tablet meta/schema/rowset messages of
//! `olap_file.proto` are in `pb_tablet`.
//!
//! Not mirrored (unknown to the parser, so dropped like any unknown field):
//! `commit_attachment` (`TxnCommitAttachmentPB`, a large union of load-job progress records) in
//! every message; `CommitTxnRequest.sub_txn_infos` (sub-transactions);
//! `CommitTxnResponse.table_stats`; the schema-change job fields beyond id/initiator/
//! expiration/new tablet/alter version; the newer `index_size`/`segment_size` counters.

use super::error::ServiceCode;
use super::pb_tablet::RowsetMetaCloudPb;
use super::pb_tablet::TabletMetaCloudPb;
use super::schema::proto_enum;
use super::schema::proto_message;

proto_message! {
    /// `MetaServiceResponseStatus`: `status` of every reply.
    pub struct MetaServiceResponseStatus = "doris.cloud.MetaServiceResponseStatus" {
        1 code: optional enum(ServiceCode),
        2 msg: optional string,
    }
}

proto_enum! {
    /// `TxnStatusPB`.
    pub enum TxnStatus = "doris.cloud.TxnStatusPB" {
        Unknown = "TXN_STATUS_UNKNOWN" 0,
        Prepared = "TXN_STATUS_PREPARED" 1,
        Committed = "TXN_STATUS_COMMITTED" 2,
        Visible = "TXN_STATUS_VISIBLE" 3,
        Aborted = "TXN_STATUS_ABORTED" 4,
        Precommitted = "TXN_STATUS_PRECOMMITTED" 5,
    }
}

proto_enum! {
    /// `TxnSourceTypePB` (`UKNOWN` sic).
    pub enum TxnSourceType = "doris.cloud.TxnSourceTypePB" {
        Unknown = "UKNOWN_TXN_SOURCE_TYPE" 0,
        Fe = "TXN_SOURCE_TYPE_FE" 1,
        Be = "TXN_SOURCE_TYPE_BE" 2,
    }
}

proto_enum! {
    /// `LoadJobSourceTypePB`.
    pub enum LoadJobSourceType = "doris.cloud.LoadJobSourceTypePB" {
        Unknown = "LOAD_JOB_SRC_TYPE_UNKNOWN" 0,
        Frontend = "LOAD_JOB_SRC_TYPE_FRONTEND" 1,
        BackendStreaming = "LOAD_JOB_SRC_TYPE_BACKEND_STREAMING" 2,
        InsertStreaming = "LOAD_JOB_SRC_TYPE_INSERT_STREAMING" 3,
        RoutineLoadTask = "LOAD_JOB_SRC_TYPE_ROUTINE_LOAD_TASK" 4,
        BatchLoadJob = "LOAD_JOB_SRC_TYPE_BATCH_LOAD_JOB" 5,
    }
}

proto_message! {
    /// `UniqueIdPB`.
    pub struct UniqueIdPb = "doris.cloud.UniqueIdPB" {
        1 hi: optional int64,
        2 lo: optional int64,
    }
}

proto_message! {
    /// `TxnCoordinatorPB` (`sourceType` is camelCase in the proto).
    #[allow(non_snake_case)]
    pub struct TxnCoordinatorPb = "doris.cloud.TxnCoordinatorPB" {
        1 sourceType: optional enum(TxnSourceType),
        2 ip: optional string,
        3 id: optional int64,
        4 start_time: optional int64,
    }
}

proto_message! {
    /// `TxnInfoPB`, stored under `txn_info`.
    pub struct TxnInfoPb = "doris.cloud.TxnInfoPB" {
        1 db_id: optional int64,
        2 table_ids: repeated int64,
        3 txn_id: optional int64,
        4 label: optional string,
        5 request_id: optional message(UniqueIdPb),
        6 coordinator: optional message(TxnCoordinatorPb),
        7 load_job_source_type: optional enum(LoadJobSourceType),
        8 timeout_ms: optional int64,
        9 precommit_timeout_ms: optional int64,
        10 prepare_time: optional int64,
        11 precommit_time: optional int64,
        12 commit_time: optional int64,
        13 finish_time: optional int64,
        14 reason: optional string,
        15 status: optional enum(TxnStatus),
        17 listener_id: optional int64,
        18 sub_txn_ids: repeated int64,
    }
}

proto_message! {
    /// `TxnLabelPB`, stored under `txn_label` (Doris appends a 10-byte versionstamp; we do not).
    pub struct TxnLabelPb = "doris.cloud.TxnLabelPB" {
        1 txn_ids: repeated int64,
    }
}

proto_message! {
    /// `TabletIndexPB` (cloud): where a tablet lives.
    pub struct TabletIndexPb = "doris.cloud.TabletIndexPB" {
        1 db_id: optional int64,
        2 table_id: optional int64,
        3 index_id: optional int64,
        4 partition_id: optional int64,
        5 tablet_id: optional int64,
    }
}

proto_message! {
    /// `TxnIndexPB`, stored under `txn_index`: txn id → db id.
    pub struct TxnIndexPb = "doris.cloud.TxnIndexPB" {
        1 tablet_index: optional message(TabletIndexPb),
    }
}

proto_message! {
    /// `TxnRunningPB`, stored under `txn_running` while a txn is PREPARED or PRECOMMITTED.
    pub struct TxnRunningPb = "doris.cloud.TxnRunningPB" {
        1 table_ids: repeated int64,
        2 timeout_time: optional int64,
    }
}

proto_message! {
    /// `VersionPB`, stored under `partition_version` (and, for metaraft, `table_version`).
    pub struct VersionPb = "doris.cloud.VersionPB" {
        1 version: optional int64,
        2 update_time_ms: optional int64,
        3 pending_txn_ids: repeated int64,
    }
}

proto_message! {
    /// `RecycleTxnPB`, written when a txn reaches VISIBLE or ABORTED.
    pub struct RecycleTxnPb = "doris.cloud.RecycleTxnPB" {
        1 creation_time: optional int64,
        2 label: optional string,
        3 immediate: optional bool,
    }
}

proto_message! {
    /// `TabletStatsPB`: one merged record per tablet (Doris splits the load counters off).
    pub struct TabletStatsPb = "doris.cloud.TabletStatsPB" {
        1 idx: optional message(TabletIndexPb),
        2 data_size: optional int64,
        3 num_rows: optional int64,
        4 num_rowsets: optional int64,
        5 num_segments: optional int64,
        7 base_compaction_cnt: optional int64,
        8 cumulative_compaction_cnt: optional int64,
        9 cumulative_point: optional int64,
        10 last_base_compaction_time_ms: optional int64,
        11 last_cumu_compaction_time_ms: optional int64,
        12 full_compaction_cnt: optional int64,
        13 last_full_compaction_time_ms: optional int64,
    }
}

proto_enum! {
    /// `TabletCompactionJobPB.CompactionType` (`UNKOWN` sic).
    pub enum CompactionType = "doris.cloud.TabletCompactionJobPB.CompactionType" {
        Unknown = "UNKOWN" 0,
        Base = "BASE" 1,
        Cumulative = "CUMULATIVE" 2,
        EmptyCumulative = "EMPTY_CUMULATIVE" 3,
        Full = "FULL" 4,
    }
}

proto_message! {
    /// `TabletCompactionJobPB`: one running compaction.
    pub struct TabletCompactionJobPb = "doris.cloud.TabletCompactionJobPB" {
        1 initiator: optional string,
        2 ctime: optional int64,
        3 mtime: optional int64,
        4 r#type: optional enum(CompactionType),
        5 input_cumulative_point: optional int64,
        6 output_cumulative_point: optional int64,
        7 num_input_rowsets: optional int64,
        8 num_input_segments: optional int64,
        9 num_output_rowsets: optional int64,
        10 num_output_segments: optional int64,
        11 size_input_rowsets: optional int64,
        12 size_output_rowsets: optional int64,
        13 num_input_rows: optional int64,
        14 num_output_rows: optional int64,
        15 input_versions: repeated int64,
        16 output_versions: repeated int64,
        17 output_rowset_ids: repeated string,
        18 txn_id: repeated int64,
        19 base_compaction_cnt: optional int64,
        20 cumulative_compaction_cnt: optional int64,
        21 id: optional string,
        22 expiration: optional int64,
        23 lease: optional int64,
        24 delete_bitmap_lock_initiator: optional int64,
        25 full_compaction_cnt: optional int64,
        26 check_input_versions_range: optional bool,
    }
}

proto_message! {
    /// `TabletSchemaChangeJobPB` (parsed so a schema-change request is recognised; not run).
    pub struct TabletSchemaChangeJobPb = "doris.cloud.TabletSchemaChangeJobPB" {
        1 initiator: optional string,
        2 id: optional string,
        3 expiration: optional int64,
        4 new_tablet_idx: optional message(TabletIndexPb),
        5 txn_ids: repeated int64,
        6 alter_version: optional int64,
    }
}

proto_message! {
    /// `TabletJobInfoPB`, stored under `job tablet`: the running compactions of one tablet.
    pub struct TabletJobInfoPb = "doris.cloud.TabletJobInfoPB" {
        1 idx: optional message(TabletIndexPb),
        4 compaction: repeated message(TabletCompactionJobPb),
        5 schema_change: optional message(TabletSchemaChangeJobPb),
    }
}

// --- requests and responses -------------------------------------------------------------

proto_message! {
    /// `BeginTxnRequest`.
    pub struct BeginTxnRequest = "doris.cloud.BeginTxnRequest" {
        1 cloud_unique_id: optional string,
        2 txn_info: optional message(TxnInfoPb),
    }
}

proto_message! {
    /// `BeginTxnResponse` (`txn_status` as in the newest Doris; its number is not in the 2024 proto).
    pub struct BeginTxnResponse = "doris.cloud.BeginTxnResponse" {
        1 status: optional message(MetaServiceResponseStatus),
        2 txn_id: optional int64,
        3 dup_txn_id: optional int64,
        4 txn_status: optional enum(TxnStatus),
    }
}

proto_message! {
    /// `PrecommitTxnRequest`.
    pub struct PrecommitTxnRequest = "doris.cloud.PrecommitTxnRequest" {
        1 cloud_unique_id: optional string,
        2 db_id: optional int64,
        3 txn_id: optional int64,
        5 precommit_timeout_ms: optional int64,
    }
}

proto_message! {
    /// `PrecommitTxnResponse`.
    pub struct PrecommitTxnResponse = "doris.cloud.PrecommitTxnResponse" {
        1 status: optional message(MetaServiceResponseStatus),
        2 txn_id: optional int64,
    }
}

proto_message! {
    /// `CommitTxnRequest`.
    pub struct CommitTxnRequest = "doris.cloud.CommitTxnRequest" {
        1 cloud_unique_id: optional string,
        2 db_id: optional int64,
        3 txn_id: optional int64,
        4 is_2pc: optional bool,
        6 mow_table_ids: repeated int64,
        7 base_tablet_ids: repeated int64,
        9 is_txn_load: optional bool,
        11 enable_txn_lazy_commit: optional bool,
    }
}

proto_message! {
    /// `CommitTxnResponse`: one `(table_ids[i], partition_ids[i], versions[i])` per partition.
    pub struct CommitTxnResponse = "doris.cloud.CommitTxnResponse" {
        1 status: optional message(MetaServiceResponseStatus),
        2 txn_info: optional message(TxnInfoPb),
        3 table_ids: repeated int64,
        4 partition_ids: repeated int64,
        5 versions: repeated int64,
        7 version_update_time_ms: optional int64,
    }
}

proto_message! {
    /// `AbortTxnRequest`: by `txn_id`, or by `db_id` + `label`.
    pub struct AbortTxnRequest = "doris.cloud.AbortTxnRequest" {
        1 cloud_unique_id: optional string,
        2 db_id: optional int64,
        3 txn_id: optional int64,
        4 label: optional string,
        5 reason: optional string,
    }
}

proto_message! {
    /// `AbortTxnResponse`.
    pub struct AbortTxnResponse = "doris.cloud.AbortTxnResponse" {
        1 status: optional message(MetaServiceResponseStatus),
        2 txn_info: optional message(TxnInfoPb),
    }
}

proto_message! {
    /// `GetTxnRequest`.
    pub struct GetTxnRequest = "doris.cloud.GetTxnRequest" {
        1 cloud_unique_id: optional string,
        2 db_id: optional int64,
        3 txn_id: optional int64,
        4 label: optional string,
    }
}

proto_message! {
    /// `GetTxnResponse`.
    pub struct GetTxnResponse = "doris.cloud.GetTxnResponse" {
        1 status: optional message(MetaServiceResponseStatus),
        2 txn_info: optional message(TxnInfoPb),
    }
}

proto_message! {
    /// `GetCurrentMaxTxnRequest`.
    pub struct GetCurrentMaxTxnRequest = "doris.cloud.GetCurrentMaxTxnRequest" {
        1 cloud_unique_id: optional string,
    }
}

proto_message! {
    /// `GetCurrentMaxTxnResponse`.
    pub struct GetCurrentMaxTxnResponse = "doris.cloud.GetCurrentMaxTxnResponse" {
        1 status: optional message(MetaServiceResponseStatus),
        2 current_max_txn_id: optional int64,
    }
}

proto_message! {
    /// `GetTxnIdRequest`.
    pub struct GetTxnIdRequest = "doris.cloud.GetTxnIdRequest" {
        1 cloud_unique_id: optional string,
        2 db_id: optional int64,
        3 label: optional string,
        4 txn_status: repeated enum(TxnStatus),
    }
}

proto_message! {
    /// `GetTxnIdResponse`.
    pub struct GetTxnIdResponse = "doris.cloud.GetTxnIdResponse" {
        1 status: optional message(MetaServiceResponseStatus),
        2 txn_id: optional int64,
    }
}

proto_message! {
    /// `CheckTxnConflictRequest`.
    pub struct CheckTxnConflictRequest = "doris.cloud.CheckTxnConflictRequest" {
        1 cloud_unique_id: optional string,
        2 db_id: optional int64,
        3 end_txn_id: optional int64,
        4 table_ids: repeated int64,
        5 ignore_timeout_txn: optional bool,
    }
}

proto_message! {
    /// `CheckTxnConflictResponse`.
    pub struct CheckTxnConflictResponse = "doris.cloud.CheckTxnConflictResponse" {
        1 status: optional message(MetaServiceResponseStatus),
        2 finished: optional bool,
        3 conflict_txns: repeated message(TxnInfoPb),
    }
}

proto_message! {
    /// `CleanTxnLabelRequest`.
    pub struct CleanTxnLabelRequest = "doris.cloud.CleanTxnLabelRequest" {
        1 cloud_unique_id: optional string,
        2 db_id: optional int64,
        3 labels: repeated string,
    }
}

proto_message! {
    /// A reply that is only a status (`CleanTxnLabelResponse`, `UpdateTabletResponse`,
    /// `CreateRowsetResponse` without a conflict, `StartTabletJobResponse` without ranges…).
    pub struct StatusResponse = "doris.cloud.MetaServiceGenericResponse" {
        1 status: optional message(MetaServiceResponseStatus),
    }
}

proto_message! {
    /// `CreateTabletsRequest`.
    pub struct CreateTabletsRequest = "doris.cloud.CreateTabletsRequest" {
        1 cloud_unique_id: optional string,
        2 tablet_metas: repeated message(TabletMetaCloudPb),
        3 storage_vault_name: optional string,
        4 db_id: optional int64,
    }
}

proto_message! {
    /// `CreateTabletsResponse`.
    pub struct CreateTabletsResponse = "doris.cloud.CreateTabletsResponse" {
        1 status: optional message(MetaServiceResponseStatus),
        2 storage_vault_id: optional string,
        3 storage_vault_name: optional string,
    }
}

proto_message! {
    /// `GetTabletRequest`.
    pub struct GetTabletRequest = "doris.cloud.GetTabletRequest" {
        1 cloud_unique_id: optional string,
        2 tablet_id: optional int64,
    }
}

proto_message! {
    /// `GetTabletResponse`.
    pub struct GetTabletResponse = "doris.cloud.GetTabletResponse" {
        1 status: optional message(MetaServiceResponseStatus),
        2 tablet_meta: optional message(TabletMetaCloudPb),
    }
}

proto_message! {
    /// `TabletMetaInfoPB`: one property of one tablet (only the first present field applies).
    pub struct TabletMetaInfoPb = "doris.cloud.TabletMetaInfoPB" {
        1 tablet_id: optional int64,
        2 is_in_memory: optional bool,
        3 is_persistent: optional bool,
        4 ttl_seconds: optional int64,
        5 group_commit_interval_ms: optional int64,
        6 group_commit_data_bytes: optional int64,
        7 compaction_policy: optional string,
        8 time_series_compaction_goal_size_mbytes: optional int64,
        9 time_series_compaction_file_count_threshold: optional int64,
        10 time_series_compaction_time_threshold_seconds: optional int64,
        11 time_series_compaction_empty_rowsets_threshold: optional int64,
        12 time_series_compaction_level_threshold: optional int64,
        13 disable_auto_compaction: optional bool,
        14 enable_mow_light_delete: optional bool,
    }
}

proto_message! {
    /// `UpdateTabletRequest`.
    pub struct UpdateTabletRequest = "doris.cloud.UpdateTabletRequest" {
        1 cloud_unique_id: optional string,
        2 tablet_meta_infos: repeated message(TabletMetaInfoPb),
    }
}

proto_message! {
    /// `GetTabletStatsRequest`.
    pub struct GetTabletStatsRequest = "doris.cloud.GetTabletStatsRequest" {
        1 cloud_unique_id: optional string,
        2 tablet_idx: repeated message(TabletIndexPb),
    }
}

proto_message! {
    /// `GetTabletStatsResponse`.
    pub struct GetTabletStatsResponse = "doris.cloud.GetTabletStatsResponse" {
        1 status: optional message(MetaServiceResponseStatus),
        2 tablet_stats: repeated message(TabletStatsPb),
    }
}

proto_message! {
    /// `GetVersionRequest`: one partition (or table), or a batch.
    pub struct GetVersionRequest = "doris.cloud.GetVersionRequest" {
        1 cloud_unique_id: optional string,
        2 db_id: optional int64,
        3 table_id: optional int64,
        4 partition_id: optional int64,
        5 batch_mode: optional bool,
        6 db_ids: repeated int64,
        7 table_ids: repeated int64,
        8 partition_ids: repeated int64,
        9 is_table_version: optional bool,
    }
}

proto_message! {
    /// `GetVersionResponse`.
    pub struct GetVersionResponse = "doris.cloud.GetVersionResponse" {
        1 status: optional message(MetaServiceResponseStatus),
        2 version: optional int64,
        3 db_ids: repeated int64,
        4 table_ids: repeated int64,
        5 partition_ids: repeated int64,
        6 versions: repeated int64,
        7 version_update_time_ms: repeated int64,
    }
}

proto_message! {
    /// `CreateRowsetRequest` (`prepare_rowset`, `commit_rowset`).
    pub struct CreateRowsetRequest = "doris.cloud.CreateRowsetRequest" {
        1 cloud_unique_id: optional string,
        2 rowset_meta: optional message(RowsetMetaCloudPb),
        3 temporary: optional bool,
        4 txn_id: optional int64,
    }
}

proto_message! {
    /// `CreateRowsetResponse`.
    pub struct CreateRowsetResponse = "doris.cloud.CreateRowsetResponse" {
        1 status: optional message(MetaServiceResponseStatus),
        2 existed_rowset_meta: optional message(RowsetMetaCloudPb),
    }
}

proto_message! {
    /// `StartTabletJobRequest`.
    pub struct StartTabletJobRequest = "doris.cloud.StartTabletJobRequest" {
        1 cloud_unique_id: optional string,
        2 job: optional message(TabletJobInfoPb),
    }
}

proto_message! {
    /// `StartTabletJobResponse`.
    pub struct StartTabletJobResponse = "doris.cloud.StartTabletJobResponse" {
        1 status: optional message(MetaServiceResponseStatus),
        2 version_in_compaction: repeated int64,
        3 alter_version: optional int64,
    }
}

proto_enum! {
    /// `FinishTabletJobRequest.JobAction` (`UNKONWN` sic).
    pub enum JobAction = "doris.cloud.FinishTabletJobRequest.JobAction" {
        Unknown = "UNKONWN" 0,
        Commit = "COMMIT" 1,
        Abort = "ABORT" 2,
        Lease = "LEASE" 3,
    }
}

proto_message! {
    /// `FinishTabletJobRequest` (also the body of the HTTP `abort_tablet_job`).
    pub struct FinishTabletJobRequest = "doris.cloud.FinishTabletJobRequest" {
        1 cloud_unique_id: optional string,
        2 action: optional enum(JobAction),
        3 job: optional message(TabletJobInfoPb),
    }
}

proto_message! {
    /// `FinishTabletJobResponse`.
    pub struct FinishTabletJobResponse = "doris.cloud.FinishTabletJobResponse" {
        1 status: optional message(MetaServiceResponseStatus),
        2 stats: optional message(TabletStatsPb),
        3 alter_version: optional int64,
    }
}
