//! A ticket's (ocorrência's) status.

use super::text_state;

text_state! {
    /// `tickets.status`, also `work_orders.status`. Tickets and work orders are closed in the
    /// provider's own system: this service only ever opens them.
    pub enum TicketStatus ("status de ocorrência") {
        Open = "open",
    }
}
