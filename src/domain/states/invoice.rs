//! An invoice's (título's) status.

use super::text_state;

text_state! {
    /// Where an invoice stands (`invoices.status`).
    pub enum InvoiceStatus ("status de título") {
        Open = "open",
        Paid = "paid",
        Cancelled = "cancelled",
    }
}

impl InvoiceStatus {
    /// The word the URA answers and the console show (`titulos`: `"status": "aberto"`).
    pub const fn label(self) -> &'static str {
        match self {
            InvoiceStatus::Open => "aberto",
            InvoiceStatus::Paid => "pago",
            InvoiceStatus::Cancelled => "cancelado",
        }
    }
}
