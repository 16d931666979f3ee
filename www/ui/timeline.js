// The timeline strip under the canvas: every past and scheduled fault as a mark (a bar when
// it has a duration), the current moment as a cursor, and how far the run has been. It is
// also the time-travel scrubber: click or drag anywhere on it to go to that moment (back
// in time too: the engine restores a checkpoint and replays, so the moment is exact);
// arrow keys step a second (Shift: ten), Home goes to 0, End to the furthest moment
// reached. Clicking (or Enter on) a mark selects its target node in the inspector.
import { formatMs } from '../format.js';

const MIN_SPAN_MS = 10_000;

export class Timeline {
  constructor({ root, state, session }) {
    this.state = state;
    this.session = session;
    this.el = root.querySelector('#timeline');
    this.track = this.el.querySelector('.track');
    this.cursor = this.el.querySelector('.cursor');
    this.endLabel = this.el.querySelector('.end');
    this.wrap = this.el.querySelector('.track-wrap');
    this.reached = this.el.querySelector('.reached');
    this.count = -1;
    this.spanMs = MIN_SPAN_MS;
    this.reachedMs = 0;
    this.wireScrub();
    state.on('run', () => this.restart());
    state.on('schedule', () => this.refresh(true));
    state.on('frame', () => this.tick());
  }

  /** Forgets how far the run went (a new run). */
  restart() {
    this.reachedMs = 0;
    this.refresh(true);
  }

  wireScrub() {
    const msAt = (ev) => {
      const rect = this.track.getBoundingClientRect();
      const f = Math.min(1, Math.max(0, (ev.clientX - rect.left) / rect.width));
      return Math.round(f * this.spanMs);
    };
    let dragging = false;
    this.wrap.addEventListener('pointerdown', (ev) => {
      if (ev.target.closest('.mark')) return;
      dragging = true;
      this.wrap.setPointerCapture?.(ev.pointerId);
      this.session.seek(msAt(ev));
    });
    this.wrap.addEventListener('pointermove', (ev) => { if (dragging) this.session.seek(msAt(ev)); });
    const stop = () => { dragging = false; };
    this.wrap.addEventListener('pointerup', stop);
    this.wrap.addEventListener('pointercancel', stop);
    this.wrap.addEventListener('keydown', (ev) => {
      const step = ev.shiftKey ? 10_000 : 1_000;
      const t = this.state.timeMs;
      let to = null;
      if (ev.key === 'ArrowLeft') to = Math.max(0, t - step);
      else if (ev.key === 'ArrowRight') to = t + step;
      else if (ev.key === 'Home') to = 0;
      else if (ev.key === 'End') to = this.reachedMs;
      if (to === null) return;
      ev.preventDefault();
      ev.stopPropagation();
      this.session.seek(to);
    });
  }

  /** Rebuilds the marks when the schedule changed (or when `force`). */
  refresh(force = false) {
    const faults = this.state.sim.scenario().faults ?? [];
    const lastEnd = faults.reduce((m, f) => Math.max(m, f.at_ms + (f.duration_ms ?? 0)), 0);
    const span = niceSpan(Math.max(MIN_SPAN_MS, lastEnd * 1.15, this.state.timeMs * 1.1, this.reachedMs * 1.05));
    if (!force && faults.length === this.count && span === this.spanMs) return;
    this.count = faults.length;
    this.spanMs = span;
    this.endLabel.textContent = formatMs(span);
    const marks = faults.map((f, i) => this.mark(f, i));
    this.track.replaceChildren(...marks);
  }

  mark(entry, i) {
    const f = entry.fault;
    const b = document.createElement('button');
    b.type = 'button';
    b.className = `mark mark-${markClass(f.kind)}`;
    b.style.left = `${(100 * entry.at_ms) / this.spanMs}%`;
    if (entry.duration_ms) b.style.width = `max(6px, ${(100 * entry.duration_ms) / this.spanMs}%)`;
    const label = `${describe(f)} at ${formatMs(entry.at_ms)}${entry.duration_ms ? ` for ${formatMs(entry.duration_ms)}` : ''}`;
    b.title = label;
    b.setAttribute('aria-label', label);
    b.dataset.index = String(i);
    b.dataset.past = String(entry.at_ms <= this.state.timeMs);
    b.addEventListener('pointerdown', (ev) => ev.stopPropagation());
    b.addEventListener('click', () => {
      const target = f.node ?? f.from;
      if (target !== undefined) this.session.select(target);
    });
    return b;
  }

  /** Moves the cursor; grows the span when time passes its end. */
  tick() {
    const t = this.state.timeMs;
    this.reachedMs = Math.max(this.reachedMs, t);
    if (t > this.spanMs * 0.98 || this.reachedMs > this.spanMs) this.refresh(true);
    else this.refresh();
    this.cursor.style.left = `${Math.min(100, (100 * t) / this.spanMs)}%`;
    this.reached.style.width = `${Math.min(100, (100 * this.reachedMs) / this.spanMs)}%`;
    this.wrap.setAttribute('aria-valuemax', String(Math.round(this.spanMs)));
    this.wrap.setAttribute('aria-valuenow', String(Math.round(t)));
    this.wrap.setAttribute('aria-valuetext', formatMs(t));
    for (const m of this.track.children) {
      const past = String(Number(m.style.left.replace('%', '')) * this.spanMs / 100 <= t);
      if (m.dataset.past !== past) m.dataset.past = past;
    }
  }
}

function niceSpan(ms) {
  const steps = [10e3, 20e3, 30e3, 60e3, 120e3, 300e3, 600e3, 1800e3, 3600e3];
  return steps.find((s) => s >= ms) ?? Math.ceil(ms / 3600e3) * 3600e3;
}

function markClass(kind) {
  if (['crash', 'restart', 'pause', 'storage'].includes(kind)) return 'node';
  if (kind.startsWith('clock')) return 'clock';
  if (['omission', 'slow', 'gray', 'byzantine'].includes(kind)) return 'gray';
  return 'net';
}

/** A short human label for a fault (mirrors the engine's labels). */
export function describe(f) {
  const n = (id) => `n${id}`;
  switch (f.kind) {
    case 'crash': return `crash ${n(f.node)}`;
    case 'restart': return `restart ${n(f.node)}`;
    case 'pause': return `pause ${n(f.node)} ${formatMs(f.duration_ms)}`;
    case 'omission': return `omission at ${n(f.node)} (send ${f.send}, receive ${f.receive})`;
    case 'slow': return `slow ${n(f.node)}`;
    case 'gray': return `gray ${n(f.node)} (fails ${f.fail})`;
    case 'byzantine': return `Byzantine ${n(f.node)}: ${f.behaviour.kind}${f.behaviour.as_node !== undefined ? ` as ${n(f.behaviour.as_node)}` : ''}`;
    case 'storage': return `storage ${f.damage} at ${n(f.node)}`;
    case 'clock_jump': return `clock of ${n(f.node)} jumps ${f.by_ms} ms`;
    case 'clock_offset': return `clock of ${n(f.node)} offset ${f.offset_ms} ms`;
    case 'clock_drift': return `clock of ${n(f.node)} drifts ${f.drift_ppm} ppm`;
    case 'clock_strobe': return `clock of ${n(f.node)} strobes`;
    case 'partition': return `partition ${f.groups.map((g) => g.join(',')).join(' | ')}`;
    case 'isolate': return `isolate ${n(f.node)}`;
    case 'shape': return `partition: ${f.shape.replace(/_/g, ' ')}`;
    case 'partial_partition': return `partial partition ${f.a.join(',')} ✕ ${f.b.join(',')}`;
    case 'heal': return 'heal';
    case 'cut': return `cut ${n(f.from)}→${n(f.to)}`;
    case 'uncut': return `restore ${n(f.from)}→${n(f.to)}`;
    case 'flap': return `flapping ${n(f.from)}–${n(f.to)}`;
    case 'link': return `link ${n(f.from)}→${n(f.to)}`;
    default: return f.kind;
  }
}
