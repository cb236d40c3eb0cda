//! The fields of `manutencao/add/` and `manutencao/edit/`, read from the parameters and
//! checked by the rules the admin API shares (`domain::maintenance`). Every bad field is a
//! `400` naming it, before anything is written.

use chrono_tz::Tz;
use serde_json::Value;

use crate::domain::maintenance::{self, Changes, Invalid, Reason};
use crate::http::error::ApiError;
use crate::http::params::Params;
use crate::store::maintenances::WriteError;

/// A refused field in the URA's words.
pub fn refused(e: Invalid) -> ApiError {
    match e.reason {
        Reason::Required => ApiError::required(e.field),
        Reason::Bad(why) => {
            ApiError::bad_request(format!("Parâmetro '{}' inválido: {why}", e.field))
        }
        Reason::Unknown { what, id } => ApiError::bad_request(format!(
            "Parâmetro '{}' inválido: {what} {id} não encontrado.",
            e.field
        )),
    }
}

pub fn write_error(e: WriteError) -> ApiError {
    match e {
        WriteError::Invalid(e) => refused(e),
        WriteError::Db(e) => e.into(),
    }
}

/// What the caller gave (empty parameters count as absent). A new maintenance needs
/// `descricao`.
pub fn changes(params: &Params, tz: Tz, new: bool) -> Result<Changes, ApiError> {
    Changes::read(
        |name| params.get(name).map(|v| Value::String(v.to_string())),
        tz,
        new,
    )
    .map_err(refused)
}

/// `ativas` of `manutencao/list/`: 1 (or `true`) for those in force only.
pub fn only_in_force(params: &Params) -> Result<bool, ApiError> {
    maintenance::only_in_force(params.get("ativas")).map_err(refused)
}
