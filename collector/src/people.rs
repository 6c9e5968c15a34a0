//! A person's data: everything held about one email, exported as JSON or erased, and the
//! retention period that deletes leads sales never took.
//!
//! A person is found by email without regard to ASCII case (as people are keyed), in the leads
//! and in the quarantine. An erasure deletes their leads, their deliveries (queued, sent or
//! failed, to every destination) and their quarantined leads in one transaction, takes them out
//! of the inbox's totals, and leaves a record (when, why, who asked, how many rows) that names
//! the person only by a digest of their email, so the record itself holds nothing to erase.
//! The retention period (`--retention-days`) deletes, once an hour, the leads that arrived
//! before it and that sales did not accept or win, with the same record.

use std::fmt::Write as _;
use std::time::Duration;

use axum::extract::{Path, Query, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use axum::Json;
use serde::Deserialize;
use serde_json::{json, Value};

use crate::inbox::{
    answer_text, badge, change_from_inbox, encode, escape, form_field, form_fields, in_form_order,
    not_from_another_site, page, when,
};
use crate::persons::{feedback_section, grade_badge, owner_section, person_name};
use crate::store::{Erase, Erasure, Feedback, Person, PersonData, Row, Store};
use crate::users::{self, Role};
use crate::{require_admin, time, AppError, AppState};

/// A person's key as a page or the API names it: an email (trimmed, any case), or a key of a
/// person without one (`visitor:…`, `lead:…`); refused when it cannot be one.
fn person_email(key: &str) -> Result<String, AppError> {
    let key = key.trim();
    if (key.starts_with("visitor:") || key.starts_with("lead:")) && key.len() <= 120 {
        return Ok(key.to_owned());
    }
    if key.is_empty() || key.len() > 254 || !key.contains('@') {
        return Err(AppError::bad(
            StatusCode::BAD_REQUEST,
            format!("\"{key}\" is not an email address: a person is found by their email"),
            Some("email"),
        ));
    }
    Ok(crate::store::normal_email(Some(key)).unwrap_or_default())
}

/// `?download=1` on the export, `?erased=N` on the page after an erasure, `?problem=…` after
/// feedback that could not be recorded.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct PersonQuery {
    download: Option<String>,
    erased: Option<u64>,
    /// Why the feedback just posted from the page was not recorded.
    problem: Option<String>,
}

/// What the export and the page both read: the role's check (admin for the export, sales or
/// admin for the page), the query, the person's email
/// and everything held about them.
async fn read_person(
    state: &AppState,
    headers: &HeaderMap,
    email: &str,
    query: Result<Query<PersonQuery>, axum::extract::rejection::QueryRejection>,
    role: Role,
) -> Result<(PersonQuery, String, PersonData), AppError> {
    if role == Role::Admin {
        require_admin(&state.settings, headers, false)?;
    } else {
        crate::require_user(&state.settings, headers, true)?;
    }
    let query = crate::read_query(query)?;
    let email = person_email(email)?;
    let data = state.store.person(&email).await?;
    Ok((query, email, data))
}

/// `GET /v1/people/{email}`: everything held about the person, as JSON.
pub(crate) async fn export_api(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(email): Path<String>,
    query: Result<Query<PersonQuery>, axum::extract::rejection::QueryRejection>,
) -> Result<Response, AppError> {
    let (query, email, data) = read_person(&state, &headers, &email, query, Role::Admin).await?;
    let person = state.store.person_by_key(&email).await?;
    let feedback = state.store.feedback(&email).await?;
    users::audit(
        &state,
        &crate::admin_name(&headers),
        "export",
        &format!("person {}", &crate::store::email_digest(&email)[..12]),
        &format!(
            "{} lead(s), {} quarantined, {} feedback",
            data.leads.len(),
            data.quarantined.len(),
            feedback.len()
        ),
    )
    .await;
    let body = json!({
        "email": email,
        "exportedAt": time::now_rfc3339(),
        "person": person.map(|p| json!({
            "key": p.key,
            "email": p.email,
            "visitorId": p.visitor_id,
            "owner": p.owner,
            "company": p.company,
        })),
        "feedback": feedback,
        "leads": data.leads,
        "quarantined": data.quarantined,
    });
    let mut response = Json(body).into_response();
    if query.download.is_some() {
        let name = format!(
            "attachment; filename=\"bantam-person-{}.json\"",
            &crate::store::email_digest(&email)[..12]
        );
        if let Ok(value) = name.parse() {
            response
                .headers_mut()
                .insert(header::CONTENT_DISPOSITION, value);
        }
    }
    Ok(response)
}

/// `DELETE /v1/people/{email}`: erases the person; answers the erasure's record.
pub(crate) async fn erase_api(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(email): Path<String>,
) -> Result<Json<Erasure>, AppError> {
    require_admin(&state.settings, &headers, false)?;
    not_from_another_site(&headers)?;
    let email = person_email(&email)?;
    let erasure = erase(&state, &crate::admin_name(&headers), &email).await?;
    Ok(Json(erasure))
}

/// Erases one person at `by`'s request and logs it, and records it in the audit log (both
/// without their email).
async fn erase(state: &AppState, by: &str, email: &str) -> Result<Erasure, AppError> {
    let erasure = state
        .store
        .erase(
            &Erase::Person {
                email: email.to_owned(),
            },
            by,
            &time::now_rfc3339(),
        )
        .await?;
    users::audit(
        state,
        by,
        "erase",
        &format!("person {}", &erasure.subject[..12]),
        &format!(
            "{} lead(s), {} deliveries, {} quarantined",
            erasure.leads, erasure.deliveries, erasure.quarantined
        ),
    )
    .await;
    eprintln!(
        "bantam-collector: erased person {} at an admin's request: {} lead(s), {} deliveries, {} quarantined",
        &erasure.subject[..12],
        erasure.leads,
        erasure.deliveries,
        erasure.quarantined
    );
    Ok(erasure)
}

/// `GET /v1/erasures`: the record of erasures, newest first.
pub(crate) async fn erasures_api(
    State(state): State<AppState>,
    headers: HeaderMap,
) -> Result<Json<Value>, AppError> {
    require_admin(&state.settings, &headers, true)?;
    let records = state.store.erasures(1000).await?;
    Ok(Json(json!({ "erasures": records })))
}

/// `GET /inbox/people/{key}`: the person: latest grade and score, first and last touch, sales
/// feedback, owner, grade history and submissions, every answer known with the visit it came
/// from, and the privacy requests (export, erase).
pub(crate) async fn person_page(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(email): Path<String>,
    query: Result<Query<PersonQuery>, axum::extract::rejection::QueryRejection>,
) -> Result<Response, AppError> {
    let (query, email, data) = read_person(&state, &headers, &email, query, Role::Sales).await?;
    let admin = users::signed_in().is_none_or(|who| who.role == Role::Admin);
    let person = state.store.person_by_key(&email).await?;
    let leads = state.store.person_leads(&email).await?;
    let history = state.store.feedback(&email).await?;
    let name = person.as_ref().map_or_else(|| email.clone(), person_name);
    let mut body = format!(
        "<header><h1>{}</h1><p><a href=\"/inbox\">People</a> · <a href=\"/inbox/leads\">Submissions</a>{}</p></header><main>",
        escape(&name),
        if admin {
            " · <a href=\"/inbox/quarantine\">Quarantine</a>"
        } else {
            ""
        }
    );
    if let Some(erased) = query.erased {
        let _ = write!(
            body,
            "<p role=\"status\"><strong>Erased.</strong> {erased} lead(s) of this person were deleted with their deliveries, quarantined leads, person record and sales feedback; the erasure is recorded at <a href=\"/v1/erasures\">/v1/erasures</a> without their email.</p>"
        );
    }
    if let Some(p) = &person {
        // What sales does with a person (feedback, owner) comes right after who they are now,
        // not after every answer: on a phone it is in reach without scrolling past the visits.
        summary(&mut body, &state, p, &history);
        body.push_str(&feedback_section(
            &p.key,
            &history,
            query.problem.as_deref(),
        ));
        body.push_str(&owner_section(&p.key, p.owner.as_deref()));
        grade_history(&mut body, &state, &leads);
        answers_known(&mut body, &state, &leads);
    }
    if person.is_none() && data.leads.is_empty() && data.quarantined.is_empty() {
        body.push_str("<p>Nothing is held about this person.</p>");
    } else if !data.quarantined.is_empty() {
        let _ = write!(
            body,
            "<p>{} lead(s) of this person wait in the <a href=\"/inbox/quarantine\">quarantine</a>.</p>",
            data.quarantined.len()
        );
    }
    if !admin {
        body.push_str(
            "<p class=\"note\">Exporting or erasing this person's data is for admins.</p></main>",
        );
        return Ok(page(&format!("Person {name}"), &body));
    }
    let _ = write!(
        body,
        "<section aria-labelledby=\"duties\"><h2 id=\"duties\">Privacy requests</h2><p><a href=\"/v1/people/{path}?download=1\">Download everything held about this person (JSON)</a></p><form method=\"post\" action=\"/inbox/people/{path}/erase\">{csrf}<p><label><input type=\"checkbox\" name=\"confirm\" value=\"yes\" required> I understand that erasing deletes this person's leads, deliveries, quarantined leads and sales feedback for good</label></p><p><button>Erase this person</button></p></form></section></main>",
        path = encode(&email),
        csrf = users::csrf_field()
    );
    Ok(page(&format!("Person {name}"), &body))
}

/// A touch as words: source / medium / campaign, or "direct".
fn touch_label(utm: &[Option<String>; 3]) -> String {
    if utm.iter().all(Option::is_none) {
        return "direct (no campaign)".to_owned();
    }
    let parts: Vec<&str> = utm.iter().map(|v| v.as_deref().unwrap_or("–")).collect();
    escape(&parts.join(" / "))
}

/// The person at a glance: latest grade and score, status, owner, first and last touch.
fn summary(body: &mut String, state: &AppState, p: &Person, history: &[Feedback]) {
    // A won person's status shows the deal's value (`won 12,000 · …`).
    let status = p.status.as_ref().map_or_else(
        || "new (no feedback yet)".to_owned(),
        |(s, at)| {
            let value = history
                .iter()
                .find(|f| &f.status == s && &f.at == at)
                .and_then(|f| f.value)
                .map(|v| format!(" {}", crate::persons::amount(v)))
                .unwrap_or_default();
            format!("{}{value} · {}", escape(s), when(at))
        },
    );
    let _ = write!(
        body,
        "<section aria-labelledby=\"now\"><h2 id=\"now\">Now</h2><dl class=\"facts\"><div><dt>Latest grade</dt><dd>{} <strong>{}</strong>/100</dd></div><div><dt>Sales status</dt><dd>{}</dd></div><div><dt>Owner</dt><dd>{}</dd></div><div><dt>Email</dt><dd>{}</dd></div><div><dt>Company</dt><dd>{}</dd></div><div><dt>Submissions</dt><dd>{}</dd></div><div><dt>First touch</dt><dd>{} · {}</dd></div><div><dt>Last touch</dt><dd>{} · {}</dd></div></dl></section>",
        grade_badge(state, None, p.grade.as_deref().unwrap_or("")),
        p.total.unwrap_or(0),
        status,
        p.owner.as_deref().map_or_else(|| "unassigned".to_owned(), escape),
        p.email.as_deref().map_or_else(|| "not given yet".to_owned(), escape),
        p.company.as_deref().map_or_else(|| "–".to_owned(), escape),
        p.leads,
        touch_label(&p.first_utm),
        p.first_at.as_deref().map(when).unwrap_or_default(),
        touch_label(&p.last_utm),
        p.last_at.as_deref().map(when).unwrap_or_default(),
    );
}

/// The grade history in words, then every submission (each a link to its lead page).
fn grade_history(body: &mut String, state: &AppState, leads: &[Row]) {
    let steps: Vec<String> = leads
        .iter()
        .map(|r| {
            format!(
                "{} on {}",
                escape(&r.grade),
                escape(&time::readable_day(
                    &r.received_at[..r.received_at.len().min(10)]
                ))
            )
        })
        .collect();
    let _ = write!(
        body,
        "<section aria-labelledby=\"visits\"><h2 id=\"visits\">Grade history and submissions</h2><p>{}</p><table class=\"cards\"><thead><tr><th scope=\"col\">Visit</th><th scope=\"col\">Received</th><th scope=\"col\">Grade</th><th scope=\"col\" class=\"num\">Score</th><th scope=\"col\">Form</th><th scope=\"col\">Source / medium / campaign</th></tr></thead><tbody>",
        steps.join(", then ")
    );
    for (n, r) in leads.iter().enumerate() {
        let spam = if DocumentSpam::read(&r.document) {
            " <span class=\"warn\">spam?</span>"
        } else {
            ""
        };
        let _ = write!(
            body,
            "<tr><td class=\"lead\"><a href=\"/inbox/leads/{}\">Visit {}</a></td><td data-label=\"Received\">{}</td><td data-label=\"Grade\">{}{spam}</td><td data-label=\"Score\" class=\"num\">{}</td><td data-label=\"Form\">{}</td><td data-label=\"Source\">{}</td></tr>",
            encode(&r.id),
            n + 1,
            when(&r.received_at),
            badge(state, &r.form_id, &r.grade),
            r.total,
            escape(&r.form_id),
            touch_label(&r.utm),
        );
    }
    body.push_str("</tbody></table></section>");
}

/// Whether a stored document is flagged as spam.
struct DocumentSpam;

impl DocumentSpam {
    fn read(document: &str) -> bool {
        serde_json::from_str::<Value>(document)
            .is_ok_and(|d| d["spam"]["flagged"] == Value::Bool(true))
    }
}

/// Every answer known about the person, each with the visit it came from: the first visit
/// that gave it, or the latest that changed it.
fn answers_known(body: &mut String, state: &AppState, leads: &[Row]) {
    let mut known: Vec<(String, Value, usize)> = Vec::new();
    for (n, r) in leads.iter().enumerate() {
        let Ok(doc) = serde_json::from_str::<Value>(&r.document) else {
            continue;
        };
        let Some(answers) = doc["answers"].as_object() else {
            continue;
        };
        for (id, value) in answers {
            match known.iter_mut().find(|(k, _, _)| k == id) {
                Some(entry) if entry.1 == *value => {}
                Some(entry) => *entry = (id.clone(), value.clone(), n),
                None => known.push((id.clone(), value.clone(), n)),
            }
        }
    }
    let _ = write!(
        body,
        "<section aria-labelledby=\"answers\"><h2 id=\"answers\">Every answer known</h2>"
    );
    if known.is_empty() {
        body.push_str("<p>No answers yet.</p></section>");
        return;
    }
    let form = leads
        .last()
        .and_then(|r| state.forms.read().ok().and_then(|f| f.get(&r.form_id)));
    let visits: Vec<(String, usize)> = known.iter().map(|(id, _, n)| (id.clone(), *n)).collect();
    let ordered = in_form_order(
        form.as_deref(),
        known.into_iter().map(|(id, v, _)| (id, v)).collect(),
    );
    body.push_str("<table class=\"cards\"><thead><tr><th scope=\"col\">Question</th><th scope=\"col\">Answer</th><th scope=\"col\">From</th></tr></thead><tbody>");
    for (id, value) in &ordered {
        let (label, text) = answer_text(form.as_deref(), id, value);
        let n = visits.iter().find(|(k, _)| k == id).map_or(0, |(_, n)| *n);
        let r = &leads[n];
        let _ = write!(
            body,
            "<tr><td class=\"lead\">{}</td><td data-label=\"Answer\">{}</td><td data-label=\"From\"><span><a href=\"/inbox/leads/{}\">visit {}</a>, {}</span></td></tr>",
            escape(&label),
            escape(&text),
            encode(&r.id),
            n + 1,
            when(&r.received_at),
        );
    }
    body.push_str("</tbody></table></section>");
}

/// `POST /inbox/people/{email}/erase` from the person's page (its box ticked).
pub(crate) async fn erase_form(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(email): Path<String>,
    body: String,
) -> Result<Response, AppError> {
    let who = change_from_inbox(&state, &headers, Role::Admin)?;
    if form_field(&form_fields(&body), "confirm") != "yes" {
        return Err(AppError::bad(
            StatusCode::BAD_REQUEST,
            "tick the box to confirm the erasure: nothing was erased",
            Some("confirm"),
        ));
    }
    let email = person_email(&email)?;
    let erasure = erase(&state, &who.name, &email).await?;
    Ok(Redirect::to(&format!(
        "/inbox/people/{}?erased={}",
        encode(&email),
        erasure.leads
    ))
    .into_response())
}

/// Deletes, now and then once an hour, the leads older than `days` that sales did not accept
/// or win; each pass that deletes anything is recorded and logged.
pub async fn run_retention(store: std::sync::Arc<Store>, days: u32) {
    let mut tick = tokio::time::interval(Duration::from_secs(3600));
    loop {
        tick.tick().await;
        let now = time::now_millis();
        let before = time::format_rfc3339(now - i64::from(days) * 86_400_000);
        match store
            .erase(
                &Erase::Expired { before },
                "retention",
                &time::format_rfc3339(now),
            )
            .await
        {
            Ok(erasure) if erasure.leads > 0 => eprintln!(
                "bantam-collector: retention ({days} days): deleted {} lead(s) {} ({} deliveries)",
                erasure.leads, erasure.subject, erasure.deliveries
            ),
            Ok(_) => {}
            Err(err) => eprintln!("bantam-collector: retention: {err}; trying again in an hour"),
        }
    }
}
