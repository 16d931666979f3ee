//! How a Byzantine PBFT node rewrites what it sends (see `crate::byzantine`). Its own state
//! machine stays the honest code; only its messages lie.
//!
//! Equivocation splits the replicas into two camps (`to % 3 == 1` and the rest): to one
//! camp a primary proposes a no-op where the others get the client's request, and a
//! colluding backup prepares and commits whichever each camp was told. With at most f
//! liars neither camp can gather 2f + 1 matching votes for both; with more, both can.
//! Requests carry their client's signature, so a liar can swap in a no-op but cannot
//! invent a request (unless signatures are off).

use super::*;
use crate::byzantine::Byzantine;

/// The camp that is told "no-op".
fn noop_camp(to: NodeId) -> bool {
    to % 3 == 1
}

impl Byzantine for Pbft {
    fn equivocate(msg: &PbftMsg, to: NodeId) -> PbftMsg {
        let mut m = msg.clone();
        match &mut m {
            PbftMsg::PrePrepare { req, .. } if noop_camp(to) => *req = Req::noop(),
            PbftMsg::Prepare { digest, .. } | PbftMsg::Commit { digest, .. } if noop_camp(to) => *digest = 0,
            PbftMsg::Reply { value, .. } => *value ^= to as u64 + 1,
            _ => {}
        }
        m
    }

    fn corrupt(msg: &PbftMsg, noise: u64) -> PbftMsg {
        let mut m = msg.clone();
        match &mut m {
            PbftMsg::PrePrepare { req, .. } | PbftMsg::Request { req, .. } => req.value ^= noise | 1,
            PbftMsg::Prepare { digest, .. } | PbftMsg::Commit { digest, .. } | PbftMsg::Checkpoint { digest, .. } => {
                *digest ^= noise | 1
            }
            PbftMsg::Reply { value, .. } => *value ^= noise | 1,
            _ => {}
        }
        m
    }

    /// Lies that keep the form: votes for a no-op, a view change that hides what it
    /// prepared, a wrong result.
    fn lie(msg: &PbftMsg) -> PbftMsg {
        let mut m = msg.clone();
        match &mut m {
            PbftMsg::Prepare { digest, .. } | PbftMsg::Commit { digest, .. } => *digest = 0,
            PbftMsg::ViewChange { certs, .. } => *certs = Box::new([]),
            PbftMsg::Reply { value, .. } => *value ^= 1,
            _ => {}
        }
        m
    }
}
