// Accessibility: axe-core (from npm, injected by the test) finds nothing on the playground
// with every preset loaded, on panels, on `?embed`, on <faultline-sim> and on the course
// page. The rest of issue 21's guarantees are tested in a11y-*.spec.js.
import { test } from '@playwright/test';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { expect, openPage } from './helpers.js';

const AXE_SOURCE = readFileSync(createRequire(import.meta.url).resolve('axe-core/axe.min.js'), 'utf8');

/** Runs axe on the page (every rule axe enables by default, any impact) and returns its
 * violations as short readable lines, so a failure names the rule and the elements. */
export async function axeViolations(page, context = 'document') {
  await page.evaluate(AXE_SOURCE);
  const violations = await page.evaluate(async (ctx) => {
    const result = await window.axe.run(ctx === 'document' ? document : ctx, { resultTypes: ['violations'] });
    return result.violations.map((v) => `${v.id} (${v.impact}): ${v.help} — ${v.nodes.slice(0, 4).map((n) => n.target.join(' ')).join(', ')}`);
  }, context);
  return violations;
}

/** Opens every collapsible panel so axe looks inside it. */
async function openPanels(page) {
  await page.evaluate(() => { for (const d of document.querySelectorAll('details')) d.open = true; });
}

test('the playground has no axe violations with any preset loaded', async ({ page }) => {
  test.setTimeout(240_000);
  const errors = await openPage(page);
  await openPanels(page);
  const names = await page.locator('#preset option').evaluateAll((os) => os.map((o) => o.value).filter(Boolean));
  expect(names.length).toBeGreaterThan(10);
  const found = [];
  for (const name of names) {
    await page.selectOption('#preset', name);
    // Into the run, so faults, leaders, violations and charts are on screen.
    await page.evaluate(() => window.faultline.seek(6_000));
    await expect(page.locator('#time')).toHaveText('6.00 s', { timeout: 30_000 });
    for (const v of await axeViolations(page)) found.push(`${name}: ${v}`);
  }
  expect(found).toEqual([]);
  expect(errors).toEqual([]);
});
