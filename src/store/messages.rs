//! Invoice messages handed to the mail server, the SMS gateway or the file directory.

use crate::store::Conn;
use chrono::{DateTime, Utc};

use super::{Store, ts};

pub struct NewMessage<'a> {
    pub contract_id: i64,
    pub channel: &'a str,
    pub recipient: &'a str,
    pub subject: Option<&'a str>,
    pub body: &'a str,
    pub protocol: &'a str,
    pub now: DateTime<Utc>,
}

/// Records the message as queued before any delivery attempt, so that it is never lost.
pub async fn insert_queued(conn: &mut Conn, m: NewMessage<'_>) -> Result<i64, sqlx::Error> {
    sqlx::query_scalar(
        "INSERT INTO messages (contract_id, channel, recipient, subject, body, protocol, \
         status, attempts, created_at) VALUES ($1, $2, $3, $4, $5, $6, 'queued', 0, $7) \
         RETURNING id",
    )
    .bind(m.contract_id)
    .bind(m.channel)
    .bind(m.recipient)
    .bind(m.subject)
    .bind(m.body)
    .bind(m.protocol)
    .bind(ts(m.now))
    .fetch_one(conn)
    .await
}

/// Records the outcome of one delivery attempt.
pub async fn record_attempt(
    store: &Store,
    id: i64,
    outcome: Result<(), &str>,
) -> Result<(), sqlx::Error> {
    let mut tx = store.write().await?;
    let now = ts(Utc::now());
    match outcome {
        Ok(()) => {
            sqlx::query(
                "UPDATE messages SET status = 'sent', attempts = attempts + 1, sent_at = $1, \
                 last_error = NULL WHERE id = $2",
            )
            .bind(now)
            .bind(id)
            .execute(&mut **tx)
            .await?;
        }
        Err(error) => {
            sqlx::query(
                "UPDATE messages SET status = 'failed', attempts = attempts + 1, \
                 last_error = $1 WHERE id = $2",
            )
            .bind(error)
            .bind(id)
            .execute(&mut **tx)
            .await?;
        }
    }
    tx.commit().await
}
