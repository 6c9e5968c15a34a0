//! Readable alerts for people: the Slack-compatible message and the e-mail about one lead.
//!
//! Both say the same: grade and score, the reasons, who (name, company, email), where from
//! (UTM source / medium / campaign), the owner when there is one, and a link to the lead in the
//! inbox when the collector knows its public URL (`--public-url`). Visitor text is escaped for
//! Slack (`&`, `<`, `>`), so nothing a visitor typed becomes a link or a mention there; an
//! e-mail is plain text, its headers encoded by lettre.

use bantam_engine::LeadDocument;

/// What a path segment keeps as it is: letters, digits, `-`, `_`, `.` (a lead id is a UUID).
const PATH_SEGMENT: &percent_encoding::AsciiSet = &percent_encoding::NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'_')
    .remove(b'.');

/// What an alert tells beyond the lead document.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct AlertExtras<'a> {
    /// The collector's public URL (`https://leads.example.com`), for the link to the lead.
    pub public_url: Option<&'a str>,
    /// The person's owner, if any.
    pub owner: Option<&'a str>,
}

/// Escapes text for Slack's message format: `&`, `<` and `>` are its control characters.
pub fn slack_escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            c => out.push(c),
        }
    }
    out
}

/// The facts of a lead an alert shows, as plain text (not escaped).
struct Facts {
    grade: String,
    total: u8,
    who: String,
    email: Option<String>,
    source: Option<String>,
    reasons: Vec<String>,
    link: Option<String>,
    spam: bool,
}

fn facts(lead: &LeadDocument, extras: &AlertExtras<'_>) -> Facts {
    let contact = |key: &str| {
        lead.contact
            .get(key)
            .map(|v| v.trim().to_owned())
            .filter(|v| !v.is_empty())
    };
    let name = contact("name").or_else(|| {
        let full = [contact("firstName"), contact("lastName")]
            .into_iter()
            .flatten()
            .collect::<Vec<_>>()
            .join(" ");
        (!full.is_empty()).then_some(full)
    });
    let company = contact("company");
    let email = contact("email");
    let who = match (name, company) {
        (Some(name), Some(company)) => format!("{name}, {company}"),
        (Some(one), None) | (None, Some(one)) => one,
        (None, None) => email.clone().unwrap_or_else(|| "Someone".to_owned()),
    };
    let utm = match &lead.attribution {
        Some(attribution) => attribution.last_touch.utm.clone(),
        None => bantam_engine::Touch::from_page(&lead.page.url, "", "").utm,
    };
    let parts: Vec<String> = [utm.source, utm.medium, utm.campaign]
        .into_iter()
        .map(|p| p.unwrap_or_else(|| "-".to_owned()))
        .collect();
    let source = (parts.iter().any(|p| p != "-")).then(|| parts.join(" / "));
    let link = extras.public_url.map(|base| {
        format!(
            "{}/inbox/leads/{}",
            base.trim_end_matches('/'),
            percent_encoding::utf8_percent_encode(&lead.id, PATH_SEGMENT)
        )
    });
    Facts {
        grade: lead.score.grade.clone(),
        total: lead.score.total,
        who,
        email,
        source,
        reasons: lead.score.reasons.iter().map(|r| r.text.clone()).collect(),
        link,
        spam: lead.spam.flagged,
    }
}

/// Capitalises a grade name for a title (`hot` → `Hot`).
fn title(grade: &str) -> String {
    let mut chars = grade.chars();
    chars.next().map_or_else(String::new, |first| {
        first.to_uppercase().chain(chars).collect()
    })
}

/// The body of a Slack-compatible incoming webhook post: `{"text": ...}` in Slack's mrkdwn,
/// every piece of visitor text escaped.
pub fn slack_body(lead: &LeadDocument, extras: &AlertExtras<'_>) -> String {
    let f = facts(lead, extras);
    let mut text = format!(
        "*{} lead* (score {}): {}",
        slack_escape(&title(&f.grade)),
        f.total,
        slack_escape(&f.who)
    );
    if let Some(email) = &f.email {
        text.push_str(&format!(" <mailto:{0}|{0}>", slack_escape(email)));
    }
    if f.spam {
        text.push_str("\n:warning: flagged as possible spam");
    }
    if let Some(owner) = extras.owner {
        text.push_str(&format!("\nOwner: {}", slack_escape(owner)));
    }
    if let Some(source) = &f.source {
        text.push_str(&format!("\nSource: {}", slack_escape(source)));
    }
    if !f.reasons.is_empty() {
        text.push_str("\nWhy:");
        for reason in &f.reasons {
            text.push_str(&format!("\n• {}", slack_escape(reason)));
        }
    }
    if let Some(link) = &f.link {
        text.push_str(&format!("\n<{link}|Open the lead in the inbox>"));
    }
    serde_json::json!({ "text": text }).to_string()
}

/// The subject and plain-text body of an e-mail alert.
pub fn email_text(lead: &LeadDocument, extras: &AlertExtras<'_>) -> (String, String) {
    let f = facts(lead, extras);
    // A subject is one line, whatever a visitor typed.
    let who: String = f
        .who
        .chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .take(120)
        .collect();
    let subject = format!("{} lead (score {}): {who}", title(&f.grade), f.total);
    let mut body = format!(
        "{} lead, score {} of 100.\n\nWho: {}\n",
        title(&f.grade),
        f.total,
        f.who
    );
    if let Some(email) = &f.email {
        body.push_str(&format!("Email: {email}\n"));
    }
    if f.spam {
        body.push_str("Flagged as possible spam.\n");
    }
    if let Some(owner) = extras.owner {
        body.push_str(&format!("Owner: {owner}\n"));
    }
    if let Some(source) = &f.source {
        body.push_str(&format!("Source: {source}\n"));
    }
    if !f.reasons.is_empty() {
        body.push_str("\nWhy:\n");
        for reason in &f.reasons {
            body.push_str(&format!("- {reason}\n"));
        }
    }
    if let Some(link) = &f.link {
        body.push_str(&format!("\nOpen the lead in the inbox: {link}\n"));
    }
    (subject, body)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lead() -> LeadDocument {
        let mut doc: serde_json::Value =
            serde_json::from_str(include_str!("../../tests/data/lead-v1.json")).unwrap();
        doc["contact"]["company"] = "<!channel> & <https://evil.example|Acme>".into();
        doc["contact"]["name"] = "Ann *Lee*".into();
        serde_json::from_value(doc).unwrap()
    }

    #[test]
    fn the_slack_message_is_readable_and_escapes_visitor_text() {
        let extras = AlertExtras {
            public_url: Some("https://leads.example.com/"),
            owner: Some("ben@example.com"),
        };
        let body: serde_json::Value = serde_json::from_str(&slack_body(&lead(), &extras)).unwrap();
        let text = body["text"].as_str().unwrap();
        let id = lead().id;
        let grade = lead().score.grade;
        let total = lead().score.total;
        assert_eq!(
            text,
            format!(
                "*{} lead* (score {total}): Ann *Lee*, &lt;!channel&gt; &amp; &lt;https://evil.example|Acme&gt; <mailto:ann@acme.io|ann@acme.io>\n\
                 Owner: ben@example.com\n\
                 Source: newsletter / email / -\n\
                 Why:\n\
                 • Budget $50k–$250k: +25\n\
                 • Role I make the decision: +25\n\
                 • Timeframe Within 3 months: +15\n\
                 • Need: not answered\n\
                 • Team size 120 (50–249): +10\n\
                 <https://leads.example.com/inbox/leads/{id}|Open the lead in the inbox>",
                title(&grade)
            ),
        );
        // Nothing from the visitor opens a link or a mention: the only `<` are ours.
        assert_eq!(text.matches('<').count(), 2, "{text}");
    }

    #[test]
    fn the_email_names_the_owner_and_links_the_lead() {
        let extras = AlertExtras {
            public_url: Some("https://leads.example.com"),
            owner: Some("ben@example.com"),
        };
        let (subject, body) = email_text(&lead(), &extras);
        assert!(
            subject.ends_with("Ann *Lee*, <!channel> & <https://evil.example|Acme>"),
            "{subject}"
        );
        assert!(body.contains("Owner: ben@example.com\n"), "{body}");
        assert!(
            body.contains("https://leads.example.com/inbox/leads/"),
            "{body}"
        );
        let (_, body) = email_text(&lead(), &AlertExtras::default());
        assert!(
            !body.contains("Owner:") && !body.contains("inbox/leads"),
            "{body}"
        );
    }
}
