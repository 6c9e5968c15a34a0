//! The mounted form: Shadow DOM rendering, steps, validation messages, submit.

use std::cell::RefCell;
use std::rc::{Rc, Weak};

use bantam_engine::{
    build_lead, encode, next_questions, AnswerError, Answers, BrowserInfo, Extras, Form, Input,
    Kind, LeadInput, PageInfo, Question, SpamAction,
};
use gloo_events::{EventListener, EventListenerOptions};
use wasm_bindgen::{JsCast, JsValue, UnwrapThrowExt};
use wasm_bindgen_futures::JsFuture;
use web_sys::{
    Document, Element, HtmlElement, HtmlInputElement, ShadowRoot, ShadowRootInit, ShadowRootMode,
};

use crate::dom::{append, attrs, document, el, input, text};
use crate::events::{dispatch, from_json, obj, report, WidgetError};

/// A lead to post: its outbox entry (the shape `platform.js` stores), with its id and endpoint.
#[derive(Clone)]
struct Post {
    entry: JsValue,
    id: String,
    endpoint: String,
}

const STYLE: &str = include_str!("style.css");

/// The controls of one question on the current step.
struct Rendered {
    index: usize,
    field: Element,
    inputs: Vec<HtmlInputElement>,
    error: Element,
}

/// A mounted form and everything it owns on the page.
pub(crate) struct Widget {
    form: Form,
    answers: Answers,
    steps: Vec<Vec<usize>>,
    step: usize,
    /// The element Bantam added inside the target; it hosts the shadow root.
    host: Element,
    root: Element,
    form_el: Element,
    status: Element,
    progress_bar: HtmlElement,
    questions_el: Element,
    summary: Element,
    back: Element,
    next: Element,
    rendered: Vec<Rendered>,
    /// The submission id, made once and kept through retries.
    lead_id: Option<String>,
    sending: bool,
    /// First and last touch, this page view included.
    attribution: bantam_engine::Attribution,
    /// Answers from earlier visits, and this visit's number.
    known: Answers,
    visit_count: u32,
    /// The "Not you?" button, while a profile is in use.
    not_you: Option<Element>,
    /// The grade of the submitted lead (index into the form's grades), for the thank-you step.
    grade: usize,
    /// The hidden field only bots fill in, when the form has one.
    honeypot: Option<HtmlInputElement>,
    /// When the form appeared (ms since the epoch), for the fill time.
    shown_at: f64,
    listeners: Vec<EventListener>,
    /// What the editor's preview asked for, if this is one.
    #[cfg(feature = "validator")]
    preview: Preview,
}

type Shared = Rc<RefCell<Option<Widget>>>;

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

thread_local! {
    /// Every mounted form, owned here until `destroy()`: a form lives as long as it is on the
    /// page, whether or not the page keeps the `Form` that `mount` returned (its JS wrapper may
    /// be garbage-collected at any time).
    static LIVE: RefCell<Vec<Shared>> = const { RefCell::new(Vec::new()) };
}

/// Stops keeping `shared` alive (after `destroy()`).
pub(crate) fn release(shared: &Shared) {
    LIVE.with(|live| live.borrow_mut().retain(|w| !Rc::ptr_eq(w, shared)));
}
/// Events to dispatch once the widget is no longer borrowed: name and `detail`.
type Events = Vec<(&'static str, JsValue)>;

/// Runs `f` on the live widget, then dispatches the events it returned, after the borrow ends
/// (a listener may call `destroy()`).
fn with_widget(weak: &Weak<RefCell<Option<Widget>>>, f: impl FnOnce(&mut Widget) -> Events) {
    let Some(shared) = weak.upgrade() else { return };
    let (host, events) = {
        let mut guard = shared.borrow_mut();
        let Some(widget) = guard.as_mut() else { return };
        let events = f(widget);
        (widget.host.clone(), events)
    };
    for (name, detail) in events {
        dispatch(&host, name, &detail);
    }
}

fn split_steps(chosen: &[usize], per_step: usize) -> Vec<Vec<usize>> {
    chosen.chunks(per_step).map(<[usize]>::to_vec).collect()
}

fn ids(form: &Form, indices: &[usize]) -> JsValue {
    indices
        .iter()
        .map(|&i| JsValue::from_str(&form.questions[i].id))
        .collect::<js_sys::Array>()
        .into()
}

impl Widget {
    /// Renders `form` into a new shadow root inside `target`.
    ///
    /// # Errors
    /// An `Error` if the target already holds a Bantam form.
    pub(crate) fn mount(target: Element, form: Form, preview: Preview) -> Result<Shared, JsValue> {
        if target
            .query_selector(":scope > [data-bantam]")
            .ok()
            .flatten()
            .is_some()
        {
            return Err(WidgetError::mount(
                "this element already holds a Bantam form; call destroy() first".into(),
            )
            .to_js());
        }
        let doc = document();
        let host = el(&doc, "div", "");
        attrs(&host, &[("data-bantam", &form.id)]);
        let shadow = host
            .attach_shadow(&ShadowRootInit::new(ShadowRootMode::Open))
            .map_err(|_| WidgetError::mount("could not attach a shadow root".into()).to_js())?;
        adopt_style(&shadow);

        let root = el(&doc, "div", "b");
        attrs(
            &root,
            &[
                ("part", "container"),
                ("lang", &form.locale),
                ("dir", form.direction.as_str()),
            ],
        );
        if let Ok(root_html) = root.clone().dyn_into::<HtmlElement>() {
            for (name, value) in &form.theme {
                if name == "--bantam-scheme" {
                    // `dark`, or `auto` (dark when the visitor's system is): a class the
                    // stylesheet answers.
                    let _ = root_html.class_list().add_1(value);
                } else {
                    let _ = root_html.style().set_property(name, value);
                }
            }
        }
        let form_el = el(&doc, "form", "");
        // `method="dialog"` outside a dialog makes a native submission do nothing, so no path
        // (a listener gone, a script error) can ever send the answers into the page's URL.
        attrs(
            &form_el,
            &[
                ("novalidate", ""),
                ("method", "dialog"),
                ("aria-label", &form.texts.form_label),
            ],
        );
        let status = text(&doc, "p", "st", "");
        attrs(&status, &[("id", "b-st")]);
        let progress = el(&doc, "div", "pg");
        attrs(
            &progress,
            &[
                ("role", "progressbar"),
                ("aria-labelledby", "b-st"),
                ("aria-valuemin", "1"),
            ],
        );
        let progress_bar: HtmlElement = el(&doc, "div", "").unchecked_into();
        append(&progress, &progress_bar);
        let questions_el = el(&doc, "div", "");
        let summary = el(&doc, "p", "sm");
        attrs(&summary, &[("role", "alert")]);
        let nav = el(&doc, "div", "n");
        let back = text(&doc, "button", "bk", &form.texts.back);
        attrs(&back, &[("type", "button")]);
        let next = text(&doc, "button", "nx", &form.texts.next);
        attrs(&next, &[("type", "submit")]);
        for child in [&back, &next] {
            append(&nav, child);
        }
        // The form's own title and intro, when the config gives them.
        for (tag, class, content) in [("h2", "tt", &form.title), ("p", "in", &form.intro)] {
            if let Some(content) = content {
                append(&form_el, &text(&doc, tag, class, content));
            }
        }
        for child in [&status, &progress, &questions_el, &summary, &nav] {
            append(&form_el, child);
        }
        let honeypot = form.spam.honeypot.then(|| {
            // Off-screen and out of the tab order: people never see it, form-filling bots do.
            let trap = el(&doc, "div", "hp");
            attrs(&trap, &[("aria-hidden", "true")]);
            let label = text(&doc, "label", "", "Leave this field empty");
            attrs(&label, &[("for", "b.hp")]);
            let field = input(&doc, "text", "b.hp");
            attrs(
                &field,
                &[
                    ("name", "b.website"),
                    ("tabindex", "-1"),
                    ("autocomplete", "off"),
                ],
            );
            append(&trap, &label);
            append(&trap, &field);
            append(&form_el, &trap);
            field
        });
        append(&root, &form_el);
        append(&shadow, &root);

        let profile = if preview.active() {
            crate::visitor::Profile {
                known: Answers::new(),
                visit_count: 1,
            }
        } else {
            crate::visitor::load_profile(&form)
        };
        let answers = profile.known.clone();
        let chosen = next_questions(&form, &profile.known);
        let attribution = crate::visitor::attribution();
        if !preview.active() && !crate::visitor::needs_consent(&form) {
            crate::visitor::remember(&attribution);
        }
        let steps = split_steps(&chosen, form.questions_per_step);
        let widget = Widget {
            answers,
            steps,
            step: 0,
            host: host.clone(),
            root,
            form_el: form_el.clone(),
            status,
            progress_bar,
            questions_el,
            summary,
            back,
            next,
            rendered: Vec::new(),
            lead_id: None,
            sending: false,
            attribution,
            not_you: None,
            grade: 0,
            honeypot,
            shown_at: js_sys::Date::now(),
            known: profile.known,
            visit_count: profile.visit_count,
            listeners: Vec::new(),
            #[cfg(feature = "validator")]
            preview,
            form,
        };
        let shared: Shared = Rc::new(RefCell::new(Some(widget)));
        LIVE.with(|live| live.borrow_mut().push(shared.clone()));
        let weak = Rc::downgrade(&shared);
        let listeners: Vec<EventListener> = vec![
            {
                let weak = weak.clone();
                EventListener::new_with_options(
                    &form_el,
                    "submit",
                    EventListenerOptions::enable_prevent_default(),
                    move |event| {
                        event.prevent_default();
                        on_submit(&weak);
                    },
                )
            },
            {
                let weak = weak.clone();
                EventListener::new(&form_el, "click", move |event| {
                    let class = event
                        .target()
                        .and_then(|t| t.dyn_into::<Element>().ok())
                        .map(|t| t.class_name());
                    match class.as_deref() {
                        Some("bk") => with_widget(&weak, Widget::go_back),
                        Some("nu") => with_widget(&weak, Widget::forget_visitor),
                        _ => {}
                    }
                })
            },
        ];
        // `input` as well as `change`: a message being fixed clears while the visitor types,
        // not on blur, so the layout does not jump under their next click.
        let listeners = listeners
            .into_iter()
            .chain(["change", "input"].into_iter().map(|kind| {
                let weak = weak.clone();
                EventListener::new(&form_el, kind, move |event| {
                    let name = event
                        .target()
                        .and_then(|t| t.dyn_into::<HtmlInputElement>().ok())
                        .map(|t| t.name());
                    if let Some(name) = name {
                        with_widget(&weak, |w| w.on_change(&name));
                    }
                })
            }))
            .collect();
        let (ready, step) = {
            let mut guard = shared.borrow_mut();
            let widget = guard.as_mut().expect_throw("just created");
            widget.listeners = listeners;
            widget.add_not_you();
            let ready = obj(&[
                ("formId", JsValue::from_str(&widget.form.id)),
                ("questions", ids(&widget.form, &chosen)),
                ("steps", JsValue::from(widget.steps.len() as u32)),
            ]);
            // The editor's preview may open on a later step or on a grade's thank-you step.
            #[cfg(feature = "validator")]
            let thanked = match preview.thank_you {
                Some(grade) => {
                    widget.grade = grade;
                    widget.show_thank_you();
                    true
                }
                None => {
                    widget.step = preview.step.min(widget.steps.len().saturating_sub(1));
                    false
                }
            };
            #[cfg(not(feature = "validator"))]
            let thanked = false;
            let step = if thanked {
                Vec::new()
            } else {
                widget.render_step(false)
            };
            (ready, step)
        };
        let _ = target.append_child(&host);
        if !preview.active() {
            // Deliver what earlier pages queued, and watch for going online or away.
            crate::platform::watch(bantam_engine::LATE_AFTER_MS as f64);
            crate::platform::flush();
        }
        dispatch(&host, "ready", &ready);
        for (name, detail) in step {
            dispatch(&host, name, &detail);
        }
        Ok(shared)
    }

    /// Offers "Not you?" when earlier answers are in use.
    fn add_not_you(&mut self) {
        if self.known.is_empty() {
            return;
        }
        let button = text(&document(), "button", "nu", &self.form.texts.not_you);
        attrs(&button, &[("type", "button")]);
        let _ = self
            .form_el
            .insert_before(&button, self.form_el.first_child().as_ref());
        self.not_you = Some(button);
    }

    /// Forgets the stored profile and starts over with every question.
    fn forget_visitor(&mut self) -> Events {
        crate::visitor::forget(&self.form.id);
        self.known = Answers::new();
        self.answers = Answers::new();
        self.visit_count = 1;
        if let Some(button) = self.not_you.take() {
            button.remove();
        }
        let chosen = next_questions(&self.form, &self.answers);
        self.steps = split_steps(&chosen, self.form.questions_per_step);
        self.step = 0;
        self.render_step(true)
    }

    pub(crate) fn form_id(&self) -> String {
        self.form.id.clone()
    }

    /// Detaches listeners and removes everything Bantam added to the page.
    pub(crate) fn destroy(self) {
        drop(self.listeners);
        self.host.remove();
    }

    /// The steps from `from` on (or before it, going back) that have a visible question.
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

    /// Draws the current step; returns the `step` event.
    fn render_step(&mut self, focus: bool) -> Events {
        let doc = document();
        self.questions_el.set_text_content(None);
        self.summary.set_text_content(None);
        self.rendered.clear();
        if self.steps.is_empty() {
            // Everything is known: nothing to ask, only to send.
            let welcome = text(&doc, "p", "", &self.form.texts.welcome_back);
            append(&self.questions_el, &welcome);
            self.next.set_text_content(Some(&self.form.texts.submit));
            let _ = self.back.toggle_attribute_with_force("hidden", true);
            self.status.set_text_content(None);
            return Vec::new();
        }
        for &index in &self.steps[self.step] {
            let rendered = render_question(&doc, &self.form, index, &self.answers);
            append(&self.questions_el, &rendered.field);
            self.rendered.push(rendered);
        }
        self.update_visibility();
        let total = self.steps.len();
        let current = self.step + 1;
        let label = bantam_engine::fill(
            &self.form.texts.progress,
            &[
                ("current", &current.to_string()),
                ("total", &total.to_string()),
            ],
        );
        self.status.set_text_content(Some(&label));
        if let Some(progress) = self.progress_bar.parent_element() {
            attrs(
                &progress,
                &[
                    ("aria-valuemax", &total.to_string()),
                    ("aria-valuenow", &current.to_string()),
                    ("aria-valuetext", &label),
                ],
            );
        }
        let width = format!("{}%", current * 100 / total);
        let _ = self.progress_bar.style().set_property("width", &width);
        let _ = self
            .back
            .toggle_attribute_with_force("hidden", self.prev_step().is_none());
        if focus {
            self.focus_first(|_| true);
        }
        let shown: Vec<usize> = self.steps[self.step]
            .iter()
            .copied()
            .filter(|&i| self.form.is_visible(i, &self.answers))
            .collect();
        vec![(
            "step",
            obj(&[
                ("step", JsValue::from(current as u32)),
                ("total", JsValue::from(total as u32)),
                ("questions", ids(&self.form, &shown)),
            ]),
        )]
    }

    /// Shows or hides conditional questions and sets the button to Next or Send.
    fn update_visibility(&self) {
        for r in &self.rendered {
            let visible = self.form.is_visible(r.index, &self.answers);
            let _ = r.field.toggle_attribute_with_force("hidden", !visible);
        }
        let label = if self.next_step().is_some() {
            &self.form.texts.next
        } else {
            &self.form.texts.submit
        };
        if !self.sending {
            self.next.set_text_content(Some(label));
        }
    }

    fn focus_first(&self, pick: impl Fn(&Rendered) -> bool) {
        let target = self
            .rendered
            .iter()
            .filter(|r| self.form.is_visible(r.index, &self.answers) && pick(r))
            .find_map(|r| r.inputs.first());
        if let Some(input) = target {
            let _ = input.focus();
        }
    }

    /// Reads a control into the answers; shows or clears its message.
    fn read(&mut self, at: usize, show_error: bool) -> Result<(), AnswerError> {
        let r = &self.rendered[at];
        let q = &self.form.questions[r.index];
        let checked: Vec<String>;
        let value: String;
        let input = match q.kind {
            Kind::SingleChoice(_) | Kind::MultipleChoice(_) | Kind::YesNo(_) => {
                checked = r
                    .inputs
                    .iter()
                    .filter(|i| i.checked())
                    .map(|i| i.value())
                    .collect();
                Input::Checked(checked)
            }
            Kind::Consent => Input::Flag(r.inputs.first().is_some_and(HtmlInputElement::checked)),
            _ => {
                value = r
                    .inputs
                    .first()
                    .map(HtmlInputElement::value)
                    .unwrap_or_default();
                Input::Text(&value)
            }
        };
        let id = q.id.clone();
        let result = self.answers.set(&self.form, &id, input);
        let r = &self.rendered[at];
        match &result {
            Ok(()) => set_error(r, None),
            Err(err) => {
                // A value the visitor has not confirmed must not steer conditions.
                self.answers.remove(&id);
                if show_error {
                    set_error(r, Some(&err.message(&self.form.texts)));
                }
            }
        }
        result
    }

    fn on_change(&mut self, name: &str) -> Events {
        let Some(id) = name.strip_prefix("b-") else {
            return Vec::new();
        };
        if let Some(at) = self
            .rendered
            .iter()
            .position(|r| self.form.questions[r.index].id == id)
        {
            let shown = self.rendered[at]
                .field
                .get_attribute("data-invalid")
                .is_some();
            let _ = self.read(at, shown);
            self.update_visibility();
        }
        Vec::new()
    }

    /// Validates the current step; true when every shown question is answered well.
    fn validate_step(&mut self) -> bool {
        let mut ok = true;
        for at in 0..self.rendered.len() {
            let index = self.rendered[at].index;
            if self.form.is_visible(index, &self.answers) {
                ok &= self.read(at, true).is_ok();
                // An answer may change what is visible further down the step.
                self.update_visibility();
            } else {
                let id = self.form.questions[index].id.clone();
                self.answers.remove(&id);
                set_error(&self.rendered[at], None);
            }
        }
        ok
    }

    fn go_back(&mut self) -> Events {
        if self.sending {
            return Vec::new();
        }
        // Keep what was typed on this step, valid or not yet.
        for at in 0..self.rendered.len() {
            let _ = self.read(at, false);
        }
        match self.prev_step() {
            Some(step) => {
                self.step = step;
                self.render_step(true)
            }
            None => Vec::new(),
        }
    }

    /// Moves on, or starts the submission on the last step. Returns events and, when it is
    /// time to post, the outbox entry (none for a dropped spam submission).
    fn advance(&mut self) -> (Events, Option<Post>) {
        if self.sending {
            return (Vec::new(), None);
        }
        if !self.validate_step() {
            self.summary
                .set_text_content(Some(&self.form.texts.error_summary));
            self.focus_first(|r| r.field.get_attribute("data-invalid").is_some());
            return (Vec::new(), None);
        }
        if let Some(step) = self.next_step() {
            self.step = step;
            return (self.render_step(true), None);
        }
        let window = web_sys::window().expect_throw("window");
        let id = match &self.lead_id {
            Some(id) => id.clone(),
            None => {
                let id = window
                    .crypto()
                    .map(|c| c.random_uuid())
                    .unwrap_or_else(|_| {
                        // Without Web Crypto, time plus Math.random still separates submissions.
                        format!(
                            "{:x}-{:x}",
                            js_sys::Date::now() as u64,
                            (js_sys::Math::random() * 1e15) as u64
                        )
                    });
                self.lead_id = Some(id.clone());
                id
            }
        };
        let doc = document();
        let page = PageInfo {
            url: window.location().href().unwrap_or_default(),
            title: doc.title(),
            referrer: doc.referrer(),
        };
        let now = js_sys::Date::new_0();
        let submitted_ms = now.get_time();
        let submitted_at = now.to_iso_string().as_string().unwrap_or_default();
        let new_answers = self
            .answers
            .values()
            .iter()
            .filter(|(id, value)| self.known.get(id) != Some(*value))
            .map(|(id, _)| id.clone())
            .collect();
        let input = LeadInput {
            id: id.clone(),
            submitted_at,
            page,
            attribution: Some(self.attribution.clone()),
            visit_count: self.visit_count,
            new_answers,
            browser: BrowserInfo {
                locale: window.navigator().language().unwrap_or_default(),
                time_zone: time_zone(),
                fill_time_ms: (js_sys::Date::now() - self.shown_at).max(0.0) as u64,
                honeypot_filled: self
                    .honeypot
                    .as_ref()
                    .is_some_and(|h| !h.value().is_empty()),
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
        let visitor = crate::visitor::visitor_id(&id);
        lead.visitor_id = Some(visitor.clone());
        self.grade = self.form.grade_index(&lead.score.grade).unwrap_or(0);
        #[cfg(feature = "validator")]
        if self.preview.active {
            // The editor's preview: the thank-you these answers earn, nothing sent or kept.
            self.show_thank_you();
            return (vec![("scored", from_json(&lead.score.to_json()))], None);
        }
        if lead.spam.flagged && self.form.spam.action == SpamAction::Drop {
            // Dropped without a word: the sender sees the thank-you step its answers earn,
            // nothing is sent or kept.
            self.show_thank_you();
            return (Vec::new(), None);
        }
        // With a consent question, nothing about the visitor is kept until they agree.
        let consented = lead.consent.as_ref().is_some_and(|c| c.given);
        if consented || !crate::visitor::needs_consent(&self.form) {
            crate::visitor::remember(&self.attribution);
            crate::visitor::save_profile(&self.form.id, &self.answers, self.visit_count);
            crate::visitor::keep_visitor_id(&visitor);
        }
        let hutk = hubspot_cookie();
        let extras = Extras {
            hutk: hutk.as_deref(),
            submitted_ms: Some(submitted_ms as i64),
        };
        let payload = encode(&lead, &self.form.delivery, extras);
        let lead_js = from_json(&lead.to_json());
        self.sending = true;
        self.summary.set_text_content(None);
        self.next.set_text_content(Some(&self.form.texts.sending));
        attrs(&self.next, &[("disabled", ""), ("aria-disabled", "true")]);
        attrs(&self.form_el, &[("aria-busy", "true")]);
        let events = vec![
            ("scored", from_json(&lead.score.to_json())),
            ("submit", obj(&[("lead", lead_js)])),
        ];
        let delivery = &self.form.delivery;
        let text = |s: &str| JsValue::from_str(s);
        let optional = |s: Option<&str>| s.map_or(JsValue::UNDEFINED, JsValue::from_str);
        let lead_json = delivery.fallback.as_ref().map(|_| lead.to_json());
        let entry = obj(&[
            ("id", text(&id)),
            ("endpoint", text(&self.form.endpoint)),
            ("body", text(&payload.body)),
            ("contentType", text(payload.content_type)),
            (
                "idempotencyHeader",
                JsValue::from_bool(payload.idempotency_header),
            ),
            ("readable", JsValue::from_bool(payload.readable)),
            ("attempts", JsValue::from(0)),
            ("nextAt", JsValue::from(0)),
            ("submittedMs", JsValue::from(submitted_ms)),
            ("lateBody", optional(payload.late_body.as_deref())),
            ("format", text(delivery.format.as_str())),
            ("fallback", optional(delivery.fallback.as_deref())),
            ("lead", optional(lead_json.as_deref())),
        ]);
        let entry = Post {
            entry,
            id,
            endpoint: self.form.endpoint.clone(),
        };
        (events, Some(entry))
    }

    /// The lead is in the outbox: thank the visitor now.
    fn queued(&mut self) -> Events {
        self.sending = false;
        self.show_thank_you();
        Vec::new()
    }

    /// Ends a direct post: the thank-you step on success, a message and a retry on failure.
    fn finish(&mut self, outcome: &JsValue, post: &Post) -> Events {
        let id = post.id.as_str();
        let field = |key: &str| {
            js_sys::Reflect::get(outcome, &JsValue::from_str(key)).unwrap_or(JsValue::UNDEFINED)
        };
        // Statuses as integers: Rust's float formatting would cost the widget kilobytes.
        let status = |key: &str| field(key).as_f64().map(|s| s as u16);
        let result = match (status("delivered"), status("refused")) {
            (Some(status), _) => Ok(status),
            (None, Some(status)) => Err(WidgetError::delivery(
                format!("{} answered HTTP {status}", post.endpoint),
                Some(status),
            )),
            (None, None) => Err(WidgetError::delivery(
                format!(
                    "could not reach {} ({})",
                    post.endpoint,
                    field("retry").as_string().unwrap_or_default()
                ),
                None,
            )),
        };
        self.sending = false;
        let _ = self.next.remove_attribute("disabled");
        let _ = self.next.remove_attribute("aria-disabled");
        let _ = self.form_el.remove_attribute("aria-busy");
        match result {
            Ok(status) => {
                self.show_thank_you();
                vec![(
                    "delivered",
                    obj(&[
                        ("id", JsValue::from_str(id)),
                        ("status", JsValue::from(status)),
                    ]),
                )]
            }
            Err(err) => {
                self.next.set_text_content(Some(&self.form.texts.submit));
                self.summary
                    .set_text_content(Some(&self.form.texts.submit_failed));
                report(&self.host, &err);
                Vec::new()
            }
        }
    }

    /// Replaces the form with the thank-you step for the submitted lead's grade, and moves the
    /// focus to its title (not in the editor's preview, which must leave the focus in the
    /// editor).
    fn show_thank_you(&mut self) {
        let doc = document();
        let thanks = self.form.thank_you_for(self.grade).clone();
        self.rendered.clear();
        // The thank-you keeps the form's height, so the page below does not move up.
        if let Some(root) = self.root.dyn_ref::<HtmlElement>() {
            // JS writes the number: Rust's float formatting would cost the widget ~6 KB gzipped.
            let height = js_sys::Number::from(root.get_bounding_client_rect().height());
            let height = String::from(
                height
                    .to_string_with_radix(10)
                    .unwrap_or_else(|_| "0".into()),
            );
            let _ = root
                .style()
                .set_property("min-height", &format!("{height}px"));
        }
        let _ = self.root.class_list().add_1("done");
        self.root.set_text_content(None);
        let section = el(&doc, "div", "ty");
        attrs(&section, &[("role", "status")]);
        let title = text(&doc, "h2", "", &thanks.title);
        attrs(&title, &[("tabindex", "-1")]);
        append(&section, &title);
        append(&section, &text(&doc, "p", "", &thanks.body));
        if let Some(link) = &thanks.link {
            let a = text(&doc, "a", "cta", &link.text);
            attrs(&a, &[("href", &link.url)]);
            if link.new_tab {
                attrs(&a, &[("target", "_blank"), ("rel", "noopener")]);
            }
            append(&section, &a);
        }
        append(&self.root, &section);
        if let Some(url) = &thanks.embed_url {
            let frame = el(&doc, "iframe", "em");
            attrs(
                &frame,
                &[
                    ("src", url),
                    ("title", &thanks.title),
                    ("loading", "lazy"),
                    (
                        "sandbox",
                        "allow-scripts allow-same-origin allow-forms allow-popups",
                    ),
                ],
            );
            append(&self.root, &frame);
        }
        // The editor's preview leaves the focus in the editor.
        #[cfg(feature = "validator")]
        if self.preview.active {
            return;
        }
        if let Ok(title) = title.dyn_into::<HtmlElement>() {
            let _ = title.focus();
        }
    }
}

fn on_submit(weak: &Weak<RefCell<Option<Widget>>>) {
    let mut post = None;
    let mut queued = false;
    with_widget(weak, |w| {
        let (mut events, entry) = w.advance();
        if let Some(entry) = &entry {
            // Safely queued: the visitor is done; the outbox delivers, retries and reports.
            if crate::platform::enqueue(&entry.entry, &w.host) {
                queued = true;
                events.extend(w.queued());
            }
        }
        post = entry;
        events
    });
    if queued {
        crate::platform::flush();
        return;
    }
    // No storage (private mode, quota): post now and keep the form until it is delivered.
    let Some(entry) = post else {
        return;
    };
    let weak = weak.clone();
    wasm_bindgen_futures::spawn_local(async move {
        let outcome = JsFuture::from(crate::platform::attempt(&entry.entry))
            .await
            .unwrap_or(JsValue::UNDEFINED);
        with_widget(&weak, |w| w.finish(&outcome, &entry));
    });
}

/// The browser's IANA time zone, such as `Europe/Berlin`.
fn time_zone() -> String {
    let format = js_sys::Intl::DateTimeFormat::new(&js_sys::Array::new(), &js_sys::Object::new());
    js_sys::Reflect::get(&format.resolved_options(), &JsValue::from_str("timeZone"))
        .ok()
        .and_then(|v| v.as_string())
        .unwrap_or_default()
}

/// HubSpot's visitor token (`hubspotutk` cookie), when HubSpot's tracking code set one.
fn hubspot_cookie() -> Option<String> {
    let cookies = js_sys::Reflect::get(&document(), &JsValue::from_str("cookie"))
        .ok()?
        .as_string()?;
    cookies
        .split(';')
        .find_map(|c| c.trim().strip_prefix("hubspotutk=").map(str::to_owned))
}

fn adopt_style(shadow: &ShadowRoot) {
    // A constructed stylesheet works under a strict CSP (no inline <style> needed).
    if let Ok(sheet) = web_sys::CssStyleSheet::new() {
        let _ = sheet.replace_sync(STYLE);
        let sheets = js_sys::Array::of1(&sheet);
        let _ = js_sys::Reflect::set(shadow, &JsValue::from_str("adoptedStyleSheets"), &sheets);
    }
}

fn set_error(r: &Rendered, message: Option<&str>) {
    r.error.set_text_content(message);
    let invalid = if message.is_some() { "true" } else { "false" };
    let _ = r
        .field
        .toggle_attribute_with_force("data-invalid", message.is_some());
    for input in &r.inputs {
        let _ = input.set_attribute("aria-invalid", invalid);
    }
}

fn autocomplete(q: &Question) -> Option<&'static str> {
    match (&q.kind, q.id.as_str()) {
        (Kind::Email, _) => Some("email"),
        (Kind::Phone, _) => Some("tel"),
        (Kind::Text, "company") => Some("organization"),
        (Kind::Text, "name") => Some("name"),
        _ => None,
    }
}

fn render_question(
    doc: &Document,
    form: &Form,
    index: usize,
    answers: &bantam_engine::Answers,
) -> Rendered {
    use bantam_engine::AnswerValue as V;
    let q = &form.questions[index];
    let base = format!("b-{}", q.id);
    let error_id = format!("{base}-e");
    let help_id = format!("{base}-h");
    let described = if q.help.is_some() {
        format!("{help_id} {error_id}")
    } else {
        error_id.clone()
    };
    let error = el(doc, "p", "er");
    attrs(&error, &[("id", &error_id)]);
    let help = q.help.as_ref().map(|h| {
        let p = text(doc, "p", "h", h);
        attrs(&p, &[("id", &help_id)]);
        p
    });
    let heading = |tag: &str, class: &str| {
        let label = text(doc, tag, class, &q.label);
        if q.required {
            // A space of its own: the accessible name reads "Work email (required)", not
            // "Work email(required)".
            let _ = label.append_with_str_1(" ");
            let mark = text(doc, "span", "rq", &form.texts.required_mark);
            append(&label, &mark);
        }
        label
    };
    let value = answers.get(&q.id);
    let mut inputs = Vec::new();
    let field;
    match &q.kind {
        Kind::SingleChoice(choices) | Kind::MultipleChoice(choices) | Kind::YesNo(choices) => {
            field = el(doc, "fieldset", "f q");
            attrs(&field, &[("aria-describedby", &described)]);
            append(&field, &heading("legend", ""));
            if let Some(help) = &help {
                append(&field, help);
            }
            let kind = if matches!(q.kind, Kind::MultipleChoice(_)) {
                "checkbox"
            } else {
                "radio"
            };
            for (k, choice) in choices.iter().enumerate() {
                let row = el(doc, "div", "o");
                let id = format!("{base}-{k}");
                let control = input(doc, kind, &id);
                attrs(&control, &[("name", &base), ("value", &choice.id)]);
                if q.required && kind == "radio" {
                    attrs(&control, &[("required", "")]);
                }
                let checked = match value {
                    Some(V::Text(v)) => v == &choice.id,
                    Some(V::List(vs)) => vs.contains(&choice.id),
                    Some(V::Bool(b)) => choice.id == if *b { "yes" } else { "no" },
                    _ => false,
                };
                control.set_checked(checked);
                let label = text(doc, "label", "", &choice.label);
                attrs(&label, &[("for", &id)]);
                append(&row, &control);
                append(&row, &label);
                append(&field, &row);
                inputs.push(control);
            }
        }
        Kind::Consent => {
            field = el(doc, "div", "f q");
            let row = el(doc, "div", "o ck");
            let control = input(doc, "checkbox", &base);
            attrs(
                &control,
                &[("name", &base), ("aria-describedby", &described)],
            );
            if q.required {
                attrs(&control, &[("required", "")]);
            }
            control.set_checked(matches!(value, Some(V::Bool(true))));
            let label = heading("label", "");
            attrs(&label, &[("for", &base)]);
            append(&row, &control);
            append(&row, &label);
            append(&field, &row);
            if let Some(help) = &help {
                append(&field, help);
            }
            inputs.push(control);
        }
        _ => {
            field = el(doc, "div", "f q");
            let label = heading("label", "l");
            attrs(&label, &[("for", &base)]);
            append(&field, &label);
            if let Some(help) = &help {
                append(&field, help);
            }
            let kind = match q.kind {
                Kind::Email => "email",
                Kind::Phone => "tel",
                _ => "text",
            };
            let control = input(doc, kind, &base);
            attrs(
                &control,
                &[("name", &base), ("aria-describedby", &described)],
            );
            if q.required {
                attrs(&control, &[("required", "")]);
            }
            if let Kind::Number { .. } = q.kind {
                attrs(&control, &[("inputmode", "numeric")]);
            } else {
                attrs(&control, &[("maxlength", &q.max_length.to_string())]);
            }
            if let Some(ac) = autocomplete(q) {
                attrs(&control, &[("autocomplete", ac)]);
            }
            if let Some(placeholder) = &q.placeholder {
                attrs(&control, &[("placeholder", placeholder)]);
            }
            match value {
                Some(V::Text(v)) => control.set_value(v),
                Some(V::Number(n)) => control.set_value(&bantam_engine::format_number(*n)),
                _ => {}
            }
            append(&field, &control);
            inputs.push(control);
        }
    }
    append(&field, &error);
    attrs(&field, &[("data-q", &q.id)]);
    Rendered {
        index,
        field,
        inputs,
        error,
    }
}
