//! Every fixture of tests/fixtures/cnab (built by make.py from a second reading of the
//! manuals), read and checked field by field; and the ways a file is refused.

use chrono::NaiveDate;

use super::{Layout, OccurrenceKind, parse};

struct Expect {
    file: &'static [u8],
    bank: &'static str,
    layout: Layout,
    agreement: &'static str,
    file_seq: Option<u64>,
    /// Sequence of the first boleto (the others follow).
    seq: u32,
    /// Nosso número as printed, for the three lines.
    our: [&'static str; 3],
    keys: [&'static str; 3],
    codes: [&'static str; 3],
    motive: &'static str,
    /// Whether the layout carries fee and interest.
    fees: bool,
}

macro_rules! fixture {
    ($name:literal) => {
        include_bytes!(concat!("../../../tests/fixtures/cnab/", $name))
    };
}

const FEBRABAN: [&str; 3] = ["06", "02", "03"];

const EXPECT: &[Expect] = &[
    Expect {
        file: fixture!("001_240.ret"),
        bank: "001",
        layout: Layout::Cnab240,
        agreement: "001234567",
        file_seq: Some(42),
        seq: 101,
        our: [
            "12345670000000101",
            "12345670000000102",
            "12345670000000103",
        ],
        keys: ["101", "102", "103"],
        codes: FEBRABAN,
        motive: "08",
        fees: true,
    },
    Expect {
        file: fixture!("041_240.ret"),
        bank: "041",
        layout: Layout::Cnab240,
        agreement: "00000000010123456789",
        file_seq: Some(42),
        seq: 4101,
        our: ["0000410171", "0000410259", "0000410336"],
        keys: ["4101", "4102", "4103"],
        codes: FEBRABAN,
        motive: "08",
        fees: true,
    },
    Expect {
        file: fixture!("033_240.ret"),
        bank: "033",
        layout: Layout::Cnab240,
        agreement: "123456789",
        file_seq: Some(42),
        seq: 3301,
        our: ["0000000033014", "0000000033022", "0000000033030"],
        keys: ["3301", "3302", "3303"],
        codes: FEBRABAN,
        motive: "08",
        fees: true,
    },
    Expect {
        file: fixture!("104_240.ret"),
        bank: "104",
        layout: Layout::Cnab240,
        agreement: "123456",
        file_seq: Some(42),
        seq: 10401,
        our: [
            "14000000000010401",
            "14000000000010402",
            "14000000000010403",
        ],
        keys: ["10401", "10402", "10403"],
        codes: FEBRABAN,
        motive: "08",
        fees: true,
    },
    Expect {
        file: fixture!("237_240.ret"),
        bank: "237",
        layout: Layout::Cnab240,
        agreement: "00000000000004567890",
        file_seq: Some(42),
        seq: 23701,
        our: ["000000237018", "000000237026", "000000237034"],
        keys: ["23701", "23702", "23703"],
        codes: FEBRABAN,
        motive: "08",
        fees: true,
    },
    Expect {
        file: fixture!("341_240.ret"),
        bank: "341",
        layout: Layout::Cnab240,
        agreement: "",
        file_seq: Some(42),
        seq: 34101,
        our: ["00034101", "00034102", "00034103"],
        keys: ["34101", "34102", "34103"],
        codes: FEBRABAN,
        motive: "08",
        fees: true,
    },
    Expect {
        file: fixture!("748_240.ret"),
        bank: "748",
        layout: Layout::Cnab240,
        agreement: "00000000000000012345",
        file_seq: Some(42),
        seq: 74801,
        our: ["262748010", "262748029", "262748037"],
        keys: ["262748010", "262748029", "262748037"],
        codes: FEBRABAN,
        motive: "08",
        fees: true,
    },
    Expect {
        file: fixture!("756_240.ret"),
        bank: "756",
        layout: Layout::Cnab240,
        agreement: "00000000000000123456",
        file_seq: Some(42),
        seq: 75601,
        our: ["0000756016", "0000756024", "0000756032"],
        keys: ["75601", "75602", "75603"],
        codes: FEBRABAN,
        motive: "08",
        fees: true,
    },
    Expect {
        file: fixture!("208_240.ret"),
        bank: "208",
        layout: Layout::Cnab240,
        agreement: "00000000000000123456",
        file_seq: Some(42),
        seq: 20801,
        our: [
            "00000000000000020801",
            "00000000000000020802",
            "00000000000000020803",
        ],
        keys: ["20801", "20802", "20803"],
        codes: FEBRABAN,
        motive: "08",
        fees: true,
    },
    Expect {
        file: fixture!("001_400.ret"),
        bank: "001",
        layout: Layout::Cnab400,
        agreement: "1234567",
        file_seq: Some(42),
        seq: 111,
        our: [
            "12345670000000111",
            "12345670000000112",
            "12345670000000113",
        ],
        keys: ["111", "112", "113"],
        codes: FEBRABAN,
        motive: "80",
        fees: true,
    },
    Expect {
        file: fixture!("041_400.ret"),
        bank: "041",
        layout: Layout::Cnab400,
        agreement: "0010123456789",
        file_seq: None,
        seq: 4111,
        our: ["0000411148", "0000411225", "0000411302"],
        keys: ["4111", "4112", "4113"],
        codes: FEBRABAN,
        motive: "08",
        fees: true,
    },
    Expect {
        file: fixture!("033_400.ret"),
        bank: "033",
        layout: Layout::Cnab400,
        agreement: "12341300123413001235",
        file_seq: None,
        seq: 3311,
        our: ["00033111", "00033120", "00033138"],
        keys: ["3311", "3312", "3313"],
        codes: FEBRABAN,
        motive: "001",
        fees: true,
    },
    Expect {
        file: fixture!("104_400.ret"),
        bank: "104",
        layout: Layout::Cnab400,
        agreement: "123456",
        file_seq: None,
        seq: 10411,
        our: [
            "14000000000010411",
            "14000000000010412",
            "14000000000010413",
        ],
        keys: ["10411", "10412", "10413"],
        codes: ["21", "01", "99"],
        motive: "009",
        fees: true,
    },
    Expect {
        file: fixture!("237_400.ret"),
        bank: "237",
        layout: Layout::Cnab400,
        agreement: "00000000000004567890",
        file_seq: Some(42),
        seq: 23711,
        our: ["000000237115", "000000237123", "000000237131"],
        keys: ["23711", "23712", "23713"],
        codes: FEBRABAN,
        motive: "08",
        fees: true,
    },
    Expect {
        file: fixture!("341_400.ret"),
        bank: "341",
        layout: Layout::Cnab400,
        agreement: "123400123456",
        file_seq: None,
        seq: 34111,
        our: ["00034111", "00034112", "00034113"],
        keys: ["34111", "34112", "34113"],
        codes: FEBRABAN,
        motive: "14",
        fees: true,
    },
    Expect {
        file: fixture!("748_400.ret"),
        bank: "748",
        layout: Layout::Cnab400,
        agreement: "12345",
        file_seq: Some(42),
        seq: 74811,
        our: ["262748118", "262748126", "262748134"],
        keys: ["262748118", "262748126", "262748134"],
        codes: FEBRABAN,
        motive: "08",
        fees: true,
    },
    Expect {
        file: fixture!("756_400.ret"),
        bank: "756",
        layout: Layout::Cnab400,
        agreement: "123456",
        file_seq: Some(42),
        seq: 75611,
        our: ["000000756113", "000000756121", "000000756130"],
        keys: ["75611", "75612", "75613"],
        codes: FEBRABAN,
        motive: "80",
        fees: true,
    },
    Expect {
        file: fixture!("077_400.ret"),
        bank: "077",
        layout: Layout::Cnab400,
        agreement: "",
        file_seq: None,
        seq: 7711,
        our: ["00000077119", "00000077127", "00000077135"],
        keys: ["7711", "7712", "7713"],
        codes: FEBRABAN,
        motive: "NOSSO NÚMERO INVÁLIDO",
        fees: false,
    },
];

fn day(d: u32) -> Option<NaiveDate> {
    NaiveDate::from_ymd_opt(2026, 3, d)
}

#[test]
fn every_fixture_reads_field_by_field() {
    for x in EXPECT {
        let name = format!("{}_{}", x.bank, x.layout.as_str());
        let file = parse(x.file).unwrap_or_else(|e| panic!("{name}: {e}"));
        assert_eq!(file.bank, x.bank, "{name}");
        assert_eq!(file.layout, x.layout, "{name}");
        assert_eq!(file.agreement, x.agreement, "{name} agreement");
        assert_eq!(file.generated_on, day(11), "{name} generated_on");
        assert_eq!(file.file_seq, x.file_seq, "{name} file_seq");
        assert_eq!(file.entries.len(), 3, "{name}");

        let kinds = [
            OccurrenceKind::Liquidation,
            OccurrenceKind::Entry,
            OccurrenceKind::Rejection,
        ];
        let faces = [9990, 12000, 7500];
        for (i, e) in file.entries.iter().enumerate() {
            let what = format!("{name} entry {i}");
            let line = match x.layout {
                Layout::Cnab240 => 3 + 2 * i,
                Layout::Cnab400 => 2 + i,
            };
            assert_eq!(e.line, line, "{what} line");
            assert_eq!(e.our_number, x.our[i], "{what} our_number");
            assert_eq!(e.our_number_key, x.keys[i], "{what} key");
            assert_eq!(
                e.our_number_key,
                super::our_number::key(Some(x.bank), &e.our_number)
            );
            let doc = format!("FAT{}", x.seq + i as u32);
            assert_eq!(
                e.document_number.as_deref(),
                Some(doc.as_str()),
                "{what} doc"
            );
            assert_eq!(e.occurrence, x.codes[i], "{what} occurrence");
            assert_eq!(e.kind, kinds[i], "{what} kind");
            assert!(
                !e.occurrence_text.is_empty() && !e.occurrence_text.contains("não documentado"),
                "{what} text {}",
                e.occurrence_text
            );
            assert_eq!(e.face_cents, Some(faces[i]), "{what} face");
            assert_eq!(e.discount_cents, 0, "{what} discount");
            assert_eq!(e.rebate_cents, 0, "{what} rebate");
            if i == 0 {
                assert_eq!(e.paid_cents, 10150, "{what} paid");
                assert_eq!(e.fee_cents, if x.fees { 250 } else { 0 }, "{what} fee");
                assert_eq!(
                    e.interest_cents,
                    if x.fees { 160 } else { 0 },
                    "{what} interest"
                );
                assert_eq!(e.paid_on, day(10), "{what} paid_on");
                assert_eq!(e.credited_on, day(11), "{what} credited_on");
                assert!(e.reasons.is_empty(), "{what} reasons {:?}", e.reasons);
            } else {
                assert_eq!(e.paid_cents, 0, "{what} paid");
                assert_eq!(e.fee_cents, 0, "{what} fee");
                assert_eq!(e.interest_cents, 0, "{what} interest");
                assert_eq!(e.paid_on, day(2), "{what} paid_on");
                assert_eq!(e.credited_on, None, "{what} credited_on");
                let expected: Vec<String> = if i == 2 {
                    vec![x.motive.to_string()]
                } else {
                    Vec::new()
                };
                assert_eq!(e.reasons, expected, "{what} reasons");
            }
        }
    }
}

#[test]
fn every_bank_has_both_fixtures_where_the_layout_exists() {
    for bank in super::banks_240() {
        assert!(
            EXPECT
                .iter()
                .any(|x| x.bank == bank && x.layout == Layout::Cnab240),
            "{bank} 240"
        );
    }
    for bank in super::banks_400() {
        assert!(
            EXPECT
                .iter()
                .any(|x| x.bank == bank && x.layout == Layout::Cnab400),
            "{bank} 400"
        );
    }
}

#[test]
fn identity_is_stable_and_tells_occurrences_apart() {
    let file = parse(fixture!("237_400.ret")).unwrap();
    let ids: Vec<String> = file
        .entries
        .iter()
        .map(|e| file.entry_identity(e))
        .collect();
    assert_eq!(ids[0], "237|00000000000004567890|23711|06|2026-03-10|10150");
    assert_ne!(ids[1], ids[2]);
    let again = parse(fixture!("237_400.ret")).unwrap();
    assert_eq!(again.entry_identity(&again.entries[0]), ids[0]);
}

/// The 237 CNAB 400 fixture as lines (without line ends), to break one at a time.
fn bradesco_lines() -> Vec<Vec<u8>> {
    fixture!("237_400.ret")
        .split(|&b| b == b'\n')
        .map(|l| l.strip_suffix(b"\r").unwrap_or(l).to_vec())
        .filter(|l| !l.is_empty())
        .collect()
}

fn join(lines: &[Vec<u8>]) -> Vec<u8> {
    let mut out = Vec::new();
    for l in lines {
        out.extend_from_slice(l);
        out.extend_from_slice(b"\r\n");
    }
    out
}

fn set(line: &mut [u8], start: usize, text: &[u8]) {
    line[start - 1..start - 1 + text.len()].copy_from_slice(text);
}

fn refused(bytes: &[u8]) -> (usize, String) {
    let e = parse(bytes).expect_err("must be refused");
    assert!(!e.reason.is_empty());
    (e.line, e.field)
}

#[test]
fn malformed_cnab400_files_are_refused_with_line_and_field() {
    let base = bradesco_lines();

    let mut l = base.clone();
    l[2].pop();
    assert_eq!(refused(&join(&l)), (3, "registro".to_string()));

    let mut l = base.clone();
    set(&mut l[1], 254, b"00000001015A");
    assert_eq!(refused(&join(&l)), (2, "valor_pago".to_string()));

    let mut l = base.clone();
    set(&mut l[1], 111, b"321326");
    assert_eq!(refused(&join(&l)), (2, "data_ocorrencia".to_string()));

    let mut l = base.clone();
    set(&mut l[2], 1, b"4");
    assert_eq!(refused(&join(&l)), (3, "tipo_registro".to_string()));

    let mut l = base.clone();
    l.pop();
    assert_eq!(refused(&join(&l)), (4, "trailer".to_string()));

    let mut l = base.clone();
    set(&mut l[0], 77, b"999");
    assert_eq!(refused(&join(&l)), (1, "codigo_banco".to_string()));

    let mut l = base.clone();
    set(&mut l[0], 2, b"1REMESSA");
    assert_eq!(refused(&join(&l)), (1, "tipo_registro".to_string()));

    let mut l = base.clone();
    l.insert(2, Vec::new());
    assert_eq!(refused(&join(&l)), (3, "registro".to_string()));

    let mut l = base;
    let extra = l[1].clone();
    l.push(extra);
    assert_eq!(refused(&join(&l)), (6, "tipo_registro".to_string()));
}

/// The 001 CNAB 240 fixture as lines.
fn bb240_lines() -> Vec<Vec<u8>> {
    fixture!("001_240.ret")
        .split(|&b| b == b'\n')
        .map(|l| l.strip_suffix(b"\r").unwrap_or(l).to_vec())
        .filter(|l| !l.is_empty())
        .collect()
}

#[test]
fn malformed_cnab240_files_are_refused_with_line_and_field() {
    let base = bb240_lines();

    // T segment without its U.
    let mut l = base.clone();
    l.remove(3);
    assert_eq!(refused(&join(&l)), (3, "segmento".to_string()));

    // U segment without a T.
    let mut l = base.clone();
    l.remove(2);
    assert_eq!(refused(&join(&l)), (3, "segmento".to_string()));

    // Unknown segment.
    let mut l = base.clone();
    set(&mut l[2], 14, b"Q");
    assert_eq!(refused(&join(&l)), (3, "segmento".to_string()));

    // Non-digit in an amount of the U segment.
    let mut l = base.clone();
    set(&mut l[3], 80, b"X");
    assert_eq!(refused(&join(&l)), (4, "valor_pago".to_string()));

    // Invalid date.
    let mut l = base.clone();
    set(&mut l[3], 138, b"30022026");
    assert_eq!(refused(&join(&l)), (4, "data_ocorrencia".to_string()));

    // A remessa, not a retorno.
    let mut l = base.clone();
    set(&mut l[0], 143, b"1");
    assert_eq!(
        refused(&join(&l)),
        (1, "codigo_remessa_retorno".to_string())
    );

    // Missing file trailer.
    let mut l = base.clone();
    l.pop();
    assert_eq!(refused(&join(&l)), (9, "trailer".to_string()));

    // Unknown bank.
    let mut l = base.clone();
    for line in &mut l {
        set(line, 1, b"999");
    }
    assert_eq!(refused(&join(&l)), (1, "codigo_banco".to_string()));

    // A record of another bank inside the file.
    let mut l = base.clone();
    set(&mut l[4], 1, b"237");
    assert_eq!(refused(&join(&l)), (5, "codigo_banco".to_string()));

    // Unknown record type.
    let mut l = base;
    set(&mut l[4], 8, b"7");
    assert_eq!(refused(&join(&l)), (5, "tipo_registro".to_string()));
}

#[test]
fn whole_file_refusals() {
    assert_eq!(refused(b""), (0, "arquivo".to_string()));
    assert_eq!(refused(b"\r\n\x1a"), (0, "arquivo".to_string()));
    assert_eq!(refused(b"0123"), (1, "registro".to_string()));
    // Arbitrary bytes never panic.
    for n in 0..600 {
        let junk: Vec<u8> = (0..n).map(|i| (i * 37 % 251) as u8).collect();
        let _ = parse(&junk);
    }
}

#[test]
fn line_ends_eof_byte_and_utf8_are_accepted() {
    let lf = join(&bradesco_lines()).replace_crlf();
    assert_eq!(parse(&lf).unwrap().entries.len(), 3);

    let mut eof = join(&bradesco_lines());
    eof.push(0x1A);
    assert_eq!(parse(&eof).unwrap().entries.len(), 3);

    // No line end after the trailer at all.
    let mut bare = join(&bradesco_lines());
    bare.truncate(bare.len() - 2);
    assert_eq!(parse(&bare).unwrap().entries.len(), 3);

    // The same file re-encoded in UTF-8 (the company name has non-ASCII letters).
    let latin = join(&bb240_lines());
    let utf8: String = latin.iter().map(|&b| b as char).collect();
    assert_ne!(utf8.len(), latin.len());
    let file = parse(utf8.as_bytes()).unwrap();
    assert_eq!(file.entries.len(), 3);
}

trait ReplaceCrlf {
    fn replace_crlf(&self) -> Vec<u8>;
}

impl ReplaceCrlf for Vec<u8> {
    fn replace_crlf(&self) -> Vec<u8> {
        self.iter().copied().filter(|&b| b != b'\r').collect()
    }
}
