//! `consultacliente` (CONTRACT.md §2.1): the caller's contracts by document or by id.

use serde_json::{Map, Value, json};

use super::Ctx;
use crate::domain::{document, money, status};
use crate::http::error::ApiError;
use crate::store::contracts::{self, Contract};
use crate::store::promises;

pub async fn run(ctx: &Ctx) -> Result<Value, ApiError> {
    let id = ctx.params.int("contrato")?;
    let given_document = ctx.params.get("cpfcnpj");
    if id.is_none() && given_document.is_none() {
        return Err(ApiError::bad_request("Informe cpfcnpj ou contrato."));
    }
    let store = &ctx.state.store;
    let found: Vec<Contract> = match id {
        Some(id) => {
            let mut conn = store.pool.acquire().await?;
            ctx.find_contract(&mut conn, id)
                .await?
                .into_iter()
                .collect()
        }
        None => match given_document.and_then(document::parse) {
            Some(doc) => contracts::by_document(store, doc.as_str()).await?,
            None => Vec::new(),
        },
    };
    if found.is_empty() {
        return Ok(json!({ "contratos": [] }));
    }
    let month = ctx.month();
    let mut conn = store.pool.acquire().await?;
    let mut list = Vec::with_capacity(found.len());
    for contract in &found {
        let services = contracts::services(&mut conn, contract.id).await?;
        let balance = contracts::open_balance(&mut conn, contract.id).await?;
        let promised = promises::count_in_month(&mut conn, contract.id, &month).await?;
        let first = services.first();
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
            json!(status::display(contract.status)),
        );
        item.insert("contratoStatusModo".into(), json!(contract.status_mode));
        item.insert("contratoValorAberto".into(), money::reais(balance.cents));
        item.insert("promessasPagamentoMes".into(), json!(promised));
        item.insert("contratoTitulosAReceber".into(), json!(balance.count));
        item.insert("clienteId".into(), json!(contract.customer_id));
        item.insert(
            "servico_login".into(),
            json!(first.map(|s| s.login.as_str()).unwrap_or("")),
        );
        item.insert(
            "servico_plano".into(),
            json!(first.and_then(|s| s.plan_name.as_deref()).unwrap_or("")),
        );
        item.insert("popId".into(), json!(contract.pop_id));
        item.insert("popNome".into(), json!(contract.pop_name));
        item.insert("cobVencimento".into(), json!(contract.due_day));
        list.push(Value::Object(item));
    }
    Ok(json!({ "msg": "Contrato(s) Localizado(s)", "contratos": list }))
}
