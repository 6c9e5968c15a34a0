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
const MIGRATIONS: [&str; 2] = [
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
];

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
        let created = conn.execute(
            "INSERT INTO leads (id, form_id, received_at, submitted_at, email, grade, total,
                                client_total, client_grade, score_mismatch, document)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11) ON CONFLICT (id) DO NOTHING",
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
                lead.document
            ],
        )? == 1;
        let (grade, total, received_at, score_mismatch) = conn.query_row(
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
