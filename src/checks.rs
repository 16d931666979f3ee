//! Checkers: omniscient observers of a run that say which properties hold right now.
//!
//! A protocol's handlers report facts through `Ctx::observe` (a leader elected, a write
//! acknowledged, a request finished); the engine hands each fact to the protocol's
//! `Checks` with the time and node, and after every event lets it look at every node's
//! state. Checkers never influence the run: they read, they never write, so a run with
//! or without anyone looking at them has the same trace. They may also keep time series
//! for the page's charts, sampled at fixed simulated intervals and bounded in memory.
//!
//! Invariant: a check that was violated reports the first time it was violated, and stays
//! violated only while the property is broken now (`violated_since_ms`), while
//! `first_violation_ms` keeps the first moment ever, for summaries and graders.

use std::collections::{BTreeMap, VecDeque};

use serde::Serialize;

use crate::history::record::Linearizability;
use crate::protocol::Protocol;
use crate::time::Micros;
use crate::vocab::{NodeId, Status};

/// What kind of property a check is. *Safety*: nothing bad happens — a violation happens
/// at a finite moment and can be shown there (a bounded "within N ms" promise is safety
/// too). *Liveness*: something good eventually happens — never violated at any finite
/// moment, only satisfied or still pending. *Measure*: a figure, not a promise.
#[derive(Clone, Copy, Debug, Serialize, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum Property {
    Safety,
    Liveness,
    Measure,
}

/// One property as the checker panel shows it.
#[derive(Clone, Debug, Serialize, PartialEq)]
pub struct CheckView {
    /// A stable identifier ("election_safety", "split_brain", …).
    pub id: &'static str,
    /// What the property says, in words.
    pub name: &'static str,
    /// Safety, liveness or a measure. A liveness property always `holds` (it cannot be
    /// violated at a finite moment); its state is `satisfied_since_ms` / `pending_since_ms`.
    pub property: Property,
    /// Liveness: satisfied since this moment (null while pending).
    pub satisfied_since_ms: Option<f64>,
    /// Liveness: pending since this moment, the last progress (null while satisfied).
    pub pending_since_ms: Option<f64>,
    /// Liveness: whether the timing model promises it at all at this moment (false in an
    /// asynchronous network, and before GST in a partially synchronous one: FLP).
    pub guaranteed: bool,
    /// Whether it holds at this moment.
    pub holds: bool,
    /// When the current violation began (null while it holds).
    pub violated_since_ms: Option<f64>,
    /// When it was first violated in this run (null if never).
    pub first_violation_ms: Option<f64>,
    /// How many separate violations so far.
    pub violations: u64,
    /// What is wrong, or the measure that shows it holds ("1 leader in term 3").
    pub detail: String,
    /// The nodes involved in the current violation, for outlining on the canvas.
    pub nodes: Vec<NodeId>,
}

/// A time series for a chart: samples at `t_ms`.
#[derive(Clone, Debug, Serialize, PartialEq)]
pub struct SeriesView {
    pub id: &'static str,
    pub name: &'static str,
    pub unit: &'static str,
    pub t_ms: Vec<f64>,
    pub values: Vec<f64>,
}

/// One line of a run's headless summary with the figure it reports, so programs (tests, the
/// CLI's `--json`) read the number and never parse it back out of the words.
#[derive(Clone, Debug, Serialize, PartialEq)]
pub struct Figure {
    /// A stable identifier ("acked_writes_lost", "split_brain_ms", …).
    pub id: &'static str,
    /// The number the line reports: a count, a rate or a duration, as the id says.
    pub value: f64,
    /// The line as printed (`acked writes lost: 3`).
    pub line: String,
}

impl Figure {
    pub fn new(id: &'static str, value: f64, line: String) -> Figure {
        Figure { id, value, line }
    }
}

/// The state of the world a checker may read after each event.
pub struct WorldView<'a, P> {
    pub now_us: Micros,
    /// Every node's protocol state; `None` while crashed.
    pub protocols: &'a [Option<P>],
    pub status: &'a dyn Fn(NodeId) -> Status,
    /// Whose protocol state or status the event may have changed: a checker that keeps
    /// what it saw of every node last time needs to look again only there.
    pub changed: Changed,
}

/// Which nodes an event may have changed (their protocol state or status; nothing a
/// checker reads changes anywhere else).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Changed {
    /// Only this node: a message delivered to it, its timer, its resume, its clock.
    One(NodeId),
    /// Possibly every node: boots, faults and their reverts.
    Any,
}

impl Changed {
    /// The nodes among `0..n` to look at again.
    pub fn nodes(self, n: usize) -> std::ops::Range<usize> {
        match self {
            Changed::One(node) if (node as usize) < n => node as usize..node as usize + 1,
            Changed::One(_) => 0..0,
            Changed::Any => 0..n,
        }
    }
}

/// A protocol with checkers: the registration of its `Checks` (`NoChecks` for none).
pub trait Checked: Protocol {
    type Checks: Checks<Self>;
}

/// The checkers of one protocol.
pub trait Checks<P: Protocol>: Clone {
    fn new(config: &P::Config, nodes: u32) -> Self;
    /// A fact reported by `node`'s handler at `now_us`.
    fn observe(&mut self, _now_us: Micros, _node: NodeId, _obs: &P::Obs) {}
    /// Called after every event (and every fault), with every node's state.
    fn after_event(&mut self, _world: &WorldView<'_, P>) {}
    /// Every property at the current moment.
    fn report(&self, _now_us: Micros) -> Vec<CheckView> {
        Vec::new()
    }
    /// The headless summary, a figure a line (e.g. `split_brain_ms`: `split brain: 0 ms`).
    fn summary(&self, _now_us: Micros) -> Vec<Figure> {
        Vec::new()
    }
    /// Time series for the charts.
    fn series(&self) -> Vec<SeriesView> {
        Vec::new()
    }
    /// Bytes kept, registries, histories and series included (`crate::budget`).
    fn approx_bytes(&self) -> usize {
        std::mem::size_of_val(self)
    }
    /// The clients' operations as a history, for protocols whose clients record one
    /// (`faultline run --history`, the page's history view); `None` for the others.
    fn history(&self) -> Option<&crate::history::History> {
        None
    }
}

/// For protocols with nothing to check.
#[derive(Clone, Debug, Default)]
pub struct NoChecks;

impl<P: Protocol> Checks<P> for NoChecks {
    fn new(_config: &P::Config, _nodes: u32) -> Self {
        NoChecks
    }
}

/// Tracks one property over time: when its current violation began, the first ever, and
/// how many separate violations there were.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Violation {
    since_us: Option<Micros>,
    first_us: Option<Micros>,
    count: u64,
    /// Total time spent violated, in µs (up to the last update).
    total_us: Micros,
    last_update_us: Micros,
}

impl Violation {
    /// Records whether the property is broken at `now_us`.
    pub fn update(&mut self, now_us: Micros, broken: bool) {
        if let Some(since) = self.since_us {
            let from = self.last_update_us.max(since);
            self.total_us += now_us.saturating_sub(from);
        }
        self.last_update_us = now_us;
        match (broken, self.since_us) {
            (true, None) => {
                self.since_us = Some(now_us);
                self.first_us.get_or_insert(now_us);
                self.count += 1;
            }
            (false, Some(_)) => self.since_us = None,
            _ => {}
        }
    }

    /// Marks a one-off violation at `now_us` (a stale write that landed): it stays
    /// violated from then on, because the damage is done.
    pub fn latch(&mut self, now_us: Micros) {
        if self.since_us.is_none() {
            self.update(now_us, true);
        } else {
            self.count += 1;
        }
    }

    pub fn holds(&self) -> bool {
        self.since_us.is_none()
    }

    pub fn since_us(&self) -> Option<Micros> {
        self.since_us
    }

    pub fn first_us(&self) -> Option<Micros> {
        self.first_us
    }

    pub fn count(&self) -> u64 {
        self.count
    }

    /// Time spent violated up to `now_us`.
    pub fn total_us(&self, now_us: Micros) -> Micros {
        let open = self
            .since_us
            .map_or(0, |since| now_us.saturating_sub(self.last_update_us.max(since)));
        self.total_us + open
    }

    /// The panel's view of this property.
    pub fn view(&self, id: &'static str, name: &'static str, detail: String, nodes: Vec<NodeId>) -> CheckView {
        let ms = |us: Micros| crate::time::us_to_ms(us);
        CheckView {
            id,
            name,
            property: Property::Safety,
            satisfied_since_ms: None,
            pending_since_ms: None,
            guaranteed: true,
            holds: self.holds(),
            violated_since_ms: self.since_us.map(ms),
            first_violation_ms: self.first_us.map(ms),
            violations: self.count,
            detail,
            nodes: if self.holds() { Vec::new() } else { nodes },
        }
    }
}

/// The panel row of a `linearizable` checker (`history::record`): a safety property that
/// latched when the failing operations had all returned, naming their clients.
pub fn linearizable_view(l: &Linearizability, name: &'static str) -> CheckView {
    let mut verdict = Violation::default();
    if let Some(at) = l.violated_at_us {
        verdict.latch(at);
    }
    let nodes = l.clients.iter().map(|&c| c as NodeId).collect();
    verdict.view("linearizable", name, l.detail.clone(), nodes)
}

/// The summary figure of a `linearizable` checker: 1 while it holds, 0 once violated.
pub fn linearizable_figure(l: &Linearizability) -> Figure {
    Figure::new("linearizable", l.holds() as u8 as f64, l.line())
}

impl CheckView {
    /// A measure: a figure shown with the properties, never violated.
    pub fn measure(id: &'static str, name: &'static str, detail: String, nodes: Vec<NodeId>) -> CheckView {
        CheckView {
            id,
            name,
            property: Property::Measure,
            satisfied_since_ms: None,
            pending_since_ms: None,
            guaranteed: true,
            holds: true,
            violated_since_ms: None,
            first_violation_ms: None,
            violations: 0,
            detail,
            nodes,
        }
    }
}

/// Tracks a liveness property ("eventually …"): satisfied since some moment, or pending
/// since the last progress. Invariant: exactly one of the two is set once updated.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Eventually {
    satisfied_since_us: Option<Micros>,
    pending_since_us: Option<Micros>,
}

impl Eventually {
    /// A property pending from `since_us` (the start of the run, say).
    pub fn pending_from(since_us: Micros) -> Eventually {
        Eventually {
            satisfied_since_us: None,
            pending_since_us: Some(since_us),
        }
    }

    /// Records whether the good thing holds at `now_us`.
    pub fn update(&mut self, now_us: Micros, satisfied: bool) {
        match (satisfied, self.satisfied_since_us) {
            (true, None) => {
                self.satisfied_since_us = Some(now_us);
                self.pending_since_us = None;
            }
            (false, Some(_)) => {
                self.satisfied_since_us = None;
                self.pending_since_us = Some(now_us);
            }
            (false, None) => {
                self.pending_since_us.get_or_insert(now_us);
            }
            (true, Some(_)) => {}
        }
    }

    pub fn satisfied_since_us(&self) -> Option<Micros> {
        self.satisfied_since_us
    }

    pub fn pending_since_us(&self) -> Option<Micros> {
        self.pending_since_us
    }

    /// The panel's view of this property.
    pub fn view(&self, id: &'static str, name: &'static str, detail: String, nodes: Vec<NodeId>) -> CheckView {
        let ms = crate::time::us_to_ms;
        CheckView {
            property: Property::Liveness,
            satisfied_since_ms: self.satisfied_since_us.map(ms),
            pending_since_ms: self.pending_since_us.map(ms),
            ..CheckView::measure(id, name, detail, nodes)
        }
    }
}

/// A bounded series sampled every `interval_us`; when full, every other sample is dropped
/// and the interval doubles, so an hour-long run keeps its whole shape in fixed memory.
#[derive(Clone, Debug)]
pub struct Sampler {
    interval_us: Micros,
    next_us: Micros,
    capacity: usize,
    t_us: Vec<Micros>,
    columns: Vec<Vec<f64>>,
}

impl Sampler {
    pub fn new(interval_us: Micros, columns: usize, capacity: usize) -> Sampler {
        assert!(interval_us > 0 && capacity >= 4, "a sampler needs an interval and room");
        Sampler {
            interval_us,
            next_us: 0,
            capacity,
            t_us: Vec::new(),
            columns: vec![Vec::new(); columns],
        }
    }

    /// Whether a sample is due at `now_us`.
    pub fn due(&self, now_us: Micros) -> bool {
        now_us >= self.next_us
    }

    /// When the next sample is due.
    pub fn next_us(&self) -> Micros {
        self.next_us
    }

    /// Records one sample (one value per column) at `now_us`.
    pub fn push(&mut self, now_us: Micros, values: &[f64]) {
        assert_eq!(values.len(), self.columns.len(), "one value per column");
        if self.t_us.len() == self.capacity {
            self.thin();
        }
        self.t_us.push(now_us);
        for (column, &v) in self.columns.iter_mut().zip(values) {
            column.push(v);
        }
        while self.next_us <= now_us {
            self.next_us += self.interval_us;
        }
    }

    fn thin(&mut self) {
        fn every_other<T>(v: &mut Vec<T>) {
            let mut i = 0;
            v.retain(|_| {
                i += 1;
                i % 2 == 1
            });
        }
        every_other(&mut self.t_us);
        self.columns.iter_mut().for_each(every_other);
        self.interval_us *= 2;
    }

    pub fn len(&self) -> usize {
        self.t_us.len()
    }

    /// Heap bytes kept by the series.
    pub fn approx_bytes(&self) -> usize {
        use crate::budget::vec_bytes;
        vec_bytes(&self.t_us) + vec_bytes(&self.columns) + self.columns.iter().map(vec_bytes).sum::<usize>()
    }

    pub fn is_empty(&self) -> bool {
        self.t_us.is_empty()
    }

    /// Column `i` as a chart series.
    pub fn series(&self, i: usize, id: &'static str, name: &'static str, unit: &'static str) -> SeriesView {
        SeriesView {
            id,
            name,
            unit,
            t_ms: self.t_us.iter().map(|&t| crate::time::us_to_ms(t)).collect(),
            values: self.columns[i].clone(),
        }
    }

    /// The latest value of column `i`.
    pub fn last(&self, i: usize) -> Option<f64> {
        self.columns[i].last().copied()
    }
}

/// How far apart the indexes of one `IndexMap` ring may lie (slots); an index farther
/// from the ring than this is kept in the map beside it.
const INDEX_SPAN_MAX: u64 = 1 << 16;

/// A map from indexes to records, for checkers' registries of log indexes: indexes near
/// one another sit in a dense ring (`VecDeque` of slots from `base`), so a lookup is a
/// subtraction and a copy for a time-travel checkpoint is one block rather than a tree of
/// nodes; an index farther than `INDEX_SPAN_MAX` from the ring waits in a `BTreeMap`
/// beside it (`far`). Behaves exactly as a `BTreeMap<u64, T>` (a test compares them).
/// Invariants: the ring's first and last slots are full; no `far` index lies within the
/// ring's span.
#[derive(Clone, Debug)]
pub struct IndexMap<T> {
    base: u64,
    ring: VecDeque<Option<T>>,
    in_ring: usize,
    far: BTreeMap<u64, T>,
}

impl<T> Default for IndexMap<T> {
    fn default() -> Self {
        IndexMap {
            base: 0,
            ring: VecDeque::new(),
            in_ring: 0,
            far: BTreeMap::new(),
        }
    }
}

impl<T: Copy> IndexMap<T> {
    /// One past the ring's last index.
    fn end(&self) -> u64 {
        self.base + self.ring.len() as u64
    }

    fn slot(&self, i: u64) -> Option<usize> {
        (i >= self.base && i < self.end()).then(|| (i - self.base) as usize)
    }

    pub fn get(&self, i: u64) -> Option<&T> {
        match self.slot(i) {
            Some(k) => self.ring[k].as_ref(),
            None => self.far.get(&i),
        }
    }

    pub fn len(&self) -> usize {
        self.in_ring + self.far.len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Sets `i` to `v`; returns what it held.
    pub fn insert(&mut self, i: u64, v: T) -> Option<T> {
        if let Some(k) = self.slot(i) {
            let old = self.ring[k].replace(v);
            self.in_ring += old.is_none() as usize;
            return old;
        }
        if let Some(held) = self.far.get_mut(&i) {
            return Some(std::mem::replace(held, v));
        }
        if self.ring.is_empty() {
            self.base = i;
        } else if i >= self.end() && i - self.base < INDEX_SPAN_MAX {
            let from = self.end();
            self.ring.resize((i - self.base) as usize, None);
            self.pull_far(from, i);
        } else if i < self.base && self.end() - i <= INDEX_SPAN_MAX {
            let to = self.base;
            for _ in i + 1..self.base {
                self.ring.push_front(None);
            }
            self.base = i + 1;
            self.pull_far(i + 1, to);
            self.ring.push_front(None);
            self.base = i;
            self.ring[0] = Some(v);
            self.in_ring += 1;
            return None;
        } else {
            return self.far.insert(i, v);
        }
        self.ring.push_back(Some(v));
        self.in_ring += 1;
        None
    }

    /// Moves the `far` records with indexes in `from..to`, now within the ring, into it.
    fn pull_far(&mut self, from: u64, to: u64) {
        if self.far.is_empty() || from >= to {
            return;
        }
        let inside: Vec<u64> = self.far.range(from..to).map(|(&i, _)| i).collect();
        for i in inside {
            let v = self.far.remove(&i).expect("listed");
            self.ring[(i - self.base) as usize] = Some(v);
            self.in_ring += 1;
        }
    }

    pub fn remove(&mut self, i: u64) -> Option<T> {
        let Some(k) = self.slot(i) else {
            return self.far.remove(&i);
        };
        let old = self.ring[k].take();
        self.in_ring -= old.is_some() as usize;
        self.trim();
        old
    }

    /// Drops the empty slots at both ends of the ring.
    fn trim(&mut self) {
        while self.ring.back().is_some_and(Option::is_none) {
            self.ring.pop_back();
        }
        while self.ring.front().is_some_and(Option::is_none) {
            self.ring.pop_front();
            self.base += 1;
        }
    }

    /// Keeps only the indexes at or above `floor` (`BTreeMap::split_off`'s upper half).
    pub fn keep_from(&mut self, floor: u64) {
        while self.base < floor && !self.ring.is_empty() {
            let gone = self.ring.pop_front().expect("not empty");
            self.in_ring -= gone.is_some() as usize;
            self.base += 1;
        }
        self.trim();
        if !self.far.is_empty() {
            self.far = self.far.split_off(&floor);
        }
    }

    /// The records with indexes in `from..=to`, in index order.
    pub fn range(&self, from: u64, to: u64) -> impl Iterator<Item = (u64, &T)> + '_ {
        let (base, end) = (self.base, self.end());
        let ok = from <= to;
        let below = (ok.then(|| self.far.range(from..=to)).into_iter().flatten()).take_while(move |(&i, _)| i < base);
        let (lo, hi) = (from.max(base), to.saturating_add(1).min(end));
        let slots = (lo < hi).then(|| (lo - base) as usize..(hi - base) as usize);
        let ring =
            (slots.into_iter().flatten()).filter_map(move |k| self.ring[k].as_ref().map(|v| (base + k as u64, v)));
        let above = ok
            .then(|| self.far.range(from.max(end)..=to.max(end)))
            .into_iter()
            .flatten();
        let above = above.filter(move |(&i, _)| i <= to);
        (below.map(|(&i, v)| (i, v)))
            .chain(ring)
            .chain(above.map(|(&i, v)| (i, v)))
    }

    /// The lowest index held and its record.
    pub fn first(&self) -> Option<(u64, &T)> {
        let far = self.far.first_key_value().map(|(&i, v)| (i, v));
        let ring = self.ring.front().and_then(|v| v.as_ref()).map(|v| (self.base, v));
        match (far, ring) {
            (Some(f), Some(r)) => Some(if f.0 < r.0 { f } else { r }),
            (f, r) => f.or(r),
        }
    }

    /// Heap bytes kept.
    pub fn heap_bytes(&self) -> usize {
        crate::budget::deque_bytes(&self.ring) + crate::budget::map_bytes(&self.far)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn violation_tracks_time_and_count() {
        let mut v = Violation::default();
        v.update(10, false);
        assert!(v.holds());
        v.update(20, true);
        v.update(50, true);
        assert_eq!(v.since_us(), Some(20));
        assert_eq!(v.total_us(60), 40);
        v.update(70, false);
        assert_eq!(v.total_us(100), 50);
        v.update(80, true);
        assert_eq!((v.count(), v.first_us()), (2, Some(20)));
    }

    #[test]
    fn sampler_thins_instead_of_growing() {
        let mut s = Sampler::new(10, 1, 8);
        let mut t = 0;
        for i in 0..100 {
            if s.due(t) {
                s.push(t, &[i as f64]);
            }
            t += 10;
        }
        assert!(s.len() <= 8);
        let series = s.series(0, "x", "x", "");
        assert!(series.t_ms.windows(2).all(|w| w[0] < w[1]));
        assert_eq!(series.t_ms[0], 0.0);
    }

    /// `IndexMap` against a `BTreeMap` over random inserts, removes, floors, lookups and
    /// ranges, with indexes near one another and far apart (small span limits' cases too).
    #[test]
    fn index_map_behaves_as_a_btree_map() {
        let mut rng = crate::rng::Rng::stream(7, crate::rng::Stream::Faults);
        for round in 0..200u64 {
            let mut map: IndexMap<u64> = IndexMap::default();
            let mut model: BTreeMap<u64, u64> = BTreeMap::new();
            let spread = [8, 100, 3 * INDEX_SPAN_MAX][(round % 3) as usize];
            let centre = 5 * INDEX_SPAN_MAX;
            for step in 0..400u64 {
                let i = centre - spread + rng.below(2 * spread);
                match rng.below(10) {
                    0..=4 => assert_eq!(map.insert(i, step), model.insert(i, step), "insert {i}"),
                    5 | 6 => assert_eq!(map.remove(i), model.remove(&i), "remove {i}"),
                    7 if rng.below(8) == 0 => {
                        map.keep_from(i);
                        model = model.split_off(&i);
                    }
                    _ => {
                        let j = centre - spread + rng.below(2 * spread);
                        let (a, b) = (i.min(j), i.max(j));
                        let got: Vec<(u64, u64)> = map.range(a, b).map(|(k, &v)| (k, v)).collect();
                        let want: Vec<(u64, u64)> = model.range(a..=b).map(|(&k, &v)| (k, v)).collect();
                        assert_eq!(got, want, "range {a}..={b}");
                        assert_eq!(map.range(b + 1, a).count(), 0);
                    }
                }
                assert_eq!(map.get(i), model.get(&i));
                assert_eq!(map.len(), model.len());
                assert_eq!(map.first(), model.first_key_value().map(|(&k, v)| (k, v)));
                let all: Vec<(u64, u64)> = map.range(0, u64::MAX).map(|(k, &v)| (k, v)).collect();
                assert_eq!(all, model.iter().map(|(&k, &v)| (k, v)).collect::<Vec<_>>());
            }
        }
    }
}
