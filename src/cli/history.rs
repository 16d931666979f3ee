//! `faultline run … --history FILE`: the clients' operations of a register scenario as a
//! JSON-lines history (`faultline::history::json`), for `faultline check` or other tools.
//!
//! The engine hides its protocol behind `dyn Engine`, which has no way to hand out one
//! protocol's checker; so this runs the scenario a second time on a `World<Register>` it
//! builds itself, applying the schedule exactly as `Simulation` does (same boot, same
//! entries in the same order), reads the register checker's history, and refuses to write
//! it unless the two runs have the same trace hash.

use faultline::engine::{Engine, World};
use faultline::history::{self, History};
use faultline::protocol::register::Register;
use faultline::scenario::ProtocolSpec;
use faultline::time::Micros;
use faultline::Scenario;

/// The register's history after running `scenario` to `until_us`, and the run's trace hash.
pub fn record(scenario: &Scenario, until_us: Micros) -> Result<(History, u64), String> {
    let ProtocolSpec::Register(spec) = &scenario.protocol else {
        return Err(format!(
            "--history records the clients of a register scenario; `{}` runs another protocol",
            scenario.name
        ));
    };
    scenario.validate().map_err(|e| e.to_string())?;
    let config = spec.config(scenario.nodes).map_err(|e| e.to_string())?;
    let link = scenario.network.to_link().map_err(|e| e.to_string())?;
    let timing = scenario.network.to_timing(scenario.nodes).map_err(|e| e.to_string())?;
    let plan = scenario.plan().map_err(|e| e.to_string())?;
    let mut world = World::<Register>::new(config, scenario.nodes, link, timing, scenario.seed, false);
    for (_, entry) in plan.iter().take_while(|(_, e)| e.at_us <= until_us) {
        world.run_until(entry.at_us);
        // As `Simulation` does: an entry the run itself made moot is skipped.
        let _ = world.apply(&entry.planned);
    }
    world.run_until(until_us);
    Ok((world.checkers().history().clone(), world.trace().hash()))
}

/// Writes the history of `scenario` run to `until_us` to `path`; `trace_hash` is the
/// hash of the same run made by `Simulation`, which the second run must reproduce.
pub fn write(scenario: &Scenario, until_us: Micros, trace_hash: u64, path: &str) -> Result<(), String> {
    let (history, hash) = record(scenario, until_us)?;
    if hash != trace_hash {
        return Err(format!(
            "the run that records the history diverged from the run itself (trace {hash:016x}, not {trace_hash:016x}); please report this"
        ));
    }
    std::fs::write(path, history::json::write(&history)).map_err(|e| format!("writing {path}: {e}"))
}
