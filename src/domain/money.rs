//! Money is integer centavos inside; reais with at most two decimals on the wire.

use serde_json::{Number, Value};

/// `4990` → `49.9`, `0` → `0`, `123456` → `1234.56`: a JSON number, never `49.90` as text.
pub fn reais(cents: i64) -> Value {
    if cents % 100 == 0 {
        Value::Number(Number::from(cents / 100))
    } else {
        // Division is correctly rounded, so the shortest representation of the result is
        // the decimal with at most two places.
        Number::from_f64(cents as f64 / 100.0)
            .map(Value::Number)
            .unwrap_or(Value::Null)
    }
}

/// `4990` → `"49,90"`, the Brazilian way, for texts people read.
pub fn brl(cents: i64) -> String {
    let sign = if cents < 0 { "-" } else { "" };
    let cents = cents.unsigned_abs();
    let mut units = (cents / 100).to_string();
    let mut grouped = String::new();
    while units.len() > 3 {
        let tail = units.split_off(units.len() - 3);
        grouped = format!(".{tail}{grouped}");
    }
    format!("{sign}{units}{grouped},{:02}", cents % 100)
}

/// Parses a decimal amount in reais (`"49.9"`, `"1234,56"`) into centavos.
pub fn parse_reais(text: &str) -> Option<i64> {
    let text = text.trim().replace(',', ".");
    let (units, frac) = match text.split_once('.') {
        Some((u, f)) => (u, f),
        None => (text.as_str(), ""),
    };
    if units.is_empty() || frac.len() > 2 || !units.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    if !frac.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let units: i64 = units.parse().ok()?;
    let frac: i64 = if frac.is_empty() {
        0
    } else {
        format!("{frac:0<2}").parse().ok()?
    };
    units.checked_mul(100)?.checked_add(frac)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn wire_numbers() {
        assert_eq!(reais(4990).to_string(), "49.9");
        assert_eq!(reais(70930).to_string(), "709.3");
        assert_eq!(reais(0).to_string(), "0");
        assert_eq!(reais(123456).to_string(), "1234.56");
        assert_eq!(reais(14980).to_string(), "149.8");
        assert_eq!(reais(1).to_string(), "0.01");
    }

    #[test]
    fn brazilian_text() {
        assert_eq!(brl(4990), "49,90");
        assert_eq!(brl(123456789), "1.234.567,89");
        assert_eq!(brl(5), "0,05");
    }

    proptest! {
        #[test]
        fn wire_text_round_trips(cents in 0i64..10_000_000_000) {
            let text = reais(cents).to_string();
            prop_assert_eq!(parse_reais(&text), Some(cents));
            let decimals = text.split_once('.').map(|(_, f)| f.len()).unwrap_or(0);
            prop_assert!(decimals <= 2);
        }
    }
}
