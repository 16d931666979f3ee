// The seed sweep of the scenario on screen (src/explore through `seedSweep`): runs it once
// per seed to a chosen time, a few seeds per frame with a progress bar so the page stays
// responsive (Cancel stops between seeds), counts per checker the seeds that broke it, and
// lists the failing seeds as share links that open the run where it broke. With "swarm",
// each seed also draws its own faults (and the knobs the scenario's `vary` marks), all
// healed 4 s before the end, and a liveness phase asks that the run converges.
import { seedSweep, messageOf } from '../sim.js';

const FRAME_BUDGET_MS = 40;
const MAX_SEEDS = 500;
const LIVENESS_MS = 4000;
/** Failing seeds listed as links (the smallest ones). */
const LISTED = 12;

export class SeedSweepView {
  /** `app`: `root`, `showError(message)` and `scenario()` (the scenario on screen). */
  constructor(app) {
    this.app = app;
    const $ = (sel) => app.root.querySelector(sel);
    this.el = {
      count: $('#seeds-count'), until: $('#seeds-until'), swarm: $('#seeds-swarm'),
      run: $('#seeds-run'), cancel: $('#seeds-cancel'), bar: $('#seeds-progress'),
      status: $('#seeds-status'), tally: $('#seeds-tally'), failing: $('#seeds-failing'),
    };
    this.el.run.addEventListener('click', () => this.start());
    this.el.cancel.addEventListener('click', () => this.stop('Cancelled.'));
    this.job = null;
    this.plan = null;
  }

  start() {
    const count = Number(this.el.count.value);
    const untilS = Number(this.el.until.value);
    if (!Number.isInteger(count) || count < 1 || count > MAX_SEEDS) {
      this.app.showError(`Seed sweep: give a whole number of seeds from 1 to ${MAX_SEEDS}.`);
      return;
    }
    if (!(untilS >= 1 && untilS <= 600)) {
      this.app.showError('Seed sweep: run each seed for 1 to 600 simulated seconds.');
      return;
    }
    const swarm = this.el.swarm.checked;
    try {
      this.plan = seedSweep(this.app.scenario(), untilS * 1000, swarm, LIVENESS_MS);
    } catch (e) {
      this.app.showError(`Seed sweep: ${messageOf(e)}`);
      return;
    }
    this.results = { total: count, next: 0, failed: [], checks: new Map(this.plan.checks().map((c) => [c, 0])), judged: 0, recovered: 0 };
    this.el.run.disabled = true;
    this.el.cancel.hidden = false;
    this.el.bar.hidden = false;
    this.el.bar.max = count;
    this.el.bar.value = 0;
    this.el.failing.replaceChildren();
    this.step();
  }

  step() {
    const r = this.results;
    const t0 = performance.now();
    try {
      while (r.next < r.total && performance.now() - t0 < FRAME_BUDGET_MS) this.record(this.plan.run(r.next++));
    } catch (e) {
      return this.stop(`The sweep failed: ${messageOf(e)}`);
    }
    this.el.bar.value = r.next;
    this.el.status.textContent = `${r.next} of ${r.total} seeds, ${r.failed.length} failed`;
    this.drawTally();
    if (r.next < r.total) this.job = requestAnimationFrame(() => this.step());
    else this.stop(`Done: ${r.total} seeds, ${r.failed.length} failed.`);
  }

  record(outcome) {
    const r = this.results;
    for (const id of Object.keys(outcome.violated)) r.checks.set(id, (r.checks.get(id) ?? 0) + 1);
    if (outcome.liveness) {
      r.judged += 1;
      if (outcome.liveness.recovered_after_ms != null) r.recovered += 1;
    }
    if (outcome.link) {
      r.failed.push(outcome);
      if (r.failed.length <= LISTED) this.el.failing.append(this.failingItem(outcome));
    }
  }

  failingItem(o) {
    const li = document.createElement('li');
    const a = document.createElement('a');
    a.href = `#s=${o.link}`;
    a.textContent = `seed ${o.seed}`;
    const broke = Object.entries(o.violated).sort((x, y) => x[1] - y[1]);
    const what = broke.length
      ? broke.map(([id, ms]) => `${id} at ${Math.round(ms)} ms`).join(', ')
      : `did not recover within ${LIVENESS_MS / 1000} s of the heal`;
    li.append(a, document.createTextNode(` — ${what}`));
    return li;
  }

  drawTally() {
    const r = this.results;
    const rows = [...r.checks].map(([id, n]) => {
      const li = document.createElement('li');
      li.textContent = `${id}: violated in ${n} of ${r.next} seeds`;
      if (n > 0) li.className = 'violated';
      return li;
    });
    if (r.judged > 0) {
      const li = document.createElement('li');
      li.textContent = `liveness: ${r.recovered} of ${r.judged} seeds recovered after the heal`;
      if (r.recovered < r.judged) li.className = 'violated';
      rows.push(li);
    }
    this.el.tally.replaceChildren(...rows);
  }

  stop(message) {
    if (this.job) cancelAnimationFrame(this.job);
    this.job = null;
    if (this.results) this.results.total = this.results.next;
    this.plan?.free();
    this.plan = null;
    this.el.run.disabled = false;
    this.el.cancel.hidden = true;
    this.el.status.textContent = message;
    const more = this.results ? this.results.failed.length - LISTED : 0;
    if (more > 0) {
      const li = document.createElement('li');
      li.className = 'muted';
      li.textContent = `and ${more} more failing seeds`;
      this.el.failing.append(li);
    }
  }
}
