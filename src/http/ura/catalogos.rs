//! The catalogs (CONTRACT.md §3) an integrator configures a bot from:
//! `api/os/ocorrencia/tipo/list/`, `api/ura/motivoos/list/`, `api/ura/setor/list/`.
//! Inactive entries are listed too, with `"ativo":false`: a bot learns that an id it holds
//! is no longer accepted.

use serde_json::Value;

use super::Ctx;
use super::answers::{self, CatalogEntry};
use crate::http::error::ApiError;
use crate::store::catalogs::{self, Catalog};

/// The router's name of each catalog (`path_arg`).
pub fn from_route(name: &str) -> Option<Catalog> {
    match name {
        "ocorrenciatipo" => Some(Catalog::TicketTypes),
        "motivoos" => Some(Catalog::WorkOrderReasons),
        "setor" => Some(Catalog::Sectors),
        _ => None,
    }
}

pub async fn run(ctx: &Ctx) -> Result<Value, ApiError> {
    answers::to_value(list(ctx).await?)
}

async fn list(ctx: &Ctx) -> Result<Vec<CatalogEntry>, ApiError> {
    let catalog = ctx
        .path_arg
        .as_deref()
        .and_then(from_route)
        .ok_or_else(ApiError::not_found)?;
    let mut conn = ctx.state.store.acquire().await?;
    let entries = catalogs::list(&mut conn, catalog).await?;
    Ok(entries
        .into_iter()
        .map(|e| CatalogEntry {
            id: e.id,
            descricao: e.description,
            ativo: e.active != 0,
        })
        .collect())
}
