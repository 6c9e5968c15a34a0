//! Errors and the `bantam:*` DOM events dispatched on the host element.

use wasm_bindgen::JsValue;
use web_sys::Element;

/// `dispatch(host, name, detail)`: `bantam:<name>` on the host, bubbling and crossing shadow
/// boundaries; `log_error`: one console error for the page's developer.
pub(crate) use crate::platform::{dispatch, log_error};

/// An error as the page sees it: `detail` of `bantam:error` and the rejection of `mount`.
#[derive(Debug, Clone)]
pub(crate) struct WidgetError {
    /// `config`, `mount`, `load`, `delivery`, `queued` or `quarantined`.
    pub code: &'static str,
    /// A message naming the culprit.
    pub message: String,
    /// The config path, for config errors.
    pub path: Option<String>,
    /// The endpoint's HTTP status, for delivery errors that got one.
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
        WidgetError::new("delivery", message, status)
    }

    /// A config the lean module cannot read (not compiled): nothing is reported, and the loader
    /// mounts the form with the full module instead (see [`WidgetError::to_js`]).
    #[cfg(not(feature = "validator"))]
    pub fn fallback() -> WidgetError {
        WidgetError::new("fallback", "the full module reads configs".into(), None)
    }

    /// A delivery problem with its own code (`delivery`, `queued`, `quarantined`).
    pub fn new(code: &'static str, message: String, status: Option<u16>) -> WidgetError {
        WidgetError {
            code,
            message,
            path: None,
            status,
        }
    }

    /// The JS error `mount` rejects with: a `TypeError` for config, an `Error` otherwise; for
    /// [`WidgetError::fallback`], one with `bantamFallback: true` for the loader.
    pub fn to_js(&self) -> JsValue {
        let message = format!("Bantam: {}", self.message);
        if self.code == "config" {
            js_sys::TypeError::new(&message).into()
        } else {
            let error: JsValue = js_sys::Error::new(&message).into();
            if self.code == "fallback" {
                let _ = js_sys::Reflect::set(
                    &error,
                    &JsValue::from_str("bantamFallback"),
                    &JsValue::TRUE,
                );
            }
            error
        }
    }
}

/// A plain object from key/value pairs, for event details.
pub(crate) fn obj(pairs: &[(&str, JsValue)]) -> JsValue {
    let o = js_sys::Object::new();
    for (k, v) in pairs {
        let _ = js_sys::Reflect::set(&o, &JsValue::from_str(k), v);
    }
    o.into()
}

/// Parses JSON text the engine wrote (a score, a lead document) into a JS value.
pub(crate) fn from_json(json: &str) -> JsValue {
    js_sys::JSON::parse(json).unwrap_or(JsValue::NULL)
}

impl WidgetError {
    /// The `detail` of `bantam:error`: `{code, message, path?, status?}`.
    pub fn detail(&self) -> JsValue {
        let mut pairs = vec![
            ("code", JsValue::from_str(self.code)),
            ("message", JsValue::from_str(&self.message)),
        ];
        if let Some(path) = &self.path {
            pairs.push(("path", JsValue::from_str(path)));
        }
        if let Some(status) = self.status {
            pairs.push(("status", JsValue::from(status)));
        }
        obj(&pairs)
    }
}

/// Reports an error: one console error and a `bantam:error` event on the host.
pub(crate) fn report(host: &Element, err: &WidgetError) {
    crate::platform::report(host, &err.detail());
}
