//! `Idempotency-Key`: the first answer to an app's request with a key, kept 24 hours.

use chrono::{DateTime, TimeDelta, Utc};

use super::{Store, parse_ts, ts};

/// How long a key's answer is replayed.
pub const KEEP: TimeDelta = TimeDelta::hours(24);

pub enum Claim {
    /// This request is the first with the key: answer it, then `finish`.
    First,
    /// Answered before: this is its answer.
    Answered(String),
    /// The key was used for another request.
    Mismatch,
    /// The first request with the key is still being answered.
    InFlight,
}

/// Claims `key` for this request; a claim left unfinished for longer than `stale` (its process
/// died) is taken over.
pub async fn claim(
    store: &Store,
    app_id: i64,
    key: &str,
    fingerprint: &str,
    now: DateTime<Utc>,
    stale: TimeDelta,
) -> Result<Claim, sqlx::Error> {
    let mut tx = store.write().await?;
    let row: Option<(String, Option<String>, String)> = sqlx::query_as(
        "SELECT fingerprint, answer, created_at FROM idempotency_keys \
         WHERE app_id = $1 AND key = $2",
    )
    .bind(app_id)
    .bind(key)
    .fetch_optional(&mut **tx)
    .await?;
    let expired = |created: &str| parse_ts(created).is_none_or(|t| now - t > KEEP);
    let claim = match row {
        Some((_, _, created)) if expired(&created) => None,
        Some((_, None, created)) if parse_ts(&created).is_some_and(|t| now - t > stale) => None,
        Some((stored, _, _)) if stored != fingerprint => Some(Claim::Mismatch),
        Some((_, Some(answer), _)) => Some(Claim::Answered(answer)),
        Some((_, None, _)) => Some(Claim::InFlight),
        None => None,
    };
    if let Some(claim) = claim {
        tx.commit().await?;
        return Ok(claim);
    }
    // Insert, or take over an expired or abandoned row; on PostgreSQL two first requests at
    // once meet on the primary key, and the loser sees the row next time.
    let done = sqlx::query(
        "INSERT INTO idempotency_keys (app_id, key, fingerprint, answer, created_at) \
         VALUES ($1, $2, $3, NULL, $4) \
         ON CONFLICT (app_id, key) DO UPDATE SET fingerprint = excluded.fingerprint, \
         answer = NULL, created_at = excluded.created_at \
         WHERE idempotency_keys.created_at < $5 \
         OR (idempotency_keys.answer IS NULL AND idempotency_keys.created_at < $6)",
    )
    .bind(app_id)
    .bind(key)
    .bind(fingerprint)
    .bind(ts(now))
    .bind(ts(now - KEEP))
    .bind(ts(now - stale))
    .execute(&mut **tx)
    .await?;
    tx.commit().await?;
    Ok(if done.rows_affected() > 0 {
        Claim::First
    } else {
        Claim::InFlight
    })
}

/// Stores the answer of the first request.
pub async fn finish(
    store: &Store,
    app_id: i64,
    key: &str,
    answer: &str,
) -> Result<(), sqlx::Error> {
    let mut tx = store.write().await?;
    sqlx::query("UPDATE idempotency_keys SET answer = $1 WHERE app_id = $2 AND key = $3")
        .bind(answer)
        .bind(app_id)
        .bind(key)
        .execute(&mut **tx)
        .await?;
    tx.commit().await
}

/// Lets the key be used again (the first request failed without an answer to keep).
pub async fn release(store: &Store, app_id: i64, key: &str) -> Result<(), sqlx::Error> {
    let mut tx = store.write().await?;
    sqlx::query("DELETE FROM idempotency_keys WHERE app_id = $1 AND key = $2 AND answer IS NULL")
        .bind(app_id)
        .bind(key)
        .execute(&mut **tx)
        .await?;
    tx.commit().await
}

/// Deletes keys older than 24 hours.
pub async fn prune(store: &Store, now: DateTime<Utc>) -> Result<u64, sqlx::Error> {
    let done = sqlx::query("DELETE FROM idempotency_keys WHERE created_at < $1")
        .bind(ts(now - KEEP))
        .execute(&store.pool)
        .await?;
    Ok(done.rows_affected())
}
