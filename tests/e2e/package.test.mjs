// The npm package as a developer meets it: `npm pack`, installed from the tarball into an empty
// project with no network, imported on a server (no browser global touched), its types checked
// with `tsc --strict` against the engine's fixtures and field lists, and the three examples
// (plain HTML, React, Vue) bundled with esbuild and used in Chromium against a collector: leads
// stored, axe-clean forms, and <bantam-form>'s life in the document (mount, move, attribute
// changes, removal without leftovers).
//
// Run by `scripts/dev test` after `scripts/dev build` (which makes target/npm/bantam-form; set
// BANTAM_PACKAGE for another folder) with BANTAM_BIN set to the collector binary.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { createRequire } from "node:module";
import { spawn, spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, mkdirSync, readFileSync, readdirSync, rmSync, writeFileSync, copyFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { buildExamples } from "../../examples/build.mjs";
import { ROOT, tools, chromium, AXE_SOURCE, BIN, until, CHROMIUM_ARGS } from "./support.mjs";

const esbuild = tools("esbuild");
const TSC = join(ROOT, "tools/node_modules/.bin/tsc");
const PACKAGE = process.env.BANTAM_PACKAGE || join(ROOT, "target/npm/bantam-form");
const TOKEN = "package-test-token";

/** Runs a command to its end; fails the test on a non-zero exit unless `allowFailure`. */
function run(command, args, options = {}) {
  const result = spawnSync(command, args, { encoding: "utf8", ...options });
  if (!options.allowFailure) {
    assert.equal(result.status, 0, `${command} ${args.join(" ")} failed:\n${result.stdout}\n${result.stderr}`);
  }
  return result;
}

const work = mkdtempSync(join(tmpdir(), "bantam-package-"));
const app = join(work, "app");
let packed; // npm pack's report: {filename, size, unpackedSize, files}
let collector; // {url, child}
let browser;

before(async () => {
  assert.ok(existsSync(join(PACKAGE, "package.json")), `no package in ${PACKAGE}: run scripts/dev build first`);
  [packed] = JSON.parse(run("npm", ["pack", PACKAGE, "--pack-destination", work, "--json", "--loglevel=error"]).stdout);
  // An empty project, and the tarball installed into it without the network.
  mkdirSync(app);
  writeFileSync(join(app, "package.json"), JSON.stringify({ name: "app", private: true, type: "module" }));
  run("npm", ["install", "--offline", "--no-audit", "--no-fund", "--loglevel=error", join(work, packed.filename)], { cwd: app });
});

after(async () => {
  await browser?.close();
  collector?.child.kill();
  rmSync(work, { recursive: true, force: true });
});

test("npm pack: the package's files, private, with exports that exist", () => {
  const files = packed.files.map((f) => f.path).sort();
  assert.deepEqual(files, [
    "README.md", "bantam_core.d.ts", "bantam_core.js", "bantam_core_bg.wasm", "embed.js",
    "index.d.ts", "index.js", "package.json",
  ]);
  console.log(`# ${packed.filename}: ${packed.size} bytes packed, ${packed.unpackedSize} unpacked; ` +
    packed.files.map((f) => `${f.path} ${f.size}`).join(", "));
  const installed = join(app, "node_modules/bantam-form");
  const manifest = JSON.parse(readFileSync(join(installed, "package.json"), "utf8"));
  assert.equal(manifest.name, "bantam-form");
  assert.equal(manifest.private, true, "npm refuses to publish a private package");
  assert.equal(manifest.publishConfig, undefined);
  const targets = (entry) => (typeof entry === "string" ? [entry] : Object.values(entry).flatMap(targets));
  for (const [path, entry] of Object.entries(manifest.exports)) {
    for (const target of targets(entry)) assert.ok(existsSync(join(installed, target)), `exports["${path}"] → ${target} is missing`);
  }
  // Fixed names throughout: no content-hashed name of www/dist is left in the loaders.
  for (const file of ["index.js", "embed.js", "bantam_core.js"]) {
    assert.doesNotMatch(readFileSync(join(installed, file), "utf8"), /bantam_core(_bg)?\.[0-9a-f]{10}\./, file);
  }
});

// Installed as accessors that record every read, so even a `typeof` would show.
const TRAPPED = ["window", "document", "self", "location", "HTMLElement", "navigator"];
const NODE_IMPORT = `
const traps = ${JSON.stringify(TRAPPED)};
const touched = [];
for (const name of traps) {
  Object.defineProperty(globalThis, name, { configurable: true, get() { touched.push(name); return undefined; } });
}
const before = Object.getOwnPropertyNames(globalThis);
const m = await import(process.argv[1] ?? "bantam-form");
const after = Object.getOwnPropertyNames(globalThis);
for (const name of traps) delete globalThis[name];
console.log(JSON.stringify({
  touched, added: after.filter((k) => !before.includes(k)), removed: before.filter((k) => !after.includes(k)),
  exports: Object.keys(m).sort(), mount: typeof m.mount,
}));`;

test("importing the package in Node touches no browser global and adds no global", () => {
  const { stdout } = run("node", ["--input-type=module", "-e", NODE_IMPORT], { cwd: app });
  const seen = JSON.parse(stdout);
  assert.deepEqual(seen, { touched: [], added: [], removed: [], exports: ["mount", "setWasmUrl"], mount: "function" });
});

test("a bundler's server build (esbuild, platform node) imports and runs it", async () => {
  writeFileSync(join(app, "server.js"), `import { mount } from "bantam-form";
export const html = typeof mount === "function" ? '<bantam-form form-id="spring-campaign"></bantam-form>' : "";`);
  await esbuild.build({ entryPoints: [join(app, "server.js")], bundle: true, platform: "node", format: "esm",
    outfile: join(app, "dist/server.mjs"), logLevel: "warning" });
  const { stdout } = run("node", ["--input-type=module", "-e", NODE_IMPORT, join(app, "dist/server.mjs")], { cwd: app });
  const seen = JSON.parse(stdout);
  assert.deepEqual(seen.touched, []);
  assert.deepEqual(seen.added, []);
  assert.deepEqual(seen.exports, ["html"]);
});

// ---------------------------------------------------------------------------------------------
// Types

const TSCONFIG = {
  compilerOptions: {
    strict: true, noEmit: true, target: "es2022", lib: ["esnext", "dom"], module: "nodenext",
    moduleResolution: "nodenext", skipLibCheck: false, types: [],
  },
};

/** Runs tsc over `files` ({name: source}) in the app; resolves to {status, errors: [{file, line, text}]}. */
function tsc(files) {
  const dir = mkdtempSync(join(app, "types-"));
  for (const [name, source] of Object.entries(files)) writeFileSync(join(dir, name), source);
  writeFileSync(join(dir, "tsconfig.json"), JSON.stringify({ ...TSCONFIG, files: Object.keys(files) }));
  const result = run(TSC, ["-p", dir, "--pretty", "false"], { allowFailure: true, cwd: dir });
  const errors = [...result.stdout.matchAll(/^(\S+?)\((\d+),\d+\): (error .*)$/gm)]
    .map(([, file, line, text]) => ({ file, line: Number(line), text }));
  assert.ok(result.status === 0 || errors.length, `tsc failed without errors:\n${result.stdout}${result.stderr}`);
  return { status: result.status, errors, output: result.stdout };
}

const json = (path) => readFileSync(join(ROOT, path), "utf8");
const CONFIGS = [
  ...readdirSync(join(ROOT, "tests/data/configs")).map((f) => `tests/data/configs/${f}`),
  ...readdirSync(join(ROOT, "www/forms")).map((f) => `www/forms/${f}`),
  ...readdirSync(join(ROOT, "examples/forms")).map((f) => `examples/forms/${f}`),
].filter((f) => f.endsWith(".json"));

test("the types accept every fixture config, the lead document and the API as documented", () => {
  const source = `import { mount, setWasmUrl } from "bantam-form";
import type { BantamConfig, BantamFormElement, Form, HubSpotSubmission, LeadDocument, Score } from "bantam-form";
${CONFIGS.map((f, i) => `// ${f}\nexport const config${i}: BantamConfig = ${json(f)};`).join("\n")}
export const lead: LeadDocument = ${json("tests/data/lead-v1.json")};
export const hubspot: HubSpotSubmission = ${json("tests/data/payloads/hubspot.json")};

setWasmUrl(new URL("/assets/bantam.wasm", "https://example.com"));
const element: BantamFormElement = document.createElement("bantam-form");
element.config = config0;
element.setAttribute("variant", "b");
const current: Form | null = element.form;
current?.destroy();
element.addEventListener("bantam:submit", (event) => {
  const submitted: LeadDocument = event.detail.lead;
  const grade: string = submitted.score.grade;
});
document.addEventListener("bantam:scored", (event) => { const total: number = event.detail.total; });
document.addEventListener("bantam:error", (event) => {
  const code: "config" | "mount" | "load" | "delivery" | "queued" | "quarantined" = event.detail.code;
});
export async function start(): Promise<string | undefined> {
  const form = await mount("#lead-form", { config: { formId: "app", preset: "bant", locale: "de" }, variant: "b" });
  await mount(element, { configUrl: "/forms/spring-campaign.json" });
  return form.formId;
}
export const score: Score = lead.score;
`;
  const { status, output } = tsc({ "valid.ts": source });
  assert.equal(status, 0, `tsc rejected valid code:\n${output}`);
});

/** Cases the types must reject beyond invalid-configs.json, each one expression. */
const MISTAKES = [
  ["a misspelt config field (thankyou)", "BantamConfig", { formId: "f", preset: "bant", thankyou: { title: "Thanks" } }],
  ["a misspelt question kind", "BantamConfig", { formId: "f", questions: [{ id: "a", kind: "singlechoice", label: "A" }] }],
  ["options on a text question", "BantamConfig", { formId: "f", questions: [{ id: "a", kind: "text", label: "A", options: [] }] }],
  ["points on a number question", "BantamConfig", { formId: "f", questions: [{ id: "n", kind: "number", label: "N", points: 3 }] }],
  ["a yes/no option other than yes or no", "BantamConfig", { formId: "f", questions: [{ id: "y", kind: "yesNo", label: "Y", options: [{ id: "maybe" }] }] }],
  ["showIf with two operators", "BantamConfig", { formId: "f", questions: [{ id: "a", kind: "yesNo", label: "A" }, { id: "b", kind: "text", label: "B", showIf: { question: "a", equals: "yes", answered: true } }] }],
  ["a theme key that does not exist", "BantamConfig", { formId: "f", preset: "bant", theme: { accentColor: "#000" } }],
  ["mount options with both config and configUrl", "MountOptions", { config: { formId: "f" }, configUrl: "/forms/f.json" }],
  ["a misspelt mount option", "MountOptions", { configURL: "/forms/f.json" }],
  ["a lead without its score", "LeadDocument", { ...JSON.parse(json("tests/data/lead-v1.json")), score: undefined }],
  ["a lead with an unknown field", "LeadDocument", { ...JSON.parse(json("tests/data/lead-v1.json")), grade: "hot" }],
];

// The shape rejections of invalid-configs.json (unknown or missing fields, wrong types, unknown
// choices) are compile errors too; the rest (ranges, references, texts) only the engine sees.
const SHAPE = new RegExp([
  "unknown field `", "missing field `", "unknown variant `", "unknown theme key", "is not a colour scheme",
  "needs exactly one of", "^questions\\[\\d+\\]\\.options: .*`options` is only for", "yes/no options must have id",
  "unknown preset", "expected (?!a whole number|a number)[^:]*?, found", "expected a (?:whole )?number[^:]*?, found (?!number)",
  ': expected (?:a string|a field name or null|an object from option id to value, .*)$',
].join("|"));
// Shape rejections the types cannot see, by name, and why.
const NOT_SHAPE = {};

test("the types reject misspelt fields and the engine's shape errors: a typo fails to compile", () => {
  const cases = JSON.parse(json("tests/data/invalid-configs.json"));
  const lines = ['import type { BantamConfig, LeadDocument, MountOptions } from "bantam-form";'];
  const expected = new Map(); // line -> name
  const compiles = new Map();
  cases.forEach((c, i) => {
    lines.push(`export const invalid${i}: BantamConfig = ${JSON.stringify(c.config)};`);
    const shape = SHAPE.test(c.error) && !NOT_SHAPE[c.name];
    (shape ? expected : compiles).set(lines.length, `invalid-configs.json: ${c.name} (${c.error.slice(0, 80)})`);
  });
  MISTAKES.forEach(([name, type, value], i) => {
    lines.push(`export const mistake${i}: ${type} = ${JSON.stringify(value)};`);
    expected.set(lines.length, name);
  });
  const { errors, output } = tsc({ "invalid.ts": lines.join("\n") + "\n" });
  const failing = new Set(errors.map((e) => e.line));
  const missed = [...expected].filter(([line]) => !failing.has(line)).map(([, name]) => name);
  assert.deepEqual(missed, [], `the types accept these mistakes:\n${missed.join("\n")}`);
  const stricter = [...compiles].filter(([line]) => failing.has(line)).map(([, name]) => name);
  assert.deepEqual(stricter, [], `these rejections are compile errors too: add them to SHAPE\n${stricter.join("\n")}\n${output}`);
  assert.ok(expected.size > 30, `only ${expected.size} cases checked`);
  const typo = errors.find((e) => e.line === [...expected].find(([, n]) => n.includes("thankyou"))[0]);
  assert.match(typo.text, /'"?thankyou"?' does not exist in type 'BantamConfig'/);
});

/** String literals of a Rust array or argument list, such as `&["a", "b"]`. */
const literals = (text) => [...text.matchAll(/"([^"]+)"/g)].map((m) => m[1]);

test("the types name exactly the fields, kinds and choices the engine reads", () => {
  const read = readFileSync(join(ROOT, "engine/src/read.rs"), "utf8");
  const config = readFileSync(join(ROOT, "engine/src/config.rs"), "utf8");
  const texts = readFileSync(join(ROOT, "engine/src/texts.rs"), "utf8");
  const form = readFileSync(join(ROOT, "engine/src/form.rs"), "utf8");
  const delivery = readFileSync(join(ROOT, "engine/src/delivery.rs"), "utf8");
  const attribution = readFileSync(join(ROOT, "engine/src/attribution.rs"), "utf8");
  // The reader's objects (`Object::new(value, path, &[fields])`) by the item that reads them.
  const TYPES = {
    FormConfig: "BantamConfig",
    QuestionConfig: "QuestionConfig",
    TranslationConfig: "TranslationConfig",
    QuestionTranslationConfig: "QuestionTranslation",
    option_text: 'NonNullable<QuestionTranslation["options"]>[number]',
    range_text: 'NonNullable<QuestionTranslation["ranges"]>[number]',
    OptionConfig: "OptionConfig | YesNoOptionConfig",
    RangeConfig: "RangeConfig",
    ConditionConfig: "ShowIf",
    WeightsConfig: "WeightsConfig",
    GradeConfig: "GradeConfig",
    ThankYouConfig: "ThankYouConfig",
    DeliveryConfig: "DeliveryConfig",
    value_map: "ValueBand",
    SpamConfig: "SpamConfig",
    ScoringConfig: "ScoringConfig",
    SignalConfig: "SignalConfig",
  };
  const checks = [];
  const check = (what, type, names) => checks.push([what, `Same<AllKeys<${type}>, ${names.map((n) => JSON.stringify(n)).join(" | ")}>`]);
  const checkValues = (what, type, names) => checks.push([what, `Same<${type}, ${names.map((n) => JSON.stringify(n)).join(" | ")}>`]);
  for (const block of read.split(/\n(?=impl |fn |pub fn )/)) {
    const name = block.match(/^(?:impl|fn|pub fn) (\w+)/)?.[1];
    for (const m of block.matchAll(/Object::new\(\s*\w+,\s*[^,]+,\s*&\[([^\]]*)\]/g)) {
      assert.ok(TYPES[name], `engine/src/read.rs reads an object in ${name}: name its type in this test's TYPES`);
      check(`read.rs ${name}`, TYPES[name], literals(m[1]));
    }
  }
  assert.equal(checks.length, Object.keys(TYPES).length, "every object the reader reads is checked");
  checkValues("question kinds (read.rs KINDS)", "QuestionKind", [...read.matchAll(/\("(\w+)", KindName::/g)].map((m) => m[1]));
  checkValues("kinds of QuestionConfig", 'NonNullable<QuestionConfig["kind"]>', [...read.matchAll(/\("(\w+)", KindName::/g)].map((m) => m[1]));
  checkValues("categories (form.rs)", "Category", [...form.matchAll(/Category::\w+ => "(\w+)"/g)].map((m) => m[1]));
  checkValues("delivery formats (delivery.rs)", 'NonNullable<DeliveryConfig["format"]>', [...delivery.matchAll(/\("(\w+)", Format::/g)].map((m) => m[1]));
  checkValues("spam actions (read.rs)", 'NonNullable<SpamConfig["action"]>', literals(read.match(/choice\("action", &\[([^\]]*)\]/)[1]));
  check("theme keys (config.rs THEME_KEYS)", "ThemeConfig", literals(config.match(/THEME_KEYS: \[&str; \d+\] = \[([^\]]*)\]/)[1]));
  checkValues("colour schemes (config.rs)", 'NonNullable<ThemeConfig["scheme"]>', literals(config.match(/key == "scheme" && !matches!\(value\.as_str\(\), ([^)]*)\)/)[1]));
  check("interface texts (texts.rs)", "TextsConfig", [...texts.matchAll(/^\s+\w+ "(\w+)":/gm)].map((m) => m[1]));
  checkValues("click ids (attribution.rs)", "ClickId", literals(attribution.match(/CLICK_IDS: \[&str; \d+\] = \[([^\]]*)\]/)[1]));
  const source = `import type * as B from "bantam-form";
type BantamConfig = B.BantamConfig; type QuestionConfig = B.QuestionConfig; type TranslationConfig = B.TranslationConfig;
type QuestionTranslation = B.QuestionTranslation; type OptionConfig = B.OptionConfig; type YesNoOptionConfig = B.YesNoOptionConfig;
type RangeConfig = B.RangeConfig; type ShowIf = B.ShowIf; type WeightsConfig = B.WeightsConfig; type GradeConfig = B.GradeConfig;
type ThankYouConfig = B.ThankYouConfig; type DeliveryConfig = B.DeliveryConfig; type ValueBand = B.ValueBand;
type SpamConfig = B.SpamConfig; type ThemeConfig = B.ThemeConfig; type TextsConfig = B.TextsConfig; type QuestionKind = B.QuestionKind;
type Category = B.Category; type ClickId = B.ClickId; type ScoringConfig = B.ScoringConfig; type SignalConfig = B.SignalConfig;
type AllKeys<T> = T extends unknown ? keyof T : never;
type Same<A, B> = [A] extends [B] ? ([B] extends [A] ? true : false) : false;
${checks.map(([what, same], i) => `// ${what}\nexport const check${i}: ${same} = true;`).join("\n")}
`;
  const { status, errors, output } = tsc({ "fields.ts": source });
  const lines = source.split("\n");
  const mismatched = errors.map((e) => lines[e.line - 2]);
  assert.equal(status, 0, `the types and the engine disagree on:\n${mismatched.join("\n")}\n${output}`);
});

// ---------------------------------------------------------------------------------------------
// In Chromium, against a collector serving the bundled examples

/** Builds the examples from the installed package, serves them with a collector, opens Chromium. */
async function site() {
  if (collector) return collector;
  const www = join(work, "www");
  await buildExamples(www, [join(app, "node_modules"), join(ROOT, "tools/node_modules")]);
  // The classic loader, straight from the package's files: it carries the module, and loads
  // only the wasm beside it.
  mkdirSync(join(www, "embed"));
  for (const file of ["embed.js", "bantam_core_bg.wasm"]) {
    copyFileSync(join(app, "node_modules/bantam-form", file), join(www, "embed", file));
  }
  writeFileSync(join(www, "embed/index.html"), `<!doctype html><html lang="en"><head><meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="default-src 'self'; script-src 'self' 'wasm-unsafe-eval'; style-src 'self'; img-src data:">
<link rel="icon" href="data:,"><title>Classic loader</title></head><body><main><div id="lead-form"></div>
<script src="embed.js" data-target="#lead-form" data-config-url="/forms/quote.json" async></script></main></body></html>`);
  const child = spawn(BIN, ["--listen", "127.0.0.1:0", "--db", join(work, "leads.db"), "--www", www,
    "--forms", join(ROOT, "examples/forms"), "--admin-token", TOKEN, "--rate-limit", "0"], { stdio: ["ignore", "pipe", "pipe"] });
  let out = "";
  child.stdout.on("data", (d) => { out += d; });
  child.stderr.on("data", (d) => { out += d; });
  const url = await until(() => out.match(/listening on (http:\/\/[^ ]+)\//)?.[1], "the collector to listen", 10000);
  browser = await chromium.launch({ executablePath: "/usr/bin/chromium", args: CHROMIUM_ARGS });
  collector = { url, child, log: () => out };
  return collector;
}

/** Opens a page of the site in a fresh context; records console errors and warnings. */
async function open(path) {
  const { url } = await site();
  const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
  const page = await context.newPage();
  const problems = [];
  page.on("console", (msg) => {
    if (msg.type() === "error" || msg.type() === "warning") problems.push(`${msg.type()}: ${msg.text()}`);
  });
  page.on("pageerror", (err) => problems.push(`pageerror: ${err.message}`));
  await page.addInitScript(() => {
    window.bantamEvents = [];
    for (const name of ["ready", "submit", "delivered", "error"]) {
      document.addEventListener(`bantam:${name}`, (e) => window.bantamEvents.push({ name, detail: e.detail }));
    }
  });
  await page.goto(url + path);
  return { page, context, problems };
}

/** Runs axe-core (WCAG 2.0/2.1 A and AA) on the element's form; asserts no violations. */
async function assertAccessible(page, step) {
  await page.evaluate(AXE_SOURCE);
  const violations = await page.evaluate(async () => {
    const result = await window.axe.run({ include: [["bantam-form"]] },
      { runOnly: { type: "tag", values: ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"] } });
    return result.violations.map((v) => ({ id: v.id, help: v.help, nodes: v.nodes.map((n) => n.target.join(" ")) }));
  });
  assert.deepEqual(violations, [], `axe found problems on ${step}: ${JSON.stringify(violations, null, 2)}`);
}

/** The stored record of the lead with this email, once delivered. */
async function storedOf(email) {
  return until(async () => {
    const response = await fetch(`${collector.url}/v1/leads`, { headers: { Authorization: `Bearer ${TOKEN}` } });
    assert.equal(response.status, 200);
    return (await response.json()).leads.find((l) => l.lead.contact.email === email);
  }, `the lead of ${email} in the collector`);
}

/** How many `bantam:ready` events the page has seen. */
const readyCount = (page) => page.evaluate(() => window.bantamEvents.filter((e) => e.name === "ready").length);

test("plain HTML example: <bantam-form form-id> mounts, is axe-clean, and its lead reaches the collector", async () => {
  const { page, context, problems } = await open("/html/");
  await page.locator("bantam-form #b-email").waitFor();
  await assertAccessible(page, "step 1");
  const email = `html+${Date.now()}@acme.io`;
  await page.getByLabel("Work email").fill(email);
  await page.getByLabel("Company").fill("Acme");
  await page.getByLabel("Over $250k").check();
  await page.locator("button.nx").click();
  await page.getByLabel("I make the decision").check();
  await assertAccessible(page, "step 2");
  await page.getByLabel("This month").check();
  await page.getByLabel(/I agree/).check();
  await page.locator("button.nx").click();
  await page.locator(".ty").waitFor();
  await assertAccessible(page, "the thank-you step");
  await page.getByText("Thanks! Your request is graded hot.").waitFor();
  const stored = await storedOf(email);
  assert.equal(stored.lead.formId, "spring-campaign");
  assert.equal(stored.lead.context.variant, "html-example");
  assert.equal(stored.scoreMismatch, false);
  assert.deepEqual(problems, []);
  await context.close();
});

test("React example: the config property mounts the form, the effect hears bantam:submit, unmounting removes it", async () => {
  const { page, context, problems } = await open("/react/");
  await page.locator("bantam-form #b-email").waitFor();
  await assertAccessible(page, "the form");
  // StrictMode runs effects twice; the element still holds exactly one form.
  assert.equal(await page.locator("bantam-form [data-bantam]").count(), 1);
  const email = `react+${Date.now()}@acme.io`;
  await page.getByLabel("Work email").fill(email);
  await page.getByLabel("How many people will use it?").fill("120");
  await page.locator("button.nx").click();
  await page.locator(".ty").waitFor();
  await page.getByText("Thanks! Your request is graded hot.").waitFor();
  const stored = await storedOf(email);
  assert.equal(stored.lead.formId, "app-signup");
  assert.equal(stored.lead.context.variant, "react-example");
  assert.equal(stored.lead.answers.seats, 120);
  await page.getByRole("button", { name: "Hide the form" }).click();
  await until(() => page.evaluate(() => !document.querySelector("bantam-form") && !document.querySelector("[data-bantam]")), "the form to go");
  await page.getByRole("button", { name: "Show the form" }).click();
  // Mounted again, for a visitor it knows now: nothing left to ask, only "send".
  await until(async () => (await readyCount(page)) === 2, "a second bantam:ready");
  await page.locator("bantam-form button.nx").waitFor();
  assert.equal(await page.locator("bantam-form #b-email").count(), 0);
  assert.deepEqual(problems, []);
  await context.close();
});

test("Vue example: a locale change mounts the form again in German, and its lead arrives", async () => {
  const { page, context, problems } = await open("/vue/");
  await page.locator("bantam-form #b-email").waitFor();
  await assertAccessible(page, "the form in English");
  const send = page.locator("bantam-form button.nx");
  assert.equal(await send.textContent(), "Send");
  await page.evaluate(() => { window.first = document.querySelector("[data-bantam]"); });
  await page.getByLabel("Language").selectOption("de");
  await until(async () => (await readyCount(page)) === 2, "a second bantam:ready");
  assert.notEqual(await send.textContent(), "Send");
  assert.equal(await page.locator("bantam-form [data-bantam]").count(), 1);
  assert.equal(await page.evaluate(() => window.first.isConnected), false, "the English form is gone");
  await assertAccessible(page, "the form in German");
  const email = `vue+${Date.now()}@acme.io`;
  await page.locator("bantam-form #b-email").fill(email);
  await page.locator("bantam-form #b-company").fill("Acme");
  await page.locator("bantam-form input[type=checkbox]").check();
  await send.click();
  await page.locator(".ty").waitFor();
  await page.getByText(/Thanks! Your request is graded/).waitFor();
  const stored = await storedOf(email);
  assert.equal(stored.lead.formId, "quote");
  assert.equal(stored.lead.locale, "de");
  assert.equal(stored.lead.context.variant, "vue-example");
  assert.deepEqual(problems, []);
  await context.close();
});

test("<bantam-form>: a move keeps the form, an attribute or config change mounts it again, removal leaves nothing", async () => {
  const { page, context, problems } = await open("/html/");
  await page.locator("bantam-form #b-email").waitFor();
  const cdp = await context.newCDPSession(page);
  /** Event listeners on the object `expression` evaluates to and everything inside it (shadow roots too). */
  const listeners = async (expression) => {
    const { result } = await cdp.send("Runtime.evaluate", { expression });
    const { listeners: found } = await cdp.send("DOMDebugger.getEventListeners", { objectId: result.objectId, depth: -1, pierce: true });
    await cdp.send("Runtime.releaseObject", { objectId: result.objectId });
    return found.map((l) => l.type).sort();
  };
  const host = () => page.evaluate(() => window.host = document.querySelector("bantam-form [data-bantam]"));
  await host();
  assert.ok((await listeners("window.host")).length > 0, "the form listens to its controls");

  // Moved within the document in one go: the same form stays.
  await page.evaluate(() => document.body.append(document.querySelector("bantam-form")));
  await page.evaluate(() => new Promise((r) => setTimeout(r, 0)));
  assert.equal(await page.evaluate(() => document.querySelector("bantam-form [data-bantam]") === window.host), true, "a move keeps the form");
  assert.equal(await readyCount(page), 1);

  // Attribute changes mount again (several at once: once).
  await page.evaluate(() => {
    const element = document.querySelector("bantam-form");
    element.setAttribute("variant", "changed");
    element.setAttribute("locale", "de");
  });
  await until(async () => (await readyCount(page)) === 2, "a second bantam:ready");
  await page.locator("bantam-form #b-email").waitFor();
  assert.equal(await page.evaluate(() => window.host.isConnected), false, "the old form is gone");
  assert.equal(await page.locator("bantam-form [data-bantam]").count(), 1);
  assert.notEqual(await page.locator("bantam-form button.nx").textContent(), "Next", "the form is in German now");
  assert.equal(await page.evaluate(() => document.querySelector("bantam-form").form.formId), "spring-campaign");

  // A config object wins over the attributes.
  await page.evaluate(() => {
    document.querySelector("bantam-form").config = { formId: "by-property", questions: [{ id: "email", kind: "email", label: "Email" }] };
  });
  await until(() => page.evaluate(() => document.querySelector("bantam-form").form?.formId === "by-property"), "the config property's form");
  assert.equal(await readyCount(page), 3);
  assert.equal(await page.locator("bantam-form [data-bantam]").count(), 1);

  // Out of the document: destroyed, nothing left on the element or listening, every time.
  const counts = [];
  for (let round = 0; round < 3; round++) {
    await host();
    await page.evaluate(() => {
      window.element = document.querySelector("bantam-form");
      window.element.remove();
    });
    await until(() => page.evaluate(() => window.element.form === null && !window.host.isConnected), "the form to be destroyed");
    assert.equal(await page.evaluate(() => window.element.childNodes.length), 0, "nothing left in the element");
    assert.equal(await page.evaluate(() => document.querySelectorAll("[data-bantam]").length), 0);
    // The example page's own listener stays; the form's are gone.
    assert.deepEqual(await listeners("window.element"), ["bantam:submit"], "no listener of the form left on the element or in it");
    counts.push([await listeners("window"), await listeners("document")]);
    await page.evaluate(() => document.querySelector("main").append(window.element));
    await until(async () => (await readyCount(page)) === 4 + round, "the form back");
  }
  assert.deepEqual(counts[2], counts[0], "listeners on the window and document do not pile up");

  // A bad config: one console error naming the field, bantam:error on the element, no form.
  await page.evaluate(() => { document.querySelector("bantam-form").config = { formId: "bad", preset: "bant", thankyou: {} }; });
  const error = await until(() => page.evaluate(() => window.bantamEvents.find((e) => e.name === "error")?.detail), "bantam:error");
  assert.equal(error.code, "config");
  assert.equal(error.path, "config.thankyou");
  assert.equal(await page.locator("bantam-form [data-bantam]").count(), 0);
  assert.deepEqual(problems.filter((p) => !p.includes("config.thankyou")), []);
  assert.equal(problems.length, 1, problems.join("\n"));
  await context.close();
});

test("the package's classic loader (embed.js) mounts a form from its data attributes", async () => {
  const { page, context, problems } = await open("/embed/");
  await page.locator("#lead-form #b-email").waitFor();
  assert.deepEqual(problems, []);
  await context.close();
});
