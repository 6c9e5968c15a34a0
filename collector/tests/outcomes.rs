//! What learning from sales outcomes needs of the store, on both stores: the leads of a form
//! with their status in pages, oldest first, and a history import that stores all or nothing.

mod common;

use bantam_collector::{Imported, Ingested, LeadOutcome, Store};
use common::TestDb;

/// A checked lead of `form` with a document naming its id.
fn ingested(form: &str, id: &str) -> Ingested {
    Ingested {
        id: id.into(),
        form_id: form.into(),
        submitted_at: "2026-11-23T08:00:00.000Z".into(),
        email: Some(format!("{id}@acme.io")),
        company: None,
        utm: [None, None, None],
        best_grade: false,
        deliveries: Vec::new(),
        grade: "warm".into(),
        total: 50,
        client_total: 50,
        client_grade: "warm".into(),
        document: format!(r#"{{"id":"{id}"}}"#),
        body_sha256: "aaa".into(),
        form_version: None,
        visitor_id: None,
        spam: false,
        first_utm: [None, None, None],
    }
}

/// Every page of `form`'s outcomes, `limit` at a time.
async fn all_pages(store: &Store, form: &str, limit: u32) -> Vec<Vec<LeadOutcome>> {
    let mut pages = Vec::new();
    let mut after: Option<LeadOutcome> = None;
    loop {
        let page = store.outcomes(form, after.as_ref(), limit).await.unwrap();
        if page.is_empty() {
            return pages;
        }
        assert!(page.len() <= limit as usize);
        after = page.last().cloned();
        pages.push(page);
    }
}

async fn outcomes_come_in_pages_by_arrival_with_their_status(db: TestDb) {
    let store = db.open().await;
    // Arrival times out of insertion order, two leads sharing one time, a lead without a
    // status, and another form's lead.
    let leads = [
        ("demo", "c", "2026-01-03T00:00:00.000Z", Some("won")),
        ("demo", "a", "2026-01-01T00:00:00.000Z", Some("lost")),
        ("demo", "e", "2026-01-02T00:00:00.000Z", Some("accepted")),
        ("demo", "b", "2026-01-02T00:00:00.000Z", Some("rejected")),
        ("demo", "open", "2026-01-01T12:00:00.000Z", None),
        ("other", "x", "2026-01-01T06:00:00.000Z", Some("won")),
        ("demo", "d", "2026-01-04T00:00:00.000Z", Some("won")),
    ];
    for (form, id, at, status) in leads {
        store.insert(&ingested(form, id), at).await.unwrap();
        if let Some(status) = status {
            assert!(store
                .set_status(id, status, "2026-02-01T00:00:00.000Z")
                .await
                .unwrap());
        }
    }
    let pages = all_pages(&store, "demo", 2).await;
    assert_eq!(pages.len(), 3, "{pages:?}");
    let seen: Vec<(&str, &str, &str)> = pages
        .iter()
        .flatten()
        .map(|o| (o.id.as_str(), o.received_at.as_str(), o.status.as_str()))
        .collect();
    assert_eq!(
        seen,
        [
            ("a", "2026-01-01T00:00:00.000Z", "lost"),
            ("b", "2026-01-02T00:00:00.000Z", "rejected"),
            ("e", "2026-01-02T00:00:00.000Z", "accepted"),
            ("c", "2026-01-03T00:00:00.000Z", "won"),
            ("d", "2026-01-04T00:00:00.000Z", "won"),
        ]
    );
    assert_eq!(pages[0][0].document, r#"{"id":"a"}"#);
    let other = all_pages(&store, "other", 100).await;
    assert_eq!(other.len(), 1);
    assert_eq!(other[0][0].id, "x");
    assert!(all_pages(&store, "nobody", 100).await.is_empty());
}

async fn an_import_stores_every_lead_with_its_status_or_none(db: TestDb) {
    let store = db.open().await;
    store
        .insert(&ingested("demo", "known"), "2025-12-01T00:00:00.000Z")
        .await
        .unwrap();
    let imported = |id: &str, at: &str, status: Option<&str>| Imported {
        lead: ingested("demo", id),
        received_at: at.into(),
        status: status.map(str::to_owned),
    };
    let history = vec![
        imported("h1", "2025-01-01T00:00:00.000Z", Some("won")),
        imported("h2", "2025-01-02T00:00:00.000Z", None),
        imported("known", "2025-01-03T00:00:00.000Z", Some("lost")),
    ];
    let count = store
        .import(history, "2026-02-01T00:00:00.000Z")
        .await
        .unwrap();
    assert_eq!((count.created, count.existing, count.statuses), (2, 1, 2));
    let outcomes: Vec<(String, String, String)> = all_pages(&store, "demo", 10)
        .await
        .into_iter()
        .flatten()
        .map(|o| (o.id, o.received_at, o.status))
        .collect();
    assert_eq!(
        outcomes,
        [
            ("h1".into(), "2025-01-01T00:00:00.000Z".into(), "won".into()),
            // A lead stored before keeps its arrival and takes the history's status.
            (
                "known".into(),
                "2025-12-01T00:00:00.000Z".into(),
                "lost".into()
            ),
        ]
    );
    assert_eq!(store.count().await.unwrap(), 3);

    // The database refuses one lead of the next import: none of it is stored.
    if db.is_postgres() {
        db.execute(
            "CREATE FUNCTION refuse() RETURNS trigger AS $$ BEGIN RAISE EXCEPTION 'refused'; END $$ LANGUAGE plpgsql;
             CREATE TRIGGER refuse BEFORE INSERT ON leads FOR EACH ROW WHEN (NEW.id = 'bad') EXECUTE FUNCTION refuse();",
        )
        .await;
    } else {
        db.execute(
            "CREATE TRIGGER refuse BEFORE INSERT ON leads WHEN NEW.id = 'bad'
             BEGIN SELECT RAISE(ABORT, 'refused'); END;",
        )
        .await;
    }
    let history = vec![
        imported("h3", "2025-02-01T00:00:00.000Z", Some("won")),
        imported("h1", "2025-01-01T00:00:00.000Z", Some("lost")),
        imported("bad", "2025-02-02T00:00:00.000Z", Some("won")),
    ];
    let refused = store.import(history, "2026-02-02T00:00:00.000Z").await;
    assert!(refused.is_err(), "{refused:?}");
    assert_eq!(store.count().await.unwrap(), 3, "nothing of it stored");
    let h1 = store.row("h1").await.unwrap().unwrap();
    assert_eq!(
        h1.status.map(|(s, _)| s).as_deref(),
        Some("won"),
        "status kept"
    );
}

crate::on_both_stores!(
    outcomes_come_in_pages_by_arrival_with_their_status,
    an_import_stores_every_lead_with_its_status_or_none,
);
