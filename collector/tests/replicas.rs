//! Two collector processes (the real binary) on one PostgreSQL database: the same leads posted
//! to both are stored once, each lead is forwarded once between them, and the forwards a
//! killed collector had claimed are sent by the other once its lease runs out. PostgreSQL only
//! (SQLite serves one process): skipped, saying so, without `BANTAM_TEST_POSTGRES`.

mod common;

use std::collections::HashMap;
use std::process::Child;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::routing::post;
use axum::Router;
use common::TestDb;

/// A collector process, killed when the test ends however it ends.
struct Collector {
    child: Child,
    addr: String,
}

impl Collector {
    fn start(db: &TestDb, extra: &[&str]) -> Collector {
        let (child, addr) = common::start_collector(&db.url(), extra);
        Collector { child, addr }
    }

    /// SIGKILL: no drain, no cleanup, claims left as they are.
    fn kill(&mut self) {
        self.child.kill().expect("SIGKILL");
        self.child.wait().expect("reaped");
    }
}

impl Drop for Collector {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn lead(id: &str) -> String {
    common::lead_json(
        "ledgerline-demo",
        id,
        &[("email", "replica@acme.io"), ("budget", "over-250k")],
        "",
    )
}

/// What the webhook saw: each request's lead id and when it came.
#[derive(Clone, Default)]
struct Webhook {
    seen: Arc<Mutex<Vec<(String, Instant)>>>,
    /// While true, requests are held and never answered (a receiver that hangs).
    hang: Arc<Mutex<bool>>,
    /// How long each answer takes.
    delay: Arc<Mutex<Duration>>,
}

impl Webhook {
    fn times(&self) -> HashMap<String, Vec<Instant>> {
        let mut out: HashMap<String, Vec<Instant>> = HashMap::new();
        for (id, at) in self.seen.lock().unwrap().iter() {
            out.entry(id.clone()).or_default().push(*at);
        }
        out
    }
}

async fn receive(State(hook): State<Webhook>, headers: HeaderMap, _body: Bytes) -> StatusCode {
    let id = headers
        .get("idempotency-key")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_owned();
    hook.seen.lock().unwrap().push((id, Instant::now()));
    if *hook.hang.lock().unwrap() {
        std::future::pending::<()>().await;
    }
    let delay = *hook.delay.lock().unwrap();
    tokio::time::sleep(delay).await;
    StatusCode::OK
}

/// Starts the webhook on a free loopback port; returns it and its URL.
async fn start_webhook() -> (Webhook, String) {
    let hook = Webhook::default();
    let app = Router::new()
        .route("/hook", post(receive))
        .with_state(hook.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    (hook, format!("http://{addr}/hook"))
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

/// How many of `ids` have been forwarded (`delivered` in the outbox).
async fn delivered(db: &TestDb, ids: &[String]) -> usize {
    let list = ids
        .iter()
        .map(|id| format!("'{id}'"))
        .collect::<Vec<_>>()
        .join(",");
    let sql = format!(
        "SELECT COUNT(*) FROM deliveries WHERE state = 'delivered' AND lead_id IN ({list})"
    );
    db.number(&sql).await as usize
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_same_leads_posted_to_two_collectors_are_stored_once() {
    let Some(db) =
        TestDb::postgres("the_same_leads_posted_to_two_collectors_are_stored_once").await
    else {
        return;
    };
    let (a, b) = (Collector::start(&db, &[]), Collector::start(&db, &[]));
    let ids: Arc<Vec<String>> = Arc::new((0..60).map(|n| format!("both-{n:03}")).collect());
    // Each id goes to both collectors at once, from two clients each.
    let posters: Vec<_> = [&a.addr, &a.addr, &b.addr, &b.addr]
        .into_iter()
        .map(|addr| {
            let (addr, ids) = (addr.clone(), ids.clone());
            std::thread::spawn(move || {
                ids.iter()
                    .map(|id| common::post_lead(&addr, id, &lead(id)))
                    .collect::<Vec<_>>()
            })
        })
        .collect();
    let mut created = vec![0; ids.len()];
    for poster in posters {
        for (n, status) in poster.join().unwrap().into_iter().enumerate() {
            match status {
                Some(201) => created[n] += 1,
                Some(200) => {}
                other => panic!("{}: answered {other:?}", ids[n]),
            }
        }
    }
    assert!(
        created.iter().all(|c| *c == 1),
        "each id created by exactly one post: {created:?}"
    );
    let store = db.open().await;
    assert_eq!(store.count().await.unwrap(), ids.len() as u64);
    for id in ids.iter() {
        assert!(store.get(id).await.unwrap().is_some(), "{id} stored");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_collectors_forward_each_lead_once() {
    let Some(db) = TestDb::postgres("two_collectors_forward_each_lead_once").await else {
        return;
    };
    let (hook, url) = start_webhook().await;
    // A receiver taking 50 ms an answer: a pass takes about a second, so the two collectors'
    // passes overlap and would send the same entries but for the claims.
    *hook.delay.lock().unwrap() = Duration::from_millis(50);
    let forward = ["--forward-url", url.as_str()];
    let (a, b) = (
        Collector::start(&db, &forward),
        Collector::start(&db, &forward),
    );
    let ids: Vec<String> = (0..80).map(|n| format!("fwd-{n:03}")).collect();
    for (n, id) in ids.iter().enumerate() {
        let addr = if n % 2 == 0 { &a.addr } else { &b.addr };
        assert_eq!(common::post_lead(addr, id, &lead(id)), Some(201), "{id}");
    }
    // Every entry is recorded delivered only after its request: once all are, no send of
    // these leads can still be under way.
    wait_until("every lead forwarded", Duration::from_secs(60), || async {
        delivered(&db, &ids).await == ids.len()
    })
    .await;
    let times = hook.times();
    for id in &ids {
        let sent = times.get(id).map_or(0, Vec::len);
        assert_eq!(sent, 1, "{id} was forwarded {sent} times");
    }
    assert_eq!(times.len(), ids.len(), "nothing else was forwarded");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_killed_collectors_forwards_are_sent_by_the_other_after_its_lease() {
    let Some(db) =
        TestDb::postgres("a_killed_collectors_forwards_are_sent_by_the_other_after_its_lease")
            .await
    else {
        return;
    };
    let (hook, url) = start_webhook().await;
    *hook.hang.lock().unwrap() = true;
    let forward = ["--forward-url", url.as_str(), "--forward-lease", "2"];
    let mut a = Collector::start(&db, &forward);
    let ids: Vec<String> = (0..5).map(|n| format!("kill-{n}")).collect();
    for id in &ids {
        assert_eq!(common::post_lead(&a.addr, id, &lead(id)), Some(201), "{id}");
    }
    // `a` has claimed and is sending (the receiver hangs): kill it mid-send.
    wait_until("a forward under way", Duration::from_secs(10), || {
        let started = !hook.seen.lock().unwrap().is_empty();
        async move { started }
    })
    .await;
    a.kill();
    let (held, killed_at) = hook.seen.lock().unwrap()[0].clone();
    *hook.hang.lock().unwrap() = false;
    let _b = Collector::start(&db, &forward);
    wait_until("every lead forwarded", Duration::from_secs(30), || async {
        delivered(&db, &ids).await == ids.len()
    })
    .await;
    let times = hook.times();
    let resent = *times[&held].get(1).expect("the held lead was sent again");
    let waited = resent.duration_since(killed_at);
    assert!(
        waited >= Duration::from_millis(1500),
        "{held} was taken over after {waited:?}, before the 2 s lease ran out"
    );
    for id in &ids {
        assert!(times.contains_key(id), "{id} was forwarded");
    }
}
