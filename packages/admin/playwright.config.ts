import { defineConfig } from "@playwright/test";

const port = process.env.KINTO_ADMIN_TEST_PORT ?? "18923";
/** The server of the OpenID test (tests/openid_server.py: a provider stand-in beside it). */
export const openidPort = process.env.KINTO_ADMIN_TEST_OPENID_PORT ?? String(Number(port) + 1);

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
  webServer: [
    {
      // ``exec``: the shell becomes the server, so that stopping it stops the server itself.
      command: 'exec "${KINTO_BIN:-kinto}" start --ini "$(node tests/server-ini.mjs)"',
      url: `http://127.0.0.1:${port}/v1/__heartbeat__`,
      gracefulShutdown: { signal: "SIGTERM", timeout: 10_000 },
      reuseExistingServer: false,
      timeout: 60_000,
      stdout: "ignore",
      stderr: "pipe",
    },
    {
      command: `exec python tests/openid_server.py ${openidPort}`,
      url: `http://127.0.0.1:${openidPort}/v1/__heartbeat__`,
      gracefulShutdown: { signal: "SIGTERM", timeout: 10_000 },
      reuseExistingServer: false,
      timeout: 60_000,
      stdout: "ignore",
      stderr: "pipe",
    },
  ],
});
