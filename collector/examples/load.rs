//! Bounded load benchmark of the collector on loopback: N leads at concurrency C, then the
//! same ids replayed. Prints throughput, latency percentiles, 2xx answers against rows stored,
//! and duplicates. A benchmark to read, not a test: `scripts/dev bench` runs it.
//!
//! `cargo run --profile server -p bantam-collector --example load -- [LEADS] [CONCURRENCY]`

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::path::PathBuf;
use std::sync::{Arc, RwLock};
use std::time::{Duration, Instant};

use bantam_collector::{app, AppState, Forms, Settings, Store};
use bantam_engine::{build_lead, Answers, Form, Input, LeadInput, PageInfo};

fn root() -> PathBuf {
    PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/.."))
}

/// A keep-alive HTTP/1.1 connection that posts leads and reads status codes.
struct Client {
    reader: BufReader<TcpStream>,
    writer: TcpStream,
    host: String,
}

impl Client {
    fn connect(addr: SocketAddr) -> std::io::Result<Client> {
        let stream = TcpStream::connect(addr)?;
        stream.set_nodelay(true)?;
        stream.set_read_timeout(Some(Duration::from_secs(30)))?;
        Ok(Client {
            reader: BufReader::new(stream.try_clone()?),
            writer: stream,
            host: addr.to_string(),
        })
    }

    fn post(&mut self, id: &str, body: &str) -> std::io::Result<u16> {
        write!(
            self.writer,
            "POST /v1/leads HTTP/1.1\r\nHost: {}\r\nContent-Type: application/json\r\nIdempotency-Key: {id}\r\nContent-Length: {}\r\n\r\n{body}",
            self.host,
            body.len()
        )?;
        let mut status_line = String::new();
        self.reader.read_line(&mut status_line)?;
        let status = status_line
            .split(' ')
            .nth(1)
            .and_then(|s| s.parse().ok())
            .unwrap_or(0);
        let mut length = 0usize;
        loop {
            let mut line = String::new();
            self.reader.read_line(&mut line)?;
            if line == "\r\n" || line.is_empty() {
                break;
            }
            if let Some((name, value)) = line.split_once(':') {
                if name.eq_ignore_ascii_case("content-length") {
                    length = value.trim().parse().unwrap_or(0);
                }
            }
        }
        let mut body = vec![0; length];
        self.reader.read_exact(&mut body)?;
        Ok(status)
    }
}

fn lead_json(form: &Form, id: &str) -> String {
    let mut answers = Answers::new();
    answers
        .set(form, "email", Input::Text("load@acme.io"))
        .expect("email");
    answers
        .set(form, "company", Input::Text("Acme"))
        .expect("company");
    answers
        .set(form, "budget", Input::Checked(vec!["50k-250k".into()]))
        .expect("budget");
    answers
        .set(form, "role", Input::Checked(vec!["influencer".into()]))
        .expect("role");
    answers
        .set(
            form,
            "timeframe",
            Input::Checked(vec!["this-quarter".into()]),
        )
        .expect("timeframe");
    answers
        .set(form, "consent", Input::Flag(true))
        .expect("consent");
    let input = LeadInput {
        id: id.into(),
        submitted_at: "2026-11-23T10:00:00.000Z".into(),
        page: PageInfo {
            url: "https://www.example.com/pricing".into(),
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
    build_lead(form, &answers, input).to_json()
}

struct Round {
    seconds: f64,
    latencies: Vec<Duration>,
    statuses: Vec<u16>,
}

/// Posts `ids` from `concurrency` keep-alive clients.
fn round(addr: SocketAddr, bodies: &Arc<Vec<(String, String)>>, concurrency: usize) -> Round {
    let started = Instant::now();
    let workers: Vec<_> = (0..concurrency)
        .map(|worker| {
            let bodies = bodies.clone();
            std::thread::spawn(move || {
                let mut client = Client::connect(addr).expect("connect");
                let mut out = Vec::new();
                for (id, body) in bodies.iter().skip(worker).step_by(concurrency) {
                    let t = Instant::now();
                    let status = client.post(id, body).unwrap_or(0);
                    out.push((t.elapsed(), status));
                }
                out
            })
        })
        .collect();
    let mut latencies = Vec::new();
    let mut statuses = Vec::new();
    for worker in workers {
        for (latency, status) in worker.join().expect("worker") {
            latencies.push(latency);
            statuses.push(status);
        }
    }
    latencies.sort();
    Round {
        seconds: started.elapsed().as_secs_f64(),
        latencies,
        statuses,
    }
}

fn percentile(sorted: &[Duration], q: f64) -> f64 {
    let index = ((q * sorted.len() as f64).ceil() as usize).clamp(1, sorted.len()) - 1;
    sorted[index].as_secs_f64() * 1000.0
}

fn report(name: &str, r: &Round, want: u16) {
    let ok = r.statuses.iter().filter(|s| **s == want).count();
    let other = r.statuses.len() - ok;
    println!(
        "{name:<8} {:>7} requests in {:>6.2} s = {:>7.0} leads/s   p50 {:>6.2} ms   p99 {:>6.2} ms   {want}: {ok}   other: {other}",
        r.statuses.len(),
        r.seconds,
        r.statuses.len() as f64 / r.seconds,
        percentile(&r.latencies, 0.50),
        percentile(&r.latencies, 0.99),
    );
}

fn main() {
    let mut args = std::env::args().skip(1);
    let leads: usize = args.next().and_then(|a| a.parse().ok()).unwrap_or(20_000);
    let concurrency: usize = args.next().and_then(|a| a.parse().ok()).unwrap_or(32);
    let dir = std::env::temp_dir().join(format!("bantam-load-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    let db = dir.join("leads.db");
    let forms = Forms::load(&root().join("www/forms")).expect("forms");
    let form = forms.get("ledgerline-demo").expect("demo form");
    let settings = Settings {
        rate_per_minute: 0,
        ..Settings::default()
    };
    let runtime = tokio::runtime::Runtime::new().expect("runtime");
    let db = db.to_str().expect("a UTF-8 temporary path").to_owned();
    let state = AppState::new(
        runtime.block_on(Store::open(&db)).expect("store"),
        Arc::new(RwLock::new(forms)),
        settings,
    );
    let router = app(state, root().join("www"));

    let listener = runtime
        .block_on(tokio::net::TcpListener::bind("127.0.0.1:0"))
        .expect("bind");
    let addr = listener.local_addr().expect("address");
    runtime.spawn(async move {
        let service = router.into_make_service_with_connect_info::<SocketAddr>();
        let _ = axum::serve(listener, service).await;
    });

    let bodies: Arc<Vec<(String, String)>> = Arc::new(
        (0..leads)
            .map(|n| {
                let id = format!("load-{n:06}");
                let body = lead_json(&form, &id);
                (id, body)
            })
            .collect(),
    );
    println!("collector load: {leads} leads, concurrency {concurrency}, in-process server on {addr}, SQLite WAL synchronous=FULL");
    let first = round(addr, &bodies, concurrency);
    report("new", &first, 201);
    let replay = round(addr, &bodies, concurrency);
    report("replay", &replay, 200);

    let rows = runtime
        .block_on(async { Store::open(&db).await?.count().await })
        .expect("count");
    let created = first.statuses.iter().filter(|s| **s == 201).count() as u64;
    let acked = first
        .statuses
        .iter()
        .filter(|s| (200..300).contains(*s))
        .count() as u64;
    println!(
        "rows stored: {rows}   2xx answers (first round): {acked}   lost: {}   duplicates after dedup by id: {}",
        acked.saturating_sub(rows),
        rows.saturating_sub(created)
    );
    drop(runtime);
    let _ = std::fs::remove_dir_all(&dir);
}
