//! Invoice messages handed to the mail server, the SMS gateway or the file directory (the
//! outbox: see `notify::outbox`).

use chrono::{DateTime, TimeDelta, Utc};

use super::{Conn, ts};
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
