//! Bantam's widget: the thin browser glue around [`bantam_engine`].
//!
//! [`mount`] reads options and the form (a compiled form, or a config the engine validates),
//! and hands a [`Session`] of it to the hand-written DOM layer (`widget.js`), which draws the
//! form in a Shadow DOM on the host element. Everything about questions, answers and scores is
//! the engine's; `widget.js` draws steps and reads controls, `platform.js` stores, posts and
//! reports.

#![cfg_attr(not(test), warn(clippy::unwrap_used))]

mod dom;
#[cfg(feature = "validator")]
mod editor;
mod events;
mod options;
mod platform;
mod session;
mod visitor;

use wasm_bindgen::prelude::*;

pub use bantam_engine as engine;
#[cfg(feature = "validator")]
pub use editor::{check_config, form_outline, score_answers};
pub use session::Session;

#[wasm_bindgen(module = "/src/widget.js")]
extern "C" {
    /// A form drawn on the page, as `widget.js` returns it.
    type Drawn;

    /// Draws `session`'s form in a new shadow root inside `target`; fails (an `Error`) if the
    /// target already holds a Bantam form.
    #[wasm_bindgen(catch)]
    fn draw(target: &web_sys::Element, session: Session) -> Result<Drawn, JsValue>;

    /// Removes the form, its shadow content and every listener it added.
    #[wasm_bindgen(method)]
    fn destroy(this: &Drawn);

    /// The form id, or `undefined` after `destroy()`.
    #[wasm_bindgen(method, getter, js_name = formId)]
    fn form_id(this: &Drawn) -> Option<String>;

    /// The page's URL, referrer and the time now (ISO 8601), for the visitor's touch.
    #[wasm_bindgen(js_name = pageNow)]
    fn page_now() -> Vec<String>;
}

/// A TLSF allocator (constant time per allocation and free) instead of the standard dlmalloc,
/// which costs 3.4 KB more gzipped. `lol_alloc`'s free list, used before, walks the whole list
/// on every free: with thousands of questions it made start-up quadratic (2.3 s of 2.9 s for
/// 5,000 questions went to its `dealloc`, measured in Chromium).
#[cfg(target_arch = "wasm32")]
#[global_allocator]
static ALLOCATOR: rlsf::SmallGlobalTlsf = rlsf::SmallGlobalTlsf::new();

/// The TypeScript types of the API (options, config, events, lead document), written to match
/// the engine in `types.d.ts`; wasm-bindgen puts them in `bantam_core.d.ts`, and they cost the
/// wasm nothing (the CLI takes the section out).
#[wasm_bindgen(typescript_custom_section)]
const TS_TYPES: &str = include_str!("types.d.ts");

/// A mounted form, handle to call [`Form::destroy`]. The form lives as long as it is on the
/// page; dropping (or garbage-collecting) this handle does not remove it.
#[wasm_bindgen]
pub struct Form {
    drawn: Drawn,
}

impl std::fmt::Debug for Form {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Form")
            .field("form_id", &self.form_id())
            .finish()
    }
}

#[wasm_bindgen]
impl Form {
    /// Removes the form, its shadow content and every listener it added. Safe to call twice.
    pub fn destroy(&self) {
        self.drawn.destroy();
    }

    /// The form id from the config, or `undefined` after `destroy()`.
    #[wasm_bindgen(getter, js_name = formId)]
    pub fn form_id(&self) -> Option<String> {
        self.drawn.form_id()
    }
}

/// Mounts a form on `target` (an element or a CSS selector).
///
/// # Errors
/// Rejects with a `TypeError` for bad options or config (after logging one console error and
/// dispatching `bantam:error` on the host), and with an `Error` when the target is missing or
/// the config URL cannot be fetched. Nothing is rendered in either case.
#[wasm_bindgen(
    unchecked_return_type = "Form",
    js_name = mount
)]
pub async fn mount(
    #[wasm_bindgen(unchecked_param_type = "Element | string")] target: JsValue,
    #[wasm_bindgen(unchecked_param_type = "MountOptions")] options: JsValue,
) -> Result<Form, JsValue> {
    let host = dom::resolve_target(&target).inspect_err(events::log_error)?;
    let (form, preview) = match options::load(&options).await {
        Ok(loaded) => loaded,
        Err(err) => {
            // A config for the full module is not an error: the loader hands it over.
            if err.code != "fallback" {
                events::report(&host, &err);
            }
            return Err(err.to_js());
        }
    };
    let [url, referrer, now] = <[String; 3]>::try_from(page_now()).unwrap_or_default();
    let session = Session::new(form, preview, &url, &referrer, &now);
    let drawn = draw(&host, session)?;
    Ok(Form { drawn })
}
