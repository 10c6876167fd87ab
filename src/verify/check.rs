//! Linearizability checker for `metaraft verify`.
//!
//! Each key is an independent register, so the history is partitioned by key and every key is checked on its own
//! with the Wing–Gong search plus Lowe's memoization, as in Porcupine: completed operations live in a doubly linked
//! list of call/return entries sorted by time, the search linearizes any call that precedes the first pending
//! return, and a cache of (linearized set, model state) prunes states that were already explored.
//!
//! Operations with an Unknown outcome are not put in the list. They may take effect at any time after their call or
//! never, so they are linearized lazily: one is only inserted immediately before a completed operation that could
//! not be linearized without it. This is complete for the register model because no operation empties the register,
//! so a run of unknown operations between two completed ones can always be replaced by its last state change, and a
//! change that the next completed operation does not need can be deferred past it (or forever). Unknown operations
//! with the same effect are interchangeable, so they are consumed in call order and the path only needs to remember
//! how many of each kind it spent. The cache entry for (linearized completed ops, state) keeps those counts, and a
//! state reached again having spent at least as much of every kind is pruned: more unknown ops left can only help.

use std::collections::hash_map::Entry;
use std::collections::{BTreeMap, HashMap, HashSet};
use std::ops::Range;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

/// Nanoseconds since the start of the run.
pub type Time = u64;

/// What a client asked for on one key.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub enum Op {
    /// Read the register.
    Read,
    /// Unconditional write (e.g. update_cluster_mysql_user_name).
    Write(String),
    /// Compare-and-set style transition to a target value: succeeds only if the current value differs from the
    /// target (e.g. set_instance_status SET_OVERDUE fails with "already overdue"); a definite failure means the
    /// value WAS the target at the linearization point.
    Transition(String),
    /// Create-once: succeeds only when the register is empty (None); a definite failure means it was already set.
    Create(String),
}

/// How the operation ended.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub enum Outcome {
    /// Acknowledged. For Read: the value observed (None = not found / empty). For other ops: None.
    Ok(Option<String>),
    /// Definitely refused by the model's rule (Transition: already at target; Create: already exists). Only used
    /// for Transition and Create; a definite failure with no information (e.g. connection refused) is dropped by the
    /// runner before checking.
    Failed,
    /// Timed out / connection lost after sending: may or may not have taken effect, at any time after the call.
    Unknown,
}

/// One client operation on one key.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct Event {
    /// Unique in the history.
    pub id: usize,
    pub client: usize,
    pub key: String,
    pub op: Op,
    pub call: Time,
    /// None when the outcome is Unknown (treated as returning at +infinity).
    pub ret: Option<Time>,
    pub outcome: Outcome,
}

/// Register state: None = empty / absent.
pub type State = Option<String>;

/// Applies one operation to the model; None means the outcome is impossible from this state.
/// (The search runs on interned values; this is the same rule over the public types, for tests.)
#[cfg(test)]
pub fn step(state: &State, op: &Op, outcome: &Outcome) -> Option<State> {
    let next = model_step(&state.as_deref(), &borrow_op(op), &borrow_outcome(outcome))?;
    Some(next.map(str::to_owned))
}

/// Result of checking one key.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub enum Verdict {
    Linearizable,
    NotLinearizable,
    /// Search budget exhausted: neither proven nor refuted.
    Undecided,
}

/// Per-key result, printable as JSON.
#[derive(Clone, Debug, serde::Serialize)]
pub struct KeyReport {
    pub key: String,
    /// Number of events of this key in the input.
    pub ops: usize,
    pub verdict: Verdict,
    /// For NotLinearizable: a minimal offending sub-history of this key, sorted by call time.
    pub minimal: Vec<Event>,
    /// For NotLinearizable: id of the op the search got stuck on at its deepest point (the op that had to be
    /// linearized before its return but could not be), for "could not linearize op #N".
    pub stuck_at: Option<usize>,
}

/// Budgets that keep a pathological history from stalling the run.
#[derive(Clone, Debug)]
pub struct Limits {
    pub max_steps_per_key: u64,
    pub minimize_budget: Duration,
}

impl Default for Limits {
    fn default() -> Self {
        Limits { max_steps_per_key: 20_000_000, minimize_budget: Duration::from_secs(10) }
    }
}

/// Partitions by key, checks each key (in parallel), and returns one report per key sorted by key. `initial` gives a
/// key's state before the history (missing key = None).
pub fn check(events: &[Event], initial: &HashMap<String, State>, limits: &Limits) -> Vec<KeyReport> {
    let mut by_key: BTreeMap<&str, Vec<Event>> = BTreeMap::new();
    for e in events {
        by_key.entry(e.key.as_str()).or_default().push(e.clone());
    }
    let keys: Vec<(&str, Vec<Event>)> = by_key.into_iter().collect();
    let workers = std::thread::available_parallelism().map_or(1, |n| n.get()).clamp(1, keys.len().max(1));
    let next = AtomicUsize::new(0);
    let mut out: Vec<Option<KeyReport>> = keys.iter().map(|_| None).collect();
    std::thread::scope(|s| {
        let handles: Vec<_> = (0..workers)
            .map(|_| {
                s.spawn(|| {
                    let mut done = Vec::new();
                    loop {
                        let i = next.fetch_add(1, Ordering::Relaxed);
                        let Some((key, evs)) = keys.get(i) else { break };
                        let init = initial.get(*key).cloned().flatten();
                        done.push((i, report_key(key, evs, &init, limits)));
                    }
                    done
                })
            })
            .collect();
        for h in handles {
            match h.join() {
                Ok(done) => {
                    for (i, report) in done {
                        out[i] = Some(report);
                    }
                }
                Err(panic) => std::panic::resume_unwind(panic),
            }
        }
    });
    out.into_iter().flatten().collect()
}

/// Single-key check (events all of one key; `key` is not looked at), exposed for tests and minimization.
pub fn check_key(events: &[Event], init: &State, max_steps: u64) -> Verdict {
    Search::new(events, init).run(max_steps).0
}

fn report_key(key: &str, events: &[Event], init: &State, limits: &Limits) -> KeyReport {
    let (verdict, stuck_at) = Search::new(events, init).run(limits.max_steps_per_key);
    let minimal = match (&verdict, stuck_at) {
        (Verdict::NotLinearizable, Some((_, steps))) => {
            // Sub-histories are rarely much harder to refute; a tighter budget keeps one hard candidate from eating
            // the whole minimization budget (an undecided candidate just keeps its events).
            let max_steps = limits.max_steps_per_key.min(steps.saturating_mul(4).max(100_000));
            minimize(events, init, max_steps, limits.minimize_budget)
        }
        _ => Vec::new(),
    };
    let stuck_at = stuck_at.map(|(id, _)| id);
    KeyReport { key: key.to_owned(), ops: events.len(), verdict, minimal, stuck_at }
}

/// Greedy shrinking: drop chunks (halving down to single events) while the rest stays NotLinearizable, then repeat
/// single-event passes until nothing more can go or the budget is spent.
fn minimize(events: &[Event], init: &State, max_steps: u64, budget: Duration) -> Vec<Event> {
    let deadline = Instant::now() + budget;
    let mut cur = events.to_vec();
    cur.sort_by_key(|e| (e.call, e.id));
    let mut chunk = (cur.len() / 2).max(1);
    loop {
        let mut changed = false;
        let mut i = 0;
        while i < cur.len() {
            if Instant::now() >= deadline {
                return cur;
            }
            let end = (i + chunk).min(cur.len());
            let rest: Vec<Event> = cur[..i].iter().chain(&cur[end..]).cloned().collect();
            if keeps_sources(&cur, i..end, init) && check_key(&rest, init, max_steps) == Verdict::NotLinearizable {
                cur = rest;
                changed = true;
            } else {
                i = end;
            }
        }
        if chunk > 1 {
            chunk /= 2;
        } else if !changed {
            return cur;
        }
    }
}

/// Refuses a removal that would leave an operation whose outcome no remaining write can explain (a read of a value
/// never written, a Create refused with nothing ever created, a Transition that succeeded although every value was
/// already its target): that turns the anomaly into a trivial one and hides the writes that explain the real one.
fn keeps_sources(cur: &[Event], removed: Range<usize>, init: &State) -> bool {
    /// What an outcome needs some write (or the initial value) to have produced before it returned.
    enum Need<'a> {
        Value(&'a str),
        AnyValue,
        OtherThan(&'a str),
    }
    fn produced(e: &Event) -> Option<(&str, Time)> {
        match (&e.op, &e.outcome) {
            (Op::Write(v) | Op::Transition(v) | Op::Create(v), Outcome::Ok(_) | Outcome::Unknown) => Some((v, e.call)),
            _ => None,
        }
    }
    fn need(e: &Event) -> Option<(Need<'_>, Time)> {
        let ret = e.ret.unwrap_or(Time::MAX);
        match (&e.op, &e.outcome) {
            (Op::Read, Outcome::Ok(Some(v))) | (Op::Transition(v), Outcome::Failed) => Some((Need::Value(v), ret)),
            (Op::Create(_), Outcome::Failed) => Some((Need::AnyValue, ret)),
            (Op::Transition(v), Outcome::Ok(_)) => Some((Need::OtherThan(v), ret)),
            _ => None,
        }
    }
    /// Earliest call of a write of each value.
    fn earliest<'a>(events: impl Iterator<Item = &'a Event>) -> HashMap<&'a str, Time> {
        let mut first: HashMap<&str, Time> = HashMap::new();
        for (v, call) in events.filter_map(produced) {
            let t = first.entry(v).or_insert(call);
            *t = (*t).min(call);
        }
        first
    }
    fn explained(first: &HashMap<&str, Time>, init: &State, need: &Need, ret: Time) -> bool {
        let init = init.as_deref();
        match need {
            Need::Value(v) => init == Some(*v) || first.get(v).is_some_and(|&call| call <= ret),
            Need::AnyValue => init.is_some() || first.values().any(|&call| call <= ret),
            Need::OtherThan(t) => init != Some(*t) || first.iter().any(|(v, &call)| v != t && call <= ret),
        }
    }
    let rest = || cur[..removed.start].iter().chain(&cur[removed.end..]);
    let before = earliest(cur.iter());
    let after = earliest(rest());
    rest().filter_map(need).all(|(n, ret)| explained(&after, init, &n, ret) || !explained(&before, init, &n, ret))
}

// ---------------------------------------------------------------------------------------------------------------
// Model, generic over the value type so the public String model and the interned u32 search share one definition.

enum ModelOp<V> {
    Read,
    Write(V),
    Transition(V),
    Create(V),
}

enum ModelOutcome<V> {
    Ok(Option<V>),
    Failed,
    Unknown,
}

#[cfg(test)]
fn borrow_op(op: &Op) -> ModelOp<&str> {
    match op {
        Op::Read => ModelOp::Read,
        Op::Write(v) => ModelOp::Write(v),
        Op::Transition(v) => ModelOp::Transition(v),
        Op::Create(v) => ModelOp::Create(v),
    }
}

#[cfg(test)]
fn borrow_outcome(outcome: &Outcome) -> ModelOutcome<&str> {
    match outcome {
        Outcome::Ok(v) => ModelOutcome::Ok(v.as_deref()),
        Outcome::Failed => ModelOutcome::Failed,
        Outcome::Unknown => ModelOutcome::Unknown,
    }
}

fn model_step<V: PartialEq + Clone>(
    state: &Option<V>,
    op: &ModelOp<V>,
    outcome: &ModelOutcome<V>,
) -> Option<Option<V>> {
    match (op, outcome) {
        (ModelOp::Read, ModelOutcome::Ok(v)) => (v == state).then(|| state.clone()),
        (ModelOp::Read, ModelOutcome::Unknown) => Some(state.clone()),
        (ModelOp::Read | ModelOp::Write(_), ModelOutcome::Failed) => None,
        (ModelOp::Write(v), ModelOutcome::Ok(_) | ModelOutcome::Unknown) => Some(Some(v.clone())),
        (ModelOp::Transition(t), ModelOutcome::Ok(_)) => (state.as_ref() != Some(t)).then(|| Some(t.clone())),
        (ModelOp::Transition(t), ModelOutcome::Failed) => (state.as_ref() == Some(t)).then(|| state.clone()),
        // Either it succeeded, or it failed because the value already was the target: both end at the target.
        (ModelOp::Transition(t), ModelOutcome::Unknown) => Some(Some(t.clone())),
        (ModelOp::Create(v), ModelOutcome::Ok(_)) => state.is_none().then(|| Some(v.clone())),
        (ModelOp::Create(_), ModelOutcome::Failed) => state.is_some().then(|| state.clone()),
        (ModelOp::Create(v), ModelOutcome::Unknown) => Some(Some(state.clone().unwrap_or_else(|| v.clone()))),
    }
}

// ---------------------------------------------------------------------------------------------------------------
// Search.

/// Interned register state: value ids instead of strings keep steps and cache keys cheap.
type IState = Option<u32>;

/// Which unknown groups could make a failing completed op succeed (no op empties the register, so e.g. a read of
/// None can never be helped).
enum Relevant {
    Nothing,
    Value(u32),
    Any,
}

struct Completed {
    id: usize,
    op: ModelOp<u32>,
    outcome: ModelOutcome<u32>,
    relevant: Relevant,
}

/// Unknown ops with the same effect (Write and Transition of a value both end at that value). Members are
/// interchangeable once called, so they are consumed in call order and only the count consumed matters.
struct Group {
    op: ModelOp<u32>,
    /// Call times, sorted.
    members: Vec<Time>,
    /// Bit of the first member in `Search::consumed`.
    base: usize,
}

#[derive(Clone, Copy)]
enum Node {
    Head,
    Tail,
    Call { op: usize, ret_entry: usize },
    Ret { op: usize, time: Time },
}

struct Frame {
    entry: usize,
    alt: usize,
    with_unknown: bool,
    prev: IState,
    group: Option<usize>,
}

const HEAD: usize = 0;

/// Rough cap on one key's memo: give up (Undecided) rather than get the whole run killed for memory, since keys are
/// checked in parallel.
const MAX_MEMO_BYTES: usize = 1 << 29;

struct Search {
    ops: Vec<Completed>,
    groups: Vec<Group>,
    by_value: HashMap<u32, Vec<usize>>,
    /// Per group, how many members the current path has consumed.
    used: Vec<u32>,
    /// The same as a bitset over all unknown members (each group's consumed prefix), so that "consumed no more of
    /// any group" is a subset test.
    consumed: Vec<u64>,
    nodes: Vec<Node>,
    next: Vec<usize>,
    prev: Vec<usize>,
    init: IState,
    /// Linearized completed ops as a bitset followed by one word for the model state: the cache key.
    key: Vec<u64>,
    /// A completed op that no reachable state accepts (e.g. a read of a value nobody wrote): refuted without search.
    hopeless: Option<usize>,
}

struct Interner(HashMap<String, u32>);

impl Interner {
    fn id(&mut self, v: &str) -> u32 {
        let n = self.0.len() as u32;
        *self.0.entry(v.to_owned()).or_insert(n)
    }
    fn op(&mut self, op: &Op) -> ModelOp<u32> {
        match op {
            Op::Read => ModelOp::Read,
            Op::Write(v) => ModelOp::Write(self.id(v)),
            Op::Transition(v) => ModelOp::Transition(self.id(v)),
            Op::Create(v) => ModelOp::Create(self.id(v)),
        }
    }
    fn outcome(&mut self, outcome: &Outcome) -> ModelOutcome<u32> {
        match outcome {
            Outcome::Ok(v) => ModelOutcome::Ok(v.as_deref().map(|v| self.id(v))),
            Outcome::Failed => ModelOutcome::Failed,
            Outcome::Unknown => ModelOutcome::Unknown,
        }
    }
}

impl Search {
    fn new(events: &[Event], init: &State) -> Search {
        let mut names = Interner(HashMap::new());
        let init = init.as_deref().map(|v| names.id(v));
        let mut ops = Vec::new();
        let mut times = Vec::new();
        let mut unknown = Vec::new();
        for e in events {
            match (&e.op, &e.outcome) {
                // An unknown read constrains nothing.
                (Op::Read, Outcome::Unknown) => {}
                (op, Outcome::Unknown) => unknown.push((e.call, names.op(op))),
                (op, outcome) => {
                    let op = names.op(op);
                    let outcome = names.outcome(outcome);
                    let relevant = match (&op, &outcome) {
                        (ModelOp::Read, ModelOutcome::Ok(Some(v))) => Relevant::Value(*v),
                        (ModelOp::Transition(t), ModelOutcome::Failed) => Relevant::Value(*t),
                        (ModelOp::Transition(_), ModelOutcome::Ok(_)) | (ModelOp::Create(_), ModelOutcome::Failed) => {
                            Relevant::Any
                        }
                        _ => Relevant::Nothing,
                    };
                    // A completed op without a return time can still be linearized at any point after its call.
                    times.push((e.call, e.ret.unwrap_or(Time::MAX).max(e.call)));
                    ops.push(Completed { id: e.id, op, outcome, relevant });
                }
            }
        }
        let n = ops.len();
        let hopeless = Self::hopeless(&ops, &unknown, init);
        let mut groups: Vec<Group> = Vec::new();
        let mut group_of: HashMap<(bool, u32), usize> = HashMap::new();
        let mut by_value: HashMap<u32, Vec<usize>> = HashMap::new();
        unknown.sort_by_key(|(call, _)| *call);
        for (call, op) in unknown {
            let (create, v) = match op {
                ModelOp::Create(v) => (true, v),
                ModelOp::Write(v) | ModelOp::Transition(v) => (false, v),
                ModelOp::Read => continue,
            };
            let g = match group_of.entry((create, v)) {
                Entry::Occupied(o) => *o.get(),
                Entry::Vacant(slot) => {
                    let op = if create { ModelOp::Create(v) } else { ModelOp::Write(v) };
                    groups.push(Group { op, members: Vec::new(), base: 0 });
                    by_value.entry(v).or_default().push(groups.len() - 1);
                    *slot.insert(groups.len() - 1)
                }
            };
            groups[g].members.push(call);
        }

        // Entries sorted by time, calls before returns at equal times (touching intervals count as concurrent).
        let mut order: Vec<(Time, bool, usize)> = Vec::with_capacity(2 * n);
        for (i, &(call, ret)) in times.iter().enumerate() {
            order.push((call, false, i));
            order.push((ret, true, i));
        }
        order.sort();
        let mut ret_entry = vec![0; n];
        for (k, &(_, is_ret, i)) in order.iter().enumerate() {
            if is_ret {
                ret_entry[i] = k + 1; // +1 for the head sentinel
            }
        }
        let mut nodes = vec![Node::Head];
        for &(time, is_ret, i) in &order {
            nodes.push(if is_ret { Node::Ret { op: i, time } } else { Node::Call { op: i, ret_entry: ret_entry[i] } });
        }
        nodes.push(Node::Tail);
        let len = nodes.len();
        let next = (0..len).map(|i| (i + 1).min(len - 1)).collect();
        let prev = (0..len).map(|i| i.saturating_sub(1)).collect();
        let mut bits = 0;
        for g in &mut groups {
            g.base = bits;
            bits += g.members.len();
        }
        let used = vec![0; groups.len()];
        let consumed = vec![0; bits.div_ceil(64)];
        let key = vec![0; n.div_ceil(64) + 1];
        Search { ops, groups, by_value, used, consumed, nodes, next, prev, init, key, hopeless }
    }

    fn hopeless(ops: &[Completed], unknown: &[(Time, ModelOp<u32>)], init: IState) -> Option<usize> {
        let mut written: HashSet<u32> = init.into_iter().collect();
        for op in ops
            .iter()
            .filter(|c| !matches!(c.outcome, ModelOutcome::Failed))
            .map(|c| &c.op)
            .chain(unknown.iter().map(|u| &u.1))
        {
            if let ModelOp::Write(v) | ModelOp::Transition(v) | ModelOp::Create(v) = op {
                written.insert(*v);
            }
        }
        let possible = |c: &Completed| match (&c.op, &c.outcome) {
            (ModelOp::Read, ModelOutcome::Ok(Some(v))) | (ModelOp::Transition(v), ModelOutcome::Failed) => {
                written.contains(v)
            }
            (ModelOp::Read | ModelOp::Write(_), ModelOutcome::Failed) => false,
            (ModelOp::Create(_), ModelOutcome::Failed) => !written.is_empty(),
            // Nothing empties the register.
            (ModelOp::Create(_), ModelOutcome::Ok(_)) => init.is_none(),
            _ => true,
        };
        ops.iter().find(|c| !possible(c)).map(|c| c.id)
    }

    fn lift(&mut self, call: usize, ret: usize) {
        for e in [call, ret] {
            let (p, n) = (self.prev[e], self.next[e]);
            self.next[p] = n;
            self.prev[n] = p;
        }
    }

    fn unlift(&mut self, call: usize, ret: usize) {
        for e in [ret, call] {
            let (p, n) = (self.prev[e], self.next[e]);
            self.next[p] = e;
            self.prev[n] = e;
        }
    }

    fn flip(&mut self, bit: usize) {
        self.key[bit / 64] ^= 1 << (bit % 64);
    }

    /// Earliest return among ops not yet linearized: an op may be linearized next only if it was called by then.
    fn min_ret(&self) -> Time {
        let mut e = self.next[HEAD];
        loop {
            match self.nodes[e] {
                Node::Ret { time, .. } => return time,
                Node::Tail | Node::Head => return Time::MAX,
                Node::Call { .. } => e = self.next[e],
            }
        }
    }

    fn relevant_group(&self, op: usize, k: usize) -> Option<usize> {
        match self.ops[op].relevant {
            Relevant::Nothing => None,
            Relevant::Value(v) => self.by_value.get(&v).and_then(|gs| gs.get(k).copied()),
            Relevant::Any => (k < self.groups.len()).then_some(k),
        }
    }

    /// Tries alternative `alt` and later ones for linearizing `op` from `state`. Alternative 0 is the op alone; the
    /// others (only in the `with_unknown` pass) put one unknown op right before it, only when the op fails alone and
    /// succeeds after the unknown one. Returns (alternative, unknown group, new state).
    fn try_op(
        &self,
        op: usize,
        state: IState,
        alt: usize,
        with_unknown: bool,
    ) -> Option<(usize, Option<usize>, IState)> {
        let c = &self.ops[op];
        let alone = model_step(&state, &c.op, &c.outcome);
        if !with_unknown {
            return alone.filter(|_| alt == 0).map(|next| (0, None, next));
        }
        if alone.is_some() {
            return None;
        }
        let min_ret = self.min_ret();
        let mut k = alt.saturating_sub(1);
        while let Some(g) = self.relevant_group(op, k) {
            k += 1;
            let group = &self.groups[g];
            let Some(&call) = group.members.get(self.used[g] as usize) else { continue };
            if call > min_ret {
                continue;
            }
            let Some(mid) = model_step(&state, &group.op, &ModelOutcome::Unknown) else { continue };
            if mid == state {
                continue;
            }
            if let Some(next) = model_step(&mid, &c.op, &c.outcome) {
                return Some((k, Some(g), next));
            }
        }
        None
    }

    /// Whether a state with these linearized completed ops and model state was already explored (and so failed)
    /// with at most as many unknown ops consumed from every group: having more of them left can only help.
    fn dominated(&self, explored: &[Box<[u64]>]) -> bool {
        explored.iter().any(|seen| seen.iter().zip(&self.consumed).all(|(s, c)| s & !c == 0))
    }

    /// Takes (`take`) or gives back the next member of group `g`.
    fn consume(&mut self, g: usize, take: bool) {
        if !take {
            self.used[g] -= 1;
        }
        let bit = self.groups[g].base + self.used[g] as usize;
        self.consumed[bit / 64] ^= 1 << (bit % 64);
        if take {
            self.used[g] += 1;
        }
    }

    /// Returns the verdict and, when not linearizable, the id of the op stuck at the deepest point reached and the
    /// number of steps the refutation took.
    fn run(mut self, max_steps: u64) -> (Verdict, Option<(usize, u64)>) {
        if let Some(id) = self.hopeless {
            return (Verdict::NotLinearizable, Some((id, 0)));
        }
        // Keyed by linearized completed ops + model state; values are the unknown-consumption vectors explored.
        let mut cache: HashMap<Vec<u64>, Vec<Box<[u64]>>> = HashMap::new();
        let mut stack: Vec<Frame> = Vec::new();
        let mut state = self.init;
        let mut stuck: Option<(usize, usize)> = None;
        let mut entry = self.next[HEAD];
        let mut alt = 0;
        // Each node first tries every op alone, then with an unknown op: paths that spend fewer unknown ops come
        // first, so the memo more often already holds the cheapest way to a state.
        let mut with_unknown = false;
        let mut steps = 0u64;
        let mut memo_bytes = 0usize;
        let state_word = self.key.len() - 1;
        loop {
            steps += 1;
            if steps > max_steps {
                return (Verdict::Undecided, None);
            }
            match self.nodes[entry] {
                // Every completed op is linearized; remaining unknown ops go at the end, where they always apply.
                Node::Tail | Node::Head => return (Verdict::Linearizable, None),
                Node::Call { op, ret_entry } => match self.try_op(op, state, alt, with_unknown) {
                    None => {
                        entry = self.next[entry];
                        alt = usize::from(with_unknown);
                    }
                    Some((found, group, next_state)) => {
                        self.flip(op);
                        self.key[state_word] = next_state.map_or(0, |v| u64::from(v) + 1);
                        if let Some(g) = group {
                            self.consume(g, true);
                        }
                        let seen = cache.get(self.key.as_slice());
                        if seen.is_some_and(|seen| self.dominated(seen)) {
                            self.flip(op);
                            if let Some(g) = group {
                                self.consume(g, false);
                            }
                            alt = found + 1;
                            continue;
                        }
                        let consumed: Box<[u64]> = self.consumed.clone().into_boxed_slice();
                        memo_bytes += 8 * consumed.len() + 16;
                        match cache.get_mut(self.key.as_slice()) {
                            Some(seen) => {
                                // Entries consuming at least as much are now redundant.
                                seen.retain(|old| !consumed.iter().zip(old.iter()).all(|(c, o)| c & !o == 0));
                                seen.push(consumed);
                            }
                            None => {
                                memo_bytes += 8 * self.key.len() + 64;
                                cache.insert(self.key.clone(), vec![consumed]);
                            }
                        }
                        if memo_bytes > MAX_MEMO_BYTES {
                            return (Verdict::Undecided, None);
                        }
                        stack.push(Frame { entry, alt: found, with_unknown, prev: state, group });
                        state = next_state;
                        self.lift(entry, ret_entry);
                        entry = self.next[HEAD];
                        alt = 0;
                        with_unknown = false;
                    }
                },
                Node::Ret { .. } if !with_unknown && !self.groups.is_empty() => {
                    entry = self.next[HEAD];
                    alt = 1;
                    with_unknown = true;
                }
                Node::Ret { op, .. } => {
                    if stuck.is_none_or(|(depth, _)| stack.len() > depth) {
                        stuck = Some((stack.len(), self.ops[op].id));
                    }
                    let Some(frame) = stack.pop() else {
                        return (Verdict::NotLinearizable, stuck.map(|s| (s.1, steps)));
                    };
                    let Node::Call { op, ret_entry } = self.nodes[frame.entry] else {
                        return (Verdict::Undecided, None);
                    };
                    self.unlift(frame.entry, ret_entry);
                    self.flip(op);
                    if let Some(g) = frame.group {
                        self.consume(g, false);
                    }
                    state = frame.prev;
                    entry = frame.entry;
                    alt = frame.alt + 1;
                    with_unknown = frame.with_unknown;
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const MAX: u64 = 1_000_000;

    fn ev(id: usize, op: Op, call: Time, ret: Option<Time>, outcome: Outcome) -> Event {
        Event { id, client: id, key: "k".to_owned(), op, call, ret, outcome }
    }
    fn w(id: usize, v: &str, call: Time, ret: Time) -> Event {
        ev(id, Op::Write(v.to_owned()), call, Some(ret), Outcome::Ok(None))
    }
    fn r(id: usize, v: Option<&str>, call: Time, ret: Time) -> Event {
        ev(id, Op::Read, call, Some(ret), Outcome::Ok(v.map(str::to_owned)))
    }
    fn tr(id: usize, v: &str, call: Time, ret: Time, ok: bool) -> Event {
        let outcome = if ok { Outcome::Ok(None) } else { Outcome::Failed };
        ev(id, Op::Transition(v.to_owned()), call, Some(ret), outcome)
    }
    fn cr(id: usize, v: &str, call: Time, ret: Time, ok: bool) -> Event {
        let outcome = if ok { Outcome::Ok(None) } else { Outcome::Failed };
        ev(id, Op::Create(v.to_owned()), call, Some(ret), outcome)
    }
    fn unknown(id: usize, op: Op, call: Time) -> Event {
        ev(id, op, call, None, Outcome::Unknown)
    }
    fn s(v: &str) -> State {
        Some(v.to_owned())
    }
    fn verdict(events: &[Event]) -> Verdict {
        check_key(events, &None, MAX)
    }
    fn report(events: &[Event]) -> KeyReport {
        let mut reports = check(events, &HashMap::new(), &Limits::default());
        assert_eq!(reports.len(), 1);
        reports.remove(0)
    }
    fn ids(events: &[Event]) -> Vec<usize> {
        events.iter().map(|e| e.id).collect()
    }

    #[test]
    fn step_follows_the_register_rules() {
        let (a, b) = (s("a"), s("b"));
        assert_eq!(step(&a, &Op::Read, &Outcome::Ok(a.clone())), Some(a.clone()));
        assert_eq!(step(&a, &Op::Read, &Outcome::Ok(None)), None);
        assert_eq!(step(&a, &Op::Read, &Outcome::Unknown), Some(a.clone()));
        assert_eq!(step(&a, &Op::Read, &Outcome::Failed), None);
        assert_eq!(step(&None, &Op::Write("b".into()), &Outcome::Unknown), Some(b.clone()));
        assert_eq!(step(&a, &Op::Write("b".into()), &Outcome::Failed), None);
        assert_eq!(step(&a, &Op::Transition("b".into()), &Outcome::Ok(None)), Some(b.clone()));
        assert_eq!(step(&b, &Op::Transition("b".into()), &Outcome::Ok(None)), None);
        assert_eq!(step(&b, &Op::Transition("b".into()), &Outcome::Failed), Some(b.clone()));
        assert_eq!(step(&a, &Op::Transition("b".into()), &Outcome::Failed), None);
        assert_eq!(step(&a, &Op::Transition("b".into()), &Outcome::Unknown), Some(b.clone()));
        assert_eq!(step(&None, &Op::Create("a".into()), &Outcome::Ok(None)), Some(a.clone()));
        assert_eq!(step(&b, &Op::Create("a".into()), &Outcome::Ok(None)), None);
        assert_eq!(step(&b, &Op::Create("a".into()), &Outcome::Failed), Some(b.clone()));
        assert_eq!(step(&None, &Op::Create("a".into()), &Outcome::Failed), None);
        assert_eq!(step(&None, &Op::Create("a".into()), &Outcome::Unknown), Some(a.clone()));
        assert_eq!(step(&b, &Op::Create("a".into()), &Outcome::Unknown), Some(b));
    }

    #[test]
    fn sequential_write_read() {
        let h = [r(0, None, 0, 1), w(1, "a", 2, 3), r(2, Some("a"), 4, 5), w(3, "b", 6, 7), r(4, Some("b"), 8, 9)];
        assert_eq!(verdict(&h), Verdict::Linearizable);
        assert_eq!(report(&h).verdict, Verdict::Linearizable);
    }

    #[test]
    fn concurrent_writes_with_reads_seeing_either_order() {
        // a and b overlap, so either may win; the reads must agree with one order.
        let base = [w(0, "a", 0, 10), w(1, "b", 0, 10)];
        for (first, last) in [("a", "b"), ("b", "a")] {
            let mut h = base.to_vec();
            h.extend([r(2, Some(first), 1, 9), r(3, Some(last), 11, 12)]);
            assert_eq!(verdict(&h), Verdict::Linearizable, "{first} then {last}");
        }
        // Both orders observed one after the other is not possible.
        let mut h = base.to_vec();
        h.extend([r(2, Some("a"), 11, 12), r(3, Some("b"), 13, 14), r(4, Some("a"), 15, 16)]);
        assert_eq!(verdict(&h), Verdict::NotLinearizable);
    }

    #[test]
    fn reads_concurrent_with_a_write_see_old_or_new() {
        let h = [w(0, "old", 0, 1), w(1, "new", 10, 20), r(2, Some("old"), 11, 19), r(3, Some("new"), 12, 18)];
        assert_eq!(verdict(&h), Verdict::Linearizable);
        let h = [w(0, "old", 0, 1), w(1, "new", 10, 20), r(2, Some("new"), 11, 15), r(3, Some("old"), 16, 19)];
        assert_eq!(verdict(&h), Verdict::NotLinearizable, "new then old, sequentially");
    }

    #[test]
    fn transition_ok_and_failed_sequences() {
        let h = [
            tr(0, "OVERDUE", 0, 1, true),
            tr(1, "OVERDUE", 2, 3, false),
            tr(2, "ACTIVE", 4, 5, true),
            tr(3, "OVERDUE", 6, 7, true),
            r(4, Some("OVERDUE"), 8, 9),
        ];
        assert_eq!(verdict(&h), Verdict::Linearizable);
        // Concurrent transitions: one wins, the other sees it already done.
        let h = [tr(0, "OVERDUE", 0, 10, true), tr(1, "OVERDUE", 0, 10, false)];
        assert_eq!(verdict(&h), Verdict::Linearizable);
        // A failure needs the value to be the target.
        let h = [w(0, "ACTIVE", 0, 1), tr(1, "OVERDUE", 2, 3, false)];
        assert_eq!(verdict(&h), Verdict::NotLinearizable);
    }

    #[test]
    fn create_race_with_one_winner() {
        let mut h: Vec<Event> = (0..5).map(|i| cr(i, &format!("c{i}"), i as Time, 20, i == 3)).collect();
        h.push(r(5, Some("c3"), 21, 22));
        assert_eq!(verdict(&h), Verdict::Linearizable);
        h[5] = r(5, Some("c1"), 21, 22);
        assert_eq!(verdict(&h), Verdict::NotLinearizable, "a loser's value was read");
    }

    #[test]
    fn unknown_write_later_observed() {
        let h = [
            w(0, "v1", 0, 1),
            unknown(1, Op::Write("v2".into()), 2),
            r(2, Some("v1"), 10, 11),
            r(3, Some("v2"), 20, 21),
        ];
        assert_eq!(verdict(&h), Verdict::Linearizable);
        // Once observed it has happened: the old value cannot come back.
        let mut h = h.to_vec();
        h.push(r(4, Some("v1"), 30, 31));
        assert_eq!(verdict(&h), Verdict::NotLinearizable);
        // It cannot take effect before it was sent.
        let h = [w(0, "v1", 0, 1), r(1, Some("v2"), 10, 11), unknown(2, Op::Write("v2".into()), 20)];
        assert_eq!(verdict(&h), Verdict::NotLinearizable);
    }

    #[test]
    fn unknown_write_never_observed() {
        let h = [
            w(0, "v1", 0, 1),
            unknown(1, Op::Write("v2".into()), 2),
            r(2, Some("v1"), 10, 11),
            r(3, Some("v1"), 20, 21),
        ];
        assert_eq!(verdict(&h), Verdict::Linearizable);
    }

    #[test]
    fn unknown_create_and_transition() {
        let h = [
            unknown(0, Op::Create("a".into()), 0),
            r(1, None, 1, 2),
            r(2, Some("a"), 3, 4),
            cr(3, "b", 5, 6, false),
            unknown(4, Op::Transition("OVERDUE".into()), 7),
            tr(5, "OVERDUE", 8, 9, false),
            r(6, Some("OVERDUE"), 10, 11),
        ];
        assert_eq!(verdict(&h), Verdict::Linearizable);
        // An unknown create cannot overwrite an existing value.
        let h = [w(0, "x", 0, 1), unknown(1, Op::Create("a".into()), 2), r(2, Some("a"), 3, 4)];
        assert_eq!(verdict(&h), Verdict::NotLinearizable);
        // An unknown read says nothing, even about an impossible value.
        let h = [w(0, "x", 0, 1), ev(1, Op::Read, 2, None, Outcome::Unknown), r(2, Some("x"), 3, 4)];
        assert_eq!(verdict(&h), Verdict::Linearizable);
    }

    #[test]
    fn memo_distinguishes_consumed_unknown_ops() {
        // Writing a then transitioning to a needs the unknown write of b in between; the other order reaches the
        // same point (both linearized, state a) without it. The search tries the first way first and then cannot
        // explain read 4, so the memo must not treat the second way as already explored.
        let h = [
            unknown(0, Op::Write("b".into()), 0),
            w(1, "a", 1, 10),
            tr(2, "a", 2, 10, true),
            r(3, Some("a"), 15, 16),
            r(4, Some("b"), 20, 30),
        ];
        assert_eq!(verdict(&h), Verdict::Linearizable);
    }

    #[test]
    fn many_unknown_ops_stay_cheap() {
        // 60 pending unknown writes of 20 values, while reads keep observing them.
        let mut h = vec![w(0, "v0", 0, 1)];
        for i in 0..60 {
            h.push(unknown(h.len(), Op::Write(format!("v{}", i % 20)), 2 + i as Time));
        }
        for i in 0..60 {
            let t = 100 + 10 * i as Time;
            h.push(r(h.len(), Some(&format!("v{}", (i * 7) % 20)), t, t + 5));
        }
        assert_eq!(check_key(&h, &None, 100_000), Verdict::Linearizable);
        h.push(r(h.len(), Some("v20"), 5000, 5001));
        assert_eq!(check_key(&h, &None, 100_000), Verdict::NotLinearizable);
    }

    #[test]
    fn stale_read_is_minimized_to_the_write_and_the_read() {
        let h = [
            w(0, "v1", 0, 10),
            r(1, Some("v1"), 11, 12),
            w(2, "v2", 20, 30),
            r(3, Some("v2"), 31, 32),
            r(4, Some("v1"), 40, 50),
            r(5, Some("v1"), 41, 42),
        ];
        let rep = report(&h);
        assert_eq!(rep.verdict, Verdict::NotLinearizable);
        let m = ids(&rep.minimal);
        assert!(m.contains(&2) && (m.contains(&4) || m.contains(&5)), "{m:?}");
        assert!(m.contains(&0), "the write of the old value explains it: {m:?}");
        assert!(m.len() <= 3, "{m:?}");
        assert!(rep.minimal.windows(2).all(|p| p[0].call <= p[1].call));
        assert_eq!(check_key(&rep.minimal, &None, MAX), Verdict::NotLinearizable);
        assert!(matches!(rep.stuck_at, Some(4 | 5)), "{:?}", rep.stuck_at);
    }

    #[test]
    fn minimization_keeps_what_explains_refusals_and_transitions() {
        // A create refused although nothing was ever created explains nothing: the minimal history keeps the read
        // of None after the acknowledged create, and the create itself.
        let h = [cr(0, "a", 0, 10, true), r(1, Some("a"), 11, 12), r(2, None, 20, 21), cr(3, "b", 30, 31, false)];
        let m = ids(&report(&h).minimal);
        assert!(m.contains(&0) && m.contains(&2), "{m:?}");
        // A stale status read between two successful transitions stays in the minimal history.
        let h = [tr(0, "OVERDUE", 0, 10, true), r(1, Some("NORMAL"), 20, 21), tr(2, "NORMAL", 30, 40, true)];
        let init = HashMap::from([("k".to_string(), s("NORMAL"))]);
        let rep = check(&h, &init, &Limits::default()).remove(0);
        assert_eq!(rep.verdict, Verdict::NotLinearizable);
        let m = ids(&rep.minimal);
        assert!(m.contains(&0) && m.contains(&1), "{m:?}");
    }

    #[test]
    fn lost_acknowledged_write() {
        let h = [w(0, "v1", 0, 10), w(1, "v2", 20, 30), r(2, Some("v1"), 40, 50)];
        assert_eq!(verdict(&h), Verdict::NotLinearizable);
        let h = [r(0, None, 0, 1), w(1, "v1", 20, 30), r(2, None, 40, 50)];
        let rep = report(&h);
        assert_eq!(rep.verdict, Verdict::NotLinearizable);
        assert_eq!(ids(&rep.minimal), vec![1, 2]);
        assert_eq!(rep.stuck_at, Some(2));
    }

    #[test]
    fn transition_succeeding_twice() {
        let h = [tr(0, "OVERDUE", 0, 10, true), r(1, Some("OVERDUE"), 12, 13), tr(2, "OVERDUE", 20, 30, true)];
        let rep = report(&h);
        assert_eq!(rep.verdict, Verdict::NotLinearizable);
        assert_eq!(ids(&rep.minimal), vec![0, 2]);
        // With a change in between it is fine.
        let h = [tr(0, "OVERDUE", 0, 10, true), tr(1, "ACTIVE", 12, 13, true), tr(2, "OVERDUE", 20, 30, true)];
        assert_eq!(verdict(&h), Verdict::Linearizable);
    }

    #[test]
    fn create_succeeding_twice() {
        let h = [cr(0, "a", 0, 10, true), cr(1, "b", 20, 30, true)];
        assert_eq!(verdict(&h), Verdict::NotLinearizable);
        let h = [cr(0, "a", 0, 10, true), cr(1, "b", 5, 30, true)];
        assert_eq!(verdict(&h), Verdict::NotLinearizable, "concurrent creates cannot both win");
        assert_eq!(check_key(&[cr(0, "a", 0, 10, true)], &s("z"), MAX), Verdict::NotLinearizable);
    }

    #[test]
    fn read_of_a_value_never_written() {
        let h = [w(0, "a", 0, 1), r(1, Some("ghost"), 2, 3), r(2, Some("a"), 4, 5)];
        let rep = report(&h);
        assert_eq!(rep.verdict, Verdict::NotLinearizable);
        assert_eq!(ids(&rep.minimal), vec![1]);
        // ... unless it was the initial state.
        assert_eq!(check_key(&[r(1, Some("ghost"), 2, 3)], &s("ghost"), MAX), Verdict::Linearizable);
    }

    #[test]
    fn step_budget_gives_undecided() {
        // "c" is written, but only after the read, so refuting it takes a (tiny) search.
        let h = [w(0, "a", 0, 10), w(1, "b", 0, 10), r(2, Some("c"), 0, 10), unknown(3, Op::Write("c".into()), 20)];
        assert_eq!(check_key(&h, &None, 2), Verdict::Undecided);
        assert_eq!(check_key(&h, &None, MAX), Verdict::NotLinearizable);
    }

    #[test]
    fn check_partitions_by_key() {
        let mut h = vec![w(0, "a", 0, 1), r(1, Some("a"), 2, 3), w(2, "x", 0, 1), r(3, Some("y"), 2, 3)];
        for (i, e) in h.iter_mut().enumerate() {
            e.key = if i < 2 { "a" } else { "b" }.to_owned();
        }
        h.push(Event { key: "c".to_owned(), ..r(4, Some("init"), 0, 1) });
        let initial = HashMap::from([("c".to_owned(), s("init")), ("a".to_owned(), None)]);
        let reports = check(&h, &initial, &Limits::default());
        let keys: Vec<&str> = reports.iter().map(|r| r.key.as_str()).collect();
        assert_eq!(keys, ["a", "b", "c"]);
        assert_eq!(reports[0].verdict, Verdict::Linearizable);
        assert!(reports[0].minimal.is_empty() && reports[0].stuck_at.is_none());
        assert_eq!(reports[1].verdict, Verdict::NotLinearizable);
        assert_eq!((reports[1].ops, ids(&reports[1].minimal)), (2, vec![3]));
        assert_eq!(reports[2].verdict, Verdict::Linearizable);
    }

    /// xorshift64: deterministic, no dependency.
    struct Rng(u64);
    impl Rng {
        fn below(&mut self, n: u64) -> u64 {
            self.0 ^= self.0 << 13;
            self.0 ^= self.0 >> 7;
            self.0 ^= self.0 << 17;
            self.0 % n
        }
    }

    /// Simulates clients against a sequential register (linearization point strictly inside each interval, timed
    /// out ops applied later or never), so the history is linearizable by construction. With `unique_writes` every
    /// write has its own value (so a stale read can be planted for sure); otherwise values collide a lot.
    fn random_history(seed: u64, clients: usize, ops: usize, keys: usize, unique_writes: bool) -> Vec<Event> {
        #[derive(Clone)]
        enum Phase {
            Idle,
            Called(Event),
            Applied(Event),
        }
        fn apply(state: &mut State, op: &Op) -> Outcome {
            match op {
                Op::Read => Outcome::Ok(state.clone()),
                Op::Write(v) => {
                    *state = Some(v.clone());
                    Outcome::Ok(None)
                }
                Op::Transition(t) if state.as_ref() != Some(t) => {
                    *state = Some(t.clone());
                    Outcome::Ok(None)
                }
                Op::Create(v) if state.is_none() => {
                    *state = Some(v.clone());
                    Outcome::Ok(None)
                }
                Op::Transition(_) | Op::Create(_) => Outcome::Failed,
            }
        }
        let mut rng = Rng(seed);
        let mut model: HashMap<String, State> = HashMap::new();
        let mut phases = vec![Phase::Idle; clients];
        let mut orphans: Vec<(String, Op)> = Vec::new();
        let mut events = Vec::new();
        let (mut started, mut t) = (0, 0);
        while started < ops || phases.iter().any(|p| !matches!(p, Phase::Idle)) {
            t += 1;
            if !orphans.is_empty() && rng.below(20) == 0 {
                let (key, op) = orphans.swap_remove(rng.below(orphans.len() as u64) as usize);
                apply(model.entry(key).or_default(), &op);
            }
            let c = rng.below(clients as u64) as usize;
            phases[c] = match phases[c].clone() {
                Phase::Idle if started < ops => {
                    let v = format!("v{}", rng.below(6));
                    let op = match rng.below(10) {
                        0..=3 => Op::Read,
                        4..=6 if unique_writes => Op::Write(format!("w{started}")),
                        4..=6 => Op::Write(v),
                        7..=8 => Op::Transition(if rng.below(2) == 0 { "OVERDUE".to_owned() } else { v }),
                        _ => Op::Create(v),
                    };
                    let key = format!("key{}", rng.below(keys as u64));
                    started += 1;
                    Phase::Called(Event {
                        id: started,
                        client: c,
                        key,
                        op,
                        call: t,
                        ret: None,
                        outcome: Outcome::Unknown,
                    })
                }
                Phase::Idle => Phase::Idle,
                Phase::Called(e) if rng.below(15) == 0 => {
                    if rng.below(2) == 0 {
                        orphans.push((e.key.clone(), e.op.clone()));
                    }
                    events.push(e);
                    Phase::Idle
                }
                Phase::Called(mut e) => {
                    e.outcome = apply(model.entry(e.key.clone()).or_default(), &e.op);
                    Phase::Applied(e)
                }
                Phase::Applied(mut e) => {
                    e.ret = Some(t);
                    events.push(e);
                    Phase::Idle
                }
            };
        }
        events
    }

    #[test]
    fn randomized_history_is_linearizable_until_corrupted() {
        let limits = Limits { max_steps_per_key: 2_000_000, minimize_budget: Duration::from_secs(1) };
        let key0 = |h: &[Event]| -> Vec<Event> { h.iter().filter(|e| e.key == "key0").cloned().collect() };
        let completed_read = |e: &Event| e.key == "key0" && e.op == Op::Read && e.ret.is_some();
        for (seed, unique_writes) in [(0x9e37_79b9_7f4a_7c15, false), (0xd1b5_4a32_d192_ed03, true)] {
            let start = Instant::now();
            let mut h = random_history(seed, 8, 2000, 3, unique_writes);
            assert_eq!(h.len(), 2000);
            let unknowns = h.iter().filter(|e| e.outcome == Outcome::Unknown).count();
            assert!(unknowns > 50, "{unknowns}");
            let reports = check(&h, &HashMap::new(), &limits);
            assert_eq!(reports.len(), 3);
            for rep in &reports {
                assert_eq!(rep.verdict, Verdict::Linearizable, "seed {seed:x}: {}", rep.key);
            }
            let middle = h[h.len() / 2].call;
            let Some(victim) = h.iter().position(|e| completed_read(e) && e.call > middle) else {
                panic!("no read to corrupt");
            };
            let mut bad = h.clone();
            bad[victim].outcome = Outcome::Ok(Some("corrupt".to_owned()));
            // Written only (maybe) after the read returned, so the search has to exhaust the prefix to refute it.
            let late = bad[victim].ret.unwrap_or(Time::MAX) + 1;
            let key = "key0".to_owned();
            bad.push(Event {
                id: usize::MAX,
                client: 0,
                key,
                op: Op::Write("corrupt".into()),
                call: late,
                ret: None,
                outcome: Outcome::Unknown,
            });
            assert_eq!(check_key(&key0(&bad), &None, limits.max_steps_per_key), Verdict::NotLinearizable);
            if unique_writes {
                // Stale read: the value of a write that finished before another write that finished before the read.
                let acked_write = |e: &&Event| e.key == "key0" && matches!(e.op, Op::Write(_)) && e.ret.is_some();
                let stale = h.iter().filter(|e| completed_read(e) && e.call > middle).find_map(|r| {
                    let w2 = h.iter().filter(acked_write).filter(|w| w.ret < Some(r.call)).max_by_key(|w| w.ret)?;
                    let w1 = h.iter().filter(acked_write).find(|w| w.ret < Some(w2.call))?;
                    let Op::Write(old) = &w1.op else { return None };
                    Some((r.id, old.clone()))
                });
                let Some((read, old)) = stale else { panic!("no stale read to plant") };
                for e in h.iter_mut().filter(|e| e.id == read) {
                    e.outcome = Outcome::Ok(Some(old.clone()));
                }
                let reports = check(&h, &HashMap::new(), &limits);
                let verdicts: Vec<&Verdict> = reports.iter().map(|r| &r.verdict).collect();
                assert_eq!(verdicts, [&Verdict::NotLinearizable, &Verdict::Linearizable, &Verdict::Linearizable]);
                let minimal = ids(&reports[0].minimal);
                assert!(minimal.len() <= 3 && minimal.contains(&read), "{minimal:?}");
                assert_eq!(reports[0].stuck_at, Some(read));
            }
            eprintln!("seed {seed:x}: {:?}", start.elapsed());
        }
    }

    /// Reference semantics by exhaustion: some subset of the unknown ops plus all completed ops, in some order that
    /// respects real time, is accepted by `step`.
    fn brute_force(events: &[Event], init: &State) -> bool {
        fn search(events: &[Event], done: &mut Vec<bool>, state: &State) -> bool {
            let pending = |i: usize| !done[i] && events[i].outcome != Outcome::Unknown;
            if !(0..events.len()).any(pending) {
                return true;
            }
            for i in 0..events.len() {
                // Next op: not before an unfinished op that returned before it was called.
                let blocked = (0..events.len()).any(|j| !done[j] && events[j].ret.is_some_and(|r| r < events[i].call));
                if done[i] || blocked {
                    continue;
                }
                if let Some(next) = step(state, &events[i].op, &events[i].outcome) {
                    done[i] = true;
                    let ok = search(events, done, &next);
                    done[i] = false;
                    if ok {
                        return true;
                    }
                }
            }
            false
        }
        search(events, &mut vec![false; events.len()], init)
    }

    #[test]
    fn agrees_with_brute_force_on_small_random_histories() {
        let mut rng = Rng(0x2545_f491_4f6c_dd1d);
        let mut verdicts = [0; 2];
        for case in 0..4000 {
            let value = |rng: &mut Rng| ["a", "b", "c"][rng.below(3) as usize].to_owned();
            let n = 1 + rng.below(7) as usize;
            let h: Vec<Event> = (0..n)
                .map(|id| {
                    let call = rng.below(12);
                    let unknown = rng.below(4) == 0;
                    let ret = (!unknown).then(|| call + rng.below(6));
                    let (op, outcome) = match rng.below(4) {
                        0 => (Op::Read, Outcome::Ok([None, Some(value(&mut rng))][rng.below(2) as usize].clone())),
                        1 => (Op::Write(value(&mut rng)), Outcome::Ok(None)),
                        2 => (
                            Op::Transition(value(&mut rng)),
                            [Outcome::Ok(None), Outcome::Failed][rng.below(2) as usize].clone(),
                        ),
                        _ => (
                            Op::Create(value(&mut rng)),
                            [Outcome::Ok(None), Outcome::Failed][rng.below(2) as usize].clone(),
                        ),
                    };
                    let outcome = if unknown { Outcome::Unknown } else { outcome };
                    ev(id, op, call, ret, outcome)
                })
                .collect();
            let init = if rng.below(3) == 0 { s("a") } else { None };
            let expected = brute_force(&h, &init);
            let got = check_key(&h, &init, MAX);
            assert_eq!(got == Verdict::Linearizable, expected, "case {case}: init {init:?} {h:#?}");
            verdicts[usize::from(expected)] += 1;
        }
        assert!(verdicts[0] > 500 && verdicts[1] > 500, "{verdicts:?}");
    }
}
