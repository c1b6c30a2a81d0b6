// The owner's console as a user story in headless Chromium (Debian's /usr/bin/chromium): sign
// up, create an agent, add a text, watch it become ready, ask the preview, copy the embed code,
// a visitor chats on a host page of another origin (served here, on localhost), the owner sees
// the conversation and its lead, exports the leads as CSV, creates an API key and lists agents
// with it. Run by tests/suite/console_browser.rs. Prints `RESULT {json}`.
//
// Env: BASE (the app, http://127.0.0.1:PORT), SHOTS (screenshot path prefix), CHROMIUM.
import http from "node:http";
import fs from "node:fs";
import { chromium } from "playwright-core";

const env = (k, d) => process.env[k] ?? d ?? (() => { throw new Error(`${k} is not set`); })();
const BASE = env("BASE");
const SHOTS = env("SHOTS");
const CHROMIUM = env("CHROMIUM", "/usr/bin/chromium");
const EMAIL = "owner@outdoor.example";
const PASSWORD = "correct horse battery";
const QUESTION = "How many days do I have to return an item?";

function check(cond, message) {
  if (!cond) throw new Error(message);
  console.log(`ok - ${message}`);
}

// The owner's site, on another origin: whatever snippet the owner copied, pasted verbatim.
let snippet = "";
const host = http.createServer((req, res) => {
  res.writeHead(200, { "content-type": "text/html; charset=utf-8" });
  res.end(`<!doctype html><html><head><title>Outdoor Shop</title><meta name="viewport" content="width=device-width, initial-scale=1"></head><body><h1>Outdoor Shop</h1><p>Tents, boots and more.</p>${snippet}</body></html>`);
});
await new Promise((r) => host.listen(0, "127.0.0.1", r));
const HOST = `http://localhost:${host.address().port}`;

const result = {};
let current = null;
const browser = await chromium.launch({
  executablePath: CHROMIUM,
  headless: true,
  args: ["--no-sandbox", "--disable-dev-shm-usage", "--disable-gpu"],
});
const shot = async (page, name) => {
  await page.screenshot({ path: `${SHOTS}${name}.png`, fullPage: true });
  console.log(`ok - screenshot ${name}`);
};
try {
  const owner = await browser.newContext({ viewport: { width: 1280, height: 860 }, acceptDownloads: true });
  await owner.grantPermissions(["clipboard-read", "clipboard-write"], { origin: BASE });
  const page = await owner.newPage();
  current = page;
  page.on("pageerror", (e) => console.log(`page error: ${e.message}`));

  // Sign up, from the sign-in page a new user lands on.
  await page.goto(BASE + "/");
  check(page.url().endsWith("/signin"), "/ leads a new user to sign in");
  await shot(page, "signin");
  await page.getByRole("link", { name: "Create an account" }).click();
  await page.getByLabel("Business name").fill("Outdoor Shop");
  await page.getByLabel("Email").fill(EMAIL);
  await page.getByLabel("Password").fill(PASSWORD);
  await shot(page, "signup");
  await page.getByRole("button", { name: "Create account" }).click();
  await page.waitForURL("**/agents");
  check(true, "signed up and on the agents page");
  await shot(page, "agents-empty");

  // Create the agent and set it up: welcome, colour, the site's origin, a lead form.
  await page.getByLabel("Name").fill("Outdoor Shop");
  await page.getByRole("button", { name: "Create agent" }).click();
  await page.waitForURL(/\/agents\/[0-9a-f-]{36}$/);
  const agentUrl = page.url();
  await page.getByLabel("Welcome message").fill("Welcome to the Outdoor Shop! Ask me anything.");
  await page.getByLabel("Allowed origins").fill(HOST);
  await page.getByLabel("name", { exact: true }).check();
  await page.getByLabel("email", { exact: true }).check();
  await page.getByRole("button", { name: "Save" }).click();
  await page.locator(".notice", { hasText: "Saved" }).waitFor();
  check(await page.getByLabel("Allowed origins").inputValue() === HOST, "the allowed origin is saved");

  // Knowledge: a text, watched until it is ready (htmx polls the table).
  await page.getByRole("link", { name: "Knowledge" }).click();
  await page.getByLabel("Title").fill("Returns policy");
  await page.getByLabel("Text", { exact: true }).fill("You can return any unused item within 30 days of delivery for a full refund. Refunds are paid to the original payment method within 5 business days.");
  await page.getByRole("button", { name: "Add text" }).click();
  await page.locator("#sources .badge.ready").waitFor({ timeout: 60000 });
  check(true, "the text source became ready without a reload");
  await shot(page, "knowledge");

  // The live preview: the real widget on the agent's page answers.
  await page.goto(agentUrl);
  const launcher = page.locator(".launcher");
  await launcher.waitFor({ state: "visible", timeout: 10000 });
  await launcher.click();
  const input = page.locator(".panel textarea");
  await input.fill(QUESTION);
  await page.keyboard.press("Enter");
  await page.locator(".msg.bot", { hasText: "30 days" }).waitFor({ timeout: 20000 });
  check(true, "the preview answers from the text");
  await shot(page, "agent-preview");

  // Install: copy the snippet with the button, and paste it on the host page.
  await page.getByRole("link", { name: "Install" }).click();
  await page.getByRole("button", { name: "Copy" }).first().click();
  await page.getByRole("button", { name: "Copied" }).waitFor();
  snippet = await page.evaluate(() => navigator.clipboard.readText());
  check(snippet.includes("/widget.js") && snippet.includes("data-agent="), `the copied snippet is the script tag (${snippet})`);
  check(snippet === (await page.locator("#snippet").textContent()), "the clipboard holds the shown snippet");
  await shot(page, "install");

  // A visitor on the owner's site (another origin) chats and leaves their details.
  const visitorCtx = await browser.newContext({ viewport: { width: 1280, height: 800 } });
  const visitor = await visitorCtx.newPage();
  current = visitor;
  await visitor.goto(HOST + "/");
  await visitor.locator(".launcher").click();
  await visitor.locator(".msg.bot", { hasText: "Welcome to the Outdoor Shop" }).waitFor();
  await visitor.locator("textarea").fill(QUESTION);
  await visitor.keyboard.press("Enter");
  await visitor.locator(".msg.bot", { hasText: "30 days" }).waitFor({ timeout: 20000 });
  await visitor.locator("textarea").fill("And how fast is the refund paid?");
  await visitor.keyboard.press("Enter");
  const card = visitor.locator("form.card");
  await card.waitFor({ timeout: 20000 });
  await card.locator("input[name=name]").fill("Ana Silva");
  await card.locator("input[name=email]").fill("ana@example.com");
  await card.locator("button.primary").click();
  await visitor.locator(".note", { hasText: "Thanks" }).waitFor();
  check(true, "the visitor chatted on the host page and left their details");
  await visitor.screenshot({ path: `${SHOTS}host-page.png` });
  result.conversation_id = await visitor.evaluate(() => {
    const k = Object.keys(localStorage).find((k) => k.endsWith(":conversation"));
    return localStorage.getItem(k);
  });
  await visitorCtx.close();
  current = page;

  // The owner sees the conversation and its lead.
  await page.getByRole("link", { name: "Conversations" }).click();
  const row = page.locator("tbody tr").first();
  await row.waitFor();
  await shot(page, "conversations");
  await row.locator("a").click();
  await page.locator(".msg.user", { hasText: QUESTION }).waitFor();
  check(await page.locator(".msg.assistant", { hasText: "30 days" }).count() > 0, "the transcript shows the answer");
  check(await page.locator(".msg.assistant .sources li").count() > 0, "the answer shows its sources");
  check(await page.locator(".notice", { hasText: "ana@example.com" }).count() === 1, "the conversation shows its lead");
  await shot(page, "conversation");

  await page.getByRole("link", { name: "Leads" }).click();
  await page.locator("td", { hasText: "ana@example.com" }).first().waitFor();
  await shot(page, "leads");
  const [download] = await Promise.all([page.waitForEvent("download"), page.getByRole("link", { name: "Export CSV" }).click()]);
  const csv = fs.readFileSync(await download.path(), "utf8");
  check(csv.startsWith("name,email,") && csv.includes("Ana Silva,ana@example.com"), `the CSV export has the lead:\n${csv}`);
  result.csv = csv;

  // An API key, shown once, lists the agents through the REST API.
  await page.getByRole("link", { name: "API keys" }).click();
  await page.getByLabel("Name").fill("CRM sync");
  await page.getByRole("button", { name: "Create key" }).click();
  const key = (await page.locator("#new-key").textContent()).trim();
  check(key.startsWith("otoq_"), "the new key is shown once");
  await shot(page, "api-keys");
  const api = await fetch(BASE + "/api/v1/agents", { headers: { authorization: `Bearer ${key}` } });
  const body = await api.json();
  check(api.status === 200 && body.data.some((a) => a.name === "Outdoor Shop"), `the key lists the agents (${api.status})`);
  await page.goto(BASE + "/settings/keys");
  check(!(await page.content()).includes(key), "the key is not shown again");

  // Phone width: the pages still fit.
  const phone = await browser.newContext({ viewport: { width: 375, height: 740 }, isMobile: true, hasTouch: true });
  await phone.addCookies((await owner.cookies()).map((c) => ({ ...c })));
  const mobile = await phone.newPage();
  for (const [path, name] of [["/agents", "phone-agents"], [agentUrl.replace(BASE, "") + "/knowledge", "phone-knowledge"], ["/leads", "phone-leads"]]) {
    await mobile.goto(BASE + path);
    const wide = await mobile.evaluate(() => document.documentElement.scrollWidth);
    check(wide <= 375, `${path} fits a phone (${wide}px)`);
    await mobile.screenshot({ path: `${SHOTS}${name}.png`, fullPage: true });
  }
  await phone.close();

  console.log(`RESULT ${JSON.stringify(result)}`);
} catch (e) {
  console.log(`FAILED: ${e.stack || e}`);
  if (current) await current.screenshot({ path: `${SHOTS}failure.png`, fullPage: true }).catch(() => {});
  process.exitCode = 1;
} finally {
  await browser.close();
  host.close();
}
