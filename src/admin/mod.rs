//! The admin API under `{base}/admin/api/v1/` (JSON; `Authorization: Bearer` with a token
//! from `ura admin-token add NAME`, separate from the URA apps' tokens): the provider's data
//! (see `resources`), and the audit trail.

mod crud;
mod maintenances;
pub mod resource;
pub mod resources;

use std::collections::HashMap;
use std::sync::Arc;

use axum::Router;
use axum::extract::{Query, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use chrono::{DateTime, NaiveDate, NaiveDateTime, Utc};
use serde_json::{Value, json};

use crate::app::AppState;
use crate::observe::audit::{self, Filter};
use crate::store::{admin_tokens, is_unavailable};

const DEFAULT_LIMIT: i64 = 100;
const MAX_LIMIT: i64 = 1000;

pub fn router() -> Router<Arc<AppState>> {
    Router::new()
        .route("/admin/api/v1/auditoria", get(audit_list))
        // Static segments win over `{recurso}` (matchit), so these answer for maintenances.
        .route(
            "/admin/api/v1/manutencoes",
            get(maintenances::list).post(maintenances::create),
        )
        .route(
            "/admin/api/v1/manutencoes/{id}",
            get(maintenances::get)
                .patch(maintenances::update)
                .put(maintenances::update)
                .delete(maintenances::delete),
        )
        .route(
            "/admin/api/v1/{recurso}",
            get(crud::list).post(crud::create),
        )
        .route(
            "/admin/api/v1/{recurso}/{id}",
            get(crud::get).patch(crud::update).put(crud::update),
        )
        .route("/admin/api/v1/faturas/{id}/{acao}", post(crud::settle))
}

/// A JSON answer that is not cached.
fn ok(status: StatusCode, body: Value) -> Response {
    (
        status,
        [(header::CACHE_CONTROL, "no-store")],
        axum::Json(body),
    )
        .into_response()
}

/// An error of the admin API: `{"detail": ...}`, naming the field when one is wrong.
pub(crate) fn error(status: StatusCode, detail: &str) -> Response {
    (
        status,
        [(header::CACHE_CONTROL, "no-store")],
        axum::Json(json!({ "detail": detail })),
    )
        .into_response()
}

pub(crate) fn db_error(e: sqlx::Error) -> Response {
    if is_unavailable(&e) {
        error(
            StatusCode::SERVICE_UNAVAILABLE,
            "Serviço temporariamente indisponível.",
        )
    } else {
        tracing::error!("admin: {e}");
        error(StatusCode::INTERNAL_SERVER_ERROR, "Erro interno.")
    }
}

/// The admin token's name, or the answer refusing the request.
pub(crate) async fn authenticate(
    state: &AppState,
    headers: &HeaderMap,
) -> Result<String, Response> {
    let token = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .map(str::trim)
        .filter(|t| !t.is_empty());
    let Some(token) = token else {
        return Err(error(
            StatusCode::UNAUTHORIZED,
            "Informe o token de administração em Authorization: Bearer.",
        ));
    };
    match admin_tokens::authenticate(&state.store, token).await {
        Ok(Some(name)) => Ok(name),
        Ok(None) => Err(error(
            StatusCode::UNAUTHORIZED,
            "Token de administração inválido.",
        )),
        Err(e) => Err(db_error(e)),
    }
}

/// `2026-11-29`, `2026-11-29T08:00:00` (local time) or RFC 3339.
fn parse_instant(state: &AppState, text: &str) -> Option<DateTime<Utc>> {
    let text = text.trim();
    if let Ok(t) = DateTime::parse_from_rfc3339(text) {
        return Some(t.to_utc());
    }
    let local = NaiveDateTime::parse_from_str(text, "%Y-%m-%dT%H:%M:%S")
        .or_else(|_| NaiveDateTime::parse_from_str(text, "%Y-%m-%d %H:%M:%S"))
        .ok()
        .or_else(|| {
            NaiveDate::parse_from_str(text, "%Y-%m-%d")
                .ok()
                .and_then(|d| d.and_hms_opt(0, 0, 0))
        })?;
    local
        .and_local_timezone(state.tz)
        .earliest()
        .map(|t| t.to_utc())
}

/// Paging parameters: `offset` (default 0) and `limit` (default 100, at most 1000); the
/// error names the field.
pub(crate) fn paging(query: &HashMap<String, String>) -> Result<(i64, i64), String> {
    let number = |name: &str, default: i64| match query.get(name).map(|v| v.trim()) {
        None | Some("") => Ok(default),
        Some(v) => v
            .parse::<i64>()
            .ok()
            .filter(|n| *n >= 0)
            .ok_or_else(|| format!("{name}: informe um número inteiro não negativo.")),
    };
    let offset = number("offset", 0)?;
    let limit = number("limit", DEFAULT_LIMIT)?;
    if limit == 0 || limit > MAX_LIMIT {
        return Err(format!("limit: de 1 a {MAX_LIMIT}."));
    }
    Ok((offset, limit))
}

/// `GET /admin/api/v1/auditoria?desde=&ate=&app=&rota=&contrato=&protocolo=&status=&offset=&limit=`
async fn audit_list(
    State(state): State<Arc<AppState>>,
    headers: HeaderMap,
    Query(query): Query<HashMap<String, String>>,
) -> Response {
    if let Err(r) = authenticate(&state, &headers).await {
        return r;
    }
    let (offset, limit) = match paging(&query) {
        Ok(p) => p,
        Err(message) => return error(StatusCode::BAD_REQUEST, &message),
    };
    let text = |name: &str| {
        query
            .get(name)
            .map(|v| v.trim().to_string())
            .filter(|v| !v.is_empty())
    };
    let mut filter = Filter {
        app: text("app"),
        route: text("rota"),
        protocol: text("protocolo"),
        ..Filter::default()
    };
    for (name, slot) in [("desde", &mut filter.since), ("ate", &mut filter.until)] {
        if let Some(v) = text(name) {
            match parse_instant(&state, &v) {
                Some(t) => *slot = Some(t),
                None => {
                    return error(
                        StatusCode::BAD_REQUEST,
                        &format!("{name}: use AAAA-MM-DD, AAAA-MM-DDTHH:MM:SS ou RFC 3339."),
                    );
                }
            }
        }
    }
    for (name, slot) in [
        ("contrato", &mut filter.contract_id),
        ("status", &mut filter.http_status),
    ] {
        if let Some(v) = text(name) {
            match v.parse::<i64>() {
                Ok(n) if n > 0 => *slot = Some(n),
                _ => {
                    return error(
                        StatusCode::BAD_REQUEST,
                        &format!("{name}: informe um número inteiro positivo."),
                    );
                }
            }
        }
    }
    match audit::list(&state.store, &filter, offset, limit).await {
        Ok((rows, total)) => {
            let partial = rows.len();
            let body: Value = json!({
                "paginacao": { "offset": offset, "limit": limit, "parcial": partial, "total": total },
                "registros": rows,
            });
            ([(header::CACHE_CONTROL, "no-store")], axum::Json(body)).into_response()
        }
        Err(e) => db_error(e),
    }
}
