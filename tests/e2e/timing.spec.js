// Timing models on the page (src/timing.rs, www/ui/timing.js): the checker panel groups
// properties under Safety, Liveness and Measures; FLP in action keeps every safety
// property while "eventually a server leads" pends, not guaranteed; switching the model to
// partially synchronous elects a leader after GST; the synchronous detector is exact.
import { expect, openPage, test } from './helpers.js';

async function travel(page, preset, ms) {
  await page.evaluate(([name, t]) => { window.faultline.loadPreset(name); window.faultline.seek(t); }, [preset, ms]);
  await page.waitForFunction((t) => window.faultline.timeMs >= t, ms, { timeout: 30_000 });
  await page.evaluate(() => window.faultline.render());
}

test('FLP in action: safety holds, liveness pends and is not guaranteed; after GST a leader is elected', async ({ page }) => {
  const errors = await openPage(page);
  await travel(page, 'flp-in-action', 20_000);
  const safety = page.locator('#checks-list [data-group="safety"] .check');
  await expect(safety).toHaveCount(6);
  await expect(page.locator('#checks-list [data-group="safety"] .check.violated')).toHaveCount(0);
  const leader = page.locator('#checks-list [data-group="liveness"] [data-check="leader_elected"]');
  await expect(leader).toHaveClass(/pending/);
  await expect(leader).toHaveClass(/unpromised/);
  await expect(leader).toContainText('pending 20');
  await expect(leader).toContainText('not guaranteed here');
  await page.evaluate(() => { document.querySelector('#timing-panel').open = true; });
  await expect(page.locator('#timing-kind')).toHaveValue('asynchronous');
  await expect(page.locator('#timing-bounds')).toContainText('asynchronous: no bound');
  await page.locator('#checks-panel').screenshot({ path: 'tests/e2e/screenshots/timing-flp-checks.png' });

  // The same run, partially synchronous with GST at 5 s.
  await page.selectOption('#timing-kind', 'partially_synchronous');
  await expect(page.locator('#timing-gst')).toBeVisible();
  await page.fill('#timing-gst', '5000');
  await page.click('#timing-apply');
  await expect(page.locator('#timing-bounds')).toContainText('GST = 5000 ms');
  await page.evaluate(() => { window.faultline.seek(9000); });
  await page.waitForFunction(() => window.faultline.timeMs >= 9000);
  await page.evaluate(() => window.faultline.render());
  await expect(leader).toHaveClass(/satisfied/);
  await expect(leader).not.toHaveClass(/unpromised/);
  await page.locator('#timing-panel').screenshot({ path: 'tests/e2e/screenshots/timing-panel.png' });
  // A share link carries the model.
  const link = await page.evaluate(() => window.faultline.sim.shareLink());
  const decoded = await page.evaluate((l) => window.faultline.sim.scenario().network.timing, link);
  expect(decoded.kind).toBe('partially_synchronous');
  expect(errors).toEqual([]);
});

test('perfect detection needs synchrony; a refused model says why', async ({ page }) => {
  const errors = await openPage(page);
  await travel(page, 'synchronous-detection', 4_000);
  await expect(page.locator('[data-check="strong_accuracy"]')).not.toHaveClass(/violated/);
  await expect(page.locator('[data-check="strong_completeness"]')).toHaveClass(/satisfied/);
  await page.screenshot({ path: 'tests/e2e/screenshots/timing-synchronous.png' });
  // Δ below the latency's 25 ms: the engine refuses, the run stays.
  await page.evaluate(() => { document.querySelector('#timing-panel').open = true; });
  await page.fill('#timing-delta', '10');
  await page.click('#timing-apply');
  await expect(page.locator('#error .text')).toContainText('delta_ms');
  expect(await page.evaluate(() => window.faultline.sim.scenario().network.timing.delta_ms)).toBe(30);
  // The stabilise fault is offered, and refused on a network without a GST.
  await page.evaluate(() => { document.querySelector('#fault-kind').closest('details').open = true; });
  await page.selectOption('#fault-kind', 'stabilise');
  await page.click('#palette button[type=submit]');
  await expect(page.locator('#error .text')).toContainText('partially synchronous');
  expect(errors).toEqual([]);
});

test('the adversary condemns a live node: accuracy breaks at a moment, on the canvas too', async ({ page }) => {
  const errors = await openPage(page);
  await travel(page, 'adversary-vs-detector', 6_000);
  await expect(page.locator('[data-check="strong_accuracy"]')).toHaveClass(/violated/);
  await expect(page.locator('[data-check="strong_accuracy"]')).toContainText('suspected n5');
  await page.screenshot({ path: 'tests/e2e/screenshots/timing-adversary.png' });
  expect(errors).toEqual([]);
});
