//! Scenarios: the whole input of a run (seed, cluster, protocol, network, fault schedule).
//!
//! A run is a pure function of its scenario. `Scenario::from_json` reads one with errors
//! that name the field; `Scenario::validate` checks every value and dry-runs the fault
//! schedule against node statuses, so a loaded scenario can never fail later.

use serde::{Deserialize, Serialize};

use crate::error::InputError;
use crate::fault::Fault;
use crate::limits::{MAX_FAULTS, MAX_LATENCY_US, MAX_NAME_BYTES, MAX_NODES, MAX_SCENARIO_BYTES, MAX_SEED};
use crate::network::{Latency, LinkConfig};
use crate::protocol::heartbeat::{Detector, HeartbeatConfig};
use crate::protocol::lease::LeaseSpec;
use crate::protocol::phi::PhiConfig;
use crate::protocol::raft::RaftSpec;
use crate::protocol::register::RegisterSpec;
use crate::protocol::service::ServiceSpec;
use crate::protocol::swim::SwimSpec;
use crate::schedule::{self, DryRun, Entry};
use crate::time::{ms_to_us, Micros};

/// A latency distribution as written in a scenario (milliseconds).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case", deny_unknown_fields)]
pub enum LatencySpec {
    Constant { ms: f64 },
    Uniform { min_ms: f64, max_ms: f64 },
    Normal { mean_ms: f64, std_ms: f64 },
    Lognormal { median_ms: f64, sigma: f64 },
}

impl LatencySpec {
    /// The engine form, validated (finite, non-negative, ordered, at most one minute).
    pub fn to_latency(&self) -> Result<Latency, InputError> {
        let bounded = |ms: f64, field: &str| -> Result<Micros, InputError> {
            let us = ms_to_us(ms, field)?;
            if us > MAX_LATENCY_US {
                return Err(InputError::new(
                    field,
                    format!("{ms} ms is over the 60 000 ms latency limit"),
                ));
            }
            Ok(us)
        };
        Ok(match *self {
            LatencySpec::Constant { ms } => Latency::Constant { us: bounded(ms, "ms")? },
            LatencySpec::Uniform { min_ms, max_ms } => {
                let (min_us, max_us) = (bounded(min_ms, "min_ms")?, bounded(max_ms, "max_ms")?);
                if min_us > max_us {
                    return Err(InputError::new(
                        "max_ms",
                        format!("must be at least min_ms ({min_ms}), got {max_ms}"),
                    ));
                }
                Latency::Uniform { min_us, max_us }
            }
            LatencySpec::Normal { mean_ms, std_ms } => Latency::Normal {
                mean_us: bounded(mean_ms, "mean_ms")? as f64,
                std_us: bounded(std_ms, "std_ms")? as f64,
            },
            LatencySpec::Lognormal { median_ms, sigma } => {
                if !(sigma.is_finite() && (0.0..=4.0).contains(&sigma)) {
                    return Err(InputError::new(
                        "sigma",
                        format!("must be between 0 and 4, got {sigma}"),
                    ));
                }
                Latency::LogNormal {
                    median_us: bounded(median_ms, "median_ms")? as f64,
                    sigma,
                }
            }
        })
    }
}

/// A probability in [0, 1] as integer parts per million.
pub fn probability_ppm(p: f64, field: &str) -> Result<u32, InputError> {
    if !(p.is_finite() && (0.0..=1.0).contains(&p)) {
        return Err(InputError::new(
            field,
            format!("must be a probability between 0 and 1, got {p}"),
        ));
    }
    Ok((p * 1_000_000.0).round() as u32)
}

/// The network every link starts with.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct NetworkSpec {
    pub latency: LatencySpec,
    pub loss: f64,
    pub duplicate: f64,
}

impl Default for NetworkSpec {
    fn default() -> Self {
        NetworkSpec {
            latency: LatencySpec::Uniform {
                min_ms: 5.0,
                max_ms: 25.0,
            },
            loss: 0.0,
            duplicate: 0.0,
        }
    }
}

impl NetworkSpec {
    pub fn to_link(&self) -> Result<LinkConfig, InputError> {
        Ok(LinkConfig {
            latency: self.latency.to_latency().map_err(|e| e.within("latency"))?,
            loss_ppm: probability_ppm(self.loss, "loss")?,
            duplicate_ppm: probability_ppm(self.duplicate, "duplicate")?,
        })
    }
}

/// Which protocol every node runs, with its parameters.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case", deny_unknown_fields)]
pub enum ProtocolSpec {
    /// Every node heartbeats every peer; a fixed timeout marks a silent peer suspected.
    Heartbeat {
        #[serde(default = "default_interval_ms")]
        interval_ms: f64,
        #[serde(default = "default_timeout_ms")]
        timeout_ms: f64,
        /// How silence becomes suspicion (default: the fixed timeout).
        #[serde(default, skip_serializing_if = "DetectorSpec::is_fixed")]
        detector: DetectorSpec,
        /// Each node also sends a real request to a random peer this often (end-to-end probe).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        probe_ms: Option<f64>,
        /// Durable state carries a checksum, verified at boot.
        #[serde(default, skip_serializing_if = "is_false")]
        checksum: bool,
    },
    /// A lock server grants leases to clients that write to a storage (`protocol::lease`).
    Lease(LeaseSpec),
    /// A replicated register, CP (majority quorums) or AP (accept and reconcile)
    /// (`protocol::register`).
    Register(RegisterSpec),
    /// SWIM membership: probes, indirect probes, suspicion, gossip (`protocol::swim`).
    Swim(SwimSpec),
    /// Leader election and log replication: Raft, or a naive election (`protocol::raft`).
    Raft(RaftSpec),
    /// A service under load: clients, a balancer, replicas, defences (`protocol::service`).
    Service(ServiceSpec),
}

fn is_false(b: &bool) -> bool {
    !*b
}

/// The failure detector over the heartbeats.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, Default)]
#[serde(tag = "kind", rename_all = "snake_case", deny_unknown_fields)]
pub enum DetectorSpec {
    /// Suspect after `timeout_ms` of silence.
    #[default]
    Fixed,
    /// Suspect after `k` heartbeat intervals of silence.
    MissedBeats { k: u32 },
    /// Phi accrual: suspect when φ passes `threshold`.
    Phi {
        #[serde(default = "default_phi_threshold")]
        threshold: f64,
        #[serde(default = "default_phi_window")]
        window: u32,
        #[serde(default = "default_phi_min_std_ms")]
        min_std_ms: f64,
        #[serde(default)]
        acceptable_pause_ms: f64,
    },
}

fn default_phi_threshold() -> f64 {
    8.0
}
fn default_phi_window() -> u32 {
    100
}
fn default_phi_min_std_ms() -> f64 {
    10.0
}

/// Most inter-arrival samples phi accrual may keep in all (nodes² × window), 4 bytes each.
pub const MAX_PHI_SAMPLES: u64 = 16_000_000;

impl DetectorSpec {
    fn is_fixed(&self) -> bool {
        *self == DetectorSpec::Fixed
    }

    fn to_detector(&self, nodes: u32, interval_us: Micros, timeout_us: &mut Micros) -> Result<Detector, InputError> {
        match *self {
            DetectorSpec::Fixed => Ok(Detector::Fixed),
            DetectorSpec::MissedBeats { k } => {
                if !(1..=1_000).contains(&k) {
                    return Err(InputError::new(
                        "detector.k",
                        format!("must be between 1 and 1000, got {k}"),
                    ));
                }
                *timeout_us = interval_us * k as u64;
                Ok(Detector::Fixed)
            }
            DetectorSpec::Phi {
                threshold,
                window,
                min_std_ms,
                acceptable_pause_ms,
            } => {
                if !(threshold.is_finite() && threshold > 0.0 && threshold <= 16.0) {
                    let problem = format!("must be above 0 and at most 16, got {threshold}");
                    return Err(InputError::new("detector.threshold", problem));
                }
                if !(2..=1_000).contains(&window) {
                    return Err(InputError::new(
                        "detector.window",
                        format!("must be between 2 and 1000, got {window}"),
                    ));
                }
                let samples = nodes as u64 * nodes as u64 * window as u64;
                if samples > MAX_PHI_SAMPLES {
                    let problem = format!(
                        "{nodes} nodes × {nodes} peers × a window of {window} is {samples} samples; \
                         the limit is {MAX_PHI_SAMPLES}: use a smaller window"
                    );
                    return Err(InputError::new("detector.window", problem));
                }
                let min_std_us = ms_to_us(min_std_ms, "detector.min_std_ms")?.max(1) as f64;
                let pause_us = ms_to_us(acceptable_pause_ms, "detector.acceptable_pause_ms")? as f64;
                Ok(Detector::Phi(PhiConfig::new(
                    threshold,
                    window as usize,
                    min_std_us,
                    pause_us,
                )))
            }
        }
    }
}

fn default_interval_ms() -> f64 {
    100.0
}
fn default_timeout_ms() -> f64 {
    350.0
}

impl Default for ProtocolSpec {
    fn default() -> Self {
        ProtocolSpec::Heartbeat {
            interval_ms: default_interval_ms(),
            timeout_ms: default_timeout_ms(),
            detector: DetectorSpec::Fixed,
            probe_ms: None,
            checksum: false,
        }
    }
}

impl ProtocolSpec {
    /// Whether nodes can crash by themselves (a replica out of memory), so node statuses
    /// are not determined by the fault schedule alone.
    pub fn crashes_itself(&self) -> bool {
        matches!(self, ProtocolSpec::Service(_))
    }

    /// Checks every parameter against a cluster of `nodes` nodes.
    pub fn check(&self, nodes: u32) -> Result<(), InputError> {
        match self {
            ProtocolSpec::Heartbeat { .. } => self.heartbeat_config(nodes).map(drop),
            ProtocolSpec::Lease(spec) => spec.config(nodes).map(drop),
            ProtocolSpec::Register(spec) => spec.config(nodes).map(drop),
            ProtocolSpec::Swim(spec) => spec.config(nodes).map(drop),
            ProtocolSpec::Raft(spec) => spec.config(nodes).map(drop),
            ProtocolSpec::Service(spec) => spec.config(nodes).map(drop),
        }
    }

    /// The validated heartbeat parameters in engine units (an error for other protocols).
    pub fn heartbeat_config(&self, nodes: u32) -> Result<HeartbeatConfig, InputError> {
        match *self {
            ProtocolSpec::Heartbeat {
                interval_ms,
                timeout_ms,
                ref detector,
                probe_ms,
                checksum,
            } => {
                let interval_us = ms_to_us(interval_ms, "interval_ms")?;
                let mut timeout_us = ms_to_us(timeout_ms, "timeout_ms")?;
                if interval_us < 1_000 {
                    return Err(InputError::new(
                        "interval_ms",
                        format!("must be at least 1 ms, got {interval_ms}"),
                    ));
                }
                if timeout_us == 0 {
                    return Err(InputError::new("timeout_ms", "must be longer than 0 ms"));
                }
                let probe_us = probe_ms.map(|ms| ms_to_us(ms, "probe_ms")).transpose()?;
                if probe_us.is_some_and(|us| us < 1_000) {
                    return Err(InputError::new("probe_ms", "must be at least 1 ms"));
                }
                let detector = detector.to_detector(nodes, interval_us, &mut timeout_us)?;
                Ok(HeartbeatConfig {
                    interval_us,
                    timeout_us,
                    detector,
                    probe_us,
                    checksum,
                })
            }
            #[allow(unreachable_patterns)]
            _ => Err(InputError::new("kind", "not a heartbeat protocol")),
        }
    }
}

/// A fault with the simulated time it applies at, and optionally how long it lasts
/// (the engine undoes it then: a crash restarts, a partition heals, a clock returns).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ScheduledFault {
    pub at_ms: f64,
    pub fault: Fault,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub duration_ms: Option<f64>,
    /// Injected by hand during a run (rather than written in the scenario): injecting
    /// again at an earlier moment discards such faults from the old future.
    #[serde(default, skip_serializing_if = "is_false")]
    pub injected: bool,
}

impl ScheduledFault {
    pub fn at(at_ms: f64, fault: Fault) -> ScheduledFault {
        ScheduledFault {
            at_ms,
            fault,
            duration_ms: None,
            injected: false,
        }
    }

    pub fn lasting(at_ms: f64, fault: Fault, duration_ms: f64) -> ScheduledFault {
        ScheduledFault {
            duration_ms: Some(duration_ms),
            ..ScheduledFault::at(at_ms, fault)
        }
    }
}

pub use crate::action::duration_us;

/// The whole input of a run.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Scenario {
    #[serde(default = "default_name")]
    pub name: String,
    #[serde(default)]
    pub seed: u64,
    pub nodes: u32,
    #[serde(default)]
    pub protocol: ProtocolSpec,
    #[serde(default)]
    pub network: NetworkSpec,
    #[serde(default)]
    pub faults: Vec<ScheduledFault>,
}

fn default_name() -> String {
    "Untitled".to_string()
}

impl Scenario {
    /// A default heartbeat cluster of `nodes` nodes.
    pub fn basic(nodes: u32, seed: u64) -> Scenario {
        Scenario {
            name: "Heartbeats".to_string(),
            seed,
            nodes,
            protocol: ProtocolSpec::default(),
            network: NetworkSpec::default(),
            faults: Vec::new(),
        }
    }

    /// Reads and validates a scenario from JSON text.
    pub fn from_json(text: &str) -> Result<Scenario, InputError> {
        if text.len() > MAX_SCENARIO_BYTES {
            return Err(InputError::new(
                "",
                format!(
                    "the scenario is {} bytes; the limit is {MAX_SCENARIO_BYTES}",
                    text.len()
                ),
            ));
        }
        let de = &mut serde_json::Deserializer::from_str(text);
        let scenario: Scenario = serde_path_to_error::deserialize(de).map_err(|e| {
            let path = e.path().to_string();
            let field = if path == "." { String::new() } else { path };
            InputError::new(field, e.inner().to_string())
        })?;
        scenario.validate()?;
        Ok(scenario)
    }

    pub fn to_json(&self) -> String {
        serde_json::to_string(self).expect("a scenario always serializes")
    }

    /// Checks every value, then dry-runs the fault schedule against node statuses.
    pub fn validate(&self) -> Result<(), InputError> {
        if self.name.len() > MAX_NAME_BYTES {
            return Err(InputError::new(
                "name",
                format!("is {} bytes; the limit is {MAX_NAME_BYTES}", self.name.len()),
            ));
        }
        if self.seed > MAX_SEED {
            return Err(InputError::new(
                "seed",
                format!("must be at most 2^53 − 1 = {MAX_SEED}, got {}", self.seed),
            ));
        }
        if self.nodes == 0 || self.nodes > MAX_NODES {
            return Err(InputError::new(
                "nodes",
                format!("must be between 1 and {MAX_NODES}, got {}", self.nodes),
            ));
        }
        // A protocol that needs more nodes names the top-level `nodes` field.
        self.protocol
            .check(self.nodes)
            .map_err(|e| if e.field == "nodes" { e } else { e.within("protocol") })?;
        self.network.to_link().map_err(|e| e.within("network"))?;
        if self.faults.len() > MAX_FAULTS {
            return Err(InputError::new(
                "faults",
                format!("has {} faults; the limit is {MAX_FAULTS}", self.faults.len()),
            ));
        }
        self.plan().map(drop)
    }

    /// The fault schedule parsed into engine units, in application order (by µs, ties in
    /// list order), each with its index in `faults`, after a dry run against node statuses
    /// (`schedule::DryRun`). The engine runs exactly this.
    pub fn plan(&self) -> Result<Vec<(usize, Entry)>, InputError> {
        let entries = schedule::parse(&self.faults, self.nodes)?;
        let order = schedule::order(&entries);
        let mut entries: Vec<Option<Entry>> = entries.into_iter().map(Some).collect();
        let mut dry = DryRun::from_start(self.nodes, !self.protocol.crashes_itself());
        let mut plan = Vec::with_capacity(order.len());
        for i in order {
            let entry = entries[i].take().expect("each index once");
            dry.step(&entry).map_err(|e| e.within(&format!("faults[{i}]")))?;
            plan.push((i, entry));
        }
        Ok(plan)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn minimal_scenario_gets_defaults() {
        let s = Scenario::from_json(r#"{"nodes": 3}"#).unwrap();
        assert_eq!(s.protocol, ProtocolSpec::default());
        assert_eq!(s.name, "Untitled");
    }

    #[test]
    fn errors_name_the_field() {
        let e = Scenario::from_json(r#"{"nodes": 3, "faults": [{"at_ms": 5, "fault": {"kind": "crash", "node": 7}}]}"#)
            .unwrap_err();
        assert_eq!(e.field, "faults[0].fault.node");
        let e = Scenario::from_json(r#"{"nodes": 3, "network": {"loss": 1.5}}"#).unwrap_err();
        assert_eq!(e.field, "network.loss");
        let e = Scenario::from_json(r#"{"nodes": 3, "nodez": 4}"#).unwrap_err();
        assert!(e.problem.contains("unknown field `nodez`"), "{e}");
        let e = Scenario::from_json(r#"{"nodes": "five"}"#).unwrap_err();
        assert_eq!(e.field, "nodes");
        let e = Scenario::from_json(r#"{"nodes": 0}"#).unwrap_err();
        assert_eq!(e.field, "nodes");
        let e = Scenario::from_json("{not json").unwrap_err();
        assert!(!e.problem.is_empty());
    }

    #[test]
    fn schedule_dry_run_catches_impossible_sequences() {
        let text = r#"{"nodes": 3, "faults": [
            {"at_ms": 10, "fault": {"kind": "crash", "node": 1}},
            {"at_ms": 20, "fault": {"kind": "crash", "node": 1}}]}"#;
        let e = Scenario::from_json(text).unwrap_err();
        assert_eq!(e.to_string(), "faults[1].fault.node: node 1 is already crashed");
        // A timed crash restarts by itself: a later crash is fine, a restart is not.
        let timed = r#"{"nodes": 3, "faults": [
            {"at_ms": 10, "fault": {"kind": "crash", "node": 1}, "duration_ms": 50},
            {"at_ms": 60, "fault": {"kind": "crash", "node": 1}}]}"#;
        Scenario::from_json(timed).unwrap();
        let twice = r#"{"nodes": 3, "faults": [
            {"at_ms": 10, "fault": {"kind": "crash", "node": 1}, "duration_ms": 50},
            {"at_ms": 60, "fault": {"kind": "restart", "node": 1}}]}"#;
        assert!(Scenario::from_json(twice)
            .unwrap_err()
            .to_string()
            .contains("faults[1].fault.node"));
        let instant = r#"{"nodes": 3, "faults": [{"at_ms": 10, "fault": {"kind": "heal"}, "duration_ms": 5}]}"#;
        assert_eq!(Scenario::from_json(instant).unwrap_err().field, "faults[0].duration_ms");
        // A pause ends before a later crash: fine.
        let ok = r#"{"nodes": 3, "faults": [
            {"at_ms": 10, "fault": {"kind": "pause", "node": 1, "duration_ms": 5}},
            {"at_ms": 15, "fault": {"kind": "pause", "node": 1, "duration_ms": 5}}]}"#;
        Scenario::from_json(ok).unwrap();
    }

    #[test]
    fn round_trips_through_json() {
        let mut s = Scenario::basic(4, 99);
        s.faults.push(ScheduledFault::at(1234.567, Fault::Crash { node: 2 }));
        s.faults
            .push(ScheduledFault::lasting(2000.0, Fault::Isolate { node: 1 }, 500.0));
        assert_eq!(Scenario::from_json(&s.to_json()).unwrap(), s);
    }
}
