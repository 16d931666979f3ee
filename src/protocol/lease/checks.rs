//! The lease service's checkers: stale writes that landed, mutual exclusion by true time,
//! and the believers/stale-write series.

use super::*;
use crate::checks::{CheckView, Checked, Checks, Figure, Sampler, SeriesView, Violation, WorldView};

/// How often the checkers sample their series, and how many samples they keep.
const SAMPLE_US: Micros = 100_000;
const SAMPLES_MAX: usize = 600;

/// The lease service's checkers.
#[derive(Clone, Debug)]
pub struct LeaseChecks {
    lease_us: Micros,
    /// The lease in force by true time: (holder, token, true expiry).
    current: Option<(NodeId, u64, Micros)>,
    highest_accepted: u64,
    stale: Violation,
    stale_landed: u64,
    last_stale: Option<(NodeId, u64)>,
    rejected: u64,
    exclusion: Violation,
    believers: Vec<NodeId>,
    /// Believers, stale writes landed and stale writes rejected, over time.
    sampler: Sampler,
}

impl Checks<Lease> for LeaseChecks {
    fn new(config: &LeaseConfig, _nodes: u32) -> Self {
        LeaseChecks {
            lease_us: config.lease_us,
            current: None,
            highest_accepted: 0,
            stale: Violation::default(),
            stale_landed: 0,
            last_stale: None,
            rejected: 0,
            exclusion: Violation::default(),
            believers: Vec::new(),
            sampler: Sampler::new(SAMPLE_US, 3, SAMPLES_MAX),
        }
    }

    fn observe(&mut self, now_us: Micros, _node: NodeId, obs: &LeaseObs) {
        match *obs {
            LeaseObs::Granted { client, token } | LeaseObs::Renewed { client, token } => {
                self.current = Some((client, token, now_us + self.lease_us));
            }
            LeaseObs::Released { .. } => {}
            LeaseObs::Accepted { client, token } => {
                let in_force = self
                    .current
                    .is_some_and(|(holder, t, exp)| holder == client && t == token && now_us < exp);
                if !in_force || token < self.highest_accepted {
                    self.stale_landed += 1;
                    self.last_stale = Some((client, token));
                    self.stale.latch(now_us);
                }
                self.highest_accepted = self.highest_accepted.max(token);
            }
            LeaseObs::Rejected { .. } => self.rejected += 1,
        }
    }

    fn after_event(&mut self, world: &WorldView<'_, Lease>) {
        // At most 62 clients: a scan per event, no allocation once the Vec has grown.
        self.believers.clear();
        for (i, p) in world.protocols.iter().enumerate().skip(2) {
            if p.as_ref().is_some_and(|p| p.believes().is_some()) {
                self.believers.push(i as NodeId);
            }
        }
        self.exclusion.update(world.now_us, self.believers.len() > 1);
        if self.sampler.due(world.now_us) {
            let row = [
                self.believers.len() as f64,
                self.stale_landed as f64,
                self.rejected as f64,
            ];
            self.sampler.push(world.now_us, &row);
        }
    }

    fn series(&self) -> Vec<SeriesView> {
        vec![
            self.sampler.series(
                0,
                "lease_believers",
                "Clients that believe they hold the lease",
                "clients",
            ),
            self.sampler
                .series(1, "stale_writes_landed", "Stale writes landed", "writes"),
            self.sampler
                .series(2, "stale_writes_rejected", "Stale writes rejected", "writes"),
        ]
    }

    fn report(&self, now_us: Micros) -> Vec<CheckView> {
        let stale_detail = match self.last_stale {
            Some((c, t)) => format!(
                "{} stale write(s) landed; last from node {c} with token {t}",
                self.stale_landed
            ),
            None => format!("no stale write landed; {} rejected", self.rejected),
        };
        let excl_detail = if self.believers.len() > 1 {
            format!("{} clients believe they hold the lease", self.believers.len())
        } else {
            format!(
                "{} ms with two believers in all",
                us_to_ms(self.exclusion.total_us(now_us)).round()
            )
        };
        vec![
            self.stale.view(
                "stale_write_landed",
                "No write lands from a holder whose lease is gone",
                stale_detail,
                self.last_stale.map(|(c, _)| vec![c, STORAGE]).unwrap_or_default(),
            ),
            self.exclusion.view(
                "mutual_exclusion",
                "At most one client believes it holds the lease",
                excl_detail,
                self.believers.clone(),
            ),
            CheckView::measure(
                "fenced_writes",
                "Stale writes the storage turned away (a measure)",
                format!("{} stale writes rejected", self.rejected),
                Vec::new(),
            ),
        ]
    }

    fn summary(&self, now_us: Micros) -> Vec<Figure> {
        let first = self
            .stale
            .first_us()
            .map_or(String::new(), |t| format!(" (first at {} ms)", us_to_ms(t)));
        let believers = self.exclusion.count();
        let believers_ms = us_to_ms(self.exclusion.total_us(now_us)).round();
        vec![
            Figure::new(
                "stale_writes_landed",
                self.stale_landed as f64,
                format!("stale writes landed: {}{first}", self.stale_landed),
            ),
            Figure::new(
                "stale_writes_rejected",
                self.rejected as f64,
                format!("stale writes rejected: {}", self.rejected),
            ),
            Figure::new(
                "two_believers",
                believers as f64,
                format!("two lease believers: {believers} times, {believers_ms} ms"),
            ),
        ]
    }
}

impl LeaseChecks {
    pub fn stale_landed(&self) -> u64 {
        self.stale_landed
    }
}

impl Checked for Lease {
    type Checks = LeaseChecks;
}
