// Benchmarks in the browser, reported, not asserted on timing: the engine on wasm (the
// cargo bench cases, bench/index.html) and the page's frame times while playing.
import { expect, openPage, test } from './helpers.js';

test('engine benchmark on wasm', async ({ page }) => {
  test.setTimeout(120_000);
  await page.goto('/bench/index.html');
  await page.waitForSelector('body[data-done]', { timeout: 110_000 });
  const results = await page.evaluate(() => window.benchResults);
  expect(results.length).toBe(5);
  for (const r of results) {
    console.log(`wasm engine: ${r.name}: ${(r.eventsPerS / 1e6).toFixed(2)} M events/s, ${r.simPerWall.toFixed(2)}× real time`);
  }
});

test('frame times while playing (5, 100 and 1,000 nodes; an overloaded service)', async ({ page }) => {
  test.setTimeout(60_000);
  await openPage(page);
  for (const [preset, nodes] of [['heartbeat', 5], ['heartbeat', 100], ['large-cluster', 1000], ['swim-at-scale', 1000], ['cascading-failure', 10]]) {
    const stats = await page.evaluate(async ({ preset, nodes }) => {
      const app = window.faultline;
      const scenario = (await import('/www/sim.js')).presetScenario(preset);
      scenario.nodes = nodes;
      app.load(scenario, { presetName: preset });
      app.setSpeed(1);
      const frameWork = [];
      const player = app.session.player;
      const original = player.frame.bind(player);
      player.frame = (t) => { const t0 = performance.now(); original(t); frameWork.push(performance.now() - t0); };
      const stamps = [];
      await new Promise((resolve) => {
        const tick = (t) => { stamps.push(t); if (stamps.length < 150) requestAnimationFrame(tick); else resolve(); };
        app.play();
        requestAnimationFrame(tick);
      });
      app.pause();
      player.frame = original;
      const q = (xs, p) => { const s = [...xs].sort((a, b) => a - b); return s[Math.min(s.length - 1, Math.floor(p * s.length))]; };
      const gaps = stamps.slice(1).map((t, i) => t - stamps[i]);
      return { interval50: q(gaps, 0.5), interval95: q(gaps, 0.95), work50: q(frameWork, 0.5), work95: q(frameWork, 0.95), simMs: app.timeMs, speed: app.effectiveSpeed };
    }, { preset, nodes });
    console.log(`frames, ${preset} at ${nodes} nodes: interval p50 ${stats.interval50.toFixed(1)} ms, p95 ${stats.interval95.toFixed(1)} ms; work per frame p50 ${stats.work50.toFixed(2)} ms, p95 ${stats.work95.toFixed(2)} ms; effective speed ${stats.speed.toFixed(2)}×`);
    expect(stats.simMs).toBeGreaterThan(0);
  }
});

test('memory stays flat over a simulated hour, with time travel on', async ({ page }) => {
  test.setTimeout(120_000);
  await openPage(page);
  const report = await page.evaluate(async () => {
    const m = await import('/www/sim.js');
    const out = [];
    for (const [preset, nodes, minutes] of [['heartbeat', 5, 60], ['heartbeat', 50, 60], ['raft-one-leader', 8, 60]]) {
      const scenario = m.presetScenario(preset);
      scenario.nodes = nodes;
      const sim = new m.Sim(scenario);
      const wasmBytes = () => m.wasmMemoryBytes();
      const samples = [];
      for (let minute = 1; minute <= minutes; minute++) {
        sim.runUntil(minute * 60_000);
        if (minute === 1 || minute % 15 === 0) samples.push({ minute, wasm: wasmBytes(), checkpoints: sim.checkpoints().held });
      }
      // Seeking back across the hour stays exact and cheap.
      const t0 = performance.now();
      sim.seek(1_800_000);
      const seekMs = performance.now() - t0;
      sim.free();
      out.push({ preset, nodes, samples, seekMs });
    }
    return out;
  });
  for (const r of report) {
    const first = r.samples[0], last = r.samples[r.samples.length - 1];
    console.log(`memory, ${r.preset} at ${r.nodes} nodes over a simulated hour: wasm ${(first.wasm / 2 ** 20).toFixed(1)} MiB after 1 min, ${(last.wasm / 2 ** 20).toFixed(1)} MiB after ${last.minute} min; checkpoints ${last.checkpoints}; seek back 30 min took ${r.seekMs.toFixed(0)} ms`);
    // Flat: memory after an hour is within a small margin of memory after a minute.
    expect(last.wasm).toBeLessThan(first.wasm * 1.5 + 16 * 2 ** 20);
    expect(last.checkpoints).toBeLessThanOrEqual(32);
  }
});
