//! What became of a payment promise.

use super::text_state;

text_state! {
    /// `promises.state`.
    pub enum PromiseState ("estado de promessa") {
        /// The unlock is in force until `expires_at`.
        Active = "active",
        /// Expired with nothing left open: the customer paid.
        Fulfilled = "fulfilled",
        /// Expired with invoices still open: the contract went back to its previous status.
        Expired = "expired",
        /// Undone by an operator.
        Revoked = "revoked",
    }
}

impl PromiseState {
    /// The word the agents' console shows.
    pub const fn label(self) -> &'static str {
        match self {
            PromiseState::Active => "em vigor",
            PromiseState::Fulfilled => "cumprida",
            PromiseState::Expired => "expirada",
            PromiseState::Revoked => "revogada",
        }
    }
}
