//! Where a transfer notification of the agents' console stands.

use super::text_state;

text_state! {
    /// `notifications.state`.
    pub enum NotificationState ("estado de notificação") {
        /// Waiting for an agent.
        New = "new",
        /// An agent took the call.
        Taken = "taken",
        /// The agent is done with it.
        Handled = "handled",
    }
}
