//! The errors of a mount, as `bantam:error` and the rejection of `mount` give them. (The
//! other `bantam:*` events, and delivery errors, are `widget.js`'s and `platform.js`'s.)

use crate::js;
use crate::prelude::*;
use bantam_engine::concat;
use wasm_bindgen::JsValue;

/// An error as the page sees it: `detail` of `bantam:error` and the rejection of `mount`.
#[derive(Debug, Clone)]
pub(crate) struct WidgetError {
    /// `config`, or `fallback` (not reported). (`mount` errors are `widget.js`'s.)
    pub code: &'static str,
    /// A message naming the culprit.
    pub message: String,
    /// The config path, for config errors.
    pub path: Option<String>,
}

impl WidgetError {
    /// A bad config or bad options.
    pub fn config(message: String, path: Option<String>) -> WidgetError {
        WidgetError {
            code: "config",
            message,
            path,
        }
    }

    /// A config the lean module cannot read (not compiled): nothing is reported, and the loader
    /// mounts the form with the full module instead (see [`WidgetError::to_js`]).
    #[cfg(not(feature = "validator"))]
    pub fn fallback() -> WidgetError {
        WidgetError {
            code: "fallback",
            message: "the full module reads configs".into(),
            path: None,
        }
    }

    /// The JS error `mount` rejects with: a `TypeError` for config, an `Error` otherwise; for
    /// [`WidgetError::fallback`], one with `bantamFallback: true` for the loader.
    pub fn to_js(&self) -> JsValue {
        let message = concat(&["Bantam: ", &self.message]);
        if self.code == "config" {
            js::TypeError::new(&message).into()
        } else {
            let error: JsValue = js::Error::new(&message).into();
            if self.code == "fallback" {
                let _ = js::set(&error, "bantamFallback", &JsValue::TRUE);
            }
            error
        }
    }
}

/// A plain object from key/value pairs, for event details.
pub(crate) fn obj(pairs: &[(&str, JsValue)]) -> JsValue {
    let o: JsValue = js::Object::new().into();
    for (k, v) in pairs {
        let _ = js::set(&o, k, v);
    }
    o
}

/// Parses JSON text the engine wrote (a score, a lead document) into a JS value.
pub(crate) fn from_json(json: &str) -> JsValue {
    js::json_parse(json).unwrap_or(JsValue::NULL)
}

impl WidgetError {
    /// The `detail` of `bantam:error`: `{code, message, path?}`.
    pub fn detail(&self) -> JsValue {
        let mut pairs = vec![
            ("code", JsValue::from_str(self.code)),
            ("message", JsValue::from_str(&self.message)),
        ];
        if let Some(path) = &self.path {
            pairs.push(("path", JsValue::from_str(path)));
        }
        obj(&pairs)
    }
}

/// Reports an error: one console error and a `bantam:error` event on the host.
pub(crate) fn report(host: &JsValue, err: &WidgetError) {
    crate::platform::report(host, &err.detail());
}
