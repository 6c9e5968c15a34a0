//! Mount options, and the form: the lean module reads a compiled document (the engine's compact
//! reader, no validator), the full module (feature `validator`) a config, which it validates.

use crate::js;
use crate::prelude::*;
use bantam_engine::{concat, decimal};
#[cfg(not(feature = "validator"))]
use bantam_engine::{is_compiled, COMPILED_TAG};
use bantam_engine::{ConfigError, Form, Value};
use wasm_bindgen::{JsCast, JsValue};

use crate::events::WidgetError;
use crate::session::Preview;

/// Deepest nesting accepted in a config (guards against cyclic JS objects).
const MAX_DEPTH: usize = 16;

/// What a page's `Accept` asks a config URL for: a collector answers with the compiled form,
/// any other server with the config. CORS-safelisted, so a request from another site needs no
/// preflight.
#[cfg(not(feature = "validator"))]
const ACCEPT: &str = "application/vnd.bantam.form+json, application/json;q=0.9";

#[cfg(feature = "validator")]
fn config_error(err: ConfigError) -> WidgetError {
    let path = if err.path() == "config" {
        "config".to_owned()
    } else {
        format!("config.{}", err.path())
    };
    let message = err.to_string();
    let message = match message.strip_prefix(err.path()) {
        Some(rest) => format!("{path}{rest}"),
        None => message,
    };
    WidgetError::config(message, Some(path))
}

/// Copies a JS value (plain objects, arrays, strings, numbers, booleans) into an engine value.
///
/// # Errors
/// A `config` [`WidgetError`] naming the path (`path` and below) of a function, symbol or
/// other value JSON cannot hold, or of nesting deeper than [`MAX_DEPTH`].
pub(crate) fn to_value(value: &JsValue, path: &str) -> Result<Value, WidgetError> {
    data(value, 0).map_err(|(below, what)| {
        let path = concat(&[path, &below]);
        WidgetError::config(concat(&[&path, ": ", what]), Some(path))
    })
}

/// [`to_value`]'s work. A failure gives the path below `value` (`[2].name`), built on the way
/// out, so a good value costs no path at all.
fn data(value: &JsValue, depth: usize) -> Result<Value, (String, &'static str)> {
    if depth > MAX_DEPTH {
        return Err((String::new(), "nested too deeply (is the object cyclic?)"));
    }
    if value.is_null() || value.is_undefined() {
        Ok(Value::Null)
    } else if let Some(b) = value.as_bool() {
        Ok(Value::Bool(b))
    } else if let Some(n) = value.as_f64() {
        Ok(Value::Number(n))
    } else if let Some(s) = value.as_string() {
        Ok(Value::String(s))
    } else if let Some(array) = js::as_array(value) {
        let mut items = Vec::with_capacity(array.length() as usize);
        for (i, item) in array.items().enumerate() {
            let item = data(&item, depth + 1)
                .map_err(|(below, what)| (concat(&["[", &decimal(i as i64), "]", &below]), what))?;
            items.push(item);
        }
        Ok(Value::Array(items))
    } else if value.is_object() && !value.is_function() {
        let mut entries = Vec::new();
        for entry in js::Object::entries(value).items() {
            let pair: &js::Array = entry.unchecked_ref();
            let key = pair.at(0).as_string().unwrap_or_default();
            let item = pair.at(1);
            if item.is_undefined() {
                continue;
            }
            let item = data(&item, depth + 1)
                .map_err(|(below, what)| (concat(&[".", &key, &below]), what))?;
            entries.push((key, item));
        }
        Ok(Value::Object(entries))
    } else {
        Err((
            String::new(),
            "must be plain JSON data (objects, arrays, strings, numbers, booleans)",
        ))
    }
}

fn get(options: &JsValue, key: &str) -> JsValue {
    js::get(options, key).unwrap_or(JsValue::UNDEFINED)
}

/// The `Accept` of a config URL's request: the lean module asks a collector for the compiled
/// form; the full one, for the config (none).
pub(crate) fn accept() -> Option<&'static str> {
    #[cfg(not(feature = "validator"))]
    return Some(ACCEPT);
    #[cfg(feature = "validator")]
    None
}

/// Reads the form from `config` (the options' own, or what `config_url` held, then given) and
/// the rest of the options (checked by `widget.js` first): the validated form, and what a
/// preview asks of it. `languages` are the page's, preferred first (for `"locale": "auto"`).
///
/// # Errors
/// A `config` [`WidgetError`] naming the field for a bad config or option.
pub(crate) fn read(
    options: &JsValue,
    config: JsValue,
    config_url: Option<String>,
    languages: &[&str],
) -> Result<(Form, Preview), WidgetError> {
    let config = if config_url.is_some() {
        config
    } else {
        get(options, "config")
    };
    let mut form = read_form(to_value(&config, "config")?, languages)?;
    // A config fetched from a collector (`/forms/x.json`) posts to that collector: a site path
    // in it (such as the default `/v1/leads`) belongs to the config's origin, not the page's.
    if let Some(origin) = config_url.as_deref().and_then(origin_of) {
        let origin = origin.as_str();
        for url in [Some(&mut form.endpoint), form.delivery.fallback.as_mut()]
            .into_iter()
            .flatten()
        {
            if url.starts_with('/') && !url.starts_with("//") {
                url.insert_str(0, origin);
            }
        }
    }
    let variant = get(options, "variant");
    if !variant.is_undefined() && !variant.is_null() {
        let bad = |message: String| WidgetError::config(message, Some("options.variant".into()));
        let variant = variant
            .as_string()
            .ok_or_else(|| bad("options.variant: expected a string".into()))?;
        // The message from the error's fields: `Display` would bring every config error's
        // message into the lean module (0.3 KB gzipped). An invalid id is a variant's only
        // error.
        form.set_variant(&variant).map_err(|err| match err {
            ConfigError::Invalid { path, reason } => {
                bad(concat(&["options.", &path, ": ", &reason]))
            }
            other => bad(concat(&["options.", other.path(), ": not a valid variant"])),
        })?;
    }
    #[cfg(feature = "validator")]
    let preview = read_preview(&get(options, "preview"), &form)?;
    #[cfg(not(feature = "validator"))]
    let preview = Preview::default();
    Ok((form, preview))
}

/// The `preview` option of the form editor (full module only): `{step?, thankYou?}`, the step
/// to show (1 is the first) or the grade whose thank-you step to show. A preview keeps nothing
/// about the visitor and sends nothing: its Send shows the thank-you the answers earn.
///
/// # Errors
/// A `config` [`WidgetError`] naming `options.preview.*` for a field it does not know, a step
/// that is not a whole number from 1, or a grade the form does not have.
#[cfg(feature = "validator")]
fn read_preview(value: &JsValue, form: &Form) -> Result<Preview, WidgetError> {
    if value.is_undefined() || value.is_null() {
        return Ok(Preview::default());
    }
    let bad = |path: &str, message: &str| {
        WidgetError::config(
            format!("options.preview.{path}: {message}"),
            Some(format!("options.preview.{path}")),
        )
    };
    if !value.is_object() {
        return Err(bad("", "expected an object like { step } or { thankYou }"));
    }
    for key in js_sys::Object::keys(value.unchecked_ref::<js_sys::Object>())
        .iter()
        .filter_map(|k| k.as_string())
    {
        if key != "step" && key != "thankYou" {
            return Err(bad(&key, "unknown field, expected `step` or `thankYou`"));
        }
    }
    let mut preview = Preview {
        active: true,
        ..Preview::default()
    };
    let step = get(value, "step");
    if !step.is_undefined() && !step.is_null() {
        match step.as_f64() {
            Some(n) if n >= 1.0 && n.fract() == 0.0 && n <= 1e6 => preview.step = n as usize - 1,
            _ => return Err(bad("step", "expected a whole number from 1")),
        }
    }
    let grade = get(value, "thankYou");
    if !grade.is_undefined() && !grade.is_null() {
        let name = grade.as_string().unwrap_or_default();
        let index = form
            .grade_index(&name)
            .ok_or_else(|| bad("thankYou", &format!("the form has no grade \"{name}\"")))?;
        preview.thank_you = Some(index);
    }
    Ok(preview)
}
/// The form for a page whose languages are `preferred`, from a compiled document (the lean
/// module).
///
/// # Errors
/// A `config` [`WidgetError`] for a compiled document this widget cannot read; a
/// [`WidgetError::fallback`] for a config, which the full module reads.
#[cfg(not(feature = "validator"))]
fn read_form(value: Value, preferred: &[&str]) -> Result<Form, WidgetError> {
    if !is_compiled(&value) {
        return Err(WidgetError::fallback());
    }
    Form::from_compiled_for(value, preferred).ok_or_else(|| {
        WidgetError::config(
            concat(&[
                "config: not a compiled form this widget reads (",
                COMPILED_TAG,
                "); load the widget from the collector that compiled it",
            ]),
            Some("config".into()),
        )
    })
}

/// The form from a config; the full module reads no compiled form (`bantam.js` takes one to
/// the lean module), so its bytes stay what a config costs.
#[cfg(feature = "validator")]
fn read_form(value: Value, preferred: &[&str]) -> Result<Form, WidgetError> {
    Form::from_value_for(value, preferred).map_err(config_error)
}

/// The origin (`https://host:port`) of an absolute http(s) URL: everything before the third
/// `/`. Found by bytes and taken with `get`, which cannot panic: splitting, or collecting the
/// characters, brings in code that costs the widget more.
fn origin_of(url: &str) -> Option<String> {
    if !url.starts_with("https://") && !url.starts_with("http://") {
        return None;
    }
    let mut slashes = 0;
    let end = url
        .bytes()
        .position(|b| {
            slashes += usize::from(b == b'/');
            slashes == 3
        })
        .unwrap_or(url.len());
    url.get(..end).map(str::to_owned)
}
