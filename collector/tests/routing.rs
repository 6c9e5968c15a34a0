//! Routing: a routes file's rules pick each lead's destinations, each destination has its own
//! outbox (retries, state, claims), Slack and e-mail alerts reach local receivers, the
//! `--forward-*` flags are one destination, a bad file is refused with its path, and erasure
//! takes a person's deliveries. Tests about storage run once per store (`sqlite::…`,
//! `postgres::…`).

mod common;

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::{Arc, Mutex, RwLock};
use std::time::{Duration, Instant};

use axum::body::{Body, Bytes};
use axum::http::{HeaderMap, Request, StatusCode};
use axum::routing::post;
use axum::Router;
use bantam_collector::routes::Routes;
use bantam_collector::{
    app, deliver_due, run_deliveries, AppState, Erase, Forms, Forwarding, Outbox, Settings,
    DEFAULT_FORWARD_LEASE,
};
use bantam_engine::{parse_config, Format};
use common::smtp::SmtpSink;
use common::TestDb;
use http_body_util::BodyExt;
use serde_json::{json, Value};
use tower::ServiceExt;

const TOKEN: &str = "routing-admin-token";

/// A webhook receiver on loopback: answers from a script (200 once it runs out), after an
/// optional delay, and counts every request per lead id.
#[derive(Clone, Default)]
struct Receiver {
    script: Arc<Mutex<Vec<u16>>>,
    delay: Arc<Mutex<Duration>>,
    /// Bodies received, per Idempotency-Key, every request counted.
    seen: Arc<Mutex<BTreeMap<String, Vec<String>>>>,
}

impl Receiver {
    async fn start() -> (Receiver, String) {
        let receiver = Receiver::default();
        let hook = Router::new()
            .route("/hook", post(receive))
            .with_state(receiver.clone());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        tokio::spawn(async move { axum::serve(listener, hook).await.unwrap() });
        (receiver, format!("http://{addr}/hook"))
    }

    fn seen(&self) -> BTreeMap<String, Vec<String>> {
        self.seen.lock().unwrap().clone()
    }
}

async fn receive(
    axum::extract::State(r): axum::extract::State<Receiver>,
    headers: HeaderMap,
    body: Bytes,
) -> StatusCode {
    let delay = *r.delay.lock().unwrap();
    if !delay.is_zero() {
        tokio::time::sleep(delay).await;
    }
    let key = headers
        .get("idempotency-key")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_owned();
    r.seen
        .lock()
        .unwrap()
        .entry(key)
        .or_default()
        .push(String::from_utf8_lossy(&body).into_owned());
    let mut script = r.script.lock().unwrap();
    let status = if script.is_empty() {
        200
    } else {
        script.remove(0)
    };
    StatusCode::from_u16(status).unwrap()
}

/// A hot lead (every BANT answer at its best) or a cold one (no budget caps it at cold).
fn lead(id: &str, hot: bool, spam: bool) -> String {
    let email = format!("{id}@acme.io");
    let answers: Vec<(&str, &str)> = if hot {
        vec![
            ("email", &email),
            ("company", "Acme <b>&</b>"),
            ("budget", "over-250k"),
            ("role", "decision-maker"),
            ("timeframe", "this-month"),
            ("need", "replace"),
            ("headcount", "300"),
        ]
    } else {
        vec![("email", &email), ("budget", "none")]
    };
    let mut doc: Value =
        serde_json::from_str(&common::lead_json("demo", id, &answers, "")).unwrap();
    if spam {
        doc["spam"] = json!({"flagged": true, "reasons": ["tooFast"]});
    }
    doc.to_string()
}

/// A collector on `db` knowing the BANT demo form, with these routes (and flags).
async fn collector(
    db: &TestDb,
    routes: Option<Routes>,
    forwarding: Option<Forwarding>,
) -> (Outbox, Router) {
    let mut forms = Forms::empty();
    forms.insert(parse_config(json!({"formId": "demo", "preset": "bant"})).unwrap());
    let forms = Arc::new(RwLock::new(forms));
    let settings = Settings {
        admin_token: Some(TOKEN.into()),
        forwarding,
        ..Settings::default()
    };
    let mut state = AppState::new(db.open().await, forms, settings)
        .with_public_url(Some("https://leads.example.com".into()));
    if let Some(routes) = routes {
        state = state.with_routes(routes);
    }
    (state.outbox(), app(state, PathBuf::from("www")))
}

async fn post_lead(router: &Router, body: String) {
    let request = Request::post("/v1/leads")
        .header("content-type", "application/json")
        .body(Body::from(body))
        .unwrap();
    let response = router.clone().oneshot(request).await.unwrap();
    assert_eq!(response.status(), StatusCode::CREATED);
}

/// `GET /v1/leads/{id}` as an admin.
async fn lead_api(router: &Router, id: &str) -> Value {
    let request = Request::get(format!("/v1/leads/{id}"))
        .header("authorization", format!("Bearer {TOKEN}"))
        .body(Body::empty())
        .unwrap();
    let response = router.clone().oneshot(request).await.unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    let bytes = response.into_body().collect().await.unwrap().to_bytes();
    serde_json::from_slice(&bytes).unwrap()
}

/// Destination name → state of a lead's deliveries, as the API shows them.
async fn states(router: &Router, id: &str) -> BTreeMap<String, String> {
    lead_api(router, id).await["deliveries"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| {
            (
                d["destination"].as_str().unwrap().to_owned(),
                d["state"].as_str().unwrap().to_owned(),
            )
        })
        .collect()
}

/// Waits until `ready` says so, polling every 50 ms, failing after `limit`.
async fn wait_until<F, Fut>(what: &str, limit: Duration, mut ready: F)
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    let deadline = Instant::now() + limit;
    while !ready().await {
        assert!(Instant::now() < deadline, "timed out waiting: {what}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

fn routes(text: &str) -> Routes {
    Routes::parse(text, None).unwrap()
}

async fn rules_select_each_leads_destinations(db: TestDb) {
    let (slack, slack_url) = Receiver::start().await;
    let (crm, crm_url) = Receiver::start().await;
    let routes = routes(&format!(
        r#"{{"destinations": [{{"name": "crm", "format": "json", "url": "{crm_url}"}}],
            "forms": {{"demo": {{"destinations": [
                {{"name": "sales-slack", "format": "slack", "url": "{slack_url}",
                  "when": {{"grades": ["hot"], "spam": "leaveOut"}}}}]}}}}}}"#
    ));
    let (outbox, router) = collector(&db, Some(routes), None).await;
    post_lead(&router, lead("hot-1", true, false)).await;
    post_lead(&router, lead("cold-1", false, false)).await;
    post_lead(&router, lead("spam-1", true, true)).await;
    let pending = |names: &[&str]| {
        names
            .iter()
            .map(|n| (n.to_string(), "pending".to_owned()))
            .collect::<BTreeMap<_, _>>()
    };
    assert_eq!(
        states(&router, "hot-1").await,
        pending(&["crm", "sales-slack"])
    );
    assert_eq!(
        states(&router, "cold-1").await,
        pending(&["crm"]),
        "cold: not to Slack"
    );
    assert_eq!(
        states(&router, "spam-1").await,
        pending(&["crm"]),
        "spam left out of Slack"
    );

    assert_eq!(deliver_due(&outbox, "crm").await.unwrap(), 3);
    assert_eq!(deliver_due(&outbox, "sales-slack").await.unwrap(), 1);
    assert_eq!(
        crm.seen().keys().cloned().collect::<Vec<_>>(),
        ["cold-1", "hot-1", "spam-1"]
    );
    let slack_seen = slack.seen();
    assert_eq!(slack_seen.keys().cloned().collect::<Vec<_>>(), ["hot-1"]);
    // The JSON destination gets the lead document; Slack a readable, escaped message.
    let doc: Value = serde_json::from_str(&crm.seen()["hot-1"][0]).unwrap();
    assert_eq!(doc["id"], "hot-1");
    let message: Value = serde_json::from_str(&slack_seen["hot-1"][0]).unwrap();
    let text = message["text"].as_str().unwrap();
    assert!(text.starts_with("*Hot lead* (score "), "{text}");
    assert!(text.contains("Acme &lt;b&gt;&amp;&lt;/b&gt;"), "{text}");
    assert!(
        text.ends_with("<https://leads.example.com/inbox/leads/hot-1|Open the lead in the inbox>"),
        "{text}"
    );
    let delivered = states(&router, "hot-1").await;
    assert!(
        delivered.values().all(|s| s == "delivered"),
        "{delivered:?}"
    );
}

async fn destinations_retry_on_their_own(db: TestDb) {
    let (flaky, flaky_url) = Receiver::start().await;
    let (slow, slow_url) = Receiver::start().await;
    let (fine, fine_url) = Receiver::start().await;
    // `flaky` answers 503 twice, `slow` takes longer than its timeout every time.
    *flaky.script.lock().unwrap() = vec![503, 503];
    *slow.delay.lock().unwrap() = Duration::from_secs(3);
    let routes = routes(&format!(
        r#"{{"destinations": [
            {{"name": "flaky", "format": "json", "url": "{flaky_url}"}},
            {{"name": "slow", "format": "json", "url": "{slow_url}", "timeoutSeconds": 1}},
            {{"name": "fine", "format": "slack", "url": "{fine_url}"}}]}}"#
    ));
    let (outbox, router) = collector(&db, Some(routes), None).await;
    for n in 0..3 {
        post_lead(&router, lead(&format!("r-{n}"), true, false)).await;
    }
    let started = Instant::now();
    run_deliveries(outbox.clone(), Duration::from_millis(50));
    // `fine` has every lead while `slow` is still on its first attempt and `flaky` waits out
    // its backoff: neither holds it back.
    wait_until("fine has every lead", Duration::from_secs(10), || async {
        fine.seen().len() == 3
    })
    .await;
    assert!(
        started.elapsed() < Duration::from_secs(1),
        "fine waited {:?} for the others",
        started.elapsed()
    );
    // The receiver has a request before the collector has recorded its answer (on PostgreSQL
    // that write can come a little later): wait for the record, never read it at once.
    wait_until(
        "fine's delivery of r-0 is recorded",
        Duration::from_secs(10),
        || async { states(&router, "r-0").await["fine"] == "delivered" },
    )
    .await;
    assert_eq!(states(&router, "r-0").await["slow"], "pending");
    // Two leads got the 503s (whichever two: a worker has several requests on their way at
    // once): each waits out its backoff, pending with its error.
    wait_until(
        "flaky's two refusals are recorded",
        Duration::from_secs(10),
        || async {
            let mut refused = 0;
            for n in 0..3 {
                let api = lead_api(&router, &format!("r-{n}")).await;
                refused += api["deliveries"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .filter(|d| {
                        d["destination"] == "flaky"
                            && d["state"] == "pending"
                            && d["lastError"] == "HTTP 503"
                    })
                    .count();
            }
            refused == 2
        },
    )
    .await;
    // Later `flaky` delivers everything; `slow` keeps failing and stays pending with its error.
    wait_until(
        "flaky delivers after its retries",
        Duration::from_secs(15),
        || async {
            let mut all = true;
            for n in 0..3 {
                all &= states(&router, &format!("r-{n}")).await["flaky"] == "delivered";
            }
            all
        },
    )
    .await;
    // `slow`'s first attempt for this lead has timed out by now on a quiet machine; on a busy
    // one (a fresh clone's first run) its outcome may land a moment after `flaky`'s deliveries.
    let slow_of = |api: Value| {
        api["deliveries"]
            .as_array()
            .unwrap()
            .iter()
            .find(|d| d["destination"] == "slow")
            .cloned()
            .unwrap()
    };
    wait_until(
        "slow's first attempt is recorded",
        Duration::from_secs(15),
        || async {
            slow_of(lead_api(&router, "r-0").await)["attempts"]
                .as_u64()
                .unwrap()
                >= 1
        },
    )
    .await;
    let slow_state = slow_of(lead_api(&router, "r-0").await);
    assert_eq!(slow_state["state"], "pending", "{slow_state}");
    assert!(
        slow_state["lastError"]
            .as_str()
            .unwrap()
            .contains("timeout")
            || slow_state["lastError"]
                .as_str()
                .unwrap()
                .contains("imed out"),
        "{slow_state}"
    );
    for n in 0..3 {
        assert_eq!(
            fine.seen()[&format!("r-{n}")].len(),
            1,
            "fine got each lead once"
        );
    }
}

async fn two_workers_never_deliver_one_entry_twice(db: TestDb) {
    let (receiver, url) = Receiver::start().await;
    let routes = routes(&format!(
        r#"{{"destinations": [{{"name": "crm", "format": "json", "url": "{url}"}}]}}"#
    ));
    let (outbox, router) = collector(&db, Some(routes.clone()), None).await;
    let ids: Vec<String> = (0..60).map(|n| format!("w-{n:02}")).collect();
    for id in &ids {
        post_lead(&router, lead(id, n_is_hot(id), false)).await;
    }
    // A second worker: on PostgreSQL another collector's own pool, on SQLite the same process.
    let other = if db.is_postgres() {
        Outbox {
            store: Arc::new(db.open().await),
            ..outbox.clone()
        }
    } else {
        outbox.clone()
    };
    let deadline = Instant::now() + Duration::from_secs(30);
    while receiver.seen().len() < ids.len() {
        assert!(Instant::now() < deadline, "not every lead was delivered");
        let (a, b) = tokio::join!(deliver_due(&outbox, "crm"), deliver_due(&other, "crm"));
        a.unwrap();
        b.unwrap();
    }
    let seen = receiver.seen();
    assert_eq!(seen.len(), ids.len());
    for (id, bodies) in &seen {
        assert_eq!(bodies.len(), 1, "{id} was delivered {} times", bodies.len());
    }
    assert_eq!(
        db.number("SELECT COUNT(*) FROM deliveries WHERE state = 'delivered'")
            .await,
        ids.len() as i64
    );
}

fn n_is_hot(id: &str) -> bool {
    id.ends_with(['0', '2', '4', '6', '8'])
}

async fn the_forward_flags_are_one_destination(db: TestDb) {
    let (receiver, url) = Receiver::start().await;
    let (other, other_url) = Receiver::start().await;
    let forwarding = Forwarding {
        url,
        secret: Some("whsec".into()),
        timeout: Duration::from_secs(5),
        format: Format::Json,
        lease: DEFAULT_FORWARD_LEASE,
    };
    // The flags alone: every lead goes to `forward`.
    let (outbox, router) = collector(&db, None, Some(forwarding.clone())).await;
    post_lead(&router, lead("f-cold", false, false)).await;
    assert_eq!(
        states(&router, "f-cold").await.keys().collect::<Vec<_>>(),
        ["forward"]
    );
    assert_eq!(deliver_due(&outbox, "forward").await.unwrap(), 1);
    assert_eq!(receiver.seen().keys().collect::<Vec<_>>(), ["f-cold"]);
    // With a routes file, the flags' destination comes first and takes everything still.
    let with_file = Routes::parse(
        &format!(
            r#"{{"destinations": [{{"name": "hot-only", "format": "json", "url": "{other_url}", "when": {{"grades": ["hot"]}}}}]}}"#
        ),
        Some(&forwarding),
    )
    .unwrap();
    assert_eq!(with_file.destinations[0].name, "forward");
    let db2 = if db.is_postgres() {
        db
    } else {
        TestDb::sqlite()
    };
    let (outbox, router) = collector(&db2, Some(with_file), Some(forwarding.clone())).await;
    post_lead(&router, lead("g-cold", false, false)).await;
    post_lead(&router, lead("g-hot", true, false)).await;
    assert_eq!(
        states(&router, "g-cold").await.keys().collect::<Vec<_>>(),
        ["forward"]
    );
    assert_eq!(
        states(&router, "g-hot").await.keys().collect::<Vec<_>>(),
        ["forward", "hot-only"]
    );
    deliver_due(&outbox, "hot-only").await.unwrap();
    assert_eq!(other.seen().keys().collect::<Vec<_>>(), ["g-hot"]);
    // A routes file cannot take the flags' name.
    let clash = Routes::parse(
        r#"{"destinations": [{"name": "forward", "format": "json", "url": "https://x.example"}]}"#,
        Some(&forwarding),
    )
    .unwrap_err();
    assert_eq!(
        clash.to_string(),
        "destinations[0].name: \"forward\" is the --forward-url destination's name; choose another"
    );
}

async fn erasure_removes_a_persons_deliveries(db: TestDb) {
    let (_receiver, url) = Receiver::start().await;
    let routes = routes(&format!(
        r#"{{"destinations": [{{"name": "a", "format": "json", "url": "{url}"}},
                              {{"name": "b", "format": "slack", "url": "{url}"}}]}}"#
    ));
    let (outbox, router) = collector(&db, Some(routes), None).await;
    post_lead(&router, lead("e-1", true, false)).await;
    post_lead(&router, lead("e-2", true, false)).await;
    deliver_due(&outbox, "a").await.unwrap();
    assert_eq!(db.number("SELECT COUNT(*) FROM deliveries").await, 4);
    let erasure = outbox
        .store
        .erase(
            &Erase::Person {
                email: "e-1@acme.io".into(),
            },
            "admin",
            "2026-12-01T00:00:00.000Z",
        )
        .await
        .unwrap();
    assert_eq!((erasure.leads, erasure.deliveries), (1, 2));
    assert_eq!(
        db.number("SELECT COUNT(*) FROM deliveries WHERE lead_id = 'e-1'")
            .await,
        0,
        "nothing of the person is left in any outbox"
    );
    assert_eq!(db.number("SELECT COUNT(*) FROM deliveries").await, 2);
}

async fn a_hot_lead_is_mailed_to_the_sink_and_a_cold_one_is_not(db: TestDb) {
    let sink = SmtpSink::start().await;
    let routes = routes(&format!(
        r#"{{"destinations": [{{"name": "alerts", "format": "email", "smtp": "{}",
              "from": "Bantam <bantam@example.com>", "to": ["sales@example.com", "Ben <ben@example.com>"],
              "when": {{"grades": ["hot"]}}}}]}}"#,
        sink.url
    ));
    let (outbox, router) = collector(&db, Some(routes), None).await;
    post_lead(&router, lead("m-hot", true, false)).await;
    post_lead(&router, lead("m-cold", false, false)).await;
    assert_eq!(deliver_due(&outbox, "alerts").await.unwrap(), 1);
    assert!(
        states(&router, "m-cold").await.is_empty(),
        "no alert for a cold lead"
    );
    let mails = sink.mails();
    assert_eq!(mails.len(), 1, "{mails:?}");
    let mail = &mails[0];
    assert_eq!(mail.from, "bantam@example.com");
    assert_eq!(mail.to, ["sales@example.com", "ben@example.com"]);
    assert!(
        mail.data.contains("Subject: Hot lead (score "),
        "{}",
        mail.data
    );
    assert!(
        mail.data.contains("Message-ID: <m-hot.alerts@bantam>"),
        "{}",
        mail.data
    );
    assert!(mail.data.contains("Email: m-hot@acme.io"), "{}", mail.data);
    assert!(
        mail.data
            .contains("Open the lead in the inbox: https://leads.example.com/inbox/leads/m-hot"),
        "{}",
        mail.data
    );
    let api = lead_api(&router, "m-hot").await;
    assert_eq!(api["deliveries"][0]["destination"], "alerts");
    assert_eq!(api["deliveries"][0]["state"], "delivered");
    assert_eq!(api["deliveries"][0]["statusCode"], 250);
}

/// The owner of the person with this email.
async fn owner_of(outbox: &Outbox, email: &str) -> Option<String> {
    outbox.store.owner(email).await.unwrap().flatten()
}

const REPS: &str = r#""owners": ["ana@example.com", "ben@example.com", "cy@example.com"]"#;

async fn hot_leads_get_owners_in_turn_and_a_restart_goes_on(db: TestDb) {
    let (slack, slack_url) = Receiver::start().await;
    let file = format!(
        r#"{{"forms": {{"demo": {{{REPS}, "destinations": [
            {{"name": "sales-slack", "format": "slack", "url": "{slack_url}", "when": {{"grades": ["hot"]}}}}]}}}}}}"#
    );
    let (outbox, router) = collector(&db, Some(routes(&file)), None).await;
    post_lead(&router, lead("p1", true, false)).await;
    post_lead(&router, lead("p2", true, false)).await;
    post_lead(&router, lead("p3", false, false)).await;
    post_lead(&router, lead("p4", true, true)).await;
    assert_eq!(
        owner_of(&outbox, "p1@acme.io").await.as_deref(),
        Some("ana@example.com")
    );
    assert_eq!(
        owner_of(&outbox, "p2@acme.io").await.as_deref(),
        Some("ben@example.com")
    );
    assert_eq!(
        owner_of(&outbox, "p3@acme.io").await,
        None,
        "a cold lead is nobody's turn"
    );
    assert_eq!(
        owner_of(&outbox, "p4@acme.io").await,
        None,
        "nor a spam-flagged one"
    );
    // A person who has an owner keeps them and takes no turn.
    let mut again: Value = serde_json::from_str(&lead("p1-again", true, false)).unwrap();
    again["contact"]["email"] = "P1@acme.io".into();
    again["answers"]["email"] = "P1@acme.io".into();
    post_lead(&router, again.to_string()).await;
    assert_eq!(
        owner_of(&outbox, "p1@acme.io").await.as_deref(),
        Some("ana@example.com")
    );
    post_lead(&router, lead("p5", true, false)).await;
    assert_eq!(
        owner_of(&outbox, "p5@acme.io").await.as_deref(),
        Some("cy@example.com")
    );
    // The Slack message names the owner.
    deliver_due(&outbox, "sales-slack").await.unwrap();
    let text: Value = serde_json::from_str(&slack.seen()["p2"][0]).unwrap();
    assert!(
        text["text"]
            .as_str()
            .unwrap()
            .contains("\nOwner: ben@example.com\n"),
        "{text}"
    );
    // Another collector process (a restart) goes on with the next turn: ana.
    let (outbox, router) = collector(&db, Some(routes(&file)), None).await;
    post_lead(&router, lead("p6", true, false)).await;
    assert_eq!(
        owner_of(&outbox, "p6@acme.io").await.as_deref(),
        Some("ana@example.com")
    );
}

async fn concurrent_hot_leads_take_one_turn_each(db: TestDb) {
    let file = r#"{"forms": {"demo": {"owners": ["ana@example.com", "ben@example.com"]}}}"#;
    // Two collectors on the database (on SQLite, two handles in one process).
    let (a_outbox, a) = collector(&db, Some(routes(file)), None).await;
    let (_, b) = collector(&db, Some(routes(file)), None).await;
    let mut posts = Vec::new();
    for n in 0..40 {
        let router = if n % 2 == 0 { a.clone() } else { b.clone() };
        posts.push(tokio::spawn(async move {
            post_lead(&router, lead(&format!("c{n:02}"), true, false)).await
        }));
    }
    for post in posts {
        post.await.unwrap();
    }
    let mut per_rep: BTreeMap<String, usize> = BTreeMap::new();
    for n in 0..40 {
        let owner = owner_of(&a_outbox, &format!("c{n:02}@acme.io"))
            .await
            .unwrap();
        *per_rep.entry(owner).or_default() += 1;
    }
    assert_eq!(
        per_rep,
        BTreeMap::from([
            ("ana@example.com".into(), 20),
            ("ben@example.com".into(), 20)
        ])
    );
    assert_eq!(
        db.number("SELECT turns FROM rotations WHERE form_id = 'demo'")
            .await,
        40
    );
}

async fn the_forward_outbox_becomes_the_forward_destinations(db: TestDb) {
    let (outbox, router) = collector(&db, None, None).await;
    post_lead(&router, lead("old-1", false, false)).await;
    post_lead(&router, lead("old-2", false, false)).await;
    drop((outbox, router));
    // As a database of schema 12: the one forward outbox, one entry queued, one failed.
    let version = if db.is_postgres() {
        "UPDATE schema_version SET version = 12"
    } else {
        "PRAGMA user_version = 12"
    };
    for sql in [
        // Migration 14's users, sessions and audit log (they come after).
        "DROP TABLE sessions",
        "DROP TABLE users",
        "DROP TABLE audit",
        // Migration 15's rename of the erasure record's count.
        "ALTER TABLE erasures RENAME COLUMN deliveries TO forwards",
        "DROP TABLE deliveries",
        "DROP TABLE rotations",
        "CREATE TABLE forwards (lead_id TEXT PRIMARY KEY REFERENCES leads (id),
            attempts INTEGER NOT NULL DEFAULT 0, next_at BIGINT NOT NULL,
            state TEXT NOT NULL DEFAULT 'pending', last_error TEXT, status_code INTEGER,
            delivered_at TEXT, claimed_until BIGINT NOT NULL DEFAULT 0)",
        "INSERT INTO forwards (lead_id, attempts, next_at, state, last_error)
            VALUES ('old-1', 3, 0, 'pending', 'HTTP 503'), ('old-2', 16, 0, 'failed', 'HTTP 500')",
        version,
    ] {
        db.execute(sql).await;
    }
    let (_, router) = collector(&db, None, None).await;
    let api = lead_api(&router, "old-1").await;
    assert_eq!(api["deliveries"][0]["destination"], "forward");
    assert_eq!(api["deliveries"][0]["state"], "pending");
    assert_eq!(api["deliveries"][0]["attempts"], 3);
    assert_eq!(api["deliveries"][0]["lastError"], "HTTP 503");
    assert_eq!(states(&router, "old-2").await["forward"], "failed");
}

/// A request as the admin (token), with a JSON body when given; the status and the JSON
/// answer.
async fn as_admin(
    router: &Router,
    method: &str,
    uri: &str,
    body: Option<Value>,
) -> (StatusCode, Value) {
    let request = Request::builder()
        .method(method)
        .uri(uri)
        .header("authorization", format!("Bearer {TOKEN}"))
        .header("content-type", "application/json")
        .body(body.map_or_else(Body::empty, |b| Body::from(b.to_string())))
        .unwrap();
    let response = router.clone().oneshot(request).await.unwrap();
    let status = response.status();
    let bytes = response.into_body().collect().await.unwrap().to_bytes();
    (
        status,
        serde_json::from_slice(&bytes).unwrap_or(Value::Null),
    )
}

/// The audit log's owner entries, oldest first, as (who, subject, detail).
async fn owner_entries(router: &Router) -> Vec<(String, String, String)> {
    let (status, log) = as_admin(router, "GET", "/v1/audit?limit=1000", None).await;
    assert_eq!(status, StatusCode::OK, "{log}");
    let mut entries: Vec<(String, String, String)> = log["entries"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["action"] == "owner")
        .map(|e| {
            let text = |k: &str| e[k].as_str().unwrap().to_owned();
            (text("who"), text("subject"), text("detail"))
        })
        .collect();
    entries.reverse();
    entries
}

fn subject(email: &str) -> String {
    bantam_collector::audit_subject(email)
}

async fn turns_are_audited_like_a_manual_assignment(db: TestDb) {
    let file = format!(r#"{{"forms": {{"demo": {{{REPS}}}}}}}"#);
    let (_, router) = collector(&db, Some(routes(&file)), None).await;
    post_lead(&router, lead("a1", true, false)).await;
    post_lead(&router, lead("a2", false, false)).await;
    post_lead(&router, lead("a3", true, false)).await;
    let (status, answer) = as_admin(
        &router,
        "PUT",
        "/v1/people/a2@acme.io/owner",
        Some(json!({"owner": "dee@example.com"})),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{answer}");
    let round_robin = bantam_collector::ROUND_ROBIN.to_owned();
    assert_eq!(round_robin, "routes (round-robin)");
    assert_eq!(
        owner_entries(&router).await,
        vec![
            (
                round_robin.clone(),
                subject("a1@acme.io"),
                "ana@example.com".into()
            ),
            (round_robin, subject("a3@acme.io"), "ben@example.com".into()),
            (
                "admin".into(),
                subject("a2@acme.io"),
                "dee@example.com".into()
            ),
        ]
    );
    // A person's digest, never their email.
    assert!(!owner_entries(&router)
        .await
        .iter()
        .any(|e| e.1.contains('@')));
}

/// Posts a lead from a page whose origin is not allowed: it waits in quarantine.
async fn post_quarantined(router: &Router, body: String) {
    let request = Request::post("/v1/leads")
        .header("content-type", "application/json")
        .header("origin", "https://elsewhere.example.org")
        .body(Body::from(body))
        .unwrap();
    let response = router.clone().oneshot(request).await.unwrap();
    assert_eq!(response.status(), StatusCode::ACCEPTED);
}

async fn an_accepted_quarantined_hot_lead_takes_a_turn_and_goes_to_its_destinations(db: TestDb) {
    let (slack, slack_url) = Receiver::start().await;
    let (crm, crm_url) = Receiver::start().await;
    let file = format!(
        r#"{{"destinations": [{{"name": "crm", "format": "json", "url": "{crm_url}"}}],
            "forms": {{"demo": {{{REPS}, "destinations": [
            {{"name": "sales-slack", "format": "slack", "url": "{slack_url}", "when": {{"grades": ["hot"], "spam": "leaveOut"}}}}]}}}}}}"#
    );
    let (outbox, router) = collector(&db, Some(routes(&file)), None).await;
    post_quarantined(&router, lead("q-hot", true, false)).await;
    post_quarantined(&router, lead("q-cold", false, false)).await;
    post_quarantined(&router, lead("q-spam", true, true)).await;
    post_lead(&router, lead("first", true, false)).await;
    assert_eq!(
        owner_of(&outbox, "first@acme.io").await.as_deref(),
        Some("ana@example.com")
    );
    for id in ["q-hot", "q-cold", "q-spam"] {
        let (status, answer) = as_admin(
            &router,
            "POST",
            &format!("/v1/quarantine/{id}/accept"),
            None,
        )
        .await;
        assert_eq!(status, StatusCode::OK, "{answer}");
    }
    // The hot one takes the next turn, audited as any turn; the cold and the spam-flagged
    // ones take none.
    assert_eq!(
        owner_of(&outbox, "q-hot@acme.io").await.as_deref(),
        Some("ben@example.com")
    );
    assert_eq!(owner_of(&outbox, "q-cold@acme.io").await, None);
    assert_eq!(owner_of(&outbox, "q-spam@acme.io").await, None);
    assert!(owner_entries(&router).await.contains(&(
        bantam_collector::ROUND_ROBIN.into(),
        subject("q-hot@acme.io"),
        "ben@example.com".into()
    )));
    post_lead(&router, lead("next", true, false)).await;
    assert_eq!(
        owner_of(&outbox, "next@acme.io").await.as_deref(),
        Some("cy@example.com"),
        "one rotation for both ways in"
    );
    // Its destinations get it as any new lead: the Slack alert names its owner.
    assert_eq!(
        states(&router, "q-hot").await,
        BTreeMap::from([
            ("crm".into(), "pending".into()),
            ("sales-slack".into(), "pending".into())
        ])
    );
    assert_eq!(
        states(&router, "q-cold").await,
        BTreeMap::from([("crm".into(), "pending".into())])
    );
    deliver_due(&outbox, "crm").await.unwrap();
    deliver_due(&outbox, "sales-slack").await.unwrap();
    assert_eq!(states(&router, "q-hot").await["sales-slack"], "delivered");
    for id in ["q-hot", "q-cold", "q-spam", "first", "next"] {
        assert_eq!(crm.seen()[id].len(), 1, "{id}");
    }
    let text: Value = serde_json::from_str(&slack.seen()["q-hot"][0]).unwrap();
    assert!(
        text["text"]
            .as_str()
            .unwrap()
            .contains("\nOwner: ben@example.com\n"),
        "{text}"
    );
    assert!(!slack.seen().contains_key("q-cold") && !slack.seen().contains_key("q-spam"));
}

/// A receiver that answers no request before `IN_FLIGHT` of them are open at once (503 when
/// they are not within 5 s), and counts the requests per lead.
#[derive(Clone, Default)]
struct Gate {
    open: Arc<std::sync::atomic::AtomicUsize>,
    seen: Arc<Mutex<BTreeMap<String, usize>>>,
}

async fn gated(
    axum::extract::State(gate): axum::extract::State<Gate>,
    headers: HeaderMap,
) -> StatusCode {
    use std::sync::atomic::Ordering;
    let key = headers
        .get("idempotency-key")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_owned();
    *gate.seen.lock().unwrap().entry(key).or_default() += 1;
    gate.open.fetch_add(1, Ordering::SeqCst);
    let deadline = Instant::now() + Duration::from_secs(5);
    while gate.open.load(Ordering::SeqCst) < bantam_collector::IN_FLIGHT {
        if Instant::now() > deadline {
            return StatusCode::SERVICE_UNAVAILABLE;
        }
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    StatusCode::OK
}

async fn one_destinations_entries_are_sent_several_at_once(db: TestDb) {
    let gate = Gate::default();
    let hook = Router::new()
        .route("/hook", post(gated))
        .with_state(gate.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, hook).await.unwrap() });
    let file = format!(
        r#"{{"destinations": [{{"name": "crm", "format": "json", "url": "http://{addr}/hook"}}]}}"#
    );
    let (outbox, router) = collector(&db, Some(routes(&file)), None).await;
    let ids: Vec<String> = (0..bantam_collector::IN_FLIGHT)
        .map(|n| format!("g-{n:02}"))
        .collect();
    for id in &ids {
        post_lead(&router, lead(id, false, false)).await;
    }
    // One pass claims them all and has them on their way together: sent one after another,
    // the first would wait for the others in vain and be answered 503.
    assert_eq!(deliver_due(&outbox, "crm").await.unwrap(), ids.len());
    for id in &ids {
        assert_eq!(states(&router, id).await["crm"], "delivered", "{id}");
    }
    let seen = gate.seen.lock().unwrap().clone();
    assert_eq!(seen.len(), ids.len());
    assert!(seen.values().all(|&n| n == 1), "{seen:?}");
}

crate::on_both_stores!(
    the_forward_outbox_becomes_the_forward_destinations,
    hot_leads_get_owners_in_turn_and_a_restart_goes_on,
    concurrent_hot_leads_take_one_turn_each,
    rules_select_each_leads_destinations,
    destinations_retry_on_their_own,
    two_workers_never_deliver_one_entry_twice,
    the_forward_flags_are_one_destination,
    erasure_removes_a_persons_deliveries,
    a_hot_lead_is_mailed_to_the_sink_and_a_cold_one_is_not,
    turns_are_audited_like_a_manual_assignment,
    an_accepted_quarantined_hot_lead_takes_a_turn_and_goes_to_its_destinations,
    one_destinations_entries_are_sent_several_at_once,
);

#[test]
fn a_bad_routes_file_is_refused_with_its_path() {
    let dir = std::env::temp_dir().join(format!("bantam-routes-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("routes.json");
    std::fs::write(
        &file,
        r#"{"forms": {"demo": {"destinations": [
            {"name": "slack", "format": "slack", "url": "https://hooks.example/x"},
            {"name": "mail", "format": "email", "smtp": "smtp://127.0.0.1:25", "from": "b@example.com", "to": ["s@example.com"], "when": {"grades": ["hot"], "minScore": 300}}
        ]}}}"#,
    )
    .unwrap();
    let output = std::process::Command::new(env!("CARGO_BIN_EXE_bantam-collector"))
        .args(["--listen", "127.0.0.1:0", "--db"])
        .arg(dir.join("x.db"))
        .arg("--routes")
        .arg(&file)
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.starts_with(&format!(
            "bantam-collector: routes file {}: forms.demo.destinations[1].when.minScore: ",
            file.display()
        )),
        "{stderr}"
    );
    assert!(!dir.join("x.db").exists(), "nothing was started");
    std::fs::remove_dir_all(&dir).unwrap();
}
