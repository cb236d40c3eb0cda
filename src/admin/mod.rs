//! The admin API under `{base}/admin/api/v1/` (JSON; `Authorization: Bearer` with a token
//! from `ura admin-token add NAME`, separate from the URA apps' tokens): the provider's data
//! (see `resources`), the audit trail, and the PIX notices received. May import `services`
//! and everything below it; never `app` or another transport.

mod bank_returns;
mod crud;
mod maintenances;
mod pix;

use std::collections::HashMap;
use std::net::{IpAddr, SocketAddr};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::Router;
use axum::body::{Body, Bytes};
use axum::extract::{ConnectInfo, FromRef, FromRequest, FromRequestParts, Query, State};
use axum::http::request::Parts;
use axum::http::{HeaderValue, Request, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use chrono::{DateTime, NaiveDate, NaiveDateTime, Utc};
use chrono_tz::Tz;

use crate::domain::failures::Failures;
use crate::domain::forwarded;
use crate::domain::paging::Page;
use crate::services::bank_returns::BankReturns;
use crate::services::dunning::{Dunning, RunReport};
use crate::services::settle::Settlement;
use crate::settings::Settings;
use crate::store::Store;
use crate::store::audit::{self, Filter};
use crate::store::{admin_tokens, is_unavailable};

const DEFAULT_LIMIT: i64 = 100;
const MAX_LIMIT: i64 = 1000;

pub fn router<S>() -> Router<S>
where
    S: Clone + Send + Sync + 'static,
    Arc<AdminState>: FromRef<S>,
{
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
            "/admin/api/v1/retornos",
            get(bank_returns::list).post(bank_returns::import),
        )
        .route("/admin/api/v1/retornos/{id}", get(bank_returns::get))
        .route(
            "/admin/api/v1/{recurso}",
            get(crud::list).post(crud::create),
        )
        .route(
            "/admin/api/v1/{recurso}/{id}",
            get(crud::get).patch(crud::update).put(crud::update),
        )
        .route("/admin/api/v1/faturas/{id}/{acao}", post(crud::settle))
        .route(
            "/admin/api/v1/faturas/{id}/historico",
            get(bank_returns::history),
        )
        .route("/admin/api/v1/cobranca/executar", post(dunning_run))
        .route("/admin/api/v1/pix", get(pix::list))
}

/// A JSON answer that is not cached.
fn ok(status: StatusCode, body: impl serde::Serialize) -> Response {
    (
        status,
        [(header::CACHE_CONTROL, "no-store")],
        axum::Json(body),
    )
        .into_response()
}

/// The body of every refusal: `{"detail": ...}`.
#[derive(serde::Serialize)]
struct Detail<'a> {
    detail: &'a str,
}

/// An error of the admin API: `{"detail": ...}`, naming the field when one is wrong.
pub(crate) fn error(status: StatusCode, detail: &str) -> Response {
    (
        status,
        [(header::CACHE_CONTROL, "no-store")],
        axum::Json(Detail { detail }),
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

/// How long wrong admin tokens of one address are counted (as for the URA's apps).
const FAILURE_WINDOW: Duration = Duration::from_secs(5 * 60);

/// What the admin API's routes need.
pub struct AdminState {
    pub store: Store,
    pub settings: Arc<Settings>,
    pub tz: Tz,
    /// Invoices paid or cancelled (and the line given back).
    pub settlement: Settlement,
    /// The dunning rule's run.
    pub dunning: Dunning,
    /// Wrong tokens per client address: after `limites.falhas_autenticacao` of them in five
    /// minutes, the address waits (`429`), like the URA's.
    failures: Mutex<Failures<IpAddr>>,
    trusted_proxies: Vec<ipnet::IpNet>,
    /// Bank return files imported.
    pub bank_returns: BankReturns,
}

impl AdminState {
    pub fn new(
        store: Store,
        settings: Arc<Settings>,
        tz: Tz,
        settlement: Settlement,
        dunning: Dunning,
        bank_returns: BankReturns,
    ) -> Result<AdminState, String> {
        let trusted_proxies =
            crate::settings::parse_networks(&settings.limites.proxies_confiaveis)?;
        Ok(AdminState {
            failures: Mutex::new(Failures::new(
                settings.limites.falhas_autenticacao,
                FAILURE_WINDOW,
            )),
            trusted_proxies,
            store,
            settings,
            tz,
            settlement,
            dunning,
            bank_returns,
        })
    }

    /// The address wrong tokens are counted under: the client's as the trusted proxies tell
    /// it, else the peer's.
    fn client_key(&self, parts: &Parts) -> Option<IpAddr> {
        let peer = parts
            .extensions
            .get::<ConnectInfo<SocketAddr>>()
            .map(|c| c.0.ip().to_canonical())?;
        let values = parts
            .headers
            .get_all("x-forwarded-for")
            .iter()
            .map(|v| v.to_str().unwrap_or("\u{0}"));
        let trusted = |ip: IpAddr| self.trusted_proxies.iter().any(|n| n.contains(&ip));
        Some(
            forwarded::client(peer, values, trusted)
                .ip()
                .unwrap_or(peer),
        )
    }

    /// Forgets addresses whose failures are old (called from time to time).
    pub fn tidy(&self) {
        self.failures
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .tidy(Instant::now());
    }

    /// The operator's local date of an instant.
    pub fn local_date(&self, t: DateTime<Utc>) -> NaiveDate {
        t.with_timezone(&self.tz).date_naive()
    }
}

/// The name of the admin token that authenticated the request. A handler that takes one
/// cannot skip the check: only this extractor makes one.
pub struct AdminToken {
    pub name: String,
}

/// Why a request is not let into the admin API.
#[derive(Debug)]
pub enum Refused {
    NoToken,
    BadToken,
    /// Too many wrong tokens from the address: wait this long.
    Paused(Duration),
    Db(sqlx::Error),
}

impl IntoResponse for Refused {
    fn into_response(self) -> Response {
        match self {
            Refused::NoToken => error(
                StatusCode::UNAUTHORIZED,
                "Informe o token de administração em Authorization: Bearer.",
            ),
            Refused::BadToken => {
                error(StatusCode::UNAUTHORIZED, "Token de administração inválido.")
            }
            Refused::Paused(wait) => {
                let mut r = error(
                    StatusCode::TOO_MANY_REQUESTS,
                    "Muitas tentativas com token incorreto: aguarde para tentar de novo.",
                );
                let seconds = wait.as_secs().max(1);
                if let Ok(v) = HeaderValue::from_str(&seconds.to_string()) {
                    r.headers_mut().insert(header::RETRY_AFTER, v);
                }
                r
            }
            Refused::Db(e) => db_error(e),
        }
    }
}

impl<S> FromRequestParts<S> for AdminToken
where
    S: Send + Sync,
    Arc<AdminState>: FromRef<S>,
{
    type Rejection = Refused;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<AdminToken, Refused> {
        let state = Arc::<AdminState>::from_ref(state);
        let client = state.client_key(parts);
        if let Some(ip) = client {
            let paused = state
                .failures
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .paused(&ip, Instant::now());
            if let Some(wait) = paused {
                return Err(Refused::Paused(wait));
            }
        }
        let token = parts
            .headers
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.strip_prefix("Bearer "))
            .map(str::trim)
            .filter(|t| !t.is_empty())
            .ok_or(Refused::NoToken)?;
        match admin_tokens::authenticate(&state.store, token).await {
            Ok(Some(name)) => Ok(AdminToken { name }),
            Ok(None) => {
                // Never the token itself: the address is what the operator needs.
                tracing::warn!(
                    endereco = client.map(|ip| ip.to_string()).unwrap_or_default(),
                    "admin: token de administração incorreto"
                );
                if let Some(ip) = client {
                    state
                        .failures
                        .lock()
                        .unwrap_or_else(|e| e.into_inner())
                        .failed(ip, Instant::now());
                }
                Err(Refused::BadToken)
            }
            Err(e) => Err(Refused::Db(e)),
        }
    }
}

/// A request body for the admin API: JSON (`Content-Type: application/json`, else `415`)
/// of at most `body_limit` bytes (else `413`). An empty body is let through: some actions
/// take none.
pub struct JsonBody(pub Bytes);

impl<S> FromRequest<S> for JsonBody
where
    S: Send + Sync,
    Arc<AdminState>: FromRef<S>,
{
    type Rejection = Response;

    async fn from_request(request: Request<Body>, state: &S) -> Result<JsonBody, Response> {
        let limit = Arc::<AdminState>::from_ref(state).settings.body_limit;
        let is_json = request
            .headers()
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.split(';').next())
            .map(|v| v.trim().to_ascii_lowercase())
            .is_some_and(|v| v == "application/json" || v.ends_with("+json"));
        let too_large = || {
            error(
                StatusCode::PAYLOAD_TOO_LARGE,
                &format!("Corpo muito grande: no máximo {limit} bytes."),
            )
        };
        let declared = request
            .headers()
            .get(header::CONTENT_LENGTH)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.trim().parse::<u64>().ok());
        if declared.is_some_and(|n| n > limit as u64) {
            return Err(too_large());
        }
        let body = http_body_util::Limited::new(request.into_body(), limit);
        let bytes = match http_body_util::BodyExt::collect(body).await {
            Ok(collected) => collected.to_bytes(),
            Err(e) if e.is::<http_body_util::LengthLimitError>() => return Err(too_large()),
            Err(_) => {
                return Err(error(
                    StatusCode::BAD_REQUEST,
                    "Corpo da requisição interrompido.",
                ));
            }
        };
        if !is_json && !bytes.iter().all(u8::is_ascii_whitespace) {
            return Err(error(
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                "Envie o corpo em JSON (Content-Type: application/json).",
            ));
        }
        Ok(JsonBody(bytes))
    }
}

/// `2026-11-29`, `2026-11-29T08:00:00` (local time) or RFC 3339.
fn parse_instant(state: &AdminState, text: &str) -> Option<DateTime<Utc>> {
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

/// A list's query string: a key that is not one of `known` is refused (the first in order, so
/// that the message does not depend on the map's), then the page (`offset`, `limit`). The
/// error is the message of a `400`.
pub(crate) fn list_query(
    query: &HashMap<String, String>,
    known: &[&str],
) -> Result<(i64, i64), String> {
    let mut unknown: Vec<&String> = query
        .keys()
        .filter(|k| !known.contains(&k.as_str()))
        .collect();
    unknown.sort();
    if let Some(key) = unknown.first() {
        return Err(format!("{key}: não é um filtro desta lista."));
    }
    paging(query)
}

/// A filter's value, trimmed; none when missing or empty.
pub(crate) fn filter_text(query: &HashMap<String, String>, name: &str) -> Option<String> {
    query
        .get(name)
        .map(|v| v.trim().to_string())
        .filter(|v| !v.is_empty())
}

/// `GET /admin/api/v1/auditoria?desde=&ate=&app=&rota=&contrato=&protocolo=&status=&offset=&limit=`
async fn audit_list(
    State(state): State<Arc<AdminState>>,
    _admin: AdminToken,
    Query(query): Query<HashMap<String, String>>,
) -> Response {
    const FILTERS: [&str; 9] = [
        "desde",
        "ate",
        "app",
        "rota",
        "contrato",
        "protocolo",
        "status",
        "offset",
        "limit",
    ];
    let (offset, limit) = match list_query(&query, &FILTERS) {
        Ok(p) => p,
        Err(message) => return error(StatusCode::BAD_REQUEST, &message),
    };
    let text = |name: &str| filter_text(&query, name);
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
        Ok((rows, total)) => ok(StatusCode::OK, Page::new(offset, limit, total, rows)),
        Err(e) => db_error(e),
    }
}

/// `POST /admin/api/v1/cobranca/executar` (`{"simular": true}` changes nothing): runs the
/// dunning rule once and answers what it did to each contract.
async fn dunning_run(
    State(state): State<Arc<AdminState>>,
    admin: AdminToken,
    JsonBody(body): JsonBody,
) -> Response {
    let simulate = if body.iter().all(u8::is_ascii_whitespace) {
        false
    } else {
        match serde_json::from_slice::<serde_json::Map<String, serde_json::Value>>(&body) {
            Ok(map) => {
                if let Some(key) = map.keys().find(|k| k.as_str() != "simular") {
                    return error(
                        StatusCode::BAD_REQUEST,
                        &format!("{key}: campo desconhecido."),
                    );
                }
                match map.get("simular") {
                    None => false,
                    Some(serde_json::Value::Bool(b)) => *b,
                    Some(_) => {
                        return error(StatusCode::BAD_REQUEST, "simular: use true ou false.");
                    }
                }
            }
            Err(e) => return error(StatusCode::BAD_REQUEST, &format!("JSON inválido: {e}")),
        }
    };
    if state.dunning.rule.is_none() {
        return error(
            StatusCode::CONFLICT,
            "A cobrança automática está desligada: defina cobranca.ativo = true.",
        );
    }
    match state.dunning.run(simulate).await {
        Ok(lines) => {
            tracing::info!(admin = %admin.name, simular = simulate, contratos = lines.len(), "admin: cobrança executada");
            ok(
                StatusCode::OK,
                RunReport {
                    simulacao: simulate,
                    contratos: lines,
                },
            )
        }
        Err(e) => db_error(e),
    }
}
