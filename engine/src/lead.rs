//! The lead document: the versioned JSON every endpoint receives.

use crate::map::Map;
use crate::prelude::*;

use crate::answer::{AnswerError, AnswerValue, Answers};
use crate::attribution::{Attribution, Touch};
use crate::context::{BrowserInfo, Context, Spam};
use crate::form::{Category, Form, Kind};
use crate::score::{score_with, Score};
use crate::value::JsonWriter;

/// The version of the lead document's shape. Renaming or removing a field bumps it.
pub const SCHEMA_VERSION: u32 = 1;

/// Where the lead was submitted, as the browser saw it.
#[derive(Debug, Clone, Default, PartialEq)]
#[cfg_attr(
    feature = "serde",
    derive(serde::Deserialize),
    serde(rename_all = "camelCase")
)]
pub struct PageInfo {
    /// The page URL.
    pub url: String,
    /// The document title.
    pub title: String,
    /// The referrer, empty when none.
    pub referrer: String,
}

/// The visitor's consent decision and the exact text they saw.
#[derive(Debug, Clone, PartialEq)]
#[cfg_attr(
    feature = "serde",
    derive(serde::Deserialize),
    serde(rename_all = "camelCase")
)]
pub struct Consent {
    /// The consent question's id.
    pub question_id: String,
    /// Whether the box was ticked.
    pub given: bool,
    /// The consent text shown.
    pub text: String,
}

/// One lead, as posted to the endpoint. A public contract: see the README.
#[derive(Debug, Clone, PartialEq)]
#[cfg_attr(
    feature = "serde",
    derive(serde::Deserialize),
    serde(rename_all = "camelCase")
)]
pub struct LeadDocument {
    /// [`SCHEMA_VERSION`] of the producer.
    pub schema_version: u32,
    /// Unique id of this submission (a UUID from the browser); endpoints deduplicate on it.
    pub id: String,
    /// The form's id.
    pub form_id: String,
    /// When the visitor submitted, RFC 3339 in UTC.
    pub submitted_at: String,
    /// The form's locale.
    pub locale: String,
    /// Contact answers (text, email and phone questions of the contact category) by id.
    pub contact: Map<String, String>,
    /// Every shown answer by question id.
    pub answers: Map<String, AnswerValue>,
    /// The score computed from `answers`.
    pub score: Score,
    /// The page the form was on.
    pub page: PageInfo,
    /// The consent decision, when the form asks for one and it was answered.
    pub consent: Option<Consent>,
    /// First and last touch, when the widget could record them.
    #[cfg_attr(feature = "serde", serde(default))]
    pub attribution: Option<Attribution>,
    /// The visitor's visits with this form, this one included.
    #[cfg_attr(feature = "serde", serde(default))]
    pub visit_count: u32,
    /// Question ids answered on this visit (the rest of `answers` came from earlier visits).
    #[cfg_attr(feature = "serde", serde(default))]
    pub new_answers: Vec<String>,
    /// Question ids asked on this visit, answered or not: one asked and not in `answers` was
    /// skipped; one neither asked nor answered is not asked yet. `None` in leads from before
    /// this was recorded: every question without an answer then counts as skipped.
    #[cfg_attr(feature = "serde", serde(default))]
    pub asked: Option<Vec<String>>,
    /// Enrichment: email domain class, company domain, browser locale and time zone, fill time,
    /// form variant.
    #[cfg_attr(feature = "serde", serde(default))]
    pub context: Context,
    /// Whether the spam rules caught the submission, and which.
    #[cfg_attr(feature = "serde", serde(default))]
    pub spam: Spam,
    /// A random id the widget keeps for the visitor (with their profile, under the same
    /// consent rule), so a collector can tell their submissions belong to one person before
    /// it knows their email. The platform sets it; [`build_lead`] leaves it `None`.
    #[cfg_attr(feature = "serde", serde(default))]
    pub visitor_id: Option<String>,
}

/// What the platform supplies for a lead: the engine makes no ids and reads no clock.
#[derive(Debug, Clone, PartialEq)]
pub struct LeadInput {
    /// Unique submission id.
    pub id: String,
    /// Submission time, RFC 3339.
    pub submitted_at: String,
    /// The page.
    pub page: PageInfo,
    /// First and last touch, if known.
    pub attribution: Option<Attribution>,
    /// This visitor's visits with the form, this one included (1 on a first visit).
    pub visit_count: u32,
    /// Questions answered on this visit; the rest of `answers` was known from earlier visits.
    pub new_answers: Vec<String>,
    /// What the browser measured: locale, time zone, fill time, honeypot, variant.
    pub browser: BrowserInfo,
}

impl LeadDocument {
    /// The document as JSON text: exactly what endpoints receive.
    pub fn to_json(&self) -> String {
        let mut w = JsonWriter::new();
        w.begin_object(None);
        w.int(Some("schemaVersion"), i64::from(self.schema_version));
        w.string(Some("id"), &self.id);
        w.string(Some("formId"), &self.form_id);
        w.string(Some("submittedAt"), &self.submitted_at);
        w.string(Some("locale"), &self.locale);
        w.int(Some("visitCount"), i64::from(self.visit_count));
        w.begin_array(Some("newAnswers"));
        for id in &self.new_answers {
            w.string(None, id);
        }
        w.end_array();
        if let Some(asked) = &self.asked {
            w.begin_array(Some("asked"));
            for id in asked {
                w.string(None, id);
            }
            w.end_array();
        }
        w.begin_object(Some("contact"));
        for (id, value) in &self.contact {
            w.string(Some(id), value);
        }
        w.end_object();
        w.begin_object(Some("answers"));
        for (id, value) in &self.answers {
            value.write(&mut w, Some(id));
        }
        w.end_object();
        self.score.write_json(&mut w, Some("score"));
        w.begin_object(Some("page"));
        w.string(Some("url"), &self.page.url);
        w.string(Some("title"), &self.page.title);
        w.string(Some("referrer"), &self.page.referrer);
        w.end_object();
        match &self.consent {
            Some(consent) => {
                w.begin_object(Some("consent"));
                w.string(Some("questionId"), &consent.question_id);
                w.bool(Some("given"), consent.given);
                w.string(Some("text"), &consent.text);
                w.end_object();
            }
            None => w.null(Some("consent")),
        }
        match &self.attribution {
            Some(attribution) => attribution.write(&mut w, Some("attribution")),
            None => w.null(Some("attribution")),
        }
        self.context.write(&mut w, Some("context"));
        self.spam.write(&mut w, Some("spam"));
        if let Some(visitor) = &self.visitor_id {
            w.string(Some("visitorId"), visitor);
        }
        w.end_object();
        w.finish()
    }
}

/// Scores with the touch a lead's signals read: its last touch, else one made from its page.
fn score_touch(
    form: &Form,
    answers: &Answers,
    attribution: Option<&Attribution>,
    page: &PageInfo,
) -> Score {
    match attribution {
        Some(a) => score_with(form, answers, Some(&a.last_touch)),
        None => score_with(
            form,
            answers,
            Some(&Touch::from_page(&page.url, &page.referrer, "")),
        ),
    }
}

impl LeadDocument {
    /// Scores `answers` (this lead's, read with [`Answers::from_lead`]) against `form` as its
    /// producer did, with the lead's last touch (else its page) for the form's signals.
    pub fn rescore(&self, form: &Form, answers: &Answers) -> Score {
        score_touch(form, answers, self.attribution.as_ref(), &self.page)
    }
}

impl Answers {
    /// Reads and checks a lead's answers and the questions it was asked on its visit.
    ///
    /// # Errors
    /// The id of the first bad answer (or asked question) and why.
    pub fn from_lead(form: &Form, lead: &LeadDocument) -> Result<Answers, (String, AnswerError)> {
        let mut answers = Answers::from_values(form, lead.answers.clone())?;
        if let Some(asked) = &lead.asked {
            answers
                .set_asked(form, asked.clone())
                .map_err(|e| ("asked".to_owned(), e))?;
        }
        Ok(answers)
    }
}

/// Builds the lead document for these answers. Answers to hidden questions are left out; the
/// questions asked on this visit come from [`Answers::asked`].
pub fn build_lead(form: &Form, answers: &Answers, input: LeadInput) -> LeadDocument {
    let mut contact = Map::new();
    let mut shown = Map::new();
    let mut consent = None;
    for (index, q) in form.questions.iter().enumerate() {
        let Some(value) = answers.get(&q.id) else {
            continue;
        };
        if !form.is_visible(index, answers) {
            continue;
        }
        shown.insert(q.id.clone(), value.clone());
        match (&q.kind, value) {
            (Kind::Text | Kind::Email | Kind::Phone, AnswerValue::Text(text))
                if q.category == Category::Contact =>
            {
                contact.insert(q.id.clone(), text.clone());
            }
            (Kind::Consent, AnswerValue::Bool(given)) if consent.is_none() => {
                consent = Some(Consent {
                    question_id: q.id.clone(),
                    given: *given,
                    text: q.label.clone(),
                });
            }
            _ => {}
        }
    }
    let mut visible = Answers::from_values(form, shown.clone()).unwrap_or_default();
    let asked = answers.asked().map(|asked| {
        let mut kept = Vec::new();
        for id in asked {
            if form
                .question_index(id)
                .is_some_and(|i| form.is_visible(i, answers))
            {
                kept.push(id.clone());
            }
        }
        let asked = kept;
        let _ = visible.set_asked(form, asked.clone());
        asked
    });
    let context = Context::of(form, &shown, &input.browser, form.variant.as_deref());
    let spam = form
        .spam
        .judge(&input.browser, !input.new_answers.is_empty());
    LeadDocument {
        schema_version: SCHEMA_VERSION,
        id: input.id,
        form_id: form.id.clone(),
        submitted_at: input.submitted_at,
        locale: form.locale.clone(),
        contact,
        answers: shown,
        score: score_touch(form, &visible, input.attribution.as_ref(), &input.page),
        page: input.page,
        consent,
        attribution: input.attribution,
        visit_count: input.visit_count,
        new_answers: input.new_answers,
        asked,
        context,
        spam,
        visitor_id: None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::answer::Input;

    #[test]
    fn the_document_carries_contact_answers_consent_and_score() {
        let config = crate::config::test_config(r#"{"formId":"demo","preset":"bant"}"#).unwrap();
        let form = Form::from_config(config).unwrap();
        let mut a = Answers::new();
        a.set(&form, "email", Input::Text("ann@acme.io")).unwrap();
        a.set(&form, "company", Input::Text("Acme")).unwrap();
        a.set(&form, "consent", Input::Flag(true)).unwrap();
        a.set(&form, "budget", Input::Checked(vec!["over-250k".into()]))
            .unwrap();
        let lead = build_lead(
            &form,
            &a,
            LeadInput {
                id: "id-1".into(),
                submitted_at: "2026-11-23T08:00:00Z".into(),
                page: PageInfo {
                    url: "https://example.com/".into(),
                    title: "Example".into(),
                    referrer: String::new(),
                },
                attribution: None,
                visit_count: 1,
                new_answers: vec!["budget".into()],
                browser: BrowserInfo {
                    locale: "en-GB".into(),
                    time_zone: "Europe/London".into(),
                    fill_time_ms: 1200,
                    honeypot_filled: false,
                },
            },
        );
        assert_eq!(lead.schema_version, 1);
        assert_eq!(lead.form_id, "demo");
        assert_eq!(
            lead.contact.get("email").map(String::as_str),
            Some("ann@acme.io")
        );
        assert_eq!(
            lead.contact.get("company").map(String::as_str),
            Some("Acme")
        );
        assert_eq!(lead.answers.len(), 4);
        assert_eq!(lead.consent.as_ref().map(|c| c.given), Some(true));
        assert_eq!(lead.score.total, 30);
        assert_eq!(lead.context.company_domain.as_deref(), Some("acme.io"));
        assert_eq!(lead.context.fill_time_ms, 1200);
        // 1.2 s is under the default minimum fill time of 3 s.
        assert_eq!(lead.spam.reasons, ["tooFast"]);
        let json: serde_json::Value = serde_json::from_str(&lead.to_json()).unwrap();
        for key in [
            "schemaVersion",
            "id",
            "formId",
            "submittedAt",
            "contact",
            "answers",
            "score",
            "page",
            "consent",
            "context",
            "spam",
        ] {
            assert!(json.get(key).is_some(), "missing {key}");
        }
        assert!(json["score"].get("engineVersion").is_some());
        let back: LeadDocument = serde_json::from_value(json).unwrap();
        assert_eq!(back, lead);
    }
}
