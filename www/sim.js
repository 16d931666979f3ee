// The boundary: the only module that touches the wasm package. It initialises the
// module once, wraps Simulation, and builds typed-array views of the render columns
// fresh on every call (wasm memory growth detaches old views).
import init, { Simulation } from '../pkg/faultline.js';

let memory = null;

/** Loads and compiles the wasm module (once per page). */
export async function loadEngine() {
  if (!memory) {
    const exports = await init();
    memory = exports.memory;
  }
}

/** Bytes of wasm linear memory now (it only grows; a flat figure means no leak). */
export const wasmMemoryBytes = () => memory.buffer.byteLength;

/** Turns anything thrown by the engine into a message a person can read. */
export function messageOf(error) {
  if (error instanceof Error) return error.message;
  return String(error);
}

export const presets = () => Simulation.presets();
export const presetScenario = (name) => Simulation.preset(name);
export const freshSeed = () => Simulation.freshSeed();
/** One trial of the detector experiment: { false_suspicions, detection_ms }. */
export const detectorTrial = (kind, parameter, seed) => Simulation.detectorTrial(kind, parameter, seed);
/** Reads share-link text into { scenario, t_ms }; throws saying what is wrong. */
export const decodeLink = (text) => Simulation.decodeLink(text);

/** A running simulation. Every method that takes input may throw an Error with a
 * message naming the field; the simulation is unchanged after a throw. */
export class Sim {
  constructor(scenario) {
    this.inner = new Simulation(scenario);
  }

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
    const buf = memory.buffer;
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
