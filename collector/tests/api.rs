//! Router tests: `oneshot` requests against a temporary database. The tests about storage
//! run once per store (`sqlite::…`, `postgres::…`); see `on_both_stores!` at the end.

mod common;

use std::path::PathBuf;

use axum::body::Body;
use axum::http::{Request, StatusCode};
use axum::Router;
use std::sync::{Arc, RwLock};

use bantam_collector::{app, AppState, Forms, Settings};
use bantam_engine::parse_config;
use common::TestDb;
use http_body_util::BodyExt;
use serde_json::{json, Value};
use tower::ServiceExt;

const TOKEN: &str = "s3cret-admin-token";

fn settings() -> Settings {
    Settings {
        allowed_origins: vec!["https://www.example.com".into()],
        admin_token: Some(TOKEN.into()),
        rate_per_minute: 0,
        burst: 1,
        forwarding: None,
    }
}

async fn router_with(db: &TestDb, settings: Settings) -> Router {
    let store = db.open().await;
    let mut forms = Forms::empty();
    forms.insert(parse_config(json!({"formId": "demo", "preset": "bant"})).unwrap());
    app(
        AppState::new(store, Arc::new(RwLock::new(forms)), settings),
        PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/../www")),
    )
}

async fn router(db: &TestDb) -> Router {
    router_with(db, settings()).await
}

fn list_request(query: &str) -> Request<Body> {
    Request::get(format!("/v1/leads{query}"))
        .header("authorization", format!("Bearer {TOKEN}"))
        .body(Body::empty())
        .unwrap()
}

/// A real lead document, built by the engine as the widget does.
fn lead(id: &str) -> Value {
    let json = common::lead_json(
        "demo",
        id,
        &[("email", "ann@acme.io"), ("budget", "50k-250k")],
        "",
    );
    serde_json::from_str(&json).unwrap()
}

async fn send(router: &Router, request: Request<Body>) -> (StatusCode, Value) {
    let response = router.clone().oneshot(request).await.unwrap();
    let status = response.status();
    let bytes = response.into_body().collect().await.unwrap().to_bytes();
    let body = serde_json::from_slice(&bytes).unwrap_or(Value::Null);
    (status, body)
}

fn post(body: impl Into<Body>) -> Request<Body> {
    Request::post("/v1/leads")
        .header("content-type", "application/json")
        .body(body.into())
        .unwrap()
}

async fn a_lead_is_stored_once_and_a_replay_is_200(db: TestDb) {
    let router = router(&db).await;
    let body = lead("lead-1").to_string();
    let (status, answer) = send(&router, post(body.clone())).await;
    assert_eq!(status, StatusCode::CREATED, "{answer}");
    assert_eq!(answer["status"], "stored");
    assert_eq!(answer["grade"], "cold");
    assert_eq!(answer["scoreMismatch"], false);
    let (status, answer) = send(&router, post(body)).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(answer["status"], "duplicate");
    let (status, list) = send(&router, list_request("")).await;
    assert_eq!(status, StatusCode::OK);
    let leads = list["leads"].as_array().unwrap();
    assert_eq!(leads.len(), 1, "one row for two posts");
    assert_eq!(leads[0]["lead"]["contact"]["email"], "ann@acme.io");
    assert_eq!(leads[0]["lead"]["score"]["total"], 25);
}

async fn leads_survive_a_restart(db: TestDb) {
    send(&router(&db).await, post(lead("a").to_string())).await;
    let store = db.open().await;
    assert_eq!(store.count().await.unwrap(), 1);
    assert_eq!(store.get("a").await.unwrap().unwrap()["formId"], "demo");
}

async fn the_newest_lead_is_listed_first_and_limit_applies(db: TestDb) {
    let router = router(&db).await;
    for id in ["first", "second", "third"] {
        send(&router, post(lead(id).to_string())).await;
    }
    let (_, list) = send(&router, list_request("?limit=2&offset=0")).await;
    let ids: Vec<_> = list["leads"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| l["lead"]["id"].clone())
        .collect();
    assert_eq!(ids, [json!("third"), json!("second")]);
    let (_, page2) = send(&router, list_request("?limit=2&offset=2")).await;
    assert_eq!(page2["leads"][0]["lead"]["id"], "first");
    assert_eq!(page2["leads"].as_array().unwrap().len(), 1);
    let (status, answer) = send(&router, list_request("?limt=2")).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{answer}");
}

/// Checks that a bad request gets `status` and an error naming `field`.
async fn check_rejected(
    request: Request<Body>,
    status: StatusCode,
    field: Option<&str>,
    error_part: &str,
) {
    let db = TestDb::sqlite();
    let router = router(&db).await;
    let (got, answer) = send(&router, request).await;
    assert_eq!(got, status, "{answer}");
    assert_eq!(answer["field"].as_str(), field, "{answer}");
    let error = answer["error"].as_str().unwrap();
    assert!(
        error.contains(error_part),
        "\"{error}\" should mention \"{error_part}\""
    );
    let store = db.open().await;
    assert_eq!(store.count().await.unwrap(), 0, "nothing stored");
}

#[tokio::test]
async fn bad_requests_get_a_4xx_with_a_reason() {
    let unsupported = StatusCode::UNSUPPORTED_MEDIA_TYPE;
    let unprocessable = StatusCode::UNPROCESSABLE_ENTITY;
    check_rejected(
        Request::post("/v1/leads")
            .header("content-type", "text/html")
            .body(Body::from("{}"))
            .unwrap(),
        unsupported,
        None,
        "Content-Type must be application/json",
    )
    .await;
    check_rejected(
        post("{\"id\":"),
        StatusCode::BAD_REQUEST,
        None,
        "not valid JSON",
    )
    .await;
    let mut v = lead("x");
    v["schemaVersion"] = json!(2);
    check_rejected(
        post(v.to_string()),
        unprocessable,
        Some("schemaVersion"),
        "schemaVersion 2 is not supported",
    )
    .await;
    let mut v = lead("x");
    v.as_object_mut().unwrap().remove("schemaVersion");
    check_rejected(
        post(v.to_string()),
        unprocessable,
        Some("schemaVersion"),
        "missing",
    )
    .await;
    let mut v = lead("x");
    v["score"]["total"] = json!("high");
    check_rejected(
        post(v.to_string()),
        unprocessable,
        Some("score.total"),
        "invalid type",
    )
    .await;
    let mut v = lead("x");
    v.as_object_mut().unwrap().remove("formId");
    check_rejected(
        post(v.to_string()),
        unprocessable,
        Some("."),
        "missing field `formId`",
    )
    .await;
    check_rejected(
        post(lead("has space").to_string()),
        unprocessable,
        Some("id"),
        "id must be",
    )
    .await;
    let mut v = lead("x");
    v["score"]["total"] = json!(101);
    check_rejected(
        post(v.to_string()),
        unprocessable,
        Some("score.total"),
        "0-100",
    )
    .await;
    let request = Request::post("/v1/leads")
        .header("content-type", "application/json")
        .header("idempotency-key", "other")
        .body(Body::from(lead("x").to_string()))
        .unwrap();
    check_rejected(request, unprocessable, Some("id"), "does not match").await;
    let huge = "x".repeat(bantam_collector::MAX_BODY_BYTES + 1);
    let (status, _) = send(&router(&TestDb::sqlite()).await, post(huge)).await;
    assert_eq!(status, StatusCode::PAYLOAD_TOO_LARGE);
}

#[tokio::test]
async fn the_demo_page_is_served() {
    let db = TestDb::sqlite();
    let response = router(&db)
        .await
        .oneshot(Request::get("/").body(Body::empty()).unwrap())
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    let html = response.into_body().collect().await.unwrap().to_bytes();
    assert!(String::from_utf8_lossy(&html).contains("dist/embed.js"));
}

async fn the_collector_rescores_and_flags_a_tampered_score(db: TestDb) {
    let router = router(&db).await;
    let mut v = lead("tampered");
    v["score"]["total"] = json!(99);
    v["score"]["grade"] = json!("hot");
    let (status, answer) = send(&router, post(v.to_string())).await;
    assert_eq!(status, StatusCode::CREATED, "{answer}");
    assert_eq!(
        (answer["grade"].as_str(), answer["total"].as_u64()),
        (Some("cold"), Some(25))
    );
    assert_eq!(answer["scoreMismatch"], true);
    let (_, list) = send(&router, list_request("")).await;
    let stored = &list["leads"][0];
    assert_eq!(stored["scoreMismatch"], true);
    assert_eq!(stored["clientScore"], json!({"total": 99, "grade": "hot"}));
    assert_eq!(
        stored["lead"]["score"]["total"], 25,
        "the collector's score is the one kept"
    );
    assert_eq!(
        stored["lead"]["score"]["reasons"][0]["text"],
        "Budget $50k–$250k: +25"
    );
}

async fn fields_from_a_newer_widget_are_kept(db: TestDb) {
    let router = router(&db).await;
    let mut v = lead("newer");
    v["experiment"] = json!({"variant": "b"});
    let (status, _) = send(&router, post(v.to_string())).await;
    assert_eq!(status, StatusCode::CREATED);
    let (_, list) = send(&router, list_request("")).await;
    assert_eq!(list["leads"][0]["lead"]["experiment"]["variant"], "b");
}

#[tokio::test]
async fn reading_leads_needs_the_admin_token() {
    let db = TestDb::sqlite();
    let router = router(&db).await;
    let (status, answer) = send(
        &router,
        Request::get("/v1/leads").body(Body::empty()).unwrap(),
    )
    .await;
    assert_eq!(status, StatusCode::UNAUTHORIZED, "{answer}");
    let wrong = Request::get("/v1/leads")
        .header("authorization", "Bearer nope")
        .body(Body::empty())
        .unwrap();
    assert_eq!(send(&router, wrong).await.0, StatusCode::UNAUTHORIZED);
    let no_token = router_with(
        &TestDb::sqlite(),
        Settings {
            admin_token: None,
            ..settings()
        },
    )
    .await;
    let (status, answer) = send(&no_token, list_request("")).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    assert!(answer["error"].as_str().unwrap().contains("--admin-token"));
    // Posting needs no token.
    assert_eq!(
        send(&router, post(lead("open").to_string())).await.0,
        StatusCode::CREATED
    );
}

fn with_origin(origin: &str, method: &str) -> Request<Body> {
    let builder = Request::builder()
        .method(method)
        .uri("/v1/leads")
        .header("host", "collector.example.net")
        .header("origin", origin)
        .header("content-type", "application/json");
    builder.body(Body::from(lead("cors").to_string())).unwrap()
}

async fn allowed_origins_post_leads_and_others_are_quarantined(db: TestDb) {
    let router = router(&db).await;
    let response = router
        .clone()
        .oneshot(with_origin("https://www.example.com", "OPTIONS"))
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::NO_CONTENT);
    let headers = response.headers();
    assert_eq!(
        headers["access-control-allow-origin"],
        "https://www.example.com"
    );
    assert!(headers["access-control-allow-headers"]
        .to_str()
        .unwrap()
        .contains("idempotency-key"));
    // Any page may post and read the answer, so its lead is never lost in the browser; a lead
    // from an origin that is not allowed waits in quarantine with the reason.
    let response = router
        .clone()
        .oneshot(with_origin("https://evil.example.org", "OPTIONS"))
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::NO_CONTENT);
    let response = router
        .clone()
        .oneshot(with_origin("https://evil.example.org", "POST"))
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::ACCEPTED);
    let headers = response.headers();
    assert_eq!(
        headers["access-control-allow-origin"],
        "https://evil.example.org"
    );
    assert!(headers["access-control-expose-headers"]
        .to_str()
        .unwrap()
        .contains("bantam-quarantined"));
    assert!(headers["bantam-quarantined"]
        .to_str()
        .unwrap()
        .contains("--allow-origin https://evil.example.org"));
    let store = db.open().await;
    assert_eq!(store.count().await.unwrap(), 0, "not among the leads");
    let held = store.quarantined(10, 0).await.unwrap();
    assert_eq!(held.len(), 1);
    assert_eq!(held[0].origin.as_deref(), Some("https://evil.example.org"));
    // Reading leads stays limited to allowed origins.
    let mut read = list_request("");
    read.headers_mut()
        .insert("origin", "https://evil.example.org".parse().unwrap());
    let response = router.clone().oneshot(read).await.unwrap();
    assert!(!response
        .headers()
        .contains_key("access-control-allow-origin"));
    // Accepted by an admin, it becomes a lead; the same id posted again is a duplicate.
    let accept = Request::post("/v1/quarantine/cors/accept")
        .header("authorization", format!("Bearer {TOKEN}"))
        .body(Body::empty())
        .unwrap();
    let (status, answer) = send(&router, accept).await;
    assert_eq!(status, StatusCode::OK, "{answer}");
    assert_eq!(store.count().await.unwrap(), 1);
    assert_eq!(store.quarantine_count().await.unwrap(), 0);
    let response = router
        .clone()
        .oneshot(with_origin("https://www.example.com", "POST"))
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK, "a replay of the same id");
    assert_eq!(
        response.headers()["access-control-allow-origin"],
        "https://www.example.com"
    );
    // The collector's own pages post same-origin.
    let (status, _) = send(&router, with_origin("http://collector.example.net", "POST")).await;
    assert_eq!(status, StatusCode::OK, "a replay of the same id, accepted");
}

#[tokio::test]
async fn a_client_over_the_rate_gets_429_with_retry_after() {
    let db = TestDb::sqlite();
    let router = router_with(
        &db,
        Settings {
            rate_per_minute: 6,
            burst: 2,
            ..settings()
        },
    )
    .await;
    for id in ["r1", "r2"] {
        assert_eq!(
            send(&router, post(lead(id).to_string())).await.0,
            StatusCode::CREATED
        );
    }
    let response = router
        .clone()
        .oneshot(post(lead("r3").to_string()))
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(response.headers()["retry-after"], "10");
    assert_eq!(db.open().await.count().await.unwrap(), 2);
}

#[tokio::test]
async fn a_database_from_the_first_schema_is_migrated() {
    let db = TestDb::sqlite();
    {
        let conn = rusqlite::Connection::open(db.url()).unwrap();
        conn.execute_batch(
            "CREATE TABLE leads (id TEXT PRIMARY KEY, form_id TEXT NOT NULL, received_at TEXT NOT NULL,
             submitted_at TEXT NOT NULL, email TEXT, grade TEXT NOT NULL, total INTEGER NOT NULL, document TEXT NOT NULL);
             INSERT INTO leads VALUES ('old', 'demo', '2026-01-01T00:00:00.000Z', '2026-01-01T00:00:00.000Z', NULL, 'warm', 50, '{}');
             PRAGMA user_version = 1;",
        )
        .unwrap();
    }
    let store = db.open().await;
    assert_eq!(store.count().await.unwrap(), 1);
    let listed = store.list(10, 0).await.unwrap();
    assert_eq!(
        listed[0]["scoreMismatch"], false,
        "new columns have their defaults"
    );
    let conn = rusqlite::Connection::open(db.url()).unwrap();
    let version: u32 = conn
        .query_row("PRAGMA user_version", [], |r| r.get(0))
        .unwrap();
    let journal: String = conn
        .query_row("PRAGMA journal_mode", [], |r| r.get(0))
        .unwrap();
    assert_eq!((version, journal.as_str()), (15, "wal"));
    // The per-day summary counts the lead stored before it existed.
    assert_eq!(
        store
            .count_matching(&bantam_collector::Filter::default())
            .await
            .unwrap(),
        1
    );
}

#[test]
fn form_folders_load_and_report_bad_files() {
    let dir = std::env::temp_dir().join(format!("bantam-forms-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join("a.json"), r#"{"formId": "a", "preset": "bant"}"#).unwrap();
    let forms = Forms::load(&dir).unwrap();
    assert!(forms.get("a").is_some());
    assert_eq!(forms.problems(), []);
    std::fs::write(
        dir.join("b.json"),
        r#"{"formId": "b", "preset": "bant", "grades": []}"#,
    )
    .unwrap();
    let forms = Forms::load(&dir).unwrap();
    assert!(
        forms.get("a").is_some(),
        "a broken file does not stop the others"
    );
    assert!(forms.get("b").is_none());
    let problem = forms.problems()[0].to_string();
    assert!(
        problem.contains("b.json: error: grades: needs at least one grade"),
        "{problem}"
    );
    std::fs::write(dir.join("b.json"), r#"{"formId": "a", "preset": "bant"}"#).unwrap();
    let forms = Forms::load(&dir).unwrap();
    assert!(forms.problems()[0]
        .message
        .contains("formId \"a\" is also used"));
    std::fs::remove_dir_all(&dir).unwrap();
}

/// A lead for the inbox tests: a company, a budget (which sets the grade) and a page URL.
fn inbox_lead(id: &str, company: &str, budget: &str, url: &str) -> String {
    let email = format!("{id}@acme.io");
    let answers = [
        ("email", email.as_str()),
        ("company", company),
        ("budget", budget),
        ("role", "decision-maker"),
        ("timeframe", "this-month"),
    ];
    common::lead_json("demo", id, &answers, url)
}

fn admin_get(uri: &str) -> Request<Body> {
    // Basic auth with the token as password, as a browser sends it ("sales:s3cret-admin-token").
    Request::get(uri)
        .header("authorization", "Basic c2FsZXM6czNjcmV0LWFkbWluLXRva2Vu")
        .body(Body::empty())
        .unwrap()
}

async fn text(router: &Router, request: Request<Body>) -> (StatusCode, String) {
    let response = router.clone().oneshot(request).await.unwrap();
    let status = response.status();
    let bytes = response.into_body().collect().await.unwrap().to_bytes();
    (status, String::from_utf8_lossy(&bytes).into_owned())
}

async fn seeded_inbox(db: &TestDb) -> Router {
    let router = router(db).await;
    for (id, company, budget, url) in [
        (
            "hot1",
            "Acme",
            "over-250k",
            "https://x.io/?utm_source=google&utm_medium=cpc&utm_campaign=spring",
        ),
        (
            "hot2",
            "Globex",
            "over-250k",
            "https://x.io/?utm_source=google&utm_medium=cpc&utm_campaign=spring",
        ),
        (
            "warm1",
            "Initech",
            "none",
            "https://x.io/?utm_source=newsletter&utm_medium=email",
        ),
        (
            "evil",
            "<script>alert(1)</script>",
            "under-10k",
            "https://x.io/",
        ),
        (
            "formula",
            "=HYPERLINK(\"http://x\")",
            "under-10k",
            "https://x.io/",
        ),
    ] {
        let (status, answer) = send(&router, post(inbox_lead(id, company, budget, url))).await;
        assert_eq!(status, StatusCode::CREATED, "{answer}");
    }
    router
}

async fn the_inbox_lists_filters_and_escapes(db: TestDb) {
    let router = seeded_inbox(&db).await;
    // Someone not signed in is sent to the login page, not asked for Basic credentials.
    for (page, next) in [("/inbox", "%2Finbox"), ("/inbox/leads", "%2Finbox%2Fleads")] {
        let response = router
            .clone()
            .oneshot(Request::get(page).body(Body::empty()).unwrap())
            .await
            .unwrap();
        assert_eq!(response.status(), StatusCode::SEE_OTHER, "{page}");
        assert_eq!(
            response.headers()["location"],
            format!("/inbox/login?next={next}")
        );
        assert!(!response.headers().contains_key("www-authenticate"));
    }

    let (status, html) = text(&router, admin_get("/inbox/leads")).await;
    assert_eq!(status, StatusCode::OK);
    assert!(html.contains("5 match"), "count");
    assert!(
        html.contains("&lt;script&gt;alert(1)&lt;/script&gt;") && !html.contains("<script>alert"),
        "escaped"
    );
    // Source quality: google/cpc/spring brought two leads, both with the best grade.
    assert!(
        html.contains("<td data-label=\"Source\">google</td><td data-label=\"Medium\">cpc</td><td data-label=\"Campaign\">spring</td><td data-label=\"Leads\" class=\"num\">2</td><td data-label=\"Best grade\" class=\"num\">100%</td>"),
        "{html}"
    );
    assert!(html.contains("<svg role=\"img\""), "chart");
    let (_, hot) = text(&router, admin_get("/inbox/leads?grade=hot")).await;
    assert!(
        hot.contains("2 match") && hot.contains("hot1@acme.io") && !hot.contains("warm1@acme.io")
    );
    let (_, found) = text(&router, admin_get("/inbox/leads?q=glob")).await;
    assert!(found.contains("1 match") && found.contains("Globex"));
    let (_, by_source) = text(&router, admin_get("/inbox/leads?source=newsletter")).await;
    assert!(by_source.contains("1 match") && by_source.contains("Initech"));
    let (_, none) = text(
        &router,
        admin_get("/inbox/leads?source=(none)&from=2020-01-01&to=2099-12-31"),
    )
    .await;
    assert!(none.contains("2 match"), "{none}");
    let (status, _) = text(&router, admin_get("/inbox/leads?from=yesterday")).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);

    let (status, detail) = text(&router, admin_get("/inbox/leads/hot1")).await;
    assert_eq!(status, StatusCode::OK);
    assert!(
        detail.contains("What budget have you set aside for this?")
            && detail.contains("Over $250k")
    );
    assert!(detail.contains("Budget Over $250k: +30"));
    assert_eq!(
        text(&router, admin_get("/inbox/leads/nope")).await.0,
        StatusCode::NOT_FOUND
    );
}

async fn sales_feedback_is_stored_and_exported(db: TestDb) {
    let router = seeded_inbox(&db).await;
    let status_request = |body: &str| {
        Request::post("/v1/leads/hot1/status")
            .header("authorization", format!("Bearer {TOKEN}"))
            .header("content-type", "application/json")
            .body(Body::from(body.to_owned()))
            .unwrap()
    };
    let (status, answer) = send(&router, status_request(r#"{"status": "won"}"#)).await;
    assert_eq!(status, StatusCode::OK, "{answer}");
    assert_eq!(answer["status"], "won");
    let (status, answer) = send(&router, status_request(r#"{"status": "maybe"}"#)).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(answer["error"]
        .as_str()
        .unwrap()
        .contains("accepted, rejected, won, lost"));

    // The inbox's buttons: only from its own origin.
    let form_post = |origin: Option<&str>| {
        let mut builder = Request::post("/inbox/leads/warm1/status")
            .header("authorization", "Basic c2FsZXM6czNjcmV0LWFkbWluLXRva2Vu")
            .header("host", "collector.local");
        if let Some(origin) = origin {
            builder = builder.header("origin", origin);
        }
        builder.body(Body::from("status=rejected")).unwrap()
    };
    assert_eq!(
        text(&router, form_post(None)).await.0,
        StatusCode::FORBIDDEN
    );
    assert_eq!(
        text(&router, form_post(Some("https://evil.example")))
            .await
            .0,
        StatusCode::FORBIDDEN
    );
    let (status, _) = text(&router, form_post(Some("http://collector.local"))).await;
    assert_eq!(status, StatusCode::SEE_OTHER);

    let (status, csv) = text(&router, admin_get("/v1/leads.csv")).await;
    assert_eq!(status, StatusCode::OK);
    let lines: Vec<&str> = csv.lines().collect();
    assert!(lines[0]
        .starts_with("\u{FEFF}id,received_at,submitted_at,form_id,email,company,grade,total"));
    assert_eq!(lines.len(), 6);
    let hot1 = lines.iter().find(|l| l.starts_with("hot1,")).unwrap();
    assert!(
        hot1.contains(",won,") && hot1.contains("google,cpc,spring"),
        "{hot1}"
    );
    assert!(lines
        .iter()
        .any(|l| l.starts_with("warm1,") && l.contains(",rejected,")));
    assert!(
        csv.contains("\"'=HYPERLINK(\"\"http://x\"\")\""),
        "formulas are defused"
    );
    let (_, filtered) = text(&router, admin_get("/v1/leads.csv?grade=hot")).await;
    assert_eq!(filtered.lines().count(), 3);
}

async fn the_last_touch_decides_the_source(db: TestDb) {
    let router = router(&db).await;
    let mut v: Value = serde_json::from_str(&inbox_lead(
        "touched",
        "Acme",
        "over-250k",
        "https://x.io/?utm_source=google",
    ))
    .unwrap();
    let touch = |source: &str| json!({"at": "t", "landingPage": "https://x.io/", "referrer": "", "utm": {"source": source}, "clickIds": {}});
    v["attribution"] = json!({"firstTouch": touch("ads"), "lastTouch": touch("partner")});
    assert_eq!(
        send(&router, post(v.to_string())).await.0,
        StatusCode::CREATED
    );
    let (_, csv) = text(&router, admin_get("/v1/leads.csv")).await;
    assert!(csv.lines().nth(1).unwrap().contains(",partner,"), "{csv}");
    let mut bad = v.clone();
    bad["id"] = json!("bad-touch");
    bad["attribution"] = json!({"firstTouch": "yesterday"});
    let (status, answer) = send(&router, post(bad.to_string())).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(answer["field"], "attribution.firstTouch");
}

async fn flagged_spam_and_the_context_show_in_the_inbox_and_export(db: TestDb) {
    let router = router(&db).await;
    let mut flagged: Value = serde_json::from_str(&inbox_lead(
        "bot1",
        "Spam & Co",
        "over-250k",
        "https://x.io/",
    ))
    .unwrap();
    flagged["spam"] = json!({"flagged": true, "reasons": ["honeypot"]});
    flagged["context"]["variant"] = json!("b");
    let (status, answer) = send(&router, post(flagged.to_string())).await;
    assert_eq!(status, StatusCode::CREATED, "{answer}");
    let (status, answer) = send(
        &router,
        post(inbox_lead("human1", "Acme", "none", "https://x.io/")),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{answer}");

    let (_, list) = text(&router, admin_get("/inbox/leads")).await;
    assert_eq!(list.matches("spam?").count(), 1, "only the flagged lead");
    let (_, detail) = text(&router, admin_get("/inbox/leads/bot1")).await;
    assert!(detail.contains("Possible spam: the hidden honeypot field was filled in."));
    assert!(detail.contains("<th scope=\"row\">Company domain</th><td>acme.io</td>"));
    assert!(detail.contains("<th scope=\"row\">Form variant</th><td>b</td>"));
    let (_, human) = text(&router, admin_get("/inbox/leads/human1")).await;
    assert!(!human.contains("Possible spam"));
    let (_, csv) = text(&router, admin_get("/v1/leads.csv")).await;
    let header = csv.lines().next().unwrap();
    assert!(header.ends_with(",spam,email_domain_kind,company_domain,variant"));
    let bot = csv.lines().find(|l| l.starts_with("bot1,")).unwrap();
    assert!(bot.ends_with(",true,business,acme.io,b"), "{bot}");
}

#[tokio::test]
async fn the_collector_classifies_the_email_domain_itself() {
    let db = TestDb::sqlite();
    let router = router(&db).await;
    let mut doc: Value = serde_json::from_str(&common::lead_json(
        "demo",
        "ctx1",
        &[("email", "ann@gmail.com"), ("budget", "over-250k")],
        "https://x.io/",
    ))
    .unwrap();
    // A client claiming a business domain for free mail, with its own language and variant.
    doc["context"] = json!({
        "emailDomain": "acme.io", "emailDomainKind": "business", "companyDomain": "acme.io",
        "browserLocale": "de-DE", "timeZone": "Europe/Berlin", "fillTimeMs": 4200, "variant": "b"
    });
    let (status, answer) = send(&router, post(doc.to_string())).await;
    assert_eq!(status, StatusCode::CREATED, "{answer}");
    let (_, list) = send(&router, list_request("")).await;
    let stored = &list["leads"][0]["lead"]["context"];
    assert_eq!(
        stored,
        &json!({
            "emailDomain": "gmail.com", "emailDomainKind": "free", "companyDomain": null,
            "browserLocale": "de-DE", "timeZone": "Europe/Berlin", "fillTimeMs": 4200, "variant": "b"
        })
    );

    doc["id"] = json!("ctx2");
    doc["context"]["variant"] = json!("<b>");
    let (status, answer) = send(&router, post(doc.to_string())).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(answer["field"], "context.variant");
}

/// A visitor id links a visitor's submissions before their email is known; one that is not an
/// id (a page script wrote over the widget's storage) is left unused, and the lead is stored.
async fn a_visitor_id_links_submissions_and_a_bad_one_loses_no_lead(db: TestDb) {
    let router = router(&db).await;
    let anonymous = |id: &str, visitor: &str| {
        let json = common::lead_json("demo", id, &[("budget", "50k-250k")], "");
        let mut doc: Value = serde_json::from_str(&json).unwrap();
        doc["visitorId"] = json!(visitor);
        doc.to_string()
    };
    for (id, visitor) in [("v1", "vis-7"), ("v2", "vis-7"), ("v3", "not an id <b>")] {
        let (status, answer) = send(&router, post(anonymous(id, visitor))).await;
        assert_eq!(status, StatusCode::CREATED, "{id}: {answer}");
    }
    let store = db.open().await;
    let linked = store.person_leads("visitor:vis-7").await.unwrap();
    assert_eq!(
        linked.len(),
        2,
        "both submissions of the visitor are one person"
    );
    assert!(store
        .person_by_key("visitor:not an id <b>")
        .await
        .unwrap()
        .is_none());
    assert_eq!(store.person_leads("lead:v3").await.unwrap().len(), 1);
}

crate::on_both_stores!(
    a_visitor_id_links_submissions_and_a_bad_one_loses_no_lead,
    a_lead_is_stored_once_and_a_replay_is_200,
    leads_survive_a_restart,
    the_newest_lead_is_listed_first_and_limit_applies,
    the_collector_rescores_and_flags_a_tampered_score,
    fields_from_a_newer_widget_are_kept,
    allowed_origins_post_leads_and_others_are_quarantined,
    the_inbox_lists_filters_and_escapes,
    sales_feedback_is_stored_and_exported,
    the_last_touch_decides_the_source,
    flagged_spam_and_the_context_show_in_the_inbox_and_export,
);
