// The clock overlay: beside each node of a small cluster, its own clock reading (skew and
// all), its true Lamport time and vector clock (kept by the engine for every protocol), and
// the clocks its protocol keeps (a key-value replica's hybrid logical clock) — so a learner
// sees wall clocks disagree while logical clocks keep the order. Off by default; the lines
// are looked up from `Sim.nodeView` at most every REFRESH_MS of wall time and drawn by the
// renderer.
import { formatMs } from '../format.js';

/** Largest cluster that gets the overlay (above, the labels would cover the canvas). */
export const OVERLAY_MAX_NODES = 16;
/** Largest cluster whose vector clocks are printed in full. */
const VECTOR_MAX_NODES = 8;
const REFRESH_MS = 100;
/** Protocol facts worth a line of the overlay, by their label. */
const PROTOCOL_CLOCKS = ['HLC'];

export class ClockOverlay {
  constructor({ root, state, session }) {
    this.box = root.querySelector('#clock-overlay');
    this.state = state;
    this.lines = null;
    this.key = null;
    this.wall = -Infinity;
    this.box?.addEventListener('change', () => { this.key = null; session.frame(); });
    state.on('run', () => { this.key = null; });
  }

  get on() { return Boolean(this.box?.checked); }

  /** Lines to print under each node (Map id → [text]), or null when off or too many nodes. */
  linesFor(sim, nodes, timeMs) {
    if (!this.on || nodes > OVERLAY_MAX_NODES) return null;
    const key = `${timeMs}`;
    const now = performance.now();
    if (key === this.key || (this.lines && now - this.wall < REFRESH_MS)) return this.lines;
    this.key = key;
    this.wall = now;
    this.lines = new Map();
    for (let id = 0; id < nodes; id++) this.lines.set(id, clockLines(sim.nodeView(id), nodes));
    return this.lines;
  }

  /** What the overlay says when it cannot show (for the stage's caption), or ''. */
  note(nodes) {
    return this.on && nodes > OVERLAY_MAX_NODES ? `Clock labels are shown for clusters of up to ${OVERLAY_MAX_NODES} nodes.` : '';
  }
}

/** A node's clocks, one short line each. */
export function clockLines(v, nodes) {
  const skew = v.clock_skew_ms;
  const lines = [`clock ${formatMs(v.clock_ms)}${Math.abs(skew) >= 0.5 ? ` (${skew > 0 ? '+' : '−'}${formatMs(Math.abs(skew))})` : ''}`];
  if (v.lamport !== undefined) lines.push(`true Lamport ${v.lamport}`);
  if (v.vector_clock && nodes <= VECTOR_MAX_NODES) lines.push(`true vector [${v.vector_clock.join(',')}]`);
  for (const f of v.facts ?? []) if (PROTOCOL_CLOCKS.includes(f.label)) lines.push(`${f.label} ${f.value}`);
  return lines;
}
