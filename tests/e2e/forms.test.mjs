// The inbox's forms pages in Chromium (issue 12): the forms list, a new form made from it, the
// form's page with its history and embed code; the embed code taken from the page and put on a
// page of another origin, where a visitor's lead is stored with the form's version; a roll back
// from the page, after which the previous config is served again. axe-core checks every page,
// at 1280 and 390 px wide.
//
// The test starts its own collector (BANTAM_BIN) with a forms folder of its own, and a second
// origin: a Node server on another port serving the host page.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { createRequire } from "node:module";
import { createServer } from "node:http";
import { spawn } from "node:child_process";
import { mkdtempSync, mkdirSync, writeFileSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { tools, chromium, AXE_SOURCE, ROOT, BIN, WWW, SHOTS, CHROMIUM_ARGS, until, signedInContext } from "./support.mjs";

const TOKEN = "forms-e2e-token";

const site = { pages: new Map(), url: "" };
const server = createServer((req, res) => {
  const page = site.pages.get(new URL(req.url, "http://x").pathname);
  if (page === undefined) {
    res.writeHead(404);
    return res.end();
  }
  res.writeHead(200, { "Content-Type": "text/html" });
  res.end(page);
});

let browser;
let collector; // {url, dir, child, log}
before(async () => {
  await new Promise((r) => server.listen(0, "127.0.0.1", r));
  site.url = `http://127.0.0.1:${server.address().port}`;
  const dir = mkdtempSync(join(tmpdir(), "bantam-forms-e2e-"));
  mkdirSync(join(dir, "forms"));
  writeFileSync(join(dir, "forms", "quote.json"),
    JSON.stringify({ formId: "quote", preset: "bant", spam: { minFillSeconds: 0 } }, null, 2));
  const child = spawn(BIN, ["--listen", "127.0.0.1:0", "--db", join(dir, "leads.db"), "--www", WWW,
    "--forms", join(dir, "forms"), "--admin-token", TOKEN, "--rate-limit", "0", "--allow-origin", site.url],
  { stdio: ["ignore", "pipe", "pipe"] });
  let out = "";
  child.stdout.on("data", (d) => { out += d; });
  child.stderr.on("data", (d) => { out += d; });
  const url = await until(() => out.match(/listening on (http:\/\/[^ ]+)\//)?.[1], "the collector to listen", 10000);
  collector = { url, dir, child, log: () => out };
  browser = await chromium.launch({ executablePath: "/usr/bin/chromium", args: CHROMIUM_ARGS });
  mkdirSync(SHOTS, { recursive: true });
});
after(async () => {
  await browser?.close();
  server.close();
  collector?.child.kill();
  if (collector) rmSync(collector.dir, { recursive: true, force: true });
});

/** The admin API, as a script calls it. */
async function api(path, body) {
  const response = await fetch(collector.url + path, {
    method: body === undefined ? "GET" : "POST",
    headers: { Authorization: `Bearer ${TOKEN}`, "Content-Type": "application/json" },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  return { status: response.status, json: await response.json() };
}

/** axe-core (WCAG 2.0/2.1 A and AA) on the whole page. */
async function assertAccessible(page, what) {
  await page.evaluate(AXE_SOURCE);
  const violations = await page.evaluate(async () => {
    const result = await window.axe.run(document,
      { runOnly: { type: "tag", values: ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"] } });
    return result.violations.map((v) => ({ id: v.id, help: v.help, nodes: v.nodes.map((n) => n.target.join(" ")) }));
  });
  assert.deepEqual(violations, [], `axe found problems on ${what}: ${JSON.stringify(violations, null, 2)}`);
}

/** Whether the page fits its width (no sideways scrolling). */
async function assertFits(page, what) {
  const { scroll, width } = await page.evaluate(() => ({
    scroll: document.documentElement.scrollWidth, width: window.innerWidth,
  }));
  assert.ok(scroll <= width, `${what} is ${scroll} px wide in a ${width} px window`);
}

/** An admin's browser, signed in as "ann", the clipboard allowed on the collector. */
async function adminPage(width, height) {
  const context = await signedInContext(browser, collector.url, TOKEN, { viewport: { width, height } }, "ann");
  await context.grantPermissions(["clipboard-read", "clipboard-write"], { origin: collector.url });
  const page = await context.newPage();
  const errors = [];
  page.on("console", (msg) => { if (msg.type() === "error") errors.push(msg.text()); });
  page.on("pageerror", (err) => errors.push(`pageerror: ${err.message}`));
  return { context, page, errors };
}

test("a marketer creates a form, embeds it on another site, gets a lead scored by its version, and rolls back", async () => {
  const { context, page, errors } = await adminPage(1280, 800);

  // The forms list, linked from the inbox.
  await page.goto(`${collector.url}/inbox`);
  await page.getByRole("link", { name: "Forms", exact: true }).click();
  await page.waitForURL(`${collector.url}/inbox/forms`);
  await page.getByRole("link", { name: "quote" }).waitFor();
  await assertAccessible(page, "the forms list");
  await page.screenshot({ path: join(SHOTS, "forms-list-1280.png"), fullPage: true });

  // A new form, a copy of quote.
  await page.getByLabel("Form id").fill("spring");
  await page.getByLabel("Start from").selectOption({ label: "A copy of quote" });
  await page.getByRole("button", { name: "Create form" }).click();
  await page.waitForURL(`${collector.url}/inbox/forms/spring?created=1`);
  await page.getByRole("status").filter({ hasText: "Created" }).waitFor();
  const v1 = (await api("/v1/forms/spring/versions/1")).json;
  assert.deepEqual(v1, { formId: "spring", preset: "bant", spam: { minFillSeconds: 0 } });

  // Version 2, published as the editor does, with a title the visitor sees.
  const published = await api("/v1/forms/spring/versions",
    { config: { ...v1, title: "Spring offer" }, note: "a title for spring", basedOn: 1 });
  assert.equal(published.status, 201, JSON.stringify(published.json));
  assert.equal(published.json.version, 2);
  await page.reload();
  const history = page.locator("table.history");
  await history.getByText('title added: "Spring offer"').waitFor();
  await history.getByText("a title for spring").waitFor();
  await history.getByText("created as a copy of quote").waitFor();
  await page.getByText("version 2", { exact: true }).waitFor();
  await assertAccessible(page, "the form's page");
  await page.screenshot({ path: join(SHOTS, "form-page-1280.png"), fullPage: true });
  assert.equal(await page.getByRole("link", { name: "Edit" }).getAttribute("href"), "/inbox/forms/spring/edit");

  // The embed code: exactly what the Copy button puts on the clipboard.
  const snippet = await page.locator("#embed-script").textContent();
  assert.match(snippet, new RegExp(`src="${collector.url}/dist/embed.js"`));
  assert.match(snippet, new RegExp(`data-config-url="${collector.url}/forms/spring.json"`));
  await page.getByRole("button", { name: "Copy" }).first().click();
  await page.locator("#embed-script-status").filter({ hasText: "Copied." }).waitFor();
  assert.equal(await page.evaluate(() => navigator.clipboard.readText()), snippet);
  const module = await page.locator("#embed-module").textContent();
  assert.match(module, new RegExp(`import \\{ mount \\} from "${collector.url}/dist/bantam.js"`));

  // The snippet on another origin, under a strict CSP that allows the collector.
  site.pages.set("/spring.html", `<!doctype html><html lang="en"><head><meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="default-src 'self'; img-src data:; script-src 'self' ${collector.url} 'wasm-unsafe-eval'; connect-src 'self' ${collector.url}; style-src 'self'">
<link rel="icon" href="data:,"><title>Another site</title></head><body><main><h1>Another site</h1>${snippet}</main></body></html>`);
  const visitor = await browser.newContext();
  const host = await visitor.newPage();
  const visitorErrors = [];
  host.on("console", (msg) => { if (msg.type() === "error") visitorErrors.push(msg.text()); });
  await host.goto(`${site.url}/spring.html`);
  await host.getByText("Spring offer").waitFor();
  const email = `spring+${Date.now()}@acme.io`;
  await host.getByLabel("Work email").fill(email);
  await host.getByLabel("Company").fill("Acme");
  await host.getByLabel("Over $250k").check();
  await host.locator("button.nx").click();
  await host.getByLabel("I make the decision").check();
  await host.getByLabel("This month").check();
  await host.getByLabel(/I agree/).check();
  await host.locator("button.nx").click();
  await host.locator(".ty").waitFor();
  assert.deepEqual(visitorErrors, []);
  await visitor.close();
  const stored = await until(async () => (await api("/v1/leads")).json.leads.find((l) => l.lead.contact.email === email),
    "the lead in the collector");
  assert.equal(stored.lead.formId, "spring");
  assert.equal(stored.formVersion, 2, "scored with the version the page embedded");
  await page.goto(`${collector.url}/inbox/leads/${stored.lead.id}`);
  await page.getByText("scored with version 2").waitFor();

  // Roll back to version 1 from the form's page: version 3, serving version 1's config.
  await page.goto(`${collector.url}/inbox/forms/spring`);
  await page.getByRole("button", { name: "Roll back to version 1" }).click();
  await page.waitForURL(`${collector.url}/inbox/forms/spring?published=3`);
  await page.getByRole("status").filter({ hasText: "Published version 3" }).waitFor();
  await page.locator("table.history").getByText("rollback to 1").waitFor();
  await assertAccessible(page, "the form's page after a roll back");
  const served = await (await fetch(`${collector.url}/forms/spring.json`)).json();
  assert.deepEqual(served, v1);
  assert.deepEqual(errors, []);
  await context.close();
});

test("the forms pages fit a phone and pass axe there", async () => {
  const { context, page, errors } = await adminPage(390, 844);
  await page.goto(`${collector.url}/inbox/forms`);
  await assertAccessible(page, "the forms list at 390 px");
  await assertFits(page, "the forms list");
  await page.screenshot({ path: join(SHOTS, "forms-list-390.png"), fullPage: true });
  // A refused id is shown with why, at the field.
  await page.getByLabel("Form id").fill("quote");
  await page.getByRole("button", { name: "Create form" }).click();
  await page.getByRole("alert").filter({ hasText: "exists already" }).waitFor();
  await assertAccessible(page, "the forms list with an error");
  await page.goto(`${collector.url}/inbox/forms/quote`);
  await assertAccessible(page, "a form's page at 390 px");
  await assertFits(page, "a form's page");
  await page.screenshot({ path: join(SHOTS, "form-page-390.png"), fullPage: true });
  assert.deepEqual(errors.filter((e) => !e.includes("409")), []);
  await context.close();
});
