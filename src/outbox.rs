//! The delivery outbox: a lead is stored in `localStorage` before the first attempt and leaves
//! it only when the endpoint has answered for it.
//!
//! Retries use exponential backoff with jitter on network errors, timeouts, 5xx and 429
//! (honouring `Retry-After`); the first failure of a lead is reported (`bantam:error`, code
//! `queued`) so a site owner testing the page sees an endpoint that is down. A refusal (other
//! 4xx) sends the lead document, with the refusal attached, to the form's `delivery.fallback`
//! (a Bantam collector keeps it in quarantine), or, without one, is reported with the lead in
//! the event. The outbox is flushed when a form mounts (so a reload or a closed tab loses
//! nothing), on a timer, and when the browser comes back online; on `pagehide` every queued
//! lead (in flight or waiting for a retry) goes out at once as a `keepalive` request that needs
//! no preflight. One tab at a time flushes (Web Locks). A lead may so arrive twice: every body
//! carries the lead id (see [`bantam_engine::encode`]), and JSON endpoints get it as
//! `Idempotency-Key` too, so the second copy is harmless.

use std::cell::{Cell, RefCell};

use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;
use wasm_bindgen_futures::JsFuture;
use web_sys::Element;

use crate::deliver::{attempt, request_init, Outcome};
use crate::events::{dispatch, obj, WidgetError};

/// The `localStorage` key; one outbox per origin, for every form on it.
const KEY: &str = "bantam.outbox.v1";
/// The longest wait between attempts.
const MAX_BACKOFF_MS: f64 = 300_000.0;

/// One queued lead.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Entry {
    pub id: String,
    pub endpoint: String,
    pub body: String,
    pub content_type: String,
    /// Send the id as `Idempotency-Key` (JSON endpoints that allow it in CORS).
    pub idempotency_header: bool,
    /// The endpoint answers with CORS headers; otherwise the post is `no-cors`.
    pub readable: bool,
    pub attempts: u32,
    /// Not before this time (ms since the epoch).
    pub next_at: f64,
    /// When the visitor submitted (ms since the epoch).
    pub submitted_ms: f64,
    /// The body to send once the lead is older than `LATE_AFTER_MS`, if it differs.
    pub late_body: Option<String>,
    /// The endpoint format's name, recorded with a refusal.
    pub format: String,
    /// Where the lead document goes if the endpoint refuses it, and that document.
    pub fallback: Option<(String, String)>,
}

impl Entry {
    fn due(&self, now: f64) -> bool {
        self.next_at <= now
    }

    /// The entry that takes the lead to the fallback after `status`: the lead document with
    /// the refusal attached, as JSON to a Bantam collector.
    fn to_fallback(&self, status: u16, response: &str) -> Option<Entry> {
        let (endpoint, lead) = self.fallback.clone()?;
        let document = js_sys::JSON::parse(&lead).ok()?;
        let refusal = obj(&[
            ("endpoint", JsValue::from_str(&self.endpoint)),
            ("format", JsValue::from_str(&self.format)),
            ("status", JsValue::from(status)),
            ("response", JsValue::from_str(response)),
        ]);
        js_sys::Reflect::set(&document, &JsValue::from_str("refusal"), &refusal).ok()?;
        let body = js_sys::JSON::stringify(&document).ok()?.as_string()?;
        Some(Entry {
            id: self.id.clone(),
            endpoint,
            body,
            content_type: "application/json".into(),
            idempotency_header: true,
            readable: true,
            attempts: 0,
            next_at: 0.0,
            submitted_ms: self.submitted_ms,
            late_body: None,
            format: "json".into(),
            fallback: None,
        })
    }
}

thread_local! {
    /// Forms that queued a lead in this page, to tell them when it is delivered.
    static HOSTS: RefCell<Vec<(String, Element)>> = const { RefCell::new(Vec::new()) };
    static FLUSHING: Cell<bool> = const { Cell::new(false) };
    /// A flush was asked for while one ran: run another pass after it.
    static AGAIN: Cell<bool> = const { Cell::new(false) };
    static TIMER: Cell<Option<i32>> = const { Cell::new(None) };
    /// Leads whose failure to leave this page was reported already (once per lead and page).
    static REPORTED: RefCell<Vec<String>> = const { RefCell::new(Vec::new()) };
    static PAGE_LISTENERS: RefCell<Vec<gloo_events::EventListener>> = const { RefCell::new(Vec::new()) };
}

fn storage() -> Option<web_sys::Storage> {
    web_sys::window()?.local_storage().ok().flatten()
}

fn get(o: &JsValue, key: &str) -> JsValue {
    js_sys::Reflect::get(o, &JsValue::from_str(key)).unwrap_or(JsValue::UNDEFINED)
}

/// The queued leads; corrupt or foreign contents are dropped with a console warning.
pub(crate) fn load() -> Vec<Entry> {
    let Some(text) = storage().and_then(|s| s.get_item(KEY).ok().flatten()) else {
        return Vec::new();
    };
    let parsed = js_sys::JSON::parse(&text)
        .ok()
        .filter(js_sys::Array::is_array);
    let Some(array) = parsed else {
        web_sys::console::warn_1(&JsValue::from_str(
            "Bantam: the stored outbox was not readable and was discarded",
        ));
        if let Some(s) = storage() {
            let _ = s.remove_item(KEY);
        }
        return Vec::new();
    };
    js_sys::Array::from(&array)
        .iter()
        .filter_map(|e| {
            let text = |key: &str| get(&e, key).as_string();
            let fallback = text("fallback").zip(text("lead"));
            Some(Entry {
                id: text("id")?,
                endpoint: text("endpoint")?,
                body: text("body")?,
                // Entries from before the payload formats are JSON lead documents.
                content_type: text("contentType").unwrap_or_else(|| "application/json".into()),
                idempotency_header: get(&e, "idempotencyHeader").as_bool().unwrap_or(true),
                readable: get(&e, "readable").as_bool().unwrap_or(true),
                attempts: get(&e, "attempts").as_f64().unwrap_or(0.0) as u32,
                next_at: get(&e, "nextAt").as_f64().unwrap_or(0.0),
                submitted_ms: get(&e, "submittedMs").as_f64().unwrap_or(0.0),
                late_body: text("lateBody"),
                format: text("format").unwrap_or_else(|| "json".into()),
                fallback,
            })
        })
        .collect()
}

/// Writes the outbox.
///
/// # Errors
/// When storage is unavailable or full.
fn save(entries: &[Entry]) -> Result<(), JsValue> {
    let storage = storage().ok_or_else(|| JsValue::from_str("no localStorage"))?;
    if entries.is_empty() {
        return storage.remove_item(KEY);
    }
    let array: js_sys::Array = entries
        .iter()
        .map(|e| {
            let optional = |v: Option<&String>| v.map_or(JsValue::UNDEFINED, |s| s.into());
            obj(&[
                ("id", JsValue::from_str(&e.id)),
                ("endpoint", JsValue::from_str(&e.endpoint)),
                ("body", JsValue::from_str(&e.body)),
                ("contentType", JsValue::from_str(&e.content_type)),
                (
                    "idempotencyHeader",
                    JsValue::from_bool(e.idempotency_header),
                ),
                ("readable", JsValue::from_bool(e.readable)),
                ("attempts", JsValue::from(e.attempts)),
                ("nextAt", JsValue::from(e.next_at)),
                ("submittedMs", JsValue::from(e.submitted_ms)),
                ("lateBody", optional(e.late_body.as_ref())),
                ("format", JsValue::from_str(&e.format)),
                ("fallback", optional(e.fallback.as_ref().map(|f| &f.0))),
                ("lead", optional(e.fallback.as_ref().map(|f| &f.1))),
            ])
        })
        .collect();
    let text = js_sys::JSON::stringify(&array)?
        .as_string()
        .unwrap_or_default();
    storage.set_item(KEY, &text)
}

/// Queues a lead (once per id) and remembers which form to tell about it.
///
/// # Errors
/// When the lead cannot be stored (no storage, quota); the caller then posts directly.
pub(crate) fn enqueue(entry: Entry, host: &Element) -> Result<(), JsValue> {
    let mut entries = load();
    if !entries.iter().any(|e| e.id == entry.id) {
        entries.push(entry.clone());
    }
    save(&entries)?;
    HOSTS.with(|h| h.borrow_mut().push((entry.id, host.clone())));
    Ok(())
}

fn host_for(id: &str) -> Option<Element> {
    HOSTS.with(|h| {
        h.borrow()
            .iter()
            .find(|(i, _)| i == id)
            .map(|(_, e)| e.clone())
    })
}

/// Tells the form that queued `id` (or the document, for a lead from an earlier page).
fn notify(id: &str, name: &str, detail: &JsValue) {
    let target = host_for(id).filter(|h| h.is_connected()).or_else(|| {
        web_sys::window()
            .and_then(|w| w.document())
            .and_then(|d| d.document_element())
    });
    if let Some(target) = target {
        dispatch(&target, name, detail);
    }
}

/// Backoff before attempt `attempts + 1`: 1 s doubling to 5 min, with up to 30% jitter.
fn backoff_ms(attempts: u32) -> f64 {
    let base = (1000.0 * f64::from(1u32 << attempts.min(10))).min(MAX_BACKOFF_MS);
    base * (1.0 + js_sys::Math::random() * 0.3)
}

/// Reports a problem with lead `id`: one console line and `bantam:error` with the id.
fn report(id: &str, err: &WidgetError, lead: Option<&str>) {
    web_sys::console::error_1(&JsValue::from_str(&format!("Bantam: {}", err.message)));
    let detail = err.detail();
    let _ = js_sys::Reflect::set(&detail, &JsValue::from_str("id"), &JsValue::from_str(id));
    if let Some(lead) = lead {
        let _ = js_sys::Reflect::set(
            &detail,
            &JsValue::from_str("lead"),
            &js_sys::JSON::parse(lead).unwrap_or(JsValue::NULL),
        );
    }
    notify(id, "error", &detail);
}

/// Sends due leads one by one while holding the outbox; schedules the next pass.
async fn flush_inner() {
    loop {
        let now = js_sys::Date::now();
        let Some(entry) = load().into_iter().find(|e| e.due(now)) else {
            break;
        };
        let outcome = attempt(&entry).await;
        let mut entries = load();
        let Some(at) = entries.iter().position(|e| e.id == entry.id) else {
            continue;
        };
        match outcome {
            Outcome::Delivered(status, quarantined) => {
                entries.remove(at);
                let _ = save(&entries);
                if let Some(reason) = quarantined {
                    let err = WidgetError::new(
                        "quarantined",
                        format!(
                            "{} kept lead {} in quarantine: {reason}",
                            entry.endpoint, entry.id
                        ),
                        Some(status),
                    );
                    report(&entry.id, &err, None);
                }
                notify(
                    &entry.id,
                    "delivered",
                    &obj(&[
                        ("id", JsValue::from_str(&entry.id)),
                        ("status", JsValue::from(status)),
                    ]),
                );
            }
            Outcome::Refused(status, response) => {
                let fallback = entry.to_fallback(status, &response);
                let answer = if response.is_empty() {
                    String::new()
                } else {
                    format!(": {response}")
                };
                let message = match &fallback {
                    Some(to) => format!(
                        "{} refused lead {} with HTTP {status}{answer}; it was sent to the fallback {} instead",
                        entry.endpoint, entry.id, to.endpoint
                    ),
                    None => format!(
                        "{} refused lead {} with HTTP {status}{answer}; it was not delivered (set delivery.fallback to keep refused leads in your Bantam collector)",
                        entry.endpoint, entry.id
                    ),
                };
                let lead = match &fallback {
                    Some(to) => {
                        entries[at] = to.clone();
                        None
                    }
                    None => Some(entries.remove(at).body),
                };
                let _ = save(&entries);
                report(
                    &entry.id,
                    &WidgetError::new("delivery", message, Some(status)),
                    lead.as_deref()
                        .filter(|_| entry.content_type == "application/json"),
                );
            }
            Outcome::Retry(retry_after, why) => {
                let e = &mut entries[at];
                e.attempts += 1;
                let wait = retry_after
                    .unwrap_or_else(|| backoff_ms(e.attempts))
                    .min(MAX_BACKOFF_MS);
                e.next_at = js_sys::Date::now() + wait;
                let _ = save(&entries);
                let first = REPORTED.with(|r| {
                    let mut r = r.borrow_mut();
                    let first = !r.contains(&entry.id);
                    if first {
                        r.push(entry.id.clone());
                    }
                    first
                });
                if first {
                    let err = WidgetError::new(
                        "queued",
                        format!(
                            "could not deliver lead {} to {} ({why}); it is kept in this browser and sent again later",
                            entry.id, entry.endpoint
                        ),
                        None,
                    );
                    report(&entry.id, &err, None);
                }
                // Leads behind a failing one wait for the next pass too.
                break;
            }
        }
    }
    schedule();
}

/// Arms one timer for the earliest queued lead.
fn schedule() {
    let Some(window) = web_sys::window() else {
        return;
    };
    if let Some(old) = TIMER.with(Cell::take) {
        window.clear_timeout_with_handle(old);
    }
    let Some(next) = load().iter().map(|e| e.next_at).reduce(f64::min) else {
        return;
    };
    let delay = (next - js_sys::Date::now()).clamp(0.0, MAX_BACKOFF_MS) as i32;
    let callback = Closure::once_into_js(|| {
        TIMER.with(|t| t.set(None));
        flush();
    });
    if let Ok(handle) = window
        .set_timeout_with_callback_and_timeout_and_arguments_0(callback.unchecked_ref(), delay)
    {
        TIMER.with(|t| t.set(Some(handle)));
    }
}

/// Starts a flush; if one is running in this tab, it makes another pass when done. Across
/// tabs, Web Locks lets one at a time in.
pub(crate) fn flush() {
    if FLUSHING.with(|f| f.replace(true)) {
        AGAIN.with(|a| a.set(true));
        return;
    }
    wasm_bindgen_futures::spawn_local(async {
        loop {
            AGAIN.with(|a| a.set(false));
            locked_pass().await;
            if !AGAIN.with(Cell::get) {
                break;
            }
        }
        FLUSHING.with(|f| f.set(false));
    });
}

async fn locked_pass() {
    let locks = web_sys::window()
        .map(|w| get(&w.navigator(), "locks"))
        .filter(|l| !l.is_undefined() && !l.is_null());
    match locks {
        Some(locks) => {
            let callback = Closure::once_into_js(|| {
                wasm_bindgen_futures::future_to_promise(async {
                    flush_inner().await;
                    Ok(JsValue::UNDEFINED)
                })
            });
            let request = js_sys::Function::from(get(&locks, "request"));
            if let Ok(promise) =
                request.call2(&locks, &JsValue::from_str("bantam-outbox"), &callback)
            {
                let _ = JsFuture::from(js_sys::Promise::from(promise)).await;
            }
        }
        None => flush_inner().await,
    }
}

/// Once per page: flush when the browser comes back online, and send everything queued with
/// `keepalive` when the page is hidden for good (the next page load retries what is left).
pub(crate) fn watch_page() {
    let Some(window) = web_sys::window() else {
        return;
    };
    PAGE_LISTENERS.with(|listeners| {
        let mut listeners = listeners.borrow_mut();
        if !listeners.is_empty() {
            return;
        }
        listeners.push(gloo_events::EventListener::new(&window, "online", |_| {
            // Everything queued is due again now that the network is back.
            let mut entries = load();
            for e in &mut entries {
                e.next_at = 0.0;
            }
            let _ = save(&entries);
            flush();
        }));
        listeners.push(gloo_events::EventListener::new(&window, "pagehide", |_| {
            // Everything queued, in flight or waiting for a retry, goes out now: the page may
            // never come back. A copy the endpoint already has is harmless (the id).
            let Some(window) = web_sys::window() else {
                return;
            };
            for entry in load() {
                if let Ok(init) = request_init(&entry, true) {
                    let _ = window.fetch_with_str_and_init(&entry.endpoint, &init);
                }
            }
        }));
    });
}
