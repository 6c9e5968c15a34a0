//! The form editor (admin only): the page shell at `/inbox/forms/{id}/edit`, the live preview's
//! page at `/inbox/forms/{id}/preview`, and their scripts and stylesheet at `/inbox/assets/`,
//! built into the binary.
//!
//! The pages hold no inline script: the editor is plain ES modules (`collector/editor/`) that
//! the collector serves, under a CSP that allows scripts from this origin only (and WebAssembly,
//! for the engine: the widget's full module checks configs and scores answers in the browser).
//! The editor reads and publishes forms through the forms API (`/v1/forms/...`).

use std::path::{Path as FsPath, PathBuf};

use axum::extract::{Path, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};

use super::escape;
use crate::{require_admin, widget, AppError, AppState};

/// The editor's files, served at `/inbox/assets/<name>`: name, media type, bytes.
const ASSETS: &[(&str, &str, &str)] = &[
    (
        "editor.js",
        "text/javascript; charset=utf-8",
        include_str!("../../editor/editor.js"),
    ),
    (
        "fields.js",
        "text/javascript; charset=utf-8",
        include_str!("../../editor/fields.js"),
    ),
    (
        "paths.js",
        "text/javascript; charset=utf-8",
        include_str!("../../editor/paths.js"),
    ),
    (
        "simulator.js",
        "text/javascript; charset=utf-8",
        include_str!("../../editor/simulator.js"),
    ),
    (
        "preview.js",
        "text/javascript; charset=utf-8",
        include_str!("../../editor/preview.js"),
    ),
    (
        "editor.css",
        "text/css; charset=utf-8",
        include_str!("../../editor/editor.css"),
    ),
];

/// The editor page's policy: scripts from this origin only, and WebAssembly (the engine);
/// frames from this origin (the preview); nothing else from anywhere.
const EDITOR_CSP: &str = "default-src 'none'; script-src 'self' 'wasm-unsafe-eval'; style-src 'self'; connect-src 'self'; img-src 'self' data:; frame-src 'self'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'";

/// The preview page's policy: as the editor's, with inline styles (the widget sets its
/// progress bar's width and the config's theme on its elements) and `https` frames (a
/// thank-you step may embed a scheduler); only the editor may frame it.
const PREVIEW_CSP: &str = "default-src 'none'; script-src 'self' 'wasm-unsafe-eval'; style-src 'self' 'unsafe-inline'; connect-src 'self'; img-src 'self' data: https:; frame-src https:; form-action 'none'; base-uri 'none'; frame-ancestors 'self'";

/// `GET /inbox/assets/{file}`: one of the editor's files, else one of the forms pages'
/// ([`super::forms::asset`]). Public, like `/dist/`: they are code, not data; everything they
/// read goes through the admin API.
pub(crate) async fn asset(Path(name): Path<String>) -> Response {
    match ASSETS.iter().find(|(n, _, _)| *n == name) {
        Some((_, kind, body)) => (
            [
                (header::CONTENT_TYPE, *kind),
                (header::CACHE_CONTROL, "no-cache"),
                (header::X_CONTENT_TYPE_OPTIONS, "nosniff"),
            ],
            *body,
        )
            .into_response(),
        None => super::forms::asset(Path(name)).await,
    }
}

/// The URL of the widget's full module (`/dist/bantam_full.<hash>.js`): from the files built
/// into the binary, else from `<www>/dist`.
fn full_module(www: &FsPath) -> Option<String> {
    let is_full = |name: &str| name.starts_with("bantam_full.") && name.ends_with(".js");
    let name = if widget::built_in() {
        widget::names().find(|n| is_full(n)).map(str::to_owned)
    } else {
        std::fs::read_dir(www.join("dist"))
            .ok()?
            .flatten()
            .filter_map(|e| e.file_name().into_string().ok())
            .find(|n| is_full(n))
    };
    name.map(|n| format!("/dist/{n}"))
}

/// A form id as the forms API takes it (letters, digits, `-`, `_`; at most 64).
fn check_form_id(id: &str) -> Result<(), AppError> {
    let ok = !id.is_empty()
        && id.len() <= 64
        && id
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_');
    if ok {
        Ok(())
    } else {
        Err(AppError::bad(
            StatusCode::NOT_FOUND,
            "no such form: a form id is 1-64 letters, digits, '-' or '_'",
            Some("id"),
        ))
    }
}

fn html(csp: &'static str, body: String) -> Response {
    (
        [
            (header::CONTENT_TYPE, "text/html; charset=utf-8"),
            (header::CONTENT_SECURITY_POLICY, csp),
            (header::CACHE_CONTROL, "no-store"),
            (header::REFERRER_POLICY, "same-origin"),
        ],
        body,
    )
        .into_response()
}

fn missing_widget() -> AppError {
    AppError::Internal(
        "the widget's full module is missing: build the widget first (scripts/dev build)".into(),
    )
}

/// What both shells need, checked and escaped for HTML: the form id and the full module's
/// file name (the engine the pages load).
fn shell_inputs(
    state: &AppState,
    headers: &HeaderMap,
    id: &str,
    www: &std::path::Path,
) -> Result<(String, String), AppError> {
    require_admin(&state.settings, headers, true)?;
    check_form_id(id)?;
    let full = full_module(www).ok_or_else(missing_widget)?;
    Ok((escape(id), escape(&full)))
}

/// `GET /inbox/forms/{id}/edit`: the editor's shell; `editor.js` builds the rest.
pub(crate) async fn edit(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(id): Path<String>,
    www: PathBuf,
) -> Result<Response, AppError> {
    let (id, full) = shell_inputs(&state, &headers, &id, &www)?;
    let version = bantam_engine::ENGINE_VERSION;
    Ok(html(
        EDITOR_CSP,
        format!(
            "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\">\
<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
<title>Edit form {id} – Bantam</title><link rel=\"icon\" href=\"data:,\">{csrf}\
<link rel=\"stylesheet\" href=\"/inbox/assets/editor.css\">\
<script type=\"module\" src=\"/inbox/assets/editor.js\"></script></head>\
<body data-form=\"{id}\" data-engine=\"{full}\">\
<header class=\"top\"><h1>Edit form <code>{id}</code></h1>\
<nav aria-label=\"Inbox\"><a href=\"/inbox/forms/{id}\">Form page</a> <a href=\"/inbox\">Inbox</a></nav></header>\
<main id=\"app\" aria-busy=\"true\"><p id=\"loading\">Loading the form…</p></main>\
<footer>Bantam {version}</footer></body></html>",
            csrf = crate::users::csrf_meta()
        ),
    ))
}

/// `GET /inbox/forms/{id}/preview`: the page the editor frames for its live preview;
/// `preview.js` mounts the widget with each draft the editor posts to it.
pub(crate) async fn preview(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(id): Path<String>,
    www: PathBuf,
) -> Result<Response, AppError> {
    let (id, full) = shell_inputs(&state, &headers, &id, &www)?;
    Ok(html(
        PREVIEW_CSP,
        format!(
            "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\">\
<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
<title>Preview of form {id}</title><link rel=\"icon\" href=\"data:,\">\
<link rel=\"stylesheet\" href=\"/inbox/assets/editor.css\">\
<script type=\"module\" src=\"/inbox/assets/preview.js\"></script></head>\
<body class=\"preview\" data-engine=\"{full}\"><main>\
<h1 class=\"visually-hidden\">Preview of form {id}</h1>\
<div id=\"form\"></div><p id=\"problem\" role=\"status\"></p></main></body></html>"
        ),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_asset_has_a_media_type_by_its_extension() {
        for (name, kind, body) in ASSETS {
            let expected = if name.ends_with(".js") {
                "text/javascript; charset=utf-8"
            } else {
                "text/css; charset=utf-8"
            };
            assert_eq!(*kind, expected, "{name}");
            assert!(!body.is_empty(), "{name}");
        }
    }

    #[test]
    fn a_form_id_that_is_not_one_is_refused() {
        assert!(check_form_id("ledgerline-demo").is_ok());
        for bad in ["", "a b", "<x>", "../x", &"x".repeat(65)] {
            assert!(check_form_id(bad).is_err(), "{bad}");
        }
    }
}
