// The form editor: loads a form through the forms API, edits its config with fields (or as
// JSON), checks every change with the engine in the browser (the widget's full module:
// `checkConfig`, `formOutline`, `scoreAnswers`), shows the live preview and the score
// simulator, and publishes a new version.

import { ancestors } from "./paths.js";
import { changeHeaders, h, renderForm } from "./fields.js";
import { simulator } from "./simulator.js";

const formId = document.body.dataset.form;
const app = document.getElementById("app");
const engine = await import(document.body.dataset.engine);
await engine.default();

/** The draft config, changed in place by the fields. */
let config = null;
let version = null;
/** The last outline of a valid draft (questions after the preset, grades, steps). */
let outline = null;
let check = { ok: false, errors: [], warnings: [] };
const fields = new Map();
/** What the fields are drawn from; `open` keeps which translations are open between redraws. */
const formContext = { get config() { return config; }, get outline() { return outline; }, fields, change: changed, open: new Set() };

const announce = h("p", { class: "visually-hidden", role: "status", "aria-live": "polite", id: "announce" });
const summary = h("div", { class: "summary", id: "summary", role: "status", "aria-live": "polite" });
const formView = h("form", { class: "fields", id: "fields", "aria-label": "Form settings", novalidate: true });
formView.addEventListener("submit", (e) => e.preventDefault());
const jsonText = h("textarea", { id: "json", class: "json", rows: 30, spellcheck: "false" });
const jsonProblem = h("p", { class: "error", id: "json-problem", role: "alert" });
const jsonView = h("div", { class: "json-view", hidden: true },
  h("label", { for: "json", text: "The config as JSON" }), jsonText, jsonProblem,
  h("button", { type: "button", id: "json-apply", text: "Apply the JSON", onclick: () => applyJson() }));

const tabForm = h("button", { type: "button", class: "tab", "aria-pressed": "true", text: "Edit with fields", onclick: () => showView("form") });
const tabJson = h("button", { type: "button", class: "tab", "aria-pressed": "false", text: "Edit as JSON", onclick: () => showView("json") });

const note = h("input", { type: "text", id: "note", maxlength: "500" });
const publishButton = h("button", { type: "button", id: "publish", class: "primary", text: "Publish", disabled: true });
const publishOut = h("div", { id: "publish-result", role: "status", "aria-live": "polite" });
publishButton.addEventListener("click", publish);

const frame = h("iframe", { id: "preview", title: "Live preview of the form", src: `/inbox/forms/${encodeURIComponent(formId)}/preview` });
const widths = h("fieldset", { class: "switch" }, h("legend", { text: "Width" }),
  ...[["desktop", "Desktop"], ["phone", "Phone (390 px)"]].map(([v, t], i) => h("span", { class: "check" },
    h("input", { type: "radio", name: "width", id: `width-${v}`, value: v, checked: i === 0 ? true : undefined,
      onchange: () => frameBox.classList.toggle("phone", v === "phone") }),
    h("label", { for: `width-${v}`, text: t }))));
const showSelect = h("select", { id: "show" });
showSelect.addEventListener("change", () => sendPreview());
const frameBox = h("div", { class: "frame" }, frame);
const previewNote = h("p", { class: "hint", id: "preview-note", role: "status" });

const simBox = h("section", { class: "sim", "aria-labelledby": "h-sim" });
const sim = simulator(simBox, engine, () => config, formId);

let previewReady = false;
window.addEventListener("message", (event) => {
  if (event.origin !== location.origin || event.source !== frame.contentWindow) return;
  if (event.data?.bantamPreview === "ready") {
    previewReady = true;
    sendPreview();
  }
});

async function load() {
  const response = await fetch(`/v1/forms/${encodeURIComponent(formId)}`);
  const body = await response.json().catch(() => ({}));
  if (!response.ok) {
    app.replaceChildren(h("p", { class: "error", role: "alert", text: `Could not load form ${formId}: ${body.error || "HTTP " + response.status}` }));
    app.removeAttribute("aria-busy");
    return;
  }
  config = body.config;
  version = body.version;
  published = JSON.stringify(config);
  app.replaceChildren(
    h("div", { class: "editor" },
      h("div", { class: "left" },
        h("div", { class: "tabs", role: "group", "aria-label": "How to edit" }, tabForm, tabJson),
        summary, formView, jsonView),
      h("div", { class: "right" },
        h("section", { class: "publish", "aria-labelledby": "h-publish" },
          h("h2", { id: "h-publish", text: `Publish (version ${version} is live)` }),
          h("div", { class: "field" }, h("label", { for: "note", text: "Note for the history (optional)" }), note),
          publishButton, publishOut),
        h("section", { class: "preview-box", "aria-labelledby": "h-preview" },
          h("h2", { id: "h-preview", text: "Live preview" }),
          h("div", { class: "controls" }, widths, h("div", { class: "field" }, h("label", { for: "show", text: "Show" }), showSelect)),
          previewNote, frameBox),
        simBox)),
    announce);
  app.removeAttribute("aria-busy");
  changed(true);
}

let checkTimer = 0;
let renderQueued = false;
let focusAfter = null;

/**
 * After every change: a structural one re-renders the fields (after the current event's other
 * listeners), every one is checked, previewed and scored (debounced while typing).
 */
function changed(structural = false, focusPath, message) {
  if (message) announce.textContent = message;
  if (structural) {
    if (focusPath !== undefined) focusAfter = focusPath;
    if (!renderQueued) {
      renderQueued = true;
      queueMicrotask(() => {
        renderQueued = false;
        const keep = focusAfter ?? document.activeElement?.dataset?.path;
        focusAfter = null;
        validate();
        renderForm(formView, formContext);
        showMessages();
        if (keep) fields.get(keep)?.focus();
        refresh();
      });
    }
    return;
  }
  clearTimeout(checkTimer);
  checkTimer = setTimeout(() => {
    validate();
    showMessages();
    refresh();
  }, 200);
}

/** Checks the draft with the engine; keeps the outline of the last valid one. */
function validate() {
  check = engine.checkConfig(config);
  if (check.ok) {
    try {
      outline = engine.formOutline(config);
    } catch {
      // checkConfig said valid: formOutline reads the same config.
    }
  }
  publishButton.disabled = !check.ok;
  publishButton.title = check.ok ? "" : "Fix the errors first";
}

function refresh() {
  updateShowChoices();
  sendPreview();
  sim.update(check.ok ? outline : null);
}

/** Each message at the field its path names (or the nearest one shown), and in the summary. */
function showMessages() {
  for (const old of formView.querySelectorAll(".msg")) old.remove();
  for (const el of formView.querySelectorAll("[aria-invalid], [aria-describedby*='msg-']")) {
    el.removeAttribute("aria-invalid");
    const described = (el.getAttribute("aria-describedby") || "").split(" ").filter((id) => !id.startsWith("msg-"));
    if (described.length) el.setAttribute("aria-describedby", described.join(" "));
    else el.removeAttribute("aria-describedby");
  }
  const list = [...check.errors.map((m) => ({ ...m, kind: "error" })), ...check.warnings.map((m) => ({ ...m, kind: "warning" }))];
  const items = list.map((m, n) => {
    // "questions[0]: question "plan" needs a `label`": the message belongs at the label.
    const missing = m.message.match(/needs an? `(\w+)`/);
    if (missing) m = { ...m, at: `${m.path}.${missing[1]}` };
    // The engine's messages start with their path, which the link already shows.
    const said = m.message.startsWith(`${m.path}: `) ? m.message.slice(m.path.length + 2) : m.message;
    const field = nearest(m.at || m.path);
    const id = `msg-${n}`;
    if (field) {
      const text = h("p", { class: `msg ${m.kind}`, id, text: said });
      // The field's own box (the input carries a data-path itself: start above it).
      const holder = field.parentElement.closest(".field, .row, fieldset, details, li") || field.parentElement;
      if (field.matches("input, select, textarea")) {
        holder.append(text);
        if (m.kind === "error") field.setAttribute("aria-invalid", "true");
        field.setAttribute("aria-describedby", [field.getAttribute("aria-describedby"), id].filter(Boolean).join(" "));
      } else {
        field.prepend(text);
      }
      if (field.closest("details")) field.closest("details").open = true;
    }
    const link = h("a", { href: field ? `#${field.id || ""}` : "#json", text: m.path });
    link.addEventListener("click", (e) => {
      e.preventDefault();
      // Looked up now: the fields may have been drawn again since.
      const target = nearest(m.at || m.path);
      if (target) {
        showView("form");
        target.scrollIntoView({ block: "center" });
        if (!target.matches("input, select, textarea") && !target.hasAttribute("tabindex")) target.setAttribute("tabindex", "-1");
        target.focus();
      } else {
        showView("json");
      }
    });
    return h("li", { class: m.kind }, h("span", { class: "label", text: m.kind === "error" ? "Error: " : "Warning: " }), link, h("span", { text: `: ${said}` }));
  });
  const head = check.ok
    ? (list.length ? `The form is valid, with ${list.length} warning(s).` : "The form is valid.")
    : "The form has an error; it cannot be published until it is fixed.";
  // The summary is drawn again only when it changes, so a click on one of its links is not
  // lost to a redraw the same click caused (a field's change on blur).
  const key = JSON.stringify([check.ok, list]);
  if (summary.dataset.key === key) return;
  summary.dataset.key = key;
  summary.className = `summary ${check.ok ? "ok" : "bad"}`;
  summary.replaceChildren(h("p", { text: head }), ...(items.length ? [h("ul", {}, items)] : []));
}

/** The field for `path`, or for the closest path above it that has one. */
function nearest(path) {
  for (const p of ancestors(path)) {
    const field = fields.get(p) || formView.querySelector(`[data-path="${CSS.escape(p)}"]`);
    if (field) {
      if (!field.id && !field.matches("input, select, textarea")) field.id = `at-${p.replace(/[^A-Za-z0-9_-]/g, "_")}`;
      return field;
    }
  }
  return null;
}

function updateShowChoices() {
  if (!outline) return;
  const current = showSelect.value;
  const choices = [
    ...outline.steps.map((_, i) => [`step:${i + 1}`, `Step ${i + 1} of ${outline.steps.length}`]),
    ...outline.grades.map((g) => [`grade:${g.name}`, `Thank-you for ${g.label}`]),
  ];
  const key = JSON.stringify(choices);
  if (showSelect.dataset.key !== key) {
    showSelect.dataset.key = key;
    showSelect.replaceChildren(...choices.map(([v, t]) => h("option", { value: v, text: t })));
    showSelect.value = choices.some(([v]) => v === current) ? current : "step:1";
  }
}

let lastSent = "";
/** Sends the draft (the last valid one while the draft has an error) to the preview. */
function sendPreview() {
  if (!previewReady || !outline) return;
  const [what, value] = (showSelect.value || "step:1").split(":");
  const preview = what === "grade" ? { thankYou: value } : { step: Number(value) || 1 };
  const draft = check.ok ? config : lastValid;
  if (check.ok) lastValid = structuredClone(config);
  previewNote.textContent = check.ok ? "" : "The preview shows the last valid draft.";
  const message = { config: draft, preview };
  const key = JSON.stringify(message);
  if (key === lastSent || !draft) return;
  lastSent = key;
  frame.contentWindow.postMessage(message, location.origin);
}
let lastValid = null;

function showView(which) {
  const json = which === "json";
  if (json === !jsonView.hidden) return;
  if (json) {
    jsonText.value = JSON.stringify(config, null, 2);
    jsonProblem.textContent = "";
  } else if (!applyJson()) {
    return;
  }
  jsonView.hidden = !json;
  formView.hidden = json;
  tabForm.setAttribute("aria-pressed", String(!json));
  tabJson.setAttribute("aria-pressed", String(json));
}

/** Takes the JSON text as the draft; false (with the parser's message) when it is not JSON. */
function applyJson() {
  let parsed;
  try {
    parsed = JSON.parse(jsonText.value);
  } catch (error) {
    jsonProblem.textContent = `Not valid JSON: ${error.message}`;
    return false;
  }
  if (!parsed || typeof parsed !== "object" || Array.isArray(parsed)) {
    jsonProblem.textContent = "The config must be a JSON object.";
    return false;
  }
  jsonProblem.textContent = "";
  config = parsed;
  changed(true);
  return true;
}

async function publish() {
  if (!jsonView.hidden && !applyJson()) return;
  validate();
  if (!check.ok) {
    showMessages();
    return;
  }
  publishButton.disabled = true;
  publishOut.replaceChildren(h("p", { text: "Publishing…" }));
  try {
    const response = await fetch(`/v1/forms/${encodeURIComponent(formId)}/versions`, {
      method: "POST", headers: changeHeaders(),
      body: JSON.stringify({ config, note: note.value || undefined, basedOn: version }),
    });
    const body = await response.json().catch(() => ({}));
    if (response.status === 201) {
      version = body.version;
      published = JSON.stringify(config);
      document.getElementById("h-publish").textContent = `Publish (version ${version} is live)`;
      note.value = "";
      publishOut.replaceChildren(h("p", { class: "ok" }, h("span", { text: `Published version ${version}. ` }),
        h("a", { href: `/inbox/forms/${encodeURIComponent(formId)}`, text: "See the form's page and history" })));
    } else if (response.status === 409) {
      publishOut.replaceChildren(h("p", { class: "error", text: `Not published: ${body.error || "someone published a newer version meanwhile"}. Copy your changes (Edit as JSON), reload the editor, and apply them again.` }));
    } else if (response.status === 422) {
      const path = body.path || body.field;
      check = { ok: false, errors: [{ path: path || "config", message: body.error || "refused" }], warnings: check.warnings };
      showMessages();
      publishOut.replaceChildren(h("p", { class: "error", text: `Not published: the server refused the config: ${body.error}` }));
    } else {
      publishOut.replaceChildren(h("p", { class: "error", text: `Not published: ${body.error || "HTTP " + response.status}` }));
    }
  } catch (error) {
    publishOut.replaceChildren(h("p", { class: "error", text: `Not published: ${error.message}` }));
  } finally {
    publishButton.disabled = !check.ok;
  }
}

/** The config as last loaded or published: leaving with other changes asks first. */
let published = "";
window.addEventListener("beforeunload", (event) => {
  if (config && JSON.stringify(config) !== published) event.preventDefault();
});

/** For scripts and tests: the draft as it is now. */
window.bantamEditor = { config: () => config };

await load();
