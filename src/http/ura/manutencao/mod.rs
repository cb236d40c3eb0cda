//! `manutencao/list/`, `manutencao/add/`, `manutencao/edit/`, `manutencao/delete/`
//! (CONTRACT.md §3): the maintenances that `verificaacesso` tells callers about.
//!
//! Not found (edit, delete): `200`, `{"status":0,"msg":"Manutenção não localizada","id":N}`,
//! the contract's business outcome, like the common "Contrato não localizado".

mod input;

use serde_json::Value;

use super::Ctx;
use super::answers::{self, Maintenance, MaintenanceEdited, MaintenanceStatus};
use crate::http::error::ApiError;
use crate::store::maintenances::{self, Which};

/// The four routes, as the router names them (`path_arg`).
pub const ACTIONS: [&str; 4] = ["list", "add", "edit", "delete"];

pub async fn run(ctx: &Ctx) -> Result<Value, ApiError> {
    match ctx.path_arg.as_deref() {
        Some("list") => answers::to_value(list(ctx).await?),
        Some("add") => answers::to_value(add(ctx).await?),
        Some("edit") => answers::to_value(edit(ctx).await?),
        Some("delete") => answers::to_value(delete(ctx).await?),
        _ => Err(ApiError::not_found()),
    }
}

fn not_found(id: i64) -> MaintenanceStatus {
    MaintenanceStatus {
        status: 0,
        msg: "Manutenção não localizada",
        id,
    }
}

async fn list(ctx: &Ctx) -> Result<Vec<Maintenance>, ApiError> {
    let which = if input::only_in_force(&ctx.params)? {
        Which::InForce(ctx.now)
    } else {
        Which::All
    };
    let mut conn = ctx.state.store.acquire().await?;
    let found = maintenances::read(&mut conn, which).await?;
    Ok(found
        .iter()
        .map(|m| Maintenance::new(m, ctx.state.tz))
        .collect())
}

async fn add(ctx: &Ctx) -> Result<Maintenance, ApiError> {
    let changes = input::changes(&ctx.params, ctx.state.tz, true)?;
    let created = maintenances::create(&ctx.state.store, &changes, ctx.now)
        .await
        .map_err(input::write_error)?;
    tracing::info!(id = created.id, app = %ctx.app.name, "manutenção criada");
    Ok(Maintenance::new(&created, ctx.state.tz))
}

async fn edit(ctx: &Ctx) -> Result<MaintenanceEdited, ApiError> {
    let id = ctx.params.required_int("id")?;
    let changes = input::changes(&ctx.params, ctx.state.tz, false)?;
    let Some(updated) = maintenances::change(&ctx.state.store, id, &changes, ctx.now)
        .await
        .map_err(input::write_error)?
    else {
        return Ok(MaintenanceEdited::NotFound(not_found(id)));
    };
    tracing::info!(id, app = %ctx.app.name, status = updated.fields.status, "manutenção alterada");
    Ok(MaintenanceEdited::Changed(Maintenance::new(
        &updated,
        ctx.state.tz,
    )))
}

async fn delete(ctx: &Ctx) -> Result<MaintenanceStatus, ApiError> {
    let id = ctx.params.required_int("id")?;
    if !maintenances::remove(&ctx.state.store, id).await? {
        return Ok(not_found(id));
    }
    tracing::info!(id, app = %ctx.app.name, "manutenção removida");
    Ok(MaintenanceStatus {
        status: 1,
        msg: "Manutenção removida",
        id,
    })
}
