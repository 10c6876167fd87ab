//! The Doris routes from the command line: `ctl instance …`, `ctl storage …`, `ctl cluster …`
//! (nodes included), `ctl key …` in friendly forms, and `ctl call ROUTE` for any route as is. Each
//! friendly form only builds a [`DorisCall`] (route, query, body); sending, error handling and
//! printing are shared. Bodies are typed by the route's protobuf schema (`fields.rs`), so
//! `--set FIELD=VALUE` reaches every field a form has no option for.

use clap::Subcommand;
use clap::ValueEnum;
use serde_json::Map;
use serde_json::Value;

use super::fields;
use super::CtlError;
use crate::api::DorisRoute;
use crate::api::DORIS_ROUTES;
use crate::meta::pb::ClusterPb;
use crate::meta::pb::NodeInfoPb;
use crate::meta::pb::ObjectStoreInfoPb;
use crate::meta::pb::RamUserPb;
use crate::meta::schema::MessageSchema;
use crate::meta::schema::ProtoMessage as _;

/// One request to a Doris route.
pub struct DorisCall {
    pub route: &'static DorisRoute,
    pub query: Vec<(String, String)>,
    pub body: Option<Value>,
}

impl DorisCall {
    fn new(name: &str) -> Result<Self, CtlError> {
        let route = DORIS_ROUTES.iter().find(|r| r.name == name).ok_or_else(|| {
            let names: Vec<&str> = DORIS_ROUTES.iter().map(|r| r.name).collect();
            CtlError::Usage(format!("no Doris route {name:?} (routes: {})", names.join(", ")))
        })?;
        Ok(DorisCall { route, query: Vec::new(), body: None })
    }

    fn query(mut self, key: &str, value: &str) -> Self {
        self.query.push((key.to_string(), value.to_string()));
        self
    }

    /// The body: `fixed` fields, then every `--set FIELD=VALUE` on top, typed by the route's schema.
    fn body(mut self, fixed: Map<String, Value>, set: &[String]) -> Result<Self, CtlError> {
        let schema = self.schema()?;
        let mut body = fixed;
        for pair in set {
            let (path, value) = pair
                .split_once('=')
                .ok_or_else(|| CtlError::Usage(format!("--set wants FIELD=VALUE, got {pair:?}")))?;
            fields::set(&mut body, schema, path.trim(), value)?;
        }
        self.body = Some(Value::Object(body));
        Ok(self)
    }

    fn schema(&self) -> Result<&'static MessageSchema, CtlError> {
        self.route.body.ok_or_else(|| CtlError::Usage(format!("{} takes no body", self.route.name)))
    }
}

/// `ctl instance …`
#[derive(Subcommand, Debug)]
pub enum InstanceCommand {
    /// Every instance with its clusters and node counts.
    List,
    /// One instance (get_instance).
    Get { id: String },
    /// Create an instance (create_instance): an object-store vault with `--obj`, an HDFS vault
    /// with `--hdfs`, or the legacy form with `--legacy-obj`.
    Create {
        id: String,
        #[arg(long)]
        name: Option<String>,
        #[arg(long)]
        user_id: Option<String>,
        /// Vault object store, `ak=…,sk=…,bucket=…,prefix=…,endpoint=…,region=…,provider=S3`.
        #[arg(long, conflicts_with_all = ["hdfs", "legacy_obj"])]
        obj: Option<String>,
        /// HDFS vault, `build_conf.fs_name=hdfs://…,prefix=…` (fields of HdfsVaultInfo).
        #[arg(long, conflicts_with = "legacy_obj")]
        hdfs: Option<String>,
        /// Legacy (non-vault) object store, same fields as `--obj`.
        #[arg(long)]
        legacy_obj: Option<String>,
        /// Any other field of CreateInstanceRequest, e.g. `--set sse_enabled=true`.
        #[arg(long = "set", value_name = "FIELD=VALUE")]
        set: Vec<String>,
    },
    /// Mark an instance deleted (drop_instance).
    Drop { id: String },
    /// Rename an instance (rename_instance).
    Rename { id: String, name: String },
    /// Set an instance overdue or back to normal (set_instance_status).
    SetStatus { id: String, status: InstanceStatusArg },
    /// Turn server-side encryption on or off (enable_instance_sse / disable_instance_sse).
    Sse { id: String, state: OnOff },
}

#[derive(ValueEnum, Clone, Copy, Debug)]
pub enum InstanceStatusArg {
    Overdue,
    Normal,
}

#[derive(ValueEnum, Clone, Copy, Debug)]
pub enum OnOff {
    On,
    Off,
}

/// `ctl storage …`
#[derive(Subcommand, Debug)]
pub enum StorageCommand {
    /// Object stores and vaults of an instance (get_obj_store_info).
    Get { instance: String },
    /// Add an object store (add_obj_info), `--obj ak=…,sk=…,bucket=…,…`.
    Add {
        instance: String,
        #[arg(long)]
        obj: String,
    },
    /// Replace the ak/sk of one object store (legacy_update_ak_sk).
    SetObjAkSk {
        instance: String,
        /// The object store's id (see `storage get`).
        #[arg(long)]
        obj_id: String,
        #[arg(long)]
        ak: String,
        #[arg(long)]
        sk: String,
    },
    /// Replace a user's ak/sk everywhere it is used (update_ak_sk), `--user user_id=…,ak=…,sk=…`
    /// (repeatable; `--ram-user` for the RAM user).
    UpdateAkSk {
        instance: String,
        #[arg(long)]
        user: Vec<String>,
        #[arg(long)]
        ram_user: Option<String>,
    },
}

/// `ctl cluster …`
#[derive(Subcommand, Debug)]
pub enum ClusterCommand {
    /// Every cluster of an instance (get_cluster without a key).
    List { instance: String },
    /// One cluster by id, name or MySQL user (get_cluster).
    Get {
        instance: String,
        #[command(flatten)]
        key: ClusterKey,
    },
    /// Add a cluster (add_cluster), nodes with `--node ip=…,heartbeat_port=…,cloud_unique_id=…`.
    Add {
        instance: String,
        #[arg(long)]
        cluster_id: String,
        #[arg(long)]
        name: String,
        /// SQL (FE) or COMPUTE (BE).
        #[arg(long = "type", default_value = "COMPUTE")]
        cluster_type: String,
        #[arg(long)]
        node: Vec<String>,
        /// Any other field of AlterClusterRequest, e.g. `--set cluster.mysql_user_name=root`.
        #[arg(long = "set", value_name = "FIELD=VALUE")]
        set: Vec<String>,
    },
    /// Drop a cluster (drop_cluster).
    Drop {
        instance: String,
        #[arg(long)]
        cluster_id: String,
    },
    /// Rename a cluster (rename_cluster).
    Rename {
        instance: String,
        #[arg(long)]
        cluster_id: String,
        name: String,
    },
    /// Set the cluster's MySQL user names (update_cluster_mysql_user_name).
    SetMysqlUser {
        instance: String,
        #[arg(long)]
        cluster_id: String,
        #[arg(required = true)]
        users: Vec<String>,
    },
    /// Set a compute cluster's status: NORMAL, SUSPENDED, TO_RESUME, MANUAL_SHUTDOWN (set_cluster_status).
    SetStatus {
        instance: String,
        #[arg(long)]
        cluster_id: String,
        status: String,
    },
    /// Set a cluster's endpoints (update_cluster_endpoint; Doris wants both).
    SetEndpoint {
        instance: String,
        #[arg(long)]
        cluster_id: String,
        #[arg(long)]
        public: String,
        #[arg(long)]
        private: String,
    },
    /// Add nodes (add_node).
    AddNode(NodeArgs),
    /// Drop nodes (drop_node).
    DropNode(NodeArgs),
    /// Mark nodes decommissioning (decommission_node).
    DecommissionNode(NodeArgs),
    /// Mark nodes decommissioned (notify_decommissioned).
    NotifyDecommissioned(NodeArgs),
    /// Clusters of instances, optionally only those in one status (get_cluster_status).
    Status {
        #[arg(required = true)]
        instances: Vec<String>,
        #[arg(long)]
        status: Option<String>,
    },
}

/// How `cluster get` names its cluster.
#[derive(clap::Args, Debug)]
#[group(required = true, multiple = false)]
pub struct ClusterKey {
    #[arg(long)]
    cluster_id: Option<String>,
    #[arg(long)]
    cluster_name: Option<String>,
    #[arg(long)]
    mysql_user: Option<String>,
}

/// Nodes of a cluster, each `--node ip=…,heartbeat_port=…,cloud_unique_id=…` (fields of NodeInfoPB).
#[derive(clap::Args, Debug)]
pub struct NodeArgs {
    instance: String,
    #[arg(long)]
    cluster_id: String,
    #[arg(long)]
    cluster_name: Option<String>,
    /// The cluster's type, SQL or COMPUTE (Doris checks it).
    #[arg(long = "type", default_value = "COMPUTE")]
    cluster_type: String,
    #[arg(long, required = true)]
    node: Vec<String>,
}

/// `ctl key …`
#[derive(Subcommand, Debug)]
pub enum KeyCommand {
    /// Draw a hex key (decode_key).
    Decode { key: String },
    /// Encode a key: `key encode InstanceKey instance_id=…` (encode_key).
    Encode {
        key_type: String,
        #[arg(value_name = "PARAM=VALUE")]
        params: Vec<String>,
    },
    /// The record under a key: by type and parameters, or `--key HEX` (get_value).
    Get {
        key_type: String,
        #[arg(value_name = "PARAM=VALUE")]
        params: Vec<String>,
        #[arg(long)]
        key: Option<String>,
    },
}

fn object(pairs: impl IntoIterator<Item = (&'static str, Value)>) -> Map<String, Value> {
    pairs.into_iter().map(|(k, v)| (k.to_string(), v)).collect()
}

fn text(s: &str) -> Value {
    Value::String(s.to_string())
}

impl InstanceCommand {
    /// The call; `None` for `list`, which is an operations route.
    pub fn call(&self) -> Result<Option<DorisCall>, CtlError> {
        let alter = |route: &str, id: &str, extra: Vec<(&'static str, Value)>| {
            let mut body = object([("instance_id", text(id))]);
            body.extend(object(extra));
            DorisCall::new(route)?.body(body, &[])
        };
        Ok(Some(match self {
            InstanceCommand::List => return Ok(None),
            InstanceCommand::Get { id } => DorisCall::new("get_instance")?.query("instance_id", id),
            InstanceCommand::Create { id, name, user_id, obj, hdfs, legacy_obj, set } => {
                let mut body = object([("instance_id", text(id))]);
                if let Some(name) = name {
                    body.insert("name".into(), text(name));
                }
                if let Some(user) = user_id {
                    body.insert("user_id".into(), text(user));
                }
                if let Some(obj) = obj {
                    body.insert("vault".into(), Value::Object(object([("obj_info", obj_spec(obj)?)])));
                }
                if let Some(hdfs) = hdfs {
                    let info = fields::spec(crate::meta::pb::HdfsVaultInfo::SCHEMA, hdfs)?;
                    body.insert("vault".into(), Value::Object(object([("hdfs_info", info)])));
                }
                if let Some(obj) = legacy_obj {
                    body.insert("obj_info".into(), obj_spec(obj)?);
                }
                DorisCall::new("create_instance")?.body(body, set)?
            }
            InstanceCommand::Drop { id } => alter("drop_instance", id, vec![])?,
            InstanceCommand::Rename { id, name } => alter("rename_instance", id, vec![("name", text(name))])?,
            InstanceCommand::SetStatus { id, status } => {
                let op = match status {
                    InstanceStatusArg::Overdue => "SET_OVERDUE",
                    InstanceStatusArg::Normal => "SET_NORMAL",
                };
                alter("set_instance_status", id, vec![("op", text(op))])?
            }
            InstanceCommand::Sse { id, state: OnOff::On } => alter("enable_instance_sse", id, vec![])?,
            InstanceCommand::Sse { id, state: OnOff::Off } => alter("disable_instance_sse", id, vec![])?,
        }))
    }
}

fn obj_spec(spec: &str) -> Result<Value, CtlError> {
    fields::spec(ObjectStoreInfoPb::SCHEMA, spec)
}

/// Doris finds an instance's storage by a node's `cloud_unique_id`, `1:<instance_id>:<any>`.
fn cloud_unique_id(instance: &str) -> Value {
    Value::String(format!("1:{instance}:metaraft-ctl"))
}

impl StorageCommand {
    pub fn call(&self) -> Result<DorisCall, CtlError> {
        match self {
            StorageCommand::Get { instance } => DorisCall::new("get_obj_store_info")?
                .body(object([("cloud_unique_id", cloud_unique_id(instance))]), &[]),
            StorageCommand::Add { instance, obj } => DorisCall::new("add_obj_info")?
                .body(object([("cloud_unique_id", cloud_unique_id(instance)), ("obj", obj_spec(obj)?)]), &[]),
            StorageCommand::SetObjAkSk { instance, obj_id, ak, sk } => {
                let obj = object([("id", text(obj_id)), ("ak", text(ak)), ("sk", text(sk))]);
                DorisCall::new("legacy_update_ak_sk")?
                    .body(object([("cloud_unique_id", cloud_unique_id(instance)), ("obj", Value::Object(obj))]), &[])
            }
            StorageCommand::UpdateAkSk { instance, user, ram_user } => {
                let mut body = object([("instance_id", text(instance))]);
                let users: Result<Vec<Value>, CtlError> =
                    user.iter().map(|u| fields::spec(RamUserPb::SCHEMA, u)).collect();
                body.insert("internal_bucket_user".into(), Value::Array(users?));
                if let Some(ram) = ram_user {
                    body.insert("ram_user".into(), fields::spec(RamUserPb::SCHEMA, ram)?);
                }
                DorisCall::new("update_ak_sk")?.body(body, &[])
            }
        }
    }
}

/// `{"instance_id": …, "cluster": {…}}`, the body of every cluster and node write.
fn alter_cluster(
    route: &str,
    instance: &str,
    cluster: Map<String, Value>,
    set: &[String],
) -> Result<DorisCall, CtlError> {
    DorisCall::new(route)?.body(object([("instance_id", text(instance)), ("cluster", Value::Object(cluster))]), set)
}

fn nodes(specs: &[String]) -> Result<Value, CtlError> {
    Ok(Value::Array(specs.iter().map(|s| fields::spec(NodeInfoPb::SCHEMA, s)).collect::<Result<_, _>>()?))
}

/// A cluster-level field typed by ClusterPB (`type`, `cluster_status`).
fn cluster_field(field: &str, raw: &str) -> Result<Value, CtlError> {
    let mut one = Map::new();
    fields::set(&mut one, ClusterPb::SCHEMA, field, raw)?;
    Ok(one.remove(field).unwrap_or(Value::Null))
}

impl ClusterCommand {
    pub fn call(&self) -> Result<DorisCall, CtlError> {
        let id = |cluster_id: &str| object([("cluster_id", text(cluster_id))]);
        match self {
            ClusterCommand::List { instance } => DorisCall::new("get_cluster")?
                .body(object([("instance_id", text(instance)), ("cloud_unique_id", cloud_unique_id(instance))]), &[]),
            ClusterCommand::Get { instance, key } => {
                let mut body =
                    object([("instance_id", text(instance)), ("cloud_unique_id", cloud_unique_id(instance))]);
                let named = [
                    ("cluster_id", &key.cluster_id),
                    ("cluster_name", &key.cluster_name),
                    ("mysql_user_name", &key.mysql_user),
                ];
                for (field, value) in named {
                    if let Some(v) = value {
                        body.insert(field.to_string(), text(v));
                    }
                }
                DorisCall::new("get_cluster")?.body(body, &[])
            }
            ClusterCommand::Add { instance, cluster_id, name, cluster_type, node, set } => {
                let mut cluster = id(cluster_id);
                cluster.insert("cluster_name".into(), text(name));
                cluster.insert("type".into(), cluster_field("type", cluster_type)?);
                cluster.insert("nodes".into(), nodes(node)?);
                alter_cluster("add_cluster", instance, cluster, set)
            }
            ClusterCommand::Drop { instance, cluster_id } => {
                alter_cluster("drop_cluster", instance, id(cluster_id), &[])
            }
            ClusterCommand::Rename { instance, cluster_id, name } => {
                let mut cluster = id(cluster_id);
                cluster.insert("cluster_name".into(), text(name));
                alter_cluster("rename_cluster", instance, cluster, &[])
            }
            ClusterCommand::SetMysqlUser { instance, cluster_id, users } => {
                let mut cluster = id(cluster_id);
                cluster.insert("mysql_user_name".into(), Value::Array(users.iter().map(|u| text(u)).collect()));
                alter_cluster("update_cluster_mysql_user_name", instance, cluster, &[])
            }
            ClusterCommand::SetStatus { instance, cluster_id, status } => {
                let mut cluster = id(cluster_id);
                cluster.insert("cluster_status".into(), cluster_field("cluster_status", status)?);
                alter_cluster("set_cluster_status", instance, cluster, &[])
            }
            ClusterCommand::SetEndpoint { instance, cluster_id, public, private } => {
                let mut cluster = id(cluster_id);
                cluster.insert("public_endpoint".into(), text(public));
                cluster.insert("private_endpoint".into(), text(private));
                alter_cluster("update_cluster_endpoint", instance, cluster, &[])
            }
            ClusterCommand::AddNode(args) => node_call("add_node", args),
            ClusterCommand::DropNode(args) => node_call("drop_node", args),
            ClusterCommand::DecommissionNode(args) => node_call("decommission_node", args),
            ClusterCommand::NotifyDecommissioned(args) => node_call("notify_decommissioned", args),
            ClusterCommand::Status { instances, status } => {
                let mut body = object([("instance_ids", Value::Array(instances.iter().map(|i| text(i)).collect()))]);
                if let Some(s) = status {
                    body.insert("status".into(), cluster_field("cluster_status", s)?);
                }
                DorisCall::new("get_cluster_status")?.body(body, &[])
            }
        }
    }
}

fn node_call(route: &str, args: &NodeArgs) -> Result<DorisCall, CtlError> {
    let mut cluster = object([
        ("cluster_id", text(&args.cluster_id)),
        ("type", cluster_field("type", &args.cluster_type)?),
        ("nodes", nodes(&args.node)?),
    ]);
    if let Some(name) = &args.cluster_name {
        cluster.insert("cluster_name".into(), text(name));
    }
    alter_cluster(route, &args.instance, cluster, &[])
}

/// `PARAM=VALUE` arguments as query pairs.
fn params(call: DorisCall, pairs: &[String]) -> Result<DorisCall, CtlError> {
    pairs.iter().try_fold(call, |call, pair| {
        let (k, v) =
            pair.split_once('=').ok_or_else(|| CtlError::Usage(format!("expected PARAM=VALUE, got {pair:?}")))?;
        Ok(call.query(k, v))
    })
}

impl KeyCommand {
    pub fn call(&self) -> Result<DorisCall, CtlError> {
        match self {
            KeyCommand::Decode { key } => Ok(DorisCall::new("decode_key")?.query("key", key)),
            KeyCommand::Encode { key_type, params: p } => {
                params(DorisCall::new("encode_key")?.query("key_type", key_type), p)
            }
            KeyCommand::Get { key_type, params: p, key } => {
                let call = DorisCall::new("get_value")?.query("key_type", key_type);
                let call = match key {
                    Some(k) => call.query("key", k),
                    None => call,
                };
                params(call, p)
            }
        }
    }
}

/// `ctl call ROUTE [BODY] [--query K=V]…`: any Doris route, the body sent as given (JSON or
/// Doris's lenient JSON; `@FILE` reads it from a file).
pub fn raw_call(route: &str, body: Option<&str>, query: &[String]) -> Result<(DorisCall, Option<String>), CtlError> {
    let call = params(DorisCall::new(route)?, query)?;
    let body = match body {
        Some(b) if b.starts_with('@') => Some(
            std::fs::read_to_string(&b[1..]).map_err(|e| CtlError::Usage(format!("cannot read {}: {e}", &b[1..])))?,
        ),
        Some(b) => Some(b.to_string()),
        None => None,
    };
    Ok((call, body))
}
