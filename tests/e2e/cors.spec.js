// Cross-origin embedding as a course author does it: a page served from a SECOND origin (here
// a tiny Node server on another 127.0.0.1 port) loads the embed script, the modules and the
// wasm from the Faultline server, with two <faultline-sim> elements and an iframe embed.
// Module scripts and fetched wasm across origins need CORS; without it nothing draws.
import { createServer } from 'node:http';
import { expect, screenshot, test } from './helpers.js';

let SITE; // the Faultline server: playwright.config.js's baseURL
let course; // the second origin
let courseUrl;

/** A course page on the second origin that embeds Faultline from `SITE`. */
function coursePage(link) {
  return `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Week 6</title>
<script type="module" src="${SITE}/www/embed/faultline-sim.js"></script>
<style>body { font: 16px Georgia, serif; max-width: 44em; margin: 1em auto; } faultline-sim { margin: 1em 0; }</style>
</head><body>
<h1>Week 6 — when the network splits</h1>
<p>Two leaders at once:</p>
<faultline-sim id="one" scenario="split-brain" autoplay speed="2" controls="minimal" height="260px"></faultline-sim>
<p>A link a student shared:</p>
<faultline-sim id="two" scenario="${link}" controls="minimal" height="260px"></faultline-sim>
<p>The same link as a frame:</p>
<iframe id="frame" src="${SITE}/?embed#s=${link}" title="Faultline" width="640" height="380" style="border:0"></iframe>
</body></html>`;
}

test.beforeAll(async ({ baseURL }) => {
  SITE = baseURL.replace(/\/$/, '');
  course = createServer((req, res) => {
    const link = new URL(req.url, 'http://x').searchParams.get('link') ?? '';
    res.writeHead(200, { 'Content-Type': 'text/html; charset=utf-8' });
    res.end(coursePage(link.replace(/[^A-Za-z0-9_.=#-]/g, '')));
  });
  await new Promise((done) => course.listen(0, '127.0.0.1', done));
  courseUrl = `http://127.0.0.1:${course.address().port}/week6.html`;
});

test.afterAll(() => new Promise((done) => course.close(done)));

/** Lit pixels in an element's canvas: something was drawn. */
const painted = (el) => el.evaluate((e) => {
  const c = e.shadowRoot.querySelector('canvas');
  const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
  let lit = 0;
  for (let i = 0; i < d.length; i += 16) if (d[i + 1] > 120) lit++;
  return lit;
});

test('a course page on another origin embeds two elements and a frame that draw and play', async ({ page }) => {
  // A student's link, made on the Faultline site.
  await page.goto(`${SITE}/`);
  await page.waitForSelector('body[data-ready="1"]');
  const link = await page.evaluate(() => { window.faultline.loadPreset('partition'); window.faultline.step(1500); return window.faultline.sim.shareLink(); });

  const errors = [];
  const headers = new Map();
  page.on('pageerror', (e) => errors.push(e.message));
  page.on('console', (m) => { if (m.type() === 'error') errors.push(m.text()); });
  page.on('response', (r) => headers.set(new URL(r.url()).pathname, r.headers()));
  await page.goto(`${courseUrl}?link=${encodeURIComponent(link)}`);
  expect(new URL(page.url()).origin).not.toBe(SITE);

  const one = page.locator('#one');
  const two = page.locator('#two');
  for (const el of [one, two]) {
    await expect(el).toHaveAttribute('data-ready', '1');
    await expect(el).not.toHaveAttribute('data-error', /.*/);
  }
  // The module, the wasm and the manifest came across origins with CORS, the wasm as wasm.
  const embed = headers.get('/www/embed/faultline-sim.js');
  expect(embed['access-control-allow-origin']).toBe('*');
  const wasm = [...headers].find(([path]) => path.endsWith('.wasm'));
  expect(wasm, 'the wasm was fetched').toBeTruthy();
  expect(wasm[1]['content-type']).toBe('application/wasm');
  expect(wasm[1]['access-control-allow-origin']).toBe('*');

  // The autoplaying element plays; the other waits at the link's moment until asked.
  await expect.poll(() => one.evaluate((e) => e.timeMs)).toBeGreaterThan(500);
  expect(await two.evaluate((e) => e.timeMs)).toBe(1500);
  expect(await two.evaluate((e) => e.dataset.engineNote)).toMatch(/^made with engine e\d+; replayed with e\d+$/);
  await two.locator('button[data-act=play]').click();
  await expect.poll(() => two.evaluate((e) => e.timeMs)).toBeGreaterThan(1800);
  for (const el of [one, two]) expect(await painted(el)).toBeGreaterThan(50);

  // The frame: the playground in ?embed mode, replaying the same link, and playing.
  const frame = page.frameLocator('#frame');
  await expect(frame.locator('body')).toHaveAttribute('data-ready', '1');
  const frameHandle = await page.locator('#frame').elementHandle();
  const inner = await frameHandle.contentFrame();
  expect(await inner.evaluate(() => window.faultline.timeMs)).toBe(1500);
  await frame.locator('#play').click();
  await expect.poll(() => inner.evaluate(() => window.faultline.timeMs)).toBeGreaterThan(1800);
  const framePainted = await inner.evaluate(() => {
    const c = window.faultline.renderer.canvas;
    const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
    let lit = 0;
    for (let i = 0; i < d.length; i += 16) if (d[i + 1] > 120) lit++;
    return lit;
  });
  expect(framePainted).toBeGreaterThan(50);
  await two.locator('button[data-act=play]').click(); // pause, for a steady picture
  await screenshot(page, 'cors-course-page');
  expect(errors).toEqual([]);
});
