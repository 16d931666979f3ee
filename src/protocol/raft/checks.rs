//! The checkers of leader election and replication (`protocol::raft`), Raft's safety
//! properties after Ongaro and Ousterhout, plus what a user sees go wrong.
//!
//! - `election_safety`: at most one leader per term (from `BecameLeader` facts).
//! - `split_brain`: at most one server believes it leads at any moment (crashed servers do
//!   not count; paused ones do, since they wake still believing). The total time is the
//!   summary's `split brain: N ms`.
//! - `log_matching`: two entries with the same index and term hold the same write and
//!   follow entries of the same term (checked on every append against a registry).
//! - `state_machine_safety`: no two servers apply different writes at one index.
//! - `leader_completeness`: a new leader's log holds every entry committed in an earlier
//!   term (a leader of term T may lack what a later term's leader committed while it was
//!   paused between its votes and its victory).
//! - `acked_writes_lost`: an acknowledged write is never undone on a server that applied it.
//! - `linearizable` (with the `kv` workload only): the clients' gets, puts and cases,
//!   recorded as a `history::History` (per key), have a linearization; checked every
//!   simulated second within a step budget, like the register's.
//! - `leader_elected` (liveness): eventually some server leads; satisfied while one does,
//!   pending since the last leader went (or since the start).
//!
//! Memory is bounded: registries keep the last `WINDOW` indexes behind the highest one
//! applied, terms the last `TERMS_KEPT`; older history is not re-checked.

use std::collections::BTreeMap;

use super::*;
use crate::checks::{
    linearizable_figure, linearizable_view, CheckView, Checked, Checks, Eventually, Figure, IndexMap, Sampler,
    SeriesView, Violation, WorldView,
};
use crate::history::record::Linearizability;
use crate::history::{History, Op, Outcome};
use crate::time::{us_to_ms, Micros};
use kv::Cmd;

/// Indexes of history the registries keep behind the highest index applied.
const WINDOW: u64 = 4_096;
/// Terms whose leaders are remembered.
const TERMS_KEPT: usize = 1_024;
/// How often the series are sampled, and how many samples are kept.
const SAMPLE_US: Micros = 100_000;
const SAMPLES_MAX: usize = 600;
/// Records a client's key-value operation in the history (`kv` workload).
fn record(l: &mut Linearizability, now_us: Micros, node: NodeId, obs: &RaftObs) {
    let client = node as u64;
    match *obs {
        RaftObs::Invoke { cmd } => {
            let Some(cmd) = Cmd::decode(cmd) else { return };
            let v = |x: u32| Some(x as i64);
            let op = match cmd {
                Cmd::Get { .. } => Op::Read(None),
                Cmd::Put { value, .. } => Op::Write(v(value)),
                Cmd::Cas { old, new, .. } => Op::Cas(v(old), v(new)),
            };
            l.start(now_us, client, cmd.key() as u64, op);
        }
        RaftObs::Done { ok, value } => {
            let outcome = if ok { Outcome::Ok } else { Outcome::Fail };
            l.finish(now_us, client, outcome, Some(value as i64));
        }
        RaftObs::GaveUp => l.finish(now_us, client, Outcome::Unknown, None),
        _ => {}
    }
}

/// What the `linearizable` check says, in the panel.
const LINEARIZABLE: &str =
    "Every get, put and cas appears to take effect at one instant between its call and its return (linearizable)";

/// What the checker remembers of one violation, for the panel.
#[derive(Clone, Debug, Default)]
struct Witness {
    detail: String,
    nodes: Vec<NodeId>,
}

impl Witness {
    /// The panel's detail and nodes: this witness once `v` was violated, else `fine`.
    fn or(&self, v: &Violation, fine: String) -> (String, Vec<NodeId>) {
        if v.count() > 0 {
            (self.detail.clone(), self.nodes.clone())
        } else {
            (fine, Vec::new())
        }
    }
}

#[derive(Clone, Debug)]
pub struct RaftChecks {
    servers: u32,
    // election safety
    leaders_by_term: BTreeMap<u64, NodeId>,
    elections: u64,
    election: Violation,
    election_witness: Witness,
    // split brain
    split: Violation,
    /// The servers that lead, by id, with their terms; `leading`: each server's term
    /// while it leads, as last seen.
    leaders_now: Vec<(NodeId, u64)>,
    leading: Vec<Option<u64>>,
    // log matching: (index, term) -> (write, previous entry's term); one term per index
    // is the rule, so the first term seen at an index sits in `entries` (the index's
    // (term, write, previous term)) and any other in `other_terms`
    entries: IndexMap<(u64, u64, u64)>,
    other_terms: BTreeMap<(u64, u64), (u64, u64)>,
    matching: Violation,
    matching_witness: Witness,
    // state machine safety: index -> the entry first applied there
    applied: IndexMap<Entry>,
    max_applied: u64,
    sms: Violation,
    sms_witness: Witness,
    // leader completeness: leaders elected in this event, checked after it, and the
    // highest index committed in each term
    new_leaders: Vec<NodeId>,
    committed_by_term: BTreeMap<u64, u64>,
    completeness: Violation,
    completeness_witness: Witness,
    // acknowledged writes: index -> write
    acked: IndexMap<u64>,
    acked_count: u64,
    lost: Violation,
    lost_count: u64,
    lost_witness: Witness,
    redirected: u64,
    gave_up: u64,
    sampler: Sampler,
    // liveness: some server leads
    leader: Eventually,
    /// With the `kv` workload: the clients' history.
    linearizability: Option<Linearizability>,
}

impl RaftChecks {
    /// Who believes they lead, and the split brain so far.
    fn split_detail(&self, now_us: Micros) -> String {
        let who = match self.leaders_now.as_slice() {
            [] => "no leader right now".to_string(),
            [(n, t)] => format!("one leader: node {n}, term {t}"),
            many => {
                let who: Vec<String> = many.iter().map(|(n, t)| format!("node {n} (term {t})")).collect();
                format!("{} believe they lead: {}", many.len(), who.join(", "))
            }
        };
        let so_far = us_to_ms(self.split.total_us(now_us)).round();
        format!("{who}; split brain so far {so_far} ms")
    }

    /// The liveness property: who leads now, or how long there has been no leader.
    fn leader_view(&self, now_us: Micros) -> CheckView {
        let detail = match (self.leaders_now.first(), self.leader.pending_since_us()) {
            (Some(&(node, term)), _) => format!("node {node} leads term {term}"),
            (None, Some(since)) => format!("no leader for {} ms", us_to_ms(now_us.saturating_sub(since)).round()),
            (None, None) => "no leader".to_string(),
        };
        let leaders = self.leaders_now.iter().map(|&(n, _)| n).collect();
        self.leader
            .view("leader_elected", "Eventually a server leads", detail, leaders)
    }

    fn prune(&mut self) {
        let floor = self.max_applied.saturating_sub(WINDOW);
        if self.applied.len() as u64 > 2 * WINDOW {
            self.applied.keep_from(floor);
            self.entries.keep_from(floor);
            self.other_terms = self.other_terms.split_off(&(floor, 0));
            self.acked.keep_from(floor);
        }
        while self.leaders_by_term.len() > TERMS_KEPT {
            self.leaders_by_term.pop_first();
        }
        while self.committed_by_term.len() > TERMS_KEPT {
            self.committed_by_term.pop_first();
        }
    }

    /// Leader completeness for the leaders elected in this event.
    #[cold]
    #[inline(never)]
    fn check_new_leaders(&mut self, now_us: Micros, servers: &[Option<Raft>]) {
        let leaders = std::mem::take(&mut self.new_leaders);
        for &l in &leaders {
            if let Some(p) = servers[l as usize].as_ref().and_then(Raft::server) {
                self.check_completeness(now_us, l, p);
            }
        }
        self.new_leaders = leaders;
        self.new_leaders.clear();
    }

    /// Records in `leaders_now` whether `node` leads now (and which term).
    fn set_leads(&mut self, node: NodeId, leads: Option<(NodeId, u64)>) {
        let at = self.leaders_now.binary_search_by_key(&node, |&(n, _)| n);
        match (at, leads) {
            (Ok(k), Some(l)) => self.leaders_now[k] = l,
            (Ok(k), None) => {
                self.leaders_now.remove(k);
            }
            (Err(k), Some(l)) => self.leaders_now.insert(k, l),
            (Err(_), None) => {}
        }
    }

    /// The (write, previous entry's term) registered for the entry at `index` of `term`.
    fn entry_at(&self, index: u64, term: u64) -> Option<(u64, u64)> {
        match self.entries.get(index) {
            Some(&(t, write, prev)) if t == term => Some((write, prev)),
            Some(_) => self.other_terms.get(&(index, term)).copied(),
            None => None,
        }
    }

    /// Registers the entry at `index` of `term` (not registered yet).
    fn record_entry(&mut self, index: u64, term: u64, (write, prev): (u64, u64)) {
        if self.entries.get(index).is_none() {
            self.entries.insert(index, (term, write, prev));
        } else {
            self.other_terms.insert((index, term), (write, prev));
        }
    }

    /// Total time more than one server believed it led, up to `now_us`.
    pub fn split_brain_us(&self, now_us: Micros) -> Micros {
        self.split.total_us(now_us)
    }

    pub fn lost(&self) -> u64 {
        self.lost_count
    }

    pub fn acked(&self) -> u64 {
        self.acked_count
    }

    /// Election safety: `node` leads `term`; did another lead it before?
    fn became_leader(&mut self, now_us: Micros, node: NodeId, term: u64) {
        self.elections += 1;
        match self.leaders_by_term.get(&term) {
            Some(&other) if other != node => {
                self.election_witness = Witness {
                    detail: format!("nodes {other} and {node} both led term {term}"),
                    nodes: vec![other, node],
                };
                self.election.latch(now_us);
            }
            Some(_) => {}
            None => {
                self.leaders_by_term.insert(term, node);
            }
        }
        self.new_leaders.push(node);
    }

    fn check_completeness(&mut self, now_us: Micros, leader: NodeId, p: &Server) {
        let term = p.d.term;
        let required = (self.committed_by_term.range(..term))
            .map(|(_, &i)| i)
            .max()
            .unwrap_or(0);
        let Some((low, _)) = self.applied.first() else {
            return;
        };
        let from = low.max(p.first_index());
        let mut missing = None;
        if p.last_index() < required {
            missing = Some(p.last_index() + 1);
        } else if from <= required {
            for (i, e) in self.applied.range(from, required) {
                if p.entry(i) != Some(*e) {
                    missing = Some(i);
                    break;
                }
            }
        }
        if let Some(i) = missing {
            self.completeness_witness = Witness {
                detail: format!("node {leader} leads term {term} without entry {i}, committed in an earlier term"),
                nodes: vec![leader],
            };
            self.completeness.latch(now_us);
        }
    }
}

impl Checks<Raft> for RaftChecks {
    fn new(config: &RaftConfig, nodes: u32) -> Self {
        // Every key starts at 0.
        let linearizability = config
            .kv
            .as_ref()
            .map(|_| Linearizability::new(nodes as usize, Some(0)));
        RaftChecks {
            servers: config.servers,
            leaders_by_term: BTreeMap::new(),
            elections: 0,
            election: Violation::default(),
            election_witness: Witness::default(),
            split: Violation::default(),
            leaders_now: Vec::new(),
            leading: vec![None; config.servers as usize],
            entries: IndexMap::default(),
            other_terms: BTreeMap::new(),
            matching: Violation::default(),
            matching_witness: Witness::default(),
            applied: IndexMap::default(),
            max_applied: 0,
            sms: Violation::default(),
            sms_witness: Witness::default(),
            new_leaders: Vec::new(),
            committed_by_term: BTreeMap::new(),
            completeness: Violation::default(),
            completeness_witness: Witness::default(),
            acked: IndexMap::default(),
            acked_count: 0,
            lost: Violation::default(),
            lost_count: 0,
            lost_witness: Witness::default(),
            redirected: 0,
            gave_up: 0,
            sampler: Sampler::new(SAMPLE_US, 3, SAMPLES_MAX),
            leader: Eventually::pending_from(0),
            linearizability,
        }
    }

    fn observe(&mut self, now_us: Micros, node: NodeId, obs: &RaftObs) {
        if let Some(l) = &mut self.linearizability {
            record(l, now_us, node, obs);
        }
        match *obs {
            RaftObs::BecameLeader { term } => self.became_leader(now_us, node, term),
            RaftObs::Appended {
                index,
                entry,
                prev_term,
            } => {
                let floor = self.max_applied.saturating_sub(WINDOW);
                if index < floor {
                    return;
                }
                match self.entry_at(index, entry.term) {
                    Some((write, prev)) if write != entry.write || (prev != prev_term && index > 1) => {
                        self.matching_witness = Witness {
                            detail: format!(
                                "node {node} holds a different entry at index {index}, term {} than another server",
                                entry.term
                            ),
                            nodes: vec![node],
                        };
                        self.matching.latch(now_us);
                    }
                    Some(_) => {}
                    None => self.record_entry(index, entry.term, (entry.write, prev_term)),
                }
            }
            RaftObs::Applied { index, entry } => {
                match self.applied.get(index) {
                    Some(first) if first.write != entry.write || first.term != entry.term => {
                        self.sms_witness = Witness {
                            detail: format!(
                                "node {node} applied a different write at index {index} than another server"
                            ),
                            nodes: vec![node],
                        };
                        self.sms.latch(now_us);
                    }
                    Some(_) => {}
                    None => {
                        if index + WINDOW >= self.max_applied {
                            self.applied.insert(index, entry);
                        }
                    }
                }
                self.max_applied = self.max_applied.max(index);
                self.prune();
            }
            RaftObs::RolledBack { index, write } => {
                if self.acked.get(index) == Some(&write) {
                    self.acked.remove(index);
                    self.lost_count += 1;
                    self.lost_witness = Witness {
                        detail: format!(
                            "{} acknowledged writes undone; last: node {} op {} at index {index}, on node {node}",
                            self.lost_count,
                            write >> 32,
                            write & 0xFFFF_FFFF
                        ),
                        nodes: vec![node, (write >> 32) as NodeId],
                    };
                    self.lost.latch(now_us);
                }
            }
            RaftObs::Acked { write, index } => {
                self.acked_count += 1;
                self.acked.insert(index, write);
            }
            RaftObs::Committed { index, term } => {
                let at = self.committed_by_term.entry(term).or_default();
                *at = (*at).max(index);
            }
            RaftObs::GaveUp => self.gave_up += 1,
            RaftObs::Redirected => self.redirected += 1,
            RaftObs::Invoke { .. } | RaftObs::Done { .. } => {}
        }
    }

    fn after_event(&mut self, world: &WorldView<'_, Raft>) {
        let now = world.now_us;
        if let Some(l) = &mut self.linearizability {
            l.after_event(now);
        }
        let servers = &world.protocols[..self.servers as usize];
        if !self.new_leaders.is_empty() {
            self.check_new_leaders(now, servers);
        }
        // `leading` and `leaders_now` hold what was seen of every server: only the nodes
        // the event may have changed are looked at again.
        let mut changed = false;
        for i in world.changed.nodes(servers.len()) {
            let server = servers[i].as_ref().and_then(Raft::server);
            let term = server.filter(|p| p.role == Role::Leader).map(|p| p.d.term);
            if self.leading[i] != term {
                self.leading[i] = term;
                self.set_leads(i as NodeId, term.map(|t| (i as NodeId, t)));
                changed = true;
            }
        }
        let count = self.leaders_now.len();
        if changed {
            self.split.update(now, count > 1);
            self.leader.update(now, count > 0);
        }
        if self.sampler.due(now) {
            let row = [count as f64, self.max_applied as f64, self.lost_count as f64];
            self.sampler.push(now, &row);
        }
    }

    fn series(&self) -> Vec<SeriesView> {
        vec![
            self.sampler
                .series(0, "leaders", "Servers that believe they lead", "servers"),
            self.sampler.series(1, "applied", "Highest index applied", "entries"),
            self.sampler
                .series(2, "acked_writes_lost", "Acknowledged writes lost", "writes"),
        ]
    }

    fn report(&self, now_us: Micros) -> Vec<CheckView> {
        let leaders: Vec<NodeId> = self.leaders_now.iter().map(|&(n, _)| n).collect();
        let split_detail = self.split_detail(now_us);
        let last_term = self.leaders_by_term.last_key_value().map_or(0, |(&t, _)| t);
        let (ed, en) = self.election_witness.or(
            &self.election,
            format!("{} elections, one leader each; last term {last_term}", self.elections),
        );
        let (md, mn) = self
            .matching_witness
            .or(&self.matching, "every (index, term) pair names one write".into());
        let (sd, sn) = self.sms_witness.or(
            &self.sms,
            format!("servers agree on all {} indexes applied", self.max_applied),
        );
        let (cd, cn) = self
            .completeness_witness
            .or(&self.completeness, "every new leader held every committed entry".into());
        let (ld, ln) = self.lost_witness.or(
            &self.lost,
            format!("{} acknowledged writes, none undone", self.acked_count),
        );
        let mut views = vec![
            self.election
                .view("election_safety", "At most one leader per term", ed, en),
            self.split.view(
                "split_brain",
                "At most one server believes it leads at a time",
                split_detail,
                if self.split.holds() { Vec::new() } else { leaders },
            ),
            self.matching.view(
                "log_matching",
                "Entries with the same index and term hold the same write",
                md,
                mn,
            ),
            self.completeness.view(
                "leader_completeness",
                "A new leader's log holds every committed entry",
                cd,
                cn,
            ),
            self.sms.view(
                "state_machine_safety",
                "No two servers apply different writes at one index",
                sd,
                sn,
            ),
            self.lost
                .view("acked_writes_lost", "No acknowledged write is later undone", ld, ln),
            self.leader_view(now_us),
        ];
        views.extend(
            self.linearizability
                .as_ref()
                .map(|l| linearizable_view(l, LINEARIZABLE)),
        );
        views
    }

    fn history(&self) -> Option<&History> {
        self.linearizability.as_ref().map(|l| &l.history)
    }

    fn approx_bytes(&self) -> usize {
        use crate::budget::map_bytes;
        let history = self.linearizability.as_ref().map_or(0, Linearizability::approx_bytes);
        let registries = (self.entries.heap_bytes() + map_bytes(&self.other_terms))
            + (self.applied.heap_bytes() + self.acked.heap_bytes())
            + (map_bytes(&self.leaders_by_term) + map_bytes(&self.committed_by_term));
        std::mem::size_of_val(self) + history + registries
    }

    fn summary(&self, now_us: Micros) -> Vec<Figure> {
        let last_term = self.leaders_by_term.last_key_value().map_or(0, |(&t, _)| t);
        let count = |id, n: u64, words| Figure::new(id, n as f64, format!("{words}: {n}"));
        let split_ms = us_to_ms(self.split.total_us(now_us)).round();
        vec![
            Figure::new("split_brain_ms", split_ms, format!("split brain: {split_ms} ms")),
            Figure::new(
                "elections",
                self.elections as f64,
                format!("elections: {} (last term {last_term})", self.elections),
            ),
            count("acked_writes", self.acked_count, "acked writes"),
            count("acked_writes_lost", self.lost_count, "acked writes lost"),
            count("redirected", self.redirected, "redirected"),
            count("gave_up", self.gave_up, "gave up"),
        ]
        .into_iter()
        .chain(self.linearizability.as_ref().map(linearizable_figure))
        .collect()
    }
}

impl Checked for Raft {
    type Checks = RaftChecks;
}
