import { expect, test, type Page } from "@playwright/test";
import { expectAccessible, PROJECT, signIn } from "./helpers";

// The project's settings, as its admin (maya): a WIP limit changed and seen on the board, a
// label, a webhook whose secret is shown once, a linked repository; a member sees the API's 403.
test.describe.configure({ timeout: 120_000 });

const settings = (section = "") => `/p/${PROJECT}/settings${section ? `/${section}` : ""}`;

async function acceptConfirms(page: Page) {
  page.on("dialog", (dialog) => void dialog.accept());
}

test("an admin changes a WIP limit and sees it on the board", async ({ page }) => {
  await signIn(page, "maya", `/p/${PROJECT}/backlog`);
  // One "Settings" entry in the main navigation, sub-pages reached by keyboard.
  await page.getByRole("navigation", { name: "Main" }).getByRole("link", { name: "Settings" }).click();
  await expect(page.getByRole("heading", { name: "Settings: General" })).toBeVisible();
  const sub = page.getByRole("navigation", { name: "Settings" });
  await sub.getByRole("link", { name: "Workflow" }).focus();
  await page.keyboard.press("Enter");
  await expect(page.getByRole("heading", { name: "Settings: Workflow" })).toBeVisible();

  const row = page.getByRole("form", { name: "Status In Progress" });
  await row.getByLabel("WIP limit").fill("abc");
  await row.getByRole("button", { name: "Save" }).click();
  await expect(row.getByRole("alert")).toContainText("whole number");
  await row.getByLabel("WIP limit").fill("9");
  const patched = page.waitForResponse((r) => r.url().includes("/statuses/") && r.request().method() === "PATCH");
  await row.getByLabel("WIP limit").press("Enter");
  expect((await patched).status()).toBe(200);
  await expect(page.getByText("In Progress saved")).toBeVisible();

  await page.getByRole("navigation", { name: "Main" }).getByRole("link", { name: "Board" }).click();
  const column = page.locator('section.column[data-status="In Progress"]');
  await expect(column.locator(".column-header .badge")).toHaveText(/\/ 9$/);
  await expect(column.locator(".column-header .badge")).toHaveAttribute("title", "WIP limit 9");

  // Empty is no limit again (the API's 0), for the specs that follow.
  await page.goBack();
  await row.getByLabel("WIP limit").fill("");
  await row.getByRole("button", { name: "Save" }).click();
  await expect(page.getByText("No WIP limit")).toBeVisible();
});

test("an admin creates a label, renames it and deletes it", async ({ page }) => {
  await acceptConfirms(page);
  await signIn(page, "maya", settings("labels"));
  const create = page.getByRole("form", { name: "Create a label" });
  await create.getByLabel("Label name").fill("e2e-flaky");
  await create.getByLabel("Colour").fill("#b42318");
  await create.getByRole("button", { name: "Create label" }).click();
  await expect(page.getByText("Label created")).toBeVisible();
  const row = page.getByRole("form", { name: "Label e2e-flaky" });
  await expect(row).toBeVisible();
  await row.getByLabel("Name").fill("e2e-flaky-test");
  await row.getByRole("button", { name: "Save" }).click();
  const renamed = page.getByRole("form", { name: "Label e2e-flaky-test" });
  await expect(renamed).toBeVisible();
  // The same name again is the API's 409, shown with its title in the form.
  await create.getByLabel("Label name").fill("e2e-flaky-test");
  await create.getByRole("button", { name: "Create label" }).click();
  await expect(create.getByRole("alert")).toBeVisible();
  await expectAccessible(page, "settings: labels");
  await renamed.getByRole("button", { name: "Delete label e2e-flaky-test" }).click();
  await expect(renamed).toHaveCount(0);
});

test("an admin creates a webhook and sees its secret once", async ({ page }) => {
  await signIn(page, "maya", settings("webhooks"));
  await expect(page.getByRole("heading", { name: "Settings: Webhooks" })).toBeVisible();
  await page.getByText("Create a webhook", { exact: true }).click();
  const form = page.getByRole("form", { name: "Create a webhook" });
  // A private address is refused: the problem's title and detail are shown.
  await form.getByLabel("Endpoint URL").fill("http://127.0.0.1:9/hook");
  await form.getByLabel(/^Events/).fill("incident.resolved");
  await form.getByRole("button", { name: "Create webhook" }).click();
  await expect(form.getByRole("alert")).toContainText("won't call this URL");
  // A public address (a literal: no DNS needed), listening to an event this run never makes.
  await form.getByLabel("Endpoint URL").fill("https://93.184.215.14/takt-e2e");
  await form.getByLabel("Description").fill("E2E receiver");
  await form.getByRole("button", { name: "Create webhook" }).click();
  const secret = page.getByTestId("secret-once");
  await expect(secret).toBeVisible();
  await expect(secret.getByRole("textbox")).toHaveValue(/^whsec_/);
  await expect(secret.getByRole("button", { name: "Copy" })).toBeVisible();
  const hooks = page.getByTestId("webhooks");
  const row = hooks.locator("li").filter({ hasText: "https://93.184.215.14/takt-e2e" });
  await expect(row).toContainText("enabled");
  await row.getByText("Delivery log").click();
  await expect(row).toContainText("Nothing sent yet");
  await expectAccessible(page, "settings: webhooks");

  // Change what it listens to.
  await row.getByText("Edit URL and events").click();
  await row.getByLabel("Events", { exact: true }).fill("incident.*");
  await row.getByRole("button", { name: "Save webhook" }).click();
  await expect(row.locator("p").filter({ hasText: "Events:" })).toContainText("incident.*");

  // Disable and enable again.
  await row.getByRole("button", { name: "Disable" }).click();
  await expect(row.locator(".badge").first()).toHaveText("disabled");
  await row.getByRole("button", { name: "Enable" }).click();
  await expect(row.locator(".badge").first()).toHaveText("enabled");

  // Once: after a reload the list is there, the secret is not.
  await secret.getByRole("button", { name: "I've stored it" }).click();
  await expect(secret).toHaveCount(0);
  await page.reload();
  await expect(hooks.locator("li").filter({ hasText: "E2E receiver" })).toBeVisible();
  await expect(page.getByTestId("secret-once")).toHaveCount(0);
  await expect(page.getByText(/whsec_/)).toHaveCount(0);

  // The dark theme follows the system, and stays accessible.
  await page.emulateMedia({ colorScheme: "dark" });
  await expect.poll(() => page.evaluate(() => getComputedStyle(document.body).backgroundColor)).toBe("rgb(17, 19, 24)");
  await expectAccessible(page, "settings: webhooks (dark)");
  await page.emulateMedia({ colorScheme: "light" });

  // Delete it: later specs make incidents, and it must not call out meanwhile.
  page.on("dialog", (dialog) => void dialog.accept());
  await hooks.locator("li").filter({ hasText: "E2E receiver" }).getByRole("button", { name: "Delete" }).click();
  await expect(page.getByText("Webhook deleted")).toBeVisible();
  await expect(hooks.locator("li").filter({ hasText: "E2E receiver" })).toHaveCount(0);
});

test("an admin links a repository and gets its webhook URL and secret once", async ({ page }) => {
  await signIn(page, "maya", settings("repositories"));
  const form = page.getByRole("form", { name: "Link a repository" });
  await form.getByLabel("Full name").fill("acme/too/deep");
  await form.getByRole("button", { name: "Link repository" }).click();
  await expect(form.getByRole("alert")).toContainText("owner/repo");
  await form.getByLabel("Full name").fill("acme/e2e-settings");
  await form.getByRole("button", { name: "Link repository" }).click();
  const secret = page.getByTestId("secret-once");
  await expect(secret).toBeVisible();
  await expect(secret.getByTestId("webhook-url")).toContainText("/api/v1/hooks/github/");
  const value = await secret.getByRole("textbox").inputValue();
  expect(value.length).toBeGreaterThan(16);
  const row = page.getByTestId("repositories").locator("li").filter({ hasText: "acme/e2e-settings" });
  await expect(row).toContainText("/api/v1/hooks/github/");
  await row.getByText("Inbox: deliveries received").click();
  await expect(row).toContainText("Nothing received yet");
  await expectAccessible(page, "settings: repositories");
  await page.reload();
  await expect(row).toBeVisible();
  await expect(page.getByTestId("secret-once")).toHaveCount(0);
  await expect(page.getByText(value)).toHaveCount(0);
});

test("a member sees the settings without controls, and the API's 403 as a problem", async ({ page }) => {
  await signIn(page, "leo", settings());
  await expect(page.getByText("only the project's admins can change these settings")).toBeVisible();
  await expect(page.getByRole("button", { name: "Save settings" })).toHaveCount(0);
  await page.getByRole("navigation", { name: "Settings" }).getByRole("link", { name: "Members" }).click();
  await expect(page.getByTestId("members")).toContainText("Maya Lead");
  await expect(page.getByRole("button", { name: /^Remove / })).toHaveCount(0);
  await page.getByRole("navigation", { name: "Settings" }).getByRole("link", { name: "Webhooks" }).click();
  const problem = page.locator(".state-error");
  await expect(problem.getByRole("heading", { name: "Forbidden" })).toBeVisible();
  await expect(problem).toContainText(/admin/);
  await expectAccessible(page, "settings: webhooks as a member");
});
