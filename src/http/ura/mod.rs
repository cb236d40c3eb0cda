//! The URA functions (CONTRACT.md §2). Each request is checked in the contract's order:
//! body (400/413), credentials (403), parameters (400), then the business rules (200).

mod acesso;
pub mod answers;
mod catalogos;
mod chamado;
mod clientes;
mod consulta;
mod fatura;
mod liberacao;
mod manutencao;
mod notificacao;
mod paging;
pub mod requests;
mod titulos;

use std::sync::Arc;

use crate::store::Conn;
use axum::body::Body;
use axum::extract::FromRequestParts;
use axum::http::{Method, Request, StatusCode};
use axum::response::{IntoResponse, Response};
use chrono::{DateTime, NaiveDate, Utc};
use serde_json::Value;

use super::auth::{ClientIp, UraApp};
use super::error::{ApiError, json_response};
use super::params::{self, Params};
use super::state::UraState;
use crate::domain::document;
use crate::services::protocols::TicketSpec;
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
    Clientes,
    /// `manutencao/list/`, `manutencao/add/`, `manutencao/edit/`, `manutencao/delete/`.
    Manutencao,
    /// The catalogs: ticket types, work-order reasons, sectors.
    Catalogos,
}

impl Function {
    pub const ALL: [Function; 12] = [
        Function::ConsultaCliente,
        Function::LiberacaoPromessa,
        Function::EnviaFatura,
        Function::VerificaAcesso,
        Function::NotificacaoSistema,
        Function::Chamado,
        Function::Fatura2Via,
        Function::Titulos,
        Function::PagamentoPix,
        Function::Clientes,
        Function::Manutencao,
        Function::Catalogos,
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
            Function::Clientes => "clientes",
            Function::Manutencao => "manutencao",
            Function::Catalogos => "catalogos",
        }
    }

    /// Whether a call may change something (a protocol, a ticket, a promise, a message, a
    /// maintenance). `HEAD` is a safe method: it is refused on these (`405`) rather than
    /// run, since its answer cannot be known without doing what the call does.
    pub fn writes(self, path_arg: Option<&str>) -> bool {
        match self {
            Function::LiberacaoPromessa
            | Function::EnviaFatura
            | Function::VerificaAcesso
            | Function::NotificacaoSistema
            | Function::Chamado => true,
            Function::Manutencao => path_arg != Some("list"),
            Function::ConsultaCliente
            | Function::Fatura2Via
            | Function::Titulos
            | Function::PagamentoPix
            | Function::Clientes
            | Function::Catalogos => false,
        }
    }

    /// The paths of a function that answers at several, each with what it passes to the
    /// handler as `path_arg`, for one family (`ws` or `api`); None: the function answers at
    /// `{family}/ura/NAME` alone. Each path is also served with a trailing slash.
    pub fn sub_routes(self, family: &str) -> Option<Vec<(String, &'static str)>> {
        match self {
            Function::Manutencao => Some(
                manutencao::ACTIONS
                    .iter()
                    .map(|action| (format!("/{family}/ura/manutencao/{action}"), *action))
                    .collect(),
            ),
            Function::Catalogos => Some(vec![
                (
                    format!("/{family}/os/ocorrencia/tipo/list"),
                    "ocorrenciatipo",
                ),
                (format!("/{family}/ura/motivoos/list"), "motivoos"),
                (format!("/{family}/ura/setor/list"), "setor"),
            ]),
            _ => None,
        }
    }
}

/// One authenticated call.
pub struct Ctx {
    pub state: Arc<UraState>,
    pub app: UraApp,
    pub params: Params,
    pub now: DateTime<Utc>,
    pub today: NaiveDate,
    /// When `verificaacesso` must have answered (`acesso.tempo_max` from the start).
    pub deadline: tokio::time::Instant,
    /// `scheme://host` plus the base path, for absolute links in answers and messages.
    pub origin: String,
    /// The `{fatura}` of `pagamento/pix/{fatura}`; the action of `manutencao/*`; the
    /// catalog of the catalog routes.
    pub path_arg: Option<String>,
}

pub async fn handle(
    state: Arc<UraState>,
    function: Function,
    request: Request<Body>,
    path_arg: Option<String>,
) -> Response {
    let started = std::time::Instant::now();
    let method = request.method().clone();
    let peer = request
        .extensions()
        .get::<axum::extract::ConnectInfo<std::net::SocketAddr>>()
        .map(|c| c.0);
    let client = state.limits.client(peer, request.headers());
    let remote = match (client.ip, client.key) {
        (Some(ip), _) => Some(ip.to_string()),
        (None, Some(_)) => Some("desconhecido".to_string()),
        (None, None) => None,
    };
    let mut seen = Seen::default();
    let accepted = method == Method::GET
        || method == Method::POST
        || (method == Method::HEAD && !function.writes(path_arg.as_deref()));
    let (response, answer) = if !accepted {
        let mut refused = ApiError::method_not_allowed(method.as_str()).into_response();
        let allow = if function.writes(path_arg.as_deref()) {
            "GET, POST"
        } else {
            "GET, HEAD, POST"
        };
        refused.headers_mut().insert(
            axum::http::header::ALLOW,
            axum::http::HeaderValue::from_static(allow),
        );
        (refused, None)
    } else {
        let timeout = state.settings.request_timeout();
        let health = state.db_health.clone();
        let call = run(
            state.clone(),
            function,
            request,
            path_arg,
            client,
            &mut seen,
        );
        tokio::select! {
            result = tokio::time::timeout(timeout, call) => match result {
                Ok(Ok(value)) => (json_response(StatusCode::OK, &value), Some(value)),
                Ok(Err(e)) => (e.into_response(), None),
                Err(_) => {
                    tracing::warn!(function = function.name(), "tempo da requisição esgotado");
                    (ApiError::unavailable().into_response(), None)
                }
            },
            // The database went away: answer now rather than at the timeout.
            () = health.wait_down() => (ApiError::unavailable().into_response(), None),
        }
    };
    record(
        &state,
        function,
        &method,
        &response,
        answer.as_ref(),
        seen,
        started,
        remote,
    );
    response
}

/// What the request told about itself before it was answered, for the audit trail.
#[derive(Default)]
struct Seen {
    app: Option<(i64, String)>,
    contract_id: Option<i64>,
    /// Masked.
    document: Option<String>,
}

/// Counts the answer and queues its audit entry (never waiting on either).
#[allow(clippy::too_many_arguments)]
fn record(
    state: &UraState,
    function: Function,
    method: &Method,
    response: &Response,
    answer: Option<&Value>,
    seen: Seen,
    started: std::time::Instant,
    remote: Option<String>,
) {
    // `consultacliente` has no `status`: found (1) or not (0) by its list of contracts.
    let ura_status = answer.and_then(|a| {
        a.get("status").and_then(Value::as_i64).or_else(|| {
            a.get("contratos")
                .and_then(Value::as_array)
                .map(|list| i64::from(!list.is_empty()))
        })
    });
    if let Some(status) = ura_status {
        state.metrics.function_answered(function.name(), status);
    }
    let field = |name: &str| answer.and_then(|a| a.get(name));
    let (app_id, app_name) = match seen.app {
        Some((id, name)) => (Some(id), Some(name)),
        None => (None, None),
    };
    let entry = crate::observe::audit::Entry {
        at: Utc::now(),
        app_id,
        app_name,
        route: function.name().to_string(),
        method: method.as_str().to_string(),
        http_status: response.status().as_u16(),
        ura_status,
        contract_id: field("contratoId")
            .and_then(Value::as_i64)
            .or(seen.contract_id),
        // Masked whatever the answer carried (some answers show it formatted).
        document: field("cpfCnpj")
            .and_then(Value::as_str)
            .and_then(|d| match document::parse(d) {
                Some(full) => Some(full.masked()),
                None => d.contains('N').then(|| d.to_string()),
            })
            .or(seen.document),
        protocol: field("protocolo")
            .and_then(Value::as_str)
            .map(str::to_string),
        latency_ms: started.elapsed().as_secs_f64() * 1000.0,
        remote_addr: remote,
    };
    if !state.audit.record(entry) {
        state.metrics.audit_dropped();
    }
}

async fn run(
    state: Arc<UraState>,
    function: Function,
    request: Request<Body>,
    path_arg: Option<String>,
    client: super::limits::Client,
    seen: &mut Seen,
) -> Result<Value, ApiError> {
    // Limits first: an address over its limit, or pausing after failed authentications,
    // costs nothing more.
    state.limits.check_address(client)?;
    // The budget counts from the request's arrival; a margin is kept for the answer itself.
    let budget =
        std::time::Duration::from_secs_f64(state.settings.acesso.tempo_max.clamp(0.2, 60.0));
    let deadline = tokio::time::Instant::now() + budget.mul_f64(0.9);
    let (mut parts, body) = request.into_parts();
    let body = params::read_body(&parts.headers, body, state.settings.body_limit).await?;
    let params = params::parse(parts.uri.query(), &parts.headers, body).await?;
    seen.contract_id = params.get("contrato").and_then(|c| c.trim().parse().ok());
    seen.document = params
        .get("cpfcnpj")
        .and_then(document::parse)
        .map(|d| d.masked());
    parts.extensions.insert(params);
    parts.extensions.insert(ClientIp(client));
    let app = UraApp::from_request_parts(&mut parts, &state).await?;
    let params = parts.extensions.remove::<Params>().unwrap_or_default();
    seen.app = Some((app.id, app.name.clone()));
    state.limits.check_app(app.id)?;
    let origin = state.settings.origin(&parts.headers);
    if !app.may_call(function.name()) {
        return Err(ApiError::Forbidden);
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
    // A `HEAD` stores no answer: it runs only functions that change nothing.
    let key = match parts.method {
        Method::HEAD => None,
        _ => super::idempotency::key(&parts.headers)?,
    };
    match key {
        Some(key) => {
            super::idempotency::answer_once(&ctx, function, &key, dispatch(&ctx, function)).await
        }
        None => dispatch(&ctx, function).await,
    }
}

async fn dispatch(ctx: &Ctx, function: Function) -> Result<Value, ApiError> {
    match function {
        Function::ConsultaCliente => consulta::run(ctx).await,
        Function::LiberacaoPromessa => liberacao::run(ctx).await,
        Function::EnviaFatura => fatura::run(ctx).await,
        Function::VerificaAcesso => acesso::run(ctx).await,
        Function::NotificacaoSistema => notificacao::run(ctx).await,
        Function::Chamado => chamado::run(ctx).await,
        Function::Fatura2Via => titulos::fatura2via(ctx).await,
        Function::Titulos => titulos::titulos(ctx).await,
        Function::PagamentoPix => titulos::pix(ctx).await,
        Function::Clientes => clientes::run(ctx).await,
        Function::Manutencao => manutencao::run(ctx).await,
        Function::Catalogos => catalogos::run(ctx).await,
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

    /// The ticket a URA function opens under its protocol: from this app, for this caller.
    pub fn ticket<'a>(
        &'a self,
        type_id: i64,
        sector_id: Option<i64>,
        content: &'a str,
    ) -> TicketSpec<'a> {
        TicketSpec {
            type_id,
            sector_id,
            content,
            origin: "ura",
            caller: self.caller(),
            app_id: Some(self.app.id),
            agent_id: None,
            work_order_reason: None,
        }
    }

    /// The common "not found" answer of the functions that take `contrato`.
    pub fn not_found(&self, id: i64) -> answers::ContractNotFound {
        answers::ContractNotFound {
            status: 0,
            msg: "Contrato não localizado",
            contrato_id: id,
            uracontato: self.caller().map(str::to_string),
        }
    }

    /// "Cliente não localizado", of the functions that also take `cpfcnpj`.
    pub fn customer_not_found(&self) -> answers::CustomerNotFound {
        answers::CustomerNotFound {
            status: 0,
            msg: "Cliente não localizado",
            uracontato: self.caller().map(str::to_string),
        }
    }

    /// `status`, then the customer's fields shared by every answer about a contract.
    pub fn head(&self, status: i64, contract: &Contract) -> answers::ContractHead {
        answers::ContractHead::new(status, contract)
    }

    /// `msg`, `contratoId` and `uracontato`, in the order the specification shows them.
    pub fn tail(&self, msg: &str, contract: &Contract) -> answers::ContractTail {
        answers::ContractTail {
            msg: msg.to_string(),
            contrato_id: contract.id,
            uracontato: self.caller().map(str::to_string),
        }
    }

    /// An answer about a contract: head, tail and, when something was recorded, its protocol.
    pub fn outcome(
        &self,
        status: i64,
        msg: &str,
        contract: &Contract,
        protocolo: Option<String>,
    ) -> answers::ContractOutcome {
        answers::ContractOutcome {
            head: self.head(status, contract),
            tail: self.tail(msg, contract),
            protocolo,
        }
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
