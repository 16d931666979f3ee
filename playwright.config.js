// Browser end-to-end tests: Playwright driving Debian's Chromium (Playwright's own browser
// downloads cannot work here). `cargo xtask test` builds pkg/ and the native CLI first, then
// runs `npx playwright test` with CHROMIUM_PATH and FAULTLINE_CLI set.
import { defineConfig } from '@playwright/test';

const PORT = 8123;

export default defineConfig({
  testDir: 'tests/e2e',
  outputDir: 'test-results',
  timeout: 60_000,
  workers: 2,
  retries: 0,
  forbidOnly: !!process.env.CI,
  reporter: 'list',
  // Input-latency tests run after everything else, one file at a time: on a 2-core machine
  // a CPU-heavy file in the other worker (native = wasm over 1,175 runs, the engine
  // benchmark) would measure the machine, not the page.
  projects: [
    { name: 'main', testIgnore: /responsive\.spec\.js/ },
    { name: 'latency', testMatch: /responsive\.spec\.js/, dependencies: ['main'], workers: 1 },
  ],
  use: {
    baseURL: `http://127.0.0.1:${PORT}`,
    headless: true,
    screenshot: 'only-on-failure',
    launchOptions: {
      executablePath: process.env.CHROMIUM_PATH || '/usr/bin/chromium',
      // Playwright supplies its own temporary --user-data-dir.
      args: [
        '--headless',
        '--no-sandbox',
        '--disable-gpu',
        '--disable-quic',
        '--no-first-run',
        '--disable-background-networking',
        '--disable-component-update',
        '--disable-sync',
      ],
    },
  },
  webServer: {
    // The xtask server sends the right MIME types (application/wasm, text/javascript).
    // --no-build: `cargo xtask test` has just built pkg/; run `cargo xtask build` first
    // when calling `npx playwright test` by hand.
    command: `cargo xtask serve --no-build --port ${PORT}`,
    url: `http://127.0.0.1:${PORT}/`,
    reuseExistingServer: !process.env.CI,
    timeout: 120_000,
    stdout: 'ignore',
    stderr: 'pipe',
  },
});
