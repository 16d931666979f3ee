//! How a Byzantine PBFT node rewrites what it sends (see `crate::byzantine`). Its own state
//! machine stays the honest code; only its messages lie.
//!
//! Equivocation splits the replicas into camps by `to % 3`. A lying primary tells camp 0
//! the client's request, camp 1 a no-op, and on even sequence numbers camp 2 a second,
//! different no-op (on odd ones camp 2 hears the request too). On even sequence numbers no
//! story then has a quorum: with n = 3f + 1 and only the primary lying, each honest backup
//! of four holds a different proposal, none prepares, and the honest replicas time out and
//! change view. A colluding backup prepares and commits whichever each camp was told, in
//! two camps: camp 1 the no-op, the rest the request. On odd sequence numbers two liars
//! among four then give both camps a quorum — more than f liars break agreement. (Were
//! every sequence number split three ways, two colluders could never agree on anything
//! themselves: a liar's own state machine is honest code and commits only what it saw
//! prepared.) Requests carry their client's signature, so a liar can swap in a no-op but
//! cannot invent a request (unless signatures are off).

use super::*;
use crate::byzantine::Byzantine;

/// The proposal a lying primary makes to `to` at `seq`: `None` for the truth, else the
/// no-op it swaps in.
fn proposal_for(to: NodeId, seq: u64) -> Option<Req> {
    match (to % 3, seq % 2) {
        (1, _) => Some(Req::noop()),
        (2, 0) => Some(Req::noop_variant(1)),
        _ => None,
    }
}

/// The camp a colluding backup tells "no-op" in its prepares and commits.
fn noop_camp(to: NodeId) -> bool {
    to % 3 == 1
}

impl Byzantine for Pbft {
    fn equivocate(msg: &PbftMsg, to: NodeId) -> PbftMsg {
        let mut m = msg.clone();
        match &mut m {
            PbftMsg::PrePrepare { seq, req, .. } => {
                if let Some(noop) = proposal_for(to, *seq) {
                    *req = noop;
                }
            }
            PbftMsg::Prepare { digest, .. } | PbftMsg::Commit { digest, .. } if noop_camp(to) => {
                *digest = Req::noop().digest()
            }
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
