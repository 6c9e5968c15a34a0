//! From sales outcomes to a new version of a form, for `bantam-collector fit` and the inbox's
//! proposal page: the form's leads with their status read from the store a page at a time
//! ([`read_outcomes`]), the fit ([`crate::fit`]), the proposed config ([`propose`]: the form's
//! own file with the fitted points, `sum` scoring and the new grade minimums, everything else
//! as it was, in its order) and the safe replacement of a file ([`write_config`]: a temporary
//! file in the same folder, fsync, rename, the previous version kept as `<file>.<time>.bak`).

use std::io::Write as _;
use std::path::{Path, PathBuf};

use bantam_engine::{ConfigError, Form, Kind, SignalInput, Value};

use crate::fit::{FeatureKey, FitReport, Outcome, PointChange};
use crate::store::{LeadOutcome, Store, StoreError};

/// Leads read from the store at a time.
pub const PAGE: u32 = 1000;

/// The leads of form `form_id` that have a sales status, oldest first, as the fit takes them.
/// Read a page at a time: each stored document is parsed and its text dropped before the next
/// page, so the leads are never held twice. A document that is not JSON is handed on as
/// `null`, which the fit counts among the leads it left out.
///
/// # Errors
/// [`StoreError`] when the database fails.
pub async fn read_outcomes(store: &Store, form_id: &str) -> Result<Vec<Outcome>, StoreError> {
    let mut outcomes = Vec::new();
    let mut after: Option<LeadOutcome> = None;
    loop {
        let page = store.outcomes(form_id, after.as_ref(), PAGE).await?;
        let Some(last) = page.last() else {
            return Ok(outcomes);
        };
        after = Some(LeadOutcome {
            id: last.id.clone(),
            received_at: last.received_at.clone(),
            status: String::new(),
            document: String::new(),
        });
        for row in page {
            outcomes.push(Outcome {
                lead: serde_json::from_str(&row.document).unwrap_or(serde_json::Value::Null),
                status: row.status,
                at: row.received_at,
            });
        }
    }
}

/// Why no proposed config could be written.
#[derive(Debug, thiserror::Error)]
pub enum ProposalError {
    /// The form's config file is not a JSON object (it changed since it was loaded).
    #[error("the form's config is not a JSON object: {0}")]
    NotAnObject(String),
    /// The proposed config does not validate: reported, never written.
    #[error("the proposed config does not validate ({0}); please report this")]
    Invalid(ConfigError),
}

/// One feature whose points the proposal changes.
#[derive(Debug, Clone, PartialEq)]
pub struct Moved {
    /// Such as `Budget Over $250k` or `utmSource linkedin`.
    pub label: String,
    /// Its points today.
    pub current: i32,
    /// Its proposed points.
    pub proposed: i32,
    /// How many of the leads the fit learned from had it.
    pub leads: usize,
    /// The fitted weight, in log-odds.
    pub weight: f64,
}

impl Moved {
    /// Why it moved, in words: how many leads had it, and what the fitted model says it does
    /// to a lead's odds (against an answer or source worth 0 points).
    pub fn reason(&self) -> String {
        if self.leads == 0 {
            return "no lead the fit learned from had it: no evidence either way, so 0".into();
        }
        format!(
            "{} of the older leads had it; it multiplies a lead's odds of converting by {:.2} against an answer worth 0 points",
            self.leads,
            self.weight.exp()
        )
    }

    /// `Budget Over $250k: +25 → +41`.
    pub fn summary(&self) -> String {
        format!(
            "{}: {} → {}",
            self.label,
            signed(self.current),
            signed(self.proposed)
        )
    }
}

fn signed(points: i32) -> String {
    if points >= 0 {
        format!("+{points}")
    } else {
        points.to_string()
    }
}

/// A proposed new version of a form: the report, the config text to write and what moved.
#[derive(Debug, Clone, PartialEq)]
pub struct Proposal {
    /// The fit's report.
    pub report: FitReport,
    /// The proposed config, pretty-printed JSON.
    pub config: String,
    /// Hex SHA-256 of `config` (the first 16 digits): what the inbox's Apply button carries, so
    /// it writes the proposal that was read, not one the newest outcomes changed since.
    pub fingerprint: String,
    /// The points that move, in the fit's feature order.
    pub moved: Vec<Moved>,
    /// Per grade: its name, its minimum today and the proposed one.
    pub grades: Vec<(String, u8, u8)>,
    /// How the form scores today (`shares`, or `sum` with its offset), for people.
    pub scoring_now: String,
    /// Things a marketer should know about the written config.
    pub notes: Vec<String>,
}

impl Proposal {
    /// The report as `bantam-collector fit` prints it: the fit's report, then the notes.
    pub fn to_text(&self) -> String {
        let mut out = self.report.to_text();
        for note in &self.notes {
            out.push_str("Note: ");
            out.push_str(note);
            out.push('\n');
        }
        out
    }
}

/// Human names and ids for a signal the proposal adds, by input.
fn signal_name(input: SignalInput) -> (&'static str, &'static str) {
    match input {
        SignalInput::UtmSource => ("source", "Source"),
        SignalInput::UtmMedium => ("medium", "Medium"),
        SignalInput::UtmCampaign => ("campaign", "Campaign"),
        SignalInput::ClickId => ("ad-click", "Ad click"),
        SignalInput::ReferrerDomain => ("referrer", "Referrer"),
        SignalInput::LandingPage => ("landing-page", "Landing page"),
        SignalInput::EmailKind => ("email-kind", "Email"),
    }
}

// Editing a config as the engine's `Value`, whose objects keep their keys in source order, so
// a proposal changes the file where the points are and nowhere else.

fn number(n: i32) -> Value {
    Value::Number(f64::from(n))
}

fn text(s: &str) -> Value {
    Value::String(s.to_owned())
}

fn fields(value: &mut Value) -> Option<&mut Vec<(String, Value)>> {
    match value {
        Value::Object(fields) => Some(fields),
        _ => None,
    }
}

fn get_mut<'a>(value: &'a mut Value, key: &str) -> Option<&'a mut Value> {
    fields(value)?
        .iter_mut()
        .find(|(k, _)| k == key)
        .map(|(_, v)| v)
}

/// Sets `key` of an object: in place when it is there, else at the end.
fn set(value: &mut Value, key: &str, new: Value) {
    if let Some(fields) = fields(value) {
        match fields.iter_mut().find(|(k, _)| k == key) {
            Some((_, v)) => *v = new,
            None => fields.push((key.to_owned(), new)),
        }
    }
}

fn remove(value: &mut Value, key: &str) {
    if let Some(fields) = fields(value) {
        fields.retain(|(k, _)| k != key);
    }
}

/// The array at `key` of an object, made (empty, at the end) when missing.
fn array<'a>(value: &'a mut Value, key: &str) -> &'a mut Vec<Value> {
    if !matches!(value.get(key), Some(Value::Array(_))) {
        set(value, key, Value::Array(Vec::new()));
    }
    match get_mut(value, key) {
        Some(Value::Array(items)) => items,
        _ => unreachable!("set just above"),
    }
}

fn id_of(value: &Value) -> Option<&str> {
    match value.get("id") {
        Some(Value::String(id)) => Some(id),
        _ => None,
    }
}

/// The entry of `items` whose `id` is `id`, added as `{"id": id}` when missing.
fn entry<'a>(items: &'a mut Vec<Value>, id: &str) -> &'a mut Value {
    let at = match items.iter().position(|v| id_of(v) == Some(id)) {
        Some(at) => at,
        None => {
            items.push(Value::Object(vec![("id".into(), text(id))]));
            items.len() - 1
        }
    };
    &mut items[at]
}

/// JSON text of a scalar, or `None` for an array or object.
fn scalar(value: &Value) -> Option<String> {
    Some(match value {
        Value::Null => "null".into(),
        Value::Bool(b) => b.to_string(),
        Value::Number(n) if n.fract() == 0.0 && n.abs() < 1e15 => format!("{}", *n as i64),
        Value::Number(n) => {
            serde_json::Number::from_f64(*n).map_or("null".into(), |n| n.to_string())
        }
        Value::String(s) => serde_json::to_string(s).unwrap_or_default(),
        Value::Array(_) | Value::Object(_) => return None,
    })
}

/// A container of scalars on one line, when it fits in `room` characters.
fn one_line(value: &Value, room: usize) -> Option<String> {
    let line = match value {
        Value::Array(items) if items.is_empty() => "[]".to_owned(),
        Value::Object(fields) if fields.is_empty() => "{}".to_owned(),
        Value::Array(items) => {
            let parts: Option<Vec<String>> = items.iter().map(scalar).collect();
            format!("[{}]", parts?.join(", "))
        }
        Value::Object(fields) => {
            let parts: Option<Vec<String>> = fields
                .iter()
                .map(|(k, v)| Some(format!("{}: {}", scalar(&text(k))?, scalar(v)?)))
                .collect();
            format!("{{ {} }}", parts?.join(", "))
        }
        _ => return scalar(value),
    };
    (line.chars().count() <= room).then_some(line)
}

/// Writes `value` as JSON indented by two spaces, small containers of scalars on one line.
fn write_pretty(value: &Value, depth: usize, out: &mut String) {
    if let Some(line) = one_line(value, 96usize.saturating_sub(depth * 2)) {
        out.push_str(&line);
        return;
    }
    let pad = "  ".repeat(depth + 1);
    let (open, close, items): (char, char, Vec<(Option<&str>, &Value)>) = match value {
        Value::Array(items) => ('[', ']', items.iter().map(|v| (None, v)).collect()),
        Value::Object(fields) => (
            '{',
            '}',
            fields.iter().map(|(k, v)| (Some(k.as_str()), v)).collect(),
        ),
        _ => unreachable!("scalars fit on a line"),
    };
    out.push(open);
    for (i, (key, item)) in items.iter().enumerate() {
        out.push_str(if i == 0 { "\n" } else { ",\n" });
        out.push_str(&pad);
        if let Some(key) = key {
            out.push_str(&scalar(&text(key)).unwrap_or_default());
            out.push_str(": ");
        }
        write_pretty(item, depth + 1, out);
    }
    out.push('\n');
    out.push_str(&"  ".repeat(depth));
    out.push(close);
}

/// `value` as pretty-printed JSON text with a final newline.
pub fn to_json_text(value: &Value) -> String {
    let mut out = String::new();
    write_pretty(value, 0, &mut out);
    out.push('\n');
    out
}

fn parse(value: &Value, preferred: &[&str]) -> Result<Form, ConfigError> {
    let json: serde_json::Value =
        serde_json::from_str(&to_json_text(value)).map_err(|e| ConfigError::Syntax {
            path: "config".into(),
            message: e.to_string(),
        })?;
    bantam_engine::parse_config_for(json, preferred)
}

/// The proposed config: `config_text` (the form's file, which `form` was read from) with the
/// report's points, `{"mode": "sum", "offset"}` scoring (category weights go: sum mode has
/// none) and the report's grade minimums; every other field as it was, in its order.
///
/// A question whose points move gets them where its config has them: its options and ranges,
/// `points` (text, email, phone, consent), `unanswered`. A preset question whose options or
/// ranges the config does not list has them written out in full (ids, labels, points, grade
/// caps), with their labels in each other language the form can be shown in added to
/// `translations`, so the form reads as before in every language. Signals follow the fit per
/// input: the input's first signal gets every value the fit scored (its other signals go, so
/// no input counts twice); an input without one gets a new signal when any of its points
/// moved. A value the config cannot hold as a key (a referrer that is no domain) is left out
/// and named in the notes: such leads then score as `other`.
///
/// # Errors
/// [`ProposalError::NotAnObject`] when `config_text` is not a JSON object,
/// [`ProposalError::Invalid`] when the result does not validate (a bug: nothing is written).
pub fn propose(
    config_text: &str,
    form: &Form,
    report: FitReport,
) -> Result<Proposal, ProposalError> {
    let original: Value =
        serde_json::from_str(config_text).map_err(|e| ProposalError::NotAnObject(e.to_string()))?;
    if !matches!(original, Value::Object(_)) {
        return Err(ProposalError::NotAnObject("not an object".into()));
    }
    let mut config = original.clone();
    let mut notes = Vec::new();
    let changed =
        |changes: &[&PointChange]| changes.iter().any(|c| c.proposed != c.feature.current);

    // Questions, in form order; preset questions written out in full, to translate below.
    let mut written_out: Vec<String> = Vec::new();
    for q in &form.questions {
        let mine: Vec<&PointChange> = report
            .points
            .iter()
            .filter(|c| match &c.feature.key {
                FeatureKey::Option { question, .. }
                | FeatureKey::Range { question, .. }
                | FeatureKey::Answered { question }
                | FeatureKey::Skipped { question } => *question == q.id,
                FeatureKey::Signal { .. } => false,
            })
            .collect();
        if !changed(&mine) {
            continue;
        }
        let question = entry(array(&mut config, "questions"), &q.id);
        for change in &mine {
            match &change.feature.key {
                FeatureKey::Answered { .. } => set(question, "points", number(change.proposed)),
                FeatureKey::Skipped { .. } => {
                    set(question, "unanswered", number(change.proposed));
                }
                _ => {}
            }
        }
        let option_points = |id: &str| {
            mine.iter().find_map(|c| match &c.feature.key {
                FeatureKey::Option { option, .. } if option == id => Some(c.proposed),
                _ => None,
            })
        };
        let range_points = |at: usize| {
            mine.iter().find_map(|c| match &c.feature.key {
                FeatureKey::Range { index, .. } if *index == at => Some(c.proposed),
                _ => None,
            })
        };
        let cap = |g: Option<usize>| g.and_then(|g| form.grades.get(g)).map(|g| text(&g.name));
        match &q.kind {
            Kind::SingleChoice(choices) | Kind::MultipleChoice(choices) | Kind::YesNo(choices) => {
                if let Some(Value::Array(options)) = get_mut(question, "options") {
                    for option in options.iter_mut() {
                        let points = id_of(option).and_then(option_points);
                        if let Some(points) = points {
                            set(option, "points", number(points));
                        }
                    }
                } else {
                    let yes_no = matches!(q.kind, Kind::YesNo(_));
                    let options = choices
                        .iter()
                        .map(|c| {
                            let mut option = vec![("id".to_owned(), text(&c.id))];
                            // Yes and no take the locale's words when they have no label.
                            if !yes_no {
                                option.push(("label".into(), text(&c.label)));
                            }
                            option.push((
                                "points".into(),
                                number(option_points(&c.id).unwrap_or(c.points)),
                            ));
                            if let Some(g) = cap(c.cap_grade) {
                                option.push(("capGrade".into(), g));
                            }
                            Value::Object(option)
                        })
                        .collect();
                    set(question, "options", Value::Array(options));
                    if !yes_no {
                        written_out.push(q.id.clone());
                    }
                }
            }
            Kind::Number { ranges, .. } => {
                if let Some(Value::Array(given)) = get_mut(question, "ranges") {
                    for (at, range) in given.iter_mut().enumerate() {
                        if let Some(points) = range_points(at) {
                            set(range, "points", number(points));
                        }
                    }
                } else {
                    let ranges = ranges
                        .iter()
                        .enumerate()
                        .map(|(at, r)| {
                            let mut range = vec![("min".to_owned(), Value::Number(r.min))];
                            if let Some(max) = r.max {
                                range.push(("max".into(), Value::Number(max)));
                            }
                            range.push((
                                "points".into(),
                                number(range_points(at).unwrap_or(r.points)),
                            ));
                            range.push(("label".into(), text(&r.label)));
                            if let Some(g) = cap(r.cap_grade) {
                                range.push(("capGrade".into(), g));
                            }
                            Value::Object(range)
                        })
                        .collect();
                    set(question, "ranges", Value::Array(ranges));
                    written_out.push(q.id.clone());
                }
            }
            Kind::Text | Kind::Email | Kind::Phone | Kind::Consent => {}
        }
    }
    if !written_out.is_empty() {
        translate_written_out(&original, form, &written_out, &mut config);
    }

    // Signals, input by input.
    let mut signal_ids: Vec<String> = form.signals.iter().map(|s| s.id.clone()).collect();
    for input in SignalInput::ALL {
        let mine: Vec<&PointChange> = report
            .points
            .iter()
            .filter(
                |c| matches!(&c.feature.key, FeatureKey::Signal { input: i, .. } if *i == input),
            )
            .collect();
        // A second signal on one input counts in the engine's total but not in the fit's.
        let several = form.signals.iter().filter(|s| s.input == input).count() > 1;
        if !changed(&mine) && !several {
            continue;
        }
        let mut values = Vec::new();
        let (mut other, mut none) = (None, None);
        for c in &mine {
            match &c.feature.key {
                FeatureKey::Signal { key: Some(key), .. } => {
                    values.push((key.clone(), number(c.proposed)));
                }
                FeatureKey::Signal { other: true, .. } => other = Some(c.proposed),
                _ => none = Some(c.proposed),
            }
        }
        let signals = array(&mut config, "signals");
        let is_input =
            |s: &Value| matches!(s.get("input"), Some(Value::String(i)) if i == input.as_str());
        let first = signals.iter().position(is_input);
        let signal = match first {
            Some(at) => {
                let mut at_index = 0;
                signals.retain(|s| {
                    let keep = !is_input(s) || at_index == at;
                    if !keep {
                        notes.push(format!(
                            "signal \"{}\" goes: the proposal scores {} once, in signal \"{}\"",
                            id_of(s).unwrap_or("?"),
                            input.as_str(),
                            form.signals
                                .iter()
                                .find(|f| f.input == input)
                                .map_or("?", |f| f.id.as_str())
                        ));
                    }
                    at_index += 1;
                    keep
                });
                let at = signals.iter().position(is_input).unwrap_or(0);
                &mut signals[at]
            }
            None => {
                let (id, label) = signal_name(input);
                let mut id = id.to_owned();
                while form.question(&id).is_some() || signal_ids.contains(&id) {
                    id.push_str("-signal");
                }
                signal_ids.push(id.clone());
                signals.push(Value::Object(vec![
                    ("id".into(), text(&id)),
                    ("input".into(), text(input.as_str())),
                    ("shortLabel".into(), text(label)),
                ]));
                signals.last_mut().expect("just pushed")
            }
        };
        set(signal, "values", Value::Object(values));
        match other {
            Some(points) => set(signal, "other", number(points)),
            None => remove(signal, "other"),
        }
        match none {
            Some(points) => set(signal, "none", number(points)),
            None => remove(signal, "none"),
        }
    }

    set(
        &mut config,
        "scoring",
        Value::Object(vec![
            ("mode".into(), text("sum")),
            ("offset".into(), number(report.offset)),
        ]),
    );
    remove(&mut config, "weights");
    let grades_given = matches!(config.get("grades"), Some(Value::Array(_)));
    if grades_given {
        if let Some(Value::Array(grades)) = get_mut(&mut config, "grades") {
            for grade in grades.iter_mut() {
                let name = match grade.get("name") {
                    Some(Value::String(name)) => name.clone(),
                    _ => continue,
                };
                if let Some((_, min)) = report.thresholds.iter().find(|(n, _)| *n == name) {
                    set(grade, "min", number(i32::from(*min)));
                }
            }
        }
    } else {
        let grades = report
            .thresholds
            .iter()
            .map(|(name, min)| {
                Value::Object(vec![
                    ("name".into(), text(name)),
                    ("min".into(), number(i32::from(*min))),
                ])
            })
            .collect();
        set(&mut config, "grades", Value::Array(grades));
    }

    // A value the config cannot hold as a key is left out, and said so.
    let mut checked = None;
    for _ in 0..=64 {
        match parse(&config, &[]) {
            Ok(form) => {
                checked = Some(form);
                break;
            }
            Err(err) => {
                let Some((at, key)) = signal_key(err.path()) else {
                    return Err(ProposalError::Invalid(err));
                };
                let signal = match get_mut(&mut config, "signals") {
                    Some(Value::Array(signals)) if at < signals.len() => &mut signals[at],
                    _ => return Err(ProposalError::Invalid(err)),
                };
                let Some(values) = get_mut(signal, "values") else {
                    return Err(ProposalError::Invalid(err));
                };
                remove(values, &key);
                notes.push(format!(
                    "\"{key}\" cannot be a key of signal {} ({err}): leads with it score as other",
                    id_of(signal).unwrap_or("?")
                ));
            }
        }
    }
    let Some(checked) = checked else {
        return Err(ProposalError::NotAnObject(
            "too many values left out".into(),
        ));
    };
    for locale in &checked.locales {
        parse(&config, &[locale]).map_err(ProposalError::Invalid)?;
    }

    let text = to_json_text(&config);
    let fingerprint = {
        use sha2::Digest;
        let digest = sha2::Sha256::digest(text.as_bytes());
        digest.iter().take(8).map(|b| format!("{b:02x}")).collect()
    };
    let moved = report
        .points
        .iter()
        .filter(|c| c.proposed != c.feature.current)
        .map(|c| Moved {
            label: c.feature.label.clone(),
            current: c.feature.current,
            proposed: c.proposed,
            leads: c.leads,
            weight: c.weight,
        })
        .collect();
    let grades = form
        .grades
        .iter()
        .map(|g| {
            let new = report
                .thresholds
                .iter()
                .find(|(n, _)| *n == g.name)
                .map_or(g.min, |(_, m)| *m);
            (g.name.clone(), g.min, new)
        })
        .collect();
    let scoring_now = match form.scoring {
        bantam_engine::Scoring::Shares => "category shares".to_owned(),
        bantam_engine::Scoring::Sum { offset } => format!("sum, offset {offset}"),
    };
    Ok(Proposal {
        report,
        config: text,
        fingerprint,
        moved,
        grades,
        scoring_now,
        notes,
    })
}

/// `(signal index, key)` of an error path such as `signals[2].values.localhost`.
fn signal_key(path: &str) -> Option<(usize, String)> {
    let rest = path.strip_prefix("signals[")?;
    let (index, rest) = rest.split_once(']')?;
    let key = rest.strip_prefix(".values.")?;
    Some((index.parse().ok()?, key.to_owned()))
}

/// Keeps the labels of the preset questions in `ids` (written out in full in `config`, in the
/// form's own language) in every other language the form can be shown in: each label that
/// differs there goes into `translations`, unless the config translates it already.
fn translate_written_out(original: &Value, form: &Form, ids: &[String], config: &mut Value) {
    let Ok(json) = serde_json::from_str::<serde_json::Value>(&to_json_text(original)) else {
        return;
    };
    for locale in form.locales.iter().filter(|l| **l != form.locale) {
        let Ok(shown) = bantam_engine::parse_config_for(json.clone(), &[locale]) else {
            continue;
        };
        if shown.locale != *locale {
            continue;
        }
        let tag = match config.get("translations") {
            Some(Value::Object(fields)) => fields
                .iter()
                .map(|(k, _)| k.clone())
                .find(|k| k.eq_ignore_ascii_case(locale)),
            _ => None,
        }
        .unwrap_or_else(|| locale.clone());
        for id in ids {
            let (Some(base), Some(there)) = (form.question(id), shown.question(id)) else {
                continue;
            };
            let labels: Vec<(String, String)> = match (&base.kind, &there.kind) {
                (Kind::SingleChoice(a), Kind::SingleChoice(b))
                | (Kind::MultipleChoice(a), Kind::MultipleChoice(b)) => a
                    .iter()
                    .zip(b)
                    .filter(|(a, b)| a.label != b.label)
                    .map(|(_, b)| (b.id.clone(), b.label.clone()))
                    .collect(),
                _ => Vec::new(),
            };
            let ranges: Option<Vec<String>> = match (&base.kind, &there.kind) {
                (Kind::Number { ranges: a, .. }, Kind::Number { ranges: b, .. })
                    if a.iter().zip(b).any(|(a, b)| a.label != b.label) =>
                {
                    Some(b.iter().map(|r| r.label.clone()).collect())
                }
                _ => None,
            };
            if labels.is_empty() && ranges.is_none() {
                continue;
            }
            if !matches!(config.get("translations"), Some(Value::Object(_))) {
                set(config, "translations", Value::Object(Vec::new()));
            }
            let Some(translations) = get_mut(config, "translations") else {
                continue;
            };
            if !matches!(translations.get(&tag), Some(Value::Object(_))) {
                set(translations, &tag, Value::Object(Vec::new()));
            }
            let Some(translation) = get_mut(translations, &tag) else {
                continue;
            };
            let question = entry(array(translation, "questions"), id);
            if !labels.is_empty() {
                let options = array(question, "options");
                for (option, label) in labels {
                    if !options.iter().any(|o| id_of(o) == Some(option.as_str())) {
                        options.push(Value::Object(vec![
                            ("id".into(), text(&option)),
                            ("label".into(), text(&label)),
                        ]));
                    }
                }
            }
            if let Some(ranges) = ranges {
                if question.get("ranges").is_none() {
                    let ranges = ranges
                        .iter()
                        .map(|l| Value::Object(vec![("label".into(), text(l))]))
                        .collect();
                    set(question, "ranges", Value::Array(ranges));
                }
            }
        }
    }
}

/// Why a config file could not be written.
#[derive(Debug, thiserror::Error)]
pub enum WriteError {
    /// The file changed since the proposal was made from it.
    #[error("{0} changed since the proposal was made from it; nothing was written (make the proposal again)")]
    Changed(String),
    /// Reading, writing, syncing or renaming failed.
    #[error("{path}: {source}")]
    Io {
        /// The file or folder at fault.
        path: String,
        /// Why.
        source: std::io::Error,
    },
}

fn io(path: &Path) -> impl FnOnce(std::io::Error) -> WriteError + '_ {
    move |source| WriteError::Io {
        path: path.display().to_string(),
        source,
    }
}

/// Writes `text` to `path` so that the file is always either its old or its new version, also
/// across a crash: a temporary file in the same folder (named so that the forms folder does
/// not load it), written and synced, renamed over `path`, and the folder synced. An existing
/// file is first copied to `<path>.<stamp>.bak` (synced too), whose path is returned. With
/// `expected`, the file must hold exactly that text (what the proposal was made from).
///
/// # Errors
/// [`WriteError::Changed`] when the file no longer holds `expected`, [`WriteError::Io`] when a
/// step fails (the file is then as it was).
pub fn write_config(
    path: &Path,
    text: &str,
    expected: Option<&str>,
    stamp: &str,
) -> Result<Option<PathBuf>, WriteError> {
    let (dir, name) = crate::history::folder_and_name(path);
    let old = match std::fs::read_to_string(path) {
        Ok(old) => Some(old),
        Err(err) if err.kind() == std::io::ErrorKind::NotFound => None,
        Err(err) => return Err(io(path)(err)),
    };
    if let Some(expected) = expected {
        if old.as_deref() != Some(expected) {
            return Err(WriteError::Changed(path.display().to_string()));
        }
    }
    let sync_file = |at: &Path, content: &str| -> Result<(), WriteError> {
        let mut file = std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(at)
            .map_err(io(at))?;
        file.write_all(content.as_bytes()).map_err(io(at))?;
        file.sync_all().map_err(io(at))
    };
    let backup = match &old {
        Some(old) => {
            let mut backup = dir.join(format!("{name}.{stamp}.bak"));
            let mut n = 1;
            while backup.exists() {
                n += 1;
                backup = dir.join(format!("{name}.{stamp}-{n}.bak"));
            }
            sync_file(&backup, old)?;
            Some(backup)
        }
        None => None,
    };
    crate::history::write_atomically(path, text).map_err(io(path))?;
    Ok(backup)
}

/// A time for backup names: `20261123T083456Z`, now, in UTC.
pub fn stamp_now() -> String {
    let now = crate::time::now_rfc3339();
    let digits: String = now[..19]
        .chars()
        .filter(|c| *c != '-' && *c != ':')
        .collect();
    format!("{digits}Z")
}

#[cfg(test)]
mod tests;
