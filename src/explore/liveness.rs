//! The liveness phase: once every fault has healed, does the run converge, and how fast?
//!
//! Safety checkers say nothing bad happened; they cannot say something good still happens.
//! After the last fault ends (`heal_us`), the run is watched every `STEP_US` for up to a
//! bound, and it has recovered at the first moment its protocol's rule holds: Raft has
//! exactly one leader and has acknowledged a write since the heal; a replicated register
//! has acknowledged a write since the heal; heartbeat detectors suspect no node that is
//! up; SWIM members all hold the right view. Protocols without a rule report none.
//! Invariant: watching never changes the run (it only reads between `advance_to` calls,
//! which split a run without changing its trace).

use serde::{Deserialize, Serialize};

use crate::fault::Fault;
use crate::node::Status;
use crate::scenario::Scenario;
use crate::sim::Simulation;
use crate::time::{ms_to_us, us_to_ms, Micros};

/// How often the rule is evaluated during the liveness phase, in µs.
pub const STEP_US: Micros = 50_000;

/// What the liveness phase found for one run.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Liveness {
    /// When the last fault ended.
    pub heal_ms: f64,
    /// How long after the heal the rule first held (null: not within the bound).
    pub recovered_after_ms: Option<f64>,
}

impl Liveness {
    pub fn recovered(&self) -> bool {
        self.recovered_after_ms.is_some()
    }
}

/// The rule a protocol must meet after the heal, in words (`None`: no rule).
pub fn rule(protocol: &str) -> Option<&'static str> {
    Some(match protocol {
        "raft" => "exactly one leader, and a write acknowledged since the heal",
        "register" => "a write acknowledged since the heal",
        "heartbeat" => "no node that is up is suspected by a node that is up",
        "swim" => "every live member holds the right view of every member",
        _ => return None,
    })
}

/// When every fault of the schedule has ended: a timed fault at its end, a pause when it
/// wakes, an untimed crash at the node's next restart, an untimed network fault at the next
/// `heal`, an instant fault at once. `None` if some fault never ends.
pub fn heal_us(s: &Scenario) -> Option<Micros> {
    let mut last = 0;
    for (i, f) in s.faults.iter().enumerate() {
        let at_us = ms_to_us(f.at_ms, "at_ms").ok()?;
        let later = || s.faults[i + 1..].iter().filter(|g| g.at_ms >= f.at_ms);
        let end_us = match (&f.fault, f.duration_ms) {
            (_, Some(d)) => at_us + ms_to_us(d, "duration_ms").ok()?,
            (Fault::Pause { duration_ms, .. }, None) => at_us + ms_to_us(*duration_ms, "duration_ms").ok()?,
            (Fault::Crash { node }, None) => {
                let restart = later().find(|g| g.fault == Fault::Restart { node: *node })?;
                ms_to_us(restart.at_ms, "at_ms").ok()?
            }
            (
                Fault::Partition { .. }
                | Fault::Isolate { .. }
                | Fault::Shape { .. }
                | Fault::PartialPartition { .. }
                | Fault::Cut { .. }
                | Fault::Flap { .. },
                None,
            ) => ms_to_us(later().find(|g| g.fault == Fault::Heal)?.at_ms, "at_ms").ok()?,
            (
                Fault::Restart { .. }
                | Fault::Heal
                | Fault::Uncut { .. }
                | Fault::ClockJump { .. }
                | Fault::Storage { .. },
                None,
            ) => at_us,
            _ => return None,
        };
        last = last.max(end_us);
    }
    Some(last)
}

/// Runs `sim` (standing at the heal) for up to `bound_us`, stopping at the first moment the
/// protocol's rule holds. `None` if the protocol has no rule.
pub fn watch(sim: &mut Simulation, bound_us: Micros) -> Option<Liveness> {
    let protocol = sim.snapshot().protocol;
    rule(protocol)?;
    let heal_us = sim.now_us();
    let acked_at_heal = summary_count(sim, "acked writes: ");
    let mut t_us = heal_us;
    loop {
        if holds(sim, protocol, acked_at_heal) {
            return Some(Liveness {
                heal_ms: us_to_ms(heal_us),
                recovered_after_ms: Some(us_to_ms(t_us - heal_us)),
            });
        }
        if t_us >= heal_us + bound_us {
            return Some(Liveness {
                heal_ms: us_to_ms(heal_us),
                recovered_after_ms: None,
            });
        }
        t_us = (t_us + STEP_US).min(heal_us + bound_us);
        sim.advance_to(t_us);
    }
}

fn holds(sim: &Simulation, protocol: &str, acked_at_heal: Option<u64>) -> bool {
    let acked_since = || summary_count(sim, "acked writes: ") > acked_at_heal;
    match protocol {
        "raft" => {
            let one_leader = sim
                .checks()
                .iter()
                .any(|c| c.id == "split_brain" && c.holds && c.detail.starts_with("one leader"));
            one_leader && acked_since()
        }
        "register" => acked_since(),
        "heartbeat" => {
            let engine = sim.engine();
            let up: Vec<u32> = (0..engine.nodes())
                .filter(|&n| engine.status(n) == Status::Up)
                .collect();
            up.iter()
                .all(|&by| up.iter().all(|&n| n == by || !engine.suspects(by, n)))
        }
        "swim" => summary_count(sim, "membership: ") == Some(0),
        _ => false,
    }
}

/// The count that follows `prefix` in the checkers' summary lines.
fn summary_count(sim: &Simulation, prefix: &str) -> Option<u64> {
    sim.check_summary()
        .iter()
        .find_map(|l| l.strip_prefix(prefix)?.split_whitespace().next()?.parse().ok())
}
