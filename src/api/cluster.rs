//! Cluster and node routes (endpoints §10–§17). Every write is one `alter_cluster` command; the
//! route only names the operation, so each write route is one line here.

use axum::extract::State;

use super::body::DorisJson;
use super::envelope::Envelope;
use super::error::ApiError;
use super::instance::now_secs;
use super::query::DorisQuery;
use super::replicate;
use super::AppState;
use crate::meta;
use crate::meta::pb::AlterClusterRequest;
use crate::meta::pb::GetClusterRequest;
use crate::meta::pb::GetClusterStatusRequest;
use crate::meta::ClusterOp;
use crate::meta::ClusterSelection;
use crate::meta::Command;
use crate::pbjson;
use crate::pbjson::json::Json;

/// The shared write path: stateless checks, then one replicated `alter_cluster` command.
async fn alter(state: &AppState, op: ClusterOp, request: AlterClusterRequest) -> Result<Envelope, ApiError> {
    let command = meta::prepare_alter_cluster(op, request, now_secs())?;
    replicate::propose(state, &Command::AlterCluster(Box::new(command))).await??;
    Ok(Envelope::ok())
}

macro_rules! alter_routes {
    ($($route:ident => $op:ident),* $(,)?) => {$(
        #[doc = concat!("`", stringify!($route), "`.")]
        pub async fn $route(
            State(state): State<AppState>,
            DorisJson(request): DorisJson<AlterClusterRequest>,
        ) -> Result<Envelope, ApiError> {
            alter(&state, ClusterOp::$op, request).await
        }
    )*};
}

alter_routes! {
    add_cluster => AddCluster,
    drop_cluster => DropCluster,
    rename_cluster => RenameCluster,
    update_cluster_mysql_user_name => UpdateClusterMysqlUserName,
    add_node => AddNode,
    drop_node => DropNode,
    set_cluster_status => SetClusterStatus,
    update_cluster_endpoint => UpdateClusterEndpoint,
    decommission_node => DecommissionNode,
    notify_decommissioned => NotifyDecommissioned,
}

/// `{"code": <enum name>, "msg": …}`, the `status` Doris embeds in whole-response results.
fn status_json(code: &str, msg: &str) -> Json {
    Json::Object(vec![("code".into(), Json::string(code)), ("msg".into(), Json::string(msg))])
}

/// `get_cluster`: one ClusterPB by key, or a `GetClusterResponse` with all of them.
pub async fn get_cluster(
    State(state): State<AppState>,
    query: DorisQuery,
    DorisJson(request): DorisJson<GetClusterRequest>,
) -> Result<Envelope, ApiError> {
    meta::check_get_cluster(&request)?;
    let consistency = query.consistency()?;
    let found = replicate::read(&state, consistency, move |kv| meta::get_cluster(kv, &request)).await??;
    Ok(Envelope::ok_with(match found {
        ClusterSelection::One(cluster) => pbjson::encode(cluster.as_ref()),
        ClusterSelection::All { clusters, enable_storage_vault } => Json::Object(vec![
            ("status".into(), status_json("OK", "")),
            ("cluster".into(), Json::Array(clusters.iter().map(pbjson::encode).collect())),
            ("enable_storage_vault".into(), Json::Bool(enable_storage_vault)),
        ]),
    }))
}

/// `get_cluster_status`: `result` = `GetClusterStatusResponse`, its `status.msg` the compact
/// JSON of the details (Doris sets `msg` before the status is filled). Top-level `msg` is `""`.
pub async fn get_cluster_status(
    State(state): State<AppState>,
    query: DorisQuery,
    DorisJson(request): DorisJson<GetClusterStatusRequest>,
) -> Result<Envelope, ApiError> {
    meta::check_get_cluster_status(&request).map_err(|e| {
        ApiError::from(e.clone())
            .with_result(Json::Object(vec![("status".into(), status_json("INVALID_ARGUMENT", &e.msg))]))
    })?;
    let consistency = query.consistency()?;
    let found = replicate::read(&state, consistency, move |kv| meta::get_cluster_status(kv, &request)).await??;
    let Some(details) = found else {
        return Ok(Envelope::ok_with(Json::Object(vec![("status".into(), status_json("OK", ""))])));
    };
    let details: Vec<Json> = details
        .iter()
        .map(|(id, clusters)| {
            Json::Object(vec![
                ("instance_id".into(), Json::string(id.as_str())),
                ("clusters".into(), Json::Array(clusters.iter().map(pbjson::encode).collect())),
            ])
        })
        .collect();
    let mut body = Vec::new();
    if !details.is_empty() {
        body.push(("details".to_string(), Json::Array(details)));
    }
    let msg = Json::Object(body.clone()).to_compact();
    let mut result = vec![("status".to_string(), status_json("OK", &msg))];
    result.extend(body);
    Ok(Envelope::ok_with(Json::Object(result)))
}
