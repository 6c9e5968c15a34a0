//! Hostile clients against the real binary: half-sent request heads, promised bodies that never
//! come, connections held idle, one address holding many connections, and a shutdown while a
//! request hangs (issue 15, item 1); hidden files, links out of the site folder and a database
//! inside it, and look-alike content types (items 6 and 7). Every wait polls with a deadline.

mod common;

use std::io::{ErrorKind, Read, Write};
use std::net::TcpStream;
use std::path::PathBuf;
use std::process::{Child, Command};
use std::time::{Duration, Instant};

fn root() -> PathBuf {
    PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/.."))
}

/// A collector started with `flags`, under an open-file limit of `files` when given.
struct Collector {
    child: Child,
    addr: String,
    dir: PathBuf,
}

impl Collector {
    fn start(name: &str, files: Option<u32>, flags: &[&str]) -> Collector {
        let dir =
            std::env::temp_dir().join(format!("bantam-hostile-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        let bin = env!("CARGO_BIN_EXE_bantam-collector");
        let mut command = match files {
            // `ulimit` is the shell's: the collector inherits the lower limit.
            Some(n) => {
                let mut c = Command::new("sh");
                c.args(["-c", &format!("ulimit -n {n} && exec \"$0\" \"$@\""), bin]);
                c
            }
            None => Command::new(bin),
        };
        command
            .args(["--listen", "127.0.0.1:0", "--rate-limit", "0", "--db"])
            .arg(dir.join("leads.db"))
            .arg("--www")
            .arg(root().join("www"))
            .arg("--forms")
            .arg(root().join("www/forms"))
            .args(flags);
        let (child, addr) = common::spawn_listening(&mut command);
        Collector { child, addr, dir }
    }

    /// `GET /` on a fresh connection: the status, or the error.
    fn get(&self) -> Result<u16, String> {
        self.request("GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
    }

    /// `GET path` on a fresh connection: the status, or the error.
    fn get_path(&self, path: &str) -> Result<u16, String> {
        self.request(&format!(
            "GET {path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"
        ))
    }

    /// A lead posted with this `Content-Type`: the status, or the error.
    fn post_as(&self, content_type: &str, body: &str) -> Result<u16, String> {
        self.request(&format!(
            "POST /v1/leads HTTP/1.1\r\nHost: x\r\nContent-Type: {content_type}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
            body.len()
        ))
    }

    /// `request` sent whole on a fresh connection: the whole response.
    fn request_text(&self, request: &str) -> String {
        let mut stream = TcpStream::connect(&self.addr).unwrap();
        stream.write_all(request.as_bytes()).unwrap();
        let mut response = String::new();
        stream.read_to_string(&mut response).unwrap();
        response
    }

    /// `request` sent whole on a fresh connection: the status, or the error.
    fn request(&self, request: &str) -> Result<u16, String> {
        let stream = TcpStream::connect(&self.addr).map_err(|e| e.to_string())?;
        status_of(stream, request)
    }
}

/// `GET /` from the source address `source`: the status, or the error.
fn get_from(source: &str, addr: &str) -> Result<u16, String> {
    request_from(
        source,
        addr,
        "GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
    )
}

/// `request` sent from the source address `source`: the status, or the error.
fn request_from(source: &str, addr: &str, request: &str) -> Result<u16, String> {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| e.to_string())?;
    let stream = runtime.block_on(async {
        let socket = tokio::net::TcpSocket::new_v4()?;
        socket.bind(source.parse().expect("an address"))?;
        socket.connect(addr.parse().expect("an address")).await
    });
    let stream = stream
        .and_then(|s| s.into_std())
        .map_err(|e| e.to_string())?;
    stream.set_nonblocking(false).map_err(|e| e.to_string())?;
    status_of(stream, request)
}

/// Sends `request` on `stream` and reads the whole response: its status, or the error.
fn status_of(mut stream: TcpStream, request: &str) -> Result<u16, String> {
    stream
        .set_read_timeout(Some(Duration::from_secs(3)))
        .map_err(|e| e.to_string())?;
    stream
        .write_all(request.as_bytes())
        .map_err(|e| e.to_string())?;
    let mut response = String::new();
    stream
        .read_to_string(&mut response)
        .map_err(|e| e.to_string())?;
    response
        .split(' ')
        .nth(1)
        .and_then(|s| s.parse().ok())
        .ok_or_else(|| format!("no status in {response:?}"))
}

impl Drop for Collector {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// Waits until `done` holds, or fails with `what` after `limit`.
fn wait_for(limit: Duration, what: &str, mut done: impl FnMut() -> bool) {
    let start = Instant::now();
    while !done() {
        assert!(start.elapsed() < limit, "{what} within {limit:?}");
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// Whether the server has closed `stream` (reads end or fail), without blocking long.
fn closed(stream: &mut TcpStream) -> bool {
    stream
        .set_read_timeout(Some(Duration::from_millis(20)))
        .unwrap();
    let mut byte = [0u8; 256];
    loop {
        match stream.read(&mut byte) {
            Ok(0) => return true,
            // A response (408) before the close: read on.
            Ok(_) => {}
            Err(e) if matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut) => {
                return false
            }
            Err(_) => return true,
        }
    }
}

/// A connection that sent the start of a request head and no more.
fn half_sent(addr: &str) -> Option<TcpStream> {
    let mut stream = TcpStream::connect(addr).ok()?;
    stream
        .write_all(b"GET / HTTP/1.1\r\nHost: x\r\nX-Slow: ")
        .ok()?;
    Some(stream)
}

#[test]
fn half_sent_request_heads_are_closed_and_cannot_lock_others_out() {
    // The reproduction: more half-sent requests than the server has file descriptors.
    let collector = Collector::start(
        "heads",
        Some(128),
        &["--header-timeout", "1", "--max-connections-per-client", "0"],
    );
    let mut slow: Vec<TcpStream> = (0..200)
        .filter_map(|_| half_sent(&collector.addr))
        .collect();
    assert!(slow.len() >= 100, "opened {} slow connections", slow.len());
    // Each is closed when its head deadline passes ...
    wait_for(
        Duration::from_secs(15),
        "every half-sent request closed",
        || {
            slow.retain_mut(|s| !closed(s));
            slow.is_empty()
        },
    );
    // ... and the server answers others again.
    wait_for(Duration::from_secs(10), "a normal request answered", || {
        collector.get() == Ok(200)
    });
}

#[test]
fn a_promised_body_that_never_comes_is_answered_408() {
    let collector = Collector::start("body", None, &["--body-timeout", "1"]);
    let mut stream = TcpStream::connect(&collector.addr).unwrap();
    stream
        .write_all(
            b"POST /v1/leads HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 60000\r\n\r\n{\"id\":",
        )
        .unwrap();
    stream
        .set_read_timeout(Some(Duration::from_secs(10)))
        .unwrap();
    let start = Instant::now();
    let mut response = String::new();
    let _ = stream.read_to_string(&mut response);
    assert!(
        response.starts_with("HTTP/1.1 408"),
        "answered {response:?} after {:?}",
        start.elapsed()
    );
    assert!(response.contains("did not arrive within 1 s"), "{response}");
    assert!(start.elapsed() < Duration::from_secs(8));
}

#[test]
fn a_connection_idle_between_requests_is_closed() {
    let collector = Collector::start("idle", None, &["--header-timeout", "1"]);
    let mut stream = TcpStream::connect(&collector.addr).unwrap();
    stream
        .write_all(b"GET /forms/ledgerline-demo.json HTTP/1.1\r\nHost: x\r\n\r\n")
        .unwrap();
    // The first answer arrives; the connection then stays open for a next request ...
    stream
        .set_read_timeout(Some(Duration::from_secs(5)))
        .unwrap();
    let mut first = [0u8; 12];
    stream.read_exact(&mut first).unwrap();
    assert_eq!(&first, b"HTTP/1.1 200");
    // ... but not for ever.
    wait_for(
        Duration::from_secs(10),
        "the idle connection closed",
        || closed(&mut stream),
    );
}

#[test]
fn one_address_cannot_hold_every_connection() {
    let collector = Collector::start(
        "per-client",
        None,
        &[
            "--max-connections-per-client",
            "5",
            "--header-timeout",
            "30",
        ],
    );
    let mut held: Vec<TcpStream> = (0..5)
        .map(|_| half_sent(&collector.addr).expect("connect"))
        .collect();
    // A sixth from the same address is closed at once ...
    let mut sixth = half_sent(&collector.addr).expect("connect");
    wait_for(
        Duration::from_secs(5),
        "the sixth connection closed",
        || closed(&mut sixth),
    );
    // ... while another address is served (127.0.0.2 is loopback too).
    assert_eq!(get_from("127.0.0.2:0", &collector.addr), Ok(200));
    // The held ones are still open (their deadline is 30 s away).
    assert!(held.iter_mut().all(|s| !closed(s)));
    drop(held);
    wait_for(
        Duration::from_secs(5),
        "a new connection served once they closed",
        || collector.get() == Ok(200),
    );
}

#[test]
fn sigterm_exits_while_a_request_hangs() {
    let mut collector = Collector::start(
        "sigterm",
        None,
        &["--body-timeout", "600", "--shutdown-timeout", "1"],
    );
    let mut stream = TcpStream::connect(&collector.addr).unwrap();
    stream
        .write_all(
            b"POST /v1/leads HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{",
        )
        .unwrap();
    // Let the collector take the request before the signal.
    wait_for(Duration::from_secs(5), "the server busy with it", || {
        collector.get() == Ok(200)
    });
    let pid = collector.child.id().to_string();
    assert!(Command::new("kill")
        .args(["-TERM", &pid])
        .status()
        .unwrap()
        .success());
    let start = Instant::now();
    wait_for(Duration::from_secs(8), "the collector exited", || {
        collector.child.try_wait().unwrap().is_some()
    });
    assert!(
        start.elapsed() < Duration::from_secs(5),
        "{:?}",
        start.elapsed()
    );
    drop(stream);
}

#[test]
fn the_site_folder_serves_no_hidden_files_and_no_links_out_of_it() {
    let www = std::env::temp_dir().join(format!("bantam-www-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&www);
    std::fs::create_dir_all(www.join(".git")).unwrap();
    std::fs::write(www.join("index.html"), "<!doctype html><title>site</title>").unwrap();
    std::fs::write(www.join("page.html"), "<!doctype html><title>page</title>").unwrap();
    std::fs::write(www.join(".env"), "SECRET=1").unwrap();
    std::fs::write(www.join(".git/config"), "[core]").unwrap();
    let outside = std::env::temp_dir().join(format!("bantam-outside-{}", std::process::id()));
    std::fs::create_dir_all(&outside).unwrap();
    std::fs::write(outside.join("secret.txt"), "secret").unwrap();
    std::os::unix::fs::symlink(&outside, www.join("out")).unwrap();
    std::os::unix::fs::symlink(outside.join("secret.txt"), www.join("secret.txt")).unwrap();
    std::os::unix::fs::symlink(www.join("page.html"), www.join("alias.html")).unwrap();
    let collector = Collector::start("www", None, &["--www", www.to_str().unwrap()]);
    assert_eq!(collector.get_path("/"), Ok(200));
    assert_eq!(collector.get_path("/page.html"), Ok(200));
    // A link that stays inside the folder is served.
    assert_eq!(collector.get_path("/alias.html"), Ok(200));
    for hidden in [
        "/.env",
        "/%2Eenv",
        "/.git/config",
        "/.git/",
        "/out/secret.txt",
        "/secret.txt",
        "/sub/../.env",
    ] {
        assert_eq!(collector.get_path(hidden), Ok(404), "{hidden}");
    }
    let _ = std::fs::remove_dir_all(&www);
    let _ = std::fs::remove_dir_all(&outside);
}

#[test]
fn a_database_inside_the_site_folder_is_refused_at_start() {
    let www = std::env::temp_dir().join(format!("bantam-www-db-{}", std::process::id()));
    std::fs::create_dir_all(&www).unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_bantam-collector"))
        .args(["--listen", "127.0.0.1:0", "--www"])
        .arg(&www)
        .arg("--db")
        .arg(www.join("leads.db"))
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("is inside --www"), "{stderr}");
    assert!(!www.join("leads.db").exists());
    let _ = std::fs::remove_dir_all(&www);
}

#[test]
fn only_json_and_plain_text_bodies_are_leads_whatever_their_case() {
    let collector = Collector::start("content-type", None, &[]);
    let lead = |id: &str| common::lead_json("ledgerline-demo", id, &[("email", "ct@acme.io")], "");
    assert_eq!(
        collector.post_as("application/jsonp", &lead("ct-1")),
        Ok(415)
    );
    assert_eq!(
        collector.post_as("application/json-seq", &lead("ct-2")),
        Ok(415)
    );
    assert_eq!(collector.post_as("text/plainx", &lead("ct-3")), Ok(415));
    assert_eq!(
        collector.post_as("Application/JSON; charset=UTF-8", &lead("ct-4")),
        Ok(201)
    );
    assert_eq!(collector.post_as("TEXT/PLAIN", &lead("ct-5")), Ok(201));
}

#[test]
fn wrong_admin_credentials_are_slowed_down_per_address() {
    let collector = Collector::start("guess", None, &["--admin-token", "right-token"]);
    let read = |token: &str| {
        format!("GET /v1/leads HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {token}\r\nConnection: close\r\n\r\n")
    };
    assert_eq!(collector.request(&read("right-token")), Ok(200));
    // Asking without credentials (a browser's first visit) does not count.
    for _ in 0..30 {
        assert_eq!(
            collector.request("GET /v1/leads HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"),
            Ok(401)
        );
    }
    for _ in 0..bantam_collector::WRONG_CREDENTIALS_BURST {
        assert_eq!(collector.request(&read("wrong")), Ok(401));
    }
    assert_eq!(collector.request(&read("wrong")), Ok(429));
    // The address waits, whatever it sends; another address does not.
    assert_eq!(collector.request(&read("right-token")), Ok(429));
    assert_eq!(
        request_from("127.0.0.2:0", &collector.addr, &read("right-token")),
        Ok(200)
    );
}

#[test]
fn api_changes_from_another_sites_page_are_refused() {
    let collector = Collector::start("origin", None, &["--admin-token", "right-token"]);
    let lead = common::lead_json("ledgerline-demo", "origin-1", &[("email", "o@acme.io")], "");
    assert_eq!(collector.post_as("application/json", &lead), Ok(201));
    let change = |origin: &str| {
        let body = r#"{"status":"won"}"#;
        format!(
            "POST /v1/leads/origin-1/status HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer right-token\r\nContent-Type: application/json\r\n{origin}Content-Length: {}\r\nConnection: close\r\n\r\n{body}",
            body.len()
        )
    };
    assert_eq!(
        collector.request(&change("Origin: https://evil.example\r\n")),
        Ok(403)
    );
    assert_eq!(collector.request(&change("Origin: http://x\r\n")), Ok(200));
    assert_eq!(collector.request(&change("")), Ok(200));
    let accept = "POST /v1/quarantine/nothing/accept HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer right-token\r\nOrigin: https://evil.example\r\nContent-Length: 0\r\nConnection: close\r\n\r\n";
    assert_eq!(collector.request(accept), Ok(403));
}

#[test]
fn the_inbox_pager_does_not_wrap_past_the_last_offset() {
    let collector = Collector::start("pager", None, &["--admin-token", "right-token"]);
    for n in 0..3 {
        let lead = common::lead_json("ledgerline-demo", &format!("pager-{n}"), &[], "");
        assert_eq!(collector.post_as("application/json", &lead), Ok(201));
    }
    let mut stream = TcpStream::connect(&collector.addr).unwrap();
    stream
        .write_all(b"GET /inbox/leads?offset=4294967290 HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer right-token\r\nConnection: close\r\n\r\n")
        .unwrap();
    let mut page = String::new();
    stream.read_to_string(&mut page).unwrap();
    assert!(page.starts_with("HTTP/1.1 200"), "{page}");
    assert!(
        !page.contains(">Older<"),
        "a link back to the start: {page}"
    );
}

/// A list of leads read with the admin token.
fn leads(collector: &Collector) -> serde_json::Value {
    let mut stream = TcpStream::connect(&collector.addr).unwrap();
    stream
        .write_all(b"GET /v1/leads HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer right-token\r\nConnection: close\r\n\r\n")
        .unwrap();
    let mut response = String::new();
    stream.read_to_string(&mut response).unwrap();
    let body = response.split_once("\r\n\r\n").unwrap().1;
    serde_json::from_str(body).unwrap_or_else(|e| panic!("{e}: {body}"))
}

#[test]
fn outside_text_is_bounded_before_it_is_stored() {
    let collector = Collector::start("bounded", None, &["--admin-token", "right-token"]);
    let lead = |id: &str| -> serde_json::Value {
        serde_json::from_str(&common::lead_json(
            "ledgerline-demo",
            id,
            &[("email", "b@acme.io")],
            "https://www.example.com/pricing",
        ))
        .unwrap()
    };
    // A 50,000-character utm_source from a crafted link: the lead is kept, the value cut.
    let mut long_utm = lead("bounded-utm");
    let touch = serde_json::json!({
        "at": "2026-11-23T08:00:00.000Z",
        "landingPage": "https://www.example.com/pricing",
        "referrer": "",
        "utm": { "source": "s".repeat(50_000), "campaign": "spring" },
        "clickIds": { "gclid": "g".repeat(5_000) }
    });
    let first = serde_json::json!({
        "at": "2026-11-20T08:00:00.000Z",
        "landingPage": "https://www.example.com/",
        "referrer": "https://search.example/",
        "utm": {},
        "clickIds": {}
    });
    long_utm["attribution"] = serde_json::json!({ "firstTouch": first, "lastTouch": touch });
    let body = long_utm.to_string();
    let answer = collector.request_text(&format!(
        "POST /v1/leads HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    ));
    assert!(answer.starts_with("HTTP/1.1 201"), "{answer}");
    let stored = leads(&collector);
    let touch = &stored["leads"][0]["lead"]["attribution"]["lastTouch"];
    let source = touch["utm"]["source"].as_str().unwrap();
    assert_eq!(source.chars().count(), 300);
    assert!(source.ends_with('…'));
    assert_eq!(touch["utm"]["campaign"], "spring");
    assert_eq!(
        touch["clickIds"]["gclid"].as_str().unwrap().chars().count(),
        300
    );

    // Unknown fields: a little is kept (a newer widget), 64 KiB is not.
    let mut small = lead("bounded-small");
    small["experiment"] = serde_json::json!({ "variant": "b" });
    assert_eq!(
        collector.post_as("application/json", &small.to_string()),
        Ok(201)
    );
    let mut big = lead("bounded-big");
    big["page"]["padding"] = serde_json::json!("p".repeat(60_000));
    let mut stream = TcpStream::connect(&collector.addr).unwrap();
    let body = big.to_string();
    stream
        .write_all(
            format!(
                "POST /v1/leads HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
                body.len()
            )
            .as_bytes(),
        )
        .unwrap();
    let mut answer = String::new();
    stream.read_to_string(&mut answer).unwrap();
    assert!(answer.starts_with("HTTP/1.1 413"), "{answer}");
    assert!(answer.contains("/page/padding"), "{answer}");

    // What the widget itself writes has bounds too.
    let mut reasons = lead("bounded-reasons");
    reasons["spam"] = serde_json::json!({ "flagged": true, "reasons": ["r".repeat(300)] });
    assert_eq!(
        collector.post_as("application/json", &reasons.to_string()),
        Ok(422)
    );
    assert_eq!(leads(&collector)["leads"].as_array().map(Vec::len), Some(2));
}

#[test]
fn behind_a_trusted_proxy_each_client_has_its_own_rate_limit() {
    let post = |collector: &Collector, id: &str, client: &str| {
        let lead = common::lead_json("ledgerline-demo", id, &[("email", "p@acme.io")], "");
        collector.request(&format!(
            "POST /v1/leads HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nX-Forwarded-For: {client}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{lead}",
            lead.len()
        ))
    };
    let limits = ["--rate-limit", "1", "--burst", "2"];
    let proxied = Collector::start(
        "proxied",
        None,
        &[&limits[..], &["--trusted-proxy", "127.0.0.1"]].concat(),
    );
    assert_eq!(post(&proxied, "p-1", "203.0.113.5"), Ok(201));
    assert_eq!(post(&proxied, "p-2", "198.51.100.1, 203.0.113.5"), Ok(201));
    assert_eq!(post(&proxied, "p-3", "203.0.113.5"), Ok(429));
    // Another visitor behind the same proxy is not held up by the first.
    assert_eq!(post(&proxied, "p-4", "203.0.113.6"), Ok(201));
    // Without --trusted-proxy the header is the client's claim, and ignored.
    let direct = Collector::start("direct", None, &limits);
    assert_eq!(post(&direct, "d-1", "203.0.113.5"), Ok(201));
    assert_eq!(post(&direct, "d-2", "203.0.113.6"), Ok(201));
    assert_eq!(post(&direct, "d-3", "203.0.113.7"), Ok(429));
}
