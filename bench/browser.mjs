// Size and start-up benchmark: Bantam against SurveyJS and against the static floor (the same
// first step as plain HTML and CSS, no script), same page, same server, same browser.
//
// Run by `scripts/dev bench`, which builds the release widget, copies SurveyJS into
// www/bench/vendor, writes the floor's stylesheet there and starts the collector; BANTAM_URL
// points at it. Prints a table.
import { readFileSync, readdirSync } from "node:fs";
import { gzipSync, brotliCompressSync, constants } from "node:zlib";
import { launchChromium, loadProbed } from "./chromium.mjs";

const BASE = process.env.BANTAM_URL;
const LOADS = Number(process.env.BENCH_LOADS || 20);
const ROOT = new URL("../", import.meta.url);

const version = (pkg) => JSON.parse(readFileSync(new URL(`node_modules/${pkg}/package.json`, import.meta.url))).version;
const peerVersion = version("survey-core");
const peerUiVersion = version("survey-js-ui");
if (peerVersion !== peerUiVersion) throw new Error(`survey-core ${peerVersion} and survey-js-ui ${peerUiVersion} differ`);

// The glue and the wasm of a module (bantam_core, bantam_full) carry their content hash.
const module = (name) => readdirSync("www/dist").filter((f) => new RegExp(`^${name}(_bg)?\\.[0-9a-f]{10}\\.(js|wasm)$`).test(f))
  .map((f) => `www/dist/${f}`);

const subjects = [
  {
    name: "Bantam",
    page: "/bench/bantam.html",
    // The default embed: the classic loader, which carries the lean module's glue, the lean
    // module's wasm and the compiled form the collector serves.
    files: ["www/dist/embed.js", ...module("bantam_core_bg")],
    urls: [["/forms/bench.json", "application/vnd.bantam.form+json, application/json;q=0.9"]],
    isWidget: (url) => url.includes("/dist/") || url.includes("/forms/"),
  },
  {
    name: "Bantam, inline",
    page: "/bench/bantam-inline.html",
    // The config in the page: the full module, which validates it, imported by embed.js.
    files: ["www/dist/embed.js", ...module("bantam_full")],
    isWidget: (url) => url.includes("/dist/"),
  },
  {
    name: `SurveyJS ${peerVersion}`,
    page: "/bench/surveyjs.html",
    files: [
      "www/bench/vendor/survey.core.min.js",
      "www/bench/vendor/survey-js-ui.min.js",
      "www/bench/vendor/survey-core.min.css",
      "www/bench/surveyjs-form.js",
    ],
    isWidget: (url) => url.includes("/bench/vendor/") || url.endsWith("/surveyjs-form.js"),
  },
  {
    name: "static floor",
    page: "/bench/static.html",
    // The form's markup is the page (with its few lines of heading) and its stylesheet.
    files: ["www/bench/static.html", "www/bench/vendor/floor.css"],
    // No script: its start is the moment the page's HTML, which holds the form, starts to arrive.
    isWidget: () => false,
    fromDocument: true,
  },
];

async function sizes(files, urls = []) {
  let raw = 0, gzip = 0, brotli = 0;
  const bodies = files.map((file) => readFileSync(new URL(file, ROOT)));
  for (const [url, accept] of urls) {
    const response = await fetch(BASE + url, { headers: { accept } });
    if (!response.ok) throw new Error(`${url}: HTTP ${response.status}`);
    bodies.push(Buffer.from(await response.arrayBuffer()));
  }
  for (const bytes of bodies) {
    raw += bytes.length;
    gzip += gzipSync(bytes, { level: 9 }).length;
    brotli += brotliCompressSync(bytes, { params: { [constants.BROTLI_PARAM_QUALITY]: 11 } }).length;
  }
  return { raw, gzip, brotli };
}

const browser = await launchChromium();

/** One cold load: a new context (empty cache), the page, figures once the form is interactive. */
async function load(subject) {
  const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
  const page = await context.newPage();
  const cdp = await context.newCDPSession(page);
  await cdp.send("Performance.enable");
  await loadProbed(page, BASE + subject.page);
  // Let late layout shifts and tasks land before reading them.
  await page.waitForTimeout(500);
  const probe = await page.evaluate(() => ({
    ...window.__probe,
    shiftsAfter: window.__shiftsAfter(),
    responseStart: performance.getEntriesByType("navigation")[0].responseStart,
    resources: performance.getEntriesByType("resource").map((r) => ({ name: r.name, startTime: r.startTime })),
  }));
  const metrics = Object.fromEntries((await cdp.send("Performance.getMetrics")).metrics.map((m) => [m.name, m.value]));
  await context.close();
  const starts = probe.resources.filter((r) => subject.isWidget(r.name)).map((r) => r.startTime);
  if (subject.fromDocument) starts.push(probe.responseStart);
  if (starts.length === 0) throw new Error(`${subject.page}: no request of the widget was seen`);
  return {
    startup: probe.interactive - Math.min(...starts),
    fromPage: probe.interactive,
    mainThread: metrics.TaskDuration * 1000,
    script: metrics.ScriptDuration * 1000,
    longTaskMs: probe.longTaskMs,
    cls: probe.shifts,
    clsAfter: probe.shiftsAfter,
  };
}

function quantile(values, q) {
  const sorted = [...values].sort((a, b) => a - b);
  const index = Math.min(sorted.length - 1, Math.ceil(q * sorted.length) - 1);
  return sorted[Math.max(0, index)];
}

// The same page without a widget: its main-thread time is subtracted to give the widget's.
const baseline = { name: "baseline", page: "/bench/baseline.html", files: [], isWidget: () => true };

// Warm the server and the browser once per page (not counted), then alternate the order.
for (const subject of [...subjects, baseline]) await load(subject);
const runs = new Map([...subjects, baseline].map((s) => [s.name, []]));
for (let i = 0; i < LOADS; i++) {
  const order = i % 2 === 0 ? subjects : [...subjects].reverse();
  for (const subject of order) runs.get(subject.name).push(await load(subject));
  runs.get("baseline").push(await load(baseline));
}
await browser.close();
const baseMainThread = quantile(runs.get("baseline").map((r) => r.mainThread), 0.5);
const baseScript = quantile(runs.get("baseline").map((r) => r.script), 0.5);

const kb = (n) => (n / 1024).toFixed(1) + " KB";
const ms = (n) => n.toFixed(1) + " ms";
const rows = [];
const results = [];
for (const s of subjects) results.push({ subject: s, size: await sizes(s.files, s.urls), runs: runs.get(s.name) });
const stat = (r, key, q) => quantile(r.runs.map((x) => x[key]), q);
const figures = [
  ["downloaded, raw", (r) => r.size.raw, kb],
  ["downloaded, gzip -9", (r) => r.size.gzip, kb],
  ["downloaded, brotli 11", (r) => r.size.brotli, kb],
  ["script start to interactive, median", (r) => stat(r, "startup", 0.5), ms],
  ["script start to interactive, p95", (r) => stat(r, "startup", 0.95), ms],
  ["page start to interactive, median", (r) => stat(r, "fromPage", 0.5), ms],
  ["page start to interactive, p95", (r) => stat(r, "fromPage", 0.95), ms],
  ["widget main-thread time, median", (r) => stat(r, "mainThread", 0.5) - baseMainThread, ms],
  ["widget main-thread time, p95", (r) => stat(r, "mainThread", 0.95) - baseMainThread, ms],
  ["of which script, median", (r) => stat(r, "script", 0.5) - baseScript, ms],
  ["long tasks (>50 ms), median total", (r) => stat(r, "longTaskMs", 0.5), ms],
  ["layout shift (CLS), median", (r) => stat(r, "cls", 0.5), (n) => n.toFixed(4)],
  ["layout shift (CLS), p95", (r) => stat(r, "cls", 0.95), (n) => n.toFixed(4)],
  ["layout shift after it appeared, worst load", (r) => stat(r, "clsAfter", 1), (n) => n.toFixed(4)],
];
// A ratio to nothing (as printed, or below it after the baseline is taken off), such as script
// time against the floor's none, says nothing.
const ratio = (a, b, shown) => (parseFloat(shown) <= 0 ? (a === b ? "1.00" : "n/a") : (a / b).toFixed(3));
for (const [label, get, format] of figures) {
  const [a, inline, b, floor] = results.map(get);
  rows.push([label, format(a), format(inline), format(b), format(floor), ratio(a, b, format(b)), ratio(a, floor, format(floor))]);
}

const widths = [44, 12, 15, 16, 13, 14, 14];
const line = (cells) => cells.map((c, i) => String(c).padEnd(widths[i])).join(" | ");
console.log(`\nBantam vs ${results[2].subject.name} (survey-core + survey-js-ui ${peerVersion}, vanilla UI) vs the static floor`);
console.log(`Chromium (Debian) headless, ${LOADS} cold loads each, alternating order, pages served by the collector on loopback.`);
console.log(`Pages: ${subjects.map((s) => s.page).join(", ")}; the widgets render the same six BANT questions, three a step; the floor is Bantam's first step as static HTML and CSS.`);
console.log("Bantam: the default embed, its config from the collector, compiled (lean module); Bantam, inline: the same config in the page (full module, which validates it).");
console.log("Script start: the widget's first request; for the floor, which has no script, the first byte of its page.");
console.log(`Main-thread figures are the page's task time (CDP Performance.getMetrics) minus the median of the same page without a form (${baseline.page}: ${ms(baseMainThread)}).\n`);
console.log(line(["figure", "Bantam", "Bantam, inline", results[2].subject.name, "static floor", "Bantam / peer", "Bantam / floor"]));
console.log(line(widths.map((w) => "-".repeat(w))));
for (const row of rows) console.log(line(row));
console.log("\nFiles counted: " + results.map((r) => `${r.subject.name}: ${[...r.subject.files.map((f) => f.split("/").pop()), ...(r.subject.urls || []).map(([url]) => `${url} (compiled)`)].join(", ")}`).join("; "));
