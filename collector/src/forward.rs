//! Delivering stored leads to their destinations: one persisted outbox per destination,
//! retries with backoff, leases, signatures; webhooks, Slack messages and e-mail alerts.
//!
//! A lead enters the outbox of each destination its routes pick ([`crate::routes`]) in the
//! same transaction that stores it, so a crash loses no delivery. Each destination has its own
//! worker, attempts, backoff and state: one that fails or hangs holds back no other. A worker
//! sends due entries at least once; a webhook gets the lead id as
//! `Idempotency-Key` and, when a secret is set, `Bantam-Signature: v1=<hex>` where `<hex>` is
//! HMAC-SHA256 over `"<Bantam-Timestamp>.<body>"` (the scheme the large webhook senders use),
//! so the receiver can check both origin and freshness.
//!
//! The body is the stored lead document (`json`, the default) or, with another [`Format`], the
//! engine's adapter output for it, using the lead's form's `delivery` settings (field names,
//! Salesforce `oid`); the signature covers whatever body is sent.
//!
//! A Slack destination gets [`crate::alert::slack_body`]; an e-mail destination an e-mail
//! over SMTP (lettre) with [`crate::alert::email_text`] and a `Message-ID` made of the lead
//! and the destination, so a receiver can tell a retry from a new alert.
//!
//! Workers of one collector and several collectors sharing one PostgreSQL outbox claim their
//! entries for a lease ([`Routes::lease`]), so each entry is sent by one worker, and the
//! entries of a collector that died are taken by another once the lease runs out. A request
//! never outlives its claim: it gets at most half the lease, and a pass stops and hands back
//! the rest of its claim when too little of the lease is left for one more request.

use std::sync::{Arc, RwLock};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use hmac::{Hmac, KeyInit, Mac};
use sha2::Sha256;

use bantam_engine::{encode, Delivery, Extras, Format, LeadDocument, LATE_AFTER_MS};

use crate::alert::{email_text, slack_body, AlertExtras};
use crate::forms::Forms;
use crate::routes::{Destination, Routes, Sink, FLAGS_DESTINATION};
use crate::store::{Attempted, Due, Store};

/// Attempts before an entry is marked failed (about four hours of backoff in all).
pub const MAX_ATTEMPTS: u32 = 16;
/// The longest wait between two attempts.
const MAX_BACKOFF: Duration = Duration::from_secs(3600);
/// How long a pass keeps outcomes before it writes them.
const FLUSH_EVERY: Duration = Duration::from_secs(1);
/// Entries one pass claims at most.
const BATCH: u32 = 100;
/// Requests one destination's worker has on their way at once.
pub const IN_FLIGHT: usize = 8;
/// How long a worker keeps the deliveries it claimed by default.
pub const DEFAULT_LEASE: Duration = Duration::from_secs(60);

/// Where and how to forward, from the `--forward-*` flags: the destination `forward`.
#[derive(Debug, Clone)]
pub struct Forwarding {
    /// The webhook URL (http or https).
    pub url: String,
    /// The signing secret; without one, requests are not signed.
    pub secret: Option<String>,
    /// How long one request may take.
    pub timeout: Duration,
    /// The body format; field names and the Salesforce `oid` come from each form's `delivery`.
    pub format: Format,
    /// How long a claim on outbox entries lasts (PostgreSQL): another collector takes the
    /// entries of one that died after this. Requests get at most half of it.
    pub lease: Duration,
}

/// Milliseconds since the Unix epoch.
pub(crate) fn now_ms() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as i64)
}

/// The signature header value for a body sent at `timestamp` (Unix seconds).
pub fn sign(secret: &str, timestamp: i64, body: &str) -> String {
    let mut mac = <Hmac<Sha256> as KeyInit>::new_from_slice(secret.as_bytes())
        .expect("HMAC takes any key length");
    mac.update(timestamp.to_string().as_bytes());
    mac.update(b".");
    mac.update(body.as_bytes());
    let digest = mac.finalize().into_bytes();
    let hex: String = digest.iter().map(|b| format!("{b:02x}")).collect();
    format!("v1={hex}")
}

/// The wait before attempt `attempts + 1`: doubling from 1 s, capped at an hour, with up to
/// 20% jitter (from the clock, so retries of many leads spread out).
pub(crate) fn backoff(attempts: u32) -> Duration {
    let base = Duration::from_secs(1u64 << attempts.min(12)).min(MAX_BACKOFF);
    let jitter = (SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.subsec_nanos())
        % 200) as f64
        / 1000.0;
    base.mul_f64(1.0 + jitter)
}

/// What one attempt came to.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Outcome {
    /// 2xx: done.
    Delivered(u16),
    /// Worth retrying (network error, timeout, 5xx, 429), maybe not before `Duration`.
    Retry(String, Option<Duration>),
    /// The receiver refused this lead for good (other 4xx); retrying cannot help.
    Refused(String),
}

/// The body and content type for a webhook of `format` and a stored document, or why it
/// cannot be built.
pub(crate) fn body_for(
    format: Format,
    forms: &Forms,
    document: &str,
) -> Result<(String, &'static str), String> {
    if format == Format::Json {
        return Ok((document.to_owned(), "application/json"));
    }
    let lead = parse_lead(document)?;
    let mut delivery = forms
        .get(&lead.form_id)
        .map_or_else(Delivery::default, |form| form.delivery.clone());
    delivery.format = format;
    if delivery.format == Format::Salesforce && delivery.salesforce_oid.is_none() {
        return Err(format!(
            "form \"{}\" has no delivery.salesforceOid, which Salesforce forwarding needs",
            lead.form_id
        ));
    }
    let submitted_ms = crate::time::parse_rfc3339(&lead.submitted_at);
    let extras = Extras {
        hutk: None,
        submitted_ms,
    };
    let payload = encode(&lead, &delivery, extras);
    // A lead that waited too long (HubSpot refuses an old `submittedAt`) goes in its late form.
    let late = submitted_ms.is_some_and(|at| now_ms() - at > LATE_AFTER_MS);
    match payload.late_body {
        Some(body) if late => Ok((body, payload.content_type)),
        _ => Ok((payload.body, payload.content_type)),
    }
}

fn parse_lead(document: &str) -> Result<LeadDocument, String> {
    serde_json::from_str(document)
        .map_err(|e| format!("the stored document is not a lead document: {e}"))
}

/// What a worker needs: the store, the forms (for adapters' field names), the routes, and the
/// collector's public URL (for links in alerts).
#[derive(Clone)]
pub struct Outbox {
    /// Where the outboxes are.
    pub store: Arc<Store>,
    /// The forms, for the adapters' delivery settings.
    pub forms: Arc<RwLock<Forms>>,
    /// The destinations.
    pub routes: Arc<Routes>,
    /// The collector's public URL, for the link to a lead in alerts.
    pub public_url: Option<String>,
}

/// A client for one destination's webhooks: its timeout, statuses as outcomes, and the
/// connections it keeps open between requests of a pass.
fn agent(timeout: Duration) -> ureq::Agent {
    ureq::Agent::config_builder()
        .timeout_global(Some(timeout))
        .http_status_as_error(false)
        .max_idle_connections_per_host(IN_FLIGHT)
        .build()
        .new_agent()
}

/// One attempt at one delivery, on a blocking thread's time (webhooks through `agent`).
pub(crate) fn deliver(
    agent: &ureq::Agent,
    destination: &Destination,
    forms: &RwLock<Forms>,
    due: &Due,
    extras: &AlertExtras<'_>,
) -> Outcome {
    match &destination.sink {
        Sink::Webhook {
            url,
            secret,
            format,
        } => {
            let built = {
                let forms = forms.read().unwrap_or_else(|e| e.into_inner());
                body_for(*format, &forms, &due.body)
            };
            match built {
                Ok((body, content_type)) => post(
                    agent,
                    url,
                    secret.as_deref(),
                    &due.lead_id,
                    &body,
                    content_type,
                ),
                Err(reason) => Outcome::Refused(reason),
            }
        }
        Sink::Slack { url } => match parse_lead(&due.body) {
            Ok(lead) => post(
                agent,
                url,
                None,
                &due.lead_id,
                &slack_body(&lead, extras),
                "application/json",
            ),
            Err(reason) => Outcome::Refused(reason),
        },
        Sink::Email { smtp, from, to } => match parse_lead(&due.body) {
            Ok(lead) => email(smtp, from, to, destination, &lead, extras),
            Err(reason) => Outcome::Refused(reason),
        },
    }
}

/// Posts a body to a webhook.
fn post(
    agent: &ureq::Agent,
    url: &str,
    secret: Option<&str>,
    lead_id: &str,
    body: &str,
    content_type: &str,
) -> Outcome {
    let timestamp = now_ms() / 1000;
    let mut request = agent
        .post(url)
        .header("Content-Type", content_type)
        .header("Idempotency-Key", lead_id)
        .header("Bantam-Timestamp", &timestamp.to_string());
    if let Some(secret) = secret {
        request = request.header("Bantam-Signature", &sign(secret, timestamp, body));
    }
    match request.send(body) {
        Ok(response) => {
            let status = response.status().as_u16();
            let retry_after = response
                .headers()
                .get("retry-after")
                .and_then(|v| v.to_str().ok())
                .and_then(|v| v.trim().parse::<u64>().ok())
                .map(Duration::from_secs);
            match status {
                200..=299 => Outcome::Delivered(status),
                429 | 500..=599 => Outcome::Retry(format!("HTTP {status}"), retry_after),
                _ => Outcome::Refused(format!("HTTP {status}")),
            }
        }
        Err(err) => Outcome::Retry(err.to_string(), None),
    }
}

/// Sends an e-mail alert over SMTP.
fn email(
    smtp: &str,
    from: &lettre::message::Mailbox,
    to: &[lettre::message::Mailbox],
    destination: &Destination,
    lead: &LeadDocument,
    extras: &AlertExtras<'_>,
) -> Outcome {
    use lettre::Transport;
    let transport = match lettre::SmtpTransport::from_url(smtp) {
        Ok(builder) => builder.timeout(Some(destination.timeout)).build(),
        Err(err) => return Outcome::Refused(format!("SMTP URL: {err}")),
    };
    let (subject, body) = email_text(lead, extras);
    // One Message-ID per lead and destination: a retry carries the same one.
    let local: String = format!("{}.{}", lead.id, destination.name)
        .chars()
        .filter(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '.' | '_'))
        .collect();
    let mut message = lettre::Message::builder()
        .from(from.clone())
        .subject(subject)
        .message_id(Some(format!("<{local}@bantam>")))
        .header(lettre::message::header::ContentType::TEXT_PLAIN);
    for recipient in to {
        message = message.to(recipient.clone());
    }
    let message = match message.body(body) {
        Ok(message) => message,
        Err(err) => return Outcome::Refused(format!("e-mail: {err}")),
    };
    match transport.send(&message) {
        Ok(response) => Outcome::Delivered(response.code().to_string().parse().unwrap_or(250)),
        Err(err) if err.is_permanent() => Outcome::Refused(format!("SMTP: {err}")),
        Err(err) => Outcome::Retry(format!("SMTP: {err}"), None),
    }
}

/// Runs every destination's outbox, each in its own task: every `every`, and at once again
/// while a pass found a full batch, it sends the due entries and records the outcomes. Each
/// worker keeps its client, so its connections stay open from one pass to the next.
pub fn run(outbox: Outbox, every: Duration) {
    for destination in &outbox.routes.destinations {
        let (outbox, name) = (outbox.clone(), destination.name.clone());
        let client = agent(destination.timeout.min(outbox.routes.lease / 2));
        tokio::spawn(async move {
            let mut interval = tokio::time::interval(every);
            interval.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            loop {
                interval.tick().await;
                loop {
                    match pass(&outbox, &name, Some(&client)).await {
                        Ok(n) if n >= BATCH as usize => continue,
                        Ok(_) => break,
                        Err(err) => {
                            eprintln!("bantam-collector: delivering to {name}: {err}");
                            break;
                        }
                    }
                }
            }
        });
    }
}

/// One pass over a destination's due entries: claims them, sends up to [`IN_FLIGHT`] at once
/// (each on a blocking thread) and records the outcomes. Returns how many were claimed. Public
/// for tests and tools.
///
/// # Errors
/// A storage error; delivery errors are recorded on the entries instead.
pub async fn deliver_due(outbox: &Outbox, name: &str) -> Result<usize, crate::StoreError> {
    pass(outbox, name, None).await
}

/// [`deliver_due`] with the worker's client (a new one when `None`).
async fn pass(
    outbox: &Outbox,
    name: &str,
    client: Option<&ureq::Agent>,
) -> Result<usize, crate::StoreError> {
    let lease = outbox.routes.lease;
    let claimed_at = Instant::now();
    let due = outbox
        .store
        .due_deliveries(name, now_ms(), BATCH, lease)
        .await?;
    let count = due.len();
    let Some(destination) = outbox.routes.destination(name) else {
        for entry in due {
            outbox
                .store
                .delivery_failed(
                    &entry.lead_id,
                    name,
                    entry.attempts,
                    0,
                    "this destination is no longer in the routes file",
                    true,
                )
                .await?;
        }
        return Ok(count);
    };
    let mut sending = destination.clone();
    sending.timeout = destination.timeout.min(lease / 2);
    let client = client.cloned().unwrap_or_else(|| agent(sending.timeout));
    let mut outcomes = Vec::with_capacity(count);
    let mut flushed = Instant::now();
    let mut entries = due.into_iter();
    let mut in_flight = tokio::task::JoinSet::new();
    let mut handed_back = false;
    loop {
        // Start entries while fewer than IN_FLIGHT are on their way and enough of the lease is
        // left for one more request; the claim is this worker's alone, so sending several of
        // its entries at once delivers none twice.
        while in_flight.len() < IN_FLIGHT && !handed_back {
            let Some(entry) = entries.next() else { break };
            if claimed_at.elapsed() + sending.timeout > lease {
                // Too little of the lease is left for another attempt: hand the rest back.
                let rest: Vec<String> = std::iter::once(entry)
                    .chain(entries.by_ref())
                    .map(|e| e.lead_id)
                    .collect();
                outbox.store.release_deliveries(name, &rest).await?;
                handed_back = true;
                break;
            }
            let (attempt, forms, public_url, client) = (
                sending.clone(),
                outbox.forms.clone(),
                outbox.public_url.clone(),
                client.clone(),
            );
            in_flight.spawn_blocking(move || {
                let extras = AlertExtras {
                    public_url: public_url.as_deref(),
                    owner: entry.owner.as_deref(),
                };
                let outcome = deliver(&client, &attempt, &forms, &entry, &extras);
                (entry, outcome)
            });
        }
        let Some(joined) = in_flight.join_next().await else {
            break;
        };
        let (entry, outcome) = joined.map_err(|err| crate::StoreError::Task(err.to_string()))?;
        outcomes.push((entry.lead_id, attempted(entry.attempts, outcome)));
        // Outcomes are written together, one transaction (one write to disk) for many
        // deliveries, but at least every second, so a slow destination's state shows soon.
        if flushed.elapsed() >= FLUSH_EVERY {
            outbox.store.record_deliveries(name, &outcomes).await?;
            outcomes.clear();
            flushed = Instant::now();
        }
    }
    outbox.store.record_deliveries(name, &outcomes).await?;
    Ok(count)
}

/// What an attempt's outcome makes of an entry that had `attempts` before it.
fn attempted(attempts: u32, outcome: Outcome) -> Attempted {
    match outcome {
        Outcome::Delivered(status) => Attempted::Delivered {
            status,
            at: crate::time::now_rfc3339(),
        },
        Outcome::Retry(error, retry_after) => {
            // The first retry waits about 1 s, the next 2 s, and so on: `backoff` of the
            // attempts before this one (once `backoff(attempts + 1)`, which began at 2 s and
            // doubled every wait, so five refusals in a row held a lead for a minute, not 31 s).
            let wait = retry_after
                .unwrap_or_else(|| backoff(attempts))
                .min(MAX_BACKOFF);
            let attempts = attempts + 1;
            Attempted::Failed {
                attempts,
                next_at_ms: now_ms() + wait.as_millis() as i64,
                error,
                failed: attempts >= MAX_ATTEMPTS,
            }
        }
        Outcome::Refused(error) => Attempted::Failed {
            attempts: attempts + 1,
            next_at_ms: 0,
            error,
            failed: true,
        },
    }
}

/// One pass of the `--forward-*` flags' destination alone (`forward`). Public for tests and
/// tools.
///
/// # Errors
/// A storage error; delivery errors are recorded on the entries instead.
pub async fn forward_due(
    store: &Arc<Store>,
    forms: &Arc<RwLock<Forms>>,
    forwarding: &Forwarding,
) -> Result<usize, crate::StoreError> {
    let outbox = Outbox {
        store: store.clone(),
        forms: forms.clone(),
        routes: Arc::new(Routes::from_forwarding(Some(forwarding))),
        public_url: None,
    };
    deliver_due(&outbox, FLAGS_DESTINATION).await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn signatures_are_hmac_sha256_of_timestamp_and_body() {
        // Checked against Python: hmac.new(b"secret", b"1700000000.{}", hashlib.sha256).
        assert_eq!(
            sign("secret", 1_700_000_000, "{}"),
            "v1=b8569b78799ff9e3cbff0fc2d63a33a2b57f3282abd07c37ae5e8e7d79a5f163"
        );
    }

    #[test]
    fn a_late_hubspot_forward_leaves_out_its_old_submission_time() {
        let mut forms = Forms::empty();
        forms.insert(
            bantam_engine::parse_config(serde_json::json!({"formId": "demo", "preset": "bant"}))
                .unwrap(),
        );
        let lead = |at: &str| {
            let mut doc: serde_json::Value =
                serde_json::from_str(include_str!("../../tests/data/lead-v1.json")).unwrap();
            doc["formId"] = "demo".into();
            doc["submittedAt"] = at.into();
            doc.to_string()
        };
        let fresh = crate::time::now_rfc3339();
        let (body, _) = body_for(Format::Hubspot, &forms, &lead(&fresh)).unwrap();
        assert!(body.contains("\"submittedAt\""), "{body}");
        let (body, _) =
            body_for(Format::Hubspot, &forms, &lead("2020-01-01T00:00:00.000Z")).unwrap();
        assert!(!body.contains("submittedAt"), "{body}");
    }

    #[test]
    fn retries_wait_1_s_then_2_s_then_4_s() {
        for (before, least) in [(0, 1000), (1, 2000), (2, 4000)] {
            let started = now_ms();
            let Attempted::Failed {
                attempts,
                next_at_ms,
                failed,
                ..
            } = attempted(before, Outcome::Retry("HTTP 503".into(), None))
            else {
                panic!("a retry is a failed attempt");
            };
            let wait = next_at_ms - started;
            assert_eq!((attempts, failed), (before + 1, false));
            assert!(
                wait >= least && wait <= least * 12 / 10 + 250,
                "after {before} attempts: {wait} ms"
            );
        }
        let Attempted::Failed { next_at_ms, .. } = attempted(
            0,
            Outcome::Retry("HTTP 429".into(), Some(Duration::from_secs(30))),
        ) else {
            panic!("a retry is a failed attempt");
        };
        assert!(next_at_ms - now_ms() > 29_000, "Retry-After is honoured");
    }

    #[test]
    fn backoff_doubles_and_caps() {
        assert!(backoff(0) >= Duration::from_secs(1) && backoff(0) < Duration::from_millis(1201));
        assert!(backoff(3) >= Duration::from_secs(8) && backoff(3) < Duration::from_millis(9601));
        assert!(backoff(30) <= MAX_BACKOFF.mul_f64(1.2));
    }
}
