import { expect, test, type Page, type TestInfo } from "@playwright/test";
import { expectAccessible, PROJECT, screenshot, signIn } from "./helpers";

// The risk register with its 5×5 matrix, and blockers with their age: add a risk, resolve a
// blocker and escalate another to the register. axe and screenshots at both widths.
test.describe.configure({ timeout: 120_000 });

test("risks and blockers: the matrix, a new risk, resolve and escalate blockers", async ({ page }, info) => {
  await signIn(page, "maya", `/p/${PROJECT}/risks`);
  const matrix = page.getByTestId("risk-matrix");
  await expect(matrix).toBeVisible();
  const total = Number((await page.getByRole("heading", { name: /Open risks:/ }).textContent())!.replace(/\D+/g, ""));

  await page.getByRole("button", { name: "New risk" }).click();
  await page.getByLabel("Title", { exact: true }).fill("E2E: the bank sandbox closes in December");
  await page.getByLabel("Likelihood", { exact: true }).selectOption("4");
  await page.getByLabel("Impact", { exact: true }).selectOption("5");
  await expect(page.getByRole("dialog")).toContainText("Score 20: critical");
  await page.getByRole("button", { name: "Add risk" }).click();
  await expect(page.getByRole("heading", { name: "E2E: the bank sandbox closes in December" }).first()).toBeVisible();
  await expect(page.getByRole("heading", { name: `Open risks: ${total + 1}` })).toBeVisible();
  const cell = matrix.getByRole("button", { name: /likelihood 4 and impact 5, critical/ });
  const inCell = Number((await cell.textContent())!);
  await cell.click();
  await expect(cell).toHaveAttribute("aria-pressed", "true");
  await expect(page.locator("li.risk")).toHaveCount(inCell);
  await expect(page.locator("li.risk").filter({ hasText: "E2E: the bank sandbox closes in December" }).first()).toBeVisible();
  await expectAccessible(page, "risks");
  await shot(page, "risks", info);

  await page.getByRole("link", { name: "Blockers" }).click();
  const open = page.getByRole("list", { name: "Open blockers, oldest first" });
  await expect(open.locator("li.blocker").first()).toBeVisible();
  const count = await open.locator("li.blocker").count();
  await expect(open.locator("li.blocker").first()).toContainText(/working day|h|min/);
  await open.getByRole("button", { name: /^Resolve the blocker on / }).first().click();
  await page.getByLabel(/How was it unblocked/).fill("Sandbox keys renewed");
  await page.getByRole("dialog").getByRole("button", { name: "Resolve" }).click();
  await expect(open.locator("li.blocker")).toHaveCount(count - 1);
  const escalate = open.getByRole("button", { name: /^Escalate the blocker on / }).first();
  if (await escalate.count()) {
    await escalate.click();
    await expect(page.getByText("Escalated to the risk register")).toBeVisible();
  }
  await expectAccessible(page, "blockers");
  await shot(page, "blockers", info);

  await page.setViewportSize({ width: 390, height: 844 });
  await expectAccessible(page, "blockers at 390 px");
  await shot(page, "blockers", info);
  await page.getByRole("link", { name: "Risk register" }).click();
  await expect(matrix).toBeVisible();
  await expectAccessible(page, "risks at 390 px");
  await shot(page, "risks", info);
});

/** The screenshot from the top of the page. */
async function shot(page: Page, name: string, info: TestInfo) {
  await page.evaluate(() => window.scrollTo(0, 0));
  await screenshot(page, name, info);
}
