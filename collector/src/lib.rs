//! Bantam's collector: the embedded default endpoint.
//!
//! It receives lead documents (`POST /v1/leads`), checks them, stores them in SQLite
//! idempotently on the lead id, lists them (`GET /v1/leads`) and serves the demo page, so the
//! demo is one origin. Handlers are thin; the lead document type is the engine's.

mod store;
mod time;

use std::path::PathBuf;
use std::sync::Arc;

use axum::extract::{DefaultBodyLimit, Query, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use axum::{Json, Router};
use bantam_engine::{LeadDocument, SCHEMA_VERSION};
use serde::Deserialize;
use serde_json::{json, Value};
use tower_http::services::ServeDir;

pub use store::{Store, StoreError};

/// Largest accepted request body.
pub const MAX_BODY_BYTES: usize = 64 * 1024;

/// What every handler shares.
#[derive(Clone)]
pub struct AppState {
    store: Arc<Store>,
}

impl AppState {
    /// Wraps an opened store.
    pub fn new(store: Store) -> AppState {
        AppState {
            store: Arc::new(store),
        }
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
    /// Something broke on our side; logged, and answered without details.
    Internal(String),
}

impl AppError {
    fn bad(status: StatusCode, error: impl Into<String>, field: Option<&str>) -> AppError {
        AppError::BadRequest {
            status,
            error: error.into(),
            field: field.map(str::to_owned),
        }
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

/// Builds the router: the lead API plus the static files of `www`.
pub fn app(state: AppState, www: PathBuf) -> Router {
    Router::new()
        .route("/v1/leads", post(post_lead).get(list_leads))
        .fallback_service(ServeDir::new(www))
        .layer(DefaultBodyLimit::max(MAX_BODY_BYTES))
        .with_state(state)
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
        Err(AppError::bad(
            StatusCode::UNPROCESSABLE_ENTITY,
            format!("{field} must be 1-{max} letters, digits, '-' or '_'"),
            Some(field),
        ))
    }
}

/// Parses and checks a posted lead document.
fn parse_lead(headers: &HeaderMap, body: &[u8]) -> Result<LeadDocument, AppError> {
    let content_type = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    if !content_type.starts_with("application/json") {
        return Err(AppError::bad(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            format!("Content-Type must be application/json, not \"{content_type}\""),
            None,
        ));
    }
    let value: Value = serde_json::from_slice(body).map_err(|err| {
        AppError::bad(
            StatusCode::BAD_REQUEST,
            format!("body is not valid JSON: {err}"),
            None,
        )
    })?;
    match value.get("schemaVersion").and_then(Value::as_u64) {
        Some(v) if v == u64::from(SCHEMA_VERSION) => {}
        Some(v) => {
            return Err(AppError::bad(
                StatusCode::UNPROCESSABLE_ENTITY,
                format!(
                    "schemaVersion {v} is not supported; this collector reads {SCHEMA_VERSION}"
                ),
                Some("schemaVersion"),
            ))
        }
        None => {
            return Err(AppError::bad(
                StatusCode::UNPROCESSABLE_ENTITY,
                "schemaVersion is missing or not a number",
                Some("schemaVersion"),
            ))
        }
    }
    let lead: LeadDocument = serde_path_to_error::deserialize(value).map_err(|err| {
        let path = err.path().to_string();
        AppError::bad(
            StatusCode::UNPROCESSABLE_ENTITY,
            format!("{path}: {}", err.inner()),
            Some(&path),
        )
    })?;
    check_id(&lead.id, "id", 100)?;
    check_id(&lead.form_id, "formId", 64)?;
    if lead.score.total > 100 {
        return Err(AppError::bad(
            StatusCode::UNPROCESSABLE_ENTITY,
            "score.total must be 0-100",
            Some("score.total"),
        ));
    }
    Ok(lead)
}

async fn post_lead(
    State(state): State<AppState>,
    headers: HeaderMap,
    body: axum::body::Bytes,
) -> Result<Response, AppError> {
    let lead = parse_lead(&headers, &body)?;
    if let Some(key) = headers.get("idempotency-key").and_then(|v| v.to_str().ok()) {
        if key != lead.id {
            return Err(AppError::bad(
                StatusCode::UNPROCESSABLE_ENTITY,
                format!(
                    "Idempotency-Key \"{key}\" does not match the lead id \"{}\"",
                    lead.id
                ),
                Some("id"),
            ));
        }
    }
    let store = state.store.clone();
    let received_at = time::now_rfc3339();
    let stored = tokio::task::spawn_blocking(move || store.insert(&lead, &received_at))
        .await
        .map_err(|err| AppError::Internal(err.to_string()))??;
    let status = if stored.created {
        StatusCode::CREATED
    } else {
        StatusCode::OK
    };
    Ok((
        status,
        Json(json!({
            "id": stored.id,
            "status": if stored.created { "stored" } else { "duplicate" },
            "grade": stored.grade,
            "total": stored.total,
            "receivedAt": stored.received_at,
        })),
    )
        .into_response())
}

/// Query of `GET /v1/leads`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct ListQuery {
    limit: Option<u32>,
}

async fn list_leads(
    State(state): State<AppState>,
    query: Result<Query<ListQuery>, axum::extract::rejection::QueryRejection>,
) -> Result<Response, AppError> {
    let Query(query) =
        query.map_err(|err| AppError::bad(StatusCode::BAD_REQUEST, err.body_text(), None))?;
    let limit = query.limit.unwrap_or(100).clamp(1, 1000);
    let store = state.store.clone();
    let leads = tokio::task::spawn_blocking(move || store.list(limit))
        .await
        .map_err(|err| AppError::Internal(err.to_string()))??;
    Ok(Json(json!({ "leads": leads })).into_response())
}
