// "Shrink" beside a checker violation: cuts the run on screen down to the faults, fault
// durations and nodes it needs to break the same checker (src/explore/shrink.rs, delta
// debugging), in a worker (shrink-worker.js) so the page keeps answering, with progress
// and Cancel; the result is a share link that opens the shrunk run at its violation.
// The checker shrunk is the one the banner names (else the first one violated in the run
// as it is now); candidates run up to the moment on screen.
import { formatMs } from '../format.js';

/** Candidate runs a shrink may spend (the CLI's --max-runs). */
const MAX_RUNS = 600;

export class ShrinkView {
  constructor({ root, state, notify }) {
    this.state = state;
    this.notify = notify;
    const banner = root.querySelector('#violation');
    this.banner = banner;
    const $ = (sel) => banner.querySelector(sel);
    this.el = {
      button: $('.shrink'), box: $('.shrink-state'), bar: $('.shrink-state progress'),
      text: $('.shrink-text'), cancel: $('.shrink-cancel'), link: $('.shrink-link'),
    };
    this.worker = null;
    this.el.button.addEventListener('click', () => this.start());
    this.el.cancel.addEventListener('click', () => this.stop('Shrink cancelled.'));
    $('.dismiss').addEventListener('click', () => this.stop(''));
    state.on('run', () => { if (!this.worker) this.reset(); });
  }

  /** Starts shrinking the run on screen for its first violated checker. */
  start() {
    const sim = this.state.sim;
    const named = this.banner.dataset.check;
    const violated = sim.checks().filter((c) => c.first_violation_ms != null)
      .sort((a, b) => (b.id === named) - (a.id === named) || a.first_violation_ms - b.first_violation_ms)[0];
    if (!violated) {
      this.notify.error('Nothing to shrink: no checker is violated at this moment of the run.');
      return;
    }
    this.stop('');
    const job = { scenario: sim.scenario(), check: violated.id, untilMs: this.state.timeMs, maxRuns: MAX_RUNS };
    this.worker = new Worker(new URL('../shrink-worker.js', import.meta.url), { type: 'module' });
    this.worker.addEventListener('message', (e) => this.hear(e.data, violated));
    this.worker.addEventListener('error', (e) => this.finish(`Shrink failed: ${e.message || 'the worker stopped'}`));
    this.worker.postMessage(job);
    this.show(`Shrinking “${violated.name}”: starting…`, 0);
    this.el.button.disabled = true;
  }

  hear(data, check) {
    if (data.progress != null) {
      this.show(`Shrinking “${check.name}”: ${data.progress} runs…`, data.progress / MAX_RUNS);
    } else if (data.error != null) {
      this.finish(`Shrink failed: ${data.error}`);
    } else {
      this.finish(describe(data.result, check.name));
      this.el.link.href = `#s=${data.result.link}`;
      this.el.link.title = data.result.removed.length ? `Removed: ${data.result.removed.join('; ')}` : 'Nothing could be removed';
      this.el.link.hidden = false;
    }
  }

  show(text, fraction) {
    this.el.box.hidden = false;
    this.el.bar.hidden = false;
    this.el.bar.value = Math.min(1, fraction);
    this.el.cancel.hidden = false;
    this.el.link.hidden = true;
    this.el.text.textContent = text;
  }

  /** Ends the worker (if any) and leaves `text` on the banner. */
  finish(text) {
    this.worker?.terminate();
    this.worker = null;
    this.el.button.disabled = false;
    this.el.bar.hidden = true;
    this.el.cancel.hidden = true;
    this.el.text.textContent = text;
    this.el.box.hidden = text === '';
  }

  stop(text) {
    if (this.worker || text) this.finish(text);
  }

  reset() {
    this.finish('');
    this.el.link.hidden = true;
  }
}

/** One line for a shrink's outcome. */
function describe(r, name) {
  const faults = `${r.faults_before} → ${r.faults_after} fault${r.faults_after === 1 ? '' : 's'}`;
  const nodes = `${r.nodes_before} → ${r.nodes_after} nodes`;
  const more = r.budget_hit ? ' (run budget spent: the CLI can go further)' : '';
  return `Shrunk “${name}”: ${faults}, ${nodes}, in ${r.runs} runs; violated at t = ${formatMs(r.violated_at_ms)}.${more}`;
}
