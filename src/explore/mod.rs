//! Exploring many runs: seed sweeps, swarm testing, the liveness phase and shrinking.
//!
//! Library-side and pure: a `run::Plan` turns a seed into an `Outcome`, `summary` folds
//! outcomes (in any order, across threads or machines) into what `faultline sweep` prints,
//! `swarm` draws a whole run from a seed, `liveness` watches a run converge after its
//! faults heal, and `shrink` cuts a failing run down while the same checker still fails.
//! Only `parallel` uses threads (native builds); the page runs seeds one by one through
//! the wasm boundary. The detector trade-off experiment is elsewhere (`crate::sweep`).

pub mod liveness;
#[cfg(not(target_arch = "wasm32"))]
pub mod parallel;
pub mod run;
pub mod seeds;
pub mod shrink;
pub mod summary;
pub mod swarm;
pub mod vary;

pub use run::{Header, Outcome, Plan};
pub use seeds::{SeedRange, Shard};
pub use summary::Summary;
