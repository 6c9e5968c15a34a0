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
use bantam_engine::parse_config;
use serde_json::json;
use tower::ServiceExt;

/// Idempotency key, timestamp, signature and body of one request.
type Seen = (String, String, String, String);

#[derive(Clone, Default)]
struct Receiver {
    /// Statuses to answer, in order; 200 once they run out.
    script: Arc<Mutex<Vec<u16>>>,
    /// (idempotency key, timestamp, signature, body) of every request.
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
    let receiver = Receiver::default();
    *receiver.script.lock().unwrap() = vec![503, 503, 422];
    let hook = Router::new()
        .route("/hook", post(receive))
        .with_state(receiver.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, hook).await.unwrap() });

    let db = std::env::temp_dir().join(format!("bantam-forward-{}.db", std::process::id()));
    let forwarding = Forwarding {
        url: format!("http://{addr}/hook"),
        secret: Some("whsec-test".into()),
        timeout: Duration::from_secs(5),
    };
    let mut forms = Forms::empty();
    forms.insert(parse_config(json!({"formId": "demo", "preset": "bant"})).unwrap());
    let settings = Settings {
        forwarding: Some(forwarding.clone()),
        ..Settings::default()
    };
    let state = AppState::new(
        Store::open(&db).unwrap(),
        Arc::new(RwLock::new(forms)),
        settings,
    );
    let store = state.store();
    let router = app(state, PathBuf::from("www"));
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
        tokio::task::spawn_blocking(move || forward_due(&store, &forwarding).unwrap())
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
    for (key, timestamp, signature, body) in &seen {
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
