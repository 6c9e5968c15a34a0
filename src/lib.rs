//! Bantam's widget: the thin browser glue around [`bantam_engine`].
//!
//! [`mount`] reads options, validates the config with the engine, and renders the form in a
//! Shadow DOM on the host element. Everything about questions, answers and scores is the
//! engine's; this crate only reads controls, draws steps, fires events and posts the lead.

#![cfg_attr(not(test), warn(clippy::unwrap_used))]

mod deliver;
mod dom;
mod events;
mod options;
mod outbox;
mod visitor;
mod widget;

use std::cell::RefCell;
use std::rc::Rc;

use wasm_bindgen::prelude::*;

pub use bantam_engine as engine;

/// A small free-list allocator instead of the standard dlmalloc: the widget allocates little,
/// and every byte of code ships to every visitor.
#[cfg(target_arch = "wasm32")]
#[global_allocator]
static ALLOCATOR: lol_alloc::LockedAllocator<lol_alloc::FreeListAllocator> =
    lol_alloc::LockedAllocator::new(lol_alloc::FreeListAllocator::new());

#[wasm_bindgen(typescript_custom_section)]
const TS_TYPES: &'static str = r#"
/** Options for `mount`. Give `config` or `configUrl`. */
export interface MountOptions {
  /** The form config (see the README's config reference). */
  config?: BantamConfig;
  /** A URL to fetch the JSON config from. */
  configUrl?: string;
  /** The form variant (an A/B test arm) recorded in each lead's `context.variant`; overrides the config's `variant`. */
  variant?: string;
}
/** The form config; see the README for every field. */
export interface BantamConfig {
  formId: string;
  preset?: "bant";
  endpoint?: string;
  /** `en`, `de`, `fr`, `es`, `auto` (the page's language), or another tag with your own texts. */
  locale?: "en" | "de" | "fr" | "es" | "auto" | (string & {});
  /** A title and an intro shown above the first step. */
  title?: string;
  intro?: string;
  /** Texts per locale, applied when that locale is shown: `{ de: { title, texts, questions: [{ id, label, options: [{ id, label }] }] } }`. */
  translations?: Record<string, Record<string, unknown>>;
  /** Form variant recorded in each lead's `context.variant`. */
  variant?: string;
  /** Body format and field names for the endpoint. */
  delivery?: {
    format?: "json" | "hubspot" | "salesforce" | "form";
    fields?: Record<string, string>;
    scoreField?: string | null;
    gradeField?: string | null;
    salesforceOid?: string;
    /** Answer values per question: option id → value, or number bands `[{ min, value }]`. */
    values?: Record<string, Record<string, string> | { min: number; value: string }[]>;
    /** A Bantam collector's `/v1/leads` that receives leads the endpoint refuses. */
    fallback?: string;
  };
  /** How points become the total: weighted category shares (the default), or `sum`: `offset` plus every point, clamped to 0-100. */
  scoring?: { mode?: "shares" | "sum"; offset?: number };
  /** What a lead says without being asked, scored like a question: points per value, `other` for an unlisted value, `none` for no value. */
  signals?: {
    id: string;
    input: "utmSource" | "utmMedium" | "utmCampaign" | "clickId" | "referrerDomain" | "landingPage" | "emailKind";
    shortLabel?: string;
    category?: "budget" | "authority" | "need" | "timeframe" | "fit" | "contact";
    values?: Record<string, number>;
    other?: number;
    none?: number;
  }[];
  /** Honeypot, minimum fill time, and what happens to a caught submission. */
  spam?: { honeypot?: boolean; minFillSeconds?: number; action?: "flag" | "drop" };
  [key: string]: unknown;
}
/** `detail` of the `bantam:error` event. */
export interface BantamErrorDetail {
  code: "config" | "mount" | "load" | "delivery" | "queued" | "quarantined";
  message: string;
  path?: string;
  status?: number;
  /** The lead id, for delivery problems. */
  id?: string;
  /** The lead, when an endpoint refused it and no fallback took it. */
  lead?: Record<string, unknown>;
}
/** Events dispatched on the host element; they bubble and cross the shadow boundary. */
export interface BantamEventMap {
  "bantam:ready": CustomEvent<{ formId: string; questions: string[]; steps: number }>;
  "bantam:step": CustomEvent<{ step: number; total: number; questions: string[] }>;
  "bantam:scored": CustomEvent<{ total: number; known: number; grade: string; breakdown: Record<string, unknown>; reasons: { questionId: string; category: string; points: number; text: string }[] }>;
  "bantam:submit": CustomEvent<{ lead: Record<string, unknown> }>;
  "bantam:delivered": CustomEvent<{ id: string; status: number }>;
  "bantam:error": CustomEvent<BantamErrorDetail>;
}
"#;

/// A mounted form, handle to call [`Form::destroy`]. The form lives as long as it is on the
/// page; dropping (or garbage-collecting) this handle does not remove it.
#[wasm_bindgen]
pub struct Form {
    inner: Rc<RefCell<Option<widget::Widget>>>,
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
        let widget = self.inner.borrow_mut().take();
        widget::release(&self.inner);
        if let Some(widget) = widget {
            widget.destroy();
        }
    }

    /// The form id from the config, or `undefined` after `destroy()`.
    #[wasm_bindgen(getter, js_name = formId)]
    pub fn form_id(&self) -> Option<String> {
        self.inner.borrow().as_ref().map(|w| w.form_id())
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
    let form = match options::load(&options).await {
        Ok(form) => form,
        Err(err) => {
            events::report(&host, &err);
            return Err(err.to_js());
        }
    };
    let inner = widget::Widget::mount(host, form)?;
    Ok(Form { inner })
}
