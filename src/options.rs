//! Mount options: read with serde-wasm-bindgen, config validated by the engine.

use bantam_engine::{parse_config, Form};
use serde::Deserialize;
use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_futures::JsFuture;

use crate::events::WidgetError;

/// The options object of `mount`.
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct MountOptions {
    /// The config object.
    #[serde(default, with = "serde_wasm_bindgen::preserve")]
    config: JsValue,
    /// Where to fetch the config.
    config_url: Option<String>,
}

fn config_error(err: bantam_engine::ConfigError) -> WidgetError {
    let path = format!("config.{}", err.path()).replace("config.config", "config");
    let message = err.to_string();
    let message = match message.strip_prefix(err.path()) {
        Some(rest) => format!("{path}{rest}"),
        None => message,
    };
    WidgetError::config(message, Some(path))
}

/// Reads the options and returns the validated form.
///
/// # Errors
/// A `config` [`WidgetError`] naming the field for bad options or config, a `mount` one when
/// the config URL cannot be fetched or parsed.
pub(crate) async fn load(options: &JsValue) -> Result<Form, WidgetError> {
    // serde-wasm-bindgen reads structs by their known fields, so check for typos here.
    if let Some(object) = options.dyn_ref::<js_sys::Object>() {
        for key in js_sys::Object::keys(object)
            .iter()
            .filter_map(|k| k.as_string())
        {
            if key != "config" && key != "configUrl" {
                return Err(WidgetError::config(
                    format!(
                        "options.{key}: unknown field `{key}`, expected `config` or `configUrl`"
                    ),
                    Some(format!("options.{key}")),
                ));
            }
        }
    }
    let options: MountOptions = serde_wasm_bindgen::from_value(options.clone())
        .map_err(|err| WidgetError::config(format!("options: {err}"), Some("options".into())))?;
    let config = match (
        options.config.is_undefined() || options.config.is_null(),
        options.config_url,
    ) {
        (false, None) => options.config,
        (true, Some(url)) => fetch_json(&url).await?,
        (false, Some(_)) => {
            return Err(WidgetError::config(
                "options: give either `config` or `configUrl`, not both".into(),
                Some("options".into()),
            ))
        }
        (true, None) => {
            return Err(WidgetError::config(
                "options: `config` (an object) or `configUrl` (a URL) is required".into(),
                Some("options".into()),
            ))
        }
    };
    parse_config(serde_wasm_bindgen::Deserializer::from(config)).map_err(config_error)
}

async fn fetch_json(url: &str) -> Result<JsValue, WidgetError> {
    let window = web_sys::window().ok_or_else(|| WidgetError::mount("no window".into()))?;
    let fail = |what: &str| WidgetError::mount(format!("config URL {url}: {what}"));
    let response = JsFuture::from(window.fetch_with_str(url))
        .await
        .map_err(|_| fail("network error"))?;
    let response: web_sys::Response = response.dyn_into().map_err(|_| fail("not a response"))?;
    if !response.ok() {
        return Err(fail(&format!("HTTP status {}", response.status())));
    }
    let json = response.json().map_err(|_| fail("unreadable body"))?;
    JsFuture::from(json)
        .await
        .map_err(|_| fail("not valid JSON"))
}
