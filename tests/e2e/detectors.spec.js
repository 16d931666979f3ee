// Failure detectors on the page: φ over time for a chosen pair, and the sweep that draws
// detection time against false positives for each detector.
import { expect, openPage, test } from './helpers.js';

test('the phi chart follows a pair and shows the threshold being crossed', async ({ page }) => {
  const errors = await openPage(page);
  await page.evaluate(async () => { window.faultline.loadPreset('phi-accrual'); await window.faultline.seek(9500); window.faultline.select(0); });
  await expect(page.locator('#phi-chart')).toBeVisible();
  // Step through the crash of node 1 at 10 s: φ of n1 rises past 8.
  for (let i = 0; i < 20; i++) await page.evaluate(() => window.faultline.step(60));
  await expect(page.locator('#phi-chart figcaption')).toContainText('φ of n1 as n0 sees it');
  const samples = await page.evaluate(() => window.faultline.inspector.phi.samples.map((s) => s.phi));
  expect(samples.length).toBeGreaterThan(10);
  expect(Math.min(...samples)).toBeLessThan(8);
  expect(Math.max(...samples)).toBeGreaterThan(8);
  // Another row charts another peer.
  await page.locator('#peer-rows tr').nth(2).click();
  await expect(page.locator('#phi-chart figcaption')).toContainText('φ of n3');
  expect(errors).toEqual([]);
});

test('the detector sweep runs with progress and draws all three curves', async ({ page }) => {
  test.setTimeout(90_000);
  const errors = await openPage(page);
  await page.evaluate(() => { document.querySelector('#sweep-panel').open = true; });
  await page.fill('#sweep-seeds', '6');
  await page.click('#sweep-run');
  await expect(page.locator('#sweep-progress')).toBeVisible();
  await expect(page.locator('#sweep-status')).toContainText('Done: 162 trials', { timeout: 80_000 });
  expect(await page.evaluate(() => document.querySelector('#sweep-progress').value)).toBe(162);
  const curves = await page.evaluate(() => [0, 1, 2].map((i) => window.faultline.sweep.points(i)));
  for (const pts of curves) expect(pts.length).toBe(9);
  // Each curve trades detection time for false alarms; phi sits lower-left of fixed at a
  // matched detection time (the experiment in tests/detectors.rs).
  const [fixed, phi, swim] = curves;
  // SWIM trades too: a short suspicion timeout declares live members dead.
  const fastSwim = swim.find((p) => p.param === 100), slowSwim = swim.find((p) => p.param === 2400);
  expect(fastSwim.y).toBeGreaterThan(slowSwim.y);
  expect(fastSwim.x).toBeLessThan(slowSwim.x);
  const slowestFixed = fixed.reduce((a, b) => (a.x > b.x ? a : b));
  const fastestFixed = fixed.reduce((a, b) => (a.x < b.x ? a : b));
  expect(fastestFixed.y).toBeGreaterThan(slowestFixed.y);
  const phiAt8 = phi.find((p) => p.param === 8);
  const fixedAsSlow = fixed.filter((p) => p.x <= phiAt8.x * 1.2);
  const best = Math.min(...fixedAsSlow.map((p) => p.y));
  expect(phiAt8.y).toBeLessThan(best);
  await page.locator('#sweep-panel').screenshot({ path: 'tests/e2e/screenshots/detector-sweep.png' });
  expect(errors).toEqual([]);
});
