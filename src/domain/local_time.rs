//! Date-times on the wire: `YYYY-MM-DD HH:MM:SS` in the operator's time zone.

use chrono::{DateTime, Datelike, LocalResult, NaiveDateTime, TimeZone, Utc};
use chrono_tz::Tz;

const WIRE_FORMAT: &str = "%Y-%m-%d %H:%M:%S";

/// Accepted besides the wire format: a `T` instead of the space, minutes without seconds.
const INPUT_FORMATS: [&str; 4] = [
    "%Y-%m-%d %H:%M:%S",
    "%Y-%m-%dT%H:%M:%S",
    "%Y-%m-%d %H:%M",
    "%Y-%m-%dT%H:%M",
];

/// Parses a local date-time of `tz` (or an RFC 3339 one with its own offset). A local time
/// that happens twice (a clock set back) is the first; one that never happens (a clock set
/// forward) or a year outside 1970–9999 is refused.
pub fn parse(text: &str, tz: Tz) -> Option<DateTime<Utc>> {
    let text = text.trim();
    let utc = match DateTime::parse_from_rfc3339(text) {
        Ok(t) => t.to_utc(),
        Err(_) => {
            let naive = INPUT_FORMATS
                .iter()
                .find_map(|f| NaiveDateTime::parse_from_str(text, f).ok())?;
            match tz.from_local_datetime(&naive) {
                LocalResult::Single(t) | LocalResult::Ambiguous(t, _) => t.to_utc(),
                LocalResult::None => return None,
            }
        }
    };
    (1970..=9999).contains(&utc.year()).then_some(utc)
}

/// `2026-11-29 08:00:00` in `tz`.
pub fn format(t: DateTime<Utc>, tz: Tz) -> String {
    t.with_timezone(&tz).format(WIRE_FORMAT).to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    const SP: Tz = chrono_tz::America::Sao_Paulo;

    fn utc(text: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(text).unwrap().to_utc()
    }

    #[test]
    fn local_times_round_trip() {
        let t = parse("2026-11-29 08:00:00", SP).unwrap();
        assert_eq!(t, utc("2026-11-29T11:00:00Z"));
        assert_eq!(format(t, SP), "2026-11-29 08:00:00");
        assert_eq!(parse("2026-11-29T08:00:00", SP), Some(t));
        assert_eq!(parse(" 2026-11-29 08:00 ", SP), Some(t));
        assert_eq!(parse("2026-11-29T11:00:00Z", SP), Some(t));
        assert_eq!(parse("2026-11-29T08:00:00-03:00", SP), Some(t));
        assert_eq!(
            format(
                parse("2026-11-29 08:00:00", chrono_tz::America::Manaus).unwrap(),
                SP
            ),
            "2026-11-29 09:00:00"
        );
    }

    #[test]
    fn bad_input_is_refused() {
        for text in [
            "",
            "2026-11-29",
            "29/11/2026 08:00:00",
            "2026-02-30 08:00:00",
            "2026-11-29 24:00:00",
            "1969-06-01 00:00:00",
            "amanhã",
        ] {
            assert_eq!(parse(text, SP), None, "{text:?}");
        }
    }

    #[test]
    fn a_local_time_that_never_happens_is_refused() {
        // New York, 2026-03-08: 02:00 jumps to 03:00.
        let ny = chrono_tz::America::New_York;
        assert_eq!(parse("2026-03-08 02:30:00", ny), None);
        // 2026-11-01: 01:30 happens twice; the first is taken.
        assert_eq!(
            parse("2026-11-01 01:30:00", ny),
            Some(utc("2026-11-01T05:30:00Z"))
        );
    }
}
