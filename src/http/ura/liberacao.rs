//! `liberacaopromessa` (CONTRACT.md §2.2): unlock a suspended contract on a promise to pay.
//! The whole decision runs inside one write transaction, so two calls at the same moment
//! see each other: exactly one unlocks.

use chrono::{Days, NaiveTime, TimeZone};
use serde_json::Value;

use super::Ctx;
use super::answers::{self, LiberacaoPromessa, Unlock};
use crate::domain::promise::{self, Decision, Facts, Policy};
use crate::http::error::ApiError;
use crate::store::contracts;
use crate::store::promises::{self, NewPromise};
use crate::store::protocols::Owner;

/// "Financeiro - Ativação de Contrato": the ticket that records an unlock.
const UNLOCK_TICKET_TYPE: i64 = 28;
const FINANCE_SECTOR: i64 = 2;

pub async fn run(ctx: &Ctx) -> Result<Value, ApiError> {
    answers::to_value(answer(ctx).await?)
}

async fn answer(ctx: &Ctx) -> Result<LiberacaoPromessa, ApiError> {
    let id = ctx.params.required_int("contrato")?;
    let settings = &ctx.state.settings.promessa;
    let policy = Policy {
        days: settings.dias,
        monthly_limit: settings.limite_mes,
        allow_manual_suspension: settings.suspensao_manual,
        max_open_cents: settings
            .max_valor_aberto
            .map(|r| (r * 100.0).round() as i64),
        max_overdue_days: settings.max_dias_atraso,
    };
    let month = ctx.month();

    let mut tx = ctx.state.store.write().await?;
    // Before anything is read: a second unlock of this contract waits here for the first
    // to commit, then sees its promise.
    contracts::lock(&mut tx, id).await?;
    let Some(contract) = ctx.find_contract(&mut tx, id).await? else {
        return Ok(LiberacaoPromessa::NotFound(ctx.not_found(id)));
    };
    let count = promises::count_in_month(&mut tx, id, &month).await?;
    let balance = contracts::open_balance(&mut tx, id).await?;
    let facts = Facts {
        status: contract.status,
        status_mode: contract.status_mode,
        promises_this_month: count,
        open_cents: balance.cents,
        oldest_open_due: balance.oldest_due,
        today: ctx.today,
        promised: ctx.params.get("data_promessa").map(str::to_owned),
    };
    let refuse = |status: i64, msg: &str| {
        LiberacaoPromessa::Decided(Unlock {
            head: ctx.head(status, &contract),
            liberado: false,
            liberado_dias: None,
            data_promessa: None,
            tail: ctx.tail(msg, &contract),
            protocolo: None,
        })
    };
    let promised = match promise::decide(&policy, &facts) {
        Decision::AlreadyUsed => return Ok(refuse(2, promise::MSG_ALREADY_USED)),
        Decision::Refused(msg) => return Ok(refuse(0, msg)),
        Decision::Unlock { promised } => promised,
    };

    let services = contracts::services(&mut tx, id).await?;
    let mut msg = String::from("Liberação via URA -\n");
    for s in &services {
        msg.push_str(&format!("Serviço ID: {}, Login: {}\n", s.id, s.login));
    }
    msg.push_str("Motivo: Promessa de Pagamento\n");
    let content = format!(
        "{msg}Pagamento prometido para {}",
        promised.format("%d/%m/%Y")
    );
    let protocol = crate::services::protocols::open(
        &mut tx,
        ctx.now,
        ctx.today,
        Owner {
            contract_id: Some(id),
            customer_id: contract.customer_id,
            origin: "liberacaopromessa",
        },
        ctx.params.get("protocolo"),
        Some(ctx.ticket(UNLOCK_TICKET_TYPE, Some(FINANCE_SECTOR), &content)),
    )
    .await?
    .protocol;
    // The unlock lasts until the end of the last day of the promise, local time.
    let last_day = ctx.today + Days::new(u64::from(policy.days));
    let expires_at = ctx
        .state
        .tz
        .from_local_datetime(
            &last_day.and_time(NaiveTime::from_hms_opt(23, 59, 59).unwrap_or_default()),
        )
        .earliest()
        .map(|t| t.to_utc())
        .unwrap_or(ctx.now + chrono::TimeDelta::days(i64::from(policy.days)));
    let inserted = promises::insert(
        &mut tx,
        NewPromise {
            contract_id: id,
            month: &month,
            seq: count + 1,
            now: ctx.now,
            promised,
            expires_at,
            protocol: &protocol,
            previous_status: contract.status,
            previous_mode: contract.status_mode,
            caller: ctx.caller(),
            app_id: ctx.app.id,
        },
    )
    .await;
    let promise_id = match inserted {
        Ok(id) => id,
        Err(sqlx::Error::Database(e)) if e.is_unique_violation() => {
            // Another process recorded this month's promise first.
            return Ok(refuse(2, promise::MSG_ALREADY_USED));
        }
        Err(e) => return Err(e.into()),
    };
    promises::unlock_contract(&mut tx, id, promise_id).await?;
    crate::store::dunning::record_change(
        &mut tx,
        crate::store::dunning::NewChange {
            contract_id: id,
            from: contract.status,
            to: crate::domain::states::ContractStatus::Active,
            reason: crate::domain::states::StatusReason::Promise,
            protocol: Some(&protocol),
            actor: &format!("ura:{}", ctx.app.name),
            now: ctx.now,
        },
    )
    .await?;
    // FreeRADIUS must see the unlock in the same transaction.
    crate::store::radius::provision_contract(&mut tx, &ctx.state.settings.radius, id).await?;

    tx.commit().await?;
    // The customer's equipment must re-authenticate to get its plan's profile: disconnect
    // its sessions, off the answer's path; a NAS that fails changes nothing in the answer.
    let logins: Vec<(String, Option<i64>)> = services
        .iter()
        .map(|s| (s.login.clone(), s.nas_id))
        .collect();
    let state = ctx.state.clone();
    tokio::spawn(async move {
        let result = state.nas.disconnect_logins(&logins).await;
        tracing::info!(contrato = id, "desconexão após liberação: {result}");
        if let Err(e) =
            crate::store::promises::record_disconnect(&state.store, promise_id, &result).await
        {
            tracing::warn!(error = %e, "não foi possível registrar o resultado da desconexão");
        }
    });
    tracing::info!(
        "{} liberado por promessa, protocolo {protocol}",
        Ctx::log_ref(&contract)
    );

    Ok(LiberacaoPromessa::Decided(Unlock {
        head: ctx.head(1, &contract),
        liberado: true,
        liberado_dias: Some(policy.days),
        data_promessa: Some(promised.format("%Y-%m-%d").to_string()),
        tail: ctx.tail(&msg, &contract),
        protocolo: Some(protocol),
    }))
}
