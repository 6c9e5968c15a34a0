//! A lead acknowledged with a 2xx survives a SIGKILL of the collector right after, and a
//! SIGTERM lets the request in flight finish before the collector exits.
//!
//! Starts the real binary on loopback, streams posts from four clients, kills the process
//! with SIGKILL mid-stream, and checks that every lead that got a 2xx is in the database.
//! Both tests run once per store (`sqlite::…`, `postgres::…`).

mod common;

use std::io::{Read, Write};
use std::net::TcpStream;
use std::process::{Child, Command};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use common::TestDb;

/// Starts the collector on `db` (a SQLite path or a PostgreSQL URL); returns the child and its
/// address.
fn start(db: &str) -> (Child, String) {
    common::start_collector(db, &[])
}

/// One lead document for the demo form, with this id.
fn lead_json(id: &str) -> String {
    common::lead_json(
        "ledgerline-demo",
        id,
        &[("email", "crash@acme.io"), ("budget", "over-250k")],
        "",
    )
}

/// Posts on a fresh connection; returns the HTTP status, or `None` when the server is gone.
fn post(addr: &str, id: &str, body: &str) -> Option<u16> {
    common::post_lead(addr, id, body)
}

async fn every_acknowledged_lead_survives_sigkill(db: TestDb) {
    let (mut child, addr) = start(&db.url());
    let acked = Arc::new(Mutex::new(Vec::new()));
    let stop = Arc::new(AtomicBool::new(false));
    let clients: Vec<_> = (0..4)
        .map(|client| {
            let (addr, acked, stop) = (addr.clone(), acked.clone(), stop.clone());
            std::thread::spawn(move || {
                // Bounded: at most 5,000 posts each, and never past the kill.
                for n in 0..5_000 {
                    if stop.load(Ordering::SeqCst) {
                        break;
                    }
                    let id = format!("crash-{client}-{n}");
                    match post(&addr, &id, &lead_json(&id)) {
                        Some(status) if (200..300).contains(&status) => {
                            acked.lock().unwrap().push(id)
                        }
                        Some(status) => panic!("{id}: HTTP {status}"),
                        None => break,
                    }
                }
            })
        })
        .collect();
    // Let a stream of posts build up, then kill without warning.
    let started = Instant::now();
    while acked.lock().unwrap().len() < 200 && started.elapsed() < Duration::from_secs(30) {
        std::thread::sleep(Duration::from_millis(5));
    }
    child.kill().expect("SIGKILL");
    child.wait().unwrap();
    stop.store(true, Ordering::SeqCst);
    for c in clients {
        c.join().unwrap();
    }
    let acked = acked.lock().unwrap().clone();
    assert!(
        acked.len() >= 200,
        "only {} posts were acknowledged",
        acked.len()
    );

    // Restart on the same database: the collector opens it (WAL recovery) and serves again.
    let (mut child, addr) = start(&db.url());
    let replay = &acked[0];
    assert_eq!(
        post(&addr, replay, &lead_json(replay)),
        Some(200),
        "a replay after restart is a duplicate"
    );
    child.kill().unwrap();
    child.wait().unwrap();

    let store = db.open().await;
    let mut missing = Vec::new();
    for id in &acked {
        if store.get(id).await.unwrap().is_none() {
            missing.push(id);
        }
    }
    assert!(
        missing.is_empty(),
        "{} acknowledged leads lost: {:?}",
        missing.len(),
        &missing[..missing.len().min(5)]
    );
    let stored = store.count().await.unwrap();
    assert!(
        stored >= acked.len() as u64,
        "stored {stored} < acknowledged {}",
        acked.len()
    );
    println!(
        "{}: acknowledged {}, stored {stored} after SIGKILL and restart, lost 0",
        if db.is_postgres() {
            "PostgreSQL"
        } else {
            "SQLite"
        },
        acked.len()
    );
}

async fn sigterm_finishes_the_request_in_flight_then_exits_cleanly(db: TestDb) {
    let (mut child, addr) = start(&db.url());
    let body = lead_json("drain-1");
    let (first, rest) = body.as_bytes().split_at(body.len() / 2);
    let mut stream = TcpStream::connect(&addr).unwrap();
    stream
        .set_read_timeout(Some(Duration::from_secs(10)))
        .unwrap();
    // The headers and half the body: the request is in flight when the signal comes.
    let head = format!(
        "POST /v1/leads HTTP/1.1\r\nHost: {addr}\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
        body.len()
    );
    stream.write_all(head.as_bytes()).unwrap();
    stream.write_all(first).unwrap();
    std::thread::sleep(Duration::from_millis(300));
    let killed = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(killed.success());
    std::thread::sleep(Duration::from_millis(300));
    assert!(
        child.try_wait().unwrap().is_none(),
        "the collector waits for the request in flight"
    );
    stream.write_all(rest).unwrap();
    let mut response = String::new();
    stream.read_to_string(&mut response).unwrap();
    assert!(response.starts_with("HTTP/1.1 201"), "{response}");

    let deadline = Instant::now() + Duration::from_secs(10);
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        assert!(
            Instant::now() < deadline,
            "the collector did not exit after SIGTERM"
        );
        std::thread::sleep(Duration::from_millis(50));
    };
    assert!(status.success(), "exit status {status}");
    let store = db.open().await;
    assert!(store.row("drain-1").await.unwrap().is_some());
}

crate::on_both_stores!(
    every_acknowledged_lead_survives_sigkill,
    sigterm_finishes_the_request_in_flight_then_exits_cleanly,
);
