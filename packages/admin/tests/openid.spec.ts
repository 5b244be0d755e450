/** Logging in with an OpenID Connect provider announced in the server's capabilities (tests/openid_server.py). */

import { expect, test } from "@playwright/test";

import { openidPort } from "../playwright.config";
import { watchFailures } from "./helpers";

test.use({ baseURL: `http://127.0.0.1:${openidPort}/v1/admin/` });

test("the provider's login comes back to the admin, logged in as the provider's user", async ({ page }) => {
  const failures = watchFailures(page);
  await page.goto("./#/login");
  await page.getByLabel("OpenID Connect (provider)").check();
  await page.getByRole("button", { name: "Continue with OpenID Connect (provider)" }).click();

  // The server, then the provider, then the server again send the browser back here with a token.
  await expect(page.locator(".user-id")).toHaveText("provider:carol");
  await expect(page).toHaveURL(/\/v1\/admin\/#\/$/);

  // The token works for what follows: a bucket created through the page belongs to carol.
  await page.goto("./#/new-bucket");
  await page.getByLabel("Bucket id").fill("carols");
  await page.getByRole("button", { name: "Create bucket" }).click();
  await expect(page.getByRole("heading", { name: "Bucket carols" })).toBeVisible();
  await page.getByRole("link", { name: "Permissions" }).click();
  await expect(page.getByRole("group", { name: "Write", exact: true }).getByLabel("Other principals, one per line")).toHaveValue(
    "provider:carol",
  );
  expect(failures).toEqual([]);
});
