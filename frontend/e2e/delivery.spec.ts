import { expect, test, type APIRequestContext, type Page, type TestInfo } from "@playwright/test";
import { expectAccessible, PROJECT, screenshot, signIn, tokenFor } from "./helpers";

// The delivery screens on the demo: deployments per environment, the review queue, a readiness
// check that says why a commit isn't ready, an incident opened from a deployment and resolved,
// DORA with its bands and the flow charts. axe and screenshots at 1280 px and 390 px.
test.describe.configure({ mode: "serial", timeout: 180_000 });

/** axe and a screenshot at this width, then at 390 px (and back); `show` scrolls to what the
 * screenshot is of (default: the top of the page). */
async function checkBothWidths(page: Page, name: string, info: TestInfo, ready: () => Promise<void>, show?: () => Promise<void>) {
  const scroll = show ?? (() => page.evaluate(() => window.scrollTo(0, 0)));
  await expectAccessible(page, `${name} at 1280 px`);
  await scroll();
  await screenshot(page, name, info);
  await page.setViewportSize({ width: 390, height: 844 });
  await ready();
  await expectAccessible(page, `${name} at 390 px`);
  await scroll();
  await screenshot(page, name, info);
  await page.setViewportSize({ width: 1280, height: 800 });
}

async function latestSuccess(request: APIRequestContext, token: string, environment: string) {
  const response = await request.get(`/api/v1/projects/${PROJECT}/deployments?environment=${environment}&state=success&limit=1`, {
    headers: { Authorization: `Bearer ${token}` },
  });
  expect(response.ok()).toBeTruthy();
  return (await response.json()).data[0] as { id: string; sha: string; version: string | null };
}

test("deployments per environment, in promotion order, with what each shipped", async ({ page }, info) => {
  await signIn(page, "maya", `/p/${PROJECT}/delivery`);
  const columns = page.getByTestId("environments");
  await expect(columns.getByRole("heading", { level: 2 })).toHaveText(["development", "staging", "production"]);
  const production = page.getByRole("region", { name: "production" });
  await expect(production.getByTestId("deployment").first()).toBeVisible();
  await expect(production.getByText("failed in service").first()).toBeVisible(); // the demo's incidents and rollback
  await expect(production.getByText(/^Running v/)).toBeVisible();

  // What a deployment shipped, opened by keyboard.
  const summary = production.getByTestId("deployment").first().locator("summary");
  await summary.focus();
  await page.keyboard.press("Enter");
  await expect(production.getByRole("heading", { name: /^Items \(\d+\)$/ }).first()).toBeVisible();
  await expect(production.getByRole("heading", { name: /^Commits \(\d+/ }).first()).toBeVisible();
  await checkBothWidths(page, "delivery-deployments", info, async () => {
    await expect(production.getByTestId("deployment").first()).toBeVisible();
  });

  // A deployment's own page.
  await production.getByTestId("deployment").first().getByRole("link").first().click();
  await expect(page.getByRole("heading", { name: "What it shipped" })).toBeVisible();
  await expect(page.getByRole("heading", { name: "Incidents it caused or fixed" })).toBeVisible();
  await expectAccessible(page, "a deployment");
});

test("the review queue lists pull requests waiting for review, oldest wait first", async ({ page }, info) => {
  await signIn(page, "maya", `/p/${PROJECT}/delivery/reviews`);
  const list = page.getByTestId("waiting-prs");
  const empty = page.getByRole("heading", { name: "Nothing is waiting for a review" });
  await expect(list.or(empty)).toBeVisible();
  if (await list.isVisible()) await expect(list.locator("li").first()).toContainText(/waiting/);
  await page.getByLabel("Waiting", { exact: true }).selectOption("24");
  await expect(page).toHaveURL(/over=24/);
  await expect(page.getByTestId("waiting-prs").or(page.getByRole("heading", { name: "Nothing has waited that long" }))).toBeVisible();
  await checkBothWidths(page, "delivery-reviews", info, async () => {
    await expect(page.getByRole("heading", { name: "Review queue" })).toBeVisible();
  });
});

test("readiness: the newest demo commit is not ready for production, and the page says why", async ({ page, request }, info) => {
  const token = await tokenFor(request, "maya");
  const newest = await latestSuccess(request, token, "development");
  await signIn(page, "maya", `/p/${PROJECT}/delivery/readiness`);

  // By keyboard: the environment, the commit, Enter.
  await page.getByLabel("To environment").selectOption("production");
  await page.getByLabel(/Commit SHA/).focus();
  await page.keyboard.type(newest.sha);
  const asked = page.waitForRequest((r) => r.url().includes(`/api/v1/projects/${PROJECT}/readiness?`));
  await page.keyboard.press("Enter");
  const url = new URL((await asked).url());
  expect(url.searchParams.get("environment")).toBe("production");
  expect(url.searchParams.get("ref")).toBe(newest.sha);

  const verdict = page.getByRole("heading", { name: "Not ready for production" });
  await expect(verdict).toBeVisible();
  await expect(verdict).toBeFocused(); // a keyboard user lands on the answer
  const checks = page.getByTestId("readiness-check");
  await expect(checks).toHaveCount(5);
  // Failing checks first, each with its reason.
  const results = await checks.evaluateAll((els) => els.map((e) => e.getAttribute("data-result")));
  expect(results[0]).toBe("fail");
  expect(results.indexOf("fail")).toBe(0);
  expect(results.lastIndexOf("fail")).toBeLessThan(results.indexOf("pass") === -1 ? 99 : results.indexOf("pass"));
  await expect(page.getByTestId("readiness-answer")).toContainText(/no successful deployment to staging, which must come before production/);
  await expect(page.getByTestId("readiness-answer")).toContainText(/open incident of sev2 or worse in production/);
  await checkBothWidths(
    page,
    "delivery-readiness",
    info,
    async () => {
      await expect(verdict).toBeVisible();
    },
    async () => {
      if ((page.viewportSize()?.width ?? 0) < 900) await page.getByTestId("readiness-answer").evaluate((e) => e.scrollIntoView({ block: "start" }));
      else await page.evaluate(() => window.scrollTo(0, 0));
    },
  );

  // The commit staging runs passes more checks; asked by items, the same checklist.
  await page.getByRole("button", { name: /^On staging:/ }).click();
  await page.getByRole("button", { name: "Check readiness" }).click();
  await expect(page.locator('[data-testid="readiness-check"][data-result="pass"]').first()).toBeVisible();
  await page.getByLabel("work items").check();
  await page.getByLabel(/Item keys/).fill("demo-83, nonsense");
  await page.getByRole("button", { name: "Check readiness" }).click();
  await expect(page.getByRole("alert").filter({ hasText: "Not item keys: nonsense" })).toBeVisible();
});

test("an incident opened from the deployment that caused it, then resolved", async ({ page, request, browser }, info) => {
  const token = await tokenFor(request, "maya");
  const deployment = await latestSuccess(request, token, "development");
  const title = `E2E: login loops on ${deployment.version ?? deployment.sha.slice(0, 7)}`;
  await signIn(page, "maya", `/p/${PROJECT}/delivery/deployments/${deployment.id}`);
  await page.getByRole("button", { name: "Open an incident it caused" }).click();
  const dialog = page.getByRole("dialog");
  await dialog.getByLabel("What broke?").fill(title);
  await dialog.getByLabel("Severity").selectOption("sev3");
  await expect(dialog.getByLabel(/Caused by/)).toHaveValue(deployment.id);
  await dialog.getByRole("button", { name: "Open incident" }).click();
  await expect(dialog).toBeHidden();
  const linked = page.getByTestId("incident").filter({ hasText: title });
  await expect(linked).toContainText("this deployment");
  await expect(page.getByText("failed in service").first()).toBeVisible(); // the deployment now counts as failed

  await page.getByRole("link", { name: "Incidents", exact: true }).click();
  const card = page.getByTestId("incident").filter({ hasText: title });
  await expect(card).toContainText("open");
  await expectAccessible(page, "incidents");
  await card.getByRole("button", { name: /^Resolve INC-/ }).click();
  await expect(page.getByRole("dialog")).toContainText(title);
  await page.getByRole("dialog").getByRole("button", { name: "Resolve" }).click();
  await expect(card).toHaveCount(0); // gone from the open ones
  await page.getByLabel("Show", { exact: true }).selectOption("resolved");
  await expect(page.getByTestId("incident").filter({ hasText: title })).toContainText("resolved");
  await page.getByLabel("Show", { exact: true }).selectOption("open");
  await expect(page.getByTestId("incident").first()).toBeVisible();
  await checkBothWidths(page, "delivery-incidents", info, async () => {
    await expect(page.getByTestId("incident").first()).toBeVisible();
  });

  // A viewer reads incidents and can't open or resolve one.
  const viewer = await browser.newContext();
  const vera = await viewer.newPage();
  await signIn(vera, "vera", `/p/${PROJECT}/delivery/incidents`);
  await expect(vera.getByTestId("incident").first()).toBeVisible();
  await expect(vera.getByRole("button", { name: "Open an incident" })).toHaveCount(0);
  await expect(vera.getByRole("button", { name: /^Resolve INC-/ })).toHaveCount(0);
  await viewer.close();
});

test("the DORA dashboard shows the five numbers with their bands and the counts", async ({ page }, info) => {
  await signIn(page, "maya", `/p/${PROJECT}/delivery/dora`);
  const metrics = page.getByTestId("dora-metric");
  await expect(metrics).toHaveCount(5);
  await expect(page.getByText("DORA 2024", { exact: true })).toBeVisible();
  for (const name of ["Deployment frequency", "Change lead time", "Change failure rate", "Failed deployment recovery time", "Deployment rework rate"]) {
    const card = metrics.filter({ has: page.getByRole("heading", { name, exact: true }) });
    await expect(card.locator(".metric-value")).not.toHaveText("–");
    await expect(card.locator(".metric-counts")).toContainText(/\d+ of \d+|\d+ deployments? in \d+ days/);
  }
  const bands = await page.getByTestId("band").allTextContents();
  expect(bands).toHaveLength(4); // rework rate has none in DORA 2024
  for (const band of bands) expect(band).toMatch(/Band: (Elite|High|Medium|Low)$/);
  await expect(page.getByRole("heading", { name: "Week by week" })).toBeVisible();
  await expect(page.getByRole("img", { name: /Deployments to production per week/ })).toBeVisible();

  // Another period and environment, kept in the address.
  await page.getByLabel("Period").selectOption("30");
  await page.getByLabel("Environment").selectOption("staging");
  await expect(page).toHaveURL(/days=30/);
  await expect(page.getByText(/^staging, /)).toBeVisible();
  await page.getByLabel("Environment").selectOption("production");
  await page.getByLabel("Period").selectOption("90");
  await expect(page.getByText(/^production, /)).toBeVisible();
  await checkBothWidths(page, "delivery-dora", info, async () => {
    await expect(metrics.first()).toBeVisible();
  });
});

test("flow: cumulative flow, cycle-time scatter, throughput and the age of work in progress", async ({ page }, info) => {
  await signIn(page, "maya", `/p/${PROJECT}/delivery/flow`);
  await expect(page.getByTestId("flow-metric")).toHaveCount(4);
  await expect(page.getByRole("img", { name: /^Cumulative flow from/ })).toBeVisible();
  await expect(page.getByRole("img", { name: /^Cycle time in days of the \d+ items finished/ })).toBeVisible();
  await expect(page.getByRole("img", { name: /^Items finished on each working day/ })).toBeVisible();
  await expect(page.getByRole("table", { name: "Items in progress, the oldest first" })).toBeVisible();
  await page.getByLabel("Include the backlog").check();
  await expect(page.getByRole("img", { name: /^Cumulative flow from .*each day$/ })).toBeVisible();
  // The scatter's points as a table, by keyboard.
  const scatter = page.getByRole("region", { name: "Cycle time of finished items" });
  await scatter.locator("summary").focus();
  await page.keyboard.press("Enter");
  await expect(scatter.getByRole("table").locator("tbody tr").first()).toBeVisible();
  await checkBothWidths(page, "delivery-flow", info, async () => {
    await expect(page.getByTestId("flow-metric").first()).toBeVisible();
  });

  // A filter the API can't use is shown, not swallowed.
  await page.getByRole("textbox", { name: /^Items/ }).fill("label:no-such-label-here");
  await page.getByRole("button", { name: "Apply" }).click();
  await expect(page.getByRole("alert").filter({ hasText: /no-such-label-here/ })).toBeVisible();
});
