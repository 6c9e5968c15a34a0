//! One delivery attempt: the request for a queued lead and what the endpoint's answer means.

use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;
use wasm_bindgen_futures::JsFuture;
use web_sys::{Headers, RequestInit, RequestMode, Response};

use bantam_engine::LATE_AFTER_MS;

use crate::outbox::Entry;

/// How long one attempt may take before it counts as a timeout.
pub(crate) const TIMEOUT_MS: i32 = 10_000;

/// What one attempt came to.
pub(crate) enum Outcome {
    /// 2xx, or a completed request to an endpoint whose answer the browser may not read (0);
    /// with the reason when Bantam's collector kept the lead in quarantine.
    Delivered(u16, Option<String>),
    /// Network error, timeout, 408, 429 or 5xx: try again, not before the `Retry-After` (ms).
    /// The text says what happened, for the page's developer.
    Retry(Option<f64>, String),
    /// Any other status: the endpoint refused this lead for good; with the start of its answer.
    Refused(u16, String),
}

/// The body to send now: a payload that has aged out of its target's window (HubSpot's
/// `submittedAt`) goes out in its late form.
fn body_now(entry: &Entry) -> &str {
    match &entry.late_body {
        Some(late) if js_sys::Date::now() - entry.submitted_ms > LATE_AFTER_MS as f64 => late,
        _ => &entry.body,
    }
}

/// The request for `entry`. At `page_hide` it is a `keepalive` request the browser finishes
/// after the page is gone, and one that needs no CORS preflight (which a closing page does not
/// wait for): a JSON lead document goes as `text/plain` (what `sendBeacon` sends a string as;
/// Bantam's collector reads it as JSON) without the `Idempotency-Key` header (the id is in the
/// body).
pub(crate) fn request_init(entry: &Entry, page_hide: bool) -> Result<RequestInit, JsValue> {
    let headers = Headers::new()?;
    let beacon = page_hide && entry.idempotency_header;
    if beacon {
        headers.set("Content-Type", "text/plain;charset=UTF-8")?;
    } else {
        headers.set("Content-Type", &entry.content_type)?;
    }
    if entry.idempotency_header && !beacon {
        headers.set("Idempotency-Key", &entry.id)?;
    }
    let init = RequestInit::new();
    init.set_method("POST");
    init.set_headers(&headers);
    init.set_body(&JsValue::from_str(body_now(entry)));
    if !entry.readable {
        // The endpoint sends no CORS headers (Salesforce Web-to-Lead): the request still
        // arrives, the answer is opaque.
        init.set_mode(RequestMode::NoCors);
    }
    if page_hide {
        // `keepalive` is not in web-sys's stable RequestInit; it is a plain dictionary member.
        let _ = js_sys::Reflect::set(&init, &JsValue::from_str("keepalive"), &JsValue::TRUE);
    }
    Ok(init)
}

/// Posts `entry` once, giving up after [`TIMEOUT_MS`].
pub(crate) async fn attempt(entry: &Entry) -> Outcome {
    let network = || Outcome::Retry(None, "no answer (network error or timeout)".into());
    let Some(window) = web_sys::window() else {
        return network();
    };
    let Ok(init) = request_init(entry, false) else {
        return network();
    };
    let controller = web_sys::AbortController::new().ok();
    if let Some(c) = &controller {
        init.set_signal(Some(&c.signal()));
        let abort = c.clone();
        let timeout = Closure::once_into_js(move || abort.abort());
        let _ = window.set_timeout_with_callback_and_timeout_and_arguments_0(
            timeout.unchecked_ref(),
            TIMEOUT_MS,
        );
    }
    let response =
        match JsFuture::from(window.fetch_with_str_and_init(&entry.endpoint, &init)).await {
            Ok(r) => r,
            Err(_) => return network(),
        };
    let Ok(response) = response.dyn_into::<Response>() else {
        return network();
    };
    if !entry.readable {
        return Outcome::Delivered(0, None);
    }
    let status = response.status();
    let header = |name: &str| response.headers().get(name).ok().flatten();
    let retry_after = header("Retry-After")
        // Seconds (an HTTP date gives NaN and is ignored). JS parses: Rust's float parser
        // would cost kilobytes of wasm.
        .and_then(|v| v.trim().parse::<js_sys::Number>().ok())
        .map(|n| n.value_of())
        .filter(|s| s.is_finite() && *s >= 0.0)
        .map(|s| s * 1000.0);
    match status {
        200..=299 => Outcome::Delivered(status, header("Bantam-Quarantined")),
        // 408 is a timeout on the server's side: worth another try.
        408 | 429 | 500..=599 => Outcome::Retry(retry_after, format!("HTTP {status}")),
        _ => {
            let text = match response.text() {
                Ok(promise) => JsFuture::from(promise)
                    .await
                    .ok()
                    .and_then(|t| t.as_string())
                    .unwrap_or_default(),
                Err(_) => String::new(),
            };
            Outcome::Refused(status, text.chars().take(500).collect())
        }
    }
}
