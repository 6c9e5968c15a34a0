//! Forwarding stored leads to a webhook: a persisted outbox, retries with backoff, signatures.
//!
//! A lead enters the outbox in the same transaction that stores it, so a crash loses no
//! forward. The worker posts due entries at least once, each with the lead id as
//! `Idempotency-Key` and, when a secret is set, `Bantam-Signature: v1=<hex>` where `<hex>` is
//! HMAC-SHA256 over `"<Bantam-Timestamp>.<body>"` (the scheme the large webhook senders use),
//! so the receiver can check both origin and freshness.
//!
//! The body is the stored lead document (`json`, the default) or, with another [`Format`], the
//! engine's adapter output for it, using the lead's form's `delivery` settings (field names,
//! Salesforce `oid`); the signature covers whatever body is sent.
//!
//! Several collectors may share one PostgreSQL outbox: each pass claims its entries for a
//! lease ([`Forwarding::lease`]), so each entry is sent by one collector, and the entries of
//! a collector that died are taken by another once the lease runs out. A request never
//! outlives its claim: it gets at most half the lease, and a pass stops and hands back the
//! rest of its claim when too little of the lease is left for one more request.

use std::sync::{Arc, RwLock};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use hmac::{Hmac, KeyInit, Mac};
use sha2::Sha256;

use bantam_engine::{encode, Delivery, Extras, Format, LeadDocument, LATE_AFTER_MS};

use crate::forms::Forms;
use crate::store::{Due, Store};

/// Attempts before an entry is marked failed (about a day of backoff in all).
pub const MAX_ATTEMPTS: u32 = 16;
/// The longest wait between two attempts.
const MAX_BACKOFF: Duration = Duration::from_secs(3600);
/// Entries one pass claims at most.
const BATCH: u32 = 20;
/// How long a collector keeps the forwards it claimed by default.
pub const DEFAULT_LEASE: Duration = Duration::from_secs(60);

/// Where and how to forward.
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

/// The body and content type to forward for a stored document, or why it cannot be built.
pub(crate) fn body_for(
    forwarding: &Forwarding,
    forms: &Forms,
    document: &str,
) -> Result<(String, &'static str), String> {
    if forwarding.format == Format::Json {
        return Ok((document.to_owned(), "application/json"));
    }
    let lead: LeadDocument = serde_json::from_str(document)
        .map_err(|e| format!("the stored document is not a lead document: {e}"))?;
    let mut delivery = forms
        .get(&lead.form_id)
        .map_or_else(Delivery::default, |form| form.delivery.clone());
    delivery.format = forwarding.format;
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

/// Posts one lead.
pub(crate) fn deliver(forwarding: &Forwarding, forms: &RwLock<Forms>, due: &Due) -> Outcome {
    let built = {
        let forms = forms.read().unwrap_or_else(|e| e.into_inner());
        body_for(forwarding, &forms, &due.body)
    };
    let (body, content_type) = match built {
        Ok(built) => built,
        Err(reason) => return Outcome::Refused(reason),
    };
    let timestamp = now_ms() / 1000;
    let agent = ureq::Agent::config_builder()
        .timeout_global(Some(forwarding.timeout))
        .http_status_as_error(false)
        .build()
        .new_agent();
    let mut request = agent
        .post(&forwarding.url)
        .header("Content-Type", content_type)
        .header("Idempotency-Key", &due.lead_id)
        .header("Bantam-Timestamp", &timestamp.to_string());
    if let Some(secret) = &forwarding.secret {
        request = request.header("Bantam-Signature", &sign(secret, timestamp, &body));
    }
    match request.send(body.as_str()) {
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

/// Runs the outbox: every `every`, posts the due entries and records the outcome.
pub fn run(store: Arc<Store>, forms: Arc<RwLock<Forms>>, forwarding: Forwarding, every: Duration) {
    tokio::spawn(async move {
        let mut interval = tokio::time::interval(every);
        loop {
            interval.tick().await;
            if let Err(err) = forward_due(&store, &forms, &forwarding).await {
                eprintln!("bantam-collector: forwarding: {err}");
            }
        }
    });
}

/// One pass over the due entries: claims them, posts each (on a blocking thread) and records
/// the outcome. Returns how many were claimed. Public for tests and tools.
///
/// # Errors
/// A storage error; delivery errors are recorded on the entries instead.
pub async fn forward_due(
    store: &Store,
    forms: &Arc<RwLock<Forms>>,
    forwarding: &Forwarding,
) -> Result<usize, crate::StoreError> {
    let claimed_at = Instant::now();
    let due = store
        .due_forwards(now_ms(), BATCH, forwarding.lease)
        .await?;
    let count = due.len();
    let mut sending = forwarding.clone();
    sending.timeout = forwarding.timeout.min(forwarding.lease / 2);
    let mut entries = due.into_iter();
    while let Some(entry) = entries.next() {
        if claimed_at.elapsed() + sending.timeout > forwarding.lease {
            // Too little of the lease is left for another request: hand the rest back.
            let rest: Vec<String> = std::iter::once(entry)
                .chain(entries)
                .map(|e| e.lead_id)
                .collect();
            store.release_forwards(&rest).await?;
            break;
        }
        let (attempt, forms) = (sending.clone(), forms.clone());
        let (entry, outcome) = tokio::task::spawn_blocking(move || {
            let outcome = deliver(&attempt, &forms, &entry);
            (entry, outcome)
        })
        .await
        .map_err(|err| crate::StoreError::Task(err.to_string()))?;
        match outcome {
            Outcome::Delivered(status) => {
                store
                    .forward_delivered(&entry.lead_id, status, &crate::time::now_rfc3339())
                    .await?
            }
            Outcome::Retry(error, retry_after) => {
                let attempts = entry.attempts + 1;
                let wait = retry_after
                    .unwrap_or_else(|| backoff(attempts))
                    .min(MAX_BACKOFF);
                let failed = attempts >= MAX_ATTEMPTS;
                store
                    .forward_failed(
                        &entry.lead_id,
                        attempts,
                        now_ms() + wait.as_millis() as i64,
                        &error,
                        failed,
                    )
                    .await?;
            }
            Outcome::Refused(error) => {
                store
                    .forward_failed(&entry.lead_id, entry.attempts + 1, 0, &error, true)
                    .await?
            }
        }
    }
    Ok(count)
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
        let forwarding = Forwarding {
            url: "https://api.hsforms.com/x".into(),
            secret: None,
            timeout: Duration::from_secs(1),
            format: Format::Hubspot,
            lease: DEFAULT_LEASE,
        };
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
        let (body, _) = body_for(&forwarding, &forms, &lead(&fresh)).unwrap();
        assert!(body.contains("\"submittedAt\""), "{body}");
        let (body, _) = body_for(&forwarding, &forms, &lead("2020-01-01T00:00:00.000Z")).unwrap();
        assert!(!body.contains("submittedAt"), "{body}");
    }

    #[test]
    fn backoff_doubles_and_caps() {
        assert!(backoff(0) >= Duration::from_secs(1) && backoff(0) < Duration::from_millis(1201));
        assert!(backoff(3) >= Duration::from_secs(8) && backoff(3) < Duration::from_millis(9601));
        assert!(backoff(30) <= MAX_BACKOFF.mul_f64(1.2));
    }
}
