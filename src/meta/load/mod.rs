//! The load path behind Doris's brpc methods (`../shared/reference/txn-tablet-rpc.md`):
//! transactions (`txn`), tablets, rowsets, stats and versions (`tablet`), compaction jobs
//! (`job`). Writes are one [`LoadCommand`] in the Raft log each, carrying the proposer's clock;
//! reads run on applied state. Every method answers its Doris response message with a `status`,
//! a refusal included ([`respond`]), because brpc replies carry the code inside the message.
//!
//! Transaction ids: a cluster-wide counter in the replicated state (`last_txn_id`), stepped by 2.
//! `get_current_max_txn_id` answers `last + 1`, so every txn begun before the call has a smaller
//! id and every later one a larger — the watermark FE's schema change relies on (spec §1.3),
//! across leader changes because the counter is replicated state, not a node's.
//!
//! Every known deviation from Doris, and why: `DEVIATIONS.md` in this directory.

mod job;
mod tablet;
mod txn;

use metaraft_raft::codec::Tagged;
use metaraft_raft::KvError;
use metaraft_raft::KvWrite;
use serde::Deserialize;
use serde::Serialize;

use super::error::MetaError;
use super::error::ServiceCode;
use super::pb_tablet::RowsetMetaCloudPb;
use super::pb_tablet::TabletMetaCloudPb;
use super::pb_tablet::TabletSchemaCloudPb;
use super::pb_txn::*;
use super::resolve;
use super::resolve::Scan;
use super::schema::ProtoMessage;
use super::store::Failure;
use super::store::Outcome;
use crate::pbjson;
use crate::pbjson::json::Json;

pub use tablet::get_tablet;
pub use tablet::get_tablet_stats;
pub use tablet::get_version;
pub use txn::check_txn_conflict;
pub use txn::get_current_max_txn_id;
pub use txn::get_txn;
pub use txn::get_txn_id;

macro_rules! tagged {
    ($($t:ty = $tag:literal),* $(,)?) => {
        $( impl Tagged for $t { const TAG: &'static str = $tag; } )*
    };
}

tagged! {
    TxnInfoPb = "meta.txn_info.v1",
    TxnLabelPb = "meta.txn_label.v1",
    TxnIndexPb = "meta.txn_index.v1",
    TxnRunningPb = "meta.txn_running.v1",
    RecycleTxnPb = "meta.recycle_txn.v1",
    VersionPb = "meta.version.v1",
    TabletIndexPb = "meta.tablet_index.v1",
    TabletStatsPb = "meta.tablet_stats.v1",
    TabletJobInfoPb = "meta.tablet_job.v1",
    TabletMetaCloudPb = "meta.tablet_meta.v1",
    TabletSchemaCloudPb = "meta.tablet_schema.v1",
    RowsetMetaCloudPb = "meta.rowset.v1",
    LastTxnId = "meta.last_txn_id.v1",
}

/// The last transaction id issued (metaraft's stand-in for FDB's versionstamps).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct LastTxnId(pub i64);

/// A reply message with a `status` field (every response of the load path).
pub trait HasStatus: ProtoMessage + Default {
    /// The `status` field.
    fn status_mut(&mut self) -> &mut Option<MetaServiceResponseStatus>;
    /// The status, as set.
    fn status(&self) -> Option<&MetaServiceResponseStatus>;
}

macro_rules! has_status {
    ($($t:ty),* $(,)?) => {
        $( impl HasStatus for $t {
            fn status_mut(&mut self) -> &mut Option<MetaServiceResponseStatus> { &mut self.status }
            fn status(&self) -> Option<&MetaServiceResponseStatus> { self.status.as_ref() }
        } )*
    };
}

has_status!(
    BeginTxnResponse,
    PrecommitTxnResponse,
    CommitTxnResponse,
    AbortTxnResponse,
    GetTxnResponse,
    GetCurrentMaxTxnResponse,
    GetTxnIdResponse,
    CheckTxnConflictResponse,
    StatusResponse,
    CreateTabletsResponse,
    GetTabletResponse,
    GetTabletStatsResponse,
    GetVersionResponse,
    CreateRowsetResponse,
    StartTabletJobResponse,
    FinishTabletJobResponse,
);

/// `status` for a code and message.
pub fn status(code: ServiceCode, msg: impl Into<String>) -> Option<MetaServiceResponseStatus> {
    Some(MetaServiceResponseStatus { code: Some(code), msg: Some(msg.into()) })
}

/// A response whose status is a refusal, with the rest of the message as given.
pub fn refused<R: HasStatus>(mut response: R, code: ServiceCode, msg: impl Into<String>) -> Outcome<R> {
    *response.status_mut() = status(code, msg);
    Ok(response)
}

/// The reply of a method: its response with `status` filled in (`OK` with an empty message
/// unless the method set one; a refusal becomes an otherwise empty response). Storage failures
/// stay errors.
pub fn respond<R: HasStatus>(outcome: Outcome<R>) -> Result<R, KvError> {
    match outcome {
        Ok(mut r) => {
            if r.status().is_none() {
                *r.status_mut() = status(ServiceCode::Ok, "");
            }
            Ok(r)
        }
        Err(Failure::Refused(e)) => {
            let mut r = R::default();
            *r.status_mut() = status(e.code, e.msg);
            Ok(r)
        }
        Err(Failure::Storage(e)) => Err(e),
    }
}

/// The refusal a response's status stands for (`None` when OK).
pub fn status_error(status: Option<&MetaServiceResponseStatus>) -> Option<MetaError> {
    let s = status?;
    let code = s.code.unwrap_or(ServiceCode::Ok);
    (code != ServiceCode::Ok).then(|| MetaError::new(code, s.msg.clone().unwrap_or_default()))
}

/// `cloud_unique_id` as Doris prints it in messages (`(empty)` when unset).
fn shown(cloud_unique_id: Option<&str>) -> &str {
    match cloud_unique_id {
        Some(c) if !c.is_empty() => c,
        _ => "(empty)",
    }
}

/// The instance of `cloud_unique_id`, or `INVALID_ARGUMENT` with `msg` (each method words it
/// differently).
fn instance_of(kv: &impl Scan, cloud_unique_id: Option<&str>, msg: impl FnOnce() -> String) -> Outcome<String> {
    match resolve::instance_id_of(kv, cloud_unique_id.unwrap_or_default())? {
        Some(iid) if !iid.is_empty() => Ok(iid),
        _ => Err(MetaError::invalid_argument(msg()).into()),
    }
}

/// Declares the write methods: the command variants, their replies, and their apply.
macro_rules! load_writes {
    ($( $variant:ident($request:ty) -> $response:ty = $apply:path, $name:literal; )*) => {
        /// A write method's request, validated only by apply (its checks read state).
        #[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
        pub enum LoadOp {
            $( #[doc = $name] $variant($request), )*
        }

        /// A write method's response.
        #[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
        pub enum LoadReply {
            $( #[doc = $name] $variant($response), )*
        }

        impl LoadOp {
            /// The brpc method name.
            pub fn name(&self) -> &'static str {
                match self { $( LoadOp::$variant(_) => $name, )* }
            }
        }

        impl LoadReply {
            /// The reply as brpc prints it.
            pub fn to_brpc_json(&self) -> Json {
                match self { $( LoadReply::$variant(r) => pbjson::encode_brpc(r), )* }
            }

            /// The reply's status.
            pub fn status(&self) -> Option<&MetaServiceResponseStatus> {
                match self { $( LoadReply::$variant(r) => r.status(), )* }
            }
        }

        /// Applies one write method.
        pub fn apply(kv: &mut KvWrite<'_, '_>, command: &LoadCommand) -> Result<LoadReply, KvError> {
            let now = command.now_ms;
            Ok(match &command.op {
                $( LoadOp::$variant(r) => LoadReply::$variant(respond($apply(kv, r, now))?), )*
            })
        }
    };
}

load_writes! {
    BeginTxn(BeginTxnRequest) -> BeginTxnResponse = txn::begin_txn, "begin_txn";
    PrecommitTxn(PrecommitTxnRequest) -> PrecommitTxnResponse = txn::precommit_txn, "precommit_txn";
    CommitTxn(CommitTxnRequest) -> CommitTxnResponse = txn::commit_txn, "commit_txn";
    AbortTxn(AbortTxnRequest) -> AbortTxnResponse = txn::abort_txn, "abort_txn";
    CleanTxnLabel(CleanTxnLabelRequest) -> StatusResponse = txn::clean_txn_label, "clean_txn_label";
    CreateTablets(CreateTabletsRequest) -> CreateTabletsResponse = tablet::create_tablets, "create_tablets";
    UpdateTablet(UpdateTabletRequest) -> StatusResponse = tablet::update_tablet, "update_tablet";
    PrepareRowset(CreateRowsetRequest) -> CreateRowsetResponse = tablet::prepare_rowset, "prepare_rowset";
    CommitRowset(CreateRowsetRequest) -> CreateRowsetResponse = tablet::commit_rowset, "commit_rowset";
    StartTabletJob(StartTabletJobRequest) -> StartTabletJobResponse = job::start_tablet_job, "start_tablet_job";
    FinishTabletJob(FinishTabletJobRequest) -> FinishTabletJobResponse = job::finish_tablet_job, "finish_tablet_job";
}

/// A write method in the log: the request and the proposer's clock (milliseconds since the
/// epoch), from which every time stamp, timeout and expiry check of apply is taken.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LoadCommand {
    /// Milliseconds since the epoch on the proposing node.
    pub now_ms: i64,
    /// The method and its request.
    pub op: LoadOp,
}
