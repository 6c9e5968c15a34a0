//! The few JavaScript built-ins the lean module calls, declared here instead of taken from
//! js-sys: js-sys exports its futures (JSPI) machinery, which keeps that and a set of closure
//! shims in every module that links it (1.6 KB of the lean wasm gzipped, measured). The full
//! module links js-sys anyway, and its own code (the editor, `preview`) uses it directly.

use crate::prelude::*;
use wasm_bindgen::prelude::*;

#[wasm_bindgen]
extern "C" {
    /// A JavaScript array.
    pub(crate) type Array;

    /// `Array.isArray(value)`.
    #[wasm_bindgen(static_method_of = Array, js_name = isArray)]
    pub(crate) fn is_array(value: &JsValue) -> bool;

    /// `array.length`.
    #[wasm_bindgen(method, getter)]
    pub(crate) fn length(this: &Array) -> u32;

    /// `array[index]`.
    #[wasm_bindgen(method, indexing_getter)]
    pub(crate) fn at(this: &Array, index: u32) -> JsValue;

    /// `JSON.parse(text)`.
    #[wasm_bindgen(js_namespace = JSON, js_name = parse, catch)]
    pub(crate) fn json_parse(text: &str) -> Result<JsValue, JsValue>;

    /// `Reflect.get(target, key)`.
    #[wasm_bindgen(js_namespace = Reflect, js_name = get, catch)]
    pub(crate) fn get(target: &JsValue, key: &str) -> Result<JsValue, JsValue>;

    /// JavaScript's `Object`, for its static methods.
    #[wasm_bindgen(js_name = Object)]
    pub(crate) type Object;

    /// `Object.entries(object)`: `[key, value]` pairs.
    #[wasm_bindgen(static_method_of = Object)]
    pub(crate) fn entries(object: &JsValue) -> Array;

}

impl Array {
    /// The items, in order.
    pub(crate) fn items(&self) -> impl Iterator<Item = JsValue> + '_ {
        (0..self.length()).map(|i| self.at(i))
    }
}

/// The strings of the array `value` (an item of another type as an empty string; none when
/// `value` is no array). An argument of this type instead of `Vec<String>` keeps
/// wasm-bindgen's array passing out of the glue and the wasm.
pub(crate) fn strings(value: &JsValue) -> Vec<String> {
    let mut out = Vec::new();
    if let Some(array) = as_array(value) {
        for item in array.items() {
            out.push(item.as_string().unwrap_or_default());
        }
    }
    out
}

/// `value` as an array, if it is one.
pub(crate) fn as_array(value: &JsValue) -> Option<&Array> {
    Array::is_array(value).then(|| value.unchecked_ref())
}
