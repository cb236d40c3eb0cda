//! Payment promises and the unlock they grant.

use crate::domain::states::{ContractStatus, PromiseState};
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

/// Puts the contract back in service: active, set automatically (mode 1), services enabled.
pub async fn unlock_contract(conn: &mut Conn, contract_id: i64) -> Result<(), sqlx::Error> {
    sqlx::query("UPDATE contracts SET status = $1, status_mode = 1 WHERE id = $2")
        .bind(ContractStatus::Active)
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
