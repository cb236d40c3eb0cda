//! Pure rules, no I/O, no tokio, no sqlx: documents, money, protocol numbers, the states of
//! contracts, invoices, tickets, promises and messages, the promise policy, the access-check
//! wording, boleto and PIX arithmetic, PSPs' PIX notices, bank return files (CNAB),
//! maintenance windows, what FreeRADIUS is told, the dunning rule (blocking for debt) and the
//! national holidays it skips.
//! Imports nothing of this crate but `domain`.

pub mod bank_return;
pub mod boleto;
pub mod cnab;
pub mod document;
pub mod dunning;
pub mod failures;
pub mod forwarded;
pub mod holidays;
pub mod invoice;
pub mod local_time;
pub mod maintenance;
pub mod money;
pub mod name_fold;
pub mod paging;
pub mod payment_data;
pub mod pix;
pub mod pix_notice;
pub mod promise;
pub mod protocol;
pub mod radius;
pub mod states;
pub mod tempo;
