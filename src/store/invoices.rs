//! Invoices (títulos) as the read routes and the PDF need them.

use super::Store;
use crate::domain::cnab::our_number;
use crate::domain::states::InvoiceStatus;

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct InvoiceRow {
    pub id: i64,
    pub contract_id: i64,
    pub customer_id: i64,
    pub customer_name: String,
    pub customer_document: String,
    pub document_number: String,
    pub our_number: String,
    pub amount_cents: i64,
    pub issued_on: String,
    pub due_on: String,
    pub status: InvoiceStatus,
    pub paid_on: Option<String>,
    pub paid_cents: Option<i64>,
    pub cancelled_on: Option<String>,
    pub barcode: Option<String>,
    pub digitable_line: Option<String>,
    pub pix_payload: Option<String>,
}

const SELECT: &str = "SELECT i.id, i.contract_id, c.customer_id, cu.name AS customer_name, \
     cu.document AS customer_document, i.document_number, i.our_number, i.amount_cents, \
     i.issued_on, i.due_on, i.status, i.paid_on, i.paid_cents, i.cancelled_on, i.barcode, \
     i.digitable_line, i.pix_payload \
     FROM invoices i JOIN contracts c ON c.id = i.contract_id \
     JOIN customers cu ON cu.id = c.customer_id";

pub async fn by_id(store: &Store, id: i64) -> Result<Option<InvoiceRow>, sqlx::Error> {
    sqlx::query_as(sqlx::AssertSqlSafe(format!("{SELECT} WHERE i.id = $1")))
        .bind(id)
        .fetch_optional(&store.pool)
        .await
}

/// Which invoices: of one contract, or of every contract of a customer document.
#[derive(Debug, Clone)]
pub enum Scope<'a> {
    Contract(i64),
    Document(&'a str),
}

/// A page of invoices (oldest due date first) and the total matching.
pub async fn page(
    store: &Store,
    scope: Scope<'_>,
    status: Option<InvoiceStatus>,
    offset: i64,
    limit: i64,
) -> Result<(Vec<InvoiceRow>, i64), sqlx::Error> {
    let scope_filter = match scope {
        Scope::Contract(_) => "i.contract_id = $1",
        Scope::Document(_) => "cu.document = $1",
    };
    let (status_filter, next) = if status.is_some() {
        (" AND i.status = $2", 3)
    } else {
        ("", 2)
    };
    let where_clause = format!(" WHERE {scope_filter}{status_filter}");
    let count_sql = format!(
        "SELECT COUNT(*) FROM invoices i JOIN contracts c ON c.id = i.contract_id \
         JOIN customers cu ON cu.id = c.customer_id{where_clause}"
    );
    let page_sql = format!(
        "{SELECT}{where_clause} ORDER BY i.due_on, i.id LIMIT ${next} OFFSET ${}",
        next + 1
    );
    let count = sqlx::query_scalar(sqlx::AssertSqlSafe(count_sql));
    let count = match scope {
        Scope::Contract(id) => count.bind(id),
        Scope::Document(doc) => count.bind(doc.to_string()),
    };
    let count = match status {
        Some(st) => count.bind(st),
        None => count,
    };
    let total: i64 = count.fetch_one(&store.pool).await?;
    let rows = sqlx::query_as(sqlx::AssertSqlSafe(page_sql));
    let rows = match scope {
        Scope::Contract(id) => rows.bind(id),
        Scope::Document(doc) => rows.bind(doc.to_string()),
    };
    let rows = match status {
        Some(st) => rows.bind(st),
        None => rows,
    };
    let rows = rows.bind(limit).bind(offset).fetch_all(&store.pool).await?;
    Ok((rows, total))
}

/// Open invoices of the contract due before `today` (local date).
pub async fn overdue_count(
    conn: &mut super::Conn,
    contract_id: i64,
    today: chrono::NaiveDate,
) -> Result<i64, sqlx::Error> {
    sqlx::query_scalar(
        "SELECT COUNT(*) FROM invoices WHERE contract_id = $1 AND status = $2 \
         AND due_on < $3",
    )
    .bind(contract_id)
    .bind(InvoiceStatus::Open)
    .bind(today.to_string())
    .fetch_one(conn)
    .await
}

/// An invoice's stored status, amount and contract.
pub async fn settle_row(
    conn: &mut super::Conn,
    id: i64,
) -> Result<Option<(InvoiceStatus, i64, i64)>, sqlx::Error> {
    sqlx::query_as("SELECT status, amount_cents, contract_id FROM invoices WHERE id = $1")
        .bind(id)
        .fetch_optional(conn)
        .await
}

/// The customer of a contract.
pub async fn customer_of_contract(
    conn: &mut super::Conn,
    contract_id: i64,
) -> Result<i64, sqlx::Error> {
    sqlx::query_scalar("SELECT customer_id FROM contracts WHERE id = $1")
        .bind(contract_id)
        .fetch_one(conn)
        .await
}

/// A customer's name.
pub async fn customer_name(
    conn: &mut super::Conn,
    customer_id: i64,
) -> Result<String, sqlx::Error> {
    sqlx::query_scalar("SELECT name FROM customers WHERE id = $1")
        .bind(customer_id)
        .fetch_one(conn)
        .await
}

/// Marks an open invoice paid on `date` (`YYYY-MM-DD`) with `paid_cents`; false when it was
/// no longer open (another payment or a cancellation came first).
pub async fn mark_paid(
    conn: &mut super::Conn,
    id: i64,
    date: &str,
    paid_cents: i64,
) -> Result<bool, sqlx::Error> {
    let done = sqlx::query(
        "UPDATE invoices SET status = $1, paid_on = $2, paid_cents = $3 \
         WHERE id = $4 AND status = $5",
    )
    .bind(InvoiceStatus::Paid)
    .bind(date)
    .bind(paid_cents)
    .bind(id)
    .bind(InvoiceStatus::Open)
    .execute(conn)
    .await?;
    Ok(done.rows_affected() > 0)
}

/// Marks an open invoice cancelled on `date`; false when it was no longer open.
pub async fn mark_cancelled(
    conn: &mut super::Conn,
    id: i64,
    date: &str,
) -> Result<bool, sqlx::Error> {
    let done = sqlx::query(
        "UPDATE invoices SET status = $1, cancelled_on = $2 WHERE id = $3 AND status = $4",
    )
    .bind(InvoiceStatus::Cancelled)
    .bind(date)
    .bind(id)
    .bind(InvoiceStatus::Open)
    .execute(conn)
    .await?;
    Ok(done.rows_affected() > 0)
}

/// Invoices written before they carried a matching key (an upgraded database) get one, in
/// batches; on a database where every invoice has its key this is one index probe.
pub async fn backfill_our_number_keys(store: &Store) -> Result<(), sqlx::Error> {
    loop {
        let rows: Vec<(i64, String, Option<String>)> = sqlx::query_as(
            "SELECT id, our_number, bank_code FROM invoices WHERE our_number_key IS NULL LIMIT 1000",
        )
        .fetch_all(&store.pool)
        .await?;
        if rows.is_empty() {
            return Ok(());
        }
        let mut tx = store.write().await?;
        for (id, our_number, bank) in rows {
            sqlx::query("UPDATE invoices SET our_number_key = $1 WHERE id = $2")
                .bind(our_number::key(bank.as_deref(), &our_number))
                .bind(id)
                .execute(&mut **tx)
                .await?;
        }
        tx.commit().await?;
    }
}

/// Opens a paid invoice again (its payment was returned): status open, payment cleared;
/// false when it was not paid.
pub async fn mark_reopened(conn: &mut super::Conn, id: i64) -> Result<bool, sqlx::Error> {
    let done = sqlx::query(
        "UPDATE invoices SET status = $1, paid_on = NULL, paid_cents = NULL \
         WHERE id = $2 AND status = $3",
    )
    .bind(InvoiceStatus::Open)
    .bind(id)
    .bind(InvoiceStatus::Paid)
    .execute(conn)
    .await?;
    Ok(done.rows_affected() > 0)
}
