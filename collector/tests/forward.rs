//! Forwarding through the outbox: retries on 5xx, gives up on 4xx, signs every request. Each
//! test runs once per store (`sqlite::…`, `postgres::…`).

mod common;

use std::path::PathBuf;
use std::sync::{Arc, Mutex, RwLock};
use std::time::{Duration, Instant};

use axum::body::{Body, Bytes};
use axum::http::{HeaderMap, Request, StatusCode};
use axum::routing::post;
use axum::Router;
use bantam_collector::{
    app, forward_due, sign, AppState, Forms, Forwarding, Settings, Store, DEFAULT_FORWARD_LEASE,
};
use bantam_engine::{parse_config, Format};
use common::TestDb;
use serde_json::json;
use tower::ServiceExt;

/// Idempotency key, timestamp, signature, body and content type of one request.
type Seen = (String, String, String, String, String);

#[derive(Clone, Default)]
struct Receiver {
    /// Statuses to answer per lead id (the Idempotency-Key), in order; 200 once they run out.
    /// Per lead, since a worker has several of a destination's requests on their way at once.
    script: Arc<Mutex<Vec<(String, u16)>>>,
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
    let key = header("idempotency-key");
    let status = match script.iter().position(|(id, _)| *id == key) {
        Some(at) => script.remove(at).1,
        None => 200,
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

async fn leads_are_forwarded_signed_and_retried_until_accepted(db: TestDb) {
    let (receiver, url) = start_receiver().await;
    *receiver.script.lock().unwrap() =
        vec![("a".into(), 503), ("b".into(), 503), ("c".into(), 422)];
    let forwarding = Forwarding {
        url,
        secret: Some("whsec-test".into()),
        timeout: Duration::from_secs(5),
        format: Format::Json,
        lease: DEFAULT_FORWARD_LEASE,
    };
    let (store, forms, router) = collector(
        &db,
        json!({"formId": "demo", "preset": "bant"}),
        &forwarding,
    )
    .await;
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
    let pass = || forward_due(&store, &forms, &forwarding);
    let passed = Instant::now();
    assert_eq!(pass().await.unwrap(), 4);
    let state_of = |id: &'static str| {
        let store = store.clone();
        async move {
            let mut all = store.deliveries(id).await.unwrap();
            assert_eq!(all.len(), 1, "one destination: the flags'");
            assert_eq!(all[0].destination, "forward");
            all.remove(0)
        }
    };
    let a = state_of("a").await;
    assert_eq!((a.state.as_str(), a.attempts), ("pending", 1));
    assert_eq!(a.last_error.as_deref(), Some("HTTP 503"));
    assert_eq!(state_of("c").await.state, "failed");
    assert_eq!(state_of("d").await.state, "delivered");
    // Nothing is due before the backoff (1-2.4 s) has passed; then a and b are.
    assert_eq!(pass().await.unwrap(), 0);
    let mut retried = 0;
    while retried < 2 {
        assert!(
            passed.elapsed() < Duration::from_secs(10),
            "a and b were not retried"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
        retried += pass().await.unwrap();
    }
    assert!(
        passed.elapsed() >= Duration::from_secs(1),
        "not before the backoff"
    );
    assert_eq!(state_of("a").await.state, "delivered");
    assert_eq!(state_of("b").await.state, "delivered");

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
    let mut keys: Vec<&str> = seen.iter().map(|s| s.0.as_str()).collect();
    keys.sort_unstable();
    assert_eq!(keys, ["a", "a", "b", "b", "c", "d"]);
}

/// A collector on `db` that knows one form (`config`) and forwards as `forwarding` says.
async fn collector(
    db: &TestDb,
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
    let state = AppState::new(db.open().await, forms.clone(), settings);
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

async fn forwarding_in_a_crm_format_uses_the_forms_field_names(db: TestDb) {
    let (receiver, url) = start_receiver().await;
    let forwarding = Forwarding {
        url,
        secret: None,
        timeout: Duration::from_secs(5),
        format: Format::Form,
        lease: DEFAULT_FORWARD_LEASE,
    };
    let (store, forms, router) = collector(
        &db,
        json!({
            "formId": "demo",
            "preset": "bant",
            "delivery": {"fields": {"budget": "Budget range"}, "gradeField": null}
        }),
        &forwarding,
    )
    .await;
    let request = Request::post("/v1/leads")
        .header("content-type", "application/json")
        .body(Body::from(lead("f-1")))
        .unwrap();
    assert_eq!(
        router.oneshot(request).await.unwrap().status(),
        StatusCode::CREATED
    );
    let sent = forward_due(&store, &forms, &forwarding).await.unwrap();
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
}

crate::on_both_stores!(
    leads_are_forwarded_signed_and_retried_until_accepted,
    forwarding_in_a_crm_format_uses_the_forms_field_names,
);
