//! A person's data: everything held about one email, exported as JSON or erased, and the
//! retention period that deletes leads sales never took.
//!
//! A person is found by email without regard to case, in the leads and in the quarantine. An
//! erasure deletes their leads, their forwards (queued or sent) and their quarantined leads in
//! one transaction, takes them out of the inbox's totals, and leaves a record (when, why, who
//! asked, how many rows) that names the person only by a digest of their email, so the record
//! itself holds nothing to erase. The retention period (`--retention-days`) deletes, once an
//! hour, the leads that arrived before it and that sales did not accept or win, with the same
//! record.

use std::fmt::Write as _;
use std::time::Duration;

use axum::extract::{Path, Query, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use axum::Json;
use serde::Deserialize;
use serde_json::{json, Value};

use crate::inbox::{
    change_from_inbox, encode, escape, form_field, form_fields, not_from_another_site, page,
};
use crate::store::{Erase, Erasure, PersonData, Store};
use crate::users::{self, Role};
use crate::{require_admin, time, AppError, AppState};

/// An email as a person's key: trimmed, any case; refused when it cannot be one.
fn person_email(email: &str) -> Result<String, AppError> {
    let email = email.trim();
    if email.is_empty() || email.len() > 254 || !email.contains('@') {
        return Err(AppError::bad(
            StatusCode::BAD_REQUEST,
            format!("\"{email}\" is not an email address: a person is found by their email"),
            Some("email"),
        ));
    }
    Ok(email.to_lowercase())
}

/// `?download=1` on the export, `?erased=N` on the page after an erasure.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct PersonQuery {
    download: Option<String>,
    erased: Option<u64>,
}

/// What the export and the page both read: the admin's check, the query, the person's email
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
    users::audit(
        &state,
        &crate::admin_name(&headers),
        "export",
        &format!("person {}", &crate::store::email_digest(&email)[..12]),
        &format!(
            "{} lead(s), {} quarantined",
            data.leads.len(),
            data.quarantined.len()
        ),
    )
    .await;
    let body = json!({
        "email": email,
        "exportedAt": time::now_rfc3339(),
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
            "{} lead(s), {} forward(s), {} quarantined",
            erasure.leads, erasure.forwards, erasure.quarantined
        ),
    )
    .await;
    eprintln!(
        "bantam-collector: erased person {} at an admin's request: {} lead(s), {} forward(s), {} quarantined",
        &erasure.subject[..12],
        erasure.leads,
        erasure.forwards,
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

/// `GET /inbox/people/{email}`: the person's leads, the export link and the erase button.
pub(crate) async fn person_page(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(email): Path<String>,
    query: Result<Query<PersonQuery>, axum::extract::rejection::QueryRejection>,
) -> Result<Response, AppError> {
    let (query, email, data) = read_person(&state, &headers, &email, query, Role::Sales).await?;
    let admin = users::signed_in().is_none_or(|who| who.role == Role::Admin);
    let mut body = format!(
        "<header><h1>Person: {}</h1><p><a href=\"/inbox\">Leads</a> · <a href=\"/inbox/quarantine\">Quarantine</a></p></header><main>",
        escape(&email)
    );
    if let Some(erased) = query.erased {
        let _ = write!(
            body,
            "<p role=\"status\"><strong>Erased.</strong> {erased} lead(s) of this person were deleted with their forwards and quarantined leads; the erasure is recorded at <a href=\"/v1/erasures\">/v1/erasures</a> without their email.</p>"
        );
    }
    if data.leads.is_empty() && data.quarantined.is_empty() {
        body.push_str("<p>Nothing is held about this email.</p>");
    } else {
        body.push_str("<section aria-labelledby=\"held\"><h2 id=\"held\">What is held</h2><div class=\"scroll\"><table><thead><tr><th>Received (UTC)</th><th>Form</th><th>Grade</th><th>Sales status</th><th>Lead</th></tr></thead><tbody>");
        for lead in &data.leads {
            let doc = &lead["lead"];
            let id = doc["id"].as_str().unwrap_or("");
            let _ = write!(
                body,
                "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td><a href=\"/inbox/leads/{}\">{}</a></td></tr>",
                escape(&short_time(lead["receivedAt"].as_str().unwrap_or(""))),
                escape(doc["formId"].as_str().unwrap_or("")),
                escape(doc["score"]["grade"].as_str().unwrap_or("")),
                escape(lead["status"].as_str().unwrap_or("none")),
                encode(id),
                escape(id),
            );
        }
        body.push_str("</tbody></table></div>");
        let _ = write!(
            body,
            "<p>{} lead(s); {} in the quarantine.</p></section>",
            data.leads.len(),
            data.quarantined.len()
        );
    }
    if !admin {
        body.push_str(
            "<p class=\"note\">Exporting or erasing this person's data is for admins.</p></main>",
        );
        return Ok(page(&format!("Person {email}"), &body));
    }
    let _ = write!(
        body,
        "<section aria-labelledby=\"duties\"><h2 id=\"duties\">Privacy requests</h2><p><a href=\"/v1/people/{path}?download=1\">Download everything held about this person (JSON)</a></p><form method=\"post\" action=\"/inbox/people/{path}/erase\">{csrf}<p><label><input type=\"checkbox\" name=\"confirm\" value=\"yes\" required> I understand that erasing deletes this person's leads, forwards and quarantined leads for good</label></p><p><button>Erase this person</button></p></form></section></main>",
        path = encode(&email),
        csrf = users::csrf_field()
    );
    Ok(page(&format!("Person {email}"), &body))
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

/// `2026-12-01T17:58:46.123Z` as `2026-12-01 17:58`.
fn short_time(at: &str) -> String {
    at.chars().take(16).collect::<String>().replace('T', " ")
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
                "bantam-collector: retention ({days} days): deleted {} lead(s) {} ({} forward(s))",
                erasure.leads, erasure.subject, erasure.forwards
            ),
            Ok(_) => {}
            Err(err) => eprintln!("bantam-collector: retention: {err}; trying again in an hour"),
        }
    }
}
