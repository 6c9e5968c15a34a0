//! Browser tests of the widget glue, run by wasm-bindgen-test in headless Chromium.
//!
//! They check what only a browser can show: the Shadow DOM, steps, focus, messages, events,
//! `destroy()`, a bad config, and the body of the POST. Scoring itself is tested natively.
#![cfg(target_arch = "wasm32")]

use std::cell::RefCell;
use std::rc::Rc;

use bantam::Form;
use wasm_bindgen::convert::TryFromJsValue;
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;
use wasm_bindgen_futures::JsFuture;
use wasm_bindgen_test::*;
use web_sys::{Element, HtmlElement, HtmlInputElement, ShadowRoot};

wasm_bindgen_test_configure!(run_in_browser);

/// `bantam::mount`, awaited: the `Form`, or what it rejected with.
async fn mount(target: JsValue, options: JsValue) -> Result<Form, JsValue> {
    // `mount` gives the promise as a `JsValue` (its type for JS is `Promise<Form>`).
    let promise: js_sys::Promise = bantam::mount(target, options).unchecked_into();
    let form = JsFuture::from(promise).await?;
    Ok(Form::try_from_js_value(form).expect("mount resolves to a Form"))
}

fn document() -> web_sys::Document {
    web_sys::window().unwrap().document().unwrap()
}

/// Forgets what earlier tests left in `localStorage` (profiles, touches, the outbox).
fn reset_storage() {
    web_sys::window()
        .unwrap()
        .local_storage()
        .unwrap()
        .unwrap()
        .clear()
        .unwrap();
}

fn new_target() -> Element {
    reset_storage();
    let target = document().create_element("div").unwrap();
    document().body().unwrap().append_child(&target).unwrap();
    target
}

fn options(config_json: &str) -> JsValue {
    let config = js_sys::JSON::parse(config_json).unwrap();
    let options = js_sys::Object::new();
    js_sys::Reflect::set(&options, &"config".into(), &config).unwrap();
    options.into()
}

async fn mounted(config_json: &str) -> (Element, Form, ShadowRoot) {
    let target = new_target();
    let form = mount(target.clone().into(), options(config_json))
        .await
        .expect("mount");
    let shadow = shadow(&target);
    (target, form, shadow)
}

fn shadow_of(target: &Element) -> ShadowRoot {
    shadow(target)
}

fn shadow(target: &Element) -> ShadowRoot {
    target
        .query_selector("[data-bantam]")
        .unwrap()
        .expect("Bantam host element")
        .shadow_root()
        .expect("open shadow root")
}

fn find(shadow: &ShadowRoot, selector: &str) -> Option<Element> {
    shadow.query_selector(selector).unwrap()
}

fn get(shadow: &ShadowRoot, selector: &str) -> Element {
    find(shadow, selector).unwrap_or_else(|| panic!("no element matches {selector}"))
}

fn text_of(shadow: &ShadowRoot, selector: &str) -> String {
    get(shadow, selector).text_content().unwrap_or_default()
}

fn is_shown(shadow: &ShadowRoot, question: &str) -> bool {
    find(shadow, &format!("[data-q=\"{question}\"]")).is_some_and(|f| !f.has_attribute("hidden"))
}

fn fill(shadow: &ShadowRoot, question: &str, value: &str) {
    let input: HtmlInputElement = get(shadow, &format!("#b-{question}")).unchecked_into();
    input.set_value(value);
    // As a browser does: `change` bubbles.
    let init = web_sys::EventInit::new();
    init.set_bubbles(true);
    input
        .dispatch_event(&web_sys::Event::new_with_event_init_dict("change", &init).unwrap())
        .unwrap();
}

fn choose(shadow: &ShadowRoot, question: &str, option: &str) {
    let input: HtmlElement = get(
        shadow,
        &format!("input[name=\"b-{question}\"][value=\"{option}\"]"),
    )
    .unchecked_into();
    input.click();
}

fn click(shadow: &ShadowRoot, selector: &str) {
    get(shadow, selector)
        .unchecked_into::<HtmlElement>()
        .click();
}

/// Records the `detail` of every `bantam:<name>` event reaching `target`.
fn record(target: &Element, name: &str) -> Rc<RefCell<Vec<JsValue>>> {
    let seen = Rc::new(RefCell::new(Vec::new()));
    let sink = seen.clone();
    let listener =
        Closure::<dyn FnMut(web_sys::CustomEvent)>::new(move |e: web_sys::CustomEvent| {
            sink.borrow_mut().push(e.detail());
        });
    target
        .add_event_listener_with_callback(
            &format!("bantam:{name}"),
            listener.as_ref().unchecked_ref(),
        )
        .unwrap();
    listener.forget();
    seen
}

fn prop(value: &JsValue, path: &str) -> JsValue {
    path.split('.').fold(value.clone(), |v, key| {
        js_sys::Reflect::get(&v, &key.into()).unwrap()
    })
}

/// Resolves once `bantam:<name>` reaches `target`.
async fn next_event(target: &Element, name: &str) -> JsValue {
    let target = target.clone();
    let name = format!("bantam:{name}");
    let promise = js_sys::Promise::new(&mut |resolve, _| {
        let options = web_sys::AddEventListenerOptions::new();
        options.set_once(true);
        let resolve = Closure::once_into_js(move |e: web_sys::CustomEvent| {
            let _ = resolve.call1(&JsValue::NULL, &e.detail());
        });
        target
            .add_event_listener_with_callback_and_add_event_listener_options(
                &name,
                resolve.unchecked_ref(),
                &options,
            )
            .unwrap();
    });
    JsFuture::from(promise).await.unwrap()
}

/// Empties the delivery outbox, so one test's queued leads never reach another's endpoint.
fn reset_outbox() {
    let storage = web_sys::window().unwrap().local_storage().unwrap().unwrap();
    storage.remove_item("bantam.outbox.v1").unwrap();
}

fn outbox_len() -> u32 {
    let storage = web_sys::window().unwrap().local_storage().unwrap().unwrap();
    match storage.get_item("bantam.outbox.v1").unwrap() {
        None => 0,
        Some(text) => js_sys::Array::from(&js_sys::JSON::parse(&text).unwrap()).length(),
    }
}

/// Replaces `window.fetch` with a recorder answering `status`; returns the recorded calls.
fn stub_fetch(status: u16) -> js_sys::Array {
    reset_outbox();
    let calls = js_sys::Array::new();
    let make = js_sys::Function::new_with_args(
        "calls, status",
        "return function (url, init) {
            calls.push({ url: String(url), method: init.method, body: init.body,
                         mode: init.mode || 'cors',
                         contentType: init.headers.get('Content-Type'),
                         key: init.headers.get('Idempotency-Key') });
            return Promise.resolve(new Response('{}', { status: status }));
        };",
    );
    let fetch = make
        .call2(&JsValue::NULL, &calls, &JsValue::from(status))
        .unwrap();
    js_sys::Reflect::set(&web_sys::window().unwrap(), &"fetch".into(), &fetch).unwrap();
    calls
}

async fn sleep(ms: i32) {
    let tick = js_sys::Promise::new(&mut |resolve, _| {
        web_sys::window()
            .unwrap()
            .set_timeout_with_callback_and_timeout_and_arguments_0(&resolve, ms)
            .unwrap();
    });
    JsFuture::from(tick).await.unwrap();
}

const BANT: &str = r#"{"formId":"t","preset":"bant"}"#;

#[wasm_bindgen_test]
async fn mount_renders_the_first_step_in_a_shadow_root() {
    let (target, _form, shadow) = mounted(BANT).await;
    assert_eq!(
        target.children().length(),
        1,
        "one host element, nothing else"
    );
    assert_eq!(text_of(&shadow, ".st"), "Step 1 of 2");
    for q in ["email", "company", "budget"] {
        assert!(is_shown(&shadow, q), "{q} on step 1");
    }
    assert!(
        find(&shadow, "[data-q=\"role\"]").is_none(),
        "role waits for step 2"
    );
    assert_eq!(
        get(&shadow, "label[for=\"b-email\"]")
            .text_content()
            .unwrap(),
        "Work email (required)"
    );
    assert_eq!(
        get(&shadow, "#b-email").get_attribute("type").as_deref(),
        Some("email")
    );
    assert_eq!(
        get(&shadow, "#b-email")
            .get_attribute("autocomplete")
            .as_deref(),
        Some("email")
    );
    assert_eq!(
        get(&shadow, "legend").text_content().unwrap(),
        "What budget have you set aside for this? (required)"
    );
    assert!(
        get(&shadow, ".bk").has_attribute("hidden"),
        "no Back on the first step"
    );
    assert_eq!(text_of(&shadow, ".nx"), "Next");
    // Nothing leaks into the page's DOM.
    assert!(document().query_selector("form").unwrap().is_none());
}

#[wasm_bindgen_test]
async fn empty_required_answers_show_messages_and_focus_the_first() {
    let (_target, _form, shadow) = mounted(BANT).await;
    fill(&shadow, "email", "ann@acme");
    click(&shadow, ".nx");
    assert_eq!(
        text_of(&shadow, "#b-email-e"),
        "Please enter a valid email address, like name@company.com."
    );
    assert_eq!(
        text_of(&shadow, "#b-company-e"),
        "Please answer this question."
    );
    assert_eq!(text_of(&shadow, "#b-budget-e"), "Please choose an option.");
    assert_eq!(
        text_of(&shadow, ".sm"),
        "Please correct the highlighted answers."
    );
    assert_eq!(
        get(&shadow, ".sm").get_attribute("role").as_deref(),
        Some("alert")
    );
    assert_eq!(
        get(&shadow, "#b-email")
            .get_attribute("aria-invalid")
            .as_deref(),
        Some("true")
    );
    let described = get(&shadow, "#b-email")
        .get_attribute("aria-describedby")
        .unwrap();
    assert!(
        described.contains("b-email-e"),
        "message is tied to the field: {described}"
    );
    let active = shadow.active_element().expect("focus inside the form");
    assert_eq!(active.id(), "b-email");
    assert_eq!(text_of(&shadow, ".st"), "Step 1 of 2", "still on step 1");
    // Fixing the answer clears its message as the visitor types.
    fill(&shadow, "email", "ann@acme.io");
    assert_eq!(text_of(&shadow, "#b-email-e"), "");
    assert_eq!(
        get(&shadow, "#b-email")
            .get_attribute("aria-invalid")
            .as_deref(),
        Some("false")
    );
}

#[wasm_bindgen_test]
async fn steps_move_on_and_back_keeping_answers() {
    let (target, _form, shadow) = mounted(BANT).await;
    let steps = record(&target, "step");
    fill(&shadow, "email", "ann@acme.io");
    fill(&shadow, "company", "Acme");
    choose(&shadow, "budget", "50k-250k");
    click(&shadow, ".nx");
    assert_eq!(text_of(&shadow, ".st"), "Step 2 of 2");
    assert!(
        is_shown(&shadow, "role") && is_shown(&shadow, "timeframe") && is_shown(&shadow, "consent")
    );
    assert_eq!(text_of(&shadow, ".nx"), "Send");
    assert_eq!(
        shadow.active_element().map(|e| e.id()).as_deref(),
        Some("b-role-0"),
        "focus moves to the new step"
    );
    click(&shadow, ".bk");
    assert_eq!(text_of(&shadow, ".st"), "Step 1 of 2");
    let email: HtmlInputElement = get(&shadow, "#b-email").unchecked_into();
    assert_eq!(email.value(), "ann@acme.io");
    let budget: HtmlInputElement = get(&shadow, "input[value=\"50k-250k\"]").unchecked_into();
    assert!(budget.checked());
    let steps = steps.borrow();
    assert_eq!(steps.len(), 2, "a step event for step 2 and for going back");
    assert_eq!(prop(&steps[0], "step").as_f64(), Some(2.0));
    assert_eq!(prop(&steps[0], "total").as_f64(), Some(2.0));
}

#[wasm_bindgen_test]
async fn show_if_reveals_and_hides_live() {
    let config = r#"{"formId":"t","questions":[
        {"id":"student","kind":"yesNo","label":"Are you a student?","required":true},
        {"id":"school","kind":"text","label":"Which school?","showIf":{"question":"student","equals":"yes"},"required":true}
    ]}"#;
    let (target, _form, shadow) = mounted(config).await;
    assert!(!is_shown(&shadow, "school"));
    choose(&shadow, "student", "yes");
    assert!(is_shown(&shadow, "school"));
    choose(&shadow, "student", "no");
    assert!(!is_shown(&shadow, "school"));
    // A hidden required question does not block the step.
    let calls = stub_fetch(201);
    let delivered = next_event(&target, "delivered");
    click(&shadow, ".nx");
    delivered.await;
    assert_eq!(calls.length(), 1, "submitted without the hidden question");
    let body = js_sys::JSON::parse(&prop(&calls.get(0), "body").as_string().unwrap()).unwrap();
    assert_eq!(
        js_sys::Object::keys(&prop(&body, "answers").into()).length(),
        1,
        "only the shown answer"
    );
}

#[wasm_bindgen_test]
async fn ready_event_describes_the_form() {
    let target = new_target();
    let ready = record(&target, "ready");
    let form = mount(target.clone().into(), options(BANT)).await.unwrap();
    assert_eq!(form.form_id().as_deref(), Some("t"));
    let ready = ready.borrow();
    assert_eq!(ready.len(), 1);
    assert_eq!(prop(&ready[0], "formId").as_string().as_deref(), Some("t"));
    assert_eq!(prop(&ready[0], "steps").as_f64(), Some(2.0));
    let questions: Vec<String> = js_sys::Array::from(&prop(&ready[0], "questions"))
        .iter()
        .filter_map(|v| v.as_string())
        .collect();
    assert_eq!(
        questions,
        ["email", "company", "budget", "role", "timeframe", "consent"]
    );
}

#[wasm_bindgen_test]
async fn destroy_removes_everything_and_allows_a_new_mount() {
    let (target, form, shadow) = mounted(BANT).await;
    let steps = record(&target, "step");
    let submit = get(&shadow, ".nx").unchecked_into::<HtmlElement>();
    form.destroy();
    assert_eq!(target.children().length(), 0);
    assert_eq!(form.form_id(), None);
    submit.click();
    assert!(steps.borrow().is_empty(), "no listener survives destroy");
    form.destroy();
    mount(target.clone().into(), options(BANT))
        .await
        .expect("mount again");
    assert_eq!(target.children().length(), 1);
}

#[wasm_bindgen_test]
async fn a_second_mount_on_the_same_element_is_refused() {
    let (target, _form, _shadow) = mounted(BANT).await;
    let err = mount(target.clone().into(), options(BANT))
        .await
        .unwrap_err();
    let message = js_sys::Reflect::get(&err, &"message".into())
        .unwrap()
        .as_string()
        .unwrap();
    assert!(message.contains("already holds a Bantam form"), "{message}");
    assert_eq!(target.children().length(), 1);
}

#[wasm_bindgen_test]
async fn a_bad_config_renders_nothing_and_names_the_field() {
    let target = new_target();
    let errors = record(&target, "error");
    let config = r#"{"formId":"t","questions":[
        {"id":"budget","kind":"singleChoice","label":"Budget","options":[{"id":"a","label":"A","points":5000}]}
    ]}"#;
    let err = mount(target.clone().into(), options(config))
        .await
        .unwrap_err();
    assert!(err.is_instance_of::<js_sys::TypeError>());
    let message = js_sys::Reflect::get(&err, &"message".into())
        .unwrap()
        .as_string()
        .unwrap();
    assert_eq!(
        message,
        "Bantam: config.questions[0].options[0].points: points 5000 are outside -1000..=1000"
    );
    assert_eq!(target.children().length(), 0, "no half-rendered form");
    let errors = errors.borrow();
    assert_eq!(errors.len(), 1);
    assert_eq!(
        prop(&errors[0], "code").as_string().as_deref(),
        Some("config")
    );
    assert_eq!(
        prop(&errors[0], "path").as_string().as_deref(),
        Some("config.questions[0].options[0].points")
    );
}

#[wasm_bindgen_test]
async fn unknown_fields_and_options_are_refused_by_name() {
    let target = new_target();
    let err = mount(
        target.clone().into(),
        options(r#"{"formId":"t","preset":"bant","maxQuestionPerVisit":3}"#),
    )
    .await
    .unwrap_err();
    let message = js_sys::Reflect::get(&err, &"message".into())
        .unwrap()
        .as_string()
        .unwrap();
    assert!(
        message
            .starts_with("Bantam: config.maxQuestionPerVisit: unknown field `maxQuestionPerVisit`"),
        "{message}"
    );
    let bad_options = js_sys::JSON::parse(r#"{"confg":{}}"#).unwrap();
    let err = mount(target.clone().into(), bad_options).await.unwrap_err();
    let message = js_sys::Reflect::get(&err, &"message".into())
        .unwrap()
        .as_string()
        .unwrap();
    assert!(message.contains("unknown field `confg`"), "{message}");
    let err = mount("#nowhere".into(), options(BANT)).await.unwrap_err();
    let message = js_sys::Reflect::get(&err, &"message".into())
        .unwrap()
        .as_string()
        .unwrap();
    assert_eq!(
        message,
        "Bantam: mount target \"#nowhere\" matches no element"
    );
}

#[wasm_bindgen_test]
async fn text_from_config_is_never_html() {
    let config = r#"{"formId":"t","questions":[
        {"id":"q","kind":"text","label":"<img src=x onerror=alert(1)>Name","help":"<b>bold</b>"}
    ]}"#;
    let (_target, _form, shadow) = mounted(config).await;
    assert!(find(&shadow, "img").is_none() && find(&shadow, "b").is_none());
    assert_eq!(
        text_of(&shadow, "label[for=\"b-q\"]"),
        "<img src=x onerror=alert(1)>Name"
    );
}

#[wasm_bindgen_test]
async fn submit_posts_the_lead_document_and_thanks_by_grade() {
    let config = r#"{"formId":"demo","preset":"bant","endpoint":"/collect",
        "thankYouByGrade":{"hot":{"title":"Great fit!","linkText":"Book a call","linkUrl":"/book"}}}"#;
    let (target, _form, shadow) = mounted(config).await;
    let scored = record(&target, "scored");
    let submitted = record(&target, "submit");
    let calls = stub_fetch(201);
    fill(&shadow, "email", "ann@acme.io");
    fill(&shadow, "company", "Acme <GmbH>");
    choose(&shadow, "budget", "over-250k");
    click(&shadow, ".nx");
    choose(&shadow, "role", "decision-maker");
    choose(&shadow, "timeframe", "this-month");
    click(&shadow, "#b-consent");
    let delivered = next_event(&target, "delivered");
    click(&shadow, ".nx");
    // Once queued, the form is gone: a second click has nothing to submit.
    assert!(find(&shadow, ".nx").is_none());
    let delivered = delivered.await;
    assert_eq!(calls.length(), 1, "exactly one POST");
    let call = calls.get(0);
    assert_eq!(prop(&call, "url").as_string().unwrap(), "/collect");
    assert_eq!(prop(&call, "method").as_string().as_deref(), Some("POST"));
    assert_eq!(
        prop(&call, "contentType").as_string().as_deref(),
        Some("application/json")
    );
    let body = js_sys::JSON::parse(&prop(&call, "body").as_string().unwrap()).unwrap();
    let id = prop(&body, "id").as_string().unwrap();
    assert_eq!(id.len(), 36, "a UUID: {id}");
    assert_eq!(
        prop(&call, "key").as_string(),
        Some(id.clone()),
        "Idempotency-Key is the lead id"
    );
    assert_eq!(prop(&delivered, "id").as_string(), Some(id));
    assert_eq!(prop(&delivered, "status").as_f64(), Some(201.0));
    assert_eq!(prop(&body, "schemaVersion").as_f64(), Some(1.0));
    assert_eq!(prop(&body, "formId").as_string().as_deref(), Some("demo"));
    assert_eq!(
        prop(&body, "contact.company").as_string().as_deref(),
        Some("Acme <GmbH>")
    );
    assert_eq!(
        prop(&body, "answers.budget").as_string().as_deref(),
        Some("over-250k")
    );
    assert_eq!(prop(&body, "answers.consent").as_bool(), Some(true));
    assert_eq!(prop(&body, "consent.given").as_bool(), Some(true));
    // The best answer to every question asked: need and headcount come on a later visit, and
    // what was not asked yet does not pull the total down (it shows in `known`: 3 of 5).
    assert_eq!(prop(&body, "score.total").as_f64(), Some(100.0));
    assert_eq!(prop(&body, "score.known").as_f64(), Some(60.0));
    let asked: js_sys::Array = prop(&body, "asked").into();
    assert!(asked.includes(&JsValue::from_str("budget"), 0));
    assert!(!asked.includes(&JsValue::from_str("need"), 0));
    assert_eq!(
        prop(&body, "score.grade").as_string().as_deref(),
        Some("hot")
    );
    assert!(prop(&body, "submittedAt")
        .as_string()
        .unwrap()
        .ends_with('Z'));
    assert!(prop(&body, "page.url")
        .as_string()
        .unwrap()
        .starts_with("http://"));
    assert_eq!(
        prop(&scored.borrow()[0], "grade").as_string().as_deref(),
        Some("hot")
    );
    assert_eq!(submitted.borrow().len(), 1);
    assert_eq!(text_of(&shadow, "h2"), "Great fit!");
    assert_eq!(
        get(&shadow, "a.cta").get_attribute("href").as_deref(),
        Some("/book")
    );
    assert_eq!(
        shadow.active_element().map(|e| e.tag_name()).as_deref(),
        Some("H2")
    );
}

#[wasm_bindgen_test]
async fn a_failed_post_is_queued_and_retried_with_the_same_id() {
    let config = r#"{"formId":"t","questions":[{"id":"email","kind":"email","label":"Email","required":true}]}"#;
    let (target, _form, shadow) = mounted(config).await;
    let calls = stub_fetch(503);
    fill(&shadow, "email", "ann@acme.io");
    click(&shadow, ".nx");
    // The visitor is thanked as soon as the lead is safely queued.
    assert_eq!(text_of(&shadow, "h2"), "Thank you!");
    assert_eq!(outbox_len(), 1, "queued before the first attempt");
    // Let the first attempt fail.
    sleep(200).await;
    assert_eq!(calls.length(), 1);
    assert_eq!(outbox_len(), 1, "kept for a retry");
    let first = prop(&calls.get(0), "key").as_string().unwrap();
    let retry_calls = js_sys::Array::new();
    let make = js_sys::Function::new_with_args(
        "calls",
        "return function (url, init) { calls.push(init.headers.get('Idempotency-Key'));
            return Promise.resolve(new Response('{}', { status: 201 })); };",
    );
    let fetch = make.call1(&JsValue::NULL, &retry_calls).unwrap();
    js_sys::Reflect::set(&web_sys::window().unwrap(), &"fetch".into(), &fetch).unwrap();
    // The backoff (1-1.3 s) passes, the retry succeeds with the same id.
    let delivered = next_event(&target, "delivered").await;
    assert_eq!(prop(&delivered, "id").as_string(), Some(first.clone()));
    assert_eq!(prop(&delivered, "status").as_f64(), Some(201.0));
    assert_eq!(
        retry_calls.get(0).as_string(),
        Some(first),
        "the retry reuses the id"
    );
    assert_eq!(outbox_len(), 0);
}

#[wasm_bindgen_test]
async fn a_refused_lead_is_dropped_with_an_error_event() {
    let config = r#"{"formId":"t","questions":[{"id":"email","kind":"email","label":"Email","required":true}]}"#;
    let (target, _form, shadow) = mounted(config).await;
    let _calls = stub_fetch(422);
    fill(&shadow, "email", "ann@acme.io");
    let error = next_event(&target, "error");
    click(&shadow, ".nx");
    let error = error.await;
    assert_eq!(
        prop(&error, "code").as_string().as_deref(),
        Some("delivery")
    );
    assert_eq!(prop(&error, "status").as_f64(), Some(422.0));
    assert_eq!(outbox_len(), 0, "a 4xx other than 408/429 is not retried");
}

#[wasm_bindgen_test]
async fn a_corrupt_outbox_is_discarded_not_fatal() {
    let storage = web_sys::window().unwrap().local_storage().unwrap().unwrap();
    storage.set_item("bantam.outbox.v1", "{not json").unwrap();
    let (_target, _form, shadow) = mounted(BANT).await;
    assert_eq!(text_of(&shadow, ".st"), "Step 1 of 2");
    sleep(100).await;
    assert_eq!(outbox_len(), 0);
}

#[wasm_bindgen_test]
async fn a_returning_visitor_is_asked_only_new_questions_and_can_start_over() {
    let config = r#"{"formId":"back","questionsPerStep":5,"maxQuestionsPerVisit":2,"questions":[
        {"id":"email","kind":"email","label":"Email","required":true},
        {"id":"size","kind":"number","label":"Team size","category":"fit","ranges":[{"min":1,"points":5}]},
        {"id":"trial","kind":"yesNo","label":"Trial?","category":"need"}
    ]}"#;
    let (target, form, shadow) = mounted(config).await;
    assert!(
        find(&shadow, ".nu").is_none(),
        "no profile yet, no Not you?"
    );
    let _calls = stub_fetch(201);
    fill(&shadow, "email", "ann@acme.io");
    fill(&shadow, "size", "12");
    let delivered = next_event(&target, "delivered");
    click(&shadow, ".nx");
    delivered.await;
    form.destroy();

    // Next visit: only the unknown question, and the lead carries everything.
    let again = document().create_element("div").unwrap();
    document().body().unwrap().append_child(&again).unwrap();
    let submitted = record(&again, "submit");
    let _form = mount(again.clone().into(), options(config)).await.unwrap();
    let shadow = shadow_of(&again);
    assert!(
        find(&shadow, "[data-q=\"email\"]").is_none()
            && find(&shadow, "[data-q=\"size\"]").is_none()
    );
    assert!(is_shown(&shadow, "trial"));
    assert_eq!(text_of(&shadow, ".nu"), "Not you? Start over");
    choose(&shadow, "trial", "yes");
    let delivered = next_event(&again, "delivered");
    click(&shadow, ".nx");
    delivered.await;
    let lead = prop(&submitted.borrow()[0], "lead");
    assert_eq!(prop(&lead, "visitCount").as_f64(), Some(2.0));
    assert_eq!(
        prop(&lead, "answers.email").as_string().as_deref(),
        Some("ann@acme.io")
    );
    assert_eq!(prop(&lead, "answers.size").as_f64(), Some(12.0));
    let new: Vec<String> = js_sys::Array::from(&prop(&lead, "newAnswers"))
        .iter()
        .filter_map(|v| v.as_string())
        .collect();
    assert_eq!(new, ["trial"]);

    // Third visit: everything is known; "Not you?" forgets it and asks everything again.
    let third = document().create_element("div").unwrap();
    document().body().unwrap().append_child(&third).unwrap();
    let _form = mount(third.clone().into(), options(config)).await.unwrap();
    let shadow = shadow_of(&third);
    assert!(find(&shadow, "[data-q]").is_none(), "nothing left to ask");
    click(&shadow, ".nu");
    assert!(is_shown(&shadow, "email") && is_shown(&shadow, "size"));
    assert!(find(&shadow, ".nu").is_none());
    let storage = web_sys::window().unwrap().local_storage().unwrap().unwrap();
    assert_eq!(
        storage.get_item("bantam.profile.v1.back").unwrap(),
        None,
        "forgotten"
    );
}

#[wasm_bindgen_test]
async fn a_corrupt_profile_is_discarded_with_a_warning() {
    reset_storage();
    let storage = web_sys::window().unwrap().local_storage().unwrap().unwrap();
    storage.set_item("bantam.profile.v1.t", "[1,2").unwrap();
    let target = document().create_element("div").unwrap();
    document().body().unwrap().append_child(&target).unwrap();
    let _form = mount(target.clone().into(), options(BANT)).await.unwrap();
    assert!(is_shown(&shadow_of(&target), "email"), "the full form");
    assert_eq!(storage.get_item("bantam.profile.v1.t").unwrap(), None);
}

const ONE_EMAIL: &str =
    r#""questions":[{"id":"email","kind":"email","label":"Email","required":true}]"#;

#[wasm_bindgen_test]
async fn a_filled_honeypot_is_dropped_silently_when_configured() {
    // A hot thank-you exists, but a bot's answers (an email alone) earn the default one.
    let config = format!(
        r#"{{"formId":"t",{ONE_EMAIL},"spam":{{"action":"drop"}},"thankYouByGrade":{{"hot":{{"title":"Book now"}}}}}}"#
    );
    let (target, _form, shadow) = mounted(&config).await;
    let submitted = record(&target, "submit");
    let calls = stub_fetch(201);
    let trap: HtmlInputElement = get(&shadow, "input[name='b.website']").unchecked_into();
    assert_eq!(trap.tab_index(), -1, "out of the tab order");
    assert!(get(&shadow, ".hp").get_attribute("aria-hidden").is_some());
    trap.set_value("https://spam.example");
    fill(&shadow, "email", "bot@spam.example");
    click(&shadow, ".nx");
    // The bot is thanked like anyone with its answers; nothing is queued or sent.
    assert_eq!(text_of(&shadow, "h2"), "Thank you!");
    sleep(100).await;
    assert_eq!(calls.length(), 0);
    assert_eq!(outbox_len(), 0);
    assert_eq!(submitted.borrow().len(), 0);
}

#[wasm_bindgen_test]
async fn the_lead_carries_context_and_a_spam_flag_for_a_too_fast_fill() {
    let target = new_target();
    let options = options(&format!(r#"{{"formId":"t",{ONE_EMAIL},"variant":"a"}}"#));
    js_sys::Reflect::set(&options, &"variant".into(), &"b".into()).unwrap();
    let _form = mount(target.clone().into(), options).await.expect("mount");
    let shadow = shadow(&target);
    let calls = stub_fetch(201);
    fill(&shadow, "email", "ann@Acme.io");
    let delivered = next_event(&target, "delivered");
    click(&shadow, ".nx");
    delivered.await;
    let body = js_sys::JSON::parse(&prop(&calls.get(0), "body").as_string().unwrap()).unwrap();
    let context = |key: &str| prop(&body, &format!("context.{key}"));
    assert_eq!(
        context("emailDomain").as_string().as_deref(),
        Some("acme.io")
    );
    assert_eq!(
        context("emailDomainKind").as_string().as_deref(),
        Some("business")
    );
    assert_eq!(
        context("companyDomain").as_string().as_deref(),
        Some("acme.io")
    );
    let language = web_sys::window().unwrap().navigator().language().unwrap();
    assert_eq!(context("browserLocale").as_string(), Some(language));
    assert!(!context("timeZone").as_string().unwrap().is_empty());
    assert!(context("fillTimeMs").as_f64().unwrap() < 3000.0);
    assert_eq!(
        context("variant").as_string().as_deref(),
        Some("b"),
        "the page's variant wins over the config's"
    );
    // Filled in well under the default 3 s: sent, but flagged.
    assert_eq!(prop(&body, "spam.flagged").as_bool(), Some(true));
    assert_eq!(
        js_sys::JSON::stringify(&prop(&body, "spam.reasons")).unwrap(),
        r#"["tooFast"]"#
    );
}

#[wasm_bindgen_test]
async fn crm_formats_post_their_own_bodies() {
    document()
        .unchecked_ref::<web_sys::HtmlDocument>()
        .set_cookie("hubspotutk=0123abcd; path=/")
        .unwrap();
    let hubspot = format!(
        r#"{{"formId":"t",{ONE_EMAIL},"endpoint":"/hs","delivery":{{"format":"hubspot"}}}}"#
    );
    let salesforce = format!(
        r#"{{"formId":"t",{ONE_EMAIL},"endpoint":"/sf","delivery":{{"format":"salesforce","salesforceOid":"00D5e000000AbCd","gradeField":null}}}}"#
    );
    let mut bodies = Vec::new();
    for config in [hubspot, salesforce] {
        let (target, _form, shadow) = mounted(&config).await;
        let calls = stub_fetch(200);
        fill(&shadow, "email", "ann@acme.io");
        let delivered = next_event(&target, "delivered");
        click(&shadow, ".nx");
        let delivered = delivered.await;
        assert_eq!(calls.length(), 1);
        assert!(
            prop(&calls.get(0), "key").is_null(),
            "no Idempotency-Key for a CRM"
        );
        bodies.push((calls.get(0), delivered));
    }
    let (call, delivered) = &bodies[0];
    assert_eq!(prop(call, "url").as_string().as_deref(), Some("/hs"));
    assert_eq!(prop(call, "mode").as_string().as_deref(), Some("cors"));
    assert_eq!(prop(delivered, "status").as_f64(), Some(200.0));
    let body = js_sys::JSON::parse(&prop(call, "body").as_string().unwrap()).unwrap();
    assert_eq!(
        js_sys::JSON::stringify(&prop(&body, "fields")).unwrap(),
        r#"[{"objectTypeId":"0-1","name":"email","value":"ann@acme.io"},{"objectTypeId":"0-1","name":"bantam_score","value":"0"},{"objectTypeId":"0-1","name":"bantam_grade","value":"cold"}]"#
    );
    assert_eq!(
        prop(&body, "context.hutk").as_string().as_deref(),
        Some("0123abcd")
    );
    let submitted_at: f64 = prop(&body, "submittedAt")
        .as_string()
        .unwrap()
        .parse()
        .unwrap();
    assert!(
        (js_sys::Date::now() - submitted_at).abs() < 60_000.0,
        "submittedAt is the submission time in epoch ms: {submitted_at}"
    );
    let (call, delivered) = &bodies[1];
    assert_eq!(prop(call, "mode").as_string().as_deref(), Some("no-cors"));
    assert_eq!(
        prop(call, "contentType").as_string().as_deref(),
        Some("application/x-www-form-urlencoded")
    );
    assert_eq!(
        prop(call, "body").as_string().as_deref(),
        Some("oid=00D5e000000AbCd&email=ann%40acme.io"),
        "Salesforce gets the score only under a field it knows (no default name)"
    );
    assert_eq!(
        prop(call, "url").as_string().as_deref(),
        Some("/sf?encoding=UTF-8")
    );
    // Salesforce's answer is opaque to the browser: a completed request counts, as status 0.
    assert_eq!(prop(delivered, "status").as_f64(), Some(0.0));
    document()
        .unchecked_ref::<web_sys::HtmlDocument>()
        .set_cookie("hubspotutk=; max-age=0; path=/")
        .unwrap();
}

// ---------------------------------------------------------------------------------------------
// The form editor's use of the full module: `checkConfig`, `formOutline`, `scoreAnswers` and
// the `preview` mount option.

fn json(text: &str) -> JsValue {
    js_sys::JSON::parse(text).unwrap()
}

fn stringify(value: &JsValue) -> String {
    js_sys::JSON::stringify(value).unwrap().as_string().unwrap()
}

/// A short form of its own: one choice question with points, a disqualifier and a signal.
const PLAN: &str = r#"{"formId":"plan","questions":[
  {"id":"email","kind":"email","label":"Email","required":true},
  {"id":"plan","kind":"singleChoice","label":"Which plan?","category":"need","options":[
    {"id":"starter","label":"Starter","points":5},
    {"id":"enterprise","label":"Enterprise","points":40},
    {"id":"student","label":"Student","points":0,"capGrade":"cold"}]}],
  "signals":[{"id":"source","input":"utmSource","values":{"newsletter":10},"none":0}]}"#;

#[wasm_bindgen_test]
fn check_config_gives_the_engines_errors_with_their_paths_and_the_delivery_warnings() {
    let ok = bantam::check_config(json(PLAN));
    assert_eq!(stringify(&ok), r#"{"ok":true,"errors":[],"warnings":[]}"#);
    let twice = PLAN.replace(r#""id":"enterprise""#, r#""id":"starter""#);
    let bad = bantam::check_config(json(&twice));
    assert_eq!(prop(&bad, "ok"), JsValue::FALSE);
    let error = js_sys::Array::from(&prop(&bad, "errors")).get(0);
    assert_eq!(
        prop(&error, "path").as_string().unwrap(),
        "questions[1].options[1].id"
    );
    let message = prop(&error, "message").as_string().unwrap();
    assert!(
        message.contains("option \"starter\" appears twice"),
        "{message}"
    );
    // The same message the engine gives natively.
    let native = bantam::engine::Form::from_value(to_engine(&json(&twice))).unwrap_err();
    assert_eq!(message, native.to_string());
    // A third-party endpoint without a fallback: allowed, with `check`'s warning.
    let hubspot = PLAN.replace(
        r#""formId":"plan","#,
        r#""formId":"plan","endpoint":"https://api.hsforms.com/submissions/v3/integration/submit/1/abc","delivery":{"format":"hubspot"},"#,
    );
    let warned = bantam::check_config(json(&hubspot));
    assert_eq!(prop(&warned, "ok"), JsValue::TRUE);
    let paths: Vec<String> = js_sys::Array::from(&prop(&warned, "warnings"))
        .iter()
        .map(|w| prop(&w, "path").as_string().unwrap())
        .collect();
    assert!(paths.contains(&"delivery.fallback".to_owned()), "{paths:?}");
}

#[wasm_bindgen_test]
fn form_outline_lists_the_questions_after_the_preset_and_the_first_visits_steps() {
    let outline = bantam::form_outline(json(
        r#"{"formId":"o","preset":"bant","removeQuestions":["role","timeframe","need","headcount","consent"],
            "questions":[{"id":"plan","kind":"yesNo","label":"Ready?","priority":5}]}"#,
    ))
    .unwrap();
    let ids: Vec<String> = js_sys::Array::from(&prop(&outline, "questions"))
        .iter()
        .map(|q| prop(&q, "id").as_string().unwrap())
        .collect();
    assert_eq!(ids, ["email", "company", "budget", "plan"]);
    let steps = stringify(&prop(&outline, "steps"));
    // Chosen by priority, asked in form order, three to a step.
    assert_eq!(steps, r#"[["email","company","budget"],["plan"]]"#);
    let grades: Vec<String> = js_sys::Array::from(&prop(&outline, "grades"))
        .iter()
        .map(|g| prop(&g, "name").as_string().unwrap())
        .collect();
    assert_eq!(grades, ["hot", "warm", "cold"]);
    let err = bantam::form_outline(json(r#"{"formId":"o"}"#)).unwrap_err();
    assert_eq!(prop(&err, "path").as_string().unwrap(), "questions");
}

#[wasm_bindgen_test]
fn score_answers_scores_as_the_engine_does_natively() {
    use bantam::engine::{score_with, AnswerValue, Answers, Form, Map, Touch};
    let answers = json(r#"{"email":"ann@acme.io","plan":"enterprise"}"#);
    let touch = json(r#"{"url":"https://www.example.com/?utm_source=newsletter","referrer":""}"#);
    let scored = bantam::score_answers(json(PLAN), answers, touch).unwrap();
    // The same form and answers, scored by the engine directly.
    let form = Form::from_value(to_engine(&json(PLAN))).unwrap();
    let mut values = Map::new();
    values.insert("email".to_owned(), AnswerValue::Text("ann@acme.io".into()));
    values.insert("plan".to_owned(), AnswerValue::Text("enterprise".into()));
    let answers = Answers::from_values(&form, values).unwrap();
    let touch = Touch::from_page("https://www.example.com/?utm_source=newsletter", "", "");
    let native = score_with(&form, &answers, Some(&touch)).to_json();
    assert_eq!(stringify(&scored), stringify(&json(&native)));
    assert!(stringify(&prop(&scored, "reasons")).contains("Enterprise"));
    // The signal counts: without the touch the total is lower.
    let without = bantam::score_answers(
        json(PLAN),
        json(r#"{"email":"ann@acme.io","plan":"enterprise"}"#),
        JsValue::UNDEFINED,
    )
    .unwrap();
    assert!(prop(&without, "total").as_f64().unwrap() < prop(&scored, "total").as_f64().unwrap());
    // A disqualifier caps the grade; an empty answer is a skipped question.
    let capped = bantam::score_answers(
        json(PLAN),
        json(r#"{"email":"","plan":"student"}"#),
        JsValue::UNDEFINED,
    )
    .unwrap();
    assert_eq!(prop(&capped, "grade").as_string().unwrap(), "cold");
    // An answer its question does not take: a TypeError naming it.
    let err = bantam::score_answers(json(PLAN), json(r#"{"plan":"gold"}"#), JsValue::UNDEFINED)
        .unwrap_err();
    assert!(err.is_instance_of::<js_sys::TypeError>());
    assert_eq!(prop(&err, "path").as_string().unwrap(), "answers.plan");
}

/// A JS value as the engine's value tree (as the widget copies a page's config).
fn to_engine(value: &JsValue) -> bantam::engine::Value {
    use bantam::engine::Value;
    if let Some(b) = value.as_bool() {
        Value::Bool(b)
    } else if let Some(n) = value.as_f64() {
        Value::Number(n)
    } else if let Some(s) = value.as_string() {
        Value::String(s)
    } else if js_sys::Array::is_array(value) {
        Value::Array(
            js_sys::Array::from(value)
                .iter()
                .map(|v| to_engine(&v))
                .collect(),
        )
    } else if value.is_object() {
        let entries = js_sys::Object::entries(value.unchecked_ref());
        Value::Object(
            entries
                .iter()
                .map(|pair| {
                    let pair = js_sys::Array::from(&pair);
                    (pair.get(0).as_string().unwrap(), to_engine(&pair.get(1)))
                })
                .collect(),
        )
    } else {
        Value::Null
    }
}

fn preview_options(config: &str, preview: &str) -> JsValue {
    let options = options(config);
    js_sys::Reflect::set(&options, &"preview".into(), &json(preview)).unwrap();
    options
}

#[wasm_bindgen_test]
async fn a_preview_opens_on_the_step_or_thank_you_asked_for_and_sends_nothing() {
    let calls = stub_fetch(201);
    // The second step.
    let target = new_target();
    let form = mount(
        target.clone().into(),
        preview_options(BANT, r#"{"step":2}"#),
    )
    .await
    .unwrap();
    let shadow = shadow_of(&target);
    assert!(text_of(&shadow, ".st").starts_with("Step 2 of"));
    assert!(find(&shadow, "#b-email").is_none());
    form.destroy();
    // The thank-you step of the hot grade, the config's title; the focus stays where it was.
    let target = new_target();
    let config =
        r#"{"formId":"t","preset":"bant","thankYouByGrade":{"hot":{"title":"Let's talk"}}}"#;
    let form = mount(
        target.clone().into(),
        preview_options(config, r#"{"thankYou":"hot"}"#),
    )
    .await
    .unwrap();
    let shadow = shadow_of(&target);
    assert_eq!(text_of(&shadow, ".ty h2"), "Let's talk");
    assert!(shadow.active_element().is_none());
    form.destroy();
    // Sending a preview shows the thank-you the answers earn and sends and keeps nothing.
    let target = new_target();
    let one = r#"{"formId":"p","questions":[{"id":"email","kind":"email","label":"Email","required":true}]}"#;
    let form = mount(target.clone().into(), preview_options(one, "{}"))
        .await
        .unwrap();
    let shadow = shadow_of(&target);
    fill(&shadow, "email", "ann@acme.io");
    let scored = record(&target, "scored");
    click(&shadow, "button.nx");
    assert_eq!(scored.borrow().len(), 1, "scored, as a real send is");
    assert!(find(&shadow, ".ty").is_some());
    sleep(50).await;
    assert_eq!(calls.length(), 0, "nothing was sent");
    assert_eq!(outbox_len(), 0, "nothing was queued");
    let storage = web_sys::window().unwrap().local_storage().unwrap().unwrap();
    assert_eq!(
        storage.length().unwrap(),
        0,
        "nothing about the visitor was kept"
    );
    form.destroy();
    // A preview field the widget does not know, or a grade the form lacks, is refused.
    for (preview, path) in [
        (r#"{"steps":2}"#, "options.preview.steps"),
        (r#"{"thankYou":"boiling"}"#, "options.preview.thankYou"),
        (r#"{"step":0}"#, "options.preview.step"),
    ] {
        let err = mount(new_target().into(), preview_options(BANT, preview))
            .await
            .unwrap_err();
        let message = prop(&err, "message").as_string().unwrap();
        assert!(message.contains(&format!("{path}: ")), "{message}");
    }
}
