//! Pure rules, no I/O: documents, money, protocol numbers, the states of contracts, invoices,
//! tickets, promises and messages, the promise policy, the access-check wording, boleto and
//! PIX arithmetic.

pub mod boleto;
pub mod document;
pub mod invoice;
pub mod local_time;
pub mod money;
pub mod name_fold;
pub mod payment_data;
pub mod pix;
pub mod promise;
pub mod protocol;
pub mod states;
pub mod tempo;
