//! The states rows go through (contract, invoice, ticket, promise, outbox message, console
//! notification), each a Rust enum with ONE mapping to the value stored in its column.
//! Pure: imports nothing outside `std`, `serde` and `thiserror`; the sqlx and rusqlite
//! conversions built on these mappings live in `store::states`.

mod contract;
mod invoice;
mod message;
mod notification;
mod promise;
mod reason;
mod ticket;

pub use contract::ContractStatus;
pub use invoice::InvoiceStatus;
pub use message::MessageStatus;
pub use notification::NotificationState;
pub use promise::PromiseState;
pub use reason::StatusReason;
pub use ticket::TicketStatus;

/// A stored value that names no known state (a row written by hand or by a newer version):
/// reading it is an error, never a panic nor a guess.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{what} desconhecido no banco: {value}")]
pub struct UnknownState {
    /// Which state, as an operator reads it (`status de contrato`).
    pub what: &'static str,
    pub value: String,
}

/// Defines a state stored as text: the enum, `ALL`, and its one mapping (`as_str`), from
/// which `parse` and `Display` are derived, so that each stored word is written once.
macro_rules! text_state {
    (
        $(#[$meta:meta])*
        pub enum $name:ident ($what:literal) {
            $($(#[$vmeta:meta])* $variant:ident = $text:literal,)+
        }
    ) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        pub enum $name {
            $($(#[$vmeta])* $variant,)+
        }

        impl $name {
            /// Every state, in declaration order.
            pub const ALL: &'static [$name] = &[$($name::$variant,)+];

            /// The value stored in the column.
            pub const fn as_str(self) -> &'static str {
                match self {
                    $($name::$variant => $text,)+
                }
            }

            /// The state a stored value names.
            pub fn parse(text: &str) -> Result<Self, $crate::domain::states::UnknownState> {
                Self::ALL
                    .iter()
                    .copied()
                    .find(|s| s.as_str() == text)
                    .ok_or_else(|| $crate::domain::states::UnknownState {
                        what: $what,
                        value: text.to_string(),
                    })
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(self.as_str())
            }
        }
    };
}
use text_state;

#[cfg(test)]
mod tests {
    use super::*;

    /// Every text state parses back from what it stores, and the stored words are distinct.
    fn round_trips<T: Copy + PartialEq + std::fmt::Debug>(
        all: &[T],
        as_str: fn(T) -> &'static str,
        parse: fn(&str) -> Result<T, UnknownState>,
    ) {
        for &s in all {
            assert_eq!(parse(as_str(s)), Ok(s));
        }
        let mut words: Vec<&str> = all.iter().map(|&s| as_str(s)).collect();
        words.sort_unstable();
        words.dedup();
        assert_eq!(words.len(), all.len(), "two states store the same word");
    }

    #[test]
    fn text_states_round_trip() {
        round_trips(
            InvoiceStatus::ALL,
            InvoiceStatus::as_str,
            InvoiceStatus::parse,
        );
        round_trips(TicketStatus::ALL, TicketStatus::as_str, TicketStatus::parse);
        round_trips(PromiseState::ALL, PromiseState::as_str, PromiseState::parse);
        round_trips(
            MessageStatus::ALL,
            MessageStatus::as_str,
            MessageStatus::parse,
        );
        round_trips(
            NotificationState::ALL,
            NotificationState::as_str,
            NotificationState::parse,
        );
    }

    #[test]
    fn unknown_words_are_errors() {
        for bad in ["", "OPEN", " open", "aberto", "desconhecido"] {
            let e = InvoiceStatus::parse(bad).unwrap_err();
            assert_eq!(e.value, bad);
        }
        assert!(TicketStatus::parse("closed").is_err());
        assert!(PromiseState::parse("Active").is_err());
        assert!(MessageStatus::parse("delivered").is_err());
        assert!(NotificationState::parse("done").is_err());
        assert_eq!(
            PromiseState::parse("lost").unwrap_err().to_string(),
            "estado de promessa desconhecido no banco: lost"
        );
    }

    /// The words are those the migrations' CHECK constraints and defaults allow.
    #[test]
    fn stored_words_match_the_schema() {
        let words = |all: &[&'static str]| all.join(",");
        assert_eq!(
            words(
                &InvoiceStatus::ALL
                    .iter()
                    .map(|s| s.as_str())
                    .collect::<Vec<_>>()
            ),
            "open,paid,cancelled"
        );
        assert_eq!(
            words(
                &PromiseState::ALL
                    .iter()
                    .map(|s| s.as_str())
                    .collect::<Vec<_>>()
            ),
            "active,fulfilled,expired,revoked"
        );
        assert_eq!(
            words(
                &MessageStatus::ALL
                    .iter()
                    .map(|s| s.as_str())
                    .collect::<Vec<_>>()
            ),
            "queued,sending,sent,failed,abandoned"
        );
        assert_eq!(TicketStatus::Open.as_str(), "open");
        assert_eq!(
            words(
                &NotificationState::ALL
                    .iter()
                    .map(|s| s.as_str())
                    .collect::<Vec<_>>()
            ),
            "new,taken,handled"
        );
    }
}
