// The boundary: the only module that touches the wasm package. It loads the module, wraps
// Simulation, and builds typed-array views of the render columns fresh on every call (wasm
// memory growth detaches old views).
//
// A trap (a panic, running out of memory) kills the wasm instance that trapped: every
// object it holds is gone. This module notices the first trap, remembers the panic message
// the engine's hook handed over, and refuses further calls into the dead instance (they
// throw `EngineDead`), so one trap never turns into a cascade of confusing errors.
// `reloadEngine()` gives a fresh instance (a fresh module record: wasm-bindgen's glue
// caches its instance per record); simulations made before it stay dead.
import { fillConstants } from './constants.js';

/** The live instance: { mod, memory, generation } plus what ended the last one. */
const engine = { mod: null, memory: null, generation: 0, dead: false, lastPanic: null, trap: null };
const trapListeners = new Set();

/** Thrown by calls into an instance that has trapped. */
export class EngineDead extends Error {
  constructor(trap) {
    super(`the engine stopped: ${trap.message}`);
    this.trap = trap;
  }
}

/** Loads and compiles the wasm module (once per page; later calls return at once). */
export async function loadEngine() {
  if (!engine.mod) await instantiate('../pkg/faultline.js');
}

/** A fresh wasm instance after a trap. Objects from the old one stay unusable. */
export async function reloadEngine() {
  await instantiate(`../pkg/faultline.js?instance=${engine.generation + 1}`);
}

async function instantiate(path) {
  const mod = await import(path);
  const exports = await mod.default();
  engine.mod = mod;
  engine.memory = exports.memory;
  engine.generation += 1;
  engine.dead = false;
  engine.lastPanic = null;
  engine.trap = null;
  mod.onPanic((message) => { engine.lastPanic = message; });
  fillConstants(mod.constants());
}

/** Calls `listener(trap)` when the engine traps; trap = { kind, message, memoryBytes }. */
export function onTrap(listener) {
  trapListeners.add(listener);
  return () => trapListeners.delete(listener);
}

/** The trap that ended the current instance, or null while it is alive. */
export const engineTrap = () => (engine.dead ? engine.trap : null);

/** Runs `call` against the live instance; a trap marks it dead and is reported once. */
function guard(generation, call) {
  if (engine.dead || generation !== engine.generation) throw new EngineDead(engine.trap ?? { kind: 'restarted', message: 'the engine was restarted' });
  try {
    return call();
  } catch (e) {
    if (!(e instanceof WebAssembly.RuntimeError)) throw e;
    engine.dead = true;
    engine.trap = describeTrap(e);
    for (const listener of trapListeners) listener(engine.trap);
    throw new EngineDead(engine.trap);
  }
}

function describeTrap(error) {
  const memoryBytes = engine.memory?.buffer.byteLength ?? 0;
  if (engine.lastPanic) return { kind: 'panic', message: engine.lastPanic, memoryBytes };
  // Running out of memory aborts without a panic: wasm's `unreachable`.
  return { kind: 'trap', message: `${error.message} (wasm memory ${Math.round(memoryBytes / 2 ** 20)} MiB; most likely out of memory)`, memoryBytes };
}

/** Bytes of wasm linear memory now (it only grows; a flat figure means no leak). */
export const wasmMemoryBytes = () => engine.memory.buffer.byteLength;

/** Turns anything thrown by the engine into a message a person can read. */
export function messageOf(error) {
  if (error instanceof Error) return error.message;
  return String(error);
}

const statics = (call) => guard(engine.generation, () => call(engine.mod.Simulation));
export const presets = () => statics((S) => S.presets());
export const presetScenario = (name) => statics((S) => S.preset(name));
export const freshSeed = () => statics((S) => S.freshSeed());
/** One trial of the detector experiment: { false_suspicions, detection_ms }. */
export const detectorTrial = (kind, parameter, seed) => statics((S) => S.detectorTrial(kind, parameter, seed));
/** Reads share-link text into { scenario, t_ms }; throws saying what is wrong. */
export const decodeLink = (text) => statics((S) => S.decodeLink(text));
/** Share-link text for `scenario` at `tMs`, without a running simulation. */
export const encodeLink = (scenario, tMs) => statics((S) => S.encodeLink(scenario, tMs));

/** A running simulation. Every method that takes input may throw an Error with a
 * message naming the field; the simulation is unchanged after a throw. */
export class Sim {
  constructor(scenario) {
    this.generation = engine.generation;
    this.inner = guard(this.generation, () => new engine.mod.Simulation(scenario));
  }

  /** Calls into the wasm object; a trap marks the instance dead (see `guard`). */
  call(method, ...args) { return guard(this.generation, () => this.inner[method](...args)); }

  free() {
    if (!engine.dead && this.generation === engine.generation) this.inner.free();
  }

  runUntil(ms) { return this.call('runUntil', ms); }
  step(ms) { return this.call('step', ms); }
  inject(fault, durationMs) { return this.call('inject', fault, durationMs ?? undefined); }
  inspect() { return this.call('inspect'); }
  nodeView(id) { return this.call('nodeView', id); }
  scenario() { return this.call('scenario'); }
  traceHash() { return this.call('traceHash'); }
  shareLink() { return this.call('shareLink'); }
  recentTrace(n) { return this.call('recentTrace', n); }
  /** Moves to absolute time `ms`, backwards too (exact: checkpoint + replay). */
  seek(ms) { return this.call('seek', ms); }
  checkpoints() { return this.call('checkpoints'); }
  /** The latest checkpoint at or before `ms` (seeking there replays nothing), or 0. */
  checkpointBeforeMs(ms) {
    return typeof this.inner.checkpointBeforeMs === 'function' ? this.call('checkpointBeforeMs', ms) : 0;
  }
  /** { used_bytes, budget_bytes, checkpoints, interval_ms, time_travel } or null when the
   * engine does not report its memory. */
  memory() { return typeof this.inner.memory === 'function' ? this.call('memory') : null; }
  setMemoryBudget(bytes) { if (typeof this.inner.setMemoryBudget === 'function') this.call('setMemoryBudget', bytes); }
  /** The whole trace from time 0 as JSON lines (replayed; at most `max` lines). */
  traceJsonl(max) { return this.call('traceJsonl', max); }
  /** Every checker's property now: [{ id, name, holds, violated_since_ms, … }]. */
  checks() { return this.call('checks'); }
  /** The checkers' time series: [{ id, name, unit, t_ms, values }]. */
  series() { return this.call('series'); }
  /** [{ kind, name }]: the message kinds of this run's protocol, for the legend. */
  messageKinds() { return this.call('messageKinds'); }
  /** Tests only: the first run past `ms` traps ("panic" or "oom"). */
  armTrapForTest(ms, kind) { return this.call('armTrapForTest', ms, kind); }

  /** Typed-array views of the render columns, valid until the next call into wasm. */
  columns() {
    const c = this.call('columns');
    const buf = engine.memory.buffer;
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
