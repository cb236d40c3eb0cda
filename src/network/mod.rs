//! The network side: FreeRADIUS provisioning and where RADIUS sessions are read from.

pub mod coa;
pub mod nas;
pub mod nas_sim;
pub mod radius;
pub mod sessions;
