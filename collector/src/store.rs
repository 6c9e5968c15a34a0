//! SQLite storage of lead documents, idempotent on the lead id.

use std::path::Path;
use std::sync::Mutex;

use rusqlite::{params, Connection, OptionalExtension};
use serde_json::Value;

/// A storage failure (disk, corruption, a poisoned lock).
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// SQLite reported an error.
    #[error("database: {0}")]
    Sqlite(#[from] rusqlite::Error),
    /// A stored document is not valid JSON.
    #[error("stored document is not JSON: {0}")]
    Json(#[from] serde_json::Error),
    /// Another thread panicked while holding the connection.
    #[error("database lock poisoned")]
    Poisoned,
}

/// The result of storing a lead.
#[derive(Debug, Clone, PartialEq)]
pub struct Stored {
    /// The lead id.
    pub id: String,
    /// True when this request created the row; false for a replay.
    pub created: bool,
    /// The grade stored.
    pub grade: String,
    /// The total stored.
    pub total: u8,
    /// When the collector first received the lead.
    pub received_at: String,
    /// Whether the client's score differed from the collector's.
    pub score_mismatch: bool,
}

/// The lead database.
pub struct Store {
    conn: Mutex<Connection>,
}

/// Schema migrations, applied in order at open; `PRAGMA user_version` counts those done.
const MIGRATIONS: [&str; 5] = [
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
];

/// A forward that is due: the lead id, the attempts so far, the body to post.
#[derive(Debug, Clone, PartialEq)]
pub struct Due {
    /// The lead id (also the `Idempotency-Key`).
    pub lead_id: String,
    /// Attempts made so far.
    pub attempts: u32,
    /// The stored document.
    pub body: String,
}

/// Where a lead's forward stands, for the inbox.
#[derive(Debug, Clone, PartialEq)]
pub struct ForwardState {
    /// `pending`, `delivered` or `failed`.
    pub state: String,
    /// Attempts made.
    pub attempts: u32,
    /// The last error, if any.
    pub last_error: Option<String>,
}

/// Sales feedback on a lead.
pub const STATUSES: [&str; 4] = ["accepted", "rejected", "won", "lost"];

/// A checked lead, ready to store: the collector's own score, the client's, the document.
#[derive(Debug, Clone, PartialEq)]
pub struct Ingested {
    /// The lead id.
    pub id: String,
    /// The form id.
    pub form_id: String,
    /// When the visitor submitted (from the document).
    pub submitted_at: String,
    /// The contact email, if any.
    pub email: Option<String>,
    /// The contact company, if any.
    pub company: Option<String>,
    /// UTM source, medium and campaign of the page the lead came from.
    pub utm: [Option<String>; 3],
    /// Whether the grade is the form's best (hot, by default).
    pub best_grade: bool,
    /// Whether to put the lead in the forwarding outbox.
    pub forward: bool,
    /// The collector's grade.
    pub grade: String,
    /// The collector's total.
    pub total: u8,
    /// The total the client sent.
    pub client_total: u8,
    /// The grade the client sent.
    pub client_grade: String,
    /// The document as stored: as posted (unknown fields kept), with the collector's score.
    pub document: String,
}

impl Ingested {
    /// Whether the client's score differs from the collector's.
    pub fn score_mismatch(&self) -> bool {
        self.client_total != self.total || self.client_grade != self.grade
    }
}

impl Store {
    /// Opens (creating if needed) the database at `path`, in WAL mode with full sync (a lead
    /// is answered only once it is on disk), and applies pending migrations.
    ///
    /// # Errors
    /// [`StoreError::Sqlite`] when the file cannot be opened or the schema cannot be created.
    pub fn open(path: &Path) -> Result<Store, StoreError> {
        let conn = Connection::open(path)?;
        conn.pragma_update(None, "journal_mode", "WAL")?;
        conn.pragma_update(None, "synchronous", "FULL")?;
        conn.busy_timeout(std::time::Duration::from_secs(5))?;
        let done: usize = conn.query_row("PRAGMA user_version", [], |row| row.get(0))?;
        for (version, migration) in MIGRATIONS.iter().enumerate().skip(done) {
            let tx = conn.unchecked_transaction()?;
            tx.execute_batch(migration)?;
            tx.pragma_update(None, "user_version", version + 1)?;
            tx.commit()?;
        }
        Ok(Store {
            conn: Mutex::new(conn),
        })
    }

    /// Stores a lead unless one with its id exists; either way returns what is stored.
    ///
    /// # Errors
    /// [`StoreError`] when the database fails.
    pub fn insert(&self, lead: &Ingested, received_at: &str) -> Result<Stored, StoreError> {
        let conn = self.conn.lock().map_err(|_| StoreError::Poisoned)?;
        // One transaction: a stored lead and its forward exist together or not at all.
        let tx = conn.unchecked_transaction()?;
        let stored = insert_in(&tx, lead, received_at)?;
        tx.commit()?;
        Ok(stored)
    }

    /// The newest leads first, each as `{receivedAt, scoreMismatch, clientScore, lead}`.
    ///
    /// # Errors
    /// [`StoreError`] when the database fails or a row is corrupt.
    pub fn list(&self, limit: u32, offset: u32) -> Result<Vec<Value>, StoreError> {
        let conn = self.conn.lock().map_err(|_| StoreError::Poisoned)?;
        let mut stmt = conn.prepare(
            "SELECT received_at, score_mismatch, client_total, client_grade, document FROM leads
             ORDER BY received_at DESC, rowid DESC LIMIT ?1 OFFSET ?2",
        )?;
        let rows = stmt.query_map(params![limit, offset], |row| {
            Ok((
                row.get::<_, String>(0)?,
                row.get::<_, bool>(1)?,
                row.get::<_, Option<u8>>(2)?,
                row.get::<_, Option<String>>(3)?,
                row.get::<_, String>(4)?,
            ))
        })?;
        let mut out = Vec::new();
        for row in rows {
            let (received_at, mismatch, client_total, client_grade, document) = row?;
            let lead: Value = serde_json::from_str(&document)?;
            out.push(serde_json::json!({
                "receivedAt": received_at,
                "scoreMismatch": mismatch,
                "clientScore": { "total": client_total, "grade": client_grade },
                "lead": lead,
            }));
        }
        Ok(out)
    }

    /// The stored document of one lead.
    ///
    /// # Errors
    /// [`StoreError`] when the database fails or the row is corrupt.
    pub fn get(&self, id: &str) -> Result<Option<Value>, StoreError> {
        let conn = self.conn.lock().map_err(|_| StoreError::Poisoned)?;
        let document: Option<String> = conn
            .query_row(
                "SELECT document FROM leads WHERE id = ?1",
                params![id],
                |row| row.get(0),
            )
            .optional()?;
        Ok(document.map(|d| serde_json::from_str(&d)).transpose()?)
    }

    /// How many leads are stored.
    ///
    /// # Errors
    /// [`StoreError`] when the database fails.
    pub fn count(&self) -> Result<u64, StoreError> {
        let conn = self.conn.lock().map_err(|_| StoreError::Poisoned)?;
        Ok(conn.query_row("SELECT COUNT(*) FROM leads", [], |row| row.get(0))?)
    }
}

/// A lead held back, with why.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Quarantined {
    /// The lead id.
    pub id: String,
    /// The form id the lead names.
    pub form_id: String,
    /// When it first arrived.
    pub received_at: String,
    /// Why it was held back.
    pub reason: String,
    /// The page origin it was posted from, if the browser said.
    pub origin: Option<String>,
    /// The contact email, if the document has one.
    pub email: Option<String>,
    /// When an admin accepted it into the leads, if they have.
    pub accepted_at: Option<String>,
    /// The document as posted.
    #[serde(skip)]
    pub document: String,
}

impl Quarantined {
    /// A lead to hold back; its arrival time and origin are set by the handler.
    pub fn new(
        id: String,
        form_id: String,
        email: Option<String>,
        reason: String,
        document: String,
    ) -> Quarantined {
        Quarantined {
            id,
            form_id,
            received_at: String::new(),
            reason,
            origin: None,
            email,
            accepted_at: None,
            document,
        }
    }
}

impl Store {
    /// Holds a lead back with its reason, unless its id is stored already (as a lead or in
    /// quarantine). Returns whether this call created the row.
    ///
    /// # Errors
    /// [`StoreError`] when the database fails.
    pub fn quarantine(&self, lead: &Quarantined) -> Result<bool, StoreError> {
        let conn = self.conn.lock().map_err(|_| StoreError::Poisoned)?;
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
    }

    /// Quarantined leads not yet accepted, newest first.
    ///
    /// # Errors
    /// [`StoreError`] when the database fails.
    pub fn quarantined(&self, limit: u32, offset: u32) -> Result<Vec<Quarantined>, StoreError> {
        let conn = self.conn.lock().map_err(|_| StoreError::Poisoned)?;
        let mut stmt = conn.prepare(
            "SELECT id, form_id, received_at, reason, origin, email, accepted_at, document
             FROM quarantine WHERE accepted_at IS NULL
             ORDER BY received_at DESC, rowid DESC LIMIT ?1 OFFSET ?2",
        )?;
        let rows = stmt.query_map(params![limit, offset], read_quarantined)?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    /// One quarantined lead, accepted or not.
    ///
    /// # Errors
    /// [`StoreError`] when the database fails.
    pub fn quarantined_one(&self, id: &str) -> Result<Option<Quarantined>, StoreError> {
        let conn = self.conn.lock().map_err(|_| StoreError::Poisoned)?;
        Ok(conn
            .query_row(
                "SELECT id, form_id, received_at, reason, origin, email, accepted_at, document
                 FROM quarantine WHERE id = ?1",
                params![id],
                read_quarantined,
            )
            .optional()?)
    }

    /// How many quarantined leads wait for an admin.
    ///
    /// # Errors
    /// [`StoreError`] when the database fails.
    pub fn quarantine_count(&self) -> Result<u64, StoreError> {
        let conn = self.conn.lock().map_err(|_| StoreError::Poisoned)?;
        Ok(conn.query_row(
            "SELECT COUNT(*) FROM quarantine WHERE accepted_at IS NULL",
            [],
            |row| row.get(0),
        )?)
    }

    /// Stores a quarantined lead as a lead and marks it accepted, in one transaction.
    ///
    /// # Errors
    /// [`StoreError`] when the database fails.
    pub fn accept(&self, lead: &Ingested, at: &str) -> Result<Stored, StoreError> {
        let conn = self.conn.lock().map_err(|_| StoreError::Poisoned)?;
        let tx = conn.unchecked_transaction()?;
        let stored = insert_in(&tx, lead, at)?;
        tx.execute(
            "UPDATE quarantine SET accepted_at = ?2 WHERE id = ?1 AND accepted_at IS NULL",
            params![lead.id, at],
        )?;
        tx.commit()?;
        Ok(stored)
    }
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

/// What the inbox and the exports show of a lead: one row, filterable.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Filter {
    /// Only this grade.
    pub grade: Option<String>,
    /// Only this form.
    pub form: Option<String>,
    /// Only this UTM source (`(none)` for leads without one).
    pub source: Option<String>,
    /// Received on or after this date (`YYYY-MM-DD`).
    pub from: Option<String>,
    /// Received on or before this date (`YYYY-MM-DD`).
    pub to: Option<String>,
    /// Email or company containing this text.
    pub search: Option<String>,
}

impl Filter {
    /// The SQL condition and its parameters.
    fn sql(&self) -> (String, Vec<String>) {
        let mut clauses = vec!["1 = 1".to_owned()];
        let mut params: Vec<String> = Vec::new();
        // `{}` in the clause becomes the parameter's placeholder.
        let mut add = |clause: &str, value: String, clauses: &mut Vec<String>| {
            params.push(value);
            clauses.push(clause.replace("{}", &format!("?{}", params.len())));
        };
        if let Some(grade) = &self.grade {
            add("grade = {}", grade.clone(), &mut clauses);
        }
        if let Some(form) = &self.form {
            add("form_id = {}", form.clone(), &mut clauses);
        }
        match self.source.as_deref() {
            Some("(none)") => clauses.push("utm_source IS NULL".into()),
            Some(source) => add("utm_source = {}", source.to_owned(), &mut clauses),
            None => {}
        }
        if let Some(from) = &self.from {
            add("received_at >= {}", from.clone(), &mut clauses);
        }
        if let Some(to) = &self.to {
            // Times compare as text; "T99" sorts after every time of that day.
            add("received_at < {}", format!("{to}T99"), &mut clauses);
        }
        if let Some(search) = &self.search {
            let pattern = format!(
                "%{}%",
                search
                    .replace('\\', "\\\\")
                    .replace('%', "\\%")
                    .replace('_', "\\_")
            );
            add(
                "(email LIKE {} ESCAPE '\\' OR company LIKE {} ESCAPE '\\')",
                pattern,
                &mut clauses,
            );
        }
        (clauses.join(" AND "), params)
    }
}

/// One lead as the inbox lists it.
#[derive(Debug, Clone, PartialEq)]
pub struct Row {
    /// Lead id.
    pub id: String,
    /// Form id.
    pub form_id: String,
    /// When the collector received it.
    pub received_at: String,
    /// When the visitor submitted it.
    pub submitted_at: String,
    /// Contact email.
    pub email: Option<String>,
    /// Contact company.
    pub company: Option<String>,
    /// The collector's grade and total.
    pub grade: String,
    /// 0-100.
    pub total: u8,
    /// What the client claimed.
    pub client_total: Option<u8>,
    /// Whether the client's score differed.
    pub score_mismatch: bool,
    /// UTM source, medium, campaign.
    pub utm: [Option<String>; 3],
    /// Sales feedback and when it was given.
    pub status: Option<(String, String)>,
    /// Where forwarding stands, when the lead is in the outbox.
    pub forward: Option<ForwardState>,
    /// The stored document.
    pub document: Value,
}

/// Leads, share of the best grade and average score for one source/medium/campaign.
#[derive(Debug, Clone, PartialEq)]
pub struct SourceQuality {
    /// UTM source, medium, campaign (`None` where the page had none).
    pub utm: [Option<String>; 3],
    /// How many leads.
    pub leads: u64,
    /// How many had their form's best grade.
    pub best: u64,
    /// Average collector score.
    pub average: f64,
}

const ROW_COLUMNS: &str =
    "id, form_id, received_at, submitted_at, email, company, grade, total, client_total,
    score_mismatch, utm_source, utm_medium, utm_campaign, status, status_at, document,
    (SELECT state FROM forwards WHERE forwards.lead_id = leads.id),
    (SELECT attempts FROM forwards WHERE forwards.lead_id = leads.id),
    (SELECT last_error FROM forwards WHERE forwards.lead_id = leads.id)";

fn read_row(row: &rusqlite::Row<'_>) -> rusqlite::Result<(Row, String)> {
    let status: Option<String> = row.get(13)?;
    let status_at: Option<String> = row.get(14)?;
    Ok((
        Row {
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
            forward: row.get::<_, Option<String>>(16)?.map(|state| ForwardState {
                state,
                attempts: row.get::<_, Option<u32>>(17).ok().flatten().unwrap_or(0),
                last_error: row.get(18).ok().flatten(),
            }),
            document: Value::Null,
        },
        row.get(15)?,
    ))
}

impl Store {
    /// Leads matching `filter`, newest first.
    ///
    /// # Errors
    /// [`StoreError`] when the database fails or a row is corrupt.
    pub fn rows(&self, filter: &Filter, limit: u32, offset: u32) -> Result<Vec<Row>, StoreError> {
        let (condition, params) = filter.sql();
        let conn = self.conn.lock().map_err(|_| StoreError::Poisoned)?;
        let sql = format!(
            "SELECT {ROW_COLUMNS} FROM leads WHERE {condition} ORDER BY received_at DESC, rowid DESC LIMIT {limit} OFFSET {offset}"
        );
        let mut stmt = conn.prepare(&sql)?;
        let rows = stmt.query_map(rusqlite::params_from_iter(params.iter()), read_row)?;
        let mut out = Vec::new();
        for row in rows {
            let (mut row, document) = row?;
            row.document = serde_json::from_str(&document)?;
            out.push(row);
        }
        Ok(out)
    }

    /// How many leads match `filter`.
    ///
    /// # Errors
    /// [`StoreError`] when the database fails.
    pub fn count_matching(&self, filter: &Filter) -> Result<u64, StoreError> {
        let (condition, params) = filter.sql();
        let conn = self.conn.lock().map_err(|_| StoreError::Poisoned)?;
        let sql = format!("SELECT COUNT(*) FROM leads WHERE {condition}");
        Ok(
            conn.query_row(&sql, rusqlite::params_from_iter(params.iter()), |r| {
                r.get(0)
            })?,
        )
    }

    /// One lead with everything the inbox shows.
    ///
    /// # Errors
    /// [`StoreError`] when the database fails or the row is corrupt.
    pub fn row(&self, id: &str) -> Result<Option<Row>, StoreError> {
        let conn = self.conn.lock().map_err(|_| StoreError::Poisoned)?;
        let found = conn
            .query_row(
                &format!("SELECT {ROW_COLUMNS} FROM leads WHERE id = ?1"),
                params![id],
                read_row,
            )
            .optional()?;
        match found {
            None => Ok(None),
            Some((mut row, document)) => {
                row.document = serde_json::from_str(&document)?;
                Ok(Some(row))
            }
        }
    }

    /// Records sales feedback; returns false when no lead has this id.
    ///
    /// # Errors
    /// [`StoreError`] when the database fails.
    pub fn set_status(&self, id: &str, status: &str, at: &str) -> Result<bool, StoreError> {
        let conn = self.conn.lock().map_err(|_| StoreError::Poisoned)?;
        let changed = conn.execute(
            "UPDATE leads SET status = ?2, status_at = ?3 WHERE id = ?1",
            params![id, status, at],
        )?;
        Ok(changed == 1)
    }

    /// Lead-source quality for the leads matching `filter`, most leads first.
    ///
    /// # Errors
    /// [`StoreError`] when the database fails.
    pub fn source_quality(&self, filter: &Filter) -> Result<Vec<SourceQuality>, StoreError> {
        let (condition, params) = filter.sql();
        let conn = self.conn.lock().map_err(|_| StoreError::Poisoned)?;
        let sql = format!(
            "SELECT utm_source, utm_medium, utm_campaign, COUNT(*), SUM(best_grade), AVG(total)
             FROM leads WHERE {condition}
             GROUP BY utm_source, utm_medium, utm_campaign ORDER BY COUNT(*) DESC, utm_source LIMIT 50"
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
    }

    /// Outbox entries due at `now_ms`, oldest first.
    ///
    /// # Errors
    /// [`StoreError`] when the database fails.
    pub fn due_forwards(&self, now_ms: i64, limit: u32) -> Result<Vec<Due>, StoreError> {
        let conn = self.conn.lock().map_err(|_| StoreError::Poisoned)?;
        let mut stmt = conn.prepare(
            "SELECT f.lead_id, f.attempts, l.document FROM forwards f JOIN leads l ON l.id = f.lead_id
             WHERE f.state = 'pending' AND f.next_at <= ?1 ORDER BY f.next_at, l.rowid LIMIT ?2",
        )?;
        let rows = stmt.query_map(params![now_ms, limit], |row| {
            Ok(Due {
                lead_id: row.get(0)?,
                attempts: row.get(1)?,
                body: row.get(2)?,
            })
        })?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    /// Marks a forward delivered.
    ///
    /// # Errors
    /// [`StoreError`] when the database fails.
    pub fn forward_delivered(
        &self,
        lead_id: &str,
        status: u16,
        at: &str,
    ) -> Result<(), StoreError> {
        let conn = self.conn.lock().map_err(|_| StoreError::Poisoned)?;
        conn.execute(
            "UPDATE forwards SET state = 'delivered', attempts = attempts + 1, status_code = ?2,
             delivered_at = ?3, last_error = NULL WHERE lead_id = ?1",
            params![lead_id, status, at],
        )?;
        Ok(())
    }

    /// Records a failed attempt: retry at `next_at_ms`, or give up when `failed`.
    ///
    /// # Errors
    /// [`StoreError`] when the database fails.
    pub fn forward_failed(
        &self,
        lead_id: &str,
        attempts: u32,
        next_at_ms: i64,
        error: &str,
        failed: bool,
    ) -> Result<(), StoreError> {
        let conn = self.conn.lock().map_err(|_| StoreError::Poisoned)?;
        conn.execute(
            "UPDATE forwards SET attempts = ?2, next_at = ?3, last_error = ?4,
             state = CASE WHEN ?5 THEN 'failed' ELSE 'pending' END WHERE lead_id = ?1",
            params![lead_id, attempts, next_at_ms, error, failed],
        )?;
        Ok(())
    }
}

/// Stores `lead` (and its forward) within the caller's transaction `tx`, unless its id is
/// stored; returns what is stored.
fn insert_in(
    tx: &rusqlite::Transaction<'_>,
    lead: &Ingested,
    received_at: &str,
) -> Result<Stored, StoreError> {
    let created = tx.execute(
        "INSERT INTO leads (id, form_id, received_at, submitted_at, email, grade, total,
                            client_total, client_grade, score_mismatch, document,
                            company, utm_source, utm_medium, utm_campaign, best_grade)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16)
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
            lead.best_grade
        ],
    )? == 1;
    if created && lead.forward {
        tx.execute(
            "INSERT INTO forwards (lead_id, next_at) VALUES (?1, 0)",
            params![lead.id],
        )?;
    }
    let (grade, total, received_at, score_mismatch) = tx.query_row(
        "SELECT grade, total, received_at, score_mismatch FROM leads WHERE id = ?1",
        params![lead.id],
        |row| Ok((row.get(0)?, row.get(1)?, row.get(2)?, row.get(3)?)),
    )?;
    Ok(Stored {
        id: lead.id.clone(),
        created,
        grade,
        total,
        received_at,
        score_mismatch,
    })
}
