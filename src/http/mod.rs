//! HTTP: routes, parameter parsing, authentication, and one module per URA function.

pub mod auth;
pub mod error;
pub mod idempotency;
pub mod limits;
pub mod openapi;
pub mod params;
pub mod pdf;
pub mod ura;

use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::body::Body;
use axum::http::Request;
use axum::response::{IntoResponse, Response};
use axum::routing::{any, get};
use tower_http::catch_panic::CatchPanicLayer;
use tower_http::trace::TraceLayer;
use tracing::Span;

use crate::app::AppState;
use crate::observe::metrics;
use error::ApiError;
use ura::Function;

pub fn router(state: Arc<AppState>) -> Router {
    let mut routes: Router<Arc<AppState>> = Router::new();
    // One table of URA paths serves the router and the OpenAPI document.
    let mut ura_routes: Router<Arc<AppState>> = Router::new();
    for (function, path, arg) in openapi::ura_paths() {
        if function == Function::PagamentoPix {
            let handler =
                move |axum::extract::State(state): axum::extract::State<Arc<AppState>>,
                      axum::extract::Path(fatura): axum::extract::Path<String>,
                      request: Request<Body>| {
                    ura::handle_with(state, function, request, Some(fatura))
                };
            ura_routes = ura_routes
                .route(&path, any(handler))
                .route(&format!("{path}/"), any(handler));
            continue;
        }
        let handler = move |axum::extract::State(state): axum::extract::State<Arc<AppState>>,
                            request: Request<Body>| {
            ura::handle_with(state, function, request, arg.map(str::to_string))
        };
        ura_routes = ura_routes
            .route(&path, any(handler))
            .route(&format!("{path}/"), any(handler));
    }
    // Browsers of the listed origins (web chat widgets) may call the URA routes.
    if let Some(cors) = cors_layer(&state.settings.cors.origens) {
        ura_routes = ura_routes.layer(cors);
    }
    routes = routes.merge(ura_routes);
    routes = routes.route("/fatura/{id}/{token}", any(pdf::serve));
    routes = routes.merge(crate::painel::router());
    routes = routes
        .route("/healthz", get(metrics::healthz))
        .route("/readyz", get(metrics::readyz))
        .route("/metrics", get(metrics::metrics))
        .route("/openapi.json", get(openapi::serve))
        .route(
            "/docs",
            get(|| async { axum::response::Redirect::permanent("docs/") }),
        )
        .route("/docs/", get(openapi::docs_page))
        .route("/docs/docs.js", get(openapi::docs_script))
        .merge(crate::admin::router())
        .route_layer(axum::middleware::from_fn_with_state(
            state.clone(),
            metrics::track,
        ));
    let base = state.settings.base_path.clone();
    let routes = if base.is_empty() {
        routes
    } else {
        Router::new().nest(&base, routes)
    };
    let header_limit = state.settings.limites.cabecalhos_max;
    let hsts = state.settings.tls.files().is_some() && state.settings.tls.hsts;
    let routes = routes.fallback(not_found).with_state(state);
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
        .layer(CatchPanicLayer::custom(|_| {
            tracing::error!("pânico ao atender a requisição");
            ApiError::internal().into_response()
        }))
        .layer(
            TraceLayer::new_for_http()
                // Only the path: query strings may carry tokens.
                .make_span_with(|request: &Request<Body>| {
                    tracing::info_span!("http", method = %request.method(), path = %request.uri().path())
                })
                .on_request(())
                .on_response(|response: &Response, latency: Duration, _span: &Span| {
                    tracing::info!(
                        status = response.status().as_u16(),
                        // Microseconds as a whole number: `ms=0.08770199999999999` read badly.
                        us = u64::try_from(latency.as_micros()).unwrap_or(u64::MAX),
                        "resposta"
                    );
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
