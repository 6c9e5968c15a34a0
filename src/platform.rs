//! The widget's browser IO, written by hand in JavaScript (`platform.js`, bundled into the
//! glue): storage, the delivery outbox and its attempts, the config URL's fetch, console lines
//! and the `bantam:*` events. web-sys bindings for the same cost the wasm more than the script.

use wasm_bindgen::prelude::*;
use web_sys::Element;

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

    /// The JSON at a config URL, asked for with `accept` as the `Accept` header when given;
    /// rejects with what went wrong, in words.
    #[wasm_bindgen(js_name = fetchConfig)]
    pub(crate) fn fetch_config(url: &str, accept: Option<&str>) -> js_sys::Promise;

    /// Logs one console error.
    #[wasm_bindgen(js_name = logError)]
    pub(crate) fn log_error(error: &JsValue);

    /// Logs one console warning, `Bantam: ` and `message`.
    pub(crate) fn warn(message: &str);

    /// Dispatches `bantam:<name>` on `target` (bubbling, composed).
    pub(crate) fn dispatch(target: &Element, name: &str, detail: &JsValue);

    /// One console error and `bantam:error` with `detail` on `target`.
    pub(crate) fn report(target: &Element, detail: &JsValue);

    /// Queues an outbox entry (see `platform.js`) and remembers the form to tell about it;
    /// false when it cannot be stored, and the caller posts it directly.
    pub(crate) fn enqueue(entry: &JsValue, host: &Element) -> bool;

    /// Sends the due leads of the outbox (one tab at a time), and schedules the next pass.
    pub(crate) fn flush();

    /// Once per page: flush when back online, send everything queued on `pagehide`.
    /// `late_after_ms` is the engine's `LATE_AFTER_MS`.
    pub(crate) fn watch(late_after_ms: f64);

    /// Posts an outbox entry once; resolves to `{delivered: status}`, `{retry: why}` or
    /// `{refused: status, text}`.
    pub(crate) fn attempt(entry: &JsValue) -> js_sys::Promise;
}
