// The protocol presets make their point on the page: the checker panel says which property
// broke and when, the offending nodes are outlined, roles and values are drawn, and a
// violation raises a banner while playing. Screenshots of each are kept for review.
import { expect, openPage, screenshot, test } from './helpers.js';

/** Loads a preset and travels to `ms` (in slices, over several frames, for heavy runs). */
async function travel(page, preset, ms) {
  await page.evaluate(([name, t]) => {
    window.faultline.loadPreset(name);
    window.faultline.seek(t);
  }, [preset, ms]);
  await page.waitForFunction((t) => window.faultline.timeMs >= t, ms, { timeout: 30_000 });
}

/** Loads a preset, plays it to `ms` and returns its checks by id. */
async function runTo(page, preset, ms) {
  await travel(page, preset, ms);
  return page.evaluate(() => {
    const app = window.faultline;
    app.render();
    return Object.fromEntries(app.sim.checks().map((c) => [c.id, c]));
  });
}

const CASES = [
  // preset, moment (ms), check that must be violated (or null), checks that must hold
  ['expired-lease', 5000, 'stale_write_landed', []],
  ['fencing-tokens', 5000, null, ['stale_write_landed']],
  ['cap-ap', 9000, 'acked_writes_lost', []],
  ['cap-cp', 9000, null, ['acked_writes_lost', 'stale_reads']],
  ['split-brain', 5000, 'split_brain', []],
  ['raft-one-leader', 5000, null, ['split_brain', 'election_safety', 'state_machine_safety', 'acked_writes_lost']],
  ['cascading-failure', 8000, 'overload_crashes', []],
  ['retry-storm', 6000, 'overload_crashes', []],
  ['circuit-breakers', 8000, null, ['overload_crashes', 'goodput']],
  ['load-shedding', 8000, null, ['overload_crashes', 'goodput']],
  ['bulkheads', 6000, null, ['overload_crashes']],
  ['gray-health-check', 6000, null, ['overload_crashes', 'goodput']],
  ['pbft-one-liar', 8000, null, ['agreement', 'validity', 'client_results']],
  ['pbft-too-many-liars', 5000, 'agreement', ['validity']],
  ['pbft-forgery', 8000, null, ['agreement', 'validity', 'client_results']],
  ['raft-byzantine-leader', 3000, 'state_machine_safety', ['election_safety', 'split_brain']],
];

test('a cascade draws replicas dying of overload and charts goodput collapsing', async ({ page }) => {
  const errors = await openPage(page);
  await travel(page, 'cascading-failure', 8000);
  const state = await page.evaluate(() => {
    const app = window.faultline;
    app.render();
    app.charts.update(true);
    const c = app.sim.columns();
    const selfCrashed = [];
    for (let i = 1; i <= 5; i++) if (c.nodeStatus[i] === 1 && (c.nodeFlags[i] & 64)) selfCrashed.push(i);
    const goodput = app.sim.series().find((s) => s.id === 'goodput');
    return { selfCrashed, goodput: goodput.values };
  });
  expect(state.selfCrashed.length).toBeGreaterThanOrEqual(3);
  expect(state.goodput[4]).toBeGreaterThan(700); // at 1 s
  expect(state.goodput[state.goodput.length - 1]).toBeLessThan(200);
  // Related series share a chart: goodput with errors and retries, p50 with p99.
  await expect(page.locator('#charts .chart[data-series~="goodput"]')).toContainText('Errors');
  await expect(page.locator('#charts .chart[data-series~="latency_p99"]')).toContainText('p50');
  await expect(page.locator('#charts .chart[data-series~="open_breakers"]')).toHaveCount(0);
  await screenshot(page, 'cascading-failure');
  expect(errors).toEqual([]);
});

test('split brain shows two crowned leaders at once; Raft one, and logs that match after the heal', async ({ page }) => {
  const errors = await openPage(page);
  const leadersAt = async (preset, t) => { await travel(page, preset, t); return page.evaluate(() => {
    const app = window.faultline;
    app.render();
    const c = app.sim.columns();
    const leaders = [];
    for (let i = 0; i < 5; i++) if (c.nodeRole[i] === 3) leaders.push(i);
    return { leaders, logLen: Array.from(c.nodeLogLen.slice(0, 5)), commit: Array.from(c.nodeCommit.slice(0, 5)) };
  }); };
  const naive = await leadersAt('split-brain', 5000);
  expect(naive.leaders).toEqual([2, 4]);
  await screenshot(page, 'split-brain-two-leaders');
  const raft = await leadersAt('raft-one-leader', 5000);
  expect(raft.leaders.length).toBe(1);
  expect(raft.leaders[0]).toBeLessThan(3); // the majority side leads
  // Cut-off node 3 commits nothing more while the majority goes on.
  expect(raft.commit[3]).toBeLessThan(raft.commit[raft.leaders[0]]);
  await screenshot(page, 'raft-one-leader-partitioned');
  const healed = await leadersAt('raft-one-leader', 11000);
  expect(Math.max(...healed.commit) - Math.min(...healed.commit)).toBeLessThanOrEqual(2);
  expect(errors).toEqual([]);
});

for (const [preset, ms, broken, holding] of CASES) {
  test(`preset ${preset} makes its point in the checker panel`, async ({ page }) => {
    const errors = await openPage(page);
    const checks = await runTo(page, preset, ms);
    if (broken) {
      expect(checks[broken].holds).toBe(false);
      await expect(page.locator(`#checks-list [data-check="${broken}"]`)).toHaveClass(/violated/);
      expect(checks[broken].nodes.length).toBeGreaterThan(0);
    }
    for (const id of holding) {
      expect(checks[id].holds).toBe(true);
      await expect(page.locator(`#checks-list [data-check="${id}"]`)).not.toHaveClass(/violated/);
    }
    await screenshot(page, `preset-${preset}`);
    expect(errors).toEqual([]);
  });
}

test('a property that breaks while playing raises a banner at that moment', async ({ page }) => {
  await openPage(page);
  await page.evaluate(() => { window.faultline.loadPreset('expired-lease'); return window.faultline.seek(4000); });
  await expect(page.locator('#violation')).toBeHidden();
  await page.evaluate(() => window.faultline.setSpeed(5));
  await page.click('#play');
  await expect(page.locator('#violation')).toBeVisible({ timeout: 10_000 });
  await page.click('#play');
  await expect(page.locator('#violation .text')).toContainText('violated at t =');
});
