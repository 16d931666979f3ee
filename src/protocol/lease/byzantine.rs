//! How a Byzantine lease node rewrites what it sends (see `crate::byzantine`).

use super::*;
use crate::byzantine::Byzantine;

impl Byzantine for Lease {
    fn equivocate(msg: &LeaseMsg, to: NodeId) -> LeaseMsg {
        msg.equivocate(to)
    }
    fn corrupt(msg: &LeaseMsg, noise: u64) -> LeaseMsg {
        msg.corrupt(noise)
    }
    fn lie(msg: &LeaseMsg) -> LeaseMsg {
        msg.lie()
    }
}

impl LeaseMsg {
    fn equivocate(&self, to: NodeId) -> LeaseMsg {
        match *self {
            LeaseMsg::Grant { token, at } => LeaseMsg::Grant {
                token: token.wrapping_add(to as u64),
                at,
            },
            other => other,
        }
    }
    fn corrupt(&self, noise: u64) -> LeaseMsg {
        let flip = |t: u64| t ^ (1 << (noise % 8));
        match *self {
            LeaseMsg::Grant { token, at } => LeaseMsg::Grant { token: flip(token), at },
            LeaseMsg::Write { token, seq } => LeaseMsg::Write {
                token: flip(token),
                seq,
            },
            LeaseMsg::Renew { token, at } => LeaseMsg::Renew { token: flip(token), at },
            other => other,
        }
    }
    fn lie(&self) -> LeaseMsg {
        match *self {
            // Claims a token far ahead of any granted: fencing cannot tell.
            LeaseMsg::Write { token, seq } => LeaseMsg::Write {
                token: token + 1_000,
                seq,
            },
            other => other,
        }
    }
}
