// Delivery through faults, in Chromium, against a local endpoint this test controls: it fails
// the first requests, answers 429 with Retry-After, drops connections, goes away and comes back.
// Every case checks that the endpoint stored each lead exactly once, under the same id.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { createRequire } from "node:module";
import { createServer } from "node:http";
import { readFile } from "node:fs/promises";
import { extname } from "node:path";
import { tools, chromium, until } from "./support.mjs";

const WWW = new URL("../../www/", import.meta.url);
const TYPES = { ".js": "text/javascript", ".wasm": "application/wasm", ".html": "text/html", ".json": "application/json", ".css": "text/css", ".svg": "image/svg+xml" };

/** The endpoint's state: what it stored, what it saw, and how it behaves now. */
const endpoint = {
  stored: new Map(), // id -> times a 2xx stored it (dedup by Idempotency-Key keeps it at 1)
  requests: [], // ids in arrival order
  inFlight: new Map(), // id -> concurrent requests now
  streaks: new Map(), // id -> failures in a row (flaky mode)
  maxInFlight: 0,
  plan: [], // per request: "ok" | 503 | 429 | "drop"; "ok" once empty
  fallback: "ok", // what to do when the plan is empty: "ok" | "drop" | "flaky"
  delay: 0, // ms every request takes
  generation: 0, // bumped by reset: a request still open from an earlier test is ignored
  reset() {
    this.generation += 1;
    this.delay = 0;
    this.stored.clear();
    this.requests = [];
    this.inFlight.clear();
    this.streaks.clear();
    this.maxInFlight = 0;
    this.plan = [];
    this.fallback = "ok";
  },
};

const PAGE = `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Delivery test</title></head><body>
<main><h1>Delivery</h1><div id="t"></div></main>
<script type="application/json" id="cfg">{"formId":"delivery","endpoint":"/flaky","questions":[{"id":"email","kind":"email","label":"Email","required":true}]}</script>
<script src="/dist/embed.js" data-target="#t" data-config="#cfg" async></script></body></html>`;

const MANY = `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Many leads</title></head><body><main id="m"></main>
<script type="module">
import { mount } from "/dist/bantam.js";
window.submitMany = async (n) => {
  const ids = [];
  for (let i = 0; i < n; i++) {
    // Each lead is a new visitor: forget the profile the previous one left.
    localStorage.removeItem("bantam.profile.v1.delivery");
    const host = document.createElement("div");
    document.getElementById("m").append(host);
    const submitted = new Promise((resolve) => host.addEventListener("bantam:submit", (e) => resolve(e.detail.lead.id), { once: true }));
    const form = await mount(host, { config: {"formId":"delivery","endpoint":"/flaky","questions":[{"id":"email","kind":"email","label":"Email","required":true}]} });
    const root = host.querySelector("[data-bantam]").shadowRoot;
    const input = root.getElementById("b-email");
    input.value = "lead" + i + "@acme.io";
    input.dispatchEvent(new Event("change", { bubbles: true }));
    root.querySelector("button.nx").click();
    ids.push(await submitted);
    form.destroy();
  }
  return ids;
};
</script></body></html>`;

function answer(res, status, headers = {}) {
  res.writeHead(status, { "Content-Type": "application/json", ...headers });
  res.end("{}");
}

const server = createServer(async (req, res) => {
  const url = new URL(req.url, "http://x");
  if (url.pathname === "/flaky" && req.method === "POST") {
    const generation = endpoint.generation;
    let body = "";
    for await (const chunk of req) body += chunk;
    if (generation !== endpoint.generation) return req.socket.destroy();
    // A page-hide copy goes as text/plain without the header (no preflight); the id is in
    // the body either way.
    const id = JSON.parse(body).id;
    const key = req.headers["idempotency-key"];
    if (key !== undefined) assert.equal(key, id, "Idempotency-Key is the lead id");
    endpoint.requests.push(id);
    // Flushes (with the header) take turns between tabs; page-hide copies may overlap them.
    const flush = key !== undefined;
    const now = (endpoint.inFlight.get(id) || 0) + (flush ? 1 : 0);
    endpoint.inFlight.set(id, now);
    endpoint.maxInFlight = Math.max(endpoint.maxInFlight, now);
    let step = endpoint.plan.length ? endpoint.plan.shift() : endpoint.fallback;
    if (endpoint.delay) await new Promise((r) => setTimeout(r, endpoint.delay));
    if (step === "flaky") {
      // One request in three fails, but never one lead four times running: the outbox's
      // backoff doubles from 1 s, so a longer streak only makes the run slow, not harder.
      const streak = endpoint.streaks.get(id) || 0;
      step = streak < 3 && Math.random() < 1 / 3 ? (Math.random() < 0.5 ? 503 : "drop") : "ok";
      endpoint.streaks.set(id, step === "ok" ? 0 : streak + 1);
      await new Promise((r) => setTimeout(r, Math.random() * 150));
    }
    if (generation !== endpoint.generation) return req.socket.destroy();
    endpoint.inFlight.set(id, endpoint.inFlight.get(id) - (flush ? 1 : 0));
    if (step === "drop") return req.socket.destroy();
    if (step === 429) return answer(res, 429, { "Retry-After": "1" });
    if (typeof step === "number") return answer(res, step);
    const first = !endpoint.stored.has(id);
    endpoint.stored.set(id, 1);
    return answer(res, first ? 201 : 200);
  }
  const path = url.pathname === "/delivery.html" ? null : url.pathname === "/many.html" ? null : url.pathname;
  if (path === null) {
    res.writeHead(200, { "Content-Type": "text/html" });
    return res.end(url.pathname === "/many.html" ? MANY : PAGE);
  }
  try {
    const file = await readFile(new URL("." + path, WWW));
    res.writeHead(200, { "Content-Type": TYPES[extname(path)] || "application/octet-stream" });
    res.end(file);
  } catch {
    res.writeHead(404);
    res.end();
  }
});

let browser;
let base;
before(async () => {
  await new Promise((r) => server.listen(0, "127.0.0.1", r));
  base = `http://127.0.0.1:${server.address().port}`;
  browser = await chromium.launch({
    executablePath: "/usr/bin/chromium",
    args: ["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--disable-background-networking", "--disable-component-update", "--disable-sync", "--no-first-run"],
  });
});
after(async () => {
  await browser?.close();
  server.close();
});

async function visitor(context) {
  const page = await context.newPage();
  await page.goto(`${base}/delivery.html`);
  await page.locator("#b-email").waitFor();
  return page;
}

async function submit(page, email) {
  const id = page.evaluate(() => new Promise((resolve) => document.addEventListener("bantam:submit", (e) => resolve(e.detail.lead.id), { once: true })));
  await page.locator("#b-email").fill(email);
  await page.locator("button.nx").click();
  await page.getByRole("heading", { name: "Thank you!" }).waitFor();
  return id;
}

/** Closes `context` once its outbox is empty, so no copy of its leads (a page-hide request)
 * reaches the endpoint during a later test. */
async function closeSent(context) {
  for (const page of context.pages()) {
    await page.waitForFunction(() => localStorage.getItem("bantam.outbox.v1") === null, null, { timeout: 20000 });
  }
  await context.close();
}

function assertStoredOnce(ids) {
  assert.deepEqual([...endpoint.stored.keys()].sort(), [...ids].sort(), "every lead stored, no stranger");
  for (const id of ids) assert.equal(endpoint.stored.get(id), 1);
}

test("failures, then success: stored once, same id, after retries", async () => {
  endpoint.reset();
  endpoint.plan = [503, "drop", 503];
  const context = await browser.newContext();
  const page = await visitor(context);
  const id = await submit(page, "ann@acme.io");
  await until(() => endpoint.stored.has(id), "the lead to be stored");
  assert.deepEqual(endpoint.requests, [id, id, id, id], "three failures, one success, all the same id");
  assertStoredOnce([id]);
  await closeSent(context);
});

test("429 with Retry-After is honoured", async () => {
  endpoint.reset();
  endpoint.plan = [429];
  const context = await browser.newContext();
  const page = await visitor(context);
  const started = Date.now();
  const id = await submit(page, "ann@acme.io");
  await until(() => endpoint.stored.has(id), "the lead to be stored");
  assert.ok(Date.now() - started >= 900, "waited for Retry-After: 1");
  assertStoredOnce([id]);
  await closeSent(context);
});

test("a reload while the lead is queued loses nothing", async () => {
  endpoint.reset();
  endpoint.fallback = "drop";
  const context = await browser.newContext();
  const page = await visitor(context);
  const id = await submit(page, "ann@acme.io");
  await until(() => endpoint.requests.length >= 1, "a first attempt");
  endpoint.fallback = "ok";
  await page.reload();
  await until(() => endpoint.stored.has(id), "the lead to be stored after the reload");
  assertStoredOnce([id]);
  await closeSent(context);
});

test("offline and back: the lead goes out when the network returns", async () => {
  endpoint.reset();
  const context = await browser.newContext();
  const page = await visitor(context);
  await context.setOffline(true);
  const id = await submit(page, "ann@acme.io");
  await page.waitForTimeout(300);
  assert.equal(endpoint.stored.size, 0);
  await context.setOffline(false);
  await until(() => endpoint.stored.has(id), "the lead to be stored once online");
  assertStoredOnce([id]);
  await closeSent(context);
});

test("two tabs never flush the same lead at once", async () => {
  endpoint.reset();
  endpoint.fallback = "drop";
  const context = await browser.newContext();
  const [a, b] = [await visitor(context), await visitor(context)];
  const ids = [await submit(a, "a@acme.io"), await submit(b, "b@acme.io")];
  endpoint.fallback = "ok";
  endpoint.delay = 100; // requests overlap if two tabs send the same lead
  // Both tabs flush the shared outbox (a reload each, and their timers); one at a time.
  await Promise.all([a.reload(), b.reload()]);
  await until(() => ids.every((id) => endpoint.stored.has(id)), "both leads stored");
  assertStoredOnce(ids);
  assert.equal(endpoint.maxInFlight, 1, "no lead was flushed by two tabs at once");
  await closeSent(context);
});

test("a double click submits one lead", async () => {
  endpoint.reset();
  const context = await browser.newContext();
  const page = await visitor(context);
  const submitted = page.evaluate(() => new Promise((resolve) => {
    const ids = [];
    document.addEventListener("bantam:submit", (e) => ids.push(e.detail.lead.id));
    setTimeout(() => resolve(ids), 1500);
  }));
  await page.locator("#b-email").fill("ann@acme.io");
  await page.locator("button.nx").dblclick();
  await page.getByRole("heading", { name: "Thank you!" }).waitFor();
  const ids = await submitted;
  assert.equal(ids.length, 1, "one submission");
  await until(() => endpoint.stored.has(ids[0]), "the lead to be stored");
  await page.waitForTimeout(300);
  // Only this test's lead counts: a copy of an earlier test's lead may still arrive (a tab
  // closed before it saw its answer sends it again at page hide).
  assert.equal(endpoint.requests.filter((id) => id === ids[0]).length, 1);
  await closeSent(context);
});

test("200 leads through an endpoint failing one request in three", async () => {
  endpoint.reset();
  endpoint.fallback = "flaky";
  const context = await browser.newContext();
  const page = await context.newPage();
  await page.goto(`${base}/many.html`);
  await page.waitForFunction(() => typeof window.submitMany === "function");
  const ids = await page.evaluate((n) => window.submitMany(n), 200);
  await until(() => ids.every((id) => endpoint.stored.has(id)), "all 200 leads stored", 120000);
  const received = new Set(endpoint.requests);
  const lost = ids.filter((id) => !endpoint.stored.has(id)).length;
  const duplicated = [...endpoint.stored.values()].filter((n) => n > 1).length;
  console.log(
    `200-lead run: submitted ${ids.length}, distinct ids received ${received.size}, requests ${endpoint.requests.length} ` +
      `(retries ${endpoint.requests.length - ids.length}), stored ${endpoint.stored.size}, lost ${lost}, duplicated after dedup by id ${duplicated}`,
  );
  assert.equal(new Set(ids).size, 200, "200 distinct ids");
  assertStoredOnce(ids);
  assert.equal(lost, 0);
  await closeSent(context);
});
