//! Reading an import file into a table of text values: CSV with a header (comma or
//! semicolon, as spreadsheets export) or JSON (an array of objects). Column names are
//! normalized (trimmed, lowercase, a few aliases), values are kept as text.

use std::path::Path;

/// The file's rows under canonical column names.
#[derive(Debug, Default)]
pub struct Table {
    pub columns: Vec<String>,
    pub rows: Vec<RawRow>,
}

/// One line: its number as the operator sees it (CSV: the line in the file, the header being
/// line 1; JSON: the object's position in the array, from 1) and one value per column
/// (`None`: absent from this line).
#[derive(Debug)]
pub struct RawRow {
    pub line: usize,
    pub values: Vec<Option<String>>,
}

impl Table {
    pub fn rows(&self) -> impl Iterator<Item = Row<'_>> {
        self.rows.iter().map(|r| Row {
            line: r.line,
            columns: &self.columns,
            values: &r.values,
        })
    }
}

/// A line seen through its columns.
#[derive(Debug, Clone, Copy)]
pub struct Row<'a> {
    pub line: usize,
    columns: &'a [String],
    values: &'a [Option<String>],
}

impl<'a> Row<'a> {
    /// The trimmed value of a column; `None` when absent or empty.
    pub fn get(&self, column: &str) -> Option<&'a str> {
        let i = self.columns.iter().position(|c| c == column)?;
        self.values
            .get(i)?
            .as_deref()
            .map(str::trim)
            .filter(|v| !v.is_empty())
    }

    #[cfg(test)]
    pub fn new(line: usize, columns: &'a [String], values: &'a [Option<String>]) -> Row<'a> {
        Row {
            line,
            columns,
            values,
        }
    }
}

/// `CPF/CNPJ`, `cpf_cnpj`... → `cpfcnpj`; other names lowercased and trimmed.
pub fn canonical(name: &str) -> String {
    let name = name.trim().trim_start_matches('\u{feff}').to_lowercase();
    match name.as_str() {
        "cpf_cnpj" | "cpf/cnpj" | "cpf" | "cnpj" | "documento" => "cpfcnpj".into(),
        "serviço" => "servico".into(),
        _ => name,
    }
}

pub fn read(path: &Path) -> anyhow::Result<Table> {
    let bytes = std::fs::read(path)
        .map_err(|e| anyhow::anyhow!("não foi possível ler {}: {e}", path.display()))?;
    let text = std::str::from_utf8(&bytes).map_err(|_| {
        anyhow::anyhow!(
            "{} não está em UTF-8: salve o arquivo como \"CSV UTF-8\" (ou converta com iconv)",
            path.display()
        )
    })?;
    let text = text.trim_start_matches('\u{feff}');
    let is_json = path
        .extension()
        .is_some_and(|e| e.eq_ignore_ascii_case("json"))
        || text.trim_start().starts_with('[');
    if is_json {
        parse_json(text)
    } else {
        parse_csv(text)
    }
}

fn parse_json(text: &str) -> anyhow::Result<Table> {
    let items: Vec<serde_json::Value> =
        serde_json::from_str(text).map_err(|e| anyhow::anyhow!("JSON inválido: {e}"))?;
    let mut table = Table::default();
    let mut objects = Vec::with_capacity(items.len());
    for (i, item) in items.into_iter().enumerate() {
        let serde_json::Value::Object(map) = item else {
            anyhow::bail!("JSON inválido: o item {} não é um objeto", i + 1);
        };
        let mut fields = Vec::with_capacity(map.len());
        for (key, value) in map {
            let key = canonical(&key);
            if !table.columns.contains(&key) {
                table.columns.push(key.clone());
            }
            fields.push((key, json_text(value)));
        }
        objects.push(fields);
    }
    for (i, fields) in objects.into_iter().enumerate() {
        let mut values = vec![None; table.columns.len()];
        for (key, value) in fields {
            if let Some(at) = table.columns.iter().position(|c| *c == key) {
                values[at] = value;
            }
        }
        table.rows.push(RawRow {
            line: i + 1,
            values,
        });
    }
    Ok(table)
}

/// JSON values as text: numbers and booleans as written, lists joined with `;` (several
/// e-mails or phones), `null` as absent.
fn json_text(value: serde_json::Value) -> Option<String> {
    match value {
        serde_json::Value::Null => None,
        serde_json::Value::String(s) => Some(s),
        serde_json::Value::Array(items) => Some(
            items
                .into_iter()
                .filter_map(json_text)
                .collect::<Vec<_>>()
                .join(";"),
        ),
        other => Some(other.to_string()),
    }
}

fn parse_csv(text: &str) -> anyhow::Result<Table> {
    let first_line = text.lines().next().unwrap_or("");
    // Spreadsheets set to pt-BR export with `;` (the comma is the decimal separator).
    let delimiter = if first_line.matches(';').count() > first_line.matches(',').count() {
        b';'
    } else {
        b','
    };
    let mut reader = csv::ReaderBuilder::new()
        .delimiter(delimiter)
        .flexible(true)
        .from_reader(text.as_bytes());
    let columns: Vec<String> = reader
        .headers()
        .map_err(|e| anyhow::anyhow!("cabeçalho CSV ilegível: {e}"))?
        .iter()
        .map(canonical)
        .collect();
    if let Some(dup) = columns
        .iter()
        .enumerate()
        .find(|(i, c)| !c.is_empty() && columns[..*i].contains(c))
    {
        anyhow::bail!("coluna repetida no cabeçalho: {}", dup.1);
    }
    let mut table = Table {
        columns,
        rows: Vec::new(),
    };
    for record in reader.records() {
        let record = record.map_err(|e| anyhow::anyhow!("CSV ilegível: {e}"))?;
        // A row of empty cells (spreadsheets leave them at the end) is no line.
        if record.iter().all(|v| v.trim().is_empty()) {
            continue;
        }
        let line = record.position().map(|p| p.line() as usize).unwrap_or(0);
        let values = (0..table.columns.len())
            .map(|i| record.get(i).map(str::to_string))
            .collect();
        table.rows.push(RawRow { line, values });
    }
    Ok(table)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn csv_with_semicolons_bom_and_blank_rows() {
        let t =
            parse_csv("\u{feff}ID;Nome;CPF\n1;ANA;\"529.982.247-25\"\n;;\n2;\"JO;SE\"\n").unwrap();
        assert_eq!(t.columns, ["id", "nome", "cpfcnpj"]);
        let rows: Vec<Row> = t.rows().collect();
        assert_eq!(rows.len(), 2);
        assert_eq!(rows[0].line, 2);
        assert_eq!(rows[0].get("cpfcnpj"), Some("529.982.247-25"));
        assert_eq!(rows[1].line, 4);
        assert_eq!(rows[1].get("nome"), Some("JO;SE"));
        assert_eq!(rows[1].get("cpfcnpj"), None);
    }

    #[test]
    fn json_values_as_text() {
        let t = parse_json(
            r#"[{"id": 1, "emails": ["a@b.com", "c@d.com"], "habilitado": true},
                {"id": "2", "nome": null}]"#,
        )
        .unwrap();
        let rows: Vec<Row> = t.rows().collect();
        assert_eq!(rows[0].get("id"), Some("1"));
        assert_eq!(rows[0].get("emails"), Some("a@b.com;c@d.com"));
        assert_eq!(rows[0].get("habilitado"), Some("true"));
        assert_eq!(rows[1].line, 2);
        assert_eq!(rows[1].get("emails"), None);
        assert_eq!(rows[1].get("nome"), None);
    }
}
