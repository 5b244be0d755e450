/**
 * The scenario, in a real browser against a live server: log in, create a bucket, a
 * collection with a schema, records through the generated form, share with another user, log in
 * as that user and see exactly what was shared (and nothing more, and read-only).
 */

import { expect, test } from "@playwright/test";

import { api, expectMessage, logIn, logOut, screenshot, signUp, uniqueId, watchFailures } from "./helpers";

const SCHEMA = {
  type: "object",
  properties: {
    title: { type: "string", title: "Title", description: "What there is to do" },
    done: { type: "boolean", title: "Done" },
    priority: { type: "integer", title: "Priority", minimum: 1, maximum: 5 },
    status: { type: "string", title: "Status", enum: ["todo", "doing", "done"] },
    tags: { type: "array", title: "Tags", items: { type: "string" } },
  },
  required: ["title"],
};

test("a user builds a collection with a schema and shares it; the other user sees exactly that, read-only", async ({ page, request }) => {
  const failures = watchFailures(page);
  const alice = uniqueId("alice");
  const bob = uniqueId("bob");
  const bid = uniqueId("team");
  await signUp(request, alice);
  await signUp(request, bob);

  await logIn(page, alice);
  await screenshot(page, "01-home");

  // A bucket.
  await page.getByRole("navigation", { name: "Buckets and collections" }).getByRole("link", { name: "Create bucket" }).click();
  await page.getByLabel("Bucket id").fill(bid);
  await page.getByRole("button", { name: "Create bucket" }).click();
  await expect(page.getByRole("heading", { name: `Bucket ${bid}` })).toBeVisible();
  await expectMessage(page, `Bucket ${bid} created.`);

  // A collection with a schema, and another one that stays private.
  for (const cid of ["private", "tasks"]) {
    await page.getByRole("link", { name: "Create collection" }).click();
    await page.getByLabel("Collection id").fill(cid);
    if (cid === "tasks") {
      await page.getByLabel("JSON schema of the records").fill(JSON.stringify(SCHEMA, null, 2));
      await page.getByLabel("Fields shown in the list of records").fill("title, priority, status");
      await screenshot(page, "02-new-collection");
    }
    await page.getByRole("button", { name: "Create collection" }).click();
    await expect(page.getByRole("heading", { name: `Collection ${cid}` })).toBeVisible();
    await page.getByRole("link", { name: bid, exact: true }).first().click();
  }
  await page.getByRole("navigation", { name: "Buckets and collections" }).getByRole("link", { name: "tasks" }).click();

  // A record through the generated form: the server's refusal is shown beside the field first.
  await page.getByRole("link", { name: "Create record" }).click();
  await page.getByLabel("Priority").fill("2");
  await page.getByRole("button", { name: "Create record" }).click();
  await expect(page.getByRole("alert")).toContainText("'title' is a required property");
  await expect(page.getByLabel("Title")).toHaveAttribute("aria-invalid", "true");
  await page.getByLabel("Title").fill("Buy milk");
  await page.getByLabel("Done").check();
  await page.getByLabel("Status").selectOption("doing");
  await page.getByRole("button", { name: "Add to Tags" }).click();
  await page.getByLabel("Tags 1").fill("shopping");
  await screenshot(page, "03-record-form");
  await page.getByRole("button", { name: "Create record" }).click();
  await expectMessage(page, "created.");
  const rid = (await page.getByRole("heading", { level: 1 }).textContent())!.replace("Record ", "");

  // What the form sent is what the server stored.
  const stored = await api(request, alice, "GET", `/buckets/${bid}/collections/tasks/records/${rid}`);
  expect(stored.json.data).toMatchObject({ title: "Buy milk", done: true, priority: 2, status: "doing", tags: ["shopping"] });

  // A second record, edited as raw JSON.
  await page.getByRole("link", { name: "tasks", exact: true }).first().click();
  await page.getByRole("link", { name: "Create record" }).click();
  await page.getByRole("button", { name: "JSON" }).click();
  await page.getByLabel("Record (JSON)").fill(JSON.stringify({ title: "Water plants", priority: 1 }));
  await page.getByRole("button", { name: "Create record" }).click();
  await expectMessage(page, "created.");

  await page.getByRole("navigation", { name: "Breadcrumb" }).getByRole("link", { name: "tasks" }).click();
  const rows = page.getByRole("table", { name: "Records of collection tasks" }).locator("tbody tr");
  await expect(rows).toHaveCount(2);
  await expect(rows.filter({ hasText: "Buy milk" })).toContainText("doing");
  await screenshot(page, "04-records");

  // Share the collection with bob (read only).
  await page.getByRole("link", { name: "Permissions" }).click();
  const read = page.getByRole("group", { name: "Read", exact: true });
  await read.getByLabel("Other principals, one per line").fill(`account:${bob}`);
  await screenshot(page, "05-permissions");
  await page.getByRole("button", { name: "Save permissions" }).click();
  await expectMessage(page, "Permissions of collection tasks saved.");
  const shared = await api(request, alice, "GET", `/buckets/${bid}/collections/tasks`);
  expect(shared.json.permissions.read).toEqual([`account:${bob}`]);

  await page.getByRole("link", { name: "History" }).click();
  await expect(page.getByRole("table", { name: "History of collection tasks" }).locator("tbody tr")).toHaveCount(4);
  await screenshot(page, "06-history");

  // Bob sees the shared collection, its records, and nothing else of the bucket.
  await logOut(page);
  await logIn(page, bob);
  const sidebar = page.getByRole("navigation", { name: "Buckets and collections" });
  await expect(sidebar.getByRole("link", { name: bid })).toBeVisible();
  await expect(sidebar.getByRole("link", { name: "tasks" })).toBeVisible();
  await expect(sidebar.getByRole("link", { name: "private" })).toHaveCount(0);
  await expect(page.getByRole("region", { name: "Shared with you in other buckets" })).toContainText("tasks");
  await screenshot(page, "07-shared-home");

  await sidebar.getByRole("link", { name: bid }).click();
  const collections = page.getByRole("table", { name: `Collections of bucket ${bid}` }).locator("tbody tr");
  await expect(collections).toHaveCount(1);
  await expect(collections).toContainText("tasks");
  await expect(page.getByRole("link", { name: "Create collection" })).toHaveCount(0);

  await sidebar.getByRole("link", { name: "tasks" }).click();
  await expect(rows).toHaveCount(2);
  await expect(page.getByText("You may read the records of this collection, not create them.")).toBeVisible();
  await expect(page.getByRole("link", { name: "Create record" })).toHaveCount(0);

  await page.getByRole("link", { name: rid }).click();
  await expect(page.getByText("You may read this record but not change it.")).toBeVisible();
  await expect(page.getByLabel("Title")).toHaveValue("Buy milk");
  await expect(page.getByLabel("Title")).toBeDisabled();
  await expect(page.getByRole("button", { name: "Save record" })).toHaveCount(0);
  await expect(page.getByRole("button", { name: /Delete/ })).toHaveCount(0);
  await screenshot(page, "08-read-only-record");

  // The private collection stays out of reach, with the server's refusal said plainly.
  await page.goto(`./#/buckets/${bid}/collections/private`);
  await expect(page.getByRole("alert")).toContainText("You are not allowed to do this.");
  await expect(page.getByRole("alert")).toContainText("errno 121");

  expect(failures).toEqual([]);
});
