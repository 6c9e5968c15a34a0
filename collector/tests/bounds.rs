//! What keeps the collector fast and honest as the table grows (issue 15, items 3, 4 and 7):
//! totals and lead-source quality from the per-day summary, exports streamed in pages with
//! `offset` and `limit`, replays that reveal nothing and different bodies kept, not dropped, a
//! database from a newer collector refused, and a read-only database that recovers without a
//! restart. Storage tests run on both stores.

mod common;

use std::path::PathBuf;
use std::sync::{Arc, RwLock};

use axum::body::Body;
use axum::http::{Request, StatusCode};
use axum::Router;
use bantam_collector::{app, AppState, Filter, Forms, Ingested, Settings, SourceQuality};
use bantam_engine::parse_config;
use common::TestDb;
use http_body_util::BodyExt;
use serde_json::{json, Value};
use tower::ServiceExt;

const TOKEN: &str = "bounds-token";

async fn router(db: &TestDb) -> Router {
    let mut forms = Forms::empty();
    forms.insert(parse_config(json!({"formId": "demo", "preset": "bant"})).unwrap());
    let settings = Settings {
        allowed_origins: Vec::new(),
        admin_token: Some(TOKEN.into()),
        rate_per_minute: 0,
        burst: 1,
        forwarding: None,
    };
    app(
        AppState::new(db.open().await, Arc::new(RwLock::new(forms)), settings),
        PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/../www")),
    )
}

async fn send(router: &Router, request: Request<Body>) -> (StatusCode, String) {
    let response = router.clone().oneshot(request).await.unwrap();
    let status = response.status();
    let bytes = response.into_body().collect().await.unwrap().to_bytes();
    (status, String::from_utf8_lossy(&bytes).into_owned())
}

fn get(path: &str) -> Request<Body> {
    Request::get(path)
        .header("authorization", format!("Bearer {TOKEN}"))
        .body(Body::empty())
        .unwrap()
}

/// A stored lead's row as `ingest` makes it.
fn lead(
    id: &str,
    form: &str,
    grade: &str,
    total: u8,
    best: bool,
    utm: [Option<&str>; 3],
) -> Ingested {
    Ingested {
        id: id.into(),
        form_id: form.into(),
        submitted_at: "2026-01-01T00:00:00.000Z".into(),
        email: Some(format!("{id}@acme.io")),
        company: Some(if total > 50 { "Big Co" } else { "Small Co" }.into()),
        utm: utm.map(|u| u.map(str::to_owned)),
        best_grade: best,
        deliveries: Vec::new(),
        grade: grade.into(),
        total,
        client_total: total,
        client_grade: grade.into(),
        document: format!(r#"{{"id":"{id}","score":{{"reasons":[]}}}}"#),
        body_sha256: format!("hash-{id}"),
        form_version: None,
        visitor_id: None,
        spam: false,
        first_utm: [None, None, None],
    }
}

/// 60 leads over three days, two forms, three grades, four sources (one none).
fn sample() -> Vec<(Ingested, String)> {
    let sources = [
        [Some("google"), Some("cpc"), Some("brand")],
        [Some("google"), Some("cpc"), Some("generic")],
        [Some("linkedin"), Some("social"), None],
        [None, None, None],
    ];
    (0..60)
        .map(|n| {
            let (grade, total, best) = match n % 3 {
                0 => ("hot", 80, true),
                1 => ("warm", 55, false),
                _ => ("cold", 20, false),
            };
            let form = if n % 5 == 0 { "other" } else { "demo" };
            let day = 10 + n % 3;
            let received = format!("2026-03-{day:02}T{:02}:00:00.000Z", n % 24);
            (
                lead(
                    &format!("s-{n:02}"),
                    form,
                    grade,
                    total,
                    best,
                    sources[n % 4],
                ),
                received,
            )
        })
        .collect()
}

/// Which sample leads a filter keeps: the lead and when it was received.
type Keep = Box<dyn Fn(&Ingested, &str) -> bool>;

/// What lead-source quality and the count should be, computed from the leads themselves.
fn expected(
    leads: &[(Ingested, String)],
    keep: impl Fn(&Ingested, &str) -> bool,
) -> (u64, Vec<SourceQuality>) {
    let mut groups: Vec<([Option<String>; 3], u64, u64, u64)> = Vec::new();
    let mut count = 0;
    for (lead, received) in leads.iter().filter(|(l, r)| keep(l, r)) {
        count += 1;
        match groups.iter_mut().find(|g| g.0 == lead.utm) {
            Some(g) => {
                g.1 += 1;
                g.2 += u64::from(lead.best_grade);
                g.3 += u64::from(lead.total);
            }
            None => groups.push((
                lead.utm.clone(),
                1,
                u64::from(lead.best_grade),
                u64::from(lead.total),
            )),
        }
        let _ = received;
    }
    groups.sort_by(|a, b| b.1.cmp(&a.1).then(a.0[0].cmp(&b.0[0])));
    let quality = groups
        .into_iter()
        .map(|(utm, leads, best, total)| SourceQuality {
            utm,
            leads,
            best,
            average: total as f64 / leads as f64,
        })
        .collect();
    (count, quality)
}

async fn totals_and_source_quality_come_from_the_summary_and_match_the_leads(db: TestDb) {
    let store = db.open().await;
    let leads = sample();
    for (lead, received) in &leads {
        assert!(store.insert(lead, received).await.unwrap().created);
    }
    // A replay is not counted twice.
    store
        .insert(&leads[0].0, "2026-03-12T23:00:00.000Z")
        .await
        .unwrap();
    let day = |r: &str| r[..10].to_owned();
    let cases: Vec<(Filter, Keep)> = vec![
        (Filter::default(), Box::new(|_, _| true)),
        (
            Filter {
                grade: Some("hot".into()),
                ..Filter::default()
            },
            Box::new(|l, _| l.grade == "hot"),
        ),
        (
            Filter {
                form: Some("other".into()),
                ..Filter::default()
            },
            Box::new(|l, _| l.form_id == "other"),
        ),
        (
            Filter {
                source: Some("google".into()),
                ..Filter::default()
            },
            Box::new(|l, _| l.utm[0].as_deref() == Some("google")),
        ),
        (
            Filter {
                source: Some("(none)".into()),
                ..Filter::default()
            },
            Box::new(|l, _| l.utm[0].is_none()),
        ),
        (
            Filter {
                from: Some("2026-03-11".into()),
                to: Some("2026-03-11".into()),
                grade: Some("warm".into()),
                ..Filter::default()
            },
            Box::new(move |l, r| day(r) == "2026-03-11" && l.grade == "warm"),
        ),
        // A search reads the leads themselves; the answer is the same.
        (
            Filter {
                search: Some("big co".into()),
                ..Filter::default()
            },
            Box::new(|l, _| l.company.as_deref() == Some("Big Co")),
        ),
    ];
    for (filter, keep) in cases {
        let (count, quality) = expected(&leads, keep);
        assert_eq!(
            store.count_matching(&filter).await.unwrap(),
            count,
            "{filter:?}"
        );
        let mut got = store.source_quality(&filter).await.unwrap();
        // Sources with as many leads may come in either order.
        got.sort_by(|a, b| b.leads.cmp(&a.leads).then(a.utm.cmp(&b.utm)));
        let mut quality = quality;
        quality.sort_by(|a, b| b.leads.cmp(&a.leads).then(a.utm.cmp(&b.utm)));
        assert_eq!(got.len(), quality.len(), "{filter:?}: {got:?}");
        for (got, want) in got.iter().zip(&quality) {
            assert_eq!(
                (&got.utm, got.leads, got.best),
                (&want.utm, want.leads, want.best),
                "{filter:?}"
            );
            assert!(
                (got.average - want.average).abs() < 1e-9,
                "{filter:?}: {got:?} {want:?}"
            );
        }
    }
}

async fn an_export_streams_every_lead_once_in_pages(db: TestDb) {
    let router = router(&db).await;
    let store = db.open().await;
    // More than two pages, with leads received in the same instant (three at a time).
    let total = 1_203;
    for n in 0..total {
        let received = format!("2026-04-01T10:{:02}:{:02}.000Z", (n / 3) / 60, (n / 3) % 60);
        let lead = lead(
            &format!("e-{n:04}"),
            "demo",
            "warm",
            55,
            false,
            [None, None, None],
        );
        store.insert(&lead, &received).await.unwrap();
    }
    let ids = |csv: &str| -> Vec<String> {
        csv.lines()
            .skip(1)
            .map(|l| l.split(',').next().unwrap().trim_matches('"').to_owned())
            .collect()
    };
    let (status, csv) = send(&router, get("/v1/leads.csv")).await;
    assert_eq!(status, StatusCode::OK);
    assert!(csv.starts_with("\u{FEFF}id,received_at,"));
    let all = ids(&csv);
    assert_eq!(all.len(), total);
    let mut unique = all.clone();
    unique.sort();
    unique.dedup();
    assert_eq!(unique.len(), total, "every lead once");
    assert_eq!(all[0], "e-1202", "newest first");
    assert_eq!(all[total - 1], "e-0000");
    let (_, csv) = send(&router, get("/v1/leads.csv?offset=1000")).await;
    assert_eq!(ids(&csv), all[1000..]);
    let (_, csv) = send(&router, get("/v1/leads.csv?limit=501")).await;
    assert_eq!(ids(&csv), all[..501]);
    let (_, csv) = send(&router, get("/v1/leads.csv?offset=499&limit=3")).await;
    assert_eq!(ids(&csv), all[499..502]);
    let (_, csv) = send(&router, get("/v1/leads.csv?limit=0")).await;
    assert_eq!(csv.lines().count(), 1, "the header alone");
}

async fn a_replay_reveals_nothing_and_a_different_body_waits_in_quarantine(db: TestDb) {
    let router = router(&db).await;
    let lead = |company: &str| {
        common::lead_json(
            "demo",
            "same-id",
            &[
                ("email", "ann@acme.io"),
                ("company", company),
                ("budget", "over-250k"),
            ],
            "",
        )
    };
    let post = |body: String| {
        Request::post("/v1/leads")
            .header("content-type", "application/json")
            .body(Body::from(body))
            .unwrap()
    };
    let (status, _) = send(&router, post(lead("Acme"))).await;
    assert_eq!(status, StatusCode::CREATED);
    let (status, answer) = send(&router, post(lead("Acme"))).await;
    assert_eq!(status, StatusCode::OK);
    let answer: Value = serde_json::from_str(&answer).unwrap();
    assert_eq!(
        answer,
        json!({"id": "same-id", "status": "duplicate"}),
        "nothing about the stored lead"
    );
    // Another lead under the same id: kept, with the reason, and the stored one unchanged.
    let (status, answer) = send(&router, post(lead("Mallory Ltd"))).await;
    assert_eq!(status, StatusCode::ACCEPTED, "{answer}");
    assert!(
        answer.contains("a different lead with the id same-id is already stored"),
        "{answer}"
    );
    let (_, listed) = send(&router, get("/v1/leads")).await;
    assert!(
        listed.contains("Acme") && !listed.contains("Mallory"),
        "{listed}"
    );
    let (_, held) = send(&router, get("/v1/quarantine")).await;
    let held: Value = serde_json::from_str(&held).unwrap();
    assert_eq!(held["total"], 1);
    let key = held["leads"][0]["id"].as_str().unwrap().to_owned();
    assert!(key.starts_with("same-id~"), "{key}");
    assert!(held["leads"][0]["lead"].to_string().contains("Mallory Ltd"));
    // It cannot be accepted under the id another lead holds.
    let accept = Request::post(format!("/v1/quarantine/{key}/accept"))
        .header("authorization", format!("Bearer {TOKEN}"))
        .body(Body::empty())
        .unwrap();
    let (status, answer) = send(&router, accept).await;
    assert_eq!(status, StatusCode::CONFLICT, "{answer}");
}

on_both_stores!(
    totals_and_source_quality_come_from_the_summary_and_match_the_leads,
    an_export_streams_every_lead_once_in_pages,
    a_replay_reveals_nothing_and_a_different_body_waits_in_quarantine,
);

#[tokio::test]
async fn the_summary_is_built_for_leads_stored_before_it() {
    let db = TestDb::sqlite();
    let leads = sample();
    {
        let store = db.open().await;
        for (lead, received) in &leads {
            store.insert(lead, received).await.unwrap();
        }
    }
    // As a database from before the summary: no table (nor what later migrations add), schema
    // version 6.
    let conn = rusqlite::Connection::open(db.url()).unwrap();
    conn.execute_batch("DROP TABLE lead_counts; DROP INDEX leads_grade_received; DROP INDEX leads_form_received; CREATE INDEX leads_grade ON leads (grade); DROP TABLE form_versions; ALTER TABLE leads DROP COLUMN form_version; DROP TABLE erasures; DROP INDEX leads_email; DROP INDEX leads_status_received; DROP TABLE persons; DROP TABLE feedback; DROP INDEX leads_person; DROP INDEX leads_person_latest; DROP INDEX leads_person_earliest; DROP INDEX leads_person_company; ALTER TABLE leads DROP COLUMN person_id; ALTER TABLE leads DROP COLUMN spam; ALTER TABLE leads DROP COLUMN first_source; ALTER TABLE leads DROP COLUMN first_medium; ALTER TABLE leads DROP COLUMN first_campaign; DROP TABLE deliveries; DROP TABLE rotations; CREATE TABLE forwards (lead_id TEXT PRIMARY KEY REFERENCES leads (id), attempts INTEGER NOT NULL DEFAULT 0, next_at INTEGER NOT NULL, state TEXT NOT NULL DEFAULT 'pending', last_error TEXT, status_code INTEGER, delivered_at TEXT); DROP TABLE sessions; DROP TABLE users; DROP TABLE audit; PRAGMA user_version = 6;")
        .unwrap();
    drop(conn);
    let store = db.open().await;
    let (count, quality) = expected(&leads, |_, _| true);
    assert_eq!(
        store.count_matching(&Filter::default()).await.unwrap(),
        count
    );
    let got = store.source_quality(&Filter::default()).await.unwrap();
    assert_eq!(
        got.iter()
            .map(|q| (q.utm.clone(), q.leads))
            .collect::<Vec<_>>(),
        quality
            .iter()
            .map(|q| (q.utm.clone(), q.leads))
            .collect::<Vec<_>>()
    );
}

#[tokio::test]
async fn a_database_from_a_newer_collector_is_refused() {
    let db = TestDb::sqlite();
    drop(db.open().await);
    let conn = rusqlite::Connection::open(db.url()).unwrap();
    conn.execute_batch("PRAGMA user_version = 99;").unwrap();
    drop(conn);
    let err = bantam_collector::Store::open(&db.url())
        .await
        .err()
        .expect("refused");
    assert!(
        err.to_string().contains("newer than this collector knows"),
        "{err}"
    );
}

/// Runs `program` with `args`, as `nobody` when the tests run as root (root writes any file,
/// so a read-only database needs another user). The user is set in the child itself (not by
/// `runuser`, which would stay between), so killing the command stops the collector.
fn as_nobody(root: bool, program: &str, args: &[&str]) -> std::process::Command {
    use std::os::unix::process::CommandExt;
    let mut command = std::process::Command::new(program);
    if root {
        let id = |flag: &str| -> u32 {
            let out = std::process::Command::new("id")
                .args([flag, "nobody"])
                .output()
                .unwrap();
            String::from_utf8_lossy(&out.stdout).trim().parse().unwrap()
        };
        command.gid(id("-g")).uid(id("-u"));
    }
    command.args(args);
    command
}

#[test]
fn a_read_only_database_recovers_once_its_permissions_are_fixed() {
    use std::io::{Read, Write};
    let root = std::process::Command::new("id")
        .arg("-u")
        .output()
        .is_ok_and(|o| String::from_utf8_lossy(&o.stdout).trim() == "0");
    let dir = std::env::temp_dir().join(format!("bantam-readonly-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let db = dir.join("leads.db");
    let db = db.to_str().unwrap();
    // The database exists (made by a first run), then is left read-only, as after a bad
    // restore or a crash with the wrong owner.
    // `nobody` may not reach the build folder (a clone under a private folder): the binary
    // and the forms are copied into the test's own open folder, and run from there.
    let bin = dir.join("bantam-collector");
    std::fs::copy(env!("CARGO_BIN_EXE_bantam-collector"), &bin).unwrap();
    std::fs::create_dir_all(dir.join("forms")).unwrap();
    std::fs::copy(
        concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../www/forms/ledgerline-demo.json"
        ),
        dir.join("forms/ledgerline-demo.json"),
    )
    .unwrap();
    let forms = dir.join("forms");
    let forms = forms.to_str().unwrap();
    let bin = bin.to_str().unwrap();
    let chmod = |mode: &str, path: &str| {
        assert!(std::process::Command::new("chmod")
            .args(["-R", mode, path])
            .status()
            .unwrap()
            .success());
    };
    chmod("a+rwX", dir.to_str().unwrap());
    let start = |db: &str| {
        common::spawn_listening(
            as_nobody(
                root,
                bin,
                &[
                    "--listen",
                    "127.0.0.1:0",
                    "--rate-limit",
                    "0",
                    "--forms",
                    forms,
                    "--www",
                    forms,
                    "--db",
                    db,
                ],
            )
            .current_dir(&dir),
        )
    };
    let (mut first, _) = start(db);
    let _ = first.kill();
    let _ = first.wait();
    chmod("444", db);
    let (mut collector, addr) = start(db);
    let post = |n: u32| -> u16 {
        let lead = common::lead_json(
            "ledgerline-demo",
            &format!("ro-{n}"),
            &[("email", "r@acme.io")],
            "",
        );
        let mut stream = std::net::TcpStream::connect(&addr).unwrap();
        stream
            .write_all(
                format!(
                    "POST /v1/leads HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{lead}",
                    lead.len()
                )
                .as_bytes(),
            )
            .unwrap();
        let mut answer = String::new();
        stream.read_to_string(&mut answer).unwrap();
        answer
            .split(' ')
            .nth(1)
            .and_then(|s| s.parse().ok())
            .unwrap_or(0)
    };
    assert_eq!(post(1), 500, "a read-only database cannot store the lead");
    assert_eq!(post(2), 500);
    chmod("644", db);
    // Fixed: the next lead is stored, without a restart.
    assert_eq!(post(3), 201);
    assert_eq!(post(4), 201);
    let _ = collector.kill();
    let _ = collector.wait();
    let _ = std::fs::remove_dir_all(&dir);
}
