// Long work that must never block the page: running a simulation far forward (opening a
// link with a far moment, seeking, replaying after a restart). The engine stays on the
// main thread and the work is sliced between frames: each frame runs the engine for at
// most `SLICE_BUDGET_MS` of wall time (slices sized by a learnt pace), so the page
// answers input between slices. Work that lasts more than `SHOW_AFTER_MS` shows a
// progress bar with Cancel. Cancel stops between slices, so the run is left consistent
// where it got to.
import { Pace, runWithin } from './player.js';

/** Wall time one frame's slices may take, ms. */
export const SLICE_BUDGET_MS = 8;
/** While travelling, the views redraw at most this often, ms (the bar moves every slice)... */
const REDRAW_MS = 100;
/** ...and take at most this share of the wall time (a large run's frame is costly). */
const REDRAW_SHARE = 0.2;
/** Work shorter than this shows no progress bar, ms. */
export const SHOW_AFTER_MS = 500;

export class Travel {
  /** progress: { show(label, fraction, onCancel), hide() } (ui/progress.js). */
  constructor(progress) {
    this.progress = progress;
    this.job = null;
  }

  get busy() { return this.job !== null; }

  /** Runs `sim` from `fromMs` to `toMs`. Callbacks: moved(ms) every `REDRAW_MS` or so,
   * done(ms, { cancelled }) at the end, failed(error) if the engine throws. The first
   * slice runs at once, so short trips finish before `go` returns. */
  go({ sim, fromMs, toMs, label, moved, done, failed }) {
    this.cancel();
    const job = { sim, fromMs, toMs, label, moved, done, failed, t: fromMs, started: performance.now(), pace: new Pace(), raf: null };
    this.job = job;
    this.slice(job);
  }

  /** Stops the running job between slices (its `done` is told it was cancelled). */
  cancel() {
    const job = this.job;
    if (!job) return;
    this.finish(job, true);
  }

  /** Drops the running job without a word (its engine is gone). */
  abandon() {
    if (this.job?.raf) cancelAnimationFrame(this.job.raf);
    this.job = null;
    this.progress.hide();
  }

  slice(job) {
    if (this.job !== job) return;
    const deadline = performance.now() + SLICE_BUDGET_MS;
    try {
      job.t = runWithin(job.sim, job.t, job.toMs, deadline, job.pace);
    } catch (e) {
      this.job = null;
      this.progress.hide();
      job.failed(e);
      return;
    }
    if (job.t >= job.toMs) {
      job.moved(job.t);
      return this.finish(job, false);
    }
    if (performance.now() >= (job.redrawAt ?? 0)) {
      const start = performance.now();
      job.moved(job.t);
      const cost = performance.now() - start;
      job.redrawAt = performance.now() + Math.max(REDRAW_MS, cost / REDRAW_SHARE);
    }
    if (performance.now() - job.started > SHOW_AFTER_MS) {
      const fraction = (job.t - job.fromMs) / Math.max(1e-9, job.toMs - job.fromMs);
      this.progress.show(job.label, fraction, () => this.cancel());
    }
    job.raf = requestAnimationFrame(() => this.slice(job));
  }

  finish(job, cancelled) {
    if (job.raf !== null) cancelAnimationFrame(job.raf);
    this.job = null;
    this.progress.hide();
    job.done(job.t, { cancelled });
  }
}
