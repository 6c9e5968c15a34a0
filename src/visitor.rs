//! What the widget remembers about a visitor between page loads: first and last touch.
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
