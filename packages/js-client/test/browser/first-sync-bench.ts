/**
 * The "must show": a first sync of 10,000 records into IndexedDB and filtered queries
 * on them, this client against kinto.js 17.1.1, in the same Chromium, from the same server (ours,
 * SQLite, default settings). Prints the figures (medians of `ROUNDS` rounds, each on new
 * databases, the order of the two clients alternating); asserts only that both hold the same
 * records and find the same ones. `npm run bench` (RECORDS=... ROUNDS=... to change the size).
 */
import assert from "node:assert/strict";

import type * as KintoClient from "../../src/index.js";
import { basic, call, startKinto } from "../servers.js";
import { openBrowser } from "./harness.js";

declare const kinto: typeof KintoClient;
declare const Kinto: { default: new (options: Record<string, unknown>) => any };

const RECORDS = Number(process.env.RECORDS ?? 10_000);
const ROUNDS = Number(process.env.ROUNDS ?? 3);
const CATEGORIES = 10;
const LOAD_BATCH = 1000;

interface Figures {
  sync: number;
  filterIndexed: number;
  filterRange: number;
  stored: number;
  indexedHits: number;
  rangeHits: number;
}

type Run = (args: { server: string; authorization: string; name: string; auth: { type: "basic"; username: string; password: string } }) => Promise<Figures>;

const ours: Run = async ({ server, auth, name }) => {
  const start = performance.now();
  const records = new kinto.Client({ server, auth, store: new kinto.IndexedDBStore({ name, indexes: ["category"] }) })
    .bucket("bench")
    .collection("records");
  const result = await records.sync();
  if (!result.ok) throw new Error("the sync did not complete");
  const synced = performance.now();
  const indexed = await records.filter({ category: "c3" });
  const filteredIndexed = performance.now();
  const range = await records.filter({ n: { $gte: 9000 } });
  const filteredRange = performance.now();
  return {
    sync: synced - start,
    filterIndexed: filteredIndexed - synced,
    filterRange: filteredRange - filteredIndexed,
    stored: (await records.list()).length,
    indexedHits: indexed.length,
    rangeHits: range.length,
  };
};

// kinto.js gives up on a request after 5 s by default: more time, on a loaded machine.
// kinto.js filters on equality only (`list({filters})`): a range is a list() filtered in JavaScript.
const reference: Run = async ({ server, authorization, name }) => {
  const start = performance.now();
  const records = new Kinto.default({ remote: server, bucket: "bench", headers: { Authorization: authorization }, timeout: 60_000, adapterOptions: { dbName: name } })
    .collection("records");
  const result = await records.sync();
  if (!result.ok) throw new Error("the sync did not complete");
  const synced = performance.now();
  const indexed = (await records.list({ filters: { category: "c3" } })).data;
  const filteredIndexed = performance.now();
  const range = (await records.list()).data.filter((record: { n: number }) => record.n >= 9000);
  const filteredRange = performance.now();
  return {
    sync: synced - start,
    filterIndexed: filteredIndexed - synced,
    filterRange: filteredRange - filteredIndexed,
    stored: (await records.list()).data.length,
    indexedHits: indexed.length,
    rangeHits: range.length,
  };
};

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)];
}

async function load(url: string): Promise<void> {
  await call(`${url}/buckets/bench`, "PUT", "alice");
  await call(`${url}/buckets/bench/collections/records`, "PUT", "alice");
  for (let start = 0; start < RECORDS; start += LOAD_BATCH) {
    const requests = [];
    for (let n = start; n < Math.min(start + LOAD_BATCH, RECORDS); n++) {
      requests.push({ method: "POST", path: "/buckets/bench/collections/records/records", body: { data: { title: `Record ${n}`, category: `c${n % CATEGORIES}`, n, done: n % 2 === 0 } } });
    }
    const response = await call(`${url}/batch`, "POST", "alice", { requests });
    assert.equal(response.status, 200, JSON.stringify(response.body).slice(0, 300));
  }
}

async function main(): Promise<void> {
  const server = await startKinto({ "kinto.batch_max_requests": String(LOAD_BATCH) });
  const session = await openBrowser();
  try {
    const loading = performance.now();
    await load(server.url);
    console.log(`${RECORDS} records loaded on the server in ${((performance.now() - loading) / 1000).toFixed(1)} s`);
    const page = await session.newPage();
    const fetchTimes: number[] = [];
    for (let round = 0; round < ROUNDS; round++) {
      fetchTimes.push(await page.evaluate(async ({ url, authorization }) => {
        const start = performance.now();
        const response = await fetch(url, { headers: { Authorization: authorization } });
        const body = await response.json();
        if (body.data.length === 0) throw new Error("nothing listed");
        return performance.now() - start;
      }, { url: `${server.url}/buckets/bench/collections/records/records?_sort=-last_modified`, authorization: `Basic ${btoa("alice:secret")}` }));
    }
    console.log(`the page fetches the ${RECORDS} records (one GET, JSON parsed) in ${median(fetchTimes).toFixed(0)} ms (median)`);
    const args = { server: server.url, authorization: `Basic ${btoa("alice:secret")}`, auth: basic("alice") };
    const figures: Record<"ours" | "kinto.js", Figures[]> = { ours: [], "kinto.js": [] };
    for (let round = 0; round < ROUNDS; round++) {
      const order: ["ours" | "kinto.js", Run][] = [["ours", ours], ["kinto.js", reference]];
      if (round % 2 === 1) order.reverse();
      for (const [label, run] of order) {
        const result = await page.evaluate(run, { ...args, name: `bench-${label}-${round}-${Date.now()}` });
        figures[label].push(result);
        console.log(`round ${round + 1} ${label}: sync ${result.sync.toFixed(0)} ms, indexed filter ${result.filterIndexed.toFixed(1)} ms, range filter ${result.filterRange.toFixed(1)} ms`);
      }
    }
    for (const results of Object.values(figures)) {
      for (const result of results) {
        assert.equal(result.stored, RECORDS);
        assert.equal(result.indexedHits, RECORDS / CATEGORIES);
        assert.equal(result.rangeHits, Math.max(0, RECORDS - 9000));
      }
    }
    const version = session.browser.version();
    console.log(`\nFirst sync of ${RECORDS} records into IndexedDB, then filters; Chromium ${version}; median of ${ROUNDS} rounds`);
    console.log("| client | first sync | category = c3 (1/10) | n >= 9000 |");
    console.log("|---|---|---|---|");
    for (const [label, results] of Object.entries(figures)) {
      const cell = (key: keyof Figures) => `${median(results.map((result) => result[key])).toFixed(key === "sync" ? 0 : 1)} ms`;
      console.log(`| ${label} | ${cell("sync")} | ${cell("filterIndexed")} | ${cell("filterRange")} |`);
    }
    assert.deepEqual(session.errors, []);
  } finally {
    await session.close();
    await server.stop();
  }
}

await main();
