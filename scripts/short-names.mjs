// Writes the short import and export names that `wasm-opt --minify-imports-and-exports-and-modules`
// gave a module's wasm into its wasm-bindgen glue (before the glue is minified).
//
//   node scripts/short-names.mjs <wasm-opt's mapping (JSON)> <glue.js> <the renamed .wasm>
//
// wasm-bindgen names every import `__wbg_<name>_<16 hex digits>` and the module
// "./<name>_bg.js"; the hashed names stand in both the wasm and the glue, and random hex is what
// gzip compresses worst. Short names cut the lean widget by 5.6 KB gzipped (wasm and glue,
// measured). The glue is checked against the renamed wasm afterwards: every import the wasm
// asks for is in the glue's import object, and every export the glue calls exists, so a change
// in wasm-bindgen's output fails the build instead of a visitor's page.
import { readFileSync, writeFileSync } from "node:fs";

const [mapPath, gluePath, wasmPath] = process.argv.slice(2);
if (!mapPath || !gluePath || !wasmPath) {
  console.error("usage: node scripts/short-names.mjs <mapping.json> <glue.js> <module.wasm>");
  process.exit(2);
}
const fail = (message) => {
  console.error(`scripts/short-names.mjs: ${gluePath}: ${message}`);
  process.exit(1);
};

const map = JSON.parse(readFileSync(mapPath, "utf8"));
const module = new WebAssembly.Module(readFileSync(wasmPath));
const imports = WebAssembly.Module.imports(module);
const exports = new Set(WebAssembly.Module.exports(module).map((e) => e.name));
const moduleNames = new Set(imports.map((i) => i.module));
if (moduleNames.size !== 1) fail(`expected one import module, found ${[...moduleNames].join(", ")}`);
const [newModule] = moduleNames;

/** A name with `$` escaped for a regular expression (names are identifiers otherwise). */
const escape = (name) => name.replace(/\$/g, "\\$");

let glue = readFileSync(gluePath, "utf8");
// wasm-bindgen's own imports are the import object `import0`, under the module "./<name>_bg.js";
// a function of the hand-written JS module (src/platform.js) that needs no conversion is
// imported from that module directly (`"./snippets/…/platform.js": import1`, one line per use).
// All of them become keys of `import0`, under the one short module name.
const oldModule = map.imports.map(([m]) => m).find((m) => glue.includes(JSON.stringify(m) + ": import0,"));
if (!oldModule) fail("no module of the mapping is the glue's import object (… : import0)");
const moduleKey = JSON.stringify(oldModule) + ": import0,";
const start = glue.indexOf("const import0 = {");
const end = glue.indexOf(moduleKey);
if (start < 0 || end < start) fail(`no import object (const import0 = {…}, ${moduleKey}) in the glue`);
// The namespace variable of each snippet module, and the lines that pass them to the wasm.
const snippets = new Map();
let rest = glue.slice(end + moduleKey.length);
for (const [line, name, variable] of rest.matchAll(/\n\s*("[^"\n]+"): (import\d+),/g)) {
  snippets.set(JSON.parse(name), variable);
  rest = rest.replace(line, "");
}
// Import names are only ever the keys of the import object (one per line, "    name: function").
let object = glue.slice(start, end);
const direct = [];
for (const [from_module, from, to] of map.imports) {
  if (from_module !== oldModule) {
    const variable = snippets.get(from_module);
    if (!variable) fail(`import ${from_module}.${from}: the glue does not pass that module to the wasm`);
    direct.push(`        ${to}: ${variable}.${from},\n`);
    continue;
  }
  const key = new RegExp(`^(\\s*)${escape(from)}: `, "m");
  if (!key.test(object)) fail(`import ${from} not found`);
  object = object.replace(key, (_, space) => `${space}${to}: `);
}
// The direct imports go at the end of import0's literal, which closes with "\n    };" (what
// follows in `object` is the start of the returned object of modules).
const close = object.lastIndexOf("\n    };");
if (close < 0) fail("the end of the import object (`    };`) not found");
object = object.slice(0, close + 1) + direct.join("") + object.slice(close + 1);
glue = glue.slice(0, start) + object + JSON.stringify(newModule) + ": import0," + rest;
for (const [from, to] of map.exports) {
  glue = glue.replace(new RegExp(`(?<![\\w$])wasm\\.${from}(?![\\w$])`, "g"), `wasm.${to}`);
}

// The check: the glue's import object holds every import, and it calls only real exports.
for (const { name } of imports) {
  if (!new RegExp(`^\\s*${escape(name)}: `, "m").test(object)) fail(`import ${name} missing after renaming`);
}
for (const [, name] of glue.matchAll(/(?<![\w$])wasm\.([\w$]+)/g)) {
  if (!exports.has(name)) fail(`the glue calls wasm.${name}, which the wasm does not export`);
}
writeFileSync(gluePath, glue);
