import { expect, test, type Page, type TestInfo } from "@playwright/test";
import { expectAccessible, PROJECT, screenshot, signIn } from "./helpers";

// A stand-up from the draft: Leo's draft fills the form, he edits it and sends it, and the
// team's summary (open blockers first) shows his entry. axe and screenshots at both widths.
test.describe.configure({ timeout: 120_000 });

test("stand-up: check in from the draft; the summary lists blockers first, then the entry", async ({ page }, info) => {
  const draftAnswer = page.waitForResponse((r) => /\/standups\/\d{4}-\d{2}-\d{2}\/draft$/.test(new URL(r.url()).pathname));
  await signIn(page, "leo", `/p/${PROJECT}/standup`);
  const draft = await (await draftAnswer).json();
  const form = page.getByRole("form", { name: "My check-in" });
  const yesterday = form.getByLabel("What did you do since the last stand-up?");
  await expect(yesterday).toHaveValue((draft.entry?.answers ?? draft.answers).yesterday ?? "");

  // The summary: open blockers come before the check-ins.
  const summary = page.getByRole("heading", { name: /Open blockers/ });
  await expect(summary).toBeVisible();
  const order = await page.evaluate(() => {
    const headings = [...document.querySelectorAll("h3")].map((h) => h.textContent ?? "");
    return [headings.findIndex((t) => t.startsWith("Open blockers")), headings.findIndex((t) => t.startsWith("Check-ins"))];
  });
  expect(order[0]).toBeGreaterThanOrEqual(0);
  expect(order[0]).toBeLessThan(order[1]!);

  const today = form.getByLabel("What will you do today?");
  await today.fill("Pair with Sara on the card vault (e2e)");
  const sent = page.waitForResponse((r) => r.request().method() === "PUT" && r.url().endsWith("/me"));
  await form.getByRole("button", { name: /Send check-in|Update check-in/ }).click();
  const answer = await sent;
  expect(answer.status()).toBe(200);
  const entry = await answer.json();
  expect(entry.answers.today).toBe("Pair with Sara on the card vault (e2e)");
  expect(entry.answers.yesterday ?? "").toBe(((draft.entry?.answers ?? draft.answers).yesterday ?? "").trimEnd());
  await expect(page.getByTestId("checkin-status")).toContainText("Sent");
  await expect(page.locator('li.entry[data-user="leo"]')).toContainText("Pair with Sara on the card vault (e2e)");

  await expectAccessible(page, "stand-up");
  await shot(page, "standup", info);
  await page.setViewportSize({ width: 390, height: 844 });
  await expect(form).toBeVisible();
  await expectAccessible(page, "stand-up at 390 px");
  await shot(page, "standup", info);
});

/** The screenshot from the top of the page. */
async function shot(page: Page, name: string, info: TestInfo) {
  await page.evaluate(() => window.scrollTo(0, 0));
  await screenshot(page, name, info);
}
