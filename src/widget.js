// The mounted form's DOM layer, hand-written: the Shadow DOM form, steps, validation messages,
// focus, submit and the thank-you step. It draws what the wasm's `Session` says (the engine's
// form, steps, visibility, messages, lead and payload) and reads the controls back into it; it
// decides nothing the engine could. Text from config or visitors only ever goes in as text
// (`textContent`, attributes), never as HTML. The Rust crate's `mount` calls `start`
// (`#[wasm_bindgen(module = "/src/widget.js")]`); the build bundles this file into the glue.

import { attempt, dispatch, enqueue, fetchConfig, flush, report, watch } from "./platform.js";

/** Creates an element with a class (empty for none) and, when given, plain text. */
function el(tag, className, text) {
  const element = document.createElement(tag);
  if (className) element.className = className;
  if (text != null) element.textContent = text;
  return element;
}

/** Sets attributes from an object. */
function attrs(element, pairs) {
  for (const name in pairs) element.setAttribute(name, pairs[name]);
  return element;
}

/**
 * The host element from an element or a CSS selector. Throws (after one console error) a
 * `TypeError` when `target` is neither, an `Error` naming a selector that matches nothing or is
 * not valid.
 */
function resolveTarget(target) {
  let error;
  if (target instanceof Element) return target;
  if (typeof target !== "string") {
    error = new TypeError("Bantam: mount(target, options): target must be an Element or a CSS selector");
  } else {
    let element = null;
    try {
      element = document.querySelector(target);
    } catch {
      error = new Error(`Bantam: mount target "${target}" is not a valid CSS selector`);
    }
    if (element) return element;
    error = error || new Error(`Bantam: mount target "${target}" matches no element`);
  }
  console.error(error);
  throw error;
}

/**
 * Checks the mount's options: the config URL to fetch, or null when they give the config itself.
 * Bad options throw a `TypeError` naming the field, reported on `host` first. `full`: the full
 * module, which also takes the form editor's `preview` (checked with the form, in Rust).
 */
function configUrl(host, options, full) {
  const fail = (message, path) => {
    report(host, { code: "config", message, path });
    throw new TypeError("Bantam: " + message);
  };
  if (options === null || typeof options != "object") {
    fail("options: expected an object like { config } or { configUrl }", "options");
  }
  for (const key of Object.keys(options)) {
    if (key != "config" && key != "configUrl" && key != "variant" && !(full && key == "preview")) {
      fail(`options.${key}: unknown field \`${key}\`, expected \`config\`, \`configUrl\` or \`variant\``, `options.${key}`);
    }
  }
  const config = options.config != null;
  const url = options.configUrl;
  if (config && url == null) return null;
  if (config) fail("options: give either `config` or `configUrl`, not both", "options");
  if (url == null) fail("options: `config` (an object) or `configUrl` (a URL) is required", "options");
  if (typeof url != "string") fail("options.configUrl: expected a string", "options.configUrl");
  return url;
}

/**
 * Mounts a form on `target` with the help of `loader` (Rust's `Loader`: the form read into a
 * `Session`, the `Form` handle). Resolves to the `Form`; rejects as `mount` is documented to,
 * every error but a missing target reported on the host.
 */
export async function start(target, options, loader) {
  const host = resolveTarget(target);
  // The lean module asks a collector for the compiled form; the full one has no `Accept`.
  const accept = loader.accept();
  const url = configUrl(host, options, accept == null);
  let fetched;
  if (url != null) {
    try {
      // The same request, when the loader started it already (see `prefetching` in mount.js).
      const started = options[Symbol.for("bantam.prefetch")];
      fetched = await fetchConfig(url, accept, started && started.url === url && started.accept === accept ? started.response : undefined);
    } catch (why) {
      const message = `config URL ${url}: ${why}`;
      report(host, { code: "mount", message });
      throw new Error("Bantam: " + message);
    }
  }
  // For `"locale": "auto"`: the page's language first, then the browser's.
  const lang = document.documentElement.getAttribute("lang");
  const languages = [...(lang == null ? [] : [lang]), ...(navigator.languages || [])];
  let session;
  try {
    session = loader.open(options, fetched, url, languages, location.href, document.referrer,
      new Date().toISOString());
  } catch (detail) {
    // A config in the lean module is not an error: the loader hands it to the full module.
    const message = "Bantam: " + detail.message;
    if (detail.code == "fallback") throw Object.assign(new Error(message), { bantamFallback: true });
    report(host, detail);
    throw new TypeError(message);
  }
  return loader.form(draw(host, session));
}

/** The browser's IANA time zone, such as `Europe/Berlin`. */
function timeZone() {
  try {
    return Intl.DateTimeFormat().resolvedOptions().timeZone || "";
  } catch {
    return "";
  }
}

/** HubSpot's visitor token (`hubspotutk` cookie), when HubSpot's tracking code set one. */
function hubspotCookie() {
  for (const cookie of document.cookie.split(";")) {
    const c = cookie.trim();
    if (c.startsWith("hubspotutk=")) return c.slice(11);
  }
  return undefined;
}

/** A random lead id; without Web Crypto, time plus Math.random still separates submissions. */
function newId() {
  try {
    return crypto.randomUUID();
  } catch {
    return Date.now().toString(16) + "-" + Math.floor(Math.random() * 1e15).toString(16);
  }
}

/**
 * Draws `session`'s form in a new shadow root inside `target`, and returns the handle behind
 * `Form` (`destroy()`, `formId`). Throws an `Error` if the target already holds a Bantam form.
 */
function draw(target, session) {
  if (target.querySelector(":scope > [data-bantam]")) {
    throw new Error("Bantam: this element already holds a Bantam form; call destroy() first");
  }
  const view = session.view();
  const texts = view.texts;
  const questions = view.questions;
  const host = attrs(el("div"), { "data-bantam": view.id });
  const shadow = host.attachShadow({ mode: "open" });
  // A constructed stylesheet works under a strict CSP (no inline <style> needed).
  const sheet = new CSSStyleSheet();
  sheet.replaceSync(view.css);
  shadow.adoptedStyleSheets = [sheet];

  const root = attrs(el("div", "b"), { part: "container", lang: view.locale, dir: view.dir });
  for (const [name, value] of view.theme) {
    // `dark`, or `auto` (dark when the visitor's system is): a class the stylesheet answers.
    if (name === "--bantam-scheme") root.classList.add(value);
    else root.style.setProperty(name, value);
  }
  // `method="dialog"` outside a dialog makes a native submission do nothing, so no path (a
  // listener gone, a script error) can ever send the answers into the page's URL.
  const form = attrs(el("form"), { novalidate: "", method: "dialog", "aria-label": texts.formLabel });
  const status = attrs(el("p", "st", ""), { id: "b-st" });
  const progress = attrs(el("div", "pg"), {
    role: "progressbar", "aria-labelledby": "b-st", "aria-valuemin": "1",
  });
  const bar = el("div");
  progress.append(bar);
  const questionsEl = el("div");
  const summary = attrs(el("p", "sm"), { role: "alert" });
  const nav = el("div", "n");
  const back = attrs(el("button", "bk", texts.back), { type: "button" });
  const next = attrs(el("button", "nx", texts.next), { type: "submit" });
  nav.append(back, next);
  // The form's own title and intro, when the config gives them.
  if (view.title != null) form.append(el("h2", "tt", view.title));
  if (view.intro != null) form.append(el("p", "in", view.intro));
  form.append(status, progress, questionsEl, summary, nav);
  let honeypot = null;
  if (view.honeypot) {
    // Off-screen and out of the tab order: people never see it, form-filling bots do.
    const trap = attrs(el("div", "hp"), { "aria-hidden": "true" });
    const label = attrs(el("label", "", "Leave this field empty"), { for: "b.hp" });
    honeypot = attrs(el("input"), {
      type: "text", id: "b.hp", name: "b.website", tabindex: "-1", autocomplete: "off",
    });
    trap.append(label, honeypot);
    form.append(trap);
  }
  root.append(form);
  shadow.append(root);

  /** The controls of the current step's questions: {index, field, inputs, error}. */
  let rendered = [];
  let sending = false;
  let destroyed = false;
  /** The submission id, made once and kept through retries. */
  let leadId = null;
  /** When the form appeared, for the fill time. */
  const shownAt = Date.now();
  let notYou = null;

  /** Dispatches events ([name, detail]) on the host, once the form is drawn as they say. */
  const fire = (events) => {
    for (const [name, detail] of events) dispatch(host, name, detail);
  };
  const ids = (indices) => Array.from(indices, (i) => questions[i].id);
  const invalid = (r) => r.field.hasAttribute("data-invalid");

  function setError(r, message) {
    r.error.textContent = message ?? "";
    r.field.toggleAttribute("data-invalid", message != null);
    for (const input of r.inputs) input.setAttribute("aria-invalid", message != null ? "true" : "false");
  }

  function renderQuestion(index) {
    const q = questions[index];
    const base = "b-" + q.id;
    const errorId = base + "-e";
    const helpId = base + "-h";
    const described = q.help != null ? helpId + " " + errorId : errorId;
    const error = attrs(el("p", "er"), { id: errorId });
    const help = q.help != null ? attrs(el("p", "h", q.help), { id: helpId }) : null;
    const heading = (tag, className) => {
      const label = el(tag, className, q.label);
      if (q.required) {
        // A space of its own: the accessible name reads "Work email (required)", not
        // "Work email(required)".
        label.append(" ", el("span", "rq", texts.required));
      }
      return label;
    };
    const value = session.value(index);
    const inputs = [];
    let field;
    if (q.choices) {
      field = attrs(el("fieldset", "f q"), { "aria-describedby": described });
      field.append(heading("legend", ""));
      if (help) field.append(help);
      const type = q.kind === "multiple" ? "checkbox" : "radio";
      q.choices.forEach(([id, label], k) => {
        const row = el("div", "o");
        const controlId = base + "-" + k;
        const control = attrs(el("input"), { type, id: controlId, name: base, value: id });
        if (q.required && type === "radio") control.setAttribute("required", "");
        control.checked = value.includes(id);
        row.append(control, attrs(el("label", "", label), { for: controlId }));
        field.append(row);
        inputs.push(control);
      });
    } else if (q.kind === "consent") {
      field = el("div", "f q");
      const row = el("div", "o ck");
      const control = attrs(el("input"), { type: "checkbox", id: base, name: base, "aria-describedby": described });
      if (q.required) control.setAttribute("required", "");
      control.checked = value === true;
      row.append(control, attrs(heading("label", ""), { for: base }));
      field.append(row);
      if (help) field.append(help);
      inputs.push(control);
    } else {
      field = el("div", "f q");
      field.append(attrs(heading("label", "l"), { for: base }));
      if (help) field.append(help);
      const type = q.kind === "email" || q.kind === "tel" ? q.kind : "text";
      const control = attrs(el("input"), { type, id: base, name: base, "aria-describedby": described });
      if (q.required) control.setAttribute("required", "");
      if (q.kind === "number") control.setAttribute("inputmode", "numeric");
      else control.setAttribute("maxlength", String(q.maxLength));
      if (q.autocomplete != null) control.setAttribute("autocomplete", q.autocomplete);
      if (q.placeholder != null) control.setAttribute("placeholder", q.placeholder);
      if (value !== undefined) control.value = value;
      field.append(control);
      inputs.push(control);
    }
    field.append(error);
    field.setAttribute("data-q", q.id);
    return { index, field, inputs, error };
  }

  /** Shows or hides conditional questions and sets the button to Next or Send. */
  function updateVisibility() {
    for (const r of rendered) r.field.toggleAttribute("hidden", !session.visible(r.index));
    if (!sending) next.textContent = session.hasNext() ? texts.next : texts.submit;
  }

  function focusFirst(pick) {
    const r = rendered.find((r) => session.visible(r.index) && pick(r) && r.inputs.length);
    if (r) r.inputs[0].focus();
  }

  /** Draws the current step; returns the `step` event. */
  function renderStep(focus) {
    questionsEl.textContent = "";
    summary.textContent = "";
    rendered = [];
    const at = session.at();
    const total = at.total;
    if (!total) {
      // Everything is known: nothing to ask, only to send.
      questionsEl.append(el("p", "", texts.welcomeBack));
      next.textContent = texts.submit;
      back.toggleAttribute("hidden", true);
      status.textContent = "";
      return [];
    }
    for (const index of at.questions) {
      const r = renderQuestion(index);
      questionsEl.append(r.field);
      rendered.push(r);
    }
    updateVisibility();
    const current = at.step;
    const label = at.progress;
    status.textContent = label;
    attrs(progress, {
      "aria-valuemax": String(total), "aria-valuenow": String(current), "aria-valuetext": label,
    });
    bar.style.setProperty("width", Math.floor((current * 100) / total) + "%");
    back.toggleAttribute("hidden", !at.hasPrev);
    if (focus) focusFirst(() => true);
    const shown = at.questions.filter((i) => session.visible(i));
    return [["step", { step: current, total, questions: ids(shown) }]];
  }

  /** Reads a control into the answers; shows or clears its message. True when valid. */
  function read(r, showError) {
    const q = questions[r.index];
    const input = q.choices
      ? r.inputs.filter((i) => i.checked).map((i) => i.value)
      : q.kind === "consent"
        ? r.inputs[0].checked
        : r.inputs[0].value;
    const message = session.set(r.index, input);
    if (message == null) setError(r, null);
    else if (showError) setError(r, message);
    return message == null;
  }

  function onChange(name) {
    if (!name.startsWith("b-")) return;
    const id = name.slice(2);
    const r = rendered.find((r) => questions[r.index].id === id);
    if (!r) return;
    read(r, invalid(r));
    updateVisibility();
  }

  /** Validates the current step; true when every shown question is answered well. */
  function validateStep() {
    let ok = true;
    for (const r of rendered) {
      if (session.visible(r.index)) {
        ok = read(r, true) && ok;
        // An answer may change what is visible further down the step.
        updateVisibility();
      } else {
        session.remove(r.index);
        setError(r, null);
      }
    }
    return ok;
  }

  function goBack() {
    if (sending) return [];
    // Keep what was typed on this step, valid or not yet.
    for (const r of rendered) read(r, false);
    return session.back() ? renderStep(true) : [];
  }

  /** Offers "Not you?" when earlier answers are in use. */
  function addNotYou() {
    if (!view.known) return;
    notYou = attrs(el("button", "nu", texts.notYou), { type: "button" });
    form.insertBefore(notYou, form.firstChild);
  }

  /** Forgets the stored profile and starts over with every question. */
  function forgetVisitor() {
    session.forget();
    if (notYou) notYou.remove();
    notYou = null;
    return renderStep(true);
  }

  /**
   * Replaces the form with the thank-you step for the submitted lead's grade, and moves the
   * focus to its title (not in the editor's preview, which must leave the focus in the editor).
   */
  function showThankYou() {
    const thanks = session.thanks();
    rendered = [];
    // The thank-you keeps the form's height, so the page below does not move up.
    root.style.setProperty("min-height", root.getBoundingClientRect().height + "px");
    root.classList.add("done");
    root.textContent = "";
    const section = attrs(el("div", "ty"), { role: "status" });
    const title = attrs(el("h2", "", thanks.title), { tabindex: "-1" });
    section.append(title, el("p", "", thanks.body));
    if (thanks.link) {
      const a = attrs(el("a", "cta", thanks.link.text), { href: thanks.link.url });
      if (thanks.link.newTab) attrs(a, { target: "_blank", rel: "noopener" });
      section.append(a);
    }
    root.append(section);
    if (thanks.embedUrl != null) {
      root.append(attrs(el("iframe", "em"), {
        src: thanks.embedUrl, title: thanks.title, loading: "lazy",
        sandbox: "allow-scripts allow-same-origin allow-forms allow-popups",
      }));
    }
    if (!view.preview) title.focus();
  }

  /** Ends a direct post: the thank-you step on success, a message and a retry on failure. */
  function finish(outcome, entry) {
    sending = false;
    next.removeAttribute("disabled");
    next.removeAttribute("aria-disabled");
    form.removeAttribute("aria-busy");
    if (outcome.delivered !== undefined) {
      showThankYou();
      return [["delivered", { id: entry.id, status: outcome.delivered }]];
    }
    next.textContent = texts.submit;
    summary.textContent = texts.submitFailed;
    const detail = outcome.refused !== undefined
      ? { code: "delivery", message: `${entry.endpoint} answered HTTP ${outcome.refused}`, status: outcome.refused }
      : { code: "delivery", message: `could not reach ${entry.endpoint} (${outcome.retry})` };
    report(host, detail);
    return [];
  }

  /** Moves on, or submits on the last step. */
  function onSubmit() {
    if (sending) return;
    if (!validateStep()) {
      summary.textContent = texts.errorSummary;
      focusFirst(invalid);
      return;
    }
    if (session.forward()) {
      fire(renderStep(true));
      return;
    }
    leadId = leadId || newId();
    const now = new Date();
    const result = session.submit(
      leadId,
      [location.href, document.title, document.referrer, navigator.language || "", timeZone(), now.toISOString()],
      Date.now() - shownAt,
      !!honeypot && honeypot.value !== "",
      hubspotCookie(),
      now.getTime(),
    );
    if (result.preview) {
      // The editor's preview: the thank-you these answers earn, nothing sent or kept.
      showThankYou();
      fire([["scored", result.score]]);
      return;
    }
    if (result.drop) {
      // Dropped without a word: the sender sees the thank-you step its answers earn.
      showThankYou();
      return;
    }
    sending = true;
    summary.textContent = "";
    next.textContent = texts.sending;
    attrs(next, { disabled: "", "aria-disabled": "true" });
    form.setAttribute("aria-busy", "true");
    const events = [["scored", result.score], ["submit", { lead: result.lead }]];
    const entry = result.entry;
    // Safely queued: the visitor is done; the outbox delivers, retries and reports.
    if (enqueue(entry, host)) {
      sending = false;
      showThankYou();
      fire(events);
      flush();
      return;
    }
    // No storage (private mode, quota): post now and keep the form until it is delivered.
    fire(events);
    attempt(entry).then((outcome) => {
      if (!destroyed) fire(finish(outcome, entry));
    });
  }

  const listeners = [
    ["submit", (event) => {
      event.preventDefault();
      if (!destroyed) onSubmit();
    }],
    ["click", (event) => {
      const name = event.target && event.target.className;
      if (destroyed) return;
      if (name === "bk") fire(goBack());
      else if (name === "nu") fire(forgetVisitor());
    }],
    // `input` as well as `change`: a message being fixed clears while the visitor types, not
    // on blur, so the layout does not jump under their next click.
    ...["change", "input"].map((type) => [type, (event) => {
      const name = event.target && event.target.name;
      if (!destroyed && typeof name === "string") onChange(name);
    }]),
  ];
  for (const [type, listener] of listeners) form.addEventListener(type, listener);

  addNotYou();
  const ready = { formId: view.id, questions: ids(view.chosen), steps: view.steps };
  let step = [];
  if (view.thanks) showThankYou();
  else step = renderStep(false);
  target.appendChild(host);
  fire([["ready", ready], ...step]);
  if (!view.preview) {
    // Deliver what earlier pages queued, and watch for going online or away: after `ready`,
    // as nothing the visitor sees waits for it.
    watch(view.lateAfter);
    flush();
  }

  return {
    destroy() {
      if (destroyed) return;
      destroyed = true;
      for (const [type, listener] of listeners) form.removeEventListener(type, listener);
      host.remove();
    },
    get formId() {
      return destroyed ? undefined : view.id;
    },
  };
}
