// Debian's headless Chromium as every benchmark launches it, with the browser tests' flags
// (tests/e2e/support.mjs; see TOOLCHAIN.md).
import { chromium, CHROMIUM_ARGS } from "../tests/e2e/support.mjs";

/** A new headless Chromium. */
export const launchChromium = () => chromium.launch({ executablePath: "/usr/bin/chromium", args: CHROMIUM_ARGS });

/**
 * Opens `url` in `page` and waits until probe.js says the form has appeared (a console message:
 * no script of the benchmark's runs in the page while it loads).
 */
export async function loadProbed(page, url, timeout = 30000) {
  const appeared = page.waitForEvent("console", { predicate: (m) => m.text() === "bantam-probe: appeared", timeout })
    .catch(() => {
      throw new Error(`${url}: the form did not appear within ${timeout} ms`);
    });
  // Handled below; a failed navigation must not leave it unhandled.
  appeared.catch(() => {});
  await page.goto(url, { waitUntil: "load" });
  await appeared;
}
