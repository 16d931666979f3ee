// Old links replay as they were, on a published site under a sub-path, also embedded from
// a page on another origin.
//
// `cargo xtask dist` writes a site into target/e2e-sites/site/course/faultline/, served by
// `cargo xtask serve` on a free port at http://127.0.0.1:PORT/course/faultline/. It keeps an
// engine recorded as epoch e0: a copy of the current build under its own path in the
// manifest, because building the real e0 engine would need its source checked out (the
// links chosen in tests/fixtures/links-e0.tsv replay the same on both), and the fixture
// holds a link stamped e0.
// Shipped: the link replays on e0's engine, bit for bit, with a quiet note. Not shipped (the
// dev server ships only the current engine): a plain warning and an offer of the current one.
import { execFileSync, spawn } from 'node:child_process';
import { createServer as createHttpServer } from 'node:http';
import { createServer } from 'node:net';
import { copyFileSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { expect, screenshot, test } from './helpers.js';

const SITES = 'target/e2e-sites';
const BASE = '/course/faultline/';
let ORIGIN;
const [, E0_LINK, E0_HASH] = readFileSync('tests/fixtures/links-e0.tsv', 'utf8')
  .split('\n').find((l) => l && !l.startsWith('#')).split('\t');
const E0_TEXT = E0_LINK.replace(/^#s=/, '');
let server;

const xtask = (...args) => execFileSync('cargo', ['xtask', ...args], { encoding: 'utf8', stdio: 'pipe' });

/** Builds the site: a plain dist, an e0 engine kept beside it, then the dist that ships both. */
function buildSite() {
  rmSync(SITES, { recursive: true, force: true });
  xtask('dist', '--no-build', '--out', `${SITES}/plain`);
  const plain = JSON.parse(readFileSync(`${SITES}/plain/pkg/manifest.json`, 'utf8'));
  const e1 = plain.engines.find((e) => e.epoch === plain.current);
  mkdirSync(`${SITES}/kept/e0`, { recursive: true });
  copyFileSync(`${SITES}/plain/pkg/${e1.glue}`, `${SITES}/kept/e0/faultline.js`);
  copyFileSync(`${SITES}/plain/pkg/${e1.wasm}`, `${SITES}/kept/e0/faultline_bg.wasm`);
  const kept = { current: 0, engines: [{ epoch: 0, glue: 'e0/faultline.js', wasm: 'e0/faultline_bg.wasm' }] };
  writeFileSync(`${SITES}/kept/manifest.json`, JSON.stringify(kept));
  const out = xtask('dist', '--no-build', '--out', `${SITES}/site${BASE}`, '--keep-engines', `${SITES}/kept`);
  expect(out).toContain('keeping engine e0');
  // A course page inside the site, embedding the old link as an element.
  writeFileSync(`${SITES}/site${BASE}examples/old-link.html`, `<!doctype html><meta charset="utf-8"><title>old link</title>
<script type="module" src="../www/embed/faultline-sim.js"></script>
<faultline-sim id="old" scenario="${E0_TEXT}" controls="minimal" height="300px"></faultline-sim>`);
}

/** A port nothing listens on now. */
function freePort() {
  return new Promise((done, fail) => {
    const probe = createServer().once('error', fail);
    probe.listen(0, '127.0.0.1', () => { const { port } = probe.address(); probe.close(() => done(port)); });
  });
}

async function waitForServer() {
  for (let i = 0; i < 100; i++) {
    try {
      if ((await fetch(`${ORIGIN}${BASE}`)).ok) return;
    } catch { /* not yet */ }
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error(`the site server on ${ORIGIN} did not start`);
}

test.describe.configure({ mode: 'serial' });

test.beforeAll(async () => {
  test.setTimeout(180_000);
  buildSite();
  const port = await freePort();
  ORIGIN = `http://127.0.0.1:${port}`;
  // Its own process group, so that stopping it stops cargo's child, the server, too.
  server = spawn('cargo', ['xtask', 'serve', '--no-build', '--port', String(port), '--dir', `${SITES}/site`], { stdio: 'ignore', detached: true });
  await waitForServer();
});

test.afterAll(() => { if (server) process.kill(-server.pid); });

test('dist: stable entries, content-hashed engine files and a manifest of the shipped epochs', async () => {
  const manifest = JSON.parse(readFileSync(`${SITES}/site${BASE}pkg/manifest.json`, 'utf8'));
  expect(manifest.engines.map((e) => e.epoch)).toEqual([manifest.current, 0]);
  const current = manifest.engines[0];
  expect(current.glue).toMatch(new RegExp(`^e${manifest.current}/faultline\\.[0-9a-f]{16}\\.js$`));
  expect(current.wasm).toMatch(new RegExp(`^e${manifest.current}/faultline_bg\\.[0-9a-f]{16}\\.wasm$`));
  for (const entry of ['index.html', 'www/embed/faultline-sim.js', 'www/sim.js']) {
    expect((await fetch(`${ORIGIN}${BASE}${entry}`)).status, entry).toBe(200);
  }
  expect((await fetch(`${ORIGIN}${BASE}pkg/faultline.js`)).status, 'no unhashed glue').toBe(404);
  const wasm = await fetch(`${ORIGIN}${BASE}pkg/${current.wasm}`);
  expect(wasm.headers.get('content-type')).toBe('application/wasm');
  expect(wasm.headers.get('access-control-allow-origin')).toBe('*');
  // For hosts that read it (Netlify, Cloudflare Pages): CORS on every file.
  expect(readFileSync(`${SITES}/site${BASE}_headers`, 'utf8')).toMatch(/^\/\*\n {2}Access-Control-Allow-Origin: \*$/m);
});

test('a site under a sub-path: the page and the course page load their engine relative to themselves', async ({ page }) => {
  const errors = [];
  const requested = [];
  page.on('pageerror', (e) => errors.push(e.message));
  page.on('request', (r) => requested.push(new URL(r.url()).pathname));
  await page.goto(`${ORIGIN}${BASE}`);
  await page.waitForSelector('body[data-ready="1"]');
  expect(requested.filter((p) => p.endsWith('.wasm'))).toEqual([expect.stringMatching(/^\/course\/faultline\/pkg\/e\d+\/faultline_bg\.[0-9a-f]{16}\.wasm$/)]);
  await page.goto(`${ORIGIN}${BASE}examples/course-page.html`);
  const sims = page.locator('faultline-sim');
  await expect(sims).toHaveCount(3);
  for (let i = 0; i < 3; i++) await expect(sims.nth(i)).toHaveAttribute('data-ready', '1');
  expect(requested.every((p) => p.startsWith(BASE)), requested.join(' ')).toBe(true);
  expect(errors).toEqual([]);
});

test('an old-epoch link replays on its own engine, bit for bit, in the page and in the CLI', async ({ page }) => {
  const requested = [];
  page.on('request', (r) => requested.push(new URL(r.url()).pathname));
  await page.goto(`${ORIGIN}${BASE}${E0_LINK}`);
  await page.waitForSelector('body[data-ready="1"]');
  await expect(page.locator('#note')).toContainText('made with engine e0; replayed with e0');
  await expect(page.locator('#epoch-warning')).toBeHidden();
  expect(requested).toContain(`${BASE}pkg/e0/faultline_bg.wasm`);
  expect(await page.evaluate(() => window.faultline.sim.epoch)).toBe(0);
  expect(await page.evaluate(() => window.faultline.sim.traceHash())).toBe(E0_HASH);
  await screenshot(page, 'epoch-shipped-page');
  await page.click('#export-menu > summary');
  const [png] = await Promise.all([page.waitForEvent('download'), page.click('#export-png')]);
  expect(png.suggestedFilename()).toMatch(/-3000ms-e0\.png$/);

  const cli = process.env.FAULTLINE_CLI || 'target/release/faultline';
  const out = execFileSync(cli, ['run', '--scenario-url', E0_LINK, '--trace-hash'], { encoding: 'utf8', stdio: 'pipe' });
  expect(out.trim().split('\n').pop()).toBe(E0_HASH);

  await page.goto(`${ORIGIN}${BASE}examples/old-link.html`);
  const old = page.locator('#old');
  await expect(old).toHaveAttribute('data-ready', '1');
  await expect(old).toHaveAttribute('data-engine-note', 'made with engine e0; replayed with e0');
  expect(await old.evaluate((e) => e.traceHash())).toBe(E0_HASH);
  await old.screenshot({ path: 'tests/e2e/screenshots/epoch-shipped-element.png' });
});

test('where the epoch is not shipped, the page and the element say so and offer the current engine', async ({ page }) => {
  await page.goto(`/${E0_LINK}`); // the dev server ships only the current engine
  await page.waitForSelector('body[data-ready="1"]');
  const warning = page.locator('#epoch-warning');
  await expect(warning).toBeVisible();
  await expect(warning.locator('.text')).toContainText('made with engine e0, which this site does not ship');
  await expect(warning.locator('.text')).toContainText('may replay it differently');
  await screenshot(page, 'epoch-not-shipped-page');
  const current = await page.evaluate(() => window.faultline.sim.epoch);
  await warning.locator('button.replay').click();
  await expect(warning).toBeHidden();
  await expect(page.locator('#note')).toContainText(`Replayed with engine e${current}; made with e0`);
  expect(await page.evaluate(() => window.faultline.timeMs)).toBe(3000);
  // Here e0 is a copy of the current engine, so the offered replay happens to match.
  expect(await page.evaluate(() => window.faultline.sim.traceHash())).toBe(E0_HASH);

  await page.evaluate(async (link) => {
    await import('/www/embed/faultline-sim.js');
    const el = document.createElement('faultline-sim');
    el.id = 'old';
    el.setAttribute('scenario', link);
    el.setAttribute('height', '300px');
    document.body.prepend(el);
  }, E0_TEXT);
  const old = page.locator('#old');
  await expect(old).toHaveAttribute('data-epoch-warning', /does not ship/);
  await old.screenshot({ path: 'tests/e2e/screenshots/epoch-not-shipped-element.png' });
  await old.locator('.offer button').click();
  await expect(old).not.toHaveAttribute('data-epoch-warning', /.*/);
  expect(await old.evaluate((e) => e.traceHash())).toBe(E0_HASH);
});

test('a course page on another origin embeds the published site, old link and all', async ({ page }) => {
  const course = createHttpServer((req, res) => {
    res.writeHead(200, { 'Content-Type': 'text/html; charset=utf-8' });
    res.end(`<!doctype html><meta charset="utf-8"><title>Week 7</title>
<script type="module" src="${ORIGIN}${BASE}www/embed/faultline-sim.js"></script>
<faultline-sim id="now" scenario="raft-one-leader" autoplay height="240px"></faultline-sim>
<faultline-sim id="old" scenario="${E0_TEXT}" height="240px"></faultline-sim>`);
  });
  await new Promise((done) => course.listen(0, '127.0.0.1', done));
  try {
    const errors = [];
    page.on('pageerror', (e) => errors.push(e.message));
    await page.goto(`http://127.0.0.1:${course.address().port}/week7.html`);
    const [now, old] = [page.locator('#now'), page.locator('#old')];
    await expect(old).toHaveAttribute('data-engine-note', 'made with engine e0; replayed with e0');
    expect(await old.evaluate((e) => e.traceHash())).toBe(E0_HASH);
    await expect.poll(() => now.evaluate((e) => e.timeMs)).toBeGreaterThan(300);
    expect(errors).toEqual([]);
  } finally {
    await new Promise((done) => course.close(done));
  }
});
