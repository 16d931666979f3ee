//! Faultline: a deterministic simulator of the ways distributed systems fail.
//!
//! The crate is layered one way (see `ARCHITECTURE.md`):
//! `scenario` → `engine` (world, network, nodes, faults) → `protocol` → `inspect`
//! → boundaries (`wasm` for the browser, the `faultline` binary for the command line).
//! Nothing below the boundaries knows about wasm, JSON text or the DOM, and a run is a
//! pure function of its scenario: same scenario, same trace, bit for bit, on every target.

pub mod action;
pub mod checks;
pub mod engine;
pub mod epoch;
pub mod error;
pub mod fault;
pub mod inspect;
pub mod limits;
pub mod network;
pub mod node;
pub mod presets;
pub mod protocol;
pub mod rng;
pub mod scenario;
pub mod schedule;
pub mod share;
pub mod sim;
pub mod sweep;
pub mod time;
pub mod trace;

#[cfg(target_arch = "wasm32")]
mod wasm;

pub use error::InputError;
pub use fault::Fault;
pub use scenario::Scenario;
pub use sim::Simulation;
