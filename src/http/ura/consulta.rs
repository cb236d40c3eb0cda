//! `consultacliente` (CONTRACT.md §2.1): the caller's contracts by document or by id.

use serde_json::{Map, Value, json};

use super::Ctx;
use crate::domain::{document, money};
use crate::http::error::ApiError;
use crate::store::contracts::{self, Summary};

pub async fn run(ctx: &Ctx) -> Result<Value, ApiError> {
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
    if found.is_empty() {
        return Ok(json!({ "contratos": [] }));
    }
    let mut list = Vec::with_capacity(found.len());
    for summary in &found {
        let contract = &summary.contract;
        let mut item = Map::new();
        item.insert("contratoId".into(), json!(contract.id));
        item.insert("razaoSocial".into(), json!(contract.customer_name));
        item.insert(
            "cpfCnpj".into(),
            json!(document::format_str(&contract.document)),
        );
        item.insert("contratoStatus".into(), json!(contract.status));
        item.insert(
            "contratoStatusDisplay".into(),
            json!(contract.status.display()),
        );
        item.insert("contratoStatusModo".into(), json!(contract.status_mode));
        item.insert(
            "contratoValorAberto".into(),
            money::reais(summary.open_cents.unwrap_or(0)),
        );
        item.insert("promessasPagamentoMes".into(), json!(summary.promised));
        item.insert("contratoTitulosAReceber".into(), json!(summary.open_count));
        item.insert("clienteId".into(), json!(contract.customer_id));
        item.insert(
            "servico_login".into(),
            json!(summary.login.as_deref().unwrap_or("")),
        );
        item.insert(
            "servico_plano".into(),
            json!(summary.plan_name.as_deref().unwrap_or("")),
        );
        item.insert("popId".into(), json!(contract.pop_id));
        item.insert("popNome".into(), json!(contract.pop_name));
        item.insert("cobVencimento".into(), json!(contract.due_day));
        list.push(Value::Object(item));
    }
    Ok(json!({ "msg": "Contrato(s) Localizado(s)", "contratos": list }))
}
