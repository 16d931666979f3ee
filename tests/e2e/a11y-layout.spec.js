// Every screen: on small laptops the canvas, the play controls and the checkers' verdicts
// are in view together; on phones and tablets nothing overflows sideways, the header wraps,
// touch targets are at least 44 px, a tap opens a node's menu and a finger scrubs the
// timeline. Screenshots at each viewport, with 5 and with 1,000 nodes, for a person to look at.
import { expect, openPage, test } from './helpers.js';

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

/** Every visible control smaller than 44×44 px (a checkbox counts by its label) or reaching
 * past either side of the screen. Timeline marks are left out: on touch screens they pass
 * touches through to the scrubber. */
const smallTargets = (page) => page.evaluate(() => {
  const small = [];
  for (const el of document.querySelectorAll('button, select, input, summary, a[href], [tabindex="0"]')) {
    if (el.closest('.track') || el.closest('[hidden]') || !el.checkVisibility()) continue;
    const target = el.type === 'checkbox' ? el.closest('label') ?? el : el;
    const r = target.getBoundingClientRect();
    if (r.left < -0.5 || r.right > innerWidth + 0.5) small.push(`${el.id || el.textContent.trim().slice(0, 24)} off screen at x ${Math.round(r.left)}…${Math.round(r.right)}`);
    if (r.width < 44 || r.height < 44) small.push(`${el.id || el.textContent.trim().slice(0, 24) || el.name || el.tagName} ${Math.round(r.width)}×${Math.round(r.height)}`);
  }
  return small;
});

/** The page's widths. On a phone a too-wide page also widens the layout viewport (the
 * browser zooms out), so `clientWidth` is checked against the screen as well. */
const overflow = (page) => page.evaluate(() => {
  const d = document.documentElement;
  return { scrollWidth: d.scrollWidth, clientWidth: d.clientWidth, innerWidth };
});

async function expectNoSidewaysScroll(page, w) {
  const o = await overflow(page);
  expect(o.scrollWidth, `scrollWidth ${o.scrollWidth} > clientWidth ${o.clientWidth}`).toBeLessThanOrEqual(o.clientWidth);
  expect(o.clientWidth, `the layout is ${o.clientWidth} px wide on a ${w} px screen`).toBeLessThanOrEqual(w);
  expect(o.innerWidth).toBe(w);
}

for (const [w, h] of TOUCH) {
  test(`on a ${w}×${h} touch screen nothing overflows, targets are 44 px, taps and drags work`, async ({ browser }) => {
    test.setTimeout(90_000);
    const context = await browser.newContext({ viewport: { width: w, height: h }, hasTouch: true, isMobile: true });
    const page = await context.newPage();
    const errors = await openPage(page);
    expect(await page.evaluate(() => matchMedia('(pointer: coarse)').matches)).toBe(true);
    // The header wraps: every part of it is on screen.
    for (const part of await page.locator('header.top > *').all()) {
      const box = await part.boundingBox();
      expect(box.x >= 0 && box.x + box.width <= w + 0.5, `header part at ${JSON.stringify(box)}`).toBe(true);
    }
    await page.evaluate(() => { for (const d of document.querySelectorAll('details')) d.open = true; });
    await page.evaluate(() => window.faultline.step(1500));
    // A tap on a node opens its menu, whose actions are finger-sized.
    const p = await page.evaluate(() => window.faultline.nodeScreenPosition(3));
    await page.locator('#stage').scrollIntoViewIfNeeded();
    const q = await page.evaluate(() => window.faultline.nodeScreenPosition(3));
    await page.touchscreen.tap(q.x + 6, q.y + 6);
    await expect(page.locator('#node-menu')).toBeVisible();
    await expect(page.locator('#node-menu .menu-title')).toHaveText(/^Node 3/);
    expect(await smallTargets(page)).toEqual([]);
    await expectNoSidewaysScroll(page, w);
    await page.evaluate(() => { document.querySelector('#export-menu').open = false; });
    await page.screenshot({ path: `tests/e2e/screenshots/a11y-${w}x${h}-5-nodes.png`, fullPage: false });
    await page.keyboard.press('Escape');
    // A finger drags the timeline: the run travels to where the finger stops.
    const track = await page.locator('#timeline .track-wrap').boundingBox();
    await page.locator('#timeline').scrollIntoViewIfNeeded();
    const t = await page.locator('#timeline .track-wrap').boundingBox();
    const span = await page.evaluate(() => window.faultline.timeline.spanMs);
    const cdp = await context.newCDPSession(page);
    const y = t.y + t.height / 2;
    const at = (f) => t.x + 7 + f * (t.width - 14);
    await cdp.send('Input.dispatchTouchEvent', { type: 'touchStart', touchPoints: [{ x: at(0.1), y }] });
    for (const f of [0.2, 0.3, 0.4, 0.5]) await cdp.send('Input.dispatchTouchEvent', { type: 'touchMove', touchPoints: [{ x: at(f), y }] });
    await cdp.send('Input.dispatchTouchEvent', { type: 'touchEnd', touchPoints: [] });
    await expect.poll(() => page.evaluate(() => window.faultline.timeMs)).toBeGreaterThan(span * 0.45);
    expect(await page.evaluate(() => window.faultline.timeMs)).toBeLessThan(span * 0.55);
    expect(track).toBeTruthy();
    // Side panels, the node's peers and a service run's charts still fit the width.
    await page.evaluate(() => window.faultline.select(1));
    await expectNoSidewaysScroll(page, w);
    await page.selectOption('#preset', 'cascading-failure');
    await page.evaluate(() => window.faultline.seek(8000));
    await expect(page.locator('#charts')).toBeVisible();
    await expectNoSidewaysScroll(page, w);
    expect(errors).toEqual([]);
    await context.close();
  });
}

test('screenshots at every viewport with 1,000 nodes, and a tap still finds a node', async ({ browser }) => {
  test.setTimeout(240_000);
  for (const [w, h] of [...LAPTOPS, ...TOUCH]) {
    const touch = w < 1280;
    const context = await browser.newContext({ viewport: { width: w, height: h }, hasTouch: touch, isMobile: touch });
    const page = await context.newPage();
    await openPage(page);
    await page.selectOption('#preset', 'large-cluster');
    expect(await page.evaluate(() => window.faultline.sim.inspect().nodes)).toBe(1000);
    // Past the partition at 3 s, with a few nodes crashed and one paused.
    await page.evaluate(() => {
      const app = window.faultline;
      app.step(3100);
      for (const node of [7, 300, 650]) app.inject({ kind: 'crash', node });
      app.inject({ kind: 'pause', node: 100, duration_ms: 5000 });
      app.step(200);
    });
    if (touch) {
      await page.locator('#stage').scrollIntoViewIfNeeded();
      const q = await page.evaluate(() => window.faultline.nodeScreenPosition(500));
      await page.touchscreen.tap(q.x + 5, q.y + 4); // a fingertip's miss, within 22 px
      await expect(page.locator('#node-menu')).toBeVisible();
      await expect(page.locator('#node-menu .menu-title')).toHaveText(/^Node \d+/);
    }
    await expectNoSidewaysScroll(page, w);
    await page.screenshot({ path: `tests/e2e/screenshots/a11y-${w}x${h}-1000-nodes.png` });
    await context.close();
  }
});
