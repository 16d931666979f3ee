// Compare mode: a run beside a variant of itself (same seed, same faults, settings changed).
// Both sides replay to the trace hashes of the two single runs (the native CLI in
// FAULTLINE_CLI says what those are); a fault injected live lands in both schedules; the
// comparison is one link that round-trips; a pair that differs in more than settings is
// refused in words; the iframe embed and <faultline-sim> show a comparison; and both embeds
// pose an exercise with its goal and a Check button.
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { expect, openPage, screenshot, test } from './helpers.js';

const cli = process.env.FAULTLINE_CLI || 'target/release/faultline';
const run = promisify(execFile);

/** The native run's trace hash at `until`, from `faultline run … --json`. */
async function cliHash(args, until = '10s') {
  const { stdout } = await run(cli, ['run', ...args, '--until', until, '--json'], { encoding: 'utf8', maxBuffer: 64 << 20 });
  const found = findKey(JSON.parse(stdout), 'trace_hash');
  expect(found, 'the CLI printed a trace hash').toBeTruthy();
  return found;
}

function findKey(value, key) {
  if (value === null || typeof value !== 'object') return undefined;
  if (key in value) return value[key];
  for (const v of Object.values(value)) {
    const found = findKey(v, key);
    if (found !== undefined) return found;
  }
  return undefined;
}

const hashes = (page) => page.evaluate(() => [window.faultline.sim.traceHash(), window.faultline.variant.traceHash()]);

test('"Compare with it" in one click: both sides are the two single runs, trace for trace', async ({ page }) => {
  const errors = await openPage(page);
  await page.selectOption('#preset', 'fixed-timeout');
  const offer = page.locator('#preset-compare button[data-compare-with="phi-accrual"]');
  await expect(offer).toHaveText('Compare with ‘Phi accrual adapts’ side by side');
  await offer.click();
  await expect(page.locator('#stage-b-wrap')).toBeVisible();
  await expect(page.locator('#compare-panel')).toBeVisible();
  await expect(page.locator('#stage-label-a')).toHaveText('A · Fixed timeout: false positives');
  await expect(page.locator('#stage-label-b')).toHaveText(/^B · Phi accrual/);
  await expect(page.locator('#compare-changed')).toContainText('`protocol.detector');
  // Play a little (the one play loop drives both), then travel on to 10 s with the scrubber's seek.
  await page.evaluate(() => window.faultline.play());
  await page.waitForFunction(() => window.faultline.timeMs > 300);
  await page.evaluate(() => window.faultline.pause());
  const [ta, tb] = await page.evaluate(() => [window.faultline.sim.inspect().time_ms, window.faultline.variant.inspect().time_ms]);
  expect(ta).toBe(tb); // one clock
  await page.evaluate(() => window.faultline.seek(10_000));
  expect(await page.evaluate(() => window.faultline.timeMs)).toBe(10_000);
  const [a, b] = await hashes(page);
  expect(a).toBe(await cliHash(['--preset', 'fixed-timeout']));
  expect(b).toBe(await cliHash(['--preset', 'phi-accrual']));
  expect(a).not.toBe(b);
  // Back in time and forward again: still the same two runs.
  await page.evaluate(() => window.faultline.seek(2_000));
  await page.evaluate(() => window.faultline.seek(10_000));
  expect(await hashes(page)).toEqual([a, b]);
  // The differences in words: the fixed timeout suspects live nodes, phi does not.
  await expect(page.locator('#compare-words li').first()).toContainText('No node suspects a live peer — with Fixed timeout: false positives: violated since 252 ms (88 false suspicions); with Phi accrual adapts: violated since 985 ms (1 false suspicions).');
  await expect(page.locator('#compare-table tr.differs').first()).toBeVisible();
  await screenshot(page, 'compare-fixed-vs-phi');
  await page.locator('#compare-panel').screenshot({ path: 'tests/e2e/screenshots/compare-panel.png' });
  // Stop comparing: one canvas again, the first run where it was.
  await page.click('#compare-stop');
  await expect(page.locator('#stage-b-wrap')).toBeHidden();
  expect(await page.evaluate(() => [window.faultline.variant, window.faultline.sim.traceHash()])).toEqual([null, a]);
  expect(errors).toEqual([]);
});

test('a fault injected live goes to both schedules, and the comparison is one link', async ({ page, context }) => {
  const errors = await openPage(page);
  await page.evaluate(() => window.faultline.loadPreset('split-brain'));
  expect(await page.evaluate(() => window.faultline.compareWithPreset('raft-one-leader'))).toEqual({ ok: true, error: null });
  await page.evaluate(() => window.faultline.advanceTo(1500));
  expect(await page.evaluate(() => window.faultline.inject({ kind: 'crash', node: 2 }))).toBe(true);
  const schedules = await page.evaluate(() => [window.faultline.sim, window.faultline.variant].map((s) => s.scenario().faults.filter((f) => f.injected)));
  expect(schedules[0]).toEqual([{ at_ms: 1500, fault: { kind: 'crash', node: 2 }, injected: true }]);
  expect(schedules[1]).toEqual(schedules[0]);
  await page.evaluate(() => window.faultline.seek(10_000));
  const [a, b] = await hashes(page);
  // Each side, shared on its own, replays natively to the same hash.
  const links = await page.evaluate(() => [window.faultline.sim.shareLink(), window.faultline.variant.shareLink()]);
  expect(a).toBe(await cliHash(['--scenario-url', links[0]]));
  expect(b).toBe(await cliHash(['--scenario-url', links[1]]));
  // One link holds the comparison: a fresh page opens both runs at this moment.
  const url = await page.evaluate(() => window.faultline.share());
  expect(url).toMatch(/#s=F1\.[\w-]+&vs=F1\.[\w-]+$/);
  const other = await context.newPage();
  const otherErrors = await openPage(other, url.replace(/^https?:\/\/[^/]+/, ''));
  await other.waitForFunction(() => window.faultline.variant && window.faultline.timeMs === 10_000);
  expect(await hashes(other)).toEqual([a, b]);
  await expect(other.locator('#stage-b-wrap')).toBeVisible();
  await expect(other.locator('#stage-label-b')).toHaveText(/^B · /);
  // The CLI reads a comparison link as its first run.
  expect(await cliHash(['--scenario-url', url])).toBe(a);
  expect(errors).toEqual([]);
  expect(otherErrors).toEqual([]);
});

test('a pair that differs in more than settings is refused in words, from the keyboard', async ({ page }) => {
  const errors = await openPage(page);
  await page.focus('#compare-open');
  await page.keyboard.press('Enter');
  await expect(page.locator('#compare-dialog')).toBeVisible();
  await page.focus('#compare-preset');
  await page.selectOption('#compare-preset', 'crash-recovery');
  await page.keyboard.press('Tab');
  await page.keyboard.press('Enter');
  await expect(page.locator('#compare-error')).toHaveText(/cannot be compared: their fault schedules differ/);
  // A variant with more nodes: refused too, saying so.
  const json = await page.inputValue('#compare-json');
  await page.fill('#compare-json', JSON.stringify({ ...JSON.parse(json), nodes: 7 }));
  await page.click('#compare-json-form button[type=submit]');
  await expect(page.locator('#compare-error')).toHaveText(/different numbers of nodes \(5 and 7\)/);
  // A setting changed by hand: accepted.
  await page.fill('#compare-json', JSON.stringify({ ...JSON.parse(json), protocol: { kind: 'heartbeat', interval_ms: 100, timeout_ms: 150 } }));
  await page.click('#compare-json-form button[type=submit]');
  await expect(page.locator('#compare-dialog')).toBeHidden();
  await expect(page.locator('#compare-changed')).toHaveText('Same seed and faults; B changes `protocol.timeout_ms`.');
  await page.evaluate(() => window.faultline.seek(3_000));
  await screenshot(page, 'compare-5-nodes');
  // Narrow screens stack the two canvases.
  await page.setViewportSize({ width: 480, height: 900 });
  const [boxA, boxB] = await Promise.all([page.locator('#stage').boundingBox(), page.locator('#stage-b').boundingBox()]);
  expect(boxB.y).toBeGreaterThan(boxA.y + boxA.height - 1);
  await screenshot(page, 'compare-narrow');
  expect(errors).toEqual([]);
});

test('a thousand nodes side by side', async ({ page }) => {
  test.setTimeout(120_000);
  const errors = await openPage(page);
  await page.evaluate(() => window.faultline.loadPreset('large-cluster'));
  const ok = await page.evaluate(() => {
    const variant = structuredClone(window.faultline.state.base);
    variant.protocol.timeout_ms = 1500;
    return window.faultline.compareWith(variant);
  });
  expect(ok).toBe(true);
  await page.evaluate(() => window.faultline.seek(4_000));
  await expect(page.locator('#stage-b-wrap')).toBeVisible();
  // Both canvases draw their messages in flight (a sample of them at this size).
  const shown = await page.evaluate(() => [window.faultline.stage, window.faultline.variantStage].map((s) => s.renderer.lastDrawn.shown));
  expect(shown[0]).toBeGreaterThan(1000);
  expect(shown[1]).toBeGreaterThan(1000);
  await screenshot(page, 'compare-1000-nodes');
  expect(errors).toEqual([]);
});

test('compare in an embed: the iframe page and <faultline-sim>', async ({ page }) => {
  const errors = await openPage(page);
  await page.evaluate(() => window.faultline.loadPreset('expired-lease'));
  await page.evaluate(() => window.faultline.compareWithPreset('fencing-tokens'));
  await page.evaluate(() => window.faultline.seek(4_000));
  const [a, b] = await hashes(page);
  const fragment = await page.evaluate(() => `s=${window.faultline.sim.shareLink()}&vs=${window.faultline.variant.shareLink()}`);
  // The embed code carries both runs.
  await page.click('#export-menu summary');
  await page.click('#export-embed');
  await expect(page.locator('#embed-iframe')).toHaveValue(/\?embed#s=F1\.[\w-]+&vs=F1\./);
  await expect(page.locator('#embed-element')).toHaveValue(/compare="F1\./);
  // The frame's page: both canvases, the differences in words, the same two runs.
  const frame = await page.context().newPage();
  await openPage(frame, `/?embed#${fragment}`);
  await frame.waitForFunction(() => window.faultline.variant && window.faultline.timeMs === 4_000);
  expect(await hashes(frame)).toEqual([a, b]);
  await expect(frame.locator('#stage-b-wrap')).toBeVisible();
  await screenshot(frame, 'compare-iframe-embed');
  // The element: a preset compared with a preset, stepped to 10 s, each side the single run.
  await page.goto('/examples/course-page.html');
  await page.evaluate(() => {
    const el = document.createElement('faultline-sim');
    el.id = 'cmp';
    el.setAttribute('scenario', 'fixed-timeout');
    el.setAttribute('compare', 'phi-accrual');
    el.setAttribute('height', '320px');
    document.querySelector('main').prepend(el);
  });
  const el = page.locator('#cmp[data-ready="1"]');
  await expect(el).toHaveAttribute('data-comparing', '1');
  await page.evaluate(() => document.querySelector('#cmp').advance(10_000));
  const [ea, eb] = await page.evaluate(() => [document.querySelector('#cmp').traceHash(), document.querySelector('#cmp').variantTraceHash()]);
  expect(ea).toBe(await cliHash(['--preset', 'fixed-timeout']));
  expect(eb).toBe(await cliHash(['--preset', 'phi-accrual']));
  await page.evaluate(() => document.querySelector('#cmp').draw(true));
  await expect(el.locator('.diff')).toContainText('No node suspects a live peer — with Fixed timeout: false positives: violated since 252 ms (88 false suspicions); with Phi accrual adapts: violated since 985 ms (1 false suspicions).');
  await expect(el.locator('a')).toHaveAttribute('href', /#s=F1\.[\w-]+&vs=F1\./);
  await el.scrollIntoViewIfNeeded();
  await el.screenshot({ path: 'tests/e2e/screenshots/compare-element.png' });
  // A pair the rule refuses: the element says why.
  await page.evaluate(() => document.querySelector('#cmp').setAttribute('compare', 'crash-recovery'));
  await expect(page.locator('#cmp')).toHaveAttribute('data-error', /cannot be compared: they have different numbers of nodes/);
  expect(errors).toEqual([]);
});

test('an exercise in an embed: goal and Check in <faultline-sim> and in the frame', async ({ page }) => {
  const errors = await openPage(page, '/?embed&exercise=split-brain');
  await expect(page.locator('#exercise-panel')).toBeVisible();
  await expect(page.locator('#exercise-goal')).not.toBeEmpty();
  await page.click('#exercise-check');
  await expect(page.locator('#exercise-result .headline')).toContainText('✗ Not yet', { timeout: 60_000 });
  await screenshot(page, 'exercise-iframe-embed');
  // A solution link, posed to the element: Check says the goal was met, and when.
  const solution = await page.evaluate(async () => {
    const { exerciseScenario, encodeLink } = await import('/www/sim.js');
    const s = exerciseScenario('split-brain');
    s.faults.push({ at_ms: 2000, duration_ms: 6000, fault: { kind: 'partition', groups: [[0, 1, 2, 6, 7], [3, 4, 5]] }, injected: true });
    return encodeLink(s, 0);
  });
  await page.goto('/examples/course-page.html');
  await page.evaluate((link) => {
    for (const [id, attr, value] of [['posed', 'exercise', 'split-brain'], ['solved', 'scenario', link]]) {
      const el = document.createElement('faultline-sim');
      el.id = id;
      el.setAttribute(attr, value);
      el.setAttribute('height', '420px');
      document.querySelector('main').prepend(el);
    }
  }, solution);
  const posed = page.locator('#posed[data-ready="1"]');
  await expect(posed.locator('.exercise')).toBeVisible();
  await expect(posed.locator('.ex-title')).toHaveText('Exercise: Split brain with two faults.');
  await posed.locator('[data-act=check]').click();
  await expect(posed.locator('.result')).toContainText('✗ Not yet', { timeout: 60_000 });
  const solved = page.locator('#solved[data-ready="1"]');
  await solved.locator('[data-act=check]').focus();
  await page.keyboard.press('Enter');
  await expect(solved.locator('.result')).toHaveText('✓ Goal met at t = 2.34 s.', { timeout: 60_000 });
  await expect(page.locator('#solved')).toHaveAttribute('data-headline', 'goal met at 2342.017 ms');
  await solved.scrollIntoViewIfNeeded();
  await solved.screenshot({ path: 'tests/e2e/screenshots/exercise-element.png' });
  expect(errors).toEqual([]);
});
