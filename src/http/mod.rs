//! The URA API over HTTP: its routes, parameter parsing, the app as an extractor, one module
//! per URA function, the invoice links, the operator's probes, the API's documentation, the
//! webhooks other systems call (a PSP's PIX notices), and the HTTP connections every transport
//! is served on (`server`: timeouts, the cap).
//! May import `services` and everything below it (`notify`, `network`, `observe`, `store`,
//! `domain`, `settings`); never `app` or another transport.

pub mod auth;
pub mod error;
pub mod idempotency;
pub mod limits;
pub mod observe;
pub mod openapi;
pub mod params;
pub mod pdf;
pub mod server;
pub mod state;
mod unread;
pub mod ura;
pub mod webhooks;

use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::body::Body;
use axum::extract::{FromRef, Path, State};
use axum::http::Request;
use axum::response::{IntoResponse, Response};
use axum::routing::{any, get};
use tower_http::catch_panic::CatchPanicLayer;
use tower_http::trace::TraceLayer;
use tracing::Span;

use crate::settings::Settings;
use error::ApiError;
use observe::ObserveState;
use state::UraState;
use ura::Function;

/// An answer that took this long is logged (`resposta lenta`); faster ones only at debug.
const SLOW_ANSWER: Duration = Duration::from_secs(1);

/// The URA functions (each path also with a trailing slash), their CORS, and the signed
/// invoice links.
pub fn ura_router<S>(cors_origins: &[String]) -> Router<S>
where
    S: Clone + Send + Sync + 'static,
    Arc<UraState>: FromRef<S>,
{
    // One table of URA paths serves the router and the OpenAPI document.
    let mut ura_routes: Router<S> = Router::new();
    for (function, path, arg) in openapi::ura_paths() {
        if function == Function::PagamentoPix {
            let handler = move |State(state): State<Arc<UraState>>,
                                Path(fatura): Path<String>,
                                request: Request<Body>| {
                ura::handle(state, function, request, Some(fatura))
            };
            ura_routes = ura_routes
                .route(&path, any(handler))
                .route(&format!("{path}/"), any(handler));
            continue;
        }
        let handler = move |State(state): State<Arc<UraState>>, request: Request<Body>| {
            ura::handle(state, function, request, arg.map(str::to_string))
        };
        ura_routes = ura_routes
            .route(&path, any(handler))
            .route(&format!("{path}/"), any(handler));
    }
    // Browsers of the listed origins (web chat widgets) may call the URA routes.
    if let Some(cors) = cors_layer(cors_origins) {
        ura_routes = ura_routes.layer(cors);
    }
    ura_routes.route("/fatura/{id}/{token}", any(pdf::serve))
}

/// The operator's probes and the API's own documentation.
pub fn operator_router<S>() -> Router<S>
where
    S: Clone + Send + Sync + 'static,
    Arc<UraState>: FromRef<S>,
    ObserveState: FromRef<S>,
{
    Router::new()
        .route("/healthz", get(observe::healthz))
        .route("/readyz", get(observe::readyz))
        .route("/metrics", get(observe::metrics))
        .route("/openapi.json", get(openapi::serve))
        .route(
            "/docs",
            get(|| async { axum::response::Redirect::permanent("docs/") }),
        )
        .route("/docs/", get(openapi::docs_page))
        .route("/docs/docs.js", get(openapi::docs_script))
}

/// What every route of the server passes through: the base path, the `404` of unknown
/// paths, HSTS behind TLS, the header size limits, bodies left unread by early answers,
/// panics answered `500`, the request log.
pub fn finish(routes: Router, settings: &Settings) -> Router {
    let base = settings.base_path.clone();
    let routes = if base.is_empty() {
        routes
    } else {
        Router::new().nest(&base, routes)
    };
    let header_limit = settings.limites.cabecalhos_max;
    // As much as a `413` reads and discards (CONTRACT.md), or the body limit if larger.
    let drain_bound = settings.body_limit.max(1024 * 1024);
    let hsts = settings.tls.files().is_some() && settings.tls.hsts;
    let routes = routes.fallback(not_found);
    let routes = if hsts {
        routes.layer(axum::middleware::map_response(
            |mut response: Response| async move {
                response.headers_mut().insert(
                    axum::http::header::STRICT_TRANSPORT_SECURITY,
                    axum::http::HeaderValue::from_static("max-age=31536000"),
                );
                response
            },
        ))
    } else {
        routes
    };
    routes
        .layer(axum::middleware::from_fn(
            move |request: Request<Body>, next: axum::middleware::Next| {
                limits::header_sizes(header_limit, request, next)
            },
        ))
        .layer(axum::middleware::from_fn(
            move |request: Request<Body>, next: axum::middleware::Next| {
                unread::drain_unread(drain_bound, request, next)
            },
        ))
        .layer(CatchPanicLayer::custom(|_| {
            tracing::error!("pânico ao atender a requisição");
            ApiError::internal().into_response()
        }))
        .layer(
            TraceLayer::new_for_http()
                // Only the path: query strings may carry tokens (and a webhook's path its
                // secret, which is replaced).
                .make_span_with(|request: &Request<Body>| {
                    let path = webhooks::loggable_path(request.uri().path());
                    tracing::info_span!("http", method = %request.method(), path = %path)
                })
                .on_request(())
                .on_response(|response: &Response, latency: Duration, _span: &Span| {
                    let status = response.status().as_u16();
                    // Microseconds as a whole number: `ms=0.08770199999999999` read badly.
                    let us = u64::try_from(latency.as_micros()).unwrap_or(u64::MAX);
                    // Every answer is counted in the metrics and each URA call is in the audit
                    // trail; the log keeps what an operator looks for. A line per answer cost
                    // 4 % of the CPU under load, and journald's rate limit would drop the
                    // warnings among them. `URA_LOG=info,ura::http=debug` shows them all.
                    if status >= 500 {
                        tracing::warn!(status, us, "resposta");
                    } else if latency >= SLOW_ANSWER {
                        tracing::info!(status, us, "resposta lenta");
                    } else {
                        tracing::debug!(status, us, "resposta");
                    }
                }),
        )
}

/// CORS for the listed origins (checked by `Settings::validate`); none listed: no CORS, and
/// `OPTIONS` is a `405` like any other method the contract does not take.
fn cors_layer(origins: &[String]) -> Option<tower_http::cors::CorsLayer> {
    use axum::http::{HeaderName, HeaderValue, Method};
    let list: Vec<HeaderValue> = origins
        .iter()
        .filter_map(|o| HeaderValue::from_str(o.trim().trim_end_matches('/')).ok())
        .collect();
    if list.is_empty() {
        return None;
    }
    Some(
        tower_http::cors::CorsLayer::new()
            .allow_origin(list)
            .allow_methods([Method::GET, Method::POST])
            .allow_headers([
                HeaderName::from_static("authorization"),
                HeaderName::from_static("app"),
                HeaderName::from_static("content-type"),
                HeaderName::from_static("idempotency-key"),
            ])
            .max_age(Duration::from_secs(600)),
    )
}

async fn not_found() -> ApiError {
    ApiError::not_found()
}
