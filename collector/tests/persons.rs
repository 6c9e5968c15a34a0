//! People, not submissions (issue 13): one person per contact (their email, or the widget's
//! visitor id until an email is known), every lead linked to one, visitor people merged into
//! email people, an owner, sales feedback as a history, lead-source quality counted in people,
//! erasure of the person's rows, and the migration that makes people of existing leads; on
//! both stores.

mod common;

use bantam_collector::{Credit, Erase, Feedback, Filter, Imported, Ingested, Store, UNASSIGNED};
use common::TestDb;

/// A checked lead of the demo form: warm, from `source` (first touch the same), no email.
fn lead(id: &str) -> Ingested {
    Ingested {
        id: id.into(),
        form_id: "demo".into(),
        submitted_at: "2026-11-23T08:00:00.000Z".into(),
        email: None,
        company: None,
        utm: [Some("google".into()), Some("cpc".into()), None],
        best_grade: false,
        deliveries: Vec::new(),
        grade: "warm".into(),
        total: 50,
        client_total: 50,
        client_grade: "warm".into(),
        document: format!(r#"{{"id":"{id}","formId":"demo"}}"#),
        body_sha256: "aaa".into(),
        form_version: None,
        visitor_id: None,
        spam: false,
        first_utm: [Some("google".into()), Some("cpc".into()), None],
    }
}

fn with_email(mut lead: Ingested, email: &str) -> Ingested {
    lead.email = Some(email.into());
    lead
}

fn with_visitor(mut lead: Ingested, visitor: &str) -> Ingested {
    lead.visitor_id = Some(visitor.into());
    lead
}

fn hot(mut lead: Ingested) -> Ingested {
    lead.grade = "hot".into();
    lead.total = 85;
    lead.best_grade = true;
    lead
}

fn day(n: u32) -> String {
    format!("2026-11-{n:02}T08:00:00.000Z")
}

fn feedback(status: &str, at: &str) -> Feedback {
    Feedback {
        status: status.into(),
        reason: None,
        value: None,
        at: at.into(),
        by: "sam".into(),
        lead_id: None,
    }
}

async fn keys(store: &Store, filter: &Filter) -> Vec<String> {
    store
        .people(filter, 100, 0)
        .await
        .unwrap()
        .into_iter()
        .map(|p| p.key)
        .collect()
}

async fn people_are_made_and_every_lead_is_linked_to_one(db: TestDb) {
    let store = db.open().await;
    let first = store
        .insert(&with_email(lead("ann-1"), " Ann@Acme.io "), &day(1))
        .await
        .unwrap();
    assert_eq!(first.person, "ann@acme.io", "trimmed, lower case");
    let second = store
        .insert(&hot(with_email(lead("ann-2"), "ann@acme.io")), &day(8))
        .await
        .unwrap();
    assert_eq!(second.person, "ann@acme.io");
    store
        .insert(&with_email(lead("bo-1"), "bo@initech.com"), &day(2))
        .await
        .unwrap();
    let anonymous = store.insert(&lead("anon-1"), &day(3)).await.unwrap();
    assert_eq!(anonymous.person, "lead:anon-1");
    // A replay changes nothing.
    let replay = store
        .insert(&with_email(lead("ann-1"), "ann@acme.io"), &day(9))
        .await
        .unwrap();
    assert!(!replay.created);
    assert_eq!(replay.person, "ann@acme.io");

    assert_eq!(
        db.number("SELECT COUNT(*) FROM leads WHERE person_id IS NULL")
            .await,
        0
    );
    assert_eq!(db.number("SELECT COUNT(*) FROM persons").await, 3);
    assert_eq!(store.count_people(&Filter::default()).await.unwrap(), 3);
    assert_eq!(
        keys(&store, &Filter::default()).await,
        ["ann@acme.io", "lead:anon-1", "bo@initech.com"],
        "the most recently active first"
    );
    let ann = store.person_by_key("ann@acme.io").await.unwrap().unwrap();
    assert_eq!(ann.leads, 2);
    assert_eq!(
        (ann.grade.as_deref(), ann.total, ann.best),
        (Some("hot"), Some(85), true),
        "the latest grade and score"
    );
    assert_eq!(ann.first_at.as_deref(), Some(day(1).as_str()));
    assert_eq!(ann.last_at.as_deref(), Some(day(8).as_str()));
    assert_eq!(ann.last_lead.as_deref(), Some("ann-2"));
    let history: Vec<(String, String)> = store
        .person_leads("ann@acme.io")
        .await
        .unwrap()
        .into_iter()
        .map(|r| (r.id, r.grade))
        .collect();
    assert_eq!(
        history,
        [
            ("ann-1".into(), "warm".into()),
            ("ann-2".into(), "hot".into())
        ],
        "the grade history, oldest first"
    );
    let row = store.row("ann-1").await.unwrap().unwrap();
    assert_eq!(row.person.as_deref(), Some("ann@acme.io"));
    // The people list filters on the person's latest grade.
    let hot_only = Filter {
        grade: Some("hot".into()),
        ..Filter::default()
    };
    assert_eq!(keys(&store, &hot_only).await, ["ann@acme.io"]);
    let search = Filter {
        search: Some("INITECH".into()),
        ..Filter::default()
    };
    assert_eq!(keys(&store, &search).await, ["bo@initech.com"]);
}

async fn a_visitor_becomes_the_person_of_the_email_they_later_give(db: TestDb) {
    let store = db.open().await;
    // A visitor sends a lead without an email, is given an owner, then comes back with one.
    let anonymous = store
        .insert(&with_visitor(lead("v-1"), "vis-1"), &day(1))
        .await
        .unwrap();
    assert_eq!(anonymous.person, "visitor:vis-1");
    assert!(store.set_owner("visitor:vis-1", Some("sam")).await.unwrap());
    let named = store
        .insert(
            &hot(with_visitor(
                with_email(lead("v-2"), "ann@acme.io"),
                "vis-1",
            )),
            &day(8),
        )
        .await
        .unwrap();
    assert_eq!(named.person, "ann@acme.io");
    assert!(store
        .person_by_key("visitor:vis-1")
        .await
        .unwrap()
        .is_none());
    let ann = store.person_by_key("ann@acme.io").await.unwrap().unwrap();
    assert_eq!((ann.leads, ann.owner.as_deref()), (2, Some("sam")));
    // A later lead from the same browser without an email is still Ann's.
    let again = store
        .insert(&with_visitor(lead("v-3"), "vis-1"), &day(9))
        .await
        .unwrap();
    assert_eq!(again.person, "ann@acme.io");

    // Bo is known by email first; his browser's anonymous person, with its feedback, is
    // merged into him when a lead carries both.
    store
        .insert(&with_email(lead("bo-1"), "bo@initech.com"), &day(2))
        .await
        .unwrap();
    store
        .insert(&with_visitor(lead("bo-anon"), "vis-2"), &day(3))
        .await
        .unwrap();
    store
        .give_feedback("visitor:vis-2", &feedback("accepted", &day(4)))
        .await
        .unwrap()
        .unwrap();
    let merged = store
        .insert(
            &with_visitor(with_email(lead("bo-2"), "BO@initech.com"), "vis-2"),
            &day(5),
        )
        .await
        .unwrap();
    assert_eq!(merged.person, "bo@initech.com");
    assert!(store
        .person_by_key("visitor:vis-2")
        .await
        .unwrap()
        .is_none());
    let bo = store
        .person_by_key("bo@initech.com")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(bo.leads, 3);
    assert_eq!(
        bo.status.map(|(s, _)| s).as_deref(),
        Some("accepted"),
        "the anonymous person's feedback came along"
    );
    assert_eq!(store.feedback("bo@initech.com").await.unwrap().len(), 1);
    assert_eq!(db.number("SELECT COUNT(*) FROM persons").await, 2);
}

async fn feedback_is_a_history_and_the_latest_is_the_latest_leads_status(db: TestDb) {
    let store = db.open().await;
    store
        .insert(&with_email(lead("ann-1"), "ann@acme.io"), &day(1))
        .await
        .unwrap();
    store
        .insert(&hot(with_email(lead("ann-2"), "ann@acme.io")), &day(8))
        .await
        .unwrap();
    let accepted = store
        .give_feedback("ann@acme.io", &feedback("accepted", &day(10)))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        accepted.lead_id.as_deref(),
        Some("ann-2"),
        "her latest lead"
    );
    let won = Feedback {
        value: Some(12_500.0),
        ..feedback("won", &day(20))
    };
    store.give_feedback("ann@acme.io", &won).await.unwrap();
    let history = store.feedback("ann@acme.io").await.unwrap();
    assert_eq!(
        history
            .iter()
            .map(|f| (f.status.as_str(), f.value, f.by.as_str()))
            .collect::<Vec<_>>(),
        [("won", Some(12_500.0), "sam"), ("accepted", None, "sam")],
        "newest first, with value and who"
    );
    let ann = store.person_by_key("ann@acme.io").await.unwrap().unwrap();
    assert_eq!(ann.status, Some(("won".into(), day(20))));
    let latest = store.row("ann-2").await.unwrap().unwrap();
    assert_eq!(latest.status, Some(("won".into(), day(20))));
    // Learning reads outcomes per lead: it sees the person's outcome on her latest lead.
    let outcomes = store.outcomes("demo", None, 10).await.unwrap();
    assert_eq!(
        outcomes
            .iter()
            .map(|o| (o.id.as_str(), o.status.as_str()))
            .collect::<Vec<_>>(),
        [("ann-2", "won")]
    );
    // Feedback given on one lead (the old per-lead status) is its person's.
    assert!(store
        .lead_feedback("ann-1", &feedback("lost", &day(21)))
        .await
        .unwrap());
    let history = store.feedback("ann@acme.io").await.unwrap();
    assert_eq!(history.len(), 3);
    assert_eq!(history[0].lead_id.as_deref(), Some("ann-1"));
    let ann = store.person_by_key("ann@acme.io").await.unwrap().unwrap();
    assert_eq!(ann.status.map(|(s, _)| s).as_deref(), Some("lost"));
    assert!(!store
        .lead_feedback("nobody", &feedback("lost", &day(21)))
        .await
        .unwrap());
    assert!(store
        .give_feedback("nobody@x.io", &feedback("won", &day(21)))
        .await
        .unwrap()
        .is_none());
    // The status filter of the people list reads the person's latest feedback.
    let lost = Filter {
        status: Some("lost".into()),
        ..Filter::default()
    };
    assert_eq!(keys(&store, &lost).await, ["ann@acme.io"]);
    // An imported history's status is its person's feedback too.
    store
        .import(
            vec![Imported {
                lead: with_email(lead("cy-1"), "cy@globex.com"),
                received_at: day(2),
                status: Some("rejected".into()),
            }],
            &day(22),
        )
        .await
        .unwrap();
    let cy = store.feedback("cy@globex.com").await.unwrap();
    assert_eq!(
        cy.iter()
            .map(|f| (f.status.as_str(), f.by.as_str()))
            .collect::<Vec<_>>(),
        [("rejected", "import")]
    );
}

async fn source_quality_counts_people_without_spam_by_first_and_last_touch(db: TestDb) {
    let store = db.open().await;
    let from = |mut lead: Ingested, first: &str, last: &str| {
        lead.first_utm = [Some(first.into()), None, None];
        lead.utm = [Some(last.into()), None, None];
        lead
    };
    // Ann: found us on Google, came back twice through the newsletter (warm, then hot).
    store
        .insert(
            &from(
                with_email(lead("ann-1"), "ann@acme.io"),
                "google",
                "newsletter",
            ),
            &day(1),
        )
        .await
        .unwrap();
    store
        .insert(
            &hot(from(
                with_email(lead("ann-2"), "ann@acme.io"),
                "google",
                "newsletter",
            )),
            &day(8),
        )
        .await
        .unwrap();
    // Cy: Google both times, accepted and won.
    store
        .insert(
            &from(
                with_email(lead("cy-1"), "cy@globex.com"),
                "google",
                "google",
            ),
            &day(2),
        )
        .await
        .unwrap();
    for (status, at) in [("accepted", day(3)), ("won", day(4))] {
        store
            .give_feedback("cy@globex.com", &feedback(status, &at))
            .await
            .unwrap();
    }
    // A bot from Google, flagged as spam: not a person any source brought.
    let mut bot = from(with_email(lead("bot-1"), "bot@spam.io"), "google", "google");
    bot.spam = true;
    store.insert(&bot, &day(5)).await.unwrap();

    let rows = |credit| {
        let store = &store;
        async move {
            store
                .people_quality(&Filter::default(), credit)
                .await
                .unwrap()
                .into_iter()
                .map(|q| {
                    (
                        q.utm[0].clone().unwrap_or_default(),
                        q.people,
                        q.best,
                        q.accepted,
                        q.won,
                    )
                })
                .collect::<Vec<_>>()
        }
    };
    assert_eq!(
        rows(Credit::First).await,
        [("google".to_owned(), 2, 1, 1, 1)],
        "first touch: Ann and Cy came from Google; two leads of Ann count once; no bot"
    );
    assert_eq!(
        rows(Credit::Last).await,
        [
            ("google".to_owned(), 1, 0, 1, 1),
            ("newsletter".to_owned(), 1, 1, 0, 0)
        ],
        "last touch: Ann's latest visit came from the newsletter"
    );
    let google = store
        .people_quality(&Filter::default(), Credit::First)
        .await
        .unwrap()
        .remove(0);
    assert_eq!(google.hot_share(), Some(0.5));
    assert_eq!(google.acceptance_rate(), Some(1.0));
    assert_eq!(google.win_rate(), Some(1.0));
}

async fn people_are_filtered_by_owner_and_unassigned(db: TestDb) {
    let store = db.open().await;
    for (id, email, at) in [
        ("ann-1", "ann@acme.io", 1),
        ("ann-2", "ann@acme.io", 4),
        ("bo-1", "bo@initech.com", 2),
        ("cy-1", "cy@globex.com", 3),
    ] {
        store
            .insert(&with_email(lead(id), email), &day(at))
            .await
            .unwrap();
    }
    assert!(store.set_owner("ann@acme.io", Some("sam")).await.unwrap());
    assert!(store.set_owner("cy@globex.com", Some("kim")).await.unwrap());
    assert!(!store.set_owner("nobody@x.io", Some("sam")).await.unwrap());
    assert_eq!(
        store.owner("ann@acme.io").await.unwrap(),
        Some(Some("sam".into()))
    );
    assert_eq!(store.owner("bo@initech.com").await.unwrap(), Some(None));
    assert_eq!(store.owner("nobody@x.io").await.unwrap(), None);
    let owned = |owner: &str| Filter {
        owner: Some(owner.into()),
        ..Filter::default()
    };
    assert_eq!(keys(&store, &owned("sam")).await, ["ann@acme.io"]);
    assert_eq!(keys(&store, &owned(UNASSIGNED)).await, ["bo@initech.com"]);
    assert_eq!(store.count_people(&owned("kim")).await.unwrap(), 1);
    // The submissions view follows the same filter.
    let leads: Vec<String> = store
        .rows(&owned("sam"), 10, 0)
        .await
        .unwrap()
        .into_iter()
        .map(|r| r.id)
        .collect();
    assert_eq!(leads, ["ann-2", "ann-1"]);
    assert_eq!(store.count_matching(&owned("sam")).await.unwrap(), 2);
    // Cleared, Cy is unassigned again.
    assert!(store.set_owner("cy@globex.com", None).await.unwrap());
    assert_eq!(
        keys(&store, &owned(UNASSIGNED)).await,
        ["cy@globex.com", "bo@initech.com"]
    );
}

async fn erasing_a_person_deletes_their_person_row_and_feedback(db: TestDb) {
    let store = db.open().await;
    // Ann's browser sent one lead before she gave her email.
    store
        .insert(&with_visitor(lead("ann-0"), "vis-ann"), &day(1))
        .await
        .unwrap();
    store
        .insert(
            &with_visitor(with_email(lead("ann-1"), "ann@acme.io"), "vis-ann"),
            &day(2),
        )
        .await
        .unwrap();
    store
        .give_feedback("ann@acme.io", &feedback("accepted", &day(3)))
        .await
        .unwrap();
    store
        .insert(&with_email(lead("bo-1"), "bo@initech.com"), &day(2))
        .await
        .unwrap();
    store
        .give_feedback("bo@initech.com", &feedback("rejected", &day(3)))
        .await
        .unwrap();
    let erasure = store
        .erase(
            &Erase::Person {
                email: "ANN@acme.io".into(),
            },
            "admin",
            &day(20),
        )
        .await
        .unwrap();
    assert_eq!(erasure.leads, 2, "her lead without an email too");
    for sql in [
        "SELECT COUNT(*) FROM persons WHERE key = 'ann@acme.io' OR visitor_id = 'vis-ann'",
        "SELECT COUNT(*) FROM leads WHERE id LIKE 'ann-%'",
        "SELECT COUNT(*) FROM feedback WHERE lead_id LIKE 'ann-%'",
    ] {
        assert_eq!(db.number(sql).await, 0, "{sql}");
    }
    assert_eq!(db.number("SELECT COUNT(*) FROM erasures").await, 1);
    assert_eq!(db.number("SELECT COUNT(*) FROM feedback").await, 1, "Bo's");
    assert_eq!(keys(&store, &Filter::default()).await, ["bo@initech.com"]);
    // The retention period takes Bo's rejected lead, and with it his person and feedback.
    store
        .erase(&Erase::Expired { before: day(10) }, "retention", &day(20))
        .await
        .unwrap();
    assert_eq!(db.number("SELECT COUNT(*) FROM persons").await, 0);
    assert_eq!(db.number("SELECT COUNT(*) FROM feedback").await, 0);
}

/// A database from before people (schema 11): its leads become people, by email in any case
/// or one each without, their sales status becomes feedback, and spam and first touch are read
/// from the stored documents.
/// Takes the database back to schema version 11: before people (migration 12), the outbox per
/// destination (13), users (14) and the erasure record's rename (15).
async fn back_to_version_11(db: &TestDb) {
    let version = if db.is_postgres() {
        "UPDATE schema_version SET version = 11"
    } else {
        "PRAGMA user_version = 11"
    };
    for sql in [
        "DROP TABLE persons",
        "DROP TABLE feedback",
        "DROP INDEX leads_person",
        "DROP INDEX leads_person_latest",
        "DROP INDEX leads_person_earliest",
        "DROP INDEX leads_person_company",
        "ALTER TABLE leads DROP COLUMN person_id",
        "ALTER TABLE leads DROP COLUMN spam",
        "ALTER TABLE leads DROP COLUMN first_source",
        "ALTER TABLE leads DROP COLUMN first_medium",
        "ALTER TABLE leads DROP COLUMN first_campaign",
        // Migration 13's outbox per destination, back to the one forward outbox of before.
        "DROP TABLE deliveries",
        "DROP TABLE rotations",
        "CREATE TABLE forwards (lead_id TEXT PRIMARY KEY REFERENCES leads (id),
            attempts INTEGER NOT NULL DEFAULT 0, next_at BIGINT NOT NULL,
            state TEXT NOT NULL DEFAULT 'pending', last_error TEXT, status_code INTEGER,
            delivered_at TEXT, claimed_until BIGINT NOT NULL DEFAULT 0)",
        // Migration 14's users, sessions and audit log.
        "DROP TABLE sessions",
        "DROP TABLE users",
        "DROP TABLE audit",
        // Migration 15's rename of the erasure record's count.
        "ALTER TABLE erasures RENAME COLUMN deliveries TO forwards",
        version,
    ] {
        db.execute(sql).await;
    }
}

async fn existing_leads_become_people_when_the_database_is_migrated(db: TestDb) {
    let doc = |id: &str, first: &str, spam: bool| {
        format!(
            r#"{{"id":"{id}","formId":"demo","spam":{{"flagged":{spam},"reasons":[]}},"attribution":{{"firstTouch":{{"utm":{{"source":"{first}"}}}},"lastTouch":{{"utm":{{}}}}}}}}"#
        )
    };
    {
        let store = db.open().await;
        let mut leads = [
            with_email(lead("ann-1"), "Ann@Acme.io"),
            hot(with_email(lead("ann-2"), "ann@acme.io")),
            with_email(lead("bot-1"), "bot@spam.io"),
            lead("anon-1"),
        ];
        for (n, l) in leads.iter_mut().enumerate() {
            l.document = doc(&l.id, "linkedin", l.id == "bot-1");
            store.insert(l, &day(n as u32 + 1)).await.unwrap();
        }
        store.set_status("ann-2", "won", &day(9)).await.unwrap();
    }
    back_to_version_11(&db).await;
    let store = db.open().await;
    assert_eq!(
        db.number("SELECT COUNT(*) FROM leads WHERE person_id IS NULL")
            .await,
        0
    );
    assert_eq!(
        keys(&store, &Filter::default()).await,
        ["lead:anon-1", "bot@spam.io", "ann@acme.io"]
    );
    let ann = store.person_by_key("ann@acme.io").await.unwrap().unwrap();
    assert_eq!((ann.leads, ann.grade.as_deref()), (2, Some("hot")));
    assert_eq!(ann.status, Some(("won".into(), day(9))));
    assert_eq!(ann.first_utm[0].as_deref(), Some("linkedin"));
    assert_eq!(store.feedback("ann@acme.io").await.unwrap().len(), 1);
    assert!(
        store
            .person_by_key("bot@spam.io")
            .await
            .unwrap()
            .unwrap()
            .spam
    );
    let quality = store
        .people_quality(&Filter::default(), Credit::First)
        .await
        .unwrap();
    assert_eq!(
        quality
            .iter()
            .map(|q| (q.utm[0].as_deref(), q.people, q.won))
            .collect::<Vec<_>>(),
        [(Some("linkedin"), 2, 1)],
        "Ann and the anonymous lead; not the bot"
    );
}

/// The people of `key`'s leads, by id.
async fn lead_ids(store: &Store, key: &str) -> Vec<String> {
    let mut ids: Vec<String> = store
        .person_leads(key)
        .await
        .unwrap()
        .into_iter()
        .map(|r| r.id)
        .collect();
    ids.sort();
    ids
}

async fn non_ascii_emails_have_the_collectors_key_on_both_stores_and_after_migrations(db: TestDb) {
    // The collector keys `ÄNN@Example.COM` as `Änn@example.com` (ASCII lower case): the same
    // person as `Änn@example.com`, another than `ann@example.com`.
    let key = bantam_collector::person_key(Some("ÄNN@Example.COM"), None, "x");
    assert_eq!(key, "Änn@example.com");
    {
        let store = db.open().await;
        store
            .insert(&with_email(lead("u-1"), "ÄNN@Example.COM"), &day(1))
            .await
            .unwrap();
        store
            .insert(&with_email(lead("u-2"), " Änn@example.com"), &day(2))
            .await
            .unwrap();
        store
            .insert(&with_email(lead("u-3"), "ann@example.com"), &day(3))
            .await
            .unwrap();
        assert_eq!(lead_ids(&store, &key).await, ["u-1", "u-2"]);
        assert_eq!(lead_ids(&store, "ann@example.com").await, ["u-3"]);
        // The export finds the person by any case of their email.
        let data = store.person("ÄNN@EXAMPLE.com").await.unwrap();
        assert_eq!(data.leads.len(), 2, "{:?}", data.leads);
    }
    // Existing leads become people the same way, whatever the database's locale: on
    // PostgreSQL the email column is given a UTF-8 collation, under which lower('Ä') is 'ä'.
    back_to_version_11(&db).await;
    if db.is_postgres() {
        db.execute(r#"ALTER TABLE leads ALTER COLUMN email TYPE TEXT COLLATE "C.utf8""#)
            .await;
    }
    let store = db.open().await;
    assert_eq!(lead_ids(&store, &key).await, ["u-1", "u-2"]);
    assert_eq!(lead_ids(&store, "ann@example.com").await, ["u-3"]);
    assert_eq!(
        store.person("ÄNN@EXAMPLE.com").await.unwrap().leads.len(),
        2
    );
    drop(store);
    if db.is_postgres() {
        // A database that migration 12 keyed under a UTF-8 locale (`änn@…`), with an erasure
        // recorded before the record's rename: version 15 gives the person the collector's key
        // and keeps the record.
        for sql in [
            "UPDATE persons SET key = 'änn@example.com', email = 'änn@example.com'
             WHERE key = 'Änn@example.com'",
            "ALTER TABLE erasures RENAME COLUMN deliveries TO forwards",
            "INSERT INTO erasures (at, reason, by_whom, subject, leads, forwards, quarantined)
             VALUES ('2026-11-01T00:00:00.000Z', 'person', 'admin', 'abc', 2, 3, 1)",
            "DROP INDEX leads_email",
            "CREATE INDEX leads_email ON leads (lower(email))",
            "UPDATE schema_version SET version = 14",
        ] {
            db.execute(sql).await;
        }
        let store = db.open().await;
        assert_eq!(lead_ids(&store, &key).await, ["u-1", "u-2"]);
        assert!(store
            .person_by_key("änn@example.com")
            .await
            .unwrap()
            .is_none());
        let old = store.erasures(10).await.unwrap();
        assert_eq!(
            (old[0].leads, old[0].deliveries, old[0].quarantined),
            (2, 3, 1)
        );
    } else {
        // On SQLite too, an erasure recorded before the rename is read as it was.
        for sql in [
            "ALTER TABLE erasures RENAME COLUMN deliveries TO forwards",
            "INSERT INTO erasures (at, reason, by_whom, subject, leads, forwards, quarantined)
             VALUES ('2026-11-01T00:00:00.000Z', 'person', 'admin', 'abc', 2, 3, 1)",
            "PRAGMA user_version = 14",
        ] {
            db.execute(sql).await;
        }
        let old = db.open().await.erasures(10).await.unwrap();
        assert_eq!(
            (old[0].leads, old[0].deliveries, old[0].quarantined),
            (2, 3, 1)
        );
    }
    // Erasure by any case of the email takes both leads and no other.
    let store = db.open().await;
    let erasure = store
        .erase(
            &Erase::Person {
                email: "änn@EXAMPLE.COM".replace('ä', "Ä"),
            },
            "admin",
            &day(20),
        )
        .await
        .unwrap();
    assert_eq!(erasure.leads, 2);
    assert_eq!(lead_ids(&store, "ann@example.com").await, ["u-3"]);
}

on_both_stores!(
    people_are_made_and_every_lead_is_linked_to_one,
    a_visitor_becomes_the_person_of_the_email_they_later_give,
    feedback_is_a_history_and_the_latest_is_the_latest_leads_status,
    source_quality_counts_people_without_spam_by_first_and_last_touch,
    people_are_filtered_by_owner_and_unassigned,
    erasing_a_person_deletes_their_person_row_and_feedback,
    existing_leads_become_people_when_the_database_is_migrated,
    non_ascii_emails_have_the_collectors_key_on_both_stores_and_after_migrations,
);
