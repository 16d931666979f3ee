// The playground as a person uses it: load, see the cluster, break a node by clicking,
// read the inspector, share the run and reopen it elsewhere.
import { deflateRawSync } from 'node:zlib';
import { clickNode, expect, inspect, nodePixel, openPage, screenshot, test } from './helpers.js';

test('the page loads and draws five heartbeating nodes', async ({ page }) => {
  const errors = await openPage(page);
  const snap = await inspect(page);
  expect(snap.nodes).toBe(5);
  const [r, g, b] = await nodePixel(page, 0);
  expect(g).toBeGreaterThan(140); // a running node is green
  expect(r).toBeLessThan(100);
  await page.click('#play');
  await page.waitForTimeout(800);
  await page.click('#play');
  const later = await inspect(page);
  expect(later.time_ms).toBeGreaterThan(300);
  expect(later.counters.delivered).toBeGreaterThan(50);
  await expect(page.locator('#play')).toHaveAttribute('aria-pressed', 'false');
  await screenshot(page, 'loaded');
  expect(errors).toEqual([]);
});

test('clicking a node and choosing Crash crashes it, and the inspector says so', async ({ page }) => {
  await openPage(page);
  await page.evaluate(() => { window.faultline.step(1000); });
  await clickNode(page, 2);
  await expect(page.locator('#node-menu')).toBeVisible();
  await page.getByRole('button', { name: 'Crash', exact: true }).click();
  await expect(page.locator('#node-status')).toHaveText('crashed');
  const [r, g] = await nodePixel(page, 2);
  expect(g).toBeLessThan(90); // dark, not green
  expect(r).toBeLessThan(90);
  // Within 350 ms + one message delay every other node suspects it.
  await page.evaluate(() => { window.faultline.step(380); });
  const suspectedBy = await page.evaluate(() => window.faultline.sim.columns().nodeSuspectedBy[2]);
  expect(suspectedBy).toBe(4);
  await expect(page.locator('.mark')).toHaveCount(1); // on the timeline
  await screenshot(page, 'crashed');
});

test('a shared link reopens the same run at the same moment in another browser context', async ({ page, browser }) => {
  await openPage(page);
  await page.evaluate(() => window.faultline.step(700));
  await clickNode(page, 1);
  await page.getByRole('button', { name: 'Pause 2 s (GC)' }).click();
  await page.evaluate(() => window.faultline.step(450));
  await page.selectOption('#fault-kind', 'partition');
  await page.fill('input[name="groups"]', '0,1 | 2,3,4');
  await page.click('#palette button[type="submit"]');
  await page.evaluate(() => window.faultline.step(333.5));
  await page.click('#share');
  const url = page.url();
  expect(url).toContain('#s=F1.');
  expect(url.split('#s=')[1].length).toBeLessThan(1000);
  const original = await inspect(page);

  const other = await browser.newContext();
  const second = await other.newPage();
  await openPage(second, url);
  const replayed = await inspect(second);
  expect(replayed.trace_hash).toBe(original.trace_hash);
  expect(replayed.time_ms).toBe(original.time_ms);
  expect(replayed.counters).toEqual(original.counters);
  await expect(second.locator('#note')).toContainText('Replayed the shared scenario');
  await screenshot(second, 'replayed');
  await other.close();
});

test('a mangled link shows a clear message and opens the default scenario', async ({ page }) => {
  const f1 = (payload) => 'F1.' + deflateRawSync(Buffer.from(JSON.stringify(payload))).toString('base64url');
  const bomb = 'F1.' + deflateRawSync(Buffer.alloc(20 * 1024 * 1024, 32)).toString('base64url');
  for (const fragment of ['#s=%%%not-base64', '#s=AAAA', '#s=F7.AAAA', '#s=F1.AAAAAAAA', '#s=' + bomb, '#s=F1.' + 'A'.repeat(300_000)]) {
    await page.goto('/' + fragment);
    await page.waitForSelector('body[data-ready="1"]');
    await expect(page.locator('#error')).toBeVisible();
    await expect(page.locator('#error .text')).toContainText('This link could not be read');
    expect((await inspect(page)).nodes).toBe(5);
  }
  // A well-formed link to an impossible scenario says what is wrong with it.
  const bad = f1({ scenario: { nodes: 3, faults: [{ at_ms: 5, fault: { kind: 'crash', node: 7 } }] }, t_ms: 0 });
  await page.goto('/#s=' + bad);
  await page.waitForSelector('body[data-ready="1"]');
  await expect(page.locator('#error .text')).toContainText('faults[0].fault.node: node 7 does not exist');
  await screenshot(page, 'bad-link');
});

test('bad input through the boundary is an Error naming the field, and changes nothing', async ({ page }) => {
  await openPage(page);
  const result = await page.evaluate(() => {
    const sim = window.faultline.sim;
    sim.runUntil(500);
    const before = sim.traceHash();
    const attempt = (f) => { try { f(); return 'accepted'; } catch (e) { return e.message; } };
    return {
      unknownNode: attempt(() => sim.inject({ kind: 'crash', node: 99 })),
      nonFinite: attempt(() => sim.inject({ kind: 'pause', node: 1, duration_ms: Infinity })),
      negative: attempt(() => sim.runUntil(-5)),
      restartUp: attempt(() => sim.inject({ kind: 'restart', node: 1 })),
      nodeView: attempt(() => sim.nodeView(1.5)),
      unchanged: sim.traceHash() === before,
    };
  });
  expect(result.unknownNode).toContain('node 99 does not exist');
  expect(result.nonFinite).toContain('duration_ms');
  expect(result.negative).toContain('must not be negative');
  expect(result.restartUp).toContain('only a crashed node can restart');
  expect(result.nodeView).toContain('not a node id');
  expect(result.unchanged).toBe(true);
  // The page shows palette errors without changing the run.
  const hash = (await inspect(page)).trace_hash;
  await page.selectOption('#fault-kind', 'partition');
  await page.fill('input[name="groups"]', '0,1 | 1,2');
  await page.click('#palette button[type="submit"]');
  await expect(page.locator('#error .text')).toContainText('named twice');
  expect((await inspect(page)).trace_hash).toBe(hash);
});
