//! Learning points from sales outcomes: features from a form and its leads, L2-regularised
//! logistic regression with the penalty chosen by cross-validation, a time-ordered holdout, and
//! a proposal (integer points, an offset, grade thresholds) with its report.
//!
//! Independent of storage: the caller hands over lead documents (as stored) with their sales
//! status and arrival time. Only what a lead carried when it arrived becomes a feature:
//! answers, the questions its visit asked, its touch and its email kind. The sales status, its
//! time and anything else recorded later never do (see [`Features::row`]).
//!
//! The solver is our own Newton method over sparse 0/1 rows (a lead has about a dozen active
//! features among a hundred or so): exact to machine precision in a few iterations, with an
//! unpenalised intercept, warm starts along the penalty path, and no randomness, so the same
//! data always gives the same fit. The crates considered pull in far more for a dense solver:
//! `linfa-logistic` 54 crates (81 `cargo tree` lines: `ndarray`, `argmin`, two versions of
//! `rand`), `smartcore` 15 (26 lines) with a dense L-BFGS over an n × p matrix.

use std::fmt::Write as _;

use bantam_engine::{Answers, Form, Kind, LeadDocument, SignalInput, Touch};
use serde_json::Value;

/// Points per unit of log-odds in a proposal: 5 loses no ranking (issue 14's measurement) and
/// keeps a lead's total readable (50 is even odds).
pub const POINTS_PER_LOG_ODDS: f64 = 5.0;
/// Fewer outcomes than this and the report warns that the fit is not to be trusted yet.
pub const TRUSTED_OUTCOMES: usize = 300;
/// The penalties tried by cross-validation, strongest first (mean log-loss plus λ/2 ‖w‖²).
const LAMBDAS: [f64; 9] = [1.0, 0.3, 0.1, 0.03, 0.01, 0.003, 0.001, 3e-4, 1e-4];

/// Which sales outcomes count as a conversion.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Target {
    /// `won` against `lost`; other statuses are left out.
    Won,
    /// Taken by sales (`accepted`, `won` or `lost`) against `rejected`.
    Accepted,
}

impl Target {
    /// Whether `status` counts as a conversion, or `None` when it says nothing for this target.
    pub fn label(self, status: &str) -> Option<bool> {
        match (self, status) {
            (Target::Won, "won") => Some(true),
            (Target::Won, "lost") => Some(false),
            (Target::Accepted, "accepted" | "won" | "lost") => Some(true),
            (Target::Accepted, "rejected") => Some(false),
            _ => None,
        }
    }

    fn as_str(self) -> &'static str {
        match self {
            Target::Won => "won/lost",
            Target::Accepted => "accepted/rejected",
        }
    }
}

/// What the best grade should achieve.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum GradeGoal {
    /// The best grade converts at least this share (0-1) of its leads.
    Converts(f64),
    /// The best grade holds this share (0-1) of the leads, the best-scored.
    Top(f64),
}

/// How to fit.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct FitOptions {
    /// Which outcomes count as a conversion.
    pub target: Target,
    /// What the best grade should achieve.
    pub goal: GradeGoal,
    /// The newest share of the leads kept out of the fit to measure it (default 0.3).
    pub holdout: f64,
    /// Cross-validation folds over the older part (default 5).
    pub folds: usize,
    /// An attribution value (a UTM source, a referrer) becomes a feature of its own when at
    /// least this many training leads carry it (default 10).
    pub min_value_count: usize,
}

impl Default for FitOptions {
    fn default() -> FitOptions {
        FitOptions {
            target: Target::Won,
            goal: GradeGoal::Top(0.2),
            holdout: 0.3,
            folds: 5,
            min_value_count: 10,
        }
    }
}

/// One lead with its sales outcome, as the collector stores them.
#[derive(Debug, Clone, PartialEq)]
pub struct Outcome {
    /// The lead document.
    pub lead: Value,
    /// The sales status: `accepted`, `rejected`, `won` or `lost`.
    pub status: String,
    /// When the lead arrived, RFC 3339 in UTC (such times sort as text): orders the holdout.
    pub at: String,
}

/// Why no fit could be made.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum FitError {
    /// Too few leads with an outcome for the target.
    #[error("{rows} leads have a {target} outcome; a fit needs at least {needed}")]
    TooFew {
        /// Leads with an outcome.
        rows: usize,
        /// The least that can be fitted.
        needed: usize,
        /// The target's outcomes.
        target: &'static str,
    },
    /// Every lead (of the part named) has the same outcome.
    #[error(
        "every {}lead with an outcome {class}: there is nothing to learn from",
        if part.is_empty() { String::new() } else { format!("{part} ") }
    )]
    OneClass {
        /// `older` (learned from), `newer` (measured on), or empty for all of them.
        part: &'static str,
        /// `converted` or `did not convert`.
        class: &'static str,
    },
    /// No feature takes more than one value across the training leads.
    #[error("no answer, skip or source varies across the older leads: every lead looks the same")]
    NoVariation,
}

/// What a feature of the fit stands for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FeatureKey {
    /// A choice question's option (yes/no: `yes`, `no`).
    Option {
        /// The question id.
        question: String,
        /// The option id.
        option: String,
    },
    /// A number question's range, by position.
    Range {
        /// The question id.
        question: String,
        /// The range's index.
        index: usize,
    },
    /// A text, email or phone question answered, or a consent box ticked.
    Answered {
        /// The question id.
        question: String,
    },
    /// An optional question asked and left empty (its `unanswered` points).
    Skipped {
        /// The question id.
        question: String,
    },
    /// A signal's value: a key, any other value, or none.
    Signal {
        /// What the signal reads.
        input: SignalInput,
        /// `Some(key)`, or `None` with `other` telling other from none.
        key: Option<String>,
        /// A value no key covers (with `key` `None`).
        other: bool,
    },
}

/// One feature: what it is, how people read it, and its points today.
#[derive(Debug, Clone, PartialEq)]
pub struct Feature {
    /// What it stands for.
    pub key: FeatureKey,
    /// Such as `Budget $50k–$250k` or `utmSource linkedin`.
    pub label: String,
    /// Its points in the form as it is (0 for a signal value the form does not score).
    pub current: i32,
}

/// The features of a form: its options, ranges, answered and skipped flags, and the values of
/// every attribution input (the form's signal keys and values frequent in the data).
#[derive(Debug, Clone, PartialEq)]
pub struct Features {
    /// Every feature, in column order.
    pub features: Vec<Feature>,
    /// The keys of each attribution input, like [`SignalInput::ALL`].
    keys: Vec<(SignalInput, Vec<String>)>,
}

/// The touch a lead's signals read: its last touch, else one made from its page.
fn touch_of(lead: &LeadDocument) -> Touch {
    match &lead.attribution {
        Some(a) => a.last_touch.clone(),
        None => Touch::from_page(&lead.page.url, &lead.page.referrer, ""),
    }
}

/// A key for a value seen in the data: UTM values in lower case, a referrer's host without
/// `www.`, a landing page's first path segment.
fn candidate(input: SignalInput, value: &str) -> String {
    match input {
        SignalInput::ReferrerDomain => value.strip_prefix("www.").unwrap_or(value).to_owned(),
        SignalInput::LandingPage => {
            let first = value
                .trim_start_matches('/')
                .split('/')
                .next()
                .unwrap_or("");
            format!("/{first}")
        }
        _ => value.to_ascii_lowercase(),
    }
}

impl Features {
    /// The features of `form` for these (training) leads: every option, range, answered and
    /// skipped flag of the form, and per attribution input the form's signal keys plus the
    /// values at least `min_value_count` leads carry (at most 20 per input), then `other` and
    /// `none` where the input has them.
    pub fn build(
        form: &Form,
        leads: &[(LeadDocument, Answers)],
        min_value_count: usize,
    ) -> Features {
        let mut features = Vec::new();
        let mut push = |key, label: String, current| {
            features.push(Feature {
                key,
                label,
                current,
            })
        };
        for q in &form.questions {
            let id = || q.id.clone();
            match &q.kind {
                Kind::SingleChoice(choices)
                | Kind::MultipleChoice(choices)
                | Kind::YesNo(choices) => {
                    for c in choices {
                        let key = FeatureKey::Option {
                            question: id(),
                            option: c.id.clone(),
                        };
                        push(key, format!("{} {}", q.short_label, c.label), c.points);
                    }
                }
                Kind::Number { ranges, .. } => {
                    for (index, r) in ranges.iter().enumerate() {
                        let key = FeatureKey::Range {
                            question: id(),
                            index,
                        };
                        push(key, format!("{} {}", q.short_label, r.label), r.points);
                    }
                }
                Kind::Text | Kind::Email | Kind::Phone | Kind::Consent => {
                    let key = FeatureKey::Answered { question: id() };
                    push(key, format!("{} answered", q.short_label), q.points);
                }
            }
            if !q.required && !matches!(q.kind, Kind::Consent) {
                let key = FeatureKey::Skipped { question: id() };
                push(key, format!("{} not answered", q.short_label), q.unanswered);
            }
        }
        let mut keys = Vec::new();
        for input in SignalInput::ALL {
            let signal = form.signals.iter().find(|s| s.input == input);
            let mut list: Vec<(String, i32)> = match input {
                SignalInput::ClickId => vec![("yes".into(), 0), ("no".into(), 0)],
                SignalInput::EmailKind => vec![("free".into(), 0), ("business".into(), 0)],
                _ => Vec::new(),
            };
            for (key, points) in signal.map_or(&[][..], |s| &s.values[..]) {
                match list.iter_mut().find(|(k, _)| k == key) {
                    Some(entry) => entry.1 = *points,
                    None => list.push((key.clone(), *points)),
                }
            }
            let open = !matches!(input, SignalInput::ClickId | SignalInput::EmailKind);
            if open {
                let mut seen: Vec<(String, usize)> = Vec::new();
                for (lead, answers) in leads {
                    let touch = touch_of(lead);
                    if let Some(value) = input.value(form, answers, Some(&touch)) {
                        let c = candidate(input, &value);
                        match seen.iter_mut().find(|(k, _)| *k == c) {
                            Some(entry) => entry.1 += 1,
                            None => seen.push((c, 1)),
                        }
                    }
                }
                // Most frequent first, then by key: the same data gives the same columns.
                seen.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
                for (key, count) in seen.into_iter().take(20) {
                    if count >= min_value_count
                        && !list.iter().any(|(k, _)| k.eq_ignore_ascii_case(&key))
                    {
                        list.push((key, 0));
                    }
                }
            }
            let name = signal.map_or(input.as_str(), |s| s.short_label.as_str());
            for (key, points) in &list {
                let feature = FeatureKey::Signal {
                    input,
                    key: Some(key.clone()),
                    other: false,
                };
                push(feature, format!("{name} {key}"), *points);
            }
            if open {
                let feature = FeatureKey::Signal {
                    input,
                    key: None,
                    other: true,
                };
                push(
                    feature,
                    format!("{name} other"),
                    signal.map_or(0, |s| s.other),
                );
            }
            if input != SignalInput::ClickId {
                let feature = FeatureKey::Signal {
                    input,
                    key: None,
                    other: false,
                };
                push(
                    feature,
                    format!("{name} none"),
                    signal.map_or(0, |s| s.none),
                );
            }
            keys.push((input, list.into_iter().map(|(k, _)| k).collect()));
        }
        Features { features, keys }
    }

    fn column(&self, key: &FeatureKey) -> Option<u32> {
        self.features
            .iter()
            .position(|f| f.key == *key)
            .map(|i| i as u32)
    }

    /// The active features of one lead, as sorted column indices. It reads the lead's answers
    /// (`answers`, from [`Answers::from_lead`]), the questions its visit asked, its last touch
    /// and its email, and nothing recorded after it arrived: not its score, not its sales
    /// status or that status's time, whatever fields a store adds to the document.
    pub fn row(&self, form: &Form, lead: &LeadDocument, answers: &Answers) -> Vec<u32> {
        let mut row = Vec::new();
        let mut add = |key: FeatureKey| {
            if let Some(c) = self.column(&key) {
                row.push(c);
            }
        };
        for (index, q) in form.questions.iter().enumerate() {
            if !form.is_visible(index, answers) {
                continue;
            }
            let question = || q.id.clone();
            match (answers.get(&q.id), &q.kind) {
                (Some(value), Kind::SingleChoice(_)) | (Some(value), Kind::MultipleChoice(_)) => {
                    let ids: Vec<&str> = match value {
                        bantam_engine::AnswerValue::Text(id) => vec![id.as_str()],
                        bantam_engine::AnswerValue::List(ids) => {
                            ids.iter().map(String::as_str).collect()
                        }
                        _ => Vec::new(),
                    };
                    for option in ids {
                        add(FeatureKey::Option {
                            question: question(),
                            option: option.to_owned(),
                        });
                    }
                }
                (Some(bantam_engine::AnswerValue::Bool(b)), Kind::YesNo(_)) => {
                    add(FeatureKey::Option {
                        question: question(),
                        option: if *b { "yes" } else { "no" }.to_owned(),
                    })
                }
                (Some(bantam_engine::AnswerValue::Number(n)), Kind::Number { ranges, .. }) => {
                    if let Some(index) = ranges.iter().position(|r| r.contains(*n)) {
                        add(FeatureKey::Range {
                            question: question(),
                            index,
                        });
                    }
                }
                (Some(bantam_engine::AnswerValue::Bool(false)), Kind::Consent) => {}
                (Some(_), Kind::Text | Kind::Email | Kind::Phone | Kind::Consent) => {
                    add(FeatureKey::Answered {
                        question: question(),
                    })
                }
                (Some(_), _) => {}
                (None, _) if answers.was_asked(&q.id) => add(FeatureKey::Skipped {
                    question: question(),
                }),
                (None, _) => {}
            }
        }
        let touch = touch_of(lead);
        for (input, keys) in &self.keys {
            let key = match input.value(form, answers, Some(&touch)) {
                None => FeatureKey::Signal {
                    input: *input,
                    key: None,
                    other: false,
                },
                Some(value) => {
                    let best = keys
                        .iter()
                        .filter(|k| input.covers(k, &value))
                        .max_by_key(|k| k.len());
                    FeatureKey::Signal {
                        input: *input,
                        key: best.cloned(),
                        other: best.is_none(),
                    }
                }
            };
            add(key);
        }
        row.sort_unstable();
        row.dedup();
        row
    }
}

/// `log(1 + e^z)` without overflow.
fn softplus(z: f64) -> f64 {
    if z > 0.0 {
        z + (-z).exp().ln_1p()
    } else {
        z.exp().ln_1p()
    }
}

fn sigmoid(z: f64) -> f64 {
    1.0 / (1.0 + (-z).exp())
}

/// The linear predictor of a sparse row: intercept `beta[0]` plus its features' weights.
fn logit(beta: &[f64], row: &[u32]) -> f64 {
    row.iter().fold(beta[0], |z, &c| z + beta[c as usize + 1])
}

/// Mean log-loss of `beta` on the rows at `at`.
fn log_loss(beta: &[f64], rows: &[Vec<u32>], y: &[bool], at: &[usize]) -> f64 {
    let sum: f64 = at
        .iter()
        .map(|&i| {
            let z = logit(beta, &rows[i]);
            softplus(z) - if y[i] { z } else { 0.0 }
        })
        .sum();
    sum / at.len() as f64
}

/// Solves `h x = g` for a symmetric positive definite `h` (row-major, `n × n`) by Cholesky.
fn cholesky_solve(mut h: Vec<f64>, g: &[f64]) -> Option<Vec<f64>> {
    let n = g.len();
    for j in 0..n {
        let mut d = h[j * n + j];
        for k in 0..j {
            d -= h[j * n + k] * h[j * n + k];
        }
        if d <= 0.0 || !d.is_finite() {
            return None;
        }
        let d = d.sqrt();
        h[j * n + j] = d;
        for i in j + 1..n {
            let mut s = h[i * n + j];
            for k in 0..j {
                s -= h[i * n + k] * h[j * n + k];
            }
            h[i * n + j] = s / d;
        }
    }
    let mut x = g.to_vec();
    for i in 0..n {
        for k in 0..i {
            x[i] -= h[i * n + k] * x[k];
        }
        x[i] /= h[i * n + i];
    }
    for i in (0..n).rev() {
        for k in i + 1..n {
            x[i] -= h[k * n + i] * x[k];
        }
        x[i] /= h[i * n + i];
    }
    Some(x)
}

/// L2-regularised logistic regression by Newton's method on the rows at `at`: minimises the
/// mean log-loss plus `lambda / 2` times the squared weights (the intercept, `beta[0]`, is not
/// penalised). Starts from `start` (a warm start) and returns `1 + p` coefficients.
fn fit_logistic(
    rows: &[Vec<u32>],
    y: &[bool],
    at: &[usize],
    p: usize,
    lambda: f64,
    start: Option<&[f64]>,
) -> Vec<f64> {
    let n = p + 1;
    let m = at.len() as f64;
    let mut beta = start.map_or_else(|| vec![0.0; n], <[f64]>::to_vec);
    let objective = |beta: &[f64]| {
        log_loss(beta, rows, y, at) + 0.5 * lambda * beta[1..].iter().map(|w| w * w).sum::<f64>()
    };
    let mut current = objective(&beta);
    for _ in 0..100 {
        let mut g = vec![0.0; n];
        let mut h = vec![0.0; n * n];
        for &i in at {
            let row = &rows[i];
            let pi = sigmoid(logit(&beta, row));
            let r = pi - if y[i] { 1.0 } else { 0.0 };
            let s = (pi * (1.0 - pi)).max(1e-12);
            g[0] += r;
            h[0] += s;
            for (a, &ca) in row.iter().enumerate() {
                let ca = ca as usize + 1;
                g[ca] += r;
                h[ca] += s;
                h[ca * n] += s;
                for &cb in &row[a..] {
                    let cb = cb as usize + 1;
                    h[ca * n + cb] += s;
                }
            }
        }
        // The loop filled the upper triangle of the features' block; mirror it, then scale.
        for a in 1..n {
            for b in a + 1..n {
                h[b * n + a] = h[a * n + b];
            }
        }
        for v in &mut g {
            *v /= m;
        }
        for v in &mut h {
            *v /= m;
        }
        for j in 1..n {
            g[j] += lambda * beta[j];
            h[j * n + j] += lambda;
        }
        h[0] += 1e-12;
        let Some(step) = cholesky_solve(h, &g) else {
            break;
        };
        let mut t = 1.0;
        let mut next = beta.clone();
        let mut improved = false;
        for _ in 0..40 {
            for j in 0..n {
                next[j] = beta[j] - t * step[j];
            }
            let value = objective(&next);
            if value <= current {
                current = value;
                improved = true;
                break;
            }
            t *= 0.5;
        }
        let change = step.iter().fold(0.0f64, |m, s| m.max((t * s).abs()));
        if !improved {
            break;
        }
        beta = next;
        if change < 1e-10 {
            break;
        }
    }
    beta
}

/// A ranking's quality on one set of leads: ROC AUC with a 95% DeLong interval.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Auc {
    /// The area under the ROC curve: the chance a converting lead outscores one that did not.
    pub auc: f64,
    /// The interval's lower end.
    pub low: f64,
    /// The interval's upper end.
    pub high: f64,
}

/// DeLong's structural components of a score: per positive, the share of negatives it beats
/// (ties count half); per negative, the share of positives that beat it.
fn components(scores: &[f64], y: &[bool]) -> (Vec<f64>, Vec<f64>) {
    let mut neg: Vec<f64> = scores
        .iter()
        .zip(y)
        .filter(|(_, &y)| !y)
        .map(|(s, _)| *s)
        .collect();
    let mut pos: Vec<f64> = scores
        .iter()
        .zip(y)
        .filter(|(_, &y)| y)
        .map(|(s, _)| *s)
        .collect();
    neg.sort_by(f64::total_cmp);
    pos.sort_by(f64::total_cmp);
    let below = |sorted: &[f64], s: f64| {
        let lt = sorted.partition_point(|v| *v < s);
        let le = sorted.partition_point(|v| *v <= s);
        (lt, le - lt)
    };
    let mut v10 = Vec::new();
    let mut v01 = Vec::new();
    for (s, &y) in scores.iter().zip(y) {
        if y {
            let (lt, eq) = below(&neg, *s);
            v10.push((lt as f64 + 0.5 * eq as f64) / neg.len() as f64);
        } else {
            let (lt, eq) = below(&pos, *s);
            let above = pos.len() - lt - eq;
            v01.push((above as f64 + 0.5 * eq as f64) / pos.len() as f64);
        }
    }
    (v10, v01)
}

fn mean(v: &[f64]) -> f64 {
    v.iter().sum::<f64>() / v.len() as f64
}

/// The sample covariance of two equally long series.
fn covariance(a: &[f64], b: &[f64]) -> f64 {
    if a.len() < 2 {
        return 0.0;
    }
    let (ma, mb) = (mean(a), mean(b));
    a.iter()
        .zip(b)
        .map(|(x, y)| (x - ma) * (y - mb))
        .sum::<f64>()
        / (a.len() - 1) as f64
}

/// The AUC of `scores` for outcomes `y`, with a 95% DeLong interval.
pub fn auc(scores: &[f64], y: &[bool]) -> Auc {
    let (v10, v01) = components(scores, y);
    let value = mean(&v10);
    let var = covariance(&v10, &v10) / v10.len() as f64 + covariance(&v01, &v01) / v01.len() as f64;
    interval(value, var)
}

fn interval(value: f64, var: f64) -> Auc {
    let half = 1.959_964 * var.max(0.0).sqrt();
    Auc {
        auc: value,
        low: (value - half).max(-1.0),
        high: (value + half).min(1.0),
    }
}

/// The difference in AUC of two scores of the same leads (`b` minus `a`), with a 95% paired
/// DeLong interval.
pub fn auc_difference(a: &[f64], b: &[f64], y: &[bool]) -> Auc {
    let (a10, a01) = components(a, y);
    let (b10, b01) = components(b, y);
    let d10: Vec<f64> = b10.iter().zip(&a10).map(|(b, a)| b - a).collect();
    let d01: Vec<f64> = b01.iter().zip(&a01).map(|(b, a)| b - a).collect();
    let var = covariance(&d10, &d10) / d10.len() as f64 + covariance(&d01, &d01) / d01.len() as f64;
    interval(mean(&d10), var)
}

/// One feature's points, today and proposed.
#[derive(Debug, Clone, PartialEq)]
pub struct PointChange {
    /// The feature.
    pub feature: Feature,
    /// The fitted weight, in log-odds.
    pub weight: f64,
    /// The proposed points (`weight` × [`POINTS_PER_LOG_ODDS`], rounded); 0 for a feature no
    /// training lead had.
    pub proposed: i32,
    /// How many training leads had it.
    pub leads: usize,
}

/// Leads and conversions in one score band or grade.
#[derive(Debug, Clone, PartialEq)]
pub struct Bucket {
    /// The band (`40-49`) or grade name.
    pub name: String,
    /// Leads in it.
    pub leads: usize,
    /// How many converted.
    pub converted: usize,
    /// The fitted model's mean predicted conversion rate (0 for grades under today's points).
    pub predicted: f64,
}

impl Bucket {
    /// The share that converted (0 for an empty bucket).
    pub fn rate(&self) -> f64 {
        if self.leads == 0 {
            0.0
        } else {
            self.converted as f64 / self.leads as f64
        }
    }
}

/// The proposal and the report a marketer reads: how much better the proposed points rank
/// leads the fit never saw (the newer ones), and what the grades would mean.
#[derive(Debug, Clone, PartialEq)]
pub struct FitReport {
    /// Which outcomes counted as a conversion.
    pub target: Target,
    /// Leads with an outcome for the target.
    pub outcomes: usize,
    /// How many of them converted.
    pub conversions: usize,
    /// Leads with an outcome left out because they no longer fit the form or are unreadable.
    pub skipped: usize,
    /// Older leads the fit learned from, and newer ones it was measured on.
    pub train: usize,
    /// See `train`.
    pub holdout: usize,
    /// The penalty cross-validation chose, and its mean held-out log-loss.
    pub lambda: f64,
    /// See `lambda`.
    pub cv_log_loss: f64,
    /// The holdout AUC of today's points (the engine's totals).
    pub current: Auc,
    /// The holdout AUC of the proposed points (integer points, sum mode, 0-100).
    pub proposed: Auc,
    /// Proposed minus current, paired.
    pub difference: Auc,
    /// The holdout AUC of the fitted weights before rounding to points.
    pub model: Auc,
    /// The proposed scoring offset (`scoring: {mode: "sum", offset}`).
    pub offset: i32,
    /// Every feature's points, today and proposed.
    pub points: Vec<PointChange>,
    /// The proposed grade minimums, best grade first, by the form's grade names.
    pub thresholds: Vec<(String, u8)>,
    /// Holdout conversion per proposed score band of ten points.
    pub reliability: Vec<Bucket>,
    /// Holdout conversion per grade under today's points.
    pub grades_current: Vec<Bucket>,
    /// Holdout conversion per grade under the proposal.
    pub grades_proposed: Vec<Bucket>,
    /// Plain warnings (too few outcomes to trust, leads left out).
    pub warnings: Vec<String>,
}

/// A lead ready for the fit: its document, answers, label and time.
struct Row {
    lead: LeadDocument,
    answers: Answers,
    y: bool,
    at: String,
}

/// Reads the leads with an outcome for the target, oldest first (ties in the given order);
/// counts the ones that do not fit the form.
fn rows(form: &Form, outcomes: &[Outcome], target: Target) -> (Vec<Row>, usize) {
    let mut rows = Vec::new();
    let mut skipped = 0;
    for o in outcomes {
        let Some(y) = target.label(&o.status) else {
            continue;
        };
        let lead: Option<LeadDocument> = serde_json::from_value(o.lead.clone()).ok();
        match lead.and_then(|lead| Answers::from_lead(form, &lead).ok().map(|a| (lead, a))) {
            Some((lead, answers)) => rows.push(Row {
                lead,
                answers,
                y,
                at: o.at.clone(),
            }),
            None => skipped += 1,
        }
    }
    rows.sort_by(|a, b| a.at.cmp(&b.at));
    (rows, skipped)
}

/// The total of integer `points` over a row with `offset`, clamped to 0-100 as the engine's
/// sum mode does.
fn total(offset: i32, points: &[i32], row: &[u32]) -> i64 {
    row.iter()
        .fold(i64::from(offset), |t, &c| t + i64::from(points[c as usize]))
        .clamp(0, 100)
}

/// The lowest total whose leads at or above it (on `totals`, `y`) convert at least `rate`,
/// with at least ten of them; 100 when none does.
fn converting_at(totals: &[i64], y: &[bool], rate: f64) -> u8 {
    let mut best = 100u8;
    for t in (1..=100u8).rev() {
        let (mut n, mut c) = (0usize, 0usize);
        for (&s, &yi) in totals.iter().zip(y) {
            if s >= i64::from(t) {
                n += 1;
                c += usize::from(yi);
            }
        }
        if n >= 10 && c as f64 >= rate * n as f64 {
            best = t;
        }
    }
    best
}

/// The lowest total from which the leads below `upper` still convert at least `rate` (with at
/// least ten of them); `upper - 1` when none does.
fn band_converting_at(totals: &[i64], y: &[bool], upper: u8, rate: f64) -> u8 {
    let mut best = upper.saturating_sub(1);
    for t in (1..upper).rev() {
        let (mut n, mut c) = (0usize, 0usize);
        for (&s, &yi) in totals.iter().zip(y) {
            if s >= i64::from(t) && s < i64::from(upper) {
                n += 1;
                c += usize::from(yi);
            }
        }
        if n >= 10 && c as f64 >= rate * n as f64 {
            best = t;
        }
    }
    best
}

/// The grade minimums for the goal: the best grade by the goal; the second (with three grades
/// or more) down to where the leads below the best grade stop converting at least as well as
/// the average lead; the middle ones evenly below it; the last 0. Strictly descending.
fn thresholds(form: &Form, totals: &[i64], y: &[bool], goal: GradeGoal) -> Vec<(String, u8)> {
    let count = form.grades.len();
    let hot = match goal {
        GradeGoal::Converts(rate) => converting_at(totals, y, rate),
        GradeGoal::Top(share) => {
            let mut sorted = totals.to_vec();
            sorted.sort_unstable_by(|a, b| b.cmp(a));
            let k = ((share * sorted.len() as f64).ceil() as usize).clamp(1, sorted.len());
            sorted[k - 1].clamp(1, 100) as u8
        }
    };
    let mut mins = vec![0u8; count];
    if count >= 2 {
        mins[0] = hot.max(count as u8 - 1);
    }
    if count >= 3 {
        let base = y.iter().filter(|y| **y).count() as f64 / y.len() as f64;
        let warm = band_converting_at(totals, y, mins[0], base);
        mins[1] = warm.max(count as u8 - 2);
        let rest = count - 2;
        for g in 2..count - 1 {
            // Evenly spaced between the second grade's minimum and 0.
            let step = f64::from(mins[1]) * (rest - (g - 1)) as f64 / rest as f64;
            mins[g] = (step.round() as u8)
                .min(mins[g - 1] - 1)
                .max((count - 1 - g) as u8);
        }
    }
    form.grades
        .iter()
        .zip(mins)
        .map(|(g, m)| (g.name.clone(), m))
        .collect()
}

/// The grade index of a total under `mins`, capped by the lead's disqualifiers.
fn grade_of(mins: &[(String, u8)], total: i64, cap: Option<usize>) -> usize {
    let by_total = mins
        .iter()
        .position(|(_, m)| total >= i64::from(*m))
        .unwrap_or(mins.len() - 1);
    cap.map_or(by_total, |c| c.max(by_total))
}

/// The worst grade a lead's chosen options and ranges cap it at, if any.
fn cap_of(form: &Form, answers: &Answers) -> Option<usize> {
    let mut cap: Option<usize> = None;
    for (index, q) in form.questions.iter().enumerate() {
        if !form.is_visible(index, answers) {
            continue;
        }
        let caps: Vec<Option<usize>> = match (answers.get(&q.id), &q.kind) {
            (Some(bantam_engine::AnswerValue::Text(id)), _) => {
                vec![q.choice(id).and_then(|c| c.cap_grade)]
            }
            (Some(bantam_engine::AnswerValue::List(ids)), _) => ids
                .iter()
                .map(|id| q.choice(id).and_then(|c| c.cap_grade))
                .collect(),
            (Some(bantam_engine::AnswerValue::Bool(b)), Kind::YesNo(_)) => {
                vec![q
                    .choice(if *b { "yes" } else { "no" })
                    .and_then(|c| c.cap_grade)]
            }
            (Some(bantam_engine::AnswerValue::Number(n)), Kind::Number { ranges, .. }) => {
                vec![ranges
                    .iter()
                    .find(|r| r.contains(*n))
                    .and_then(|r| r.cap_grade)]
            }
            _ => Vec::new(),
        };
        for c in caps.into_iter().flatten() {
            cap = Some(cap.map_or(c, |cap| cap.max(c)));
        }
    }
    cap
}

fn buckets(names: Vec<String>, index: &[usize], y: &[bool], predicted: &[f64]) -> Vec<Bucket> {
    let mut out: Vec<Bucket> = names
        .into_iter()
        .map(|name| Bucket {
            name,
            leads: 0,
            converted: 0,
            predicted: 0.0,
        })
        .collect();
    for ((&i, &yi), &p) in index.iter().zip(y).zip(predicted) {
        out[i].leads += 1;
        out[i].converted += usize::from(yi);
        out[i].predicted += p;
    }
    for b in &mut out {
        if b.leads > 0 {
            b.predicted /= b.leads as f64;
        }
    }
    out
}

/// Fits points to the outcomes of `form`'s leads and measures them on the newest ones.
///
/// The leads with an outcome for `options.target` are ordered by arrival; the newest
/// `options.holdout` share is kept out. On the older part, each penalty of a fixed grid is
/// cross-validated over `options.folds` consecutive blocks (mean held-out log-loss), the best
/// is refitted on the whole older part, and its weights become integer points (5 per unit of
/// log-odds) with an offset that puts even odds at 50. Grade minimums are chosen on the older
/// part for `options.goal`. Everything reported about quality is measured on the newer part.
/// The same input always gives the same report.
///
/// # Errors
/// [`FitError::TooFew`] under 50 leads with an outcome, [`FitError::OneClass`] when all of
/// them (or all of the older or the newer part) have the same outcome, [`FitError::NoVariation`]
/// when no feature varies across the older leads.
pub fn fit(form: &Form, outcomes: &[Outcome], options: &FitOptions) -> Result<FitReport, FitError> {
    const NEEDED: usize = 50;
    let (rows, skipped) = rows(form, outcomes, options.target);
    if rows.len() < NEEDED {
        return Err(FitError::TooFew {
            rows: rows.len(),
            needed: NEEDED,
            target: options.target.as_str(),
        });
    }
    let one_class = |part, y: &[bool]| {
        let positives = y.iter().filter(|y| **y).count();
        if positives == 0 || positives == y.len() {
            Err(FitError::OneClass {
                part,
                class: if positives == 0 {
                    "did not convert"
                } else {
                    "converted"
                },
            })
        } else {
            Ok(())
        }
    };
    let y: Vec<bool> = rows.iter().map(|r| r.y).collect();
    one_class("", &y)?;
    let holdout = ((rows.len() as f64 * options.holdout.clamp(0.05, 0.5)).round() as usize).max(1);
    let split = rows.len() - holdout;
    one_class("older", &y[..split])?;
    one_class("newer", &y[split..])?;

    let training: Vec<(LeadDocument, Answers)> = rows[..split]
        .iter()
        .map(|r| (r.lead.clone(), r.answers.clone()))
        .collect();
    let space = Features::build(form, &training, options.min_value_count);
    let x: Vec<Vec<u32>> = rows
        .iter()
        .map(|r| space.row(form, &r.lead, &r.answers))
        .collect();
    let p = space.features.len();
    let mut counts = vec![0usize; p];
    for row in &x[..split] {
        for &c in row {
            counts[c as usize] += 1;
        }
    }
    if counts.iter().all(|&c| c == 0 || c == split) {
        return Err(FitError::NoVariation);
    }

    // Cross-validation over consecutive blocks of the older part, strongest penalty first,
    // each fold warm-started from its fit at the previous penalty.
    let folds = options.folds.clamp(2, 10).min(split);
    let block = |k: usize| (k * split / folds)..((k + 1) * split / folds);
    let mut starts: Vec<Option<Vec<f64>>> = vec![None; folds];
    let mut best = (f64::INFINITY, LAMBDAS[0]);
    for lambda in LAMBDAS {
        let mut loss = 0.0;
        for (k, start) in starts.iter_mut().enumerate() {
            let held = block(k);
            let fit_at: Vec<usize> = (0..split).filter(|i| !held.contains(i)).collect();
            let beta = fit_logistic(&x, &y, &fit_at, p, lambda, start.as_deref());
            let held: Vec<usize> = held.collect();
            loss += log_loss(&beta, &x, &y, &held) * held.len() as f64;
            *start = Some(beta);
        }
        let loss = loss / split as f64;
        if loss < best.0 {
            best = (loss, lambda);
        }
    }
    let (cv_log_loss, lambda) = best;
    let train: Vec<usize> = (0..split).collect();
    let beta = fit_logistic(&x, &y, &train, p, lambda, None);

    let points: Vec<i32> = (0..p)
        .map(|j| {
            if counts[j] == 0 {
                0
            } else {
                (beta[j + 1] * POINTS_PER_LOG_ODDS)
                    .round()
                    .clamp(-1000.0, 1000.0) as i32
            }
        })
        .collect();
    let offset = (50.0 + POINTS_PER_LOG_ODDS * beta[0])
        .round()
        .clamp(-1000.0, 1000.0) as i32;
    let totals: Vec<i64> = x.iter().map(|row| total(offset, &points, row)).collect();
    let thresholds = thresholds(form, &totals[..split], &y[..split], options.goal);

    // Everything below is measured on the newer part only.
    let newer = split..rows.len();
    let yh = &y[newer.clone()];
    let current: Vec<f64> = rows[newer.clone()]
        .iter()
        .map(|r| f64::from(r.lead.rescore(form, &r.answers).total))
        .collect();
    let proposed: Vec<f64> = totals[newer.clone()].iter().map(|&t| t as f64).collect();
    let probability: Vec<f64> = x[newer.clone()]
        .iter()
        .map(|row| sigmoid(logit(&beta, row)))
        .collect();
    let bands: Vec<usize> = totals[newer.clone()]
        .iter()
        .map(|&t| (t.min(99) / 10) as usize)
        .collect();
    let band_names = (0..10)
        .map(|b| {
            if b == 9 {
                "90-100".to_owned()
            } else {
                format!("{}-{}", b * 10, b * 10 + 9)
            }
        })
        .collect();
    let names: Vec<String> = form.grades.iter().map(|g| g.name.clone()).collect();
    let grade_now: Vec<usize> = rows[newer.clone()]
        .iter()
        .map(|r| {
            form.grade_index(&r.lead.rescore(form, &r.answers).grade)
                .unwrap_or(0)
        })
        .collect();
    let grade_new: Vec<usize> = rows[newer.clone()]
        .iter()
        .zip(&totals[newer.clone()])
        .map(|(r, &t)| grade_of(&thresholds, t, cap_of(form, &r.answers)))
        .collect();

    let mut warnings = Vec::new();
    if rows.len() < TRUSTED_OUTCOMES {
        warnings.push(format!(
            "only {} leads have an outcome: with fewer than {TRUSTED_OUTCOMES} the proposed points are not to be trusted yet (about 500 beat hand-made points reliably)",
            rows.len()
        ));
    }
    if skipped > 0 {
        warnings.push(format!(
            "{skipped} leads with an outcome were left out: their answers no longer fit the form"
        ));
    }
    Ok(FitReport {
        target: options.target,
        outcomes: rows.len(),
        conversions: y.iter().filter(|y| **y).count(),
        skipped,
        train: split,
        holdout,
        lambda,
        cv_log_loss,
        current: auc(&current, yh),
        proposed: auc(&proposed, yh),
        difference: auc_difference(&current, &proposed, yh),
        model: auc(
            &x[newer]
                .iter()
                .map(|row| logit(&beta, row))
                .collect::<Vec<_>>(),
            yh,
        ),
        offset,
        points: space
            .features
            .into_iter()
            .enumerate()
            .map(|(j, feature)| PointChange {
                feature,
                weight: beta[j + 1],
                proposed: points[j],
                leads: counts[j],
            })
            .collect(),
        thresholds,
        reliability: buckets(band_names, &bands, yh, &probability),
        grades_current: buckets(names.clone(), &grade_now, yh, &vec![0.0; yh.len()]),
        grades_proposed: buckets(names, &grade_new, yh, &probability),
        warnings,
    })
}

fn signed(points: i32) -> String {
    if points >= 0 {
        format!("+{points}")
    } else {
        points.to_string()
    }
}

impl FitReport {
    /// The report as plain text, as `bantam-collector fit` prints it.
    pub fn to_text(&self) -> String {
        let mut out = String::new();
        let pct = |v: f64| format!("{:.1}%", v * 100.0);
        let auc = |a: &Auc| format!("{:.3} (95% CI {:.3}-{:.3})", a.auc, a.low, a.high);
        let _ = writeln!(
            out,
            "Outcomes ({}): {} leads, {} converted ({}); learned from the older {}, measured on the newer {}.",
            self.target.as_str(),
            self.outcomes,
            self.conversions,
            pct(self.conversions as f64 / self.outcomes as f64),
            self.train,
            self.holdout
        );
        for w in &self.warnings {
            let _ = writeln!(out, "Warning: {w}.");
        }
        let _ = writeln!(out, "Ranking on the newer leads (ROC AUC):");
        let _ = writeln!(out, "  current points   {}", auc(&self.current));
        let _ = writeln!(out, "  proposed points  {}", auc(&self.proposed));
        let _ = writeln!(
            out,
            "  difference       {:+.3} (95% CI {:+.3} to {:+.3})",
            self.difference.auc, self.difference.low, self.difference.high
        );
        let _ = writeln!(
            out,
            "Proposal: scoring {{\"mode\": \"sum\", \"offset\": {}}} (50 is even odds; 5 points per unit of log-odds), penalty {} by cross-validation.",
            self.offset, self.lambda
        );
        for change in &self.points {
            if change.proposed == 0 && change.feature.current == 0 {
                continue;
            }
            let _ = writeln!(
                out,
                "  {}: {} -> {}  ({} leads)",
                change.feature.label,
                signed(change.feature.current),
                signed(change.proposed),
                change.leads
            );
        }
        let grades: Vec<String> = self
            .thresholds
            .iter()
            .map(|(g, m)| format!("{g} >= {m}"))
            .collect();
        let _ = writeln!(out, "Grades: {}.", grades.join(", "));
        let _ = writeln!(
            out,
            "Conversion per grade on the newer leads (current -> proposed):"
        );
        for (now, new) in self.grades_current.iter().zip(&self.grades_proposed) {
            let _ = writeln!(
                out,
                "  {:<10} {:>5} leads {:>6} -> {:>5} leads {:>6}",
                now.name,
                now.leads,
                pct(now.rate()),
                new.leads,
                pct(new.rate())
            );
        }
        let _ = writeln!(
            out,
            "Reliability on the newer leads (proposed score band: leads, converted, predicted):"
        );
        for b in self.reliability.iter().filter(|b| b.leads > 0) {
            let _ = writeln!(
                out,
                "  {:<7} {:>5} leads {:>6} (model {})",
                b.name,
                b.leads,
                pct(b.rate()),
                pct(b.predicted)
            );
        }
        out
    }
}

pub mod synthetic;
#[cfg(test)]
mod tests;
