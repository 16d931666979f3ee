// The timing model panel: which model the run's network follows (src/timing.rs) —
// probabilistic, synchronous (Δ), partially synchronous (an adversary until GST) or
// asynchronous (an adversary, no bound) — with its bounds in the engine's words, and a
// button that runs the scenario again from 0 in the model picked. Fields that a model
// does not use are hidden; the engine's validation explains a refused model.

/** What each model writes into `network.timing`, from the panel's fields. */
const FIELDS = {
  probabilistic: () => ({}),
  synchronous: (v) => ({ delta_ms: v.delta }),
  partially_synchronous: (v) => ({ delta_ms: v.delta, gst_ms: v.gst, cap_ms: v.cap }),
  asynchronous: (v) => ({ cap_ms: v.cap }),
};

export class TimingPanel {
  constructor({ root, state, session, notify }) {
    this.state = state;
    this.session = session;
    this.notify = notify;
    const $ = (sel) => root.querySelector(sel);
    this.el = {
      kind: $('#timing-kind'), delta: $('#timing-delta'), gst: $('#timing-gst'), cap: $('#timing-cap'),
      bounds: $('#timing-bounds'), apply: $('#timing-apply'), rows: root.querySelectorAll('#timing-panel [data-models]'),
    };
    this.el.kind.addEventListener('change', () => this.showFields());
    this.el.apply.addEventListener('click', () => this.apply());
    state.on('run', () => this.fill());
  }

  /** Shows the run's model in the fields. */
  fill() {
    const timing = this.state.sim.scenario().network?.timing ?? { kind: 'probabilistic' };
    this.el.kind.value = timing.kind;
    if (timing.delta_ms != null) this.el.delta.value = timing.delta_ms;
    if (timing.gst_ms != null) this.el.gst.value = timing.gst_ms;
    if (timing.cap_ms != null) this.el.cap.value = timing.cap_ms;
    this.el.bounds.textContent = this.state.sim.timingModel() ?? '';
    this.showFields();
  }

  showFields() {
    const kind = this.el.kind.value;
    for (const row of this.el.rows) row.hidden = !row.dataset.models.split(' ').includes(kind);
  }

  apply() {
    const kind = this.el.kind.value;
    const values = { delta: Number(this.el.delta.value), gst: Number(this.el.gst.value), cap: Number(this.el.cap.value) };
    const timing = { kind, ...FIELDS[kind](values) };
    if (this.session.withTiming(timing)) this.notify.note(`Running again from 0 — ${this.state.sim.timingModel()}.`);
  }
}
