// The checker panel: every property the engine's checkers watch, with its state at this
// moment — holding, or violated since t — so a learner sees which properties hold as they
// break things. A property that breaks raises a banner naming the moment, and the nodes it
// names are outlined on the canvas (`state.violating`, read by the stage).
import { formatMs } from '../format.js';

/** How often the panel refreshes while playing, ms. */
const UPDATE_MS = 100;

export class ChecksPanel {
  constructor({ root, state, notify }) {
    this.state = state;
    this.notify = notify;
    this.panel = root.querySelector('#checks-panel');
    this.list = root.querySelector('#checks-list');
    this.seen = new Map(); // id → violated_since_ms last shown
    this.last = '';
    this.lastUpdate = 0;
    state.on('run', () => this.reset());
    state.on('seeked', () => this.reset());
    // While travelling (a link's moment, a seek) the page jumps: nothing is announced.
    state.on('frame', ({ playing, travelling }) => {
      const now = performance.now();
      if ((!playing && !travelling) || now - this.lastUpdate > UPDATE_MS) this.update(travelling);
    });
  }

  /** Forgets what was announced (a new run, or a seek). */
  reset() {
    this.seen.clear();
    this.last = '';
    this.update(true);
  }

  update(quiet = false) {
    this.lastUpdate = performance.now();
    const checks = this.state.sim.checks();
    this.panel.hidden = checks.length === 0;
    const violating = new Set();
    for (const c of checks) if (!c.holds) for (const n of c.nodes) violating.add(n);
    this.state.violating = violating;
    const key = JSON.stringify(checks);
    if (key === this.last) return;
    this.last = key;
    this.list.replaceChildren(...checks.map((c) => row(c)));
    for (const c of checks) {
      const before = this.seen.get(c.id);
      if (!c.holds && before !== c.violated_since_ms) {
        if (!quiet && before === undefined) {
          this.notify.violation(`${c.name} — violated at t = ${formatMs(c.violated_since_ms)}: ${c.detail}`, c.id);
        }
        this.seen.set(c.id, c.violated_since_ms);
      } else if (c.holds && before !== undefined) {
        this.seen.delete(c.id);
      }
    }
  }
}

function row(c) {
  const li = document.createElement('li');
  li.className = `check ${c.holds ? (c.first_violation_ms === null ? 'holds' : 'recovered') : 'violated'}`;
  li.dataset.check = c.id;
  const state = document.createElement('span');
  state.className = 'state';
  state.textContent = c.holds ? (c.first_violation_ms === null ? '✓ holds' : '✓ holds again') : `✗ since ${formatMs(c.violated_since_ms)}`;
  const name = document.createElement('span');
  name.className = 'name';
  name.textContent = c.name;
  const detail = document.createElement('span');
  detail.className = 'detail';
  const first = c.first_violation_ms !== null && c.holds ? ` · first broken at ${formatMs(c.first_violation_ms)}` : '';
  detail.textContent = `${c.detail}${first}`;
  li.append(state, name, detail);
  return li;
}
