//! The widget's browser IO, written by hand in JavaScript (`platform.js`, bundled into the
//! glue): storage, the delivery outbox and its attempts, the config URL's fetch, console lines
//! and the `bantam:*` events. web-sys bindings for the same cost the wasm more than the script.
//! What Rust calls of it is declared here; `widget.js` uses the rest. wasm-bindgen copies a JS
//! module next to the glue only when Rust imports from it, and `widget.js` imports this one by
//! its relative path: keep at least one import here.

use crate::prelude::*;
use wasm_bindgen::prelude::*;

#[wasm_bindgen(module = "/src/platform.js")]
extern "C" {
    /// The stored value of `key` in `localStorage`, if any (none where storage is unavailable).
    #[wasm_bindgen(js_name = storageGet)]
    pub(crate) fn storage_get(key: &str) -> Option<String>;

    /// Stores `value` under `key`; false when storage is unavailable or full.
    #[wasm_bindgen(js_name = storageSet)]
    pub(crate) fn storage_set(key: &str, value: &str) -> bool;

    /// Removes `key` from `localStorage`.
    #[wasm_bindgen(js_name = storageRemove)]
    pub(crate) fn storage_remove(key: &str);

    /// Logs one console warning, `Bantam: ` and `message`.
    pub(crate) fn warn(message: &str);

}
