// Breaking things: the fault palette (every fault, its target and parameters, an optional
// duration) and the menu that opens on a clicked node. Both build a fault object as in
// docs/js-api.md and hand it to the session's inject, which shows the engine's message on error.
// The node menu is reachable without a mouse: on the focused canvas the arrow keys pick a
// node and Enter (or the context-menu key, or Shift+F10) opens its menu; in the menu the arrow
// keys move between actions and Escape closes it, returning focus where it came from.

const node = (name = 'node', label = 'node') => ({ name, label, type: 'node' });
const num = (name, label, value, extra = {}) => ({ name, label, type: 'number', value, ...extra });
const prob = (name, label, value) => ({ name, label, type: 'number', value, min: 0, max: 1, step: 0.05 });
const choice = (name, label, options) => ({ name, label, type: 'select', options });
const text = (name, label, value, hint) => ({ name, label, type: 'text', value, hint });
const check = (name, label, value) => ({ name, label, type: 'checkbox', value });

/** Every fault the palette offers, in groups. `timed`: it may take a duration. */
export const FAULTS = [
  { group: 'Node', kind: 'crash', label: 'Crash', fields: [node()], timed: true, hint: 'with a duration: crash, then restart' },
  { group: 'Node', kind: 'restart', label: 'Restart', fields: [node()] },
  { group: 'Node', kind: 'pause', label: 'Pause (GC / VM)', fields: [node(), num('duration_ms', 'for (ms)', 2000, { min: 1 })] },
  { group: 'Node', kind: 'omission', label: 'Omission', fields: [node(), prob('send', 'send loss', 0.7), prob('receive', 'receive loss', 0)], timed: true },
  { group: 'Node', kind: 'slow', label: 'Slow node', fields: [node(), num('min_ms', 'extra ms per event, from', 30), num('max_ms', 'to', 60)], timed: true },
  { group: 'Node', kind: 'gray', label: 'Gray failure', fields: [node(), prob('fail', 'fails requests', 0.8), num('slow_ms', 'slower by (ms)', 0)], timed: true, hint: 'turn on probes (gray-failure preset) to see requests fail' },
  { group: 'Node', kind: 'byzantine', label: 'Byzantine', fields: [node(), choice('behaviour', 'behaviour', ['equivocate', 'forge', 'corrupt', 'lie', 'honest']), node('as_node', 'forge as node')], timed: true },
  { group: 'Node', kind: 'storage', label: 'Storage damage', fields: [node(), choice('damage', 'damage', ['torn', 'bitflip'])], hint: 'on a crashed node; seen at restart' },
  { group: 'Clock', kind: 'clock_jump', label: 'Clock jump', fields: [node(), num('by_ms', 'by (ms, ±)', -1500)] },
  { group: 'Clock', kind: 'clock_offset', label: 'Clock offset', fields: [node(), num('offset_ms', 'offset (ms, ±)', 1000)], timed: true },
  { group: 'Clock', kind: 'clock_drift', label: 'Clock drift', fields: [node(), num('drift_ppm', 'drift (ppm, ±)', 200000, { step: 1000 })], timed: true },
  { group: 'Clock', kind: 'clock_strobe', label: 'Clock strobe', fields: [node(), num('a_ms', 'offset A (ms)', 0), num('b_ms', 'offset B (ms)', 800), num('period_ms', 'every (ms)', 250, { min: 1 })], timed: true },
  { group: 'Network', kind: 'partition', label: 'Partition (groups)', fields: [text('groups', 'groups', '0,1,2 | 3,4', 'node ids; | between groups')], timed: true },
  { group: 'Network', kind: 'isolate', label: 'Isolate a node', fields: [node()], timed: true },
  { group: 'Network', kind: 'shape', label: 'Partition shape', fields: [choice('shape', 'shape', ['halves', 'minority_third', 'ring', 'bridge'])], timed: true },
  { group: 'Network', kind: 'partial_partition', label: 'Partial partition', fields: [text('a', 'side A', '0,1'), text('b', 'side B', '3,4')], timed: true },
  { group: 'Network', kind: 'heal', label: 'Heal everything', fields: [] },
  { group: 'Network', kind: 'stabilise', label: 'Network stabilises (GST)', fields: [] },
  { group: 'Link', kind: 'cut', label: 'Cut one way', fields: [node('from', 'from'), node('to', 'to')], timed: true },
  { group: 'Link', kind: 'uncut', label: 'Restore one way', fields: [node('from', 'from'), node('to', 'to')] },
  { group: 'Link', kind: 'flap', label: 'Flapping link', fields: [node('from', 'from'), node('to', 'to'), num('period_ms', 'every (ms)', 500, { min: 1 }), check('both', 'both ways', true)], timed: true },
  { group: 'Link', kind: 'link', label: 'Link latency / loss', fields: [node('from', 'from'), node('to', 'to'), num('min_ms', 'latency from (ms)', 200), num('max_ms', 'to (ms)', 600), prob('loss', 'loss', 0), prob('duplicate', 'duplicate', 0), check('both', 'both ways', true)], timed: true, hint: 'with a duration: a latency spike' },
];

/** Parses "0, 1, 2" into node ids; throws naming the field. */
function ids(textValue, field) {
  const parts = textValue.split(',').map((t) => t.trim()).filter(Boolean);
  return parts.map((t) => {
    if (!/^\d+$/.test(t)) throw new Error(`${field}: "${t}" is not a node id`);
    return Number(t);
  });
}

/** Builds the fault object from the palette's values (strings and booleans by field). */
export function buildFault(kind, v) {
  const n = (k) => {
    const x = Number(v[k]);
    if (v[k] === '' || !Number.isFinite(x)) throw new Error(`${k}: "${v[k]}" is not a number`);
    return x;
  };
  switch (kind) {
    case 'crash': case 'restart': case 'isolate': return { kind, node: n('node') };
    case 'pause': return { kind, node: n('node'), duration_ms: n('duration_ms') };
    case 'omission': return { kind, node: n('node'), send: n('send'), receive: n('receive') };
    case 'slow': return { kind, node: n('node'), delay: { kind: 'uniform', min_ms: n('min_ms'), max_ms: n('max_ms') } };
    case 'gray': return { kind, node: n('node'), fail: n('fail'), slow_ms: n('slow_ms') };
    case 'byzantine': {
      const behaviour = v.behaviour === 'forge' ? { kind: 'forge', as_node: n('as_node') } : { kind: v.behaviour };
      return { kind, node: n('node'), behaviour };
    }
    case 'storage': return { kind, node: n('node'), damage: v.damage };
    case 'clock_jump': return { kind, node: n('node'), by_ms: n('by_ms') };
    case 'clock_offset': return { kind, node: n('node'), offset_ms: n('offset_ms') };
    case 'clock_drift': return { kind, node: n('node'), drift_ppm: Math.round(n('drift_ppm')) };
    case 'clock_strobe': return { kind, node: n('node'), a_ms: n('a_ms'), b_ms: n('b_ms'), period_ms: n('period_ms') };
    case 'partition': return { kind, groups: v.groups.split('|').map((g, i) => ids(g, `groups[${i}]`)) };
    case 'shape': return { kind, shape: v.shape };
    case 'partial_partition': return { kind, a: ids(v.a, 'a'), b: ids(v.b, 'b') };
    case 'heal': case 'stabilise': return { kind };
    case 'cut': case 'uncut': return { kind, from: n('from'), to: n('to') };
    case 'flap': return { kind, from: n('from'), to: n('to'), period_ms: n('period_ms'), both: v.both };
    case 'link': {
      const fault = { kind, from: n('from'), to: n('to'), latency: { kind: 'uniform', min_ms: n('min_ms'), max_ms: n('max_ms') }, both: v.both };
      if (n('loss') > 0) fault.loss = n('loss');
      if (n('duplicate') > 0) fault.duplicate = n('duplicate');
      return fault;
    }
    default: throw new Error(`unknown fault kind ${kind}`);
  }
}

/** The palette in the side panel. */
export class FaultPalette {
  constructor({ root, state, session, notify }) {
    this.root = root;
    this.state = state;
    this.session = session;
    this.notify = notify;
    this.form = root.querySelector('#palette');
    this.kind = this.form.querySelector('#fault-kind');
    this.fields = this.form.querySelector('#fault-fields');
    this.hint = this.form.querySelector('#fault-hint');
    this.duration = this.form.querySelector('#fault-duration');
    this.durationRow = this.form.querySelector('#fault-duration-row');
    let group = null;
    for (const f of FAULTS) {
      if (!group || group.label !== f.group) {
        group = document.createElement('optgroup');
        group.label = f.group;
        this.kind.append(group);
      }
      group.append(new Option(f.label, f.kind));
    }
    this.kind.addEventListener('change', () => this.showFields());
    this.form.addEventListener('submit', (ev) => { ev.preventDefault(); this.apply(); });
    for (const b of root.querySelectorAll('[data-quick]')) {
      b.addEventListener('click', () => this.quick(b.dataset.quick));
    }
    state.on('palette', ({ kind, node }) => this.openWith(kind, node));
    this.showFields();
  }

  spec() {
    return FAULTS.find((f) => f.kind === this.kind.value);
  }

  showFields(prefill = {}) {
    const spec = this.spec();
    this.fields.replaceChildren(...spec.fields.map((f) => this.field(f, prefill)));
    this.hint.textContent = spec.hint ?? '';
    this.durationRow.hidden = !spec.timed;
  }

  field(f, prefill) {
    const label = document.createElement('label');
    label.className = `field field-${f.type}`;
    const span = document.createElement('span');
    span.textContent = f.label;
    let input;
    if (f.type === 'select') {
      input = document.createElement('select');
      for (const o of f.options) input.append(new Option(o.replace(/_/g, ' '), o));
    } else {
      input = document.createElement('input');
      input.type = f.type === 'node' ? 'number' : f.type;
      if (f.type === 'node') { input.min = '0'; input.step = '1'; }
      for (const k of ['min', 'max', 'step']) if (f[k] !== undefined) input[k] = String(f[k]);
      if (f.hint) input.placeholder = f.hint;
    }
    input.name = f.name;
    const value = prefill[f.name] ?? f.value ?? (f.type === 'node' ? (this.state.selected ?? 0) : undefined);
    if (f.type === 'checkbox') input.checked = Boolean(value);
    else if (value !== undefined) input.value = String(value);
    label.append(span, input);
    return label;
  }

  values() {
    const v = {};
    for (const input of this.fields.querySelectorAll('input, select')) {
      v[input.name] = input.type === 'checkbox' ? input.checked : input.value.trim();
    }
    return v;
  }

  apply() {
    let fault;
    let duration;
    try {
      fault = buildFault(this.kind.value, this.values());
      const d = this.duration.value.trim();
      if (!this.durationRow.hidden && d !== '') {
        duration = Number(d);
        if (!Number.isFinite(duration)) throw new Error(`duration_ms: "${d}" is not a number`);
      }
    } catch (e) {
      this.notify.error(e.message);
      return false;
    }
    return this.session.inject(fault, duration);
  }

  /** Opens the palette on a fault kind with a node filled in (from the node menu). */
  openWith(kind, nodeId) {
    this.kind.value = kind;
    this.showFields({ node: nodeId, from: nodeId });
    this.root.querySelector('#faults-panel').open = true;
    this.kind.focus();
  }

  quick(action) {
    const { session, state } = this;
    switch (action) {
      case 'halves': return session.inject({ kind: 'shape', shape: 'halves' });
      case 'third': return session.inject({ kind: 'shape', shape: 'minority_third' });
      case 'ring': return session.inject({ kind: 'shape', shape: 'ring' });
      case 'bridge': return session.inject({ kind: 'shape', shape: 'bridge' });
      case 'isolate':
        if (state.selected === null) return this.notify.error('Select a node first (click it on the canvas).');
        return session.inject({ kind: 'isolate', node: state.selected });
      case 'heal': return session.inject({ kind: 'heal' });
      default: return false;
    }
  }
}

/** The small menu that opens on a clicked node. */
export class NodeMenu {
  /** canvas: the stage's canvas; positionOf(id) → { x, y } on the page; announcer: the
   * live region ({ say(text) }). Opens on the stage's 'node-menu' event. */
  constructor({ root, state, session, canvas, positionOf, announcer }) {
    this.root = root;
    this.state = state;
    this.session = session;
    this.positionOf = positionOf;
    this.announcer = announcer;
    this.el = root.querySelector('#node-menu');
    this.title = this.el.querySelector('.menu-title');
    this.body = this.el.querySelector('.menu-actions');
    this.returnTo = null;
    this.el.addEventListener('keydown', (ev) => this.menuKey(ev));
    canvas.addEventListener('keydown', (ev) => this.stageKey(ev));
    state.on('escape', () => this.close());
    state.on('run', () => this.close());
    state.on('node-menu', ({ id, x, y }) => (id === null ? this.close() : this.open(id, x, y)));
  }

  /** Keys on the focused canvas: arrows, Home and End pick a node; Enter, the context-menu
   * key or Shift+F10 open the menu of the selected node (Space still plays and pauses). */
  stageKey(ev) {
    const { state, session } = this;
    if (ev.ctrlKey || ev.metaKey || ev.altKey || !state.sim) return;
    const n = state.sim.columns().nodes;
    const at = state.selected;
    let next = null;
    if (ev.key === 'ArrowRight' || ev.key === 'ArrowDown') next = at === null ? 0 : (at + 1) % n;
    else if (ev.key === 'ArrowLeft' || ev.key === 'ArrowUp') next = at === null ? n - 1 : (at + n - 1) % n;
    else if (ev.key === 'Home') next = 0;
    else if (ev.key === 'End') next = n - 1;
    if (next !== null) {
      ev.preventDefault();
      session.select(next);
      this.announcer?.say(`Node ${next}: ${state.sim.nodeView(next).status}. Enter opens its actions.`);
      return;
    }
    if (ev.key === 'Enter' || ev.key === 'ContextMenu' || (ev.key === 'F10' && ev.shiftKey)) {
      ev.preventDefault();
      const id = at ?? 0;
      if (at === null) session.select(id);
      const p = this.positionOf(id);
      this.open(id, p.x, p.y);
    }
  }

  /** Keys inside the open menu: arrows, Home and End move between actions; Escape closes. */
  menuKey(ev) {
    const items = [...this.body.querySelectorAll('button')];
    const i = items.indexOf(document.activeElement);
    let to = null;
    if (ev.key === 'ArrowDown') to = (i + 1) % items.length;
    else if (ev.key === 'ArrowUp') to = (i - 1 + items.length) % items.length;
    else if (ev.key === 'Home') to = 0;
    else if (ev.key === 'End') to = items.length - 1;
    else if (ev.key === 'Escape') {
      ev.preventDefault();
      ev.stopPropagation(); // closes the menu only; the selection stays
      this.close();
      return;
    }
    if (to === null) return;
    ev.preventDefault();
    items[to].focus();
  }

  open(id, clientX, clientY) {
    if (!this.state.sim) return;
    if (this.el.hidden) this.returnTo = document.activeElement;
    const status = this.state.sim.nodeView(id).status;
    this.title.textContent = `Node ${id} · ${status}`;
    const actions = status === 'crashed'
      ? [['Restart', () => ({ kind: 'restart', node: id })], ['Damage storage (torn write)', () => ({ kind: 'storage', node: id, damage: 'torn' })]]
      : [
        ['Crash', () => ({ kind: 'crash', node: id })],
        ['Crash for 3 s', () => [{ kind: 'crash', node: id }, 3000]],
        ...(status === 'up' ? [['Pause 2 s (GC)', () => ({ kind: 'pause', node: id, duration_ms: 2000 })]] : []),
        ['Isolate', () => ({ kind: 'isolate', node: id })],
        ['Slow (30–60 ms per event)', () => ({ kind: 'slow', node: id, delay: { kind: 'uniform', min_ms: 30, max_ms: 60 } })],
        ['Send omission 70%', () => ({ kind: 'omission', node: id, send: 0.7, receive: 0 })],
        ['Gray: fail 80% of requests', () => ({ kind: 'gray', node: id, fail: 0.8, slow_ms: 0 })],
        ['Clock jumps back 1.5 s', () => ({ kind: 'clock_jump', node: id, by_ms: -1500 })],
        ['Byzantine: equivocate', () => ({ kind: 'byzantine', node: id, behaviour: { kind: 'equivocate' } })],
      ];
    const buttons = actions.map(([label, make]) => {
      const b = document.createElement('button');
      b.type = 'button';
      b.textContent = label;
      b.addEventListener('click', () => {
        const made = make();
        const [fault, duration] = Array.isArray(made) ? made : [made, undefined];
        if (this.session.inject(fault, duration)) this.close();
      });
      return b;
    });
    const more = document.createElement('button');
    more.type = 'button';
    more.className = 'more';
    more.textContent = 'More faults…';
    more.addEventListener('click', () => { this.close(); this.state.emit('palette', { kind: 'crash', node: id }); });
    this.body.replaceChildren(...buttons, more);
    this.el.hidden = false;
    const stage = this.root.querySelector('.stage-wrap').getBoundingClientRect();
    const w = 230, h = this.el.offsetHeight;
    this.el.style.left = `${Math.min(clientX - stage.left + 12, stage.width - w - 8)}px`;
    this.el.style.top = `${Math.max(8, Math.min(clientY - stage.top - 20, stage.height - h - 8))}px`;
    buttons[0]?.focus();
  }

  /** Hides the menu; if focus was inside it, focus goes back to where the menu was opened. */
  close() {
    const hadFocus = this.el.contains(document.activeElement);
    this.el.hidden = true;
    if (hadFocus && this.returnTo?.isConnected) this.returnTo.focus();
    this.returnTo = null;
  }
}
