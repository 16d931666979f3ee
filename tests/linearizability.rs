//! Linearizability of client histories (`faultline::history`): hand-built histories with
//! known verdicts, a property over a correct single-copy register with random overlapping
//! clients (always linearizable; with one injected stale read, never), and both parsers.

use faultline::history::{self, check, jepsen, json, sample, History, Op, Operation, Outcome, Verdict};
use faultline::rng::Rng;

const BUDGET: u64 = 1_000_000;

fn ok(client: u64, op: Op, invoke_us: u64, complete_us: u64) -> Operation {
    Operation {
        client,
        key: 0,
        op,
        invoke_us,
        complete_us: Some(complete_us),
        outcome: Outcome::Ok,
    }
}

fn with(outcome: Outcome, complete_us: Option<u64>, o: Operation) -> Operation {
    Operation {
        outcome,
        complete_us,
        ..o
    }
}

fn w(v: i64) -> Op {
    Op::Write(Some(v))
}

fn r(v: Option<i64>) -> Op {
    Op::Read(v)
}

fn verdict(initial: Option<i64>, ops: &[Operation]) -> Verdict {
    check(
        &History {
            initial,
            ops: ops.to_vec(),
        },
        BUDGET,
    )
}

fn is_linearizable(initial: Option<i64>, ops: &[Operation]) -> bool {
    match verdict(initial, ops) {
        Verdict::Linearizable { .. } => true,
        Verdict::NotLinearizable(_) => false,
        Verdict::Unknown { states } => panic!("no verdict after {states} states"),
    }
}

#[test]
fn a_sequential_history_that_reads_its_writes_is_linearizable() {
    let ops = [
        ok(1, r(None), 0, 5),
        ok(1, w(1), 10, 20),
        ok(2, r(Some(1)), 30, 40),
        ok(2, w(2), 50, 60),
        ok(1, r(Some(2)), 70, 80),
    ];
    assert!(is_linearizable(None, &ops));
}

#[test]
fn overlapping_writes_may_take_effect_in_either_order() {
    // Write 2 began before write 1 returned, so 2 then 1 explains the read of 1.
    let ops = [ok(1, w(1), 0, 10), ok(2, w(2), 5, 20), ok(3, r(Some(1)), 25, 30)];
    assert!(is_linearizable(None, &ops));
    // A read overlapping a write may see the old value or the new one.
    let old = [ok(1, w(1), 0, 10), ok(2, w(2), 20, 40), ok(3, r(Some(1)), 30, 50)];
    let new = [ok(1, w(1), 0, 10), ok(2, w(2), 20, 40), ok(3, r(Some(2)), 30, 50)];
    assert!(is_linearizable(None, &old) && is_linearizable(None, &new));
    // Touching at one instant counts as overlapping.
    let touching = [ok(1, w(1), 0, 10), ok(2, r(None), 10, 20)];
    assert!(is_linearizable(None, &touching));
}

#[test]
fn a_stale_read_after_a_completed_write_is_not_linearizable_and_is_named() {
    let ops = [ok(1, w(1), 0, 10), ok(2, w(2), 20, 30), ok(3, r(Some(1)), 40, 50)];
    let Verdict::NotLinearizable(c) = verdict(None, &ops) else {
        panic!("a stale read passed")
    };
    assert!(
        c.explanation
            .starts_with("read of key 0 by client 3 returned 1 after write 2 by client 2 had completed"),
        "{}",
        c.explanation
    );
    assert_eq!(c.ops, ops.to_vec(), "all three are needed");
    assert_eq!(c.key, 0);
}

#[test]
fn a_lost_write_is_not_linearizable() {
    // An acknowledged write, then reads of the value before it.
    let ops = [ok(1, w(7), 0, 10), ok(2, r(None), 20, 30), ok(3, r(None), 40, 50)];
    let Verdict::NotLinearizable(c) = verdict(None, &ops) else {
        panic!("a lost write passed")
    };
    assert_eq!(c.ops.len(), 2, "{:?}", c.ops);
    assert!(
        c.explanation.contains("returned nil after write 7"),
        "{}",
        c.explanation
    );
    assert_eq!(c.linearized.len(), 1, "only the write linearizes: {:?}", c.linearized);
}

#[test]
fn an_operation_of_unknown_outcome_may_take_effect_or_not() {
    let lost = with(Outcome::Unknown, None, ok(1, w(1), 0, 0));
    let gave_up = with(Outcome::Unknown, Some(15), ok(1, w(1), 0, 0));
    // It took effect, even long after the client gave up.
    assert!(is_linearizable(
        None,
        &[gave_up, ok(2, r(None), 20, 30), ok(2, r(Some(1)), 100, 110)]
    ));
    // It never took effect.
    assert!(is_linearizable(
        None,
        &[lost, ok(2, r(None), 50, 60), ok(2, r(None), 70, 80)]
    ));
    // But not both: once seen, it cannot vanish.
    assert!(!is_linearizable(
        None,
        &[lost, ok(2, r(Some(1)), 50, 60), ok(2, r(None), 70, 80)]
    ));
    // Not before it was called.
    assert!(!is_linearizable(
        None,
        &[
            ok(2, r(Some(1)), 0, 5),
            with(Outcome::Unknown, None, ok(1, w(1), 10, 0))
        ]
    ));
    // A read of unknown outcome constrains nothing.
    let read = with(Outcome::Unknown, None, ok(3, r(Some(9)), 0, 0));
    assert!(is_linearizable(None, &[read, ok(2, r(None), 50, 60)]));
}

#[test]
fn a_failed_operation_never_took_effect() {
    let failed = with(Outcome::Fail, Some(10), ok(1, w(1), 0, 0));
    let Verdict::NotLinearizable(c) = verdict(None, &[failed, ok(2, r(Some(1)), 20, 30)]) else {
        panic!("a failed write was read")
    };
    assert!(
        c.explanation.contains("a value no operation wrote"),
        "{}",
        c.explanation
    );
}

#[test]
fn compare_and_set_takes_effect_only_on_the_expected_value() {
    let cas = |a, b| Op::Cas(Some(a), Some(b));
    assert!(is_linearizable(
        None,
        &[ok(1, w(1), 0, 10), ok(2, cas(1, 2), 20, 30), ok(3, r(Some(2)), 40, 50)]
    ));
    assert!(!is_linearizable(None, &[ok(1, w(3), 0, 10), ok(2, cas(1, 2), 20, 30)]));
    // A cas that failed left the value alone.
    let failed = with(Outcome::Fail, Some(30), ok(2, cas(1, 2), 20, 0));
    assert!(is_linearizable(
        None,
        &[ok(1, w(1), 0, 10), failed, ok(3, r(Some(1)), 40, 50)]
    ));
}

#[test]
fn keys_are_independent_registers_and_the_failing_key_is_named() {
    let mut ops = vec![ok(1, w(1), 0, 10), ok(2, r(Some(1)), 20, 30)];
    // The same values on key 1 would be fine; key 1 reads before any write of its own.
    ops.push(Operation {
        key: 1,
        ..ok(3, r(Some(1)), 40, 50)
    });
    let Verdict::NotLinearizable(c) = verdict(None, &ops) else {
        panic!("key 1 read a value of key 0")
    };
    assert_eq!(c.key, 1);
    assert_eq!(c.ops.len(), 1);
}

#[test]
fn the_initial_value_is_what_reads_before_any_write_see() {
    assert!(is_linearizable(Some(0), &[ok(1, r(Some(0)), 0, 5)]));
    assert!(!is_linearizable(None, &[ok(1, r(Some(0)), 0, 5)]));
}

#[test]
fn a_violation_buried_in_a_long_history_is_cut_down_to_the_few_operations_that_cause_it() {
    let mut ops = Vec::new();
    for i in 0..300u64 {
        ops.push(ok(i % 4, w(i as i64), i * 100, i * 100 + 40));
        ops.push(ok(4, r(Some(i as i64)), i * 100 + 50, i * 100 + 90));
    }
    // The read after write 150 returns 149.
    ops[301].op = r(Some(149));
    let Verdict::NotLinearizable(c) = verdict(None, &ops) else {
        panic!("the stale read passed")
    };
    assert_eq!(c.ops, vec![ops[298], ops[300], ops[301]], "{}", c.explanation);
    assert!(
        c.explanation
            .starts_with("read of key 0 by client 4 returned 149 after write 150"),
        "{}",
        c.explanation
    );
    assert_eq!(
        c.linearized.len(),
        301,
        "everything before the read of 149 linearizes: writes 0 to 150, reads 0 to 149"
    );
}

#[test]
fn a_search_past_its_budget_says_unknown_not_a_verdict() {
    // Twelve writes all overlapping, then a read of nothing anyone wrote: many orders to try.
    let mut ops: Vec<Operation> = (0..12).map(|i| ok(i, w(i as i64), 0, 1_000)).collect();
    ops.push(ok(99, r(Some(-1)), 2_000, 2_100));
    let h = History { initial: None, ops };
    assert_eq!(check(&h, 50), Verdict::Unknown { states: 50 });
    assert!(matches!(check(&h, 10_000_000), Verdict::NotLinearizable(_)));
}

// ---- the property: a correct register's histories ----

/// Turns one read into a stale one: a read that began after write B completed, and B
/// began after write A completed, now returns A's value (only A wrote it). None if the
/// history has no such triple.
fn inject_stale_read(h: &mut History, rng: &mut Rng) -> Option<usize> {
    let definite = |o: &Operation| o.outcome == Outcome::Ok;
    let written = |o: &Operation| match o.op {
        Op::Write(v) | Op::Cas(_, v) => Some(v),
        Op::Read(_) => None,
    };
    let reads: Vec<usize> = (0..h.ops.len())
        .filter(|&i| definite(&h.ops[i]) && matches!(h.ops[i].op, Op::Read(_)))
        .collect();
    for _ in 0..50 {
        let ri = reads[rng.below(reads.len() as u64) as usize];
        let read = h.ops[ri];
        let before = |o: &Operation, t: u64| definite(o) && written(o).is_some() && o.complete_us.unwrap() < t;
        let Some(b) = h
            .ops
            .iter()
            .filter(|o| before(o, read.invoke_us))
            .max_by_key(|o| o.invoke_us)
        else {
            continue;
        };
        let Some(a) = h
            .ops
            .iter()
            .filter(|o| before(o, b.invoke_us))
            .max_by_key(|o| o.invoke_us)
        else {
            continue;
        };
        h.ops[ri].op = Op::Read(written(a).unwrap());
        return Some(ri);
    }
    None
}

#[test]
fn a_correct_register_is_always_linearizable_and_one_stale_read_never_is() {
    let mut injected = 0;
    for seed in 0..150 {
        let clients = 2 + seed % 9;
        let mut h = sample::correct_register(seed, clients, 4 + seed % 40, 80);
        match check(&h, BUDGET) {
            Verdict::Linearizable { .. } => {}
            other => panic!("seed {seed}: a correct register's history: {other:?}"),
        }
        let mut rng = Rng::from_seed(seed ^ 0xABCD);
        let Some(read) = inject_stale_read(&mut h, &mut rng) else {
            continue;
        };
        injected += 1;
        match check(&h, BUDGET) {
            Verdict::NotLinearizable(c) => {
                // The counterexample stands on its own, and is smaller than the history.
                let alone = History {
                    initial: None,
                    ops: c.ops.clone(),
                };
                assert!(
                    matches!(check(&alone, BUDGET), Verdict::NotLinearizable(_)),
                    "seed {seed}"
                );
                assert!(c.ops.len() < h.ops.len(), "seed {seed}: nothing was cut");
                assert!(!c.explanation.is_empty());
            }
            other => panic!(
                "seed {seed}: stale read of op {read} ({:?}) passed: {other:?}",
                h.ops[read]
            ),
        }
    }
    assert!(injected > 100, "only {injected} histories had a read to make stale");
}

// ---- parsers ----

const JEPSEN: &str = "\
2017-03-02 22:35:29,017 noise that is not a history line
INFO  jepsen.util - 0\t:invoke\t:write\t1
INFO  jepsen.util - 0\t:ok\t:write\t1
INFO  jepsen.util - 1\t:invoke\t:read\tnil
INFO  jepsen.util - :nemesis\t:info\t:start\tnil
INFO  jepsen.util - 1\t:ok\t:read\t1
INFO  jepsen.util - 2   :invoke   :cas   [1 4]
INFO  jepsen.util - 2   :fail   :cas   [1 4]
INFO  jepsen.util - 3\t:invoke\t:write\t7
INFO  jepsen.util - 3\t:info\t:write\t:timed-out
INFO  jepsen.util - 4\t:invoke\t:read\tnil
";

#[test]
fn a_jepsen_log_reads_as_operations_timed_by_line() {
    let h = jepsen::parse(JEPSEN).unwrap();
    assert_eq!(h.initial, None);
    let summary: Vec<(u64, Op, u64, Option<u64>, Outcome)> = h
        .ops
        .iter()
        .map(|o| (o.client, o.op, o.invoke_us, o.complete_us, o.outcome))
        .collect();
    assert_eq!(
        summary,
        vec![
            (0, w(1), 2, Some(3), Outcome::Ok),
            (1, r(Some(1)), 4, Some(6), Outcome::Ok),
            (2, Op::Cas(Some(1), Some(4)), 7, Some(8), Outcome::Fail),
            (3, w(7), 9, Some(10), Outcome::Unknown),
            (4, r(None), 11, None, Outcome::Unknown),
        ]
    );
    assert!(matches!(check(&h, BUDGET), Verdict::Linearizable { .. }));
}

#[test]
fn bad_jepsen_lines_are_errors_that_name_the_line() {
    let cases = [
        ("INFO jepsen.util - 3 :ok :read 1\n", 1, "unknown process 3"),
        (
            "INFO jepsen.util - 3 :invoke :read nil\nINFO jepsen.util - 3 :ok :read 1\nINFO jepsen.util - 3 :ok :read 1\n",
            3,
            "unmatched completion",
        ),
        ("INFO jepsen.util - 3 :invoke :read nil\nINFO jepsen.util - 3 :ok\n", 2, "expected `<process> <type> <function> <value>`"),
        ("x\nINFO jepsen.util - 3 :invoke :frobnicate 1\n", 2, "unknown function `:frobnicate`"),
        ("INFO jepsen.util - 3 :invoke :write banana\n", 1, "`banana` is not nil, an integer or [old new]"),
        ("INFO jepsen.util - 3 :invoke :cas [1]\n", 1, "a cas value is [old new]"),
        ("INFO jepsen.util - x :invoke :read nil\n", 1, "the process `x` is not a whole number"),
        ("INFO jepsen.util - 1 :invoke :read nil\nINFO jepsen.util - 1 :invoke :read nil\n", 2, "while its :read has not completed"),
        ("INFO jepsen.util - 1 :invoke :read nil\nINFO jepsen.util - 1 :ok :write 1\n", 2, "invoked :read"),
        ("garbage\nmore garbage\n", 1, "no Jepsen history line"),
    ];
    for (text, line, words) in cases {
        let e = jepsen::parse(text).expect_err(text);
        assert_eq!(e.line, line, "{text}: {e}");
        assert!(e.problem.contains(words), "{text}: {e}");
        assert!(e.to_string().starts_with(&format!("line {line}: ")));
    }
}

#[test]
fn json_lines_read_back_what_they_wrote_and_bad_lines_name_themselves() {
    let h = jepsen::parse(JEPSEN).unwrap();
    let text = json::write(&h);
    assert!(
        text.starts_with("{\"history\":\"faultline\",\"version\":1,\"initial\":null}\n"),
        "{text}"
    );
    assert_eq!(json::parse(&text).unwrap(), h);
    let cases = [
        (
            "{\"client\":1,\"op\":\"read\",\"invoke_us\":1,\"complete_us\":2,\"result\":\"ok\"}",
            "needs `value`",
        ),
        (
            "{\"client\":1,\"op\":\"write\",\"value\":1,\"invoke_us\":1,\"complete_us\":null,\"result\":\"ok\"}",
            "only an unknown outcome never returns",
        ),
        (
            "{\"client\":1,\"op\":\"write\",\"value\":1,\"invoke_us\":5,\"complete_us\":2,\"result\":\"ok\"}",
            "before `invoke_us`",
        ),
        (
            "{\"client\":1,\"op\":\"swap\",\"value\":1,\"invoke_us\":1,\"complete_us\":2,\"result\":\"ok\"}",
            "unknown op `swap`",
        ),
        (
            "{\"client\":1,\"op\":\"read\",\"invoke_us\":1,\"complete_us\":2,\"result\":\"maybe\"}",
            "unknown result `maybe`",
        ),
        ("{\"client\":1,\"op\":\"read\",\"colour\":1}", "not an operation"),
        ("not json", "not an operation"),
    ];
    for (bad, words) in cases {
        let text = format!("{{\"history\":\"faultline\",\"version\":1,\"initial\":0}}\n\n{bad}\n");
        let e = json::parse(&text).expect_err(bad);
        assert_eq!(e.line, 3, "{bad}: {e}");
        assert!(e.problem.contains(words), "{bad}: {e}");
    }
    let nil_write =
        "{\"client\":1,\"op\":\"write\",\"value\":null,\"invoke_us\":1,\"complete_us\":2,\"result\":\"ok\"}";
    assert_eq!(json::parse(nil_write).unwrap().ops[0].op, Op::Write(None));
    assert_eq!(history::value_words(None), "nil");
}

// ---- the register's own check ----

/// The `linearizable` check of a preset run to `t_ms`.
fn register_check(preset: &str, t_ms: f64) -> faultline::checks::CheckView {
    let scenario = (faultline::presets::find(preset).unwrap().build)();
    let mut sim = faultline::Simulation::new(scenario).unwrap();
    sim.run_until_ms(t_ms).unwrap();
    sim.checks()
        .into_iter()
        .find(|c| c.id == "linearizable")
        .expect("the register checks linearizability")
}

#[test]
fn the_ap_register_under_a_partition_is_not_linearizable_and_the_cp_register_is() {
    let ap = register_check("cap-ap", 20_000.0);
    assert!(!ap.holds, "{ap:?}");
    let since = ap.violated_since_ms.unwrap();
    assert!(
        (2_000.0..=20_000.0).contains(&since),
        "violated from the partition on, not {since} ms"
    );
    assert!(ap.detail.contains(" returned "), "{}", ap.detail);
    assert!(
        !ap.nodes.is_empty() && ap.nodes.iter().all(|&n| n >= 5),
        "clients are nodes 5…: {:?}",
        ap.nodes
    );
    let cp = register_check("cap-cp", 20_000.0);
    assert!(cp.holds, "{cp:?}");
    assert!(cp.detail.contains("operations, linearizable; "), "{}", cp.detail);
}
