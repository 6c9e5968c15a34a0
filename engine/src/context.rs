//! Enrichment and spam signals: what a lead says about itself beyond its answers.
//!
//! The platform measures (browser locale, time zone, fill time, the honeypot); the engine
//! classifies (free-mail or business domain, company domain, spam verdict), so the rules are
//! the same in every browser and testable natively.

use crate::answer::AnswerValue;
use crate::form::{Category, Form, Kind};
use crate::map::Map;
use crate::prelude::*;
use crate::value::{before_any, find_any, split_ascii, trim_end_ascii, JsonWriter};

/// The bundled list of free-mail domains, one per line and nothing else: the file ships to every
/// visitor inside the widget, so what would be its header is here (a comment there cost the
/// widget 0.3 KB gzipped).
///
/// Bantam classifies a lead's email domain as `free` when it is on this list (exact match,
/// case-insensitive) and as `business` otherwise. The list holds the consumer mailbox providers
/// with the largest user bases in the markets Bantam's customers sell to (global, US, UK, DACH,
/// France, Italy, Spain, the Nordics, Eastern Europe, Russia, China, Japan, India, Brazil), and
/// the privacy-focused providers. It is deliberately short: every byte ships to every visitor.
/// Add a domain with a line of its own (in order) and a test below if it matters to you.
const FREE_MAIL: &str = include_str!("../data/free-mail-domains.txt");

/// Whether an email domain belongs to a mailbox provider or to an organisation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(
    feature = "serde",
    derive(serde::Deserialize),
    serde(rename_all = "lowercase")
)]
pub enum DomainKind {
    /// On the bundled free-mail list (gmail.com, gmx.de, ...).
    Free,
    /// Any other domain: presumably the sender's organisation.
    Business,
}

impl DomainKind {
    /// The name used in the lead document.
    pub fn as_str(self) -> &'static str {
        match self {
            DomainKind::Free => "free",
            DomainKind::Business => "business",
        }
    }
}

/// The lead's `context`: enrichment computed in the browser at submit time.
#[derive(Debug, Clone, Default, PartialEq)]
#[cfg_attr(
    feature = "serde",
    derive(serde::Deserialize),
    serde(rename_all = "camelCase", default)
)]
pub struct Context {
    /// The domain of the contact email, lower-cased.
    pub email_domain: Option<String>,
    /// Free mail or business, when there is an email.
    pub email_domain_kind: Option<DomainKind>,
    /// The company's domain: the host of a `website` answer, else a business email's domain.
    pub company_domain: Option<String>,
    /// The browser's preferred language (`navigator.language`), such as `de-DE`.
    pub browser_locale: String,
    /// The browser's IANA time zone, such as `Europe/Berlin`.
    pub time_zone: String,
    /// Milliseconds from the form appearing to the submission.
    pub fill_time_ms: u64,
    /// The form variant (an A/B test arm), when the config or the page names one.
    pub variant: Option<String>,
}

/// What the platform measured in the browser for one submission.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct BrowserInfo {
    /// `navigator.language`.
    pub locale: String,
    /// `Intl.DateTimeFormat().resolvedOptions().timeZone`.
    pub time_zone: String,
    /// Milliseconds from the form appearing to the submission.
    pub fill_time_ms: u64,
    /// Whether the hidden honeypot field had a value.
    pub honeypot_filled: bool,
}

/// What happens to a submission the spam rules catch.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SpamAction {
    /// Send it with `spam.flagged` set, so nothing real is lost (the default).
    Flag,
    /// Do not send it; the sender still sees the thank-you step.
    Drop,
}

/// The validated spam rules of a form.
#[derive(Debug, Clone, PartialEq)]
pub struct SpamRules {
    /// Whether the form carries the hidden honeypot field.
    pub honeypot: bool,
    /// Submissions faster than this (from the form appearing) are caught.
    pub min_fill_ms: u64,
    /// What happens to a caught submission.
    pub action: SpamAction,
}

impl Default for SpamRules {
    fn default() -> SpamRules {
        SpamRules {
            honeypot: true,
            min_fill_ms: 3000,
            action: SpamAction::Flag,
        }
    }
}

/// The spam verdict recorded in the lead document.
#[derive(Debug, Clone, Default, PartialEq)]
#[cfg_attr(
    feature = "serde",
    derive(serde::Deserialize),
    serde(rename_all = "camelCase", default)
)]
pub struct Spam {
    /// Whether any rule caught the submission.
    pub flagged: bool,
    /// Which rules: `honeypot` (the hidden field was filled), `tooFast` (under the minimum
    /// fill time).
    pub reasons: Vec<String>,
}

impl SpamRules {
    /// Judges one submission. `typed` says whether the visitor answered anything on this
    /// visit: a returning visitor with nothing left to ask may send at once, so the minimum
    /// fill time applies only when there was something to fill in.
    pub fn judge(&self, browser: &BrowserInfo, typed: bool) -> Spam {
        let mut reasons = Vec::new();
        if self.honeypot && browser.honeypot_filled {
            reasons.push("honeypot".to_owned());
        }
        if typed && browser.fill_time_ms < self.min_fill_ms {
            reasons.push("tooFast".to_owned());
        }
        Spam {
            flagged: !reasons.is_empty(),
            reasons,
        }
    }
}

/// Whether `domain` is a free-mail provider's (exact match on the bundled list).
pub fn domain_kind(domain: &str) -> DomainKind {
    let domain = domain.trim().to_ascii_lowercase();
    // Split by bytes, not `lines()`, whose char searcher costs the widget more. The list ends
    // with a line break: the empty text after it is no domain.
    let free = !domain.is_empty() && split_ascii(FREE_MAIL, b'\n').any(|line| line == domain);
    if free {
        DomainKind::Free
    } else {
        DomainKind::Business
    }
}

/// The lower-cased domain of an email address, if it has one.
pub fn email_domain(email: &str) -> Option<String> {
    // A plain loop from the end, not `rsplit_once` or `rposition`: their reverse searches
    // cost the widget more.
    let email = email.trim();
    let mut start = email.len();
    while email.as_bytes().get(start.checked_sub(1)?) != Some(&b'@') {
        start -= 1;
    }
    let domain = trim_end_ascii(email.get(start..)?, b'.').to_ascii_lowercase();
    plausible_host(&domain).then_some(domain)
}

/// The host of a website answer (`https://www.acme.io/about` → `acme.io`), without `www.`.
pub fn website_domain(text: &str) -> Option<String> {
    let text = text.trim();
    let lower = text.to_ascii_lowercase();
    let rest = lower
        .strip_prefix("https://")
        .or_else(|| lower.strip_prefix("http://"))
        .unwrap_or(&lower);
    let host = trim_end_ascii(before_any(rest, b"/?#:"), b'.');
    let host = host.strip_prefix("www.").unwrap_or(host);
    plausible_host(host).then(|| host.to_owned())
}

/// A host name of letters, digits, `-` and dots, with at least one dot.
pub(crate) fn plausible_host(host: &str) -> bool {
    find_any(host, b".").is_some()
        && !host.starts_with('.')
        && host.len() <= 253
        && host
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '.')
}

impl Context {
    /// Builds the context from the contact email, an optional website answer, the browser and
    /// the form's variant.
    pub fn new(
        email: Option<&str>,
        website: Option<&str>,
        browser: &BrowserInfo,
        variant: Option<&str>,
    ) -> Context {
        let email_domain = email.and_then(email_domain);
        let email_domain_kind = email_domain.as_deref().map(domain_kind);
        let company_domain = website.and_then(website_domain).or_else(|| {
            email_domain
                .clone()
                .filter(|_| email_domain_kind == Some(DomainKind::Business))
        });
        Context {
            email_domain,
            email_domain_kind,
            company_domain,
            browser_locale: browser.locale.clone(),
            time_zone: browser.time_zone.clone(),
            fill_time_ms: browser.fill_time_ms,
            variant: variant.map(str::to_owned),
        }
    }

    /// The context of a lead's shown `answers` to `form`: the email is the first contact email
    /// question's answer, the website the answer to a question with id `website`.
    pub fn of(
        form: &Form,
        answers: &Map<String, AnswerValue>,
        browser: &BrowserInfo,
        variant: Option<&str>,
    ) -> Context {
        let text = |id: &str| match answers.get(id) {
            Some(AnswerValue::Text(text)) => Some(text.as_str()),
            _ => None,
        };
        let email = form
            .questions
            .iter()
            .filter(|q| matches!(q.kind, Kind::Email) && q.category == Category::Contact)
            .find_map(|q| text(&q.id));
        Context::new(email, text("website"), browser, variant)
    }

    /// The context as JSON, as it appears in the lead document.
    pub fn to_json(&self) -> String {
        let mut w = JsonWriter::new();
        self.write(&mut w, None);
        w.finish()
    }

    pub(crate) fn write(&self, w: &mut JsonWriter, key: Option<&str>) {
        w.begin_object(key);
        w.optional(Some("emailDomain"), self.email_domain.as_deref());
        w.optional(
            Some("emailDomainKind"),
            self.email_domain_kind.map(DomainKind::as_str),
        );
        w.optional(Some("companyDomain"), self.company_domain.as_deref());
        w.string(Some("browserLocale"), &self.browser_locale);
        w.string(Some("timeZone"), &self.time_zone);
        w.int(Some("fillTimeMs"), self.fill_time_ms as i64);
        w.optional(Some("variant"), self.variant.as_deref());
        w.end_object();
    }
}

impl Spam {
    pub(crate) fn write(&self, w: &mut JsonWriter, key: Option<&str>) {
        w.begin_object(key);
        w.bool(Some("flagged"), self.flagged);
        w.begin_array(Some("reasons"));
        for reason in &self.reasons {
            w.string(None, reason);
        }
        w.end_array();
        w.end_object();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn free_mail_domains_come_from_the_bundled_list() {
        for (domain, kind) in [
            ("gmail.com", DomainKind::Free),
            ("GMX.de", DomainKind::Free),
            ("web.de", DomainKind::Free),
            ("proton.me", DomainKind::Free),
            ("acme.io", DomainKind::Business),
            ("mail.acme.com", DomainKind::Business),
            // A comment line is not a domain.
            ("# free-mail domains", DomainKind::Business),
            ("", DomainKind::Business),
            (" ", DomainKind::Business),
        ] {
            assert_eq!(domain_kind(domain), kind, "{domain}");
        }
    }

    #[test]
    fn the_list_is_domains_only_sorted_lower_case_and_without_duplicates() {
        // Nothing but domains: a comment line would ship to every visitor.
        let domains: Vec<&str> = FREE_MAIL.lines().collect();
        assert!(domains.len() > 50);
        for d in &domains {
            assert_eq!(*d, d.trim().to_ascii_lowercase(), "{d}");
            assert!(plausible_host(d), "{d}");
        }
        let mut sorted = domains.clone();
        sorted.sort_unstable();
        sorted.dedup();
        assert_eq!(sorted, domains);
    }

    #[test]
    fn email_and_website_domains() {
        assert_eq!(email_domain("Ann@Acme.IO").as_deref(), Some("acme.io"));
        assert_eq!(email_domain("ann@localhost"), None);
        assert_eq!(email_domain("no-at-sign"), None);
        assert_eq!(email_domain("a@b@<x>.com"), None);
        // The last `@` counts; trailing dots and surrounding spaces go.
        assert_eq!(email_domain(" a@b@x.io. ").as_deref(), Some("x.io"));
        assert_eq!(email_domain("@x.io").as_deref(), Some("x.io"));
        assert_eq!(email_domain("x.io@"), None);
        assert_eq!(email_domain(""), None);
        for (text, host) in [
            ("https://www.acme.io/about?x=1", Some("acme.io")),
            ("acme.co.uk", Some("acme.co.uk")),
            ("http://shop.acme.io:8080", Some("shop.acme.io")),
            ("not a website", None),
            ("", None),
        ] {
            assert_eq!(website_domain(text).as_deref(), host, "{text}");
        }
    }

    #[test]
    fn company_domain_prefers_the_website_and_ignores_free_mail() {
        let browser = BrowserInfo::default();
        let c = Context::new(Some("ann@gmail.com"), None, &browser, None);
        assert_eq!(c.email_domain_kind, Some(DomainKind::Free));
        assert_eq!(c.company_domain, None);
        let c = Context::new(Some("ann@acme.io"), None, &browser, None);
        assert_eq!(c.company_domain.as_deref(), Some("acme.io"));
        let c = Context::new(Some("ann@gmail.com"), Some("www.acme.io"), &browser, None);
        assert_eq!(c.company_domain.as_deref(), Some("acme.io"));
    }

    #[test]
    fn spam_rules_name_each_reason() {
        let rules = SpamRules::default();
        let judge = |honeypot_filled, fill_time_ms| {
            rules.judge(
                &BrowserInfo {
                    honeypot_filled,
                    fill_time_ms,
                    ..BrowserInfo::default()
                },
                true,
            )
        };
        assert_eq!(judge(false, 3000), Spam::default());
        assert_eq!(judge(true, 60_000).reasons, ["honeypot"]);
        assert_eq!(judge(false, 2999).reasons, ["tooFast"]);
        assert_eq!(judge(true, 10).reasons, ["honeypot", "tooFast"]);
        // Nothing to fill in on this visit: sending at once is not suspicious.
        assert_eq!(rules.judge(&BrowserInfo::default(), false), Spam::default());
        let off = SpamRules {
            honeypot: false,
            min_fill_ms: 0,
            action: SpamAction::Drop,
        };
        let trapped = BrowserInfo {
            honeypot_filled: true,
            ..BrowserInfo::default()
        };
        assert!(!off.judge(&trapped, true).flagged);
    }
}
