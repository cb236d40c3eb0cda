//! `chamado` (CONTRACT.md §2.6): open a ticket with a work order.

use serde_json::Value;

use super::Ctx;
use super::answers::{self, Chamado};
use crate::http::error::ApiError;
use crate::services::{self, protocols::TicketSpec};
use crate::store::catalogs;
use crate::store::protocols::Owner;

const DEFAULT_TYPE: i64 = 5;
const DEFAULT_REASON: i64 = 40;
const DEFAULT_CONTENT: &str = "Chamado aberto via URA";

/// A catalog id: absent → the default; malformed → None (a business outcome, not a 400).
fn catalog_id(ctx: &Ctx, name: &str, default: i64) -> Option<i64> {
    match ctx.params.get(name) {
        None => Some(default),
        Some(v) => v.trim().parse().ok(),
    }
}

pub async fn run(ctx: &Ctx) -> Result<Value, ApiError> {
    answers::to_value(answer(ctx).await?)
}

async fn answer(ctx: &Ctx) -> Result<Chamado, ApiError> {
    let id = ctx.params.required_int("contrato")?;
    let mut tx = ctx.state.store.write().await?;
    let Some(contract) = ctx.find_contract(&mut tx, id).await? else {
        return Ok(Chamado::NotFound(ctx.not_found(id)));
    };
    let refuse = |msg: &str| Ok(Chamado::Outcome(ctx.outcome(0, msg, &contract, None)));

    let type_id = catalog_id(ctx, "ocorrenciatipo", DEFAULT_TYPE);
    let type_ok = match type_id {
        Some(t) => catalogs::ticket_type_active(&mut tx, t).await?,
        None => false,
    };
    let (Some(type_id), true) = (type_id, type_ok) else {
        return refuse("Tipo de ocorrência inválido");
    };
    let reason_id = catalog_id(ctx, "motivoos", DEFAULT_REASON);
    let reason_ok = match reason_id {
        Some(r) => catalogs::reason_active(&mut tx, r).await?,
        None => false,
    };
    let (Some(reason_id), true) = (reason_id, reason_ok) else {
        return refuse("Motivo de Ordem de Serviço inválido");
    };
    let sector_id = match ctx.params.get("setor") {
        None => None,
        Some(given) => match catalogs::sector(&mut tx, given).await? {
            Some(s) => Some(s),
            None => return refuse("Setor inválido"),
        },
    };

    let protocol = services::protocols::open(
        &mut tx,
        ctx.now,
        ctx.today,
        Owner {
            contract_id: Some(id),
            customer_id: contract.customer_id,
            origin: "chamado",
        },
        ctx.params.get("protocolo"),
        Some(TicketSpec {
            work_order_reason: Some(reason_id),
            ..ctx.ticket(
                type_id,
                sector_id,
                ctx.params.get("conteudo").unwrap_or(DEFAULT_CONTENT),
            )
        }),
    )
    .await?
    .protocol;
    tx.commit().await?;
    tracing::info!(
        "{} chamado aberto, protocolo {protocol}",
        Ctx::log_ref(&contract)
    );

    Ok(Chamado::Outcome(ctx.outcome(
        1,
        "",
        &contract,
        Some(protocol),
    )))
}
