//! The sales inbox: server-rendered HTML (no scripts), CSV export and sales feedback.
//!
//! Every text from a lead is escaped; the pages are sent with a CSP that allows no script.

use std::fmt::Write as _;

use axum::extract::{Path, Query, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use axum::Json;
use serde::Deserialize;
use serde_json::{json, Value};

use crate::store::{Filter, Row, SourceQuality, STATUSES};
use bantam_engine::percent_decode;

use crate::{require_admin, time, AppError, AppState};

pub(crate) mod editor;
pub(crate) mod forms;
pub(crate) mod proposal;

/// The query of a filtered, admin-only read: checks the token, then reads the filters.
fn admin_filter(
    state: &AppState,
    headers: &HeaderMap,
    query: Result<Query<FilterQuery>, axum::extract::rejection::QueryRejection>,
) -> Result<(FilterQuery, Filter), AppError> {
    require_admin(&state.settings, headers, true)?;
    let Query(query) =
        query.map_err(|err| AppError::bad(StatusCode::BAD_REQUEST, err.body_text(), None))?;
    let filter = query.filter()?;
    Ok((query, filter))
}

/// Rows a page of the inbox shows.
const PAGE: u32 = 50;

/// Filters as query parameters, shared by the inbox and the CSV export.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct FilterQuery {
    grade: Option<String>,
    form: Option<String>,
    source: Option<String>,
    from: Option<String>,
    to: Option<String>,
    q: Option<String>,
    offset: Option<u32>,
    /// Most leads a CSV export holds (the inbox shows pages of 50 whatever it says).
    limit: Option<u64>,
}

fn non_empty(value: &Option<String>) -> Option<String> {
    value
        .as_ref()
        .map(|v| v.trim().to_owned())
        .filter(|v| !v.is_empty())
}

impl FilterQuery {
    fn filter(&self) -> Result<Filter, AppError> {
        for (name, date) in [("from", &self.from), ("to", &self.to)] {
            if let Some(date) = non_empty(date) {
                let ok = date.len() == 10
                    && date.chars().enumerate().all(|(i, c)| {
                        if i == 4 || i == 7 {
                            c == '-'
                        } else {
                            c.is_ascii_digit()
                        }
                    });
                if !ok {
                    return Err(AppError::bad(
                        StatusCode::BAD_REQUEST,
                        format!("{name} must be a date like 2026-11-23"),
                        Some(name),
                    ));
                }
            }
        }
        Ok(Filter {
            grade: non_empty(&self.grade),
            form: non_empty(&self.form),
            source: non_empty(&self.source),
            from: non_empty(&self.from),
            to: non_empty(&self.to),
            search: non_empty(&self.q),
        })
    }

    /// The query string for the same filters (for links), without the offset.
    fn query_string(&self) -> String {
        let pairs = [
            ("grade", &self.grade),
            ("form", &self.form),
            ("source", &self.source),
            ("from", &self.from),
            ("to", &self.to),
            ("q", &self.q),
        ];
        pairs
            .iter()
            .filter_map(|(k, v)| non_empty(v).map(|v| format!("{k}={}", encode(&v))))
            .collect::<Vec<_>>()
            .join("&")
    }
}

pub(crate) fn encode(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

/// Escapes text for HTML content and attribute values.
pub(crate) fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

const STYLE: &str = "body{font-family:system-ui,sans-serif;margin:0;color:#111827;background:#f8fafc}
header,main,footer{max-width:80rem;margin:0 auto;padding:1rem 1.5rem}footer{color:#4b5563;font-size:.85rem}header{display:flex;justify-content:space-between;align-items:baseline}
table{border-collapse:collapse;width:100%;background:#fff;font-size:.9rem}th,td{text-align:left;padding:.45rem .6rem;border-bottom:1px solid #e5e7eb;vertical-align:top}
th{background:#f1f5f9}.badge{display:inline-block;padding:.1rem .5rem;border-radius:1rem;font-weight:600;font-size:.8rem;background:#e5e7eb}
.g0{background:#fee2e2;color:#991b1b}.g1{background:#fef3c7;color:#92400e}.g2{background:#dbeafe;color:#1e40af}
.filters{display:flex;flex-wrap:wrap;gap:.75rem;align-items:end;margin:0 0 1rem}.filters label{display:flex;flex-direction:column;font-size:.8rem;gap:.2rem}
input,select,button{font:inherit;padding:.35rem .5rem}.warn{color:#b45309;font-weight:600}a{color:#1d4ed8}
section{margin:1.5rem 0}pre{background:#fff;padding:1rem;overflow:auto;font-size:.8rem}.pager{display:flex;gap:1rem;margin:1rem 0}";

pub(crate) fn page(title: &str, body: &str) -> Response {
    page_with(title, body, None)
}

/// [`page`] with a script file the collector serves (`/inbox/assets/…`): the CSP then allows
/// scripts from the collector itself, still none inline.
pub(crate) fn page_with(title: &str, body: &str, script: Option<&str>) -> Response {
    let (tag, csp) = match script {
        Some(src) => (
            format!("<script src=\"{}\" defer></script>", escape(src)),
            "default-src 'none'; script-src 'self'; style-src 'unsafe-inline'; form-action 'self'; frame-ancestors 'none'",
        ),
        None => (
            String::new(),
            "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'; frame-ancestors 'none'",
        ),
    };
    let html = format!(
        "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\"><meta name=\"viewport\" content=\"width=device-width, initial-scale=1\"><title>{}</title><style>{STYLE}</style>{tag}</head><body>{body}<footer>Bantam {}</footer></body></html>",
        escape(title),
        bantam_engine::ENGINE_VERSION
    );
    (
        [
            (header::CONTENT_TYPE, "text/html; charset=utf-8"),
            (header::CONTENT_SECURITY_POLICY, csp),
            (header::CACHE_CONTROL, "no-store"),
        ],
        html,
    )
        .into_response()
}

/// The grade badge: the colour follows the grade's rank in its form (best first).
fn badge(state: &AppState, form_id: &str, grade: &str) -> String {
    let rank = state
        .forms
        .read()
        .ok()
        .and_then(|forms| forms.get(form_id))
        .and_then(|form| form.grade_index(grade))
        .map_or(9, |i| i.min(2));
    format!("<span class=\"badge g{rank}\">{}</span>", escape(grade))
}

fn opt(value: &Option<String>) -> String {
    escape(value.as_deref().unwrap_or(""))
}

fn source_label(utm: &[Option<String>; 3]) -> String {
    let parts: Vec<&str> = utm.iter().map(|v| v.as_deref().unwrap_or("–")).collect();
    escape(&parts.join(" / "))
}

fn quality_section(rows: &[SourceQuality]) -> String {
    let mut out =
        String::from("<section aria-labelledby=\"sq\"><h2 id=\"sq\">Lead-source quality</h2>");
    if rows.is_empty() {
        out.push_str("<p>No leads yet.</p></section>");
        return out;
    }
    out.push_str("<table><thead><tr><th>Source</th><th>Medium</th><th>Campaign</th><th>Leads</th><th>Best grade</th><th>Average score</th></tr></thead><tbody>");
    for r in rows {
        let share = if r.leads == 0 {
            0.0
        } else {
            r.best as f64 * 100.0 / r.leads as f64
        };
        let _ = write!(
            out,
            "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{share:.0}%</td><td>{:.1}</td></tr>",
            r.utm[0].as_deref().map_or("(none)".to_owned(), escape),
            opt(&r.utm[1]),
            opt(&r.utm[2]),
            r.leads,
            r.average
        );
    }
    out.push_str("</tbody></table>");
    // A small bar chart of the best-grade share per row, drawn as SVG on the server.
    let shown: Vec<&SourceQuality> = rows.iter().take(10).collect();
    let height = shown.len() * 26 + 10;
    let _ = write!(
        out,
        "<svg role=\"img\" aria-labelledby=\"chart-title\" width=\"640\" height=\"{height}\" viewBox=\"0 0 640 {height}\"><title id=\"chart-title\">Share of leads with the best grade, by source</title>"
    );
    for (i, r) in shown.iter().enumerate() {
        let share = if r.leads == 0 {
            0.0
        } else {
            r.best as f64 / r.leads as f64
        };
        let y = i * 26 + 5;
        let _ = write!(
            out,
            "<text x=\"0\" y=\"{}\" font-size=\"12\">{}</text><rect x=\"220\" y=\"{y}\" width=\"{:.0}\" height=\"18\" fill=\"#dc2626\"></rect><text x=\"{:.0}\" y=\"{}\" font-size=\"12\">{:.0}% of {}</text>",
            y + 14,
            source_label(&r.utm),
            share * 300.0,
            226.0 + share * 300.0,
            y + 14,
            share * 100.0,
            r.leads
        );
    }
    out.push_str("</svg></section>");
    out
}

/// `GET /inbox`: leads newest first with filters, source quality and a CSV link.
pub(crate) async fn inbox(
    State(state): State<AppState>,
    headers: HeaderMap,
    query: Result<Query<FilterQuery>, axum::extract::rejection::QueryRejection>,
) -> Result<Response, AppError> {
    let (query, filter) = admin_filter(&state, &headers, query)?;
    let offset = query.offset.unwrap_or(0);
    let store = &state.store;
    // A search reads the leads themselves: it is counted only as far as the page shown, and
    // lead-source quality (about sources, not the people a search looks for) is left out, so
    // one search reads the leads once at most.
    let searching = filter.search.is_some();
    let rows = store.rows(&filter, PAGE, offset).await?;
    let (total, matches) = if searching {
        // Counted as far as this page: a full page may have more after it.
        let seen = u64::from(offset) + rows.len() as u64;
        if rows.len() == PAGE as usize {
            (seen + 1, format!("{seen} or more"))
        } else {
            (seen, seen.to_string())
        }
    } else {
        let total = store.count_matching(&filter).await?;
        (total, total.to_string())
    };
    let quality = if searching {
        Vec::new()
    } else {
        store.source_quality(&filter).await?
    };
    let held = store.quarantine_count().await?;

    let (form_ids, grade_names) = {
        let forms = state
            .forms
            .read()
            .map_err(|_| AppError::Internal("forms lock".into()))?;
        let mut ids = forms.ids();
        ids.sort();
        let mut grades: Vec<String> = ids
            .iter()
            .filter_map(|id| forms.get(id))
            .flat_map(|f| f.grades.iter().map(|g| g.name.clone()).collect::<Vec<_>>())
            .collect();
        grades.dedup();
        (ids, grades)
    };
    let select = |name: &str, label: &str, values: &[String], current: &Option<String>| {
        let mut s =
            format!("<label>{label}<select name=\"{name}\"><option value=\"\">all</option>");
        for v in values {
            let selected = if current.as_deref() == Some(v.as_str()) {
                " selected"
            } else {
                ""
            };
            let _ = write!(s, "<option{selected}>{}</option>", escape(v));
        }
        s.push_str("</select></label>");
        s
    };
    let qs = query.query_string();
    let mut body = format!(
        "<header><h1>Leads</h1><p>{matches} match · <a href=\"/v1/leads.csv?{}\">Export CSV</a> · <a href=\"/inbox/quarantine\">Quarantine ({held})</a> · <a href=\"/inbox/forms\">Forms</a></p></header><main>",
        escape(&qs)
    );
    if !form_ids.is_empty() {
        let links: Vec<String> = form_ids
            .iter()
            .map(|id| {
                format!(
                    "<a href=\"/inbox/forms/{}/fit\">{}</a>",
                    encode(id),
                    escape(id)
                )
            })
            .collect();
        let _ = write!(
            body,
            "<p>Points learned from sales outcomes: {}</p>",
            links.join(" · ")
        );
    }
    if held > 0 {
        let _ = write!(
            body,
            "<p class=\"warn\" role=\"status\">{held} lead(s) wait in <a href=\"/inbox/quarantine\">quarantine</a>: the collector could not take them as they came. Each shows why and can be accepted.</p>"
        );
    }
    let _ = write!(
        body,
        "<form class=\"filters\" method=\"get\" action=\"/inbox\">{}{}<label>Source<input name=\"source\" value=\"{}\" placeholder=\"utm_source or (none)\"></label><label>From<input type=\"date\" name=\"from\" value=\"{}\"></label><label>To<input type=\"date\" name=\"to\" value=\"{}\"></label><label>Email or company<input type=\"search\" name=\"q\" value=\"{}\"></label><button>Filter</button> <a href=\"/inbox\">Clear</a></form>",
        select("grade", "Grade", &grade_names, &query.grade),
        select("form", "Form", &form_ids, &query.form),
        opt(&query.source),
        opt(&query.from),
        opt(&query.to),
        opt(&query.q),
    );
    if searching {
        body.push_str("<section aria-labelledby=\"sq\"><h2 id=\"sq\">Lead-source quality</h2><p>Not shown for a search on email or company: clear the search to see it.</p></section>");
    } else {
        body.push_str(&quality_section(&quality));
    }
    body.push_str("<section aria-labelledby=\"ll\"><h2 id=\"ll\">Newest first</h2><table><thead><tr><th>Received (UTC)</th><th>Grade</th><th>Score</th><th>Email</th><th>Company</th><th>Form</th><th>Source / medium / campaign</th><th>Sales status</th><th>Forwarded</th></tr></thead><tbody>");
    for row in &rows {
        let mismatch = if row.score_mismatch {
            format!(
                " <span class=\"warn\" title=\"the browser claimed {}\">≠ client</span>",
                row.client_total.unwrap_or_default()
            )
        } else {
            String::new()
        };
        let spam = if row.document["spam"]["flagged"] == Value::Bool(true) {
            " <span class=\"warn\">spam?</span>"
        } else {
            ""
        };
        let _ = write!(
            body,
            "<tr><td><a href=\"/inbox/leads/{}\">{}</a></td><td>{}{spam}</td><td>{}{mismatch}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
            encode(&row.id),
            escape(&row.received_at[..row.received_at.len().min(16)].replace('T', " ")),
            badge(&state, &row.form_id, &row.grade),
            row.total,
            opt(&row.email),
            opt(&row.company),
            escape(&row.form_id),
            source_label(&row.utm),
            row.status.as_ref().map(|(s, _)| escape(s)).unwrap_or_default(),
            forward_label(row),
        );
    }
    body.push_str("</tbody></table><nav class=\"pager\" aria-label=\"Pages\">");
    let sep = if qs.is_empty() { "" } else { "&" };
    if offset > 0 {
        let _ = write!(
            body,
            "<a href=\"/inbox?{}{sep}offset={}\">Newer</a>",
            escape(&qs),
            offset.saturating_sub(PAGE)
        );
    }
    // No "Older" past the last offset a link can carry (it would wrap to the first page).
    if let Some(older) = offset.checked_add(PAGE).filter(|&o| u64::from(o) < total) {
        let _ = write!(
            body,
            "<a href=\"/inbox?{}{sep}offset={older}\">Older</a>",
            escape(&qs),
        );
    }
    body.push_str("</nav></section></main>");
    Ok(page("Bantam inbox", &body))
}

/// Where forwarding stands: empty when off, a warning when retrying or failed.
fn forward_label(row: &Row) -> String {
    match &row.forward {
        None => String::new(),
        Some(f) if f.state == "delivered" => "yes".into(),
        Some(f) => {
            let error = f
                .last_error
                .as_deref()
                .map(|e| format!(": {}", escape(e)))
                .unwrap_or_default();
            let what = if f.state == "failed" {
                "failed"
            } else {
                "retrying"
            };
            format!(
                "<span class=\"warn\">{what} ({} attempts){error}</span>",
                f.attempts
            )
        }
    }
}

fn answer_text(form: Option<&bantam_engine::Form>, id: &str, value: &Value) -> (String, String) {
    let question = form.and_then(|f| f.question(id));
    let label = question.map_or(id.to_owned(), |q| q.label.clone());
    let choice = |option: &str| {
        question
            .and_then(|q| q.choice(option))
            .map_or(option.to_owned(), |c| c.label.clone())
    };
    let text = match value {
        Value::String(s) => choice(s),
        Value::Array(items) => items
            .iter()
            .filter_map(Value::as_str)
            .map(choice)
            .collect::<Vec<_>>()
            .join(", "),
        Value::Bool(b) => if *b { "yes" } else { "no" }.to_owned(),
        other => other.to_string(),
    };
    (label, text)
}

/// `GET /inbox/leads/{id}`: one lead in full, with the sales feedback form.
pub(crate) async fn detail(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> Result<Response, AppError> {
    require_admin(&state.settings, &headers, true)?;
    let row: Row = state.store.row(&id).await?.ok_or_else(|| {
        AppError::bad(
            StatusCode::NOT_FOUND,
            format!("no lead \"{id}\""),
            Some("id"),
        )
    })?;
    let form = state.forms.read().ok().and_then(|f| f.get(&row.form_id));
    let doc = &row.document;
    let who = row
        .email
        .clone()
        .or(row.company.clone())
        .unwrap_or_else(|| row.id.clone());
    let mut body = format!(
        "<header><h1>{}</h1><p><a href=\"/inbox\">All leads</a></p></header><main><p>{} <strong>{}</strong>/100 · form <a href=\"/inbox/forms/{}\">{}</a>{} · received {} · submitted {}</p>",
        escape(&who),
        badge(&state, &row.form_id, &row.grade),
        row.total,
        encode(&row.form_id),
        escape(&row.form_id),
        row.form_version
            .map(|v| format!(", scored with version {v}"))
            .unwrap_or_default(),
        escape(&row.received_at),
        escape(&row.submitted_at),
    );
    if row.score_mismatch {
        let _ = write!(
            body,
            "<p class=\"warn\">The browser sent a score of {} ({}); the collector's own score is shown.</p>",
            row.client_total.unwrap_or_default(),
            escape(doc["score"]["grade"].as_str().unwrap_or(""))
        );
    }
    if doc["spam"]["flagged"] == Value::Bool(true) {
        let reasons: Vec<&str> = doc["spam"]["reasons"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(Value::as_str)
            .map(|r| match r {
                "honeypot" => "the hidden honeypot field was filled in",
                "tooFast" => "the form was filled in faster than a person can",
                other => other,
            })
            .collect();
        let _ = write!(
            body,
            "<p class=\"warn\">Possible spam: {}.</p>",
            escape(&reasons.join("; "))
        );
    }
    if row.forward.is_some() {
        let _ = write!(body, "<p>Forwarded: {}</p>", forward_label(&row));
    }
    body.push_str("<section><h2>Sales status</h2><form method=\"post\" action=\"\">");
    let _ = write!(
        body,
        "<p>Now: <strong>{}</strong></p>",
        row.status
            .as_ref()
            .map_or("none".to_owned(), |(s, at)| format!(
                "{} (since {})",
                escape(s),
                escape(at)
            ))
    );
    for status in STATUSES {
        let _ = write!(body, "<button name=\"status\" value=\"{status}\" formaction=\"/inbox/leads/{}/status\">Mark {status}</button> ", encode(&row.id));
    }
    body.push_str("</form></section><section><h2>Answers</h2><table><tbody>");
    if let Some(answers) = doc["answers"].as_object() {
        for (id, value) in answers {
            let (label, text) = answer_text(form.as_deref(), id, value);
            let _ = write!(
                body,
                "<tr><th scope=\"row\">{}</th><td>{}</td></tr>",
                escape(&label),
                escape(&text)
            );
        }
    }
    body.push_str("</tbody></table></section><section><h2>Score</h2><table><thead><tr><th>Category</th><th>Points</th><th>Of</th><th>Score</th><th>Weight</th></tr></thead><tbody>");
    if let Some(breakdown) = doc["score"]["breakdown"].as_object() {
        for (category, part) in breakdown {
            let _ = write!(
                body,
                "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
                escape(category),
                part["points"],
                part["maxPoints"],
                part["score"],
                part["weight"]
            );
        }
    }
    body.push_str("</tbody></table><ul>");
    for reason in doc["score"]["reasons"].as_array().into_iter().flatten() {
        let _ = write!(
            body,
            "<li>{}</li>",
            escape(reason["text"].as_str().unwrap_or(""))
        );
    }
    body.push_str("</ul></section><section><h2>Attribution</h2><table><tbody>");
    let page_url = doc["page"]["url"].as_str().unwrap_or("");
    for (label, value) in [
        ("Page", page_url),
        ("Page title", doc["page"]["title"].as_str().unwrap_or("")),
        ("Referrer", doc["page"]["referrer"].as_str().unwrap_or("")),
        ("UTM source", row.utm[0].as_deref().unwrap_or("")),
        ("UTM medium", row.utm[1].as_deref().unwrap_or("")),
        ("UTM campaign", row.utm[2].as_deref().unwrap_or("")),
    ] {
        let _ = write!(
            body,
            "<tr><th scope=\"row\">{label}</th><td>{}</td></tr>",
            escape(value)
        );
    }
    body.push_str("</tbody></table></section><section><h2>Context</h2><table><tbody>");
    let context = &doc["context"];
    let text = |v: &Value| match v {
        Value::String(s) => s.clone(),
        Value::Null => String::new(),
        other => other.to_string(),
    };
    let fill_time = context["fillTimeMs"]
        .as_f64()
        .map(|ms| format!("{:.1} s", ms / 1000.0))
        .unwrap_or_default();
    for (label, value) in [
        (
            "Email domain",
            format!(
                "{} {}",
                text(&context["emailDomain"]),
                text(&context["emailDomainKind"])
            ),
        ),
        ("Company domain", text(&context["companyDomain"])),
        ("Browser language", text(&context["browserLocale"])),
        ("Time zone", text(&context["timeZone"])),
        ("Time to fill in", fill_time),
        ("Form variant", text(&context["variant"])),
    ] {
        let _ = write!(
            body,
            "<tr><th scope=\"row\">{label}</th><td>{}</td></tr>",
            escape(value.trim())
        );
    }
    body.push_str("</tbody></table></section>");
    if let Some(consent) = doc["consent"].as_object() {
        let _ = write!(
            body,
            "<section><h2>Consent</h2><p>{}: “{}”</p></section>",
            if consent.get("given").and_then(Value::as_bool) == Some(true) {
                "Given"
            } else {
                "Refused"
            },
            escape(consent.get("text").and_then(Value::as_str).unwrap_or(""))
        );
    }
    let pretty = serde_json::to_string_pretty(doc).unwrap_or_default();
    let _ = write!(
        body,
        "<section><h2>Document</h2><pre>{}</pre></section></main>",
        escape(&pretty)
    );
    Ok(page(&format!("Lead {who}"), &body))
}

fn parse_status(s: &str) -> Result<&'static str, AppError> {
    STATUSES.iter().copied().find(|st| *st == s).ok_or_else(|| {
        AppError::bad(
            StatusCode::UNPROCESSABLE_ENTITY,
            format!("status must be one of {}, not \"{s}\"", STATUSES.join(", ")),
            Some("status"),
        )
    })
}

async fn record_status(
    state: &AppState,
    id: String,
    status: &'static str,
) -> Result<String, AppError> {
    let at = time::now_rfc3339();
    let found = state.store.set_status(&id, status, &at).await?;
    if found {
        Ok(at)
    } else {
        Err(AppError::bad(
            StatusCode::NOT_FOUND,
            format!("no lead \"{id}\""),
            Some("id"),
        ))
    }
}

/// Basic auth is sent by the browser on any form post: accept only our own pages' posts.
pub(crate) fn from_the_inbox(headers: &HeaderMap) -> Result<(), AppError> {
    let host = headers
        .get(header::HOST)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    let origin = headers.get(header::ORIGIN).and_then(|v| v.to_str().ok());
    if origin.is_some_and(|o| {
        o.split_once("://")
            .is_some_and(|(_, a)| a.eq_ignore_ascii_case(host))
    }) {
        Ok(())
    } else {
        Err(AppError::bad(
            StatusCode::FORBIDDEN,
            "changes must come from the inbox itself",
            None,
        ))
    }
}

/// A change through the API may come from a script or a server (no `Origin`), or from the
/// inbox's own pages, never from another site's page: a browser that holds the inbox's Basic
/// credentials would send them with it.
pub(crate) fn not_from_another_site(headers: &HeaderMap) -> Result<(), AppError> {
    if headers.contains_key(header::ORIGIN) {
        from_the_inbox(headers)
    } else {
        Ok(())
    }
}

/// `POST /inbox/leads/{id}/status` from the inbox's buttons (form-encoded).
pub(crate) async fn status_form(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(id): Path<String>,
    body: String,
) -> Result<Response, AppError> {
    require_admin(&state.settings, &headers, true)?;
    from_the_inbox(&headers)?;
    let status = body
        .split('&')
        .find_map(|pair| pair.strip_prefix("status="))
        .map(percent_decode)
        .unwrap_or_default();
    let status = parse_status(&status)?;
    record_status(&state, id.clone(), status).await?;
    Ok(Redirect::to(&format!("/inbox/leads/{}", encode(&id))).into_response())
}

/// Body of `POST /v1/leads/{id}/status`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct StatusBody {
    status: String,
}

/// `POST /v1/leads/{id}/status` with `{"status": "won"}` and the admin token.
pub(crate) async fn status_api(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(id): Path<String>,
    body: Result<Json<StatusBody>, axum::extract::rejection::JsonRejection>,
) -> Result<Response, AppError> {
    require_admin(&state.settings, &headers, false)?;
    not_from_another_site(&headers)?;
    let Json(body) = body.map_err(|e| AppError::bad(e.status(), e.body_text(), Some("status")))?;
    let status = parse_status(&body.status)?;
    let at = record_status(&state, id.clone(), status).await?;
    Ok(Json(json!({ "id": id, "status": status, "statusAt": at })).into_response())
}

/// Quotes a CSV cell; cells that a spreadsheet would run as a formula get a leading `'`.
fn csv_cell(s: &str) -> String {
    // NUL ends a cell early in some readers; it never belongs in lead text.
    let s: String = s.chars().filter(|&c| c != '\0').collect();
    // What a spreadsheet may run as a formula, including its full-width forms and a formula
    // hidden behind a space, a line break, a zero-width space or a byte-order mark.
    let risky = [
        '=', '+', '-', '@', '\t', '\r', '\n', ' ', '\u{FF1D}', '\u{FF0B}', '\u{FF0D}', '\u{FF20}',
        '\u{200B}', '\u{FEFF}',
    ];
    let s = if s.starts_with(risky) {
        format!("'{s}")
    } else {
        s
    };
    if s.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", s.replace('"', "\"\""))
    } else {
        s
    }
}

/// The CSV header: one line, then one line per lead.
const CSV_HEADER: &str = "id,received_at,submitted_at,form_id,email,company,grade,total,client_total,score_mismatch,utm_source,utm_medium,utm_campaign,status,status_at,page_url,reasons,spam,email_domain_kind,company_domain,variant\r\n";

/// Leads an export reads from the database at a time.
const EXPORT_PAGE: u32 = 500;

/// `GET /v1/leads.csv?…`: the leads matching the inbox's filters, newest first, from `offset`
/// (default 0), at most `limit` (default all). Streamed: the export reads the database a page
/// at a time and sends each page as it goes, so memory stays flat and posts are not held up
/// however many leads there are.
pub(crate) async fn csv(
    State(state): State<AppState>,
    headers: HeaderMap,
    query: Result<Query<FilterQuery>, axum::extract::rejection::QueryRejection>,
) -> Result<Response, AppError> {
    let (query, filter) = admin_filter(&state, &headers, query)?;
    let limit = query.limit;
    let page_size = move |sent: u64| -> u32 {
        limit.map_or(EXPORT_PAGE, |l| {
            u32::try_from(l.saturating_sub(sent)).map_or(EXPORT_PAGE, |left| left.min(EXPORT_PAGE))
        })
    };
    // The first page is read before answering: a database error is still a 500.
    let first = if page_size(0) == 0 {
        Vec::new()
    } else {
        state
            .store
            .rows(&filter, page_size(0), query.offset.unwrap_or(0))
            .await?
    };
    let (tx, rx) = tokio::sync::mpsc::channel::<Result<axum::body::Bytes, std::io::Error>>(4);
    let store = state.store.clone();
    tokio::spawn(async move {
        let mut page = first;
        let mut out = String::from(CSV_HEADER);
        let mut sent: u64 = 0;
        loop {
            for row in &page {
                csv_row(&mut out, row);
            }
            sent += page.len() as u64;
            let full = page.len() == EXPORT_PAGE as usize;
            let cursor = page.last().map(Row::cursor);
            if tx.send(Ok(std::mem::take(&mut out).into())).await.is_err() {
                return; // The client went away.
            }
            let want = page_size(sent);
            let (Some(cursor), true) = (cursor, full && want > 0) else {
                return;
            };
            page = match store.rows_after(&filter, &cursor, want).await {
                Ok(page) => page,
                Err(err) => {
                    // The answer has begun: end it broken, so the client does not take half
                    // an export for all of it.
                    eprintln!("bantam-collector: a CSV export stopped after {sent} leads: {err}");
                    let _ = tx.send(Err(std::io::Error::other(err.to_string()))).await;
                    return;
                }
            };
        }
    });
    Ok((
        [
            (header::CONTENT_TYPE, "text/csv; charset=utf-8"),
            (
                header::CONTENT_DISPOSITION,
                "attachment; filename=\"leads.csv\"",
            ),
        ],
        axum::body::Body::new(Chunks(rx)),
    )
        .into_response())
}

/// A response body fed page by page through a channel.
struct Chunks(tokio::sync::mpsc::Receiver<Result<axum::body::Bytes, std::io::Error>>);

impl hyper::body::Body for Chunks {
    type Data = axum::body::Bytes;
    type Error = std::io::Error;

    fn poll_frame(
        mut self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<Option<Result<hyper::body::Frame<Self::Data>, Self::Error>>> {
        self.0
            .poll_recv(cx)
            .map(|chunk| chunk.map(|c| c.map(hyper::body::Frame::data)))
    }
}

/// One lead as a CSV line.
fn csv_row(out: &mut String, r: &Row) {
    let reasons: Vec<&str> = r.document["score"]["reasons"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|x| x["text"].as_str())
        .collect();
    let (status, status_at) = r.status.clone().unwrap_or_default();
    let text = |v: &Value| v.as_str().unwrap_or("").to_owned();
    let cells = [
        r.id.clone(),
        r.received_at.clone(),
        r.submitted_at.clone(),
        r.form_id.clone(),
        r.email.clone().unwrap_or_default(),
        r.company.clone().unwrap_or_default(),
        r.grade.clone(),
        r.total.to_string(),
        r.client_total.map(|t| t.to_string()).unwrap_or_default(),
        r.score_mismatch.to_string(),
        r.utm[0].clone().unwrap_or_default(),
        r.utm[1].clone().unwrap_or_default(),
        r.utm[2].clone().unwrap_or_default(),
        status,
        status_at,
        text(&r.document["page"]["url"]),
        reasons.join("; "),
        (r.document["spam"]["flagged"] == Value::Bool(true)).to_string(),
        text(&r.document["context"]["emailDomainKind"]),
        text(&r.document["context"]["companyDomain"]),
        text(&r.document["context"]["variant"]),
    ];
    for (i, cell) in cells.iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        out.push_str(&csv_cell(cell));
    }
    out.push_str("\r\n");
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn html_and_csv_are_escaped() {
        assert_eq!(
            escape("<b a='1'>&\"</b>"),
            "&lt;b a=&#39;1&#39;&gt;&amp;&quot;&lt;/b&gt;"
        );
        assert_eq!(csv_cell("plain"), "plain");
        assert_eq!(csv_cell("a,b"), "\"a,b\"");
        assert_eq!(csv_cell("say \"hi\""), "\"say \"\"hi\"\"\"");
        assert_eq!(csv_cell("=HYPERLINK(\"x\")"), "\"'=HYPERLINK(\"\"x\"\")\"");
        assert_eq!(csv_cell("-2"), "'-2");
        // Formulas behind what earlier escaping missed: NUL (dropped), a line feed, a space,
        // full-width signs, a zero-width space, a byte-order mark.
        assert_eq!(csv_cell("=1\0+1"), "'=1+1");
        assert_eq!(csv_cell("\0=1+1"), "'=1+1");
        assert_eq!(csv_cell("\n=1+1"), "\"'\n=1+1\"");
        assert_eq!(csv_cell(" =1+1"), "' =1+1");
        assert_eq!(csv_cell("\u{FF1D}1+1"), "'\u{FF1D}1+1");
        assert_eq!(csv_cell("\u{200B}=1+1"), "'\u{200B}=1+1");
        assert_eq!(csv_cell("\u{FEFF}=1+1"), "'\u{FEFF}=1+1");
    }
}
