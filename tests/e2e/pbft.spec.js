// PBFT on the page (src/protocol/pbft, www/ui/pbft.js): the replicas-and-liars panel shows
// for PBFT scenarios only, says n ≥ 3f + 1 plainly or warns when it is not, and reruns
// with new sizes; the canvas at 16 replicas; the inspector shows a replica's view and log.
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
  await page.screenshot({ path: 'tests/e2e/screenshots/pbft-16-replicas.png' });
  // A size the engine refuses: the run on screen stays.
  await page.fill('#pbft-f', '20');
  await page.click('#pbft-apply');
  await expect(page.locator('#error .text')).toContainText('quorums of');
  expect(await page.evaluate(() => window.faultline.sim.scenario().nodes)).toBe(19);
  expect(errors).toEqual([]);
});
