//! What heartbeat shows: the inspector's view of a node, its drawing on the canvas, where
//! nodes sit.

use super::*;
use crate::view::{Inspect, PeerView, ProtocolView};

impl Inspect for Heartbeat {
    fn view(&self, now_local_us: Micros) -> ProtocolView {
        let probes = self.probes.as_ref();
        let peers = (self.peers.iter().enumerate())
            .filter(|&(p, _)| p as NodeId != self.id)
            .map(|(p, s)| PeerView {
                id: p as NodeId,
                state: if s.suspected() { "suspected" } else { "alive" },
                since_heard_ms: s
                    .heard_ever()
                    .then(|| us_to_ms(now_local_us.saturating_sub(s.last_heard_us()))),
                claims: s.heard_ever().then_some(self.claims[p] as u64),
                phi: self.phi_of(p, now_local_us.saturating_sub(s.last_heard_us())),
                probes_ok: probes.map(|pr| pr.ok[p]),
                probes_failed: probes.map(|pr| pr.failed[p]),
                rtt_ms: probes.and_then(|pr| pr.rtt_us[p]).map(us_to_ms),
            })
            .collect();
        let mut notes = self.notes.clone();
        notes.push(format!("boot count {} (durable)", self.durable.boots));
        ProtocolView {
            peers,
            notes,
            ..ProtocolView::default()
        }
    }

    fn suspects(&self, peer: NodeId) -> bool {
        self.peers[peer as usize].suspected()
    }

    fn add_suspicions(&self, counts: &mut [u32]) {
        debug_assert_eq!(
            self.suspecting as usize,
            self.peers.iter().filter(|s| s.suspected()).count()
        );
        if self.suspecting == 0 {
            return;
        }
        for (count, state) in counts.iter_mut().zip(&self.peers) {
            *count += state.suspected() as u32;
        }
    }
}
