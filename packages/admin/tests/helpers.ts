import { mkdirSync } from "node:fs";
import { join, resolve } from "node:path";

import { expect, type APIRequestContext, type Page } from "@playwright/test";

export const PASSWORD = "s3cret-enough";

/** Ids of their own for each test: they share one server. */
export function uniqueId(prefix: string): string {
  return `${prefix}-${Date.now().toString(36)}${Math.random().toString(36).slice(2, 6)}`;
}

export function basic(username: string, password = PASSWORD): string {
  return "Basic " + Buffer.from(`${username}:${password}`).toString("base64");
}

/** An account of the accounts plugin, created through the API. */
export async function signUp(request: APIRequestContext, username: string, password = PASSWORD): Promise<void> {
  const response = await request.put(`/v1/accounts/${username}`, { data: { data: { password } } });
  expect(response.status(), await response.text()).toBe(201);
}

/** Call the API as ``username`` (for what a test prepares or checks behind the page's back). */
export async function api(
  request: APIRequestContext,
  username: string,
  method: string,
  path: string,
  body?: unknown,
): Promise<{ status: number; json: any }> {
  const response = await request.fetch(`/v1${path}`, {
    method,
    headers: { Authorization: basic(username) },
    data: body,
  });
  const text = await response.text();
  return { status: response.status(), json: text ? JSON.parse(text) : null };
}

/** Log in through the page with a Kinto account. */
export async function logIn(page: Page, username: string, password = PASSWORD): Promise<void> {
  await page.goto("./#/login");
  await page.getByLabel("Kinto account").check();
  await page.getByLabel("Username").fill(username);
  await page.getByLabel("Password").fill(password);
  await page.getByRole("button", { name: "Log in" }).click();
  await expect(page.locator(".user-id")).toHaveText(`account:${username}`);
}

export async function logOut(page: Page): Promise<void> {
  await page.getByRole("button", { name: "Log out" }).click();
  await expect(page.getByRole("heading", { name: /Log in/ })).toBeVisible();
}

/**
 * Failures the page must never have: uncaught exceptions, and anything the Content-Security-Policy
 * blocked (the browser reports both on the console). A refused request (403) is the server's answer,
 * shown in the page, not such a failure.
 */
export function watchFailures(page: Page): string[] {
  const failures: string[] = [];
  page.on("pageerror", (error) => failures.push(`page error: ${error.message}`));
  page.on("console", (message) => {
    if (message.type() === "error" && /Content.Security.Policy|Refused to/i.test(message.text())) {
      failures.push(`console: ${message.text()}`);
    }
  });
  return failures;
}

/** Screenshots for the documentation, when $KINTO_ADMIN_SCREENSHOTS names a folder (docs/admin/). */
export async function screenshot(page: Page, name: string): Promise<void> {
  const folder = process.env.KINTO_ADMIN_SCREENSHOTS;
  if (!folder) return;
  const target = resolve(folder);
  mkdirSync(target, { recursive: true });
  await page.screenshot({ path: join(target, `${name}.png`), fullPage: true });
}

/** The message the page says after an action (a live region: screen readers read it too). */
export async function expectMessage(page: Page, text: string | RegExp): Promise<void> {
  await expect(page.locator("main").getByRole("status").filter({ hasText: text })).toBeVisible();
}
