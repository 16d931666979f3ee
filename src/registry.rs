//! The protocol registry: every protocol the simulator runs, one line each.
//!
//! `protocols!` turns the table at the bottom into the scenario's `ProtocolSpec` enum (the
//! `{"kind": …}` JSON form), its validation (`check`), the dispatch that boots a world of
//! the right protocol type (`world`), and `PROTOCOLS`, each protocol's name and message
//! kinds (the legend's list). Adding a protocol is writing its folder under `protocol/`
//! (a spec with `config(nodes)`, the state machine, `view.rs`, `byzantine.rs`,
//! `checks.rs`) and one line here.
//!
//! Layer: above the engine and the protocols, below the scenario.

use serde::{Deserialize, Serialize};

use crate::engine::{Engine, World};
use crate::error::InputError;
use crate::network::LinkConfig;
use crate::protocol::heartbeat::{Heartbeat, HeartbeatSpec};
use crate::protocol::lease::{Lease, LeaseSpec};
use crate::protocol::raft::{Raft, RaftSpec};
use crate::protocol::register::{Register, RegisterSpec};
use crate::protocol::service::{Service, ServiceSpec};
use crate::protocol::swim::{Swim, SwimSpec};
use crate::protocol::{MessageKinds, Protocol};
use crate::timing::Timing;

/// A registered protocol: its name and each message kind's code and name.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct ProtocolInfo {
    pub name: &'static str,
    pub kinds: &'static [(u8, &'static str)],
    /// Whether its nodes can crash by themselves (`Ctx::crash_self`).
    pub crashes_itself: bool,
}

/// Writes `ProtocolSpec`, its dispatch and `PROTOCOLS` from one table of
/// `Variant(Spec) => Protocol` lines (the variant's snake_case name is the JSON `kind`).
macro_rules! protocols {
    ($($(#[$doc:meta])* $variant:ident($spec:ty) => $proto:ty;)+) => {
        /// Which protocol every node runs, with its parameters.
        #[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
        #[serde(tag = "kind", rename_all = "snake_case", deny_unknown_fields)]
        pub enum ProtocolSpec {
            $($(#[$doc])* $variant($spec),)+
        }

        /// Every registered protocol, in registration order.
        pub const PROTOCOLS: &[ProtocolInfo] = &[$(ProtocolInfo {
            name: <$proto as Protocol>::NAME,
            kinds: <<$proto as Protocol>::Msg as MessageKinds>::KINDS,
            crashes_itself: <$proto as Protocol>::CRASHES_ITSELF,
        },)+];

        impl ProtocolSpec {
            /// Checks every parameter against a cluster of `nodes` nodes.
            pub fn check(&self, nodes: u32) -> Result<(), InputError> {
                match self {
                    $(ProtocolSpec::$variant(spec) => spec.config(nodes).map(drop),)+
                }
            }

            /// Boots a world of this protocol (every node at time 0).
            pub fn world(&self, nodes: u32, link: LinkConfig, timing: Timing, seed: u64, full_trace: bool) -> Result<Box<dyn Engine>, InputError> {
                Ok(match self {
                    $(ProtocolSpec::$variant(spec) => {
                        Box::new(World::<$proto>::new(spec.config(nodes)?, nodes, link, timing, seed, full_trace))
                    })+
                })
            }

            /// Whether nodes can crash by themselves (a replica out of memory), so node
            /// statuses are not determined by the fault schedule alone.
            pub fn crashes_itself(&self) -> bool {
                self.info().crashes_itself
            }

            /// The registry's entry for this protocol.
            pub fn info(&self) -> &'static ProtocolInfo {
                let mut i = 0;
                $(if let ProtocolSpec::$variant(_) = self {
                    return &PROTOCOLS[i];
                }
                i += 1;)+
                unreachable!("{i} protocols, each with an entry")
            }
        }
    };
}

protocols! {
    /// Every node heartbeats every peer; a silent peer is suspected (`protocol::heartbeat`).
    Heartbeat(HeartbeatSpec) => Heartbeat;
    /// A lock server grants leases to clients that write to a storage (`protocol::lease`).
    Lease(LeaseSpec) => Lease;
    /// A replicated register, CP (majority quorums) or AP (accept and reconcile).
    Register(RegisterSpec) => Register;
    /// SWIM membership: probes, indirect probes, suspicion, gossip (`protocol::swim`).
    Swim(SwimSpec) => Swim;
    /// Leader election and log replication: Raft, or a naive election (`protocol::raft`).
    Raft(RaftSpec) => Raft;
    /// A service under load: clients, a balancer, replicas, defences (`protocol::service`).
    Service(ServiceSpec) => Service;
    /// The smallest protocol, the example of adding one: pings answered by echoes.
    Echo(crate::protocol::echo::EchoSpec) => crate::protocol::echo::Echo;
    /// Byzantine agreement: PBFT's three phases, view changes, checkpoints (`protocol::pbft`).
    Pbft(crate::protocol::pbft::PbftSpec) => crate::protocol::pbft::Pbft;
    Kv(crate::protocol::kv::KvSpec) => crate::protocol::kv::Kv;
}

impl Default for ProtocolSpec {
    fn default() -> Self {
        ProtocolSpec::Heartbeat(HeartbeatSpec::default())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_protocol_has_one_entry_with_distinct_kinds() {
        for (i, p) in PROTOCOLS.iter().enumerate() {
            assert!(PROTOCOLS[..i].iter().all(|q| q.name != p.name), "{} twice", p.name);
            assert!(!p.kinds.is_empty(), "{} lists no message kinds", p.name);
            for (j, (code, name)) in p.kinds.iter().enumerate() {
                assert!(*code < 64, "{}: code {code} does not fit the renderer's 6 bits", p.name);
                assert!(
                    p.kinds[..j].iter().all(|k| k.0 != *code && k.1 != *name),
                    "{}: {name} twice",
                    p.name
                );
            }
        }
        assert_eq!(ProtocolSpec::default().info().name, "heartbeat");
    }
}
