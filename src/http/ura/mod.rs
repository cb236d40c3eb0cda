//! The URA functions (CONTRACT.md §2). Each request is checked in the contract's order:
//! body (400/413), credentials (403), parameters (400), then the business rules (200).

mod acesso;
mod chamado;
mod consulta;
mod fatura;
mod liberacao;
mod notificacao;
mod titulos;

use std::sync::Arc;

use crate::store::Conn;
use axum::body::Body;
use axum::http::{Method, Request, StatusCode};
use axum::response::{IntoResponse, Response};
use chrono::{DateTime, NaiveDate, Utc};
use serde_json::{Map, Value, json};

use super::error::{ApiError, json_response};
use super::params::{self, Params};
use crate::app::AppState;
use crate::domain::document;
use crate::store::apps::App;
use crate::store::contracts::{self, Contract};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Function {
    ConsultaCliente,
    LiberacaoPromessa,
    EnviaFatura,
    VerificaAcesso,
    NotificacaoSistema,
    Chamado,
    Fatura2Via,
    Titulos,
    PagamentoPix,
}

impl Function {
    pub const ALL: [Function; 9] = [
        Function::ConsultaCliente,
        Function::LiberacaoPromessa,
        Function::EnviaFatura,
        Function::VerificaAcesso,
        Function::NotificacaoSistema,
        Function::Chamado,
        Function::Fatura2Via,
        Function::Titulos,
        Function::PagamentoPix,
    ];

    pub fn from_name(name: &str) -> Option<Function> {
        Function::ALL.into_iter().find(|f| f.name() == name)
    }

    pub fn name(self) -> &'static str {
        match self {
            Function::ConsultaCliente => "consultacliente",
            Function::LiberacaoPromessa => "liberacaopromessa",
            Function::EnviaFatura => "enviafatura",
            Function::VerificaAcesso => "verificaacesso",
            Function::NotificacaoSistema => "notificacaosistema",
            Function::Chamado => "chamado",
            Function::Fatura2Via => "fatura2via",
            Function::Titulos => "titulos",
            Function::PagamentoPix => "pagamento/pix",
        }
    }
}

/// One authenticated call.
pub struct Ctx {
    pub state: Arc<AppState>,
    pub app: App,
    pub params: Params,
    pub now: DateTime<Utc>,
    pub today: NaiveDate,
    /// When `verificaacesso` must have answered (`acesso.tempo_max` from the start).
    pub deadline: tokio::time::Instant,
    /// `scheme://host` plus the base path, for absolute links in answers and messages.
    pub origin: String,
    /// The `{fatura}` of `pagamento/pix/{fatura}`.
    pub path_arg: Option<String>,
}

pub async fn handle(state: Arc<AppState>, function: Function, request: Request<Body>) -> Response {
    handle_with(state, function, request, None).await
}

pub async fn handle_with(
    state: Arc<AppState>,
    function: Function,
    request: Request<Body>,
    path_arg: Option<String>,
) -> Response {
    let method = request.method().clone();
    if method != Method::GET && method != Method::POST && method != Method::HEAD {
        return ApiError::method_not_allowed(method.as_str()).into_response();
    }
    let timeout = state.request_timeout();
    let health = state.db_health.clone();
    tokio::select! {
        result = tokio::time::timeout(timeout, run(state, function, request, path_arg)) => match result {
            Ok(Ok(value)) => json_response(StatusCode::OK, &value),
            Ok(Err(e)) => e.into_response(),
            Err(_) => {
                tracing::warn!(function = function.name(), "tempo da requisição esgotado");
                ApiError::unavailable().into_response()
            }
        },
        // The database went away: answer now rather than at the timeout.
        () = health.wait_down() => ApiError::unavailable().into_response(),
    }
}

async fn run(
    state: Arc<AppState>,
    function: Function,
    request: Request<Body>,
    path_arg: Option<String>,
) -> Result<Value, ApiError> {
    // The budget counts from the request's arrival; a margin is kept for the answer itself.
    let budget =
        std::time::Duration::from_secs_f64(state.settings.acesso.tempo_max.clamp(0.2, 60.0));
    let deadline = tokio::time::Instant::now() + budget.mul_f64(0.9);
    let (parts, body) = request.into_parts();
    let body = params::read_body(&parts.headers, body, state.settings.body_limit).await?;
    let params = params::parse(parts.uri.query(), &parts.headers, body).await?;
    let app = super::auth::authenticate(&state, &parts.headers, &params).await?;
    let origin = state.origin(&parts.headers);
    if !app.may_call(function.name()) {
        return Err(ApiError::forbidden(super::error::MSG_FORBIDDEN));
    }
    let now = Utc::now();
    let today = state.local_date(now);
    let ctx = Ctx {
        state,
        app,
        params,
        now,
        today,
        deadline,
        origin,
        path_arg,
    };
    match function {
        Function::ConsultaCliente => consulta::run(&ctx).await,
        Function::LiberacaoPromessa => liberacao::run(&ctx).await,
        Function::EnviaFatura => fatura::run(&ctx).await,
        Function::VerificaAcesso => acesso::run(&ctx).await,
        Function::NotificacaoSistema => notificacao::run(&ctx).await,
        Function::Chamado => chamado::run(&ctx).await,
        Function::Fatura2Via => titulos::fatura2via(&ctx).await,
        Function::Titulos => titulos::titulos(&ctx).await,
        Function::PagamentoPix => titulos::pix(&ctx).await,
    }
}

impl Ctx {
    pub fn caller(&self) -> Option<&str> {
        self.params.get("uracontato")
    }

    /// The contract, when it exists and, if `cpfcnpj` was also given, belongs to that document.
    pub async fn find_contract(
        &self,
        conn: &mut Conn,
        id: i64,
    ) -> Result<Option<Contract>, ApiError> {
        let Some(contract) = contracts::by_id(conn, id).await? else {
            return Ok(None);
        };
        if let Some(given) = self.params.get("cpfcnpj") {
            match document::parse(given) {
                Some(doc) if doc.as_str() == contract.document => {}
                _ => return Ok(None),
            }
        }
        Ok(Some(contract))
    }

    /// The common "not found" answer of the functions that take `contrato`.
    pub fn not_found(&self, id: i64) -> Value {
        Value::Object(self.not_found_map(id))
    }

    pub fn not_found_map(&self, id: i64) -> Map<String, Value> {
        let mut map = Map::new();
        map.insert("status".into(), json!(0));
        map.insert("msg".into(), json!("Contrato não localizado"));
        map.insert("contratoId".into(), json!(id));
        self.echo_caller(&mut map);
        map
    }

    /// Appends `uracontato` exactly as given, when given.
    pub fn echo_caller(&self, map: &mut Map<String, Value>) {
        if let Some(caller) = self.caller() {
            map.insert("uracontato".into(), json!(caller));
        }
    }

    /// `status`, then the customer's fields shared by every answer about a contract.
    pub fn answer(&self, status: i64, contract: &Contract) -> Map<String, Value> {
        let mut map = Map::new();
        map.insert("status".into(), json!(status));
        map.insert("razaoSocial".into(), json!(contract.customer_name));
        map.insert(
            "cpfCnpj".into(),
            json!(document::mask_str(&contract.document)),
        );
        map
    }

    /// `msg`, `contratoId` and `uracontato`, in the order the specification shows them.
    pub fn finish(
        &self,
        mut map: Map<String, Value>,
        msg: &str,
        contract: &Contract,
    ) -> Map<String, Value> {
        map.insert("msg".into(), json!(msg));
        map.insert("contratoId".into(), json!(contract.id));
        self.echo_caller(&mut map);
        map
    }

    /// A short description of the contract for logs: never the full document.
    pub fn log_ref(contract: &Contract) -> String {
        format!(
            "contrato={} documento={}",
            contract.id,
            document::mask_str(&contract.document)
        )
    }

    /// Current local month, `YYYY-MM`.
    pub fn month(&self) -> String {
        self.today.format("%Y-%m").to_string()
    }
}
