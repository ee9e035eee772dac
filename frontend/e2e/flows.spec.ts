import { expect, test, type Page } from "@playwright/test";
import { PASSWORD, PROJECT, signIn, tokenFor } from "./helpers";

// The day's work through the browser, in order (each step changes the demo for the next).
test.describe.configure({ mode: "serial", timeout: 120_000 });

test("sign-in shows the problem, keeps the session across a reload, signs out", async ({ page }) => {
  await page.goto("/p/DEMO/board");
  await expect(page).toHaveURL(/\/signin\?next=/);
  await page.getByLabel("Username or email").fill("maya");
  await page.getByLabel("Password").fill("wrong password");
  await page.getByRole("button", { name: "Sign in" }).click();
  const alert = page.getByRole("alert").filter({ hasText: /./ }).first();
  await expect(alert).toContainText(/invalid|credentials|password/i);

  await page.getByLabel("Password").fill(PASSWORD);
  await page.getByRole("button", { name: "Sign in" }).click();
  await expect(page).toHaveURL(/\/p\/DEMO\/board$/); // back where they were going

  // The access token is in memory only: a reload resumes from the HttpOnly refresh cookie.
  const cookies = await page.context().cookies();
  expect(cookies.find((c) => c.name === "takt_refresh")?.httpOnly).toBe(true);
  expect(await page.evaluate(() => document.cookie)).not.toContain("takt_refresh");
  const storage = await page.evaluate(() => JSON.stringify({ ...localStorage }) + JSON.stringify({ ...sessionStorage }));
  expect(storage).not.toMatch(/eyJ|takt_rt_/);
  await page.reload();
  await expect(page.getByRole("heading", { name: "Board" })).toBeVisible();

  await page.getByRole("button", { name: /Account: Maya Lead/ }).click();
  await page.getByRole("button", { name: "Sign out", exact: true }).click();
  await expect(page).toHaveURL(/\/signin/);
  await page.goto("/projects");
  await expect(page).toHaveURL(/\/signin/); // the session is gone, not just the page
});

test("a 401 refreshes once, then the request goes through", async ({ page }) => {
  await signIn(page, "maya", "/projects");
  await expect(page.getByText("Takt Demo: Checkout Service")).toBeVisible(); // its list is in
  let refreshes = 0;
  page.on("request", (r) => {
    if (r.url().endsWith("/api/v1/auth/session/refresh")) refreshes += 1;
  });
  // The next project list answers 401 once, as with an expired access token.
  let failed = false;
  await page.route("**/api/v1/projects?**", async (route) => {
    if (failed) return route.continue();
    failed = true;
    await route.fulfill({ status: 401, contentType: "application/problem+json", body: JSON.stringify({ title: "Unauthorized", status: 401 }) });
  });
  await page.reload();
  await expect(page.getByText("Takt Demo: Checkout Service")).toBeVisible();
  expect(failed).toBe(true);
  expect(refreshes).toBeGreaterThanOrEqual(2); // one at start-up (resume), one for the 401
});

test("sign out everywhere ends the other browsers' sessions too", async ({ page, browser }) => {
  await signIn(page, "sara", "/projects");
  const other = await browser.newContext();
  const elsewhere = await other.newPage();
  await signIn(elsewhere, "sara", "/projects");
  await page.getByRole("button", { name: /Account/ }).click();
  const done = page.waitForResponse((r) => r.url().endsWith("/api/v1/auth/session/logout-everywhere"));
  await page.getByRole("button", { name: "Sign out everywhere" }).click();
  expect((await done).status()).toBe(204);
  await expect(page).toHaveURL(/\/signin/);
  await elsewhere.reload(); // its refresh cookie was revoked with the others
  await expect(elsewhere).toHaveURL(/\/signin/);
  await other.close();
});

test("reorder the backlog with the keyboard: one move request", async ({ page }) => {
  await signIn(page, "maya", `/p/${PROJECT}/backlog`);
  const rows = page.getByTestId("backlog-list").locator(":scope > li");
  await expect(rows.first()).toBeVisible();
  const keys = await rows.evaluateAll((els) => els.slice(0, 3).map((e) => e.getAttribute("data-key")!));
  const moves: { url: string; body: unknown }[] = [];
  page.on("request", (r) => {
    if (r.method() === "POST" && r.url().includes("/move")) moves.push({ url: r.url(), body: r.postDataJSON() });
  });
  const handle = page.getByRole("button", { name: `Reorder ${keys[2]}, rank 3` });
  await handle.focus();
  await page.keyboard.press("Space");
  await page.keyboard.press("ArrowUp");
  await page.keyboard.press("ArrowUp");
  const answer = page.waitForResponse((r) => r.url().includes(`/items/${keys[2]}/move`));
  await page.keyboard.press("Space");
  expect((await answer).status()).toBe(200);
  expect(moves).toEqual([{ url: expect.stringContaining(`/api/v1/items/${keys[2]}/move`), body: { before: keys[0] } }]);
  await expect(rows.first()).toHaveAttribute("data-key", keys[2]!);
  await page.reload();
  await expect(rows.first()).toHaveAttribute("data-key", keys[2]!); // stored, not just drawn
});

async function dragTo(page: Page, from: ReturnType<Page["locator"]>, to: ReturnType<Page["locator"]>) {
  const a = (await from.boundingBox())!;
  await page.mouse.move(a.x + a.width / 2, a.y + 12);
  await page.mouse.down();
  await page.mouse.move(a.x + a.width / 2 + 10, a.y + 20, { steps: 3 });
  // The target is measured once the drag has begun: starting a drag can redraw the board
  // (the dragged card's placeholder), which moves the columns a measure taken before would use.
  const b = (await to.boundingBox())!;
  await page.mouse.move(b.x + b.width / 2, b.y + 60, { steps: 12 });
  await page.mouse.move(b.x + b.width / 2, b.y + 64, { steps: 2 });
  await page.mouse.up();
}

test("drag a card across the board: PATCH with If-Match, seen live by a second browser", async ({ page, browser }) => {
  await signIn(page, "maya", `/p/${PROJECT}/board`);
  const todo = page.locator('section.column[data-status="To Do"]');
  const inProgress = page.locator('section.column[data-status="In Progress"]');
  await expect(page.getByText("Live: changes by others appear")).toBeVisible();
  const card = todo.locator("li.board-card").first();
  const key = (await card.getAttribute("data-key"))!;

  // Leo watches the same board in another browser.
  const other = await browser.newContext();
  const leo = await other.newPage();
  await signIn(leo, "leo", `/p/${PROJECT}/board`);
  await expect(leo.getByText("Live: changes by others appear")).toBeVisible();
  await expect(leo.locator('section.column[data-status="To Do"]').locator(`li[data-key="${key}"]`)).toBeVisible();

  const request = page.waitForRequest((r) => r.method() === "PATCH" && r.url().endsWith(`/api/v1/items/${key}`));
  const response = page.waitForResponse((r) => r.request().method() === "PATCH" && r.url().endsWith(`/api/v1/items/${key}`));
  await dragTo(page, card, inProgress);
  const sent = await request;
  expect(sent.headers()["if-match"]).toMatch(/^"v\d+"$/);
  expect(Object.keys(sent.postDataJSON())).toEqual(["status"]);
  const answer = await response;
  expect(answer.status()).toBe(200);
  expect((await answer.json()).status.name).toBe("In Progress");
  await expect(inProgress.locator(`li[data-key="${key}"]`)).toBeVisible();

  await expect(leo.locator('section.column[data-status="In Progress"]').locator(`li[data-key="${key}"]`)).toBeVisible({ timeout: 5_000 });
  await other.close();
});

test("a concurrent edit answers 412: shown, and the card reloaded", async ({ page, request }) => {
  // A card of its own in the running sprint's In Progress column, whatever ran before.
  const maya = { Authorization: `Bearer ${await tokenFor(request, "maya")}` };
  const sprints = await request.get(`/api/v1/projects/${PROJECT}/sprints?state=active`, { headers: maya });
  expect(sprints.ok(), await sprints.text()).toBeTruthy();
  const running = (await sprints.json()).data as { id: string }[];
  expect(running, "the demo project has a running sprint").toHaveLength(1);
  const sprint = running[0]!;
  const created = await request.post(`/api/v1/projects/${PROJECT}/items`, {
    headers: maya,
    data: { title: `Concurrent edit ${Date.now()}`, type: "task", status: "In Progress", sprint_id: sprint.id },
  });
  expect(created.status(), await created.text()).toBe(201);
  const key = ((await created.json()) as { key: string }).key;

  await signIn(page, "maya", "/projects");
  // No live updates for this page: it keeps the card as it was when loaded.
  await page.route("**/api/v1/projects/*/events", (route) => route.abort());
  await page.goto(`/p/${PROJECT}/board`);
  const column = page.locator('section.column[data-status="In Progress"]');
  await expect(column.locator(`li[data-key="${key}"]`)).toBeVisible();

  // Leo changes the card meanwhile.
  const token = await tokenFor(request, "leo");
  const changed = await request.patch(`/api/v1/items/${key}`, {
    headers: { Authorization: `Bearer ${token}` },
    data: { priority: "urgent", title: `${key} renamed by Leo` },
  });
  expect(changed.ok()).toBeTruthy();

  const answer = page.waitForResponse((r) => r.request().method() === "PATCH" && r.url().endsWith(`/api/v1/items/${key}`));
  await page.getByLabel(`Status of ${key}`).selectOption({ label: "In Review" });
  expect((await answer).status()).toBe(412);
  await expect(page.getByRole("alert").getByText(`${key} was changed by someone else`)).toBeVisible();
  const reloaded = page.locator(`li[data-key="${key}"]`);
  await expect(reloaded).toContainText(`${key} renamed by Leo`);
  await expect(reloaded).toContainText("Changed by someone else");
  await expect(column.locator(`li[data-key="${key}"]`)).toBeVisible(); // not moved: it was refused
});

test("plan a sprint within capacity, complete the active one with carry-over, start the new one", async ({ page }) => {
  await signIn(page, "maya", `/p/${PROJECT}/sprints`);
  await page.getByRole("button", { name: "New sprint" }).click();
  await page.getByLabel("Name").fill("E2E Sprint");
  await page.getByLabel("Goal").fill("Prove the web app plans sprints");
  await page.getByRole("button", { name: "Create sprint" }).click();
  await expect(page.getByRole("heading", { name: /E2E Sprint/ })).toBeVisible();
  await expect(page.getByText(/Planned 0 of [\d.]+ points/)).toBeVisible();

  const candidates = page.getByTestId("sprint-candidates");
  for (let i = 0; i < 2; i++) {
    const add = candidates.getByRole("button", { name: /^Add / }).first();
    const label = (await add.getAttribute("aria-label"))!;
    await add.click();
    await expect(page.getByTestId("sprint-scope").getByRole("button", { name: label.replace("Add", "Remove").replace("to the", "from the") })).toBeVisible();
    await expect(candidates.getByRole("button", { name: label })).toHaveCount(0); // no longer offered
  }
  await expect(page.getByRole("heading", { name: "In this sprint (2)" })).toBeVisible();
  await expect(page.getByRole("meter", { name: "Planned points against capacity" })).toBeVisible();

  // One sprint is active at a time: complete Sprint 4, carrying its unfinished work over.
  await page.getByRole("link", { name: /Sprint 4/ }).click();
  await page.getByRole("button", { name: "Complete sprint" }).click();
  await expect(page.getByRole("radio", { name: /next planned sprint/ })).toBeChecked();
  const complete = page.waitForResponse((r) => r.url().includes("/complete"));
  await page.getByRole("dialog").getByRole("button", { name: "Complete sprint" }).click();
  expect((await complete).status()).toBe(200);
  // The toast's, not the heading's: once the sprint is read again its heading reads "Sprint 4 completed" too.
  await expect(page.getByTestId("toast").getByText("Sprint 4 completed")).toBeVisible();

  await page.getByRole("link", { name: /E2E Sprint/ }).click();
  await expect(page.getByRole("heading", { name: /In this sprint \((\d+)\)/ })).not.toHaveText("In this sprint (2)"); // carried over
  const start = page.waitForResponse((r) => r.url().includes("/start"));
  await page.getByRole("button", { name: "Start sprint" }).click();
  expect((await start).status()).toBe(200);
  await expect(page.getByTestId("toast").getByText("E2E Sprint started")).toBeVisible();
  await expect(page.getByRole("heading", { name: /E2E Sprint/ }).getByText("active")).toBeVisible();
  await expect(page.getByRole("heading", { name: "Burndown" })).toBeVisible();
});
