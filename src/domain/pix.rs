//! PIX "BR Code" copia-e-cola: an EMV QRCPS merchant-presented payload made of TLV fields
//! (2-digit id, 2-digit length, value) closed by a CRC16 field.

/// Globally unique identifier of the PIX arrangement inside field 26.
const PIX_GUI: &str = "br.gov.bcb.pix";
/// Longest DICT key (an e-mail); it also exactly fills field 26 (18 + 4 + 77 = 99).
const MAX_KEY_LEN: usize = 77;
const MAX_NAME_LEN: usize = 25;
const MAX_CITY_LEN: usize = 15;
const MAX_TXID_LEN: usize = 25;
/// EMV requires non-empty name and city; they are informative only (the key routes the
/// payment), so a neutral placeholder is better than an invalid code.
const NAME_FALLBACK: &str = "NAO INFORMADO";
const CITY_FALLBACK: &str = "BRASIL";
/// "No txid" as defined by the BCB manual.
const TXID_NONE: &str = "***";
const CRC_HEADER: &str = "6304";

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PixPayload {
    pub key: String,
    pub merchant_name: String,
    pub merchant_city: String,
    /// `None` (or zero) lets the payer type the amount.
    pub amount_cents: Option<u64>,
    pub txid: String,
}

/// Builds the copia-e-cola string. Inputs are sanitized rather than rejected so the result
/// is always a well-formed code: the key keeps only visible ASCII (real keys never have
/// anything else), name and city are folded to uppercase ASCII and truncated, and the txid
/// keeps only ASCII alphanumerics.
pub fn build(p: &PixPayload) -> String {
    let key: String = p
        .key
        .chars()
        .filter(char::is_ascii_graphic)
        .take(MAX_KEY_LEN)
        .collect();
    let mut account = String::new();
    push_tlv(&mut account, "00", PIX_GUI);
    push_tlv(&mut account, "01", &key);

    let mut txid: String = p
        .txid
        .chars()
        .filter(char::is_ascii_alphanumeric)
        .take(MAX_TXID_LEN)
        .collect();
    if txid.is_empty() {
        txid = TXID_NONE.to_string();
    }
    let mut additional = String::new();
    push_tlv(&mut additional, "05", &txid);

    let mut out = String::with_capacity(256);
    push_tlv(&mut out, "00", "01");
    push_tlv(&mut out, "26", &account);
    push_tlv(&mut out, "52", "0000");
    push_tlv(&mut out, "53", "986");
    // A zero amount would ask the payer for R$ 0,00, which banks refuse; omit it instead.
    if let Some(cents) = p.amount_cents.filter(|&c| c > 0) {
        push_tlv(
            &mut out,
            "54",
            &format!("{}.{:02}", cents / 100, cents % 100),
        );
    }
    push_tlv(&mut out, "58", "BR");
    push_tlv(
        &mut out,
        "59",
        &fold_upper(&p.merchant_name, MAX_NAME_LEN, NAME_FALLBACK),
    );
    push_tlv(
        &mut out,
        "60",
        &fold_upper(&p.merchant_city, MAX_CITY_LEN, CITY_FALLBACK),
    );
    push_tlv(&mut out, "62", &additional);
    // The CRC covers its own id and length, so they go in before computing it.
    out.push_str(CRC_HEADER);
    let crc = crc16(out.as_bytes());
    out.push_str(&format!("{crc:04X}"));
    out
}

/// CRC-16/CCITT-FALSE (poly 0x1021, init 0xFFFF, no reflection, no final xor).
pub fn crc16(data: &[u8]) -> u16 {
    let mut crc: u16 = 0xFFFF;
    for &byte in data {
        crc ^= u16::from(byte) << 8;
        for _ in 0..8 {
            crc = if crc & 0x8000 != 0 {
                (crc << 1) ^ 0x1021
            } else {
                crc << 1
            };
        }
    }
    crc
}

/// Full structural check: printable ASCII only (the EMV "ans" charset, which also makes
/// lengths in characters equal lengths in bytes), TLV fields consuming the whole string,
/// `000201` first, a single `63` field last with 4 uppercase hex digits matching the CRC.
pub fn validate(code: &str) -> bool {
    if !code.bytes().all(|b| (0x20..=0x7E).contains(&b)) {
        return false;
    }
    let Some(fields) = parse_tlv(code) else {
        return false;
    };
    let Some(((first_id, first_value), _)) = fields.split_first() else {
        return false;
    };
    if first_id != "00" || first_value != "01" {
        return false;
    }
    let Some(((crc_id, crc_value), others)) = fields.split_last() else {
        return false;
    };
    if crc_id != "63" || others.iter().any(|(id, _)| id == "63") {
        return false;
    }
    // Uppercase only: a single canonical spelling, and from_str_radix would accept a '+'.
    if crc_value.len() != 4
        || !crc_value
            .bytes()
            .all(|b| b.is_ascii_digit() || (b'A'..=b'F').contains(&b))
    {
        return false;
    }
    let Ok(expected) = u16::from_str_radix(crc_value, 16) else {
        return false;
    };
    match code.len().checked_sub(4).and_then(|end| code.get(..end)) {
        Some(covered) => crc16(covered.as_bytes()) == expected,
        None => false,
    }
}

/// The txid of a copia-e-cola (field 62, subfield 05), unless it is the "no txid" mark.
pub fn txid(code: &str) -> Option<String> {
    let fields = parse_tlv(code)?;
    let (_, additional) = fields.iter().find(|(id, _)| id == "62")?;
    let sub = parse_tlv(additional)?;
    let (_, txid) = sub.into_iter().find(|(id, _)| id == "05")?;
    (!txid.is_empty() && txid != TXID_NONE).then_some(txid)
}

/// Splits a TLV string into `(id, value)` pairs; `None` unless it is consumed exactly.
/// Lengths count characters, as EMV does, and slicing follows char boundaries so any UTF-8
/// input is safe.
pub fn parse_tlv(code: &str) -> Option<Vec<(String, String)>> {
    let mut fields = Vec::new();
    let mut rest = code;
    while !rest.is_empty() {
        let (id, after_id) = split_chars(rest, 2)?;
        let (len, after_len) = split_chars(after_id, 2)?;
        if !is_two_digits(id) || !is_two_digits(len) {
            return None;
        }
        let len: usize = len.parse().ok()?;
        let (value, after_value) = split_chars(after_len, len)?;
        fields.push((id.to_string(), value.to_string()));
        rest = after_value;
    }
    Some(fields)
}

fn is_two_digits(s: &str) -> bool {
    s.len() == 2 && s.bytes().all(|b| b.is_ascii_digit())
}

/// Splits after `n` characters, or `None` if `s` is shorter.
fn split_chars(s: &str, n: usize) -> Option<(&str, &str)> {
    let at = s
        .char_indices()
        .map(|(i, _)| i)
        .chain(std::iter::once(s.len()))
        .nth(n)?;
    s.split_at_checked(at)
}

/// Appends one TLV field. Callers keep values within 99 ASCII characters by construction.
fn push_tlv(out: &mut String, id: &str, value: &str) {
    debug_assert!(value.len() <= 99 && value.is_ascii());
    out.push_str(&format!("{id}{:02}{value}", value.len()));
}

/// Uppercase ASCII with accents removed, whitespace collapsed and truncated to `max`;
/// `fallback` when nothing usable is left.
fn fold_upper(s: &str, max: usize, fallback: &str) -> String {
    let folded: String = s.chars().filter_map(fold_char).collect();
    let collapsed = folded.split_whitespace().collect::<Vec<_>>().join(" ");
    let truncated: String = collapsed.chars().take(max).collect();
    let trimmed = truncated.trim_end();
    if trimmed.is_empty() {
        fallback.to_string()
    } else {
        trimmed.to_string()
    }
}

/// Maps Portuguese (and common Latin-1) letters to their unaccented uppercase form; other
/// non-ASCII characters are dropped since the field only allows printable ASCII.
fn fold_char(c: char) -> Option<char> {
    if c.is_ascii_graphic() || c == ' ' {
        return Some(c.to_ascii_uppercase());
    }
    if c.is_whitespace() {
        return Some(' ');
    }
    let folded = match c {
        'á' | 'à' | 'â' | 'ã' | 'ä' | 'å' | 'Á' | 'À' | 'Â' | 'Ã' | 'Ä' | 'Å' => 'A',
        'é' | 'è' | 'ê' | 'ë' | 'É' | 'È' | 'Ê' | 'Ë' => 'E',
        'í' | 'ì' | 'î' | 'ï' | 'Í' | 'Ì' | 'Î' | 'Ï' => 'I',
        'ó' | 'ò' | 'ô' | 'õ' | 'ö' | 'Ó' | 'Ò' | 'Ô' | 'Õ' | 'Ö' => 'O',
        'ú' | 'ù' | 'û' | 'ü' | 'Ú' | 'Ù' | 'Û' | 'Ü' => 'U',
        'ç' | 'Ç' => 'C',
        'ñ' | 'Ñ' => 'N',
        'ý' | 'ÿ' | 'Ý' => 'Y',
        _ => return None,
    };
    Some(folded)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn field<'a>(fields: &'a [(String, String)], id: &str) -> Option<&'a str> {
        fields
            .iter()
            .find(|(i, _)| i == id)
            .map(|(_, v)| v.as_str())
    }

    fn sample() -> PixPayload {
        PixPayload {
            key: "123e4567-e12b-12d1-a456-426655440000".to_string(),
            merchant_name: "Provedor Conexão Rápida Ltda".to_string(),
            merchant_city: "São João del-Rei".to_string(),
            amount_cents: Some(4990),
            txid: "FAT-2024/0001".to_string(),
        }
    }

    #[test]
    fn txid_is_read_back_and_the_none_mark_is_none() {
        assert_eq!(txid(&build(&sample())).as_deref(), Some("FAT20240001"));
        let none = PixPayload {
            txid: String::new(),
            ..sample()
        };
        assert_eq!(txid(&build(&none)), None);
        assert_eq!(txid("not a code"), None);
    }

    #[test]
    fn crc16_check_value() {
        assert_eq!(crc16(b"123456789"), 0x29B1);
        assert_eq!(crc16(b""), 0xFFFF);
    }

    #[test]
    fn bcb_manual_example_validates() {
        let code = "00020126580014br.gov.bcb.pix0136123e4567-e12b-12d1-a456-426655440000\
                    5204000053039865802BR5913Fulano de Tal6008BRASILIA62070503***63041D3D";
        assert!(validate(code));
    }

    #[test]
    fn build_produces_expected_fields() {
        let code = build(&sample());
        assert!(validate(&code), "{code}");
        assert!(code.starts_with("000201"));
        let fields = parse_tlv(&code).expect("well formed");
        let ids: Vec<&str> = fields.iter().map(|(id, _)| id.as_str()).collect();
        assert_eq!(
            ids,
            ["00", "26", "52", "53", "54", "58", "59", "60", "62", "63"]
        );
        assert_eq!(
            field(&fields, "26"),
            Some("0014br.gov.bcb.pix0136123e4567-e12b-12d1-a456-426655440000")
        );
        assert_eq!(field(&fields, "52"), Some("0000"));
        assert_eq!(field(&fields, "53"), Some("986"));
        assert_eq!(field(&fields, "54"), Some("49.90"));
        assert_eq!(field(&fields, "58"), Some("BR"));
        assert_eq!(field(&fields, "59"), Some("PROVEDOR CONEXAO RAPIDA L"));
        assert_eq!(field(&fields, "60"), Some("SAO JOAO DEL-RE"));
        assert_eq!(field(&fields, "62"), Some("0511FAT20240001"));
    }

    #[test]
    fn build_handles_missing_and_odd_values() {
        let p = PixPayload {
            key: "fulano@example.com".to_string(),
            merchant_name: "😀".to_string(),
            merchant_city: "  ".to_string(),
            amount_cents: Some(0),
            txid: String::new(),
        };
        let code = build(&p);
        assert!(validate(&code), "{code}");
        let fields = parse_tlv(&code).expect("well formed");
        assert_eq!(field(&fields, "54"), None);
        assert_eq!(field(&fields, "59"), Some(NAME_FALLBACK));
        assert_eq!(field(&fields, "60"), Some(CITY_FALLBACK));
        assert_eq!(field(&fields, "62"), Some("0503***"));

        let p = PixPayload {
            amount_cents: Some(5),
            ..sample()
        };
        let fields = parse_tlv(&build(&p)).expect("well formed");
        assert_eq!(field(&fields, "54"), Some("0.05"));
        let p = PixPayload {
            amount_cents: None,
            ..sample()
        };
        assert_eq!(field(&parse_tlv(&build(&p)).expect("ok"), "54"), None);
    }

    #[test]
    fn rejects_malformed_codes() {
        let code = build(&sample());
        assert!(!validate(""));
        assert!(!validate("000201"));
        assert!(!validate(&format!("{code}0")));
        assert!(!validate(&code[..code.len() - 1]));
        assert!(!validate(&code.to_lowercase()));
        // Right CRC but wrong first field.
        let body = "000202520400006304";
        let bad_start = format!("{body}{:04X}", crc16(body.as_bytes()));
        assert!(!validate(&bad_start));
        let ok = "0002016304";
        assert!(validate(&format!("{ok}{:04X}", crc16(ok.as_bytes()))));
        assert_eq!(parse_tlv("0002"), None);
        assert_eq!(parse_tlv("0a0201"), None);
        assert_eq!(parse_tlv("00+101"), None);
        assert_eq!(
            parse_tlv("0002é1"),
            Some(vec![("00".to_string(), "é1".to_string())])
        );
    }

    fn payload() -> impl Strategy<Value = PixPayload> {
        (
            prop_oneof![any::<String>(), "[a-zA-Z0-9@.+\\-]{1,100}"],
            any::<String>(),
            any::<String>(),
            prop::option::of(any::<u64>()),
            prop_oneof![any::<String>(), "[A-Za-z0-9]{0,40}"],
        )
            .prop_map(|(key, merchant_name, merchant_city, amount_cents, txid)| {
                PixPayload {
                    key,
                    merchant_name,
                    merchant_city,
                    amount_cents,
                    txid,
                }
            })
    }

    proptest! {
        #[test]
        fn built_codes_validate(p in payload()) {
            let code = build(&p);
            prop_assert!(validate(&code), "{}", code);
            let fields = parse_tlv(&code).expect("well formed");
            prop_assert!(field(&fields, "59").is_some_and(|v| (1..=MAX_NAME_LEN).contains(&v.len())));
            prop_assert!(field(&fields, "60").is_some_and(|v| (1..=MAX_CITY_LEN).contains(&v.len())));
        }

        #[test]
        fn any_single_character_change_is_rejected(
            p in payload(),
            at in any::<prop::sample::Index>(),
            replacement in prop_oneof![any::<char>(), prop::char::range(' ', '~')],
        ) {
            let code = build(&p);
            let mut chars: Vec<char> = code.chars().collect();
            let i = at.index(chars.len());
            chars[i] = replacement;
            let altered: String = chars.into_iter().collect();
            if altered != code {
                prop_assert!(!validate(&altered), "{}", altered);
            }
        }

        #[test]
        fn never_panics(s in any::<String>(), t in "[0-9A-Fé😀]{0,40}") {
            for input in [&s, &t] {
                let _ = validate(input);
                let _ = parse_tlv(input);
                let _ = crc16(input.as_bytes());
            }
        }
    }
}
