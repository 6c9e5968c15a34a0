// The score simulator: an answer control per question of the draft (after the preset and
// overrides), the page a visitor arrived on when the form scores signals, and the score the
// engine gives them (`scoreAnswers` of the widget's full module), as a lead would carry it.
// And "What would this change do": the form's stored leads re-scored with the draft.

import { changeHeaders, h } from "./fields.js";

/**
 * The simulator in `root`. `engine` is the full module; `draft()` the current config.
 * @returns {{update(outline: object|null): void}}
 */
export function simulator(root, engine, draft, formId) {
  const answers = {};
  const touch = { url: "", referrer: "" };
  const controls = h("div", { class: "sim-controls" });
  const result = h("div", { class: "sim-result", id: "sim-result", role: "status", "aria-live": "polite" });
  const impactOut = h("p", { class: "impact", id: "impact-result", role: "status", "aria-live": "polite" });
  const impactButton = h("button", { type: "button", text: "What would this change do?" });
  let outline = null;
  let shown = "";

  impactButton.addEventListener("click", async () => {
    impactButton.disabled = true;
    impactOut.textContent = "Re-scoring the stored leads…";
    try {
      const response = await fetch(`/v1/forms/${encodeURIComponent(formId)}/impact`, {
        method: "POST", headers: changeHeaders(), body: JSON.stringify(draft()),
      });
      const body = await response.json().catch(() => ({}));
      if (!response.ok) throw new Error(body.error || `HTTP ${response.status}`);
      impactOut.textContent = impactText(body);
    } catch (error) {
      impactOut.textContent = `Could not re-score the stored leads: ${error.message}`;
    } finally {
      impactButton.disabled = false;
    }
  });
  root.replaceChildren(
    h("h2", { id: "h-sim", text: "Score simulator" }),
    h("p", { class: "hint", text: "Pick answers: the engine scores them with the draft, as it would score a lead." }),
    controls, result,
    h("div", { class: "impact-box" }, impactButton, impactOut),
  );

  function score() {
    if (!outline) {
      result.replaceChildren(h("p", { text: "The simulator needs a valid form: fix the errors first." }));
      return;
    }
    let s;
    try {
      s = engine.scoreAnswers(draft(), answers, outline.signals.length ? touch : undefined);
    } catch (error) {
      result.replaceChildren(h("p", { class: "error", text: error.message }));
      return;
    }
    const grade = outline.grades.find((g) => g.name === s.grade);
    const rows = Object.entries(s.breakdown).map(([category, part]) => h("tr", {},
      h("th", { scope: "row", text: category }), h("td", { text: `${part.points} of ${part.maxPoints}` }),
      h("td", { text: String(part.score) }), h("td", { text: String(part.weight) })));
    result.replaceChildren(
      h("p", { class: "total" }, h("span", { text: "Total " }), h("strong", { id: "sim-total", text: String(s.total) }),
        h("span", { text: " · grade " }), h("strong", { id: "sim-grade", class: `grade g-${s.grade}`, text: grade?.label || s.grade }),
        h("span", { text: ` · known ${s.known}%` }), s.cappedBy ? h("span", { text: ` · capped at ${s.cappedBy}` }) : null),
      h("table", { class: "breakdown" }, h("caption", { text: "Breakdown by category" }),
        h("thead", {}, h("tr", {}, ["Category", "Points", "Score", "Weight"].map((t) => h("th", { scope: "col", text: t })))),
        h("tbody", {}, rows)),
      h("ul", { class: "reasons", "aria-label": "Reasons" }, s.reasons.map((r) => h("li", { text: r.text }))),
    );
  }

  function control(q) {
    const id = `sim-${q.id}`;
    const label = h("label", { for: id, text: q.label || q.id });
    const set = (value) => {
      if (value === undefined || value === "" || (Array.isArray(value) && !value.length)) delete answers[q.id];
      else answers[q.id] = value;
      score();
    };
    if (q.kind === "singleChoice" || q.kind === "yesNo") {
      const select = h("select", { id }, h("option", { value: "", text: "Not answered" }),
        q.options.map((o) => h("option", { value: o.id, text: `${o.label} (${o.points})` })));
      select.value = q.kind === "yesNo" ? (answers[q.id] === true ? "yes" : answers[q.id] === false ? "no" : "") : answers[q.id] || "";
      select.addEventListener("change", () => set(q.kind === "yesNo" ? (select.value === "" ? undefined : select.value === "yes") : select.value));
      return h("div", { class: "field" }, label, select);
    }
    if (q.kind === "multipleChoice") {
      const chosen = new Set(answers[q.id] || []);
      return h("fieldset", { class: "field" }, h("legend", { text: q.label || q.id }), q.options.map((o) => {
        const box = h("input", { type: "checkbox", id: `${id}-${o.id}`, value: o.id });
        box.checked = chosen.has(o.id);
        box.addEventListener("change", () => {
          if (box.checked) chosen.add(o.id); else chosen.delete(o.id);
          set(q.options.map((x) => x.id).filter((x) => chosen.has(x)));
        });
        return h("span", { class: "check" }, box, h("label", { for: box.id, text: `${o.label} (${o.points})` }));
      }));
    }
    if (q.kind === "consent") {
      const box = h("input", { type: "checkbox", id });
      box.checked = answers[q.id] === true;
      box.addEventListener("change", () => set(box.checked ? true : undefined));
      return h("div", { class: "field check" }, box, label);
    }
    const input = h("input", { id, type: q.kind === "number" ? "number" : q.kind === "email" ? "email" : "text" });
    input.value = answers[q.id] ?? "";
    input.addEventListener("input", () => set(q.kind === "number" ? (input.value === "" ? undefined : input.valueAsNumber) : input.value));
    return h("div", { class: "field" }, label, input);
  }

  return {
    update(next) {
      outline = next;
      if (!outline) {
        score();
        return;
      }
      // Answers that no longer fit the form are dropped.
      const byId = new Map(outline.questions.map((q) => [q.id, q]));
      for (const [id, value] of Object.entries(answers)) {
        const q = byId.get(id);
        const ids = q ? new Set(q.options.map((o) => o.id)) : null;
        const fits = q && (q.kind === "singleChoice" ? ids.has(value)
          : q.kind === "multipleChoice" ? Array.isArray(value) && value.every((v) => ids.has(v)) : true);
        if (!fits) delete answers[id];
      }
      const key = JSON.stringify([outline.questions, outline.signals.length]);
      if (key !== shown) {
        shown = key;
        const focused = document.activeElement && controls.contains(document.activeElement) ? document.activeElement.id : null;
        controls.replaceChildren(...outline.questions.map(control));
        if (outline.signals.length) {
          for (const [k, label] of [["url", "Landing page address (with its UTM tags)"], ["referrer", "Referrer"]]) {
            const input = h("input", { type: "url", id: `sim-touch-${k}`, value: touch[k] });
            input.addEventListener("input", () => { touch[k] = input.value; score(); });
            controls.append(h("div", { class: "field" }, h("label", { for: input.id, text: label }), input));
          }
        }
        if (focused) document.getElementById(focused)?.focus();
      }
      score();
    },
  };
}

/** "3 of 40 stored leads change grade: warm → hot 2, hot → warm 1.", and how many the draft cannot read. */
export function impactText(body) {
  const moves = (body.transitions || []).map((t) => `${t.from} → ${t.to} ${t.count}`).join(", ");
  const limit = body.limit && body.leads >= body.limit ? ` (the last ${body.limit} leads)` : "";
  const unreadable = body.unreadable
    ? ` ${body.unreadable} of them have answers the draft cannot read (a question or option it removed).`
    : "";
  return `${body.changed} of ${body.leads} stored leads change grade${limit}${moves ? ": " + moves : ""}.${unreadable}`;
}
