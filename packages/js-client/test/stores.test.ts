/** The store contract (store-contract.ts) under Node: the memory store and localforage through the adapter. */
import assert from "node:assert/strict";
import { describe, test } from "node:test";

import * as kinto from "../src/index.js";
import { separateLocalForage } from "./localforage-memory.js";
import { storeContract } from "./store-contract.js";

const STORES: [string, () => Promise<kinto.Store>, { transactional: boolean }][] = [
  ["MemoryStore", async () => new kinto.MemoryStore(), { transactional: true }],
  ["LocalForageStore over localforage", async () => new kinto.LocalForageStore(await separateLocalForage(`store-${Math.random()}`)), { transactional: false }],
];

for (const [name, makeStore, { transactional }] of STORES) {
  describe(name, () => {
    for (const contractCase of storeContract) {
      const skip = contractCase.transactionalOnly && !transactional ? "localforage has no transactions" : false;
      test(contractCase.name, { skip }, () => contractCase.run(makeStore));
    }
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
