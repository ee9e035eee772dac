import AxeBuilder from "@axe-core/playwright";
import { expect, type APIRequestContext, type Page, type TestInfo } from "@playwright/test";
import { mkdirSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

export const PASSWORD = "takt-demo-password";
export const PROJECT = "DEMO";
const screenshots = resolve(dirname(fileURLToPath(import.meta.url)), "..", "..", "docs", "screenshots");

export async function signIn(page: Page, username = "maya", next = "/projects") {
  await page.goto(`/signin?next=${encodeURIComponent(next)}`);
  await page.getByLabel("Username or email").fill(username);
  await page.getByLabel("Password").fill(PASSWORD);
  await page.getByRole("button", { name: "Sign in" }).click();
  await page.waitForURL((url) => !url.pathname.startsWith("/signin"));
}

/** No serious or critical accessibility violations on the page as it is. */
export async function expectAccessible(page: Page, what: string) {
  const results = await new AxeBuilder({ page }).withTags(["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "best-practice"]).analyze();
  const bad = results.violations.filter((v) => v.impact === "serious" || v.impact === "critical");
  const summary = bad.map((v) => `${v.impact} ${v.id}: ${v.help}\n  ${v.nodes.slice(0, 3).map((n) => n.target.join(" ")).join("\n  ")}`);
  expect(summary, `axe on ${what}`).toEqual([]);
}

/** Saves docs/screenshots/<name>-<width>.png. */
export async function screenshot(page: Page, name: string, info: TestInfo) {
  const width = page.viewportSize()?.width ?? 0;
  mkdirSync(screenshots, { recursive: true });
  const path = join(screenshots, `${name}-${width}.png`);
  await page.screenshot({ path, fullPage: false });
  await info.attach(`${name}-${width}`, { path, contentType: "image/png" });
}

/** A bearer token for API calls made beside the browser (another user's edits). */
export async function tokenFor(request: APIRequestContext, username: string): Promise<string> {
  const response = await request.post("/api/v1/auth/token", { form: { username, password: PASSWORD } });
  expect(response.ok()).toBeTruthy();
  return (await response.json()).access_token as string;
}
