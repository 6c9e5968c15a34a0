//! SQLite storage of lead documents, idempotent on the lead id.

use std::path::Path;
use std::sync::Mutex;

use bantam_engine::LeadDocument;
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
}

/// The lead database.
pub struct Store {
    conn: Mutex<Connection>,
}

const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS leads (
    id           TEXT PRIMARY KEY,
    form_id      TEXT NOT NULL,
    received_at  TEXT NOT NULL,
    submitted_at TEXT NOT NULL,
    email        TEXT,
    grade        TEXT NOT NULL,
    total        INTEGER NOT NULL,
    document     TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS leads_received ON leads (received_at);
";

impl Store {
    /// Opens (creating if needed) the database at `path`, in WAL mode.
    ///
    /// # Errors
    /// [`StoreError::Sqlite`] when the file cannot be opened or the schema cannot be created.
    pub fn open(path: &Path) -> Result<Store, StoreError> {
        let conn = Connection::open(path)?;
        conn.pragma_update(None, "journal_mode", "WAL")?;
        conn.pragma_update(None, "synchronous", "FULL")?;
        conn.busy_timeout(std::time::Duration::from_secs(5))?;
        conn.execute_batch(SCHEMA)?;
        Ok(Store {
            conn: Mutex::new(conn),
        })
    }

    /// Stores a lead unless one with its id exists; either way returns what is stored.
    ///
    /// # Errors
    /// [`StoreError`] when the database fails.
    pub fn insert(&self, lead: &LeadDocument, received_at: &str) -> Result<Stored, StoreError> {
        let document = lead.to_json();
        let conn = self.conn.lock().map_err(|_| StoreError::Poisoned)?;
        let created = conn.execute(
            "INSERT INTO leads (id, form_id, received_at, submitted_at, email, grade, total, document)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8) ON CONFLICT (id) DO NOTHING",
            params![
                lead.id,
                lead.form_id,
                received_at,
                lead.submitted_at,
                lead.contact.get("email"),
                lead.score.grade,
                lead.score.total,
                document
            ],
        )? == 1;
        let (grade, total, received_at) = conn.query_row(
            "SELECT grade, total, received_at FROM leads WHERE id = ?1",
            params![lead.id],
            |row| Ok((row.get(0)?, row.get(1)?, row.get(2)?)),
        )?;
        Ok(Stored {
            id: lead.id.clone(),
            created,
            grade,
            total,
            received_at,
        })
    }

    /// The newest leads first, each as `{receivedAt, lead}`.
    ///
    /// # Errors
    /// [`StoreError`] when the database fails or a row is corrupt.
    pub fn list(&self, limit: u32) -> Result<Vec<Value>, StoreError> {
        let conn = self.conn.lock().map_err(|_| StoreError::Poisoned)?;
        let mut stmt = conn.prepare(
            "SELECT received_at, document FROM leads ORDER BY received_at DESC, rowid DESC LIMIT ?1",
        )?;
        let rows = stmt.query_map(params![limit], |row| {
            Ok((row.get::<_, String>(0)?, row.get::<_, String>(1)?))
        })?;
        let mut out = Vec::new();
        for row in rows {
            let (received_at, document) = row?;
            let lead: Value = serde_json::from_str(&document)?;
            out.push(serde_json::json!({ "receivedAt": received_at, "lead": lead }));
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
