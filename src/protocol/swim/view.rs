//! What swim shows: the inspector's view of a node, its drawing on the canvas, where
//! nodes sit.

use super::*;
use crate::view::{Fact, Inspect, NodeRender, NodeSet, Number, PeerView, ProtocolView, RenderRole};

impl Inspect for Swim {
    fn view(&self, _now_local_us: Micros) -> ProtocolView {
        let gray = self.gray_list();
        let mut notes = self.notes.clone();
        notes.push(format!("incarnation {} (durable)", self.durable.incarnation));
        if !gray.is_empty() {
            notes.push(format!(
                "gray: {} answer pings but fail real work for several observers",
                names(&gray)
            ));
        }
        let numbers = vec![Number {
            label: "incarnation",
            value: self.durable.incarnation as u64,
        }];
        let node_sets = match self.gray {
            Some(_) => vec![NodeSet {
                label: "gray suspected",
                nodes: gray.clone(),
            }],
            None => Vec::new(),
        };
        ProtocolView {
            peers: self.peer_views(),
            notes,
            facts: self.facts(&gray),
            log: Vec::new(),
            numbers,
            node_sets,
        }
    }

    fn suspects(&self, peer: NodeId) -> bool {
        state_of(self.table[peer as usize]) != ALIVE
    }

    fn declares_failed(&self, peer: NodeId) -> bool {
        state_of(self.table[peer as usize]) == DEAD
    }

    fn render(&self) -> NodeRender {
        NodeRender {
            role: RenderRole::Member.code(),
            term: self.durable.incarnation,
            queue: self.gossip.len.min(u32::MAX as usize) as u32,
            ..NodeRender::none()
        }
    }
}

/// Nodes by name, "n2, n5".
fn names(nodes: &[NodeId]) -> String {
    nodes.iter().map(|m| format!("n{m}")).collect::<Vec<_>>().join(", ")
}

impl Swim {
    fn peer_views(&self) -> Vec<PeerView> {
        let stats = self.gray.as_ref().map(|g| &g.stats);
        (0..self.n)
            .filter(|&p| p != self.id)
            .map(|p| {
                let e = self.table[p as usize];
                let s = stats.map(|s| s[p as usize]);
                PeerView {
                    id: p,
                    state: state_name(state_of(e)),
                    since_heard_ms: None,
                    claims: Some(incarnation_of(e) as u64),
                    probes_ok: s.map(|s| s.ok as u64),
                    probes_failed: s.map(|s| s.failed as u64),
                    phi: None,
                    rtt_ms: s.filter(|s| s.ok > 0).map(|s| us_to_ms(s.lat_us as u64)),
                }
            })
            .collect()
    }

    fn facts(&self, gray: &[NodeId]) -> Vec<Fact> {
        let mut facts = vec![
            Fact::new("role", "member".into()),
            Fact::new("incarnation", self.durable.incarnation.to_string()),
            Fact::new(
                "alive / suspect / dead",
                format!("{} / {} / {}", self.counts[0], self.counts[1], self.counts[2]),
            ),
            Fact::new("pending gossip", self.gossip.len.to_string()),
            Fact::new("refutations", self.refutations.to_string()),
        ];
        if let Some(p) = self.probe {
            facts.push(Fact::new(
                "probing",
                format!("n{}{}", p.target, if p.acked { " (acked)" } else { "" }),
            ));
        }
        if self.gray.is_some() {
            let value = if gray.is_empty() {
                "none".to_string()
            } else {
                names(gray)
            };
            facts.push(Fact::new("gray suspected", value));
        }
        facts
    }
}
