//! Field tables and the one reader that applies them. A table lists the fields of one record
//! kind as the bank's manual prints them: 1-based, inclusive positions.

use chrono::NaiveDate;

use super::ParseError;

/// How a field is written and read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// Digits only (a blank field is refused).
    Num,
    /// Amount in centavos, digits only (the last two are the decimals); blank reads as 0.
    Money,
    /// Free text (Latin-1), trimmed.
    Text,
    /// A code (occurrence, nosso número): letters and digits only once trimmed, not blank.
    Code,
    /// DDMMAA; zeros or blanks read as no date.
    Date6,
    /// DDMMAAAA; zeros or blanks read as no date.
    Date8,
    /// AAAAMMDD; zeros or blanks read as no date.
    Date8Ymd,
    /// Motive codes of this width side by side; blank and all-zero codes are dropped.
    Codes(usize),
    /// Exactly this text (record and segment types, literals such as "RETORNO").
    Lit(&'static str),
}

/// One field of a record.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FieldSpec {
    pub name: &'static str,
    pub start: usize,
    pub end: usize,
    pub kind: Kind,
}

/// The fields of one record kind.
pub type Layout = &'static [FieldSpec];

/// Shorthand for the tables.
pub const fn f(name: &'static str, start: usize, end: usize, kind: Kind) -> FieldSpec {
    FieldSpec {
        name,
        start,
        end,
        kind,
    }
}

#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    Int(u64),
    Cents(i64),
    Text(String),
    Date(Option<NaiveDate>),
    Codes(Vec<String>),
}

/// A record read through a table: every field checked, values by name.
#[derive(Debug, Clone)]
pub struct Fields {
    values: Vec<(&'static str, Value)>,
}

impl Fields {
    fn get(&self, name: &str) -> Option<&Value> {
        self.values.iter().find(|(n, _)| *n == name).map(|(_, v)| v)
    }

    pub fn text(&self, name: &str) -> String {
        match self.get(name) {
            Some(Value::Text(t)) => t.clone(),
            Some(Value::Int(n)) => n.to_string(),
            _ => String::new(),
        }
    }

    pub fn int(&self, name: &str) -> Option<u64> {
        match self.get(name) {
            Some(Value::Int(n)) => Some(*n),
            _ => None,
        }
    }

    /// Centavos; 0 when the layout has no such field.
    pub fn cents(&self, name: &str) -> i64 {
        match self.get(name) {
            Some(Value::Cents(c)) => *c,
            _ => 0,
        }
    }

    pub fn has(&self, name: &str) -> bool {
        self.get(name).is_some()
    }

    pub fn date(&self, name: &str) -> Option<NaiveDate> {
        match self.get(name) {
            Some(Value::Date(d)) => *d,
            _ => None,
        }
    }

    pub fn codes(&self, name: &str) -> Vec<String> {
        match self.get(name) {
            Some(Value::Codes(c)) => c.clone(),
            Some(Value::Text(t)) if !t.is_empty() => vec![t.clone()],
            _ => Vec::new(),
        }
    }
}

/// Latin-1 bytes to text: each byte is the code point of the same value.
pub fn latin1(bytes: &[u8]) -> String {
    bytes.iter().map(|&b| b as char).collect()
}

fn refuse(line: usize, field: &str, reason: String) -> ParseError {
    ParseError {
        line,
        field: field.to_string(),
        reason,
    }
}

/// Reads `record` (Latin-1 bytes, already of the layout's length) through `table`.
pub fn read(table: Layout, record: &[u8], line: usize) -> Result<Fields, ParseError> {
    let mut values = Vec::with_capacity(table.len());
    for spec in table {
        let raw = spec
            .start
            .checked_sub(1)
            .and_then(|from| record.get(from..spec.end))
            .ok_or_else(|| {
                refuse(
                    line,
                    spec.name,
                    format!("posições {}–{} fora do registro", spec.start, spec.end),
                )
            })?;
        values.push((spec.name, value(spec, raw, line)?));
    }
    Ok(Fields { values })
}

fn blank(raw: &[u8]) -> bool {
    raw.iter().all(|&b| b == b' ')
}

fn digits(spec: &FieldSpec, raw: &[u8], line: usize) -> Result<u64, ParseError> {
    if raw.is_empty() || !raw.iter().all(u8::is_ascii_digit) {
        return Err(refuse(
            line,
            spec.name,
            format!(
                "campo numérico (posições {}–{}) com conteúdo não numérico: \"{}\"",
                spec.start,
                spec.end,
                latin1(raw)
            ),
        ));
    }
    // At most 19 digits fit; the layouts' longest numeric field has 17.
    let mut n: u64 = 0;
    for &b in raw {
        n = n
            .checked_mul(10)
            .and_then(|n| n.checked_add(u64::from(b - b'0')))
            .ok_or_else(|| refuse(line, spec.name, "número longo demais".into()))?;
    }
    Ok(n)
}

fn date(spec: &FieldSpec, raw: &[u8], line: usize) -> Result<Option<NaiveDate>, ParseError> {
    if blank(raw) || raw.iter().all(|&b| b == b'0') {
        return Ok(None);
    }
    let bad = || {
        refuse(
            line,
            spec.name,
            format!("data inválida: \"{}\"", latin1(raw)),
        )
    };
    if !raw.iter().all(u8::is_ascii_digit) {
        return Err(bad());
    }
    let num = |r: std::ops::Range<usize>| -> u32 {
        raw[r]
            .iter()
            .fold(0u32, |acc, &b| acc * 10 + u32::from(b - b'0'))
    };
    let (d, m, y) = match (spec.kind, raw.len()) {
        (Kind::Date6, 6) => {
            // Two-digit years: 00–69 are 20xx, 70–99 are 19xx.
            let yy = num(4..6) as i32;
            (
                num(0..2),
                num(2..4),
                if yy < 70 { 2000 + yy } else { 1900 + yy },
            )
        }
        (Kind::Date8, 8) => (num(0..2), num(2..4), num(4..8) as i32),
        (Kind::Date8Ymd, 8) => (num(6..8), num(4..6), num(0..4) as i32),
        _ => return Err(bad()),
    };
    NaiveDate::from_ymd_opt(y, m, d).map(Some).ok_or_else(bad)
}

fn value(spec: &FieldSpec, raw: &[u8], line: usize) -> Result<Value, ParseError> {
    Ok(match spec.kind {
        Kind::Num => Value::Int(digits(spec, raw, line)?),
        Kind::Money => {
            if blank(raw) {
                Value::Cents(0)
            } else {
                let n = digits(spec, raw, line)?;
                Value::Cents(
                    i64::try_from(n)
                        .map_err(|_| refuse(line, spec.name, "valor grande demais".into()))?,
                )
            }
        }
        Kind::Text => Value::Text(latin1(raw).trim().to_string()),
        Kind::Code => {
            let text = latin1(raw);
            let code = text.trim();
            if code.is_empty() || !code.chars().all(|c| c.is_ascii_alphanumeric()) {
                return Err(refuse(
                    line,
                    spec.name,
                    format!(
                        "código inválido nas posições {}–{}: \"{}\"",
                        spec.start,
                        spec.end,
                        latin1(raw)
                    ),
                ));
            }
            Value::Text(code.to_string())
        }
        Kind::Date6 | Kind::Date8 | Kind::Date8Ymd => Value::Date(date(spec, raw, line)?),
        Kind::Codes(width) => {
            let width = width.max(1);
            let codes = raw
                .chunks(width)
                .map(|c| latin1(c).trim().to_string())
                .filter(|c| !c.is_empty() && !c.chars().all(|ch| ch == '0'))
                .collect();
            Value::Codes(codes)
        }
        Kind::Lit(expected) => {
            if raw != expected.as_bytes() {
                return Err(refuse(
                    line,
                    spec.name,
                    format!(
                        "esperado \"{expected}\" nas posições {}–{}, encontrado \"{}\"",
                        spec.start,
                        spec.end,
                        latin1(raw)
                    ),
                ));
            }
            Value::Text(expected.to_string())
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const T: Layout = &[
        f("tipo", 1, 1, Kind::Lit("1")),
        f("numero", 2, 4, Kind::Num),
        f("valor", 5, 9, Kind::Money),
        f("data", 10, 15, Kind::Date6),
        f("nome", 16, 20, Kind::Text),
        f("motivos", 21, 26, Kind::Codes(2)),
    ];

    #[test]
    fn reads_every_kind() {
        let rec = b"104200123100326JO\xc3O 08  00";
        let r = read(T, rec, 3).unwrap();
        assert_eq!(r.int("numero"), Some(42));
        assert_eq!(r.cents("valor"), 123);
        assert_eq!(r.date("data"), NaiveDate::from_ymd_opt(2026, 3, 10));
        assert_eq!(r.text("nome"), "JOÃO");
        assert_eq!(r.codes("motivos"), vec!["08".to_string()]);
    }

    #[test]
    fn refuses_with_line_and_field() {
        let e = read(T, b"10A200123100326JOAO 080000", 7).unwrap_err();
        assert_eq!((e.line, e.field.as_str()), (7, "numero"));
        let e = read(T, b"104200123311326JOAO 080000", 2).unwrap_err();
        assert_eq!(e.field, "data");
        let e = read(T, b"204200123100326JOAO 080000", 2).unwrap_err();
        assert_eq!(e.field, "tipo");
        let e = read(T, b"1042", 2).unwrap_err();
        assert_eq!(e.field, "valor");
    }

    #[test]
    fn zero_and_blank_dates_are_none_and_blank_money_is_zero() {
        let r = read(T, b"1042     000000JOAO 000000", 1).unwrap();
        assert_eq!(r.cents("valor"), 0);
        assert_eq!(r.date("data"), None);
        assert!(r.codes("motivos").is_empty());
    }
}
