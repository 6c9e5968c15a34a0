//! The PostgreSQL backend: one database that several collector processes share.
//!
//! tokio-postgres over a deadpool pool (no TLS: meant for a database on the same host or a
//! private network; put a TLS tunnel in front otherwise). What makes sharing safe:
//!
//! - migrations run in one transaction under an advisory lock, so collectors starting at once
//!   migrate once;
//! - a lead is inserted with `ON CONFLICT (id) DO NOTHING` and read back in the same
//!   transaction as its outbox entry, so concurrent posts of one id store it once and every
//!   post is answered with the stored row;
//! - a delivery is claimed (`FOR UPDATE SKIP LOCKED`, then a lease in `claimed_until`) before
//!   it is sent, so one collector sends it, and a collector that dies mid-send only delays it
//!   by the lease.

use std::time::Duration;

use deadpool_postgres::{Manager, ManagerConfig, Pool, PoolError, RecyclingMethod, Transaction};
use serde_json::Value;
use tokio_postgres::config::Host;
use tokio_postgres::types::ToSql;
use tokio_postgres::NoTls;

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
                ORDER BY spam, received_at DESC, seq DESC LIMIT 1),
            (first_at, first_source, first_medium, first_campaign) = (
                SELECT received_at, first_source, first_medium, first_campaign
                FROM leads WHERE leads.person_id = persons.id
                ORDER BY spam, received_at, seq LIMIT 1),
            company = COALESCE((SELECT company FROM leads
                WHERE leads.person_id = persons.id AND company IS NOT NULL
                ORDER BY received_at DESC, seq DESC LIMIT 1), company)"
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
            (leads, spam) = (SELECT COUNT(*), COALESCE(bool_and(spam), FALSE) FROM leads
                             WHERE leads.person_id = persons.id),
            (status, status_at) = (SELECT status, at FROM feedback
                WHERE feedback.person_id = persons.id ORDER BY at DESC, seq DESC LIMIT 1)"
        )
    };
}

/// Schema migrations by version, the same logical schema as SQLite's (`sqlite.rs`) version
/// for version; `schema_version` counts those done. Differences: `seq` stands in for SQLite's
/// `rowid` (arrival order among equal times), times are `TEXT COLLATE "C"` so they compare as
/// SQLite compares them (byte order), and the outbox has its claim lease from the start.
const MIGRATIONS: [&str; 15] = [
    r#"CREATE TABLE leads (
        id           TEXT COLLATE "C" PRIMARY KEY,
        seq          BIGSERIAL NOT NULL,
        form_id      TEXT NOT NULL,
        received_at  TEXT COLLATE "C" NOT NULL,
        submitted_at TEXT NOT NULL,
        email        TEXT,
        grade        TEXT NOT NULL,
        total        SMALLINT NOT NULL,
        document     TEXT NOT NULL
    );
    CREATE INDEX leads_received ON leads (received_at, seq);"#,
    "ALTER TABLE leads ADD COLUMN client_total SMALLINT,
        ADD COLUMN client_grade TEXT,
        ADD COLUMN score_mismatch BOOLEAN NOT NULL DEFAULT FALSE;",
    "ALTER TABLE leads ADD COLUMN company TEXT,
        ADD COLUMN utm_source TEXT,
        ADD COLUMN utm_medium TEXT,
        ADD COLUMN utm_campaign TEXT,
        ADD COLUMN best_grade BOOLEAN NOT NULL DEFAULT FALSE,
        ADD COLUMN status TEXT,
        ADD COLUMN status_at TEXT;
    CREATE INDEX leads_grade ON leads (grade);",
    // `claimed_until` (ms since the epoch, by the database's clock): while it is in the
    // future, one collector is sending the entry and no other takes it.
    r#"CREATE TABLE forwards (
        lead_id       TEXT COLLATE "C" PRIMARY KEY REFERENCES leads (id),
        attempts      INTEGER NOT NULL DEFAULT 0,
        next_at       BIGINT NOT NULL,
        state         TEXT NOT NULL DEFAULT 'pending',
        last_error    TEXT,
        status_code   INTEGER,
        delivered_at  TEXT,
        claimed_until BIGINT NOT NULL DEFAULT 0
    );
    CREATE INDEX forwards_due ON forwards (state, next_at);"#,
    r#"CREATE TABLE quarantine (
        id          TEXT COLLATE "C" PRIMARY KEY,
        seq         BIGSERIAL NOT NULL,
        form_id     TEXT NOT NULL,
        received_at TEXT COLLATE "C" NOT NULL,
        reason      TEXT NOT NULL,
        origin      TEXT,
        email       TEXT,
        document    TEXT NOT NULL,
        accepted_at TEXT
    );
    CREATE INDEX quarantine_received ON quarantine (received_at, seq);"#,
    "ALTER TABLE leads ADD COLUMN body_sha256 TEXT;",
    // Leads counted per day, form, grade and source, kept with every insert: the inbox's
    // totals and lead-source quality read this, not every lead (a million leads).
    r#"CREATE TABLE lead_counts (
        day          TEXT COLLATE "C" NOT NULL,
        form_id      TEXT NOT NULL,
        grade        TEXT NOT NULL,
        utm_source   TEXT COLLATE "C" NOT NULL,
        utm_medium   TEXT NOT NULL,
        utm_campaign TEXT NOT NULL,
        leads        BIGINT NOT NULL,
        best         BIGINT NOT NULL,
        total_sum    BIGINT NOT NULL,
        PRIMARY KEY (day, form_id, grade, utm_source, utm_medium, utm_campaign)
    );
    INSERT INTO lead_counts
        SELECT substr(received_at, 1, 10), form_id, grade, COALESCE(utm_source, ''),
               COALESCE(utm_medium, ''), COALESCE(utm_campaign, ''), COUNT(*),
               COUNT(*) FILTER (WHERE best_grade), SUM(total)
        FROM leads GROUP BY 1, 2, 3, 4, 5, 6;"#,
    // A page of one grade or one form, newest first, reads its rows in order instead of
    // sorting every lead of that grade.
    "DROP INDEX IF EXISTS leads_grade;
    CREATE INDEX leads_grade_received ON leads (grade, received_at, seq);
    CREATE INDEX leads_form_received ON leads (form_id, received_at, seq);",
    // Every published version of each form's config, and the version each lead was scored
    // with (NULL for leads stored before).
    r#"CREATE TABLE form_versions (
        form_id      TEXT COLLATE "C" NOT NULL,
        version      BIGINT NOT NULL,
        config       TEXT NOT NULL,
        published_at TEXT NOT NULL,
        by_whom      TEXT NOT NULL,
        note         TEXT,
        PRIMARY KEY (form_id, version)
    );
    ALTER TABLE leads ADD COLUMN form_version BIGINT;"#,
    r#"CREATE INDEX leads_email ON leads (lower(email));
    CREATE TABLE erasures (
        seq         BIGSERIAL NOT NULL,
        at          TEXT COLLATE "C" NOT NULL,
        reason      TEXT NOT NULL,
        by_whom     TEXT NOT NULL,
        subject     TEXT NOT NULL,
        leads       BIGINT NOT NULL,
        forwards    BIGINT NOT NULL,
        quarantined BIGINT NOT NULL
    );"#,
    // A page of one sales status reads its rows in order.
    "CREATE INDEX leads_status_received ON leads (status, received_at, seq);",
    // People: one row per contact, every lead linked to one; their feedback history; what the
    // people list shows of a person kept on its row (see `sqlite.rs`).
    concat!(
        r#"ALTER TABLE leads ADD COLUMN person_id BIGINT,
        ADD COLUMN spam BOOLEAN NOT NULL DEFAULT FALSE,
        ADD COLUMN first_source TEXT,
        ADD COLUMN first_medium TEXT,
        ADD COLUMN first_campaign TEXT;
    UPDATE leads SET spam = COALESCE((document::jsonb #>> '{spam,flagged}')::boolean, FALSE),
        (first_source, first_medium, first_campaign) = (
            CASE WHEN jsonb_typeof(document::jsonb -> 'attribution') = 'object'
                 THEN document::jsonb #>> '{attribution,firstTouch,utm,source}' ELSE utm_source END,
            CASE WHEN jsonb_typeof(document::jsonb -> 'attribution') = 'object'
                 THEN document::jsonb #>> '{attribution,firstTouch,utm,medium}' ELSE utm_medium END,
            CASE WHEN jsonb_typeof(document::jsonb -> 'attribution') = 'object'
                 THEN document::jsonb #>> '{attribution,firstTouch,utm,campaign}' ELSE utm_campaign END);
    CREATE TABLE persons (
        id             BIGSERIAL PRIMARY KEY,
        key            TEXT COLLATE "C" NOT NULL UNIQUE,
        email          TEXT,
        visitor_id     TEXT,
        owner          TEXT,
        company        TEXT,
        first_at       TEXT COLLATE "C",
        last_at        TEXT COLLATE "C",
        last_lead      TEXT,
        grade          TEXT,
        total          SMALLINT,
        best_grade     BOOLEAN,
        leads          BIGINT NOT NULL DEFAULT 0,
        spam           BOOLEAN NOT NULL DEFAULT FALSE,
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
        seq       BIGSERIAL NOT NULL,
        person_id BIGINT NOT NULL,
        at        TEXT COLLATE "C" NOT NULL,
        status    TEXT NOT NULL,
        reason    TEXT,
        value     DOUBLE PRECISION,
        by_whom   TEXT NOT NULL,
        lead_id   TEXT
    );
    CREATE INDEX feedback_person ON feedback (person_id, at);
    INSERT INTO persons (key, email)
        SELECT lower(trim(email) COLLATE "C"), lower(trim(email) COLLATE "C") FROM leads
        WHERE trim(COALESCE(email, '')) <> '' GROUP BY lower(trim(email) COLLATE "C");
    INSERT INTO persons (key) SELECT 'lead:' || id FROM leads WHERE trim(COALESCE(email, '')) = '';
    UPDATE leads SET person_id = (SELECT id FROM persons WHERE key =
        CASE WHEN trim(COALESCE(leads.email, '')) <> '' THEN lower(trim(leads.email) COLLATE "C")
             ELSE 'lead:' || leads.id END);
    CREATE INDEX leads_person ON leads (person_id, received_at, seq);
    -- A person's latest and earliest submission (spam last) in a few steps however many they
    -- sent (see sqlite.rs).
    CREATE INDEX leads_person_latest ON leads (person_id, spam, received_at DESC, seq DESC);
    CREATE INDEX leads_person_earliest ON leads (person_id, spam, received_at, seq);
    CREATE INDEX leads_person_company ON leads (person_id, received_at DESC, seq DESC)
        WHERE company IS NOT NULL;
    INSERT INTO feedback (person_id, at, status, by_whom, lead_id)
        SELECT person_id, COALESCE(status_at, received_at), status, 'admin', id FROM leads
        WHERE status IS NOT NULL ORDER BY status_at;
    "#,
        refresh_persons!(),
        ";"
    ),
    // One outbox per destination (see sqlite.rs); the forward outbox becomes `forward`'s.
    r#"CREATE TABLE deliveries (
        lead_id       TEXT COLLATE "C" NOT NULL REFERENCES leads (id),
        destination   TEXT COLLATE "C" NOT NULL,
        seq           BIGSERIAL NOT NULL,
        attempts      INTEGER NOT NULL DEFAULT 0,
        next_at       BIGINT NOT NULL,
        state         TEXT NOT NULL DEFAULT 'pending',
        last_error    TEXT,
        status_code   INTEGER,
        delivered_at  TEXT,
        claimed_until BIGINT NOT NULL DEFAULT 0,
        PRIMARY KEY (lead_id, destination)
    );
    CREATE INDEX deliveries_due ON deliveries (destination, state, next_at);
    CREATE TABLE rotations (
        form_id TEXT COLLATE "C" PRIMARY KEY,
        turns   BIGINT NOT NULL
    );
    INSERT INTO deliveries (lead_id, destination, attempts, next_at, state, last_error,
                            status_code, delivered_at, claimed_until)
        SELECT f.lead_id, 'forward', f.attempts, f.next_at, f.state, f.last_error,
               f.status_code, f.delivered_at, f.claimed_until
        FROM forwards f JOIN leads l ON l.id = f.lead_id ORDER BY l.seq;
    DROP TABLE forwards;"#,
    // Named users, their sessions and the audit log (issue 13; migration 14, after people and routing).
    users::MIGRATION,
    // An erasure counts the deliveries it deleted (to every destination), not "forwards".
    // Emails are keyed in ASCII lower case as the collector keys them (`super::normal_email`),
    // whatever the database's locale: `lower()` under a UTF-8 locale also lowers `Ä`, so
    // migration 12 (before it used the "C" collation) could key `ÄNN@x.com` as `änn@x.com`
    // where the collector looks for `Änn@x.com`. Such people take the collector's key, where
    // all their submissions agree on it and no other person has it.
    r#"ALTER TABLE erasures RENAME COLUMN forwards TO deliveries;
    DROP INDEX leads_email;
    CREATE INDEX leads_email ON leads (lower(email COLLATE "C"));
    UPDATE persons SET key = fixed.key, email = fixed.key
    FROM (SELECT person_id, min(lower(trim(email) COLLATE "C")) AS key FROM leads
          WHERE trim(COALESCE(email, '')) <> '' AND person_id IS NOT NULL
          GROUP BY person_id
          HAVING count(DISTINCT lower(trim(email) COLLATE "C")) = 1) AS fixed
    WHERE persons.id = fixed.person_id AND persons.key <> fixed.key
      AND persons.key NOT LIKE 'visitor:%' AND persons.key NOT LIKE 'lead:%'
      AND NOT EXISTS (SELECT 1 FROM persons other WHERE other.key = fixed.key);"#,
];

/// Adds one stored lead to the per-day summary (in the transaction that stores it); several
/// collectors adding at once each add their own.
const COUNT_LEAD: &str = "INSERT INTO lead_counts
        (day, form_id, grade, utm_source, utm_medium, utm_campaign, leads, best, total_sum)
    VALUES (substr($1, 1, 10), $2, $3, COALESCE($4, ''), COALESCE($5, ''), COALESCE($6, ''), 1, $7, $8)
    ON CONFLICT (day, form_id, grade, utm_source, utm_medium, utm_campaign)
    DO UPDATE SET leads = lead_counts.leads + 1, best = lead_counts.best + excluded.best,
                  total_sum = lead_counts.total_sum + excluded.total_sum";

/// The advisory lock key migrations hold ("bantam" in ASCII).
const MIGRATION_LOCK: i64 = 0x62_61_6e_74_61_6d;

/// Connections per collector process.
const POOL_SIZE: usize = 16;

/// The database's clock in ms since the epoch: claims are timed by one clock for every
/// collector, whatever their machines' clocks say.
const DB_NOW_MS: &str = "(EXTRACT(EPOCH FROM clock_timestamp()) * 1000)::BIGINT";

/// A PostgreSQL database and a pool of connections to it.
pub(super) struct Postgres {
    pool: Pool,
}

/// `host:port/database` of a config, for messages (the password is never part of it).
fn describe(config: &tokio_postgres::Config) -> String {
    let hosts: Vec<String> = config
        .get_hosts()
        .iter()
        .enumerate()
        .map(|(i, host)| {
            let port = config
                .get_ports()
                .get(i)
                .or(config.get_ports().first())
                .copied()
                .unwrap_or(5432);
            match host {
                Host::Tcp(name) => format!("{name}:{port}"),
                #[cfg(unix)]
                Host::Unix(path) => format!("{}:{port}", path.display()),
            }
        })
        .collect();
    let hosts = if hosts.is_empty() {
        "localhost:5432".to_owned()
    } else {
        hosts.join(",")
    };
    format!(
        "{hosts}/{}",
        config
            .get_dbname()
            .or(config.get_user())
            .unwrap_or_default()
    )
}

/// A pool error as a store error: the server's own error when there is one.
fn pool_error(err: PoolError) -> StoreError {
    match err {
        PoolError::Backend(err) => StoreError::Postgres(err),
        other => StoreError::Pool(other.to_string()),
    }
}

/// Converts a stored small integer back (0-100 is all the collector writes).
fn small(value: i16) -> u8 {
    u8::try_from(value).unwrap_or(u8::MAX)
}

/// Converts a stored count (never negative).
fn count(value: i64) -> u64 {
    u64::try_from(value).unwrap_or(0)
}

impl Postgres {
    /// Connects to the database at `url`, migrates it, and returns it with its description.
    pub(super) async fn open(url: &str) -> Result<(Postgres, String), StoreError> {
        let mut config: tokio_postgres::Config = url.parse().map_err(StoreError::Url)?;
        if config.get_connect_timeout().is_none() {
            config.connect_timeout(Duration::from_secs(10));
        }
        if config.get_application_name().is_none() {
            config.application_name("bantam-collector");
        }
        let at = describe(&config);
        let manager = Manager::from_config(
            config,
            NoTls,
            ManagerConfig {
                recycling_method: RecyclingMethod::Fast,
            },
        );
        let pool = Pool::builder(manager)
            .max_size(POOL_SIZE)
            .build()
            .map_err(|err| StoreError::Pool(err.to_string()))?;
        let mut client = pool.get().await.map_err(|err| match err {
            PoolError::Backend(source) => StoreError::Connect {
                at: at.clone(),
                source,
            },
            other => StoreError::Pool(other.to_string()),
        })?;
        let found = migrate(&mut client)
            .await
            .map_err(|source| StoreError::Migrate {
                at: at.clone(),
                source,
            })?;
        if found > MIGRATIONS.len() as i64 {
            return Err(StoreError::Newer {
                found,
                known: MIGRATIONS.len(),
            });
        }
        drop(client);
        Ok((Postgres { pool }, format!("PostgreSQL at {at}")))
    }

    async fn client(&self) -> Result<deadpool_postgres::Object, StoreError> {
        self.pool.get().await.map_err(pool_error)
    }

    pub(super) async fn insert(
        &self,
        lead: &Ingested,
        received_at: &str,
        reps: &[String],
    ) -> Result<Stored, StoreError> {
        let mut client = self.client().await?;
        // One transaction: a stored lead, its deliveries and its owner's turn exist together
        // or not at all.
        let tx = client.transaction().await?;
        let mut stored = insert_in(&tx, lead, received_at, None).await?;
        stored.assigned = assign_in(&tx, lead, &stored, reps, received_at).await?;
        tx.commit().await?;
        Ok(stored)
    }

    pub(super) async fn list(&self, limit: u32, offset: u32) -> Result<Vec<Value>, StoreError> {
        let client = self.client().await?;
        let rows = client
            .query(
                "SELECT received_at, score_mismatch, client_total, client_grade, document, form_version
                 FROM leads ORDER BY received_at DESC, seq DESC LIMIT $1 OFFSET $2",
                &[&i64::from(limit), &i64::from(offset)],
            )
            .await?;
        rows.iter()
            .map(|row| {
                super::listed(
                    row.get(0),
                    row.get(1),
                    row.get::<_, Option<i16>>(2).map(small),
                    row.get(3),
                    row.get(4),
                    row.get(5),
                )
            })
            .collect()
    }

    pub(super) async fn get(&self, id: &str) -> Result<Option<Value>, StoreError> {
        let client = self.client().await?;
        let row = client
            .query_opt("SELECT document FROM leads WHERE id = $1", &[&id])
            .await?;
        Ok(row
            .map(|row| serde_json::from_str(row.get(0)))
            .transpose()?)
    }

    pub(super) async fn count(&self) -> Result<u64, StoreError> {
        let client = self.client().await?;
        let row = client.query_one("SELECT COUNT(*) FROM leads", &[]).await?;
        Ok(count(row.get(0)))
    }

    pub(super) async fn quarantine(&self, lead: &Quarantined) -> Result<bool, StoreError> {
        let client = self.client().await?;
        // One statement: not held when the id is a lead already, not twice when it is held.
        let created = client
            .execute(
                "INSERT INTO quarantine (id, form_id, received_at, reason, origin, email, document)
                 SELECT $1, $2, $3, $4, $5, $6, $7
                 WHERE NOT EXISTS (SELECT 1 FROM leads WHERE id = $1)
                 ON CONFLICT (id) DO NOTHING",
                &[
                    &lead.id,
                    &lead.form_id,
                    &lead.received_at,
                    &lead.reason,
                    &lead.origin,
                    &lead.email,
                    &lead.document,
                ],
            )
            .await?
            == 1;
        Ok(created)
    }

    pub(super) async fn quarantined(
        &self,
        limit: u32,
        offset: u32,
    ) -> Result<Vec<Quarantined>, StoreError> {
        let client = self.client().await?;
        let rows = client
            .query(
                "SELECT id, form_id, received_at, reason, origin, email, accepted_at, document
                 FROM quarantine WHERE accepted_at IS NULL
                 ORDER BY received_at DESC, seq DESC LIMIT $1 OFFSET $2",
                &[&i64::from(limit), &i64::from(offset)],
            )
            .await?;
        Ok(rows.iter().map(read_quarantined).collect())
    }

    pub(super) async fn quarantined_one(
        &self,
        id: &str,
    ) -> Result<Option<Quarantined>, StoreError> {
        let client = self.client().await?;
        let row = client
            .query_opt(
                "SELECT id, form_id, received_at, reason, origin, email, accepted_at, document
                 FROM quarantine WHERE id = $1",
                &[&id],
            )
            .await?;
        Ok(row.as_ref().map(read_quarantined))
    }

    pub(super) async fn quarantine_count(&self) -> Result<u64, StoreError> {
        let client = self.client().await?;
        let row = client
            .query_one(
                "SELECT COUNT(*) FROM quarantine WHERE accepted_at IS NULL",
                &[],
            )
            .await?;
        Ok(count(row.get(0)))
    }

    pub(super) async fn accept(
        &self,
        lead: &Ingested,
        at: &str,
        reps: &[String],
    ) -> Result<Stored, StoreError> {
        let mut client = self.client().await?;
        let tx = client.transaction().await?;
        let mut stored = insert_in(&tx, lead, at, None).await?;
        stored.assigned = assign_in(&tx, lead, &stored, reps, at).await?;
        tx.execute(
            "UPDATE quarantine SET accepted_at = $2 WHERE id = $1 AND accepted_at IS NULL",
            &[&lead.id, &at],
        )
        .await?;
        tx.commit().await?;
        Ok(stored)
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
        let (mut condition, mut params) = filter.sql(Dialect::Postgres);
        if let Some(cursor) = cursor {
            params.push(cursor.received_at.clone());
            let after = after_sql(cursor, &format!("${}", params.len()), "seq");
            condition = format!("{condition} AND {after}");
        }
        let client = self.client().await?;
        let sql = format!(
            "SELECT {ROW_COLUMNS} FROM leads WHERE {condition}
             ORDER BY received_at DESC, seq DESC LIMIT {limit} OFFSET {offset}"
        );
        let rows = client.query(&sql, &as_params(&params)).await?;
        rows.iter().map(read_row).collect()
    }

    pub(super) async fn count_matching(&self, filter: &Filter) -> Result<u64, StoreError> {
        if let Some((condition, params)) = filter.counts_sql(Dialect::Postgres) {
            let client = self.client().await?;
            let sql = format!(
                "SELECT COALESCE(SUM(leads), 0)::BIGINT FROM lead_counts WHERE {condition}"
            );
            let row = client.query_one(&sql, &as_params(&params)).await?;
            return Ok(count(row.get(0)));
        }
        let (condition, params) = filter.sql(Dialect::Postgres);
        let client = self.client().await?;
        let sql = format!(
            "SELECT COUNT(*) FROM (SELECT 1 FROM leads WHERE {condition} LIMIT {}) AS found",
            SEARCH_COUNT_CAP + 1
        );
        let row = client.query_one(&sql, &as_params(&params)).await?;
        Ok(count(row.get(0)))
    }

    pub(super) async fn row(&self, id: &str) -> Result<Option<Row>, StoreError> {
        let client = self.client().await?;
        let row = client
            .query_opt(
                &format!("SELECT {ROW_COLUMNS} FROM leads WHERE id = $1"),
                &[&id],
            )
            .await?;
        row.as_ref().map(read_row).transpose()
    }

    pub(super) async fn set_status(
        &self,
        id: &str,
        feedback: &Feedback,
    ) -> Result<bool, StoreError> {
        let mut client = self.client().await?;
        let tx = client.transaction().await?;
        let Some(row) = tx
            .query_opt("SELECT person_id FROM leads WHERE id = $1", &[&id])
            .await?
        else {
            return Ok(false);
        };
        match row.get::<_, Option<i64>>(0) {
            Some(person) => {
                let on_lead = Feedback {
                    lead_id: Some(id.to_owned()),
                    ..feedback.clone()
                };
                feedback_in(&tx, person, &on_lead).await?;
            }
            None => {
                tx.execute(
                    "UPDATE leads SET status = $2, status_at = $3 WHERE id = $1",
                    &[&id, &feedback.status, &feedback.at],
                )
                .await?;
            }
        }
        tx.commit().await?;
        Ok(true)
    }

    pub(super) async fn person_by_key(&self, key: &str) -> Result<Option<Person>, StoreError> {
        let client = self.client().await?;
        let row = client
            .query_opt(
                &format!("SELECT {PERSON_COLUMNS} FROM persons WHERE key = $1"),
                &[&key],
            )
            .await?;
        Ok(row.as_ref().map(read_person))
    }

    pub(super) async fn people(
        &self,
        filter: &Filter,
        limit: u32,
        offset: u32,
    ) -> Result<Vec<Person>, StoreError> {
        let (condition, params) = filter.people_sql(Dialect::Postgres);
        let client = self.client().await?;
        let rows = client
            .query(
                &format!(
                    "SELECT {PERSON_COLUMNS} FROM persons WHERE leads > 0 AND {condition}
                     ORDER BY last_at DESC, id DESC LIMIT {limit} OFFSET {offset}"
                ),
                &as_params(&params),
            )
            .await?;
        Ok(rows.iter().map(read_person).collect())
    }

    pub(super) async fn count_people(&self, filter: &Filter) -> Result<u64, StoreError> {
        let (condition, params) = filter.people_sql(Dialect::Postgres);
        let client = self.client().await?;
        let row = client
            .query_one(
                &format!("SELECT COUNT(*) FROM persons WHERE leads > 0 AND {condition}"),
                &as_params(&params),
            )
            .await?;
        Ok(count(row.get(0)))
    }

    pub(super) async fn person_leads(&self, key: &str) -> Result<Vec<Row>, StoreError> {
        let client = self.client().await?;
        let rows = client
            .query(
                &format!(
                    "SELECT {ROW_COLUMNS} FROM leads
                     WHERE person_id = (SELECT id FROM persons WHERE key = $1)
                     ORDER BY received_at, seq"
                ),
                &[&key],
            )
            .await?;
        rows.iter().map(read_row).collect()
    }

    pub(super) async fn set_owner(
        &self,
        key: &str,
        owner: Option<&str>,
    ) -> Result<bool, StoreError> {
        let client = self.client().await?;
        Ok(client
            .execute(
                "UPDATE persons SET owner = $2 WHERE key = $1",
                &[&key, &owner],
            )
            .await?
            == 1)
    }

    pub(super) async fn give_feedback(
        &self,
        key: &str,
        feedback: &Feedback,
    ) -> Result<Option<Feedback>, StoreError> {
        let mut client = self.client().await?;
        let tx = client.transaction().await?;
        let Some(row) = tx
            .query_opt("SELECT id FROM persons WHERE key = $1 FOR UPDATE", &[&key])
            .await?
        else {
            return Ok(None);
        };
        let recorded = feedback_in(&tx, row.get(0), feedback).await?;
        tx.commit().await?;
        Ok(Some(recorded))
    }

    pub(super) async fn feedback(&self, key: &str) -> Result<Vec<Feedback>, StoreError> {
        let client = self.client().await?;
        let rows = client
            .query(
                "SELECT status, reason, value, at, by_whom, lead_id FROM feedback
                 WHERE person_id = (SELECT id FROM persons WHERE key = $1)
                 ORDER BY at DESC, seq DESC",
                &[&key],
            )
            .await?;
        Ok(rows.iter().map(read_feedback).collect())
    }

    pub(super) async fn people_quality(
        &self,
        filter: &Filter,
        credit: Credit,
    ) -> Result<Vec<PeopleQuality>, StoreError> {
        let (condition, params) = filter.people_sql(Dialect::Postgres);
        let columns = super::quality_columns(credit);
        let client = self.client().await?;
        let rows = client
            .query(
                &format!(
                    "SELECT {columns}, COUNT(*), COUNT(*) FILTER (WHERE best_grade),
                            COUNT(*) FILTER (WHERE status IS NOT NULL),
                            COUNT(*) FILTER (WHERE status IN ('accepted', 'won', 'lost')),
                            COUNT(*) FILTER (WHERE status = 'won')
                     FROM persons WHERE leads > 0 AND NOT spam AND {condition}
                     GROUP BY 1, 2, 3 ORDER BY COUNT(*) DESC, 1, 2, 3 LIMIT 50"
                ),
                &as_params(&params),
            )
            .await?;
        Ok(rows
            .iter()
            .map(|row| PeopleQuality {
                utm: [row.get(0), row.get(1), row.get(2)],
                people: count(row.get(3)),
                best: count(row.get(4)),
                reviewed: count(row.get(5)),
                accepted: count(row.get(6)),
                won: count(row.get(7)),
            })
            .collect())
    }

    pub(super) async fn source_quality(
        &self,
        filter: &Filter,
    ) -> Result<Vec<SourceQuality>, StoreError> {
        if let Some((condition, params)) = filter.counts_sql(Dialect::Postgres) {
            let client = self.client().await?;
            let sql = format!(
                "SELECT lower(utm_source), lower(utm_medium), lower(utm_campaign),
                        SUM(leads)::BIGINT, SUM(best)::BIGINT, SUM(total_sum)::BIGINT
                 FROM lead_counts WHERE {condition}
                 GROUP BY 1, 2, 3 ORDER BY SUM(leads) DESC, 1, 2, 3 LIMIT 50"
            );
            let rows = client.query(&sql, &as_params(&params)).await?;
            return Ok(rows
                .iter()
                .map(|row| {
                    quality_from_counts(
                        [row.get(0), row.get(1), row.get(2)],
                        row.get(3),
                        row.get(4),
                        row.get(5),
                    )
                })
                .collect());
        }
        let (condition, params) = filter.sql(Dialect::Postgres);
        let client = self.client().await?;
        // NULLS FIRST: the order SQLite gives leads without a source.
        let sql = format!(
            "SELECT lower(utm_source), lower(utm_medium), lower(utm_campaign), COUNT(*),
                    COUNT(*) FILTER (WHERE best_grade), AVG(total)::FLOAT8
             FROM leads WHERE {condition}
             GROUP BY 1, 2, 3 ORDER BY COUNT(*) DESC, 1 NULLS FIRST LIMIT 50"
        );
        let rows = client.query(&sql, &as_params(&params)).await?;
        Ok(rows
            .iter()
            .map(|row| SourceQuality {
                utm: [row.get(0), row.get(1), row.get(2)],
                leads: count(row.get(3)),
                best: count(row.get(4)),
                average: row.get(5),
            })
            .collect())
    }

    pub(super) async fn daily(&self, filter: &Filter) -> Result<Vec<Daily>, StoreError> {
        let (sql, params) = match filter.counts_sql(Dialect::Postgres) {
            Some((condition, params)) => (
                format!(
                    "SELECT day, SUM(leads)::BIGINT, SUM(best)::BIGINT FROM lead_counts
                     WHERE {condition} GROUP BY day ORDER BY day"
                ),
                params,
            ),
            None => {
                let (condition, params) = filter.sql(Dialect::Postgres);
                (
                    format!(
                        "SELECT substr(received_at, 1, 10), COUNT(*),
                                COUNT(*) FILTER (WHERE best_grade)
                         FROM leads WHERE {condition} GROUP BY 1 ORDER BY 1"
                    ),
                    params,
                )
            }
        };
        let client = self.client().await?;
        let rows = client.query(&sql, &as_params(&params)).await?;
        Ok(rows
            .iter()
            .map(|row| Daily {
                day: row.get(0),
                leads: count(row.get(1)),
                best: count(row.get(2)),
            })
            .collect())
    }

    pub(super) async fn outcomes(
        &self,
        form_id: &str,
        after_at: &str,
        after_id: &str,
        limit: u32,
    ) -> Result<Vec<LeadOutcome>, StoreError> {
        let client = self.client().await?;
        // Times and ids are `COLLATE "C"`: the same order as SQLite's.
        let statement = client
            .prepare_cached(
                "SELECT id, received_at, status, document FROM leads
                 WHERE form_id = $1 AND status IS NOT NULL
                   AND received_at >= $2 AND (received_at > $2 OR (received_at = $2 AND id > $3))
                 ORDER BY received_at, id LIMIT $4",
            )
            .await?;
        let rows = client
            .query(
                &statement,
                &[&form_id, &after_at, &after_id, &i64::from(limit)],
            )
            .await?;
        Ok(rows
            .iter()
            .map(|row| LeadOutcome {
                id: row.get(0),
                received_at: row.get(1),
                status: row.get(2),
                document: row.get(3),
            })
            .collect())
    }

    pub(super) async fn outcome_stamp(
        &self,
        form_id: &str,
    ) -> Result<(u64, Option<String>), StoreError> {
        let client = self.client().await?;
        let row = client
            .query_one(
                "SELECT COUNT(*), MAX(status_at) FROM leads
                 WHERE form_id = $1 AND status IS NOT NULL",
                &[&form_id],
            )
            .await?;
        Ok((count(row.get(0)), row.get(1)))
    }

    pub(super) async fn person(&self, email: &str) -> Result<PersonData, StoreError> {
        let client = self.client().await?;
        let mut data = PersonData::default();
        let rows = client
            .query(
                "SELECT received_at, status, status_at,
                        (SELECT COALESCE(json_agg(json_build_object('destination', destination,
                                                  'state', state) ORDER BY destination), '[]')::text
                         FROM deliveries WHERE deliveries.lead_id = leads.id), document
                 FROM leads WHERE lower(email COLLATE \"C\") = $1 OR person_id IN (SELECT id FROM persons WHERE key = $1) ORDER BY received_at, seq",
                &[&email],
            )
            .await?;
        for row in rows {
            data.leads.push(serde_json::json!({
                "receivedAt": row.get::<_, String>(0),
                "status": row.get::<_, Option<String>>(1),
                "statusAt": row.get::<_, Option<String>>(2),
                "deliveries": serde_json::from_str::<Value>(
                    row.get::<_, Option<&str>>(3).unwrap_or("[]")
                )?,
                "lead": serde_json::from_str::<Value>(row.get(4))?,
            }));
        }
        let rows = client
            .query(
                "SELECT received_at, reason, document FROM quarantine
                 WHERE lower(email COLLATE \"C\") = $1 ORDER BY received_at, seq",
                &[&email],
            )
            .await?;
        for row in rows {
            data.quarantined.push(serde_json::json!({
                "receivedAt": row.get::<_, String>(0),
                "reason": row.get::<_, String>(1),
                "lead": serde_json::from_str::<Value>(row.get(2))?,
            }));
        }
        Ok(data)
    }

    pub(super) async fn erase(
        &self,
        what: &Erase,
        by: &str,
        at: &str,
    ) -> Result<Erasure, StoreError> {
        let (condition, value, reason, subject) = what.terms();
        // Emails in ASCII lower case whatever the database's locale, as people are keyed.
        let condition = condition
            .replace("{}", "$1")
            .replace("lower(email)", "lower(email COLLATE \"C\")");
        let mut client = self.client().await?;
        // One transaction: the leads, their deliveries, their part of the summary and the record
        // go together or not at all.
        let tx = client.transaction().await?;
        // The people whose leads go: afterwards brought up to date, or deleted with their
        // feedback when no lead of theirs is left.
        let mut people: Vec<i64> = tx
            .query(
                &format!(
                    "SELECT DISTINCT person_id FROM leads WHERE {condition} AND person_id IS NOT NULL"
                ),
                &[&value],
            )
            .await?
            .iter()
            .map(|r| r.get(0))
            .collect();
        if matches!(what, Erase::Person { .. }) {
            if let Some(row) = tx
                .query_opt("SELECT id FROM persons WHERE key = $1", &[&value])
                .await?
            {
                people.push(row.get(0));
            }
        }
        tx.execute(
            &format!(
                "UPDATE lead_counts SET leads = lead_counts.leads - d.n,
                    best = lead_counts.best - d.b, total_sum = lead_counts.total_sum - d.t
                 FROM (SELECT substr(received_at, 1, 10) AS day, form_id, grade,
                              COALESCE(utm_source, '') AS s, COALESCE(utm_medium, '') AS m,
                              COALESCE(utm_campaign, '') AS c, COUNT(*) AS n,
                              COUNT(*) FILTER (WHERE best_grade) AS b, SUM(total) AS t
                       FROM leads WHERE {condition} GROUP BY 1, 2, 3, 4, 5, 6) AS d
                 WHERE lead_counts.day = d.day AND lead_counts.form_id = d.form_id
                   AND lead_counts.grade = d.grade AND lead_counts.utm_source = d.s
                   AND lead_counts.utm_medium = d.m AND lead_counts.utm_campaign = d.c"
            ),
            &[&value],
        )
        .await?;
        tx.execute("DELETE FROM lead_counts WHERE leads <= 0", &[])
            .await?;
        let deliveries = tx
            .execute(
                &format!(
                    "DELETE FROM deliveries WHERE lead_id IN (SELECT id FROM leads WHERE {condition})"
                ),
                &[&value],
            )
            .await?;
        let leads = tx
            .execute(&format!("DELETE FROM leads WHERE {condition}"), &[&value])
            .await?;
        for id in people {
            let left: bool = tx
                .query_one(
                    "SELECT EXISTS (SELECT 1 FROM leads WHERE person_id = $1)",
                    &[&id],
                )
                .await?
                .get(0);
            if left {
                refresh(&tx, id).await?;
            } else {
                tx.execute("DELETE FROM feedback WHERE person_id = $1", &[&id])
                    .await?;
                tx.execute("DELETE FROM persons WHERE id = $1", &[&id])
                    .await?;
            }
        }
        let quarantined = if matches!(what, Erase::Person { .. }) {
            tx.execute(
                "DELETE FROM quarantine WHERE lower(email COLLATE \"C\") = $1",
                &[&value],
            )
            .await?
        } else {
            0
        };
        let erasure = Erasure {
            at: at.to_owned(),
            reason: reason.to_owned(),
            by: by.to_owned(),
            subject,
            leads,
            deliveries,
            quarantined,
        };
        tx.execute(
            "INSERT INTO erasures (at, reason, by_whom, subject, leads, deliveries, quarantined)
             VALUES ($1, $2, $3, $4, $5, $6, $7)",
            &[
                &erasure.at,
                &erasure.reason,
                &erasure.by,
                &erasure.subject,
                &(leads as i64),
                &(deliveries as i64),
                &(quarantined as i64),
            ],
        )
        .await?;
        tx.commit().await?;
        Ok(erasure)
    }

    pub(super) async fn erasures(&self, limit: u32) -> Result<Vec<Erasure>, StoreError> {
        let client = self.client().await?;
        let rows = client
            .query(
                "SELECT at, reason, by_whom, subject, leads, deliveries, quarantined
                 FROM erasures ORDER BY at DESC, seq DESC LIMIT $1",
                &[&i64::from(limit)],
            )
            .await?;
        Ok(rows
            .iter()
            .map(|row| Erasure {
                at: row.get(0),
                reason: row.get(1),
                by: row.get(2),
                subject: row.get(3),
                leads: count(row.get(4)),
                deliveries: count(row.get(5)),
                quarantined: count(row.get(6)),
            })
            .collect())
    }

    pub(super) async fn import(
        &self,
        leads: Vec<Imported>,
        at: &str,
    ) -> Result<ImportCount, StoreError> {
        let mut client = self.client().await?;
        // One transaction: the whole history or, when anything fails, nothing.
        let tx = client.transaction().await?;
        let status = tx
            .prepare_cached("UPDATE leads SET status = $2, status_at = $3 WHERE id = $1")
            .await?;
        let mut count = ImportCount::default();
        // Each person's row is brought up to date once, at the end: updated once per lead, a
        // row of many leads piled up versions in the transaction, and each lead read them all
        // (10,000 leads of one email took minutes).
        let mut touched = Vec::new();
        for imported in &leads {
            let stored = insert_in(
                &tx,
                &imported.lead,
                &imported.received_at,
                Some(&mut touched),
            )
            .await?;
            if stored.created {
                count.created += 1;
            } else {
                count.existing += 1;
            }
            if let Some(given) = &imported.status {
                tx.execute(&status, &[&imported.lead.id, given, &at])
                    .await?;
                // The history's status is also its person's feedback.
                let person: Option<i64> = tx
                    .query_one(
                        "SELECT person_id FROM leads WHERE id = $1",
                        &[&imported.lead.id],
                    )
                    .await?
                    .get(0);
                if let Some(person) = person {
                    let feedback = Feedback {
                        status: given.clone(),
                        reason: None,
                        value: None,
                        at: at.to_owned(),
                        by: "import".into(),
                        lead_id: Some(imported.lead.id.clone()),
                    };
                    feedback_in(&tx, person, &feedback).await?;
                }
                count.statuses += 1;
            }
        }
        touched.sort_unstable();
        touched.dedup();
        for person in touched {
            refresh(&tx, person).await?;
        }
        tx.commit().await?;
        Ok(count)
    }

    pub(super) async fn form_versions(
        &self,
        form_id: &str,
    ) -> Result<Vec<FormVersion>, StoreError> {
        let client = self.client().await?;
        let rows = client
            .query(
                "SELECT form_id, version, config, published_at, by_whom, note FROM form_versions
                 WHERE form_id = $1 ORDER BY version DESC",
                &[&form_id],
            )
            .await?;
        Ok(rows.iter().map(read_version).collect())
    }

    pub(super) async fn form_version(
        &self,
        form_id: &str,
        version: Option<i64>,
    ) -> Result<Option<FormVersion>, StoreError> {
        let client = self.client().await?;
        let row = client
            .query_opt(
                "SELECT form_id, version, config, published_at, by_whom, note FROM form_versions
                 WHERE form_id = $1 AND ($2::BIGINT IS NULL OR version = $2)
                 ORDER BY version DESC LIMIT 1",
                &[&form_id, &version],
            )
            .await?;
        Ok(row.as_ref().map(read_version))
    }

    pub(super) async fn add_form_version(
        &self,
        version: &FormVersion,
        based_on: Option<i64>,
    ) -> Result<Published, StoreError> {
        let mut client = self.client().await?;
        let tx = client.transaction().await?;
        // Publishes of one form from several collectors take turns: the lock is held until
        // this transaction ends, so the check and the insert see the same latest version.
        tx.execute(
            "SELECT pg_advisory_xact_lock(hashtext('bantam form ' || $1))",
            &[&version.form_id],
        )
        .await?;
        let latest = tx
            .query_opt(
                "SELECT form_id, version, config, published_at, by_whom, note FROM form_versions
                 WHERE form_id = $1 ORDER BY version DESC LIMIT 1",
                &[&version.form_id],
            )
            .await?
            .as_ref()
            .map(read_version);
        let current = latest.as_ref().map_or(0, |v| v.version);
        if based_on.is_some_and(|b| b != current) {
            return Ok(Published::Stale(latest));
        }
        tx.execute(
            "INSERT INTO form_versions (form_id, version, config, published_at, by_whom, note)
             VALUES ($1, $2, $3, $4, $5, $6)",
            &[
                &version.form_id,
                &(current + 1),
                &version.config,
                &version.published_at,
                &version.by,
                &version.note,
            ],
        )
        .await?;
        tx.commit().await?;
        Ok(Published::Recorded(current + 1))
    }

    pub(super) async fn drop_form_version(
        &self,
        form_id: &str,
        version: i64,
    ) -> Result<(), StoreError> {
        let client = self.client().await?;
        client
            .execute(
                "DELETE FROM form_versions WHERE form_id = $1 AND version = $2",
                &[&form_id, &version],
            )
            .await?;
        Ok(())
    }

    pub(super) async fn form_counts(
        &self,
        form_id: &str,
        day: &str,
    ) -> Result<(u64, u64), StoreError> {
        let client = self.client().await?;
        let row = client
            .query_one(
                "SELECT COALESCE(SUM(leads), 0)::BIGINT, COALESCE(SUM(best), 0)::BIGINT
                 FROM lead_counts WHERE form_id = $1 AND day >= $2",
                &[&form_id, &day],
            )
            .await?;
        Ok((count(row.get(0)), count(row.get(1))))
    }

    /// Claims up to `limit` due entries of a destination for `lease`. `FOR UPDATE SKIP LOCKED`
    /// keeps two workers claiming at the same moment from taking the same entry; the lease keeps
    /// the others off it after this claim commits, until it is recorded, handed back, or
    /// expires (the collector died or hung).
    pub(super) async fn due_deliveries(
        &self,
        destination: &str,
        now_ms: i64,
        limit: u32,
        lease: Duration,
    ) -> Result<Vec<Due>, StoreError> {
        let client = self.client().await?;
        let sql = format!(
            "WITH due AS (
                 SELECT lead_id FROM deliveries
                 WHERE destination = $4 AND state = 'pending' AND next_at <= $1
                   AND claimed_until <= {DB_NOW_MS}
                 ORDER BY next_at, seq LIMIT $2
                 FOR UPDATE SKIP LOCKED
             )
             UPDATE deliveries d SET claimed_until = {DB_NOW_MS} + $3
             FROM due, leads l
             WHERE d.destination = $4 AND d.lead_id = due.lead_id AND l.id = d.lead_id
             RETURNING d.lead_id, d.attempts, l.document, d.next_at, d.seq,
                       (SELECT owner FROM persons p WHERE p.id = l.person_id)"
        );
        let statement = client.prepare_cached(&sql).await?;
        let lease_ms = i64::try_from(lease.as_millis()).unwrap_or(i64::MAX / 2);
        let rows = client
            .query(
                &statement,
                &[&now_ms, &i64::from(limit), &lease_ms, &destination],
            )
            .await?;
        let mut due: Vec<(i64, i64, Due)> = rows
            .iter()
            .map(|row| {
                (
                    row.get(3),
                    row.get(4),
                    Due {
                        lead_id: row.get(0),
                        destination: destination.to_owned(),
                        attempts: u32::try_from(row.get::<_, i32>(1)).unwrap_or(0),
                        body: row.get(2),
                        owner: row.get(5),
                    },
                )
            })
            .collect();
        // RETURNING keeps no order: oldest first, as SQLite hands them out.
        due.sort_by_key(|(next_at, seq, _)| (*next_at, *seq));
        Ok(due.into_iter().map(|(_, _, due)| due).collect())
    }

    pub(super) async fn release_deliveries(
        &self,
        destination: &str,
        lead_ids: &[String],
    ) -> Result<(), StoreError> {
        if lead_ids.is_empty() {
            return Ok(());
        }
        let client = self.client().await?;
        client
            .execute(
                "UPDATE deliveries SET claimed_until = 0
                 WHERE lead_id = ANY($1) AND destination = $2 AND state = 'pending'",
                &[&lead_ids, &destination],
            )
            .await?;
        Ok(())
    }

    pub(super) async fn delivered(
        &self,
        lead_id: &str,
        destination: &str,
        status: u16,
        at: &str,
    ) -> Result<(), StoreError> {
        let client = self.client().await?;
        client
            .execute(
                "UPDATE deliveries SET state = 'delivered', attempts = attempts + 1,
                 status_code = $3, delivered_at = $4, last_error = NULL, claimed_until = 0
                 WHERE lead_id = $1 AND destination = $2",
                &[&lead_id, &destination, &i32::from(status), &at],
            )
            .await?;
        Ok(())
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
        let client = self.client().await?;
        let attempts = i32::try_from(attempts).unwrap_or(i32::MAX);
        client
            .execute(
                "UPDATE deliveries SET attempts = $3, next_at = $4, last_error = $5,
                 state = CASE WHEN $6 THEN 'failed' ELSE 'pending' END, claimed_until = 0
                 WHERE lead_id = $1 AND destination = $2",
                &[
                    &lead_id,
                    &destination,
                    &attempts,
                    &next_at_ms,
                    &error,
                    &failed,
                ],
            )
            .await?;
        Ok(())
    }

    pub(super) async fn record_deliveries(
        &self,
        destination: &str,
        outcomes: &[(String, Attempted)],
    ) -> Result<(), StoreError> {
        let mut client = self.client().await?;
        let tx = client.transaction().await?;
        for (lead_id, outcome) in outcomes {
            match outcome {
                Attempted::Delivered { status, at } => {
                    tx.execute(
                        "UPDATE deliveries SET state = 'delivered', attempts = attempts + 1,
                         status_code = $3, delivered_at = $4, last_error = NULL, claimed_until = 0
                         WHERE lead_id = $1 AND destination = $2",
                        &[lead_id, &destination, &i32::from(*status), at],
                    )
                    .await?
                }
                Attempted::Failed {
                    attempts,
                    next_at_ms,
                    error,
                    failed,
                } => {
                    tx.execute(
                        "UPDATE deliveries SET attempts = $3, next_at = $4, last_error = $5,
                         state = CASE WHEN $6 THEN 'failed' ELSE 'pending' END, claimed_until = 0
                         WHERE lead_id = $1 AND destination = $2",
                        &[
                            lead_id,
                            &destination,
                            &i32::try_from(*attempts).unwrap_or(i32::MAX),
                            next_at_ms,
                            error,
                            failed,
                        ],
                    )
                    .await?
                }
            };
        }
        tx.commit().await?;
        Ok(())
    }

    pub(super) async fn deliveries(&self, lead_id: &str) -> Result<Vec<DeliveryState>, StoreError> {
        let client = self.client().await?;
        let rows = client
            .query(
                "SELECT destination, state, attempts, last_error, status_code, delivered_at, next_at
                 FROM deliveries WHERE lead_id = $1 ORDER BY destination",
                &[&lead_id],
            )
            .await?;
        Ok(rows
            .iter()
            .map(|row| DeliveryState {
                destination: row.get(0),
                state: row.get(1),
                attempts: u32::try_from(row.get::<_, i32>(2)).unwrap_or(0),
                last_error: row.get(3),
                status_code: row
                    .get::<_, Option<i32>>(4)
                    .and_then(|s| u16::try_from(s).ok()),
                delivered_at: row.get(5),
                next_at_ms: row.get(6),
            })
            .collect())
    }
}

/// Makes the next of `reps` the owner of the person of `lead` (just `stored` in `tx`) when the
/// lead is new, hot and not spam and the person has none, taking the form's next turn, and
/// records it in the audit log; returns the rep. The person's row is locked first, so two
/// collectors storing leads of one person assign once; the upsert on `rotations` locks the
/// form's row, so concurrent inserts take one turn each.
async fn assign_in(
    tx: &Transaction<'_>,
    lead: &Ingested,
    stored: &Stored,
    reps: &[String],
    at: &str,
) -> Result<Option<String>, StoreError> {
    if !super::takes_turn(lead, stored, reps) {
        return Ok(None);
    }
    let row = tx
        .query_one(
            "SELECT p.id, p.owner FROM persons p JOIN leads l ON l.person_id = p.id
             WHERE l.id = $1 FOR UPDATE OF p",
            &[&lead.id],
        )
        .await?;
    let (person, owner): (i64, Option<String>) = (row.get(0), row.get(1));
    if owner.is_some() {
        return Ok(None);
    }
    let turn: i64 = tx
        .query_one(
            "INSERT INTO rotations (form_id, turns) VALUES ($1, 1)
             ON CONFLICT (form_id) DO UPDATE SET turns = rotations.turns + 1 RETURNING turns",
            &[&lead.form_id],
        )
        .await?
        .get(0);
    let rep = &reps[usize::try_from(turn - 1).unwrap_or(0) % reps.len()];
    tx.execute(
        "UPDATE persons SET owner = $2 WHERE id = $1 AND owner IS NULL",
        &[&person, rep],
    )
    .await?;
    tx.execute(
        "INSERT INTO audit (at, who, action, subject, detail) VALUES ($1, $2, 'owner', $3, $4)",
        &[
            &at,
            &super::ROUND_ROBIN,
            &super::audit_subject(&stored.person),
            rep,
        ],
    )
    .await?;
    Ok(Some(rep.clone()))
}

/// Brings the schema up to date in one transaction, holding an advisory lock so collectors
/// starting at once take turns; returns the version found (which may be newer than ours).
async fn migrate(client: &mut deadpool_postgres::Object) -> Result<i64, tokio_postgres::Error> {
    let tx = client.transaction().await?;
    tx.execute("SELECT pg_advisory_xact_lock($1)", &[&MIGRATION_LOCK])
        .await?;
    tx.batch_execute("CREATE TABLE IF NOT EXISTS schema_version (version BIGINT NOT NULL)")
        .await?;
    let found: i64 = match tx
        .query_opt("SELECT version FROM schema_version", &[])
        .await?
    {
        Some(row) => row.get(0),
        None => {
            tx.execute("INSERT INTO schema_version (version) VALUES (0)", &[])
                .await?;
            0
        }
    };
    let done = usize::try_from(found).unwrap_or(0);
    for migration in MIGRATIONS.iter().skip(done) {
        tx.batch_execute(migration).await?;
    }
    if done < MIGRATIONS.len() {
        tx.execute(
            "UPDATE schema_version SET version = $1",
            &[&(MIGRATIONS.len() as i64)],
        )
        .await?;
    }
    tx.commit().await?;
    Ok(found)
}

/// Filter parameters as tokio-postgres takes them.
fn as_params(params: &[String]) -> Vec<&(dyn ToSql + Sync)> {
    params.iter().map(|p| p as &(dyn ToSql + Sync)).collect()
}

fn read_quarantined(row: &tokio_postgres::Row) -> Quarantined {
    Quarantined {
        id: row.get(0),
        form_id: row.get(1),
        received_at: row.get(2),
        reason: row.get(3),
        origin: row.get(4),
        email: row.get(5),
        accepted_at: row.get(6),
        document: row.get(7),
    }
}

const ROW_COLUMNS: &str =
    "id, form_id, received_at, submitted_at, email, company, grade, total, client_total,
    score_mismatch, utm_source, utm_medium, utm_campaign, status, status_at, document,
    (SELECT COUNT(*) FROM deliveries d WHERE d.lead_id = leads.id),
    (SELECT COUNT(*) FROM deliveries d WHERE d.lead_id = leads.id AND d.state = 'delivered'),
    (SELECT COUNT(*) FROM deliveries d WHERE d.lead_id = leads.id AND d.state = 'failed'),
    seq, form_version,
    (SELECT key FROM persons WHERE persons.id = leads.person_id)";

fn read_version(row: &tokio_postgres::Row) -> FormVersion {
    FormVersion {
        form_id: row.get(0),
        version: row.get(1),
        config: row.get(2),
        published_at: row.get(3),
        by: row.get(4),
        note: row.get(5),
    }
}

fn read_row(row: &tokio_postgres::Row) -> Result<Row, StoreError> {
    let status: Option<String> = row.get(13);
    let status_at: Option<String> = row.get(14);
    Ok(Row {
        id: row.get(0),
        form_id: row.get(1),
        received_at: row.get(2),
        submitted_at: row.get(3),
        email: row.get(4),
        company: row.get(5),
        grade: row.get(6),
        total: small(row.get(7)),
        client_total: row.get::<_, Option<i16>>(8).map(small),
        score_mismatch: row.get(9),
        utm: [row.get(10), row.get(11), row.get(12)],
        status: status.zip(status_at),
        deliveries: Some(DeliverySummary {
            total: u32::try_from(row.get::<_, i64>(16)).unwrap_or(0),
            delivered: u32::try_from(row.get::<_, i64>(17)).unwrap_or(0),
            failed: u32::try_from(row.get::<_, i64>(18)).unwrap_or(0),
        })
        .filter(|d| d.total > 0),
        document: row.get(15),
        position: row.get(19),
        form_version: row.get(20),
        person: row.get(21),
    })
}

/// Stores `lead` (and its deliveries) within the caller's transaction `tx`, unless its id is
/// stored; returns what is stored. With `later`, the person's row is left for the caller to
/// bring up to date once (see `link_person`), and its id is added there. A concurrent insert
/// of the same id from another collector
/// waits on the primary key until that one commits, then does nothing and reads its row.
async fn insert_in(
    tx: &Transaction<'_>,
    lead: &Ingested,
    received_at: &str,
    later: Option<&mut Vec<i64>>,
) -> Result<Stored, StoreError> {
    let insert = tx
        .prepare_cached(
            "INSERT INTO leads (id, form_id, received_at, submitted_at, email, grade, total,
                                client_total, client_grade, score_mismatch, document,
                                company, utm_source, utm_medium, utm_campaign, best_grade,
                                body_sha256, form_version, spam, first_source, first_medium,
                                first_campaign)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17,
                     $18, $19, $20, $21, $22)
             ON CONFLICT (id) DO NOTHING",
        )
        .await?;
    let created = tx
        .execute(
            &insert,
            &[
                &lead.id,
                &lead.form_id,
                &received_at,
                &lead.submitted_at,
                &lead.email,
                &lead.grade,
                &i16::from(lead.total),
                &i16::from(lead.client_total),
                &lead.client_grade,
                &lead.score_mismatch(),
                &lead.document,
                &lead.company,
                &lead.utm[0],
                &lead.utm[1],
                &lead.utm[2],
                &lead.best_grade,
                &lead.body_sha256,
                &lead.form_version,
                &lead.spam,
                &lead.first_utm[0],
                &lead.first_utm[1],
                &lead.first_utm[2],
            ],
        )
        .await?
        == 1;
    if created {
        let count_lead = tx.prepare_cached(COUNT_LEAD).await?;
        tx.execute(
            &count_lead,
            &[
                &received_at,
                &lead.form_id,
                &lead.grade,
                &lead.utm[0],
                &lead.utm[1],
                &lead.utm[2],
                &i64::from(lead.best_grade),
                &i64::from(lead.total),
            ],
        )
        .await?;
    }
    if created && !lead.deliveries.is_empty() {
        let delivery = tx
            .prepare_cached(
                "INSERT INTO deliveries (lead_id, destination, next_at) VALUES ($1, $2, 0)
                 ON CONFLICT DO NOTHING",
            )
            .await?;
        for destination in &lead.deliveries {
            tx.execute(&delivery, &[&lead.id, destination]).await?;
        }
    }
    if created {
        link_person(tx, lead, later).await?;
    }
    let read = tx
        .prepare_cached(
            "SELECT grade, total, received_at, score_mismatch, body_sha256,
                    (SELECT key FROM persons WHERE persons.id = leads.person_id)
             FROM leads WHERE id = $1",
        )
        .await?;
    let row = tx.query_one(&read, &[&lead.id]).await?;
    let stored_hash: Option<String> = row.get(4);
    Ok(Stored {
        id: lead.id.clone(),
        created,
        grade: row.get(0),
        total: small(row.get(1)),
        received_at: row.get(2),
        score_mismatch: row.get(3),
        same_body: Stored::same_body(created, stored_hash.as_deref(), &lead.body_sha256),
        person: row.get::<_, Option<String>>(5).unwrap_or_default(),
        assigned: None,
    })
}

/// Links a new lead to its person, creating or merging persons (see `sqlite.rs`), and brings
/// the person's row up to date.
async fn link_person(
    tx: &Transaction<'_>,
    lead: &Ingested,
    later: Option<&mut Vec<i64>>,
) -> Result<(), StoreError> {
    async fn find(tx: &Transaction<'_>, key: &str) -> Result<Option<i64>, StoreError> {
        Ok(tx
            .query_opt("SELECT id FROM persons WHERE key = $1", &[&key])
            .await?
            .map(|r| r.get(0)))
    }
    async fn create(
        tx: &Transaction<'_>,
        key: &str,
        email: Option<&str>,
    ) -> Result<i64, StoreError> {
        tx.execute(
            "INSERT INTO persons (key, email) VALUES ($1, $2) ON CONFLICT (key) DO NOTHING",
            &[&key, &email],
        )
        .await?;
        Ok(tx
            .query_one("SELECT id FROM persons WHERE key = $1", &[&key])
            .await?
            .get(0))
    }
    let mut merged = false;
    let visitor = lead.visitor_id.as_deref();
    let visitor_key = person_key(None, visitor, &lead.id);
    let id = match normal_email(lead.email.as_deref()) {
        Some(email) => {
            let by_email = find(tx, &email).await?;
            let by_visitor = match visitor {
                Some(_) => find(tx, &visitor_key).await?,
                None => None,
            };
            match (by_email, by_visitor) {
                (Some(person), Some(anonymous)) if person != anonymous => {
                    merged = true;
                    for sql in [
                        "UPDATE leads SET person_id = $1 WHERE person_id = $2",
                        "UPDATE feedback SET person_id = $1 WHERE person_id = $2",
                        "UPDATE persons SET owner = COALESCE(owner,
                            (SELECT owner FROM persons WHERE id = $2)) WHERE id = $1",
                    ] {
                        tx.execute(sql, &[&person, &anonymous]).await?;
                    }
                    tx.execute("DELETE FROM persons WHERE id = $1", &[&anonymous])
                        .await?;
                    person
                }
                (None, Some(anonymous)) => {
                    tx.execute(
                        "UPDATE persons SET key = $2, email = $2 WHERE id = $1",
                        &[&anonymous, &email],
                    )
                    .await?;
                    anonymous
                }
                (Some(person), _) => person,
                (None, None) => create(tx, &email, Some(&email)).await?,
            }
        }
        None => {
            let seen = match visitor {
                Some(visitor) => tx
                    .query_opt(
                        "SELECT id FROM persons WHERE visitor_id = $1
                         ORDER BY last_at DESC, id DESC LIMIT 1",
                        &[&visitor],
                    )
                    .await?
                    .map(|r| r.get::<_, i64>(0)),
                None => None,
            };
            match seen {
                Some(person) => person,
                None => create(tx, &visitor_key, None).await?,
            }
        }
    };
    if let Some(visitor) = visitor {
        tx.execute(
            "UPDATE persons SET visitor_id = $2 WHERE id = $1",
            &[&id, &visitor],
        )
        .await?;
    }
    tx.execute(
        "UPDATE leads SET person_id = $2 WHERE id = $1",
        &[&lead.id, &id],
    )
    .await?;
    if let Some(later) = later {
        later.push(id);
    } else if merged {
        refresh(tx, id).await?;
    } else {
        // The new submission counts itself in (see sqlite.rs).
        let touch = tx
            .prepare_cached(concat!(
                touch_persons!(),
                ", leads = leads + 1, spam = CASE WHEN leads = 0 THEN $2 ELSE spam AND $2 END
                 WHERE id = $1"
            ))
            .await?;
        tx.execute(&touch, &[&id, &lead.spam]).await?;
    }
    Ok(())
}

/// Brings the row of the person `id` up to date.
async fn refresh(tx: &Transaction<'_>, id: i64) -> Result<(), StoreError> {
    let refresh = tx
        .prepare_cached(concat!(refresh_persons!(), " WHERE id = $1"))
        .await?;
    tx.execute(&refresh, &[&id]).await?;
    Ok(())
}

const PERSON_COLUMNS: &str = "key, email, visitor_id, owner, company, first_at, last_at, last_lead,
    grade, total, best_grade, leads, spam, first_source, first_medium, first_campaign,
    last_source, last_medium, last_campaign, status, status_at";

fn read_person(row: &tokio_postgres::Row) -> Person {
    let status: Option<String> = row.get(19);
    let status_at: Option<String> = row.get(20);
    Person {
        key: row.get(0),
        email: row.get(1),
        visitor_id: row.get(2),
        owner: row.get(3),
        company: row.get(4),
        first_at: row.get(5),
        last_at: row.get(6),
        last_lead: row.get(7),
        grade: row.get(8),
        total: row.get::<_, Option<i16>>(9).map(small),
        best: row.get::<_, Option<bool>>(10).unwrap_or(false),
        leads: count(row.get(11)),
        spam: row.get(12),
        first_utm: [row.get(13), row.get(14), row.get(15)],
        last_utm: [row.get(16), row.get(17), row.get(18)],
        status: status.zip(status_at),
    }
}

fn read_feedback(row: &tokio_postgres::Row) -> Feedback {
    Feedback {
        status: row.get(0),
        reason: row.get(1),
        value: row.get(2),
        at: row.get(3),
        by: row.get(4),
        lead_id: row.get(5),
    }
}

/// Records `feedback` on the person `person` within `tx` (see `sqlite.rs`).
async fn feedback_in(
    tx: &Transaction<'_>,
    person: i64,
    feedback: &Feedback,
) -> Result<Feedback, StoreError> {
    let lead_id: Option<String> = match &feedback.lead_id {
        Some(id) => Some(id.clone()),
        None => tx
            .query_opt(
                "SELECT id FROM leads WHERE person_id = $1
                 ORDER BY received_at DESC, seq DESC LIMIT 1",
                &[&person],
            )
            .await?
            .map(|r| r.get(0)),
    };
    tx.execute(
        "INSERT INTO feedback (person_id, at, status, reason, value, by_whom, lead_id)
         VALUES ($1, $2, $3, $4, $5, $6, $7)",
        &[
            &person,
            &feedback.at,
            &feedback.status,
            &feedback.reason,
            &feedback.value,
            &feedback.by,
            &lead_id,
        ],
    )
    .await?;
    tx.execute(
        "UPDATE leads SET status = $2, status_at = $3 WHERE id = $1",
        &[&lead_id, &feedback.status, &feedback.at],
    )
    .await?;
    tx.execute(
        "UPDATE persons SET status = $2, status_at = $3 WHERE id = $1",
        &[&person, &feedback.status, &feedback.at],
    )
    .await?;
    Ok(Feedback {
        lead_id,
        ..feedback.clone()
    })
}
