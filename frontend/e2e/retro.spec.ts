import { expect, test, type Page, type TestInfo } from "@playwright/test";
import { expectAccessible, PROJECT, screenshot, signIn, tokenFor } from "./helpers";

// A retro with two people in two browsers: Maya facilitates, Leo writes. Cards are anonymous,
// checked in Maya's page and in everything her browser receives (API answers and the live
// stream); each sees the other's changes live; votes stay within the budget.
test.describe.configure({ timeout: 120_000 });

/** Keeps a copy of the live stream's bytes as the page receives them (window.__sse). */
function recordEventStream() {
  const w = window as unknown as { __sse: string[]; fetch: typeof fetch };
  w.__sse = [];
  const original = w.fetch.bind(window);
  w.fetch = async (input: RequestInfo | URL, init?: RequestInit) => {
    const response = await original(input, init);
    const url = input instanceof Request ? input.url : String(input);
    if (!url.includes("/events") || !response.body) return response;
    const [mine, copy] = response.body.tee();
    const reader = copy.getReader();
    const decoder = new TextDecoder();
    void (async () => {
      for (;;) {
        const { done, value } = await reader.read().catch(() => ({ done: true, value: undefined }));
        if (done) break;
        w.__sse.push(decoder.decode(value, { stream: true }));
      }
    })();
    return new Response(mine, { status: response.status, statusText: response.statusText, headers: response.headers });
  };
}

function retroEvents(raw: string): { type: string; actor: unknown; data: Record<string, unknown>; text: string }[] {
  return raw
    .split("\n\n")
    .map((block) => block.split("\n").filter((l) => l.startsWith("data:")).map((l) => l.slice(5).trim()).join("\n"))
    .filter((data) => data.startsWith("{"))
    .map((data) => ({ ...JSON.parse(data), text: data }))
    .filter((e) => typeof e.type === "string" && e.type.startsWith("retro."));
}

async function advance(page: Page, label: RegExp) {
  const answer = page.waitForResponse((r) => r.url().endsWith("/advance"));
  await page.getByRole("button", { name: label }).click();
  expect((await answer).status()).toBe(200);
}

test("retro: anonymous cards, live phases, votes within the budget, an action item", async ({ browser }, info) => {
  const mayaContext = await browser.newContext();
  const leoContext = await browser.newContext();
  const maya = await mayaContext.newPage();
  const leo = await leoContext.newPage();
  await maya.addInitScript(recordEventStream);
  const mayaReceived: string[] = [];
  maya.on("response", (r) => {
    if (r.url().includes("/api/v1/retros/")) void r.text().then((t) => mayaReceived.push(t), () => undefined);
  });

  await signIn(maya, "maya", `/p/${PROJECT}/retros`);
  await maya.getByRole("button", { name: "New retro" }).click();
  await expect(maya.getByRole("dialog")).toBeVisible();
  await expectAccessible(maya, "retros, new retro");
  await maya.getByLabel(/^Title/).fill("E2E retro");
  await maya.getByRole("button", { name: "Start retro" }).click();
  await maya.waitForURL(/\/retros\/[\w-]+$/);
  const url = new URL(maya.url()).pathname;
  await expect(maya.getByTestId("live-status")).toHaveAttribute("data-status", "live");

  await signIn(leo, "leo", url);
  const leoId = (await (await leo.request.get("/api/v1/users/me", { headers: { Authorization: `Bearer ${await tokenFor(leo.request, "leo")}` } })).json()).id as string;
  await expect(leo.getByTestId("live-status")).toHaveAttribute("data-status", "live");

  // Collect: each writes a card; the other sees only that one came.
  await leo.getByLabel("A card for “Stop”").fill("Reviews wait two days");
  await leo.getByRole("button", { name: "Add the card to Stop" }).click();
  await expect(leo.locator("li.retro-card.mine")).toContainText("Reviews wait two days");
  const added = Date.now();
  await expect(maya.getByTestId("hidden-cards")).toContainText("1 card by others", { timeout: 5_000 });
  info.annotations.push({ type: "live", description: `Leo's card seen by Maya within ${Date.now() - added} ms` });
  console.log(`Leo's card seen by Maya within ${Date.now() - added} ms`);
  await maya.getByLabel("A card for “Continue”").fill("Pairing helped");
  await maya.getByRole("button", { name: "Add the card to Continue" }).click();
  await expect(leo.getByTestId("hidden-cards")).toContainText("1 card by others", { timeout: 5_000 });

  // Group: everyone sees every card, without authors; Leo groups his, Maya adds hers.
  await advance(maya, /Move on to group/);
  const leosCard = maya.locator("li.retro-card", { hasText: "Reviews wait two days" });
  await expect(leosCard).toBeVisible();
  await expect(leosCard).not.toContainText(/Leo|yours/);
  await expect(leo.locator("li.retro-card", { hasText: "Pairing helped" })).toBeVisible({ timeout: 5_000 });
  await leo.getByLabel("Group “Reviews wait two days” with").selectOption("new");
  await leo.getByRole("button", { name: "Group “Reviews wait two days”" }).click();
  await expect(maya.locator("li.group")).toHaveCount(1, { timeout: 5_000 });
  await maya.getByLabel("Group “Pairing helped” with").selectOption({ label: "Reviews wait two days" });
  await maya.getByRole("button", { name: "Group “Pairing helped”" }).click();
  await expect(leo.locator("li.group .group-cards li")).toHaveCount(2, { timeout: 5_000 });

  // Vote: within the budget (5) and at most 3 on a group; the team's count is live.
  await advance(maya, /Move on to vote/);
  const vote = leo.getByRole("button", { name: "Vote for “Reviews wait two days”" });
  await expect(vote).toBeEnabled({ timeout: 5_000 });
  for (const left of [4, 3, 2]) {
    await vote.click();
    await expect(leo.getByTestId("vote-budget")).toContainText(`${left} of 5 votes left`);
  }
  await expect(vote).toBeDisabled(); // 3 on one group
  await expect(maya.getByTestId("vote-budget")).toContainText("3 cast by the team", { timeout: 5_000 });
  await maya.getByRole("button", { name: "Vote for “Reviews wait two days”" }).click();
  await expect(maya.getByTestId("vote-budget")).toContainText("4 of 5 votes left");

  // Discuss: totals appear for both; an action item becomes a task.
  await advance(maya, /Move on to discuss/);
  await expect(leo.getByTestId("group-votes")).toHaveText("4 votes", { timeout: 5_000 });
  await maya.getByLabel("Action item", { exact: true }).fill("Agree on a review turnaround of one day");
  await maya.getByLabel("Owner", { exact: true }).selectOption("sara");
  await maya.getByRole("button", { name: "Create action item" }).click();
  await expect(leo.locator("ul.actions")).toContainText("Agree on a review turnaround of one day", { timeout: 5_000 });
  await expectAccessible(maya, "retro");
  await shot(maya, "retro", info);
  await maya.setViewportSize({ width: 390, height: 844 });
  await expectAccessible(maya, "retro at 390 px");
  await shot(maya, "retro", info);
  await advance(maya, /Close the retro/);
  await expect(leo.locator('ol.phases li[aria-current="step"]')).toHaveText("Closed", { timeout: 5_000 });

  // Nothing Maya's browser received names the author of Leo's card.
  const sse = (await maya.evaluate(() => (window as unknown as { __sse: string[] }).__sse.join(""))) as string;
  const events = retroEvents(sse);
  expect(events.map((e) => e.type)).toEqual(expect.arrayContaining(["retro.card_added", "retro.vote_cast", "retro.advanced"]));
  for (const e of events.filter((e) => /^retro\.(card|group|vote)_/.test(e.type))) {
    expect(e.actor, `${e.type} has no actor`).toBeNull();
    expect(e.text).not.toContain(leoId);
    expect(e.text).not.toMatch(/"leo"/);
  }
  expect(mayaReceived.length).toBeGreaterThan(3);
  for (const body of mayaReceived) {
    expect(body).not.toContain(leoId);
    expect(body).not.toMatch(/"username":\s*"leo"/);
    if (body.includes('"cards"')) {
      const cards = (JSON.parse(body) as { cards: { kind: string; mine: boolean; author: unknown; created_at: unknown }[] }).cards;
      // Others' cards say neither who nor when (evidence cards are the data's, not a person's).
      for (const c of cards.filter((c) => c.kind === "card" && !c.mine)) expect([c.author, c.created_at]).toEqual([null, null]);
    }
  }
  await mayaContext.close();
  await leoContext.close();
});

/** The screenshot from the top of the page. */
async function shot(page: Page, name: string, info: TestInfo) {
  await page.evaluate(() => window.scrollTo(0, 0));
  await screenshot(page, name, info);
}
