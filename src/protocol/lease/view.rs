//! What lease shows: the inspector's view of a node, its drawing on the canvas, where
//! nodes sit.

use super::*;
use crate::view::{Fact, Inspect, NodeRender, Number, ProtocolView, RenderRole, NO_VALUE};

impl Inspect for Lease {
    fn view(&self, now_local_us: Micros) -> ProtocolView {
        let fact = |label, value: String| Fact { label, value };
        let ms = |us: Micros| format!("{:.0} ms", us_to_ms(us));
        let mut facts = Vec::new();
        let mut numbers = Vec::new();
        // A fact that is a number: shown in words, kept as a number for tests.
        let number = |facts: &mut Vec<Fact>, numbers: &mut Vec<Number>, label, value: u64| {
            facts.push(fact(label, value.to_string()));
            numbers.push(Number { label, value });
        };
        match self {
            Lease::Server(s) => {
                facts.push(fact("role", "lock server".into()));
                match s.lease {
                    Some((holder, token, exp)) if now_local_us < exp => {
                        facts.push(fact("holder", format!("node {holder}")));
                        number(&mut facts, &mut numbers, "token", token);
                        facts.push(fact("expires in", ms(exp - now_local_us)));
                    }
                    _ => facts.push(fact("holder", "none".into())),
                }
                number(&mut facts, &mut numbers, "last token (durable)", s.last_token);
                if let Some((c, _, _)) = s.fencing {
                    facts.push(fact("fencing for", format!("node {c}")));
                }
            }
            Lease::Storage(s) => {
                facts.push(fact("role", "storage".into()));
                number(&mut facts, &mut numbers, "highest token", s.highest_token);
                facts.push(fact("fencing", if s.config.fencing { "on" } else { "off" }.into()));
                if s.config.stonith {
                    let admitted = s.admitted.map_or("nobody".into(), |c| format!("node {c}"));
                    facts.push(fact("admitted writer", admitted));
                }
                let last = s
                    .last_write
                    .map_or("none".into(), |(c, t, seq)| format!("node {c} #{seq}, token {t}"));
                facts.push(fact("last accepted write", last));
                numbers.extend(last_write_numbers(s.last_write));
                number(&mut facts, &mut numbers, "writes accepted", s.writes);
            }
            Lease::Client(c) => {
                facts.push(fact("role", "client".into()));
                match c.holding() {
                    Some((token, until)) => {
                        facts.push(fact("believes it holds", format!("token {token}")));
                        facts.push(fact("expiry (own clock)", ms(until.saturating_sub(now_local_us))));
                    }
                    None => facts.push(fact("believes it holds", "nothing".into())),
                }
                let (accepted, rejected) = c.writes();
                number(&mut facts, &mut numbers, "writes accepted", accepted);
                number(&mut facts, &mut numbers, "writes rejected", rejected);
            }
        }
        ProtocolView {
            facts,
            numbers,
            ..ProtocolView::default()
        }
    }

    fn render(&self) -> NodeRender {
        let (role, token) = match self {
            Lease::Server(s) => (RenderRole::LockServer, s.lease.map(|(_, t, _)| t)),
            Lease::Storage(s) => (RenderRole::Storage, Some(s.highest_token).filter(|&t| t > 0)),
            Lease::Client(c) => (RenderRole::Client, c.believes()),
        };
        NodeRender {
            role: role.code(),
            term: token.unwrap_or(0) as u32,
            value: token.map_or(NO_VALUE, |t| t as f64),
            ..NodeRender::none()
        }
    }

    fn layout(_config: &LeaseConfig, nodes: u32) -> Vec<f32> {
        // Server top left, storage top right, clients on an arc below.
        let mut xy = vec![-0.6, -0.6, 0.6, -0.6];
        let clients = nodes - 2;
        for i in 0..clients {
            let f = if clients == 1 {
                0.5
            } else {
                i as f32 / (clients - 1) as f32
            };
            let angle = std::f32::consts::PI * (0.15 + 0.7 * f);
            xy.push(-0.8 * libm::cosf(angle));
            xy.push(0.1 + 0.6 * libm::sinf(angle));
        }
        xy
    }
}

/// The storage's last accepted write as numbers: its writer, sequence number and token.
fn last_write_numbers(last_write: Option<(NodeId, u64, u32)>) -> Vec<Number> {
    let Some((c, t, seq)) = last_write else {
        return Vec::new();
    };
    let number = |label, value| Number { label, value };
    vec![
        number("last accepted writer", c as u64),
        number("last accepted seq", seq as u64),
        number("last accepted token", t),
    ]
}
