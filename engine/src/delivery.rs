//! Payload adapters: the body an endpoint receives, in the format it understands.
//!
//! - `json` (default): the lead document itself.
//! - `hubspot`: the HubSpot Forms submission API (`submittedAt`, `fields: [{objectTypeId, name,
//!   value}]`, `context: {pageUri, pageName, hutk}`, `legalConsentOptions` when consent was
//!   given).
//! - `salesforce`: Salesforce Web-to-Lead, form-encoded, with `oid`.
//! - `form`: plain form-encoded key/value pairs, for webhook tools.
//!
//! Answers go out under their question id or the name `delivery.fields` maps them to; for
//! HubSpot and Salesforce, whose endpoints reject or ignore unknown names, an unmapped answer
//! goes out only when its id is one of the target's standard field names. `delivery.values`
//! turns option ids and numbers into the target's values. Multiple-choice answers are joined
//! with `;` (how both CRMs write multi-select values). For Salesforce, a number going to the
//! whole-number `employees` field is rounded, and a value longer than its field is cut.

use crate::answer::{format_number, AnswerValue};
use crate::form::{Form, Kind};
use crate::lead::LeadDocument;
use crate::map::Map;
use crate::prelude::*;
use crate::value::{decimal, join_with, JsonWriter};

/// HubSpot's default contact properties an answer id may match without a mapping.
pub const HUBSPOT_FIELDS: [&str; 16] = [
    "email",
    "firstname",
    "lastname",
    "company",
    "phone",
    "mobilephone",
    "jobtitle",
    "website",
    "city",
    "state",
    "zip",
    "country",
    "industry",
    "numemployees",
    "annualrevenue",
    "message",
];

/// Salesforce Web-to-Lead's standard lead fields an answer id may match without a mapping.
pub const SALESFORCE_FIELDS: [&str; 18] = [
    "first_name",
    "last_name",
    "email",
    "company",
    "title",
    "phone",
    "mobile",
    "URL",
    "street",
    "city",
    "state",
    "zip",
    "country",
    "description",
    "industry",
    "employees",
    "revenue",
    "lead_source",
];

/// The most characters each Salesforce Web-to-Lead text field stores: the lengths of the Lead
/// object's `FirstName`, `LastName`, `Email`, `Company`, `Title`, `Phone`, `MobilePhone`,
/// `Website`, `Street`, `City`, `State`, `PostalCode`, `Country` and `Description` in
/// Salesforce's field reference.
const SALESFORCE_LENGTHS: [(&str, usize); 14] = [
    ("first_name", 40),
    ("last_name", 80),
    ("email", 80),
    ("company", 255),
    ("title", 128),
    ("phone", 40),
    ("mobile", 40),
    ("URL", 255),
    ("street", 255),
    ("city", 40),
    ("state", 80),
    ("zip", 20),
    ("country", 80),
    ("description", 32000),
];

/// The fields the `form` format sends besides the answers, score and grade.
pub(crate) const FORM_OWN_FIELDS: [&str; 10] = [
    "id",
    "formId",
    "submittedAt",
    "pageUrl",
    "utm_source",
    "utm_medium",
    "utm_campaign",
    "utm_term",
    "utm_content",
    "spam",
];

/// HubSpot's object type id for contacts.
const HUBSPOT_CONTACT: &str = "0-1";

/// How long a lead may wait before its sender posts [`Payload::late_body`] instead of the body,
/// in milliseconds: 7 days. HubSpot refuses a submission whose `submittedAt` is too old; the
/// refusal we saw came at about a month, and HubSpot's documentation gives no figure we could
/// find, so a week leaves a safety margin.
pub const LATE_AFTER_MS: i64 = 7 * 24 * 60 * 60 * 1000;

/// The body format an endpoint expects.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Format {
    /// The lead document as JSON.
    #[default]
    Json,
    /// HubSpot Forms submission API (JSON).
    Hubspot,
    /// Salesforce Web-to-Lead (form-encoded).
    Salesforce,
    /// Form-encoded key/value pairs.
    Form,
}

impl Format {
    /// Every format with its config name.
    pub const ALL: [(&'static str, Format); 4] = [
        ("json", Format::Json),
        ("hubspot", Format::Hubspot),
        ("salesforce", Format::Salesforce),
        ("form", Format::Form),
    ];

    /// The config name, such as `hubspot`.
    pub fn as_str(self) -> &'static str {
        match self {
            Format::Json => "json",
            Format::Hubspot => "hubspot",
            Format::Salesforce => "salesforce",
            Format::Form => "form",
        }
    }

    /// The format with this config name.
    pub fn from_name(name: &str) -> Option<Format> {
        Format::ALL
            .iter()
            .find(|(n, _)| *n == name)
            .map(|(_, f)| *f)
    }
}

/// How the answers to one question become the target's values (`delivery.values`).
#[derive(Debug, Clone, PartialEq)]
pub enum ValueMap {
    /// For a choice or yes/no question: option id → the target's value. An option left out
    /// goes out as its id (`yes` or `no` for a yes/no question).
    Options(Map<String, String>),
    /// For a number question: entries ascending by `min`. A number goes out as the value of
    /// the last entry whose `min` it reaches, and is left out when it is below the first.
    Bands(Vec<Band>),
}

/// One entry of a number question's [`ValueMap::Bands`]: numbers from `min` go out as `value`.
#[derive(Debug, Clone, PartialEq)]
pub struct Band {
    /// Smallest number that goes out as `value`.
    pub min: f64,
    /// The target's value, such as `25-50`.
    pub value: String,
}

/// The validated delivery settings of a form.
#[derive(Debug, Clone, PartialEq)]
pub struct Delivery {
    /// The body format.
    pub format: Format,
    /// Question id → field name at the endpoint.
    pub fields: Vec<(String, String)>,
    /// Question id → how its answers become the endpoint's values.
    pub values: Vec<(String, ValueMap)>,
    /// The field that carries the score total; `None` leaves it out.
    pub score_field: Option<String>,
    /// The field that carries the grade name; `None` leaves it out.
    pub grade_field: Option<String>,
    /// The Salesforce organisation id (`oid`), required for `salesforce`.
    pub salesforce_oid: Option<String>,
    /// A Bantam collector's lead URL that receives the lead document when the endpoint
    /// refuses the lead for good.
    pub fallback: Option<String>,
}

impl Default for Delivery {
    fn default() -> Delivery {
        Delivery {
            format: Format::Json,
            fields: Vec::new(),
            values: Vec::new(),
            score_field: Some("bantam_score".into()),
            grade_field: Some("bantam_grade".into()),
            salesforce_oid: None,
            fallback: None,
        }
    }
}

/// One request body, with what the sender needs to know to post it.
#[derive(Debug, Clone, PartialEq)]
pub struct Payload {
    /// The `Content-Type` header.
    pub content_type: &'static str,
    /// The body.
    pub body: String,
    /// The body to post instead once the lead is more than [`LATE_AFTER_MS`] old: for
    /// `hubspot`, the body without `submittedAt`, so HubSpot takes the time it receives the
    /// lead rather than refusing an old time. `None` for the other formats.
    pub late_body: Option<String>,
    /// Whether to send the lead id as `Idempotency-Key`. Only our own JSON endpoints get it: a
    /// header outside the CORS safelist needs the endpoint's permission in a preflight, which
    /// third-party endpoints do not give.
    pub idempotency_header: bool,
    /// Whether the endpoint lets the browser read its answer (CORS). Salesforce Web-to-Lead
    /// does not: the widget posts it `no-cors` and counts a completed request as delivered.
    pub readable: bool,
}

/// What the sender knows beyond the lead document.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Extras<'a> {
    /// HubSpot's visitor cookie (`hubspotutk`), when the page has one.
    pub hutk: Option<&'a str>,
    /// The submission time in milliseconds since the Unix epoch. The widget passes the clock's
    /// value; the collector parses the document's `submittedAt` (so the widget carries no
    /// date parser).
    pub submitted_ms: Option<i64>,
}

/// The body for `lead` in the format `delivery` names.
pub fn encode(lead: &LeadDocument, delivery: &Delivery, extras: Extras<'_>) -> Payload {
    match delivery.format {
        Format::Json => Payload {
            content_type: "application/json",
            body: lead.to_json(),
            late_body: None,
            idempotency_header: true,
            readable: true,
        },
        Format::Hubspot => Payload {
            content_type: "application/json",
            body: hubspot(lead, delivery, extras),
            late_body: Some(hubspot(
                lead,
                delivery,
                Extras {
                    submitted_ms: None,
                    ..extras
                },
            )),
            idempotency_header: false,
            readable: true,
        },
        Format::Salesforce => {
            let mut pairs = vec![(
                "oid".to_owned(),
                delivery.salesforce_oid.clone().unwrap_or_default(),
            )];
            pairs.extend(fields(lead, delivery));
            // Validation keeps text answers within these lengths; this guards the rest (a
            // lead validated against another format's settings, a long option value).
            for (name, value) in &mut pairs {
                if let Some(max) = salesforce_length(name) {
                    if let Some((at, _)) = value.char_indices().nth(max) {
                        value.truncate(at);
                    }
                }
            }
            Payload {
                content_type: FORM_ENCODED,
                body: form_encode(&pairs),
                late_body: None,
                idempotency_header: false,
                readable: false,
            }
        }
        Format::Form => Payload {
            content_type: FORM_ENCODED,
            body: form_encode(&plain_form(lead, delivery)),
            late_body: None,
            idempotency_header: false,
            readable: true,
        },
    }
}

const FORM_ENCODED: &str = "application/x-www-form-urlencoded";

/// The most characters the Salesforce field `name` stores, if it is a standard text field.
pub(crate) fn salesforce_length(name: &str) -> Option<usize> {
    SALESFORCE_LENGTHS
        .iter()
        .find(|(n, _)| *n == name)
        .map(|(_, max)| *max)
}

/// The field the answer to question `id` goes out under: its `delivery.fields` mapping, or
/// else its id where the format sends unmapped answers (every id for `form`, standard field
/// names for `hubspot` and `salesforce`). `None` leaves the answer out; `json` sends the
/// document instead.
pub(crate) fn target<'a>(delivery: &'a Delivery, id: &'a str) -> Option<&'a str> {
    if let Some((_, to)) = delivery.fields.iter().find(|(from, _)| from == id) {
        return Some(to);
    }
    standard_target(delivery.format, id)
}

/// Where an answer the config does not map goes in `format`: under its id (`form`), under its
/// id when that is one of the CRM's standard fields (`hubspot`, `salesforce`), or nowhere
/// (`json`, which sends the whole document).
pub(crate) fn standard_target(format: Format, id: &str) -> Option<&str> {
    let standard: &[&str] = match format {
        Format::Json => return None,
        Format::Form => return Some(id),
        Format::Hubspot => &HUBSPOT_FIELDS,
        Format::Salesforce => &SALESFORCE_FIELDS,
    };
    standard.contains(&id).then_some(id)
}

/// An answer as one text value.
fn text(value: &AnswerValue) -> String {
    match value {
        AnswerValue::Bool(b) => (if *b { "true" } else { "false" }).to_owned(),
        AnswerValue::Number(n) => format_number(*n),
        AnswerValue::Text(s) => s.clone(),
        AnswerValue::List(items) => join_with(items.iter().map(String::as_str), ";"),
    }
}

/// The target's value for option `id`: its mapping, or the id itself.
fn option<'a>(options: &'a Map<String, String>, id: &'a str) -> &'a str {
    options.get(id).map_or(id, String::as_str)
}

/// The answers that go out, with their values mapped, then score and grade.
fn fields(lead: &LeadDocument, delivery: &Delivery) -> Vec<(String, String)> {
    let mut out = Vec::new();
    for (id, value) in &lead.answers {
        let Some(name) = target(delivery, id) else {
            continue;
        };
        let map = delivery
            .values
            .iter()
            .find(|(q, _)| q == id)
            .map(|(_, m)| m);
        let sent = match (map, value) {
            (Some(ValueMap::Options(options)), AnswerValue::List(ids)) => {
                join_with(ids.iter().map(|id| option(options, id)), ";")
            }
            (Some(ValueMap::Options(options)), AnswerValue::Text(id)) => {
                option(options, id).to_owned()
            }
            (Some(ValueMap::Options(options)), AnswerValue::Bool(b)) => {
                option(options, if *b { "yes" } else { "no" }).to_owned()
            }
            (Some(ValueMap::Bands(bands)), AnswerValue::Number(n)) => {
                match bands.iter().rev().find(|band| band.min <= *n) {
                    Some(band) => band.value.clone(),
                    None => continue,
                }
            }
            // Salesforce's `employees` (NumberOfEmployees) holds whole numbers only.
            (None, AnswerValue::Number(n))
                if delivery.format == Format::Salesforce && name == "employees" =>
            {
                format_number(round(*n))
            }
            _ => text(value),
        };
        out.push((name.to_owned(), sent));
    }
    if let Some(name) = &delivery.score_field {
        out.push((name.clone(), decimal(i64::from(lead.score.total))));
    }
    if let Some(name) = &delivery.grade_field {
        out.push((name.clone(), lead.score.grade.clone()));
    }
    out
}

fn hubspot(lead: &LeadDocument, delivery: &Delivery, extras: Extras<'_>) -> String {
    let mut w = JsonWriter::new();
    w.begin_object(None);
    // The time the visitor submitted, not the time the outbox got through.
    if let Some(ms) = extras.submitted_ms {
        w.string(Some("submittedAt"), &decimal(ms));
    }
    w.begin_array(Some("fields"));
    for (name, value) in fields(lead, delivery) {
        w.begin_object(None);
        w.string(Some("objectTypeId"), HUBSPOT_CONTACT);
        w.string(Some("name"), &name);
        w.string(Some("value"), &value);
        w.end_object();
    }
    w.end_array();
    w.begin_object(Some("context"));
    w.string(Some("pageUri"), &lead.page.url);
    w.string(Some("pageName"), &lead.page.title);
    if let Some(hutk) = extras.hutk.filter(|h| !h.is_empty()) {
        w.string(Some("hutk"), hutk);
    }
    w.end_object();
    if let Some(consent) = lead.consent.as_ref().filter(|c| c.given) {
        w.begin_object(Some("legalConsentOptions"));
        w.begin_object(Some("consent"));
        w.bool(Some("consentToProcess"), true);
        w.string(Some("text"), &consent.text);
        w.end_object();
        w.end_object();
    }
    w.end_object();
    w.finish()
}

/// Every answer plus the lead's id, form, time, page, last-touch UTM and spam flag.
fn plain_form(lead: &LeadDocument, delivery: &Delivery) -> Vec<(String, String)> {
    let mut pairs = vec![
        ("id".to_owned(), lead.id.clone()),
        ("formId".to_owned(), lead.form_id.clone()),
        ("submittedAt".to_owned(), lead.submitted_at.clone()),
    ];
    pairs.extend(fields(lead, delivery));
    pairs.push(("pageUrl".to_owned(), lead.page.url.clone()));
    if let Some(attribution) = &lead.attribution {
        let utm = &attribution.last_touch.utm;
        for (name, value) in [
            ("utm_source", &utm.source),
            ("utm_medium", &utm.medium),
            ("utm_campaign", &utm.campaign),
            ("utm_term", &utm.term),
            ("utm_content", &utm.content),
        ] {
            if let Some(value) = value {
                pairs.push((name.to_owned(), value.clone()));
            }
        }
    }
    pairs.push((
        "spam".to_owned(),
        (if lead.spam.flagged { "true" } else { "false" }).to_owned(),
    ));
    pairs
}

/// A delivery setting that is allowed but probably wrong, with what to do about it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Warning {
    /// Where in the config, such as `delivery.values.budget`.
    pub path: String,
    /// What is probably wrong, and what to do.
    pub message: String,
}

/// The settings of `form.delivery` that are allowed but probably lose or garble leads: a
/// Salesforce lead without a last name or company or without score and grade, option ids sent
/// to a CRM field without a value mapping, small numbers a value mapping leaves out, and a
/// third-party endpoint without a fallback. `bantam-collector check` shows them; none stops
/// the form.
pub fn delivery_warnings(form: &Form) -> Vec<Warning> {
    let d = &form.delivery;
    let mut out = Vec::new();
    let mut warn = |path: String, message: String| out.push(Warning { path, message });
    if d.format == Format::Salesforce {
        let sent = |field| {
            form.questions
                .iter()
                .any(|q| target(d, &q.id) == Some(field))
        };
        if !sent("last_name") {
            warn(
                "delivery.fields".into(),
                "no question goes to last_name, so Salesforce stores \"[not provided]\" as the lead's last name; map a name question to last_name in delivery.fields".into(),
            );
        }
        if !sent("company") {
            warn(
                "delivery.fields".into(),
                "no question goes to company, which Salesforce requires on a lead; map a company question to company in delivery.fields".into(),
            );
        }
        for (key, what, field) in [
            ("scoreField", "score", &d.score_field),
            ("gradeField", "grade", &d.grade_field),
        ] {
            if field.is_none() {
                warn(
                    format!("delivery.{key}"),
                    format!("the {what} is not sent to Salesforce; create a custom lead field for it and set delivery.{key} to its id (15 or 18 characters starting 00N)"),
                );
            }
        }
    }
    let crm = matches!(d.format, Format::Hubspot | Format::Salesforce);
    for q in form.questions.iter().filter(|_| d.format != Format::Json) {
        let Some(name) = target(d, &q.id) else {
            continue;
        };
        let id = &q.id;
        match (&q.kind, d.values.iter().find(|(v, _)| v == id)) {
            (Kind::SingleChoice(_) | Kind::MultipleChoice(_), None) if crm => warn(
                format!("delivery.values.{id}"),
                format!("question \"{id}\" goes to field \"{name}\" as its option ids; if \"{name}\" is a dropdown or picklist, map the options to its values in delivery.values.{id}"),
            ),
            (Kind::Number { min, .. }, Some((_, ValueMap::Bands(bands)))) => {
                if let Some(first) = bands.first().map(|b| b.min).filter(|first| first > min) {
                    warn(
                        format!("delivery.values.{id}[0].min"),
                        format!(
                            "question \"{id}\" accepts numbers from {} but the first entry starts at {}, so smaller numbers are left out; start it at {}",
                            format_number(*min),
                            format_number(first),
                            format_number(*min)
                        ),
                    );
                }
            }
            _ => {}
        }
    }
    let endpoint = form.endpoint.to_ascii_lowercase();
    let absolute = endpoint.starts_with("https://") || endpoint.starts_with("http://");
    if d.fallback.is_none() && (d.format != Format::Json || absolute) {
        warn(
            "delivery.fallback".into(),
            "a lead this endpoint refuses is reported only in the visitor's browser; set delivery.fallback to your Bantam collector's /v1/leads".into(),
        );
    }
    out
}

/// `application/x-www-form-urlencoded` as browsers write it: `+` for space, `%XX` for the rest.
pub fn form_encode(pairs: &[(String, String)]) -> String {
    let mut out = String::new();
    for (i, (name, value)) in pairs.iter().enumerate() {
        if i > 0 {
            out.push('&');
        }
        encode_component(&mut out, name);
        out.push('=');
        encode_component(&mut out, value);
    }
    out
}

fn encode_component(out: &mut String, text: &str) {
    const HEX: &[u8; 16] = b"0123456789ABCDEF";
    for byte in text.bytes() {
        match byte {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'*' | b'-' | b'.' | b'_' => {
                out.push(byte as char)
            }
            b' ' => out.push('+'),
            _ => {
                out.push('%');
                out.push(HEX[usize::from(byte >> 4)] as char);
                out.push(HEX[usize::from(byte & 15)] as char);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn form_encoding_matches_url_search_params() {
        // Expected strings from `new URLSearchParams([...]).toString()` in Chromium.
        let pairs = [
            ("a b".to_owned(), "x&y=z".to_owned()),
            ("name".to_owned(), "Zoë Müller+1 ~*-._".to_owned()),
        ];
        assert_eq!(
            form_encode(&pairs),
            "a+b=x%26y%3Dz&name=Zo%C3%AB+M%C3%BCller%2B1+%7E*-._"
        );
        assert_eq!(form_encode(&[]), "");
    }

    /// The warnings for a config (`delivery` and `questions` over the BANT preset), as
    /// `(path, words the message starts with)`.
    fn check_warnings(endpoint: &str, extra: &str, expected: &[(&str, &str)]) {
        let json = format!(r#"{{"formId":"w","preset":"bant","endpoint":"{endpoint}",{extra}}}"#);
        let form = Form::from_config(crate::config::test_config(&json).unwrap()).unwrap();
        let got = delivery_warnings(&form);
        let paths: Vec<&str> = got.iter().map(|w| w.path.as_str()).collect();
        let want: Vec<&str> = expected.iter().map(|(path, _)| *path).collect();
        assert_eq!(paths, want, "{extra}: {got:#?}");
        for (warning, (_, start)) in got.iter().zip(expected) {
            assert!(warning.message.starts_with(start), "{extra}: {warning:?}");
        }
    }

    #[test]
    fn delivery_warnings_name_what_is_probably_wrong() {
        const SF: &str = "https://webto.salesforce.com/servlet/servlet.WebToLead";
        const HS: &str = "https://api.hsforms.com/submissions/v3/integration/submit/1/f";
        const FALLBACK: &str = r#""fallback":"https://leads.example.com/v1/leads""#;
        let bands = r#"[{"min":1,"value":"1-5"},{"min":5,"value":"5-25"}]"#;
        // The default: JSON to the collector on the page's origin.
        check_warnings("/v1/leads", r#""delivery":{}"#, &[]);
        // JSON to somewhere else: a refused lead is seen only in the browser.
        check_warnings(
            "https://crm.example.com/leads",
            r#""delivery":{}"#,
            &[("delivery.fallback", "a lead this endpoint refuses")],
        );
        check_warnings(
            "https://crm.example.com/leads",
            &format!(r#""delivery":{{{FALLBACK}}}"#),
            &[],
        );
        // Salesforce with only the preset's standard ids: no last name, no score or grade.
        check_warnings(
            SF,
            &format!(
                r#""delivery":{{"format":"salesforce","salesforceOid":"00D5e000000AbCd",{FALLBACK}}}"#
            ),
            &[
                ("delivery.fields", "no question goes to last_name"),
                ("delivery.scoreField", "the score is not sent"),
                ("delivery.gradeField", "the grade is not sent"),
            ],
        );
        // Everything Salesforce needs, but a choice question's option ids as values.
        check_warnings(
            SF,
            &format!(
                r#""questions":[{{"id":"name","kind":"text","label":"Name"}}],
                "delivery":{{"format":"salesforce","salesforceOid":"00D5e000000AbCd",{FALLBACK},
                "fields":{{"name":"last_name","company":"company","role":"00N5e00000RoLe1"}},
                "scoreField":"00N5e00000ScOr1","gradeField":"00N5e00000GrAd1"}}"#
            ),
            &[(
                "delivery.values.role",
                "question \"role\" goes to field \"00N5e00000RoLe1\" as its option ids",
            )],
        );
        check_warnings(
            SF,
            &format!(
                r#""questions":[{{"id":"name","kind":"text","label":"Name"}}],
                "delivery":{{"format":"salesforce","salesforceOid":"00D5e000000AbCd",{FALLBACK},
                "fields":{{"name":"last_name","role":"00N5e00000RoLe1"}},
                "values":{{"role":{{"decision-maker":"Decision Maker"}}}},
                "scoreField":"00N5e00000ScOr1","gradeField":"00N5e00000GrAd1"}}"#
            ),
            &[],
        );
        // HubSpot: no company warning, but a fallback and small numbers left out.
        check_warnings(
            HS,
            r#""delivery":{"format":"hubspot","fields":{"headcount":"numemployees"},
                "values":{"headcount":[{"min":5,"value":"5-25"}]}}"#,
            &[
                (
                    "delivery.values.headcount[0].min",
                    "question \"headcount\" accepts numbers from 1 but the first entry starts at 5",
                ),
                ("delivery.fallback", "a lead this endpoint refuses"),
            ],
        );
        check_warnings(
            HS,
            &format!(
                r#""delivery":{{"format":"hubspot","fields":{{"headcount":"numemployees"}},
                "values":{{"headcount":{bands}}},{FALLBACK}}}"#
            ),
            &[],
        );
        // A webhook gets option ids, which is what it is for; only the fallback is missing.
        check_warnings(
            "https://hooks.example.com/lead",
            r#""delivery":{"format":"form"}"#,
            &[("delivery.fallback", "a lead this endpoint refuses")],
        );
    }

    #[test]
    fn formats_round_trip_their_names() {
        for (name, format) in Format::ALL {
            assert_eq!(Format::from_name(name), Some(format));
            assert_eq!(format.as_str(), name);
        }
        assert_eq!(Format::from_name("xml"), None);
    }
}
