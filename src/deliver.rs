//! Posting the lead document to the endpoint.

use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_futures::JsFuture;
use web_sys::{Headers, RequestInit, Response};

use crate::events::WidgetError;

/// Posts `body` (JSON) with the lead id as `Idempotency-Key`; returns the HTTP status.
///
/// # Errors
/// A `delivery` [`WidgetError`] on network failure or a non-2xx status (with the status).
pub(crate) async fn post_json(endpoint: &str, id: &str, body: &str) -> Result<u16, WidgetError> {
    let window =
        web_sys::window().ok_or_else(|| WidgetError::delivery("no window".into(), None))?;
    let headers = Headers::new().map_err(|_| WidgetError::delivery("headers".into(), None))?;
    let _ = headers.set("Content-Type", "application/json");
    let _ = headers.set("Idempotency-Key", id);
    let init = RequestInit::new();
    init.set_method("POST");
    init.set_headers(&headers);
    init.set_body(&JsValue::from_str(body));
    let response = JsFuture::from(window.fetch_with_str_and_init(endpoint, &init))
        .await
        .map_err(|_| WidgetError::delivery(format!("could not reach {endpoint}"), None))?;
    let response: Response = response
        .dyn_into()
        .map_err(|_| WidgetError::delivery("fetch did not return a Response".into(), None))?;
    let status = response.status();
    if response.ok() {
        Ok(status)
    } else {
        Err(WidgetError::delivery(
            format!("{endpoint} answered HTTP {status}"),
            Some(status),
        ))
    }
}
