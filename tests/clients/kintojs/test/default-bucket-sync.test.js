// kinto.js 17.1.1, the offline-first client published as npm `kinto`, syncing the collection `tasks`
// of the default bucket (kinto.plugins.default_bucket) of a live `kinto start`, its users logged in
// with accounts made by `kinto create-user` (kinto.plugins.accounts). Each kinto.js instance has its
// own local IndexedDB database (fake-indexeddb), as two browsers of the same user would.
import "fake-indexeddb/auto";
import assert from "node:assert/strict";
import { after, before, beforeEach, describe, test } from "node:test";
import kintoModule from "kinto";
import { startServer } from "./server.js";

const Kinto = kintoModule.default;
const { MANUAL, SERVER_WINS, CLIENT_WINS } = Kinto.syncStrategy;
const USERS = { alice: "alice-secret-1", bob: "bob-secret-2" };

let server;
let localDatabases = 0;

function authorization(user) {
  return `Basic ${Buffer.from(`${user}:${USERS[user]}`).toString("base64")}`;
}

/** The `tasks` collection of `user`'s default bucket, in a local database of its own. */
function tasksOf(user) {
  localDatabases += 1;
  const kinto = new Kinto({
    remote: server.url,
    bucket: "default",
    headers: { Authorization: authorization(user) },
    adapterOptions: { dbName: `${user}-device-${localDatabases}` },
  });
  return kinto.collection("tasks");
}

/** What the server holds in `user`'s default bucket, read without kinto.js. */
async function serverTasks(user) {
  const answer = await fetch(`${server.url}/buckets/default/collections/tasks/records?_sort=title`, {
    headers: { Authorization: authorization(user) },
  });
  assert.equal(answer.status, 200, await answer.clone().text());
  return (await answer.json()).data;
}

async function sync(tasks, strategy = MANUAL) {
  const result = await tasks.sync({ strategy });
  assert.deepEqual(result.errors, [], "the sync reports no error");
  return result;
}

async function localTitles(tasks) {
  const { data } = await tasks.list({ order: "title" });
  return data.map((task) => task.title);
}

/** Two devices of alice with the same task synced on both. */
async function sharedTask() {
  const laptop = tasksOf("alice");
  const phone = tasksOf("alice");
  const { data: task } = await laptop.create({ title: "water the plants", done: false });
  await sync(laptop);
  await sync(phone);
  return { laptop, phone, id: task.id };
}

/** Both devices change the same task; the laptop syncs first. */
async function concurrentEdits() {
  const { laptop, phone, id } = await sharedTask();
  const { data: onLaptop } = await laptop.get(id);
  await laptop.update({ ...onLaptop, title: "water the plants (laptop)" });
  await sync(laptop);
  const { data: onPhone } = await phone.get(id);
  await phone.update({ ...onPhone, done: true, title: "water the plants (phone)" });
  return { laptop, phone, id };
}

before(async () => {
  server = await startServer(USERS);
});

after(async () => {
  await server?.stop();
});

beforeEach(async () => {
  // Every test starts from an empty `tasks` for both users (new local databases are made per test).
  for (const user of Object.keys(USERS)) {
    const answer = await fetch(`${server.url}/buckets/default/collections/tasks`, {
      method: "DELETE",
      headers: { Authorization: authorization(user) },
    });
    assert.ok([200, 404].includes(answer.status), `DELETE tasks of ${user}: ${answer.status}`);
  }
});

describe("kinto.js syncing the default bucket", () => {
  test("records created offline are published by the first sync", async () => {
    const laptop = tasksOf("alice");
    await laptop.create({ title: "buy milk", done: false });
    await laptop.create({ title: "call mum", done: true });

    const result = await sync(laptop);

    assert.equal(result.ok, true);
    assert.equal(result.published.length, 2);
    const onServer = await serverTasks("alice");
    assert.deepEqual(onServer.map(({ title, done }) => ({ title, done })), [
      { title: "buy milk", done: false },
      { title: "call mum", done: true },
    ]);
    const { data: local } = await laptop.list();
    assert.ok(local.every((task) => task._status === "synced" && task.last_modified > 0));
  });

  test("a second device of the same user receives them", async () => {
    const laptop = tasksOf("alice");
    const { data: milk } = await laptop.create({ title: "buy milk", done: false });
    await laptop.create({ title: "call mum", done: true });
    await sync(laptop);
    const phone = tasksOf("alice");

    const result = await sync(phone);

    assert.equal(result.ok, true);
    assert.equal(result.created.length, 2);
    assert.deepEqual(await localTitles(phone), ["buy milk", "call mum"]);
    const { data: milkOnPhone } = await phone.get(milk.id);
    const { data: milkOnLaptop } = await laptop.get(milk.id);
    assert.equal(milkOnPhone.last_modified, milkOnLaptop.last_modified);
  });

  test("changes made on a device after the first sync reach the other one", async () => {
    const { laptop, phone, id } = await sharedTask();
    const { data: task } = await laptop.get(id);
    await laptop.update({ ...task, done: true });
    await laptop.create({ title: "buy milk", done: false });
    await sync(laptop);

    const result = await sync(phone);

    assert.equal(result.updated.length, 1);
    assert.equal(result.created.length, 1);
    assert.equal((await phone.get(id)).data.done, true);
    assert.deepEqual(await localTitles(phone), ["buy milk", "water the plants"]);
  });

  test("a concurrent edit is a conflict reported by MANUAL, and the chosen resolution is published", async () => {
    const { laptop, phone, id } = await concurrentEdits();

    const conflicted = await phone.sync({ strategy: MANUAL });

    assert.equal(conflicted.ok, false);
    assert.equal(conflicted.conflicts.length, 1);
    const [conflict] = conflicted.conflicts;
    assert.equal(conflict.type, "incoming");
    assert.equal(conflict.local.title, "water the plants (phone)");
    assert.equal(conflict.remote.title, "water the plants (laptop)");
    // Nothing of the phone's edit was published while the conflict stands.
    assert.equal((await serverTasks("alice"))[0].title, "water the plants (laptop)");

    await phone.resolve(conflict, { ...conflict.local, title: "water the plants (both)" });
    const resolved = await sync(phone);

    assert.equal(resolved.ok, true);
    assert.equal(resolved.published.length, 1);
    const [onServer] = await serverTasks("alice");
    assert.equal(onServer.title, "water the plants (both)");
    assert.equal(onServer.done, true);
    await sync(laptop);
    assert.equal((await laptop.get(id)).data.title, "water the plants (both)");
  });

  test("SERVER_WINS keeps the version the server has", async () => {
    const { phone, id } = await concurrentEdits();

    const result = await sync(phone, SERVER_WINS);

    assert.equal(result.ok, true);
    assert.equal(result.conflicts.length, 0);
    assert.equal(result.resolved.length, 1);
    const { data: onPhone } = await phone.get(id);
    assert.equal(onPhone.title, "water the plants (laptop)");
    assert.equal(onPhone.done, false);
    assert.equal(onPhone._status, "synced");
    const [onServer] = await serverTasks("alice");
    assert.equal(onServer.title, "water the plants (laptop)");
  });

  test("CLIENT_WINS publishes the local version over the server's", async () => {
    const { laptop, phone, id } = await concurrentEdits();

    const result = await sync(phone, CLIENT_WINS);

    assert.equal(result.ok, true);
    assert.equal(result.conflicts.length, 0);
    assert.equal(result.resolved.length, 1);
    const [onServer] = await serverTasks("alice");
    assert.equal(onServer.title, "water the plants (phone)");
    assert.equal(onServer.done, true);
    assert.equal((await phone.get(id)).data.last_modified, onServer.last_modified);
    await sync(laptop);
    assert.equal((await laptop.get(id)).data.title, "water the plants (phone)");
  });

  test("another user's default bucket is separate", async () => {
    const alice = tasksOf("alice");
    await alice.create({ title: "alice's secret", done: false });
    await sync(alice);
    const bob = tasksOf("bob");

    const first = await sync(bob);

    assert.equal(first.created.length, 0);
    assert.deepEqual(await localTitles(bob), []);
    await bob.create({ title: "bob's plan", done: false });
    await sync(bob);
    assert.deepEqual((await serverTasks("bob")).map((task) => task.title), ["bob's plan"]);
    assert.deepEqual((await serverTasks("alice")).map((task) => task.title), ["alice's secret"]);
    const aliceAgain = await sync(alice);
    assert.equal(aliceAgain.created.length, 0);
    assert.deepEqual(await localTitles(alice), ["alice's secret"]);
    // "default" is an alias: each user's bucket has an id of its own.
    const bucketIds = await Promise.all(Object.keys(USERS).map(async (user) => {
      const answer = await fetch(`${server.url}/buckets/default`, { headers: { Authorization: authorization(user) } });
      return (await answer.json()).data.id;
    }));
    assert.notEqual(bucketIds[0], bucketIds[1]);
    assert.ok(bucketIds.every((id) => id !== "default"));
  });

  test("a deletion on one device removes the record from the server and the other device", async () => {
    const { laptop, phone, id } = await sharedTask();
    const { data: kept } = await laptop.create({ title: "buy milk", done: false });
    await sync(laptop);
    await sync(phone);

    await laptop.delete(id);
    const published = await sync(laptop);

    assert.equal(published.published.length, 1);
    assert.deepEqual((await serverTasks("alice")).map((task) => task.id), [kept.id]);
    const received = await sync(phone);
    assert.deepEqual(received.deleted.map((task) => task.id), [id]);
    assert.equal((await phone.getAny(id)).data, undefined, "not even a tombstone is left locally");
    assert.deepEqual(await localTitles(phone), ["buy milk"]);
  });

  test("deleting a record another device changed meanwhile is a conflict, and SERVER_WINS restores it", async () => {
    const { laptop, phone, id } = await sharedTask();
    const { data: task } = await laptop.get(id);
    await laptop.update({ ...task, done: true });
    await sync(laptop);
    await phone.delete(id);

    const result = await sync(phone, SERVER_WINS);

    assert.equal(result.resolved.length, 1);
    const { data: restored } = await phone.get(id);
    assert.equal(restored.done, true);
    assert.equal(restored._status, "synced");
    assert.deepEqual((await serverTasks("alice")).map((task) => task.done), [true]);
  });
});
