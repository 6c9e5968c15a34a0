//! The inbox's page of points learned from sales outcomes, per form: the fit's report, the
//! points that would move and why, and an Apply button that publishes the proposal as a new
//! version of the form (written to its file, used at once; the history rolls back).
//!
//! Admin only; plain HTML with every text escaped, under the inbox's CSP (no script).

use std::collections::HashMap;
use std::fmt::Write as _;
use std::time::{Duration, Instant};

use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use serde::Deserialize;

use super::{change_from_inbox, encode, escape, form_fields, page};
use crate::fit::{fit, Auc, Bucket, FitOptions, GradeGoal, Target};
use crate::history::{self, Change, Refused};
use crate::learn::{self, Proposal};
use crate::{require_admin, AppError, AppState};

/// What to fit for, as the page's query (and the Apply form's fields) give it.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct FitQuery {
    /// `won` (default) or `accepted`.
    outcome: Option<String>,
    /// `top` (default: the best grade holds `pct` % of the leads) or `converts` (it converts
    /// at least `pct` %).
    goal: Option<String>,
    /// The goal's percentage (default 20).
    pct: Option<String>,
    /// The version a proposal was just applied as, to say so.
    applied: Option<String>,
}

impl FitQuery {
    fn options(&self) -> Result<FitOptions, AppError> {
        let bad =
            |field: &str, error: String| AppError::bad(StatusCode::BAD_REQUEST, error, Some(field));
        let target = match self.outcome.as_deref().unwrap_or("won") {
            "won" => Target::Won,
            "accepted" => Target::Accepted,
            other => {
                return Err(bad(
                    "outcome",
                    format!("outcome must be won or accepted, not \"{other}\""),
                ))
            }
        };
        let pct = self.pct.as_deref().map_or("20", str::trim);
        let share = pct
            .parse::<f64>()
            .ok()
            .filter(|p| *p > 0.0 && *p <= 100.0)
            .ok_or_else(|| {
                bad(
                    "pct",
                    format!("pct must be a percentage above 0 and at most 100, not \"{pct}\""),
                )
            })?
            / 100.0;
        let goal = match self.goal.as_deref().unwrap_or("top") {
            "top" => GradeGoal::Top(share),
            "converts" => GradeGoal::Converts(share),
            other => {
                return Err(bad(
                    "goal",
                    format!("goal must be top or converts, not \"{other}\""),
                ))
            }
        };
        Ok(FitOptions {
            target,
            goal,
            ..FitOptions::default()
        })
    }

    /// The query string of these options (without `applied`).
    fn query_string(&self) -> String {
        format!(
            "outcome={}&goal={}&pct={}",
            encode(self.outcome.as_deref().unwrap_or("won")),
            encode(self.goal.as_deref().unwrap_or("top")),
            encode(self.pct.as_deref().unwrap_or("20").trim())
        )
    }
}

/// A form's proposal, or why there is none (too few outcomes, one class only…).
#[derive(Clone)]
struct Made {
    /// The config file the proposal was made from.
    file: String,
    result: Result<Proposal, String>,
    outcomes: usize,
    read: Duration,
    fitted: Duration,
    /// When it was made, if it comes from [`FitCache`] (else it was made for this request).
    cached_since: Option<String>,
}

/// The last fit of each form, kept while nothing it was made from changes: the form's config,
/// the options, and the outcomes ([`crate::store::Store::outcome_stamp`]: how many, and the
/// latest). A fit of 100,000 leads takes seconds; showing its page again, or applying it, need
/// not. One entry per form, so the cache holds no more than the forms.
#[derive(Default)]
pub(crate) struct FitCache(std::sync::Mutex<HashMap<String, Cached>>);

struct Cached {
    /// The form's config text the fit was made for.
    text: String,
    options: FitOptions,
    stamp: (u64, Option<String>),
    made: Made,
    at: String,
}

impl FitCache {
    fn get(
        &self,
        id: &str,
        options: &FitOptions,
        stamp: &(u64, Option<String>),
        text: &str,
    ) -> Option<Made> {
        let cache = self.0.lock().ok()?;
        let hit = cache
            .get(id)
            .filter(|c| c.options == *options && c.stamp == *stamp && c.text == text)?;
        Some(Made {
            cached_since: Some(hit.at.clone()),
            ..hit.made.clone()
        })
    }

    fn put(
        &self,
        id: &str,
        text: String,
        options: FitOptions,
        stamp: (u64, Option<String>),
        made: &Made,
    ) {
        if let Ok(mut cache) = self.0.lock() {
            let at = crate::time::now_rfc3339();
            cache.insert(
                id.to_owned(),
                Cached {
                    text,
                    options,
                    stamp,
                    made: made.clone(),
                    at,
                },
            );
        }
    }
}

/// Reads the form's outcomes, fits and proposes (off the async threads).
async fn make(state: &AppState, id: &str, options: FitOptions) -> Result<Made, AppError> {
    let found = {
        let forms = state
            .forms
            .read()
            .map_err(|_| AppError::Internal("forms lock poisoned".into()))?;
        forms
            .get(id)
            .zip(forms.file_of(id))
            .and_then(|(form, file)| {
                let text = forms.config_text(&file)?;
                Some((form, file, text.to_string()))
            })
    };
    let (form, file, text) = found.ok_or_else(|| {
        AppError::bad(
            StatusCode::NOT_FOUND,
            format!("no form \"{id}\" is loaded (bantam-collector check shows why)"),
            Some("id"),
        )
    })?;
    let stamp = state.store.outcome_stamp(id).await?;
    if let Some(made) = state.fits.get(id, &options, &stamp, &text) {
        return Ok(made);
    }
    let started = Instant::now();
    let outcomes = learn::read_outcomes(&state.store, id).await?;
    let read = started.elapsed();
    let count = outcomes.len();
    let source = text.clone();
    let (result, fitted) = tokio::task::spawn_blocking(move || {
        let started = Instant::now();
        let report = fit(&form, &outcomes, &options);
        let fitted = started.elapsed();
        let result = match report {
            Ok(report) => learn::propose(&source, &form, report).map_err(|e| Err(e.to_string())),
            Err(err) => Err(Ok(err.to_string())),
        };
        (result, fitted)
    })
    .await
    .map_err(|e| AppError::Internal(format!("fit task: {e}")))?;
    let result = match result {
        Ok(proposal) => Ok(proposal),
        // The data cannot be fitted: a plain answer on the page.
        Err(Ok(why)) => Err(why),
        // The proposal does not validate: our bug.
        Err(Err(bug)) => return Err(AppError::Internal(bug)),
    };
    let made = Made {
        file,
        result,
        outcomes: count,
        read,
        fitted,
        cached_since: None,
    };
    state.fits.put(id, text, options, stamp, &made);
    Ok(made)
}

fn pct(v: f64) -> String {
    format!("{:.1}%", v * 100.0)
}

fn auc_cells(a: &Auc) -> String {
    format!("<td>{:.3}</td><td>{:.3} – {:.3}</td>", a.auc, a.low, a.high)
}

/// The options form: which outcome, and what the best grade should achieve.
fn options_form(id: &str, query: &FitQuery) -> String {
    let outcome = query.outcome.as_deref().unwrap_or("won");
    let goal = query.goal.as_deref().unwrap_or("top");
    let selected = |yes: bool| if yes { " selected" } else { "" };
    format!(
        "<form class=\"filters\" method=\"get\" action=\"/inbox/forms/{}/fit\"><label>Conversion<select name=\"outcome\"><option value=\"won\"{}>won (against lost)</option><option value=\"accepted\"{}>accepted by sales (against rejected)</option></select></label><label>Best grade<select name=\"goal\"><option value=\"top\"{}>holds the top … % of leads</option><option value=\"converts\"{}>converts at least … %</option></select></label><label>Percent<input name=\"pct\" type=\"number\" min=\"1\" max=\"100\" step=\"any\" value=\"{}\"></label><button>Fit again</button></form>",
        encode(id),
        selected(outcome == "won"),
        selected(outcome == "accepted"),
        selected(goal == "top"),
        selected(goal == "converts"),
        escape(query.pct.as_deref().unwrap_or("20").trim()),
    )
}

fn report_html(id: &str, made: &Made, proposal: &Proposal, query: &FitQuery) -> String {
    let r = &proposal.report;
    let mut body = String::new();
    let _ = write!(
        body,
        "<section aria-labelledby=\"summary\"><h2 id=\"summary\">What the fit learned from</h2><p>{} leads with a {} outcome, {} converted ({}); the points were learned from the older {} and are measured here on the newer {}, which the fit never saw. Read in {:.2} s, fitted in {:.2} s.</p>",
        r.outcomes,
        if r.target == Target::Won { "won/lost" } else { "accepted/rejected" },
        r.conversions,
        pct(r.conversions as f64 / r.outcomes.max(1) as f64),
        r.train,
        r.holdout,
        made.read.as_secs_f64(),
        made.fitted.as_secs_f64()
    );
    if let Some(since) = &made.cached_since {
        let _ = write!(
            body,
            "<p>This fit was made at {} UTC and is shown again: no outcome and nothing in the form has changed since.</p>",
            escape(&since.replace('T', " ").trim_end_matches('Z').chars().take(19).collect::<String>())
        );
    }
    for warning in &r.warnings {
        let _ = write!(
            body,
            "<p class=\"warn\" role=\"status\">Warning: {}.</p>",
            escape(warning)
        );
    }
    let _ = write!(
        body,
        "<table><caption>Ranking on the newer leads: ROC AUC, the chance that a lead that converted scores above one that did not (0.5 is a coin toss, 1 is perfect), with its 95% interval</caption><thead><tr><th>Points</th><th>AUC</th><th>95% interval</th></tr></thead><tbody><tr><th scope=\"row\">Current</th>{}</tr><tr><th scope=\"row\">Proposed</th>{}</tr><tr><th scope=\"row\">Difference</th><td>{:+.3}</td><td>{:+.3} – {:+.3}</td></tr></tbody></table>",
        auc_cells(&r.current),
        auc_cells(&r.proposed),
        r.difference.auc,
        r.difference.low,
        r.difference.high
    );
    let verdict = if r.difference.low > 0.0 {
        "The proposed points rank the newer leads better than the current ones, beyond chance."
    } else if r.difference.high < 0.0 {
        "The proposed points rank the newer leads worse than the current ones: do not apply them."
    } else {
        "The difference is within chance: these leads cannot tell the two apart."
    };
    let _ = write!(body, "<p>{verdict}</p></section>");

    let _ = write!(
        body,
        "<section aria-labelledby=\"moved\"><h2 id=\"moved\">Points that move ({})</h2>",
        proposal.moved.len()
    );
    if proposal.moved.is_empty() {
        body.push_str("<p>None: the current points are what the outcomes say.</p>");
    } else {
        body.push_str("<table><thead><tr><th>Answer or source</th><th>Now</th><th>Proposed</th><th>Why</th></tr></thead><tbody>");
        for m in &proposal.moved {
            let _ = write!(
                body,
                "<tr><th scope=\"row\">{}</th><td>{:+}</td><td>{:+}</td><td>{}</td></tr>",
                escape(&m.label),
                m.current,
                m.proposed,
                escape(&m.reason())
            );
        }
        body.push_str("</tbody></table>");
    }
    let _ = write!(
        body,
        "<p>Scoring: {} now; proposed: <strong>sum, offset {}</strong>: a lead's total is {} plus its points, 0–100, where 50 is even odds and 5 points are one step of log-odds.</p></section>",
        escape(&proposal.scoring_now),
        r.offset,
        r.offset
    );

    body.push_str("<section aria-labelledby=\"grades\"><h2 id=\"grades\">Grades</h2><table><thead><tr><th rowspan=\"2\">Grade</th><th colspan=\"2\">Minimum</th><th colspan=\"2\">Newer leads, current points</th><th colspan=\"2\">Newer leads, proposed points</th></tr><tr><th>Now</th><th>Proposed</th><th>Leads</th><th>Converted</th><th>Leads</th><th>Converted</th></tr></thead><tbody>");
    for (i, (name, now, new)) in proposal.grades.iter().enumerate() {
        let cells = |b: Option<&Bucket>| match b {
            Some(b) if b.leads > 0 => format!("<td>{}</td><td>{}</td>", b.leads, pct(b.rate())),
            _ => "<td>0</td><td>–</td>".to_owned(),
        };
        let _ = write!(
            body,
            "<tr><th scope=\"row\">{}</th><td>{now}</td><td>{new}</td>{}{}</tr>",
            escape(name),
            cells(r.grades_current.get(i)),
            cells(r.grades_proposed.get(i))
        );
    }
    body.push_str("</tbody></table></section>");

    body.push_str("<section aria-labelledby=\"reliability\"><h2 id=\"reliability\">Reliability</h2><p>The newer leads by proposed score band: how many converted, and how many the fitted model expected. Close figures mean a score can be read as a chance.</p><table><thead><tr><th>Score</th><th>Leads</th><th>Converted</th><th>Model</th></tr></thead><tbody>");
    for b in r.reliability.iter().filter(|b| b.leads > 0) {
        let _ = write!(
            body,
            "<tr><th scope=\"row\">{}</th><td>{}</td><td>{}</td><td>{}</td></tr>",
            escape(&b.name),
            b.leads,
            pct(b.rate()),
            pct(b.predicted)
        );
    }
    body.push_str("</tbody></table></section>");

    if !proposal.notes.is_empty() {
        body.push_str("<section><h2>Notes</h2><ul>");
        for note in &proposal.notes {
            let _ = write!(body, "<li>{}</li>", escape(note));
        }
        body.push_str("</ul></section>");
    }

    let _ = write!(
        body,
        "<section aria-labelledby=\"apply\"><h2 id=\"apply\">Apply</h2><p>Publishes the proposal as a new version of the form, written to <code>{file}</code> in the forms folder; the form's page keeps every earlier version, one click from a roll back. Leads from then on are scored by the new version; stored leads keep their scores.</p><form method=\"post\" action=\"/inbox/forms/{}/fit/apply\">{csrf}<input type=\"hidden\" name=\"fingerprint\" value=\"{}\"><input type=\"hidden\" name=\"outcome\" value=\"{}\"><input type=\"hidden\" name=\"goal\" value=\"{}\"><input type=\"hidden\" name=\"pct\" value=\"{}\"><button>Apply to {file}</button></form><details><summary>The proposed config</summary><pre>{}</pre></details></section>",
        encode(id),
        escape(&proposal.fingerprint),
        escape(query.outcome.as_deref().unwrap_or("won")),
        escape(query.goal.as_deref().unwrap_or("top")),
        escape(query.pct.as_deref().unwrap_or("20").trim()),
        escape(&proposal.config),
        file = escape(&made.file),
        csrf = crate::users::csrf_field(),
    );
    body
}

/// `GET /inbox/forms/{id}/fit`: the fit of a form's outcomes and its proposal.
pub(crate) async fn show(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(id): Path<String>,
    query: Result<Query<FitQuery>, axum::extract::rejection::QueryRejection>,
) -> Result<Response, AppError> {
    require_admin(&state.settings, &headers, true)?;
    let query = crate::read_query(query)?;
    let options = query.options()?;
    let made = make(&state, &id, options).await?;
    let mut body = format!(
        "<header><h1>Points from sales outcomes: {}</h1><p><a href=\"/inbox?form={}\">Its leads</a> · <a href=\"/inbox\">All leads</a></p></header><main>",
        escape(&id),
        encode(&id)
    );
    if let Some(backup) = &query.applied {
        let _ = write!(
            body,
            "<p class=\"applied\" role=\"status\"><strong>Applied</strong> as version {} of the form: {} now holds the proposal and new leads are scored by it. <a href=\"/inbox/forms/{}\">Its history</a> rolls back to any earlier version.</p>",
            escape(backup),
            escape(&made.file),
            encode(&id)
        );
    }
    body.push_str("<p>Bantam fits points to the answers and sources of the leads sales has marked, and measures them on the newest leads, which the fit does not learn from.</p>");
    body.push_str(&options_form(&id, &query));
    match &made.result {
        Ok(proposal) => body.push_str(&report_html(&id, &made, proposal, &query)),
        Err(why) => {
            let _ = write!(
                body,
                "<p class=\"warn\" role=\"status\">No proposal: {}. ({} leads of this form have a sales status; record outcomes in each lead's page, through <code>POST /v1/leads/{{id}}/status</code>, or import a CRM history with <code>bantam-collector import</code>.)</p>",
                escape(why),
                made.outcomes
            );
        }
    }
    body.push_str("</main>");
    Ok(page(&format!("Points from outcomes: {id}"), &body))
}

/// `POST /inbox/forms/{id}/fit/apply` from the page's button: fits again, and writes the
/// proposal if it is the one the page showed (its fingerprint), then reloads the forms.
pub(crate) async fn apply(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(id): Path<String>,
    body: String,
) -> Result<Response, AppError> {
    change_from_inbox(&state, &headers, crate::users::Role::Admin)?;
    let mut query = FitQuery::default();
    let mut fingerprint = None;
    for (key, value) in form_fields(&body) {
        match key.as_str() {
            "fingerprint" => fingerprint = Some(value),
            "outcome" => query.outcome = Some(value),
            "goal" => query.goal = Some(value),
            "pct" => query.pct = Some(value),
            other => {
                return Err(AppError::bad(
                    StatusCode::BAD_REQUEST,
                    format!("unknown field \"{other}\""),
                    Some(other),
                ))
            }
        }
    }
    let made = make(&state, &id, query.options()?).await?;
    let proposal = made.result.map_err(|why| {
        AppError::bad(
            StatusCode::CONFLICT,
            format!("there is no proposal to apply: {why}"),
            None,
        )
    })?;
    if fingerprint.as_deref() != Some(proposal.fingerprint.as_str()) {
        return Err(AppError::bad(
            StatusCode::CONFLICT,
            "the proposal changed since the page was shown (new outcomes, or the form changed): nothing was written; open the page again and review the new proposal",
            Some("fingerprint"),
        ));
    }
    let config: serde_json::Value = serde_json::from_str(&proposal.config)
        .map_err(|e| AppError::Internal(format!("the proposal is not JSON: {e}")))?;
    let based_on = state.forms.read().ok().and_then(|f| f.version_of(&id));
    let change = Change {
        config,
        text: Some(proposal.config),
        note: Some("fit proposal applied".to_owned()),
        // The version the proposal was made from; a form not yet recorded takes any.
        based_on,
        by: crate::admin_name(&headers),
    };
    let version = match history::publish(&state, &id, change).await {
        Ok(version) => version,
        Err(Refused::Other(err)) => return Err(err),
        Err(Refused::Invalid(_, why) | Refused::Stale(why)) => {
            return Err(AppError::bad(StatusCode::CONFLICT, why, None))
        }
    };
    Ok(Redirect::to(&format!(
        "/inbox/forms/{}/fit?{}&applied={version}",
        encode(&id),
        query.query_string(),
    ))
    .into_response())
}
