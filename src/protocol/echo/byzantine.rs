//! How a Byzantine echo node rewrites what it sends (see `crate::byzantine`): it echoes
//! sequence numbers that were never asked for.

use super::*;
use crate::byzantine::Byzantine;

impl Byzantine for Echo {
    fn equivocate(msg: &EchoMsg, to: NodeId) -> EchoMsg {
        match *msg {
            EchoMsg::Echo { seq } => EchoMsg::Echo {
                seq: seq.wrapping_add(1 + to),
            },
            ping => ping,
        }
    }
    fn corrupt(msg: &EchoMsg, noise: u64) -> EchoMsg {
        match *msg {
            EchoMsg::Ping { seq } => EchoMsg::Ping {
                seq: seq ^ (noise as u32 | 1),
            },
            EchoMsg::Echo { seq } => EchoMsg::Echo {
                seq: seq ^ (noise as u32 | 1),
            },
        }
    }
    fn lie(msg: &EchoMsg) -> EchoMsg {
        *msg
    }
}
