//! Protocol numbers: a counter per local day, incremented inside the caller's write
//! transaction, and every protocol recorded with the contract it belongs to.

use crate::store::Conn;
use chrono::{DateTime, NaiveDate, Utc};

use super::ts;
use crate::domain::protocol;

/// Who a protocol belongs to and what created it.
pub struct Owner<'a> {
    pub contract_id: Option<i64>,
    pub customer_id: i64,
    pub origin: &'a str,
}

/// Returns `reuse` when it is a protocol of the same contract given today; otherwise a new
/// protocol. Must run inside a write transaction: the counter is read and bumped atomically.
pub async fn allocate(
    conn: &mut Conn,
    now: DateTime<Utc>,
    today: NaiveDate,
    owner: Owner<'_>,
    reuse: Option<&str>,
) -> Result<String, sqlx::Error> {
    let day = protocol::day_key(today);
    if let Some(given) = reuse.and_then(|p| protocol::parse(p).map(|_| p.trim())) {
        let found: Option<String> = sqlx::query_scalar(
            "SELECT protocol FROM protocols WHERE protocol = $1 AND day = $2 \
             AND (contract_id = $3 OR (contract_id IS NULL AND customer_id = $4))",
        )
        .bind(given)
        .bind(&day)
        .bind(owner.contract_id)
        .bind(owner.customer_id)
        .fetch_optional(&mut *conn)
        .await?;
        if let Some(found) = found {
            return Ok(found);
        }
        tracing::info!("protocolo informado não pertence ao contrato hoje; gerando um novo");
    }
    let seq: i64 = sqlx::query_scalar(
        "INSERT INTO protocol_counters (day, last) VALUES ($1, 1) \
         ON CONFLICT (day) DO UPDATE SET last = protocol_counters.last + 1 RETURNING last",
    )
    .bind(&day)
    .fetch_one(&mut *conn)
    .await?;
    let number = protocol::format(today, seq);
    sqlx::query(
        "INSERT INTO protocols (protocol, contract_id, customer_id, day, origin, created_at) \
         VALUES ($1, $2, $3, $4, $5, $6)",
    )
    .bind(&number)
    .bind(owner.contract_id)
    .bind(owner.customer_id)
    .bind(&day)
    .bind(owner.origin)
    .bind(ts(now))
    .execute(&mut *conn)
    .await?;
    Ok(number)
}
