//! FEBRABAN barcode / linha digitável (`domain::boleto`) and the payment-data check of the
//! import and the admin API (`domain::payment_data::check`). Nothing may panic; a barcode and
//! its linha must convert into each other, formatted or not.
//!
//! Input: the whole text goes through every boleto function; its lines are also the barcode,
//! the linha digitável and the PIX code given to `payment_data::check` (empty = not given).

#![no_main]

use libfuzzer_sys::fuzz_target;
use ura::domain::boleto;
use ura::domain::payment_data;

fn digits(s: &str) -> String {
    s.chars().filter(char::is_ascii_digit).collect()
}

fn exercise(s: &str) {
    let valid = boleto::validate_barcode(s);
    match boleto::linha_digitavel(s) {
        Some(linha) => {
            assert!(valid);
            assert_eq!(linha.len(), 47, "{linha:?}");
            assert_eq!(boleto::barcode_from_linha(&linha).as_deref(), Some(s));
            let formatted = boleto::format_linha(&linha);
            assert_eq!(boleto::barcode_from_linha(&formatted).as_deref(), Some(s));
        }
        None => assert!(!valid, "valid barcode {s:?} without a linha"),
    }
    if let Some(barcode) = boleto::barcode_from_linha(s) {
        assert!(boleto::validate_barcode(&barcode), "{barcode:?}");
        assert_eq!(boleto::linha_digitavel(&barcode), Some(digits(s)));
        assert_eq!(
            boleto::barcode_from_linha(&boleto::format_linha(s)),
            Some(barcode)
        );
    }
    let _ = boleto::format_linha(s);
}

fuzz_target!(|data: &[u8]| {
    let input = String::from_utf8_lossy(data);
    let input = input.as_ref();
    exercise(input);

    let mut lines = input.split('\n');
    let mut next = || lines.next().filter(|l| !l.is_empty());
    let (barcode, linha, pix) = (next(), next(), next());
    for part in [barcode, linha].into_iter().flatten() {
        exercise(part);
    }
    if let Ok(checked) = payment_data::check(barcode, linha, pix) {
        match &checked.barcode {
            Some(b) => {
                assert!(boleto::validate_barcode(b), "{b:?}");
                assert_eq!(checked.digitable_line, boleto::linha_digitavel(b));
            }
            None => assert_eq!(checked.digitable_line, None),
        }
        assert_eq!(
            checked.pix.is_some(),
            pix.is_some_and(|p| !p.trim().is_empty())
        );
    }
});
