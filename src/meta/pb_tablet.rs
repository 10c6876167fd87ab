//! The `olap_file.proto` messages (package `doris`) the load path stores: tablet meta, tablet
//! schema, columns, schema indexes and rowset meta, mirrored from `gensrc/proto/olap_file.proto`
//! @ `012257c1` (field names, numbers and types; fields in number order).
//!
//! Not mirrored (unknown to the parser, so dropped): `bytes`/`double`/`uint32` fields
//! (`ColumnPB.default_value`, `TabletSchemaCloudPB.bf_fpp`, `next_column_unique_id`); fields whose
//! message or enum lives in another proto file or is not stored here (`compress_kind`,
//! `compression_type`, `column_path_info`, `zone_maps`, `delete_predicate`, `load_id`,
//! `tablet_uid`, `segments_key_bounds`, `alter_task`, `delete_bitmap`, `binlog_config`,
//! `cooldown_meta_id`, `encryption_algorithm`, `seq_map`, `inverted_index_file_info`,
//! `schema_dict_key_list`, `packed_slice_locations`, `__split_schema`, `inc_rs_metas`,
//! `stale_rs_metas`); and the self-referencing `ColumnPB.children_columns` / `sparse_columns`.

use super::schema::proto_enum;
use super::schema::proto_message;

proto_enum! {
    /// `KeysType`.
    #[allow(clippy::enum_variant_names)]
    pub enum KeysType = "doris.KeysType" {
        DupKeys = "DUP_KEYS" 0,
        UniqueKeys = "UNIQUE_KEYS" 1,
        AggKeys = "AGG_KEYS" 2,
    }
}

proto_enum! {
    /// `TabletStatePB`.
    pub enum TabletState = "doris.TabletStatePB" {
        NotReady = "PB_NOTREADY" 0,
        Running = "PB_RUNNING" 1,
        Tombstoned = "PB_TOMBSTONED" 2,
        Stopped = "PB_STOPPED" 3,
        Shutdown = "PB_SHUTDOWN" 4,
    }
}

proto_enum! {
    /// `RowsetTypePB`.
    pub enum RowsetType = "doris.RowsetTypePB" {
        Alpha = "ALPHA_ROWSET" 0,
        Beta = "BETA_ROWSET" 1,
    }
}

proto_enum! {
    /// `RowsetStatePB`.
    pub enum RowsetState = "doris.RowsetStatePB" {
        Prepared = "PREPARED" 0,
        Committed = "COMMITTED" 1,
        Visible = "VISIBLE" 2,
        BeginPartialUpdate = "BEGIN_PARTIAL_UPDATE" 10000,
    }
}

proto_enum! {
    /// `SegmentsOverlapPB`.
    pub enum SegmentsOverlap = "doris.SegmentsOverlapPB" {
        Unknown = "OVERLAP_UNKNOWN" 0,
        Overlapping = "OVERLAPPING" 1,
        NonOverlapping = "NONOVERLAPPING" 2,
    }
}

proto_enum! {
    /// `SortType`.
    pub enum SortType = "doris.SortType" {
        Lexical = "LEXICAL" 0,
        Zorder = "ZORDER" 1,
    }
}

proto_enum! {
    /// `IndexType`.
    pub enum IndexType = "doris.IndexType" {
        Bitmap = "BITMAP" 0,
        Inverted = "INVERTED" 1,
        BloomFilter = "BLOOMFILTER" 2,
        NgramBf = "NGRAM_BF" 3,
        Ann = "ANN" 4,
    }
}

proto_enum! {
    /// `InvertedIndexStorageFormatPB`.
    pub enum InvertedIndexStorageFormat = "doris.InvertedIndexStorageFormatPB" {
        V1 = "V1" 0,
        V2 = "V2" 1,
        V3 = "V3" 2,
    }
}

proto_enum! {
    /// `TabletTypePB`.
    pub enum TabletType = "doris.TabletTypePB" {
        Disk = "TABLET_TYPE_DISK" 0,
        Memory = "TABLET_TYPE_MEMORY" 1,
    }
}

proto_enum! {
    /// `PatternTypePB`.
    pub enum PatternType = "doris.PatternTypePB" {
        MatchName = "MATCH_NAME" 1,
        MatchNameGlob = "MATCH_NAME_GLOB" 2,
    }
}

proto_message! {
    /// `ColumnPB`: one column of a schema (`unique_id` and `type` are required).
    pub struct ColumnPb = "doris.ColumnPB" {
        1 unique_id: required int32,
        2 name: optional string,
        3 r#type: required string,
        4 is_key: optional bool,
        5 aggregation: optional string,
        6 is_nullable: optional bool,
        8 precision: optional int32,
        9 frac: optional int32,
        10 length: optional int32,
        11 index_length: optional int32,
        12 is_bf_column: optional bool,
        13 referenced_column_id: optional int32,
        14 referenced_column: optional string,
        15 has_bitmap_index: optional bool,
        16 visible: optional bool,
        18 children_column_names: repeated string,
        19 result_is_nullable: optional bool,
        22 is_auto_increment: optional bool,
        23 parent_unique_id: optional int32,
        24 be_exec_version: optional int32,
        25 variant_max_subcolumns_count: optional int32,
        26 pattern_type: optional enum(PatternType),
        27 variant_enable_typed_paths_to_sparse: optional bool,
        28 is_on_update_current_timestamp: optional bool,
        29 variant_max_sparse_column_statistics_size: optional int32,
        30 variant_sparse_hash_shard_count: optional int32,
    }
}

proto_message! {
    /// `doris.TabletIndexPB`: an inverted/bitmap/bloom-filter index of a schema (not the cloud
    /// tablet index).
    pub struct TabletSchemaIndexPb = "doris.TabletIndexPB" {
        1 index_id: optional int64,
        2 index_name: optional string,
        3 index_type: optional enum(IndexType),
        4 col_unique_id: repeated int32,
        5 properties: map string,
        6 index_suffix_name: optional string,
    }
}

proto_message! {
    /// `TabletSchemaCloudPB`, stored under `meta schema <index_id> <schema_version>`.
    pub struct TabletSchemaCloudPb = "doris.TabletSchemaCloudPB" {
        1 keys_type: optional enum(KeysType),
        2 column: repeated message(ColumnPb),
        3 num_short_key_columns: optional int32,
        4 num_rows_per_row_block: optional int32,
        8 delete_sign_idx: optional int32,
        9 sequence_col_idx: optional int32,
        10 sort_type: optional enum(SortType),
        11 sort_col_num: optional int32,
        13 schema_version: optional int32,
        14 disable_auto_compaction: optional bool,
        15 index: repeated message(TabletSchemaIndexPb),
        16 version_col_idx: optional int32,
        18 store_row_column: optional bool,
        22 enable_single_replica_compaction: optional bool,
        23 skip_write_index_on_load: optional bool,
        24 cluster_key_uids: repeated int32,
        25 inverted_index_storage_format: optional enum(InvertedIndexStorageFormat),
        26 row_store_column_unique_ids: repeated int32,
        27 row_store_page_size: optional int64,
        29 enable_variant_flatten_nested: optional bool,
        30 skip_bitmap_col_idx: optional int32,
        31 storage_page_size: optional int64,
        32 storage_dict_page_size: optional int64,
        33 is_external_segment_column_meta_used: optional bool,
        34 integer_type_default_use_plain_encoding: optional bool,
        100 is_dynamic_schema: optional bool,
        200 is_in_memory: optional bool,
    }
}

proto_message! {
    /// `RowsetMetaCloudPB` (`rowset_id` is required and deprecated: FE sends 0).
    pub struct RowsetMetaCloudPb = "doris.RowsetMetaCloudPB" {
        1 rowset_id: required int64,
        2 partition_id: optional int64,
        3 tablet_id: optional int64,
        4 txn_id: optional int64,
        5 tablet_schema_hash: optional int32,
        6 rowset_type: optional enum(RowsetType),
        7 rowset_state: optional enum(RowsetState),
        8 start_version: optional int64,
        9 end_version: optional int64,
        10 version_hash: optional int64,
        11 num_rows: optional int64,
        12 total_disk_size: optional int64,
        13 data_disk_size: optional int64,
        14 index_disk_size: optional int64,
        17 empty: optional bool,
        19 delete_flag: optional bool,
        20 creation_time: optional int64,
        22 num_segments: optional int64,
        23 rowset_id_v2: optional string,
        24 resource_id: optional string,
        26 newest_write_timestamp: optional int64,
        28 tablet_schema: optional message(TabletSchemaCloudPb),
        29 txn_expiration: optional int64,
        51 segments_overlap_pb: optional enum(SegmentsOverlap),
        52 compaction_level: optional int64,
        53 source_tablet_id: optional int64,
        54 source_rowset_id: optional string,
        55 segments_key_bounds_truncated: optional bool,
        56 num_segment_rows: repeated int64,
        100 segments_file_size: repeated int64,
        101 index_id: optional int64,
        102 schema_version: optional int32,
        103 enable_segments_file_size: optional bool,
        104 has_variant_type_in_schema: optional bool,
        106 enable_inverted_index_file_info: optional bool,
        109 visible_ts_ms: optional int64,
        110 reference_instance_id: optional string,
        112 is_recycled: optional bool,
        113 job_id: optional string,
    }
}

proto_message! {
    /// `TabletMetaCloudPB`, stored under `meta tablet …` with `schema` and `rs_metas` detached.
    pub struct TabletMetaCloudPb = "doris.TabletMetaCloudPB" {
        1 table_id: optional int64,
        2 partition_id: optional int64,
        3 tablet_id: optional int64,
        4 schema_hash: optional int32,
        5 shard_id: optional int32,
        6 creation_time: optional int64,
        7 cumulative_layer_point: optional int64,
        8 tablet_state: optional enum(TabletState),
        9 schema: optional message(TabletSchemaCloudPb),
        10 rs_metas: repeated message(RowsetMetaCloudPb),
        13 in_restore_mode: optional bool,
        15 end_rowset_id: optional int64,
        16 preferred_rowset_type: optional enum(RowsetType),
        17 tablet_type: optional enum(TabletType),
        21 replica_id: optional int64,
        24 enable_unique_key_merge_on_write: optional bool,
        25 index_id: optional int64,
        26 is_in_memory: optional bool,
        27 is_persistent: optional bool,
        28 storage_policy_id: optional int64,
        31 compaction_policy: optional string,
        32 time_series_compaction_goal_size_mbytes: optional int64,
        33 time_series_compaction_file_count_threshold: optional int64,
        34 time_series_compaction_time_threshold_seconds: optional int64,
        37 time_series_compaction_empty_rowsets_threshold: optional int64,
        38 time_series_compaction_level_threshold: optional int64,
        101 table_name: optional string,
        102 ttl_seconds: optional int64,
        103 schema_version: optional int32,
    }
}
