//! Expiry of payment promises (CONTRACT.md §2.2, last paragraph): when a promise's time is
//! up, a contract that still has overdue open invoices goes back to the status it had and
//! its services are blocked again; one whose debts were paid is marked fulfilled.

use chrono::Utc;

use crate::app::AppState;
use crate::domain::states::{ContractStatus, PromiseState};
use crate::network::{nas, radius};
use crate::store::promises;
use crate::store::ts;

/// What one run did.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Report {
    /// Contracts put back in their previous status.
    pub reverted: Vec<i64>,
    pub fulfilled: usize,
}

pub async fn run_once(state: &AppState) -> Result<Report, sqlx::Error> {
    let now = Utc::now();
    let today = state.local_date(now).to_string();
    let due: Vec<(i64, i64, i64, i64)> = sqlx::query_as(
        "SELECT id, contract_id, previous_status, previous_mode FROM promises \
         WHERE state = 'active' AND expires_at <= $1 ORDER BY expires_at, id LIMIT 500",
    )
    .bind(ts(now))
    .fetch_all(&state.store.pool)
    .await?;
    let mut report = Report::default();
    for (promise_id, contract_id, previous_status, previous_mode) in due {
        let mut tx = state.store.write().await?;
        let overdue: i64 = sqlx::query_scalar(
            "SELECT COUNT(*) FROM invoices WHERE contract_id = $1 AND status = 'open' \
             AND due_on < $2",
        )
        .bind(contract_id)
        .bind(&today)
        .fetch_one(&mut **tx)
        .await?;
        let new_state = if overdue > 0 {
            PromiseState::Expired
        } else {
            PromiseState::Fulfilled
        };
        // The claim: a process that lost the race updates nothing and moves on.
        let claimed = sqlx::query(
            "UPDATE promises SET state = $1, resolved_at = $2 WHERE id = $3 AND state = 'active'",
        )
        .bind(new_state)
        .bind(ts(now))
        .bind(promise_id)
        .execute(&mut **tx)
        .await?
        .rows_affected();
        if claimed == 0 {
            continue;
        }
        if overdue == 0 {
            tx.commit().await?;
            report.fulfilled += 1;
            continue;
        }
        // Revert only what the unlock did: a contract an operator changed since, or one
        // covered by another promise still running, is left alone.
        let other_active: i64 = sqlx::query_scalar(
            "SELECT COUNT(*) FROM promises WHERE contract_id = $1 AND state = 'active' \
             AND expires_at > $2",
        )
        .bind(contract_id)
        .bind(ts(now))
        .fetch_one(&mut **tx)
        .await?;
        let reverted = if other_active == 0 {
            sqlx::query(
                "UPDATE contracts SET status = $1, status_mode = $2 \
                 WHERE id = $3 AND status = $4 AND status_mode = 1",
            )
            .bind(previous_status)
            .bind(previous_mode)
            .bind(contract_id)
            .bind(ContractStatus::Active)
            .execute(&mut **tx)
            .await?
            .rows_affected()
                > 0
        } else {
            false
        };
        if reverted {
            sqlx::query("UPDATE internet_services SET enabled = 0 WHERE contract_id = $1")
                .bind(contract_id)
                .execute(&mut **tx)
                .await?;
            radius::provision_contract(&mut tx, &state.settings.radius, contract_id).await?;
        }
        tx.commit().await?;
        if reverted {
            tracing::info!(
                contrato = contract_id,
                "promessa vencida sem pagamento: contrato voltou ao status anterior"
            );
            report.reverted.push(contract_id);
            // Sessions opened during the unlock carry the plan's profile: cut them so
            // that the equipment re-authenticates into the block group.
            let logins: Vec<(String, Option<i64>)> = sqlx::query_as(
                "SELECT login, CAST(nas_id AS BIGINT) FROM internet_services \
                 WHERE contract_id = $1 ORDER BY id",
            )
            .bind(contract_id)
            .fetch_all(&state.store.pool)
            .await?;
            let result = nas::disconnect_logins(state, &logins).await;
            tracing::info!(
                contrato = contract_id,
                "desconexão após vencimento: {result}"
            );
            promises::record_disconnect(&state.store, promise_id, &result).await?;
        }
    }
    Ok(report)
}
