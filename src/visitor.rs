//! What the widget remembers about a visitor between page loads: first and last touch, the
//! answers per form and a random visitor id.
//!
//! Stored in `localStorage` only where the form allows it: at once when the form asks no
//! consent, otherwise only once the visitor has given it.

use crate::prelude::*;
use bantam_engine::{concat, decimal};
use bantam_engine::{Attribution, Form, Kind, Touch};

use crate::platform::{storage_get, storage_remove, storage_set, warn};

/// The `localStorage` key, shared by every form on the site.
const KEY: &str = "bantam.attribution.v1";

/// Whether the form asks for consent before anything is kept.
pub(crate) fn needs_consent(form: &Form) -> bool {
    form.questions
        .iter()
        .any(|q| matches!(q.kind, Kind::Consent))
}

/// What was stored by earlier visits; corrupt or foreign contents are dropped with a warning.
fn stored() -> Option<Attribution> {
    let text = storage_get(KEY)?;
    let parsed = crate::js::json_parse(&text)
        .ok()
        .and_then(|v| crate::options::to_value(&v, "attribution").ok())
        .and_then(|v| Attribution::from_value(&v));
    if parsed.is_none() {
        warn("the stored attribution was not readable and was discarded");
        storage_remove(KEY);
    }
    parsed
}

/// This page view (the page at `url`, reached from `referrer`, at `now` in ISO 8601) folded
/// into what earlier visits recorded.
pub(crate) fn attribution(url: &str, referrer: &str, now: &str) -> Attribution {
    Attribution::update(stored(), Touch::from_page(url, referrer, now))
}

/// Keeps the attribution for later visits.
pub(crate) fn remember(attribution: &Attribution) {
    storage_set(KEY, &attribution.to_json());
}

/// What is known about the visitor for one form: earlier answers and the visit count.
pub(crate) struct Profile {
    /// Answers from earlier visits that still fit the form.
    pub known: bantam_engine::Answers,
    /// This visit's number (1 on a first visit).
    pub visit_count: u32,
}

fn profile_key(form_id: &str) -> String {
    concat(&["bantam.profile.v1.", form_id])
}

/// The stored profile for this form; corrupt contents are discarded with a warning.
pub(crate) fn load_profile(form: &Form) -> Profile {
    let empty = Profile {
        known: bantam_engine::Answers::new(),
        visit_count: 1,
    };
    let key = profile_key(&form.id);
    let Some(text) = storage_get(&key) else {
        return empty;
    };
    let value = crate::js::json_parse(&text)
        .ok()
        .and_then(|v| crate::options::to_value(&v, "profile").ok());
    let Some(value @ bantam_engine::Value::Object(_)) = value else {
        warn("the stored profile was not readable and was discarded");
        storage_remove(&key);
        return empty;
    };
    let visits = match value.get("visits") {
        Some(bantam_engine::Value::Number(n)) if *n >= 0.0 => *n as u32,
        _ => 0,
    };
    let (known, dropped) = match value.get("answers") {
        Some(answers) => bantam_engine::Answers::from_stored(form, answers),
        None => (bantam_engine::Answers::new(), 0),
    };
    if dropped > 0 {
        warn(&concat(&[
            &decimal(dropped as i64),
            " stored answer(s) no longer fit form \"",
            &form.id,
            "\" and were dropped",
        ]));
    }
    Profile {
        known,
        visit_count: visits.saturating_add(1),
    }
}

/// Keeps what the visitor told this form, for their next visit.
pub(crate) fn save_profile(form_id: &str, answers: &bantam_engine::Answers, visits: u32) {
    let text = concat(&[
        "{\"visits\":",
        &decimal(i64::from(visits)),
        ",\"answers\":",
        &answers.to_json(),
        "}",
    ]);
    storage_set(&profile_key(form_id), &text);
}

/// The `localStorage` key of the visitor's id, shared by every form on the site.
const VISITOR: &str = "bantam.visitor.v1";

/// The id kept for this visitor, else `fresh` (this submission's random id, which becomes
/// theirs once kept): no second random source.
pub(crate) fn visitor_id(fresh: &str) -> String {
    storage_get(VISITOR)
        // Only emptiness is checked: the collector bounds and keys what it is sent.
        .filter(|id| !id.is_empty())
        .unwrap_or_else(|| fresh.to_owned())
}

/// Keeps the visitor's id (with their profile, under the same consent rule).
pub(crate) fn keep_visitor_id(id: &str) {
    storage_set(VISITOR, id);
}

/// "Not you?": forgets the profile, the touches and the visitor id kept on this device.
pub(crate) fn forget(form_id: &str) {
    storage_remove(&profile_key(form_id));
    storage_remove(KEY);
    storage_remove(VISITOR);
}
