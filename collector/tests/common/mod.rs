//! Shared by the collector's integration tests: lead documents built by the engine, as the
//! widget builds them, and a database per test on either store.

// Each test binary uses its own part of this module.
#![allow(dead_code)]

use bantam_engine::{build_lead, parse_config, Answers, Input, Kind, LeadInput, PageInfo};
use serde_json::json;

mod listen;
pub mod smtp;
pub use listen::spawn_listening;

/// A lead for a BANT-preset form `form_id`, answering `answers` (question id, value: an option
/// id for choices, `true` for consent, text otherwise), submitted from `url`.
pub fn lead_json(form_id: &str, id: &str, answers: &[(&str, &str)], url: &str) -> String {
    let form = parse_config(json!({ "formId": form_id, "preset": "bant" })).expect("preset form");
    let mut given = Answers::new();
    for (question, value) in answers {
        let q = form.question(question).expect("a preset question");
        let input = match q.kind {
            Kind::SingleChoice(_) | Kind::MultipleChoice(_) | Kind::YesNo(_) => {
                Input::Checked(vec![(*value).to_owned()])
            }
            Kind::Consent => Input::Flag(*value == "true"),
            _ => Input::Text(value),
        };
        given.set(&form, question, input).expect("a valid answer");
    }
    let page = PageInfo {
        url: url.into(),
        title: "Pricing".into(),
        referrer: String::new(),
    };
    let input = LeadInput {
        id: id.into(),
        submitted_at: "2026-11-23T08:00:00.000Z".into(),
        page,
        attribution: None,
        visit_count: 1,
        new_answers: Vec::new(),
        browser: bantam_engine::BrowserInfo {
            fill_time_ms: 20_000,
            ..bantam_engine::BrowserInfo::default()
        },
    };
    build_lead(&form, &given, input).to_json()
}

/// A database for one test, removed on drop: a SQLite file in the temporary folder, or a
/// PostgreSQL database of its own (so tests run in parallel) on the server that
/// `BANTAM_TEST_POSTGRES` names.
pub enum TestDb {
    /// The path of a SQLite file.
    Sqlite(std::path::PathBuf),
    /// A PostgreSQL database: its URL, the server's URL, its name.
    Postgres {
        /// What `--db` takes.
        url: String,
        /// The URL the test server was given, for creating and dropping databases.
        server: String,
        /// The database's name.
        name: String,
    },
}

/// A name no other test of this run uses.
fn unique(prefix: &str) -> String {
    static N: std::sync::atomic::AtomicU32 = std::sync::atomic::AtomicU32::new(0);
    format!(
        "{prefix}_{}_{}",
        std::process::id(),
        N.fetch_add(1, std::sync::atomic::Ordering::SeqCst)
    )
}

/// `url` with its database name replaced by `name`.
fn with_database(url: &str, name: &str) -> String {
    let (scheme, rest) = url.split_once("://").expect("a postgres:// URL");
    let (rest, query) = match rest.split_once('?') {
        Some((rest, query)) => (rest, format!("?{query}")),
        None => (rest, String::new()),
    };
    let authority = rest.split('/').next().unwrap_or_default();
    format!("{scheme}://{authority}/{name}{query}")
}

/// Runs one SQL command on the test server's own database.
async fn on_server(server: &str, sql: &str) {
    let (client, connection) = tokio_postgres::connect(server, tokio_postgres::NoTls)
        .await
        .unwrap_or_else(|err| panic!("cannot reach BANTAM_TEST_POSTGRES: {err}"));
    let task = tokio::spawn(connection);
    client
        .batch_execute(sql)
        .await
        .unwrap_or_else(|err| panic!("{sql}: {err}"));
    drop(client);
    let _ = task.await;
}

impl TestDb {
    /// A fresh SQLite file.
    pub fn sqlite() -> TestDb {
        TestDb::Sqlite(std::env::temp_dir().join(format!("{}.db", unique("bantam-test"))))
    }

    /// A fresh PostgreSQL database, or `None` (saying so on stderr) when
    /// `BANTAM_TEST_POSTGRES` is not set.
    pub async fn postgres(test: &str) -> Option<TestDb> {
        let Some(server) = std::env::var("BANTAM_TEST_POSTGRES")
            .ok()
            .filter(|s| !s.is_empty())
        else {
            use std::io::Write;
            // Straight to stderr, past the test harness's capture, so the skip is seen.
            let _ = writeln!(
                std::io::stderr(),
                "skipped: {test} on PostgreSQL (BANTAM_TEST_POSTGRES is not set; scripts/dev test sets it)"
            );
            return None;
        };
        let name = unique("bantam_test");
        on_server(&server, &format!("CREATE DATABASE {name}")).await;
        Some(TestDb::Postgres {
            url: with_database(&server, &name),
            server,
            name,
        })
    }

    /// The value of `--db` for this database.
    pub fn url(&self) -> String {
        match self {
            TestDb::Sqlite(path) => path.display().to_string(),
            TestDb::Postgres { url, .. } => url.clone(),
        }
    }

    /// Whether this is PostgreSQL.
    pub fn is_postgres(&self) -> bool {
        matches!(self, TestDb::Postgres { .. })
    }

    /// Opens the store.
    pub async fn open(&self) -> bantam_collector::Store {
        bantam_collector::Store::open(&self.url())
            .await
            .expect("open the store")
    }
}

impl Drop for TestDb {
    fn drop(&mut self) {
        match self {
            TestDb::Sqlite(path) => {
                for suffix in ["", "-wal", "-shm"] {
                    let _ = std::fs::remove_file(format!("{}{suffix}", path.display()));
                }
            }
            TestDb::Postgres { server, name, .. } => {
                // Drop may run inside a runtime: a thread of its own runs the statement.
                let sql = format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)");
                let server = server.clone();
                let _ = std::thread::spawn(move || {
                    tokio::runtime::Builder::new_current_thread()
                        .enable_all()
                        .build()
                        .expect("a runtime")
                        .block_on(on_server(&server, &sql));
                })
                .join();
            }
        }
    }
}

/// Turns `async fn name(db: TestDb)` test bodies into tests per store: `sqlite::name`, and
/// `postgres::name`, which says it was skipped when `BANTAM_TEST_POSTGRES` is not set.
#[macro_export]
macro_rules! on_both_stores {
    ($($name:ident),+ $(,)?) => {
        mod sqlite {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $name() {
                    super::$name($crate::common::TestDb::sqlite()).await;
                }
            )+
        }
        mod postgres {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $name() {
                    if let Some(db) = $crate::common::TestDb::postgres(stringify!($name)).await {
                        super::$name(db).await;
                    }
                }
            )+
        }
    };
}

/// The repository's root (for `www/` and `www/forms/`).
pub fn root() -> std::path::PathBuf {
    std::path::PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/.."))
}

/// Starts the real collector binary on a free loopback port, on `db` (a SQLite path or a
/// PostgreSQL URL), with the repository's demo forms, no rate limit and `extra` flags; returns
/// the child and its address. Its output is drained on a thread of its own, so a later line
/// never meets a closed pipe.
pub fn start_collector(db: &str, extra: &[&str]) -> (std::process::Child, String) {
    spawn_listening(
        std::process::Command::new(env!("CARGO_BIN_EXE_bantam-collector"))
            .args(["--listen", "127.0.0.1:0", "--rate-limit", "0", "--db", db])
            .arg("--www")
            .arg(root().join("www"))
            .arg("--forms")
            .arg(root().join("www/forms"))
            .args(extra),
    )
}

/// Posts a lead on a fresh connection; returns the HTTP status, or `None` when the server is
/// gone.
pub fn post_lead(addr: &str, id: &str, body: &str) -> Option<u16> {
    use std::io::{Read, Write};
    let mut stream = std::net::TcpStream::connect(addr).ok()?;
    stream
        .set_read_timeout(Some(std::time::Duration::from_secs(10)))
        .ok()?;
    let request = format!(
        "POST /v1/leads HTTP/1.1\r\nHost: {addr}\r\nContent-Type: application/json\r\nIdempotency-Key: {id}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    );
    stream.write_all(request.as_bytes()).ok()?;
    let mut response = String::new();
    stream.read_to_string(&mut response).ok()?;
    response.split(' ').nth(1)?.parse().ok()
}

impl TestDb {
    /// Runs SQL on the database directly, bypassing the store (to set up old rows).
    pub async fn execute(&self, sql: &str) {
        match self {
            TestDb::Sqlite(path) => rusqlite::Connection::open(path)
                .and_then(|conn| conn.execute_batch(sql))
                .unwrap_or_else(|err| panic!("{sql}: {err}")),
            TestDb::Postgres { url, .. } => on_server(url, sql).await,
        }
    }

    /// Runs a query that returns one number on the database directly.
    pub async fn number(&self, sql: &str) -> i64 {
        match self {
            TestDb::Sqlite(path) => rusqlite::Connection::open(path)
                .and_then(|conn| conn.query_row(sql, [], |row| row.get(0)))
                .unwrap_or_else(|err| panic!("{sql}: {err}")),
            TestDb::Postgres { url, .. } => {
                let (client, connection) = tokio_postgres::connect(url, tokio_postgres::NoTls)
                    .await
                    .expect("connect");
                let task = tokio::spawn(connection);
                let row = client
                    .query_one(sql, &[])
                    .await
                    .unwrap_or_else(|err| panic!("{sql}: {err}"));
                drop(client);
                let _ = task.await;
                row.get(0)
            }
        }
    }
}
