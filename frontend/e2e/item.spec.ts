import { expect, test, type APIRequestContext } from "@playwright/test";
import { PROJECT, signIn, tokenFor } from "./helpers";

// The backlog's bulk edit and the item screen: every field, links, blockers and the promotion
// timeline. Each test makes its own items through the API, so it needs no order.
test.describe.configure({ timeout: 120_000 });

async function api(request: APIRequestContext, token: string) {
  const headers = { Authorization: `Bearer ${token}` };
  return {
    async create(title: string, extra: Record<string, unknown> = {}) {
      const answer = await request.post(`/api/v1/projects/${PROJECT}/items`, { headers, data: { title, type: "task", ...extra } });
      expect(answer.status(), await answer.text()).toBe(201);
      return (await answer.json()) as { key: string; version: number };
    },
    async item(key: string) {
      const answer = await request.get(`/api/v1/items/${key}`, { headers });
      expect(answer.ok()).toBeTruthy();
      return answer.json();
    },
    async remove(key: string) {
      const answer = await request.delete(`/api/v1/items/${key}`, { headers });
      expect(answer.ok(), await answer.text()).toBeTruthy();
    },
    async get(path: string) {
      const answer = await request.get(path, { headers });
      expect(answer.ok(), path).toBeTruthy();
      return answer.json();
    },
  };
}

test("bulk edit two items from the backlog in one request", async ({ page, request }) => {
  const client = await api(request, await tokenFor(request, "maya"));
  const tag = `Bulk ${Date.now()}`;
  const first = await client.create(`${tag} first`);
  const second = await client.create(`${tag} second`);
  const third = await client.create(`${tag} third`); // listed, not selected
  const label = ((await client.get(`/api/v1/projects/${PROJECT}/labels`)).data as { name: string }[])[0]!.name;

  await signIn(page, "maya", `/p/${PROJECT}/backlog?q=${encodeURIComponent(`"${tag}"`)}`);
  const list = page.getByTestId("backlog-list");
  await expect(list.locator("li")).toHaveCount(3);
  await page.getByRole("checkbox", { name: `Select ${first.key}` }).check();
  // By keyboard: Tab to the next row's checkbox is long; focus it and press Space.
  await page.getByRole("checkbox", { name: `Select ${second.key}` }).focus();
  await page.keyboard.press("Space");
  const bar = page.getByRole("form", { name: "Bulk edit" });
  await expect(bar.getByText("2 selected")).toBeVisible();

  await bar.getByLabel("Priority").selectOption("urgent");
  await bar.getByLabel("Assignee").selectOption("leo");
  await bar.getByLabel("Add label").selectOption(label);
  const answer = page.waitForResponse((r) => r.request().method() === "POST" && r.url().endsWith(`/projects/${PROJECT}/items/bulk`));
  await bar.getByRole("button", { name: "Apply to 2 items" }).click();
  const response = await answer;
  const sent = response.request().postDataJSON() as { updates: { key: string }[] };
  expect(sent.updates.map((u) => u.key).sort()).toEqual([first.key, second.key].sort());
  const results = (await response.json()).results as { key: string; status: number }[];
  expect(results.map((r) => r.status)).toEqual([200, 200]);
  await expect(page.getByRole("form", { name: "Bulk edit" })).toHaveCount(0); // all done: the selection is cleared

  for (const key of [first.key, second.key]) {
    const item = await client.item(key);
    expect(item.priority).toBe("urgent");
    expect(item.assignee.username).toBe("leo");
    expect(item.labels).toContain(label);
  }
  const untouched = await client.item(third.key);
  expect(untouched.priority).not.toBe("urgent");
  await expect(list.locator(`li[data-key="${first.key}"]`)).toContainText("urgent");

  // An item deleted by someone else meanwhile: the others are updated, it is shown as refused
  // with the reason.
  await page.getByRole("checkbox", { name: `Select ${first.key}` }).check();
  await page.getByRole("checkbox", { name: `Select ${third.key}` }).click({ modifiers: ["Shift"] }); // the range
  await expect(bar.getByText("3 selected")).toBeVisible();
  await client.remove(second.key);
  await bar.getByLabel("Priority").selectOption("low");
  const again = page.waitForResponse((r) => r.request().method() === "POST" && r.url().endsWith(`/projects/${PROJECT}/items/bulk`));
  await bar.getByRole("button", { name: "Apply to 3 items" }).click();
  const refused = ((await (await again).json()).results as { key: string; status: number }[]).filter((r) => r.status !== 200);
  expect(refused.map((r) => r.key)).toEqual([second.key]);
  const alert = page.getByRole("alert").filter({ hasText: "not updated" });
  await expect(alert).toContainText("1 of 3 not updated");
  await expect(alert).toContainText(second.key);
  await expect(list.locator(`li[data-key="${second.key}"]`)).toHaveCount(0); // gone from the list, so no longer selected
  expect((await client.item(third.key)).priority).toBe("low");
});

test("every field of an item is edited on its page", async ({ page, request }) => {
  const client = await api(request, await tokenFor(request, "maya"));
  const tag = `Fields ${Date.now()}`;
  const item = await client.create(`${tag} item`);
  const parent = await client.create(`${tag} parent`, { type: "story" });
  const active = ((await client.get(`/api/v1/projects/${PROJECT}/sprints?state=active`)).data as { id: string; name: string }[])[0]!;
  const label = ((await client.get(`/api/v1/projects/${PROJECT}/labels`)).data as { name: string }[])[0]!.name;

  await signIn(page, "maya", `/p/${PROJECT}/items/${item.key}`);
  const fields = page.getByRole("complementary", { name: "Fields" });
  await expect(fields.getByLabel("Type", { exact: true })).toHaveValue("task");

  async function change(what: () => Promise<unknown>) {
    const answer = page.waitForResponse((r) => r.request().method() === "PATCH" && r.url().endsWith(`/api/v1/items/${item.key}`));
    await what();
    expect((await answer).status()).toBe(200);
  }
  await change(() => fields.getByLabel("Type", { exact: true }).selectOption("bug"));
  await change(() => fields.getByLabel("Priority", { exact: true }).selectOption("high"));
  await change(() => fields.getByLabel("Assignee", { exact: true }).selectOption("sara"));
  await change(() => fields.getByLabel("Estimate", { exact: true }).selectOption("3"));
  await change(() => fields.getByLabel("Status", { exact: true }).selectOption({ label: "In Progress" }));
  await change(() => fields.getByRole("combobox", { name: "Add a label" }).selectOption(label));
  await change(() => fields.getByLabel("Sprint", { exact: true }).selectOption(active.id));
  await change(async () => {
    await fields.getByLabel("Parent", { exact: true }).fill(parent.key);
    await fields.getByRole("button", { name: "Set" }).click();
  });
  await change(async () => {
    await fields.getByLabel("Due", { exact: true }).fill("2030-01-31");
    await fields.getByLabel("Due", { exact: true }).press("Enter");
  });
  await change(async () => {
    await page.getByRole("button", { name: "Edit", exact: true }).click();
    await page.getByLabel("Title", { exact: true }).fill(`${tag} renamed`);
    await page.getByLabel("Description (Markdown)").fill("Done when **it works**.");
    await page.getByRole("button", { name: "Save" }).click();
  });
  await expect(page.getByRole("heading", { name: `${tag} renamed` })).toBeVisible();

  const saved = await client.item(item.key);
  expect(saved).toMatchObject({
    type: "bug",
    priority: "high",
    estimate: 3,
    labels: [label],
    sprint_id: active.id,
    parent_key: parent.key,
    due_date: "2030-01-31",
    title: `${tag} renamed`,
    description: "Done when **it works**.",
  });
  expect(saved.assignee.username).toBe("sara");
  expect(saved.status.name).toBe("In Progress");
  await expect(fields.getByRole("link", { name: `Open ${active.name}` })).toBeVisible();

  // The history tells what changed.
  await page.getByRole("tab", { name: "History" }).click();
  await expect(page.getByRole("tabpanel")).toContainText("priority");
});

test("a link is added and removed, a blocker raised and resolved", async ({ page, request }) => {
  const client = await api(request, await tokenFor(request, "maya"));
  const tag = `Links ${Date.now()}`;
  const item = await client.create(`${tag} item`);
  const other = await client.create(`${tag} other`);

  await signIn(page, "maya", `/p/${PROJECT}/items/${item.key}`);
  await page.getByRole("tab", { name: "Links" }).click();
  const panel = page.getByRole("tabpanel");
  await panel.getByLabel("Link type").selectOption("blocked_by");
  await panel.getByLabel("Item key to link").fill(other.key.toLowerCase());
  await panel.getByRole("button", { name: "Add link" }).click();
  await expect(panel.getByRole("link", { name: other.key })).toBeVisible();
  await expect(panel).toContainText("is blocked by");
  const links = await client.get(`/api/v1/items/${other.key}/links`);
  expect(links.data).toEqual([expect.objectContaining({ type: "blocks", target: item.key })]);

  await panel.getByRole("button", { name: `Remove link: is blocked by ${other.key}` }).click();
  await expect(panel.getByRole("link", { name: other.key })).toHaveCount(0);
  expect((await client.get(`/api/v1/items/${item.key}/links`)).data).toEqual([]);

  await page.getByRole("tab", { name: "Blockers" }).click();
  await panel.getByLabel("Raise a blocker: what is stuck?").fill("Waiting for the sandbox keys");
  await panel.getByLabel("Waiting on").selectOption("external");
  await panel.getByLabel("Name").fill("Payment provider");
  await panel.getByRole("button", { name: "Raise blocker" }).click();
  await expect(panel.getByRole("list", { name: "Open blockers" })).toContainText("Waiting for the sandbox keys");
  await expect(page.locator(".item-header .badge.danger", { hasText: "blocked" })).toBeVisible();
  await panel.getByLabel("How it was unblocked").fill("Keys arrived");
  await panel.getByRole("button", { name: "Resolve" }).click();
  await expect(panel.getByText("Nothing blocks this item")).toBeVisible();
  expect((await client.item(item.key)).blocked).toBe(false);
});

test("the promotion timeline of a deployed demo item", async ({ page, request }) => {
  const client = await api(request, await tokenFor(request, "maya"));
  const done = (await client.get(`/api/v1/projects/${PROJECT}/items?q=${encodeURIComponent("category:done")}&limit=100`)).data as {
    key: string;
    pull_requests: { merged: number };
  }[];
  type Stage = { stage: string; environment: string | null; at: string | null };
  let found: { key: string; stages: Stage[] } | null = null;
  for (const item of done.filter((i) => i.pull_requests.merged > 0)) {
    const timeline = await client.get(`/api/v1/items/${item.key}/promotion`);
    if ((timeline.stages as Stage[]).some((s) => s.stage === "deployed" && s.environment === "production" && s.at)) {
      found = { key: item.key, stages: timeline.stages };
      break;
    }
  }
  expect(found, "a demo item deployed to production").not.toBeNull();

  await signIn(page, "maya", `/p/${PROJECT}/items/${found!.key}`);
  const timeline = page.getByRole("list", { name: `Promotion timeline of ${found!.key}` });
  await expect(timeline).toBeVisible();
  const steps = timeline.locator(":scope > li");
  await expect(steps).toHaveCount(found!.stages.length);
  await expect(steps.first()).toContainText("Committed");
  await expect(timeline).toContainText("Pull request ready");
  await expect(timeline).toContainText("First review");
  await expect(timeline).toContainText("Merged");
  await expect(timeline).toContainText("Deployed to production");
  await expect(timeline.getByText(/after the step before/).first()).toBeVisible();
  await expect(page.getByTestId("promotion")).toContainText("from first to last step");
  await expect(timeline.getByRole("link", { name: "deployment" }).first()).toBeVisible();
});
