//! The fault schedule of a verify run: every `every`, one fault from the plan hits the leader or a
//! random node (alternately) for `lasts`, then is undone. One fault at a time, always undone before
//! the run ends.

use std::sync::Arc;
use std::sync::Mutex;
use std::time::Duration;
use std::time::Instant;

use crate::chaos::Deployment;
use crate::chaos::Fault;
use crate::chaos::Target;

pub struct Plan {
    pub faults: Vec<Fault>,
    pub every: Duration,
    pub lasts: Duration,
}

/// One thing the nemesis did, at `at` ns since the start of the run.
#[derive(Debug, Clone, serde::Serialize)]
pub struct NemesisEvent {
    pub at: u64,
    pub what: String,
}

pub async fn run(
    deployment: Deployment,
    plan: Plan,
    token: String,
    start: Instant,
    until: Instant,
    current: Arc<Mutex<String>>,
) -> Vec<NemesisEvent> {
    let mut log = Vec::new();
    let current_for_notes = current.clone();
    let mut note = |what: String| {
        log.push(NemesisEvent { at: start.elapsed().as_nanos() as u64, what: what.clone() });
        if let Ok(mut c) = current_for_notes.lock() {
            *c = what;
        }
    };
    if plan.faults.is_empty() {
        return log;
    }
    let mut round = 0usize;
    loop {
        // First fault after one quiet interval, so the run starts with a healthy baseline.
        let next = start + plan.every * (round as u32 + 1);
        if next + plan.lasts >= until {
            break;
        }
        tokio::time::sleep_until(next.into()).await;
        let fault = plan.faults[round % plan.faults.len()];
        let target = if round.is_multiple_of(2) { Target::Leader } else { Target::Random };
        round += 1;
        let id = match deployment.resolve(target, &token).await {
            Ok(id) => id,
            Err(e) => {
                note(format!("skipped {}: {e}", fault.name()));
                continue;
            }
        };
        match blocking(&deployment, move |d| d.inject(fault, id)).await {
            Ok(()) => note(format!("{} node {id} ({})", fault.name(), target_name(target))),
            Err(e) => {
                note(format!("{} node {id} failed: {e}", fault.name()));
                continue;
            }
        }
        tokio::time::sleep(plan.lasts).await;
        let what = match fault {
            Fault::Kill => "restart",
            Fault::Pause => "resume",
            Fault::Partition => "heal",
        };
        match blocking(&deployment, move |d| d.recover(fault, id)).await {
            Ok(()) => note(format!("{what} node {id}")),
            Err(e) => note(format!("{what} node {id} failed: {e}")),
        }
    }
    if let Ok(mut c) = current.lock() {
        *c = "none".into();
    }
    log
}

/// Runs a chaos action (processes, docker, iptables: blocking calls) off the async workers.
async fn blocking(
    deployment: &Deployment,
    f: impl FnOnce(&Deployment) -> Result<(), crate::chaos::ChaosError> + Send + 'static,
) -> Result<(), String> {
    let d = deployment.clone();
    match tokio::task::spawn_blocking(move || f(&d)).await {
        Ok(r) => r.map_err(|e| e.to_string()),
        Err(e) => Err(e.to_string()),
    }
}

fn target_name(t: Target) -> &'static str {
    match t {
        Target::Leader => "leader",
        Target::Follower => "follower",
        Target::Random => "random",
        Target::Node(_) => "chosen",
    }
}
