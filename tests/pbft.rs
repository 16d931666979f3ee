//! PBFT (`src/protocol/pbft`): with n ≥ 3f + 1 replicas agreement, validity and correct
//! client results hold whatever up to f replicas do (Byzantine behaviours, crashes) under
//! partitions and loss, and requests complete; with more liars than f agreement breaks;
//! a silent primary is replaced within the view-change timeout; forgeries are discarded
//! with signatures and do damage without.

mod common;

use common::{check, figure};

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

#[test]
fn a_silent_primary_is_replaced_within_the_view_timeout_and_nothing_committed_is_lost() {
    for seed in 0..50 {
        let mut s = cluster(4, 2, seed);
        s.faults.push(at(2_000, Fault::Crash { node: 0 }));
        let mut sim = Simulation::new(s).unwrap();
        sim.run_until_ms(2_000.0).unwrap();
        let before = figure(&sim, "requests_accepted");
        // Bound: the client's next request (≤ 400 ms), its retry to every replica after
        // one view timeout (1 s), the backups' own timer (1 s), and message delays.
        sim.run_until_ms(2_000.0 + 400.0 + 2.0 * 1_000.0 + 200.0).unwrap();
        assert!(figure(&sim, "view_changes") >= 1.0, "seed {seed}: no new view");
        sim.run_until_ms(8_000.0).unwrap();
        assert!(figure(&sim, "requests_accepted") > before + 5.0, "seed {seed}");
        assert_eq!(broken(&sim), Vec::<&str>::new(), "seed {seed}");
    }
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
    let stable: u64 = view
        .facts
        .iter()
        .find(|f| f.label == "stable checkpoint")
        .unwrap()
        .value
        .parse()
        .unwrap();
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
