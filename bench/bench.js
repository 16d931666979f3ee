// In-browser engine benchmark: the cases of benches/engine.rs, run on the wasm build.
// Results go to #results and to window.benchResults; body[data-done] marks the end.
import init, { Simulation } from '../pkg/faultline.js';

const CASES = [
  { name: 'heartbeat 100 nodes, 100 ms', nodes: 100, interval_ms: 100, timeout_ms: 350, warmup_ms: 1000, run_ms: 10000 },
  { name: 'heartbeat 1000 nodes, 1 s', nodes: 1000, interval_ms: 1000, timeout_ms: 3000, warmup_ms: 2000, run_ms: 4000 },
  { name: 'swim 1000 nodes, 200 ms', nodes: 1000, protocol: { kind: 'swim', period_ms: 200 }, warmup_ms: 2000, run_ms: 10000 },
  { name: 'service 10k req/s, 20 replicas', nodes: 29, protocol: { kind: 'service', replicas: 20, rate_per_s: 10000, workers: 8, service_ms: 10 }, warmup_ms: 1000, run_ms: 10000 },
  // Raft with its clients and every checker on, as the page runs it (the preset's scenario),
  // for 10 simulated minutes as in cargo bench: a shorter run (60 s is ~16 ms of wall time)
  // measures V8's baseline compiler before the module tiers up, not the engine.
  { name: 'raft 8 nodes, checkers on', preset: 'raft-one-leader', warmup_ms: 1000, run_ms: 600000 },
];

function measure(c) {
  const scenario = c.preset ? Simulation.preset(c.preset) : {
    name: c.name, seed: 1, nodes: c.nodes,
    protocol: c.protocol ?? { kind: 'heartbeat', interval_ms: c.interval_ms, timeout_ms: c.timeout_ms },
  };
  const sim = new Simulation(scenario);
  sim.runUntil(c.warmup_ms);
  const t0 = performance.now();
  const events = sim.runUntil(c.warmup_ms + c.run_ms);
  const wallS = (performance.now() - t0) / 1000;
  sim.free();
  return { eventsPerS: events / wallS, simPerWall: c.run_ms / 1000 / wallS };
}

async function main() {
  await init();
  const out = document.getElementById('results');
  const results = [];
  out.textContent = 'case'.padEnd(34) + 'events/s'.padStart(14) + 'simulated s / wall s'.padStart(24) + '\n';
  for (const c of CASES) {
    let best = { eventsPerS: 0, simPerWall: 0 };
    for (let i = 0; i < 3; i++) {
      const r = measure(c);
      if (r.eventsPerS > best.eventsPerS) best = r;
    }
    results.push({ name: c.name, ...best });
    out.textContent += c.name.padEnd(34) + `${(best.eventsPerS / 1e6).toFixed(2)} M`.padStart(14)
      + `${best.simPerWall.toFixed(2)}x`.padStart(24) + '\n';
  }
  window.benchResults = results;
  document.getElementById('status').textContent = 'Done.';
  document.body.dataset.done = '1';
}

main().catch((e) => {
  document.getElementById('status').textContent = `Failed: ${e.message}`;
  document.body.dataset.done = 'error';
});
