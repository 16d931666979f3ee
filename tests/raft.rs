//! Leader election and replication: Raft keeps one leader and loses no acknowledged write
//! through a partition and through a thousand random fault schedules, with its safety
//! properties checked after every event; the naive election splits its brain on the same
//! schedules and loses writes when the partition heals.

mod common;

use common::{check, figure, preset};

use faultline::protocol::raft::{Election, RaftSpec};
use faultline::rng::Rng;
use faultline::scenario::{ProtocolSpec, ScheduledFault};
use faultline::{Fault, Scenario, Simulation};

const LEADER: u8 = 3;

/// One sample of the servers: (role, term, log length, commit) per server.
type Sample = Vec<(u8, u32, u32, u32)>;

/// Runs to `until_ms`, sampling the servers every `step_ms`.
fn timeline(s: Scenario, servers: usize, until_ms: f64, step_ms: f64) -> (Simulation, Vec<(f64, Sample)>) {
    let mut sim = Simulation::new(s).unwrap();
    let mut out = Vec::new();
    let mut t = step_ms;
    while t <= until_ms {
        sim.run_until_ms(t).unwrap();
        let c = sim.columns();
        let sample = (0..servers)
            .map(|i| {
                let up = c.node_status[i] != 1;
                let role = if up { c.node_role[i] } else { 0 };
                (role, c.node_term[i], c.node_log_len[i], c.node_commit[i])
            })
            .collect();
        out.push((t, sample));
        t += step_ms;
    }
    (sim, out)
}

fn leaders(sample: &Sample, among: &[usize]) -> Vec<usize> {
    among.iter().copied().filter(|&i| sample[i].0 == LEADER).collect()
}

#[test]
fn raft_keeps_one_leader_through_the_partition_and_reconciles_on_heal() {
    let (sim, line) = timeline(preset("raft-one-leader"), 5, 14_000.0, 25.0);
    let at = |t: f64| &line.iter().find(|(u, _)| (*u - t).abs() < 1.0).unwrap().1;
    // Before the cut node 3 leads.
    assert_eq!(leaders(at(1_900.0), &[0, 1, 2, 3, 4]), vec![3]);
    let mut stale_leader_until = 0.0;
    let mut majority_leader_from = None;
    for (t, s) in line.iter().filter(|(t, _)| (2_000.0..8_000.0).contains(t)) {
        let all = leaders(s, &[0, 1, 2, 3, 4]);
        assert!(all.len() <= 1, "two leaders at {t} ms: {all:?}");
        if !leaders(s, &[3, 4]).is_empty() {
            stale_leader_until = *t;
            assert!(
                majority_leader_from.is_none(),
                "the minority leads at {t} ms after the majority elected"
            );
        }
        if majority_leader_from.is_none() && !leaders(s, &[0, 1, 2]).is_empty() {
            majority_leader_from = Some(*t);
        }
    }
    // The stale leader steps down within an election timeout; the majority elects soon after.
    assert!(
        stale_leader_until < 2_000.0 + 300.0 + 100.0,
        "stepped down at {stale_leader_until}"
    );
    let elected = majority_leader_from.expect("the majority elects a leader");
    assert!(elected < 3_500.0, "elected at {elected}");
    // The minority never commits during the partition: its commit index stays put.
    let commit_at_cut = at(2_050.0)[3].3;
    assert_eq!(at(7_950.0)[3].3, commit_at_cut, "node 3 committed while cut off");
    assert!(at(7_950.0)[0].3 > commit_at_cut + 5, "the majority went on committing");
    // The minority stood for election in rising terms.
    assert!(at(7_950.0)[4].1 > at(2_050.0)[4].1 + 2);
    // After the heal (an election of at most 600 ms, then repair) one leader leads, and every
    // server has committed all the leader had committed 100 ms before: the leader's next
    // append carries its commit index within a heartbeat (75 ms) and arrives within 25 ms.
    // Clients keep writing, so "all equal" holds only between writes; this is the exact lag.
    let healed: Vec<&(f64, Sample)> = line.iter().filter(|(t, _)| *t >= 9_000.0).collect();
    for (t, s) in &healed {
        let lead = leaders(s, &[0, 1, 2, 3, 4]);
        assert_eq!(lead.len(), 1, "at {t} ms: {s:?}");
        let committed_before = at(t - 100.0)[lead[0]].3;
        assert!(
            s.iter()
                .all(|server| (committed_before..=s[lead[0]].3).contains(&server.3)),
            "at {t} ms a server lags the leader's commit of 100 ms before ({committed_before}): {s:?}"
        );
        assert!(s.iter().all(|server| server.2 >= server.3), "{s:?}");
    }
    assert!(healed.len() >= 200 && at(14_000.0)[0].3 > at(9_000.0)[0].3 + 10);
    for id in [
        "election_safety",
        "log_matching",
        "leader_completeness",
        "state_machine_safety",
    ] {
        let c = check(&sim, id);
        assert!(c.holds && c.first_violation_ms.is_none(), "{id}: {}", c.detail);
    }
    assert_eq!(figure(&sim, "split_brain_ms"), 0.0);
    assert_eq!(figure(&sim, "acked_writes_lost"), 0.0);
    assert!(figure(&sim, "acked_writes") > 20.0);
}

#[test]
fn naive_election_splits_the_brain_and_loses_acknowledged_writes_on_heal() {
    let (sim, line) = timeline(preset("split-brain"), 5, 12_000.0, 50.0);
    let two: Vec<f64> = (line.iter())
        .filter(|(_, s)| leaders(s, &[0, 1, 2, 3, 4]).len() == 2)
        .map(|(t, _)| *t)
        .collect();
    assert!(!two.is_empty(), "never two leaders");
    assert!(two[0] > 2_000.0 && two[0] < 2_700.0, "split at {}", two[0]);
    assert!(two.len() > 100, "two leaders for {} samples", two.len());
    let split_ms = figure(&sim, "split_brain_ms");
    assert!((5_000.0..6_500.0).contains(&split_ms), "split brain {split_ms} ms");
    let lost = check(&sim, "acked_writes_lost");
    let first = lost.first_violation_ms.expect("writes lost");
    assert!(
        (8_000.0..9_000.0).contains(&first),
        "lost at {first} ms, not at the heal"
    );
    assert!(figure(&sim, "acked_writes_lost") >= 3.0);
    assert!(check(&sim, "state_machine_safety").first_violation_ms.is_some());
    // After the heal one leader again.
    assert_eq!(leaders(&line.last().unwrap().1, &[0, 1, 2, 3, 4]).len(), 1);
}

#[test]
fn the_cli_reports_split_brain() {
    let run = |name: &str, json: bool| {
        let mut args = vec!["run", "--preset", name, "--until", "10s"];
        args.extend(json.then_some("--json"));
        let out = std::process::Command::new(env!("CARGO_BIN_EXE_faultline"))
            .args(args)
            .output()
            .unwrap();
        assert!(out.status.success());
        String::from_utf8(out.stdout).unwrap()
    };
    let split_ms = |name: &str| {
        let json: serde_json::Value = serde_json::from_str(&run(name, true)).unwrap();
        let figures = json["figures"].as_array().unwrap().clone();
        let split = figures.iter().find(|f| f["id"] == "split_brain_ms").unwrap();
        (
            split["value"].as_f64().unwrap(),
            split["line"].as_str().unwrap().to_string(),
        )
    };
    let (naive_ms, naive_line) = split_ms("split-brain");
    assert!(naive_ms > 4_000.0, "{naive_line}");
    // The text summary prints the same line, and the checker's verdict.
    let text = run("split-brain", false);
    assert!(
        text.lines().any(|l| l == naive_line) && text.contains("check split_brain: "),
        "{text}"
    );
    assert_eq!(split_ms("raft-one-leader"), (0.0, "split brain: 0 ms".to_string()));
}

/// Servers and clients with random partitions, crashes with restarts, pauses and loss.
fn random_schedule(seed: u64, election: Election) -> Scenario {
    let mut rng = Rng::from_seed(seed ^ 0x5A17_B7A1);
    let servers = [3, 5, 5, 7][rng.below(4) as usize];
    let nodes = servers + 2 + rng.below(3) as u32;
    let mut s = Scenario::basic(nodes, seed);
    s.name = format!("random schedule {seed}");
    s.protocol = ProtocolSpec::Raft(RaftSpec {
        servers,
        election,
        check_quorum: rng.below(2) == 0,
        op_every_ms: 200.0,
        ..RaftSpec::default()
    });
    s.network.loss = [0.0, 0.01, 0.05][rng.below(3) as usize];
    // One partition of the servers that lasts, then a few more faults of any kind.
    let mut side: Vec<u32> = (0..servers).filter(|_| rng.below(2) == 0).collect();
    if side.is_empty() || side.len() == servers as usize {
        side = vec![rng.below(servers as u64) as u32];
    }
    let at = 1_000.0 + rng.below(2_000) as f64;
    s.faults.push(ScheduledFault::lasting(
        at,
        Fault::Partition { groups: vec![side] },
        2_000.0 + rng.below(3_000) as f64,
    ));
    let mut struck = Vec::new();
    for _ in 0..2 + rng.below(4) {
        let at = 500.0 + rng.below(11_000) as f64;
        let node = rng.below(servers as u64) as u32;
        // A node is crashed or paused at most once (a paused node cannot be paused).
        if struck.contains(&node) {
            continue;
        }
        let lasting = 200.0 + rng.below(2_500) as f64;
        let fault = match rng.below(4) {
            0 | 1 => Fault::Crash { node },
            2 => Fault::Pause {
                node,
                duration_ms: lasting,
            },
            _ => {
                let side: Vec<u32> = (0..nodes).filter(|_| rng.below(2) == 0).collect();
                if side.is_empty() {
                    continue;
                }
                Fault::Partition { groups: vec![side] }
            }
        };
        if !matches!(fault, Fault::Partition { .. }) {
            struck.push(node);
        }
        s.faults.push(match fault {
            Fault::Pause { .. } => ScheduledFault::at(at, fault),
            _ => ScheduledFault::lasting(at, fault, lasting),
        });
    }
    s
}

const SAFETY: [&str; 5] = [
    "election_safety",
    "log_matching",
    "leader_completeness",
    "state_machine_safety",
    "acked_writes_lost",
];

#[test]
fn raft_is_safe_and_naive_splits_over_a_thousand_random_schedules() {
    let seeds = std::env::var("FAULTLINE_RAFT_SEEDS").map_or(1_000, |v| v.parse().unwrap());
    let (mut acked, mut elections, mut raft_split_ms) = (0.0, 0.0, 0.0);
    let (mut naive_split, mut naive_lost, mut naive_unsafe) = (0, 0.0, 0);
    for seed in 0..seeds {
        let mut sim = Simulation::new(random_schedule(seed, Election::Raft)).unwrap();
        sim.run_until_ms(15_000.0).unwrap();
        for id in SAFETY {
            let c = check(&sim, id);
            assert!(
                c.first_violation_ms.is_none(),
                "seed {seed}: {id} violated at {:?}: {}",
                c.first_violation_ms,
                c.detail
            );
        }
        acked += figure(&sim, "acked_writes");
        elections += figure(&sim, "elections");
        raft_split_ms += figure(&sim, "split_brain_ms");

        let mut naive = Simulation::new(random_schedule(seed, Election::Naive)).unwrap();
        naive.run_until_ms(15_000.0).unwrap();
        if figure(&naive, "split_brain_ms") > 0.0 {
            naive_split += 1;
        }
        naive_lost += figure(&naive, "acked_writes_lost");
        if SAFETY.iter().any(|id| check(&naive, id).first_violation_ms.is_some()) {
            naive_unsafe += 1;
        }
    }
    eprintln!(
        "{seeds} schedules: Raft {acked} acknowledged writes, {elections} elections, none unsafe, \
         split brain {raft_split_ms} ms in all; naive split brain in {naive_split}, unsafe in {naive_unsafe}, \
         {naive_lost} acknowledged writes lost"
    );
    // Not vacuous: Raft did real work through the faults.
    assert!(acked > 40.0 * seeds as f64, "{acked} acknowledged writes");
    assert!(elections > 2.0 * seeds as f64, "{elections} elections");
    // Every schedule partitions the servers for seconds: the naive election splits.
    assert!(
        naive_split * 100 >= seeds * 95,
        "naive split brain in {naive_split} of {seeds}"
    );
    assert!(naive_unsafe * 2 >= seeds, "naive unsafe in {naive_unsafe} of {seeds}");
    assert!(naive_lost > seeds as f64, "{naive_lost} writes lost");
}

#[test]
fn a_stale_leader_without_check_quorum_keeps_its_crown_but_commits_nothing() {
    let mut s = preset("raft-one-leader");
    if let ProtocolSpec::Raft(spec) = &mut s.protocol {
        spec.check_quorum = false;
    }
    let (sim, line) = timeline(s, 5, 8_000.0, 50.0);
    let during: Vec<&(f64, Sample)> = line.iter().filter(|(t, _)| (3_500.0..8_000.0).contains(t)).collect();
    // Node 3 still believes it leads, alongside the majority's new leader: split brain,
    // but the stale leader's log grows uncommitted.
    assert!(during.iter().all(|(_, s)| s[3].0 == LEADER));
    assert!(during.iter().any(|(_, s)| !leaders(s, &[0, 1, 2]).is_empty()));
    let (first, last) = (&during[0].1[3], &during.last().unwrap().1[3]);
    assert_eq!(first.3, last.3, "the stale leader committed");
    assert!(last.2 > first.2, "the stale leader kept appending");
    assert!(figure(&sim, "split_brain_ms") > 3_000.0);
    for id in SAFETY {
        assert!(check(&sim, id).first_violation_ms.is_none(), "{id}");
    }
}

#[test]
fn bad_parameters_are_named() {
    let bad = |spec: RaftSpec, nodes: u32| {
        let mut s = Scenario::basic(nodes, 1);
        s.protocol = ProtocolSpec::Raft(spec);
        s.validate().unwrap_err().to_string()
    };
    let e = bad(
        RaftSpec {
            heartbeat_ms: 200.0,
            ..RaftSpec::default()
        },
        8,
    );
    assert!(e.contains("heartbeat_ms") && e.contains("a third"), "{e}");
    let e = bad(
        RaftSpec {
            servers: 12,
            ..RaftSpec::default()
        },
        20,
    );
    assert!(e.contains("servers"), "{e}");
    assert!(bad(RaftSpec::default(), 3).contains("nodes"));
    let e = bad(
        RaftSpec {
            election_max_ms: 100.0,
            ..RaftSpec::default()
        },
        8,
    );
    assert!(e.contains("election_max_ms"), "{e}");
}

#[test]
fn same_seed_same_trace_and_a_lone_server_leads_itself() {
    let hash = |seed| {
        let mut sim = Simulation::new(random_schedule(seed, Election::Raft)).unwrap();
        sim.run_until_ms(6_000.0).unwrap();
        sim.trace_hash()
    };
    assert_eq!(hash(7), hash(7));
    assert_ne!(hash(7), hash(8));
    let mut s = Scenario::basic(3, 1);
    s.protocol = ProtocolSpec::Raft(RaftSpec {
        servers: 1,
        ..RaftSpec::default()
    });
    let mut sim = Simulation::new(s).unwrap();
    sim.run_until_ms(5_000.0).unwrap();
    assert_eq!(sim.columns().node_role[0], LEADER);
    assert!(figure(&sim, "acked_writes") > 10.0);
}
