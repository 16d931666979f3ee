// The checker panel: every property the engine's checkers watch, with its state at this
// moment, grouped as the engine classifies them: safety (holding, or violated since t),
// liveness (satisfied since t, or pending for how long — and whether the timing model
// promises it at all), measures. A learner sees which properties hold as they break things. A property that breaks raises a banner naming the moment, and the nodes it
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
    this.list.replaceChildren(...groups(checks, this.state.timeMs));
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

/** The groups, in order: kind (the engine's `property`), title, what it means. */
const GROUPS = [
  ['safety', 'Safety', 'nothing bad happens: a violation has a moment'],
  ['liveness', 'Liveness', 'something good eventually happens: pending or satisfied, never violated'],
  ['measure', 'Measures', 'figures, not promises'],
];

/** The checks grouped under Safety, Liveness and Measures (engines before the grouping
 * report no `property`: their checks are safety properties). */
function groups(checks, nowMs) {
  const kindOf = (c) => c.property ?? 'safety';
  return GROUPS.filter(([kind]) => checks.some((c) => kindOf(c) === kind)).map(([kind, title, hint]) => {
    const li = document.createElement('li');
    li.className = 'check-group';
    li.dataset.group = kind;
    const head = document.createElement('p');
    head.className = 'check-group-title';
    head.textContent = title;
    head.title = hint;
    const list = document.createElement('ul');
    list.className = 'checks';
    list.setAttribute('aria-label', `${title} properties`);
    list.append(...checks.filter((c) => kindOf(c) === kind).map((c) => (kind === 'liveness' ? livenessRow(c, nowMs) : row(c))));
    li.append(head, list);
    return li;
  });
}

/** A liveness property: satisfied since t, or pending for how long, and whether the
 * timing model promises it at all. */
function livenessRow(c, nowMs) {
  const satisfied = c.satisfied_since_ms != null;
  const li = document.createElement('li');
  li.className = `check liveness ${satisfied ? 'satisfied' : 'pending'}${c.guaranteed ? '' : ' unpromised'}`;
  li.dataset.check = c.id;
  const state = document.createElement('span');
  state.className = 'state';
  state.textContent = satisfied
    ? `✓ since ${formatMs(c.satisfied_since_ms)}`
    : `… pending ${formatMs(Math.max(0, nowMs - (c.pending_since_ms ?? 0)))}`;
  const name = document.createElement('span');
  name.className = 'name';
  name.textContent = c.name;
  const detail = document.createElement('span');
  detail.className = 'detail';
  detail.textContent = c.guaranteed ? c.detail : `${c.detail} · not guaranteed here: without a bound on delays nothing promises it (FLP)`;
  li.append(state, name, detail);
  return li;
}

function row(c) {
  const li = document.createElement('li');
  li.className = `check ${c.holds ? (c.first_violation_ms === null ? 'holds' : 'recovered') : 'violated'}`;
  li.dataset.check = c.id;
  const state = document.createElement('span');
  state.className = 'state';
  state.textContent = c.property === 'measure' ? '·' : c.holds ? (c.first_violation_ms === null ? '✓ holds' : '✓ holds again') : `✗ since ${formatMs(c.violated_since_ms)}`;
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
