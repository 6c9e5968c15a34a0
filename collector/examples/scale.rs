//! The collector with a large table: fills a database with N leads (1,000,000 by default),
//! then times inbox pages and the CSV export against the real binary and reads its peak
//! resident memory. A benchmark to read, not a test.
//!
//! ```text
//! cargo build --profile server -p bantam-collector --bin bantam-collector --example scale
//! target/server/examples/scale [LEADS] [--db PATH | --db postgres://...]
//! ```
//!
//! Filling posts 24 varied leads through the API (sources, mediums, campaigns, grades), then
//! copies them in SQL with new ids, emails and times spread over a year (2025): the rows are what the
//! collector stores, made quickly. A database that already holds enough leads is reused.

#[path = "../tests/common/listen.rs"]
mod listen;

use std::io::{Read, Write};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command};
use std::time::{Duration, Instant};

fn root() -> PathBuf {
    PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/.."))
}

fn binary() -> PathBuf {
    let exe = std::env::current_exe().expect("own path");
    let bin = exe
        .parent()
        .and_then(Path::parent)
        .expect("target/<profile>/examples")
        .join("bantam-collector");
    assert!(
        bin.exists(),
        "{} is missing: cargo build --profile server -p bantam-collector first",
        bin.display()
    );
    bin
}

const TOKEN: &str = "scale-token";

struct Collector {
    child: Child,
    addr: String,
}

impl Collector {
    fn start(db: &str) -> Collector {
        let (child, addr) = listen::spawn_listening(
            Command::new(binary())
                .args(["--listen", "127.0.0.1:0", "--rate-limit", "0", "--db", db])
                .args(["--admin-token", TOKEN])
                .arg("--www")
                .arg(root().join("www"))
                .arg("--forms")
                .arg(root().join("www/forms")),
        );
        Collector { child, addr }
    }

    /// Sends `request`; returns the status, the body's length and lines, and the time to its
    /// last byte.
    fn send(&self, request: &str) -> (u16, usize, usize, Duration) {
        let started = Instant::now();
        let mut stream = TcpStream::connect(&self.addr).expect("connect");
        stream.write_all(request.as_bytes()).expect("send");
        let mut response = Vec::new();
        stream.read_to_end(&mut response).expect("read");
        let took = started.elapsed();
        let head_end = response
            .windows(4)
            .position(|w| w == b"\r\n\r\n")
            .unwrap_or(0);
        let status = String::from_utf8_lossy(&response[..head_end.min(20)])
            .split(' ')
            .nth(1)
            .and_then(|s| s.parse().ok())
            .unwrap_or(0);
        let lines = response[head_end..].iter().filter(|&&b| b == b'\n').count();
        (status, response.len() - head_end, lines, took)
    }

    fn get(&self, path: &str) -> (u16, usize, usize, Duration) {
        self.send(&format!(
            "GET {path} HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {TOKEN}\r\nConnection: close\r\n\r\n"
        ))
    }

    /// Resident memory now and at its peak, in MiB.
    fn memory(&self) -> (f64, f64) {
        let status = std::fs::read_to_string(format!("/proc/{}/status", self.child.id()))
            .unwrap_or_default();
        let field = |name: &str| {
            status
                .lines()
                .find_map(|l| l.strip_prefix(name))
                .and_then(|v| v.trim().trim_end_matches(" kB").trim().parse::<f64>().ok())
                .map_or(0.0, |kb| kb / 1024.0)
        };
        (field("VmRSS:"), field("VmHWM:"))
    }
}

impl Drop for Collector {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The 24 template leads: three grades by their answers, eight sources, mediums, campaigns.
fn post_templates(collector: &Collector) {
    let sources = [
        ("google", "cpc", "brand"),
        ("google", "cpc", "generic"),
        ("linkedin", "paid-social", "q3-abm"),
        ("newsletter", "email", "november"),
        ("bing", "cpc", "brand"),
        ("facebook", "paid-social", "retarget"),
        ("partner", "referral", "reseller"),
        ("", "", ""),
    ];
    let grades = [
        ("over-250k", "decision-maker", "this-quarter"),
        ("50k-250k", "influencer", "this-half"),
        ("under-10k", "researcher", "no-plan"),
    ];
    let form = bantam_engine::parse_config(
        serde_json::from_str::<serde_json::Value>(
            &std::fs::read_to_string(root().join("www/forms/ledgerline-demo.json"))
                .expect("demo form"),
        )
        .expect("demo form JSON"),
    )
    .expect("demo form");
    for (s, (source, medium, campaign)) in sources.iter().enumerate() {
        for (g, (budget, role, timeframe)) in grades.iter().enumerate() {
            let mut answers = bantam_engine::Answers::new();
            let set = |answers: &mut bantam_engine::Answers, id: &str, input| {
                answers.set(&form, id, input).expect(id);
            };
            use bantam_engine::Input;
            set(
                &mut answers,
                "email",
                Input::Text("buyer@acme-industries.com"),
            );
            set(&mut answers, "company", Input::Text("Acme Industries"));
            set(
                &mut answers,
                "budget",
                Input::Checked(vec![(*budget).into()]),
            );
            set(&mut answers, "role", Input::Checked(vec![(*role).into()]));
            set(
                &mut answers,
                "timeframe",
                Input::Checked(vec![(*timeframe).into()]),
            );
            set(&mut answers, "consent", Input::Flag(true));
            let url = if source.is_empty() {
                "https://www.example.com/pricing".to_owned()
            } else {
                format!("https://www.example.com/pricing?utm_source={source}&utm_medium={medium}&utm_campaign={campaign}")
            };
            let input = bantam_engine::LeadInput {
                id: format!("tpl-{s}-{g}"),
                submitted_at: "2025-01-01T00:00:00.000Z".into(),
                page: bantam_engine::PageInfo {
                    url,
                    title: "Pricing".into(),
                    referrer: String::new(),
                },
                attribution: None,
                visit_count: 1,
                new_answers: Vec::new(),
                browser: bantam_engine::BrowserInfo {
                    fill_time_ms: 20_000,
                    ..bantam_engine::BrowserInfo::default()
                },
            };
            let body = bantam_engine::build_lead(&form, &answers, input).to_json();
            let (status, _, _, _) = collector.send(&format!(
                "POST /v1/leads HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
                body.len()
            ));
            assert!(
                status == 201 || status == 200,
                "template lead answered {status}"
            );
        }
    }
}

/// Copies the templates until the table holds `leads` rows.
fn multiply_sqlite(db: &str, leads: u64) {
    let conn = rusqlite::Connection::open(db).expect("open");
    let have: u64 = conn
        .query_row("SELECT COUNT(*) FROM leads", [], |r| r.get(0))
        .expect("count");
    let rounds = leads.saturating_sub(have) / 24 + 1;
    conn.execute_batch("PRAGMA synchronous = OFF")
        .expect("pragma");
    conn.execute(
        "WITH RECURSIVE seq(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM seq WHERE n < ?1)
         INSERT INTO leads (id, form_id, received_at, submitted_at, email, company, grade, total,
                            document, client_total, client_grade, score_mismatch, utm_source,
                            utm_medium, utm_campaign, best_grade)
         SELECT t.id || '-' || seq.n, t.form_id,
                strftime('%Y-%m-%dT%H:%M:%fZ', '2025-01-01', '+' || ((seq.n * 24 + t.rowid) * ?2 % 31536000) || ' seconds'),
                t.submitted_at, 'buyer' || seq.n || '@acme-industries.com', t.company, t.grade,
                t.total, t.document, t.client_total, t.client_grade, t.score_mismatch,
                t.utm_source, t.utm_medium, t.utm_campaign, t.best_grade
         FROM seq, (SELECT rowid, * FROM leads WHERE id LIKE 'tpl-%' AND id NOT LIKE 'tpl-%-%-%') t",
        [rounds, (31_536_000 / leads.max(1)).max(1)],
    )
    .expect("copy the templates");
    // The per-day summary, as the collector keeps it for leads it stores itself.
    conn.execute_batch(SUMMARY_SQL).expect("summarise");
}

/// Rebuilds `lead_counts` from the leads (the SQL of the migration that made it).
const SUMMARY_SQL: &str = "DELETE FROM lead_counts;
    INSERT INTO lead_counts
        SELECT substr(received_at, 1, 10), form_id, grade, COALESCE(utm_source, ''),
               COALESCE(utm_medium, ''), COALESCE(utm_campaign, ''), COUNT(*),
               SUM(CASE WHEN best_grade THEN 1 ELSE 0 END), SUM(total)
        FROM leads GROUP BY 1, 2, 3, 4, 5, 6;";

/// The same copies on PostgreSQL.
fn multiply_postgres(db: &str, leads: u64) {
    let runtime = tokio::runtime::Runtime::new().expect("runtime");
    runtime.block_on(async {
        let (client, connection) = tokio_postgres::connect(db, tokio_postgres::NoTls)
            .await
            .expect("connect");
        tokio::spawn(connection);
        let have: i64 = client
            .query_one("SELECT COUNT(*) FROM leads", &[])
            .await
            .expect("count")
            .get(0);
        let rounds = (leads as i64 - have).max(0) / 24 + 1;
        let step = (31_536_000 / leads.max(1)).max(1) as i64;
        client
            .execute(
                "INSERT INTO leads (id, form_id, received_at, submitted_at, email, company, grade,
                                    total, document, client_total, client_grade, score_mismatch,
                                    utm_source, utm_medium, utm_campaign, best_grade)
                 SELECT t.id || '-' || n, t.form_id,
                        to_char(TIMESTAMP '2025-01-01' + make_interval(secs => (((n * 24 + t.k) * $2) % 31536000)::FLOAT8), 'YYYY-MM-DD\"T\"HH24:MI:SS.MS\"Z\"'),
                        t.submitted_at, 'buyer' || n || '@acme-industries.com', t.company, t.grade,
                        t.total, t.document, t.client_total, t.client_grade, t.score_mismatch,
                        t.utm_source, t.utm_medium, t.utm_campaign, t.best_grade
                 FROM generate_series(1, $1::BIGINT) AS n,
                      (SELECT row_number() OVER (ORDER BY id) AS k, * FROM leads
                       WHERE id LIKE 'tpl-%' AND id NOT LIKE 'tpl-%-%-%') t",
                &[&rounds, &step],
            )
            .await
            .expect("copy the templates");
        client.batch_execute(SUMMARY_SQL).await.expect("summarise");
        client.batch_execute("VACUUM ANALYZE leads").await.expect("analyze");
    });
}

fn count_postgres(db: &str) -> u64 {
    let runtime = tokio::runtime::Runtime::new().expect("runtime");
    runtime.block_on(async {
        let Ok((client, connection)) = tokio_postgres::connect(db, tokio_postgres::NoTls).await
        else {
            return 0;
        };
        tokio::spawn(connection);
        client
            .query_one("SELECT COUNT(*) FROM leads", &[])
            .await
            .map_or(0, |r| r.get::<_, i64>(0) as u64)
    })
}

fn count_sqlite(db: &str) -> u64 {
    rusqlite::Connection::open(db)
        .and_then(|c| c.query_row("SELECT COUNT(*) FROM leads", [], |r| r.get(0)))
        .unwrap_or(0)
}

fn main() {
    let mut leads: u64 = 1_000_000;
    let mut db: Option<String> = None;
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--db" => db = args.next(),
            n => leads = n.parse().expect("LEADS is a number"),
        }
    }
    let db = db.unwrap_or_else(|| {
        std::env::temp_dir()
            .join(format!("bantam-scale-{leads}.db"))
            .display()
            .to_string()
    });
    let postgres = db.starts_with("postgres");
    let count = |db: &str| {
        if postgres {
            count_postgres(db)
        } else {
            count_sqlite(db)
        }
    };
    if count(&db) < leads {
        println!("filling the database with {leads} leads (once; it is reused)");
        let started = Instant::now();
        let collector = Collector::start(&db);
        post_templates(&collector);
        drop(collector);
        if postgres {
            multiply_postgres(&db, leads);
        } else {
            multiply_sqlite(&db, leads);
        }
        println!("filled in {:.1} s", started.elapsed().as_secs_f64());
    }
    let rows = count(&db);
    let size = if postgres {
        String::from("PostgreSQL")
    } else {
        format!(
            "SQLite, {:.0} MB",
            std::fs::metadata(&db).map_or(0, |m| m.len()) as f64 / 1e6
        )
    };
    println!("{rows} leads ({size}); times to the last byte, median of 3");
    let started = Instant::now();
    let collector = Collector::start(&db);
    println!(
        "collector started in {:.2} s",
        started.elapsed().as_secs_f64()
    );
    let (rss, _) = collector.memory();
    println!("resident memory at start: {rss:.0} MiB");
    let pages = [
        "/inbox",
        "/inbox?offset=500000",
        "/inbox?grade=hot",
        "/inbox?source=linkedin",
        "/inbox?from=2025-06-01&to=2025-06-30",
        "/inbox?q=buyer77",
        "/inbox?status=won",
        "/inbox?status=new",
        "/v1/leads?limit=100",
    ];
    for path in pages {
        let mut times: Vec<Duration> = (0..3)
            .map(|_| collector.get(path))
            .map(|r| {
                assert_eq!(r.0, 200, "{path}");
                r.3
            })
            .collect();
        times.sort();
        println!("{path:<42} {:>8.1} ms", times[1].as_secs_f64() * 1000.0);
    }
    let (status, bytes, lines, took) = collector.get("/v1/leads.csv");
    let (rss, peak) = collector.memory();
    println!(
        "{:<42} {:>8.1} ms   {status}, {:.0} MB, {lines} lines",
        "/v1/leads.csv (everything)",
        took.as_secs_f64() * 1000.0,
        bytes as f64 / 1e6,
    );
    println!("resident memory after the export: {rss:.0} MiB, peak {peak:.0} MiB");
}
