//! The agents' console at `{base}/painel/`: when the IVR transfers a caller
//! (`notificacaosistema`), the agents watching that queue see the caller's card at once.
//! Server-rendered HTML (minijinja, escaped), a small script for the live stream (SSE).
//! May import `services` and everything below it; never `app` or another transport.

mod actions;
mod auth;
mod bank_returns;
mod card;
mod dunning;
pub mod live;
mod pages;
mod pix;
mod views;

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::{Arc, Mutex};

use axum::Router;
use axum::extract::FromRef;
use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use chrono::{DateTime, NaiveDate, Utc};
use chrono_tz::Tz;
use tokio_util::sync::CancellationToken;

use crate::notify::live::LiveHub;
use crate::observe::metrics::Metrics;
use crate::services::bank_returns::BankReturns;
use crate::settings::Settings;
use crate::store::Store;
use crate::store::radacct::Sessions;

/// What the console's routes need.
pub struct PainelState {
    pub store: Store,
    pub settings: Arc<Settings>,
    pub tz: Tz,
    /// Where open RADIUS sessions are read from (the card shows whether the line is up).
    pub sessions: Sessions,
    pub metrics: Arc<Metrics>,
    /// Wakes the live streams of this process: an event was recorded (here, or in another
    /// process and announced by PostgreSQL).
    pub live: LiveHub,
    /// Cancelled when the server begins to stop: live streams end, so that the graceful
    /// shutdown is not held open by them.
    pub closing: CancellationToken,
    /// Bank return files: uploaded and read here.
    pub bank_returns: BankReturns,
    /// Wrong passwords per client address: (count, start of the 15-minute window).
    failures: Mutex<HashMap<IpAddr, (u32, std::time::Instant)>>,
}

impl PainelState {
    #[allow(clippy::too_many_arguments)]
    pub fn new(
        store: Store,
        settings: Arc<Settings>,
        tz: Tz,
        sessions: Sessions,
        metrics: Arc<Metrics>,
        live: LiveHub,
        closing: CancellationToken,
        bank_returns: BankReturns,
    ) -> PainelState {
        PainelState {
            store,
            settings,
            tz,
            sessions,
            metrics,
            live,
            closing,
            bank_returns,
            failures: Mutex::new(HashMap::new()),
        }
    }

    /// The operator's local date of an instant.
    pub fn local_date(&self, t: DateTime<Utc>) -> NaiveDate {
        t.with_timezone(&self.tz).date_naive()
    }

    /// `scheme://host` plus the base path, as the browser reached the server.
    pub fn origin(&self, headers: &axum::http::HeaderMap) -> String {
        self.settings.origin(headers)
    }
}

pub fn router<S>() -> Router<S>
where
    S: Clone + Send + Sync + 'static,
    Arc<PainelState>: FromRef<S>,
{
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
        .route("/painel/cobranca", get(dunning::day_page))
        .route(
            "/painel/retornos",
            get(bank_returns::list).post(bank_returns::upload),
        )
        .route("/painel/retornos/{id}", get(bank_returns::show))
        .route("/painel/pix", get(pix::list_page))
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
fn path(state: &PainelState, rest: &str) -> String {
    format!("{}/painel/{rest}", state.settings.base_path)
}
