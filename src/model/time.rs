//! Timestamps: parsing Kubernetes times, the must-gather `timestamp` file,
//! and durations as people read them.

use chrono::{DateTime, Duration, NaiveDateTime, Utc};

/// Parses an RFC 3339 timestamp as the API server writes it.
pub fn parse(s: &str) -> Option<DateTime<Utc>> {
    DateTime::parse_from_rfc3339(s.trim())
        .ok()
        .map(|t| t.with_timezone(&Utc))
}

/// The latest time in a must-gather `timestamp` file, whose lines look like
/// `2021-08-03 10:13:47.364145495 +0000 UTC m=+1.355495176` (Go's
/// `time.Time` printed at the start and the end of the gathering).
pub fn parse_must_gather_timestamp(text: &str) -> Option<DateTime<Utc>> {
    text.lines()
        .filter_map(|line| {
            let mut parts = line.split_whitespace();
            let date = parts.next()?;
            let time = parts.next()?;
            let offset = parts.next()?;
            let t = DateTime::parse_from_str(
                &format!("{date} {time} {offset}"),
                "%Y-%m-%d %H:%M:%S%.f %z",
            )
            .ok()
            .map(|t| t.with_timezone(&Utc))
            .or_else(|| {
                NaiveDateTime::parse_from_str(&format!("{date} {time}"), "%Y-%m-%d %H:%M:%S%.f")
                    .ok()
                    .map(|n| n.and_utc())
            })?;
            Some(t)
        })
        .max()
}

/// `45s`, `12m`, `2h13m`, `3d4h`: the largest two units.
pub fn human(d: Duration) -> String {
    let secs = d.num_seconds().max(0);
    let (days, hours, mins) = (secs / 86_400, secs % 86_400 / 3600, secs % 3600 / 60);
    match (days, hours, mins) {
        (0, 0, 0) => format!("{secs}s"),
        (0, 0, m) => format!("{m}m"),
        (0, h, 0) => format!("{h}h"),
        (0, h, m) => format!("{h}h{m}m"),
        (d, 0, _) => format!("{d}d"),
        (d, h, _) => format!("{d}d{h}h"),
    }
}

/// How long ago `since` was, as text, or `None` when it cannot be parsed.
pub fn age(since: Option<&str>, now: DateTime<Utc>) -> Option<Duration> {
    since.and_then(parse).map(|t| now - t)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn must_gather_timestamp_takes_the_latest_line() {
        let text = "2021-08-03 10:12:00.016988581 +0000 UTC m=+0.380233555\n2021-08-03 10:13:47.364145495 +0000 UTC m=+1.355495176\n";
        assert_eq!(
            parse_must_gather_timestamp(text).unwrap().to_rfc3339(),
            "2021-08-03T10:13:47.364145495+00:00"
        );
        assert_eq!(parse_must_gather_timestamp("garbage"), None);
    }

    #[test]
    fn human_durations() {
        assert_eq!(human(Duration::seconds(45)), "45s");
        assert_eq!(human(Duration::minutes(12)), "12m");
        assert_eq!(human(Duration::minutes(133)), "2h13m");
        assert_eq!(human(Duration::hours(9)), "9h");
        assert_eq!(human(Duration::hours(76)), "3d4h");
        assert_eq!(human(Duration::seconds(-5)), "0s");
    }
}
