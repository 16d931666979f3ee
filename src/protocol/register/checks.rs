//! The register's checkers: lost acknowledged writes, stale reads and conflicting
//! replicas, over a tree of which write each write superseded.

use super::*;
use crate::checks::{
    linearizable_figure, linearizable_view, CheckView, Checked, Checks, Figure, Sampler, SeriesView, Violation,
    WorldView,
};
use crate::history::record::Linearizability;
use crate::history::{History, Op, Outcome};

/// What the checker knows of one write.
#[derive(Clone, Copy, Debug)]
struct WriteRec {
    parent: Option<u64>,
    invoked_us: Micros,
    acked_us: Option<Micros>,
}

/// How long the checker keeps settled history (for ancestry of writes still in flight).
const HISTORY_US: Micros = 30_000_000;
/// Longest ancestry walk (a bound, never reached with the history above).
const MAX_WALK: usize = 200_000;
/// How often the checkers sample their series, and how many samples they keep.
const SAMPLE_US: Micros = 100_000;
const SAMPLES_MAX: usize = 600;
/// How many of the latest acknowledged writes a read is checked against.
const STALE_CHECK_MAX: usize = 256;
/// Most acknowledged writes awaiting agreement; older ones go unchecked beyond this.
const PENDING_MAX: usize = 50_000;
/// Most write records kept; past this, history older than `HISTORY_US` is pruned even
/// without agreement.
const RECORDS_MAX: usize = 200_000;
/// How many lost writes and stale reads the checker names.
const NAMED_MAX: usize = 16;

/// What the `linearizable` check says, in the panel.
const LINEARIZABLE: &str =
    "Every operation appears to take effect at one instant between its call and its return (linearizable)";

/// The register's checkers.
#[derive(Clone, Debug)]
pub struct RegisterChecks {
    replicas: u32,
    divergence_limit_us: Micros,
    writes: BTreeMap<u64, WriteRec>,
    reads: BTreeMap<u64, Micros>,
    /// Acknowledged writes not yet settled or lost.
    pending: Vec<u64>,
    settled: u64,
    acked: u64,
    lost: Violation,
    lost_count: u64,
    lost_named: Vec<u64>,
    stale: Violation,
    stale_count: u64,
    stale_named: Vec<(u64, u64)>,
    refused: u64,
    timed_out: u64,
    diverged: Violation,
    /// Each replica's value (write) as last seen; None while crashed.
    values: Vec<Option<u64>>,
    /// The distinct values in `values`, ascending, each with how many replicas hold it.
    tally: Vec<(u64, u32)>,
    conflict_since_us: Option<Micros>,
    conflicting: Vec<NodeId>,
    lagging: u32,
    pruned_at_us: Micros,
    unchecked: u64,
    /// Lost writes, stale reads, refusals and conflicting replicas, over time.
    sampler: Sampler,
    scratch: Vec<u64>,
    lineage_scratch: Vec<u64>,
    linearizability: Linearizability,
}

impl RegisterChecks {
    fn overlap(&self, a: u64, b: u64) -> bool {
        let (Some(x), Some(y)) = (self.writes.get(&a), self.writes.get(&b)) else {
            return false;
        };
        let end = |r: &WriteRec| r.acked_us.unwrap_or(Micros::MAX);
        x.invoked_us < end(y) && y.invoked_us < end(x)
    }

    /// Live replicas whose values conflict (neither descends from the other), into
    /// `conflicting`; a replica that is merely behind does not conflict.
    fn find_conflicts(&mut self) {
        self.conflicting.clear();
        self.lagging = 0;
        let mut distinct: Vec<u64> = self.values.iter().flatten().copied().collect();
        distinct.sort_unstable();
        distinct.dedup();
        if distinct.len() < 2 {
            return;
        }
        let mut lineages: Vec<Vec<u64>> = Vec::with_capacity(distinct.len());
        for &v in &distinct {
            let mut line = Vec::new();
            Self::lineage(&self.writes, v, &mut line);
            lineages.push(line);
        }
        let mut bad = vec![false; distinct.len()];
        for a in 0..distinct.len() {
            for b in a + 1..distinct.len() {
                let related =
                    lineages[a].binary_search(&distinct[b]).is_ok() || lineages[b].binary_search(&distinct[a]).is_ok();
                if !related {
                    bad[a] = true;
                    bad[b] = true;
                }
            }
        }
        for (i, value) in self.values.iter().enumerate() {
            let Some(v) = value else { continue };
            let k = distinct.binary_search(v).expect("listed");
            if bad[k] {
                self.conflicting.push(i as NodeId);
            } else if (lineages.iter().enumerate()).any(|(j, line)| j != k && line.binary_search(v).is_ok()) {
                self.lagging += 1;
            }
        }
    }

    /// The ancestors of `v` and `v` itself, sorted, into `out`; false if the walk ran
    /// into pruned history (then the list is partial).
    fn lineage(writes: &BTreeMap<u64, WriteRec>, v: u64, out: &mut Vec<u64>) -> bool {
        out.clear();
        let mut at = v;
        let complete = loop {
            out.push(at);
            match writes.get(&at).map(|r| r.parent) {
                Some(Some(parent)) if out.len() < MAX_WALK => at = parent,
                Some(None) => break true,
                _ => break false,
            }
        };
        out.sort_unstable();
        complete
    }

    /// Whether value `v` displaces acknowledged write `w` (see the module doc), given
    /// `v`'s lineage. Unknown (history pruned) counts as not displaced: the checker flags
    /// only what it can show.
    fn displaces(&mut self, v: u64, w: u64, v_lineage: &[u64]) -> bool {
        if v_lineage.binary_search(&w).is_ok() {
            return false; // w is v or an ancestor of v
        }
        let mut w_lineage = std::mem::take(&mut self.scratch);
        let w_complete = Self::lineage(&self.writes, w, &mut w_lineage);
        let mut at = v;
        let mut steps = 0;
        let displaced = loop {
            if w_lineage.binary_search(&at).is_ok() {
                break true; // the fork: v's branch from here on never saw w
            }
            if self.overlap(at, w) {
                break false; // a write on v's branch overlapped w: either order is fine
            }
            steps += 1;
            match self.writes.get(&at).map(|r| r.parent) {
                Some(Some(parent)) if steps < MAX_WALK => at = parent,
                // Both lines end at the root without meeting: only if both are complete.
                Some(None) => break w_complete,
                _ => break false,
            }
        };
        self.scratch = w_lineage;
        displaced
    }

    fn resolve(&mut self, now_us: Micros, v: u64) {
        let pending = std::mem::take(&mut self.pending);
        let mut v_lineage = std::mem::take(&mut self.lineage_scratch);
        Self::lineage(&self.writes, v, &mut v_lineage);
        for &w in &pending {
            if self.displaces(v, w, &v_lineage) {
                self.lost_count += 1;
                if self.lost_named.len() < NAMED_MAX {
                    self.lost_named.push(w);
                }
                self.lost.latch(now_us);
            } else {
                self.settled += 1;
            }
        }
        self.lineage_scratch = v_lineage;
        self.pending = pending;
        self.pending.clear();
        if now_us >= self.pruned_at_us + HISTORY_US {
            self.prune(now_us, Some(v));
        }
    }

    /// Forgets writes begun more than `HISTORY_US` ago; `root` (the agreed value) stays,
    /// as the root of everything after it.
    fn prune(&mut self, now_us: Micros, root: Option<u64>) {
        self.pruned_at_us = now_us;
        let horizon = now_us.saturating_sub(HISTORY_US);
        let mut pending = self.pending.clone();
        pending.sort_unstable();
        self.writes.retain(|id, r| {
            Some(*id) == root || *id == 0 || r.invoked_us >= horizon || pending.binary_search(id).is_ok()
        });
        if let Some(r) = root.and_then(|v| self.writes.get_mut(&v)) {
            r.parent = None;
        }
        self.reads.retain(|_, &mut start| start >= horizon);
    }

    /// Records a client's operation in the history.
    fn record(&mut self, now_us: Micros, node: NodeId, obs: &RegisterObs) {
        let (l, client) = (&mut self.linearizability, node as u64);
        match *obs {
            RegisterObs::Invoke { value, .. } => l.start(now_us, client, 0, Op::Write(Some(value as i64))),
            RegisterObs::ReadBegin { .. } => l.start(now_us, client, 0, Op::Read(None)),
            RegisterObs::Acked { .. } => l.finish(now_us, client, Outcome::Ok, None),
            RegisterObs::ReadDone { value, .. } => l.finish(now_us, client, Outcome::Ok, Some(value as i64)),
            RegisterObs::Refused | RegisterObs::TimedOut => l.finish(now_us, client, Outcome::Unknown, None),
            RegisterObs::Created { .. } => {}
        }
    }

    pub fn lost(&self) -> u64 {
        self.lost_count
    }

    /// A replica's value went from `old` to `new`: moves it in the tally.
    fn recount(&mut self, old: Option<u64>, new: Option<u64>) {
        if let Some(v) = old {
            let k = (self.tally.binary_search_by_key(&v, |&(w, _)| w)).expect("a held value is tallied");
            self.tally[k].1 -= 1;
            if self.tally[k].1 == 0 {
                self.tally.remove(k);
            }
        }
        if let Some(v) = new {
            match self.tally.binary_search_by_key(&v, |&(w, _)| w) {
                Ok(k) => self.tally[k].1 += 1,
                Err(k) => self.tally.insert(k, (v, 1)),
            }
        }
    }
}

impl Checks<Register> for RegisterChecks {
    fn new(config: &RegisterConfig, nodes: u32) -> Self {
        let mut writes = BTreeMap::new();
        writes.insert(
            0,
            WriteRec {
                parent: None,
                invoked_us: 0,
                acked_us: Some(0),
            },
        );
        RegisterChecks {
            replicas: config.replicas,
            divergence_limit_us: 2 * config.gossip_us + 200_000,
            writes,
            reads: BTreeMap::new(),
            pending: Vec::new(),
            settled: 0,
            acked: 0,
            lost: Violation::default(),
            lost_count: 0,
            lost_named: Vec::new(),
            stale: Violation::default(),
            stale_count: 0,
            stale_named: Vec::new(),
            refused: 0,
            timed_out: 0,
            diverged: Violation::default(),
            values: vec![None; config.replicas as usize],
            tally: Vec::new(),
            conflict_since_us: None,
            conflicting: Vec::new(),
            lagging: 0,
            pruned_at_us: 0,
            unchecked: 0,
            sampler: Sampler::new(SAMPLE_US, 4, SAMPLES_MAX),
            scratch: Vec::new(),
            lineage_scratch: Vec::new(),
            // A replica's register starts as the default cell: value 0.
            linearizability: Linearizability::new(nodes as usize, Some(0)),
        }
    }

    fn observe(&mut self, now_us: Micros, node: NodeId, obs: &RegisterObs) {
        self.record(now_us, node, obs);
        match *obs {
            RegisterObs::Invoke { write, .. } => {
                self.writes.insert(
                    write,
                    WriteRec {
                        parent: None,
                        invoked_us: now_us,
                        acked_us: None,
                    },
                );
            }
            RegisterObs::Created { write, parent } => {
                if let Some(r) = self.writes.get_mut(&write) {
                    r.parent = Some(parent);
                }
            }
            RegisterObs::Acked { write } => {
                if let Some(r) = self.writes.get_mut(&write) {
                    r.acked_us = Some(now_us);
                    if self.pending.len() >= PENDING_MAX {
                        self.pending.remove(0);
                        self.unchecked += 1;
                    }
                    self.pending.push(write);
                    self.acked += 1;
                }
                if self.writes.len() > RECORDS_MAX {
                    self.prune(now_us, None);
                }
            }
            RegisterObs::ReadBegin { read } => {
                self.reads.insert(read, now_us);
            }
            RegisterObs::ReadDone { read, write, .. } => {
                let Some(start) = self.reads.remove(&read) else { return };
                // The most recent acknowledged writes that ended before the read began.
                let before: Vec<u64> = (self.pending.iter().rev().copied())
                    .filter(|w| self.writes.get(w).and_then(|r| r.acked_us).is_some_and(|t| t < start))
                    .take(STALE_CHECK_MAX)
                    .collect();
                let mut lineage = std::mem::take(&mut self.lineage_scratch);
                Self::lineage(&self.writes, write, &mut lineage);
                let missed = before.iter().copied().find(|&w| self.displaces(write, w, &lineage));
                self.lineage_scratch = lineage;
                if let Some(w) = missed {
                    self.stale_count += 1;
                    if self.stale_named.len() < NAMED_MAX {
                        self.stale_named.push((read, w));
                    }
                    self.stale.latch(now_us);
                }
            }
            RegisterObs::Refused => self.refused += 1,
            RegisterObs::TimedOut => self.timed_out += 1,
        }
    }

    fn after_event(&mut self, world: &WorldView<'_, Register>) {
        let replicas = &world.protocols[..self.replicas as usize];
        let mut changed = false;
        for i in world.changed.nodes(replicas.len()) {
            let value = replicas[i].as_ref().map(|p| p.cell().write);
            if self.values[i] != value {
                let old = std::mem::replace(&mut self.values[i], value);
                self.recount(old, value);
                changed = true;
            }
        }
        // Live replicas, and whether they all hold one value (which).
        let up: u32 = self.tally.iter().map(|&(_, n)| n).sum();
        let (agree, first) = match self.tally.as_slice() {
            [] => (true, None),
            [(v, _)] => (true, Some(*v)),
            _ => (false, None),
        };
        let now = world.now_us;
        self.linearizability.after_event(now);
        if changed {
            self.find_conflicts();
            match (self.conflicting.is_empty(), self.conflict_since_us) {
                (false, None) => self.conflict_since_us = Some(now),
                (true, Some(_)) => self.conflict_since_us = None,
                _ => {}
            }
        }
        let too_long = self
            .conflict_since_us
            .is_some_and(|since| now - since > self.divergence_limit_us);
        if too_long == self.diverged.holds() {
            self.diverged.update(now, too_long);
        }
        if let (true, true, Some(v)) = (up * 2 > self.replicas, agree, first) {
            if !self.pending.is_empty() {
                self.resolve(now, v);
            }
        }
        if self.sampler.due(now) {
            let row = [
                self.lost_count as f64,
                self.stale_count as f64,
                self.refused as f64,
                self.conflicting.len() as f64,
            ];
            self.sampler.push(now, &row);
        }
    }

    /// The clients' operations so far (the first `history::record::OPS_MAX`).
    fn history(&self) -> Option<&History> {
        Some(&self.linearizability.history)
    }

    fn approx_bytes(&self) -> usize {
        use crate::budget::{map_bytes, vec_bytes};
        let l = &self.linearizability;
        std::mem::size_of_val(self)
            + map_bytes(&self.writes)
            + map_bytes(&self.reads)
            + vec_bytes(&self.pending)
            + vec_bytes(&self.lost_named)
            + vec_bytes(&self.stale_named)
            + vec_bytes(&self.values)
            + vec_bytes(&self.tally)
            + vec_bytes(&self.conflicting)
            + vec_bytes(&self.scratch)
            + vec_bytes(&self.lineage_scratch)
            + self.sampler.approx_bytes()
            + l.heap_bytes()
    }

    fn series(&self) -> Vec<SeriesView> {
        vec![
            self.sampler
                .series(0, "acked_writes_lost", "Acknowledged writes lost", "writes"),
            self.sampler.series(1, "stale_reads", "Stale reads", "reads"),
            self.sampler.series(2, "refused", "Requests refused", "requests"),
            self.sampler.series(
                3,
                "conflicting_replicas",
                "Replicas holding conflicting values",
                "replicas",
            ),
        ]
    }

    fn report(&self, now_us: Micros) -> Vec<CheckView> {
        let name = |w: u64| format!("node {} op {}", w >> 32, w & 0xFFFF_FFFF);
        let lost_detail = if self.lost_count == 0 {
            format!(
                "{} acknowledged writes, {} settled, none lost{}",
                self.acked,
                self.settled,
                if self.unchecked > 0 {
                    format!(" ({} too old to check)", self.unchecked)
                } else {
                    String::new()
                }
            )
        } else {
            let named: Vec<String> = self.lost_named.iter().map(|&w| name(w)).collect();
            format!("{} acknowledged writes lost: {}", self.lost_count, named.join(", "))
        };
        let lost_nodes = self.lost_named.iter().map(|&w| (w >> 32) as NodeId).collect();
        let stale_detail = match self.stale_named.last() {
            None => "no read returned a value older than an acknowledged write".into(),
            Some(&(r, w)) => format!("{} stale reads; last: {} missed {}", self.stale_count, name(r), name(w)),
        };
        let stale_nodes = self.stale_named.iter().map(|&(r, _)| (r >> 32) as NodeId).collect();
        let diverged_detail = match self.conflict_since_us {
            Some(since) => format!(
                "replicas {:?} hold conflicting values, for {} ms",
                self.conflicting,
                us_to_ms(now_us - since).round()
            ),
            None if self.lagging > 0 => format!("{} replica(s) behind, none conflicting", self.lagging),
            None => "live replicas agree or are merely behind".into(),
        };
        vec![
            self.lost.view(
                "acked_writes_lost",
                "No acknowledged write is silently discarded",
                lost_detail,
                lost_nodes,
            ),
            self.stale.view(
                "stale_reads",
                "No read returns a value older than a write acknowledged before it began",
                stale_detail,
                stale_nodes,
            ),
            self.diverged.view(
                "diverged_replicas",
                "Live replicas never hold conflicting values for longer than two gossip rounds",
                diverged_detail,
                self.conflicting.clone(),
            ),
            linearizable_view(&self.linearizability, LINEARIZABLE),
            CheckView::measure(
                "minority_refusals",
                "Requests refused for want of a majority (a measure)",
                format!("{} refused, {} timed out", self.refused, self.timed_out),
                Vec::new(),
            ),
        ]
    }

    fn summary(&self, now_us: Micros) -> Vec<Figure> {
        let count = |id, n: u64, words| Figure::new(id, n as f64, format!("{words}: {n}"));
        let diverged_ms = us_to_ms(self.diverged.total_us(now_us)).round();
        let l = &self.linearizability;
        vec![
            count("acked_writes", self.acked, "acked writes"),
            count("acked_writes_lost", self.lost_count, "acked writes lost"),
            count("stale_reads", self.stale_count, "stale reads"),
            count("refused", self.refused, "refused"),
            count("timed_out", self.timed_out, "timed out"),
            linearizable_figure(l),
            Figure::new(
                "diverged_ms",
                diverged_ms,
                format!("replicas diverged: {diverged_ms} ms"),
            ),
        ]
    }
}

impl Checked for Register {
    type Checks = RegisterChecks;
}
