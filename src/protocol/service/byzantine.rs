//! How a Byzantine service node rewrites what it sends (see `crate::byzantine`).

use super::*;
use crate::byzantine::Byzantine;

impl Byzantine for Service {
    fn equivocate(msg: &ServiceMsg, to: NodeId) -> ServiceMsg {
        msg.equivocate(to)
    }
    fn corrupt(msg: &ServiceMsg, noise: u64) -> ServiceMsg {
        msg.corrupt(noise)
    }
    fn lie(msg: &ServiceMsg) -> ServiceMsg {
        msg.lie()
    }
}

impl ServiceMsg {
    fn equivocate(&self, _to: NodeId) -> ServiceMsg {
        *self
    }
    fn corrupt(&self, _noise: u64) -> ServiceMsg {
        match *self {
            ServiceMsg::Reply { id, .. } => ServiceMsg::Reply { id, ok: false },
            other => other,
        }
    }
    fn lie(&self) -> ServiceMsg {
        match *self {
            // Claims success for work it never did.
            ServiceMsg::Reply { id, .. } => ServiceMsg::Reply { id, ok: true },
            other => other,
        }
    }
}
