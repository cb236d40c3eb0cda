//! FEBRABAN CNAB 240 return files (cobrança): file header, lot header, T and U segments,
//! lot trailer, file trailer. The T and U segments are shared by the banks; where a bank's
//! manual moves a field (nosso número, seu número, motives) its T table says so.

use super::layout::{Fields, Kind::*, Layout, f, read};
use super::occurrences::{self, Occurrences};
use super::{Entry, Layout as Family, ParseError, Record, ReturnFile};

/// One bank's CNAB 240 as its manual describes it.
pub struct Bank240 {
    pub bank: &'static str,
    pub header: Layout,
    pub t: Layout,
    pub u: Layout,
    pub occurrences: Occurrences,
    /// The shared table the bank's own codes add to, when it follows FEBRABAN's.
    pub base: Option<Occurrences>,
}

// --- File header -----------------------------------------------------------------------

/// FEBRABAN v10.x file header (registro 0), convênio in 33–52.
const HEADER_FEBRABAN: Layout = &[
    f("codigo_banco", 1, 3, Num),
    f("lote", 4, 7, Lit("0000")),
    f("tipo_registro", 8, 8, Lit("0")),
    f("convenio", 33, 52, Text),
    f("codigo_remessa_retorno", 143, 143, Lit("2")),
    f("data_geracao", 144, 151, Date8),
    f("nsa", 158, 163, Num),
];

/// Banco do Brasil "Cobrança CNAB 240" (v10.x notes): convênio number in 33–41 (the rest of
/// 33–52 is cobrança/carteira/variação).
const HEADER_BB: Layout = &[
    f("codigo_banco", 1, 3, Num),
    f("lote", 4, 7, Lit("0000")),
    f("tipo_registro", 8, 8, Lit("0")),
    f("convenio", 33, 41, Text),
    f("codigo_remessa_retorno", 143, 143, Lit("2")),
    f("data_geracao", 144, 151, Date8),
    f("nsa", 158, 163, Num),
];

/// Caixa "Leiaute CNAB 240 SIGCB" (v67): código do beneficiário in 59–64.
const HEADER_CAIXA: Layout = &[
    f("codigo_banco", 1, 3, Num),
    f("lote", 4, 7, Lit("0000")),
    f("tipo_registro", 8, 8, Lit("0")),
    f("convenio", 59, 64, Text),
    f("codigo_remessa_retorno", 143, 143, Lit("2")),
    f("data_geracao", 144, 151, Date8),
    f("nsa", 158, 163, Num),
];

/// Itaú "Cobrança CNAB 240": no convênio (the account identifies the beneficiary).
const HEADER_ITAU: Layout = &[
    f("codigo_banco", 1, 3, Num),
    f("lote", 4, 7, Lit("0000")),
    f("tipo_registro", 8, 8, Lit("0")),
    f("codigo_remessa_retorno", 143, 143, Lit("2")),
    f("data_geracao", 144, 151, Date8),
    f("nsa", 158, 163, Num),
];

/// Santander "CNAB 240 H7815" (v8): código do beneficiário in 53–61.
const HEADER_SANTANDER: Layout = &[
    f("codigo_banco", 1, 3, Num),
    f("lote", 4, 7, Lit("0000")),
    f("tipo_registro", 8, 8, Lit("0")),
    f("convenio", 53, 61, Text),
    f("codigo_remessa_retorno", 143, 143, Lit("2")),
    f("data_geracao", 144, 151, Date8),
    f("nsa", 158, 163, Num),
];

// --- Lot header and trailers -----------------------------------------------------------

const LOT_HEADER: Layout = &[
    f("codigo_banco", 1, 3, Num),
    f("lote", 4, 7, Num),
    f("tipo_registro", 8, 8, Lit("1")),
];

const LOT_TRAILER: Layout = &[
    f("codigo_banco", 1, 3, Num),
    f("lote", 4, 7, Num),
    f("tipo_registro", 8, 8, Lit("5")),
    f("quantidade_registros", 18, 23, Num),
];

const FILE_TRAILER: Layout = &[
    f("codigo_banco", 1, 3, Num),
    f("tipo_registro", 8, 8, Lit("9")),
    f("quantidade_lotes", 18, 23, Num),
    f("quantidade_registros", 24, 29, Num),
];

// --- T segments ------------------------------------------------------------------------

/// FEBRABAN v10.x segment T with the nosso número in 38–57 (left-aligned): Banco do Brasil
/// (17 digits: convênio + sequence), Banrisul (8 digits + 2 NC), Sicredi (YYBNNNNND) and
/// BTG Pactual follow it as is.
const T_FEBRABAN: Layout = &[
    f("codigo_banco", 1, 3, Num),
    f("lote", 4, 7, Num),
    f("tipo_registro", 8, 8, Lit("3")),
    f("sequencial", 9, 13, Num),
    f("segmento", 14, 14, Lit("T")),
    f("ocorrencia", 16, 17, Code),
    f("nosso_numero", 38, 57, Code),
    f("carteira", 58, 58, Text),
    f("seu_numero", 59, 73, Text),
    f("vencimento", 74, 81, Date8),
    f("valor_titulo", 82, 96, Money),
    f("tarifa", 199, 213, Money),
    f("motivos", 214, 223, Codes(2)),
];

/// Bradesco "Cobrança CNAB 240": 38–40 carteira, 41–45 zeros, 46–56 nosso número, 57 DV.
const T_BRADESCO: Layout = &[
    f("codigo_banco", 1, 3, Num),
    f("lote", 4, 7, Num),
    f("tipo_registro", 8, 8, Lit("3")),
    f("sequencial", 9, 13, Num),
    f("segmento", 14, 14, Lit("T")),
    f("ocorrencia", 16, 17, Code),
    f("carteira", 38, 40, Text),
    f("nosso_numero", 46, 57, Code),
    f("seu_numero", 59, 73, Text),
    f("vencimento", 74, 81, Date8),
    f("valor_titulo", 82, 96, Money),
    f("tarifa", 199, 213, Money),
    f("motivos", 214, 223, Codes(2)),
];

/// Sicoob "CNAB 240": 38–47 nosso número with DV, 48–49 parcela, 50–51 modalidade,
/// 52 tipo de formulário.
const T_SICOOB: Layout = &[
    f("codigo_banco", 1, 3, Num),
    f("lote", 4, 7, Num),
    f("tipo_registro", 8, 8, Lit("3")),
    f("sequencial", 9, 13, Num),
    f("segmento", 14, 14, Lit("T")),
    f("ocorrencia", 16, 17, Code),
    f("nosso_numero", 38, 47, Code),
    f("carteira", 58, 58, Text),
    f("seu_numero", 59, 73, Text),
    f("vencimento", 74, 81, Date8),
    f("valor_titulo", 82, 96, Money),
    f("tarifa", 199, 213, Money),
    f("motivos", 214, 223, Codes(2)),
];

/// Caixa "Leiaute CNAB 240 SIGCB" (v67): 40–56 nosso número (modalidade + 15 digits),
/// 59–69 número do documento.
const T_CAIXA: Layout = &[
    f("codigo_banco", 1, 3, Num),
    f("lote", 4, 7, Num),
    f("tipo_registro", 8, 8, Lit("3")),
    f("sequencial", 9, 13, Num),
    f("segmento", 14, 14, Lit("T")),
    f("ocorrencia", 16, 17, Code),
    f("nosso_numero", 40, 56, Code),
    f("carteira", 58, 58, Text),
    f("seu_numero", 59, 69, Text),
    f("vencimento", 74, 81, Date8),
    f("valor_titulo", 82, 96, Money),
    f("tarifa", 199, 213, Money),
    f("motivos", 214, 223, Codes(2)),
];

/// Itaú "Cobrança CNAB 240": 38–40 carteira, 41–48 nosso número, 49 DAC, 59–68 seu número,
/// 214–221 motives (4 × 2).
const T_ITAU: Layout = &[
    f("codigo_banco", 1, 3, Num),
    f("lote", 4, 7, Num),
    f("tipo_registro", 8, 8, Lit("3")),
    f("sequencial", 9, 13, Num),
    f("segmento", 14, 14, Lit("T")),
    f("ocorrencia", 16, 17, Code),
    f("carteira", 38, 40, Text),
    f("nosso_numero", 41, 48, Code),
    f("seu_numero", 59, 68, Text),
    f("vencimento", 74, 81, Date8),
    f("valor_titulo", 82, 96, Money),
    f("tarifa", 199, 213, Money),
    f("motivos", 214, 221, Codes(2)),
];

/// Santander "CNAB 240 H7815" (v8): 41–53 nosso número (12 + DV), 54 carteira, 55–69 seu
/// número, 70–77 vencimento, 78–92 valor, 194–208 tarifa, 209–218 motives.
const T_SANTANDER: Layout = &[
    f("codigo_banco", 1, 3, Num),
    f("lote", 4, 7, Num),
    f("tipo_registro", 8, 8, Lit("3")),
    f("sequencial", 9, 13, Num),
    f("segmento", 14, 14, Lit("T")),
    f("ocorrencia", 16, 17, Code),
    f("nosso_numero", 41, 53, Code),
    f("carteira", 54, 54, Text),
    f("seu_numero", 55, 69, Text),
    f("vencimento", 70, 77, Date8),
    f("valor_titulo", 78, 92, Money),
    f("tarifa", 194, 208, Money),
    f("motivos", 209, 218, Codes(2)),
];

// --- U segment -------------------------------------------------------------------------

/// FEBRABAN v10.x segment U, the same for every bank here.
const U_FEBRABAN: Layout = &[
    f("codigo_banco", 1, 3, Num),
    f("lote", 4, 7, Num),
    f("tipo_registro", 8, 8, Lit("3")),
    f("sequencial", 9, 13, Num),
    f("segmento", 14, 14, Lit("U")),
    f("ocorrencia", 16, 17, Code),
    f("juros", 18, 32, Money),
    f("desconto", 33, 47, Money),
    f("abatimento", 48, 62, Money),
    f("iof", 63, 77, Money),
    f("valor_pago", 78, 92, Money),
    f("valor_liquido", 93, 107, Money),
    f("outras_despesas", 108, 122, Money),
    f("outros_creditos", 123, 137, Money),
    f("data_ocorrencia", 138, 145, Date8),
    f("data_credito", 146, 153, Date8),
];

// --- Banks -----------------------------------------------------------------------------

const FEBRABAN: Option<Occurrences> = Some(occurrences::FEBRABAN_240);

pub const BANKS: &[Bank240] = &[
    Bank240 {
        bank: "001",
        header: HEADER_BB,
        t: T_FEBRABAN,
        u: U_FEBRABAN,
        occurrences: &[],
        base: FEBRABAN,
    },
    // Banrisul "Cobrança CNAB 240": FEBRABAN, nosso número 8 digits + 2 NC in 38–47.
    Bank240 {
        bank: "041",
        header: HEADER_FEBRABAN,
        t: T_FEBRABAN,
        u: U_FEBRABAN,
        occurrences: &[],
        base: FEBRABAN,
    },
    Bank240 {
        bank: "033",
        header: HEADER_SANTANDER,
        t: T_SANTANDER,
        u: U_FEBRABAN,
        occurrences: &[],
        base: FEBRABAN,
    },
    Bank240 {
        bank: "104",
        header: HEADER_CAIXA,
        t: T_CAIXA,
        u: U_FEBRABAN,
        occurrences: occurrences::CAIXA_240,
        base: FEBRABAN,
    },
    Bank240 {
        bank: "237",
        header: HEADER_FEBRABAN,
        t: T_BRADESCO,
        u: U_FEBRABAN,
        occurrences: &[],
        base: FEBRABAN,
    },
    Bank240 {
        bank: "341",
        header: HEADER_ITAU,
        t: T_ITAU,
        u: U_FEBRABAN,
        occurrences: occurrences::ITAU,
        base: None,
    },
    // Sicredi "CNAB 240": FEBRABAN, nosso número YYBNNNNND left-aligned in 38–57.
    Bank240 {
        bank: "748",
        header: HEADER_FEBRABAN,
        t: T_FEBRABAN,
        u: U_FEBRABAN,
        occurrences: occurrences::SICREDI_240,
        base: FEBRABAN,
    },
    Bank240 {
        bank: "756",
        header: HEADER_FEBRABAN,
        t: T_SICOOB,
        u: U_FEBRABAN,
        occurrences: &[],
        base: FEBRABAN,
    },
    // BTG Pactual "Cobrança CNAB 240": FEBRABAN as is.
    Bank240 {
        bank: "208",
        header: HEADER_FEBRABAN,
        t: T_FEBRABAN,
        u: U_FEBRABAN,
        occurrences: &[],
        base: FEBRABAN,
    },
    // Banco Inter publishes no CNAB 240 for cobrança (only its CNAB 400).
];

fn refuse(line: usize, field: &str, reason: impl Into<String>) -> ParseError {
    ParseError {
        line,
        field: field.to_string(),
        reason: reason.into(),
    }
}

fn byte_at(rec: &Record, pos: usize) -> u8 {
    rec.bytes.get(pos - 1).copied().unwrap_or(b' ')
}

/// Reads a whole CNAB 240 file (records already split and of 240 positions).
pub fn parse(records: &[Record]) -> Result<ReturnFile, ParseError> {
    let first = records
        .first()
        .ok_or_else(|| refuse(0, "arquivo", "arquivo vazio"))?;
    if byte_at(first, 8) != b'0' {
        return Err(refuse(
            first.line,
            "tipo_registro",
            "a primeira linha não é o header do arquivo (tipo 0 na posição 8)",
        ));
    }
    let code = super::layout::latin1(first.bytes.get(..3).unwrap_or_default());
    let bank = BANKS.iter().find(|b| b.bank == code).ok_or_else(|| {
        refuse(
            first.line,
            "codigo_banco",
            format!("banco \"{code}\" sem leiaute CNAB 240 conhecido"),
        )
    })?;
    let header = read(bank.header, &first.bytes, first.line)?;

    let mut entries = Vec::new();
    let mut pending: Option<(usize, Fields)> = None;
    let mut trailer_seen = false;
    for rec in &records[1..] {
        if trailer_seen {
            return Err(refuse(
                rec.line,
                "tipo_registro",
                "registro depois do trailer do arquivo",
            ));
        }
        if rec.bytes.get(..3) != first.bytes.get(..3) {
            return Err(refuse(
                rec.line,
                "codigo_banco",
                "código do banco diferente do header do arquivo",
            ));
        }
        match byte_at(rec, 8) {
            b'1' => {
                read(LOT_HEADER, &rec.bytes, rec.line)?;
            }
            b'3' => match byte_at(rec, 14) {
                b'T' => {
                    if let Some((line, _)) = pending {
                        return Err(refuse(line, "segmento", "segmento T sem o segmento U"));
                    }
                    pending = Some((rec.line, read(bank.t, &rec.bytes, rec.line)?));
                }
                b'U' => {
                    let (line, t) = pending.take().ok_or_else(|| {
                        refuse(rec.line, "segmento", "segmento U sem o segmento T")
                    })?;
                    let u = read(bank.u, &rec.bytes, rec.line)?;
                    entries.push(entry(bank, line, &t, &u));
                }
                // Optional segments some banks add (Y: cheques, PIX, payment limits).
                b'Y' => {}
                other => {
                    return Err(refuse(
                        rec.line,
                        "segmento",
                        format!("segmento \"{}\" desconhecido", other as char),
                    ));
                }
            },
            b'5' => {
                if let Some((line, _)) = pending {
                    return Err(refuse(line, "segmento", "segmento T sem o segmento U"));
                }
                read(LOT_TRAILER, &rec.bytes, rec.line)?;
            }
            b'9' => {
                read(FILE_TRAILER, &rec.bytes, rec.line)?;
                trailer_seen = true;
            }
            other => {
                return Err(refuse(
                    rec.line,
                    "tipo_registro",
                    format!("tipo de registro \"{}\" desconhecido", other as char),
                ));
            }
        }
    }
    if let Some((line, _)) = pending {
        return Err(refuse(line, "segmento", "segmento T sem o segmento U"));
    }
    if !trailer_seen {
        return Err(refuse(
            records.last().map_or(0, |r| r.line),
            "trailer",
            "trailer do arquivo (registro 9) ausente",
        ));
    }
    Ok(ReturnFile {
        bank: bank.bank.to_string(),
        layout: Family::Cnab240,
        agreement: header.text("convenio"),
        generated_on: header.date("data_geracao"),
        file_seq: header.int("nsa"),
        entries,
    })
}

fn entry(bank: &Bank240, line: usize, t: &Fields, u: &Fields) -> Entry {
    let occurrence = t.text("ocorrencia");
    let (occurrence_text, kind) = occurrences::lookup(bank.occurrences, bank.base, &occurrence);
    let our_number = t.text("nosso_numero");
    let document = t.text("seu_numero");
    Entry {
        line,
        our_number_key: super::our_number::key(Some(bank.bank), &our_number),
        our_number,
        document_number: (!document.is_empty()).then_some(document),
        occurrence,
        occurrence_text,
        kind,
        reasons: t.codes("motivos"),
        face_cents: Some(t.cents("valor_titulo")),
        paid_cents: u.cents("valor_pago"),
        fee_cents: t.cents("tarifa"),
        discount_cents: u.cents("desconto"),
        interest_cents: u.cents("juros"),
        rebate_cents: u.cents("abatimento"),
        paid_on: u.date("data_ocorrencia"),
        credited_on: u.date("data_credito"),
    }
}
