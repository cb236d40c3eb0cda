//! What a file holds: given with `--tipo`, or recognised from its columns.

use super::source::Table;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Planos,
    Pops,
    Nas,
    Clientes,
    Contratos,
    Servicos,
    Faturas,
}

impl Kind {
    /// In the order a first import runs them.
    pub const ALL: [Kind; 7] = [
        Kind::Planos,
        Kind::Pops,
        Kind::Nas,
        Kind::Clientes,
        Kind::Contratos,
        Kind::Servicos,
        Kind::Faturas,
    ];

    /// The name of `--tipo`.
    pub fn name(self) -> &'static str {
        match self {
            Kind::Planos => "planos",
            Kind::Pops => "pops",
            Kind::Nas => "nas",
            Kind::Clientes => "clientes",
            Kind::Contratos => "contratos",
            Kind::Servicos => "servicos",
            Kind::Faturas => "faturas",
        }
    }

    pub fn parse(text: &str) -> Option<Kind> {
        let text = text.trim().to_lowercase();
        let text = match text.as_str() {
            "serviços" => "servicos",
            "clientes" | "cliente" => "clientes",
            other => other,
        };
        Kind::ALL.into_iter().find(|k| k.name() == text)
    }

    /// `N fatura(s) importada(s)`: what the summary calls the records.
    pub fn imported(self, n: usize) -> String {
        match self {
            Kind::Planos => format!("{n} plano(s) importado(s)"),
            Kind::Pops => format!("{n} POP(s) importado(s)"),
            Kind::Nas => format!("{n} NAS importado(s)"),
            Kind::Clientes => format!("{n} cliente(s) importado(s)"),
            Kind::Contratos => format!("{n} contrato(s) importado(s)"),
            Kind::Servicos => format!("{n} serviço(s) importado(s)"),
            Kind::Faturas => format!("{n} fatura(s) importada(s)"),
        }
    }

    /// The table whose primary key is the file's `id`.
    pub fn table(self) -> &'static str {
        match self {
            Kind::Planos => "plans",
            Kind::Pops => "pops",
            Kind::Nas => "nas",
            Kind::Clientes => "customers",
            Kind::Contratos => "contracts",
            Kind::Servicos => "internet_services",
            Kind::Faturas => "invoices",
        }
    }

    /// Columns that tell this kind apart; a file of this kind has all of them.
    fn signature(self) -> &'static [&'static str] {
        match self {
            Kind::Planos => &["id", "nome", "download", "upload"],
            Kind::Pops => &["id", "nome"],
            Kind::Nas => &["id", "ip", "segredo"],
            Kind::Clientes => &["id", "nome", "cpfcnpj"],
            Kind::Contratos => &["id", "cliente", "status"],
            Kind::Servicos => &["id", "contrato", "login"],
            Kind::Faturas => &["id", "contrato", "valor", "vencimento"],
        }
    }

    /// Every column this kind reads.
    pub fn columns(self) -> &'static [&'static str] {
        match self {
            Kind::Planos => &["id", "nome", "download", "upload", "valor", "grupo_radius"],
            Kind::Pops => &["id", "nome", "cidade"],
            Kind::Nas => &[
                "id",
                "nome",
                "ip",
                "segredo",
                "tipo",
                "porta_coa",
                "verificacao",
                "pop",
            ],
            Kind::Clientes => &[
                "id",
                "nome",
                "cpfcnpj",
                "nascimento",
                "emails",
                "celulares",
                "telefones",
            ],
            Kind::Contratos => &[
                "id",
                "cliente",
                "status",
                "status_modo",
                "pop",
                "dia_vencimento",
                "endereco",
            ],
            Kind::Servicos => &[
                "id",
                "contrato",
                "login",
                "senha",
                "plano",
                "nas",
                "mac",
                "habilitado",
            ],
            Kind::Faturas => &[
                "id",
                "contrato",
                "numero_documento",
                "nosso_numero",
                "valor",
                "emissao",
                "vencimento",
                "status",
                "pagamento",
                "valor_pago",
                "codigo_barras",
                "linha_digitavel",
                "codigo_pix",
                "banco",
                "convenio",
                "pix_txid",
            ],
        }
    }
}

fn names(kinds: &[Kind]) -> String {
    kinds
        .iter()
        .map(|k| k.name())
        .collect::<Vec<_>>()
        .join(", ")
}

/// The kind given with `--tipo`, or the one the columns point to.
pub fn resolve_kind(tipo: Option<&str>, table: &Table) -> anyhow::Result<Kind> {
    let all = names(&Kind::ALL).replace(", ", "|");
    if let Some(tipo) = tipo {
        return Kind::parse(tipo)
            .ok_or_else(|| anyhow::anyhow!("tipo desconhecido: {tipo} (use --tipo {all})"));
    }
    let has = |c: &&str| table.columns.iter().any(|t| t == c);
    let candidates: Vec<Kind> = Kind::ALL
        .into_iter()
        .filter(|k| k.signature().iter().all(has))
        .collect();
    // A kind whose columns are all part of another's gives way (POPs to customers).
    let within =
        |a: Kind, b: Kind| a != b && a.signature().iter().all(|c| b.signature().contains(c));
    let candidates: Vec<Kind> = candidates
        .iter()
        .copied()
        .filter(|k| !candidates.iter().any(|o| within(*k, *o)))
        .collect();
    let fits: Vec<Kind> = candidates
        .iter()
        .copied()
        .filter(|k| unknown_columns(*k, table).is_empty())
        .collect();
    match (candidates.as_slice(), fits.as_slice()) {
        ([only], _) | (_, [only]) => Ok(*only),
        ([], _) => anyhow::bail!(
            "não foi possível reconhecer o tipo do arquivo pelas colunas ({}); \
             informe-o com --tipo {all}",
            table.columns.join(", ")
        ),
        (_, _) => anyhow::bail!(
            "as colunas do arquivo servem para mais de um tipo ({}); informe-o com --tipo {all}",
            names(if fits.is_empty() { &candidates } else { &fits })
        ),
    }
}

/// Columns of the file the kind does not read (ignored, with a warning).
pub fn unknown_columns(kind: Kind, table: &Table) -> Vec<&str> {
    table
        .columns
        .iter()
        .map(String::as_str)
        .filter(|c| !c.is_empty() && !kind.columns().contains(c))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn table(columns: &[&str]) -> Table {
        Table {
            columns: columns.iter().map(|c| c.to_string()).collect(),
            rows: Vec::new(),
        }
    }

    #[test]
    fn detection() {
        let k = |c: &[&str]| resolve_kind(None, &table(c)).map_err(|e| e.to_string());
        assert_eq!(k(&["id", "nome", "cpfcnpj", "emails"]), Ok(Kind::Clientes));
        assert_eq!(k(&["id", "nome", "cpfcnpj", "obs"]), Ok(Kind::Clientes));
        assert_eq!(k(&["id", "nome", "cidade"]), Ok(Kind::Pops));
        assert_eq!(
            k(&["id", "nome", "download", "upload", "valor"]),
            Ok(Kind::Planos)
        );
        assert_eq!(k(&["id", "cliente", "status"]), Ok(Kind::Contratos));
        assert_eq!(k(&["id", "contrato", "login", "senha"]), Ok(Kind::Servicos));
        assert_eq!(
            k(&["id", "contrato", "valor", "vencimento"]),
            Ok(Kind::Faturas)
        );
        assert_eq!(k(&["id", "ip", "segredo"]), Ok(Kind::Nas));
        let e = k(&["id", "contrato", "login", "valor", "vencimento"]).unwrap_err();
        assert!(e.contains("mais de um tipo (servicos, faturas)"), "{e}");
        let e = k(&["codigo", "descricao"]).unwrap_err();
        assert!(e.contains("não foi possível reconhecer"), "{e}");
        assert_eq!(
            resolve_kind(Some("Serviços"), &table(&[])).ok(),
            Some(Kind::Servicos)
        );
        assert!(resolve_kind(Some("boletos"), &table(&[])).is_err());
    }
}
