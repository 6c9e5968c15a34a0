// What the end-to-end tests share: the npm tools, Debian's Chromium and its flags, axe-core, the
// paths of the collector and the widget, and a poll with a deadline (a test waits for what
// happens asynchronously; it never sleeps and hopes). Not a test file: `node --test` runs only
// `*.test.mjs`.
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { createRequire } from "node:module";
import { readFileSync } from "node:fs";
import { join } from "node:path";

export const ROOT = new URL("../../", import.meta.url).pathname;
export const tools = createRequire(join(ROOT, "tools/package.json"));
export const { chromium } = tools("playwright-core");
export const AXE_SOURCE = readFileSync(tools.resolve("axe-core/axe.min.js"), "utf8");
/** The collector binary (another build's to compare, such as a release's). */
export const BIN = process.env.BANTAM_BIN || join(ROOT, "target/debug/bantam-collector");
/** The widget the collectors serve (an empty folder: the one built into the binary). */
export const WWW = process.env.BANTAM_WWW || join(ROOT, "www");
export const SHOTS = join(ROOT, "target/screenshots");
/**
 * Chromium as root in a sandbox, without its background traffic (see TOOLCHAIN.md), and without
 * the browser UI's omnibox popup, a WebUI page that headless Chromium otherwise builds in a
 * renderer of its own during about a third of page loads (measured: 3 to 4 of 8 to 10 loads of
 * a static page had its requests in their trace; 0 of 12 with these two features off): on two
 * cores its scripts compete with the page under test at random, and no visitor's browser builds
 * its toolbar while a page loads.
 */
export const CHROMIUM_ARGS = [
  "--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
  "--disable-background-networking", "--disable-component-update", "--disable-sync",
  "--no-first-run", "--disable-quic", "--disable-features=WebUIOmniboxFullPopup,WebUIOmniboxAimPopup",
];

/** Polls `check` (async allowed) until it returns a truthy value; fails after `ms`. */
export async function until(check, what, ms = 20000) {
  const end = Date.now() + ms;
  for (;;) {
    const value = await check();
    if (value) return value;
    assert.ok(Date.now() < end, `timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** The password the end-to-end tests give the users they sign in as. */
export const PASSWORD = "end-to-end password";

/**
 * Signs in to the collector at `url` through its login form (as a program posts it) and
 * answers the session cookie's value. While no user exists, the admin token sets up `name` as
 * the first admin; afterwards `name` signs in with `password` (the token fields are ignored).
 */
export async function sessionCookie(url, token, name = "admin", password = PASSWORD) {
  const response = await fetch(`${url}/inbox/login`, {
    method: "POST", redirect: "manual",
    headers: { "content-type": "application/x-www-form-urlencoded", origin: url },
    body: new URLSearchParams({ token, name, password, repeat: password }),
  });
  assert.equal(response.status, 303, `signing in as ${name}: ${response.status} ${await response.text()}`);
  const cookie = response.headers.get("set-cookie")?.match(/bantam_session=([0-9a-f]{64})/)?.[1];
  assert.ok(cookie, "a session cookie");
  return cookie;
}

/** A new browser context (`options` as `browser.newContext` takes them) signed in to `url` as `name`. */
export async function signedInContext(browser, url, token, options = {}, name = "admin") {
  const context = await browser.newContext(options);
  await context.addCookies([{ name: "bantam_session", value: await sessionCookie(url, token, name), url }]);
  return context;
}

/**
 * Adds the user `name` with `role` (`sales` or `admin`) and `password` through the users page,
 * as the admin whose session cookie is `adminCookie` (the page's CSRF token read from its form).
 */
export async function addUser(url, adminCookie, name, role = "sales", password = PASSWORD) {
  const cookie = `bantam_session=${adminCookie}`;
  const page = await (await fetch(`${url}/inbox/users`, { headers: { cookie } })).text();
  const csrf = page.match(/name="csrf" value="([^"]+)"/)?.[1];
  assert.ok(csrf, "the users page's CSRF token");
  const response = await fetch(`${url}/inbox/users`, {
    method: "POST", redirect: "manual",
    headers: { "content-type": "application/x-www-form-urlencoded", origin: url, cookie },
    body: new URLSearchParams({ csrf, name, role, password }),
  });
  assert.equal(response.status, 303, `adding ${name}: ${response.status} ${await response.text()}`);
}

/**
 * Starts the collector (`BIN`) on a free loopback port with `args` besides `--listen`, and
 * resolves to `{ child, url }` once it listens; the caller kills `child` when done.
 */
export async function startCollector(args) {
  const child = spawn(BIN, ["--listen", "127.0.0.1:0", ...args], { stdio: ["ignore", "pipe", "pipe"] });
  let out = "";
  child.stdout.on("data", (d) => { out += d; });
  child.stderr.on("data", (d) => { out += d; });
  const url = await until(() => out.match(/listening on (http:\/\/[^ ]+)\//)?.[1] || child.exitCode !== null,
    "the collector to listen");
  assert.equal(typeof url, "string", `the collector stopped: ${out}`);
  return { child, url };
}

/** axe-core over the whole page (WCAG 2.0, 2.1 and 2.2 A and AA, so touch targets count):
 * the violations, each with its rule, help and nodes; `[]` when there are none. */
export async function pageViolations(page) {
  await page.evaluate(AXE_SOURCE);
  return page.evaluate(async () => {
    const result = await window.axe.run(document, {
      runOnly: { type: "tag", values: ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa"] },
    });
    return result.violations.map((v) => ({ id: v.id, help: v.help, nodes: v.nodes.map((n) => n.target.join(" ")) }));
  });
}

/**
 * The sales tests' form (people, handoff): the email, a budget (a middling one is warm, a big one
 * hot) and a role (a decision maker is hot), asked `perVisit` at a time, one step a visit.
 */
export function salesForm(formId, perVisit) {
  return {
    formId,
    title: "Talk to sales",
    questions: [
      { id: "email", kind: "email", label: "Work email", required: true },
      { id: "budget", kind: "singleChoice", label: "Budget", category: "budget", required: true,
        options: [{ id: "mid", label: "$10k to $50k", points: 55 }, { id: "big", label: "Over $50k", points: 100 }] },
      { id: "role", kind: "singleChoice", label: "Your role", category: "authority", required: true,
        options: [{ id: "user", label: "I use it", points: 20 }, { id: "boss", label: "I decide", points: 100 }] },
    ],
    maxQuestionsPerVisit: perVisit,
    questionsPerStep: perVisit,
    spam: { minFillSeconds: 0 },
  };
}
