//! `cargo xtask soak [--short]`: the memory soaks (`examples/soak.rs`) — 1 000 heartbeating
//! nodes for 60 simulated seconds under the byte budget, five nodes for 24 simulated hours
//! staying flat — with their high-water marks. `tests/memory.rs` runs short versions in CI.

use crate::sh;

pub fn run(args: &[String]) -> sh::Result {
    if let Some(other) = args.iter().find(|a| *a != "--short") {
        return Err(format!("soak: unknown option `{other}` (--short)"));
    }
    let example = ["run", "--release", "-p", "faultline", "--example", "soak", "--"];
    sh::run(sh::cargo().args(example).args(args))
}
