//! Latency distributions: the engine form (`Latency`, microseconds, sampled with `libm` so
//! native and wasm agree) and the form a scenario or fault writes (`LatencySpec`, ms).
//!
//! Layer: leaf (imports only `error`, `limits`, `rng` and `time`).

use serde::{Deserialize, Serialize};

use crate::error::InputError;
use crate::limits::MAX_LATENCY_US;
use crate::rng::Rng;
use crate::time::{ms_to_us, Micros};

/// One-way latency distribution, in microseconds.
#[derive(Clone, Debug, PartialEq)]
pub enum Latency {
    Constant { us: Micros },
    Uniform { min_us: Micros, max_us: Micros },
    Normal { mean_us: f64, std_us: f64 },
    LogNormal { median_us: f64, sigma: f64 },
}

impl Latency {
    /// One draw, clamped to `1..=MAX_LATENCY_US` (never zero: nothing a fault starts can
    /// arrive at the very instant of the fault, which keeps replay order exact).
    pub fn sample(&self, rng: &mut Rng) -> Micros {
        let raw = match *self {
            // Whole microseconds already: rounding through f64 would give them back.
            Latency::Constant { us } => return us.clamp(1, MAX_LATENCY_US),
            Latency::Uniform { min_us, max_us } => return rng.between(min_us, max_us).clamp(1, MAX_LATENCY_US),
            Latency::Normal { mean_us, std_us } => mean_us + std_us * standard_normal(rng),
            Latency::LogNormal { median_us, sigma } => median_us * libm::exp(sigma * standard_normal(rng)),
        };
        (libm::round(raw) as i64).clamp(1, MAX_LATENCY_US as i64) as Micros
    }

    /// An upper bound on what `sample` returns (for tests and detection bounds).
    pub fn max_us(&self) -> Micros {
        match *self {
            Latency::Constant { us } => us.max(1),
            Latency::Uniform { max_us, .. } => max_us.max(1),
            _ => MAX_LATENCY_US,
        }
    }
}

/// Box–Muller with `libm`, so native and wasm agree bit for bit.
fn standard_normal(rng: &mut Rng) -> f64 {
    let u1 = 1.0 - rng.unit(); // (0, 1]: ln stays finite
    let u2 = rng.unit();
    libm::sqrt(-2.0 * libm::log(u1)) * libm::cos(2.0 * core::f64::consts::PI * u2)
}

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
