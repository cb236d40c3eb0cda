//! The network side: FreeRADIUS provisioning and where RADIUS sessions are read from.

pub mod radius;
pub mod sessions;
