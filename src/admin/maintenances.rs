//! Maintenances in the admin API: `/admin/api/v1/manutencoes` (list, create) and
//! `/admin/api/v1/manutencoes/{id}` (read, change, remove). The shape, the checks and the
//! writes are those of the URA's `manutencao/*` routes (`domain::maintenance`,
//! `store::maintenances`); only the wording differs: a refused field is
//! `{"detail":"campo: motivo"}`.

use std::collections::HashMap;
use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use chrono::Utc;
use serde_json::{Map, Value, json};

use super::{AdminState, AdminToken, JsonBody, db_error, error, ok, paging};
use crate::domain::maintenance::{self, Changes, Coverage, Invalid, Maintenance, Reason};
use crate::domain::paging::Page;
use crate::store::maintenances::{self, Filter, WriteError};

/// Why a request was not done, answered as `{"detail": ...}`.
#[derive(Debug)]
enum Failure {
    Refused(StatusCode, String),
    Db(sqlx::Error),
}

impl Failure {
    fn bad_request(detail: String) -> Failure {
        Failure::Refused(StatusCode::BAD_REQUEST, detail)
    }

    fn answer(self) -> Response {
        match self {
            Failure::Refused(status, detail) => error(status, &detail),
            Failure::Db(e) => db_error(e),
        }
    }
}

impl From<sqlx::Error> for Failure {
    fn from(e: sqlx::Error) -> Self {
        Failure::Db(e)
    }
}

/// A refused field in the admin API's words: `campo: motivo`.
impl From<Invalid> for Failure {
    fn from(e: Invalid) -> Self {
        let detail = match e.reason {
            Reason::Required => format!("{}: obrigatório.", e.field),
            Reason::Bad(why) => format!("{}: {why}", e.field),
            Reason::Unknown { what, id } => format!("{}: {what} {id} não existe.", e.field),
        };
        Failure::bad_request(detail)
    }
}

impl From<WriteError> for Failure {
    fn from(e: WriteError) -> Self {
        match e {
            WriteError::Invalid(e) => e.into(),
            WriteError::Db(e) => e.into(),
        }
    }
}

fn not_found(id: impl std::fmt::Display) -> Failure {
    Failure::Refused(
        StatusCode::NOT_FOUND,
        format!("manutenção {id} não encontrada."),
    )
}

fn parse_id(text: &str) -> Result<i64, Failure> {
    text.trim()
        .parse::<i64>()
        .ok()
        .filter(|id| *id > 0)
        .ok_or_else(|| not_found(text))
}

/// The body as a JSON object.
fn body_object(body: &Bytes) -> Result<Map<String, Value>, Failure> {
    match serde_json::from_slice::<Value>(body) {
        Ok(Value::Object(map)) => Ok(map),
        Ok(_) => Err(Failure::bad_request(
            "O corpo deve ser um objeto JSON.".into(),
        )),
        Err(e) => Err(Failure::bad_request(format!("JSON inválido: {e}"))),
    }
}

/// The fields of a body, checked: unknown fields and `id` are refused first.
fn changes(state: &AdminState, body: &Bytes, new: bool) -> Result<Changes, Failure> {
    let body = body_object(body)?;
    for key in body.keys() {
        if key == "id" {
            return Err(Failure::bad_request("id: campo somente leitura.".into()));
        }
        if !maintenance::WRITABLE.contains(&key.as_str()) {
            return Err(Failure::bad_request(format!("{key}: campo desconhecido.")));
        }
    }
    Ok(Changes::read(
        |name| body.get(name).cloned(),
        state.tz,
        new,
    )?)
}

fn shown(state: &AdminState, m: &Maintenance) -> Value {
    maintenance::to_json(m, state.tz)
}

/// The answer: the value with `status`, or the failure.
fn respond(status: StatusCode, result: Result<Value, Failure>) -> Response {
    match result {
        Ok(value) => ok(status, value),
        Err(f) => f.answer(),
    }
}

/// A list filter that names a POP, network element or NAS: a positive id of an existing row.
async fn coverage_filter(
    conn: &mut crate::store::Conn,
    key: &str,
    value: &str,
    coverage: Coverage,
) -> Result<i64, Failure> {
    let Some(id) = value.parse::<i64>().ok().filter(|id| *id > 0) else {
        return Err(Failure::bad_request(format!(
            "{key}: informe um número inteiro positivo."
        )));
    };
    if maintenances::first_unknown(conn, coverage, &[id])
        .await?
        .is_some()
    {
        return Err(Failure::bad_request(format!(
            "{key}: {} {id} não existe.",
            coverage.label()
        )));
    }
    Ok(id)
}

/// `GET /admin/api/v1/manutencoes?ativas=&status=&pop_id=&nas_id=&elemento_id=&offset=&limit=`
pub async fn list(
    State(state): State<Arc<AdminState>>,
    _admin: AdminToken,
    Query(query): Query<HashMap<String, String>>,
) -> Response {
    let result = async {
        let (offset, limit) = paging(&query).map_err(Failure::bad_request)?;
        let mut conn = state.store.acquire().await?;
        let mut filter = Filter::default();
        for (key, value) in &query {
            let value = value.trim();
            if value.is_empty() || matches!(key.as_str(), "offset" | "limit") {
                continue;
            }
            match key.as_str() {
                "ativas" => {
                    if maintenance::only_in_force(Some(value))? {
                        filter.in_force = Some(Utc::now());
                    }
                }
                "status" => {
                    filter.status = Some(maintenance::level("status", &json!(value))?);
                }
                "pop_id" => {
                    filter.pop =
                        Some(coverage_filter(&mut conn, key, value, Coverage::Pops).await?);
                }
                "elemento_id" => {
                    filter.element =
                        Some(coverage_filter(&mut conn, key, value, Coverage::Elements).await?);
                }
                "nas_id" => {
                    filter.nas = Some(coverage_filter(&mut conn, key, value, Coverage::Nas).await?);
                }
                _ => {
                    return Err(Failure::bad_request(format!(
                        "{key}: não é um filtro desta lista."
                    )));
                }
            }
        }
        let (found, total) = maintenances::page(&mut conn, &filter, offset, limit).await?;
        let rows: Vec<Value> = found.iter().map(|m| shown(&state, m)).collect();
        Ok(serde_json::to_value(Page::new(offset, limit, total, rows)).unwrap_or_default())
    }
    .await;
    respond(StatusCode::OK, result)
}

/// `GET /admin/api/v1/manutencoes/{id}`
pub async fn get(
    State(state): State<Arc<AdminState>>,
    _admin: AdminToken,
    Path(id): Path<String>,
) -> Response {
    let result = async {
        let id = parse_id(&id)?;
        let mut conn = state.store.acquire().await?;
        match maintenances::read(&mut conn, maintenances::Which::One(id))
            .await?
            .pop()
        {
            Some(m) => Ok(shown(&state, &m)),
            None => Err(not_found(id)),
        }
    }
    .await;
    respond(StatusCode::OK, result)
}

/// `POST /admin/api/v1/manutencoes`: `descricao` required, the rest as `manutencao/add/`.
pub async fn create(
    State(state): State<Arc<AdminState>>,
    admin: AdminToken,
    JsonBody(body): JsonBody,
) -> Response {
    let who = admin.name;
    let result = async {
        let changes = changes(&state, &body, true)?;
        let created = maintenances::create(&state.store, &changes, Utc::now()).await?;
        tracing::info!(admin = %who, id = created.id, "admin: manutenção criada");
        Ok(shown(&state, &created))
    }
    .await;
    respond(StatusCode::CREATED, result)
}

/// `PATCH|PUT /admin/api/v1/manutencoes/{id}`: only the fields given change; a list given
/// replaces the old one.
pub async fn update(
    State(state): State<Arc<AdminState>>,
    admin: AdminToken,
    Path(id): Path<String>,
    JsonBody(body): JsonBody,
) -> Response {
    let who = admin.name;
    let result = async {
        let id = parse_id(&id)?;
        let changes = changes(&state, &body, false)?;
        let Some(updated) = maintenances::change(&state.store, id, &changes, Utc::now()).await?
        else {
            return Err(not_found(id));
        };
        tracing::info!(
            admin = %who, id, status = updated.fields.status, "admin: manutenção alterada"
        );
        Ok(shown(&state, &updated))
    }
    .await;
    respond(StatusCode::OK, result)
}

/// `DELETE /admin/api/v1/manutencoes/{id}`: `204`, or `404` when there is none.
pub async fn delete(
    State(state): State<Arc<AdminState>>,
    admin: AdminToken,
    Path(id): Path<String>,
) -> Response {
    let who = admin.name;
    let result = async {
        let id = parse_id(&id)?;
        if !maintenances::remove(&state.store, id).await? {
            return Err(not_found(id));
        }
        tracing::info!(admin = %who, id, "admin: manutenção removida");
        Ok(())
    }
    .await;
    match result {
        Ok(()) => (
            StatusCode::NO_CONTENT,
            [(header::CACHE_CONTROL, "no-store")],
        )
            .into_response(),
        Err(f) => f.answer(),
    }
}
