// Shared helpers for the browser tests, and `test` itself: every test fails if the page
// reports a Content-Security-Policy violation (the page must run under its strict policy).
import { test as base, expect } from '@playwright/test';

export const test = base.extend({
  cspGuard: [async ({ page }, use) => {
    const violations = [];
    await page.addInitScript(() => {
      document.addEventListener('securitypolicyviolation', (e) => {
        console.error(`CSP violation: ${e.violatedDirective} blocked ${e.blockedURI || 'inline'} in ${e.sourceFile}:${e.lineNumber}`);
      });
    });
    page.on('console', (m) => {
      if (m.type() === 'error' && /Content Security Policy|CSP violation/i.test(m.text())) violations.push(m.text());
    });
    await use();
    expect(violations, 'Content-Security-Policy violations').toEqual([]);
  }, { auto: true }],
});

export async function openPage(page, url = '/') {
  const errors = [];
  page.on('pageerror', (e) => errors.push(e.message));
  await page.goto(url);
  await page.waitForSelector('body[data-ready="1"]');
  return errors;
}

/** Clicks node `id` on the canvas where the renderer drew it. */
export async function clickNode(page, id) {
  const p = await page.evaluate((n) => window.faultline.nodeScreenPosition(n), id);
  await page.mouse.click(p.x, p.y);
}

/** The canvas pixel (r, g, b) at node `id`'s centre. */
export async function nodePixel(page, id) {
  return page.evaluate((n) => {
    const app = window.faultline;
    const { x, y } = app.renderer.nodeScreenPosition(n);
    const canvas = app.renderer.canvas;
    const dpr = canvas.width / canvas.getBoundingClientRect().width;
    // Inside the disc, off the label and off the crash mark's diagonals.
    const px = canvas.getContext('2d').getImageData(Math.round((x + 11) * dpr), Math.round((y - 3) * dpr), 1, 1).data;
    return [px[0], px[1], px[2]];
  }, id);
}

export const inspect = (page) => page.evaluate(() => window.faultline.sim.inspect());

export async function screenshot(page, name) {
  await page.screenshot({ path: `tests/e2e/screenshots/${name}.png` });
}

export { expect };
