//! The payment-promise policy (CONTRACT.md §2.2): whether an unlock may happen, in the
//! order the contract fixes.

use chrono::NaiveDate;

use super::states::ContractStatus;

pub const MSG_ALREADY_USED: &str =
    "O recurso de promessa de pagamento já foi utilizado no mês. Recurso não disponível";
pub const MSG_NOT_SUSPENDED: &str = "Contrato não está suspenso. Nenhuma operação realizada.";
pub const MSG_NOT_ELIGIBLE: &str =
    "Liberação não permitida para este contrato. Procure o atendimento.";
pub const MSG_BAD_DATE: &str = "Data de promessa inválida";

#[derive(Debug, Clone)]
pub struct Policy {
    pub days: u32,
    pub monthly_limit: u32,
    pub allow_manual_suspension: bool,
    pub max_open_cents: Option<i64>,
    pub max_overdue_days: Option<u32>,
}

/// What is known of the contract when deciding.
#[derive(Debug, Clone)]
pub struct Facts {
    pub status: ContractStatus,
    pub status_mode: i64,
    pub promises_this_month: i64,
    pub open_cents: i64,
    /// Due date of the oldest open invoice, if any.
    pub oldest_open_due: Option<NaiveDate>,
    pub today: NaiveDate,
    /// The `data_promessa` parameter as given (None when absent).
    pub promised: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Decision {
    /// Status 2: the monthly limit is used up.
    AlreadyUsed,
    /// Status 0 with the message.
    Refused(&'static str),
    /// Unlock; the promised payment date (given or the expiry date).
    Unlock { promised: NaiveDate },
}

pub fn decide(policy: &Policy, facts: &Facts) -> Decision {
    if facts.promises_this_month >= i64::from(policy.monthly_limit) {
        return Decision::AlreadyUsed;
    }
    if !facts.status.is_suspended() {
        return Decision::Refused(MSG_NOT_SUSPENDED);
    }
    let manual = facts.status_mode == 2 && !policy.allow_manual_suspension;
    let over_debt = policy
        .max_open_cents
        .is_some_and(|max| facts.open_cents > max);
    let over_age = match (policy.max_overdue_days, facts.oldest_open_due) {
        (Some(max), Some(due)) => (facts.today - due).num_days() > i64::from(max),
        _ => false,
    };
    if manual || over_debt || over_age {
        return Decision::Refused(MSG_NOT_ELIGIBLE);
    }
    let last_day = facts.today + chrono::Days::new(u64::from(policy.days));
    let promised = match &facts.promised {
        None => last_day,
        Some(text) => match NaiveDate::parse_from_str(text.trim(), "%Y-%m-%d") {
            Ok(date) if date >= facts.today && date <= last_day => date,
            _ => return Decision::Refused(MSG_BAD_DATE),
        },
    };
    Decision::Unlock { promised }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn policy() -> Policy {
        Policy {
            days: 3,
            monthly_limit: 1,
            allow_manual_suspension: false,
            max_open_cents: None,
            max_overdue_days: None,
        }
    }

    fn facts() -> Facts {
        Facts {
            status: ContractStatus::Suspended,
            status_mode: 1,
            promises_this_month: 0,
            open_cents: 14980,
            oldest_open_due: NaiveDate::from_ymd_opt(2026, 10, 10),
            today: NaiveDate::from_ymd_opt(2026, 11, 29).unwrap(),
            promised: None,
        }
    }

    #[test]
    fn order_of_rules() {
        let d = |f: Facts, p: Policy| decide(&p, &f);
        assert_eq!(
            d(facts(), policy()),
            Decision::Unlock {
                promised: NaiveDate::from_ymd_opt(2026, 12, 2).unwrap()
            }
        );
        // the limit is checked before the status
        let used = Facts {
            promises_this_month: 1,
            status: ContractStatus::Active,
            ..facts()
        };
        assert_eq!(d(used, policy()), Decision::AlreadyUsed);
        let active = Facts {
            status: ContractStatus::Active,
            ..facts()
        };
        assert_eq!(d(active, policy()), Decision::Refused(MSG_NOT_SUSPENDED));
        let reduced = Facts {
            status: ContractStatus::ReducedSpeed,
            ..facts()
        };
        assert!(matches!(d(reduced, policy()), Decision::Unlock { .. }));
        let manual = Facts {
            status_mode: 2,
            ..facts()
        };
        assert_eq!(
            d(manual.clone(), policy()),
            Decision::Refused(MSG_NOT_ELIGIBLE)
        );
        let allow = Policy {
            allow_manual_suspension: true,
            ..policy()
        };
        assert!(matches!(d(manual, allow), Decision::Unlock { .. }));
        let debt = Policy {
            max_open_cents: Some(10000),
            ..policy()
        };
        assert_eq!(d(facts(), debt), Decision::Refused(MSG_NOT_ELIGIBLE));
        let age = Policy {
            max_overdue_days: Some(30),
            ..policy()
        };
        assert_eq!(d(facts(), age), Decision::Refused(MSG_NOT_ELIGIBLE));
        let age_ok = Policy {
            max_overdue_days: Some(60),
            ..policy()
        };
        assert!(matches!(d(facts(), age_ok), Decision::Unlock { .. }));
    }

    #[test]
    fn promised_date_window() {
        let with = |s: &str| {
            decide(
                &policy(),
                &Facts {
                    promised: Some(s.into()),
                    ..facts()
                },
            )
        };
        assert_eq!(with("2026-11-28"), Decision::Refused(MSG_BAD_DATE));
        assert_eq!(with("2026-12-03"), Decision::Refused(MSG_BAD_DATE));
        assert_eq!(with("29/11/2026"), Decision::Refused(MSG_BAD_DATE));
        assert_eq!(
            with("2026-11-29"),
            Decision::Unlock {
                promised: NaiveDate::from_ymd_opt(2026, 11, 29).unwrap()
            }
        );
        assert_eq!(
            with("2026-12-02"),
            Decision::Unlock {
                promised: NaiveDate::from_ymd_opt(2026, 12, 2).unwrap()
            }
        );
    }
}
