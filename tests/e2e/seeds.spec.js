// The seed sweep on the page (src/explore through `seedSweep`): the scenario on screen over
// seeds, failing seeds as links that open their run; and the swarm's draw, the same in the
// browser as on the command line.
import { test } from '@playwright/test';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { expect, openPage } from './helpers.js';

test('the page sweeps the scenario over seeds and lists failing seeds as links', async ({ page }) => {
  test.setTimeout(90_000);
  const errors = await openPage(page);
  await page.evaluate(() => { window.faultline.loadPreset('split-brain'); document.querySelector('#sweep-panel').open = true; });
  await page.fill('#seeds-count', '16');
  await page.fill('#seeds-until', '10');
  await page.click('#seeds-run');
  await expect(page.locator('#seeds-progress')).toBeVisible();
  await expect(page.locator('#seeds-status')).toContainText('Done: 16 seeds', { timeout: 80_000 });
  // The naive election splits under the six-second partition in (nearly) every seed.
  await expect(page.locator('#seeds-tally')).toContainText(/split_brain: violated in 1[5-6] of 16 seeds/);
  await expect(page.locator('#seeds-tally')).toContainText('liveness: 16 of 16 seeds recovered');
  const links = page.locator('#seeds-failing a');
  expect(await links.count()).toBe(12);
  await expect(page.locator('#seeds-failing')).toContainText('and ');
  await page.locator('#sweep-panel').scrollIntoViewIfNeeded();
  await page.locator('#sweep-panel').screenshot({ path: 'tests/e2e/screenshots/seed-sweep.png' });
  // A failing seed's link opens its run at the moment it broke, with the checker red.
  const first = links.first();
  expect(await first.getAttribute('href')).toMatch(/^#s=F1\./);
  await first.click();
  await expect.poll(() => page.evaluate(() => window.faultline.sim.scenario().seed)).toBe(0);
  await expect.poll(() => page.evaluate(() => window.faultline.sim.inspect().time_ms)).toBeGreaterThan(1000);
  const violated = await page.evaluate(() => window.faultline.sim.checks().filter((c) => c.first_violation_ms != null).map((c) => c.id));
  expect(violated).toContain('split_brain');
  expect(errors).toEqual([]);
});

test('Cancel stops a seed sweep between seeds', async ({ page }) => {
  const errors = await openPage(page);
  await page.evaluate(() => { window.faultline.loadPreset('raft-one-leader'); document.querySelector('#sweep-panel').open = true; });
  await page.fill('#seeds-count', '500');
  await page.fill('#seeds-until', '30');
  await page.click('#seeds-run');
  await expect(page.locator('#seeds-status')).toContainText(' of 500 seeds');
  await page.click('#seeds-cancel');
  await expect(page.locator('#seeds-status')).toHaveText('Cancelled.');
  await expect(page.locator('#seeds-run')).toBeEnabled();
  const done = await page.evaluate(() => window.faultline.sweep.seeds.results.next);
  expect(done).toBeLessThan(500);
  expect(errors).toEqual([]);
});

test('a swarm seed draws the same run in the browser as on the command line', async ({ page }) => {
  const cli = process.env.FAULTLINE_CLI;
  const out = path.join(os.tmpdir(), `faultline-swarm-${process.pid}.jsonl`);
  execFileSync(cli, ['sweep', '--preset', 'raft-one-leader', '--seeds', '0..12', '--until', '9s', '--swarm', '--liveness', '4s', '--out', out]);
  const native = fs.readFileSync(out, 'utf8').trim().split('\n').slice(1).map((l) => JSON.parse(l)).sort((a, b) => a.seed - b.seed);
  fs.rmSync(out);
  const errors = await openPage(page);
  const browser = await page.evaluate(async () => {
    const sim = await import('/www/sim.js');
    const plan = sim.seedSweep(sim.presetScenario('raft-one-leader'), 9000, true, 4000);
    const outcomes = [];
    for (let seed = 0; seed < 12; seed++) outcomes.push(plan.run(seed));
    const drawn = plan.scenarioFor(3);
    plan.free();
    return { outcomes, drawn };
  });
  expect(browser.outcomes).toEqual(native);
  expect(new Set(native.map((o) => o.faults)).size).toBeGreaterThan(1);
  expect(JSON.parse(browser.drawn).name).toContain('swarm seed 3');
  expect(errors).toEqual([]);
});


/** Holds the shrink worker's script for `ms`, so its progress state can be seen (a
 * shrink of a small run is otherwise over within a frame). */
async function slowWorker(page, ms) {
  await page.route('**/shrink-worker.js', async (route) => {
    await new Promise((resolve) => setTimeout(resolve, ms));
    await route.continue();
  });
}

test('Shrink beside a violation cuts the run down in a worker and links the shrunk run', async ({ page }) => {
  test.setTimeout(90_000);
  const errors = await openPage(page);
  await slowWorker(page, 800);
  await page.evaluate(async () => { await window.faultline.loadPreset('split-brain'); window.faultline.advanceTo(9000); window.faultline.render(); });
  const before = await page.evaluate(() => ({ faults: window.faultline.sim.scenario().faults.length, nodes: window.faultline.sim.scenario().nodes }));
  await expect(page.locator('#violation')).toBeVisible({ timeout: 10_000 });
  const check = await page.locator('#violation').getAttribute('data-check');
  const name = await page.evaluate((id) => window.faultline.sim.checks().find((c) => c.id === id).name, check);
  await page.click('#violation .shrink');
  await expect(page.locator('#violation .shrink-text')).toContainText('Shrinking');
  // The page answers while the worker searches.
  const t0 = Date.now();
  await page.evaluate(() => window.faultline.timeMs);
  expect(Date.now() - t0).toBeLessThan(1000);
  // It shrinks the checker the banner names.
  await expect(page.locator('#violation .shrink-text')).toContainText(`Shrunk “${name}”`, { timeout: 80_000 });
  await expect(page.locator('#violation .shrink-text')).toContainText(`${before.faults} → `);
  await page.locator('#violation').screenshot({ path: 'tests/e2e/screenshots/shrink-banner.png' });
  const link = page.locator('#violation .shrink-link');
  await expect(link).toBeVisible();
  expect(await link.getAttribute('href')).toMatch(/^#s=F1\./);
  await link.click();
  // The shrunk run opens at its violation: the same checker is red, with no more faults or nodes.
  await expect.poll(() => page.evaluate(() => window.faultline.sim.checks().filter((c) => c.first_violation_ms != null).map((c) => c.id)))
    .toContain(check);
  const after = await page.evaluate(() => ({ faults: window.faultline.sim.scenario().faults.length, nodes: window.faultline.sim.scenario().nodes }));
  expect(after.faults).toBeLessThanOrEqual(before.faults);
  expect(after.nodes).toBeLessThanOrEqual(before.nodes);
  expect(errors).toEqual([]);
});

test('a shrink can be cancelled, and with no violation there is nothing to shrink', async ({ page }) => {
  const errors = await openPage(page);
  await slowWorker(page, 5_000);
  await page.evaluate(async () => { await window.faultline.loadPreset('split-brain'); window.faultline.advanceTo(9000); window.faultline.render(); });
  await expect(page.locator('#violation')).toBeVisible({ timeout: 10_000 });
  await page.click('#violation .shrink');
  await expect(page.locator('#violation .shrink-text')).toContainText('Shrinking');
  await page.click('#violation .shrink-cancel');
  await expect(page.locator('#violation .shrink-text')).toHaveText('Shrink cancelled.');
  await expect(page.locator('#violation .shrink')).toBeEnabled();
  await page.evaluate(() => window.faultline.seek(0));
  await page.click('#violation .shrink');
  await expect(page.locator('#error .text')).toContainText('Nothing to shrink');
  expect(errors).toEqual([]);
});
