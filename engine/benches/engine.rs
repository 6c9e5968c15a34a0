//! Scoring and next-question choice per lead, for the BANT preset and a 200-question form;
//! reading a config of N single-choice questions, which must grow linearly with N.
//!
//! Run with `cargo bench -p bantam-engine` (or `scripts/dev bench`, which also prints the
//! browser and size figures).

use std::hint::black_box;

use bantam_engine::{next_questions, parse_config, score, Answers, Form, Input, Kind, Value};
use criterion::{criterion_group, criterion_main, Criterion};
use serde_json::json;

fn bant() -> Form {
    parse_config(json!({ "formId": "bench", "preset": "bant" })).expect("preset")
}

/// 200 questions of every scoring kind, spread over the categories, some conditional.
fn large() -> Form {
    let categories = ["budget", "authority", "need", "timeframe", "fit"];
    let questions: Vec<_> = (0..200)
        .map(|i| {
            let category = categories[i % 5];
            let mut q = match i % 4 {
                0 => json!({ "kind": "singleChoice", "options": (0..5).map(|k| json!({"id": format!("o{k}"), "label": format!("Option {k}"), "points": k * 3})).collect::<Vec<_>>() }),
                1 => json!({ "kind": "multipleChoice", "options": (0..4).map(|k| json!({"id": format!("o{k}"), "label": format!("Option {k}"), "points": k})).collect::<Vec<_>>() }),
                2 => json!({ "kind": "number", "min": 0, "max": 100000, "ranges": [{"min": 0, "max": 9, "points": 1}, {"min": 10, "max": 99, "points": 5}, {"min": 100, "points": 9}] }),
                _ => json!({ "kind": "yesNo", "options": [{"id": "yes", "points": 4}] }),
            };
            q["id"] = json!(format!("q{i}"));
            q["label"] = json!(format!("Question {i}"));
            q["category"] = json!(category);
            if i % 10 == 9 {
                q["showIf"] = json!({ "question": format!("q{}", i - 1), "answered": true });
            }
            q
        })
        .collect();
    parse_config(json!({ "formId": "large", "questions": questions, "maxQuestionsPerVisit": 8 }))
        .expect("large form")
}

/// Answers every other question with a valid value.
fn half_answered(form: &Form) -> Answers {
    let mut answers = Answers::new();
    for q in form.questions.iter().step_by(2) {
        let input = match &q.kind {
            Kind::SingleChoice(c) | Kind::YesNo(c) => Input::Checked(vec![c[0].id.clone()]),
            Kind::MultipleChoice(c) => {
                Input::Checked(c.iter().take(2).map(|c| c.id.clone()).collect())
            }
            Kind::Number { .. } => Input::Text("120"),
            Kind::Email => Input::Text("ann@acme.io"),
            Kind::Consent => Input::Flag(true),
            _ => Input::Text("Acme"),
        };
        answers.set(form, &q.id, input).expect("valid answer");
    }
    answers
}

/// A config of `n` single-choice questions with two options each, as the widget reads it.
fn single_choice(n: usize) -> Value {
    let questions: Vec<_> = (0..n)
        .map(|i| {
            json!({ "id": format!("q{i}"), "kind": "singleChoice", "label": format!("Question {i}"),
                    "options": [{"id": "a", "label": "A", "points": 1}, {"id": "b", "label": "B"}] })
        })
        .collect();
    serde_json::from_value(json!({ "formId": "scale", "questions": questions })).expect("a value")
}

fn benches(c: &mut Criterion) {
    for n in [10, 100, 1000, 5000] {
        let config = single_choice(n);
        c.bench_function(&format!("read config, {n} questions"), |b| {
            b.iter(|| Form::from_value(black_box(config.clone())).expect("valid"))
        });
    }
    for (name, form) in [("bant preset", bant()), ("200 questions", large())] {
        let answers = half_answered(&form);
        c.bench_function(&format!("score, {name}"), |b| {
            b.iter(|| score(black_box(&form), black_box(&answers)))
        });
        c.bench_function(&format!("next questions, {name}"), |b| {
            b.iter(|| next_questions(black_box(&form), black_box(&answers)))
        });
    }
}

criterion_group!(engine, benches);
criterion_main!(engine);
