//! The storage interface itself: replays and their bodies, concurrent inserts of one id, and
//! what only PostgreSQL has: outbox claims shared by several collectors, and migrations when
//! several start at once. Tests that apply to both stores run once per store.

mod common;

use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use bantam_collector::{Ingested, Store};
use common::TestDb;

/// A checked lead as `ingest` makes it, with the body hash given.
fn ingested(id: &str, body_sha256: &str, forward: bool) -> Ingested {
    Ingested {
        id: id.into(),
        form_id: "demo".into(),
        submitted_at: "2026-11-23T08:00:00.000Z".into(),
        email: Some(format!("{id}@acme.io")),
        company: Some("Acme".into()),
        utm: [Some("google".into()), None, None],
        best_grade: false,
        deliveries: if forward {
            vec!["forward".into()]
        } else {
            Vec::new()
        },
        grade: "warm".into(),
        total: 55,
        client_total: 55,
        client_grade: "warm".into(),
        document: format!(r#"{{"id":"{id}"}}"#),
        body_sha256: body_sha256.into(),
        form_version: None,
        visitor_id: None,
        spam: false,
        first_utm: [None, None, None],
    }
}

fn now_ms() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_millis() as i64
}

const AT: &str = "2026-11-23T08:00:01.000Z";

async fn a_replay_says_whether_it_came_from_the_same_body(db: TestDb) {
    let store = db.open().await;
    let first = store
        .insert(&ingested("r1", "aaa", false), AT)
        .await
        .unwrap();
    assert!(first.created && first.same_body, "{first:?}");
    let replay = store
        .insert(&ingested("r1", "aaa", false), "2026-11-23T09:00:00.000Z")
        .await
        .unwrap();
    assert!(!replay.created && replay.same_body, "{replay:?}");
    assert_eq!(replay.received_at, AT, "the first arrival is kept");
    let other = store
        .insert(&ingested("r1", "bbb", false), AT)
        .await
        .unwrap();
    assert!(!other.created && !other.same_body, "{other:?}");
    // A row stored before bodies were hashed matches any replay.
    db.execute("UPDATE leads SET body_sha256 = NULL").await;
    let old = store
        .insert(&ingested("r1", "ccc", false), AT)
        .await
        .unwrap();
    assert!(!old.created && old.same_body, "{old:?}");
    assert_eq!(store.count().await.unwrap(), 1);
}

/// The same ids stored at once through two handles on the database (two pools, as two
/// collectors have; SQLite, which serves one process, through one shared handle).
async fn concurrent_inserts_of_one_id_store_it_and_its_forward_once(db: TestDb) {
    let first = Arc::new(db.open().await);
    let second = if db.is_postgres() {
        Arc::new(db.open().await)
    } else {
        first.clone()
    };
    let ids: Vec<String> = (0..40).map(|n| format!("same-{n}")).collect();
    let mut tasks = Vec::new();
    for id in &ids {
        for store in [first.clone(), second.clone()] {
            let lead = ingested(id, "aaa", true);
            tasks.push(tokio::spawn(async move {
                store.insert(&lead, AT).await.unwrap()
            }));
        }
    }
    let mut created = 0;
    for task in tasks {
        let stored = task.await.unwrap();
        assert!(stored.same_body && stored.total == 55, "{stored:?}");
        created += usize::from(stored.created);
    }
    assert_eq!(created, ids.len(), "each id created by exactly one insert");
    assert_eq!(first.count().await.unwrap(), ids.len() as u64);
    assert_eq!(
        db.number("SELECT COUNT(*) FROM deliveries").await,
        ids.len() as i64,
        "one outbox entry per lead"
    );
}

crate::on_both_stores!(
    a_replay_says_whether_it_came_from_the_same_body,
    concurrent_inserts_of_one_id_store_it_and_its_forward_once,
);

/// Two stores (two pools) on one fresh PostgreSQL database, with `leads` leads to forward.
async fn two_collectors(test: &str, leads: usize) -> Option<(TestDb, Store, Store)> {
    let db = TestDb::postgres(test).await?;
    let (a, b) = (db.open().await, db.open().await);
    for n in 0..leads {
        a.insert(&ingested(&format!("fwd-{n:03}"), "aaa", true), AT)
            .await
            .unwrap();
    }
    Some((db, a, b))
}

fn ids(due: &[bantam_collector::Due]) -> Vec<String> {
    due.iter().map(|d| d.lead_id.clone()).collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn claims_hand_each_due_forward_to_one_collector() {
    let Some((_db, a, b)) =
        two_collectors("claims_hand_each_due_forward_to_one_collector", 30).await
    else {
        return;
    };
    let lease = Duration::from_secs(60);
    let mut seen = Vec::new();
    // Claim at the same moment, in rounds, until nothing is left.
    for _ in 0..5 {
        let (x, y) = tokio::join!(
            a.due_deliveries("forward", now_ms(), 7, lease),
            b.due_deliveries("forward", now_ms(), 7, lease)
        );
        seen.extend(ids(&x.unwrap()));
        seen.extend(ids(&y.unwrap()));
    }
    let total = seen.len();
    seen.sort();
    seen.dedup();
    assert_eq!(total, seen.len(), "no entry was handed out twice");
    assert_eq!(seen.len(), 30, "every entry was handed out");
    let left = b
        .due_deliveries("forward", now_ms(), 20, lease)
        .await
        .unwrap();
    assert!(
        left.is_empty(),
        "claimed entries stay claimed: {:?}",
        ids(&left)
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_lapsed_claim_is_taken_again_and_a_released_one_at_once() {
    let Some((_db, a, b)) = two_collectors(
        "a_lapsed_claim_is_taken_again_and_a_released_one_at_once",
        3,
    )
    .await
    else {
        return;
    };
    let lease = Duration::from_millis(400);
    let claimed = Instant::now();
    assert_eq!(
        a.due_deliveries("forward", now_ms(), 20, lease)
            .await
            .unwrap()
            .len(),
        3
    );
    // `a` "dies" holding them: `b` gets them once the lease has run out, not before.
    let taken = loop {
        let due = b
            .due_deliveries("forward", now_ms(), 20, Duration::from_secs(60))
            .await
            .unwrap();
        if !due.is_empty() {
            break due;
        }
        assert!(
            claimed.elapsed() < Duration::from_secs(10),
            "never released"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    };
    assert!(
        claimed.elapsed() >= Duration::from_millis(350),
        "taken after {:?}, before the lease ran out",
        claimed.elapsed()
    );
    assert_eq!(taken.len(), 3);
    // Handed back, they are due again at once; recorded, they are not.
    b.release_deliveries("forward", &ids(&taken)).await.unwrap();
    b.delivered("fwd-000", "forward", 200, AT).await.unwrap();
    let again = a
        .due_deliveries("forward", now_ms(), 20, lease)
        .await
        .unwrap();
    assert_eq!(ids(&again), ["fwd-001", "fwd-002"]);
    let deliveries = a.deliveries("fwd-000").await.unwrap();
    assert_eq!(deliveries[0].state, "delivered");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn collectors_starting_at_once_migrate_once() {
    let Some(db) = TestDb::postgres("collectors_starting_at_once_migrate_once").await else {
        return;
    };
    let url = db.url();
    let starting: Vec<_> = (0..4)
        .map(|_| {
            let url = url.clone();
            tokio::spawn(async move { Store::open(&url).await.map(|_| ()) })
        })
        .collect();
    for started in starting {
        started.await.unwrap().expect("every collector starts");
    }
    assert_eq!(db.number("SELECT version FROM schema_version").await, 15);
    assert_eq!(db.number("SELECT COUNT(*) FROM schema_version").await, 1);
}

#[test]
fn start_up_errors_name_the_server_but_never_the_password() {
    // A port nothing listens on.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let output = std::process::Command::new(env!("CARGO_BIN_EXE_bantam-collector"))
        .args(["--listen", "127.0.0.1:0", "--db"])
        .arg(format!("postgres://bantam:hunter2@127.0.0.1:{port}/leads"))
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains(&format!(
            "cannot connect to PostgreSQL at 127.0.0.1:{port}/leads: error connecting to server"
        )),
        "{stderr}"
    );
    assert!(!stderr.contains("hunter2"), "{stderr}");
}
