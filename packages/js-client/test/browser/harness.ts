/**
 * A real headless Chromium for the browser tests: Debian's `chromium` (or `CHROMIUM_PATH`)
 * driven by playwright-core, which downloads no browser of its own. The page is served by a
 * small HTTP server of the tests, on an origin other than the Kinto server's (so requests are
 * cross-origin, as for an application), and loads:
 * - `/kinto-client.js`: the package's `<script>` bundle (`npm run bundle`), global `kinto`;
 * - `/kinto-js.js`: kinto.js 17.1.1's own browser build, global `Kinto` (the reference);
 * - `/page.js`: test/browser/page.ts bundled by esbuild (the store contract, global `contract`).
 */
import { accessSync, constants, readFileSync } from "node:fs";
import { createServer, type Server } from "node:http";
import { dirname, resolve } from "node:path";
import { fileURLToPath } from "node:url";

import { build } from "esbuild";
import { chromium, type Browser, type Page } from "playwright-core";

const PACKAGE_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), "..", "..", "..");
const CHROMIUM = process.env.CHROMIUM_PATH ?? "/usr/bin/chromium";

export interface BrowserSession {
  browser: Browser;
  /** The test page's address. */
  origin: string;
  /** A new tab on the test page, its scripts loaded (each tab of a session shares IndexedDB with the others). */
  newPage(): Promise<Page>;
  /** Errors the pages reported (uncaught exceptions, console errors). */
  errors: string[];
  close(): Promise<void>;
}

async function pageBundle(): Promise<string> {
  const result = await build({
    entryPoints: [resolve(PACKAGE_ROOT, "test", "browser", "page.ts")],
    bundle: true,
    format: "iife",
    target: "es2020",
    write: false,
    logLevel: "silent",
  });
  return result.outputFiles[0].text;
}

function files(): Map<string, () => Promise<string> | string> {
  const read = (path: string) => () => readFileSync(resolve(PACKAGE_ROOT, path), "utf8");
  const page = pageBundle();
  return new Map<string, () => Promise<string> | string>([
    ["/", () => '<!doctype html><meta charset="utf-8"><title>js-client tests</title><link rel="icon" href="data:,">' +
      '<script src="/kinto-client.js"></script><script src="/kinto-js.js"></script><script src="/page.js"></script>'],
    ["/kinto-client.js", read("dist/kinto-client.js")],
    ["/kinto-js.js", read("node_modules/kinto/dist/kinto.js")],
    ["/page.js", () => page],
  ]);
}

function serve(routes: Map<string, () => Promise<string> | string>): Promise<Server> {
  const server = createServer(async (request, response) => {
    const route = routes.get(new URL(request.url ?? "/", "http://localhost").pathname);
    if (!route) {
      response.writeHead(404).end();
      return;
    }
    try {
      const body = await route();
      const type = request.url === "/" ? "text/html" : "text/javascript";
      response.writeHead(200, { "Content-Type": `${type}; charset=utf-8`, "Cache-Control": "no-store" }).end(body);
    } catch (error) {
      response.writeHead(500, { "Content-Type": "text/plain" }).end(String(error));
    }
  });
  return new Promise((resolveServer) => server.listen(0, "127.0.0.1", () => resolveServer(server)));
}

export async function openBrowser(): Promise<BrowserSession> {
  try {
    accessSync(CHROMIUM, constants.X_OK);
  } catch {
    throw new Error(`No Chromium at ${CHROMIUM}: install Debian's chromium (apt-get install chromium) or set CHROMIUM_PATH`);
  }
  try {
    accessSync(resolve(PACKAGE_ROOT, "dist", "kinto-client.js"));
  } catch {
    throw new Error("dist/kinto-client.js is missing: run `npm run bundle` first");
  }
  const server = await serve(files());
  const address = server.address();
  const origin = `http://127.0.0.1:${typeof address === "object" && address ? address.port : 0}`;
  const browser = await chromium.launch({ executablePath: CHROMIUM, headless: true });
  const context = await browser.newContext();
  const errors: string[] = [];
  return {
    browser,
    origin,
    errors,
    async newPage() {
      const page = await context.newPage();
      page.on("pageerror", (error) => errors.push(`pageerror: ${error.message}`));
      page.on("console", (message) => {
        if (message.type() === "error") errors.push(`console: ${message.text()}`);
      });
      await page.goto(`${origin}/`);
      await page.waitForFunction(() => "kinto" in window && "Kinto" in window && "contract" in window);
      return page;
    },
    async close() {
      await browser.close();
      await new Promise((done) => server.close(done));
    },
  };
}
