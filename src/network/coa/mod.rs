//! RFC 5176 Dynamic Authorization (Disconnect-Request, CoA-Request) and RFC 5997
//! Status-Server: `codec` builds and checks packets (pure, fuzzed), `client` sends them over
//! UDP. Imports only `std` and crates, nothing else of `ura`.

mod client;
pub mod codec;

pub(crate) use client::bind_udp;
pub use client::{CoaClient, DEFAULT_RETRIES, DEFAULT_TIMEOUT, NasTarget};
pub use codec::{
    COA_PORT, ERROR_CAUSE_SESSION_NOT_FOUND, Outcome, Request, SessionRef, decode_reply,
    error_cause_text,
};
