//! The fuzzed boundary, short budget: structured and garbage inputs to every function the
//! wasm boundary calls (scenario JSON, share links, inject calls, run/step/seek/inject
//! sequences) — no input may panic. The long run is `cargo xtask fuzz --inputs N`.

#[path = "support/fuzz.rs"]
mod driver;
#[path = "support/faults.rs"]
mod faults;

/// Inputs in CI: a few seconds' worth (the whole file stays well under a minute).
const CI_INPUTS: u64 = 40_000;

#[test]
fn no_input_at_the_boundary_panics() {
    let first = std::env::var("FAULTLINE_FUZZ_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(0x5EED);
    let (ran, crashes) = driver::run(first, CI_INPUTS, |_, _| {});
    assert_eq!(ran, CI_INPUTS);
    assert!(
        crashes.is_empty(),
        "{} of {ran} inputs panicked; replay one with driver::run_one(seed): {:#?}",
        crashes.len(),
        &crashes[..crashes.len().min(5)]
    );
}
