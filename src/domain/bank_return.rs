//! What a return file's line does to an invoice: which invoice it names (bank, agreement and
//! the nosso número's matching key), what it pays, and what became of it (the outcome every
//! line of the report shows).

use crate::domain::cnab::{Entry, OccurrenceKind};

/// What became of one line of a return file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// A liquidation that paid the invoice.
    Paid,
    /// A liquidation of an invoice already paid (by another way, or an earlier file).
    AlreadyPaid,
    /// A non-payment occurrence recorded on the invoice's history (entrada confirmada, baixa,
    /// rejeição...), or a partial payment that kept the invoice open.
    Registered,
    /// No invoice has this nosso número.
    Unknown,
    /// Not applied, with a reason: a cancelled invoice, a nosso número of several invoices.
    Refused,
}

impl Outcome {
    pub const ALL: [Outcome; 5] = [
        Outcome::Paid,
        Outcome::AlreadyPaid,
        Outcome::Registered,
        Outcome::Unknown,
        Outcome::Refused,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Outcome::Paid => "pago",
            Outcome::AlreadyPaid => "ja_pago",
            Outcome::Registered => "registrado",
            Outcome::Unknown => "desconhecido",
            Outcome::Refused => "recusado",
        }
    }

    pub fn parse(text: &str) -> Option<Outcome> {
        Outcome::ALL.into_iter().find(|o| o.as_str() == text)
    }

    /// Whether the line changed something (a payment, an event): its identity is kept so that
    /// the same occurrence, in this file or another, is not applied again.
    pub fn applies(self) -> bool {
        matches!(self, Outcome::Paid | Outcome::Registered)
    }
}

/// An invoice a line may name: its bank and agreement as registered.
#[derive(Debug, Clone, Copy)]
pub struct Registered<'a> {
    pub bank: Option<&'a str>,
    pub agreement: Option<&'a str>,
}

/// Which of the invoices sharing the line's key the line names.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Pick {
    One(usize),
    None,
    /// Several invoices could be the one: their positions.
    Ambiguous(Vec<usize>),
}

/// Letters and digits, without leading zeros, upper case: `"0012345-6"` → `"123456"`.
fn plain(text: &str) -> String {
    let s: String = text
        .chars()
        .filter(char::is_ascii_alphanumeric)
        .collect::<String>()
        .to_ascii_uppercase();
    s.trim_start_matches('0').to_string()
}

/// Whether the file's agreement and the invoice's name the same one. Absent on either side
/// matches; banks write the convênio inside longer header fields (agency, account, check
/// digits), so one (without leading zeros) containing the other, at 4 characters or more,
/// is the same agreement.
pub fn same_agreement(file: &str, invoice: Option<&str>) -> bool {
    let (a, b) = (plain(file), plain(invoice.unwrap_or("")));
    if a.is_empty() || b.is_empty() {
        return true;
    }
    let (short, long) = if a.len() <= b.len() { (a, b) } else { (b, a) };
    short == long || (short.len() >= 4 && long.contains(&short))
}

/// Picks the invoice a line of `bank`'s file (header agreement `agreement`) names among the
/// invoices with the line's key: those registered with that bank (and a matching agreement);
/// when there is none, the invoices registered without a bank. Exactly one is the answer;
/// more is ambiguous.
pub fn pick(bank: &str, agreement: &str, invoices: &[Registered<'_>]) -> Pick {
    let of_bank: Vec<usize> = invoices
        .iter()
        .enumerate()
        .filter(|(_, i)| i.bank == Some(bank) && same_agreement(agreement, i.agreement))
        .map(|(n, _)| n)
        .collect();
    let chosen = if of_bank.is_empty() {
        invoices
            .iter()
            .enumerate()
            .filter(|(_, i)| i.bank.is_none_or(|b| b.trim().is_empty()))
            .map(|(n, _)| n)
            .collect()
    } else {
        of_bank
    };
    match chosen.as_slice() {
        [] => Pick::None,
        [one] => Pick::One(*one),
        _ => Pick::Ambiguous(chosen),
    }
}

/// The amount a liquidation pays: the amount paid the bank reports; when the file leaves it
/// at zero, the boleto's face value, else the invoice's amount.
pub fn paid_amount(e: &Entry, invoice_cents: i64) -> i64 {
    if e.paid_cents > 0 {
        e.paid_cents
    } else {
        e.face_cents.filter(|c| *c > 0).unwrap_or(invoice_cents)
    }
}

/// How much of the invoice a liquidation leaves unpaid, counting the discount and the
/// rebate (abatimento) the provider granted as paid: above zero, a partial payment.
pub fn shortfall(e: &Entry, invoice_cents: i64, paid_cents: i64) -> i64 {
    invoice_cents - paid_cents - e.discount_cents.max(0) - e.rebate_cents.max(0)
}

/// Whether the occurrence pays the boleto.
pub fn is_payment(e: &Entry) -> bool {
    e.kind == OccurrenceKind::Liquidation
}

#[cfg(test)]
mod tests {
    use super::*;

    fn reg<'a>(bank: Option<&'a str>, agreement: Option<&'a str>) -> Registered<'a> {
        Registered { bank, agreement }
    }

    fn entry() -> Entry {
        Entry {
            line: 3,
            our_number: "00012345".into(),
            our_number_key: "12345".into(),
            document_number: None,
            occurrence: "06".into(),
            occurrence_text: "Liquidação".into(),
            kind: OccurrenceKind::Liquidation,
            reasons: vec![],
            face_cents: Some(10_000),
            paid_cents: 9_000,
            fee_cents: 150,
            discount_cents: 0,
            interest_cents: 0,
            rebate_cents: 0,
            paid_on: chrono::NaiveDate::from_ymd_opt(2026, 12, 1),
            credited_on: chrono::NaiveDate::from_ymd_opt(2026, 12, 2),
        }
    }

    #[test]
    fn the_bank_and_agreement_decide_then_invoices_without_a_bank() {
        let list = [
            reg(Some("341"), None),
            reg(Some("001"), Some("1234567")),
            reg(None, None),
        ];
        assert_eq!(pick("001", "001234567", &list), Pick::One(1));
        assert_eq!(pick("341", "", &list), Pick::One(0));
        // Another agreement of the same bank is not invoice 1: the one without a bank is.
        assert_eq!(pick("001", "7654321", &list), Pick::One(2));
        assert_eq!(pick("237", "", &list), Pick::One(2));
        let two = [reg(None, None), reg(Some(""), None)];
        assert_eq!(pick("237", "", &two), Pick::Ambiguous(vec![0, 1]));
        let same = [reg(Some("237"), None), reg(Some("237"), Some("99"))];
        assert_eq!(pick("237", "", &same), Pick::Ambiguous(vec![0, 1]));
        assert_eq!(pick("104", "", &[reg(Some("237"), None)]), Pick::None);
        assert_eq!(pick("104", "", &[]), Pick::None);
    }

    #[test]
    fn agreements_compare_without_zeros_and_inside_longer_fields() {
        assert!(same_agreement("", Some("123")));
        assert!(same_agreement("123", None));
        assert!(same_agreement("000123", Some("123")));
        assert!(same_agreement("0001234567 0014", Some("1234567")));
        assert!(!same_agreement("1234567", Some("7654321")));
        assert!(
            !same_agreement("123999", Some("123")),
            "short ones must be equal"
        );
    }

    #[test]
    fn amounts_paid_and_left() {
        let mut e = entry();
        assert_eq!(paid_amount(&e, 10_000), 9_000);
        assert_eq!(shortfall(&e, 10_000, 9_000), 1_000);
        e.discount_cents = 1_000;
        assert_eq!(shortfall(&e, 10_000, 9_000), 0);
        e.paid_cents = 0;
        assert_eq!(paid_amount(&e, 12_000), 10_000);
        e.face_cents = None;
        assert_eq!(paid_amount(&e, 12_000), 12_000);
    }

    #[test]
    fn outcomes_read_back() {
        for o in Outcome::ALL {
            assert_eq!(Outcome::parse(o.as_str()), Some(o));
        }
        assert_eq!(Outcome::parse("x"), None);
        assert!(Outcome::Paid.applies() && Outcome::Registered.applies());
        assert!(!Outcome::Unknown.applies() && !Outcome::AlreadyPaid.applies());
    }
}
