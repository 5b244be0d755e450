/**
 * Real servers for the tests: our Kinto-API server (`kinto init` + `kinto start`, SQLite in a
 * temporary folder) and the `examples/myproject` kinto.core app (`pserve development.ini`).
 * The `kinto` and `pserve` commands are found on PATH (nox puts its session's first), or named by
 * KINTO_COMMAND / PSERVE_COMMAND.
 */
import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import { mkdtempSync, mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

const PACKAGE_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), "..", "..");
const REPOSITORY_ROOT = resolve(PACKAGE_ROOT, "..", "..");
const KINTO = process.env.KINTO_COMMAND ?? "kinto";
const PSERVE = process.env.PSERVE_COMMAND ?? "pserve";

export interface RunningServer {
  /** The server's root, `http://127.0.0.1:<port>/v1`. */
  url: string;
  stop(): Promise<void>;
  /** Output of the process so far, for failure messages. */
  log(): string;
}

export async function freePort(): Promise<number> {
  return new Promise((resolvePort, reject) => {
    const server = createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const address = server.address();
      server.close(() => resolvePort(typeof address === "object" && address ? address.port : 0));
    });
  });
}

/**
 * Our server on SQLite with Basic Auth (any user:password is a user), the flush endpoint, and
 * `settings` added to `[app:main]` (e.g. `{"kinto.paginate_by": "5"}`).
 */
export async function startKinto(settings: Record<string, string> = {}): Promise<RunningServer> {
  const folder = mkdtempSync(join(tmpdir(), "js-client-kinto-"));
  const ini = join(folder, "kinto.ini");
  const init = spawnSync(KINTO, ["init", "--ini", ini, "--backend", "sqlite", "--auth", "basicauth"], { cwd: folder, encoding: "utf8" });
  if (init.status !== 0) throw new Error(`${KINTO} init failed (is the kinto command on PATH?): ${init.error ?? init.stderr}`);
  const extra = Object.entries({ "kinto.includes": "kinto.plugins.default_bucket kinto.plugins.flush", ...settings })
    .map(([key, value]) => `${key} = ${value}`)
    .join("\n");
  const text = readFileSync(ini, "utf8").replace(/^kinto\.includes = .*(\n[ \t]+.*)*$/m, "").replace(/^\[app:main\]$/m, `[app:main]\n${extra}`);
  writeFileSync(ini, text);
  const port = await freePort();
  const child = spawn(KINTO, ["start", "--ini", ini, "--port", String(port)], { cwd: folder, stdio: ["ignore", "pipe", "pipe"] });
  return watch(child, `http://127.0.0.1:${port}/v1`, folder);
}

/** examples/myproject as its README serves it, on a free port, its data in a temporary folder. */
export async function startMyProject(): Promise<RunningServer> {
  const folder = mkdtempSync(join(tmpdir(), "js-client-myproject-"));
  mkdirSync(join(folder, "data"));
  const port = await freePort();
  const ini = readFileSync(join(REPOSITORY_ROOT, "examples", "myproject", "development.ini"), "utf8");
  writeFileSync(join(folder, "development.ini"), ini.replace(/^port = \d+$/m, `port = ${port}`));
  const child = spawn(PSERVE, [join(folder, "development.ini")], { cwd: folder, stdio: ["ignore", "pipe", "pipe"] });
  return watch(child, `http://127.0.0.1:${port}/v1`, folder);
}

async function watch(child: ChildProcess, url: string, folder: string): Promise<RunningServer> {
  let output = "";
  child.stdout?.on("data", (chunk) => (output += chunk));
  child.stderr?.on("data", (chunk) => (output += chunk));
  const exited = new Promise<void>((resolveExit) => child.once("exit", () => resolveExit()));
  const server: RunningServer = {
    url,
    log: () => output,
    async stop() {
      if (child.exitCode === null) child.kill("SIGTERM");
      await exited;
      rmSync(folder, { recursive: true, force: true });
    },
  };
  for (let attempt = 0; attempt < 300; attempt++) {
    if (child.exitCode !== null) throw new Error(`the server exited (${child.exitCode}):\n${output}`);
    try {
      const response = await fetch(`${url}/`);
      if (response.ok) return server;
    } catch {
      // Not listening yet.
    }
    await new Promise((wait) => setTimeout(wait, 100));
  }
  await server.stop();
  throw new Error(`the server did not answer at ${url} within 30 s:\n${output}`);
}

/** Basic Auth credentials of a user of these servers (any password makes a user). */
export function basic(username: string) {
  return { type: "basic" as const, username, password: "secret" };
}

/** An HTTP request to the server outside the client under test (setting up, checking). */
export async function call(url: string, method: string, auth: string, body?: unknown): Promise<{ status: number; body: any; headers: Headers }> {
  const response = await fetch(url, {
    method,
    headers: { Authorization: `Basic ${btoa(`${auth}:secret`)}`, ...(body ? { "Content-Type": "application/json" } : {}) },
    body: body ? JSON.stringify(body) : undefined,
  });
  const text = await response.text();
  return { status: response.status, body: text ? JSON.parse(text) : undefined, headers: response.headers };
}
