// Long work never blocks the page: a link ten simulated days in, a far seek back, a
// 1,000-node run playing and a 1,000-node link an hour in all run the engine in slices;
// the progress bar shows with Cancel, Cancel leaves a consistent run, and clicks are
// answered within 100 ms throughout (a capturing click handler measures the input delay;
// the Event Timing API's duration to the next paint is logged beside it).
import { expect, inspect, openPage, screenshot, test } from './helpers.js';

const DAY_MS = 24 * 3600 * 1000;

/** A share link for `preset` (resized to `nodes` when given) at `tMs`, made in the page. */
const linkFor = (page, preset, tMs, nodes) => page.evaluate(async ([name, t, n]) => {
  const m = await import('/www/sim.js');
  const scenario = m.presetScenario(name);
  if (n) scenario.nodes = n;
  return m.encodeLink(scenario, t);
}, [preset, tMs, nodes]);

/** A fresh run of `scenario` to `t` ms in the page: its trace hash. */
const freshHash = (page, scenario, t) => page.evaluate(async ([s, ms]) => {
  const m = await import('/www/sim.js');
  const sim = new m.Sim(s);
  sim.runUntil(ms);
  const h = sim.traceHash();
  sim.free();
  return h;
}, [scenario, t]);

/** Starts recording how long clicks wait: the Event Timing API's entries (input delay
 * and time to the next paint) and each click handler's delay after the input. */
async function watchLatency(page) {
  await page.evaluate(() => {
    const seen = { events: [], handlers: [] };
    window.__latency = seen;
    new PerformanceObserver((list) => {
      for (const e of list.getEntries()) {
        if (e.name === 'click' || e.name === 'pointerdown') seen.events.push({ delay: e.processingStart - e.startTime, duration: e.duration });
      }
    }).observe({ type: 'event', durationThreshold: 16, buffered: true });
    document.addEventListener('click', (ev) => seen.handlers.push(performance.now() - ev.timeStamp), true);
  });
}

/** Clicks a harmless control `n` times while work runs; returns the latency figures. */
async function clickWhileBusy(page, n) {
  const summary = page.locator('#settings-panel summary');
  await page.evaluate(() => { window.__latency.events.length = 0; window.__latency.handlers.length = 0; });
  for (let i = 0; i < n; i++) {
    await summary.click();
    await page.waitForTimeout(150);
  }
  return page.evaluate(() => window.__latency);
}

function expectResponsive(latency, clicks) {
  expect(latency.handlers.length).toBe(clicks);
  const worstHandler = Math.max(...latency.handlers);
  const worstEvent = Math.max(0, ...latency.events.map((e) => e.duration));
  console.log(`input latency: worst click handler delay ${worstHandler.toFixed(1)} ms, worst event duration to next paint ${worstEvent} ms over ${clicks} clicks`);
  // The bound is on input delay: from the click to its handler running. The duration to
  // the next paint (Event Timing) is reported beside it; on a loaded 2-core machine the
  // compositor's own delays dominate it.
  expect(worstHandler).toBeLessThan(100);
}

test('a link ten simulated days in replays in slices: a progress bar, clicks answered within 100 ms, Cancel leaves a consistent run', async ({ page }) => {
  test.setTimeout(120_000);
  await openPage(page);
  const link = await linkFor(page, 'heartbeat', 10 * DAY_MS);
  const errors = await openPage(page, `/#s=${link}`);
  await expect(page.locator('#progress')).toBeVisible({ timeout: 5000 });
  await expect(page.locator('#progress .text')).toContainText('10 d 0 h');
  await watchLatency(page);
  const latency = await clickWhileBusy(page, 12);
  await screenshot(page, 'progress-10-days');
  expectResponsive(latency, 12);

  await page.click('#progress .cancel');
  await expect(page.locator('#progress')).toBeHidden();
  const shown = await page.evaluate(() => window.faultline.timeMs);
  const snap = await inspect(page);
  expect(shown).toBeGreaterThan(0);
  expect(shown).toBeLessThan(10 * DAY_MS);
  // Consistent: the page shows the moment the engine is at, and it is the same run as a
  // fresh replay to that moment.
  expect(snap.time_ms).toBeCloseTo(shown, 3);
  const scenario = await page.evaluate(() => window.faultline.sim.scenario());
  expect(snap.trace_hash).toBe(await freshHash(page, scenario, snap.time_ms));
  await expect(page.locator('#note')).toContainText('Stopped at');
  // And it plays on from there.
  await page.evaluate(() => window.faultline.step(500));
  expect((await inspect(page)).time_ms).toBeCloseTo(shown + 500, 3);
  expect(errors).toEqual([]);
});

test('seeking far back is exact and the page stays responsive', async ({ page }) => {
  test.setTimeout(120_000);
  await openPage(page);
  const link = await linkFor(page, 'crash-recovery', 2 * 3600 * 1000);
  const errors = await openPage(page, `/#s=${link}`);
  await expect.poll(() => page.evaluate(() => window.faultline.timeMs), { timeout: 90_000 }).toBe(2 * 3600 * 1000);
  await watchLatency(page);
  const target = 37 * 60 * 1000 + 123;
  const arrived = page.evaluate((t) => window.faultline.seek(t), target);
  const latency = await clickWhileBusy(page, 4);
  expect(await arrived).toBe(target);
  expectResponsive(latency, 4);
  const scenario = await page.evaluate(() => window.faultline.sim.scenario());
  expect((await inspect(page)).trace_hash).toBe(await freshHash(page, scenario, target));
  expect(errors).toEqual([]);
});

test('playing a 1,000-node run keeps the page responsive and says it runs slower', async ({ page }) => {
  test.setTimeout(90_000);
  const errors = await openPage(page);
  await page.fill('#nodes', '1000');
  await page.locator('#nodes').dispatchEvent('change');
  await expect.poll(() => page.evaluate(() => window.faultline.sim.inspect().nodes)).toBe(1000);
  await watchLatency(page);
  await page.click('#play');
  const latency = await clickWhileBusy(page, 15);
  expectResponsive(latency, 15);
  await expect(page.locator('#slow-note')).toBeVisible();
  await screenshot(page, 'play-1000-nodes');
  await page.click('#play');
  expect(await page.evaluate(() => window.faultline.timeMs)).toBeGreaterThan(0);
  await expect(page.locator('#trap')).toBeHidden();
  expect(errors).toEqual([]);
});

test('a 1,000-node link an hour in shows progress, can be cancelled, and leaves the page alive', async ({ page }) => {
  test.setTimeout(90_000);
  await openPage(page);
  const link = await linkFor(page, 'heartbeat', 3600 * 1000, 1000);
  const errors = await openPage(page, `/#s=${link}`);
  await expect(page.locator('#progress')).toBeVisible({ timeout: 10_000 });
  await watchLatency(page);
  const latency = await clickWhileBusy(page, 6);
  expectResponsive(latency, 6);
  await screenshot(page, 'progress-1000-nodes');
  await page.click('#progress .cancel');
  await expect(page.locator('#progress')).toBeHidden();
  const snap = await inspect(page);
  expect(snap.nodes).toBe(1000);
  expect(snap.time_ms).toBeCloseTo(await page.evaluate(() => window.faultline.timeMs), 3);
  await expect(page.locator('#trap')).toBeHidden();
  expect(errors).toEqual([]);
});

