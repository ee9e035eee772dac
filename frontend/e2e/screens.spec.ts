import { expect, test } from "@playwright/test";
import { expectAccessible, PROJECT, screenshot, signIn, tokenFor } from "./helpers";

// Every screen loads, has no serious or critical axe violation, and is photographed for docs/
// at this project's width (1280 px and 390 px). axe is slow on a busy machine: generous timeouts.
test.describe.configure({ timeout: 180_000 });

test("sign-in page", async ({ page }, info) => {
  await page.goto("/signin");
  await expect(page.getByRole("heading", { name: "Sign in to Takt" })).toBeVisible();
  await expectAccessible(page, "sign-in");
  await screenshot(page, "signin", info);
});

test.describe("signed in", () => {
  test.beforeEach(async ({ page }) => {
    await signIn(page, "maya");
  });

  test("projects", async ({ page }, info) => {
    await expect(page.getByRole("heading", { name: "Projects" })).toBeVisible();
    await expect(page.getByText("Takt Demo: Checkout Service")).toBeVisible();
    await expectAccessible(page, "projects");
    await screenshot(page, "projects", info);
  });

  test("backlog", async ({ page }, info) => {
    await page.goto(`/p/${PROJECT}/backlog`);
    await expect(page.getByTestId("backlog-list").locator("li").first()).toBeVisible();
    await screenshot(page, "backlog", info);
    // axe over a filtered list: the same rows, fewer of them (axe takes long over hundreds).
    await page.goto(`/p/${PROJECT}/backlog?q=${encodeURIComponent("priority:urgent")}`);
    await expect(page.getByTestId("backlog-list").locator("li").first()).toBeVisible();
    await page.getByText("Status", { exact: true }).click(); // a facet open, as someone filtering
    await expectAccessible(page, "backlog");
  });

  test("refinement queue", async ({ page }, info) => {
    await page.goto(`/p/${PROJECT}/backlog?view=refinement`);
    await expect(page.getByText("Definition of Ready:")).toBeVisible();
    await expectAccessible(page, "refinement");
    await screenshot(page, "refinement", info);
  });

  test("item", async ({ page }, info) => {
    await page.goto(`/p/${PROJECT}/backlog`);
    await page.getByTestId("backlog-list").locator("a.item-title").first().click();
    await expect(page.getByRole("heading", { name: "Description" })).toBeVisible();
    await expect(page.getByRole("tab", { name: "Comments" })).toBeVisible();
    await expectAccessible(page, "item");
    await screenshot(page, "item", info);
    await page.getByRole("tab", { name: "History" }).click();
    await expect(page.getByRole("tabpanel").locator("li").first()).toBeVisible();
    await expectAccessible(page, "item history");
  });

  test("backlog bulk edit", async ({ page }, info) => {
    await page.goto(`/p/${PROJECT}/backlog?q=${encodeURIComponent("priority:urgent")}`);
    const rows = page.getByTestId("backlog-list").locator("li");
    await expect(rows.first()).toBeVisible();
    await rows.nth(0).getByRole("checkbox").check();
    await rows.nth(1).getByRole("checkbox").check();
    await expect(page.getByRole("form", { name: "Bulk edit" })).toContainText("2 selected");
    await expectAccessible(page, "backlog bulk edit");
    await screenshot(page, "backlog-bulk", info);
  });

  test("item promotion timeline", async ({ page, request }, info) => {
    // A demo item that went to production: its timeline has every stage.
    const headers = { Authorization: `Bearer ${await tokenFor(request, "maya")}` };
    const done = await request.get(`/api/v1/projects/${PROJECT}/items?q=${encodeURIComponent("category:done")}&limit=100`, { headers });
    const keys = ((await done.json()).data as { key: string; pull_requests: { merged: number } }[]).filter((i) => i.pull_requests.merged > 0).map((i) => i.key);
    let key: string | undefined;
    for (const k of keys) {
      const timeline = await (await request.get(`/api/v1/items/${k}/promotion`, { headers })).json();
      if ((timeline.stages as { stage: string; at: string | null }[]).every((s) => s.at)) {
        key = k;
        break;
      }
    }
    expect(key, "a demo item deployed everywhere").toBeDefined();
    await page.goto(`/p/${PROJECT}/items/${key}`);
    const timeline = page.getByRole("list", { name: `Promotion timeline of ${key}` });
    await expect(timeline).toContainText("Deployed to production");
    await timeline.scrollIntoViewIfNeeded();
    await expectAccessible(page, "item promotion");
    await screenshot(page, "item-promotion", info);
    await page.getByRole("tab", { name: "Blockers" }).click();
    await expect(page.getByRole("form", { name: "Raise a blocker" })).toBeVisible();
    await expectAccessible(page, "item blockers");
  });

  test("board", async ({ page }, info) => {
    await page.goto(`/p/${PROJECT}/board`);
    await expect(page.getByTestId("board")).toBeVisible();
    await expect(page.getByText("Live: changes by others appear")).toBeVisible();
    await expectAccessible(page, "board");
    await screenshot(page, "board", info);
  });

  test("sprints", async ({ page }, info) => {
    await page.goto(`/p/${PROJECT}/sprints`);
    await expect(page.getByRole("heading", { name: "Velocity" })).toBeVisible();
    await expect(page.locator("figure.chart").first()).toBeVisible();
    await expectAccessible(page, "sprints");
    await screenshot(page, "sprints", info);
  });

  // Settings (web-settings): each sub-page as the project's admin.
  for (const [section, ready] of [
    ["", "Definition of Ready"],
    ["members", "Members and roles"],
    ["workflow", "Add a status"],
    ["labels", "Create a label"],
    ["webhooks", "Create a webhook"],
    ["repositories", "Link a repository"],
  ] as const) {
    const name = `settings${section ? `-${section}` : ""}`;
    test(name, async ({ page }, info) => {
      await page.goto(`/p/${PROJECT}/settings${section ? `/${section}` : ""}`);
      await expect(page.getByRole("navigation", { name: "Settings" })).toBeVisible();
      await expect(page.getByText(ready, { exact: true }).first()).toBeVisible();
      await expectAccessible(page, name);
      await screenshot(page, name, info);
    });
  }
});

test.describe("dark theme and offline", () => {
  test.use({ colorScheme: "dark" });

  test("the dark theme follows the system, and stays accessible", async ({ page }, info) => {
    await signIn(page, "maya", `/p/${PROJECT}/board`);
    await expect(page.getByTestId("board")).toBeVisible();
    const background = await page.evaluate(() => getComputedStyle(document.body).backgroundColor);
    expect(background).toBe("rgb(17, 19, 24)");
    await expectAccessible(page, "board (dark)");
    await screenshot(page, "board-dark", info);
  });

  test("offline is shown", async ({ page, context }) => {
    await signIn(page, "maya", "/projects");
    await context.setOffline(true);
    await expect(page.getByTestId("offline-banner")).toContainText("You're offline");
    await context.setOffline(false);
    await expect(page.getByTestId("offline-banner")).toBeHidden();
  });
});
