/**
 * sync() against our Kinto server (SQLite), with two clients of the same user (two devices),
 * pages of 3 records and batches of 4 requests so that paging and batching are exercised.
 */
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";

import * as kinto from "../src/index.js";
import { basic, call, startKinto, type RunningServer } from "./servers.js";

let server: RunningServer;
let collectionCount = 0;

before(async () => {
  server = await startKinto({ "kinto.paginate_by": "3", "kinto.batch_max_requests": "4" });
  await call(`${server.url}/buckets/notes`, "PUT", "alice");
});
after(() => server.stop());

/** A fresh collection, and two clients (devices) of alice on it, each with its own store. */
async function twoDevices(options: { fetchA?: typeof fetch } = {}) {
  const collection = `c${++collectionCount}`;
  await call(`${server.url}/buckets/notes/collections/${collection}`, "PUT", "alice");
  const device = (fetchImpl?: typeof fetch) =>
    new kinto.Client({ server: server.url, store: new kinto.MemoryStore(), auth: basic("alice"), fetch: fetchImpl })
      .bucket("notes")
      .collection(collection);
  return { a: device(options.fetchA), b: device(), url: `${server.url}/buckets/notes/collections/${collection}/records` };
}

/** A `fetch` that records each request's method and path, and may act just before sending one. */
function recordingFetch(beforeSend?: (method: string, url: URL) => Promise<void>) {
  const requests: string[] = [];
  const fetchImpl: typeof fetch = async (input, init) => {
    const url = new URL(String(input));
    const method = init?.method ?? "GET";
    requests.push(`${method} ${url.pathname}`);
    await beforeSend?.(method, url);
    return fetch(input, init);
  };
  return { requests, fetchImpl };
}

/** Every record on the server, following the pages. */
async function serverRecords(url: string): Promise<Record<string, any>> {
  const records: Record<string, any> = {};
  for (let next: string | null = url; next; ) {
    const page = await call(next, "GET", "alice");
    for (const record of page.body.data) records[record.id] = record;
    next = page.headers.get("Next-Page");
  }
  return records;
}

test("the first sync pulls every page and publishes in batches of the server's size", async () => {
  const { requests, fetchImpl } = recordingFetch();
  const { a, url } = await twoDevices({ fetchA: fetchImpl });
  for (let index = 0; index < 10; index++) await call(url, "POST", "alice", { data: { n: index, origin: "server" } });
  for (let index = 0; index < 9; index++) await a.create({ n: index, origin: "local" });

  const result = await a.sync();

  assert.equal(result.ok, true);
  assert.equal(result.created.length, 10);
  assert.equal(result.published.length, 9);
  assert.equal(Object.keys(await serverRecords(url)).length, 19);
  const local = await a.list();
  assert.equal(local.length, 19);
  assert.ok(local.every((record) => record._status === "synced" && typeof record.last_modified === "number"));
  assert.equal(requests.filter((request) => request === "POST /v1/batch").length, 3, "9 changes in batches of 4");
  // First pull: 10 records in pages of 3.
  const firstPull = requests.slice(0, requests.indexOf("POST /v1/batch")).filter((request) => request.endsWith("/records"));
  assert.equal(firstPull.length, 4);
});

test("a deletion or change on the server reaches the other device", async () => {
  const { a, b } = await twoDevices();
  const kept = await a.create({ title: "kept" });
  const removed = await a.create({ title: "removed" });
  await a.sync();
  await b.sync();
  await b.update({ ...(await b.get(kept.id))!, title: "changed on b" });
  await b.delete(removed.id);
  await b.sync();

  const result = await a.sync();

  assert.deepEqual(result.deleted, [{ id: removed.id }]);
  assert.deepEqual(result.updated.map((record) => record.title), ["changed on b"]);
  assert.equal(await a.get(removed.id), undefined);
  assert.equal((await a.get(kept.id))?.title, "changed on b");
});

/**
 * Both devices start from the same three records. Offline, A edits all three; B edits `same`,
 * deletes `gone` and leaves `mine` alone; B syncs first. `same` and `gone` are conflicts for A.
 */
async function conflictScenario() {
  const devices = await twoDevices();
  const { a, b } = devices;
  const same = await a.create({ title: "same", by: "nobody" });
  const gone = await a.create({ title: "gone", by: "nobody" });
  const mine = await a.create({ title: "mine", by: "nobody" });
  await a.sync();
  await b.sync();
  for (const record of [same, gone, mine]) await a.update({ ...(await a.get(record.id))!, by: "a" });
  await b.update({ ...(await b.get(same.id))!, by: "b" });
  await b.delete(gone.id);
  await b.sync();
  return { ...devices, same, gone, mine };
}

describe("two devices editing the same records offline", () => {
  test("manual: conflicts are reported and kept local until resolved", async () => {
    const { a, b, url, same, gone, mine } = await conflictScenario();
    const announced: kinto.Conflict[] = [];
    a.events.on("conflict", (conflict) => announced.push(conflict));

    const result = await a.sync({ strategy: kinto.SyncStrategy.MANUAL });

    assert.equal(result.ok, false);
    assert.deepEqual(result.conflicts, announced);
    const byId = Object.fromEntries(result.conflicts.map((conflict) => [conflict.local.id, conflict]));
    assert.equal(byId[same.id].type, "incoming");
    assert.equal(byId[same.id].local.by, "a");
    assert.equal(byId[same.id].remote?.by, "b");
    assert.equal(byId[gone.id].remote, null, "deleted on the server");
    assert.deepEqual(result.published, [{ id: mine.id, deleted: false }]);
    assert.equal((await a.get(same.id))?.by, "a", "the local version is untouched");
    let onServer = await serverRecords(url);
    assert.equal(onServer[same.id].by, "b");
    assert.equal(onServer[gone.id], undefined);

    await a.resolve(byId[same.id], { ...byId[same.id].local, by: "a and b" });
    await a.resolve(byId[gone.id], byId[gone.id].local);
    const second = await a.sync();
    assert.equal(second.ok, true);
    onServer = await serverRecords(url);
    assert.equal(onServer[same.id].by, "a and b");
    assert.equal(onServer[gone.id].by, "a", "re-created from the local version");
    await b.sync();
    assert.equal((await b.get(same.id))?.by, "a and b");
  });

  test("server_wins: the server's versions replace the local ones", async () => {
    const { a, url, same, gone, mine } = await conflictScenario();

    const result = await a.sync({ strategy: kinto.SyncStrategy.SERVER_WINS });

    assert.equal(result.ok, true);
    assert.equal(result.resolved.length, 2);
    assert.equal((await a.get(same.id))?.by, "b");
    assert.equal((await a.get(same.id))?._status, "synced");
    assert.equal(await a.get(gone.id), undefined);
    const onServer = await serverRecords(url);
    assert.equal(onServer[same.id].by, "b");
    assert.equal(onServer[mine.id].by, "a", "changes without conflict are still published");
  });

  test("client_wins: the local versions are published over the server's", async () => {
    const { a, b, url, same, gone, mine } = await conflictScenario();

    const result = await a.sync({ strategy: kinto.SyncStrategy.CLIENT_WINS });

    assert.equal(result.ok, true);
    assert.equal(result.resolved.length, 2);
    const onServer = await serverRecords(url);
    assert.equal(onServer[same.id].by, "a");
    assert.equal(onServer[gone.id].by, "a");
    assert.equal(onServer[mine.id].by, "a");
    await b.sync();
    assert.deepEqual((await b.list({ sort: "title" })).map((record) => record.by), ["a", "a", "a"]);
  });

  test("pull_only: the server's versions are taken and nothing is published", async () => {
    const { a, url, same, gone, mine } = await conflictScenario();

    const result = await a.sync({ strategy: kinto.SyncStrategy.PULL_ONLY });

    assert.deepEqual(result.published, []);
    assert.equal((await a.get(same.id))?.by, "b");
    assert.equal(await a.get(gone.id), undefined);
    assert.equal((await a.get(mine.id))?._status, "updated", "still waiting to be published");
    assert.equal((await serverRecords(url))[mine.id].by, "nobody");
  });
});

describe("a change on the server between this device's pull and its push", () => {
  async function raced(strategy: kinto.Strategy) {
    let recordId = "";
    let url = "";
    const { fetchImpl } = recordingFetch(async (method) => {
      if (method === "POST" && recordId) {
        await call(`${url}/${recordId}`, "PATCH", "alice", { data: { by: "someone else" } });
        recordId = "";
      }
    });
    const devices = await twoDevices({ fetchA: fetchImpl });
    url = devices.url;
    const record = await devices.a.create({ by: "nobody" });
    await devices.a.sync();
    await devices.a.update({ ...(await devices.a.get(record.id))!, by: "a" });
    recordId = record.id;
    const result = await devices.a.sync({ strategy });
    return { ...devices, record, result };
  }

  test("is an outgoing conflict, not a lost update (manual)", async () => {
    const { a, url, record, result } = await raced(kinto.SyncStrategy.MANUAL);
    assert.equal(result.conflicts.length, 1);
    assert.equal(result.conflicts[0].type, "outgoing");
    assert.equal(result.conflicts[0].remote?.by, "someone else");
    assert.equal((await serverRecords(url))[record.id].by, "someone else");
    assert.equal((await a.get(record.id))?.by, "a");
  });

  test("is published again over the server's version (client_wins)", async () => {
    const { url, record, result } = await raced(kinto.SyncStrategy.CLIENT_WINS);
    assert.equal(result.ok, true);
    assert.equal((await serverRecords(url))[record.id].by, "a");
  });
});

test("an edit made while its previous version is being published is kept and published next", async () => {
  let edit: (() => Promise<unknown>) | undefined;
  const { fetchImpl } = recordingFetch(async (method) => {
    if (method === "POST" && edit) {
      const pending = edit;
      edit = undefined;
      await pending();
    }
  });
  const { a, url } = await twoDevices({ fetchA: fetchImpl });
  const record = await a.create({ text: "first" });
  edit = () => a.update({ id: record.id, text: "second" });

  const result = await a.sync();

  assert.equal(result.ok, true);
  assert.equal((await serverRecords(url))[record.id].text, "first");
  const local = await a.get(record.id);
  assert.equal(local?.text, "second");
  assert.equal(local?._status, "updated");
  assert.equal(local?.last_modified, (await serverRecords(url))[record.id].last_modified);
  assert.equal((await a.sync()).ok, true);
  assert.equal((await serverRecords(url))[record.id].text, "second");
});

test("events tell the UI about local changes, imported changes and the sync's start and end", async () => {
  const { a, b } = await twoDevices();
  const seen: string[] = [];
  a.events.on("change", (event) => seen.push(`${event.source} ${event.action} ${event.record.title}`));
  a.events.on("sync:start", () => seen.push("start"));
  a.events.on("sync:end", (result) => seen.push(`end ${result.ok}`));
  const note = await b.create({ title: "from b" });
  await b.sync();

  const mine = await a.create({ title: "mine" });
  await a.update({ ...mine, title: "mine, edited" });
  await a.sync();
  await a.delete(note.id);

  assert.deepEqual(seen, ["local create mine", "local update mine, edited", "start", "remote create from b", "end true", "local delete from b"]);
});

test("a flushed server is detected, and resetSyncStatus() publishes everything again", async () => {
  const client = new kinto.Client({ server: server.url, auth: basic("bob") });
  const tasks = client.bucket("default").collection("tasks");
  await tasks.create({ title: "one" });
  await tasks.create({ title: "two" });
  await tasks.sync();
  assert.equal((await call(`${server.url}/__flush__`, "POST", "bob")).status, 202);

  await assert.rejects(tasks.sync(), kinto.ServerWasFlushedError);
  assert.equal(await tasks.resetSyncStatus(), 2);
  const result = await tasks.sync();

  assert.equal(result.published.length, 2);
  const listed = await call(`${server.url}/buckets/default/collections/tasks/records`, "GET", "bob");
  assert.deepEqual(listed.body.data.map((record: { title: string }) => record.title).sort(), ["one", "two"]);
  await call(`${server.url}/buckets/notes`, "PUT", "alice");
});

test("the server's error format reaches the caller as a ServerError", async () => {
  const client = new kinto.Client({ server: server.url, auth: basic("carol") });
  const error = await client.bucket("nobody-has-this").collection("c").sync().catch((caught: unknown) => caught);
  assert.ok(error instanceof kinto.ServerError);
  assert.equal(error.status, 403);
  assert.equal(error.errno, 121);
});
