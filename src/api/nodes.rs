//! The membership API (operations, not Doris): `GET|POST|DELETE /api/v1/nodes`, and
//! `POST /api/v1/leader`. Answered on any member; the raft layer runs each change on the leader.

use axum::body::Bytes;
use axum::extract::State;
use metaraft_raft::Member;
use metaraft_raft::MembershipError;
use metaraft_raft::Role;

use super::envelope::Envelope;
use super::error::ApiError;
use super::error::MetaCode;
use super::query::DorisQuery;
use super::AppState;
use crate::pbjson::json;
use crate::pbjson::json::Json;

/// `GET /api/v1/nodes[?id=N]`: every member (or one) with role, replication and last contact.
pub async fn list(State(state): State<AppState>, query: DorisQuery) -> Result<Envelope, ApiError> {
    let wanted = optional_id(&query)?;
    let members = state.node.members().await?;
    match wanted {
        None => Ok(Envelope::ok_with(members_json(&members))),
        Some(id) => match members.iter().find(|m| m.id == id) {
            Some(m) => Ok(Envelope::ok_with(member_json(m))),
            None => Err(MembershipError::NotFound(id).into()),
        },
    }
}

/// The body of `POST /api/v1/nodes` (described for the OpenAPI document; [`add`] parses it
/// leniently, `id` as a number or a decimal string).
#[derive(utoipa::ToSchema)]
#[expect(dead_code, reason = "a description of the body add() parses")]
pub struct AddNode {
    /// A node id that was never a member.
    id: u64,
    /// The new node's `host:port` (its HTTP and Raft address).
    addr: String,
}

/// `POST /api/v1/nodes` `{"id": 4, "addr": "host:port"}`: adds a learner, waits for it to catch
/// up, promotes it to voter; answers with the new member list.
pub async fn add(State(state): State<AppState>, body: Bytes) -> Result<Envelope, ApiError> {
    let parsed = json::parse(&body).map_err(|e| invalid(format!("body is not JSON: {}", e.0)))?;
    let id = match field(&parsed, "id") {
        Some(v) => id_value(v).ok_or_else(|| invalid("\"id\" must be a positive integer".into()))?,
        None => return Err(invalid("body needs \"id\" (a new node id) and \"addr\" (host:port)".into())),
    };
    let addr = match field(&parsed, "addr") {
        Some(Json::String(s)) => s.clone(),
        _ => return Err(invalid("body needs \"addr\": the new node's host:port".into())),
    };
    let members = state.node.add_member(id, addr).await?;
    Ok(Envelope::ok_with(members_json(&members)))
}

/// `DELETE /api/v1/nodes?id=N`: removes a member, refusing to leave no quorum behind.
pub async fn remove(State(state): State<AppState>, query: DorisQuery) -> Result<Envelope, ApiError> {
    let id = optional_id(&query)?.ok_or_else(|| invalid("give the node to remove as ?id=N".into()))?;
    let members = state.node.remove_member(id).await?;
    Ok(Envelope::ok_with(members_json(&members)))
}

/// `POST /api/v1/leader?to=N`: openraft 0.9 has no leadership transfer (it arrives in 0.10 as
/// `Raft::trigger().transfer_leader`); say so rather than fake one with forced elections.
pub async fn transfer_leader(query: DorisQuery) -> Result<Envelope, ApiError> {
    optional_id(&query)?;
    Err(ApiError::new(
        MetaCode::NotImplemented,
        "leadership transfer is not supported: openraft 0.9 has no transfer primitive. To move the leader \
         off a node, remove that node (DELETE /api/v1/nodes?id=N) or restart it; a new leader is elected \
         within one election timeout",
    ))
}

fn invalid(msg: String) -> ApiError {
    ApiError::new(MetaCode::InvalidArgument, msg)
}

/// `?id=` (or `?to=`), absent or a positive integer.
fn optional_id(query: &DorisQuery) -> Result<Option<u64>, ApiError> {
    let raw = match (query.get("id"), query.get("to")) {
        ("", "") => return Ok(None),
        ("", to) => to,
        (id, _) => id,
    };
    match raw.parse::<u64>() {
        Ok(id) if id > 0 => Ok(Some(id)),
        _ => Err(invalid(format!("invalid node id {raw:?}: expected a positive integer"))),
    }
}

fn field<'a>(obj: &'a Json, name: &str) -> Option<&'a Json> {
    match obj {
        Json::Object(fields) => fields.iter().rev().find(|(k, _)| k == name).map(|(_, v)| v),
        _ => None,
    }
}

/// A node id written as a number or a decimal string (as Doris accepts int64 fields).
fn id_value(v: &Json) -> Option<u64> {
    let text = match v {
        Json::Number(n) | Json::String(n) => n,
        _ => return None,
    };
    text.parse::<u64>().ok().filter(|id| *id > 0)
}

fn members_json(members: &[Member]) -> Json {
    Json::Array(members.iter().map(member_json).collect())
}

fn member_json(m: &Member) -> Json {
    let num = |n: Option<u64>| n.map_or(Json::Null, |n| Json::Number(n.to_string()));
    Json::object([
        ("id", Json::Number(m.id.to_string())),
        ("addr", Json::string(m.addr.clone())),
        ("role", Json::string(if m.role == Role::Voter { "voter" } else { "learner" })),
        ("leader", Json::Bool(m.leader)),
        ("matched_index", num(m.matched_index)),
        ("lag", num(m.lag)),
        ("last_contact_ms", num(m.last_contact_ms)),
    ])
}

impl From<MembershipError> for ApiError {
    fn from(e: MembershipError) -> Self {
        let code = match &e {
            MembershipError::Invalid(_) => MetaCode::InvalidArgument,
            MembershipError::NotFound(_) => MetaCode::NotFound,
            MembershipError::Conflict(_) => MetaCode::AlreadyExisted,
            MembershipError::Refused(_) => MetaCode::FailedPrecondition,
            MembershipError::Unavailable(_) => MetaCode::Unavailable,
            MembershipError::Failed(_) => MetaCode::InternalError,
        };
        ApiError::new(code, e.to_string())
    }
}

#[cfg(test)]
mod test {
    use super::*;

    #[test]
    fn ids_from_query_and_body() {
        assert_eq!(optional_id(&DorisQuery::parse(None)).unwrap(), None);
        assert_eq!(optional_id(&DorisQuery::parse(Some("id=4"))).unwrap(), Some(4));
        assert_eq!(optional_id(&DorisQuery::parse(Some("to=2"))).unwrap(), Some(2));
        for bad in ["id=0", "id=-1", "id=x", "id=", "to=1.5"] {
            let q = DorisQuery::parse(Some(bad));
            if bad == "id=" {
                assert_eq!(optional_id(&q).unwrap(), None);
            } else {
                assert_eq!(optional_id(&q).unwrap_err().code(), MetaCode::InvalidArgument, "{bad}");
            }
        }
        assert_eq!(id_value(&Json::Number("7".into())), Some(7));
        assert_eq!(id_value(&Json::String("7".into())), Some(7));
        assert_eq!(id_value(&Json::Number("0".into())), None);
        assert_eq!(id_value(&Json::Number("1e3".into())), None);
        assert_eq!(id_value(&Json::Bool(true)), None);
    }
}
