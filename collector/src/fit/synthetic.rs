//! Synthetic leads with known weights, for the fit's tests and its benchmark
//! (`cargo run --release -p bantam-collector --example fit`).
//!
//! Each lead answers a small B2B form, arrives from a UTM source with or without an ad click,
//! with a free-mail or business address; its outcome is drawn from a logistic model with the
//! weights below, by a fixed-seed generator, so the same seed gives the same leads.

use bantam_engine::{
    build_lead, parse_config, Answers, Attribution, BrowserInfo, Form, Input, LeadInput, PageInfo,
    Touch,
};
use serde_json::json;

use super::Outcome;

/// The generating model's intercept, in log-odds.
pub const INTERCEPT: f64 = -1.2;

/// The generating weights (log-odds) of each feature, by the fit's feature label.
pub const WEIGHTS: [(&str, f64); 19] = [
    ("Budget None", -1.5),
    ("Budget Small", -0.5),
    ("Budget Mid", 0.5),
    ("Budget Big", 1.5),
    ("Role Decides", 1.0),
    ("Role Advises", 0.0),
    ("Role Student", -1.5),
    ("Need Urgent", 0.8),
    ("Need Later", -0.2),
    ("Need not answered", -0.9),
    ("Seats 1–9", -0.6),
    ("Seats 10–99", 0.2),
    ("Seats 100+", 0.9),
    ("utmSource google", 0.2),
    ("utmSource linkedin", 1.2),
    ("utmSource newsletter", 0.6),
    ("clickId yes", 0.5),
    ("emailKind free", -0.7),
    ("emailKind business", 0.3),
];

/// The synthetic form: budget, role, an optional need, seats, and an email.
pub fn form() -> Form {
    parse_config(config()).expect("the synthetic form is valid")
}

/// The synthetic form's config, as a forms folder would hold it.
pub fn config() -> serde_json::Value {
    json!({
        "formId": "synthetic",
        "questions": [
            {"id": "email", "kind": "email", "label": "Email", "required": true},
            {"id": "budget", "kind": "singleChoice", "label": "Budget", "category": "budget", "required": true,
             "options": [{"id": "none", "label": "None", "points": 0}, {"id": "small", "label": "Small", "points": 10},
                         {"id": "mid", "label": "Mid", "points": 20}, {"id": "big", "label": "Big", "points": 30}]},
            {"id": "role", "kind": "singleChoice", "label": "Role", "category": "authority", "required": true,
             "options": [{"id": "decides", "label": "Decides", "points": 25}, {"id": "advises", "label": "Advises", "points": 15},
                         {"id": "student", "label": "Student", "points": 0}]},
            {"id": "need", "kind": "singleChoice", "label": "Need", "category": "need",
             "options": [{"id": "urgent", "label": "Urgent", "points": 20}, {"id": "later", "label": "Later", "points": 5}]},
            {"id": "seats", "kind": "number", "label": "Seats", "min": 1, "max": 100000,
             "ranges": [{"min": 1, "max": 9, "points": 2}, {"min": 10, "max": 99, "points": 6}, {"min": 100, "points": 10}]}
        ]
    })
}

/// SplitMix64: a small, fixed-seed generator (no dependency, same numbers everywhere).
pub struct Rng(u64);

impl Rng {
    /// A generator from a seed.
    pub fn new(seed: u64) -> Rng {
        Rng(seed)
    }

    /// The next 64 random bits.
    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// A uniform number in `[0, 1)`.
    pub fn unit(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 / (1u64 << 53) as f64
    }

    /// An index below `n`.
    pub fn below(&mut self, n: usize) -> usize {
        (self.unit() * n as f64) as usize
    }
}

fn weight(label: &str) -> f64 {
    WEIGHTS
        .iter()
        .find(|(l, _)| *l == label)
        .map_or(0.0, |(_, w)| *w)
}

/// `n` leads with outcomes (`won` or `lost`), in arrival order, and each lead's true log-odds.
pub fn leads(n: usize, seed: u64) -> (Form, Vec<Outcome>, Vec<f64>) {
    let form = form();
    let mut rng = Rng::new(seed);
    let mut outcomes = Vec::with_capacity(n);
    let mut logits = Vec::with_capacity(n);
    for i in 0..n {
        let mut z = INTERCEPT;
        let mut answers = Answers::new();
        let mut set = |id: &str, input: Input<'_>| answers.set(&form, id, input).expect("valid");
        let free = rng.unit() < 0.4;
        let email = if free { "ann@gmail.com" } else { "ann@acme.io" };
        set("email", Input::Text(email));
        z += weight(if free {
            "emailKind free"
        } else {
            "emailKind business"
        });
        let budget = ["none", "small", "mid", "big"][rng.below(4)];
        set("budget", Input::Checked(vec![budget.into()]));
        z += weight(&format!(
            "Budget {}{}",
            budget[..1].to_uppercase(),
            &budget[1..]
        ));
        let role = ["Decides", "Advises", "Student"][rng.below(3)];
        set("role", Input::Checked(vec![role.to_lowercase()]));
        z += weight(&format!("Role {role}"));
        // Need: asked on two visits in three (else not asked yet); then skipped one time in four.
        let mut asked = vec!["email", "budget", "role", "seats"];
        if rng.unit() < 2.0 / 3.0 {
            asked.push("need");
            if rng.unit() < 0.25 {
                z += weight("Need not answered");
            } else {
                let need = ["Urgent", "Later"][rng.below(2)];
                set("need", Input::Checked(vec![need.to_lowercase()]));
                z += weight(&format!("Need {need}"));
            }
        }
        let seats = [3, 40, 400][rng.below(3)];
        set("seats", Input::Text(&seats.to_string()));
        z += weight(match seats {
            3 => "Seats 1–9",
            40 => "Seats 10–99",
            _ => "Seats 100+",
        });
        answers
            .set_asked(&form, asked.into_iter().map(str::to_owned).collect())
            .expect("questions of the form");
        let source = ["google", "linkedin", "newsletter", ""][rng.below(4)];
        let click = rng.unit() < 0.3;
        let mut url = String::from("https://www.example.com/pricing");
        let mut sep = '?';
        if !source.is_empty() {
            url.push_str(&format!("?utm_source={source}"));
            sep = '&';
            z += weight(&format!("utmSource {source}"));
        }
        if click {
            url.push_str(&format!("{sep}gclid=g{i}"));
            z += weight("clickId yes");
        }
        // One lead every ten minutes from 2025-01-01.
        let at = crate::time::format_rfc3339(1_735_689_600_000 + i as i64 * 600_000);
        let touch = Touch::from_page(&url, "", &at);
        let lead = build_lead(
            &form,
            &answers,
            LeadInput {
                id: format!("lead-{i}"),
                submitted_at: at.clone(),
                page: PageInfo {
                    url,
                    title: "Pricing".into(),
                    referrer: String::new(),
                },
                attribution: Some(Attribution::update(None, touch)),
                visit_count: 1,
                new_answers: Vec::new(),
                browser: BrowserInfo::default(),
            },
        );
        let won = rng.unit() < 1.0 / (1.0 + (-z).exp());
        outcomes.push(Outcome {
            lead: serde_json::from_str(&lead.to_json()).expect("the engine writes JSON"),
            status: if won { "won" } else { "lost" }.to_owned(),
            at,
        });
        logits.push(z);
    }
    (form, outcomes, logits)
}
