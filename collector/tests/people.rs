//! A person's data (issue 13, privacy duties): everything held about one email exported, the
//! person erased with their deliveries and quarantined leads and a record left without their
//! email, and the retention period deleting what sales never took; on both stores, and through
//! the API and the inbox of the real binary.

mod common;

use std::io::{Read, Write};
use std::time::{Duration, Instant};

use bantam_collector::{email_digest, Erase, Filter, Imported, Ingested, Quarantined, Store};
use common::TestDb;

/// A checked lead of the demo form from `email`, queued for forwarding.
fn ingested(id: &str, email: &str, source: &str) -> Ingested {
    Ingested {
        id: id.into(),
        form_id: "demo".into(),
        submitted_at: "2026-11-23T08:00:00.000Z".into(),
        email: Some(email.into()),
        company: None,
        utm: [Some(source.into()), None, None],
        best_grade: true,
        deliveries: vec!["forward".into()],
        grade: "hot".into(),
        total: 80,
        client_total: 80,
        client_grade: "hot".into(),
        document: format!(r#"{{"id":"{id}","formId":"demo","answers":{{"email":"{email}"}}}}"#),
        body_sha256: "aaa".into(),
        form_version: None,
        visitor_id: None,
        spam: false,
        first_utm: [None, None, None],
    }
}

async fn total(store: &Store) -> u64 {
    store.count_matching(&Filter::default()).await.unwrap()
}

async fn a_person_is_exported_and_erased_with_everything_they_left(db: TestDb) {
    let store = db.open().await;
    // Ann twice (in two cases of her email), Bo once, and Ann held in the quarantine.
    store
        .insert(
            &ingested("ann-1", "Ann@Acme.io", "google"),
            "2026-11-01T08:00:00.000Z",
        )
        .await
        .unwrap();
    store
        .insert(
            &ingested("ann-2", "ann@acme.io", "google"),
            "2026-11-08T08:00:00.000Z",
        )
        .await
        .unwrap();
    store
        .insert(
            &ingested("bo-1", "bo@initech.com", "google"),
            "2026-11-02T08:00:00.000Z",
        )
        .await
        .unwrap();
    let mut held = Quarantined::new(
        "ann-q".into(),
        "unknown-form".into(),
        Some("ann@acme.io".into()),
        "form \"unknown-form\" is not registered".into(),
        r#"{"id":"ann-q"}"#.into(),
    );
    held.received_at = "2026-11-09T08:00:00.000Z".into();
    store.quarantine(&held).await.unwrap();
    assert_eq!(total(&store).await, 3);

    let data = store.person("ANN@acme.io").await.unwrap();
    let ids: Vec<&str> = data
        .leads
        .iter()
        .map(|l| l["lead"]["id"].as_str().unwrap())
        .collect();
    assert_eq!(ids, ["ann-1", "ann-2"], "oldest first, any case");
    assert_eq!(
        data.leads[0]["deliveries"],
        serde_json::json!([{"destination": "forward", "state": "pending"}])
    );
    assert_eq!(data.quarantined.len(), 1);
    assert_eq!(data.quarantined[0]["lead"]["id"], "ann-q");

    let erasure = store
        .erase(
            &Erase::Person {
                email: " ann@ACME.io ".into(),
            },
            "admin",
            "2026-12-01T10:00:00.000Z",
        )
        .await
        .unwrap();
    assert_eq!(
        (erasure.leads, erasure.deliveries, erasure.quarantined),
        (2, 2, 1)
    );
    assert_eq!(erasure.subject, email_digest("ann@acme.io"));

    // Nothing of Ann remains (checked with SQL), Bo is untouched, and the totals and the
    // source table count only Bo.
    for sql in [
        "SELECT COUNT(*) FROM leads WHERE lower(email) = 'ann@acme.io'",
        "SELECT COUNT(*) FROM deliveries WHERE lead_id LIKE 'ann-%'",
        "SELECT COUNT(*) FROM quarantine WHERE lower(email) = 'ann@acme.io'",
        "SELECT COUNT(*) FROM erasures WHERE subject LIKE '%ann%'",
    ] {
        assert_eq!(db.number(sql).await, 0, "{sql}");
    }
    assert_eq!(store.person("ann@acme.io").await.unwrap().leads.len(), 0);
    assert_eq!(store.person("bo@initech.com").await.unwrap().leads.len(), 1);
    assert_eq!(total(&store).await, 1);
    let quality = store.source_quality(&Filter::default()).await.unwrap();
    assert_eq!(quality.len(), 1);
    assert_eq!((quality[0].leads, quality[0].best), (1, 1));

    // The record: when, why, who, how many; never the email.
    let records = store.erasures(10).await.unwrap();
    assert_eq!(records.len(), 1);
    assert_eq!(records[0], erasure);
    assert_eq!(records[0].reason, "person");
    assert_eq!(records[0].by, "admin");

    // Erasing someone unknown deletes nothing and is recorded too.
    let none = store
        .erase(
            &Erase::Person {
                email: "nobody@acme.io".into(),
            },
            "admin",
            "2026-12-01T11:00:00.000Z",
        )
        .await
        .unwrap();
    assert_eq!((none.leads, none.deliveries, none.quarantined), (0, 0, 0));
    assert_eq!(store.erasures(10).await.unwrap()[0], none);
}

async fn the_retention_period_deletes_only_what_sales_did_not_take(db: TestDb) {
    let store = db.open().await;
    let mut leads = Vec::new();
    for (id, at, status) in [
        ("old-open", "2025-01-01T00:00:00.000Z", None),
        ("old-rejected", "2025-01-02T00:00:00.000Z", Some("rejected")),
        ("old-lost", "2025-01-03T00:00:00.000Z", Some("lost")),
        ("old-accepted", "2025-01-04T00:00:00.000Z", Some("accepted")),
        ("old-won", "2025-01-05T00:00:00.000Z", Some("won")),
        ("new-open", "2026-11-30T00:00:00.000Z", None),
    ] {
        leads.push(Imported {
            lead: ingested(id, &format!("{id}@acme.io"), "google"),
            received_at: at.into(),
            status: status.map(str::to_owned),
        });
    }
    store
        .import(leads, "2026-12-01T00:00:00.000Z")
        .await
        .unwrap();
    assert_eq!(total(&store).await, 6);
    let erasure = store
        .erase(
            &Erase::Expired {
                before: "2026-06-01T00:00:00.000Z".into(),
            },
            "retention",
            "2026-12-01T00:00:00.000Z",
        )
        .await
        .unwrap();
    assert_eq!((erasure.leads, erasure.deliveries), (3, 3));
    assert_eq!(erasure.reason, "retention");
    let mut kept = Vec::new();
    for id in [
        "old-open",
        "old-rejected",
        "old-lost",
        "old-accepted",
        "old-won",
        "new-open",
    ] {
        if store.get(id).await.unwrap().is_some() {
            kept.push(id);
        }
    }
    assert_eq!(kept, ["old-accepted", "old-won", "new-open"]);
    assert_eq!(total(&store).await, 3);
    assert_eq!(store.erasures(5).await.unwrap(), [erasure]);
}

crate::on_both_stores!(
    a_person_is_exported_and_erased_with_everything_they_left,
    the_retention_period_deletes_only_what_sales_did_not_take,
);

const TOKEN: &str = "people-token";

/// A request on a fresh connection: the status and the whole response.
fn http(addr: &str, request: &str) -> (u16, String) {
    let mut stream = std::net::TcpStream::connect(addr).unwrap();
    stream
        .set_read_timeout(Some(Duration::from_secs(10)))
        .unwrap();
    stream.write_all(request.as_bytes()).unwrap();
    let mut response = String::new();
    stream.read_to_string(&mut response).unwrap();
    let status = response
        .split(' ')
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| panic!("no status in {response:?}"));
    (status, response)
}

fn get(addr: &str, path: &str) -> (u16, String) {
    http(
        addr,
        &format!(
            "GET {path} HTTP/1.1\r\nHost: {addr}\r\nAuthorization: Bearer {TOKEN}\r\nConnection: close\r\n\r\n"
        ),
    )
}

/// The erase button's post, from the inbox's own page unless `origin` says otherwise.
fn erase_form(addr: &str, email: &str, body: &str, origin: &str) -> (u16, String) {
    http(
        addr,
        &format!(
            "POST /inbox/people/{email}/erase HTTP/1.1\r\nHost: {addr}\r\nAuthorization: Bearer {TOKEN}\r\nOrigin: {origin}\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
            body.len()
        ),
    )
}

struct Stopped(std::process::Child);

impl Drop for Stopped {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

#[test]
fn the_inbox_exports_and_erases_a_person_and_the_file_keeps_nothing_of_them() {
    let dir = std::env::temp_dir().join(format!("bantam-people-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let db = dir.join("leads.db");
    let (child, addr) = common::start_collector(
        db.to_str().unwrap(),
        &[
            "--admin-token",
            TOKEN,
            "--forward-url",
            "http://127.0.0.1:9/never",
        ],
    );
    let _collector = Stopped(child);
    let email = "zoe.muller@example-corp.io";
    for id in ["zoe-1", "zoe-2"] {
        let lead = common::lead_json(
            "ledgerline-demo",
            id,
            &[("email", email), ("company", "Example Corp")],
            "",
        );
        assert_eq!(common::post_lead(&addr, id, &lead), Some(201));
    }
    let other = common::lead_json("ledgerline-demo", "kim-1", &[("email", "kim@acme.io")], "");
    assert_eq!(common::post_lead(&addr, "kim-1", &other), Some(201));

    // The export, as JSON and as a download.
    let (status, export) = get(&addr, "/v1/people/Zoe.Muller%40example-corp.io");
    assert_eq!(status, 200, "{export}");
    assert_eq!(export.matches("\"formId\":\"ledgerline-demo\"").count(), 2);
    assert!(!export.contains("kim@acme.io"));
    let (_, download) = get(&addr, "/v1/people/zoe.muller%40example-corp.io?download=1");
    assert!(download
        .to_lowercase()
        .contains("content-disposition: attachment; filename=\"bantam-person-"));
    let (status, bad) = get(&addr, "/v1/people/not-an-email");
    assert_eq!(status, 400, "{bad}");

    // The page lists the leads and offers the export and the erasure.
    let (status, page) = get(&addr, "/inbox/people/zoe.muller%40example-corp.io");
    assert_eq!(status, 200, "{page}");
    assert!(page.contains("/inbox/leads/zoe-1") && page.contains("/inbox/leads/zoe-2"));
    assert!(page.contains("Erase this person") && page.contains("?download=1"));
    // No inline script: the one script is the collector's local-time file (the page shows times).
    assert_eq!(
        page.matches("<script").count(),
        page.matches("<script src=\"/inbox/local-time.js\" defer></script>")
            .count(),
        "{page}"
    );

    // Refused: from another site's page, and without the box ticked.
    let (status, _) = erase_form(
        &addr,
        "zoe.muller%40example-corp.io",
        "confirm=yes",
        "https://evil.example",
    );
    assert_eq!(status, 403);
    let own = format!("http://{addr}");
    let (status, _) = erase_form(&addr, "zoe.muller%40example-corp.io", "", &own);
    assert_eq!(status, 400);
    let (_, export) = get(&addr, "/v1/people/zoe.muller%40example-corp.io");
    assert_eq!(
        export.matches("\"formId\":\"ledgerline-demo\"").count(),
        2,
        "nothing erased yet"
    );

    // Erased from the page: gone from the API, the page says so, the record names no email.
    let (status, response) = erase_form(&addr, "zoe.muller%40example-corp.io", "confirm=yes", &own);
    assert_eq!(status, 303, "{response}");
    assert!(response.contains("/inbox/people/zoe.muller%40example-corp.io?erased=2"));
    let (_, page) = get(&addr, "/inbox/people/zoe.muller%40example-corp.io?erased=2");
    assert!(page.contains("Erased.") && page.contains("Nothing is held about this person."));
    let (_, export) = get(&addr, "/v1/people/zoe.muller%40example-corp.io");
    assert!(export.contains("\"leads\":[]"), "{export}");
    let (_, records) = get(&addr, "/v1/erasures");
    assert!(records.contains(&email_digest(email)), "{records}");
    assert!(records.contains("\"leads\":2") && records.contains("\"deliveries\":2"));
    assert!(!records.to_lowercase().contains("zoe"));
    let (_, kim) = get(&addr, "/v1/people/kim%40acme.io");
    assert!(kim.contains("\"id\":\"kim-1\""));

    // Not even the database's free pages or its log keep the email (SQLite's secure delete).
    drop(_collector);
    let mut bytes = Vec::new();
    for entry in std::fs::read_dir(&dir).unwrap() {
        let path = entry.unwrap().path();
        if path.to_string_lossy().contains("leads.db") {
            bytes.extend(std::fs::read(&path).unwrap());
        }
    }
    assert!(!bytes.is_empty());
    let found = bytes
        .windows(email.len())
        .any(|w| w.eq_ignore_ascii_case(email.as_bytes()));
    assert!(!found, "the erased email is still in the database files");
    assert!(bytes.windows(11).any(|w| w == b"kim@acme.io"));
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn the_retention_flag_deletes_old_untaken_leads_at_start() {
    let dir = std::env::temp_dir().join(format!("bantam-retention-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let db = dir.join("leads.db");
    // Two leads, then one of them made old (a year ago) in SQL.
    {
        let (child, addr) =
            common::start_collector(db.to_str().unwrap(), &["--admin-token", TOKEN]);
        let _collector = Stopped(child);
        for id in ["old-1", "new-1"] {
            let lead = common::lead_json("ledgerline-demo", id, &[("email", "a@acme.io")], "");
            assert_eq!(common::post_lead(&addr, id, &lead), Some(201));
        }
    }
    rusqlite::Connection::open(&db)
        .unwrap()
        .execute_batch(
            "UPDATE leads SET received_at = '2025-01-01T00:00:00.000Z' WHERE id = 'old-1';",
        )
        .unwrap();
    let (child, addr) = common::start_collector(
        db.to_str().unwrap(),
        &["--admin-token", TOKEN, "--retention-days", "30"],
    );
    let _collector = Stopped(child);
    let started = Instant::now();
    loop {
        let (_, records) = get(&addr, "/v1/erasures");
        if records.contains("\"reason\":\"retention\"") {
            assert!(records.contains("\"leads\":1"), "{records}");
            break;
        }
        assert!(
            started.elapsed() < Duration::from_secs(20),
            "no retention pass: {records}"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    let (_, held) = get(&addr, "/v1/people/a%40acme.io");
    assert!(!held.contains("\"id\":\"old-1\""), "{held}");
    assert!(held.contains("\"id\":\"new-1\""), "{held}");
    let _ = std::fs::remove_dir_all(&dir);
}
