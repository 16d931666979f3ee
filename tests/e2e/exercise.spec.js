// Exercises on the page: `?exercise=NAME` poses one; faults injected live count against the
// budget; Check replays the recorded run headless in the engine and says when the goal was
// met or what was not; hints unlock one at a time; the index keeps progress in
// localStorage and forgets it on "Reset my progress"; and the headless checker
// (`faultline check-exercise`, the CLI in FAULTLINE_CLI) agrees with the page on every
// exercise, solved (tests/fixtures/exercise-solutions.json) and left alone.
import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { promisify } from 'node:util';
import { expect, openPage, screenshot, test } from './helpers.js';

const cli = process.env.FAULTLINE_CLI || 'target/release/faultline';
const run = promisify(execFile);
const SOLUTIONS = JSON.parse(readFileSync('tests/fixtures/exercise-solutions.json', 'utf8'));

/** The CLI's judgement of a share link: its first line. */
async function cliHeadline(link) {
  const { stdout } = await run(cli, ['check-exercise', link], { encoding: 'utf8' });
  return stdout.split('\n')[0];
}

/** Presses Check and waits for the page's judgement; returns the engine's headline. */
async function checkOnPage(page) {
  await page.click('#exercise-check');
  await page.waitForFunction(() => {
    const r = document.querySelector('#exercise-result');
    return r.dataset.headline !== undefined && !document.querySelector('#exercise-check').disabled;
  }, null, { timeout: 60_000 });
  return page.evaluate(() => document.querySelector('#exercise-result').dataset.headline);
}

test('an exercise solved live on the page is checked, shared and verified headless', async ({ page }) => {
  const errors = await openPage(page, '/?exercise=split-brain');
  await expect(page.locator('#exercise-panel')).toBeVisible();
  await expect(page.locator('#exercise-title')).toHaveText('Exercise: Split brain with two faults');
  await expect(page.locator('#exercise-budget')).toHaveText('Faults used: 0 of 2 — 2 left.');
  // Left alone, the run does not meet the goal, and the page says which part.
  expect(await checkOnPage(page)).toBe('goal not met by 15000 ms: split_brain was never violated: one leader: node 4, term 1; split brain so far 0 ms');
  await expect(page.locator('#exercise-result')).toContainText('✗ Not yet');
  // Solve it live: a partition at 2 s, injected from the page.
  await page.evaluate(() => window.faultline.advanceTo(2000));
  await page.evaluate(() => window.faultline.inject({ kind: 'partition', groups: [[0, 1, 2, 6, 7], [3, 4, 5]] }, 6000));
  await expect(page.locator('#exercise-budget')).toHaveText('Faults used: 1 of 2 — 1 left.');
  expect(await checkOnPage(page)).toBe('goal met at 2342.017 ms');
  await expect(page.locator('#exercise-result .headline')).toHaveText('✓ Goal met at t = 2.34 s.');
  await screenshot(page, 'exercise-met');
  // The solution is a share link; the command line judges it the same.
  const link = await page.evaluate(() => window.faultline.sim.shareLink());
  expect(await cliHeadline(link)).toBe('goal met at 2342.017 ms');
  // A third and fourth fault: over budget, and Check refuses.
  await page.evaluate(() => window.faultline.inject({ kind: 'isolate', node: 0 }));
  await page.evaluate(() => window.faultline.step(10));
  await page.evaluate(() => window.faultline.inject({ kind: 'isolate', node: 1 }));
  await expect(page.locator('#exercise-budget')).toHaveText('Faults used: 3 of 2 — 1 over budget: Check will refuse this run.');
  expect(await checkOnPage(page)).toBe('rule broken: 3 faults used; the budget is 2 (remove 1)');
  // The index remembers the solved exercise until the progress is reset.
  await page.click('#exercises-open');
  const item = page.locator('#exercise-list li[data-exercise="split-brain"]');
  await expect(item.locator('.status')).toHaveText('✓ solved');
  await expect(page.locator('#exercise-progress')).toHaveText(/^Solved 1 of \d+\.$/);
  await screenshot(page, 'exercise-index');
  await page.click('#exercise-reset');
  await expect(item.locator('.status')).toHaveText('not solved yet');
  expect(await page.evaluate(() => localStorage.getItem('faultline.exercises'))).toBeNull();
  expect(errors).toEqual([]);
});

test('the index opens an exercise from the keyboard, and hints unlock one at a time', async ({ page }) => {
  const errors = await openPage(page);
  await expect(page.locator('#exercise-panel')).toBeHidden();
  await page.locator('#exercises-open').focus();
  await page.keyboard.press('Enter');
  await expect(page.locator('#exercise-index')).toBeVisible();
  const count = await page.locator('#exercise-list li').count();
  expect(count).toBeGreaterThanOrEqual(12);
  await page.locator('#exercise-list li[data-exercise="fence-the-zombie"] button').focus();
  await page.keyboard.press('Enter');
  await expect(page.locator('#exercise-index')).toBeHidden();
  await expect(page.locator('#exercise-title')).toHaveText('Exercise: Fence the zombie');
  expect(new URL(page.url()).searchParams.get('exercise')).toBe('fence-the-zombie');
  await expect(page.locator('#exercise-rules')).toContainText('you may change protocol.fencing, protocol.stonith');
  const hint = page.locator('#exercise-hint');
  await expect(hint).toHaveText('Show a hint (1 of 3)');
  await expect(page.locator('#exercise-hints li')).toHaveCount(0);
  await hint.focus();
  await page.keyboard.press('Enter');
  await expect(page.locator('#exercise-hints li')).toHaveCount(1);
  await expect(hint).toHaveText('Show a hint (2 of 3)');
  await page.keyboard.press('Enter');
  await page.keyboard.press('Enter');
  await expect(page.locator('#exercise-hints li')).toHaveCount(3);
  await expect(hint).toBeDisabled();
  await screenshot(page, 'exercise-hints');
  // A preset is no exercise: the panel goes and the URL forgets the exercise.
  await page.selectOption('#preset', 'heartbeat');
  await expect(page.locator('#exercise-panel')).toBeHidden();
  expect(new URL(page.url()).searchParams.get('exercise')).toBeNull();
  expect(errors).toEqual([]);
});

test('settings the rules allow are changed in the panel, and the run is judged with them', async ({ page }) => {
  const errors = await openPage(page, '/?exercise=fence-the-zombie');
  const fencing = page.getByLabel('fencing');
  await expect(fencing).not.toBeChecked();
  await fencing.check();
  await page.click('#exercise-apply');
  await expect(page.getByLabel('fencing')).toBeChecked();
  expect(await page.evaluate(() => window.faultline.sim.scenario().protocol.fencing)).toBe(true);
  expect(await checkOnPage(page)).toBe('goal met at 10000 ms');
  await screenshot(page, 'exercise-settings');
  // A JSON setting: circuit breakers for the gray failure.
  await page.evaluate(() => window.faultline.openExercise('gray-failure'));
  await page.getByLabel('breaker (JSON)').fill('{"failures": 3, "open_ms": 1000}');
  await page.click('#exercise-apply');
  const onPage = await checkOnPage(page);
  expect(onPage).toBe('goal met at 12000 ms');
  expect(await cliHeadline(await page.evaluate(() => window.faultline.sim.shareLink()))).toBe(onPage);
  // Not JSON: a clear error, and the run stays as it was.
  await page.getByLabel('breaker (JSON)').fill('{failures: 3');
  await page.click('#exercise-apply');
  await expect(page.locator('.banner.error')).toContainText('protocol.breaker: not valid JSON');
  expect(errors).toEqual([]);
});

test('a goal naming an unknown checker is a clear error, not a verdict', async ({ page }) => {
  const errors = await openPage(page);
  await page.evaluate(() => window.faultline.load({
    nodes: 3, exercise: { id: 'mine', task: 'Break it.', goal: { check: 'split_brian', is: 'violated' } },
  }));
  await expect(page.locator('#exercise-panel')).toBeVisible();
  await page.click('#exercise-check');
  await expect(page.locator('#exercise-result')).toContainText('Cannot check this run: exercise.goal: `split_brian` is not a check of this scenario\'s protocol');
  expect(errors).toEqual([]);
});

test('the headless checker agrees with the page on every exercise', async ({ page }) => {
  test.setTimeout(300_000);
  const errors = await openPage(page);
  const names = await page.evaluate(() => window.faultline.exercise.list.map((e) => e.name));
  expect(names.length).toBeGreaterThanOrEqual(12);
  expect(Object.keys(SOLUTIONS).sort()).toEqual([...names].sort());
  for (const name of names) {
    for (const solved of [false, true]) {
      await page.evaluate(({ name, solved, sol }) => {
        const app = window.faultline;
        app.openExercise(name);
        if (!solved) return;
        const s = app.sim.scenario();
        s.faults = [...s.faults, ...sol.faults];
        s.protocol = { ...s.protocol, ...sol.protocol };
        app.load(s);
      }, { name, solved, sol: SOLUTIONS[name] });
      const onPage = await checkOnPage(page);
      const link = await page.evaluate(() => window.faultline.sim.shareLink());
      expect(await cliHeadline(link), `${name} ${solved ? 'solved' : 'left alone'}`).toBe(onPage);
      expect(onPage.startsWith(solved ? 'goal met at ' : 'goal not met by '), `${name}: ${onPage}`).toBe(true);
    }
  }
  expect(errors).toEqual([]);
});
