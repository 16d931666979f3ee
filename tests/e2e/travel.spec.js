// Time travel, embedding and export as a person uses them: drag the timeline back, fork a
// new future, open the run in ?embed mode, put three <faultline-sim> elements on a course
// page, and take the run away as a trace, a picture and a CLI command.
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { expect, inspect, openPage, screenshot, test } from './helpers.js';

/** A fresh run of `preset` to `t` ms in the page, for comparison. */
const freshHash = (page, preset, t) => page.evaluate(async ([name, ms]) => {
  const m = await import('/www/sim.js');
  const s = new m.Sim(m.presetScenario(name));
  s.runUntil(ms);
  const h = s.traceHash();
  s.free();
  return h;
}, [preset, t]);

/** Clicks the timeline at `ms` (of its current span). */
async function clickTimeline(page, ms) {
  const span = await page.evaluate(() => window.faultline.timeline.spanMs);
  const box = await page.locator('#timeline .track').boundingBox();
  await page.mouse.click(box.x + (box.width * ms) / span, box.y + box.height / 2);
}

test('dragging the timeline back shows that exact moment, and playing on equals never seeking', async ({ page }) => {
  const errors = await openPage(page, '/#');
  await page.evaluate(() => window.faultline.loadPreset('crash-recovery'));
  await page.evaluate(() => window.faultline.seek(9000));
  await expect.poll(() => page.evaluate(() => window.faultline.timeMs)).toBe(9000);
  const at9 = (await inspect(page)).trace_hash;
  expect(at9).toBe(await freshHash(page, 'crash-recovery', 9000));

  await clickTimeline(page, 3000);
  const back = await page.evaluate(() => window.faultline.timeMs);
  expect(back).toBeGreaterThan(2500);
  expect(back).toBeLessThan(3500);
  expect((await inspect(page)).trace_hash).toBe(await freshHash(page, 'crash-recovery', back));
  await screenshot(page, 'travel-back');

  // Keyboard: Home goes to 0, End back to the furthest moment reached.
  await page.focus('#timeline .track-wrap');
  await page.keyboard.press('Home');
  expect(await page.evaluate(() => window.faultline.timeMs)).toBe(0);
  await page.keyboard.press('End');
  await expect.poll(() => page.evaluate(() => window.faultline.timeMs)).toBe(9000);
  expect((await inspect(page)).trace_hash).toBe(at9);
  expect(errors).toEqual([]);
});

test('injecting at an earlier moment forks a new future, and the URL follows', async ({ page, browser }) => {
  await openPage(page);
  await page.evaluate(() => { window.faultline.step(2000); window.faultline.inject({ kind: 'crash', node: 1 }); });
  await page.evaluate(() => { window.faultline.step(3000); window.faultline.inject({ kind: 'isolate', node: 3 }, 1000); });
  await page.evaluate(() => window.faultline.step(2000));
  await page.click('#share');
  expect(page.url()).toContain('#s=F1.');
  await page.evaluate(() => window.faultline.seek(3000));
  await page.evaluate(() => window.faultline.inject({ kind: 'pause', node: 2, duration_ms: 500 }));
  await expect(page.locator('#note')).toContainText('old future');
  await expect(page.locator('.mark')).toHaveCount(2);
  const forked = await inspect(page);
  // The address bar now holds the new future: another browser opens exactly it.
  const other = await browser.newContext();
  const second = await other.newPage();
  await openPage(second, page.url().replace(/^.*?#/, '/#'));
  expect((await inspect(second)).trace_hash).toBe(forked.trace_hash);
  await other.close();
});

test('?embed shows the canvas and minimal controls, with a link to the full page', async ({ page }) => {
  await openPage(page);
  const link = await page.evaluate(() => { window.faultline.step(1500); return window.faultline.sim.shareLink(); });
  await page.setViewportSize({ width: 720, height: 480 });
  const errors = await openPage(page, `/?embed#s=${link}`);
  await expect(page.locator('#stage')).toBeVisible();
  await expect(page.locator('#play')).toBeVisible();
  await expect(page.locator('aside.side')).toBeHidden();
  await expect(page.locator('header.top')).toBeHidden();
  await expect(page.locator('#seed')).toBeHidden();
  const full = page.locator('#open-full');
  await expect(full).toBeVisible();
  expect(await full.getAttribute('href')).toContain('#s=F1.');
  const box = await page.locator('#stage').boundingBox();
  expect(box.height).toBeGreaterThan(300); // the canvas fills the frame
  await screenshot(page, 'embed-mode');
  expect(errors).toEqual([]);
});

test('the course page embeds three independent scenarios sharing one engine', async ({ page }) => {
  const errors = [];
  page.on('pageerror', (e) => errors.push(e.message));
  await page.setViewportSize({ width: 1000, height: 2400 });
  await page.goto('/examples/course-page.html');
  const sims = page.locator('faultline-sim');
  await expect(sims).toHaveCount(3);
  for (let i = 0; i < 3; i++) await expect(sims.nth(i)).toHaveAttribute('data-ready', '1');
  for (let i = 0; i < 3; i++) expect(await sims.nth(i).getAttribute('data-error')).toBeNull();
  // The first autoplays; the others wait for their Play button.
  await page.waitForTimeout(1500);
  const times = await sims.evaluateAll((els) => els.map((e) => e.timeMs));
  expect(times[0]).toBeGreaterThan(500);
  expect(times[1]).toBe(0);
  await sims.nth(1).locator('button[data-act=play]').click();
  await page.waitForTimeout(800);
  const after = await sims.evaluateAll((els) => els.map((e) => e.timeMs));
  expect(after[1]).toBeGreaterThan(300);
  expect(after[2]).toBe(0); // independent
  // Each draws its own cluster: some non-background pixels in every canvas.
  const painted = await sims.evaluateAll((els) => els.map((e) => {
    const c = e.shadowRoot.querySelector('canvas');
    const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
    let lit = 0;
    for (let i = 0; i < d.length; i += 16) if (d[i + 1] > 120) lit++;
    return lit;
  }));
  for (const lit of painted) expect(lit).toBeGreaterThan(50);
  await screenshot(page, 'course-page');
  expect(errors).toEqual([]);
});

test('a bad scenario attribute shows a message in the element', async ({ page }) => {
  await openPage(page);
  await page.evaluate(async () => {
    await import('/www/embed/faultline-sim.js');
    const el = document.createElement('faultline-sim');
    el.setAttribute('scenario', 'no-such-preset');
    document.body.append(el);
  });
  await expect(page.locator('faultline-sim')).toHaveAttribute('data-error', /no preset|unknown|not/i);
});

test('export: the trace, a PNG and the CLI command all reproduce the run', async ({ page }) => {
  await openPage(page);
  await page.evaluate(() => { window.faultline.step(1200); window.faultline.inject({ kind: 'crash', node: 4 }); window.faultline.step(800); });
  const hash = (await inspect(page)).trace_hash;

  const command = await page.evaluate(() => window.faultline.exporter.cli());
  expect(command).toMatch(/^faultline run --scenario-url 'F1\.[A-Za-z0-9_-]+' --trace-hash$/);
  const link = command.match(/'(F1\.[^']+)'/)[1];
  const cli = process.env.FAULTLINE_CLI || 'target/release/faultline';
  const out = execFileSync(cli, ['run', '--scenario-url', link, '--trace-hash'], { encoding: 'utf8' });
  expect(out.trim().split('\n').pop()).toBe(hash);

  await page.click('#export-menu > summary');
  const [traceDl] = await Promise.all([page.waitForEvent('download'), page.click('#export-trace')]);
  const lines = readFileSync(await traceDl.path(), 'utf8').trim().split('\n');
  const snap = await inspect(page);
  expect(lines.length).toBeGreaterThan(100);
  const last = JSON.parse(lines[lines.length - 1]);
  expect(last.t_us).toBeLessThanOrEqual(snap.time_ms * 1000);
  const cliTrace = 'test-results/export-trace.jsonl';
  execFileSync(cli, ['run', '--scenario-url', link, '--trace', cliTrace]);
  expect(lines.join('\n')).toBe(readFileSync(cliTrace, 'utf8').trim());

  await page.click('#export-menu > summary');
  const [png] = await Promise.all([page.waitForEvent('download'), page.click('#export-png')]);
  const bytes = readFileSync(await png.path());
  expect([...bytes.subarray(1, 4)].map((b) => String.fromCharCode(b)).join('')).toBe('PNG');

  await page.click('#export-menu > summary');
  await page.click('#export-embed');
  await expect(page.locator('#embed-dialog')).toBeVisible();
  expect(await page.inputValue('#embed-iframe')).toContain('?embed#s=F1.');
  expect(await page.inputValue('#embed-element')).toContain('<faultline-sim scenario="F1.');
  await screenshot(page, 'embed-dialog');
});
