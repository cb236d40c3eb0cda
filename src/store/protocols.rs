//! Protocol numbers: a counter per local day, and every protocol recorded with the contract
//! it belongs to.
//!
//! On SQLite the counter is bumped inside the caller's write transaction (writers take turns
//! anyway). On PostgreSQL the bump is a statement committed on its own, on a connection kept
//! for it: inside the caller's transaction the day's counter row stayed locked until that
//! transaction committed, and every write that opens a protocol, in every process, waited in
//! line for it (the write mix spent nine tenths of its time there, BENCHMARKS.md). A number
//! is still given once: the bump is atomic, and it is on disk before any protocol that uses
//! it (its commit comes first in the log, which the caller's commit flushes; so it may skip
//! the wait for its own flush). A transaction that rolls back after taking a number leaves
//! that number unused: the day's numbers may skip, never repeat.

use std::time::Duration;

use crate::store::{Conn, WriteTx};
use chrono::{DateTime, NaiveDate, Utc};
use sqlx::any::AnyPoolOptions;
use sqlx::{AnyPool, Executor};

use super::ts;
use crate::domain::protocol;

const BUMP: &str = "INSERT INTO protocol_counters (day, last) VALUES ($1, 1) \
     ON CONFLICT (day) DO UPDATE SET last = protocol_counters.last + 1 RETURNING last";

/// PostgreSQL: the connections that bump the counters. Two: a bump holds one for a round trip.
pub(super) async fn counter_pool(url: &str) -> Result<AnyPool, sqlx::Error> {
    AnyPoolOptions::new()
        .max_connections(2)
        .min_connections(0)
        .acquire_timeout(Duration::from_secs(5))
        .after_connect(|conn, _| {
            Box::pin(async move {
                conn.execute("SET synchronous_commit = off").await?;
                Ok(())
            })
        })
        .connect_lazy(url)
}

/// Where a protocol is allocated: a write transaction (on PostgreSQL the counter is then
/// bumped outside it), or a connection already inside one (the counter is bumped in it).
pub trait Writer: Send {
    fn conn(&mut self) -> &mut Conn;
    fn counters(&self) -> Option<AnyPool>;
}

impl Writer for WriteTx {
    fn conn(&mut self) -> &mut Conn {
        &mut ***self
    }
    fn counters(&self) -> Option<AnyPool> {
        WriteTx::counters(self).cloned()
    }
}

impl Writer for Conn {
    fn conn(&mut self) -> &mut Conn {
        self
    }
    fn counters(&self) -> Option<AnyPool> {
        None
    }
}

/// Who a protocol belongs to and what created it.
pub struct Owner<'a> {
    pub contract_id: Option<i64>,
    pub customer_id: i64,
    pub origin: &'a str,
}

/// Returns `reuse` when it is a protocol of the same contract given today; otherwise a new
/// protocol. Must run inside a write transaction: the counter is read and bumped atomically.
pub async fn allocate(
    writer: &mut impl Writer,
    now: DateTime<Utc>,
    today: NaiveDate,
    owner: Owner<'_>,
    reuse: Option<&str>,
) -> Result<String, sqlx::Error> {
    let counters = writer.counters();
    let conn = writer.conn();
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
    let bump = sqlx::query_scalar(BUMP).bind(&day);
    let seq: i64 = match counters {
        Some(pool) => bump.fetch_one(&pool).await?,
        None => bump.fetch_one(&mut *conn).await?,
    };
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
