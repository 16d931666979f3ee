//! Swarm testing: each seed draws its own run, TigerBeetle-style.
//!
//! A scenario marks what may vary in its `vary` field: the fault schedule (how many faults,
//! which kinds, on which nodes, how long), the network's loss and latency, and protocol
//! settings within ranges. `draw` turns a scenario and a seed into one concrete scenario:
//! the drawn faults replace the scenario's own schedule, every drawn fault has ended by
//! `heal_us` (the liveness phase follows), and the result carries no `vary`, so its share
//! link replays that one run exactly. Invariant: `draw` is a pure function of its inputs
//! (its own xoshiro stream, integer arithmetic, no floating-point transcendentals), so the
//! same seed draws the same scenario natively and in wasm; the drawn scenario validates.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::error::InputError;
use crate::fault::Fault;
use crate::network::NodeId;
use crate::rng::Rng;
use crate::scenario::{LatencySpec, ProtocolSpec, Scenario, ScheduledFault};
use crate::time::{us_to_ms, Micros};

/// What a swarm may vary in a scenario (absent parts stay as written).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Vary {
    /// The fault schedule each seed draws (it replaces the scenario's own).
    #[serde(default)]
    pub faults: FaultDraw,
    /// Loss on every link, drawn from `[low, high]`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub loss: Option<[f64; 2]>,
    /// Uniform latency whose two ends are drawn from `[low, high]` ms.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub latency_ms: Option<[f64; 2]>,
    /// Protocol settings by field name (a dotted path for nested ones, e.g.
    /// `detector.threshold`), each a range or a list of choices.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub protocol: BTreeMap<String, Knob>,
}

/// How the fault schedule is drawn.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct FaultDraw {
    /// How many faults to draw, `[low, high]` (a drawn fault that makes no sense at its
    /// moment, a second crash of a crashed node say, is left out).
    pub count: [u32; 2],
    pub kinds: Vec<FaultKind>,
    /// The nodes faults may strike (default: every node).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub nodes: Option<Vec<NodeId>>,
    /// How long each fault lasts, `[low, high]` ms (cut short so that all end by the heal).
    pub duration_ms: [f64; 2],
}

impl Default for FaultDraw {
    fn default() -> Self {
        FaultDraw {
            count: [1, 6],
            kinds: FaultKind::ALL.to_vec(),
            nodes: None,
            duration_ms: [200.0, 3_000.0],
        }
    }
}

/// The kinds of fault a swarm draws.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FaultKind {
    Crash,
    Pause,
    Partition,
    Isolate,
    Omission,
    Slow,
    ClockJump,
}

impl FaultKind {
    pub const ALL: [FaultKind; 7] = [
        FaultKind::Crash,
        FaultKind::Pause,
        FaultKind::Partition,
        FaultKind::Isolate,
        FaultKind::Omission,
        FaultKind::Slow,
        FaultKind::ClockJump,
    ];
}

/// One protocol setting's range: `{"between": [low, high]}` (whole numbers when both ends
/// are whole) or `{"one_of": [choices…]}`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", deny_unknown_fields)]
pub enum Knob {
    Between([f64; 2]),
    OneOf(Vec<serde_json::Value>),
}

/// Most choices a knob may list, and most knobs a scenario may vary.
const MAX_CHOICES: usize = 64;
const MAX_KNOBS: usize = 64;
/// Draws tried per knob before it keeps the scenario's own value (a drawn value can be
/// invalid together with others, e.g. a heartbeat over a third of the election timeout).
const KNOB_ATTEMPTS: usize = 8;
/// Stream tag of the swarm's generator, apart from every engine stream.
const SWARM_STREAM: u64 = 0x5741_524D_5345_4544;

impl Vary {
    /// Checks the ranges against the scenario they vary.
    pub fn validate(&self, scenario: &Scenario) -> Result<(), InputError> {
        let range = |r: [f64; 2], field: &str, max: f64| -> Result<(), InputError> {
            if !(r[0].is_finite() && r[1].is_finite() && 0.0 <= r[0] && r[0] <= r[1] && r[1] <= max) {
                let problem = format!(
                    "must be [low, high] with 0 ≤ low ≤ high ≤ {max}, got [{}, {}]",
                    r[0], r[1]
                );
                return Err(InputError::new(field, problem));
            }
            Ok(())
        };
        let f = &self.faults;
        if f.count[0] > f.count[1] || f.count[1] > 100 {
            return Err(InputError::new(
                "faults.count",
                "must be [low, high] with low ≤ high ≤ 100",
            ));
        }
        range(f.duration_ms, "faults.duration_ms", 3_600_000.0)?;
        if f.duration_ms[0] < 1.0 {
            return Err(InputError::new("faults.duration_ms", "must last at least 1 ms"));
        }
        if let Some(nodes) = &f.nodes {
            if nodes.is_empty() || nodes.iter().any(|&n| n >= scenario.nodes) {
                let problem = format!("must list nodes from 0 to {}", scenario.nodes - 1);
                return Err(InputError::new("faults.nodes", problem));
            }
        }
        if let Some(loss) = self.loss {
            range(loss, "loss", 1.0)?;
        }
        if let Some(latency) = self.latency_ms {
            range(latency, "latency_ms", 60_000.0)?;
        }
        if self.protocol.len() > MAX_KNOBS {
            return Err(InputError::new(
                "protocol",
                format!("varies more than {MAX_KNOBS} settings"),
            ));
        }
        let base = serde_json::to_value(&scenario.protocol).expect("a protocol always serializes");
        for (name, knob) in &self.protocol {
            let field = format!("protocol.{name}");
            let example = match knob {
                Knob::Between(r) => {
                    range(*r, &field, 1e12)?;
                    number(r[0], r[0].fract() == 0.0 && r[1].fract() == 0.0)
                }
                Knob::OneOf(choices) if choices.is_empty() || choices.len() > MAX_CHOICES => {
                    return Err(InputError::new(field, format!("must list 1 to {MAX_CHOICES} choices")));
                }
                Knob::OneOf(choices) => choices[0].clone(),
            };
            let mut trial = base.clone();
            set_path(&mut trial, name, example).map_err(|p| InputError::new(field.clone(), p))?;
            serde_json::from_value::<ProtocolSpec>(trial).map_err(|e| InputError::new(field, e.to_string()))?;
        }
        Ok(())
    }
}

/// The scenario seed `seed` draws from `base` (which must carry `vary`), with every drawn
/// fault over by `heal_us`. Without `vary`, the base itself with that seed.
pub fn draw(base: &Scenario, seed: u64, heal_us: Micros) -> Scenario {
    let mut s = base.clone();
    s.seed = seed;
    let Some(vary) = s.vary.take() else { return s };
    let mut rng = Rng::from_seed(seed ^ SWARM_STREAM);
    s.name = format!("{} · swarm seed {seed}", base.name);
    if let Some([low, high]) = vary.loss {
        s.network.loss = between_ms(&mut rng, low * 1e4, high * 1e4) / 1e4;
    }
    if let Some([low, high]) = vary.latency_ms {
        let (a, b) = (between_ms(&mut rng, low, high), between_ms(&mut rng, low, high));
        s.network.latency = LatencySpec::Uniform {
            min_ms: a.min(b),
            max_ms: a.max(b),
        };
    }
    draw_knobs(&mut s, &vary.protocol, &mut rng);
    s.faults.clear();
    draw_faults(&mut s, &vary.faults, heal_us, &mut rng);
    debug_assert!(s.validate().is_ok(), "a drawn scenario validates");
    s
}

/// A whole number of milliseconds (or of the caller's unit) in `[low, high]`, as f64.
fn between_ms(rng: &mut Rng, low: f64, high: f64) -> f64 {
    let (lo, hi) = (low.ceil().max(0.0) as u64, high.floor().max(0.0) as u64);
    if lo >= hi {
        return low;
    }
    rng.between(lo, hi) as f64
}

fn number(x: f64, whole: bool) -> serde_json::Value {
    if whole {
        serde_json::Value::from(x as i64)
    } else {
        serde_json::Value::from(x)
    }
}

fn draw_knobs(s: &mut Scenario, knobs: &BTreeMap<String, Knob>, rng: &mut Rng) {
    let mut value = serde_json::to_value(&s.protocol).expect("a protocol always serializes");
    for (name, knob) in knobs {
        for _ in 0..KNOB_ATTEMPTS {
            let drawn = match knob {
                Knob::Between([lo, hi]) if lo.fract() == 0.0 && hi.fract() == 0.0 => {
                    number(rng.between(*lo as u64, *hi as u64) as f64, true)
                }
                // Thousandths of the range: fine enough, and exact in decimal text.
                Knob::Between([lo, hi]) => number(lo + (hi - lo) * rng.below(1_001) as f64 / 1_000.0, false),
                Knob::OneOf(choices) => choices[rng.below(choices.len() as u64) as usize].clone(),
            };
            let mut trial = value.clone();
            if set_path(&mut trial, name, drawn).is_err() {
                break;
            }
            let Ok(protocol) = serde_json::from_value::<ProtocolSpec>(trial.clone()) else {
                continue;
            };
            if protocol.check(s.nodes).is_ok() {
                value = trial;
                s.protocol = protocol;
                break;
            }
        }
    }
}

/// Sets `path` (dotted) inside a JSON object, creating the last key if needed.
fn set_path(value: &mut serde_json::Value, path: &str, new: serde_json::Value) -> Result<(), String> {
    let mut at = value;
    let mut keys = path.split('.').peekable();
    while let Some(key) = keys.next() {
        let object = at
            .as_object_mut()
            .ok_or_else(|| format!("`{key}` is not inside a settings object"))?;
        if keys.peek().is_none() {
            object.insert(key.to_string(), new);
            return Ok(());
        }
        at = object
            .get_mut(key)
            .ok_or_else(|| format!("the protocol has no setting `{key}`"))?;
    }
    Err("the setting name is empty".to_string())
}

fn draw_faults(s: &mut Scenario, draw: &FaultDraw, heal_us: Micros, rng: &mut Rng) {
    let heal_ms = us_to_ms(heal_us).floor();
    let start_ms = (heal_ms / 10.0).min(500.0).floor();
    if draw.kinds.is_empty() || heal_ms < start_ms + 2.0 {
        return;
    }
    let nodes: Vec<NodeId> = draw.nodes.clone().unwrap_or_else(|| (0..s.nodes).collect());
    let count = rng.between(draw.count[0] as u64, draw.count[1] as u64);
    for _ in 0..count {
        let at_ms = rng.between(start_ms as u64, heal_ms as u64 - 1) as f64;
        let room = heal_ms - at_ms;
        let [lo, hi] = draw.duration_ms;
        let lasting = between_ms(rng, lo.min(room), hi.min(room)).max(1.0);
        let node = nodes[rng.below(nodes.len() as u64) as usize];
        let kind = draw.kinds[rng.below(draw.kinds.len() as u64) as usize];
        let entry = match one_fault(kind, node, s.nodes, lasting, rng) {
            Some(fault @ (Fault::Pause { .. } | Fault::ClockJump { .. })) => ScheduledFault::at(at_ms, fault),
            Some(fault) => ScheduledFault::lasting(at_ms, fault, lasting),
            None => continue,
        };
        s.faults.push(entry);
        if s.first_conflict().is_some() {
            s.faults.pop();
        }
    }
    // Listed in time order: the link reads as the story.
    s.faults.sort_by(|a, b| a.at_ms.total_cmp(&b.at_ms));
}

fn one_fault(kind: FaultKind, node: NodeId, nodes: u32, lasting: f64, rng: &mut Rng) -> Option<Fault> {
    Some(match kind {
        FaultKind::Crash => Fault::Crash { node },
        FaultKind::Pause => Fault::Pause {
            node,
            duration_ms: lasting,
        },
        FaultKind::Partition => {
            let side: Vec<NodeId> = (0..nodes).filter(|_| rng.below(2) == 0).collect();
            if side.is_empty() || side.len() == nodes as usize {
                return None;
            }
            Fault::Partition { groups: vec![side] }
        }
        FaultKind::Isolate => Fault::Isolate { node },
        FaultKind::Omission => Fault::Omission {
            node,
            send: rng.between(1, 10) as f64 / 10.0,
            receive: rng.between(0, 10) as f64 / 10.0,
        },
        FaultKind::Slow => Fault::Slow {
            node,
            delay: LatencySpec::Constant {
                ms: rng.between(5, 300) as f64,
            },
        },
        FaultKind::ClockJump => {
            let by = rng.between(100, 3_000) as f64;
            Fault::ClockJump {
                node,
                by_ms: if rng.below(2) == 0 { by } else { -by },
            }
        }
    })
}
