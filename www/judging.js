// Judging an exercise run between frames, for the page's exercise panel (ui/exercise.js)
// and <faultline-sim>: the recorded scenario — never the live state — is replayed headless
// by the engine (src/exercise/judge.rs, `Simulation.judge`) a few 100 ms steps at a time,
// each slice at most `SLICE_MS` of wall time, so the page stays responsive. Also the
// judgement's headline in words, the same everywhere.
import { judgeRun } from './sim.js';
import { formatMs } from './format.js';

/** Wall time a slice of judging may take before the page gets a frame, ms. */
const SLICE_MS = 10;

/** Judges `scenario` in slices: `progress({ now_ms, end_ms })` between slices, then
 * `done(judgement)`, or `failed(error)` (the engine's message; EngineDead on a trap).
 * Returns a function that stops the judging. Throws at once on a scenario the engine
 * cannot judge. */
export function judgeInSlices(scenario, { progress, done, failed }) {
  const job = judgeRun(scenario);
  let timer = null;
  let stopped = false;
  const slice = () => {
    if (stopped) return;
    try {
      const t0 = performance.now();
      let finished = false;
      while (!finished && performance.now() - t0 < SLICE_MS) finished = job.step(4);
      if (!finished) {
        progress(job.progress());
        timer = setTimeout(slice, 0);
        return;
      }
      stopped = true;
      done(job.finish());
    } catch (e) {
      stopped = true;
      failed(e);
    }
  };
  timer = setTimeout(slice, 0);
  return () => {
    stopped = true;
    clearTimeout(timer);
  };
}

/** A judgement's headline: met (and when), refused (which rule), or not yet. */
export function headlineOf(j) {
  if (j.met) return `✓ Goal met at t = ${formatMs(j.met_at_ms)}.`;
  if (j.broken.length) return `✗ Refused: ${j.broken.join('; ')}.`;
  return `✗ Not yet: the goal was not met by t = ${formatMs(j.time_limit_ms)}.`;
}

/** Each part of the goal in words: "✓ met: … — why". */
export function partsOf(j) {
  return j.parts.map((p) => `${p.met ? '✓ met' : '✗ not met'}: ${p.goal} — ${p.why}`);
}
