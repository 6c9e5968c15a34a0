//! The inbox's forms pages: every form with its recent leads, a new form from the preset or a
//! copy, and one form's page with its history (roll back to any version), the link to its
//! editor and the exact embed code for another site.
//!
//! Admin only; plain HTML with every text escaped. The one script, `/inbox/assets/copy.js`,
//! only adds Copy buttons: without it the embed code stays selectable text.

use std::fmt::Write as _;

use axum::extract::{Path, Query, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use serde::Deserialize;

use super::{change_from_inbox, encode, escape, form_field, form_fields, page, page_with};
use crate::history::{self, Refused, Source};
use crate::{require_admin, AppError, AppState};

/// The Copy buttons' script.
const COPY_JS: &str = include_str!("copy.js");

/// Styles of the forms pages, after the inbox's.
const STYLE: &str = "<style>header{flex-wrap:wrap;gap:.5rem 1.5rem}
.new{display:flex;flex-wrap:wrap;gap:.75rem;align-items:end;background:#fff;padding:1rem;border:1px solid #e5e7eb}
.new label{display:flex;flex-direction:column;font-size:.85rem;gap:.2rem}.hint{color:#4b5563;font-size:.8rem}
.code pre{white-space:pre-wrap;overflow-wrap:anywhere;margin:.25rem 0;border:1px solid #e5e7eb}
.code .row{display:flex;gap:.75rem;align-items:center}.ok{color:#166534;font-weight:600}.bad{color:#991b1b;font-weight:600}
.changes{margin:0;padding-left:1.1rem}.changes li{overflow-wrap:anywhere}.actions{display:flex;flex-wrap:wrap;gap:.5rem 1rem}
.actions a{font-weight:600}td form{margin:0}button{cursor:pointer}
@media (max-width:40rem){header,main,footer{padding:.75rem}table.cards thead{display:none}table.cards tr{display:block;border-bottom:2px solid #e5e7eb;padding:.4rem 0}table.cards td,table.cards th{display:block;border:0;padding:.2rem .6rem;background:none}table.cards td[data-label]::before{content:attr(data-label) \": \";font-weight:600}}</style>";

fn forms_page(title: &str, body: &str, script: bool) -> Response {
    let body = format!("{STYLE}{body}");
    if script {
        page_with(title, &body, Some("/inbox/assets/copy.js"))
    } else {
        page(title, &body)
    }
}

/// `GET /inbox/assets/{file}`: the forms pages' script.
pub(crate) async fn asset(Path(file): Path<String>) -> Response {
    match file.as_str() {
        "copy.js" => (
            [
                (header::CONTENT_TYPE, "text/javascript; charset=utf-8"),
                (header::CACHE_CONTROL, "no-cache"),
            ],
            COPY_JS,
        )
            .into_response(),
        _ => StatusCode::NOT_FOUND.into_response(),
    }
}

fn share(value: Option<f64>) -> String {
    value.map_or("–".to_owned(), |s| format!("{:.0}%", s * 100.0))
}

fn when(at: &str) -> String {
    escape(&at[..at.len().min(16)].replace('T', " "))
}

/// What the new-form form was filled with, to show it again with the error.
#[derive(Default)]
struct Filled {
    id: String,
    from: String,
    error: Option<String>,
}

async fn list_body(state: &AppState, filled: &Filled) -> Result<String, AppError> {
    let (files, problems) = {
        let forms = state
            .forms
            .read()
            .map_err(|_| AppError::Internal("forms lock poisoned".into()))?;
        (forms.files(), forms.problems().to_vec())
    };
    let mut body = String::from("<header><h1>Forms</h1><p><a href=\"/inbox\">All leads</a> · <a href=\"/inbox/quarantine\">Quarantine</a></p></header><main>");
    body.push_str("<section aria-labelledby=\"all\"><h2 id=\"all\">Every form</h2>");
    if files.is_empty() {
        body.push_str("<p>No form is loaded yet: create one below.</p>");
    } else {
        body.push_str("<table class=\"cards\"><thead><tr><th scope=\"col\">Form</th><th scope=\"col\">Version</th><th scope=\"col\">Published (UTC)</th><th scope=\"col\">Leads, 7 days</th><th scope=\"col\">Leads, 30 days</th><th scope=\"col\">Best grade share, 30 days</th></tr></thead><tbody>");
        for (file, id, _, version) in &files {
            let published = match version {
                Some(v) => state.store.form_version(id, Some(*v)).await?,
                None => None,
            };
            let (week, month, best) = history::activity(state, id).await?;
            let _ = write!(
                body,
                "<tr><th scope=\"row\"><a href=\"/inbox/forms/{}\">{}</a><div class=\"hint\">{}</div></th><td data-label=\"Version\">{}</td><td data-label=\"Published\">{}</td><td data-label=\"Leads, 7 days\">{week}</td><td data-label=\"Leads, 30 days\">{month}</td><td data-label=\"Best grade share\">{}</td></tr>",
                encode(id),
                escape(id),
                escape(file),
                version.map_or("–".to_owned(), |v| v.to_string()),
                published.map_or("–".to_owned(), |p| format!("{} by {}", when(&p.published_at), escape(&p.by))),
                share(best),
            );
        }
        body.push_str("</tbody></table>");
    }
    body.push_str("</section>");

    body.push_str("<section aria-labelledby=\"new\"><h2 id=\"new\">New form</h2>");
    if let Some(error) = &filled.error {
        let _ = write!(
            body,
            "<p class=\"bad\" role=\"alert\" id=\"new-error\">{}</p>",
            escape(error)
        );
    }
    let described = if filled.error.is_some() {
        "new-id-hint new-error"
    } else {
        "new-id-hint"
    };
    let _ = write!(
        body,
        "<form class=\"new\" method=\"post\" action=\"/inbox/forms\">{}<label>Form id<input name=\"id\" required maxlength=\"64\" pattern=\"[a-z0-9\\-]+\" value=\"{}\" aria-describedby=\"{described}\" autocomplete=\"off\"></label><label>Start from<select name=\"from\"><option value=\"preset\">The BANT preset</option>",
        crate::users::csrf_field(),
        escape(&filled.id)
    );
    for (_, id, _, _) in &files {
        let value = format!("copy:{id}");
        let selected = if filled.from == value {
            " selected"
        } else {
            ""
        };
        let _ = write!(
            body,
            "<option value=\"{}\"{selected}>A copy of {}</option>",
            escape(&value),
            escape(id)
        );
    }
    body.push_str("</select></label><button>Create form</button><p class=\"hint\" id=\"new-id-hint\">Lowercase letters, digits and -, up to 64. The form is written to the forms folder as its version 1; edit it next.</p></form></section>");

    body.push_str("<section aria-labelledby=\"problems\"><h2 id=\"problems\">Problems in the forms folder</h2>");
    if problems.is_empty() {
        body.push_str("<p class=\"ok\">None: every file is a valid form.</p>");
    } else {
        body.push_str("<ul>");
        for problem in &problems {
            let _ = write!(
                body,
                "<li><span class=\"{}\">{}</span> {}: {}</li>",
                if problem.error { "bad" } else { "warn" },
                if problem.error { "Error" } else { "Warning" },
                escape(&problem.file),
                escape(&problem.message)
            );
        }
        body.push_str("</ul>");
    }
    body.push_str("</section></main>");
    Ok(body)
}

/// `GET /inbox/forms`.
pub(crate) async fn list_page(
    State(state): State<AppState>,
    headers: HeaderMap,
) -> Result<Response, AppError> {
    require_admin(&state.settings, &headers, true)?;
    let body = list_body(&state, &Filled::default()).await?;
    Ok(forms_page("Forms", &body, false))
}

/// The message of a refusal, for a page.
fn refusal(refused: Refused) -> Result<(StatusCode, String), AppError> {
    match refused {
        Refused::Invalid(_, message) => Ok((StatusCode::UNPROCESSABLE_ENTITY, message)),
        Refused::Stale(message) => Ok((StatusCode::CONFLICT, message)),
        Refused::Other(AppError::BadRequest { status, error, .. }) => Ok((status, error)),
        Refused::Other(other) => Err(other),
    }
}

/// `POST /inbox/forms` from the New form form: creates it and opens its page, or shows the
/// list again with why not.
pub(crate) async fn create_form(
    State(state): State<AppState>,
    headers: HeaderMap,
    body: String,
) -> Result<Response, AppError> {
    change_from_inbox(&state, &headers, crate::users::Role::Admin)?;
    let fields = form_fields(&body);
    let (id, from) = (form_field(&fields, "id"), form_field(&fields, "from"));
    let result = match Source::parse(&from) {
        Ok(source) => history::create(&state, &id, source, crate::admin_name(&headers)).await,
        Err(err) => Err(err.into()),
    };
    match result {
        Ok(_) => {
            Ok(Redirect::to(&format!("/inbox/forms/{}?created=1", encode(&id))).into_response())
        }
        Err(refused) => {
            let (status, error) = refusal(refused)?;
            let filled = Filled {
                id,
                from,
                error: Some(error),
            };
            let body = list_body(&state, &filled).await?;
            Ok((status, forms_page("Forms", &body, false)).into_response())
        }
    }
}

/// The collector's address as the browser reached it: the forwarded scheme (a TLS proxy in
/// front) or `http`, and the `Host`.
fn public_origin(headers: &HeaderMap) -> String {
    let value = |name: &str| {
        headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .map(|v| v.split(',').next().unwrap_or_default().trim().to_owned())
            .filter(|v| !v.is_empty())
    };
    let scheme = value("x-forwarded-proto")
        .filter(|p| p == "https" || p == "http")
        .unwrap_or_else(|| "http".to_owned());
    let host = value("x-forwarded-host")
        .or_else(|| value("host"))
        .unwrap_or_else(|| "localhost".to_owned());
    format!("{scheme}://{host}")
}

/// The two embed snippets for `file` on another site: the script tag and the module.
pub(crate) fn embed_snippets(origin: &str, file: &str) -> (String, String) {
    let script = format!(
        "<div id=\"lead-form\"></div>\n<script src=\"{origin}/dist/embed.js\" data-target=\"#lead-form\"\n        data-config-url=\"{origin}/forms/{file}\" async></script>"
    );
    let module = format!(
        "<div id=\"lead-form\"></div>\n<script type=\"module\">\n  import {{ mount }} from \"{origin}/dist/bantam.js\";\n  await mount(\"#lead-form\", {{ configUrl: \"{origin}/forms/{file}\" }});\n</script>"
    );
    (script, module)
}

/// Query of a form's page: what was just done.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct Done {
    created: Option<String>,
    published: Option<i64>,
}

/// `GET /inbox/forms/{id}`.
pub(crate) async fn form_page(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(id): Path<String>,
    query: Result<Query<Done>, axum::extract::rejection::QueryRejection>,
) -> Result<Response, AppError> {
    require_admin(&state.settings, &headers, true)?;
    let done = crate::read_query(query)?;
    let current = history::current(&state, &id)?;
    let versions = state.store.form_versions(&id).await?;
    let (week, month, best) = history::activity(&state, &id).await?;
    let mut body = format!(
        "<header><h1>Form {}</h1><p><a href=\"/inbox/forms\">All forms</a> · <a href=\"/inbox?form={}\">Its leads</a></p></header><main>",
        escape(&id),
        encode(&id)
    );
    if done.created.is_some() {
        body.push_str("<p class=\"ok\" role=\"status\">Created. This is its version 1, written to the forms folder and live now.</p>");
    }
    if let Some(n) = done.published {
        let _ = write!(
            body,
            "<p class=\"ok\" role=\"status\">Published version {n}: it is live now, and new leads are scored with it.</p>"
        );
    }
    let _ = write!(
        body,
        "<nav class=\"actions\" aria-label=\"This form\"><a href=\"/inbox/forms/{0}/edit\">Edit</a><a href=\"/inbox/forms/{0}/fit\">Points from sales outcomes</a></nav>",
        encode(&id)
    );
    let live = versions.iter().find(|v| Some(v.version) == current.version);
    let _ = write!(
        body,
        "<section aria-labelledby=\"now\"><h2 id=\"now\">In use now</h2><p>{} in the forms folder, {}. {} questions; grades {}. Leads: {week} in 7 days, {month} in 30 days{}.</p>",
        escape(&current.file),
        match (current.version, live) {
            (Some(n), Some(v)) => format!(
                "<strong>version {n}</strong>, published {} UTC by {}",
                when(&v.published_at),
                escape(&v.by)
            ),
            _ => "not yet a recorded version".to_owned(),
        },
        current.form.questions.len(),
        escape(
            &current
                .form
                .grades
                .iter()
                .map(|g| format!("{} from {}", g.name, g.min))
                .collect::<Vec<_>>()
                .join(", ")
        ),
        match (best, current.form.grades.first()) {
            (Some(best), Some(grade)) => format!(
                ", {} of them {}",
                share(Some(best)),
                escape(&grade.name)
            ),
            _ => String::new(),
        },
    );
    let _ = write!(
        body,
        "<details><summary>The config</summary><pre>{}</pre></details></section>",
        escape(&current.text)
    );

    let origin = public_origin(&headers);
    let (script, module) = embed_snippets(&origin, &current.file);
    let _ = write!(
        body,
        "<section aria-labelledby=\"embed\" class=\"code\"><h2 id=\"embed\">Embed code</h2><p>Paste this where the form should appear on another site, and allow that site's origin here (<code>--allow-origin https://www.example.com</code>); leads from other origins wait in the quarantine. The page always loads the version in use.</p>"
    );
    for (key, title, text) in [
        ("embed-script", "Script tag (any site builder)", &script),
        (
            "embed-module",
            "ES module (for developers: events, destroy())",
            &module,
        ),
    ] {
        let _ = write!(
            body,
            "<h3 id=\"{key}-title\">{title}</h3><pre><code id=\"{key}\">{}</code></pre><div class=\"row\"><button type=\"button\" data-copy=\"{key}\" aria-describedby=\"{key}-title\" hidden>Copy</button><span id=\"{key}-status\" role=\"status\"></span></div>",
            escape(text)
        );
    }
    body.push_str("</section>");

    body.push_str("<section aria-labelledby=\"history\"><h2 id=\"history\">History</h2>");
    if versions.is_empty() {
        body.push_str("<p>No version is recorded yet.</p>");
    } else {
        body.push_str("<table class=\"history cards\"><thead><tr><th scope=\"col\">Version</th><th scope=\"col\">Published (UTC)</th><th scope=\"col\">By</th><th scope=\"col\">Note</th><th scope=\"col\">Changes</th><th scope=\"col\"><span class=\"hint\">Action</span></th></tr></thead><tbody>");
        for (i, version) in versions.iter().enumerate() {
            let changes = history::changes(version, versions.get(i + 1));
            let items: String = changes
                .iter()
                .map(|c| format!("<li>{}</li>", escape(c)))
                .collect();
            let action = if Some(version.version) == current.version {
                "<strong>In use</strong>".to_owned()
            } else {
                format!(
                    "<form method=\"post\" action=\"/inbox/forms/{}/rollback\">{}<input type=\"hidden\" name=\"version\" value=\"{}\"><button>Roll back to version {}</button></form>",
                    encode(&id),
                    crate::users::csrf_field(),
                    version.version,
                    version.version
                )
            };
            let _ = write!(
                body,
                "<tr id=\"v{n}\"><td data-label=\"Version\">{n}</td><td data-label=\"Published\">{}</td><td data-label=\"By\">{}</td><td data-label=\"Note\">{}</td><td data-label=\"Changes\"><ul class=\"changes\">{items}</ul></td><td>{action}</td></tr>",
                when(&version.published_at),
                escape(&version.by),
                escape(version.note.as_deref().unwrap_or("")),
                n = version.version,
            );
        }
        body.push_str("</tbody></table>");
    }
    body.push_str("</section></main>");
    Ok(forms_page(&format!("Form {id}"), &body, true))
}

/// `POST /inbox/forms/{id}/rollback` from a history row's button.
pub(crate) async fn rollback_form(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(id): Path<String>,
    body: String,
) -> Result<Response, AppError> {
    change_from_inbox(&state, &headers, crate::users::Role::Admin)?;
    let version = form_field(&form_fields(&body), "version");
    let version: i64 = version.parse().map_err(|_| {
        AppError::bad(
            StatusCode::UNPROCESSABLE_ENTITY,
            format!("version must be a number, not \"{version}\""),
            Some("version"),
        )
    })?;
    match history::rollback(&state, &id, version, crate::admin_name(&headers)).await {
        Ok(n) => Ok(
            Redirect::to(&format!("/inbox/forms/{}?published={n}", encode(&id))).into_response(),
        ),
        Err(refused) => {
            let (status, error) = refusal(refused)?;
            let body = format!(
                "<header><h1>Not rolled back</h1></header><main><p class=\"bad\" role=\"alert\">{}</p><p><a href=\"/inbox/forms/{}\">Back to the form</a></p></main>",
                escape(&error),
                encode(&id)
            );
            Ok((status, forms_page("Not rolled back", &body, false)).into_response())
        }
    }
}
