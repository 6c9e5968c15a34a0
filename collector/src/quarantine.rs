//! The quarantine: real leads the collector could not take as they came, kept with the reason.
//!
//! A lead for a form that is not registered, from an origin that is not allowed, with answers
//! that no longer fit its form, or that a third-party endpoint refused (the widget falls back to
//! the collector with the refusal attached) is never refused: the visitor was thanked for it.
//! It is stored here, answered `202` with a `Bantam-Quarantined` header, logged once, listed in
//! the inbox (`/inbox/quarantine`) and the API (`GET /v1/quarantine`), and accepted into the
//! leads with one action once its cause is fixed.

use std::fmt::Write as _;

use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use axum::Json;
use serde::Deserialize;
use serde_json::{json, Value};

use crate::inbox::{encode, escape, page, when};
use crate::store::{Quarantined, Stored};
use crate::{ingest, require_admin, time, AppError, AppState, Checked};

/// Rows one page of the quarantine shows.
const PAGE: u32 = 100;

/// The reason as an HTTP header value: printable ASCII only, at most 300 characters.
fn header_text(reason: &str) -> HeaderValue {
    let text: String = reason
        .chars()
        .take(300)
        .map(|c| {
            if c.is_ascii_graphic() || c == ' ' {
                c
            } else {
                '?'
            }
        })
        .collect();
    HeaderValue::from_str(&text).unwrap_or_else(|_| HeaderValue::from_static("quarantined"))
}

/// Keeps `lead` in quarantine and answers `202` with the reason; logs the first arrival.
pub(crate) async fn hold(state: &AppState, lead: Quarantined) -> Result<Response, AppError> {
    let created = state.store.quarantine(&lead).await?;
    if created {
        eprintln!(
            "bantam-collector: quarantined lead {} (form {}): {}; review it at /inbox/quarantine",
            lead.id, lead.form_id, lead.reason
        );
    }
    let mut response = (
        StatusCode::ACCEPTED,
        Json(json!({
            "id": lead.id,
            "status": "quarantined",
            "reason": lead.reason,
        })),
    )
        .into_response();
    response
        .headers_mut()
        .insert("bantam-quarantined", header_text(&lead.reason));
    Ok(response)
}

/// Takes a quarantined lead into the leads, checked against the forms as they are now.
async fn accept(state: &AppState, id: String) -> Result<Stored, AppError> {
    let held = state.store.quarantined_one(&id).await?.ok_or_else(|| {
        AppError::bad(
            StatusCode::NOT_FOUND,
            format!("no quarantined lead \"{id}\""),
            Some("id"),
        )
    })?;
    let checked = {
        let forms = state
            .forms
            .read()
            .map_err(|_| AppError::Internal("forms lock poisoned".into()))?;
        ingest(&forms, held.document.as_bytes(), None, true)?
    };
    let Checked::Lead(ingested) = checked else {
        return Err(AppError::Internal("an accepted lead was held again".into()));
    };
    let mut ingested = *ingested;
    if ingested.id != held.id {
        // Kept under its own key: another lead is stored under its id.
        return Err(AppError::bad(
            StatusCode::CONFLICT,
            format!(
                "a different lead with the id {} is stored; this copy cannot be stored under the same id",
                ingested.id
            ),
            Some("id"),
        ));
    }
    ingested.deliveries = state.route(&ingested);
    let at = time::now_rfc3339();
    // A hot lead takes its form's next rep in turn, as it would have when it first came.
    let reps = state.routes.owners(&ingested.form_id);
    let stored = state.store.accept(&ingested, &at, reps).await?;
    eprintln!("bantam-collector: accepted quarantined lead {}", stored.id);
    Ok(stored)
}

/// Query of the quarantine lists.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct ListQuery {
    offset: Option<u32>,
}

async fn load(state: &AppState, offset: u32) -> Result<(Vec<Quarantined>, u64), AppError> {
    Ok((
        state.store.quarantined(PAGE, offset).await?,
        state.store.quarantine_count().await?,
    ))
}

/// `GET /v1/quarantine`: waiting leads, newest first, each with its reason and document.
pub(crate) async fn list_api(
    State(state): State<AppState>,
    headers: HeaderMap,
    query: Result<Query<ListQuery>, axum::extract::rejection::QueryRejection>,
) -> Result<Response, AppError> {
    require_admin(&state.settings, &headers, false)?;
    let query = crate::read_query(query)?;
    let (held, total) = load(&state, query.offset.unwrap_or(0)).await?;
    let leads: Vec<Value> = held
        .iter()
        .map(|q| {
            let mut row = serde_json::to_value(q).unwrap_or(Value::Null);
            row["lead"] = serde_json::from_str(&q.document).unwrap_or(Value::Null);
            row
        })
        .collect();
    Ok(Json(json!({ "leads": leads, "total": total })).into_response())
}

/// `POST /v1/quarantine/{id}/accept` with the admin token.
pub(crate) async fn accept_api(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> Result<Response, AppError> {
    require_admin(&state.settings, &headers, false)?;
    crate::inbox::not_from_another_site(&headers)?;
    let stored = accept(&state, id).await?;
    crate::users::audit(
        &state,
        &crate::admin_name(&headers),
        "quarantine.accept",
        &stored.id,
        &stored.grade,
    )
    .await;
    Ok(Json(json!({
        "id": stored.id,
        "status": "accepted",
        "grade": stored.grade,
        "total": stored.total,
    }))
    .into_response())
}

/// `POST /inbox/quarantine/{id}/accept` from the quarantine page's button.
pub(crate) async fn accept_form(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> Result<Response, AppError> {
    let who = crate::inbox::change_from_inbox(&state, &headers, crate::users::Role::Admin)?;
    match accept(&state, id.clone()).await {
        Ok(stored) => {
            crate::users::audit(
                &state,
                &who.name,
                "quarantine.accept",
                &stored.id,
                &stored.grade,
            )
            .await;
            Ok(Redirect::to(&format!("/inbox/leads/{}", encode(&stored.id))).into_response())
        }
        Err(AppError::BadRequest { error, .. }) => {
            let body = format!(
                "<header><h1>Not accepted</h1></header><main><p role=\"alert\">Lead {} cannot be accepted yet: {}</p><p><a href=\"/inbox/quarantine\">Back to the quarantine</a></p></main>",
                escape(&id),
                escape(&error)
            );
            let mut response = page("Not accepted", &body);
            *response.status_mut() = StatusCode::CONFLICT;
            Ok(response)
        }
        Err(other) => Err(other),
    }
}

/// `GET /inbox/quarantine`: the waiting leads with their reasons and an accept button each.
pub(crate) async fn list_page(
    State(state): State<AppState>,
    headers: HeaderMap,
    query: Result<Query<ListQuery>, axum::extract::rejection::QueryRejection>,
) -> Result<Response, AppError> {
    require_admin(&state.settings, &headers, true)?;
    let query = crate::read_query(query)?;
    let (held, total) = load(&state, query.offset.unwrap_or(0)).await?;
    let mut body = format!(
        "<header><h1>Quarantine</h1><p>{total} waiting · <a href=\"/inbox\">Leads</a></p></header><main>"
    );
    body.push_str("<p>Leads the collector could not take as they came. Nothing here is lost: fix the cause (register the form, allow the origin, correct the delivery settings), then accept each lead into the inbox.</p>");
    if held.is_empty() {
        body.push_str("<p>Nothing is waiting.</p>");
    } else {
        body.push_str("<table class=\"cards\"><thead><tr><th scope=\"col\">Received</th><th scope=\"col\">Form</th><th scope=\"col\">Email</th><th scope=\"col\">Origin</th><th scope=\"col\">Why it is here</th><th scope=\"col\">Action</th></tr></thead><tbody>");
        for q in &held {
            let _ = write!(
                body,
                "<tr><td data-label=\"Received\">{}</td><td data-label=\"Form\">{}</td><td data-label=\"Email\">{}</td><td data-label=\"Origin\">{}</td><td data-label=\"Why it is here\">{}</td><td data-label=\"Action\"><form method=\"post\" action=\"/inbox/quarantine/{}/accept\">{}<button>Accept</button></form></td></tr>",
                when(&q.received_at),
                escape(&q.form_id),
                escape(q.email.as_deref().unwrap_or("")),
                escape(q.origin.as_deref().unwrap_or("")),
                escape(&q.reason),
                encode(&q.id),
                crate::users::csrf_field(),
            );
        }
        body.push_str("</tbody></table>");
    }
    body.push_str("</main>");
    Ok(page("Bantam quarantine", &body))
}
