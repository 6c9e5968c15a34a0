//! People, not submissions: the inbox's list of people (`/inbox`), the same list as JSON and
//! CSV (`/v1/people`, `/v1/people.csv`), lead-source quality counted in people, a person's
//! owner and the sales feedback they are given (API and the person page's forms).
//!
//! A person is one contact (see [`crate::store::person_key`]); the store keeps on their row
//! what the list shows (latest grade and score, first and last touch, latest feedback), so
//! these pages read one row per person. Feedback is checked here: a status of
//! [`STATUSES`], a reason from [`REJECT_REASONS`] only for `rejected`, a value only for `won`.

use std::fmt::Write as _;

use axum::extract::{Path, Query, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use axum::Json;
use serde::Deserialize;
use serde_json::{json, Value};

use crate::inbox::{
    admin_filter, badge, change_from_inbox, csv_cell, encode, escape, filter_form, form_field,
    form_fields, forms_and_grades, not_from_another_site, opt, page, page_with_status,
    quality_filter, when, BadFilter, CheckedFilter, FilterQuery,
};
use crate::store::{Credit, Feedback, Filter, PeopleQuality, Person, REJECT_REASONS, STATUSES};
use crate::users::{self, Role, Who};
use crate::{require_user, time, AppError, AppState};

/// People on one page of the inbox.
const PAGE: u32 = 50;
/// People an API page or an export reads at a time.
const EXPORT_PAGE: u32 = 500;

/// A person's page.
pub(crate) fn person_href(key: &str) -> String {
    format!("/inbox/people/{}", encode(key))
}

/// How a person is named in lists: their email, else their company, else what they are.
pub(crate) fn person_name(person: &Person) -> String {
    if let Some(email) = &person.email {
        return email.clone();
    }
    if let Some(company) = &person.company {
        return company.clone();
    }
    match person.key.split_once(':') {
        Some(("visitor", id)) => format!("Visitor {}", id.chars().take(8).collect::<String>()),
        _ => "Anonymous visitor".to_owned(),
    }
}

/// A person as the API shows them.
fn person_json(p: &Person) -> Value {
    let touch = |utm: &[Option<String>; 3]| json!({ "source": utm[0], "medium": utm[1], "campaign": utm[2] });
    json!({
        "key": p.key,
        "email": p.email,
        "company": p.company,
        "owner": p.owner,
        "grade": p.grade,
        "total": p.total,
        "bestGrade": p.best,
        "submissions": p.leads,
        "latestLead": p.last_lead,
        "firstAt": p.first_at,
        "lastAt": p.last_at,
        "firstTouch": touch(&p.first_utm),
        "lastTouch": touch(&p.last_utm),
        "status": p.status.as_ref().map(|(s, _)| s),
        "statusAt": p.status.as_ref().map(|(_, at)| at),
        "spam": p.spam,
    })
}

/// `GET /v1/people?…`: people matching the inbox's filters (owner too), the most recently
/// active first, `limit` (default 50, at most 500) from `offset`.
pub(crate) async fn list_api(
    State(state): State<AppState>,
    headers: HeaderMap,
    query: Result<Query<FilterQuery>, axum::extract::rejection::QueryRejection>,
) -> Result<Response, AppError> {
    let CheckedFilter {
        filter,
        offset,
        limit,
    } = admin_filter(&state, &headers, query)?;
    let limit = limit.map_or(PAGE, |l| u32::try_from(l.clamp(1, 500)).unwrap_or(500));
    let people = state.store.people(&filter, limit, offset).await?;
    let total = state.store.count_people(&filter).await?;
    Ok(Json(json!({
        "people": people.iter().map(person_json).collect::<Vec<_>>(),
        "total": total,
        "limit": limit,
        "offset": offset,
    }))
    .into_response())
}

/// The people CSV's header, after a UTF-8 byte-order mark (as the leads CSV).
const CSV_HEADER: &str = "\u{FEFF}key,email,company,owner,grade,total,submissions,first_at,last_at,first_source,first_medium,first_campaign,last_source,last_medium,last_campaign,status,status_at\r\n";

/// `GET /v1/people.csv?…`: the people matching the filters, most recently active first.
pub(crate) async fn csv(
    State(state): State<AppState>,
    headers: HeaderMap,
    uri: axum::http::Uri,
    query: Result<Query<FilterQuery>, axum::extract::rejection::QueryRejection>,
) -> Result<Response, AppError> {
    let CheckedFilter {
        filter,
        mut offset,
        limit,
    } = admin_filter(&state, &headers, query)?;
    users::audit(
        &state,
        &crate::admin_name(&headers),
        "export",
        "people.csv",
        uri.query()
            .filter(|q| !q.is_empty())
            .unwrap_or("all people"),
    )
    .await;
    let mut left = limit.unwrap_or(u64::MAX);
    let mut out = String::from(CSV_HEADER);
    while left > 0 {
        let want = u32::try_from(left.min(u64::from(EXPORT_PAGE))).unwrap_or(EXPORT_PAGE);
        let people = state.store.people(&filter, want, offset).await?;
        for p in &people {
            let (status, status_at) = p
                .status
                .as_ref()
                .map_or(("", ""), |(s, at)| (s.as_str(), at.as_str()));
            let text = |v: &Option<String>| v.clone().unwrap_or_default();
            let cells = [
                p.key.clone(),
                text(&p.email),
                text(&p.company),
                text(&p.owner),
                text(&p.grade),
                p.total.map(|t| t.to_string()).unwrap_or_default(),
                p.leads.to_string(),
                text(&p.first_at),
                text(&p.last_at),
                text(&p.first_utm[0]),
                text(&p.first_utm[1]),
                text(&p.first_utm[2]),
                text(&p.last_utm[0]),
                text(&p.last_utm[1]),
                text(&p.last_utm[2]),
                status.to_owned(),
                status_at.to_owned(),
            ];
            let line: Vec<String> = cells.iter().map(|c| csv_cell(c)).collect();
            out.push_str(&line.join(","));
            out.push_str("\r\n");
        }
        if people.len() < want as usize {
            break;
        }
        left -= people.len() as u64;
        offset = offset.saturating_add(want);
    }
    Ok((
        [
            (header::CONTENT_TYPE, "text/csv; charset=utf-8"),
            (
                header::CONTENT_DISPOSITION,
                "attachment; filename=\"people.csv\"",
            ),
        ],
        out,
    )
        .into_response())
}

/// Body of `POST /v1/people/{key}/feedback`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct FeedbackBody {
    status: String,
    reason: Option<String>,
    value: Option<f64>,
}

/// Checks feedback as sales gives it: a status of [`STATUSES`]; `rejected` with a reason of
/// [`REJECT_REASONS`]; `won` with a value of 0 or more; neither with any other status.
fn check_feedback(
    status: &str,
    reason: Option<&str>,
    value: Option<f64>,
    by: String,
) -> Result<Feedback, AppError> {
    if !STATUSES.contains(&status) {
        return Err(AppError::bad(
            StatusCode::UNPROCESSABLE_ENTITY,
            format!(
                "status must be one of {}, not \"{status}\"",
                STATUSES.join(", ")
            ),
            Some("status"),
        ));
    }
    let reasons: Vec<&str> = REJECT_REASONS.iter().map(|(id, _)| *id).collect();
    let bad = |message: String, field: &str| {
        AppError::bad(StatusCode::UNPROCESSABLE_ENTITY, message, Some(field))
    };
    let reason = match (status, reason) {
        ("rejected", None) => {
            return Err(bad(
                format!(
                    "reason is required to reject: one of {}",
                    reasons.join(", ")
                ),
                "reason",
            ))
        }
        ("rejected", Some(r)) if !reasons.contains(&r) => {
            return Err(bad(
                format!("reason must be one of {}, not \"{r}\"", reasons.join(", ")),
                "reason",
            ))
        }
        ("rejected", Some(r)) => Some(r.to_owned()),
        (_, Some(_)) => {
            return Err(bad(
                format!("reason is only given to reject, not with \"{status}\""),
                "reason",
            ))
        }
        (_, None) => None,
    };
    let value = match (status, value) {
        ("won", None) => {
            return Err(bad(
                "value is required for won: the deal's value, a number of 0 or more".into(),
                "value",
            ))
        }
        ("won", Some(v)) if !(0.0..=1e15).contains(&v) => {
            return Err(bad(
                format!("value must be a number from 0 to 10^15, not {v}"),
                "value",
            ))
        }
        ("won", Some(v)) => Some(v),
        (_, Some(_)) => {
            return Err(bad(
                format!("value is only given with won, not with \"{status}\""),
                "value",
            ))
        }
        (_, None) => None,
    };
    Ok(Feedback {
        status: status.to_owned(),
        reason,
        value,
        at: time::now_rfc3339(),
        by,
        lead_id: None,
    })
}

/// Records checked feedback on the person `key`, and in the audit log; a 404 when there is
/// no such person.
async fn record(
    state: &AppState,
    who: &Who,
    key: &str,
    feedback: &Feedback,
) -> Result<Feedback, AppError> {
    let recorded = state
        .store
        .give_feedback(key, feedback)
        .await?
        .ok_or_else(|| no_person(key))?;
    let mut detail = recorded.status.clone();
    if let Some(reason) = &recorded.reason {
        let _ = write!(detail, ", reason {reason}");
    }
    if let Some(value) = recorded.value {
        let _ = write!(detail, ", value {value}");
    }
    users::audit(
        state,
        &who.name,
        "feedback",
        &crate::store::audit_subject(key),
        &detail,
    )
    .await;
    Ok(recorded)
}

/// Sets (or clears) the person's owner, and records it in the audit log; a 404 when there is
/// no such person.
async fn assign(
    state: &AppState,
    who: &Who,
    key: &str,
    owner: Option<&str>,
) -> Result<(), AppError> {
    if !state.store.set_owner(key, owner).await? {
        return Err(no_person(key));
    }
    users::audit(
        state,
        &who.name,
        "owner",
        &crate::store::audit_subject(key),
        owner.unwrap_or("nobody"),
    )
    .await;
    Ok(())
}

fn no_person(key: &str) -> AppError {
    AppError::bad(
        StatusCode::NOT_FOUND,
        format!("no person \"{key}\""),
        Some("key"),
    )
}

/// `POST /v1/people/{key}/feedback` with `{"status": "won", "value": 12000}`, by sales or an
/// admin (or a program with the admin token): recorded with the time and who gave it;
/// answers the feedback as recorded.
pub(crate) async fn feedback_api(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(key): Path<String>,
    body: Result<Json<FeedbackBody>, axum::extract::rejection::JsonRejection>,
) -> Result<Response, AppError> {
    let who = require_user(&state.settings, &headers, false)?;
    not_from_another_site(&headers)?;
    let Json(body) =
        body.map_err(|e| AppError::bad(StatusCode::UNPROCESSABLE_ENTITY, e.body_text(), None))?;
    let feedback = check_feedback(
        &body.status,
        body.reason.as_deref(),
        body.value,
        who.name.clone(),
    )?;
    let recorded = record(&state, &who, &key, &feedback).await?;
    Ok(Json(json!({ "person": key, "feedback": recorded })).into_response())
}

/// `POST /inbox/people/{key}/feedback` from the person's page (form-encoded).
pub(crate) async fn feedback_form(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(key): Path<String>,
    body: String,
) -> Result<Response, AppError> {
    let who = change_from_inbox(&state, &headers, Role::Sales)?;
    let fields = form_fields(&body);
    let status = form_field(&fields, "status");
    // The page shows every field: a reason or value left over for another status is ignored.
    let reason =
        Some(form_field(&fields, "reason")).filter(|r| !r.is_empty() && status == "rejected");
    let value = match form_field(&fields, "value") {
        v if v.is_empty() || status != "won" => Ok(None),
        v => v.parse::<f64>().map(Some).map_err(|_| {
            AppError::bad(
                StatusCode::UNPROCESSABLE_ENTITY,
                format!("value must be a number, not \"{v}\""),
                Some("value"),
            )
        }),
    };
    let checked =
        value.and_then(|value| check_feedback(&status, reason.as_deref(), value, who.name.clone()));
    match checked {
        Ok(feedback) => {
            record(&state, &who, &key, &feedback).await?;
            Ok(Redirect::to(&format!("{}#feedback", person_href(&key))).into_response())
        }
        // Shown on the person's page, next to the form, rather than as JSON.
        Err(AppError::BadRequest { error, .. }) => Ok(Redirect::to(&format!(
            "{}?problem={}#feedback",
            person_href(&key),
            encode(&error)
        ))
        .into_response()),
        Err(other) => Err(other),
    }
}

/// Body of `PUT /v1/people/{key}/owner`: a name, or `null` for nobody.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct OwnerBody {
    owner: Option<String>,
}

/// An owner's name: trimmed, at most 100 characters, no control characters; empty is nobody.
fn check_owner(owner: Option<&str>) -> Result<Option<String>, AppError> {
    let Some(owner) = owner.map(str::trim).filter(|o| !o.is_empty()) else {
        return Ok(None);
    };
    if owner.chars().count() > 100 || owner.chars().any(char::is_control) {
        return Err(AppError::bad(
            StatusCode::UNPROCESSABLE_ENTITY,
            "owner must be a name of at most 100 characters",
            Some("owner"),
        ));
    }
    if owner.eq_ignore_ascii_case(crate::store::UNASSIGNED) {
        return Err(AppError::bad(
            StatusCode::UNPROCESSABLE_ENTITY,
            "owner cannot be called \"unassigned\": that is the filter for people without one",
            Some("owner"),
        ));
    }
    Ok(Some(owner.to_owned()))
}

/// `PUT /v1/people/{key}/owner`: sets or clears the person's owner (sales or admin).
pub(crate) async fn owner_api(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(key): Path<String>,
    body: Result<Json<OwnerBody>, axum::extract::rejection::JsonRejection>,
) -> Result<Response, AppError> {
    let who = require_user(&state.settings, &headers, false)?;
    not_from_another_site(&headers)?;
    let Json(body) = body.map_err(|e| {
        AppError::bad(
            StatusCode::UNPROCESSABLE_ENTITY,
            e.body_text(),
            Some("owner"),
        )
    })?;
    let owner = check_owner(body.owner.as_deref())?;
    assign(&state, &who, &key, owner.as_deref()).await?;
    Ok(Json(json!({ "person": key, "owner": owner })).into_response())
}

/// `POST /inbox/people/{key}/owner` from the person's page.
pub(crate) async fn owner_form(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(key): Path<String>,
    body: String,
) -> Result<Response, AppError> {
    let who = change_from_inbox(&state, &headers, Role::Sales)?;
    let owner = check_owner(Some(&form_field(&form_fields(&body), "owner")))?;
    assign(&state, &who, &key, owner.as_deref()).await?;
    Ok(Redirect::to(&format!("{}#owner", person_href(&key))).into_response())
}

/// A deal's value as people read it: thousands separated (`12,000`), at most two decimals
/// (`1,234.5`); no currency symbol, as forms name none.
pub(crate) fn amount(value: f64) -> String {
    let cents = (value.abs() * 100.0).round() as u128;
    let (whole, fraction) = (cents / 100, cents % 100);
    let digits = whole.to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3 + 4);
    if value < 0.0 && cents > 0 {
        out.push('-');
    }
    for (n, digit) in digits.chars().enumerate() {
        if n > 0 && (digits.len() - n) % 3 == 0 {
            out.push(',');
        }
        out.push(digit);
    }
    match fraction {
        0 => {}
        f if f % 10 == 0 => {
            let _ = write!(out, ".{}", f / 10);
        }
        f => {
            let _ = write!(out, ".{f:02}");
        }
    }
    out
}

/// A share as a whole percentage, `–` when there is nothing to divide.
fn percent(share: Option<f64>) -> String {
    share.map_or_else(|| "–".to_owned(), |s| format!("{:.0}%", s * 100.0))
}

/// One lead-source quality table: people credited to `credit`'s touch.
fn quality_table(id: &str, title: &str, note: &str, rows: &[PeopleQuality]) -> String {
    let mut out = format!("<h3 id=\"{id}\">{title}</h3><p class=\"note\">{note}</p>");
    if rows.is_empty() {
        out.push_str("<p>No people yet.</p>");
        return out;
    }
    let _ = write!(
        out,
        "<table class=\"cards\" aria-labelledby=\"{id}\"><thead><tr><th scope=\"col\">Source</th><th scope=\"col\">Medium</th><th scope=\"col\">Campaign</th><th scope=\"col\" class=\"num\">People</th><th scope=\"col\" class=\"num\">Hot now</th><th scope=\"col\" class=\"num\">Accepted</th><th scope=\"col\" class=\"num\">Won</th></tr></thead><tbody>"
    );
    for r in rows {
        let _ = write!(
            out,
            "<tr><td data-label=\"Source\">{}</td><td data-label=\"Medium\">{}</td><td data-label=\"Campaign\">{}</td><td data-label=\"People\" class=\"num\">{}</td><td data-label=\"Hot now\" class=\"num\">{}</td><td data-label=\"Accepted\" class=\"num\" title=\"{} of {} given feedback\">{}</td><td data-label=\"Won\" class=\"num\" title=\"{} of {} accepted\">{}</td></tr>",
            r.utm[0].as_deref().map_or("(none)".to_owned(), escape),
            opt(&r.utm[1]),
            opt(&r.utm[2]),
            r.people,
            percent(r.hot_share()),
            r.accepted,
            r.reviewed,
            percent(r.acceptance_rate()),
            r.won,
            r.accepted,
            percent(r.win_rate()),
        );
    }
    out.push_str("</tbody></table>");
    out
}

/// Lead-source quality in people, by first touch and by last touch.
fn quality_section(first: &[PeopleQuality], last: &[PeopleQuality], filter: &Filter) -> String {
    let mut out =
        String::from("<section aria-labelledby=\"sq\"><h2 id=\"sq\">Lead-source quality</h2>");
    let _ = write!(
        out,
        "<p class=\"note\">Counted in people, not submissions: a person who came back counts once. Submissions flagged as spam are left out. Hot now: their latest grade is their form's best. Accepted: of the people sales gave feedback on, those accepted (then won or lost too). Won: of those accepted, those won. {}</p>",
        crate::inbox::scope_text(filter)
            .replace("all leads", "all people")
            .replace("choose the leads listed below", "choose the people listed above")
    );
    out.push_str(&quality_table(
        "sq-first",
        "By first touch",
        "Each person is credited to the source of their first visit (how they first found the site).",
        first,
    ));
    out.push_str(&quality_table(
        "sq-last",
        "By last touch",
        "Each person is credited to the source of the visit of their latest submission (what brought them back to submit).",
        last,
    ));
    out.push_str("</section>");
    out
}

/// The people page's header; for admins the export, quarantine and forms links.
fn people_header(title: &str, matches: &str, qs: &str, held: u64, admin: bool) -> String {
    if !admin {
        return format!(
            "<header><h1>{title}</h1><p>{matches} · <a href=\"/inbox/leads\">Submissions</a></p></header><main>"
        );
    }
    format!(
        "<header><h1>{title}</h1><p>{matches} · <a href=\"/inbox/leads\">Submissions</a> · <a href=\"/v1/people.csv?{}\">Export CSV</a> · <a href=\"/inbox/quarantine\">Quarantine ({held})</a> · <a href=\"/inbox/forms\">Forms</a></p></header><main>",
        escape(qs)
    )
}

/// `GET /inbox`: people, the most recently active first, with their latest grade and score,
/// owner and sales status; the filters apply to people; lead-source quality in people.
pub(crate) async fn people_page(
    State(state): State<AppState>,
    headers: HeaderMap,
    query: Result<Query<FilterQuery>, axum::extract::rejection::QueryRejection>,
) -> Result<Response, AppError> {
    let who = require_user(&state.settings, &headers, true)?;
    let admin = who.role == Role::Admin;
    let (form_ids, grade_names) = forms_and_grades(&state)?;
    let (query, checked) = match query {
        Ok(Query(query)) => {
            let checked = query.check(&grade_names);
            (query, checked)
        }
        Err(err) => (
            FilterQuery::default(),
            Err(BadFilter::new(err.body_text(), None)),
        ),
    };
    let store = &state.store;
    let held = store.quarantine_count().await?;
    let qs = query.query_string();
    let CheckedFilter { filter, offset, .. } = match checked {
        Ok(checked) => checked,
        Err(bad) => {
            let mut body = people_header("People", "No people shown", &qs, held, admin);
            body.push_str(&filter_form(
                "/inbox",
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
    let people = store.people(&filter, PAGE, offset).await?;
    let total = store.count_people(&filter).await?;
    let over = quality_filter(&filter);
    let first = store.people_quality(&over, Credit::First).await?;
    let last = store.people_quality(&over, Credit::Last).await?;

    // "My people" (the account bar's link): the signed-in user's own people and no other filter.
    let mine = query.only_owner() == Some(who.name.as_str());
    let title = if mine { "My people" } else { "People" };
    let mut body = people_header(
        title,
        &format!("{total} {}", if total == 1 { "person" } else { "people" }),
        &qs,
        held,
        admin,
    );
    if admin {
        crate::inbox::admin_notes(&mut body, &form_ids, held);
    }
    body.push_str(&filter_form(
        "/inbox",
        &query,
        &form_ids,
        &grade_names,
        None,
    ));
    body.push_str("<section aria-labelledby=\"pl\"><h2 id=\"pl\">Most recently active first</h2>");
    if people.is_empty() {
        body.push_str("<p>No people match these filters.</p>");
    } else {
        body.push_str("<table class=\"cards\"><thead><tr><th scope=\"col\">Person</th><th scope=\"col\">Latest grade</th><th scope=\"col\" class=\"num\">Score</th><th scope=\"col\">Last seen</th><th scope=\"col\" class=\"num\">Submissions</th><th scope=\"col\">Owner</th><th scope=\"col\">Sales status</th></tr></thead><tbody>");
    }
    for p in &people {
        let company = match (&p.email, &p.company) {
            (Some(_), Some(company)) => format!("<small>{}</small>", escape(company)),
            _ => String::new(),
        };
        let spam = if p.spam {
            " <span class=\"warn\">spam?</span>"
        } else {
            ""
        };
        let grade = p.grade.as_deref().unwrap_or("");
        let _ = write!(
            body,
            "<tr><td class=\"lead\"><a href=\"{}\">{}</a>{company}</td><td data-label=\"Latest grade\">{}{spam}</td><td data-label=\"Score\" class=\"num\">{}</td><td data-label=\"Last seen\">{}</td><td data-label=\"Submissions\" class=\"num\">{}</td><td data-label=\"Owner\">{}</td><td data-label=\"Sales status\">{}</td></tr>",
            person_href(&p.key),
            escape(&person_name(p)),
            grade_badge(&state, filter.form.as_deref(), grade),
            p.total.map(|t| t.to_string()).unwrap_or_default(),
            p.last_at.as_deref().map(when).unwrap_or_default(),
            p.leads,
            p.owner.as_deref().map_or_else(|| "<span class=\"note\">unassigned</span>".to_owned(), escape),
            p.status.as_ref().map_or_else(|| crate::store::NEW.to_owned(), |(s, _)| escape(s)),
        );
    }
    if !people.is_empty() {
        body.push_str("</tbody></table>");
    }
    body.push_str(&crate::inbox::pager("/inbox", &qs, offset, PAGE, total));
    body.push_str("</section>");
    body.push_str(&quality_section(&first, &last, &over));
    body.push_str("</main>");
    Ok(page(
        &format!("Bantam inbox: {}", title.to_lowercase()),
        &body,
    ))
}

/// A person's latest grade as a badge, coloured by its rank in any loaded form that has it.
pub(crate) fn grade_badge(state: &AppState, form: Option<&str>, grade: &str) -> String {
    if grade.is_empty() {
        return String::new();
    }
    if let Some(form) = form {
        return badge(state, form, grade);
    }
    let form = state.forms.read().ok().and_then(|forms| {
        forms.ids().into_iter().find(|id| {
            forms
                .get(id)
                .is_some_and(|f| f.grade_index(grade).is_some())
        })
    });
    badge(state, form.as_deref().unwrap_or(""), grade)
}

/// The feedback form and history of the person page.
pub(crate) fn feedback_section(key: &str, history: &[Feedback], problem: Option<&str>) -> String {
    let mut out = String::from(
        "<section aria-labelledby=\"feedback\"><h2 id=\"feedback\">Sales feedback</h2>",
    );
    if let Some(problem) = problem {
        let _ = write!(
            out,
            "<p class=\"error\" role=\"alert\"><strong>Not recorded:</strong> {}</p>",
            escape(problem)
        );
    }
    let _ = write!(
        out,
        "<form method=\"post\" action=\"{}/feedback\" class=\"filters\" aria-label=\"Give sales feedback\">{}<label>Status<select name=\"status\" required>",
        person_href(key),
        users::csrf_field()
    );
    for status in STATUSES {
        let _ = write!(out, "<option value=\"{status}\">{status}</option>");
    }
    out.push_str("</select></label><label>Reason (when rejected)<select name=\"reason\"><option value=\"\">none</option>");
    for (id, label) in REJECT_REASONS {
        let _ = write!(out, "<option value=\"{id}\">{label}</option>");
    }
    out.push_str("</select></label><label>Value (when won)<input type=\"number\" name=\"value\" min=\"0\" step=\"any\" inputmode=\"decimal\"></label><div class=\"actions\"><button>Record feedback</button></div></form>");
    if history.is_empty() {
        out.push_str("<p>No feedback yet.</p>");
    } else {
        out.push_str("<table class=\"cards\"><thead><tr><th scope=\"col\">When</th><th scope=\"col\">Status</th><th scope=\"col\">Reason</th><th scope=\"col\" class=\"num\">Value</th><th scope=\"col\">By</th><th scope=\"col\">On submission</th></tr></thead><tbody>");
        for f in history {
            let reason = f.reason.as_deref().map_or(String::new(), |r| {
                let label = REJECT_REASONS
                    .iter()
                    .find(|(id, _)| *id == r)
                    .map_or(r, |(_, label)| label);
                escape(label)
            });
            let _ = write!(
                out,
                "<tr><td data-label=\"When\">{}</td><td data-label=\"Status\"><strong>{}</strong></td><td data-label=\"Reason\">{reason}</td><td data-label=\"Value\" class=\"num\">{}</td><td data-label=\"By\">{}</td><td data-label=\"On submission\">{}</td></tr>",
                when(&f.at),
                escape(&f.status),
                f.value.map(amount).unwrap_or_default(),
                escape(&f.by),
                f.lead_id.as_deref().map_or(String::new(), |id| format!(
                    "<a href=\"/inbox/leads/{}\">{}</a>",
                    encode(id),
                    escape(&id.chars().take(8).collect::<String>())
                )),
            );
        }
        out.push_str("</tbody></table>");
    }
    out.push_str("</section>");
    out
}

/// The owner form of the person page.
pub(crate) fn owner_section(key: &str, owner: Option<&str>) -> String {
    format!(
        "<section aria-labelledby=\"owner\"><h2 id=\"owner\">Owner</h2><form method=\"post\" action=\"{}/owner\" class=\"filters\" aria-label=\"Set the owner\">{}<label>Sales rep (empty: nobody)<input type=\"text\" name=\"owner\" maxlength=\"100\" autocomplete=\"off\" value=\"{}\"></label><div class=\"actions\"><button>Save owner</button></div></form></section>",
        person_href(key),
        users::csrf_field(),
        escape(owner.unwrap_or(""))
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn deal_values_are_shown_with_thousands_separated() {
        for (value, shown) in [
            (0.0, "0"),
            (999.0, "999"),
            (1000.0, "1,000"),
            (12000.0, "12,000"),
            (1234567.0, "1,234,567"),
            (1234.5, "1,234.5"),
            (1234.56, "1,234.56"),
            (0.05, "0.05"),
            (1e15, "1,000,000,000,000,000"),
        ] {
            assert_eq!(amount(value), shown, "{value}");
        }
    }

    #[test]
    fn feedback_is_checked_field_by_field() {
        let check = |status: &str, reason: Option<&str>, value: Option<f64>| {
            check_feedback(status, reason, value, "sam".into())
                .map(|f| (f.status, f.reason, f.value))
                .map_err(|e| format!("{e:?}"))
        };
        assert_eq!(
            check("rejected", Some("no-budget"), None),
            Ok(("rejected".into(), Some("no-budget".into()), None))
        );
        assert_eq!(
            check("won", None, Some(5000.0)),
            Ok(("won".into(), None, Some(5000.0)))
        );
        assert_eq!(
            check("accepted", None, None).map(|f| f.0),
            Ok("accepted".into())
        );
        for (status, reason, value, field) in [
            ("maybe", None, None, "status"),
            ("rejected", None, None, "reason"),
            ("rejected", Some("too-pricey"), None, "reason"),
            ("accepted", Some("no-budget"), None, "reason"),
            ("won", None, None, "value"),
            ("won", None, Some(-1.0), "value"),
            ("lost", None, Some(10.0), "value"),
        ] {
            let err = check(status, reason, value).unwrap_err();
            assert!(err.contains(field), "{status} {reason:?} {value:?}: {err}");
        }
    }
}
