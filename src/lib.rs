//! Bantam's widget: the thin browser glue around [`bantam_engine`].
//!
//! [`mount`] reads options and the form (a compiled form, or a config the engine validates),
//! and hands a [`Session`] of it to the hand-written DOM layer (`widget.js`), which draws the
//! form in a Shadow DOM on the host element. Everything about questions, answers and scores is
//! the engine's; `widget.js` draws steps and reads controls, `platform.js` stores, posts and
//! reports.

#![cfg_attr(not(test), warn(clippy::unwrap_used))]
// The lean module is `no_std` (core and alloc): the standard library's panic machinery and the
// formatting it keeps cost the wasm kilobytes. The full module, and every test, keep `std`.
#![cfg_attr(all(target_arch = "wasm32", not(feature = "validator")), no_std)]

extern crate alloc;

#[cfg(feature = "validator")]
mod editor;
mod events;
mod js;
mod options;
mod platform;
mod prelude;
mod session;
mod visitor;

use wasm_bindgen::prelude::*;

use crate::prelude::*;

pub use bantam_engine as engine;
#[cfg(feature = "validator")]
pub use editor::{check_config, form_outline, score_answers};
pub use session::Session;

#[wasm_bindgen(module = "/src/widget.js")]
extern "C" {
    /// A form drawn on the page, as `widget.js`'s `draw` returns it.
    pub type Drawn;

    /// Removes the form, its shadow content and every listener it added.
    #[wasm_bindgen(method)]
    fn destroy(this: &Drawn);

    /// The form id, or `undefined` after `destroy()`.
    #[wasm_bindgen(method, getter, js_name = formId)]
    fn form_id(this: &Drawn) -> Option<String>;

    /// Mounts a form with `loader`'s help (see [`Loader`]): the promise `mount` returns.
    fn start(target: JsValue, options: JsValue, loader: Loader) -> JsValue;
}

/// A panic in the lean module stops it where it is (a wasm trap, as `panic = "abort"` does with
/// `std`); nothing is formatted, as no console would show it.
#[cfg(all(target_arch = "wasm32", not(feature = "validator")))]
#[panic_handler]
fn panic(_: &core::panic::PanicInfo<'_>) -> ! {
    core::arch::wasm32::unreachable()
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

impl core::fmt::Debug for Form {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
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
#[wasm_bindgen(unchecked_return_type = "Promise<Form>", js_name = mount)]
pub fn mount(
    #[wasm_bindgen(unchecked_param_type = "Element | string")] target: JsValue,
    #[wasm_bindgen(unchecked_param_type = "MountOptions")] options: JsValue,
) -> JsValue {
    // `widget.js` runs the mount (it fetches a config URL), asking a `Loader` for everything
    // the engine decides: no Rust future (their runtime cost the wasm 1.6 KB gzipped).
    start(target, options, Loader)
}

/// What a mount in `widget.js` asks of Rust, once it has the host element and has checked the
/// options: the config URL's `Accept`, the form's `Session`, and the `Form` handle of the drawn
/// form. Not part of the public API.
#[wasm_bindgen(skip_typescript)]
#[derive(Debug)]
pub struct Loader;

#[wasm_bindgen]
impl Loader {
    /// The `Accept` of the config URL's request (the lean module asks for the compiled form).
    pub fn accept(&self) -> Option<String> {
        options::accept().map(str::to_owned)
    }

    /// The form of `options` (or of `fetched`, what the config URL `url` held) for a page in
    /// the `languages` it prefers, as a `Session` of the page at `page_url` (reached from
    /// `referrer`) at `now` (ISO 8601).
    ///
    /// # Errors
    /// The error's `detail` (`{code, message, path?}`, see `WidgetError::detail`) for a bad
    /// config or option (code `config`), or for a config in the lean module (code `fallback`:
    /// the loader hands the mount to the full module). `widget.js` reports it and rejects.
    #[allow(clippy::too_many_arguments)]
    pub fn open(
        &self,
        options: &JsValue,
        fetched: JsValue,
        url: Option<String>,
        #[wasm_bindgen(unchecked_param_type = "string[]")] languages: JsValue,
        page_url: &str,
        referrer: &str,
        now: &str,
    ) -> Result<Session, JsValue> {
        let languages = js::strings(&languages);
        let mut tags = Vec::with_capacity(languages.len());
        for tag in &languages {
            tags.push(tag.as_str());
        }
        let languages = tags;
        options::read(options, fetched, url, &languages)
            .map(|(form, preview)| Session::new(form, preview, page_url, referrer, now))
            .map_err(|err| err.detail())
    }

    /// The `Form` handle of a drawn form.
    pub fn form(&self, drawn: Drawn) -> Form {
        Form { drawn }
    }
}
