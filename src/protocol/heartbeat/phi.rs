//! Phi accrual failure detection (Hayashibara et al., 2004), as a deadline.
//!
//! Each node keeps, per peer, a sliding window of heartbeat inter-arrival times. The
//! suspicion level after `t` of silence is φ(t) = −log10(P(next beat later than t)), with
//! the inter-arrival time modelled as normal (mean μ + an acceptable pause, deviation
//! max(σ, a minimum)). φ grows with t, so "φ > threshold" is the same as "t > μ + pause +
//! σ·y*", where y* is the standard normal quantile with upper tail 10^−threshold: the
//! detector is an adaptive timeout, armed as an exact deadline like the fixed one.
//! Transcendentals come from `libm`, so native and wasm agree bit for bit.

use crate::time::Micros;

/// Phi detector parameters, in engine units.
#[derive(Clone, Debug, PartialEq)]
pub struct PhiConfig {
    pub threshold: f64,
    /// Inter-arrival times kept per peer.
    pub window: usize,
    pub min_std_us: f64,
    pub acceptable_pause_us: f64,
    /// y*: the standard normal quantile whose upper tail is 10^−threshold.
    pub quantile: f64,
}

impl PhiConfig {
    pub fn new(threshold: f64, window: usize, min_std_us: f64, acceptable_pause_us: f64) -> PhiConfig {
        assert!(threshold > 0.0 && threshold.is_finite(), "a phi threshold is positive");
        PhiConfig {
            threshold,
            window,
            min_std_us,
            acceptable_pause_us,
            quantile: quantile_for(threshold),
        }
    }
}

/// P(X > y) for a standard normal X.
pub fn upper_tail(y: f64) -> f64 {
    0.5 * libm::erfc(y / core::f64::consts::SQRT_2)
}

/// φ after `since_us` of silence, for a window with this mean and deviation (already
/// including the acceptable pause and minimum deviation). Capped at 100 (a tail below
/// 1e-100 is "certainly dead" for display purposes).
pub fn phi(since_us: f64, mean_us: f64, std_us: f64) -> f64 {
    assert!(std_us > 0.0, "a deviation is positive");
    let tail = upper_tail((since_us - mean_us) / std_us);
    if tail <= 1e-100 {
        100.0
    } else {
        -libm::log10(tail)
    }
}

/// The y with `upper_tail(y) = 10^−threshold`, by bisection (deterministic: a fixed number
/// of halvings of a fixed interval).
fn quantile_for(threshold: f64) -> f64 {
    let target = libm::pow(10.0, -threshold);
    let (mut lo, mut hi) = (-40.0f64, 40.0f64);
    for _ in 0..200 {
        let mid = 0.5 * (lo + hi);
        if upper_tail(mid) > target {
            lo = mid;
        } else {
            hi = mid;
        }
    }
    0.5 * (lo + hi)
}

/// A bounded window of inter-arrival times with running sums.
#[derive(Clone, Debug, Default)]
pub struct ArrivalWindow {
    intervals_us: Vec<u32>,
    next: usize,
    sum: u64,
    sum_sq: u128,
}

impl ArrivalWindow {
    /// Heap bytes kept by the window.
    pub fn approx_bytes(&self) -> usize {
        crate::budget::vec_bytes(&self.intervals_us)
    }

    pub fn push(&mut self, interval_us: Micros, capacity: usize) {
        let v = interval_us.min(u32::MAX as u64) as u32;
        if self.intervals_us.len() < capacity {
            self.intervals_us.push(v);
        } else {
            let old = std::mem::replace(&mut self.intervals_us[self.next], v);
            self.sum -= old as u64;
            self.sum_sq -= (old as u128) * (old as u128);
            self.next = (self.next + 1) % capacity;
        }
        self.sum += v as u64;
        self.sum_sq += (v as u128) * (v as u128);
    }

    pub fn len(&self) -> usize {
        self.intervals_us.len()
    }

    pub fn is_empty(&self) -> bool {
        self.intervals_us.is_empty()
    }

    /// Mean and (population) deviation in µs; `None` while empty.
    pub fn stats(&self) -> Option<(f64, f64)> {
        if self.intervals_us.is_empty() {
            return None;
        }
        let n = self.intervals_us.len() as f64;
        let mean = self.sum as f64 / n;
        let var = (self.sum_sq as f64 / n - mean * mean).max(0.0);
        Some((mean, libm::sqrt(var)))
    }
}

/// Samples a window needs before its own deviation is trusted.
pub const WARM_UP_SAMPLES: usize = 8;

/// The model a node uses for one peer: (mean + pause, effective deviation). Until the
/// window holds `WARM_UP_SAMPLES` intervals, the deviation is at least half the heartbeat
/// interval: a few samples underestimate the spread, and a detector that trusts them
/// suspects healthy peers as soon as it starts.
pub fn model(window: &ArrivalWindow, config: &PhiConfig, interval_us: Micros) -> (f64, f64) {
    let bootstrap_std = interval_us as f64 / 2.0;
    let (mean, mut std) = window.stats().unwrap_or((interval_us as f64, bootstrap_std));
    if window.len() < WARM_UP_SAMPLES {
        std = std.max(bootstrap_std);
    }
    (mean + config.acceptable_pause_us, std.max(config.min_std_us).max(1.0))
}

/// How long after the last heartbeat φ crosses the threshold, in µs.
pub fn timeout_us(window: &ArrivalWindow, config: &PhiConfig, interval_us: Micros) -> Micros {
    let (mean, std) = model(window, config, interval_us);
    libm::ceil((mean + std * config.quantile).max(1.0)) as Micros
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn phi_matches_the_formula_on_hand_computed_inputs() {
        // At the mean, half the mass is later: φ = −log10(0.5) ≈ 0.30103.
        assert!((phi(100.0, 100.0, 10.0) - core::f64::consts::LOG10_2).abs() < 1e-9);
        // One deviation late: P(Z > 1) = 0.158655…, φ = 0.79955.
        assert!((phi(110.0, 100.0, 10.0) - 0.799_55).abs() < 1e-4);
        // Three deviations late: P(Z > 3) = 0.0013499, φ = 2.86970.
        assert!((phi(130.0, 100.0, 10.0) - 2.869_7).abs() < 1e-4);
        // Early: φ is small.
        assert!(phi(80.0, 100.0, 10.0) < 0.01);
    }

    #[test]
    fn the_threshold_quantile_inverts_phi() {
        for threshold in [1.0, 3.0, 8.0, 12.0] {
            let c = PhiConfig::new(threshold, 10, 1.0, 0.0);
            assert!(
                (phi(100.0 + 10.0 * c.quantile, 100.0, 10.0) - threshold).abs() < 1e-6,
                "{threshold}"
            );
        }
        // Threshold 1: the 90th percentile, 1.2816 deviations.
        assert!((PhiConfig::new(1.0, 10, 1.0, 0.0).quantile - 1.281_55).abs() < 1e-4);
    }

    #[test]
    fn a_steady_stream_a_late_beat_and_a_gap() {
        let config = PhiConfig::new(8.0, 100, 1_000.0, 0.0);
        let mut w = ArrivalWindow::default();
        for _ in 0..50 {
            w.push(100_000, config.window);
        }
        // A perfectly steady stream: deviation floored at 1 ms; deadline ≈ 100 ms + 5.6 ms.
        let steady = timeout_us(&w, &config, 100_000);
        assert!((105_000..107_000).contains(&steady), "{steady}");
        // One late beat (300 ms) widens the distribution: a later deadline.
        w.push(300_000, config.window);
        assert!(timeout_us(&w, &config, 100_000) > steady + 100_000);
        // The window forgets: after 100 steady beats the late one is gone.
        for _ in 0..100 {
            w.push(100_000, config.window);
        }
        assert_eq!(timeout_us(&w, &config, 100_000), steady);
    }
}
