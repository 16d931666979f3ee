// The detector sweep: runs the trade-off experiment (six nodes, calm and jittery links, a
// crash after 20 s; see src/sweep.rs) over several seeds and a range of each detector's
// parameter, and plots mean detection time against false alarms per minute (suspicions;
// for SWIM, deaths declared), one curve per detector, on one chart. Trials run a few per frame with a progress bar, so the page
// stays responsive; Cancel stops between trials.
import { fitCanvas } from '../render/fit.js';
import { detectorTrial, messageOf } from '../sim.js';
import { SeedSweepView } from './seeds.js';

const CURVES = [
  { kind: 'fixed', label: 'fixed timeout', color: '#ff8a5b', params: [150, 200, 250, 300, 400, 500, 700, 1000, 1500], unit: 'ms' },
  { kind: 'phi', label: 'phi accrual', color: '#5aa9ff', params: [0.5, 1, 2, 3, 4, 6, 8, 12, 16], unit: 'φ' },
  // SWIM suspects freely and lets refutation undo it: only its verdict (dead) counts.
  { kind: 'swim', label: 'SWIM suspicion timeout', color: '#7bdcb5', params: [100, 200, 300, 400, 600, 800, 1200, 1600, 2400], unit: 'ms' },
];
/** Simulated minutes of calm per trial (the experiment's 20 s). */
const CALM_MIN = 20 / 60;
const FRAME_BUDGET_MS = 40;

export class Sweep {
  constructor(app) {
    this.app = app;
    const $ = (sel) => app.root.querySelector(sel);
    this.el = { run: $('#sweep-run'), cancel: $('#sweep-cancel'), seeds: $('#sweep-seeds'), bar: $('#sweep-progress'), status: $('#sweep-status'), chart: $('#sweep-chart') };
    this.el.run.addEventListener('click', () => this.start());
    this.el.cancel.addEventListener('click', () => this.stop('Cancelled.'));
    this.job = null;
    this.results = CURVES.map(() => []);
    this.seeds = new SeedSweepView(app);
  }

  start() {
    const seeds = Number(this.el.seeds.value);
    if (!Number.isInteger(seeds) || seeds < 1 || seeds > 50) {
      this.app.showError('Sweep seeds: give a whole number from 1 to 50.');
      return;
    }
    this.results = CURVES.map((c) => c.params.map((p) => ({ param: p, fp: 0, detection: 0, n: 0 })));
    const queue = [];
    CURVES.forEach((c, ci) => c.params.forEach((p, pi) => { for (let s = 0; s < seeds; s++) queue.push([ci, pi, s]); }));
    this.total = queue.length;
    this.queue = queue;
    this.el.run.disabled = true;
    this.el.cancel.hidden = false;
    this.el.bar.hidden = false;
    this.el.bar.max = this.total;
    this.el.bar.value = 0;
    this.step();
  }

  step() {
    const t0 = performance.now();
    try {
      while (this.queue.length && performance.now() - t0 < FRAME_BUDGET_MS) {
        const [ci, pi, seed] = this.queue.shift();
        const c = CURVES[ci];
        const t = detectorTrial(c.kind, c.params[pi], seed);
        const r = this.results[ci][pi];
        r.fp += t.false_suspicions;
        r.detection += t.detection_ms;
        r.n += 1;
      }
    } catch (e) {
      return this.stop(`The sweep failed: ${messageOf(e)}`);
    }
    const done = this.total - this.queue.length;
    this.el.bar.value = done;
    this.el.status.textContent = `${done} of ${this.total} trials`;
    this.draw();
    if (this.queue.length) this.job = requestAnimationFrame(() => this.step());
    else this.stop(`Done: ${this.total} trials. Lower-left is better: fast detection, few false alarms.`);
  }

  stop(message) {
    if (this.job) cancelAnimationFrame(this.job);
    this.job = null;
    this.queue = [];
    this.el.run.disabled = false;
    this.el.cancel.hidden = true;
    this.el.status.textContent = message;
    this.draw();
  }

  /** Points of finished parameter values: [{ x: detection ms, y: false suspicions/min }]. */
  points(ci) {
    return this.results[ci].filter((r) => r.n > 0).map((r) => ({
      x: r.detection / r.n, y: r.fp / r.n / CALM_MIN, param: r.param,
    }));
  }

  draw() {
    const { ctx, w, h } = fitCanvas(this.el.chart, 320, 220);
    const pad = { l: 40, r: 10, t: 10, b: 30 };
    const all = CURVES.flatMap((_, ci) => this.points(ci));
    const maxX = Math.max(500, ...all.map((p) => p.x)) * 1.05;
    const maxY = Math.max(1, ...all.map((p) => p.y)) * 1.1;
    const X = (v) => pad.l + (v / maxX) * (w - pad.l - pad.r);
    // Log scale: false alarms span from none to thousands a minute along one curve.
    const Y = (v) => h - pad.b - (Math.log10(1 + v) / Math.log10(1 + maxY)) * (h - pad.t - pad.b);
    ctx.strokeStyle = '#2a3347';
    ctx.strokeRect(pad.l + 0.5, pad.t + 0.5, w - pad.l - pad.r, h - pad.t - pad.b);
    ctx.fillStyle = '#8a93a6';
    ctx.font = '11px system-ui, sans-serif';
    ctx.textAlign = 'center';
    ctx.fillText('mean detection time (ms)', (w + pad.l) / 2, h - 4);
    ctx.fillText(String(Math.round(maxX)), w - pad.r - 12, h - pad.b + 12);
    ctx.fillText('0', pad.l, h - pad.b + 12);
    ctx.save();
    ctx.translate(11, (h - pad.b) / 2);
    ctx.rotate(-Math.PI / 2);
    ctx.fillText('false alarms / min (log)', 0, 0);
    ctx.restore();
    ctx.textAlign = 'right';
    for (const tick of [0, 1, 10, 100, 1000, 10000]) {
      if (tick > maxY) break;
      ctx.fillText(String(tick), pad.l - 4, Y(tick) + 4);
      ctx.strokeStyle = '#222b3d';
      ctx.beginPath();
      ctx.moveTo(pad.l, Y(tick) + 0.5);
      ctx.lineTo(w - pad.r, Y(tick) + 0.5);
      ctx.stroke();
    }
    CURVES.forEach((c, ci) => {
      const pts = this.points(ci).sort((a, b) => a.x - b.x);
      ctx.strokeStyle = c.color;
      ctx.fillStyle = c.color;
      ctx.lineWidth = 2;
      ctx.beginPath();
      pts.forEach((p, i) => (i ? ctx.lineTo(X(p.x), Y(p.y)) : ctx.moveTo(X(p.x), Y(p.y))));
      ctx.stroke();
      for (const p of pts) { ctx.beginPath(); ctx.arc(X(p.x), Y(p.y), 3, 0, Math.PI * 2); ctx.fill(); }
      ctx.textAlign = 'right';
      ctx.fillText(`● ${c.label} (${c.unit} ${c.params[0]}–${c.params[c.params.length - 1]})`, w - pad.r - 4, pad.t + 14 + ci * 14);
    });
  }
}
