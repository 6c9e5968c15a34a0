// Where a benchmark page's main-thread time and start-up go: cold loads of each page under a
// Chromium performance trace (DevTools' timeline categories and V8's wasm ones), summed by what
// the renderer's main thread did (self thread time per trace event), with the wasm's trace
// events and the page's request waterfall.
//
//   scripts/dev trace [page ...], or BANTAM_URL=http://127.0.0.1:PORT node bench/trace.mjs [page ...]
//   (pages of www/bench without .html; default: bantam static)
//   TRACE_LOADS=5 (loads per page, medians printed), TRACE_SAVE=dir (keeps each trace's JSON),
//   TRACE_CATEGORIES=a,b (instead of the default ones)
//
// Run against a collector that serves www with `--forms www/bench/forms`, as `scripts/dev bench`
// starts it. Absolute figures vary with the machine's load (less so the thread times than the
// wall times): compare pages within one run.
import { mkdirSync, writeFileSync } from "node:fs";
import { launchChromium, loadProbed } from "./chromium.mjs";

const BASE = process.env.BANTAM_URL;
const LOADS = Number(process.env.TRACE_LOADS || 5);
const SAVE = process.env.TRACE_SAVE;
const pages = process.argv.slice(2).length ? process.argv.slice(2) : ["bantam", "static"];
// The categories of DevTools' own performance panel; TRACE_CATEGORIES may add more (the more, the
// more the tracing itself slows the page: "disabled-by-default-v8.compile" doubles lazy wasm
// compilation's apparent cost).
const CATEGORIES = process.env.TRACE_CATEGORIES || [
  "devtools.timeline", "disabled-by-default-devtools.timeline", "v8.execute", "v8.wasm",
  "blink.user_timing", "loading",
].join(",");

const browser = await launchChromium();

/**
 * Self time (ms) per event name on `tid` of `pid`, between `from` and `to` (µs): thread time
 * (`tdur`, the CPU the thread got) where the trace has it, so that other processes' load on the
 * machine counts less than in wall time.
 */
function selfTimes(events, pid, tid, from, to) {
  const spans = events
    .filter((e) => e.pid === pid && e.tid === tid && e.ph === "X" && e.dur !== undefined && e.ts >= from && e.ts <= to)
    .sort((a, b) => a.ts - b.ts || b.dur - a.dur);
  const self = new Map();
  const stack = [];
  const add = (name, us) => self.set(name, (self.get(name) || 0) + us / 1000);
  const cpu = (e) => e.tdur ?? e.dur;
  for (const e of spans) {
    while (stack.length && stack.at(-1).ts + stack.at(-1).dur <= e.ts) stack.pop();
    const parent = stack.at(-1);
    if (parent) add(parent.name, -Math.min(cpu(e), cpu(parent)));
    add(e.name, cpu(e));
    stack.push(e);
  }
  return self;
}

async function traceOne(name, n) {
  const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
  const page = await context.newPage();
  await browser.startTracing(page, { categories: CATEGORIES.split(",") });
  await loadProbed(page, `${BASE}/bench/${name}.html`);
  await page.waitForTimeout(500);
  const probe = await page.evaluate(() => ({
    interactive: window.__probe.interactive,
    longTaskMs: window.__probe.longTaskMs,
    resources: performance.getEntriesByType("resource").map((r) => ({
      name: r.name.replace(location.origin, ""), start: r.startTime, end: r.responseEnd,
    })),
  }));
  const buffer = await browser.stopTracing();
  await context.close();
  if (SAVE) {
    mkdirSync(SAVE, { recursive: true });
    writeFileSync(`${SAVE}/${name.replaceAll("/", "-")}-${n}.json`, buffer);
  }
  const { traceEvents: events } = JSON.parse(buffer.toString());
  // The page's renderer main thread: the CrRendererMain thread that parsed the page.
  const mains = events.filter((e) => e.ph === "M" && e.name === "thread_name" && e.args.name === "CrRendererMain");
  const parsed = events.filter((e) => e.name === "ParseHTML" && String(e.args?.beginData?.url).includes(`/bench/${name}.html`));
  const main = mains.find((m) => parsed.some((p) => p.pid === m.pid && p.tid === m.tid));
  if (!main) throw new Error(`${name}: no renderer main thread parsed the page`);
  const navStart = events.find((e) => e.name === "navigationStart" && e.pid === main.pid)?.ts
    ?? Math.min(...parsed.map((p) => p.ts));
  const self = selfTimes(events, main.pid, main.tid, navStart, navStart + 30e6);
  const total = [...events].filter((e) => e.pid === main.pid && e.tid === main.tid && e.ph === "X"
    && (e.name === "RunTask" || e.name === "ThreadControllerImpl::RunTask") && e.ts >= navStart)
    .reduce((sum, e) => sum + (e.tdur ?? e.dur) / 1000, 0);
  // wasm work on any thread (compile may run on workers).
  const wasm = new Map();
  for (const e of events) {
    if (e.ph === "X" && /wasm/i.test(e.name) && e.dur !== undefined) {
      const where = e.pid === main.pid && e.tid === main.tid ? "main" : "other";
      wasm.set(`${e.name} (${where})`, (wasm.get(`${e.name} (${where})`) || 0) + (e.tdur ?? e.dur) / 1000);
    }
  }
  return { self, total, wasm, probe };
}

const median = (values) => {
  const s = [...values].sort((a, b) => a - b);
  return s.length ? s[Math.floor((s.length - 1) / 2)] : NaN;
};

for (const name of pages) await traceOne(name, "warm");
const results = new Map(pages.map((p) => [p, []]));
for (let i = 0; i < LOADS; i++) {
  for (const name of (i % 2 ? [...pages].reverse() : pages)) results.get(name).push(await traceOne(name, i));
}
await browser.close();

const names = new Set();
for (const runs of results.values()) for (const r of runs) for (const k of r.self.keys()) names.add(k);
const table = [...names].map((k) => [k, ...pages.map((p) => median(results.get(p).map((r) => r.self.get(k) || 0)))])
  .filter((row) => row.slice(1).some((v) => v >= 0.3))
  .sort((a, b) => Math.max(...b.slice(1)) - Math.max(...a.slice(1)));
const pad = (s, w) => String(s).padEnd(w - 1) + " ";
console.log(`\nMain-thread self time (thread CPU time) by trace event, median of ${LOADS} loads (ms)`);
console.log(pad("event", 40) + pages.map((p) => pad(p, 12)).join(""));
console.log(pad("all tasks from navigation (CPU)", 40)
  + pages.map((p) => pad(median(results.get(p).map((r) => r.total)).toFixed(1), 12)).join(""));
console.log(pad("interactive (performance.now)", 40)
  + pages.map((p) => pad(median(results.get(p).map((r) => r.probe.interactive)).toFixed(1), 12)).join(""));
// Per load, then the median: from the widget's first request (/dist/, /forms/; the page's first
// byte for a page without one), as `bench/browser.mjs` counts start-up, and from the moment its
// wasm had arrived.
const figure = (v) => (isNaN(v) ? "-" : v.toFixed(1));
const widget = (r) => r.probe.resources.filter((x) => /^\/dist[^/]*\/|^\/forms\//.test(x.name));
const since = (r, pick) => {
  const marks = widget(r).map(pick);
  return marks.length ? r.probe.interactive - Math.min(...marks) : NaN;
};
console.log(pad("start-up (from the first widget request)", 40)
  + pages.map((p) => pad(figure(median(results.get(p).map((r) => since(r, (x) => x.start)).filter((v) => !isNaN(v)))), 12)).join(""));
console.log(pad("interactive after the wasm arrived", 40)
  + pages.map((p) => pad(figure(median(results.get(p).map((r) => r.probe.interactive
    - Math.max(...widget(r).filter((x) => x.name.endsWith(".wasm")).map((x) => x.end))).filter((v) => isFinite(v)))), 12)).join(""));
console.log(pad("long tasks (ms)", 40)
  + pages.map((p) => pad(median(results.get(p).map((r) => r.probe.longTaskMs)).toFixed(1), 12)).join(""));
for (const [k, ...v] of table) console.log(pad(k, 40) + v.map((x) => pad(x.toFixed(1), 12)).join(""));
for (const p of pages) {
  const wasm = new Map();
  for (const r of results.get(p)) for (const [k, v] of r.wasm) wasm.set(k, [...(wasm.get(k) || []), v]);
  if (wasm.size) {
    console.log(`\n${p}: wasm trace events, median total (ms)`);
    for (const [k, v] of wasm) console.log("  " + pad(k, 50) + median(v).toFixed(2));
  }
  console.log(`\n${p}: requests (start → end, ms from navigation), median`);
  const byName = new Map();
  for (const r of results.get(p)) for (const res of r.probe.resources) byName.set(res.name, [...(byName.get(res.name) || []), res]);
  for (const [k, v] of byName) {
    console.log("  " + pad(k.slice(0, 60), 62) + median(v.map((x) => x.start)).toFixed(1).padStart(7) + " → "
      + median(v.map((x) => x.end)).toFixed(1).padStart(7));
  }
  console.log("  " + pad("interactive", 62) + median(results.get(p).map((r) => r.probe.interactive)).toFixed(1).padStart(7));
}
