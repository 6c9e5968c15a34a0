// What a page downloads for the default embed carries no bytes that do nothing for it: the
// lean module's wasm and glue use the short import and export names the build gave them
// (wasm-bindgen's own are hashed, `__wbg_<name>_<16 hex digits>`, and stood in both files), and
// the wasm has no custom sections. The files are the ones the collector serves; that the widget
// still works with them is what every other browser test shows.
//
// Run by `scripts/dev test` with BANTAM_URL set to the collector.
import { test } from "node:test";
import assert from "node:assert/strict";

const BASE = process.env.BANTAM_URL;
assert.ok(BASE, "BANTAM_URL must point at a running collector");

/**
 * The lean module's wasm and its two glues: embed.js (the classic loader, which carries the
 * glue) and the module file bantam.js imports.
 */
async function leanModule() {
  const get = async (name) => {
    const response = await fetch(`${BASE}/dist/${name}`);
    assert.equal(response.status, 200, name);
    return response;
  };
  const embed = await (await get("embed.js")).text();
  const api = await (await get("bantam.js")).text();
  const wasm = embed.match(/bantam_core_bg\.[0-9a-f]{10}\.wasm/)?.[0];
  const glue = api.match(/bantam_core\.[0-9a-f]{10}\.js/)?.[0];
  assert.ok(wasm, "embed.js names the lean module's hashed wasm");
  assert.ok(glue, "bantam.js names the lean module's hashed glue");
  assert.doesNotMatch(embed, /bantam_core\.[0-9a-f]{10}\.js/, "embed.js carries the lean glue instead of importing it");
  assert.match(embed, /^\/\/# allFunctionsCalledOnLoad\n"use strict";/, "the classic script is strict, as the modules in it are");
  return {
    glues: { "embed.js": embed, [glue]: await (await get(glue)).text() },
    wasm: new WebAssembly.Module(await (await get(wasm)).arrayBuffer()),
  };
}

test("the default embed's wasm and glue carry short import and export names and no custom sections", async () => {
  const { glues, wasm } = await leanModule();
  const imports = WebAssembly.Module.imports(wasm);
  const exports = WebAssembly.Module.exports(wasm);
  // Most browser APIs are the hand-written JS's now (widget.js, platform.js); the wasm still
  // imports some dozens of functions, whose names the loop below checks.
  assert.ok(imports.length > 20, `the wasm imports its functions from the glue (${imports.length})`);
  for (const { module, name } of imports) {
    assert.ok(module.length <= 2 && name.length <= 3, `import ${module}.${name} has a short name`);
  }
  for (const { name } of exports) {
    assert.ok(name.length <= 3, `export ${name} has a short name`);
  }
  for (const [name, glue] of Object.entries(glues)) {
    assert.doesNotMatch(glue, /__wbg_\w+_[0-9a-f]{16}|__wbindgen_|bantam_core_bg\.js/, `${name} names no import or export by wasm-bindgen's name`);
    assert.doesNotMatch(glue, /snippets\//, `the widget's hand-written browser IO (platform.js) is bundled into ${name}`);
    assert.ok(glue.startsWith("//# allFunctionsCalledOnLoad\n"), `${name} asks V8 to compile it with the script, off the main thread`);
  }
  for (const section of ["name", "producers", "target_features"]) {
    assert.deepEqual(WebAssembly.Module.customSections(wasm, section), [], `no ${section} section`);
  }
});
