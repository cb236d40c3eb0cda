//! Use cases: each a small struct holding the narrow parts it needs (store, NAS client,
//! outbox, settings section), called by the transports, the jobs and the CLI alike.
//! May import `domain`, `store`, `network`, `notify`, `observe` and `settings`; never a
//! transport (`http`, `admin`, `painel`, `jobs`, `cli`) or `app`.

pub mod bank_returns;
pub mod dunning;
pub mod effects;
pub mod line;
pub mod nas_health;
pub mod pix;
pub mod promise_expiry;
pub mod protocols;
pub mod settle;
