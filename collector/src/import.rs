//! Historical leads from a CRM's CSV export, with their sales outcomes: a team's history to
//! learn points from before the widget has brought any (`bantam-collector import`).
//!
//! Each row becomes the lead document the widget would have sent for those answers (built by
//! the engine, then checked and scored like a posted lead by [`crate::ingest`]) and is stored
//! with its date as its arrival and its outcome as its sales status. Every row is read and
//! checked before anything is stored; a file with a bad row stores nothing and names each bad
//! row (line, column, value, why). Reading is RFC 4180 by the `csv` crate (2 crates, both
//! already in the tree but `csv-core`); commas, or semicolons when the header has no comma.

use std::fmt;

use bantam_engine::{
    build_lead, Answers, Attribution, BrowserInfo, Form, Input, Kind, LeadInput, PageInfo, Touch,
};

use crate::store::{ImportCount, Imported, Store, StoreError, STATUSES};
use crate::{AppError, Checked, Forms};

/// What a column holds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Column {
    /// The answer to this question (an option's id or label, several joined by `;`).
    Question(String),
    /// The sales outcome: `won`, `lost`, `accepted`, `rejected` (also `Closed Won` and
    /// `Closed Lost`), or empty for none.
    Outcome,
    /// When the lead arrived: `2025-03-14`, `2025-03-14 09:30[:00]` (UTC) or RFC 3339 in UTC.
    Date,
    /// The lead's id in the CRM (letters, digits, `-`, `_`), so a second import of the same
    /// file stores nothing twice; without it, an id is made from the row's content.
    Id,
    /// `utm_source` of the lead's visit.
    UtmSource,
    /// `utm_medium`.
    UtmMedium,
    /// `utm_campaign`.
    UtmCampaign,
    /// The landing page's URL (its UTM parameters and ad click ids count too).
    PageUrl,
    /// The referrer's URL.
    Referrer,
}

/// The names of the columns that are not questions, as `--map` and headers give them.
const SPECIAL: [(&str, Column); 10] = [
    ("outcome", Column::Outcome),
    ("status", Column::Outcome),
    ("date", Column::Date),
    ("id", Column::Id),
    ("utm_source", Column::UtmSource),
    ("utm_medium", Column::UtmMedium),
    ("utm_campaign", Column::UtmCampaign),
    ("page_url", Column::PageUrl),
    ("landing_page", Column::PageUrl),
    ("referrer", Column::Referrer),
];

impl fmt::Display for Column {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Column::Question(id) => write!(f, "question {id}"),
            other => {
                let name = SPECIAL
                    .iter()
                    .find(|(_, c)| c == other)
                    .map_or("?", |(n, _)| *n);
                f.write_str(name)
            }
        }
    }
}

/// One bad row: where, what, and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RowError {
    /// The line of the file the row starts on (the header is line 1).
    pub line: u64,
    /// The column's header, empty when the row as a whole is at fault.
    pub column: String,
    /// The cell's text.
    pub value: String,
    /// Why it cannot be imported.
    pub message: String,
}

impl fmt::Display for RowError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.column.is_empty() {
            write!(f, "line {}: {}", self.line, self.message)
        } else {
            write!(
                f,
                "line {}, column \"{}\": \"{}\": {}",
                self.line, self.column, self.value, self.message
            )
        }
    }
}

/// Why nothing was imported.
#[derive(Debug, thiserror::Error)]
pub enum ImportError {
    /// The header or the `--map` flags do not say where the needed columns are.
    #[error("{0}")]
    Columns(String),
    /// Rows that cannot be imported; every one of them.
    #[error("{} row(s) cannot be imported", .0.len())]
    Rows(Vec<RowError>),
}

/// What a file holds, checked.
#[derive(Debug, Clone, PartialEq)]
pub struct CheckedFile {
    /// The leads, in file order.
    pub leads: Vec<Imported>,
    /// Each header and what it was read as (`None`: ignored).
    pub columns: Vec<(String, Option<Column>)>,
}

/// What an import did.
#[derive(Debug, Clone, PartialEq)]
pub struct Summary {
    /// Rows read.
    pub rows: usize,
    /// What was stored (all zero for a dry run).
    pub stored: ImportCount,
    /// Rows per outcome, in [`STATUSES`] order, then rows without one.
    pub outcomes: Vec<(String, usize)>,
    /// The earliest and latest date.
    pub dates: Option<(String, String)>,
    /// Each header and what it was read as.
    pub columns: Vec<(String, Option<Column>)>,
}

impl fmt::Display for Summary {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let read: Vec<String> = self
            .columns
            .iter()
            .filter_map(|(h, c)| c.as_ref().map(|c| format!("{h} → {c}")))
            .collect();
        let ignored: Vec<&str> = self
            .columns
            .iter()
            .filter(|(_, c)| c.is_none())
            .map(|(h, _)| h.as_str())
            .collect();
        writeln!(f, "Columns: {}.", read.join(", "))?;
        if !ignored.is_empty() {
            writeln!(f, "Ignored columns: {}.", ignored.join(", "))?;
        }
        let outcomes: Vec<String> = self
            .outcomes
            .iter()
            .map(|(o, n)| format!("{o} {n}"))
            .collect();
        write!(f, "{} rows; outcomes: {}", self.rows, outcomes.join(", "))?;
        if let Some((from, to)) = &self.dates {
            write!(f, "; dates {} to {}", &from[..10], &to[..10])?;
        }
        writeln!(f, ".")
    }
}

fn columns_error(message: String) -> ImportError {
    ImportError::Columns(message)
}

/// What each header holds: `maps` (`column=target`, by header, without regard to case) first,
/// then a header that names a target itself (`outcome`, `date`, …, a question's id, label or
/// short label, without regard to case); other columns are ignored.
fn plan(
    form: &Form,
    headers: &[String],
    maps: &[(String, String)],
) -> Result<Vec<Option<Column>>, ImportError> {
    let target = |name: &str| -> Option<Column> {
        let name = name.trim();
        SPECIAL
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, c)| c.clone())
            .or_else(|| {
                form.questions
                    .iter()
                    .find(|q| q.id.eq_ignore_ascii_case(name))
                    .map(|q| Column::Question(q.id.clone()))
            })
    };
    let mut plan: Vec<Option<Column>> = vec![None; headers.len()];
    for (column, to) in maps {
        let Some(at) = headers
            .iter()
            .position(|h| h.trim().eq_ignore_ascii_case(column.trim()))
        else {
            return Err(columns_error(format!(
                "--map {column}={to}: the file has no column \"{column}\" (its columns: {})",
                headers.join(", ")
            )));
        };
        let Some(target) = target(to) else {
            let ids: Vec<&str> = form.questions.iter().map(|q| q.id.as_str()).collect();
            return Err(columns_error(format!(
                "--map {column}={to}: \"{to}\" is not a question of form {} ({}) nor one of outcome, date, id, utm_source, utm_medium, utm_campaign, page_url, referrer",
                form.id,
                ids.join(", ")
            )));
        };
        plan[at] = Some(target);
    }
    for (at, header) in headers.iter().enumerate() {
        if plan[at].is_some()
            || maps
                .iter()
                .any(|(c, _)| c.trim().eq_ignore_ascii_case(header.trim()))
        {
            continue;
        }
        let header = header.trim();
        plan[at] = target(header).or_else(|| {
            form.questions
                .iter()
                .find(|q| {
                    q.label.trim().eq_ignore_ascii_case(header)
                        || q.short_label.trim().eq_ignore_ascii_case(header)
                })
                .map(|q| Column::Question(q.id.clone()))
        });
    }
    for (at, column) in plan.iter().enumerate() {
        let Some(column) = column else { continue };
        if let Some(other) = plan[..at].iter().position(|c| c.as_ref() == Some(column)) {
            return Err(columns_error(format!(
                "columns \"{}\" and \"{}\" are both read as {column}; map one elsewhere with --map",
                headers[other], headers[at]
            )));
        }
    }
    for needed in [Column::Date, Column::Outcome] {
        if !plan.contains(&Some(needed.clone())) {
            return Err(columns_error(format!(
                "no column is read as {needed}: name one \"{needed}\" or give --map COLUMN={needed} (the file's columns: {})",
                headers.join(", ")
            )));
        }
    }
    Ok(plan)
}

/// A date cell as the collector stores times (`2025-03-14T09:30:00.000Z`), or why not.
fn date(cell: &str) -> Result<String, String> {
    let cell = cell.trim();
    let wrong =
        || "not a date: write 2025-03-14, 2025-03-14 09:30 or 2025-03-14T09:30:00Z (times in UTC)";
    if !cell.is_ascii() {
        return Err(wrong().into());
    }
    let full = match cell.len() {
        10 => format!("{cell}T00:00:00Z"),
        16 => format!("{}T{}:00Z", &cell[..10], &cell[11..]),
        19 => format!("{}T{}Z", &cell[..10], &cell[11..]),
        _ if cell.ends_with('Z') && cell.len() > 19 => cell.to_owned(),
        _ => String::new(),
    };
    let separator = cell.as_bytes().get(10).copied();
    let shape_ok = cell.len() == 10 || matches!(separator, Some(b'T' | b' '));
    match crate::time::parse_rfc3339(&full).filter(|_| shape_ok) {
        Some(ms) => Ok(crate::time::format_rfc3339(ms)),
        None => Err(wrong().into()),
    }
}

/// An outcome cell as a sales status (`None` for an empty cell), or why not.
fn outcome(cell: &str) -> Result<Option<&'static str>, String> {
    let cell = cell.trim().to_ascii_lowercase();
    if cell.is_empty() {
        return Ok(None);
    }
    let plain = cell
        .strip_prefix("closed")
        .map(|rest| rest.trim_start_matches([' ', '-', '_']))
        .filter(|rest| *rest == "won" || *rest == "lost")
        .unwrap_or(&cell);
    STATUSES
        .iter()
        .find(|s| **s == plain)
        .copied()
        .map(Some)
        .ok_or_else(|| {
            "not an outcome: write won, lost, accepted or rejected (or leave it empty)".into()
        })
}

/// A cell as the input its question takes, or why not. Options are found by id or label,
/// without regard to case; a multiple choice lists them separated by `;`.
fn input<'a>(form: &Form, question: &str, cell: &'a str) -> Result<Input<'a>, String> {
    let q = form.question(question).expect("planned from the form");
    let option = |text: &str| -> Result<String, String> {
        let text = text.trim();
        let choices = match &q.kind {
            Kind::SingleChoice(c) | Kind::MultipleChoice(c) | Kind::YesNo(c) => c,
            _ => unreachable!("choice kinds only"),
        };
        choices
            .iter()
            .find(|c| c.id.eq_ignore_ascii_case(text) || c.label.trim().eq_ignore_ascii_case(text))
            .map(|c| c.id.clone())
            .ok_or_else(|| {
                let known: Vec<String> = choices
                    .iter()
                    .map(|c| format!("{} ({})", c.id, c.label))
                    .collect();
                format!("not an option of {}: {}", q.id, known.join(", "))
            })
    };
    let yes_no = |text: &str| match text.trim().to_ascii_lowercase().as_str() {
        "yes" | "y" | "true" | "1" => Some(true),
        "no" | "n" | "false" | "0" => Some(false),
        _ => None,
    };
    Ok(match &q.kind {
        Kind::SingleChoice(_) => Input::Checked(vec![option(cell)?]),
        Kind::MultipleChoice(_) => Input::Checked(
            cell.split(';')
                .filter(|p| !p.trim().is_empty())
                .map(option)
                .collect::<Result<_, _>>()?,
        ),
        Kind::YesNo(_) => {
            let id = match yes_no(cell) {
                Some(b) => if b { "yes" } else { "no" }.to_owned(),
                None => option(cell)?,
            };
            Input::Checked(vec![id])
        }
        Kind::Consent => Input::Flag(yes_no(cell).ok_or("not yes or no")?),
        Kind::Number { .. } | Kind::Text | Kind::Email | Kind::Phone => Input::Text(cell.trim()),
    })
}

/// An id made from a row's content: the same row of the same file gives the same id, so an
/// import run twice stores it once. `nth` tells identical rows apart.
fn content_id(form: &str, cells: &[String], nth: usize) -> String {
    use sha2::Digest;
    let mut hash = sha2::Sha256::new();
    hash.update(form.as_bytes());
    for cell in cells {
        hash.update([0x1f]);
        hash.update(cell.as_bytes());
    }
    hash.update(nth.to_le_bytes());
    let digest = hash.finalize();
    let hex: String = digest.iter().take(10).map(|b| format!("{b:02x}")).collect();
    format!("import-{hex}")
}

/// Reads and checks every row of `csv` (the file's bytes) as a lead of form `form_id`: nothing
/// is stored. `maps` are the `--map COLUMN=TARGET` pairs.
///
/// # Errors
/// [`ImportError::Columns`] when a needed column is missing or a map names nothing;
/// [`ImportError::Rows`] with every bad row.
pub fn check(
    forms: &Forms,
    form_id: &str,
    csv: &[u8],
    maps: &[(String, String)],
) -> Result<CheckedFile, ImportError> {
    let form = forms
        .get(form_id)
        .ok_or_else(|| columns_error(format!("no form \"{form_id}\" is loaded")))?;
    let first_line = csv.split(|b| *b == b'\n').next().unwrap_or_default();
    let delimiter = if !first_line.contains(&b',') && first_line.contains(&b';') {
        b';'
    } else {
        b','
    };
    let mut reader = csv::ReaderBuilder::new()
        .delimiter(delimiter)
        .flexible(true)
        .from_reader(csv);
    let headers: Vec<String> = reader
        .headers()
        .map_err(|e| columns_error(format!("line 1: the header cannot be read: {e}")))?
        .iter()
        .map(str::to_owned)
        .collect();
    let plan = plan(&form, &headers, maps)?;
    let at = |column: &Column| plan.iter().position(|c| c.as_ref() == Some(column));
    let mut errors: Vec<RowError> = Vec::new();
    let mut leads: Vec<Imported> = Vec::new();
    let mut ids: std::collections::HashMap<String, u64> = std::collections::HashMap::new();
    let mut seen_rows: std::collections::HashMap<Vec<String>, usize> =
        std::collections::HashMap::new();
    let mut record = csv::StringRecord::new();
    loop {
        let line = reader.position().line();
        match reader.read_record(&mut record) {
            Ok(false) => break,
            Ok(true) => {}
            Err(err) => {
                let line = err.position().map_or(line, |p| p.line());
                let message = match err.kind() {
                    csv::ErrorKind::Utf8 { .. } => {
                        "not UTF-8 text: save the file as UTF-8 (CSV UTF-8 in Excel)".to_owned()
                    }
                    _ => err.to_string(),
                };
                errors.push(RowError {
                    line,
                    column: String::new(),
                    value: String::new(),
                    message,
                });
                // The reader cannot go on past a malformed record reliably: stop here.
                if !matches!(err.kind(), csv::ErrorKind::Utf8 { .. }) {
                    break;
                }
                continue;
            }
        }
        let line = record.position().map_or(line, |p| p.line());
        let cells: Vec<String> = record.iter().map(str::to_owned).collect();
        if cells.iter().all(|c| c.trim().is_empty()) {
            continue;
        }
        if cells.len() != headers.len() {
            errors.push(RowError {
                line,
                column: String::new(),
                value: String::new(),
                message: format!(
                    "{} cells, but the header has {} columns",
                    cells.len(),
                    headers.len()
                ),
            });
            continue;
        }
        match row(&form, &headers, &plan, &cells, line) {
            Err(mut bad) => errors.append(&mut bad),
            Ok((mut lead, given_id)) => {
                let id = match given_id {
                    Some(id) => id,
                    None => {
                        let nth = seen_rows.entry(cells.clone()).or_insert(0);
                        *nth += 1;
                        content_id(&form.id, &cells, *nth)
                    }
                };
                if let Some(first) = ids.insert(id.clone(), line) {
                    let column = at(&Column::Id).map_or(String::new(), |i| headers[i].clone());
                    errors.push(RowError {
                        line,
                        value: id.clone(),
                        column,
                        message: format!("the same id as line {first}"),
                    });
                    continue;
                }
                match finish(forms, &mut lead, id) {
                    Ok(imported) => leads.push(imported),
                    Err(message) => errors.push(RowError {
                        line,
                        column: String::new(),
                        value: String::new(),
                        message,
                    }),
                }
            }
        }
    }
    if !errors.is_empty() {
        return Err(ImportError::Rows(errors));
    }
    let columns = headers.into_iter().zip(plan).collect();
    Ok(CheckedFile { leads, columns })
}

/// A row read but not yet checked by [`crate::ingest`]: the engine's lead, its date, status.
struct Row {
    lead: bantam_engine::LeadDocument,
    received_at: String,
    status: Option<&'static str>,
}

/// Reads one row into a lead, or says what is wrong with each bad cell.
fn row(
    form: &Form,
    headers: &[String],
    plan: &[Option<Column>],
    cells: &[String],
    line: u64,
) -> Result<(Row, Option<String>), Vec<RowError>> {
    let mut errors = Vec::new();
    let mut bad = |at: usize, message: String| {
        errors.push(RowError {
            line,
            column: headers[at].clone(),
            value: cells[at].clone(),
            message,
        });
    };
    let mut answers = Answers::new();
    let mut asked = Vec::new();
    let (mut received_at, mut status, mut id) = (None, None, None);
    let mut utm: [Option<String>; 3] = [None, None, None];
    let (mut page_url, mut referrer) = (String::new(), String::new());
    for (at, column) in plan.iter().enumerate() {
        let Some(column) = column else { continue };
        let cell = cells[at].trim();
        match column {
            Column::Date if cell.is_empty() => bad(at, "a date is needed".into()),
            Column::Date => match date(cell) {
                Ok(d) => received_at = Some(d),
                Err(e) => bad(at, e),
            },
            Column::Outcome => match outcome(cell) {
                Ok(o) => status = o,
                Err(e) => bad(at, e),
            },
            Column::Id if cell.is_empty() => {}
            Column::Id => {
                let ok = cell.len() <= 100
                    && cell
                        .chars()
                        .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_');
                if ok {
                    id = Some(cell.to_owned());
                } else {
                    bad(at, "an id is 1-100 letters, digits, '-' or '_'".into());
                }
            }
            Column::UtmSource | Column::UtmMedium | Column::UtmCampaign if cell.is_empty() => {}
            Column::UtmSource => utm[0] = Some(cell.to_owned()),
            Column::UtmMedium => utm[1] = Some(cell.to_owned()),
            Column::UtmCampaign => utm[2] = Some(cell.to_owned()),
            Column::PageUrl => page_url = cell.to_owned(),
            Column::Referrer => referrer = cell.to_owned(),
            Column::Question(_) if cell.is_empty() => {}
            Column::Question(q) => {
                let set = input(form, q, cell)
                    .and_then(|input| answers.set(form, q, input).map_err(|e| e.to_string()));
                match set {
                    Ok(()) => asked.push(q.clone()),
                    Err(e) => bad(at, e),
                }
            }
        }
    }
    if !errors.is_empty() {
        return Err(errors);
    }
    let received_at = received_at.expect("a date column is planned, and checked above");
    // In the form's order, as the widget records them.
    asked.sort_by_key(|id| form.questions.iter().position(|q| q.id == *id));
    answers
        .set_asked(form, asked.clone())
        .expect("questions of the form");
    let campaign = !page_url.is_empty() || !referrer.is_empty() || utm.iter().any(Option::is_some);
    let attribution = campaign.then(|| {
        let mut touch = Touch::from_page(&page_url, &referrer, &received_at);
        let [source, medium, campaign] = utm;
        touch.utm.source = source.or(touch.utm.source);
        touch.utm.medium = medium.or(touch.utm.medium);
        touch.utm.campaign = campaign.or(touch.utm.campaign);
        Attribution::update(None, touch)
    });
    let lead = build_lead(
        form,
        &answers,
        LeadInput {
            id: String::new(),
            submitted_at: received_at.clone(),
            page: PageInfo {
                url: page_url,
                title: String::new(),
                referrer,
            },
            attribution,
            visit_count: 1,
            new_answers: asked,
            browser: BrowserInfo::default(),
        },
    );
    Ok((
        Row {
            lead,
            received_at,
            status,
        },
        id,
    ))
}

/// Gives the lead its id and checks and scores it as a posted lead.
fn finish(forms: &Forms, row: &mut Row, id: String) -> Result<Imported, String> {
    row.lead.id = id;
    let json = row.lead.to_json();
    match crate::ingest(forms, json.as_bytes(), None, true) {
        Ok(Checked::Lead(lead)) => Ok(Imported {
            lead: *lead,
            received_at: row.received_at.clone(),
            status: row.status.map(str::to_owned),
        }),
        Ok(Checked::Hold(held)) => Err(held.reason),
        // The hint is for a widget's post, not a file's row.
        Err(AppError::BadRequest { error, .. }) => {
            Err(error.replace(" (was the form changed after the visitor loaded it?)", ""))
        }
        Err(other) => Err(format!("{other:?}")),
    }
}

impl CheckedFile {
    /// What the file holds, before it is stored (`stored` all zero).
    pub fn summary(&self) -> Summary {
        let mut outcomes: Vec<(String, usize)> = STATUSES
            .iter()
            .chain(&["none"])
            .map(|s| {
                let n = self
                    .leads
                    .iter()
                    .filter(|l| l.status.as_deref().unwrap_or("none") == *s)
                    .count();
                ((*s).to_owned(), n)
            })
            .collect();
        outcomes.retain(|(_, n)| *n > 0);
        let times = || self.leads.iter().map(|l| l.received_at.clone());
        Summary {
            rows: self.leads.len(),
            stored: ImportCount::default(),
            outcomes,
            dates: times().min().zip(times().max()),
            columns: self.columns.clone(),
        }
    }

    /// Stores every lead in one transaction: all of them, or none when the database fails.
    ///
    /// # Errors
    /// [`StoreError`] when the database fails; nothing is stored then.
    pub async fn store(self, store: &Store) -> Result<ImportCount, StoreError> {
        store.import(self.leads, &crate::time::now_rfc3339()).await
    }
}

#[cfg(test)]
mod tests;
