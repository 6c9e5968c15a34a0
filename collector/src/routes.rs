//! The routes file: where each form's leads go (destinations with a format, a secret and a
//! rule), and the reps who own its hot leads in turn.
//!
//! Read once at start (`--routes FILE` / `BANTAM_ROUTES`), validated whole: a bad file refuses
//! to start with a message naming the path of the culprit in the file
//! (`destinations[1].when.grades[0]: ...`). Webhook URLs and SMTP passwords live here, on the
//! collector, never in the public form configs served at `/forms/`.
//!
//! ```json
//! {
//!   "destinations": [
//!     { "name": "crm", "format": "hubspot", "url": "https://api.hsforms.com/..." }
//!   ],
//!   "forms": {
//!     "demo": {
//!       "destinations": [
//!         { "name": "sales-slack", "format": "slack", "url": "https://hooks.slack.com/...",
//!           "when": { "grades": ["hot"], "spam": "leaveOut" } }
//!       ],
//!       "owners": ["ana@example.com", "ben@example.com"]
//!     }
//!   }
//! }
//! ```
//!
//! Top-level destinations take the leads of every form; a form's own destinations take only
//! its leads. Every destination's name is unique in the file: it names the destination's
//! outbox, so renaming one starts a new outbox (entries for a name no longer in the file fail
//! with that reason).

use std::collections::BTreeMap;
use std::time::Duration;

use bantam_engine::Format;
use lettre::message::Mailbox;
use serde::Deserialize;

use crate::forward::{Forwarding, DEFAULT_LEASE};

/// The destination name the `--forward-*` flags make.
pub const FLAGS_DESTINATION: &str = "forward";

/// How long one request or SMTP session of a destination may take by default.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(10);

/// A routes file that cannot be used: where in the file, and what is wrong.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{path}: {message}")]
pub struct RoutesError {
    /// The path of the culprit in the file (`destinations[1].url`), or `.` for the whole file.
    pub path: String,
    /// What is wrong with it.
    pub message: String,
}

impl RoutesError {
    fn at(path: impl Into<String>, message: impl Into<String>) -> RoutesError {
        RoutesError {
            path: path.into(),
            message: message.into(),
        }
    }
}

/// What a destination does with spam-flagged leads.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum SpamRule {
    /// Takes every lead, flagged or not (the default).
    #[default]
    Any,
    /// Takes only leads the spam rules did not flag.
    LeaveOut,
    /// Takes only flagged leads (a review channel).
    Only,
}

/// Which leads a destination takes: all of its conditions hold.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Rule {
    /// The grades taken (`None`: every grade).
    pub grades: Option<Vec<String>>,
    /// The lowest collector score taken (0: any).
    pub min_score: u8,
    /// What happens to spam-flagged leads.
    pub spam: SpamRule,
    /// The forms taken (`None`: every form the destination is listed for).
    pub forms: Option<Vec<String>>,
}

/// What a lead is, as far as routing goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LeadFacts<'a> {
    /// Its form.
    pub form_id: &'a str,
    /// The collector's grade.
    pub grade: &'a str,
    /// The collector's score, 0-100.
    pub total: u8,
    /// Whether the spam rules flagged it.
    pub spam: bool,
}

impl Rule {
    /// Whether a lead with these facts goes to the destination.
    pub fn takes(&self, lead: &LeadFacts<'_>) -> bool {
        let spam_ok = match self.spam {
            SpamRule::Any => true,
            SpamRule::LeaveOut => !lead.spam,
            SpamRule::Only => lead.spam,
        };
        spam_ok
            && lead.total >= self.min_score
            && self
                .grades
                .as_ref()
                .is_none_or(|g| g.iter().any(|g| g == lead.grade))
            && self
                .forms
                .as_ref()
                .is_none_or(|f| f.iter().any(|f| f == lead.form_id))
    }
}

/// How a destination is reached.
#[derive(Debug, Clone, PartialEq)]
pub enum Sink {
    /// A webhook: the lead document (`json`) or an adapter's body (`hubspot`, `salesforce`,
    /// `form`), signed when there is a secret.
    Webhook {
        /// The URL (http or https).
        url: String,
        /// The signing secret, if any.
        secret: Option<String>,
        /// The body format.
        format: Format,
    },
    /// A Slack-compatible incoming webhook: a readable message.
    Slack {
        /// The incoming webhook's URL.
        url: String,
    },
    /// An e-mail alert over SMTP.
    Email {
        /// `smtp://[user:password@]host[:port][?tls=required]` (STARTTLS when asked) or
        /// `smtps://...` (TLS from the start).
        smtp: String,
        /// The sender.
        from: Mailbox,
        /// The recipients.
        to: Vec<Mailbox>,
    },
}

impl Sink {
    /// The format's name as the routes file writes it.
    pub fn format_name(&self) -> &'static str {
        match self {
            Sink::Webhook { format, .. } => format.as_str(),
            Sink::Slack { .. } => "slack",
            Sink::Email { .. } => "email",
        }
    }

    /// Where it goes, for logs: the URL's scheme and host, or the SMTP server (never a secret:
    /// no path, no password).
    pub fn describe(&self) -> String {
        let (url, prefix) = match self {
            Sink::Webhook { url, .. } | Sink::Slack { url } => (url.as_str(), ""),
            Sink::Email { smtp, to, .. } => (
                smtp.as_str(),
                if to.len() == 1 {
                    "1 recipient via "
                } else {
                    "recipients via "
                },
            ),
        };
        let host = url
            .split_once("://")
            .map(|(scheme, rest)| {
                let authority = rest.split(['/', '?']).next().unwrap_or("");
                let host = authority.rsplit('@').next().unwrap_or("");
                format!("{scheme}://{host}")
            })
            .unwrap_or_default();
        format!("{prefix}{host}")
    }
}

/// One destination: a name, where and how, and which leads it takes.
#[derive(Debug, Clone, PartialEq)]
pub struct Destination {
    /// Unique in the routes; names its outbox.
    pub name: String,
    /// How it is reached.
    pub sink: Sink,
    /// Which leads it takes.
    pub rule: Rule,
    /// How long one attempt may take.
    pub timeout: Duration,
}

/// Every destination and each form's reps, validated.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Routes {
    /// Destinations in file order (the flags' one first).
    pub destinations: Vec<Destination>,
    /// Reps per form, in turn order.
    pub owners: BTreeMap<String, Vec<String>>,
    /// How long a worker keeps the entries it claimed.
    pub lease: Duration,
}

impl Routes {
    /// No destination, no reps.
    pub fn none() -> Routes {
        Routes {
            lease: DEFAULT_LEASE,
            ..Routes::default()
        }
    }

    /// The routes of the `--forward-*` flags alone: one destination, `forward`, taking every
    /// lead (or none without the flags).
    pub fn from_forwarding(forwarding: Option<&Forwarding>) -> Routes {
        let mut routes = Routes::none();
        if let Some(forwarding) = forwarding {
            routes.lease = forwarding.lease;
            routes.destinations.push(Destination {
                name: FLAGS_DESTINATION.into(),
                sink: Sink::Webhook {
                    url: forwarding.url.clone(),
                    secret: forwarding.secret.clone(),
                    format: forwarding.format,
                },
                rule: Rule::default(),
                timeout: forwarding.timeout,
            });
        }
        routes
    }

    /// Reads a routes file's text, adding the flags' destination when there is one.
    ///
    /// # Errors
    /// [`RoutesError`] naming the path in the file of what is wrong.
    pub fn parse(text: &str, forwarding: Option<&Forwarding>) -> Result<Routes, RoutesError> {
        let de = &mut serde_json::Deserializer::from_str(text);
        let file: RoutesFile = serde_path_to_error::deserialize(de).map_err(|err| {
            let path = err.path().to_string();
            let inner = err.into_inner();
            // serde_json appends " at line L column C"; the path says where instead.
            let message = inner.to_string();
            let message = match message.rfind(" at line ") {
                Some(at) if inner.line() > 0 => message[..at].to_owned(),
                _ => message,
            };
            RoutesError::at(path, message)
        })?;
        let mut routes = Routes::from_forwarding(forwarding);
        for (i, destination) in file.destinations.into_iter().enumerate() {
            let path = format!("destinations[{i}]");
            routes.add(destination.check(&path, None)?, &path)?;
        }
        for (form, routed) in file.forms {
            if form.is_empty() {
                return Err(RoutesError::at("forms", "a form id cannot be empty"));
            }
            for (i, destination) in routed.destinations.into_iter().enumerate() {
                let path = format!("forms.{form}.destinations[{i}]");
                routes.add(destination.check(&path, Some(&form))?, &path)?;
            }
            if let Some(owners) = routed.owners {
                for (i, owner) in owners.iter().enumerate() {
                    let owner_ok = owner.len() <= 200
                        && owner.split_once('@').is_some_and(|(user, domain)| {
                            !user.is_empty()
                                && domain.contains('.')
                                && !owner.contains(char::is_whitespace)
                        });
                    if !owner_ok {
                        return Err(RoutesError::at(
                            format!("forms.{form}.owners[{i}]"),
                            format!("\"{owner}\" is not an email address"),
                        ));
                    }
                    if owners[..i].iter().any(|o| o.eq_ignore_ascii_case(owner)) {
                        return Err(RoutesError::at(
                            format!("forms.{form}.owners[{i}]"),
                            format!("\"{owner}\" is listed twice"),
                        ));
                    }
                }
                if owners.is_empty() {
                    return Err(RoutesError::at(
                        format!("forms.{form}.owners"),
                        "list at least one rep, or leave owners out",
                    ));
                }
                routes.owners.insert(form, owners);
            }
        }
        Ok(routes)
    }

    /// Reads the routes file at `path`.
    ///
    /// # Errors
    /// The file cannot be read, or [`Routes::parse`] refuses it; the message names the file.
    pub fn load(path: &std::path::Path, forwarding: Option<&Forwarding>) -> Result<Routes, String> {
        let text = std::fs::read_to_string(path)
            .map_err(|err| format!("routes file {}: {err}", path.display()))?;
        Routes::parse(&text, forwarding)
            .map_err(|err| format!("routes file {}: {err}", path.display()))
    }

    fn add(&mut self, destination: Destination, path: &str) -> Result<(), RoutesError> {
        if self.destinations.iter().any(|d| d.name == destination.name) {
            let why = if destination.name == FLAGS_DESTINATION {
                "is the --forward-url destination's name; choose another".to_owned()
            } else {
                "is the name of an earlier destination; names must be unique".to_owned()
            };
            return Err(RoutesError::at(
                format!("{path}.name"),
                format!("\"{}\" {why}", destination.name),
            ));
        }
        self.destinations.push(destination);
        Ok(())
    }

    /// The names of the destinations a lead goes to, in file order.
    pub fn select(&self, lead: &LeadFacts<'_>) -> Vec<String> {
        self.destinations
            .iter()
            .filter(|d| d.rule.takes(lead))
            .map(|d| d.name.clone())
            .collect()
    }

    /// A destination by name.
    pub fn destination(&self, name: &str) -> Option<&Destination> {
        self.destinations.iter().find(|d| d.name == name)
    }

    /// The reps of a form, in turn order (empty: nobody is assigned).
    pub fn owners(&self, form_id: &str) -> &[String] {
        self.owners.get(form_id).map_or(&[], Vec::as_slice)
    }
}

/// The file as written (serde only here, at the boundary).
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RoutesFile {
    #[serde(default)]
    destinations: Vec<DestinationFile>,
    #[serde(default)]
    forms: BTreeMap<String, FormRoutesFile>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct FormRoutesFile {
    #[serde(default)]
    destinations: Vec<DestinationFile>,
    owners: Option<Vec<String>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct DestinationFile {
    name: String,
    format: String,
    url: Option<String>,
    secret: Option<String>,
    smtp: Option<String>,
    from: Option<String>,
    to: Option<Vec<String>>,
    #[serde(rename = "timeoutSeconds")]
    timeout_seconds: Option<u64>,
    #[serde(default)]
    when: RuleFile,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct RuleFile {
    grades: Option<Vec<String>>,
    #[serde(rename = "minScore")]
    min_score: Option<u8>,
    spam: Option<String>,
    forms: Option<Vec<String>>,
}

/// Formats the routes file knows.
const FORMATS: &str = "json, slack, hubspot, salesforce, form or email";

impl DestinationFile {
    fn check(self, path: &str, form: Option<&str>) -> Result<Destination, RoutesError> {
        let name_ok = !self.name.is_empty()
            && self.name.len() <= 60
            && self
                .name
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'));
        if !name_ok {
            return Err(RoutesError::at(
                format!("{path}.name"),
                format!(
                    "\"{}\" must be 1 to 60 letters, digits, '-', '_' or '.'",
                    self.name
                ),
            ));
        }
        let only = |field: &str, present: bool, format: &str| -> Result<(), RoutesError> {
            if present {
                Err(RoutesError::at(
                    format!("{path}.{field}"),
                    format!("a {format} destination has no {field}"),
                ))
            } else {
                Ok(())
            }
        };
        let url = |url: Option<String>| -> Result<String, RoutesError> {
            let url = url.ok_or_else(|| {
                RoutesError::at(path, format!("a {} destination needs a url", self.format))
            })?;
            if !(url.starts_with("https://") || url.starts_with("http://")) || url.len() > 2000 {
                return Err(RoutesError::at(
                    format!("{path}.url"),
                    "must start with https:// or http://",
                ));
            }
            Ok(url)
        };
        let sink = match self.format.as_str() {
            "email" => {
                only("url", self.url.is_some(), "email")?;
                only("secret", self.secret.is_some(), "email")?;
                let smtp = self.smtp.ok_or_else(|| {
                    RoutesError::at(path, "an email destination needs smtp, from and to")
                })?;
                if !(smtp.starts_with("smtp://") || smtp.starts_with("smtps://")) {
                    return Err(RoutesError::at(
                        format!("{path}.smtp"),
                        "must start with smtp:// (STARTTLS with ?tls=required) or smtps://",
                    ));
                }
                if let Err(err) = lettre::SmtpTransport::from_url(&smtp) {
                    return Err(RoutesError::at(
                        format!("{path}.smtp"),
                        format!("is not an SMTP server URL: {err}"),
                    ));
                }
                let mailbox = |field: String, text: &str| -> Result<Mailbox, RoutesError> {
                    text.parse::<Mailbox>().map_err(|err| {
                        RoutesError::at(field, format!("\"{text}\" is not an email address: {err}"))
                    })
                };
                let from = self.from.ok_or_else(|| {
                    RoutesError::at(path, "an email destination needs smtp, from and to")
                })?;
                let from = mailbox(format!("{path}.from"), &from)?;
                let to = self.to.ok_or_else(|| {
                    RoutesError::at(path, "an email destination needs smtp, from and to")
                })?;
                if to.is_empty() {
                    return Err(RoutesError::at(
                        format!("{path}.to"),
                        "list at least one recipient",
                    ));
                }
                let to = to
                    .iter()
                    .enumerate()
                    .map(|(i, t)| mailbox(format!("{path}.to[{i}]"), t))
                    .collect::<Result<Vec<_>, _>>()?;
                Sink::Email { smtp, from, to }
            }
            other => {
                only("smtp", self.smtp.is_some(), other)?;
                only("from", self.from.is_some(), other)?;
                only("to", self.to.is_some(), other)?;
                if other == "slack" {
                    only("secret", self.secret.is_some(), "slack")?;
                    Sink::Slack {
                        url: url(self.url)?,
                    }
                } else {
                    let format = Format::from_name(other).ok_or_else(|| {
                        RoutesError::at(
                            format!("{path}.format"),
                            format!("\"{other}\" is not one of {FORMATS}"),
                        )
                    })?;
                    Sink::Webhook {
                        url: url(self.url)?,
                        secret: self.secret,
                        format,
                    }
                }
            }
        };
        let when = self.when;
        let spam = match when.spam.as_deref() {
            None | Some("any") => SpamRule::Any,
            Some("leaveOut") => SpamRule::LeaveOut,
            Some("only") => SpamRule::Only,
            Some(other) => {
                return Err(RoutesError::at(
                    format!("{path}.when.spam"),
                    format!("\"{other}\" is not one of leaveOut, only or any"),
                ))
            }
        };
        if let Some(score) = when.min_score.filter(|s| *s > 100) {
            return Err(RoutesError::at(
                format!("{path}.when.minScore"),
                format!("{score} is above 100, the highest score"),
            ));
        }
        for (field, list) in [("grades", &when.grades), ("forms", &when.forms)] {
            if let Some(list) = list {
                if list.is_empty() {
                    return Err(RoutesError::at(
                        format!("{path}.when.{field}"),
                        format!("list at least one, or leave {field} out"),
                    ));
                }
                if let Some(i) = list.iter().position(String::is_empty) {
                    return Err(RoutesError::at(
                        format!("{path}.when.{field}[{i}]"),
                        "cannot be empty",
                    ));
                }
            }
        }
        let forms = match (form, when.forms) {
            (Some(form), Some(_)) => {
                return Err(RoutesError::at(
                    format!("{path}.when.forms"),
                    format!("a destination listed under form \"{form}\" takes only that form's leads; list it at the top level to choose forms"),
                ))
            }
            (Some(form), None) => Some(vec![form.to_owned()]),
            (None, forms) => forms,
        };
        let timeout = match self.timeout_seconds {
            Some(0) => {
                return Err(RoutesError::at(
                    format!("{path}.timeoutSeconds"),
                    "must be at least 1",
                ))
            }
            Some(s) => Duration::from_secs(s),
            None => DEFAULT_TIMEOUT,
        };
        Ok(Destination {
            name: self.name,
            sink,
            rule: Rule {
                grades: when.grades,
                min_score: when.min_score.unwrap_or(0),
                spam,
                forms,
            },
            timeout,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(text: &str, expected: Result<&[&str], &str>) {
        let got = Routes::parse(text, None).map(|r| {
            r.destinations
                .iter()
                .map(|d| d.name.clone())
                .collect::<Vec<_>>()
        });
        match (got, expected) {
            (Ok(names), Ok(expected)) => assert_eq!(names, expected),
            (Err(err), Err(expected)) => assert_eq!(err.to_string(), expected),
            (got, expected) => panic!("{text}: got {got:?}, expected {expected:?}"),
        }
    }

    #[test]
    fn files_are_read_or_refused_with_the_path() {
        check("{}", Ok(&[]));
        check(
            r#"{"destinations": [{"name": "crm", "format": "json", "url": "https://crm.example/h"}],
                "forms": {"demo": {"destinations": [{"name": "s", "format": "slack", "url": "https://hooks.example/x"}]}}}"#,
            Ok(&["crm", "s"]),
        );
        check(
            r#"{"destinations": [{"name": "a", "format": "json", "url": "https://x.example"}, {"name": "b", "format": "jsn", "url": "https://x.example"}]}"#,
            Err("destinations[1].format: \"jsn\" is not one of json, slack, hubspot, salesforce, form or email"),
        );
        check(
            r#"{"destinations": [{"name": "a", "format": "json", "url": "ftp://x"}]}"#,
            Err("destinations[0].url: must start with https:// or http://"),
        );
        check(
            r#"{"destinations": [{"name": "a", "format": "json", "url": "https://x.example", "when": {"grade": ["hot"]}}]}"#,
            Err("destinations[0].when.grade: unknown field `grade`, expected one of `grades`, `minScore`, `spam`, `forms`"),
        );
        check(
            r#"{"destinations": [{"name": "a", "format": "json", "url": "https://x.example", "when": {"spam": "no"}}]}"#,
            Err("destinations[0].when.spam: \"no\" is not one of leaveOut, only or any"),
        );
        check(
            r#"{"destinations": [{"name": "a", "format": "json", "url": "https://x.example", "when": {"minScore": 101}}]}"#,
            Err("destinations[0].when.minScore: 101 is above 100, the highest score"),
        );
        check(
            r#"{"destinations": [{"name": "a", "format": "json", "url": "https://x.example"}], "forms": {"demo": {"destinations": [{"name": "a", "format": "slack", "url": "https://x.example"}]}}}"#,
            Err("forms.demo.destinations[0].name: \"a\" is the name of an earlier destination; names must be unique"),
        );
        check(
            r#"{"destinations": [{"name": "m", "format": "email", "smtp": "smtp://127.0.0.1:2525", "from": "bantam@example.com", "to": ["not an address"]}]}"#,
            Err("destinations[0].to[0]: \"not an address\" is not an email address: Invalid input"),
        );
        check(
            r#"{"destinations": [{"name": "m", "format": "email", "url": "https://x.example"}]}"#,
            Err("destinations[0].url: a email destination has no url"),
        );
        check(
            r#"{"forms": {"demo": {"owners": ["ana@example.com", "ANA@example.com"]}}}"#,
            Err("forms.demo.owners[1]: \"ANA@example.com\" is listed twice"),
        );
    }

    #[test]
    fn rules_pick_by_grade_score_spam_and_form() {
        let routes = Routes::parse(
            r#"{"destinations": [
                {"name": "slack", "format": "slack", "url": "https://h.example/s", "when": {"grades": ["hot"], "spam": "leaveOut"}},
                {"name": "crm", "format": "json", "url": "https://h.example/c"},
                {"name": "review", "format": "json", "url": "https://h.example/r", "when": {"spam": "only"}},
                {"name": "big", "format": "json", "url": "https://h.example/b", "when": {"minScore": 80, "forms": ["demo"]}}
            ]}"#,
            None,
        )
        .unwrap();
        let pick = |form_id, grade, total, spam| {
            routes.select(&LeadFacts {
                form_id,
                grade,
                total,
                spam,
            })
        };
        assert_eq!(pick("demo", "hot", 90, false), ["slack", "crm", "big"]);
        assert_eq!(pick("other", "hot", 90, false), ["slack", "crm"]);
        assert_eq!(pick("demo", "hot", 90, true), ["crm", "review", "big"]);
        assert_eq!(pick("demo", "cold", 10, false), ["crm"]);
        assert_eq!(pick("demo", "warm", 79, false), ["crm"]);
    }
}
