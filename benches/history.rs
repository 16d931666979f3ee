//! `cargo bench --bench history`: the linearizability checker on register histories of a
//! correct single-copy register (`faultline::history::sample`), native: 1,000 operations of
//! 10 clients must check in under 100 ms. Reports wall time, operations (call and return
//! events) per second and search states per second, for histories with no, some and many
//! operations of unknown outcome, and one with a stale read (the search fails, then the
//! counterexample is shrunk). Set `FAULTLINE_BENCH_QUICK=1` for one run of each.

#![allow(clippy::disallowed_types, clippy::disallowed_methods)] // wall time is the point here

use std::time::Instant;

use faultline::history::{check, sample, History, Op, Outcome, Verdict};

const BUDGET: u64 = 50_000_000;

struct Case {
    name: &'static str,
    clients: u64,
    per_client: u64,
    unknown_per_mille: u64,
    stale_read: bool,
}

const CASES: &[Case] = &[
    Case {
        name: "1,000 ops, 10 clients",
        clients: 10,
        per_client: 100,
        unknown_per_mille: 0,
        stale_read: false,
    },
    Case {
        name: "1,000 ops, 10 clients, 5% unknown",
        clients: 10,
        per_client: 100,
        unknown_per_mille: 50,
        stale_read: false,
    },
    Case {
        name: "1,000 ops, 10 clients, 20% unknown",
        clients: 10,
        per_client: 100,
        unknown_per_mille: 200,
        stale_read: false,
    },
    Case {
        name: "1,000 ops, 10 clients, stale read",
        clients: 10,
        per_client: 100,
        unknown_per_mille: 0,
        stale_read: true,
    },
    Case {
        name: "10,000 ops, 10 clients",
        clients: 10,
        per_client: 1_000,
        unknown_per_mille: 0,
        stale_read: false,
    },
    Case {
        name: "10,000 ops, 10 clients, 5% unknown",
        clients: 10,
        per_client: 1_000,
        unknown_per_mille: 50,
        stale_read: false,
    },
    Case {
        name: "1,000 ops, 50 clients, 5% unknown",
        clients: 50,
        per_client: 20,
        unknown_per_mille: 50,
        stale_read: false,
    },
];

/// Makes the last read that returned a value that was overwritten before it began return
/// the overwritten value instead; the history stops being linearizable.
fn make_stale(h: &mut History) {
    let mut ops = h.ops.clone();
    ops.sort_by_key(|o| o.invoke_us);
    let written: Vec<_> = (ops.iter())
        .filter(|o| o.outcome == Outcome::Ok && matches!(o.op, Op::Write(_)))
        .copied()
        .collect();
    let target = (h.ops.iter().enumerate().rev())
        .filter(|(_, o)| o.outcome == Outcome::Ok && matches!(o.op, Op::Read(_)))
        .find_map(|(i, r)| {
            let done = |w: &&faultline::history::Operation, t: u64| w.complete_us.unwrap() < t;
            let b = written
                .iter()
                .filter(|w| done(w, r.invoke_us))
                .max_by_key(|w| w.invoke_us)?;
            let a = written
                .iter()
                .filter(|w| done(w, b.invoke_us))
                .max_by_key(|w| w.invoke_us)?;
            Some((i, a.op))
        });
    let (i, Op::Write(v)) = target.expect("a read to make stale") else {
        unreachable!()
    };
    h.ops[i].op = Op::Read(v);
}

fn main() {
    let quick = std::env::var_os("FAULTLINE_BENCH_QUICK").is_some();
    let runs = if quick { 1 } else { 5 };
    println!(
        "{:<38} {:>9} {:>10} {:>14} {:>16}  verdict",
        "case", "ops", "ms (best)", "events/s", "states/s"
    );
    for case in CASES {
        let mut h = sample::correct_register(7, case.clients, case.per_client, case.unknown_per_mille);
        if case.stale_read {
            make_stale(&mut h);
        }
        let mut best = f64::MAX;
        let mut last = None;
        for _ in 0..runs {
            let start = Instant::now();
            let verdict = check(&h, BUDGET);
            best = best.min(start.elapsed().as_secs_f64());
            last = Some(verdict);
        }
        let (states, words) = match last.expect("ran") {
            Verdict::Linearizable { states } => (states, "linearizable".to_string()),
            Verdict::Unknown { states } => (states, "unknown".to_string()),
            Verdict::NotLinearizable(c) => (c.states, format!("not linearizable ({} ops shown)", c.ops.len())),
        };
        let events = 2.0 * h.ops.len() as f64;
        println!(
            "{:<38} {:>9} {:>10.2} {:>12.2} M {:>14.2} M  {words} after {states} states",
            case.name,
            h.ops.len(),
            best * 1e3,
            events / best / 1e6,
            states as f64 / best / 1e6,
        );
    }
}
