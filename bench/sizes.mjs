// Where the widget's bytes go: groups twiggy's items of the wasm (after wasm-bindgen, before
// wasm-opt, so functions still carry their Rust names) into the parts of the widget, and
// scales each part's share to the shipped, gzipped wasm.
//
//   node bench/sizes.mjs <twiggy top --format csv output> <www/dist>
//
// The gzip figure per part is proportional attribution (its share of code and data times the
// shipped gzip size), not a measurement of the part alone: gzip does not split that way.
import { readFileSync, readdirSync } from "node:fs";
import { gzipSync } from "node:zlib";

const [csvPath, dist] = process.argv.slice(2);
if (!csvPath || !dist) {
  console.error("usage: node bench/sizes.mjs <twiggy.csv> <dist dir>");
  process.exit(2);
}

/** Splits one CSV line, honouring double quotes. */
function fields(line) {
  const out = [];
  let cur = "";
  let quoted = false;
  for (let i = 0; i < line.length; i++) {
    const c = line[i];
    if (quoted) {
      if (c === '"' && line[i + 1] === '"') {
        cur += '"';
        i++;
      } else if (c === '"') quoted = false;
      else cur += c;
    } else if (c === '"') quoted = true;
    else if (c === ",") {
      out.push(cur);
      cur = "";
    } else cur += c;
  }
  out.push(cur);
  return out;
}

const PARTS = [
  ["strings and tables (CSS, texts, preset, messages)", (n) => n.startsWith("data segment")],
  ["engine: config reading and validation", (n) => /bantam_engine::(config|read|value|preset|texts)\b|ConfigError/.test(n.slice(0, 90))],
  ["engine: scoring, answers, profiling, lead, adapters", (n) => n.slice(0, 60).includes("bantam_engine")],
  ["widget: outbox, delivery, visitor storage", (n) => /bantam::(outbox|deliver|visitor)/.test(n.slice(0, 40))],
  ["widget: mount, DOM, steps, events, options", (n) => /bantam::/.test(n.slice(0, 40)) || /^(mount|form_)/.test(n)],
  ["bindings: wasm-bindgen, js-sys, web-sys, gloo", (n) => /^<*(impl )?(js_sys|wasm_bindgen|web_sys|gloo)/.test(n) || n.includes("wbindgen") || n.startsWith("__externref")],
  ["Rust core/alloc: generic code (iterators, Vec, drops), fmt, str, allocator", () => true],
];

const lines = readFileSync(csvPath, "utf8").trim().split("\n");
const header = fields(lines[0]);
const nameAt = header.indexOf("Name");
const sizeAt = header.indexOf("ShallowSize");
const totals = new Map(PARTS.map(([p]) => [p, 0]));
const items = [];
for (const line of lines.slice(1)) {
  const row = fields(line);
  const name = row[nameAt];
  const size = Number(row[sizeAt]);
  if (!name || name.startsWith("custom section") || name.includes("names\" subsection") || name.startsWith("Σ") || name.startsWith("...")) continue;
  const [part] = PARTS.find(([, test]) => test(name));
  totals.set(part, totals.get(part) + size);
  items.push([size, name]);
}
const all = [...totals.values()].reduce((a, b) => a + b, 0);
const shipped = (file) => gzipSync(readFileSync(`${dist}/${file}`), { level: 9 }).length;
const hashed = (pattern) => readdirSync(dist).find((f) => pattern.test(f));
const wasmGz = shipped(hashed(/^bantam_core_bg\.[0-9a-f]{10}\.wasm$/));

const kb = (n) => `${(n / 1024).toFixed(1)} KB`;
console.log(`wasm code and data before wasm-opt: ${kb(all)}; shipped wasm gzip -9: ${kb(wasmGz)}`);
console.log("");
console.log("part                                                                        | bytes      | share  | ≈ gzip");
console.log("--------------------------------------------------------------------------- | ---------- | ------ | --------");
for (const [part, size] of [...totals].sort((a, b) => b[1] - a[1])) {
  console.log(`${part.padEnd(75)} | ${kb(size).padStart(10)} | ${((size / all) * 100).toFixed(1).padStart(5)}% | ${kb((size / all) * wasmGz).padStart(8)}`);
}
// embed.js carries the lean glue (the script tag's one script); the ES module API downloads
// bantam.js and the glue instead.
for (const [file, what] of [
  ["embed.js", "JS: embed.js (the loader with the lean glue in it)"],
  [hashed(/^bantam_core\.[0-9a-f]{10}\.js$/), "JS: the lean glue alone (for bantam.js)"],
  ["bantam.js", "JS: bantam.js"],
]) {
  console.log(`${what.padEnd(75)} | ${kb(readFileSync(`${dist}/${file}`).length).padStart(10)} |        | ${kb(shipped(file)).padStart(8)}`);
}
console.log("");
console.log("largest items (bytes before wasm-opt):");
for (const [size, name] of items.sort((a, b) => b[0] - a[0]).slice(0, 15)) {
  console.log(`${String(size).padStart(7)}  ${name.slice(0, 110)}`);
}
