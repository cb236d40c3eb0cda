//! The keys the settings know, taken from the defaults themselves (so a new field is known
//! the moment it exists): an unknown key in the settings file stops the start, an unknown
//! `URA_*` variable is warned about. A typo must not leave the server running on defaults.

use std::collections::BTreeSet;
use std::path::Path;

use super::Settings;

/// Every dotted key of the settings (`listen`, `promessa.dias`, ...), the sections, and the
/// keys under which anything goes: tables whose keys are the operator's own
/// (`sms.cabecalhos`), and values absent by default, which may be tables.
pub struct Known {
    pub keys: BTreeSet<String>,
    sections: BTreeSet<String>,
    open: BTreeSet<String>,
}

impl Default for Known {
    fn default() -> Known {
        Known::new()
    }
}

impl Known {
    pub fn new() -> Known {
        let mut known = Known {
            keys: BTreeSet::new(),
            sections: BTreeSet::new(),
            open: BTreeSet::new(),
        };
        if let Ok(serde_json::Value::Object(map)) = serde_json::to_value(Settings::default()) {
            known.walk("", &map);
        }
        known
    }

    fn walk(&mut self, prefix: &str, map: &serde_json::Map<String, serde_json::Value>) {
        for (key, value) in map {
            let dotted = format!("{prefix}{key}");
            match value {
                // An empty table by default is a map the operator fills (headers...).
                serde_json::Value::Object(inner) if inner.is_empty() => {
                    self.keys.insert(dotted.clone());
                    self.open.insert(dotted);
                }
                serde_json::Value::Object(inner) => {
                    self.sections.insert(dotted.clone());
                    self.walk(&format!("{dotted}."), inner);
                }
                // Absent by default: it may be a table (`Option<SomeSection>`) whose keys the
                // defaults cannot show; what is under it is left to the loader.
                serde_json::Value::Null => {
                    self.keys.insert(dotted.clone());
                    self.open.insert(dotted);
                }
                _ => {
                    self.keys.insert(dotted);
                }
            }
        }
    }

    fn is_section(&self, dotted: &str) -> bool {
        self.sections.contains(dotted)
    }

    /// A value key, or anything under a table the operator fills.
    fn accepts(&self, dotted: &str) -> bool {
        self.keys.contains(dotted)
            || self.open.iter().any(|t| {
                dotted
                    .strip_prefix(t.as_str())
                    .is_some_and(|r| r.starts_with('.'))
            })
    }

    /// The known key or section nearest to `dotted` (by edit distance of the whole key, so
    /// that a key under the wrong section finds its own).
    fn nearest(&self, dotted: &str) -> Option<&str> {
        self.keys
            .iter()
            .chain(self.sections.iter())
            .map(|k| (strsim::damerau_levenshtein(dotted, k), k))
            .min_by_key(|(d, _)| *d)
            .map(|(_, k)| k.as_str())
    }

    /// The settings file's unknown keys, each as `file:line: ...`; the first one is the error.
    pub fn check_file(&self, path: &Path, text: &str) -> Result<(), String> {
        // A file that does not parse is reported by the loader itself, with its position.
        let Ok(doc) = toml_edit::ImDocument::parse(text) else {
            return Ok(());
        };
        let mut problems = Vec::new();
        self.check_table(doc.as_table(), "", text, path, &mut problems);
        match problems.into_iter().next() {
            Some(first) => Err(first),
            None => Ok(()),
        }
    }

    fn check_table(
        &self,
        table: &dyn toml_edit::TableLike,
        prefix: &str,
        text: &str,
        path: &Path,
        problems: &mut Vec<String>,
    ) {
        for (key, item) in table.iter() {
            let dotted = format!("{prefix}{key}");
            if self.accepts(&dotted) {
                continue;
            }
            if self.is_section(&dotted)
                && let Some(inner) = item.as_table_like()
            {
                self.check_table(inner, &format!("{dotted}."), text, path, problems);
                continue;
            }
            let offset = table
                .get_key_value(key)
                .and_then(|(k, i)| k.span().or_else(|| i.span()))
                .map(|s| s.start);
            let line = offset.map(|o| text[..o.min(text.len())].matches('\n').count() + 1);
            let place = match line {
                Some(line) => format!("{}:{line}", path.display()),
                None => path.display().to_string(),
            };
            let hint = self
                .nearest(&dotted)
                .map(|k| format!("; a mais próxima é `{k}`"))
                .unwrap_or_default();
            problems.push(format!(
                "{place}: chave desconhecida `{dotted}`{hint} (docs/settings.md lista todas)"
            ));
        }
    }

    /// Warnings for `URA_*` variables that set nothing; `URA_TEST_*` (the test suite's),
    /// `URA_CONFIG` and `URA_LOG` are not settings and are left alone.
    pub fn unknown_env(&self, vars: impl Iterator<Item = String>) -> Vec<String> {
        let mut warnings = Vec::new();
        for name in vars {
            let Some(rest) = name.strip_prefix("URA_") else {
                continue;
            };
            if rest.starts_with("TEST_") || rest == "CONFIG" || rest == "LOG" {
                continue;
            }
            let dotted = super::env_key(rest);
            if self.accepts(&dotted) {
                continue;
            }
            let hint = self
                .nearest(&dotted)
                .filter(|k| self.keys.contains(*k))
                .map(|k| format!("; a mais próxima é URA_{}", env_name(k)))
                .unwrap_or_default();
            warnings.push(format!(
                "variável de ambiente {name} desconhecida, ignorada{hint}"
            ));
        }
        warnings
    }
}

/// `promessa.limite_mes` → `PROMESSA_LIMITE_MES`.
pub fn env_name(dotted: &str) -> String {
    dotted.replace('.', "_").to_ascii_uppercase()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn err(text: &str) -> String {
        Known::new()
            .check_file(Path::new("ura.toml"), text)
            .unwrap_err()
    }

    #[test]
    fn unknown_keys_name_the_line_and_the_nearest_key() {
        let e = err("listen = \"0.0.0.0:8000\"\n\nlistn = \"x\"\n");
        assert_eq!(
            e,
            "ura.toml:3: chave desconhecida `listn`; a mais próxima é `listen` (docs/settings.md lista todas)"
        );
        let e = err("[promessa]\ndias = 3\n\n[promesa]\ndias = 2\n");
        assert!(
            e.starts_with("ura.toml:4: chave desconhecida `promesa`"),
            "{e}"
        );
        assert!(e.contains("`promessa"), "{e}");
        let e = err("[promessa]\ndias = 3\nlimite_mez = 1\n");
        assert!(e.starts_with("ura.toml:3:"), "{e}");
        assert!(e.contains("`promessa.limite_mes`"), "{e}");
        let e = err("promessa.diaz = 3\n");
        assert!(e.contains("`promessa.dias`"), "{e}");
        let e = err("fatura = { multa = 2, juro = 1 }\n");
        assert!(e.contains("`fatura.juro`"), "{e}");
    }

    #[test]
    fn known_keys_and_open_tables_pass() {
        let k = Known::new();
        let text = "listen = \"x\"\npromessa.dias = 3\n[sms]\nurl = \"http://x\"\n[sms.cabecalhos]\nX-Chave = \"y\"\n[limites]\nproxies_confiaveis = [\"127.0.0.1\"]\n";
        assert_eq!(k.check_file(Path::new("ura.toml"), text), Ok(()));
    }

    /// docs/settings.md names every setting (walked from the defaults, so a new field of any
    /// section is caught), with its environment variable where it has one.
    #[test]
    fn every_setting_is_on_the_settings_page() {
        let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("docs/settings.md");
        let page = std::fs::read_to_string(&path).expect("docs/settings.md");
        let known = Known::new();
        assert!(known.keys.len() > 60, "{:?}", known.keys);
        let missing: Vec<&String> = known
            .keys
            .iter()
            .filter(|k| !page.contains(&format!("| `{k}` |")))
            .collect();
        assert!(
            missing.is_empty(),
            "settings not documented on docs/settings.md (a table row `| `key` | ...`): {missing:?}"
        );
    }

    #[test]
    fn unknown_variables_are_warned_of() {
        let k = Known::new();
        let w = k.unknown_env(
            [
                "URA_LISTN",
                "URA_LISTEN",
                "URA_PROMESSA_LIMITE_MES",
                "URA_TEST_DATABASE_URL",
                "URA_LOG",
                "URA_CONFIG",
                "HOME",
            ]
            .into_iter()
            .map(String::from),
        );
        assert_eq!(
            w,
            vec![
                "variável de ambiente URA_LISTN desconhecida, ignorada; a mais próxima é URA_LISTEN"
                    .to_string()
            ]
        );
    }
}
