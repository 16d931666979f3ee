//! What a scenario marks as variable for swarm testing (its `vary` field), and the check
//! of those ranges against the scenario's nodes and protocol.
//!
//! Only the description lives here (the scenario holds it); drawing a run from it is
//! `explore::swarm`. Invariant: a `Vary` that validated draws only values its ranges
//! allow and settings the protocol has.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::error::{parse_json, InputError};
use crate::registry::ProtocolSpec;
use crate::vocab::NodeId;

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
impl Vary {
    /// Checks the ranges against the scenario they vary.
    pub fn validate(&self, nodes: u32, protocol: &ProtocolSpec) -> Result<(), InputError> {
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
        if let Some(list) = &f.nodes {
            if list.is_empty() || list.iter().any(|&n| n >= nodes) {
                let problem = format!("must list nodes from 0 to {}", nodes - 1);
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
        let base = crate::json_tree::json_tree(protocol);
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
            // The reader's own message (without the field path and position of the text
            // built here): the field that matters is the knob's.
            parse_json::<ProtocolSpec>(&trial.to_string()).map_err(|e| {
                let problem = e.problem.rsplit_once(" at line ").map_or(&*e.problem, |(p, _)| p);
                InputError::new(field, problem)
            })?;
        }
        Ok(())
    }
}

pub(crate) fn number(x: f64, whole: bool) -> serde_json::Value {
    if whole {
        serde_json::Value::from(x as i64)
    } else {
        serde_json::Value::from(x)
    }
}

/// Sets `path` (dotted) inside a JSON object, creating the last key if needed.
pub(crate) fn set_path(value: &mut serde_json::Value, path: &str, new: serde_json::Value) -> Result<(), String> {
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
