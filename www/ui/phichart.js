// φ over time for one pair: how the selected node's suspicion of one peer rises and falls,
// with the detector's threshold as a line. Sampled from the inspector's view as the run
// plays (a window of the last samples); starts over when the pair, the run or the moment
// (a seek) changes.
import { fitCanvas } from '../render/fit.js';
const MAX_SAMPLES = 600;

export class PhiChart {
  constructor({ root, state }) {
    this.state = state;
    this.fig = root.querySelector('#phi-chart');
    this.canvas = this.fig.querySelector('canvas');
    this.caption = this.fig.querySelector('figcaption');
    this.pair = null;
    this.samples = [];
  }

  /** Follows node `from`'s view of `peer` (null to stop). */
  follow(from, peer) {
    this.pair = peer === null ? null : [from, peer];
    this.samples = [];
    this.fig.hidden = this.pair === null;
  }

  /** Adds a sample from the selected node's view, then redraws. */
  sample(view) {
    const first = view.peers.find((p) => p.phi !== undefined);
    if (!first) return this.pair && this.follow(view.id, null);
    // A node newly selected: chart its first peer until another row is picked.
    if (!this.pair || view.id !== this.pair[0]) this.follow(view.id, first.id);
    const peer = view.peers.find((p) => p.id === this.pair[1]);
    if (!peer || peer.phi === undefined) return;
    const t = this.state.timeMs;
    const last = this.samples[this.samples.length - 1];
    if (last && t < last.t) this.samples = []; // travelled back
    if (!last || t > last.t) this.samples.push({ t, phi: Math.min(peer.phi, 50) });
    if (this.samples.length > MAX_SAMPLES) this.samples.shift();
    this.draw();
  }

  threshold() {
    const d = this.state.sim.scenario().protocol?.detector;
    return d?.kind === 'phi' ? (d.threshold ?? 8) : null;
  }

  draw() {
    const { ctx, w, h } = fitCanvas(this.canvas, 300, 100);
    const th = this.threshold();
    const s = this.samples;
    const [from, peer] = this.pair;
    const now = s.length ? s[s.length - 1].phi : 0;
    this.caption.textContent = `φ of n${peer} as n${from} sees it: ${now >= 50 ? '≥ 50' : now.toFixed(2)}${th === null ? '' : ` (threshold ${th})`}`;
    if (s.length < 2) {
      ctx.fillStyle = '#8a93a6';
      ctx.font = '12px system-ui, sans-serif';
      ctx.textAlign = 'center';
      ctx.fillText('Play to chart φ over time; click a peer row to chart another.', w / 2, h / 2);
      return;
    }
    const maxY = Math.max(th ?? 1, ...s.map((p) => p.phi)) * 1.1;
    const t0 = s[0].t, t1 = s[s.length - 1].t;
    const X = (t) => 2 + ((t - t0) / Math.max(1, t1 - t0)) * (w - 4);
    const Y = (v) => h - 4 - (v / maxY) * (h - 8);
    if (th !== null) {
      ctx.strokeStyle = '#ff5c5c';
      ctx.setLineDash([4, 3]);
      ctx.beginPath();
      ctx.moveTo(0, Y(th));
      ctx.lineTo(w, Y(th));
      ctx.stroke();
      ctx.setLineDash([]);
    }
    ctx.strokeStyle = '#5aa9ff';
    ctx.lineWidth = 1.6;
    ctx.beginPath();
    s.forEach((p, i) => (i ? ctx.lineTo(X(p.t), Y(p.phi)) : ctx.moveTo(X(p.t), Y(p.phi))));
    ctx.stroke();
  }
}
