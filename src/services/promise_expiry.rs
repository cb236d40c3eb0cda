//! Expiry of payment promises (CONTRACT.md §2.2, last paragraph): when a promise's time is
//! up, a contract that still has overdue open invoices goes back to the status it had and
//! its services are blocked again; one whose debts were paid is marked fulfilled.

use chrono::Utc;
use chrono_tz::Tz;

use crate::domain::states::{ContractStatus, PromiseState, StatusReason};
use crate::network::nas::NasClient;
use crate::settings::RadiusSettings;
use crate::store::promises;
use crate::store::{Store, contracts, dunning, invoices, radius};

/// Promises resolved per run at most; the next run takes the rest.
const BATCH: i64 = 500;

/// What one run did.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Report {
    /// Contracts put back in their previous status.
    pub reverted: Vec<i64>,
    pub fulfilled: usize,
}

#[derive(Clone)]
pub struct PromiseExpiry {
    pub store: Store,
    pub radius: RadiusSettings,
    pub tz: Tz,
    pub nas: NasClient,
}

impl PromiseExpiry {
    pub async fn run_once(&self) -> Result<Report, sqlx::Error> {
        let now = Utc::now();
        let today = now.with_timezone(&self.tz).date_naive();
        let mut report = Report::default();
        for due in promises::due(&self.store, now, BATCH).await? {
            let mut tx = self.store.write().await?;
            let overdue = invoices::overdue_count(&mut tx, due.contract_id, today).await?;
            let outcome = if overdue > 0 {
                PromiseState::Expired
            } else {
                PromiseState::Fulfilled
            };
            // The claim: a process that lost the race updates nothing and moves on.
            if !promises::resolve(&mut tx, due.id, outcome, now).await? {
                continue;
            }
            if outcome == PromiseState::Fulfilled {
                tx.commit().await?;
                report.fulfilled += 1;
                continue;
            }
            // Revert only what the unlock did: a contract an operator changed since, or one
            // covered by another promise still running, is left alone.
            let reverted = promises::active_count(&mut tx, due.contract_id, now).await? == 0
                && promises::revert_contract(
                    &mut tx,
                    due.contract_id,
                    due.previous_status,
                    due.previous_mode,
                    due.previous_reason,
                )
                .await?;
            if reverted {
                radius::provision_contract(&mut tx, &self.radius, due.contract_id).await?;
                dunning::record_change(
                    &mut tx,
                    dunning::NewChange {
                        contract_id: due.contract_id,
                        from: ContractStatus::Active,
                        to: due.previous_status,
                        reason: StatusReason::Promise,
                        protocol: None,
                        actor: "promessa vencida",
                        now,
                    },
                )
                .await?;
            }
            tx.commit().await?;
            if reverted {
                tracing::info!(
                    contrato = due.contract_id,
                    "promessa vencida sem pagamento: contrato voltou ao status anterior"
                );
                report.reverted.push(due.contract_id);
                // Sessions opened during the unlock carry the plan's profile: cut them so
                // that the equipment re-authenticates into the block group.
                let logins = contracts::logins(&self.store, due.contract_id).await?;
                let result = self.nas.disconnect_logins(&logins).await;
                tracing::info!(
                    contrato = due.contract_id,
                    "desconexão após vencimento: {result}"
                );
                promises::record_disconnect(&self.store, due.id, &result).await?;
            }
        }
        Ok(report)
    }
}
