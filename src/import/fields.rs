//! Checks of single values, each error naming the line and the field in the operator's
//! language. A CPF/CNPJ is never echoed in full: only masked.

use chrono::NaiveDate;

use super::source::Row;
use crate::domain::{document, money};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LineError {
    pub line: usize,
    pub field: String,
    pub reason: String,
}

impl std::fmt::Display for LineError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "linha {}: {}: {}", self.line, self.field, self.reason)
    }
}

pub fn err(line: usize, field: &str, reason: impl Into<String>) -> LineError {
    LineError {
        line,
        field: field.into(),
        reason: reason.into(),
    }
}

pub fn required<'a>(row: &Row<'a>, field: &str) -> Result<&'a str, LineError> {
    row.get(field)
        .ok_or_else(|| err(row.line, field, "obrigatório"))
}

/// A required id: a positive integer.
pub fn id(row: &Row<'_>, field: &str) -> Result<i64, LineError> {
    let text = required(row, field)?;
    positive(row.line, field, text)
}

/// An optional reference to another record's id.
pub fn opt_id(row: &Row<'_>, field: &str) -> Result<Option<i64>, LineError> {
    row.get(field)
        .map(|t| positive(row.line, field, t))
        .transpose()
}

fn positive(line: usize, field: &str, text: &str) -> Result<i64, LineError> {
    text.parse::<i64>()
        .ok()
        .filter(|v| *v > 0)
        .ok_or_else(|| err(line, field, "use um número inteiro positivo"))
}

/// An optional integer within `range`, `default` when empty.
pub fn int_in(
    row: &Row<'_>,
    field: &str,
    range: std::ops::RangeInclusive<i64>,
    default: i64,
) -> Result<i64, LineError> {
    match row.get(field) {
        None => Ok(default),
        Some(t) => t
            .parse::<i64>()
            .ok()
            .filter(|v| range.contains(v))
            .ok_or_else(|| {
                err(
                    row.line,
                    field,
                    format!(
                        "use um número inteiro de {} a {}",
                        range.start(),
                        range.end()
                    ),
                )
            }),
    }
}

/// `AAAA-MM-DD` or `DD/MM/AAAA`.
pub fn date(row: &Row<'_>, field: &str) -> Result<Option<NaiveDate>, LineError> {
    match row.get(field) {
        None => Ok(None),
        Some(t) => NaiveDate::parse_from_str(t, "%Y-%m-%d")
            .or_else(|_| NaiveDate::parse_from_str(t, "%d/%m/%Y"))
            .map(Some)
            .map_err(|_| {
                err(
                    row.line,
                    field,
                    "data inválida: use AAAA-MM-DD ou DD/MM/AAAA",
                )
            }),
    }
}

/// An amount in reais (`49.90`, `49,90`), in centavos.
pub fn reais(row: &Row<'_>, field: &str) -> Result<Option<i64>, LineError> {
    match row.get(field) {
        None => Ok(None),
        Some(t) => money::parse_reais(t)
            .map(Some)
            .ok_or_else(|| err(row.line, field, "valor inválido: use 49.90 ou 49,90")),
    }
}

/// `sim`/`não`, `1`/`0`, `true`/`false`; `default` when empty.
pub fn flag(row: &Row<'_>, field: &str, default: bool) -> Result<bool, LineError> {
    match row.get(field).map(str::to_lowercase).as_deref() {
        None => Ok(default),
        Some("sim" | "s" | "1" | "true" | "verdadeiro") => Ok(true),
        Some("não" | "nao" | "n" | "0" | "false" | "falso") => Ok(false),
        Some(_) => Err(err(row.line, field, "use sim ou não (ou 1 e 0)")),
    }
}

/// Free text with runs of whitespace made one space.
pub fn clean(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// A CPF or CNPJ (alphanumeric included) with valid check digits, normalized.
pub fn document(row: &Row<'_>, field: &str) -> Result<String, LineError> {
    let text = required(row, field)?;
    if let Some(doc) = document::parse(text).or_else(|| restore_zeros(text)) {
        return Ok(doc.as_str().to_string());
    }
    let alnum: String = text
        .chars()
        .filter(char::is_ascii_alphanumeric)
        .map(|c| c.to_ascii_uppercase())
        .collect();
    let digits = alnum.chars().filter(char::is_ascii_digit).count();
    let reason = if alnum.len() == 14 || digits == 11 || digits == 14 {
        "CPF/CNPJ inválido: dígitos verificadores não conferem"
    } else {
        "CPF/CNPJ inválido: use 11 dígitos (CPF) ou 14 caracteres (CNPJ)"
    };
    Err(err(
        row.line,
        field,
        format!("{reason} ({})", document::mask_str(&alnum)),
    ))
}

/// A spreadsheet that took a CPF/CNPJ for a number dropped its leading zeros: they are put
/// back when the result has valid check digits.
fn restore_zeros(text: &str) -> Option<document::Document> {
    if !text.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let width = match text.len() {
        8..=10 => 11,
        12 | 13 => 14,
        _ => return None,
    };
    document::parse(&format!("{text:0>width$}"))
}

/// Several values in one cell, separated by `;`, `,` or `|`.
pub fn list<'a>(row: &Row<'a>, field: &str) -> Vec<&'a str> {
    row.get(field)
        .map(|t| {
            t.split([';', ',', '|'])
                .map(str::trim)
                .filter(|v| !v.is_empty())
                .collect()
        })
        .unwrap_or_default()
}

/// `nome@dominio.com.br`: one `@`, a local part, a domain with a dot, no spaces.
pub fn is_email(text: &str) -> bool {
    let Some((local, domain)) = text.split_once('@') else {
        return false;
    };
    let labels_ok = domain.split('.').all(|l| {
        !l.is_empty()
            && !l.starts_with('-')
            && !l.ends_with('-')
            && l.chars().all(|c| c.is_alphanumeric() || c == '-')
    });
    !local.is_empty()
        && local.len() <= 64
        && text.len() <= 254
        && !local.starts_with('.')
        && !local.ends_with('.')
        && !local.contains("..")
        && local
            .chars()
            .all(|c| !c.is_whitespace() && !c.is_control() && !"@<>()[]\\,;:\"".contains(c))
        && domain.contains('.')
        && labels_ok
}

/// A Brazilian number as its digits with the area code (DDD): `+55 (84) 99138-0000` →
/// `84991380000`. Mobiles have 11 digits and a 9 after the DDD; landlines 10.
pub fn phone(text: &str, mobile: bool) -> Option<String> {
    if !text
        .chars()
        .all(|c| c.is_ascii_digit() || " +-().".contains(c))
    {
        return None;
    }
    let mut digits: String = text.chars().filter(char::is_ascii_digit).collect();
    if text.trim_start().starts_with('+') || digits.len() > 11 {
        digits = digits.strip_prefix("55")?.to_string();
    }
    if digits.len() == 11 && digits.starts_with('0') {
        digits.remove(0);
    }
    let ddd_ok = digits
        .get(..2)
        .is_some_and(|d| !d.contains('0') && d.bytes().all(|b| b.is_ascii_digit()));
    let ok = if mobile {
        digits.len() == 11 && digits.as_bytes()[2] == b'9'
    } else {
        digits.len() == 10 || (digits.len() == 11 && digits.as_bytes()[2] == b'9')
    };
    (ddd_ok && ok).then_some(digits)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn emails() {
        for ok in [
            "a@b.co",
            "maria.silva@example.com.br",
            "x+y@sub-dom.example.org",
        ] {
            assert!(is_email(ok), "{ok}");
        }
        for bad in [
            "",
            "a",
            "a@b",
            "@b.com",
            "a@.com",
            "a@b..com",
            "a b@c.com",
            "a@b.com.",
            ".a@b.com",
            "a@@b.com",
            "a@-b.com",
        ] {
            assert!(!is_email(bad), "{bad}");
        }
    }

    #[test]
    fn phones() {
        assert_eq!(
            phone("(84) 99138-0000", true).as_deref(),
            Some("84991380000")
        );
        assert_eq!(
            phone("+55 84 99138-0000", true).as_deref(),
            Some("84991380000")
        );
        assert_eq!(phone("5584991380000", true).as_deref(), Some("84991380000"));
        assert_eq!(phone("084991380000", true), None);
        assert_eq!(
            phone("(84) 3211-0000", false).as_deref(),
            Some("8432110000")
        );
        assert_eq!(phone("(84) 3211-0000", true), None);
        assert_eq!(phone("84991380000", false).as_deref(), Some("84991380000"));
        assert_eq!(phone("9138-0000", false), None);
        assert_eq!(phone("(04) 3211-0000", false), None);
        assert_eq!(phone("84 99138 000a", true), None);
    }

    #[test]
    fn documents_are_masked_in_errors() {
        let columns = vec!["cpfcnpj".to_string()];
        for (value, expected) in [
            (
                "529.982.247-26",
                "dígitos verificadores não conferem (529.NNN.247-NN)",
            ),
            (
                "12.ABC.345/01DE-36",
                "dígitos verificadores não conferem (12.NNN.345/01DE-NN)",
            ),
            (
                "1234",
                "use 11 dígitos (CPF) ou 14 caracteres (CNPJ) (123*)",
            ),
        ] {
            let values = vec![Some(value.to_string())];
            let e = document(&Row::new(7, &columns, &values), "cpfcnpj").unwrap_err();
            assert!(e.reason.ends_with(expected), "{value}: {}", e.reason);
            assert_eq!((e.line, e.field.as_str()), (7, "cpfcnpj"));
        }
        // Leading zeros a spreadsheet dropped are restored when the check digits agree.
        for (value, expected) in [("1234567890", "01234567890"), ("191000191", "00191000191")] {
            let values = vec![Some(value.to_string())];
            let ok = document(&Row::new(2, &columns, &values), "cpfcnpj").unwrap();
            assert_eq!(ok, expected);
        }
        let values = vec![Some("1234567891".to_string())];
        assert!(document(&Row::new(2, &columns, &values), "cpfcnpj").is_err());
        let values = vec![Some("12.abc.345/01de-35".to_string())];
        let ok = document(&Row::new(2, &columns, &values), "cpfcnpj").unwrap();
        assert_eq!(ok, "12ABC34501DE35");
    }
}
