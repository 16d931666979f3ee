//! Byzantine rewrites: what a lying, equivocating or corrupting sender puts on the wire
//! instead of what its honest protocol sent.
//!
//! Layer: beside the protocols, above the pure `Protocol` trait. Each protocol implements
//! `Byzantine` in its folder's `byzantine.rs`; the engine applies it to a Byzantine node's
//! sends (`fault::Behaviour`). The protocol's handlers never see it.

use crate::protocol::Protocol;
use crate::vocab::NodeId;

/// How a Byzantine node rewrites this protocol's messages.
pub trait Byzantine: Protocol {
    /// What an equivocating sender tells peer `to` instead (different peers, different stories).
    fn equivocate(msg: &Self::Msg, to: NodeId) -> Self::Msg;
    /// This message with its payload garbled by `noise`.
    fn corrupt(msg: &Self::Msg, noise: u64) -> Self::Msg;
    /// What a sender lying about its own state says instead.
    fn lie(msg: &Self::Msg) -> Self::Msg;
}
