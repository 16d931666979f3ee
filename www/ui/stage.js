// The stage: the canvas view of the run. Draws a frame on every 'frame' event, refits the
// canvas when its box changes, tells the live region what it drew, and turns a click on it
// into a selection and a 'node-menu' event. In compare mode a second stage draws the
// variant (`simOf` picks the run; its canvas is passed in): same code, another canvas.
import { Renderer } from '../render/canvas.js';
import { ClockOverlay } from './clocks.js';

/** Most paused nodes whose "paused until" is looked up per frame. */
const PAUSED_LOOKUPS_MAX = 64;

export class Stage {
  /** announcer: the live region that puts the canvas in words (ui/announce.js), or null
   * (the variant's stage: one voice is enough). canvas: the canvas to draw on (the page's
   * #stage by default); simOf(state): the run it shows (the first run by default). */
  constructor({ root, state, session, announcer, canvas = root.querySelector('#stage'), simOf = (s) => s.sim }) {
    this.state = state;
    this.announcer = announcer;
    this.simOf = simOf;
    this.renderer = new Renderer(canvas);
    this.clocks = new ClockOverlay({ root, state, session });
    canvas.addEventListener('click', (ev) => {
      if (!simOf(state)) return;
      const rect = canvas.getBoundingClientRect();
      // A fingertip gets a 44 px target however small the node is drawn.
      const id = this.renderer.nodeAt(ev.clientX - rect.left, ev.clientY - rect.top, ev.pointerType === 'touch' ? 22 : 0);
      session.select(id);
      state.emit('node-menu', { id, x: ev.clientX, y: ev.clientY });
    });
    // Hovering a message in flight marks its arrow in the time-space diagram.
    canvas.addEventListener('pointermove', (ev) => {
      if (!simOf(state)) return;
      const rect = canvas.getBoundingClientRect();
      state.hoveredMessage = this.renderer.messageAt(ev.clientX - rect.left, ev.clientY - rect.top);
      state.emit('hover-message', state.hoveredMessage);
    });
    // Banners and bars above the canvas change its box: refit whenever it changes.
    new ResizeObserver(() => this.resize()).observe(canvas);
    state.on('frame', () => this.draw());
    state.on('run', () => this.resize());
    state.on('compare', () => this.resize());
  }

  /** Fits the canvas to its box (after layout changes) and redraws. */
  resize() {
    // With no live engine (after a trap) the last frame stays on screen, untouched.
    if (!this.simOf(this.state)) return;
    this.renderer.resize();
    this.draw();
  }

  draw() {
    const sim = this.simOf(this.state);
    if (!sim) return;
    const first = sim === this.state.sim;
    // Every call into wasm may grow its memory and detach the column views: the ones that
    // are not about columns go first (inspect(), behind the value prefix, allocates).
    const prefix = valuePrefix(sim);
    const cols = sim.columns();
    const paused = [];
    for (let i = 0; i < cols.nodes && paused.length < PAUSED_LOOKUPS_MAX; i++) if (cols.nodeStatus[i] === 2) paused.push(i);
    const pausedUntil = new Map(paused.map((id) => [id, sim.nodeView(id).paused_until_ms]));
    const s = this.state;
    const clockLines = this.clocks.linesFor(sim, cols.nodes, s.timeMs);
    // nodeView may have grown wasm memory, detaching the views: then they are rebuilt.
    const fresh = paused.length || clockLines ? sim.columns() : cols;
    this.renderer.draw({
      cols: fresh, timeMs: s.timeMs, selected: s.selected, speed: s.effectiveSpeed, pausedUntil,
      violating: first ? s.violating : NONE, valuePrefix: prefix, highlight: s.highlightMessage, clockLines,
    });
    this.announcer?.observe(sim, fresh);
    if (first) s.drawn = { msgsTotal: fresh.msgsTotal ?? fresh.msgs, shown: this.renderer.lastDrawn.shown };
  }

  /** Where node `id` is drawn, in page coordinates (tests and the legend use it). */
  nodeScreenPosition(id) {
    const p = this.renderer.nodeScreenPosition(id);
    const rect = this.renderer.canvas.getBoundingClientRect();
    return { x: rect.left + p.x, y: rect.top + p.y };
  }
}

const NONE = new Set();
const PREFIX = { lease: 'tok ', service: 'breakers open: ', kv: 'L ' };
const prefixes = new WeakMap();
function valuePrefix(sim) {
  if (!prefixes.has(sim)) prefixes.set(sim, PREFIX[sim.inspect().protocol] ?? 'v=');
  return prefixes.get(sim);
}
