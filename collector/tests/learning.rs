//! Learning points from sales outcomes, end to end against the real binary (issue 14): leads
//! posted through the API from known weights, outcomes recorded through the status API, the
//! report from `bantam-collector fit` and from the inbox's page, the proposal applied there,
//! and the next leads scored by the new version; and a CRM history imported from a CSV file.
//! The end-to-end test runs once per store.

mod common;

use std::io::{Read, Write};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::time::{Duration, Instant};

use bantam_collector::fit::synthetic::Rng;
use bantam_engine::{
    build_lead, parse_config, Answers, Attribution, BrowserInfo, Form, Input, LeadDocument,
    LeadInput, PageInfo, Touch,
};
use common::TestDb;
use serde_json::{json, Value};

const TOKEN: &str = "learning-token";

/// The form of these tests: the BANT preset, its timeframe optional (so a skip is evidence).
const CONFIG: &str = r#"{
  "formId": "quote",
  "preset": "bant",
  "title": "Get a quote",
  "questions": [ { "id": "timeframe", "required": false } ]
}
"#;

/// A folder of its own with a `forms/` folder holding [`CONFIG`], removed on drop.
struct TempDir(PathBuf);

impl TempDir {
    fn new(name: &str) -> TempDir {
        static N: std::sync::atomic::AtomicU32 = std::sync::atomic::AtomicU32::new(0);
        let path = std::env::temp_dir().join(format!(
            "bantam-learning-{name}-{}-{}",
            std::process::id(),
            N.fetch_add(1, std::sync::atomic::Ordering::SeqCst)
        ));
        let _ = std::fs::remove_dir_all(&path);
        std::fs::create_dir_all(path.join("forms")).unwrap();
        std::fs::write(path.join("forms/quote.json"), CONFIG).unwrap();
        TempDir(path)
    }

    fn forms(&self) -> PathBuf {
        self.0.join("forms")
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// A collector process, killed when dropped.
struct Stopped(std::process::Child);

impl Drop for Stopped {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// A response: status, head, body.
struct Response {
    status: u16,
    head: String,
    body: String,
}

/// One request on a fresh connection.
fn http(addr: &str, method: &str, path: &str, headers: &[(&str, &str)], body: &str) -> Response {
    let mut stream = TcpStream::connect(addr).unwrap();
    stream
        .set_read_timeout(Some(Duration::from_secs(60)))
        .unwrap();
    let mut request = format!(
        "{method} {path} HTTP/1.1\r\nHost: {addr}\r\nContent-Length: {}\r\nConnection: close\r\n",
        body.len()
    );
    for (name, value) in headers {
        request.push_str(&format!("{name}: {value}\r\n"));
    }
    request.push_str("\r\n");
    request.push_str(body);
    stream.write_all(request.as_bytes()).unwrap();
    let mut response = Vec::new();
    stream.read_to_end(&mut response).unwrap();
    let response = String::from_utf8(response).unwrap();
    let (head, body) = response.split_once("\r\n\r\n").unwrap();
    let body = if head
        .to_ascii_lowercase()
        .contains("transfer-encoding: chunked")
    {
        dechunk(body)
    } else {
        body.to_owned()
    };
    Response {
        status: head[9..12].parse().unwrap(),
        head: head.to_owned(),
        body,
    }
}

fn dechunk(mut body: &str) -> String {
    let mut out = String::new();
    while let Some((size, rest)) = body.split_once("\r\n") {
        let size = usize::from_str_radix(size.trim(), 16).unwrap();
        if size == 0 {
            break;
        }
        out.push_str(&rest[..size]);
        body = &rest[size + 2..];
    }
    out
}

fn bearer() -> (&'static str, String) {
    ("Authorization", format!("Bearer {TOKEN}"))
}

/// The collector binary's output for `args`.
fn run(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_bantam-collector"))
        .args(args)
        .output()
        .expect("run bantam-collector")
}

fn stdout(out: &Output) -> String {
    String::from_utf8_lossy(&out.stdout).into_owned()
}

fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

/// What a visitor answers, and where from.
struct Visit {
    budget: &'static str,
    role: &'static str,
    /// `None`: not asked on this visit; `Some(None)`: asked and skipped.
    timeframe: Option<Option<&'static str>>,
    headcount: &'static str,
    email: String,
    source: &'static str,
    click: bool,
}

/// The lead document the widget sends for `visit`, submitted at `at`.
fn lead(form: &Form, id: &str, visit: &Visit, at: &str) -> String {
    let mut answers = Answers::new();
    let mut set = |q: &str, input: Input<'_>| answers.set(form, q, input).unwrap();
    set("email", Input::Text(&visit.email));
    set("budget", Input::Checked(vec![visit.budget.into()]));
    set("role", Input::Checked(vec![visit.role.into()]));
    if let Some(Some(timeframe)) = visit.timeframe {
        set("timeframe", Input::Checked(vec![timeframe.into()]));
    }
    set("headcount", Input::Text(visit.headcount));
    set("consent", Input::Flag(true));
    let mut asked = vec!["email", "budget", "role"];
    if visit.timeframe.is_some() {
        asked.push("timeframe");
    }
    asked.extend(["headcount", "consent"]);
    answers
        .set_asked(form, asked.into_iter().map(str::to_owned).collect())
        .unwrap();
    let mut url = String::from("https://www.example.com/pricing");
    if !visit.source.is_empty() {
        url.push_str(&format!("?utm_source={}&utm_medium=cpc", visit.source));
    }
    if visit.click {
        url.push_str(if visit.source.is_empty() { "?" } else { "&" });
        url.push_str(&format!("gclid=g-{id}"));
    }
    let touch = Touch::from_page(&url, "", at);
    build_lead(
        form,
        &answers,
        LeadInput {
            id: id.into(),
            submitted_at: at.into(),
            page: PageInfo {
                url,
                title: "Pricing".into(),
                referrer: String::new(),
            },
            attribution: Some(Attribution::update(None, touch)),
            visit_count: 1,
            new_answers: Vec::new(),
            browser: BrowserInfo {
                fill_time_ms: 30_000,
                ..BrowserInfo::default()
            },
        },
    )
    .to_json()
}

/// `n` visits and whether each lead was won, drawn from known weights (log-odds) with noise.
fn visits(n: usize, seed: u64) -> Vec<(Visit, bool)> {
    let mut rng = Rng::new(seed);
    let mut pick = |options: &[(&'static str, f64)]| options[rng.below(options.len())];
    let mut out = Vec::with_capacity(n);
    for i in 0..n {
        let (budget, b) = pick(&[
            ("none", -1.5),
            ("under-10k", -0.6),
            ("10k-50k", 0.0),
            ("50k-250k", 0.6),
            ("over-250k", 1.2),
        ]);
        let (role, r) = pick(&[
            ("decision-maker", 0.9),
            ("influencer", 0.3),
            ("researcher", -0.3),
            ("student", -1.5),
        ]);
        let (timeframe_answer, t) = pick(&[
            ("this-month", 0.8),
            ("this-quarter", 0.5),
            ("this-half", 0.0),
            ("later", -0.5),
            ("no-plan", -1.0),
        ]);
        let (headcount, h) = pick(&[("4", -0.4), ("30", 0.0), ("120", 0.4), ("900", 0.6)]);
        let (source, s) = pick(&[
            ("linkedin", 1.0),
            ("newsletter", 0.4),
            ("google", 0.0),
            ("", -0.3),
        ]);
        let mut rng2 = Rng::new(seed ^ (i as u64 + 1).wrapping_mul(0x9E37_79B9));
        let click = rng2.unit() < 0.3;
        let free = rng2.unit() < 0.35;
        // Timeframe: asked on two visits in three, then skipped one time in five.
        let timeframe = if rng2.unit() < 2.0 / 3.0 {
            Some((rng2.unit() >= 0.2).then_some(timeframe_answer))
        } else {
            None
        };
        let z = -1.4
            + b
            + r
            + h
            + s
            + match timeframe {
                Some(Some(_)) => t,
                Some(None) => -0.7,
                None => 0.0,
            }
            + if click { 0.4 } else { 0.0 }
            + if free { -0.7 } else { 0.0 };
        let won = rng2.unit() < 1.0 / (1.0 + (-z).exp());
        let email = if free {
            format!("visitor{i}@gmail.com")
        } else {
            format!("visitor{i}@company{i}.io")
        };
        out.push((
            Visit {
                budget,
                role,
                timeframe,
                headcount,
                email,
                source,
                click,
            },
            won,
        ));
    }
    out
}

/// The value of the hidden field `name` in an HTML page.
fn hidden(html: &str, name: &str) -> String {
    let marker = format!("name=\"{name}\" value=\"");
    let start = html
        .find(&marker)
        .unwrap_or_else(|| panic!("no {name} in {html}"))
        + marker.len();
    html[start..].split('"').next().unwrap().to_owned()
}

/// Posts a lead; returns the collector's answer.
fn post(addr: &str, id: &str, body: &str) -> Value {
    let response = http(
        addr,
        "POST",
        "/v1/leads",
        &[
            ("Content-Type", "application/json"),
            ("Idempotency-Key", id),
        ],
        body,
    );
    assert_eq!(response.status, 201, "{id}: {}", response.body);
    serde_json::from_str(&response.body).unwrap()
}

async fn six_hundred_outcomes_become_points_that_score_the_next_lead(db: TestDb) {
    let started = Instant::now();
    let dir = TempDir::new("e2e");
    let forms = dir.forms();
    let (child, addr) = common::start_collector(
        &db.url(),
        &["--forms", forms.to_str().unwrap(), "--admin-token", TOKEN],
    );
    // Stopped however the test ends, so a failed assertion leaves no collector running.
    let _collector = Stopped(child);
    let old_form = parse_config(serde_json::from_str::<Value>(CONFIG).unwrap()).unwrap();
    let (auth, token) = bearer();

    // Before any outcome: a plain answer, not a proposal; a bad option is a 400.
    let early = http(
        &addr,
        "GET",
        "/inbox/forms/quote/fit",
        &[(auth, &token)],
        "",
    );
    assert_eq!(early.status, 200, "{}", early.body);
    assert!(
        early
            .body
            .contains("No proposal: 0 leads have a won/lost outcome; a fit needs at least 50."),
        "{}",
        early.body
    );
    let bad = http(
        &addr,
        "GET",
        "/inbox/forms/quote/fit?pct=0",
        &[(auth, &token)],
        "",
    );
    assert_eq!(bad.status, 400, "{}", bad.body);
    let unknown = http(&addr, "GET", "/inbox/forms/nope/fit", &[(auth, &token)], "");
    assert_eq!(unknown.status, 404, "{}", unknown.body);

    // 600 leads through the API, in arrival order, then their outcomes through the status API.
    let generated = visits(600, 14);
    for (i, (visit, _)) in generated.iter().enumerate() {
        let id = format!("lead-{i:03}");
        let at = format!(
            "2026-0{}-{:02}T{:02}:00:00.000Z",
            1 + i / 200,
            1 + i % 28,
            i % 24
        );
        post(&addr, &id, &lead(&old_form, &id, visit, &at));
    }
    for (i, (_, won)) in generated.iter().enumerate() {
        let body = json!({ "status": if *won { "won" } else { "lost" } }).to_string();
        let response = http(
            &addr,
            "POST",
            &format!("/v1/leads/lead-{i:03}/status"),
            &[(auth, &token), ("Content-Type", "application/json")],
            &body,
        );
        assert_eq!(response.status, 200, "{}", response.body);
    }
    let posted = started.elapsed();

    // The report from the command line, and the proposal written to a file.
    let proposal_file = dir.0.join("proposal.json");
    let out = run(&[
        "fit",
        "--form",
        "quote",
        "--db",
        &db.url(),
        "--forms",
        forms.to_str().unwrap(),
        "--write",
        proposal_file.to_str().unwrap(),
    ]);
    let report = stdout(&out);
    assert!(out.status.success(), "{report}{}", stderr(&out));
    eprintln!(
        "--- bantam-collector fit --form quote ({}) ---\n{report}---",
        if db.is_postgres() {
            "PostgreSQL"
        } else {
            "SQLite"
        }
    );
    let won = generated.iter().filter(|(_, won)| *won).count();
    assert!(
        report.starts_with(&format!(
            "Outcomes (won/lost): 600 leads, {won} converted ("
        )),
        "{report}"
    );
    assert!(report.contains("learned from the older 420, measured on the newer 180."));
    assert!(
        !report.contains("Warning:"),
        "600 outcomes are enough: {report}"
    );
    for line in [
        "  current points   0.",
        "  proposed points  0.",
        "Grades: hot >= ",
    ] {
        assert!(report.contains(line), "{line}: {report}");
    }
    assert!(report.contains("Read 600 leads with a sales status in "));
    let auc = |label: &str| -> f64 {
        let line = report
            .lines()
            .find(|l| l.trim_start().starts_with(label))
            .unwrap();
        line.split_whitespace().nth(2).unwrap().parse().unwrap()
    };
    // The current points know nothing of sources, clicks, email kinds or skips.
    assert!(auc("proposed points") > auc("current points"), "{report}");

    // The same report on the inbox's page, for admins only, without script.
    let page = http(&addr, "GET", "/inbox/forms/quote/fit", &[], "");
    assert_eq!(page.status, 303, "to the login page");
    let page = http(
        &addr,
        "GET",
        "/inbox/forms/quote/fit",
        &[(auth, &token)],
        "",
    );
    assert_eq!(page.status, 200, "{}", page.body);
    assert!(page
        .head
        .contains("content-security-policy: default-src 'none'"));
    assert!(!page.body.contains("<script"));
    for text in [
        "Points that move",
        "Reliability",
        "Apply to quote.json",
        "Budget Over $250k",
    ] {
        assert!(page.body.contains(text), "{text}");
    }
    let inbox = http(&addr, "GET", "/inbox", &[(auth, &token)], "");
    assert!(inbox
        .body
        .contains("<a href=\"/inbox/forms/quote/fit\">quote</a>"));
    let fingerprint = hidden(&page.body, "fingerprint");
    assert!(!page.body.contains("is shown again"), "a new fit");

    // Shown again, the fit is not made again while nothing it learned from changed...
    let fit_page = || {
        http(
            &addr,
            "GET",
            "/inbox/forms/quote/fit",
            &[(auth, &token)],
            "",
        )
    };
    let again = fit_page();
    assert!(again.body.contains("is shown again"), "{}", again.body);
    assert_eq!(hidden(&again.body, "fingerprint"), fingerprint);
    // ...and is made again after any outcome is given (here the same one, again): the same
    // leads make the same proposal.
    let body = json!({ "status": if generated[0].1 { "won" } else { "lost" } }).to_string();
    let response = http(
        &addr,
        "POST",
        "/v1/leads/lead-000/status",
        &[(auth, &token), ("Content-Type", "application/json")],
        &body,
    );
    assert_eq!(response.status, 200, "{}", response.body);
    let fresh = fit_page();
    assert!(!fresh.body.contains("is shown again"), "{}", fresh.body);
    assert_eq!(hidden(&fresh.body, "fingerprint"), fingerprint);

    // Apply: only from the inbox's own page, and only the proposal that was shown.
    let origin = format!("http://{addr}");
    let form_body =
        |fingerprint: &str| format!("fingerprint={fingerprint}&outcome=won&goal=top&pct=20");
    let form_type = ("Content-Type", "application/x-www-form-urlencoded");
    let elsewhere = http(
        &addr,
        "POST",
        "/inbox/forms/quote/fit/apply",
        &[
            (auth, &token),
            form_type,
            ("Origin", "https://evil.example"),
        ],
        &form_body(&fingerprint),
    );
    assert_eq!(elsewhere.status, 403, "{}", elsewhere.body);
    let stale = http(
        &addr,
        "POST",
        "/inbox/forms/quote/fit/apply",
        &[(auth, &token), form_type, ("Origin", &origin)],
        &form_body("0000000000000000"),
    );
    assert_eq!(stale.status, 409, "{}", stale.body);
    assert_eq!(
        std::fs::read_to_string(forms.join("quote.json")).unwrap(),
        CONFIG
    );
    let applied = http(
        &addr,
        "POST",
        "/inbox/forms/quote/fit/apply",
        &[(auth, &token), form_type, ("Origin", &origin)],
        &form_body(&fingerprint),
    );
    assert_eq!(applied.status, 303, "{}", applied.body);
    let location = applied
        .head
        .lines()
        .find_map(|l| {
            l.split_once(':')
                .filter(|(name, _)| name.eq_ignore_ascii_case("location"))
                .map(|(_, value)| value.trim())
        })
        .unwrap()
        .to_owned();
    assert!(
        location.starts_with("/inbox/forms/quote/fit?"),
        "{location}"
    );
    let after = http(&addr, "GET", &location, &[(auth, &token)], "");
    assert!(
        after.body.contains("<strong>Applied</strong> as version 2"),
        "{}",
        after.body
    );

    // The form's file holds the proposal (the same bytes the command line wrote), published as
    // version 2 through the forms' history (version 1: the file found at start), with no
    // `.bak` beside it; the folder still passes `check`.
    let new_text = std::fs::read_to_string(forms.join("quote.json")).unwrap();
    assert_eq!(new_text, std::fs::read_to_string(&proposal_file).unwrap());
    let backups: Vec<PathBuf> = std::fs::read_dir(&forms)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| x == "bak"))
        .collect();
    assert_eq!(backups, Vec::<PathBuf>::new());
    assert!(location.ends_with("applied=2"), "{location}");
    let history = http(
        &addr,
        "GET",
        "/v1/forms/quote/versions",
        &[("Authorization", &format!("Bearer {TOKEN}"))],
        "",
    );
    let history: Value = serde_json::from_str(&history.body).unwrap();
    assert_eq!(history[0]["version"], 2, "{history}");
    assert_eq!(history[0]["note"], "fit proposal applied", "{history}");
    assert_eq!(history[1]["by"], "file", "{history}");
    let checked = run(&["check", forms.to_str().unwrap()]);
    assert!(checked.status.success(), "{}", stdout(&checked));
    assert!(
        stdout(&checked).contains("1 form(s)"),
        "{}",
        stdout(&checked)
    );
    let served = http(&addr, "GET", "/forms/quote.json", &[], "");
    assert_eq!(served.body, new_text);
    let new_form = parse_config(serde_json::from_str::<Value>(&new_text).unwrap()).unwrap();
    let offset = match new_form.scoring {
        bantam_engine::Scoring::Sum { offset } => offset,
        other => panic!("scoring {other:?}"),
    };
    assert!(new_text.contains(&format!("\"offset\": {offset}")));
    assert!(new_text.starts_with(
        "{\n  \"formId\": \"quote\",\n  \"preset\": \"bant\",\n  \"title\": \"Get a quote\","
    ));

    // New leads are scored by the new version: two visitors alike but for their budget differ
    // by exactly the new points' difference.
    let points = |id: &str| {
        new_form
            .question("budget")
            .unwrap()
            .choice(id)
            .unwrap()
            .points
    };
    let next = |budget: &'static str| Visit {
        budget,
        role: "decision-maker",
        timeframe: Some(Some("this-quarter")),
        headcount: "120",
        email: "next@newco.io".into(),
        source: "linkedin",
        click: true,
    };
    let mut scored = Vec::new();
    for (id, budget) in [("next-big", "over-250k"), ("next-small", "under-10k")] {
        let body = lead(&old_form, id, &next(budget), "2026-05-01T09:00:00.000Z");
        let answer = post(&addr, id, &body);
        let doc: LeadDocument = serde_json::from_str(&body).unwrap();
        let rescore = |form: &Form| doc.rescore(form, &Answers::from_lead(form, &doc).unwrap());
        let (now, before) = (rescore(&new_form), rescore(&old_form));
        assert_eq!(answer["total"], i64::from(now.total), "{answer}");
        assert_eq!(answer["grade"], now.grade.as_str(), "{answer}");
        assert_eq!(
            answer["scoreMismatch"], true,
            "the page had the old version"
        );
        assert_ne!(now.total, before.total);
        assert!(
            now.total > 0 && now.total < 100,
            "not clamped: {}",
            now.total
        );
        scored.push(i64::from(now.total));
    }
    assert_eq!(
        scored[0] - scored[1],
        i64::from(points("over-250k") - points("under-10k"))
    );
    eprintln!(
        "posted 600 leads and their outcomes in {:.1} s; whole test {:.1} s",
        posted.as_secs_f64(),
        started.elapsed().as_secs_f64()
    );
}

crate::on_both_stores!(six_hundred_outcomes_become_points_that_score_the_next_lead);

/// A CRM export: `rows` leads of the quote form with their outcome and source.
fn history(rows: usize) -> String {
    let mut csv =
        String::from("Lead ID,Created,Stage,Budget,Role,E-mail,utm_source,Team size,Owner\n");
    for (i, (visit, won)) in visits(rows, 3).iter().enumerate() {
        let budget = match visit.budget {
            "none" => "No budget yet",
            "under-10k" => "Under $10k",
            "10k-50k" => "\"$10k–$50k\"",
            "50k-250k" => "$50k–$250k",
            _ => "Over $250k",
        };
        csv.push_str(&format!(
            "crm-{i},2025-{:02}-{:02} 10:{:02},{},{budget},{},{},{},{},\"Kim, Sales\"\n",
            1 + i * 12 / rows,
            1 + i % 28,
            i % 60,
            if *won { "Closed Won" } else { "Closed Lost" },
            visit.role,
            visit.email,
            visit.source,
            visit.headcount,
        ));
    }
    csv
}

#[test]
fn a_crm_history_is_imported_whole_or_not_at_all_and_fitted() {
    let dir = TempDir::new("import");
    let forms = dir.forms();
    let forms = forms.to_str().unwrap();
    let db = dir.0.join("leads.db");
    let db = db.to_str().unwrap();
    let csv = dir.0.join("history.csv");
    let file = csv.to_str().unwrap();
    let import = |extra: &[&str]| {
        let mut args = vec!["import", "--form", "quote", "--db", db, "--forms", forms];
        args.extend(extra);
        args.extend([
            "--map",
            "Lead ID=id",
            "--map",
            "Created=date",
            "--map",
            "Stage=outcome",
            "--map",
            "E-mail=email",
            file,
        ]);
        run(&args)
    };

    // A bad row anywhere: every bad row named, nothing stored (no database even made).
    let mut text = history(400);
    text = text.replacen("Closed Won", "Closed Maybe", 1);
    text.push_str("crm-x,yesterday,won,Over $250k,decision-maker,x@acme.io,,12,\n");
    std::fs::write(&csv, &text).unwrap();
    let out = import(&[]);
    assert_eq!(out.status.code(), Some(1), "{}", stdout(&out));
    let errors = stderr(&out);
    assert!(
        errors.contains("column \"Stage\": \"Closed Maybe\": not an outcome"),
        "{errors}"
    );
    assert!(
        errors.contains("history.csv: line 402, column \"Created\": \"yesterday\": not a date"),
        "{errors}"
    );
    assert!(
        errors.contains("nothing was imported: 2 problem(s)"),
        "{errors}"
    );
    assert!(!Path::new(db).exists());

    // The fixed file: a dry run, then the import, then again (nothing twice).
    std::fs::write(&csv, history(400)).unwrap();
    let out = import(&["--dry-run"]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(stdout(&out).contains("All 400 rows"), "{}", stdout(&out));
    assert!(!Path::new(db).exists());
    let out = import(&[]);
    let said = stdout(&out);
    assert!(out.status.success(), "{said}{}", stderr(&out));
    assert!(said.contains("Columns: Lead ID → id, Created → date, Stage → outcome, Budget → question budget, Role → question role, E-mail → question email, utm_source → utm_source, Team size → question headcount."), "{said}");
    assert!(said.contains("Ignored columns: Owner."), "{said}");
    assert!(
        said.contains(": 400 new, 0 already stored; 400 sales statuses recorded."),
        "{said}"
    );
    let again = stdout(&import(&[]));
    assert!(again.contains(": 0 new, 400 already stored;"), "{again}");

    // The history fits, and the proposal passes `check`.
    let out_dir = dir.0.join("proposal");
    std::fs::create_dir_all(&out_dir).unwrap();
    let proposal = out_dir.join("quote.json");
    let out = run(&[
        "fit",
        "--form",
        "quote",
        "--db",
        db,
        "--forms",
        forms,
        "--outcome",
        "won",
        "--hot-converts",
        "60",
        "--write",
        proposal.to_str().unwrap(),
    ]);
    let report = stdout(&out);
    assert!(out.status.success(), "{report}{}", stderr(&out));
    assert!(
        report.starts_with("Outcomes (won/lost): 400 leads,"),
        "{report}"
    );
    assert!(report.contains("Wrote the proposed config to "), "{report}");
    let checked = run(&["check", out_dir.to_str().unwrap()]);
    assert!(checked.status.success(), "{}", stdout(&checked));

    // Wrong use says what is wrong, with the usual exit codes.
    let cases: [(&[&str], i32, &str); 6] = [
        (&["fit"], 2, "fit needs --form ID"),
        (
            &["fit", "--form", "quote", "--hot-top", "0"],
            2,
            "--hot-top: \"0\" is not a percentage",
        ),
        (
            &[
                "fit",
                "--form",
                "quote",
                "--hot-top",
                "10",
                "--hot-converts",
                "50",
            ],
            2,
            "both set the best grade",
        ),
        (
            &["fit", "--form", "nope", "--forms", forms],
            1,
            "no form \"nope\"",
        ),
        (
            &[
                "fit",
                "--form",
                "quote",
                "--forms",
                forms,
                "--db",
                "/nonexistent/x.db",
            ],
            1,
            "no database at /nonexistent/x.db",
        ),
        (
            &[
                "import", "--form", "quote", "--forms", forms, "--map", "oops", file,
            ],
            2,
            "is not COLUMN=TARGET",
        ),
    ];
    for (args, code, message) in cases {
        let out = run(args);
        assert_eq!(out.status.code(), Some(code), "{args:?}: {}", stderr(&out));
        assert!(stderr(&out).contains(message), "{args:?}: {}", stderr(&out));
    }
    let beside = forms.to_owned() + "/quote-new.json";
    let out = run(&[
        "fit", "--form", "quote", "--db", db, "--forms", forms, "--write", &beside,
    ]);
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("two files for form \"quote\""),
        "{}",
        stderr(&out)
    );

    // Too few outcomes: a plain answer, not a proposal.
    let few = dir.0.join("few.csv");
    std::fs::write(&few, history(30)).unwrap();
    let small_db = dir.0.join("few.db");
    let out = run(&[
        "import",
        "--form",
        "quote",
        "--db",
        small_db.to_str().unwrap(),
        "--forms",
        forms,
        "--map",
        "Created=date",
        "--map",
        "Stage=outcome",
        "--map",
        "E-mail=email",
        few.to_str().unwrap(),
    ]);
    assert!(out.status.success(), "{}", stderr(&out));
    let out = run(&[
        "fit",
        "--form",
        "quote",
        "--db",
        small_db.to_str().unwrap(),
        "--forms",
        forms,
    ]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        stderr(&out).contains("30 leads have a won/lost outcome; a fit needs at least 50"),
        "{}",
        stderr(&out)
    );
}
