//! How a Byzantine register node rewrites what it sends (see `crate::byzantine`).

use super::*;
use crate::byzantine::Byzantine;

impl Byzantine for Register {
    fn equivocate(msg: &RegisterMsg, to: NodeId) -> RegisterMsg {
        msg.equivocate(to)
    }
    fn corrupt(msg: &RegisterMsg, noise: u64) -> RegisterMsg {
        msg.corrupt(noise)
    }
    fn lie(msg: &RegisterMsg) -> RegisterMsg {
        msg.lie()
    }
}

impl RegisterMsg {
    fn equivocate(&self, to: NodeId) -> RegisterMsg {
        match *self {
            RegisterMsg::Gossip { mut cell } => {
                cell.value = cell.value.wrapping_add(to);
                RegisterMsg::Gossip { cell }
            }
            other => other,
        }
    }
    fn corrupt(&self, noise: u64) -> RegisterMsg {
        let flip = |mut c: Cell| {
            c.value ^= 1 << (noise % 8);
            c
        };
        match *self {
            RegisterMsg::Gossip { cell } => RegisterMsg::Gossip { cell: flip(cell) },
            RegisterMsg::Store { op, cell } => RegisterMsg::Store { op, cell: flip(cell) },
            RegisterMsg::QueryReply { op, cell } => RegisterMsg::QueryReply { op, cell: flip(cell) },
            other => other,
        }
    }
    fn lie(&self) -> RegisterMsg {
        match *self {
            // Claims its value is newer than anything: it wins every comparison.
            RegisterMsg::Gossip { mut cell } => {
                cell.version.0 = cell.version.0.saturating_add(1 << 40);
                RegisterMsg::Gossip { cell }
            }
            other => other,
        }
    }
}
