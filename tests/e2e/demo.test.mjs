// End to end: Debian's Chromium loads the demo pages from a running collector, a visitor fills
// the form, axe-core checks every step, and the lead is read back from the collector's SQLite.
//
// Run by `scripts/dev test` with BANTAM_URL set to the collector (see start_collector there).
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { createRequire } from "node:module";
import { readFileSync } from "node:fs";
import { tools, chromium, AXE_SOURCE, CHROMIUM_ARGS } from "./support.mjs";

const BASE = process.env.BANTAM_URL;
assert.ok(BASE, "BANTAM_URL must point at a running collector");

let browser;
before(async () => {
  browser = await chromium.launch({ executablePath: "/usr/bin/chromium", args: CHROMIUM_ARGS });
});
after(async () => {
  await browser?.close();
});

/** A fresh page that records console errors, page errors and CSP violations. */
async function openPage(path, viewport = { width: 1280, height: 900 }) {
  const context = await browser.newContext({ viewport });
  const page = await context.newPage();
  const problems = [];
  page.on("console", (msg) => {
    if (msg.type() === "error" || msg.type() === "warning") problems.push(`${msg.type()}: ${msg.text()}`);
  });
  page.on("pageerror", (err) => problems.push(`pageerror: ${err.message}`));
  await page.goto(BASE + path);
  return { page, problems, context };
}

/** Runs axe-core (WCAG 2.0/2.1 A and AA) on the widget and returns its violations. */
async function axe(page, hostSelector) {
  // Evaluated through the DevTools protocol, so the page's strict CSP stays on for the widget.
  await page.evaluate(AXE_SOURCE);
  return page.evaluate(async (selector) => {
    const result = await window.axe.run(
      { include: [[selector]] },
      { runOnly: { type: "tag", values: ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"] } },
    );
    return result.violations.map((v) => ({
      id: v.id,
      help: v.help,
      nodes: v.nodes.map((n) => n.target.join(" ")),
    }));
  }, hostSelector);
}

async function assertAccessible(page, step) {
  const violations = await axe(page, "#lead-form, #form-host");
  assert.deepEqual(violations, [], `axe found problems on ${step}: ${JSON.stringify(violations, null, 2)}`);
}

async function leads() {
  const response = await fetch(`${BASE}/v1/leads`, {
    headers: { Authorization: `Bearer ${process.env.BANTAM_ADMIN_TOKEN}` },
  });
  assert.equal(response.status, 200);
  return (await response.json()).leads;
}

/** The stored record (`{lead, scoreMismatch, …}`) with this email, once the outbox has
 * delivered it (polled, up to 20 s). */
async function storedOf(email) {
  const end = Date.now() + 20000;
  for (;;) {
    const found = (await leads()).find((l) => l.lead.contact.email === email);
    if (found) return found;
    assert.ok(Date.now() < end, `the lead of ${email} never arrived`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** The stored lead document with this email, once delivered. */
async function leadOf(email) {
  return (await storedOf(email)).lead;
}

test("a visitor on the landing page becomes a hot lead in the collector", async () => {
  const { page, problems, context } = await openPage("/");
  const email = `ann+${Date.now()}@acme.io`;
  await page.locator("#b-email").waitFor();
  assert.equal(await page.locator(".st").textContent(), "Step 1 of 2");
  await assertAccessible(page, "step 1");

  // Submitting empty shows messages, which must be accessible too.
  await page.locator("button.nx").click();
  assert.equal(await page.locator("#b-company-e").textContent(), "Please answer this question.");
  await assertAccessible(page, "step 1 with errors");

  await page.getByLabel("Work email").fill(email);
  await page.getByLabel("Company").fill("Acme Corp");
  await page.getByLabel("Over $250k").check();
  await page.locator("button.nx").click();
  assert.equal(await page.locator(".st").textContent(), "Step 2 of 2");
  await assertAccessible(page, "step 2");

  await page.getByLabel("I make the decision").check();
  await page.getByLabel("This month").check();
  await page.getByLabel(/I agree that you may contact me/).check();
  await page.locator("button.nx").click();
  await page.getByRole("heading", { name: "You're a great fit!" }).waitFor();
  assert.equal(await page.getByRole("link", { name: "Book a call" }).getAttribute("href"), "/book.html");
  await assertAccessible(page, "the thank-you step");
  assert.deepEqual(problems, [], "no console errors or CSP violations");
  await context.close();

  const stored = await storedOf(email);
  const lead = stored.lead;
  assert.equal(lead.formId, "ledgerline-demo");
  assert.equal(lead.schemaVersion, 1);
  assert.equal(lead.contact.company, "Acme Corp");
  // Need and team size come on a later visit: not asked yet is unknown, not zero (60 % known).
  assert.equal(lead.score.total, 100);
  assert.equal(lead.score.known, 60);
  assert.equal(lead.score.grade, "hot");
  assert.equal(stored.scoreMismatch, false, "the collector's re-score agrees with the browser's");
  assert.deepEqual(
    lead.score.reasons.map((r) => r.text),
    [
      "Budget Over $250k: +30",
      "Role I make the decision: +25",
      "Timeframe This month: +20",
    ],
  );
  assert.equal(lead.consent.given, true);
  assert.match(lead.page.url, /^http:\/\/127\.0\.0\.1:\d+\/$/);

  // Sales see it in the inbox, and in the inbox filtered to hot leads.
  const auth = { Authorization: "Basic " + Buffer.from(`sales:${process.env.BANTAM_ADMIN_TOKEN}`).toString("base64") };
  for (const query of ["", "?grade=hot", `?q=${encodeURIComponent(email)}`]) {
    const inbox = await fetch(`${BASE}/inbox${query}`, { headers: auth });
    assert.equal(inbox.status, 200);
    assert.ok((await inbox.text()).includes(email), `the inbox${query} lists the lead`);
  }
  assert.equal(lead.page.title, "Ledgerline: close the books in days, not weeks");
});

test("a cold lead gets the default thank-you and is stored as cold", async () => {
  const { page, problems, context } = await openPage("/", { width: 375, height: 740 });
  const email = `student+${Date.now()}@uni.edu`;
  await page.getByLabel("Work email").fill(email);
  await page.getByLabel("Company").fill("State University");
  await page.getByLabel("Over $250k").check();
  // On a phone the page must not scroll sideways.
  const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
  assert.ok(overflow <= 0, `page is ${overflow}px wider than a 375px phone`);
  await page.locator("button.nx").click();
  await page.getByLabel("I'm a student").check();
  await page.getByLabel("This month").check();
  await page.getByLabel(/I agree that you may contact me/).check();
  await page.locator("button.nx").click();
  await page.getByRole("heading", { name: "Thank you!" }).waitFor();
  assert.deepEqual(problems, []);
  await context.close();
  const lead = await leadOf(email);
  assert.equal(lead.score.grade, "cold");
  assert.equal(lead.score.cappedBy, "cold");
});

test("the module API page logs every event and remounts", async () => {
  const { page, problems, context } = await openPage("/developer.html");
  const log = page.locator("#log strong");
  await page.locator("#b-email").waitFor();
  assert.deepEqual(await log.allTextContents(), ["bantam:step", "bantam:ready"]);
  await assertAccessible(page, "the developer page form");
  await page.getByLabel("Work email").fill(`dev+${Date.now()}@example.org`);
  await page.getByLabel("Company").fill("Example Ltd");
  await page.locator("button.nx").click();
  await page.getByLabel("$10k–$50k").check();
  await page.getByLabel("I recommend; someone else signs").check();
  await page.locator("button.nx").click();
  await page.getByLabel("Within 6 months").check();
  await page.getByLabel(/I agree/).check();
  await page.locator("button.nx").click();
  await page.getByRole("heading", { name: "Thank you!" }).waitFor();
  await page.locator("#log li", { hasText: "bantam:delivered" }).waitFor();
  const events = await log.allTextContents();
  for (const name of ["ready", "step", "scored", "submit", "delivered"]) {
    assert.ok(events.includes(`bantam:${name}`), `bantam:${name} was logged: ${events}`);
  }
  await page.getByRole("button", { name: "Destroy and mount again" }).click();
  // Mounted again, for a visitor it now knows: only the questions not answered yet.
  await page.getByRole("button", { name: "Not you? Start over" }).waitFor();
  assert.equal(await page.locator("#form-host [data-bantam]").count(), 1);
  assert.equal(await page.locator("#b-email").count(), 0);
  assert.deepEqual(problems, []);
  await context.close();
});

test("the collector answers bad requests with a reason", async () => {
  const post = (body, type = "application/json") =>
    fetch(`${BASE}/v1/leads`, { method: "POST", headers: { "Content-Type": type }, body });
  let response = await post("not json");
  assert.equal(response.status, 400);
  assert.match((await response.json()).error, /not valid JSON/);
  response = await post("{}", "text/csv");
  assert.equal(response.status, 415);
  // What a beacon sends (text/plain) is read as JSON, and checked the same way.
  response = await post("{}", "text/plain;charset=UTF-8");
  assert.equal(response.status, 422);
  response = await post(JSON.stringify({ schemaVersion: 1, id: "x" }));
  assert.equal(response.status, 422);
});

/** Serves `html` at `path` on the collector's origin, so /dist/ files load as on a real site. */
async function openHtml(path, html, extraRoutes = {}) {
  const context = await browser.newContext();
  await context.route(BASE + path, (route) => route.fulfill({ contentType: "text/html", body: html }));
  for (const [p, body] of Object.entries(extraRoutes)) {
    await context.route(BASE + p, (route) => route.fulfill({ contentType: "application/json", body }));
  }
  const page = await context.newPage();
  const errors = [];
  page.on("console", (msg) => { if (msg.type() === "error") errors.push(msg.text()); });
  page.on("pageerror", (err) => errors.push(`pageerror: ${err.message}`));
  await page.goto(BASE + path);
  return { page, errors, context };
}

const CONFIG = JSON.stringify({ formId: "embed-test", preset: "bant" });

test("calls queued before the loader arrives are kept", async () => {
  const { page, errors, context } = await openHtml("/queue-test.html", `<!doctype html><html lang="en"><title>q</title>
    <script>
      window.Bantam = window.Bantam || function () { (Bantam.q = Bantam.q || []).push(arguments); };
      window.seen = [];
      Bantam("on", "bantam:ready", (e) => seen.push(e.type + ":" + e.detail.formId));
      Bantam((api) => seen.push("api:" + typeof api.mount));
    </script>
    <main><div id="t"></div></main>
    <script type="application/json" id="cfg">${CONFIG}</script>
    <script src="/dist/embed.js" data-target="#t" data-config="#cfg" async></script>`);
  await page.locator("#b-email").waitFor();
  await page.waitForFunction(() => window.seen.length === 2);
  assert.deepEqual(await page.evaluate(() => window.seen.sort()), ["api:function", "bantam:ready:embed-test"]);
  assert.equal(await page.evaluate(() => typeof window.Bantam.mount), "function");
  assert.deepEqual(errors, []);
  await context.close();
});

/** The widget modules (lean, full) whose wasm the page downloaded. */
const modules = (page) => page.evaluate(() => [...new Set(performance.getEntriesByType("resource")
  .map((r) => r.name.match(/\/(bantam_(?:core|full)_bg)\.[0-9a-f]{10}\.wasm$/)?.[1]).filter(Boolean))]);

test("a form from the collector loads the lean module, a config in the page the full one", async () => {
  // The demo page's config comes from the collector, compiled.
  const demo = await openPage("/");
  await demo.page.waitForFunction(() => document.querySelector("[data-bantam]"));
  assert.deepEqual(await modules(demo.page), ["bantam_core_bg"]);
  assert.deepEqual(demo.problems, []);
  await demo.context.close();
  const { page, errors, context } = await openHtml("/inline-test.html", `<!doctype html><html lang="en"><title>i</title>
    <main><div id="t"></div></main>
    <script type="application/json" id="cfg">${CONFIG}</script>
    <script src="/dist/embed.js" data-target="#t" data-config="#cfg" async></script>`);
  await page.locator("#b-email").waitFor();
  assert.deepEqual(await modules(page), ["bantam_full_bg"]);
  assert.deepEqual(errors, []);
  await context.close();
});

// The script tag is the only script the default embed loads: embed.js carries the lean
// module's glue, so nothing is imported before the wasm and the compiled form are asked for. A
// config in the page imports the full module. Every script, wasm and form comes gzipped.
test("the default embed loads embed.js, then only the wasm and the compiled form, all gzipped", async () => {
  /** What a fresh browser fetched from /dist/ and /forms/ for `path` (served `html`, if given). */
  const loaded = async (path, html) => {
    const context = await browser.newContext();
    if (html) await context.route(BASE + path, (route) => route.fulfill({ contentType: "text/html", body: html }));
    const page = await context.newPage();
    const problems = [];
    page.on("console", (msg) => { if (msg.type() === "error") problems.push(msg.text()); });
    const seen = [];
    page.on("response", (response) => {
      const url = new URL(response.url());
      if (url.pathname.startsWith("/dist/") || url.pathname.startsWith("/forms/")) {
        seen.push([url.pathname.replace(/\.[0-9a-f]{10}\./, ".<hash>."), response.headers()["content-encoding"] ?? null]);
      }
    });
    await page.goto(BASE + path);
    await page.locator("#b-email").waitFor();
    assert.deepEqual(problems, []);
    await context.close();
    return seen.sort();
  };
  assert.deepEqual(await loaded("/"), [
    ["/dist/bantam_core_bg.<hash>.wasm", "gzip"],
    ["/dist/embed.js", "gzip"],
    ["/forms/ledgerline-demo.json", "gzip"],
  ]);
  assert.deepEqual(await loaded("/inline-order.html", `<!doctype html><html lang="en"><title>i</title>
    <main><div id="t"></div></main>
    <script type="application/json" id="cfg">${CONFIG}</script>
    <script src="/dist/embed.js" data-target="#t" data-config="#cfg" async></script>`), [
    ["/dist/bantam_full.<hash>.js", "gzip"],
    ["/dist/bantam_full_bg.<hash>.wasm", "gzip"],
    ["/dist/embed.js", "gzip"],
  ]);
});

/**
 * What a fresh browser does on `path` (served `html`, if given), in order: each request for
 * /dist/ and /forms/ as the page sends it, the first use of localStorage, the wasm's
 * instantiation, `bantam:ready` and the outbox's Web Lock; and the preload links it made.
 */
async function startUp(path, html) {
  const context = await browser.newContext();
  if (html) await context.route(BASE + path, (route) => route.fulfill({ contentType: "text/html", body: html }));
  await context.addInitScript(() => {
    window.order = [];
    const note = (what) => window.order.push(what);
    const storage = Object.getOwnPropertyDescriptor(window, "localStorage");
    let touched = false;
    Object.defineProperty(window, "localStorage", {
      configurable: true,
      get() {
        if (!touched) note("storage");
        touched = true;
        return storage.get.call(window);
      },
    });
    const instantiate = WebAssembly.instantiateStreaming;
    WebAssembly.instantiateStreaming = (...args) => instantiate.apply(WebAssembly, args).then((done) => {
      note("wasm instantiated");
      return done;
    });
    const request = navigator.locks.request.bind(navigator.locks);
    navigator.locks.request = (...args) => {
      note("outbox");
      return request(...args);
    };
    document.addEventListener("bantam:ready", () => note("ready"));
  });
  const page = await context.newPage();
  const requests = [];
  page.on("request", (r) => {
    const path = new URL(r.url()).pathname;
    if (path.startsWith("/dist/") || path.startsWith("/forms/")) requests.push(path.replace(/\.[0-9a-f]{10}\./, ".<hash>."));
  });
  await page.goto(BASE + path);
  await page.locator("#b-email").waitFor();
  await page.waitForFunction(() => window.order.includes("outbox"));
  const preloads = await page.evaluate(() => Array.from(document.querySelectorAll("link[rel$=preload]"),
    (link) => new URL(link.href).pathname.replace(/\.[0-9a-f]{10}\./, ".<hash>.")));
  const order = await page.evaluate(() => window.order);
  await context.close();
  return { requests, preloads, order };
}

test("the default embed asks for the compiled form first, opens storage while the wasm loads, and is ready before the outbox", async () => {
  const embed = await startUp("/");
  assert.deepEqual(embed.requests, ["/dist/embed.js", "/forms/ledgerline-demo.json", "/dist/bantam_core_bg.<hash>.wasm"],
    "the compiled form is asked for first, then the wasm, and each once");
  assert.deepEqual(embed.preloads, [], "a form mounted at once needs no preload links");
  assert.deepEqual(embed.order, ["storage", "wasm instantiated", "ready", "outbox"]);
  // A config in the page: the full module's glue and wasm are preloaded (its import would
  // otherwise come first), and storage is opened while they load too.
  const inline = await startUp("/inline-start.html", `<!doctype html><html lang="en"><title>i</title>
    <main><div id="t"></div></main>
    <script type="application/json" id="cfg">${CONFIG}</script>
    <script src="/dist/embed.js" data-target="#t" data-config="#cfg" async></script>`);
  assert.deepEqual(inline.preloads, ["/dist/bantam_full.<hash>.js", "/dist/bantam_full_bg.<hash>.wasm"]);
  assert.deepEqual(inline.order, ["storage", "wasm instantiated", "ready", "outbox"]);
});

test("two forms on one page share one module: the second embed.js mounts through the first", async () => {
  const { page, errors, context } = await openHtml("/two-forms.html", `<!doctype html><html lang="en"><title>2</title>
    <main><div id="a"></div><div id="b"></div></main>
    <script src="/dist/embed.js" data-target="#a" data-config-url="/forms/ledgerline-demo.json" async></script>
    <script src="/dist/embed.js" data-target="#b" data-config-url="/forms/ledgerline-demo.json" async></script>`);
  await page.locator("#a >> #b-email").waitFor();
  await page.locator("#b >> #b-email").waitFor();
  const wasm = await page.evaluate(() => performance.getEntriesByType("resource")
    .filter((e) => /bantam_core_bg\.[0-9a-f]{10}\.wasm$/.test(e.name)).length);
  assert.equal(wasm, 1, "the wasm is fetched (and compiled) once");
  assert.equal(await page.evaluate(() => window.Bantam.forms.length), 2, "both forms are the first loader's");
  assert.deepEqual(errors, []);
  await context.close();
});

test("a config URL that holds a config goes to the full module; a broken compiled form is one precise error", async () => {
  const { page, errors, context } = await openHtml("/fallback-test.html", `<!doctype html><html lang="en"><title>f</title>
    <main><div id="a"></div><div id="b"></div></main>
    <script>window.details = []; document.addEventListener("bantam:error", (e) => details.push(e.detail));</script>
    <script src="/dist/embed.js" data-target="#a" data-config-url="/plain-config.json" async></script>
    <script src="/dist/embed.js" data-target="#b" data-config-url="/broken-compiled.json" async></script>`,
  { "/plain-config.json": CONFIG, "/broken-compiled.json": JSON.stringify(["bantam-form/1", 1, 2]) });
  // The lean module reads compiled forms only: the config is handed to the full module, unreported.
  await page.locator("#a >> #b-email").waitFor();
  const message = "config: not a compiled form this widget reads (bantam-form/1); load the widget from the collector that compiled it";
  await page.waitForFunction(() => window.details.length > 0);
  assert.deepEqual(await page.evaluate(() => window.details), [{ code: "config", message, path: "config" }]);
  assert.deepEqual(errors, ["Bantam: " + message]);
  assert.deepEqual((await modules(page)).sort(), ["bantam_core_bg", "bantam_full_bg"]);
  await context.close();
});

// The compiled form is asked for while the module and the wasm load, not after them (which
// cost a round trip at start-up), with the classic loader (the demo page) and with the module
// API (the developer page); the mount takes that request over instead of making a second one.
// The wasm's response is held until the form's request comes (or 5 s have passed): a widget that
// asked only once the wasm was in would wait those 5 s and fail.
for (const [name, path] of [["the classic loader", "/"], ["the module API", "/developer.html"]]) {
  test(`${name} asks for the compiled form once, while the wasm is still loading`, async () => {
    const context = await browser.newContext();
    const asked = [];
    let whileHeld = null;
    await context.route(/\/bantam_core_bg\.[0-9a-f]{10}\.wasm$/, async (route) => {
      const end = Date.now() + 5000;
      while (!asked.length && Date.now() < end) await new Promise((r) => setTimeout(r, 10));
      whileHeld = asked.length > 0;
      await route.continue();
    });
    const page = await context.newPage();
    const problems = [];
    page.on("console", (msg) => {
      if (msg.type() === "error" || msg.type() === "warning") problems.push(`${msg.type()}: ${msg.text()}`);
    });
    page.on("request", (request) => {
      if (new URL(request.url()).pathname.startsWith("/forms/")) asked.push(request.headers().accept);
    });
    await page.goto(BASE + path);
    await page.locator("#b-email").waitFor();
    assert.equal(whileHeld, true, "the form was asked for while the wasm's response was held");
    assert.deepEqual(asked, ["application/vnd.bantam.form+json, application/json;q=0.9"], "one request, for the compiled form");
    assert.deepEqual(problems, []);
    await context.close();
  });
}

test("a config URL works as well as an inline config", async () => {
  const { page, errors, context } = await openHtml("/url-test.html", `<!doctype html><html lang="en"><title>u</title>
    <main><div id="t"></div></main>
    <script src="/dist/embed.js" data-target="#t" data-config-url="/forms/embed-test.json" async></script>`,
    { "/forms/embed-test.json": CONFIG });
  await page.locator("#b-email").waitFor();
  assert.deepEqual(errors, []);
  await context.close();
});

for (const [name, config, message] of [
  ["broken JSON", "{ formId: nope", /^Bantam: the config in #cfg is not valid JSON: /],
  ["a bad field", JSON.stringify({ formId: "x", preset: "bant", grades: [{ name: "hot", min: 70 }] }),
    /^Bantam: config\.grades\[0\]\.min: the last grade \("hot"\) must have min 0 so every score gets a grade$/],
]) {
  test(`a config with ${name} logs one precise error and leaves the page intact`, async () => {
    const { page, errors, context } = await openHtml("/bad-test.html", `<!doctype html><html lang="en"><title>b</title>
      <main><h1>Host page</h1><div id="t"></div><p id="after">still here</p></main>
      <script>window.reported = []; document.addEventListener("bantam:error", (e) => reported.push(e.detail.code));</script>
      <script type="application/json" id="cfg">${config}</script>
      <script src="/dist/embed.js" data-target="#t" data-config="#cfg" async></script>`);
    await page.waitForFunction(() => window.reported.length > 0);
    await page.waitForTimeout(200);
    assert.equal(errors.length, 1, `one console error: ${JSON.stringify(errors)}`);
    assert.match(errors[0], message);
    assert.deepEqual(await page.evaluate(() => window.reported), ["config"]);
    assert.equal(await page.locator("#t").innerHTML(), "", "nothing half-rendered");
    assert.equal(await page.locator("#after").textContent(), "still here");
    await context.close();
  });
}

test("the form can be filled with the keyboard alone", async () => {
  const { page, problems, context } = await openPage("/developer.html");
  await page.locator("#b-email").waitFor();
  const email = `keys+${Date.now()}@example.org`;
  await page.locator("#b-email").focus();
  await page.keyboard.type(email);
  await page.keyboard.press("Tab");
  await page.keyboard.type("Keyboard Ltd");
  await page.keyboard.press("Enter");
  // Step 2 (two questions a step on this page) receives focus on its first control.
  assert.equal(await page.locator(".st").textContent(), "Step 2 of 3");
  assert.equal(await page.evaluate(() => document.querySelector("[data-bantam]").shadowRoot.activeElement.name), "b-budget");
  await page.keyboard.press("ArrowDown");
  await page.keyboard.press("ArrowDown");
  await page.keyboard.press("Tab");
  await page.keyboard.press("ArrowDown");
  await page.keyboard.press("Enter");
  assert.equal(await page.locator(".st").textContent(), "Step 3 of 3");
  await page.keyboard.press("ArrowDown");
  await page.keyboard.press("Tab");
  await page.keyboard.press("Space");
  await page.keyboard.press("Enter");
  await page.getByRole("heading", { name: "Thank you!" }).waitFor();
  assert.deepEqual(problems, []);
  await context.close();
  const lead = await leadOf(email);
  assert.deepEqual(
    [lead.answers.budget, lead.answers.role, lead.answers.timeframe, lead.answers.consent],
    ["10k-50k", "influencer", "this-quarter", true],
  );
});

test("a returning visitor: new questions only, first and last touch, nothing kept before consent", async () => {
  const context = await browser.newContext();
  const visit = async (query) => {
    const page = await context.newPage();
    await page.goto(`${BASE}/${query}`);
    await page.locator("#b-email").waitFor();
    return page;
  };
  const stored = (page) => page.evaluate(() => localStorage.getItem("bantam.attribution.v1"));
  const fill = async (page, email) => {
    await page.getByLabel("Work email").fill(email);
    await page.getByLabel("Company").fill("Touch Ltd");
    await page.getByLabel("$10k–$50k").check();
    await page.locator("button.nx").click();
    await page.getByLabel("I make the decision").check();
    await page.getByLabel("This month").check();
    await page.getByLabel(/I agree/).check();
    await page.locator("button.nx").click();
    await page.locator(".ty").waitFor();
  };
  const lead = async (email, visit = 1) => {
    for (let i = 0; i < 50; i++) {
      const found = (await leads()).find((l) => l.lead.contact.email === email && (l.lead.visitCount || 1) === visit);
      if (found) return found.lead;
      await new Promise((r) => setTimeout(r, 100));
    }
    assert.fail(`no lead for ${email}`);
  };

  // A first visit from an ad, without submitting: the form asks consent, so nothing is kept.
  let page = await visit("?utm_source=ads&gclid=g-1");
  assert.equal(await stored(page), null, "nothing stored before consent");
  await page.close();

  // A visit from the newsletter, submitted with consent: first = last = newsletter.
  const first = `touch1+${Date.now()}@acme.io`;
  page = await visit("?utm_source=newsletter&utm_medium=email");
  await fill(page, first);
  let a = (await lead(first)).attribution;
  assert.equal(a.firstTouch.utm.source, "newsletter");
  assert.equal(a.lastTouch.utm.medium, "email");
  assert.ok(await stored(page), "kept once consent was given");
  await page.close();

  // A later visit from a partner: only the questions not answered yet; the first touch
  // stays, the last touch moves, and the lead carries everything known.
  page = await context.newPage();
  await page.goto(`${BASE}/?utm_source=partner&fbclid=f-9`);
  await page.locator("[data-bantam]").waitFor();
  await page.getByLabel("Replace a tool we use today").waitFor();
  assert.equal(await page.locator("#b-email").count(), 0, "the email is not asked again");
  assert.equal(await page.getByRole("button", { name: "Not you? Start over" }).count(), 1);
  await assertAccessible(page, "a returning visitor's step");
  await page.getByLabel("Replace a tool we use today").check();
  await page.getByLabel("How many people would use it?").fill("120");
  await page.locator("button.nx").click();
  await page.locator(".ty").waitFor();
  const again = await lead(first, 2);
  assert.equal(again.visitCount, 2);
  assert.deepEqual(again.newAnswers, ["headcount", "need"]);
  assert.equal(again.answers.budget, "10k-50k", "known answers travel with the new ones");
  assert.equal(again.attribution.firstTouch.utm.source, "newsletter");
  assert.equal(again.attribution.lastTouch.utm.source, "partner");
  assert.equal(again.attribution.lastTouch.clickIds.fbclid, "f-9");
  await context.close();
});
