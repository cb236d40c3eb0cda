//! Contract statuses of the original system, stored as their numbers 1..7.

use super::UnknownState;

/// `contracts.status`; the discriminant is the stored number (the wire's `contratoStatus`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[repr(i64)]
pub enum ContractStatus {
    Active = 1,
    Inactive = 2,
    Cancelled = 3,
    Suspended = 4,
    TechnicallyUnfeasible = 5,
    New = 6,
    ReducedSpeed = 7,
}

impl ContractStatus {
    /// Every status, by number.
    pub const ALL: &'static [ContractStatus] = &[
        ContractStatus::Active,
        ContractStatus::Inactive,
        ContractStatus::Cancelled,
        ContractStatus::Suspended,
        ContractStatus::TechnicallyUnfeasible,
        ContractStatus::New,
        ContractStatus::ReducedSpeed,
    ];

    /// The number stored and answered.
    pub const fn code(self) -> i64 {
        self as i64
    }

    /// The status a stored number names.
    pub fn from_code(code: i64) -> Result<Self, UnknownState> {
        Self::ALL
            .iter()
            .copied()
            .find(|s| s.code() == code)
            .ok_or_else(|| UnknownState {
                what: "status de contrato",
                value: code.to_string(),
            })
    }

    /// Status name as the operator reads it.
    pub const fn name(self) -> &'static str {
        match self {
            ContractStatus::Active => "Ativo",
            ContractStatus::Inactive => "Inativo",
            ContractStatus::Cancelled => "Cancelado",
            ContractStatus::Suspended => "Suspenso",
            ContractStatus::TechnicallyUnfeasible => "Inviabilidade Técnica",
            ContractStatus::New => "Novo",
            ContractStatus::ReducedSpeed => "Ativo V. Reduzida",
        }
    }

    /// `contratoStatusDisplay`: the name with one leading space, as the specification shows.
    pub fn display(self) -> String {
        format!(" {}", self.name())
    }

    /// Statuses a payment promise can lift.
    pub const fn is_suspended(self) -> bool {
        matches!(
            self,
            ContractStatus::Suspended | ContractStatus::ReducedSpeed
        )
    }

    /// Statuses in which the customer is served (at full or reduced speed).
    pub const fn in_service(self) -> bool {
        matches!(self, ContractStatus::Active | ContractStatus::ReducedSpeed)
    }

    /// Why a contract is not in service (`verificaacesso` step 4), or None when it is.
    pub const fn out_of_service_message(self) -> Option<&'static str> {
        match self {
            ContractStatus::Active | ContractStatus::ReducedSpeed => None,
            ContractStatus::Suspended => Some("Serviço suspenso por pendência financeira"),
            ContractStatus::Cancelled => Some("Contrato cancelado"),
            _ => Some("Contrato inativo"),
        }
    }
}

/// Answered as its number, as the contract's `contratoStatus` and `status` fields are.
impl serde::Serialize for ContractStatus {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_i64(self.code())
    }
}

impl std::fmt::Display for ContractStatus {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}", self.code())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_round_trip_and_are_one_to_seven() {
        let codes: Vec<i64> = ContractStatus::ALL.iter().map(|s| s.code()).collect();
        assert_eq!(codes, (1..=7).collect::<Vec<_>>());
        for &s in ContractStatus::ALL {
            assert_eq!(ContractStatus::from_code(s.code()), Ok(s));
        }
    }

    #[test]
    fn unknown_codes_are_errors() {
        for bad in [0, 8, -1, i64::MAX] {
            let e = ContractStatus::from_code(bad).unwrap_err();
            assert_eq!(e.value, bad.to_string());
        }
        assert_eq!(
            ContractStatus::from_code(9).unwrap_err().to_string(),
            "status de contrato desconhecido no banco: 9"
        );
    }

    #[test]
    fn answered_as_number_with_spaced_name() {
        assert_eq!(serde_json::json!(ContractStatus::Suspended), 4);
        assert_eq!(ContractStatus::ReducedSpeed.display(), " Ativo V. Reduzida");
        assert_eq!(
            ContractStatus::Suspended.out_of_service_message(),
            Some("Serviço suspenso por pendência financeira")
        );
        assert_eq!(ContractStatus::ReducedSpeed.out_of_service_message(), None);
        assert_eq!(
            ContractStatus::New.out_of_service_message(),
            Some("Contrato inativo")
        );
        assert!(ContractStatus::ReducedSpeed.is_suspended());
        assert!(!ContractStatus::Active.is_suspended());
    }
}
