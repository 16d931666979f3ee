// Live charts of the checkers' time series (goodput, errors, latency, queues, …): small line
// charts over the whole run so far, with every fault's moment marked and the current moment
// as a cursor. Neighbouring series in the same unit share a chart (offered, goodput, errors
// and retries in req/s; latency p50 and p99 in ms), each line named in the caption. Redrawn a few times a second, from series the engine keeps
// bounded, so they stay smooth while the simulation runs. In compare mode a second set of
// charts follows the variant (`el` and `simOf` name the container and the run).
import { fitCanvas } from '../render/fit.js';
import { formatMs } from '../format.js';

const REDRAW_MS = 250;
const COLORS = ['#5fd38a', '#ff5c5c', '#5aa9ff', '#ffd24a', '#c49bff', '#5fd3c6', '#ff8a5b', '#9bd45a'];

export class Charts {
  constructor({ root, state, el = root.querySelector('#charts'), simOf = (s) => s.sim }) {
    this.state = state;
    this.simOf = simOf;
    this.el = el;
    this.grid = this.el.querySelector('.chart-grid');
    this.canvases = new Map();
    this.lastDraw = 0;
    state.on('seeked', () => this.update(true));
    state.on('compare', () => this.update(true));
    state.on('frame', ({ playing, travelling }) => this.update(!playing && !travelling));
  }

  /** Redraws when due (or when `force`). */
  update(force = false) {
    const now = performance.now();
    if (!force && now - this.lastDraw < REDRAW_MS) return;
    this.lastDraw = now;
    const sim = this.simOf(this.state);
    if (!sim) {
      this.el.hidden = true;
      return;
    }
    const series = sim.series();
    this.el.hidden = series.length === 0;
    if (series.length === 0) return;
    const groups = groupByUnit(series);
    const ids = groups.map((g) => g.map((s) => s.id).join('+')).join(',');
    if (ids !== this.ids) {
      this.ids = ids;
      this.canvases.clear();
      this.grid.replaceChildren(...groups.map((g) => {
        const fig = document.createElement('figure');
        fig.className = 'chart';
        fig.dataset.series = g.map((s) => s.id).join(' ');
        const cap = document.createElement('figcaption');
        const canvas = document.createElement('canvas');
        canvas.setAttribute('role', 'img');
        canvas.setAttribute('aria-label', `${g.map((s) => s.name).join(', ')} over simulated time`);
        fig.append(cap, canvas);
        this.canvases.set(g[0].id, { canvas, cap });
        return fig;
      }));
    }
    const faults = (sim.scenario().faults ?? []).map((f) => f.at_ms);
    const endMs = Math.max(this.state.timeMs, 1000);
    let colour = 0;
    for (const g of groups) {
      const { canvas, cap } = this.canvases.get(g[0].id);
      const colours = g.map(() => COLORS[colour++ % COLORS.length]);
      cap.replaceChildren(...g.map((s, k) => {
        const span = document.createElement('span');
        span.className = 'chart-line';
        const swatch = document.createElement('i');
        swatch.style.background = colours[k];
        const last = s.values.length ? s.values[s.values.length - 1] : null;
        span.append(swatch, `${s.name}${last === null ? '' : `: ${fmt(last)}${s.unit ? ` ${s.unit}` : ''}`}`);
        return span;
      }));
      drawChart(canvas, g, colours, faults, endMs, this.state.timeMs);
    }
  }
}

/** Neighbouring series in the same unit, up to four, share a chart. */
function groupByUnit(series) {
  const groups = [];
  for (const s of series) {
    const last = groups[groups.length - 1];
    if (last && last[0].unit === s.unit && last.length < 4) last.push(s);
    else groups.push([s]);
  }
  return groups;
}

function fmt(v) {
  if (!Number.isFinite(v)) return '—';
  if (Math.abs(v) >= 1000) return Math.round(v).toLocaleString('en');
  if (Math.abs(v) >= 10) return v.toFixed(0);
  return v.toFixed(2).replace(/\.?0+$/, '');
}

function drawChart(canvas, group, colours, faults, endMs, nowMs) {
  const { ctx, w, h } = fitCanvas(canvas, 220, 90);
  const pad = { l: 34, r: 6, t: 6, b: 14 };
  const pw = w - pad.l - pad.r, ph = h - pad.t - pad.b;
  let max = 0;
  for (const s of group) for (const v of s.values) if (Number.isFinite(v) && v > max) max = v;
  max = niceMax(max);
  const x = (t) => pad.l + (t / endMs) * pw;
  const y = (v) => pad.t + ph - (Math.min(v, max) / max) * ph;
  ctx.strokeStyle = '#2a3347';
  ctx.lineWidth = 1;
  ctx.strokeRect(pad.l + 0.5, pad.t + 0.5, pw, ph);
  ctx.fillStyle = '#8a93a6';
  ctx.font = '10px system-ui, sans-serif';
  ctx.textAlign = 'right';
  ctx.textBaseline = 'middle';
  ctx.fillText(fmt(max), pad.l - 3, pad.t + 4);
  ctx.fillText('0', pad.l - 3, pad.t + ph);
  ctx.textAlign = 'right';
  ctx.textBaseline = 'top';
  ctx.fillText(formatMs(endMs), w - pad.r, pad.t + ph + 2);
  // Faults: red ticks at their moments.
  ctx.strokeStyle = 'rgba(255,92,92,0.7)';
  ctx.setLineDash([3, 3]);
  for (const t of faults) {
    if (t > endMs) continue;
    ctx.beginPath();
    ctx.moveTo(x(t) + 0.5, pad.t);
    ctx.lineTo(x(t) + 0.5, pad.t + ph);
    ctx.stroke();
  }
  ctx.setLineDash([]);
  group.forEach((s, k) => {
    ctx.beginPath();
    let started = false;
    for (let i = 0; i < s.t_ms.length; i++) {
      const v = s.values[i];
      if (!Number.isFinite(v)) { started = false; continue; }
      if (!started) { ctx.moveTo(x(s.t_ms[i]), y(v)); started = true; } else ctx.lineTo(x(s.t_ms[i]), y(v));
    }
    ctx.strokeStyle = colours[k];
    ctx.lineWidth = 1.6;
    ctx.stroke();
  });
  ctx.strokeStyle = '#ffffff';
  ctx.globalAlpha = 0.5;
  ctx.beginPath();
  ctx.moveTo(x(nowMs) + 0.5, pad.t);
  ctx.lineTo(x(nowMs) + 0.5, pad.t + ph);
  ctx.stroke();
  ctx.globalAlpha = 1;
}

function niceMax(v) {
  if (v <= 0) return 1;
  const p = 10 ** Math.floor(Math.log10(v));
  for (const m of [1, 2, 2.5, 5, 10]) if (m * p >= v) return m * p;
  return 10 * p;
}
