//! How a Byzantine raft node rewrites what it sends (see `crate::byzantine`).

use super::*;
use crate::byzantine::Byzantine;

impl Byzantine for Raft {
    fn equivocate(msg: &RaftMsg, to: NodeId) -> RaftMsg {
        msg.equivocate(to)
    }
    fn corrupt(msg: &RaftMsg, noise: u64) -> RaftMsg {
        msg.corrupt(noise)
    }
    fn lie(msg: &RaftMsg) -> RaftMsg {
        msg.lie()
    }
}

impl RaftMsg {
    fn equivocate(&self, to: NodeId) -> RaftMsg {
        // Tells each follower a different story about the entries it appends.
        let mut msg = self.clone();
        if let RaftMsg::Append { entries, .. } = &mut msg {
            for e in entries.as_mut_slice() {
                e.write ^= (to as u64 + 1) << 24;
            }
        }
        msg
    }
    fn corrupt(&self, noise: u64) -> RaftMsg {
        let mut msg = self.clone();
        if let RaftMsg::Append { entries, .. } = &mut msg {
            if let Some(first) = entries.as_mut_slice().first_mut() {
                first.write ^= 1 << (noise % 32);
            }
        }
        msg
    }
    fn lie(&self) -> RaftMsg {
        match *self {
            // Claims a log far longer than it has: it wins every vote it asks for.
            RaftMsg::RequestVote { term, last_index, .. } => RaftMsg::RequestVote {
                term,
                last_index: last_index + (1 << 20),
                last_term: term,
            },
            RaftMsg::Vote { term, .. } => RaftMsg::Vote { term, granted: true },
            _ => self.clone(),
        }
    }
}
