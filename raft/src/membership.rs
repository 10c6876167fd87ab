//! Membership changes: list, add (learner → catch-up → voter), remove. Run on the leader; any
//! other member forwards the operation over `/raft/membership`.
//!
//! openraft applies every voter change as a joint-consensus pair of log entries, so writes keep
//! committing throughout: the old and the new quorum both ack every entry in between.

use std::collections::BTreeMap;
use std::collections::BTreeSet;
use std::time::Duration;

use openraft::BasicNode;
use openraft::ChangeMembers;
use serde::Deserialize;
use serde::Serialize;

use crate::network::TransportError;
use crate::node::NodeInner;
use crate::types::NodeId;

/// How long a new learner may take to catch up before the add gives up (it stays a learner).
const CATCH_UP_TIMEOUT: Duration = Duration::from_secs(120);
/// Forwarded membership calls wait this long for the leader's answer (covers a catch-up).
const FORWARD_TIMEOUT: Duration = Duration::from_secs(130);

/// A member's role in the current configuration.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    /// Counts towards quorums and elections.
    Voter,
    /// Receives the log; does not vote.
    Learner,
}

/// One member, as the leader sees it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Member {
    /// Node id.
    pub id: u64,
    /// `host:port` of its HTTP server.
    pub addr: String,
    /// Voter or learner.
    pub role: Role,
    /// Whether it is the leader.
    pub leader: bool,
    /// Highest log index the leader knows this member holds (the leader: its own last index).
    pub matched_index: Option<u64>,
    /// Entries behind the leader's last log index.
    pub lag: Option<u64>,
    /// Milliseconds since the leader last heard from it (0 for the leader itself; `None`: never).
    pub last_contact_ms: Option<u64>,
}

/// What the membership API answers when it does not succeed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, thiserror::Error)]
pub enum MembershipError {
    /// The request itself is wrong (bad id or address).
    #[error("{0}")]
    Invalid(String),
    /// No such member.
    #[error("node {0} is not a member")]
    NotFound(u64),
    /// The id is in use or was used before.
    #[error("{0}")]
    Conflict(String),
    /// The change is refused in the cluster's present state (quorum, catch-up, change in flight).
    #[error("{0}")]
    Refused(String),
    /// No leader, or it could not be reached; nothing was changed.
    #[error("{0}")]
    Unavailable(String),
    /// The change was proposed but its outcome is unknown, or the node failed.
    #[error("{0}")]
    Failed(String),
}

/// `POST /raft/membership`: an operation forwarded to the leader.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) enum MembershipOp {
    List,
    Add { id: u64, addr: String },
    Remove { id: u64 },
}

pub(crate) type MembershipResult = Result<Vec<Member>, MembershipError>;

impl NodeInner {
    /// Runs `op` here when leader, else on the leader.
    pub(crate) async fn membership(&self, op: MembershipOp) -> MembershipResult {
        let leader = self.leader().ok_or_else(|| MembershipError::Unavailable("no leader known; retry".into()))?;
        if leader == self.config.node_id {
            return self.membership_on_leader(op).await;
        }
        let addr = self
            .addr_of(leader)
            .ok_or_else(|| MembershipError::Unavailable(format!("no address for leader {leader}")))?;
        match self.peers.call::<_, MembershipResult>(&addr, "membership", &op, FORWARD_TIMEOUT).await {
            Ok(result) => result,
            Err(TransportError::Unreachable(e)) => {
                Err(MembershipError::Unavailable(format!("leader {leader} at {addr} unreachable: {e}")))
            }
            Err(e) => Err(MembershipError::Failed(format!("leader {leader} at {addr}: {e}"))),
        }
    }

    /// `/raft/membership`: only the leader runs membership operations (no second forward).
    pub(crate) async fn membership_on_leader(&self, op: MembershipOp) -> MembershipResult {
        if self.leader() != Some(self.config.node_id) {
            return Err(MembershipError::Unavailable(format!(
                "node {} is no longer the leader; retry",
                self.config.node_id
            )));
        }
        match op {
            MembershipOp::List => Ok(self.members_view()),
            MembershipOp::Add { id, addr } => self.add_member(id, addr).await,
            MembershipOp::Remove { id } => self.remove_member(id).await,
        }
    }

    /// Every member with the leader's replication view of it.
    fn members_view(&self) -> Vec<Member> {
        let m = self.raft.metrics().borrow().clone();
        let me = self.config.node_id;
        let last = m.last_log_index;
        let replication = m.replication.clone().unwrap_or_default();
        let membership = m.membership_config.membership();
        let voters: BTreeSet<NodeId> = membership.voter_ids().collect();
        membership
            .nodes()
            .map(|(id, node)| {
                let matched_index =
                    if *id == me { last } else { replication.get(id).copied().flatten().map(|l| l.index) };
                Member {
                    id: *id,
                    addr: node.addr.clone(),
                    role: if voters.contains(id) { Role::Voter } else { Role::Learner },
                    leader: *id == me,
                    matched_index,
                    lag: last.map(|l| l.saturating_sub(matched_index.unwrap_or(0))),
                    last_contact_ms: if *id == me { Some(0) } else { self.peers.since_contact_ms(*id) },
                }
            })
            .collect()
    }

    async fn add_member(&self, id: u64, addr: String) -> MembershipResult {
        check_addr(&addr)?;
        if id == 0 {
            return Err(MembershipError::Invalid("node id must be a positive integer".into()));
        }
        let current = self.members_view();
        match current.iter().find(|m| m.id == id) {
            Some(m) if m.role == Role::Voter => {
                return Err(MembershipError::Conflict(format!("node {id} is already a voter")));
            }
            Some(m) if m.addr != addr => {
                return Err(MembershipError::Conflict(format!(
                    "node {id} is already a learner at {}; remove it first to change its address",
                    m.addr
                )));
            }
            // A learner left by an earlier add that did not finish: resume it.
            Some(_) => {}
            None => {
                let ever = self.state.members_ever().map_err(|e| MembershipError::Failed(e.to_string()))?;
                if ever.contains(&id) {
                    return Err(MembershipError::Conflict(format!(
                        "node id {id} was a member before; node ids are never reused, pick a new one"
                    )));
                }
                if let Some(m) = current.iter().find(|m| m.addr == addr) {
                    return Err(MembershipError::Conflict(format!("{addr} is node {}'s address", m.id)));
                }
            }
        }
        let added = self
            .raft
            .add_learner(id, BasicNode::new(&addr), false)
            .await
            .map_err(|e| MembershipError::Refused(format!("adding node {id} as a learner: {e}")))?;
        let target = added.log_id.index;
        tracing::info!(node = id, %addr, "learner added; waiting for it to catch up");
        let caught_up = self
            .raft
            .wait(Some(CATCH_UP_TIMEOUT))
            .metrics(
                |m| {
                    let matched = m.replication.as_ref().and_then(|r| r.get(&id).copied().flatten());
                    matched.is_some_and(|l| l.index >= target)
                },
                "new learner caught up",
            )
            .await;
        if caught_up.is_err() {
            return Err(MembershipError::Refused(format!(
                "node {id} at {addr} did not catch up within {} s; it stays a learner: check that it runs \
                 and is reachable, then repeat the add, or remove it",
                CATCH_UP_TIMEOUT.as_secs()
            )));
        }
        self.raft
            .change_membership(ChangeMembers::AddVoterIds(BTreeSet::from([id])), false)
            .await
            .map_err(|e| MembershipError::Failed(format!("promoting node {id}: {e}")))?;
        tracing::info!(node = id, "promoted to voter");
        Ok(self.members_view())
    }

    async fn remove_member(&self, id: u64) -> MembershipResult {
        let current = self.members_view();
        let target = current.iter().find(|m| m.id == id).ok_or(MembershipError::NotFound(id))?;
        let change = match target.role {
            Role::Learner => ChangeMembers::RemoveNodes(BTreeSet::from([id])),
            Role::Voter => {
                self.check_quorum_without(&current, id)?;
                ChangeMembers::RemoveVoters(BTreeSet::from([id]))
            }
        };
        self.raft
            .change_membership(change, false)
            .await
            .map_err(|e| MembershipError::Failed(format!("removing node {id}: {e}")))?;
        tracing::info!(node = id, "removed from the cluster");
        // The leader may have removed itself and stepped down: answer with the new member list.
        Ok(current.into_iter().filter(|m| m.id != id).collect())
    }

    /// Refuses to remove voter `id` unless the remaining voters that are up and up to date form a
    /// quorum of the new configuration.
    fn check_quorum_without(&self, current: &[Member], id: u64) -> Result<(), MembershipError> {
        let remaining: Vec<&Member> = current.iter().filter(|m| m.role == Role::Voter && m.id != id).collect();
        if remaining.is_empty() {
            return Err(MembershipError::Refused(format!("node {id} is the last voter; a cluster needs one")));
        }
        let fresh_ms = self.config.election_timeout_ms.1 * 2;
        let committed = self.stats.committed().unwrap_or(0);
        let healthy: Vec<u64> = remaining
            .iter()
            .filter(|m| m.last_contact_ms.is_some_and(|ms| ms <= fresh_ms))
            .filter(|m| m.matched_index.unwrap_or(0) >= committed)
            .map(|m| m.id)
            .collect();
        if healthy.is_empty() {
            return Err(MembershipError::Refused(format!(
                "node {id} is the last up-to-date voter; removing it would lose committed entries"
            )));
        }
        let quorum = remaining.len() / 2 + 1;
        if healthy.len() < quorum {
            return Err(MembershipError::Refused(format!(
                "removing node {id} would leave {} of {} voters up to date ({:?}); a quorum needs {quorum}",
                healthy.len(),
                remaining.len(),
                healthy
            )));
        }
        Ok(())
    }
}

/// `host:port` with a numeric port.
fn check_addr(addr: &str) -> Result<(), MembershipError> {
    let bad = || MembershipError::Invalid(format!("addr {addr:?} is not host:port"));
    let (host, port) = addr.rsplit_once(':').ok_or_else(bad)?;
    if host.is_empty() || host.contains(char::is_whitespace) || port.parse::<u16>().map_or(true, |p| p == 0) {
        return Err(bad());
    }
    Ok(())
}

/// Last-contact bookkeeping for [`Member::last_contact_ms`].
#[derive(Debug, Default)]
pub(crate) struct Contacts {
    at: std::sync::Mutex<BTreeMap<NodeId, std::time::Instant>>,
}

impl Contacts {
    pub fn note(&self, id: NodeId) {
        if let Ok(mut at) = self.at.lock() {
            at.insert(id, std::time::Instant::now());
        }
    }

    pub fn since_ms(&self, id: NodeId) -> Option<u64> {
        let at = self.at.lock().ok()?;
        at.get(&id).map(|t| u64::try_from(t.elapsed().as_millis()).unwrap_or(u64::MAX))
    }
}

#[cfg(test)]
mod test {
    use super::*;

    #[test]
    fn addresses() {
        assert!(check_addr("127.0.0.1:6003").is_ok());
        assert!(check_addr("meta-4:8080").is_ok());
        assert!(check_addr("[::1]:6003").is_ok());
        for bad in ["", "host", ":80", "host:", "host:0", "host:99999", "a b:80", "host:x"] {
            assert!(check_addr(bad).is_err(), "{bad}");
        }
    }
}
