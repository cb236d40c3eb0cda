//! Payment promises and the unlock they grant.

use crate::domain::states::{ContractStatus, PromiseState, StatusReason};
use crate::store::Conn;
use chrono::{DateTime, NaiveDate, Utc};

use super::ts;

/// Promises of the contract in a local month (`YYYY-MM`), whatever became of them.
pub async fn count_in_month(
    conn: &mut Conn,
    contract_id: i64,
    month: &str,
) -> Result<i64, sqlx::Error> {
    sqlx::query_scalar("SELECT COUNT(*) FROM promises WHERE contract_id = $1 AND local_month = $2")
        .bind(contract_id)
        .bind(month)
        .fetch_one(conn)
        .await
}

pub struct NewPromise<'a> {
    pub contract_id: i64,
    pub month: &'a str,
    pub seq: i64,
    pub now: DateTime<Utc>,
    pub promised: NaiveDate,
    pub expires_at: DateTime<Utc>,
    pub protocol: &'a str,
    pub previous_status: ContractStatus,
    pub previous_mode: i64,
    pub caller: Option<&'a str>,
    pub app_id: i64,
}

/// Records the promise; the unique (contract, month, seq) index makes a second process
/// that raced past the count fail here instead of granting a second unlock.
pub async fn insert(conn: &mut Conn, p: NewPromise<'_>) -> Result<i64, sqlx::Error> {
    sqlx::query_scalar(
        "INSERT INTO promises (contract_id, local_month, seq, created_at, promised_date, \
         expires_at, protocol, previous_status, previous_mode, state, caller, app_id) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12) RETURNING id",
    )
    .bind(p.contract_id)
    .bind(p.month)
    .bind(p.seq)
    .bind(ts(p.now))
    .bind(p.promised.format("%Y-%m-%d").to_string())
    .bind(ts(p.expires_at))
    .bind(p.protocol)
    .bind(p.previous_status)
    .bind(p.previous_mode)
    .bind(PromiseState::Active)
    .bind(p.caller)
    .bind(p.app_id)
    .fetch_one(conn)
    .await
}

/// Puts the contract back in service: active, set automatically (mode 1), for the promise,
/// services enabled. The reason the contract had is kept with the promise, for its expiry.
pub async fn unlock_contract(
    conn: &mut Conn,
    contract_id: i64,
    promise_id: i64,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "UPDATE promises SET previous_reason = \
         (SELECT status_reason FROM contracts WHERE id = $1) WHERE id = $2",
    )
    .bind(contract_id)
    .bind(promise_id)
    .execute(&mut *conn)
    .await?;
    sqlx::query(
        "UPDATE contracts SET status = $1, status_mode = 1, status_reason = $2 WHERE id = $3",
    )
    .bind(ContractStatus::Active)
    .bind(StatusReason::Promise)
    .bind(contract_id)
    .execute(&mut *conn)
    .await?;
    sqlx::query("UPDATE internet_services SET enabled = 1 WHERE contract_id = $1")
        .bind(contract_id)
        .execute(&mut *conn)
        .await?;
    Ok(())
}

/// Stores what the NAS answered to the disconnects that followed an unlock or an expiry.
pub async fn record_disconnect(
    store: &super::Store,
    promise_id: i64,
    result: &str,
) -> Result<(), sqlx::Error> {
    sqlx::query("UPDATE promises SET disconnect_result = $1 WHERE id = $2")
        .bind(result)
        .bind(promise_id)
        .execute(&store.pool)
        .await?;
    Ok(())
}

/// A promise whose time is up, with what the unlock changed.
#[derive(Debug, Clone, Copy, sqlx::FromRow)]
pub struct DuePromise {
    pub id: i64,
    pub contract_id: i64,
    pub previous_status: ContractStatus,
    pub previous_mode: i64,
    pub previous_reason: Option<StatusReason>,
}

/// Active promises whose expiry has passed, oldest first.
pub async fn due(
    store: &super::Store,
    now: DateTime<Utc>,
    limit: i64,
) -> Result<Vec<DuePromise>, sqlx::Error> {
    sqlx::query_as(
        "SELECT id, contract_id, previous_status, previous_mode, previous_reason FROM promises \
         WHERE state = $1 AND expires_at <= $2 ORDER BY expires_at, id LIMIT $3",
    )
    .bind(PromiseState::Active)
    .bind(ts(now))
    .bind(limit)
    .fetch_all(&store.pool)
    .await
}

/// Claims the end of an active promise: false when another process resolved it first.
pub async fn resolve(
    conn: &mut Conn,
    id: i64,
    outcome: PromiseState,
    now: DateTime<Utc>,
) -> Result<bool, sqlx::Error> {
    let claimed = sqlx::query(
        "UPDATE promises SET state = $1, resolved_at = $2 WHERE id = $3 AND state = $4",
    )
    .bind(outcome)
    .bind(ts(now))
    .bind(id)
    .bind(PromiseState::Active)
    .execute(conn)
    .await?
    .rows_affected();
    Ok(claimed > 0)
}

/// Other promises of the contract still running at `now`.
pub async fn active_count(
    conn: &mut Conn,
    contract_id: i64,
    now: DateTime<Utc>,
) -> Result<i64, sqlx::Error> {
    sqlx::query_scalar(
        "SELECT COUNT(*) FROM promises WHERE contract_id = $1 AND state = $2 \
         AND expires_at > $3",
    )
    .bind(contract_id)
    .bind(PromiseState::Active)
    .bind(ts(now))
    .fetch_one(conn)
    .await
}

/// Puts the contract back in the status it had before the unlock, only when it is still as
/// the unlock left it (active, set automatically), and disables its services. True when
/// it was reverted.
pub async fn revert_contract(
    conn: &mut Conn,
    contract_id: i64,
    previous_status: ContractStatus,
    previous_mode: i64,
    previous_reason: Option<StatusReason>,
) -> Result<bool, sqlx::Error> {
    let reverted = sqlx::query(
        "UPDATE contracts SET status = $1, status_mode = $2, status_reason = $3 \
         WHERE id = $4 AND status = $5 AND status_mode = 1",
    )
    .bind(previous_status)
    .bind(previous_mode)
    .bind(previous_reason)
    .bind(contract_id)
    .bind(ContractStatus::Active)
    .execute(&mut *conn)
    .await?
    .rows_affected()
        > 0;
    if reverted {
        sqlx::query("UPDATE internet_services SET enabled = 0 WHERE contract_id = $1")
            .bind(contract_id)
            .execute(&mut *conn)
            .await?;
    }
    Ok(reverted)
}
