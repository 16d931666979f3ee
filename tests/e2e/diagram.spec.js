// The time-space diagram: lanes, arrows from send to delivery, the causal cone of a picked
// event from the engine's vector clocks, the cursor following the scrubber, hover linking
// an arrow to its message on the canvas, and a 1,000-node run that keeps working.
import { readFileSync } from 'node:fs';
import { expect, openPage, screenshot, test } from './helpers.js';

async function openDiagram(page) {
  await page.locator('#diagram-panel > summary').click();
  await expect(page.locator('#diagram')).toBeVisible();
}

test('the diagram draws arrows and lights up the causal cone of a clicked event', async ({ page }) => {
  const errors = await openPage(page);
  await page.evaluate(() => window.faultline.loadPreset('crash-recovery'));
  await page.evaluate(() => { window.faultline.advanceTo(3200); window.faultline.render(); });
  await openDiagram(page);
  await expect(page.locator('#diagram-caption')).toContainText('Click an event');
  const picked = await page.evaluate(() => {
    const d = window.faultline.diagram;
    // The event in the middle of the drawn window, in page coordinates.
    const h = d.hits[Math.floor(d.hits.length / 2)];
    return { x: h.x, y: h.y, arrows: d.arrows.length, hits: d.hits.length };
  });
  expect(picked.arrows).toBeGreaterThan(20);
  await page.locator('#diagram').click({ position: { x: picked.x, y: picked.y } });
  const caption = page.locator('#diagram-caption');
  await expect(caption).toContainText('Its causal past');
  const counts = (await caption.textContent()).match(/past: (\d+) events; its future: (\d+); concurrent with it: (\d+)/).slice(1).map(Number);
  expect(counts[0]).toBeGreaterThan(0);
  expect(counts[1]).toBeGreaterThan(0);
  expect(counts[2]).toBeGreaterThan(0);
  // Clicking selected the event's node too.
  const node = await page.evaluate(() => window.faultline.diagram.picked.node);
  expect(await page.evaluate(() => window.faultline.selected)).toBe(node);
  await screenshot(page, 'diagram-cone');
  // Keyboard: the arrow keys walk events, Enter jumps the run to the picked one.
  await page.locator('#diagram').focus();
  await page.keyboard.press('ArrowLeft');
  const t = await page.evaluate(() => window.faultline.diagram.picked.t);
  await page.keyboard.press('Enter');
  await expect.poll(() => page.evaluate(() => window.faultline.timeMs)).toBeCloseTo(t, 3);
  expect(errors).toEqual([]);
});

test('hovering a message on the canvas marks its arrow in the diagram, and the reverse', async ({ page }) => {
  const errors = await openPage(page);
  await page.evaluate(() => { window.faultline.advanceTo(1234); window.faultline.render(); });
  await openDiagram(page);
  await page.evaluate(() => window.faultline.render());
  const at = await page.evaluate(() => {
    const r = window.faultline.renderer, rect = r.canvas.getBoundingClientRect();
    return { x: rect.left + r.drawnAt.xy[0], y: rect.top + r.drawnAt.xy[1] };
  });
  await page.locator('#stage').scrollIntoViewIfNeeded();
  const again = await page.evaluate(() => {
    const r = window.faultline.renderer, rect = r.canvas.getBoundingClientRect();
    return { x: rect.left + r.drawnAt.xy[0], y: rect.top + r.drawnAt.xy[1] };
  });
  await page.mouse.move(again.x ?? at.x, again.y ?? at.y);
  await expect.poll(() => page.evaluate(() => window.faultline.state.hoveredMessage !== null)).toBe(true);
  await expect.poll(() => page.evaluate(() => window.faultline.diagram.hoveredDrawn)).toBe(true);
  expect(errors).toEqual([]);
});

test('the diagram cursor follows the scrubber and a crash is shaded on its lane', async ({ page }) => {
  const errors = await openPage(page);
  await page.evaluate(() => window.faultline.loadPreset('crash-recovery'));
  await openDiagram(page);
  await page.selectOption('#diagram-span', '5000');
  for (const t of [2500, 4000]) {
    await page.evaluate((ms) => window.faultline.seek(ms), t);
    await expect(page.locator('#diagram-caption')).toBeVisible();
    const right = await page.evaluate(() => window.faultline.diagram.window.t_ms.at(-1));
    expect(right).toBeLessThanOrEqual(t);
  }
  await screenshot(page, 'diagram-crash');
  expect(errors).toEqual([]);
});

test('at 1,000 nodes the diagram shows some lanes, says so, and plays on', async ({ page }) => {
  const errors = await openPage(page);
  await page.evaluate(() => window.faultline.loadPreset('large-cluster'));
  await openDiagram(page);
  await page.evaluate(() => { window.faultline.advanceTo(400); window.faultline.render(); });
  await expect(page.locator('#diagram-caption')).toContainText('Lanes for 24 of 1000 nodes');
  await expect(page.locator('#diagram-caption')).toContainText('causal cone is off');
  await page.click('#play');
  await page.waitForTimeout(1500);
  await page.click('#play');
  const drawMs = await page.evaluate(() => { const s = performance.now(); window.faultline.diagram.draw(); return performance.now() - s; });
  console.log(`diagram redraw at 1,000 nodes (16,384 events in the window): ${drawMs.toFixed(1)} ms`);
  await page.locator('#diagram').scrollIntoViewIfNeeded();
  await screenshot(page, 'diagram-1000');
  expect(errors).toEqual([]);
});

test('wall clocks lie: the checker catches a write stamped before its cause, and the ShiViz log carries vector clocks', async ({ page }) => {
  const errors = await openPage(page);
  await page.selectOption('#preset', 'wall-clocks-lie');
  await page.evaluate(() => { window.faultline.advanceTo(3000); window.faultline.render(); });
  await expect(page.locator('#checks-list')).toContainText('stamped before their cause');
  const broken = await page.evaluate(() => window.faultline.sim.checks().find((c) => c.id === 'timestamp_order').holds);
  expect(broken).toBe(false);
  await openDiagram(page);
  await page.locator('#diagram').scrollIntoViewIfNeeded();
  await screenshot(page, 'diagram-wall-clocks-lie');
  await page.click('#export-menu > summary');
  const [dl] = await Promise.all([page.waitForEvent('download'), page.click('#export-shiviz')]);
  const lines = readFileSync(await dl.path(), 'utf8').split('\n');
  expect(lines[0]).toContain('(?<host>');
  expect(lines[1]).toBe('');
  const receive = lines.find((l) => l.includes('receives write'));
  const [, host, clock] = receive.match(/^(n\d+) (\{[^}]*\})/);
  const vc = JSON.parse(clock);
  expect(vc[host]).toBeGreaterThan(0);
  expect(Object.keys(vc).length).toBe(2);
  expect(errors).toEqual([]);
});

test("on each node's clock a fast clock's messages run back in time; on Lamport time none do", async ({ page }) => {
  const errors = await openPage(page);
  await page.selectOption('#preset', 'wall-clocks-lie');
  await page.evaluate(() => { window.faultline.advanceTo(3000); window.faultline.render(); });
  await openDiagram(page);
  await page.selectOption('#diagram-span', '5000');
  // True time: every arrow goes forward, nothing is red.
  expect(await page.evaluate(() => window.faultline.diagram.backwards)).toBe(0);
  const forward = () => page.evaluate(() => window.faultline.diagram.arrows.every((a) => a.x2 >= a.x1 - 0.01));
  expect(await forward()).toBe(true);
  // Node 0's clock is 1 s fast: by the nodes' clocks its writes arrive before they left.
  await page.selectOption('#diagram-axis', 'clock');
  await expect(page.locator('#diagram-caption')).toContainText('before they were sent');
  const back = await page.evaluate(() => {
    const d = window.faultline.diagram;
    return { red: d.backwards, fromZero: d.arrows.filter((a) => a.x2 < a.x1).every((a) => a.from === 0 && a.to === 1) };
  });
  expect(back.red).toBeGreaterThan(3);
  expect(back.fromZero).toBe(true);
  await page.locator('#diagram').scrollIntoViewIfNeeded();
  await screenshot(page, 'diagram-wall-clock-axis');
  // Lamport time orders every delivery after its send.
  await page.selectOption('#diagram-axis', 'lamport');
  await expect(page.locator('#diagram-caption')).toContainText('every arrow points forward');
  expect(await page.evaluate(() => window.faultline.diagram.backwards)).toBe(0);
  expect(await forward()).toBe(true);
  expect(errors).toEqual([]);
});

test('the clock overlay prints each node’s clock reading, Lamport time and HLC beside it', async ({ page }) => {
  const errors = await openPage(page);
  await page.selectOption('#preset', 'hlc-keeps-later-write');
  await page.evaluate(() => { window.faultline.advanceTo(2500); window.faultline.render(); });
  await page.check('#clock-overlay');
  await page.evaluate(() => window.faultline.render());
  const lines = await page.evaluate(() => Object.fromEntries(window.faultline.stage.clocks.lines));
  expect(Object.keys(lines).length).toBeGreaterThan(1);
  const slow = lines[2].join(' | ');
  expect(slow).toMatch(/^clock [\d.]+ s \(−800 ms\)/); // node 2's clock is 800 ms behind
  expect(slow).toMatch(/Lamport \d+/);
  expect(slow).toMatch(/vector \[\d+,\d+,\d+\]/);
  expect(slow).toMatch(/HLC [\d.,]+ ms \+ \d+/);
  expect(lines[0][0]).not.toContain('('); // node 0's clock is true
  await page.locator('#stage').scrollIntoViewIfNeeded();
  await screenshot(page, 'clock-overlay');
  // Above 16 nodes the overlay stays off rather than cover the canvas.
  await page.evaluate(() => window.faultline.loadPreset('large-cluster'));
  await page.evaluate(() => window.faultline.render());
  expect(await page.evaluate(() => window.faultline.stage.clocks.lines?.size ?? 0)).toBeLessThanOrEqual(16);
  expect(await page.evaluate(() => window.faultline.stage.clocks.linesFor(window.faultline.sim, 1000, 1))).toBe(null);
  expect(errors).toEqual([]);
});

test('benchmark: the diagram redraws thousands of arrows within a frame', async ({ page }) => {
  await openPage(page);
  await page.evaluate(async () => {
    const m = await import('/www/sim.js');
    const s = m.presetScenario('heartbeat');
    s.nodes = 24;
    await window.faultline.load(s);
  });
  await openDiagram(page);
  await page.selectOption('#diagram-span', '5000');
  await page.evaluate(() => { window.faultline.advanceTo(6000); window.faultline.render(); });
  const r = await page.evaluate(() => {
    const d = window.faultline.diagram;
    const times = [];
    for (let i = 0; i < 20; i++) { const s = performance.now(); d.draw(); times.push(performance.now() - s); }
    times.sort((a, b) => a - b);
    return { arrows: d.arrows.length, median: times[10], worst: times[19] };
  });
  console.log(`diagram redraw with ${r.arrows.toLocaleString('en')} arrows: median ${r.median.toFixed(1)} ms, worst ${r.worst.toFixed(1)} ms`);
  expect(r.arrows).toBeGreaterThan(5000);
});
