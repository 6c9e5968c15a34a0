//! The collector in the field: nothing a visitor was thanked for is refused or lost, a broken
//! form file never reaches a visitor, the widget's files load from any site, and `check`
//! reports every mistake before a visitor meets it. The quarantine's tests run once per store
//! (`sqlite::…`, `postgres::…`).

mod common;

use std::path::{Path, PathBuf};
use std::sync::{Arc, RwLock};
use std::time::{Duration, Instant, SystemTime};

use axum::body::Body;
use axum::http::{Request, StatusCode};
use axum::Router;
use bantam_collector::{app, watch_forms, AppState, Forms, Settings, Store};
use common::TestDb;
use http_body_util::BodyExt;
use serde_json::{json, Value};
use tower::ServiceExt;

const TOKEN: &str = "field-admin-token";

/// A temporary folder, removed on drop.
struct TempDir(PathBuf);

impl TempDir {
    fn new(name: &str) -> TempDir {
        static N: std::sync::atomic::AtomicU32 = std::sync::atomic::AtomicU32::new(0);
        let path = std::env::temp_dir().join(format!(
            "bantam-field-{name}-{}-{}",
            std::process::id(),
            N.fetch_add(1, std::sync::atomic::Ordering::SeqCst)
        ));
        let _ = std::fs::remove_dir_all(&path);
        std::fs::create_dir_all(path.join("forms")).unwrap();
        std::fs::create_dir_all(path.join("www/dist")).unwrap();
        TempDir(path)
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// A collector on a temporary folder with the forms in `forms/`, storing in `db`; returns the
/// shared forms and a second handle on the store too.
async fn collector(dir: &TempDir, db: &TestDb) -> (Router, Arc<RwLock<Forms>>, Store) {
    let forms = Arc::new(RwLock::new(Forms::load(&dir.0.join("forms")).unwrap()));
    let settings = Settings {
        allowed_origins: vec!["https://www.example.com".into()],
        admin_token: Some(TOKEN.into()),
        rate_per_minute: 0,
        burst: 1,
        forwarding: None,
    };
    let state = AppState::new(db.open().await, forms.clone(), settings);
    let router = app(state, dir.0.join("www"));
    (router, forms, db.open().await)
}

fn lead(form_id: &str, id: &str) -> Value {
    let json = common::lead_json(
        form_id,
        id,
        &[("email", "ann@acme.io"), ("budget", "50k-250k")],
        "https://www.example.com/pricing",
    );
    serde_json::from_str(&json).unwrap()
}

fn post(body: &Value, content_type: &str) -> Request<Body> {
    Request::post("/v1/leads")
        .header("content-type", content_type)
        .header("origin", "https://www.example.com")
        .body(Body::from(body.to_string()))
        .unwrap()
}

async fn send(router: &Router, request: Request<Body>) -> (StatusCode, Value) {
    let response = router.clone().oneshot(request).await.unwrap();
    let status = response.status();
    let bytes = response.into_body().collect().await.unwrap().to_bytes();
    (
        status,
        serde_json::from_slice(&bytes).unwrap_or(Value::Null),
    )
}

fn accept(id: &str) -> Request<Body> {
    Request::post(format!("/v1/quarantine/{id}/accept"))
        .header("authorization", format!("Bearer {TOKEN}"))
        .body(Body::empty())
        .unwrap()
}

fn write_form(dir: &TempDir, file: &str, text: &str) {
    std::fs::write(dir.0.join("forms").join(file), text).unwrap();
}

async fn a_lead_for_an_unregistered_form_waits_in_quarantine_until_accepted(db: TestDb) {
    let dir = TempDir::new("unregistered");
    let (router, forms, store) = collector(&dir, &db).await;
    let (status, answer) = send(&router, post(&lead("spring", "s1"), "application/json")).await;
    assert_eq!(status, StatusCode::ACCEPTED, "{answer}");
    assert_eq!(answer["status"], "quarantined");
    assert!(answer["reason"]
        .as_str()
        .unwrap()
        .starts_with("unknown form \"spring\""));
    assert_eq!(store.count().await.unwrap(), 0);
    // Listed for the admin, with the lead and the reason.
    let list = Request::get("/v1/quarantine")
        .header("authorization", format!("Bearer {TOKEN}"))
        .body(Body::empty())
        .unwrap();
    let (status, list) = send(&router, list).await;
    assert_eq!(status, StatusCode::OK, "{list}");
    assert_eq!(list["total"], 1);
    assert_eq!(list["leads"][0]["email"], "ann@acme.io");
    assert_eq!(list["leads"][0]["lead"]["id"], "s1");
    // A second copy (a beacon, a retry) is the same quarantined lead.
    let (status, _) = send(&router, post(&lead("spring", "s1"), "application/json")).await;
    assert_eq!(status, StatusCode::ACCEPTED);
    assert_eq!(store.quarantine_count().await.unwrap(), 1);
    // Accepting needs the form first, and says so.
    let (status, answer) = send(&router, accept("s1")).await;
    assert_eq!(status, StatusCode::CONFLICT, "{answer}");
    assert!(answer["error"].as_str().unwrap().contains("unknown form"));
    write_form(
        &dir,
        "spring.json",
        r#"{"formId": "spring", "preset": "bant"}"#,
    );
    let reloaded = forms.read().unwrap().reload(&dir.0.join("forms")).unwrap();
    *forms.write().unwrap() = reloaded;
    let (status, answer) = send(&router, accept("s1")).await;
    assert_eq!(status, StatusCode::OK, "{answer}");
    assert_eq!(answer["grade"], "cold", "scored by the collector");
    assert_eq!(store.count().await.unwrap(), 1);
    assert_eq!(store.quarantine_count().await.unwrap(), 0);
    // The inbox shows what waits; after accepting, nothing.
    let inbox = Request::get("/inbox/quarantine")
        .header("authorization", format!("Bearer {TOKEN}"))
        .body(Body::empty())
        .unwrap();
    let response = router.clone().oneshot(inbox).await.unwrap();
    let html = response.into_body().collect().await.unwrap().to_bytes();
    assert!(String::from_utf8_lossy(&html).contains("Nothing is waiting."));
}

async fn leads_that_cannot_be_taken_as_they_are_are_held_with_the_reason(db: TestDb) {
    let dir = TempDir::new("held");
    write_form(&dir, "demo.json", r#"{"formId": "demo", "preset": "bant"}"#);
    let (router, _, store) = collector(&dir, &db).await;
    // Answers that no longer fit the form (an option removed after the page loaded).
    let mut changed = lead("demo", "c1");
    changed["answers"]["budget"] = json!("gold-plated");
    let (status, answer) = send(&router, post(&changed, "application/json")).await;
    assert_eq!(status, StatusCode::ACCEPTED, "{answer}");
    assert!(
        answer["reason"]
            .as_str()
            .unwrap()
            .starts_with("answers.budget:"),
        "{answer}"
    );
    // A lead a third-party endpoint refused, sent here by the widget as its fallback.
    let mut refused = lead("demo", "r1");
    refused["refusal"] = json!({
        "endpoint": "https://api.hsforms.com/submissions/v3/integration/submit/1/2",
        "format": "hubspot",
        "status": 400,
        "response": "{\"status\":\"error\",\"errors\":[{\"errorType\":\"FIELD_NOT_IN_FORM_DEFINITION\"}]}"
    });
    let (status, answer) = send(&router, post(&refused, "application/json")).await;
    assert_eq!(status, StatusCode::ACCEPTED, "{answer}");
    let reason = answer["reason"].as_str().unwrap();
    assert!(
        reason.starts_with("https://api.hsforms.com/submissions/v3/integration/submit/1/2 (hubspot) refused the lead with HTTP 400: ")
            && reason.contains("FIELD_NOT_IN_FORM_DEFINITION"),
        "{reason}"
    );
    // Accepting a refused lead stores it, scored, with the refusal kept in the document.
    let (status, _) = send(&router, accept("r1")).await;
    assert_eq!(status, StatusCode::OK);
    let stored = store.get("r1").await.unwrap().unwrap();
    assert_eq!(stored["refusal"]["status"], 400);
    assert_eq!(store.quarantine_count().await.unwrap(), 1, "c1 still waits");
}

async fn a_beacon_posts_the_lead_as_text_plain(db: TestDb) {
    let dir = TempDir::new("beacon");
    write_form(&dir, "demo.json", r#"{"formId": "demo", "preset": "bant"}"#);
    let (router, _, store) = collector(&dir, &db).await;
    let (status, answer) = send(
        &router,
        post(&lead("demo", "b1"), "text/plain;charset=UTF-8"),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{answer}");
    assert_eq!(store.count().await.unwrap(), 1);
    let (status, answer) = send(&router, post(&json!({"id": "x"}), "text/plain")).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{answer}");
}

#[tokio::test]
async fn widget_files_and_form_configs_load_from_any_site() {
    let dir = TempDir::new("public");
    write_form(&dir, "demo.json", r#"{"formId": "demo", "preset": "bant"}"#);
    // The widget built into the binary when it was built first; else the files on disk.
    let (glue, wasm) = if bantam_collector::widget_built_in() {
        let named = |start: &str, end: &str| {
            bantam_collector::widget_files()
                .find(|n| n.starts_with(start) && n.ends_with(end))
                .expect("a built-in widget file")
                .to_owned()
        };
        (
            named("bantam_core.", ".js"),
            named("bantam_core_bg.", ".wasm"),
        )
    } else {
        let (glue, wasm) = (
            "bantam_core.0123456789.js",
            "bantam_core_bg.abcdef0123.wasm",
        );
        for file in ["embed.js", "bantam.js", glue] {
            std::fs::write(dir.0.join("www/dist").join(file), "export {};").unwrap();
        }
        std::fs::write(dir.0.join("www/dist").join(wasm), b"\0asm\x01\0\0\0").unwrap();
        (glue.to_owned(), wasm.to_owned())
    };
    let (glue, wasm) = (format!("/dist/{glue}"), format!("/dist/{wasm}"));
    let db = TestDb::sqlite();
    let (router, _, _) = collector(&dir, &db).await;
    let get = |path: &str| {
        Request::get(path)
            .header("origin", "https://shop.example.org")
            .body(Body::empty())
            .unwrap()
    };
    for (path, cache, content_type) in [
        ("/dist/embed.js", "no-cache", "text/javascript"),
        ("/dist/bantam.js", "no-cache", "text/javascript"),
        (
            glue.as_str(),
            "public, max-age=31536000, immutable",
            "text/javascript",
        ),
        (
            wasm.as_str(),
            "public, max-age=31536000, immutable",
            "application/wasm",
        ),
        ("/forms/demo.json", "no-cache", "application/json"),
    ] {
        let response = router.clone().oneshot(get(path)).await.unwrap();
        assert_eq!(response.status(), StatusCode::OK, "{path}");
        let headers = response.headers();
        assert_eq!(headers["access-control-allow-origin"], "*", "{path}");
        assert_eq!(headers["cache-control"], cache, "{path}");
        assert!(
            headers["content-type"]
                .to_str()
                .unwrap()
                .starts_with(content_type),
            "{path}: {:?}",
            headers["content-type"]
        );
    }
    // The widget asks for the compiled form, which its lean module reads without a validator.
    let request = Request::get("/forms/demo.json")
        .header("origin", "https://shop.example.org")
        .header(
            "accept",
            "application/vnd.bantam.form+json, application/json;q=0.9",
        )
        .body(Body::empty())
        .unwrap();
    let response = router.clone().oneshot(request).await.unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    let headers = response.headers().clone();
    assert_eq!(headers["content-type"], "application/vnd.bantam.form+json");
    assert_eq!(headers["vary"], "Accept, Accept-Encoding");
    assert_eq!(headers["access-control-allow-origin"], "*");
    assert!(!headers.contains_key("content-encoding"));
    let body = response.into_body().collect().await.unwrap().to_bytes();
    let compiled: bantam_engine::Value = serde_json::from_slice(&body).unwrap();
    let config = bantam_engine::parse_config(json!({"formId": "demo", "preset": "bant"})).unwrap();
    assert_eq!(bantam_engine::Form::from_compiled(compiled), Some(config));
    // A browser (it accepts gzip) gets it gzipped: it is part of what the default embed
    // downloads, as the widget's files are.
    let request = Request::get("/forms/demo.json")
        .header(
            "accept",
            "application/vnd.bantam.form+json, application/json;q=0.9",
        )
        .header("accept-encoding", "gzip, deflate, br, zstd")
        .body(Body::empty())
        .unwrap();
    let response = router.clone().oneshot(request).await.unwrap();
    assert_eq!(response.headers()["content-encoding"], "gzip");
    assert_eq!(response.headers()["vary"], "Accept, Accept-Encoding");
    let zipped = response.into_body().collect().await.unwrap().to_bytes();
    let mut text = Vec::new();
    std::io::Read::read_to_end(&mut flate2::read::GzDecoder::new(&zipped[..]), &mut text).unwrap();
    assert_eq!(text, body, "the gzipped compiled form is the compiled form");
    assert!(
        zipped.len() < body.len(),
        "{} of {} bytes",
        zipped.len(),
        body.len()
    );
    // The inbox is not public.
    let response = router.clone().oneshot(get("/inbox")).await.unwrap();
    assert!(!response
        .headers()
        .contains_key("access-control-allow-origin"));
}

/// Waits until `check` holds, giving up after 20 s.
async fn wait_for(what: &str, mut check: impl FnMut() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(20);
    while !check() {
        assert!(Instant::now() < deadline, "timed out waiting: {what}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

async fn config_served(router: &Router, file: &str) -> (StatusCode, Value) {
    send(
        router,
        Request::get(format!("/forms/{file}"))
            .body(Body::empty())
            .unwrap(),
    )
    .await
}

fn set_mtime(path: &Path, time: SystemTime) {
    std::fs::File::options()
        .write(true)
        .open(path)
        .unwrap()
        .set_modified(time)
        .unwrap();
}

#[tokio::test]
async fn a_broken_edit_never_reaches_a_visitor_and_every_change_is_noticed() {
    let dir = TempDir::new("edits");
    let file = dir.0.join("forms/demo.json");
    write_form(
        &dir,
        "demo.json",
        r#"{"formId": "demo", "preset": "bant", "variant": "one"}"#,
    );
    let db = TestDb::sqlite();
    let (router, forms, _) = collector(&dir, &db).await;
    watch_forms(
        dir.0.join("forms"),
        forms.clone(),
        Duration::from_millis(50),
    );
    let variant = |forms: &Arc<RwLock<Forms>>| {
        forms
            .read()
            .unwrap()
            .get("demo")
            .and_then(|f| f.variant.clone())
    };
    let old_time = std::fs::metadata(&file).unwrap().modified().unwrap();
    // A broken edit: the last good version is still served and used.
    write_form(
        &dir,
        "demo.json",
        r#"{"formId": "demo", "preset": "bant", "#,
    );
    wait_for("the broken edit is reported", || {
        forms
            .read()
            .unwrap()
            .problems()
            .iter()
            .any(|p| p.error && p.message.contains("not valid JSON"))
    })
    .await;
    let (status, served) = config_served(&router, "demo.json").await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(served["variant"], "one", "the last good version");
    assert_eq!(variant(&forms).as_deref(), Some("one"));
    // A good edit copied with its old modification time kept (`cp -p`) is still noticed.
    write_form(
        &dir,
        "demo.json",
        r#"{"formId": "demo", "preset": "bant", "variant": "two"}"#,
    );
    set_mtime(&file, old_time);
    wait_for("the edit with an old time is loaded", || {
        variant(&forms).as_deref() == Some("two")
    })
    .await;
    assert_eq!(forms.read().unwrap().problems(), []);
    let (_, served) = config_served(&router, "demo.json").await;
    assert_eq!(served["variant"], "two");
    let (status, answer) = config_served(&router, "nope.json").await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert!(answer["error"].as_str().unwrap().contains("nope.json"));
}

fn check_command(dir: &Path) -> (bool, String) {
    let output = std::process::Command::new(env!("CARGO_BIN_EXE_bantam-collector"))
        .arg("check")
        .arg(dir)
        .output()
        .unwrap();
    (
        output.status.success(),
        String::from_utf8_lossy(&output.stdout).into_owned(),
    )
}

#[test]
fn check_passes_the_shipped_forms_and_names_each_problem() {
    let shipped = Path::new(env!("CARGO_MANIFEST_DIR")).join("../www/forms");
    let (ok, out) = check_command(&shipped);
    assert!(ok, "{out}");
    assert!(out.ends_with(": 0 error(s), 0 warning(s)\n"), "{out}");

    let dir = TempDir::new("check");
    write_form(
        &dir,
        "broken.json",
        r#"{"formId": "broken", "preset": "bant", "questions": [{"id": "budget", "options": [{"id": "x", "label": "X", "points": 5000}]}]}"#,
    );
    write_form(&dir, "good.json", r#"{"formId": "good", "preset": "bant"}"#);
    let (ok, out) = check_command(&dir.0.join("forms"));
    assert!(!ok, "{out}");
    assert!(
        out.contains("broken.json: error: questions[0].options[0].points: points 5000 are outside -1000..=1000"),
        "{out}"
    );
    assert!(out.ends_with(": 1 error(s), 0 warning(s)\n"), "{out}");
}

#[tokio::test]
async fn a_lead_from_a_multilingual_form_is_rescored_in_its_language() {
    let dir = TempDir::new("languages");
    let config = r#"{"formId": "demo", "preset": "bant", "locale": "auto"}"#;
    write_form(&dir, "demo.json", config);
    let db = TestDb::sqlite();
    let (router, _, store) = collector(&dir, &db).await;
    let mut german = lead("demo", "de1");
    german["locale"] = json!("de");
    let (status, answer) = send(&router, post(&german, "application/json")).await;
    assert_eq!(status, StatusCode::CREATED, "{answer}");
    let stored = store.get("de1").await.unwrap().unwrap();
    let json: Value = serde_json::from_str(config).unwrap();
    let form = bantam_engine::parse_config_for(json, &["de"]).unwrap();
    let answers = bantam_engine::Answers::from_values(
        &form,
        serde_json::from_value(stored["answers"].clone()).unwrap(),
    )
    .unwrap();
    let expected = bantam_engine::score(&form, &answers);
    assert_eq!(
        stored["score"]["reasons"][0]["text"].as_str(),
        Some(expected.reasons[0].text.as_str())
    );
    assert_ne!(
        stored["score"]["reasons"][0]["text"], "Budget $50k–$250k: +25",
        "not the English reason"
    );
}

#[test]
fn an_empty_admin_token_is_refused_at_start() {
    let output = std::process::Command::new(env!("CARGO_BIN_EXE_bantam-collector"))
        .args(["--listen", "127.0.0.1:0", "--admin-token", ""])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("--admin-token: the token must not be empty"),
        "{stderr}"
    );
}

crate::on_both_stores!(
    a_lead_for_an_unregistered_form_waits_in_quarantine_until_accepted,
    leads_that_cannot_be_taken_as_they_are_are_held_with_the_reason,
    a_beacon_posts_the_lead_as_text_plain,
);
