//! Named users (admin, sales), their sessions in cookies, CSRF tokens, the login throttle and
//! the audit log (issue 13).
//!
//! Who makes a request is worked out once, by the [`identify`] layer, before any inbox or API
//! handler runs: the admin token in an `Authorization` header (programs, as before), or a
//! session cookie (people, signed in at `/inbox/login`). The answer is kept for the request in
//! a task-local, so a handler asks [`require`] and a page renders who is signed in and its
//! CSRF field ([`csrf_field`]) without passing the user along. The layer also reads the `csrf`
//! field of a form-encoded post, which [`crate::inbox::change_from_inbox`] checks: the one place
//! the inbox's own posts are checked.
//!
//! The pages are `/inbox/login` (which, while no user exists, takes the admin token and creates
//! the first admin), `/inbox/logout`, `/inbox/users` (admins: add, reset a password, disable)
//! and `/inbox/audit`, with `/v1/audit` the same log as JSON pages.

use std::fmt::Write as _;
use std::net::IpAddr;
use std::time::{SystemTime, UNIX_EPOCH};

use axum::body::Body;
use axum::extract::{Path, Query, Request, State};
use axum::http::{header, HeaderMap, HeaderValue, Method, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde::Deserialize;
use serde_json::json;

use crate::inbox::{encode, escape, form_field, form_fields, page_with_status, when};
use crate::store::{AuditEntry, User};
use crate::{time, AppError, AppState, Settings, MAX_BODY_BYTES};

/// The session cookie's name.
pub const SESSION_COOKIE: &str = "bantam_session";
/// A session unused this long ends (12 hours).
pub const SESSION_IDLE_MS: i64 = 12 * 3600 * 1000;
/// A session ends this long after sign-in however much it is used (7 days).
pub const SESSION_MAX_MS: i64 = 7 * 24 * 3600 * 1000;
/// The shortest password accepted, in characters.
pub const MIN_PASSWORD_CHARS: usize = 12;
/// The longest password accepted, in characters (Argon2 reads all of it).
pub const MAX_PASSWORD_CHARS: usize = 200;
/// Failed sign-ins one name may have at once, then one a minute.
pub const LOGIN_FAILURES_PER_NAME: u32 = 5;

/// What a user may do. Sales use the inbox, the lead and person pages, give feedback and
/// change owners; admins also manage forms, the quarantine, exports, erasures, users and the
/// audit log. An admin can do everything sales can (`Admin > Sales`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Role {
    /// A sales rep.
    Sales,
    /// An administrator.
    Admin,
}

impl Role {
    /// The role's name as stored: `sales` or `admin`.
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Sales => "sales",
            Role::Admin => "admin",
        }
    }

    /// The role a stored name stands for.
    pub fn parse(name: &str) -> Option<Role> {
        match name {
            "sales" => Some(Role::Sales),
            "admin" => Some(Role::Admin),
            _ => None,
        }
    }
}

/// Who makes a request.
#[derive(Debug, Clone)]
pub(crate) struct Who {
    /// A user's name, or the Basic user name given with the admin token (default `admin`).
    pub name: String,
    /// What they may do (the admin token is an admin).
    pub role: Role,
    /// For a signed-in user, their session: the hash of its id and its CSRF token. `None`
    /// for the admin token in an `Authorization` header.
    session: Option<(String, String)>,
}

impl Who {
    /// Whether this is a person signed in (a session), not a program with the admin token.
    pub(crate) fn has_session(&self) -> bool {
        self.session.is_some()
    }
}

/// What the [`identify`] layer found.
#[derive(Debug, Clone, Default)]
enum Identity {
    /// No credentials, or a session that is unknown or over.
    #[default]
    Nobody,
    /// An `Authorization` header with the wrong token.
    WrongToken,
    /// An `Authorization` header while no admin token is configured.
    NoToken,
    /// Someone known.
    Known(Who),
}

/// What the layer keeps for a request.
#[derive(Debug, Clone, Default)]
struct Current {
    identity: Identity,
    /// The `csrf` field of a form-encoded post.
    posted_csrf: Option<String>,
}

tokio::task_local! {
    static CURRENT: Current;
}

fn current() -> Current {
    CURRENT.try_with(Clone::clone).unwrap_or_default()
}

/// The signed-in user of this request, if it is a person with a session.
pub(crate) fn signed_in() -> Option<Who> {
    match current().identity {
        Identity::Known(who) if who.session.is_some() => Some(who),
        _ => None,
    }
}

/// The name of who makes this request, if anyone known does.
pub(crate) fn current_name() -> Option<String> {
    match current().identity {
        Identity::Known(who) => Some(who.name),
        _ => None,
    }
}

/// Milliseconds since the epoch.
fn now_ms() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
}

/// 32 bytes from the operating system's random source, as hex.
fn random_token() -> Result<String, AppError> {
    let mut bytes = [0u8; 32];
    getrandom::getrandom(&mut bytes)
        .map_err(|err| AppError::Internal(format!("no random source: {err}")))?;
    Ok(bytes.iter().map(|b| format!("{b:02x}")).collect())
}

/// The SHA-256 of a session id, as hex: what the database keeps instead of the id.
fn session_hash(id: &str) -> String {
    use sha2::Digest as _;
    sha2::Sha256::digest(id.as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// Hashes a password with Argon2id (default parameters, a random salt) as a PHC string.
/// Slow on purpose: run it off the async threads.
///
/// # Errors
/// When the operating system gives no random bytes.
pub fn hash_password(password: &str) -> Result<String, String> {
    use argon2::password_hash::{PasswordHasher as _, SaltString};
    let mut salt = [0u8; 16];
    getrandom::getrandom(&mut salt).map_err(|err| format!("no random source: {err}"))?;
    let salt = SaltString::encode_b64(&salt).map_err(|err| err.to_string())?;
    argon2::Argon2::default()
        .hash_password(password.as_bytes(), &salt)
        .map(|hash| hash.to_string())
        .map_err(|err| err.to_string())
}

/// Whether `password` matches a PHC string made by [`hash_password`].
pub fn verify_password(hash: &str, password: &str) -> bool {
    use argon2::password_hash::{PasswordHash, PasswordVerifier as _};
    PasswordHash::new(hash).is_ok_and(|parsed| {
        argon2::Argon2::default()
            .verify_password(password.as_bytes(), &parsed)
            .is_ok()
    })
}

/// A hash checked when no user has the name given, so a wrong name takes as long to refuse
/// as a wrong password (the answer's time tells nothing about which names exist).
const DUMMY_HASH: &str =
    "$argon2id$v=19$m=19456,t=2,p=1$YmFudGFtLWR1bW15LXNhbHQ$2b9Fp0zDpkgvlhc0KsrOqwWZXJ0nh6l6hODm/N8zqTQ";

/// Runs Argon2 on the blocking threads.
async fn blocking<T: Send + 'static>(
    f: impl FnOnce() -> T + Send + 'static,
) -> Result<T, AppError> {
    tokio::task::spawn_blocking(f)
        .await
        .map_err(|err| AppError::Internal(format!("password hashing failed: {err}")))
}

/// What is wrong with a new password, if anything, in words.
pub fn password_problem(password: &str, repeat: &str) -> Option<String> {
    let chars = password.chars().count();
    if chars < MIN_PASSWORD_CHARS {
        return Some(format!(
            "The password is too short: it has {chars} characters and needs at least {MIN_PASSWORD_CHARS}."
        ));
    }
    if chars > MAX_PASSWORD_CHARS {
        return Some(format!(
            "The password is too long: it has {chars} characters and may have at most {MAX_PASSWORD_CHARS}."
        ));
    }
    if password.trim().is_empty() {
        return Some("The password cannot be only spaces.".into());
    }
    if password != repeat {
        return Some("The two passwords differ: type the same password twice.".into());
    }
    None
}

/// What is wrong with a new user name, if anything, in words.
pub fn name_problem(name: &str) -> Option<String> {
    let chars = name.chars().count();
    if chars == 0 {
        return Some("The name is missing.".into());
    }
    if chars > 64 {
        return Some(format!(
            "The name is too long: it has {chars} characters and may have at most 64."
        ));
    }
    if let Some(c) = name
        .chars()
        .find(|c| !(c.is_alphanumeric() || matches!(c, ' ' | '.' | '_' | '-' | '@' | '\'')))
    {
        return Some(format!(
            "The name cannot hold “{c}”: use letters, digits, spaces and . _ - @ '"
        ));
    }
    None
}

/// The admin token of `Authorization: Bearer <token>` or of Basic auth (as its password).
fn token_given(headers: &HeaderMap) -> Option<(Option<String>, String)> {
    let value = headers.get(header::AUTHORIZATION)?.to_str().ok()?;
    if let Some(bearer) = value.strip_prefix("Bearer ") {
        return Some((None, bearer.to_owned()));
    }
    let decoded = crate::base64_decode(value.strip_prefix("Basic ")?)?;
    let text = String::from_utf8(decoded).ok()?;
    let (user, password) = text.split_once(':')?;
    let user = user.trim();
    Some((
        (!user.is_empty()).then(|| user.chars().take(64).collect()),
        password.to_owned(),
    ))
}

/// The session cookie's value, if the request has one.
fn session_cookie(headers: &HeaderMap) -> Option<String> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(name, _)| *name == SESSION_COOKIE)
        .map(|(_, value)| value.to_owned())
        .filter(|value| value.len() == 64 && value.bytes().all(|b| b.is_ascii_hexdigit()))
}

async fn identity_of(state: &AppState, headers: &HeaderMap) -> Result<Identity, AppError> {
    if headers.contains_key(header::AUTHORIZATION) {
        let Some(token) = &state.settings.admin_token else {
            return Ok(Identity::NoToken);
        };
        return Ok(match token_given(headers) {
            Some((user, given)) if crate::same_secret(&given, token) => Identity::Known(Who {
                name: user.unwrap_or_else(|| "admin".into()),
                role: Role::Admin,
                session: None,
            }),
            _ => Identity::WrongToken,
        });
    }
    let Some(id) = session_cookie(headers) else {
        return Ok(Identity::Nobody);
    };
    let hash = session_hash(&id);
    let Some(record) = state.store.session(&hash).await? else {
        return Ok(Identity::Nobody);
    };
    let now = now_ms();
    let role = Role::parse(&record.user.role);
    let over = now - record.seen_ms > SESSION_IDLE_MS || now - record.created_ms > SESSION_MAX_MS;
    let (Some(role), false, None) = (role, over, &record.user.disabled_at) else {
        state.store.drop_session(&hash).await?;
        return Ok(Identity::Nobody);
    };
    if now - record.seen_ms > 60_000 {
        state.store.touch_session(&hash, now).await?;
    }
    Ok(Identity::Known(Who {
        name: record.user.name,
        role,
        session: Some((hash, record.csrf)),
    }))
}

fn is_form_post(request: &Request) -> bool {
    request.method() == Method::POST
        && request
            .headers()
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| v.starts_with("application/x-www-form-urlencoded"))
}

/// A response that asks for a sign-in; the [`identify`] layer points it at the login page
/// with the page asked for.
#[derive(Debug, Clone, Copy)]
struct SignInNeeded;

/// Works out who makes each request to the inbox or the API (not a lead post: that is
/// anyone's), keeps it for the handlers, and reads the `csrf` field of form-encoded posts.
/// A page that needs a sign-in is sent to `/inbox/login?next=<the page>`.
pub(crate) async fn identify(
    State(state): State<AppState>,
    request: Request,
    next: Next,
) -> Response {
    let path = request.uri().path();
    let lead_post = path == "/v1/leads" && request.method() != Method::GET;
    if !(path.starts_with("/inbox") || path.starts_with("/v1/")) || lead_post {
        return next.run(request).await;
    }
    let identity = match identity_of(&state, request.headers()).await {
        Ok(identity) => identity,
        Err(err) => return err.into_response(),
    };
    let wanted = request
        .uri()
        .path_and_query()
        .map_or("/inbox".to_owned(), |p| p.as_str().to_owned());
    let is_get = request.method() == Method::GET;
    let (request, posted_csrf) = if is_form_post(&request) {
        let (parts, body) = request.into_parts();
        let Ok(bytes) = axum::body::to_bytes(body, MAX_BODY_BYTES).await else {
            return AppError::bad(
                StatusCode::PAYLOAD_TOO_LARGE,
                format!("the form could not be read: at most {MAX_BODY_BYTES} bytes"),
                None,
            )
            .into_response();
        };
        let csrf = form_fields(&String::from_utf8_lossy(&bytes))
            .into_iter()
            .find(|(k, _)| k == "csrf")
            .map(|(_, v)| v);
        (Request::from_parts(parts, Body::from(bytes)), csrf)
    } else {
        (request, None)
    };
    let current = Current {
        identity,
        posted_csrf,
    };
    let mut response = CURRENT.scope(current, next.run(request)).await;
    if response.extensions().get::<SignInNeeded>().is_some() {
        let target = if is_get {
            format!("/inbox/login?next={}", encode(&wanted))
        } else {
            "/inbox/login".to_owned()
        };
        if let Ok(value) = HeaderValue::from_str(&target) {
            response.headers_mut().insert(header::LOCATION, value);
        }
    }
    response
}

/// The answer to a page that needs a sign-in: 303 to the login page.
pub(crate) fn sign_in_response() -> Response {
    let mut response = (
        StatusCode::SEE_OTHER,
        [
            (header::LOCATION, "/inbox/login"),
            (header::CACHE_CONTROL, "no-store"),
        ],
    )
        .into_response();
    response.extensions_mut().insert(SignInNeeded);
    response
}

/// Who makes this request, if they may do what needs `role`. For a page (`page`), someone
/// not signed in is sent to the login page, and a user without the role gets a readable 403
/// page; for the API, a JSON 401 or 403.
///
/// # Errors
/// As above; and 403 when credentials are given but no admin token is configured.
pub(crate) fn require(settings: &Settings, role: Role, page: bool) -> Result<Who, AppError> {
    match current().identity {
        Identity::Known(who) if who.role >= role => Ok(who),
        Identity::Known(who) => {
            let message = format!(
                "This is for admins: you are signed in as {} ({}). Ask an admin if you need it.",
                who.name,
                who.role.as_str()
            );
            Err(if page {
                AppError::Page {
                    status: StatusCode::FORBIDDEN,
                    title: "Admins only".into(),
                    message,
                }
            } else {
                AppError::bad(StatusCode::FORBIDDEN, message, None)
            })
        }
        Identity::Nobody if page => Err(AppError::SignIn),
        Identity::NoToken | Identity::Nobody if settings.admin_token.is_none() => {
            Err(AppError::bad(
                StatusCode::FORBIDDEN,
                "reading leads is disabled: start the collector with --admin-token (or BANTAM_ADMIN_TOKEN), or sign in at /inbox/login",
                None,
            ))
        }
        _ => Err(AppError::Unauthorized),
    }
}

/// Whether the request comes from a page of this very origin: its `Origin` names this host
/// (browsers send it with every post), and `Sec-Fetch-Site`, when the browser sends it, says
/// `same-origin`.
pub(crate) fn same_origin(headers: &HeaderMap) -> bool {
    let host = headers
        .get(header::HOST)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    let origin_ok = headers
        .get(header::ORIGIN)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|o| {
            o.split_once("://")
                .is_some_and(|(_, a)| a.eq_ignore_ascii_case(host))
        });
    let fetch_site_ok = headers
        .get("sec-fetch-site")
        .and_then(|v| v.to_str().ok())
        .is_none_or(|v| v == "same-origin");
    origin_ok && fetch_site_ok
}

/// The refusal of a change whose CSRF token is missing or wrong.
fn csrf_refused(page: bool) -> AppError {
    let message = "This change was refused: it did not carry this session's security token. Go back, reload the page and try again (a page left open from before the last sign-in has an old token).";
    if page {
        AppError::Page {
            status: StatusCode::FORBIDDEN,
            title: "Change refused".into(),
            message: message.into(),
        }
    } else {
        AppError::bad(StatusCode::FORBIDDEN, message, Some("X-CSRF-Token"))
    }
}

/// The session's checks of a change: posted from this origin, with the session's CSRF token
/// (the form's `csrf` field, or the `X-CSRF-Token` header of a script's fetch). A program
/// with the admin token in its `Authorization` header (no session) needs no token.
pub(crate) fn check_change(who: &Who, headers: &HeaderMap, page: bool) -> Result<(), AppError> {
    let Some((_, csrf)) = &who.session else {
        return Ok(());
    };
    if !same_origin(headers) {
        return Err(if page {
            AppError::Page {
                status: StatusCode::FORBIDDEN,
                title: "Change refused".into(),
                message:
                    "Changes must come from Bantam's own pages: this one came from another site."
                        .into(),
            }
        } else {
            AppError::bad(
                StatusCode::FORBIDDEN,
                "changes must come from the inbox itself",
                None,
            )
        });
    }
    let given = if page {
        current().posted_csrf
    } else {
        headers
            .get("x-csrf-token")
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned)
    };
    if given.is_some_and(|given| crate::same_secret(&given, csrf)) {
        Ok(())
    } else {
        Err(csrf_refused(page))
    }
}

/// The hidden CSRF field every POST form of the inbox carries (empty when no one is signed
/// in): put `{csrf_field()}` inside the `<form>`.
pub(crate) fn csrf_field() -> String {
    signed_in()
        .and_then(|who| who.session)
        .map(|(_, csrf)| {
            format!(
                "<input type=\"hidden\" name=\"csrf\" value=\"{}\">",
                escape(&csrf)
            )
        })
        .unwrap_or_default()
}

/// The `<meta name="csrf-token">` a page's scripts read for their `X-CSRF-Token` header.
pub(crate) fn csrf_meta() -> String {
    signed_in()
        .and_then(|who| who.session)
        .map(|(_, csrf)| format!("<meta name=\"csrf-token\" content=\"{}\">", escape(&csrf)))
        .unwrap_or_default()
}

/// The bar at the top of every inbox page: who is signed in, their pages, and Sign out.
pub(crate) fn account_bar() -> String {
    let Some(who) = signed_in() else {
        return String::new();
    };
    let admin = if who.role == Role::Admin {
        " · <a href=\"/inbox/users\">Users</a> · <a href=\"/inbox/audit\">Audit log</a>"
    } else {
        ""
    };
    // "My people": the people whose owner is this user's name (the names the routes file's
    // `owners` and the person page's owner field give).
    format!(
        "<nav class=\"account\" aria-label=\"Account\"><span>Signed in as <strong>{}</strong> ({}) · <a href=\"/inbox?owner={}\">My people</a>{admin}</span><form method=\"post\" action=\"/inbox/logout\">{}<button>Sign out</button></form></nav>",
        escape(&who.name),
        who.role.as_str(),
        encode(&who.name),
        csrf_field()
    )
}

/// Records an entry in the audit log. A failure to record is logged, not answered: the
/// change it describes is done by then.
pub(crate) async fn audit(state: &AppState, who: &str, action: &str, subject: &str, detail: &str) {
    let entry = AuditEntry {
        id: 0,
        at: time::now_rfc3339(),
        who: who.chars().take(64).collect(),
        action: action.to_owned(),
        subject: subject.chars().take(300).collect(),
        detail: detail.chars().take(1000).collect(),
    };
    if let Err(err) = state.store.audit(&entry).await {
        eprintln!("bantam-collector: could not record {action} of {subject} by {who} in the audit log: {err}");
    }
}

/// Where to go after signing in: a page of the inbox, never another site.
fn safe_next(next: &str) -> String {
    if next.starts_with("/inbox") && !next.starts_with("/inbox/login") && !next.contains('\\') {
        next.to_owned()
    } else {
        "/inbox".to_owned()
    }
}

/// Whether the cookie may be `Secure`: the request came over HTTPS (as a reverse proxy says),
/// or to this machine, where browsers keep Secure cookies over plain HTTP too.
fn secure_cookie(headers: &HeaderMap) -> bool {
    let https = headers
        .get("x-forwarded-proto")
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.eq_ignore_ascii_case("https"));
    let host = headers
        .get(header::HOST)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    let name = match host.rsplit_once(':') {
        Some((name, port)) if port.bytes().all(|b| b.is_ascii_digit()) => name,
        _ => host,
    };
    let local = name.eq_ignore_ascii_case("localhost")
        || name.ends_with(".localhost")
        || name
            .trim_start_matches('[')
            .trim_end_matches(']')
            .parse::<IpAddr>()
            .is_ok_and(|ip| ip.is_loopback());
    https || local
}

fn session_cookie_header(value: &str, max_age_s: i64, secure: bool) -> String {
    format!(
        "{SESSION_COOKIE}={value}; Path=/; HttpOnly; SameSite=Lax; Max-Age={max_age_s}{}",
        if secure { "; Secure" } else { "" }
    )
}

/// Begins a session for `user`: stored by its hash, answered with the cookie and a 303 to
/// `next`.
async fn start_session(
    state: &AppState,
    headers: &HeaderMap,
    user: &User,
    next: &str,
    ip: IpAddr,
) -> Result<Response, AppError> {
    let id = random_token()?;
    let csrf = random_token()?;
    let now = now_ms();
    // Sessions that ended without a sign-out go when anyone signs in.
    state
        .store
        .drop_old_sessions(now - SESSION_IDLE_MS, now - SESSION_MAX_MS)
        .await?;
    state
        .store
        .add_session(&session_hash(&id), user.id, &csrf, now)
        .await?;
    audit(
        state,
        &user.name,
        "login",
        &user.name,
        &format!("from {ip}"),
    )
    .await;
    let cookie = session_cookie_header(&id, SESSION_MAX_MS / 1000, secure_cookie(headers));
    Ok((
        StatusCode::SEE_OTHER,
        [
            (header::SET_COOKIE, cookie),
            (header::LOCATION, safe_next(next)),
            (header::CACHE_CONTROL, "no-store".into()),
        ],
    )
        .into_response())
}

/// Query of `GET /inbox/login`.
#[derive(Debug, Default, Deserialize)]
pub(crate) struct LoginQuery {
    next: Option<String>,
}

/// One field with its label, its error (marked invalid and described) and its attributes.
fn field(label: &str, name: &str, kind: &str, attrs: &str, value: &str, error: bool) -> String {
    let invalid = if error {
        " aria-invalid=\"true\" aria-describedby=\"form-error\""
    } else {
        ""
    };
    format!(
        "<label>{label}<input type=\"{kind}\" name=\"{name}\" value=\"{}\"{attrs}{invalid}></label>",
        escape(value)
    )
}

fn error_box(message: Option<&str>) -> String {
    message
        .map(|m| {
            format!(
                "<p class=\"error\" id=\"form-error\" role=\"alert\">{}</p>",
                escape(m)
            )
        })
        .unwrap_or_default()
}

/// Which field an error is about.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Culprit {
    None,
    Token,
    Name,
    Password,
    Both,
}

/// The login page: a name and password, or, while no user exists, the set-up of the first
/// admin with the admin token.
fn login_page(
    status: StatusCode,
    setup: bool,
    next: &str,
    name: &str,
    error: Option<&str>,
    culprit: Culprit,
) -> Response {
    let next_field = format!(
        "<input type=\"hidden\" name=\"next\" value=\"{}\">",
        escape(&safe_next(next))
    );
    let bad = |c: Culprit| error.is_some() && (culprit == c || culprit == Culprit::Both);
    let body = if setup {
        format!(
            "<header><h1>Set up Bantam</h1></header><main><div class=\"card\"><p>No one can sign in yet. Enter the admin token the collector was started with (<code>--admin-token</code> or <code>BANTAM_ADMIN_TOKEN</code>), then choose the first admin's name and password.</p>{}<form class=\"stack\" method=\"post\" action=\"/inbox/login\">{next_field}{}{}{}{}<button>Create the first admin and sign in</button></form></div></main>",
            error_box(error),
            field("Admin token", "token", "password", " required autocomplete=\"off\"", "", bad(Culprit::Token)),
            field("Your name", "name", "text", " required maxlength=\"64\" autocomplete=\"username\"", name, bad(Culprit::Name)),
            field(&format!("Password (at least {MIN_PASSWORD_CHARS} characters)"), "password", "password", &format!(" required minlength=\"{MIN_PASSWORD_CHARS}\" autocomplete=\"new-password\""), "", bad(Culprit::Password)),
            field("Password again", "repeat", "password", " required autocomplete=\"new-password\"", "", bad(Culprit::Password)),
        )
    } else {
        format!(
            "<header><h1>Sign in to Bantam</h1></header><main><div class=\"card\">{}<form class=\"stack\" method=\"post\" action=\"/inbox/login\">{next_field}{}{}<button>Sign in</button></form><p class=\"note\">Forgot your password? An admin can set a new one on the Users page.</p></div></main>",
            error_box(error),
            field("Name", "name", "text", " required autocomplete=\"username\"", name, bad(Culprit::Name)),
            field("Password", "password", "password", " required autocomplete=\"current-password\"", "", bad(Culprit::Password)),
        )
    };
    page_with_status(
        status,
        if setup {
            "Set up Bantam"
        } else {
            "Sign in to Bantam"
        },
        &body,
    )
}

/// `GET /inbox/login`: the login page (or the first admin's set-up); someone signed in goes on
/// to where they were going.
pub(crate) async fn login_form(
    State(state): State<AppState>,
    query: Result<Query<LoginQuery>, axum::extract::rejection::QueryRejection>,
) -> Result<Response, AppError> {
    let next = query.ok().and_then(|q| q.0.next).unwrap_or_default();
    if signed_in().is_some() {
        return Ok((
            StatusCode::SEE_OTHER,
            [(header::LOCATION, safe_next(&next))],
        )
            .into_response());
    }
    let setup = state.store.user_count().await? == 0;
    Ok(login_page(
        StatusCode::OK,
        setup,
        &next,
        "",
        None,
        Culprit::None,
    ))
}

/// `POST /inbox/login`: signs in with a name and password; while no user exists, takes the
/// admin token and creates the first admin. Failed attempts count per name and per address:
/// past a few, the form answers 429 without checking anything.
pub(crate) async fn login(
    State(state): State<AppState>,
    headers: HeaderMap,
    request: Request,
) -> Result<Response, AppError> {
    let ip = crate::client_ip(&state, &request);
    let body = axum::body::to_bytes(request.into_body(), MAX_BODY_BYTES)
        .await
        .map_err(|_| AppError::bad(StatusCode::PAYLOAD_TOO_LARGE, "the form is too large", None))?;
    let fields = form_fields(&String::from_utf8_lossy(&body));
    let (name, password, next) = (
        form_field(&fields, "name"),
        fields
            .iter()
            .find(|(k, _)| k == "password")
            .map(|(_, v)| v.clone())
            .unwrap_or_default(),
        form_field(&fields, "next"),
    );
    if headers.contains_key(header::ORIGIN) && !same_origin(&headers) {
        return Err(AppError::Page {
            status: StatusCode::FORBIDDEN,
            title: "Sign-in refused".into(),
            message: "Sign in on Bantam's own login page: this form came from another site.".into(),
        });
    }
    let setup = state.store.user_count().await? == 0;
    let key = name.to_lowercase();
    let throttled = state
        .login_failures
        .peek(&key)
        .and(state.wrong_credentials.peek(ip));
    if let Err(seconds) = throttled {
        let mut response = login_page(
            StatusCode::TOO_MANY_REQUESTS,
            setup,
            &next,
            &name,
            Some(&format!("Too many failed sign-ins for this name or from this address: wait {seconds} seconds, then try again.")),
            Culprit::None,
        );
        response
            .headers_mut()
            .insert(header::RETRY_AFTER, HeaderValue::from(seconds));
        return Ok(response);
    }
    let failed = |culprit: Culprit, message: String| {
        let _ = state.login_failures.check(&key);
        let _ = state.wrong_credentials.check(ip);
        login_page(
            StatusCode::UNAUTHORIZED,
            setup,
            &next,
            &name,
            Some(&message),
            culprit,
        )
    };
    if setup {
        let token = form_field(&fields, "token");
        let right = state
            .settings
            .admin_token
            .as_deref()
            .is_some_and(|t| crate::same_secret(&token, t));
        if !right {
            audit(
                &state,
                &name,
                "login.failed",
                &name,
                &format!("wrong admin token at set-up, from {ip}"),
            )
            .await;
            let message = if state.settings.admin_token.is_none() {
                "No admin token is configured: start the collector with --admin-token (or BANTAM_ADMIN_TOKEN) to set up the first admin."
            } else {
                "The admin token is wrong."
            };
            return Ok(failed(Culprit::Token, message.into()));
        }
        if let Some(problem) = name_problem(&name) {
            return Ok(login_page(
                StatusCode::UNPROCESSABLE_ENTITY,
                true,
                &next,
                &name,
                Some(&problem),
                Culprit::Name,
            ));
        }
        let repeat = fields
            .iter()
            .find(|(k, _)| k == "repeat")
            .map(|(_, v)| v.clone())
            .unwrap_or_default();
        if let Some(problem) = password_problem(&password, &repeat) {
            return Ok(login_page(
                StatusCode::UNPROCESSABLE_ENTITY,
                true,
                &next,
                &name,
                Some(&problem),
                Culprit::Password,
            ));
        }
        let hash = blocking(move || hash_password(&password))
            .await?
            .map_err(AppError::Internal)?;
        let user = User {
            id: 0,
            name: name.clone(),
            role: Role::Admin.as_str().into(),
            password_hash: hash,
            created_at: time::now_rfc3339(),
            disabled_at: None,
        };
        if !state.store.add_user(&user, true).await? {
            return Ok(login_page(StatusCode::CONFLICT, false, &next, &name, Some("Someone set up the first admin a moment ago: sign in with a user an admin created."), Culprit::None));
        }
        audit(
            &state,
            &name,
            "user.create",
            &name,
            "admin; the first admin, set up with the admin token",
        )
        .await;
        let user = state
            .store
            .user(&name)
            .await?
            .ok_or_else(|| AppError::Internal("the first admin vanished".into()))?;
        return start_session(&state, &headers, &user, &next, ip).await;
    }
    let user = state.store.user(&name).await?;
    let hash = user
        .as_ref()
        .filter(|u| u.disabled_at.is_none())
        .map_or(DUMMY_HASH.to_owned(), |u| u.password_hash.clone());
    let right = blocking(move || verify_password(&hash, &password)).await?;
    match user {
        Some(user) if right && user.disabled_at.is_none() => {
            start_session(&state, &headers, &user, &next, ip).await
        }
        _ => {
            audit(
                &state,
                &name,
                "login.failed",
                &name,
                &format!("wrong name or password, from {ip}"),
            )
            .await;
            Ok(failed(
                Culprit::Both,
                "The name or the password is wrong.".into(),
            ))
        }
    }
}

/// `POST /inbox/logout`: ends the session and forgets the cookie.
pub(crate) async fn logout(
    State(state): State<AppState>,
    headers: HeaderMap,
) -> Result<Response, AppError> {
    let who = crate::inbox::change_from_inbox(&state, &headers, Role::Sales)?;
    if let Some((hash, _)) = &who.session {
        state.store.drop_session(hash).await?;
        audit(&state, &who.name, "logout", &who.name, "").await;
    }
    Ok((
        StatusCode::SEE_OTHER,
        [
            (
                header::SET_COOKIE,
                session_cookie_header("", 0, secure_cookie(&headers)),
            ),
            (header::LOCATION, "/inbox/login".into()),
        ],
    )
        .into_response())
}

/// What the Add a user form held when it was refused, and the field at fault.
#[derive(Debug, Clone, Copy)]
struct Added<'a> {
    name: &'a str,
    admin: bool,
    culprit: Culprit,
}

const NOTHING_ADDED: Added<'static> = Added {
    name: "",
    admin: false,
    culprit: Culprit::None,
};

/// The users page: every user with their actions, and the form to add one. `error` is shown
/// at the form it is about (`add`, or a user's name).
async fn users_page(
    state: &AppState,
    status: StatusCode,
    error: Option<(&str, &str)>,
    added: Added<'_>,
) -> Result<Response, AppError> {
    let users = state.store.users().await?;
    let me = signed_in().map(|w| w.name.to_lowercase());
    let mut body = String::from("<header><h1>Users</h1><p><a href=\"/inbox\">Inbox</a> · <a href=\"/inbox/audit\">Audit log</a></p></header><main>");
    let error_for = |at: &str| {
        error
            .filter(|(on, _)| on.eq_ignore_ascii_case(at))
            .map(|(_, m)| m)
    };
    let _ = write!(
        body,
        "<section aria-labelledby=\"add\"><h2 id=\"add\">Add a user</h2>{}<form class=\"filters\" method=\"post\" action=\"/inbox/users\">{}{}<label>Role<select name=\"role\" aria-describedby=\"roles\"><option value=\"sales\"{}>sales</option><option value=\"admin\"{}>admin</option></select></label>{}<div class=\"actions\"><button>Add user</button></div></form><p class=\"note\" id=\"roles\">Sales use the inbox, a lead's and a person's pages and give feedback. Admins also manage forms, the quarantine, exports and erasures, users and the audit log.</p></section>",
        error_box(error_for("add")),
        csrf_field(),
        field("Name", "name", "text", " required maxlength=\"64\" autocomplete=\"off\"", added.name, error_for("add").is_some() && added.culprit == Culprit::Name),
        if added.admin { "" } else { " selected" },
        if added.admin { " selected" } else { "" },
        field(&format!("Initial password (at least {MIN_PASSWORD_CHARS} characters)"), "password", "password", &format!(" required minlength=\"{MIN_PASSWORD_CHARS}\" autocomplete=\"new-password\""), "", error_for("add").is_some() && added.culprit == Culprit::Password),
    );
    body.push_str("<section aria-labelledby=\"all\"><h2 id=\"all\">Everyone</h2><table class=\"cards\"><thead><tr><th scope=\"col\">Name</th><th scope=\"col\">Role</th><th scope=\"col\">Created</th><th scope=\"col\">State</th><th scope=\"col\">Actions</th></tr></thead><tbody>");
    for user in &users {
        let path = format!("/inbox/users/{}", encode(&user.name));
        let myself = me.as_deref() == Some(user.name.to_lowercase().as_str());
        let state_text = match &user.disabled_at {
            Some(at) => format!("disabled {}", when(at)),
            None => "active".into(),
        };
        let toggle = if myself {
            "<span class=\"note\">(you)</span>".to_owned()
        } else {
            let (value, label) = if user.disabled_at.is_some() {
                ("no", "Enable")
            } else {
                ("yes", "Disable")
            };
            format!(
                "<form method=\"post\" action=\"{path}/disable\">{}<input type=\"hidden\" name=\"disabled\" value=\"{value}\"><button aria-label=\"{label} {}\">{label}</button></form>",
                csrf_field(),
                escape(&user.name)
            )
        };
        let message = error_for(&user.name);
        let _ = write!(
            body,
            "<tr><td data-label=\"Name\">{}</td><td data-label=\"Role\">{}</td><td data-label=\"Created\">{}</td><td data-label=\"State\">{state_text}</td><td data-label=\"Actions\"><div class=\"actions-row\">{toggle}<form method=\"post\" action=\"{path}/password\" class=\"actions-row\">{}{}<label>New password for {}<input type=\"password\" name=\"password\" required minlength=\"{MIN_PASSWORD_CHARS}\" autocomplete=\"new-password\"{}></label><button>Set password</button></form></div></td></tr>",
            escape(&user.name),
            escape(&user.role),
            when(&user.created_at),
            csrf_field(),
            message
                .map(|m| format!("<p class=\"error\" id=\"error-{0}\" role=\"alert\">{1}</p>", encode(&user.name), escape(m)))
                .unwrap_or_default(),
            escape(&user.name),
            if message.is_some() {
                format!(" aria-invalid=\"true\" aria-describedby=\"error-{}\"", encode(&user.name))
            } else {
                String::new()
            },
        );
    }
    body.push_str("</tbody></table><p class=\"note\">A disabled user cannot sign in and their sessions end at once; their name stays in the audit log. Setting a password ends the user's sessions.</p></section></main>");
    Ok(page_with_status(status, "Users", &body))
}

/// `GET /inbox/users` (admins).
pub(crate) async fn users_list(State(state): State<AppState>) -> Result<Response, AppError> {
    require(&state.settings, Role::Admin, true)?;
    users_page(&state, StatusCode::OK, None, NOTHING_ADDED).await
}

/// `POST /inbox/users` (admins): adds a user with a name, a role and an initial password.
pub(crate) async fn add_user(
    State(state): State<AppState>,
    headers: HeaderMap,
    body: String,
) -> Result<Response, AppError> {
    let who = crate::inbox::change_from_inbox(&state, &headers, Role::Admin)?;
    let fields = form_fields(&body);
    let name = form_field(&fields, "name");
    let password = fields
        .iter()
        .find(|(k, _)| k == "password")
        .map(|(_, v)| v.clone())
        .unwrap_or_default();
    let Some(role) = Role::parse(&form_field(&fields, "role")) else {
        return users_page(
            &state,
            StatusCode::UNPROCESSABLE_ENTITY,
            Some(("add", "The role must be sales or admin.")),
            Added {
                name: &name,
                ..NOTHING_ADDED
            },
        )
        .await;
    };
    let added = |culprit| Added {
        name: &name,
        admin: role == Role::Admin,
        culprit,
    };
    let problem = name_problem(&name)
        .map(|p| (p, Culprit::Name))
        .or_else(|| password_problem(&password, &password).map(|p| (p, Culprit::Password)));
    if let Some((problem, culprit)) = problem {
        return users_page(
            &state,
            StatusCode::UNPROCESSABLE_ENTITY,
            Some(("add", &problem)),
            added(culprit),
        )
        .await;
    }
    let hash = blocking(move || hash_password(&password))
        .await?
        .map_err(AppError::Internal)?;
    let user = User {
        id: 0,
        name: name.clone(),
        role: role.as_str().into(),
        password_hash: hash,
        created_at: time::now_rfc3339(),
        disabled_at: None,
    };
    if !state.store.add_user(&user, false).await? {
        let message = format!(
            "There is a user called {name} already (names are compared without regard to case)."
        );
        return users_page(
            &state,
            StatusCode::CONFLICT,
            Some(("add", &message)),
            added(Culprit::Name),
        )
        .await;
    }
    audit(&state, &who.name, "user.create", &name, role.as_str()).await;
    Ok((StatusCode::SEE_OTHER, [(header::LOCATION, "/inbox/users")]).into_response())
}

/// `POST /inbox/users/{name}/password` (admins): sets a new password, ending the user's
/// sessions.
pub(crate) async fn reset_password(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(name): Path<String>,
    body: String,
) -> Result<Response, AppError> {
    let who = crate::inbox::change_from_inbox(&state, &headers, Role::Admin)?;
    let fields = form_fields(&body);
    let password = fields
        .iter()
        .find(|(k, _)| k == "password")
        .map(|(_, v)| v.clone())
        .unwrap_or_default();
    if let Some(problem) = password_problem(&password, &password) {
        return users_page(
            &state,
            StatusCode::UNPROCESSABLE_ENTITY,
            Some((&name, &problem)),
            NOTHING_ADDED,
        )
        .await;
    }
    let hash = blocking(move || hash_password(&password))
        .await?
        .map_err(AppError::Internal)?;
    if !state.store.set_password(&name, &hash).await? {
        return Err(no_user(&name));
    }
    audit(
        &state,
        &who.name,
        "user.password",
        &name,
        "password set; sessions ended",
    )
    .await;
    Ok((StatusCode::SEE_OTHER, [(header::LOCATION, "/inbox/users")]).into_response())
}

fn no_user(name: &str) -> AppError {
    AppError::Page {
        status: StatusCode::NOT_FOUND,
        title: "No such user".into(),
        message: format!("There is no user called {name}."),
    }
}

/// `POST /inbox/users/{name}/disable` (admins): `disabled=yes` disables a user (ending their
/// sessions), `disabled=no` enables them again. No one disables themselves.
pub(crate) async fn disable_user(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(name): Path<String>,
    body: String,
) -> Result<Response, AppError> {
    let who = crate::inbox::change_from_inbox(&state, &headers, Role::Admin)?;
    let disable = form_field(&form_fields(&body), "disabled") != "no";
    if disable && who.name.eq_ignore_ascii_case(&name) {
        return users_page(
            &state,
            StatusCode::UNPROCESSABLE_ENTITY,
            Some((&name, "You cannot disable yourself: ask another admin.")),
            NOTHING_ADDED,
        )
        .await;
    }
    let at = time::now_rfc3339();
    if !state
        .store
        .set_disabled(&name, disable.then_some(at.as_str()))
        .await?
    {
        return Err(no_user(&name));
    }
    let action = if disable {
        "user.disable"
    } else {
        "user.enable"
    };
    audit(&state, &who.name, action, &name, "").await;
    Ok((StatusCode::SEE_OTHER, [(header::LOCATION, "/inbox/users")]).into_response())
}

/// Query of the audit log's page and API.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct AuditQuery {
    before: Option<i64>,
    limit: Option<u32>,
}

/// Entries an audit page shows.
const AUDIT_PAGE: u32 = 100;

/// `GET /inbox/audit` (admins): the audit log, newest first, a page at a time.
pub(crate) async fn audit_list(
    State(state): State<AppState>,
    query: Result<Query<AuditQuery>, axum::extract::rejection::QueryRejection>,
) -> Result<Response, AppError> {
    require(&state.settings, Role::Admin, true)?;
    let query = crate::read_query(query)?;
    let entries = state.store.audit_page(query.before, AUDIT_PAGE).await?;
    let mut body = String::from("<header><h1>Audit log</h1><p><a href=\"/inbox\">Inbox</a> · <a href=\"/inbox/users\">Users</a> · <a href=\"/v1/audit\">As JSON</a></p></header><main><section aria-labelledby=\"log\"><h2 id=\"log\">Newest first</h2>");
    if entries.is_empty() {
        body.push_str("<p>Nothing recorded yet.</p>");
    } else {
        body.push_str("<table class=\"cards\"><thead><tr><th scope=\"col\">When</th><th scope=\"col\">Who</th><th scope=\"col\">What</th><th scope=\"col\">Subject</th><th scope=\"col\">Detail</th></tr></thead><tbody>");
        for e in &entries {
            let _ = write!(
                body,
                "<tr><td data-label=\"When\">{}</td><td data-label=\"Who\">{}</td><td data-label=\"What\">{}</td><td data-label=\"Subject\">{}</td><td data-label=\"Detail\">{}</td></tr>",
                when(&e.at),
                escape(&e.who),
                escape(&e.action),
                escape(&e.subject),
                escape(&e.detail)
            );
        }
        body.push_str("</tbody></table>");
    }
    body.push_str("<nav class=\"pager\" aria-label=\"Pages\">");
    if query.before.is_some() {
        body.push_str("<a href=\"/inbox/audit\">Newest</a>");
    }
    if entries.len() == AUDIT_PAGE as usize {
        if let Some(last) = entries.last() {
            let _ = write!(
                body,
                "<a href=\"/inbox/audit?before={}\">Older</a>",
                last.id
            );
        }
    }
    body.push_str("</nav></section></main>");
    Ok(page_with_status(StatusCode::OK, "Audit log", &body))
}

/// `GET /v1/audit?before=&limit=` (admin token or an admin's session): `{entries, next}`,
/// newest first; `next` is the `before` of the following page, `null` at the end.
pub(crate) async fn audit_api(
    State(state): State<AppState>,
    query: Result<Query<AuditQuery>, axum::extract::rejection::QueryRejection>,
) -> Result<Response, AppError> {
    require(&state.settings, Role::Admin, false)?;
    let query = crate::read_query(query)?;
    let limit = query.limit.unwrap_or(100).clamp(1, 1000);
    let entries = state.store.audit_page(query.before, limit).await?;
    let next = (entries.len() == limit as usize)
        .then(|| entries.last().map(|e| e.id))
        .flatten();
    Ok(Json(json!({ "entries": entries, "next": next })).into_response())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn passwords_are_hashed_with_argon2id_and_verified() {
        let hash = hash_password("correct horse battery").unwrap();
        assert!(hash.starts_with("$argon2id$"), "{hash}");
        assert!(!hash.contains("correct horse"));
        assert!(verify_password(&hash, "correct horse battery"));
        assert!(!verify_password(&hash, "correct horse batterY"));
        assert_ne!(
            hash,
            hash_password("correct horse battery").unwrap(),
            "salted"
        );
        assert!(argon2::password_hash::PasswordHash::new(DUMMY_HASH).is_ok());
    }

    #[test]
    fn new_passwords_and_names_are_checked_precisely() {
        assert_eq!(
            password_problem("short", "short").as_deref(),
            Some("The password is too short: it has 5 characters and needs at least 12.")
        );
        assert!(password_problem("twelve chars", "twelve charS")
            .unwrap()
            .contains("differ"));
        assert!(password_problem(&"x".repeat(201), &"x".repeat(201))
            .unwrap()
            .contains("at most 200"));
        assert_eq!(password_problem("twelve chars", "twelve chars"), None);
        assert_eq!(name_problem("Ann O'Neil"), None);
        assert!(name_problem("").unwrap().contains("missing"));
        assert!(name_problem("a<b").unwrap().contains("“<”"));
    }

    #[test]
    fn only_the_inboxs_own_pages_are_gone_to_after_signing_in() {
        assert_eq!(safe_next("/inbox/leads/x?y=1"), "/inbox/leads/x?y=1");
        for bad in [
            "https://evil.example",
            "//evil.example",
            "/inbox/login",
            "",
            "/v1/leads",
        ] {
            assert_eq!(safe_next(bad), "/inbox", "{bad}");
        }
    }

    #[test]
    fn cookies_are_secure_over_https_and_on_this_machine() {
        let headers = |host: &str, proto: Option<&str>| {
            let mut h = HeaderMap::new();
            h.insert(header::HOST, host.parse().unwrap());
            if let Some(p) = proto {
                h.insert("x-forwarded-proto", p.parse().unwrap());
            }
            h
        };
        assert!(secure_cookie(&headers("127.0.0.1:8080", None)));
        assert!(secure_cookie(&headers("localhost:8080", None)));
        assert!(secure_cookie(&headers("[::1]:8080", None)));
        assert!(secure_cookie(&headers("leads.example.com", Some("https"))));
        assert!(!secure_cookie(&headers("leads.example.com", None)));
    }
}
