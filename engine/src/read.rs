//! Reading the config structs from a [`Value`], field by field, with paths in every error.

use crate::map::Map;
use crate::prelude::*;

use crate::config::{
    ConditionConfig, ConfigError, DeliveryConfig, FieldName, FormConfig, GradeConfig, KindName,
    OptionConfig, QuestionConfig, QuestionTranslationConfig, RangeConfig, ScoringConfig,
    ScoringMode, SignalConfig, SpamConfig, ThankYouConfig, TranslationConfig, WeightsConfig,
};
use crate::context::SpamAction;
use crate::delivery::{Band, Format, ValueMap};
use crate::form::{Category, SignalInput};
use crate::texts::TextsConfig;
use crate::value::{Object, Value};

const KINDS: [(&str, KindName); 8] = [
    ("singleChoice", KindName::SingleChoice),
    ("multipleChoice", KindName::MultipleChoice),
    ("number", KindName::Number),
    ("yesNo", KindName::YesNo),
    ("text", KindName::Text),
    ("email", KindName::Email),
    ("phone", KindName::Phone),
    ("consent", KindName::Consent),
];

/// The config names of [`SignalInput::ALL`], in its order.
const INPUTS: [&str; 7] = [
    "utmSource",
    "utmMedium",
    "utmCampaign",
    "clickId",
    "referrerDomain",
    "landingPage",
    "emailKind",
];

/// An optional `category` of a question or signal.
fn category(o: &mut Object) -> Result<Option<Category>, ConfigError> {
    let names: Vec<&str> = Category::ALL.iter().map(|c| c.as_str()).collect();
    Ok(o.choice("category", &names)?.map(|i| Category::ALL[i]))
}

fn points(o: &mut Object, key: &str) -> Result<Option<i32>, ConfigError> {
    // Range checks with a specific message happen at validation (`BadPoints`).
    Ok(o.integer(key, i64::from(i32::MIN), i64::from(i32::MAX))?
        .map(|n| n as i32))
}

fn count(o: &mut Object, key: &str) -> Result<Option<usize>, ConfigError> {
    Ok(o.integer(key, 0, 1_000_000)?.map(|n| n as usize))
}

/// An optional array, each item read by `read`. A plain loop and a function pointer: each
/// iterator adapter chain or closure type here would be another copy of this in the widget.
fn list<T>(
    o: &mut Object,
    key: &str,
    read: fn(&str, Value) -> Result<T, ConfigError>,
) -> Result<Option<Vec<T>>, ConfigError> {
    let Some(items) = o.array(key)? else {
        return Ok(None);
    };
    let mut out = Vec::with_capacity(items.len());
    for (path, v) in items {
        out.push(read(&path, v)?);
    }
    Ok(Some(out))
}

/// The `texts` of a config or translation.
fn texts(o: &mut Object) -> Result<Option<TextsConfig>, ConfigError> {
    let path = o.path_of("texts");
    o.take("texts")
        .map(|v| TextsConfig::from_value(&path, v))
        .transpose()
}

/// The `thankYouByGrade` of a config or translation.
fn thank_you_by_grade(o: &mut Object) -> Result<Map<String, ThankYouConfig>, ConfigError> {
    // Inserted one by one (each insert moves the entries after it): a form has few grades.
    let mut map = Map::new();
    for (path, name, v) in o.entries("thankYouByGrade")?.unwrap_or_default() {
        map.insert(name, ThankYouConfig::from_value(&path, v)?);
    }
    Ok(map)
}

impl FormConfig {
    /// Reads a config from a value.
    ///
    /// # Errors
    /// [`ConfigError::Syntax`] naming the path of an unknown or missing field or a wrong type.
    pub fn from_value(value: Value) -> Result<FormConfig, ConfigError> {
        let mut o = Object::new(
            value,
            "",
            &[
                "formId",
                "preset",
                "endpoint",
                "locale",
                "texts",
                "title",
                "intro",
                "translations",
                "questions",
                "removeQuestions",
                "weights",
                "grades",
                "maxQuestionsPerVisit",
                "questionsPerStep",
                "thankYou",
                "thankYouByGrade",
                "theme",
                "delivery",
                "spam",
                "variant",
                "scoring",
                "signals",
            ],
        )?;
        let form_id = o.string("formId")?;
        // Inserted one by one (each insert moves the entries after it): few languages.
        let mut translations = Map::new();
        for (path, tag, v) in o.entries("translations")?.unwrap_or_default() {
            translations.insert(tag, TranslationConfig::from_value(&path, v)?);
        }
        let theme = string_map(&mut o, "theme")?;
        Ok(FormConfig {
            preset: o.string("preset")?,
            endpoint: o.string("endpoint")?,
            locale: o.string("locale")?,
            texts: texts(&mut o)?,
            title: o.string("title")?,
            intro: o.string("intro")?,
            translations,
            questions: list(&mut o, "questions", QuestionConfig::from_value)?.unwrap_or_default(),
            remove_questions: o.strings("removeQuestions")?.unwrap_or_default(),
            weights: match o.take("weights") {
                None => None,
                Some(v) => Some(WeightsConfig::from_value("weights", v)?),
            },
            grades: list(&mut o, "grades", GradeConfig::from_value)?,
            max_questions_per_visit: count(&mut o, "maxQuestionsPerVisit")?,
            questions_per_step: count(&mut o, "questionsPerStep")?,
            thank_you: match o.take("thankYou") {
                None => None,
                Some(v) => Some(ThankYouConfig::from_value("thankYou", v)?),
            },
            thank_you_by_grade: thank_you_by_grade(&mut o)?,
            theme,
            delivery: match o.take("delivery") {
                None => None,
                Some(v) => Some(DeliveryConfig::from_value("delivery", v)?),
            },
            spam: match o.take("spam") {
                None => None,
                Some(v) => Some(SpamConfig::from_value("spam", v)?),
            },
            variant: o.string("variant")?,
            scoring: match o.take("scoring") {
                None => None,
                Some(v) => Some(ScoringConfig::from_value("scoring", v)?),
            },
            signals: list(&mut o, "signals", SignalConfig::from_value)?.unwrap_or_default(),
            form_id: o.require("formId", form_id)?,
        })
    }
}

impl QuestionConfig {
    fn from_value(path: &str, value: Value) -> Result<QuestionConfig, ConfigError> {
        let mut o = Object::new(
            value,
            path,
            &[
                "id",
                "kind",
                "label",
                "help",
                "shortLabel",
                "category",
                "priority",
                "required",
                "showIf",
                "options",
                "ranges",
                "min",
                "max",
                "points",
                "placeholder",
                "maxLength",
                "unanswered",
            ],
        )?;
        let id = o.string("id")?;
        let kind_names: Vec<&str> = KINDS.iter().map(|(n, _)| *n).collect();
        let show_if_path = o.path_of("showIf");
        Ok(QuestionConfig {
            kind: o.choice("kind", &kind_names)?.map(|i| KINDS[i].1),
            label: o.string("label")?,
            help: o.string("help")?,
            short_label: o.string("shortLabel")?,
            category: category(&mut o)?,
            priority: points(&mut o, "priority")?,
            required: o.bool("required")?,
            show_if: o
                .take("showIf")
                .map(|v| ConditionConfig::from_value(&show_if_path, v))
                .transpose()?,
            options: list(&mut o, "options", OptionConfig::from_value)?,
            ranges: list(&mut o, "ranges", RangeConfig::from_value)?,
            min: o.number("min")?,
            max: o.number("max")?,
            points: points(&mut o, "points")?,
            placeholder: o.string("placeholder")?,
            max_length: count(&mut o, "maxLength")?,
            unanswered: points(&mut o, "unanswered")?,
            id: o.require("id", id)?,
        })
    }
}

impl ScoringConfig {
    fn from_value(path: &str, value: Value) -> Result<ScoringConfig, ConfigError> {
        let mut o = Object::new(value, path, &["mode", "offset"])?;
        Ok(ScoringConfig {
            mode: o
                .choice("mode", &["shares", "sum"])?
                .map(|i| [ScoringMode::Shares, ScoringMode::Sum][i]),
            offset: points(&mut o, "offset")?,
        })
    }
}

impl SignalConfig {
    fn from_value(path: &str, value: Value) -> Result<SignalConfig, ConfigError> {
        let mut o = Object::new(
            value,
            path,
            &[
                "id",
                "input",
                "shortLabel",
                "category",
                "values",
                "other",
                "none",
            ],
        )?;
        let id = o.string("id")?;
        let input = o.choice("input", &INPUTS)?.map(|i| SignalInput::ALL[i]);
        let mut values = Vec::new();
        for (path, key, v) in o.entries("values")?.unwrap_or_default() {
            match v {
                Value::Number(n) if is_whole(n) && n.abs() <= f64::from(i32::MAX) => {
                    values.push((key, n as i32));
                }
                other => {
                    return Err(ConfigError::Syntax {
                        path,
                        message: format!("expected a whole number, found {}", other.kind()),
                    })
                }
            }
        }
        Ok(SignalConfig {
            short_label: o.string("shortLabel")?,
            category: category(&mut o)?,
            values,
            other: points(&mut o, "other")?,
            none: points(&mut o, "none")?,
            input: o.require("input", input)?,
            id: o.require("id", id)?,
        })
    }
}

impl TranslationConfig {
    fn from_value(path: &str, value: Value) -> Result<TranslationConfig, ConfigError> {
        let mut o = Object::new(
            value,
            path,
            &[
                "texts",
                "title",
                "intro",
                "thankYou",
                "thankYouByGrade",
                "questions",
            ],
        )?;
        let thank_you_path = o.path_of("thankYou");
        Ok(TranslationConfig {
            texts: texts(&mut o)?,
            title: o.string("title")?,
            intro: o.string("intro")?,
            thank_you: match o.take("thankYou") {
                None => ThankYouConfig::default(),
                Some(v) => ThankYouConfig::from_value(&thank_you_path, v)?,
            },
            thank_you_by_grade: thank_you_by_grade(&mut o)?,
            questions: list(&mut o, "questions", QuestionTranslationConfig::from_value)?
                .unwrap_or_default(),
        })
    }
}

impl QuestionTranslationConfig {
    fn from_value(path: &str, value: Value) -> Result<QuestionTranslationConfig, ConfigError> {
        let mut o = Object::new(
            value,
            path,
            &[
                "id",
                "label",
                "help",
                "placeholder",
                "shortLabel",
                "options",
                "ranges",
            ],
        )?;
        let id = o.string("id")?;
        Ok(QuestionTranslationConfig {
            label: o.string("label")?,
            help: o.string("help")?,
            placeholder: o.string("placeholder")?,
            short_label: o.string("shortLabel")?,
            options: list(&mut o, "options", option_text)?,
            ranges: list(&mut o, "ranges", range_text)?,
            id: o.require("id", id)?,
        })
    }
}

/// A translated option: `{id, label}`.
fn option_text(path: &str, value: Value) -> Result<(String, String), ConfigError> {
    let mut o = Object::new(value, path, &["id", "label"])?;
    let (id, label) = (o.string("id")?, o.string("label")?);
    Ok((o.require("id", id)?, o.require("label", label)?))
}

/// A translated range: `{label}`.
fn range_text(path: &str, value: Value) -> Result<String, ConfigError> {
    let mut o = Object::new(value, path, &["label"])?;
    let label = o.string("label")?;
    o.require("label", label)
}

impl OptionConfig {
    fn from_value(path: &str, value: Value) -> Result<OptionConfig, ConfigError> {
        let mut o = Object::new(value, path, &["id", "label", "points", "capGrade"])?;
        let id = o.string("id")?;
        Ok(OptionConfig {
            label: o.string("label")?.unwrap_or_default(),
            points: points(&mut o, "points")?,
            cap_grade: o.string("capGrade")?,
            id: o.require("id", id)?,
        })
    }
}

impl RangeConfig {
    fn from_value(path: &str, value: Value) -> Result<RangeConfig, ConfigError> {
        let mut o = Object::new(value, path, &["min", "max", "points", "label", "capGrade"])?;
        let min = o.number("min")?;
        let range_points = points(&mut o, "points")?;
        Ok(RangeConfig {
            max: o.number("max")?,
            label: o.string("label")?,
            cap_grade: o.string("capGrade")?,
            min: o.require("min", min)?,
            points: o.require("points", range_points)?,
        })
    }
}

impl ConditionConfig {
    fn from_value(path: &str, value: Value) -> Result<ConditionConfig, ConfigError> {
        let mut o = Object::new(
            value,
            path,
            &[
                "question", "answered", "equals", "oneOf", "noneOf", "atLeast", "below",
            ],
        )?;
        let question = o.string("question")?;
        Ok(ConditionConfig {
            answered: o.bool("answered")?,
            equals: o.string("equals")?,
            one_of: o.strings("oneOf")?,
            none_of: o.strings("noneOf")?,
            at_least: o.number("atLeast")?,
            below: o.number("below")?,
            question: o.require("question", question)?,
        })
    }
}

impl WeightsConfig {
    fn from_value(path: &str, value: Value) -> Result<WeightsConfig, ConfigError> {
        let mut o = Object::new(
            value,
            path,
            &["budget", "authority", "need", "timeframe", "fit", "contact"],
        )?;
        let mut weight = |key: &str| -> Result<Option<u32>, ConfigError> {
            Ok(o.integer(key, 0, i64::from(u32::MAX))?.map(|n| n as u32))
        };
        Ok(WeightsConfig {
            budget: weight("budget")?,
            authority: weight("authority")?,
            need: weight("need")?,
            timeframe: weight("timeframe")?,
            fit: weight("fit")?,
            contact: weight("contact")?,
        })
    }
}

impl GradeConfig {
    fn from_value(path: &str, value: Value) -> Result<GradeConfig, ConfigError> {
        let mut o = Object::new(value, path, &["name", "label", "min"])?;
        let name = o.string("name")?;
        let min = o.integer("min", 0, 255)?.map(|n| n as u8);
        Ok(GradeConfig {
            label: o.string("label")?,
            name: o.require("name", name)?,
            min: o.require("min", min)?,
        })
    }
}

impl ThankYouConfig {
    fn from_value(path: &str, value: Value) -> Result<ThankYouConfig, ConfigError> {
        let mut o = Object::new(
            value,
            path,
            &[
                "title",
                "body",
                "linkText",
                "linkUrl",
                "linkNewTab",
                "embedUrl",
            ],
        )?;
        Ok(ThankYouConfig {
            title: o.string("title")?,
            body: o.string("body")?,
            link_text: o.string("linkText")?,
            link_url: o.string("linkUrl")?,
            link_new_tab: o.bool("linkNewTab")?,
            embed_url: o.string("embedUrl")?,
        })
    }
}

/// A map of strings (`theme`, `delivery.fields`: one entry per question), collected rather than
/// inserted one by one (see `Map::from_iter`).
fn string_map(o: &mut Object, key: &str) -> Result<Map<String, String>, ConfigError> {
    let mut entries = Vec::new();
    for (path, name, v) in o.entries(key)?.unwrap_or_default() {
        match v {
            Value::String(s) => entries.push((name, s)),
            _ => {
                return Err(ConfigError::Syntax {
                    path,
                    message: "expected a string".into(),
                })
            }
        };
    }
    Ok(entries.into_iter().collect())
}

/// A string, or `null` to switch the field off.
fn field_name(o: &mut Object, key: &str) -> Result<Option<FieldName>, ConfigError> {
    let path = o.path_of(key);
    match o.take_nullable(key) {
        None => Ok(None),
        Some(Value::Null) => Ok(Some(FieldName::Off)),
        Some(Value::String(s)) => Ok(Some(FieldName::Name(s))),
        Some(_) => Err(ConfigError::Syntax {
            path,
            message: "expected a field name or null".into(),
        }),
    }
}

impl DeliveryConfig {
    fn from_value(path: &str, value: Value) -> Result<DeliveryConfig, ConfigError> {
        let mut o = Object::new(
            value,
            path,
            &[
                "format",
                "fields",
                "scoreField",
                "gradeField",
                "salesforceOid",
                "values",
                "fallback",
            ],
        )?;
        let names: Vec<&str> = Format::ALL.iter().map(|(n, _)| *n).collect();
        let mut values = Vec::new();
        for (path, id, v) in o.entries("values")?.unwrap_or_default() {
            values.push((id, value_map(&path, v)?));
        }
        let values: Map<String, ValueMap> = values.into_iter().collect();
        Ok(DeliveryConfig {
            format: o.choice("format", &names)?.map(|i| Format::ALL[i].1),
            fields: string_map(&mut o, "fields")?,
            score_field: field_name(&mut o, "scoreField")?,
            grade_field: field_name(&mut o, "gradeField")?,
            salesforce_oid: o.string("salesforceOid")?,
            values,
            fallback: o.string("fallback")?,
        })
    }
}

/// A value mapping: an object from option id to value, or an array of `{min, value}`.
fn value_map(path: &str, value: Value) -> Result<ValueMap, ConfigError> {
    let syntax = |path: String, message: &str| ConfigError::Syntax {
        path,
        message: message.into(),
    };
    match value {
        Value::Object(entries) => {
            let mut options = Vec::with_capacity(entries.len());
            for (option, v) in entries {
                let Value::String(s) = v else {
                    return Err(syntax(format!("{path}.{option}"), "expected a string"));
                };
                options.push((option, s));
            }
            Ok(ValueMap::Options(options.into_iter().collect()))
        }
        Value::Array(items) => {
            let mut bands = Vec::with_capacity(items.len());
            for (i, v) in items.into_iter().enumerate() {
                let mut o = Object::new(v, &format!("{path}[{i}]"), &["min", "value"])?;
                let (min, value) = (o.number("min")?, o.string("value")?);
                bands.push(Band {
                    min: o.require("min", min)?,
                    value: o.require("value", value)?,
                });
            }
            Ok(ValueMap::Bands(bands))
        }
        _ => Err(syntax(
            path.to_owned(),
            "expected an object from option id to value, or an array of {\"min\", \"value\"}",
        )),
    }
}

impl SpamConfig {
    fn from_value(path: &str, value: Value) -> Result<SpamConfig, ConfigError> {
        let mut o = Object::new(value, path, &["honeypot", "minFillSeconds", "action"])?;
        Ok(SpamConfig {
            honeypot: o.bool("honeypot")?,
            min_fill_seconds: o.number("minFillSeconds")?,
            action: o
                .choice("action", &["flag", "drop"])?
                .map(|i| [SpamAction::Flag, SpamAction::Drop][i]),
        })
    }
}
