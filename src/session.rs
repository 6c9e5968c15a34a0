//! One mounted form's state, for the hand-written DOM layer (`widget.js`): the engine's form,
//! the answers, the steps of this visit, and what is kept about the visitor. Every rule (which
//! questions to ask, whether an answer is valid, what is visible, the lead and its payload) is
//! the engine's; `widget.js` draws what this says and reads the controls back into it.

use crate::prelude::*;
use bantam_engine::{
    build_lead, decimal, encode, next_questions, AnswerValue, Answers, Attribution, BrowserInfo,
    Extras, Form, Input, JsonWriter, Kind, LeadInput, PageInfo, SpamAction,
};
use wasm_bindgen::prelude::*;

use crate::events::from_json;
use crate::visitor;

/// The form's stylesheet, minified by hand: it ships in every module and every shadow root, so
/// it holds no comments. Its last rule, `.hp`, is the honeypot: clipped to nothing, for bots
/// only (no offset, which would widen a right-to-left page).
const STYLE: &str = include_str!("style.css");

/// What the form editor's preview asks of a mount (the `preview` option, full module only): a
/// preview keeps nothing about the visitor and sends nothing, opens at `step` (0 is the first)
/// or on the thank-you step of the grade at `thank_you`. Empty in the lean module.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct Preview {
    #[cfg(feature = "validator")]
    pub(crate) active: bool,
    #[cfg(feature = "validator")]
    pub(crate) step: usize,
    #[cfg(feature = "validator")]
    pub(crate) thank_you: Option<usize>,
}

impl Preview {
    /// Whether this mount is the editor's preview.
    fn active(self) -> bool {
        #[cfg(feature = "validator")]
        return self.active;
        #[cfg(not(feature = "validator"))]
        false
    }
}

/// A mounted form's state (see the module's summary). Question indices are the form's. Not
/// part of the public API: only `widget.js` uses it (and the module's types leave it out).
#[wasm_bindgen(skip_typescript)]
pub struct Session {
    form: Form,
    answers: Answers,
    /// Answers from earlier visits, and this visit's number.
    known: Answers,
    visit_count: u32,
    /// First and last touch, this page view included.
    attribution: Attribution,
    steps: Vec<Vec<usize>>,
    step: usize,
    /// The grade of the submitted lead (index into the form's grades), for the thank-you step.
    grade: usize,
    preview: Preview,
}

fn split_steps(chosen: &[usize], per_step: usize) -> Vec<Vec<usize>> {
    let mut steps = Vec::new();
    for step in chosen.chunks(per_step) {
        steps.push(step.to_vec());
    }
    steps
}

fn text(value: &str) -> JsValue {
    JsValue::from_str(value)
}

/// A `[first, second]` pair of strings.
fn pair(w: &mut JsonWriter, first: &str, second: &str) {
    w.begin_array(None);
    w.string(None, first);
    w.string(None, second);
    w.end_array();
}

/// A list of question indices under `key`.
fn indices<'a>(w: &mut JsonWriter, key: &str, list: impl Iterator<Item = &'a usize>) {
    w.begin_array(Some(key));
    for &i in list {
        w.int(None, i as i64);
    }
    w.end_array();
}

impl Session {
    /// The session of a form shown on the page at `url` (reached from `referrer`) at `now`
    /// (ISO 8601): the visitor's stored profile and touches (none in a preview) and the steps
    /// of this visit.
    pub(crate) fn new(form: Form, preview: Preview, url: &str, referrer: &str, now: &str) -> Self {
        let profile = if preview.active() {
            visitor::Profile {
                known: Answers::new(),
                visit_count: 1,
            }
        } else {
            visitor::load_profile(&form)
        };
        let attribution = visitor::attribution(url, referrer, now);
        if !preview.active() && !visitor::needs_consent(&form) {
            visitor::remember(&attribution);
        }
        let chosen = next_questions(&form, &profile.known);
        let steps = split_steps(&chosen, form.questions_per_step);
        #[cfg_attr(not(feature = "validator"), allow(unused_mut))]
        let mut session = Session {
            answers: profile.known.clone(),
            known: profile.known,
            visit_count: profile.visit_count,
            attribution,
            steps,
            step: 0,
            grade: 0,
            preview,
            form,
        };
        // The editor's preview may open on a later step or on a grade's thank-you step.
        #[cfg(feature = "validator")]
        match preview.thank_you {
            Some(grade) => session.grade = grade,
            None => session.step = preview.step.min(session.steps.len().saturating_sub(1)),
        }
        session
    }

    /// The steps from `candidates` on that have a visible question.
    fn visible_step(&self, mut candidates: impl Iterator<Item = usize>) -> Option<usize> {
        candidates.find(|&s| {
            self.steps[s]
                .iter()
                .any(|&i| self.form.is_visible(i, &self.answers))
        })
    }

    fn next_step(&self) -> Option<usize> {
        self.visible_step(self.step + 1..self.steps.len())
    }

    fn prev_step(&self) -> Option<usize> {
        self.visible_step((0..self.step).rev())
    }
}

#[wasm_bindgen]
impl Session {
    /// What `widget.js` draws, once: `{id, locale, dir, theme: [[name, value]], css, texts,
    /// title?, intro?, honeypot, preview, thanks, lateAfter, known, chosen, steps, questions:
    /// [{id, kind, label, help?, required, placeholder?, maxLength, autocomplete?, choices?:
    /// [[id, label]]}]}`. `known`: answers from earlier visits are in use (the form offers "Not
    /// you?"); `chosen`: every question this visit asks, in order, in `steps` steps.
    /// `kind` is `choice`, `multiple`, `consent`, `email`, `tel`, `number` or `text`; `thanks`
    /// says the preview opens on a thank-you step. A `?` field the form lacks is `null`.
    pub fn view(&self) -> JsValue {
        // Written as JSON and parsed once: building the objects through js-sys took the wasm
        // a call per field and a collector per array type.
        let form = &self.form;
        let t = &form.texts;
        let mut w = JsonWriter::new();
        w.begin_object(None);
        w.string(Some("id"), &form.id);
        w.string(Some("locale"), &form.locale);
        w.string(Some("dir"), form.direction.as_str());
        w.begin_array(Some("theme"));
        for (name, value) in &form.theme {
            pair(&mut w, name, value);
        }
        w.end_array();
        w.string(Some("css"), STYLE);
        w.begin_object(Some("texts"));
        for (key, value) in [
            ("formLabel", &t.form_label),
            ("back", &t.back),
            ("next", &t.next),
            ("submit", &t.submit),
            ("sending", &t.sending),
            ("required", &t.required_mark),
            ("notYou", &t.not_you),
            ("welcomeBack", &t.welcome_back),
            ("errorSummary", &t.error_summary),
            ("submitFailed", &t.submit_failed),
        ] {
            w.string(Some(key), value);
        }
        w.end_object();
        w.optional(Some("title"), form.title.as_deref());
        w.optional(Some("intro"), form.intro.as_deref());
        w.bool(Some("honeypot"), form.spam.honeypot);
        w.bool(Some("preview"), self.preview.active());
        #[cfg(feature = "validator")]
        w.bool(Some("thanks"), self.preview.thank_you.is_some());
        #[cfg(not(feature = "validator"))]
        w.bool(Some("thanks"), false);
        w.int(Some("lateAfter"), bantam_engine::LATE_AFTER_MS);
        w.bool(Some("known"), !self.known.is_empty());
        indices(&mut w, "chosen", self.steps.iter().flatten());
        w.int(Some("steps"), self.steps.len() as i64);
        w.begin_array(Some("questions"));
        for q in &form.questions {
            let (kind, choices) = match &q.kind {
                Kind::SingleChoice(c) | Kind::YesNo(c) => ("choice", Some(c)),
                Kind::MultipleChoice(c) => ("multiple", Some(c)),
                Kind::Consent => ("consent", None),
                Kind::Email => ("email", None),
                Kind::Phone => ("tel", None),
                Kind::Number { .. } => ("number", None),
                Kind::Text => ("text", None),
            };
            let autocomplete = match (&q.kind, q.id.as_str()) {
                (Kind::Email, _) => Some("email"),
                (Kind::Phone, _) => Some("tel"),
                (Kind::Text, "company") => Some("organization"),
                (Kind::Text, "name") => Some("name"),
                _ => None,
            };
            w.begin_object(None);
            w.string(Some("id"), &q.id);
            w.string(Some("kind"), kind);
            w.string(Some("label"), &q.label);
            w.optional(Some("help"), q.help.as_deref());
            w.bool(Some("required"), q.required);
            w.optional(Some("placeholder"), q.placeholder.as_deref());
            w.int(Some("maxLength"), q.max_length as i64);
            w.optional(Some("autocomplete"), autocomplete);
            match choices {
                Some(choices) => {
                    w.begin_array(Some("choices"));
                    for c in choices {
                        pair(&mut w, &c.id, &c.label);
                    }
                    w.end_array();
                }
                None => w.null(Some("choices")),
            }
            w.end_object();
        }
        w.end_array();
        w.end_object();
        from_json(&w.finish())
    }

    /// Where the visit stands: `{step, total, questions, hasPrev, progress}`, the current
    /// step (1 is the first), the number of steps of this visit (0 when everything is known
    /// already), the current step's questions, whether an earlier step has a visible question
    /// (the Back button is shown) and the progress text, such as "Step 1 of 2". One JSON text:
    /// an export per figure cost the wasm more.
    pub fn at(&self) -> JsValue {
        let mut w = JsonWriter::new();
        w.begin_object(None);
        w.int(Some("step"), self.step as i64 + 1);
        w.int(Some("total"), self.steps.len() as i64);
        indices(
            &mut w,
            "questions",
            self.steps.get(self.step).into_iter().flatten(),
        );
        w.bool(Some("hasPrev"), self.prev_step().is_some());
        w.string(Some("progress"), &self.progress());
        w.end_object();
        from_json(&w.finish())
    }

    /// Whether question `index` is shown with the answers so far (`showIf`).
    pub fn visible(&self, index: u32) -> bool {
        self.form.is_visible(index as usize, &self.answers)
    }

    /// Whether a later step has a visible question (the button says Next, else Send).
    #[wasm_bindgen(js_name = hasNext)]
    pub fn has_next(&self) -> bool {
        self.next_step().is_some()
    }

    /// Moves to the next step with a visible question; false on the last.
    pub fn forward(&mut self) -> bool {
        self.next_step().map(|s| self.step = s).is_some()
    }

    /// Moves to the previous step with a visible question; false on the first.
    pub fn back(&mut self) -> bool {
        self.prev_step().map(|s| self.step = s).is_some()
    }
}

impl Session {
    /// The progress text, such as "Step 1 of 2".
    fn progress(&self) -> String {
        bantam_engine::fill(
            &self.form.texts.progress,
            &[
                ("current", &decimal(self.step as i64 + 1)),
                ("total", &decimal(self.steps.len() as i64)),
            ],
        )
    }
}

#[wasm_bindgen]
impl Session {
    /// The answer to question `index` to show in its control: the chosen ids (a choice), true
    /// or false (consent), the text, or undefined.
    pub fn value(&self, index: u32) -> JsValue {
        let q = &self.form.questions[index as usize];
        let value = self.answers.get(&q.id);
        match &q.kind {
            Kind::SingleChoice(_) | Kind::MultipleChoice(_) | Kind::YesNo(_) => {
                let mut w = JsonWriter::new();
                w.begin_array(None);
                match value {
                    Some(AnswerValue::Text(v)) => w.string(None, v),
                    Some(AnswerValue::List(vs)) => {
                        for v in vs {
                            w.string(None, v);
                        }
                    }
                    Some(AnswerValue::Bool(b)) => w.string(None, if *b { "yes" } else { "no" }),
                    _ => {}
                }
                w.end_array();
                from_json(&w.finish())
            }
            Kind::Consent => JsValue::from_bool(matches!(value, Some(AnswerValue::Bool(true)))),
            _ => match value {
                Some(AnswerValue::Text(v)) => text(v),
                Some(AnswerValue::Number(n)) => text(&bantam_engine::format_number(*n)),
                _ => JsValue::UNDEFINED,
            },
        }
    }

    /// Reads what the control of question `index` holds (a string, the checked ids, or a
    /// checkbox's state) into the answers. Returns the message to show when it is not a valid
    /// answer, which then steers no condition.
    pub fn set(&mut self, index: u32, input: JsValue) -> Option<String> {
        let id = self.form.questions[index as usize].id.clone();
        let typed;
        let input = if let Some(flag) = input.as_bool() {
            Input::Flag(flag)
        } else if let Some(list) = crate::js::as_array(&input) {
            let mut checked = Vec::new();
            for item in list.items() {
                if let Some(id) = item.as_string() {
                    checked.push(id);
                }
            }
            Input::Checked(checked)
        } else {
            typed = input.as_string().unwrap_or_default();
            Input::Text(&typed)
        };
        let result = self.answers.set(&self.form, &id, input);
        result.err().map(|err| {
            self.answers.remove(&id);
            err.message(&self.form.texts)
        })
    }

    /// Forgets the answer to question `index` (hidden by a condition).
    pub fn remove(&mut self, index: u32) {
        let id = self.form.questions[index as usize].id.clone();
        self.answers.remove(&id);
    }

    /// "Not you?": forgets the stored profile and starts over with every question.
    pub fn forget(&mut self) {
        visitor::forget(&self.form.id);
        self.known = Answers::new();
        self.answers = Answers::new();
        self.visit_count = 1;
        let chosen = next_questions(&self.form, &self.answers);
        self.steps = split_steps(&chosen, self.form.questions_per_step);
        self.step = 0;
    }

    /// The submission with lead id `id` (made once per submission by `widget.js`) from the
    /// page and browser as measured now: `page` is the page's URL, title and referrer, the
    /// browser's language and time zone, and the time of submission (ISO 8601). Keeps the visitor's profile where the form allows it.
    /// Returns `{score, preview: true}` in the editor's preview (nothing sent or kept),
    /// `{drop: true}` for spam the form drops, else `{score, lead, entry}`, `entry` being the
    /// outbox entry of the payload (see `platform.js`).
    pub fn submit(
        &mut self,
        id: String,
        #[wasm_bindgen(unchecked_param_type = "string[]")] page: JsValue,
        fill_time_ms: f64,
        honeypot_filled: bool,
        hutk: Option<String>,
        submitted_ms: f64,
    ) -> JsValue {
        let [url, title, referrer, locale, time_zone, submitted_at] =
            <[String; 6]>::try_from(crate::js::strings(&page)).unwrap_or_default();
        let mut new_answers = Vec::new();
        for (id, value) in self.answers.values().iter() {
            if self.known.get(id) != Some(value) {
                new_answers.push(id.clone());
            }
        }
        let input = LeadInput {
            id: id.clone(),
            submitted_at,
            page: PageInfo {
                url,
                title,
                referrer,
            },
            attribution: Some(self.attribution.clone()),
            visit_count: self.visit_count,
            new_answers,
            browser: BrowserInfo {
                locale,
                time_zone,
                fill_time_ms: fill_time_ms.max(0.0) as u64,
                honeypot_filled,
            },
        };
        // The questions this visit showed: one left empty was skipped; the others the form
        // did not ask are not asked yet and leave the total alone.
        let mut asked = Vec::new();
        for step in &self.steps {
            for &i in step {
                if self.form.is_visible(i, &self.answers) {
                    asked.push(self.form.questions[i].id.clone());
                }
            }
        }
        let _ = self.answers.set_asked(&self.form, asked);
        let mut lead = build_lead(&self.form, &self.answers, input);
        let visitor = visitor::visitor_id(&id);
        lead.visitor_id = Some(visitor.clone());
        self.grade = self.form.grade_index(&lead.score.grade).unwrap_or(0);
        let score = lead.score.to_json();
        if self.preview.active() {
            // The editor's preview: the thank-you these answers earn, nothing sent or kept.
            let mut w = JsonWriter::new();
            w.begin_object(None);
            w.raw(Some("score"), &score);
            w.bool(Some("preview"), true);
            w.end_object();
            return from_json(&w.finish());
        }
        if lead.spam.flagged && self.form.spam.action == SpamAction::Drop {
            // Dropped without a word: the sender sees the thank-you step its answers earn,
            // nothing is sent or kept.
            return from_json("{\"drop\":true}");
        }
        // With a consent question, nothing about the visitor is kept until they agree.
        let consented = lead.consent.as_ref().is_some_and(|c| c.given);
        if consented || !visitor::needs_consent(&self.form) {
            visitor::remember(&self.attribution);
            visitor::save_profile(&self.form.id, &self.answers, self.visit_count);
            visitor::keep_visitor_id(&visitor);
        }
        let extras = Extras {
            hutk: hutk.as_deref(),
            submitted_ms: Some(submitted_ms as i64),
        };
        let payload = encode(&lead, &self.form.delivery, extras);
        let delivery = &self.form.delivery;
        let lead_json = lead.to_json();
        // Written as JSON with the score and the lead as they are, parsed once. A field the
        // entry lacks stays out (platform.js tests `lateBody` against undefined);
        // `submitted_ms` is a whole number (`Date.getTime()`).
        let mut w = JsonWriter::new();
        w.begin_object(None);
        w.raw(Some("score"), &score);
        w.raw(Some("lead"), &lead_json);
        w.begin_object(Some("entry"));
        w.string(Some("id"), &id);
        w.string(Some("endpoint"), &self.form.endpoint);
        w.string(Some("body"), &payload.body);
        w.string(Some("contentType"), payload.content_type);
        w.bool(Some("idempotencyHeader"), payload.idempotency_header);
        w.bool(Some("readable"), payload.readable);
        w.int(Some("attempts"), 0);
        w.int(Some("nextAt"), 0);
        w.int(Some("submittedMs"), submitted_ms as i64);
        if let Some(late) = &payload.late_body {
            w.string(Some("lateBody"), late);
        }
        w.string(Some("format"), delivery.format.as_str());
        if let Some(fallback) = &delivery.fallback {
            w.string(Some("fallback"), fallback);
            w.string(Some("lead"), &lead_json);
        }
        w.end_object();
        w.end_object();
        from_json(&w.finish())
    }

    /// The thank-you step of the submitted lead's grade: `{title, body, link?: {text, url,
    /// newTab}, embedUrl?}` (`null` for a `?` field the step lacks).
    pub fn thanks(&self) -> JsValue {
        let thanks = self.form.thank_you_for(self.grade);
        let mut w = JsonWriter::new();
        w.begin_object(None);
        w.string(Some("title"), &thanks.title);
        w.string(Some("body"), &thanks.body);
        match &thanks.link {
            Some(link) => {
                w.begin_object(Some("link"));
                w.string(Some("text"), &link.text);
                w.string(Some("url"), &link.url);
                w.bool(Some("newTab"), link.new_tab);
                w.end_object();
            }
            None => w.null(Some("link")),
        }
        w.optional(Some("embedUrl"), thanks.embed_url.as_deref());
        w.end_object();
        from_json(&w.finish())
    }
}
