//! The form editor's use of the engine (full module only, feature `validator`): checking a
//! draft config, outlining the form it makes, and scoring answers with it, so the editor in the
//! inbox shows the engine's own messages and scores instead of rules written again in JS.

use crate::prelude::*;
use bantam_engine::{
    delivery_warnings, next_questions, score_with, AnswerValue, Answers, Form, Kind, Map, Touch,
    Value,
};
use wasm_bindgen::prelude::*;

use crate::events::from_json;
use crate::options::to_value;

/// A plain object from key/value pairs (the editor's results).
fn obj(pairs: &[(&str, JsValue)]) -> JsValue {
    let o = js_sys::Object::new();
    for (k, v) in pairs {
        let _ = js_sys::Reflect::set(&o, &JsValue::from_str(k), v);
    }
    o.into()
}

/// `{path, message}`, the shape of every message the editor places at a field.
fn message(path: &str, message: &str) -> JsValue {
    obj(&[
        ("path", JsValue::from_str(path)),
        ("message", JsValue::from_str(message)),
    ])
}

fn array(items: impl IntoIterator<Item = JsValue>) -> JsValue {
    items.into_iter().collect::<js_sys::Array>().into()
}

/// Reads and validates a draft config.
///
/// # Errors
/// The engine's message, with the path of the culprit (`questions[2].options[1].points`).
fn read(config: &JsValue) -> Result<Form, (String, String)> {
    let value =
        to_value(config, "config").map_err(|err| ("config".to_owned(), err.message.clone()))?;
    Form::from_value(value).map_err(|err| (err.path().to_owned(), err.to_string()))
}

/// Checks a draft config with the engine: `{ok, errors: [{path, message}], warnings: [...]}`.
/// Errors stop a form (the engine reports the first it finds); warnings are the delivery
/// settings `bantam-collector check` warns about.
#[wasm_bindgen(js_name = checkConfig)]
pub fn check_config(
    #[wasm_bindgen(unchecked_param_type = "BantamConfig")] config: JsValue,
) -> JsValue {
    match read(&config) {
        Ok(form) => obj(&[
            ("ok", JsValue::TRUE),
            ("errors", array([])),
            (
                "warnings",
                array(
                    delivery_warnings(&form)
                        .iter()
                        .map(|w| message(&w.path, &w.message)),
                ),
            ),
        ]),
        Err((path, text)) => obj(&[
            ("ok", JsValue::FALSE),
            ("errors", array([message(&path, &text)])),
            ("warnings", array([])),
        ]),
    }
}

fn config_error((path, text): (String, String)) -> JsValue {
    let error = js_sys::TypeError::new(&text);
    let _ = js_sys::Reflect::set(&error, &"path".into(), &JsValue::from_str(&path));
    error.into()
}

/// The form a valid config makes, as the editor's preview controls and score simulator need
/// it: every question after the preset and overrides (`id`, `kind`, `label`, `required`,
/// `category`, `options`, `ranges`, `min`, `max`, `showIf` question), the grades, the signals
/// and the first visit's steps (`steps`: question ids per step).
///
/// # Errors
/// A `TypeError` with the engine's message and a `path` property for an invalid config.
#[wasm_bindgen(js_name = formOutline)]
pub fn form_outline(
    #[wasm_bindgen(unchecked_param_type = "BantamConfig")] config: JsValue,
) -> Result<JsValue, JsValue> {
    let form = read(&config).map_err(config_error)?;
    let question = |q: &bantam_engine::Question| {
        let mut pairs = vec![
            ("id", JsValue::from_str(&q.id)),
            ("kind", JsValue::from_str(q.kind.as_str())),
            ("label", JsValue::from_str(&q.label)),
            ("shortLabel", JsValue::from_str(&q.short_label)),
            ("required", JsValue::from_bool(q.required)),
            ("category", JsValue::from_str(q.category.as_str())),
            (
                "options",
                array(q.kind.choices().iter().map(|c| {
                    obj(&[
                        ("id", JsValue::from_str(&c.id)),
                        ("label", JsValue::from_str(&c.label)),
                        ("points", JsValue::from(c.points)),
                    ])
                })),
            ),
        ];
        if let Kind::Number { min, max, ranges } = &q.kind {
            pairs.push(("min", JsValue::from_f64(*min)));
            pairs.push(("max", JsValue::from_f64(*max)));
            pairs.push((
                "ranges",
                array(ranges.iter().map(|r| {
                    obj(&[
                        ("min", JsValue::from_f64(r.min)),
                        ("max", r.max.map_or(JsValue::NULL, JsValue::from_f64)),
                        ("label", JsValue::from_str(&r.label)),
                        ("points", JsValue::from(r.points)),
                    ])
                })),
            ));
        }
        if let Some(condition) = &q.show_if {
            let target = &form.questions[condition.question()].id;
            pairs.push(("showIf", JsValue::from_str(target)));
        }
        obj(&pairs)
    };
    let first_visit = next_questions(&form, &Answers::new());
    let steps = first_visit.chunks(form.questions_per_step).map(|step| {
        array(
            step.iter()
                .map(|&i| JsValue::from_str(&form.questions[i].id)),
        )
    });
    Ok(obj(&[
        ("formId", JsValue::from_str(&form.id)),
        ("locale", JsValue::from_str(&form.locale)),
        ("questions", array(form.questions.iter().map(question))),
        (
            "grades",
            array(form.grades.iter().map(|g| {
                obj(&[
                    ("name", JsValue::from_str(&g.name)),
                    ("label", JsValue::from_str(&g.label)),
                    ("min", JsValue::from(g.min)),
                ])
            })),
        ),
        (
            "signals",
            array(form.signals.iter().map(|s| {
                obj(&[
                    ("id", JsValue::from_str(&s.id)),
                    ("input", JsValue::from_str(s.input.as_str())),
                    ("shortLabel", JsValue::from_str(&s.short_label)),
                ])
            })),
        ),
        ("steps", array(steps)),
    ]))
}

/// Scores answers with a draft config, as a lead carries its score: `{total, known, grade,
/// cappedBy?, breakdown, reasons, engineVersion}`. `answers` maps question ids to values as a
/// lead holds them (an option id, a list of option ids, a number, a boolean, text); an empty
/// or missing value is a skipped question. `touch`, optional, is the page the visitor arrived
/// on and its referrer (`{url, referrer}`), which the form's signals read.
///
/// # Errors
/// A `TypeError` with a `path` property for an invalid config (`questions[1].label`) or an
/// answer its question does not take (`answers.budget`).
#[wasm_bindgen(js_name = scoreAnswers)]
pub fn score_answers(
    #[wasm_bindgen(unchecked_param_type = "BantamConfig")] config: JsValue,
    #[wasm_bindgen(unchecked_param_type = "Record<string, unknown>")] answers: JsValue,
    #[wasm_bindgen(unchecked_param_type = "{ url?: string; referrer?: string } | undefined")]
    touch: JsValue,
) -> Result<JsValue, JsValue> {
    let form = read(&config).map_err(config_error)?;
    let answers = to_value(&answers, "answers")
        .map_err(|err| config_error(("answers".into(), err.message)))?;
    let mut values = Map::new();
    if let Value::Object(entries) = answers {
        for (id, value) in entries {
            let empty = match &value {
                Value::Null => true,
                Value::String(s) => s.is_empty(),
                Value::Array(items) => items.is_empty(),
                _ => false,
            };
            if empty {
                continue;
            }
            let path = format!("answers.{id}");
            let value = AnswerValue::from_value(&value)
                .ok_or_else(|| config_error((path.clone(), format!("{path}: not an answer"))))?;
            values.insert(id, value);
        }
    }
    let answers = Answers::from_values(&form, values).map_err(|(id, err)| {
        config_error((format!("answers.{id}"), format!("answers.{id}: {err}")))
    })?;
    let touch = (!touch.is_undefined() && !touch.is_null()).then(|| {
        let field = |key: &str| {
            js_sys::Reflect::get(&touch, &JsValue::from_str(key))
                .ok()
                .and_then(|v| v.as_string())
                .unwrap_or_default()
        };
        Touch::from_page(&field("url"), &field("referrer"), "")
    });
    Ok(from_json(
        &score_with(&form, &answers, touch.as_ref()).to_json(),
    ))
}
