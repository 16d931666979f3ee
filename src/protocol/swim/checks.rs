//! Checkers for SWIM membership: how fast a crash is declared dead everywhere, whether a
//! live node was ever declared dead, how many live members hold a wrong view, and which
//! members most of the cluster flags gray.
//!
//! Everything is incremental. Members report each change of their view of a peer
//! (`SwimObs::Member`); the checker keeps, per observer, only the peers it holds suspect
//! or dead (a sparse map), and per peer how many live members hold it dead. Crashes are
//! not reported by protocols (a crashed node runs no handler): `after_event` sweeps a few
//! nodes per event round-robin (all of them when the cluster is small), and any node an
//! observation names is checked at once, so a crash is seen within a sweep and never
//! after a report that depends on it. A crash's time is when the sweep saw it: exact up
//! to 32 members, at most one sweep late beyond (about 25 ms of simulated time at 10,000
//! members), so detection times at scale read that much short. Invariant: a view is wrong when the member holds an
//! up peer as suspect or dead, or a crashed peer as anything but dead; `wrong[m]` counts
//! member m's wrong views and is zero for crashed members.

use std::collections::BTreeMap;

use super::*;
use crate::checks::{CheckView, Checked, Checks, Figure, Sampler, SeriesView, Violation, WorldView};
use crate::time::{us_to_ms, Micros};

/// Nodes checked per event for crashes (all of them in clusters up to `SWEEP_ALL`). Each
/// check touches another node's state: a cache miss at scale, so few per event.
const SWEEP: usize = 2;
const SWEEP_ALL: usize = 32;
/// Crash episodes kept for the report.
const EPISODES_MAX: usize = 256;
/// Most nodes listed in a check's `nodes`.
const LIST_MAX: usize = 64;

#[derive(Clone, Debug)]
struct Episode {
    node: NodeId,
    at_us: Micros,
    first_us: Option<Micros>,
    all_us: Option<Micros>,
    /// The node restarted before everyone declared it dead.
    ended: bool,
}

#[derive(Clone, Debug)]
pub struct SwimChecks {
    n: usize,
    now_us: Micros,
    up: Vec<bool>,
    live: usize,
    ever_crashed: Vec<bool>,
    /// Per observer: the peers it holds suspect or dead.
    held: Vec<BTreeMap<NodeId, u8>>,
    /// Per peer: live members holding it dead.
    dead_holders: Vec<u32>,
    wrong: Vec<u32>,
    wrong_members: usize,
    wrong_total: u64,
    episodes: Vec<Episode>,
    false_dead: Violation,
    false_deaths: u64,
    last_false: Option<(NodeId, NodeId, Micros)>,
    /// Per observer: the peers it flags gray; per peer: live members flagging it.
    gray_of: Vec<Vec<NodeId>>,
    gray_by: Vec<u32>,
    pending: Vec<(NodeId, SwimObs)>,
    sweep: usize,
    sampler: Sampler,
}

fn is_wrong(state: u8, crashed: bool) -> bool {
    if crashed {
        state != DEAD
    } else {
        state != ALIVE
    }
}

impl SwimChecks {
    fn held_state(&self, observer: usize, peer: NodeId) -> u8 {
        self.held[observer].get(&peer).copied().unwrap_or(ALIVE)
    }

    fn set_wrong(&mut self, m: usize, value: u32) {
        let old = self.wrong[m];
        self.wrong_total = self.wrong_total - old as u64 + value as u64;
        match (old > 0, value > 0) {
            (false, true) => self.wrong_members += 1,
            (true, false) => self.wrong_members -= 1,
            _ => {}
        }
        self.wrong[m] = value;
    }

    /// Node `x` stopped (crashed): it leaves as an observer, and everyone's view of it is
    /// now judged against its death.
    fn crashed(&mut self, x: usize) {
        self.up[x] = false;
        self.live -= 1;
        self.ever_crashed[x] = true;
        for (&peer, &state) in &std::mem::take(&mut self.held[x]) {
            if state == DEAD {
                self.dead_holders[peer as usize] -= 1;
            }
        }
        self.set_wrong(x, 0);
        for peer in std::mem::take(&mut self.gray_of[x]) {
            self.gray_by[peer as usize] -= 1;
        }
        for m in 0..self.n {
            if m != x && self.up[m] {
                let s = self.held_state(m, x as NodeId);
                let w = self.wrong[m] + is_wrong(s, true) as u32 - is_wrong(s, false) as u32;
                self.set_wrong(m, w);
            }
        }
        if self.episodes.len() == EPISODES_MAX {
            self.episodes.remove(0);
        }
        self.episodes.push(Episode {
            node: x as NodeId,
            at_us: self.now_us,
            first_us: None,
            all_us: None,
            ended: false,
        });
        self.check_all();
    }

    /// Node `x` booted again with a fresh, all-alive table.
    fn restarted(&mut self, x: usize) {
        self.up[x] = true;
        self.live += 1;
        for m in 0..self.n {
            if m != x && self.up[m] {
                let s = self.held_state(m, x as NodeId);
                let w = self.wrong[m] + is_wrong(s, false) as u32 - is_wrong(s, true) as u32;
                self.set_wrong(m, w);
            }
        }
        // It holds every crashed peer alive.
        self.set_wrong(x, (self.n - self.live) as u32);
        for e in self.episodes.iter_mut().filter(|e| e.node as usize == x) {
            e.ended = true;
        }
    }

    /// Marks episodes complete once every live member holds the crashed node dead.
    fn check_all(&mut self) {
        let now = self.now_us;
        for e in self.episodes.iter_mut().filter(|e| !e.ended && e.all_us.is_none()) {
            if self.live > 0 && self.dead_holders[e.node as usize] as usize >= self.live {
                e.all_us = Some(now);
            }
        }
    }

    fn fresh(&mut self, x: usize, protocols: &[Option<Swim>]) {
        if self.up[x] && protocols[x].is_none() {
            self.crashed(x);
        }
    }

    fn apply(&mut self, m: usize, obs: SwimObs, protocols: &[Option<Swim>]) {
        match obs {
            SwimObs::Booted { restarted } => {
                if restarted {
                    if self.up[m] {
                        // Crashed and rebooted between two sweeps.
                        self.crashed(m);
                    }
                    self.restarted(m);
                }
            }
            SwimObs::Member { member, state } => {
                let x = member as usize;
                self.fresh(x, protocols);
                let old = self.held_state(m, member);
                if old == state {
                    return;
                }
                if state == ALIVE {
                    self.held[m].remove(&member);
                } else {
                    self.held[m].insert(member, state);
                }
                let crashed = !self.up[x];
                let w = self.wrong[m] + is_wrong(state, crashed) as u32 - is_wrong(old, crashed) as u32;
                self.set_wrong(m, w);
                if old == DEAD {
                    self.dead_holders[x] -= 1;
                }
                if state == DEAD {
                    self.dead_holders[x] += 1;
                    if crashed {
                        let now = self.now_us;
                        if let Some(e) = self.episodes.iter_mut().rev().find(|e| e.node == member && !e.ended) {
                            e.first_us.get_or_insert(now);
                        }
                        self.check_all();
                    } else if !self.ever_crashed[x] {
                        self.false_deaths += 1;
                        self.last_false = Some((member, m as NodeId, self.now_us));
                        self.false_dead.latch(self.now_us);
                    }
                }
            }
            SwimObs::Gray { member, on } => {
                let list = &mut self.gray_of[m];
                if on && !list.contains(&member) {
                    list.push(member);
                    self.gray_by[member as usize] += 1;
                } else if let (false, Some(i)) = (on, list.iter().position(|&p| p == member)) {
                    list.swap_remove(i);
                    self.gray_by[member as usize] -= 1;
                }
            }
        }
    }

    /// Peers flagged gray by more than half of the other live members.
    fn gray_majority(&self) -> Vec<NodeId> {
        (0..self.n)
            .filter(|&x| self.gray_by[x] > 0 && 2 * self.gray_by[x] as usize > self.live.saturating_sub(1))
            .map(|x| x as NodeId)
            .collect()
    }

    fn episode_line(&self, e: &Episode) -> String {
        let ms = |t: Micros| us_to_ms(t - e.at_us);
        match (e.first_us, e.all_us) {
            (Some(f), Some(a)) => format!(
                "first/last member declared n{} dead after {:.0}/{:.0} ms",
                e.node,
                ms(f),
                ms(a)
            ),
            (Some(f), None) => format!(
                "n{} first declared dead after {:.0} ms; {} of {} live members so far{}",
                e.node,
                ms(f),
                self.dead_holders[e.node as usize],
                self.live,
                if e.ended { " (then it restarted)" } else { "" }
            ),
            (None, _) => format!(
                "n{} crashed at {:.0} ms, not declared dead yet{}",
                e.node,
                us_to_ms(e.at_us),
                if e.ended { " (then it restarted)" } else { "" }
            ),
        }
    }

    /// For tests: when every live member first held `node` dead after its last crash, in
    /// µs after the crash (None if not yet).
    pub fn detection_us(&self, node: NodeId) -> Option<(Micros, Micros)> {
        let e = self.episodes.iter().rev().find(|e| e.node == node)?;
        Some((e.first_us? - e.at_us, e.all_us? - e.at_us))
    }

    pub fn false_deaths(&self) -> u64 {
        self.false_deaths
    }

    pub fn wrong_members(&self) -> usize {
        self.wrong_members
    }
}

impl Checks<Swim> for SwimChecks {
    fn new(_config: &SwimConfig, nodes: u32) -> Self {
        let n = nodes as usize;
        SwimChecks {
            n,
            now_us: 0,
            up: vec![true; n],
            live: n,
            ever_crashed: vec![false; n],
            held: vec![BTreeMap::new(); n],
            dead_holders: vec![0; n],
            wrong: vec![0; n],
            wrong_members: 0,
            wrong_total: 0,
            episodes: Vec::new(),
            false_dead: Violation::default(),
            false_deaths: 0,
            last_false: None,
            gray_of: vec![Vec::new(); n],
            gray_by: vec![0; n],
            pending: Vec::new(),
            sweep: 0,
            sampler: Sampler::new(100_000, 3, 600),
        }
    }

    fn observe(&mut self, _now_us: Micros, node: NodeId, obs: &SwimObs) {
        self.pending.push((node, *obs));
    }

    fn after_event(&mut self, world: &WorldView<'_, Swim>) {
        self.now_us = world.now_us;
        let protocols = world.protocols;
        let sweep = if self.n <= SWEEP_ALL { self.n } else { SWEEP };
        for _ in 0..sweep {
            let x = self.sweep;
            self.sweep = (self.sweep + 1) % self.n;
            self.fresh(x, protocols);
        }
        if !self.pending.is_empty() {
            let pending = std::mem::take(&mut self.pending);
            for &(m, obs) in &pending {
                self.apply(m as usize, obs, protocols);
            }
            self.pending = pending;
            self.pending.clear();
        }
        if self.sampler.due(self.now_us) {
            let gray = self.gray_majority().len() as f64;
            self.sampler.push(
                self.now_us,
                &[self.wrong_members as f64, self.false_deaths as f64, gray],
            );
        }
    }

    fn report(&self, now_us: Micros) -> Vec<CheckView> {
        let measure = CheckView::measure;
        let open: Vec<NodeId> = (self.episodes.iter())
            .filter(|e| !e.ended && e.all_us.is_none())
            .map(|e| e.node)
            .take(LIST_MAX)
            .collect();
        let detection = match self.episodes.last() {
            Some(e) => self.episode_line(e),
            None => "no crash yet".to_string(),
        };
        let false_detail = match self.last_false {
            Some((x, by, at)) => format!(
                "{} false deaths; last: n{x} declared dead by n{by} at {:.0} ms while up",
                self.false_deaths,
                us_to_ms(at)
            ),
            None => "no live node declared dead".to_string(),
        };
        let false_nodes = self.last_false.map(|(x, _, _)| vec![x]).unwrap_or_default();
        let wrong: Vec<NodeId> = (0..self.n)
            .filter(|&m| self.wrong[m] > 0)
            .take(LIST_MAX)
            .map(|m| m as NodeId)
            .collect();
        let gray = self.gray_majority();
        let gray_detail = if gray.is_empty() {
            "no member flagged gray by most of the others".to_string()
        } else {
            let list: Vec<String> = (gray.iter())
                .map(|&x| format!("n{x} by {}/{}", self.gray_by[x as usize], self.live - 1))
                .collect();
            format!("flagged gray: {}", list.join(", "))
        };
        let _ = now_us;
        vec![
            measure(
                "dead_detected",
                "crashed members declared dead by every live member",
                detection,
                open,
            ),
            self.false_dead.view(
                "false_dead",
                "no live member is ever declared dead",
                false_detail,
                false_nodes,
            ),
            measure(
                "membership_agreement",
                "live members whose view of someone is wrong",
                format!(
                    "{} live members hold a wrong view ({} entries: an up member not alive, or a crashed one not dead)",
                    self.wrong_members, self.wrong_total
                ),
                wrong,
            ),
            measure("gray_flagged", "members flagged gray by most others", gray_detail, gray),
        ]
    }

    fn summary(&self, _now_us: Micros) -> Vec<Figure> {
        // A detection's figure: ms until every live member declared the crash dead (NaN,
        // `null` in JSON, until they all have).
        let mut lines: Vec<Figure> = (self.episodes.iter().rev().take(8).rev())
            .map(|e| {
                let all_ms = e.all_us.map_or(f64::NAN, |a| us_to_ms(a - e.at_us));
                Figure::new("detection_ms", all_ms, format!("detection: {}", self.episode_line(e)))
            })
            .collect();
        lines.push(Figure::new(
            "false_deaths",
            self.false_deaths as f64,
            format!("false deaths: {}", self.false_deaths),
        ));
        lines.push(Figure::new(
            "wrong_members",
            self.wrong_members as f64,
            format!(
                "membership: {} live members hold a wrong view ({} entries)",
                self.wrong_members, self.wrong_total
            ),
        ));
        for x in self.gray_majority() {
            let by = self.gray_by[x as usize];
            lines.push(Figure::new(
                "gray_flaggers",
                by as f64,
                format!("gray: n{x} flagged by {by}/{} live members", self.live - 1),
            ));
        }
        lines
    }

    fn series(&self) -> Vec<SeriesView> {
        vec![
            self.sampler
                .series(0, "wrong_views", "live members with a wrong view", "members"),
            self.sampler.series(1, "false_deaths", "false deaths", "deaths"),
            self.sampler
                .series(2, "gray_flagged", "members flagged gray by most", "members"),
        ]
    }
}

impl Checked for Swim {
    type Checks = SwimChecks;
}
