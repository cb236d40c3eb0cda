//! Tickets (ocorrências) and their work orders.

use crate::domain::states::TicketStatus;
use crate::store::Conn;
use chrono::{DateTime, Utc};

use super::ts;

pub struct NewTicket<'a> {
    pub protocol: &'a str,
    pub contract_id: i64,
    pub type_id: i64,
    pub sector_id: Option<i64>,
    pub content: &'a str,
    /// `ura` (an app's `chamado`) or `painel` (an agent).
    pub origin: &'a str,
    pub caller: Option<&'a str>,
    pub app_id: Option<i64>,
    pub agent_id: Option<i64>,
    pub now: DateTime<Utc>,
}

pub async fn insert(conn: &mut Conn, t: NewTicket<'_>) -> Result<i64, sqlx::Error> {
    sqlx::query_scalar(
        "INSERT INTO tickets (protocol, contract_id, type_id, sector_id, content, origin, \
         caller, app_id, agent_id, status, created_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11) RETURNING id",
    )
    .bind(t.protocol)
    .bind(t.contract_id)
    .bind(t.type_id)
    .bind(t.sector_id)
    .bind(t.content)
    .bind(t.origin)
    .bind(t.caller)
    .bind(t.app_id)
    .bind(t.agent_id)
    .bind(TicketStatus::Open)
    .bind(ts(t.now))
    .fetch_one(conn)
    .await
}

pub async fn insert_work_order(
    conn: &mut Conn,
    ticket_id: i64,
    reason_id: i64,
    now: DateTime<Utc>,
) -> Result<i64, sqlx::Error> {
    sqlx::query_scalar(
        "INSERT INTO work_orders (ticket_id, reason_id, status, created_at) \
         VALUES ($1, $2, $3, $4) RETURNING id",
    )
    .bind(ticket_id)
    .bind(reason_id)
    .bind(TicketStatus::Open)
    .bind(ts(now))
    .fetch_one(conn)
    .await
}
