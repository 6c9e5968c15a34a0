//! Small DOM helpers. Text from config or visitors only ever goes in as text, never as HTML.

use wasm_bindgen::prelude::wasm_bindgen;
use wasm_bindgen::{JsCast, JsValue, UnwrapThrowExt};
use web_sys::{Document, Element, HtmlInputElement, Node};

#[wasm_bindgen]
extern "C" {
    /// A node of the widget's own, as a parent.
    type Parent;

    /// `Node.appendChild` without a `Result`: web-sys's binding catches the exception that
    /// appending may throw, and checking for it cost every call site bytes. Appending an
    /// element the widget made to another of its own elements cannot throw.
    #[wasm_bindgen(method, js_name = appendChild)]
    fn append_child(this: &Parent, child: &Node);
}

/// Appends `child`, an element the widget made, to `parent`, one of its own nodes.
pub(crate) fn append(parent: &Node, child: &Node) {
    parent.unchecked_ref::<Parent>().append_child(child);
}

/// The page's document.
pub(crate) fn document() -> Document {
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

/// Creates an element with a class (empty for none).
pub(crate) fn el(doc: &Document, tag: &str, class: &str) -> Element {
    let element = doc.create_element(tag).expect_throw("create_element");
    if !class.is_empty() {
        element.set_class_name(class);
    }
    element
}

/// Creates an element holding plain text.
pub(crate) fn text(doc: &Document, tag: &str, class: &str, content: &str) -> Element {
    let element = el(doc, tag, class);
    element.set_text_content(Some(content));
    element
}

/// Sets attributes, ignoring the impossible failure of valid names.
pub(crate) fn attrs(element: &Element, pairs: &[(&str, &str)]) {
    for (name, value) in pairs {
        let _ = element.set_attribute(name, value);
    }
}

/// Creates an `<input>` of a type.
pub(crate) fn input(doc: &Document, kind: &str, id: &str) -> HtmlInputElement {
    let input: HtmlInputElement = el(doc, "input", "").unchecked_into();
    attrs(&input, &[("type", kind), ("id", id)]);
    input
}
