//! The money loop's rows: the contracts with overdue invoices and what the rule needs to know
//! of each, the status changes with their reason, and the notices sent before a step.

use chrono::{DateTime, NaiveDate, Utc};

use super::{Backend, Conn, Store, ts};
use crate::domain::states::{ContractStatus, InvoiceStatus, PromiseState, StatusReason};

/// A contract the dunning rule looks at, with what it needs to decide.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct Candidate {
    pub contract_id: i64,
    pub customer_id: i64,
    pub customer_name: String,
    pub status: ContractStatus,
    pub status_reason: Option<StatusReason>,
    pub block_exempt: i64,
    /// The oldest open invoice due before today (`YYYY-MM-DD`).
    pub oldest_due: String,
    pub overdue_cents: i64,
    pub plan_reduce_after: Option<i64>,
    pub plan_block_after: Option<i64>,
    pub under_promise: i64,
    /// When each step's notice for this debt went out (`YYYY-MM-DD`).
    pub notice_reduce: Option<String>,
    pub notice_suspend: Option<String>,
}

/// Walks the contracts in service by id (the primary key), a page at a time, and looks up
/// each one's overdue invoices through `invoices_contract` (contract, status, due date,
/// amount: the index alone answers). Aggregating every overdue invoice of the provider and
/// then skipping to the page, as this query once did, cost a pass over all of them per page.
const CANDIDATES: &str = "\
    SELECT k.contract_id, k.customer_id, k.customer_name, k.status, k.status_reason, \
           k.block_exempt, k.oldest_due, k.overdue_cents, \
           (SELECT MIN(p.reduce_after_days) FROM internet_services s JOIN plans p ON p.id = s.plan_id \
             WHERE s.contract_id = k.contract_id) AS plan_reduce_after, \
           (SELECT MIN(p.block_after_days) FROM internet_services s JOIN plans p ON p.id = s.plan_id \
             WHERE s.contract_id = k.contract_id) AS plan_block_after, \
           CAST(CASE WHEN EXISTS (SELECT 1 FROM promises pr WHERE pr.contract_id = k.contract_id \
             AND pr.state = $3 AND pr.expires_at > $4) THEN 1 ELSE 0 END AS BIGINT) AS under_promise, \
           (SELECT n.sent_on FROM dunning_notices n WHERE n.contract_id = k.contract_id \
             AND n.step = 'reducao' AND n.debt_due_on = k.oldest_due) AS notice_reduce, \
           (SELECT n.sent_on FROM dunning_notices n WHERE n.contract_id = k.contract_id \
             AND n.step = 'bloqueio' AND n.debt_due_on = k.oldest_due) AS notice_suspend \
    FROM (SELECT c.id AS contract_id, c.customer_id, cu.name AS customer_name, c.status, \
                 c.status_reason, CAST(c.block_exempt AS BIGINT) AS block_exempt, \
                 (SELECT MIN(i.due_on) FROM invoices i WHERE i.contract_id = c.id \
                   AND i.status = $1 AND i.due_on < $2) AS oldest_due, \
                 (SELECT CAST(SUM(i.amount_cents) AS BIGINT) FROM invoices i \
                   WHERE i.contract_id = c.id AND i.status = $1 AND i.due_on < $2) AS overdue_cents \
          FROM contracts c JOIN customers cu ON cu.id = c.customer_id \
          WHERE c.status IN ($5, $6) AND c.id > $7 \
            AND EXISTS (SELECT 1 FROM invoices i WHERE i.contract_id = c.id \
                        AND i.status = $1 AND i.due_on < $2) \
          ORDER BY c.id LIMIT $8) k \
    ORDER BY k.contract_id";

/// Contracts in service (active or at reduced speed) with open invoices due before `today`,
/// after `after` in id order, `limit` at a time.
pub async fn candidates(
    store: &Store,
    today: NaiveDate,
    now: DateTime<Utc>,
    after: i64,
    limit: i64,
) -> Result<Vec<Candidate>, sqlx::Error> {
    sqlx::query_as(CANDIDATES)
        .bind(InvoiceStatus::Open)
        .bind(today.to_string())
        .bind(PromiseState::Active)
        .bind(ts(now))
        .bind(ContractStatus::Active)
        .bind(ContractStatus::ReducedSpeed)
        .bind(after)
        .bind(limit)
        .fetch_all(&store.pool)
        .await
}

/// The contract's status and why, locked for this transaction on PostgreSQL (SQLite writers
/// are serialized already): two writers of one contract then act one after the other.
pub async fn lock_status(
    conn: &mut Conn,
    backend: Backend,
    contract_id: i64,
) -> Result<Option<(ContractStatus, Option<StatusReason>)>, sqlx::Error> {
    let sql = match backend {
        Backend::Postgres => "SELECT status, status_reason FROM contracts WHERE id = $1 FOR UPDATE",
        Backend::Sqlite => "SELECT status, status_reason FROM contracts WHERE id = $1",
    };
    sqlx::query_as(sql)
        .bind(contract_id)
        .fetch_optional(conn)
        .await
}

/// The contract's open invoices due before `today`: the oldest due date and the sum.
pub async fn overdue(
    conn: &mut Conn,
    contract_id: i64,
    today: NaiveDate,
) -> Result<(Option<String>, i64), sqlx::Error> {
    let row: (Option<String>, Option<i64>) = sqlx::query_as(
        "SELECT MIN(due_on), CAST(SUM(amount_cents) AS BIGINT) FROM invoices \
         WHERE contract_id = $1 AND status = $2 AND due_on < $3",
    )
    .bind(contract_id)
    .bind(InvoiceStatus::Open)
    .bind(today.to_string())
    .fetch_one(conn)
    .await?;
    Ok((row.0, row.1.unwrap_or(0)))
}

/// `lock_status` for a batch of contracts, locked in id order on PostgreSQL (two batches
/// that share contracts then never wait on each other in a cycle): each one's status.
pub async fn lock_statuses(
    conn: &mut Conn,
    backend: Backend,
    ids: &[i64],
) -> Result<Vec<(i64, ContractStatus)>, sqlx::Error> {
    let sql = match backend {
        Backend::Postgres => super::over_json_rows!(
            Backend::Postgres,
            "SELECT id, status FROM contracts WHERE id IN (SELECT CAST(r.value->>'id' AS BIGINT) FROM",
            ") ORDER BY id FOR UPDATE"
        ),
        Backend::Sqlite => super::over_json_rows!(
            Backend::Sqlite,
            "SELECT id, status FROM contracts WHERE id IN (SELECT CAST(r.value->>'id' AS BIGINT) FROM",
            ") ORDER BY id"
        ),
    };
    sqlx::query_as(sql)
        .persistent(false)
        .bind(super::json_ids(ids))
        .fetch_all(conn)
        .await
}

/// `overdue` for a batch of contracts: (contract, oldest due date, sum) of those that owe.
pub async fn overdue_of(
    conn: &mut Conn,
    backend: Backend,
    ids: &[i64],
    today: NaiveDate,
) -> Result<Vec<(i64, Option<String>, i64)>, sqlx::Error> {
    let rows: Vec<(i64, Option<String>, Option<i64>)> = sqlx::query_as(super::over_json_rows!(
        backend,
        "SELECT contract_id, MIN(due_on), CAST(SUM(amount_cents) AS BIGINT) FROM invoices \
         WHERE contract_id IN (SELECT CAST(r.value->>'id' AS BIGINT) FROM",
        ") AND status = $2 AND due_on < $3 GROUP BY contract_id"
    ))
    .persistent(false)
    .bind(super::json_ids(ids))
    .bind(InvoiceStatus::Open)
    .bind(today.to_string())
    .fetch_all(conn)
    .await?;
    Ok(rows
        .into_iter()
        .map(|(id, oldest, sum)| (id, oldest, sum.unwrap_or(0)))
        .collect())
}

/// A step's notice of a batch.
#[derive(serde::Serialize)]
pub struct NewNotice<'a> {
    pub contract_id: i64,
    pub step: &'a str,
    pub debt_due_on: &'a str,
    pub protocol: &'a str,
}

/// `record_notice` for a batch: the contracts whose notice was recorded now (not before, by
/// another process or an earlier run).
pub async fn record_notices(
    conn: &mut Conn,
    backend: Backend,
    notices: &[NewNotice<'_>],
    sent_on: NaiveDate,
    now: DateTime<Utc>,
) -> Result<Vec<i64>, sqlx::Error> {
    // `WHERE true`: SQLite would read `ON CONFLICT` as the join's `ON` without it.
    sqlx::query_scalar(super::over_json_rows!(
        backend,
        "INSERT INTO dunning_notices (contract_id, step, debt_due_on, sent_on, protocol, created_at) \
         SELECT CAST(r.value->>'contract_id' AS BIGINT), r.value->>'step', \
         r.value->>'debt_due_on', $2, r.value->>'protocol', $3 FROM",
        "WHERE true ON CONFLICT (contract_id, step, debt_due_on) DO NOTHING RETURNING contract_id"
    ))
    .bind(super::json_rows(&notices)?)
    .bind(sent_on.to_string())
    .bind(ts(now))
    .fetch_all(conn)
    .await
}

/// Moves the contract from `from` to `to` (set automatically, for `reason`); false when it
/// was no longer in `from`.
pub async fn set_status(
    conn: &mut Conn,
    contract_id: i64,
    from: ContractStatus,
    to: ContractStatus,
    reason: StatusReason,
) -> Result<bool, sqlx::Error> {
    let done = sqlx::query(
        "UPDATE contracts SET status = $1, status_mode = 1, status_reason = $2 \
         WHERE id = $3 AND status = $4",
    )
    .bind(to)
    .bind(reason)
    .bind(contract_id)
    .bind(from)
    .execute(conn)
    .await?;
    Ok(done.rows_affected() > 0)
}

/// Records why the contract's status is what it is now (no status change).
pub async fn set_reason(
    conn: &mut Conn,
    contract_id: i64,
    reason: Option<StatusReason>,
) -> Result<(), sqlx::Error> {
    sqlx::query("UPDATE contracts SET status_reason = $1 WHERE id = $2")
        .bind(reason)
        .bind(contract_id)
        .execute(conn)
        .await?;
    Ok(())
}

/// One change of a contract's status.
pub struct NewChange<'a> {
    pub contract_id: i64,
    pub from: ContractStatus,
    pub to: ContractStatus,
    pub reason: StatusReason,
    pub protocol: Option<&'a str>,
    pub actor: &'a str,
    pub now: DateTime<Utc>,
}

pub async fn record_change(conn: &mut Conn, c: NewChange<'_>) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO contract_status_changes \
         (contract_id, from_status, to_status, reason, protocol, actor, created_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7)",
    )
    .bind(c.contract_id)
    .bind(c.from)
    .bind(c.to)
    .bind(c.reason)
    .bind(c.protocol)
    .bind(c.actor)
    .bind(ts(c.now))
    .execute(conn)
    .await?;
    Ok(())
}

/// Records a step's notice for the debt that began on `debt_due_on`; false when one was
/// recorded already (another process, an earlier run).
pub async fn record_notice(
    conn: &mut Conn,
    contract_id: i64,
    step: &str,
    debt_due_on: &str,
    sent_on: NaiveDate,
    protocol: &str,
    now: DateTime<Utc>,
) -> Result<bool, sqlx::Error> {
    let done = sqlx::query(
        "INSERT INTO dunning_notices (contract_id, step, debt_due_on, sent_on, protocol, created_at) \
         VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (contract_id, step, debt_due_on) DO NOTHING",
    )
    .bind(contract_id)
    .bind(step)
    .bind(debt_due_on)
    .bind(sent_on.to_string())
    .bind(protocol)
    .bind(ts(now))
    .execute(conn)
    .await?;
    Ok(done.rows_affected() > 0)
}

/// A recorded change, as the console and the admin API show it.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct Change {
    pub id: i64,
    pub contract_id: i64,
    pub customer_name: String,
    pub from_status: ContractStatus,
    pub to_status: ContractStatus,
    pub reason: StatusReason,
    pub protocol: Option<String>,
    pub actor: String,
    pub created_at: String,
}

const CHANGE_SELECT: &str = "SELECT h.id, h.contract_id, cu.name AS customer_name, \
    h.from_status, h.to_status, h.reason, h.protocol, h.actor, h.created_at \
    FROM contract_status_changes h JOIN contracts c ON c.id = h.contract_id \
    JOIN customers cu ON cu.id = c.customer_id";

/// The contract's changes, newest first.
pub async fn changes_of(
    store: &Store,
    contract_id: i64,
    limit: i64,
) -> Result<Vec<Change>, sqlx::Error> {
    sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "{CHANGE_SELECT} WHERE h.contract_id = $1 ORDER BY h.id DESC LIMIT $2"
    )))
    .bind(contract_id)
    .bind(limit)
    .fetch_all(&store.pool)
    .await
}

/// Changes made from `since` on, newest first.
pub async fn changes_since(
    store: &Store,
    since: DateTime<Utc>,
    limit: i64,
) -> Result<Vec<Change>, sqlx::Error> {
    sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "{CHANGE_SELECT} WHERE h.created_at >= $1 ORDER BY h.id DESC LIMIT $2"
    )))
    .bind(ts(since))
    .bind(limit)
    .fetch_all(&store.pool)
    .await
}

/// Changes for `reason` made in `[since, until)`, newest first (a day's blocks or
/// restorations on the console).
pub async fn changes_between(
    store: &Store,
    since: DateTime<Utc>,
    until: DateTime<Utc>,
    reason: StatusReason,
    limit: i64,
) -> Result<Vec<Change>, sqlx::Error> {
    sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "{CHANGE_SELECT} WHERE h.created_at >= $1 AND h.created_at < $2 AND h.reason = $3 \
         ORDER BY h.id DESC LIMIT $4"
    )))
    .bind(ts(since))
    .bind(ts(until))
    .bind(reason)
    .bind(limit)
    .fetch_all(&store.pool)
    .await
}
