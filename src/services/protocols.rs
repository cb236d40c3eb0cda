//! Opening a protocol, and its ticket (with a work order) when the contact is one: the one
//! way every caller — the URA functions, the console, the money loop — records a contact.
//! Runs inside the caller's write transaction, so the protocol and what it stands for are
//! written together or not at all.

use chrono::{DateTime, NaiveDate, Utc};

use crate::store::Conn;
use crate::store::protocols::{self, Owner};
use crate::store::tickets::{self, NewTicket};

/// The ticket a contact opens under its protocol.
pub struct TicketSpec<'a> {
    pub type_id: i64,
    pub sector_id: Option<i64>,
    pub content: &'a str,
    /// `ura` (an app) or `painel` (an agent).
    pub origin: &'a str,
    pub caller: Option<&'a str>,
    pub app_id: Option<i64>,
    pub agent_id: Option<i64>,
    /// A work order with this reason goes with the ticket.
    pub work_order_reason: Option<i64>,
}

/// What was opened.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Opened {
    pub protocol: String,
    pub ticket_id: Option<i64>,
}

/// Opens a protocol for `owner` (reusing `reuse` when it is the same contract's, given
/// today), and the ticket when one is given.
pub async fn open(
    conn: &mut Conn,
    now: DateTime<Utc>,
    today: NaiveDate,
    owner: Owner<'_>,
    reuse: Option<&str>,
    ticket: Option<TicketSpec<'_>>,
) -> Result<Opened, sqlx::Error> {
    let contract_id = owner.contract_id;
    let protocol = protocols::allocate(conn, now, today, owner, reuse).await?;
    let ticket_id = match (ticket, contract_id) {
        (Some(t), Some(contract_id)) => {
            let id = tickets::insert(
                conn,
                NewTicket {
                    protocol: &protocol,
                    contract_id,
                    type_id: t.type_id,
                    sector_id: t.sector_id,
                    content: t.content,
                    origin: t.origin,
                    caller: t.caller,
                    app_id: t.app_id,
                    agent_id: t.agent_id,
                    now,
                },
            )
            .await?;
            if let Some(reason) = t.work_order_reason {
                tickets::insert_work_order(conn, id, reason, now).await?;
            }
            Some(id)
        }
        _ => None,
    };
    Ok(Opened {
        protocol,
        ticket_id,
    })
}
