//! Heartbeat parameters as a scenario writes them (`{"kind": "heartbeat", …}`, ms), and
//! their check into engine units (`HeartbeatConfig`).

use serde::{Deserialize, Serialize};

use super::phi::PhiConfig;
use super::{Detector, HeartbeatConfig};
use crate::error::InputError;
use crate::time::{ms_to_us, Micros};

/// Every node heartbeats every peer; a silent peer is suspected.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HeartbeatSpec {
    #[serde(default = "default_interval_ms")]
    pub interval_ms: f64,
    #[serde(default = "default_timeout_ms")]
    pub timeout_ms: f64,
    /// How silence becomes suspicion (default: the fixed timeout).
    #[serde(default, skip_serializing_if = "DetectorSpec::is_fixed")]
    pub detector: DetectorSpec,
    /// Each node also sends a real request to a random peer this often (end-to-end probe).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub probe_ms: Option<f64>,
    /// Durable state carries a checksum, verified at boot.
    #[serde(default, skip_serializing_if = "is_false")]
    pub checksum: bool,
}

fn is_false(b: &bool) -> bool {
    !*b
}

fn default_interval_ms() -> f64 {
    100.0
}
fn default_timeout_ms() -> f64 {
    350.0
}

impl Default for HeartbeatSpec {
    fn default() -> Self {
        HeartbeatSpec {
            interval_ms: default_interval_ms(),
            timeout_ms: default_timeout_ms(),
            detector: DetectorSpec::Fixed,
            probe_ms: None,
            checksum: false,
        }
    }
}

impl HeartbeatSpec {
    /// The validated parameters in engine units, for a cluster of `nodes` nodes.
    pub fn config(&self, nodes: u32) -> Result<HeartbeatConfig, InputError> {
        let HeartbeatSpec {
            interval_ms,
            timeout_ms,
            ref detector,
            probe_ms,
            checksum,
        } = *self;
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
        crate::limits::check_all_to_all(nodes, interval_us)?;
        let detector = detector.to_detector(nodes, interval_us, &mut timeout_us)?;
        Ok(HeartbeatConfig {
            interval_us,
            timeout_us,
            detector,
            probe_us,
            checksum,
        })
    }
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
