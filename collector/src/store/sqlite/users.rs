//! Users, sessions and the audit log on SQLite (see `store/users.rs`).

use rusqlite::{params, OptionalExtension};

use super::Sqlite;
use crate::store::users::{AuditEntry, SessionRecord, User};
use crate::store::StoreError;

/// The migration that adds users, sessions and the audit log.
pub(super) const MIGRATION: &str = "CREATE TABLE users (
        id            INTEGER PRIMARY KEY,
        name          TEXT NOT NULL,
        role          TEXT NOT NULL,
        password_hash TEXT NOT NULL,
        created_at    TEXT NOT NULL,
        disabled_at   TEXT
    );
    CREATE UNIQUE INDEX users_name ON users (lower(name));
    CREATE TABLE sessions (
        id_hash    TEXT PRIMARY KEY,
        user_id    INTEGER NOT NULL REFERENCES users (id),
        csrf       TEXT NOT NULL,
        created_ms INTEGER NOT NULL,
        seen_ms    INTEGER NOT NULL
    );
    CREATE INDEX sessions_user ON sessions (user_id);
    CREATE TABLE audit (
        id      INTEGER PRIMARY KEY AUTOINCREMENT,
        at      TEXT NOT NULL,
        who     TEXT NOT NULL,
        action  TEXT NOT NULL,
        subject TEXT NOT NULL,
        detail  TEXT NOT NULL
    );";

const USER_COLUMNS: &str = "id, name, role, password_hash, created_at, disabled_at";

fn read_user(row: &rusqlite::Row<'_>) -> rusqlite::Result<User> {
    Ok(User {
        id: row.get(0)?,
        name: row.get(1)?,
        role: row.get(2)?,
        password_hash: row.get(3)?,
        created_at: row.get(4)?,
        disabled_at: row.get(5)?,
    })
}

impl Sqlite {
    pub(in crate::store) async fn user_count(&self) -> Result<u64, StoreError> {
        self.run(|conn| {
            let n: i64 = conn.query_row("SELECT COUNT(*) FROM users", [], |row| row.get(0))?;
            Ok(n.unsigned_abs())
        })
        .await
    }

    pub(in crate::store) async fn users(&self) -> Result<Vec<User>, StoreError> {
        self.run(|conn| {
            let mut stmt = conn.prepare(&format!(
                "SELECT {USER_COLUMNS} FROM users ORDER BY lower(name)"
            ))?;
            let rows = stmt.query_map([], read_user)?;
            Ok(rows.collect::<Result<_, _>>()?)
        })
        .await
    }

    pub(in crate::store) async fn user(&self, name: &str) -> Result<Option<User>, StoreError> {
        let name = name.to_owned();
        self.run(move |conn| {
            Ok(conn
                .query_row(
                    &format!("SELECT {USER_COLUMNS} FROM users WHERE lower(name) = lower(?1)"),
                    params![name],
                    read_user,
                )
                .optional()?)
        })
        .await
    }

    pub(in crate::store) async fn add_user(
        &self,
        user: &User,
        only_first: bool,
    ) -> Result<bool, StoreError> {
        let user = user.clone();
        self.run(move |conn| {
            let condition = if only_first {
                "NOT EXISTS (SELECT 1 FROM users)"
            } else {
                "NOT EXISTS (SELECT 1 FROM users WHERE lower(name) = lower(?1))"
            };
            let added = conn.execute(
                &format!(
                    "INSERT INTO users (name, role, password_hash, created_at)
                     SELECT ?1, ?2, ?3, ?4 WHERE {condition}"
                ),
                params![user.name, user.role, user.password_hash, user.created_at],
            )?;
            Ok(added == 1)
        })
        .await
    }

    pub(in crate::store) async fn set_password(
        &self,
        name: &str,
        hash: &str,
    ) -> Result<bool, StoreError> {
        let (name, hash) = (name.to_owned(), hash.to_owned());
        self.run(move |conn| {
            let tx = conn.unchecked_transaction()?;
            let changed = tx.execute(
                "UPDATE users SET password_hash = ?2 WHERE lower(name) = lower(?1)",
                params![name, hash],
            )?;
            tx.execute(
                "DELETE FROM sessions WHERE user_id IN (SELECT id FROM users WHERE lower(name) = lower(?1))",
                params![name],
            )?;
            tx.commit()?;
            Ok(changed == 1)
        })
        .await
    }

    pub(in crate::store) async fn set_disabled(
        &self,
        name: &str,
        at: Option<&str>,
    ) -> Result<bool, StoreError> {
        let (name, at) = (name.to_owned(), at.map(str::to_owned));
        self.run(move |conn| {
            let tx = conn.unchecked_transaction()?;
            let changed = tx.execute(
                "UPDATE users SET disabled_at = ?2 WHERE lower(name) = lower(?1)",
                params![name, at],
            )?;
            if at.is_some() {
                tx.execute(
                    "DELETE FROM sessions WHERE user_id IN (SELECT id FROM users WHERE lower(name) = lower(?1))",
                    params![name],
                )?;
            }
            tx.commit()?;
            Ok(changed == 1)
        })
        .await
    }

    pub(in crate::store) async fn add_session(
        &self,
        id_hash: &str,
        user_id: i64,
        csrf: &str,
        now_ms: i64,
    ) -> Result<(), StoreError> {
        let (id_hash, csrf) = (id_hash.to_owned(), csrf.to_owned());
        self.run(move |conn| {
            conn.execute(
                "INSERT INTO sessions (id_hash, user_id, csrf, created_ms, seen_ms)
                 VALUES (?1, ?2, ?3, ?4, ?4)",
                params![id_hash, user_id, csrf, now_ms],
            )?;
            Ok(())
        })
        .await
    }

    pub(in crate::store) async fn session(
        &self,
        id_hash: &str,
    ) -> Result<Option<SessionRecord>, StoreError> {
        let id_hash = id_hash.to_owned();
        self.run(move |conn| {
            Ok(conn
                .query_row(
                    "SELECT u.id, u.name, u.role, u.password_hash, u.created_at, u.disabled_at,
                            s.csrf, s.created_ms, s.seen_ms
                     FROM sessions s JOIN users u ON u.id = s.user_id WHERE s.id_hash = ?1",
                    params![id_hash],
                    |row| {
                        Ok(SessionRecord {
                            user: read_user(row)?,
                            csrf: row.get(6)?,
                            created_ms: row.get(7)?,
                            seen_ms: row.get(8)?,
                        })
                    },
                )
                .optional()?)
        })
        .await
    }

    pub(in crate::store) async fn touch_session(
        &self,
        id_hash: &str,
        now_ms: i64,
    ) -> Result<(), StoreError> {
        let id_hash = id_hash.to_owned();
        self.run(move |conn| {
            conn.execute(
                "UPDATE sessions SET seen_ms = ?2 WHERE id_hash = ?1",
                params![id_hash, now_ms],
            )?;
            Ok(())
        })
        .await
    }

    pub(in crate::store) async fn drop_session(&self, id_hash: &str) -> Result<(), StoreError> {
        let id_hash = id_hash.to_owned();
        self.run(move |conn| {
            conn.execute("DELETE FROM sessions WHERE id_hash = ?1", params![id_hash])?;
            Ok(())
        })
        .await
    }

    pub(in crate::store) async fn drop_old_sessions(
        &self,
        before_ms: i64,
        begun_before_ms: i64,
    ) -> Result<u64, StoreError> {
        self.run(move |conn| {
            let n = conn.execute(
                "DELETE FROM sessions WHERE seen_ms < ?1 OR created_ms < ?2",
                params![before_ms, begun_before_ms],
            )?;
            Ok(n as u64)
        })
        .await
    }

    pub(in crate::store) async fn audit(&self, entry: &AuditEntry) -> Result<(), StoreError> {
        let entry = entry.clone();
        self.run(move |conn| {
            conn.execute(
                "INSERT INTO audit (at, who, action, subject, detail) VALUES (?1, ?2, ?3, ?4, ?5)",
                params![
                    entry.at,
                    entry.who,
                    entry.action,
                    entry.subject,
                    entry.detail
                ],
            )?;
            Ok(())
        })
        .await
    }

    pub(in crate::store) async fn audit_page(
        &self,
        before: i64,
        limit: u32,
    ) -> Result<Vec<AuditEntry>, StoreError> {
        self.run(move |conn| {
            let mut stmt = conn.prepare(
                "SELECT id, at, who, action, subject, detail FROM audit
                 WHERE id < ?1 ORDER BY id DESC LIMIT ?2",
            )?;
            let rows = stmt.query_map(params![before, limit], |row| {
                Ok(AuditEntry {
                    id: row.get(0)?,
                    at: row.get(1)?,
                    who: row.get(2)?,
                    action: row.get(3)?,
                    subject: row.get(4)?,
                    detail: row.get(5)?,
                })
            })?;
            Ok(rows.collect::<Result<_, _>>()?)
        })
        .await
    }
}
