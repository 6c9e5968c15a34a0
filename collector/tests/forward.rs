//! Forwarding through the outbox: retries on 5xx, gives up on 4xx, signs every request.

mod common;

use std::path::PathBuf;
use std::sync::{Arc, Mutex, RwLock};
use std::time::Duration;

use axum::body::{Body, Bytes};
use axum::http::{HeaderMap, Request, StatusCode};
use axum::routing::post;
use axum::Router;
use bantam_collector::{app, forward_due, sign, AppState, Forms, Forwarding, Settings, Store};
use bantam_engine::{parse_config, Format};
use serde_json::json;
use tower::ServiceExt;

/// Idempotency key, timestamp, signature, body and content type of one request.
type Seen = (String, String, String, String, String);

#[derive(Clone, Default)]
struct Receiver {
    /// Statuses to answer, in order; 200 once they run out.
    script: Arc<Mutex<Vec<u16>>>,
    /// (idempotency key, timestamp, signature, body, content type) of every request.
    seen: Arc<Mutex<Vec<Seen>>>,
}

async fn receive(
    axum::extract::State(r): axum::extract::State<Receiver>,
    headers: HeaderMap,
    body: Bytes,
) -> StatusCode {
    let header = |name: &str| {
        headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
            .to_owned()
    };
    r.seen.lock().unwrap().push((
        header("idempotency-key"),
        header("bantam-timestamp"),
        header("bantam-signature"),
        String::from_utf8_lossy(&body).into_owned(),
        header("content-type"),
    ));
    let mut script = r.script.lock().unwrap();
    let status = if script.is_empty() {
        200
    } else {
        script.remove(0)
    };
    StatusCode::from_u16(status).unwrap()
}

fn lead(id: &str) -> String {
    common::lead_json(
        "demo",
        id,
        &[("email", "fwd@acme.io"), ("budget", "over-250k")],
        "",
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn leads_are_forwarded_signed_and_retried_until_accepted() {
    let (receiver, url) = start_receiver().await;
    *receiver.script.lock().unwrap() = vec![503, 503, 422];
    let db = std::env::temp_dir().join(format!("bantam-forward-{}.db", std::process::id()));
    let forwarding = Forwarding {
        url,
        secret: Some("whsec-test".into()),
        timeout: Duration::from_secs(5),
        format: Format::Json,
    };
    let (store, forms, router) = collector(
        &db,
        json!({"formId": "demo", "preset": "bant"}),
        &forwarding,
    );
    for id in ["a", "b", "c", "d"] {
        let request = Request::post("/v1/leads")
            .header("content-type", "application/json")
            .body(Body::from(lead(id)))
            .unwrap();
        assert_eq!(
            router.clone().oneshot(request).await.unwrap().status(),
            StatusCode::CREATED
        );
    }

    // First pass: a and b get 503 (retry later), c gets 422 (refused for good), d is delivered.
    let pass = |store: Arc<Store>, forwarding: Forwarding| {
        let forms = forms.clone();
        tokio::task::spawn_blocking(move || forward_due(&store, &forms, &forwarding).unwrap())
    };
    assert_eq!(pass(store.clone(), forwarding.clone()).await.unwrap(), 4);
    let state_of = |id: &str| store.row(id).unwrap().unwrap().forward.unwrap();
    assert_eq!(
        (state_of("a").state.as_str(), state_of("a").attempts),
        ("pending", 1)
    );
    assert_eq!(state_of("a").last_error.as_deref(), Some("HTTP 503"));
    assert_eq!(state_of("c").state, "failed");
    assert_eq!(state_of("d").state, "delivered");
    // Nothing is due before the backoff (1-2.4 s) has passed.
    assert_eq!(pass(store.clone(), forwarding.clone()).await.unwrap(), 0);
    tokio::time::sleep(Duration::from_millis(2600)).await;
    assert_eq!(pass(store.clone(), forwarding.clone()).await.unwrap(), 2);
    assert_eq!(state_of("a").state, "delivered");
    assert_eq!(state_of("b").state, "delivered");

    let seen = receiver.seen.lock().unwrap().clone();
    assert_eq!(seen.len(), 6, "4 first attempts and 2 retries");
    for (key, timestamp, signature, body, content_type) in &seen {
        assert_eq!(content_type, "application/json");
        let doc: serde_json::Value = serde_json::from_str(body).unwrap();
        assert_eq!(&doc["id"], key, "Idempotency-Key is the lead id");
        let timestamp: i64 = timestamp.parse().unwrap();
        assert_eq!(
            signature,
            &sign("whsec-test", timestamp, body),
            "a receiver can verify the signature"
        );
        assert_eq!(
            (
                doc["score"]["grade"].as_str(),
                doc["score"]["total"].as_u64()
            ),
            (Some("cold"), Some(30)),
            "the collector's score is forwarded"
        );
    }
    let delivered: Vec<&str> = seen.iter().skip(3).map(|s| s.0.as_str()).collect();
    assert_eq!(delivered.len(), 3);
    for suffix in ["", "-wal", "-shm"] {
        let _ = std::fs::remove_file(format!("{}{suffix}", db.display()));
    }
}

/// A collector on `db` that knows one form (`config`) and forwards as `forwarding` says.
fn collector(
    db: &std::path::Path,
    config: serde_json::Value,
    forwarding: &Forwarding,
) -> (Arc<Store>, Arc<RwLock<Forms>>, Router) {
    let mut forms = Forms::empty();
    forms.insert(parse_config(config).unwrap());
    let forms = Arc::new(RwLock::new(forms));
    let settings = Settings {
        forwarding: Some(forwarding.clone()),
        ..Settings::default()
    };
    let state = AppState::new(Store::open(db).unwrap(), forms.clone(), settings);
    (state.store(), forms, app(state, PathBuf::from("www")))
}

/// Starts a receiver on a free port; returns it and its URL.
async fn start_receiver() -> (Receiver, String) {
    let receiver = Receiver::default();
    let hook = Router::new()
        .route("/hook", post(receive))
        .with_state(receiver.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, hook).await.unwrap() });
    (receiver, format!("http://{addr}/hook"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn forwarding_in_a_crm_format_uses_the_forms_field_names() {
    let (receiver, url) = start_receiver().await;
    let db = std::env::temp_dir().join(format!("bantam-forward-fmt-{}.db", std::process::id()));
    let _ = std::fs::remove_file(&db);
    let forwarding = Forwarding {
        url,
        secret: None,
        timeout: Duration::from_secs(5),
        format: Format::Form,
    };
    let (store, forms, router) = collector(
        &db,
        json!({
            "formId": "demo",
            "preset": "bant",
            "delivery": {"fields": {"budget": "Budget range"}, "gradeField": null}
        }),
        &forwarding,
    );
    let request = Request::post("/v1/leads")
        .header("content-type", "application/json")
        .body(Body::from(lead("f-1")))
        .unwrap();
    assert_eq!(
        router.oneshot(request).await.unwrap().status(),
        StatusCode::CREATED
    );
    let sent = tokio::task::spawn_blocking(move || forward_due(&store, &forms, &forwarding))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(sent, 1);
    let seen = receiver.seen.lock().unwrap().clone();
    let (key, _, _, body, content_type) = &seen[0];
    assert_eq!(key, "f-1");
    assert_eq!(content_type, "application/x-www-form-urlencoded");
    let pairs: Vec<(&str, &str)> = body
        .split('&')
        .map(|p| p.split_once('=').unwrap())
        .collect();
    assert!(pairs.contains(&("id", "f-1")), "{body}");
    assert!(pairs.contains(&("Budget+range", "over-250k")), "{body}");
    assert!(pairs.contains(&("bantam_score", "30")), "{body}");
    assert!(!pairs.iter().any(|(k, _)| *k == "bantam_grade"), "{body}");
    for suffix in ["", "-wal", "-shm"] {
        let _ = std::fs::remove_file(format!("{}{suffix}", db.display()));
    }
}
