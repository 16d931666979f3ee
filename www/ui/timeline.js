// The timeline strip under the canvas: every past and scheduled fault as a mark (a bar when
// it has a duration), the current moment as a cursor. Hovering a mark names it; clicking
// (or Enter on) a mark selects its target node in the inspector.
import { formatMs } from '../app.js';

const MIN_SPAN_MS = 10_000;

export class Timeline {
  constructor(app) {
    this.app = app;
    this.el = app.root.querySelector('#timeline');
    this.track = this.el.querySelector('.track');
    this.cursor = this.el.querySelector('.cursor');
    this.endLabel = this.el.querySelector('.end');
    this.count = -1;
    this.spanMs = MIN_SPAN_MS;
  }

  /** Rebuilds the marks when the schedule changed (or when `force`). */
  refresh(force = false) {
    const faults = this.app.sim.scenario().faults ?? [];
    const lastEnd = faults.reduce((m, f) => Math.max(m, f.at_ms + (f.duration_ms ?? 0)), 0);
    const span = niceSpan(Math.max(MIN_SPAN_MS, lastEnd * 1.15, this.app.timeMs * 1.1));
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
    b.dataset.past = String(entry.at_ms <= this.app.timeMs);
    b.addEventListener('click', () => {
      const target = f.node ?? f.from;
      if (target !== undefined) this.app.select(target);
    });
    return b;
  }

  /** Moves the cursor; grows the span when time passes its end. */
  tick() {
    if (this.app.timeMs > this.spanMs * 0.98) this.refresh(true);
    else this.refresh();
    this.cursor.style.left = `${Math.min(100, (100 * this.app.timeMs) / this.spanMs)}%`;
    for (const m of this.track.children) {
      const past = String(Number(m.style.left.replace('%', '')) * this.spanMs / 100 <= this.app.timeMs);
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
