// The shrink worker: runs `shrinkRun` (delta debugging over a failing run, many candidate
// simulations) off the page's main thread on its own engine instance, so the page keeps
// answering. Messages in: { scenario, check, untilMs, maxRuns }. Out: { progress: runs }
// (at most every PROGRESS_MS), then { result } or { error: message }. The page stops a
// shrink by terminating the worker.
import { loadEngine, shrinkRun, messageOf } from './sim.js';

const PROGRESS_MS = 100;

self.addEventListener('message', async (event) => {
  const { scenario, check, untilMs, maxRuns } = event.data;
  try {
    await loadEngine();
    let last = 0;
    const progress = (runs) => {
      const now = performance.now();
      if (now - last < PROGRESS_MS) return;
      last = now;
      self.postMessage({ progress: runs });
    };
    self.postMessage({ result: shrinkRun(scenario, check, untilMs, maxRuns, progress) });
  } catch (e) {
    self.postMessage({ error: messageOf(e) });
  }
});
