//! One delivery attempt: the request for a queued lead and what the endpoint's answer means.

use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;
use wasm_bindgen_futures::JsFuture;
use web_sys::{Headers, RequestInit, RequestMode, Response};

use crate::outbox::Entry;

/// How long one attempt may take before it counts as a timeout.
pub(crate) const TIMEOUT_MS: i32 = 10_000;

/// What one attempt came to.
pub(crate) enum Outcome {
    /// 2xx, or a completed request to an endpoint whose answer the browser may not read (0).
    Delivered(u16),
    /// Network error, timeout, 408, 429 or 5xx: try again, not before the `Retry-After` (ms).
    Retry(Option<f64>),
    /// Any other status: the endpoint refused this lead for good.
    Refused(u16),
}

/// The request for `entry`; `keepalive` lets it outlive a closing page.
pub(crate) fn request_init(entry: &Entry, keepalive: bool) -> Result<RequestInit, JsValue> {
    let headers = Headers::new()?;
    headers.set("Content-Type", &entry.content_type)?;
    if entry.idempotency_header {
        headers.set("Idempotency-Key", &entry.id)?;
    }
    let init = RequestInit::new();
    init.set_method("POST");
    init.set_headers(&headers);
    init.set_body(&JsValue::from_str(&entry.body));
    if !entry.readable {
        // The endpoint sends no CORS headers (Salesforce Web-to-Lead): the request still
        // arrives, the answer is opaque.
        init.set_mode(RequestMode::NoCors);
    }
    if keepalive {
        // `keepalive` is not in web-sys's stable RequestInit; it is a plain dictionary member.
        let _ = js_sys::Reflect::set(&init, &JsValue::from_str("keepalive"), &JsValue::TRUE);
    }
    Ok(init)
}

/// Posts `entry` once, giving up after [`TIMEOUT_MS`].
pub(crate) async fn attempt(entry: &Entry) -> Outcome {
    let Some(window) = web_sys::window() else {
        return Outcome::Retry(None);
    };
    let Ok(init) = request_init(entry, false) else {
        return Outcome::Retry(None);
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
            Err(_) => return Outcome::Retry(None),
        };
    let Ok(response) = response.dyn_into::<Response>() else {
        return Outcome::Retry(None);
    };
    if !entry.readable {
        return Outcome::Delivered(0);
    }
    let status = response.status();
    let retry_after = response
        .headers()
        .get("Retry-After")
        .ok()
        .flatten()
        // Seconds (an HTTP date gives NaN and is ignored). JS parses: Rust's float parser
        // would cost kilobytes of wasm.
        .and_then(|v| v.trim().parse::<js_sys::Number>().ok())
        .map(|n| n.value_of())
        .filter(|s| s.is_finite() && *s >= 0.0)
        .map(|s| s * 1000.0);
    match status {
        200..=299 => Outcome::Delivered(status),
        // 408 is a timeout on the server's side: worth another try.
        408 | 429 | 500..=599 => Outcome::Retry(retry_after),
        _ => Outcome::Refused(status),
    }
}
