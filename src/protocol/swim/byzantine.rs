//! How a Byzantine swim node rewrites what it sends (see `crate::byzantine`).

use super::*;
use crate::byzantine::Byzantine;

impl Byzantine for Swim {
    fn equivocate(msg: &SwimMsg, to: NodeId) -> SwimMsg {
        msg.equivocate(to)
    }
    fn corrupt(msg: &SwimMsg, noise: u64) -> SwimMsg {
        msg.corrupt(noise)
    }
    fn lie(msg: &SwimMsg) -> SwimMsg {
        msg.lie()
    }
}

impl SwimMsg {
    fn equivocate(&self, to: NodeId) -> SwimMsg {
        // Half the members are reported dead to one peer and alive to the next.
        self.map_members(|member, e| {
            if (member ^ to) & 1 == 0 {
                entry(incarnation_of(e), DEAD)
            } else {
                e
            }
        })
    }
    fn corrupt(&self, noise: u64) -> SwimMsg {
        let mut m = self.map_members(|_, e| e ^ (noise as u32 | 1));
        match &mut m {
            SwimMsg::Ping { seq, .. } | SwimMsg::Ack { seq, .. } | SwimMsg::PingReq { seq, .. } => {
                *seq ^= (noise >> 32) as u32 | 1
            }
            SwimMsg::Work { id } | SwimMsg::WorkDone { id } => *id ^= (noise >> 32) as u32 | 1,
        }
        m
    }
    fn lie(&self) -> SwimMsg {
        // Whitewashes: every member it mentions is alive, one incarnation up.
        self.map_members(|_, e| entry(incarnation_of(e) + 1, ALIVE))
    }
}
