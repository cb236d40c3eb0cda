//! The operator's probes: `/healthz` (alive), `/readyz` (the database answers and the server
//! is not stopping), `/metrics` (Prometheus), and the middleware that counts every request.

use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::body::Body;
use axum::extract::{MatchedPath, State};
use axum::http::{HeaderMap, HeaderValue, Request, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use subtle::ConstantTimeEq;
use tokio_util::sync::CancellationToken;

use crate::observe::metrics::Metrics;
use crate::store::Store;

/// What the probes read.
#[derive(Clone)]
pub struct ObserveState {
    pub store: Store,
    pub metrics: Arc<Metrics>,
    /// `metricas_token`: when set, `/metrics` answers only `Authorization: Bearer` with it.
    pub metrics_token: Option<String>,
    /// Cancelled when the server begins to stop.
    pub stop: CancellationToken,
}

/// Counts every request under its route's pattern (never the raw path: ids and tokens would
/// make unbounded label values).
pub async fn track(
    State(metrics): State<Arc<Metrics>>,
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
    metrics.observe(&route, response.status().as_u16(), started.elapsed());
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

async fn database_answers(state: &ObserveState) -> bool {
    state.store.ping(Duration::from_secs(1)).await
}

/// Ready: the database answers and the server is not stopping.
pub async fn readyz(State(state): State<ObserveState>) -> Response {
    let stopping = state.stop.is_cancelled();
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
pub async fn metrics(State(state): State<ObserveState>, headers: HeaderMap) -> Response {
    if let Some(expected) = state.metrics_token.as_deref().filter(|t| !t.is_empty()) {
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
    m.set_db_up(db);
    if db {
        m.refresh_from_database(&state.store).await;
    }
    let Ok(out) = m.encode() else {
        return text(
            StatusCode::INTERNAL_SERVER_ERROR,
            "text/plain; charset=utf-8",
            "falha ao gerar métricas\n".into(),
        );
    };
    text(
        StatusCode::OK,
        "application/openmetrics-text; version=1.0.0; charset=utf-8",
        out,
    )
}
