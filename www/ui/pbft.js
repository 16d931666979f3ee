// The PBFT panel (shown for PBFT scenarios): how many replicas n, how many liars f the
// quorums are sized for, how many clients, and the bound in plain words — n ≥ 3f + 1, or a
// warning that f liars can break agreement. "Run again" restarts the scenario from 0 with
// the new sizes; the engine's validation explains a size it refuses.

export class PbftPanel {
  constructor({ root, state, session, notify }) {
    this.state = state;
    this.session = session;
    this.notify = notify;
    const $ = (sel) => root.querySelector(sel);
    this.el = { panel: $('#pbft-panel'), n: $('#pbft-n'), f: $('#pbft-f'), clients: $('#pbft-clients'), bound: $('#pbft-bound'), apply: $('#pbft-apply') };
    for (const input of [this.el.n, this.el.f]) input.addEventListener('input', () => this.sayBound());
    this.el.apply.addEventListener('click', () => this.apply());
    state.on('run', () => this.fill());
  }

  fill() {
    const s = this.state.sim.scenario();
    const pbft = s.protocol?.kind === 'pbft';
    this.el.panel.hidden = !pbft;
    if (!pbft) return;
    const n = s.protocol.replicas ?? 4;
    this.el.n.value = n;
    this.el.f.value = s.protocol.f ?? Math.floor((n - 1) / 3);
    this.el.clients.value = s.nodes - n;
    this.sayBound();
  }

  /** n ≥ 3f + 1 in plain words. */
  sayBound() {
    const n = Number(this.el.n.value);
    const f = Number(this.el.f.value);
    const ok = n >= 3 * f + 1;
    this.el.bound.textContent = ok
      ? `n = ${n} ≥ 3f + 1 = ${3 * f + 1}: up to ${f} lying replica${f === 1 ? '' : 's'} cannot make the honest ones disagree.`
      : `Warning: n = ${n} < 3f + 1 = ${3 * f + 1}. With ${f} liars the quorums are too small to keep honest replicas in agreement.`;
    this.el.bound.classList.toggle('warn', !ok);
  }

  apply() {
    const n = Number(this.el.n.value);
    const f = Number(this.el.f.value);
    const clients = Number(this.el.clients.value);
    const ok = this.session.rerun((s) => {
      s.protocol = { ...s.protocol, replicas: n, f };
      s.nodes = n + clients;
      s.faults = (s.faults ?? []).filter((x) => x.fault?.node == null || x.fault.node < n + clients);
    });
    if (ok) this.notify.note(`Running again with ${n} replicas, f = ${f}, ${clients} clients.`);
  }
}
