//! PIX notices and their refunds: claimed by their `endToEndId` (a replay claims nothing),
//! matched to the invoice holding their txid, listed for the admin API and the console.

use chrono::{DateTime, Utc};

use super::{Conn, Store, ts};
use crate::domain::pix_notice::{Notice, Outcome, Refund};

/// The invoice whose PIX txid is `txid`.
pub async fn invoice_by_txid(conn: &mut Conn, txid: &str) -> Result<Option<i64>, sqlx::Error> {
    sqlx::query_scalar("SELECT id FROM invoices WHERE pix_txid = $1")
        .bind(txid)
        .fetch_optional(conn)
        .await
}

/// Stores a notice unless one with its `endToEndId` is stored (or being stored by a
/// concurrent transaction, which this one waits for): its id when this call stored it. The
/// outcome is `desconhecido` until `set_outcome`, in the same transaction.
pub async fn claim(
    conn: &mut Conn,
    notice: &Notice,
    invoice_id: Option<i64>,
    now: DateTime<Utc>,
) -> Result<Option<i64>, sqlx::Error> {
    sqlx::query_scalar(
        "INSERT INTO pix_notices (end_to_end_id, txid, amount_cents, paid_at_given, paid_at, \
         payer_info, invoice_id, outcome, received_at, raw) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) \
         ON CONFLICT (end_to_end_id) DO NOTHING RETURNING id",
    )
    .bind(&notice.end_to_end_id)
    .bind(notice.txid.as_deref())
    .bind(notice.amount_cents)
    .bind(&notice.paid_at_given)
    .bind(ts(notice.paid_at))
    .bind(notice.payer_info.as_deref())
    .bind(invoice_id)
    .bind(Outcome::Unknown.as_str())
    .bind(ts(now))
    .bind(&notice.raw)
    .fetch_optional(conn)
    .await
}

pub async fn set_outcome(
    conn: &mut Conn,
    id: i64,
    outcome: Outcome,
    reason: Option<&str>,
) -> Result<(), sqlx::Error> {
    sqlx::query("UPDATE pix_notices SET outcome = $1, reason = $2 WHERE id = $3")
        .bind(outcome.as_str())
        .bind(reason)
        .bind(id)
        .execute(conn)
        .await?;
    Ok(())
}

/// What the refunds of a notice need to know of it.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct Claimed {
    pub id: i64,
    pub amount_cents: i64,
    pub invoice_id: Option<i64>,
    pub outcome: String,
    pub reopened_at: Option<String>,
}

/// The stored notice of `end_to_end_id`, its row locked (PostgreSQL) so that two deliveries
/// of its refunds decide the reopening one after the other.
pub async fn claimed(
    conn: &mut Conn,
    backend: super::Backend,
    end_to_end_id: &str,
) -> Result<Option<Claimed>, sqlx::Error> {
    let sql = match backend {
        super::Backend::Postgres => {
            "SELECT id, amount_cents, invoice_id, outcome, reopened_at FROM pix_notices \
             WHERE end_to_end_id = $1 FOR UPDATE"
        }
        super::Backend::Sqlite => {
            "SELECT id, amount_cents, invoice_id, outcome, reopened_at FROM pix_notices \
             WHERE end_to_end_id = $1"
        }
    };
    sqlx::query_as(sql)
        .bind(end_to_end_id)
        .fetch_optional(conn)
        .await
}

/// Records a refund, or its new status when it is known already; true when anything
/// changed.
pub async fn record_refund(
    conn: &mut Conn,
    notice_id: i64,
    end_to_end_id: &str,
    refund: &Refund,
    now: DateTime<Utc>,
) -> Result<bool, sqlx::Error> {
    let done = sqlx::query(
        "INSERT INTO pix_refunds (notice_id, end_to_end_id, refund_id, rtr_id, amount_cents, \
         requested_at, settled_at, status, received_at, updated_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $9) \
         ON CONFLICT (end_to_end_id, refund_id) DO UPDATE SET status = excluded.status, \
         rtr_id = COALESCE(excluded.rtr_id, pix_refunds.rtr_id), \
         amount_cents = excluded.amount_cents, \
         requested_at = COALESCE(excluded.requested_at, pix_refunds.requested_at), \
         settled_at = COALESCE(excluded.settled_at, pix_refunds.settled_at), \
         updated_at = excluded.updated_at \
         WHERE pix_refunds.status <> excluded.status \
         OR pix_refunds.amount_cents <> excluded.amount_cents",
    )
    .bind(notice_id)
    .bind(end_to_end_id)
    .bind(&refund.id)
    .bind(refund.rtr_id.as_deref())
    .bind(refund.amount_cents)
    .bind(refund.requested_at.map(ts))
    .bind(refund.settled_at.map(ts))
    .bind(refund.status.as_str())
    .bind(ts(now))
    .execute(conn)
    .await?;
    Ok(done.rows_affected() > 0)
}

/// The refunds of a notice: (amount, status).
pub async fn refunds_of(
    conn: &mut Conn,
    notice_id: i64,
) -> Result<Vec<(i64, String)>, sqlx::Error> {
    sqlx::query_as("SELECT amount_cents, status FROM pix_refunds WHERE notice_id = $1")
        .bind(notice_id)
        .fetch_all(conn)
        .await
}

pub async fn mark_reopened(
    conn: &mut Conn,
    notice_id: i64,
    now: DateTime<Utc>,
) -> Result<(), sqlx::Error> {
    sqlx::query("UPDATE pix_notices SET reopened_at = $1 WHERE id = $2")
        .bind(ts(now))
        .bind(notice_id)
        .execute(conn)
        .await?;
    Ok(())
}

/// A stored notice, as the admin API and the console list it.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct NoticeRow {
    pub id: i64,
    pub end_to_end_id: String,
    pub txid: Option<String>,
    pub amount_cents: i64,
    pub paid_at_given: String,
    pub paid_at: String,
    pub payer_info: Option<String>,
    pub invoice_id: Option<i64>,
    pub outcome: String,
    pub reason: Option<String>,
    pub reopened_at: Option<String>,
    pub received_at: String,
}

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct RefundRow {
    pub notice_id: i64,
    pub refund_id: String,
    pub rtr_id: Option<String>,
    pub amount_cents: i64,
    pub requested_at: Option<String>,
    pub settled_at: Option<String>,
    pub status: String,
    pub updated_at: String,
}

#[derive(Debug, Default, Clone)]
pub struct Filter {
    pub outcome: Option<Outcome>,
    pub txid: Option<String>,
    pub end_to_end_id: Option<String>,
    pub invoice_id: Option<i64>,
    /// Received at or after.
    pub since: Option<DateTime<Utc>>,
    /// Received before.
    pub until: Option<DateTime<Utc>>,
}

/// How a listing is ordered.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Order {
    Newest,
    /// Notices that paid nothing (`desconhecido`, `recusado`) first, each group newest first.
    UnmatchedFirst,
}

/// Notices matching `filter`, and how many match in all.
pub async fn list(
    store: &Store,
    filter: &Filter,
    order: Order,
    offset: i64,
    limit: i64,
) -> Result<(Vec<NoticeRow>, i64), sqlx::Error> {
    // Every condition is written once, off when its parameter is the neutral value.
    const WHERE: &str = "WHERE ($1 = '' OR outcome = $1) AND ($2 = '' OR txid = $2) \
         AND ($3 = '' OR end_to_end_id = $3) AND ($4 = 0 OR invoice_id = $4) \
         AND ($5 = '' OR received_at >= $5) AND ($6 = '' OR received_at < $6)";
    const COLUMNS: &str = "id, end_to_end_id, txid, amount_cents, paid_at_given, paid_at, \
         payer_info, invoice_id, outcome, reason, reopened_at, received_at";
    let order_by = match order {
        Order::Newest => "ORDER BY id DESC",
        Order::UnmatchedFirst => {
            "ORDER BY CASE WHEN outcome IN ('desconhecido', 'recusado') THEN 0 ELSE 1 END, id DESC"
        }
    };
    let select = format!("SELECT {COLUMNS} FROM pix_notices {WHERE} {order_by} LIMIT $7 OFFSET $8");
    let count = format!("SELECT COUNT(*) FROM pix_notices {WHERE}");
    let outcome = filter.outcome.map(|o| o.as_str()).unwrap_or_default();
    let txid = filter.txid.clone().unwrap_or_default();
    let e2e = filter.end_to_end_id.clone().unwrap_or_default();
    let invoice = filter.invoice_id.unwrap_or(0);
    let since = filter.since.map(ts).unwrap_or_default();
    let until = filter.until.map(ts).unwrap_or_default();
    let rows: Vec<NoticeRow> = sqlx::query_as(sqlx::AssertSqlSafe(select))
        .bind(outcome)
        .bind(&txid)
        .bind(&e2e)
        .bind(invoice)
        .bind(&since)
        .bind(&until)
        .bind(limit)
        .bind(offset)
        .fetch_all(&store.pool)
        .await?;
    let total: i64 = sqlx::query_scalar(sqlx::AssertSqlSafe(count))
        .bind(outcome)
        .bind(&txid)
        .bind(&e2e)
        .bind(invoice)
        .bind(&since)
        .bind(&until)
        .fetch_one(&store.pool)
        .await?;
    Ok((rows, total))
}

/// The refunds of the listed notices, oldest first.
pub async fn refunds_of_notices(
    store: &Store,
    notices: &[NoticeRow],
) -> Result<Vec<RefundRow>, sqlx::Error> {
    let (Some(low), Some(high)) = (
        notices.iter().map(|n| n.id).min(),
        notices.iter().map(|n| n.id).max(),
    ) else {
        return Ok(Vec::new());
    };
    // One range query for the page; rows of notices not on it are dropped here.
    let rows: Vec<RefundRow> = sqlx::query_as(
        "SELECT notice_id, refund_id, rtr_id, amount_cents, requested_at, settled_at, status, \
         updated_at FROM pix_refunds WHERE notice_id BETWEEN $1 AND $2 ORDER BY id",
    )
    .bind(low)
    .bind(high)
    .fetch_all(&store.pool)
    .await?;
    Ok(rows
        .into_iter()
        .filter(|r| notices.iter().any(|n| n.id == r.notice_id))
        .collect())
}

/// How many notices there are of each outcome.
pub async fn count_by_outcome(store: &Store) -> Result<Vec<(String, i64)>, sqlx::Error> {
    sqlx::query_as("SELECT outcome, COUNT(*) FROM pix_notices GROUP BY outcome")
        .fetch_all(&store.pool)
        .await
}
