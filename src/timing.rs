//! Models of time: what the network promises about message delays, and the adversary that
//! exploits what it does not promise.
//!
//! - `probabilistic` (the default, and every scenario written before timing models
//!   existed): delays come from the link's latency distribution and nothing else. The
//!   engine draws exactly what it always drew, so old runs replay bit for bit.
//! - `synchronous`: every message arrives within Δ (`delta_ms`). A scenario whose own
//!   latency can exceed Δ is refused; a fault that slows a link further is held to Δ (the
//!   model is a promise the network keeps).
//! - `partially_synchronous`: before the global stabilisation time (`gst_ms`, or the
//!   moment a `stabilise` fault fires) the adversary picks delays, but every message
//!   arrives by max(GST, sent) + Δ; after GST every delay is at most Δ.
//! - `asynchronous`: the adversary picks every delay, within `cap_ms` so runs stay finite.
//!
//! The adversary is deterministic (no draws of its own) and sees only what a scheduler may:
//! the sender, the time and the message's `TimingRole`, which the protocol declares. It
//! holds `Decisive` messages (a vote granted) for the whole cap, past any sane timeout; it
//! releases the slowed node's `Liveness` messages (its heartbeats) in bursts separated by
//! silences that double (0.1 s, 0.2 s, 0.4 s, …) up to the cap, so a detector that learns
//! the rhythm is always one silence behind; everything else travels as the link says,
//! within the cap.
//!
//! Invariant: a delay is always at least 1 µs and at most `MAX_LATENCY_US`.

use serde::{Deserialize, Serialize};

use crate::error::InputError;
use crate::limits::MAX_LATENCY_US;
use crate::time::{ms_to_us, us_to_ms, Micros};
use crate::vocab::{NodeId, TimingRole};

/// Δ when a scenario names a bounded model without one, in ms.
pub const DEFAULT_DELTA_MS: f64 = 30.0;
/// GST when a partially synchronous scenario names none, in ms.
pub const DEFAULT_GST_MS: f64 = 10_000.0;
/// The adversary's longest hold when a scenario names none, in ms.
pub const DEFAULT_CAP_MS: f64 = 1_000.0;

fn default_delta_ms() -> f64 {
    DEFAULT_DELTA_MS
}
fn default_gst_ms() -> f64 {
    DEFAULT_GST_MS
}
fn default_cap_ms() -> f64 {
    DEFAULT_CAP_MS
}

/// The timing model as a scenario writes it (`network.timing`, milliseconds).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case", deny_unknown_fields)]
pub enum TimingSpec {
    /// Latency distributions, no bound, no adversary.
    #[default]
    Probabilistic,
    /// Every message within `delta_ms`.
    Synchronous {
        #[serde(default = "default_delta_ms")]
        delta_ms: f64,
    },
    /// An adversary until `gst_ms`, then every message within `delta_ms`.
    PartiallySynchronous {
        #[serde(default = "default_delta_ms")]
        delta_ms: f64,
        #[serde(default = "default_gst_ms")]
        gst_ms: f64,
        #[serde(default = "default_cap_ms")]
        cap_ms: f64,
        /// The node whose signs of life the adversary bunches (default: the last node).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        slowed: Option<NodeId>,
    },
    /// An adversary for ever, holding messages at most `cap_ms`.
    Asynchronous {
        #[serde(default = "default_cap_ms")]
        cap_ms: f64,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        slowed: Option<NodeId>,
    },
}

impl TimingSpec {
    pub fn is_probabilistic(&self) -> bool {
        *self == TimingSpec::Probabilistic
    }

    /// The model's name as the page and the CLI print it.
    pub fn name(&self) -> &'static str {
        match self {
            TimingSpec::Probabilistic => "probabilistic",
            TimingSpec::Synchronous { .. } => "synchronous",
            TimingSpec::PartiallySynchronous { .. } => "partially synchronous",
            TimingSpec::Asynchronous { .. } => "asynchronous",
        }
    }

    /// One line with the model and its bounds ("synchronous, Δ = 30 ms").
    pub fn describe(&self) -> String {
        match *self {
            TimingSpec::Probabilistic => "probabilistic: latency distributions, no bound, no adversary".into(),
            TimingSpec::Synchronous { delta_ms } => format!("synchronous: every message within Δ = {delta_ms} ms"),
            TimingSpec::PartiallySynchronous { delta_ms, gst_ms, cap_ms, .. } => format!(
                "partially synchronous: an adversary holds messages up to {cap_ms} ms until GST = {gst_ms} ms, then every message within Δ = {delta_ms} ms"
            ),
            TimingSpec::Asynchronous { cap_ms, .. } => {
                format!("asynchronous: no bound; an adversary holds messages up to {cap_ms} ms")
            }
        }
    }

    /// The engine form for a cluster of `nodes` whose links' latency never exceeds
    /// `latency_max_us`.
    pub fn to_timing(&self, nodes: u32, latency_max_us: Micros) -> Result<Timing, InputError> {
        let bound = |ms: f64, field: &str| -> Result<Micros, InputError> {
            let us = ms_to_us(ms, field)?;
            if us == 0 || us > MAX_LATENCY_US {
                return Err(InputError::new(
                    field,
                    format!("must be from 0.001 to 60 000 ms, got {ms}"),
                ));
            }
            Ok(us)
        };
        let adversary = |cap_ms: f64, slowed: Option<NodeId>| -> Result<Adversary, InputError> {
            let slowed = slowed.unwrap_or(nodes.saturating_sub(1));
            if slowed >= nodes {
                return Err(InputError::new(
                    "slowed",
                    format!("node {slowed} does not exist (nodes 0..{nodes})"),
                ));
            }
            Ok(Adversary {
                cap_us: bound(cap_ms, "cap_ms")?,
                slowed,
            })
        };
        Ok(match *self {
            TimingSpec::Probabilistic => Timing::Probabilistic,
            TimingSpec::Synchronous { delta_ms } => {
                let delta_us = bound(delta_ms, "delta_ms")?;
                if latency_max_us > delta_us {
                    let problem = format!(
                        "the network's latency can reach {} ms, over Δ = {delta_ms} ms: a synchronous network needs a latency that never exceeds Δ (constant or uniform up to Δ), or a larger delta_ms",
                        us_to_ms(latency_max_us)
                    );
                    return Err(InputError::new("delta_ms", problem));
                }
                Timing::Synchronous { delta_us }
            }
            TimingSpec::PartiallySynchronous {
                delta_ms,
                gst_ms,
                cap_ms,
                slowed,
            } => Timing::PartiallySynchronous {
                delta_us: bound(delta_ms, "delta_ms")?,
                gst_us: ms_to_us(gst_ms, "gst_ms")?,
                adversary: adversary(cap_ms, slowed)?,
            },
            TimingSpec::Asynchronous { cap_ms, slowed } => Timing::Asynchronous {
                adversary: adversary(cap_ms, slowed)?,
            },
        })
    }
}

/// The adversary's two knobs.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Adversary {
    pub cap_us: Micros,
    /// The node whose `Liveness` messages go out in bursts.
    pub slowed: NodeId,
}

/// The slowed node's first silence; each next one is twice as long, up to the cap.
const FIRST_SILENCE_US: Micros = 100_000;

impl Adversary {
    /// When the slowed node's held messages next go out: releases at 0.1 s, 0.2 s, 0.4 s,
    /// … (each silence twice the last, so a detector that learns the rhythm is always one
    /// silence behind), then every cap once a silence would exceed it. Always after `now_us`.
    fn next_release_us(&self, now_us: Micros) -> Micros {
        let mut release = FIRST_SILENCE_US;
        while release <= now_us {
            if release >= self.cap_us {
                // From here on a release every cap.
                let behind = (now_us - release) / self.cap_us + 1;
                return release + behind * self.cap_us;
            }
            release *= 2;
        }
        release
    }

    /// The delay it picks for a message from `from` sent at `now_us`, which the link would
    /// have delivered after `sampled_us`.
    fn delay(&self, sampled_us: Micros, now_us: Micros, from: NodeId, role: TimingRole) -> Micros {
        match role {
            TimingRole::Decisive => self.cap_us,
            TimingRole::Liveness if from == self.slowed => self.next_release_us(now_us) - now_us,
            _ => sampled_us.min(self.cap_us),
        }
    }
}

/// The timing model in engine units.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Timing {
    #[default]
    Probabilistic,
    Synchronous {
        delta_us: Micros,
    },
    PartiallySynchronous {
        delta_us: Micros,
        gst_us: Micros,
        adversary: Adversary,
    },
    Asynchronous {
        adversary: Adversary,
    },
}

impl Timing {
    /// The delay of a message from `from` sent at `now_us` that the link would deliver
    /// after `sampled_us`.
    pub fn delay(&self, sampled_us: Micros, now_us: Micros, from: NodeId, role: TimingRole) -> Micros {
        let d = match *self {
            Timing::Probabilistic => return sampled_us,
            Timing::Synchronous { delta_us } => sampled_us.min(delta_us),
            Timing::PartiallySynchronous {
                delta_us,
                gst_us,
                adversary,
            } if now_us < gst_us => {
                let by_gst = gst_us - now_us + delta_us;
                adversary.delay(sampled_us, now_us, from, role).min(by_gst)
            }
            Timing::PartiallySynchronous { delta_us, .. } => sampled_us.min(delta_us),
            Timing::Asynchronous { adversary } => adversary.delay(sampled_us, now_us, from, role),
        };
        d.clamp(1, MAX_LATENCY_US)
    }

    /// "The network stabilises now": GST moves to `now_us` if it was later. Only a
    /// partially synchronous network has a GST (validation refuses the fault elsewhere).
    pub fn stabilise(&mut self, now_us: Micros) -> bool {
        match self {
            Timing::PartiallySynchronous { gst_us, .. } => {
                *gst_us = (*gst_us).min(now_us);
                true
            }
            _ => false,
        }
    }

    /// Whether the model lets a protocol promise progress from `now_us` on: not in an
    /// asynchronous network, nor before GST in a partially synchronous one (FLP).
    pub fn promises_progress(&self, now_us: Micros) -> bool {
        match *self {
            Timing::Probabilistic | Timing::Synchronous { .. } => true,
            Timing::PartiallySynchronous { gst_us, .. } => now_us >= gst_us,
            Timing::Asynchronous { .. } => false,
        }
    }

    /// The bound every delivery keeps at `now_us`, if there is one now.
    pub fn bound_us(&self, now_us: Micros) -> Option<Micros> {
        match *self {
            Timing::Synchronous { delta_us } => Some(delta_us),
            Timing::PartiallySynchronous { delta_us, gst_us, .. } if now_us >= gst_us => Some(delta_us),
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const ADV: Adversary = Adversary {
        cap_us: 1_000_000,
        slowed: 4,
    };

    #[test]
    fn probabilistic_changes_nothing() {
        let t = Timing::Probabilistic;
        assert_eq!(t.delay(12_345, 99, 4, TimingRole::Decisive), 12_345);
    }

    #[test]
    fn synchronous_holds_every_delay_to_delta() {
        let t = Timing::Synchronous { delta_us: 10_000 };
        assert_eq!(t.delay(50_000, 0, 0, TimingRole::Ordinary), 10_000);
        assert_eq!(t.delay(3_000, 0, 0, TimingRole::Ordinary), 3_000);
    }

    #[test]
    fn the_adversary_holds_decisive_messages_and_bunches_the_slowed_node() {
        let t = Timing::Asynchronous { adversary: ADV };
        assert_eq!(t.delay(5_000, 123, 1, TimingRole::Decisive), 1_000_000);
        // The slowed node's heartbeats go out in bursts at 0.1, 0.2, 0.4, 0.8, 1.6 s, then
        // every cap (2.6, 3.6, …): silences that double until they reach the cap.
        assert_eq!(t.delay(5_000, 50_000, 4, TimingRole::Liveness), 50_000);
        assert_eq!(t.delay(5_000, 500_000, 4, TimingRole::Liveness), 300_000);
        assert_eq!(t.delay(5_000, 1_000_000, 4, TimingRole::Liveness), 600_000);
        assert_eq!(t.delay(5_000, 1_600_000, 4, TimingRole::Liveness), 1_000_000);
        assert_eq!(t.delay(5_000, 2_300_000, 4, TimingRole::Liveness), 300_000);
        // Other nodes' heartbeats travel as the link says.
        assert_eq!(t.delay(5_000, 2_300_000, 3, TimingRole::Liveness), 5_000);
    }

    #[test]
    fn before_gst_everything_still_arrives_by_gst_plus_delta() {
        let t = Timing::PartiallySynchronous {
            delta_us: 10_000,
            gst_us: 5_000_000,
            adversary: ADV,
        };
        assert_eq!(t.delay(5_000, 4_500_000, 0, TimingRole::Decisive), 510_000);
        assert_eq!(t.delay(5_000, 1_000_000, 0, TimingRole::Decisive), 1_000_000);
        assert_eq!(t.delay(50_000, 6_000_000, 0, TimingRole::Decisive), 10_000);
        let mut s = t;
        assert!(s.stabilise(2_000_000));
        assert_eq!(s.delay(50_000, 3_000_000, 0, TimingRole::Decisive), 10_000);
        assert_eq!(s.bound_us(3_000_000), Some(10_000));
    }

    #[test]
    fn a_synchronous_network_refuses_a_latency_that_can_exceed_delta() {
        let spec = TimingSpec::Synchronous { delta_ms: 10.0 };
        let err = spec.to_timing(5, 25_000).unwrap_err();
        assert_eq!(err.field, "delta_ms");
        assert!(spec.to_timing(5, 10_000).is_ok());
        let slowed = TimingSpec::Asynchronous {
            cap_ms: 500.0,
            slowed: Some(9),
        };
        assert_eq!(slowed.to_timing(5, 1).unwrap_err().field, "slowed");
    }
}
