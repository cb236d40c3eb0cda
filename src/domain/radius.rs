//! What FreeRADIUS is told about a service, as pure rules: its group and its plan's rate.

use super::states::ContractStatus;

/// `150000`/`300000` kbit/s → `150M/300M` (MikroTik's rx/tx from the client's side:
/// upload first).
pub fn rate_limit(upload_kbps: i64, download_kbps: i64) -> String {
    fn speed(kbps: i64) -> String {
        if kbps > 0 && kbps % 1000 == 0 {
            format!("{}M", kbps / 1000)
        } else {
            format!("{}k", kbps.max(0))
        }
    }
    format!("{}/{}", speed(upload_kbps), speed(download_kbps))
}

/// The group a service belongs in.
pub fn group_for(
    block_group: &str,
    reduced_group: Option<&str>,
    contract_status: i64,
    service_enabled: bool,
    plan_group: Option<&str>,
) -> String {
    let plan_group = plan_group.filter(|g| !g.trim().is_empty());
    match (
        ContractStatus::from_code(contract_status),
        service_enabled,
        plan_group,
    ) {
        (Ok(ContractStatus::Active), true, Some(group)) => group.to_string(),
        (Ok(ContractStatus::ReducedSpeed), true, Some(group)) => reduced_group
            .filter(|g| !g.trim().is_empty())
            .unwrap_or(group)
            .to_string(),
        _ => block_group.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rate_limits() {
        assert_eq!(rate_limit(150_000, 300_000), "150M/300M");
        assert_eq!(rate_limit(512, 1_500), "512k/1500k");
        assert_eq!(rate_limit(1_000_000, 1_000_000), "1000M/1000M");
    }

    #[test]
    fn groups() {
        let g = |status, enabled, plan| group_for("bloqueado", None, status, enabled, plan);
        assert_eq!(g(1, true, Some("plano")), "plano");
        assert_eq!(g(1, false, Some("plano")), "bloqueado");
        assert_eq!(g(4, true, Some("plano")), "bloqueado");
        assert_eq!(g(3, true, Some("plano")), "bloqueado");
        assert_eq!(g(7, true, Some("plano")), "plano");
        assert_eq!(g(1, true, None), "bloqueado");
        assert_eq!(
            group_for("bloqueado", Some("reduzido"), 7, true, Some("plano")),
            "reduzido"
        );
    }
}
