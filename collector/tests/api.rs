//! Router tests: `oneshot` requests against a temporary database.

use std::path::PathBuf;
use std::sync::atomic::{AtomicU32, Ordering};

use axum::body::Body;
use axum::http::{Request, StatusCode};
use axum::Router;
use bantam_collector::{app, AppState, Store};
use bantam_engine::{build_lead, parse_config, Answers, Input, LeadInput, PageInfo};
use http_body_util::BodyExt;
use serde_json::{json, Value};
use tower::ServiceExt;

/// A temporary database file, removed on drop.
struct TempDb(PathBuf);

impl TempDb {
    fn new() -> TempDb {
        static N: AtomicU32 = AtomicU32::new(0);
        let path = std::env::temp_dir().join(format!(
            "bantam-test-{}-{}.db",
            std::process::id(),
            N.fetch_add(1, Ordering::SeqCst)
        ));
        TempDb(path)
    }
}

impl Drop for TempDb {
    fn drop(&mut self) {
        for suffix in ["", "-wal", "-shm"] {
            let _ = std::fs::remove_file(format!("{}{suffix}", self.0.display()));
        }
    }
}

fn router(db: &TempDb) -> Router {
    let store = Store::open(&db.0).expect("open store");
    app(
        AppState::new(store),
        PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/../www")),
    )
}

/// A real lead document, built by the engine as the widget does.
fn lead(id: &str) -> Value {
    let form = parse_config(json!({"formId": "demo", "preset": "bant"})).unwrap();
    let mut answers = Answers::new();
    answers
        .set(&form, "email", Input::Text("ann@acme.io"))
        .unwrap();
    answers
        .set(&form, "budget", Input::Checked(vec!["50k-250k".into()]))
        .unwrap();
    let lead = build_lead(
        &form,
        &answers,
        LeadInput {
            id: id.into(),
            submitted_at: "2026-11-23T08:00:00.000Z".into(),
            page: PageInfo::default(),
        },
    );
    serde_json::from_str(&lead.to_json()).unwrap()
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

#[tokio::test]
async fn a_lead_is_stored_once_and_a_replay_is_200() {
    let db = TempDb::new();
    let router = router(&db);
    let body = lead("lead-1").to_string();
    let (status, answer) = send(&router, post(body.clone())).await;
    assert_eq!(status, StatusCode::CREATED, "{answer}");
    assert_eq!(answer["status"], "stored");
    assert_eq!(answer["grade"], "cold");
    let (status, answer) = send(&router, post(body)).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(answer["status"], "duplicate");
    let (status, list) = send(
        &router,
        Request::get("/v1/leads").body(Body::empty()).unwrap(),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    let leads = list["leads"].as_array().unwrap();
    assert_eq!(leads.len(), 1, "one row for two posts");
    assert_eq!(leads[0]["lead"]["contact"]["email"], "ann@acme.io");
    assert_eq!(leads[0]["lead"]["score"]["total"], 25);
}

#[tokio::test]
async fn leads_survive_a_restart() {
    let db = TempDb::new();
    send(&router(&db), post(lead("a").to_string())).await;
    let store = Store::open(&db.0).unwrap();
    assert_eq!(store.count().unwrap(), 1);
    assert_eq!(store.get("a").unwrap().unwrap()["formId"], "demo");
}

#[tokio::test]
async fn the_newest_lead_is_listed_first_and_limit_applies() {
    let db = TempDb::new();
    let router = router(&db);
    for id in ["first", "second", "third"] {
        send(&router, post(lead(id).to_string())).await;
    }
    let (_, list) = send(
        &router,
        Request::get("/v1/leads?limit=2")
            .body(Body::empty())
            .unwrap(),
    )
    .await;
    let ids: Vec<_> = list["leads"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| l["lead"]["id"].clone())
        .collect();
    assert_eq!(ids, [json!("third"), json!("second")]);
    let (status, answer) = send(
        &router,
        Request::get("/v1/leads?limt=2")
            .body(Body::empty())
            .unwrap(),
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{answer}");
}

/// Checks that a bad request gets `status` and an error naming `field`.
async fn check_rejected(
    request: Request<Body>,
    status: StatusCode,
    field: Option<&str>,
    error_part: &str,
) {
    let db = TempDb::new();
    let router = router(&db);
    let (got, answer) = send(&router, request).await;
    assert_eq!(got, status, "{answer}");
    assert_eq!(answer["field"].as_str(), field, "{answer}");
    let error = answer["error"].as_str().unwrap();
    assert!(
        error.contains(error_part),
        "\"{error}\" should mention \"{error_part}\""
    );
    let store = Store::open(&db.0).unwrap();
    assert_eq!(store.count().unwrap(), 0, "nothing stored");
}

#[tokio::test]
async fn bad_requests_get_a_4xx_with_a_reason() {
    let unsupported = StatusCode::UNSUPPORTED_MEDIA_TYPE;
    let unprocessable = StatusCode::UNPROCESSABLE_ENTITY;
    check_rejected(
        Request::post("/v1/leads")
            .header("content-type", "text/plain")
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
    let (status, _) = send(&router(&TempDb::new()), post(huge)).await;
    assert_eq!(status, StatusCode::PAYLOAD_TOO_LARGE);
}

#[tokio::test]
async fn the_demo_page_is_served() {
    let db = TempDb::new();
    let response = router(&db)
        .oneshot(Request::get("/").body(Body::empty()).unwrap())
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    let html = response.into_body().collect().await.unwrap().to_bytes();
    assert!(String::from_utf8_lossy(&html).contains("dist/embed.js"));
}
