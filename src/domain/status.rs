//! Contract statuses of the original system.

pub const ACTIVE: i64 = 1;
pub const INACTIVE: i64 = 2;
pub const CANCELLED: i64 = 3;
pub const SUSPENDED: i64 = 4;
pub const TECHNICALLY_UNFEASIBLE: i64 = 5;
pub const NEW: i64 = 6;
pub const REDUCED_SPEED: i64 = 7;

/// Status name as the operator reads it.
pub fn name(status: i64) -> &'static str {
    match status {
        ACTIVE => "Ativo",
        INACTIVE => "Inativo",
        CANCELLED => "Cancelado",
        SUSPENDED => "Suspenso",
        TECHNICALLY_UNFEASIBLE => "Inviabilidade Técnica",
        NEW => "Novo",
        REDUCED_SPEED => "Ativo V. Reduzida",
        _ => "Desconhecido",
    }
}

/// `contratoStatusDisplay`: the name with one leading space, as the specification shows.
pub fn display(status: i64) -> String {
    format!(" {}", name(status))
}

/// Statuses a payment promise can lift.
pub fn is_suspended(status: i64) -> bool {
    matches!(status, SUSPENDED | REDUCED_SPEED)
}

/// Why a contract is not in service (`verificaacesso` step 4), or None when it is.
pub fn out_of_service_message(status: i64) -> Option<&'static str> {
    match status {
        ACTIVE | REDUCED_SPEED => None,
        SUSPENDED => Some("Serviço suspenso por pendência financeira"),
        CANCELLED => Some("Contrato cancelado"),
        _ => Some("Contrato inativo"),
    }
}
