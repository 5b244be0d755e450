/** The HTTP layer: authentication headers, Backoff and Retry-After, the server's error format. */
import assert from "node:assert/strict";
import { createServer, type IncomingHttpHeaders, type Server } from "node:http";
import { after, before, describe, test } from "node:test";

import * as kinto from "../src/index.js";
import { basic, call, startKinto, type RunningServer } from "./servers.js";

/** A scripted HTTP server: each request gets the next answer of the script (the last one repeats). */
async function scriptedServer(script: { status: number; headers?: Record<string, string>; body?: unknown }[]) {
  const seen: IncomingHttpHeaders[] = [];
  const server: Server = createServer((request, response) => {
    seen.push(request.headers);
    const answer = script[Math.min(seen.length - 1, script.length - 1)];
    response.writeHead(answer.status, { "Content-Type": "application/json", ...answer.headers });
    response.end(JSON.stringify(answer.body ?? {}));
  });
  await new Promise<void>((listening) => server.listen(0, "127.0.0.1", listening));
  const address = server.address();
  const port = typeof address === "object" && address ? address.port : 0;
  return { url: `http://127.0.0.1:${port}/v1`, seen, close: () => new Promise((closed) => server.close(closed)) };
}

const UNAVAILABLE = { code: 503, errno: 201, error: "Service Unavailable", message: "Try again later" };

describe("authentication and headers", () => {
  const cases: [string, kinto.Auth, string][] = [
    ["Basic, UTF-8 credentials", { type: "basic", username: "zoë", password: "pässword" }, `Basic ${Buffer.from("zoë:pässword").toString("base64")}`],
    ["Bearer (FxA/OpenID tokens)", { type: "bearer", token: "abc.def" }, "Bearer abc.def"],
    ["another token scheme", { type: "bearer", token: "xyz", scheme: "Portier" }, "Portier xyz"],
    ["a ready header value", "Custom 42", "Custom 42"],
  ];
  for (const [name, auth, expected] of cases) {
    test(`${name} is sent as Authorization: ${expected}`, async () => {
      const server = await scriptedServer([{ status: 200, body: {} }]);
      try {
        await new kinto.Client({ server: server.url, auth }).serverInfo();
        assert.equal(server.seen[0].authorization, expected);
      } finally {
        await server.close();
      }
    });
  }

  test("custom headers go with every request", async () => {
    const server = await scriptedServer([{ status: 200, body: {} }]);
    try {
      await new kinto.Client({ server: server.url, headers: { "X-Client": "tests" } }).serverInfo();
      assert.equal(server.seen[0]["x-client"], "tests");
    } finally {
      await server.close();
    }
  });
});

describe("Retry-After", () => {
  test("a 503 with Retry-After is tried again after the wait, as many times as `retries`", async () => {
    const server = await scriptedServer([
      { status: 503, headers: { "Retry-After": "1" }, body: UNAVAILABLE },
      { status: 200, body: { project_name: "scripted" } },
    ]);
    try {
      const client = new kinto.Client({ server: server.url, retries: 1 });
      assert.equal((await client.serverInfo()).project_name, "scripted");
      assert.equal(server.seen.length, 2);
    } finally {
      await server.close();
    }
  });

  test("without retries the error carries Retry-After, and sync() waits for it", async () => {
    const server = await scriptedServer([{ status: 503, headers: { "Retry-After": "30" }, body: UNAVAILABLE }]);
    try {
      const client = new kinto.Client({ server: server.url });
      const articles = client.resource("/articles");
      const error = await articles.sync().catch((caught: unknown) => caught);
      assert.ok(error instanceof kinto.ServerError);
      assert.equal(error.status, 503);
      assert.equal(error.errno, 201);
      assert.equal(error.retryAfter, 30);
      await assert.rejects(articles.sync(), kinto.BackoffError);
      assert.equal(server.seen.length, 1, "no request while backing off");
    } finally {
      await server.close();
    }
  });
});

describe("Backoff from our server", () => {
  let server: RunningServer;
  before(async () => {
    server = await startKinto({ "kinto.backoff": "60" });
    await call(`${server.url}/buckets/b`, "PUT", "alice");
    await call(`${server.url}/buckets/b/collections/c`, "PUT", "alice");
  });
  after(() => server.stop());

  test("the next sync is refused until the delay is over, unless told to ignore it", async () => {
    const client = new kinto.Client({ server: server.url, auth: basic("alice") });
    const backoffs: number[] = [];
    client.events.on("backoff", ({ until }) => backoffs.push(until));
    const records = client.bucket("b").collection("c");
    await records.create({ title: "one" });

    assert.equal((await records.sync()).ok, true);
    assert.ok(backoffs.length > 0 && backoffs.every((until) => until > Date.now() + 30_000));
    const refused = await records.sync().catch((caught: unknown) => caught);
    assert.ok(refused instanceof kinto.BackoffError);
    assert.ok(refused.until > Date.now() + 30_000);
    assert.equal((await records.sync({ ignoreBackoff: true })).ok, true);
  });
});
