//! The banks' CNAB 400 return files (cobrança): header (0), one detail per occurrence
//! (1, or 7 for Banco do Brasil's CBR643), trailer (9). Each bank has its own detail layout.

use super::layout::{Fields, Kind::*, Layout, f, read};
use super::occurrences::{self, Occurrences};
use super::{Entry, Layout as Family, ParseError, Record, ReturnFile};

/// One bank's CNAB 400 as its manual describes it.
pub struct Bank400 {
    pub bank: &'static str,
    pub header: Layout,
    pub detail: Layout,
    /// Record type of the detail line (position 1).
    pub detail_type: u8,
    /// Other record types the bank may send between the details (rateio, PIX…), skipped.
    pub skip: &'static [u8],
    pub occurrences: Occurrences,
}

const TRAILER: Layout = &[
    f("tipo_registro", 1, 1, Lit("9")),
    f("sequencial", 395, 400, Num),
];

// --- Banco do Brasil ---------------------------------------------------------------------

/// Banco do Brasil CBR643 (retorno CNAB 400, convênio de 7 dígitos), header.
const BB_HEADER: Layout = &[
    f("tipo_registro", 1, 1, Lit("0")),
    f("codigo_retorno", 2, 2, Lit("2")),
    f("literal_retorno", 3, 9, Lit("RETORNO")),
    f("codigo_banco", 77, 79, Lit("001")),
    f("data_geracao", 95, 100, Date6),
    f("sequencial_retorno", 101, 107, Num),
    f("convenio", 150, 156, Text),
];

/// Banco do Brasil CBR643, detail type 7: 64–80 nosso número (convênio + 10 digits),
/// 87–88 motive of a refused command, 176–181 credit date, 182–188 tarifa (7 positions).
const BB_DETAIL: Layout = &[
    f("tipo_registro", 1, 1, Lit("7")),
    f("nosso_numero", 64, 80, Code),
    f("motivos", 87, 88, Codes(2)),
    f("ocorrencia", 109, 110, Code),
    f("data_ocorrencia", 111, 116, Date6),
    f("seu_numero", 117, 126, Text),
    f("vencimento", 147, 152, Date6),
    f("valor_titulo", 153, 165, Money),
    f("data_credito", 176, 181, Date6),
    f("tarifa", 182, 188, Money),
    f("abatimento", 228, 240, Money),
    f("desconto", 241, 253, Money),
    f("valor_pago", 254, 266, Money),
    f("juros", 267, 279, Money),
    f("sequencial", 395, 400, Num),
];

// --- Bradesco ----------------------------------------------------------------------------

/// Bradesco "Cobrança CNAB 400" (retorno), header: 27–46 código da empresa, 109–113 aviso.
const BRADESCO_HEADER: Layout = &[
    f("tipo_registro", 1, 1, Lit("0")),
    f("codigo_retorno", 2, 2, Lit("2")),
    f("literal_retorno", 3, 9, Lit("RETORNO")),
    f("convenio", 27, 46, Text),
    f("codigo_banco", 77, 79, Lit("237")),
    f("data_geracao", 95, 100, Date6),
    f("sequencial_retorno", 109, 113, Num),
];

/// Bradesco detail type 1: 71–82 nosso número (11 + DV, the DV may be "P"), 176–188 despesas
/// de cobrança, 296–301 credit date, 319–328 motives (5 × 2).
const BRADESCO_DETAIL: Layout = &[
    f("tipo_registro", 1, 1, Lit("1")),
    f("nosso_numero", 71, 82, Code),
    f("carteira", 108, 108, Text),
    f("ocorrencia", 109, 110, Code),
    f("data_ocorrencia", 111, 116, Date6),
    f("seu_numero", 117, 126, Text),
    f("vencimento", 147, 152, Date6),
    f("valor_titulo", 153, 165, Money),
    f("tarifa", 176, 188, Money),
    f("abatimento", 228, 240, Money),
    f("desconto", 241, 253, Money),
    f("valor_pago", 254, 266, Money),
    f("juros", 267, 279, Money),
    f("data_credito", 296, 301, Date6),
    f("motivos", 319, 328, Codes(2)),
    f("sequencial", 395, 400, Num),
];

// --- Itaú --------------------------------------------------------------------------------

/// Itaú "Cobrança CNAB 400" (retorno), header: 27–30 agência, 33–37 conta, 38 DAC.
const ITAU_HEADER: Layout = &[
    f("tipo_registro", 1, 1, Lit("0")),
    f("codigo_retorno", 2, 2, Lit("2")),
    f("literal_retorno", 3, 9, Lit("RETORNO")),
    f("convenio", 27, 38, Text),
    f("codigo_banco", 77, 79, Lit("341")),
    f("data_geracao", 95, 100, Date6),
];

/// Itaú detail type 1: 83–85 carteira, 86–93 nosso número, 94 DAC, 296–301 credit date,
/// 378–385 motives (4 × 2).
const ITAU_DETAIL: Layout = &[
    f("tipo_registro", 1, 1, Lit("1")),
    f("carteira", 83, 85, Text),
    f("nosso_numero", 86, 93, Code),
    f("ocorrencia", 109, 110, Code),
    f("data_ocorrencia", 111, 116, Date6),
    f("seu_numero", 117, 126, Text),
    f("vencimento", 147, 152, Date6),
    f("valor_titulo", 153, 165, Money),
    f("tarifa", 176, 188, Money),
    f("abatimento", 228, 240, Money),
    f("desconto", 241, 253, Money),
    f("valor_pago", 254, 266, Money),
    f("juros", 267, 279, Money),
    f("data_credito", 296, 301, Date6),
    f("motivos", 378, 385, Codes(2)),
    f("sequencial", 395, 400, Num),
];

// --- Santander ---------------------------------------------------------------------------

/// Santander "CNAB 400" (retorno), header: 27–30 agência, 31–38 conta movimento, 39–46
/// conta cobrança.
const SANTANDER_HEADER: Layout = &[
    f("tipo_registro", 1, 1, Lit("0")),
    f("codigo_retorno", 2, 2, Lit("2")),
    f("literal_retorno", 3, 9, Lit("RETORNO")),
    f("convenio", 27, 46, Text),
    f("codigo_banco", 77, 79, Lit("033")),
    f("data_geracao", 95, 100, Date6),
];

/// Santander detail type 1: 63–70 nosso número (7 + DV), 137–145 motives (3 × 3),
/// 296–301 credit date.
const SANTANDER_DETAIL: Layout = &[
    f("tipo_registro", 1, 1, Lit("1")),
    f("nosso_numero", 63, 70, Code),
    f("ocorrencia", 109, 110, Code),
    f("data_ocorrencia", 111, 116, Date6),
    f("seu_numero", 117, 126, Text),
    f("motivos", 137, 145, Codes(3)),
    f("vencimento", 147, 152, Date6),
    f("valor_titulo", 153, 165, Money),
    f("tarifa", 176, 188, Money),
    f("abatimento", 228, 240, Money),
    f("desconto", 241, 253, Money),
    f("valor_pago", 254, 266, Money),
    f("juros", 267, 279, Money),
    f("data_credito", 296, 301, Date6),
    f("sequencial", 395, 400, Num),
];

// --- Banrisul ----------------------------------------------------------------------------

/// Banrisul "Leiaute CNAB 400 (agência com 4 dígitos)" (retorno), header: 27–39 agência +
/// código do beneficiário.
const BANRISUL_HEADER: Layout = &[
    f("tipo_registro", 1, 1, Lit("0")),
    f("codigo_retorno", 2, 2, Lit("2")),
    f("literal_retorno", 3, 9, Lit("RETORNO")),
    f("convenio", 27, 39, Text),
    f("codigo_banco", 77, 79, Lit("041")),
    f("data_geracao", 95, 100, Date6),
];

/// Banrisul detail type 1: 63–72 nosso número (8 + 2 NC), 296–301 credit date, 383–392
/// motives (5 × 2).
const BANRISUL_DETAIL: Layout = &[
    f("tipo_registro", 1, 1, Lit("1")),
    f("nosso_numero", 63, 72, Code),
    f("carteira", 108, 108, Text),
    f("ocorrencia", 109, 110, Code),
    f("data_ocorrencia", 111, 116, Date6),
    f("seu_numero", 117, 126, Text),
    f("vencimento", 147, 152, Date6),
    f("valor_titulo", 153, 165, Money),
    f("tarifa", 176, 188, Money),
    f("abatimento", 228, 240, Money),
    f("desconto", 241, 253, Money),
    f("valor_pago", 254, 266, Money),
    f("juros", 267, 279, Money),
    f("data_credito", 296, 301, Date6),
    f("motivos", 383, 392, Codes(2)),
    f("sequencial", 395, 400, Num),
];

// --- Caixa -------------------------------------------------------------------------------

/// Caixa "Leiaute CNAB 400 SIGCB" (retorno), header: 31–36 código do beneficiário.
const CAIXA_HEADER: Layout = &[
    f("tipo_registro", 1, 1, Lit("0")),
    f("codigo_retorno", 2, 2, Lit("2")),
    f("literal_retorno", 3, 9, Lit("RETORNO")),
    f("convenio", 31, 36, Text),
    f("codigo_banco", 77, 79, Lit("104")),
    f("data_geracao", 95, 100, Date6),
];

/// Caixa SIGCB 400 detail type 1: 57–73 nosso número (modalidade + 15 digits), 80–82
/// rejection code (occurrence 99), 294–299 credit date.
const CAIXA_DETAIL: Layout = &[
    f("tipo_registro", 1, 1, Lit("1")),
    f("nosso_numero", 57, 73, Code),
    f("motivos", 80, 82, Codes(3)),
    f("carteira", 107, 108, Text),
    f("ocorrencia", 109, 110, Code),
    f("data_ocorrencia", 111, 116, Date6),
    f("seu_numero", 117, 126, Text),
    f("vencimento", 147, 152, Date6),
    f("valor_titulo", 153, 165, Money),
    f("tarifa", 176, 188, Money),
    f("abatimento", 228, 240, Money),
    f("desconto", 241, 253, Money),
    f("valor_pago", 254, 266, Money),
    f("juros", 267, 279, Money),
    f("data_credito", 294, 299, Date6),
    f("sequencial", 395, 400, Num),
];

// --- Sicredi -----------------------------------------------------------------------------

/// Sicredi "CNAB 400" (retorno), header: 27–31 código do beneficiário, 95–102 date as
/// AAAAMMDD, 111–117 número do retorno.
const SICREDI_HEADER: Layout = &[
    f("tipo_registro", 1, 1, Lit("0")),
    f("codigo_retorno", 2, 2, Lit("2")),
    f("literal_retorno", 3, 9, Lit("RETORNO")),
    f("convenio", 27, 31, Text),
    f("codigo_banco", 77, 79, Lit("748")),
    f("data_geracao", 95, 102, Date8Ymd),
    f("sequencial_retorno", 111, 117, Num),
];

/// Sicredi detail type 1: 48–62 nosso número (YYBNNNNND, left-aligned), 319–328 motives
/// (5 × 2), 329–336 expected credit date (AAAAMMDD).
const SICREDI_DETAIL: Layout = &[
    f("tipo_registro", 1, 1, Lit("1")),
    f("nosso_numero", 48, 62, Code),
    f("ocorrencia", 109, 110, Code),
    f("data_ocorrencia", 111, 116, Date6),
    f("seu_numero", 117, 126, Text),
    f("vencimento", 147, 152, Date6),
    f("valor_titulo", 153, 165, Money),
    f("tarifa", 176, 188, Money),
    f("abatimento", 228, 240, Money),
    f("desconto", 241, 253, Money),
    f("valor_pago", 254, 266, Money),
    f("juros", 267, 279, Money),
    f("motivos", 319, 328, Codes(2)),
    f("data_credito", 329, 336, Date8Ymd),
    f("sequencial", 395, 400, Num),
];

// --- Sicoob ------------------------------------------------------------------------------

/// Sicoob "CNAB 400" (Bancoob, derived from BB CBR643), header: 41–46 código do
/// beneficiário, 101–107 sequencial do retorno.
const SICOOB_HEADER: Layout = &[
    f("tipo_registro", 1, 1, Lit("0")),
    f("codigo_retorno", 2, 2, Lit("2")),
    f("literal_retorno", 3, 9, Lit("RETORNO")),
    f("convenio", 41, 46, Text),
    f("codigo_banco", 77, 79, Lit("756")),
    f("data_geracao", 95, 100, Date6),
    f("sequencial_retorno", 101, 107, Num),
];

/// Sicoob detail type 1: 63–74 nosso número with DV, 87–88 motive, 176–181 credit date,
/// 182–188 tarifa (7 positions).
const SICOOB_DETAIL: Layout = &[
    f("tipo_registro", 1, 1, Lit("1")),
    f("nosso_numero", 63, 74, Code),
    f("motivos", 87, 88, Codes(2)),
    f("ocorrencia", 109, 110, Code),
    f("data_ocorrencia", 111, 116, Date6),
    f("seu_numero", 117, 126, Text),
    f("vencimento", 147, 152, Date6),
    f("valor_titulo", 153, 165, Money),
    f("data_credito", 176, 181, Date6),
    f("tarifa", 182, 188, Money),
    f("abatimento", 228, 240, Money),
    f("desconto", 241, 253, Money),
    f("valor_pago", 254, 266, Money),
    f("juros", 267, 279, Money),
    f("sequencial", 395, 400, Num),
];

// --- Inter -------------------------------------------------------------------------------

/// Banco Inter "Manual CNAB400" (v2.2), header.
const INTER_HEADER: Layout = &[
    f("tipo_registro", 1, 1, Lit("0")),
    f("codigo_retorno", 2, 2, Lit("2")),
    f("literal_retorno", 3, 9, Lit("RETORNO")),
    f("convenio", 27, 46, Text),
    f("codigo_banco", 77, 79, Lit("077")),
    f("data_geracao", 95, 100, Date6),
];

/// Inter detail type 1: 71–81 nosso número (10 + DV), 90–91 occurrence, 92–97 date,
/// 98–107 seu número, 119–124 due date, 125–137 face value, 160–172 amount paid,
/// 173–178 credit date, 241–380 the error as text.
const INTER_DETAIL: Layout = &[
    f("tipo_registro", 1, 1, Lit("1")),
    f("carteira", 21, 23, Text),
    f("nosso_numero", 71, 81, Code),
    f("ocorrencia", 90, 91, Code),
    f("data_ocorrencia", 92, 97, Date6),
    f("seu_numero", 98, 107, Text),
    f("vencimento", 119, 124, Date6),
    f("valor_titulo", 125, 137, Money),
    f("valor_pago", 160, 172, Money),
    f("data_credito", 173, 178, Date6),
    f("motivos", 241, 380, Text),
    f("sequencial", 395, 400, Num),
];

pub const BANKS: &[Bank400] = &[
    Bank400 {
        bank: "001",
        header: BB_HEADER,
        detail: BB_DETAIL,
        detail_type: b'7',
        skip: b"5",
        occurrences: occurrences::BB_400,
    },
    Bank400 {
        bank: "041",
        header: BANRISUL_HEADER,
        detail: BANRISUL_DETAIL,
        detail_type: b'1',
        skip: b"3",
        occurrences: occurrences::BANRISUL_400,
    },
    Bank400 {
        bank: "033",
        header: SANTANDER_HEADER,
        detail: SANTANDER_DETAIL,
        detail_type: b'1',
        skip: b"",
        occurrences: occurrences::SANTANDER_400,
    },
    Bank400 {
        bank: "104",
        header: CAIXA_HEADER,
        detail: CAIXA_DETAIL,
        detail_type: b'1',
        skip: b"",
        occurrences: occurrences::CAIXA_400,
    },
    Bank400 {
        bank: "237",
        header: BRADESCO_HEADER,
        detail: BRADESCO_DETAIL,
        detail_type: b'1',
        skip: b"3",
        occurrences: occurrences::BRADESCO_400,
    },
    Bank400 {
        bank: "341",
        header: ITAU_HEADER,
        detail: ITAU_DETAIL,
        detail_type: b'1',
        skip: b"3",
        occurrences: occurrences::ITAU,
    },
    Bank400 {
        bank: "748",
        header: SICREDI_HEADER,
        detail: SICREDI_DETAIL,
        detail_type: b'1',
        skip: b"",
        occurrences: occurrences::SICREDI_400,
    },
    Bank400 {
        bank: "756",
        header: SICOOB_HEADER,
        detail: SICOOB_DETAIL,
        detail_type: b'1',
        skip: b"",
        occurrences: occurrences::SICOOB_400,
    },
    Bank400 {
        bank: "077",
        header: INTER_HEADER,
        detail: INTER_DETAIL,
        detail_type: b'1',
        skip: b"",
        occurrences: occurrences::INTER_400,
    },
    // BTG Pactual publishes no CNAB 400 for cobrança (only its CNAB 240).
];

fn refuse(line: usize, field: &str, reason: impl Into<String>) -> ParseError {
    ParseError {
        line,
        field: field.to_string(),
        reason: reason.into(),
    }
}

/// Reads a whole CNAB 400 file (records already split and of 400 positions).
pub fn parse(records: &[Record]) -> Result<ReturnFile, ParseError> {
    let first = records
        .first()
        .ok_or_else(|| refuse(0, "arquivo", "arquivo vazio"))?;
    if first.bytes.get(..9) != Some(b"02RETORNO".as_slice()) {
        return Err(refuse(
            first.line,
            "tipo_registro",
            "a primeira linha não é o header de um arquivo de retorno (\"02RETORNO\" nas posições 1–9)",
        ));
    }
    let code = super::layout::latin1(first.bytes.get(76..79).unwrap_or_default());
    let bank = BANKS.iter().find(|b| b.bank == code).ok_or_else(|| {
        refuse(
            first.line,
            "codigo_banco",
            format!("banco \"{code}\" sem leiaute CNAB 400 conhecido"),
        )
    })?;
    let header = read(bank.header, &first.bytes, first.line)?;

    let mut entries = Vec::new();
    let mut trailer_seen = false;
    for rec in &records[1..] {
        if trailer_seen {
            return Err(refuse(
                rec.line,
                "tipo_registro",
                "registro depois do trailer do arquivo",
            ));
        }
        let kind = rec.bytes.first().copied().unwrap_or(b' ');
        if kind == bank.detail_type {
            let d = read(bank.detail, &rec.bytes, rec.line)?;
            entries.push(entry(bank, rec.line, &d));
        } else if kind == b'9' {
            read(TRAILER, &rec.bytes, rec.line)?;
            trailer_seen = true;
        } else if !bank.skip.contains(&kind) {
            return Err(refuse(
                rec.line,
                "tipo_registro",
                format!("tipo de registro \"{}\" desconhecido", kind as char),
            ));
        }
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
        layout: Family::Cnab400,
        agreement: header.text("convenio"),
        generated_on: header.date("data_geracao"),
        file_seq: header.int("sequencial_retorno"),
        entries,
    })
}

fn entry(bank: &Bank400, line: usize, d: &Fields) -> Entry {
    let occurrence = d.text("ocorrencia");
    let (occurrence_text, kind) = occurrences::lookup(bank.occurrences, None, &occurrence);
    let our_number = d.text("nosso_numero");
    let document = d.text("seu_numero");
    Entry {
        line,
        our_number_key: super::our_number::key(Some(bank.bank), &our_number),
        our_number,
        document_number: (!document.is_empty()).then_some(document),
        occurrence,
        occurrence_text,
        kind,
        reasons: d.codes("motivos"),
        face_cents: d.has("valor_titulo").then(|| d.cents("valor_titulo")),
        paid_cents: d.cents("valor_pago"),
        fee_cents: d.cents("tarifa"),
        discount_cents: d.cents("desconto"),
        interest_cents: d.cents("juros"),
        rebate_cents: d.cents("abatimento"),
        paid_on: d.date("data_ocorrencia"),
        credited_on: d.date("data_credito"),
    }
}
