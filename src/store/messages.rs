//! Invoice messages handed to the mail server, the SMS gateway or the file directory (the
//! outbox: see `notify::outbox`).

use chrono::{DateTime, TimeDelta, Utc};

use super::{Backend, Conn, ts};
use crate::domain::states::MessageStatus;

pub struct NewMessage<'a> {
    pub contract_id: i64,
    pub channel: &'a str,
    pub recipient: &'a str,
    pub subject: Option<&'a str>,
    pub body: &'a str,
    pub body_html: Option<&'a str>,
    pub invoice_ids: &'a str,
    pub protocol: &'a str,
    pub now: DateTime<Utc>,
    /// How long the caller's own first attempt holds the message before the worker may.
    pub hold: TimeDelta,
}

/// Records the message before any delivery attempt, claimed by the caller for its first
/// attempt, so that it is never lost and never sent twice.
pub async fn insert_claimed(conn: &mut Conn, m: NewMessage<'_>) -> Result<i64, sqlx::Error> {
    sqlx::query_scalar(
        "INSERT INTO messages (contract_id, channel, recipient, subject, body, body_html, \
         invoice_ids, protocol, status, attempts, created_at, claimed_until) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, 0, $10, $11) RETURNING id",
    )
    .bind(m.contract_id)
    .bind(m.channel)
    .bind(m.recipient)
    .bind(m.subject)
    .bind(m.body)
    .bind(m.body_html)
    .bind(m.invoice_ids)
    .bind(m.protocol)
    .bind(MessageStatus::Sending)
    .bind(ts(m.now))
    .bind(ts(m.now + m.hold))
    .fetch_one(conn)
    .await
}

/// A message of `insert_many`: no HTML body, no invoices.
#[derive(serde::Serialize)]
pub struct BatchMessage<'a> {
    pub contract_id: i64,
    pub channel: &'a str,
    pub recipient: &'a str,
    pub subject: Option<&'a str>,
    pub body: &'a str,
    pub protocol: &'a str,
}

/// `insert_claimed` for a batch, in one statement: (contract, message id) of each. With no
/// `hold`, the messages are queued for the outbox's worker instead of claimed.
pub async fn insert_many(
    conn: &mut Conn,
    backend: Backend,
    batch: &[BatchMessage<'_>],
    now: DateTime<Utc>,
    hold: Option<TimeDelta>,
) -> Result<Vec<(i64, i64)>, sqlx::Error> {
    if batch.is_empty() {
        return Ok(Vec::new());
    }
    sqlx::query_as(super::over_json_rows!(
        backend,
        "INSERT INTO messages (contract_id, channel, recipient, subject, body, body_html, \
         invoice_ids, protocol, status, attempts, created_at, claimed_until) \
         SELECT CAST(r.value->>'contract_id' AS BIGINT), r.value->>'channel', \
         r.value->>'recipient', r.value->>'subject', r.value->>'body', NULL, '', \
         r.value->>'protocol', $2, 0, $3, $4 FROM",
        "RETURNING contract_id, id"
    ))
    .bind(super::json_rows(&batch)?)
    .bind(if hold.is_some() {
        MessageStatus::Sending
    } else {
        MessageStatus::Queued
    })
    .bind(ts(now))
    .bind(hold.map(|hold| ts(now + hold)))
    .fetch_all(conn)
    .await
}

/// A message as an attempt needs it.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct Message {
    pub id: i64,
    pub channel: String,
    pub recipient: String,
    pub subject: Option<String>,
    pub body: String,
    pub body_html: Option<String>,
    pub invoice_ids: Option<String>,
    pub attempts: i64,
}

/// Claims messages for their attempts until `until`, in one statement: the ids claimed (the
/// others are held by another process or done).
pub async fn claim_many(
    store: &super::Store,
    ids: &[i64],
    now: DateTime<Utc>,
    until: DateTime<Utc>,
) -> Result<Vec<i64>, sqlx::Error> {
    let mut tx = store.write().await?;
    let claimed = sqlx::query_scalar(super::over_json_rows!(
        store.backend,
        "UPDATE messages SET status = $2, claimed_until = $3 \
         WHERE id IN (SELECT CAST(r.value->>'id' AS BIGINT) FROM",
        ") AND status IN ($4, $5, $2) AND (claimed_until IS NULL OR claimed_until <= $6) \
         RETURNING id"
    ))
    .persistent(false)
    .bind(super::json_ids(ids))
    .bind(MessageStatus::Sending)
    .bind(ts(until))
    .bind(MessageStatus::Queued)
    .bind(MessageStatus::Failed)
    .bind(ts(now))
    .fetch_all(&mut **tx)
    .await?;
    tx.commit().await?;
    Ok(claimed)
}

/// The messages of `ids`, in id order; ids not found are left out.
pub async fn by_ids(store: &super::Store, ids: &[i64]) -> Result<Vec<Message>, sqlx::Error> {
    sqlx::query_as(super::over_json_rows!(
        store.backend,
        "SELECT id, channel, recipient, subject, body, body_html, invoice_ids, \
         CAST(attempts AS BIGINT) AS attempts FROM messages \
         WHERE id IN (SELECT CAST(r.value->>'id' AS BIGINT) FROM",
        ") ORDER BY id"
    ))
    .persistent(false)
    .bind(super::json_ids(ids))
    .fetch_all(&store.pool)
    .await
}

/// A failed attempt of a batch.
pub struct Failed<'a> {
    pub id: i64,
    pub error: &'a str,
    pub give_up: bool,
    pub next_attempt: DateTime<Utc>,
}

/// The outcomes of attempts in one transaction: the delivered ones in one statement, each
/// failure in its own (they are few). On PostgreSQL it commits without waiting for its WAL
/// flush (`synchronous_commit = off`, this transaction only): a dunning run's deliveries
/// otherwise waited, one fsync each, on `WALWrite`. Losing an outcome in a crash of the
/// database within its next flush (a fraction of a second) only makes the message due again
/// after its claim ends: the outbox already delivers at least once (a crash between the send
/// and this write does the same).
pub async fn record_outcomes(
    store: &super::Store,
    sent: &[i64],
    failed: &[Failed<'_>],
    now: DateTime<Utc>,
) -> Result<(), sqlx::Error> {
    let mut tx = store.write().await?;
    if store.backend == Backend::Postgres {
        sqlx::query("SET LOCAL synchronous_commit = off")
            .execute(&mut **tx)
            .await?;
    }
    if !sent.is_empty() {
        sqlx::query(super::over_json_rows!(
            store.backend,
            "UPDATE messages SET status = $2, attempts = attempts + 1, sent_at = $3, \
             last_error = NULL, claimed_until = NULL \
             WHERE id IN (SELECT CAST(r.value->>'id' AS BIGINT) FROM",
            ")"
        ))
        .persistent(false)
        .bind(super::json_ids(sent))
        .bind(MessageStatus::Sent)
        .bind(ts(now))
        .execute(&mut **tx)
        .await?;
    }
    for f in failed {
        failure(f.id, f.error, f.give_up, f.next_attempt)
            .execute(&mut **tx)
            .await?;
    }
    tx.commit().await
}

fn failure(
    id: i64,
    error: &str,
    give_up: bool,
    next_attempt: DateTime<Utc>,
) -> sqlx::query::Query<'_, sqlx::Any, sqlx::any::AnyArguments> {
    sqlx::query(
        "UPDATE messages SET status = $1, attempts = attempts + 1, last_error = $2, \
         next_attempt_at = $3, claimed_until = NULL WHERE id = $4",
    )
    .bind(if give_up {
        MessageStatus::Abandoned
    } else {
        MessageStatus::Failed
    })
    .bind(error)
    .bind(ts(next_attempt))
    .bind(id)
}

/// Messages due for an attempt: failed and past their backoff, or left `sending` by a
/// process that died.
pub async fn due(
    store: &super::Store,
    now: DateTime<Utc>,
    limit: i64,
) -> Result<Vec<i64>, sqlx::Error> {
    // One look per state, each through an index in id order (`messages_queue`): a single
    // query over the three sorted every candidate, and a dunning run queues hundreds of
    // thousands.
    sqlx::query_scalar(
        "SELECT id FROM ( \
           SELECT id FROM (SELECT id FROM messages WHERE status = $1 \
             AND (next_attempt_at IS NULL OR next_attempt_at <= $3) ORDER BY id LIMIT $5) AS q \
           UNION ALL \
           SELECT id FROM (SELECT id FROM messages WHERE status = $2 \
             AND (next_attempt_at IS NULL OR next_attempt_at <= $3) ORDER BY id LIMIT $5) AS f \
           UNION ALL \
           SELECT id FROM (SELECT id FROM messages WHERE status = $4 \
             AND claimed_until <= $3 ORDER BY id LIMIT $5) AS s \
         ) AS due ORDER BY id LIMIT $5",
    )
    .bind(MessageStatus::Queued)
    .bind(MessageStatus::Failed)
    .bind(ts(now))
    .bind(MessageStatus::Sending)
    .bind(limit)
    .fetch_all(&store.pool)
    .await
}

/// Messages by status, for the outbox gauges.
pub async fn count_by_status(
    store: &super::Store,
) -> Result<Vec<(MessageStatus, i64)>, sqlx::Error> {
    sqlx::query_as("SELECT status, COUNT(*) FROM messages GROUP BY status")
        .fetch_all(&store.pool)
        .await
}
