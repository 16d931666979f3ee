//! How a Byzantine heartbeat node rewrites what it sends (see `crate::byzantine`).

use super::*;
use crate::byzantine::Byzantine;

impl Byzantine for Heartbeat {
    fn equivocate(msg: &HeartbeatMsg, to: NodeId) -> HeartbeatMsg {
        msg.equivocate(to)
    }
    fn corrupt(msg: &HeartbeatMsg, noise: u64) -> HeartbeatMsg {
        msg.corrupt(noise)
    }
    fn lie(msg: &HeartbeatMsg) -> HeartbeatMsg {
        msg.lie()
    }
}

impl HeartbeatMsg {
    fn equivocate(&self, to: NodeId) -> HeartbeatMsg {
        match *self {
            // Each peer is told a different boot count.
            HeartbeatMsg::Beat { boots } => HeartbeatMsg::Beat {
                boots: boots.wrapping_add(1 + to),
            },
            other => other,
        }
    }
    fn corrupt(&self, noise: u64) -> HeartbeatMsg {
        match *self {
            HeartbeatMsg::Beat { boots } => HeartbeatMsg::Beat {
                boots: boots ^ (noise as u32 | 1),
            },
            HeartbeatMsg::Probe { id } => HeartbeatMsg::Probe {
                id: id ^ (noise as u32 | 1),
            },
            HeartbeatMsg::Answer { id } => HeartbeatMsg::Answer {
                id: id ^ (noise as u32 | 1),
            },
        }
    }
    fn lie(&self) -> HeartbeatMsg {
        match *self {
            // Claims never to have restarted.
            HeartbeatMsg::Beat { .. } => HeartbeatMsg::Beat { boots: 1 },
            other => other,
        }
    }
}
