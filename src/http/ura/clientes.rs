//! `clientes` (CONTRACT.md §3): customers by document, contract or a prefix of the name
//! (case- and accent-insensitive), paginated, each with its contracts.

use std::collections::HashMap;

use serde_json::Value;

use super::Ctx;
use super::answers::{self, Clientes, CustomerContract, CustomerItem};
use super::paging::Paging;
use crate::domain::document;
use crate::http::error::ApiError;
use crate::store::customers::{self, ContractLine, Filter};

pub async fn run(ctx: &Ctx) -> Result<Value, ApiError> {
    answers::to_value(answer(ctx).await?)
}

async fn answer(ctx: &Ctx) -> Result<Clientes, ApiError> {
    let contract_id = ctx.params.int("contrato")?;
    let paging = Paging::from_params(&ctx.params)?;
    let answer = |clientes: Vec<CustomerItem>, total: i64| Clientes {
        paginacao: paging.answer(clientes.len(), total),
        clientes,
    };
    // A malformed document or one with wrong check digits is simply not found.
    let document = match ctx.params.get("cpfcnpj") {
        None => None,
        Some(given) => match document::parse(given) {
            Some(doc) => Some(doc.as_str().to_string()),
            None => return Ok(answer(Vec::new(), 0)),
        },
    };
    let filter = Filter {
        document,
        contract_id,
        name_prefix: ctx.params.get("nome").map(|n| n.trim().to_string()),
    };
    let store = &ctx.state.store;
    let (found, total) = customers::page(store, &filter, paging.offset, paging.limit).await?;
    let ids: Vec<i64> = found.iter().map(|c| c.id).collect();
    let mut contracts: HashMap<i64, Vec<CustomerContract>> = HashMap::new();
    for line in customers::contracts_of(store, &ids).await? {
        let ContractLine {
            id,
            customer_id,
            status,
        } = line;
        contracts
            .entry(customer_id)
            .or_default()
            .push(CustomerContract {
                id,
                status: status.code(),
                status_display: status.name(),
            });
    }
    let items = found
        .into_iter()
        .map(|c| CustomerItem {
            id: c.id,
            cpfcnpj: document::format_str(&c.document),
            contratos: contracts.remove(&c.id).unwrap_or_default(),
            nome: c.name,
        })
        .collect();
    Ok(answer(items, total))
}
