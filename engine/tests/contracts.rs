//! Public contracts: config fixtures under `tests/data/` and the lead document's shape.

use std::path::PathBuf;

use bantam_engine::{
    build_lead, delivery_warnings, encode, form_encode, next_questions, parse_config, score,
    AnswerError, AnswerValue, Answers, Attribution, BrowserInfo, Category, Delivery, Extras, Form,
    Input, LeadDocument, LeadInput, PageInfo, Touch, LATE_AFTER_MS,
};
use serde_json::Value;

fn data(name: &str) -> String {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../tests/data")
        .join(name);
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

fn form(name: &str) -> Form {
    let json: Value = serde_json::from_str(&data(name)).unwrap();
    parse_config(json).unwrap_or_else(|e| panic!("{name}: {e}"))
}

#[test]
fn every_invalid_config_fails_with_its_message() {
    let cases: Vec<Value> = serde_json::from_str(&data("invalid-configs.json")).unwrap();
    assert!(cases.len() >= 30);
    for case in cases {
        let name = case["name"].as_str().unwrap();
        let err = parse_config(case["config"].clone()).expect_err(name);
        assert_eq!(
            err.to_string(),
            case["error"].as_str().unwrap(),
            "case \"{name}\""
        );
    }
}

#[test]
fn five_lines_of_config_give_the_full_bant_form() {
    let form = form("configs/minimal-bant.json");
    let ids: Vec<_> = form.questions.iter().map(|q| q.id.as_str()).collect();
    assert_eq!(
        ids,
        [
            "email",
            "company",
            "budget",
            "role",
            "timeframe",
            "need",
            "headcount",
            "consent"
        ]
    );
    let categories: Vec<_> = form.questions.iter().map(|q| q.category).collect();
    for c in [
        Category::Budget,
        Category::Authority,
        Category::Need,
        Category::Timeframe,
        Category::Fit,
    ] {
        assert!(categories.contains(&c), "{c:?} is asked");
    }
    assert_eq!(
        form.grades
            .iter()
            .map(|g| g.name.as_str())
            .collect::<Vec<_>>(),
        ["hot", "warm", "cold"]
    );
    assert_eq!(form.texts.submit, "Send");
}

#[test]
fn preset_questions_can_be_overridden_removed_and_added() {
    let json = serde_json::json!({
        "formId": "f",
        "preset": "bant",
        "removeQuestions": ["headcount"],
        "questions": [
            { "id": "budget", "required": false, "label": "Budget range?" },
            { "id": "phone", "kind": "phone", "label": "Phone" }
        ]
    });
    let form = parse_config(json).unwrap();
    let budget = form.question("budget").unwrap();
    assert_eq!(budget.label, "Budget range?");
    assert!(!budget.required);
    assert_eq!(
        budget.kind.choices().len(),
        5,
        "options kept from the preset"
    );
    assert!(form.question("headcount").is_none());
    assert_eq!(form.questions.last().unwrap().id, "phone");
}

#[test]
fn a_config_with_every_kind_validates_and_scores() {
    let form = form("configs/all-kinds.json");
    assert_eq!(form.texts.submit, "Angebot anfordern");
    assert_eq!(form.texts.next, "Weiter");
    assert_eq!(
        form.question("approver").unwrap().kind.choices()[1].label,
        "Nein"
    );
    assert_eq!(
        form.theme[0],
        ("--bantam-accent".to_owned(), "#7c3aed".to_owned())
    );
    assert_eq!(form.theme[1].0, "--bantam-font-family");
    let mut a = Answers::new();
    a.set(&form, "email", Input::Text("eva@firma.de")).unwrap();
    a.set(&form, "phone", Input::Text("+49 30 1234567"))
        .unwrap();
    a.set(&form, "budget", Input::Checked(vec!["large".into()]))
        .unwrap();
    a.set(
        &form,
        "features",
        Input::Checked(vec!["api".into(), "other".into()]),
    )
    .unwrap();
    a.set(&form, "seats", Input::Text("250")).unwrap();
    a.set(&form, "approver", Input::Checked(vec!["yes".into()]))
        .unwrap();
    a.set(&form, "when", Input::Checked(vec!["now".into()]))
        .unwrap();
    a.set(&form, "consent", Input::Flag(true)).unwrap();
    let s = score(&form, &a);
    // budget 30/30*40 + authority 25/25*20 + need 8/15*20 + timeframe 10/10*10 + fit 10/10*10
    // = 40 + 20 + 10.67 + 10 + 10 = 90.67 of 100.
    assert_eq!((s.total, s.grade.as_str()), (91, "hot"));
    assert!(s
        .reasons
        .iter()
        .any(|r| r.text == "Was brauchen Sie? API, Anderes: +8"));
    assert!(s
        .reasons
        .iter()
        .any(|r| r.text == "Wie viele Nutzer? 250 (100+): +10"));
    // "No budget" caps at lukewarm whatever the rest.
    a.set(&form, "budget", Input::Checked(vec!["none".into()]))
        .unwrap();
    let s = score(&form, &a);
    assert_eq!(
        (s.grade.as_str(), s.capped_by.as_deref()),
        ("lukewarm", Some("lukewarm"))
    );
    assert_eq!(
        form.thank_you_for(form.grade_index("hot").unwrap())
            .link
            .as_ref()
            .unwrap()
            .text,
        "Termin buchen"
    );
    assert_eq!(
        form.thank_you_for(form.grade_index("cold").unwrap()).title,
        "Danke!"
    );
}

#[test]
fn conditions_follow_answers() {
    let form = form("configs/all-kinds.json");
    let when = form.question_index("when").unwrap();
    let who = form.question_index("approverName").unwrap();
    let mut a = Answers::new();
    assert!(!form.is_visible(when, &a) && !form.is_visible(who, &a));
    a.set(&form, "seats", Input::Text("5")).unwrap();
    assert!(!form.is_visible(when, &a));
    a.set(&form, "seats", Input::Text("10")).unwrap();
    assert!(form.is_visible(when, &a));
    a.set(&form, "approver", Input::Checked(vec!["no".into()]))
        .unwrap();
    assert!(form.is_visible(who, &a));
    let chosen: Vec<_> = next_questions(&form, &a)
        .iter()
        .map(|&i| form.questions[i].id.clone())
        .collect();
    assert!(chosen.contains(&"approverName".to_owned()) && chosen.contains(&"when".to_owned()));
    assert!(
        !chosen.contains(&"seats".to_owned()),
        "known answers are not asked again"
    );
}

fn sample_lead() -> LeadDocument {
    let mut form = form("configs/minimal-bant.json");
    form.set_variant("short-intro").unwrap();
    let mut a = Answers::new();
    a.set(&form, "email", Input::Text("ann@acme.io")).unwrap();
    a.set(&form, "company", Input::Text("Acme")).unwrap();
    a.set(&form, "budget", Input::Checked(vec!["50k-250k".into()]))
        .unwrap();
    a.set(&form, "role", Input::Checked(vec!["decision-maker".into()]))
        .unwrap();
    a.set(
        &form,
        "timeframe",
        Input::Checked(vec!["this-quarter".into()]),
    )
    .unwrap();
    a.set(&form, "headcount", Input::Text("120")).unwrap();
    a.set(&form, "consent", Input::Flag(true)).unwrap();
    // The questions this (second) visit asked; "need" was left unanswered, so it counts.
    a.set_asked(
        &form,
        vec!["timeframe".into(), "need".into(), "headcount".into()],
    )
    .unwrap();
    let mut lead = build_lead(&form, &a, lead_input());
    // The widget adds the id it keeps for the visitor (its first submission's id).
    lead.visitor_id = Some("0b7e9a52-51d4-4f0e-8c1a-6f3d2e9b7a41".into());
    lead
}

/// The submission, page, attribution and browser of every sample lead.
fn lead_input() -> LeadInput {
    LeadInput {
        id: "6f1c2a7e-3b7d-4c55-9a43-0d2f1e8b9c10".into(),
        submitted_at: "2026-11-23T09:30:00.000Z".into(),
        page: PageInfo {
            url: "https://www.example.com/pricing?utm_source=newsletter".into(),
            title: "Pricing".into(),
            referrer: "https://www.google.com/".into(),
        },
        attribution: Some(Attribution::update(
            None,
            Touch::from_page(
                "https://www.example.com/?utm_source=newsletter&utm_medium=email&gclid=g-123",
                "https://www.google.com/",
                "2026-11-23T09:25:00.000Z",
            ),
        )),
        visit_count: 2,
        new_answers: vec!["headcount".into(), "timeframe".into()],
        browser: BrowserInfo {
            locale: "de-DE".into(),
            time_zone: "Europe/Berlin".into(),
            fill_time_ms: 48_250,
            honeypot_filled: false,
        },
    }
}

/// The lead document is a public contract: this golden file changes only on purpose.
#[test]
fn the_lead_document_matches_the_documented_contract() {
    let lead = sample_lead();
    let got: Value = serde_json::from_str(&lead.to_json()).unwrap();
    let want: Value = serde_json::from_str(&data("lead-v1.json")).unwrap();
    assert_eq!(
        got,
        want,
        "got:\n{}",
        serde_json::to_string_pretty(&got).unwrap()
    );
    let back: LeadDocument = serde_json::from_value(want).unwrap();
    assert_eq!(back, lead);
    assert_eq!(lead.answers["headcount"], AnswerValue::Number(120.0));
}

/// The delivery settings of the minimal BANT form with `delivery` (and an endpoint) added.
fn delivery(settings: Value) -> Delivery {
    let mut config: Value = serde_json::from_str(&data("configs/minimal-bant.json")).unwrap();
    config["endpoint"] = Value::from("https://crm.example.com/submit");
    config["delivery"] = settings;
    parse_config(config).unwrap().delivery
}

/// Each adapter's body for the sample lead, against a fixture written from the target's
/// documentation (HubSpot Forms API v3 submit, Salesforce Web-to-Lead, HTML form encoding).
#[test]
fn adapters_write_the_documented_formats() {
    let lead = sample_lead();
    let cases = [
        (
            "payloads/hubspot.json",
            // A stock portal's numemployees is a dropdown of these bands.
            serde_json::json!({
                "format": "hubspot",
                "fields": {"headcount": "numemployees"},
                "values": {"headcount": [
                    {"min": 1, "value": "1-5"}, {"min": 5, "value": "5-25"},
                    {"min": 25, "value": "25-50"}, {"min": 50, "value": "50-100"},
                    {"min": 100, "value": "100-500"}, {"min": 500, "value": "500-1000"},
                    {"min": 1000, "value": "1000+"}
                ]}
            }),
            "application/json",
        ),
        (
            // No gradeField: Salesforce gets no grade unless a field is named for it.
            "payloads/salesforce.txt",
            serde_json::json!({
                "format": "salesforce",
                "salesforceOid": "00D5e000000AbCd",
                "fields": {"headcount": "employees", "role": "00N5e00000RoLe1"},
                "values": {"role": {"decision-maker": "Decision Maker", "influencer": "Influencer"}},
                "scoreField": "00N5e00000ScOr1"
            }),
            "application/x-www-form-urlencoded",
        ),
        (
            "payloads/form.txt",
            serde_json::json!({
                "format": "form",
                "fields": {"headcount": "employees"},
                "values": {
                    "headcount": [{"min": 1, "value": "1-49"}, {"min": 50, "value": "50-249"}],
                    "timeframe": {"this-quarter": "Q", "this-month": "M"}
                }
            }),
            "application/x-www-form-urlencoded",
        ),
    ];
    for (fixture, settings, content_type) in cases {
        let extras = Extras {
            hutk: Some("f3a1c0de5b8e4c0fa1b2c3d4e5f60718"),
            // The document's submittedAt, 2026-11-23T09:30:00.000Z, in epoch milliseconds.
            submitted_ms: Some(1_795_426_200_000),
        };
        let payload = encode(&lead, &delivery(settings), extras);
        assert_eq!(payload.content_type, content_type, "{fixture}");
        assert!(!payload.idempotency_header, "{fixture}");
        let want = data(fixture);
        if fixture.ends_with(".json") {
            let got: Value = serde_json::from_str(&payload.body).unwrap();
            let mut want: Value = serde_json::from_str(&want).unwrap();
            assert_eq!(
                got,
                want,
                "{fixture}: got\n{}",
                serde_json::to_string_pretty(&got).unwrap()
            );
            // A lead that waited too long goes without its time, which HubSpot then sets.
            let late: Value = serde_json::from_str(payload.late_body.as_deref().unwrap()).unwrap();
            want.as_object_mut().unwrap().remove("submittedAt");
            assert_eq!(late, want, "{fixture}: late body");
        } else {
            assert_eq!(payload.body, want.trim_end(), "{fixture}");
            assert_eq!(payload.late_body, None, "{fixture}");
        }
    }
    let json = encode(&lead, &Delivery::default(), Extras::default());
    assert_eq!(json.body, lead.to_json());
    assert!(json.idempotency_header && json.readable && json.late_body.is_none());
    assert_eq!(LATE_AFTER_MS, 7 * 86_400_000);
}

/// A form with its delivery settings (and an endpoint) replaced.
fn form_with(endpoint: &str, settings: Value) -> Form {
    let mut config: Value = serde_json::from_str(&data("configs/minimal-bant.json")).unwrap();
    config["endpoint"] = Value::from(endpoint);
    config["delivery"] = settings;
    parse_config(config).unwrap()
}

#[test]
fn salesforce_gets_utf8_its_own_fields_and_no_score_by_default() {
    let salesforce = |endpoint: &str| {
        form_with(
            endpoint,
            serde_json::json!({"format": "salesforce", "salesforceOid": "00D5e000000AbCdEAF"}),
        )
    };
    for (given, validated) in [
        (
            "https://webto.salesforce.com/servlet/servlet.WebToLead",
            "https://webto.salesforce.com/servlet/servlet.WebToLead?encoding=UTF-8",
        ),
        (
            "https://webto.salesforce.com/servlet/servlet.WebToLead?debug=1",
            "https://webto.salesforce.com/servlet/servlet.WebToLead?debug=1&encoding=UTF-8",
        ),
        (
            "https://webto.salesforce.com/servlet/servlet.WebToLead?encoding=utf-8",
            "https://webto.salesforce.com/servlet/servlet.WebToLead?encoding=utf-8",
        ),
    ] {
        assert_eq!(salesforce(given).endpoint, validated);
    }
    let form = salesforce("https://webto.salesforce.com/servlet/servlet.WebToLead");
    assert_eq!(
        (form.delivery.score_field, form.delivery.grade_field),
        (None, None)
    );
    // Other formats keep the default names; only Salesforce endpoints get an encoding.
    let form = form_with(
        "https://hooks.example.com/lead",
        serde_json::json!({"format": "form"}),
    );
    assert_eq!(form.endpoint, "https://hooks.example.com/lead");
    assert_eq!(form.delivery.score_field.as_deref(), Some("bantam_score"));
    assert_eq!(form.delivery.grade_field.as_deref(), Some("bantam_grade"));
}

#[test]
fn text_answers_bound_for_salesforce_fit_its_fields() {
    let mut config: Value = serde_json::from_str(&data("configs/minimal-bant.json")).unwrap();
    config["endpoint"] = Value::from("https://webto.salesforce.com/servlet/servlet.WebToLead");
    config["questions"] = serde_json::json!([
        {"id": "postcode", "kind": "text", "label": "Postcode"},
        {"id": "town", "kind": "text", "label": "Town", "maxLength": 12}
    ]);
    config["delivery"] = serde_json::json!({
        "format": "salesforce",
        "salesforceOid": "00D5e000000AbCd",
        "fields": {"postcode": "zip", "town": "city"}
    });
    let form = parse_config(config).unwrap();
    let max = |id| form.question(id).unwrap().max_length;
    // email by its standard id; zip by mapping; a shorter maxLength and a longer field stay.
    assert_eq!(
        (max("email"), max("postcode"), max("town"), max("company")),
        (80, 20, 12, 200)
    );
    let mut a = Answers::new();
    let long = format!("ann@{}acme.io", "team.".repeat(15));
    assert_eq!(
        a.set(&form, "email", Input::Text(&long)),
        Err(AnswerError::TooLong { max: 80 })
    );
    // The same form delivered as JSON keeps the default length.
    let json = form_with("/v1/leads", serde_json::json!({}));
    assert_eq!(json.question("email").unwrap().max_length, 200);
}

#[test]
fn salesforce_gets_whole_employees_and_values_cut_to_its_fields() {
    let mut lead = sample_lead();
    lead.answers
        .insert("headcount".into(), AnswerValue::Number(1234.5));
    // Longer than the fields, as a lead checked against another format's settings can be.
    let email = format!("{}@example.com", "zoë".repeat(30));
    lead.answers
        .insert("email".into(), AnswerValue::Text(email.clone()));
    lead.answers
        .insert("company".into(), AnswerValue::Text("Ü".repeat(300)));
    let salesforce = delivery(serde_json::json!({
        "format": "salesforce",
        "salesforceOid": "00D5e000000AbCd",
        "fields": {"headcount": "employees"}
    }));
    let body = encode(&lead, &salesforce, Extras::default()).body;
    let pairs: Vec<(String, String)> = [
        ("oid", "00D5e000000AbCd".to_owned()),
        ("company", "Ü".repeat(255)),
        ("email", email.chars().take(80).collect()),
        ("employees", "1235".to_owned()),
    ]
    .into_iter()
    .map(|(name, value)| (name.to_owned(), value))
    .collect();
    assert_eq!(body, form_encode(&pairs));
    // Mapped to bands, the number is not rounded first.
    let mapped = delivery(serde_json::json!({
        "format": "salesforce",
        "salesforceOid": "00D5e000000AbCd",
        "fields": {"headcount": "employees"},
        "values": {"headcount": [{"min": 1, "value": "small"}, {"min": 1235, "value": "large"}]}
    }));
    assert!(encode(&lead, &mapped, Extras::default())
        .body
        .ends_with("&employees=small"));
}

#[test]
fn value_mappings_rewrite_options_and_numbers() {
    let config = serde_json::json!({
        "formId": "values",
        "endpoint": "https://hooks.example.com/lead",
        "questions": [
            {"id": "tools", "kind": "multipleChoice", "label": "Tools", "options": [
                {"id": "crm", "label": "CRM"}, {"id": "erp", "label": "ERP"},
                {"id": "bi", "label": "BI"}
            ]},
            {"id": "seats", "kind": "number", "label": "Seats", "min": 1},
            {"id": "trial", "kind": "yesNo", "label": "Trial?"}
        ],
        "delivery": {
            "format": "form",
            "scoreField": null,
            "gradeField": null,
            "fallback": "https://leads.example.com/v1/leads",
            "values": {
                "tools": {"crm": "Salesforce", "bi": "Looker"},
                "seats": [{"min": 5, "value": "5-19"}, {"min": 20, "value": "20+"}],
                "trial": {"yes": "Y"}
            }
        }
    });
    let form = parse_config(config).unwrap();
    assert_eq!(
        form.delivery.fallback.as_deref(),
        Some("https://leads.example.com/v1/leads")
    );
    let body = |tools: &[&str], seats: &str, trial: &str| {
        let mut a = Answers::new();
        let ids = tools.iter().map(|t| t.to_string()).collect();
        a.set(&form, "tools", Input::Checked(ids)).unwrap();
        a.set(&form, "seats", Input::Text(seats)).unwrap();
        a.set(&form, "trial", Input::Checked(vec![trial.into()]))
            .unwrap();
        let lead = build_lead(&form, &a, lead_input());
        let body = encode(&lead, &form.delivery, Extras::default()).body;
        let start = body.find("&seats").or(body.find("&tools")).unwrap();
        body[start + 1..body.find("&pageUrl").unwrap()].to_owned()
    };
    // Unmapped options go out as their ids; numbers below the first entry are left out.
    assert_eq!(
        body(&["crm", "erp", "bi"], "3", "no"),
        "tools=Salesforce%3Berp%3BLooker&trial=no"
    );
    assert_eq!(body(&["erp"], "5", "yes"), "seats=5-19&tools=erp&trial=Y");
    assert_eq!(
        body(&["bi"], "250", "yes"),
        "seats=20%2B&tools=Looker&trial=Y"
    );
}

/// The forms we ship and the default setup (JSON to the collector) are not warned about.
#[test]
fn shipped_forms_have_no_delivery_warnings() {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../www/forms");
    let mut names: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "json"))
        .collect();
    names.push(
        PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../tests/data/configs/minimal-bant.json"),
    );
    assert!(names.len() >= 2);
    for path in names {
        let json: Value = serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
        let form = parse_config(json).unwrap();
        assert_eq!(delivery_warnings(&form), [], "{}", path.display());
    }
}
