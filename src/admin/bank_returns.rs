//! Bank return files in the admin API: `POST /admin/api/v1/retornos` (the file as the raw
//! body, or as the multipart field `arquivo`) answers the import's report;
//! `GET /admin/api/v1/retornos` lists the files imported and `GET .../retornos/{id}` shows
//! one with its lines. `GET /admin/api/v1/faturas/{id}/historico` is an invoice's history
//! (what the bank's files and the PSPs said about it).

use std::collections::HashMap;
use std::sync::Arc;

use axum::body::{Body, Bytes};
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use http_body_util::BodyExt;
use serde::Serialize;

use super::{AdminState, AdminToken, db_error, error, list_query, ok};
use crate::domain::paging::Page;
use crate::services::bank_returns::{ImportError, file_name};

/// A file that did not read: which line and field, and why.
#[derive(Serialize)]
struct Unreadable<'a> {
    detail: String,
    linha: usize,
    campo: &'a str,
}

/// Why an upload was not taken.
pub enum Upload {
    TooLarge(usize),
    Bad(String),
}

impl Upload {
    fn answer(self) -> Response {
        match self {
            Upload::TooLarge(max) => error(
                StatusCode::PAYLOAD_TOO_LARGE,
                &format!("arquivo: maior que {max} bytes (retorno.tamanho_max)."),
            ),
            Upload::Bad(detail) => error(StatusCode::BAD_REQUEST, &detail),
        }
    }
}

/// The body, at most `max` bytes.
pub async fn read_limited(body: Body, max: usize) -> Result<Bytes, Upload> {
    match http_body_util::Limited::new(body, max).collect().await {
        Ok(collected) => Ok(collected.to_bytes()),
        Err(e) if e.is::<http_body_util::LengthLimitError>() => Err(Upload::TooLarge(max)),
        Err(e) => Err(Upload::Bad(format!("corpo não lido: {e}"))),
    }
}

/// The file of a request: the multipart field `arquivo` (with its file name), or the raw
/// body (named by `?nome=`).
async fn uploaded(
    headers: &HeaderMap,
    query: &HashMap<String, String>,
    body: Body,
    max: usize,
) -> Result<(String, Bytes), Upload> {
    let bytes = read_limited(body, max).await?;
    let content_type = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    let named = query
        .get("nome")
        .map(|n| n.trim().to_string())
        .filter(|n| !n.is_empty());
    let (name, file) = if content_type
        .to_ascii_lowercase()
        .starts_with("multipart/form-data")
    {
        let boundary = multer::parse_boundary(content_type)
            .map_err(|_| Upload::Bad("multipart sem boundary.".into()))?;
        let stream =
            futures_util::stream::once(async move { Ok::<_, std::convert::Infallible>(bytes) });
        let mut parts = multer::Multipart::new(stream, boundary);
        let mut found = None;
        loop {
            match parts.next_field().await {
                Ok(Some(field)) if field.name() == Some("arquivo") => {
                    let name = field.file_name().map(str::to_string);
                    let data = field
                        .bytes()
                        .await
                        .map_err(|e| Upload::Bad(format!("arquivo: multipart inválido: {e}")))?;
                    found = Some((name, data));
                }
                Ok(Some(_)) => {}
                Ok(None) => break,
                Err(e) => return Err(Upload::Bad(format!("multipart inválido: {e}"))),
            }
        }
        let Some((name, data)) = found else {
            return Err(Upload::Bad(
                "arquivo: envie o arquivo de retorno no campo multipart arquivo.".into(),
            ));
        };
        (name.or(named), data)
    } else {
        (named, bytes)
    };
    if file.iter().all(u8::is_ascii_whitespace) {
        return Err(Upload::Bad(
            "arquivo: vazio; envie o arquivo de retorno no corpo ou no campo multipart arquivo."
                .into(),
        ));
    }
    Ok((file_name(name), file))
}

/// The answer to a file that did not read: 400, naming the line and field.
pub fn refused(e: &crate::domain::cnab::ParseError) -> Response {
    (
        StatusCode::BAD_REQUEST,
        [(header::CACHE_CONTROL, "no-store")],
        axum::Json(Unreadable {
            detail: format!("Arquivo de retorno recusado: {e}. Nada foi importado."),
            linha: e.line,
            campo: &e.field,
        }),
    )
        .into_response()
}

/// `POST /admin/api/v1/retornos[?nome=ARQUIVO]`
pub async fn import(
    State(state): State<Arc<AdminState>>,
    admin: AdminToken,
    headers: HeaderMap,
    Query(query): Query<HashMap<String, String>>,
    body: Body,
) -> Response {
    let max = state.settings.retorno.tamanho_max;
    let (name, bytes) = match uploaded(&headers, &query, body, max).await {
        Ok(file) => file,
        Err(e) => return e.answer(),
    };
    let actor = format!("admin:{}", admin.name);
    match state
        .bank_returns
        .import_detached(name.clone(), bytes, actor)
        .await
    {
        Ok(report) => ok(StatusCode::OK, report),
        Err(ImportError::Refused(e)) => {
            tracing::info!(admin = %admin.name, arquivo = %name, "admin: retorno recusado: {e}");
            refused(&e)
        }
        Err(ImportError::Db(e)) => db_error(e),
    }
}

/// `GET /admin/api/v1/retornos?offset=&limit=`
pub async fn list(
    State(state): State<Arc<AdminState>>,
    _admin: AdminToken,
    Query(query): Query<HashMap<String, String>>,
) -> Response {
    let (offset, limit) = match list_query(&query, &["offset", "limit"]) {
        Ok(p) => p,
        Err(message) => return error(StatusCode::BAD_REQUEST, &message),
    };
    match state.bank_returns.list(offset, limit).await {
        Ok((rows, total)) => ok(StatusCode::OK, Page::new(offset, limit, total, rows)),
        Err(e) => db_error(e),
    }
}

fn positive(id: &str) -> Option<i64> {
    id.trim().parse::<i64>().ok().filter(|id| *id > 0)
}

/// `GET /admin/api/v1/retornos/{id}`
pub async fn get(
    State(state): State<Arc<AdminState>>,
    _admin: AdminToken,
    Path(id): Path<String>,
) -> Response {
    let not_found = || {
        error(
            StatusCode::NOT_FOUND,
            &format!("retorno {id} não encontrado."),
        )
    };
    let Some(n) = positive(&id) else {
        return not_found();
    };
    match state.bank_returns.get(n).await {
        Ok(Some(report)) => ok(StatusCode::OK, report),
        Ok(None) => not_found(),
        Err(e) => db_error(e),
    }
}

/// `GET /admin/api/v1/faturas/{id}/historico`: the invoice's events, oldest first.
pub async fn history(
    State(state): State<Arc<AdminState>>,
    _admin: AdminToken,
    Path(id): Path<String>,
) -> Response {
    let not_found = || {
        error(
            StatusCode::NOT_FOUND,
            &format!("fatura {id} não encontrada."),
        )
    };
    let Some(n) = positive(&id) else {
        return not_found();
    };
    match state.bank_returns.history(n).await {
        Ok(Some(events)) => ok(
            StatusCode::OK,
            serde_json::json!({ "fatura": n, "eventos": events }),
        ),
        Ok(None) => not_found(),
        Err(e) => db_error(e),
    }
}
