//! The widget's files (`/dist/`), built into the binary by `build.rs` when the widget was built
//! first, so the widget a collector serves always runs the same engine version as the
//! collector itself.

use std::sync::OnceLock;

use axum::extract::Path;
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use sha2::{Digest, Sha256};

include!(concat!(env!("OUT_DIR"), "/widget.rs"));

/// Whether this binary carries the widget.
pub fn built_in() -> bool {
    !WIDGET.is_empty()
}

/// The names of the built-in files (none when the widget was not built first).
pub fn names() -> impl Iterator<Item = &'static str> {
    WIDGET.iter().map(|(name, _)| *name)
}

/// Each built-in file's entity tag (a hash of its bytes), in [`WIDGET`]'s order.
fn etags() -> &'static [String] {
    static ETAGS: OnceLock<Vec<String>> = OnceLock::new();
    ETAGS.get_or_init(|| {
        WIDGET
            .iter()
            .map(|(_, bytes)| {
                let hash = Sha256::digest(bytes);
                let hex: String = hash[..8].iter().map(|b| format!("{b:02x}")).collect();
                format!("\"{hex}\"")
            })
            .collect()
    })
}

/// `GET /dist/{file}` from the built-in files; `304` when the client's copy is current. The
/// caching and CORS headers are added by the public-files layer, as for files from disk.
pub(crate) async fn file(Path(name): Path<String>, headers: HeaderMap) -> Response {
    let Some(index) = WIDGET.iter().position(|(n, _)| *n == name) else {
        return StatusCode::NOT_FOUND.into_response();
    };
    let etag = &etags()[index];
    let current = headers
        .get(header::IF_NONE_MATCH)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|given| given.split(',').any(|t| t.trim() == etag));
    let etag = HeaderValue::from_str(etag).unwrap_or(HeaderValue::from_static("\"\""));
    if current {
        return (StatusCode::NOT_MODIFIED, [(header::ETAG, etag)]).into_response();
    }
    let content_type = match name.rsplit('.').next() {
        Some("js") => "text/javascript; charset=utf-8",
        Some("wasm") => "application/wasm",
        Some("ts") => "text/plain; charset=utf-8",
        Some("json") => "application/json",
        _ => "application/octet-stream",
    };
    (
        [
            (header::CONTENT_TYPE, HeaderValue::from_static(content_type)),
            (header::ETAG, etag),
        ],
        WIDGET[index].1,
    )
        .into_response()
}
