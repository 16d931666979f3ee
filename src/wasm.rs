//! The browser boundary: `Simulation` for JavaScript, via wasm-bindgen.
//!
//! The only module that imports `wasm_bindgen`. Every input is validated by the engine
//! and comes back as a `JsError` naming the field; nothing here panics on user input, and
//! after an error the simulation is unchanged. Structured values cross as plain objects
//! (serde-wasm-bindgen); the big per-frame columns cross as pointers into wasm memory
//! (see `docs/js-api.md`). Scenario input is read as JSON text by the same parser the
//! CLI uses, so errors read the same natively and in the browser.

use serde::Serialize;
use wasm_bindgen::prelude::*;

use crate::error::InputError;
use crate::limits::MAX_SEED;
use crate::presets::{self, PRESETS};
use crate::scenario::Scenario;
use crate::sim::Simulation as Engine;

#[wasm_bindgen]
extern "C" {
    #[wasm_bindgen(js_namespace = console, js_name = error)]
    fn console_error(message: &str);
}

thread_local! {
    /// The page's `onPanic` handler: told the panic message before the wasm traps.
    static PANIC_HANDLER: std::cell::RefCell<Option<js_sys::Function>> = const { std::cell::RefCell::new(None) };
}

/// Engine bugs (broken invariants) still panic; this makes the message visible in the
/// console and hands it to the page (see `onPanic`), which shows it in its trap banner.
#[wasm_bindgen(start)]
pub fn start() {
    std::panic::set_hook(Box::new(|info| {
        let message = info.to_string();
        console_error(&format!(
            "Faultline engine invariant broken (please report with the share link): {message}"
        ));
        PANIC_HANDLER.with(|handler| {
            if let Ok(handler) = handler.try_borrow() {
                if let Some(f) = handler.as_ref() {
                    let _ = f.call1(&JsValue::NULL, &JsValue::from_str(&message));
                }
            }
        });
    }));
}

/// Registers `handler(message)`, called with the panic message when the engine panics
/// (the call that panicked then throws a `WebAssembly.RuntimeError`; this instance is dead).
#[wasm_bindgen(js_name = onPanic)]
pub fn on_panic(handler: js_sys::Function) {
    PANIC_HANDLER.with(|h| *h.borrow_mut() = Some(handler));
}

/// The engine's codes that the page reads from the columns, so JavaScript never copies
/// them: `{ role: { name: code }, flag: { name: bit }, msg: { kind_mask, byzantine,
/// doomed }, drop_reasons: [name by code], trace_kinds: { send, … }, fault_codes: { crash,
/// … }, limits: { page_max_nodes, max_nodes,
/// max_time_ms, max_faults } }`.
#[wasm_bindgen]
pub fn constants() -> Result<JsValue, JsError> {
    use crate::engine::columns as col;
    use std::collections::BTreeMap;
    #[derive(Serialize)]
    struct Constants {
        role: BTreeMap<&'static str, u8>,
        flag: BTreeMap<&'static str, u8>,
        msg: BTreeMap<&'static str, u8>,
        drop_reasons: Vec<&'static str>,
        limits: BTreeMap<&'static str, f64>,
        trace_kinds: BTreeMap<&'static str, u8>,
        fault_codes: BTreeMap<&'static str, u32>,
    }
    let (trace_kinds, fault_codes) = trace_codes();
    let role = crate::view::RenderRole::ALL.iter().map(|r| (r.name(), r.code()));
    let mut drop_reasons = vec![""];
    drop_reasons.extend(crate::network::DropReason::ALL.iter().map(|r| r.name()));
    let flag = [
        ("gray", col::FLAG_GRAY),
        ("byzantine", col::FLAG_BYZANTINE),
        ("slow", col::FLAG_SLOW),
        ("omission", col::FLAG_OMISSION),
        ("clock", col::FLAG_CLOCK),
        ("strobe", col::FLAG_STROBE),
        ("selfCrashed", col::FLAG_SELF_CRASHED),
    ];
    let msg = [
        ("kindMask", !(col::MSG_BYZANTINE | col::MSG_DOOMED)),
        ("byzantine", col::MSG_BYZANTINE),
        ("doomed", col::MSG_DOOMED),
    ];
    let limits = [
        ("page_max_nodes", crate::limits::PAGE_MAX_NODES as f64),
        ("max_nodes", crate::limits::MAX_NODES as f64),
        ("max_time_ms", crate::time::us_to_ms(crate::limits::MAX_TIME_US)),
        ("max_faults", crate::limits::MAX_FAULTS as f64),
    ];
    to_js(&Constants {
        role: role.collect(),
        flag: flag.into_iter().collect(),
        msg: msg.into_iter().collect(),
        drop_reasons,
        limits: limits.into_iter().collect(),
        trace_kinds: trace_kinds.into_iter().map(|(k, v)| (k, v as u8)).collect(),
        fault_codes: fault_codes.into_iter().collect(),
    })
}

/// The trace kinds and the fault codes the time-space diagram reads, by name.
type Codes = ([(&'static str, crate::trace::TraceKind); 8], [(&'static str, u32); 6]);

fn trace_codes() -> Codes {
    use crate::trace::TraceKind as K;
    let trace_kinds = [
        ("send", K::Send),
        ("deliver", K::Deliver),
        ("drop", K::Drop),
        ("timer", K::Timer),
        ("fault", K::Fault),
        ("duplicate", K::Duplicate),
        ("resume", K::Resume),
        ("selfCrash", K::SelfCrash),
    ];
    use crate::Fault as F;
    let fault_codes = [
        ("crash", F::Crash { node: 0 }.code()),
        ("restart", F::Restart { node: 0 }.code()),
        (
            "pause",
            F::Pause {
                node: 0,
                duration_ms: 1.0,
            }
            .code(),
        ),
        ("partition", F::Partition { groups: Vec::new() }.code()),
        ("heal", F::Heal.code()),
        ("isolate", F::Isolate { node: 0 }.code()),
    ];
    (trace_kinds, fault_codes)
}

/// A trap armed for tests (`armTrapForTest`): nothing traps unless a caller arms it.
#[derive(Clone, Copy)]
enum TestTrap {
    Panic,
    OutOfMemory,
}

fn js_error(e: InputError) -> JsError {
    JsError::new(&e.to_string())
}

fn to_js<T: Serialize>(value: &T) -> Result<JsValue, JsError> {
    let serializer = serde_wasm_bindgen::Serializer::json_compatible();
    value
        .serialize(&serializer)
        .map_err(|e| JsError::new(&format!("internal: cannot convert output: {e}")))
}

/// A scenario (or a value holding one) for JavaScript, through JSON text and `JSON.parse`:
/// scenario types already have a JSON writer (links, exports), and converting them with
/// `to_js` as well would compile a second writer for every one of them into the module.
fn scenario_to_js<T: Serialize>(value: &T) -> Result<JsValue, JsError> {
    let text =
        serde_json::to_string(value).map_err(|e| JsError::new(&format!("internal: cannot write output: {e}")))?;
    js_sys::JSON::parse(&text).map_err(|_| JsError::new("internal: the output is not JSON"))
}

/// Reads a JS string as-is, or any other value through `JSON.stringify`.
fn json_text(value: &JsValue, what: &str) -> Result<String, JsError> {
    if let Some(text) = value.as_string() {
        return Ok(text);
    }
    if value.is_undefined() || value.is_null() {
        return Err(JsError::new(&format!("{what} is missing")));
    }
    js_sys::JSON::stringify(value)
        .ok()
        .and_then(|s| s.as_string())
        .ok_or_else(|| JsError::new(&format!("{what} cannot be turned into JSON")))
}

fn node_id(id: f64) -> Result<u32, JsError> {
    if id.is_finite() && id >= 0.0 && id.fract() == 0.0 && id <= u32::MAX as f64 {
        Ok(id as u32)
    } else {
        Err(JsError::new(&format!(
            "node: `{id}` is not a node id (a whole number from 0)"
        )))
    }
}

/// A running simulation.
#[wasm_bindgen]
pub struct Simulation {
    sim: Engine,
    /// Armed by `armTrapForTest`: the simulated time (µs) and the kind of trap to spring.
    test_trap: Option<(u64, TestTrap)>,
}

#[wasm_bindgen]
impl Simulation {
    /// Builds a simulation from a scenario object or JSON text.
    #[wasm_bindgen(constructor)]
    pub fn new(scenario: JsValue) -> Result<Simulation, JsError> {
        let text = json_text(&scenario, "the scenario")?;
        let scenario = Scenario::from_json(&text).map_err(js_error)?;
        Ok(Simulation {
            sim: Engine::new(scenario).map_err(js_error)?,
            test_trap: None,
        })
    }

    /// `[{ name, title, class, summary, watch, try_next }]` for every built-in scenario.
    pub fn presets() -> Result<JsValue, JsError> {
        let list: Vec<presets::PresetInfo> = PRESETS.iter().map(|p| p.info()).collect();
        to_js(&list)
    }

    /// Whether scenario `b` is a variant of `a` that differs only in settings (same nodes,
    /// seed and faults; `crate::compare`): the changed settings' field paths, or an error
    /// saying why the two cannot be compared.
    #[wasm_bindgen(js_name = compareScenarios)]
    pub fn compare_scenarios(a: JsValue, b: JsValue) -> Result<JsValue, JsError> {
        let a = Scenario::from_json(&json_text(&a, "the first scenario")?).map_err(js_error)?;
        let b = Scenario::from_json(&json_text(&b, "the second scenario")?).map_err(js_error)?;
        let changed = crate::compare::settings_only(&a, &b)
            .map_err(|why| JsError::new(&format!("These two runs cannot be compared: {why}.")))?;
        to_js(&changed)
    }

    /// The presets preset `name`'s "try next" names that differ from it only in settings.
    #[wasm_bindgen(js_name = comparePartners)]
    pub fn compare_partners(name: &str) -> Result<JsValue, JsError> {
        to_js(&crate::compare::preset_partners(name))
    }

    /// The scenario of a built-in preset.
    pub fn preset(name: &str) -> Result<JsValue, JsError> {
        let preset = presets::find(name)
            .ok_or_else(|| JsError::new(&format!("no preset named `{name}`; presets: {}", presets::names())))?;
        scenario_to_js(&(preset.build)())
    }

    /// A fresh random seed (the only randomness the browser contributes; shown and shared).
    #[wasm_bindgen(js_name = freshSeed)]
    pub fn fresh_seed() -> Result<f64, JsError> {
        let mut bytes = [0u8; 8];
        getrandom::fill(&mut bytes).map_err(|e| JsError::new(&format!("no randomness available: {e}")))?;
        Ok((u64::from_le_bytes(bytes) & MAX_SEED) as f64)
    }

    /// Advances simulated time by `ms`. Returns the number of events processed.
    pub fn step(&mut self, ms: f64) -> Result<f64, JsError> {
        self.spring_test_trap(crate::time::us_to_ms(self.sim.now_us()) + ms);
        self.sim.step_ms(ms).map(|n| n as f64).map_err(js_error)
    }

    /// Advances simulated time to `ms`. Returns the number of events processed.
    #[wasm_bindgen(js_name = runUntil)]
    pub fn run_until(&mut self, ms: f64) -> Result<f64, JsError> {
        self.spring_test_trap(ms);
        self.sim.run_until_ms(ms).map(|n| n as f64).map_err(js_error)
    }

    /// Advances toward `ms`, stopping at a microsecond boundary once about `max_events`
    /// are processed (the page's frame budget). Returns `[events, reached_ms]`; the state
    /// at `reached_ms` is exactly `runUntil(reached_ms)`'s.
    #[wasm_bindgen(js_name = runUntilWithin)]
    pub fn run_until_within(&mut self, ms: f64, max_events: f64) -> Result<Vec<f64>, JsError> {
        self.spring_test_trap(ms);
        let (events, reached) = self.sim.run_until_within_ms(ms, max_events).map_err(js_error)?;
        Ok(vec![events as f64, reached])
    }

    /// Applies a fault now (undone after `duration_ms`, if given) and records it in the
    /// scenario at the current time. Returns the labels of scheduled faults that no longer
    /// made sense after it and were removed from the future.
    pub fn inject(&mut self, fault: JsValue, duration_ms: Option<f64>) -> Result<JsValue, JsError> {
        let text = json_text(&fault, "the fault")?;
        let removed = self.sim.inject_json(&text, duration_ms).map_err(js_error)?;
        to_js(&removed)
    }

    /// One trial of the detector trade-off experiment (see `sweep.rs`): `kind` is "fixed"
    /// (parameter: timeout ms), "phi" (parameter: threshold) or "swim" (parameter: suspicion
    /// timeout ms). Returns
    /// `{ false_suspicions, detection_ms }`.
    #[wasm_bindgen(js_name = detectorTrial)]
    pub fn detector_trial(kind: &str, parameter: f64, seed: f64) -> Result<JsValue, JsError> {
        use crate::sweep::{experiment, trial, DetectorKind};
        let kind = match kind {
            "fixed" => DetectorKind::Fixed,
            "phi" => DetectorKind::Phi,
            "swim" => DetectorKind::Swim,
            other => {
                return Err(JsError::new(&format!(
                    "kind: no detector named `{other}` (fixed, phi, swim)"
                )))
            }
        };
        if !(seed.is_finite() && seed >= 0.0 && seed <= crate::limits::MAX_SEED as f64 && seed.fract() == 0.0) {
            return Err(JsError::new("seed: must be a whole number from 0 to 2^53 − 1"));
        }
        let protocol = kind.protocol(parameter).map_err(js_error)?;
        to_js(&trial(experiment(protocol, seed as u64)).map_err(js_error)?)
    }

    /// Moves to absolute simulated time `ms`, backwards too: the state is exactly the one
    /// the run had then (restored from a checkpoint and replayed). Returns events replayed.
    pub fn seek(&mut self, ms: f64) -> Result<f64, JsError> {
        self.spring_test_trap(ms);
        self.sim.seek_ms(ms).map(|n| n as f64).map_err(js_error)
    }

    /// `{ held, interval_ms }`: the time-travel checkpoints kept now.
    pub fn checkpoints(&self) -> Result<JsValue, JsError> {
        #[derive(Serialize)]
        struct Held {
            held: usize,
            interval_ms: f64,
        }
        let (held, interval_us) = self.sim.checkpoints();
        to_js(&Held {
            held,
            interval_ms: crate::time::us_to_ms(interval_us),
        })
    }

    /// `{ used_bytes, budget_bytes, checkpoints, interval_ms, time_travel }`: what the run
    /// keeps against its byte budget; `time_travel` is "full", "coarse" or "off".
    pub fn memory(&self) -> Result<JsValue, JsError> {
        #[derive(Serialize)]
        struct Memory {
            used_bytes: f64,
            budget_bytes: f64,
            checkpoints: usize,
            interval_ms: f64,
            time_travel: &'static str,
        }
        let m = self.sim.memory();
        to_js(&Memory {
            used_bytes: m.used_bytes as f64,
            budget_bytes: m.budget_bytes as f64,
            checkpoints: m.checkpoints,
            interval_ms: crate::time::us_to_ms(m.interval_us),
            time_travel: m.time_travel.name(),
        })
    }

    /// Sets the byte budget for the world and its checkpoints (16 MiB to 3 GiB).
    #[wasm_bindgen(js_name = setMemoryBudget)]
    pub fn set_memory_budget(&mut self, bytes: f64) -> Result<(), JsError> {
        if !(bytes.is_finite() && bytes >= 0.0 && bytes.fract() == 0.0) {
            return Err(JsError::new(&format!(
                "bytes: `{bytes}` is not a whole number of bytes"
            )));
        }
        self.sim.set_memory_budget(bytes as u64).map_err(js_error)
    }

    /// Scheduled faults the run itself made moot (a crash of a replica already dead of
    /// overload), each with why it was skipped.
    #[wasm_bindgen(js_name = skippedFaults)]
    pub fn skipped_faults(&self) -> Result<JsValue, JsError> {
        to_js(&self.sim.skipped_faults())
    }

    /// The time of the latest checkpoint at or before `ms` (0 when none is held).
    #[wasm_bindgen(js_name = checkpointBeforeMs)]
    pub fn checkpoint_before_ms(&self, ms: f64) -> Result<f64, JsError> {
        let t_us = crate::time::ms_to_us(ms, "ms").map_err(js_error)?;
        Ok(crate::time::us_to_ms(self.sim.checkpoint_before_us(t_us)))
    }

    /// The whole trace from time 0 to now as JSON lines (the CLI's `--trace` format: a
    /// header line naming the engine epoch, then one line per event),
    /// replayed from the scenario; at most `max_events` lines, then a last line
    /// `{"truncated": true}`.
    #[wasm_bindgen(js_name = traceJsonl)]
    pub fn trace_jsonl(&self, max_events: u32) -> Result<String, JsError> {
        let header = crate::epoch::trace_header_line() + "\n";
        self.replay_lines(header, max_events, Some("{\"truncated\":true}"), |spill, i| {
            Some(spill.json_line(i))
        })
    }

    /// For tests of the page's trap recovery: the first call that would run past `at_ms`
    /// runs to `at_ms`, then traps — `kind` "panic" panics (the panic hook forwards the
    /// message), "oom" fails an allocation as running out of memory does. Only a caller
    /// that arms it can spring it; the page never does on user input.
    #[wasm_bindgen(js_name = armTrapForTest)]
    pub fn arm_trap_for_test(&mut self, at_ms: f64, kind: &str) -> Result<(), JsError> {
        let trap = match kind {
            "panic" => TestTrap::Panic,
            "oom" => TestTrap::OutOfMemory,
            other => {
                return Err(JsError::new(&format!(
                    "kind: no test trap named `{other}` (panic, oom)"
                )))
            }
        };
        let at_us = crate::time::ms_to_us(at_ms, "at_ms").map_err(js_error)?;
        self.test_trap = Some((at_us, trap));
        Ok(())
    }

    /// The global state: time, counters, trace hash (see `docs/js-api.md`).
    pub fn inspect(&self) -> Result<JsValue, JsError> {
        to_js(&self.sim.snapshot())
    }

    /// Every checker's property at this moment: `[{ id, name, holds, violated_since_ms,
    /// first_violation_ms, violations, detail, nodes }]`.
    pub fn checks(&self) -> Result<JsValue, JsError> {
        to_js(&self.sim.checks())
    }

    /// `[{ kind, name }]`: the message kinds this run's protocol sends, for the legend.
    #[wasm_bindgen(js_name = messageKinds)]
    pub fn message_kinds(&self) -> Result<JsValue, JsError> {
        #[derive(Serialize)]
        struct Kind {
            kind: u8,
            name: &'static str,
        }
        let kinds: Vec<Kind> = self
            .sim
            .engine()
            .message_kinds()
            .iter()
            .map(|&(kind, name)| Kind { kind, name })
            .collect();
        to_js(&kinds)
    }

    /// The checkers' time series for charts: `[{ id, name, unit, t_ms, values }]`.
    pub fn series(&self) -> Result<JsValue, JsError> {
        to_js(&self.sim.series())
    }

    /// The clients' history so far (`crate::history::view`): `{ initial, keys, ops: [{ id,
    /// client, key, op, value, expected, invoke_us, complete_us, outcome }] }`, or null
    /// when the protocol records none.
    pub fn history(&self) -> Result<JsValue, JsError> {
        match self.sim.history() {
            Some(h) => to_js(&crate::history::view::view(h)),
            None => Ok(JsValue::NULL),
        }
    }

    /// Checks the history (one `key`, or all) within `max_states` search steps:
    /// `{ verdict: "linearizable" | "not linearizable" | "unknown", states, key, ops (ids
    /// that cannot be ordered), linearized (ids, the longest linearized prefix),
    /// explanation, at_us }`. The page calls it one key at a time between frames.
    #[wasm_bindgen(js_name = checkHistory)]
    pub fn check_history(&self, max_states: f64, key: Option<f64>) -> Result<JsValue, JsError> {
        let whole = |x: f64| x.is_finite() && x >= 1.0 && x.fract() == 0.0 && x <= MAX_SEED as f64;
        if !whole(max_states) {
            return Err(JsError::new(&format!(
                "maxStates: `{max_states}` is not a positive whole number"
            )));
        }
        if key.is_some_and(|k| !(whole(k + 1.0))) {
            return Err(JsError::new("key: not a key (a whole number from 0)"));
        }
        let Some(h) = self.sim.history() else {
            return Err(JsError::new("this protocol's clients record no history"));
        };
        let checked = crate::history::view::check_view(h, max_states as u64, key.map(|k| k as u64));
        to_js(&checked)
    }

    /// One node's state and its local view of its peers.
    #[wasm_bindgen(js_name = nodeView)]
    pub fn node_view(&self, id: f64) -> Result<JsValue, JsError> {
        to_js(&self.sim.node_view(node_id(id)?).map_err(js_error)?)
    }

    /// The scenario including every injected fault: sharing it replays this run.
    pub fn scenario(&self) -> Result<JsValue, JsError> {
        scenario_to_js(self.sim.scenario())
    }

    /// The timing model and its bounds in one line ("synchronous: every message within
    /// Δ = 30 ms").
    #[wasm_bindgen(js_name = timingModel)]
    pub fn timing_model(&self) -> String {
        self.sim.scenario().network.timing.describe()
    }

    /// This run as share-link text (`F1.…`, without `#s=`): its scenario with every
    /// injection, and the current time.
    #[wasm_bindgen(js_name = shareLink)]
    pub fn share_link(&self) -> String {
        crate::share::encode(self.sim.scenario(), self.sim.now_us())
    }

    /// Share-link text for `scenario` (object or JSON text) at `t_ms`, without running
    /// it: the page keeps the last good link of a run whose engine has trapped.
    #[wasm_bindgen(js_name = encodeLink)]
    pub fn encode_link(scenario: JsValue, t_ms: f64) -> Result<String, JsError> {
        let text = json_text(&scenario, "the scenario")?;
        let scenario = Scenario::from_json(&text).map_err(js_error)?;
        let t_us = crate::time::ms_to_us(t_ms, "t_ms").map_err(js_error)?;
        Ok(crate::share::encode(&scenario, t_us))
    }

    /// Reads share-link text (a URL, a fragment or the bare payload) into
    /// `{ scenario, t_ms, epoch }`, or throws saying what is wrong with it.
    #[wasm_bindgen(js_name = decodeLink)]
    pub fn decode_link(text: &str) -> Result<JsValue, JsError> {
        #[derive(Serialize)]
        struct Decoded {
            scenario: Scenario,
            t_ms: f64,
            epoch: u32,
        }
        let run = crate::share::decode(text).map_err(js_error)?;
        scenario_to_js(&Decoded {
            scenario: run.scenario,
            t_ms: crate::time::us_to_ms(run.t_us),
            epoch: run.epoch,
        })
    }

    /// This engine's behaviour version (`src/epoch.rs`); links record the one they were made with.
    pub fn epoch() -> u32 {
        crate::epoch::EPOCH
    }

    /// A hash over every event since time 0, as 16 hex digits.
    #[wasm_bindgen(js_name = traceHash)]
    pub fn trace_hash(&self) -> String {
        self.sim.trace_hash_hex()
    }

    /// The run from time 0 to now as a ShiViz log (the parser regex, a blank line, then one
    /// line per causal event: host, vector clock, what happened), replayed from the
    /// scenario; at most `max_events` events. Vector clocks exist up to 64 nodes only.
    #[wasm_bindgen(js_name = shivizLog)]
    pub fn shiviz_log(&self, max_events: u32) -> Result<String, JsError> {
        if self.sim.scenario().nodes as usize > crate::limits::VECTOR_CLOCK_MAX_NODES {
            let most = crate::limits::VECTOR_CLOCK_MAX_NODES;
            return Err(JsError::new(&format!(
                "a ShiViz log needs vector clocks, which runs of up to {most} nodes keep"
            )));
        }
        let header = format!("{}\n\n", crate::trace::SHIVIZ_REGEX);
        self.replay_lines(header, max_events, None, |spill, i| spill.shiviz_line(i))
    }

    /// The newest `n` events for the time-space diagram (at most the causal window, 16 384
    /// events, when vector clocks are kept), oldest first, as typed arrays: `t_ms`, `kind`
    /// (trace kind code), `node`, `peer` (4294967295: none), `msg_id` (0: none), `lamport`,
    /// `byzantine` (0/1), `msg` (index into `names`, the message kinds' names), `detail` (low
    /// 32 bits: a fault event's code, a drop's reason), and `vc`:
    /// `width` entries per event (width 0 above 64 nodes; zeros for a non-causal event), and
    /// `local_ms`: each event's node's own clock reading (empty when `width` is 0).
    #[wasm_bindgen(js_name = causalWindow)]
    pub fn causal_window(&self, n: u32) -> Result<JsValue, JsError> {
        let w = self.sim.causal_window(n as usize);
        let mut names: Vec<&'static str> = Vec::new();
        let mut msg = Vec::with_capacity(w.events.len());
        for e in &w.events {
            let i = names.iter().position(|m| *m == e.msg).unwrap_or_else(|| {
                names.push(e.msg);
                names.len() - 1
            });
            msg.push(i.min(255) as u8);
        }
        let col_f64 = |f: &dyn Fn(&crate::trace::TraceEvent) -> f64| -> JsValue {
            js_sys::Float64Array::from(&w.events.iter().map(f).collect::<Vec<f64>>()[..]).into()
        };
        let col_u32 = |f: &dyn Fn(&crate::trace::TraceEvent) -> u32| -> JsValue {
            js_sys::Uint32Array::from(&w.events.iter().map(f).collect::<Vec<u32>>()[..]).into()
        };
        let byzantine: Vec<u8> = (w.events.iter())
            .map(|e| u8::from(e.detail & crate::engine::TRACE_BYZANTINE != 0 && e.msg_id != 0))
            .collect();
        let out = js_sys::Object::new();
        let local_ms: Vec<f64> = w.locals().iter().map(|&us| crate::time::us_to_ms(us)).collect();
        let fields: [(&str, JsValue); 13] = [
            ("count", JsValue::from_f64(w.events.len() as f64)),
            ("detail", col_f64(&|e| (e.detail & 0xFFFF_FFFF) as f64)),
            ("width", JsValue::from_f64(w.width() as f64)),
            ("t_ms", col_f64(&|e| crate::time::us_to_ms(e.t_us))),
            (
                "kind",
                js_sys::Uint8Array::from(&w.events.iter().map(|e| e.kind as u8).collect::<Vec<u8>>()[..]).into(),
            ),
            ("node", col_u32(&|e| e.node)),
            ("peer", col_u32(&|e| e.peer)),
            ("msg_id", col_f64(&|e| e.msg_id as f64)),
            ("lamport", col_f64(&|e| e.lamport as f64)),
            ("byzantine", js_sys::Uint8Array::from(&byzantine[..]).into()),
            ("msg", js_sys::Uint8Array::from(&msg[..]).into()),
            ("vc", js_sys::Uint32Array::from(w.vectors()).into()),
            ("local_ms", js_sys::Float64Array::from(&local_ms[..]).into()),
        ];
        for (key, value) in fields {
            js_sys::Reflect::set(&out, &JsValue::from_str(key), &value)
                .map_err(|_| JsError::new("internal: cannot build the causal window"))?;
        }
        js_sys::Reflect::set(&out, &JsValue::from_str("names"), &to_js(&names)?)
            .map_err(|_| JsError::new("internal: cannot build the causal window"))?;
        Ok(out.into())
    }

    /// The last `n` trace events, oldest first.
    #[wasm_bindgen(js_name = recentTrace)]
    pub fn recent_trace(&self, n: u32) -> Result<JsValue, JsError> {
        #[derive(Serialize)]
        struct Row {
            t_ms: f64,
            kind: crate::trace::TraceKind,
            node: Option<u32>,
            peer: Option<u32>,
            msg: &'static str,
            detail: f64,
        }
        let some = |n: u32| (n != crate::trace::NO_NODE).then_some(n);
        let rows: Vec<Row> = self
            .sim
            .recent_trace(n as usize)
            .into_iter()
            .map(|e| Row {
                t_ms: crate::time::us_to_ms(e.t_us),
                kind: e.kind,
                node: some(e.node),
                peer: some(e.peer),
                msg: e.msg,
                detail: e.detail as f64,
            })
            .collect();
        to_js(&rows)
    }

    /// Refreshes the render columns and returns their pointers and lengths. Views built
    /// on `memory.buffer` from these are valid until the next call into wasm.
    pub fn columns(&mut self) -> Result<JsValue, JsError> {
        let c = self.sim.columns();
        let out = js_sys::Object::new();
        let set = |key: &str, value: f64| {
            js_sys::Reflect::set(&out, &JsValue::from_str(key), &JsValue::from_f64(value)).map(|_| ())
        };
        let ptr = |p: *const u8| p as usize as f64;
        let fields: [(&str, f64); 30] = [
            ("nodes", c.node_status.len() as f64),
            ("msgs_total", c.msgs_total as f64),
            ("links", c.link_blocked.len() as f64),
            ("node_flags", ptr(c.node_flags.as_ptr())),
            ("node_clock_skew_ms", ptr(c.node_clock_skew_ms.as_ptr().cast())),
            ("link_blocked", ptr(c.link_blocked.as_ptr())),
            ("msgs", c.msg_from.len() as f64),
            ("drops", c.drop_from.len() as f64),
            ("node_xy", ptr(c.node_xy.as_ptr().cast())),
            ("node_status", ptr(c.node_status.as_ptr())),
            ("node_suspected_by", ptr(c.node_suspected_by.as_ptr().cast())),
            ("node_group", ptr(c.node_group.as_ptr().cast())),
            ("node_role", ptr(c.node_role.as_ptr())),
            ("node_term", ptr(c.node_term.as_ptr().cast())),
            ("node_load", ptr(c.node_load.as_ptr().cast())),
            ("node_queue", ptr(c.node_queue.as_ptr().cast())),
            ("node_log_len", ptr(c.node_log_len.as_ptr().cast())),
            ("node_commit", ptr(c.node_commit.as_ptr().cast())),
            ("node_value", ptr(c.node_value.as_ptr().cast())),
            ("node_stages", ptr(c.node_stages.as_ptr().cast())),
            ("msg_from", ptr(c.msg_from.as_ptr().cast())),
            ("msg_to", ptr(c.msg_to.as_ptr().cast())),
            ("msg_sent_ms", ptr(c.msg_sent_ms.as_ptr().cast())),
            ("msg_deliver_ms", ptr(c.msg_deliver_ms.as_ptr().cast())),
            ("msg_kind", ptr(c.msg_kind.as_ptr())),
            ("drop_from", ptr(c.drop_from.as_ptr().cast())),
            ("drop_to", ptr(c.drop_to.as_ptr().cast())),
            ("drop_at_ms", ptr(c.drop_at_ms.as_ptr().cast())),
            ("drop_frac", ptr(c.drop_frac.as_ptr().cast())),
            ("drop_reason", ptr(c.drop_reason.as_ptr())),
        ];
        for (key, value) in fields {
            set(key, value).map_err(|_| JsError::new("internal: cannot build the columns object"))?;
        }
        Ok(out.into())
    }
}

impl Simulation {
    /// Replays the run from time 0 to now with every event kept, writing `header` and then
    /// `line(spill, i)` for each event that has one: at most `max_lines`, then `cut` if given.
    fn replay_lines(
        &self,
        header: String,
        max_lines: u32,
        cut: Option<&str>,
        line: impl Fn(&crate::trace::Spill, usize) -> Option<String>,
    ) -> Result<String, JsError> {
        let mut replay = crate::Simulation::with_full_trace(self.sim.scenario().clone()).map_err(js_error)?;
        let end_us = self.sim.now_us();
        let (mut out, mut lines) = (header, 0u32);
        loop {
            let spill = replay.take_trace();
            for text in (0..spill.events.len()).filter_map(|i| line(&spill, i)) {
                if lines == max_lines {
                    if let Some(cut) = cut {
                        out.push_str(cut);
                        out.push('\n');
                    }
                    return Ok(out);
                }
                out.push_str(&text);
                out.push('\n');
                lines += 1;
            }
            if replay.now_us() >= end_us {
                return Ok(out);
            }
            replay.advance_to((replay.now_us() + 100_000).min(end_us));
        }
    }
}

/// An exercise being judged for the page: `Simulation.judge(scenario)`, then `step(n)`
/// between frames until it returns true, then `finish()` (see `crate::exercise::judge`).
#[wasm_bindgen]
pub struct ExerciseJudging {
    judging: Option<crate::exercise::judge::Judging>,
}

#[wasm_bindgen]
impl Simulation {
    /// The built-in exercises: `[{ name, title, class, task, goal, fault_budget, hints }]`.
    pub fn exercises() -> Result<JsValue, JsError> {
        let list: Vec<_> = crate::exercise::catalogue::EXERCISES.iter().map(|e| e.info()).collect();
        to_js(&list)
    }

    /// The scenario of a built-in exercise, as posed (with its `exercise` field).
    pub fn exercise(name: &str) -> Result<JsValue, JsError> {
        let found = crate::exercise::catalogue::find(name).ok_or_else(|| {
            JsError::new(&format!(
                "no exercise named `{name}`; exercises: {}",
                crate::exercise::catalogue::names()
            ))
        })?;
        let mut scenario = found.scenario();
        scenario.about = None;
        scenario_to_js(&scenario)
    }

    /// Starts judging a submitted exercise run (a scenario object or JSON text: the
    /// recorded scenario, never the live state). Errors name the field.
    pub fn judge(scenario: JsValue) -> Result<ExerciseJudging, JsError> {
        let text = json_text(&scenario, "the scenario")?;
        let scenario = Scenario::from_json(&text).map_err(js_error)?;
        let judging = crate::exercise::judge::Judging::new(&scenario).map_err(js_error)?;
        Ok(ExerciseJudging { judging: Some(judging) })
    }
}

#[wasm_bindgen]
impl ExerciseJudging {
    /// Runs up to `steps` steps of 100 simulated ms; true once the time limit is reached.
    pub fn step(&mut self, steps: u32) -> bool {
        let Some(j) = self.judging.as_mut() else {
            return true;
        };
        for _ in 0..steps {
            if j.done() {
                break;
            }
            j.step();
        }
        j.done()
    }

    /// `{ now_ms, end_ms }`: how far the judging has run.
    pub fn progress(&self) -> Result<JsValue, JsError> {
        let (now_ms, end_ms) = self.judging.as_ref().map_or((0.0, 0.0), |j| j.progress_ms());
        to_js(&serde_json::json!({ "now_ms": now_ms, "end_ms": end_ms }))
    }

    /// The judgement (call once, after `step` returned true): `{ exercise, task, goal,
    /// time_limit_ms, faults_used, fault_budget, broken: [..], met, met_at_ms, parts: [{
    /// goal, met, at_ms, why }], notes, headline }`.
    pub fn finish(&mut self) -> Result<JsValue, JsError> {
        let mut j = self
            .judging
            .take()
            .ok_or_else(|| JsError::new("this judging has already finished"))?;
        while !j.done() {
            j.step();
        }
        to_js(&j.finish())
    }
}

/// A seed sweep of one scenario for the page: `Simulation.seedSweep(scenario, untilMs,
/// swarm, livenessMs)`, then `run(seed)` per seed between frames (see `crate::explore`).
#[wasm_bindgen]
pub struct SeedSweep {
    plan: crate::explore::Plan,
}

fn seed_of(seed: f64) -> Result<u64, JsError> {
    if seed.is_finite() && seed >= 0.0 && seed <= MAX_SEED as f64 && seed.fract() == 0.0 {
        Ok(seed as u64)
    } else {
        Err(JsError::new("seed: must be a whole number from 0 to 2^53 − 1"))
    }
}

#[wasm_bindgen]
impl Simulation {
    /// Plans a sweep of `scenario` over seeds: each run lasts `until_ms`; with `swarm`, each
    /// seed draws its faults and the knobs the scenario's `vary` marks, all over by
    /// `until_ms − liveness_ms`, and the liveness phase follows.
    #[wasm_bindgen(js_name = seedSweep)]
    pub fn seed_sweep(scenario: JsValue, until_ms: f64, swarm: bool, liveness_ms: f64) -> Result<SeedSweep, JsError> {
        let text = json_text(&scenario, "the scenario")?;
        let scenario = Scenario::from_json(&text).map_err(js_error)?;
        let until_us = crate::time::ms_to_us(until_ms, "until_ms").map_err(js_error)?;
        let liveness_us = crate::time::ms_to_us(liveness_ms, "liveness_ms").map_err(js_error)?;
        let plan = crate::explore::Plan::new(scenario, until_us, swarm, liveness_us, &[]).map_err(js_error)?;
        Ok(SeedSweep { plan })
    }
}

#[wasm_bindgen]
impl SeedSweep {
    /// One seed's outcome: `{ seed, events, trace_hash, faults, messages_sent,
    /// messages_dropped, violated: { id: ms }, liveness?: { heal_ms, recovered_after_ms },
    /// link?: "F1.…" }` (a link only for a failing seed).
    pub fn run(&self, seed: f64) -> Result<JsValue, JsError> {
        to_js(&self.plan.run(seed_of(seed)?))
    }

    /// The scenario seed `seed` runs (in a swarm, the one it draws), as JSON text.
    #[wasm_bindgen(js_name = scenarioFor)]
    pub fn scenario_for(&self, seed: f64) -> Result<String, JsError> {
        Ok(self.plan.scenario(seed_of(seed)?).to_json())
    }

    /// The checkers that count, in the order the scenario reports them.
    pub fn checks(&self) -> Vec<String> {
        self.plan.checks.clone()
    }
}

#[wasm_bindgen]
impl Simulation {
    /// Shrinks `scenario`, which must violate the checker `check` within `until_ms`, to the
    /// faults, durations and nodes it needs (delta debugging, `explore::shrink`), spending at
    /// most `max_runs` candidate runs; `progress(runs)` hears each run. Long: the page calls
    /// it from a worker (`www/shrink-worker.js`). Returns `{ check, link, violated_at_ms,
    /// removed, faults_before, faults_after, nodes_before, nodes_after, runs, budget_hit }`.
    pub fn shrink(
        scenario: JsValue,
        check: &str,
        until_ms: f64,
        max_runs: u32,
        progress: &js_sys::Function,
    ) -> Result<JsValue, JsError> {
        let text = json_text(&scenario, "the scenario")?;
        let scenario = Scenario::from_json(&text).map_err(js_error)?;
        let until_us = crate::time::ms_to_us(until_ms, "until_ms").map_err(js_error)?;
        let mut tell = |runs: u32| {
            // A throwing progress callback only loses progress, never the search.
            let _ = progress.call1(&JsValue::NULL, &JsValue::from(runs));
        };
        let shrunk =
            crate::explore::shrink::shrink(&scenario, check, until_us, max_runs, &mut tell).map_err(js_error)?;
        scenario_to_js(&crate::explore::shrink::Summary::of(&scenario, check, &shrunk))
    }
}

impl Simulation {
    /// Springs the armed test trap when a run to `target_ms` would pass it.
    fn spring_test_trap(&mut self, target_ms: f64) {
        let Some((at_us, trap)) = self.test_trap else { return };
        if target_ms.is_nan() || target_ms < crate::time::us_to_ms(at_us) {
            return;
        }
        self.sim.advance_to(at_us.max(self.sim.now_us()));
        match trap {
            TestTrap::Panic => panic!(
                "test trap armed at {} ms (armTrapForTest)",
                crate::time::us_to_ms(at_us)
            ),
            TestTrap::OutOfMemory => {
                let layout = std::alloc::Layout::from_size_align(1 << 30, 8).expect("a valid layout");
                std::alloc::handle_alloc_error(layout)
            }
        }
    }
}
