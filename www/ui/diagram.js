// The time-space diagram (Lamport's picture): one lane per node, time flowing right, each
// message an arrow from its send to its delivery (or to a cross where it died), crashes and
// pauses shaded on the lanes, partitions as a band. The right edge is the run's moment, so
// the diagram follows the scrubber and the player. Clicking an event selects it and its
// node: its causal past and future light up and the rest is marked concurrent, from the
// true vector clocks the engine keeps (clusters up to 64 nodes). "Jump here" moves the run
// to the event. Hovering an arrow rings that message on the canvas, and hovering a message
// on the canvas draws its arrow bold here.
//
// The time axis can be true time, each node's own clock (its wall clock, skew and all: a
// message sent by a fast clock can arrive "before" it left, drawn red) or Lamport time
// (every arrow points forward).
//
// Events come from `Sim.causalWindow` (the newest events, oldest first); this module only
// draws and compares them.
import { fitCanvas } from '../render/fit.js';
import { COLORS } from '../render/canvas.js';
import { FAULT_CODE, TRACE } from '../constants.js';
import { formatMs } from '../format.js';

/** Most lanes drawn; a larger cluster shows its first nodes (and the selected one). */
export const MAX_LANES = 24;
/** Events asked of the engine per redraw (the engine keeps at most 16 384 with clocks). */
const WINDOW_EVENTS = 16_384;
const LEFT = 34, TOP = 8, BOTTOM = 16;
const NO_NODE = 4294967295;
/** Above this many messages the diagram draws plainer marks (squares, no arrowheads). */
const DENSE = 2000;
const CONE = { past: '#5aa9ff', future: '#ff9f5a', self: '#ffffff', concurrent: '#4a5264' };
/** A message that arrives before it was sent, by the nodes' own clocks. */
const BACKWARDS = '#ff5c7a';

export class Diagram {
  constructor({ root, state, session }) {
    this.state = state;
    this.session = session;
    this.panel = root.querySelector('#diagram-panel');
    this.canvas = root.querySelector('#diagram');
    this.caption = root.querySelector('#diagram-caption');
    this.spanSelect = root.querySelector('#diagram-span');
    this.axisSelect = root.querySelector('#diagram-axis');
    this.jump = root.querySelector('#diagram-jump');
    this.picked = null; // { t, node, vc, lamport, label }
    this.hits = []; // [{ x, y, i }] of the last drawing
    this.arrows = []; // [{ x1, y1, x2, y2, from, to, sentMs }] of the last drawing
    this.panel.addEventListener('toggle', () => this.draw());
    this.spanSelect.addEventListener('change', () => this.draw());
    this.axisSelect?.addEventListener('change', () => this.draw());
    this.canvas.addEventListener('click', (e) => this.click(e));
    this.canvas.addEventListener('pointermove', (e) => this.hover(e));
    this.canvas.addEventListener('pointerleave', () => this.highlight(null));
    this.canvas.addEventListener('keydown', (e) => this.key(e));
    this.jump.addEventListener('click', () => this.jumpToPicked());
    state.on('frame', () => this.draw());
    state.on('hover-message', () => { if (!state.playing) this.draw(); });
    state.on('run', () => { this.picked = null; this.draw(); });
  }

  get open() { return this.panel.open && !this.panel.hidden; }
  get spanMs() { return Number(this.spanSelect.value) || 1000; }
  /** 'true', 'clock' (each node's clock reading) or 'lamport'; 'clock' needs clock readings. */
  axis(w) {
    const a = this.axisSelect?.value ?? 'true';
    return a === 'clock' && !(w.local_ms && w.local_ms.length === w.count) ? 'true' : a;
  }

  /** Lanes: node ids drawn top to bottom. */
  lanes(nodes) {
    const ids = [];
    for (let i = 0; i < Math.min(nodes, MAX_LANES); i++) ids.push(i);
    const sel = this.state.selected;
    if (sel !== null && sel >= MAX_LANES && sel < nodes) ids[ids.length - 1] = sel;
    return ids;
  }

  draw() {
    const sim = this.state.sim;
    if (!this.open || !sim) return;
    const w = sim.causalWindow(WINDOW_EVENTS);
    const { ctx, w: width, h } = fitCanvas(this.canvas, 600, 220);
    ctx.fillStyle = COLORS.bg;
    ctx.fillRect(0, 0, width, h);
    if (!w) return this.say('This engine version keeps no causal trace.');
    const nodes = sim.inspect().nodes;
    const lanes = this.lanes(nodes);
    const laneOf = new Map(lanes.map((id, k) => [id, k]));
    // When the newest events span less than the chosen window (a big cluster), the
    // diagram zooms to the stretch it holds.
    const now = this.state.timeMs;
    const oldest = w.count ? w.t_ms[0] : now;
    const zoomed = w.count >= WINDOW_EVENTS && oldest > now - this.spanMs;
    const t0 = zoomed ? oldest : now - this.spanMs, span = Math.max(1e-3, now - t0);
    this.zoomed = zoomed ? span : null;
    const laneH = (h - TOP - BOTTOM) / lanes.length;
    const x = (t) => LEFT + ((t - t0) / span) * (width - LEFT - 6);
    const geo = {
      x,
      y: (id) => TOP + (laneOf.get(id) + 0.5) * laneH,
      has: (id) => laneOf.has(id),
      t0, now, laneH, width, h,
      ...eventAxis(w, this.axis(w), t0, now, x, width),
    };
    const cone = this.cone(w);
    this.drawLanes(ctx, lanes, geo);
    this.drawShading(ctx, w, geo);
    this.drawArrows(ctx, w, geo, cone);
    this.drawEvents(ctx, w, geo, cone);
    this.drawAxis(ctx, geo);
    this.describe(w, nodes, lanes, cone);
  }

  drawLanes(ctx, lanes, g) {
    ctx.font = '10px system-ui, sans-serif';
    ctx.textAlign = 'right';
    ctx.textBaseline = 'middle';
    const every = g.laneH < 11 ? 2 : 1;
    for (const [k, id] of lanes.entries()) {
      const y = g.y(id);
      ctx.strokeStyle = this.state.selected === id ? '#8a93a6' : '#2c3342';
      ctx.lineWidth = 1;
      ctx.beginPath(); ctx.moveTo(LEFT, y); ctx.lineTo(g.width - 4, y); ctx.stroke();
      ctx.fillStyle = '#b8c0d0';
      if (k % every === 0 || this.state.selected === id) ctx.fillText(`n${id}`, LEFT - 5, y);
    }
  }

  /** Crashed and paused stretches shaded on their lanes; partitions as a band. */
  drawShading(ctx, w, g) {
    const down = new Map(); // node → { from (x), kind }
    const bands = [];
    let band = null;
    const close = (node, xTo) => {
      const s = down.get(node);
      if (!s) return;
      down.delete(node);
      if (g.has(node)) shadeLane(ctx, g, node, s.from, xTo, s.kind);
    };
    for (let i = 0; i < w.count; i++) {
      const k = w.kind[i], node = w.node[i], x = g.xe(i);
      if (k === TRACE.fault) {
        const code = w.detail[i];
        if (code === FAULT_CODE.crash) down.set(node, { from: x, kind: 'crashed' });
        else if (code === FAULT_CODE.pause) down.set(node, { from: x, kind: 'paused' });
        else if (code === FAULT_CODE.restart) close(node, x);
        else if (code === FAULT_CODE.partition || code === FAULT_CODE.isolate) band = band ?? { from: x };
        else if (code === FAULT_CODE.heal && band) { bands.push([band.from, x]); band = null; }
      } else if (k === TRACE.selfCrash) {
        down.set(node, { from: x, kind: 'crashed' });
      } else if (k === TRACE.resume || (k !== TRACE.drop && down.get(node)?.kind === 'crashed' && (k === TRACE.timer || k === TRACE.send))) {
        close(node, x); // a restarted node's first timer or send ends its crash
      }
    }
    for (const node of [...down.keys()]) close(node, g.width - 4);
    if (band) bands.push([band.from, g.width - 4]);
    // A partition has no node, so no clock and no Lamport time: bands only on true time.
    for (const [a, b] of g.axis === 'true' ? bands : []) {
      const x1 = Math.max(LEFT, a), x2 = b;
      ctx.fillStyle = 'rgba(255, 209, 102, 0.08)';
      ctx.fillRect(x1, TOP, Math.max(1, x2 - x1), g.h - TOP - BOTTOM);
      ctx.fillStyle = '#ffd166';
      ctx.textAlign = 'left';
      ctx.fillText('partition', x1 + 3, g.h - BOTTOM - 4);
    }
  }

  /** Each message: send → delivery, or → a cross where it died; in flight: to the edge. */
  drawArrows(ctx, w, g, cone) {
    const sends = new Map();
    for (let i = 0; i < w.count; i++) if (w.kind[i] === TRACE.send) sends.set(w.msg_id[i], i);
    const ended = new Set();
    // Thousands of arrows: no heads (the direction is left to right anyway), one line each.
    const dense = sends.size > DENSE;
    const paths = new Map(); // style → Path2D
    const path = (style) => paths.get(style) ?? paths.set(style, new Path2D()).get(style);
    this.arrows = [];
    this.backwards = 0;
    for (let i = 0; i < w.count; i++) {
      const k = w.kind[i];
      if (k !== TRACE.deliver && k !== TRACE.drop) continue;
      const s = sends.get(w.msg_id[i]);
      if (s === undefined) continue;
      ended.add(w.msg_id[i]);
      const from = w.node[s], to = k === TRACE.deliver ? w.node[i] : w.peer[i];
      if (!g.has(from) || !g.has(to)) continue;
      const x1 = g.xe(s), y1 = g.y(from);
      let x2 = g.xe(i), y2 = g.y(to);
      if (k === TRACE.drop) y2 = w.t_ms[i] > w.t_ms[s] ? (y1 + y2) / 2 : y1;
      if (x2 < LEFT) continue;
      const back = k === TRACE.deliver && g.axis === 'clock' && w.local_ms[i] < w.local_ms[s];
      if (back && w.t_ms[s] >= g.t0) this.backwards++;
      const hovered = isHovered(this.state.hoveredMessage, from, to, w.t_ms[s]);
      const style = hovered ? 'hovered' : back ? 'back' : w.byzantine[s] ? 'byz' : cone ? relation(cone, s, i) : 'msg';
      const p = path(style);
      p.moveTo(x1, y1); p.lineTo(x2, y2);
      if (k === TRACE.deliver && dense === false) arrowHead(p, x1, y1, x2, y2);
      else cross(path('drop'), x2, y2);
      this.arrows.push({ x1, y1, x2, y2, from, to, sentMs: w.t_ms[s] });
    }
    for (const [id, s] of sends) {
      if (ended.has(id) || !g.has(w.node[s]) || !g.has(w.peer[s])) continue;
      const p = path(isHovered(this.state.hoveredMessage, w.node[s], w.peer[s], w.t_ms[s]) ? 'hovered' : 'flight');
      p.moveTo(g.xe(s), g.y(w.node[s]));
      p.lineTo(g.width - 4, (g.y(w.node[s]) + g.y(w.peer[s])) / 2);
    }
    this.hoveredDrawn = paths.has('hovered');
    const strokes = { hovered: ['#ffffff', 3], back: [BACKWARDS, 2], msg: ['#7f8aa3', 1], byz: [COLORS.byzantine, 1.5], flight: ['#56607a', 1], drop: [COLORS.cut, 1.5], past: [CONE.past, 1.5], future: [CONE.future, 1.5], concurrent: [CONE.concurrent, 1] };
    for (const [style, p] of paths) {
      const [color, width] = strokes[style];
      ctx.strokeStyle = color;
      ctx.lineWidth = width;
      ctx.setLineDash(style === 'flight' ? [3, 3] : []);
      ctx.stroke(p);
    }
    ctx.setLineDash([]);
  }

  /** Event marks on the lanes; with a picked event, coloured by their relation to it. */
  drawEvents(ctx, w, g, cone) {
    this.hits = [];
    const dense = w.count > 2 * DENSE;
    const marks = new Map();
    for (let i = 0; i < w.count; i++) {
      const k = w.kind[i], node = w.node[i];
      if (!g.has(node) || k === TRACE.fault || k === TRACE.drop || k === TRACE.duplicate) continue;
      const x = g.xe(i);
      if (x < LEFT) continue;
      const y = g.y(node);
      this.hits.push({ x, y, i });
      const style = cone ? cone.rel[i] ?? 'none' : k === TRACE.timer ? 'timer' : 'event';
      if (!marks.has(style)) marks.set(style, new Path2D());
      const r = style === 'self' ? 5 : style === 'timer' || style === 'concurrent' ? 1.5 : 2.5;
      if (dense && style !== 'self') marks.get(style).rect(x - r, y - r, 2 * r, 2 * r);
      else {
        marks.get(style).moveTo(x + r, y);
        marks.get(style).arc(x, y, r, 0, Math.PI * 2);
      }
    }
    const fills = { event: '#c7ccd6', timer: '#6b7488', none: '#6b7488', ...CONE };
    for (const [style, p] of marks) {
      ctx.fillStyle = fills[style];
      ctx.fill(p);
    }
    this.window = w;
  }

  drawAxis(ctx, g) {
    if (g.axis !== 'true') {
      ctx.fillStyle = '#8a93a6';
      ctx.textAlign = 'left';
      ctx.fillText(g.axisLabel(g.lo), LEFT, g.h - 5);
      ctx.textAlign = 'right';
      ctx.fillText(g.axisLabel(g.hi), g.width - 4, g.h - 5);
      return;
    }
    ctx.strokeStyle = COLORS.select ?? '#ffffff';
    ctx.lineWidth = 1.5;
    const x = g.x(g.now);
    ctx.beginPath(); ctx.moveTo(x, TOP - 4); ctx.lineTo(x, g.h - BOTTOM + 2); ctx.stroke();
    ctx.fillStyle = '#8a93a6';
    ctx.textAlign = 'left';
    ctx.fillText(formatMs(Math.max(0, g.t0)), LEFT, g.h - 5);
    ctx.textAlign = 'right';
    ctx.fillText(`t = ${formatMs(g.now)}`, x - 3, g.h - 5);
  }

  /** The picked event's relation to every event in the window, from vector clocks. */
  cone(w) {
    const p = this.picked;
    if (!p || !p.vc || w.width !== p.vc.length) return null;
    const rel = new Array(w.count);
    const counts = { past: 0, future: 0, concurrent: 0 };
    for (let i = 0; i < w.count; i++) {
      if (!isCausal(w, i)) continue;
      const r = compare(w.vc.subarray(i * w.width, (i + 1) * w.width), p.vc);
      rel[i] = r;
      if (r !== 'self') counts[r]++;
    }
    return { rel, counts };
  }

  click(e) {
    const hit = this.nearest(e);
    if (!hit) { this.picked = null; this.draw(); return; }
    this.pick(hit.i);
  }

  pick(i) {
    const w = this.window;
    const vc = w.width ? Array.from(w.vc.subarray(i * w.width, (i + 1) * w.width)) : null;
    this.picked = { i, t: w.t_ms[i], node: w.node[i], vc, lamport: w.lamport[i], label: eventLabel(w, i) };
    this.jump.hidden = false;
    this.session.select(w.node[i]);
    this.draw();
  }

  /** Arrow keys walk the events of the window; Enter jumps the run to the picked one. */
  key(e) {
    const hits = this.hits;
    if (!hits.length) return;
    if (e.key === 'ArrowRight' || e.key === 'ArrowLeft') {
      e.preventDefault();
      const at = this.picked ? hits.findIndex((h) => h.i === this.picked.i) : -1;
      const next = at < 0 ? hits.length - 1 : Math.max(0, Math.min(hits.length - 1, at + (e.key === 'ArrowRight' ? 1 : -1)));
      this.pick(hits[next].i);
    } else if (e.key === 'Enter' && this.picked) {
      this.jumpToPicked();
    } else if (e.key === 'Escape') {
      this.picked = null;
      this.jump.hidden = true;
      this.draw();
    }
  }

  jumpToPicked() {
    if (this.picked) this.session.seek(this.picked.t);
  }

  nearest(e) {
    const r = this.canvas.getBoundingClientRect();
    const x = e.clientX - r.left, y = e.clientY - r.top;
    let best = null, bestD = 64;
    for (const h of this.hits) {
      const d = (h.x - x) ** 2 + (h.y - y) ** 2;
      if (d < bestD) { best = h; bestD = d; }
    }
    return best;
  }

  /** Hovering an arrow rings its message on the canvas while it is in flight. */
  hover(e) {
    const r = this.canvas.getBoundingClientRect();
    const x = e.clientX - r.left, y = e.clientY - r.top;
    const near = this.arrows.find((a) => distToSegment(x, y, a) < 4);
    this.highlight(near ? { from: near.from, to: near.to, sentMs: near.sentMs } : null);
  }

  highlight(message) {
    const same = JSON.stringify(message) === JSON.stringify(this.state.highlightMessage ?? null);
    this.state.highlightMessage = message;
    if (!same && !this.state.playing) this.session.frame();
  }

  describe(w, nodes, lanes, cone) {
    const parts = [];
    if (nodes > lanes.length) parts.push(`Lanes for ${lanes.length} of ${nodes} nodes.`);
    if (this.zoomed !== null) parts.push(`The newest ${WINDOW_EVENTS.toLocaleString('en')} events span only ${formatMs(this.zoomed)}: the diagram shows that stretch.`);
    if (!w.width) parts.push('No vector clocks above 64 nodes: the causal cone is off.');
    parts.push(axisSentence(this.axis(w), this.axisSelect?.value, this.backwards));
    if (this.picked) {
      const p = this.picked;
      parts.push(`Picked: ${p.label} at ${formatMs(p.t)} (Lamport ${p.lamport}${p.vc ? `, vector [${p.vc.join(', ')}]` : ''}).`);
      if (cone) parts.push(`Its causal past: ${cone.counts.past} events; its future: ${cone.counts.future}; concurrent with it: ${cone.counts.concurrent}.`);
      else if (p.vc) parts.push('It has left the window.');
    } else {
      parts.push('Click an event (or focus the diagram and use ← →) to light up what happened before and after it.');
    }
    this.say(parts.join(' '));
  }

  say(text) { if (this.caption.textContent !== text) this.caption.textContent = text; }
}

/** Where events sit on the chosen axis: `xe(i)` for event i, plus the axis' own range. */
function eventAxis(w, axis, t0, now, x, width) {
  if (axis === 'true') return { axis, xe: (i) => x(w.t_ms[i]) };
  const value = axis === 'clock' ? w.local_ms : w.lamport;
  let lo = Infinity, hi = -Infinity;
  for (let i = 0; i < w.count; i++) {
    if (w.t_ms[i] < t0 || (axis === 'lamport' && w.node[i] === NO_NODE)) continue;
    lo = Math.min(lo, value[i]); hi = Math.max(hi, value[i]);
  }
  if (!(hi > lo)) { lo = axis === 'clock' ? t0 : 0; hi = lo + (axis === 'clock' ? now - t0 : 1); }
  const span = hi - lo, to = (v) => LEFT + ((v - lo) / span) * (width - LEFT - 6);
  const axisLabel = axis === 'clock' ? (v) => `clock ${formatMs(v)}` : (v) => `Lamport ${Math.round(v)}`;
  return { axis, lo, hi, axisLabel, xe: (i) => (axis === 'lamport' && w.node[i] === NO_NODE ? LEFT : to(value[i])) };
}

/** What the chosen time axis shows, in a sentence. */
function axisSentence(axis, asked, backwards) {
  if (axis === 'clock') {
    return backwards > 0
      ? `By each node's own clock, ${backwards} message${backwards === 1 ? '' : 's'} arrive${backwards === 1 ? 's' : ''} before ${backwards === 1 ? 'it was' : 'they were'} sent (red): sorting a log by wall-clock time puts these effects before their causes.`
      : "Events sit at each node's own clock reading; no message here arrives before it was sent by these clocks.";
  }
  if (axis === 'lamport') return "Lamport time: every arrow points forward (a delivery's Lamport time exceeds its send's); distances mean nothing, and events at one position may be concurrent.";
  return asked === 'clock' ? "Above 64 nodes the engine keeps no clock readings: the diagram shows true time." : '';
}

function shadeLane(ctx, g, node, from, to, kind) {
  const x1 = Math.max(LEFT, from), x2 = Math.min(g.width - 4, to);
  if (x2 <= x1) return;
  const y = g.y(node), hh = Math.min(10, g.laneH * 0.4);
  ctx.fillStyle = kind === 'crashed' ? 'rgba(255, 92, 92, 0.28)' : 'rgba(154, 164, 184, 0.3)';
  ctx.fillRect(x1, y - hh, x2 - x1, 2 * hh);
}

/** Whether the message from `from` to `to` sent at `sentMs` is the one hovered on the canvas. */
function isHovered(h, from, to, sentMs) {
  return h !== null && h !== undefined && h.from === from && h.to === to && Math.abs(h.sentMs - sentMs) < 0.0005;
}

function isCausal(w, i) {
  const k = w.kind[i];
  return k === TRACE.send || k === TRACE.deliver || k === TRACE.timer || k === TRACE.resume || k === TRACE.selfCrash;
}

/** 'past', 'future', 'self' or 'concurrent': event `a`'s clock against the picked `b`. */
function compare(a, b) {
  let le = true, ge = true;
  for (let k = 0; k < b.length; k++) {
    if (a[k] > b[k]) le = false;
    if (a[k] < b[k]) ge = false;
  }
  return le && ge ? 'self' : le ? 'past' : ge ? 'future' : 'concurrent';
}

/** An arrow's colour by the picked event's cone: past if its delivery is in the past… */
function relation(cone, send, end) {
  const r = cone.rel[end] ?? cone.rel[send];
  return r === 'self' ? 'past' : r ?? 'msg';
}

function eventLabel(w, i) {
  const k = w.kind[i], name = w.names[w.msg[i]] || '';
  if (k === TRACE.send) return `n${w.node[i]} sends ${name} to n${w.peer[i]}`;
  if (k === TRACE.deliver) return `n${w.node[i]} receives ${name} from n${w.peer[i]}`;
  if (k === TRACE.timer) return `a timer at n${w.node[i]}`;
  if (k === TRACE.resume) return `n${w.node[i]} resumes`;
  return `an event at n${w.node[i]}`;
}

function arrowHead(p, x1, y1, x2, y2) {
  const a = Math.atan2(y2 - y1, x2 - x1), s = 5;
  p.moveTo(x2, y2); p.lineTo(x2 - s * Math.cos(a - 0.4), y2 - s * Math.sin(a - 0.4));
  p.moveTo(x2, y2); p.lineTo(x2 - s * Math.cos(a + 0.4), y2 - s * Math.sin(a + 0.4));
}

function cross(p, x, y) {
  p.moveTo(x - 3, y - 3); p.lineTo(x + 3, y + 3);
  p.moveTo(x + 3, y - 3); p.lineTo(x - 3, y + 3);
}

function distToSegment(x, y, { x1, y1, x2, y2 }) {
  const dx = x2 - x1, dy = y2 - y1, len = dx * dx + dy * dy || 1;
  const t = Math.max(0, Math.min(1, ((x - x1) * dx + (y - y1) * dy) / len));
  return Math.hypot(x - (x1 + t * dx), y - (y1 + t * dy));
}
