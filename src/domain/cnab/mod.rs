//! Bank return files (arquivos de retorno de cobrança): FEBRABAN CNAB 240 and the banks'
//! CNAB 400, read into the occurrences they report for each boleto. Field positions are data
//! (one table per layout), not code per field.
//!
//! The layout is told by the first line: 240 positions is FEBRABAN CNAB 240 (bank code in
//! 1–3), 400 positions a bank's CNAB 400 ("02RETORNO" in 1–9, bank code in 77–79). A file is
//! read whole or refused whole, with the line and field that failed.

mod cnab240;
mod cnab400;
pub mod layout;
pub mod occurrences;
pub mod our_number;

use chrono::NaiveDate;

/// The two families of return files.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Layout {
    Cnab240,
    Cnab400,
}

impl Layout {
    pub fn as_str(self) -> &'static str {
        match self {
            Layout::Cnab240 => "cnab240",
            Layout::Cnab400 => "cnab400",
        }
    }
}

/// What an occurrence means for the invoice.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OccurrenceKind {
    /// Liquidação: the boleto was paid.
    Liquidation,
    /// Entrada confirmada: the bank registered the boleto.
    Entry,
    /// Entrada rejeitada / instrução rejeitada.
    Rejection,
    /// Baixa: the bank wrote the boleto off.
    WriteOff,
    /// Anything else the bank reports (tarifa, alteração, protesto…).
    Other,
}

impl OccurrenceKind {
    pub fn as_str(self) -> &'static str {
        match self {
            OccurrenceKind::Liquidation => "liquidacao",
            OccurrenceKind::Entry => "entrada",
            OccurrenceKind::Rejection => "rejeicao",
            OccurrenceKind::WriteOff => "baixa",
            OccurrenceKind::Other => "outra",
        }
    }
}

/// A return file as read: its header's identity and one entry per boleto occurrence.
#[derive(Debug, Clone, PartialEq)]
pub struct ReturnFile {
    /// Three-digit bank code of the header ("001", "341"…).
    pub bank: String,
    pub layout: Layout,
    /// Convênio / código do beneficiário as the header gives it (trimmed, may be empty).
    pub agreement: String,
    pub generated_on: Option<NaiveDate>,
    /// Número sequencial do arquivo (NSA), when the layout has one.
    pub file_seq: Option<u64>,
    pub entries: Vec<Entry>,
}

/// One boleto occurrence: a CNAB 400 detail line, or a CNAB 240 T segment with its U segment.
#[derive(Debug, Clone, PartialEq)]
pub struct Entry {
    /// 1-based line of the file (for CNAB 240, the T segment's line).
    pub line: usize,
    /// The nosso número as the file prints it (trimmed).
    pub our_number: String,
    /// `our_number::key(Some(bank), our_number)`.
    pub our_number_key: String,
    /// Seu número / número do documento, when given.
    pub document_number: Option<String>,
    /// The occurrence code as in the file ("06").
    pub occurrence: String,
    /// The bank's meaning of the code, in Portuguese.
    pub occurrence_text: String,
    pub kind: OccurrenceKind,
    /// Motive codes (rejection or liquidation motives), as the file gives them.
    pub reasons: Vec<String>,
    pub face_cents: Option<i64>,
    pub paid_cents: i64,
    pub fee_cents: i64,
    pub discount_cents: i64,
    pub interest_cents: i64,
    pub rebate_cents: i64,
    /// Date of the occurrence (the payment date for a liquidation).
    pub paid_on: Option<NaiveDate>,
    pub credited_on: Option<NaiveDate>,
}

/// Why a file was refused whole: the line and field that failed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParseError {
    /// 1-based line; 0 for the file as a whole.
    pub line: usize,
    pub field: String,
    pub reason: String,
}

impl std::fmt::Display for ParseError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        if self.line == 0 {
            write!(f, "{}: {}", self.field, self.reason)
        } else {
            write!(
                f,
                "linha {}, campo {}: {}",
                self.line, self.field, self.reason
            )
        }
    }
}

impl std::error::Error for ParseError {}

impl ReturnFile {
    /// The identity of `entry` in this file, stable across re-imports of the same file or of
    /// another file reporting the same occurrence.
    pub fn entry_identity(&self, entry: &Entry) -> String {
        entry.identity(&self.bank, &self.agreement)
    }
}

impl Entry {
    /// A stable string identifying this occurrence, for idempotent re-imports:
    /// bank|agreement|our_number_key|occurrence|paid_on|paid_cents.
    pub fn identity(&self, bank: &str, agreement: &str) -> String {
        format!(
            "{}|{}|{}|{}|{}|{}",
            bank,
            agreement,
            self.our_number_key,
            self.occurrence,
            self.paid_on
                .map(|d| d.format("%Y-%m-%d").to_string())
                .unwrap_or_default(),
            self.paid_cents
        )
    }
}

/// The bank codes with a CNAB 240 layout here.
pub fn banks_240() -> impl Iterator<Item = &'static str> {
    cnab240::BANKS.iter().map(|b| b.bank)
}

/// The bank codes with a CNAB 400 layout here.
pub fn banks_400() -> impl Iterator<Item = &'static str> {
    cnab400::BANKS.iter().map(|b| b.bank)
}

/// One line of the file: its 1-based number and its bytes (Latin-1, without the line end).
#[derive(Debug, Clone)]
struct Record {
    line: usize,
    bytes: Vec<u8>,
}

/// Reads a return file (bytes as the bank sent them: Latin-1 or ASCII, CRLF or LF).
pub fn parse(bytes: &[u8]) -> Result<ReturnFile, ParseError> {
    let records = split(bytes)?;
    match records.first().map(|r| r.bytes.len()) {
        Some(240) => cnab240::parse(&records),
        Some(400) => cnab400::parse(&records),
        _ => Err(ParseError {
            line: 0,
            field: "arquivo".into(),
            reason: "arquivo vazio".into(),
        }),
    }
}

/// Splits the file into records of one length (240 or 400, told by the first line). Accepts
/// CRLF or LF, a UTF-8 byte-order mark, trailing EOF (0x1A) bytes and trailing blank lines;
/// a line in UTF-8 is taken back to Latin-1 when that gives it the right length.
fn split(bytes: &[u8]) -> Result<Vec<Record>, ParseError> {
    let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
    let mut lines: Vec<&[u8]> = bytes.split(|&b| b == b'\n').collect();
    // Trailing EOF bytes, blank lines and the empty piece after the last line end.
    while let Some(&last) = lines.last() {
        let trimmed: &[u8] = {
            let mut l = last;
            while let Some((&b, rest)) = l.split_last() {
                if b == 0x1A || b == b'\r' || b == b' ' {
                    l = rest;
                } else {
                    break;
                }
            }
            l
        };
        if trimmed.is_empty() {
            lines.pop();
        } else {
            let n = lines.len();
            let keep = last.len() - last.iter().rev().take_while(|&&b| b == 0x1A).count();
            lines[n - 1] = &last[..keep];
            break;
        }
    }
    if lines.is_empty() {
        return Err(ParseError {
            line: 0,
            field: "arquivo".into(),
            reason: "arquivo vazio".into(),
        });
    }
    let mut records = Vec::with_capacity(lines.len());
    let mut width = 0;
    for (i, raw) in lines.iter().enumerate() {
        let line = i + 1;
        let raw = raw.strip_suffix(b"\r").unwrap_or(raw);
        if i == 0 {
            width = match utf8_width(raw).unwrap_or(raw.len()) {
                240 => 240,
                400 => 400,
                n => {
                    return Err(ParseError {
                        line,
                        field: "registro".into(),
                        reason: format!(
                            "registro com {n} posições; esperado 240 (CNAB 240) ou 400 (CNAB 400)"
                        ),
                    });
                }
            };
        }
        let bytes = if raw.len() == width {
            raw.to_vec()
        } else if let Some(latin) = utf8_as_latin1(raw, width) {
            latin
        } else if raw.is_empty() {
            return Err(ParseError {
                line,
                field: "registro".into(),
                reason: "linha vazia no meio do arquivo".into(),
            });
        } else {
            return Err(ParseError {
                line,
                field: "registro".into(),
                reason: format!("registro com {} posições; esperado {width}", raw.len()),
            });
        };
        records.push(Record { line, bytes });
    }
    Ok(records)
}

/// The number of characters of `raw` read as UTF-8, when it is UTF-8 with non-ASCII text.
fn utf8_width(raw: &[u8]) -> Option<usize> {
    if raw.is_ascii() {
        return None;
    }
    std::str::from_utf8(raw).ok().map(|s| s.chars().count())
}

/// `raw` in Latin-1, when it is UTF-8 of exactly `width` characters all within Latin-1.
fn utf8_as_latin1(raw: &[u8], width: usize) -> Option<Vec<u8>> {
    let s = std::str::from_utf8(raw).ok()?;
    if s.chars().count() != width {
        return None;
    }
    s.chars().map(|c| u8::try_from(u32::from(c)).ok()).collect()
}

#[cfg(test)]
mod tests;
