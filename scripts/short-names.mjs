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
const oldModules = new Set(map.imports.map(([m]) => m));
if (oldModules.size !== 1) fail(`expected one import module in the mapping, found ${[...oldModules].join(", ")}`);
const [oldModule] = oldModules;

/** A name with `$` escaped for a regular expression (names are identifiers otherwise). */
const escape = (name) => name.replace(/\$/g, "\\$");

let glue = readFileSync(gluePath, "utf8");
const moduleKey = JSON.stringify(oldModule) + ": import0";
const start = glue.indexOf("const import0 = {");
const end = glue.indexOf(moduleKey);
if (start < 0 || end < start) fail(`no import object (const import0 = {…}, ${moduleKey}) in the glue`);
// Import names are only ever the keys of the import object (one per line, "    name: function").
let object = glue.slice(start, end);
for (const [, from, to] of map.imports) {
  const key = new RegExp(`^(\\s*)${escape(from)}: `, "m");
  if (!key.test(object)) fail(`import ${from} not found`);
  object = object.replace(key, (_, space) => `${space}${to}: `);
}
glue = glue.slice(0, start) + object + JSON.stringify(newModule) + ": import0" + glue.slice(end + moduleKey.length);
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
