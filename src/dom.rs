//! The host element of a mount. (The form itself is drawn by `widget.js`.)

use wasm_bindgen::{JsCast, JsValue, UnwrapThrowExt};
use web_sys::{Document, Element};

/// The page's document.
fn document() -> Document {
    web_sys::window()
        .and_then(|w| w.document())
        .expect_throw("Bantam needs a window with a document")
}

/// Finds the host element from an element or a CSS selector.
///
/// # Errors
/// An `Error` naming the selector when nothing matches or the argument is neither.
pub(crate) fn resolve_target(target: &JsValue) -> Result<Element, JsValue> {
    if let Some(element) = target.dyn_ref::<Element>() {
        return Ok(element.clone());
    }
    let Some(selector) = target.as_string() else {
        return Err(js_sys::TypeError::new(
            "Bantam: mount(target, options): target must be an Element or a CSS selector",
        )
        .into());
    };
    match document().query_selector(&selector) {
        Ok(Some(element)) => Ok(element),
        Ok(None) => Err(js_sys::Error::new(&format!(
            "Bantam: mount target \"{selector}\" matches no element"
        ))
        .into()),
        Err(_) => Err(js_sys::Error::new(&format!(
            "Bantam: mount target \"{selector}\" is not a valid CSS selector"
        ))
        .into()),
    }
}
