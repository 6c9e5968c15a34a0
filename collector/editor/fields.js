// The editor's form: every part of a config as labelled fields, each bound to the config path
// the engine names in its messages (`data-path`). A field changes the config at its path and
// nothing else; adding, removing and moving things re-renders. Text only, never HTML.

import { getIn, setIn } from "./paths.js";

export const KINDS = ["singleChoice", "multipleChoice", "yesNo", "number", "text", "email", "phone", "consent"];
const KIND_NAMES = {
  singleChoice: "One choice", multipleChoice: "Several choices", yesNo: "Yes or no", number: "Number",
  text: "Text", email: "Email", phone: "Phone", consent: "Consent checkbox",
};
const CATEGORIES = ["budget", "authority", "need", "timeframe", "fit", "contact"];
const WEIGHT_DEFAULTS = { budget: 30, authority: 25, need: 15, timeframe: 20, fit: 10, contact: 0 };
const SIGNAL_INPUTS = ["utmSource", "utmMedium", "utmCampaign", "clickId", "referrerDomain", "landingPage", "emailKind"];
const TEXT_KEYS = ["formLabel", "next", "back", "submit", "progress", "requiredMark", "yes", "no", "errorRequired",
  "errorChoose", "errorEmail", "errorPhone", "errorNumber", "errorRange", "errorTooLong", "errorConsent", "errorSummary",
  "sending", "thankYouTitle", "thankYouBody", "notYou", "welcomeBack", "submitFailed", "reasonNotAnswered",
  "reasonCapped", "gradeHot", "gradeWarm", "gradeCold"];
const THEME_KEYS = ["accent", "accentText", "text", "background", "border", "error", "radius", "fontFamily"];
const OPERATORS = { equals: "equals", oneOf: "is one of", noneOf: "is none of", atLeast: "is at least", below: "is below", answered: "answered or not" };
const THANK_YOU = [["title", "Title"], ["body", "Text", "textarea"], ["linkText", "Link text"], ["linkUrl", "Link address"], ["embedUrl", "Embedded page (https)"]];

let serial = 0;

/** The headers of a change the editor posts: JSON, with the session's CSRF token, which the
 * page carries in `<meta name="csrf-token">` (the collector refuses a change without it). */
export function changeHeaders() {
  const token = document.querySelector('meta[name="csrf-token"]')?.content ?? "";
  return { "content-type": "application/json", "x-csrf-token": token };
}

/** An element with a class and text (never HTML). */
export function h(tag, attrs = {}, ...children) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (v === undefined || v === null || v === false) continue;
    if (k === "class") e.className = v;
    else if (k === "text") e.textContent = v;
    else if (k.startsWith("on")) e.addEventListener(k.slice(2), v);
    else e.setAttribute(k, v === true ? "" : v);
  }
  for (const c of children.flat()) if (c != null) e.append(c);
  return e;
}

/**
 * Renders the whole form for `ctx.config` into `root`.
 * @param {HTMLElement} root
 * @param {{config: object, outline: object|null, fields: Map<string, HTMLElement>,
 *   change: (structural?: boolean, focusPath?: string) => void}} ctx
 */
export function renderForm(root, ctx) {
  serial = 0;
  ctx.fields.clear();
  const f = fieldMaker(ctx);
  root.replaceChildren(
    section("Basics", "basics", basics(f)),
    section("Questions", "questions", questions(f, ctx)),
    section("Grades and thank-you", "grades", grades(f, ctx)),
    section("Scoring", "scoring", scoring(f, ctx)),
    section("Language and texts", "texts", texts(f, ctx)),
    section("Theme", "theme", theme(f)),
    section("Spam protection", "spam", spam(f)),
    section("Delivery", "delivery", delivery(f, ctx)),
  );
}

function section(title, id, content) {
  return h("section", { class: "part", "aria-labelledby": `h-${id}` }, h("h2", { id: `h-${id}`, text: title }), content);
}

/** Field builders bound to the config: each input reads and writes one path. */
function fieldMaker(ctx) {
  const { config } = ctx;
  const register = (path, input) => {
    input.dataset.path = path;
    if (!input.id) input.id = `f${++serial}`;
    ctx.fields.set(path, input);
    return input;
  };
  const wrap = (label, input, hint, cls = "field") => {
    const parts = [h("label", { for: input.id, text: label }), input];
    if (hint) {
      const id = `${input.id}-hint`;
      parts.push(h("span", { class: "hint", id, text: hint }));
      input.setAttribute("aria-describedby", id);
    }
    return h("div", { class: cls }, parts);
  };
  return {
    text(path, label, { placeholder, hint, multiline, readonly } = {}) {
      const value = getIn(config, path);
      const input = register(path, multiline ? h("textarea", { rows: 2 }) : h("input", { type: "text" }));
      input.value = typeof value === "string" ? value : value == null ? "" : String(value);
      if (placeholder) input.placeholder = placeholder;
      if (readonly) input.readOnly = true;
      input.addEventListener("input", () => {
        setIn(config, path, input.value === "" ? undefined : input.value);
        ctx.change(false);
      });
      return wrap(label, input, hint);
    },
    number(path, label, { placeholder, hint, step = "1" } = {}) {
      const value = getIn(config, path);
      const input = register(path, h("input", { type: "number", step, inputmode: "numeric" }));
      input.value = typeof value === "number" ? String(value) : "";
      if (placeholder !== undefined) input.placeholder = String(placeholder);
      input.addEventListener("input", () => {
        setIn(config, path, input.value === "" || Number.isNaN(input.valueAsNumber) ? undefined : input.valueAsNumber);
        ctx.change(false);
      });
      return wrap(label, input, hint, "field narrow");
    },
    check(path, label, { fallback = false, hint } = {}) {
      const value = getIn(config, path);
      const input = register(path, h("input", { type: "checkbox" }));
      input.checked = typeof value === "boolean" ? value : fallback;
      input.addEventListener("change", () => {
        const explicit = typeof getIn(config, path) === "boolean";
        setIn(config, path, !explicit && input.checked === fallback ? undefined : input.checked);
        ctx.change(false);
      });
      const parts = [input, h("label", { for: input.id, text: label })];
      if (hint) {
        parts.push(h("span", { class: "hint", id: `${input.id}-hint`, text: hint }));
        input.setAttribute("aria-describedby", `${input.id}-hint`);
      }
      return h("div", { class: "field check" }, parts);
    },
    select(path, label, choices, { empty, structural = false, hint } = {}) {
      const value = getIn(config, path);
      const input = register(path, h("select"));
      if (empty !== undefined) input.append(h("option", { value: "", text: empty }));
      for (const c of choices) {
        const [v, t] = Array.isArray(c) ? c : [c, c];
        input.append(h("option", { value: v, text: t }));
      }
      const current = value == null ? "" : String(value);
      if (current && ![...input.options].some((o) => o.value === current)) input.append(h("option", { value: current, text: current }));
      input.value = current;
      input.addEventListener("change", () => {
        setIn(config, path, input.value === "" ? undefined : input.value);
        ctx.change(structural, path);
      });
      return wrap(label, input, hint);
    },
    button(text, onclick, attrs = {}) {
      return h("button", { type: "button", class: "small", text, onclick, ...attrs });
    },
    register,
  };
}

function basics(f) {
  return h("div", { class: "grid" },
    f.text("formId", "Form id", { readonly: true, hint: "Recorded in every lead; fixed for this form." }),
    f.text("title", "Title", { hint: "Heading above the first step (at most 120 characters)." }),
    f.text("intro", "Introduction", { multiline: true }),
    f.select("preset", "Start from", [["bant", "The BANT preset (budget, authority, need, timeframe)"]],
      { empty: "No preset: only the questions below", structural: true }),
    f.number("maxQuestionsPerVisit", "Most questions per visit", { placeholder: 6 }),
    f.number("questionsPerStep", "Questions per step", { placeholder: 3 }),
    f.text("endpoint", "Endpoint", { placeholder: "/v1/leads", hint: "Where leads are posted; default this collector." }),
    f.text("variant", "Variant (A/B test arm)"),
  );
}

/** Moves item `from` of `list` to `to`. */
function move(list, from, to) {
  const [item] = list.splice(from, 1);
  list.splice(to, 0, item);
}

function questions(f, ctx) {
  const { config, outline } = ctx;
  const list = Array.isArray(config.questions) ? config.questions : [];
  const effective = new Map((outline?.questions || []).map((q) => [q.id, q]));
  const own = new Set(list.map((q) => q && q.id));
  const removed = Array.isArray(config.removeQuestions) ? config.removeQuestions : [];
  const wrap = h("div", { class: "questions" });
  const items = h("ol", { class: "qlist", "aria-label": "Questions of this config" });
  list.forEach((q, i) => items.append(h("li", {}, question(f, ctx, q, i, list, effective))));
  wrap.append(h("p", { class: "hint", text: "Move a question with its Up and Down buttons, Alt+Arrow Up or Alt+Arrow Down inside it, or by dragging its handle." }), items);
  wrap.append(f.button("Add a question", () => {
    const ids = new Set([...own, ...effective.keys()]);
    let n = list.length + 1;
    while (ids.has(`question${n}`)) n++;
    if (!Array.isArray(config.questions)) config.questions = [];
    config.questions.push({ id: `question${n}`, kind: "singleChoice", label: "", options: [{ id: "a", label: "", points: 0 }] });
    ctx.change(true, `questions[${config.questions.length - 1}].label`);
  }, { class: "add" }));
  if (config.preset) {
    const preset = (outline?.questions || []).filter((q) => !own.has(q.id));
    const box = h("div", { class: "preset" }, h("h3", { text: `Questions from the ${String(config.preset).toUpperCase()} preset` }));
    if (!outline) box.append(h("p", { class: "hint", text: "Fix the errors to see the preset's questions." }));
    const ul = h("ul");
    for (const q of preset) {
      ul.append(h("li", {},
        h("span", { text: `${q.label} (${KIND_NAMES[q.kind] || q.kind}, id ${q.id})` }),
        f.button("Customise", () => {
          if (!Array.isArray(config.questions)) config.questions = [];
          config.questions.push({ id: q.id });
          ctx.change(true, `questions[${config.questions.length - 1}].label`);
        }, { "aria-label": `Customise ${q.id}` }),
        f.button("Remove", () => {
          if (!Array.isArray(config.removeQuestions)) config.removeQuestions = [];
          config.removeQuestions.push(q.id);
          ctx.change(true);
        }, { "aria-label": `Remove ${q.id} from the form` })));
    }
    box.append(ul);
    if (removed.length) {
      box.append(h("p", { text: "Removed from the preset:" }));
      const gone = h("ul");
      removed.forEach((id, i) => gone.append(h("li", { "data-path": `removeQuestions[${i}]` }, h("span", { text: String(id) }), f.button("Restore", () => {
        config.removeQuestions.splice(i, 1);
        if (!config.removeQuestions.length) delete config.removeQuestions;
        ctx.change(true);
      }, { "aria-label": `Restore ${id}` }))));
      box.append(gone);
    }
    wrap.append(box);
  }
  return wrap;
}

function question(f, ctx, q, i, list, effective) {
  const base = `questions[${i}]`;
  if (!q || typeof q !== "object") {
    return h("fieldset", { class: "q", "data-path": base }, h("legend", { text: `Question ${i + 1}` }),
      h("p", { text: "Not an object: edit it as JSON." }));
  }
  const fromPreset = !q.kind && effective.has(q.id);
  const kind = q.kind || effective.get(q.id)?.kind;
  const title = q.label || effective.get(q.id)?.label || q.id || "new question";
  const legendId = `q${i}-legend`;
  const box = h("fieldset", { class: "q", "data-path": base, "aria-labelledby": legendId });
  box.append(h("legend", { id: legendId, text: `Question ${i + 1}: ${title}` }));
  const moveTo = (to, focusPath) => {
    if (to < 0 || to >= list.length) return;
    move(list, i, to);
    ctx.change(true, focusPath.replace(base, `questions[${to}]`), `Question moved to position ${to + 1}.`);
  };
  box.addEventListener("keydown", (e) => {
    if (!e.altKey || (e.key !== "ArrowUp" && e.key !== "ArrowDown")) return;
    e.preventDefault();
    const at = e.target.dataset?.path?.startsWith(base) ? e.target.dataset.path : `${base}.label`;
    moveTo(e.key === "ArrowUp" ? i - 1 : i + 1, at);
  });
  const handle = h("span", { class: "handle", draggable: "true", title: "Drag to move", "aria-hidden": "true", text: "⠿" });
  handle.addEventListener("dragstart", (e) => {
    e.dataTransfer.setData("text/x-bantam-question", String(i));
    e.dataTransfer.effectAllowed = "move";
  });
  box.addEventListener("dragover", (e) => {
    if (e.dataTransfer.types.includes("text/x-bantam-question")) e.preventDefault();
  });
  box.addEventListener("drop", (e) => {
    const from = Number(e.dataTransfer.getData("text/x-bantam-question"));
    if (Number.isNaN(from) || from === i) return;
    e.preventDefault();
    move(list, from, i);
    ctx.change(true, `${base}.label`, `Question moved to position ${i + 1}.`);
  });
  box.append(h("div", { class: "tools" }, handle,
    f.button("Up", () => moveTo(i - 1, `${base}.label`), { "aria-label": `Move question ${i + 1} up`, disabled: i === 0 }),
    f.button("Down", () => moveTo(i + 1, `${base}.label`), { "aria-label": `Move question ${i + 1} down`, disabled: i === list.length - 1 }),
    f.button("Remove", () => {
      list.splice(i, 1);
      ctx.change(true, undefined, `Question ${i + 1} removed.`);
    }, { "aria-label": `Remove question ${i + 1}` })));
  const preset = effective.get(q.id);
  const kindField = f.select(`${base}.kind`, "Kind", KINDS.map((k) => [k, KIND_NAMES[k]]),
    { empty: fromPreset ? "As in the preset" : undefined, structural: true });
  // After the field wrote the kind (the re-render waits for a microtask): what the new kind
  // does not take goes, and a choice gets a first option.
  kindField.querySelector("select").addEventListener("change", () => {
    const next = q.kind;
    const choice = next === "singleChoice" || next === "multipleChoice" || next === "yesNo";
    if (!choice) delete q.options;
    if (next !== "number") for (const k of ["ranges", "min", "max"]) delete q[k];
    if (choice || next === "number") delete q.points;
    if ((next === "singleChoice" || next === "multipleChoice") && !Array.isArray(q.options)) q.options = [{ id: "a", label: "", points: 0 }];
    if (next === "yesNo" && Array.isArray(q.options)) q.options = q.options.filter((o) => o.id === "yes" || o.id === "no");
  });
  box.append(h("div", { class: "grid" },
    f.text(`${base}.id`, "Id", { hint: "Recorded with the answer." }),
    kindField,
    f.text(`${base}.label`, kind === "consent" ? "Consent text" : "Label", { multiline: true, placeholder: preset?.label }),
    f.text(`${base}.help`, "Help text"),
    f.check(`${base}.required`, "Answer required"),
  ));
  if (kind === "singleChoice" || kind === "multipleChoice" || kind === "yesNo") box.append(options(f, ctx, q, base, kind, preset));
  if (kind === "number") {
    box.append(h("div", { class: "grid" }, f.number(`${base}.min`, "Smallest number", { placeholder: 0, step: "any" }),
      f.number(`${base}.max`, "Largest number", { step: "any" })));
    box.append(ranges(f, ctx, q, base));
  }
  if (["text", "email", "phone", "consent"].includes(kind)) box.append(h("div", { class: "grid" }, f.number(`${base}.points`, "Points for an answer", { placeholder: 0 })));
  box.append(showIf(f, ctx, q, base, i));
  box.append(h("details", {}, h("summary", { text: "More settings" }), h("div", { class: "grid" },
    f.text(`${base}.shortLabel`, "Short name (in reasons)"),
    f.select(`${base}.category`, "Category", CATEGORIES, { empty: "Default" }),
    f.number(`${base}.priority`, "Priority (lower is asked first)"),
    f.number(`${base}.unanswered`, "Points when left unanswered", { hint: "Optional questions only." }),
    f.text(`${base}.placeholder`, "Placeholder"),
    f.number(`${base}.maxLength`, "Longest answer (characters)", { placeholder: 200 }),
  )));
  return box;
}

function gradeChoices(ctx) {
  return (ctx.outline?.grades || []).map((g) => g.name);
}

function options(f, ctx, q, base, kind, preset) {
  const own = Array.isArray(q.options);
  const box = h("fieldset", { class: "rows", "data-path": `${base}.options` }, h("legend", { text: kind === "yesNo" ? "Answers (points and disqualifiers)" : "Options" }));
  if (!own) {
    box.append(h("p", { class: "hint", text: preset ? "The preset's options: " + preset.options.map((o) => `${o.label} (${o.points})`).join(", ") : "No options yet." }));
  }
  const list = own ? q.options : [];
  const table = h("div", { class: "table" });
  list.forEach((o, j) => {
    const p = `${base}.options[${j}]`;
    table.append(h("div", { class: "row", "data-path": p },
      kind === "yesNo" ? f.select(`${p}.id`, "Answer", [["yes", "Yes"], ["no", "No"]]) : f.text(`${p}.id`, "Id"),
      f.text(`${p}.label`, "Label"),
      f.number(`${p}.points`, "Points", { placeholder: 0 }),
      f.select(`${p}.capGrade`, "Best grade possible", gradeChoices(ctx), { empty: "No limit" }),
      f.button("Remove", () => {
        list.splice(j, 1);
        ctx.change(true, undefined, `Option ${j + 1} removed.`);
      }, { "aria-label": `Remove option ${j + 1}` })));
  });
  box.append(table);
  box.append(f.button(own ? "Add an option" : preset ? "Change the options" : "Add an option", () => {
    if (!own) q.options = preset ? preset.options.map((o) => ({ id: o.id, label: o.label, points: o.points })) : [];
    if (own || !preset) {
      const ids = new Set(q.options.map((o) => o.id));
      let n = q.options.length + 1;
      while (ids.has(`option${n}`)) n++;
      q.options.push(kind === "yesNo" ? { id: ids.has("yes") ? "no" : "yes", points: 0 } : { id: `option${n}`, label: "", points: 0 });
    }
    ctx.change(true, `${base}.options[${q.options.length - 1}].label`);
  }, { class: "add", "aria-label": `${own || !preset ? "Add an option to" : "Change the options of"} question ${base.match(/\d+/)[0] * 1 + 1}` }));
  return box;
}

function ranges(f, ctx, q, base) {
  const box = h("fieldset", { class: "rows", "data-path": `${base}.ranges` }, h("legend", { text: "Points by range" }));
  const list = Array.isArray(q.ranges) ? q.ranges : [];
  const table = h("div", { class: "table" });
  list.forEach((r, j) => {
    const p = `${base}.ranges[${j}]`;
    table.append(h("div", { class: "row", "data-path": p },
      f.number(`${p}.min`, "From", { step: "any" }),
      f.number(`${p}.max`, "To (empty: no limit)", { step: "any" }),
      f.number(`${p}.points`, "Points"),
      f.text(`${p}.label`, "Label in reasons"),
      f.select(`${p}.capGrade`, "Best grade possible", gradeChoices(ctx), { empty: "No limit" }),
      f.button("Remove", () => {
        list.splice(j, 1);
        if (!list.length) delete q.ranges;
        ctx.change(true);
      }, { "aria-label": `Remove range ${j + 1}` })));
  });
  box.append(table, f.button("Add a range", () => {
    if (!Array.isArray(q.ranges)) q.ranges = [];
    const last = q.ranges[q.ranges.length - 1];
    q.ranges.push({ min: last ? (last.max ?? last.min) + 1 : 0, points: 0 });
    ctx.change(true, `${base}.ranges[${q.ranges.length - 1}].points`);
  }, { class: "add", "aria-label": `Add a range to question ${base.match(/\d+/)[0] * 1 + 1}` }));
  return box;
}

function showIf(f, ctx, q, base, i) {
  const cond = q.showIf && typeof q.showIf === "object" ? q.showIf : null;
  const box = h("fieldset", { class: "rows", "data-path": `${base}.showIf` }, h("legend", { text: "Show only if" }));
  const earlier = (ctx.outline?.questions || []).map((x) => x.id).filter((id) => id !== q.id);
  const qpath = `${base}.showIf.question`;
  const target = f.select(qpath, "Earlier question", earlier, { empty: "Always shown", structural: true });
  const select = target.querySelector("select");
  // After the field's own listener wrote the question (the re-render waits for a microtask).
  select.addEventListener("change", () => {
    if (select.value === "") delete q.showIf;
    else if (q.showIf && Object.keys(q.showIf).length === 1) q.showIf.answered = true;
  });
  box.append(h("div", { class: "grid" }, target));
  if (!cond) return box;
  const op = Object.keys(OPERATORS).find((k) => k in cond) || "";
  const opInput = h("select", { id: `f${i}-op` });
  for (const [k, t] of Object.entries(OPERATORS)) opInput.append(h("option", { value: k, text: t }));
  opInput.value = op;
  opInput.addEventListener("change", () => {
    for (const k of Object.keys(OPERATORS)) delete cond[k];
    const next = opInput.value;
    cond[next] = next === "answered" ? true : next === "oneOf" || next === "noneOf" ? [] : next === "equals" ? "" : 0;
    ctx.change(true, `${base}.showIf.${next}`);
  });
  const row = h("div", { class: "grid" }, h("div", { class: "field" }, h("label", { for: opInput.id, text: "Condition" }), opInput));
  const vpath = `${base}.showIf.${op}`;
  if (op === "answered") row.append(f.select(vpath, "Answered?", [["true", "is answered"], ["false", "is not answered"]]));
  else if (op === "atLeast" || op === "below") row.append(f.number(vpath, "Number", { step: "any" }));
  else if (op === "equals") row.append(f.text(vpath, "Option id (or yes, no)"));
  else if (op) {
    const input = f.text(vpath, "Option ids, separated by commas");
    const el = input.querySelector("input");
    el.value = Array.isArray(cond[op]) ? cond[op].join(", ") : "";
    el.addEventListener("input", (e) => {
      e.stopImmediatePropagation();
      cond[op] = el.value.split(",").map((s) => s.trim()).filter(Boolean);
      ctx.change(false);
    }, { capture: true });
    row.append(input);
  }
  if (op === "answered") {
    const sel = row.querySelector(`select[data-path="${CSS.escape(vpath)}"]`);
    sel.value = String(cond.answered);
    sel.addEventListener("change", (e) => {
      e.stopImmediatePropagation();
      cond.answered = sel.value === "true";
      ctx.change(false);
    }, { capture: true });
  }
  box.append(row);
  return box;
}

function grades(f, ctx) {
  const { config, outline } = ctx;
  const wrap = h("div");
  if (!Array.isArray(config.grades)) {
    const names = (outline?.grades || []).map((g) => `${g.label} from ${g.min}`).join(", ");
    wrap.append(h("p", { text: `Default grades${names ? ": " + names : ""}.` }), f.button("Change the grades", () => {
      config.grades = (outline?.grades || [{ name: "hot", min: 70 }, { name: "warm", min: 40 }, { name: "cold", min: 0 }]).map((g) => ({ name: g.name, min: g.min }));
      ctx.change(true, "grades[0].min");
    }));
  } else {
    const table = h("div", { class: "table" });
    config.grades.forEach((g, j) => {
      const p = `grades[${j}]`;
      table.append(h("div", { class: "row", "data-path": p },
        f.text(`${p}.name`, "Name"),
        f.text(`${p}.label`, "Label"),
        f.number(`${p}.min`, "Lowest total (0-100)"),
        f.button("Remove", () => {
          config.grades.splice(j, 1);
          ctx.change(true);
        }, { "aria-label": `Remove grade ${j + 1}` })));
    });
    wrap.append(h("p", { class: "hint", text: "Best first; the last grade starts at 0." }), table, f.button("Add a grade", () => {
      config.grades.push({ name: `grade${config.grades.length + 1}`, min: 0 });
      ctx.change(true, `grades[${config.grades.length - 1}].name`);
    }, { class: "add" }));
  }
  const ty = h("fieldset", { class: "rows", "data-path": "thankYou" }, h("legend", { text: "Thank-you step (every grade)" }));
  ty.append(thankYou(f, "thankYou"));
  wrap.append(ty);
  for (const g of outline?.grades || []) {
    const p = `thankYouByGrade.${g.name}`;
    const set = h("details", { "data-path": p, open: getIn(config, p) ? true : undefined },
      h("summary", { text: `Thank-you step for ${g.label} leads` }), thankYou(f, p));
    wrap.append(set);
  }
  return wrap;
}

function thankYou(f, p) {
  return h("div", { class: "grid" }, THANK_YOU.map(([k, label, multi]) => f.text(`${p}.${k}`, label, { multiline: multi === "textarea" })),
    f.check(`${p}.linkNewTab`, "Open the link in a new tab"));
}

function scoring(f, ctx) {
  const { config } = ctx;
  const sum = getIn(config, "scoring.mode") === "sum";
  const wrap = h("div");
  wrap.append(h("div", { class: "grid" },
    f.select("scoring.mode", "Mode", [["shares", "Weighted category shares (default)"], ["sum", "Sum of points"]], { empty: "Default (weighted shares)", structural: true }),
    sum ? f.number("scoring.offset", "Starting points") : null));
  if (!sum) {
    const weights = h("fieldset", { class: "rows", "data-path": "weights" }, h("legend", { text: "Category weights" }),
      h("div", { class: "grid" }, CATEGORIES.map((c) => f.number(`weights.${c}`, c[0].toUpperCase() + c.slice(1), { placeholder: WEIGHT_DEFAULTS[c] }))));
    wrap.append(weights);
  }
  const signals = h("fieldset", { class: "rows", "data-path": "signals" }, h("legend", { text: "Signals (scored without asking)" }));
  const list = Array.isArray(config.signals) ? config.signals : [];
  list.forEach((s, j) => {
    const p = `signals[${j}]`;
    const values = h("div", { class: "table", "data-path": `${p}.values` });
    for (const key of Object.keys(s.values || {})) {
      values.append(h("div", { class: "row" }, h("span", { class: "key", text: key }), f.number(`${p}.values.${key}`, `Points for ${key}`),
        f.button("Remove", () => {
          delete s.values[key];
          ctx.change(true);
        }, { "aria-label": `Remove value ${key}` })));
    }
    const newKey = h("input", { type: "text", id: `f-sig${j}-new` });
    signals.append(h("div", { class: "signal", "data-path": p },
      h("div", { class: "grid" },
        f.text(`${p}.id`, "Id"),
        f.select(`${p}.input`, "Reads", SIGNAL_INPUTS),
        f.text(`${p}.shortLabel`, "Short name"),
        f.select(`${p}.category`, "Category", CATEGORIES, { empty: "Default (fit)" }),
        f.number(`${p}.other`, "Points for another value"),
        f.number(`${p}.none`, "Points when there is none")),
      values,
      h("div", { class: "field" }, h("label", { for: newKey.id, text: "New value" }), newKey),
      f.button("Add the value", () => {
        if (!newKey.value.trim()) return;
        s.values = s.values || {};
        s.values[newKey.value.trim()] = 0;
        ctx.change(true, `${p}.values.${newKey.value.trim()}`);
      }),
      f.button("Remove the signal", () => {
        list.splice(j, 1);
        if (!list.length) delete config.signals;
        ctx.change(true);
      })));
  });
  signals.append(f.button("Add a signal", () => {
    if (!Array.isArray(config.signals)) config.signals = [];
    config.signals.push({ id: `signal${config.signals.length + 1}`, input: "utmSource", values: {} });
    ctx.change(true, `signals[${config.signals.length - 1}].id`);
  }, { class: "add" }));
  wrap.append(signals);
  return wrap;
}

function texts(f, ctx) {
  const { config } = ctx;
  const wrap = h("div");
  wrap.append(h("div", { class: "grid" }, f.select("locale", "Language", [["en", "English"], ["de", "German"], ["fr", "French"], ["es", "Spanish"], ["auto", "The visitor's, among those the config has"]], { empty: "Default (English)" })));
  wrap.append(h("details", {}, h("summary", { text: "Interface texts" }), h("div", { class: "grid" }, TEXT_KEYS.map((k) => f.text(`texts.${k}`, k)))));
  wrap.append(translations(f, ctx));
  return wrap;
}

/** The config's texts in more languages: `translations.<tag>`, one box per language. */
function translations(f, ctx) {
  const { config, outline } = ctx;
  const box = h("fieldset", { class: "rows", "data-path": "translations" }, h("legend", { text: "Translations" }));
  const all = config.translations && typeof config.translations === "object" ? config.translations : {};
  for (const tag of Object.keys(all)) {
    const p = `translations.${tag}`;
    const t = all[tag] && typeof all[tag] === "object" ? all[tag] : {};
    // A new (empty) translation opens at once.
    const part = h("details", { "data-path": p, open: Object.keys(t).length === 0 || ctx.open?.has(tag) ? true : undefined },
      h("summary", { text: `Language ${tag}` }));
    part.addEventListener("toggle", () => {
      ctx.open = ctx.open || new Set();
      if (part.open) ctx.open.add(tag); else ctx.open.delete(tag);
    });
    part.append(h("div", { class: "grid" },
      f.text(`${p}.title`, `Title (${tag})`),
      f.text(`${p}.intro`, `Introduction (${tag})`, { multiline: true })));
    const list = Array.isArray(t.questions) ? t.questions : [];
    for (const q of outline?.questions || []) {
      const i = list.findIndex((x) => x && x.id === q.id);
      if (i < 0) {
        part.append(h("p", { class: "row" }, h("span", { text: `${q.label} (${q.id}): not translated ` }), f.button("Translate", () => {
          if (!Array.isArray(t.questions)) t.questions = [];
          t.questions.push({ id: q.id, label: q.label });
          if (!config.translations[tag]) config.translations[tag] = t;
          ctx.change(true, `${p}.questions[${t.questions.length - 1}].label`);
        }, { "aria-label": `Translate question ${q.id} into ${tag}` })));
        continue;
      }
      const qp = `${p}.questions[${i}]`;
      const row = h("div", { class: "row", "data-path": qp },
        f.text(`${qp}.label`, `${q.id}: label`, { placeholder: q.label }),
        f.text(`${qp}.help`, `${q.id}: help`),
        f.text(`${qp}.shortLabel`, `${q.id}: short name`));
      const entry = list[i];
      if (q.options.length && q.kind !== "yesNo") {
        if (Array.isArray(entry.options)) {
          entry.options.forEach((o, j) => row.append(f.text(`${qp}.options[${j}].label`, `${q.id}: option ${o && o.id}`)));
        } else {
          row.append(f.button("Translate the options", () => {
            entry.options = q.options.map((o) => ({ id: o.id, label: o.label }));
            ctx.change(true, `${qp}.options[0].label`);
          }, { "aria-label": `Translate the options of ${q.id} into ${tag}` }));
        }
      }
      part.append(row);
    }
    part.append(h("details", {}, h("summary", { text: `Interface texts (${tag})` }),
      h("div", { class: "grid" }, TEXT_KEYS.map((k) => f.text(`${p}.texts.${k}`, `${k} (${tag})`)))));
    part.append(h("div", { class: "grid", "data-path": `${p}.thankYou` }, THANK_YOU.map(([k, label, multi]) => f.text(`${p}.thankYou.${k}`, `Thank-you: ${label.toLowerCase()} (${tag})`, { multiline: multi === "textarea" }))));
    part.append(f.button(`Remove the ${tag} translation`, () => {
      delete config.translations[tag];
      if (!Object.keys(config.translations).length) delete config.translations;
      ctx.change(true);
    }));
    box.append(part);
  }
  const tag = h("input", { type: "text", id: "f-new-language", placeholder: "de, pt-BR" });
  box.append(h("div", { class: "grid" }, h("div", { class: "field narrow" }, h("label", { for: tag.id, text: "New language" }), tag),
    f.button("Add a translation", () => {
      const name = tag.value.trim();
      if (!name) return;
      if (!config.translations || typeof config.translations !== "object") config.translations = {};
      config.translations[name] = config.translations[name] || {};
      ctx.change(true, `translations.${name}.title`);
    })));
  box.append(h("p", { class: "hint", text: "Per-grade thank-you steps in other languages: edit them as JSON (translations.<tag>.thankYouByGrade)." }));
  return box;
}

function theme(f) {
  return h("div", { class: "grid" }, THEME_KEYS.map((k) => f.text(`theme.${k}`, k, { placeholder: k === "radius" ? "8px" : "" })),
    f.select("theme.scheme", "Colour scheme", [["light", "Light"], ["dark", "Dark"], ["auto", "The visitor's setting"]], { empty: "Default (light)" }));
}

function spam(f) {
  return h("div", { class: "grid" },
    f.check("spam.honeypot", "Hidden honeypot field", { fallback: true }),
    f.number("spam.minFillSeconds", "Fastest plausible fill (seconds)", { placeholder: 3 }),
    f.select("spam.action", "A caught submission is", [["flag", "sent, flagged"], ["drop", "dropped"]], { empty: "Default (flagged)" }));
}

function delivery(f, ctx) {
  const { config, outline } = ctx;
  const format = getIn(config, "delivery.format") || "json";
  const wrap = h("div");
  wrap.append(h("div", { class: "grid" },
    f.select("delivery.format", "Format", [["json", "Lead document (JSON)"], ["hubspot", "HubSpot form"], ["salesforce", "Salesforce Web-to-Lead"], ["form", "Form post"]], { empty: "Default (JSON)", structural: true }),
    f.text("delivery.fallback", "Fallback collector", { hint: "A Bantam collector's /v1/leads for leads the endpoint refuses." }),
    format === "salesforce" ? f.text("delivery.salesforceOid", "Salesforce organisation id") : null,
    nullable(f, ctx, "delivery.scoreField", "Score field"),
    nullable(f, ctx, "delivery.gradeField", "Grade field")));
  if (format !== "json") {
    const fields = h("fieldset", { class: "rows", "data-path": "delivery.fields" }, h("legend", { text: "Field names (question → endpoint field)" }),
      h("div", { class: "grid" }, (outline?.questions || []).map((q) => f.text(`delivery.fields.${q.id}`, q.id, { placeholder: q.id }))));
    wrap.append(fields);
    const values = h("fieldset", { class: "rows", "data-path": "delivery.values" }, h("legend", { text: "Values sent for options" }));
    for (const q of (outline?.questions || []).filter((x) => x.options.length && x.kind !== "yesNo")) {
      values.append(h("fieldset", { class: "rows", "data-path": `delivery.values.${q.id}` }, h("legend", { text: q.id }),
        h("div", { class: "grid" }, q.options.map((o) => f.text(`delivery.values.${q.id}.${o.id}`, o.label || o.id, { placeholder: o.id })))));
    }
    // A number goes out as the value of the last band whose `min` it reaches.
    for (const q of (outline?.questions || []).filter((x) => x.kind === "number")) {
      const p = `delivery.values.${q.id}`;
      const bands = Array.isArray(getIn(config, p)) ? getIn(config, p) : [];
      const box = h("fieldset", { class: "rows", "data-path": p }, h("legend", { text: `${q.id}: value by number` }));
      bands.forEach((_, j) => box.append(h("div", { class: "row", "data-path": `${p}[${j}]` },
        f.number(`${p}[${j}].min`, "From", { step: "any" }),
        f.text(`${p}[${j}].value`, "Value sent"),
        f.button("Remove", () => {
          bands.splice(j, 1);
          if (!bands.length) setIn(config, p, undefined);
          ctx.change(true);
        }, { "aria-label": `Remove band ${j + 1} of ${q.id}` }))));
      box.append(f.button("Add a band", () => {
        const last = bands[bands.length - 1];
        const next = { min: last ? (Number(last.min) || 0) + 1 : q.min, value: "" };
        if (bands.length) bands.push(next);
        else setIn(config, p, [next]);
        ctx.change(true, `${p}[${bands.length ? bands.length - 1 : 0}].value`);
      }, { "aria-label": `Add a band to ${q.id}` }));
      values.append(box);
    }
    wrap.append(values);
  }
  return wrap;
}

/** A field that may be absent (default), null (none) or a name. */
function nullable(f, ctx, path, label) {
  const box = f.text(path, label, { placeholder: "default" });
  const input = box.querySelector("input");
  const none = h("input", { type: "checkbox", id: `${input.id}-none` });
  none.checked = getIn(ctx.config, path) === null;
  input.disabled = none.checked;
  none.addEventListener("change", () => {
    setIn(ctx.config, path, none.checked ? null : undefined);
    ctx.change(true, path);
  });
  box.append(h("span", { class: "check" }, none, h("label", { for: none.id, text: "send none" })));
  return box;
}
