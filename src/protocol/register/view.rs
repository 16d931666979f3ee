//! What register shows: the inspector's view of a node, its drawing on the canvas, where
//! nodes sit.

use super::*;
use crate::view::{Fact, Inspect, NodeRender, ProtocolView, RenderRole, NO_VALUE};

impl Inspect for Register {
    fn view(&self, _now_local_us: Micros) -> ProtocolView {
        let fact = |label, value: String| Fact { label, value };
        let mode = match self.config.mode {
            Mode::Cp => "CP (majority quorums)",
            Mode::Ap => "AP (last write wins)",
        };
        let mut facts = Vec::new();
        if self.is_replica() {
            let c = self.durable.cell;
            facts.push(fact("role", "replica".into()));
            facts.push(fact("mode", mode.into()));
            facts.push(fact("value", c.value.to_string()));
            let version = match self.config.mode {
                Mode::Cp => format!("{} (by replica {})", c.version.0, c.version.1),
                Mode::Ap => format!("stamped {:.1} ms by replica {}", us_to_ms(c.version.0), c.version.1),
            };
            facts.push(fact("version", version));
            let writer = if c.write == 0 {
                "initial".into()
            } else {
                format!("node {} op {}", c.write >> 32, c.write & 0xFFFF_FFFF)
            };
            facts.push(fact("written by", writer));
            if self.config.mode == Mode::Cp {
                facts.push(fact("coordinating", self.coordinating.len().to_string()));
            }
        } else {
            let home = self.client_index() % self.config.replicas;
            facts.push(fact("role", "client".into()));
            facts.push(fact("home replica", home.to_string()));
            facts.push(fact("answered", self.requests.ok.to_string()));
            facts.push(fact("refused", self.refused.to_string()));
            facts.push(fact("timed out", self.requests.timeouts.to_string()));
            let last = self.last_seen.map_or("none".into(), |v| v.to_string());
            facts.push(fact("last value seen", last));
        }
        ProtocolView {
            facts,
            ..ProtocolView::default()
        }
    }

    fn render(&self) -> NodeRender {
        if self.is_replica() {
            let c = self.durable.cell;
            NodeRender {
                role: RenderRole::Register.code(),
                term: c.version.0.min(u32::MAX as u64) as u32,
                value: c.value as f64,
                queue: self.coordinating.len() as u32,
                ..NodeRender::none()
            }
        } else {
            NodeRender {
                role: RenderRole::Client.code(),
                value: self.last_seen.map_or(NO_VALUE, |v| v as f64),
                ..NodeRender::none()
            }
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
