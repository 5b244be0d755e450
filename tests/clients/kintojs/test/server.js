// A real `kinto start` for kinto.js to sync with: `kinto init` in a temporary folder, one account
// per user made with `kinto create-user`, then the server on a free port.
//
// KINTO names the `kinto` executable (default: the first on PATH, where nox puts the session's).
// KINTO_INIT_ARGS adds arguments to `kinto init` (Kinto 26.5.0's own asks for a backend unless it gets
// `--backend`); the environment is passed on, so `KINTO_STORAGE_URL`-style overrides reach the server.
// Against Kinto 26.5.0 itself (its memory backend would lose the accounts `kinto create-user` makes):
//   KINTO=/path/to/kinto-26.5.0/bin/kinto KINTO_INIT_ARGS="--backend postgresql --cache-backend memory" \
//   KINTO_STORAGE_URL=postgresql://postgres@127.0.0.1/db KINTO_PERMISSION_URL=postgresql://postgres@127.0.0.1/db npm test
import { spawn, spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, openSync, closeSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";

const KINTO = process.env.KINTO || "kinto";
const INIT_ARGS = (process.env.KINTO_INIT_ARGS || "").split(/\s+/).filter(Boolean);
const READY_WITHIN_MS = 60_000;

function run(folder, args) {
  const result = spawnSync(KINTO, args, { cwd: folder, encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] });
  if (result.error) {
    throw new Error(`${KINTO} ${args.join(" ")}: ${result.error.message}`);
  }
  if (result.status !== 0) {
    throw new Error(`${KINTO} ${args.join(" ")} exited with ${result.status}:\n${result.stdout}${result.stderr}`);
  }
}

function freePort() {
  return new Promise((resolve, reject) => {
    const probe = createServer();
    probe.once("error", reject);
    probe.listen(0, "127.0.0.1", () => {
      const { port } = probe.address();
      probe.close(() => resolve(port));
    });
  });
}

async function waitReady(url, child, logPath) {
  const deadline = Date.now() + READY_WITHIN_MS;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) {
      throw new Error(`kinto start exited with ${child.exitCode}:\n${readFileSync(logPath, "utf8").slice(-3000)}`);
    }
    try {
      const answer = await fetch(`${url}/__heartbeat__`);
      if (answer.status === 200) {
        return;
      }
    } catch {
      // Not listening yet.
    }
    await sleep(200);
  }
  throw new Error(`kinto start not ready after ${READY_WITHIN_MS} ms:\n${readFileSync(logPath, "utf8").slice(-3000)}`);
}

/**
 * Start a server with an account per entry of `users` ({name: password}).
 * Resolves to {url, folder, stop()}; `url` ends with `/v1`.
 */
export async function startServer(users) {
  const folder = mkdtempSync(join(tmpdir(), "kintojs-sync-"));
  const ini = join(folder, "kinto.ini");
  run(folder, ["init", "--ini", ini, ...INIT_ARGS]);
  run(folder, ["migrate", "--ini", ini]);
  for (const [name, password] of Object.entries(users)) {
    run(folder, ["create-user", "--ini", ini, "--username", name, "--password", password]);
  }
  const port = await freePort();
  const logPath = join(folder, "server.log");
  const log = openSync(logPath, "w");
  // Its own process group, so that stopping it stops the workers too.
  const child = spawn(KINTO, ["start", "--ini", ini, "--port", String(port)], {
    cwd: folder,
    stdio: ["ignore", log, log],
    detached: true,
  });
  closeSync(log);
  const url = `http://127.0.0.1:${port}/v1`;
  try {
    await waitReady(url, child, logPath);
  } catch (error) {
    stopGroup(child);
    throw error;
  }
  return {
    url,
    folder,
    async stop({ keepFolder = false } = {}) {
      const exited = new Promise((resolve) => (child.exitCode === null ? child.once("exit", resolve) : resolve()));
      stopGroup(child);
      // An unreferenced timer: once the server is gone, nothing waits for it.
      const tooLong = sleep(15_000, undefined, { ref: false }).then(() => stopGroup(child, "SIGKILL"));
      await Promise.race([exited, tooLong]);
      if (!keepFolder) {
        rmSync(folder, { recursive: true, force: true });
      }
    },
  };
}

function stopGroup(child, signal = "SIGTERM") {
  try {
    process.kill(-child.pid, signal);
  } catch {
    // Already gone.
  }
}
