//! Customer names folded for search: ASCII letters lowercased, the accented letters of
//! Portuguese (and their neighbours) mapped to their base letter, and combining accents
//! dropped, so that `joao`, `JOÃO` and `João` are the same prefix.
//!
//! The database keeps the same fold in the column `customers.name_folded` (migrations
//! `0006_clientes.sql`: triggers on SQLite, a generated column on PostgreSQL), computed from
//! the same table by SQL, so that every row is folded however it was written (the server, an
//! import, the operator's own SQL). The tests below check that both migrations spell exactly
//! this table.

/// Accented letters and their folded form (one character each: PostgreSQL's `translate`
/// maps character to character).
pub const LETTERS: &[(char, char)] = &[
    ('À', 'a'),
    ('Á', 'a'),
    ('Â', 'a'),
    ('Ã', 'a'),
    ('Ä', 'a'),
    ('Å', 'a'),
    ('à', 'a'),
    ('á', 'a'),
    ('â', 'a'),
    ('ã', 'a'),
    ('ä', 'a'),
    ('å', 'a'),
    ('È', 'e'),
    ('É', 'e'),
    ('Ê', 'e'),
    ('Ë', 'e'),
    ('è', 'e'),
    ('é', 'e'),
    ('ê', 'e'),
    ('ë', 'e'),
    ('Ì', 'i'),
    ('Í', 'i'),
    ('Î', 'i'),
    ('Ï', 'i'),
    ('ì', 'i'),
    ('í', 'i'),
    ('î', 'i'),
    ('ï', 'i'),
    ('Ò', 'o'),
    ('Ó', 'o'),
    ('Ô', 'o'),
    ('Õ', 'o'),
    ('Ö', 'o'),
    ('ò', 'o'),
    ('ó', 'o'),
    ('ô', 'o'),
    ('õ', 'o'),
    ('ö', 'o'),
    ('Ù', 'u'),
    ('Ú', 'u'),
    ('Û', 'u'),
    ('Ü', 'u'),
    ('ù', 'u'),
    ('ú', 'u'),
    ('û', 'u'),
    ('ü', 'u'),
    ('Ç', 'c'),
    ('ç', 'c'),
    ('Ñ', 'n'),
    ('ñ', 'n'),
    ('Ý', 'y'),
    ('ý', 'y'),
    ('ÿ', 'y'),
];

/// Combining accents (names written decomposed, `a` + U+0303): dropped.
pub const DROPPED: &[char] = &[
    '\u{0300}', // grave
    '\u{0301}', // acute
    '\u{0302}', // circumflex
    '\u{0303}', // tilde
    '\u{0308}', // diaeresis
    '\u{030A}', // ring above
    '\u{0327}', // cedilla
];

/// The folded form of one character; None when it is dropped.
fn fold_char(c: char) -> Option<char> {
    if c.is_ascii() {
        return Some(c.to_ascii_lowercase());
    }
    if DROPPED.contains(&c) {
        return None;
    }
    Some(
        LETTERS
            .iter()
            .find(|(from, _)| *from == c)
            .map_or(c, |(_, to)| *to),
    )
}

/// A stored name as the database folds it: spaces at both ends trimmed (SQL `trim`), then
/// folded. Anything outside the table is kept as it is.
pub fn fold(name: &str) -> String {
    name.trim_matches(' ')
        .chars()
        .filter_map(fold_char)
        .collect()
}

/// The first string after every string that starts with `prefix`, in code point order
/// (which is the byte order of UTF-8, SQLite's BINARY and PostgreSQL's "C" collation):
/// `joao` → `joap`. None when there is none (only U+10FFFF characters).
pub fn prefix_upper_bound(prefix: &str) -> Option<String> {
    let mut chars: Vec<char> = prefix.chars().collect();
    while let Some(last) = chars.pop() {
        let next = (u32::from(last) + 1..=0x10FFFF).find_map(char::from_u32);
        if let Some(next) = next {
            chars.push(next);
            return Some(chars.into_iter().collect());
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// The SQLite statements of the fold: `lower` folds ASCII only (SQLite without ICU),
    /// then `replace` per table entry, in steps of 8 (the migration's triggers run them
    /// in order; deeper nesting overflows other programs' SQLite parsers).
    fn sqlite_steps(row: &str) -> Vec<String> {
        let mut steps = vec![format!(
            "UPDATE customers SET name_folded = lower(trim(name)) WHERE {row};"
        )];
        for chunk in LETTERS.chunks(8) {
            let mut expr = "name_folded".to_string();
            for (from, to) in chunk {
                expr = format!("replace({expr}, '{from}', '{to}')");
            }
            steps.push(format!(
                "UPDATE customers SET name_folded = {expr} WHERE {row};"
            ));
        }
        let mut expr = "name_folded".to_string();
        for c in DROPPED {
            expr = format!("replace({expr}, char({}), '')", u32::from(*c));
        }
        steps.push(format!(
            "UPDATE customers SET name_folded = {expr} WHERE {row};"
        ));
        steps
    }

    /// The PostgreSQL expression: one `translate`; characters of `from` past the end of `to`
    /// are deleted.
    fn postgres_expr(column: &str) -> String {
        let upper: String = ('A'..='Z').collect();
        let lower: String = ('a'..='z').collect();
        let from: String = LETTERS.iter().map(|(f, _)| *f).collect();
        let to: String = LETTERS.iter().map(|(_, t)| *t).collect();
        let dropped: String = DROPPED
            .iter()
            .map(|c| format!(" || chr({})", u32::from(*c)))
            .collect();
        format!("translate(trim({column}), '{upper}{from}'{dropped}, '{lower}{to}')")
    }

    /// Without whitespace (no literal of the fold holds a space), so that the migrations
    /// may lay the expression out over lines.
    fn squeeze(s: &str) -> String {
        s.chars().filter(|c| !c.is_whitespace()).collect()
    }

    #[test]
    fn migrations_spell_the_same_fold() {
        let sqlite = include_str!("../../migrations/sqlite/0006_clientes.sql");
        let postgres = include_str!("../../migrations/postgres/0006_clientes.sql");
        for row in ["id = NEW.id", "1 = 1"] {
            let steps = sqlite_steps(row).join("\n");
            assert!(
                squeeze(sqlite).contains(&squeeze(&steps)),
                "sqlite migration must contain:\n{steps}"
            );
        }
        assert!(
            squeeze(postgres).contains(&squeeze(&postgres_expr("name"))),
            "postgres migration must contain:\n{}",
            postgres_expr("name")
        );
    }

    #[test]
    fn folds_accents_and_case() {
        assert_eq!(fold("JOÃO DA SILVA"), "joao da silva");
        assert_eq!(fold("  Conceição Araújo "), "conceicao araujo");
        assert_eq!(fold("JOA\u{0303}O"), "joao");
        assert_eq!(
            fold("ÀÁÂÃÄÅÈÉÊËÌÍÎÏÒÓÔÕÖÙÚÛÜÇÑÝ"),
            "aaaaaaeeeeiiiiooooouuuucny"
        );
        assert_eq!(
            fold("àáâãäåèéêëìíîïòóôõöùúûüçñýÿ"),
            "aaaaaaeeeeiiiiooooouuuucnyy"
        );
        assert_eq!(fold("Ωmega ß"), "Ωmega ß");
        assert_eq!(fold(""), "");
    }

    #[test]
    fn upper_bounds() {
        assert_eq!(prefix_upper_bound("joao").as_deref(), Some("joap"));
        assert_eq!(prefix_upper_bound("jo z").as_deref(), Some("jo {"));
        assert_eq!(
            prefix_upper_bound("a\u{D7FF}").as_deref(),
            Some("a\u{E000}")
        );
        assert_eq!(prefix_upper_bound("a\u{10FFFF}").as_deref(), Some("b"));
        assert_eq!(prefix_upper_bound("\u{10FFFF}"), None);
        assert_eq!(prefix_upper_bound(""), None);
    }

    proptest! {
        #[test]
        fn every_extension_is_within_the_bounds(prefix in "\\PC{1,6}", rest in "\\PC{0,6}") {
            let name = format!("{prefix}{rest}");
            prop_assert!(name.as_str() >= prefix.as_str());
            if let Some(upper) = prefix_upper_bound(&prefix) {
                prop_assert!(name < upper);
            }
        }

        #[test]
        fn fold_is_idempotent(s in "[ a-zA-ZÀ-ÿ]{0,20}") {
            let once = fold(&s);
            prop_assert_eq!(fold(&once), once.clone());
        }
    }
}
