//! The linearizability checker for registers: Wing and Gong's search with Lowe's
//! memoization, as Porcupine runs it, per key.
//!
//! Each operation becomes a call entry at its invocation and a return entry at its
//! deadline (its return if its outcome is `Ok`; never, after every other return, if it is
//! `Unknown`), in one list sorted by time, calls before returns at the same instant (two
//! operations that touch at an instant may be ordered either way). The search walks the
//! list from the front: at a call it tries to linearize that operation next (the register
//! allows it, and the pair (set of linearized operations, register value) has not been
//! explored before), lifts it out of the list and starts again from the front; at the
//! return of an operation not yet linearized it undoes the last choice. When every
//! definite operation is linearized the history is linearizable; when no choice is left
//! to undo it is not. Unknown operations may stay unlinearized (they never took effect).
//!
//! On a violation the checker shrinks the history to a small set of operations that still
//! cannot be ordered: first the earliest prefix in time that fails (operations still
//! running at the cut count as unknown), then chunks of it removed, delta-debugging style,
//! as long as what is left still fails. Every search counts its steps (one step: one
//! attempt to linearize an operation in some state) against the budget.

use std::sync::atomic::{AtomicBool, Ordering};

use super::{op_words, value_words, History, Op, Operation, Outcome, Value};

/// The verdict on a whole history.
#[derive(Clone, Debug, PartialEq)]
pub enum Verdict {
    Linearizable {
        states: u64,
    },
    NotLinearizable(Box<Counterexample>),
    /// The budget ran out before an answer.
    Unknown {
        states: u64,
    },
}

/// Why a history is not linearizable.
#[derive(Clone, Debug, PartialEq)]
pub struct Counterexample {
    /// The key whose register has no valid order.
    pub key: u64,
    /// A small set of operations (of that key, as the history has them, by invocation)
    /// that cannot be ordered: no subset found by removing chunks still failed.
    pub ops: Vec<Operation>,
    /// The longest prefix of a linearization the search found, in linearization order.
    pub linearized: Vec<Operation>,
    /// The violation in words ("read of key 0 by client 3 returned 1 after write 2 had
    /// completed").
    pub explanation: String,
    /// Steps of the first search (before shrinking).
    pub states: u64,
}

thread_local! {
    /// Raised by another thread to end this thread's `check_until` early.
    static STOP: std::cell::Cell<Option<&'static AtomicBool>> = const { std::cell::Cell::new(None) };
}

/// Whether this thread's `check_until` was told to stop (polled every 4,096 steps).
fn stopped() -> bool {
    STOP.with(|s| s.get().is_some_and(|f| f.load(Ordering::Relaxed)))
}

/// `check`, ended early when `stop` is raised (by a timer on another thread, say: the
/// checker itself has no clock). Stopped during the first search the verdict is `Unknown`;
/// during the shrinking of a violation, a less shrunk counterexample.
pub fn check_until(history: &History, budget: u64, stop: &'static AtomicBool) -> Verdict {
    STOP.with(|s| s.set(Some(stop)));
    let verdict = check(history, budget);
    STOP.with(|s| s.set(None));
    verdict
}

/// Checks every key of `history`, in key order, within `budget` steps in all; stops at the
/// first key that is not linearizable.
pub fn check(history: &History, budget: u64) -> Verdict {
    let mut states = 0;
    let mut unknown = false;
    for key in history.keys() {
        let ops: Vec<Operation> = history.ops.iter().filter(|o| o.key == key).copied().collect();
        match check_key(history.initial, &ops, budget.saturating_sub(states)) {
            Verdict::Linearizable { states: s } => states += s,
            Verdict::Unknown { states: s } => {
                states += s;
                unknown = true;
            }
            Verdict::NotLinearizable(mut c) => {
                c.states += states;
                return Verdict::NotLinearizable(c);
            }
        }
    }
    if unknown {
        Verdict::Unknown { states }
    } else {
        Verdict::Linearizable { states }
    }
}

/// Checks the operations of one register (all of `ops` are taken as one key).
pub fn check_key(initial: Value, ops: &[Operation], budget: u64) -> Verdict {
    let all: Vec<usize> = (0..ops.len()).collect();
    let (found, states) = search(initial, ops, &all, u64::MAX, budget);
    let longest = match found {
        Found::Linearizable => return Verdict::Linearizable { states },
        Found::OutOfBudget => return Verdict::Unknown { states },
        Found::Stuck { longest } => longest,
    };
    let mut spent = states;
    let (cut, mut keep) = failing_prefix(initial, ops, budget, &mut spent);
    match stale_read(initial, ops, cut, &keep, budget, &mut spent) {
        Some(small) => keep = small,
        None => {
            keep.sort_unstable_by_key(|&i| (ops[i].invoke_us, i));
            shrink(initial, ops, cut, &mut keep, budget, &mut spent);
        }
    }
    keep.sort_unstable_by_key(|&i| (ops[i].invoke_us, i));
    let small: Vec<Operation> = keep.iter().map(|&i| ops[i]).collect();
    Verdict::NotLinearizable(Box::new(Counterexample {
        key: ops.first().map_or(0, |o| o.key),
        explanation: explain(initial, &small, ops),
        ops: small,
        linearized: longest.iter().map(|&i| ops[i]).collect(),
        states,
    }))
}

/// What one search found.
enum Found {
    Linearizable,
    /// Not linearizable; the longest linearized prefix (indices into the operations).
    Stuck {
        longest: Vec<usize>,
    },
    OutOfBudget,
}

/// The values some operation of `chosen` observes: what reads that returned saw, what a
/// cas expected. Sorted.
fn observed(ops: &[Operation], chosen: &[usize]) -> Vec<Value> {
    let mut seen: Vec<Value> = (chosen.iter().map(|&i| &ops[i]))
        .filter_map(|o| match o.op {
            Op::Read(v) if o.outcome == Outcome::Ok => Some(v),
            Op::Cas(expected, _) if o.outcome != Outcome::Fail => Some(expected),
            _ => None,
        })
        .collect();
    seen.sort_unstable();
    seen.dedup();
    seen
}

/// The operations `chosen` (indices into `ops`) as the search sees them, seen from time
/// `cut`: whatever had not returned by then is unknown. Left out, as they constrain
/// nothing: failed operations, reads of unknown outcome, and unknown writes of a value
/// nobody observes (if such a write took effect, only writes followed it before the next
/// observation, so a linearization without it works as well).
fn prepare(ops: &[Operation], chosen: &[usize], cut: u64) -> Vec<(usize, Op, u64, u64)> {
    let observed = observed(ops, chosen);
    let mut out = Vec::with_capacity(chosen.len());
    for &i in chosen {
        let o = &ops[i];
        if o.invoke_us > cut || o.outcome == Outcome::Fail {
            continue;
        }
        let deadline = match o.deadline_us() {
            d if d <= cut => d.max(o.invoke_us),
            _ => u64::MAX,
        };
        let unobserved = match o.op {
            Op::Read(_) => true,
            Op::Write(v) | Op::Cas(_, v) => observed.binary_search(&v).is_err(),
        };
        if deadline == u64::MAX && unobserved {
            continue;
        }
        out.push((i, o.op, o.invoke_us, deadline));
    }
    out
}

/// Searches for a linearization of `chosen` as seen from `cut`, within `budget` steps.
fn search(initial: Value, ops: &[Operation], chosen: &[usize], cut: u64, budget: u64) -> (Found, u64) {
    let prepared = prepare(ops, chosen, cut);
    let mut s = Search::new(&prepared);
    let found = s.run(initial, budget);
    let found = match found {
        Found::Stuck { longest } => Found::Stuck {
            longest: longest.into_iter().map(|k| prepared[k].0).collect(),
        },
        other => other,
    };
    (found, s.steps)
}

/// The earliest return time at which the history seen up to then already fails, and the
/// operations invoked by then. Failing is monotone in the cut (a prefix of a
/// linearizable history is linearizable), so a binary search finds it.
fn failing_prefix(initial: Value, ops: &[Operation], budget: u64, spent: &mut u64) -> (u64, Vec<usize>) {
    let mut cuts: Vec<u64> = (ops.iter())
        .filter(|o| o.outcome == Outcome::Ok)
        .filter_map(|o| o.complete_us)
        .collect();
    cuts.sort_unstable();
    cuts.dedup();
    let all: Vec<usize> = (0..ops.len()).collect();
    // Invariant: the cut at `hi` fails (u64::MAX: the whole history, known to fail).
    let (mut lo, mut hi) = (0, cuts.len());
    let cut_at = |k: usize| cuts.get(k).copied().unwrap_or(u64::MAX);
    while lo < hi && *spent < budget {
        let mid = (lo + hi) / 2;
        let (found, steps) = search(initial, ops, &all, cut_at(mid), budget - *spent);
        *spent += steps;
        match found {
            Found::Stuck { .. } => hi = mid,
            _ => lo = mid + 1,
        }
    }
    let cut = cut_at(hi);
    let keep = (0..ops.len()).filter(|&i| ops[i].invoke_us <= cut).collect();
    (cut, keep)
}

/// How many recent writes `stale_read` pairs up, each way.
const STALE_CANDIDATES_MAX: usize = 8;

/// The common case first: the prefix fails at a read of `v` that returned at `cut`; is it
/// a stale read — a write of `v` (or the initial value), then a write of something else
/// that completed before the read began? Tries the latest few such pairs and returns the
/// first pair or triple that fails on its own.
fn stale_read(
    initial: Value,
    ops: &[Operation],
    cut: u64,
    keep: &[usize],
    budget: u64,
    spent: &mut u64,
) -> Option<Vec<usize>> {
    let written = |o: &Operation| match o.op {
        Op::Write(v) | Op::Cas(_, v) => Some(v),
        Op::Read(_) => None,
    };
    let latest = |filter: &dyn Fn(&Operation) -> bool| {
        let mut found: Vec<usize> = keep.iter().copied().filter(|&i| filter(&ops[i])).collect();
        found.sort_unstable_by_key(|&i| std::cmp::Reverse((ops[i].complete_us, i)));
        found.truncate(STALE_CANDIDATES_MAX);
        found
    };
    for &r in keep
        .iter()
        .filter(|&&i| ops[i].complete_us == Some(cut) && ops[i].outcome == Outcome::Ok)
    {
        let Op::Read(v) = ops[r].op else { continue };
        let begun = ops[r].invoke_us;
        let later =
            latest(&|o| o.outcome == Outcome::Ok && written(o).is_some_and(|w| w != v) && o.deadline_us() < begun);
        for &b in &later {
            let sources =
                latest(&|o| o.outcome == Outcome::Ok && written(o) == Some(v) && o.deadline_us() < ops[b].invoke_us);
            let mut tries: Vec<Vec<usize>> = sources.iter().map(|&a| vec![a, b, r]).collect();
            if v == initial {
                tries.insert(0, vec![b, r]);
            }
            for set in tries {
                if *spent >= budget || !sourced(initial, ops, &set) {
                    continue;
                }
                let (found, steps) = search(initial, ops, &set, cut, budget - *spent);
                *spent += steps;
                if matches!(found, Found::Stuck { .. }) {
                    return Some(set);
                }
            }
        }
    }
    None
}

/// Removes chunks of `keep` (halving their size down to single operations, then single
/// operations again until none can go) while what is left still fails as seen from `cut`,
/// until the budget is spent.
fn shrink(initial: Value, ops: &[Operation], cut: u64, keep: &mut Vec<usize>, budget: u64, spent: &mut u64) {
    let mut chunk = (keep.len() / 2).max(1);
    loop {
        let before = keep.len();
        let mut at = 0;
        while at < keep.len() && *spent < budget {
            let end = (at + chunk).min(keep.len());
            let rest: Vec<usize> = keep[..at].iter().chain(&keep[end..]).copied().collect();
            if !sourced(initial, ops, &rest) {
                at = end; // it would fail only for want of a write it removed
                continue;
            }
            let (found, steps) = search(initial, ops, &rest, cut, budget - *spent);
            *spent += steps;
            if matches!(found, Found::Stuck { .. }) {
                *keep = rest;
            } else {
                at = end;
            }
        }
        if (chunk == 1 && keep.len() == before) || *spent >= budget {
            return;
        }
        chunk = (chunk / 2).max(1);
    }
}

/// Whether every value observed in `chosen` (a read's, a cas's expected value) is the
/// initial one or written by an operation of `chosen`, whenever the whole history writes it
/// at all: the shrunk set must fail for a reason in it, not for a write cut away.
fn sourced(initial: Value, ops: &[Operation], chosen: &[usize]) -> bool {
    let written = |set: &mut dyn Iterator<Item = &Operation>| {
        let mut values: Vec<Value> = set
            .filter(|o| o.outcome != Outcome::Fail)
            .filter_map(|o| match o.op {
                Op::Write(v) | Op::Cas(_, v) => Some(v),
                Op::Read(_) => None,
            })
            .collect();
        values.sort_unstable();
        values
    };
    let anywhere = written(&mut ops.iter());
    let here = written(&mut chosen.iter().map(|&i| &ops[i]));
    observed(ops, chosen)
        .into_iter()
        .all(|v| v == initial || here.binary_search(&v).is_ok() || anywhere.binary_search(&v).is_err())
}

/// The violation in words: a read that returned a value older than a write that had
/// completed before it began, or a value nobody wrote; otherwise the set itself.
fn explain(initial: Value, small: &[Operation], all: &[Operation]) -> String {
    let ms = |us: u64| format!("{:.3} ms", us as f64 / 1000.0);
    let writes = |o: &Operation| match o.op {
        Op::Write(v) | Op::Cas(_, v) => Some(v),
        Op::Read(_) => None,
    };
    for r in small.iter().filter(|o| o.outcome == Outcome::Ok) {
        let Op::Read(v) = r.op else { continue };
        let overwritten = (small.iter())
            .filter(|w| w.outcome == Outcome::Ok && writes(w).is_some_and(|w| w != v))
            .filter(|w| w.complete_us.is_some_and(|t| t < r.invoke_us))
            .max_by_key(|w| w.complete_us);
        if let Some(w) = overwritten {
            let what = match w.op {
                Op::Cas(a, b) => format!("cas {}→{}", value_words(a), value_words(b)),
                _ => format!("write {}", value_words(writes(w).flatten())),
            };
            return format!(
                "{} after {what} by client {} had completed (it returned at {}; the read began at {})",
                op_words(r),
                w.client,
                ms(w.complete_us.unwrap_or(0)),
                ms(r.invoke_us)
            );
        }
        if v != initial && !all.iter().any(|w| w.outcome != Outcome::Fail && writes(w) == Some(v)) {
            return format!("{}, a value no operation wrote", op_words(r));
        }
    }
    format!(
        "these {} operations cannot be ordered so that each takes effect between its call and its return",
        small.len()
    )
}

/// One entry of the search's list: the call or the return of an operation.
#[derive(Clone, Copy, Debug)]
struct Entry {
    /// Index into the prepared operations.
    op: u32,
    call: bool,
    /// The entry of the same operation's other end.
    partner: u32,
    /// Whether the operation must take effect (its outcome is `Ok`).
    definite: bool,
}

const NIL: u32 = u32::MAX;

/// Wing and Gong's search over a doubly linked list of entries, with Lowe's cache.
struct Search {
    ops: Vec<Op>,
    entries: Vec<Entry>,
    /// Links; index `entries.len()` is the head sentinel.
    next: Vec<u32>,
    prev: Vec<u32>,
    /// Per operation, its 128-bit Zobrist key (a set's hash is the XOR of its members').
    zobrist: Vec<(u64, u64)>,
    seen: Seen,
    steps: u64,
}

impl Search {
    fn new(prepared: &[(usize, Op, u64, u64)]) -> Search {
        let mut ends: Vec<(u64, bool, u32)> = Vec::with_capacity(prepared.len() * 2);
        for (k, &(_, _, invoke, deadline)) in prepared.iter().enumerate() {
            ends.push((invoke, false, k as u32)); // false sorts first: calls before returns
            ends.push((deadline, true, k as u32));
        }
        ends.sort_unstable();
        let mut position = vec![[0u32; 2]; prepared.len()];
        for (at, &(_, is_return, k)) in ends.iter().enumerate() {
            position[k as usize][is_return as usize] = at as u32;
        }
        let entries = (ends.iter())
            .map(|&(_, is_return, k)| Entry {
                op: k,
                call: !is_return,
                partner: position[k as usize][!is_return as usize],
                definite: prepared[k as usize].3 != u64::MAX,
            })
            .collect::<Vec<_>>();
        let n = entries.len() as u32;
        let next = (0..=n)
            .map(|i| {
                if i + 1 < n {
                    i + 1
                } else if i == n && n > 0 {
                    0
                } else {
                    NIL
                }
            })
            .collect();
        let prev = (0..=n)
            .map(|i| {
                if i == 0 {
                    n
                } else if i < n {
                    i - 1
                } else {
                    NIL
                }
            })
            .collect();
        Search {
            ops: prepared.iter().map(|p| p.1).collect(),
            entries,
            next,
            prev,
            zobrist: (0..prepared.len() as u64).map(|k| (mix(k + 1), mix(!k))).collect(),
            seen: Seen::new(),
            steps: 0,
        }
    }

    fn head(&self) -> u32 {
        self.entries.len() as u32
    }

    fn unlink(&mut self, i: u32) {
        let (p, n) = (self.prev[i as usize], self.next[i as usize]);
        self.next[p as usize] = n;
        if n != NIL {
            self.prev[n as usize] = p;
        }
    }

    fn relink(&mut self, i: u32) {
        let (p, n) = (self.prev[i as usize], self.next[i as usize]);
        self.next[p as usize] = i;
        if n != NIL {
            self.prev[n as usize] = i;
        }
    }

    fn run(&mut self, initial: Value, budget: u64) -> Found {
        let xor = |a: (u64, u64), b: (u64, u64)| (a.0 ^ b.0, a.1 ^ b.1);
        let mut hash = (0u64, 0u64);
        let mut state = initial;
        // (call entry, the value before it)
        let mut stack: Vec<(u32, Value)> = Vec::new();
        // The deepest stack so far, and how many of its first entries the stack still shares
        // (so a new record copies only what changed).
        let mut longest: Vec<usize> = Vec::new();
        let mut agree = 0;
        let mut at = self.next[self.head() as usize];
        loop {
            if at == NIL || !self.entries[at as usize].definite && !self.entries[at as usize].call {
                return Found::Linearizable; // every definite operation is linearized
            }
            let e = self.entries[at as usize];
            if e.call {
                if self.steps >= budget || (self.steps & 0xFFF == 0 && stopped()) {
                    return Found::OutOfBudget;
                }
                self.steps += 1;
                if let Some(after) = apply(state, self.ops[e.op as usize]) {
                    let with = xor(hash, self.zobrist[e.op as usize]);
                    if self.seen.insert(with, after) {
                        hash = with;
                        stack.push((at, state));
                        state = after;
                        self.unlink(at);
                        self.unlink(e.partner);
                        if stack.len() > longest.len() {
                            longest.truncate(agree);
                            let fresh = stack[agree..]
                                .iter()
                                .map(|&(c, _)| self.entries[c as usize].op as usize);
                            longest.extend(fresh);
                            agree = stack.len();
                        }
                        at = self.next[self.head() as usize];
                        continue;
                    }
                }
                at = self.next[at as usize];
            } else {
                // The return of a definite operation not linearized: undo the last choice.
                let Some((call, before)) = stack.pop() else {
                    return Found::Stuck { longest };
                };
                agree = agree.min(stack.len());
                let c = self.entries[call as usize];
                hash = xor(hash, self.zobrist[c.op as usize]);
                state = before;
                self.relink(c.partner);
                self.relink(call);
                at = self.next[call as usize];
            }
        }
    }
}

/// The register's step: the value after `op` from `state`, or `None` if `op` cannot take
/// effect there (a read of another value, a cas whose expected value is not held).
fn apply(state: Value, op: Op) -> Option<Value> {
    match op {
        Op::Read(v) => (v == state).then_some(state),
        Op::Write(v) => Some(v),
        Op::Cas(expected, new) => (expected == state).then_some(new),
    }
}

/// SplitMix64's finalizer: a well-spread 64-bit hash.
fn mix(mut z: u64) -> u64 {
    z = z.wrapping_add(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

fn value_hash(v: Value) -> u64 {
    v.map_or(0x5851_F42D_4C95_7F2D, |v| mix(v as u64 ^ 0xD1B5_4A32_D192_ED03))
}

/// Lowe's cache: the (linearized set, register value) pairs explored. A set is kept as
/// its 128-bit Zobrist hash (the XOR of its members' keys), not as a bitset: a bitset of
/// every operation per entry would cost n/8 bytes each (a 10,000-operation history with
/// half a million states: 700 MB), while two sets would have to agree in 128 bits to be
/// confused (with 50 million states, odds below 2^-75). Open addressing with linear
/// probing; deterministic.
struct Seen {
    /// Index + 1 of the entry in each slot; 0 is empty. Length: a power of two.
    slots: Vec<u32>,
    keys: Vec<(u64, u64, Value)>,
}

impl Seen {
    fn new() -> Seen {
        Seen {
            slots: vec![0; 1024],
            keys: Vec::new(),
        }
    }

    fn slot_hash(key: &(u64, u64, Value)) -> usize {
        (key.0 ^ value_hash(key.2)) as usize
    }

    /// Adds the pair (set hash, value); false if it was there already.
    fn insert(&mut self, set: (u64, u64), value: Value) -> bool {
        let key = (set.0, set.1, value);
        let mask = self.slots.len() - 1;
        let mut slot = Self::slot_hash(&key) & mask;
        while self.slots[slot] != 0 {
            if self.keys[self.slots[slot] as usize - 1] == key {
                return false;
            }
            slot = (slot + 1) & mask;
        }
        self.keys.push(key);
        self.slots[slot] = self.keys.len() as u32;
        if self.keys.len() * 2 > self.slots.len() {
            self.grow();
        }
        true
    }

    fn grow(&mut self) {
        let mut slots = vec![0u32; self.slots.len() * 2];
        let mask = slots.len() - 1;
        for (k, key) in self.keys.iter().enumerate() {
            let mut slot = Self::slot_hash(key) & mask;
            while slots[slot] != 0 {
                slot = (slot + 1) & mask;
            }
            slots[slot] = k as u32 + 1;
        }
        self.slots = slots;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn op(client: u64, op: Op, invoke_us: u64, complete_us: u64) -> Operation {
        Operation {
            client,
            key: 0,
            op,
            invoke_us,
            complete_us: Some(complete_us),
            outcome: Outcome::Ok,
        }
    }

    #[test]
    fn the_cache_tells_sets_and_values_apart() {
        let mut seen = Seen::new();
        assert!(seen.insert((7, 1), Some(1)));
        assert!(!seen.insert((7, 1), Some(1)));
        assert!(seen.insert((7, 1), Some(2)));
        assert!(seen.insert((7, 2), Some(1)), "same slot, other set");
        for k in 0..5_000u64 {
            assert!(seen.insert((mix(k), k), None));
        }
        assert!(!seen.insert((mix(4_321), 4_321), None));
    }

    #[test]
    fn an_empty_history_and_a_lone_read_of_the_initial_value_are_linearizable() {
        assert!(matches!(check_key(None, &[], 10), Verdict::Linearizable { .. }));
        let r = [op(1, Op::Read(Some(0)), 0, 5)];
        assert!(matches!(check_key(Some(0), &r, 10), Verdict::Linearizable { .. }));
        assert!(matches!(check_key(None, &r, 10), Verdict::NotLinearizable(_)));
    }
}
