//! Errors and the `bantam:*` DOM events dispatched on the host element.

use serde::Serialize;
use wasm_bindgen::JsValue;
use web_sys::{CustomEvent, CustomEventInit, Element};

/// An error as the page sees it: `detail` of `bantam:error` and the rejection of `mount`.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct WidgetError {
    /// `config`, `delivery` or `mount`.
    pub code: &'static str,
    /// A message naming the culprit.
    pub message: String,
    /// The config path, for config errors.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub path: Option<String>,
    /// The endpoint's HTTP status, for delivery errors that got one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub status: Option<u16>,
}

impl WidgetError {
    /// A bad config or bad options.
    pub fn config(message: String, path: Option<String>) -> WidgetError {
        WidgetError {
            code: "config",
            message,
            path,
            status: None,
        }
    }

    /// A problem mounting: missing target, unreachable config URL.
    pub fn mount(message: String) -> WidgetError {
        WidgetError {
            code: "mount",
            message,
            path: None,
            status: None,
        }
    }

    /// The endpoint refused or could not be reached.
    pub fn delivery(message: String, status: Option<u16>) -> WidgetError {
        WidgetError {
            code: "delivery",
            message,
            path: None,
            status,
        }
    }

    /// The JS error `mount` rejects with: a `TypeError` for config, an `Error` otherwise.
    pub fn to_js(&self) -> JsValue {
        let message = format!("Bantam: {}", self.message);
        if self.code == "config" {
            js_sys::TypeError::new(&message).into()
        } else {
            js_sys::Error::new(&message).into()
        }
    }
}

/// Converts a value for the page: plain JSON-compatible objects, maps as objects.
pub(crate) fn to_js<T: Serialize>(value: &T) -> JsValue {
    value
        .serialize(&serde_wasm_bindgen::Serializer::json_compatible())
        .unwrap_or(JsValue::NULL)
}

/// Dispatches `bantam:<name>` on the host; it bubbles and crosses shadow boundaries.
pub(crate) fn dispatch(host: &Element, name: &str, detail: &JsValue) {
    let init = CustomEventInit::new();
    init.set_bubbles(true);
    init.set_composed(true);
    init.set_detail(detail);
    if let Ok(event) = CustomEvent::new_with_event_init_dict(&format!("bantam:{name}"), &init) {
        let _ = host.dispatch_event(&event);
    }
}

/// Logs one console error for the page's developer.
pub(crate) fn log_error(err: &JsValue) {
    web_sys::console::error_1(err);
}

/// Reports an error: one console error and a `bantam:error` event on the host.
pub(crate) fn report(host: &Element, err: &WidgetError) {
    web_sys::console::error_1(&JsValue::from_str(&format!("Bantam: {}", err.message)));
    dispatch(host, "error", &to_js(err));
}
