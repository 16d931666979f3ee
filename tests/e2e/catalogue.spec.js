// The failure catalogue on the page: every preset loads and runs; faults applied from the
// palette and the node menu land on the timeline and replay from a shared link.
import { clickNode, expect, inspect, openPage, screenshot, test } from './helpers.js';

test('every preset loads, runs and shows its explanation', async ({ page }) => {
  const errors = await openPage(page);
  const names = await page.evaluate(() => window.faultline.presetList.map((p) => p.name));
  expect(names.length).toBeGreaterThanOrEqual(15);
  for (const name of names) {
    await page.selectOption('#preset', name);
    await expect(page.locator('#preset-panel')).toBeVisible();
    await page.evaluate(() => window.faultline.step(name === 'large-cluster' ? 1500 : 4000), name);
    const snap = await inspect(page);
    expect(snap.time_ms, name).toBeGreaterThan(1000);
  }
  expect(errors).toEqual([]);
});

test('each fault class has its visual: screenshots of the presets at their moment', async ({ page }) => {
  await openPage(page);
  const moments = [
    ['partition', 3050], ['asymmetric', 3000], ['majorities-ring', 3000], ['gc-pause', 2600],
    ['slow-node', 3500], ['clock-jump', 2300], ['gray-failure', 3000], ['byzantine-forge', 2500],
    ['omission', 3000], ['phi-accrual', 3000], ['large-cluster', 3500],
  ];
  for (const [name, t] of moments) {
    await page.selectOption('#preset', name);
    await page.evaluate((ms) => { window.faultline.advanceTo(ms); window.faultline.render(); }, t);
    await screenshot(page, `preset-${name}`);
  }
});

test('faults from the palette and the node menu land on the timeline and replay', async ({ page, browser }) => {
  await openPage(page);
  await page.evaluate(() => window.faultline.step(500));
  await page.selectOption('#fault-kind', 'clock_jump');
  await page.fill('input[name="node"]', '3');
  await page.fill('input[name="by_ms"]', '-1200');
  await page.click('#palette button[type="submit"]');
  await page.evaluate(() => window.faultline.step(250));
  await clickNode(page, 4);
  await page.getByRole('button', { name: 'Gray: fail 80% of requests' }).click();
  await page.evaluate(() => window.faultline.step(250));
  await page.getByRole('button', { name: 'Majorities ring' }).click();
  await page.selectOption('#fault-kind', 'omission');
  await page.fill('input[name="node"]', '0');
  await page.fill('#fault-duration', '600');
  await page.click('#palette button[type="submit"]');
  await page.evaluate(() => window.faultline.step(900));
  await expect(page.locator('.mark')).toHaveCount(4);
  await expect(page.locator('.mark').first()).toHaveAttribute('title', /clock of n3 jumps -1200 ms at 500 ms/);
  const view = await page.evaluate(() => window.faultline.sim.nodeView(4));
  expect(view.afflictions.join(' ')).toContain('gray');
  await screenshot(page, 'palette-and-menu');
  // Keyboard: the timeline marks are buttons; Enter on one selects its node.
  await page.locator('.mark').first().focus();
  await page.keyboard.press('Enter');
  await expect(page.locator('#node-select')).toHaveValue('3');

  await page.click('#share');
  const original = await inspect(page);
  const other = await browser.newContext();
  const second = await other.newPage();
  await openPage(second, page.url());
  expect((await inspect(second)).trace_hash).toBe(original.trace_hash);
  await expect(second.locator('.mark')).toHaveCount(4);
  await other.close();
});

test('keyboard: space plays and pauses, "." steps, Escape clears the selection', async ({ page }) => {
  await openPage(page);
  await page.locator('#stage').focus();
  await page.keyboard.press('.');
  expect((await inspect(page)).time_ms).toBe(10);
  await page.keyboard.press(' ');
  await expect(page.locator('#play')).toHaveAttribute('aria-pressed', 'true');
  await page.keyboard.press(' ');
  await expect(page.locator('#play')).toHaveAttribute('aria-pressed', 'false');
  await page.selectOption('#node-select', '2');
  await expect(page.locator('#node-detail')).toBeVisible();
  await page.locator('#stage').focus();
  await page.keyboard.press('Escape');
  await expect(page.locator('#node-detail')).toBeHidden();
});
