//! Lead storage behind one interface: SQLite (embedded, the default) or PostgreSQL (several
//! collectors on one database), idempotent on the lead id.
//!
//! [`Store`] is the interface every handler and the forwarding worker use; it dispatches to
//! one of two backends with the same logical schema and the same migrations by version:
//! `sqlite.rs` (rusqlite, run on the blocking threads) and `postgres.rs` (tokio-postgres with a
//! pool). The types here are what both hand back.

mod postgres;
mod sqlite;

use std::time::Duration;

use serde_json::Value;

/// A storage failure (disk, connection, corruption, a poisoned lock).
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// SQLite reported an error.
    #[error("database: {0}")]
    Sqlite(#[from] rusqlite::Error),
    /// PostgreSQL reported an error, or the connection to it broke.
    #[error("PostgreSQL: {}", chain(.0))]
    Postgres(#[from] tokio_postgres::Error),
    /// No PostgreSQL connection could be had from the pool.
    #[error("PostgreSQL connection pool: {0}")]
    Pool(String),
    /// The SQLite database file cannot be opened or migrated.
    #[error("cannot open SQLite database {path}: {source}")]
    Open {
        /// The file.
        path: String,
        /// Why.
        source: rusqlite::Error,
    },
    /// PostgreSQL cannot be reached or refused the login.
    #[error("cannot connect to PostgreSQL at {at}: {}", chain(.source))]
    Connect {
        /// Host, port and database (never the password).
        at: String,
        /// Why.
        source: tokio_postgres::Error,
    },
    /// The PostgreSQL schema cannot be brought up to date.
    #[error("cannot migrate the PostgreSQL database at {at}: {}", chain(.source))]
    Migrate {
        /// Host, port and database (never the password).
        at: String,
        /// Why.
        source: tokio_postgres::Error,
    },
    /// The database was migrated by a newer collector than this one.
    #[error("the database schema is at version {found}, newer than this collector knows ({known}); run a newer bantam-collector")]
    Newer {
        /// The version found.
        found: i64,
        /// The last version this collector knows.
        known: usize,
    },
    /// The `--db` value starts like a PostgreSQL URL but is not a valid one.
    #[error("the PostgreSQL URL is not valid: {}", chain(.0))]
    Url(tokio_postgres::Error),
    /// A stored document is not valid JSON.
    #[error("stored document is not JSON: {0}")]
    Json(#[from] serde_json::Error),
    /// Another thread panicked while holding the SQLite connection.
    #[error("database lock poisoned")]
    Poisoned,
    /// A blocking database task panicked or was cancelled.
    #[error("database task failed: {0}")]
    Task(String),
}

/// An error with its causes: tokio-postgres says "error connecting to server" and keeps the
/// why ("Connection refused", the server's message) in its source.
impl StoreError {
    /// Whether SQLite refused to write because the file (or its folder) is read-only.
    pub fn is_read_only(&self) -> bool {
        matches!(
            self,
            StoreError::Sqlite(rusqlite::Error::SqliteFailure(e, _))
                if e.code == rusqlite::ErrorCode::ReadOnly
        )
    }
}

fn chain(err: &dyn std::error::Error) -> String {
    let mut text = err.to_string();
    let mut source = err.source();
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text
}

/// Whether storing `lead` (as `stored`) gives its person the next of `reps` in turn, should
/// the person have no owner: a new lead with its form's best grade, not flagged as spam, on a
/// form with reps.
fn takes_turn(lead: &Ingested, stored: &Stored, reps: &[String]) -> bool {
    stored.created && lead.best_grade && !lead.spam && !reps.is_empty()
}

/// Who the audit log names for an owner given in turn from the routes file.
pub const ROUND_ROBIN: &str = "routes (round-robin)";

/// How the audit log names a person: by a digest of their key (an email, mostly), so that the
/// log holds nothing an erasure would have to take back.
pub fn audit_subject(key: &str) -> String {
    format!("person {}", &email_digest(key)[..12])
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
    /// Whether the stored lead came from the same posted document: true for a new row, for a
    /// replay of the same body, and for rows stored before bodies were hashed.
    pub same_body: bool,
    /// The key of the person the lead belongs to (see [`Person::key`]).
    pub person: String,
    /// The rep this insert made the person's owner in turn (see [`Store::insert_assigning`]),
    /// if it did.
    pub assigned: Option<String>,
}

impl Stored {
    /// Whether a row holding `stored_hash` came from a body hashing to `posted_hash`.
    fn same_body(created: bool, stored_hash: Option<&str>, posted_hash: &str) -> bool {
        created || stored_hash.is_none_or(|stored| stored == posted_hash)
    }
}

/// A delivery that is due: the lead, its destination, the attempts so far, the stored document.
#[derive(Debug, Clone, PartialEq)]
pub struct Due {
    /// The lead id (also the `Idempotency-Key`).
    pub lead_id: String,
    /// The destination's name (from the routes file, or `forward` for the `--forward-*` flags).
    pub destination: String,
    /// Attempts made so far.
    pub attempts: u32,
    /// The stored document.
    pub body: String,
    /// The owner of the lead's person, when it has one (for alerts).
    pub owner: Option<String>,
}

/// The outcome of one attempt, as [`Store::record_deliveries`] records it.
#[derive(Debug, Clone, PartialEq)]
pub enum Attempted {
    /// Delivered: the receiver's status and when.
    Delivered {
        /// The HTTP status (or 250 for an accepted e-mail).
        status: u16,
        /// RFC 3339.
        at: String,
    },
    /// Not delivered: retry at `next_at_ms`, or give up when `failed`.
    Failed {
        /// Attempts made, this one included.
        attempts: u32,
        /// When to try again (ms since the epoch).
        next_at_ms: i64,
        /// Why.
        error: String,
        /// Whether to give up.
        failed: bool,
    },
}

/// How a lead's deliveries stand, for the inbox's list: how many destinations it goes to, how
/// many have it, how many gave up.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct DeliverySummary {
    /// Destinations the lead goes to.
    pub total: u32,
    /// Destinations that took it.
    pub delivered: u32,
    /// Destinations that refused it for good or ran out of attempts.
    pub failed: u32,
}

/// Where one delivery of a lead stands (the lead page, `/v1/leads/{id}`).
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
#[serde(rename_all = "camelCase")]
pub struct DeliveryState {
    /// The destination's name.
    pub destination: String,
    /// `pending`, `delivered` or `failed`.
    pub state: String,
    /// Attempts made.
    pub attempts: u32,
    /// The last error, if any.
    pub last_error: Option<String>,
    /// The receiver's HTTP status (or 250 for an accepted e-mail), once delivered.
    pub status_code: Option<u16>,
    /// When it was delivered (RFC 3339).
    pub delivered_at: Option<String>,
    /// When a pending delivery is tried next (ms since the epoch).
    pub next_at_ms: i64,
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
    /// The destinations whose outboxes the lead enters (their names), chosen by the routes.
    pub deliveries: Vec<String>,
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
    /// Hex SHA-256 of the posted document as the collector received it (parsed and written
    /// out again by serde_json), before the collector added its own score.
    pub body_sha256: String,
    /// The version of the form the collector scored it with (see [`FormVersion`]), when the
    /// form in use is a recorded version.
    pub form_version: Option<i64>,
    /// The random id the widget keeps for the visitor (`visitorId`), when it sent one.
    pub visitor_id: Option<String>,
    /// Whether the widget's spam rules flagged the submission (`spam.flagged`).
    pub spam: bool,
    /// UTM source, medium and campaign of the visitor's first touch (the lead's
    /// `attribution.firstTouch`, else its page, like [`Ingested::utm`]).
    pub first_utm: [Option<String>; 3],
}

impl Ingested {
    /// Whether the client's score differs from the collector's.
    pub fn score_mismatch(&self) -> bool {
        self.client_total != self.total || self.client_grade != self.grade
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

/// What the inbox and the exports show of a lead: one row, filterable.
///
/// Source, medium and campaign compare without regard to ASCII case (`Google` is `google`),
/// through SQL's `lower()` on both sides, so no migration and no second spelling in the data.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Filter {
    /// Only this grade.
    pub grade: Option<String>,
    /// Only this form.
    pub form: Option<String>,
    /// Only this UTM source (`(none)` for leads without one).
    pub source: Option<String>,
    /// Only this UTM medium (`(none)` for leads without one).
    pub medium: Option<String>,
    /// Only this UTM campaign (`(none)` for leads without one).
    pub campaign: Option<String>,
    /// Only this sales status: one of [`STATUSES`], or [`NEW`] for leads without one.
    pub status: Option<String>,
    /// Received on or after this date (`YYYY-MM-DD`).
    pub from: Option<String>,
    /// Received on or before this date (`YYYY-MM-DD`).
    pub to: Option<String>,
    /// Email or company containing this text.
    pub search: Option<String>,
    /// Only people with this owner, or [`UNASSIGNED`] for people without one (people only:
    /// a submission has no owner).
    pub owner: Option<String>,
}

/// The owner filter's name for people nobody owns yet.
pub const UNASSIGNED: &str = "unassigned";

/// The status filter's name for leads sales has not given feedback on yet.
pub const NEW: &str = "new";

/// The SQL spoken by a backend, where the two differ.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Dialect {
    Sqlite,
    Postgres,
}

/// Conditions and their parameters, numbered in the backend's placeholder style.
struct Clauses {
    sign: char,
    clauses: Vec<String>,
    params: Vec<String>,
}

impl Clauses {
    fn new(dialect: Dialect) -> Clauses {
        Clauses {
            sign: match dialect {
                Dialect::Sqlite => '?',
                Dialect::Postgres => '$',
            },
            clauses: vec!["1 = 1".to_owned()],
            params: Vec::new(),
        }
    }

    /// Adds `clause`, where `{}` becomes the placeholder of `value`.
    fn add(&mut self, clause: &str, value: String) {
        self.params.push(value);
        let placeholder = format!("{}{}", self.sign, self.params.len());
        self.clauses.push(clause.replace("{}", &placeholder));
    }

    /// A UTM column equal to `value` in any ASCII case; `none` is the condition for `(none)`.
    fn utm(&mut self, column: &str, value: Option<&str>, none: String) {
        match value {
            Some("(none)") => self.clauses.push(none),
            Some(value) => self.add(&format!("lower({column}) = lower({{}})"), value.to_owned()),
            None => {}
        }
    }

    fn done(self) -> (String, Vec<String>) {
        (self.clauses.join(" AND "), self.params)
    }
}

impl Filter {
    /// The conditions the leads and the summary share: grade, form, and the UTM columns in any
    /// case, where `none` is the condition for a column without a value (`(none)`).
    fn keys(&self, dialect: Dialect, none: impl Fn(&str) -> String) -> Clauses {
        let mut c = Clauses::new(dialect);
        if let Some(grade) = &self.grade {
            c.add("grade = {}", grade.clone());
        }
        if let Some(form) = &self.form {
            c.add("form_id = {}", form.clone());
        }
        for (column, value) in [
            ("utm_source", &self.source),
            ("utm_medium", &self.medium),
            ("utm_campaign", &self.campaign),
        ] {
            c.utm(column, value.as_deref(), none(column));
        }
        c
    }

    /// The SQL condition and its parameters.
    fn sql(&self, dialect: Dialect) -> (String, Vec<String>) {
        let mut c = self.keys(dialect, |column| format!("{column} IS NULL"));
        match self.status.as_deref() {
            Some(NEW) => c.clauses.push("status IS NULL".into()),
            Some(status) => c.add("status = {}", status.to_owned()),
            None => {}
        }
        if let Some(from) = &self.from {
            c.add("received_at >= {}", from.clone());
        }
        if let Some(to) = &self.to {
            // Times compare as text; "T99" sorts after every time of that day.
            c.add("received_at < {}", format!("{to}T99"));
        }
        match self.owner.as_deref() {
            Some(UNASSIGNED) => c
                .clauses
                .push("person_id IN (SELECT id FROM persons WHERE owner IS NULL)".into()),
            Some(owner) => c.add(
                "person_id IN (SELECT id FROM persons WHERE owner = {})",
                owner.to_owned(),
            ),
            None => {}
        }
        if let Some(search) = &self.search {
            let pattern = format!(
                "%{}%",
                search
                    .replace('\\', "\\\\")
                    .replace('%', "\\%")
                    .replace('_', "\\_")
            );
            // SQLite's LIKE ignores ASCII case; PostgreSQL's needs ILIKE for that.
            let like = match dialect {
                Dialect::Sqlite => "LIKE",
                Dialect::Postgres => "ILIKE",
            };
            c.add(
                &format!("(email {like} {{}} ESCAPE '\\' OR company {like} {{}} ESCAPE '\\')"),
                pattern,
            );
        }
        c.done()
    }

    /// The condition on the `lead_counts` summary for the same leads, and its parameters;
    /// `None` when the filter needs the leads themselves (a search on email or company, or a
    /// sales status, which the summary does not keep).
    fn counts_sql(&self, dialect: Dialect) -> Option<(String, Vec<String>)> {
        if self.search.is_some() || self.status.is_some() || self.owner.is_some() {
            return None;
        }
        // The summary keeps "no source" as the empty text (a key cannot be NULL).
        let mut c = self.keys(dialect, |column| format!("{column} = ''"));
        // Dates are whole days (`YYYY-MM-DD`, checked by the inbox), as the summary keeps them.
        if let Some(from) = &self.from {
            c.add("day >= {}", from.clone());
        }
        if let Some(to) = &self.to {
            c.add("day <= {}", to.clone());
        }
        Some(c.done())
    }
}

impl Filter {
    /// The SQL condition on `persons` for the people this filter finds, and its parameters:
    /// grade, status and owner are the person's (their latest grade, their latest feedback);
    /// form and source match any of their submissions; dates are their last submission's;
    /// search is on their email or company.
    fn people_sql(&self, dialect: Dialect) -> (String, Vec<String>) {
        let mut c = Clauses::new(dialect);
        if let Some(grade) = &self.grade {
            c.add("persons.grade = {}", grade.clone());
        }
        if let Some(form) = &self.form {
            c.add(
                "EXISTS (SELECT 1 FROM leads WHERE leads.person_id = persons.id AND leads.form_id = {})",
                form.clone(),
            );
        }
        for (column, value) in [
            ("utm_source", &self.source),
            ("utm_medium", &self.medium),
            ("utm_campaign", &self.campaign),
        ] {
            let any = |condition: &str| {
                format!("EXISTS (SELECT 1 FROM leads WHERE leads.person_id = persons.id AND {condition})")
            };
            match value.as_deref() {
                Some("(none)") => c.clauses.push(any(&format!("leads.{column} IS NULL"))),
                Some(value) => c.add(
                    &any(&format!("lower(leads.{column}) = lower({{}})")),
                    value.to_owned(),
                ),
                None => {}
            }
        }
        match self.status.as_deref() {
            Some(NEW) => c.clauses.push("persons.status IS NULL".into()),
            Some(status) => c.add("persons.status = {}", status.to_owned()),
            None => {}
        }
        match self.owner.as_deref() {
            Some(UNASSIGNED) => c.clauses.push("persons.owner IS NULL".into()),
            Some(owner) => c.add("persons.owner = {}", owner.to_owned()),
            None => {}
        }
        if let Some(from) = &self.from {
            c.add("persons.last_at >= {}", from.clone());
        }
        if let Some(to) = &self.to {
            c.add("persons.last_at < {}", format!("{to}T99"));
        }
        if let Some(search) = &self.search {
            let pattern = format!(
                "%{}%",
                search
                    .replace('\\', "\\\\")
                    .replace('%', "\\%")
                    .replace('_', "\\_")
            );
            let like = match dialect {
                Dialect::Sqlite => "LIKE",
                Dialect::Postgres => "ILIKE",
            };
            c.add(
                &format!(
                    "(persons.email {like} {{}} ESCAPE '\\' OR persons.company {like} {{}} ESCAPE '\\')"
                ),
                pattern,
            );
        }
        c.done()
    }
}

/// The reasons sales may give for rejecting a person, with how the inbox says them.
pub const REJECT_REASONS: [(&str, &str); 7] = [
    ("no-budget", "No budget"),
    ("no-authority", "Not a decision maker"),
    ("no-need", "No need"),
    ("bad-timing", "Bad timing"),
    ("not-a-fit", "Not a fit"),
    ("unreachable", "Unreachable"),
    ("spam", "Spam or fake"),
];

/// The key of a person: their email trimmed and in ASCII lower case; else `visitor:` and the
/// widget's visitor id while no email is known; else `lead:` and the lead id (a person known
/// by one anonymous submission). An email always holds `@`, the other two never do.
pub fn person_key(email: Option<&str>, visitor_id: Option<&str>, lead_id: &str) -> String {
    match (normal_email(email), visitor_id) {
        (Some(email), _) => email,
        (None, Some(visitor)) => format!("visitor:{visitor}"),
        (None, None) => format!("lead:{lead_id}"),
    }
}

/// An email as people are keyed by it (trimmed, ASCII lower case), `None` when empty.
pub fn normal_email(email: Option<&str>) -> Option<String> {
    email
        .map(str::trim)
        .filter(|e| !e.is_empty())
        .map(str::to_ascii_lowercase)
}

/// One person: what the inbox lists (their latest submission's grade and score, first and
/// last touch, owner, latest feedback), kept up to date with every submission and feedback.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Person {
    /// The person's key (see [`person_key`]): how pages and the API name them.
    pub key: String,
    /// Their email, normalised, once one is known.
    pub email: Option<String>,
    /// The widget's visitor id last seen with them.
    pub visitor_id: Option<String>,
    /// The sales rep who owns them.
    pub owner: Option<String>,
    /// Their company, from their latest submission that named one.
    pub company: Option<String>,
    /// Their first and last submission's arrival (not flagged as spam, where they have one).
    pub first_at: Option<String>,
    /// See `first_at`.
    pub last_at: Option<String>,
    /// Their latest submission's id, grade and total.
    pub last_lead: Option<String>,
    /// See `last_lead`.
    pub grade: Option<String>,
    /// See `last_lead`.
    pub total: Option<u8>,
    /// Whether their latest grade is their form's best.
    pub best: bool,
    /// How many submissions.
    pub leads: u64,
    /// Whether every submission of theirs was flagged as spam.
    pub spam: bool,
    /// UTM source, medium, campaign of their first touch (their first submission's
    /// `attribution.firstTouch`).
    pub first_utm: [Option<String>; 3],
    /// UTM source, medium, campaign of their last touch (their latest submission's page).
    pub last_utm: [Option<String>; 3],
    /// Their latest feedback and when it was given.
    pub status: Option<(String, String)>,
}

/// One piece of sales feedback on a person ([`Store::give_feedback`], [`Store::feedback`]).
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Feedback {
    /// One of [`STATUSES`].
    pub status: String,
    /// For `rejected`: one of [`REJECT_REASONS`]' ids.
    pub reason: Option<String>,
    /// For `won`: the deal's value.
    pub value: Option<f64>,
    /// When it was given (RFC 3339).
    pub at: String,
    /// Who gave it.
    pub by: String,
    /// The submission it was recorded on (the person's latest then, or the one named).
    pub lead_id: Option<String>,
}

/// Which touch a source is credited with in [`Store::people_quality`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Credit {
    /// The source of the visitor's first touch: how they first found the site.
    First,
    /// The source of their latest submission's page: what brought them to submit last.
    Last,
}

/// Lead-source quality counted in people: one source/medium/campaign under one [`Credit`].
#[derive(Debug, Clone, PartialEq)]
pub struct PeopleQuality {
    /// UTM source, medium, campaign (lowercase; `None` where the touch had none).
    pub utm: [Option<String>; 3],
    /// People (not flagged as spam) credited to it.
    pub people: u64,
    /// Of them, how many have their form's best grade (hot) now.
    pub best: u64,
    /// Of them, how many sales gave feedback on.
    pub reviewed: u64,
    /// Of them, how many sales accepted (accepted, won or lost).
    pub accepted: u64,
    /// Of them, how many were won.
    pub won: u64,
}

impl PeopleQuality {
    /// Share of people who are hot now, 0-1.
    pub fn hot_share(&self) -> Option<f64> {
        ratio(self.best, self.people)
    }

    /// Accepted among those sales gave feedback on, 0-1; `None` before any feedback.
    pub fn acceptance_rate(&self) -> Option<f64> {
        ratio(self.accepted, self.reviewed)
    }

    /// Won among those sales accepted, 0-1; `None` before any was accepted.
    pub fn win_rate(&self) -> Option<f64> {
        ratio(self.won, self.accepted)
    }
}

fn ratio(part: u64, whole: u64) -> Option<f64> {
    (whole > 0).then(|| part as f64 / whole as f64)
}

/// The person's columns of the touch `credit` names.
fn quality_columns(credit: Credit) -> &'static str {
    match credit {
        Credit::First => "lower(first_source), lower(first_medium), lower(first_campaign)",
        Credit::Last => "lower(last_source), lower(last_medium), lower(last_campaign)",
    }
}

/// Where a count of leads found by a search stops: a search reads the leads themselves, and
/// "more than 10,000" is all a person looking for someone needs.
pub const SEARCH_COUNT_CAP: u64 = 10_000;

/// Where a page of leads ended (newest first), so the next page starts after it without
/// counting its way past every earlier row: how exports read a million leads in pages.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Cursor {
    received_at: String,
    /// SQLite's rowid or PostgreSQL's `seq`: the order of rows received in the same instant.
    position: i64,
}

impl Row {
    /// Where the next page after this row starts.
    pub fn cursor(&self) -> Cursor {
        Cursor {
            received_at: self.received_at.clone(),
            position: self.position,
        }
    }
}

/// SQL that keeps the rows after `cursor` (newest first), given the placeholder of its time.
fn after_sql(cursor: &Cursor, placeholder: &str, position_column: &str) -> String {
    // The position is a number we read ourselves: written into the SQL, it is never text.
    // The first term is a range on the index, so a page starts where the last one ended
    // instead of scanning from the newest lead.
    format!(
        "received_at <= {placeholder} AND (received_at < {placeholder} OR {position_column} < {})",
        cursor.position
    )
}

/// Lead-source quality from summary rows: `(source, medium, campaign)` with `""` for none.
fn quality_from_counts(utm: [String; 3], leads: i64, best: i64, total_sum: i64) -> SourceQuality {
    let none_if_empty = |s: String| if s.is_empty() { None } else { Some(s) };
    let [source, medium, campaign] = utm;
    SourceQuality {
        utm: [
            none_if_empty(source),
            none_if_empty(medium),
            none_if_empty(campaign),
        ],
        leads: u64::try_from(leads).unwrap_or(0),
        best: u64::try_from(best).unwrap_or(0),
        average: if leads > 0 {
            total_sum as f64 / leads as f64
        } else {
            0.0
        },
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
    /// How its deliveries stand, when it goes to any destination.
    pub deliveries: Option<DeliverySummary>,
    /// The stored document as stored (JSON text): each reader parses what it needs of it.
    pub document: String,
    /// SQLite's rowid or PostgreSQL's `seq` (see [`Row::cursor`]).
    pub position: i64,
    /// The version of its form it was scored with (`None` for leads stored before versions).
    pub form_version: Option<i64>,
    /// The key of the person it belongs to.
    pub person: Option<String>,
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

/// Leads received on one day (UTC), for the inbox's chart.
#[derive(Debug, Clone, PartialEq)]
pub struct Daily {
    /// The day, `YYYY-MM-DD`.
    pub day: String,
    /// How many leads.
    pub leads: u64,
    /// How many had their form's best grade.
    pub best: u64,
}

/// A lead of one form with its sales status, for learning points from outcomes
/// ([`Store::outcomes`]).
#[derive(Debug, Clone, PartialEq)]
pub struct LeadOutcome {
    /// The lead id.
    pub id: String,
    /// When the collector received it (for an imported lead, the date its row gave): the
    /// order a fit's holdout follows.
    pub received_at: String,
    /// The sales status: `accepted`, `rejected`, `won` or `lost`.
    pub status: String,
    /// The stored document.
    pub document: String,
}

/// A lead to store from a history import ([`Store::import`]): checked like a posted lead, with
/// its arrival time and, when known, its sales status.
#[derive(Debug, Clone, PartialEq)]
pub struct Imported {
    /// The checked lead.
    pub lead: Ingested,
    /// When it arrived (from the history, not the clock).
    pub received_at: String,
    /// Its sales status, one of [`STATUSES`], if the history has one.
    pub status: Option<String>,
}

/// What an import stored.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ImportCount {
    /// Leads stored by this import.
    pub created: usize,
    /// Leads whose id was stored already (left as they were, but for their status).
    pub existing: usize,
    /// Leads given a sales status.
    pub statuses: usize,
}

/// One published version of a form's config: the history the forms pages show.
#[derive(Debug, Clone, PartialEq)]
pub struct FormVersion {
    /// The form id.
    pub form_id: String,
    /// 1 for the first version, then one more for each publish.
    pub version: i64,
    /// The config as written to the form's file.
    pub config: String,
    /// When it was published (RFC 3339, UTC).
    pub published_at: String,
    /// Who published it: the admin's name, or `file` for a file found in the forms folder.
    pub by: String,
    /// Why, if they said.
    pub note: Option<String>,
}

/// What [`Store::add_form_version`] did.
#[derive(Debug, Clone, PartialEq)]
pub enum Published {
    /// Recorded under this version number.
    Recorded(i64),
    /// Not recorded: the form's latest version is not the one the change was based on. The
    /// latest version (`None` when the form has none).
    Stale(Option<FormVersion>),
}

/// One entry of [`Store::list`]: `{receivedAt, scoreMismatch, clientScore, formVersion, lead}`.
/// Which leads an erasure deletes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Erase {
    /// Everything held about one person: their leads (by email, without regard to case), their
    /// queued and sent deliveries and the quarantined leads that carry their email.
    Person {
        /// The person's email, as they gave it or in any case.
        email: String,
    },
    /// The retention period: leads that arrived before `before` (RFC 3339) and that sales did
    /// not accept or win (no status, rejected or lost), with their deliveries.
    Expired {
        /// The oldest arrival kept.
        before: String,
    },
}

/// What an erasure deleted, and the record it left ([`Store::erasures`]).
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize)]
pub struct Erasure {
    /// When it happened.
    pub at: String,
    /// `person` or `retention`.
    pub reason: String,
    /// Who asked (`admin`, or `retention` for the collector's own clean-up).
    pub by: String,
    /// For a person, the SHA-256 of their lowercased email (the record never holds the email
    /// itself); for the retention period, the cut-off time.
    pub subject: String,
    /// Leads deleted.
    pub leads: u64,
    /// Deliveries (queued, sent or failed, to any destination) deleted.
    pub deliveries: u64,
    /// Quarantined leads deleted.
    pub quarantined: u64,
}

/// Everything held about one person ([`Store::person`]).
#[derive(Debug, Clone, Default, PartialEq, serde::Serialize)]
pub struct PersonData {
    /// Their leads, oldest first: `{receivedAt, status, statusAt, deliveries: [{destination, state}], lead}`.
    pub leads: Vec<Value>,
    /// Quarantined leads that carry their email: `{receivedAt, reason, lead}`.
    pub quarantined: Vec<Value>,
}

impl Erase {
    /// The condition on `leads` with its one parameter written `{}`, that parameter, the
    /// erasure's reason and its subject (see [`Erasure`]).
    fn terms(&self) -> (&'static str, String, &'static str, String) {
        match self {
            Erase::Person { email } => (
                "(lower(email) = {} OR person_id IN (SELECT id FROM persons WHERE key = {}))",
                email.clone(),
                "person",
                email_digest(email),
            ),
            Erase::Expired { before } => (
                "received_at < {} AND (status IS NULL OR status IN ('rejected', 'lost'))",
                before.clone(),
                "retention",
                format!("arrived before {before}, not accepted or won"),
            ),
        }
    }
}

/// The SHA-256 of a lowercased email, as erasure records name a person.
pub fn email_digest(email: &str) -> String {
    use sha2::Digest as _;
    let digest = sha2::Sha256::digest(email.trim().to_lowercase().as_bytes());
    digest.iter().map(|b| format!("{b:02x}")).collect()
}

/// One entry of [`Store::list`]: `{receivedAt, scoreMismatch, clientScore, lead}`.
fn listed(
    received_at: String,
    score_mismatch: bool,
    client_total: Option<u8>,
    client_grade: Option<String>,
    document: &str,
    form_version: Option<i64>,
) -> Result<Value, StoreError> {
    let lead: Value = serde_json::from_str(document)?;
    Ok(serde_json::json!({
        "receivedAt": received_at,
        "scoreMismatch": score_mismatch,
        "clientScore": { "total": client_total, "grade": client_grade },
        "formVersion": form_version,
        "lead": lead,
    }))
}

/// The lead database: a SQLite file, or a PostgreSQL database several collectors may share.
pub struct Store {
    backend: Backend,
    name: String,
}

enum Backend {
    Sqlite(sqlite::Sqlite),
    Postgres(postgres::Postgres),
}

/// Calls the same async method on whichever backend the store has.
macro_rules! dispatch {
    ($self:ident . $method:ident ( $($arg:expr),* )) => {
        match &$self.backend {
            Backend::Sqlite(db) => db.$method($($arg),*).await,
            Backend::Postgres(db) => db.$method($($arg),*).await,
        }
    };
}

mod users;
pub use users::{AuditEntry, SessionRecord, User};

/// Whether `db` names a PostgreSQL database rather than a SQLite file.
pub fn is_postgres_url(db: &str) -> bool {
    db.starts_with("postgres://") || db.starts_with("postgresql://")
}

impl Store {
    /// Opens the database `db` names and applies pending migrations: a `postgres://` or
    /// `postgresql://` URL is a PostgreSQL database (reached through a pool of connections);
    /// anything else is the path of a SQLite file, created if needed, in WAL mode with full
    /// sync (a lead is answered only once it is on disk).
    ///
    /// # Errors
    /// [`StoreError::Open`] when the SQLite file cannot be opened or migrated;
    /// [`StoreError::Url`], [`StoreError::Connect`] or [`StoreError::Migrate`] when PostgreSQL
    /// cannot be used; [`StoreError::Newer`] for a schema from a newer collector. No message
    /// carries the password.
    pub async fn open(db: &str) -> Result<Store, StoreError> {
        if is_postgres_url(db) {
            let (backend, name) = postgres::Postgres::open(db).await?;
            return Ok(Store {
                backend: Backend::Postgres(backend),
                name,
            });
        }
        let path = std::path::PathBuf::from(db);
        let backend = tokio::task::spawn_blocking(move || sqlite::Sqlite::open(&path))
            .await
            .map_err(|err| StoreError::Task(err.to_string()))??;
        Ok(Store {
            backend: Backend::Sqlite(backend),
            name: format!("SQLite {db}"),
        })
    }

    /// What the store is, for logs: `SQLite bantam.db` or `PostgreSQL at host:5432/db`
    /// (never the password).
    pub fn name(&self) -> &str {
        &self.name
    }

    /// Stores a lead (and its deliveries, when it has any) in one transaction unless a lead
    /// with its id exists; either way returns what is stored.
    ///
    /// # Errors
    /// [`StoreError`] when the database fails.
    pub async fn insert(&self, lead: &Ingested, received_at: &str) -> Result<Stored, StoreError> {
        dispatch!(self.insert(lead, received_at, &[]))
    }

    /// [`Store::insert`], and in the same transaction, when the lead is new, has its form's best
    /// grade, is not flagged as spam and its person has no owner, the next of `reps` in turn
    /// becomes the person's owner ([`Stored::assigned`]), recorded in the audit log by
    /// [`ROUND_ROBIN`] as a manual assignment is. The turn is kept per form in the database
    /// (`rotations`), so a restart goes on where it was, and concurrent inserts (of one
    /// collector or several) each take their own turn.
    ///
    /// # Errors
    /// [`StoreError`] when the database fails.
    pub async fn insert_assigning(
        &self,
        lead: &Ingested,
        received_at: &str,
        reps: &[String],
    ) -> Result<Stored, StoreError> {
        dispatch!(self.insert(lead, received_at, reps))
    }

    /// The newest leads first, each as `{receivedAt, scoreMismatch, clientScore, lead}`.
    ///
    /// # Errors
    /// [`StoreError`] when the database fails or a row is corrupt.
    pub async fn list(&self, limit: u32, offset: u32) -> Result<Vec<Value>, StoreError> {
        dispatch!(self.list(limit, offset))
    }

    /// The stored document of one lead.
    ///
    /// # Errors
    /// [`StoreError`] when the database fails or the row is corrupt.
    pub async fn get(&self, id: &str) -> Result<Option<Value>, StoreError> {
        dispatch!(self.get(id))
    }

    /// How many leads are stored.
    ///
    /// # Errors
    /// [`StoreError`] when the database fails.
    pub async fn count(&self) -> Result<u64, StoreError> {
        dispatch!(self.count())
    }

    /// Holds a lead back with its reason, unless its id is stored already (as a lead or in
    /// quarantine). Returns whether this call created the row.
    ///
    /// # Errors
    /// [`StoreError`] when the database fails.
    pub async fn quarantine(&self, lead: &Quarantined) -> Result<bool, StoreError> {
        dispatch!(self.quarantine(lead))
    }

    /// Quarantined leads not yet accepted, newest first.
    ///
    /// # Errors
    /// [`StoreError`] when the database fails.
    pub async fn quarantined(
        &self,
        limit: u32,
        offset: u32,
    ) -> Result<Vec<Quarantined>, StoreError> {
        dispatch!(self.quarantined(limit, offset))
    }

    /// One quarantined lead, accepted or not.
    ///
    /// # Errors
    /// [`StoreError`] when the database fails.
    pub async fn quarantined_one(&self, id: &str) -> Result<Option<Quarantined>, StoreError> {
        dispatch!(self.quarantined_one(id))
    }

    /// How many quarantined leads wait for an admin.
    ///
    /// # Errors
    /// [`StoreError`] when the database fails.
    pub async fn quarantine_count(&self) -> Result<u64, StoreError> {
        dispatch!(self.quarantine_count())
    }

    /// Stores a quarantined lead as a lead and marks it accepted, in one transaction; a hot
    /// lead whose person has no owner gets the next of `reps` in turn, as a new lead does
    /// ([`Store::insert_assigning`]).
    ///
    /// # Errors
    /// [`StoreError`] when the database fails.
    pub async fn accept(
        &self,
        lead: &Ingested,
        at: &str,
        reps: &[String],
    ) -> Result<Stored, StoreError> {
        dispatch!(self.accept(lead, at, reps))
    }

    /// Leads matching `filter`, newest first.
    ///
    /// # Errors
    /// [`StoreError`] when the database fails or a row is corrupt.
    pub async fn rows(
        &self,
        filter: &Filter,
        limit: u32,
        offset: u32,
    ) -> Result<Vec<Row>, StoreError> {
        dispatch!(self.rows_where(filter, None, limit, offset))
    }

    /// The next `limit` leads matching `filter` after `cursor` (newest first): pages of an
    /// export, each read on its own, so a long export neither holds the database nor counts
    /// its way past the rows it has already read.
    ///
    /// # Errors
    /// [`StoreError`] when the database fails or a row is corrupt.
    pub async fn rows_after(
        &self,
        filter: &Filter,
        cursor: &Cursor,
        limit: u32,
    ) -> Result<Vec<Row>, StoreError> {
        dispatch!(self.rows_where(filter, Some(cursor), limit, 0))
    }

    /// How many leads match `filter` (from the per-day summary unless the filter searches; a
    /// search counts up to [`SEARCH_COUNT_CAP`] + 1).
    ///
    /// # Errors
    /// [`StoreError`] when the database fails.
    pub async fn count_matching(&self, filter: &Filter) -> Result<u64, StoreError> {
        dispatch!(self.count_matching(filter))
    }

    /// One lead with everything the inbox shows.
    ///
    /// # Errors
    /// [`StoreError`] when the database fails or the row is corrupt.
    pub async fn row(&self, id: &str) -> Result<Option<Row>, StoreError> {
        dispatch!(self.row(id))
    }

    /// One person by key (see [`person_key`]).
    ///
    /// # Errors
    /// [`StoreError`] when the database fails.
    pub async fn person_by_key(&self, key: &str) -> Result<Option<Person>, StoreError> {
        dispatch!(self.person_by_key(key))
    }

    /// People matching `filter` (see [`Filter`]: grade, status and owner are the person's),
    /// the most recently active first.
    ///
    /// # Errors
    /// [`StoreError`] when the database fails.
    pub async fn people(
        &self,
        filter: &Filter,
        limit: u32,
        offset: u32,
    ) -> Result<Vec<Person>, StoreError> {
        dispatch!(self.people(filter, limit, offset))
    }

    /// How many people match `filter`.
    ///
    /// # Errors
    /// [`StoreError`] when the database fails.
    pub async fn count_people(&self, filter: &Filter) -> Result<u64, StoreError> {
        dispatch!(self.count_people(filter))
    }

    /// A person's submissions, oldest first.
    ///
    /// # Errors
    /// [`StoreError`] when the database fails or a row is corrupt.
    pub async fn person_leads(&self, key: &str) -> Result<Vec<Row>, StoreError> {
        dispatch!(self.person_leads(key))
    }

    /// Sets (or with `None` clears) the owner of the person `key`; false when there is no
    /// such person.
    ///
    /// # Errors
    /// [`StoreError`] when the database fails.
    pub async fn set_owner(&self, key: &str, owner: Option<&str>) -> Result<bool, StoreError> {
        dispatch!(self.set_owner(key, owner))
    }

    /// The owner of the person `key`: `None` when there is no such person, `Some(None)` when
    /// nobody owns them.
    ///
    /// # Errors
    /// [`StoreError`] when the database fails.
    pub async fn owner(&self, key: &str) -> Result<Option<Option<String>>, StoreError> {
        Ok(self.person_by_key(key).await?.map(|p| p.owner))
    }

    /// Records sales feedback on the person `key` (checked by the caller: a status of
    /// [`STATUSES`], a reason only for `rejected`, a value only for `won`) in their history, as
    /// their status, and as the sales status of their latest submission, so learning and the
    /// leads' status filter see it. Returns the feedback as recorded, or `None` when there is
    /// no such person.
    ///
    /// # Errors
    /// [`StoreError`] when the database fails.
    pub async fn give_feedback(
        &self,
        key: &str,
        feedback: &Feedback,
    ) -> Result<Option<Feedback>, StoreError> {
        dispatch!(self.give_feedback(key, feedback))
    }

    /// The feedback history of the person `key`, newest first.
    ///
    /// # Errors
    /// [`StoreError`] when the database fails.
    pub async fn feedback(&self, key: &str) -> Result<Vec<Feedback>, StoreError> {
        dispatch!(self.feedback(key))
    }

    /// Lead-source quality counted in people (not flagged as spam) matching `filter`, each
    /// credited to the source of their first or last touch, most people first.
    ///
    /// # Errors
    /// [`StoreError`] when the database fails.
    pub async fn people_quality(
        &self,
        filter: &Filter,
        credit: Credit,
    ) -> Result<Vec<PeopleQuality>, StoreError> {
        dispatch!(self.people_quality(filter, credit))
    }

    /// Records sales feedback given on a lead: it is the feedback of the lead's person (see
    /// [`Store::give_feedback`]), recorded on this lead; returns false when no lead has this id.
    ///
    /// # Errors
    /// [`StoreError`] when the database fails.
    pub async fn lead_feedback(&self, id: &str, feedback: &Feedback) -> Result<bool, StoreError> {
        dispatch!(self.set_status(id, feedback))
    }

    /// Records sales status `status` on the lead `id` at `at`, given by `admin` (see
    /// [`Store::lead_feedback`]); returns false when no lead has this id.
    ///
    /// # Errors
    /// [`StoreError`] when the database fails.
    pub async fn set_status(&self, id: &str, status: &str, at: &str) -> Result<bool, StoreError> {
        let feedback = Feedback {
            status: status.to_owned(),
            reason: None,
            value: None,
            at: at.to_owned(),
            by: "admin".to_owned(),
            lead_id: Some(id.to_owned()),
        };
        self.lead_feedback(id, &feedback).await
    }

    /// One page of the leads of form `form_id` that have a sales status, oldest first (by
    /// arrival, then id), starting after `after` (a lead of the previous page, usually its
    /// last) and holding at most `limit`. An empty page is the end. Pages, not one result: a
    /// fit over 100,000 leads never holds them twice, and a SQLite collector keeps taking leads
    /// between pages (its one connection is held for one page at a time).
    ///
    /// # Errors
    /// [`StoreError`] when the database fails.
    pub async fn outcomes(
        &self,
        form_id: &str,
        after: Option<&LeadOutcome>,
        limit: u32,
    ) -> Result<Vec<LeadOutcome>, StoreError> {
        let (at, id) = after.map_or(("", ""), |a| (a.received_at.as_str(), a.id.as_str()));
        dispatch!(self.outcomes(form_id, at, id, limit))
    }

    /// What the outcomes of form `form_id` amount to, cheaply: how many leads have a sales
    /// status and when the latest was given. Any new status (or a lead gone) changes it, so a
    /// fit made from the outcomes stays good while it stays the same.
    ///
    /// # Errors
    /// [`StoreError`] when the database fails.
    pub async fn outcome_stamp(&self, form_id: &str) -> Result<(u64, Option<String>), StoreError> {
        dispatch!(self.outcome_stamp(form_id))
    }

    /// Everything held about the person with `email` (any case).
    ///
    /// # Errors
    /// [`StoreError`] when the database fails or a row is corrupt.
    pub async fn person(&self, email: &str) -> Result<PersonData, StoreError> {
        // Keyed as people are (ASCII lower case), so `ÄNN@x.com` finds `Änn@x.com`.
        let email = normal_email(Some(email)).unwrap_or_default();
        dispatch!(self.person(&email))
    }

    /// Deletes the leads `what` names in one transaction, with their deliveries (and a person's
    /// quarantined leads), takes them out of the summary, and records the erasure (`by`, `at`).
    ///
    /// # Errors
    /// [`StoreError`] when the database fails; nothing is deleted then.
    pub async fn erase(&self, what: &Erase, by: &str, at: &str) -> Result<Erasure, StoreError> {
        let what = match what {
            Erase::Person { email } => Erase::Person {
                email: normal_email(Some(email)).unwrap_or_default(),
            },
            other => other.clone(),
        };
        dispatch!(self.erase(&what, by, at))
    }

    /// The record of every erasure, newest first (at most `limit`).
    ///
    /// # Errors
    /// [`StoreError`] when the database fails.
    pub async fn erasures(&self, limit: u32) -> Result<Vec<Erasure>, StoreError> {
        dispatch!(self.erasures(limit))
    }

    /// Stores leads from a history import in one transaction: all of them or, when the
    /// database fails, none. A lead whose id is stored already is left as it is; a given
    /// status is recorded (at `at`) either way.
    ///
    /// # Errors
    /// [`StoreError`] when the database fails; nothing is stored then.
    pub async fn import(&self, leads: Vec<Imported>, at: &str) -> Result<ImportCount, StoreError> {
        dispatch!(self.import(leads, at))
    }

    /// Every version of form `form_id`, newest first.
    ///
    /// # Errors
    /// [`StoreError`] when the database fails.
    pub async fn form_versions(&self, form_id: &str) -> Result<Vec<FormVersion>, StoreError> {
        dispatch!(self.form_versions(form_id))
    }

    /// Version `version` of form `form_id`, or its latest when `version` is `None`.
    ///
    /// # Errors
    /// [`StoreError`] when the database fails.
    pub async fn form_version(
        &self,
        form_id: &str,
        version: Option<i64>,
    ) -> Result<Option<FormVersion>, StoreError> {
        dispatch!(self.form_version(form_id, version))
    }

    /// Records `config` as the next version of its form (`version.version` is ignored: the
    /// next number is taken), if the form's latest version is `based_on` (0: the form has no
    /// version yet; `None`: whatever it is). Two publishes based on the same version record
    /// one of them; the other is told which version came first.
    ///
    /// # Errors
    /// [`StoreError`] when the database fails.
    pub async fn add_form_version(
        &self,
        version: &FormVersion,
        based_on: Option<i64>,
    ) -> Result<Published, StoreError> {
        dispatch!(self.add_form_version(version, based_on))
    }

    /// Removes a version just recorded whose file could not be written, so history and the
    /// forms folder never disagree.
    ///
    /// # Errors
    /// [`StoreError`] when the database fails.
    pub async fn drop_form_version(&self, form_id: &str, version: i64) -> Result<(), StoreError> {
        dispatch!(self.drop_form_version(form_id, version))
    }

    /// Leads of form `form_id` received on or after `day` (`YYYY-MM-DD`), and how many of
    /// them had the form's best grade (from the per-day summary).
    ///
    /// # Errors
    /// [`StoreError`] when the database fails.
    pub async fn form_counts(&self, form_id: &str, day: &str) -> Result<(u64, u64), StoreError> {
        dispatch!(self.form_counts(form_id, day))
    }

    /// Lead-source quality for the leads matching `filter`, most leads first (from the per-day
    /// summary unless the filter searches or names a status). Sources, mediums and campaigns
    /// that differ only in ASCII case are one row, spelled in lowercase.
    ///
    /// # Errors
    /// [`StoreError`] when the database fails.
    pub async fn source_quality(&self, filter: &Filter) -> Result<Vec<SourceQuality>, StoreError> {
        dispatch!(self.source_quality(filter))
    }

    /// Leads per day for the leads matching `filter`, oldest day first, days without leads left
    /// out (from the per-day summary unless the filter searches or names a status).
    ///
    /// # Errors
    /// [`StoreError`] when the database fails.
    pub async fn daily(&self, filter: &Filter) -> Result<Vec<Daily>, StoreError> {
        dispatch!(self.daily(filter))
    }

    /// A destination's outbox entries due at `now_ms`, oldest first, at most `limit`, each
    /// claimed for `lease`: no other worker (of this collector or another) gets it until the
    /// lease runs out or the entry is recorded ([`Store::delivered`], [`Store::delivery_failed`])
    /// or handed back ([`Store::release_deliveries`]).
    ///
    /// # Errors
    /// [`StoreError`] when the database fails.
    pub async fn due_deliveries(
        &self,
        destination: &str,
        now_ms: i64,
        limit: u32,
        lease: Duration,
    ) -> Result<Vec<Due>, StoreError> {
        dispatch!(self.due_deliveries(destination, now_ms, limit, lease))
    }

    /// Hands back claimed entries of a destination not attempted, so they are due again at once.
    ///
    /// # Errors
    /// [`StoreError`] when the database fails.
    pub async fn release_deliveries(
        &self,
        destination: &str,
        lead_ids: &[String],
    ) -> Result<(), StoreError> {
        dispatch!(self.release_deliveries(destination, lead_ids))
    }

    /// Marks a delivery done with the receiver's status.
    ///
    /// # Errors
    /// [`StoreError`] when the database fails.
    pub async fn delivered(
        &self,
        lead_id: &str,
        destination: &str,
        status: u16,
        at: &str,
    ) -> Result<(), StoreError> {
        dispatch!(self.delivered(lead_id, destination, status, at))
    }

    /// Records a failed attempt: retry at `next_at_ms`, or give up when `failed`.
    ///
    /// # Errors
    /// [`StoreError`] when the database fails.
    pub async fn delivery_failed(
        &self,
        lead_id: &str,
        destination: &str,
        attempts: u32,
        next_at_ms: i64,
        error: &str,
        failed: bool,
    ) -> Result<(), StoreError> {
        dispatch!(self.delivery_failed(lead_id, destination, attempts, next_at_ms, error, failed))
    }

    /// Records the outcomes of a pass over a destination's entries in one transaction (one
    /// write to disk for the pass, not one per delivery), ending their claims.
    ///
    /// # Errors
    /// [`StoreError`] when the database fails.
    pub async fn record_deliveries(
        &self,
        destination: &str,
        outcomes: &[(String, Attempted)],
    ) -> Result<(), StoreError> {
        if outcomes.is_empty() {
            return Ok(());
        }
        dispatch!(self.record_deliveries(destination, outcomes))
    }

    /// Where each delivery of a lead stands, by destination name.
    ///
    /// # Errors
    /// [`StoreError`] when the database fails.
    pub async fn deliveries(&self, lead_id: &str) -> Result<Vec<DeliveryState>, StoreError> {
        dispatch!(self.deliveries(lead_id))
    }
}
