// People, not submissions, in Chromium (issue 13): a visitor comes twice through the real
// widget (warm, then hot) and is one person with two submissions and a grade history; sales
// accepts, then wins them from the person page, and the people list's lead-source quality
// (first touch) moves its win rate. The people list and the person page fit a 390 px phone
// and a 1280 px desktop and pass axe-core. Screenshots go to target/screenshots/people-*.png.
//
// Starts its own collector (BANTAM_BIN, default target/debug/bantam-collector) serving www/
// (the built widget) and one form.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, mkdirSync, writeFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { chromium, ROOT, SHOTS, CHROMIUM_ARGS, until, startCollector, pageViolations, sessionCookie, signedInContext, addUser, salesForm } from "./support.mjs";

const TOKEN = "people-test-token";
const PHONE = { width: 390, height: 844 };
const DESKTOP = { width: 1280, height: 900 };
const AUTH = { Authorization: `Bearer ${TOKEN}` };

// A small form: a first visit asks the email and the budget (a middling one: warm), the next
// one the role (hot with a decision maker).
const FORM = salesForm("people", 2);

let dir;
let child;
let url;
let browser;

before(async () => {
  dir = mkdtempSync(join(tmpdir(), "bantam-people-"));
  mkdirSync(join(dir, "forms"));
  writeFileSync(join(dir, "forms", "people.json"), JSON.stringify(FORM));
  ({ child, url } = await startCollector(["--db", join(dir, "leads.db"), "--www", join(ROOT, "www"),
    "--forms", join(dir, "forms"), "--admin-token", TOKEN, "--rate-limit", "0"]));
  // The first admin (set up with the token) adds the sales rep the pages are opened as.
  await addUser(url, await sessionCookie(url, TOKEN, "admin"), "sam", "sales");
  browser = await chromium.launch({ executablePath: "/usr/bin/chromium", args: CHROMIUM_ARGS });
  mkdirSync(SHOTS, { recursive: true });
});

after(async () => {
  await browser?.close();
  child?.kill();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

/** The marketing page, on the collector's origin, embedding the form from the collector. */
const LANDING = `<!doctype html><html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1"><title>Landing</title></head>
<body><main><h1>Bantam for teams</h1><div id="lead-form"></div>
<script src="/dist/embed.js" data-target="#lead-form" data-config-url="/forms/people.json" async></script></main></body></html>`;

/** One visit to the landing page from `query` (its UTM); answers `answers` (label -> value or
 * option label) and submits; returns the lead the widget sent. */
async function visit(context, query, answers) {
  const page = await context.newPage();
  const problems = [];
  page.on("pageerror", (err) => problems.push(err.message));
  await page.goto(`${url}/landing.html?${query}`);
  const submitted = page.evaluate(() => new Promise((resolve) =>
    document.addEventListener("bantam:submit", (e) => resolve(e.detail.lead), { once: true })));
  for (const [label, value] of answers) {
    const field = page.getByLabel(label);
    await field.waitFor();
    if (value === true) await field.check();
    else await field.fill(value);
  }
  await page.locator("button.nx").click();
  await page.getByRole("heading", { name: "Thank you!" }).waitFor();
  const lead = await submitted;
  // Delivered: the outbox is empty.
  await page.waitForFunction(() => localStorage.getItem("bantam.outbox.v1") === null, null, { timeout: 20000 });
  assert.deepEqual(problems, []);
  await page.close();
  return lead;
}

/** Opens an inbox page as a signed-in sales rep. */
async function open(path, viewport) {
  const context = await signedInContext(browser, url, TOKEN, { viewport }, "sam");
  const page = await context.newPage();
  const problems = [];
  page.on("console", (msg) => {
    if (msg.type() === "error" || msg.type() === "warning") problems.push(`${msg.type()}: ${msg.text()}`);
  });
  page.on("pageerror", (err) => problems.push(`pageerror: ${err.message}`));
  const response = await page.goto(url + path);
  assert.equal(response.status(), 200, path);
  return { page, context, problems };
}


/** The first-touch quality row of `source` on the people list: its cells by column name. */
async function firstTouchRow(source) {
  const { page, context } = await open("/inbox", DESKTOP);
  const rows = await page.locator("table[aria-labelledby=sq-first] tbody tr").evaluateAll((trs) =>
    trs.map((tr) => Object.fromEntries([...tr.cells].map((td) => [td.dataset.label, td.textContent]))));
  await context.close();
  return rows.find((r) => r.Source === source);
}

const PERSON = "/inbox/people/ann%40acme.io";

test("a visitor who comes twice (warm, then hot) is one person with two submissions", async () => {
  const visitor = await browser.newContext({ viewport: DESKTOP });
  await visitor.route((u) => u.pathname === "/landing.html", (route) =>
    route.fulfill({ contentType: "text/html", body: LANDING }));
  const first = await visit(visitor, "utm_source=linkedin&utm_medium=paid-social&utm_campaign=q4",
    [["Work email", "Ann@Acme.io"], ["$10k to $50k", true]]);
  assert.equal(first.score.grade, "warm");
  const second = await visit(visitor, "utm_source=newsletter&utm_medium=email", [["I decide", true]]);
  assert.equal(second.score.grade, "hot");
  await visitor.close();
  // The widget kept one visitor id: its first submission's id.
  assert.equal(first.visitorId, first.id);
  assert.equal(second.visitorId, first.id);

  const { people, total } = await (await fetch(`${url}/v1/people`, { headers: AUTH })).json();
  assert.equal(total, 1, JSON.stringify(people));
  assert.equal(people[0].key, "ann@acme.io");
  assert.equal(people[0].submissions, 2);
  assert.equal(people[0].grade, "hot");
  assert.equal(people[0].firstTouch.source, "linkedin");
  assert.equal(people[0].lastTouch.source, "newsletter");
  const { leads } = await (await fetch(`${url}/v1/leads`, { headers: AUTH })).json();
  assert.equal(leads.length, 2, "both submissions stay as they are");

  // The person page: the grade history, each answer with its visit, both submissions.
  const { page, context, problems } = await open(PERSON, DESKTOP);
  assert.equal(await page.locator("h1").textContent(), "ann@acme.io");
  assert.match(await page.locator("section[aria-labelledby=visits] p").textContent(), /^warm on .+, then hot on /);
  assert.equal(await page.locator("section[aria-labelledby=visits] tbody tr").count(), 2);
  const answers = await page.locator("section[aria-labelledby=answers] tbody tr").evaluateAll((trs) =>
    trs.map((tr) => [...tr.cells].map((td) => td.textContent.trim())));
  assert.deepEqual(answers.map((a) => [a[0], a[1], a[2].split(",")[0]]), [
    ["Work email", "Ann@Acme.io", "visit 1"],
    ["Budget", "$10k to $50k", "visit 1"],
    ["Your role", "I decide", "visit 2"],
  ]);
  assert.deepEqual(problems, []);
  await context.close();
});

test("accepted, then won on the person page: the source table's win rate moves", async () => {
  const before = await firstTouchRow("linkedin");
  assert.equal(before.People, "1");
  assert.equal(before["Hot now"], "100%");
  assert.equal(before.Won, "–", "nobody accepted yet");

  const { page, context, problems } = await open(PERSON, DESKTOP);
  // Rejected without a reason: not recorded, and the page says why next to the form.
  await page.selectOption("select[name=status]", "rejected");
  await page.getByRole("button", { name: "Record feedback" }).click();
  await page.waitForURL(/problem=/);
  assert.match(await page.getByRole("alert").textContent(), /reason is required to reject/);
  assert.equal(await page.locator("section[aria-labelledby=feedback] tbody tr").count(), 0);
  assert.deepEqual(await pageViolations(page), [], "axe with the message shown");
  await page.selectOption("select[name=status]", "accepted");
  await page.getByRole("button", { name: "Record feedback" }).click();
  await page.waitForURL(/#feedback$/);
  assert.equal((await firstTouchRow("linkedin")).Accepted, "100%");
  assert.equal((await firstTouchRow("linkedin")).Won, "0%");

  await page.selectOption("select[name=status]", "won");
  await page.fill("input[name=value]", "12000");
  await page.getByRole("button", { name: "Record feedback" }).click();
  await until(async () => (await page.locator("section[aria-labelledby=feedback] tbody tr").count()) === 2, "the second feedback");
  const history = await page.locator("section[aria-labelledby=feedback] tbody tr").evaluateAll((trs) =>
    trs.map((tr) => [...tr.cells].slice(1).map((td) => td.textContent)));
  assert.deepEqual(history.map((h) => [h[0], h[2], h[3]]), [["won", "12,000", "sam"], ["accepted", "", "sam"]]);
  assert.equal((await firstTouchRow("linkedin")).Won, "100%");
  // The deal's value, thousands separated, also in the person's status at the top.
  assert.match(await page.locator("section[aria-labelledby=now]").textContent(), /Sales statuswon 12,000 · /);

  // The owner, from the person page; the people list filters by it.
  await page.fill("input[name=owner]", "Sam");
  await page.getByRole("button", { name: "Save owner" }).click();
  await page.waitForURL(/#owner$/);
  const owned = await (await fetch(`${url}/v1/people?owner=Sam`, { headers: AUTH })).json();
  assert.equal(owned.total, 1);
  const unassigned = await (await fetch(`${url}/v1/people?owner=unassigned`, { headers: AUTH })).json();
  assert.equal(unassigned.total, 0);
  // The audit log names the rep for the feedback and the owner change (the person by a digest).
  const { entries } = await (await fetch(`${url}/v1/audit`, { headers: AUTH })).json();
  const done = entries.map((e) => `${e.who} | ${e.action} | ${e.detail}`);
  for (const entry of ["sam | feedback | accepted", "sam | feedback | won, value 12000", "sam | owner | Sam"]) {
    assert.ok(done.includes(entry), `${entry} in ${done.join("; ")}`);
  }
  assert.ok(entries.every((e) => !e.subject.includes("acme")), "no email in the audit log");
  assert.deepEqual(problems, []);
  await context.close();
});

for (const [name, viewport] of [["phone", PHONE], ["desktop", DESKTOP]]) {
  test(`the people list and the person page fit a ${viewport.width} px screen and pass axe-core`, async () => {
    for (const [what, path] of [["list", "/inbox"], ["person", PERSON]]) {
      const { page, context, problems } = await open(path, viewport);
      const width = await page.evaluate(() => document.documentElement.scrollWidth);
      assert.ok(width <= viewport.width, `${what} is ${width} px wide on a ${viewport.width} px screen`);
      assert.deepEqual(await pageViolations(page), [], `axe on ${what} at ${viewport.width} px`);
      await page.screenshot({ path: join(SHOTS, `people-${what}-${name}.png`), fullPage: true });
      assert.deepEqual(problems, []);
      await context.close();
    }
  });
}
