//! Scoring: points per answer, the per-category breakdown, a 0-100 total, a grade and reasons.

use crate::map::Map;
use crate::prelude::*;
use crate::value::{before_any, concat, decimal, join_with, split_once_ascii};

use crate::answer::{format_number, AnswerValue, Answers};
use crate::attribution::{host, Touch};
use crate::context::{domain_kind, email_domain};
use crate::form::{Category, Form, Kind, Question, Scoring, Signal, SignalInput};
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
    /// The share (0-100) of the shown questions that carry points and are answered or
    /// skipped; the rest are not asked yet and left out of the total. 100 when every such
    /// question is known (and for leads scored before questions could be unknown).
    #[cfg_attr(feature = "serde", serde(default = "all_known"))]
    pub known: u8,
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

/// The `known` of a score written before it existed: every question counted.
#[cfg(feature = "serde")]
fn all_known() -> u8 {
    100
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
            let mut chosen = Vec::new();
            for id in ids {
                if let Some(c) = q.choice(id) {
                    chosen.push(c);
                }
            }
            let points = chosen.iter().map(|c| c.points).sum();
            let label = join_with(chosen.iter().map(|c| c.label.as_str()), ", ");
            let cap = chosen.iter().filter_map(|c| c.cap_grade).max();
            (points, label, cap)
        }
        (Kind::Number { ranges, .. }, AnswerValue::Number(n)) => {
            match ranges.iter().find(|r| r.contains(*n)) {
                Some(r) => (
                    r.points,
                    concat(&[&format_number(*n), " (", &r.label, ")"]),
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
        w.int(Some("known"), i64::from(self.known));
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

/// `points` with its sign, `+3` or `-2`. (Texts here are joined, not `format!`ted: the lean
/// widget module ships no formatting machinery.)
fn signed(points: i32) -> String {
    let digits = decimal(i64::from(points));
    if points >= 0 {
        concat(&["+", &digits])
    } else {
        digits
    }
}

/// Scores a visitor's answers, without a touch for the form's signals (each scores its
/// `none` points, a click id `no`): [`score_with`] with none.
pub fn score(form: &Form, answers: &Answers) -> Score {
    score_with(form, answers, None)
}

impl SignalInput {
    /// The value this input reads from a lead: the touch's UTM value, `yes`/`no` for a click
    /// id, the referrer's host, the landing page's path, the email's kind (`free` or
    /// `business`); `None` when the lead has none.
    pub fn value(self, form: &Form, answers: &Answers, touch: Option<&Touch>) -> Option<String> {
        let utm = |value: Option<&Option<String>>| {
            value
                .and_then(Option::as_deref)
                .map(str::trim)
                .filter(|v| !v.is_empty())
                .map(str::to_owned)
        };
        match self {
            SignalInput::UtmSource => utm(touch.map(|t| &t.utm.source)),
            SignalInput::UtmMedium => utm(touch.map(|t| &t.utm.medium)),
            SignalInput::UtmCampaign => utm(touch.map(|t| &t.utm.campaign)),
            SignalInput::ClickId => Some(
                if touch.is_some_and(|t| !t.click_ids.is_empty()) {
                    "yes"
                } else {
                    "no"
                }
                .to_owned(),
            ),
            SignalInput::ReferrerDomain => touch
                .map(|t| {
                    let host = host(&t.referrer);
                    before_any(host, b":").to_ascii_lowercase()
                })
                .filter(|h| !h.is_empty()),
            SignalInput::LandingPage => touch.and_then(|t| path(&t.landing_page)),
            SignalInput::EmailKind => form
                .questions
                .iter()
                .filter(|q| matches!(q.kind, Kind::Email) && q.category == Category::Contact)
                .find_map(|q| match answers.get(&q.id) {
                    Some(AnswerValue::Text(email)) => email_domain(email),
                    _ => None,
                })
                .map(|domain| domain_kind(&domain).as_str().to_owned()),
        }
    }

    /// Whether the config key `key` covers `value`: a domain covers its subdomains, a path the
    /// paths under it; otherwise the same text in any ASCII case. Where several keys cover a
    /// value, the longest counts.
    pub fn covers(self, key: &str, value: &str) -> bool {
        match self {
            SignalInput::ReferrerDomain => value
                .strip_suffix(key)
                .is_some_and(|rest| rest.is_empty() || rest.ends_with('.')),
            SignalInput::LandingPage => value
                .strip_prefix(key)
                .is_some_and(|rest| rest.is_empty() || rest.starts_with('/') || key.ends_with('/')),
            _ => value.eq_ignore_ascii_case(key),
        }
    }
}

/// The path of a URL (`https://x.io/pricing?a=1` gives `/pricing`), `None` without a host.
fn path(url: &str) -> Option<String> {
    // Searched by bytes, and `strip_prefix`: a `&str` or char search would bring its searcher
    // into the widget.
    let rest = split_once_ascii(url, b':')?.1.strip_prefix("//")?;
    let path = split_once_ascii(rest, b'/').map_or("", |(_, p)| p);
    let path = before_any(path, b"?#");
    Some(concat(&["/", path]))
}

/// Points of a signal's value: the longest covering key's, else `other`.
fn signal_points(signal: &Signal, value: &str) -> i32 {
    let mut best: Option<(usize, i32)> = None;
    for (key, points) in &signal.values {
        if signal.input.covers(key, value) && best.is_none_or(|(len, _)| key.len() > len) {
            best = Some((key.len(), *points));
        }
    }
    best.map_or(signal.other, |(_, points)| points)
}

/// Scores a visitor's answers, with the touch (where the lead came from) the form's signals
/// read.
///
/// Only questions shown under these answers count. A question is *answered*, *skipped* (asked
/// on this visit, see [`Answers::set_asked`], and left empty: it earns its `unanswered`
/// points) or *not asked yet* (unknown: it earns nothing and its points do not count in any
/// maximum). Signals always count. In [`Scoring::Shares`] each category's points are
/// normalised by the most its answered and skipped questions and its signals can earn,
/// weighted, and the weighted mean is the total (0-100, rounded); in [`Scoring::Sum`] the
/// total is the offset plus every point, clamped to 0-100. A skipped question is named in the
/// reasons when it could have earned points. A disqualifier (an option or range with
/// `capGrade`) caps the grade. [`Score::known`] is the share of the shown questions that carry
/// points and are answered or skipped. The result depends on nothing but its arguments.
pub fn score_with(form: &Form, answers: &Answers, touch: Option<&Touch>) -> Score {
    let mut points = [0i32; 6];
    let mut max_points = [0i32; 6];
    let mut answered = [0u32; 6];
    let mut unanswered = [0u32; 6];
    let mut reasons = Vec::new();
    let mut cap: Option<usize> = None;
    let (mut scoring, mut known) = (0u32, 0u32);

    for (index, q) in form.questions.iter().enumerate() {
        if !form.is_visible(index, answers) {
            continue;
        }
        let c = q.category.index();
        let q_max = q.max_points();
        let value = answers.get(&q.id);
        let asked = value.is_some() || answers.was_asked(&q.id);
        if q.scores() {
            scoring += 1;
            known += u32::from(asked);
        }
        if asked {
            max_points[c] += q_max;
        }
        match value {
            Some(value) => {
                answered[c] += 1;
                let (p, label, q_cap) = answer_points(q, value);
                points[c] += p;
                if let Some(q_cap) = q_cap {
                    cap = Some(cap.map_or(q_cap, |c| c.max(q_cap)));
                }
                if p != 0 || q_max != 0 || q_cap.is_some() {
                    let mut text = if label.is_empty() {
                        concat(&[&q.short_label, ": ", &signed(p)])
                    } else {
                        concat(&[&q.short_label, " ", &label, ": ", &signed(p)])
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
                if asked {
                    points[c] += q.unanswered;
                }
                if asked && (q_max > 0 || q.unanswered != 0) {
                    let mut text = fill(
                        &form.texts.reason_not_answered,
                        &[("question", &q.short_label)],
                    );
                    if q.unanswered != 0 {
                        text = concat(&[&text, " (", &signed(q.unanswered), ")"]);
                    }
                    reasons.push(Reason {
                        question_id: q.id.clone(),
                        category: q.category,
                        points: q.unanswered,
                        text,
                    });
                }
            }
        }
    }
    for signal in &form.signals {
        let c = signal.category.index();
        let s_max = signal.max_points();
        max_points[c] += s_max;
        let value = signal.input.value(form, answers, touch);
        let (p, text) = match &value {
            Some(v) => {
                let p = signal_points(signal, v);
                (
                    p,
                    concat(&[&signal.short_label, " ", v.as_str(), ": ", &signed(p)]),
                )
            }
            None => (
                signal.none,
                concat(&[&signal.short_label, ": ", &signed(signal.none)]),
            ),
        };
        points[c] += p;
        if p != 0 || s_max != 0 {
            reasons.push(Reason {
                question_id: signal.id.clone(),
                category: signal.category,
                points: p,
                text,
            });
        }
    }

    let mut weighted = 0.0;
    let mut weight_sum = 0u32;
    let mut breakdown = Map::new();
    let sum = match form.scoring {
        Scoring::Sum { offset } => Some(offset),
        Scoring::Shares => None,
    };
    for category in Category::ALL {
        let c = category.index();
        let ratio = if max_points[c] > 0 {
            (f64::from(points[c]) / f64::from(max_points[c])).clamp(0.0, 1.0)
        } else {
            0.0
        };
        let weight = if sum.is_some() { 0 } else { form.weights[c] };
        if max_points[c] > 0 {
            weighted += f64::from(weight) * ratio;
            weight_sum += weight;
        }
        if max_points[c] > 0 || answered[c] + unanswered[c] > 0 {
            // `Category::ALL` is in key order.
            breakdown.push_last(
                category,
                CategoryScore {
                    points: points[c],
                    max_points: max_points[c],
                    score: round(ratio * 100.0) as u8,
                    weight,
                    answered: answered[c],
                    unanswered: unanswered[c],
                },
            );
        }
    }
    let total = match sum {
        Some(offset) => points
            .iter()
            .fold(i64::from(offset), |t, p| t + i64::from(*p))
            .clamp(0, 100) as u8,
        None if weight_sum > 0 => {
            round(weighted * 100.0 / f64::from(weight_sum)).clamp(0.0, 100.0) as u8
        }
        None => 0,
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
        known: if scoring == 0 {
            100
        } else {
            ((known * 200 + scoring) / (scoring * 2)) as u8
        },
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

/// Unknown and skipped questions, signals and the sum mode.
#[cfg(test)]
mod evidence {
    use super::*;
    use crate::answer::Input;
    use crate::attribution::Touch;
    use crate::profile::next_questions;

    fn form(json: &str) -> Form {
        Form::from_config(crate::config::test_config(json).unwrap()).unwrap()
    }

    /// Answers `pairs` (choices by option id, numbers and texts as typed), then records the
    /// questions asked on this visit when `asked` is given.
    fn answers(
        form: &Form,
        known: &Answers,
        pairs: &[(&str, &str)],
        asked: Option<&[usize]>,
    ) -> Answers {
        let mut a = known.clone();
        for (id, value) in pairs {
            let input = match form.question(id).unwrap().kind {
                Kind::SingleChoice(_) | Kind::YesNo(_) | Kind::MultipleChoice(_) => {
                    Input::Checked(vec![(*value).to_owned()])
                }
                Kind::Consent => Input::Flag(true),
                _ => Input::Text(value),
            };
            a.set(form, id, input).unwrap();
        }
        if let Some(asked) = asked {
            let ids = asked
                .iter()
                .map(|&i| form.questions[i].id.clone())
                .collect();
            a.set_asked(form, ids).unwrap();
        }
        a
    }

    fn texts(s: &Score) -> Vec<&str> {
        s.reasons.iter().map(|r| r.text.as_str()).collect()
    }

    /// The issue's case: $50k-$250k, decision maker, within three months scored 65 (warm) on
    /// the first visit and 85 (hot) once need and headcount were known. Unknown is not zero:
    /// the first visit now grades as the return visit does when those answers are neutral.
    #[test]
    fn the_first_visit_grades_as_the_return_visit_when_the_later_answers_are_neutral() {
        let form = form(r#"{"formId":"t","preset":"bant"}"#);
        let first_asked = next_questions(&form, &Answers::new());
        let first = [
            ("email", "ann@acme.io"),
            ("company", "Acme"),
            ("consent", "true"),
            ("budget", "50k-250k"),
            ("role", "decision-maker"),
            ("timeframe", "this-quarter"),
        ];
        let visit1 = answers(&form, &Answers::new(), &first, Some(&first_asked));
        let asked_ids: Vec<_> = first_asked
            .iter()
            .map(|&i| form.questions[i].id.as_str())
            .collect();
        assert_eq!(
            asked_ids,
            ["email", "company", "budget", "role", "timeframe", "consent"]
        );
        // Need "automate" (15 of 20) and 120 people (10 of 12) are about as good as what the
        // first visit told: neutral.
        let later = [("need", "automate"), ("headcount", "120")];
        let second_asked = next_questions(&form, &visit1);
        let visit2 = answers(&form, &visit1, &later, Some(&second_asked));
        let (s1, s2) = (score(&form, &visit1), score(&form, &visit2));
        assert_eq!((s1.total, s1.grade.as_str(), s1.known), (87, "hot", 60));
        assert_eq!((s2.total, s2.grade.as_str(), s2.known), (85, "hot", 100));
        assert!(
            !texts(&s1).iter().any(|t| t.contains("not answered")),
            "questions not asked yet are not 'not answered': {:?}",
            texts(&s1)
        );
        // Without the record of what was asked, the old rule: need and headcount count as 0.
        let old = answers(&form, &Answers::new(), &first, None);
        assert_eq!(
            (score(&form, &old).total, score(&form, &old).grade.as_str()),
            (65, "warm")
        );
    }

    #[test]
    fn a_skipped_question_scores_its_unanswered_points_and_an_unknown_one_nothing() {
        let form = form(
            r#"{"formId":"t","questions":[
                {"id":"budget","kind":"singleChoice","label":"Budget","category":"budget",
                 "options":[{"id":"low","label":"Low","points":2},{"id":"high","label":"High","points":10}]},
                {"id":"phone","kind":"phone","label":"Phone","category":"authority","points":10,"unanswered":-5},
                {"id":"seats","kind":"number","label":"Seats","ranges":[{"min":0,"points":4}],"unanswered":6}
            ]}"#,
        );
        // Budget answered; phone skipped (asked, empty); seats not asked yet.
        let a = answers(&form, &Answers::new(), &[("budget", "high")], Some(&[0, 1]));
        let s = score(&form, &a);
        let authority = &s.breakdown[&Category::Authority];
        assert_eq!(
            (authority.points, authority.max_points, authority.score),
            (-5, 10, 0)
        );
        assert_eq!(
            s.breakdown[&Category::Fit].max_points,
            0,
            "seats is unknown"
        );
        // Budget 10/10 * 30 + authority 0 * 25, of 55: 54.5.
        assert_eq!((s.total, s.known), (55, 67));
        assert_eq!(texts(&s), ["Budget High: +10", "Phone: not answered (-5)"]);
        assert_eq!(s.reasons[1].points, -5);
        // Skipping seats earns its 6: more than its one range, so the maximum is 6.
        let a = answers(
            &form,
            &Answers::new(),
            &[("budget", "high")],
            Some(&[0, 1, 2]),
        );
        let fit = &score(&form, &a).breakdown[&Category::Fit];
        assert_eq!((fit.points, fit.max_points, fit.score), (6, 6, 100));
        // The same in a sum: -5 + 10 + 6.
        let sum = crate::config::test_config(
            r#"{"formId":"t","scoring":{"mode":"sum","offset":40},"questions":[
                {"id":"phone","kind":"phone","label":"Phone","points":10,"unanswered":-5},
                {"id":"seats","kind":"number","label":"Seats","ranges":[{"min":0,"points":4}],"unanswered":6}
            ]}"#,
        )
        .unwrap();
        let sum = Form::from_config(sum).unwrap();
        let skipped = answers(&sum, &Answers::new(), &[], Some(&[0, 1]));
        assert_eq!(score(&sum, &skipped).total, 41);
        let unknown = answers(&sum, &Answers::new(), &[], Some(&[]));
        assert_eq!(
            (score(&sum, &unknown).total, score(&sum, &unknown).known),
            (40, 0)
        );
    }

    #[test]
    fn the_sum_mode_keeps_negative_evidence_and_lone_penalties() {
        let form = form(
            r#"{"formId":"t","scoring":{"mode":"sum","offset":30},"questions":[
                {"id":"budget","kind":"singleChoice","label":"Budget","category":"budget",
                 "options":[{"id":"none","label":"None","points":-12},{"id":"big","label":"Big","points":25}]},
                {"id":"student","kind":"yesNo","label":"Student?","category":"authority",
                 "options":[{"id":"yes","points":-20},{"id":"no","points":0}]},
                {"id":"need","kind":"singleChoice","label":"Need","category":"need",
                 "options":[{"id":"meh","label":"Meh","points":0},{"id":"urgent","label":"Urgent","points":15}]}
            ]}"#,
        );
        let total = |pairs: &[(&str, &str)], asked: &[usize]| {
            score(&form, &answers(&form, &Answers::new(), pairs, Some(asked))).total
        };
        assert_eq!(total(&[("budget", "big"), ("student", "no")], &[0, 1]), 55);
        // A penalty alone in its category counts; in shares its maximum (0) would hide it.
        assert_eq!(total(&[("budget", "big"), ("student", "yes")], &[0, 1]), 35);
        // Negative evidence is not clipped at a category share of 0: -12 - 20 + 30.
        assert_eq!(total(&[("budget", "none"), ("student", "yes")], &[0, 1]), 0);
        assert_eq!(total(&[("budget", "none")], &[0]), 18);
        // Clamped to 0-100.
        assert_eq!(total(&[("budget", "big"), ("need", "urgent")], &[0, 2]), 70);
        // A neutral later answer (0 points) leaves the total exactly as it was.
        let before = total(&[("budget", "big")], &[0]);
        assert_eq!(
            total(&[("budget", "big"), ("need", "meh")], &[0, 2]),
            before
        );
        let s = score(
            &form,
            &answers(&form, &Answers::new(), &[("budget", "big")], Some(&[0])),
        );
        assert_eq!(
            s.breakdown[&Category::Budget].weight,
            0,
            "no weights in a sum"
        );
        let high = crate::config::test_config(
            r#"{"formId":"t","scoring":{"mode":"sum","offset":90},"questions":[
                {"id":"a","kind":"yesNo","label":"A?","options":[{"id":"yes","points":50}]}]}"#,
        )
        .unwrap();
        let high = Form::from_config(high).unwrap();
        let yes = answers(&high, &Answers::new(), &[("a", "yes")], Some(&[0]));
        assert_eq!(score(&high, &yes).total, 100);
    }

    /// A form whose only points are one signal of `input` with `values`, `other` (-1, where
    /// the input has other values) and `none` (-2).
    fn signal(input: &str, values: &str) -> Form {
        let other = if input == "emailKind" {
            ""
        } else {
            r#""other":-1,"#
        };
        form(&format!(
            r#"{{"formId":"t","scoring":{{"mode":"sum","offset":50}},
                "questions":[{{"id":"email","kind":"email","label":"Email"}}],
                "signals":[{{"id":"s","input":"{input}","shortLabel":"Source","category":"need",
                              "values":{values},{other}"none":-2}}]}}"#
        ))
    }

    /// The total of `form` for a visitor who arrived on `url` from `referrer` with `email`.
    fn signal_total(form: &Form, url: &str, referrer: &str, email: Option<&str>) -> i32 {
        let pairs: Vec<(&str, &str)> = email.map(|e| ("email", e)).into_iter().collect();
        let a = answers(form, &Answers::new(), &pairs, Some(&[0]));
        let touch = Touch::from_page(url, referrer, "t");
        i32::from(score_with(form, &a, Some(&touch)).total) - 50
    }

    #[test]
    fn utm_values_score_in_any_case_with_other_and_none() {
        for (input, param) in [
            ("utmSource", "utm_source"),
            ("utmMedium", "utm_medium"),
            ("utmCampaign", "utm_campaign"),
        ] {
            let form = signal(input, r#"{"LinkedIn":8,"spring sale":5}"#);
            let at = |value: &str| format!("https://x.io/?{param}={value}");
            assert_eq!(signal_total(&form, &at("linkedin"), "", None), 8, "{input}");
            assert_eq!(
                signal_total(&form, &at("Spring+Sale"), "", None),
                5,
                "{input}"
            );
            assert_eq!(
                signal_total(&form, &at("bing"), "", None),
                -1,
                "{input}: other"
            );
            assert_eq!(
                signal_total(&form, "https://x.io/", "", None),
                -2,
                "{input}: none"
            );
        }
        // Without a touch every signal reads nothing.
        let form = signal("utmSource", r#"{"google":8}"#);
        let s = score(&form, &Answers::new());
        assert_eq!(s.total, 48);
        assert_eq!(texts(&s), ["Source: -2"]);
    }

    #[test]
    fn a_click_id_scores_yes_or_no() {
        let form = form(
            r#"{"formId":"t","questions":[{"id":"q","kind":"yesNo","label":"Q?"}],
                "signals":[{"id":"ad","input":"clickId","values":{"yes":8,"no":-3}}]}"#,
        );
        let a = Answers::new();
        let total = |url: &str| {
            let touch = Touch::from_page(url, "", "t");
            let s = score_with(&form, &a, Some(&touch));
            (
                s.breakdown[&Category::Fit].points,
                s.reasons[0].text.clone(),
            )
        };
        assert_eq!(total("https://x.io/?gclid=1"), (8, "ad yes: +8".to_owned()));
        assert_eq!(
            total("https://x.io/?msclkid=1"),
            (8, "ad yes: +8".to_owned())
        );
        assert_eq!(
            total("https://x.io/?utm_source=a"),
            (-3, "ad no: -3".to_owned())
        );
    }

    #[test]
    fn a_referrer_domain_covers_its_subdomains_and_the_longest_wins() {
        let form = signal(
            "referrerDomain",
            r#"{"google.com":5,"news.google.com":-4,"G2.com":20}"#,
        );
        let from = |referrer: &str| signal_total(&form, "https://x.io/", referrer, None);
        assert_eq!(from("https://www.google.com/search?q=x"), 5);
        assert_eq!(from("https://google.com"), 5);
        assert_eq!(from("https://news.google.com/a"), -4);
        assert_eq!(from("https://www.g2.com:443/products"), 20);
        assert_eq!(from("https://notgoogle.com/"), -1, "not a subdomain");
        assert_eq!(from(""), -2);
    }

    #[test]
    fn a_landing_page_covers_the_paths_under_it_and_the_longest_wins() {
        let form = signal(
            "landingPage",
            r#"{"/pricing":15,"/pricing/enterprise":25,"/blog/":-5}"#,
        );
        let on = |url: &str| signal_total(&form, url, "", None);
        assert_eq!(on("https://x.io/pricing"), 15);
        assert_eq!(on("https://x.io/pricing/?utm_source=a#top"), 15);
        assert_eq!(on("https://x.io/pricing/enterprise/eu"), 25);
        assert_eq!(on("https://x.io/pricing-old"), -1, "not under /pricing");
        assert_eq!(on("https://x.io/blog/post"), -5);
        assert_eq!(on("https://x.io/"), -1);
        assert_eq!(on("not a url"), -2);
    }

    #[test]
    fn the_email_kind_scores_free_mail_and_business_domains() {
        let form = signal("emailKind", r#"{"free":-10,"business":10}"#);
        let with = |email| signal_total(&form, "https://x.io/", "", email);
        assert_eq!(with(Some("ann@gmail.com")), -10);
        assert_eq!(with(Some("ann@acme.io")), 10);
        assert_eq!(with(None), -2);
    }

    #[test]
    fn a_lead_scores_its_last_touch_and_the_collector_scores_it_alike() {
        let form = form(
            r#"{"formId":"t","questions":[{"id":"need","kind":"singleChoice","label":"Need",
                 "options":[{"id":"a","label":"A","points":10}],"unanswered":-3}],
                "signals":[{"id":"src","input":"utmSource","values":{"newsletter":10}}]}"#,
        );
        let mut a = Answers::new();
        a.set_asked(&form, vec!["need".into()]).unwrap();
        let first = Touch::from_page("https://x.io/?utm_source=ads", "", "t1");
        let last = Touch::from_page("https://x.io/?utm_source=newsletter", "", "t2");
        let attribution =
            crate::Attribution::update(Some(crate::Attribution::update(None, first)), last);
        let lead = crate::build_lead(
            &form,
            &a,
            crate::LeadInput {
                id: "1".into(),
                submitted_at: "t".into(),
                page: crate::PageInfo::default(),
                attribution: Some(attribution),
                visit_count: 1,
                new_answers: Vec::new(),
                browser: crate::BrowserInfo::default(),
            },
        );
        assert_eq!(lead.asked.as_deref(), Some(&["need".to_owned()][..]));
        let fit = &lead.score.breakdown[&Category::Fit];
        assert_eq!((fit.points, fit.max_points), (7, 20));
        let json: serde_json::Value = serde_json::from_str(&lead.to_json()).unwrap();
        assert_eq!(json["asked"], serde_json::json!(["need"]));
        let back: crate::LeadDocument = serde_json::from_value(json).unwrap();
        let again = back.rescore(&form, &Answers::from_lead(&form, &back).unwrap());
        assert_eq!(again, lead.score);
        // A lead from before `asked` existed scores by the old rule: need counts as skipped.
        let mut old: serde_json::Value = serde_json::from_str(&lead.to_json()).unwrap();
        old.as_object_mut().unwrap().remove("asked");
        old["score"].as_object_mut().unwrap().remove("known");
        let old: crate::LeadDocument = serde_json::from_value(old).unwrap();
        assert_eq!((old.asked.clone(), old.score.known), (None, 100));
        let answers = Answers::from_lead(&form, &old).unwrap();
        assert_eq!(old.rescore(&form, &answers), lead.score);
        // An asked id the form does not have is refused like an unknown answer.
        let mut bad = back.clone();
        bad.asked = Some(vec!["budget".into()]);
        assert_eq!(Answers::from_lead(&form, &bad).unwrap_err().0, "asked");
    }
}
