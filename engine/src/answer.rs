//! Answers: raw input from a control, checked against its question into a value.

use crate::map::Map;
use crate::prelude::*;

use crate::form::{Condition, Form, Kind, Question};
use crate::texts::{fill, Texts};
use crate::value::{
    decimal, find_any, split_ascii, split_once_ascii, trim_end_ascii, JsonWriter, Value,
};

/// A stored answer value, as it appears in the lead document's `answers`.
///
/// Choice answers are option ids, multiple choice a list of ids, yes/no and consent booleans.
#[derive(Debug, Clone, PartialEq)]
#[cfg_attr(feature = "serde", derive(serde::Deserialize), serde(untagged))]
pub enum AnswerValue {
    /// Yes/no and consent.
    Bool(bool),
    /// Number questions.
    Number(f64),
    /// Text, email, phone, and the option id of a single choice.
    Text(String),
    /// The option ids of a multiple choice.
    List(Vec<String>),
}

/// What a control holds, as the widget reads it.
#[derive(Debug, Clone, PartialEq)]
pub enum Input<'a> {
    /// The text of an input field (text, email, phone, number).
    Text(&'a str),
    /// The values of the checked radios or checkboxes of a choice or yes/no question.
    Checked(Vec<String>),
    /// A single checkbox (consent).
    Flag(bool),
}

/// Why an answer was rejected. [`AnswerError::message`] gives the visitor-facing text.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum AnswerError {
    /// A required question was left empty.
    #[error("an answer is required")]
    Required,
    /// A required choice was left unchosen.
    #[error("an option must be chosen")]
    Choose,
    /// A required consent box was not ticked.
    #[error("consent is required")]
    ConsentRequired,
    /// The value names an option the question does not have.
    #[error("\"{0}\" is not an option of this question")]
    UnknownOption(String),
    /// A multiple-choice answer names an option twice.
    #[error("option \"{0}\" is chosen twice")]
    RepeatedOption(String),
    /// Not an email address.
    #[error("not a valid email address")]
    Email,
    /// Not a phone number.
    #[error("not a valid phone number")]
    Phone,
    /// Not a number.
    #[error("not a number")]
    NotANumber,
    /// A number outside the question's bounds.
    #[error("must be from {} to {}", format_number(*min), format_number(*max))]
    OutOfRange {
        /// Smallest accepted value.
        min: f64,
        /// Largest accepted value.
        max: f64,
    },
    /// Text longer than the question accepts.
    #[error("must be at most {max} characters")]
    TooLong {
        /// Longest accepted length in characters.
        max: usize,
    },
    /// Text with invisible or direction-changing characters (bidi controls, zero-width
    /// spaces), which would make it read differently from what it is.
    #[error("contains invisible or direction-changing characters")]
    Hidden,
    /// The value has the wrong type for the question's kind.
    #[error("expected {expected}")]
    WrongType {
        /// What the question's kind needs.
        expected: &'static str,
    },
    /// The answer is for a question the form does not have.
    #[error("the form has no question \"{0}\"")]
    UnknownQuestion(String),
}

impl AnswerError {
    /// The message shown to the visitor, in the form's locale.
    pub fn message(&self, texts: &Texts) -> String {
        // The text picked, then copied once (not a copy in every arm).
        let text = match self {
            AnswerError::Required => &texts.error_required,
            AnswerError::Choose
            | AnswerError::UnknownOption(_)
            | AnswerError::RepeatedOption(_) => &texts.error_choose,
            AnswerError::ConsentRequired => &texts.error_consent,
            // The widget strips these before checking; only a forged lead carries them.
            AnswerError::Hidden => &texts.error_summary,
            AnswerError::Email => &texts.error_email,
            AnswerError::Phone => &texts.error_phone,
            AnswerError::NotANumber
            | AnswerError::WrongType { .. }
            | AnswerError::UnknownQuestion(_) => &texts.error_number,
            AnswerError::OutOfRange { min, max } => {
                return fill(
                    &texts.error_range,
                    &[("min", &format_number(*min)), ("max", &format_number(*max))],
                )
            }
            AnswerError::TooLong { max } => {
                return fill(&texts.error_too_long, &[("max", &decimal(*max as i64))])
            }
        };
        text.clone()
    }
}

/// Formats a number for people: whole numbers without a fraction, others with at most three
/// decimals. Integer arithmetic only, so the wasm build needs no float-printing machinery.
pub fn format_number(n: f64) -> String {
    if !n.is_finite() {
        return String::from("?");
    }
    let negative = n < 0.0;
    let thousandths = round(n.abs() * 1000.0);
    if thousandths >= 9.0e15 {
        // Beyond exact integers; such bounds only appear as "no limit" defaults.
        return String::from(if negative { "-∞" } else { "∞" });
    }
    let thousandths = thousandths as u64;
    let whole = thousandths / 1000;
    let mut out = String::new();
    if negative && thousandths != 0 {
        out.push('-');
    }
    out.push_str(&decimal(whole as i64));
    let frac = thousandths % 1000;
    if frac != 0 {
        // Three digits with their leading zeros: 1000 + frac has four, the first a 1.
        // (A char pattern, not a slice: slicing a str brings its panic path's formatting.)
        let digits = decimal(1000 + frac as i64);
        let digits = digits.strip_prefix('1').unwrap_or(&digits);
        out.push('.');
        out.push_str(trim_end_ascii(digits, b'0'));
    }
    out
}

/// A plausible email address: one `@`, a local part, a dotted domain, no spaces.
fn is_email(s: &str) -> bool {
    let Some((local, domain)) = split_once_ascii(s, b'@') else {
        return false;
    };
    s.len() <= 254
        && !local.is_empty()
        && local.len() <= 64
        && find_any(domain, b"@").is_none()
        && !s.chars().any(|c| {
            c.is_whitespace() || c.is_control() || matches!(c, '<' | '>' | ',' | ';' | '"')
        })
        && split_ascii(domain, b'.').count() >= 2
        && split_ascii(domain, b'.')
            .all(|label| !label.is_empty() && !label.starts_with('-') && !label.ends_with('-'))
}

/// An invisible or direction-changing character: bidi embeddings, overrides, isolates and
/// marks, zero-width spaces and the byte-order mark; in `strict` text (emails, phones) also the
/// zero-width joiners, which other text (Persian, Indic scripts, emoji) needs.
fn hidden(c: char, strict: bool) -> bool {
    matches!(
        c,
        '\u{200B}' | '\u{200E}' | '\u{200F}' | '\u{061C}' | '\u{2060}' | '\u{FEFF}'
            | '\u{202A}'..='\u{202E}'
            | '\u{2066}'..='\u{2069}'
    ) || (strict && matches!(c, '\u{200C}' | '\u{200D}'))
}

/// A plausible phone number: 6-15 digits, optionally with `+`, spaces, dots, dashes and brackets.
/// (One pass: each iterator chain is a copy of its loop in the widget.)
fn is_phone(s: &str) -> bool {
    let mut digits = 0;
    for (i, c) in s.chars().enumerate() {
        if c.is_ascii_digit() {
            digits += 1;
        } else if !(matches!(c, ' ' | '-' | '.' | '(' | ')') || (c == '+' && i == 0)) {
            return false;
        }
    }
    (6..=15).contains(&digits)
}

/// Checks a value against its question; `Ok` means it may be stored as is.
fn check_value(q: &Question, value: &AnswerValue) -> Result<(), AnswerError> {
    let wrong = |expected| Err(AnswerError::WrongType { expected });
    match (&q.kind, value) {
        (Kind::SingleChoice(_), AnswerValue::Text(id)) => match q.choice(id) {
            Some(_) => Ok(()),
            None => Err(AnswerError::UnknownOption(id.clone())),
        },
        (Kind::SingleChoice(_), _) => wrong("an option id"),
        (Kind::MultipleChoice(_), AnswerValue::List(ids)) => {
            for (i, id) in ids.iter().enumerate() {
                if q.choice(id).is_none() {
                    return Err(AnswerError::UnknownOption(id.clone()));
                }
                // `get`, not indexing: the slicing panic path costs the widget its code and texts.
                if ids.get(..i).is_some_and(|earlier| earlier.contains(id)) {
                    return Err(AnswerError::RepeatedOption(id.clone()));
                }
            }
            if ids.is_empty() {
                return wrong("a non-empty list of option ids");
            }
            Ok(())
        }
        (Kind::MultipleChoice(_), _) => wrong("a list of option ids"),
        (Kind::Number { min, max, .. }, AnswerValue::Number(n)) => {
            if !n.is_finite() {
                Err(AnswerError::NotANumber)
            } else if n < min || n > max {
                Err(AnswerError::OutOfRange {
                    min: *min,
                    max: *max,
                })
            } else {
                Ok(())
            }
        }
        (Kind::Number { .. }, _) => wrong("a number"),
        (Kind::YesNo(_) | Kind::Consent, AnswerValue::Bool(_)) => Ok(()),
        (Kind::YesNo(_) | Kind::Consent, _) => wrong("true or false"),
        (Kind::Text | Kind::Email | Kind::Phone, AnswerValue::Text(s)) => {
            if s.trim().is_empty() {
                return wrong("a non-empty text");
            }
            // Characters, not bytes: the bytes that start one. (`chars().count()` brings the
            // standard library's 0.9 KB word-at-a-time counter into the widget.)
            if s.bytes().filter(|b| b & 0xC0 != 0x80).count() > q.max_length {
                return Err(AnswerError::TooLong { max: q.max_length });
            }
            let strict = !matches!(q.kind, Kind::Text);
            if s.chars().any(|c| hidden(c, strict)) {
                return Err(AnswerError::Hidden);
            }
            match q.kind {
                Kind::Email if !is_email(s) => Err(AnswerError::Email),
                Kind::Phone if !is_phone(s) => Err(AnswerError::Phone),
                _ => Ok(()),
            }
        }
        (Kind::Text | Kind::Email | Kind::Phone, _) => wrong("a text"),
    }
}

/// Turns a control's input into a value; `Ok(None)` means the question was left empty.
/// `comma_decimal` says the form's locale writes `1.234,5` (German) rather than `1,234.5`.
fn parse_input(
    q: &Question,
    input: Input<'_>,
    comma_decimal: bool,
) -> Result<Option<AnswerValue>, AnswerError> {
    let value = match (&q.kind, input) {
        (Kind::Consent, Input::Flag(checked)) => {
            return if !checked && q.required {
                Err(AnswerError::ConsentRequired)
            } else {
                Ok(Some(AnswerValue::Bool(checked)))
            };
        }
        (Kind::SingleChoice(_), Input::Checked(mut ids)) if ids.len() <= 1 => {
            ids.pop().map(AnswerValue::Text)
        }
        (Kind::YesNo(_), Input::Checked(ids)) if ids.len() <= 1 => {
            match ids.first().map(String::as_str) {
                None => None,
                Some("yes") => Some(AnswerValue::Bool(true)),
                Some("no") => Some(AnswerValue::Bool(false)),
                Some(other) => return Err(AnswerError::UnknownOption(other.to_owned())),
            }
        }
        (Kind::MultipleChoice(_), Input::Checked(ids)) => {
            (!ids.is_empty()).then_some(AnswerValue::List(ids))
        }
        (Kind::Number { .. }, Input::Text(s)) => {
            let s = s.trim();
            if s.is_empty() {
                None
            } else {
                let (group, point) = if comma_decimal {
                    ('.', ',')
                } else {
                    (',', '.')
                };
                let mut plain = String::with_capacity(s.len());
                for c in s.chars() {
                    if c == point {
                        plain.push('.');
                    } else if c != group && c != '_' && c != ' ' {
                        plain.push(c);
                    }
                }
                let n = parse_decimal(&plain).ok_or(AnswerError::NotANumber)?;
                // Kept to three decimals, so the lead document writes it exactly.
                Some(AnswerValue::Number(round(n * 1000.0) / 1000.0))
            }
        }
        (Kind::Text | Kind::Email | Kind::Phone, Input::Text(s)) => {
            // Pasted text may carry invisible characters: they go, so what the inbox shows
            // is what was typed (`ceo\u{202e}oi.live@acme.io` would read reversed).
            let strict = !matches!(q.kind, Kind::Text);
            let mut kept = String::with_capacity(s.len());
            for c in s.chars() {
                if !hidden(c, strict) {
                    kept.push(c);
                }
            }
            let s = kept;
            let s = s.trim();
            (!s.is_empty()).then(|| AnswerValue::Text(s.to_owned()))
        }
        (Kind::SingleChoice(_) | Kind::YesNo(_), _) => {
            return Err(AnswerError::WrongType {
                expected: "one option",
            })
        }
        (Kind::MultipleChoice(_), _) => {
            return Err(AnswerError::WrongType {
                expected: "options",
            })
        }
        (Kind::Consent, _) => {
            return Err(AnswerError::WrongType {
                expected: "a checkbox",
            })
        }
        (_, _) => return Err(AnswerError::WrongType { expected: "a text" }),
    };
    match value {
        Some(value) => check_value(q, &value).map(|()| Some(value)),
        None if q.required => Err(match q.kind {
            Kind::SingleChoice(_) | Kind::MultipleChoice(_) | Kind::YesNo(_) => AnswerError::Choose,
            _ => AnswerError::Required,
        }),
        None => Ok(None),
    }
}

/// The answers known about one visitor, each checked against the form.
///
/// The only ways in are [`Answers::set`] and [`Answers::from_values`], so every stored value
/// fits its question.
///
/// It also records which questions were asked on this visit ([`Answers::set_asked`]), which
/// tells a question the visitor skipped from one not asked yet.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Answers {
    values: Map<String, AnswerValue>,
    asked: Option<Vec<String>>,
}

impl AnswerValue {
    /// Reads a stored answer value (as written by [`Answers::to_json`]).
    pub fn from_value(value: &Value) -> Option<AnswerValue> {
        Some(match value {
            Value::Bool(b) => AnswerValue::Bool(*b),
            Value::Number(n) => AnswerValue::Number(*n),
            Value::String(s) => AnswerValue::Text(s.clone()),
            Value::Array(items) => {
                let mut list = Vec::with_capacity(items.len());
                for item in items {
                    match item {
                        Value::String(s) => list.push(s.clone()),
                        _ => return None,
                    }
                }
                AnswerValue::List(list)
            }
            _ => return None,
        })
    }

    pub(crate) fn write(&self, w: &mut JsonWriter, key: Option<&str>) {
        match self {
            AnswerValue::Bool(b) => w.bool(key, *b),
            AnswerValue::Number(n) => w.number(key, *n),
            AnswerValue::Text(t) => w.string(key, t),
            AnswerValue::List(items) => {
                w.begin_array(key);
                for item in items {
                    w.string(None, item);
                }
                w.end_array();
            }
        }
    }
}

impl Answers {
    /// The answers as a JSON object, for keeping between visits.
    pub fn to_json(&self) -> String {
        let mut w = JsonWriter::new();
        w.begin_object(None);
        for (id, value) in &self.values {
            value.write(&mut w, Some(id));
        }
        w.end_object();
        w.finish()
    }

    /// Reads answers kept by [`Answers::to_json`], keeping those that still fit the form
    /// (the form may have changed since); returns them and how many were dropped.
    pub fn from_stored(form: &Form, value: &Value) -> (Answers, usize) {
        let mut answers = Answers::new();
        let mut dropped = 0;
        if let Value::Object(entries) = value {
            for (id, v) in entries {
                match (form.question(id), AnswerValue::from_value(v)) {
                    (Some(q), Some(v)) if check_value(q, &v).is_ok() => {
                        answers.values.insert(id.clone(), v);
                    }
                    _ => dropped += 1,
                }
            }
        } else {
            dropped += 1;
        }
        (answers, dropped)
    }

    /// No answers.
    pub fn new() -> Answers {
        Answers::default()
    }

    /// Checks stored values (from the collector's request or the visitor's profile).
    ///
    /// # Errors
    /// The id of the first bad answer and why.
    pub fn from_values(
        form: &Form,
        values: Map<String, AnswerValue>,
    ) -> Result<Answers, (String, AnswerError)> {
        for (id, value) in &values {
            let q = form
                .question(id)
                .ok_or_else(|| (id.clone(), AnswerError::UnknownQuestion(id.clone())))?;
            check_value(q, value).map_err(|e| (id.clone(), e))?;
        }
        Ok(Answers {
            values,
            asked: None,
        })
    }

    /// Records the questions asked on this visit, answered or not. A question asked and left
    /// without an answer is *skipped*: it scores its `unanswered` points and counts in its
    /// category's maximum. A question neither answered nor asked is *not asked yet*: unknown,
    /// it leaves the total alone. Without this record every question without an answer counts
    /// as skipped, as leads were scored before the record existed.
    ///
    /// # Errors
    /// [`AnswerError::UnknownQuestion`] for an id that is not a question of the form.
    pub fn set_asked(&mut self, form: &Form, ids: Vec<String>) -> Result<(), AnswerError> {
        if let Some(id) = ids.iter().find(|id| form.question(id).is_none()) {
            return Err(AnswerError::UnknownQuestion(id.clone()));
        }
        self.asked = Some(ids);
        Ok(())
    }

    /// The questions asked on this visit, when recorded (see [`Answers::set_asked`]).
    pub fn asked(&self) -> Option<&[String]> {
        self.asked.as_deref()
    }

    /// Whether the question `id` was asked: on this visit, or at any time when the visit's
    /// questions are not recorded.
    pub fn was_asked(&self, id: &str) -> bool {
        self.asked
            .as_ref()
            .is_none_or(|asked| asked.iter().any(|a| a == id))
    }

    /// Records the input of one control: stores a valid value, forgets an empty optional one.
    ///
    /// # Errors
    /// An [`AnswerError`] when the question is unknown, the input is invalid, or a required
    /// question is empty; the previous answer is then kept.
    pub fn set(&mut self, form: &Form, id: &str, input: Input<'_>) -> Result<(), AnswerError> {
        let q = form
            .question(id)
            .ok_or_else(|| AnswerError::UnknownQuestion(id.to_owned()))?;
        let comma_decimal = form.decimal_comma();
        match parse_input(q, input, comma_decimal)? {
            Some(value) => self.values.insert(id.to_owned(), value),
            None => self.values.remove(id),
        };
        Ok(())
    }

    /// Forgets one answer.
    pub fn remove(&mut self, id: &str) {
        self.values.remove(id);
    }

    /// The answer to a question.
    pub fn get(&self, id: &str) -> Option<&AnswerValue> {
        self.values.get(id)
    }

    /// Whether a question has an answer.
    pub fn contains(&self, id: &str) -> bool {
        self.values.contains_key(id)
    }

    /// All answers by question id.
    pub fn values(&self) -> &Map<String, AnswerValue> {
        &self.values
    }

    /// How many questions are answered.
    pub fn len(&self) -> usize {
        self.values.len()
    }

    /// Whether nothing is answered.
    pub fn is_empty(&self) -> bool {
        self.values.is_empty()
    }
}

impl Form {
    /// Whether the question at `index` is shown, given the answers so far.
    ///
    /// A question without `showIf` is always shown. A condition on a hidden question is false
    /// unless it asks for "not answered".
    pub fn is_visible(&self, index: usize, answers: &Answers) -> bool {
        let Some(q) = self.questions.get(index) else {
            return false;
        };
        let Some(condition) = &q.show_if else {
            return true;
        };
        let target = condition.question();
        let value = if self.is_visible(target, answers) {
            answers.get(&self.questions[target].id)
        } else {
            None
        };
        let has = |ids: &[String]| match value {
            Some(AnswerValue::Text(id)) => ids.contains(id),
            Some(AnswerValue::List(chosen)) => chosen.iter().any(|c| ids.contains(c)),
            Some(AnswerValue::Bool(b)) => ids.iter().any(|id| id == if *b { "yes" } else { "no" }),
            _ => false,
        };
        match condition {
            Condition::Answered(_, want) => value.is_some() == *want,
            Condition::OneOf(_, ids) => has(ids),
            Condition::NoneOf(_, ids) => value.is_some() && !has(ids),
            Condition::AtLeast(_, n) => matches!(value, Some(AnswerValue::Number(v)) if v >= n),
            Condition::Below(_, n) => matches!(value, Some(AnswerValue::Number(v)) if v < n),
        }
    }
}

/// Exact powers of ten: dividing by one of them rounds correctly.
const POWERS_OF_TEN: [f64; 23] = [
    1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11, 1e12, 1e13, 1e14, 1e15, 1e16,
    1e17, 1e18, 1e19, 1e20, 1e21, 1e22,
];

/// Parses `[+|-]digits[.digits]` as people type numbers into a form, without the standard
/// library's float parser (which costs kilobytes of wasm). With at most 15 significant digits
/// and 22 decimals the result is the correctly rounded value (the "fast path" of float
/// parsing: both the digits and the power of ten are exact, and one division rounds once).
/// Anything else, exponents, `inf` and `NaN` included, is `None`.
pub(crate) fn parse_decimal(text: &str) -> Option<f64> {
    let (negative, digits) = match text.strip_prefix('-') {
        Some(rest) => (true, rest),
        None => (false, text.strip_prefix('+').unwrap_or(text)),
    };
    let (whole, fraction) = split_once_ascii(digits, b'.').unwrap_or((digits, ""));
    let fraction = trim_end_ascii(fraction, b'0');
    if whole.is_empty() && fraction.is_empty() && find_any(digits, b"0").is_none() {
        return None;
    }
    let mut mantissa: u64 = 0;
    for byte in whole.bytes().chain(fraction.bytes()) {
        // Past the limit it only grows; below it, ten times it plus a digit fits in a u64
        // (no checked_mul: its overflow test is a 128-bit multiplication in the widget).
        if !byte.is_ascii_digit() || mantissa > 999_999_999_999_999 {
            return None;
        }
        mantissa = mantissa * 10 + u64::from(byte - b'0');
    }
    if mantissa > 999_999_999_999_999 {
        return None;
    }
    let n = mantissa as f64 / *POWERS_OF_TEN.get(fraction.len())?;
    Some(if negative { -n } else { n })
}

#[cfg(test)]
mod tests {

    #[test]
    fn invisible_and_direction_changing_characters_never_reach_a_lead() {
        let form =
            crate::parse_config(serde_json::json!({"formId": "f", "preset": "bant"})).unwrap();
        let mut answers = Answers::new();
        answers
            .set(
                &form,
                "email",
                Input::Text("ceo\u{202e}oi.live@acme.io\u{200b}"),
            )
            .unwrap();
        answers
            .set(
                &form,
                "company",
                Input::Text("\u{2067}Acme\u{2069} \u{200d}"),
            )
            .unwrap();
        assert_eq!(
            answers.get("email"),
            Some(&AnswerValue::Text("ceooi.live@acme.io".into()))
        );
        // A joiner stays in plain text (scripts and emoji need it), not in an email.
        assert_eq!(
            answers.get("company"),
            Some(&AnswerValue::Text("Acme \u{200d}".into()))
        );
        // A forged lead that carries them is refused by the same rules.
        let mut forged = crate::Map::new();
        forged.insert(
            "email".to_owned(),
            AnswerValue::Text("ceo\u{202e}oi.live@acme.io".into()),
        );
        assert_eq!(
            Answers::from_values(&form, forged).map(|_| ()),
            Err(("email".to_owned(), AnswerError::Hidden))
        );
    }
    use super::*;

    fn form() -> Form {
        let config = crate::config::test_config(
            r#"{"formId":"t","preset":"bant","questions":[
                {"id":"phone","kind":"phone","label":"Phone"},
                {"id":"tools","kind":"multipleChoice","label":"Tools","options":[{"id":"a","label":"A"},{"id":"b","label":"B"}]},
                {"id":"trial","kind":"yesNo","label":"Trial?"}
            ]}"#,
        )
        .unwrap();
        Form::from_config(config).unwrap()
    }

    fn check(id: &str, input: Input<'_>, expected: Result<Option<AnswerValue>, AnswerError>) {
        let form = form();
        let mut answers = Answers::new();
        let got = answers
            .set(&form, id, input.clone())
            .map(|()| answers.get(id).cloned());
        assert_eq!(got, expected, "question {id}, input {input:?}");
    }

    #[test]
    fn inputs_become_values_or_errors() {
        use AnswerValue as V;
        check(
            "email",
            Input::Text(" ann@acme.io "),
            Ok(Some(V::Text("ann@acme.io".into()))),
        );
        check("email", Input::Text("ann@acme"), Err(AnswerError::Email));
        check(
            "email",
            Input::Text("ann acme@x.io"),
            Err(AnswerError::Email),
        );
        check("email", Input::Text("a@@x.io"), Err(AnswerError::Email));
        check("email", Input::Text(""), Err(AnswerError::Required));
        check("phone", Input::Text(""), Ok(None));
        check(
            "phone",
            Input::Text("+49 (30) 123-4567"),
            Ok(Some(V::Text("+49 (30) 123-4567".into()))),
        );
        check("phone", Input::Text("12"), Err(AnswerError::Phone));
        check(
            "phone",
            Input::Text("+1 555 12+34"),
            Err(AnswerError::Phone),
        );
        check("phone", Input::Text("call me"), Err(AnswerError::Phone));
        check(
            "headcount",
            Input::Text("1,200"),
            Ok(Some(V::Number(1200.0))),
        );
        check(
            "headcount",
            Input::Text("lots"),
            Err(AnswerError::NotANumber),
        );
        check(
            "headcount",
            Input::Text("0"),
            Err(AnswerError::OutOfRange { min: 1.0, max: 1e6 }),
        );
        check("headcount", Input::Text(""), Err(AnswerError::Required));
        check(
            "budget",
            Input::Checked(vec!["10k-50k".into()]),
            Ok(Some(V::Text("10k-50k".into()))),
        );
        check("budget", Input::Checked(vec![]), Err(AnswerError::Choose));
        check(
            "budget",
            Input::Checked(vec!["1m".into()]),
            Err(AnswerError::UnknownOption("1m".into())),
        );
        check(
            "tools",
            Input::Checked(vec!["a".into(), "b".into()]),
            Ok(Some(V::List(vec!["a".into(), "b".into()]))),
        );
        check(
            "tools",
            Input::Checked(vec!["a".into(), "a".into()]),
            Err(AnswerError::RepeatedOption("a".into())),
        );
        check("tools", Input::Checked(vec![]), Ok(None));
        check(
            "trial",
            Input::Checked(vec!["no".into()]),
            Ok(Some(V::Bool(false))),
        );
        check("consent", Input::Flag(true), Ok(Some(V::Bool(true))));
        check(
            "consent",
            Input::Flag(false),
            Err(AnswerError::ConsentRequired),
        );
        check(
            "company",
            Input::Text(&"x".repeat(201)),
            Err(AnswerError::TooLong { max: 200 }),
        );
        check(
            "nope",
            Input::Text("x"),
            Err(AnswerError::UnknownQuestion("nope".into())),
        );
        check(
            "budget",
            Input::Text("x"),
            Err(AnswerError::WrongType {
                expected: "one option",
            }),
        );
    }

    #[test]
    fn a_rejected_input_keeps_the_previous_answer() {
        let form = form();
        let mut answers = Answers::new();
        answers
            .set(&form, "email", Input::Text("ann@acme.io"))
            .unwrap();
        assert!(answers.set(&form, "email", Input::Text("nope")).is_err());
        assert_eq!(
            answers.get("email"),
            Some(&AnswerValue::Text("ann@acme.io".into()))
        );
    }

    #[test]
    fn stored_values_are_checked() {
        let form = form();
        let mut values = Map::new();
        values.insert("budget".to_owned(), AnswerValue::Number(3.0));
        assert_eq!(
            Answers::from_values(&form, values).unwrap_err(),
            (
                "budget".to_owned(),
                AnswerError::WrongType {
                    expected: "an option id"
                }
            )
        );
        let mut values = Map::new();
        values.insert("ghost".to_owned(), AnswerValue::Bool(true));
        assert_eq!(
            Answers::from_values(&form, values).unwrap_err().1,
            AnswerError::UnknownQuestion("ghost".into())
        );
    }

    #[test]
    fn numbers_format_without_float_printing() {
        let cases = [
            (0.0, "0"),
            (12.0, "12"),
            (-3.5, "-3.5"),
            (0.125, "0.125"),
            (2.0004, "2"),
            (1e6, "1000000"),
        ];
        for (n, want) in cases {
            assert_eq!(format_number(n), want, "{n}");
        }
        assert_eq!(format_number(1e300), "∞");
    }

    #[test]
    fn stored_answers_round_trip_and_unfit_ones_are_dropped() {
        let form = form();
        let mut answers = Answers::new();
        answers
            .set(&form, "company", Input::Text("Quote \" Inc"))
            .unwrap();
        answers
            .set(&form, "tools", Input::Checked(vec!["a".into(), "b".into()]))
            .unwrap();
        answers
            .set(&form, "headcount", Input::Text("12.5"))
            .unwrap();
        answers
            .set(&form, "trial", Input::Checked(vec!["yes".into()]))
            .unwrap();
        let value: Value = serde_json::from_str(&answers.to_json()).unwrap();
        assert_eq!(Answers::from_stored(&form, &value), (answers, 0));
        let stale: Value =
            serde_json::from_str(r#"{"budget": "1m", "ghost": true, "company": "Acme"}"#).unwrap();
        let (kept, dropped) = Answers::from_stored(&form, &stale);
        assert_eq!((kept.len(), dropped), (1, 2));
    }

    #[test]
    fn messages_fill_in_bounds() {
        let texts = Texts::builtin("en").unwrap();
        assert_eq!(
            AnswerError::OutOfRange {
                min: 1.0,
                max: 500.0
            }
            .message(&texts),
            "Please enter a number from 1 to 500."
        );
        assert_eq!(
            AnswerError::TooLong { max: 20 }.message(&texts),
            "Please use at most 20 characters."
        );
    }

    #[test]
    fn numbers_follow_the_forms_locale_separators() {
        let number = |locale: &str, text: &str| {
            let config = crate::config::test_config(&format!(
                r#"{{"formId":"t","locale":"{locale}","questions":[{{"id":"n","kind":"number","label":"N","ranges":[{{"min":0,"points":1}}]}}]}}"#
            ))
            .unwrap();
            let form = Form::from_config(config).unwrap();
            let mut answers = Answers::new();
            answers
                .set(&form, "n", Input::Text(text))
                .map(|()| answers.get("n").cloned())
        };
        for (locale, text, want) in [
            ("en", "1,234.5", 1234.5),
            ("en", "1 200", 1200.0),
            ("de", "1.234,5", 1234.5),
            ("de", "2,5", 2.5),
            ("de-AT", "1 200", 1200.0),
        ] {
            assert_eq!(
                number(locale, text),
                Ok(Some(AnswerValue::Number(want))),
                "{locale} {text}"
            );
        }
        assert_eq!(number("de", "1,2,3"), Err(AnswerError::NotANumber));
    }

    #[test]
    fn decimals_parse_as_people_type_them() {
        for (text, want) in [
            ("42", Some(42.0)),
            ("+42", Some(42.0)),
            ("-3.25", Some(-3.25)),
            ("0.1", Some(0.1)),
            (".5", Some(0.5)),
            ("7.", Some(7.0)),
            ("0", Some(0.0)),
            (".0", Some(0.0)),
            ("1.500000000000000000000000000", Some(1.5)),
            ("999999999999999", Some(999_999_999_999_999.0)),
            ("1000000000000000", None),
            ("", None),
            (".", None),
            ("-", None),
            ("1e3", None),
            ("inf", None),
            ("NaN", None),
            ("1.2.3", None),
            ("12a", None),
        ] {
            assert_eq!(parse_decimal(text), want, "{text:?}");
        }
    }

    proptest::proptest! {
        /// The one-pass phone check decides as the rule reads: 6-15 digits, only `+`, spaces,
        /// dots, dashes and brackets besides, and a `+` only first.
        #[test]
        fn phones_are_checked_as_the_rule_reads(s in "[0-9+ ().x-]{0,20}|[0-9 +]{0,3}[0-9]{5,10}[+ ]?") {
            let rule = {
                let digits = s.chars().filter(char::is_ascii_digit).count();
                (6..=15).contains(&digits)
                    && s.chars().all(|c| c.is_ascii_digit() || "+ -.()".contains(c))
                    && !s.chars().skip(1).any(|c| c == '+')
            };
            proptest::prop_assert_eq!(is_phone(&s), rule, "{:?}", s);
        }

        /// Within its limits, the small parser agrees bit for bit with the standard library's.
        #[test]
        fn decimals_agree_with_the_standard_parser(
            negative: bool,
            whole in 0u64..1_000_000_000,
            fraction in 0u64..1_000_000,
            decimals in 0usize..7,
        ) {
            let text = format!(
                "{}{whole}.{:0>width$}",
                if negative { "-" } else { "" },
                fraction % 10u64.pow(decimals as u32),
                width = decimals
            );
            let want: f64 = text.parse().unwrap();
            proptest::prop_assert_eq!(parse_decimal(&text).map(f64::to_bits), Some(want.to_bits()), "{}", text);
        }
    }
}
