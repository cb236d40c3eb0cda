//! Pure rules, no I/O: documents, money, protocol numbers, contract status, the promise
//! policy, the access-check wording, boleto and PIX arithmetic, maintenance windows.

pub mod boleto;
pub mod document;
pub mod invoice;
pub mod local_time;
pub mod maintenance;
pub mod money;
pub mod name_fold;
pub mod payment_data;
pub mod pix;
pub mod promise;
pub mod protocol;
pub mod status;
pub mod tempo;
