// What the end-to-end tests share: the npm tools, Debian's Chromium and its flags, axe-core, the
// paths of the collector and the widget, and a poll with a deadline (a test waits for what
// happens asynchronously; it never sleeps and hopes). Not a test file: `node --test` runs only
// `*.test.mjs`.
import assert from "node:assert/strict";
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
/** Chromium as root in a sandbox, without its background traffic (see TOOLCHAIN.md). */
export const CHROMIUM_ARGS = [
  "--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
  "--disable-background-networking", "--disable-component-update", "--disable-sync",
  "--no-first-run", "--disable-quic",
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
