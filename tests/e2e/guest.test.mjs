// A good guest on every page: the form outlives garbage collection and never submits natively,
// host CSS stays outside, the page's own `window.Bantam` is kept, long words wrap on a phone,
// the thank-you step does not move the page, and accessible names read well. Screenshots of
// each step go to target/screenshots/ (desktop and phone), to look at.
//
// Run by `scripts/dev test` with BANTAM_URL set to a running collector serving www/.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { createRequire } from "node:module";
import { mkdirSync } from "node:fs";

const tools = createRequire(new URL("../../tools/package.json", import.meta.url));
const { chromium } = tools("playwright-core");
const BASE = process.env.BANTAM_URL;
assert.ok(BASE, "BANTAM_URL must point at a running collector");
const SHOTS = new URL("../../target/screenshots/", import.meta.url).pathname;
mkdirSync(SHOTS, { recursive: true });

let browser;
before(async () => {
  browser = await chromium.launch({
    executablePath: "/usr/bin/chromium",
    args: ["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
      "--disable-background-networking", "--disable-component-update", "--disable-sync", "--no-first-run", "--disable-quic"],
  });
});
after(async () => {
  await browser?.close();
});

/** Serves `html` at `path` on the collector's origin and opens it; records console problems. */
async function open(path, html, viewport = { width: 1280, height: 800 }, colorScheme = "light") {
  const context = await browser.newContext({ viewport, colorScheme });
  await context.route(BASE + path, (route) => route.fulfill({ contentType: "text/html", body: html }));
  // These forms are not registered with the collector: the endpoint is played here.
  await context.route(BASE + "/v1/leads", (route) => route.fulfill({ status: 201, contentType: "application/json", body: "{}" }));
  const page = await context.newPage();
  const problems = [];
  page.on("console", (msg) => { if (msg.type() === "error") problems.push(msg.text()); });
  page.on("pageerror", (err) => problems.push(`pageerror: ${err.message}`));
  await page.goto(BASE + path);
  return { page, context, problems };
}

const page = (head, body) => `<!doctype html><html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1"><title>Host</title>${head}</head>
<body><main>${body}</main></body></html>`;

const EMBED = (config) => `<div id="lead-form"></div>
<script type="application/json" id="cfg">${JSON.stringify(config)}</script>
<script src="/dist/embed.js" data-target="#lead-form" data-config="#cfg" async></script>`;

async function fillStepOne(p) {
  await p.getByLabel("Work email").fill(`guest+${Date.now()}@acme.io`);
  await p.getByLabel("Company").fill("Acme");
  await p.getByLabel("Over $250k").check();
}

for (const [name, script] of [
  ["not kept", `import { mount } from "/dist/bantam.js";
mount("#lead-form", { config: { formId: "gc", preset: "bant" } });`],
  ["held only inside an async function", `import { mount } from "/dist/bantam.js";
(async () => { const form = await mount("#lead-form", { config: { formId: "gc", preset: "bant" } }); form.formId; })();`],
]) {
  test(`a module-mounted form whose Form is ${name} survives garbage collection and never submits natively`, async () => {
    const { page: p, context, problems } = await open(`/gc-${name.length}.html`,
      page("", `<div id="lead-form"></div><script type="module">${script}</script>`));
    await p.locator("#b-email").waitFor();
    const cdp = await context.newCDPSession(p);
    for (let i = 0; i < 3; i++) await cdp.send("HeapProfiler.collectGarbage");
    await fillStepOne(p);
    const url = p.url();
    await p.locator("button.nx").click();
    await p.getByLabel("I make the decision").waitFor();
    assert.equal(p.url(), url, "no native submission: the page did not navigate");
    assert.deepEqual(problems, []);
    await context.close();
  });
}

test("host CSS stays outside: root font size, inherited text styles and --bantam-* on the page", async () => {
  const hostile = `<style>
    html { font-size: 6px !important; text-transform: uppercase; letter-spacing: 5px; word-spacing: 9px; font-style: italic; line-height: 4; }
    :root { --bantam-accent: transparent; --bantam-text: transparent; }
    div { visibility: visible; text-align: right; }
  </style>`;
  const { page: p, context, problems } = await open("/hostile.html", page(hostile, EMBED({ formId: "host", preset: "bant" })));
  await p.locator("#b-email").waitFor();
  const style = await p.evaluate(() => {
    const root = document.querySelector("[data-bantam]").shadowRoot;
    const label = root.querySelector("label.l");
    const next = root.querySelector("button.nx");
    const s = getComputedStyle(label);
    return {
      fontSize: s.fontSize, transform: s.textTransform, letters: s.letterSpacing, words: s.wordSpacing, fontStyle: s.fontStyle,
      textColor: s.color, nextBackground: getComputedStyle(next).backgroundColor,
    };
  });
  assert.deepEqual(style, {
    fontSize: "16px", transform: "none", letters: "normal", words: "0px", fontStyle: "normal",
    textColor: "rgb(17, 24, 39)", nextBackground: "rgb(29, 78, 216)",
  });
  // The theme is the config's, and the page font is inherited on purpose.
  const themed = await open("/themed.html", page("<style>body { font-family: Georgia, serif; }</style>",
    EMBED({ formId: "host", preset: "bant", theme: { accent: "#0f766e" } })));
  await themed.page.locator("#b-email").waitFor();
  const themedStyle = await themed.page.evaluate(() => {
    const root = document.querySelector("[data-bantam]").shadowRoot;
    return [getComputedStyle(root.querySelector("button.nx")).backgroundColor, getComputedStyle(root.querySelector("label.l")).fontFamily];
  });
  assert.deepEqual(themedStyle, ["rgb(15, 118, 110)", "Georgia, serif"]);
  assert.deepEqual([...problems, ...themed.problems], []);
  await context.close();
  await themed.context.close();
});

test("embed.js keeps a window.Bantam the page already uses for something else", async () => {
  const { page: p, context } = await open("/global.html", page(`<script src="/guest-global.js"></script>`, EMBED({ formId: "global", preset: "bant" })));
  await context.route(BASE + "/guest-global.js", (route) => route.fulfill({ contentType: "text/javascript", body: "window.Bantam = { app: 'theirs' };" }));
  const warnings = [];
  p.on("console", (msg) => { if (msg.type() === "warning") warnings.push(msg.text()); });
  await p.reload();
  await p.locator("#b-email").waitFor();
  assert.equal(await p.evaluate(() => window.Bantam.app), "theirs");
  assert.ok(warnings.some((w) => w.startsWith("Bantam: window.Bantam is already used")), warnings.join("\n"));
  await context.close();
});

test("long words wrap on a 390 px phone, and the thank-you step does not move the page", async () => {
  const word = "Rechtsschutzversicherungsgesellschaften";
  const config = {
    formId: "phone", locale: "de",
    questions: [{ id: "email", kind: "email", label: `E-Mail der ${word}`, help: `Für ${word}`, required: true },
      { id: "size", kind: "singleChoice", label: word, options: [{ id: "a", label: `${word}${word}` }, { id: "b", label: "Klein" }] }],
    thankYou: { title: `Danke! ${word}`, body: `${word} ${word}` },
    spam: { minFillSeconds: 0 },
  };
  const html = page("<style>body{margin:0;font-family:system-ui,sans-serif}</style>",
    `${EMBED(config)}<p id="below">Content below the form</p>`);
  const { page: p, context, problems } = await open("/phone.html", html, { width: 390, height: 844 });
  await p.locator("#b-email").waitFor();
  const overflowing = () => p.evaluate(() => {
    const root = document.querySelector("[data-bantam]").shadowRoot;
    return [...root.querySelectorAll("*")].filter((e) => e.scrollWidth > e.clientWidth + 1 && getComputedStyle(e).overflow === "visible" && e.clientWidth > 0)
      .map((e) => e.tagName + "." + e.className);
  });
  assert.deepEqual(await overflowing(), [], "nothing is cut off on the form step");
  assert.ok(await p.evaluate(() => document.documentElement.scrollWidth <= window.innerWidth), "no sideways scroll");
  await p.screenshot({ path: `${SHOTS}phone-long-words.png`, fullPage: true });
  await p.locator("#b-email").fill("ann@acme.io");
  await p.getByLabel("Klein").check();
  // Every layout shift from here on counts, even those right after the click.
  await p.evaluate(() => {
    window.shifts = [];
    window.shiftObserver = new PerformanceObserver((list) => window.shifts.push(...list.getEntries().map((e) => e.value)));
    window.shiftObserver.observe({ type: "layout-shift" });
  });
  // Where the content below sits in the document (a scroll moves nothing).
  const below = () => p.locator("#below").evaluate((el) => el.getBoundingClientRect().top + window.scrollY);
  const before = await below();
  await p.locator("button.nx").click();
  await p.locator(".ty").waitFor();
  // Two frames laid out after the thank-you, then every shift recorded so far, pending ones too.
  const shifted = await p.evaluate(() => new Promise((done) => requestAnimationFrame(() => requestAnimationFrame(() => {
    const pending = window.shiftObserver.takeRecords().map((e) => e.value);
    done([...window.shifts, ...pending].reduce((a, b) => a + b, 0));
  }))));
  assert.equal(await below(), before, "the content below the form stays where it was");
  assert.equal(shifted, 0, "no layout shift");
  assert.deepEqual(await overflowing(), [], "nothing is cut off on the thank-you step");
  await p.screenshot({ path: `${SHOTS}phone-thank-you.png`, fullPage: true });
  assert.deepEqual(problems, []);
  await context.close();
});

test("accessible names keep a space before the required mark", async () => {
  const { page: p, context } = await open("/names.html", page("", EMBED({ formId: "names", preset: "bant" })));
  await p.getByRole("textbox", { name: "Work email (required)", exact: true }).waitFor();
  await p.getByRole("group", { name: "What budget have you set aside for this? (required)", exact: true }).waitFor();
  await context.close();
});

test("screenshots: every step of the BANT preset on desktop and phone", async () => {
  for (const [label, viewport] of [["desktop", { width: 1280, height: 800 }], ["phone", { width: 390, height: 844 }]]) {
    const { page: p, context, problems } = await open(`/shots-${label}.html`,
      page("<style>body{margin:2rem;font-family:system-ui,sans-serif}</style>", EMBED({ formId: "shots", preset: "bant", spam: { minFillSeconds: 0 } })), viewport);
    await p.locator("#b-email").waitFor();
    const box = await p.locator("[data-bantam]").boundingBox();
    assert.ok(box.y + box.height <= viewport.height, `${label}: the first step fits above the fold (${box.y + box.height} > ${viewport.height})`);
    await p.screenshot({ path: `${SHOTS}${label}-step1.png` });
    await fillStepOne(p);
    await p.locator("button.nx").click();
    await p.getByLabel("I make the decision").check();
    await p.screenshot({ path: `${SHOTS}${label}-step2.png` });
    await p.getByLabel("This month").check();
    await p.getByLabel(/I agree/).check();
    await p.locator("button.nx").click();
    await p.locator(".ty").waitFor();
    await p.screenshot({ path: `${SHOTS}${label}-thank-you.png` });
    assert.deepEqual(problems, []);
    await context.close();
  }
});

const AXE_SOURCE = (await import("node:fs")).readFileSync(tools.resolve("axe-core/axe.min.js"), "utf8");

/** axe-core (WCAG 2.0/2.1 A and AA) on the widget: its violations. */
async function axe(p) {
  await p.evaluate(AXE_SOURCE);
  return p.evaluate(async () => {
    const result = await window.axe.run({ include: [["#lead-form"]] },
      { runOnly: { type: "tag", values: ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"] } });
    return result.violations.map((v) => ({ id: v.id, nodes: v.nodes.map((n) => n.target.join(" ")) }));
  });
}

/** Every text the widget shows, shadow DOM included. */
const shown = (p) => p.evaluate(() => document.querySelector("[data-bantam]").shadowRoot.querySelector(".b").innerText);

// English texts of the preset and the interface that a translated form must not show.
const ENGLISH = ["Work email", "Company", "What budget have you set aside for this?", "A rough range is fine.",
  "No budget yet", "Under $10k", "Over $250k", "Next", "(required)", "Step 1 of 2", "What is your role in the decision?",
  "I make the decision", "When do you plan to decide?", "This month", "I agree that you may contact me", "Back", "Send"];

for (const [name, htmlLang, config, expect] of [
  ["en", "en", { locale: "en" }, { first: "Work email", dir: "ltr" }],
  ["de", "en", { locale: "de" }, { first: "Geschäftliche E-Mail", dir: "ltr" }],
  ["fr", "en", { locale: "fr" }, { first: "Adresse e-mail professionnelle", dir: "ltr" }],
  ["es", "en", { locale: "es" }, { first: "Correo electrónico profesional", dir: "ltr" }],
  ["auto on a Spanish page", "es-MX", { locale: "auto" }, { first: "Correo electrónico profesional", dir: "ltr", lang: "es" }],
]) {
  test(`the BANT preset in ${name}: every text translated, axe-clean on every step, light and dark`, async () => {
    const html = page("<style>body{margin:2rem;font-family:system-ui,sans-serif}</style>",
      EMBED({ formId: "lang", preset: "bant", spam: { minFillSeconds: 0 }, theme: { scheme: "auto" }, ...config })).replace('lang="en"', `lang="${htmlLang}"`);
    const slug = name.replaceAll(" ", "-");
    // The desktop run in a light system, the phone run in a dark one.
    for (const [device, viewport, scheme] of [["desktop", { width: 1280, height: 800 }, "light"], ["phone", { width: 390, height: 844 }, "dark"]]) {
      const { page: p, context, problems } = await open(`/lang-${slug}-${device}.html`, html, viewport, scheme);
      await p.locator("#b-email").waitFor();
      const root = p.locator("[data-bantam] .b");
      assert.equal(await root.getAttribute("dir"), expect.dir);
      if (expect.lang) assert.equal(await root.getAttribute("lang"), expect.lang);
      const step1 = await shown(p);
      assert.ok(step1.includes(expect.first), `${name}: "${expect.first}" in\n${step1}`);
      if (name !== "en") assert.deepEqual(ENGLISH.filter((t) => step1.includes(t)), [], `${name}: English left on step 1`);
      assert.deepEqual(await axe(p), [], `${name} ${device}: axe on step 1`);
      await p.screenshot({ path: `${SHOTS}${slug}-${device}-step1.png` });
      await p.locator("#b-email").fill("ana@acme.io");
      await p.locator("#b-company").fill("Acme");
      await p.locator("#b-budget-4").check();
      await p.locator("button.nx").click();
      await p.locator("#b-role-0").check();
      const step2 = await shown(p);
      if (name !== "en") assert.deepEqual(ENGLISH.filter((t) => step2.includes(t)), [], `${name}: English left on step 2`);
      assert.deepEqual(await axe(p), [], `${name} ${device}: axe on step 2`);
      await p.screenshot({ path: `${SHOTS}${slug}-${device}-step2.png` });
      await p.locator("#b-timeframe-0").check();
      await p.locator("#b-consent").check();
      await p.locator("button.nx").click();
      await p.locator(".ty").waitFor();
      assert.deepEqual(await axe(p), [], `${name} ${device}: axe on the thank-you step`);
      await p.screenshot({ path: `${SHOTS}${slug}-${device}-thank-you.png` });
      assert.deepEqual(problems, []);
      await context.close();
    }
  });
}

test("a right-to-left config (Arabic texts given in config) lays out right to left, axe-clean", async () => {
  const config = {
    formId: "rtl", locale: "ar", title: "اطلب عرضًا توضيحيًا", intro: "أخبرنا عن فريقك.",
    texts: { next: "التالي", back: "رجوع", submit: "إرسال", progress: "الخطوة {current} من {total}", requiredMark: "(مطلوب)",
      formLabel: "أخبرنا عن احتياجاتك", thankYouTitle: "شكرًا لك!", thankYouBody: "سنتواصل معك قريبًا.", errorRequired: "يرجى الإجابة عن هذا السؤال." },
    questions: [{ id: "email", kind: "email", label: "البريد الإلكتروني للعمل", required: true },
      { id: "size", kind: "singleChoice", label: "كم عدد الموظفين؟", options: [{ id: "s", label: "أقل من ١٠" }, { id: "l", label: "أكثر من ١٠" }] }],
    spam: { minFillSeconds: 0 },
  };
  const { page: p, context, problems } = await open("/rtl.html",
    page("<style>body{margin:2rem;font-family:system-ui,sans-serif}</style>", EMBED(config)).replace('lang="en"', 'lang="ar" dir="rtl"'));
  await p.locator("#b-email").waitFor();
  assert.equal(await p.locator("[data-bantam] .b").getAttribute("dir"), "rtl");
  const [input, label] = await Promise.all([p.locator("#b-size-0").boundingBox(), p.locator("label[for=b-size-0]").boundingBox()]);
  assert.ok(input.x > label.x, "the radio sits on the right of its label");
  assert.ok(await p.evaluate(() => document.documentElement.scrollWidth <= window.innerWidth), "the page does not get wider");
  assert.deepEqual(await axe(p), []);
  await p.screenshot({ path: `${SHOTS}rtl-desktop-step1.png` });
  assert.deepEqual(problems, []);
  await context.close();
});

test("a dark theme that follows the visitor's system setting, axe-clean on every step", async () => {
  const context = await browser.newContext({ viewport: { width: 1280, height: 800 }, colorScheme: "dark" });
  const html = page("<style>body{margin:2rem;background:#0b1220;color:#e5e7eb;font-family:system-ui,sans-serif}</style>",
    EMBED({ formId: "dark", preset: "bant", theme: { scheme: "auto" }, spam: { minFillSeconds: 0 } }));
  await context.route(BASE + "/dark.html", (route) => route.fulfill({ contentType: "text/html", body: html }));
  await context.route(BASE + "/v1/leads", (route) => route.fulfill({ status: 201, contentType: "application/json", body: "{}" }));
  const p = await context.newPage();
  await p.goto(BASE + "/dark.html");
  await p.locator("#b-email").waitFor();
  const background = () => p.evaluate(() => getComputedStyle(document.querySelector("[data-bantam]").shadowRoot.querySelector(".b")).backgroundColor);
  assert.equal(await background(), "rgb(17, 24, 39)");
  assert.deepEqual(await axe(p), [], "dark: axe on step 1");
  await p.screenshot({ path: `${SHOTS}dark-desktop-step1.png` });
  await fillStepOne(p);
  await p.locator("button.nx").click();
  await p.getByLabel("I make the decision").check();
  assert.deepEqual(await axe(p), [], "dark: axe on step 2");
  await p.getByLabel("This month").check();
  await p.getByLabel(/I agree/).check();
  await p.locator("button.nx").click();
  await p.locator(".ty").waitFor();
  assert.deepEqual(await axe(p), [], "dark: axe on the thank-you step");
  await p.screenshot({ path: `${SHOTS}dark-desktop-thank-you.png` });
  // The same config on a light system stays light.
  await p.emulateMedia({ colorScheme: "light" });
  assert.equal(await background(), "rgb(255, 255, 255)");
  await context.close();
});

test("the thank-you step shows the next action: a booking link in a new tab and a scheduler frame, without moving the page", async () => {
  // The BANT preset's last step is taller than the thank-you with its 26em frame.
  const config = {
    formId: "book", preset: "bant", spam: { minFillSeconds: 0 },
    thankYou: { title: "Thanks! Pick a time", linkText: "Open the calendar", linkUrl: "https://cal.example.com/ann", linkNewTab: true,
      embedUrl: "https://cal.example.com/ann/embed" },
  };
  const html = page("<style>body{margin:2rem;font-family:system-ui,sans-serif}</style>", `${EMBED(config)}<p id="below">Below</p>`);
  const { page: p, context, problems } = await open("/book.html", html);
  await context.route("https://cal.example.com/**", (route) => route.fulfill({ contentType: "text/html", body: "<!doctype html><title>Calendar</title><p>Pick a time</p>" }));
  await fillStepOne(p);
  await p.locator("button.nx").click();
  await p.getByLabel("I make the decision").check();
  await p.getByLabel("This month").check();
  await p.getByLabel(/I agree/).check();
  // Where the content below sits in the document (not the viewport: focusing the thank-you
  // title may scroll the page, which moves nothing).
  const below = () => p.locator("#below").evaluate((el) => el.getBoundingClientRect().top + window.scrollY);
  const before = await below();
  await p.locator("button.nx").click();
  await p.locator(".ty").waitFor();
  const link = p.getByRole("link", { name: "Open the calendar" });
  assert.equal(await link.getAttribute("target"), "_blank");
  assert.equal(await link.getAttribute("rel"), "noopener");
  const frame = p.locator("[data-bantam] iframe.em");
  assert.equal(await frame.getAttribute("src"), "https://cal.example.com/ann/embed");
  assert.equal(await frame.getAttribute("title"), "Thanks! Pick a time");
  await p.frameLocator("[data-bantam] iframe.em").getByText("Pick a time").waitFor();
  assert.equal(await below(), before, "the content below stays where it was");
  assert.deepEqual(await axe(p), []);
  await p.screenshot({ path: `${SHOTS}thank-you-scheduler.png` });
  assert.deepEqual(problems, []);
  await context.close();
});
