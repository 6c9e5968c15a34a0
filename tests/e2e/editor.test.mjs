// The form editor in Chromium (issue 12), driven as a marketer would: a form made from the BANT
// preset, trimmed and given a question of its own with options and points; the live preview
// (the real widget in a frame) and the score simulator (the engine in the browser) follow each
// change; an invalid form shows the engine's message at the field and cannot be published; the
// published version is the file on disk and what `/forms/` serves, and a lead a visitor sends
// through the widget is scored by it, as the simulator said. Questions move by keyboard and by
// drag; the JSON view round-trips every fixture config. axe-core checks every state of the
// editor and of the preview; screenshots go to target/screenshots/.
//
// The test starts its own collector (BANTAM_BIN) with a forms folder of its own.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { createRequire } from "node:module";
import { spawn } from "node:child_process";
import { mkdtempSync, mkdirSync, readFileSync, readdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { tools, chromium, AXE_SOURCE, ROOT, BIN, WWW, SHOTS, CHROMIUM_ARGS, until, signedInContext } from "./support.mjs";

const TOKEN = "editor-e2e-token";
const FORM = "editor-e2e";

let browser;
let collector; // {url, dir, child, log}
before(async () => {
  const dir = mkdtempSync(join(tmpdir(), "bantam-editor-e2e-"));
  mkdirSync(join(dir, "forms"));
  const child = spawn(BIN, ["--listen", "127.0.0.1:0", "--db", join(dir, "leads.db"), "--www", WWW,
    "--forms", join(dir, "forms"), "--admin-token", TOKEN, "--rate-limit", "0"], { stdio: ["ignore", "pipe", "pipe"] });
  let out = "";
  child.stdout.on("data", (d) => { out += d; });
  child.stderr.on("data", (d) => { out += d; });
  const url = await until(() => out.match(/listening on (http:\/\/[^ ]+)\//)?.[1], "the collector to listen", 30000);
  collector = { url, dir, child, log: () => out };
  browser = await chromium.launch({ executablePath: "/usr/bin/chromium", args: CHROMIUM_ARGS });
  mkdirSync(SHOTS, { recursive: true });
  // The form, made from the preset as the forms page makes it.
  const made = await api("/v1/forms", { method: "POST", body: { id: FORM, from: "preset" } });
  assert.equal(made.status, 201, JSON.stringify(made.json));
});
after(async () => {
  await browser?.close();
  collector?.child.kill();
  if (collector) rmSync(collector.dir, { recursive: true, force: true });
});

async function api(path, { method = "GET", body } = {}) {
  const response = await fetch(collector.url + path, {
    method,
    headers: { Authorization: `Bearer ${TOKEN}`, ...(body ? { "content-type": "application/json" } : {}) },
    body: body ? JSON.stringify(body) : undefined,
  });
  return { status: response.status, json: await response.json().catch(() => null) };
}

/** The editor of the test's form, signed in as the admin; console errors kept. */
async function openEditor(width = 1280, height = 800) {
  const context = await signedInContext(browser, collector.url, TOKEN, { viewport: { width, height } });
  const page = await context.newPage();
  const errors = [];
  page.on("console", (msg) => { if (msg.type() === "error") errors.push(msg.text()); });
  page.on("pageerror", (err) => errors.push(`pageerror: ${err.message}`));
  await page.goto(`${collector.url}/inbox/forms/${FORM}/edit`);
  await page.locator("#summary").filter({ hasText: "The form is valid" }).waitFor();
  await preview(page).locator("[data-bantam]").waitFor({ state: "attached" });
  return { context, page, errors };
}

const preview = (page) => page.frameLocator("#preview");

/** axe-core (WCAG 2.0/2.1 A and AA) on a page or frame: its violations. */
async function axe(target, options = {}) {
  await target.evaluate(AXE_SOURCE);
  return target.evaluate(async (options) => {
    const result = await window.axe.run(document, { runOnly: { type: "tag", values: ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"] }, ...options });
    return result.violations.map((v) => ({ id: v.id, help: v.help, nodes: v.nodes.map((n) => n.target.join(" ")) }));
  }, options);
}

/** axe on the editor and on the preview frame's page: no violations in either. */
async function assertAccessible(page, state) {
  assert.deepEqual(await axe(page, { iframes: false }), [], `axe on the editor: ${state}`);
  const frame = page.frame({ url: /\/preview$/ });
  assert.deepEqual(await axe(frame), [], `axe on the preview: ${state}`);
}

/** The input bound to a config path. */
const field = (page, path) => page.locator(`[data-path="${path}"]`).and(page.locator("input, select, textarea"));

/** The simulator's total, once the engine has scored. */
async function simTotal(page) {
  return Number(await page.locator("#sim-total").textContent());
}

/** Waits for the editor to check the draft (its summary says valid or not). */
async function settled(page, valid) {
  await page.locator("#summary").filter({ hasText: valid ? "The form is valid" : "The form has an error" }).waitFor();
}

test("the editor: a question with options and points, preview and simulator follow, an invalid form is refused at the field, publish, a lead scored by the new version", async () => {
  const { context, page, errors } = await openEditor();
  await assertAccessible(page, "loaded");
  await page.screenshot({ path: join(SHOTS, "editor-loaded.png") });

  // Trim the preset to email, company and budget.
  for (const id of ["role", "timeframe", "need", "headcount", "consent"]) {
    await page.getByRole("button", { name: `Remove ${id} from the form` }).click();
    await page.getByRole("button", { name: `Restore ${id}` }).waitFor();
  }
  // Spam: no minimum fill time, so the test's quick visitor is not flagged.
  await field(page, "spam.minFillSeconds").fill("0");
  await settled(page, true);
  const before = await simTotal(page);

  // A question of our own: one choice, two options with points, asked early.
  await page.getByRole("button", { name: "Add a question" }).click();
  const label = field(page, "questions[0].label");
  await label.waitFor();
  assert.equal(await label.evaluate((el) => el === document.activeElement), true, "the new question's label has the focus");
  await label.fill("Which plan fits?");
  await field(page, "questions[0].id").fill("plan");
  await field(page, "questions[0].options[0].id").fill("starter");
  await field(page, "questions[0].options[0].label").fill("Starter");
  await field(page, "questions[0].options[0].points").fill("5");
  await page.getByRole("button", { name: "Add an option to question 1" }).click();
  await field(page, "questions[0].options[1].label").waitFor();
  await field(page, "questions[0].options[1].id").fill("enterprise");
  await field(page, "questions[0].options[1].label").fill("Enterprise");
  await field(page, "questions[0].options[1].points").fill("40");
  await page.locator("fieldset.q summary").first().click();
  await field(page, "questions[0].priority").fill("5");
  await field(page, "questions[0].category").selectOption("need");
  await settled(page, true);

  // The preview shows the new question (on whichever step the engine puts it).
  const steps = await page.locator("#show option[value^='step:']").evaluateAll((o) => o.map((x) => x.value));
  assert.ok(steps.length >= 1);
  let found = false;
  for (const step of steps) {
    await page.locator("#show").selectOption(step);
    await until(async () => (await page.frame({ url: /\/preview$/ }).evaluate(() => document.body.dataset.shown)) === JSON.stringify({ step: Number(step.slice(5)) }), `the preview on ${step}`);
    if (await preview(page).getByText("Which plan fits?").count()) {
      found = true;
      await preview(page).getByLabel("Enterprise").waitFor();
      break;
    }
  }
  assert.ok(found, "the preview's widget renders the new question");
  await assertAccessible(page, "a question added");
  await page.screenshot({ path: join(SHOTS, "editor-question-added.png") });

  // The simulator scores with the draft: choosing Enterprise raises the total.
  await page.locator("#sim-plan").waitFor();
  await page.locator("#sim-email").fill("ann@acme.io");
  await page.locator("#sim-company").fill("Acme");
  await page.locator("#sim-budget").selectOption("over-250k");
  const withoutPlan = await simTotal(page);
  await page.locator("#sim-plan").selectOption("enterprise");
  await until(async () => (await simTotal(page)) > withoutPlan, "the simulator's total to rise with Enterprise");
  const simulated = { total: await simTotal(page), grade: await page.locator("#sim-grade").textContent() };
  assert.ok(simulated.total > before, `${simulated.total} > ${before}`);
  await page.locator("#sim-result").getByText(/Enterprise/).first().waitFor();
  await page.locator(".sim").screenshot({ path: join(SHOTS, "editor-simulator.png") });

  // Preview at phone width, and the thank-you step of the best grade.
  await page.getByLabel("Phone (390 px)").check();
  const frameWidth = await page.locator("#preview").evaluate((el) => el.getBoundingClientRect().width);
  assert.equal(Math.round(frameWidth), 390);
  await page.getByText("Thank-you step for Hot leads").click();
  await field(page, "thankYouByGrade.hot.title").fill("Let's talk this week!");
  await page.locator("#show").selectOption("grade:hot");
  await preview(page).getByRole("heading", { name: "Let's talk this week!" }).waitFor();
  await assertAccessible(page, "the hot thank-you, phone width");
  await page.locator(".preview-box").screenshot({ path: join(SHOTS, "editor-preview-phone.png") });
  await page.getByLabel("Desktop").check();
  await page.locator("#show").selectOption("step:1");
  await page.locator(".preview-box").screenshot({ path: join(SHOTS, "editor-preview-desktop.png") });

  // Invalid: two options with one id. The engine's message at that field, Publish disabled.
  await field(page, "questions[0].options[1].id").fill("starter");
  await settled(page, false);
  const bad = field(page, "questions[0].options[1].id");
  assert.equal(await bad.getAttribute("aria-invalid"), "true");
  const described = await bad.getAttribute("aria-describedby");
  const message = await page.locator(`#${described.split(" ").find((id) => id.startsWith("msg-"))}`).textContent();
  assert.match(message, /option "starter" appears twice/);
  assert.ok(await page.locator(`[data-path="questions[0].options[1].id"] ~ .msg.error`).isVisible(), "the message is shown next to the field");
  assert.equal(await page.locator("#publish").isDisabled(), true, "Publish is disabled while the engine reports an error");
  await page.locator("#summary").getByRole("link", { name: "questions[0].options[1].id" }).click();
  assert.equal(await bad.evaluate((el) => el === document.activeElement), true, "the summary's link takes the focus to the field");
  await assertAccessible(page, "an error");
  await page.screenshot({ path: join(SHOTS, "editor-error.png") });
  // An empty label: its own message, at the label.
  await field(page, "questions[0].options[1].id").fill("enterprise");
  await label.fill("");
  await until(async () => (await label.getAttribute("aria-invalid")) === "true", "the message at the emptied label");
  assert.match(await page.locator("#summary").textContent(), /needs a `label`/);
  await label.fill("Which plan fits?");
  await settled(page, true);
  assert.equal(await page.locator("#publish").isDisabled(), false);

  // The server refuses an invalid config too (the editor can be bypassed, the API cannot).
  const draft = await page.evaluate(() => JSON.parse(JSON.stringify(window.bantamEditor.config())));
  const refused = await api(`/v1/forms/${FORM}/versions`, {
    method: "POST", body: { config: { ...draft, questions: [{ ...draft.questions[0], label: "" }] }, basedOn: 1 },
  });
  assert.equal(refused.status, 422);

  // Publish.
  await page.getByLabel("Note for the history (optional)").fill("A plan question");
  await page.locator("#publish").click();
  await page.locator("#publish-result").getByText("Published version 2.").waitFor();
  assert.equal(await page.locator("#publish-result a").getAttribute("href"), `/inbox/forms/${FORM}`);
  const onDisk = JSON.parse(readFileSync(join(collector.dir, "forms", `${FORM}.json`), "utf8"));
  assert.deepEqual(onDisk, draft, "the file holds the published draft");
  const served = await (await fetch(`${collector.url}/forms/${FORM}.json`)).json();
  assert.deepEqual(served, draft, "/forms/ serves it");
  const history = await api(`/v1/forms/${FORM}/versions`);
  assert.equal(history.json[0].note, "A plan question");

  // A visitor's lead, sent through the widget, is scored by the new version as simulated.
  const visitor = await browser.newContext();
  const host = await visitor.newPage();
  const visitorErrors = [];
  host.on("console", (msg) => { if (msg.type() === "error") visitorErrors.push(msg.text()); });
  await visitor.route(`${collector.url}/visit.html`, (route) => route.fulfill({ contentType: "text/html", body: `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Visit</title><link rel="icon" href="data:,"></head><body><main><div id="f"></div>
<script src="/dist/embed.js" data-target="#f" data-config-url="/forms/${FORM}.json" async></script></main></body></html>` }));
  await host.goto(`${collector.url}/visit.html`);
  await host.getByLabel("Work email").waitFor();
  const email = `plan+${Date.now()}@acme.io`;
  for (let step = 0; step < 4 && !(await host.locator(".ty").count()); step++) {
    if (await host.getByLabel("Work email").count()) await host.getByLabel("Work email").fill(email);
    if (await host.getByLabel("Company").count()) await host.getByLabel("Company").fill("Acme");
    if (await host.getByLabel("Over $250k").count()) await host.getByLabel("Over $250k").check();
    if (await host.getByLabel("Enterprise").count()) await host.getByLabel("Enterprise").check();
    await host.locator("button.nx").click();
    await until(async () => (await host.locator(".ty").count()) || (await host.locator("#b-st").textContent()) !== `Step ${step + 1} of 2`, "the next step");
  }
  await host.locator(".ty").waitFor();
  assert.deepEqual(visitorErrors, []);
  await visitor.close();
  const stored = await until(async () => (await api("/v1/leads")).json.leads.find((l) => l.lead.contact?.email === email), "the lead in the collector");
  assert.equal(stored.lead.answers.plan, "enterprise");
  assert.equal(stored.lead.score.total, simulated.total, "the collector's score is the simulator's");
  assert.equal(stored.formVersion, 2);

  // What would this change do: Enterprise worth nothing turns that hot lead warm.
  await field(page, "questions[0].options[1].points").fill("0");
  await settled(page, true);
  await page.getByRole("button", { name: "What would this change do?" }).click();
  await page.locator("#impact-result").getByText("1 of 1 stored leads change grade: hot → warm 1.").waitFor();
  await page.locator(".sim").screenshot({ path: join(SHOTS, "editor-impact.png") });
  await field(page, "questions[0].options[1].points").fill("40");
  await page.getByRole("button", { name: "What would this change do?" }).click();
  await page.locator("#impact-result").getByText("0 of 1 stored leads change grade.").waitFor();
  // A draft without the option the lead chose cannot read it: said.
  await page.getByRole("button", { name: "Remove option 2" }).click();
  await settled(page, true);
  await page.getByRole("button", { name: "What would this change do?" }).click();
  await page.locator("#impact-result").getByText("1 of them have answers the draft cannot read", { exact: false }).waitFor();

  // Someone publishes meanwhile: the editor's next publish is refused with a 409, said clearly.
  const other = await api(`/v1/forms/${FORM}/versions`, { method: "POST", body: { config: draft, basedOn: 2, note: "elsewhere" } });
  assert.equal(other.status, 201);
  await field(page, "title").fill("Plans and prices");
  await settled(page, true);
  await page.locator("#publish").click();
  await page.locator("#publish-result").getByText(/Not published: .*reload the editor/).waitFor();
  await assertAccessible(page, "a refused publish");
  assert.deepEqual(errors.filter((e) => !e.includes("409")), []);
  await context.close();
});

test("questions move with Alt+Arrow keys, the Up and Down buttons, and by drag", async () => {
  const { context, page, errors } = await openEditor();
  const ids = () => page.evaluate(() => window.bantamEditor.config().questions.map((q) => q.id));
  const start = (await page.evaluate(() => (window.bantamEditor.config().questions || []).length));
  for (let n = 0; n < 3; n++) {
    await page.getByRole("button", { name: "Add a question" }).click();
    await field(page, `questions[${start + n}].label`).fill(`Question ${n}`);
  }
  const before = await ids();
  const last = before.length - 1;
  // Alt+ArrowUp in the last question's label: it moves up, and the focus stays in its label.
  await field(page, `questions[${last}].label`).focus();
  await page.keyboard.press("Alt+ArrowUp");
  await until(async () => (await ids())[last - 1] === before[last], "the question to move up");
  assert.equal(await page.evaluate(() => document.activeElement.dataset.path), `questions[${last - 1}].label`);
  assert.equal(await page.locator("#announce").textContent(), `Question moved to position ${last}.`);
  await page.keyboard.press("Alt+ArrowDown");
  await until(async () => JSON.stringify(await ids()) === JSON.stringify(before), "the question to move back down");
  // The Down button of the first question.
  await page.getByRole("button", { name: `Move question ${last - 1} down` }).click();
  await until(async () => (await ids())[last - 1] === before[last - 2], "the Down button to move it");
  // Drag the last question's handle onto the first of ours (the drag events a browser fires,
  // with one DataTransfer through them).
  const now = await ids();
  await page.evaluate(([from, to]) => {
    const data = new DataTransfer();
    const fire = (el, type) => el.dispatchEvent(new DragEvent(type, { bubbles: true, cancelable: true, dataTransfer: data }));
    const handle = document.querySelectorAll("fieldset.q .handle")[from];
    const target = document.querySelectorAll("fieldset.q")[to].querySelector("legend");
    fire(handle, "dragstart");
    fire(target, "dragenter");
    fire(target, "dragover");
    fire(target, "drop");
    fire(handle, "dragend");
  }, [last, start]);
  await until(async () => (await ids())[start] === now[last], "the drag to move it");
  await assertAccessible(page, "questions added and moved");
  assert.deepEqual(errors, []);
  await context.close();
});

test("translations and delivery values are fields too", async () => {
  const { context, page, errors } = await openEditor();
  await page.getByLabel("New language").fill("de");
  await page.getByRole("button", { name: "Add a translation" }).click();
  await page.getByRole("button", { name: "Translate question email into de" }).click();
  await field(page, "translations.de.questions[0].label").fill("Geschäftliche E-Mail");
  await page.getByRole("button", { name: "Translate question budget into de" }).click();
  await page.getByRole("button", { name: "Translate the options of budget into de" }).click();
  await field(page, "translations.de.questions[1].options[4].label").fill("Über 250.000 $");
  await field(page, "delivery.format").selectOption("form");
  await field(page, "endpoint").fill("https://crm.example.com/leads");
  await field(page, "delivery.values.budget.over-250k").fill("250k+");
  // Bands for a number: two, the second with a min not above the first's (the engine says so).
  // (The first test removed the preset's number question from the form: back it comes.)
  const restore = page.getByRole("button", { name: "Restore headcount" });
  if (await restore.count()) await restore.click();
  await page.getByRole("button", { name: "Add a band to headcount" }).click();
  await field(page, "delivery.values.headcount[0].value").fill("small");
  await page.getByRole("button", { name: "Add a band to headcount" }).click();
  await field(page, "delivery.values.headcount[1].value").fill("large");
  await field(page, "delivery.values.headcount[1].min").fill("1");
  const min = field(page, "delivery.values.headcount[1].min");
  await until(async () => (await min.getAttribute("aria-invalid")) === "true", "the message at the band's min");
  await min.fill("250");
  await settled(page, true);
  const config = await page.evaluate(() => window.bantamEditor.config());
  assert.deepEqual(config.translations.de.questions[0], { id: "email", label: "Geschäftliche E-Mail" });
  assert.equal(config.translations.de.questions[1].options[4].label, "Über 250.000 $");
  assert.deepEqual(config.delivery, { format: "form", values: {
    budget: { "over-250k": "250k+" }, headcount: [{ min: 1, value: "small" }, { min: 250, value: "large" }],
  } });
  // The engine's delivery warning (no fallback for a third-party endpoint) sits at its field.
  assert.match(await page.locator("#summary").textContent(), /Warning: delivery\.fallback/);
  assert.ok(await page.locator(`[data-path="delivery.fallback"] ~ .msg.warning`).isVisible());
  await assertAccessible(page, "a translation and delivery values");
  assert.deepEqual(errors, []);
  await context.close();
});

test("the JSON view round-trips every fixture config exactly, through the fields, and every invalid one with the engine's message", async () => {
  const { context, page, errors } = await openEditor();
  const fixtures = [
    ...readdirSync(join(ROOT, "www/forms")).map((f) => join(ROOT, "www/forms", f)),
    ...readdirSync(join(ROOT, "tests/data/configs")).map((f) => join(ROOT, "tests/data/configs", f)),
  ].filter((f) => f.endsWith(".json"));
  assert.ok(fixtures.length >= 4);
  await page.getByRole("button", { name: "Edit as JSON" }).click();
  for (const file of fixtures) {
    const text = JSON.stringify(JSON.parse(readFileSync(file, "utf8")), null, 2);
    await page.locator("#json").fill(text);
    await page.getByRole("button", { name: "Edit with fields" }).click();
    await page.locator("#fields").waitFor();
    await page.locator("#h-basics").waitFor();
    // Every part of the config is on the form (no field throws), then back to JSON.
    await page.getByRole("button", { name: "Edit as JSON" }).click();
    assert.equal(await page.locator("#json").inputValue(), text, `${file} round-trips`);
  }
  // Every invalid config of tests/data too: drawn as fields without a failure, given back
  // unchanged, and refused with the engine's own message (the fixture's).
  const invalid = JSON.parse(readFileSync(join(ROOT, "tests/data/invalid-configs.json"), "utf8"));
  for (const { name, config, error } of invalid) {
    const text = JSON.stringify(config, null, 2);
    await page.locator("#json").fill(text);
    await page.getByRole("button", { name: "Edit with fields" }).click();
    await page.locator("#summary").filter({ hasText: "The form has an error" }).waitFor();
    // Case aside: of two UTM values that differ only in case, the browser's reader names the
    // one the config lists second, the native reader (the fixture's message) the other.
    const said = (await page.locator("#summary").textContent()).toLowerCase();
    assert.ok(said.includes(error.toLowerCase()), `${name}: ${error}`);
    await page.getByRole("button", { name: "Edit as JSON" }).click();
    assert.equal(await page.locator("#json").inputValue(), text, `${name} round-trips`);
  }
  await assertAccessible(page, "the JSON view");
  // Not JSON: said, and the view stays.
  await page.locator("#json").fill("{ nope");
  await page.getByRole("button", { name: "Edit with fields" }).click();
  await page.locator("#json-problem").getByText(/Not valid JSON/).waitFor();
  assert.deepEqual(errors, []);
  await context.close();
});
