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
//! goes out only when its id is one of the target's standard field names. Multiple-choice
//! answers are joined with `;` (how both CRMs write multi-select values).

use crate::answer::{format_number, AnswerValue};
use crate::lead::LeadDocument;
use crate::value::JsonWriter;

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

/// HubSpot's object type id for contacts.
const HUBSPOT_CONTACT: &str = "0-1";

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

/// The validated delivery settings of a form.
#[derive(Debug, Clone, PartialEq)]
pub struct Delivery {
    /// The body format.
    pub format: Format,
    /// Question id → field name at the endpoint.
    pub fields: Vec<(String, String)>,
    /// The field that carries the score total; `None` leaves it out.
    pub score_field: Option<String>,
    /// The field that carries the grade name; `None` leaves it out.
    pub grade_field: Option<String>,
    /// The Salesforce organisation id (`oid`), required for `salesforce`.
    pub salesforce_oid: Option<String>,
}

impl Default for Delivery {
    fn default() -> Delivery {
        Delivery {
            format: Format::Json,
            fields: Vec::new(),
            score_field: Some("bantam_score".into()),
            grade_field: Some("bantam_grade".into()),
            salesforce_oid: None,
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
            idempotency_header: true,
            readable: true,
        },
        Format::Hubspot => Payload {
            content_type: "application/json",
            body: hubspot(lead, delivery, extras),
            idempotency_header: false,
            readable: true,
        },
        Format::Salesforce => {
            let mut pairs = vec![(
                "oid".to_owned(),
                delivery.salesforce_oid.clone().unwrap_or_default(),
            )];
            pairs.extend(fields(lead, delivery, Some(&SALESFORCE_FIELDS)));
            Payload {
                content_type: FORM_ENCODED,
                body: form_encode(&pairs),
                idempotency_header: false,
                readable: false,
            }
        }
        Format::Form => Payload {
            content_type: FORM_ENCODED,
            body: form_encode(&plain_form(lead, delivery)),
            idempotency_header: false,
            readable: true,
        },
    }
}

const FORM_ENCODED: &str = "application/x-www-form-urlencoded";

/// An answer as one text value.
fn text(value: &AnswerValue) -> String {
    match value {
        AnswerValue::Bool(b) => b.to_string(),
        AnswerValue::Number(n) => format_number(*n),
        AnswerValue::Text(s) => s.clone(),
        AnswerValue::List(items) => items.join(";"),
    }
}

/// The answers (mapped, or standard names only when `standard` is given), then score and grade.
fn fields(
    lead: &LeadDocument,
    delivery: &Delivery,
    standard: Option<&[&str]>,
) -> Vec<(String, String)> {
    let mut out = Vec::new();
    for (id, value) in &lead.answers {
        let mapped = delivery.fields.iter().find(|(from, _)| from == id);
        let name = match (mapped, standard) {
            (Some((_, to)), _) => to.clone(),
            (None, None) => id.clone(),
            (None, Some(names)) if names.contains(&id.as_str()) => id.clone(),
            (None, Some(_)) => continue,
        };
        out.push((name, text(value)));
    }
    if let Some(name) = &delivery.score_field {
        out.push((name.clone(), lead.score.total.to_string()));
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
        w.string(Some("submittedAt"), &ms.to_string());
    }
    w.begin_array(Some("fields"));
    for (name, value) in fields(lead, delivery, Some(&HUBSPOT_FIELDS)) {
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
    pairs.extend(fields(lead, delivery, None));
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
    pairs.push(("spam".to_owned(), lead.spam.flagged.to_string()));
    pairs
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

    #[test]
    fn formats_round_trip_their_names() {
        for (name, format) in Format::ALL {
            assert_eq!(Format::from_name(name), Some(format));
            assert_eq!(format.as_str(), name);
        }
        assert_eq!(Format::from_name("xml"), None);
    }
}
