//! `faultline run … --history FILE`: the clients' operations of the run as a JSON-lines
//! history (`faultline::history::json`), for `faultline check` or other tools. The history
//! comes from the run itself (`Simulation::history`, the protocol's checkers); protocols
//! whose clients record none are refused with a clear error.

use faultline::history;
use faultline::sim::Simulation;

/// Writes the history `sim` recorded so far to `path`.
pub fn write(sim: &Simulation, path: &str) -> Result<(), String> {
    let Some(history) = sim.history() else {
        return Err(format!(
            "--history: `{}` records no client history (register scenarios do, and Raft scenarios \
             with a key-value workload, `kv`)",
            sim.scenario().name
        ));
    };
    std::fs::write(path, history::json::write(history)).map_err(|e| format!("writing {path}: {e}"))
}
