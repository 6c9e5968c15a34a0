//! Bantam's collector: the embedded default endpoint.
//!
//! It receives lead documents (`POST /v1/leads`), checks them against the registered forms,
//! re-scores the answers with the same engine as the widget (the client's score is advisory),
//! stores them in SQLite or PostgreSQL idempotently on the lead id, lists them for admins
//! (`GET /v1/leads`) and serves the demo page, so the demo is one origin.

pub mod alert;
pub mod fit;
mod forms;
mod forward;
mod history;
pub mod import;
mod inbox;
pub mod learn;
mod limit;
mod people;
mod persons;
mod quarantine;
pub mod routes;
mod serve;
mod store;
mod time;
mod users;
mod widget;

use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::path::PathBuf;
use std::sync::{Arc, RwLock};

use axum::body::Bytes;
use axum::extract::{ConnectInfo, DefaultBodyLimit, Query, Request, State};
use axum::http::{header, HeaderMap, HeaderValue, Method, StatusCode};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post, put};
use axum::{Json, Router};
use bantam_engine::{
    AnswerValue, Answers, BrowserInfo, Context, LeadDocument, Touch, SCHEMA_VERSION,
};
use serde::Deserialize;
use serde_json::{json, Value};
use tower_http::services::ServeDir;

pub use forms::{log_problems, watch as watch_forms, Forms, Problem};
pub use forward::{
    deliver_due, forward_due, run as run_deliveries, sign, Forwarding, Outbox,
    DEFAULT_LEASE as DEFAULT_FORWARD_LEASE, IN_FLIGHT, MAX_ATTEMPTS,
};
pub use history::{
    record_files as record_form_versions, watch_files as watch_form_versions, IMPACT_LIMIT,
};
pub use limit::RateLimit;
pub use people::run_retention;
pub use serve::{serve, Limits};
pub use store::{
    email_digest, is_postgres_url, normal_email, person_key, Attempted, Credit, Cursor, Daily,
    DeliveryState, DeliverySummary, Due, Erase, Erasure, Feedback, Filter, FormVersion,
    ImportCount, Imported, Ingested, LeadOutcome, PeopleQuality, Person, PersonData, Published,
    Quarantined, SourceQuality, Store, StoreError, Stored, NEW, REJECT_REASONS, STATUSES,
    UNASSIGNED,
};
// Users, sessions and the audit log (issue 13), apart from the lines above so that merges of
// other stores' types stay simple.
pub use store::{audit_subject, AuditEntry, SessionRecord, User, ROUND_ROBIN};
pub use users::{
    hash_password, verify_password, Role, LOGIN_FAILURES_PER_NAME, MIN_PASSWORD_CHARS,
    SESSION_COOKIE, SESSION_IDLE_MS, SESSION_MAX_MS,
};
pub use widget::{built_in as widget_built_in, names as widget_files};

/// Largest accepted request body.
pub const MAX_BODY_BYTES: usize = 64 * 1024;

/// Wrong admin credentials one address may send at once, then per minute.
pub const WRONG_CREDENTIALS_BURST: u32 = 20;
/// See [`WRONG_CREDENTIALS_BURST`].
pub const WRONG_CREDENTIALS_PER_MINUTE: u32 = 10;

/// Who may do what: origins allowed to post, the admin token for reads, the rate limit.
#[derive(Debug, Clone, Default)]
pub struct Settings {
    /// Origins (`https://www.example.com`) allowed to post cross-origin; `*` allows any.
    /// The collector's own origin is always allowed.
    pub allowed_origins: Vec<String>,
    /// Bearer token for reading leads; reads are refused without one configured.
    pub admin_token: Option<String>,
    /// Posts per minute per client address (0: no limit) and the burst allowed.
    pub rate_per_minute: u32,
    /// How many posts a client may make at once before the rate applies.
    pub burst: u32,
    /// Where to forward each stored lead, if anywhere.
    pub forwarding: Option<Forwarding>,
}

/// What every handler shares.
#[derive(Clone)]
pub struct AppState {
    store: Arc<Store>,
    forms: Arc<RwLock<Forms>>,
    settings: Arc<Settings>,
    limiter: Arc<RateLimit>,
    /// Wrong admin credentials per address: a few a minute, so a token cannot be guessed.
    wrong_credentials: Arc<RateLimit>,
    /// Failed sign-ins per user name: a few, then one a minute, so a password cannot be
    /// guessed from many addresses either.
    login_failures: Arc<RateLimit<String>>,
    limits: Limits,
    /// Reverse proxies whose `X-Forwarded-For` names the client.
    trusted_proxies: Arc<Vec<IpAddr>>,
    /// The folder the forms are loaded from, where a published version is written.
    forms_dir: Option<Arc<PathBuf>>,
    /// Held while a form is published or the folder's files are recorded as versions, so the
    /// two never interleave in one process.
    publishing: Arc<tokio::sync::Mutex<()>>,
    /// The last fit of each form, shown again while its outcomes and config stay the same.
    fits: Arc<inbox::proposal::FitCache>,
    /// Where leads go: the routes file's destinations and the `--forward-*` flags' one.
    routes: Arc<routes::Routes>,
    /// The collector's public URL (`--public-url`), for links in alerts.
    public_url: Option<Arc<str>>,
}

impl AppState {
    /// The destinations a checked lead goes to, by its collector grade and score, its form and
    /// its spam flag.
    pub(crate) fn route(&self, lead: &Ingested) -> Vec<String> {
        if self.routes.destinations.is_empty() {
            return Vec::new();
        }
        self.routes.select(&routes::LeadFacts {
            form_id: &lead.form_id,
            grade: &lead.grade,
            total: lead.total,
            spam: lead.spam,
        })
    }

    /// The store, for background work such as forwarding.
    pub fn store(&self) -> Arc<Store> {
        self.store.clone()
    }

    /// The known forms, for background work such as forwarding.
    pub fn forms(&self) -> Arc<RwLock<Forms>> {
        self.forms.clone()
    }

    /// The destinations and reps, for background work such as delivering.
    pub fn routes(&self) -> Arc<routes::Routes> {
        self.routes.clone()
    }

    /// What the delivery workers need ([`run_deliveries`]).
    pub fn outbox(&self) -> Outbox {
        Outbox {
            store: self.store.clone(),
            forms: self.forms.clone(),
            routes: self.routes.clone(),
            public_url: self.public_url.as_deref().map(str::to_owned),
        }
    }

    /// Wraps an opened store, the known forms and the settings; leads go to the `--forward-*`
    /// destination of `settings.forwarding`, if any (see [`AppState::with_routes`]).
    pub fn new(store: Store, forms: Arc<RwLock<Forms>>, settings: Settings) -> AppState {
        let limiter = RateLimit::new(settings.rate_per_minute, settings.burst);
        let routes = routes::Routes::from_forwarding(settings.forwarding.as_ref());
        AppState {
            store: Arc::new(store),
            forms,
            settings: Arc::new(settings),
            limiter: Arc::new(limiter),
            wrong_credentials: Arc::new(RateLimit::new(
                WRONG_CREDENTIALS_PER_MINUTE,
                WRONG_CREDENTIALS_BURST,
            )),
            login_failures: Arc::new(RateLimit::new(1, users::LOGIN_FAILURES_PER_NAME)),
            limits: Limits::default(),
            trusted_proxies: Arc::new(Vec::new()),
            forms_dir: None,
            publishing: Arc::new(tokio::sync::Mutex::new(())),
            fits: Arc::default(),
            routes: Arc::new(routes),
            public_url: None,
        }
    }

    /// The same state with these routes (a routes file read with [`routes::Routes::load`] or
    /// [`routes::Routes::parse`], which add the `--forward-*` destination themselves).
    #[must_use]
    pub fn with_routes(mut self, routes: routes::Routes) -> AppState {
        self.routes = Arc::new(routes);
        self
    }

    /// The same state, knowing its public URL (`https://leads.example.com`): alerts link to
    /// the lead in the inbox there.
    #[must_use]
    pub fn with_public_url(mut self, url: Option<String>) -> AppState {
        self.public_url = url.map(|u| Arc::from(u.trim_end_matches('/')));
        self
    }

    /// The same state, knowing the folder its forms come from: the inbox's Apply writes a
    /// proposal into a form's file there (without it, Apply is refused).
    #[must_use]
    pub fn with_forms_dir(mut self, dir: PathBuf) -> AppState {
        self.forms_dir = Some(Arc::new(dir));
        self
    }

    /// The same state, reading the client's address from `X-Forwarded-For` on connections from
    /// these reverse proxies (for the rate limits).
    #[must_use]
    pub fn with_trusted_proxies(mut self, proxies: Vec<IpAddr>) -> AppState {
        self.trusted_proxies = Arc::new(proxies);
        self
    }

    /// The same state with other connection limits (the request body deadline is read here).
    #[must_use]
    pub fn with_limits(mut self, limits: Limits) -> AppState {
        self.limits = limits;
        self
    }
}

/// A failed request: a 4xx with a reason and the field at fault, or an opaque 500.
#[derive(Debug)]
pub enum AppError {
    /// The client sent something wrong; not logged as an error.
    BadRequest {
        /// The HTTP status (4xx).
        status: StatusCode,
        /// What is wrong.
        error: String,
        /// The JSON path of the culprit, if one field is.
        field: Option<String>,
    },
    /// Too many requests from one address; retry after this many seconds.
    TooMany(u64),
    /// Credentials are needed (the admin token, or a session).
    Unauthorized,
    /// A page needs someone signed in: answered with a redirect to the login page.
    SignIn,
    /// A readable page that says why a page or change was refused (403 for a role or a
    /// CSRF token, 404 for a user that does not exist).
    Page {
        /// The HTTP status.
        status: StatusCode,
        /// The page's title.
        title: String,
        /// What happened and what to do, in words.
        message: String,
    },
    /// Something broke on our side; logged, and answered without details.
    Internal(String),
}

impl AppError {
    pub(crate) fn bad(
        status: StatusCode,
        error: impl Into<String>,
        field: Option<&str>,
    ) -> AppError {
        AppError::BadRequest {
            status,
            error: error.into(),
            field: field.map(str::to_owned),
        }
    }

    fn unprocessable(error: impl Into<String>, field: &str) -> AppError {
        AppError::bad(StatusCode::UNPROCESSABLE_ENTITY, error, Some(field))
    }
}

impl From<StoreError> for AppError {
    fn from(err: StoreError) -> AppError {
        AppError::Internal(err.to_string())
    }
}

impl IntoResponse for AppError {
    fn into_response(self) -> Response {
        match self {
            AppError::BadRequest {
                status,
                error,
                field,
            } => (status, Json(json!({ "error": error, "field": field }))).into_response(),
            AppError::TooMany(seconds) => {
                let mut response = (
                    StatusCode::TOO_MANY_REQUESTS,
                    Json(json!({ "error": format!("too many requests; retry in {seconds} s"), "field": null })),
                )
                    .into_response();
                response
                    .headers_mut()
                    .insert(header::RETRY_AFTER, HeaderValue::from(seconds));
                response
            }
            AppError::Unauthorized => (
                StatusCode::UNAUTHORIZED,
                Json(json!({
                    "error": "this needs the admin token (Authorization: Bearer <token>, or Basic auth with the token as password) or a signed-in user (/inbox/login)",
                    "field": null
                })),
            )
                .into_response(),
            AppError::SignIn => users::sign_in_response(),
            AppError::Page {
                status,
                title,
                message,
            } => inbox::page_with_status(
                status,
                &title,
                &format!(
                    "<header><h1>{}</h1></header><main><p class=\"error\" role=\"alert\">{}</p><p><a href=\"/inbox\">Back to the inbox</a></p></main>",
                    inbox::escape(&title),
                    inbox::escape(&message)
                ),
            ),
            AppError::Internal(detail) => {
                eprintln!("bantam-collector: internal error: {detail}");
                (
                    StatusCode::INTERNAL_SERVER_ERROR,
                    Json(json!({ "error": "internal error" })),
                )
                    .into_response()
            }
        }
    }
}

/// Builds the router: the lead API, the quarantine, the inbox, the form configs and the
/// static files of `www`.
pub fn app(state: AppState, www: PathBuf) -> Router {
    let body_timeout = state.limits.body_timeout;
    let router = Router::new()
        .route(
            "/v1/leads",
            post(post_lead).get(list_leads).options(preflight),
        )
        .layer(middleware::from_fn_with_state(state.clone(), cors))
        .route("/v1/leads.csv", get(inbox::csv))
        .route("/v1/leads/{id}", get(inbox::lead_api))
        .route("/v1/leads/{id}/status", post(inbox::status_api))
        .route("/v1/quarantine", get(quarantine::list_api))
        .route("/v1/quarantine/{id}/accept", post(quarantine::accept_api))
        .route("/inbox", get(persons::people_page))
        .route("/inbox/leads", get(inbox::inbox))
        .route("/v1/people", get(persons::list_api))
        .route("/v1/people.csv", get(persons::csv))
        .route("/v1/people/{key}/feedback", post(persons::feedback_api))
        .route("/v1/people/{key}/owner", put(persons::owner_api))
        .route("/inbox/people/{key}/feedback", post(persons::feedback_form))
        .route("/inbox/people/{key}/owner", post(persons::owner_form))
        .route("/inbox/login", get(users::login_form).post(users::login))
        .route("/inbox/logout", post(users::logout))
        .route("/inbox/users", get(users::users_list).post(users::add_user))
        .route("/inbox/users/{name}/password", post(users::reset_password))
        .route("/inbox/users/{name}/disable", post(users::disable_user))
        .route("/inbox/audit", get(users::audit_list))
        .route("/v1/audit", get(users::audit_api))
        .route("/inbox/local-time.js", get(inbox::local_time_js))
        .route("/inbox/leads/{id}", get(inbox::detail))
        .route("/inbox/leads/{id}/status", post(inbox::status_form))
        .route(
            "/v1/forms",
            get(history::list_api).post(history::create_api),
        )
        .route("/v1/forms/check", post(history::check_api))
        .route("/v1/forms/{id}", get(history::one_api))
        .route(
            "/v1/forms/{id}/versions",
            get(history::versions_api).post(history::publish_api),
        )
        .route("/v1/forms/{id}/versions/{n}", get(history::version_api))
        .route("/v1/forms/{id}/rollback", post(history::rollback_api))
        .route("/v1/forms/{id}/impact", post(history::impact_api))
        .route(
            "/inbox/forms",
            get(inbox::forms::list_page).post(inbox::forms::create_form),
        )
        .route("/inbox/forms/{id}", get(inbox::forms::form_page))
        .route(
            "/inbox/forms/{id}/rollback",
            post(inbox::forms::rollback_form),
        )
        .route("/inbox/forms/{id}/fit", get(inbox::proposal::show))
        .route("/inbox/forms/{id}/fit/apply", post(inbox::proposal::apply))
        .route("/inbox/quarantine", get(quarantine::list_page))
        .route(
            "/v1/people/{key}",
            get(people::export_api).delete(people::erase_api),
        )
        .route("/v1/erasures", get(people::erasures_api))
        .route("/inbox/people/{key}", get(people::person_page))
        .route("/inbox/people/{key}/erase", post(people::erase_form))
        .route(
            "/inbox/quarantine/{id}/accept",
            post(quarantine::accept_form),
        )
        .route("/forms/{file}", get(form_config))
        // The editor's files, and the forms pages' (which the editor's handler hands on).
        .route("/inbox/assets/{file}", get(inbox::editor::asset))
        .route(
            "/inbox/forms/{id}/edit",
            get({
                let www = www.clone();
                move |state, headers, path| inbox::editor::edit(state, headers, path, www.clone())
            }),
        )
        .route(
            "/inbox/forms/{id}/preview",
            get({
                let www = www.clone();
                move |state, headers, path| {
                    inbox::editor::preview(state, headers, path, www.clone())
                }
            }),
        );
    // The widget built into the binary, when it was built first; else `<www>/dist`.
    let router = if widget::built_in() {
        router.route("/dist/{file}", get(widget::file))
    } else {
        router
    };
    router
        .fallback(site_files(www))
        .layer(middleware::from_fn_with_state(
            state.clone(),
            users::identify,
        ))
        .layer(middleware::from_fn(public_files))
        .layer(middleware::from_fn_with_state(state.clone(), no_guessing))
        .layer(DefaultBodyLimit::max(MAX_BODY_BYTES))
        .layer(middleware::from_fn(move |request, next| {
            serve::body_deadline(body_timeout, MAX_BODY_BYTES, request, next)
        }))
        .with_state(state)
}

/// Credentials that were wrong count against their address; past a burst, an address that
/// sends credentials is answered `429` until its bucket refills, right or wrong, so the admin
/// token cannot be guessed at speed. Requests without credentials are not counted (a browser
/// asks for them with one).
async fn no_guessing(State(state): State<AppState>, request: Request, next: Next) -> Response {
    if !request.headers().contains_key(header::AUTHORIZATION) {
        return next.run(request).await;
    }
    let ip = client_ip(&state, &request);
    if let Err(seconds) = state.wrong_credentials.peek(ip) {
        return AppError::TooMany(seconds).into_response();
    }
    let response = next.run(request).await;
    if response.status() == StatusCode::UNAUTHORIZED {
        let _ = state.wrong_credentials.check(ip);
    }
    response
}

/// The `--www` folder, as a site's own pages: no hidden files (`.env`, `.git/`), and nothing
/// a symbolic link reaches outside the folder.
fn site_files(www: PathBuf) -> impl Fn(Request) -> SiteFile + Clone + Send + 'static {
    let root = Arc::new(www.canonicalize().unwrap_or_else(|_| www.clone()));
    let files = ServeDir::new(www);
    move |request: Request| {
        let allowed = site_path_allowed(&root, request.uri().path());
        let files = files.clone();
        Box::pin(async move {
            if !allowed {
                return StatusCode::NOT_FOUND.into_response();
            }
            match tower::ServiceExt::oneshot(files, request).await {
                Ok(response) => response.into_response(),
                Err(never) => match never {},
            }
        })
    }
}

/// What [`site_files`] answers with.
type SiteFile = std::pin::Pin<Box<dyn std::future::Future<Output = Response> + Send>>;

/// Whether `path` (as requested, percent-encoded) names something inside `root` that is
/// neither hidden nor reached through a link leading out of it.
fn site_path_allowed(root: &std::path::Path, path: &str) -> bool {
    let Ok(decoded) = percent_encoding::percent_decode_str(path).decode_utf8() else {
        return false;
    };
    if decoded
        .split(['/', '\\'])
        .any(|segment| segment.starts_with('.'))
    {
        return false;
    }
    let wanted = root.join(decoded.trim_start_matches('/'));
    match wanted.canonicalize() {
        Ok(real) => real.starts_with(root),
        // Nothing there: ServeDir answers 404 itself.
        Err(_) => true,
    }
}

/// Whether a `/dist/` file name carries its content hash (`bantam_core.1a2b3c4d5e.js`), so
/// that it never changes and may be cached for good.
fn content_hashed(path: &str) -> bool {
    let name = path.rsplit('/').next().unwrap_or_default();
    let mut parts = name.split('.');
    parts.next();
    parts
        .next()
        .is_some_and(|hash| hash.len() == 10 && hash.bytes().all(|b| b.is_ascii_hexdigit()))
        && parts.next().is_some()
}

/// The widget's files (`/dist/`) and the form configs (`/forms/`) are public: any page may
/// load them (CORS), so a page on another site embeds the collector's script with one tag.
/// Content-hashed files are cached for good; the loaders and configs are revalidated on each
/// use, so a release reaches visitors at once and a page never mixes two releases.
async fn public_files(request: Request, next: Next) -> Response {
    let path = request.uri().path().to_owned();
    let public = path.starts_with("/dist/") || path.starts_with("/forms/");
    let mut response = next.run(request).await;
    if public {
        let headers = response.headers_mut();
        headers.insert(
            header::ACCESS_CONTROL_ALLOW_ORIGIN,
            HeaderValue::from_static("*"),
        );
        headers.insert(
            "cross-origin-resource-policy",
            HeaderValue::from_static("cross-origin"),
        );
        let cache = if path.starts_with("/dist/") && content_hashed(&path) {
            "public, max-age=31536000, immutable"
        } else {
            "no-cache"
        };
        headers.insert(header::CACHE_CONTROL, HeaderValue::from_static(cache));
    }
    response
}

/// The media type of a compiled form, which the lean widget asks for.
const COMPILED_FORM: &str = "application/vnd.bantam.form+json";

/// `GET /forms/<file>.json`: the last good version of a form config, never a broken edit; or,
/// for a request that accepts [`COMPILED_FORM`] (the widget's), that version compiled.
async fn form_config(
    State(state): State<AppState>,
    axum::extract::Path(file): axum::extract::Path<String>,
    headers: HeaderMap,
) -> Result<Response, AppError> {
    let compiled = headers
        .get_all(header::ACCEPT)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .any(|v| v.contains(COMPILED_FORM));
    let forms = state
        .forms
        .read()
        .map_err(|_| AppError::Internal("forms lock poisoned".into()))?;
    // A browser takes it gzipped, as it takes the widget's files: the compiled form is part of
    // what the default embed downloads.
    let gzipped = widget::accepts_gzip(&headers);
    let body = if gzipped {
        forms.gzipped(&file, compiled)
    } else if compiled {
        forms
            .compiled_text(&file)
            .map(|t| Bytes::from(t.to_string()))
    } else {
        forms.config_text(&file).map(|t| Bytes::from(t.to_string()))
    };
    drop(forms);
    let kind = if compiled {
        COMPILED_FORM
    } else {
        "application/json"
    };
    match body {
        Some(body) => {
            let mut response = (
                [
                    (header::CONTENT_TYPE, kind),
                    (header::VARY, "Accept, Accept-Encoding"),
                ],
                body,
            )
                .into_response();
            if gzipped {
                let gzip = HeaderValue::from_static("gzip");
                response
                    .headers_mut()
                    .insert(header::CONTENT_ENCODING, gzip);
            }
            Ok(response)
        }
        None => Err(AppError::bad(
            StatusCode::NOT_FOUND,
            format!("no form config \"{file}\" is loaded here (bantam-collector check shows why)"),
            None,
        )),
    }
}

/// Whether `origin` may call the API: the collector's own origin, or a configured one.
fn origin_allowed(settings: &Settings, origin: &str, host: Option<&str>) -> bool {
    let own = host.is_some_and(|host| {
        origin
            .split_once("://")
            .is_some_and(|(_, authority)| authority.eq_ignore_ascii_case(host))
    });
    own || settings
        .allowed_origins
        .iter()
        .any(|o| o == "*" || o.trim_end_matches('/').eq_ignore_ascii_case(origin))
}

/// CORS for the lead API. Any page may post a lead and read the answer (a lead from an origin
/// that is not allowed is quarantined, not refused, so the visitor's lead is never lost); only
/// allowed origins may read leads.
async fn cors(State(state): State<AppState>, request: Request, next: Next) -> Response {
    let origin = request
        .headers()
        .get(header::ORIGIN)
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    let host = request
        .headers()
        .get(header::HOST)
        .and_then(|v| v.to_str().ok());
    let allowed = request.method() != Method::GET
        || origin
            .as_deref()
            .is_some_and(|o| origin_allowed(&state.settings, o, host));
    let mut response = next.run(request).await;
    if let (Some(origin), true) = (origin, allowed) {
        if let Ok(value) = HeaderValue::from_str(&origin) {
            let headers = response.headers_mut();
            headers.insert(header::ACCESS_CONTROL_ALLOW_ORIGIN, value);
            headers.insert(header::VARY, HeaderValue::from_static("Origin"));
            headers.insert(
                header::ACCESS_CONTROL_EXPOSE_HEADERS,
                HeaderValue::from_static("bantam-quarantined, retry-after"),
            );
        }
    }
    response
}

async fn preflight() -> Response {
    (
        StatusCode::NO_CONTENT,
        [
            (header::ACCESS_CONTROL_ALLOW_METHODS, "POST"),
            (
                header::ACCESS_CONTROL_ALLOW_HEADERS,
                "content-type, idempotency-key",
            ),
            (header::ACCESS_CONTROL_MAX_AGE, "86400"),
        ],
    )
        .into_response()
}

fn check_id(value: &str, field: &str, max: usize) -> Result<(), AppError> {
    let ok = !value.is_empty()
        && value.len() <= max
        && value
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_');
    if ok {
        Ok(())
    } else {
        Err(AppError::unprocessable(
            format!("{field} must be 1-{max} letters, digits, '-' or '_'"),
            field,
        ))
    }
}

fn check_length(value: &str, field: &str, max: usize) -> Result<(), AppError> {
    if value.chars().count() <= max {
        Ok(())
    } else {
        Err(AppError::unprocessable(
            format!("{field} is longer than {max} characters"),
            field,
        ))
    }
}

/// Most bytes a lead's unknown fields (from a newer widget, or a refusal the widget attached)
/// may take; beyond this a post is refused rather than stored with every lead.
pub const MAX_UNKNOWN_BYTES: usize = 4096;

/// Longest a page or attribution link may be, and a UTM value or click id.
const MAX_LINK_CHARS: usize = 2048;
const MAX_TAG_CHARS: usize = 300;

/// Shortens over-long page and attribution strings in place. They come from the page's URL,
/// which whoever made the link chose: a lead is not lost for a 50,000-character `utm_source`,
/// and the database does not keep it either. A cut string ends in `…`.
fn clamp_links(document: &mut Value) {
    fn clamp(value: Option<&mut Value>, max: usize) {
        if let Some(Value::String(s)) = value {
            if s.chars().count() > max {
                let mut cut: String = s.chars().take(max - 1).collect();
                cut.push('…');
                *s = cut;
            }
        }
    }
    clamp(document.pointer_mut("/page/url"), MAX_LINK_CHARS);
    clamp(document.pointer_mut("/page/referrer"), MAX_LINK_CHARS);
    clamp(document.pointer_mut("/page/title"), 500);
    for touch in ["firstTouch", "lastTouch"] {
        let Some(touch) = document
            .get_mut("attribution")
            .and_then(|a| a.get_mut(touch))
        else {
            continue;
        };
        clamp(touch.get_mut("landingPage"), MAX_LINK_CHARS);
        clamp(touch.get_mut("referrer"), MAX_LINK_CHARS);
        for tags in ["utm", "clickIds"] {
            if let Some(Value::Object(tags)) = touch.get_mut(tags) {
                for value in tags.values_mut() {
                    clamp(Some(value), MAX_TAG_CHARS);
                }
            }
        }
    }
}

/// The JSON pointer (`/page/extra`) of a field the lead document's type does not know.
fn pointer(path: &serde_ignored::Path<'_>) -> String {
    use serde_ignored::Path;
    match path {
        Path::Root => String::new(),
        Path::Seq { parent, index } => format!("{}/{index}", pointer(parent)),
        Path::Map { parent, key } => format!(
            "{}/{}",
            pointer(parent),
            key.replace('~', "~0").replace('/', "~1")
        ),
        Path::Some { parent }
        | Path::NewtypeStruct { parent }
        | Path::NewtypeVariant { parent } => pointer(parent),
    }
}

/// Unknown fields are kept with the lead, up to [`MAX_UNKNOWN_BYTES`] in all.
fn check_unknown(document: &Value, unknown: &[String]) -> Result<(), AppError> {
    let bytes: usize = unknown
        .iter()
        .filter_map(|p| document.pointer(p).map(|v| p.len() + v.to_string().len()))
        .sum();
    if bytes <= MAX_UNKNOWN_BYTES {
        return Ok(());
    }
    let named: Vec<&str> = unknown.iter().take(5).map(String::as_str).collect();
    Err(AppError::bad(
        StatusCode::PAYLOAD_TOO_LARGE,
        format!(
            "fields this collector does not know ({}{}) take {bytes} bytes; at most {MAX_UNKNOWN_BYTES} are kept with a lead",
            named.join(", "),
            if unknown.len() > 5 { ", ..." } else { "" }
        ),
        unknown.first().map(String::as_str),
    ))
}

/// What a posted lead document comes to.
#[derive(Debug)]
pub(crate) enum Checked {
    /// Checked and re-scored: store it.
    Lead(Box<Ingested>),
    /// A real lead the collector cannot take as it is: keep it in quarantine with the reason.
    Hold(Box<Quarantined>),
}

/// A posted lead is JSON: `application/json`, or `text/plain`, which is what
/// `navigator.sendBeacon` sends a string as without a preflight (the widget uses it when a
/// page closes).
fn check_content_type(headers: &HeaderMap) -> Result<(), AppError> {
    let content_type = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    // The media type before any parameter (`; charset=utf-8`), compared without case.
    let media_type = content_type.split(';').next().unwrap_or_default().trim();
    if media_type.eq_ignore_ascii_case("application/json")
        || media_type.eq_ignore_ascii_case("text/plain")
    {
        Ok(())
    } else {
        Err(AppError::bad(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            format!("Content-Type must be application/json (or text/plain holding JSON), not \"{content_type}\""),
            None,
        ))
    }
}

/// Why a lead is held: the endpoint refusal a widget attached when it fell back to this
/// collector, if any.
fn refusal_reason(document: &Value) -> Option<String> {
    let refusal = document.get("refusal")?;
    let text = |key: &str| refusal.get(key).and_then(Value::as_str).unwrap_or_default();
    let status = refusal.get("status").and_then(Value::as_u64).unwrap_or(0);
    let response: String = text("response").chars().take(500).collect();
    let endpoint: String = text("endpoint").chars().take(300).collect();
    Some(format!(
        "{endpoint} ({}) refused the lead with HTTP {status}{}{response}; fix the delivery settings, then accept the lead to keep it here",
        text("format"),
        if response.is_empty() { "" } else { ": " },
    ))
}

/// Parses, checks and re-scores a posted lead document. A lead that is well formed but cannot
/// be taken as it is (unknown form, answers that do not fit the form, a refusal attached) is
/// held rather than refused, unless `accepting` (an admin taking it out of quarantine, where
/// only a form that now fits lets it through).
pub(crate) fn ingest(
    forms: &Forms,
    body: &[u8],
    idempotency_key: Option<&str>,
    accepting: bool,
) -> Result<Checked, AppError> {
    let mut document: Value = serde_json::from_slice(body).map_err(|err| {
        AppError::bad(
            StatusCode::BAD_REQUEST,
            format!("body is not valid JSON: {err}"),
            None,
        )
    })?;
    match document.get("schemaVersion").and_then(Value::as_u64) {
        Some(v) if v == u64::from(SCHEMA_VERSION) => {}
        Some(v) => {
            return Err(AppError::unprocessable(
                format!(
                    "schemaVersion {v} is not supported; this collector reads {SCHEMA_VERSION}"
                ),
                "schemaVersion",
            ))
        }
        None => {
            return Err(AppError::unprocessable(
                "schemaVersion is missing or not a number",
                "schemaVersion",
            ))
        }
    }
    // The body as it was sent (before links are clamped): a replay hashes the same.
    let body_sha256 = sha256_hex(&document);
    clamp_links(&mut document);
    // A visitor id that is not one (storage in the visitor's browser is theirs to change) is
    // dropped rather than refused: it only links submissions, and a lead is never lost over it.
    if let Some(object) = document.as_object_mut() {
        let valid = object
            .get("visitorId")
            .and_then(Value::as_str)
            .is_some_and(|id| check_id(id, "visitorId", 100).is_ok());
        if !valid {
            object.remove("visitorId");
        }
    }
    let mut unknown = Vec::new();
    let mut note_unknown = |path: serde_ignored::Path<'_>| unknown.push(pointer(&path));
    let lead: LeadDocument = serde_path_to_error::deserialize(serde_ignored::Deserializer::new(
        &document,
        &mut note_unknown,
    ))
    .map_err(|err| {
        let path = err.path().to_string();
        AppError::unprocessable(format!("{path}: {}", err.inner()), &path)
    })?;
    check_unknown(&document, &unknown)?;
    check_id(&lead.id, "id", 100)?;
    check_id(&lead.form_id, "formId", 64)?;
    if let Some(key) = idempotency_key {
        if key != lead.id {
            return Err(AppError::unprocessable(
                format!(
                    "Idempotency-Key \"{key}\" does not match the lead id \"{}\"",
                    lead.id
                ),
                "id",
            ));
        }
    }
    check_length(&lead.submitted_at, "submittedAt", 40)?;
    check_length(&lead.locale, "locale", 35)?;
    check_length(&lead.page.url, "page.url", 2048)?;
    check_length(&lead.page.title, "page.title", 500)?;
    check_length(&lead.page.referrer, "page.referrer", 2048)?;
    check_length(&lead.context.browser_locale, "context.browserLocale", 35)?;
    check_length(&lead.context.time_zone, "context.timeZone", 64)?;
    if let Some(variant) = &lead.context.variant {
        check_id(variant, "context.variant", 64)?;
    }
    if lead.spam.reasons.len() > 10 {
        return Err(AppError::unprocessable(
            "spam.reasons: at most 10",
            "spam.reasons",
        ));
    }
    for (i, reason) in lead.spam.reasons.iter().enumerate() {
        check_length(reason, &format!("spam.reasons.{i}"), 200)?;
    }
    if let Some(consent) = &lead.consent {
        check_length(&consent.text, "consent.text", 2000)?;
        check_id(&consent.question_id, "consent.questionId", 64)?;
    }
    if lead.score.total > 100 {
        return Err(AppError::unprocessable(
            "score.total must be 0-100",
            "score.total",
        ));
    }
    let email = lead
        .contact
        .get("email")
        .map(|e| e.chars().take(320).collect::<String>());
    let hold = |reason: String| {
        Ok(Checked::Hold(Box::new(Quarantined::new(
            lead.id.clone(),
            lead.form_id.clone(),
            email.clone(),
            reason,
            document.to_string(),
        ))))
    };
    if !accepting {
        if let Some(reason) = refusal_reason(&document) {
            return hold(reason);
        }
    }
    let Some(form) = forms.get_for(&lead.form_id, &lead.locale) else {
        let reason = format!(
            "unknown form \"{}\": no such form is registered here; add its config to the forms folder (bantam-collector check), then accept the lead",
            lead.form_id
        );
        return if accepting {
            Err(AppError::bad(StatusCode::CONFLICT, reason, Some("formId")))
        } else {
            hold(reason)
        };
    };
    let answers = match Answers::from_lead(&form, &lead) {
        Ok(answers) => answers,
        Err((id, err)) => {
            let field = format!("answers.{id}");
            let reason =
                format!("{field}: {err} (was the form changed after the visitor loaded it?)");
            return if accepting {
                Err(AppError::bad(StatusCode::CONFLICT, reason, Some(&field)))
            } else {
                hold(reason)
            };
        }
    };
    for (id, value) in &lead.contact {
        if answers.get(id) != Some(&AnswerValue::Text(value.clone())) {
            let field = format!("contact.{id}");
            return Err(AppError::unprocessable(
                format!("{field} does not match answers.{id}"),
                &field,
            ));
        }
    }
    let server = lead.rescore(&form, &answers);
    let json = |text: String| -> Result<Value, AppError> {
        serde_json::from_str(&text).map_err(|e| AppError::Internal(e.to_string()))
    };
    // The email domain class and company domain follow from the answers: computed here, not
    // taken from the client. What only the browser can know (language, time zone, fill time,
    // variant) is kept.
    let browser = BrowserInfo {
        locale: lead.context.browser_locale.clone(),
        time_zone: lead.context.time_zone.clone(),
        fill_time_ms: lead.context.fill_time_ms,
        honeypot_filled: false,
    };
    let context = Context::of(
        &form,
        &lead.answers,
        &browser,
        lead.context.variant.as_deref(),
    );
    if let Some(object) = document.as_object_mut() {
        object.insert("score".into(), json(server.to_json())?);
        object.insert("context".into(), json(context.to_json())?);
    }
    Ok(Checked::Lead(Box::new(Ingested {
        email: lead.contact.get("email").cloned(),
        company: lead.contact.get("company").cloned(),
        utm: utm_of(&lead),
        first_utm: first_utm_of(&lead),
        // Only links submissions: one that is not an id (a page script wrote over the widget's
        // storage) is not used, and the lead is stored all the same.
        visitor_id: lead
            .visitor_id
            .clone()
            .filter(|v| check_id(v, "visitorId", 100).is_ok()),
        spam: lead.spam.flagged,
        best_grade: form.grade_index(&server.grade) == Some(0),
        deliveries: Vec::new(),
        grade: server.grade,
        total: server.total,
        client_total: lead.score.total,
        client_grade: lead.score.grade,
        document: document.to_string(),
        body_sha256,
        form_version: forms.version_of(&lead.form_id),
        id: lead.id,
        form_id: lead.form_id,
        submitted_at: lead.submitted_at,
    })))
}

/// Hex SHA-256 of a posted document as serde_json writes it out, so a replay of the same
/// document hashes the same whatever its whitespace.
fn sha256_hex(document: &Value) -> String {
    use sha2::Digest;
    let digest = sha2::Sha256::digest(document.to_string().as_bytes());
    digest.iter().map(|b| format!("{b:02x}")).collect()
}

/// UTM source, medium and campaign: the lead's last touch, or else its page URL's query.
fn utm_of(lead: &LeadDocument) -> [Option<String>; 3] {
    let utm = match &lead.attribution {
        Some(attribution) => attribution.last_touch.utm.clone(),
        None => Touch::from_page(&lead.page.url, "", "").utm,
    };
    [utm.source, utm.medium, utm.campaign]
}

/// UTM source, medium and campaign of the visitor's first touch: the lead's
/// `attribution.firstTouch`, else its page.
fn first_utm_of(lead: &LeadDocument) -> [Option<String>; 3] {
    let utm = match &lead.attribution {
        Some(attribution) => attribution.first_touch.utm.clone(),
        None => Touch::from_page(&lead.page.url, "", "").utm,
    };
    [utm.source, utm.medium, utm.campaign]
}

/// The client's address: the connection's peer, or, when the peer is a trusted reverse proxy,
/// the last address in `X-Forwarded-For` that is not a trusted proxy itself (what the proxy
/// saw; addresses further left are whatever the client claimed).
pub(crate) fn client_ip(state: &AppState, request: &Request) -> IpAddr {
    let peer = request
        .extensions()
        .get::<ConnectInfo<SocketAddr>>()
        .map_or(IpAddr::V4(Ipv4Addr::LOCALHOST), |c| c.0.ip());
    if !state.trusted_proxies.contains(&peer) {
        return peer;
    }
    request
        .headers()
        .get_all("x-forwarded-for")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .rev()
        .filter_map(|a| a.trim().parse::<IpAddr>().ok())
        .find(|a| !state.trusted_proxies.contains(a))
        .unwrap_or(peer)
}

async fn post_lead(State(state): State<AppState>, request: Request) -> Result<Response, AppError> {
    state
        .limiter
        .check(client_ip(&state, &request))
        .map_err(AppError::TooMany)?;
    let (parts, body) = request.into_parts();
    let origin = parts
        .headers
        .get(header::ORIGIN)
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    let host = parts
        .headers
        .get(header::HOST)
        .and_then(|v| v.to_str().ok());
    let origin_ok = origin
        .as_deref()
        .is_none_or(|o| origin_allowed(&state.settings, o, host));
    let body = axum::body::to_bytes(body, MAX_BODY_BYTES)
        .await
        .map_err(|_| {
            AppError::bad(
                StatusCode::PAYLOAD_TOO_LARGE,
                format!("body is larger than {MAX_BODY_BYTES} bytes"),
                None,
            )
        })?;
    let checked = {
        let forms = state
            .forms
            .read()
            .map_err(|_| AppError::Internal("forms lock poisoned".into()))?;
        check_content_type(&parts.headers)?;
        let key = parts
            .headers
            .get("idempotency-key")
            .and_then(|v| v.to_str().ok());
        ingest(&forms, &body, key, false)?
    };
    let received_at = time::now_rfc3339();
    let mut held = match checked {
        Checked::Lead(ingested) if origin_ok => {
            let mut ingested = *ingested;
            ingested.deliveries = state.route(&ingested);
            return store_lead(&state, ingested, received_at).await;
        }
        Checked::Lead(ingested) => {
            let origin = origin.as_deref().unwrap_or_default();
            Quarantined::new(
                ingested.id,
                ingested.form_id,
                ingested.email,
                format!(
                    "origin {origin} is not allowed to post leads here; allow it (--allow-origin {origin}, or BANTAM_ALLOW_ORIGINS), then accept the lead"
                ),
                String::from_utf8_lossy(&body).into_owned(),
            )
        }
        Checked::Hold(held) => *held,
    };
    held.received_at = received_at;
    held.origin = origin.map(|o| o.chars().take(300).collect());
    quarantine::hold(&state, held).await
}

/// Stores a checked lead and answers 201 (stored) or 200 (already stored).
async fn store_lead(
    state: &AppState,
    ingested: Ingested,
    received_at: String,
) -> Result<Response, AppError> {
    let reps = state.routes.owners(&ingested.form_id);
    let stored = state
        .store
        .insert_assigning(&ingested, &received_at, reps)
        .await?;
    if stored.created {
        return Ok((
            StatusCode::CREATED,
            Json(json!({
                "id": stored.id,
                "status": "stored",
                "grade": stored.grade,
                "total": stored.total,
                "scoreMismatch": stored.score_mismatch,
                "receivedAt": stored.received_at,
            })),
        )
            .into_response());
    }
    if !stored.same_body {
        // Another lead under a known id: it neither replaces the stored one nor vanishes. It
        // waits in the quarantine under its own key, where the site owner sees why.
        let key = format!(
            "{}~{}",
            ingested.id,
            ingested.body_sha256.get(..12).unwrap_or_default()
        );
        let mut held = Quarantined::new(
            key,
            ingested.form_id.clone(),
            ingested.email.clone(),
            format!(
                "a different lead with the id {} is already stored (received {}); this copy was kept here, not stored: a lead id is used once, so compare the two and correct the sender",
                ingested.id, stored.received_at
            ),
            ingested.document,
        );
        held.received_at = received_at;
        return quarantine::hold(state, held).await;
    }
    // A replay: the caller learns it is stored, and nothing else about the lead.
    Ok((
        StatusCode::OK,
        Json(json!({ "id": stored.id, "status": "duplicate" })),
    )
        .into_response())
}

/// Compares in time independent of where the strings differ.
pub(crate) fn same_secret(a: &str, b: &str) -> bool {
    a.len() == b.len()
        && a.bytes()
            .zip(b.bytes())
            .fold(0u8, |acc, (x, y)| acc | (x ^ y))
            == 0
}

/// Decodes standard base64 (for Basic auth); `None` for anything malformed.
pub(crate) fn base64_decode(s: &str) -> Option<Vec<u8>> {
    let value = |c: u8| -> Option<u32> {
        Some(match c {
            b'A'..=b'Z' => c - b'A',
            b'a'..=b'z' => c - b'a' + 26,
            b'0'..=b'9' => c - b'0' + 52,
            b'+' => 62,
            b'/' => 63,
            _ => return None,
        } as u32)
    };
    let s = s.trim_end_matches('=').as_bytes();
    let mut out = Vec::with_capacity(s.len() * 3 / 4);
    for chunk in s.chunks(4) {
        let mut n = 0u32;
        for (i, c) in chunk.iter().enumerate() {
            n |= value(*c)? << (18 - 6 * i);
        }
        let bytes = [(n >> 16) as u8, (n >> 8) as u8, n as u8];
        out.extend_from_slice(&bytes[..chunk.len().saturating_sub(1)]);
    }
    Some(out)
}

/// Who makes this request, if they are an admin: the admin token (`Authorization: Bearer
/// <token>`, or Basic auth with the token as the password, for programs) or an admin's
/// session. A page (`page`) sends someone not signed in to the login page and shows a sales
/// user a readable 403; the API answers JSON 401 or 403.
///
/// # Errors
/// As above.
pub(crate) fn require_admin(
    settings: &Settings,
    _headers: &HeaderMap,
    page: bool,
) -> Result<users::Who, AppError> {
    users::require(settings, Role::Admin, page)
}

/// [`require_admin`] for what sales may do too: the inbox, a lead's and a person's pages,
/// feedback and owners.
///
/// # Errors
/// As [`require_admin`].
pub(crate) fn require_user(
    settings: &Settings,
    _headers: &HeaderMap,
    page: bool,
) -> Result<users::Who, AppError> {
    users::require(settings, Role::Sales, page)
}

/// A request's query, or a 400 naming what is wrong with it.
pub(crate) fn read_query<T>(
    query: Result<axum::extract::Query<T>, axum::extract::rejection::QueryRejection>,
) -> Result<T, AppError> {
    query
        .map(|axum::extract::Query(q)| q)
        .map_err(|err| AppError::bad(StatusCode::BAD_REQUEST, err.body_text(), None))
}

/// Who is making a change, for a form's history and the audit log: the signed-in user's
/// name, or the Basic user name given with the admin token (`admin` when none was).
pub(crate) fn admin_name(_headers: &HeaderMap) -> String {
    users::current_name().unwrap_or_else(|| "admin".to_owned())
}

/// Query of `GET /v1/leads`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct ListQuery {
    limit: Option<u32>,
    offset: Option<u32>,
}

async fn list_leads(
    State(state): State<AppState>,
    headers: HeaderMap,
    query: Result<Query<ListQuery>, axum::extract::rejection::QueryRejection>,
) -> Result<Response, AppError> {
    require_admin(&state.settings, &headers, false)?;
    let query = crate::read_query(query)?;
    let limit = query.limit.unwrap_or(100).clamp(1, 1000);
    let offset = query.offset.unwrap_or(0);
    let leads = state.store.list(limit, offset).await?;
    Ok(Json(json!({ "leads": leads, "limit": limit, "offset": offset })).into_response())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn basic_auth_decodes() {
        assert_eq!(
            base64_decode("YWRtaW46czNjcmV0").as_deref(),
            Some(&b"admin:s3cret"[..])
        );
        assert_eq!(base64_decode("YQ==").as_deref(), Some(&b"a"[..]));
        assert_eq!(base64_decode("!!"), None);
    }
}
