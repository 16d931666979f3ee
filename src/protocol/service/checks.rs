//! The checkers and live charts of a service under load (`protocol::service`).
//!
//! - `overload_crashes`: no replica dies of overload (out of memory); each death latches it.
//! - `goodput`: successful answers keep up with at least half the offered load (measured
//!   over each sample window once the first second has passed).
//! - `retry_amplification`: a measure — attempts sent per request offered.
//!
//! Series, sampled every `SAMPLE_US` (rates are per second over the window since the last
//! sample): offered, goodput (and per tenant), errors, retries, latency p50/p99 of the
//! answers in the window, requests queued over all replicas, replicas up, open breakers.
//! Memory is bounded by the sampler and by one window of latencies.

use super::*;
use crate::checks::{CheckView, Checked, Checks, Figure, Sampler, SeriesView, Violation, WorldView};
use crate::time::{us_to_ms, Micros};

const SAMPLE_US: Micros = 250_000;
const SAMPLES_MAX: usize = 1_200;
/// Most latencies kept for one window's percentiles (a uniform subsample beyond).
const LATENCIES_MAX: usize = 50_000;

/// Counts over one sample window.
#[derive(Clone, Debug, Default)]
struct Window {
    offered: u64,
    success: [u64; 2],
    errors: u64,
    retries: u64,
    latencies_us: Vec<Micros>,
    seen: u64,
}

#[derive(Clone, Debug)]
pub struct ServiceChecks {
    replicas: u32,
    /// Whether the run has breakers (their chart) and tenants that differ (theirs).
    breakers: bool,
    tenants: bool,
    offered: u64,
    attempts: u64,
    retries: u64,
    successes: u64,
    timeouts: u64,
    errors: u64,
    gave_up: u64,
    shed: u64,
    ooms: u64,
    latency_sum_us: u64,
    window: Window,
    last_sample_us: Micros,
    last_goodput: f64,
    last_offered: f64,
    last_p99_ms: f64,
    down: Vec<NodeId>,
    overload: Violation,
    goodput: Violation,
    sampler: Sampler,
}

impl ServiceChecks {
    /// Attempts sent per request offered (1.0 without retries).
    pub fn amplification(&self) -> f64 {
        if self.offered == 0 {
            1.0
        } else {
            self.attempts as f64 / self.offered as f64
        }
    }

    pub fn overload_crashes(&self) -> u64 {
        self.ooms
    }

    fn percentile(sorted: &[Micros], p: f64) -> f64 {
        if sorted.is_empty() {
            return f64::NAN;
        }
        let k = ((sorted.len() - 1) as f64 * p).round() as usize;
        us_to_ms(sorted[k])
    }
}

impl Checks<Service> for ServiceChecks {
    fn new(config: &ServiceConfig, _nodes: u32) -> Self {
        ServiceChecks {
            replicas: config.replicas,
            breakers: config.breaker.is_some(),
            tenants: config.noisy.is_some() || config.bulkheads,
            offered: 0,
            attempts: 0,
            retries: 0,
            successes: 0,
            timeouts: 0,
            errors: 0,
            gave_up: 0,
            shed: 0,
            ooms: 0,
            latency_sum_us: 0,
            window: Window::default(),
            last_sample_us: 0,
            last_goodput: 0.0,
            last_offered: 0.0,
            last_p99_ms: f64::NAN,
            down: Vec::new(),
            overload: Violation::default(),
            goodput: Violation::default(),
            sampler: Sampler::new(SAMPLE_US, 11, SAMPLES_MAX),
        }
    }

    fn observe(&mut self, now_us: Micros, _node: NodeId, obs: &ServiceObs) {
        let w = &mut self.window;
        match *obs {
            ServiceObs::Offered { .. } => {
                self.offered += 1;
                w.offered += 1;
            }
            ServiceObs::Attempt { retry } => {
                self.attempts += 1;
                if retry {
                    self.retries += 1;
                    w.retries += 1;
                }
            }
            ServiceObs::Success { tenant, latency_us } => {
                self.successes += 1;
                self.latency_sum_us += latency_us;
                w.success[tenant as usize & 1] += 1;
                w.seen += 1;
                if w.latencies_us.len() < LATENCIES_MAX {
                    w.latencies_us.push(latency_us);
                } else {
                    // Keep every k-th beyond the cap: still spread over the window.
                    let k = w.seen / LATENCIES_MAX as u64 + 1;
                    if w.seen % k == 0 {
                        let i = (w.seen / k) as usize % LATENCIES_MAX;
                        w.latencies_us[i] = latency_us;
                    }
                }
            }
            ServiceObs::Failed { timeout } => {
                w.errors += 1;
                if timeout {
                    self.timeouts += 1;
                } else {
                    self.errors += 1;
                }
            }
            ServiceObs::GaveUp { .. } => self.gave_up += 1,
            ServiceObs::Shed => self.shed += 1,
            ServiceObs::OutOfMemory => {
                self.ooms += 1;
                self.overload.latch(now_us);
            }
            ServiceObs::Served { .. } => {}
        }
    }

    fn after_event(&mut self, world: &WorldView<'_, Service>) {
        let now = world.now_us;
        if !self.sampler.due(now) {
            return;
        }
        let dt_s = (now - self.last_sample_us).max(1) as f64 / 1e6;
        self.last_sample_us = now;
        let mut w = std::mem::take(&mut self.window);
        w.latencies_us.sort_unstable();
        let p50 = Self::percentile(&w.latencies_us, 0.5);
        let p99 = Self::percentile(&w.latencies_us, 0.99);
        let replicas = &world.protocols[1..=self.replicas as usize];
        self.down.clear();
        let mut queued = 0;
        for (r, p) in replicas.iter().enumerate() {
            match p {
                Some(p) => queued += p.queued(),
                None => self.down.push(r as NodeId + 1),
            }
        }
        let open = world.protocols[0].as_ref().map_or(0, |b| b.open_breakers());
        let goodput = (w.success[0] + w.success[1]) as f64 / dt_s;
        let offered = w.offered as f64 / dt_s;
        self.last_goodput = goodput;
        self.last_offered = offered;
        self.last_p99_ms = p99;
        if now > 1_000_000 {
            self.goodput.update(now, offered > 0.0 && goodput < 0.5 * offered);
        }
        let row = [
            offered,
            goodput,
            w.errors as f64 / dt_s,
            w.retries as f64 / dt_s,
            p50,
            p99,
            queued as f64,
            (self.replicas as usize - self.down.len()) as f64,
            w.success[0] as f64 / dt_s,
            w.success[1] as f64 / dt_s,
            open as f64,
        ];
        self.sampler.push(now, &row);
        w.latencies_us.clear();
        w.seen = 0;
        self.window.latencies_us = w.latencies_us;
    }

    fn series(&self) -> Vec<SeriesView> {
        let mut all = vec![
            self.sampler.series(0, "offered", "Offered load", "req/s"),
            self.sampler
                .series(1, "goodput", "Goodput (successful answers)", "req/s"),
            self.sampler.series(2, "errors", "Errors and timeouts", "req/s"),
            self.sampler.series(3, "retries", "Retries sent", "req/s"),
            self.sampler.series(4, "latency_p50", "Latency p50", "ms"),
            self.sampler.series(5, "latency_p99", "Latency p99", "ms"),
            self.sampler
                .series(6, "queued", "Requests queued at replicas", "requests"),
            self.sampler.series(7, "replicas_up", "Replicas up", "replicas"),
            self.sampler.series(8, "goodput_tenant_0", "Goodput, tenant 0", "req/s"),
            self.sampler.series(9, "goodput_tenant_1", "Goodput, tenant 1", "req/s"),
            self.sampler
                .series(10, "open_breakers", "Breakers open at the balancer", "breakers"),
        ];
        if !self.breakers {
            all.pop();
        }
        if !self.tenants {
            all.retain(|s| !s.id.starts_with("goodput_tenant"));
        }
        all
    }

    fn report(&self, _now_us: Micros) -> Vec<CheckView> {
        let overload_detail = if self.ooms == 0 {
            "no replica has run out of memory".to_string()
        } else {
            format!("{} out-of-memory crashes; down now: {:?}", self.ooms, self.down)
        };
        let goodput_detail = format!(
            "goodput {:.0} req/s of {:.0} offered in the last window",
            self.last_goodput, self.last_offered
        );
        vec![
            self.overload.view(
                "overload_crashes",
                "No replica dies of overload",
                overload_detail,
                self.down.clone(),
            ),
            self.goodput.view(
                "goodput",
                "Goodput keeps up with at least half the offered load",
                goodput_detail,
                Vec::new(),
            ),
            CheckView::measure(
                "retry_amplification",
                "Attempts sent per request offered (a measure)",
                format!(
                    "{:.2}× ({} attempts for {} requests; {} shed, {} timed out, {} gave up)",
                    self.amplification(),
                    self.attempts,
                    self.offered,
                    self.shed,
                    self.timeouts,
                    self.gave_up
                ),
                Vec::new(),
            ),
        ]
    }

    fn summary(&self, now_us: Micros) -> Vec<Figure> {
        let secs = (now_us as f64 / 1e6).max(1e-9);
        let mean_ms = if self.successes == 0 {
            f64::NAN
        } else {
            self.latency_sum_us as f64 / self.successes as f64 / 1_000.0
        };
        let (offered, goodput) = (self.offered as f64 / secs, self.successes as f64 / secs);
        let answered = 100.0 * self.successes as f64 / self.offered.max(1) as f64;
        let amplification = self.amplification();
        let count = |id, n: u64, words| Figure::new(id, n as f64, format!("{words}: {n}"));
        vec![
            Figure::new("offered_per_s", offered, format!("offered: {offered:.0} req/s")),
            Figure::new(
                "goodput_per_s",
                goodput,
                format!("goodput: {goodput:.0} req/s ({answered:.0}% of requests answered)"),
            ),
            count("overload_crashes", self.ooms, "overload crashes"),
            Figure::new(
                "retry_amplification",
                amplification,
                format!("retry amplification: {amplification:.2}"),
            ),
            Figure::new("mean_latency_ms", mean_ms, format!("mean latency: {mean_ms:.1} ms")),
            Figure::new(
                "p99_latency_ms",
                self.last_p99_ms,
                format!("p99 latency (last window): {:.1} ms", self.last_p99_ms),
            ),
            count("shed", self.shed, "shed"),
            count("timed_out", self.timeouts, "timed out"),
            count("gave_up", self.gave_up, "gave up"),
        ]
    }
}

impl Checked for Service {
    type Checks = ServiceChecks;
}
