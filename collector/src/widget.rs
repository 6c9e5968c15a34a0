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

/// Whether a request's `Accept-Encoding` takes gzip: its `gzip` (or `x-gzip`) entry with a
/// weight above 0, or, without one, a `*` entry with a weight above 0 (RFC 9110, 12.5.3).
pub(crate) fn accepts_gzip(headers: &HeaderMap) -> bool {
    let mut any = None;
    for coding in headers
        .get_all(header::ACCEPT_ENCODING)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
    {
        let mut parts = coding.split(';');
        let name = parts.next().unwrap_or_default().trim();
        let accepted = parts.all(|p| {
            let (key, value) = p.split_once('=').unwrap_or((p, ""));
            !key.trim().eq_ignore_ascii_case("q")
                || value.trim().parse::<f32>().is_ok_and(|q| q > 0.0)
        });
        if name.eq_ignore_ascii_case("gzip") || name.eq_ignore_ascii_case("x-gzip") {
            return accepted;
        }
        if name == "*" {
            any = Some(accepted);
        }
    }
    any.unwrap_or(false)
}

/// `GET /dist/{file}` from the built-in files; `304` when the client's copy is current. A
/// client that accepts gzip gets the build's `gzip -9` copy (`<file>.gz`, for the scripts and
/// the wasm): what the size budget counts is what a visitor downloads. The caching and CORS
/// headers are added by the public-files layer, as for files from disk.
pub(crate) async fn file(Path(name): Path<String>, headers: HeaderMap) -> Response {
    // The gzip copies are sent in place of their files, never under their own names.
    let Some(plain) = WIDGET
        .iter()
        .position(|(n, _)| *n == name && !n.ends_with(".gz"))
    else {
        return StatusCode::NOT_FOUND.into_response();
    };
    let gzipped = WIDGET
        .iter()
        .position(|(n, _)| n.strip_suffix(".gz") == Some(name.as_str()));
    let index = gzipped.filter(|_| accepts_gzip(&headers)).unwrap_or(plain);
    let etag = &etags()[index];
    let current = headers
        .get(header::IF_NONE_MATCH)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|given| given.split(',').any(|t| t.trim() == etag));
    let etag = HeaderValue::from_str(etag).unwrap_or(HeaderValue::from_static("\"\""));
    let content_type = match name.rsplit('.').next() {
        Some("js") => "text/javascript; charset=utf-8",
        Some("wasm") => "application/wasm",
        Some("ts") => "text/plain; charset=utf-8",
        Some("json") => "application/json",
        _ => "application/octet-stream",
    };
    let mut response = if current {
        (StatusCode::NOT_MODIFIED, [(header::ETAG, etag)]).into_response()
    } else {
        (
            [
                (header::CONTENT_TYPE, HeaderValue::from_static(content_type)),
                (header::ETAG, etag),
            ],
            WIDGET[index].1,
        )
            .into_response()
    };
    if gzipped.is_some() {
        let headers = response.headers_mut();
        headers.insert(header::VARY, HeaderValue::from_static("Accept-Encoding"));
        if index != plain && !current {
            headers.insert(header::CONTENT_ENCODING, HeaderValue::from_static("gzip"));
        }
    }
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    fn accepting(value: &str) -> HeaderMap {
        let mut headers = HeaderMap::new();
        headers.insert(
            header::ACCEPT_ENCODING,
            HeaderValue::from_str(value).unwrap(),
        );
        headers
    }

    #[test]
    fn gzip_is_taken_when_accepted_with_a_weight_above_zero() {
        for yes in [
            "gzip",
            "gzip, deflate, br, zstd",
            "br;q=1.0, GZIP;q=0.5",
            "*",
            "identity, *;q=0.1",
            "x-gzip",
            "*;q=0, gzip",
        ] {
            assert!(accepts_gzip(&accepting(yes)), "{yes}");
        }
        for no in [
            "",
            "br",
            "identity",
            "gzip;q=0",
            "gzip; q=0.0, br",
            "gzip;Q=0",
            "gzip;q=0, *",
            "*;q=0",
            "gzip;q=nonsense",
        ] {
            assert!(!accepts_gzip(&accepting(no)), "{no}");
        }
        assert!(!accepts_gzip(&HeaderMap::new()));
    }
}
