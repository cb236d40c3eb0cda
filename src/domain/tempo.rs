//! The `tempo` of a maintenance: time left until its expected end, as the IVR reads it.

use chrono::TimeDelta;

/// `1h30m`, `45m`, `2h`, `1d4h`; `0m` once the end has passed. Rounded up, so that the
/// caller is never promised less time than the maintenance needs.
pub fn format(left: TimeDelta) -> String {
    let secs = left.num_seconds().max(0);
    let minutes = (secs + 59) / 60;
    if minutes < 24 * 60 {
        let (h, m) = (minutes / 60, minutes % 60);
        return match (h, m) {
            (0, m) => format!("{m}m"),
            (h, 0) => format!("{h}h"),
            (h, m) => format!("{h}h{m}m"),
        };
    }
    let hours = (minutes + 59) / 60;
    let (d, h) = (hours / 24, hours % 24);
    if h == 0 {
        format!("{d}d")
    } else {
        format!("{d}d{h}h")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn examples() {
        assert_eq!(format(TimeDelta::minutes(90)), "1h30m");
        assert_eq!(format(TimeDelta::seconds(89 * 60 + 1)), "1h30m");
        assert_eq!(format(TimeDelta::minutes(45)), "45m");
        assert_eq!(format(TimeDelta::hours(2)), "2h");
        assert_eq!(format(TimeDelta::hours(28)), "1d4h");
        assert_eq!(format(TimeDelta::hours(48)), "2d");
        assert_eq!(format(TimeDelta::minutes(-5)), "0m");
        assert_eq!(format(TimeDelta::zero()), "0m");
    }

    fn parse(text: &str) -> i64 {
        let mut total = 0;
        let mut n = 0;
        for c in text.chars() {
            match c {
                '0'..='9' => n = n * 10 + (c as i64 - '0' as i64),
                'd' => (total, n) = (total + n * 1440, 0),
                'h' => (total, n) = (total + n * 60, 0),
                'm' => (total, n) = (total + n, 0),
                _ => panic!("unexpected {c}"),
            }
        }
        total
    }

    proptest! {
        #[test]
        fn never_promises_less_than_left(secs in 0i64..10_000_000) {
            let shown = parse(&format(TimeDelta::seconds(secs)));
            prop_assert!(shown * 60 >= secs);
            // and never more than one unit of rounding above it
            let slack = if secs < 86_400 { 60 } else { 3_600 + 60 };
            prop_assert!(shown * 60 - secs < slack);
        }
    }
}
