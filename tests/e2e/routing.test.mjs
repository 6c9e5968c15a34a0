// Routing and alerts end to end (issue 13): a visitor on the landing page submits a hot lead,
// and a local Slack-format receiver gets the readable message and a local SMTP sink the e-mail;
// a cold lead reaches neither (only the "everything" JSON destination). The lead page shows
// each destination's state and passes axe-core at 390 and 1280 px. The Slack message body is
// saved to target/screenshots/routing-slack-message.json, the pages as screenshots.
//
// Starts its own collector (BANTAM_BIN, default target/debug/bantam-collector) with a routes
// file naming the receivers, which this test runs on loopback.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { createServer } from "node:http";
import { createServer as createTcpServer } from "node:net";
import { mkdtempSync, mkdirSync, writeFileSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { chromium, AXE_SOURCE, ROOT, BIN, SHOTS, CHROMIUM_ARGS, until, sessionCookie, signedInContext, addUser } from "./support.mjs";

const TOKEN = "routing-test-token";
const PHONE = { width: 390, height: 844 };
const DESKTOP = { width: 1280, height: 900 };

let dir;
let child;
let url;
let browser;
const slack = []; // bodies the Slack-format receiver got
const crm = []; // lead ids the JSON receiver got
const mails = []; // messages the SMTP sink accepted: { from, to, data }
const servers = [];

/** An HTTP receiver on loopback that keeps each body; resolves to its URL. */
function receiver(onBody) {
  const server = createServer((req, res) => {
    let body = "";
    req.on("data", (d) => { body += d; });
    req.on("end", () => { onBody(body, req.headers); res.writeHead(200).end("ok"); });
  });
  servers.push(server);
  return new Promise((resolve) => server.listen(0, "127.0.0.1", () => resolve(`http://127.0.0.1:${server.address().port}/hook`)));
}

/** A minimal SMTP sink on loopback (greeting, EHLO, MAIL, RCPT, DATA, QUIT); resolves to its URL. */
function smtpSink() {
  const server = createTcpServer((socket) => {
    let buffer = "";
    let mail = { from: "", to: [], data: "" };
    let inData = false;
    socket.write("220 sink ESMTP\r\n");
    socket.on("data", (chunk) => {
      buffer += chunk;
      let at;
      while ((at = buffer.indexOf("\r\n")) >= 0) {
        const line = buffer.slice(0, at);
        buffer = buffer.slice(at + 2);
        if (inData) {
          if (line === ".") {
            inData = false;
            mails.push(mail);
            mail = { from: "", to: [], data: "" };
            socket.write("250 OK queued\r\n");
          } else {
            mail.data += (line.startsWith(".") ? line.slice(1) : line) + "\n";
          }
          continue;
        }
        const verb = line.slice(0, 4).toUpperCase();
        const address = () => line.match(/<([^>]*)>/)?.[1] ?? "";
        if (verb === "EHLO") socket.write("250-sink\r\n250 8BITMIME\r\n");
        else if (verb === "HELO") socket.write("250 sink\r\n");
        else if (verb === "MAIL") { mail.from = address(); socket.write("250 OK\r\n"); }
        else if (verb === "RCPT") { mail.to.push(address()); socket.write("250 OK\r\n"); }
        else if (verb === "DATA") { inData = true; socket.write("354 go ahead\r\n"); }
        else if (verb === "QUIT") { socket.end("221 bye\r\n"); }
        else socket.write(verb === "RSET" || verb === "NOOP" ? "250 OK\r\n" : "502 no\r\n");
      }
    });
    socket.on("error", () => {});
  });
  servers.push(server);
  return new Promise((resolve) => server.listen(0, "127.0.0.1", () => resolve(`smtp://127.0.0.1:${server.address().port}`)));
}

before(async () => {
  dir = mkdtempSync(join(tmpdir(), "bantam-routing-"));
  mkdirSync(join(dir, "forms"));
  // The landing page's form, without the minimum fill time (a test fills faster than a person).
  const form = JSON.parse(readFileSync(join(ROOT, "www/forms/ledgerline-demo.json"), "utf8"));
  form.spam = { minFillSeconds: 0 };
  writeFileSync(join(dir, "forms", "ledgerline-demo.json"), JSON.stringify(form));
  const slackUrl = await receiver((body) => slack.push(body));
  const crmUrl = await receiver((body) => crm.push(JSON.parse(body).id));
  const smtp = await smtpSink();
  // The README's example: hot and not spam → Slack and an e-mail now; everything → the CRM.
  writeFileSync(join(dir, "routes.json"), JSON.stringify({
    destinations: [{ name: "crm", format: "json", url: crmUrl }],
    forms: {
      "ledgerline-demo": {
        destinations: [
          { name: "sales-slack", format: "slack", url: slackUrl, when: { grades: ["hot"], spam: "leaveOut" } },
          { name: "hot-mail", format: "email", smtp, from: "Bantam <bantam@example.com>", to: ["sales@example.com"], when: { grades: ["hot"], spam: "leaveOut" } },
        ],
        owners: ["ana@example.com", "ben@example.com"],
      },
    },
  }));
  child = spawn(BIN, ["--listen", "127.0.0.1:0", "--db", join(dir, "leads.db"), "--www", join(ROOT, "www"),
    "--forms", join(dir, "forms"), "--admin-token", TOKEN, "--rate-limit", "0",
    "--routes", join(dir, "routes.json"), "--public-url", "https://leads.example.com"], { stdio: ["ignore", "pipe", "pipe"] });
  let out = "";
  child.stdout.on("data", (d) => { out += d; });
  child.stderr.on("data", (d) => { out += d; });
  url = await until(() => out.match(/listening on (http:\/\/[^ ]+)\//)?.[1], "the collector to listen");
  // The first admin (set up with the token) adds the sales rep the lead page is opened as.
  await addUser(url, await sessionCookie(url, TOKEN, "admin"), "sales", "sales");
  browser = await chromium.launch({ executablePath: "/usr/bin/chromium", args: CHROMIUM_ARGS });
  mkdirSync(SHOTS, { recursive: true });
});

after(async () => {
  await browser?.close();
  child?.kill();
  for (const server of servers) server.close();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

const auth = { Authorization: `Bearer ${TOKEN}` };

/** The stored lead with this email (polled until it is there). */
async function leadIdOf(email) {
  return until(async () => {
    const { leads } = await (await fetch(`${url}/v1/leads?limit=50`, { headers: auth })).json();
    return leads.find((l) => l.lead.contact.email === email)?.lead.id;
  }, `the lead of ${email}`);
}

/** A visitor fills the landing page's form: hot (decision maker) or cold (a student). */
async function submit(email, hot) {
  const context = await browser.newContext({ viewport: DESKTOP });
  const page = await context.newPage();
  const problems = [];
  page.on("pageerror", (err) => problems.push(`pageerror: ${err.message}`));
  await page.goto(url + "/?utm_source=google&utm_medium=cpc&utm_campaign=spring");
  await page.getByLabel("Work email").fill(email);
  await page.getByLabel("Company").fill(hot ? "Acme <Corp> & Sons" : "State University");
  await page.getByLabel("Over $250k").check();
  await page.locator("button.nx").click();
  await page.getByLabel(hot ? "I make the decision" : "I'm a student").check();
  await page.getByLabel("This month").check();
  await page.getByLabel(/I agree that you may contact me/).check();
  await page.locator("button.nx").click();
  await page.getByRole("heading", { name: hot ? "You're a great fit!" : "Thank you!" }).waitFor();
  assert.deepEqual(problems, []);
  await context.close();
  return leadIdOf(email);
}

async function deliveries(id) {
  const response = await fetch(`${url}/v1/leads/${id}`, { headers: auth });
  assert.equal(response.status, 200);
  const body = await response.json();
  return Object.fromEntries(body.deliveries.map((d) => [d.destination, d.state]));
}

let hotId;

test("a hot lead reaches Slack as a readable message and the SMTP sink as an e-mail", async () => {
  const email = `ann+${Date.now()}@acme.io`;
  hotId = await submit(email, true);
  await until(async () => {
    const states = await deliveries(hotId);
    return Object.values(states).length === 3 && Object.values(states).every((s) => s === "delivered");
  }, "every destination to have the hot lead");
  assert.deepEqual(await deliveries(hotId), { crm: "delivered", "hot-mail": "delivered", "sales-slack": "delivered" });
  assert.equal(slack.length, 1);
  writeFileSync(join(SHOTS, "routing-slack-message.json"), slack[0] + "\n");
  const { text } = JSON.parse(slack[0]);
  assert.match(text, /^\*Hot lead\* \(score 100\): Acme &lt;Corp&gt; &amp; Sons <mailto:ann\+\d+@acme\.io\|ann\+\d+@acme\.io>\nOwner: ana@example\.com\nSource: google \/ cpc \/ spring\n/);
  assert.ok(text.includes("\nWhy:\n• Budget Over $250k: +30\n• Role I make the decision: +25\n• Timeframe This month: +20"), text);
  assert.ok(text.endsWith(`\n<https://leads.example.com/inbox/leads/${hotId}|Open the lead in the inbox>`), text);
  assert.equal(mails.length, 1);
  assert.deepEqual([mails[0].from, mails[0].to], ["bantam@example.com", ["sales@example.com"]]);
  assert.match(mails[0].data, /^Subject: Hot lead \(score 100\): Acme <Corp> & Sons$/m);
  assert.match(mails[0].data, /^Content-Transfer-Encoding: quoted-printable$/m);
  // The body as the recipient reads it: quoted-printable decoded (soft line breaks, =XX).
  const body = Buffer.from(mails[0].data.split("\n\n").slice(1).join("\n\n").replace(/=\n/g, "")
    .replace(/=([0-9A-F]{2})/g, (_, hex) => String.fromCharCode(parseInt(hex, 16))), "latin1").toString("utf8");
  writeFileSync(join(SHOTS, "routing-email.txt"), body);
  assert.ok(body.includes("\nOwner: ana@example.com\n"), body);
  assert.ok(body.includes(`Open the lead in the inbox: https://leads.example.com/inbox/leads/${hotId}`), body);
  assert.deepEqual(crm, [hotId]);
});

test("a cold lead reaches neither Slack nor the SMTP sink, only the CRM", async () => {
  const email = `student+${Date.now()}@uni.edu`;
  const id = await submit(email, false);
  await until(async () => (await deliveries(id)).crm === "delivered", "the CRM to have the cold lead");
  assert.deepEqual(await deliveries(id), { crm: "delivered" });
  assert.equal(slack.length, 1, "Slack got only the hot lead");
  assert.equal(mails.length, 1, "the sink got only the hot lead's e-mail");
  assert.ok(crm.includes(id));
});

for (const [name, viewport] of [["phone", PHONE], ["desktop", DESKTOP]]) {
  test(`the lead page shows each destination's state on a ${viewport.width} px screen and passes axe-core`, async () => {
    assert.ok(hotId, "the hot lead of the first test");
    const context = await signedInContext(browser, url, TOKEN, { viewport }, "sales");
    const page = await context.newPage();
    const problems = [];
    page.on("console", (msg) => { if (msg.type() === "error") problems.push(msg.text()); });
    const response = await page.goto(`${url}/inbox/leads/${hotId}`);
    assert.equal(response.status(), 200);
    const section = page.getByRole("region", { name: "Deliveries" });
    for (const destination of ["crm", "hot-mail", "sales-slack"]) {
      const row = section.getByRole("row").filter({ has: page.getByRole("rowheader", { name: destination }) });
      assert.equal(await row.getByRole("cell").first().textContent(), "delivered", destination);
    }
    const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
    assert.ok(overflow <= 0, `the page is ${overflow} px wider than the screen`);
    // No header or cell of the table breaks a word over lines (on a phone, "Destination" did);
    // on a phone each delivery is a block of its own, the whole width of the screen.
    const layout = await section.evaluate((el) => {
      const lines = (cell) => {
        const range = document.createRange();
        range.selectNodeContents(cell);
        return new Set([...range.getClientRects()].map((r) => Math.round(r.top))).size;
      };
      // Shown to the eye: a phone's card layout hides the header row (visually, 1 px wide).
      const wide = (e) => e.getBoundingClientRect().width > 1;
      const shown = [...el.querySelectorAll("th, td")].filter((c) => wide(c) && (!c.closest("thead") || wide(c.closest("thead"))));
      const single = (c) => c.tagName === "TH" || c.matches("td:not([data-label=Details])");
      return {
        broken: shown.filter((c) => single(c) && lines(c) > 1).map((c) => c.textContent),
        rows: [...el.querySelectorAll("tbody tr")].map((r) => getComputedStyle(r).display),
      };
    });
    assert.deepEqual(layout.broken, [], "cells broken over lines");
    if (viewport.width < 600) assert.deepEqual(layout.rows, ["block", "block", "block"]);
    await page.evaluate(AXE_SOURCE);
    const violations = await page.evaluate(async () => {
      const result = await window.axe.run(document, {
        runOnly: { type: "tag", values: ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa"] },
      });
      return result.violations.map((v) => ({ id: v.id, nodes: v.nodes.map((n) => n.target.join(" ")) }));
    });
    assert.deepEqual(violations, []);
    await page.screenshot({ path: join(SHOTS, `routing-lead-${name}.png`), fullPage: true });
    assert.deepEqual(problems, []);
    await context.close();
  });
}
