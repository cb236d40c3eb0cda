//! FEBRABAN boleto arithmetic: the 44-digit barcode and the 47-digit linha digitável.
//!
//! Barcode layout: bank(3) currency(1) DV(1) due factor(4) amount(10) free field(25).
//! Linha layout: [bank+currency+free 0..5 + DV] [free 5..15 + DV] [free 15..25 + DV]
//! [general DV] [factor + amount].

use chrono::NaiveDate;

const BARCODE_LEN: usize = 44;
const LINHA_LEN: usize = 47;
const FREE_FIELD_LEN: usize = 25;
const MAX_AMOUNT_CENTS: u64 = 9_999_999_999;

/// Characters people and banks put between groups of a linha digitável.
const LINHA_SEPARATORS: &[char] = &['.', ' ', '-', '\t', '\n', '\r'];

/// Builds the 44-digit barcode, or `None` if a part is malformed, the amount needs more
/// than 10 digits or the due date predates the factor range.
pub fn barcode(
    bank: &str,
    currency: char,
    due: Option<NaiveDate>,
    amount_cents: u64,
    free_field: &str,
) -> Option<String> {
    if !is_digits(bank, 3)
        || !currency.is_ascii_digit()
        || !is_digits(free_field, FREE_FIELD_LEN)
        || amount_cents > MAX_AMOUNT_CENTS
    {
        return None;
    }
    let factor = match due {
        // Factor zero means "no due date" (payable any time).
        None => 0,
        Some(date) => due_factor(date)?,
    };
    let head = format!("{bank}{currency}");
    let tail = format!("{factor:04}{amount_cents:010}{free_field}");
    let dv = general_dv(head.bytes().chain(tail.bytes()));
    Some(format!("{head}{dv}{tail}"))
}

/// Due factor: days since 1997-10-07, wrapping back to 1000 after 9999, so 2025-02-21 is
/// 9999 and 2025-02-22 is 1000 again. `None` for dates before 2000-07-03 (factor 1000 of
/// the first cycle), which are ambiguous and long expired anyway.
pub fn due_factor(date: NaiveDate) -> Option<u16> {
    let base = NaiveDate::from_ymd_opt(1997, 10, 7)?;
    let days = date.signed_duration_since(base).num_days();
    if days < 1000 {
        return None;
    }
    u16::try_from((days - 1000) % 9000 + 1000).ok()
}

/// The 47-digit linha digitável (digits only) for a valid barcode.
pub fn linha_digitavel(barcode44: &str) -> Option<String> {
    if !validate_barcode(barcode44) {
        return None;
    }
    let b = barcode44;
    let field1 = format!("{}{}", b.get(0..4)?, b.get(19..24)?);
    let field2 = b.get(24..34)?;
    let field3 = b.get(34..44)?;
    let general = b.get(4..5)?;
    let field5 = b.get(5..19)?;
    Some(format!(
        "{field1}{}{field2}{}{field3}{}{general}{field5}",
        mod10_dv(&field1),
        mod10_dv(field2),
        mod10_dv(field3),
    ))
}

/// Inverse of [`linha_digitavel`]: checks every DV and returns the barcode. Dots, dashes and
/// whitespace are ignored since people copy the line formatted; anything else is rejected.
pub fn barcode_from_linha(linha47: &str) -> Option<String> {
    if !linha47
        .chars()
        .all(|c| c.is_ascii_digit() || LINHA_SEPARATORS.contains(&c))
    {
        return None;
    }
    let digits: String = linha47.chars().filter(char::is_ascii_digit).collect();
    if digits.len() != LINHA_LEN {
        return None;
    }
    let d = digits.as_str();
    let (field1, dv1) = (d.get(0..9)?, d.get(9..10)?);
    let (field2, dv2) = (d.get(10..20)?, d.get(20..21)?);
    let (field3, dv3) = (d.get(21..31)?, d.get(31..32)?);
    let (general, field5) = (d.get(32..33)?, d.get(33..47)?);
    for (field, dv) in [(field1, dv1), (field2, dv2), (field3, dv3)] {
        if mod10_dv(field).to_string() != dv {
            return None;
        }
    }
    let barcode = format!(
        "{}{general}{field5}{}{field2}{field3}",
        field1.get(0..4)?,
        field1.get(4..9)?
    );
    validate_barcode(&barcode).then_some(barcode)
}

/// 44 digits whose general (modulo 11) DV matches.
pub fn validate_barcode(b: &str) -> bool {
    if !is_digits(b, BARCODE_LEN) {
        return false;
    }
    let Some((head, rest)) = b.as_bytes().split_at_checked(4) else {
        return false;
    };
    let Some((&dv, tail)) = rest.split_first() else {
        return false;
    };
    let expected = general_dv(head.iter().chain(tail).copied());
    dv == b'0' + expected
}

/// `00190.50095 40144.816069 06809.350314 3 37370000000100`; input that is not a 47-digit
/// line (separators allowed) comes back unchanged.
pub fn format_linha(linha47: &str) -> String {
    let only_digits_and_separators = linha47
        .chars()
        .all(|c| c.is_ascii_digit() || LINHA_SEPARATORS.contains(&c));
    let digits: String = linha47.chars().filter(char::is_ascii_digit).collect();
    if !only_digits_and_separators || digits.len() != LINHA_LEN {
        return linha47.to_string();
    }
    // Group sizes after which a '.' or ' ' goes: 5.5 5.6 5.6 1 14.
    let mut out = String::with_capacity(LINHA_LEN + 7);
    for (i, c) in digits.chars().enumerate() {
        match i {
            5 | 15 | 26 => out.push('.'),
            10 | 21 | 32 | 33 => out.push(' '),
            _ => {}
        }
        out.push(c);
    }
    out
}

fn is_digits(s: &str, len: usize) -> bool {
    s.len() == len && s.bytes().all(|b| b.is_ascii_digit())
}

/// FEBRABAN modulo 11 over the 43 non-DV digits: weights 2..9 from the right, and results
/// 0, 10 and 11 become 1 so the DV is never 0.
fn general_dv(digits: impl DoubleEndedIterator<Item = u8>) -> u8 {
    let sum: u32 = digits
        .rev()
        .zip((2..=9).cycle())
        .map(|(b, w)| u32::from(b.wrapping_sub(b'0')) * w)
        .sum();
    match 11 - sum % 11 {
        0 | 10 | 11 => 1,
        // 1..=9 here, so the narrowing cannot lose anything.
        r => u8::try_from(r).unwrap_or(1),
    }
}

/// FEBRABAN modulo 10: weights 2,1,2,1… from the right, summing the digits of each product.
fn mod10_dv(digits: &str) -> u32 {
    let sum: u32 = digits
        .bytes()
        .rev()
        .zip([2u32, 1].into_iter().cycle())
        .map(|(b, w)| {
            let p = u32::from(b.wrapping_sub(b'0')) * w;
            p / 10 + p % 10
        })
        .sum();
    (10 - sum % 10) % 10
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::Days;
    use proptest::prelude::*;

    const EXAMPLE_BARCODE: &str = "00193373700000001000500940144816060680935031";
    const EXAMPLE_LINHA: &str = "00190500954014481606906809350314337370000000100";

    fn ymd(y: i32, m: u32, d: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, d).expect("valid date")
    }

    #[test]
    fn known_banco_do_brasil_example() {
        assert!(validate_barcode(EXAMPLE_BARCODE));
        assert_eq!(
            linha_digitavel(EXAMPLE_BARCODE).as_deref(),
            Some(EXAMPLE_LINHA)
        );
        assert_eq!(
            barcode_from_linha(EXAMPLE_LINHA).as_deref(),
            Some(EXAMPLE_BARCODE)
        );
        let formatted = format_linha(EXAMPLE_LINHA);
        assert_eq!(
            formatted,
            "00190.50095 40144.816069 06809.350314 3 37370000000100"
        );
        assert_eq!(
            barcode_from_linha(&formatted).as_deref(),
            Some(EXAMPLE_BARCODE)
        );
        // Factor 3737 is 2007-12-31 in the first cycle.
        let built = barcode(
            "001",
            '9',
            Some(ymd(2007, 12, 31)),
            100,
            "0500940144816060680935031",
        );
        assert_eq!(built.as_deref(), Some(EXAMPLE_BARCODE));
    }

    #[test]
    fn due_factor_wraps_in_2025() {
        assert_eq!(due_factor(ymd(2000, 7, 3)), Some(1000));
        assert_eq!(due_factor(ymd(2007, 12, 31)), Some(3737));
        assert_eq!(due_factor(ymd(2025, 2, 21)), Some(9999));
        assert_eq!(due_factor(ymd(2025, 2, 22)), Some(1000));
        assert_eq!(due_factor(ymd(2025, 2, 23)), Some(1001));
        assert_eq!(due_factor(ymd(2000, 7, 2)), None);
        let free = "0".repeat(25);
        let no_due = barcode("341", '9', None, 4990, &free).expect("valid parts");
        assert_eq!(no_due.get(5..9), Some("0000"));
        assert_eq!(no_due.get(9..19), Some("0000004990"));
    }

    #[test]
    fn rejects_bad_parts() {
        let free = "1".repeat(25);
        assert!(barcode("001", '9', None, MAX_AMOUNT_CENTS, &free).is_some());
        assert_eq!(barcode("001", '9', None, MAX_AMOUNT_CENTS + 1, &free), None);
        assert_eq!(barcode("01", '9', None, 1, &free), None);
        assert_eq!(barcode("00a", '9', None, 1, &free), None);
        assert_eq!(barcode("001", 'X', None, 1, &free), None);
        assert_eq!(barcode("001", '9', None, 1, &free[1..]), None);
        assert_eq!(barcode("001", '9', Some(ymd(1999, 1, 1)), 1, &free), None);
    }

    #[test]
    fn rejects_bad_lines_and_barcodes() {
        assert!(!validate_barcode(""));
        assert!(!validate_barcode(&EXAMPLE_BARCODE.replace('3', "4")));
        assert!(!validate_barcode(
            "0019337370000000100050094014481606068093503"
        ));
        assert_eq!(
            linha_digitavel("00194373700000001000500940144816060680935031"),
            None
        );
        assert_eq!(barcode_from_linha(""), None);
        assert_eq!(barcode_from_linha(&format!("{EXAMPLE_LINHA}0")), None);
        assert_eq!(barcode_from_linha(&format!("x{EXAMPLE_LINHA}")), None);
        assert_eq!(format_linha("not a line"), "not a line");
    }

    fn parts() -> impl Strategy<Value = (String, Option<NaiveDate>, u64, String)> {
        (
            "[0-9]{3}",
            prop::option::of(0u64..40_000),
            0..=MAX_AMOUNT_CENTS,
            "[0-9]{25}",
        )
            .prop_map(|(bank, offset, amount, free)| {
                let due = offset.and_then(|d| ymd(2000, 7, 3).checked_add_days(Days::new(d)));
                (bank, due, amount, free)
            })
    }

    proptest! {
        #[test]
        fn generated_barcodes_round_trip((bank, due, amount, free) in parts()) {
            let b = barcode(&bank, '9', due, amount, &free).expect("valid parts");
            prop_assert_eq!(b.len(), BARCODE_LEN);
            prop_assert!(validate_barcode(&b));
            let linha = linha_digitavel(&b).expect("valid barcode");
            prop_assert_eq!(linha.len(), LINHA_LEN);
            prop_assert!(linha.bytes().all(|c| c.is_ascii_digit()));
            prop_assert_eq!(barcode_from_linha(&linha), Some(b.clone()));
            prop_assert_eq!(barcode_from_linha(&format_linha(&linha)), Some(b.clone()));
        }

        #[test]
        fn single_digit_change_in_linha_is_caught(
            (bank, due, amount, free) in parts(),
            at in 0usize..LINHA_LEN,
            delta in 1u8..10,
        ) {
            let b = barcode(&bank, '9', due, amount, &free).expect("valid parts");
            let linha = linha_digitavel(&b).expect("valid barcode");
            let mut bytes = linha.into_bytes();
            bytes[at] = b'0' + (bytes[at] - b'0' + delta) % 10;
            let altered = String::from_utf8(bytes).expect("ascii");
            let result = barcode_from_linha(&altered);
            if at < 32 {
                // Fields 1-3 and their DVs: modulo 10 catches every single-digit change.
                prop_assert_eq!(result, None);
            } else {
                // Fields 4-5 rely on the modulo 11 DV, whose 0/10/11 → 1 folding lets a few
                // changes through; those must at least yield a different, consistent barcode.
                prop_assert_ne!(result.as_ref(), Some(&b));
                if let Some(other) = result {
                    prop_assert!(validate_barcode(&other));
                }
            }
        }

        #[test]
        fn never_panics(s in any::<String>(), t in "[0-9. ]{40,60}") {
            for input in [&s, &t] {
                let _ = validate_barcode(input);
                let _ = linha_digitavel(input);
                let _ = barcode_from_linha(input);
                let _ = format_linha(input);
            }
        }
    }
}
