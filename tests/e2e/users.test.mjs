// Named users in Chromium (issue 13): the admin signs in with the admin token the first time,
// which creates her as the first admin, and adds a sales rep; the rep signs in, opens a lead,
// marks it won and signs out; the audit log shows the change under the rep's name. The login,
// users and audit pages (and a rep's 403) pass axe-core and fit a 390 px phone and a 1280 px
// desktop; the session cookie is HttpOnly, SameSite=Lax and Secure (Chromium keeps Secure
// cookies on http://127.0.0.1). Screenshots go to target/screenshots/users-*.png.
//
// Starts its own collector (BANTAM_BIN, default target/debug/bantam-collector) on a database
// filled by `bantam-collector import` with one lead.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { spawn, execFileSync } from "node:child_process";
import { mkdtempSync, mkdirSync, writeFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { chromium, AXE_SOURCE, ROOT, BIN, SHOTS, CHROMIUM_ARGS, until } from "./support.mjs";

const TOKEN = "users-e2e-admin-token";
const ADMIN = { name: "Ada Lovelace", password: "analytical engine 1843" };
const REP = { name: "Sam", password: "sales rep password 1" };
const WIDTHS = [{ width: 390, height: 844 }, { width: 1280, height: 900 }];

let dir;
let child;
let url;
let browser;
let leadId;

before(async () => {
  dir = mkdtempSync(join(tmpdir(), "bantam-users-"));
  mkdirSync(join(dir, "forms"));
  writeFileSync(join(dir, "forms", "demo.json"), JSON.stringify({ formId: "demo", preset: "bant", spam: { minFillSeconds: 0 } }));
  writeFileSync(join(dir, "history.csv"), [
    "id,email,company,budget,role,timeframe,utm_source,utm_medium,utm_campaign,status,date",
    `zoe,zoe@example-industries.de,Example Industries,over-250k,decision-maker,this-month,google,cpc,launch,,${new Date().toISOString().slice(0, 10)} 09:15`,
  ].join("\n") + "\n");
  const db = join(dir, "leads.db");
  execFileSync(BIN, ["import", "--form", "demo", "--db", db, "--forms", join(dir, "forms"), join(dir, "history.csv")]);
  child = spawn(BIN, ["--listen", "127.0.0.1:0", "--db", db, "--www", join(ROOT, "www"),
    "--forms", join(dir, "forms"), "--admin-token", TOKEN, "--rate-limit", "0"], { stdio: ["ignore", "pipe", "pipe"] });
  let out = "";
  child.stdout.on("data", (d) => { out += d; });
  child.stderr.on("data", (d) => { out += d; });
  url = await until(() => out.match(/listening on (http:\/\/[^ ]+)\//)?.[1], "the collector to listen");
  const { leads } = await (await fetch(`${url}/v1/leads`, { headers: { Authorization: `Bearer ${TOKEN}` } })).json();
  leadId = leads[0].lead.id;
  browser = await chromium.launch({ executablePath: "/usr/bin/chromium", args: CHROMIUM_ARGS });
  mkdirSync(SHOTS, { recursive: true });
});

after(async () => {
  await browser?.close();
  child?.kill();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

/** A fresh browser (no cookie); console errors and CSP violations are kept. */
async function fresh() {
  const context = await browser.newContext({ viewport: WIDTHS[1] });
  const page = await context.newPage();
  const problems = [];
  page.on("console", (msg) => { if (msg.type() === "error") problems.push(msg.text()); });
  page.on("pageerror", (err) => problems.push(`pageerror: ${err.message}`));
  return { context, page, problems };
}

/** axe-core (WCAG 2.0-2.2 A and AA) and the page's width at a phone's and a desktop's size; a
 * screenshot of each. */
async function checkPage(page, name) {
  for (const size of WIDTHS) {
    await page.setViewportSize(size);
    const width = await page.evaluate(() => document.documentElement.scrollWidth);
    assert.ok(width <= size.width, `${name} is ${width} px wide on a ${size.width} px screen`);
    await page.evaluate(AXE_SOURCE);
    const violations = await page.evaluate(async () => {
      const result = await window.axe.run(document, {
        runOnly: { type: "tag", values: ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa"] },
      });
      return result.violations.map((v) => ({ id: v.id, help: v.help, nodes: v.nodes.map((n) => n.target.join(" ")) }));
    });
    assert.deepEqual(violations, [], `axe on ${name} at ${size.width} px: ${JSON.stringify(violations, null, 2)}`);
    await page.screenshot({ path: join(SHOTS, `users-${name}-${size.width}.png`), fullPage: true });
  }
  await page.setViewportSize(WIDTHS[1]);
}

test("the admin sets up, a rep marks a lead won, and the audit log names the rep", async () => {
  // The admin's first visit: the inbox sends her to the set-up, which takes the admin token.
  const admin = await fresh();
  await admin.page.goto(`${url}/inbox/users`);
  assert.equal(new URL(admin.page.url()).pathname, "/inbox/login");
  assert.equal(await admin.page.locator("h1").textContent(), "Set up Bantam");
  await checkPage(admin.page, "setup");
  // A wrong token is refused, with the field marked.
  await admin.page.getByLabel("Admin token").fill("not the token");
  await admin.page.getByLabel("Your name").fill(ADMIN.name);
  await admin.page.getByLabel(/^Password \(at least/).fill(ADMIN.password);
  await admin.page.getByLabel("Password again").fill(ADMIN.password);
  await admin.page.getByRole("button", { name: "Create the first admin and sign in" }).click();
  assert.equal(await admin.page.getByRole("alert").textContent(), "The admin token is wrong.");
  assert.equal(await admin.page.getByLabel("Admin token").getAttribute("aria-invalid"), "true");
  await checkPage(admin.page, "setup-error");
  await admin.page.getByLabel("Admin token").fill(TOKEN);
  await admin.page.getByLabel(/^Password \(at least/).fill(ADMIN.password);
  await admin.page.getByLabel("Password again").fill(ADMIN.password);
  await admin.page.getByRole("button", { name: "Create the first admin and sign in" }).click();
  // Back where she was going, signed in.
  await admin.page.waitForURL(`${url}/inbox/users`);
  assert.match(await admin.page.getByRole("navigation", { name: "Account" }).textContent(), /Signed in as Ada Lovelace \(admin\)/);
  const [cookie] = await admin.context.cookies();
  assert.equal(cookie.name, "bantam_session");
  assert.deepEqual([cookie.httpOnly, cookie.sameSite, cookie.secure, cookie.path], [true, "Lax", true, "/"]);

  // She adds the rep (a name that is taken, in any case, is refused first, at its field).
  await admin.page.getByLabel("Name", { exact: true }).fill("ada lovelace");
  await admin.page.getByLabel("Role").selectOption("sales");
  await admin.page.getByLabel(/^Initial password/).fill(REP.password);
  await admin.page.getByRole("button", { name: "Add user" }).click();
  assert.match(await admin.page.getByRole("alert").textContent(), /There is a user called ada lovelace already/);
  assert.equal(await admin.page.getByLabel("Name", { exact: true }).getAttribute("aria-invalid"), "true");
  await checkPage(admin.page, "users-error");
  await admin.page.getByLabel("Name", { exact: true }).fill(REP.name);
  await admin.page.getByLabel("Role").selectOption("sales");
  await admin.page.getByLabel(/^Initial password/).fill(REP.password);
  await admin.page.getByRole("button", { name: "Add user" }).click();
  await admin.page.waitForURL(`${url}/inbox/users`);
  const rows = await admin.page.locator("tbody tr td:first-child").allTextContents();
  assert.deepEqual(rows, ["Ada Lovelace", "Sam"]);
  await checkPage(admin.page, "users");

  // The rep signs in, opens the lead and marks it won.
  const rep = await fresh();
  await rep.page.goto(`${url}/inbox`);
  assert.equal(await rep.page.locator("h1").textContent(), "Sign in to Bantam");
  await checkPage(rep.page, "login");
  await rep.page.getByLabel("Name").fill(REP.name);
  await rep.page.getByLabel("Password").fill("not the password");
  await rep.page.getByRole("button", { name: "Sign in" }).click();
  assert.equal(await rep.page.getByRole("alert").textContent(), "The name or the password is wrong.");
  await rep.page.getByLabel("Password").fill(REP.password);
  await rep.page.getByRole("button", { name: "Sign in" }).click();
  await rep.page.waitForURL(`${url}/inbox`);
  assert.match(await rep.page.getByRole("navigation", { name: "Account" }).textContent(), /Signed in as Sam \(sales\)/);
  assert.equal(await rep.page.getByRole("link", { name: "Export CSV" }).count(), 0, "no admin links for sales");
  // The inbox lists people; the lead is among the submissions.
  await rep.page.getByRole("link", { name: "Submissions" }).click();
  await rep.page.waitForURL(`${url}/inbox/leads`);
  await rep.page.getByRole("link", { name: "zoe@example-industries.de" }).click();
  await rep.page.getByRole("button", { name: "Mark won" }).click();
  await rep.page.waitForURL(`${url}/inbox/leads/${leadId}`);
  assert.match(await rep.page.locator("main").textContent(), /Now: won/);
  // An admin page is a readable refusal.
  const refused = await rep.page.goto(`${url}/inbox/audit`);
  assert.equal(refused.status(), 403);
  assert.match(await rep.page.getByRole("alert").textContent(), /This is for admins: you are signed in as Sam \(sales\)/);
  await checkPage(rep.page, "forbidden");
  // Signing out ends the session: the inbox asks for a sign-in again.
  await rep.page.goto(`${url}/inbox`);
  await rep.page.getByRole("button", { name: "Sign out" }).click();
  await rep.page.waitForURL(`${url}/inbox/login`);
  await rep.page.goto(`${url}/inbox`);
  assert.equal(new URL(rep.page.url()).pathname, "/inbox/login");
  assert.deepEqual(rep.problems.filter((p) => !/status of (401|403)/.test(p)), []);

  // The audit log shows the rep's change by name.
  await admin.page.getByRole("link", { name: "Audit log" }).first().click();
  await admin.page.waitForURL(`${url}/inbox/audit`);
  const entries = await admin.page.locator("tbody tr").evaluateAll((trs) =>
    trs.map((tr) => [...tr.cells].slice(1).map((td) => td.textContent).join(" | ")));
  assert.ok(entries.includes(`Sam | status | ${leadId} | won`), entries.join("\n"));
  assert.ok(entries.includes("Ada Lovelace | user.create | Sam | sales"), entries.join("\n"));
  assert.ok(entries.some((e) => e.startsWith("Sam | login.failed | Sam |")), entries.join("\n"));
  assert.ok(entries.some((e) => e.startsWith("Sam | logout")), entries.join("\n"));
  await checkPage(admin.page, "audit");
  assert.deepEqual(admin.problems.filter((p) => !/status of (401|409)/.test(p)), []);
  await admin.context.close();
  await rep.context.close();
});
