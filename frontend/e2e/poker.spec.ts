import { expect, test, type Page, type TestInfo } from "@playwright/test";
import { expectAccessible, PROJECT, screenshot, signIn, tokenFor } from "./helpers";

// Planning poker with two people in two browsers: votes are hidden (who, not what) until Maya
// reveals them, in the page and in every answer her browser gets; then she finalizes and the
// next item comes up for both.
test.describe.configure({ timeout: 120_000 });

interface Round {
  revealed: boolean;
  voters: unknown[];
  votes: unknown;
  spread: unknown;
}

test("poker: hidden votes, reveal with calibration, finalize", async ({ browser }, info) => {
  const mayaContext = await browser.newContext();
  const leoContext = await browser.newContext();
  const maya = await mayaContext.newPage();
  const leo = await leoContext.newPage();
  const received: string[] = [];
  maya.on("response", (r) => {
    if (r.url().includes("/api/v1/estimations/")) void r.text().then((t) => received.push(t), () => undefined);
  });

  await signIn(maya, "maya", `/p/${PROJECT}/poker`);
  await maya.getByRole("button", { name: "New session" }).click();
  await expect(maya.getByRole("dialog").getByRole("checkbox").first()).toBeVisible();
  await expectAccessible(maya, "poker sessions, new session");
  const picks = maya.getByRole("dialog").getByRole("checkbox");
  await picks.nth(0).check();
  await picks.nth(1).check();
  await maya.getByLabel("Title", { exact: true }).fill("E2E poker");
  await maya.getByRole("button", { name: "Start session" }).click();
  await maya.waitForURL(/\/poker\/[\w-]+$/);
  const url = new URL(maya.url()).pathname;
  const first = (await maya.locator('.poker-item[aria-current="step"] .mono').textContent())!;
  await expect(maya.getByTestId("live-status")).toHaveAttribute("data-status", "live");

  await signIn(leo, "leo", url);
  await expect(leo.getByTestId("live-status")).toHaveAttribute("data-status", "live");
  await expect(leo.getByTestId("vote-count")).toHaveText(/^0 of \d+ voted$/);

  // Leo plays 5 (by keyboard): Maya sees that he voted, not what.
  const five = leo.getByRole("button", { name: "5 points", exact: true });
  await five.focus();
  const voted = leo.waitForResponse((r) => r.request().method() === "PUT" && r.url().endsWith("/vote"));
  await leo.keyboard.press("Enter");
  await voted;
  const sent = Date.now();
  await expect(maya.getByTestId("vote-count")).toHaveText(/^1 of \d+ voted$/, { timeout: 5_000 });
  info.annotations.push({ type: "live", description: `Leo's vote seen by Maya within ${Date.now() - sent} ms` });
  console.log(`Leo's vote seen by Maya within ${Date.now() - sent} ms`);
  await expect(five).toHaveAttribute("aria-pressed", "true");
  const leoOnMaya = maya.locator('li.voter[data-voter="leo"]');
  await expect(leoOnMaya).toContainText("has voted");
  await expect(leoOnMaya).not.toContainText("5");
  await maya.getByRole("button", { name: "8 points", exact: true }).click();
  await expect(leo.getByTestId("vote-count")).toHaveText(/^2 of \d+ voted$/, { timeout: 5_000 });
  await expect(leo.locator('li.voter[data-voter="maya"]')).not.toContainText("8");

  // Reveal: both see every card, the spread and the calibration.
  const reveal = maya.waitForResponse((r) => r.url().endsWith("/reveal"));
  await maya.getByRole("button", { name: "Reveal cards" }).click();
  expect((await reveal).status()).toBe(200);
  await expect(leo.locator('li.voter[data-voter="maya"]')).toContainText("played 8", { timeout: 5_000 });
  await expect(maya.locator('li.voter[data-voter="leo"]')).toContainText("played 5");
  await expect(maya.getByTestId("agreement")).toHaveText("50 %");
  await expect(maya.getByRole("table")).toContainText("How long the project's finished items");
  await expectAccessible(maya, "poker");
  await shot(maya, "poker", info);

  // No answer Maya got showed a card of a round not revealed yet (her own aside).
  let hidden = 0;
  for (const body of received) {
    const json = JSON.parse(body) as { current?: { rounds: Round[] } | null; rounds?: Round[] };
    for (const round of json.current?.rounds ?? json.rounds ?? []) {
      if (round.revealed) continue;
      hidden += round.voters.length;
      expect([round.votes, round.spread]).toEqual([null, null]);
      expect(JSON.stringify(round)).not.toContain('"card"');
    }
  }
  expect(hidden).toBeGreaterThan(0); // she did get answers while votes were hidden

  // Finalize 5: written to the item; the next item comes up for Leo too.
  await maya.getByLabel("Estimate", { exact: true }).selectOption("5");
  await maya.getByRole("button", { name: "Finalize" }).click();
  await expect(leo.locator('.poker-item[aria-current="step"] .mono')).not.toHaveText(first, { timeout: 5_000 });
  const token = await tokenFor(maya.request, "maya");
  const item = await (await maya.request.get(`/api/v1/items/${first}`, { headers: { Authorization: `Bearer ${token}` } })).json();
  expect(item.estimate).toBe(5);

  await leo.setViewportSize({ width: 390, height: 844 });
  await expect(leo.getByRole("button", { name: "5 points", exact: true })).toBeVisible();
  await expectAccessible(leo, "poker at 390 px");
  await shot(leo, "poker", info);
  await mayaContext.close();
  await leoContext.close();
});

/** The screenshot from the top of the page. */
async function shot(page: Page, name: string, info: TestInfo) {
  await page.evaluate(() => window.scrollTo(0, 0));
  await screenshot(page, name, info);
}
