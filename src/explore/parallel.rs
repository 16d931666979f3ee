//! Runs a sweep's seeds on every core: rayon's work-stealing pool (native builds only).
//!
//! Seeds share nothing (each run owns its world), so the pool scales with cores; the
//! summary folds per thread and merges, which its order-independence allows
//! (`summary` module invariant). `RAYON_NUM_THREADS` sets the number of threads.

use rayon::prelude::*;

use super::run::{Header, Outcome, Plan};
use super::seeds::SeedRange;
use super::summary::Summary;

/// Runs every seed of `range` under `plan`, calling `each` with every outcome as it
/// finishes (from any thread, in no particular order), and returns the summary.
pub fn sweep<F>(plan: &Plan, header: &Header, range: SeedRange, each: F) -> Summary
where
    F: Fn(&Outcome) + Sync,
{
    (range.start..range.end)
        .into_par_iter()
        .map(|seed| {
            let outcome = plan.run(seed);
            each(&outcome);
            outcome
        })
        .fold(
            || Summary::new(header.clone()),
            |mut summary, outcome| {
                summary.add(&outcome);
                summary
            },
        )
        .reduce(|| Summary::new(header.clone()), Summary::merge)
}
