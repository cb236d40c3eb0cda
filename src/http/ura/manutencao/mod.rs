//! `manutencao/list/`, `manutencao/add/`, `manutencao/edit/`, `manutencao/delete/`
//! (CONTRACT.md §3): the maintenances that `verificaacesso` tells callers about.
//!
//! Not found (edit, delete): `200`, `{"status":0,"msg":"Manutenção não localizada","id":N}`,
//! the contract's business outcome, like the common "Contrato não localizado".

mod input;

use serde_json::{Value, json};

use super::Ctx;
use crate::domain::maintenance;
use crate::http::error::ApiError;
use crate::store::maintenances::{self, Which};

/// The four routes, as the router names them (`path_arg`).
pub const ACTIONS: [&str; 4] = ["list", "add", "edit", "delete"];

pub async fn run(ctx: &Ctx) -> Result<Value, ApiError> {
    match ctx.path_arg.as_deref() {
        Some("list") => list(ctx).await,
        Some("add") => add(ctx).await,
        Some("edit") => edit(ctx).await,
        Some("delete") => delete(ctx).await,
        _ => Err(ApiError::not_found()),
    }
}

fn not_found(id: i64) -> Value {
    json!({"status": 0, "msg": "Manutenção não localizada", "id": id})
}

async fn list(ctx: &Ctx) -> Result<Value, ApiError> {
    let which = if input::only_in_force(&ctx.params)? {
        Which::InForce(ctx.now)
    } else {
        Which::All
    };
    let mut conn = ctx.state.store.acquire().await?;
    let found = maintenances::read(&mut conn, which).await?;
    Ok(Value::Array(
        found
            .iter()
            .map(|m| maintenance::to_json(m, ctx.state.tz))
            .collect(),
    ))
}

async fn add(ctx: &Ctx) -> Result<Value, ApiError> {
    let changes = input::changes(&ctx.params, ctx.state.tz, true)?;
    let created = maintenances::create(&ctx.state.store, &changes, ctx.now)
        .await
        .map_err(input::write_error)?;
    tracing::info!(id = created.id, app = %ctx.app.name, "manutenção criada");
    Ok(maintenance::to_json(&created, ctx.state.tz))
}

async fn edit(ctx: &Ctx) -> Result<Value, ApiError> {
    let id = ctx.params.required_int("id")?;
    let changes = input::changes(&ctx.params, ctx.state.tz, false)?;
    let Some(updated) = maintenances::change(&ctx.state.store, id, &changes, ctx.now)
        .await
        .map_err(input::write_error)?
    else {
        return Ok(not_found(id));
    };
    tracing::info!(id, app = %ctx.app.name, status = updated.fields.status, "manutenção alterada");
    Ok(maintenance::to_json(&updated, ctx.state.tz))
}

async fn delete(ctx: &Ctx) -> Result<Value, ApiError> {
    let id = ctx.params.required_int("id")?;
    if !maintenances::remove(&ctx.state.store, id).await? {
        return Ok(not_found(id));
    }
    tracing::info!(id, app = %ctx.app.name, "manutenção removida");
    Ok(json!({"status": 1, "msg": "Manutenção removida", "id": id}))
}
