// Start-up against the size of an inline config: www/bench/scale.html?n=N holds N single-choice
// questions. Config reading must stay linear in the size of the form.
//
// Run by `scripts/dev bench` (BANTAM_URL points at a collector serving www/); or by hand:
//   BANTAM_URL=http://127.0.0.1:8080 node bench/scale.mjs [N ...]
import { launchChromium, loadProbed } from "./chromium.mjs";

const BASE = process.env.BANTAM_URL;
const LOADS = Number(process.env.SCALE_LOADS || 5);
const SIZES = process.argv.slice(2).map(Number);
if (SIZES.length === 0) SIZES.push(10, 100, 1000, 5000);

const browser = await launchChromium();

/** One cold load; times from navigation start (ms). */
async function load(n) {
  const context = await browser.newContext();
  const page = await context.newPage();
  await loadProbed(page, `${BASE}/bench/scale.html?n=${n}`, 600000);
  const probe = await page.evaluate(() => {
    const embed = performance.getEntriesByType("resource").find((r) => r.name.endsWith("/embed.js"));
    return { interactive: window.__probe.interactive, embed: embed ? embed.startTime : 0 };
  });
  await context.close();
  return { ready: probe.interactive, startup: probe.interactive - probe.embed };
}

const median = (values) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)];
await load(SIZES[0]);
console.log(`Inline config of N single-choice questions, Chromium headless, median of ${LOADS} cold loads`);
console.log("N        | page start to ready | script start to ready");
console.log("-------- | ------------------- | ---------------------");
for (const n of SIZES) {
  const runs = [];
  for (let i = 0; i < LOADS; i++) runs.push(await load(n));
  const ready = median(runs.map((r) => r.ready));
  const startup = median(runs.map((r) => r.startup));
  console.log(`${String(n).padEnd(8)} | ${(ready.toFixed(1) + " ms").padStart(19)} | ${(startup.toFixed(1) + " ms").padStart(21)}`);
}
await browser.close();
