//! Why a contract is in its status: only a block for debt is lifted by a payment; a contract an
//! operator suspended by hand stays suspended.

use super::text_state;

text_state! {
    /// `contracts.status_reason` and `contract_status_changes.reason`.
    pub enum StatusReason ("motivo de status") {
        /// The dunning rule: overdue invoices.
        Debt = "debito",
        /// A trust unlock on a promise to pay.
        Promise = "promessa",
        /// An operator (admin API, console, import).
        Manual = "manual",
        /// A payment gave the line back.
        Payment = "pagamento",
    }
}

impl StatusReason {
    /// As the operator reads it.
    pub const fn label(self) -> &'static str {
        match self {
            StatusReason::Debt => "débito",
            StatusReason::Promise => "promessa de pagamento",
            StatusReason::Manual => "manual",
            StatusReason::Payment => "pagamento",
        }
    }
}
