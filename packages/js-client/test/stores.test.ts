/** The store contract, run against every store: the memory store and localforage through the adapter. */
import assert from "node:assert/strict";
import { describe, test } from "node:test";

import * as kinto from "../src/index.js";
import { separateLocalForage } from "./localforage-memory.js";

const STORES: [string, () => Promise<kinto.Store>][] = [
  ["MemoryStore", async () => new kinto.MemoryStore()],
  ["LocalForageStore over localforage", async () => new kinto.LocalForageStore(await separateLocalForage(`store-${Math.random()}`))],
];

const record = (id: string, fields: Record<string, unknown> = {}): kinto.LocalRecord => ({ id, _status: "created", ...fields });

for (const [name, makeStore] of STORES) {
  describe(name, () => {
    test("apply writes records, deletes ids and sets metadata", async () => {
      const store = await makeStore();
      await store.apply("ns", { put: [record("a"), record("b")], meta: { lastModified: 12 } });
      await store.apply("ns", { put: [record("a", { title: "new" })], delete: ["b", "never-there"] });
      assert.deepEqual(await store.list("ns"), [record("a", { title: "new" })]);
      assert.deepEqual(await store.get("ns", "a"), record("a", { title: "new" }));
      assert.equal(await store.get("ns", "b"), undefined);
      assert.equal(await store.getMeta("ns", "lastModified"), 12);
      assert.equal(await store.getMeta("ns", "unknown"), undefined);
    });

    test("what a caller gets is a copy", async () => {
      const store = await makeStore();
      const original = record("a", { tags: ["x"] });
      await store.apply("ns", { put: [original] });
      original.tags = ["changed"];
      const read = (await store.get("ns", "a"))!;
      (read.tags as string[]).push("y");
      assert.deepEqual((await store.get("ns", "a"))?.tags, ["x"]);
    });

    test("namespaces are independent, and clear() empties only its own", async () => {
      const store = await makeStore();
      await store.apply("one", { put: [record("a")], meta: { lastModified: 1 } });
      await store.apply("one/two", { put: [record("b")], meta: { lastModified: 2 } });
      await store.clear("one");
      assert.deepEqual(await store.list("one"), []);
      assert.equal(await store.getMeta("one", "lastModified"), undefined);
      assert.deepEqual((await store.list("one/two")).map((stored) => stored.id), ["b"]);
      assert.equal(await store.getMeta("one/two", "lastModified"), 2);
    });
  });
}

test("a resource given localforage stores each record under its own key", async () => {
  const localforage = await separateLocalForage("keys");
  const articles = new kinto.Client({ server: "http://127.0.0.1:9", store: localforage }).resource("/articles");
  const one = await articles.create({ title: "one" });
  const two = await articles.create({ title: "two" });
  const keys = await localforage.keys();
  assert.equal(keys.length, 2);
  assert.ok(keys.some((key) => key.endsWith(`/r/${one.id}`)) && keys.some((key) => key.endsWith(`/r/${two.id}`)));
});

test("an object that is neither a store nor localforage-like is refused", () => {
  assert.throws(() => new kinto.Client({ server: "http://127.0.0.1:9", store: {} as kinto.Store }), TypeError);
});
