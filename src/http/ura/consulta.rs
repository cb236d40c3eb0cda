//! `consultacliente` (CONTRACT.md §2.1): the caller's contracts by document or by id.

use serde_json::Value;

use super::Ctx;
use super::answers::{self, ConsultaCliente, ContractSummary, Reais};
use crate::domain::document;
use crate::http::error::ApiError;
use crate::store::contracts::{self, Summary};

pub async fn run(ctx: &Ctx) -> Result<Value, ApiError> {
    answers::to_value(answer(ctx).await?)
}

async fn answer(ctx: &Ctx) -> Result<ConsultaCliente, ApiError> {
    let id = ctx.params.int("contrato")?;
    let given_document = ctx.params.get("cpfcnpj");
    if id.is_none() && given_document.is_none() {
        return Err(ApiError::bad_request("Informe cpfcnpj ou contrato."));
    }
    let store = &ctx.state.store;
    let month = ctx.month();
    let found: Vec<Summary> = match id {
        Some(id) => contracts::summary_by_id(store, id, &month)
            .await?
            // Given both, the contract must belong to that document.
            .filter(|s| match given_document {
                None => true,
                Some(given) => {
                    document::parse(given).is_some_and(|d| d.as_str() == s.contract.document)
                }
            })
            .into_iter()
            .collect(),
        None => match given_document.and_then(document::parse) {
            Some(doc) => contracts::summaries_by_document(store, doc.as_str(), &month).await?,
            None => Vec::new(),
        },
    };
    let msg = (!found.is_empty()).then_some("Contrato(s) Localizado(s)");
    let contratos = found
        .into_iter()
        .map(|summary| {
            let contract = summary.contract;
            ContractSummary {
                contrato_id: contract.id,
                cpf_cnpj: document::format_str(&contract.document),
                razao_social: contract.customer_name,
                contrato_status: contract.status.code(),
                contrato_status_display: contract.status.display(),
                contrato_status_modo: contract.status_mode,
                contrato_valor_aberto: Reais(summary.open_cents.unwrap_or(0)),
                promessas_pagamento_mes: summary.promised,
                contrato_titulos_a_receber: summary.open_count,
                cliente_id: contract.customer_id,
                servico_login: summary.login.unwrap_or_default(),
                servico_plano: summary.plan_name.unwrap_or_default(),
                pop_id: contract.pop_id,
                pop_nome: contract.pop_name,
                cob_vencimento: contract.due_day,
            }
        })
        .collect();
    Ok(ConsultaCliente { msg, contratos })
}
