/** Lists, groups, deletion, errors, keyboard, narrow screens: the admin against a live server. */

import { expect, test, type APIRequestContext, type Page } from "@playwright/test";

import { api, expectMessage, logIn, PASSWORD, screenshot, signUp, uniqueId, watchFailures } from "./helpers";

/** A user with a bucket and a collection of their own, made through the API. */
async function owner(request: APIRequestContext, collection: Record<string, unknown> = {}) {
  const user = uniqueId("owner");
  const bid = uniqueId("bucket");
  await signUp(request, user);
  expect((await api(request, user, "PUT", `/buckets/${bid}`, { data: {} })).status).toBe(201);
  expect((await api(request, user, "PUT", `/buckets/${bid}/collections/items`, { data: collection })).status).toBe(201);
  return { user, bid };
}

async function unlabelledControls(page: Page): Promise<string[]> {
  return page.locator("input, select, textarea").evaluateAll((elements) =>
    elements
      .filter((element) => {
        const control = element as HTMLInputElement;
        return !(control.labels?.length || control.getAttribute("aria-label") || control.getAttribute("aria-labelledby"));
      })
      .map((element) => element.outerHTML),
  );
}

test("records are listed a page at a time and sorted by the column picked", async ({ page, request }) => {
  const { user, bid } = await owner(request, { displayFields: ["n"] });
  for (let n = 0; n < 25; n++) {
    await api(request, user, "POST", `/buckets/${bid}/collections/items/records`, { data: { n: (n * 7) % 25 } });
  }
  await logIn(page, user);
  await page.goto(`./#/buckets/${bid}/collections/items`);
  const table = page.getByRole("table", { name: "Records of collection items" });
  const rows = table.locator("tbody tr");

  await expect(rows).toHaveCount(20);
  await page.getByRole("button", { name: "Load more" }).click();
  await expect(rows).toHaveCount(25);
  await expect(page.getByRole("button", { name: "Load more" })).toHaveCount(0);

  await table.getByRole("button", { name: "n", exact: true }).click();
  await expect(table.getByRole("columnheader", { name: "n" })).toHaveAttribute("aria-sort", "ascending");
  await expect(rows.first().locator("td").nth(1)).toHaveText("0");
  await expect(rows).toHaveCount(20);

  await table.getByRole("button", { name: "n", exact: true }).click();
  await expect(table.getByRole("columnheader", { name: "n" })).toHaveAttribute("aria-sort", "descending");
  await expect(rows.first().locator("td").nth(1)).toHaveText("24");
});

test("the server's refusals are said plainly: a wrong password, a taken id, a concurrent change", async ({ page, request }) => {
  const failures = watchFailures(page);
  const { user, bid } = await owner(request, { schema: { type: "object", properties: { title: { type: "string" } } } });

  await page.goto("./#/login");
  await page.getByLabel("Kinto account").check();
  await page.getByLabel("Username").fill(user);
  await page.getByLabel("Password").fill("not the password");
  await page.getByRole("button", { name: "Log in" }).click();
  await expect(page.getByRole("alert")).toHaveText("Login failed: the server did not accept these credentials.");

  await logIn(page, user);
  await page.goto("./#/new-bucket");
  await page.getByLabel("Bucket id").fill(bid);
  await page.getByRole("button", { name: "Create bucket" }).click();
  await expect(page.getByRole("alert")).toHaveText(`A bucket with the id “${bid}” already exists.`);

  const created = await api(request, user, "POST", `/buckets/${bid}/collections/items/records`, { data: { title: "v1" } });
  const rid = created.json.data.id;
  await page.goto(`./#/buckets/${bid}/collections/items/records/${rid}`);
  await expect(page.getByLabel("title")).toHaveValue("v1");
  await api(request, user, "PATCH", `/buckets/${bid}/collections/items/records/${rid}`, { data: { title: "changed elsewhere" } });
  await page.getByLabel("title").fill("v2");
  await page.getByRole("button", { name: "Save record" }).click();
  await expect(page.getByRole("alert")).toContainText("changed by someone else since you loaded it");
  await expect(page.getByRole("alert")).toContainText("412 Precondition Failed");
  await screenshot(page, "10-conflict");
  const kept = await api(request, user, "GET", `/buckets/${bid}/collections/items/records/${rid}`);
  expect(kept.json.data.title).toBe("changed elsewhere");

  expect(failures).toEqual([]);
});

test("a group given a permission passes it on to its members", async ({ page, request }) => {
  const { user, bid } = await owner(request);
  const member = uniqueId("member");
  await signUp(request, member);
  await logIn(page, user);

  await page.goto(`./#/buckets/${bid}/groups`);
  await page.getByRole("link", { name: "Create group" }).click();
  await page.getByLabel("Group id").fill("editors");
  await page.getByLabel("Members, one principal per line").fill(`account:${member}`);
  await page.getByRole("button", { name: "Create group" }).click();
  await expectMessage(page, "Group editors created.");
  const group = await api(request, user, "GET", `/buckets/${bid}/groups/editors`);
  expect(group.json.data.members).toEqual([`account:${member}`]);

  await page.goto(`./#/buckets/${bid}/collections/items/permissions`);
  await page.getByRole("group", { name: "Write", exact: true }).getByLabel("Members of group editors").check();
  await page.getByRole("button", { name: "Save permissions" }).click();
  await expectMessage(page, "Permissions of collection items saved.");

  const written = await api(request, member, "POST", `/buckets/${bid}/collections/items/records`, { data: { by: "member" } });
  expect(written.status).toBe(201);
});

test("records, collections and buckets are deleted after the user confirms", async ({ page, request }) => {
  const { user, bid } = await owner(request);
  const record = await api(request, user, "POST", `/buckets/${bid}/collections/items/records`, { data: { a: 1 } });
  const rid = record.json.data.id;
  await logIn(page, user);
  page.on("dialog", (dialog) => dialog.accept());

  await page.goto(`./#/buckets/${bid}/collections/items/records/${rid}`);
  await page.getByRole("button", { name: `Delete record ${rid}` }).click();
  await expectMessage(page, `Record ${rid} deleted.`);
  expect((await api(request, user, "GET", `/buckets/${bid}/collections/items/records/${rid}`)).status).toBe(404);

  await page.goto(`./#/buckets/${bid}/collections/items/attributes`);
  await page.getByRole("button", { name: "Delete collection items and its records" }).click();
  await expectMessage(page, "Collection items deleted.");
  expect((await api(request, user, "GET", `/buckets/${bid}/collections/items`)).status).toBe(404);

  await page.goto(`./#/buckets/${bid}/attributes`);
  await page.getByLabel("Attributes (JSON)").fill('{"title": "Team"}');
  await page.getByRole("button", { name: "Save bucket" }).click();
  await expectMessage(page, `Bucket ${bid} saved.`);
  expect((await api(request, user, "GET", `/buckets/${bid}`)).json.data.title).toBe("Team");
  await page.getByRole("button", { name: `Delete bucket ${bid} and everything in it` }).click();
  await expect(page.getByRole("heading", { name: "Buckets", level: 1 })).toBeVisible();
  await expect(page.getByRole("navigation", { name: "Buckets and collections" }).getByRole("link", { name: bid })).toHaveCount(0);
  expect((await api(request, user, "GET", `/buckets/${bid}`)).status).toBe(403);
});

test("the keyboard alone logs in and moves through the page; every control has a label", async ({ page, request }) => {
  const { user, bid } = await owner(request, {
    schema: {
      type: "object",
      properties: { title: { type: "string" }, size: { type: "number" }, kind: { enum: ["a", "b"] }, flags: { type: "array", items: { enum: ["x", "y"] }, uniqueItems: true } },
    },
  });
  await page.goto("./#/login");
  expect(await unlabelledControls(page)).toEqual([]);
  await page.keyboard.press("Tab"); // the checked method of the radio group
  await expect(page.getByLabel("Kinto account")).toBeFocused();
  await page.keyboard.press("Tab");
  await expect(page.getByLabel("Username")).toBeFocused();
  await page.keyboard.type(user);
  await page.keyboard.press("Tab");
  await page.keyboard.type(PASSWORD);
  await page.keyboard.press("Enter");
  await expect(page.locator(".user-id")).toHaveText(`account:${user}`);

  // A new view puts the focus on its heading; the first Tab offers to skip to the content.
  await page.goto(`./#/buckets/${bid}/collections/items/new-record`);
  await expect(page.getByRole("heading", { name: "Create a record in items" })).toBeFocused();
  expect(await unlabelledControls(page)).toEqual([]);
  await page.getByLabel("title").focus();
  await page.keyboard.type("typed");
  await page.keyboard.press("Tab");
  await page.keyboard.type("3.5");
  await page.keyboard.press("Tab");
  await page.keyboard.press("ArrowDown"); // the select: first choice after the empty one
  await page.keyboard.press("Tab");
  await page.keyboard.press("Space"); // flags: x
  await page.getByRole("button", { name: "Create record" }).press("Enter");
  await expectMessage(page, "created.");
  const records = await api(request, user, "GET", `/buckets/${bid}/collections/items/records`);
  expect(records.json.data[0]).toMatchObject({ title: "typed", size: 3.5, kind: "a", flags: ["x"] });

  await page.goto(`./#/buckets/${bid}/collections/items/permissions`);
  expect(await unlabelledControls(page)).toEqual([]);
});

test("on a narrow screen the menu opens the side bar and nothing overflows sideways", async ({ page, request }) => {
  const { user, bid } = await owner(request, { displayFields: ["title"] });
  await api(request, user, "POST", `/buckets/${bid}/collections/items/records`, { data: { title: "A long title ".repeat(8) } });
  await page.setViewportSize({ width: 375, height: 740 });
  await logIn(page, user);
  const sidebar = page.getByRole("navigation", { name: "Buckets and collections" });
  const menu = page.getByRole("button", { name: "Menu" });

  await expect(sidebar).toBeHidden();
  await expect(menu).toHaveAttribute("aria-expanded", "false");
  await menu.click();
  await expect(menu).toHaveAttribute("aria-expanded", "true");
  await sidebar.getByRole("link", { name: "items" }).click();
  await expect(page.getByRole("heading", { name: "Collection items" })).toBeVisible();
  await expect(sidebar).toBeHidden();
  await screenshot(page, "09-narrow-records");

  const overflow = await page.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth);
  expect(overflow).toBeLessThanOrEqual(0);
});

test("search finds the records matching a query, and says why a query is refused", async ({ page, request }) => {
  const { user, bid } = await owner(request);
  for (const title of ["buy milk", "buy bread", "water plants"]) {
    await api(request, user, "POST", `/buckets/${bid}/collections/items/records`, { data: { title } });
  }
  await logIn(page, user);
  await page.goto(`./#/buckets/${bid}/collections/items`);
  await page.getByRole("link", { name: "Search" }).click();

  await page.getByRole("searchbox", { name: "Search records" }).fill("title:buy");
  await page.getByRole("button", { name: "Search", exact: true }).click();
  await expect(page.getByText("2 records found.")).toBeVisible();
  await expect(page.locator(".hits li")).toHaveCount(2);
  await expect(page.locator(".hits")).toContainText("buy milk");
  await expect(page.locator(".hits")).not.toContainText("water plants");
  await screenshot(page, "11-search");

  await page.getByRole("searchbox", { name: "Search records" }).fill("title:(");
  await page.getByRole("button", { name: "Search", exact: true }).click();
  await expect(page.getByRole("alert")).toContainText("400");
});

test("a visitor signs up from the login page; anonymous visitors read what everybody may read, read-only", async ({ page, request }) => {
  const { user, bid } = await owner(request);
  await api(request, user, "PATCH", `/buckets/${bid}/collections/items`, { permissions: { read: ["system.Everyone"] } });
  await api(request, user, "POST", `/buckets/${bid}/collections/items/records`, { data: { title: "public" } });

  const newcomer = uniqueId("newcomer");
  await page.goto("./#/login");
  await page.getByLabel("Kinto account").check();
  await page.getByLabel("Username").fill(newcomer);
  await page.getByLabel("Password").fill(PASSWORD);
  await page.getByRole("button", { name: "Create this account" }).click();
  await expect(page.locator(".user-id")).toHaveText(`account:${newcomer}`);
  expect((await api(request, newcomer, "GET", `/accounts/${newcomer}`)).status).toBe(200);
  await page.getByRole("button", { name: "Log out" }).click();

  await page.getByLabel("Anonymous").check();
  await page.getByRole("button", { name: "Log in" }).click();
  await expect(page.getByRole("banner")).toContainText("Anonymous");
  await page.goto(`./#/buckets/${bid}/collections/items`);
  await expect(page.getByRole("table", { name: "Records of collection items" }).locator("tbody tr")).toHaveCount(1);
  await expect(page.getByRole("link", { name: "Create record" })).toHaveCount(0);
  await expect(page.getByRole("link", { name: "Create bucket" })).toHaveCount(0);
});
