// Accessibility: axe-core (from npm, injected by the test) finds nothing on the playground
// with every preset loaded, on panels, on `?embed`, on <faultline-sim> and on the course
// page. The rest of issue 21's guarantees are tested in a11y-*.spec.js.
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { expect, openPage, test } from './helpers.js';

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
  test.setTimeout(360_000);
  const errors = await openPage(page);
  await openPanels(page);
  const names = await page.locator('#preset option').evaluateAll((os) => os.map((o) => o.value).filter(Boolean));
  expect(names.length).toBeGreaterThan(10);
  const found = [];
  for (const name of names) {
    await page.selectOption('#preset', name);
    // Into the run, so faults, leaders, violations and charts are on screen.
    await page.evaluate(() => window.faultline.seek(4_000));
    await expect(page.locator('#time')).toHaveText('4.00 s', { timeout: 90_000 });
    for (const v of await axeViolations(page)) found.push(`${name}: ${v}`);
  }
  expect(found).toEqual([]);
  expect(errors).toEqual([]);
});

test('panels, menus and dialogs have no axe violations either', async ({ page }) => {
  test.setTimeout(120_000);
  const errors = await openPage(page);
  await openPanels(page);
  const found = [];
  const check = async (what) => { for (const v of await axeViolations(page)) found.push(`${what}: ${v}`); };
  // The node menu, opened on a node, and the keyboard hint on the focused canvas.
  await page.evaluate(() => window.faultline.step(1000));
  await page.locator('#stage').focus();
  await page.keyboard.press('ArrowRight');
  await page.keyboard.press('Enter');
  await expect(page.locator('#node-menu')).toBeVisible();
  await check('node menu');
  await page.keyboard.press('Escape');
  await expect(page.locator('.stage-hint')).toBeVisible();
  await check('keyboard hint');
  // φ over time for a chosen pair.
  await page.selectOption('#preset', 'phi-accrual');
  await page.evaluate(async () => { await window.faultline.seek(9500); window.faultline.select(0); });
  await expect(page.locator('#phi-chart')).toBeVisible();
  await check('phi chart');
  // The export menu and the embed dialog.
  await expect(page.locator('#export-trace')).toBeVisible(); // opened with the other panels
  await check('export menu');
  await page.click('#export-embed');
  await expect(page.locator('#embed-dialog')).toBeVisible();
  await check('embed dialog');
  await page.click('#embed-close');
  // The detector sweep, run to the end.
  await page.fill('#sweep-seeds', '1');
  await page.click('#sweep-run');
  await expect(page.locator('#sweep-status')).toContainText('Done', { timeout: 90_000 });
  await check('sweep');
  expect(found).toEqual([]);
  expect(errors).toEqual([]);
});

test('the exercise panel, its result and hints, and the exercise index have no axe violations', async ({ page }) => {
  const errors = await openPage(page, '/?exercise=suspect-everyone');
  await openPanels(page);
  const found = [];
  const check = async (what) => { for (const v of await axeViolations(page)) found.push(`${what}: ${v}`); };
  await expect(page.locator('#exercise-panel')).toBeVisible();
  await page.click('#exercise-hint');
  await page.click('#exercise-check');
  await expect(page.locator('#exercise-result .headline')).toBeVisible({ timeout: 30_000 });
  await check('exercise panel');
  await page.evaluate(() => window.faultline.openExercise('gray-failure'));
  await expect(page.locator('#exercise-apply')).toBeVisible();
  await check('exercise settings');
  await page.click('#exercises-open');
  await expect(page.locator('#exercise-index')).toBeVisible();
  await check('exercise index');
  expect(found).toEqual([]);
  expect(errors).toEqual([]);
});

test('compare mode, its dialog and a compared or posed <faultline-sim> have no axe violations', async ({ page }) => {
  const errors = await openPage(page);
  await openPanels(page);
  const found = [];
  const check = async (what) => { for (const v of await axeViolations(page)) found.push(`${what}: ${v}`); };
  await page.selectOption('#preset', 'cascading-failure');
  await expect(page.locator('#preset-compare button')).toHaveCount(2);
  await check('preset panel with its compare offers');
  await page.click('#preset-compare button >> nth=1');
  await page.evaluate(() => window.faultline.seek(6000));
  await expect(page.locator('#compare-panel')).toBeVisible();
  await check('compare mode');
  await page.click('#compare-open');
  await page.selectOption('#compare-preset', 'heartbeat');
  await page.click('#compare-preset-form button[type=submit]');
  await expect(page.locator('#compare-error')).toBeVisible();
  await check('compare dialog with a refusal');
  await page.goto('/examples/course-page.html');
  await page.evaluate(() => {
    for (const [attr, value] of [['compare', 'phi-accrual'], ['exercise', 'split-brain']]) {
      const el = document.createElement('faultline-sim');
      el.setAttribute('scenario', 'fixed-timeout');
      el.setAttribute(attr, value);
      document.querySelector('main').prepend(el);
    }
  });
  await expect(page.locator('faultline-sim[data-ready="1"]')).toHaveCount(5);
  await check('compared and posed elements');
  expect(found).toEqual([]);
  expect(errors).toEqual([]);
});

test('the embed and the course page have no axe violations', async ({ page }) => {
  await openPage(page, '/?embed');
  expect(await axeViolations(page)).toEqual([]);
  await page.goto('/examples/course-page.html');
  await expect(page.locator('faultline-sim[data-ready="1"]')).toHaveCount(3);
  expect(await axeViolations(page)).toEqual([]);
  // The element speaks too: the autoplaying split-brain run announces its partition.
  const first = page.locator('faultline-sim').first();
  await expect(first.locator('[role=status]')).toHaveText(/partition began/i, { timeout: 15_000 });
  await expect(first.locator('#summary')).toHaveText(/of 8 nodes up/);
});

test('keyboard only: pick a node on the canvas, open its menu, act, and come back', async ({ page }) => {
  const errors = await openPage(page);
  await page.evaluate(() => window.faultline.step(1000));
  // Tab from the top of the page reaches the canvas.
  let onStage = false;
  for (let i = 0; i < 30 && !onStage; i++) {
    await page.keyboard.press('Tab');
    onStage = await page.evaluate(() => document.activeElement?.id === 'stage');
  }
  expect(onStage).toBe(true);
  for (let i = 0; i < 3; i++) await page.keyboard.press('ArrowRight');
  await expect(page.locator('#node-select')).toHaveValue('2');
  await expect(page.locator('#announcer')).toHaveText(/^Node 2: up\./);
  await page.keyboard.press('Enter');
  const menu = page.locator('#node-menu');
  await expect(menu).toBeVisible();
  await expect(menu.locator('.menu-title')).toHaveText('Node 2 · up');
  const focused = () => page.evaluate(() => document.activeElement?.textContent);
  expect(await focused()).toBe('Crash');
  await page.keyboard.press('ArrowDown');
  expect(await focused()).toBe('Crash for 3 s');
  await page.keyboard.press('ArrowUp');
  await page.keyboard.press('Enter');
  await expect(menu).toBeHidden();
  await expect(page.locator('#node-status')).toHaveText('crashed');
  expect(await page.evaluate(() => document.activeElement?.id)).toBe('stage');
  await expect(page.locator('#announcer')).toHaveText(/node 2 crashed/i, { timeout: 5000 });
  // A crashed node's menu offers a restart; Escape closes it and keeps the selection.
  await page.keyboard.press('Enter');
  expect(await focused()).toBe('Restart');
  await page.keyboard.press('Escape');
  await expect(menu).toBeHidden();
  await expect(page.locator('#node-select')).toHaveValue('2');
  expect(await page.evaluate(() => document.activeElement?.id)).toBe('stage');
  // The other way in: the palette, reached by Tab, acts on the selected node too.
  await page.keyboard.press('Enter');
  await page.keyboard.press('End');
  expect(await focused()).toBe('More faults…');
  await page.keyboard.press('Enter');
  await expect(page.locator('#fault-kind')).toBeFocused();
  await expect(page.locator('#fault-fields input[name="node"]')).toHaveValue('2');
  expect(errors).toEqual([]);
});

test('a polite, throttled live region tells of crashes, partitions and violated checkers', async ({ page }) => {
  test.setTimeout(90_000);
  const errors = await openPage(page);
  const region = page.locator('#announcer');
  await expect(region).toHaveAttribute('aria-live', 'polite');
  // Every text the region takes, with the wall time it took it.
  await page.evaluate(() => {
    window.said = [];
    new MutationObserver(() => window.said.push([performance.now(), document.querySelector('#announcer').textContent]))
      .observe(document.querySelector('#announcer'), { childList: true, characterData: true, subtree: true });
  });
  await page.selectOption('#preset', 'partition');
  // Play through the split at 2 s and the heal at 8 s in 100 ms steps, as fast as frames go.
  for (let t = 0; t < 9000; t += 100) await page.evaluate(() => window.faultline.step(100));
  await page.evaluate(() => window.faultline.inject({ kind: 'crash', node: 4 }));
  await page.evaluate(() => window.faultline.step(100));
  await expect.poll(() => page.evaluate(() => window.said.map(([, text]) => text).join(' | ')), { timeout: 10_000 })
    .toMatch(/partition began: the network split into 2 groups.*partition healed.*node 4 crashed/is);
  const said = await page.evaluate(() => window.said);
  for (let i = 1; i < said.length; i++) {
    expect(said[i][0] - said[i - 1][0], `"${said[i][1]}" came too soon after "${said[i - 1][1]}"`).toBeGreaterThanOrEqual(1900);
  }
  // The canvas's description follows the state.
  await expect(page.locator('#stage-summary')).toHaveText(/4 of 5 nodes up; 1 crashed \(4\)/);
  // A checker that breaks is announced by name.
  await page.selectOption('#preset', 'split-brain');
  for (let t = 0; t < 4000; t += 200) await page.evaluate(() => window.faultline.step(200));
  await expect(region).toHaveText(/checker violated: At most one server believes it leads at a time/, { timeout: 5000 });
  expect(errors).toEqual([]);
});
