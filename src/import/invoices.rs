//! Invoices. Columns: `id,contrato,numero_documento,nosso_numero,valor,emissao,vencimento,
//! status,pagamento,valor_pago,codigo_barras,linha_digitavel,codigo_pix` (`status`
//! aberto/pago/cancelado). The barcode, the linha digitável and the PIX code are checked and
//! must agree; a missing code is derived from the other.

use std::collections::HashMap;

use chrono::NaiveDate;
use sqlx::AssertSqlSafe;

use super::fields::{self, LineError, err};
use super::source::Row;
use super::sql::{self, ROWS_PER_STATEMENT};
use super::{Ctx, Summary, check_rows, classify, keep};
use crate::domain::payment_data;
use crate::store::Conn;

/// A checked invoice, in stored form (dates as `AAAA-MM-DD`).
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct Invoice {
    pub contract_id: i64,
    pub document_number: String,
    pub our_number: String,
    pub amount_cents: i64,
    pub issued_on: String,
    pub due_on: String,
    pub status: String,
    pub paid_on: Option<String>,
    pub paid_cents: Option<i64>,
    pub barcode: Option<String>,
    pub digitable_line: Option<String>,
    pub pix_payload: Option<String>,
}

#[derive(sqlx::FromRow)]
struct Existing {
    id: i64,
    #[sqlx(flatten)]
    invoice: Invoice,
}

/// Checks one line (not its contract: that needs the database).
pub fn check(row: &Row<'_>) -> Result<(i64, Invoice), LineError> {
    let line = row.line;
    let id = fields::id(row, "id")?;
    let contract_id = fields::required(row, "contrato")?
        .parse::<i64>()
        .map_err(|_| err(line, "contrato", "use um número inteiro"))?;
    let amount_cents =
        fields::reais(row, "valor")?.ok_or_else(|| err(line, "valor", "obrigatório"))?;
    let due_on: NaiveDate =
        fields::date(row, "vencimento")?.ok_or_else(|| err(line, "vencimento", "obrigatório"))?;
    let issued_on = fields::date(row, "emissao")?.unwrap_or(due_on);
    let status = match row.get("status").map(str::to_lowercase).as_deref() {
        None | Some("aberto") | Some("open") => "open",
        Some("pago") | Some("paid") => "paid",
        Some("cancelado") | Some("cancelled") => "cancelled",
        Some(_) => return Err(err(line, "status", "use aberto, pago ou cancelado")),
    };
    let paid_on = fields::date(row, "pagamento")?;
    let paid_cents = fields::reais(row, "valor_pago")?;
    let checked = payment_data::check(
        row.get("codigo_barras"),
        row.get("linha_digitavel"),
        row.get("codigo_pix"),
    )
    .map_err(|e| err(line, e.field(), e.to_string()))?;
    let paid = status == "paid";
    Ok((
        id,
        Invoice {
            contract_id,
            document_number: row.get("numero_documento").unwrap_or_default().to_string(),
            our_number: row.get("nosso_numero").unwrap_or_default().to_string(),
            amount_cents,
            issued_on: issued_on.to_string(),
            due_on: due_on.to_string(),
            status: status.to_string(),
            paid_on: paid.then(|| paid_on.unwrap_or(due_on).to_string()),
            paid_cents: paid.then(|| paid_cents.unwrap_or(amount_cents)),
            barcode: checked.barcode,
            digitable_line: checked.digitable_line,
            pix_payload: checked.pix,
        },
    ))
}

pub async fn batch(
    conn: &mut Conn,
    ctx: &mut Ctx<'_>,
    rows: &[Row<'_>],
    out: &mut Summary,
) -> Result<(), sqlx::Error> {
    let mut records = check_rows(rows, ctx, out, check, |(id, _)| *id);
    let contracts = sql::existing_ids(
        conn,
        "contracts",
        records.iter().map(|(_, (_, i))| i.contract_id),
    )
    .await?;
    keep(&mut records, out, |line, (_, inv)| {
        if contracts.contains(&inv.contract_id) {
            Ok(())
        } else {
            Err(err(
                line,
                "contrato",
                format!("contrato {} não existe", inv.contract_id),
            ))
        }
    });
    let ids: Vec<i64> = records.iter().map(|(_, (id, _))| *id).collect();
    let mut stored: HashMap<i64, Invoice> = sql::fetch_in::<Existing, _>(
        conn,
        "SELECT id, contract_id, document_number, our_number, amount_cents, issued_on, due_on, \
         status, paid_on, paid_cents, barcode, digitable_line, pix_payload \
         FROM invoices WHERE id IN ({in})",
        &ids,
    )
    .await?
    .into_iter()
    .map(|e| (e.id, e.invoice))
    .collect();
    let write = classify(records, &mut stored, |(id, inv)| (*id, inv.clone()), out);
    for chunk in write.chunks(ROWS_PER_STATEMENT) {
        upsert(conn, chunk).await?;
    }
    Ok(())
}

async fn upsert(
    conn: &mut Conn,
    chunk: &[((i64, Invoice), Option<Invoice>)],
) -> Result<(), sqlx::Error> {
    let sql = format!(
        "INSERT INTO invoices (id, contract_id, document_number, our_number, amount_cents, \
         issued_on, due_on, status, paid_on, paid_cents, barcode, digitable_line, pix_payload) \
         VALUES {} \
         ON CONFLICT (id) DO UPDATE SET contract_id = excluded.contract_id, \
         document_number = excluded.document_number, our_number = excluded.our_number, \
         amount_cents = excluded.amount_cents, issued_on = excluded.issued_on, \
         due_on = excluded.due_on, status = excluded.status, paid_on = excluded.paid_on, \
         paid_cents = excluded.paid_cents, barcode = excluded.barcode, \
         digitable_line = excluded.digitable_line, pix_payload = excluded.pix_payload",
        sql::tuples(chunk.len(), 13)
    );
    let mut query = sqlx::query(AssertSqlSafe(sql));
    for ((id, inv), _) in chunk {
        query = query
            .bind(*id)
            .bind(inv.contract_id)
            .bind(&inv.document_number)
            .bind(&inv.our_number)
            .bind(inv.amount_cents)
            .bind(&inv.issued_on)
            .bind(&inv.due_on)
            .bind(&inv.status)
            .bind(&inv.paid_on)
            .bind(inv.paid_cents)
            .bind(&inv.barcode)
            .bind(&inv.digitable_line)
            .bind(&inv.pix_payload);
    }
    query.execute(&mut *conn).await?;
    Ok(())
}
