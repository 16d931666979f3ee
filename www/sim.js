// The boundary: the only module that touches the wasm package. It loads engines (the
// current one, and for a link made with an earlier epoch that epoch's build when the site
// ships it), wraps Simulation, and builds typed-array views of the render columns fresh on
// every call (wasm memory growth detaches old views).
//
// Engines are found through `pkg/manifest.json` (written by `cargo xtask build` and `dist`),
// resolved against this module's own URL, so a site under a sub-path or embedded from
// another origin finds them. Each engine's module is imported and compiled once per page.
//
// A trap (a panic, running out of memory) kills the wasm instance that trapped: every
// object it holds is gone. This module notices the first trap of an instance, remembers
// the panic message the engine's hook handed over, and refuses further calls into it
// (they throw `EngineDead`), so one trap never turns into a cascade of confusing errors.
// `reloadEngine(engine)` gives a fresh instance of the same build (a fresh module record:
// wasm-bindgen's glue caches its instance per record); simulations on the old one stay dead.
import { fillConstants } from './constants.js';

const PKG = new URL('../pkg/', import.meta.url);
/** Used when a site has no manifest (a `pkg/` built before manifests existed). */
const FALLBACK = { glue: 'faultline.js', wasm: 'faultline_bg.wasm' };

let manifest = null; // { current, engines: [{ epoch, glue, wasm }] } or null
let current = null; // the current engine (see `instantiate`)
let currentLoad = null;
const loads = new Map(); // epoch → Promise of an engine
let instances = 0; // fresh instances made after traps, for unique module URLs
const trapListeners = new Set();

/** Thrown by calls into an instance that has trapped. */
export class EngineDead extends Error {
  constructor(trap) {
    super(`the engine stopped: ${trap.message}`);
    this.trap = trap;
  }
}

/** How people see an epoch: e1, e2, … */
export const epochLabel = (epoch) => `e${epoch}`;

async function readManifest() {
  let response;
  try {
    response = await fetch(new URL('manifest.json', PKG), { cache: 'no-cache' });
  } catch {
    return null;
  }
  if (!response.ok) return null;
  const value = await response.json();
  if (!Number.isInteger(value?.current) || !Array.isArray(value.engines)) {
    throw new Error('pkg/manifest.json is malformed');
  }
  return value;
}

/** Imports an engine's glue (a fresh module record when `instance` > 0), compiles its wasm
 * and returns { epoch, entry, Simulation, glue, memory, dead, trap, lastPanic }. */
async function instantiate(entry, instance = 0) {
  const url = new URL(entry.glue, PKG);
  if (instance > 0) url.searchParams.set('instance', String(instance));
  const glue = await import(url.href);
  const exports = await glue.default({ module_or_path: new URL(entry.wasm, PKG) });
  const epoch = entry.epoch ?? glue.Simulation.epoch?.() ?? 1;
  const engine = { epoch, entry, Simulation: glue.Simulation, glue, memory: exports.memory, dead: false, trap: null, lastPanic: null };
  // Engines of earlier epochs may predate the panic hook and the constants export.
  glue.onPanic?.((message) => { engine.lastPanic = message; });
  return engine;
}

/** Loads and compiles the current engine (once per page) and returns it. */
export function loadEngine() {
  currentLoad ??= (async () => {
    manifest = await readManifest();
    const entry = manifest ? manifest.engines.find((e) => e.epoch === manifest.current) : FALLBACK;
    if (!entry) throw new Error(`pkg/manifest.json lists no engine for its current epoch ${manifest.current}`);
    current = await instantiate(entry);
    fillConstants(current.glue.constants());
    loads.set(current.epoch, Promise.resolve(current));
    return current;
  })();
  return currentLoad;
}

/** The current engine (after `loadEngine`). */
export const currentEngine = () => current;

/** The engine of `epoch` when this site ships it (loaded on first use), else null. */
export async function engineFor(epoch) {
  await loadEngine();
  if (!loads.has(epoch)) {
    const entry = manifest?.engines.find((e) => e.epoch === epoch);
    if (!entry) return null;
    loads.set(epoch, instantiate(entry));
  }
  return loads.get(epoch);
}

/** A fresh instance of `engine`'s build after a trap; it replaces the dead one. */
export async function reloadEngine(engine = current) {
  instances += 1;
  const fresh = await instantiate(engine.entry, instances);
  if (engine === current) current = fresh;
  loads.set(fresh.epoch, Promise.resolve(fresh));
  return fresh;
}

/** Calls `listener(trap, engine)` when an engine traps; trap = { kind, message, memoryBytes }. */
export function onTrap(listener) {
  trapListeners.add(listener);
  return () => trapListeners.delete(listener);
}

/** Runs `call` against `engine`; a trap marks it dead and is reported once. */
function guard(engine, call) {
  if (engine.dead) throw new EngineDead(engine.trap);
  try {
    return call();
  } catch (e) {
    if (!(e instanceof WebAssembly.RuntimeError)) throw e;
    engine.dead = true;
    engine.trap = describeTrap(engine, e);
    for (const listener of trapListeners) listener(engine.trap, engine);
    throw new EngineDead(engine.trap);
  }
}

function describeTrap(engine, error) {
  const memoryBytes = engine.memory?.buffer.byteLength ?? 0;
  if (engine.lastPanic) return { kind: 'panic', message: engine.lastPanic, memoryBytes };
  // Running out of memory aborts without a panic: wasm's `unreachable`.
  const mib = Math.round(memoryBytes / 2 ** 20);
  return { kind: 'trap', message: `${error.message} (wasm memory ${mib} MiB; most likely out of memory)`, memoryBytes };
}

/** Bytes of wasm linear memory now (it only grows; a flat figure means no leak). */
export const wasmMemoryBytes = () => current.memory.buffer.byteLength;

/** Turns anything thrown by the engine into a message a person can read. */
export function messageOf(error) {
  if (error instanceof Error) return error.message;
  return String(error);
}

const statics = (engine, call) => guard(engine, () => call(engine.Simulation));
export const presets = () => statics(current, (S) => S.presets());
export const presetScenario = (name) => statics(current, (S) => S.preset(name));
export const freshSeed = () => statics(current, (S) => S.freshSeed());
/** One trial of the detector experiment: { false_suspicions, detection_ms }. */
export const detectorTrial = (kind, parameter, seed) => statics(current, (S) => S.detectorTrial(kind, parameter, seed));
/** A sweep of `scenario` over seeds (src/explore): `.run(seed)` gives one seed's outcome
 * { seed, events, trace_hash, violated: { id: ms }, liveness?, link? }; `.free()` when done. */
export const seedSweep = (scenario, untilMs, swarm, livenessMs) =>
  statics(current, (S) => S.seedSweep(scenario, untilMs, swarm, livenessMs));
/** Shrinks a run that violates `check` within `untilMs` (src/explore/shrink.rs); long, so
 * the page calls it in a worker (shrink-worker.js). `onProgress(runs)` hears each run. */
export const shrinkRun = (scenario, check, untilMs, maxRuns, onProgress) =>
  statics(current, (S) => S.shrink(scenario, check, untilMs, maxRuns, onProgress));
/** Whether `variant` differs from `first` only in settings (src/compare.rs): the changed
 * settings' field paths; throws saying why when the two cannot be compared. */
export const compareScenarios = (first, variant) => statics(current, (S) => {
  if (!S.compareScenarios) throw new Error('This engine cannot compare runs.');
  return S.compareScenarios(first, variant);
});
/** The presets `name`'s "try next" names that differ from it only in settings. */
export const comparePartners = (name) => statics(current, (S) => S.comparePartners?.(name) ?? []);
/** The built-in exercises: [{ name, title, class, task, goal, fault_budget, hints }]. */
export const exercises = () => statics(current, (S) => S.exercises?.() ?? []);
/** A built-in exercise's scenario as posed (with its `exercise` field). */
export const exerciseScenario = (name) => statics(current, (S) => S.exercise(name));
/** Starts judging a recorded exercise run (src/exercise/judge.rs): `step(n)` runs n steps
 * of 100 simulated ms and says whether it is done, `progress()` gives { now_ms, end_ms },
 * `finish()` the judgement; each call is guarded like every engine call. */
export function judgeRun(scenario) {
  const engine = current;
  const job = statics(engine, (S) => S.judge(scenario));
  return {
    step: (n) => guard(engine, () => job.step(n)),
    progress: () => guard(engine, () => job.progress()),
    finish: () => guard(engine, () => { try { return job.finish(); } finally { job.free(); } }),
  };
}
/** Reads share-link text into { scenario, t_ms, epoch }; throws saying what is wrong. */
export const decodeLink = (text, engine = current) => statics(engine, (S) => S.decodeLink(text));
/** Share-link text for `scenario` at `tMs` without a running simulation (null when the
 * engine predates `encodeLink`). */
export const encodeLink = (scenario, tMs, engine = current) => statics(engine, (S) => S.encodeLink?.(scenario, tMs) ?? null);

/** A running simulation on `engine` (the current one unless a link asks for its own
 * epoch's). Every method that takes input may throw an Error with a message naming the
 * field; the simulation is unchanged after a throw. */
export class Sim {
  constructor(scenario, engine = current) {
    this.engine = engine;
    this.inner = guard(engine, () => new engine.Simulation(scenario));
  }

  /** The epoch of the engine running this simulation. */
  get epoch() { return this.engine.epoch; }

  /** Calls into the wasm object; a trap marks the instance dead (see `guard`). */
  call(method, ...args) { return guard(this.engine, () => this.inner[method](...args)); }

  free() {
    if (!this.engine.dead) this.inner.free();
  }

  runUntil(ms) { return this.call('runUntil', ms); }
  /** Runs toward `ms` until about `maxEvents` are processed (stopping at a microsecond
   * boundary, a moment `runUntil` could have stopped at). Returns { events, reached }.
   * Needs `canStopOnBudget` (engines of earlier epochs have no budget). */
  runUntilWithin(ms, maxEvents) {
    const [events, reached] = this.call('runUntilWithin', ms, maxEvents);
    return { events, reached };
  }
  get canStopOnBudget() { return typeof this.inner.runUntilWithin === 'function'; }
  step(ms) { return this.call('step', ms); }
  inject(fault, durationMs) { return this.call('inject', fault, durationMs ?? undefined); }
  inspect() { return this.call('inspect'); }
  nodeView(id) { return this.call('nodeView', id); }
  scenario() { return this.call('scenario'); }
  /** The timing model in one line, with its bounds (older engines: null). */
  timingModel() { return this.inner.timingModel ? this.call('timingModel') : null; }
  traceHash() { return this.call('traceHash'); }
  shareLink() { return this.call('shareLink'); }
  recentTrace(n) { return this.call('recentTrace', n); }
  /** The newest `n` events with message ids, Lamport times and vector clocks, as typed
   * arrays (see docs/js-api.md); null on engines of earlier epochs. */
  causalWindow(n) { return typeof this.inner.causalWindow === 'function' ? this.call('causalWindow', n) : null; }
  /** Moves to absolute time `ms`, backwards too (exact: checkpoint + replay). */
  seek(ms) { return this.call('seek', ms); }
  checkpoints() { return this.call('checkpoints'); }
  /** The latest checkpoint at or before `ms` (seeking there replays nothing), or 0 when
   * the engine does not say. */
  checkpointBeforeMs(ms) {
    return typeof this.inner.checkpointBeforeMs === 'function' ? this.call('checkpointBeforeMs', ms) : 0;
  }
  /** { used_bytes, budget_bytes, checkpoints, interval_ms, time_travel } or null when the
   * engine does not report its memory. */
  memory() { return typeof this.inner.memory === 'function' ? this.call('memory') : null; }
  setMemoryBudget(bytes) { if (typeof this.inner.setMemoryBudget === 'function') this.call('setMemoryBudget', bytes); }
  /** The whole trace from time 0 as JSON lines (replayed; at most `max` lines). */
  traceJsonl(max) { return this.call('traceJsonl', max); }
  /** The run as a ShiViz log (up to 64 nodes); throws on engines of earlier epochs. */
  shivizLog(max) {
    if (typeof this.inner.shivizLog !== 'function') throw new Error('This engine version cannot write a ShiViz log; open the run with the current engine.');
    return this.call('shivizLog', max);
  }
  /** Every checker's property now: [{ id, name, holds, violated_since_ms, … }]. */
  checks() { return this.call('checks'); }
  /** The checkers' time series: [{ id, name, unit, t_ms, values }]. */
  series() { return this.call('series'); }
  /** The clients' history, or null (protocols without one, engines before it existed). */
  history() { return typeof this.inner.history === 'function' ? this.call('history') : null; }
  checkHistory(maxStates, key) { return this.call('checkHistory', maxStates, key); }
  /** [{ kind, name }]: the message kinds of this run's protocol, for the legend. */
  messageKinds() { return this.call('messageKinds'); }
  /** Tests only: the first run past `ms` traps ("panic" or "oom"). */
  armTrapForTest(ms, kind) { return this.call('armTrapForTest', ms, kind); }

  /** Typed-array views of the render columns, valid until the next call into wasm. */
  columns() {
    const c = this.call('columns');
    const buf = this.engine.memory.buffer;
    const u8 = (ptr, len) => new Uint8Array(buf, ptr, len);
    const u32 = (ptr, len) => new Uint32Array(buf, ptr, len);
    const f32 = (ptr, len) => new Float32Array(buf, ptr, len);
    const f64 = (ptr, len) => new Float64Array(buf, ptr, len);
    return {
      nodes: c.nodes, msgs: c.msgs, msgsTotal: c.msgs_total, drops: c.drops, links: c.links,
      nodeXY: f32(c.node_xy, 2 * c.nodes),
      nodeStatus: u8(c.node_status, c.nodes),
      nodeFlags: u8(c.node_flags, c.nodes),
      nodeSkew: f32(c.node_clock_skew_ms, c.nodes),
      nodeSuspectedBy: u32(c.node_suspected_by, c.nodes),
      nodeGroup: u32(c.node_group, c.nodes),
      nodeRole: u8(c.node_role, c.nodes),
      nodeTerm: u32(c.node_term, c.nodes),
      nodeLoad: f32(c.node_load, c.nodes),
      nodeQueue: u32(c.node_queue, c.nodes),
      nodeLogLen: u32(c.node_log_len, c.nodes),
      nodeCommit: u32(c.node_commit, c.nodes),
      nodeValue: f64(c.node_value, c.nodes),
      // Engines of earlier epochs have no stages column.
      nodeStages: c.node_stages === undefined ? null : u32(c.node_stages, c.nodes),
      linkBlocked: u8(c.link_blocked, c.links),
      msgFrom: u32(c.msg_from, c.msgs),
      msgTo: u32(c.msg_to, c.msgs),
      msgSent: f64(c.msg_sent_ms, c.msgs),
      msgDeliver: f64(c.msg_deliver_ms, c.msgs),
      msgKind: u8(c.msg_kind, c.msgs),
      dropFrom: u32(c.drop_from, c.drops),
      dropTo: u32(c.drop_to, c.drops),
      dropAt: f64(c.drop_at_ms, c.drops),
      dropFrac: f32(c.drop_frac, c.drops),
      dropReason: u8(c.drop_reason, c.drops),
    };
  }
}
