//! Scoring: points per answer, the per-category breakdown, a 0-100 total, a grade and reasons.

use crate::map::Map;

use crate::answer::{format_number, AnswerValue, Answers};
use crate::form::{Category, Form, Kind, Question};
use crate::texts::fill;
use crate::value::JsonWriter;
use crate::ENGINE_VERSION;

/// One category's part of the score.
#[derive(Debug, Clone, PartialEq)]
#[cfg_attr(
    feature = "serde",
    derive(serde::Deserialize),
    serde(rename_all = "camelCase")
)]
pub struct CategoryScore {
    /// Points earned by the answers in this category (may be negative).
    pub points: i32,
    /// Most points the shown questions of this category can earn.
    pub max_points: i32,
    /// `points / maxPoints` as 0-100 (0 when nothing can be earned).
    pub score: u8,
    /// The category's weight in the total.
    pub weight: u32,
    /// Shown questions of this category that have an answer.
    pub answered: u32,
    /// Shown questions of this category without an answer.
    pub unanswered: u32,
}

/// One human-readable line explaining the score.
#[derive(Debug, Clone, PartialEq)]
#[cfg_attr(
    feature = "serde",
    derive(serde::Deserialize),
    serde(rename_all = "camelCase")
)]
pub struct Reason {
    /// The question the reason is about.
    pub question_id: String,
    /// Its category.
    pub category: Category,
    /// Points it contributed.
    pub points: i32,
    /// Such as `Budget $50k–$250k: +25` or `Need: not answered`, in the form's locale.
    pub text: String,
}

/// The result of [`score`].
#[derive(Debug, Clone, PartialEq)]
#[cfg_attr(
    feature = "serde",
    derive(serde::Deserialize),
    serde(rename_all = "camelCase")
)]
pub struct Score {
    /// Weighted, normalised total, 0-100.
    pub total: u8,
    /// Grade name, such as `hot`.
    pub grade: String,
    /// The grade a disqualifier capped the lead at, if one did.
    #[cfg_attr(feature = "serde", serde(default))]
    pub capped_by: Option<String>,
    /// Per category, keyed by category name.
    pub breakdown: Map<Category, CategoryScore>,
    /// Why, in form order.
    pub reasons: Vec<Reason>,
    /// Version of the engine that computed this.
    pub engine_version: String,
}

/// Points of one answer and the label of what earned them, plus the grade cap it carries.
fn answer_points(q: &Question, value: &AnswerValue) -> (i32, String, Option<usize>) {
    match (&q.kind, value) {
        (Kind::SingleChoice(_), AnswerValue::Text(id)) => match q.choice(id) {
            Some(c) => (c.points, c.label.clone(), c.cap_grade),
            None => (0, id.clone(), None),
        },
        (Kind::YesNo(_), AnswerValue::Bool(b)) => match q.choice(if *b { "yes" } else { "no" }) {
            Some(c) => (c.points, c.label.clone(), c.cap_grade),
            None => (0, String::new(), None),
        },
        (Kind::MultipleChoice(_), AnswerValue::List(ids)) => {
            let chosen: Vec<_> = ids.iter().filter_map(|id| q.choice(id)).collect();
            let points = chosen.iter().map(|c| c.points).sum();
            let label = chosen
                .iter()
                .map(|c| c.label.as_str())
                .collect::<Vec<_>>()
                .join(", ");
            let cap = chosen.iter().filter_map(|c| c.cap_grade).max();
            (points, label, cap)
        }
        (Kind::Number { ranges, .. }, AnswerValue::Number(n)) => {
            match ranges.iter().find(|r| r.contains(*n)) {
                Some(r) => (
                    r.points,
                    format!("{} ({})", format_number(*n), r.label),
                    r.cap_grade,
                ),
                None => (0, format_number(*n), None),
            }
        }
        (Kind::Consent, AnswerValue::Bool(false)) => (0, String::new(), None),
        (Kind::Text | Kind::Email | Kind::Phone | Kind::Consent, _) => {
            (q.points, String::new(), None)
        }
        _ => (0, String::new(), None),
    }
}

impl Score {
    /// The score as JSON, as it appears in the lead document and in `bantam:scored`.
    pub fn to_json(&self) -> String {
        let mut w = JsonWriter::new();
        self.write_json(&mut w, None);
        w.finish()
    }

    pub(crate) fn write_json(&self, w: &mut JsonWriter, key: Option<&str>) {
        w.begin_object(key);
        w.int(Some("total"), i64::from(self.total));
        w.string(Some("grade"), &self.grade);
        if let Some(capped) = &self.capped_by {
            w.string(Some("cappedBy"), capped);
        }
        w.begin_object(Some("breakdown"));
        for (category, part) in &self.breakdown {
            w.begin_object(Some(category.as_str()));
            w.int(Some("points"), i64::from(part.points));
            w.int(Some("maxPoints"), i64::from(part.max_points));
            w.int(Some("score"), i64::from(part.score));
            w.int(Some("weight"), i64::from(part.weight));
            w.int(Some("answered"), i64::from(part.answered));
            w.int(Some("unanswered"), i64::from(part.unanswered));
            w.end_object();
        }
        w.end_object();
        w.begin_array(Some("reasons"));
        for reason in &self.reasons {
            w.begin_object(None);
            w.string(Some("questionId"), &reason.question_id);
            w.string(Some("category"), reason.category.as_str());
            w.int(Some("points"), i64::from(reason.points));
            w.string(Some("text"), &reason.text);
            w.end_object();
        }
        w.end_array();
        w.string(Some("engineVersion"), &self.engine_version);
        w.end_object();
    }
}

fn signed(points: i32) -> String {
    if points >= 0 {
        format!("+{points}")
    } else {
        format!("{points}")
    }
}

/// Scores a visitor's answers.
///
/// Only questions shown under these answers count. Each category's points are normalised by
/// the most its shown questions can earn, weighted, and the weighted mean is the total
/// (0-100, rounded). An unanswered question earns nothing and is named in the reasons when it
/// could have earned points. A disqualifier (an option or range with `capGrade`) caps the
/// grade. The result depends on nothing but the form and the answers.
pub fn score(form: &Form, answers: &Answers) -> Score {
    let mut points = [0i32; 6];
    let mut max_points = [0i32; 6];
    let mut answered = [0u32; 6];
    let mut unanswered = [0u32; 6];
    let mut reasons = Vec::new();
    let mut cap: Option<usize> = None;

    for (index, q) in form.questions.iter().enumerate() {
        if !form.is_visible(index, answers) {
            continue;
        }
        let c = q.category.index();
        let q_max = q.max_points();
        max_points[c] += q_max;
        match answers.get(&q.id) {
            Some(value) => {
                answered[c] += 1;
                let (p, label, q_cap) = answer_points(q, value);
                points[c] += p;
                if let Some(q_cap) = q_cap {
                    cap = Some(cap.map_or(q_cap, |c| c.max(q_cap)));
                }
                if p != 0 || q_max != 0 || q_cap.is_some() {
                    let mut text = if label.is_empty() {
                        format!("{}: {}", q.short_label, signed(p))
                    } else {
                        format!("{} {}: {}", q.short_label, label, signed(p))
                    };
                    if let Some(g) = q_cap {
                        text.push(' ');
                        text.push_str(&fill(
                            &form.texts.reason_capped,
                            &[("grade", &form.grades[g].label)],
                        ));
                    }
                    reasons.push(Reason {
                        question_id: q.id.clone(),
                        category: q.category,
                        points: p,
                        text,
                    });
                }
            }
            None => {
                unanswered[c] += 1;
                if q_max > 0 {
                    reasons.push(Reason {
                        question_id: q.id.clone(),
                        category: q.category,
                        points: 0,
                        text: fill(
                            &form.texts.reason_not_answered,
                            &[("question", &q.short_label)],
                        ),
                    });
                }
            }
        }
    }

    let mut weighted = 0.0;
    let mut weight_sum = 0u32;
    let mut breakdown = Map::new();
    for category in Category::ALL {
        let c = category.index();
        let ratio = if max_points[c] > 0 {
            (f64::from(points[c]) / f64::from(max_points[c])).clamp(0.0, 1.0)
        } else {
            0.0
        };
        if max_points[c] > 0 {
            weighted += f64::from(form.weights[c]) * ratio;
            weight_sum += form.weights[c];
        }
        if max_points[c] > 0 || answered[c] + unanswered[c] > 0 {
            breakdown.insert(
                category,
                CategoryScore {
                    points: points[c],
                    max_points: max_points[c],
                    score: (ratio * 100.0).round() as u8,
                    weight: form.weights[c],
                    answered: answered[c],
                    unanswered: unanswered[c],
                },
            );
        }
    }
    let total = if weight_sum > 0 {
        (weighted * 100.0 / f64::from(weight_sum))
            .round()
            .clamp(0.0, 100.0) as u8
    } else {
        0
    };
    let by_total = form
        .grades
        .iter()
        .position(|g| total >= g.min)
        .unwrap_or(form.grades.len() - 1);
    let (grade, capped_by) = match cap {
        Some(cap) if cap > by_total => (cap, Some(form.grades[cap].name.clone())),
        _ => (by_total, None),
    };
    Score {
        total,
        grade: form.grades[grade].name.clone(),
        capped_by,
        breakdown,
        reasons,
        engine_version: ENGINE_VERSION.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::answer::Input;

    fn bant() -> Form {
        let config = crate::config::test_config(r#"{"formId":"t","preset":"bant"}"#).unwrap();
        Form::from_config(config).unwrap()
    }

    fn answers(form: &Form, pairs: &[(&str, &str)]) -> Answers {
        let mut answers = Answers::new();
        for (id, value) in pairs {
            let q = form.question(id).unwrap();
            let input = match q.kind {
                Kind::SingleChoice(_) | Kind::YesNo(_) | Kind::MultipleChoice(_) => {
                    Input::Checked(value.split('+').map(str::to_owned).collect())
                }
                Kind::Consent => Input::Flag(*value == "true"),
                _ => Input::Text(value),
            };
            answers.set(form, id, input).unwrap();
        }
        answers
    }

    /// Checks total, grade and reason texts for a set of answers to the BANT preset.
    fn check(pairs: &[(&str, &str)], total: u8, grade: &str, reasons: &[&str]) {
        let form = bant();
        let s = score(&form, &answers(&form, pairs));
        let texts: Vec<_> = s.reasons.iter().map(|r| r.text.as_str()).collect();
        assert_eq!(
            (s.total, s.grade.as_str(), texts.as_slice()),
            (total, grade, reasons),
            "{pairs:?}"
        );
    }

    #[test]
    fn nothing_answered_scores_zero_and_names_what_is_missing() {
        check(
            &[],
            0,
            "cold",
            &[
                "Budget: not answered",
                "Role: not answered",
                "Timeframe: not answered",
                "Need: not answered",
                "Team size: not answered",
            ],
        );
    }

    #[test]
    fn the_best_answers_score_100_and_hot() {
        check(
            &[
                ("budget", "over-250k"),
                ("role", "decision-maker"),
                ("timeframe", "this-month"),
                ("need", "replace"),
                ("headcount", "400"),
            ],
            100,
            "hot",
            &[
                "Budget Over $250k: +30",
                "Role I make the decision: +25",
                "Timeframe This month: +20",
                "Need Replace a tool we use today: +20",
                "Team size 400 (250+): +12",
            ],
        );
    }

    #[test]
    fn a_first_visit_can_be_hot_without_the_later_questions() {
        // 30 + 25 + 20 of 100 weight: 75.
        check(
            &[
                ("budget", "over-250k"),
                ("role", "decision-maker"),
                ("timeframe", "this-month"),
            ],
            75,
            "hot",
            &[
                "Budget Over $250k: +30",
                "Role I make the decision: +25",
                "Timeframe This month: +20",
                "Need: not answered",
                "Team size: not answered",
            ],
        );
    }

    #[test]
    fn partial_points_are_normalised_per_category() {
        // budget 25/30*30 = 25, role 15/25*25 = 15, timeframe 15/20*20 = 15, need 10/20*15 = 7.5,
        // team 6/12*10 = 5: 67.5 of 100, rounds to 68.
        check(
            &[
                ("budget", "50k-250k"),
                ("role", "influencer"),
                ("timeframe", "this-quarter"),
                ("need", "new"),
                ("headcount", "12"),
            ],
            68,
            "warm",
            &[
                "Budget $50k–$250k: +25",
                "Role I recommend; someone else signs: +15",
                "Timeframe Within 3 months: +15",
                "Need Start something new: +10",
                "Team size 12 (10–49): +6",
            ],
        );
    }

    #[test]
    fn a_disqualifier_caps_the_grade() {
        let form = bant();
        let s = score(
            &form,
            &answers(
                &form,
                &[
                    ("budget", "over-250k"),
                    ("role", "student"),
                    ("timeframe", "this-month"),
                    ("need", "replace"),
                ],
            ),
        );
        assert!(s.total >= 40, "total {} would be warm", s.total);
        assert_eq!(s.grade, "cold");
        assert_eq!(s.capped_by.as_deref(), Some("cold"));
        assert!(s
            .reasons
            .iter()
            .any(|r| r.text == "Role I'm a student: +0 (grade at most Cold)"));
    }

    #[test]
    fn the_breakdown_counts_answered_and_unanswered() {
        let form = bant();
        let s = score(
            &form,
            &answers(&form, &[("email", "a@b.co"), ("budget", "10k-50k")]),
        );
        let budget = &s.breakdown[&Category::Budget];
        assert_eq!(
            (
                budget.points,
                budget.max_points,
                budget.score,
                budget.weight
            ),
            (15, 30, 50, 30)
        );
        let contact = &s.breakdown[&Category::Contact];
        assert_eq!((contact.answered, contact.unanswered), (1, 2));
        assert_eq!(s.engine_version, ENGINE_VERSION);
    }

    #[test]
    fn hidden_questions_do_not_count() {
        let config = crate::config::test_config(
            r#"{"formId":"t","questions":[
                {"id":"has","kind":"yesNo","label":"Budget?","category":"budget","options":[{"id":"yes","points":10}]},
                {"id":"amount","kind":"number","label":"How much?","category":"budget",
                 "showIf":{"question":"has","equals":"yes"},
                 "ranges":[{"min":0,"max":999,"points":1},{"min":1000,"points":10}]}
            ]}"#,
        )
        .unwrap();
        let form = Form::from_config(config).unwrap();
        let mut a = Answers::new();
        a.set(&form, "has", Input::Checked(vec!["no".into()]))
            .unwrap();
        // The stale answer to the hidden question is ignored.
        a.set(&form, "amount", Input::Text("5000")).unwrap();
        let s = score(&form, &a);
        assert_eq!(s.breakdown[&Category::Budget].max_points, 10);
        assert_eq!(s.total, 0);
        a.set(&form, "has", Input::Checked(vec!["yes".into()]))
            .unwrap();
        assert_eq!(score(&form, &a).total, 100);
    }

    #[test]
    fn custom_grades_and_weights_apply() {
        let config = crate::config::test_config(
            r#"{"formId":"t","preset":"bant","weights":{"budget":100,"authority":0,"need":0,"timeframe":0,"fit":0},
                "grades":[{"name":"a","min":90},{"name":"b","min":50},{"name":"c","min":10},{"name":"d","min":0}]}"#,
        )
        .unwrap();
        let form = Form::from_config(config).unwrap();
        let s = score(
            &form,
            &answers(&form, &[("budget", "50k-250k"), ("role", "decision-maker")]),
        );
        assert_eq!((s.total, s.grade.as_str()), (83, "b"));
    }
}
