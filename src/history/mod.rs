//! Client histories and their linearizability: what the clients of a register observed
//! (each operation's call, return and result), and a checker that decides whether some
//! order of those operations, each taking effect at one instant between its call and its
//! return, explains every result.
//!
//! A `History` is a list of `Operation`s: a client, a key, a read, write or
//! compare-and-set with its values, the invocation time, the completion time, and an
//! `Outcome`: `Ok` (it took effect between call and return), `Fail` (it did not take
//! effect at all) or `Unknown` (the client gave up: it may take effect at any moment after
//! its call, or never). Keys are independent registers, checked one by one.
//!
//! `check` (in `check.rs`) is Wing and Gong's search with Lowe's memoization, the way
//! Porcupine runs it: a bounded, deterministic search (a step budget, no wall clock) that
//! answers `Linearizable`, `NotLinearizable` with a small set of operations that cannot be
//! ordered and the longest prefix that could, or `Unknown` when the budget ran out.
//! `jepsen.rs` reads the Jepsen log of a single register, `json.rs` the JSON-lines format
//! of `faultline run --history` (both described in `docs/history.md`).
//!
//! `record.rs` records a history live, as protocols' checkers do, and checks it now and
//! then. `view.rs` is the history as the page's history view reads it (ids, verdict, the
//! operations to highlight).
//!
//! `sample.rs` makes histories of a correct register (seeded) for tests and benchmarks.
//!
//! Pure: no I/O, no clock; imports only `rng` (for `sample`) from the crate.

mod check;
pub mod jepsen;
pub mod json;
pub mod record;
pub mod sample;
pub mod view;

pub use check::{check, check_key, check_until, Counterexample, Verdict};

/// A register's value: an integer or nil (`None`).
pub type Value = Option<i64>;

/// What an operation does.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Op {
    /// A read, with the value it returned (meaningful only when the outcome is `Ok`).
    Read(Value),
    /// A write of a value.
    Write(Value),
    /// Compare-and-set: if the register holds `.0`, it becomes `.1`.
    Cas(Value, Value),
}

/// How an operation ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Outcome {
    /// It took effect, at one instant between its call and its return.
    Ok,
    /// It did not take effect.
    Fail,
    /// Nobody knows: it may take effect at any moment after its call, or never.
    Unknown,
}

/// One client operation.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Operation {
    /// The client (a Jepsen process, a Faultline client node).
    pub client: u64,
    /// Which register (keys are independent).
    pub key: u64,
    pub op: Op,
    /// When the client called it, in µs (any monotone clock; Jepsen logs use line numbers).
    pub invoke_us: u64,
    /// When it returned; `None` when it never did. An `Unknown` operation may carry the
    /// time the client gave up, which does not bound when it takes effect.
    pub complete_us: Option<u64>,
    pub outcome: Outcome,
}

impl Operation {
    /// The instant after which it cannot take effect: its return if it has a definite
    /// outcome, else never.
    pub fn deadline_us(&self) -> u64 {
        match (self.outcome, self.complete_us) {
            (Outcome::Ok, Some(t)) => t,
            _ => u64::MAX,
        }
    }
}

/// A history: operations (in any order) and the registers' initial value.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct History {
    pub initial: Value,
    pub ops: Vec<Operation>,
}

impl History {
    pub fn new(initial: Value) -> History {
        History {
            initial,
            ops: Vec::new(),
        }
    }

    /// The keys present, sorted.
    pub fn keys(&self) -> Vec<u64> {
        let mut keys: Vec<u64> = self.ops.iter().map(|o| o.key).collect();
        keys.sort_unstable();
        keys.dedup();
        keys
    }

    /// Bytes held (for memory budgets).
    pub fn approx_bytes(&self) -> usize {
        std::mem::size_of::<History>() + self.ops.capacity() * std::mem::size_of::<Operation>()
    }
}

/// `nil` or the integer.
pub fn value_words(v: Value) -> String {
    v.map_or_else(|| "nil".to_string(), |v| v.to_string())
}

/// An operation in words: "write 2", "read of key 0 by client 3 returned 1", ….
pub fn op_words(o: &Operation) -> String {
    let what = match o.op {
        Op::Read(v) if o.outcome == Outcome::Ok => {
            return format!(
                "read of key {} by client {} returned {}",
                o.key,
                o.client,
                value_words(v)
            )
        }
        Op::Read(_) => "read".to_string(),
        Op::Write(v) => format!("write {}", value_words(v)),
        Op::Cas(a, b) => format!("cas {}→{}", value_words(a), value_words(b)),
    };
    let how = match o.outcome {
        Outcome::Ok => "",
        Outcome::Fail => " (failed)",
        Outcome::Unknown => " (outcome unknown)",
    };
    format!("{what} of key {} by client {}{how}", o.key, o.client)
}

/// An operation's interval in words: "[1.200 ms, 3.400 ms]" or "[1.200 ms, never returned]".
pub fn interval_words(o: &Operation) -> String {
    let ms = |us: u64| format!("{:.3} ms", us as f64 / 1000.0);
    match o.complete_us {
        Some(t) => format!("[{}, {}]", ms(o.invoke_us), ms(t)),
        None => format!("[{}, never returned]", ms(o.invoke_us)),
    }
}
