//! Named users (issue 13): the first admin set up with the admin token, passwords hashed with
//! Argon2id, sessions in secure cookies that end at logout and when they expire, roles (sales
//! is refused admin pages), CSRF tokens and the origin check on every change, the audit log
//! and the login throttle. On both stores (`on_both_stores!`), through the router (`oneshot`).

mod common;

use std::path::PathBuf;
use std::sync::{Arc, RwLock};

use axum::body::Body;
use axum::http::{header, HeaderMap, Request, StatusCode};
use axum::Router;
use bantam_collector::{app, AppState, Forms, Settings};
use bantam_engine::parse_config;
use common::TestDb;
use http_body_util::BodyExt;
use serde_json::{json, Value};
use tower::ServiceExt;

const TOKEN: &str = "users-test-admin-token";
const HOST: &str = "collector.test";
const OWN: &str = "http://collector.test";
const ADMIN_PASSWORD: &str = "admin password 1";
const SALES_PASSWORD: &str = "sales password 1";

async fn router(db: &TestDb) -> Router {
    let settings = Settings {
        allowed_origins: Vec::new(),
        admin_token: Some(TOKEN.into()),
        rate_per_minute: 0,
        burst: 1,
        forwarding: None,
    };
    let mut forms = Forms::empty();
    forms.insert(parse_config(json!({"formId": "demo", "preset": "bant"})).unwrap());
    app(
        AppState::new(db.open().await, Arc::new(RwLock::new(forms)), settings),
        PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/../www")),
    )
}

struct Answer {
    status: StatusCode,
    headers: HeaderMap,
    text: String,
}

impl Answer {
    fn header(&self, name: header::HeaderName) -> &str {
        self.headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
    }

    /// The session cookie this answer sets (its value), if it sets one.
    fn session(&self) -> Option<String> {
        let cookie = self.header(header::SET_COOKIE);
        let value = cookie.strip_prefix("bantam_session=")?.split(';').next()?;
        (!value.is_empty()).then(|| value.to_owned())
    }
}

async fn send(router: &Router, request: Request<Body>) -> Answer {
    let response = router.clone().oneshot(request).await.unwrap();
    let status = response.status();
    let headers = response.headers().clone();
    let bytes = response.into_body().collect().await.unwrap().to_bytes();
    Answer {
        status,
        headers,
        text: String::from_utf8_lossy(&bytes).into_owned(),
    }
}

fn encode(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' => (b as char).to_string(),
            _ => format!("%{b:02X}"),
        })
        .collect()
}

fn form_body(fields: &[(&str, &str)]) -> String {
    fields
        .iter()
        .map(|(k, v)| format!("{k}={}", encode(v)))
        .collect::<Vec<_>>()
        .join("&")
}

/// A signed-in browser: its cookie and the page's CSRF token.
#[derive(Clone)]
struct Browser {
    cookie: String,
    csrf: String,
}

/// A browser's GET, with the session cookie if any.
fn get(uri: &str, who: Option<&Browser>) -> Request<Body> {
    let mut request = Request::get(uri).header("host", HOST);
    if let Some(who) = who {
        request = request.header("cookie", format!("bantam_session={}", who.cookie));
    }
    request.body(Body::empty()).unwrap()
}

/// A browser's form post from `origin`, with the session cookie if any.
fn post(uri: &str, who: Option<&Browser>, origin: &str, fields: &[(&str, &str)]) -> Request<Body> {
    let mut request = Request::post(uri)
        .header("host", HOST)
        .header("origin", origin)
        .header("content-type", "application/x-www-form-urlencoded");
    if let Some(who) = who {
        request = request.header("cookie", format!("bantam_session={}", who.cookie));
    }
    request.body(Body::from(form_body(fields))).unwrap()
}

/// A signed-in user's form post from the inbox, with the CSRF field.
fn change(uri: &str, who: &Browser, fields: &[(&str, &str)]) -> Request<Body> {
    let mut all = vec![("csrf", who.csrf.as_str())];
    all.extend_from_slice(fields);
    post(uri, Some(who), OWN, &all)
}

/// The value of `<meta name="csrf-token">` of a page.
fn csrf_of(page: &str) -> String {
    let start = page
        .find("<meta name=\"csrf-token\" content=\"")
        .expect("a CSRF meta tag")
        + "<meta name=\"csrf-token\" content=\"".len();
    page[start..start + page[start..].find('"').unwrap()].to_owned()
}

/// Signs in (or, with `token`, sets up the first admin); the browser afterwards.
async fn sign_in(router: &Router, fields: &[(&str, &str)]) -> Browser {
    let answer = send(router, post("/inbox/login", None, OWN, fields)).await;
    assert_eq!(answer.status, StatusCode::SEE_OTHER, "{}", answer.text);
    let cookie = answer.session().expect("a session cookie");
    let page = send(
        router,
        get(
            "/inbox",
            Some(&Browser {
                cookie: cookie.clone(),
                csrf: String::new(),
            }),
        ),
    )
    .await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.text);
    Browser {
        csrf: csrf_of(&page.text),
        cookie,
    }
}

async fn first_admin(router: &Router) -> Browser {
    sign_in(
        router,
        &[
            ("token", TOKEN),
            ("name", "Ada"),
            ("password", ADMIN_PASSWORD),
            ("repeat", ADMIN_PASSWORD),
        ],
    )
    .await
}

/// Sets up Ada (admin) and adds Sam (sales); both signed in.
async fn admin_and_rep(router: &Router) -> (Browser, Browser) {
    let ada = first_admin(router).await;
    let added = send(
        router,
        change(
            "/inbox/users",
            &ada,
            &[
                ("name", "Sam"),
                ("role", "sales"),
                ("password", SALES_PASSWORD),
            ],
        ),
    )
    .await;
    assert_eq!(added.status, StatusCode::SEE_OTHER, "{}", added.text);
    let sam = sign_in(router, &[("name", "sam"), ("password", SALES_PASSWORD)]).await;
    (ada, sam)
}

/// Stores a lead of the demo form; returns its id.
async fn a_lead(router: &Router, id: &str, email: &str) -> String {
    let body = common::lead_json(
        "demo",
        id,
        &[("email", email), ("budget", "50k-250k")],
        "https://x.io/?utm_source=google",
    );
    let answer = send(
        router,
        Request::post("/v1/leads")
            .header("content-type", "application/json")
            .body(Body::from(body))
            .unwrap(),
    )
    .await;
    assert_eq!(answer.status, StatusCode::CREATED, "{}", answer.text);
    id.to_owned()
}

/// The audit log through the API, newest first: `(who, action, subject)`.
async fn audit(router: &Router) -> Vec<(String, String, String)> {
    let answer = send(
        router,
        Request::get("/v1/audit?limit=1000")
            .header("authorization", format!("Bearer {TOKEN}"))
            .body(Body::empty())
            .unwrap(),
    )
    .await;
    assert_eq!(answer.status, StatusCode::OK, "{}", answer.text);
    let body: Value = serde_json::from_str(&answer.text).unwrap();
    body["entries"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| {
            let text = |k: &str| e[k].as_str().unwrap().to_owned();
            (text("who"), text("action"), text("subject"))
        })
        .collect()
}

fn has(log: &[(String, String, String)], who: &str, action: &str, subject: &str) -> bool {
    log.iter()
        .any(|(w, a, s)| w == who && a == action && s == subject)
}

async fn the_first_login_with_the_token_creates_an_admin(db: TestDb) {
    let router = router(&db).await;
    // A page without a session goes to the login page, which asks for the token while no
    // user exists.
    let inbox = send(&router, get("/inbox/leads/x?a=1", None)).await;
    assert_eq!(inbox.status, StatusCode::SEE_OTHER);
    assert_eq!(
        inbox.header(header::LOCATION),
        "/inbox/login?next=%2Finbox%2Fleads%2Fx%3Fa%3D1"
    );
    assert_eq!(
        inbox.header(header::WWW_AUTHENTICATE),
        "",
        "no Basic challenge"
    );
    let login = send(&router, get("/inbox/login", None)).await;
    assert!(login.text.contains("Set up Bantam") && login.text.contains("name=\"token\""));

    let setup = |token: &'static str, password: &'static str| {
        post(
            "/inbox/login",
            None,
            OWN,
            &[
                ("token", token),
                ("name", "Ada"),
                ("password", password),
                ("repeat", password),
                ("next", "/inbox/audit"),
            ],
        )
    };
    let wrong = send(&router, setup("not-the-token", ADMIN_PASSWORD)).await;
    assert_eq!(wrong.status, StatusCode::UNAUTHORIZED);
    assert!(
        wrong.text.contains("The admin token is wrong."),
        "{}",
        wrong.text
    );
    assert_eq!(wrong.session(), None);
    let short = send(&router, setup(TOKEN, "short")).await;
    assert_eq!(short.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        short
            .text
            .contains("The password is too short: it has 5 characters and needs at least 12."),
        "{}",
        short.text
    );
    assert_eq!(db.number("SELECT COUNT(*) FROM users").await, 0);

    let done = send(&router, setup(TOKEN, ADMIN_PASSWORD)).await;
    assert_eq!(done.status, StatusCode::SEE_OTHER, "{}", done.text);
    assert_eq!(done.header(header::LOCATION), "/inbox/audit");
    let cookie = done.session().expect("signed in at once");
    assert_eq!(
        db.number("SELECT COUNT(*) FROM users WHERE name = 'Ada' AND role = 'admin'")
            .await,
        1
    );
    // The password is stored as an Argon2id hash, never as it was typed; the session by a
    // hash of its id, never as the cookie holds it.
    assert_eq!(
        db.number(&format!(
            "SELECT COUNT(*) FROM users WHERE password_hash LIKE '$argon2id$v=19$%' AND password_hash NOT LIKE '%{ADMIN_PASSWORD}%'"
        ))
        .await,
        1
    );
    assert_eq!(db.number("SELECT COUNT(*) FROM sessions").await, 1);
    assert_eq!(
        db.number(&format!(
            "SELECT COUNT(*) FROM sessions WHERE id_hash = '{cookie}'"
        ))
        .await,
        0
    );

    // From now on the login page asks for a name and password, and the token signs no one in.
    let login = send(&router, get("/inbox/login", None)).await;
    assert!(login.text.contains("Sign in to Bantam") && !login.text.contains("name=\"token\""));
    let token_again = send(&router, setup(TOKEN, "another password 2")).await;
    assert_eq!(token_again.status, StatusCode::UNAUTHORIZED);
    assert_eq!(token_again.session(), None);
    assert_eq!(db.number("SELECT COUNT(*) FROM users").await, 1);
    // Programs keep the token.
    let program = send(
        &router,
        Request::get("/v1/leads")
            .header("authorization", format!("Bearer {TOKEN}"))
            .body(Body::empty())
            .unwrap(),
    )
    .await;
    assert_eq!(program.status, StatusCode::OK);
}

async fn the_session_cookie_is_http_only_same_site_and_secure_where_it_can_be(db: TestDb) {
    let router = router(&db).await;
    first_admin(&router).await;
    let login = |host: &str, proto: Option<&str>| {
        let mut request = Request::post("/inbox/login")
            .header("host", host)
            .header("content-type", "application/x-www-form-urlencoded");
        if let Some(proto) = proto {
            request = request.header("x-forwarded-proto", proto);
        }
        request
            .body(Body::from(form_body(&[
                ("name", "Ada"),
                ("password", ADMIN_PASSWORD),
            ])))
            .unwrap()
    };
    for (host, proto, secure) in [
        ("leads.example.com", Some("https"), true),
        ("127.0.0.1:8080", None, true),
        ("localhost:8080", None, true),
        ("leads.example.com", None, false),
    ] {
        let answer = send(&router, login(host, proto)).await;
        assert_eq!(answer.status, StatusCode::SEE_OTHER, "{}", answer.text);
        let cookie = answer.header(header::SET_COOKIE);
        let id = answer.session().unwrap();
        assert_eq!(id.len(), 64, "32 random bytes");
        let attributes: Vec<&str> = cookie.split("; ").skip(1).collect();
        let mut expected = vec!["Path=/", "HttpOnly", "SameSite=Lax", "Max-Age=604800"];
        if secure {
            expected.push("Secure");
        }
        assert_eq!(attributes, expected, "{host} {proto:?}");
    }
}

async fn a_wrong_password_is_refused_and_logout_ends_the_session(db: TestDb) {
    let router = router(&db).await;
    let (_, sam) = admin_and_rep(&router).await;
    for (name, password) in [("Sam", "sales password 2"), ("Nobody", SALES_PASSWORD)] {
        let wrong = send(
            &router,
            post(
                "/inbox/login",
                None,
                OWN,
                &[("name", name), ("password", password)],
            ),
        )
        .await;
        assert_eq!(wrong.status, StatusCode::UNAUTHORIZED);
        assert!(wrong.text.contains("The name or the password is wrong."));
        assert_eq!(wrong.session(), None);
    }
    let inbox = send(&router, get("/inbox", Some(&sam))).await;
    assert!(
        inbox
            .text
            .contains("Signed in as <strong>Sam</strong> (sales)"),
        "{}",
        inbox.text
    );
    assert!(inbox.text.contains("action=\"/inbox/logout\""));

    let out = send(&router, change("/inbox/logout", &sam, &[])).await;
    assert_eq!(out.status, StatusCode::SEE_OTHER);
    assert_eq!(out.header(header::LOCATION), "/inbox/login");
    assert!(out
        .header(header::SET_COOKIE)
        .starts_with("bantam_session=; Path=/; HttpOnly; SameSite=Lax; Max-Age=0"));
    // The old cookie opens nothing any more: its session is gone from the database.
    let after = send(&router, get("/inbox", Some(&sam))).await;
    assert_eq!(after.status, StatusCode::SEE_OTHER);
    assert_eq!(
        db.number(
            "SELECT COUNT(*) FROM sessions s JOIN users u ON u.id = s.user_id WHERE u.name = 'Sam'"
        )
        .await,
        0
    );
}

async fn an_expired_session_is_refused(db: TestDb) {
    let router = router(&db).await;
    let (ada, sam) = admin_and_rep(&router).await;
    // Unused for 13 hours (the idle limit is 12).
    db.execute(
        "UPDATE sessions SET seen_ms = seen_ms - 13 * 3600 * 1000 WHERE user_id = (SELECT id FROM users WHERE name = 'Sam')",
    )
    .await;
    // Anyone's sign-in clears sessions that are over, used again or not.
    let sams =
        "SELECT COUNT(*) FROM sessions WHERE user_id = (SELECT id FROM users WHERE name = 'Sam')";
    assert_eq!(db.number(sams).await, 1);
    sign_in(&router, &[("name", "Ada"), ("password", ADMIN_PASSWORD)]).await;
    assert_eq!(db.number(sams).await, 0);
    let idle = send(&router, get("/inbox", Some(&sam))).await;
    assert_eq!(idle.status, StatusCode::SEE_OTHER);
    assert!(idle.header(header::LOCATION).starts_with("/inbox/login"));
    // Used a minute ago, but begun 8 days ago (the limit is 7).
    db.execute(
        "UPDATE sessions SET created_ms = created_ms - 8 * 24 * 3600 * 1000, seen_ms = seen_ms - 60000 WHERE user_id = (SELECT id FROM users WHERE name = 'Ada')",
    )
    .await;
    let old = send(&router, get("/inbox", Some(&ada))).await;
    assert_eq!(old.status, StatusCode::SEE_OTHER);
    // That session is gone; Ada's second one, as old, goes at the next sign-in.
    assert_eq!(db.number("SELECT COUNT(*) FROM sessions").await, 1);
    sign_in(&router, &[("name", "Ada"), ("password", ADMIN_PASSWORD)]).await;
    assert_eq!(db.number("SELECT COUNT(*) FROM sessions").await, 1);
}

async fn sales_gets_a_readable_403_on_admin_pages(db: TestDb) {
    let router = router(&db).await;
    let (ada, sam) = admin_and_rep(&router).await;
    let id = a_lead(&router, "lead-1", "ann@acme.io").await;
    for uri in [
        "/inbox".to_owned(),
        format!("/inbox/leads/{id}"),
        "/inbox/people/ann%40acme.io".to_owned(),
    ] {
        let answer = send(&router, get(&uri, Some(&sam))).await;
        assert_eq!(answer.status, StatusCode::OK, "{uri}: {}", answer.text);
    }
    for uri in [
        "/inbox/users",
        "/inbox/audit",
        "/inbox/forms",
        "/inbox/forms/demo",
        "/inbox/quarantine",
        "/inbox/forms/demo/fit",
    ] {
        let answer = send(&router, get(uri, Some(&sam))).await;
        assert_eq!(answer.status, StatusCode::FORBIDDEN, "{uri}");
        assert!(
            answer.header(header::CONTENT_TYPE).starts_with("text/html"),
            "{uri}"
        );
        assert!(
            answer
                .text
                .contains("This is for admins: you are signed in as Sam (sales)."),
            "{uri}: {}",
            answer.text
        );
        // The admin passes (a form without a file of its own is the page's 404).
        let admin = send(&router, get(uri, Some(&ada))).await;
        assert!(
            [StatusCode::OK, StatusCode::NOT_FOUND].contains(&admin.status),
            "{uri}: {}",
            admin.text
        );
    }
    for uri in ["/v1/leads.csv", "/v1/audit", "/v1/people/ann%40acme.io"] {
        let answer = send(&router, get(uri, Some(&sam))).await;
        assert_eq!(answer.status, StatusCode::FORBIDDEN, "{uri}");
    }
    // A change for admins only: refused, nothing erased.
    let erase = send(
        &router,
        change(
            "/inbox/people/ann%40acme.io/erase",
            &sam,
            &[("confirm", "yes")],
        ),
    )
    .await;
    assert_eq!(erase.status, StatusCode::FORBIDDEN);
    assert_eq!(db.number("SELECT COUNT(*) FROM leads").await, 1);
    // The rep's inbox shows no admin links.
    let inbox = send(&router, get("/inbox", Some(&sam))).await;
    assert!(!inbox.text.contains("Export CSV") && !inbox.text.contains("/inbox/users"));
}

async fn changes_need_the_sessions_csrf_token_and_this_origin(db: TestDb) {
    let router = router(&db).await;
    let (_, sam) = admin_and_rep(&router).await;
    let id = a_lead(&router, "lead-1", "ann@acme.io").await;
    let uri = format!("/inbox/leads/{id}/status");
    let status = || async {
        db.number("SELECT COUNT(*) FROM leads WHERE status IS NOT NULL")
            .await
    };
    // The lead's page carries the token in its form.
    let page = send(&router, get(&format!("/inbox/leads/{id}"), Some(&sam))).await;
    assert!(page.text.contains(&format!(
        "<input type=\"hidden\" name=\"csrf\" value=\"{}\">",
        sam.csrf
    )));
    let missing = send(&router, post(&uri, Some(&sam), OWN, &[("status", "won")])).await;
    assert_eq!(missing.status, StatusCode::FORBIDDEN);
    assert!(missing
        .header(header::CONTENT_TYPE)
        .starts_with("text/html"));
    assert!(
        missing
            .text
            .contains("it did not carry this session&#39;s security token"),
        "{}",
        missing.text
    );
    let wrong = send(
        &router,
        post(
            &uri,
            Some(&sam),
            OWN,
            &[("csrf", &"0".repeat(64)), ("status", "won")],
        ),
    )
    .await;
    assert_eq!(wrong.status, StatusCode::FORBIDDEN);
    // The right token from another site's page is refused too.
    let elsewhere = send(
        &router,
        post(
            &uri,
            Some(&sam),
            "https://evil.example",
            &[("csrf", &sam.csrf), ("status", "won")],
        ),
    )
    .await;
    assert_eq!(elsewhere.status, StatusCode::FORBIDDEN);
    assert!(elsewhere.text.contains("came from another site"));
    let mut cross = change(&uri, &sam, &[("status", "won")]);
    cross
        .headers_mut()
        .insert("sec-fetch-site", "cross-site".parse().unwrap());
    assert_eq!(send(&router, cross).await.status, StatusCode::FORBIDDEN);
    assert_eq!(status().await, 0, "nothing refused was done");

    let right = send(&router, change(&uri, &sam, &[("status", "won")])).await;
    assert_eq!(right.status, StatusCode::SEE_OTHER, "{}", right.text);
    assert_eq!(status().await, 1);

    // A script of the inbox's pages (the editor's fetches) sends the token as a header.
    let api = |token: Option<&str>| {
        let mut request = Request::post(format!("/v1/leads/{id}/status"))
            .header("host", HOST)
            .header("origin", OWN)
            .header("sec-fetch-site", "same-origin")
            .header("content-type", "application/json")
            .header("cookie", format!("bantam_session={}", sam.cookie));
        if let Some(token) = token {
            request = request.header("x-csrf-token", token);
        }
        request
            .body(Body::from(json!({"status": "lost"}).to_string()))
            .unwrap()
    };
    assert_eq!(send(&router, api(None)).await.status, StatusCode::FORBIDDEN);
    assert_eq!(
        send(&router, api(Some(&"1".repeat(64)))).await.status,
        StatusCode::FORBIDDEN
    );
    assert_eq!(
        send(&router, api(Some(&sam.csrf))).await.status,
        StatusCode::OK
    );
    // A program with the admin token in its Authorization header needs no token.
    let program = send(
        &router,
        Request::post(format!("/v1/leads/{id}/status"))
            .header("authorization", format!("Bearer {TOKEN}"))
            .header("content-type", "application/json")
            .body(Body::from(json!({"status": "accepted"}).to_string()))
            .unwrap(),
    )
    .await;
    assert_eq!(program.status, StatusCode::OK, "{}", program.text);
    assert_eq!(
        db.number("SELECT COUNT(*) FROM leads WHERE status = 'accepted'")
            .await,
        1
    );
}

async fn the_audit_log_records_changes_exports_erasures_users_and_logins(db: TestDb) {
    let router = router(&db).await;
    let (ada, sam) = admin_and_rep(&router).await;
    let id = a_lead(&router, "lead-1", "ann@acme.io").await;
    a_lead(&router, "lead-2", "bo@initech.com").await;
    let failed = send(
        &router,
        post(
            "/inbox/login",
            None,
            OWN,
            &[("name", "Sam"), ("password", "a wrong password")],
        ),
    )
    .await;
    assert_eq!(failed.status, StatusCode::UNAUTHORIZED);
    let won = send(
        &router,
        change(
            &format!("/inbox/leads/{id}/status"),
            &sam,
            &[("status", "won")],
        ),
    )
    .await;
    assert_eq!(won.status, StatusCode::SEE_OTHER);
    let csv = send(&router, get("/v1/leads.csv?grade=hot", Some(&ada))).await;
    assert_eq!(csv.status, StatusCode::OK);
    let erased = send(
        &router,
        change(
            "/inbox/people/bo%40initech.com/erase",
            &ada,
            &[("confirm", "yes")],
        ),
    )
    .await;
    assert_eq!(erased.status, StatusCode::SEE_OTHER, "{}", erased.text);

    let log = audit(&router).await;
    assert!(has(&log, "Ada", "user.create", "Ada"), "{log:?}");
    assert!(has(&log, "Ada", "login", "Ada"), "{log:?}");
    assert!(has(&log, "Ada", "user.create", "Sam"), "{log:?}");
    assert!(has(&log, "Sam", "login", "Sam"), "{log:?}");
    assert!(has(&log, "Sam", "login.failed", "Sam"), "{log:?}");
    assert!(has(&log, "Sam", "status", "lead-1"), "{log:?}");
    assert!(has(&log, "Ada", "export", "leads.csv"), "{log:?}");
    let erasure = log
        .iter()
        .find(|(_, action, _)| action == "erase")
        .expect("the erasure");
    assert_eq!(erasure.0, "Ada");
    assert!(
        !erasure.2.contains("bo@"),
        "no email in the log: {}",
        erasure.2
    );
    // Newest first, in pages.
    assert_eq!(log[0].1, "erase");
    let first: Value = serde_json::from_str(
        &send(
            &router,
            Request::get("/v1/audit?limit=2")
                .header("authorization", format!("Bearer {TOKEN}"))
                .body(Body::empty())
                .unwrap(),
        )
        .await
        .text,
    )
    .unwrap();
    assert_eq!(first["entries"].as_array().unwrap().len(), 2);
    let next = first["next"].as_i64().expect("a next page");
    let second: Value = serde_json::from_str(
        &send(
            &router,
            Request::get(format!("/v1/audit?limit=2&before={next}"))
                .header("authorization", format!("Bearer {TOKEN}"))
                .body(Body::empty())
                .unwrap(),
        )
        .await
        .text,
    )
    .unwrap();
    assert_eq!(second["entries"][0]["action"], log[2].1.as_str());
    // The admin's page shows the rep's change by name.
    let page = send(&router, get("/inbox/audit", Some(&ada))).await;
    assert!(page
        .text
        .contains("<td data-label=\"Who\">Sam</td><td data-label=\"What\">status</td><td data-label=\"Subject\">lead-1</td><td data-label=\"Detail\">won</td>"));
}

async fn failed_sign_ins_are_throttled_per_name_and_address(db: TestDb) {
    let router = router(&db).await;
    admin_and_rep(&router).await;
    let login = |name: &str, password: &str| {
        post(
            "/inbox/login",
            None,
            OWN,
            &[("name", name), ("password", password)],
        )
    };
    for _ in 0..bantam_collector::LOGIN_FAILURES_PER_NAME {
        let wrong = send(&router, login("Sam", "a wrong password")).await;
        assert_eq!(wrong.status, StatusCode::UNAUTHORIZED);
    }
    // Now even the right password is not checked: the form is no oracle.
    let right = send(&router, login("Sam", SALES_PASSWORD)).await;
    assert_eq!(right.status, StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(right.session(), None);
    let wait: u64 = right.header(header::RETRY_AFTER).parse().unwrap();
    assert!((1..=60).contains(&wait), "{wait}");
    assert!(right.text.contains("Too many failed sign-ins"));
    // In another case, the same name.
    assert_eq!(
        send(&router, login("SAM", SALES_PASSWORD)).await.status,
        StatusCode::TOO_MANY_REQUESTS
    );
    // Another name from the same address still signs in.
    assert_eq!(
        send(&router, login("Ada", ADMIN_PASSWORD)).await.status,
        StatusCode::SEE_OTHER
    );
    // Many names from one address: past the address's burst, none is checked.
    let mut refused = 0;
    for n in 0..30 {
        let answer = send(&router, login(&format!("guess{n}"), "a wrong password")).await;
        if answer.status == StatusCode::TOO_MANY_REQUESTS {
            refused += 1;
        }
    }
    assert!(refused > 0, "the address is throttled too");
    assert_eq!(
        send(&router, login("Ada", ADMIN_PASSWORD)).await.status,
        StatusCode::TOO_MANY_REQUESTS
    );
}

async fn admins_add_reset_and_disable_users_with_precise_errors(db: TestDb) {
    let router = router(&db).await;
    let (ada, sam) = admin_and_rep(&router).await;
    let add = |fields: &[(&str, &str)]| change("/inbox/users", &ada, fields);
    let taken = send(
        &router,
        add(&[
            ("name", "SAM"),
            ("role", "sales"),
            ("password", SALES_PASSWORD),
        ]),
    )
    .await;
    assert_eq!(taken.status, StatusCode::CONFLICT);
    assert!(taken.text.contains("There is a user called SAM already"));
    let short = send(
        &router,
        add(&[("name", "Kim"), ("role", "admin"), ("password", "kim")]),
    )
    .await;
    assert_eq!(short.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(short
        .text
        .contains("it has 3 characters and needs at least 12"));
    let odd = send(
        &router,
        add(&[
            ("name", "<b>Kim</b>"),
            ("role", "admin"),
            ("password", SALES_PASSWORD),
        ]),
    )
    .await;
    assert_eq!(odd.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        odd.text.contains("The name cannot hold “&lt;”"),
        "{}",
        odd.text
    );
    assert!(!odd.text.contains("<b>Kim"));

    // A new password ends Sam's sessions and is the one that works.
    let reset = send(
        &router,
        change(
            "/inbox/users/Sam/password",
            &ada,
            &[("password", "a new password 9")],
        ),
    )
    .await;
    assert_eq!(reset.status, StatusCode::SEE_OTHER, "{}", reset.text);
    assert_eq!(
        send(&router, get("/inbox", Some(&sam))).await.status,
        StatusCode::SEE_OTHER
    );
    let sam = sign_in(
        &router,
        &[("name", "Sam"), ("password", "a new password 9")],
    )
    .await;

    // Disabled: signed out at once, and cannot sign in.
    let disable = send(
        &router,
        change("/inbox/users/Sam/disable", &ada, &[("disabled", "yes")]),
    )
    .await;
    assert_eq!(disable.status, StatusCode::SEE_OTHER);
    assert_eq!(
        send(&router, get("/inbox", Some(&sam))).await.status,
        StatusCode::SEE_OTHER
    );
    let refused = send(
        &router,
        post(
            "/inbox/login",
            None,
            OWN,
            &[("name", "Sam"), ("password", "a new password 9")],
        ),
    )
    .await;
    assert_eq!(refused.status, StatusCode::UNAUTHORIZED);
    // No one disables themselves.
    let myself = send(
        &router,
        change("/inbox/users/Ada/disable", &ada, &[("disabled", "yes")]),
    )
    .await;
    assert_eq!(myself.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(myself.text.contains("You cannot disable yourself"));
    let page = send(&router, get("/inbox/users", Some(&ada))).await;
    assert!(page.text.contains("disabled <time"), "{}", page.text);
    let log = audit(&router).await;
    assert!(has(&log, "Ada", "user.password", "Sam"));
    assert!(has(&log, "Ada", "user.disable", "Sam"));
}

/// A person's page (the people merge): sales give feedback and set the owner from its forms,
/// which carry the session's CSRF token; without it, or through the API without the header,
/// nothing changes; the feedback is by the signed-in user, and both are in the audit log with
/// the person named by a digest; export and erasure stay the admin's.
async fn the_person_pages_changes_are_the_signed_in_users_and_checked(db: TestDb) {
    let router = router(&db).await;
    let (ada, sam) = admin_and_rep(&router).await;
    a_lead(&router, "lead-1", "ann@acme.io").await;
    let person = "/inbox/people/ann%40acme.io";
    let page = send(&router, get(person, Some(&sam))).await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.text);
    let field = format!(
        "<input type=\"hidden\" name=\"csrf\" value=\"{}\">",
        sam.csrf
    );
    // The feedback form, the owner form and Sign out.
    assert_eq!(page.text.matches(&field).count(), 3, "{}", page.text);
    assert!(!page.text.contains("Erase this person") && !page.text.contains("download=1"));
    let admin_page = send(&router, get(person, Some(&ada))).await;
    assert!(admin_page.text.contains("Erase this person"));

    let owners = || async {
        db.number("SELECT COUNT(*) FROM persons WHERE owner IS NOT NULL")
            .await
    };
    let feedback = || async { db.number("SELECT COUNT(*) FROM feedback").await };
    for (what, fields) in [
        ("owner", vec![("owner", "Sam")]),
        ("feedback", vec![("status", "accepted")]),
    ] {
        let uri = format!("{person}/{what}");
        let missing = send(&router, post(&uri, Some(&sam), OWN, &fields)).await;
        assert_eq!(missing.status, StatusCode::FORBIDDEN, "{what}");
        let elsewhere = {
            let mut all = vec![("csrf", sam.csrf.as_str())];
            all.extend_from_slice(&fields);
            send(
                &router,
                post(&uri, Some(&sam), "https://evil.example", &all),
            )
            .await
        };
        assert_eq!(elsewhere.status, StatusCode::FORBIDDEN, "{what}");
    }
    assert_eq!(
        (owners().await, feedback().await),
        (0, 0),
        "nothing refused was done"
    );
    for (what, fields) in [
        ("owner", vec![("owner", "Sam")]),
        ("feedback", vec![("status", "accepted")]),
    ] {
        let done = send(&router, change(&format!("{person}/{what}"), &sam, &fields)).await;
        assert_eq!(done.status, StatusCode::SEE_OTHER, "{what}: {}", done.text);
    }
    assert_eq!((owners().await, feedback().await), (1, 1));
    assert_eq!(
        db.number("SELECT COUNT(*) FROM feedback WHERE by_whom = 'Sam'")
            .await,
        1
    );

    // The API from the inbox's pages: the session's token in the header, or nothing.
    let api = |method: &str, what: &str, body: Value, token: Option<&str>| {
        let mut request = Request::builder()
            .method(method)
            .uri(format!("/v1/people/ann%40acme.io/{what}"))
            .header("host", HOST)
            .header("origin", OWN)
            .header("content-type", "application/json")
            .header("cookie", format!("bantam_session={}", sam.cookie));
        if let Some(token) = token {
            request = request.header("x-csrf-token", token);
        }
        request.body(Body::from(body.to_string())).unwrap()
    };
    let won = json!({"status": "won", "value": 500});
    let owner = json!({"owner": "Ben"});
    for (method, what, body) in [("POST", "feedback", &won), ("PUT", "owner", &owner)] {
        let refused = send(&router, api(method, what, body.clone(), None)).await;
        assert_eq!(refused.status, StatusCode::FORBIDDEN, "{what}");
        let done = send(&router, api(method, what, body.clone(), Some(&sam.csrf))).await;
        assert_eq!(done.status, StatusCode::OK, "{what}: {}", done.text);
    }
    assert_eq!(
        db.number("SELECT COUNT(*) FROM feedback WHERE by_whom = 'Sam' AND status = 'won'")
            .await,
        1
    );
    assert_eq!(
        db.number("SELECT COUNT(*) FROM persons WHERE owner = 'Ben'")
            .await,
        1
    );

    let subject = format!(
        "person {}",
        &bantam_collector::email_digest("ann@acme.io")[..12]
    );
    let log = audit(&router).await;
    for action in ["owner", "feedback"] {
        let by_sam = log
            .iter()
            .filter(|(who, a, s)| who == "Sam" && a == action && *s == subject)
            .count();
        assert_eq!(by_sam, 2, "{action}: {log:?}");
    }
    assert!(log.iter().all(|(_, _, s)| !s.contains("acme")), "{log:?}");
    // Exporting the person stays the admin's.
    let export = send(&router, get("/v1/people/ann%40acme.io", Some(&sam))).await;
    assert_eq!(export.status, StatusCode::FORBIDDEN);
}

on_both_stores!(
    the_first_login_with_the_token_creates_an_admin,
    the_session_cookie_is_http_only_same_site_and_secure_where_it_can_be,
    a_wrong_password_is_refused_and_logout_ends_the_session,
    an_expired_session_is_refused,
    sales_gets_a_readable_403_on_admin_pages,
    changes_need_the_sessions_csrf_token_and_this_origin,
    the_audit_log_records_changes_exports_erasures_users_and_logins,
    failed_sign_ins_are_throttled_per_name_and_address,
    admins_add_reset_and_disable_users_with_precise_errors,
    the_person_pages_changes_are_the_signed_in_users_and_checked,
);
