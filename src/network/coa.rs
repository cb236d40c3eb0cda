//! RFC 5176 Dynamic Authorization client (Disconnect-Request, CoA-Request).
