// Drives headless Chromium (Debian's /usr/bin/chromium) through the widget on a host page of
// another origin. Run by tests/suite/widget_browser.rs, which starts the app, the host site and
// the webhook receiver, and checks the database side afterwards. Prints `RESULT {json}`.
//
// Env: HOST_URL (page on an allowed origin), REFUSED_URL (page on another origin),
// FRAME_PATH (path of the same host's page with the iframe variant), COLOR
// (the agent's #rrggbb), SCREENSHOT (png path), CHROMIUM (default /usr/bin/chromium).
import { chromium } from "playwright-core";

const env = (k, d) => process.env[k] ?? d ?? (() => { throw new Error(`${k} is not set`); })();
const HOST_URL = env("HOST_URL");
const REFUSED_URL = env("REFUSED_URL");
const COLOR = env("COLOR");
const SCREENSHOT = env("SCREENSHOT");
const CHROMIUM = env("CHROMIUM", "/usr/bin/chromium");
const FRAME_PATH = env("FRAME_PATH");

function check(cond, message) {
  if (!cond) throw new Error(message);
  console.log(`ok - ${message}`);
}

function rgb(hex) {
  const n = parseInt(hex.slice(1), 16);
  return `rgb(${n >> 16}, ${(n >> 8) & 255}, ${n & 255})`;
}

const result = {};
let current = null;
const browser = await chromium.launch({
  executablePath: CHROMIUM,
  headless: true,
  args: ["--no-sandbox", "--disable-dev-shm-usage", "--disable-gpu"],
});
try {
  const context = await browser.newContext({ viewport: { width: 1280, height: 800 } });
  const page = await context.newPage();
  current = page;
  page.on("pageerror", (e) => console.log(`page error: ${e.message}`));
  await page.goto(HOST_URL);

  // The bubble, in the agent's colour, isolated from the host page's CSS.
  const launcher = page.locator(".launcher");
  await launcher.waitFor({ state: "visible", timeout: 10000 });
  const bg = await launcher.evaluate((e) => getComputedStyle(e).backgroundColor);
  check(bg === rgb(COLOR), `the bubble has the agent's colour (${bg})`);
  check((await launcher.getAttribute("aria-label")).startsWith("Open chat with"), "the bubble has an aria label");
  const paintTiming = () => page.evaluate(async () => {
    for (let i = 0; i < 50 && !performance.getEntriesByName("otoq:first-paint").length; i++) {
      await new Promise((r) => setTimeout(r, 20));
    }
    const paint = performance.getEntriesByName("otoq:first-paint")[0];
    const painted = performance.getEntriesByName("otoq:bubble-painted")[0];
    const js = performance.getEntriesByType("resource").find((r) => r.name.endsWith("/widget.js"));
    return {
      bubble_paint_after_script_start_ms: paint ? paint.duration : null,
      bubble_paint_after_script_loaded_ms: painted && js ? painted.startTime - js.responseEnd : null,
      widget_js_transfer_bytes: js ? js.transferSize : null,
    };
  });
  const timing = await paintTiming();
  Object.assign(result, timing);
  check(timing.bubble_paint_after_script_start_ms !== null, `first paint measured: ${JSON.stringify(timing)}`);

  // Open with the keyboard: the panel shows the name and welcome message, focus is in the input.
  await launcher.focus();
  await page.keyboard.press("Enter");
  const panel = page.locator(".panel");
  await panel.waitFor({ state: "visible" });
  check((await page.locator(".panel h2").textContent()) === "Outdoor Shop", "the panel shows the agent's name");
  await page.locator(".msg.bot", { hasText: "Welcome to the Outdoor Shop" }).waitFor();
  check(true, "the welcome message shows");
  const focused = await page.evaluate(() => {
    const host = document.querySelector("[data-otoq]");
    return host.shadowRoot.activeElement && host.shadowRoot.activeElement.tagName;
  });
  check(focused === "TEXTAREA", "focus moves to the message input");

  // A question gets a streamed answer with a citation link.
  await page.evaluate(() => {
    const log = document.querySelector("[data-otoq]").shadowRoot.querySelector(".log");
    window.__mutations = 0;
    new MutationObserver((ms) => { window.__mutations += ms.length; }).observe(log, { childList: true, subtree: true, characterData: true });
  });
  const asked = Date.now();
  await page.keyboard.type("How many days do I have to return an item?");
  await page.keyboard.press("Enter");
  const answer = page.locator(".msg.bot", { hasText: "30 days" });
  await answer.waitFor({ timeout: 20000 });
  const link = answer.locator(".sources a");
  await link.first().waitFor();
  const href = await link.first().getAttribute("href");
  check(href && href.includes("/returns"), `the answer cites its page as a link (${href})`);
  check((await link.first().getAttribute("rel")).includes("noopener"), "citation links open safely");
  result.first_token_ms = await page.evaluate(() => window.__otoqFirstToken);
  result.answer_ms = Date.now() - asked;
  const mutations = await page.evaluate(() => window.__mutations);
  check(result.first_token_ms !== undefined && mutations > 3, `the answer streamed (${mutations} updates, first token ${result.first_token_ms?.toFixed(1)} ms)`);
  await page.screenshot({ path: SCREENSHOT });
  check(true, `screenshot saved to ${SCREENSHOT}`);

  // An unanswerable question: the handoff offer as buttons; accepting it hands off.
  await page.locator("textarea").fill("Do you repair bicycles?");
  await page.locator("form.compose button").click();
  const yes = page.locator(".actions button.primary");
  await yes.waitFor({ timeout: 20000 });
  check(true, "the handoff offer shows as buttons");
  await yes.click();
  await page.locator(".note").first().waitFor();
  check(await page.locator("header button.human").isDisabled(), "after the handoff the human button is done");
  result.conversation_id = await page.evaluate(() => {
    const k = Object.keys(localStorage).find((k) => k.endsWith(":conversation"));
    return localStorage.getItem(k);
  });

  // The lead form (shown after the second message and at handoff) creates a lead.
  const card = page.locator("form.card");
  await card.waitFor({ timeout: 10000 });
  await card.locator("input[name=name]").fill("Ana Silva");
  await card.locator("input[name=email]").fill("ana@example");
  await card.locator("button.primary").click();
  await card.locator(".error").waitFor();
  check((await card.locator(".error").textContent()).includes("email"), "a bad email is explained by name");
  await card.locator("input[name=email]").fill("ana@example.com");
  await card.locator("button.primary").click();
  await page.locator(".note", { hasText: "Thanks" }).waitFor();
  check(true, "the lead form was sent");

  // A reload continues the conversation.
  await page.reload();
  await page.locator(".msg.user", { hasText: "Do you repair bicycles?" }).waitFor({ timeout: 10000 });
  check(true, "after a reload the conversation is still there");
  check(await page.locator("header button.human").isDisabled(), "after a reload the handoff is remembered");
  const again = await paintTiming();
  result.bubble_paint_cached_config_ms = again.bubble_paint_after_script_start_ms;
  check(again.bubble_paint_after_script_start_ms !== null, `first paint on a later page view (config cached): ${JSON.stringify(again)}`);
  await page.locator("textarea").focus();
  await page.keyboard.press("Escape");
  await panel.waitFor({ state: "hidden" });
  check(true, "Escape closes the panel");

  // Mobile width: the open panel fills the screen.
  const phone = await browser.newContext({ viewport: { width: 375, height: 667 }, isMobile: true, hasTouch: true });
  const mobile = await phone.newPage();
  await mobile.goto(HOST_URL);
  await mobile.locator(".launcher").click();
  const box = await mobile.locator(".panel").boundingBox();
  check(box && Math.round(box.width) === 375, `on a phone the panel is full width (${box && box.width})`);
  await phone.close();

  // A page on an origin that is not allowed gets no widget, and a clear console message.
  const other = await context.newPage();
  const warnings = [];
  other.on("console", (m) => { if (m.text().includes("[otoq]")) warnings.push(m.text()); });
  await other.goto(REFUSED_URL);
  for (let i = 0; i < 100 && !warnings.length; i++) await other.waitForTimeout(50);
  check(warnings.some((w) => w.includes("not enabled")), `the other origin is refused: ${warnings[0]}`);
  check((await other.locator(".launcher").count()) === 0, "no bubble on the refused origin");

  // The iframe variant: works when framed by an allowed origin, refused (frame-ancestors) elsewhere.
  const framed = await context.newPage();
  await framed.goto(new URL(FRAME_PATH, HOST_URL).href);
  const inFrame = framed.frameLocator("iframe").locator(".launcher");
  await inFrame.waitFor({ state: "visible", timeout: 10000 });
  const frameBg = await inFrame.evaluate((e) => getComputedStyle(e).backgroundColor);
  check(frameBg === rgb(COLOR), "the iframe variant shows the bubble on an allowed origin");
  await framed.goto(new URL(FRAME_PATH, REFUSED_URL).href);
  await framed.waitForTimeout(1000);
  check((await framed.frameLocator("iframe").locator(".launcher").count()) === 0, "the iframe variant is refused on another origin");

  console.log(`RESULT ${JSON.stringify(result)}`);
} catch (e) {
  console.log(`FAILED: ${e.stack || e}`);
  if (current) {
    const log = await current.evaluate(() => document.querySelector("[data-otoq]")?.shadowRoot.querySelector(".log")?.innerText).catch(() => null);
    console.log(`widget log at failure:\n${log}`);
    await current.screenshot({ path: SCREENSHOT.replace(/\.png$/, "-failure.png") }).catch(() => {});
  }
  process.exitCode = 1;
} finally {
  await browser.close();
}
