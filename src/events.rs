//! The errors of a mount, as `bantam:error` and the rejection of `mount` give them. (The
//! other `bantam:*` events, and delivery errors, are `widget.js`'s and `platform.js`'s.)

use crate::js;
use crate::prelude::*;
use bantam_engine::JsonWriter;
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
}

/// Parses JSON text the engine wrote (a score, a lead document) into a JS value.
pub(crate) fn from_json(json: &str) -> JsValue {
    js::json_parse(json).unwrap_or(JsValue::NULL)
}

impl WidgetError {
    /// What `Loader.open` throws for `widget.js` to report and reject with: the `detail` of
    /// `bantam:error`, `{code, message, path?}` (`code` `fallback`: not reported, the loader
    /// mounts the form with the full module). One JSON text: errors built in JS cost the wasm
    /// less than through its imports.
    pub fn detail(&self) -> JsValue {
        let mut w = JsonWriter::new();
        w.begin_object(None);
        w.string(Some("code"), self.code);
        w.string(Some("message"), &self.message);
        if let Some(path) = &self.path {
            w.string(Some("path"), path);
        }
        w.end_object();
        from_json(&w.finish())
    }
}
