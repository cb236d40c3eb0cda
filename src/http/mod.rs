//! HTTP: routes, parameter parsing, authentication, and one module per URA function.

pub mod auth;
pub mod error;
pub mod params;
pub mod pdf;
pub mod ura;

use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::body::Body;
use axum::http::Request;
use axum::response::{IntoResponse, Response};
use axum::routing::any;
use tower_http::catch_panic::CatchPanicLayer;
use tower_http::trace::TraceLayer;
use tracing::Span;

use crate::app::AppState;
use error::ApiError;
use ura::Function;

pub fn router(state: Arc<AppState>) -> Router {
    let mut routes: Router<Arc<AppState>> = Router::new();
    for function in Function::ALL {
        for family in ["ws", "api"] {
            let path = match function {
                Function::PagamentoPix => format!("/{family}/ura/pagamento/pix/{{fatura}}"),
                _ => format!("/{family}/ura/{}", function.name()),
            };
            if function == Function::PagamentoPix {
                let handler =
                    move |axum::extract::State(state): axum::extract::State<Arc<AppState>>,
                          axum::extract::Path(fatura): axum::extract::Path<String>,
                          request: Request<Body>| {
                        ura::handle_with(state, function, request, Some(fatura))
                    };
                routes = routes
                    .route(&path, any(handler))
                    .route(&format!("{path}/"), any(handler));
                continue;
            }
            let handler =
                move |axum::extract::State(state): axum::extract::State<Arc<AppState>>,
                      request: Request<Body>| {
                    ura::handle(state, function, request)
                };
            routes = routes
                .route(&path, any(handler))
                .route(&format!("{path}/"), any(handler));
        }
    }
    routes = routes.route("/fatura/{id}/{token}", any(pdf::serve));
    routes = routes.merge(crate::painel::router());
    let base = state.settings.base_path.clone();
    let routes = if base.is_empty() {
        routes
    } else {
        Router::new().nest(&base, routes)
    };
    routes
        .fallback(not_found)
        .with_state(state)
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
                        ms = latency.as_secs_f64() * 1000.0,
                        "resposta"
                    );
                }),
        )
}

async fn not_found() -> ApiError {
    ApiError::not_found()
}
