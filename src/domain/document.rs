//! Brazilian taxpayer documents: CPF (people) and CNPJ (companies).
//!
//! Values are kept normalized (no punctuation, uppercase) so they compare and store as-is;
//! punctuation is added only for display, and `Display` masks so logs never leak a document.

use std::fmt;

const CPF_LEN: usize = 11;
const CNPJ_LEN: usize = 14;

const CPF_FORMAT: &str = "###.###.###-##";
const CPF_MASK: &str = "###.NNN.###-NN";
const CNPJ_FORMAT: &str = "##.###.###/####-##";
const CNPJ_MASK: &str = "##.NNN.###/####-NN";

const CNPJ_WEIGHTS_1: [u32; 12] = [5, 4, 3, 2, 9, 8, 7, 6, 5, 4, 3, 2];
const CNPJ_WEIGHTS_2: [u32; 13] = [6, 5, 4, 3, 2, 9, 8, 7, 6, 5, 4, 3, 2];

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Kind {
    Cpf,
    Cnpj,
}

/// A document whose check digits have been verified.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Document {
    kind: Kind,
    /// 11 digits for a CPF, 14 uppercase alphanumerics for a CNPJ.
    value: String,
}

impl Document {
    pub fn kind(&self) -> Kind {
        self.kind
    }

    /// The normalized value, e.g. `52998224725` or `12ABC34501DE35`.
    pub fn as_str(&self) -> &str {
        &self.value
    }

    /// `529.982.247-25` or `12.ABC.345/01DE-35`.
    pub fn formatted(&self) -> String {
        match self.kind {
            Kind::Cpf => apply_template(CPF_FORMAT, &self.value),
            Kind::Cnpj => apply_template(CNPJ_FORMAT, &self.value),
        }
    }

    /// `529.NNN.247-NN` or `12.NNN.345/01DE-NN`: enough to recognise, not enough to reuse.
    pub fn masked(&self) -> String {
        match self.kind {
            Kind::Cpf => apply_template(CPF_MASK, &self.value),
            Kind::Cnpj => apply_template(CNPJ_MASK, &self.value),
        }
    }
}

impl fmt::Display for Document {
    // Masked on purpose: a document interpolated into a log line must not leak.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.masked())
    }
}

/// Parses whatever a caller typed or a keypad sent.
///
/// Every non-alphanumeric ASCII character is dropped and the rest uppercased. A valid
/// 14-character (possibly alphanumeric) CNPJ wins; otherwise the digits alone are tried as a
/// CPF (11) or numeric CNPJ (14), which lets labels such as `CPF 529...` through.
pub fn parse(input: &str) -> Option<Document> {
    let alnum: String = input
        .chars()
        .filter(char::is_ascii_alphanumeric)
        .map(|c| c.to_ascii_uppercase())
        .collect();
    if is_valid_cnpj(&alnum) {
        return Some(Document {
            kind: Kind::Cnpj,
            value: alnum,
        });
    }
    let digits: String = alnum.chars().filter(char::is_ascii_digit).collect();
    match digits.len() {
        CPF_LEN if is_valid_cpf(&digits) => Some(Document {
            kind: Kind::Cpf,
            value: digits,
        }),
        CNPJ_LEN if is_valid_cnpj(&digits) => Some(Document {
            kind: Kind::Cnpj,
            value: digits,
        }),
        _ => None,
    }
}

/// The two CPF check digits for 9 leading digits, or `None` if `first9` is not 9 digits.
pub fn cpf_check_digits(first9: &str) -> Option<String> {
    let bytes = first9.as_bytes();
    if bytes.len() != 9 || !bytes.iter().all(u8::is_ascii_digit) {
        return None;
    }
    let mut values: Vec<u32> = bytes.iter().map(|&b| u32::from(b - b'0')).collect();
    // Weights run from len+1 down to 2 over the digits so far.
    let dv1 = mod11_dv(&values, &[10, 9, 8, 7, 6, 5, 4, 3, 2]);
    values.push(dv1);
    let dv2 = mod11_dv(&values, &[11, 10, 9, 8, 7, 6, 5, 4, 3, 2]);
    Some(format!("{dv1}{dv2}"))
}

/// The two CNPJ check digits for 12 leading characters (digits or letters, case-insensitive,
/// as in the alphanumeric CNPJ), or `None` if `first12` is not 12 such characters.
pub fn cnpj_check_digits(first12: &str) -> Option<String> {
    let bytes = first12.as_bytes();
    if bytes.len() != 12 || !bytes.iter().all(u8::is_ascii_alphanumeric) {
        return None;
    }
    // Receita Federal rule: each character counts as its ASCII code minus 48, so digits keep
    // their value and 'A'..'Z' become 17..42.
    let mut values: Vec<u32> = bytes
        .iter()
        .map(|b| u32::from(b.to_ascii_uppercase() - b'0'))
        .collect();
    let dv1 = mod11_dv(&values, &CNPJ_WEIGHTS_1);
    values.push(dv1);
    let dv2 = mod11_dv(&values, &CNPJ_WEIGHTS_2);
    Some(format!("{dv1}{dv2}"))
}

/// Masks a stored normalized value; anything unexpected keeps only its first 3 characters,
/// since odd stored data may still be a document and must not leak into logs.
pub fn mask_str(stored: &str) -> String {
    if is_cpf_shaped(stored) {
        apply_template(CPF_MASK, stored)
    } else if is_cnpj_shaped(stored) {
        apply_template(CNPJ_MASK, stored)
    } else {
        stored
            .chars()
            .enumerate()
            .map(|(i, c)| if i < 3 { c } else { '*' })
            .collect()
    }
}

/// Formats a stored normalized value; anything else is returned unchanged.
pub fn format_str(stored: &str) -> String {
    if is_cpf_shaped(stored) {
        apply_template(CPF_FORMAT, stored)
    } else if is_cnpj_shaped(stored) {
        apply_template(CNPJ_FORMAT, stored)
    } else {
        stored.to_string()
    }
}

/// Shape only (no check digits): stored data is formatted as found.
fn is_cpf_shaped(s: &str) -> bool {
    s.len() == CPF_LEN && s.bytes().all(|b| b.is_ascii_digit())
}

fn is_cnpj_shaped(s: &str) -> bool {
    s.len() == CNPJ_LEN && s.bytes().all(|b| b.is_ascii_alphanumeric())
}

fn is_valid_cpf(s: &str) -> bool {
    if !is_cpf_shaped(s) || is_one_repeated_char(s) {
        return false;
    }
    match s.split_at_checked(9) {
        Some((head, dvs)) => cpf_check_digits(head).as_deref() == Some(dvs),
        None => false,
    }
}

/// Expects an already uppercased value, as `parse` produces.
fn is_valid_cnpj(s: &str) -> bool {
    if s.len() != CNPJ_LEN || is_one_repeated_char(s) {
        return false;
    }
    let Some((head, dvs)) = s.split_at_checked(12) else {
        return false;
    };
    // Letters only in the first 12 positions; lowercase never reaches here from `parse`.
    let head_ok = head
        .bytes()
        .all(|b| b.is_ascii_digit() || b.is_ascii_uppercase());
    head_ok
        && dvs.bytes().all(|b| b.is_ascii_digit())
        && cnpj_check_digits(head).as_deref() == Some(dvs)
}

/// `00000000000` and friends pass the modulo-11 arithmetic but are not real documents.
fn is_one_repeated_char(s: &str) -> bool {
    let mut chars = s.chars();
    match chars.next() {
        Some(first) => chars.all(|c| c == first),
        None => true,
    }
}

/// Modulo 11 with remainder < 2 mapping to 0, shared by CPF and CNPJ.
fn mod11_dv(values: &[u32], weights: &[u32]) -> u32 {
    let sum: u32 = values.iter().zip(weights).map(|(v, w)| v * w).sum();
    match sum % 11 {
        r if r < 2 => 0,
        r => 11 - r,
    }
}

/// `#` copies the next character, `N` consumes one and hides it, anything else is literal.
/// Char-based, so it cannot panic whatever the input.
fn apply_template(template: &str, value: &str) -> String {
    let mut chars = value.chars();
    template
        .chars()
        .filter_map(|t| match t {
            '#' => chars.next(),
            'N' => {
                chars.next();
                Some('N')
            }
            literal => Some(literal),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn doc(input: &str) -> Document {
        parse(input).unwrap_or_else(|| panic!("{input:?} should parse"))
    }

    #[test]
    fn parses_cpf_examples() {
        for input in [
            "529.982.247-25",
            "52998224725",
            " 529 982 247 25 ",
            "CPF 52998224725",
        ] {
            let d = doc(input);
            assert_eq!(d.kind(), Kind::Cpf, "{input}");
            assert_eq!(d.as_str(), "52998224725", "{input}");
        }
        assert_eq!(doc("111.444.777-35").as_str(), "11144477735");
        assert_eq!(doc("390.533.447-05").as_str(), "39053344705");
    }

    #[test]
    fn label_prefix_is_not_a_cnpj() {
        // The rule relies on this 14-character string failing the CNPJ check.
        assert!(!is_valid_cnpj("CPF52998224725"));
    }

    #[test]
    fn parses_cnpj_examples() {
        for input in ["12.ABC.345/01DE-35", "12abc34501de35"] {
            let d = doc(input);
            assert_eq!(d.kind(), Kind::Cnpj);
            assert_eq!(d.as_str(), "12ABC34501DE35");
        }
        let d = doc("11.222.333/0001-81");
        assert_eq!(d.kind(), Kind::Cnpj);
        assert_eq!(d.as_str(), "11222333000181");
    }

    #[test]
    fn rejects_bad_input() {
        for input in [
            "529.982.247-26",
            "123",
            "",
            "11111111111",
            "00000000000",
            "00000000000000",
            "99.999.999/9999-99",
        ] {
            assert_eq!(parse(input), None, "{input:?}");
        }
    }

    #[test]
    fn check_digit_helpers() {
        assert_eq!(cpf_check_digits("529982247").as_deref(), Some("25"));
        assert_eq!(cnpj_check_digits("112223330001").as_deref(), Some("81"));
        assert_eq!(cnpj_check_digits("12ABC34501DE").as_deref(), Some("35"));
        assert_eq!(cnpj_check_digits("12abc34501de").as_deref(), Some("35"));
        assert_eq!(cpf_check_digits("52998224"), None);
        assert_eq!(cpf_check_digits("52998224A"), None);
        assert_eq!(cnpj_check_digits("12ABC34501D-"), None);
    }

    #[test]
    fn formatting_and_masking() {
        let cpf = doc("52998224725");
        assert_eq!(cpf.formatted(), "529.982.247-25");
        assert_eq!(cpf.masked(), "529.NNN.247-NN");
        assert_eq!(cpf.to_string(), "529.NNN.247-NN");
        let cnpj = doc("12ABC34501DE35");
        assert_eq!(cnpj.formatted(), "12.ABC.345/01DE-35");
        assert_eq!(cnpj.masked(), "12.NNN.345/01DE-NN");
        assert_eq!(cnpj.to_string(), "12.NNN.345/01DE-NN");
    }

    #[test]
    fn str_helpers() {
        assert_eq!(mask_str("52998224725"), "529.NNN.247-NN");
        assert_eq!(mask_str("12ABC34501DE35"), "12.NNN.345/01DE-NN");
        assert_eq!(mask_str("529.982.247-25"), "529***********");
        assert_eq!(mask_str("ab"), "ab");
        assert_eq!(mask_str(""), "");
        assert_eq!(mask_str("çãé😀x"), "çãé**");
        assert_eq!(format_str("52998224725"), "529.982.247-25");
        assert_eq!(format_str("12ABC34501DE35"), "12.ABC.345/01DE-35");
        assert_eq!(format_str("hello"), "hello");
        assert_eq!(format_str("529.982.247-25"), "529.982.247-25");
    }

    fn valid_cpf() -> impl Strategy<Value = String> {
        "[0-9]{9}".prop_filter_map("repeated digit", |head| {
            let full = format!("{head}{}", cpf_check_digits(&head)?);
            (!is_one_repeated_char(&full)).then_some(full)
        })
    }

    fn valid_cnpj() -> impl Strategy<Value = String> {
        prop_oneof!["[0-9]{12}", "[0-9A-Z]{12}"].prop_filter_map("repeated digit", |head| {
            let full = format!("{head}{}", cnpj_check_digits(&head)?);
            (!is_one_repeated_char(&full)).then_some(full)
        })
    }

    fn valid_doc() -> impl Strategy<Value = (Kind, String)> {
        prop_oneof![
            valid_cpf().prop_map(|v| (Kind::Cpf, v)),
            valid_cnpj().prop_map(|v| (Kind::Cnpj, v)),
        ]
    }

    /// Inserts separators (never ASCII alphanumerics, which would change the value).
    fn with_noise(value: &str, noise: &[(usize, String)]) -> String {
        let mut chars: Vec<String> = value.chars().map(String::from).collect();
        for (pos, sep) in noise {
            let at = pos % (chars.len() + 1);
            chars.insert(at, sep.clone());
        }
        chars.concat()
    }

    fn noise() -> impl Strategy<Value = Vec<(usize, String)>> {
        prop::collection::vec((any::<usize>(), "[ .\\-/,\t_()·é😀]{1,3}"), 0..8)
    }

    fn hidden_positions(kind: Kind) -> &'static [usize] {
        match kind {
            Kind::Cpf => &[4, 5, 6, 12, 13],
            Kind::Cnpj => &[3, 4, 5, 16, 17],
        }
    }

    proptest! {
        #[test]
        fn valid_documents_round_trip((kind, value) in valid_doc(), noise in noise()) {
            let expected = Document { kind, value: value.clone() };
            let d = parse(&value);
            prop_assert_eq!(d.as_ref(), Some(&expected));
            let formatted = expected.formatted();
            prop_assert_eq!(parse(&formatted), Some(expected.clone()));
            prop_assert_eq!(parse(&formatted.to_lowercase()), Some(expected.clone()));
            prop_assert_eq!(parse(&value.to_lowercase()), Some(expected.clone()));
            prop_assert_eq!(parse(&with_noise(&value, &noise)), Some(expected.clone()));
            prop_assert_eq!(parse(&with_noise(&formatted, &noise)), Some(expected.clone()));
            prop_assert_eq!(format_str(&value), formatted);
            prop_assert_eq!(mask_str(&value), expected.masked());
        }

        #[test]
        fn altered_check_digit_is_rejected(
            (kind, value) in valid_doc(),
            which in 0usize..2,
            delta in 1u8..10,
        ) {
            let mut bytes = value.clone().into_bytes();
            let at = bytes.len() - 2 + which;
            bytes[at] = b'0' + (bytes[at] - b'0' + delta) % 10;
            let altered = String::from_utf8(bytes).expect("ascii");
            prop_assert!(parse(&altered).map(|d| d.kind()) != Some(kind));
        }

        #[test]
        fn mask_hides_exactly_the_hidden_positions((kind, value) in valid_doc()) {
            let d = Document { kind, value };
            let formatted: Vec<char> = d.formatted().chars().collect();
            let masked: Vec<char> = d.masked().chars().collect();
            prop_assert_eq!(formatted.len(), masked.len());
            let hidden = hidden_positions(kind);
            for (i, (f, m)) in formatted.iter().zip(&masked).enumerate() {
                if hidden.contains(&i) {
                    prop_assert_eq!(*m, 'N');
                } else {
                    prop_assert_eq!(f, m);
                }
            }
        }

        #[test]
        fn never_panics(s in any::<String>(), t in "\\PC{0,20}") {
            let _ = parse(&s);
            let _ = parse(&t);
            let _ = mask_str(&s);
            let _ = mask_str(&t);
            let _ = format_str(&s);
            let _ = format_str(&t);
            let _ = cpf_check_digits(&t);
            let _ = cnpj_check_digits(&t);
            if let Some(d) = parse(&t) {
                prop_assert_eq!(parse(d.as_str()), Some(d.clone()));
            }
        }
    }
}
