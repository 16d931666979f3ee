//! PBFT (`src/protocol/pbft`): with n ≥ 3f + 1 replicas agreement, validity and correct
//! client results hold whatever up to f replicas do (Byzantine behaviours, crashes) under
//! partitions and loss, and requests complete; with more liars than f agreement breaks;
//! a silent primary is replaced within the view-change timeout; forgeries are discarded
//! with signatures and do damage without.

mod common;

use common::{check, figure, number};

use faultline::fault::{Behaviour, Fault};
use faultline::protocol::pbft::PbftSpec;
use faultline::rng::Rng;
use faultline::scenario::{ProtocolSpec, ScheduledFault};
use faultline::{Scenario, Simulation};

const SAFETY: [&str; 3] = ["agreement", "validity", "client_results"];

fn cluster(replicas: u32, clients: u32, seed: u64) -> Scenario {
    let mut s = Scenario::basic(replicas + clients, seed);
    s.protocol = ProtocolSpec::Pbft(PbftSpec {
        replicas,
        ..PbftSpec::default()
    });
    s
}

fn run(s: Scenario, until_ms: f64) -> Simulation {
    let mut sim = Simulation::new(s).unwrap();
    sim.run_until_ms(until_ms).unwrap();
    sim
}

fn broken(sim: &Simulation) -> Vec<&'static str> {
    SAFETY
        .into_iter()
        .filter(|id| check(sim, id).first_violation_ms.is_some())
        .collect()
}

fn at(at_ms: u64, fault: Fault) -> ScheduledFault {
    ScheduledFault::at(at_ms as f64, fault)
}

/// Up to `faulty` replicas misbehave (a Byzantine behaviour or a crash), a random group
/// is cut off for a while and heals by 6 s, links lose up to 3%.
fn random_schedule(replicas: u32, faulty: u32, seed: u64) -> (Scenario, bool) {
    let mut rng = Rng::from_seed(seed);
    let mut s = cluster(replicas, 2, seed);
    s.network.loss = rng.below(30) as f64 / 1_000.0;
    let mut only_crashes = true;
    let mut picked: Vec<u32> = Vec::new();
    while picked.len() < faulty as usize {
        let node = rng.below(replicas as u64) as u32;
        if picked.contains(&node) {
            continue;
        }
        picked.push(node);
        let behaviour = match rng.below(5) {
            0 => Behaviour::Equivocate,
            1 => Behaviour::Lie,
            2 => Behaviour::Corrupt,
            3 => Behaviour::Forge {
                as_node: (node + 1) % replicas,
            },
            _ => {
                s.faults.push(at(rng.between(500, 5_000), Fault::Crash { node }));
                continue;
            }
        };
        only_crashes = false;
        s.faults
            .push(at(rng.between(0, 3_000), Fault::Byzantine { node, behaviour }));
    }
    let cut: Vec<u32> = (0..replicas).filter(|_| rng.below(3) == 0).collect();
    if !cut.is_empty() {
        let from = rng.between(1_000, 3_000);
        let mut f = at(from, Fault::Partition { groups: vec![cut] });
        f.duration_ms = Some(rng.between(500, 3_000) as f64);
        s.faults.push(f);
    }
    s.faults.sort_by(|a, b| a.at_ms.total_cmp(&b.at_ms));
    (s, only_crashes)
}

#[test]
fn honest_replicas_agree_when_at_most_f_misbehave() {
    let (mut seeds, mut accepted, mut crash_runs, mut crash_runs_progressing) = (0, 0.0, 0, 0);
    for (replicas, f) in [(4, 1), (7, 2)] {
        for seed in 0..500 {
            let (s, only_crashes) = random_schedule(replicas, f, seed);
            let sim = run(s.clone(), 20_000.0);
            assert_eq!(
                broken(&sim),
                Vec::<&str>::new(),
                "n = {replicas}, seed {seed}: {:?}",
                s.faults
            );
            seeds += 1;
            accepted += figure(&sim, "requests_accepted");
            if only_crashes {
                // After the heal, requests complete again (without loss: replicas do not
                // retransmit votes, so a lost one waits for a view change). Within a
                // minute: view-change timeouts double, and with two crashed replicas two
                // of the next views can have a dead primary (1 + 2 + 4 + 8 + 16 s).
                crash_runs += 1;
                let mut lossless = s;
                lossless.network.loss = 0.0;
                let before = figure(&run(lossless.clone(), 12_000.0), "requests_accepted");
                if figure(&run(lossless.clone(), 60_000.0), "requests_accepted") > before {
                    crash_runs_progressing += 1;
                } else {
                    eprintln!(
                        "no progress after healing: n = {replicas}, seed {seed}: {}",
                        lossless.to_json()
                    );
                }
            }
        }
    }
    eprintln!(
        "PBFT, n = 3f + 1: {seeds} random schedules, {accepted} requests accepted, 0 safety violations; \
         progress after healing in {crash_runs_progressing} of {crash_runs} crash-only runs"
    );
    assert!(seeds >= 1_000);
    assert_eq!(
        crash_runs_progressing, crash_runs,
        "with only crashes (at most f) PBFT always goes on"
    );
}

#[test]
fn more_liars_than_f_break_agreement() {
    // n = 4 sized for f = 1, but the primary and replica 3 equivocate together.
    let seeds = 100;
    let mut broke = 0;
    for seed in 0..seeds {
        let mut s = cluster(4, 2, seed);
        for node in [0, 3] {
            s.faults.push(at(
                1_000,
                Fault::Byzantine {
                    node,
                    behaviour: Behaviour::Equivocate,
                },
            ));
        }
        let sim = run(s, 5_000.0);
        if check(&sim, "agreement").first_violation_ms.is_some() {
            broke += 1;
        }
    }
    eprintln!("PBFT, two colluding liars among four: agreement broken in {broke} of {seeds} seeds");
    // Whether both camps gather their quorums before a timeout depends on the delays.
    assert!(broke >= seeds * 3 / 4, "{broke} of {seeds}");
    // One of them alone does no harm.
    let mut s = cluster(4, 2, 1);
    s.faults.push(at(
        1_000,
        Fault::Byzantine {
            node: 0,
            behaviour: Behaviour::Equivocate,
        },
    ));
    let sim = run(s, 10_000.0);
    assert_eq!(broken(&sim), Vec::<&str>::new());
    assert!(figure(&sim, "requests_accepted") > 20.0);
}

/// The committed cells of a replica's log: (sequence number, request).
fn committed(sim: &Simulation, node: u32) -> Vec<(u64, String)> {
    let view = sim.node_view(node).unwrap();
    view.log
        .into_iter()
        .filter(|c| c.committed)
        .map(|c| (c.index, c.text))
        .collect()
}

/// Runs `s` to `fault_ms`, then requires a new view by `bound_ms` and progress after it,
/// and that every request an honest replica had committed before the view change is still
/// at its sequence number on every honest replica afterwards (or below its stable
/// checkpoint, where the agreement checker vouches for it).
fn replaced_in_time(s: Scenario, fault_ms: f64, bound_ms: f64, honest: &[u32], what: &str) -> f64 {
    let seed = s.seed;
    let mut sim = Simulation::new(s).unwrap();
    sim.run_until_ms(fault_ms).unwrap();
    let before = figure(&sim, "requests_accepted");
    let mut changed_ms = None;
    let mut old: Vec<(u64, String)> = Vec::new();
    let mut t = fault_ms;
    while t < bound_ms && changed_ms.is_none() {
        // What honest replicas committed in the old view, just before it ends.
        old = honest.iter().flat_map(|&r| committed(&sim, r)).collect();
        t += 10.0;
        sim.run_until_ms(t).unwrap();
        if figure(&sim, "view_changes") >= 1.0 {
            changed_ms = Some(t);
        }
    }
    let changed_ms = changed_ms.unwrap_or_else(|| panic!("{what}, seed {seed}: no new view by {bound_ms} ms"));
    // Progress by 6 s after the fault, as before the helper existed (not 6 s after the new view).
    sim.run_until_ms(fault_ms + 6_000.0).unwrap();
    assert!(
        figure(&sim, "requests_accepted") > before + 5.0,
        "{what}, seed {seed}: no progress after the view change"
    );
    assert_eq!(broken(&sim), Vec::<&str>::new(), "{what}, seed {seed}");
    let top = old.iter().map(|(seq, _)| *seq).max().unwrap_or(0);
    for &r in honest {
        assert!(
            number(&sim, r, "view") >= 1,
            "{what}, seed {seed}: n{r} stayed in view 0"
        );
        assert!(
            number(&sim, r, "executed") >= top,
            "{what}, seed {seed}: n{r} lags below {top}"
        );
        let now = committed(&sim, r);
        let stable = number(&sim, r, "stable checkpoint");
        for (seq, req) in old.iter().filter(|(seq, _)| *seq > stable) {
            let kept = now.iter().find(|(s, _)| s == seq).map(|(_, q)| q);
            assert_eq!(kept, Some(req), "{what}, seed {seed}: n{r} lost {req} at {seq}");
        }
    }
    changed_ms - fault_ms
}

#[test]
fn a_silent_primary_is_replaced_within_the_view_timeout_and_nothing_committed_is_lost() {
    // Bound: the client's next request (≤ 400 ms), its retry to every replica after one
    // view timeout (1 s), the backups' own timer (1 s), and message delays.
    let bound_ms = 400.0 + 2.0 * 1_000.0 + 200.0;
    let mut worst_ms: f64 = 0.0;
    for seed in 0..50 {
        let mut s = cluster(4, 2, seed);
        s.faults.push(at(2_000, Fault::Crash { node: 0 }));
        let took = replaced_in_time(s, 2_000.0, 2_000.0 + bound_ms, &[1, 2, 3], "silent primary");
        worst_ms = worst_ms.max(took);
    }
    eprintln!("PBFT, a silent primary: a new view within {worst_ms} ms in 50 of 50 seeds (bound {bound_ms} ms)");
}

#[test]
fn an_equivocating_primary_forces_a_view_change_and_nothing_committed_is_lost() {
    // Bound: two client requests (≤ 2 × 400 ms) reach an even sequence number, where the
    // primary's three stories leave no quorum; the backups time out (1 s) and, with f + 1
    // of them asking, all move; plus message delays.
    let bound_ms = 2.0 * 400.0 + 1_000.0 + 200.0;
    let mut worst_ms: f64 = 0.0;
    for seed in 0..50 {
        let mut s = cluster(4, 2, seed);
        let liar = Fault::Byzantine {
            node: 0,
            behaviour: Behaviour::Equivocate,
        };
        s.faults.push(at(2_000, liar));
        let took = replaced_in_time(s, 2_000.0, 2_000.0 + bound_ms, &[1, 2, 3], "equivocating primary");
        worst_ms = worst_ms.max(took);
    }
    eprintln!("PBFT, an equivocating primary: a new view within {worst_ms} ms in 50 of 50 seeds (bound {bound_ms} ms)");
}

#[test]
fn signatures_discard_forgeries_and_without_them_a_forger_does_damage() {
    let forged = |signatures: bool| {
        let mut s = cluster(4, 2, 3);
        if let ProtocolSpec::Pbft(spec) = &mut s.protocol {
            spec.signatures = signatures;
        }
        // Replica 3 lies in its votes and also sends them in replica 2's name.
        s.faults.push(at(
            500,
            Fault::Byzantine {
                node: 3,
                behaviour: Behaviour::Forge { as_node: 2 },
            },
        ));
        run(s, 10_000.0)
    };
    let signed = forged(true);
    assert!(figure(&signed, "forgeries_discarded") > 100.0);
    assert_eq!(broken(&signed), Vec::<&str>::new());
    assert!(figure(&signed, "requests_accepted") > 20.0);
    let unsigned = forged(false);
    assert_eq!(figure(&unsigned, "forgeries_discarded"), 0.0);
}

#[test]
fn the_log_stays_bounded_by_checkpoints() {
    let mut s = cluster(4, 4, 9);
    if let ProtocolSpec::Pbft(spec) = &mut s.protocol {
        spec.op_every_ms = 20.0;
    }
    let sim = run(s, 30_000.0);
    assert!(figure(&sim, "requests_accepted") > 1_000.0);
    let view = sim.node_view(1).unwrap();
    assert!(view.log.len() <= 64, "{} log cells", view.log.len());
    let stable = view.number("stable checkpoint").unwrap();
    assert!(stable > 1_000, "stable checkpoint {stable}");
}

#[test]
fn bad_parameters_are_refused_with_the_field_named() {
    let mut s = cluster(4, 0, 1);
    assert_eq!(s.validate().unwrap_err().field, "nodes");
    s = cluster(4, 2, 1);
    if let ProtocolSpec::Pbft(spec) = &mut s.protocol {
        spec.f = Some(5); // quorums of 5 among 4 replicas
    }
    assert_eq!(s.validate().unwrap_err().field, "protocol.f");
    // n < 3f + 1 runs (to show what it costs) as long as quorums can form.
    if let ProtocolSpec::Pbft(spec) = &mut s.protocol {
        spec.f = Some(2);
    }
    assert!(s.validate().is_ok());
}
