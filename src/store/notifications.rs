//! Notifications for the agents' console: who is being transferred, to which queue.

use crate::domain::states::NotificationState;
use crate::store::Conn;
use chrono::{DateTime, Utc};

use super::ts;

pub struct NewNotification<'a> {
    pub contract_id: i64,
    pub customer_id: i64,
    pub protocol: &'a str,
    pub caller: Option<&'a str>,
    pub agent: Option<&'a str>,
    pub app_id: i64,
    pub now: DateTime<Utc>,
}

pub async fn insert(conn: &mut Conn, n: NewNotification<'_>) -> Result<i64, sqlx::Error> {
    sqlx::query_scalar(
        "INSERT INTO notifications (contract_id, customer_id, protocol, caller, agent, app_id, \
         state, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8) RETURNING id",
    )
    .bind(n.contract_id)
    .bind(n.customer_id)
    .bind(n.protocol)
    .bind(n.caller)
    .bind(n.agent)
    .bind(n.app_id)
    .bind(NotificationState::New)
    .bind(ts(n.now))
    .fetch_one(conn)
    .await
}
