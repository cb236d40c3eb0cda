//! CPF/CNPJ normalization (`domain::document`), alphanumeric CNPJ included. Nothing may
//! panic, and every document that parses must round-trip: through its normalized value, its
//! formatted and lowercased forms, the `*_str` helpers and its own check digits.

#![no_main]

use libfuzzer_sys::fuzz_target;
use ura::domain::document::{self, Kind};

fuzz_target!(|data: &[u8]| {
    let input = String::from_utf8_lossy(data);
    let input = input.as_ref();

    let masked = document::mask_str(input);
    if input.chars().count() != 11 && input.chars().count() != 14 {
        // Not document-shaped: every character past the third is hidden.
        assert_eq!(masked.chars().count(), input.chars().count());
        assert!(masked.chars().skip(3).all(|c| c == '*'), "{masked:?}");
    }
    let _ = document::format_str(input);
    let _ = document::cpf_check_digits(input);
    let _ = document::cnpj_check_digits(input);

    let Some(doc) = document::parse(input) else {
        return;
    };
    let value = doc.as_str();
    let (len, head_len) = match doc.kind() {
        Kind::Cpf => (11, 9),
        Kind::Cnpj => (14, 12),
    };
    assert_eq!(value.len(), len, "{value:?}");
    assert!(
        value
            .bytes()
            .all(|b| b.is_ascii_digit() || b.is_ascii_uppercase()),
        "{value:?}"
    );
    let (head, dvs) = value.split_at(head_len);
    let expected = match doc.kind() {
        Kind::Cpf => document::cpf_check_digits(head),
        Kind::Cnpj => document::cnpj_check_digits(head),
    };
    assert_eq!(expected.as_deref(), Some(dvs));

    let formatted = doc.formatted();
    assert_eq!(document::parse(value).as_ref(), Some(&doc));
    assert_eq!(document::parse(&formatted).as_ref(), Some(&doc));
    assert_eq!(
        document::parse(&formatted.to_lowercase()).as_ref(),
        Some(&doc)
    );
    assert_eq!(document::format_str(value), formatted);
    assert_eq!(document::mask_str(value), doc.masked());
    assert_eq!(doc.to_string(), doc.masked());
    // The mask hides exactly these positions of the formatted value (an alphanumeric CNPJ may
    // hold an `N` of its own elsewhere).
    let hidden: &[usize] = match doc.kind() {
        Kind::Cpf => &[4, 5, 6, 12, 13],
        Kind::Cnpj => &[3, 4, 5, 16, 17],
    };
    let masked = doc.masked();
    assert_eq!(masked.len(), formatted.len());
    for (i, (m, f)) in masked.bytes().zip(formatted.bytes()).enumerate() {
        let expected = if hidden.contains(&i) { b'N' } else { f };
        assert_eq!(m, expected, "{masked:?} at {i}");
    }
});
