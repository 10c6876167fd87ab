//! The Doris protobuf messages metaraft stores and exchanges, mirrored from
//! `gensrc/proto/cloud.proto` (names, numbers and types). Stored records are these structs,
//! encoded with the raft codec; replies print them through their schema.
//!
//! Not mirrored yet: `InstanceInfoPB.migrated_key_sets`/`compacted_key_sets` (119/120) and the
//! snapshot size counters (121/122); unknown to the parser, they are ignored like any unknown field.

use super::schema::proto_enum;
use super::schema::proto_message;

proto_message! {
    /// `EncryptionInfoPB`: how a stored secret is encrypted.
    pub struct EncryptionInfoPb = "doris.cloud.EncryptionInfoPB" {
        1 encryption_method: optional string,
        2 key_id: optional int64,
    }
}

proto_message! {
    /// `RamUserPB`: credentials of a RAM (sub-account) user.
    pub struct RamUserPb = "doris.cloud.RamUserPB" {
        1 user_id: optional string,
        2 ak: optional string,
        3 sk: optional string,
        4 external_id: optional string,
        6 encryption_info: optional message(EncryptionInfoPb),
    }
}

proto_enum! {
    /// `InstanceInfoPB.Status`.
    pub enum InstanceStatus = "doris.cloud.InstanceInfoPB.Status" {
        Normal = "NORMAL" 0,
        Deleted = "DELETED" 1,
        Overdue = "OVERDUE" 2,
    }
}

proto_enum! {
    /// `MultiVersionStatus`.
    pub enum MultiVersionStatus = "doris.cloud.MultiVersionStatus" {
        Disabled = "MULTI_VERSION_DISABLED" 0,
        WriteOnly = "MULTI_VERSION_WRITE_ONLY" 1,
        ReadWrite = "MULTI_VERSION_READ_WRITE" 2,
        Enabled = "MULTI_VERSION_ENABLED" 3,
    }
}

proto_enum! {
    /// `SnapshotSwitchStatus`.
    pub enum SnapshotSwitchStatus = "doris.cloud.SnapshotSwitchStatus" {
        Disabled = "SNAPSHOT_SWITCH_DISABLED" 0,
        Off = "SNAPSHOT_SWITCH_OFF" 1,
        On = "SNAPSHOT_SWITCH_ON" 2,
    }
}

proto_enum! {
    /// `ClusterStatus` (there is no `STOPPED`, whatever the public doc says).
    pub enum ClusterStatus = "doris.cloud.ClusterStatus" {
        Unknown = "UNKNOWN" 0,
        Normal = "NORMAL" 1,
        Suspended = "SUSPENDED" 2,
        ToResume = "TO_RESUME" 3,
        ManualShutdown = "MANUAL_SHUTDOWN" 4,
    }
}

proto_enum! {
    /// `ClusterPB.Type`.
    pub enum ClusterType = "doris.cloud.ClusterPB.Type" {
        Sql = "SQL" 0,
        Compute = "COMPUTE" 1,
        Virtual = "VIRTUAL" 2,
    }
}

proto_enum! {
    /// `ClusterPolicy.PolicyType`.
    pub enum PolicyType = "doris.cloud.ClusterPolicy.PolicyType" {
        ActiveStandby = "ActiveStandby" 0,
    }
}

proto_enum! {
    /// `NodeInfoPB.NodeType`.
    pub enum NodeType = "doris.cloud.NodeInfoPB.NodeType" {
        Unknown = "UNKNOWN" 0,
        FeMaster = "FE_MASTER" 1,
        FeObserver = "FE_OBSERVER" 2,
        FeFollower = "FE_FOLLOWER" 3,
    }
}

proto_enum! {
    /// `NodeStatusPB`.
    pub enum NodeStatus = "doris.cloud.NodeStatusPB" {
        Unknown = "NODE_STATUS_UNKNOWN" 0,
        Running = "NODE_STATUS_RUNNING" 1,
        Shutdown = "NODE_STATUS_SHUTDOWN" 2,
        Decommissioning = "NODE_STATUS_DECOMMISSIONING" 3,
        Decommissioned = "NODE_STATUS_DECOMMISSIONED" 4,
    }
}

proto_enum! {
    /// `CredProviderTypePB` (no zero value in Doris either).
    pub enum CredProviderType = "doris.cloud.CredProviderTypePB" {
        Default = "DEFAULT" 1,
        Simple = "SIMPLE" 2,
        InstanceProfile = "INSTANCE_PROFILE" 3,
    }
}

proto_enum! {
    /// `ObjectStoreInfoPB.Provider` (`UNKONWN` is Doris's spelling).
    pub enum Provider = "doris.cloud.ObjectStoreInfoPB.Provider" {
        Unkonwn = "UNKONWN" -1,
        Oss = "OSS" 0,
        S3 = "S3" 1,
        Cos = "COS" 2,
        Obs = "OBS" 3,
        Bos = "BOS" 4,
        Gcp = "GCP" 5,
        Azure = "AZURE" 6,
        Tos = "TOS" 7,
    }
}

proto_enum! {
    /// `StagePB.StageType`.
    pub enum StageType = "doris.cloud.StagePB.StageType" {
        Internal = "INTERNAL" 0,
        External = "EXTERNAL" 1,
    }
}

proto_enum! {
    /// `StagePB.StageAccessType`.
    pub enum StageAccessType = "doris.cloud.StagePB.StageAccessType" {
        Unknown = "UNKNOWN" 0,
        Aksk = "AKSK" 1,
        Iam = "IAM" 2,
        BucketAcl = "BUCKET_ACL" 3,
    }
}

proto_message! {
    /// `ObjectStoreInfoPB`: one object-store location and its credentials.
    pub struct ObjectStoreInfoPb = "doris.cloud.ObjectStoreInfoPB" {
        1 ctime: optional int64,
        2 mtime: optional int64,
        3 id: optional string,
        4 ak: optional string,
        5 sk: optional string,
        6 bucket: optional string,
        7 prefix: optional string,
        8 endpoint: optional string,
        9 region: optional string,
        10 provider: optional enum(Provider),
        11 external_endpoint: optional string,
        13 user_id: optional string,
        14 encryption_info: optional message(EncryptionInfoPb),
        15 sse_enabled: optional bool,
        16 use_path_style: optional bool,
        17 cred_provider_type: optional enum(CredProviderType),
        18 role_arn: optional string,
        19 external_id: optional string,
    }
}

proto_message! {
    /// `HdfsBuildConf.HdfsConfKVPair`: both fields are proto2 `required`.
    pub struct HdfsConfKvPair = "doris.cloud.HdfsBuildConf.HdfsConfKVPair" {
        1 key: required string,
        2 value: required string,
    }
}

proto_message! {
    /// `HdfsBuildConf`: how to reach an HDFS cluster.
    pub struct HdfsBuildConf = "doris.cloud.HdfsBuildConf" {
        1 fs_name: optional string,
        2 user: optional string,
        3 hdfs_kerberos_principal: optional string,
        4 hdfs_kerberos_keytab: optional string,
        5 hdfs_confs: repeated message(HdfsConfKvPair),
    }
}

proto_message! {
    /// `HdfsVaultInfo`.
    pub struct HdfsVaultInfo = "doris.cloud.HdfsVaultInfo" {
        1 build_conf: optional message(HdfsBuildConf),
        2 prefix: optional string,
    }
}

proto_message! {
    /// `StorageVaultPB.PathFormat`.
    pub struct PathFormat = "doris.cloud.StorageVaultPB.PathFormat" {
        1 path_version: optional int64,
        2 shard_num: optional int64,
    }
}

proto_message! {
    /// `StorageVaultPB`: a named storage location (HDFS or object store).
    pub struct StorageVaultPb = "doris.cloud.StorageVaultPB" {
        1 id: optional string,
        2 name: optional string,
        3 hdfs_info: optional message(HdfsVaultInfo),
        4 obj_info: optional message(ObjectStoreInfoPb),
        5 path_format: optional message(PathFormat),
        6 alter_name: optional string,
    }
}

proto_message! {
    /// `NodeInfoPB`: one FE or BE node of a cluster.
    pub struct NodeInfoPb = "doris.cloud.NodeInfoPB" {
        1 cloud_unique_id: optional string,
        2 name: optional string,
        3 ip: optional string,
        4 vpc_name: optional string,
        5 ctime: optional int64,
        6 mtime: optional int64,
        7 status: optional enum(NodeStatus),
        8 heartbeat_port: optional int32,
        9 desc: optional string,
        10 edit_log_port: optional int32,
        11 node_type: optional enum(NodeType),
        12 is_smooth_upgrade: optional bool,
        13 host: optional string,
        14 public_endpoint: optional string,
        15 private_endpoint: optional string,
    }
}

proto_message! {
    /// `ClusterPolicy` (virtual clusters).
    pub struct ClusterPolicy = "doris.cloud.ClusterPolicy" {
        1 r#type: optional enum(PolicyType),
        2 active_cluster_name: optional string,
        3 standby_cluster_names: repeated string,
        4 failover_failure_threshold: optional int64,
        5 unhealthy_node_threshold_percent: optional int64,
        6 cache_warmup_jobids: repeated string,
    }
}

proto_message! {
    /// `ClusterPB`: a SQL (FE) or compute (BE) cluster.
    pub struct ClusterPb = "doris.cloud.ClusterPB" {
        1 cluster_id: optional string,
        2 cluster_name: optional string,
        3 r#type: optional enum(ClusterType),
        4 desc: optional string,
        5 nodes: repeated message(NodeInfoPb),
        6 mysql_user_name: repeated string,
        7 public_endpoint: optional string,
        8 private_endpoint: optional string,
        9 cluster_status: optional enum(ClusterStatus),
        10 ctime: optional int64,
        11 mtime: optional int64,
        12 cluster_names: repeated string,
        13 cluster_policy: optional message(ClusterPolicy),
        14 properties: map string,
    }
}

proto_message! {
    /// `StagePB`: an internal or external stage.
    pub struct StagePb = "doris.cloud.StagePB" {
        1 r#type: optional enum(StageType),
        2 mysql_user_name: repeated string,
        3 name: optional string,
        6 obj_info: optional message(ObjectStoreInfoPb),
        7 stage_id: optional string,
        8 properties: map string,
        9 mysql_user_id: repeated string,
        10 comment: optional string,
        11 create_time: optional int64,
        12 access_type: optional enum(StageAccessType),
        13 role_name: optional string,
        14 arn: optional string,
        15 external_id: optional string,
    }
}

proto_message! {
    /// `InstanceInfoPB`: the instance record, stored under `instance_key`.
    pub struct InstanceInfoPb = "doris.cloud.InstanceInfoPB" {
        1 user_id: optional string,
        2 instance_id: optional string,
        3 name: optional string,
        4 lb_ip: repeated string,
        5 ctime: optional int64,
        6 mtime: optional int64,
        7 clusters: repeated message(ClusterPb),
        8 obj_info: repeated message(ObjectStoreInfoPb),
        9 stages: repeated message(StagePb),
        10 status: optional enum(InstanceStatus),
        11 ram_user: optional message(RamUserPb),
        12 iam_user: optional message(RamUserPb),
        13 sse_enabled: optional bool,
        100 resource_ids: repeated string,
        101 storage_vault_names: repeated string,
        102 default_storage_vault_id: optional string,
        103 default_storage_vault_name: optional string,
        104 enable_storage_vault: optional bool,
        110 multi_version_status: optional enum(MultiVersionStatus),
        111 snapshot_switch_status: optional enum(SnapshotSwitchStatus),
        112 source_instance_id: optional string,
        113 source_snapshot_id: optional string,
        114 original_instance_id: optional string,
        115 successor_instance_id: optional string,
        116 ready_only: optional bool,
        117 max_reserved_snapshot: optional int64,
        118 snapshot_interval_seconds: optional int64,
    }
}

proto_message! {
    /// `CreateInstanceRequest`.
    pub struct CreateInstanceRequest = "doris.cloud.CreateInstanceRequest" {
        1 instance_id: optional string,
        2 user_id: optional string,
        3 name: optional string,
        4 obj_info: optional message(ObjectStoreInfoPb),
        5 ram_user: optional message(RamUserPb),
        6 sse_enabled: optional bool,
        7 vault: optional message(StorageVaultPb),
        8 request_ip: optional string,
    }
}

proto_enum! {
    /// `AlterClusterRequest.Operation` (overwritten by the route; parsed only).
    pub enum AlterClusterOp = "doris.cloud.AlterClusterRequest.Operation" {
        UnknownOp = "UNKNOWN_OP" 0,
        AddCluster = "ADD_CLUSTER" 1,
        DropCluster = "DROP_CLUSTER" 2,
        AddNode = "ADD_NODE" 3,
        DropNode = "DROP_NODE" 4,
        RenameCluster = "RENAME_CLUSTER" 5,
        UpdateClusterMysqlUserName = "UPDATE_CLUSTER_MYSQL_USER_NAME" 6,
        DecommissionNode = "DECOMMISSION_NODE" 7,
        NotifyDecommissioned = "NOTIFY_DECOMMISSIONED" 8,
        UpdateClusterEndpoint = "UPDATE_CLUSTER_ENDPOINT" 9,
        SetClusterStatus = "SET_CLUSTER_STATUS" 10,
        AlterVclusterInfo = "ALTER_VCLUSTER_INFO" 11,
    }
}

proto_message! {
    /// `AlterClusterRequest`: the body of every cluster/node write route.
    pub struct AlterClusterRequest = "doris.cloud.AlterClusterRequest" {
        1 instance_id: optional string,
        2 cloud_unique_id: optional string,
        3 cluster: optional message(ClusterPb),
        4 op: optional enum(AlterClusterOp),
        5 replace_if_existing_empty_target_cluster: optional bool,
        6 request_ip: optional string,
    }
}

proto_message! {
    /// `GetClusterRequest`.
    pub struct GetClusterRequest = "doris.cloud.GetClusterRequest" {
        1 instance_id: optional string,
        2 cloud_unique_id: optional string,
        3 cluster_id: optional string,
        4 cluster_name: optional string,
        5 mysql_user_name: optional string,
    }
}

proto_message! {
    /// `GetClusterStatusRequest`.
    pub struct GetClusterStatusRequest = "doris.cloud.GetClusterStatusRequest" {
        1 instance_ids: repeated string,
        2 cloud_unique_ids: repeated string,
        3 status: optional enum(ClusterStatus),
    }
}

#[cfg(test)]
mod test {
    use super::super::schema::Label;
    use super::super::schema::MessageSchema;
    use super::super::schema::ProtoMessage;
    use super::*;

    fn all_schemas() -> Vec<&'static MessageSchema> {
        vec![
            EncryptionInfoPb::SCHEMA,
            RamUserPb::SCHEMA,
            ObjectStoreInfoPb::SCHEMA,
            HdfsConfKvPair::SCHEMA,
            HdfsBuildConf::SCHEMA,
            HdfsVaultInfo::SCHEMA,
            PathFormat::SCHEMA,
            StorageVaultPb::SCHEMA,
            NodeInfoPb::SCHEMA,
            ClusterPolicy::SCHEMA,
            ClusterPb::SCHEMA,
            StagePb::SCHEMA,
            InstanceInfoPb::SCHEMA,
            CreateInstanceRequest::SCHEMA,
            AlterClusterRequest::SCHEMA,
            GetClusterRequest::SCHEMA,
            GetClusterStatusRequest::SCHEMA,
        ]
    }

    #[test]
    fn fields_are_in_number_order_and_unique() {
        for schema in all_schemas() {
            let numbers: Vec<u32> = schema.fields.iter().map(|f| f.number).collect();
            let mut sorted = numbers.clone();
            sorted.sort_unstable();
            sorted.dedup();
            assert_eq!(numbers, sorted, "{}", schema.full_name);
        }
    }

    #[test]
    fn schema_names_match_serde_names() {
        // Every schema field must be a key of the struct's serde form, and vice versa.
        fn check<T: ProtoMessage + Default>() {
            let value = serde_json::to_value(T::default()).unwrap();
            let keys: Vec<&String> = value.as_object().unwrap().keys().collect();
            let mut names: Vec<&str> = T::SCHEMA.fields.iter().map(|f| f.name()).collect();
            names.sort_unstable();
            let mut keys: Vec<&str> = keys.iter().map(|k| k.as_str()).collect();
            keys.sort_unstable();
            assert_eq!(keys, names, "{}", T::SCHEMA.full_name);
        }
        check::<EncryptionInfoPb>();
        check::<RamUserPb>();
        check::<ObjectStoreInfoPb>();
        check::<HdfsConfKvPair>();
        check::<HdfsBuildConf>();
        check::<HdfsVaultInfo>();
        check::<PathFormat>();
        check::<StorageVaultPb>();
        check::<NodeInfoPb>();
        check::<ClusterPolicy>();
        check::<ClusterPb>();
        check::<StagePb>();
        check::<InstanceInfoPb>();
        check::<CreateInstanceRequest>();
        check::<AlterClusterRequest>();
        check::<GetClusterRequest>();
        check::<GetClusterStatusRequest>();
    }

    #[test]
    fn json_names_are_lower_camel_case() {
        let f = InstanceInfoPb::SCHEMA.field("storageVaultNames").unwrap();
        assert_eq!(f.name(), "storage_vault_names");
        assert_eq!(f.label, Label::Repeated);
        assert_eq!(ClusterPb::SCHEMA.field("type").unwrap().name(), "type");
    }
}
