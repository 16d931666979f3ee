// The client history view (Porcupine's picture): one lane per client, each operation a
// bar from its call to its return, labelled with what it did and saw; an operation that
// has not returned (or whose client gave up: outcome unknown) is open-ended, fading to the
// right. The linearizability check runs here in slices between frames, one key at a time
// with a step budget sized to a few milliseconds (`Sim.checkHistory`), so the page never
// waits on it; when the history is not linearizable the operations that cannot be ordered
// are drawn thick with a "!" and listed with the engine's sentence saying why. Clicking a
// bar (or Enter on the focused diagram, arrows to pick) moves the run to that operation's
// return.
//
// Shown only for runs whose clients record a history (`Sim.history()` is not null).
import { fitCanvas } from '../render/fit.js';
import { COLORS } from '../render/canvas.js';
import { formatMs } from '../format.js';

const LEFT = 58, TOP = 8, BOTTOM = 18;
/** Wall milliseconds of checking per frame, and the search steps allowed for one key. */
const SLICE_MS = 6;
const MAX_STATES = 2_000_000;
/** Lowest re-read interval of the history while playing, in wall ms. */
const REFRESH_MS = 200;
const OP_COLOR = { read: '#5aa9ff', write: '#7bdcb5', cas: '#c49bff' };

/** What an operation did, short: "w 502", "r 1202", "cas 1→2", "r ?" (no answer). */
export function opLabel(o) {
  const v = (x) => (x === null || x === undefined ? 'nil' : String(x));
  if (o.op === 'read') return o.outcome === 'ok' ? `r ${v(o.value)}` : 'r ?';
  if (o.op === 'write') return `w ${v(o.value)}`;
  return `cas ${v(o.expected)}→${v(o.value)}${o.outcome === 'fail' ? ' ✗' : ''}`;
}

/** An operation in words, for captions and the violation list. */
export function opWords(o) {
  const end = o.complete_us === null ? 'never returned' : formatMs(o.complete_us / 1000);
  const how = { ok: '', fail: ' (failed)', unknown: ' (outcome unknown)' }[o.outcome];
  return `client ${o.client}, key ${o.key}: ${opLabel(o)}${how}, ${formatMs(o.invoke_us / 1000)} to ${end}`;
}

export class HistoryView {
  constructor({ root, state, session }) {
    this.state = state;
    this.session = session;
    const $ = (s) => root.querySelector(s);
    this.panel = $('#history-panel');
    this.canvas = $('#history');
    this.verdict = $('#history-verdict');
    this.caption = $('#history-caption');
    this.list = $('#history-violation');
    this.data = null; // { initial, keys, ops }
    this.fetchedAt = -Infinity;
    this.job = null; // { keys, k, budget, states, started }
    this.result = null; // the latest finished check
    this.picked = -1; // index into this.order
    this.bars = []; // [{ x1, x2, y1, y2, id }] of the last drawing
    this.panel.addEventListener('toggle', () => this.refresh(true));
    this.canvas.addEventListener('click', (e) => this.click(e));
    this.canvas.addEventListener('keydown', (e) => this.key(e));
    state.on('run', () => this.reset());
    state.on('frame', () => this.refresh(false));
  }

  get open() { return this.panel.open && !this.panel.hidden; }

  reset() {
    this.data = null;
    this.job = null;
    this.result = null;
    this.picked = -1;
    this.list.replaceChildren();
    const has = !!this.state.sim && this.state.sim.history() !== null;
    this.panel.hidden = !has;
    this.refresh(true);
  }

  /** Re-reads the history (at most every REFRESH_MS while playing), checks a slice, draws. */
  refresh(force) {
    const sim = this.state.sim;
    if (!this.open || !sim) return;
    const now = performance.now();
    if (force || !this.state.playing || now - this.fetchedAt > REFRESH_MS) {
      this.fetchedAt = now;
      const data = sim.history();
      if (!data) return;
      this.order = data.ops.map((o) => o.id).sort((a, b) => data.ops[a].invoke_us - data.ops[b].invoke_us);
      const changed = !this.data || this.signature(data) !== this.signature(this.data);
      if (this.data && data.ops.length < this.data.ops.length) {
        // The run went back in time: the old verdict was about operations not yet made.
        this.result = null;
        this.list.replaceChildren();
      }
      this.data = data;
      if (changed) this.startCheck();
    }
    this.checkSlice();
    this.draw();
  }

  /** What the check depends on: the operations and how they ended. */
  signature(d) {
    let done = 0;
    for (const o of d.ops) if (o.complete_us !== null) done++;
    return `${d.ops.length}/${done}`;
  }

  startCheck() {
    this.job = { keys: this.data.keys.slice(), k: 0, budget: 20_000, states: 0, verdicts: [] };
    if (!this.result) this.say(this.verdict, 'Checking…');
  }

  /** Runs the check for at most SLICE_MS: one key per call, its budget sized to the slice. */
  checkSlice() {
    const job = this.job, sim = this.state.sim;
    if (!job) return;
    const start = performance.now();
    while (job.k < job.keys.length && performance.now() - start < SLICE_MS) {
      const t0 = performance.now();
      let r;
      try {
        r = sim.checkHistory(job.budget, job.keys[job.k]);
      } catch (e) {
        this.job = null;
        return this.say(this.verdict, `The check failed: ${e.message ?? e}`);
      }
      const ms = Math.max(0.05, performance.now() - t0);
      job.states += r.states;
      if (r.verdict === 'unknown' && job.budget < MAX_STATES) {
        // Search longer next time, as far as about one slice's worth of steps allows.
        const perMs = r.states / ms;
        const next = Math.min(MAX_STATES, Math.max(job.budget * 2, Math.floor(perMs * SLICE_MS)));
        if (next > job.budget && perMs * SLICE_MS >= job.budget * 1.5) { job.budget = next; break; }
      }
      job.verdicts.push(r);
      job.k++;
      if (r.verdict === 'not linearizable') break;
    }
    const bad = job.verdicts.find((r) => r.verdict === 'not linearizable');
    if (bad || job.k >= job.keys.length) this.finish(bad ?? null);
  }

  finish(bad) {
    const job = this.job;
    this.job = null;
    const unknown = job.verdicts.find((r) => r.verdict === 'unknown');
    const ops = this.data.ops.length;
    if (bad) {
      this.result = bad;
      this.say(this.verdict, `Not linearizable (key ${bad.key}): ${bad.explanation}`);
      this.listViolation(bad);
    } else if (unknown) {
      this.result = unknown;
      this.say(this.verdict, `Unknown (budget exhausted after ${job.states} states) for ${ops} operations.`);
      this.list.replaceChildren();
    } else {
      this.result = { verdict: 'linearizable', ops: [] };
      this.say(this.verdict, `Linearizable: ${ops} operations on ${job.keys.length} key(s), ${job.states} states searched.`);
      this.list.replaceChildren();
    }
  }

  /** The operations that cannot be ordered, as buttons that move the run to each. */
  listViolation(r) {
    const items = r.ops.map((id) => {
      const o = this.data.ops[id];
      const li = document.createElement('li');
      const b = document.createElement('button');
      b.type = 'button';
      b.textContent = opWords(o);
      b.title = 'Move the run to this operation\'s return';
      b.addEventListener('click', () => this.jumpTo(o));
      li.append(b);
      return li;
    });
    const prefix = document.createElement('li');
    prefix.className = 'muted';
    prefix.textContent = `Longest linearizable prefix found: ${r.linearized.length} operations.`;
    this.list.replaceChildren(...items, prefix);
  }

  jumpTo(o) {
    const t = (o.complete_us ?? o.invoke_us) / 1000;
    this.session.seek(Math.min(t, this.state.timeMs));
  }

  /** Lanes (clients, sorted) and the time scale: the whole run so far. */
  draw() {
    const d = this.data;
    const { ctx, w, h } = fitCanvas(this.canvas, 600, 180);
    ctx.fillStyle = COLORS.bg;
    ctx.fillRect(0, 0, w, h);
    if (!d) return;
    const clients = [...new Set(d.ops.map((o) => o.client))].sort((a, b) => a - b);
    const lane = new Map(clients.map((c, k) => [c, k]));
    const now = Math.max(1, this.state.timeMs || 0) * 1000;
    const x = (us) => LEFT + (Math.min(us, now) / now) * (w - LEFT - 8);
    const laneH = (h - TOP - BOTTOM) / Math.max(1, clients.length);
    ctx.font = '11px system-ui, sans-serif';
    ctx.textBaseline = 'middle';
    ctx.fillStyle = COLORS.muted;
    ctx.textAlign = 'left';
    clients.forEach((c, k) => ctx.fillText(`client ${c}`, 4, TOP + (k + 0.5) * laneH));
    ctx.fillText(formatMs(now / 1000), w - 60, h - 8);
    const bad = new Set(this.result?.ops ?? []);
    const picked = this.order?.[this.picked];
    this.bars = [];
    for (const o of d.ops) {
      const y1 = TOP + lane.get(o.client) * laneH + 2, bh = Math.max(6, laneH - 4);
      const open = o.complete_us === null || o.outcome === 'unknown';
      const x1 = x(o.invoke_us), x2 = open ? x(now) : Math.max(x1 + 2, x(o.complete_us));
      this.drawBar(ctx, o, { x1, x2, y1, bh, open, bad: bad.has(o.id), picked: o.id === picked });
      this.bars.push({ x1, x2, y1, y2: y1 + bh, id: o.id });
    }
  }

  drawBar(ctx, o, { x1, x2, y1, bh, open, bad, picked }) {
    const color = OP_COLOR[o.op];
    if (open) {
      const g = ctx.createLinearGradient(x1, 0, x2, 0);
      g.addColorStop(0, color);
      g.addColorStop(1, 'rgba(0,0,0,0)');
      ctx.fillStyle = g;
    } else {
      ctx.fillStyle = o.outcome === 'fail' ? COLORS.uncommitted : color;
    }
    ctx.globalAlpha = bad || !this.result?.ops?.length ? 0.85 : 0.45;
    ctx.fillRect(x1, y1, x2 - x1, bh);
    ctx.globalAlpha = 1;
    if (bad || picked) {
      ctx.strokeStyle = bad ? COLORS.violation : COLORS.select;
      ctx.lineWidth = bad ? 3 : 2;
      ctx.setLineDash(open ? [4, 3] : []);
      ctx.strokeRect(x1, y1, x2 - x1, bh);
      ctx.setLineDash([]);
    }
    const label = (bad ? '! ' : '') + opLabel(o);
    if (x2 - x1 > ctx.measureText(label).width + 4) {
      ctx.fillStyle = '#0b0f18';
      ctx.textAlign = 'left';
      ctx.fillText(label, x1 + 2, y1 + bh / 2);
    }
  }

  click(e) {
    const r = this.canvas.getBoundingClientRect();
    const px = e.clientX - r.left, py = e.clientY - r.top;
    const hit = this.bars.find((b) => px >= b.x1 - 2 && px <= b.x2 + 2 && py >= b.y1 && py <= b.y2);
    if (!hit) return;
    this.picked = this.order.indexOf(hit.id);
    this.describePicked();
    this.jumpTo(this.data.ops[hit.id]);
  }

  /** Arrows pick the previous or next operation (by call time); Enter moves the run there. */
  key(e) {
    if (!this.data || !this.order.length) return;
    if (e.key === 'ArrowRight' || e.key === 'ArrowLeft') {
      const step = e.key === 'ArrowRight' ? 1 : -1;
      this.picked = Math.max(0, Math.min(this.order.length - 1, (this.picked < 0 ? (step > 0 ? -1 : this.order.length) : this.picked) + step));
      this.describePicked();
      this.draw();
      e.preventDefault();
    } else if (e.key === 'Enter' && this.picked >= 0) {
      this.jumpTo(this.data.ops[this.order[this.picked]]);
      e.preventDefault();
    }
  }

  describePicked() {
    const o = this.data.ops[this.order[this.picked]];
    const bad = this.result?.ops?.includes(o.id) ? ' — one of the operations that cannot be ordered' : '';
    this.say(this.caption, `${opWords(o)}${bad}. Enter moves the run to its return.`);
  }

  say(el, text) { if (el.textContent !== text) el.textContent = text; }
}
