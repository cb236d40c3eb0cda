//! Bank return files (arquivos de retorno de cobrança): FEBRABAN CNAB 240 and the banks'
//! CNAB 400, read into the occurrences they report for each boleto. Field positions are data
//! (one table per layout), not code per field.

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

/// Reads a return file (bytes as the bank sent them: Latin-1 or ASCII, CRLF or LF).
pub fn parse(bytes: &[u8]) -> Result<ReturnFile, ParseError> {
    let _ = bytes;
    Err(ParseError {
        line: 0,
        field: "arquivo".into(),
        reason: "leitura de arquivos de retorno ainda não disponível".into(),
    })
}
