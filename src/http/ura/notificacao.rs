//! `notificacaosistema` (CONTRACT.md §2.5): the IVR is transferring the caller to a human.

use serde_json::Value;

use super::Ctx;
use super::answers::{self, NotificacaoSistema, WithAgent};
use crate::domain::document;
use crate::http::error::ApiError;
use crate::services;
use crate::store::contracts;
use crate::store::notifications::{self, NewNotification};
use crate::store::painel::{self, EventKind};
use crate::store::protocols::Owner;

pub async fn run(ctx: &Ctx) -> Result<Value, ApiError> {
    answers::to_value(answer(ctx).await?)
}

async fn answer(ctx: &Ctx) -> Result<NotificacaoSistema, ApiError> {
    let id = ctx.params.int("contrato")?;
    let given_document = ctx.params.get("cpfcnpj");
    if id.is_none() && given_document.is_none() {
        return Err(ApiError::bad_request("Informe contrato ou cpfcnpj."));
    }
    // The specification spells it both ways.
    let agent = ctx
        .params
        .get("uraagente")
        .or_else(|| ctx.params.get("uraagent"));

    let mut tx = ctx.state.store.write().await?;
    let contract = match id {
        Some(id) => match ctx.find_contract(&mut tx, id).await? {
            Some(c) => c,
            None => {
                return Ok(NotificacaoSistema::ContractNotFound(WithAgent {
                    answer: ctx.not_found(id),
                    uraagent: agent.map(str::to_string),
                }));
            }
        },
        None => {
            let found = match given_document.and_then(document::parse) {
                Some(doc) => contracts::by_document(&ctx.state.store, doc.as_str()).await?,
                None => Vec::new(),
            };
            match found.into_iter().next() {
                Some(c) => c,
                None => {
                    return Ok(NotificacaoSistema::CustomerNotFound(WithAgent {
                        answer: ctx.customer_not_found(),
                        uraagent: agent.map(str::to_string),
                    }));
                }
            }
        }
    };

    let protocol = services::protocols::open(
        &mut tx,
        ctx.now,
        ctx.today,
        Owner {
            contract_id: Some(contract.id),
            customer_id: contract.customer_id,
            origin: "notificacaosistema",
        },
        ctx.params.get("protocolo"),
        None,
    )
    .await?
    .protocol;
    let notification = notifications::insert(
        &mut tx,
        NewNotification {
            contract_id: contract.id,
            customer_id: contract.customer_id,
            protocol: &protocol,
            caller: ctx.caller(),
            agent,
            app_id: ctx.app.id,
            now: ctx.now,
        },
    )
    .await?;
    painel::record_event(
        &mut tx,
        ctx.state.store.backend,
        notification,
        EventKind::New,
        None,
        ctx.now,
    )
    .await?;
    tx.commit().await?;
    // The agents' screens of this process look now; other processes hear of it from
    // PostgreSQL.
    ctx.state.live.notify();
    tracing::info!(
        "{} notificação para {}, protocolo {protocol}",
        Ctx::log_ref(&contract),
        agent.unwrap_or("todos")
    );

    Ok(NotificacaoSistema::Created(WithAgent {
        answer: ctx.outcome(
            1,
            "Notificação criada no sistema",
            &contract,
            Some(protocol),
        ),
        uraagent: agent.map(str::to_string),
    }))
}
