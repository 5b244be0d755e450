/**
 * The store contract as cases that run anywhere: under Node for the memory and localforage
 * stores (stores.test.ts), and in Chromium for the IndexedDB store (browser/indexeddb.test.ts).
 * No Node module here: assertions throw plain errors.
 */
import { compileFilters, type Filters } from "../src/filter.js";
import type { LocalRecord, Store, StoreQuery } from "../src/stores/index.js";

/** Builds a fresh, empty store; `indexes` are the fields a store with indexes should index. */
export type MakeStore = (options: { indexes: string[] }) => Promise<Store>;

export interface ContractCase {
  name: string;
  /** Only for stores whose `transactional` is true (the others skip it, saying so). */
  transactionalOnly?: boolean;
  run(makeStore: MakeStore): Promise<void>;
}

export function sameJson(actual: unknown, expected: unknown, message = "values differ"): void {
  const a = JSON.stringify(actual);
  const e = JSON.stringify(expected);
  if (a !== e) throw new Error(`${message}\n  actual:   ${a}\n  expected: ${e}`);
}

export function ok(condition: unknown, message: string): void {
  if (!condition) throw new Error(message);
}

async function rejection(promise: Promise<unknown>): Promise<unknown> {
  try {
    await promise;
  } catch (error) {
    return error;
  }
  throw new Error("expected a rejection");
}

const record = (id: string, fields: Record<string, unknown> = {}, status: LocalRecord["_status"] = "created"): LocalRecord => ({ id, _status: status, ...fields });
const ids = (records: LocalRecord[]) => records.map((stored) => stored.id).sort();

/** Fields the query cases filter on: a store with indexes is asked to index them. */
export const INDEXED_FIELDS = ["title", "n", "done", "author.name", "tags"];

/** Values of every JSON type, including the strings whose order differs between UTF-16 and code points. */
export const QUERY_RECORDS: LocalRecord[] = [
  record("r01", { title: "Hello", n: 10, done: true, author: { name: "Ann" }, tags: ["x", "y"], last_modified: 3 }, "synced"),
  record("r02", { title: "hello", n: 1.5, done: false, author: { name: "Bob" }, tags: ["y"], last_modified: 7 }, "synced"),
  record("r03", { title: "a", n: 0, done: null, author: { name: "ann" }, last_modified: 9 }, "updated"),
  record("r04", { title: "", n: -1, done: true, tags: [] }),
  record("r05", { title: "\uE000", n: "10", done: "true" }),
  record("r06", { title: "\u{1F600}", n: true, author: "Ann" }, "deleted"),
  record("r07", { title: "zeta", n: null, done: false, author: { name: null } }),
  record("r08", { title: null, n: [1], author: { name: "Cy" }, last_modified: 12 }, "synced"),
  record("r09", { title: ["Hello"], n: { a: 1 }, done: 1 }),
  record("r10", { n: 1e9, tags: ["x"] }),
  record("r11", { title: "Hello world", "author.name": "Dot", n: 10.0, last_modified: 5 }, "synced"),
];

/** Filters on indexed and non-indexed fields, with every operator and mixed-type operands. */
export const QUERY_CASES: StoreQuery[] = [
  { filters: { title: "Hello" } },
  { filters: { title: { $eq: "Hello" } } },
  { filters: { title: { $in: ["Hello", "a", "Hello"] } } },
  { filters: { title: { $in: [] } } },
  { filters: { title: { $gt: "a" } } },
  { filters: { title: { $gte: "\uE000" } } },
  { filters: { title: { $lt: "\u{1F600}" } } },
  { filters: { title: { $lte: "Hello" } } },
  { filters: { title: { $like: "ell" } } },
  { filters: { title: null } },
  { filters: { title: ["Hello"] } },
  { filters: { n: 10 } },
  { filters: { n: "10" } },
  { filters: { n: null } },
  { filters: { n: { $gt: 0 } } },
  { filters: { n: { $gte: 0, $lt: 10 } } },
  { filters: { n: { $min: 1, $max: 10 } } },
  { filters: { n: { $gt: 10, $lt: 0 } } },
  { filters: { n: { $gte: 10, $lte: 10 } } },
  { filters: { n: { $gt: 10, $lt: 10 } } },
  { filters: { n: { $gt: 0, $lt: "z" } } },
  { filters: { n: { $ne: 10 } } },
  { filters: { n: { $not: 10 } } },
  { filters: { n: { $in: [0, "10", null, true] } } },
  { filters: { n: { $nin: [10, null] } } },
  { filters: { n: [1] } },
  { filters: { n: { $has: false } } },
  { filters: { done: true } },
  { filters: { done: { $gt: false } } },
  { filters: { done: { $lte: true } } },
  { filters: { done: { $ne: true } } },
  { filters: { "author.name": "Ann" } },
  { filters: { "author.name": { $lt: "B" } } },
  { filters: { "author.name": null } },
  { filters: { "author.name": "Dot" } },
  { filters: { tags: { $contains: "x" } } },
  { filters: { tags: { $contains_any: ["y", "z"] } } },
  { filters: { last_modified: { $gt: 5 } } },
  { filters: { last_modified: { $has: true } } },
  { filters: { done: true, n: { $gt: 0 } } },
  { filters: { title: { $like: "hello" }, done: { $in: [true, false] } } },
  { status: ["created", "updated", "deleted"] },
  { status: ["synced"] },
  { status: [] },
  { filters: { n: { $gt: 0 } }, status: ["synced", "created"] },
  { filters: { title: { $gte: "a" } }, status: ["updated", "deleted"] },
];

function reference(query: StoreQuery): string[] {
  const matches = compileFilters(query.filters as Filters | undefined);
  return ids(QUERY_RECORDS.filter((stored) => (!query.status || query.status.includes(stored._status)) && matches(stored)));
}

export const storeContract: ContractCase[] = [
  {
    name: "apply writes records, deletes ids and sets metadata",
    async run(makeStore) {
      const store = await makeStore({ indexes: [] });
      await store.apply("ns", { put: [record("a"), record("b")], meta: { lastModified: 12 } });
      await store.apply("ns", { put: [record("a", { title: "new" })], delete: ["b", "never-there"] });
      sameJson(await store.list("ns"), [record("a", { title: "new" })]);
      sameJson(await store.get("ns", "a"), record("a", { title: "new" }));
      sameJson(await store.get("ns", "b"), undefined);
      sameJson(await store.getMeta("ns", "lastModified"), 12);
      sameJson(await store.getMeta("ns", "unknown"), undefined);
    },
  },
  {
    name: "what a caller gets is a copy",
    async run(makeStore) {
      const store = await makeStore({ indexes: [] });
      const original = record("a", { tags: ["x"] });
      await store.apply("ns", { put: [original] });
      original.tags = ["changed"];
      const read = (await store.get("ns", "a"))!;
      (read.tags as string[]).push("y");
      const [listed] = await store.list("ns");
      (listed.tags as string[]).push("z");
      sameJson((await store.get("ns", "a"))?.tags, ["x"]);
    },
  },
  {
    name: "namespaces are independent, and clear() empties only its own",
    async run(makeStore) {
      const store = await makeStore({ indexes: ["title"] });
      await store.apply("one", { put: [record("a", { title: "t" })], meta: { lastModified: 1 } });
      await store.apply("one/two", { put: [record("b", { title: "t" })], meta: { lastModified: 2 } });
      await store.apply("one0", { put: [record("c", { title: "t" })] });
      sameJson(ids(await store.list("one", { filters: { title: "t" } })), ["a"]);
      await store.clear("one");
      sameJson(await store.list("one"), []);
      sameJson(await store.getMeta("one", "lastModified"), undefined);
      sameJson(ids(await store.list("one/two")), ["b"]);
      sameJson(ids(await store.list("one0", { filters: { title: "t" } })), ["c"]);
      sameJson(await store.getMeta("one/two", "lastModified"), 2);
    },
  },
  {
    name: "list(query) returns exactly the records matching the filters and statuses, as the server would",
    async run(makeStore) {
      const store = await makeStore({ indexes: INDEXED_FIELDS });
      await store.apply("ns", { put: QUERY_RECORDS });
      await store.apply("other", { put: QUERY_RECORDS.map((stored) => ({ ...stored, id: `other-${stored.id}` })) });
      for (const query of QUERY_CASES) {
        sameJson(ids(await store.list("ns", query)), reference(query), `list(${JSON.stringify(query)})`);
      }
    },
  },
  {
    name: "a query with an unknown operator is refused",
    async run(makeStore) {
      const store = await makeStore({ indexes: ["title"] });
      const error = await rejection(store.list("ns", { filters: { title: { $regex: "x" } } }));
      ok((error as Error).name === "InvalidQueryError", `expected InvalidQueryError, got ${String(error)}`);
    },
  },
  {
    name: "modify reads the records and applies the changes computed from them",
    async run(makeStore) {
      const store = await makeStore({ indexes: ["n"] });
      await store.apply("ns", { put: [record("a", { n: 1 })] });
      let seen: unknown;
      await store.modify("ns", ["a", "missing"], (current) => {
        seen = current;
        return { put: [record("a", { n: 2 }), record("b", { n: 3 })], meta: { lastModified: 5 } };
      });
      sameJson(seen, [record("a", { n: 1 }), undefined]);
      sameJson(ids(await store.list("ns", { filters: { n: { $gte: 2 } } })), ["a", "b"]);
      sameJson(await store.getMeta("ns", "lastModified"), 5);
      await store.modify("ns", [], () => ({ delete: ["b"] }));
      sameJson(ids(await store.list("ns")), ["a"]);
    },
  },
  {
    name: "modify finds the records asked for, in an empty, a small or a large namespace",
    async run(makeStore) {
      const store = await makeStore({ indexes: [] });
      const read = async (wanted: string[]) => {
        let seen: (LocalRecord | undefined)[] = [];
        await store.modify("ns", wanted, (current) => {
          seen = current;
          return {};
        });
        return seen.map((found) => found?.id ?? null);
      };
      sameJson(await read(["x", "y"]), [null, null]);
      await store.apply("ns", { put: Array.from({ length: 30 }, (_, n) => record(`r${n}`, { n })) });
      await store.apply("elsewhere", { put: [record("x")] });
      sameJson(await read(["r3", "x", "r29"]), ["r3", null, "r29"]);
      sameJson(await read(Array.from({ length: 12 }, (_, n) => `r${n * 3}`)), Array.from({ length: 12 }, (_, n) => (n * 3 < 30 ? `r${n * 3}` : null)));
    },
  },
  {
    name: "a modification that throws writes nothing, and modify rejects with its error",
    async run(makeStore) {
      const store = await makeStore({ indexes: [] });
      await store.apply("ns", { put: [record("a", { n: 1 })] });
      const refusal = new Error("refused");
      const error = await rejection(store.modify("ns", ["a"], () => {
        throw refusal;
      }));
      ok(error === refusal, `expected the modification's own error, got ${String(error)}`);
      sameJson(await store.get("ns", "a"), record("a", { n: 1 }));
    },
  },
  {
    name: "a transactional store applies all of a change or none of it",
    transactionalOnly: true,
    async run(makeStore) {
      const store = await makeStore({ indexes: [] });
      ok(store.transactional, "a transactional store");
      await store.apply("ns", { put: [record("a")], meta: { lastModified: 1 } });
      const uncloneable = record("c", { callback: () => 1 });
      await rejection(store.apply("ns", { put: [record("b"), uncloneable], delete: ["a"], meta: { lastModified: 2 } }));
      sameJson(ids(await store.list("ns")), ["a"]);
      sameJson(await store.getMeta("ns", "lastModified"), 1);
    },
  },
  {
    name: "concurrent modifications of one record on a transactional store lose no update",
    transactionalOnly: true,
    async run(makeStore) {
      const store = await makeStore({ indexes: [] });
      ok(store.transactional, "a transactional store");
      await store.apply("ns", { put: [record("counter", { n: 0 })] });
      const increment = () => store.modify("ns", ["counter"], ([current]) => ({ put: [{ ...current!, n: (current!.n as number) + 1 }] }));
      await Promise.all(Array.from({ length: 20 }, increment));
      sameJson((await store.get("ns", "counter"))?.n, 20);
    },
  },
];
