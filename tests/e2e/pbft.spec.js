// PBFT on the page (src/protocol/pbft, www/ui/pbft.js): the replicas-and-liars panel shows
// for PBFT scenarios only, says n ≥ 3f + 1 plainly or warns when it is not, and reruns
// with new sizes; the canvas at 16 replicas (in rows, badges fitted between neighbours); the
// inspector shows a replica's view, log window and certificates; the canvas shows each
// replica's request stages, named in the legend.
import { expect, openPage, test } from './helpers.js';

test('the n and f panel states the bound, warns below it, and reruns with new sizes', async ({ page }) => {
  const errors = await openPage(page);
  await expect(page.locator('#pbft-panel')).toBeHidden();
  await page.evaluate(() => window.faultline.loadPreset('pbft-one-liar'));
  await expect(page.locator('#pbft-panel')).toBeVisible();
  await page.evaluate(() => { document.querySelector('#pbft-panel').open = true; });
  await expect(page.locator('#pbft-n')).toHaveValue('4');
  await expect(page.locator('#pbft-f')).toHaveValue('1');
  await expect(page.locator('#pbft-bound')).toContainText('n = 4 ≥ 3f + 1 = 4');
  await page.fill('#pbft-f', '2');
  await expect(page.locator('#pbft-bound')).toContainText('Warning: n = 4 < 3f + 1 = 7');
  await page.locator('#pbft-panel').screenshot({ path: 'tests/e2e/screenshots/pbft-panel-warning.png' });
  // 16 replicas, f = 5, 3 clients.
  await page.fill('#pbft-n', '16');
  await page.fill('#pbft-f', '5');
  await page.fill('#pbft-clients', '3');
  await page.click('#pbft-apply');
  await expect.poll(() => page.evaluate(() => window.faultline.sim.scenario().nodes)).toBe(19);
  await page.evaluate(() => { window.faultline.seek(6000); });
  await page.waitForFunction(() => window.faultline.timeMs >= 6000);
  await page.evaluate(() => { window.faultline.render(); window.faultline.select(2); });
  await expect(page.locator('[data-check="agreement"]')).not.toHaveClass(/violated/);
  await expect(page.locator('#node-detail')).toContainText('quorum');
  await expect(page.locator('#node-detail')).toContainText('certificates');
  // Neighbouring replicas' log strips do not meet: the room under each is at least a few cells.
  const room = await page.evaluate(() => window.faultline.renderer.badgeWidth);
  expect(room).toBeGreaterThan(20);
  await page.screenshot({ path: 'tests/e2e/screenshots/pbft-16-replicas.png' });
  // A size the engine refuses: the run on screen stays.
  await page.fill('#pbft-f', '20');
  await page.click('#pbft-apply');
  await expect(page.locator('#error .text')).toContainText('quorums of');
  expect(await page.evaluate(() => window.faultline.sim.scenario().nodes)).toBe(19);
  expect(errors).toEqual([]);
});

test('one liar among four: the stall shows in the stage ticks and certificates, then a new view', async ({ page }) => {
  const errors = await openPage(page);
  await page.evaluate(() => window.faultline.loadPreset('pbft-one-liar'));
  // Mid-stall: the lying primary's three stories leave a sequence number pre-prepared only.
  await page.evaluate(() => { window.faultline.seek(3000); });
  await page.waitForFunction(() => window.faultline.timeMs >= 3000);
  await page.evaluate(() => { window.faultline.render(); window.faultline.select(2); });
  const stages = await page.evaluate(() => Array.from(window.faultline.sim.columns().nodeStages.slice(0, 4)));
  // Each replica shows stages; replica 2 holds the stuck one pre-prepared (one tick) behind
  // requests it committed (three ticks).
  for (const s of stages) expect(s).toBeGreaterThan(0);
  const levels = (s) => { const out = []; for (let v = s; v !== 0; v >>>= 4) out.push(v & 15); return out; };
  expect(levels(stages[2])).toContain(1);
  expect(levels(stages[2])).toContain(3);
  await expect(page.locator('#node-detail')).toContainText('pre-prepared (1/2 prepares, 0/3 commits)');
  await expect(page.locator('#node-detail')).toContainText('low water mark');
  await expect(page.locator('#legend-list')).toContainText('1 tick pre-prepared, 2 prepared, 3 committed');
  await page.screenshot({ path: 'tests/e2e/screenshots/pbft-4-stall.png' });
  // After the view change: replica 1 leads view 1, every replica's newest request committed.
  await page.evaluate(() => { window.faultline.seek(6000); });
  await page.waitForFunction(() => window.faultline.timeMs >= 6000);
  await page.evaluate(() => { window.faultline.render(); window.faultline.select(1); });
  await expect(page.locator('#node-detail')).toContainText('primary');
  await expect(page.locator('[data-check="agreement"]')).not.toHaveClass(/violated/);
  await page.screenshot({ path: 'tests/e2e/screenshots/pbft-4-new-view.png' });
  expect(errors).toEqual([]);
});
