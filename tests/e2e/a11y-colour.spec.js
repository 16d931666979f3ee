// Colour is never the only cue, and the colours themselves stay apart for colour-blind
// readers: the renderer's state colours, and the pixels it really draws, are put through
// simulated protanopia and deuteranopia (Machado, Oliveira & Fernandes 2009, severity 1)
// and every pair of states a learner must tell apart keeps a CIELAB distance of at least
// MIN_DELTA_E. With `prefers-reduced-motion` messages, bursts and shockwaves stand still.
import { expect, nodePixel, openPage, test } from './helpers.js';

/** CIE76 ΔE: about 2.3 is a just-noticeable difference; 30 is plainly another colour. */
const MIN_DELTA_E = 30;

const MACHADO = {
  normal: [[1, 0, 0], [0, 1, 0], [0, 0, 1]],
  protanopia: [[0.152286, 1.052583, -0.204868], [0.114503, 0.786281, 0.099216], [-0.003882, -0.048116, 1.051998]],
  deuteranopia: [[0.367322, 0.860646, -0.227968], [0.280085, 0.672501, 0.047413], [-0.011820, 0.042940, 0.968881]],
};

const toLinear = (c) => (c <= 0.04045 ? c / 12.92 : ((c + 0.055) / 1.055) ** 2.4);
const rgbOf = (hex) => [1, 3, 5].map((i) => parseInt(hex.slice(i, i + 2), 16));

/** sRGB (0–255) → simulated vision → CIELAB (D65). */
function labAs(rgb, vision) {
  const lin = rgb.map((c) => toLinear(c / 255));
  const [r, g, b] = MACHADO[vision].map((row) => Math.min(1, Math.max(0, row[0] * lin[0] + row[1] * lin[1] + row[2] * lin[2])));
  const x = (0.4124 * r + 0.3576 * g + 0.1805 * b) / 0.95047;
  const y = 0.2126 * r + 0.7152 * g + 0.0722 * b;
  const z = (0.0193 * r + 0.1192 * g + 0.9505 * b) / 1.08883;
  const f = (t) => (t > 216 / 24389 ? Math.cbrt(t) : (24389 / 27 * t + 16) / 116);
  return [116 * f(y) - 16, 500 * (f(x) - f(y)), 200 * (f(y) - f(z))];
}

const deltaE = (a, b, vision) => {
  const [p, q] = [labAs(a, vision), labAs(b, vision)];
  return Math.hypot(p[0] - q[0], p[1] - q[1], p[2] - q[2]);
};

/** Pairs closer than MIN_DELTA_E under some vision, as readable lines. */
function tooClose(colours, pairs) {
  const close = [];
  for (const [a, b] of pairs) {
    for (const vision of Object.keys(MACHADO)) {
      const d = deltaE(colours[a], colours[b], vision);
      if (d < MIN_DELTA_E) close.push(`${a} vs ${b} under ${vision}: ΔE ${d.toFixed(1)}`);
    }
  }
  return close;
}

test('the state colours stay apart under simulated protanopia and deuteranopia', async ({ page }) => {
  await openPage(page);
  const hex = await page.evaluate(async () => (await import('/www/render/canvas.js')).COLORS);
  const colours = Object.fromEntries(Object.entries(hex).map(([k, v]) => [k, rgbOf(v)]));
  // A gray node is the running colour dimmed over the background (alpha 0.45).
  colours.grayNode = colours.up.map((c, i) => Math.round(0.45 * c + 0.55 * colours.bg[i]));
  const pairs = [
    ['up', 'crashed'], ['up', 'paused'], ['up', 'suspect'], ['up', 'byzantine'], ['up', 'grayNode'],
    ['crashed', 'paused'], ['paused', 'byzantine'], ['suspect', 'violation'], ['suspect', 'cut'],
    ['up', 'violation'], ['up', 'cut'], ['leader', 'splitBrain'], ['bg', 'cut'],
  ];
  expect(tooClose(colours, pairs)).toEqual([]);
  // The sharpness of the check: the old red-green palette fails it.
  const old = { ...colours, cut: rgbOf('#ff5c5c'), violation: rgbOf('#ff3b3b') };
  expect(tooClose(old, pairs).length).toBeGreaterThan(0);
});

test('the pixels drawn for running, crashed and paused nodes stay apart under simulation', async ({ page }) => {
  await openPage(page);
  await page.evaluate(() => {
    const app = window.faultline;
    app.step(500);
    app.inject({ kind: 'crash', node: 1 });
    app.inject({ kind: 'pause', node: 2, duration_ms: 5000 });
    app.step(10);
  });
  const drawn = { up: await nodePixel(page, 0), crashed: await nodePixel(page, 1), paused: await nodePixel(page, 2) };
  const hex = await page.evaluate(async () => (await import('/www/render/canvas.js')).COLORS);
  for (const state of ['up', 'crashed', 'paused']) {
    expect(deltaE(drawn[state], rgbOf(hex[state]), 'normal'), `${state} is drawn in its colour`).toBeLessThan(3);
  }
  expect(tooClose(drawn, [['up', 'crashed'], ['up', 'paused'], ['crashed', 'paused']])).toEqual([]);
});

/** A digest of the canvas pixels (FNV-1a over every 7th byte: cheap, and any move shows). */
const canvasDigest = (page) => page.evaluate(() => {
  const c = window.faultline.renderer.canvas;
  const data = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
  let h = 0x811c9dc5;
  for (let i = 0; i < data.length; i += 7) h = Math.imul(h ^ data[i], 0x01000193);
  return h >>> 0;
});

/** Draws the same engine state at two moments `dtMs` apart, as the play loop would. */
async function twoFrames(page, dtMs) {
  await page.evaluate(() => {
    const app = window.faultline;
    app.step(1000);
    app.inject({ kind: 'crash', node: 2 });
    app.step(120); // messages in flight, bursts where messages to node 2 died, its shockwave
  });
  const draw = (t) => page.evaluate((at) => {
    const app = window.faultline;
    app.renderer.draw({ cols: app.sim.columns(), timeMs: at, selected: null, speed: 1, violating: new Set() });
  }, t);
  const t = await page.evaluate(() => window.faultline.timeMs);
  await draw(t);
  const first = await canvasDigest(page);
  await draw(t + dtMs);
  const second = await canvasDigest(page);
  const counts = await page.evaluate(() => { const c = window.faultline.sim.columns(); return { msgs: c.msgs, drops: c.drops }; });
  return { first, second, counts };
}

test('with reduced motion, messages, bursts and shockwaves stand still', async ({ browser }) => {
  const still = await browser.newContext({ reducedMotion: 'reduce' });
  const page = await still.newPage();
  await openPage(page);
  expect(await page.evaluate(() => window.faultline.renderer.reducedMotion)).toBe(true);
  const frames = await twoFrames(page, 30);
  expect(frames.counts.msgs).toBeGreaterThan(0);
  expect(frames.counts.drops).toBeGreaterThan(0);
  expect(frames.second).toBe(frames.first);
  await still.close();

  // The control: with motion allowed the same two moments differ.
  const moving = await browser.newContext({ reducedMotion: 'no-preference' });
  const other = await moving.newPage();
  await openPage(other);
  expect(await other.evaluate(() => window.faultline.renderer.reducedMotion)).toBe(false);
  const control = await twoFrames(other, 30);
  expect(control.second).not.toBe(control.first);
  await moving.close();
});

/** Pixels (of 24×24, drawn at size 4) by which two kinds' silhouettes must differ. */
const MIN_SILHOUETTE_PIXELS = 8;

test("each protocol's message kinds differ by shape, not only by colour", async ({ page }) => {
  await openPage(page);
  const names = await page.locator('#preset option').evaluateAll((os) => os.map((o) => o.value).filter(Boolean));
  const same = [];
  const seen = new Set();
  for (const name of names) {
    await page.selectOption('#preset', name);
    const result = await page.evaluate(async () => {
      const { drawMessage } = await import('/www/render/canvas.js');
      const kinds = window.faultline.sim.messageKinds();
      const canvas = document.createElement('canvas');
      canvas.width = canvas.height = 24;
      const ctx = canvas.getContext('2d', { willReadFrequently: true });
      // The silhouette: which pixels are lit, whatever their colour (a dark core is unlit).
      const silhouette = (kind) => {
        ctx.clearRect(0, 0, 24, 24);
        drawMessage(ctx, 12, 12, kind, false, 4);
        const d = ctx.getImageData(0, 0, 24, 24).data;
        let bits = '';
        for (let i = 0; i < d.length; i += 4) bits += d[i + 3] > 128 && d[i] + d[i + 1] + d[i + 2] > 150 ? '1' : '0';
        return bits;
      };
      return { protocol: window.faultline.sim.inspect().protocol, kinds: kinds.map((k) => ({ name: k.name, shape: silhouette(k.kind) })) };
    });
    if (seen.has(result.protocol)) continue;
    seen.add(result.protocol);
    for (let i = 0; i < result.kinds.length; i++) {
      for (let j = i + 1; j < result.kinds.length; j++) {
        const [a, b] = [result.kinds[i].shape, result.kinds[j].shape];
        let differ = 0;
        for (let k = 0; k < a.length; k++) if (a[k] !== b[k]) differ++;
        if (differ < MIN_SILHOUETTE_PIXELS) same.push(`${result.protocol}: ${result.kinds[i].name} and ${result.kinds[j].name} differ by ${differ} px`);
      }
    }
  }
  expect(seen.size).toBeGreaterThan(3);
  expect(same).toEqual([]);
});
