//! Checks of an invoice's payment data on the way in (import, admin API): the barcode and
//! the linha digitável must be valid FEBRABAN codes of the same slip, and the PIX code a
//! valid BR Code. Each error names the field, in the operator's language.

use super::{boleto, pix};

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PaymentDataError {
    #[error(
        "codigo_barras inválido: use os 44 dígitos do código de barras com o dígito verificador correto"
    )]
    Barcode,
    #[error("linha_digitavel inválida: use os 47 dígitos com os dígitos verificadores corretos")]
    DigitableLine,
    #[error("linha_digitavel não corresponde ao codigo_barras")]
    Mismatch,
    #[error("codigo_pix inválido: não é um BR Code PIX válido (estrutura ou CRC)")]
    Pix,
}

impl PaymentDataError {
    /// The field at fault, as named in import files and the admin API.
    pub fn field(&self) -> &'static str {
        match self {
            PaymentDataError::Barcode => "codigo_barras",
            PaymentDataError::DigitableLine | PaymentDataError::Mismatch => "linha_digitavel",
            PaymentDataError::Pix => "codigo_pix",
        }
    }
}

/// The normalized (digits only) barcode and linha digitável, once checked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PaymentData {
    pub barcode: Option<String>,
    pub digitable_line: Option<String>,
    pub pix: Option<String>,
}

fn present(v: Option<&str>) -> Option<&str> {
    v.map(str::trim).filter(|v| !v.is_empty())
}

/// Checks what is given (each is optional); when both codes are given they must agree, and
/// a missing one is derived from the other.
pub fn check(
    barcode: Option<&str>,
    digitable_line: Option<&str>,
    pix_code: Option<&str>,
) -> Result<PaymentData, PaymentDataError> {
    let barcode = match present(barcode) {
        Some(b) => {
            let digits: String = b.chars().filter(|c| !c.is_whitespace()).collect();
            if !boleto::validate_barcode(&digits) {
                return Err(PaymentDataError::Barcode);
            }
            Some(digits)
        }
        None => None,
    };
    let from_line = match present(digitable_line) {
        Some(l) => Some(boleto::barcode_from_linha(l).ok_or(PaymentDataError::DigitableLine)?),
        None => None,
    };
    let barcode = match (barcode, from_line) {
        (Some(b), Some(l)) if b != l => return Err(PaymentDataError::Mismatch),
        (Some(b), _) => Some(b),
        (None, l) => l,
    };
    let digitable_line = barcode.as_deref().and_then(boleto::linha_digitavel);
    let pix = match present(pix_code) {
        Some(p) if pix::validate(p) => Some(p.to_string()),
        Some(_) => return Err(PaymentDataError::Pix),
        None => None,
    };
    Ok(PaymentData {
        barcode,
        digitable_line,
        pix,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::NaiveDate;
    use proptest::prelude::*;

    fn sample() -> (String, String, String) {
        let barcode = boleto::barcode(
            "001",
            '9',
            NaiveDate::from_ymd_opt(2026, 12, 10),
            4990,
            "0000000000000000001001002",
        )
        .unwrap();
        let line = boleto::linha_digitavel(&barcode).unwrap();
        let pix = pix::build(&pix::PixPayload {
            key: "12345678000195".into(),
            merchant_name: "PROVEDOR".into(),
            merchant_city: "NATAL".into(),
            amount_cents: Some(4990),
            txid: "FAT1".into(),
        });
        (barcode, line, pix)
    }

    #[test]
    fn valid_data_passes_and_is_completed() {
        let (barcode, line, pix) = sample();
        let checked = check(Some(&barcode), None, Some(&pix)).unwrap();
        assert_eq!(checked.digitable_line.as_deref(), Some(line.as_str()));
        let formatted = boleto::format_linha(&line);
        let checked = check(None, Some(&formatted), None).unwrap();
        assert_eq!(checked.barcode.as_deref(), Some(barcode.as_str()));
        assert_eq!(check(None, None, None).unwrap().barcode, None);
    }

    #[test]
    fn errors_name_the_field() {
        let (barcode, line, pix) = sample();
        let mut bad = barcode.clone().into_bytes();
        bad[10] = if bad[10] == b'9' { b'0' } else { bad[10] + 1 };
        let bad = String::from_utf8(bad).unwrap();
        let e = check(Some(&bad), None, None).unwrap_err();
        assert_eq!(e.field(), "codigo_barras");
        let e = check(None, Some("123"), None).unwrap_err();
        assert_eq!(e.field(), "linha_digitavel");
        let other = boleto::barcode("237", '9', None, 100, "1111111111111111111111111").unwrap();
        let e = check(Some(&other), Some(&line), None).unwrap_err();
        assert_eq!(e, PaymentDataError::Mismatch);
        let broken_pix = format!("{}0", &pix[..pix.len() - 1]);
        let e = check(Some(&barcode), None, Some(&broken_pix)).unwrap_err();
        assert_eq!(e.field(), "codigo_pix");
        assert!(e.to_string().starts_with("codigo_pix inválido"));
    }

    proptest! {
        #[test]
        fn never_panics(b in ".{0,60}", l in ".{0,60}", p in ".{0,200}") {
            let _ = check(Some(&b), Some(&l), Some(&p));
        }

        #[test]
        fn generated_slips_are_accepted(
            bank in 0u32..1000, cents in 1u64..10_000_000_000, free in "[0-9]{25}",
            days in 0i64..3000,
        ) {
            let due = NaiveDate::from_ymd_opt(2025, 3, 1).unwrap() + chrono::Days::new(days as u64);
            let barcode = boleto::barcode(&format!("{bank:03}"), '9', Some(due), cents, &free).unwrap();
            let line = boleto::linha_digitavel(&barcode).unwrap();
            let checked = check(Some(&barcode), Some(&line), None).unwrap();
            prop_assert_eq!(checked.barcode, Some(barcode));
        }
    }
}
