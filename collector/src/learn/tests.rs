//! The proposed config: it scores as the report measured, keeps the file's shape and every
//! language, and is written safely.

use super::*;
use crate::fit::{auc, fit, synthetic, FitOptions};
use bantam_engine::{
    build_lead, parse_config, parse_config_for, Answers, Attribution, BrowserInfo, Input,
    LeadDocument, LeadInput, PageInfo, Touch,
};
use serde_json::json;

fn parse_text(text: &str) -> Form {
    parse_config(serde_json::from_str::<serde_json::Value>(text).unwrap()).unwrap()
}

/// The engine's total and grade of each of the newest `n` outcomes under `form`.
fn rescored(form: &Form, outcomes: &[Outcome], n: usize) -> Vec<(f64, String)> {
    outcomes[outcomes.len() - n..]
        .iter()
        .map(|o| {
            let lead: LeadDocument = serde_json::from_value(o.lead.clone()).unwrap();
            let answers = Answers::from_lead(form, &lead).unwrap();
            let score = lead.rescore(form, &answers);
            (f64::from(score.total), score.grade)
        })
        .collect()
}

#[test]
fn the_written_config_scores_the_newer_leads_exactly_as_the_report_measured() {
    let (form, outcomes, _) = synthetic::leads(3000, 11);
    let report = fit(&form, &outcomes, &FitOptions::default()).unwrap();
    let config_text = serde_json::to_string_pretty(&synthetic::config()).unwrap();
    let proposal = propose(&config_text, &form, report.clone()).unwrap();
    let new = parse_text(&proposal.config);
    assert_eq!(
        new.scoring,
        bantam_engine::Scoring::Sum {
            offset: report.offset
        }
    );
    let mins: Vec<(String, u8)> = new.grades.iter().map(|g| (g.name.clone(), g.min)).collect();
    assert_eq!(mins, report.thresholds);

    let newer = rescored(&new, &outcomes, report.holdout);
    let y: Vec<bool> = outcomes[outcomes.len() - report.holdout..]
        .iter()
        .map(|o| o.status == "won")
        .collect();
    let totals: Vec<f64> = newer.iter().map(|(t, _)| *t).collect();
    assert_eq!(
        auc(&totals, &y),
        report.proposed,
        "the engine ranks as the fit"
    );
    for (i, bucket) in report.grades_proposed.iter().enumerate() {
        let leads = newer.iter().filter(|(_, g)| *g == bucket.name).count();
        assert_eq!(leads, bucket.leads, "grade {i} {}", bucket.name);
    }
    // Sources, clicks and email kinds became signals.
    let inputs: Vec<&str> = new.signals.iter().map(|s| s.input.as_str()).collect();
    assert_eq!(inputs, ["utmSource", "clickId", "emailKind"]);
    assert!(proposal.notes.is_empty(), "{:?}", proposal.notes);
    // Each moved point is where the config says it is.
    let budget = new.question("budget").unwrap();
    let big = proposal
        .moved
        .iter()
        .find(|m| m.label == "Budget Big")
        .unwrap();
    assert_eq!(budget.choice("big").unwrap().points, big.proposed);
    assert_eq!(
        big.summary(),
        format!("Budget Big: +30 → {}", signed(big.proposed))
    );
    assert!(
        big.reason().contains("older leads had it"),
        "{}",
        big.reason()
    );
    // The same leads give the same proposal, byte for byte.
    let again = propose(
        &config_text,
        &form,
        fit(&form, &outcomes, &FitOptions::default()).unwrap(),
    )
    .unwrap();
    assert_eq!(
        (again.config, again.fingerprint),
        (proposal.config, proposal.fingerprint)
    );
}

#[test]
fn an_input_scored_by_two_signals_is_scored_by_one() {
    let mut config = synthetic::config();
    config["signals"] = serde_json::json!([
        {"id": "src", "input": "utmSource", "shortLabel": "Source", "values": {"linkedin": 5}},
        {"id": "src2", "input": "utmSource", "values": {"google": 3}}
    ]);
    let form = parse_config(config.clone()).unwrap();
    let (_, outcomes, _) = synthetic::leads(2000, 9);
    let report = fit(&form, &outcomes, &FitOptions::default()).unwrap();
    let proposal = propose(&config.to_string(), &form, report.clone()).unwrap();
    assert_eq!(
        proposal.notes,
        ["signal \"src2\" goes: the proposal scores utmSource once, in signal \"src\""]
    );
    let new = parse_text(&proposal.config);
    let sources: Vec<&str> = new
        .signals
        .iter()
        .filter(|s| s.input == SignalInput::UtmSource)
        .map(|s| s.short_label.as_str())
        .collect();
    assert_eq!(sources, ["Source"]);
    let totals: Vec<f64> = rescored(&new, &outcomes, report.holdout)
        .into_iter()
        .map(|(t, _)| t)
        .collect();
    let y: Vec<bool> = outcomes[outcomes.len() - report.holdout..]
        .iter()
        .map(|o| o.status == "won")
        .collect();
    assert_eq!(auc(&totals, &y), report.proposed);
}

#[test]
fn a_value_no_config_can_hold_is_left_out_and_said_so() {
    let (form, mut outcomes, _) = synthetic::leads(1000, 3);
    // A referrer that cannot be a signal key (a host without a dot) on many won leads.
    for o in outcomes.iter_mut().filter(|o| o.status == "won").step_by(2) {
        o.lead["attribution"]["lastTouch"]["referrer"] = json!("http://localhost:3000/start");
    }
    let report = fit(&form, &outcomes, &FitOptions::default()).unwrap();
    assert!(report
        .points
        .iter()
        .any(|c| c.feature.label == "referrerDomain localhost"));
    let config_text = serde_json::to_string(&synthetic::config()).unwrap();
    let proposal = propose(&config_text, &form, report).unwrap();
    assert!(
        proposal
            .notes
            .iter()
            .any(|n| n.starts_with("\"localhost\" cannot be a key of signal referrer")),
        "{:?}",
        proposal.notes
    );
    assert!(proposal.to_text().contains("Note: \"localhost\""));
    let new = parse_text(&proposal.config);
    let referrer = new.signals.iter().find(|s| s.id == "referrer").unwrap();
    assert!(referrer.values.is_empty(), "{:?}", referrer.values);
}

/// Leads of a BANT form shown in several languages, from known weights: `n` in arrival order.
fn bant_leads(form: &Form, n: usize) -> Vec<Outcome> {
    let mut rng = synthetic::Rng::new(5);
    (0..n)
        .map(|i| {
            let mut answers = Answers::new();
            let budget = ["none", "under-10k", "10k-50k", "50k-250k", "over-250k"][rng.below(5)];
            let role = ["decision-maker", "influencer", "researcher", "student"][rng.below(4)];
            let headcount = ["4", "30", "120", "900"][rng.below(4)];
            answers
                .set(form, "email", Input::Text("ann@acme.io"))
                .unwrap();
            answers
                .set(form, "budget", Input::Checked(vec![budget.into()]))
                .unwrap();
            answers
                .set(form, "role", Input::Checked(vec![role.into()]))
                .unwrap();
            answers
                .set(form, "headcount", Input::Text(headcount))
                .unwrap();
            answers
                .set_asked(
                    form,
                    ["email", "budget", "role", "headcount"]
                        .map(str::to_owned)
                        .to_vec(),
                )
                .unwrap();
            // Big budgets, deciders and larger teams convert; headcount's effect is the
            // reverse of its points, so its ranges move.
            let z: f64 =
                -1.0 + match budget {
                    "over-250k" => 1.5,
                    "50k-250k" => 0.8,
                    "none" => -1.5,
                    _ => 0.0,
                } + if role == "decision-maker" { 1.0 } else { 0.0 }
                    + if headcount == "4" { 0.8 } else { 0.0 };
            let won = rng.unit() < 1.0 / (1.0 + (-z).exp());
            let at = crate::time::format_rfc3339(1_735_689_600_000 + i as i64 * 600_000);
            let lead = build_lead(
                form,
                &answers,
                LeadInput {
                    id: format!("b-{i}"),
                    submitted_at: at.clone(),
                    page: PageInfo {
                        url: "https://www.example.com/".into(),
                        title: String::new(),
                        referrer: String::new(),
                    },
                    attribution: Some(Attribution::update(
                        None,
                        Touch::from_page("https://www.example.com/", "", &at),
                    )),
                    visit_count: 1,
                    new_answers: Vec::new(),
                    browser: BrowserInfo::default(),
                },
            );
            Outcome {
                lead: serde_json::from_str(&lead.to_json()).unwrap(),
                status: if won { "won" } else { "lost" }.into(),
                at,
            }
        })
        .collect()
}

#[test]
fn preset_questions_are_written_out_in_full_and_read_as_before_in_every_language() {
    let original = r##"{
  "formId": "multi",
  "preset": "bant",
  "locale": "auto",
  "weights": { "budget": 40 },
  "title": "Get your quote",
  "translations": {
    "it": { "title": "Il tuo preventivo", "questions": [ { "id": "budget", "options": [ { "id": "none", "label": "Nessun budget" } ] } ] }
  },
  "theme": { "accent": "#0f766e" }
}
"##;
    let form = parse_text(original);
    let outcomes = bant_leads(&form, 1500);
    let report = fit(&form, &outcomes, &FitOptions::default()).unwrap();
    let proposal = propose(original, &form, report.clone()).unwrap();
    let config: serde_json::Value = serde_json::from_str(&proposal.config).unwrap();
    // The file keeps its fields in their order; weights go (sum mode has none).
    let keys: Vec<&str> = proposal
        .config
        .lines()
        .filter(|l| l.starts_with("  \""))
        .map(|l| l.trim().split('"').nth(1).unwrap())
        .collect();
    assert_eq!(
        keys,
        [
            "formId",
            "preset",
            "locale",
            "title",
            "translations",
            "theme",
            "questions",
            "scoring",
            "grades"
        ],
        "{}",
        proposal.config
    );
    // Budget and headcount moved: written out in full, with the preset's disqualifier.
    let budget = config["questions"]
        .as_array()
        .unwrap()
        .iter()
        .find(|q| q["id"] == "budget")
        .unwrap();
    assert_eq!(budget["options"][0]["id"], "none");
    assert_eq!(budget["options"][0]["label"], "No budget yet");
    assert_eq!(budget["options"][0]["capGrade"], "cold");
    let new = parse_text(&proposal.config);
    for q in ["budget", "role", "headcount"] {
        for change in report.points.iter().filter(|c| {
            matches!(&c.feature.key, FeatureKey::Option { question, .. } | FeatureKey::Range { question, .. } if question == q)
        }) {
            let points = match &change.feature.key {
                FeatureKey::Option { option, .. } => {
                    new.question(q).unwrap().choice(option).unwrap().points
                }
                FeatureKey::Range { index, .. } => match &new.question(q).unwrap().kind {
                    Kind::Number { ranges, .. } => ranges[*index].points,
                    _ => unreachable!(),
                },
                _ => unreachable!(),
            };
            assert_eq!(points, change.proposed, "{}", change.feature.label);
        }
    }
    // In every language, every label is what it was before.
    let before: serde_json::Value = serde_json::from_str(original).unwrap();
    for locale in ["en", "de", "fr", "es", "it"] {
        let was = parse_config_for(before.clone(), &[locale]).unwrap();
        let now = parse_config_for(config.clone(), &[locale]).unwrap();
        assert_eq!(now.locale, locale);
        for (a, b) in was.questions.iter().zip(&now.questions) {
            match (&a.kind, &b.kind) {
                (Kind::SingleChoice(x), Kind::SingleChoice(y)) => {
                    let labels = |c: &[bantam_engine::Choice]| {
                        c.iter().map(|c| c.label.clone()).collect::<Vec<_>>()
                    };
                    assert_eq!(labels(x), labels(y), "{locale} {}", a.id);
                }
                (Kind::Number { ranges: x, .. }, Kind::Number { ranges: y, .. }) => {
                    let labels = |r: &[bantam_engine::Range]| {
                        r.iter().map(|r| r.label.clone()).collect::<Vec<_>>()
                    };
                    assert_eq!(labels(x), labels(y), "{locale} {}", a.id);
                }
                _ => {}
            }
        }
    }
    // The Italian translation the config had is kept, and not repeated.
    let it = &config["translations"]["it"]["questions"][0]["options"];
    assert_eq!(
        it.as_array()
            .unwrap()
            .iter()
            .filter(|o| o["id"] == "none")
            .count(),
        1
    );
    assert_eq!(it[0]["label"], "Nessun budget");
}

#[test]
fn pretty_text_keeps_order_and_values() {
    let text = r#"{"formId":"f","zeta":[1,2.5,-3],"alpha":{"b":true,"a":null,"long":["aaaaaaaaaaaaaaaaaaaaaaaaaaaaaa","bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb","cccccccccccccccccccccccccccccc"]},"s":"quote \" and \u2028 line"}"#;
    let value: Value = serde_json::from_str(text).unwrap();
    let pretty = to_json_text(&value);
    assert_eq!(
        serde_json::from_str::<serde_json::Value>(&pretty).unwrap(),
        serde_json::from_str::<serde_json::Value>(text).unwrap()
    );
    assert!(
        pretty.starts_with(
            "{\n  \"formId\": \"f\",\n  \"zeta\": [1, 2.5, -3],\n  \"alpha\": {\n    \"b\": true,"
        ),
        "{pretty}"
    );
    assert!(pretty.ends_with("}\n"));
}

/// A folder of its own under the temporary folder, removed on drop.
struct TempDir(PathBuf);

impl TempDir {
    fn new(name: &str) -> TempDir {
        let dir = std::env::temp_dir().join(format!("bantam-learn-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        TempDir(dir)
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

#[test]
fn a_config_is_replaced_whole_with_the_old_one_kept() {
    let dir = TempDir::new("write");
    let path = dir.0.join("demo.json");
    // A new file: nothing to keep.
    assert_eq!(
        write_config(&path, "{\"v\":1}\n", None, "20260101T000000Z").unwrap(),
        None
    );
    // Replacing: the old version is kept, twice in one second under two names.
    let first = write_config(
        &path,
        "{\"v\":2}\n",
        Some("{\"v\":1}\n"),
        "20260101T000000Z",
    )
    .unwrap()
    .unwrap();
    assert_eq!(first, dir.0.join("demo.json.20260101T000000Z.bak"));
    let second = write_config(&path, "{\"v\":3}\n", None, "20260101T000000Z")
        .unwrap()
        .unwrap();
    assert_eq!(second, dir.0.join("demo.json.20260101T000000Z-2.bak"));
    assert_eq!(std::fs::read_to_string(&first).unwrap(), "{\"v\":1}\n");
    assert_eq!(std::fs::read_to_string(&second).unwrap(), "{\"v\":2}\n");
    assert_eq!(std::fs::read_to_string(&path).unwrap(), "{\"v\":3}\n");
    // A file that changed since the proposal was made is left alone.
    let changed = write_config(
        &path,
        "{\"v\":4}\n",
        Some("{\"v\":2}\n"),
        "20260101T000001Z",
    );
    assert!(
        matches!(changed, Err(WriteError::Changed(_))),
        "{changed:?}"
    );
    assert_eq!(std::fs::read_to_string(&path).unwrap(), "{\"v\":3}\n");
    // No temporary file is left, and nothing the forms folder would load besides the file.
    let mut names: Vec<String> = std::fs::read_dir(&dir.0)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    assert_eq!(
        names,
        [
            "demo.json",
            "demo.json.20260101T000000Z-2.bak",
            "demo.json.20260101T000000Z.bak"
        ]
    );
    // A folder that does not exist is an error naming the file.
    let missing = write_config(&dir.0.join("no/such.json"), "{}", None, "x");
    assert!(
        missing.unwrap_err().to_string().contains("no/such.json"),
        "the error names the file"
    );
}

#[test]
fn stamps_are_file_name_friendly() {
    let stamp = stamp_now();
    assert_eq!(stamp.len(), 16, "{stamp}");
    assert!(stamp.chars().all(|c| c.is_ascii_alphanumeric()), "{stamp}");
}
