//! The network side: RFC 5176 requests to the NAS, what is done with open sessions, and the
//! NAS simulator. May import `domain`, `store` and `settings`; never a transport or `app`.

pub mod coa;
pub mod nas;
pub mod nas_sim;
pub mod reach;
