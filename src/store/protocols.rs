//! Protocol numbers: a sequence per local day, and every protocol recorded with the contract
//! it belongs to.
//!
//! SQLite bumps a counter row inside the caller's write transaction (its writers take turns
//! anyway). PostgreSQL draws from a sequence, which no transaction locks: a counter row there
//! was held from the bump to the caller's COMMIT, and every protocol-opening write of the
//! database waited for the one before it (see BENCHMARKS.md).

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
/// protocol. Runs inside the caller's write transaction: the protocol is recorded with it.
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
    let seq = next_seq(conn, &day).await?;
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

/// The day's next number.
async fn next_seq(conn: &mut Conn, day: &str) -> Result<i64, sqlx::Error> {
    if !conn.backend_name().eq_ignore_ascii_case("postgresql") {
        return sqlx::query_scalar(
            "INSERT INTO protocol_counters (day, last) VALUES ($1, 1) \
             ON CONFLICT (day) DO UPDATE SET last = protocol_counters.last + 1 RETURNING last",
        )
        .bind(day)
        .fetch_one(&mut *conn)
        .await;
    }
    // The day's base is committed before this statement began, and so was the value drawn
    // with it: every value drawn now is above it.
    let seq: Option<i64> = sqlx::query_scalar(
        "SELECT nextval('protocol_seq') - base FROM protocol_days WHERE day = $1",
    )
    .bind(day)
    .fetch_optional(&mut *conn)
    .await?;
    if let Some(seq) = seq {
        return Ok(seq);
    }
    // The day's first protocol sets the base below the value it drew. Two at once: the
    // second waits for the first's COMMIT, finds its base, and draws again when the value it
    // drew came before that base.
    loop {
        let drawn: i64 = sqlx::query_scalar("SELECT nextval('protocol_seq')")
            .fetch_one(&mut *conn)
            .await?;
        sqlx::query(
            "INSERT INTO protocol_days (day, base) VALUES ($1, $2) ON CONFLICT (day) DO NOTHING",
        )
        .bind(day)
        .bind(drawn - 1)
        .execute(&mut *conn)
        .await?;
        let base: i64 = sqlx::query_scalar("SELECT base FROM protocol_days WHERE day = $1")
            .bind(day)
            .fetch_one(&mut *conn)
            .await?;
        if drawn > base {
            return Ok(drawn - base);
        }
    }
}
