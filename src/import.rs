//! `ura import FILE`: bulk upsert of invoices from CSV or JSON, keyed by the provider's own
//! invoice id, every line checked (payment data included) and bad lines reported with their
//! number and the field at fault. Good lines are committed in batches, so a file with some
//! bad lines still brings the good ones in; running the same file again changes nothing.
//! (Customers, contracts and services come with the admin surface; invoices are what the
//! second-copy functions need first.)

use std::path::Path;

use chrono::NaiveDate;
use serde::Deserialize;

use crate::domain::{money, payment_data};
use crate::store::{Conn, Store};

const BATCH: usize = 500;

/// One invoice as written in the file (Portuguese column names, all text).
#[derive(Debug, Clone, Default, Deserialize)]
pub struct InvoiceLine {
    pub id: Option<String>,
    pub contrato: Option<String>,
    pub numero_documento: Option<String>,
    pub nosso_numero: Option<String>,
    pub valor: Option<String>,
    pub emissao: Option<String>,
    pub vencimento: Option<String>,
    pub status: Option<String>,
    pub pagamento: Option<String>,
    pub valor_pago: Option<String>,
    pub codigo_barras: Option<String>,
    pub linha_digitavel: Option<String>,
    pub codigo_pix: Option<String>,
}

/// A checked invoice, ready to be written.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Invoice {
    pub id: i64,
    pub contract_id: i64,
    pub document_number: String,
    pub our_number: String,
    pub amount_cents: i64,
    pub issued_on: NaiveDate,
    pub due_on: NaiveDate,
    pub status: &'static str,
    pub paid_on: Option<NaiveDate>,
    pub paid_cents: Option<i64>,
    pub barcode: Option<String>,
    pub digitable_line: Option<String>,
    pub pix: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LineError {
    pub line: usize,
    pub field: String,
    pub reason: String,
}

impl std::fmt::Display for LineError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "linha {}: {}: {}", self.line, self.field, self.reason)
    }
}

#[derive(Debug, Default)]
pub struct Summary {
    pub imported: usize,
    pub errors: Vec<LineError>,
}

fn text(v: &Option<String>) -> Option<&str> {
    v.as_deref().map(str::trim).filter(|v| !v.is_empty())
}

fn err(line: usize, field: &str, reason: impl Into<String>) -> LineError {
    LineError {
        line,
        field: field.into(),
        reason: reason.into(),
    }
}

fn date(line: usize, field: &str, v: &Option<String>) -> Result<Option<NaiveDate>, LineError> {
    match text(v) {
        None => Ok(None),
        Some(t) => NaiveDate::parse_from_str(t, "%Y-%m-%d")
            .or_else(|_| NaiveDate::parse_from_str(t, "%d/%m/%Y"))
            .map(Some)
            .map_err(|_| err(line, field, "data inválida: use AAAA-MM-DD ou DD/MM/AAAA")),
    }
}

/// Checks one line (not its contract: that needs the database).
pub fn check(line: usize, l: &InvoiceLine) -> Result<Invoice, LineError> {
    let id = text(&l.id)
        .ok_or_else(|| err(line, "id", "obrigatório"))?
        .parse::<i64>()
        .ok()
        .filter(|id| *id > 0)
        .ok_or_else(|| err(line, "id", "use um número inteiro positivo"))?;
    let contract_id = text(&l.contrato)
        .ok_or_else(|| err(line, "contrato", "obrigatório"))?
        .parse::<i64>()
        .map_err(|_| err(line, "contrato", "use um número inteiro"))?;
    let amount_cents = text(&l.valor)
        .ok_or_else(|| err(line, "valor", "obrigatório"))
        .and_then(|v| {
            money::parse_reais(v)
                .ok_or_else(|| err(line, "valor", "valor inválido: use 49.90 ou 49,90"))
        })?;
    let due_on = date(line, "vencimento", &l.vencimento)?
        .ok_or_else(|| err(line, "vencimento", "obrigatório"))?;
    let issued_on = date(line, "emissao", &l.emissao)?.unwrap_or(due_on);
    let status = match text(&l.status).map(str::to_lowercase).as_deref() {
        None | Some("aberto") | Some("open") => "open",
        Some("pago") | Some("paid") => "paid",
        Some("cancelado") | Some("cancelled") => "cancelled",
        Some(_) => return Err(err(line, "status", "use aberto, pago ou cancelado")),
    };
    let paid_on = date(line, "pagamento", &l.pagamento)?;
    let paid_cents = match text(&l.valor_pago) {
        None => None,
        Some(v) => Some(
            money::parse_reais(v)
                .ok_or_else(|| err(line, "valor_pago", "valor inválido: use 49.90 ou 49,90"))?,
        ),
    };
    let checked = payment_data::check(
        text(&l.codigo_barras),
        text(&l.linha_digitavel),
        text(&l.codigo_pix),
    )
    .map_err(|e| err(line, e.field(), e.to_string()))?;
    Ok(Invoice {
        id,
        contract_id,
        document_number: text(&l.numero_documento).unwrap_or_default().to_string(),
        our_number: text(&l.nosso_numero).unwrap_or_default().to_string(),
        amount_cents,
        issued_on,
        due_on,
        status,
        paid_on: if status == "paid" {
            paid_on.or(Some(due_on))
        } else {
            None
        },
        paid_cents: if status == "paid" {
            paid_cents.or(Some(amount_cents))
        } else {
            None
        },
        barcode: checked.barcode,
        digitable_line: checked.digitable_line,
        pix: checked.pix,
    })
}

/// Reads the file's lines: CSV (with a header) or JSON (an array of objects).
pub fn read(path: &Path) -> anyhow::Result<Vec<(usize, InvoiceLine)>> {
    let bytes = std::fs::read(path)
        .map_err(|e| anyhow::anyhow!("não foi possível ler {}: {e}", path.display()))?;
    let is_json = path
        .extension()
        .is_some_and(|e| e.eq_ignore_ascii_case("json"));
    if is_json {
        let lines: Vec<InvoiceLine> = serde_json::from_slice::<Vec<serde_json::Value>>(&bytes)
            .map_err(|e| anyhow::anyhow!("JSON inválido: {e}"))?
            .into_iter()
            .map(json_line)
            .collect();
        return Ok(lines
            .into_iter()
            .enumerate()
            .map(|(i, l)| (i + 1, l))
            .collect());
    }
    let mut reader = csv::ReaderBuilder::new()
        .flexible(true)
        .trim(csv::Trim::All)
        .from_reader(bytes.as_slice());
    let mut out = Vec::new();
    for (i, record) in reader.deserialize::<InvoiceLine>().enumerate() {
        // Line numbers as a spreadsheet shows them: the header is line 1.
        let line = i + 2;
        match record {
            Ok(l) => out.push((line, l)),
            Err(e) => {
                tracing::debug!(line, error = %e, "linha CSV ilegível");
                out.push((line, InvoiceLine::default()));
            }
        }
    }
    Ok(out)
}

/// JSON values may be numbers or strings; both are read as text.
fn json_line(v: serde_json::Value) -> InvoiceLine {
    let field = |name: &str| match v.get(name) {
        Some(serde_json::Value::String(s)) => Some(s.clone()),
        Some(serde_json::Value::Number(n)) => Some(n.to_string()),
        _ => None,
    };
    InvoiceLine {
        id: field("id"),
        contrato: field("contrato"),
        numero_documento: field("numero_documento"),
        nosso_numero: field("nosso_numero"),
        valor: field("valor"),
        emissao: field("emissao"),
        vencimento: field("vencimento"),
        status: field("status"),
        pagamento: field("pagamento"),
        valor_pago: field("valor_pago"),
        codigo_barras: field("codigo_barras"),
        linha_digitavel: field("linha_digitavel"),
        codigo_pix: field("codigo_pix"),
    }
}

async fn contract_exists(conn: &mut Conn, id: i64) -> Result<bool, sqlx::Error> {
    let n: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM contracts WHERE id = $1")
        .bind(id)
        .fetch_one(conn)
        .await?;
    Ok(n > 0)
}

async fn upsert(conn: &mut Conn, inv: &Invoice) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO invoices (id, contract_id, document_number, our_number, amount_cents, \
         issued_on, due_on, status, paid_on, paid_cents, barcode, digitable_line, pix_payload) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13) \
         ON CONFLICT (id) DO UPDATE SET contract_id = excluded.contract_id, \
         document_number = excluded.document_number, our_number = excluded.our_number, \
         amount_cents = excluded.amount_cents, issued_on = excluded.issued_on, \
         due_on = excluded.due_on, status = excluded.status, paid_on = excluded.paid_on, \
         paid_cents = excluded.paid_cents, barcode = excluded.barcode, \
         digitable_line = excluded.digitable_line, pix_payload = excluded.pix_payload",
    )
    .bind(inv.id)
    .bind(inv.contract_id)
    .bind(&inv.document_number)
    .bind(&inv.our_number)
    .bind(inv.amount_cents)
    .bind(inv.issued_on.to_string())
    .bind(inv.due_on.to_string())
    .bind(inv.status)
    .bind(inv.paid_on.map(|d| d.to_string()))
    .bind(inv.paid_cents)
    .bind(&inv.barcode)
    .bind(&inv.digitable_line)
    .bind(&inv.pix)
    .execute(conn)
    .await?;
    Ok(())
}

/// Imports the lines; `progress` is told how many lines were handled so far.
pub async fn run(
    store: &Store,
    lines: Vec<(usize, InvoiceLine)>,
    mut progress: impl FnMut(usize),
) -> Result<Summary, sqlx::Error> {
    let mut summary = Summary::default();
    let mut done = 0;
    for batch in lines.chunks(BATCH) {
        let mut tx = store.write().await?;
        for (line, raw) in batch {
            let checked = match check(*line, raw) {
                Ok(inv) => inv,
                Err(e) => {
                    summary.errors.push(e);
                    continue;
                }
            };
            if !contract_exists(&mut tx, checked.contract_id).await? {
                summary.errors.push(err(
                    *line,
                    "contrato",
                    format!("contrato {} não existe", checked.contract_id),
                ));
                continue;
            }
            upsert(&mut tx, &checked).await?;
            summary.imported += 1;
        }
        tx.commit().await?;
        done += batch.len();
        progress(done);
    }
    Ok(summary)
}
