//! The form editor's pages (issue 12): the editor and its preview are admin-only, run no inline
//! script (a CSP of this origin's scripts and WebAssembly), load the widget's full module the
//! collector serves, and the editor's files come with their media types. A script on the
//! inbox's own page that lacks credentials gets the Basic challenge, so the browser answers it.

mod common;

use std::sync::{Arc, RwLock};

use axum::body::Body;
use axum::http::{header, Request, StatusCode};
use axum::Router;
use bantam_collector::{app, widget_built_in, AppState, Forms, Settings};
use common::TestDb;
use http_body_util::BodyExt;
use tower::ServiceExt;

const TOKEN: &str = "editor-admin-token";

async fn router() -> Router {
    let settings = Settings {
        admin_token: Some(TOKEN.into()),
        ..Settings::default()
    };
    let forms = Arc::new(RwLock::new(Forms::default()));
    let state = AppState::new(TestDb::sqlite().open().await, forms, settings);
    app(state, common::root().join("www"))
}

struct Answer {
    status: StatusCode,
    headers: axum::http::HeaderMap,
    text: String,
}

impl Answer {
    fn header(&self, name: header::HeaderName) -> &str {
        self.headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
    }
}

async fn send(router: &Router, request: Request<Body>) -> Answer {
    let response = router.clone().oneshot(request).await.unwrap();
    let status = response.status();
    let headers = response.headers().clone();
    let bytes = response.into_body().collect().await.unwrap().to_bytes();
    Answer {
        status,
        headers,
        text: String::from_utf8_lossy(&bytes).into_owned(),
    }
}

/// A browser's request for a page, with the admin's Basic credentials or none.
fn page(uri: &str, admin: bool) -> Request<Body> {
    let mut request = Request::get(uri).header("host", "collector.test");
    if admin {
        // "admin:editor-admin-token" in base64.
        request = request.header("authorization", "Basic YWRtaW46ZWRpdG9yLWFkbWluLXRva2Vu");
    }
    request.body(Body::empty()).unwrap()
}

/// The value of `attribute` on the page's `<body>`.
fn body_attribute(html: &str, attribute: &str) -> String {
    let body = &html[html.find("<body").expect("a body")..];
    let start = body.find(&format!("{attribute}=\"")).expect(attribute) + attribute.len() + 2;
    body[start..start + body[start..].find('"').unwrap()].to_owned()
}

#[tokio::test]
async fn the_editor_and_its_preview_are_for_the_admin_and_run_no_inline_script() {
    let router = router().await;
    for (uri, ancestors) in [
        ("/inbox/forms/quote/edit", "frame-ancestors 'none'"),
        ("/inbox/forms/quote/preview", "frame-ancestors 'self'"),
    ] {
        let anonymous = send(&router, page(uri, false)).await;
        assert_eq!(anonymous.status, StatusCode::SEE_OTHER, "{uri}");
        assert!(anonymous
            .header(header::LOCATION)
            .starts_with("/inbox/login?next="));
        assert!(!anonymous.text.contains("data-engine"));

        let shown = send(&router, page(uri, true)).await;
        assert_eq!(shown.status, StatusCode::OK, "{uri}: {}", shown.text);
        let csp = shown.header(header::CONTENT_SECURITY_POLICY);
        let scripts = csp
            .split(';')
            .map(str::trim)
            .find(|d| d.starts_with("script-src"))
            .unwrap();
        assert_eq!(scripts, "script-src 'self' 'wasm-unsafe-eval'", "{uri}");
        assert!(csp.contains(ancestors), "{uri}: {csp}");
        // Every script is a file: no inline script, no inline handler.
        for tag in shown.text.split("<script").skip(1) {
            assert!(
                tag.trim_start()
                    .starts_with("type=\"module\" src=\"/inbox/assets/"),
                "{uri}: {tag}"
            );
        }
        assert!(
            !shown.text.contains(" on"),
            "{uri}: no inline event handler"
        );
        // The engine is the widget's full module, served by this collector.
        let engine = body_attribute(&shown.text, "data-engine");
        assert!(engine.starts_with("/dist/bantam_full."), "{engine}");
        if widget_built_in() {
            let module = send(&router, page(&engine, false)).await;
            assert_eq!(module.status, StatusCode::OK, "{engine}");
        } else {
            let file = common::root()
                .join("www")
                .join(engine.trim_start_matches('/'));
            assert!(file.is_file(), "{}", file.display());
        }
    }
    // Not a form id: nothing is rendered from it.
    let bad = send(&router, page("/inbox/forms/%3Cb%3E/edit", true)).await;
    assert_eq!(bad.status, StatusCode::NOT_FOUND);
    assert!(!bad.text.contains("<b>"));
}

#[tokio::test]
async fn the_editors_files_come_with_their_media_types() {
    let router = router().await;
    for (name, kind) in [
        ("editor.js", "text/javascript; charset=utf-8"),
        ("fields.js", "text/javascript; charset=utf-8"),
        ("paths.js", "text/javascript; charset=utf-8"),
        ("simulator.js", "text/javascript; charset=utf-8"),
        ("preview.js", "text/javascript; charset=utf-8"),
        ("editor.css", "text/css; charset=utf-8"),
        // The forms pages' script, served by the same route.
        ("copy.js", "text/javascript; charset=utf-8"),
    ] {
        let file = send(&router, page(&format!("/inbox/assets/{name}"), false)).await;
        assert_eq!(file.status, StatusCode::OK, "{name}");
        assert_eq!(file.header(header::CONTENT_TYPE), kind, "{name}");
        assert!(!file.text.is_empty());
    }
    let missing = send(&router, page("/inbox/assets/nope.js", false)).await;
    assert_eq!(missing.status, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn a_script_without_credentials_is_refused_without_a_basic_challenge() {
    let router = router().await;
    let fetch = |site: &str| {
        Request::get("/v1/forms/quote")
            .header("host", "collector.test")
            .header("sec-fetch-site", site)
            .header("sec-fetch-mode", "cors")
            .body(Body::empty())
            .unwrap()
    };
    // The inbox's own script (the editor's fetches) signs in with a session, and is told so;
    // a browser is never asked for Basic credentials.
    let own = send(&router, fetch("same-origin")).await;
    assert_eq!(own.status, StatusCode::UNAUTHORIZED);
    assert_eq!(own.header(header::WWW_AUTHENTICATE), "");
    assert!(own.text.contains("/inbox/login"), "{}", own.text);
    // Another site's script, or a program: refused without a challenge, as before.
    let other = send(&router, fetch("cross-site")).await;
    assert_eq!(other.status, StatusCode::UNAUTHORIZED);
    assert_eq!(other.header(header::WWW_AUTHENTICATE), "");
    let program = send(
        &router,
        Request::get("/v1/forms/quote")
            .header("host", "collector.test")
            .body(Body::empty())
            .unwrap(),
    )
    .await;
    assert_eq!(program.header(header::WWW_AUTHENTICATE), "");
}
