//! The form config as marketers write it (JSON, camelCase) and its one-time validation into a
//! [`Form`].

use crate::map::{Ids, Map};
use crate::prelude::*;

use crate::answer::format_number;
use crate::context::{SpamAction, SpamRules};
use crate::delivery::{
    salesforce_length, standard_target, Delivery, Format, ValueMap, FORM_OWN_FIELDS,
    SALESFORCE_FIELDS,
};
use crate::form::{
    Category, Choice, Condition, Direction, Form, Grade, Kind, Question, Range, Scoring, Signal,
    SignalInput, ThankYou, ThankYouLink,
};
use crate::preset;
use crate::texts::{language, resolve, same_tag, Texts, TextsConfig, BUILTIN_LOCALES};
use crate::value::Value;

/// Largest absolute number of points one option, range or answer may carry.
const MAX_POINTS: i32 = 1000;
/// Longest text answer any question may accept.
const MAX_TEXT_LENGTH: usize = 2000;
/// Longest form title, in characters.
const MAX_TITLE: usize = 120;
/// Longest form introduction, in characters.
const MAX_INTRO: usize = 500;
/// What a language tag looks like, for messages.
const TAG_SHAPE: &str = "a language tag such as \"de\" or \"pt-BR\" (2-3 letters, then optional parts of 1-8 letters or digits after '-', at most 35 characters)";
/// Theme keys a config may set, mapped to CSS custom properties `--bantam-<key>`.
const THEME_KEYS: [&str; 9] = [
    "accent",
    "accentText",
    "text",
    "background",
    "border",
    "error",
    "radius",
    "fontFamily",
    "scheme",
];

/// Why a config was rejected. Every message starts with the path of the culprit.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum ConfigError {
    /// The config does not have the expected shape: an unknown field, a wrong type, a missing
    /// required field (reported by the deserializer).
    #[error("{path}: {message}")]
    Syntax {
        /// Where in the config, such as `questions[2].options[1].points`.
        path: String,
        /// What the deserializer said.
        message: String,
    },
    /// A field that this question needs is missing.
    #[error("{path}: question \"{question}\" needs a `{field}`")]
    Missing {
        /// Where in the config.
        path: String,
        /// The question id.
        question: String,
        /// The missing field's name.
        field: &'static str,
    },
    /// Two questions share an id.
    #[error("{path}: question id \"{id}\" appears twice")]
    DuplicateQuestion {
        /// Where in the config.
        path: String,
        /// The repeated id.
        id: String,
    },
    /// Two options of one question share an id.
    #[error("{path}: question \"{question}\": option \"{option}\" appears twice")]
    DuplicateOption {
        /// Where in the config.
        path: String,
        /// The question id.
        question: String,
        /// The repeated option id.
        option: String,
    },
    /// A choice question has no options.
    #[error("{path}: question \"{question}\" needs at least one option")]
    EmptyOptions {
        /// Where in the config.
        path: String,
        /// The question id.
        question: String,
    },
    /// Points outside the accepted range.
    #[error("{path}: points {points} are outside -{MAX_POINTS}..={MAX_POINTS}")]
    BadPoints {
        /// Where in the config.
        path: String,
        /// The rejected value.
        points: i32,
    },
    /// Grade thresholds are not strictly descending or do not end at 0.
    #[error("{path}: {reason}")]
    Thresholds {
        /// Where in the config.
        path: String,
        /// What is wrong with the order.
        reason: String,
    },
    /// A `showIf` condition names a question that does not exist or does not come earlier.
    #[error("{path}: question \"{question}\" shows if \"{target}\", which {reason}")]
    ConditionTarget {
        /// Where in the config.
        path: String,
        /// The question with the condition.
        question: String,
        /// The question the condition names.
        target: String,
        /// Why the target cannot be used.
        reason: &'static str,
    },
    /// Any other invalid value, with a specific reason.
    #[error("{path}: {reason}")]
    Invalid {
        /// Where in the config.
        path: String,
        /// What is wrong.
        reason: String,
    },
}

impl ConfigError {
    /// The path of the culprit in the config, such as `questions[2].options[1].points`.
    pub fn path(&self) -> &str {
        match self {
            ConfigError::Syntax { path, .. }
            | ConfigError::Missing { path, .. }
            | ConfigError::DuplicateQuestion { path, .. }
            | ConfigError::DuplicateOption { path, .. }
            | ConfigError::EmptyOptions { path, .. }
            | ConfigError::BadPoints { path, .. }
            | ConfigError::Thresholds { path, .. }
            | ConfigError::ConditionTarget { path, .. }
            | ConfigError::Invalid { path, .. } => path,
        }
    }
}

fn invalid(path: impl Into<String>, reason: impl Into<String>) -> ConfigError {
    ConfigError::Invalid {
        path: path.into(),
        reason: reason.into(),
    }
}

/// A question kind as written in config.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KindName {
    /// One option.
    SingleChoice,
    /// Several options.
    MultipleChoice,
    /// A number scored by ranges.
    Number,
    /// Yes or no.
    YesNo,
    /// Short text.
    Text,
    /// Email address.
    Email,
    /// Phone number.
    Phone,
    /// Consent checkbox.
    Consent,
}

/// The whole form config. Every field but `formId` is optional.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct FormConfig {
    /// The form id recorded in every lead (letters, digits, `-`, `_`).
    pub form_id: String,
    /// A ready form to start from; only `bant` exists.
    pub preset: Option<String>,
    /// Where leads are posted; defaults to `/v1/leads` on the page's origin.
    pub endpoint: Option<String>,
    /// The form's language: a built-in locale (`en`, `de`, `fr`, `es`), any other language tag
    /// (whose built-in texts are English), or `auto` to follow the page; defaults to `en`.
    pub locale: Option<String>,
    /// Overrides of the interface texts.
    pub texts: Option<TextsConfig>,
    /// A heading above the first step (at most 120 characters).
    pub title: Option<String>,
    /// An introduction above the first step (at most 500 characters).
    pub intro: Option<String>,
    /// Text overrides per locale tag, applied when the form is shown in that locale; with
    /// `auto`, each key is also a locale the page may pick.
    pub translations: Map<String, TranslationConfig>,
    /// New questions, or overrides of preset questions with the same id.
    pub questions: Vec<QuestionConfig>,
    /// Preset question ids to drop.
    pub remove_questions: Vec<String>,
    /// Weight of each category in the total.
    pub weights: Option<WeightsConfig>,
    /// Grades from best to worst.
    pub grades: Option<Vec<GradeConfig>>,
    /// Most questions asked in one visit; defaults to 6.
    pub max_questions_per_visit: Option<usize>,
    /// Questions per step; defaults to 3.
    pub questions_per_step: Option<usize>,
    /// The thank-you step.
    pub thank_you: Option<ThankYouConfig>,
    /// Thank-you steps by grade name, such as a "book a call" link for `hot`.
    pub thank_you_by_grade: Map<String, ThankYouConfig>,
    /// Theme colours and shapes, set as CSS custom properties.
    pub theme: Map<String, String>,
    /// The body format and field names for the endpoint; defaults to the JSON lead document.
    pub delivery: Option<DeliveryConfig>,
    /// Spam protection; defaults to a honeypot, 3 s minimum fill time, and flagging.
    pub spam: Option<SpamConfig>,
    /// A variant name recorded in each lead's context (the page may override it at mount).
    pub variant: Option<String>,
    /// How points become the total; defaults to category shares.
    pub scoring: Option<ScoringConfig>,
    /// What a lead says without being asked, scored like questions.
    pub signals: Vec<SignalConfig>,
}

/// How points become the total, as written in config.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ScoringConfig {
    /// `shares` (the default) or `sum`.
    pub mode: Option<ScoringMode>,
    /// For `sum`: added to the points (default 0).
    pub offset: Option<i32>,
}

/// A scoring mode as written in config.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ScoringMode {
    /// Weighted category shares (see [`Scoring::Shares`]).
    Shares,
    /// Offset plus points (see [`Scoring::Sum`]).
    Sum,
}

/// A signal as written in config: `{id, input, shortLabel?, category?, values?, other?, none?}`.
#[derive(Debug, Clone, PartialEq)]
pub struct SignalConfig {
    /// Stable id (letters, digits, `-`, `_`), not also a question's.
    pub id: String,
    /// What it reads.
    pub input: SignalInput,
    /// Name used in reasons; defaults to the id.
    pub short_label: Option<String>,
    /// Breakdown category; defaults to `fit`.
    pub category: Option<Category>,
    /// Points by value, in config order.
    pub values: Vec<(String, i32)>,
    /// Points for a value not in `values` (default 0).
    pub other: Option<i32>,
    /// Points when the lead has no value for the input (default 0).
    pub none: Option<i32>,
}

/// The texts of a config in one more language: every field overrides its counterpart of the
/// config (and of the preset) when the form is shown in this locale.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct TranslationConfig {
    /// Interface texts.
    pub texts: Option<TextsConfig>,
    /// The form title.
    pub title: Option<String>,
    /// The form introduction.
    pub intro: Option<String>,
    /// The thank-you step's texts (and link).
    pub thank_you: ThankYouConfig,
    /// Thank-you steps by grade name.
    pub thank_you_by_grade: Map<String, ThankYouConfig>,
    /// Question texts by question id.
    pub questions: Vec<QuestionTranslationConfig>,
}

/// The texts of one question in a [`TranslationConfig`].
#[derive(Debug, Clone, Default, PartialEq)]
pub struct QuestionTranslationConfig {
    /// The id of the question of the form.
    pub id: String,
    /// The question text (for `consent`, the consent text).
    pub label: Option<String>,
    /// Help text under the label.
    pub help: Option<String>,
    /// Placeholder text.
    pub placeholder: Option<String>,
    /// Short name used in reasons.
    pub short_label: Option<String>,
    /// Option labels by option id.
    pub options: Option<Vec<(String, String)>>,
    /// Range labels, by position.
    pub ranges: Option<Vec<String>>,
}

/// A field name in config that may be switched off with `null`.
#[derive(Debug, Clone, PartialEq)]
pub enum FieldName {
    /// Send under this name.
    Name(String),
    /// Leave out.
    Off,
}

/// How leads are encoded for the endpoint, as written in config.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct DeliveryConfig {
    /// `json` (default), `hubspot`, `salesforce` or `form`.
    pub format: Option<Format>,
    /// Question id → field name at the endpoint.
    pub fields: Map<String, String>,
    /// The field for the score total; defaults to `bantam_score` (for `salesforce`, to none),
    /// `null` leaves it out.
    pub score_field: Option<FieldName>,
    /// The field for the grade name; defaults to `bantam_grade` (for `salesforce`, to none),
    /// `null` leaves it out.
    pub grade_field: Option<FieldName>,
    /// Salesforce organisation id (`oid`); required for `salesforce`.
    pub salesforce_oid: Option<String>,
    /// Question id → how its answers become the endpoint's values.
    pub values: Map<String, ValueMap>,
    /// A Bantam collector's lead URL that receives the lead document when the endpoint refuses
    /// the lead for good.
    pub fallback: Option<String>,
}

/// Spam protection as written in config.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct SpamConfig {
    /// Whether to add the hidden honeypot field; default `true`.
    pub honeypot: Option<bool>,
    /// Submissions faster than this many seconds are caught; default 3, 0 turns it off.
    pub min_fill_seconds: Option<f64>,
    /// `flag` (default: send with `spam.flagged`) or `drop` (do not send).
    pub action: Option<SpamAction>,
}

/// One question in config. Only `id` is always required; the rest may come from the preset.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct QuestionConfig {
    /// Stable id (letters, digits, `-`, `_`).
    pub id: String,
    /// The kind of control.
    pub kind: Option<KindName>,
    /// The question text.
    pub label: Option<String>,
    /// Help text under the label.
    pub help: Option<String>,
    /// Short name used in reasons.
    pub short_label: Option<String>,
    /// Breakdown category; defaults to `contact` for contact kinds and `fit` otherwise.
    pub category: Option<Category>,
    /// Lower is asked first; defaults to the position in the form.
    pub priority: Option<i32>,
    /// Must be answered; defaults to false.
    pub required: Option<bool>,
    /// Show only when this holds.
    pub show_if: Option<ConditionConfig>,
    /// Options of choice and yes/no questions.
    pub options: Option<Vec<OptionConfig>>,
    /// Point ranges of number questions.
    pub ranges: Option<Vec<RangeConfig>>,
    /// Smallest number accepted.
    pub min: Option<f64>,
    /// Largest number accepted.
    pub max: Option<f64>,
    /// Points for any answer to a text, email, phone or consent question.
    pub points: Option<i32>,
    /// Placeholder text.
    pub placeholder: Option<String>,
    /// Longest accepted text; defaults to 200.
    pub max_length: Option<usize>,
    /// Points when the question is asked and left without an answer; defaults to 0.
    pub unanswered: Option<i32>,
}

/// One option in config.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct OptionConfig {
    /// Stable id, stored in answers.
    pub id: String,
    /// Text shown; for yes/no options defaults to the locale's "Yes"/"No".
    pub label: String,
    /// Points when chosen; defaults to 0.
    pub points: Option<i32>,
    /// The best grade a lead choosing this can get (a disqualifier).
    pub cap_grade: Option<String>,
}

/// One range of a number question in config.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct RangeConfig {
    /// Smallest value in the range.
    pub min: f64,
    /// Largest value; leave out for open-ended.
    pub max: Option<f64>,
    /// Points for a value in the range.
    pub points: i32,
    /// Text used in reasons; defaults to `min–max`.
    pub label: Option<String>,
    /// The best grade a value in this range can get.
    pub cap_grade: Option<String>,
}

/// A `showIf` condition in config: `question` plus exactly one operator.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ConditionConfig {
    /// The earlier question to look at.
    pub question: String,
    /// Answered (`true`) or not (`false`).
    pub answered: Option<bool>,
    /// The answer is this option id (or `yes`/`no`).
    pub equals: Option<String>,
    /// The answer is one of these option ids.
    pub one_of: Option<Vec<String>>,
    /// The answer is given and none of these option ids.
    pub none_of: Option<Vec<String>>,
    /// A number answer is at least this.
    pub at_least: Option<f64>,
    /// A number answer is below this.
    pub below: Option<f64>,
}

/// Category weights in config; left-out categories keep their defaults.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct WeightsConfig {
    /// Default 30.
    pub budget: Option<u32>,
    /// Default 25.
    pub authority: Option<u32>,
    /// Default 15.
    pub need: Option<u32>,
    /// Default 20.
    pub timeframe: Option<u32>,
    /// Default 10.
    pub fit: Option<u32>,
    /// Default 0.
    pub contact: Option<u32>,
}

/// One grade in config.
#[derive(Debug, Clone, PartialEq)]
pub struct GradeConfig {
    /// Machine name, such as `hot`.
    pub name: String,
    /// Text for people; defaults to the name with a capital letter.
    pub label: Option<String>,
    /// Lowest total (0-100) for this grade.
    pub min: u8,
}

/// A thank-you step in config.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ThankYouConfig {
    /// Heading; defaults to the locale's text.
    pub title: Option<String>,
    /// Body; defaults to the locale's text.
    pub body: Option<String>,
    /// Link text for a call to action.
    pub link_text: Option<String>,
    /// Link URL (http, https, mailto, or a path on this site).
    pub link_url: Option<String>,
    /// Open the link in a new tab; default `false`.
    pub link_new_tab: Option<bool>,
    /// An `https` page to show in a frame on the thank-you step (a scheduler).
    pub embed_url: Option<String>,
}

/// Deserializes a config from any serde format and validates it, for a page without language
/// preferences (`"locale": "auto"` gives English): [`parse_config_for`] with none.
///
/// The collector and the tests pass a `serde_json` value; the widget builds a [`Value`] from
/// the JS object itself and calls [`Form::from_value_for`].
///
/// # Errors
/// [`ConfigError::Syntax`] with the path of the offending field when the shape is wrong,
/// or any other [`ConfigError`] from [`Form::from_config`].
#[cfg(feature = "serde")]
pub fn parse_config<'de, D: serde::Deserializer<'de>>(
    deserializer: D,
) -> Result<Form, ConfigError> {
    parse_config_for(deserializer, &[])
}

/// Deserializes a config from any serde format and validates it for a page whose languages
/// are `preferred`, best first (see [`Form::from_config_for`]). A collector re-scoring a lead
/// passes the lead's `locale`.
///
/// # Errors
/// As [`parse_config`].
#[cfg(feature = "serde")]
pub fn parse_config_for<'de, D: serde::Deserializer<'de>>(
    deserializer: D,
    preferred: &[&str],
) -> Result<Form, ConfigError> {
    let value = <Value as serde::Deserialize>::deserialize(deserializer).map_err(|err| {
        ConfigError::Syntax {
            path: "config".into(),
            message: err.to_string(),
        }
    })?;
    Form::from_value_for(value, preferred)
}

/// Parses a JSON config for unit tests.
#[cfg(test)]
pub(crate) fn test_config(json: &str) -> Result<FormConfig, ConfigError> {
    let value: Value = serde_json::from_str(json).expect("test config is JSON");
    FormConfig::from_value(value)
}

/// A question during validation, with the config path it came from.
struct Draft {
    path: String,
    config: QuestionConfig,
    /// The options and ranges are the preset's: a grade cap they name that the config's grades
    /// lack means the lowest grade, so custom grades keep the preset's disqualifiers.
    preset_caps: bool,
}

fn merge(base: QuestionConfig, over: QuestionConfig) -> QuestionConfig {
    QuestionConfig {
        id: over.id,
        kind: over.kind.or(base.kind),
        label: over.label.or(base.label),
        help: over.help.or(base.help),
        short_label: over.short_label.or(base.short_label),
        category: over.category.or(base.category),
        priority: over.priority.or(base.priority),
        required: over.required.or(base.required),
        show_if: over.show_if.or(base.show_if),
        options: over.options.or(base.options),
        ranges: over.ranges.or(base.ranges),
        min: over.min.or(base.min),
        max: over.max.or(base.max),
        points: over.points.or(base.points),
        placeholder: over.placeholder.or(base.placeholder),
        max_length: over.max_length.or(base.max_length),
        unanswered: over.unanswered.or(base.unanswered),
    }
}

fn check_id(path: &str, what: &str, id: &str) -> Result<(), ConfigError> {
    let ok = !id.is_empty()
        && id.len() <= 64
        && id
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_');
    if ok {
        Ok(())
    } else {
        Err(invalid(
            path,
            // Joined, not formatted: the lean widget module checks a page's variant with this.
            crate::value::concat(&[
                what,
                " \"",
                id,
                "\" must be 1-64 letters, digits, '-' or '_'",
            ]),
        ))
    }
}

impl Form {
    /// Sets the variant recorded in each lead's context (the page's choice wins over the
    /// config's).
    ///
    /// # Errors
    /// [`ConfigError::Invalid`] at path `variant` unless it is 1-64 letters, digits, `-`, `_`.
    pub fn set_variant(&mut self, variant: &str) -> Result<(), ConfigError> {
        check_id("variant", "variant", variant)?;
        self.variant = Some(variant.to_owned());
        Ok(())
    }
}

fn check_points(path: String, points: i32) -> Result<i32, ConfigError> {
    if (-MAX_POINTS..=MAX_POINTS).contains(&points) {
        Ok(points)
    } else {
        Err(ConfigError::BadPoints { path, points })
    }
}

fn check_text(path: &str, text: &str) -> Result<(), ConfigError> {
    if text.trim().is_empty() {
        Err(invalid(path, "must not be empty"))
    } else {
        Ok(())
    }
}

/// An optional text that, when given, is not empty and has at most `max` characters.
fn check_length(path: &str, text: Option<&str>, max: usize) -> Result<(), ConfigError> {
    let Some(text) = text else {
        return Ok(());
    };
    check_text(path, text)?;
    let length = text.chars().count();
    if length > max {
        return Err(invalid(
            path,
            format!("must be at most {max} characters, not {length}"),
        ));
    }
    Ok(())
}

/// A BCP 47-style language tag: a language of 2-3 letters, then parts of 1-8 letters or digits
/// after `-`. `_` is accepted too (and matches `-`), as configs wrote `de_DE` before tags were
/// checked.
fn check_tag(path: &str, tag: &str, or_auto: bool) -> Result<(), ConfigError> {
    let mut parts = tag.split(['-', '_']);
    let lang = parts.next().unwrap_or_default();
    let ok = tag.len() <= 35
        && (2..=3).contains(&lang.len())
        && lang.chars().all(|c| c.is_ascii_alphabetic())
        && parts
            .all(|p| (1..=8).contains(&p.len()) && p.chars().all(|c| c.is_ascii_alphanumeric()));
    if ok {
        Ok(())
    } else {
        let what = if or_auto {
            "neither \"auto\" nor"
        } else {
            "not"
        };
        Err(invalid(path, format!("\"{tag}\" is {what} {TAG_SHAPE}")))
    }
}

/// A field of question `id` at `path` that only questions of other kinds (`what`) have.
fn only_for(path: &str, id: &str, field: &str, what: &str) -> ConfigError {
    invalid(
        format!("{path}.{field}"),
        format!("question \"{id}\": `{field}` is only for {what} questions"),
    )
}

/// Accepts http(s) and mailto URLs and site paths; rejects `javascript:` and the like.
fn check_url(path: &str, url: &str) -> Result<(), ConfigError> {
    let lower = url.trim().to_ascii_lowercase();
    let ok = lower.starts_with("https://")
        || lower.starts_with("http://")
        || lower.starts_with("mailto:")
        || (lower.starts_with('/') && !lower.starts_with("//"));
    if ok {
        Ok(())
    } else {
        Err(invalid(
            path,
            format!("URL \"{url}\" must start with https://, http://, mailto: or /"),
        ))
    }
}

/// Longest field name accepted.
const MAX_FIELD_NAME: usize = 100;

/// Whether Salesforce Web-to-Lead knows the field `name`: a standard field, or a custom field's
/// id (15 or 18 letters and digits starting `00N`).
fn is_salesforce_field(name: &str) -> bool {
    SALESFORCE_FIELDS.contains(&name)
        || ((name.len() == 15 || name.len() == 18)
            && name.starts_with("00N")
            && name.chars().all(|c| c.is_ascii_alphanumeric()))
}

/// A field name at the endpoint: 1-100 characters, and for Salesforce a field it knows.
fn field_name(path: &str, name: &str, format: Format) -> Result<(), ConfigError> {
    if name.trim().is_empty() || name.len() > MAX_FIELD_NAME {
        return Err(invalid(
            path,
            format!("field name \"{name}\" must be 1-{MAX_FIELD_NAME} characters"),
        ));
    }
    if format == Format::Salesforce && !is_salesforce_field(name) {
        return Err(invalid(
            path,
            format!(
                "\"{name}\" is not a Salesforce Web-to-Lead field, and Salesforce drops unknown fields without a word; use a standard field ({}) or a custom field's id (15 or 18 letters and digits starting 00N)",
                SALESFORCE_FIELDS.join(", ")
            ),
        ));
    }
    Ok(())
}

/// Salesforce reads a Web-to-Lead body as UTF-8 only when the endpoint says `encoding=UTF-8`:
/// adds it when missing, rejects another encoding.
fn salesforce_endpoint(endpoint: &mut String) -> Result<(), ConfigError> {
    let Some((_, query)) = endpoint.split_once('?') else {
        endpoint.push_str("?encoding=UTF-8");
        return Ok(());
    };
    for pair in query.split('&') {
        let (key, value) = pair.split_once('=').unwrap_or((pair, ""));
        if key == "encoding" {
            return if value.eq_ignore_ascii_case("UTF-8") {
                Ok(())
            } else {
                Err(invalid(
                    "endpoint",
                    format!("encoding \"{value}\" garbles non-ASCII text, as Bantam sends UTF-8; use encoding=UTF-8 or leave it out (Bantam adds it)"),
                ))
            };
        }
    }
    if !matches!(endpoint.as_bytes().last(), Some(b'?' | b'&')) {
        endpoint.push('&');
    }
    endpoint.push_str("encoding=UTF-8");
    Ok(())
}

/// A value mapping fits its question: options for a choice, ascending entries for a number.
fn check_values(path: &str, q: &Question, map: &ValueMap) -> Result<(), ConfigError> {
    let id = &q.id;
    match (&q.kind, map) {
        (
            Kind::SingleChoice(choices) | Kind::MultipleChoice(choices) | Kind::YesNo(choices),
            ValueMap::Options(options),
        ) => {
            let known = Ids::new(choices.len(), &|i| &choices[i].id);
            for (option, value) in options {
                let at = format!("{path}.{option}");
                if known.get(option).is_none() {
                    return Err(invalid(
                        at,
                        format!("question \"{id}\" has no option \"{option}\""),
                    ));
                }
                check_text(&at, value)?;
            }
        }
        (Kind::Number { .. }, ValueMap::Bands(bands)) => {
            if bands.is_empty() {
                return Err(invalid(
                    path,
                    "needs at least one {\"min\": n, \"value\": \"text\"} entry",
                ));
            }
            for (i, band) in bands.iter().enumerate() {
                let at = format!("{path}[{i}]");
                if i > 0 && band.min <= bands[i - 1].min {
                    return Err(invalid(
                        format!("{at}.min"),
                        "must be above the previous entry's min; list entries in ascending order without duplicates",
                    ));
                }
                check_text(&format!("{at}.value"), &band.value)?;
            }
        }
        _ => {
            return Err(invalid(
                path,
                format!(
                    "question \"{id}\" is a {} question; values map a choice question's options with an object from option id to value, and a number question's numbers with an array of {{\"min\": n, \"value\": \"text\"}}",
                    q.kind.as_str()
                ),
            ))
        }
    }
    Ok(())
}

/// Where the answer to question `id` goes: its mapped field (looked up in `fields`, the index
/// of `delivery.fields`), else the format's own rule; as [`crate::delivery::target`], without a
/// scan of the mappings per question.
fn target_in<'a>(delivery: &'a Delivery, fields: &Ids<'_>, id: &'a str) -> Option<&'a str> {
    match fields.get(id) {
        Some(at) => Some(&delivery.fields[at].1),
        None => standard_target(delivery.format, id),
    }
}

/// Two things sent under one name: the endpoint keeps one of them or, like HubSpot, refuses
/// the lead.
fn check_collisions(
    delivery: &Delivery,
    fields: &Ids<'_>,
    questions: &[Question],
) -> Result<(), ConfigError> {
    // What goes out, as (sender, question id, name). Senders: 0 the `form` format itself,
    // 1 an unmapped answer, 2 a mapped answer, 3 the score, 4 the grade. Unmapped answers come
    // before mapped ones, so a collision is reported at the mapping that causes it.
    let mut sent: Vec<(u8, &str, &str)> = Vec::new();
    if delivery.format == Format::Form {
        for name in FORM_OWN_FIELDS {
            sent.push((0, "", name));
        }
    }
    for q in questions {
        if fields.get(&q.id).is_none() {
            if let Some(name) = standard_target(delivery.format, &q.id) {
                sent.push((1, &q.id, name));
            }
        }
    }
    for (id, name) in &delivery.fields {
        sent.push((2, id, name));
    }
    for (sender, name) in [(3, &delivery.score_field), (4, &delivery.grade_field)] {
        if let Some(name) = name {
            sent.push((sender, "", name));
        }
    }
    let names = Ids::new(sent.len(), &|i| sent[i].2);
    if let Some(i) = names.first_repeat() {
        let (sender, id, name) = sent[i];
        let (first, other, _) = names.get(name).map_or(sent[i], |at| sent[at]);
        let path = match sender {
            3 => "delivery.scoreField".to_owned(),
            4 => "delivery.gradeField".to_owned(),
            _ => format!("delivery.fields.{id}"),
        };
        let (before, after) = match first {
            0 => ("the lead's own data (format \"form\")", ""),
            1 => ("\"", "\" (not mapped, so under its id)"),
            2 => ("\"", "\""),
            _ => ("the score", ""),
        };
        return Err(invalid(
            path,
            format!("{before}{other}{after} already goes to field \"{name}\""),
        ));
    }
    Ok(())
}

fn build_delivery(
    config: DeliveryConfig,
    endpoint: &mut String,
    explicit_endpoint: bool,
    questions: &mut [Question],
) -> Result<Delivery, ConfigError> {
    let format = config.format.unwrap_or_default();
    if format != Format::Json && !explicit_endpoint {
        return Err(invalid(
            "delivery.format",
            format!(
                "format \"{}\" needs an `endpoint` (the URL the CRM gives you); the default endpoint is Bantam's collector, which takes `json`",
                format.as_str()
            ),
        ));
    }
    let salesforce = format == Format::Salesforce;
    if salesforce {
        salesforce_endpoint(endpoint)?;
    }
    let ids = Ids::new(questions.len(), &|i| &questions[i].id);
    let mut fields = Vec::new();
    for (id, name) in config.fields {
        let path = format!("delivery.fields.{id}");
        if ids.get(&id).is_none() {
            return Err(invalid(path, format!("there is no question \"{id}\"")));
        }
        field_name(&path, &name, format)?;
        fields.push((id, name));
    }
    let defaults = Delivery::default();
    let named = |key: &str, value: Option<FieldName>, default: Option<String>| match value {
        // Salesforce drops names it does not know, so its score and grade need a named field.
        None if salesforce => Ok(None),
        None => Ok(default),
        Some(FieldName::Off) => Ok(None),
        Some(FieldName::Name(name)) => {
            field_name(&format!("delivery.{key}"), &name, format)?;
            Ok(Some(name))
        }
    };
    let score_field = named("scoreField", config.score_field, defaults.score_field)?;
    let grade_field = named("gradeField", config.grade_field, defaults.grade_field)?;
    if let Some(oid) = &config.salesforce_oid {
        let ok = (oid.len() == 15 || oid.len() == 18)
            && oid.starts_with("00D")
            && oid.chars().all(|c| c.is_ascii_alphanumeric());
        if !ok {
            return Err(invalid(
                "delivery.salesforceOid",
                format!("\"{oid}\" is not a Salesforce organisation id (15 or 18 letters and digits starting 00D, such as 00D5e000000AbCd)"),
            ));
        }
    } else if salesforce {
        return Err(invalid(
            "delivery.salesforceOid",
            "format \"salesforce\" needs your organisation id (Setup → Company Information → Salesforce.com Organization ID)",
        ));
    }
    let mut values = Vec::new();
    for (id, map) in config.values {
        let path = format!("delivery.values.{id}");
        let Some(q) = ids.get(&id).map(|at| &questions[at]) else {
            return Err(invalid(path, format!("there is no question \"{id}\"")));
        };
        check_values(&path, q, &map)?;
        values.push((id, map));
    }
    if let Some(url) = &config.fallback {
        check_url("delivery.fallback", url)?;
    }
    let delivery = Delivery {
        format,
        fields,
        values,
        score_field,
        grade_field,
        salesforce_oid: config.salesforce_oid,
        fallback: config.fallback,
    };
    // Both are in id order (they come from maps).
    let mapped = Ids::new(delivery.fields.len(), &|i| &delivery.fields[i].0);
    let valued = Ids::new(delivery.values.len(), &|i| &delivery.values[i].0);
    for q in questions.iter() {
        let to_numemployees = format == Format::Hubspot
            && matches!(q.kind, Kind::Number { .. })
            && target_in(&delivery, &mapped, &q.id) == Some("numemployees");
        if to_numemployees && valued.get(&q.id).is_none() {
            // HubSpot's stock options as we know them: the documentation we could reach does
            // not list them.
            return Err(invalid(
                format!("delivery.values.{}", q.id),
                "the number goes to HubSpot's numemployees, a dropdown in a stock portal (1-5, 5-25, 25-50, 50-100, 100-500, 500-1000, 1000+) that refuses a raw number; map the number to these options here, such as [{\"min\": 1, \"value\": \"1-5\"}, {\"min\": 5, \"value\": \"5-25\"}, …]",
            ));
        }
    }
    check_collisions(&delivery, &mapped, questions)?;
    if salesforce {
        // The visitor is told in the form, and no answer is too long for its Salesforce field.
        for q in questions.iter_mut() {
            if matches!(q.kind, Kind::Text | Kind::Email | Kind::Phone) {
                if let Some(max) = target_in(&delivery, &mapped, &q.id).and_then(salesforce_length)
                {
                    q.max_length = q.max_length.min(max);
                }
            }
        }
    }
    Ok(delivery)
}

fn build_spam(config: SpamConfig) -> Result<SpamRules, ConfigError> {
    let defaults = SpamRules::default();
    let min_fill_ms = match config.min_fill_seconds {
        None => defaults.min_fill_ms,
        Some(s) if (0.0..=600.0).contains(&s) => round(s * 1000.0) as u64,
        Some(s) => {
            return Err(invalid(
                "spam.minFillSeconds",
                format!("{} is outside 0..=600 seconds", format_number(s)),
            ))
        }
    };
    Ok(SpamRules {
        honeypot: config.honeypot.unwrap_or(defaults.honeypot),
        min_fill_ms,
        action: config.action.unwrap_or(defaults.action),
    })
}

fn grade_ref(
    grades: &[Grade],
    path: String,
    name: Option<&String>,
) -> Result<Option<usize>, ConfigError> {
    match name {
        None => Ok(None),
        Some(name) => grades
            .iter()
            .position(|g| &g.name == name)
            .map(Some)
            .ok_or_else(|| {
                let names: Vec<_> = grades.iter().map(|g| g.name.as_str()).collect();
                invalid(
                    path,
                    format!("unknown grade \"{name}\"; grades are {}", names.join(", ")),
                )
            }),
    }
}

fn cap_ref(
    draft: &Draft,
    grades: &[Grade],
    path: String,
    name: Option<&String>,
) -> Result<Option<usize>, ConfigError> {
    match grade_ref(grades, path, name) {
        Err(_) if draft.preset_caps => Ok(Some(grades.len() - 1)),
        other => other,
    }
}

/// The signals of a form: ids unlike every question's, values that fit their input.
fn build_signals(
    configs: Vec<SignalConfig>,
    questions: &[Question],
) -> Result<Vec<Signal>, ConfigError> {
    let question_ids = Ids::new(questions.len(), &|i| &questions[i].id);
    let repeat = Ids::new(configs.len(), &|i| &configs[i].id).first_repeat();
    let mut signals: Vec<Signal> = Vec::with_capacity(configs.len());
    for (i, c) in configs.into_iter().enumerate() {
        let path = format!("signals[{i}]");
        check_id(&format!("{path}.id"), "signal id", &c.id)?;
        if question_ids.get(&c.id).is_some() || repeat == Some(i) {
            return Err(ConfigError::DuplicateQuestion {
                path: format!("{path}.id"),
                id: c.id,
            });
        }
        let input = c.input;
        let open = !matches!(input, SignalInput::ClickId | SignalInput::EmailKind);
        // Keys repeat without regard to ASCII case.
        let lower: Vec<String> = c
            .values
            .iter()
            .map(|(k, _)| k.to_ascii_lowercase())
            .collect();
        let repeat = Ids::new(lower.len(), &|i| &lower[i]).first_repeat();
        let mut values: Vec<(String, i32)> = Vec::with_capacity(c.values.len());
        for (j, (key, points)) in c.values.into_iter().enumerate() {
            let at = format!("{path}.values.{key}");
            let ok = match input {
                SignalInput::ClickId => key == "yes" || key == "no",
                SignalInput::EmailKind => key == "free" || key == "business",
                SignalInput::ReferrerDomain => crate::context::plausible_host(&key),
                SignalInput::LandingPage => key.starts_with('/'),
                _ => !key.trim().is_empty() && key.len() <= 200,
            };
            if !ok {
                return Err(invalid(
                    at,
                    match input {
                        SignalInput::ClickId => "values of clickId are yes and no",
                        SignalInput::EmailKind => "values of emailKind are free and business",
                        SignalInput::ReferrerDomain => "must be a domain such as google.com",
                        SignalInput::LandingPage => "must be a path starting with /",
                        _ => "must be 1-200 characters",
                    },
                ));
            }
            if repeat == Some(j) {
                return Err(invalid(at, "appears twice"));
            }
            let key = if input == SignalInput::ReferrerDomain {
                key.to_ascii_lowercase()
            } else {
                key
            };
            values.push((key, check_points(at, points)?));
        }
        let extra = |field: &str, given: Option<i32>, allowed: bool| match given {
            Some(_) if !allowed => Err(invalid(
                format!("{path}.{field}"),
                "this input always has one of its values",
            )),
            given => check_points(format!("{path}.{field}"), given.unwrap_or(0)),
        };
        let other = extra("other", c.other, open)?;
        let none = extra("none", c.none, input != SignalInput::ClickId)?;
        if let Some(label) = &c.short_label {
            check_text(&format!("{path}.shortLabel"), label)?;
        }
        signals.push(Signal {
            short_label: c.short_label.unwrap_or_else(|| c.id.clone()),
            id: c.id,
            input,
            category: c.category.unwrap_or(Category::Fit),
            values,
            other,
            none,
        });
    }
    Ok(signals)
}

/// The scoring mode; `weights` belong to shares, `offset` to sum.
fn build_scoring(config: Option<ScoringConfig>, weights: bool) -> Result<Scoring, ConfigError> {
    let config = config.unwrap_or_default();
    match config.mode.unwrap_or(ScoringMode::Shares) {
        ScoringMode::Shares if config.offset.is_some() => Err(invalid(
            "scoring.offset",
            "an offset is only for mode \"sum\"",
        )),
        ScoringMode::Shares => Ok(Scoring::Shares),
        ScoringMode::Sum if weights => Err(invalid(
            "weights",
            "weights are for mode \"shares\"; in mode \"sum\" points add up as they are",
        )),
        ScoringMode::Sum => Ok(Scoring::Sum {
            offset: check_points("scoring.offset".into(), config.offset.unwrap_or(0))?,
        }),
    }
}

fn build_grades(
    config: Option<Vec<GradeConfig>>,
    texts: &Texts,
) -> Result<Vec<Grade>, ConfigError> {
    let config = config.unwrap_or_else(|| {
        [("hot", 70), ("warm", 40), ("cold", 0)]
            .into_iter()
            .map(|(name, min)| GradeConfig {
                name: name.into(),
                label: None,
                min,
            })
            .collect()
    });
    if config.is_empty() {
        return Err(invalid("grades", "needs at least one grade"));
    }
    let mut grades: Vec<Grade> = Vec::with_capacity(config.len());
    for (i, g) in config.into_iter().enumerate() {
        let path = format!("grades[{i}]");
        check_id(&format!("{path}.name"), "grade", &g.name)?;
        if grades.iter().any(|other| other.name == g.name) {
            return Err(invalid(
                format!("{path}.name"),
                format!("grade \"{}\" appears twice", g.name),
            ));
        }
        if g.min > 100 {
            return Err(ConfigError::Thresholds {
                path: format!("{path}.min"),
                reason: format!("grade \"{}\": min {} is above 100", g.name, g.min),
            });
        }
        if let Some(prev) = grades.last() {
            if g.min >= prev.min {
                return Err(ConfigError::Thresholds {
                    path: format!("{path}.min"),
                    reason: format!(
                        "grade \"{}\" (min {}) must have a lower min than \"{}\" (min {}): list grades from best to worst",
                        g.name, g.min, prev.name, prev.min
                    ),
                });
            }
        }
        let label = g.label.unwrap_or_else(|| match g.name.as_str() {
            "hot" => texts.grade_hot.clone(),
            "warm" => texts.grade_warm.clone(),
            "cold" => texts.grade_cold.clone(),
            name => capitalise(name),
        });
        grades.push(Grade {
            name: g.name,
            label,
            min: g.min,
        });
    }
    if let Some(last) = grades.last() {
        if last.min != 0 {
            return Err(ConfigError::Thresholds {
                path: format!("grades[{}].min", grades.len() - 1),
                reason: format!(
                    "the last grade (\"{}\") must have min 0 so every score gets a grade",
                    last.name
                ),
            });
        }
    }
    Ok(grades)
}

fn capitalise(s: &str) -> String {
    let mut chars = s.chars();
    match chars.next() {
        Some(first) => first.to_ascii_uppercase().to_string() + chars.as_str(),
        None => String::new(),
    }
}

fn build_weights(config: Option<WeightsConfig>) -> Result<[u32; 6], ConfigError> {
    let w = config.unwrap_or_default();
    let weights = [
        w.budget.unwrap_or(30),
        w.authority.unwrap_or(25),
        w.need.unwrap_or(15),
        w.timeframe.unwrap_or(20),
        w.fit.unwrap_or(10),
        w.contact.unwrap_or(0),
    ];
    for (category, weight) in Category::ALL.iter().zip(weights) {
        if weight > 1000 {
            return Err(invalid(
                format!("weights.{}", category.as_str()),
                format!("weight {weight} is above 1000"),
            ));
        }
    }
    if weights.iter().all(|w| *w == 0) {
        return Err(invalid(
            "weights",
            "at least one category needs a weight above 0",
        ));
    }
    Ok(weights)
}

fn build_choices(
    draft: &Draft,
    options: Option<Vec<OptionConfig>>,
    grades: &[Grade],
    texts: &Texts,
    yes_no: bool,
) -> Result<Vec<Choice>, ConfigError> {
    let q = &draft.config;
    let options = match (options, yes_no) {
        (Some(options), _) => options,
        (None, true) => vec![
            OptionConfig {
                id: "yes".into(),
                ..OptionConfig::default()
            },
            OptionConfig {
                id: "no".into(),
                ..OptionConfig::default()
            },
        ],
        (None, false) => Vec::new(),
    };
    if options.is_empty() {
        return Err(ConfigError::EmptyOptions {
            path: format!("{}.options", draft.path),
            question: q.id.clone(),
        });
    }
    let repeat = Ids::new(options.len(), &|i| &options[i].id).first_repeat();
    let mut choices: Vec<Choice> = Vec::with_capacity(options.len());
    for (i, o) in options.into_iter().enumerate() {
        let path = format!("{}.options[{i}]", draft.path);
        check_id(&format!("{path}.id"), "option", &o.id)?;
        if yes_no && o.id != "yes" && o.id != "no" {
            return Err(invalid(
                format!("{path}.id"),
                format!(
                    "question \"{}\": yes/no options must have id \"yes\" or \"no\", not \"{}\"",
                    q.id, o.id
                ),
            ));
        }
        if repeat == Some(i) {
            return Err(ConfigError::DuplicateOption {
                path: format!("{path}.id"),
                question: q.id.clone(),
                option: o.id,
            });
        }
        let label = match (o.label.trim().is_empty(), o.id.as_str()) {
            (false, _) => o.label,
            (true, "yes") if yes_no => texts.yes.clone(),
            (true, "no") if yes_no => texts.no.clone(),
            (true, _) => return Err(invalid(format!("{path}.label"), "must not be empty")),
        };
        choices.push(Choice {
            points: check_points(format!("{path}.points"), o.points.unwrap_or(0))?,
            cap_grade: cap_ref(
                draft,
                grades,
                format!("{path}.capGrade"),
                o.cap_grade.as_ref(),
            )?,
            id: o.id,
            label,
        });
    }
    if yes_no {
        for id in ["yes", "no"] {
            if !choices.iter().any(|c| c.id == id) {
                let label = if id == "yes" { &texts.yes } else { &texts.no };
                choices.push(Choice {
                    id: id.into(),
                    label: label.clone(),
                    points: 0,
                    cap_grade: None,
                });
            }
        }
    }
    Ok(choices)
}

fn build_number(draft: &Draft, grades: &[Grade]) -> Result<Kind, ConfigError> {
    let q = &draft.config;
    let min = q.min.unwrap_or(0.0);
    let max = q.max.unwrap_or(1e12);
    if !min.is_finite() || !max.is_finite() || min > max {
        return Err(invalid(
            format!("{}.min", draft.path),
            format!(
                "question \"{}\": min {} must not be above max {}",
                q.id,
                format_number(min),
                format_number(max)
            ),
        ));
    }
    let mut ranges: Vec<Range> = Vec::new();
    for (i, r) in q.ranges.clone().unwrap_or_default().into_iter().enumerate() {
        let path = format!("{}.ranges[{i}]", draft.path);
        if let Some(r_max) = r.max {
            if r_max < r.min {
                return Err(invalid(
                    format!("{path}.max"),
                    format!(
                        "max {} is below min {}",
                        format_number(r_max),
                        format_number(r.min)
                    ),
                ));
            }
        }
        if let Some(prev) = ranges.last() {
            match prev.max {
                Some(prev_max) if r.min > prev_max => {}
                _ => {
                    return Err(invalid(
                        format!("{path}.min"),
                        format!(
                            "question \"{}\": range starting at {} overlaps the previous one; list ranges in ascending order without overlap",
                            q.id,
                            format_number(r.min)
                        ),
                    ))
                }
            }
        }
        let label = r.label.unwrap_or_else(|| match r.max {
            Some(m) => format!("{}–{}", format_number(r.min), format_number(m)),
            None => format!("{}+", format_number(r.min)),
        });
        ranges.push(Range {
            min: r.min,
            max: r.max,
            points: check_points(format!("{path}.points"), r.points)?,
            label,
            cap_grade: cap_ref(
                draft,
                grades,
                format!("{path}.capGrade"),
                r.cap_grade.as_ref(),
            )?,
        });
    }
    Ok(Kind::Number { min, max, ranges })
}

/// The `showIf` of the question at `index`; `target` is the position in the form of the
/// question its condition names, if the form has it.
fn build_condition(
    draft: &Draft,
    index: usize,
    built: &[Question],
    target: Option<usize>,
) -> Result<Option<Condition>, ConfigError> {
    let q = &draft.config;
    let Some(c) = &q.show_if else {
        return Ok(None);
    };
    let path = format!("{}.showIf", draft.path);
    let target_err = |reason| ConfigError::ConditionTarget {
        path: format!("{path}.question"),
        question: q.id.clone(),
        target: c.question.clone(),
        reason,
    };
    let target = match target {
        Some(target) if target < index => target,
        Some(target) if target == index => return Err(target_err("is the question itself")),
        Some(_) => {
            return Err(target_err(
                "comes later in the form; conditions may only look at earlier questions",
            ))
        }
        None => return Err(target_err("is not a question of this form")),
    };
    let target_q = &built[target];
    let operators = [
        c.answered.is_some(),
        c.equals.is_some(),
        c.one_of.is_some(),
        c.none_of.is_some(),
        c.at_least.is_some(),
        c.below.is_some(),
    ]
    .iter()
    .filter(|set| **set)
    .count();
    if operators != 1 {
        return Err(invalid(
            path,
            "needs exactly one of answered, equals, oneOf, noneOf, atLeast, below",
        ));
    }
    let check_ids = |ids: &[String], field: &str| -> Result<(), ConfigError> {
        if matches!(
            target_q.kind,
            Kind::Number { .. } | Kind::Text | Kind::Email | Kind::Phone
        ) {
            return Err(invalid(
                format!("{path}.{field}"),
                format!(
                    "question \"{}\" is a {} question and has no options to compare",
                    target_q.id,
                    target_q.kind.as_str()
                ),
            ));
        }
        let consent = matches!(target_q.kind, Kind::Consent);
        let choices = Ids::new(target_q.kind.choices().len(), &|i| {
            &target_q.kind.choices()[i].id
        });
        for id in ids {
            let known = if consent {
                id == "yes" || id == "no"
            } else {
                choices.get(id).is_some()
            };
            if !known {
                return Err(invalid(
                    format!("{path}.{field}"),
                    format!("question \"{}\" has no option \"{id}\"", target_q.id),
                ));
            }
        }
        Ok(())
    };
    let number_only = |field: &str| -> Result<(), ConfigError> {
        if matches!(target_q.kind, Kind::Number { .. }) {
            Ok(())
        } else {
            Err(invalid(
                format!("{path}.{field}"),
                format!("question \"{}\" is not a number question", target_q.id),
            ))
        }
    };
    let condition = if let Some(answered) = c.answered {
        Condition::Answered(target, answered)
    } else if let Some(id) = &c.equals {
        let ids = vec![id.clone()];
        check_ids(&ids, "equals")?;
        Condition::OneOf(target, ids)
    } else if let Some(ids) = &c.one_of {
        check_ids(ids, "oneOf")?;
        Condition::OneOf(target, ids.clone())
    } else if let Some(ids) = &c.none_of {
        check_ids(ids, "noneOf")?;
        Condition::NoneOf(target, ids.clone())
    } else if let Some(n) = c.at_least {
        number_only("atLeast")?;
        Condition::AtLeast(target, n)
    } else if let Some(n) = c.below {
        number_only("below")?;
        Condition::Below(target, n)
    } else {
        unreachable!("exactly one operator was counted above")
    };
    Ok(Some(condition))
}

fn build_question(
    draft: Draft,
    index: usize,
    built: &[Question],
    target: Option<usize>,
    grades: &[Grade],
    texts: &Texts,
) -> Result<Question, ConfigError> {
    let missing = |field| ConfigError::Missing {
        path: draft.path.clone(),
        question: draft.config.id.clone(),
        field,
    };
    let kind_name = draft.config.kind.ok_or_else(|| missing("kind"))?;
    let label = draft.config.label.clone().ok_or_else(|| missing("label"))?;
    check_text(&format!("{}.label", draft.path), &label)?;
    let is_choice = matches!(
        kind_name,
        KindName::SingleChoice | KindName::MultipleChoice | KindName::YesNo
    );
    let not_for = |field: &str, what: &str| only_for(&draft.path, &draft.config.id, field, what);
    if draft.config.options.is_some() && !is_choice {
        return Err(not_for("options", "singleChoice, multipleChoice and yesNo"));
    }
    if kind_name != KindName::Number
        && (draft.config.ranges.is_some()
            || draft.config.min.is_some()
            || draft.config.max.is_some())
    {
        let field = if draft.config.ranges.is_some() {
            "ranges"
        } else if draft.config.min.is_some() {
            "min"
        } else {
            "max"
        };
        return Err(not_for(field, "number"));
    }
    if draft.config.points.is_some() && (is_choice || kind_name == KindName::Number) {
        return Err(not_for(
            "points",
            "text, email, phone and consent; choices and ranges carry their own",
        ));
    }
    let choices =
        |yes_no| build_choices(&draft, draft.config.options.clone(), grades, texts, yes_no);
    let kind = match kind_name {
        KindName::SingleChoice => Kind::SingleChoice(choices(false)?),
        KindName::MultipleChoice => Kind::MultipleChoice(choices(false)?),
        KindName::YesNo => Kind::YesNo(choices(true)?),
        KindName::Number => build_number(&draft, grades)?,
        KindName::Text => Kind::Text,
        KindName::Email => Kind::Email,
        KindName::Phone => Kind::Phone,
        KindName::Consent => Kind::Consent,
    };
    let max_length = draft.config.max_length.unwrap_or(200);
    if max_length == 0 || max_length > MAX_TEXT_LENGTH {
        return Err(invalid(
            format!("{}.maxLength", draft.path),
            format!("maxLength {max_length} must be from 1 to {MAX_TEXT_LENGTH}"),
        ));
    }
    let points = check_points(
        format!("{}.points", draft.path),
        draft.config.points.unwrap_or(0),
    )?;
    let unanswered = check_points(
        format!("{}.unanswered", draft.path),
        draft.config.unanswered.unwrap_or(0),
    )?;
    if unanswered != 0 && (draft.config.required == Some(true) || matches!(kind, Kind::Consent)) {
        // A required question and a consent box (ticked or not) always have an answer.
        return Err(not_for("unanswered", "optional, non-consent"));
    }
    let show_if = build_condition(&draft, index, built, target)?;
    let contact_kind = matches!(kind, Kind::Text | Kind::Email | Kind::Phone | Kind::Consent);
    let q = draft.config;
    Ok(Question {
        short_label: q.short_label.unwrap_or_else(|| label.clone()),
        label,
        kind,
        help: q.help,
        category: q.category.unwrap_or(if contact_kind {
            Category::Contact
        } else {
            Category::Fit
        }),
        priority: q.priority.unwrap_or(index as i32 * 10),
        required: q.required.unwrap_or(false),
        show_if,
        placeholder: q.placeholder,
        max_length,
        points,
        unanswered,
        id: q.id,
    })
}

/// The link of a thank-you step at `path`: both text and URL, or neither.
fn build_link(
    path: &str,
    text: Option<String>,
    url: Option<String>,
    new_tab: bool,
) -> Result<Option<ThankYouLink>, ConfigError> {
    match (text, url) {
        (None, None) => Ok(None),
        (Some(text), Some(url)) => {
            check_text(&format!("{path}.linkText"), &text)?;
            check_url(&format!("{path}.linkUrl"), &url)?;
            Ok(Some(ThankYouLink { text, url, new_tab }))
        }
        (Some(_), None) => Err(invalid(
            format!("{path}.linkUrl"),
            "linkText needs a linkUrl",
        )),
        (None, Some(_)) => Err(invalid(
            format!("{path}.linkText"),
            "linkUrl needs a linkText",
        )),
    }
}

/// A page shown in a frame on the thank-you step must be `https`.
fn check_embed(path: &str, url: &str) -> Result<(), ConfigError> {
    if url.starts_with("https://") && url.len() > 8 {
        check_url(path, url)
    } else {
        Err(invalid(
            path,
            format!("\"{url}\" must be an https:// address (a page shown in a frame)"),
        ))
    }
}

fn build_thank_you(
    path: &str,
    config: ThankYouConfig,
    texts: &Texts,
) -> Result<ThankYou, ConfigError> {
    if let Some(url) = &config.embed_url {
        check_embed(&format!("{path}.embedUrl"), url)?;
    }
    Ok(ThankYou {
        embed_url: config.embed_url,
        link: build_link(
            path,
            config.link_text,
            config.link_url,
            config.link_new_tab.unwrap_or(false),
        )?,
        title: config
            .title
            .unwrap_or_else(|| texts.thank_you_title.clone()),
        body: config.body.unwrap_or_else(|| texts.thank_you_body.clone()),
    })
}

/// A thank-you step's config with `over`'s fields laid on top.
fn merge_thank_you(base: ThankYouConfig, over: ThankYouConfig) -> ThankYouConfig {
    ThankYouConfig {
        title: over.title.or(base.title),
        body: over.body.or(base.body),
        link_text: over.link_text.or(base.link_text),
        link_url: over.link_url.or(base.link_url),
        link_new_tab: over.link_new_tab.or(base.link_new_tab),
        embed_url: over.embed_url.or(base.embed_url),
    }
}

/// Lays a translation's texts over one question's config.
fn translate_question(q: &mut QuestionConfig, t: QuestionTranslationConfig) {
    q.label = t.label.or(q.label.take());
    q.help = t.help.or(q.help.take());
    q.placeholder = t.placeholder.or(q.placeholder.take());
    q.short_label = t.short_label.or(q.short_label.take());
    for (id, label) in t.options.unwrap_or_default() {
        let options = q.options.get_or_insert_with(Vec::new);
        match options.iter_mut().find(|o| o.id == id) {
            Some(option) => option.label = label,
            // The implicit option of a yes/no question (validation allowed no other).
            None => options.push(OptionConfig {
                id,
                label,
                ..OptionConfig::default()
            }),
        }
    }
    if let Some(ranges) = &mut q.ranges {
        for (range, label) in ranges.iter_mut().zip(t.ranges.unwrap_or_default()) {
            range.label = Some(label);
        }
    }
}

/// Checks a translation against the questions and grades of the form: it may only name
/// questions, options, ranges and grades the form has, and its texts must be usable. `thank_you`
/// and `by_grade` are the config's, whose links a translation may name anew.
fn check_translation(
    path: &str,
    t: &TranslationConfig,
    drafts: &[Draft],
    draft_ids: &Ids<'_>,
    grades: &[Grade],
    thank_you: Option<&ThankYouConfig>,
    by_grade: &Map<String, ThankYouConfig>,
) -> Result<(), ConfigError> {
    check_length(&format!("{path}.title"), t.title.as_deref(), MAX_TITLE)?;
    check_length(&format!("{path}.intro"), t.intro.as_deref(), MAX_INTRO)?;
    // A link it names needs its text and URL, from the translation or from the config.
    let check_link = |at: &str, over: &ThankYouConfig, base: Option<&ThankYouConfig>| {
        if let Some(url) = &over.embed_url {
            check_embed(&format!("{at}.embedUrl"), url)?;
        }
        if over.link_text.is_none() && over.link_url.is_none() {
            return Ok(());
        }
        let base = base.cloned().unwrap_or_default();
        build_link(
            at,
            over.link_text.clone().or(base.link_text),
            over.link_url.clone().or(base.link_url),
            false,
        )
        .map(drop)
    };
    check_link(&format!("{path}.thankYou"), &t.thank_you, thank_you)?;
    for (name, over) in &t.thank_you_by_grade {
        let at = format!("{path}.thankYouByGrade.{name}");
        grade_ref(grades, at.clone(), Some(name))?;
        check_link(&at, over, by_grade.get(name))?;
    }
    let repeat = Ids::new(t.questions.len(), &|i| &t.questions[i].id).first_repeat();
    for (i, tq) in t.questions.iter().enumerate() {
        let at = format!("{path}.questions[{i}]");
        let Some(draft) = draft_ids.get(&tq.id).map(|at| &drafts[at]) else {
            return Err(invalid(
                format!("{at}.id"),
                format!("there is no question \"{}\"", tq.id),
            ));
        };
        let (id, kind) = (&tq.id, draft.config.kind);
        if repeat == Some(i) {
            return Err(ConfigError::DuplicateQuestion {
                path: format!("{at}.id"),
                id: id.clone(),
            });
        }
        for (field, text) in [
            ("label", &tq.label),
            ("help", &tq.help),
            ("placeholder", &tq.placeholder),
            ("shortLabel", &tq.short_label),
        ] {
            if let Some(text) = text {
                check_text(&format!("{at}.{field}"), text)?;
            }
        }
        if let Some(options) = &tq.options {
            let yes_no = kind == Some(KindName::YesNo);
            if !yes_no
                && !matches!(
                    kind,
                    Some(KindName::SingleChoice | KindName::MultipleChoice)
                )
            {
                return Err(only_for(
                    &at,
                    id,
                    "options",
                    "singleChoice, multipleChoice and yesNo",
                ));
            }
            let own = draft.config.options.as_deref().unwrap_or_default();
            let own = Ids::new(own.len(), &|i| &own[i].id);
            let repeat = Ids::new(options.len(), &|i| &options[i].0).first_repeat();
            for (j, (option, label)) in options.iter().enumerate() {
                let at = format!("{at}.options[{j}]");
                let known =
                    (yes_no && (option == "yes" || option == "no")) || own.get(option).is_some();
                if !known {
                    return Err(invalid(
                        format!("{at}.id"),
                        format!("question \"{id}\" has no option \"{option}\""),
                    ));
                }
                if repeat == Some(j) {
                    return Err(ConfigError::DuplicateOption {
                        path: format!("{at}.id"),
                        question: id.clone(),
                        option: option.clone(),
                    });
                }
                check_text(&format!("{at}.label"), label)?;
            }
        }
        if let Some(labels) = &tq.ranges {
            if kind != Some(KindName::Number) {
                return Err(only_for(&at, id, "ranges", "number"));
            }
            let count = draft.config.ranges.as_ref().map_or(0, Vec::len);
            for (j, label) in labels.iter().enumerate() {
                let at = format!("{at}.ranges[{j}]");
                if j >= count {
                    return Err(invalid(
                        at,
                        format!(
                            "question \"{id}\" has {count} ranges; ranges are translated by position"
                        ),
                    ));
                }
                check_text(&format!("{at}.label"), label)?;
            }
        }
    }
    Ok(())
}

fn build_theme(theme: Map<String, String>) -> Result<Vec<(String, String)>, ConfigError> {
    let mut out = Vec::with_capacity(theme.len());
    for (key, value) in theme {
        let path = format!("theme.{key}");
        if !THEME_KEYS.contains(&key.as_str()) {
            return Err(invalid(
                path,
                format!(
                    "unknown theme key \"{key}\"; expected one of {}",
                    THEME_KEYS.join(", ")
                ),
            ));
        }
        if key == "scheme" && !matches!(value.as_str(), "light" | "dark" | "auto") {
            return Err(invalid(
                path,
                format!("\"{value}\" is not a colour scheme; expected light, dark or auto (follow the visitor's system setting)"),
            ));
        }
        if value.len() > 100
            || value
                .chars()
                .any(|c| matches!(c, ';' | '{' | '}' | '<' | '>' | '\\'))
        {
            return Err(invalid(
                path,
                format!("value \"{value}\" is not a plain CSS value"),
            ));
        }
        let css_key: String = key
            .chars()
            .flat_map(|c| {
                let lower = c.to_ascii_lowercase();
                let dash = c.is_ascii_uppercase().then_some('-');
                dash.into_iter().chain(core::iter::once(lower))
            })
            .collect();
        out.push((format!("--bantam-{css_key}"), value));
    }
    Ok(out)
}

impl Form {
    /// Reads and validates a config value (such as the object a page passed to `mount`), for a
    /// page without language preferences: [`Form::from_value_for`] with none.
    ///
    /// # Errors
    /// [`ConfigError::Syntax`] naming the path of an unknown field, a missing field or a wrong
    /// type, or any other [`ConfigError`] from [`Form::from_config`].
    pub fn from_value(value: Value) -> Result<Form, ConfigError> {
        Form::from_value_for(value, &[])
    }

    /// Reads and validates a config value for a page whose languages are `preferred`, best
    /// first (the widget passes `<html lang>`, then `navigator.languages`). They matter only
    /// for `"locale": "auto"`: see [`Form::from_config_for`].
    ///
    /// # Errors
    /// As [`Form::from_value`].
    pub fn from_value_for(value: Value, preferred: &[&str]) -> Result<Form, ConfigError> {
        Form::from_config_for(FormConfig::from_value(value)?, preferred)
    }

    /// Validates a config into a form, for a page without language preferences.
    ///
    /// # Errors
    /// A [`ConfigError`] naming the path of the first problem found: an unknown preset,
    /// a duplicate question or option id, empty options, thresholds out of order, a condition
    /// that names an unknown or later question, points out of range, a malformed language tag,
    /// a translation of a question or option the form lacks, and so on.
    pub fn from_config(config: FormConfig) -> Result<Form, ConfigError> {
        Form::from_config_for(config, &[])
    }

    /// Validates a config into a form for a page whose languages are `preferred`, best first.
    ///
    /// The form's locale is the config's `locale`; for `auto`, the first preferred tag that
    /// names one of the config's [`Form::locales`] (the same tag, else its language, else
    /// another tag of its language: `de-AT` gives `de`), else `en`. The built-in texts and the
    /// preset come in that locale's language (English when it has none), the config's own
    /// texts and questions go on top, and then the config's translation for that locale (by
    /// tag, else by language). Every translation is checked, whichever locale is shown.
    ///
    /// # Errors
    /// As [`Form::from_config`].
    pub fn from_config_for(config: FormConfig, preferred: &[&str]) -> Result<Form, ConfigError> {
        check_id("formId", "form id", &config.form_id)?;
        for tag in config.translations.keys() {
            check_tag(&format!("translations.{tag}"), tag, false)?;
        }
        let locales: Vec<String> = match config.locale.as_deref() {
            None => vec!["en".into()],
            Some("auto") => {
                let mut locales: Vec<String> =
                    BUILTIN_LOCALES.iter().map(|l| (*l).to_owned()).collect();
                for tag in config.translations.keys() {
                    if !locales.iter().any(|l| same_tag(l, tag)) {
                        locales.push(tag.clone());
                    }
                }
                locales
            }
            Some(tag) => {
                check_tag("locale", tag, true)?;
                vec![tag.to_owned()]
            }
        };
        let locale = resolve(&locales, preferred).to_owned();
        let mut form = Form::build(config, locale)?;
        form.locales = locales;
        Ok(form)
    }

    /// Validates a config into the form shown in `locale`, with its translation for `locale` (by
    /// tag, else by language) laid over it, after checking every translation.
    fn build(mut config: FormConfig, locale: String) -> Result<Form, ConfigError> {
        let mut translations = core::mem::take(&mut config.translations);
        let chosen = translations
            .keys()
            .find(|tag| same_tag(tag, &locale))
            .or_else(|| {
                let lang = language(&locale);
                translations.keys().find(|tag| same_tag(tag, lang))
            })
            .cloned();
        let mut texts = Texts::for_locale(&locale);
        for overrides in [
            config.texts.as_ref(),
            chosen
                .as_ref()
                .and_then(|tag| translations.get(tag)?.texts.as_ref()),
        ]
        .into_iter()
        .flatten()
        {
            texts.apply(overrides);
        }
        let grades = build_grades(config.grades, &texts)?;
        let scoring = build_scoring(config.scoring.take(), config.weights.is_some())?;
        let weights = build_weights(config.weights)?;

        let mut drafts: Vec<Draft> = match config.preset.as_deref() {
            None => Vec::new(),
            Some("bant") => preset::bant(&locale)
                .into_iter()
                .map(|q| Draft {
                    path: format!("preset(bant).{}", q.id),
                    config: q,
                    preset_caps: true,
                })
                .collect(),
            Some(other) => {
                return Err(invalid(
                    "preset",
                    format!("unknown preset \"{other}\"; available: bant"),
                ))
            }
        };
        for (i, id) in config.remove_questions.iter().enumerate() {
            let before = drafts.len();
            drafts.retain(|d| &d.config.id != id);
            if drafts.len() == before {
                return Err(invalid(
                    format!("removeQuestions[{i}]"),
                    format!("no preset question \"{id}\" to remove"),
                ));
            }
        }
        // Config questions override the preset's (a handful) by id, or come after them.
        let preset_len = drafts.len();
        let repeat = Ids::new(config.questions.len(), &|i| &config.questions[i].id).first_repeat();
        for (i, q) in config.questions.into_iter().enumerate() {
            let path = format!("questions[{i}]");
            check_id(&format!("{path}.id"), "question id", &q.id)?;
            if repeat == Some(i) {
                return Err(ConfigError::DuplicateQuestion {
                    path: format!("{path}.id"),
                    id: q.id,
                });
            }
            match drafts[..preset_len]
                .iter_mut()
                .find(|d| d.config.id == q.id)
            {
                Some(draft) => {
                    draft.preset_caps = q.options.is_none() && q.ranges.is_none();
                    draft.config = merge(core::mem::take(&mut draft.config), q);
                    draft.path = path;
                }
                None => drafts.push(Draft {
                    path,
                    config: q,
                    preset_caps: false,
                }),
            }
        }
        if drafts.is_empty() {
            return Err(invalid(
                "questions",
                "the form needs at least one question (or \"preset\": \"bant\")",
            ));
        }
        // Ids are unique from here on; translations and conditions look them up.
        let draft_ids = Ids::new(drafts.len(), &|i| &drafts[i].config.id);
        for (tag, t) in &translations {
            check_translation(
                &format!("translations.{tag}"),
                t,
                &drafts,
                &draft_ids,
                &grades,
                config.thank_you.as_ref(),
                &config.thank_you_by_grade,
            )?;
        }
        let targets: Vec<Option<usize>> = drafts
            .iter()
            .map(|d| {
                let c = d.config.show_if.as_ref()?;
                draft_ids.get(&c.question)
            })
            .collect();
        let chosen = chosen.and_then(|tag| translations.remove(&tag));
        let translated: Vec<Option<usize>> = chosen
            .iter()
            .flat_map(|t| &t.questions)
            .map(|tq| draft_ids.get(&tq.id))
            .collect();
        if let Some(t) = chosen {
            for (tq, at) in t.questions.into_iter().zip(translated) {
                if let Some(at) = at {
                    translate_question(&mut drafts[at].config, tq);
                }
            }
            config.title = t.title.or(config.title);
            config.intro = t.intro.or(config.intro);
            config.thank_you = Some(merge_thank_you(
                config.thank_you.unwrap_or_default(),
                t.thank_you,
            ));
            for (name, over) in t.thank_you_by_grade {
                let base = config.thank_you_by_grade.remove(&name).unwrap_or_default();
                config
                    .thank_you_by_grade
                    .insert(name, merge_thank_you(base, over));
            }
        }
        check_length("title", config.title.as_deref(), MAX_TITLE)?;
        check_length("intro", config.intro.as_deref(), MAX_INTRO)?;

        let mut questions: Vec<Question> = Vec::with_capacity(drafts.len());
        for ((index, draft), target) in drafts.into_iter().enumerate().zip(targets) {
            let q = build_question(draft, index, &questions, target, &grades, &texts)?;
            questions.push(q);
        }

        let max_questions_per_visit = config.max_questions_per_visit.unwrap_or(6);
        if max_questions_per_visit == 0 {
            return Err(invalid("maxQuestionsPerVisit", "must be at least 1"));
        }
        let questions_per_step = config.questions_per_step.unwrap_or(3);
        if questions_per_step == 0 {
            return Err(invalid("questionsPerStep", "must be at least 1"));
        }
        let explicit_endpoint = config.endpoint.is_some();
        let mut endpoint = config.endpoint.unwrap_or_else(|| "/v1/leads".into());
        check_url("endpoint", &endpoint)?;
        let thank_you = build_thank_you("thankYou", config.thank_you.unwrap_or_default(), &texts)?;
        let mut thank_you_by_grade = Vec::new();
        for (name, t) in config.thank_you_by_grade {
            let path = format!("thankYouByGrade.{name}");
            let grade = grade_ref(&grades, path.clone(), Some(&name))?.unwrap_or_default();
            let base = ThankYouConfig {
                title: t.title.or_else(|| Some(thank_you.title.clone())),
                body: t.body.or_else(|| Some(thank_you.body.clone())),
                ..t
            };
            thank_you_by_grade.push((grade, build_thank_you(&path, base, &texts)?));
        }
        let delivery = build_delivery(
            config.delivery.unwrap_or_default(),
            &mut endpoint,
            explicit_endpoint,
            &mut questions,
        )?;
        let signals = build_signals(config.signals, &questions)?;
        Ok(Form {
            id: config.form_id,
            endpoint,
            questions,
            weights,
            scoring,
            signals,
            grades,
            max_questions_per_visit,
            questions_per_step,
            texts,
            direction: Direction::of(&locale),
            locale,
            locales: Vec::new(),
            title: config.title,
            intro: config.intro,
            thank_you,
            thank_you_by_grade,
            theme: build_theme(config.theme)?,
            delivery,
            spam: build_spam(config.spam.unwrap_or_default())?,
            variant: config
                .variant
                .map(|v| check_id("variant", "variant", &v).map(|()| v))
                .transpose()?,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::answer::Answers;
    use crate::map::steps;

    fn string(s: impl Into<String>) -> Value {
        Value::String(s.into())
    }

    fn object(entries: Vec<(&str, Value)>) -> Value {
        Value::Object(
            entries
                .into_iter()
                .map(|(k, v)| (k.to_owned(), v))
                .collect(),
        )
    }

    /// A config of `n` single-choice questions that uses what looks ids up: conditions on the
    /// question before, a translation of every question and option, a field mapping per
    /// question in the `form` format, value mappings, and priorities in reverse order.
    fn large_config(n: usize) -> Value {
        let option = |id: &str, points: f64| {
            object(vec![
                ("id", string(id)),
                ("label", string(id.to_uppercase())),
                ("points", Value::Number(points)),
            ])
        };
        let questions = (0..n)
            .map(|i| {
                let mut q = vec![
                    ("id", string(format!("q{i}"))),
                    ("kind", string("singleChoice")),
                    ("label", string(format!("Question {i}"))),
                    ("priority", Value::Number((n - i) as f64)),
                    (
                        "options",
                        Value::Array(vec![option("a", 1.0), option("b", 0.0)]),
                    ),
                ];
                if i % 2 == 1 {
                    let show_if = object(vec![
                        ("question", string(format!("q{}", i - 1))),
                        ("equals", string("a")),
                    ]);
                    q.push(("showIf", show_if));
                }
                object(q)
            })
            .collect();
        let translated = (0..n)
            .map(|i| {
                object(vec![
                    ("id", string(format!("q{i}"))),
                    ("label", string(format!("Frage {i}"))),
                    (
                        "options",
                        Value::Array(vec![object(vec![
                            ("id", string("a")),
                            ("label", string("Ja")),
                        ])]),
                    ),
                ])
            })
            .collect();
        let fields = (0..n)
            .map(|i| (format!("q{i}"), string(format!("field_{i}"))))
            .collect();
        let values = (0..n)
            .map(|i| (format!("q{i}"), object(vec![("a", string("yes"))])))
            .collect();
        object(vec![
            ("formId", string("large")),
            ("locale", string("de")),
            ("endpoint", string("https://crm.example.com/leads")),
            ("questions", Value::Array(questions)),
            (
                "translations",
                object(vec![(
                    "de",
                    object(vec![("questions", Value::Array(translated))]),
                )]),
            ),
            (
                "delivery",
                object(vec![
                    ("format", string("form")),
                    ("fields", Value::Object(fields)),
                    ("values", Value::Object(values)),
                ]),
            ),
        ])
    }

    /// The steps (comparisons and moved entries, counted by `map::step`) that reading,
    /// validating and ordering a config of `n` questions take.
    fn steps_for(n: usize) -> u64 {
        let value = large_config(n);
        let before = steps();
        let form = Form::from_value(value).expect("the large config is valid");
        let chosen = crate::next_questions(&form, &Answers::new());
        assert_eq!(form.questions.len(), n);
        assert_eq!(chosen.len(), 6);
        steps() - before
    }

    /// Config reading stays linear in the size of the form (n log n at most): eight times the
    /// questions take well under sixteen times the steps. The id scans this replaced made 5,000
    /// questions take 6.7 s in Chromium; they would count about 64 times here.
    #[test]
    fn reading_a_config_is_linear_in_its_size() {
        let (small, large) = (steps_for(1_000), steps_for(8_000));
        assert!(small > 1_000, "the counter counts ({small} steps)");
        assert!(
            large < 16 * small,
            "1,000 questions took {small} steps, 8,000 took {large}: {:.1} times",
            large as f64 / small as f64
        );
    }
}
