//! Protocol numbers: the local date `YYYYMMDD` followed by the day's sequence, zero-padded to
//! six digits and longer only past 999,999 in a day.

use chrono::NaiveDate;

pub fn format(day: NaiveDate, seq: i64) -> String {
    format!("{}{:06}", day.format("%Y%m%d"), seq)
}

/// The counter key of a day.
pub fn day_key(day: NaiveDate) -> String {
    day.format("%Y%m%d").to_string()
}

/// A well-formed protocol: at least 14 digits whose first 8 are a real date.
pub fn parse(text: &str) -> Option<(NaiveDate, i64)> {
    let text = text.trim();
    if text.len() < 14 || text.len() > 20 || !text.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let day = NaiveDate::parse_from_str(text.get(..8)?, "%Y%m%d").ok()?;
    let seq = text.get(8..)?.parse().ok()?;
    Some((day, seq))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_and_parses() {
        let day = NaiveDate::from_ymd_opt(2026, 11, 29).unwrap();
        assert_eq!(format(day, 42), "20261129000042");
        assert_eq!(format(day, 1_234_567), "202611291234567");
        assert_eq!(parse("20261129000042"), Some((day, 42)));
        assert_eq!(parse("20261329000042"), None);
        assert_eq!(parse("2026112900004"), None);
        assert_eq!(parse("abc"), None);
    }
}
