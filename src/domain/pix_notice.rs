//! A PSP's PIX notice: the body of the webhook of the BACEN "API Pix" (version 2.8.2,
//! github.com/bacen/pix-api, the callback of `PUT /webhook/{chave}`: the PSP POSTs to the
//! registered URL with `/pix` appended), read and checked whole before anything is stored.
//!
//! ```json
//! {"pix": [{"endToEndId": "E1234...", "txid": "FAT10012", "valor": "123.45",
//!           "horario": "2026-12-05T10:00:00.00-03:00", "infoPagador": "...",
//!           "devolucoes": [{"id": "D1", "rtrId": "D1234...", "valor": "10.00",
//!                           "horario": {"solicitacao": "...", "liquidacao": "..."},
//!                           "status": "DEVOLVIDO"}]}]}
//! ```
//!
//! The API names more fields (`chave`, `pagador`, `componentesValor`, a refund's `natureza`,
//! `motivo`...); they are kept in the stored entry and otherwise ignored, as the API asks of
//! its clients. Where the API is stricter than a PSP may be, the reading is lenient when
//! nothing is lost by it (a `txid` of any printable characters becomes an unknown notice, a
//! `valor` given as a JSON number is read as its digits, a single refund given as an object
//! is a list of one), and strict where a wrong reading would move money (amounts, instants).

use chrono::{DateTime, NaiveDate, Utc};
use chrono_tz::Tz;
use serde_json::{Map, Value};

/// The version of the API Pix whose webhook body this module reads.
pub const API_PIX_VERSION: &str = "2.8.2";
/// Most entries in one notice: a PSP groups the payments of a key, never thousands.
pub const MAX_ENTRIES: usize = 1000;
/// The stored entry (JSON) is cut at this many bytes.
pub const RAW_MAX: usize = 4096;
/// `infoPagador` is at most 140 characters in the API; longer text is cut, not refused.
const PAYER_INFO_MAX: usize = 140;
/// The API's `endToEndId` has 32 characters; up to 64 are taken, so none is lost.
const E2E_MAX: usize = 64;
/// The API's `txid` and refund `id` have 1 to 35 characters.
const ID_MAX: usize = 35;
/// `valor` has at most 10 digits before the point (`\d{1,10}\.\d{2}`).
const INTEGER_DIGITS_MAX: usize = 10;

/// One payment the PSP received.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Notice {
    pub end_to_end_id: String,
    /// The charge's txid; `None` for a payment to the key without one (static QR, transfer).
    pub txid: Option<String>,
    pub amount_cents: i64,
    /// `horario` as the PSP wrote it.
    pub paid_at_given: String,
    pub paid_at: DateTime<Utc>,
    pub payer_info: Option<String>,
    pub refunds: Vec<Refund>,
    /// The entry as received (JSON), cut at `RAW_MAX` bytes.
    pub raw: String,
}

impl Notice {
    /// The operator's local date of the payment: the invoice's `paid_on`.
    pub fn paid_on(&self, tz: Tz) -> NaiveDate {
        self.paid_at.with_timezone(&tz).date_naive()
    }
}

/// A refund (devolução) of a payment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Refund {
    pub id: String,
    pub rtr_id: Option<String>,
    pub amount_cents: i64,
    pub requested_at: Option<DateTime<Utc>>,
    pub settled_at: Option<DateTime<Utc>>,
    pub status: RefundStatus,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RefundStatus {
    /// `EM_PROCESSAMENTO`: asked for, not yet settled.
    InProcess,
    /// `DEVOLVIDO`: the money went back to the payer.
    Returned,
    /// `NAO_REALIZADO`: the refund failed; the money stays.
    NotDone,
}

impl RefundStatus {
    pub const ALL: &[RefundStatus] = &[
        RefundStatus::InProcess,
        RefundStatus::Returned,
        RefundStatus::NotDone,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            RefundStatus::InProcess => "EM_PROCESSAMENTO",
            RefundStatus::Returned => "DEVOLVIDO",
            RefundStatus::NotDone => "NAO_REALIZADO",
        }
    }

    pub fn parse(text: &str) -> Option<RefundStatus> {
        Self::ALL
            .iter()
            .copied()
            .find(|s| s.as_str().eq_ignore_ascii_case(text.trim()))
    }
}

/// What became of a notice.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Outcome {
    /// It paid the invoice holding its txid.
    Paid,
    /// The invoice was already paid (by another payment): nothing changed.
    AlreadyPaid,
    /// No invoice holds its txid (or it has none): kept for an operator to match.
    Unknown,
    /// The invoice cannot be paid (cancelled); the reason is kept.
    Refused,
}

impl Outcome {
    pub const ALL: &[Outcome] = &[
        Outcome::Paid,
        Outcome::AlreadyPaid,
        Outcome::Unknown,
        Outcome::Refused,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Outcome::Paid => "pago",
            Outcome::AlreadyPaid => "ja_pago",
            Outcome::Unknown => "desconhecido",
            Outcome::Refused => "recusado",
        }
    }

    pub fn parse(text: &str) -> Option<Outcome> {
        Self::ALL.iter().copied().find(|o| o.as_str() == text)
    }
}

/// Whether the refunds settled (`DEVOLVIDO`) return the whole `amount_cents`.
pub fn returns_whole<'a>(
    amount_cents: i64,
    refunds: impl IntoIterator<Item = (i64, &'a str)>,
) -> bool {
    let returned: i64 = refunds
        .into_iter()
        .filter(|(_, status)| RefundStatus::parse(status) == Some(RefundStatus::Returned))
        .map(|(cents, _)| cents)
        .fold(0i64, i64::saturating_add);
    returned >= amount_cents
}

/// Reads a webhook body; the error (pt-BR) names the field that failed, e.g.
/// `pix[1].valor: use o formato 123.45.`
pub fn parse(body: &[u8]) -> Result<Vec<Notice>, String> {
    let value: Value = serde_json::from_slice(body).map_err(|e| format!("JSON inválido: {e}."))?;
    let Value::Object(root) = value else {
        return Err("o corpo deve ser um objeto JSON com a lista pix.".into());
    };
    let entries = match root.get("pix") {
        Some(Value::Array(list)) => list,
        Some(_) => return Err("pix: deve ser uma lista.".into()),
        None => return Err("pix: campo obrigatório.".into()),
    };
    if entries.len() > MAX_ENTRIES {
        return Err(format!(
            "pix: no máximo {MAX_ENTRIES} registros por notificação."
        ));
    }
    entries
        .iter()
        .enumerate()
        .map(|(i, entry)| notice(&format!("pix[{i}]"), entry))
        .collect()
}

fn notice(at: &str, entry: &Value) -> Result<Notice, String> {
    let Value::Object(fields) = entry else {
        return Err(format!("{at}: deve ser um objeto."));
    };
    let end_to_end_id = required_text(at, fields, "endToEndId")?;
    if !identifier(&end_to_end_id, E2E_MAX, |c| c.is_ascii_alphanumeric()) {
        return Err(format!(
            "{at}.endToEndId: use de 1 a {E2E_MAX} letras e dígitos."
        ));
    }
    let txid = match optional_text(at, fields, "txid")? {
        None => None,
        Some(t) if t.is_empty() => None,
        Some(t) if identifier(&t, ID_MAX, |c| c.is_ascii_graphic()) => Some(t),
        Some(_) => {
            return Err(format!(
                "{at}.txid: use de 1 a {ID_MAX} caracteres sem espaços."
            ));
        }
    };
    let amount_cents = amount(&format!("{at}.valor"), fields.get("valor"))?;
    let paid_at_given = required_text(at, fields, "horario")?;
    let paid_at = instant(&format!("{at}.horario"), &paid_at_given)?;
    let payer_info = optional_text(at, fields, "infoPagador")?
        .filter(|t| !t.trim().is_empty())
        .map(|t| t.chars().take(PAYER_INFO_MAX).collect());
    let refunds = match fields.get("devolucoes") {
        None | Some(Value::Null) => Vec::new(),
        Some(Value::Array(list)) => list
            .iter()
            .enumerate()
            .map(|(j, r)| refund(&format!("{at}.devolucoes[{j}]"), r))
            .collect::<Result<_, _>>()?,
        Some(one @ Value::Object(_)) => vec![refund(&format!("{at}.devolucoes"), one)?],
        Some(_) => return Err(format!("{at}.devolucoes: deve ser uma lista.")),
    };
    Ok(Notice {
        end_to_end_id,
        txid,
        amount_cents,
        paid_at_given,
        paid_at,
        payer_info,
        refunds,
        raw: bounded_raw(entry),
    })
}

fn refund(at: &str, entry: &Value) -> Result<Refund, String> {
    let Value::Object(fields) = entry else {
        return Err(format!("{at}: deve ser um objeto."));
    };
    let id = required_text(at, fields, "id")?;
    if !identifier(&id, ID_MAX, |c| c.is_ascii_graphic()) {
        return Err(format!(
            "{at}.id: use de 1 a {ID_MAX} caracteres sem espaços."
        ));
    }
    let rtr_id = optional_text(at, fields, "rtrId")?.filter(|t| !t.is_empty());
    if rtr_id
        .as_deref()
        .is_some_and(|r| !identifier(r, E2E_MAX, |c| c.is_ascii_alphanumeric()))
    {
        return Err(format!(
            "{at}.rtrId: use de 1 a {E2E_MAX} letras e dígitos."
        ));
    }
    let amount_cents = amount(&format!("{at}.valor"), fields.get("valor"))?;
    let (requested_at, settled_at) = match fields.get("horario") {
        None | Some(Value::Null) => (None, None),
        Some(Value::Object(times)) => {
            let at = format!("{at}.horario");
            let when = |name: &str| -> Result<Option<DateTime<Utc>>, String> {
                match optional_text(&at, times, name)? {
                    None => Ok(None),
                    Some(t) => instant(&format!("{at}.{name}"), &t).map(Some),
                }
            };
            (when("solicitacao")?, when("liquidacao")?)
        }
        Some(_) => {
            return Err(format!(
                "{at}.horario: deve ser um objeto com solicitacao e liquidacao."
            ));
        }
    };
    let status_text = required_text(at, fields, "status")?;
    let status = RefundStatus::parse(&status_text)
        .ok_or_else(|| format!("{at}.status: use EM_PROCESSAMENTO, DEVOLVIDO ou NAO_REALIZADO."))?;
    Ok(Refund {
        id,
        rtr_id,
        amount_cents,
        requested_at,
        settled_at,
        status,
    })
}

fn required_text(at: &str, fields: &Map<String, Value>, name: &str) -> Result<String, String> {
    optional_text(at, fields, name)?.ok_or_else(|| format!("{at}.{name}: campo obrigatório."))
}

fn optional_text(
    at: &str,
    fields: &Map<String, Value>,
    name: &str,
) -> Result<Option<String>, String> {
    match fields.get(name) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) => Ok(Some(s.trim().to_string())),
        Some(_) => Err(format!("{at}.{name}: deve ser um texto.")),
    }
}

/// 1 to `max` characters, each one `allowed`.
fn identifier(text: &str, max: usize, allowed: impl Fn(char) -> bool) -> bool {
    (1..=max).contains(&text.chars().count()) && text.chars().all(allowed)
}

/// An RFC 3339 instant with its offset (`2026-12-05T10:00:00.00-03:00`, `...Z`).
fn instant(at: &str, text: &str) -> Result<DateTime<Utc>, String> {
    DateTime::parse_from_rfc3339(text.trim())
        .map(|t| t.to_utc())
        .map_err(|_| {
            format!("{at}: use data e hora RFC 3339 com fuso (2026-12-05T10:00:00-03:00).")
        })
}

/// A positive amount in reais: `"123.45"` (the API's form), `"123.4"`, `"123"`, or the same
/// digits as a JSON number; never more than two decimals, never a sign or an exponent.
fn amount(at: &str, value: Option<&Value>) -> Result<i64, String> {
    let text = match value {
        Some(Value::String(s)) => s.trim().to_string(),
        Some(Value::Number(n)) => n.to_string(),
        None | Some(Value::Null) => return Err(format!("{at}: campo obrigatório.")),
        Some(_) => return Err(format!("{at}: use o formato 123.45.")),
    };
    let cents = reais_to_cents(&text).ok_or_else(|| format!("{at}: use o formato 123.45."))?;
    if cents <= 0 {
        return Err(format!("{at}: deve ser maior que zero."));
    }
    Ok(cents)
}

/// `\d{1,10}(\.\d{1,2})?` in centavos.
fn reais_to_cents(text: &str) -> Option<i64> {
    let (whole, fraction) = match text.split_once('.') {
        Some((w, f)) => (w, f),
        None => (text, ""),
    };
    let digits = |s: &str| s.bytes().all(|b| b.is_ascii_digit());
    if whole.is_empty()
        || whole.len() > INTEGER_DIGITS_MAX
        || !digits(whole)
        || fraction.len() > 2
        || !digits(fraction)
        || (text.contains('.') && fraction.is_empty())
    {
        return None;
    }
    let whole: i64 = whole.parse().ok()?;
    let fraction: i64 = match fraction.len() {
        0 => 0,
        1 => fraction.parse::<i64>().ok()? * 10,
        _ => fraction.parse().ok()?,
    };
    whole.checked_mul(100)?.checked_add(fraction)
}

/// The entry as JSON, cut at a character boundary below `RAW_MAX` bytes.
fn bounded_raw(entry: &Value) -> String {
    let text = entry.to_string();
    if text.len() <= RAW_MAX {
        return text;
    }
    let mut end = RAW_MAX;
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    text[..end].to_string()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    const E2E: &str = "E12345678202612051300abcdef123456";

    fn body(entries: Value) -> Vec<u8> {
        json!({ "pix": entries }).to_string().into_bytes()
    }

    fn entry() -> Value {
        json!({
            "endToEndId": E2E, "txid": "FAT10012", "valor": "123.45",
            "horario": "2026-12-05T22:30:00.00-03:00", "infoPagador": "fatura de dezembro",
            "chave": "provedor@example.com"
        })
    }

    #[test]
    fn reads_the_apis_example() {
        let notices = parse(&body(json!([entry()]))).unwrap();
        let n = &notices[0];
        assert_eq!(n.end_to_end_id, E2E);
        assert_eq!(n.txid.as_deref(), Some("FAT10012"));
        assert_eq!(n.amount_cents, 12345);
        assert_eq!(n.paid_at_given, "2026-12-05T22:30:00.00-03:00");
        assert_eq!(n.paid_at.to_rfc3339(), "2026-12-06T01:30:00+00:00");
        // 22:30 in São Paulo is the next day in UTC: the invoice is paid on the local date.
        let sp = chrono_tz::America::Sao_Paulo;
        assert_eq!(n.paid_on(sp).to_string(), "2026-12-05");
        assert_eq!(n.payer_info.as_deref(), Some("fatura de dezembro"));
        assert!(n.refunds.is_empty());
        assert!(n.raw.contains("provedor@example.com"), "{}", n.raw);
    }

    #[test]
    fn amounts_are_exact_centavos() {
        for (given, cents) in [
            (json!("123.45"), 12345),
            (json!("0.01"), 1),
            (json!("7.5"), 750),
            (json!("10"), 1000),
            (json!(110.1), 11010),
            (json!(49), 4900),
            (json!("9999999999.99"), 999_999_999_999),
        ] {
            let mut e = entry();
            e["valor"] = given.clone();
            assert_eq!(
                parse(&body(json!([e]))).unwrap()[0].amount_cents,
                cents,
                "{given}"
            );
        }
        for bad in [
            json!("0.00"),
            json!("-1.00"),
            json!("1.234"),
            json!("1,50"),
            json!("1e3"),
            json!(""),
            json!("."),
            json!("1."),
            json!(".5"),
            json!("12345678901.00"),
            json!(1.005),
            json!(true),
            json!(null),
        ] {
            let mut e = entry();
            e["valor"] = bad.clone();
            let err = parse(&body(json!([e]))).unwrap_err();
            assert!(err.starts_with("pix[0].valor: "), "{bad}: {err}");
        }
    }

    #[test]
    fn errors_name_the_field() {
        let cases: Vec<(Vec<u8>, &str)> = vec![
            (b"{".to_vec(), "JSON inválido"),
            (b"[]".to_vec(), "o corpo deve ser um objeto"),
            (b"{}".to_vec(), "pix: campo obrigatório."),
            (
                json!({"pix": {}}).to_string().into_bytes(),
                "pix: deve ser uma lista.",
            ),
            (body(json!([1])), "pix[0]: deve ser um objeto."),
            (
                body(
                    json!([entry(), {"txid": "X", "valor": "1.00", "horario": "2026-12-05T10:00:00Z"}]),
                ),
                "pix[1].endToEndId: campo obrigatório.",
            ),
            (
                body(
                    json!([{"endToEndId": "E 1", "valor": "1.00", "horario": "2026-12-05T10:00:00Z"}]),
                ),
                "pix[0].endToEndId: use de 1 a 64",
            ),
            (
                body(
                    json!([{"endToEndId": "E1", "txid": "tem espaço", "valor": "1.00", "horario": "2026-12-05T10:00:00Z"}]),
                ),
                "pix[0].txid: use de 1 a 35",
            ),
            (
                body(json!([{"endToEndId": "E1", "valor": "1.00", "horario": "2026-12-05 10:00"}])),
                "pix[0].horario: use data e hora RFC 3339",
            ),
            (
                body(json!([{"endToEndId": "E1", "valor": "1.00"}])),
                "pix[0].horario: campo obrigatório.",
            ),
            (
                body(
                    json!([{"endToEndId": "E1", "valor": "1.00", "horario": "2026-12-05T10:00:00Z", "infoPagador": 5}]),
                ),
                "pix[0].infoPagador: deve ser um texto.",
            ),
            (
                body(
                    json!([{"endToEndId": "E1", "valor": "1.00", "horario": "2026-12-05T10:00:00Z", "devolucoes": [{"id": "D1", "valor": "1.00", "status": "FEITO"}]}]),
                ),
                "pix[0].devolucoes[0].status: use EM_PROCESSAMENTO",
            ),
            (
                body(
                    json!([{"endToEndId": "E1", "valor": "1.00", "horario": "2026-12-05T10:00:00Z", "devolucoes": [{"id": "D1", "valor": "1.00", "status": "DEVOLVIDO", "horario": {"liquidacao": "ontem"}}]}]),
                ),
                "pix[0].devolucoes[0].horario.liquidacao: use data e hora",
            ),
            (
                body(
                    json!([{"endToEndId": "E1", "valor": "1.00", "horario": "2026-12-05T10:00:00Z", "devolucoes": "D1"}]),
                ),
                "pix[0].devolucoes: deve ser uma lista.",
            ),
        ];
        for (body, expected) in cases {
            let err = parse(&body).unwrap_err();
            assert!(
                err.starts_with(expected),
                "{}: {err}",
                String::from_utf8_lossy(&body)
            );
        }
        let many: Vec<Value> = (0..=MAX_ENTRIES).map(|_| entry()).collect();
        assert!(
            parse(&body(json!(many)))
                .unwrap_err()
                .starts_with("pix: no máximo")
        );
    }

    #[test]
    fn lenient_where_nothing_is_lost() {
        let e = json!({
            "endToEndId": "E1", "txid": "", "valor": "5.00", "horario": "2026-12-05T10:00:00Z",
            "infoPagador": "x".repeat(500),
            "devolucoes": {"id": "D1", "rtrId": "D123", "valor": "5.00", "status": "devolvido",
                            "horario": {"solicitacao": "2026-12-05T11:00:00-03:00"}}
        });
        let n = &parse(&body(json!([e]))).unwrap()[0];
        assert_eq!(n.txid, None);
        assert_eq!(n.payer_info.as_ref().map(|p| p.chars().count()), Some(140));
        assert_eq!(n.refunds.len(), 1);
        let r = &n.refunds[0];
        assert_eq!(r.status, RefundStatus::Returned);
        assert_eq!(r.rtr_id.as_deref(), Some("D123"));
        assert_eq!(
            r.requested_at.map(|t| t.to_rfc3339()).as_deref(),
            Some("2026-12-05T14:00:00+00:00")
        );
        assert_eq!(r.settled_at, None);
        assert!(parse(&body(json!([]))).unwrap().is_empty());
    }

    #[test]
    fn the_stored_entry_is_bounded() {
        let mut e = entry();
        e["chave"] = json!("é".repeat(5000));
        let raw = &parse(&body(json!([e]))).unwrap()[0].raw;
        assert!(
            raw.len() <= RAW_MAX && raw.len() > RAW_MAX - 4,
            "{}",
            raw.len()
        );
    }

    #[test]
    fn whole_refunds_count_only_the_settled() {
        assert!(returns_whole(
            1000,
            [(400, "DEVOLVIDO"), (600, "DEVOLVIDO")]
        ));
        assert!(!returns_whole(
            1000,
            [(400, "DEVOLVIDO"), (600, "EM_PROCESSAMENTO")]
        ));
        assert!(!returns_whole(1000, [(1000, "NAO_REALIZADO")]));
        assert!(!returns_whole(1000, []));
        assert!(returns_whole(
            1000,
            [(i64::MAX, "DEVOLVIDO"), (1, "DEVOLVIDO")]
        ));
    }

    #[test]
    fn outcomes_read_back() {
        for o in Outcome::ALL {
            assert_eq!(Outcome::parse(o.as_str()), Some(*o));
        }
        assert_eq!(Outcome::parse("pendente"), None);
    }
}
