//! Faultline: a deterministic simulator of the ways distributed systems fail.
//!
//! The crate is layered one way (see `ARCHITECTURE.md`; `tests/tidy.rs` holds the order
//! and rejects any import cycle). Lowest first, each layer imports only from itself and
//! the layers below it:
//! 1. vocabulary — `vocab` (node ids, status, Byzantine behaviour, storage damage, ppm),
//!    `latency`, `time`, `limits`, `rng`, `error`, `epoch`, and `history` (client histories and
//!    the linearizability checker): imports nothing else from the crate;
//! 2. the machine and the protocol contract — `network`, `node`, `fault`, `action`, `trace`, and
//!    `protocol` (the pure `Protocol` trait: boot, on_message, on_timer, durable);
//! 3. beside the protocols — `view` (`Inspect`: what the inspector and canvas show),
//!    `byzantine` (`Byzantine`: message rewrites), `checks` (`Checked`: the checkers),
//!    `inspect` (snapshots, node views, render columns);
//! 4. the protocols — `protocol/NAME/`, one folder each: the state machine imports only
//!    the vocabulary and the contract; `view.rs`, `byzantine.rs` and `checks.rs` beside it
//!    implement the traits of layer 3; no protocol imports another;
//! 5. `engine` — the world of any protocol: time, queue, sends, faults applied;
//!    `registry` — one line per protocol: the scenario's `ProtocolSpec`, validation and
//!    world dispatch follow from it;
//! 6. runs — `scenario`, `schedule`, `sim`, `sweep`, `presets`, `share`, `explore` (seed sweeps), `exercise` (goals, rules, judging), `compare` (which two runs compare side by side);
//! 7. boundaries — `wasm` for the browser, the `faultline` binary (and its `cli/`) for the command line.
//!
//! Nothing below the boundaries knows about wasm or the DOM, the engine and protocols read
//! no JSON text, and a run is a pure function of its scenario: same scenario, same trace,
//! bit for bit, on every target.

pub mod action;
pub mod budget;
pub mod byzantine;
pub mod checkpoints;
pub mod checks;
pub mod compare;
pub mod engine;
pub mod epoch;
pub mod error;
pub mod exercise;
pub mod explore;
pub mod fault;
pub mod history;
pub mod inspect;
pub mod json_tree;
pub mod latency;
pub mod limits;
pub mod network;
pub mod node;
pub mod presets;
pub mod protocol;
pub mod registry;
pub mod rng;
pub mod scenario;
pub mod schedule;
pub mod share;
pub mod sim;
pub mod sweep;
pub mod time;
pub mod timing;
pub mod trace;
pub mod view;
pub mod vocab;

#[cfg(target_arch = "wasm32")]
mod wasm;

pub use error::InputError;
pub use fault::Fault;
pub use scenario::Scenario;
pub use sim::Simulation;
