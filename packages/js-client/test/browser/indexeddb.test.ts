/**
 * In a real headless Chromium (harness.ts): the store contract over IndexedDBStore, what only
 * IndexedDB does (indexes, upgrades, persistence), and a sync scenario against our server run
 * twice, by this client's `<script>` bundle and by kinto.js 17.1.1, the reference.
 */
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";

import type * as KintoClient from "../../src/index.js";
import { basic, call, startKinto, type RunningServer } from "../servers.js";
import { storeContract } from "../store-contract.js";
import type { Page } from "playwright-core";

import { openBrowser, type BrowserSession } from "./harness.js";

// The globals of the test page.
declare const kinto: typeof KintoClient;
// kinto.js's browser build: its classes, as the page sees them.
declare const Kinto: { default: new (options: Record<string, unknown>) => any };
declare const contract: { run(name: string): Promise<void> };

let session: BrowserSession;

before(async () => {
  session = await openBrowser();
});
after(async () => {
  await session?.close();
  assert.deepEqual(session?.errors ?? [], [], "the pages reported no error");
});

describe("IndexedDBStore in Chromium: the store contract", () => {
  // One page for every case: each case opens databases of its own and deletes them.
  let page: Page;
  before(async () => {
    page = await session.newPage();
  });
  after(() => page?.close());
  for (const contractCase of storeContract) {
    test(contractCase.name, () => page.evaluate((name) => contract.run(name), contractCase.name));
  }
});

describe("IndexedDBStore in Chromium", () => {
  test("filters on declared fields, on last_modified and the pending changes read an index; other filters scan", async () => {
    const page = await session.newPage();
    const plans = await page.evaluate(async () => {
      const store = new kinto.IndexedDBStore({ name: `plans-${Date.now()}`, indexes: ["done", "author.name"] });
      const plans = await Promise.all([
        store.explain({ filters: { done: true } }),
        store.explain({ filters: { "author.name": { $in: ["Ann", "Bob"] } } }),
        store.explain({ filters: { last_modified: { $gt: 10 } } }),
        store.explain({ status: ["created", "updated", "deleted"] }),
        store.explain({ filters: { title: "Hello", done: { $ne: true } } }),
        store.explain({ filters: { done: [true] } }),
      ]);
      await store.close();
      return plans.map((plan) => (plan.using === "index" ? `index ${plan.field} ${plan.ranges.length}` : plan.using));
    });
    await page.close();
    assert.deepEqual(plans, ["index done 1", "index author.name 2", "index last_modified 1", "status", "scan", "scan"]);
  });

  test("declaring a field later indexes the records stored before", async () => {
    const page = await session.newPage();
    const outcome = await page.evaluate(async () => {
      const name = `later-${Date.now()}`;
      const before = new kinto.IndexedDBStore({ name });
      await before.apply("ns", {
        put: [
          { id: "a", _status: "synced", title: "Hello" },
          { id: "b", _status: "synced", title: "Bye" },
        ],
      });
      const plannedBefore = (await before.explain({ filters: { title: "Hello" } })).using;
      // Still open: the upgrade asks it to close, and it reconnects on its next call.
      const after = new kinto.IndexedDBStore({ name, indexes: ["title"] });
      const found = (await after.list("ns", { filters: { title: "Hello" } })).map((record) => record.id);
      const plannedAfter = await after.explain({ filters: { title: "Hello" } });
      await before.apply("ns", { put: [{ id: "c", _status: "created", title: "Hello" }] });
      const foundLater = (await after.list("ns", { filters: { title: "Hello" } })).map((record) => record.id).sort();
      await before.close();
      await after.close();
      return { plannedBefore, found, plannedAfter: plannedAfter.using, foundLater };
    });
    await page.close();
    // The first store, not declaring `title`, kept the index up to date once it existed.
    assert.deepEqual(outcome, { plannedBefore: "scan", found: ["a"], plannedAfter: "index", foundLater: ["a", "c"] });
  });

  test("records persist across page loads", async () => {
    const name = `persist-${Date.now()}`;
    const first = await session.newPage();
    await first.evaluate(async (name) => {
      const store = new kinto.IndexedDBStore({ name, indexes: ["title"] });
      await store.apply("ns", { put: [{ id: "kept", _status: "created", title: "Hello" }], meta: { lastModified: 42 } });
      await store.close();
    }, name);
    await first.close();
    const second = await session.newPage();
    const read = await second.evaluate(async (name) => {
      const store = new kinto.IndexedDBStore({ name, indexes: ["title"] });
      const result = { records: await store.list("ns", { filters: { title: "Hello" } }), lastModified: await store.getMeta("ns", "lastModified") };
      await store.close();
      return result;
    }, name);
    await second.close();
    assert.deepEqual(read, { records: [{ id: "kept", _status: "created", title: "Hello" }], lastModified: 42 });
  });
});

/** What a device holds after the scenario, and the server: comparable between the two clients. */
interface ScenarioOutcome {
  conflicts: { type: string; local: string; remote: string }[];
  deviceA: string[];
  deviceB: string[];
}

describe("sync in Chromium against our server", () => {
  let server: RunningServer;
  before(async () => {
    server = await startKinto({ "kinto.paginate_by": "2" });
    await call(`${server.url}/buckets/notes`, "PUT", "alice");
  });
  after(() => server?.stop());

  /** A fresh collection; the records the server holds at the end, as `id title` lines. */
  async function collection(name: string) {
    await call(`${server.url}/buckets/notes/collections/${name}`, "PUT", "alice");
    return async () => {
      const listed = await call(`${server.url}/buckets/notes/collections/${name}/records?_sort=title`, "GET", "alice");
      return listed.body.data.map((record: { title: string }) => record.title);
    };
  }

  // Two devices of alice: A writes three notes and syncs, B syncs; offline, A edits notes 1
  // and 2, B edits note 1 and deletes note 3; A syncs, B syncs and meets one conflict, which
  // it resolves by merging both titles; B syncs, then A syncs.
  const expected: ScenarioOutcome = {
    conflicts: [{ type: "incoming", local: "one (B)", remote: "one (A)" }],
    deviceA: ["one (A+B)", "two (A)"],
    deviceB: ["one (A+B)", "two (A)"],
  };

  test("the scenario with this client's <script> bundle and IndexedDB stores", async () => {
    const serverTitles = await collection("ours");
    const page = await session.newPage();
    const outcome = await page.evaluate(async ({ server, auth }) => {
      // As the seed's example writes it, with an IndexedDB store per device.
      const device = (name: string) =>
        new kinto.Client({ server, auth, store: new kinto.IndexedDBStore({ name: `${name}-${Date.now()}`, indexes: ["title"] }) })
          .bucket("notes")
          .collection("ours");
      const a = device("device-a");
      const b = device("device-b");
      const one = await a.create({ title: "one" });
      const two = await a.create({ title: "two" });
      const three = await a.create({ title: "three" });
      await a.sync();
      await b.sync();
      await a.update({ ...one, title: "one (A)" });
      await a.update({ ...two, title: "two (A)" });
      await b.update({ ...one, title: "one (B)" });
      await b.delete(three.id);
      await a.sync();
      const withConflict = await b.sync();
      const conflicts = withConflict.conflicts.map((conflict) => ({ type: conflict.type, local: conflict.local.title as string, remote: conflict.remote?.title as string }));
      for (const conflict of withConflict.conflicts) await b.resolve(conflict, { title: "one (A+B)" });
      await b.sync();
      await a.sync();
      const titles = async (resource: typeof a) => (await resource.list({ sort: "title" })).map((record) => record.title as string);
      return { conflicts, deviceA: await titles(a), deviceB: await titles(b), indexedFilter: (await a.filter({ title: "two (A)" })).length };
    }, { server: server.url, auth: basic("alice") });
    await page.close();
    const { indexedFilter, ...comparable } = outcome;
    assert.deepEqual(comparable, expected);
    assert.equal(indexedFilter, 1);
    assert.deepEqual(await serverTitles(), ["one (A+B)", "two (A)"]);
  });

  test("the same scenario with kinto.js 17.1.1 against our server (the reference)", async () => {
    const serverTitles = await collection("reference");
    const page = await session.newPage();
    const outcome = await page.evaluate(async ({ server, authorization }) => {
      // kinto.js gives up on a request after 5 s by default: more time, on a loaded machine.
      const device = (name: string) =>
        new Kinto.default({ remote: server, bucket: "notes", headers: { Authorization: authorization }, timeout: 30_000, adapterOptions: { dbName: `${name}-${Date.now()}` } })
          .collection("reference");
      const a = device("kintojs-a");
      const b = device("kintojs-b");
      const one = (await a.create({ title: "one" })).data;
      const two = (await a.create({ title: "two" })).data;
      const three = (await a.create({ title: "three" })).data;
      await a.sync();
      await b.sync();
      await a.update({ ...one, title: "one (A)" });
      await a.update({ ...two, title: "two (A)" });
      await b.update({ ...one, title: "one (B)" });
      await b.delete(three.id);
      await a.sync();
      const withConflict = await b.sync();
      const conflicts = withConflict.conflicts.map((conflict: any) => ({ type: conflict.type, local: conflict.local.title, remote: conflict.remote?.title }));
      for (const conflict of withConflict.conflicts) await b.resolve(conflict, { ...conflict.local, title: "one (A+B)" });
      await b.sync();
      await a.sync();
      const titles = async (collection: typeof a) =>
        ((await collection.list({ order: "title" })).data as { title: string }[]).map((record) => record.title).sort();
      return { conflicts, deviceA: await titles(a), deviceB: await titles(b) };
    }, { server: server.url, authorization: `Basic ${btoa("alice:secret")}` });
    await page.close();
    assert.deepEqual(outcome, expected);
    assert.deepEqual(await serverTitles(), ["one (A+B)", "two (A)"]);
  });
});
