// Native equals wasm: for every preset the engine lists and 25 seeds each, the browser's
// trace hash equals the native command line's. Always runs: `cargo xtask test` builds the
// CLI and passes its path in FAULTLINE_CLI; by hand, `cargo build --release --bin faultline`.
import { test } from '@playwright/test';
import { execFile, execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { promisify } from 'node:util';
import { expect, openPage } from './helpers.js';

const SEEDS = Array.from({ length: 25 }, (_, i) => i + 1);
/** Simulated time each run covers: 10 s, or less where a preset is busy (1,000 nodes)… */
const HORIZON_MAX_MS = 10_000;
/** …so that one run of it handles about this many events, keeping the test to about a minute. */
const EVENTS_PER_RUN = 40_000;

const cli = process.env.FAULTLINE_CLI || 'target/release/faultline';
const run = promisify(execFile);

/** The native trace hash: the last line the CLI prints with --trace-hash. */
async function nativeHash(preset, seed, untilMs) {
  const args = ['run', '--preset', preset, '--seed', String(seed), '--until', `${untilMs}ms`, '--trace-hash'];
  const { stdout } = await run(cli, args, { encoding: 'utf8' });
  return stdout.trim().split('\n').pop();
}

/** Each seed's native hash, two CLI processes at a time. */
async function nativeHashes(preset, untilMs) {
  const out = new Array(SEEDS.length);
  let next = 0;
  const worker = async () => {
    while (next < SEEDS.length) {
      const i = next++;
      out[i] = await nativeHash(preset, SEEDS[i], untilMs);
    }
  };
  await Promise.all([worker(), worker()]);
  return out;
}

test('native and wasm trace hashes agree for every preset × 25 seeds', async ({ page }) => {
  test.setTimeout(600_000);
  expect(existsSync(cli), `the native CLI ${cli} is missing: cargo build --release --bin faultline`).toBe(true);
  await openPage(page);
  // The preset list comes from the engine, both builds of it, and they agree.
  const names = await page.evaluate(async () => (await import('/www/sim.js')).presets().map((p) => p.name));
  const nativeNames = execFileSync(cli, ['presets'], { encoding: 'utf8' }).trim().split('\n');
  expect(names).toEqual(nativeNames);
  expect(names.length).toBeGreaterThan(20);
  const started = Date.now();
  let runs = 0;
  for (const preset of names) {
    // The horizon: seed 1 in the browser, in steps of 1 ms (of 100 ms past 100 ms) until the
    // event budget or 10 s. A thousand nodes send a million beats as they boot: a few ms.
    const untilMs = await page.evaluate(({ preset, maxMs, budget }) => import('/www/sim.js').then(({ Sim, presetScenario }) => {
      const sim = new Sim({ ...presetScenario(preset), seed: 1 });
      let t = 0;
      while (t < maxMs && sim.inspect().events < budget) sim.runUntil((t += t < 100 ? 1 : 100));
      sim.free();
      return t;
    }), { preset, maxMs: HORIZON_MAX_MS, budget: EVENTS_PER_RUN });
    const native = nativeHashes(preset, untilMs);
    const wasm = await page.evaluate(({ preset, seeds, untilMs }) => import('/www/sim.js').then(({ Sim, presetScenario }) => seeds.map((seed) => {
      const sim = new Sim({ ...presetScenario(preset), seed });
      sim.runUntil(untilMs);
      const hash = sim.traceHash();
      sim.free();
      return hash;
    })), { preset, seeds: SEEDS, untilMs });
    const nativeList = await native;
    for (let i = 0; i < SEEDS.length; i++) {
      expect(wasm[i], `${preset}, seed ${SEEDS[i]}, to ${untilMs} ms`).toBe(nativeList[i]);
    }
    // Not vacuous: the seed drives the run.
    expect(new Set(wasm).size, `${preset}: 25 seeds, distinct traces`).toBeGreaterThan(1);
    runs += SEEDS.length;
  }
  console.log(`native = wasm: ${names.length} presets × ${SEEDS.length} seeds = ${runs} runs compared in ${((Date.now() - started) / 1000).toFixed(1)} s`);
});
