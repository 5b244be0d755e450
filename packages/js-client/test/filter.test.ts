/**
 * Local filters and sorts give what the server gives: the same records on our Kinto server are
 * filtered locally and through the querystring, and the ids must agree.
 */
import assert from "node:assert/strict";
import { after, before, test } from "node:test";

import * as kinto from "../src/index.js";
import { basic, call, startKinto, type RunningServer } from "./servers.js";

const RECORDS = [
  { title: "Hello", n: 1, tags: ["a", "b"], done: true, author: { name: "Ann" } },
  { title: "hello world", n: 2.5, tags: ["b"], done: false, author: { name: "Bob" } },
  { title: "Bonjour", n: "2", tags: [], author: null },
  { title: "Élan", n: null, done: true },
  { title: "zèbre", n: 10, tags: ["a"], extra: 1 },
  { title: 5, n: -3, tags: [["a"]] },
  { title: "👋 hi", n: true },
  { title: "\uffefwide", n: 1.0 },
];

const SERVER_PARAMETER: Record<string, string> = {
  $eq: "", $ne: "not_", $in: "in_", $nin: "exclude_", $lt: "lt_", $lte: "max_", $gt: "gt_", $gte: "min_",
  $like: "like_", $has: "has_", $contains: "contains_", $contains_any: "contains_any_",
};

// The server reads querystring values as JSON when they parse as JSON, as strings otherwise.
function serverValue(operator: string, value: unknown): string {
  if (operator === "$in" || operator === "$nin") return (value as unknown[]).map((item) => serverValue("$eq", item)).join(",");
  if (operator === "$like") return String(value);
  if (typeof value !== "string") return JSON.stringify(value);
  try {
    JSON.parse(value);
    return JSON.stringify(value);
  } catch {
    return value;
  }
}

function querystring(filters: kinto.Filters): string {
  const parameters = new URLSearchParams();
  for (const [field, condition] of Object.entries(filters)) {
    const operators = condition !== null && typeof condition === "object" && !Array.isArray(condition) ? condition : { $eq: condition };
    for (const [operator, value] of Object.entries(operators as Record<string, unknown>)) {
      parameters.set(`${SERVER_PARAMETER[operator]}${field}`, serverValue(operator, value));
    }
  }
  return parameters.toString();
}

const FILTERS: kinto.Filters[] = [
  { title: "Hello" },
  { title: { $eq: "Hello" } },
  { n: 1 },
  { n: "2" },
  { n: { $gt: 1 } },
  { n: { $gte: 1 } },
  { n: { $lt: 2.5 } },
  { n: { $lte: 2 } },
  { n: { $ne: 1 } },
  { n: { $in: [1, 10, "2"] } },
  { n: { $nin: [1, 10] } },
  { title: { $gt: "H" } },
  { title: { $lt: "z" } },
  { title: { $gt: "\ufff0" } },
  { title: { $like: "hello" } },
  { title: { $like: "h*o" } },
  { title: { $like: "*O" } },
  { done: true },
  { done: { $has: true } },
  { done: { $has: false } },
  { "author.name": "Ann" },
  { author: null },
  { tags: { $contains: ["a"] } },
  { tags: { $contains: ["a", "b"] } },
  { tags: { $contains_any: ["a", "b"] } },
  { n: { $gte: 1, $lt: 10 }, done: true },
];

const SORTS = ["title", "-title", "n", "-n", "done,title", "-author.name,n"];

let server: RunningServer;
let resource: kinto.Resource;
const url = () => `${server.url}/buckets/filters/collections/records/records`;

before(async () => {
  server = await startKinto();
  await call(`${server.url}/buckets/filters`, "PUT", "alice");
  await call(`${server.url}/buckets/filters/collections/records`, "PUT", "alice");
  resource = new kinto.Client({ server: server.url, auth: basic("alice") }).bucket("filters").collection("records");
  for (const record of RECORDS) await resource.create(record);
  await resource.sync();
});
after(() => server.stop());

for (const filters of FILTERS) {
  test(`filter ${JSON.stringify(filters)} selects what the server selects`, async () => {
    const listed = await call(`${url()}?${querystring(filters)}`, "GET", "alice");
    assert.equal(listed.status, 200, JSON.stringify(listed.body));
    const serverIds = listed.body.data.map((record: { id: string }) => record.id).sort();
    const localIds = (await resource.filter(filters)).map((record) => record.id).sort();
    assert.deepEqual(localIds, serverIds);
  });
}

for (const sort of SORTS) {
  test(`sort ${sort} orders as the server orders`, async () => {
    const listed = await call(`${url()}?_sort=${sort}`, "GET", "alice");
    const local = await resource.list({ sort });
    assert.deepEqual(local.map((record) => record.title), listed.body.data.map((record: { title: unknown }) => record.title));
  });
}

test("an unknown operator is refused, not ignored", async () => {
  await assert.rejects(resource.filter({ title: { $regex: "x" } }), kinto.InvalidQueryError);
});
