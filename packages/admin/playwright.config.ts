import { defineConfig } from "@playwright/test";

const port = process.env.KINTO_ADMIN_TEST_PORT ?? "18923";

/**
 * The browser tests: Debian's Chromium (``apt-get install chromium``; $CHROMIUM_PATH to use
 * another build), headless, against a live ``kinto start`` of our server (from PATH, or $KINTO_BIN;
 * its ini is written by tests/server-ini.mjs).
 * Playwright downloads no browser here.
 */
export default defineConfig({
  testDir: "tests",
  // One browser at a time: the machines have two cores, and the tests share one server.
  workers: 1,
  fullyParallel: false,
  retries: 0,
  timeout: 60_000,
  expect: { timeout: 10_000 },
  reporter: [["list"]],
  use: {
    baseURL: `http://127.0.0.1:${port}/v1/admin/`,
    browserName: "chromium",
    headless: true,
    launchOptions: { executablePath: process.env.CHROMIUM_PATH ?? "/usr/bin/chromium" },
    viewport: { width: 1280, height: 800 },
    trace: "off",
  },
  webServer: {
    // ``exec``: the shell becomes the server, so that stopping it stops the server itself.
    command: 'exec "${KINTO_BIN:-kinto}" start --ini "$(node tests/server-ini.mjs)"',
    gracefulShutdown: { signal: "SIGTERM", timeout: 10_000 },
    url: `http://127.0.0.1:${port}/v1/__heartbeat__`,
    reuseExistingServer: false,
    timeout: 60_000,
    stdout: "ignore",
    stderr: "pipe",
  },
});
