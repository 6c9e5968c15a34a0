//! Load benchmark of the real collector binary on loopback: N leads at concurrency C, spread
//! over one or more collector processes on one database, then the same ids replayed. Prints
//! throughput, latency percentiles, 2xx answers against rows stored, leads lost and leads
//! created twice. Optionally holds slow connections (the half-sent requests of a slow-client
//! attack) while it runs, or SIGKILLs one process half-way. A benchmark to read, not a test:
//! `scripts/dev bench` runs it.
//!
//! With `--destinations`, the collectors run with a routes file of three destinations on local
//! receivers: `sales-slack` (Slack format, hot leads only; a third of the leads are hot), `crm`
//! (JSON, every lead) and `flaky` (JSON, every lead, answering 503 to every fifth request, so
//! its leads are retried). Once the posts are done it waits for the outboxes to drain and prints,
//! per destination and counted by its receiver, the leads expected, received, lost and received
//! more than once (a 2xx answered twice for one lead). Each lead then has an email of its own
//! (without `--destinations`, every lead has the same one).
//!
//! ```text
//! cargo build --profile server -p bantam-collector --bin bantam-collector --example load
//! target/server/examples/load [LEADS] [CONCURRENCY] [--db PATH] [--replicas N] [--slow N] [--kill]
//!                             [--destinations]
//! ```

#[path = "../tests/common/listen.rs"]
mod listen;

use std::collections::HashMap;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use bantam_collector::{Forms, Store};
use bantam_engine::{build_lead, Answers, Form, Input, LeadInput, PageInfo};

fn root() -> PathBuf {
    PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/.."))
}

/// The collector binary built beside this example (`target/<profile>/bantam-collector`).
fn binary() -> PathBuf {
    let exe = std::env::current_exe().expect("own path");
    let dir = exe
        .parent()
        .and_then(Path::parent)
        .expect("target/<profile>/examples");
    let bin = dir.join("bantam-collector");
    assert!(
        bin.exists(),
        "{} is missing: cargo build --profile server -p bantam-collector first",
        bin.display()
    );
    bin
}

/// One collector process.
struct Replica {
    child: Child,
    addr: SocketAddr,
}

impl Replica {
    fn start(db: &str, routes: Option<&Path>) -> Replica {
        let mut command = Command::new(binary());
        command
            .args(["--listen", "127.0.0.1:0", "--rate-limit", "0", "--db", db])
            .arg("--www")
            .arg(root().join("www"))
            .arg("--forms")
            .arg(root().join("www/forms"));
        if let Some(routes) = routes {
            command.arg("--routes").arg(routes);
        }
        let (child, addr) = listen::spawn_listening(&mut command);
        let addr = addr.parse().expect("a socket address");
        Replica { child, addr }
    }
}

impl Drop for Replica {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
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
        if self.reader.read_line(&mut status_line)? == 0 {
            return Err(std::io::ErrorKind::UnexpectedEof.into());
        }
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

/// A lead of the demo form from `email`: hot (a decision maker with a budget over $250k, this
/// month) or warm.
fn lead_json(form: &Form, id: &str, email: &str, hot: bool) -> String {
    let (budget, role, timeframe) = if hot {
        ("over-250k", "decision-maker", "this-month")
    } else {
        ("50k-250k", "influencer", "this-quarter")
    };
    let mut answers = Answers::new();
    answers
        .set(form, "email", Input::Text(email))
        .expect("email");
    answers
        .set(form, "company", Input::Text("Acme"))
        .expect("company");
    answers
        .set(form, "budget", Input::Checked(vec![budget.into()]))
        .expect("budget");
    answers
        .set(form, "role", Input::Checked(vec![role.into()]))
        .expect("role");
    answers
        .set(form, "timeframe", Input::Checked(vec![timeframe.into()]))
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

/// One post's outcome: the id, the latency, the status (0: no answer).
type Outcome = (usize, Duration, u16);

struct Round {
    seconds: f64,
    outcomes: Vec<Outcome>,
}

/// Posts every body from `concurrency` keep-alive clients spread over `addrs`. A client whose
/// collector stops answering records the failure and moves to the next collector, posting the
/// same lead again (it may or may not be stored: the id makes the retry safe).
fn round(
    addrs: &[SocketAddr],
    bodies: &Arc<Vec<(String, String)>>,
    concurrency: usize,
    on_progress: &(dyn Fn(usize) + Sync),
) -> Round {
    let done = AtomicUsize::new(0);
    let started = Instant::now();
    let outcomes = std::thread::scope(|scope| {
        let workers: Vec<_> = (0..concurrency)
            .map(|worker| {
                let (bodies, done) = (bodies.clone(), &done);
                scope.spawn(move || {
                    let mut at = worker % addrs.len();
                    let mut client = Client::connect(addrs[at]).ok();
                    let mut out = Vec::new();
                    for (n, (id, body)) in
                        bodies.iter().enumerate().skip(worker).step_by(concurrency)
                    {
                        loop {
                            let t = Instant::now();
                            let status = client
                                .as_mut()
                                .and_then(|c| c.post(id, body).ok())
                                .unwrap_or(0);
                            out.push((n, t.elapsed(), status));
                            if status != 0 {
                                break;
                            }
                            // No answer: the next collector, if another is alive.
                            at = (at + 1) % addrs.len();
                            client = Client::connect(addrs[at]).ok();
                            if client.is_none() && addrs.len() == 1 {
                                break;
                            }
                        }
                        on_progress(done.fetch_add(1, Ordering::Relaxed) + 1);
                    }
                    out
                })
            })
            .collect();
        workers
            .into_iter()
            .flat_map(|w| w.join().expect("worker"))
            .collect::<Vec<_>>()
    });
    Round {
        seconds: started.elapsed().as_secs_f64(),
        outcomes,
    }
}

fn percentile(sorted: &[Duration], q: f64) -> f64 {
    if sorted.is_empty() {
        return 0.0;
    }
    let index = ((q * sorted.len() as f64).ceil() as usize).clamp(1, sorted.len()) - 1;
    sorted[index].as_secs_f64() * 1000.0
}

fn report(name: &str, r: &Round, want: u16) {
    let mut latencies: Vec<Duration> = r
        .outcomes
        .iter()
        .filter(|o| o.2 != 0)
        .map(|o| o.1)
        .collect();
    latencies.sort();
    let ok = r.outcomes.iter().filter(|o| o.2 == want).count();
    let failed = r.outcomes.iter().filter(|o| o.2 == 0).count();
    let other = r.outcomes.len() - ok - failed;
    println!(
        "{name:<8} {:>7} requests in {:>6.2} s = {:>7.0} leads/s   p50 {:>6.2} ms   p99 {:>7.2} ms   {want}: {ok}   other status: {other}   no answer: {failed}",
        r.outcomes.len(),
        r.seconds,
        r.outcomes.len() as f64 / r.seconds,
        percentile(&latencies, 0.50),
        percentile(&latencies, 0.99),
    );
}

/// Holds `n` half-sent requests, spread over source addresses 127.0.0.2, .3, … (at most 250
/// each, under the collector's per-address cap), opening a new one for each the collector
/// closes, until `stop`. Returns how many it opened in all.
fn hold_slow(addr: SocketAddr, n: usize, stop: Arc<AtomicBool>) -> std::thread::JoinHandle<usize> {
    std::thread::spawn(move || {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("runtime");
        runtime.block_on(async move {
            let opened = Arc::new(AtomicUsize::new(0));
            let tasks: Vec<_> = (0..n)
                .map(|k| {
                    let (stop, opened) = (stop.clone(), opened.clone());
                    let source: SocketAddr = format!("127.0.0.{}:0", 2 + k / 250).parse().unwrap();
                    tokio::spawn(async move {
                        use tokio::io::AsyncReadExt as _;
                        use tokio::io::AsyncWriteExt as _;
                        while !stop.load(Ordering::Relaxed) {
                            let Ok(socket) = tokio::net::TcpSocket::new_v4() else {
                                break;
                            };
                            if socket.bind(source).is_err() {
                                break;
                            }
                            let Ok(mut stream) = socket.connect(addr).await else {
                                tokio::time::sleep(Duration::from_millis(100)).await;
                                continue;
                            };
                            opened.fetch_add(1, Ordering::Relaxed);
                            let _ = stream
                                .write_all(b"GET / HTTP/1.1\r\nHost: x\r\nX-Slow: ")
                                .await;
                            // Held until the collector closes it (or the run ends).
                            let mut byte = [0u8; 64];
                            loop {
                                tokio::select! {
                                    read = stream.read(&mut byte) => {
                                        if matches!(read, Ok(0) | Err(_)) { break; }
                                    }
                                    () = tokio::time::sleep(Duration::from_millis(200)) => {
                                        if stop.load(Ordering::Relaxed) { return; }
                                    }
                                }
                            }
                        }
                    })
                })
                .collect();
            for task in tasks {
                let _ = task.await;
            }
            opened.load(Ordering::Relaxed)
        })
    })
}

/// One local receiver of a destination: per lead id, the requests it answered 2xx; and how many
/// it refused with 503.
#[derive(Clone, Default)]
struct Receiver {
    accepted: Arc<Mutex<HashMap<String, usize>>>,
    /// Per lead id, every request (refused ones too).
    attempts: Arc<Mutex<HashMap<String, usize>>>,
    requests: Arc<AtomicUsize>,
    refused: Arc<AtomicUsize>,
    /// Answers 503 to every `fail_every`-th request (0: never).
    fail_every: usize,
    /// Whether bodies must be Slack messages (`{"text": …}`).
    slack: bool,
}

async fn receive(
    axum::extract::State(r): axum::extract::State<Receiver>,
    headers: axum::http::HeaderMap,
    body: axum::body::Bytes,
) -> axum::http::StatusCode {
    let n = r.requests.fetch_add(1, Ordering::Relaxed) + 1;
    let key = headers
        .get("idempotency-key")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default();
    *r.attempts
        .lock()
        .unwrap()
        .entry(key.to_owned())
        .or_default() += 1;
    if r.fail_every > 0 && n % r.fail_every == 0 {
        r.refused.fetch_add(1, Ordering::Relaxed);
        return axum::http::StatusCode::SERVICE_UNAVAILABLE;
    }
    let Some(id) = headers.get("idempotency-key").and_then(|v| v.to_str().ok()) else {
        return axum::http::StatusCode::BAD_REQUEST;
    };
    let parsed: Option<serde_json::Value> = serde_json::from_slice(&body).ok();
    let well_formed = match &parsed {
        Some(v) if r.slack => v["text"]
            .as_str()
            .is_some_and(|t| t.starts_with("*Hot lead*")),
        Some(v) => v["id"] == id,
        None => false,
    };
    if !well_formed {
        return axum::http::StatusCode::UNPROCESSABLE_ENTITY;
    }
    *r.accepted.lock().unwrap().entry(id.to_owned()).or_default() += 1;
    axum::http::StatusCode::OK
}

/// Starts the three receivers on a runtime of their own; returns them with their URLs, and the
/// runtime (they stop when it is dropped).
fn start_receivers() -> (
    tokio::runtime::Runtime,
    Vec<(&'static str, Receiver, String)>,
) {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime");
    let receivers = [
        (
            "sales-slack",
            Receiver {
                slack: true,
                ..Receiver::default()
            },
        ),
        ("crm", Receiver::default()),
        (
            "flaky",
            Receiver {
                fail_every: 5,
                ..Receiver::default()
            },
        ),
    ];
    let started = receivers
        .into_iter()
        .map(|(name, receiver)| {
            let app = axum::Router::new()
                .route("/hook", axum::routing::post(receive))
                .with_state(receiver.clone());
            let url = runtime.block_on(async move {
                let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
                let addr = listener.local_addr().unwrap();
                tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
                format!("http://{addr}/hook")
            });
            (name, receiver, url)
        })
        .collect();
    (runtime, started)
}

fn main() {
    let mut leads = 20_000usize;
    let mut concurrency = 32usize;
    let mut db: Option<String> = None;
    let mut replicas = 1usize;
    let mut slow = 0usize;
    let mut kill = false;
    let mut destinations = false;
    let mut positional = 0;
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--db" => db = args.next(),
            "--replicas" => replicas = args.next().and_then(|a| a.parse().ok()).unwrap_or(1),
            "--slow" => slow = args.next().and_then(|a| a.parse().ok()).unwrap_or(2000),
            "--kill" => kill = true,
            "--destinations" => destinations = true,
            n => {
                let n: usize = n.parse().expect("LEADS and CONCURRENCY are numbers");
                if positional == 0 {
                    leads = n;
                } else {
                    concurrency = n;
                }
                positional += 1;
            }
        }
    }
    let dir = std::env::temp_dir().join(format!("bantam-load-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    let db = db.unwrap_or_else(|| dir.join("leads.db").display().to_string());
    let forms = Forms::load(&root().join("www/forms")).expect("forms");
    let form = forms.get("ledgerline-demo").expect("demo form");
    let receivers = destinations.then(start_receivers);
    let routes = receivers.as_ref().map(|(_, receivers)| {
        let url = |name: &str| {
            receivers
                .iter()
                .find(|r| r.0 == name)
                .map(|r| r.2.clone())
                .unwrap()
        };
        let file = dir.join("routes.json");
        let routes = serde_json::json!({
            "destinations": [
                {"name": "crm", "format": "json", "url": url("crm")},
                {"name": "flaky", "format": "json", "url": url("flaky")},
            ],
            "forms": {"ledgerline-demo": {"destinations": [
                {"name": "sales-slack", "format": "slack", "url": url("sales-slack"),
                 "when": {"grades": ["hot"], "spam": "leaveOut"}},
            ]}},
        });
        std::fs::write(&file, routes.to_string()).expect("routes file");
        file
    });
    let mut running: Vec<Replica> = (0..replicas.max(1))
        .map(|_| Replica::start(&db, routes.as_deref()))
        .collect();
    let addrs: Vec<SocketAddr> = running.iter().map(|r| r.addr).collect();

    let bodies: Arc<Vec<(String, String)>> = Arc::new(
        (0..leads)
            .map(|n| {
                let id = format!("load-{}-{n:07}", std::process::id());
                // With destinations, each lead is another person, as a campaign's leads are.
                let email = if destinations {
                    format!("load-{n}@acme.io")
                } else {
                    "load@acme.io".to_owned()
                };
                let body = lead_json(&form, &id, &email, n % 3 == 0);
                (id, body)
            })
            .collect(),
    );
    let store_name = if db.starts_with("postgres") {
        "PostgreSQL"
    } else {
        "SQLite WAL synchronous=FULL"
    };
    println!(
        "collector load: {leads} leads, concurrency {concurrency}, {} collector process(es) on {store_name}{}{}",
        addrs.len(),
        if slow > 0 { format!(", {slow} slow connections held") } else { String::new() },
        if kill { ", one process SIGKILLed half-way" } else { "" },
    );
    if destinations {
        println!("destinations: sales-slack (Slack format, hot leads: a third), crm (JSON, every lead), flaky (JSON, every lead, 503 to every fifth request)");
    }
    let stop_slow = Arc::new(AtomicBool::new(false));
    let slow_task = (slow > 0).then(|| hold_slow(addrs[0], slow, stop_slow.clone()));
    if slow > 0 {
        // Let the attacker's connections open before the clients start.
        std::thread::sleep(Duration::from_secs(2));
    }
    let victim = Mutex::new(if kill {
        running.first_mut().map(|r| r.child.id())
    } else {
        None
    });
    let posts_started = Instant::now();
    let first = round(&addrs, &bodies, concurrency, &|done| {
        if done == leads / 2 {
            if let Some(pid) = victim.lock().unwrap().take() {
                let _ = Command::new("kill")
                    .args(["-KILL", &pid.to_string()])
                    .status();
            }
        }
    });
    report("new", &first, 201);
    let live: Vec<SocketAddr> = if kill {
        addrs[1..].to_vec()
    } else {
        addrs.clone()
    };
    if !live.is_empty() {
        let replay = round(&live, &bodies, concurrency, &|_| {});
        report("replay", &replay, 200);
    }
    stop_slow.store(true, Ordering::Relaxed);
    if let Some(task) = slow_task {
        let opened = task.join().unwrap_or(0);
        println!("slow connections: {opened} opened in all (each closed by the collector's head deadline, then opened again)");
    }

    // Every lead answered 2xx must be stored; no lead may be created twice.
    let mut created: HashMap<usize, usize> = HashMap::new();
    let mut acked = vec![false; leads];
    for (n, _, status) in &first.outcomes {
        if (200..300).contains(status) {
            acked[*n] = true;
        }
        if *status == 201 {
            *created.entry(*n).or_default() += 1;
        }
    }
    if let Some((_, receivers)) = &receivers {
        // Every acknowledged lead must reach each destination whose rule takes it, once.
        let expected = |name: &str| -> Vec<&str> {
            bodies
                .iter()
                .enumerate()
                .filter(|(n, _)| acked[*n] && (name != "sales-slack" || n % 3 == 0))
                .map(|(_, (id, _))| id.as_str())
                .collect()
        };
        let drained_from = Instant::now();
        let deadline = drained_from + Duration::from_secs(180);
        // When each destination had every lead it should have (polled every 20 ms).
        let mut done: Vec<Option<Instant>> = vec![None; receivers.len()];
        while done.iter().any(Option::is_none) && Instant::now() < deadline {
            for (at, (name, r, _)) in done.iter_mut().zip(receivers) {
                if at.is_none() {
                    let accepted = r.accepted.lock().unwrap();
                    if expected(name).iter().all(|id| accepted.contains_key(*id)) {
                        *at = Some(Instant::now());
                    }
                }
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        let drained = drained_from.elapsed().as_secs_f64();
        println!("outboxes drained {drained:.2} s after the last post (the replay round's)");
        for ((name, r, _), at) in receivers.iter().zip(&done) {
            let Some(at) = at else {
                println!("  {name:<12} not drained after 180 s");
                continue;
            };
            let delivered = r.accepted.lock().unwrap().len();
            let since_first = at.duration_since(posts_started).as_secs_f64();
            // A lead refused n times in a row waits about 2^n - 1 s for its backoff in all.
            let most = r
                .attempts
                .lock()
                .unwrap()
                .values()
                .copied()
                .max()
                .unwrap_or(0);
            println!(
                "  {name:<12} drained {:>6.2} s after the last post, {since_first:>6.2} s after the first: {:>6.0} deliveries/s over the whole run; most requests for one lead: {most}",
                at.saturating_duration_since(drained_from).as_secs_f64(),
                delivered as f64 / since_first,
            );
        }
        for (name, r, _) in receivers {
            let accepted = r.accepted.lock().unwrap();
            let want = expected(name);
            let lost = want
                .iter()
                .filter(|id| !accepted.contains_key(**id))
                .count();
            let duplicates = accepted.values().filter(|&&c| c > 1).count();
            let unexpected = accepted.len() - (want.len() - lost);
            println!(
                "  {name:<12} expected {:>6}   received {:>6}   lost {lost}   duplicates {duplicates}   not expected {unexpected}   503 answered (retried) {}",
                want.len(),
                accepted.len(),
                r.refused.load(Ordering::Relaxed)
            );
        }
    }
    drop(running);
    let runtime = tokio::runtime::Runtime::new().expect("runtime");
    let stored: Vec<bool> = runtime.block_on(async {
        let store = Store::open(&db).await.expect("store");
        let mut stored = Vec::with_capacity(bodies.len());
        for (id, _) in bodies.iter() {
            stored.push(store.get(id).await.ok().flatten().is_some());
        }
        stored
    });
    let rows = stored.iter().filter(|s| **s).count();
    let lost = stored
        .iter()
        .zip(&acked)
        .filter(|(stored, acked)| **acked && !**stored)
        .count();
    let twice = created.values().filter(|&&c| c > 1).count();
    println!(
        "rows stored: {rows}   acknowledged (2xx, first round): {}   lost: {lost}   created twice (201 more than once): {twice}",
        acked.iter().filter(|a| **a).count()
    );
    let _ = std::fs::remove_dir_all(&dir);
}
