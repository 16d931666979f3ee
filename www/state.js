// The page's shared state and its events: what is loaded and where the run is, plus a
// small publish/subscribe hub. UI modules read the fields and subscribe to topics; only
// the session (session.js) changes the run. Nothing here touches the DOM or the engine.
//
// Topics: 'run' (a new run was loaded), 'frame' (time moved or something must be
// redrawn; detail { playing, travelling }: travelling while long work jumps through time), 'seeked' (time jumped), 'schedule' (the fault schedule
// changed), 'select' (the selected node changed), 'play' (play state or speed changed),
// 'palette' (open the fault palette on { kind, node }), 'escape' (close menus), 'trap'
// (the engine trapped; detail: the trap), 'hover-message' (the pointer is over a message on
// the canvas, or left it: detail { from, to, sentMs } or null), 'node-menu' (open the node menu: { id, x, y }; id
// null closes it), 'epoch' (a link's engine epoch is not shipped: { shared, accept }),
// 'compare' (a comparison ended; one starts with a 'run').

export class State {
  constructor() {
    /** The running simulation (a `Sim` from sim.js), or null before the first load. */
    this.sim = null;
    /** The scenario as loaded, before live injections (Reset starts from it). */
    this.base = null;
    this.presetName = null;
    /** Compare mode: the variant run beside `sim` ({ sim, base, changed, labels: [A, B] },
     * compare.js), or null. The session moves both as one. */
    this.variant = null;
    /** Simulated time shown, ms: the engine's time except while a long job runs. */
    this.timeMs = 0;
    this.selected = null;
    this.playing = false;
    this.speed = 1;
    /** The speed the engine keeps up with (below `speed` when it cannot). */
    this.effectiveSpeed = 1;
    /** Node ids some failing checker names (outlined on the canvas). */
    this.violating = new Set();
    /** A message to ring on the canvas ({ from, to, sentMs }: hovered in the diagram), or null. */
    this.highlightMessage = null;
    /** The message in flight under the pointer on the canvas ({ from, to, sentMs }), or null. */
    this.hoveredMessage = null;
    this.listeners = new Map();
  }

  /** Calls `fn(detail)` on every `topic` event; returns an unsubscribe function. */
  on(topic, fn) {
    if (!this.listeners.has(topic)) this.listeners.set(topic, new Set());
    this.listeners.get(topic).add(fn);
    return () => this.listeners.get(topic).delete(fn);
  }

  emit(topic, detail) {
    for (const fn of this.listeners.get(topic) ?? []) fn(detail);
  }
}
