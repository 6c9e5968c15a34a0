// The handoff to sales as one flow, in Chromium (issue 13). Visitors fill the real widget on a
// landing page: hot leads get the form's reps as owners in turn and reach a Slack-format
// receiver with a message naming the owner; a warm one gets neither. Then a rep signs in through
// the login page, finds their people under "My people", accepts and then wins the person from
// the person page, and the people list's lead-source quality (first touch) moves its acceptance
// and win rates. The audit log names the rep. The login page and the rep's list pass axe-core.
//
// Starts its own collector (BANTAM_BIN, default target/debug/bantam-collector) with a routes
// file naming the Slack receiver this test runs on loopback, and the reps sam@ and ria@.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { createServer } from "node:http";
import { mkdtempSync, mkdirSync, writeFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { chromium, ROOT, SHOTS, CHROMIUM_ARGS, PASSWORD, until, startCollector, pageViolations, sessionCookie, addUser, salesForm } from "./support.mjs";

const TOKEN = "handoff-test-token";
const DESKTOP = { width: 1280, height: 900 };
const PHONE = { width: 390, height: 844 };
const AUTH = { Authorization: `Bearer ${TOKEN}` };

// One step: the email, the budget and the role. A big budget and a decision maker are hot.
const FORM = salesForm("handoff", 3);

/** The marketing page, on the collector's origin, embedding the form from the collector. */
const LANDING = `<!doctype html><html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1"><title>Landing</title></head>
<body><main><h1>Bantam for teams</h1><div id="lead-form"></div>
<script src="/dist/embed.js" data-target="#lead-form" data-config-url="/forms/handoff.json" async></script></main></body></html>`;

let dir;
let child;
let url;
let browser;
let receiver;
const slack = []; // the Slack-format receiver's message texts

before(async () => {
  dir = mkdtempSync(join(tmpdir(), "bantam-handoff-"));
  mkdirSync(join(dir, "forms"));
  writeFileSync(join(dir, "forms", "handoff.json"), JSON.stringify(FORM));
  receiver = createServer((req, res) => {
    let body = "";
    req.on("data", (d) => { body += d; });
    req.on("end", () => { slack.push(JSON.parse(body).text); res.writeHead(200).end("ok"); });
  });
  await new Promise((resolve) => receiver.listen(0, "127.0.0.1", resolve));
  writeFileSync(join(dir, "routes.json"), JSON.stringify({
    forms: {
      handoff: {
        destinations: [{ name: "sales-slack", format: "slack", url: `http://127.0.0.1:${receiver.address().port}/hook`,
          when: { grades: ["hot"], spam: "leaveOut" } }],
        owners: ["sam@example.com", "ria@example.com"],
      },
    },
  }));
  ({ child, url } = await startCollector(["--db", join(dir, "leads.db"), "--www", join(ROOT, "www"),
    "--forms", join(dir, "forms"), "--admin-token", TOKEN, "--rate-limit", "0",
    "--routes", join(dir, "routes.json")]));
  // The first admin (set up with the token) adds the two reps the routes file names, with
  // their addresses as their user names, so "My people" finds what the rotation gave them.
  const admin = await sessionCookie(url, TOKEN, "admin");
  await addUser(url, admin, "sam@example.com", "sales");
  await addUser(url, admin, "ria@example.com", "sales");
  browser = await chromium.launch({ executablePath: "/usr/bin/chromium", args: CHROMIUM_ARGS });
  mkdirSync(SHOTS, { recursive: true });
});

after(async () => {
  await browser?.close();
  child?.kill();
  receiver?.close();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

/** A visitor from `query` (its UTM) fills the landing page's form; returns the lead sent. */
async function visit(query, email, budget, role) {
  const context = await browser.newContext({ viewport: DESKTOP });
  await context.route((u) => u.pathname === "/landing.html", (route) =>
    route.fulfill({ contentType: "text/html", body: LANDING }));
  const page = await context.newPage();
  const problems = [];
  page.on("pageerror", (err) => problems.push(err.message));
  await page.goto(`${url}/landing.html?${query}`);
  const submitted = page.evaluate(() => new Promise((resolve) =>
    document.addEventListener("bantam:submit", (e) => resolve(e.detail.lead), { once: true })));
  await page.getByLabel("Work email").fill(email);
  await page.getByLabel(budget).check();
  await page.getByLabel(role).check();
  await page.locator("button.nx").click();
  await page.getByRole("heading", { name: "Thank you!" }).waitFor();
  const lead = await submitted;
  await page.waitForFunction(() => localStorage.getItem("bantam.outbox.v1") === null, null, { timeout: 20000 });
  assert.deepEqual(problems, []);
  await context.close();
  return lead;
}

/** The person of `key` from the API (polled until the collector has them). */
async function person(key) {
  return until(async () => {
    const { people } = await (await fetch(`${url}/v1/people?limit=50`, { headers: AUTH })).json();
    return people.find((p) => p.key === key);
  }, `the person ${key}`);
}


/** The first-touch quality row of `source` on the people list `page` shows: cells by column. */
async function firstTouchRow(page, source) {
  const rows = await page.locator("table[aria-labelledby=sq-first] tbody tr").evaluateAll((trs) =>
    trs.map((tr) => Object.fromEntries([...tr.cells].map((td) => [td.dataset.label, td.textContent]))));
  return rows.find((r) => r.Source === source);
}

test("hot leads get the reps in turn and reach Slack naming their owner; a warm one neither", async () => {
  const ann = await visit("utm_source=linkedin&utm_medium=paid-social", "ann@acme.io", "Over $50k", "I decide");
  assert.equal(ann.score.grade, "hot");
  await until(() => slack.length === 1, "Slack to get the first hot lead");
  assert.match(slack[0], /^\*Hot lead\* \(score \d+\): ann@acme\.io .*\nOwner: sam@example\.com\nSource: linkedin \/ paid-social \/ -\n/s);

  const bob = await visit("utm_source=google&utm_medium=cpc", "bob@beta.io", "Over $50k", "I decide");
  assert.equal(bob.score.grade, "hot");
  await until(() => slack.length === 2, "Slack to get the second hot lead");
  assert.match(slack[1], /\nOwner: ria@example\.com\n/, "the second hot lead goes to the next rep");

  const carl = await visit("utm_source=linkedin&utm_medium=paid-social", "carl@gamma.io", "$10k to $50k", "I use it");
  assert.notEqual(carl.score.grade, "hot");
  assert.equal((await person("carl@gamma.io")).owner ?? null, null, "a warm lead gets no owner");
  assert.equal((await person("ann@acme.io")).owner, "sam@example.com");
  assert.equal((await person("bob@beta.io")).owner, "ria@example.com");
  // The warm lead's deliveries are settled (it has none), so Slack would have it by now.
  const { deliveries } = await (await fetch(`${url}/v1/leads/${carl.id}`, { headers: AUTH })).json();
  assert.deepEqual(deliveries, []);
  assert.equal(slack.length, 2, "Slack got only the hot leads");
});

test("a rep signs in, finds their person, accepts and wins them, and the source's rates move", async () => {
  await person("ann@acme.io");
  const context = await browser.newContext({ viewport: PHONE });
  const page = await context.newPage();
  const problems = [];
  page.on("console", (msg) => {
    if (msg.type() === "error" || msg.type() === "warning") problems.push(`${msg.type()}: ${msg.text()}`);
  });
  page.on("pageerror", (err) => problems.push(`pageerror: ${err.message}`));

  // The inbox asks for a sign-in first, then goes on to it.
  await page.goto(`${url}/inbox`);
  await page.waitForURL(/\/inbox\/login\?next=%2Finbox$/);
  assert.deepEqual(await pageViolations(page), [], "axe on the login page");
  await page.getByLabel("Name").fill("sam@example.com");
  await page.getByLabel("Password").fill(PASSWORD);
  await page.getByRole("button", { name: "Sign in" }).click();
  await page.waitForURL(`${url}/inbox`);

  // Lead-source quality before any feedback: two people came from LinkedIn, one is hot now.
  const before = await firstTouchRow(page, "linkedin");
  assert.deepEqual([before.People, before["Hot now"], before.Accepted, before.Won], ["2", "50%", "–", "–"]);

  // "My people": only the person the rotation gave sam.
  await page.getByRole("link", { name: "My people" }).click();
  await page.waitForURL(`${url}/inbox?owner=sam%40example.com`);
  const mine = await page.locator("section[aria-labelledby=pl] tbody tr").evaluateAll((trs) =>
    trs.map((tr) => tr.cells[0].querySelector("a").textContent));
  assert.deepEqual(mine, ["ann@acme.io"]);
  // Named as the rep's own list, the filters folded (naming the owner), so the list comes first.
  assert.equal(await page.getByRole("heading", { level: 1 }).textContent(), "My people");
  assert.equal(await page.locator("details.filterbox").getAttribute("open"), null);
  assert.equal(await page.locator("details.filterbox > summary").textContent(), "Filters (owner: sam@example.com)");
  // The source table still counts everyone: the owner filter picks the list, not the figures.
  assert.equal((await firstTouchRow(page, "linkedin")).People, "2");
  const width = await page.evaluate(() => document.documentElement.scrollWidth);
  assert.ok(width <= PHONE.width, `the rep's list is ${width} px wide on a ${PHONE.width} px phone`);
  assert.deepEqual(await pageViolations(page), [], "axe on the rep's list");
  await page.screenshot({ path: join(SHOTS, "handoff-my-people-phone.png"), fullPage: true });

  // The person page: accepted, then won with a value.
  await page.getByRole("link", { name: "ann@acme.io" }).click();
  await page.waitForURL(/\/inbox\/people\/ann%40acme\.io$/);
  await page.selectOption("select[name=status]", "accepted");
  await page.getByRole("button", { name: "Record feedback" }).click();
  await page.waitForURL(/#feedback$/);
  await page.selectOption("select[name=status]", "won");
  await page.fill("input[name=value]", "25000");
  await page.getByRole("button", { name: "Record feedback" }).click();
  await until(async () => (await page.locator("section[aria-labelledby=feedback] tbody tr").count()) === 2, "the second feedback");
  const by = await page.locator("section[aria-labelledby=feedback] tbody tr td[data-label=By]").allTextContents();
  assert.deepEqual(by, ["sam@example.com", "sam@example.com"]);
  await page.screenshot({ path: join(SHOTS, "handoff-person-phone.png"), fullPage: true });

  // Back on the people list: LinkedIn's acceptance and win rates moved; Google's did not.
  await page.goto(`${url}/inbox`);
  const after = await firstTouchRow(page, "linkedin");
  assert.deepEqual([after.People, after["Hot now"], after.Accepted, after.Won], ["2", "50%", "100%", "100%"]);
  const google = await firstTouchRow(page, "google");
  assert.deepEqual([google.Accepted, google.Won], ["–", "–"]);
  assert.deepEqual(problems, []);
  await context.close();

  // The audit log names the rep for both changes.
  const { entries } = await (await fetch(`${url}/v1/audit`, { headers: AUTH })).json();
  const done = entries.map((e) => `${e.who} | ${e.action} | ${e.detail}`);
  for (const entry of ["sam@example.com | feedback | accepted", "sam@example.com | feedback | won, value 25000"]) {
    assert.ok(done.includes(entry), `${entry} in ${done.join("; ")}`);
  }
});
