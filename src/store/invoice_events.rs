//! An invoice's history besides its status: what a bank's return file or a PSP said about it.

use super::Conn;

/// One event of an invoice's history.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow, serde::Serialize)]
pub struct InvoiceEvent {
    pub id: i64,
    pub invoice_id: i64,
    pub source: String,
    pub kind: String,
    pub detail: String,
    pub amount_cents: Option<i64>,
    pub created_at: String,
}

/// Records an event, in the caller's transaction.
pub async fn record(
    conn: &mut Conn,
    invoice_id: i64,
    source: &str,
    kind: &str,
    detail: &str,
    amount_cents: Option<i64>,
    created_at: &str,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO invoice_events (invoice_id, source, kind, detail, amount_cents, created_at) \
         VALUES ($1, $2, $3, $4, $5, $6)",
    )
    .bind(invoice_id)
    .bind(source)
    .bind(kind)
    .bind(detail)
    .bind(amount_cents)
    .bind(created_at)
    .execute(conn)
    .await?;
    Ok(())
}

/// The invoice's events, oldest first.
pub async fn of_invoice(
    conn: &mut Conn,
    invoice_id: i64,
) -> Result<Vec<InvoiceEvent>, sqlx::Error> {
    sqlx::query_as(
        "SELECT id, invoice_id, source, kind, detail, amount_cents, created_at \
         FROM invoice_events WHERE invoice_id = $1 ORDER BY id",
    )
    .bind(invoice_id)
    .fetch_all(conn)
    .await
}
