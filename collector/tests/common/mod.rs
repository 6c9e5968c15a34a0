//! Shared by the collector's integration tests: lead documents built by the engine, as the
//! widget builds them.

use bantam_engine::{build_lead, parse_config, Answers, Input, Kind, LeadInput, PageInfo};
use serde_json::json;

/// A lead for a BANT-preset form `form_id`, answering `answers` (question id, value: an option
/// id for choices, `true` for consent, text otherwise), submitted from `url`.
pub fn lead_json(form_id: &str, id: &str, answers: &[(&str, &str)], url: &str) -> String {
    let form = parse_config(json!({ "formId": form_id, "preset": "bant" })).expect("preset form");
    let mut given = Answers::new();
    for (question, value) in answers {
        let q = form.question(question).expect("a preset question");
        let input = match q.kind {
            Kind::SingleChoice(_) | Kind::MultipleChoice(_) | Kind::YesNo(_) => {
                Input::Checked(vec![(*value).to_owned()])
            }
            Kind::Consent => Input::Flag(*value == "true"),
            _ => Input::Text(value),
        };
        given.set(&form, question, input).expect("a valid answer");
    }
    let page = PageInfo {
        url: url.into(),
        title: "Pricing".into(),
        referrer: String::new(),
    };
    let input = LeadInput {
        id: id.into(),
        submitted_at: "2026-11-23T08:00:00.000Z".into(),
        page,
        attribution: None,
        visit_count: 1,
        new_answers: Vec::new(),
        browser: bantam_engine::BrowserInfo {
            fill_time_ms: 20_000,
            ..bantam_engine::BrowserInfo::default()
        },
    };
    build_lead(&form, &given, input).to_json()
}
