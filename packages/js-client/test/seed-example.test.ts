/** The seed's example #7, as written, against the myproject kinto.core app and our Kinto server. */
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";

import * as kinto from "../src/index.js";
import { nodeLocalForage } from "./localforage-memory.js";
import { basic, call, startKinto, startMyProject, type RunningServer } from "./servers.js";

describe("the seed's example against examples/myproject's /articles", () => {
  let server: RunningServer;
  before(async () => {
    server = await startMyProject();
  });
  after(() => server.stop());

  test("create, get, filter and sync work as written, with localforage as the store", async () => {
    const localforage = await nodeLocalForage();
    // The example's server is the service's address; `/v1` is implied.
    var client = new kinto.Client({ server: server.url.replace(/\/v1$/, ""), store: localforage, auth: basic("alice") });
    var articles = client.resource("/articles");
    const created = await articles.create({ title: "Hello world" });
    await articles.create({ title: "Hello" }, { id: "0c0a9b4e-2b0c-4a59-bd0e-0e3d5e5e8f01" });

    assert.equal((await articles.get(created.id))?.title, "Hello world");
    assert.equal(await articles.get("id-1234"), undefined);
    const hello = await articles.filter({ title: { $eq: "Hello" } });
    assert.deepEqual(hello.map((article) => article.id), ["0c0a9b4e-2b0c-4a59-bd0e-0e3d5e5e8f01"]);

    const result = await articles.sync();
    assert.equal(result.ok, true);
    assert.equal(result.published.length, 2);

    const onServer = await call(`${server.url}/articles`, "GET", "alice");
    assert.deepEqual(onServer.body.data.map((article: { title: string }) => article.title).sort(), ["Hello", "Hello world"]);
    const local = await articles.get(created.id);
    assert.equal(local?._status, "synced");
    assert.equal(local?.last_modified, onServer.body.data.find((article: { id: string }) => article.id === created.id).last_modified);
    // Stored through localforage's own API.
    assert.ok((await localforage.keys()).some((key) => key.endsWith(`/r/${created.id}`)));
  });

  test("reads stay local while the server is unreachable, and the changes wait for the next sync", async () => {
    const store = new kinto.MemoryStore();
    const unreachable = () => Promise.reject(new TypeError("fetch failed"));
    const offline = new kinto.Client({ server: server.url, store, auth: basic("bob"), fetch: unreachable });
    const articles = offline.resource("/articles");
    const article = await articles.create({ title: "Written offline" });
    assert.equal((await articles.get(article.id))?.title, "Written offline");
    assert.equal((await articles.filter({ title: { $like: "offline" } })).length, 1);
    await assert.rejects(articles.sync(), kinto.NetworkError);
    assert.equal((await articles.get(article.id))?._status, "created");

    const online = new kinto.Client({ server: server.url, store, auth: basic("bob") });
    const result = await online.resource("/articles").sync();
    assert.deepEqual(result.published, [{ id: article.id, deleted: false }]);
    const onServer = await call(`${server.url}/articles/${article.id}`, "GET", "bob");
    assert.equal(onServer.body.data.title, "Written offline");
  });

  test("two devices of one user edit the same article offline; the conflict is resolved by hand", async () => {
    const device = () => new kinto.Client({ server: server.url, auth: basic("carol") }).resource("/articles");
    const [a, b] = [device(), device()];
    const article = await a.create({ title: "Draft", body: "v0" });
    await a.sync();
    await b.sync();
    await a.update({ ...(await a.get(article.id))!, body: "from a" });
    await b.update({ ...(await b.get(article.id))!, body: "from b" });
    await b.sync();

    const result = await a.sync();
    assert.equal(result.conflicts.length, 1);
    const [conflict] = result.conflicts;
    await a.resolve(conflict, { ...conflict.local, body: `${conflict.local.body} + ${conflict.remote?.body}` });
    assert.equal((await a.sync()).ok, true);
    await b.sync();
    assert.equal((await b.get(article.id))?.body, "from a + from b");
  });

  test("a record the service's schema refuses stays local, with the server's error in the result", async () => {
    const articles = new kinto.Client({ server: server.url, auth: basic("dave") }).resource("/articles");
    const valid = await articles.create({ title: "Fine" });
    const invalid = await articles.create({ title: "" });

    const result = await articles.sync();

    assert.equal(result.ok, false);
    assert.deepEqual(result.published, [{ id: valid.id, deleted: false }]);
    assert.equal(result.errors.length, 1);
    assert.equal(result.errors[0].id, invalid.id);
    assert.equal(result.errors[0].error.status, 400);
    assert.equal(result.errors[0].error.errno, 107);
    assert.equal((await articles.get(invalid.id))?._status, "created");
  });
});

describe("the same example against our Kinto server's bucket/collection", () => {
  let server: RunningServer;
  before(async () => {
    server = await startKinto();
    await call(`${server.url}/buckets/blog`, "PUT", "alice");
    await call(`${server.url}/buckets/blog/collections/articles`, "PUT", "alice");
  });
  after(() => server.stop());

  test("client.bucket(b).collection(c) creates, filters and syncs", async () => {
    const localforage = await nodeLocalForage();
    const client = new kinto.Client({ server: server.url, store: localforage, auth: basic("alice") });
    const articles = client.bucket("blog").collection("articles");
    await articles.create({ title: "Hello world" });
    await articles.create({ title: "Hello" });
    assert.equal((await articles.filter({ title: { $eq: "Hello" } })).length, 1);

    const result = await articles.sync();
    assert.equal(result.ok, true);
    const listed = await call(`${server.url}/buckets/blog/collections/articles/records?title=Hello`, "GET", "alice");
    assert.equal(listed.body.data.length, 1);
    assert.equal(await articles.lastModified(), Number(listed.headers.get("ETag")?.replace(/"/g, "")));
  });
});
