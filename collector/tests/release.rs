//! What a release promises (issue 12): one binary carries the widget it serves, and its version
//! agrees with the inbox footer and each lead's `score.engineVersion`.

mod common;

use std::io::{Read, Write};
use std::net::TcpStream;
use std::path::PathBuf;
use std::process::{Child, Command};

fn root() -> PathBuf {
    PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/.."))
}

struct Collector {
    child: Child,
    addr: String,
    dir: PathBuf,
}

impl Collector {
    /// The real binary with an empty `--www` folder: whatever it serves at `/dist/` is its own.
    fn start(name: &str) -> Collector {
        let dir =
            std::env::temp_dir().join(format!("bantam-release-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(dir.join("www")).unwrap();
        let (child, addr) = common::spawn_listening(
            Command::new(env!("CARGO_BIN_EXE_bantam-collector"))
                .args([
                    "--listen",
                    "127.0.0.1:0",
                    "--admin-token",
                    "t",
                    "--rate-limit",
                    "0",
                    "--db",
                ])
                .arg(dir.join("leads.db"))
                .arg("--www")
                .arg(dir.join("www"))
                .arg("--forms")
                .arg(root().join("www/forms")),
        );
        Collector { child, addr, dir }
    }

    /// The whole response to `request`.
    fn send(&self, request: &str) -> Vec<u8> {
        let mut stream = TcpStream::connect(&self.addr).unwrap();
        stream.write_all(request.as_bytes()).unwrap();
        let mut response = Vec::new();
        stream.read_to_end(&mut response).unwrap();
        response
    }

    fn get(&self, path: &str, extra: &str) -> Vec<u8> {
        self.send(&format!(
            "GET {path} HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer t\r\n{extra}Connection: close\r\n\r\n"
        ))
    }
}

impl Drop for Collector {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

fn text(response: &[u8]) -> String {
    String::from_utf8_lossy(response).into_owned()
}

#[test]
fn the_version_agrees_everywhere() {
    let out = Command::new(env!("CARGO_BIN_EXE_bantam-collector"))
        .arg("--version")
        .output()
        .unwrap();
    let version = bantam_engine::ENGINE_VERSION;
    assert_eq!(version, env!("CARGO_PKG_VERSION"));
    let printed = String::from_utf8_lossy(&out.stdout);
    assert!(
        printed.starts_with(&format!("bantam-collector {version} (engine {version};")),
        "{printed}"
    );
    let collector = Collector::start("version");
    let lead = common::lead_json("ledgerline-demo", "v-1", &[("email", "v@acme.io")], "");
    let posted = collector.send(&format!(
        "POST /v1/leads HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{lead}",
        lead.len()
    ));
    assert!(
        text(&posted).starts_with("HTTP/1.1 201"),
        "{}",
        text(&posted)
    );
    let inbox = text(&collector.get("/inbox", ""));
    assert!(
        inbox.contains(&format!("<footer>Bantam {version}</footer>")),
        "{inbox}"
    );
    let leads = text(&collector.get("/v1/leads", ""));
    assert!(
        leads.contains(&format!("\"engineVersion\":\"{version}\"")),
        "{leads}"
    );
}

#[test]
fn the_built_in_widget_is_served_and_revalidated() {
    if !bantam_collector::widget_built_in() {
        // `scripts/dev test` builds the widget first and sets this, so CI always checks it.
        assert!(
            std::env::var_os("BANTAM_REQUIRE_WIDGET").is_none(),
            "the collector was built without the widget: build the widget first (scripts/dev build)"
        );
        println!("skipped: the collector was built without the widget (scripts/dev build first)");
        return;
    }
    let collector = Collector::start("widget");
    let names: Vec<&str> = bantam_collector::widget_files().collect();
    for name in ["embed.js", "bantam.js"] {
        assert!(names.contains(&name), "{names:?}");
    }
    let wasm = names
        .iter()
        .find(|n| n.ends_with(".wasm"))
        .expect("the wasm is built in");
    let on_disk = std::fs::read(root().join("www/dist").join(wasm)).ok();
    let response = collector.get(&format!("/dist/{wasm}"), "");
    let head_end = response.windows(4).position(|w| w == b"\r\n\r\n").unwrap() + 4;
    let head = text(&response[..head_end]).to_ascii_lowercase();
    assert!(head.starts_with("http/1.1 200"), "{head}");
    assert!(head.contains("content-type: application/wasm"), "{head}");
    assert!(response[head_end..].starts_with(b"\0asm"));
    if let Some(on_disk) = on_disk {
        assert_eq!(
            &response[head_end..],
            &on_disk[..],
            "the wasm built in is the one built"
        );
    }
    // The loader is revalidated on each use: a current copy is answered 304.
    let loader = text(&collector.get("/dist/embed.js", "")).to_ascii_lowercase();
    let etag = loader
        .lines()
        .find_map(|l| l.strip_prefix("etag: "))
        .expect("an etag")
        .trim()
        .to_owned();
    assert!(loader.contains("cache-control: no-cache"), "{loader}");
    let again = text(&collector.get("/dist/embed.js", &format!("If-None-Match: {etag}\r\n")));
    assert!(again.starts_with("HTTP/1.1 304"), "{again}");
    assert!(text(&collector.get("/dist/nothing.js", "")).starts_with("HTTP/1.1 404"));
    // The gzip copies go out in place of their files, not under names of their own.
    assert!(text(&collector.get("/dist/embed.js.gz", "")).starts_with("HTTP/1.1 404"));

    // A browser (it accepts gzip) gets the build's gzip -9 copy of each script and the wasm:
    // the bytes the size budget counts; a client that does not, the file itself.
    for name in ["embed.js", "bantam.js", wasm] {
        let path = format!("/dist/{name}");
        let plain = collector.get(&path, "");
        let (plain_head, plain_body) = split(&plain);
        assert!(plain_head.contains("vary: accept-encoding"), "{plain_head}");
        assert!(!plain_head.contains("content-encoding"), "{plain_head}");
        let zipped = collector.get(&path, "Accept-Encoding: gzip, deflate, br, zstd\r\n");
        let (head, body) = split(&zipped);
        assert!(head.contains("content-encoding: gzip"), "{name}: {head}");
        assert!(head.contains("vary: accept-encoding"), "{name}: {head}");
        assert!(
            body.len() < plain_body.len(),
            "{name}: {} of {} bytes",
            body.len(),
            plain_body.len()
        );
        assert_eq!(
            gunzip(body),
            plain_body,
            "{name}: the gzip copy holds the file"
        );
        let refused = collector.get(&path, "Accept-Encoding: gzip;q=0, br\r\n");
        assert!(!split(&refused).0.contains("content-encoding"), "{name}");
    }
}

/// A response's head (lower case) and body.
fn split(response: &[u8]) -> (String, &[u8]) {
    let end = response.windows(4).position(|w| w == b"\r\n\r\n").unwrap() + 4;
    (
        text(&response[..end]).to_ascii_lowercase(),
        &response[end..],
    )
}

/// `bytes` gunzipped by the system's gzip.
fn gunzip(bytes: &[u8]) -> Vec<u8> {
    let mut child = Command::new("gzip")
        .arg("-dc")
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .expect("gzip runs");
    let mut stdin = child.stdin.take().unwrap();
    let input = bytes.to_vec();
    let writer = std::thread::spawn(move || stdin.write_all(&input).unwrap());
    let output = child.wait_with_output().unwrap();
    writer.join().unwrap();
    assert!(output.status.success(), "gzip -dc");
    output.stdout
}

#[test]
fn a_backup_is_consistent_while_leads_arrive() {
    let collector = Collector::start("backup");
    let post = |n: usize| {
        let lead = common::lead_json(
            "ledgerline-demo",
            &format!("b-{n}"),
            &[("email", "b@acme.io")],
            "",
        );
        let answer = collector.send(&format!(
            "POST /v1/leads HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{lead}",
            lead.len()
        ));
        assert!(text(&answer).starts_with("HTTP/1.1 201"));
    };
    for n in 0..50 {
        post(n);
    }
    let db = collector.dir.join("leads.db");
    let out = collector.dir.join("backup.db");
    let copied = std::thread::scope(|scope| {
        // Leads keep arriving while the copy is made.
        let writer = scope.spawn(|| (50..150).for_each(post));
        let copied = Command::new(env!("CARGO_BIN_EXE_bantam-collector"))
            .args(["backup", "--db"])
            .arg(&db)
            .arg(&out)
            .output()
            .unwrap();
        writer.join().unwrap();
        copied
    });
    assert!(
        copied.status.success(),
        "{}",
        String::from_utf8_lossy(&copied.stderr)
    );
    let backup = rusqlite::Connection::open(&out).unwrap();
    let check: String = backup
        .query_row("PRAGMA integrity_check", [], |r| r.get(0))
        .unwrap();
    assert_eq!(check, "ok");
    let rows: u32 = backup
        .query_row("SELECT COUNT(*) FROM leads", [], |r| r.get(0))
        .unwrap();
    assert!((50..=150).contains(&rows), "{rows} leads in the backup");
    // A second backup to the same file is refused rather than overwriting it.
    let again = Command::new(env!("CARGO_BIN_EXE_bantam-collector"))
        .args(["backup", "--db"])
        .arg(&db)
        .arg(&out)
        .output()
        .unwrap();
    assert!(!again.status.success());
    assert!(String::from_utf8_lossy(&again.stderr).contains("exists"));
}
