//! The nosso número reduced to one form, so that an invoice registered with the number as the
//! return file prints it, or as the bank's slip prints it, matches the return file's line.
//!
//! Each bank writes the number its own way: with or without its check digit (DV), behind a
//! carteira or convênio prefix, zero-padded to the field. The key keeps only the part that
//! identifies the boleto (letters and digits, no leading zeros, upper case). A check digit is
//! recognised when the slip separates it ("…-D") or when the number has the exact length the
//! bank's return file gives it with the DV. Stored per invoice: the rules must stay stable.

/// The key an invoice's nosso número and a return file's are compared by. `bank` is the
/// three-digit bank code when known ("1" and "001" are the same bank).
pub fn key(bank: Option<&str>, raw: &str) -> String {
    let core = match bank.and_then(bank_code).as_deref() {
        // Banco do Brasil: convênio of 7 digits + 10-digit sequence, no DV; the convênio is
        // dropped so that the sequence alone matches too.
        Some("001") => {
            let d = alnum(before_dv(raw));
            if d.len() == 17 { d[7..].to_string() } else { d }
        }
        // Bradesco: slip "09/00000012345-P" (carteira / 11 digits - DV); return 400 prints
        // the 11 digits + DV, return 240 the carteira, zeros, the 11 digits and the DV.
        Some("237") => {
            let s = after_prefix(raw);
            if has_dv(s) {
                alnum(before_dv(s))
            } else {
                let d = alnum(s);
                match d.len() {
                    20 => d[8..19].to_string(),
                    12 => d[..11].to_string(),
                    _ => d,
                }
            }
        }
        // Caixa SIGCB: modalidade (2 digits) + 15 digits; the slip adds "-DV".
        Some("104") => {
            let d = alnum(before_dv(raw));
            if d.len() == 17 { d[2..].to_string() } else { d }
        }
        // Itaú: slip "109/12345678-9" (carteira / 8 digits - DAC); returns print the 8 digits.
        Some("341") => {
            let s = after_prefix(raw);
            if has_dv(s) {
                alnum(before_dv(s))
            } else {
                let d = alnum(s);
                match d.len() {
                    12 => d[3..11].to_string(),
                    11 => d[3..].to_string(),
                    9 => d[..8].to_string(),
                    _ => d,
                }
            }
        }
        // Santander: the returns print the DV last (240: 12 + DV, 400: 7 + DV).
        Some("033") => drop_dv_by_length(raw, &[13, 8], 1),
        // Sicredi: "YY/BNNNNN-D"; the returns print all nine digits, DV included.
        Some("748") => alnum(raw),
        // Sicoob: 7 digits + DV; the returns print it zero-padded (240: 10, 400: 12).
        Some("756") => drop_dv_by_length(raw, &[10, 12], 1),
        // Banrisul: 8 digits + 2 check digits (NC), in 10 positions.
        Some("041") => {
            if let Some(i) = raw.rfind(['-', '.']) {
                alnum(&raw[..i])
            } else {
                drop_dv_by_length(raw, &[10], 2)
            }
        }
        // Inter: slip "112/NNNNNNNNNN-D"; the return prints the 10 digits + DV.
        Some("077") => drop_dv_by_length(after_prefix(raw), &[11], 1),
        // BTG Pactual and any other bank: a DV the slip separates is dropped.
        Some(_) => alnum(before_dv(raw)),
        None => alnum(raw),
    };
    let trimmed = core.trim_start_matches('0');
    if trimmed.is_empty() {
        "0".to_string()
    } else {
        trimmed.to_ascii_uppercase()
    }
}

/// "1", "001", " 237 " → "001", "237"; anything else is no bank.
fn bank_code(bank: &str) -> Option<String> {
    let b = bank.trim();
    if b.is_empty() || b.len() > 3 || !b.chars().all(|c| c.is_ascii_digit()) {
        return None;
    }
    Some(format!("{b:0>3}"))
}

fn alnum(s: &str) -> String {
    s.chars().filter(char::is_ascii_alphanumeric).collect()
}

fn has_dv(s: &str) -> bool {
    s.contains('-')
}

/// The part before a separated check digit ("12345-6" → "12345").
fn before_dv(s: &str) -> &str {
    s.rfind('-').map_or(s, |i| &s[..i])
}

/// The part after a carteira prefix ("109/12345678-9" → "12345678-9").
fn after_prefix(s: &str) -> &str {
    s.find('/').map_or(s, |i| &s[i + 1..])
}

/// Drops a separated DV, or `dv` trailing characters when the number has one of the lengths
/// the bank's return files print it with.
fn drop_dv_by_length(raw: &str, lengths: &[usize], dv: usize) -> String {
    if has_dv(raw) {
        return alnum(before_dv(raw));
    }
    let d = alnum(raw);
    if lengths.contains(&d.len()) {
        d[..d.len() - dv].to_string()
    } else {
        d
    }
}

#[cfg(test)]
mod tests {
    use super::key;

    /// (bank, as the slip prints it, as the return files print it, key)
    const SAME: &[(&str, &str, &str, &str)] = &[
        ("001", "12345670000000101", "12345670000000101", "101"),
        ("001", "101", "12345670000000101", "101"),
        ("237", "09/00000023701-8", "000000237018", "23701"),
        ("237", "09/00000023701-P", "0090000000000023701P", "23701"),
        ("237", "23701", "000000237018", "23701"),
        ("104", "14000000000010401-4", "14000000000010401", "10401"),
        ("104", "14/000000000010401-4", "14000000000010401", "10401"),
        ("341", "109/00034101-0", "00034101", "34101"),
        ("341", "109/34101-0", "00034101", "34101"),
        ("341", "109000341010", "00034101", "34101"),
        ("033", "000000003301-4", "0000000033014", "3301"),
        ("033", "0003311-1", "00033111", "3311"),
        ("033", "3301", "0000000033014", "3301"),
        ("748", "26/274801-0", "262748010", "262748010"),
        ("756", "0075601-6", "0000756016", "75601"),
        ("756", "0075611-3", "000000756113", "75611"),
        ("041", "00004101-71", "0000410171", "4101"),
        ("041", "00004101.71", "0000410171", "4101"),
        ("077", "112/0000007711-9", "00000077119", "7711"),
        ("208", "20801", "00000000000000020801", "20801"),
        ("208", "20801-3", "00000000000000020801", "20801"),
    ];

    #[test]
    fn slip_and_return_forms_give_the_same_key() {
        for (bank, slip, ret, expected) in SAME {
            assert_eq!(key(Some(bank), slip), *expected, "{bank} slip {slip}");
            assert_eq!(key(Some(bank), ret), *expected, "{bank} return {ret}");
        }
    }

    #[test]
    fn different_numbers_give_different_keys() {
        for (bank, a, b) in [
            ("001", "12345670000000101", "12345670000000102"),
            ("237", "000000237018", "000000237026"),
            ("104", "14000000000010401", "14000000000010402"),
            ("341", "00034101", "00034102"),
            ("033", "0000000033014", "0000000033022"),
            ("748", "262748010", "262748029"),
            ("756", "0000756016", "0000756024"),
            ("041", "0000410171", "0000410259"),
            ("077", "00000077119", "00000077127"),
            ("208", "20801", "20802"),
        ] {
            assert_ne!(key(Some(bank), a), key(Some(bank), b), "{bank}");
        }
        assert_ne!(key(None, "123"), key(None, "1230"));
    }

    #[test]
    fn generic_rule_without_bank() {
        assert_eq!(key(None, "000123"), "123");
        assert_eq!(key(None, " 12.345-6 "), "123456");
        assert_eq!(key(None, "ab-01"), "AB01");
        assert_eq!(key(None, "0000"), "0");
        assert_eq!(key(None, ""), "0");
        // An unknown or malformed bank code falls back to the generic rule.
        assert_eq!(key(Some("banco"), "000123"), "123");
    }

    #[test]
    fn bank_code_forms_are_the_same_bank() {
        assert_eq!(
            key(Some("1"), "12345670000000101"),
            key(Some("001"), "12345670000000101")
        );
        assert_eq!(key(Some("77"), "00000077119"), "7711");
    }

    #[test]
    fn keys_are_stable() {
        // Stored per invoice: these exact outputs must not change.
        assert_eq!(key(Some("237"), "09/00000023701-8"), "23701");
        assert_eq!(key(Some("748"), "26/274801-0"), "262748010");
        assert_eq!(key(Some("001"), "12345670000000101"), "101");
        assert_eq!(key(None, "ABC-1"), "ABC1");
    }
}
