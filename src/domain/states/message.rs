//! Where an outbox message (an invoice sent by e-mail or SMS) stands.

use super::text_state;

text_state! {
    /// `messages.status`.
    pub enum MessageStatus ("status de mensagem") {
        /// Waiting for the worker.
        Queued = "queued",
        /// Claimed by one process until `claimed_until`.
        Sending = "sending",
        Sent = "sent",
        /// Failed; retried at `next_attempt_at`.
        Failed = "failed",
        /// Failed too many times: no more attempts.
        Abandoned = "abandoned",
    }
}
