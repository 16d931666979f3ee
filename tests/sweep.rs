//! Seed sweeps, swarm draws, the liveness phase, shrinking, shards and the CLI's errors,
//! through the public API and the `faultline` binary. Kept to a few hundred short runs.

mod common;

use std::collections::BTreeMap;
use std::process::Command;

use common::preset;
use faultline::explore::swarm::{Knob, Vary};
use faultline::explore::{liveness, parallel, shrink, Plan, SeedRange, Summary};
use faultline::scenario::ProtocolSpec;
use faultline::time::{Micros, US_PER_S};
use faultline::{Scenario, Simulation};

fn plan(s: Scenario, until_s: u64, swarm: bool) -> Plan {
    Plan::new(s, until_s * US_PER_S, swarm, 4 * US_PER_S, &[]).unwrap()
}

fn sweep(plan: &Plan, range: SeedRange) -> Summary {
    parallel::sweep(plan, &plan.header(range, None), range, |_| {})
}

fn counts(summary: &Summary) -> BTreeMap<String, u64> {
    summary.checks.iter().map(|(k, t)| (k.clone(), t.seeds)).collect()
}

#[test]
fn a_split_brain_sweep_finds_violations_and_its_counts_equal_runs_one_by_one() {
    let (seeds, until_us) = (SeedRange::new(0, 120).unwrap(), 10 * US_PER_S);
    let p = plan(preset("split-brain"), 10, false);
    let summary = sweep(&p, seeds);
    let mut by_hand: BTreeMap<String, u64> = p.checks.iter().map(|c| (c.clone(), 0)).collect();
    let mut events = 0;
    for seed in seeds.start..seeds.end {
        let mut sim = Simulation::new(Scenario {
            seed,
            ..preset("split-brain")
        })
        .unwrap();
        sim.advance_to(until_us);
        events += sim.snapshot().events;
        for c in sim.checks().iter().filter(|c| c.first_violation_ms.is_some()) {
            *by_hand.get_mut(c.id).unwrap() += 1;
        }
    }
    assert_eq!(counts(&summary), by_hand);
    assert_eq!(summary.events, events, "watching the liveness phase changed the runs");
    assert_eq!(summary.seeds, 120);
    // The naive election splits in (nearly) every seed: the partition lasts six seconds.
    assert!(by_hand["split_brain"] >= 114, "{by_hand:?}");
    assert!(
        summary.checks["split_brain"].first.len() == 3,
        "three failing seeds shown as links"
    );
    assert_eq!(
        summary.checks["split_brain"].first[0].seed, 0,
        "the smallest failing seeds are shown"
    );
}

#[test]
fn raft_keeps_every_property_over_the_same_seeds_and_recovers_after_the_heal() {
    let p = plan(preset("raft-one-leader"), 14, false);
    let summary = sweep(&p, SeedRange::new(0, 120).unwrap());
    assert!(counts(&summary).values().all(|&n| n == 0), "{:?}", counts(&summary));
    assert_eq!(summary.failed, 0);
    // The partition heals at 8 s: every seed elects one leader and commits again.
    assert_eq!((summary.judged, summary.recovered), (120, 120));
    assert!(summary.recovery_ms_max < 4_000, "{}", summary.render());
}

#[test]
fn a_failing_seed_s_link_replays_exactly_its_run() {
    let p = plan(preset("split-brain"), 10, true);
    let outcome = (0..40)
        .map(|seed| p.run(seed))
        .find(|o| o.failed())
        .expect("a failing seed");
    let link = faultline::share::decode(outcome.link.as_deref().unwrap()).unwrap();
    assert_eq!(
        link.scenario,
        p.scenario(outcome.seed),
        "the drawn scenario is in the link"
    );
    assert!(link.scenario.vary.is_none(), "a drawn run varies nothing more");
    let first = outcome.violated.values().copied().reduce(f64::min).unwrap();
    assert_eq!(
        link.t_us,
        (first * 1_000.0).round() as Micros,
        "the link opens where it broke"
    );
    let mut replay = Simulation::new(link.scenario).unwrap();
    replay.advance_to(10 * US_PER_S);
    assert_eq!(replay.trace_hash_hex(), outcome.trace_hash);
}

#[test]
fn swarm_seeds_draw_different_schedules_that_all_heal_before_the_liveness_phase() {
    let p = plan(preset("raft-one-leader"), 12, true);
    let heal_us = 8 * US_PER_S;
    let mut schedules = std::collections::BTreeSet::new();
    for seed in 0..60 {
        let s = p.scenario(seed);
        assert_eq!(s, p.scenario(seed), "seed {seed} draws one scenario");
        s.validate().unwrap();
        assert!(s.faults.len() <= 6);
        let healed = liveness::heal_us(&s).expect("every drawn fault ends");
        assert!(healed <= heal_us, "seed {seed}: faults last to {healed} µs");
        schedules.insert(s.to_json());
    }
    assert!(schedules.len() >= 58, "only {} different runs", schedules.len());
    // Raft stays safe through them all (split brain for a moment is allowed: a stale
    // leader may still believe it leads), and converges after the heal.
    let summary = sweep(&p, SeedRange::new(0, 60).unwrap());
    for id in [
        "election_safety",
        "log_matching",
        "leader_completeness",
        "state_machine_safety",
        "acked_writes_lost",
    ] {
        assert_eq!(summary.checks[id].seeds, 0, "{id}: {}", summary.render());
    }
    assert_eq!((summary.judged, summary.recovered), (60, 60), "{}", summary.render());
}

#[test]
fn knobs_the_scenario_marks_variable_are_drawn_within_their_ranges() {
    let mut s = preset("raft-one-leader");
    let mut vary = Vary {
        loss: Some([0.0, 0.05]),
        ..Vary::default()
    };
    vary.protocol
        .insert("election_min_ms".into(), Knob::Between([240.0, 400.0]));
    vary.protocol
        .insert("check_quorum".into(), Knob::OneOf(vec![true.into(), false.into()]));
    s.vary = Some(vary.clone());
    let p = plan(s.clone(), 12, true);
    let mut quorum = [0, 0];
    for seed in 0..40 {
        let drawn = p.scenario(seed);
        let ProtocolSpec::Raft(spec) = &drawn.protocol else {
            panic!("still Raft")
        };
        assert!(
            (240.0..=400.0).contains(&spec.election_min_ms),
            "{}",
            spec.election_min_ms
        );
        assert_eq!(spec.election_min_ms.fract(), 0.0, "whole bounds draw whole numbers");
        assert!((0.0..=0.05).contains(&drawn.network.loss));
        quorum[spec.check_quorum as usize] += 1;
    }
    assert!(quorum[0] > 5 && quorum[1] > 5, "{quorum:?}");
    vary.protocol.insert("elektion_ms".into(), Knob::Between([1.0, 2.0]));
    s.vary = Some(vary);
    let e = s.validate().unwrap_err().to_string();
    assert!(
        e.starts_with("vary.protocol.elektion_ms") && e.contains("unknown field"),
        "{e}"
    );
}

#[test]
fn shrink_keeps_the_failure_with_fewer_faults_each_of_them_needed() {
    let (check, until_us) = ("split_brain", 12 * US_PER_S);
    let p = plan(preset("raft-one-leader"), 12, true);
    let original = (0..80)
        .map(|seed| p.scenario(seed))
        .find(|s| s.faults.len() >= 3 && shrink::violation_us(s, check, until_us).is_some())
        .expect("a swarm seed where Raft briefly has two leaders");
    let shrunk = shrink::shrink(&original, check, until_us, 400, &mut |_| {}).unwrap();
    let s = &shrunk.scenario;
    assert!(!shrunk.budget_hit, "{} runs", shrunk.runs);
    assert_eq!(shrink::violation_us(s, check, until_us), Some(shrunk.violated_at_us));
    assert!(s.faults.len() < original.faults.len(), "{:?}", shrunk.removed);
    assert!(s.nodes <= original.nodes);
    assert!(!shrunk.removed.is_empty());
    // Each fault left is needed: without it, Raft keeps one leader.
    for i in 0..s.faults.len() {
        let mut without = s.clone();
        let gone = without.faults.remove(i);
        assert_eq!(
            shrink::violation_us(&without, check, until_us),
            None,
            "{gone:?} was not needed"
        );
    }
    // And the faults it removed are not needed: the original with only the kept faults
    // (at their original length, on every original node) still fails.
    let mut kept = original.clone();
    kept.faults.retain(|f| {
        s.faults
            .iter()
            .any(|g| g.at_ms == f.at_ms && g.fault.label() == f.fault.label())
    });
    assert_eq!(kept.faults.len(), s.faults.len());
    assert!(shrink::violation_us(&kept, check, until_us).is_some());
    // The page's summary: its link opens the shrunk run at its violation.
    let summary = shrink::Summary::of(&original, check, &shrunk);
    let opened = faultline::share::decode(&summary.link).unwrap();
    assert_eq!(&opened.scenario, s);
    assert_eq!(opened.t_us, shrunk.violated_at_us);
    assert_eq!(
        (summary.faults_before, summary.faults_after, summary.nodes_after),
        (original.faults.len(), s.faults.len(), s.nodes)
    );
}

fn faultline(args: &[&str]) -> (bool, String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_faultline"))
        .args(args)
        .output()
        .expect("the binary runs");
    let text = |b: &[u8]| String::from_utf8_lossy(b).into_owned();
    (out.status.success(), text(&out.stdout), text(&out.stderr))
}

/// The seed lines of an output file, sorted.
fn seed_lines(path: &std::path::Path) -> Vec<String> {
    let text = std::fs::read_to_string(path).unwrap();
    let mut lines: Vec<String> = text.lines().skip(1).map(str::to_string).collect();
    lines.sort();
    lines
}

#[test]
fn four_shards_merged_equal_the_whole_sweep() {
    let dir = std::env::temp_dir().join(format!("faultline-shards-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let sweep = [
        "sweep",
        "--preset",
        "split-brain",
        "--seeds",
        "0..40",
        "--until",
        "9s",
        "--swarm",
    ];
    let all = dir.join("all.jsonl");
    let (ok, whole, err) = faultline(&[&sweep[..], &["--out", all.to_str().unwrap()]].concat());
    assert!(ok, "{err}");
    let mut files = Vec::new();
    let mut shard_lines = Vec::new();
    for k in 1..=4 {
        let path = dir.join(format!("shard-{k}.jsonl"));
        let shard = format!("{k}/4");
        let (ok, out, err) = faultline(&[&sweep[..], &["--shard", &shard, "--out", path.to_str().unwrap()]].concat());
        assert!(ok, "{err}");
        assert!(out.starts_with(&format!("shard {k}/4: seeds ")), "{out}");
        shard_lines.extend(seed_lines(&path));
        files.push(path.to_str().unwrap().to_string());
    }
    shard_lines.sort();
    assert_eq!(
        shard_lines,
        seed_lines(&all),
        "the shards ran the same seeds the same way"
    );
    let merge: Vec<&str> = ["sweep", "merge"]
        .into_iter()
        .chain(files.iter().map(String::as_str))
        .collect();
    let (ok, merged, err) = faultline(&merge);
    assert!(ok, "{err}");
    let without_speed: String = whole
        .lines()
        .filter(|l| !l.starts_with("speed: "))
        .map(|l| format!("{l}\n"))
        .collect();
    assert_eq!(merged, without_speed);
    assert!(merged.contains("check split_brain: violated in "), "{merged}");
    // Three of four shards: the summary says seeds are missing.
    let (ok, partial, _) = faultline(&merge[..5]);
    assert!(ok && partial.contains("incomplete: 10 seeds of 0..40"), "{partial}");
    // A shard given twice is refused.
    let twice = [merge.clone(), vec![merge[2]]].concat();
    let (ok, _, err) = faultline(&twice);
    assert!(!ok && err.contains("appears twice"), "{err}");
    std::fs::remove_dir_all(&dir).ok();
}

#[test]
fn bad_input_is_refused_with_a_clear_error() {
    let base = ["sweep", "--preset", "raft-one-leader", "--until", "2s"];
    let cases: [(&[&str], &str); 6] = [
        (&["--seeds", "5..2"], "the range 5..2 is empty"),
        (&["--shard", "3/2"], "shard 3/2 does not exist"),
        (
            &["--check", "two_leaders"],
            "no checker `two_leaders`; its checkers: election_safety, split_brain",
        ),
        (&["--seeds", "0..x"], "`x` in `0..x` is not a whole number"),
        (&["--swarm", "--liveness", "5s"], "a swarm needs at least 1 s of faults"),
        (&["--threads", "0"], "not a positive whole number"),
    ];
    for (extra, needle) in cases {
        let (ok, out, err) = faultline(&[&base[..], extra].concat());
        assert!(!ok && out.is_empty(), "{extra:?} should fail");
        assert!(err.contains(needle), "{extra:?}: `{err}` should say `{needle}`");
    }
    let (ok, _, err) = faultline(&["shrink", "--preset", "raft-one-leader", "--until", "3s"]);
    assert!(!ok && err.contains("no checker is violated"), "{err}");
    let (ok, _, err) = faultline(&["sweep", "merge", "/nonexistent/shard.jsonl"]);
    assert!(!ok && err.contains("cannot read /nonexistent/shard.jsonl"), "{err}");
}

#[test]
fn the_cli_shrinks_a_link_and_prints_the_smaller_link() {
    let (ok, link, err) = faultline(&["link", "--preset", "split-brain", "--at", "9s"]);
    assert!(ok, "{err}");
    let (ok, out, err) = faultline(&["shrink", link.trim(), "--check", "acked_writes_lost"]);
    assert!(ok, "{err}");
    assert!(out.starts_with("shrunk `acked_writes_lost`: 1 → 1 faults"), "{out}");
    let last = out.lines().last().unwrap();
    let shrunk = faultline::share::decode(last).unwrap();
    assert!(shrunk.scenario.nodes <= 8);
    let ms = shrink::violation_us(&shrunk.scenario, "acked_writes_lost", 9 * US_PER_S);
    assert_eq!(ms, Some(shrunk.t_us), "the link opens at the violation");
}
