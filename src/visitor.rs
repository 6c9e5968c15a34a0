//! What the widget remembers about a visitor between page loads: first and last touch, the
//! answers per form and a random visitor id.
//!
//! Stored in `localStorage` only where the form allows it: at once when the form asks no
//! consent, otherwise only once the visitor has given it.

use bantam_engine::{Attribution, Form, Kind, Touch};
use wasm_bindgen::JsValue;

/// The `localStorage` key, shared by every form on the site.
const KEY: &str = "bantam.attribution.v1";

fn storage() -> Option<web_sys::Storage> {
    web_sys::window()?.local_storage().ok().flatten()
}

/// Whether the form asks for consent before anything is kept.
pub(crate) fn needs_consent(form: &Form) -> bool {
    form.questions
        .iter()
        .any(|q| matches!(q.kind, Kind::Consent))
}

/// What was stored by earlier visits; corrupt or foreign contents are dropped with a warning.
fn stored() -> Option<Attribution> {
    let storage = storage()?;
    let text = storage.get_item(KEY).ok().flatten()?;
    let parsed = js_sys::JSON::parse(&text)
        .ok()
        .and_then(|v| crate::options::to_value(&v, "attribution", 0).ok())
        .and_then(|v| Attribution::from_value(&v));
    if parsed.is_none() {
        web_sys::console::warn_1(&JsValue::from_str(
            "Bantam: the stored attribution was not readable and was discarded",
        ));
        let _ = storage.remove_item(KEY);
    }
    parsed
}

/// This page view folded into what earlier visits recorded.
pub(crate) fn attribution() -> Attribution {
    let (url, referrer) = web_sys::window()
        .map(|w| {
            let url = w.location().href().unwrap_or_default();
            let referrer = w.document().map(|d| d.referrer()).unwrap_or_default();
            (url, referrer)
        })
        .unwrap_or_default();
    let now = js_sys::Date::new_0()
        .to_iso_string()
        .as_string()
        .unwrap_or_default();
    Attribution::update(stored(), Touch::from_page(&url, &referrer, &now))
}

/// Keeps the attribution for later visits.
pub(crate) fn remember(attribution: &Attribution) {
    if let Some(storage) = storage() {
        let _ = storage.set_item(KEY, &attribution.to_json());
    }
}

/// What is known about the visitor for one form: earlier answers and the visit count.
pub(crate) struct Profile {
    /// Answers from earlier visits that still fit the form.
    pub known: bantam_engine::Answers,
    /// This visit's number (1 on a first visit).
    pub visit_count: u32,
}

fn profile_key(form_id: &str) -> String {
    format!("bantam.profile.v1.{form_id}")
}

/// The stored profile for this form; corrupt contents are discarded with a warning.
pub(crate) fn load_profile(form: &Form) -> Profile {
    let empty = Profile {
        known: bantam_engine::Answers::new(),
        visit_count: 1,
    };
    let Some(storage) = storage() else {
        return empty;
    };
    let key = profile_key(&form.id);
    let Some(text) = storage.get_item(&key).ok().flatten() else {
        return empty;
    };
    let value = js_sys::JSON::parse(&text)
        .ok()
        .and_then(|v| crate::options::to_value(&v, "profile", 0).ok());
    let Some(bantam_engine::Value::Object(entries)) = value else {
        web_sys::console::warn_1(&JsValue::from_str(
            "Bantam: the stored profile was not readable and was discarded",
        ));
        let _ = storage.remove_item(&key);
        return empty;
    };
    let field = |name: &str| entries.iter().find(|(k, _)| k == name).map(|(_, v)| v);
    let visits = match field("visits") {
        Some(bantam_engine::Value::Number(n)) if *n >= 0.0 => *n as u32,
        _ => 0,
    };
    let (known, dropped) = match field("answers") {
        Some(answers) => bantam_engine::Answers::from_stored(form, answers),
        None => (bantam_engine::Answers::new(), 0),
    };
    if dropped > 0 {
        web_sys::console::warn_1(&JsValue::from_str(&format!(
            "Bantam: {dropped} stored answer(s) no longer fit form \"{}\" and were dropped",
            form.id
        )));
    }
    Profile {
        known,
        visit_count: visits.saturating_add(1),
    }
}

/// Keeps what the visitor told this form, for their next visit.
pub(crate) fn save_profile(form_id: &str, answers: &bantam_engine::Answers, visits: u32) {
    if let Some(storage) = storage() {
        let text = format!("{{\"visits\":{visits},\"answers\":{}}}", answers.to_json());
        let _ = storage.set_item(&profile_key(form_id), &text);
    }
}

/// The `localStorage` key of the visitor's id, shared by every form on the site.
const VISITOR: &str = "bantam.visitor.v1";

/// The id kept for this visitor, else `fresh` (this submission's random id, which becomes
/// theirs once kept): no second random source.
pub(crate) fn visitor_id(fresh: &str) -> String {
    storage()
        .and_then(|s| s.get_item(VISITOR).ok().flatten())
        .filter(|id| {
            !id.is_empty()
                && id.len() <= 100
                && id.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
        })
        .unwrap_or_else(|| fresh.to_owned())
}

/// Keeps the visitor's id (with their profile, under the same consent rule).
pub(crate) fn keep_visitor_id(id: &str) {
    if let Some(storage) = storage() {
        let _ = storage.set_item(VISITOR, id);
    }
}

/// "Not you?": forgets the profile, the touches and the visitor id kept on this device.
pub(crate) fn forget(form_id: &str) {
    if let Some(storage) = storage() {
        let _ = storage.remove_item(&profile_key(form_id));
        let _ = storage.remove_item(KEY);
        let _ = storage.remove_item(VISITOR);
    }
}
