//! The sales inbox: server-rendered HTML, CSV export and sales feedback.
//!
//! Every text from a lead is escaped; the pages are sent with a CSP that allows no inline
//! script. The one script, [`LOCAL_TIME_JS`], is a file the collector serves: it rewrites the
//! pages' times (written in UTC) into the browser's own zone, and the pages read right without
//! it. The pages fit a 390 px phone: wide tables turn into cards there.

use std::borrow::Cow;
use std::fmt::Write as _;

use axum::extract::{Path, Query, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use axum::Json;
use serde::Deserialize;
use serde_json::{json, Value};

use crate::store::{Daily, DeliveryState, Filter, Row, SourceQuality, NEW, STATUSES};
use bantam_engine::percent_decode;

use crate::users::{self, Role, Who};
use crate::{require_admin, require_user, time, AppError, AppState};

pub(crate) mod editor;
pub(crate) mod forms;
pub(crate) mod proposal;

/// Rows a page of the inbox shows.
const PAGE: u32 = 50;

/// Filters as query parameters, shared by the inbox and the CSV export. Every value is text
/// here and checked by [`FilterQuery::check`], so a bad one gets a message that names it.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct FilterQuery {
    grade: Option<String>,
    status: Option<String>,
    form: Option<String>,
    source: Option<String>,
    medium: Option<String>,
    campaign: Option<String>,
    from: Option<String>,
    to: Option<String>,
    q: Option<String>,
    owner: Option<String>,
    offset: Option<String>,
    /// Most leads a CSV export holds (the inbox shows pages of 50 whatever it says).
    limit: Option<String>,
}

/// A filter value that cannot be used: what is wrong, and which parameter.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct BadFilter {
    message: String,
    field: Option<&'static str>,
}

impl BadFilter {
    /// A filter value that cannot be used, and the parameter at fault if one is.
    pub(crate) fn new(message: String, field: Option<&'static str>) -> BadFilter {
        BadFilter { message, field }
    }
}

impl From<BadFilter> for AppError {
    fn from(bad: BadFilter) -> AppError {
        AppError::bad(StatusCode::BAD_REQUEST, bad.message, bad.field)
    }
}

/// A checked filter: the store's filter, the first row and the most rows to read.
pub(crate) struct CheckedFilter {
    pub(crate) filter: Filter,
    pub(crate) offset: u32,
    pub(crate) limit: Option<u64>,
}

fn non_empty(value: &Option<String>) -> Option<String> {
    value
        .as_ref()
        .map(|v| v.trim().to_owned())
        .filter(|v| !v.is_empty())
}

/// Whether `date` is a real day written `YYYY-MM-DD`.
fn is_day(date: &str) -> bool {
    date.len() == 10
        && time::parse_rfc3339(&format!("{date}T00:00:00Z"))
            .is_some_and(|ms| time::format_rfc3339(ms).starts_with(date))
}

impl FilterQuery {
    /// Checks every value; `grades` are the grade names the forms know (a grade filter must
    /// name one of them when there are any).
    pub(crate) fn check(&self, grades: &[String]) -> Result<CheckedFilter, BadFilter> {
        let bad = |message: String, field: &'static str| BadFilter {
            message,
            field: Some(field),
        };
        for (name, date) in [("from", &self.from), ("to", &self.to)] {
            if let Some(date) = non_empty(date) {
                if !is_day(&date) {
                    return Err(bad(
                        format!("“{date}” is not a date: {name} must be a day like 2026-11-23"),
                        name,
                    ));
                }
            }
        }
        let grade = non_empty(&self.grade);
        if let Some(grade) = &grade {
            if !grades.is_empty() && !grades.contains(grade) {
                return Err(bad(
                    format!(
                        "no grade is called “{grade}”: the grade must be one of {}",
                        grades.join(", ")
                    ),
                    "grade",
                ));
            }
        }
        let status = non_empty(&self.status);
        if let Some(status) = &status {
            if status != NEW && !STATUSES.contains(&status.as_str()) {
                return Err(bad(
                    format!(
                        "no status is called “{status}”: the status must be one of {NEW}, {}",
                        STATUSES.join(", ")
                    ),
                    "status",
                ));
            }
        }
        let offset = match non_empty(&self.offset) {
            None => 0,
            Some(o) => o.parse::<u32>().map_err(|_| {
                bad(
                    format!("“{o}” is not a page: offset must be a whole number of leads from the newest, like 50"),
                    "offset",
                )
            })?,
        };
        let limit = match non_empty(&self.limit) {
            None => None,
            Some(l) => Some(l.parse::<u64>().map_err(|_| {
                bad(
                    format!("“{l}” is not a number: limit must be a whole number of leads"),
                    "limit",
                )
            })?),
        };
        Ok(CheckedFilter {
            filter: Filter {
                grade,
                form: non_empty(&self.form),
                source: non_empty(&self.source),
                medium: non_empty(&self.medium),
                campaign: non_empty(&self.campaign),
                status,
                from: non_empty(&self.from),
                to: non_empty(&self.to),
                search: non_empty(&self.q),
                owner: non_empty(&self.owner),
            },
            offset,
            limit,
        })
    }

    /// The owner, when it is the only filter set (a rep's "My people").
    pub(crate) fn only_owner(&self) -> Option<&str> {
        let set = self
            .query_string()
            .split('&')
            .filter(|p| !p.is_empty())
            .count();
        self.owner
            .as_deref()
            .filter(|owner| set == 1 && !owner.trim().is_empty())
    }

    /// The query string for the same filters (for links), without the offset.
    pub(crate) fn query_string(&self) -> String {
        let pairs = [
            ("grade", &self.grade),
            ("status", &self.status),
            ("form", &self.form),
            ("source", &self.source),
            ("medium", &self.medium),
            ("campaign", &self.campaign),
            ("from", &self.from),
            ("to", &self.to),
            ("q", &self.q),
            ("owner", &self.owner),
        ];
        pairs
            .iter()
            .filter_map(|(k, v)| non_empty(v).map(|v| format!("{k}={}", encode(&v))))
            .collect::<Vec<_>>()
            .join("&")
    }
}

/// The filters that lead-source quality and the chart follow: form, dates, source, medium and
/// campaign. Grade, status, owner and search pick leads within a source, so they are left out
/// (a grade filter would make every source 100% of that grade, an owner filter would hide the
/// people nobody was given).
pub(crate) fn quality_filter(filter: &Filter) -> Filter {
    Filter {
        grade: None,
        status: None,
        search: None,
        owner: None,
        ..filter.clone()
    }
}

/// The grade names of the loaded forms, each once, in the order the forms list them (forms by
/// id), and the form ids.
pub(crate) fn forms_and_grades(state: &AppState) -> Result<(Vec<String>, Vec<String>), AppError> {
    let forms = state
        .forms
        .read()
        .map_err(|_| AppError::Internal("forms lock".into()))?;
    let mut ids = forms.ids();
    ids.sort();
    let mut grades: Vec<String> = Vec::new();
    for form in ids.iter().filter_map(|id| forms.get(id)) {
        for grade in &form.grades {
            if !grades.contains(&grade.name) {
                grades.push(grade.name.clone());
            }
        }
    }
    Ok((ids, grades))
}

/// The query of a filtered, admin-only API read: checks the token, then the filters (a bad
/// one is a JSON 400).
pub(crate) fn admin_filter(
    state: &AppState,
    headers: &HeaderMap,
    query: Result<Query<FilterQuery>, axum::extract::rejection::QueryRejection>,
) -> Result<CheckedFilter, AppError> {
    require_admin(&state.settings, headers, false)?;
    let query = crate::read_query(query)?;
    let (_, grades) = forms_and_grades(state)?;
    Ok(query.check(&grades)?)
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

/// The Newer / Older links of a list at `path` showing `page` rows from `offset` of `total`,
/// keeping the filters' query string `qs`.
pub(crate) fn pager(path: &str, qs: &str, offset: u32, page: u32, total: u64) -> String {
    let mut out = String::from("<nav class=\"pager\" aria-label=\"Pages\">");
    let (qs, sep) = (escape(qs), if qs.is_empty() { "" } else { "&amp;" });
    if offset > 0 {
        let newer = offset.saturating_sub(page);
        let _ = write!(out, "<a href=\"{path}?{qs}{sep}offset={newer}\">Newer</a>");
    }
    // No "Older" past the last offset a link can carry (it would wrap to the first page).
    if let Some(older) = offset.checked_add(page).filter(|&o| u64::from(o) < total) {
        let _ = write!(out, "<a href=\"{path}?{qs}{sep}offset={older}\">Older</a>");
    }
    out.push_str("</nav>");
    out
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

/// A stored UTC time for a page: readable, with its zone, and machine-readable for the
/// local-time script.
pub(crate) fn when(at: &str) -> String {
    format!(
        "<time datetime=\"{}\">{}</time>",
        escape(at),
        escape(&time::readable(at))
    )
}

/// The pages' style. Below 40rem (phones), tables marked `cards` become one card per row,
/// each cell labelled by its `data-label`; other tables share the width and wrap.
const STYLE: &str = "*{box-sizing:border-box}body{font-family:system-ui,sans-serif;margin:0;color:#111827;background:#f8fafc;line-height:1.45}
header,main,footer{max-width:80rem;margin:0 auto;padding:1rem 1.5rem}footer{color:#4b5563;font-size:.85rem}
header{display:flex;flex-wrap:wrap;gap:.25rem 1.5rem;justify-content:space-between;align-items:baseline}h1{margin:.25rem 0;font-size:1.5rem;overflow-wrap:anywhere}
header p{margin:.25rem 0}header a,.pager a,nav a{display:inline-block;padding:.3rem 0;min-height:24px}
table{border-collapse:collapse;width:100%;background:#fff;font-size:.9rem}th,td{text-align:left;padding:.45rem .6rem;border-bottom:1px solid #e5e7eb;vertical-align:top;overflow-wrap:break-word}
th{background:#f1f5f9}td.num,th.num{text-align:right}.badge{display:inline-block;padding:.1rem .5rem;border-radius:1rem;font-weight:600;font-size:.8rem;background:#e5e7eb}
.g0{background:#fee2e2;color:#991b1b}.g1{background:#fef3c7;color:#92400e}.g2{background:#dbeafe;color:#1e40af}
.filters{display:grid;grid-template-columns:repeat(auto-fill,minmax(10rem,1fr));gap:.75rem;align-items:end;margin:0 0 1rem}.filters label{display:flex;flex-direction:column;font-size:.8rem;gap:.2rem}
.filters .actions{display:flex;gap:1rem;align-items:center}.filterbox{margin:0 0 1rem}.filterbox>summary{display:inline-block;min-height:44px;box-sizing:border-box;padding:.6rem .9rem;border:1px solid #9ca3af;border-radius:.4rem;font-weight:600}.filterbox>summary::before{content:'▸ '}.filterbox[open]>summary::before{content:'▾ '}.filterbox[open]>summary{margin-bottom:.75rem}
input,select,button{font:inherit;padding:.35rem .5rem;min-height:2.25rem;max-width:100%}button{cursor:pointer}.warn{color:#b45309;font-weight:600}a{color:#1d4ed8}
.error{border:2px solid #b91c1c;background:#fef2f2;color:#7f1d1d;padding:.6rem .8rem;border-radius:.4rem;margin:0 0 1rem}[aria-invalid=true]{border:2px solid #b91c1c}
section{margin:1.5rem 0}pre{background:#fff;padding:1rem;font-size:.8rem;white-space:pre-wrap;overflow-wrap:anywhere}.pager{display:flex;gap:1.5rem;margin:1rem 0}
.lead a{font-weight:600;display:inline-block;padding:.15rem 0}.lead small{display:block;color:#4b5563}.note{color:#4b5563;font-size:.85rem}
.chart svg{width:100%;max-width:40rem;height:auto;display:block}.chart text{fill:#374151}
.actions-row{display:flex;flex-wrap:wrap;gap:.5rem}.facts{display:grid;grid-template-columns:repeat(auto-fill,minmax(14rem,1fr));gap:.5rem 1.5rem;margin:0}.facts dt{font-size:.8rem;color:#4b5563}.facts dd{margin:0}summary{padding:.35rem 0;cursor:pointer}.filters .actions a{display:inline-block;padding:.35rem 0}
@media (max-width:40rem){header,main,footer{padding:.75rem}table{table-layout:fixed}th,td{overflow-wrap:anywhere;padding:.4rem}
table.cards,table.cards tbody,table.cards tr,table.cards td{display:block;width:100%}
table.cards thead{position:absolute;width:1px;height:1px;overflow:hidden;clip-path:inset(50%)}
table.cards tr{background:#fff;border:1px solid #e5e7eb;border-radius:.5rem;margin:0 0 .75rem;padding:.5rem .75rem}
table.cards td{border:0;padding:.15rem 0;display:flex;gap:.75rem;text-align:left}table.cards td:empty{display:none}
table.cards td::before{content:attr(data-label);flex:0 0 6.5rem;color:#4b5563;font-size:.8rem}table.cards td.lead::before{content:none}
table.cards td.lead{display:block;font-size:1rem}
table.cards th[scope=row]{display:block;background:none;border:0;padding:0 0 .25rem;font-size:1rem}}
.account{display:flex;flex-wrap:wrap;gap:.25rem 1rem;justify-content:flex-end;align-items:center;max-width:80rem;margin:0 auto;padding:.5rem 1.5rem 0;font-size:.9rem}.account form{margin:0}
.card{max-width:26rem;background:#fff;border:1px solid #e5e7eb;border-radius:.5rem;padding:1rem 1.25rem}.stack{display:flex;flex-direction:column;gap:.9rem}
.stack label{display:flex;flex-direction:column;gap:.25rem;font-weight:600}.stack button{align-self:flex-start;background:#1d4ed8;color:#fff;border:0;border-radius:.35rem;padding:.5rem 1rem}
td .actions-row form{display:flex;flex-wrap:wrap;gap:.5rem;align-items:end}td .actions-row label{display:flex;flex-direction:column;font-size:.8rem}";

/// The script that shows the pages' times in the browser's own zone (served as a file: the
/// pages' CSP allows no inline script).
pub(crate) const LOCAL_TIME_JS: &str = r#"// Shows the inbox's times, written by the server in UTC, in this browser's own time zone.
for (const el of document.querySelectorAll("time[datetime]")) {
  const at = new Date(el.dateTime);
  if (Number.isNaN(at.getTime()) || !el.dateTime.includes("T")) continue;
  el.title = el.textContent;
  el.textContent = at.toLocaleString(undefined, {
    day: "numeric", month: "short", year: "numeric", hour: "2-digit", minute: "2-digit",
    timeZoneName: "short",
  });
  el.dataset.local = "1";
}
"#;

/// `GET /inbox/local-time.js`: [`LOCAL_TIME_JS`].
pub(crate) async fn local_time_js() -> Response {
    (
        [
            (header::CONTENT_TYPE, "text/javascript; charset=utf-8"),
            (header::CACHE_CONTROL, "no-cache"),
        ],
        LOCAL_TIME_JS,
    )
        .into_response()
}

pub(crate) fn page(title: &str, body: &str) -> Response {
    page_full(StatusCode::OK, title, body, None)
}

/// [`page`] with a script file the collector serves (`/inbox/assets/…`): the CSP then allows
/// scripts from the collector itself, still none inline.
pub(crate) fn page_with(title: &str, body: &str, script: Option<&str>) -> Response {
    page_full(StatusCode::OK, title, body, script)
}

/// A page of the inbox with its status code (a bad filter is a 400 page, not JSON).
pub(crate) fn page_with_status(status: StatusCode, title: &str, body: &str) -> Response {
    page_full(status, title, body, None)
}

/// A page of the inbox: its own script file if it has one, and the local-time script only when
/// it shows times; a page without either has no script at all, and its CSP allows none.
fn page_full(status: StatusCode, title: &str, body: &str, script: Option<&str>) -> Response {
    let mut tags = String::new();
    if let Some(src) = script {
        let _ = write!(tags, "<script src=\"{}\" defer></script>", escape(src));
    }
    if body.contains("<time ") {
        tags.push_str("<script src=\"/inbox/local-time.js\" defer></script>");
    }
    let csp = if tags.is_empty() {
        "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'; frame-ancestors 'none'"
    } else {
        "default-src 'none'; script-src 'self'; style-src 'unsafe-inline'; form-action 'self'; frame-ancestors 'none'"
    };
    let html = format!(
        "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\"><meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">{}<title>{}</title><style>{STYLE}</style>{tags}</head><body>{}{body}<footer>Bantam {}</footer></body></html>",
        users::csrf_meta(),
        escape(title),
        users::account_bar(),
        bantam_engine::ENGINE_VERSION
    );
    (
        status,
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
pub(crate) fn badge(state: &AppState, form_id: &str, grade: &str) -> String {
    let rank = state
        .forms
        .read()
        .ok()
        .and_then(|forms| forms.get(form_id))
        .and_then(|form| form.grade_index(grade))
        .map_or(9, |i| i.min(2));
    format!("<span class=\"badge g{rank}\">{}</span>", escape(grade))
}

pub(crate) fn opt(value: &Option<String>) -> String {
    escape(value.as_deref().unwrap_or(""))
}

fn source_label(utm: &[Option<String>; 3]) -> String {
    let parts: Vec<&str> = utm.iter().map(|v| v.as_deref().unwrap_or("–")).collect();
    escape(&parts.join(" / "))
}

/// What lead-source quality and the chart are computed over, in words.
pub(crate) fn scope_text(filter: &Filter) -> String {
    let mut parts = Vec::new();
    if let Some(form) = &filter.form {
        parts.push(format!("form {}", escape(form)));
    }
    for (what, value) in [
        ("source", &filter.source),
        ("medium", &filter.medium),
        ("campaign", &filter.campaign),
    ] {
        if let Some(v) = value {
            parts.push(format!("{what} {}", escape(v)));
        }
    }
    match (&filter.from, &filter.to) {
        (Some(f), Some(t)) => parts.push(format!(
            "{} to {}",
            time::readable_day(f),
            time::readable_day(t)
        )),
        (Some(f), None) => parts.push(format!("from {}", time::readable_day(f))),
        (None, Some(t)) => parts.push(format!("up to {}", time::readable_day(t))),
        (None, None) => {}
    }
    let over = if parts.is_empty() {
        "all leads".to_owned()
    } else {
        format!("all leads of {}", parts.join(", "))
    };
    format!("Computed over {over}, whatever their grade, sales status or owner: the grade, status, owner and search filters choose the leads listed below, not these figures. Sources, mediums and campaigns are compared without regard to case (Google is google).")
}

fn quality_section(rows: &[SourceQuality], scope: &str) -> String {
    let mut out = format!(
        "<section aria-labelledby=\"sq\"><h2 id=\"sq\">Lead-source quality</h2><p class=\"note\">{scope}</p>"
    );
    if rows.is_empty() {
        out.push_str("<p>No leads yet.</p></section>");
        return out;
    }
    out.push_str("<table class=\"cards\"><thead><tr><th scope=\"col\">Source</th><th scope=\"col\">Medium</th><th scope=\"col\">Campaign</th><th scope=\"col\" class=\"num\">Leads</th><th scope=\"col\" class=\"num\">Best grade</th><th scope=\"col\" class=\"num\">Average score</th></tr></thead><tbody>");
    for r in rows {
        let share = if r.leads == 0 {
            0.0
        } else {
            r.best as f64 * 100.0 / r.leads as f64
        };
        let _ = write!(
            out,
            "<tr><td data-label=\"Source\">{}</td><td data-label=\"Medium\">{}</td><td data-label=\"Campaign\">{}</td><td data-label=\"Leads\" class=\"num\">{}</td><td data-label=\"Best grade\" class=\"num\">{share:.0}%</td><td data-label=\"Average score\" class=\"num\">{:.1}</td></tr>",
            r.utm[0].as_deref().map_or("(none)".to_owned(), escape),
            opt(&r.utm[1]),
            opt(&r.utm[2]),
            r.leads,
            r.average
        );
    }
    out.push_str("</tbody></table></section>");
    out
}

/// The days the chart shows: the filter's dates, or the 30 days up to `today`; at most 90.
fn chart_days(filter: &Filter, today: &str) -> Vec<String> {
    let last = filter
        .to
        .clone()
        .filter(|t| t.as_str() <= today)
        .unwrap_or_else(|| today.to_owned());
    let earliest = time::add_days(&last, -89).unwrap_or_else(|| last.clone());
    let first = match &filter.from {
        Some(from) if from.as_str() >= earliest.as_str() && from.as_str() <= last.as_str() => {
            from.clone()
        }
        Some(from) if from.as_str() > last.as_str() => last.clone(),
        Some(_) => earliest,
        None => time::add_days(&last, -29).unwrap_or_else(|| last.clone()),
    };
    let mut days = vec![first];
    while let Some(next) = days.last().and_then(|d| time::add_days(d, 1)) {
        if next.as_str() > last.as_str() {
            break;
        }
        days.push(next);
    }
    days
}

/// The step between labelled values on the chart's axis: 1, 2 or 5 times a power of ten, so
/// that `max` needs at most 4 steps.
fn axis_step(max: u64) -> u64 {
    let mut step = 1;
    loop {
        for m in [1, 2, 5] {
            if max <= step * m * 4 {
                return step * m;
            }
        }
        step *= 10;
    }
}

/// Leads per day as an SVG bar chart with labelled axes (leads up, days across), the best
/// grade's share drawn darker, and the same numbers as a table for screen readers and anyone
/// who wants them.
fn chart_section(daily: &[Daily], days: &[String], scope: &str) -> String {
    let count = |day: &str| {
        daily
            .iter()
            .find(|d| d.day == day)
            .map_or((0, 0), |d| (d.leads, d.best))
    };
    let max = days.iter().map(|d| count(d).0).max().unwrap_or(0).max(1);
    let step = axis_step(max);
    let top = step * max.div_ceil(step);
    let (left, right, plot_top, bottom) = (40.0, 352.0, 12.0, 150.0);
    let width = (right - left) / days.len().max(1) as f64;
    let y = |v: u64| bottom - (bottom - plot_top) * v as f64 / top as f64;
    let total: u64 = days.iter().map(|d| count(d).0).sum();
    let best: u64 = days.iter().map(|d| count(d).1).sum();
    let (first, last) = (
        time::readable_day(days.first().map_or("", String::as_str)),
        time::readable_day(days.last().map_or("", String::as_str)),
    );
    let mut out = format!(
        "<section aria-labelledby=\"ld\" class=\"chart\"><h2 id=\"ld\">Leads per day</h2><p class=\"note\">{scope}</p><svg role=\"img\" aria-labelledby=\"chart-title chart-desc\" viewBox=\"0 0 360 190\" font-size=\"10\"><title id=\"chart-title\">Leads per day, {first} to {last}</title><desc id=\"chart-desc\">{total} leads, {best} of them with the best grade. Vertical axis: leads per day, 0 to {top}. Horizontal axis: day received (UTC). The table below the chart has each day's numbers.</desc>"
    );
    // The value axis: grid lines with their numbers, and its title.
    let mut v = 0;
    while v <= top {
        let _ = write!(
            out,
            "<line x1=\"{left}\" x2=\"{right}\" y1=\"{0:.1}\" y2=\"{0:.1}\" stroke=\"#e5e7eb\"></line><text x=\"{1}\" y=\"{2:.1}\" text-anchor=\"end\">{v}</text>",
            y(v),
            left - 4.0,
            y(v) + 3.5
        );
        v += step;
    }
    let _ = write!(
        out,
        "<text x=\"10\" y=\"{0}\" transform=\"rotate(-90 10 {0})\" text-anchor=\"middle\">Leads</text>",
        (plot_top + bottom) / 2.0
    );
    for (i, day) in days.iter().enumerate() {
        let (leads, best) = count(day);
        let x = left + i as f64 * width;
        if leads > 0 {
            let _ = write!(
                out,
                "<rect x=\"{:.1}\" y=\"{:.1}\" width=\"{:.1}\" height=\"{:.1}\" fill=\"#93c5fd\"></rect>",
                x + width * 0.1,
                y(leads),
                width * 0.8,
                bottom - y(leads)
            );
        }
        if best > 0 {
            let _ = write!(
                out,
                "<rect x=\"{:.1}\" y=\"{:.1}\" width=\"{:.1}\" height=\"{:.1}\" fill=\"#b91c1c\"></rect>",
                x + width * 0.1,
                y(best),
                width * 0.8,
                bottom - y(best)
            );
        }
    }
    // The day axis: its line, the first, middle and last days, and its title.
    let _ = write!(
        out,
        "<line x1=\"{left}\" x2=\"{right}\" y1=\"{bottom}\" y2=\"{bottom}\" stroke=\"#6b7280\"></line>"
    );
    let label = |day: &str| {
        let text = time::readable_day(day);
        text.rsplit_once(' ')
            .map_or(text.clone(), |(dm, _)| dm.to_owned())
    };
    let mut marks = vec![0, days.len().saturating_sub(1)];
    if days.len() > 8 {
        marks.insert(1, days.len() / 2);
    }
    marks.dedup();
    for (n, &i) in marks.iter().enumerate() {
        let anchor = match n {
            0 => "start",
            _ if n == marks.len() - 1 => "end",
            _ => "middle",
        };
        let x = match anchor {
            "start" => left + i as f64 * width,
            "end" => left + (i + 1) as f64 * width,
            _ => left + (i as f64 + 0.5) * width,
        };
        let _ = write!(
            out,
            "<text x=\"{x:.1}\" y=\"{}\" text-anchor=\"{anchor}\">{}</text>",
            bottom + 13.0,
            escape(&label(&days[i]))
        );
    }
    let _ = write!(
        out,
        "<text x=\"{}\" y=\"184\" text-anchor=\"middle\">Day received (UTC) · dark: best grade</text></svg>",
        (left + right) / 2.0
    );
    out.push_str("<details><summary>The chart's numbers</summary><table class=\"cards\"><thead><tr><th scope=\"col\">Day (UTC)</th><th scope=\"col\" class=\"num\">Leads</th><th scope=\"col\" class=\"num\">Best grade</th></tr></thead><tbody>");
    for day in days {
        let (leads, best) = count(day);
        if leads > 0 {
            let _ = write!(
                out,
                "<tr><td data-label=\"Day (UTC)\">{}</td><td data-label=\"Leads\" class=\"num\">{leads}</td><td data-label=\"Best grade\" class=\"num\">{best}</td></tr>",
                escape(&time::readable_day(day))
            );
        }
    }
    let _ = write!(
        out,
        "</tbody></table><p class=\"note\">Days not listed had no leads.</p></details></section>"
    );
    out
}

/// The filter form, with the values given (escaped); `error` is shown above it, and the field
/// it names is marked invalid.
pub(crate) fn filter_form(
    action: &str,
    query: &FilterQuery,
    form_ids: &[String],
    grades: &[String],
    error: Option<&BadFilter>,
) -> String {
    let invalid = |name: &str| {
        if error.and_then(|e| e.field) == Some(name) {
            " aria-invalid=\"true\" aria-describedby=\"filter-error\""
        } else {
            ""
        }
    };
    let select = |name: &str, label: &str, values: &[String], current: &Option<String>| {
        let mut s = format!(
            "<label>{label}<select name=\"{name}\"{}><option value=\"\">all</option>",
            invalid(name)
        );
        for v in values {
            let selected = if current.as_deref().map(str::trim) == Some(v.as_str()) {
                " selected"
            } else {
                ""
            };
            let _ = write!(s, "<option{selected}>{}</option>", escape(v));
        }
        s.push_str("</select></label>");
        s
    };
    let input = |name: &str, label: &str, kind: &str, extra: &str, value: &Option<String>| {
        format!(
            "<label>{label}<input type=\"{kind}\" name=\"{name}\" value=\"{}\"{extra}{}></label>",
            opt(value),
            invalid(name)
        )
    };
    let statuses: Vec<String> = std::iter::once(NEW)
        .chain(STATUSES)
        .map(str::to_owned)
        .collect();
    let mut out = String::new();
    if let Some(error) = error {
        let _ = write!(
            out,
            "<p class=\"error\" id=\"filter-error\" role=\"alert\"><strong>This filter cannot be used:</strong> {}</p>",
            escape(&error.message)
        );
    }
    // Folded away while no filter is set (on a phone the fields would fill the first screen
    // before the list); open while any is set, or one cannot be used. An owner alone (a rep's
    // "My people") stays folded and is named on the button.
    let set = query
        .query_string()
        .split('&')
        .filter(|p| !p.is_empty())
        .count();
    let (open, summary) = match (set, query.only_owner()) {
        (0, _) if error.is_none() => ("", "Filters".to_owned()),
        (0, _) => (" open", "Filters".to_owned()),
        (1, Some(owner)) if error.is_none() => ("", format!("Filters (owner: {})", escape(owner))),
        (1, _) => (" open", "Filters (1 set)".to_owned()),
        (n, _) => (" open", format!("Filters ({n} set)")),
    };
    let _ = write!(
        out,
        "<details class=\"filterbox\"{open}><summary>{summary}</summary><form class=\"filters\" method=\"get\" action=\"{action}\" aria-label=\"Filters\">{}{}{}{}{}{}{}{}{}{}<div class=\"actions\"><button>Filter</button><a href=\"{action}\">Clear</a></div></form></details>",
        select("grade", "Grade", grades, &query.grade),
        select("status", "Sales status", &statuses, &query.status),
        select("form", "Form", form_ids, &query.form),
        input("source", "Source", "text", " placeholder=\"google or (none)\"", &query.source),
        input("medium", "Medium", "text", " placeholder=\"cpc\"", &query.medium),
        input("campaign", "Campaign", "text", "", &query.campaign),
        input("from", "From", "date", "", &query.from),
        input("to", "To", "date", "", &query.to),
        input("q", "Email or company", "search", "", &query.q),
        input("owner", "Owner", "text", " placeholder=\"a name or unassigned\"", &query.owner),
    );
    out
}

/// The page's header: title, count, and for admins the export, quarantine and forms links.
fn inbox_header(matches: &str, qs: &str, held: u64, admin: bool) -> String {
    if !admin {
        return format!(
            "<header><h1>Submissions</h1><p>{matches} · <a href=\"/inbox\">People</a></p></header><main>"
        );
    }
    format!(
        "<header><h1>Submissions</h1><p>{matches} · <a href=\"/inbox\">People</a> · <a href=\"/v1/leads.csv?{}\">Export CSV</a> · <a href=\"/inbox/quarantine\">Quarantine ({held})</a> · <a href=\"/inbox/forms\">Forms</a></p></header><main>",
        escape(qs)
    )
}

/// Where the submissions view lives (the inbox itself lists people).
pub(crate) const LEADS: &str = "/inbox/leads";

/// `GET /inbox/leads`: every submission newest first with filters, source quality, leads per day and a CSV
/// link. A filter value that cannot be used is answered with this page (status 400), the
/// message next to the filters.
pub(crate) async fn inbox(
    State(state): State<AppState>,
    headers: HeaderMap,
    query: Result<Query<FilterQuery>, axum::extract::rejection::QueryRejection>,
) -> Result<Response, AppError> {
    let admin = require_user(&state.settings, &headers, true)?.role == Role::Admin;
    let (form_ids, grade_names) = forms_and_grades(&state)?;
    let (query, checked) = match query {
        Ok(Query(query)) => {
            let checked = query.check(&grade_names);
            (query, checked)
        }
        Err(err) => (
            FilterQuery::default(),
            Err(BadFilter {
                message: err.body_text(),
                field: None,
            }),
        ),
    };
    let store = &state.store;
    let held = store.quarantine_count().await?;
    let qs = query.query_string();
    let CheckedFilter { filter, offset, .. } = match checked {
        Ok(checked) => checked,
        Err(bad) => {
            let mut body = inbox_header("No leads shown", &qs, held, admin);
            body.push_str(&filter_form(
                LEADS,
                &query,
                &form_ids,
                &grade_names,
                Some(&bad),
            ));
            body.push_str("</main>");
            return Ok(page_with_status(
                StatusCode::BAD_REQUEST,
                "Bantam inbox: filter not valid",
                &body,
            ));
        }
    };
    // A search or a status filter reads the leads themselves: it is counted only as far as
    // the page shown, so one such filter reads the leads once at most.
    let reads_leads = filter.search.is_some() || filter.status.is_some();
    let rows = store.rows(&filter, PAGE, offset).await?;
    let (total, matches) = if reads_leads {
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
    let over = quality_filter(&filter);
    let quality = store.source_quality(&over).await?;
    let today = time::now_rfc3339()[..10].to_owned();
    let days = chart_days(&over, &today);
    let chart_filter = Filter {
        from: days.first().cloned(),
        to: days.last().cloned(),
        ..over.clone()
    };
    let daily = store.daily(&chart_filter).await?;

    let mut body = inbox_header(&format!("{matches} match"), &qs, held, admin);
    if admin {
        admin_notes(&mut body, &form_ids, held);
    }
    body.push_str(&filter_form(LEADS, &query, &form_ids, &grade_names, None));
    body.push_str("<section aria-labelledby=\"ll\"><h2 id=\"ll\">Newest first</h2>");
    // The deliveries column only when a lead of this page goes to a destination.
    let forwarding = rows.iter().any(|r| r.deliveries.is_some());
    if rows.is_empty() {
        body.push_str("<p>No leads match these filters.</p>");
    } else {
        let _ = write!(
            body,
            "<table class=\"cards\"><thead><tr><th scope=\"col\">Lead</th><th scope=\"col\">Grade</th><th scope=\"col\" class=\"num\">Score</th><th scope=\"col\">Received</th><th scope=\"col\">Form</th><th scope=\"col\">Source / medium / campaign</th><th scope=\"col\">Sales status</th>{}</tr></thead><tbody>",
            if forwarding { "<th scope=\"col\">Delivered</th>" } else { "" }
        );
    }
    for row in &rows {
        let mismatch = if row.score_mismatch {
            format!(
                " <span class=\"warn\" title=\"the browser claimed {}\">≠ client</span>",
                row.client_total.unwrap_or_default()
            )
        } else {
            String::new()
        };
        let spam = if DocumentFields::read(&row.document).spam_flagged() {
            " <span class=\"warn\">spam?</span>"
        } else {
            ""
        };
        let who = row
            .email
            .as_deref()
            .or(row.company.as_deref())
            .unwrap_or(&row.id);
        let company = match (&row.email, &row.company) {
            (Some(_), Some(company)) => format!("<small>{}</small>", escape(company)),
            _ => String::new(),
        };
        let _ = write!(
            body,
            "<tr><td class=\"lead\"><a href=\"/inbox/leads/{}\">{}</a>{company}</td><td data-label=\"Grade\">{}{spam}</td><td data-label=\"Score\" class=\"num\">{}{mismatch}</td><td data-label=\"Received\">{}</td><td data-label=\"Form\">{}</td><td data-label=\"Source\">{}</td><td data-label=\"Sales status\">{}</td>{}</tr>",
            encode(&row.id),
            escape(who),
            badge(&state, &row.form_id, &row.grade),
            row.total,
            when(&row.received_at),
            escape(&row.form_id),
            source_label(&row.utm),
            row.status.as_ref().map_or_else(|| NEW.to_owned(), |(s, _)| escape(s)),
            if forwarding {
                format!("<td data-label=\"Delivered\">{}</td>", forward_label(row))
            } else {
                String::new()
            },
        );
    }
    if !rows.is_empty() {
        body.push_str("</tbody></table>");
    }
    body.push_str(&pager(LEADS, &qs, offset, PAGE, total));
    body.push_str("</section>");
    let scope = scope_text(&over);
    body.push_str(&quality_section(&quality, &scope));
    body.push_str(&chart_section(
        &daily,
        &days,
        "The same leads as lead-source quality above, by the day they arrived.",
    ));
    body.push_str("</main>");
    Ok(page("Bantam inbox", &body))
}

/// How a lead's deliveries stand: empty when it goes nowhere, `yes` when every destination
/// has it, else how many have it, with a warning when some gave up.
fn forward_label(row: &Row) -> String {
    match &row.deliveries {
        None => String::new(),
        Some(d) if d.delivered == d.total => "yes".into(),
        Some(d) if d.failed > 0 => format!(
            "<span class=\"warn\">{} of {} ({} failed)</span>",
            d.delivered, d.total, d.failed
        ),
        Some(d) => format!("{} of {}, retrying", d.delivered, d.total),
    }
}

/// The lead page's section on each destination: its state, attempts, last error, when.
fn deliveries_section(deliveries: &[DeliveryState]) -> String {
    if deliveries.is_empty() {
        return String::new();
    }
    let mut out = String::from(
        "<section aria-labelledby=\"deliveries\"><h2 id=\"deliveries\">Deliveries</h2><table class=\"cards\"><thead><tr><th scope=\"col\">Destination</th><th scope=\"col\">State</th><th scope=\"col\">Attempts</th><th scope=\"col\">Details</th></tr></thead><tbody>",
    );
    for d in deliveries {
        let (state, details) = match d.state.as_str() {
            "delivered" => (
                "delivered".to_owned(),
                format!(
                    "{}{}",
                    d.status_code
                        .map(|s| format!("status {s}"))
                        .unwrap_or_default(),
                    d.delivered_at
                        .as_deref()
                        .map(|at| format!(" · {}", when(at)))
                        .unwrap_or_default()
                ),
            ),
            "failed" => (
                "<span class=\"warn\">failed</span>".to_owned(),
                escape(d.last_error.as_deref().unwrap_or("")),
            ),
            _ if d.attempts == 0 => ("queued".to_owned(), String::new()),
            _ => (
                "<span class=\"warn\">retrying</span>".to_owned(),
                escape(d.last_error.as_deref().unwrap_or("")),
            ),
        };
        let _ = write!(
            out,
            "<tr><th scope=\"row\" data-label=\"Destination\">{}</th><td data-label=\"State\">{state}</td><td data-label=\"Attempts\">{}</td><td data-label=\"Details\">{details}</td></tr>",
            escape(&d.destination),
            d.attempts
        );
    }
    out.push_str("</tbody></table></section>");
    out
}

pub(crate) fn answer_text(
    form: Option<&bantam_engine::Form>,
    id: &str,
    value: &Value,
) -> (String, String) {
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

/// A JSON object's members in the order they were written (serde_json's own map sorts them).
#[derive(Debug, Default)]
struct Ordered(Vec<(String, Value)>);

impl<'de> Deserialize<'de> for Ordered {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Ordered, D::Error> {
        struct Visit;
        impl<'de> serde::de::Visitor<'de> for Visit {
            type Value = Ordered;
            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("an object")
            }
            fn visit_map<A: serde::de::MapAccess<'de>>(
                self,
                mut map: A,
            ) -> Result<Ordered, A::Error> {
                let mut members = Vec::new();
                while let Some(member) = map.next_entry::<String, Value>()? {
                    members.push(member);
                }
                Ok(Ordered(members))
            }
        }
        deserializer.deserialize_map(Visit)
    }
}

/// The answers of a stored lead, in the order they were stored.
#[derive(Debug, Default, Deserialize)]
struct StoredAnswers {
    #[serde(default)]
    answers: Ordered,
}

/// Answers in the form's question order; ids the form does not know (a question since
/// removed, or no form) follow in the order they were stored.
pub(crate) fn in_form_order(
    form: Option<&bantam_engine::Form>,
    mut answers: Vec<(String, Value)>,
) -> Vec<(String, Value)> {
    let mut ordered = Vec::with_capacity(answers.len());
    for question in form.map(|f| f.questions.as_slice()).unwrap_or_default() {
        if let Some(i) = answers.iter().position(|(id, _)| *id == question.id) {
            ordered.push(answers.remove(i));
        }
    }
    ordered.extend(answers);
    ordered
}

/// The few fields of a stored lead document that the list and the CSV show, read without
/// building the whole document as a `Value` (a document is up to 4 KB; an export reads a
/// million). Strings borrow from the stored text unless they hold escapes.
#[derive(Debug, Default, Deserialize)]
struct DocumentFields<'a> {
    #[serde(default, borrow)]
    page: PageFields<'a>,
    #[serde(default, borrow)]
    score: ScoreFields<'a>,
    #[serde(default)]
    spam: Option<SpamFields>,
    #[serde(default, borrow)]
    context: ContextFields<'a>,
}

#[derive(Debug, Default, Deserialize)]
struct PageFields<'a> {
    #[serde(default, borrow)]
    url: Option<Cow<'a, str>>,
}

#[derive(Debug, Default, Deserialize)]
struct ScoreFields<'a> {
    #[serde(default, borrow)]
    reasons: Vec<Reason<'a>>,
}

#[derive(Debug, Default, Deserialize)]
struct Reason<'a> {
    #[serde(default, borrow)]
    text: Option<Cow<'a, str>>,
}

#[derive(Debug, Default, Deserialize)]
struct SpamFields {
    #[serde(default)]
    flagged: Option<bool>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
struct ContextFields<'a> {
    #[serde(default, borrow)]
    email_domain_kind: Option<Cow<'a, str>>,
    #[serde(default, borrow)]
    company_domain: Option<Cow<'a, str>>,
    #[serde(default, borrow)]
    variant: Option<Cow<'a, str>>,
}

impl<'a> DocumentFields<'a> {
    /// Reads the fields from a stored document. A document whose fields have other types
    /// than the lead document's (stored by hand, or by an older collector) is read through a
    /// `Value` instead, as every field used to be, so no export breaks on one odd row.
    fn read(document: &'a str) -> DocumentFields<'a> {
        serde_json::from_str(document).unwrap_or_else(|_| {
            let value: Value = serde_json::from_str(document).unwrap_or(Value::Null);
            let text = |v: &Value| v.as_str().map(|s| Cow::Owned(s.to_owned()));
            DocumentFields {
                page: PageFields {
                    url: text(&value["page"]["url"]),
                },
                score: ScoreFields {
                    reasons: value["score"]["reasons"]
                        .as_array()
                        .into_iter()
                        .flatten()
                        .map(|r| Reason {
                            text: text(&r["text"]),
                        })
                        .collect(),
                },
                spam: Some(SpamFields {
                    flagged: value["spam"]["flagged"].as_bool(),
                }),
                context: ContextFields {
                    email_domain_kind: text(&value["context"]["emailDomainKind"]),
                    company_domain: text(&value["context"]["companyDomain"]),
                    variant: text(&value["context"]["variant"]),
                },
            }
        })
    }

    fn spam_flagged(&self) -> bool {
        self.spam.as_ref().and_then(|s| s.flagged) == Some(true)
    }
}
/// `GET /inbox/leads/{id}`: one lead in full, with the sales feedback form.
pub(crate) async fn detail(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> Result<Response, AppError> {
    require_user(&state.settings, &headers, true)?;
    let row: Row = state.store.row(&id).await?.ok_or_else(|| {
        AppError::bad(
            StatusCode::NOT_FOUND,
            format!("no lead \"{id}\""),
            Some("id"),
        )
    })?;
    let form = state.forms.read().ok().and_then(|f| f.get(&row.form_id));
    let doc: Value = serde_json::from_str(&row.document)
        .map_err(|err| AppError::Internal(format!("lead {id}: stored document: {err}")))?;
    let doc = &doc;
    let who = row
        .email
        .clone()
        .or(row.company.clone())
        .unwrap_or_else(|| row.id.clone());
    let mut body = format!(
        "<header><h1>{}</h1><p><a href=\"/inbox\">People</a> · <a href=\"/inbox/leads\">Submissions</a>{}</p></header><main><p>{} <strong>{}</strong>/100 · form <a href=\"/inbox/forms/{}\">{}</a>{} · received {} · submitted {}</p>",
        escape(&who),
        row.person
            .as_deref()
            .map(|key| format!(" · <a href=\"/inbox/people/{}\">This person: every visit, owner, feedback, export, erase</a>", encode(key)))
            .unwrap_or_default(),
        badge(&state, &row.form_id, &row.grade),
        row.total,
        encode(&row.form_id),
        escape(&row.form_id),
        row.form_version
            .map(|v| format!(", scored with version {v}"))
            .unwrap_or_default(),
        when(&row.received_at),
        when(&row.submitted_at),
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
    if row.deliveries.is_some() {
        body.push_str(&deliveries_section(&state.store.deliveries(&row.id).await?));
    }
    body.push_str("<section><h2>Sales status</h2><form method=\"post\" action=\"\">");
    body.push_str(&users::csrf_field());
    let _ = write!(
        body,
        "<p>Now: <strong>{}</strong></p>",
        row.status
            .as_ref()
            .map_or("new (no feedback yet)".to_owned(), |(s, at)| format!(
                "{} (since {})",
                escape(s),
                when(at)
            ))
    );
    body.push_str("<div class=\"actions-row\">");
    for status in STATUSES {
        let _ = write!(body, "<button name=\"status\" value=\"{status}\" formaction=\"/inbox/leads/{}/status\">Mark {status}</button> ", encode(&row.id));
    }
    body.push_str("</div></form></section><section><h2>Answers</h2><table><tbody>");
    let answers = serde_json::from_str::<StoredAnswers>(&row.document)
        .map(|a| a.answers.0)
        .unwrap_or_default();
    for (id, value) in in_form_order(form.as_deref(), answers) {
        {
            let (label, text) = answer_text(form.as_deref(), &id, &value);
            let _ = write!(
                body,
                "<tr><th scope=\"row\">{}</th><td>{}</td></tr>",
                escape(&label),
                escape(&text)
            );
        }
    }
    body.push_str("</tbody></table></section><section><h2>Score</h2><table><thead><tr><th scope=\"col\">Category</th><th scope=\"col\" class=\"num\">Points</th><th scope=\"col\" class=\"num\">Score</th><th scope=\"col\" class=\"num\">Weight</th></tr></thead><tbody>");
    if let Some(breakdown) = doc["score"]["breakdown"].as_object() {
        for (category, part) in breakdown {
            let _ = write!(
                body,
                "<tr><td>{}</td><td class=\"num\">{} of {}</td><td class=\"num\">{}</td><td class=\"num\">{}</td></tr>",
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
        "<section><h2>Document</h2><details><summary>The lead document as stored (JSON)</summary><pre>{}</pre></details></section></main>",
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

/// Records feedback given on the lead `id`: its person's feedback (see
/// [`crate::store::Store::lead_feedback`]), by `who`, and the audit log's entry.
async fn record_status(
    state: &AppState,
    who: &Who,
    id: String,
    status: &'static str,
) -> Result<String, AppError> {
    let at = time::now_rfc3339();
    let feedback = crate::store::Feedback {
        status: status.to_owned(),
        reason: None,
        value: None,
        at: at.clone(),
        by: who.name.clone(),
        lead_id: Some(id.clone()),
    };
    let found = state.store.lead_feedback(&id, &feedback).await?;
    if found {
        users::audit(state, &who.name, "status", &id, status).await;
        Ok(at)
    } else {
        Err(AppError::bad(
            StatusCode::NOT_FOUND,
            format!("no lead \"{id}\""),
            Some("id"),
        ))
    }
}

/// A program's change (the admin token in an `Authorization` header, which a browser that
/// holds Basic credentials would send on any form post too): accepted only from the inbox's
/// own pages.
pub(crate) fn from_the_inbox(headers: &HeaderMap) -> Result<(), AppError> {
    if users::same_origin(headers) {
        Ok(())
    } else {
        Err(AppError::bad(
            StatusCode::FORBIDDEN,
            "changes must come from the inbox itself",
            None,
        ))
    }
}

/// The checks of a change through the API beyond the credentials. A signed-in user's (the
/// form editor's fetches) comes from this origin with the session's `X-CSRF-Token`; a
/// program's may come from a script or a server (no `Origin`), or from the inbox's own pages,
/// never from another site's page.
pub(crate) fn not_from_another_site(headers: &HeaderMap) -> Result<(), AppError> {
    if let Some(who) = users::signed_in() {
        return users::check_change(&who, headers, false);
    }
    if headers.contains_key(header::ORIGIN) {
        from_the_inbox(headers)
    } else {
        Ok(())
    }
}

/// A change posted by one of the inbox's own pages, by someone who may do what needs `role`:
/// the one check of the inbox's posts. A signed-in user's post comes from this origin with
/// the session's CSRF token ([`users::csrf_field`] in every form); a post with the admin token
/// in its `Authorization` header comes from this origin.
///
/// # Errors
/// A readable 403 page when the role, the origin or the token is wrong; the login page for
/// someone not signed in.
pub(crate) fn change_from_inbox(
    state: &AppState,
    headers: &HeaderMap,
    role: Role,
) -> Result<Who, AppError> {
    let who = users::require(&state.settings, role, true)?;
    if who.has_session() {
        users::check_change(&who, headers, true)?;
    } else {
        from_the_inbox(headers)?;
    }
    Ok(who)
}

/// The fields of a form-encoded body, decoded.
pub(crate) fn form_fields(body: &str) -> Vec<(String, String)> {
    body.split('&')
        .filter_map(|pair| pair.split_once('='))
        .map(|(k, v)| (percent_decode(k), percent_decode(v)))
        .collect()
}

/// One field of [`form_fields`], trimmed (empty when absent).
pub(crate) fn form_field(fields: &[(String, String)], name: &str) -> String {
    fields
        .iter()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.trim().to_owned())
        .unwrap_or_default()
}

/// `POST /inbox/leads/{id}/status` from the inbox's buttons (form-encoded).
pub(crate) async fn status_form(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(id): Path<String>,
    body: String,
) -> Result<Response, AppError> {
    let who = change_from_inbox(&state, &headers, Role::Sales)?;
    let status = parse_status(&form_field(&form_fields(&body), "status"))?;
    record_status(&state, &who, id.clone(), status).await?;
    Ok(Redirect::to(&format!("/inbox/leads/{}", encode(&id))).into_response())
}

/// Body of `POST /v1/leads/{id}/status`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct StatusBody {
    status: String,
}

/// `GET /v1/leads/{id}` with the admin token: the stored lead, its sales status and where each
/// of its deliveries stands.
pub(crate) async fn lead_api(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> Result<Response, AppError> {
    require_admin(&state.settings, &headers, false)?;
    let row: Row = state.store.row(&id).await?.ok_or_else(|| {
        AppError::bad(
            StatusCode::NOT_FOUND,
            format!("no lead \"{id}\""),
            Some("id"),
        )
    })?;
    let deliveries = state.store.deliveries(&id).await?;
    let lead: Value = serde_json::from_str(&row.document)
        .map_err(|err| AppError::Internal(format!("lead {id}: stored document: {err}")))?;
    let (status, status_at) = row.status.clone().unzip();
    Ok(Json(json!({
        "receivedAt": row.received_at,
        "status": status,
        "statusAt": status_at,
        "formVersion": row.form_version,
        "deliveries": deliveries,
        "lead": lead,
    }))
    .into_response())
}

/// `POST /v1/leads/{id}/status` with `{"status": "won"}` and the admin token.
pub(crate) async fn status_api(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(id): Path<String>,
    body: Result<Json<StatusBody>, axum::extract::rejection::JsonRejection>,
) -> Result<Response, AppError> {
    let who = require_user(&state.settings, &headers, false)?;
    not_from_another_site(&headers)?;
    let Json(body) = body.map_err(|e| AppError::bad(e.status(), e.body_text(), Some("status")))?;
    let status = parse_status(&body.status)?;
    let at = record_status(&state, &who, id.clone(), status).await?;
    Ok(Json(json!({ "id": id, "status": status, "statusAt": at })).into_response())
}

/// Quotes a CSV cell; cells that a spreadsheet would run as a formula get a leading `'`.
pub(crate) fn csv_cell(s: &str) -> String {
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

/// The CSV header: one line, then one line per lead. It starts with a UTF-8 byte-order mark,
/// without which spreadsheet programs read the file in a legacy encoding (Zoë becomes ZoÃ«).
const CSV_HEADER: &str = "\u{FEFF}id,received_at,submitted_at,form_id,email,company,grade,total,client_total,score_mismatch,utm_source,utm_medium,utm_campaign,status,status_at,page_url,reasons,spam,email_domain_kind,company_domain,variant\r\n";
/// Leads an export reads from the database at a time.
const EXPORT_PAGE: u32 = 500;

/// `GET /v1/leads.csv?…`: the leads matching the inbox's filters, newest first, from `offset`
/// (default 0), at most `limit` (default all). Streamed: the export reads the database a page
/// at a time and sends each page as it goes, so memory stays flat and posts are not held up
/// however many leads there are.
pub(crate) async fn csv(
    State(state): State<AppState>,
    headers: HeaderMap,
    uri: axum::http::Uri,
    query: Result<Query<FilterQuery>, axum::extract::rejection::QueryRejection>,
) -> Result<Response, AppError> {
    let CheckedFilter {
        filter,
        offset,
        limit,
    } = admin_filter(&state, &headers, query)?;
    users::audit(
        &state,
        &crate::admin_name(&headers),
        "export",
        "leads.csv",
        uri.query().filter(|q| !q.is_empty()).unwrap_or("all leads"),
    )
    .await;
    let page_size = move |sent: u64| -> u32 {
        limit.map_or(EXPORT_PAGE, |l| {
            u32::try_from(l.saturating_sub(sent)).map_or(EXPORT_PAGE, |left| left.min(EXPORT_PAGE))
        })
    };
    // The first page is read before answering: a database error is still a 500.
    let first = if page_size(0) == 0 {
        Vec::new()
    } else {
        state.store.rows(&filter, page_size(0), offset).await?
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
pub(crate) struct Chunks(tokio::sync::mpsc::Receiver<Result<axum::body::Bytes, std::io::Error>>);

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
    let doc = DocumentFields::read(&r.document);
    let reasons: Vec<&str> = doc
        .score
        .reasons
        .iter()
        .filter_map(|x| x.text.as_deref())
        .collect();
    let (status, status_at) = r
        .status
        .as_ref()
        .map_or(("", ""), |(s, at)| (s.as_str(), at.as_str()));
    let text = |v: &Option<Cow<'_, str>>| v.as_deref().unwrap_or("").to_owned();
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
        status.to_owned(),
        status_at.to_owned(),
        text(&doc.page.url),
        reasons.join("; "),
        doc.spam_flagged().to_string(),
        text(&doc.context.email_domain_kind),
        text(&doc.context.company_domain),
        text(&doc.context.variant),
    ];
    for (i, cell) in cells.iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        out.push_str(&csv_cell(cell));
    }
    out.push_str("\r\n");
}

/// What the lists of people and of submissions tell an admin first: the forms' learned points
/// and the leads waiting in quarantine.
pub(crate) fn admin_notes(body: &mut String, form_ids: &[String], held: u64) {
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

    #[test]
    fn answers_unknown_to_the_form_follow_in_stored_order() {
        let form = bantam_engine::parse_config(json!({"formId": "f", "preset": "bant"})).unwrap();
        let stored: Ordered = serde_json::from_str(
            r#"{"zeta": 1, "budget": "none", "alpha": 2, "email": "a@b.io", "company": "C"}"#,
        )
        .unwrap();
        let ids: Vec<String> = in_form_order(Some(&form), stored.0)
            .into_iter()
            .map(|(id, _)| id)
            .collect();
        assert_eq!(ids, ["email", "company", "budget", "zeta", "alpha"]);
        // Without the form, as stored.
        let stored: Ordered = serde_json::from_str(r#"{"b": 1, "a": 2}"#).unwrap();
        let ids: Vec<String> = in_form_order(None, stored.0)
            .into_iter()
            .map(|(id, _)| id)
            .collect();
        assert_eq!(ids, ["b", "a"]);
    }

    #[test]
    fn the_typed_read_of_a_document_matches_the_value_read() {
        // Escapes (owned strings), fields of other types (read through a Value), none at all.
        let typed = r#"{"page": {"url": "https://x.io/\u00e9?a=\"1\""}, "score": {"reasons": [{"text": "Budget: +30"}, {"text": "Role"}]}, "spam": {"flagged": true}, "context": {"emailDomainKind": "free", "companyDomain": null, "variant": "b"}, "answers": {"x": [1, 2]}}"#;
        let odd = r#"{"page": {"url": "https://x.io/"}, "score": {"reasons": "none"}, "spam": {"flagged": "yes"}, "context": {"variant": 3}}"#;
        for (document, url, reasons, spam, kind, variant) in [
            (
                typed,
                "https://x.io/é?a=\"1\"",
                vec!["Budget: +30", "Role"],
                true,
                "free",
                "b",
            ),
            (odd, "https://x.io/", vec![], false, "", ""),
            ("{}", "", vec![], false, "", ""),
            ("not json", "", vec![], false, "", ""),
        ] {
            let fields = DocumentFields::read(document);
            assert_eq!(fields.page.url.as_deref().unwrap_or(""), url, "{document}");
            let texts: Vec<&str> = fields
                .score
                .reasons
                .iter()
                .filter_map(|r| r.text.as_deref())
                .collect();
            assert_eq!(texts, reasons, "{document}");
            assert_eq!(fields.spam_flagged(), spam, "{document}");
            assert_eq!(
                fields.context.email_domain_kind.as_deref().unwrap_or(""),
                kind
            );
            assert_eq!(fields.context.variant.as_deref().unwrap_or(""), variant);
        }
    }

    #[test]
    fn the_chart_axis_and_days() {
        for (max, step) in [
            (1, 1),
            (4, 1),
            (5, 2),
            (9, 5),
            (20, 5),
            (21, 10),
            (400, 100),
        ] {
            assert_eq!(axis_step(max), step, "{max}");
        }
        let days = |from: Option<&str>, to: Option<&str>| {
            let filter = Filter {
                from: from.map(str::to_owned),
                to: to.map(str::to_owned),
                ..Filter::default()
            };
            let days = chart_days(&filter, "2026-12-01");
            (days.len(), days[0].clone(), days[days.len() - 1].clone())
        };
        assert_eq!(
            days(None, None),
            (30, "2026-11-02".into(), "2026-12-01".into())
        );
        assert_eq!(
            days(Some("2026-11-25"), Some("2099-01-01")),
            (7, "2026-11-25".into(), "2026-12-01".into())
        );
        assert_eq!(
            days(Some("2020-01-01"), Some("2026-06-30")),
            (90, "2026-04-02".into(), "2026-06-30".into())
        );
        assert_eq!(
            days(Some("2026-12-05"), None),
            (1, "2026-12-01".into(), "2026-12-01".into())
        );
    }

    #[test]
    fn filters_name_what_is_wrong() {
        let grades = ["hot".to_owned(), "cold".to_owned()];
        let check = |query: FilterQuery| query.check(&grades).map(|c| c.filter);
        let bad = check(FilterQuery {
            grade: Some("warm".into()),
            ..FilterQuery::default()
        })
        .unwrap_err();
        assert_eq!(bad.field, Some("grade"));
        assert!(bad.message.contains("one of hot, cold"), "{}", bad.message);
        for (from, ok) in [
            ("2026-02-28", true),
            ("2024-02-29", true),
            ("2026-02-29", false),
            ("2026-1-01", false),
            ("20260101xx", false),
        ] {
            let result = check(FilterQuery {
                from: Some(from.into()),
                ..FilterQuery::default()
            });
            assert_eq!(result.is_ok(), ok, "{from}");
        }
        let filter = check(FilterQuery {
            grade: Some(" hot ".into()),
            status: Some("new".into()),
            source: Some("Google".into()),
            ..FilterQuery::default()
        })
        .unwrap();
        assert_eq!(filter.grade.as_deref(), Some("hot"));
        assert_eq!(filter.status.as_deref(), Some("new"));
        assert_eq!(quality_filter(&filter).grade, None);
        assert_eq!(quality_filter(&filter).status, None);
        assert_eq!(quality_filter(&filter).source.as_deref(), Some("Google"));
    }
}
