//! Prometheus metrics (`{base}/metrics`): requests by route and status, latency histograms,
//! what the URA functions did (unlocks, tickets), and, read at each scrape, the outbox depth,
//! each NAS's health and whether the database answers. Also `/healthz` and `/readyz`.

use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::body::Body;
use axum::extract::{MatchedPath, State};
use axum::http::{HeaderMap, HeaderValue, Request, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::Histogram;
use prometheus_client::registry::Registry;
use subtle::ConstantTimeEq;

use crate::app::AppState;
use crate::domain::states::MessageStatus;

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct RouteStatus {
    route: String,
    status: u16,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct Route {
    route: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct FunctionStatus {
    funcao: String,
    status: i64,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct Origin {
    origem: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct NasLabel {
    nas: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct OutboxStatus {
    status: String,
}

pub struct Metrics {
    registry: Registry,
    requests: Family<RouteStatus, Counter>,
    latency: Family<Route, Histogram>,
    functions: Family<FunctionStatus, Counter>,
    unlocks: Counter,
    tickets: Family<Origin, Counter>,
    audit_dropped: Counter,
    outbox: Family<OutboxStatus, Gauge>,
    nas_up: Family<NasLabel, Gauge>,
    db_up: Gauge,
}

impl Default for Metrics {
    fn default() -> Self {
        let mut registry = Registry::with_prefix("ura");
        let requests = Family::<RouteStatus, Counter>::default();
        let latency = Family::<Route, Histogram>::new_with_constructor(|| {
            Histogram::new([
                0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0,
            ])
        });
        let functions = Family::<FunctionStatus, Counter>::default();
        let unlocks = Counter::default();
        let tickets = Family::<Origin, Counter>::default();
        let audit_dropped = Counter::default();
        let outbox = Family::<OutboxStatus, Gauge>::default();
        let nas_up = Family::<NasLabel, Gauge>::default();
        let db_up = Gauge::default();
        registry.register(
            "http_requests",
            "Requisições HTTP por rota e status",
            requests.clone(),
        );
        registry.register(
            "http_request_duration_seconds",
            "Tempo de resposta por rota",
            latency.clone(),
        );
        registry.register(
            "funcao_respostas",
            "Respostas das funções URA pelo campo status",
            functions.clone(),
        );
        registry.register(
            "desbloqueios",
            "Contratos desbloqueados por promessa de pagamento",
            unlocks.clone(),
        );
        registry.register(
            "chamados",
            "Chamados abertos, pela URA ou por atendentes",
            tickets.clone(),
        );
        registry.register(
            "auditoria_descartada",
            "Registros de auditoria descartados por fila cheia",
            audit_dropped.clone(),
        );
        registry.register(
            "outbox_mensagens",
            "Mensagens de fatura por situação (fila de envio)",
            outbox.clone(),
        );
        registry.register(
            "nas_alcancavel",
            "1 quando o NAS respondeu à última verificação",
            nas_up.clone(),
        );
        registry.register(
            "banco_disponivel",
            "1 quando o banco de dados responde",
            db_up.clone(),
        );
        Metrics {
            registry,
            requests,
            latency,
            functions,
            unlocks,
            tickets,
            audit_dropped,
            outbox,
            nas_up,
            db_up,
        }
    }
}

impl Metrics {
    /// What a URA function answered (its `status` field).
    pub fn function_answered(&self, function: &str, status: i64) {
        self.functions
            .get_or_create(&FunctionStatus {
                funcao: function.to_string(),
                status,
            })
            .inc();
        if status == 1 {
            match function {
                "liberacaopromessa" => {
                    self.unlocks.inc();
                }
                "chamado" => self.ticket_opened("ura"),
                _ => {}
            }
        }
    }

    pub fn ticket_opened(&self, origin: &str) {
        self.tickets
            .get_or_create(&Origin {
                origem: origin.to_string(),
            })
            .inc();
    }

    pub fn audit_dropped(&self) {
        self.audit_dropped.inc();
    }

    fn observe(&self, route: &str, status: u16, elapsed: Duration) {
        self.requests
            .get_or_create(&RouteStatus {
                route: route.to_string(),
                status,
            })
            .inc();
        self.latency
            .get_or_create(&Route {
                route: route.to_string(),
            })
            .observe(elapsed.as_secs_f64());
    }
}

/// Counts every request under its route's pattern (never the raw path: ids and tokens would
/// make unbounded label values).
pub async fn track(
    State(state): State<Arc<AppState>>,
    request: Request<Body>,
    next: Next,
) -> Response {
    let route = request
        .extensions()
        .get::<MatchedPath>()
        .map(|p| p.as_str().to_string())
        .unwrap_or_else(|| "(sem rota)".into());
    let started = Instant::now();
    let response = next.run(request).await;
    state
        .metrics
        .observe(&route, response.status().as_u16(), started.elapsed());
    response
}

fn text(status: StatusCode, content_type: &'static str, body: String) -> Response {
    (
        status,
        [
            (header::CONTENT_TYPE, HeaderValue::from_static(content_type)),
            (header::CACHE_CONTROL, HeaderValue::from_static("no-store")),
        ],
        body,
    )
        .into_response()
}

/// Alive: the process answers.
pub async fn healthz() -> Response {
    text(
        StatusCode::OK,
        "application/json",
        r#"{"status":"ok"}"#.into(),
    )
}

async fn database_answers(state: &AppState) -> bool {
    let ping = sqlx::query_scalar::<_, i64>("SELECT 1").fetch_one(&state.store.pool);
    matches!(
        tokio::time::timeout(Duration::from_secs(1), ping).await,
        Ok(Ok(1))
    )
}

/// Ready: the database answers and the server is not stopping.
pub async fn readyz(State(state): State<Arc<AppState>>) -> Response {
    let stopping = *state.painel.closing.borrow();
    let db = !stopping && database_answers(&state).await;
    let (status, body) = match (stopping, db) {
        (true, _) => (
            StatusCode::SERVICE_UNAVAILABLE,
            r#"{"status":"encerrando"}"#,
        ),
        (false, true) => (StatusCode::OK, r#"{"status":"ok","banco":"ok"}"#),
        (false, false) => (
            StatusCode::SERVICE_UNAVAILABLE,
            r#"{"status":"indisponivel","banco":"sem resposta"}"#,
        ),
    };
    text(status, "application/json", body.into())
}

/// The metrics, in Prometheus's text format. With `metricas_token` set, only for
/// `Authorization: Bearer TOKEN`.
pub async fn metrics(State(state): State<Arc<AppState>>, headers: HeaderMap) -> Response {
    if let Some(expected) = state
        .settings
        .metricas_token
        .as_deref()
        .filter(|t| !t.is_empty())
    {
        let given = headers
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.strip_prefix("Bearer "))
            .unwrap_or("");
        if !bool::from(given.as_bytes().ct_eq(expected.as_bytes())) {
            return text(
                StatusCode::UNAUTHORIZED,
                "application/json",
                r#"{"detail":"Token de métricas inválido."}"#.into(),
            );
        }
    }
    let m = &state.metrics;
    let db = database_answers(&state).await;
    m.db_up.set(i64::from(db));
    if db {
        refresh_from_database(&state).await;
    }
    let mut out = String::new();
    if prometheus_client::encoding::text::encode(&mut out, &m.registry).is_err() {
        return text(
            StatusCode::INTERNAL_SERVER_ERROR,
            "text/plain; charset=utf-8",
            "falha ao gerar métricas\n".into(),
        );
    }
    text(
        StatusCode::OK,
        "application/openmetrics-text; version=1.0.0; charset=utf-8",
        out,
    )
}

/// Gauges that are the database's to know: every process reports the same values.
async fn refresh_from_database(state: &AppState) {
    let m = &state.metrics;
    let outbox: Result<Vec<(MessageStatus, i64)>, _> =
        sqlx::query_as("SELECT status, COUNT(*) FROM messages GROUP BY status")
            .fetch_all(&state.store.pool)
            .await;
    if let Ok(rows) = outbox {
        m.outbox.clear();
        for &status in MessageStatus::ALL {
            let n = rows
                .iter()
                .find(|(s, _)| *s == status)
                .map(|(_, n)| *n)
                .unwrap_or(0);
            m.outbox
                .get_or_create(&OutboxStatus {
                    status: status.as_str().into(),
                })
                .set(n);
        }
    }
    let nas: Result<Vec<(String, Option<i64>)>, _> =
        sqlx::query_as("SELECT nasname, reachable FROM nas ORDER BY id")
            .fetch_all(&state.store.pool)
            .await;
    if let Ok(rows) = nas {
        m.nas_up.clear();
        for (name, reachable) in rows {
            // Not probed yet counts as reachable, as the URA functions treat it.
            m.nas_up
                .get_or_create(&NasLabel { nas: name })
                .set(i64::from(reachable != Some(0)));
        }
    }
}
