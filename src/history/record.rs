//! Recording a history live, as a protocol's checker does (the register's and Raft's
//! `linearizable` checkers share this one type): each client has at most one operation in
//! progress; `start` opens it (an earlier one left open stays unknown), `finish` closes it;
//! `after_event` checks the history every `check_every_us` while it holds and grows, and
//! latches the first violation. Bounded: at most `ops_max` operations are recorded (later
//! ones are counted, not kept), and each check spends at most `budget` search steps.
//!
//! The verdict is plain data here (`violated_at_us`, `detail`, `clients`, `words`); the
//! checkers layer (`crate::checks::linearizable_view`) turns it into a panel row.

use super::{check, History, Op, Operation, Outcome, Value, Verdict};

/// Most operations a protocol's checker records; later ones are counted, not recorded
/// (the check then covers the first ones, and says so).
pub const OPS_MAX: usize = 2_000;
/// How often the history is checked (when operations completed since), in simulated µs.
pub const CHECK_EVERY_US: u64 = 1_000_000;
/// Search steps per check (`history::check`); past them the check is undecided.
pub const BUDGET: u64 = 200_000;

/// The clients' operations recorded live, and whether they are linearizable.
#[derive(Clone, Debug)]
pub struct Linearizability {
    pub history: History,
    /// Per client: the history index of its operation in progress.
    open: Vec<Option<usize>>,
    ops_max: usize,
    check_every_us: u64,
    budget: u64,
    /// Operations not recorded because the history was full.
    pub dropped: u64,
    completed: u64,
    completed_at_check: u64,
    next_check_us: u64,
    /// The verdict in words (states searched, or why it is not linearizable).
    pub detail: String,
    /// The clients of the operations that cannot be ordered, sorted.
    pub clients: Vec<u64>,
    /// When the violation happened: the last failing operation's return.
    pub violated_at_us: Option<u64>,
    /// The last check ran out of budget.
    pub undecided: bool,
}

impl Linearizability {
    /// `clients` clients (by node id) of registers that start at `initial`, with the
    /// protocols' bounds (`OPS_MAX`, `CHECK_EVERY_US`, `BUDGET`).
    pub fn new(clients: usize, initial: Value) -> Linearizability {
        Linearizability::with_limits(clients, initial, OPS_MAX, CHECK_EVERY_US, BUDGET)
    }

    pub fn with_limits(
        clients: usize,
        initial: Value,
        ops_max: usize,
        check_every_us: u64,
        budget: u64,
    ) -> Linearizability {
        Linearizability {
            history: History::new(initial),
            open: vec![None; clients],
            ops_max,
            check_every_us,
            budget,
            dropped: 0,
            completed: 0,
            completed_at_check: 0,
            next_check_us: check_every_us,
            detail: "no operation completed yet".into(),
            clients: Vec::new(),
            violated_at_us: None,
            undecided: false,
        }
    }

    /// `client` calls `op` on `key` (an attempt it made before and never finished stays
    /// unknown).
    pub fn start(&mut self, now_us: u64, client: u64, key: u64, op: Op) {
        let Some(slot) = self.open.get_mut(client as usize) else {
            return;
        };
        *slot = None;
        if self.history.ops.len() >= self.ops_max {
            self.dropped += 1;
            return;
        }
        *slot = Some(self.history.ops.len());
        self.history.ops.push(Operation {
            client,
            key,
            op,
            invoke_us: now_us,
            complete_us: None,
            outcome: Outcome::Unknown,
        });
    }

    /// `client`'s operation in progress ended: `Ok` (with a read's value), `Fail` (it did
    /// not take effect) or `Unknown` (given up on: it may still take effect).
    pub fn finish(&mut self, now_us: u64, client: u64, outcome: Outcome, read: Option<i64>) {
        let Some(i) = self.open.get_mut(client as usize).and_then(Option::take) else {
            return;
        };
        let o = &mut self.history.ops[i];
        o.complete_us = Some(now_us);
        o.outcome = outcome;
        if let (Some(v), Op::Read(_)) = (read, o.op) {
            o.op = Op::Read(Some(v));
        }
        if outcome != Outcome::Unknown {
            self.completed += 1;
        }
    }

    /// Checks the history every `check_every_us` while it holds and grows. Returns the
    /// violation's time the first time one is found.
    pub fn after_event(&mut self, now_us: u64) -> Option<u64> {
        let due = now_us >= self.next_check_us && self.completed != self.completed_at_check;
        if !due || self.violated_at_us.is_some() {
            return None;
        }
        self.next_check_us = now_us + self.check_every_us;
        self.completed_at_check = self.completed;
        let ops = self.history.ops.len();
        let mut found = None;
        match check(&self.history, self.budget) {
            Verdict::Linearizable { states } => {
                self.undecided = false;
                self.detail = format!("{ops} operations, linearizable; {states} states searched");
            }
            Verdict::Unknown { states } => {
                self.undecided = true;
                self.detail = format!("{ops} operations, undecided: the search budget ran out after {states} states");
            }
            Verdict::NotLinearizable(c) => {
                let at = (c.ops.iter().filter_map(|o| o.complete_us).max()).unwrap_or(now_us);
                found = Some(at.min(now_us));
                self.violated_at_us = found;
                self.clients = c.ops.iter().map(|o| o.client).collect();
                self.clients.sort_unstable();
                self.clients.dedup();
                self.detail = c.explanation;
            }
        }
        if self.dropped > 0 {
            self.detail += &format!(
                "; history full: only the first {} operations are recorded",
                self.ops_max
            );
        }
        found
    }

    /// No violation found so far.
    pub fn holds(&self) -> bool {
        self.violated_at_us.is_none()
    }

    /// The verdict in one word: "no", "undecided" (the last check ran out of budget) or
    /// "yes".
    pub fn words(&self) -> &'static str {
        match (self.holds(), self.undecided) {
            (false, _) => "no",
            (true, true) => "undecided",
            (true, false) => "yes",
        }
    }

    /// The summary line: `linearizable: yes (N operations recorded)`.
    pub fn line(&self) -> String {
        format!(
            "linearizable: {} ({} operations recorded)",
            self.words(),
            self.history.ops.len()
        )
    }

    /// Bytes held outside the struct itself (for memory budgets).
    pub fn heap_bytes(&self) -> usize {
        self.history.approx_bytes() - std::mem::size_of::<History>()
            + self.open.capacity() * std::mem::size_of::<Option<usize>>()
            + self.detail.capacity()
            + self.clients.capacity() * 8
    }

    /// Bytes held (for memory budgets).
    pub fn approx_bytes(&self) -> usize {
        std::mem::size_of::<Linearizability>() + self.heap_bytes()
    }
}
