//! Attribution: where a lead came from, first and last touch, from page URLs and referrers.
//!
//! Pure: the page URL, the referrer and the time come in as arguments; the widget stores the
//! result between visits.

use crate::map::Map;
use crate::prelude::*;

use crate::value::{before_any, first_chars, split_ascii, split_once_ascii, JsonWriter, Value};

/// Ad click ids recognised in landing-page URLs.
pub const CLICK_IDS: [&str; 11] = [
    "gclid",
    "gbraid",
    "wbraid",
    "dclid",
    "fbclid",
    "msclkid",
    "li_fat_id",
    "ttclid",
    "twclid",
    "epik",
    "rdt_cid",
];

/// UTM parameters of a touch.
#[derive(Debug, Clone, Default, PartialEq)]
#[cfg_attr(feature = "serde", derive(serde::Deserialize), serde(default))]
pub struct Utm {
    /// `utm_source`.
    pub source: Option<String>,
    /// `utm_medium`.
    pub medium: Option<String>,
    /// `utm_campaign`.
    pub campaign: Option<String>,
    /// `utm_term`.
    pub term: Option<String>,
    /// `utm_content`.
    pub content: Option<String>,
}

impl Utm {
    fn is_empty(&self) -> bool {
        self.source.is_none()
            && self.medium.is_none()
            && self.campaign.is_none()
            && self.term.is_none()
            && self.content.is_none()
    }
}

/// One arrival on the site.
#[derive(Debug, Clone, Default, PartialEq)]
#[cfg_attr(
    feature = "serde",
    derive(serde::Deserialize),
    serde(rename_all = "camelCase", default)
)]
pub struct Touch {
    /// When, RFC 3339.
    pub at: String,
    /// The page the visitor landed on.
    pub landing_page: String,
    /// The referrer, empty when none.
    pub referrer: String,
    /// UTM parameters of the landing page.
    pub utm: Utm,
    /// Ad click ids of the landing page, by parameter name.
    pub click_ids: Map<String, String>,
}

/// First and last touch of a visitor.
#[derive(Debug, Clone, Default, PartialEq)]
#[cfg_attr(
    feature = "serde",
    derive(serde::Deserialize),
    serde(rename_all = "camelCase")
)]
pub struct Attribution {
    /// The first recorded arrival.
    pub first_touch: Touch,
    /// The latest arrival that carried campaign information (UTM, click id or an outside
    /// referrer); the first touch when none did since.
    pub last_touch: Touch,
}

/// Decodes `%XX` escapes and `+`; invalid escapes stay as they are, and so does every escape
/// of a value whose escapes do not spell UTF-8 (only its `+` become spaces).
pub fn percent_decode(s: &str) -> String {
    let hex = |b: u8| (b as char).to_digit(16).map(|d| d as u8);
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let decoded = match bytes[i] {
            b'%' if i + 2 < bytes.len() => hex(bytes[i + 1])
                .zip(hex(bytes[i + 2]))
                .map(|(h, l)| h * 16 + l),
            _ => None,
        };
        match (decoded, bytes[i]) {
            (Some(b), _) => {
                out.push(b);
                i += 3;
            }
            (None, b'+') => {
                out.push(b' ');
                i += 1;
            }
            (None, b) => {
                out.push(b);
                i += 1;
            }
        }
    }
    // Not `from_utf8_lossy`: its replacement characters would hide what was sent, and it costs
    // the widget a kilobyte.
    utf8(&out).unwrap_or_else(|| {
        let mut kept = String::with_capacity(s.len());
        for c in s.chars() {
            kept.push(if c == '+' { ' ' } else { c });
        }
        kept
    })
}

/// `bytes` as a string when they are UTF-8 (as `String::from_utf8` decides), decoded one
/// sequence at a time: core's validator, with its word-at-a-time fast path, cost the widget
/// more than this loop.
fn utf8(bytes: &[u8]) -> Option<String> {
    let mut out = String::with_capacity(bytes.len());
    let mut i = 0;
    while let Some(&lead) = bytes.get(i) {
        // The continuation bytes of the sequence, and the least code point it may spell (a
        // smaller one is an overlong form).
        let (more, least) = match lead {
            0x00..=0x7f => (0, 0),
            0xc0..=0xdf => (1, 0x80),
            0xe0..=0xef => (2, 0x800),
            0xf0..=0xf7 => (3, 0x1_0000),
            _ => return None,
        };
        let mut c = u32::from(lead) & (0x7f >> more);
        for k in 1..=more {
            let b = *bytes.get(i + k)?;
            if b & 0xc0 != 0x80 {
                return None;
            }
            c = c << 6 | u32::from(b & 0x3f);
        }
        if c < least {
            return None;
        }
        // Surrogates and code points past U+10FFFF are no chars.
        out.push(char::from_u32(c)?);
        i += more + 1;
    }
    Some(out)
}

/// The decoded query parameters of a URL, in order (the fragment is ignored).
pub fn query_params(url: &str) -> Vec<(String, String)> {
    let query = split_once_ascii(url, b'?').map_or("", |(_, q)| q);
    let query = before_any(query, b"#");
    let mut params = Vec::new();
    for pair in split_ascii(query, b'&') {
        if !pair.is_empty() {
            let (k, v) = split_once_ascii(pair, b'=').unwrap_or((pair, ""));
            params.push((
                percent_decode(k),
                first_chars(percent_decode(v).trim(), 200),
            ));
        }
    }
    params
}

/// The host of a URL (`https://www.x.io:8080/a` gives `www.x.io:8080`); empty without one.
pub(crate) fn host(url: &str) -> &str {
    // The part after `scheme://`; a URL without one has no host.
    let rest = split_once_ascii(url, b':')
        .and_then(|(_, r)| r.strip_prefix("//"))
        .unwrap_or("");
    before_any(rest, b"/?#")
}

/// The string of `value`'s field `key`, if it is one.
fn text_at(value: &Value, key: &str) -> Option<String> {
    match value.get(key) {
        Some(Value::String(s)) => Some(s.clone()),
        _ => None,
    }
}

impl Touch {
    /// The touch of a page view: UTM parameters and click ids of `url`, and the referrer.
    pub fn from_page(url: &str, referrer: &str, at: &str) -> Touch {
        let mut touch = Touch {
            at: at.to_owned(),
            landing_page: first_chars(url, 2048),
            referrer: first_chars(referrer, 2048),
            ..Touch::default()
        };
        for (key, value) in query_params(url) {
            if value.is_empty() {
                continue;
            }
            let slot = match key.as_str() {
                "utm_source" => &mut touch.utm.source,
                "utm_medium" => &mut touch.utm.medium,
                "utm_campaign" => &mut touch.utm.campaign,
                "utm_term" => &mut touch.utm.term,
                "utm_content" => &mut touch.utm.content,
                other if CLICK_IDS.contains(&other) => {
                    if !touch.click_ids.contains_key(other) {
                        touch.click_ids.insert(key.clone(), value);
                    }
                    continue;
                }
                _ => continue,
            };
            slot.get_or_insert(value);
        }
        touch
    }

    /// Whether this arrival says where the visitor came from: UTM, a click id, or a referrer
    /// from another site.
    pub fn is_campaign(&self) -> bool {
        let outside = !self.referrer.is_empty() && host(&self.referrer) != host(&self.landing_page);
        !self.utm.is_empty() || !self.click_ids.is_empty() || outside
    }

    fn write(&self, w: &mut JsonWriter, key: &str) {
        w.begin_object(Some(key));
        w.string(Some("at"), &self.at);
        w.string(Some("landingPage"), &self.landing_page);
        w.string(Some("referrer"), &self.referrer);
        w.begin_object(Some("utm"));
        for (name, value) in [
            ("source", &self.utm.source),
            ("medium", &self.utm.medium),
            ("campaign", &self.utm.campaign),
            ("term", &self.utm.term),
            ("content", &self.utm.content),
        ] {
            w.optional(Some(name), value.as_deref());
        }
        w.end_object();
        w.begin_object(Some("clickIds"));
        for (k, v) in &self.click_ids {
            w.string(Some(k), v);
        }
        w.end_object();
        w.end_object();
    }

    /// Reads a touch the widget stored; `None` for anything malformed.
    fn from_value(value: &Value) -> Option<Touch> {
        let mut touch = Touch {
            at: text_at(value, "at")?,
            landing_page: text_at(value, "landingPage")?,
            referrer: text_at(value, "referrer").unwrap_or_default(),
            ..Touch::default()
        };
        // A `utm` that is no object has no fields: no UTM.
        if let Some(utm) = value.get("utm") {
            touch.utm = Utm {
                source: text_at(utm, "source"),
                medium: text_at(utm, "medium"),
                campaign: text_at(utm, "campaign"),
                term: text_at(utm, "term"),
                content: text_at(utm, "content"),
            };
        }
        if let Some(Value::Object(ids)) = value.get("clickIds") {
            for (k, v) in ids {
                if let Value::String(s) = v {
                    touch.click_ids.insert(k.clone(), s.clone());
                }
            }
        }
        Some(touch)
    }
}

impl Attribution {
    /// Folds this page view into what is known: the first touch stays; the last touch moves to
    /// this one when it carries campaign information.
    pub fn update(known: Option<Attribution>, now: Touch) -> Attribution {
        match known {
            None => Attribution {
                first_touch: now.clone(),
                last_touch: now,
            },
            Some(known) if now.is_campaign() => Attribution {
                first_touch: known.first_touch,
                last_touch: now,
            },
            Some(known) => known,
        }
    }

    /// As JSON, for storage between visits.
    pub fn to_json(&self) -> String {
        let mut w = JsonWriter::new();
        self.write(&mut w, None);
        w.finish()
    }

    pub(crate) fn write(&self, w: &mut JsonWriter, key: Option<&str>) {
        w.begin_object(key);
        self.first_touch.write(w, "firstTouch");
        self.last_touch.write(w, "lastTouch");
        w.end_object();
    }

    /// Reads what the widget stored; `None` for anything malformed (the caller starts afresh).
    pub fn from_value(value: &Value) -> Option<Attribution> {
        Some(Attribution {
            first_touch: Touch::from_value(value.get("firstTouch")?)?,
            last_touch: Touch::from_value(value.get("lastTouch")?)?,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_landing_page_gives_utm_and_click_ids() {
        let t = Touch::from_page(
            "https://x.io/p?utm_source=news%20letter&utm_medium=email&utm_campaign=spring+sale&gclid=abc&utm_source=second#top",
            "https://www.google.com/",
            "2026-11-23T08:00:00.000Z",
        );
        assert_eq!(
            t.utm.source.as_deref(),
            Some("news letter"),
            "the first value wins"
        );
        assert_eq!(t.utm.campaign.as_deref(), Some("spring sale"));
        assert_eq!(t.click_ids.get("gclid").map(String::as_str), Some("abc"));
        assert!(t.is_campaign());
        assert!(
            !Touch::from_page("https://x.io/a", "https://x.io/b", "t").is_campaign(),
            "an inside referrer"
        );
        assert_eq!(percent_decode("%zz%e2%82%ac"), "%zz€");
        // Escapes that do not spell UTF-8 are kept as sent, not replaced by U+FFFD.
        assert_eq!(percent_decode("spring+sale%FF%41"), "spring sale%FF%41");
    }

    #[test]
    fn utf8_decides_as_the_standard_library_does() {
        let check = |bytes: &[u8]| {
            assert_eq!(
                utf8(bytes),
                String::from_utf8(bytes.to_vec()).ok(),
                "{bytes:02x?}"
            );
        };
        // Every sequence of one or two bytes, and of three from a lead byte on.
        for a in 0..=255u8 {
            check(&[a]);
            for b in 0..=255u8 {
                check(&[a, b]);
                if a >= 0xc0 {
                    for c in 0..=255u8 {
                        check(&[a, b, c]);
                    }
                }
            }
        }
        // Four bytes from each lead byte, at the edges of the continuation bytes' ranges.
        let edges = [0x00, 0x7f, 0x80, 0x8f, 0x90, 0x9f, 0xa0, 0xbf, 0xc0, 0xff];
        for a in 0xf0..=0xff {
            for b in edges {
                for c in edges {
                    for d in edges {
                        check(&[a, b, c, d]);
                        check(&[b'x', a, b, c, d, b'y']);
                    }
                }
            }
        }
    }

    proptest::proptest! {
        /// Any bytes: the same decision and the same text as the standard library's.
        #[test]
        fn utf8_agrees_with_the_standard_library(bytes in proptest::collection::vec(0u8..=255, 0..24)) {
            proptest::prop_assert_eq!(utf8(&bytes), String::from_utf8(bytes.clone()).ok());
        }
    }

    #[test]
    fn first_touch_stays_and_last_touch_follows_campaigns() {
        let first = Touch::from_page("https://x.io/?utm_source=ads", "", "t1");
        let a = Attribution::update(None, first.clone());
        assert_eq!(
            (a.first_touch.at.as_str(), a.last_touch.at.as_str()),
            ("t1", "t1")
        );
        let direct = Touch::from_page("https://x.io/pricing", "", "t2");
        let b = Attribution::update(Some(a.clone()), direct);
        assert_eq!(b, a, "a direct visit changes nothing");
        let mail = Touch::from_page("https://x.io/?utm_source=newsletter", "", "t3");
        let c = Attribution::update(Some(b), mail);
        assert_eq!(
            (c.first_touch.at.as_str(), c.last_touch.at.as_str()),
            ("t1", "t3")
        );
        assert_eq!(c.last_touch.utm.source.as_deref(), Some("newsletter"));
    }

    #[test]
    fn stored_attribution_round_trips() {
        let a = Attribution::update(
            None,
            Touch::from_page("https://x.io/?utm_term=a\"b&fbclid=1", "", "t1"),
        );
        let value: Value = serde_json::from_str(&a.to_json()).unwrap();
        assert_eq!(Attribution::from_value(&value), Some(a));
        assert_eq!(Attribution::from_value(&Value::String("junk".into())), None);
        // What each field may hold: `at` and `landingPage` are required strings, the rest
        // falls back to empty; a `utm` that is no object is no UTM.
        let read = |touch: &str| {
            let json = format!(r#"{{"firstTouch":{touch},"lastTouch":{touch}}}"#);
            Attribution::from_value(&serde_json::from_str(&json).unwrap()).map(|a| a.last_touch)
        };
        let t = read(r#"{"at":"t","landingPage":"p","utm":{"source":"s","term":3},"clickIds":{"gclid":"g","x":1}}"#)
            .unwrap();
        assert_eq!(
            (t.referrer.as_str(), t.utm.source.as_deref(), t.utm.term),
            ("", Some("s"), None)
        );
        assert_eq!(t.click_ids.get("gclid").map(String::as_str), Some("g"));
        assert_eq!(t.click_ids.len(), 1);
        assert_eq!(
            read(r#"{"at":"t","landingPage":"p","utm":"s"}"#)
                .unwrap()
                .utm,
            Utm::default()
        );
        assert_eq!(read(r#"{"at":"t"}"#), None);
        assert_eq!(read(r#"{"at":1,"landingPage":"p"}"#), None);
        assert_eq!(read("[]"), None);
    }
}
