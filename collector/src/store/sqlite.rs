//! The SQLite backend: one file, one connection, one collector process.
//!
//! rusqlite is synchronous: every call runs on tokio's blocking threads, holding the one
//! connection. Several processes on one file are not supported (the outbox claims nothing and
//! the connection is not shared); that is what the PostgreSQL backend is for.

use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use rusqlite::{params, Connection, OptionalExtension};
use serde_json::Value;

mod users;

use super::{
    after_sql, quality_from_counts, Attempted, Cursor, Daily, DeliveryState, DeliverySummary,
    Dialect, Due, Erase, Erasure, Filter, FormVersion, ImportCount, Imported, Ingested,
    LeadOutcome, PersonData, Published, Quarantined, Row, SourceQuality, StoreError, Stored,
    SEARCH_COUNT_CAP,
};
use super::{normal_email, person_key, Credit, Feedback, PeopleQuality, Person};

/// The statement that brings persons' rows up to date with their submissions (add a `WHERE`
/// on `persons`): latest and first submission (those not flagged as spam first, so a spam
/// submission never becomes a person's grade or touch) and company. Each part reads a few
/// index entries however many submissions a person has (`leads_person_*`).
macro_rules! touch_persons {
    () => {
        "UPDATE persons SET
            (last_lead, last_at, grade, total, best_grade, last_source, last_medium, last_campaign) = (
                SELECT id, received_at, grade, total, best_grade, utm_source, utm_medium, utm_campaign
                FROM leads WHERE leads.person_id = persons.id
                ORDER BY spam, received_at DESC, rowid DESC LIMIT 1),
            (first_at, first_source, first_medium, first_campaign) = (
                SELECT received_at, first_source, first_medium, first_campaign
                FROM leads WHERE leads.person_id = persons.id
                ORDER BY spam, received_at, rowid LIMIT 1),
            company = COALESCE((SELECT company FROM leads
                WHERE leads.person_id = persons.id AND company IS NOT NULL
                ORDER BY received_at DESC, rowid DESC LIMIT 1), company)"
    };
}

/// [`touch_persons`] with what reads all of a person's rows: the count of their submissions,
/// whether all are spam, and their latest feedback. For after submissions move between
/// persons or go, and after feedback; a new submission counts itself in (`link_person`).
macro_rules! refresh_persons {
    () => {
        concat!(
            touch_persons!(),
            ",
            (leads, spam) = (SELECT COUNT(*), COALESCE(MIN(spam), 0) FROM leads
                             WHERE leads.person_id = persons.id),
            (status, status_at) = (SELECT status, at FROM feedback
                WHERE feedback.person_id = persons.id ORDER BY at DESC, rowid DESC LIMIT 1)"
        )
    };
}

/// Schema migrations, applied in order at open; `PRAGMA user_version` counts those done.
const MIGRATIONS: [&str; 15] = [
    "CREATE TABLE IF NOT EXISTS leads (
        id           TEXT PRIMARY KEY,
        form_id      TEXT NOT NULL,
        received_at  TEXT NOT NULL,
        submitted_at TEXT NOT NULL,
        email        TEXT,
        grade        TEXT NOT NULL,
        total        INTEGER NOT NULL,
        document     TEXT NOT NULL
    );
    CREATE INDEX IF NOT EXISTS leads_received ON leads (received_at);",
    // The collector re-scores every lead: what the client claimed is kept beside it.
    "ALTER TABLE leads ADD COLUMN client_total INTEGER;
    ALTER TABLE leads ADD COLUMN client_grade TEXT;
    ALTER TABLE leads ADD COLUMN score_mismatch INTEGER NOT NULL DEFAULT 0;",
    // The sales inbox: filters, source quality and sales feedback.
    "ALTER TABLE leads ADD COLUMN company TEXT;
    ALTER TABLE leads ADD COLUMN utm_source TEXT;
    ALTER TABLE leads ADD COLUMN utm_medium TEXT;
    ALTER TABLE leads ADD COLUMN utm_campaign TEXT;
    ALTER TABLE leads ADD COLUMN best_grade INTEGER NOT NULL DEFAULT 0;
    ALTER TABLE leads ADD COLUMN status TEXT;
    ALTER TABLE leads ADD COLUMN status_at TEXT;
    CREATE INDEX IF NOT EXISTS leads_grade ON leads (grade);",
    // The forwarding outbox: one entry per stored lead while forwarding is on.
    "CREATE TABLE forwards (
        lead_id      TEXT PRIMARY KEY REFERENCES leads (id),
        attempts     INTEGER NOT NULL DEFAULT 0,
        next_at      INTEGER NOT NULL,
        state        TEXT NOT NULL DEFAULT 'pending',
        last_error   TEXT,
        status_code  INTEGER,
        delivered_at TEXT
    );
    CREATE INDEX forwards_due ON forwards (state, next_at);",
    // Leads the collector could not take as they came (unknown form, origin not allowed,
    // refused by a third-party endpoint): kept with the reason until an admin accepts them.
    "CREATE TABLE quarantine (
        id          TEXT PRIMARY KEY,
        form_id     TEXT NOT NULL,
        received_at TEXT NOT NULL,
        reason      TEXT NOT NULL,
        origin      TEXT,
        email       TEXT,
        document    TEXT NOT NULL,
        accepted_at TEXT
    );
    CREATE INDEX quarantine_received ON quarantine (received_at);",
    // Replays are compared with the first post: the hash of the body as received.
    "ALTER TABLE leads ADD COLUMN body_sha256 TEXT;",
    // Leads counted per day, form, grade and source, kept with every insert: the inbox's
    // totals and lead-source quality read this, not every lead (a million leads).
    "CREATE TABLE lead_counts (
        day          TEXT NOT NULL,
        form_id      TEXT NOT NULL,
        grade        TEXT NOT NULL,
        utm_source   TEXT NOT NULL,
        utm_medium   TEXT NOT NULL,
        utm_campaign TEXT NOT NULL,
        leads        INTEGER NOT NULL,
        best         INTEGER NOT NULL,
        total_sum    INTEGER NOT NULL,
        PRIMARY KEY (day, form_id, grade, utm_source, utm_medium, utm_campaign)
    );
    INSERT INTO lead_counts
        SELECT substr(received_at, 1, 10), form_id, grade, COALESCE(utm_source, ''),
               COALESCE(utm_medium, ''), COALESCE(utm_campaign, ''), COUNT(*),
               SUM(best_grade), SUM(total)
        FROM leads GROUP BY 1, 2, 3, 4, 5, 6;",
    // A page of one grade or one form, newest first, reads its rows in order instead of
    // sorting every lead of that grade (1.2 s for "hot" among a million leads).
    "DROP INDEX IF EXISTS leads_grade;
    CREATE INDEX leads_grade_received ON leads (grade, received_at);
    CREATE INDEX leads_form_received ON leads (form_id, received_at);",
    // Every published version of each form's config, and the version each lead was scored
    // with (NULL for leads stored before).
    "CREATE TABLE form_versions (
        form_id      TEXT NOT NULL,
        version      INTEGER NOT NULL,
        config       TEXT NOT NULL,
        published_at TEXT NOT NULL,
        by_whom      TEXT NOT NULL,
        note         TEXT,
        PRIMARY KEY (form_id, version)
    );
    ALTER TABLE leads ADD COLUMN form_version INTEGER;",
    // Privacy: a person's leads are found by email in any case, and every erasure (a person's,
    // or the retention period's) leaves a record without the data it erased.
    "CREATE INDEX leads_email ON leads (lower(email));
    CREATE TABLE erasures (
        at          TEXT NOT NULL,
        reason      TEXT NOT NULL,
        by_whom     TEXT NOT NULL,
        subject     TEXT NOT NULL,
        leads       INTEGER NOT NULL,
        forwards    INTEGER NOT NULL,
        quarantined INTEGER NOT NULL
    );",
    // A page of one sales status reads its rows in order: "won" among a hundred thousand leads
    // with none read every lead (243 ms; `scripts/dev bench-scale`).
    "CREATE INDEX leads_status_received ON leads (status, received_at);",
    // People: one row per contact (see `super::person_key`), every lead linked to one; the
    // feedback sales gives a person, kept as a history; what the people list shows of a person
    // kept on its row (latest grade, first and last touch, latest feedback). Existing leads
    // become people by email (any case), and one person each where they have none.
    concat!(
        "ALTER TABLE leads ADD COLUMN person_id INTEGER;
    ALTER TABLE leads ADD COLUMN spam INTEGER NOT NULL DEFAULT 0;
    ALTER TABLE leads ADD COLUMN first_source TEXT;
    ALTER TABLE leads ADD COLUMN first_medium TEXT;
    ALTER TABLE leads ADD COLUMN first_campaign TEXT;
    UPDATE leads SET spam = COALESCE(json_extract(document, '$.spam.flagged'), 0),
        (first_source, first_medium, first_campaign) = (
            CASE WHEN json_type(document, '$.attribution') = 'object'
                 THEN json_extract(document, '$.attribution.firstTouch.utm.source') ELSE utm_source END,
            CASE WHEN json_type(document, '$.attribution') = 'object'
                 THEN json_extract(document, '$.attribution.firstTouch.utm.medium') ELSE utm_medium END,
            CASE WHEN json_type(document, '$.attribution') = 'object'
                 THEN json_extract(document, '$.attribution.firstTouch.utm.campaign') ELSE utm_campaign END);
    CREATE TABLE persons (
        id             INTEGER PRIMARY KEY,
        key            TEXT NOT NULL UNIQUE,
        email          TEXT,
        visitor_id     TEXT,
        owner          TEXT,
        company        TEXT,
        first_at       TEXT,
        last_at        TEXT,
        last_lead      TEXT,
        grade          TEXT,
        total          INTEGER,
        best_grade     INTEGER,
        leads          INTEGER NOT NULL DEFAULT 0,
        spam           INTEGER NOT NULL DEFAULT 0,
        first_source   TEXT,
        first_medium   TEXT,
        first_campaign TEXT,
        last_source    TEXT,
        last_medium    TEXT,
        last_campaign  TEXT,
        status         TEXT,
        status_at      TEXT
    );
    CREATE INDEX persons_last ON persons (last_at);
    CREATE INDEX persons_visitor ON persons (visitor_id);
    CREATE INDEX persons_owner ON persons (owner, last_at);
    CREATE TABLE feedback (
        person_id INTEGER NOT NULL,
        at        TEXT NOT NULL,
        status    TEXT NOT NULL,
        reason    TEXT,
        value     REAL,
        by_whom   TEXT NOT NULL,
        lead_id   TEXT
    );
    CREATE INDEX feedback_person ON feedback (person_id, at);
    INSERT INTO persons (key, email)
        SELECT lower(trim(email)), lower(trim(email)) FROM leads
        WHERE trim(COALESCE(email, '')) <> '' GROUP BY lower(trim(email));
    INSERT INTO persons (key) SELECT 'lead:' || id FROM leads WHERE trim(COALESCE(email, '')) = '';
    UPDATE leads SET person_id = (SELECT id FROM persons WHERE key =
        CASE WHEN trim(COALESCE(leads.email, '')) <> '' THEN lower(trim(leads.email))
             ELSE 'lead:' || leads.id END);
    CREATE INDEX leads_person ON leads (person_id, received_at);
    -- A person's latest and earliest submission (spam last) in a few steps however many they
    -- sent: without these, each submission re-sorted all of its person's (10,000 submissions
    -- of one email took minutes to store).
    CREATE INDEX leads_person_latest ON leads (person_id, spam, received_at DESC);
    CREATE INDEX leads_person_earliest ON leads (person_id, spam, received_at);
    CREATE INDEX leads_person_company ON leads (person_id, received_at) WHERE company IS NOT NULL;
    INSERT INTO feedback (person_id, at, status, by_whom, lead_id)
        SELECT person_id, COALESCE(status_at, received_at), status, 'admin', id FROM leads
        WHERE status IS NOT NULL ORDER BY status_at;
    ",
        refresh_persons!(),
        ";"
    ),
    // One outbox per destination: a lead enters the outbox of every destination its routes
    // pick, each with its own attempts, backoff, state and claim. The one forward outbox's
    // entries become the `forward` destination's (the `--forward-*` flags). `rotations` counts
    // each form's turns of round-robin owners.
    "CREATE TABLE deliveries (
        lead_id       TEXT NOT NULL REFERENCES leads (id),
        destination   TEXT NOT NULL,
        attempts      INTEGER NOT NULL DEFAULT 0,
        next_at       INTEGER NOT NULL,
        state         TEXT NOT NULL DEFAULT 'pending',
        last_error    TEXT,
        status_code   INTEGER,
        delivered_at  TEXT,
        claimed_until INTEGER NOT NULL DEFAULT 0,
        PRIMARY KEY (lead_id, destination)
    );
    CREATE INDEX deliveries_due ON deliveries (destination, state, next_at);
    CREATE TABLE rotations (
        form_id TEXT PRIMARY KEY,
        turns   INTEGER NOT NULL
    );
    INSERT INTO deliveries (lead_id, destination, attempts, next_at, state, last_error,
                            status_code, delivered_at)
        SELECT lead_id, 'forward', attempts, next_at, state, last_error, status_code,
               delivered_at FROM forwards;
    DROP TABLE forwards;",
    // Named users, their sessions and the audit log (issue 13; migration 14, after people and routing).
    users::MIGRATION,
    // An erasure counts the deliveries it deleted (to every destination), not "forwards".
    "ALTER TABLE erasures RENAME COLUMN forwards TO deliveries;",
];

/// Adds one stored lead to the per-day summary (in the transaction that stores it).
const COUNT_LEAD: &str = "INSERT INTO lead_counts
        (day, form_id, grade, utm_source, utm_medium, utm_campaign, leads, best, total_sum)
    VALUES (substr(?1, 1, 10), ?2, ?3, COALESCE(?4, ''), COALESCE(?5, ''), COALESCE(?6, ''), 1, ?7, ?8)
    ON CONFLICT (day, form_id, grade, utm_source, utm_medium, utm_campaign)
    DO UPDATE SET leads = leads + 1, best = best + excluded.best,
                  total_sum = total_sum + excluded.total_sum";
/// A SQLite database file and its connection.
pub(super) struct Sqlite {
    conn: Arc<Mutex<Connection>>,
    path: std::path::PathBuf,
    /// Set when a write was refused because the file is read-only.
    read_only: Arc<AtomicBool>,
}

impl Sqlite {
    /// Opens (creating if needed) the database at `path`, in WAL mode with full sync, and
    /// applies pending migrations. Blocking.
    pub(super) fn open(path: &Path) -> Result<Sqlite, StoreError> {
        let open = || -> Result<Result<Connection, StoreError>, rusqlite::Error> {
            let conn = reopen(path)?;
            let done: usize = conn.query_row("PRAGMA user_version", [], |row| row.get(0))?;
            if done > MIGRATIONS.len() {
                return Ok(Err(StoreError::Newer {
                    found: i64::try_from(done).unwrap_or(i64::MAX),
                    known: MIGRATIONS.len(),
                }));
            }
            for (version, migration) in MIGRATIONS.iter().enumerate().skip(done) {
                let tx = conn.unchecked_transaction()?;
                tx.execute_batch(migration)?;
                tx.pragma_update(None, "user_version", version + 1)?;
                tx.commit()?;
            }
            Ok(Ok(conn))
        };
        let conn = open().map_err(|source| StoreError::Open {
            path: path.display().to_string(),
            source,
        })??;
        let read_only = conn.is_readonly("main").unwrap_or(false);
        if read_only {
            eprintln!(
                "bantam-collector: {} is read-only: leads cannot be stored (answered 500) until its permissions are fixed; the collector then carries on by itself",
                path.display()
            );
        }
        Ok(Sqlite {
            conn: Arc::new(Mutex::new(conn)),
            path: path.to_owned(),
            read_only: Arc::new(AtomicBool::new(read_only)),
        })
    }

    /// Runs `f` with the connection on a blocking thread.
    async fn run<T, F>(&self, f: F) -> Result<T, StoreError>
    where
        T: Send + 'static,
        F: FnOnce(&Connection) -> Result<T, StoreError> + Send + 'static,
    {
        let (conn, path, read_only) =
            (self.conn.clone(), self.path.clone(), self.read_only.clone());
        tokio::task::spawn_blocking(move || {
            let mut conn = conn.lock().map_err(|_| StoreError::Poisoned)?;
            // A file that was read-only when it was opened stays read-only to its connection
            // even once its permissions are fixed: after a refused write, each request opens
            // it again first, until it can be written, so no restart is needed.
            if read_only.load(Ordering::Relaxed) {
                if let Ok(fresh) = reopen(&path) {
                    if !fresh.is_readonly("main").unwrap_or(true) {
                        *conn = fresh;
                        read_only.store(false, Ordering::Relaxed);
                        eprintln!("bantam-collector: {} can be written again", path.display());
                    }
                }
            }
            let result = f(&conn);
            if result.as_ref().is_err_and(StoreError::is_read_only) {
                read_only.store(true, Ordering::Relaxed);
            }
            result
        })
        .await
        .map_err(|err| StoreError::Task(err.to_string()))?
    }

    pub(super) async fn insert(
        &self,
        lead: &Ingested,
        received_at: &str,
        reps: &[String],
    ) -> Result<Stored, StoreError> {
        let (lead, received_at, reps) = (lead.clone(), received_at.to_owned(), reps.to_vec());
        self.run(move |conn| {
            // One transaction: a stored lead, its deliveries and its owner's turn exist
            // together or not at all.
            let tx = conn.unchecked_transaction()?;
            let mut stored = insert_in(&tx, &lead, &received_at, None)?;
            stored.assigned = assign_in(&tx, &lead, &stored, &reps, &received_at)?;
            tx.commit()?;
            Ok(stored)
        })
        .await
    }

    pub(super) async fn list(&self, limit: u32, offset: u32) -> Result<Vec<Value>, StoreError> {
        self.run(move |conn| {
            let mut stmt = conn.prepare(
                "SELECT received_at, score_mismatch, client_total, client_grade, document, form_version
                 FROM leads ORDER BY received_at DESC, rowid DESC LIMIT ?1 OFFSET ?2",
            )?;
            let rows = stmt.query_map(params![limit, offset], |row| {
                Ok((
                    row.get::<_, String>(0)?,
                    row.get::<_, bool>(1)?,
                    row.get::<_, Option<u8>>(2)?,
                    row.get::<_, Option<String>>(3)?,
                    row.get::<_, String>(4)?,
                    row.get::<_, Option<i64>>(5)?,
                ))
            })?;
            let mut out = Vec::new();
            for row in rows {
                let (received_at, mismatch, client_total, client_grade, document, version) = row?;
                out.push(super::listed(
                    received_at,
                    mismatch,
                    client_total,
                    client_grade,
                    &document,
                    version,
                )?);
            }
            Ok(out)
        })
        .await
    }

    pub(super) async fn get(&self, id: &str) -> Result<Option<Value>, StoreError> {
        let id = id.to_owned();
        self.run(move |conn| {
            let document: Option<String> = conn
                .query_row(
                    "SELECT document FROM leads WHERE id = ?1",
                    params![id],
                    |row| row.get(0),
                )
                .optional()?;
            Ok(document.map(|d| serde_json::from_str(&d)).transpose()?)
        })
        .await
    }

    pub(super) async fn count(&self) -> Result<u64, StoreError> {
        self.run(|conn| Ok(conn.query_row("SELECT COUNT(*) FROM leads", [], |row| row.get(0))?))
            .await
    }

    pub(super) async fn quarantine(&self, lead: &Quarantined) -> Result<bool, StoreError> {
        let lead = lead.clone();
        self.run(move |conn| {
            let known: bool = conn.query_row(
                "SELECT EXISTS (SELECT 1 FROM leads WHERE id = ?1)",
                params![lead.id],
                |row| row.get(0),
            )?;
            if known {
                return Ok(false);
            }
            let created = conn.execute(
                "INSERT INTO quarantine (id, form_id, received_at, reason, origin, email, document)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7) ON CONFLICT (id) DO NOTHING",
                params![
                    lead.id,
                    lead.form_id,
                    lead.received_at,
                    lead.reason,
                    lead.origin,
                    lead.email,
                    lead.document
                ],
            )? == 1;
            Ok(created)
        })
        .await
    }

    pub(super) async fn quarantined(
        &self,
        limit: u32,
        offset: u32,
    ) -> Result<Vec<Quarantined>, StoreError> {
        self.run(move |conn| {
            let mut stmt = conn.prepare(
                "SELECT id, form_id, received_at, reason, origin, email, accepted_at, document
                 FROM quarantine WHERE accepted_at IS NULL
                 ORDER BY received_at DESC, rowid DESC LIMIT ?1 OFFSET ?2",
            )?;
            let rows = stmt.query_map(params![limit, offset], read_quarantined)?;
            Ok(rows.collect::<Result<_, _>>()?)
        })
        .await
    }

    pub(super) async fn quarantined_one(
        &self,
        id: &str,
    ) -> Result<Option<Quarantined>, StoreError> {
        let id = id.to_owned();
        self.run(move |conn| {
            Ok(conn
                .query_row(
                    "SELECT id, form_id, received_at, reason, origin, email, accepted_at, document
                     FROM quarantine WHERE id = ?1",
                    params![id],
                    read_quarantined,
                )
                .optional()?)
        })
        .await
    }

    pub(super) async fn quarantine_count(&self) -> Result<u64, StoreError> {
        self.run(|conn| {
            Ok(conn.query_row(
                "SELECT COUNT(*) FROM quarantine WHERE accepted_at IS NULL",
                [],
                |row| row.get(0),
            )?)
        })
        .await
    }

    pub(super) async fn accept(
        &self,
        lead: &Ingested,
        at: &str,
        reps: &[String],
    ) -> Result<Stored, StoreError> {
        let (lead, at, reps) = (lead.clone(), at.to_owned(), reps.to_vec());
        self.run(move |conn| {
            let tx = conn.unchecked_transaction()?;
            let mut stored = insert_in(&tx, &lead, &at, None)?;
            stored.assigned = assign_in(&tx, &lead, &stored, &reps, &at)?;
            tx.execute(
                "UPDATE quarantine SET accepted_at = ?2 WHERE id = ?1 AND accepted_at IS NULL",
                params![lead.id, at],
            )?;
            tx.commit()?;
            Ok(stored)
        })
        .await
    }

    /// Leads matching `filter`, newest first, after `cursor` when given (see
    /// [`super::Store::rows_after`]).
    pub(super) async fn rows_where(
        &self,
        filter: &Filter,
        cursor: Option<&Cursor>,
        limit: u32,
        offset: u32,
    ) -> Result<Vec<Row>, StoreError> {
        let (mut condition, mut params) = filter.sql(Dialect::Sqlite);
        if let Some(cursor) = cursor {
            params.push(cursor.received_at.clone());
            let after = after_sql(cursor, &format!("?{}", params.len()), "rowid");
            condition = format!("{condition} AND {after}");
        }
        self.run(move |conn| {
            let sql = format!(
                "SELECT {ROW_COLUMNS} FROM leads WHERE {condition}
                 ORDER BY received_at DESC, rowid DESC LIMIT {limit} OFFSET {offset}"
            );
            let mut stmt = conn.prepare(&sql)?;
            let rows = stmt.query_map(rusqlite::params_from_iter(params.iter()), read_row)?;
            Ok(rows.collect::<Result<_, _>>()?)
        })
        .await
    }

    pub(super) async fn count_matching(&self, filter: &Filter) -> Result<u64, StoreError> {
        if let Some((condition, params)) = filter.counts_sql(Dialect::Sqlite) {
            return self
                .run(move |conn| {
                    let sql = format!(
                        "SELECT COALESCE(SUM(leads), 0) FROM lead_counts WHERE {condition}"
                    );
                    Ok(
                        conn.query_row(&sql, rusqlite::params_from_iter(params.iter()), |r| {
                            r.get(0)
                        })?,
                    )
                })
                .await;
        }
        let (condition, params) = filter.sql(Dialect::Sqlite);
        self.run(move |conn| {
            let sql = format!(
                "SELECT COUNT(*) FROM (SELECT 1 FROM leads WHERE {condition} LIMIT {})",
                SEARCH_COUNT_CAP + 1
            );
            Ok(
                conn.query_row(&sql, rusqlite::params_from_iter(params.iter()), |r| {
                    r.get(0)
                })?,
            )
        })
        .await
    }

    pub(super) async fn row(&self, id: &str) -> Result<Option<Row>, StoreError> {
        let id = id.to_owned();
        self.run(move |conn| {
            Ok(conn
                .query_row(
                    &format!("SELECT {ROW_COLUMNS} FROM leads WHERE id = ?1"),
                    params![id],
                    read_row,
                )
                .optional()?)
        })
        .await
    }

    pub(super) async fn set_status(
        &self,
        id: &str,
        feedback: &Feedback,
    ) -> Result<bool, StoreError> {
        let (id, feedback) = (id.to_owned(), feedback.clone());
        self.run(move |conn| {
            let tx = conn.unchecked_transaction()?;
            let person: Option<Option<i64>> = tx
                .query_row(
                    "SELECT person_id FROM leads WHERE id = ?1",
                    params![id],
                    |r| r.get(0),
                )
                .optional()?;
            let Some(person) = person else {
                return Ok(false);
            };
            match person {
                Some(person) => {
                    let on_lead = Feedback {
                        lead_id: Some(id),
                        ..feedback
                    };
                    feedback_in(&tx, person, &on_lead)?;
                }
                None => {
                    tx.execute(
                        "UPDATE leads SET status = ?2, status_at = ?3 WHERE id = ?1",
                        params![id, feedback.status, feedback.at],
                    )?;
                }
            }
            tx.commit()?;
            Ok(true)
        })
        .await
    }

    pub(super) async fn person_by_key(&self, key: &str) -> Result<Option<Person>, StoreError> {
        let key = key.to_owned();
        self.run(move |conn| {
            Ok(conn
                .query_row(
                    &format!("SELECT {PERSON_COLUMNS} FROM persons WHERE key = ?1"),
                    params![key],
                    read_person,
                )
                .optional()?)
        })
        .await
    }

    pub(super) async fn people(
        &self,
        filter: &Filter,
        limit: u32,
        offset: u32,
    ) -> Result<Vec<Person>, StoreError> {
        let (condition, params) = filter.people_sql(Dialect::Sqlite);
        self.run(move |conn| {
            let sql = format!(
                "SELECT {PERSON_COLUMNS} FROM persons WHERE leads > 0 AND {condition}
                 ORDER BY last_at DESC, id DESC LIMIT {limit} OFFSET {offset}"
            );
            let mut stmt = conn.prepare(&sql)?;
            let rows = stmt.query_map(rusqlite::params_from_iter(params.iter()), read_person)?;
            Ok(rows.collect::<Result<_, _>>()?)
        })
        .await
    }

    pub(super) async fn count_people(&self, filter: &Filter) -> Result<u64, StoreError> {
        let (condition, params) = filter.people_sql(Dialect::Sqlite);
        self.run(move |conn| {
            let sql = format!("SELECT COUNT(*) FROM persons WHERE leads > 0 AND {condition}");
            Ok(
                conn.query_row(&sql, rusqlite::params_from_iter(params.iter()), |r| {
                    r.get(0)
                })?,
            )
        })
        .await
    }

    pub(super) async fn person_leads(&self, key: &str) -> Result<Vec<Row>, StoreError> {
        let key = key.to_owned();
        self.run(move |conn| {
            let mut stmt = conn.prepare(&format!(
                "SELECT {ROW_COLUMNS} FROM leads
                 WHERE person_id = (SELECT id FROM persons WHERE key = ?1)
                 ORDER BY received_at, rowid"
            ))?;
            let rows = stmt.query_map(params![key], read_row)?;
            Ok(rows.collect::<Result<_, _>>()?)
        })
        .await
    }

    pub(super) async fn set_owner(
        &self,
        key: &str,
        owner: Option<&str>,
    ) -> Result<bool, StoreError> {
        let (key, owner) = (key.to_owned(), owner.map(str::to_owned));
        self.run(move |conn| {
            Ok(conn.execute(
                "UPDATE persons SET owner = ?2 WHERE key = ?1",
                params![key, owner],
            )? == 1)
        })
        .await
    }

    pub(super) async fn give_feedback(
        &self,
        key: &str,
        feedback: &Feedback,
    ) -> Result<Option<Feedback>, StoreError> {
        let (key, feedback) = (key.to_owned(), feedback.clone());
        self.run(move |conn| {
            let tx = conn.unchecked_transaction()?;
            let person: Option<i64> = tx
                .query_row("SELECT id FROM persons WHERE key = ?1", params![key], |r| {
                    r.get(0)
                })
                .optional()?;
            let Some(person) = person else {
                return Ok(None);
            };
            let recorded = feedback_in(&tx, person, &feedback)?;
            tx.commit()?;
            Ok(Some(recorded))
        })
        .await
    }

    pub(super) async fn feedback(&self, key: &str) -> Result<Vec<Feedback>, StoreError> {
        let key = key.to_owned();
        self.run(move |conn| {
            let mut stmt = conn.prepare(
                "SELECT status, reason, value, at, by_whom, lead_id FROM feedback
                 WHERE person_id = (SELECT id FROM persons WHERE key = ?1)
                 ORDER BY at DESC, rowid DESC",
            )?;
            let rows = stmt.query_map(params![key], read_feedback)?;
            Ok(rows.collect::<Result<_, _>>()?)
        })
        .await
    }

    pub(super) async fn people_quality(
        &self,
        filter: &Filter,
        credit: Credit,
    ) -> Result<Vec<PeopleQuality>, StoreError> {
        let (condition, params) = filter.people_sql(Dialect::Sqlite);
        let columns = super::quality_columns(credit);
        self.run(move |conn| {
            let sql = format!(
                "SELECT {columns}, COUNT(*), SUM(COALESCE(best_grade, 0)),
                        SUM(status IS NOT NULL), SUM(status IN ('accepted', 'won', 'lost')),
                        SUM(status = 'won')
                 FROM persons WHERE leads > 0 AND spam = 0 AND {condition}
                 GROUP BY 1, 2, 3 ORDER BY COUNT(*) DESC, 1, 2, 3 LIMIT 50"
            );
            let mut stmt = conn.prepare(&sql)?;
            let rows = stmt.query_map(rusqlite::params_from_iter(params.iter()), |row| {
                let n = |i: usize| {
                    row.get::<_, Option<i64>>(i)
                        .map(|v| v.unwrap_or(0).unsigned_abs())
                };
                Ok(PeopleQuality {
                    utm: [row.get(0)?, row.get(1)?, row.get(2)?],
                    people: n(3)?,
                    best: n(4)?,
                    reviewed: n(5)?,
                    accepted: n(6)?,
                    won: n(7)?,
                })
            })?;
            Ok(rows.collect::<Result<_, _>>()?)
        })
        .await
    }

    pub(super) async fn source_quality(
        &self,
        filter: &Filter,
    ) -> Result<Vec<SourceQuality>, StoreError> {
        if let Some((condition, params)) = filter.counts_sql(Dialect::Sqlite) {
            return self
                .run(move |conn| {
                    let sql = format!(
                        "SELECT lower(utm_source), lower(utm_medium), lower(utm_campaign), SUM(leads),
                                SUM(best), SUM(total_sum)
                         FROM lead_counts WHERE {condition}
                         GROUP BY 1, 2, 3 ORDER BY SUM(leads) DESC, 1, 2, 3 LIMIT 50"
                    );
                    let mut stmt = conn.prepare(&sql)?;
                    let rows =
                        stmt.query_map(rusqlite::params_from_iter(params.iter()), |row| {
                            Ok(quality_from_counts(
                                [row.get(0)?, row.get(1)?, row.get(2)?],
                                row.get(3)?,
                                row.get(4)?,
                                row.get(5)?,
                            ))
                        })?;
                    Ok(rows.collect::<Result<_, _>>()?)
                })
                .await;
        }
        let (condition, params) = filter.sql(Dialect::Sqlite);
        self.run(move |conn| {
            let sql = format!(
                "SELECT lower(utm_source), lower(utm_medium), lower(utm_campaign), COUNT(*),
                        SUM(best_grade), AVG(total)
                 FROM leads WHERE {condition}
                 GROUP BY 1, 2, 3 ORDER BY COUNT(*) DESC, 1 LIMIT 50"
            );
            let mut stmt = conn.prepare(&sql)?;
            let rows = stmt.query_map(rusqlite::params_from_iter(params.iter()), |row| {
                Ok(SourceQuality {
                    utm: [row.get(0)?, row.get(1)?, row.get(2)?],
                    leads: row.get(3)?,
                    best: row.get(4)?,
                    average: row.get(5)?,
                })
            })?;
            Ok(rows.collect::<Result<_, _>>()?)
        })
        .await
    }

    pub(super) async fn daily(&self, filter: &Filter) -> Result<Vec<Daily>, StoreError> {
        let (sql, params) = match filter.counts_sql(Dialect::Sqlite) {
            Some((condition, params)) => (
                format!(
                    "SELECT day, SUM(leads), SUM(best) FROM lead_counts WHERE {condition}
                     GROUP BY day ORDER BY day"
                ),
                params,
            ),
            None => {
                let (condition, params) = filter.sql(Dialect::Sqlite);
                (
                    format!(
                        "SELECT substr(received_at, 1, 10), COUNT(*), SUM(best_grade) FROM leads
                         WHERE {condition} GROUP BY 1 ORDER BY 1"
                    ),
                    params,
                )
            }
        };
        self.run(move |conn| {
            let mut stmt = conn.prepare(&sql)?;
            let rows = stmt.query_map(rusqlite::params_from_iter(params.iter()), |row| {
                Ok(Daily {
                    day: row.get(0)?,
                    leads: row.get(1)?,
                    best: row.get(2)?,
                })
            })?;
            Ok(rows.collect::<Result<_, _>>()?)
        })
        .await
    }

    pub(super) async fn outcomes(
        &self,
        form_id: &str,
        after_at: &str,
        after_id: &str,
        limit: u32,
    ) -> Result<Vec<LeadOutcome>, StoreError> {
        let (form_id, after_at, after_id) =
            (form_id.to_owned(), after_at.to_owned(), after_id.to_owned());
        self.run(move |conn| {
            // `received_at >= ?2` is a range on the (form, time) index, so each page starts where
            // the last one ended instead of scanning the form's earlier leads again.
            let mut stmt = conn.prepare_cached(
                "SELECT id, received_at, status, document FROM leads
                 WHERE form_id = ?1 AND status IS NOT NULL
                   AND received_at >= ?2 AND (received_at > ?2 OR (received_at = ?2 AND id > ?3))
                 ORDER BY received_at, id LIMIT ?4",
            )?;
            let rows = stmt.query_map(params![form_id, after_at, after_id, limit], |row| {
                Ok(LeadOutcome {
                    id: row.get(0)?,
                    received_at: row.get(1)?,
                    status: row.get(2)?,
                    document: row.get(3)?,
                })
            })?;
            Ok(rows.collect::<Result<_, _>>()?)
        })
        .await
    }

    pub(super) async fn outcome_stamp(
        &self,
        form_id: &str,
    ) -> Result<(u64, Option<String>), StoreError> {
        let form_id = form_id.to_owned();
        self.run(move |conn| {
            Ok(conn.query_row(
                "SELECT COUNT(*), MAX(status_at) FROM leads
                 WHERE form_id = ?1 AND status IS NOT NULL",
                params![form_id],
                |row| Ok((row.get::<_, i64>(0)?.unsigned_abs(), row.get(1)?)),
            )?)
        })
        .await
    }

    pub(super) async fn person(&self, email: &str) -> Result<PersonData, StoreError> {
        let email = email.to_owned();
        self.run(move |conn| {
            let mut data = PersonData::default();
            let mut stmt = conn.prepare(
                "SELECT received_at, status, status_at,
                        (SELECT json_group_array(json_object('destination', destination, 'state', state))
                         FROM deliveries WHERE deliveries.lead_id = leads.id), document
                 FROM leads WHERE lower(email) = ?1 OR person_id IN (SELECT id FROM persons WHERE key = ?1) ORDER BY received_at, rowid",
            )?;
            let rows = stmt.query_map(params![email], |row| {
                Ok((
                    row.get::<_, String>(0)?,
                    row.get::<_, Option<String>>(1)?,
                    row.get::<_, Option<String>>(2)?,
                    row.get::<_, Option<String>>(3)?,
                    row.get::<_, String>(4)?,
                ))
            })?;
            for row in rows {
                let (received_at, status, status_at, deliveries, document) = row?;
                data.leads.push(serde_json::json!({
                    "receivedAt": received_at,
                    "status": status,
                    "statusAt": status_at,
                    "deliveries": serde_json::from_str::<Value>(deliveries.as_deref().unwrap_or("[]"))?,
                    "lead": serde_json::from_str::<Value>(&document)?,
                }));
            }
            let mut stmt = conn.prepare(
                "SELECT received_at, reason, document FROM quarantine
                 WHERE lower(email) = ?1 ORDER BY received_at, rowid",
            )?;
            let rows = stmt.query_map(params![email], |row| {
                Ok((
                    row.get::<_, String>(0)?,
                    row.get::<_, String>(1)?,
                    row.get::<_, String>(2)?,
                ))
            })?;
            for row in rows {
                let (received_at, reason, document) = row?;
                data.quarantined.push(serde_json::json!({
                    "receivedAt": received_at,
                    "reason": reason,
                    "lead": serde_json::from_str::<Value>(&document)?,
                }));
            }
            Ok(data)
        })
        .await
    }

    pub(super) async fn erase(
        &self,
        what: &Erase,
        by: &str,
        at: &str,
    ) -> Result<Erasure, StoreError> {
        let (condition, value, reason, subject) = what.terms();
        let condition = condition.replace("{}", "?1");
        let person = matches!(what, Erase::Person { .. });
        let mut erasure = Erasure {
            at: at.to_owned(),
            reason: reason.to_owned(),
            by: by.to_owned(),
            subject,
            ..Erasure::default()
        };
        self.run(move |conn| {
            // One transaction: the leads, their deliveries, their part of the summary and the
            // record go together or not at all.
            let tx = conn.unchecked_transaction()?;
            // The people whose leads go: afterwards their rows are brought up to date, or
            // deleted with their feedback when no lead of theirs is left.
            let mut people: Vec<i64> = {
                let mut stmt = tx.prepare(&format!(
                    "SELECT DISTINCT person_id FROM leads WHERE {condition} AND person_id IS NOT NULL"
                ))?;
                let rows = stmt.query_map(params![value], |r| r.get(0))?;
                rows.collect::<Result<_, _>>()?
            };
            if person {
                let named: Option<i64> = tx
                    .query_row("SELECT id FROM persons WHERE key = ?1", params![value], |r| r.get(0))
                    .optional()?;
                people.extend(named);
            }
            tx.execute(&format!("UPDATE lead_counts SET leads = lead_counts.leads - d.n,
                    best = lead_counts.best - d.b, total_sum = lead_counts.total_sum - d.t
                 FROM (SELECT substr(received_at, 1, 10) AS day, form_id, grade,
                              COALESCE(utm_source, '') AS s, COALESCE(utm_medium, '') AS m,
                              COALESCE(utm_campaign, '') AS c, COUNT(*) AS n,
                              SUM(best_grade) AS b, SUM(total) AS t
                       FROM leads WHERE {condition} GROUP BY 1, 2, 3, 4, 5, 6) AS d
                 WHERE lead_counts.day = d.day AND lead_counts.form_id = d.form_id
                   AND lead_counts.grade = d.grade AND lead_counts.utm_source = d.s
                   AND lead_counts.utm_medium = d.m AND lead_counts.utm_campaign = d.c"),
                params![value],
            )?;
            tx.execute("DELETE FROM lead_counts WHERE leads <= 0", [])?;
            let deliveries = tx.execute(
                &format!("DELETE FROM deliveries WHERE lead_id IN (SELECT id FROM leads WHERE {condition})"),
                params![value],
            )?;
            let leads = tx.execute(&format!("DELETE FROM leads WHERE {condition}"), params![value])?;
            for id in people {
                let left: bool = tx.query_row(
                    "SELECT EXISTS (SELECT 1 FROM leads WHERE person_id = ?1)",
                    params![id],
                    |r| r.get(0),
                )?;
                if left {
                    refresh(&tx, "id = ?1", id)?;
                } else {
                    tx.execute("DELETE FROM feedback WHERE person_id = ?1", params![id])?;
                    tx.execute("DELETE FROM persons WHERE id = ?1", params![id])?;
                }
            }
            let quarantined = if person {
                tx.execute("DELETE FROM quarantine WHERE lower(email) = ?1", params![value])?
            } else {
                0
            };
            erasure.leads = leads as u64;
            erasure.deliveries = deliveries as u64;
            erasure.quarantined = quarantined as u64;
            tx.execute(
                "INSERT INTO erasures (at, reason, by_whom, subject, leads, deliveries, quarantined)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
                params![
                    erasure.at,
                    erasure.reason,
                    erasure.by,
                    erasure.subject,
                    leads as i64,
                    deliveries as i64,
                    quarantined as i64
                ],
            )?;
            tx.commit()?;
            // The log still holds the pages as they were before: copied into the file (whose
            // deleted rows are zeroed) and emptied, so the erased data is nowhere on disk.
            // Should a reader hold it, it is emptied at a later checkpoint.
            let _ = conn.query_row("PRAGMA wal_checkpoint(TRUNCATE)", [], |_| Ok(()));
            Ok(erasure)
        })
        .await
    }

    pub(super) async fn erasures(&self, limit: u32) -> Result<Vec<Erasure>, StoreError> {
        self.run(move |conn| {
            let mut stmt = conn.prepare(
                "SELECT at, reason, by_whom, subject, leads, deliveries, quarantined
                 FROM erasures ORDER BY at DESC, rowid DESC LIMIT ?1",
            )?;
            let rows = stmt.query_map(params![limit], |row| {
                Ok(Erasure {
                    at: row.get(0)?,
                    reason: row.get(1)?,
                    by: row.get(2)?,
                    subject: row.get(3)?,
                    leads: row.get::<_, i64>(4)?.unsigned_abs(),
                    deliveries: row.get::<_, i64>(5)?.unsigned_abs(),
                    quarantined: row.get::<_, i64>(6)?.unsigned_abs(),
                })
            })?;
            Ok(rows.collect::<Result<_, _>>()?)
        })
        .await
    }

    pub(super) async fn import(
        &self,
        leads: Vec<Imported>,
        at: &str,
    ) -> Result<ImportCount, StoreError> {
        let at = at.to_owned();
        self.run(move |conn| {
            // One transaction: the whole history or, when anything fails, nothing.
            let tx = conn.unchecked_transaction()?;
            let mut count = ImportCount::default();
            // Each person's row is brought up to date once, at the end (see postgres.rs).
            let mut touched = Vec::new();
            for imported in &leads {
                let stored = insert_in(
                    &tx,
                    &imported.lead,
                    &imported.received_at,
                    Some(&mut touched),
                )?;
                if stored.created {
                    count.created += 1;
                } else {
                    count.existing += 1;
                }
                if let Some(status) = &imported.status {
                    tx.execute(
                        "UPDATE leads SET status = ?2, status_at = ?3 WHERE id = ?1",
                        params![imported.lead.id, status, at],
                    )?;
                    // The history's status is also its person's feedback.
                    let person: Option<i64> = tx.query_row(
                        "SELECT person_id FROM leads WHERE id = ?1",
                        params![imported.lead.id],
                        |r| r.get(0),
                    )?;
                    if let Some(person) = person {
                        let feedback = Feedback {
                            status: status.clone(),
                            reason: None,
                            value: None,
                            at: at.clone(),
                            by: "import".into(),
                            lead_id: Some(imported.lead.id.clone()),
                        };
                        feedback_in(&tx, person, &feedback)?;
                    }
                    count.statuses += 1;
                }
            }
            touched.sort_unstable();
            touched.dedup();
            for person in touched {
                refresh(&tx, "id = ?1", person)?;
            }
            tx.commit()?;
            Ok(count)
        })
        .await
    }

    pub(super) async fn form_versions(
        &self,
        form_id: &str,
    ) -> Result<Vec<FormVersion>, StoreError> {
        let form_id = form_id.to_owned();
        self.run(move |conn| {
            let mut stmt = conn.prepare(
                "SELECT form_id, version, config, published_at, by_whom, note FROM form_versions
                 WHERE form_id = ?1 ORDER BY version DESC",
            )?;
            let rows = stmt.query_map(params![form_id], read_version)?;
            Ok(rows.collect::<Result<_, _>>()?)
        })
        .await
    }

    pub(super) async fn form_version(
        &self,
        form_id: &str,
        version: Option<i64>,
    ) -> Result<Option<FormVersion>, StoreError> {
        let form_id = form_id.to_owned();
        self.run(move |conn| Ok(version_in(conn, &form_id, version)?))
            .await
    }

    pub(super) async fn add_form_version(
        &self,
        version: &FormVersion,
        based_on: Option<i64>,
    ) -> Result<Published, StoreError> {
        let version = version.clone();
        self.run(move |conn| {
            // One connection and one transaction: nothing comes between the check and the
            // insert.
            let tx = conn.unchecked_transaction()?;
            let latest = version_in(&tx, &version.form_id, None)?;
            let current = latest.as_ref().map_or(0, |v| v.version);
            if based_on.is_some_and(|b| b != current) {
                return Ok(Published::Stale(latest));
            }
            tx.execute(
                "INSERT INTO form_versions (form_id, version, config, published_at, by_whom, note)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
                params![
                    version.form_id,
                    current + 1,
                    version.config,
                    version.published_at,
                    version.by,
                    version.note
                ],
            )?;
            tx.commit()?;
            Ok(Published::Recorded(current + 1))
        })
        .await
    }

    pub(super) async fn drop_form_version(
        &self,
        form_id: &str,
        version: i64,
    ) -> Result<(), StoreError> {
        let form_id = form_id.to_owned();
        self.run(move |conn| {
            conn.execute(
                "DELETE FROM form_versions WHERE form_id = ?1 AND version = ?2",
                params![form_id, version],
            )?;
            Ok(())
        })
        .await
    }

    pub(super) async fn form_counts(
        &self,
        form_id: &str,
        day: &str,
    ) -> Result<(u64, u64), StoreError> {
        let (form_id, day) = (form_id.to_owned(), day.to_owned());
        self.run(move |conn| {
            Ok(conn.query_row(
                "SELECT COALESCE(SUM(leads), 0), COALESCE(SUM(best), 0) FROM lead_counts
                 WHERE form_id = ?1 AND day >= ?2",
                params![form_id, day],
                |row| Ok((row.get(0)?, row.get(1)?)),
            )?)
        })
        .await
    }

    /// Claims in one statement under the one connection, so two workers of this process never
    /// take the same entry.
    pub(super) async fn due_deliveries(
        &self,
        destination: &str,
        now_ms: i64,
        limit: u32,
        lease: Duration,
    ) -> Result<Vec<Due>, StoreError> {
        let destination = destination.to_owned();
        let lease_ms = i64::try_from(lease.as_millis()).unwrap_or(i64::MAX / 2);
        self.run(move |conn| {
            let tx = conn.unchecked_transaction()?;
            let claim_now = crate::forward::now_ms();
            let mut due = Vec::new();
            {
                let mut stmt = tx.prepare(
                    "UPDATE deliveries SET claimed_until = ?4 + ?5
                     WHERE rowid IN (
                         SELECT rowid FROM deliveries
                         WHERE destination = ?1 AND state = 'pending' AND next_at <= ?2
                           AND claimed_until <= ?4
                         ORDER BY next_at, rowid LIMIT ?3)
                     RETURNING lead_id, attempts, next_at,
                               (SELECT document FROM leads WHERE leads.id = deliveries.lead_id),
                               (SELECT rowid FROM leads WHERE leads.id = deliveries.lead_id),
                               (SELECT p.owner FROM leads l JOIN persons p ON p.id = l.person_id
                                WHERE l.id = deliveries.lead_id)",
                )?;
                let rows = stmt.query_map(
                    params![destination, now_ms, limit, claim_now, lease_ms],
                    |row| {
                        Ok((
                            row.get::<_, i64>(2)?,
                            row.get::<_, i64>(4)?,
                            Due {
                                lead_id: row.get(0)?,
                                destination: destination.clone(),
                                attempts: row.get(1)?,
                                body: row.get(3)?,
                                owner: row.get(5)?,
                            },
                        ))
                    },
                )?;
                for row in rows {
                    due.push(row?);
                }
            }
            tx.commit()?;
            // RETURNING keeps no order: oldest first.
            due.sort_by_key(|(next_at, rowid, _)| (*next_at, *rowid));
            Ok(due.into_iter().map(|(_, _, due)| due).collect())
        })
        .await
    }

    pub(super) async fn release_deliveries(
        &self,
        destination: &str,
        lead_ids: &[String],
    ) -> Result<(), StoreError> {
        let (destination, lead_ids) = (destination.to_owned(), lead_ids.to_vec());
        self.run(move |conn| {
            let tx = conn.unchecked_transaction()?;
            for id in &lead_ids {
                tx.execute(
                    "UPDATE deliveries SET claimed_until = 0
                     WHERE lead_id = ?1 AND destination = ?2 AND state = 'pending'",
                    params![id, destination],
                )?;
            }
            tx.commit()?;
            Ok(())
        })
        .await
    }

    pub(super) async fn delivered(
        &self,
        lead_id: &str,
        destination: &str,
        status: u16,
        at: &str,
    ) -> Result<(), StoreError> {
        let (lead_id, destination, at) =
            (lead_id.to_owned(), destination.to_owned(), at.to_owned());
        self.run(move |conn| {
            conn.execute(
                "UPDATE deliveries SET state = 'delivered', attempts = attempts + 1,
                 status_code = ?3, delivered_at = ?4, last_error = NULL, claimed_until = 0
                 WHERE lead_id = ?1 AND destination = ?2",
                params![lead_id, destination, status, at],
            )?;
            Ok(())
        })
        .await
    }

    pub(super) async fn delivery_failed(
        &self,
        lead_id: &str,
        destination: &str,
        attempts: u32,
        next_at_ms: i64,
        error: &str,
        failed: bool,
    ) -> Result<(), StoreError> {
        let (lead_id, destination, error) =
            (lead_id.to_owned(), destination.to_owned(), error.to_owned());
        self.run(move |conn| {
            conn.execute(
                "UPDATE deliveries SET attempts = ?3, next_at = ?4, last_error = ?5,
                 state = CASE WHEN ?6 THEN 'failed' ELSE 'pending' END, claimed_until = 0
                 WHERE lead_id = ?1 AND destination = ?2",
                params![lead_id, destination, attempts, next_at_ms, error, failed],
            )?;
            Ok(())
        })
        .await
    }

    pub(super) async fn record_deliveries(
        &self,
        destination: &str,
        outcomes: &[(String, Attempted)],
    ) -> Result<(), StoreError> {
        let (destination, outcomes) = (destination.to_owned(), outcomes.to_vec());
        self.run(move |conn| {
            let tx = conn.unchecked_transaction()?;
            for (lead_id, outcome) in &outcomes {
                match outcome {
                    Attempted::Delivered { status, at } => tx.execute(
                        "UPDATE deliveries SET state = 'delivered', attempts = attempts + 1,
                         status_code = ?3, delivered_at = ?4, last_error = NULL, claimed_until = 0
                         WHERE lead_id = ?1 AND destination = ?2",
                        params![lead_id, destination, status, at],
                    )?,
                    Attempted::Failed {
                        attempts,
                        next_at_ms,
                        error,
                        failed,
                    } => tx.execute(
                        "UPDATE deliveries SET attempts = ?3, next_at = ?4, last_error = ?5,
                         state = CASE WHEN ?6 THEN 'failed' ELSE 'pending' END, claimed_until = 0
                         WHERE lead_id = ?1 AND destination = ?2",
                        params![lead_id, destination, attempts, next_at_ms, error, failed],
                    )?,
                };
            }
            tx.commit()?;
            Ok(())
        })
        .await
    }

    pub(super) async fn deliveries(&self, lead_id: &str) -> Result<Vec<DeliveryState>, StoreError> {
        let lead_id = lead_id.to_owned();
        self.run(move |conn| {
            let mut stmt = conn.prepare(
                "SELECT destination, state, attempts, last_error, status_code, delivered_at, next_at
                 FROM deliveries WHERE lead_id = ?1 ORDER BY destination",
            )?;
            let rows = stmt.query_map(params![lead_id], |row| {
                Ok(DeliveryState {
                    destination: row.get(0)?,
                    state: row.get(1)?,
                    attempts: row.get(2)?,
                    last_error: row.get(3)?,
                    status_code: row.get(4)?,
                    delivered_at: row.get(5)?,
                    next_at_ms: row.get(6)?,
                })
            })?;
            Ok(rows.collect::<Result<_, _>>()?)
        })
        .await
    }
}

/// A connection to the database file with the settings every connection has (WAL, full sync,
/// secure delete, a busy timeout): at open, and again for a connection that found it read-only.
fn reopen(path: &Path) -> Result<Connection, rusqlite::Error> {
    let conn = Connection::open(path)?;
    conn.pragma_update(None, "journal_mode", "WAL")?;
    conn.pragma_update(None, "synchronous", "FULL")?;
    // Deleted rows are overwritten, so an erased person does not linger in free pages.
    conn.pragma_update(None, "secure_delete", "ON")?;
    conn.busy_timeout(Duration::from_secs(5))?;
    Ok(conn)
}

fn read_version(row: &rusqlite::Row<'_>) -> rusqlite::Result<FormVersion> {
    Ok(FormVersion {
        form_id: row.get(0)?,
        version: row.get(1)?,
        config: row.get(2)?,
        published_at: row.get(3)?,
        by: row.get(4)?,
        note: row.get(5)?,
    })
}

/// Version `version` of a form, or its latest for `None`.
fn version_in(
    conn: &Connection,
    form_id: &str,
    version: Option<i64>,
) -> rusqlite::Result<Option<FormVersion>> {
    conn.query_row(
        "SELECT form_id, version, config, published_at, by_whom, note FROM form_versions
         WHERE form_id = ?1 AND (?2 IS NULL OR version = ?2) ORDER BY version DESC LIMIT 1",
        params![form_id, version],
        read_version,
    )
    .optional()
}

fn read_quarantined(row: &rusqlite::Row<'_>) -> rusqlite::Result<Quarantined> {
    Ok(Quarantined {
        id: row.get(0)?,
        form_id: row.get(1)?,
        received_at: row.get(2)?,
        reason: row.get(3)?,
        origin: row.get(4)?,
        email: row.get(5)?,
        accepted_at: row.get(6)?,
        document: row.get(7)?,
    })
}

const ROW_COLUMNS: &str =
    "id, form_id, received_at, submitted_at, email, company, grade, total, client_total,
    score_mismatch, utm_source, utm_medium, utm_campaign, status, status_at, document,
    (SELECT COUNT(*) FROM deliveries d WHERE d.lead_id = leads.id),
    (SELECT COUNT(*) FROM deliveries d WHERE d.lead_id = leads.id AND d.state = 'delivered'),
    (SELECT COUNT(*) FROM deliveries d WHERE d.lead_id = leads.id AND d.state = 'failed'),
    rowid, form_version,
    (SELECT key FROM persons WHERE persons.id = leads.person_id)";

fn read_row(row: &rusqlite::Row<'_>) -> rusqlite::Result<Row> {
    let status: Option<String> = row.get(13)?;
    let status_at: Option<String> = row.get(14)?;
    Ok(Row {
        id: row.get(0)?,
        form_id: row.get(1)?,
        received_at: row.get(2)?,
        submitted_at: row.get(3)?,
        email: row.get(4)?,
        company: row.get(5)?,
        grade: row.get(6)?,
        total: row.get(7)?,
        client_total: row.get(8)?,
        score_mismatch: row.get(9)?,
        utm: [row.get(10)?, row.get(11)?, row.get(12)?],
        status: status.zip(status_at),
        deliveries: Some(DeliverySummary {
            total: row.get(16)?,
            delivered: row.get(17)?,
            failed: row.get(18)?,
        })
        .filter(|d| d.total > 0),
        document: row.get(15)?,
        position: row.get(19)?,
        form_version: row.get(20)?,
        person: row.get(21)?,
    })
}

const PERSON_COLUMNS: &str = "key, email, visitor_id, owner, company, first_at, last_at, last_lead,
    grade, total, best_grade, leads, spam, first_source, first_medium, first_campaign,
    last_source, last_medium, last_campaign, status, status_at";

fn read_person(row: &rusqlite::Row<'_>) -> rusqlite::Result<Person> {
    let status: Option<String> = row.get(19)?;
    let status_at: Option<String> = row.get(20)?;
    Ok(Person {
        key: row.get(0)?,
        email: row.get(1)?,
        visitor_id: row.get(2)?,
        owner: row.get(3)?,
        company: row.get(4)?,
        first_at: row.get(5)?,
        last_at: row.get(6)?,
        last_lead: row.get(7)?,
        grade: row.get(8)?,
        total: row.get(9)?,
        best: row.get::<_, Option<bool>>(10)?.unwrap_or(false),
        leads: row.get::<_, i64>(11)?.unsigned_abs(),
        spam: row.get(12)?,
        first_utm: [row.get(13)?, row.get(14)?, row.get(15)?],
        last_utm: [row.get(16)?, row.get(17)?, row.get(18)?],
        status: status.zip(status_at),
    })
}

fn read_feedback(row: &rusqlite::Row<'_>) -> rusqlite::Result<Feedback> {
    Ok(Feedback {
        status: row.get(0)?,
        reason: row.get(1)?,
        value: row.get(2)?,
        at: row.get(3)?,
        by: row.get(4)?,
        lead_id: row.get(5)?,
    })
}

/// Records `feedback` on the person `person` within `tx`: in their history, as their status,
/// and as the sales status of the lead it names (else their latest lead).
fn feedback_in(tx: &Connection, person: i64, feedback: &Feedback) -> rusqlite::Result<Feedback> {
    let lead_id: Option<String> = match &feedback.lead_id {
        Some(id) => Some(id.clone()),
        None => tx
            .query_row(
                "SELECT id FROM leads WHERE person_id = ?1
                 ORDER BY received_at DESC, rowid DESC LIMIT 1",
                params![person],
                |r| r.get(0),
            )
            .optional()?,
    };
    tx.execute(
        "INSERT INTO feedback (person_id, at, status, reason, value, by_whom, lead_id)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
        params![
            person,
            feedback.at,
            feedback.status,
            feedback.reason,
            feedback.value,
            feedback.by,
            lead_id
        ],
    )?;
    tx.execute(
        "UPDATE leads SET status = ?2, status_at = ?3 WHERE id = ?1",
        params![lead_id, feedback.status, feedback.at],
    )?;
    tx.execute(
        "UPDATE persons SET status = ?2, status_at = ?3 WHERE id = ?1",
        params![person, feedback.status, feedback.at],
    )?;
    Ok(Feedback {
        lead_id,
        ..feedback.clone()
    })
}

/// Stores `lead` (and its deliveries) within the caller's transaction `tx`, unless its id is
/// stored; returns what is stored. With `later`, the person's row is left for the caller to
/// bring up to date once (see `link_person`), and its id is added there.
fn insert_in(
    tx: &rusqlite::Transaction<'_>,
    lead: &Ingested,
    received_at: &str,
    later: Option<&mut Vec<i64>>,
) -> Result<Stored, StoreError> {
    let created = tx.execute(
        "INSERT INTO leads (id, form_id, received_at, submitted_at, email, grade, total,
                            client_total, client_grade, score_mismatch, document,
                            company, utm_source, utm_medium, utm_campaign, best_grade,
                            body_sha256, form_version, spam, first_source, first_medium,
                            first_campaign)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17, ?18,
                 ?19, ?20, ?21, ?22)
         ON CONFLICT (id) DO NOTHING",
        params![
            lead.id,
            lead.form_id,
            received_at,
            lead.submitted_at,
            lead.email,
            lead.grade,
            lead.total,
            lead.client_total,
            lead.client_grade,
            lead.score_mismatch(),
            lead.document,
            lead.company,
            lead.utm[0],
            lead.utm[1],
            lead.utm[2],
            lead.best_grade,
            lead.body_sha256,
            lead.form_version,
            lead.spam,
            lead.first_utm[0],
            lead.first_utm[1],
            lead.first_utm[2]
        ],
    )? == 1;
    if created {
        tx.execute(
            COUNT_LEAD,
            params![
                received_at,
                lead.form_id,
                lead.grade,
                lead.utm[0],
                lead.utm[1],
                lead.utm[2],
                i64::from(lead.best_grade),
                i64::from(lead.total)
            ],
        )?;
    }
    if created {
        for destination in &lead.deliveries {
            tx.execute(
                "INSERT INTO deliveries (lead_id, destination, next_at) VALUES (?1, ?2, 0)
                 ON CONFLICT DO NOTHING",
                params![lead.id, destination],
            )?;
        }
    }
    if created {
        link_person(tx, lead, later)?;
    }
    let (grade, total, received_at, score_mismatch, stored_hash, person) = tx.query_row(
        "SELECT grade, total, received_at, score_mismatch, body_sha256,
                (SELECT key FROM persons WHERE persons.id = leads.person_id)
         FROM leads WHERE id = ?1",
        params![lead.id],
        |row| {
            Ok((
                row.get(0)?,
                row.get(1)?,
                row.get(2)?,
                row.get(3)?,
                row.get::<_, Option<String>>(4)?,
                row.get::<_, Option<String>>(5)?,
            ))
        },
    )?;
    Ok(Stored {
        id: lead.id.clone(),
        created,
        grade,
        total,
        received_at,
        score_mismatch,
        same_body: Stored::same_body(created, stored_hash.as_deref(), &lead.body_sha256),
        person: person.unwrap_or_default(),
        assigned: None,
    })
}

/// Makes the next of `reps` the owner of the person of `lead` (just `stored` in `tx`) when the
/// lead is new, hot and not spam and the person has none, taking the form's next turn, and
/// records it in the audit log; returns the rep. One connection serves the file, so the
/// transaction alone keeps two inserts from taking one turn.
fn assign_in(
    tx: &Connection,
    lead: &Ingested,
    stored: &Stored,
    reps: &[String],
    at: &str,
) -> Result<Option<String>, StoreError> {
    if !super::takes_turn(lead, stored, reps) {
        return Ok(None);
    }
    let (person, owner): (i64, Option<String>) = tx.query_row(
        "SELECT p.id, p.owner FROM persons p JOIN leads l ON l.person_id = p.id WHERE l.id = ?1",
        params![lead.id],
        |r| Ok((r.get(0)?, r.get(1)?)),
    )?;
    if owner.is_some() {
        return Ok(None);
    }
    let turn: i64 = tx.query_row(
        "INSERT INTO rotations (form_id, turns) VALUES (?1, 1)
         ON CONFLICT (form_id) DO UPDATE SET turns = turns + 1 RETURNING turns",
        params![lead.form_id],
        |r| r.get(0),
    )?;
    let rep = &reps[usize::try_from(turn - 1).unwrap_or(0) % reps.len()];
    tx.execute(
        "UPDATE persons SET owner = ?2 WHERE id = ?1 AND owner IS NULL",
        params![person, rep],
    )?;
    tx.execute(
        "INSERT INTO audit (at, who, action, subject, detail) VALUES (?1, ?2, 'owner', ?3, ?4)",
        params![
            at,
            super::ROUND_ROBIN,
            super::audit_subject(&stored.person),
            rep
        ],
    )?;
    Ok(Some(rep.clone()))
}

/// Links a new lead to its person (see [`person_key`]): the person of its email; else the
/// person its visitor id was last seen with; else a new one. A person known only by this
/// lead's visitor id becomes (or is merged into) the person of its email. Then brings the
/// person's row up to date.
fn link_person(
    tx: &Connection,
    lead: &Ingested,
    later: Option<&mut Vec<i64>>,
) -> Result<(), StoreError> {
    let find = |key: &str| -> rusqlite::Result<Option<i64>> {
        tx.query_row("SELECT id FROM persons WHERE key = ?1", params![key], |r| {
            r.get(0)
        })
        .optional()
    };
    let create = |key: &str, email: Option<&str>| -> rusqlite::Result<i64> {
        tx.execute(
            "INSERT INTO persons (key, email) VALUES (?1, ?2) ON CONFLICT (key) DO NOTHING",
            params![key, email],
        )?;
        tx.query_row("SELECT id FROM persons WHERE key = ?1", params![key], |r| {
            r.get(0)
        })
    };
    let mut merged = false;
    let visitor = lead.visitor_id.as_deref();
    let visitor_key = person_key(None, visitor, &lead.id);
    let id = match normal_email(lead.email.as_deref()) {
        Some(email) => {
            let by_email = find(&email)?;
            let by_visitor = match visitor {
                Some(_) => find(&visitor_key)?,
                None => None,
            };
            match (by_email, by_visitor) {
                (Some(person), Some(anonymous)) if person != anonymous => {
                    merged = true;
                    for sql in [
                        "UPDATE leads SET person_id = ?1 WHERE person_id = ?2",
                        "UPDATE feedback SET person_id = ?1 WHERE person_id = ?2",
                        "UPDATE persons SET owner = COALESCE(owner,
                            (SELECT owner FROM persons WHERE id = ?2)) WHERE id = ?1",
                        "DELETE FROM persons WHERE id = ?2",
                    ] {
                        tx.execute(sql, params![person, anonymous])?;
                    }
                    person
                }
                (None, Some(anonymous)) => {
                    tx.execute(
                        "UPDATE persons SET key = ?2, email = ?2 WHERE id = ?1",
                        params![anonymous, email],
                    )?;
                    anonymous
                }
                (Some(person), _) => person,
                (None, None) => create(&email, Some(&email))?,
            }
        }
        None => {
            let seen = match visitor {
                Some(visitor) => tx
                    .query_row(
                        "SELECT id FROM persons WHERE visitor_id = ?1
                         ORDER BY last_at DESC, id DESC LIMIT 1",
                        params![visitor],
                        |r| r.get(0),
                    )
                    .optional()?,
                None => None,
            };
            match seen {
                Some(person) => person,
                None => create(&visitor_key, None)?,
            }
        }
    };
    if let Some(visitor) = visitor {
        tx.execute(
            "UPDATE persons SET visitor_id = ?2 WHERE id = ?1",
            params![id, visitor],
        )?;
    }
    tx.execute(
        "UPDATE leads SET person_id = ?2 WHERE id = ?1",
        params![lead.id, id],
    )?;
    if let Some(later) = later {
        later.push(id);
    } else if merged {
        refresh(tx, "id = ?1", id)?;
    } else {
        // The new submission counts itself in: a count of all of them would read every one,
        // for each (10,000 submissions of one email took minutes to store).
        tx.execute(
            concat!(
                touch_persons!(),
                ", leads = leads + 1, spam = CASE WHEN leads = 0 THEN ?2 ELSE MIN(spam, ?2) END
                 WHERE id = ?1"
            ),
            params![id, lead.spam],
        )?;
    }
    Ok(())
}

/// Brings the rows of the persons `condition` (on `persons`, with `?1`) names up to date.
fn refresh(tx: &Connection, condition: &str, value: i64) -> rusqlite::Result<usize> {
    tx.execute(
        &format!("{} WHERE {condition}", refresh_persons!()),
        params![value],
    )
}
