//! Protocol numbers: a sequence per local day, and every protocol recorded with the contract
//! it belongs to.
//!
//! SQLite bumps a counter row inside the caller's write transaction (its writers take turns
//! anyway). PostgreSQL draws from a sequence, which no transaction locks: a counter row there
//! was held from the bump to the caller's COMMIT, and every protocol-opening write of the
//! database waited for the one before it (see BENCHMARKS.md).

use crate::store::Conn;
use chrono::{DateTime, NaiveDate, Utc};

use super::{Backend, ts};
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

fn backend_of(conn: &Conn) -> Backend {
    if conn.backend_name().eq_ignore_ascii_case("postgresql") {
        Backend::Postgres
    } else {
        Backend::Sqlite
    }
}

/// SQLite: moves the day's counter `n` on; the last number drawn.
async fn bump_counter(conn: &mut Conn, day: &str, n: i64) -> Result<i64, sqlx::Error> {
    sqlx::query_scalar(
        "INSERT INTO protocol_counters (day, last) VALUES ($1, $2) \
         ON CONFLICT (day) DO UPDATE SET last = protocol_counters.last + $2 RETURNING last",
    )
    .bind(day)
    .bind(n)
    .fetch_one(&mut *conn)
    .await
}

/// The day's next number.
async fn next_seq(conn: &mut Conn, day: &str) -> Result<i64, sqlx::Error> {
    if backend_of(conn) == Backend::Sqlite {
        return bump_counter(conn, day, 1).await;
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

/// A new protocol for each of `owners` (contract, customer), all of one origin, recorded in
/// two statements whatever their number: a batch (the dunning run's notices) inside the
/// caller's write transaction. The numbers follow the owners' order.
pub async fn allocate_many(
    conn: &mut Conn,
    now: DateTime<Utc>,
    today: NaiveDate,
    owners: &[(i64, i64)],
    origin: &str,
) -> Result<Vec<String>, sqlx::Error> {
    let Ok(n) = i64::try_from(owners.len()) else {
        return Err(sqlx::Error::Protocol(
            "lote de protocolos grande demais".into(),
        ));
    };
    if n == 0 {
        return Ok(Vec::new());
    }
    let day = protocol::day_key(today);
    let backend = backend_of(conn);
    let seqs: Vec<i64> = match backend {
        Backend::Sqlite => {
            let last = bump_counter(conn, &day, n).await?;
            (last - n + 1..=last).collect()
        }
        Backend::Postgres => {
            // The first settles the day's base when it is the day's first protocol.
            let first = next_seq(conn, &day).await?;
            let mut rest: Vec<i64> = sqlx::query_scalar(
                "SELECT nextval('protocol_seq') - base FROM protocol_days \
                 CROSS JOIN generate_series(1, $2) WHERE day = $1",
            )
            .bind(&day)
            .bind(n - 1)
            .fetch_all(&mut *conn)
            .await?;
            rest.sort_unstable();
            std::iter::once(first).chain(rest).collect()
        }
    };
    #[derive(serde::Serialize)]
    struct Row<'a> {
        protocol: &'a str,
        contract_id: i64,
        customer_id: i64,
    }
    let numbers: Vec<String> = seqs
        .iter()
        .map(|&seq| protocol::format(today, seq))
        .collect();
    let rows: Vec<Row> = numbers
        .iter()
        .zip(owners)
        .map(|(protocol, &(contract_id, customer_id))| Row {
            protocol,
            contract_id,
            customer_id,
        })
        .collect();
    sqlx::query(super::over_json_rows!(
        backend,
        "INSERT INTO protocols (protocol, contract_id, customer_id, day, origin, created_at) \
         SELECT r.value->>'protocol', CAST(r.value->>'contract_id' AS BIGINT), \
         CAST(r.value->>'customer_id' AS BIGINT), $2, $3, $4 FROM",
        ""
    ))
    .bind(super::json_rows(&rows)?)
    .bind(&day)
    .bind(origin)
    .bind(ts(now))
    .execute(&mut *conn)
    .await?;
    Ok(numbers)
}

/// Removes protocols allocated in the caller's transaction that turned out not to be needed
/// (a batch's notice another process had sent).
pub async fn discard(conn: &mut Conn, protocols: &[String]) -> Result<(), sqlx::Error> {
    if protocols.is_empty() {
        return Ok(());
    }
    let backend = backend_of(conn);
    let rows: Vec<serde_json::Value> = protocols
        .iter()
        .map(|p| serde_json::json!({ "protocol": p }))
        .collect();
    sqlx::query(super::over_json_rows!(
        backend,
        "DELETE FROM protocols WHERE protocol IN (SELECT r.value->>'protocol' FROM",
        ")"
    ))
    .persistent(false)
    .bind(super::json_rows(&rows)?)
    .execute(&mut *conn)
    .await?;
    Ok(())
}
