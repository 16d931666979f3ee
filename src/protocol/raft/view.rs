//! What raft shows: the inspector's view of a node, its drawing on the canvas, where
//! nodes sit.

use super::*;
use crate::view::{Fact, Inspect, LogCell, NodeRender, PeerView, ProtocolView, RenderRole, LOG_VIEW_MAX, NO_VALUE};

impl Inspect for Raft {
    fn view(&self, now_local_us: Micros) -> ProtocolView {
        match self {
            Raft::Server(s) => s.view(now_local_us),
            Raft::Client(c) => c.view(),
        }
    }

    fn suspects(&self, peer: NodeId) -> bool {
        self.server()
            .is_some_and(|s| s.naive() && peer < s.config.servers && peer != s.id && s.heard[peer as usize].is_none())
    }

    fn render(&self) -> NodeRender {
        match self {
            Raft::Server(s) => {
                let role = match s.role {
                    Role::Follower => RenderRole::Follower,
                    Role::Candidate => RenderRole::Candidate,
                    Role::Leader => RenderRole::Leader,
                };
                NodeRender {
                    role: role.code(),
                    term: s.d.term.min(u32::MAX as u64) as u32,
                    log_len: s.last_index().min(u32::MAX as u64) as u32,
                    commit: s.commit.min(u32::MAX as u64) as u32,
                    ..NodeRender::none()
                }
            }
            Raft::Client(_) => NodeRender {
                role: RenderRole::Client.code(),
                value: NO_VALUE,
                ..NodeRender::none()
            },
        }
    }

    fn layout(config: &RaftConfig, nodes: u32) -> Vec<f32> {
        // Servers on a circle in the upper part; clients in a row beneath them.
        crate::view::ring_over_row(config.servers, nodes)
    }
}

fn fact(label: &'static str, value: String) -> Fact {
    Fact { label, value }
}

/// A write id in words: "node N op K", or "none".
fn write_name(w: u64) -> String {
    if w == 0 {
        "none".to_string()
    } else {
        format!("node {} op {}", w >> 32, w & 0xFFFF_FFFF)
    }
}

impl Server {
    fn view(&self, now_local_us: Micros) -> ProtocolView {
        ProtocolView {
            peers: self.naive_peers(now_local_us),
            facts: self.facts(),
            log: self.log_cells(),
            ..ProtocolView::default()
        }
    }

    fn facts(&self) -> Vec<Fact> {
        let mut facts = Vec::new();
        let role = match self.role {
            Role::Follower => "follower",
            Role::Candidate => "candidate",
            Role::Leader => "leader",
        };
        facts.push(fact("role", role.into()));
        let election = match self.config.election {
            Election::Raft => "Raft (majority votes)",
            Election::Naive => "naive (highest id heard)",
        };
        facts.push(fact("election", election.into()));
        facts.push(fact("term", self.d.term.to_string()));
        if !self.naive() {
            facts.push(fact(
                "voted for",
                self.d.voted_for.map_or("nobody".into(), |v| v.to_string()),
            ));
        }
        facts.push(fact("leader", self.leader.map_or("unknown".into(), |l| l.to_string())));
        if self.role == Role::Candidate {
            facts.push(fact(
                "votes",
                format!("{} of {} needed", self.votes.count_ones(), self.majority()),
            ));
        }
        facts.push(fact("last index", self.last_index().to_string()));
        facts.push(fact("committed", self.commit.to_string()));
        facts.push(fact("applied", self.applied.to_string()));
        if self.d.snap_index > 0 {
            facts.push(fact(
                "snapshot",
                format!("up to {} (term {})", self.d.snap_index, self.d.snap_term),
            ));
        }
        facts.push(fact("register", write_name(self.value)));
        if self.role == Role::Leader && !self.naive() {
            let progress: Vec<String> = (0..self.config.servers)
                .filter(|&s| s != self.id)
                .map(|s| format!("{s}:{}", self.matched[s as usize]))
                .collect();
            facts.push(fact("followers' match", progress.join(" ")));
            facts.push(fact("writes awaiting commit", self.waiting.len().to_string()));
        }
        facts
    }

    /// The newest entries of the log (at most `LOG_VIEW_MAX`).
    fn log_cells(&self) -> Vec<LogCell> {
        let from = self
            .last_index()
            .saturating_sub(LOG_VIEW_MAX as u64)
            .max(self.d.snap_index)
            + 1;
        (from..=self.last_index())
            .map(|i| {
                let e = self.entry(i).expect("within the log");
                let text = if e.write == 0 {
                    "no-op".into()
                } else {
                    format!("{}.{}", e.write >> 32, e.write & 0xFFFF_FFFF)
                };
                LogCell {
                    index: i,
                    term: e.term,
                    committed: i <= self.commit,
                    text,
                }
            })
            .collect()
    }

    /// The naive election's view of the other servers: alive while heard from within
    /// `election_min`. None under Raft.
    fn naive_peers(&self, now_local_us: Micros) -> Vec<PeerView> {
        if !self.naive() {
            return Vec::new();
        }
        (0..self.config.servers)
            .filter(|&s| s != self.id)
            .map(|s| {
                let heard = self.heard[s as usize];
                let alive = heard.is_some_and(|t| now_local_us < t + self.config.election_min_us);
                PeerView {
                    id: s,
                    state: if alive { "alive" } else { "suspected" },
                    since_heard_ms: heard.map(|t| us_to_ms(now_local_us.saturating_sub(t))),
                    claims: None,
                    probes_ok: None,
                    probes_failed: None,
                    phi: None,
                    rtt_ms: None,
                }
            })
            .collect()
    }
}

impl Client {
    fn view(&self) -> ProtocolView {
        let r = &self.requests;
        let pending = r.in_flight().map_or("none".into(), |a| {
            format!("{} (try {})", write_name(a.what.write), a.tries + 1)
        });
        let facts = vec![
            fact("role", "client".into()),
            fact("sends to", format!("server {}", r.target)),
            fact("write in flight", pending),
            fact("acknowledged", r.ok.to_string()),
            fact("redirected", r.redirects.to_string()),
            fact("timed out", r.timeouts.to_string()),
            fact("gave up", r.gave_up.to_string()),
        ];
        ProtocolView {
            facts,
            ..ProtocolView::default()
        }
    }
}
