//! The collector's clock, and RFC 3339 times in UTC formatted and parsed without a date crate.

use std::time::{SystemTime, UNIX_EPOCH};

/// Now, as `YYYY-MM-DDTHH:MM:SS.mmmZ`.
pub(crate) fn now_rfc3339() -> String {
    format_rfc3339(now_millis())
}

/// Now, in milliseconds since the Unix epoch.
pub(crate) fn now_millis() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap_or_default()
        .as_millis() as i64
}

/// Formats milliseconds since the Unix epoch (days to civil date after Howard Hinnant).
pub(crate) fn format_rfc3339(millis: i64) -> String {
    let secs = millis.div_euclid(1000);
    let ms = millis.rem_euclid(1000);
    let days = secs.div_euclid(86_400);
    let rem = secs.rem_euclid(86_400);
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!(
        "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}.{ms:03}Z",
        rem / 3600,
        rem % 3600 / 60,
        rem % 60
    )
}

/// Milliseconds since the Unix epoch of an RFC 3339 UTC time as browsers write it, the
/// inverse of [`format_rfc3339`]
/// (`2026-11-23T09:30:00.000Z`; the fraction may be shorter or absent), or `None`.
pub(crate) fn parse_rfc3339(time: &str) -> Option<i64> {
    let number = |from: usize, to: usize| -> Option<i64> {
        let digits = time.get(from..to)?;
        digits
            .bytes()
            .all(|b| b.is_ascii_digit())
            .then(|| digits.bytes().fold(0, |n, b| n * 10 + i64::from(b - b'0')))
    };
    let bytes = time.as_bytes();
    let shape = [(4, b'-'), (7, b'-'), (10, b'T'), (13, b':'), (16, b':')];
    if bytes.len() < 20 || shape.iter().any(|&(at, c)| bytes[at] != c) || !time.ends_with('Z') {
        return None;
    }
    let (year, month, day) = (number(0, 4)?, number(5, 7)?, number(8, 10)?);
    let (hour, minute, second) = (number(11, 13)?, number(14, 16)?, number(17, 19)?);
    let millis = match time.get(19..time.len() - 1)? {
        "" => 0,
        fraction => {
            let digits = fraction.strip_prefix('.')?;
            if digits.is_empty() || digits.len() > 3 {
                return None;
            }
            let n = number(20, 20 + digits.len())?;
            n * [100, 10, 1][digits.len() - 1]
        }
    };
    if !(1..=12).contains(&month)
        || !(1..=31).contains(&day)
        || hour > 23
        || minute > 59
        || second > 60
    {
        return None;
    }
    // Days from the civil date (Howard Hinnant's algorithm), March-based years.
    let y = if month <= 2 { year - 1 } else { year };
    let era = y.div_euclid(400);
    let year_of_era = y - era * 400;
    let day_of_year = (153 * ((month + 9) % 12) + 2) / 5 + day - 1;
    let day_of_era = year_of_era * 365 + year_of_era / 4 - year_of_era / 100 + day_of_year;
    let days = era * 146_097 + day_of_era - 719_468;
    Some(((days * 24 + hour) * 60 + minute) * 60_000 + second * 1000 + millis)
}

/// A stored UTC time as people read it, with the zone said: `2 Dec 2026, 14:03 UTC`; text
/// that is not such a time comes back as it is.
pub(crate) fn readable(time: &str) -> String {
    let Some(millis) = parse_rfc3339(time) else {
        return time.to_owned();
    };
    let civil = format_rfc3339(millis);
    format!("{}, {} UTC", readable_day(&civil[..10]), &civil[11..16])
}

/// A day (`2026-12-02`) as people read it: `2 Dec 2026`; anything else as it is.
pub(crate) fn readable_day(day: &str) -> String {
    const MONTHS: [&str; 12] = [
        "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
    ];
    let parts: Vec<&str> = day.split('-').collect();
    match parts[..] {
        [year, month, d] if year.len() == 4 => match (month.parse::<usize>(), d.parse::<u32>()) {
            (Ok(m @ 1..=12), Ok(d @ 1..=31)) => format!("{d} {} {year}", MONTHS[m - 1]),
            _ => day.to_owned(),
        },
        _ => day.to_owned(),
    }
}

/// The day `days` after `day` (`YYYY-MM-DD`; `days` may be negative), or `None` for a day
/// that is not one.
pub(crate) fn add_days(day: &str, days: i64) -> Option<String> {
    let millis = parse_rfc3339(&format!("{day}T00:00:00Z"))?;
    Some(format_rfc3339(millis + days * 86_400_000)[..10].to_owned())
}

#[cfg(test)]
mod tests {
    use super::{add_days, format_rfc3339, parse_rfc3339, readable};

    #[test]
    fn times_read_as_people_write_them() {
        assert_eq!(
            readable("2026-12-02T14:03:59.123Z"),
            "2 Dec 2026, 14:03 UTC"
        );
        assert_eq!(readable("2027-01-09T00:00:00Z"), "9 Jan 2027, 00:00 UTC");
        assert_eq!(readable("yesterday"), "yesterday");
        assert_eq!(add_days("2026-12-30", 3).as_deref(), Some("2027-01-02"));
        assert_eq!(add_days("2024-03-01", -1).as_deref(), Some("2024-02-29"));
        assert_eq!(add_days("2024-02-30x", 1), None);
    }

    #[test]
    fn formats_known_instants() {
        assert_eq!(format_rfc3339(0), "1970-01-01T00:00:00.000Z");
        assert_eq!(format_rfc3339(951_782_400_000), "2000-02-29T00:00:00.000Z");
        assert_eq!(
            format_rfc3339(1_795_422_896_789),
            "2026-11-23T08:34:56.789Z"
        );
    }

    #[test]
    fn browser_times_become_epoch_milliseconds() {
        // Expected values from Python's datetime.fromisoformat(...).timestamp().
        for (time, want) in [
            ("2026-11-23T09:30:00.000Z", Some(1_795_426_200_000)),
            ("1970-01-01T00:00:00Z", Some(0)),
            ("2000-02-29T23:59:59.999Z", Some(951_868_799_999)),
            ("2024-12-31T12:00:00.5Z", Some(1_735_646_400_500)),
            ("2024-12-31T12:00:00+01:00", None),
            ("2024-13-01T00:00:00Z", None),
            ("yesterday", None),
            ("2024-12-31T12:00:00.Z", None),
            ("", None),
        ] {
            assert_eq!(parse_rfc3339(time), want, "{time}");
        }
    }

    #[test]
    fn parsing_inverts_formatting() {
        for millis in [0, 951_782_400_000, 1_795_422_896_789, 4_102_444_799_999] {
            assert_eq!(parse_rfc3339(&format_rfc3339(millis)), Some(millis));
        }
    }
}
