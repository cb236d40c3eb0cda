//! What the operator sees of the server at work: metrics, health and the audit trail.

pub mod audit;
pub mod metrics;
