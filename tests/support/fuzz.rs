//! The fuzz driver: seeded, structured inputs fed to the same functions `src/wasm.rs` calls
//! — scenario JSON (mutated presets, structural edits, garbage), share links (mutated real
//! links, garbage), inject calls with arbitrary fault JSON and durations, and random
//! run/step/seek/inject sequences — each input caught with `catch_unwind`, so a panic is
//! counted and reported with the seed that replays it. Used by `tests/fuzz.rs` (a short
//! budget in CI) and `examples/fuzz.rs` (`cargo xtask fuzz --inputs N`).

#![allow(dead_code)]

use std::panic::{catch_unwind, AssertUnwindSafe};

use faultline::presets::PRESETS;
use faultline::rng::Rng;
use faultline::{Scenario, Simulation};
use serde_json::{json, Value};

use super::faults;

/// A panic found: the input's seed (replay it with `run_one`) and the message.
#[derive(Debug)]
pub struct Crash {
    pub seed: u64,
    pub message: String,
}

/// Tokens that tend to break parsers and validators.
const TOKENS: &[&str] = &[
    "null",
    "true",
    "-1",
    "0",
    "1e308",
    "-1e308",
    "1e-300",
    "9007199254740993",
    "4294967296",
    "18446744073709551616",
    "NaN",
    "\"\"",
    "[]",
    "{}",
    "\"kind\"",
    "\"crash\"",
    "\"nodes\"",
    "\"at_ms\"",
    "\"faults\"",
    ":",
    ",",
    "[",
    "]",
    "{",
    "}",
    "\"\\u0000\"",
    "\"\\ud800\"",
    "0.5",
    "\"heartbeat\"",
    "\"swim\"",
    "\"raft\"",
    "\"service\"",
    "\"register\"",
    "\"lease\"",
];

/// Edge values for structural edits.
fn random_value(rng: &mut Rng) -> Value {
    match rng.below(14) {
        0 => Value::Null,
        1 => json!(true),
        2 => json!(-1),
        3 => json!(0),
        4 => json!(1e308),
        5 => json!(u64::MAX),
        6 => json!(rng.below(100)),
        7 => json!(rng.unit() * 10_000.0),
        8 => json!("x"),
        9 => json!([]),
        10 => json!({}),
        11 => json!(rng.below(5_000) as f64 + 0.5),
        12 => json!(-(rng.unit() * 1e6)),
        _ => json!([rng.below(10), rng.below(10)]),
    }
}

/// Picks a random node of `value` (object field or array element) and replaces, removes or
/// adds something there.
fn edit(value: &mut Value, rng: &mut Rng, depth: u32) {
    let descend = depth < 6 && rng.below(3) != 0;
    match value {
        Value::Object(map) if !map.is_empty() => {
            let keys: Vec<String> = map.keys().cloned().collect();
            let key = keys[rng.below(keys.len() as u64) as usize].clone();
            match rng.below(8) {
                0 => drop(map.remove(&key)),
                1 => drop(map.insert(format!("{key}_"), random_value(rng))),
                _ if descend => edit(map.get_mut(&key).expect("listed"), rng, depth + 1),
                _ => drop(map.insert(key, random_value(rng))),
            }
        }
        Value::Array(items) if !items.is_empty() => {
            let i = rng.below(items.len() as u64) as usize;
            match rng.below(8) {
                0 => drop(items.remove(i)),
                1 => items.push(items[i].clone()),
                _ if descend => edit(&mut items[i], rng, depth + 1),
                _ => items[i] = random_value(rng),
            }
        }
        other => *other = random_value(rng),
    }
}

/// Byte-level damage to a text: flips, cuts, repeats, token insertions, truncation.
fn damage(text: &str, rng: &mut Rng) -> String {
    let mut bytes = text.as_bytes().to_vec();
    for _ in 0..1 + rng.below(4) {
        let len = bytes.len().max(1) as u64;
        let at = rng.below(len) as usize;
        match rng.below(5) {
            0 if !bytes.is_empty() => {
                let i = at.min(bytes.len() - 1);
                bytes[i] = rng.below(256) as u8;
            }
            1 => {
                let end = (at + rng.below(16) as usize).min(bytes.len());
                bytes.drain(at.min(end)..end);
            }
            2 => {
                let end = (at + rng.below(32) as usize).min(bytes.len());
                let piece = bytes[at.min(end)..end].to_vec();
                bytes.splice(at.min(bytes.len())..at.min(bytes.len()), piece);
            }
            3 => {
                let token = TOKENS[rng.below(TOKENS.len() as u64) as usize].as_bytes();
                let at = at.min(bytes.len());
                bytes.splice(at..at, token.iter().copied());
            }
            _ => bytes.truncate(at),
        }
    }
    String::from_utf8_lossy(&bytes).into_owned()
}

fn preset_value(rng: &mut Rng) -> Value {
    let preset = &PRESETS[rng.below(PRESETS.len() as u64) as usize];
    serde_json::to_value((preset.build)()).expect("a scenario serializes")
}

/// Runs a loaded scenario a little, as the page would, within an event budget (a scenario
/// that is valid but costly is not what the fuzzer looks for).
fn exercise(mut sim: Simulation, rng: &mut Rng) {
    let mut events = 0;
    for _ in 0..1 + rng.below(6) {
        if events > 100_000 {
            break;
        }
        match rng.below(9) {
            0 | 1 => events += sim.step_ms(faults::ms(rng, 30.0)).unwrap_or(0),
            2 => {
                // The page's budgeted slices, with any budget a caller could pass.
                let budget = [f64::NAN, -1.0, 0.0, 1.0, 1e3, 1e300][rng.below(6) as usize];
                let to = faults::ms(rng, 30.0) + sim.now_us() as f64 / 1000.0;
                events += sim.run_until_within_ms(to, budget).map_or(0, |(n, _)| n);
            }
            3 => events += sim.seek_ms(faults::ms(rng, 60.0)).unwrap_or(0),
            4 => {
                let _ = sim.inject(faults::random_fault(rng, sim.scenario().nodes), faults::duration(rng));
            }
            5 => {
                let _ = sim.inject_json(&fault_json(rng), faults::duration(rng));
            }
            6 => {
                let _ = sim.node_view(faults::node(rng, sim.scenario().nodes));
                let _ = (sim.snapshot(), sim.checks(), sim.series(), sim.memory());
            }
            7 => {
                let _ = sim.set_memory_budget(rng.next_u64() >> rng.below(64));
                let _ = sim.checkpoint_before_us(rng.below(1 << 40));
                let _ = sim.columns().node_xy.len();
            }
            _ => {
                let link = faultline::share::encode(sim.scenario(), sim.now_us());
                let _ = faultline::share::decode(&link).expect("a link the engine wrote decodes");
            }
        }
    }
}

/// Fault JSON with arbitrary fields: a real fault edited, or a made-up object.
fn fault_json(rng: &mut Rng) -> String {
    let mut value = serde_json::to_value(faults::random_fault(rng, 8)).expect("faults serialize");
    for _ in 0..rng.below(3) {
        edit(&mut value, rng, 0);
    }
    if rng.below(8) == 0 {
        return damage(&value.to_string(), rng);
    }
    value.to_string()
}

/// A small cluster to inject into: a random preset with at most 64 nodes.
fn small_sim(rng: &mut Rng) -> Simulation {
    loop {
        let preset = &PRESETS[rng.below(PRESETS.len() as u64) as usize];
        let scenario = (preset.build)();
        if scenario.nodes <= 64 {
            return Simulation::new(scenario).expect("presets load");
        }
    }
}

/// One input, drawn from `seed`.
pub fn run_one(seed: u64) {
    let mut rng = Rng::from_seed(seed);
    match rng.below(10) {
        // Scenario JSON: structural edits of a preset.
        0..=2 => {
            let mut value = preset_value(&mut rng);
            for _ in 0..1 + rng.below(4) {
                edit(&mut value, &mut rng, 0);
            }
            if let Ok(scenario) = Scenario::from_json(&value.to_string()) {
                if scenario.nodes <= 64 {
                    if let Ok(sim) = Simulation::new(scenario) {
                        exercise(sim, &mut rng);
                    }
                }
            }
        }
        // Scenario JSON: byte damage, or garbage.
        3 | 4 => {
            let text = if rng.below(4) == 0 {
                let n = rng.below(64) as usize;
                (0..n)
                    .map(|_| TOKENS[rng.below(TOKENS.len() as u64) as usize])
                    .collect()
            } else {
                damage(&preset_value(&mut rng).to_string(), &mut rng)
            };
            let _ = Scenario::from_json(&text).map(|s| s.nodes <= 64 && Simulation::new(s).is_ok());
        }
        // Share links: damaged real links, or garbage.
        5 | 6 => {
            let scenario = serde_json::from_value(preset_value(&mut rng)).expect("presets read back");
            let link = faultline::share::encode(&scenario, rng.below(1 << 36));
            let text = match rng.below(4) {
                0 => link.chars().rev().collect(),
                1 => format!("https://x/#s={}", damage(&link, &mut rng)),
                _ => damage(&link, &mut rng),
            };
            let _ = faultline::share::decode(&text);
        }
        // Inject calls with arbitrary fields, and sequences, into a small running cluster.
        _ => {
            let mut sim = small_sim(&mut rng);
            let _ = sim.step_ms(faults::ms(&mut rng, 20.0));
            for _ in 0..rng.below(4) {
                let _ = sim.inject_json(&fault_json(&mut rng), faults::duration(&mut rng));
            }
            exercise(sim, &mut rng);
        }
    }
}

/// Runs inputs `first..first + count`; returns how many ran and the crashes found. The
/// panic hook is silenced while it runs (panics are caught and reported instead).
pub fn run(first: u64, count: u64, mut progress: impl FnMut(u64, usize)) -> (u64, Vec<Crash>) {
    let hook = std::panic::take_hook();
    std::panic::set_hook(Box::new(|_| {}));
    let mut crashes = Vec::new();
    for i in 0..count {
        let seed = first.wrapping_add(i);
        if let Err(payload) = catch_unwind(AssertUnwindSafe(|| run_one(seed))) {
            let message = (payload.downcast_ref::<String>().cloned())
                .or_else(|| payload.downcast_ref::<&str>().map(|s| s.to_string()))
                .unwrap_or_else(|| "(no message)".into());
            crashes.push(Crash { seed, message });
        }
        if i % 10_000 == 9_999 {
            progress(i + 1, crashes.len());
        }
    }
    std::panic::set_hook(hook);
    (count, crashes)
}
