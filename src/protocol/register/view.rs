//! What register shows: the inspector's view of a node, its drawing on the canvas, where
//! nodes sit.

use super::*;
use crate::view::{Fact, Inspect, NodeRender, ProtocolView, RenderRole, NO_VALUE};

impl Inspect for Register {
    fn view(&self, _now_local_us: Micros) -> ProtocolView {
        let facts = match self {
            Register::Replica(r) => r.facts(),
            Register::Client(c) => c.facts(),
        };
        ProtocolView {
            facts,
            ..ProtocolView::default()
        }
    }

    fn render(&self) -> NodeRender {
        match self {
            Register::Replica(r) => {
                let c = r.durable.cell;
                NodeRender {
                    role: RenderRole::Register.code(),
                    term: c.version.0.min(u32::MAX as u64) as u32,
                    value: c.value as f64,
                    queue: r.coordinating.len() as u32,
                    ..NodeRender::none()
                }
            }
            Register::Client(c) => NodeRender {
                role: RenderRole::Client.code(),
                value: c.last_seen.map_or(NO_VALUE, |v| v as f64),
                ..NodeRender::none()
            },
        }
    }

    fn layout(config: &RegisterConfig, nodes: u32) -> Vec<f32> {
        // Replicas on an inner circle; each client outside, beside its home replica.
        let r = config.replicas;
        let angle = |i: f32| -core::f32::consts::FRAC_PI_2 + 2.0 * core::f32::consts::PI * i / r as f32;
        let mut xy = Vec::with_capacity(2 * nodes as usize);
        for i in 0..r {
            let a = angle(i as f32);
            xy.push(0.45 * libm::cosf(a));
            xy.push(0.45 * libm::sinf(a));
        }
        let clients = nodes - r;
        let rounds = clients.div_ceil(r);
        for c in 0..clients {
            let (home, round) = (c % r, c / r);
            // Clients sharing a home fan out across its sector.
            let spread = 0.8 / r as f32;
            let offset = if rounds == 1 {
                0.0
            } else {
                spread * (round as f32 / (rounds - 1) as f32 - 0.5)
            };
            let a = angle(home as f32) + offset * core::f32::consts::PI;
            xy.push(0.88 * libm::cosf(a));
            xy.push(0.88 * libm::sinf(a));
        }
        xy
    }
}

fn fact(label: &'static str, value: String) -> Fact {
    Fact { label, value }
}

impl Replica {
    fn facts(&self) -> Vec<Fact> {
        let mode = match self.config.mode {
            Mode::Cp => "CP (majority quorums)",
            Mode::Ap => "AP (last write wins)",
        };
        let c = self.durable.cell;
        let version = match self.config.mode {
            Mode::Cp => format!("{} (by replica {})", c.version.0, c.version.1),
            Mode::Ap => format!("stamped {:.1} ms by replica {}", us_to_ms(c.version.0), c.version.1),
        };
        let writer = if c.write == 0 {
            "initial".into()
        } else {
            format!("node {} op {}", c.write >> 32, c.write & 0xFFFF_FFFF)
        };
        let mut facts = vec![
            fact("role", "replica".into()),
            fact("mode", mode.into()),
            fact("value", c.value.to_string()),
            fact("version", version),
            fact("written by", writer),
        ];
        if self.config.mode == Mode::Cp {
            facts.push(fact("coordinating", self.coordinating.len().to_string()));
        }
        facts
    }
}

impl Client {
    fn facts(&self) -> Vec<Fact> {
        let home = self.client_index() % self.config.replicas;
        let last = self.last_seen.map_or("none".into(), |v| v.to_string());
        vec![
            fact("role", "client".into()),
            fact("home replica", home.to_string()),
            fact("answered", self.requests.ok.to_string()),
            fact("refused", self.refused.to_string()),
            fact("timed out", self.requests.timeouts.to_string()),
            fact("last value seen", last),
        ]
    }
}
