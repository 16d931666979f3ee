//! What an echo node shows: its ring neighbour, answers counted and the last round trip.

use super::*;
use crate::time::us_to_ms;
use crate::view::{Fact, Inspect, ProtocolView};

impl Inspect for Echo {
    fn view(&self, _now_local_us: Micros) -> ProtocolView {
        let fact = |label, value: String| Fact { label, value };
        let rtt = self
            .last_rtt_us
            .map_or("none yet".to_string(), |us| format!("{} ms", us_to_ms(us)));
        ProtocolView {
            facts: vec![
                fact("pings", format!("n{}", self.peer)),
                fact("answered", self.answered.to_string()),
                fact("last round trip", rtt),
                fact("boots", self.durable.boots.to_string()),
            ],
            ..ProtocolView::default()
        }
    }
}
