//! The agents' console at `{base}/painel/`: when the IVR transfers a caller
//! (`notificacaosistema`), the agents watching that queue see the caller's card at once.
//! Server-rendered HTML (minijinja, escaped), a small script for the live stream (SSE).

mod actions;
mod auth;
mod card;
pub mod live;
mod pages;
mod views;

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::{Arc, Mutex};

use axum::Router;
use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};

use crate::app::AppState;

/// The console's in-process state.
pub struct PainelState {
    /// Wakes the live streams of this process: an event was recorded (here, or in another
    /// process and announced by PostgreSQL).
    pub wake: tokio::sync::broadcast::Sender<()>,
    /// Turns true when the server begins to stop: live streams end, so that the graceful
    /// shutdown is not held open by them.
    pub closing: tokio::sync::watch::Sender<bool>,
    /// Wrong passwords per client address: (count, start of the 15-minute window).
    failures: Mutex<HashMap<IpAddr, (u32, std::time::Instant)>>,
}

impl Default for PainelState {
    fn default() -> Self {
        PainelState {
            wake: tokio::sync::broadcast::channel(64).0,
            closing: tokio::sync::watch::channel(false).0,
            failures: Mutex::new(HashMap::new()),
        }
    }
}

impl PainelState {
    /// Tells this process's live streams to look for new events.
    pub fn notify(&self) {
        let _ = self.wake.send(());
    }
}

pub fn router() -> Router<Arc<AppState>> {
    Router::new()
        .route("/painel", get(|| async { Redirect::permanent("painel/") }))
        .route("/painel/", get(pages::home))
        .route("/painel/entrar", get(auth::login_page).post(auth::login))
        .route("/painel/sair", post(auth::logout))
        .route(
            "/painel/filas",
            get(pages::queues_page).post(pages::save_queues),
        )
        .route("/painel/historico", get(pages::history))
        .route("/painel/eventos", get(live::stream))
        .route("/painel/chamadas/{id}", get(pages::card_page))
        .route("/painel/chamadas/{id}/atender", post(actions::take))
        .route("/painel/chamadas/{id}/chamado", post(actions::ticket))
        .route("/painel/chamadas/{id}/encerrar", post(actions::handle))
        .route("/painel/static/painel.js", get(script))
        .route("/painel/static/painel.css", get(style))
}

async fn script() -> Response {
    asset(
        include_str!("../../assets/painel/painel.js"),
        "text/javascript; charset=utf-8",
    )
}

async fn style() -> Response {
    asset(
        include_str!("../../assets/painel/painel.css"),
        "text/css; charset=utf-8",
    )
}

fn asset(body: &'static str, content_type: &'static str) -> Response {
    (
        [
            (header::CONTENT_TYPE, HeaderValue::from_static(content_type)),
            (
                header::CACHE_CONTROL,
                HeaderValue::from_static("public, max-age=300"),
            ),
            (
                header::X_CONTENT_TYPE_OPTIONS,
                HeaderValue::from_static("nosniff"),
            ),
        ],
        body,
    )
        .into_response()
}

/// `{base}/painel/...` as the browser sees it.
fn path(state: &AppState, rest: &str) -> String {
    format!("{}/painel/{rest}", state.settings.base_path)
}
