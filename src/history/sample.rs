//! Histories of a correct register, for property tests and benchmarks: a single copy that
//! random overlapping clients read, write and compare-and-set, so every history it gives is
//! linearizable by construction.

use super::{History, Op, Operation, Outcome};
use crate::rng::Rng;

/// A single-copy register with `clients` clients doing operations back to back with random
/// gaps and durations; each takes effect at a random instant inside its interval (an
/// unknown one — `unknown_per_mille` of them — anywhere after its call, or never). Every
/// written value is unique. Failed compare-and-sets are marked failed.
pub fn correct_register(seed: u64, clients: u64, per_client: u64, unknown_per_mille: u64) -> History {
    let mut rng = Rng::from_seed(seed);
    // (effect time, op index); `None`: never takes effect
    let mut effects: Vec<(u64, usize)> = Vec::new();
    let mut ops = Vec::new();
    let mut next_value = 1;
    for client in 0..clients {
        let mut t = rng.below(50);
        for _ in 0..per_client {
            let invoke = t + rng.below(30);
            let complete = invoke + 1 + rng.below(100);
            let op = match rng.below(10) {
                0..=3 => Op::Read(None),
                4..=7 => {
                    next_value += 1;
                    Op::Write(Some(next_value))
                }
                _ => {
                    next_value += 1;
                    Op::Cas(Some(next_value - 1 - rng.below(3) as i64), Some(next_value))
                }
            };
            let unknown = rng.below(1_000) < unknown_per_mille;
            let effect = if !unknown {
                Some(rng.between(invoke, complete))
            } else if rng.below(2) == 0 {
                Some(invoke + rng.below(400))
            } else {
                None
            };
            if let Some(at) = effect {
                effects.push((at, ops.len()));
            }
            let outcome = if unknown { Outcome::Unknown } else { Outcome::Ok };
            let complete_us = (!unknown || rng.below(2) == 0).then_some(complete);
            ops.push(Operation {
                client,
                key: 0,
                op,
                invoke_us: invoke,
                complete_us,
                outcome,
            });
            t = complete;
        }
    }
    effects.sort_unstable();
    let mut value = None;
    for (_, i) in effects {
        let o = &mut ops[i];
        match o.op {
            Op::Read(_) => o.op = Op::Read(value),
            Op::Write(v) => value = v,
            Op::Cas(expected, new) if expected == value => value = new,
            Op::Cas(..) => {
                if o.outcome == Outcome::Ok {
                    o.outcome = Outcome::Fail; // the register said no: it did not take effect
                }
            }
        }
    }
    History { initial: None, ops }
}
