//! What the operator sees of the server at work: the metrics registry and the audit trail's
//! queue and writer (served over HTTP by `http::observe` and the admin API).
//! May import `domain`, `store` and `settings`; never a transport or `app`.

pub mod audit;
pub mod metrics;
