//! Forms with a history: every publish of a form's config is a version (who, when, a note),
//! written to the forms folder atomically and used at once; the JSON API the form editor
//! stands on (`/v1/forms…`, see `collector/FORMS-API.md`).
//!
//! The forms folder stays the truth the collector serves: a version is recorded before its
//! file is written, and a file found there that matches no version (a first start, a hand
//! edit) is recorded as a version by `file`, so history is complete and each lead names the
//! version it was scored with.

pub(crate) mod diff;

use std::io::Write as _;
use std::path::{Path, PathBuf};

use axum::extract::{Path as UrlPath, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use bantam_engine::{delivery_warnings, Answers, LeadDocument};
use serde::Deserialize;
use serde_json::{json, Value};

use crate::inbox::not_from_another_site;
use crate::store::{Filter, FormVersion, Published, Row};
use crate::{require_admin, time, AppError, AppState, StoreError};

/// Most stored leads an impact estimate re-scores (the newest).
pub const IMPACT_LIMIT: u32 = 10_000;

/// Who publishes when a file in the forms folder is recorded as a version.
pub const BY_FILE: &str = "file";

/// Whether `id` may name a new form: lowercase letters, digits and `-`, at most 64.
pub(crate) fn valid_new_id(id: &str) -> bool {
    !id.is_empty()
        && id.len() <= 64
        && id
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
}

/// A config as its file holds it: pretty JSON and a final newline.
pub(crate) fn config_text(config: &Value) -> String {
    let mut text = serde_json::to_string_pretty(config).unwrap_or_default();
    text.push('\n');
    text
}

/// Problems with a config, as the engine finds them: errors (the first; the engine stops
/// there) and the delivery warnings of a valid one.
pub(crate) struct Checked {
    pub(crate) errors: Vec<(String, String)>,
    pub(crate) warnings: Vec<(String, String)>,
}

/// Reads `config` with the engine, as the collector will load it.
pub(crate) fn check(config: &Value) -> Result<bantam_engine::Form, (String, String)> {
    bantam_engine::parse_config(config.clone()).map_err(|e| (e.path().to_owned(), e.to_string()))
}

/// [`check`] with the delivery warnings of a valid config.
pub(crate) fn check_all(config: &Value) -> Checked {
    match check(config) {
        Ok(form) => Checked {
            errors: Vec::new(),
            warnings: delivery_warnings(&form)
                .into_iter()
                .map(|w| (w.path, w.message))
                .collect(),
        },
        Err(error) => Checked {
            errors: vec![error],
            warnings: Vec::new(),
        },
    }
}

fn pairs(list: &[(String, String)]) -> Value {
    Value::Array(
        list.iter()
            .map(|(path, message)| json!({ "path": path, "message": message }))
            .collect(),
    )
}

/// The folder a file is in (`.` for a bare name) and its name.
pub(crate) fn folder_and_name(path: &Path) -> (PathBuf, String) {
    let dir = match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => PathBuf::from("."),
    };
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    (dir, name)
}

/// Writes `text` to `path` atomically: a temporary file in the same folder, fsync, rename,
/// fsync of the folder. A reader sees the old file or the new one, never a part.
pub(crate) fn write_atomically(path: &Path, text: &str) -> std::io::Result<()> {
    let (dir, name) = crate::history::folder_and_name(path);
    // Hidden and not `.json`: the forms folder's reader never takes it for a form.
    let temp = dir.join(format!(".{name}.{}.tmp", std::process::id()));
    let _ = std::fs::remove_file(&temp);
    let written = (|| {
        let mut file = std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(&temp)?;
        file.write_all(text.as_bytes())?;
        file.sync_all()?;
        std::fs::rename(&temp, path)?;
        std::fs::File::open(&dir)?.sync_all()
    })();
    if written.is_err() {
        let _ = std::fs::remove_file(&temp);
    }
    written
}

/// Loads the forms folder again now (not at the watcher's next look), so the next lead and
/// the next `/forms/<file>` see what was just written.
async fn reload(state: &AppState, dir: &Path) -> Result<(), AppError> {
    let dir = dir.to_path_buf();
    let forms = state.forms.clone();
    let reloaded = tokio::task::spawn_blocking(move || {
        let fresh = forms
            .read()
            .map_err(|_| "forms lock poisoned".to_owned())?
            .reload(&dir)?;
        crate::log_problems(&fresh);
        let mut guard = forms
            .write()
            .map_err(|_| "forms lock poisoned".to_owned())?;
        *guard = fresh;
        Ok::<(), String>(())
    })
    .await
    .map_err(|e| AppError::Internal(format!("reload task: {e}")))?;
    reloaded.map_err(AppError::Internal)
}

/// Records each form file in use that is no recorded version yet: a file the history has not
/// seen (a first start with history), or one edited by hand since its last version. Then each
/// file knows its version, which leads scored with it carry. Cheap when nothing changed.
///
/// # Errors
/// [`StoreError`] when the database fails.
pub async fn record_files(state: &AppState) -> Result<usize, StoreError> {
    let _one_at_a_time = state.publishing.lock().await;
    let files = match state.forms.read() {
        Ok(forms) => forms.files(),
        Err(_) => return Err(StoreError::Poisoned),
    };
    let mut recorded = 0;
    for (name, id, text, version) in files {
        if version.is_some() {
            continue;
        }
        let latest = state.store.form_version(&id, None).await?;
        let number = match latest {
            Some(latest) if *latest.config == *text => latest.version,
            latest => {
                let note = if latest.is_some() {
                    format!("{name} was changed in the forms folder")
                } else {
                    format!("{name} found in the forms folder")
                };
                let version = FormVersion {
                    form_id: id.clone(),
                    version: 0,
                    config: text.to_string(),
                    published_at: time::now_rfc3339(),
                    by: BY_FILE.to_owned(),
                    note: Some(note),
                };
                match state.store.add_form_version(&version, None).await? {
                    Published::Recorded(n) => {
                        recorded += 1;
                        eprintln!("bantam-collector: recorded {name} as version {n} of form {id}");
                        n
                    }
                    Published::Stale(_) => continue,
                }
            }
        };
        if let Ok(mut forms) = state.forms.write() {
            forms.set_version(&name, &text, number);
        }
    }
    Ok(recorded)
}

/// Runs [`record_files`] every `every`, so a hand edit the watcher loaded becomes a version.
pub fn watch_files(state: AppState, every: std::time::Duration) {
    tokio::spawn(async move {
        let mut interval = tokio::time::interval(every);
        loop {
            interval.tick().await;
            if let Err(err) = record_files(&state).await {
                eprintln!("bantam-collector: cannot record the forms' versions: {err}");
            }
        }
    });
}

/// Why a publish was refused.
pub(crate) enum Refused {
    /// The engine refused the config: the path it names and its message.
    Invalid(String, String),
    /// Another version was published since the one the change is based on.
    Stale(String),
    /// Anything else: the usual error answer.
    Other(AppError),
}

impl From<AppError> for Refused {
    fn from(err: AppError) -> Refused {
        Refused::Other(err)
    }
}

impl From<StoreError> for Refused {
    fn from(err: StoreError) -> Refused {
        Refused::Other(err.into())
    }
}

impl IntoResponse for Refused {
    fn into_response(self) -> Response {
        match self {
            Refused::Invalid(path, error) => (
                StatusCode::UNPROCESSABLE_ENTITY,
                Json(json!({ "error": error, "path": path, "field": path })),
            )
                .into_response(),
            Refused::Stale(error) => (
                StatusCode::CONFLICT,
                Json(json!({ "error": error, "field": "basedOn" })),
            )
                .into_response(),
            Refused::Other(err) => err.into_response(),
        }
    }
}

/// A change to publish.
pub(crate) struct Change {
    pub(crate) config: Value,
    /// The file's text when it is not the config pretty-printed (a proposal that keeps the
    /// config's own order); it must hold `config`.
    pub(crate) text: Option<String>,
    pub(crate) note: Option<String>,
    /// The version the change was made from (0 for a new form); `None`: whatever is latest.
    pub(crate) based_on: Option<i64>,
    pub(crate) by: String,
}

/// Publishes `change` as the next version of form `id`: checks it with the engine, records
/// it, writes the form's file atomically and loads it, so the next lead is scored by it and
/// `/forms/<file>` serves it. Returns the version number.
pub(crate) async fn publish(state: &AppState, id: &str, change: Change) -> Result<i64, Refused> {
    if change.config.get("formId").and_then(Value::as_str) != Some(id) {
        return Err(Refused::Invalid(
            "formId".into(),
            format!("formId: must be \"{id}\", the form this version belongs to"),
        ));
    }
    check(&change.config).map_err(|(path, message)| Refused::Invalid(path, message))?;
    let _one_at_a_time = state.publishing.lock().await;
    let Some(dir) = state.forms_dir.clone() else {
        return Err(AppError::bad(
            StatusCode::CONFLICT,
            "this collector does not know its forms folder (--forms), so it cannot write a form",
            None,
        )
        .into());
    };
    let file = forms_read(state)?
        .file_of(id)
        .unwrap_or_else(|| format!("{id}.json"));
    let text = change
        .text
        .filter(|t| serde_json::from_str::<Value>(t).ok().as_ref() == Some(&change.config))
        .unwrap_or_else(|| config_text(&change.config));
    let version = FormVersion {
        form_id: id.to_owned(),
        version: 0,
        config: text.clone(),
        published_at: time::now_rfc3339(),
        by: change.by,
        note: change.note.filter(|n| !n.trim().is_empty()),
    };
    let number = match state
        .store
        .add_form_version(&version, change.based_on)
        .await?
    {
        Published::Recorded(n) => n,
        Published::Stale(latest) => {
            let based_on = change.based_on.unwrap_or_default();
            let message = match latest {
                Some(v) => format!(
                    "version {} of form {id} was published by {} at {} after version {based_on} that this change started from; nothing was written: open the form again and redo the change on version {}",
                    v.version, v.by, v.published_at, v.version
                ),
                None if based_on > 0 => {
                    format!("form {id} has no version {based_on}; nothing was written")
                }
                None => format!("form {id} has no version yet; nothing was written"),
            };
            return Err(Refused::Stale(message));
        }
    };
    let path = dir.join(&file);
    let write_text = text.clone();
    let written = tokio::task::spawn_blocking(move || write_atomically(&path, &write_text))
        .await
        .map_err(|e| AppError::Internal(format!("write task: {e}")))?;
    if let Err(err) = written {
        // History never holds a version the folder does not.
        state.store.drop_form_version(id, number).await?;
        return Err(AppError::Internal(format!("cannot write {file}: {err}")).into());
    }
    eprintln!(
        "bantam-collector: published version {number} of form {id} to {} (by {})",
        dir.join(&file).display(),
        version.by
    );
    reload(state, &dir).await?;
    if let Ok(mut forms) = state.forms.write() {
        forms.set_version(&file, &text, number);
    }
    let note = version.note.as_deref().unwrap_or("");
    let action = if note.starts_with("rollback to ") {
        "rollback"
    } else {
        "publish"
    };
    let detail = if note.is_empty() {
        format!("version {number}")
    } else {
        format!("version {number}: {note}")
    };
    crate::users::audit(state, &version.by, action, id, &detail).await;
    Ok(number)
}

fn forms_read(state: &AppState) -> Result<std::sync::RwLockReadGuard<'_, crate::Forms>, AppError> {
    state
        .forms
        .read()
        .map_err(|_| AppError::Internal("forms lock poisoned".into()))
}

/// Where a new form's config comes from.
pub(crate) enum Source {
    /// The BANT preset.
    Preset,
    /// A copy of the form with this id, as it is in use.
    Copy(String),
}

impl Source {
    /// `preset` or `copy:<form id>`.
    pub(crate) fn parse(from: &str) -> Result<Source, AppError> {
        match from.split_once(':') {
            None if from == "preset" => Ok(Source::Preset),
            Some(("copy", id)) if !id.is_empty() => Ok(Source::Copy(id.to_owned())),
            _ => Err(AppError::bad(
                StatusCode::UNPROCESSABLE_ENTITY,
                format!("from must be \"preset\" or \"copy:<form id>\", not \"{from}\""),
                Some("from"),
            )),
        }
    }
}

/// Creates form `id` from `source` as its version 1.
pub(crate) async fn create(
    state: &AppState,
    id: &str,
    source: Source,
    by: String,
) -> Result<i64, Refused> {
    if !valid_new_id(id) {
        return Err(AppError::bad(
            StatusCode::UNPROCESSABLE_ENTITY,
            format!("id \"{id}\": a form id is 1 to 64 lowercase letters, digits or '-'"),
            Some("id"),
        )
        .into());
    }
    let (exists, copied) = {
        let forms = forms_read(state)?;
        let copied = match &source {
            Source::Preset => None,
            Source::Copy(from) => Some(
                forms
                    .file_of(from)
                    .and_then(|file| forms.config_text(&file))
                    .ok_or_else(|| {
                        AppError::bad(
                            StatusCode::UNPROCESSABLE_ENTITY,
                            format!("there is no form \"{from}\" to copy"),
                            Some("from"),
                        )
                    })?,
            ),
        };
        let on_disk = state
            .forms_dir
            .as_ref()
            .is_some_and(|dir| dir.join(format!("{id}.json")).exists());
        (forms.get(id).is_some() || on_disk, copied)
    };
    let conflict = || {
        AppError::bad(
            StatusCode::CONFLICT,
            format!("a form \"{id}\" exists already"),
            Some("id"),
        )
    };
    if exists {
        return Err(conflict().into());
    }
    let config = match copied {
        None => json!({ "formId": id, "preset": "bant" }),
        Some(text) => {
            let mut config: Value = serde_json::from_str(&text)
                .map_err(|e| AppError::Internal(format!("a loaded config is not JSON: {e}")))?;
            config["formId"] = Value::String(id.to_owned());
            config
        }
    };
    let note = match &source {
        Source::Preset => "created from the BANT preset".to_owned(),
        Source::Copy(from) => format!("created as a copy of {from}"),
    };
    let change = Change {
        config,
        text: None,
        note: Some(note),
        based_on: Some(0),
        by,
    };
    match publish(state, id, change).await {
        Err(Refused::Stale(_)) => Err(conflict().into()),
        other => other,
    }
}

/// Publishes version `version` of form `id` again, as a new version.
pub(crate) async fn rollback(
    state: &AppState,
    id: &str,
    version: i64,
    by: String,
) -> Result<i64, Refused> {
    let old = state
        .store
        .form_version(id, Some(version))
        .await?
        .ok_or_else(|| {
            AppError::bad(
                StatusCode::NOT_FOUND,
                format!("form {id} has no version {version}"),
                Some("version"),
            )
        })?;
    let config: Value = serde_json::from_str(&old.config).map_err(|e| {
        Refused::Invalid(String::new(), format!("version {version} is not JSON: {e}"))
    })?;
    let change = Change {
        config,
        text: Some(old.config),
        note: Some(format!("rollback to {version}")),
        based_on: None,
        by,
    };
    publish(state, id, change).await
}

/// One version as the API lists it, with its changes against the version before it.
pub(crate) fn version_json(version: &FormVersion, previous: Option<&FormVersion>) -> Value {
    json!({
        "version": version.version,
        "publishedAt": version.published_at,
        "by": version.by,
        "note": version.note,
        "diff": changes(version, previous),
    })
}

/// The readable changes of `version` against `previous`.
pub(crate) fn changes(version: &FormVersion, previous: Option<&FormVersion>) -> Vec<String> {
    let Some(previous) = previous else {
        return vec!["first version".to_owned()];
    };
    let parse = |text: &str| serde_json::from_str::<Value>(text).unwrap_or(Value::Null);
    let lines = diff::diff(&parse(&previous.config), &parse(&version.config));
    if lines.is_empty() {
        vec![format!("the same config as version {}", previous.version)]
    } else {
        lines
    }
}

/// A form in use: its file, its config and the engine's warnings.
pub(crate) struct Current {
    pub(crate) file: String,
    pub(crate) text: String,
    pub(crate) version: Option<i64>,
    pub(crate) form: std::sync::Arc<bantam_engine::Form>,
}

/// Form `id` as it is in use, or 404.
pub(crate) fn current(state: &AppState, id: &str) -> Result<Current, AppError> {
    let forms = forms_read(state)?;
    forms
        .get(id)
        .zip(forms.file_of(id))
        .and_then(|(form, file)| {
            let text = forms.config_text(&file)?.to_string();
            Some(Current {
                version: forms.version_of(id),
                file,
                text,
                form,
            })
        })
        .ok_or_else(|| {
            AppError::bad(
                StatusCode::NOT_FOUND,
                format!("no form \"{id}\" is loaded (bantam-collector check shows why)"),
                Some("id"),
            )
        })
}

/// `YYYY-MM-DD` of `days` days before today (UTC).
pub(crate) fn day_before(days: i64) -> String {
    let now = time::parse_rfc3339(&time::now_rfc3339()).unwrap_or_default();
    time::format_rfc3339(now - days * 86_400_000)[..10].to_owned()
}

/// Leads of form `id` in the last 7 and 30 days, and the share of the last 30 with its best
/// grade (`None` without leads).
pub(crate) async fn activity(
    state: &AppState,
    id: &str,
) -> Result<(u64, u64, Option<f64>), StoreError> {
    let (week, _) = state.store.form_counts(id, &day_before(6)).await?;
    let (month, best) = state.store.form_counts(id, &day_before(29)).await?;
    let share = (month > 0).then(|| best as f64 / month as f64);
    Ok((week, month, share))
}

/// What re-scoring a form's stored leads with a draft would change.
#[derive(Debug, Default)]
pub(crate) struct Impact {
    pub(crate) leads: usize,
    pub(crate) changed: usize,
    /// Leads whose answers the draft cannot read (a question or option removed).
    pub(crate) unreadable: usize,
    pub(crate) transitions: Vec<(String, String, usize)>,
    pub(crate) sample: Vec<Value>,
}

/// Adds the leads of `page` to `impact`, re-scored with `draft`, up to [`IMPACT_LIMIT`].
fn tally(draft: &bantam_engine::Form, page: &[Row], impact: &mut Impact) {
    for row in page {
        if impact.leads == IMPACT_LIMIT as usize {
            return;
        }
        impact.leads += 1;
        let Ok(lead) = serde_json::from_str::<LeadDocument>(&row.document) else {
            impact.unreadable += 1;
            continue;
        };
        let Ok(answers) = Answers::from_lead(draft, &lead) else {
            impact.unreadable += 1;
            continue;
        };
        let after = lead.rescore(draft, &answers);
        if after.grade == row.grade {
            continue;
        }
        impact.changed += 1;
        match impact
            .transitions
            .iter_mut()
            .find(|(f, t, _)| *f == row.grade && *t == after.grade)
        {
            Some(found) => found.2 += 1,
            None => impact
                .transitions
                .push((row.grade.clone(), after.grade.clone(), 1)),
        }
        if impact.sample.len() < 20 {
            impact.sample.push(json!({
                "id": row.id,
                "from": row.grade,
                "to": after.grade,
                "scoreBefore": row.total,
                "scoreAfter": after.total,
            }));
        }
    }
}

/// Re-scores the newest [`IMPACT_LIMIT`] leads of form `id` with `draft`, as the collector
/// re-scores a posted lead: a page of 500 at a time, each scored off the async threads.
pub(crate) async fn impact(
    state: &AppState,
    id: &str,
    draft: bantam_engine::Form,
) -> Result<Impact, StoreError> {
    let filter = Filter {
        form: Some(id.to_owned()),
        ..Filter::default()
    };
    let draft = std::sync::Arc::new(draft);
    let mut impact = Impact::default();
    let page_size = 500;
    let mut page: Vec<Row> = state.store.rows(&filter, page_size, 0).await?;
    loop {
        let form = draft.clone();
        let (back, tallied) = tokio::task::spawn_blocking(move || {
            tally(&form, &page, &mut impact);
            (page, impact)
        })
        .await
        .map_err(|e| StoreError::Task(e.to_string()))?;
        impact = tallied;
        let full = back.len() == page_size as usize;
        let (Some(last), true) = (back.last(), full && impact.leads < IMPACT_LIMIT as usize) else {
            break;
        };
        page = state
            .store
            .rows_after(&filter, &last.cursor(), page_size)
            .await?;
    }
    impact.transitions.sort_by_key(|t| std::cmp::Reverse(t.2));
    Ok(impact)
}

// The JSON API (`collector/FORMS-API.md`).

fn json_body<T: serde::de::DeserializeOwned>(
    body: Result<Json<T>, axum::extract::rejection::JsonRejection>,
) -> Result<T, AppError> {
    body.map(|Json(b)| b)
        .map_err(|e| AppError::bad(e.status(), e.body_text(), None))
}

/// `GET /v1/forms`.
pub(crate) async fn list_api(
    State(state): State<AppState>,
    headers: HeaderMap,
) -> Result<Response, AppError> {
    require_admin(&state.settings, &headers, false)?;
    let files = forms_read(&state)?.files();
    let mut out = Vec::new();
    for (file, id, _, version) in files {
        let published = match version {
            Some(v) => state.store.form_version(&id, Some(v)).await?,
            None => None,
        };
        let (week, month, share) = activity(&state, &id).await?;
        out.push(json!({
            "id": id,
            "file": file,
            "version": version,
            "publishedAt": published.map(|p| p.published_at),
            "leads7": week,
            "leads30": month,
            "hotShare": share,
        }));
    }
    Ok(Json(out).into_response())
}

fn form_json(current: &Current) -> Result<Value, AppError> {
    let config: Value = serde_json::from_str(&current.text)
        .map_err(|e| AppError::Internal(format!("a loaded config is not JSON: {e}")))?;
    let warnings: Vec<(String, String)> = delivery_warnings(&current.form)
        .into_iter()
        .map(|w| (w.path, w.message))
        .collect();
    Ok(json!({
        "id": current.form.id,
        "file": current.file,
        "version": current.version,
        "config": config,
        "warnings": pairs(&warnings),
    }))
}

/// `GET /v1/forms/{id}`.
pub(crate) async fn one_api(
    State(state): State<AppState>,
    headers: HeaderMap,
    UrlPath(id): UrlPath<String>,
) -> Result<Response, AppError> {
    require_admin(&state.settings, &headers, false)?;
    Ok(Json(form_json(&current(&state, &id)?)?).into_response())
}

/// `POST /v1/forms/check`.
pub(crate) async fn check_api(
    State(state): State<AppState>,
    headers: HeaderMap,
    body: Result<Json<Value>, axum::extract::rejection::JsonRejection>,
) -> Result<Response, AppError> {
    require_admin(&state.settings, &headers, false)?;
    not_from_another_site(&headers)?;
    let config = json_body(body)?;
    let checked = check_all(&config);
    Ok(Json(json!({
        "ok": checked.errors.is_empty(),
        "errors": pairs(&checked.errors),
        "warnings": pairs(&checked.warnings),
    }))
    .into_response())
}

/// Body of `POST /v1/forms`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct CreateBody {
    id: String,
    from: String,
}

/// `POST /v1/forms`.
pub(crate) async fn create_api(
    State(state): State<AppState>,
    headers: HeaderMap,
    body: Result<Json<CreateBody>, axum::extract::rejection::JsonRejection>,
) -> Result<Response, Refused> {
    require_admin(&state.settings, &headers, false)?;
    not_from_another_site(&headers)?;
    let body = json_body(body)?;
    let source = Source::parse(&body.from)?;
    create(&state, &body.id, source, crate::admin_name(&headers)).await?;
    let current = current(&state, &body.id)?;
    Ok((StatusCode::CREATED, Json(form_json(&current)?)).into_response())
}

/// Body of `POST /v1/forms/{id}/versions`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub(crate) struct PublishBody {
    config: Value,
    note: Option<String>,
    based_on: i64,
}

/// `POST /v1/forms/{id}/versions`.
pub(crate) async fn publish_api(
    State(state): State<AppState>,
    headers: HeaderMap,
    UrlPath(id): UrlPath<String>,
    body: Result<Json<PublishBody>, axum::extract::rejection::JsonRejection>,
) -> Result<Response, Refused> {
    require_admin(&state.settings, &headers, false)?;
    not_from_another_site(&headers)?;
    let body = json_body(body)?;
    if let Some(note) = &body.note {
        if note.chars().count() > 500 {
            return Err(AppError::bad(
                StatusCode::UNPROCESSABLE_ENTITY,
                "note is longer than 500 characters",
                Some("note"),
            )
            .into());
        }
    }
    let change = Change {
        config: body.config,
        text: None,
        note: body.note,
        based_on: Some(body.based_on),
        by: crate::admin_name(&headers),
    };
    let number = publish(&state, &id, change).await?;
    published_answer(&state, &id, number).await
}

async fn published_answer(state: &AppState, id: &str, number: i64) -> Result<Response, Refused> {
    let versions = state.store.form_versions(id).await?;
    let at = versions.iter().position(|v| v.version == number);
    let entry = at.map_or(Value::Null, |i| {
        version_json(&versions[i], versions.get(i + 1))
    });
    let mut answer = json!({ "id": id, "version": number });
    if let (Value::Object(answer), Value::Object(entry)) = (&mut answer, entry) {
        answer.extend(entry);
    }
    Ok((StatusCode::CREATED, Json(answer)).into_response())
}

/// `GET /v1/forms/{id}/versions`.
pub(crate) async fn versions_api(
    State(state): State<AppState>,
    headers: HeaderMap,
    UrlPath(id): UrlPath<String>,
) -> Result<Response, AppError> {
    require_admin(&state.settings, &headers, false)?;
    let versions = state.store.form_versions(&id).await?;
    let out: Vec<Value> = versions
        .iter()
        .enumerate()
        .map(|(i, v)| version_json(v, versions.get(i + 1)))
        .collect();
    Ok(Json(out).into_response())
}

/// `GET /v1/forms/{id}/versions/{n}`: that version's config.
pub(crate) async fn version_api(
    State(state): State<AppState>,
    headers: HeaderMap,
    UrlPath((id, n)): UrlPath<(String, i64)>,
) -> Result<Response, AppError> {
    require_admin(&state.settings, &headers, false)?;
    let version = state
        .store
        .form_version(&id, Some(n))
        .await?
        .ok_or_else(|| {
            AppError::bad(
                StatusCode::NOT_FOUND,
                format!("form {id} has no version {n}"),
                Some("version"),
            )
        })?;
    let config: Value = serde_json::from_str(&version.config)
        .map_err(|e| AppError::Internal(format!("a stored version is not JSON: {e}")))?;
    Ok(Json(config).into_response())
}

/// Body of `POST /v1/forms/{id}/rollback`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RollbackBody {
    version: i64,
}

/// `POST /v1/forms/{id}/rollback`.
pub(crate) async fn rollback_api(
    State(state): State<AppState>,
    headers: HeaderMap,
    UrlPath(id): UrlPath<String>,
    body: Result<Json<RollbackBody>, axum::extract::rejection::JsonRejection>,
) -> Result<Response, Refused> {
    require_admin(&state.settings, &headers, false)?;
    not_from_another_site(&headers)?;
    let body = json_body(body)?;
    let number = rollback(&state, &id, body.version, crate::admin_name(&headers)).await?;
    published_answer(&state, &id, number).await
}

/// `POST /v1/forms/{id}/impact`.
pub(crate) async fn impact_api(
    State(state): State<AppState>,
    headers: HeaderMap,
    UrlPath(id): UrlPath<String>,
    body: Result<Json<Value>, axum::extract::rejection::JsonRejection>,
) -> Result<Response, Refused> {
    require_admin(&state.settings, &headers, false)?;
    not_from_another_site(&headers)?;
    let draft = json_body(body)?;
    let form = check(&draft).map_err(|(path, message)| Refused::Invalid(path, message))?;
    current(&state, &id)?;
    let impact = impact(&state, &id, form).await?;
    let transitions: Vec<Value> = impact
        .transitions
        .iter()
        .map(|(from, to, count)| json!({ "from": from, "to": to, "count": count }))
        .collect();
    Ok(Json(json!({
        "leads": impact.leads,
        "changed": impact.changed,
        "unreadable": impact.unreadable,
        "limit": IMPACT_LIMIT,
        "transitions": transitions,
        "sample": impact.sample,
    }))
    .into_response())
}
