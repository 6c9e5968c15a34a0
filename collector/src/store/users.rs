//! Named users, their sessions and the audit log, on either backend (issue 13).
//!
//! A user has a name (unique in any case), a role (`admin` or `sales`), an Argon2id password
//! hash (a PHC string; never the password) and may be disabled, never deleted, so the audit log
//! keeps naming who did what. A session is stored by the SHA-256 of its id only: the database
//! never holds what the browser's cookie holds.

use super::{Backend, Store, StoreError};

/// A user as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct User {
    /// The database's id.
    pub id: i64,
    /// The name they sign in with, as written when created.
    pub name: String,
    /// `admin` or `sales`.
    pub role: String,
    /// The Argon2id hash of their password, as a PHC string.
    pub password_hash: String,
    /// When the user was created (RFC 3339).
    pub created_at: String,
    /// When the user was disabled, if they were.
    pub disabled_at: Option<String>,
}

/// A session as stored: its user, its CSRF token and its times (epoch ms).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SessionRecord {
    /// Who it belongs to.
    pub user: User,
    /// The token every change posted in this session must carry.
    pub csrf: String,
    /// When it began.
    pub created_ms: i64,
    /// When it was last used (updated at most once a minute).
    pub seen_ms: i64,
}

/// One entry of the audit log.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct AuditEntry {
    /// Its position in the log (newer entries have larger ones); pages continue from it.
    pub id: i64,
    /// When (RFC 3339).
    pub at: String,
    /// Who: a user's name, `admin` for the admin token, or the name tried at a failed login.
    pub who: String,
    /// What, such as `status`, `export`, `erase`, `publish`, `user.create`, `login`.
    pub action: String,
    /// What it was done to: a lead id, a form id, a user name, a person's email digest.
    pub subject: String,
    /// More about it, in words (`won`, `from 203.0.113.9`, `version 3`).
    pub detail: String,
}

impl Store {
    /// How many users exist (disabled ones too).
    ///
    /// # Errors
    /// [`StoreError`] when the database fails.
    pub async fn user_count(&self) -> Result<u64, StoreError> {
        dispatch!(self.user_count())
    }

    /// Every user, by name.
    ///
    /// # Errors
    /// [`StoreError`] when the database fails.
    pub async fn users(&self) -> Result<Vec<User>, StoreError> {
        dispatch!(self.users())
    }

    /// The user called `name` (in any case).
    ///
    /// # Errors
    /// [`StoreError`] when the database fails.
    pub async fn user(&self, name: &str) -> Result<Option<User>, StoreError> {
        dispatch!(self.user(name))
    }

    /// Creates a user (`user.id` and `user.disabled_at` are ignored); with `only_first`, only
    /// while no user exists (the first admin, set up with the admin token). Returns false when
    /// the name is taken in any case, or when `only_first` and a user exists.
    ///
    /// # Errors
    /// [`StoreError`] when the database fails.
    pub async fn add_user(&self, user: &User, only_first: bool) -> Result<bool, StoreError> {
        dispatch!(self.add_user(user, only_first))
    }

    /// Replaces a user's password hash and ends their sessions; false when no such user.
    ///
    /// # Errors
    /// [`StoreError`] when the database fails.
    pub async fn set_password(&self, name: &str, hash: &str) -> Result<bool, StoreError> {
        dispatch!(self.set_password(name, hash))
    }

    /// Disables a user at `at` (ending their sessions), or enables them again with `None`;
    /// false when no such user.
    ///
    /// # Errors
    /// [`StoreError`] when the database fails.
    pub async fn set_disabled(&self, name: &str, at: Option<&str>) -> Result<bool, StoreError> {
        dispatch!(self.set_disabled(name, at))
    }

    /// Records a new session of user `user_id` under the hash of its id.
    ///
    /// # Errors
    /// [`StoreError`] when the database fails.
    pub async fn add_session(
        &self,
        id_hash: &str,
        user_id: i64,
        csrf: &str,
        now_ms: i64,
    ) -> Result<(), StoreError> {
        dispatch!(self.add_session(id_hash, user_id, csrf, now_ms))
    }

    /// The session stored under `id_hash`, with its user.
    ///
    /// # Errors
    /// [`StoreError`] when the database fails.
    pub async fn session(&self, id_hash: &str) -> Result<Option<SessionRecord>, StoreError> {
        dispatch!(self.session(id_hash))
    }

    /// Marks a session used at `now_ms`.
    ///
    /// # Errors
    /// [`StoreError`] when the database fails.
    pub async fn touch_session(&self, id_hash: &str, now_ms: i64) -> Result<(), StoreError> {
        dispatch!(self.touch_session(id_hash, now_ms))
    }

    /// Ends a session (logout, or found expired).
    ///
    /// # Errors
    /// [`StoreError`] when the database fails.
    pub async fn drop_session(&self, id_hash: &str) -> Result<(), StoreError> {
        dispatch!(self.drop_session(id_hash))
    }

    /// Deletes every session last used before `before_ms` or begun before `begun_before_ms`.
    ///
    /// # Errors
    /// [`StoreError`] when the database fails.
    pub async fn drop_old_sessions(
        &self,
        before_ms: i64,
        begun_before_ms: i64,
    ) -> Result<u64, StoreError> {
        dispatch!(self.drop_old_sessions(before_ms, begun_before_ms))
    }

    /// Adds an entry to the audit log (`entry.id` is ignored).
    ///
    /// # Errors
    /// [`StoreError`] when the database fails.
    pub async fn audit(&self, entry: &AuditEntry) -> Result<(), StoreError> {
        dispatch!(self.audit(entry))
    }

    /// A page of the audit log, newest first: at most `limit` entries older than `before` (an
    /// entry's id; `None`: from the newest).
    ///
    /// # Errors
    /// [`StoreError`] when the database fails.
    pub async fn audit_page(
        &self,
        before: Option<i64>,
        limit: u32,
    ) -> Result<Vec<AuditEntry>, StoreError> {
        dispatch!(self.audit_page(before.unwrap_or(i64::MAX), limit))
    }
}
