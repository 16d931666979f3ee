//! What a store replica shows: its clocks beside its physical clock (the clock overlay:
//! the canvas prints its Lamport clock, the inspector every clock) and its versions.

use super::*;
use crate::time::us_to_ms;
use crate::view::{Fact, Inspect, NodeRender, ProtocolView, RenderRole};

impl Inspect for Kv {
    fn view(&self, now_local_us: Micros) -> ProtocolView {
        let fact = |label, value: String| Fact { label, value };
        let mode = match self.config.timestamps {
            Timestamps::Physical => "last write wins by wall clock",
            Timestamps::Hlc => "last write wins by hybrid logical clock",
            Timestamps::Vector => "vector clocks; concurrent writes kept as siblings",
        };
        let mut facts = vec![
            fact("conflicts", mode.into()),
            fact("physical clock", format!("{:.3} ms", us_to_ms(now_local_us))),
            fact("Lamport clock", self.d.lamport.to_string()),
            fact("HLC", format!("{:.3} ms + {}", us_to_ms(self.d.hlc.l), self.d.hlc.c)),
            fact(
                "vector clock",
                format!(
                    "[{}]",
                    self.d.vc.0.iter().map(u32::to_string).collect::<Vec<_>>().join(", ")
                ),
            ),
            fact("writes made", self.d.writes.to_string()),
        ];
        for (key, versions) in self.d.store.iter().enumerate() {
            let text = versions.iter().map(describe).collect::<Vec<_>>().join(" | ");
            facts.push(fact(
                KEY_LABELS[key.min(KEY_LABELS.len() - 1)],
                if text.is_empty() { "empty".into() } else { text },
            ));
        }
        let notes = (self.d.store.iter().enumerate())
            .filter(|(_, v)| v.len() > 1)
            .map(|(k, v)| {
                format!(
                    "key {k}: {} concurrent versions (a conflict for the application to settle)",
                    v.len()
                )
            })
            .collect();
        ProtocolView {
            facts,
            notes,
            ..ProtocolView::default()
        }
    }

    fn render(&self) -> NodeRender {
        NodeRender {
            role: RenderRole::Replica.code(),
            value: self.d.lamport as f64,
            ..NodeRender::none()
        }
    }
}

const KEY_LABELS: [&str; 4] = ["key 0", "key 1", "key 2", "key …"];

fn describe(v: &Version) -> String {
    format!(
        "n{}#{} (wall {:.1} ms, HLC {:.1}+{})",
        v.id.node,
        v.id.seq,
        us_to_ms(v.physical_us),
        us_to_ms(v.hlc.l),
        v.hlc.c
    )
}
