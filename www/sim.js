// The boundary: the only module that touches the wasm package. It loads engines (the
// current one, and for a link made with an earlier epoch that epoch's build when the site
// ships it), wraps Simulation, and builds typed-array views of the render columns fresh on
// every call (wasm memory growth detaches old views).
//
// Engines are found through `pkg/manifest.json` (written by `cargo xtask build` and `dist`),
// resolved against this module's own URL, so a site under a sub-path or embedded from
// another origin finds them. Each engine's module is imported and compiled once per page.

const PKG = new URL('../pkg/', import.meta.url);
/** Used when a site has no manifest (a `pkg/` built before manifests existed). */
const FALLBACK = { glue: 'faultline.js', wasm: 'faultline_bg.wasm' };

let manifest = null; // { current, engines: [{ epoch, glue, wasm }] } or null
let current = null; // the current engine: { epoch, Simulation, memory }
let currentLoad = null;
const loads = new Map(); // epoch → Promise of an engine

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

/** Imports an engine's glue, compiles its wasm and returns { epoch, Simulation, memory }. */
async function instantiate(entry) {
  const glue = await import(new URL(entry.glue, PKG).href);
  const exports = await glue.default({ module_or_path: new URL(entry.wasm, PKG) });
  const epoch = entry.epoch ?? glue.Simulation.epoch?.() ?? 1;
  return { epoch, Simulation: glue.Simulation, memory: exports.memory };
}

/** Loads and compiles the current engine (once per page) and returns it. */
export function loadEngine() {
  currentLoad ??= (async () => {
    manifest = await readManifest();
    const entry = manifest ? manifest.engines.find((e) => e.epoch === manifest.current) : FALLBACK;
    if (!entry) throw new Error(`pkg/manifest.json lists no engine for its current epoch ${manifest.current}`);
    current = await instantiate(entry);
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

/** Bytes of wasm linear memory now (it only grows; a flat figure means no leak). */
export const wasmMemoryBytes = () => current.memory.buffer.byteLength;

/** Turns anything thrown by the engine into a message a person can read. */
export function messageOf(error) {
  if (error instanceof Error) return error.message;
  return String(error);
}

export const presets = () => current.Simulation.presets();
export const presetScenario = (name) => current.Simulation.preset(name);
export const freshSeed = () => current.Simulation.freshSeed();
/** One trial of the detector experiment: { false_suspicions, detection_ms }. */
export const detectorTrial = (kind, parameter, seed) => current.Simulation.detectorTrial(kind, parameter, seed);
/** Reads share-link text into { scenario, t_ms, epoch }; throws saying what is wrong. */
export const decodeLink = (text, engine = current) => engine.Simulation.decodeLink(text);

/** A running simulation on `engine` (the current one unless a link asks for its own
 * epoch's). Every method that takes input may throw an Error with a message naming the
 * field; the simulation is unchanged after a throw. */
export class Sim {
  constructor(scenario, engine = current) {
    this.engine = engine;
    this.inner = new engine.Simulation(scenario);
  }

  /** The epoch of the engine running this simulation. */
  get epoch() { return this.engine.epoch; }

  free() {
    this.inner.free();
  }

  runUntil(ms) { return this.inner.runUntil(ms); }
  step(ms) { return this.inner.step(ms); }
  inject(fault, durationMs) { return this.inner.inject(fault, durationMs ?? undefined); }
  inspect() { return this.inner.inspect(); }
  nodeView(id) { return this.inner.nodeView(id); }
  scenario() { return this.inner.scenario(); }
  traceHash() { return this.inner.traceHash(); }
  shareLink() { return this.inner.shareLink(); }
  recentTrace(n) { return this.inner.recentTrace(n); }
  /** Moves to absolute time `ms`, backwards too (exact: checkpoint + replay). */
  seek(ms) { return this.inner.seek(ms); }
  checkpoints() { return this.inner.checkpoints(); }
  /** The whole trace from time 0 as JSON lines (replayed; at most `max` lines). */
  traceJsonl(max) { return this.inner.traceJsonl(max); }
  /** Every checker's property now: [{ id, name, holds, violated_since_ms, … }]. */
  checks() { return this.inner.checks(); }
  /** The checkers' time series: [{ id, name, unit, t_ms, values }]. */
  series() { return this.inner.series(); }
  /** [{ kind, name }]: the message kinds of this run's protocol, for the legend. */
  messageKinds() { return this.inner.messageKinds(); }

  /** Typed-array views of the render columns, valid until the next call into wasm. */
  columns() {
    const c = this.inner.columns();
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
