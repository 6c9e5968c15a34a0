//! Users, sessions and the audit log on PostgreSQL (see `store/users.rs`).

use super::Postgres;
use crate::store::users::{AuditEntry, SessionRecord, User};
use crate::store::StoreError;

/// The migration that adds users, sessions and the audit log (as SQLite's, with `BIGSERIAL`
/// ids and `BIGINT` times).
pub(super) const MIGRATION: &str = r#"CREATE TABLE users (
        id            BIGSERIAL PRIMARY KEY,
        name          TEXT NOT NULL,
        role          TEXT NOT NULL,
        password_hash TEXT NOT NULL,
        created_at    TEXT COLLATE "C" NOT NULL,
        disabled_at   TEXT
    );
    CREATE UNIQUE INDEX users_name ON users (lower(name));
    CREATE TABLE sessions (
        id_hash    TEXT PRIMARY KEY,
        user_id    BIGINT NOT NULL REFERENCES users (id),
        csrf       TEXT NOT NULL,
        created_ms BIGINT NOT NULL,
        seen_ms    BIGINT NOT NULL
    );
    CREATE INDEX sessions_user ON sessions (user_id);
    CREATE TABLE audit (
        id      BIGSERIAL PRIMARY KEY,
        at      TEXT COLLATE "C" NOT NULL,
        who     TEXT NOT NULL,
        action  TEXT NOT NULL,
        subject TEXT NOT NULL,
        detail  TEXT NOT NULL
    );"#;

const USER_COLUMNS: &str = "id, name, role, password_hash, created_at, disabled_at";

fn read_user(row: &tokio_postgres::Row) -> User {
    User {
        id: row.get(0),
        name: row.get(1),
        role: row.get(2),
        password_hash: row.get(3),
        created_at: row.get(4),
        disabled_at: row.get(5),
    }
}

impl Postgres {
    pub(in crate::store) async fn user_count(&self) -> Result<u64, StoreError> {
        let client = self.client().await?;
        let n: i64 = client
            .query_one("SELECT COUNT(*) FROM users", &[])
            .await?
            .get(0);
        Ok(n.unsigned_abs())
    }

    pub(in crate::store) async fn users(&self) -> Result<Vec<User>, StoreError> {
        let client = self.client().await?;
        let rows = client
            .query(
                &format!("SELECT {USER_COLUMNS} FROM users ORDER BY lower(name)"),
                &[],
            )
            .await?;
        Ok(rows.iter().map(read_user).collect())
    }

    pub(in crate::store) async fn user(&self, name: &str) -> Result<Option<User>, StoreError> {
        let client = self.client().await?;
        let row = client
            .query_opt(
                &format!("SELECT {USER_COLUMNS} FROM users WHERE lower(name) = lower($1)"),
                &[&name],
            )
            .await?;
        Ok(row.as_ref().map(read_user))
    }

    pub(in crate::store) async fn add_user(
        &self,
        user: &User,
        only_first: bool,
    ) -> Result<bool, StoreError> {
        let mut client = self.client().await?;
        let tx = client.transaction().await?;
        // One at a time, so two first admins or two users of one name cannot both be added.
        tx.execute("LOCK TABLE users IN SHARE ROW EXCLUSIVE MODE", &[])
            .await?;
        let condition = if only_first {
            "NOT EXISTS (SELECT 1 FROM users)"
        } else {
            "NOT EXISTS (SELECT 1 FROM users WHERE lower(name) = lower($1))"
        };
        let added = tx
            .execute(
                &format!(
                    "INSERT INTO users (name, role, password_hash, created_at)
                     SELECT $1, $2, $3, $4 WHERE {condition}"
                ),
                &[
                    &user.name,
                    &user.role,
                    &user.password_hash,
                    &user.created_at,
                ],
            )
            .await?;
        tx.commit().await?;
        Ok(added == 1)
    }

    pub(in crate::store) async fn set_password(
        &self,
        name: &str,
        hash: &str,
    ) -> Result<bool, StoreError> {
        self.update_user(name, "password_hash", &hash, true).await
    }

    pub(in crate::store) async fn set_disabled(
        &self,
        name: &str,
        at: Option<&str>,
    ) -> Result<bool, StoreError> {
        self.update_user(name, "disabled_at", &at, at.is_some())
            .await
    }

    /// Sets `column` of the user `name` (in any case) to `value`, and with `end_sessions`
    /// deletes their sessions in the same transaction; false when there is no such user.
    async fn update_user(
        &self,
        name: &str,
        column: &str,
        value: &(dyn tokio_postgres::types::ToSql + Sync),
        end_sessions: bool,
    ) -> Result<bool, StoreError> {
        let mut client = self.client().await?;
        let tx = client.transaction().await?;
        let changed = tx
            .execute(
                &format!("UPDATE users SET {column} = $2 WHERE lower(name) = lower($1)"),
                &[&name, value],
            )
            .await?;
        if end_sessions {
            tx.execute(
                "DELETE FROM sessions WHERE user_id IN (SELECT id FROM users WHERE lower(name) = lower($1))",
                &[&name],
            )
            .await?;
        }
        tx.commit().await?;
        Ok(changed == 1)
    }

    pub(in crate::store) async fn add_session(
        &self,
        id_hash: &str,
        user_id: i64,
        csrf: &str,
        now_ms: i64,
    ) -> Result<(), StoreError> {
        let client = self.client().await?;
        client
            .execute(
                "INSERT INTO sessions (id_hash, user_id, csrf, created_ms, seen_ms)
                 VALUES ($1, $2, $3, $4, $4)",
                &[&id_hash, &user_id, &csrf, &now_ms],
            )
            .await?;
        Ok(())
    }

    pub(in crate::store) async fn session(
        &self,
        id_hash: &str,
    ) -> Result<Option<SessionRecord>, StoreError> {
        let client = self.client().await?;
        let row = client
            .query_opt(
                "SELECT u.id, u.name, u.role, u.password_hash, u.created_at, u.disabled_at,
                        s.csrf, s.created_ms, s.seen_ms
                 FROM sessions s JOIN users u ON u.id = s.user_id WHERE s.id_hash = $1",
                &[&id_hash],
            )
            .await?;
        Ok(row.map(|row| SessionRecord {
            user: read_user(&row),
            csrf: row.get(6),
            created_ms: row.get(7),
            seen_ms: row.get(8),
        }))
    }

    pub(in crate::store) async fn touch_session(
        &self,
        id_hash: &str,
        now_ms: i64,
    ) -> Result<(), StoreError> {
        let client = self.client().await?;
        client
            .execute(
                "UPDATE sessions SET seen_ms = $2 WHERE id_hash = $1",
                &[&id_hash, &now_ms],
            )
            .await?;
        Ok(())
    }

    pub(in crate::store) async fn drop_session(&self, id_hash: &str) -> Result<(), StoreError> {
        let client = self.client().await?;
        client
            .execute("DELETE FROM sessions WHERE id_hash = $1", &[&id_hash])
            .await?;
        Ok(())
    }

    pub(in crate::store) async fn drop_old_sessions(
        &self,
        before_ms: i64,
        begun_before_ms: i64,
    ) -> Result<u64, StoreError> {
        let client = self.client().await?;
        let n = client
            .execute(
                "DELETE FROM sessions WHERE seen_ms < $1 OR created_ms < $2",
                &[&before_ms, &begun_before_ms],
            )
            .await?;
        Ok(n)
    }

    pub(in crate::store) async fn audit(&self, entry: &AuditEntry) -> Result<(), StoreError> {
        let client = self.client().await?;
        client
            .execute(
                "INSERT INTO audit (at, who, action, subject, detail) VALUES ($1, $2, $3, $4, $5)",
                &[
                    &entry.at,
                    &entry.who,
                    &entry.action,
                    &entry.subject,
                    &entry.detail,
                ],
            )
            .await?;
        Ok(())
    }

    pub(in crate::store) async fn audit_page(
        &self,
        before: i64,
        limit: u32,
    ) -> Result<Vec<AuditEntry>, StoreError> {
        let client = self.client().await?;
        let rows = client
            .query(
                "SELECT id, at, who, action, subject, detail FROM audit
                 WHERE id < $1 ORDER BY id DESC LIMIT $2",
                &[&before, &i64::from(limit)],
            )
            .await?;
        Ok(rows
            .iter()
            .map(|row| AuditEntry {
                id: row.get(0),
                at: row.get(1),
                who: row.get(2),
                action: row.get(3),
                subject: row.get(4),
                detail: row.get(5),
            })
            .collect())
    }
}
