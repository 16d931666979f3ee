//! The history as the page's history view reads it: every operation with an id (its index
//! in the history), and a check of one key or all with the ids of the operations that
//! cannot be ordered and of the longest linearized prefix. Plain data for the boundary
//! (`Simulation.history`, `Simulation.checkHistory` in `src/wasm.rs`).

use serde::Serialize;

use super::{check, check_key, History, Op, Operation, Outcome, Verdict};

/// One operation: `op` is read, write or cas; `value` what a read returned or a write
/// wrote (a cas: its new value), `expected` a cas's old value; `complete_us` null when it
/// never returned; `outcome` ok, fail or unknown.
#[derive(Clone, Debug, Serialize)]
pub struct OpView {
    pub id: usize,
    pub client: u64,
    pub key: u64,
    pub op: &'static str,
    pub value: Option<i64>,
    pub expected: Option<i64>,
    pub invoke_us: u64,
    pub complete_us: Option<u64>,
    pub outcome: &'static str,
}

/// The whole history.
#[derive(Clone, Debug, Serialize)]
pub struct HistoryView {
    pub initial: Option<i64>,
    pub keys: Vec<u64>,
    pub ops: Vec<OpView>,
}

/// A check's verdict: `linearizable`, `not linearizable` or `unknown` (the budget ran out
/// after `states` steps); on a violation the key, the ids that cannot be ordered, the
/// longest linearized prefix (ids, in linearization order), the explanation, and `at_us`:
/// when the last of the failing operations returned.
#[derive(Clone, Debug, Default, Serialize)]
pub struct CheckResult {
    pub verdict: &'static str,
    pub states: u64,
    pub key: Option<u64>,
    pub ops: Vec<usize>,
    pub linearized: Vec<usize>,
    pub explanation: String,
    pub at_us: Option<u64>,
}

pub fn view(history: &History) -> HistoryView {
    let ops = history.ops.iter().enumerate().map(|(id, o)| op_view(id, o)).collect();
    HistoryView {
        initial: history.initial,
        keys: history.keys(),
        ops,
    }
}

fn op_view(id: usize, o: &Operation) -> OpView {
    let (op, value, expected) = match o.op {
        Op::Read(v) => ("read", v, None),
        Op::Write(v) => ("write", v, None),
        Op::Cas(a, b) => ("cas", b, a),
    };
    OpView {
        id,
        client: o.client,
        key: o.key,
        op,
        value: if o.outcome == Outcome::Ok || op != "read" {
            value
        } else {
            None
        },
        expected,
        invoke_us: o.invoke_us,
        complete_us: o.complete_us,
        outcome: match o.outcome {
            Outcome::Ok => "ok",
            Outcome::Fail => "fail",
            Outcome::Unknown => "unknown",
        },
    }
}

/// Checks `key` (or every key) within `budget` steps.
pub fn check_view(history: &History, budget: u64, key: Option<u64>) -> CheckResult {
    let verdict = match key {
        None => check(history, budget),
        Some(k) => {
            let ops: Vec<Operation> = history.ops.iter().filter(|o| o.key == k).copied().collect();
            check_key(history.initial, &ops, budget)
        }
    };
    // Ids: where each reported operation sits in the history (operations are distinct).
    let id = |o: &Operation| history.ops.iter().position(|x| x == o);
    match verdict {
        Verdict::Linearizable { states } => CheckResult {
            verdict: "linearizable",
            states,
            key,
            ..CheckResult::default()
        },
        Verdict::Unknown { states } => CheckResult {
            verdict: "unknown",
            states,
            key,
            ..CheckResult::default()
        },
        Verdict::NotLinearizable(c) => CheckResult {
            verdict: "not linearizable",
            states: c.states,
            key: Some(c.key),
            ops: c.ops.iter().filter_map(id).collect(),
            linearized: c.linearized.iter().filter_map(id).collect(),
            at_us: c.ops.iter().filter_map(|o| o.complete_us).max(),
            explanation: c.explanation,
        },
    }
}
