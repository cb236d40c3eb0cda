//! Builds the server from settings and runs it until the shutdown future resolves.

use std::collections::HashMap;
use std::future::Future;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use chrono::{DateTime, NaiveDate, Utc};
use chrono_tz::Tz;
use tokio::net::TcpListener;

use crate::network::coa::CoaClient;
use crate::network::sessions::Sessions;
use crate::notify::Notifier;
use crate::notify::links::LinkSigner;
use crate::notify::templates::Templates;
use crate::settings::Settings;
use crate::store::health::DbHealth;
use crate::store::{Backend, Store};

/// Everything a request handler needs.
pub struct AppState {
    pub store: Store,
    pub settings: Settings,
    pub tz: Tz,
    pub notifier: Notifier,
    /// Where open RADIUS sessions are read from.
    pub sessions: Sessions,
    /// RFC 5176 requests to the NAS.
    pub coa: CoaClient,
    /// Whether the database answers (PostgreSQL is watched; SQLite is always up).
    pub db_health: Arc<DbHealth>,
    /// Message templates (built in, or the operator's).
    pub templates: Templates,
    /// Signs the links to invoice PDFs.
    pub links: LinkSigner,
    /// Turns true when the server stops, ending its background tasks.
    pub stopping: tokio::sync::watch::Sender<bool>,
    /// When each app was last recorded as used, to write that at most once a minute.
    pub app_seen: Mutex<HashMap<i64, Instant>>,
    /// The agents' console: live streams and sign-in throttling.
    pub painel: crate::painel::PainelState,
    /// Prometheus metrics of this process.
    pub metrics: crate::observe::metrics::Metrics,
    /// Queues audit entries for the writer task.
    pub audit: crate::observe::audit::Recorder,
    /// The queue's other end, taken by the writer task that `serve` starts.
    pub audit_queue: Mutex<Option<tokio::sync::mpsc::Receiver<crate::observe::audit::Entry>>>,
    /// Requests per app and per address, authentication failures per address.
    pub limits: crate::http::limits::Limits,
}

impl AppState {
    pub async fn new(store: Store, mut settings: Settings) -> anyhow::Result<AppState> {
        settings.validate().map_err(anyhow::Error::msg)?;
        let tz = settings.tz().map_err(anyhow::Error::msg)?;
        let notifier = Notifier::from_settings(&settings)?;
        let sessions = Sessions::connect(&store, settings.radacct_url.as_deref()).await?;
        let (stopping, stop_rx) = tokio::sync::watch::channel(false);
        let db_health = match store.backend {
            Backend::Postgres => DbHealth::watch_postgres(settings.database_url.clone(), stop_rx),
            Backend::Sqlite => DbHealth::always_up(),
        };
        let templates = Templates::load(settings.fatura.templates.as_deref())?;
        let links = LinkSigner::load(&store, settings.links_chave.as_deref()).await?;
        let coa = CoaClient::new(
            Duration::from_secs_f64(settings.nas.timeout.clamp(0.01, 30.0)),
            settings.nas.tentativas.min(10),
        )?;
        let (audit, audit_rx) = crate::observe::audit::Recorder::new();
        let settings_limits = settings.limites.clone();
        let state = AppState {
            store,
            settings,
            tz,
            notifier,
            sessions,
            coa,
            db_health,
            templates,
            links,
            stopping,
            app_seen: Mutex::new(HashMap::new()),
            painel: crate::painel::PainelState::default(),
            metrics: crate::observe::metrics::Metrics::default(),
            audit,
            audit_queue: Mutex::new(Some(audit_rx)),
            limits: crate::http::limits::Limits::new(&settings_limits)
                .map_err(anyhow::Error::msg)?,
        };
        Ok(state)
    }

    /// The operator's local date of an instant.
    pub fn local_date(&self, t: DateTime<Utc>) -> NaiveDate {
        t.with_timezone(&self.tz).date_naive()
    }

    /// `scheme://host` plus the base path: `public_url` when set, else from the request's
    /// `Host` (and `X-Forwarded-Proto` behind a proxy).
    pub fn origin(&self, headers: &axum::http::HeaderMap) -> String {
        if let Some(url) = self
            .settings
            .public_url
            .as_deref()
            .filter(|u| !u.trim().is_empty())
        {
            return url.trim().trim_end_matches('/').to_string();
        }
        let header = |name: &str| {
            headers
                .get(name)
                .and_then(|v| v.to_str().ok())
                .map(str::trim)
                .filter(|v| !v.is_empty())
        };
        let host = header("host").unwrap_or("localhost");
        let scheme = match header("x-forwarded-proto") {
            _ if self.settings.tls.files().is_some() => "https",
            Some("https") => "https",
            _ => "http",
        };
        format!("{scheme}://{host}{}", self.settings.base_path)
    }

    pub fn request_timeout(&self) -> Duration {
        Duration::from_secs_f64(self.settings.request_timeout.clamp(0.1, 3600.0))
    }
}

/// Serves on `listener` until `shutdown` resolves, then finishes the requests in flight.
pub async fn serve(
    store: Store,
    settings: Settings,
    listener: TcpListener,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> anyhow::Result<()> {
    let state = Arc::new(AppState::new(store.clone(), settings).await?);
    let audit_rx = state
        .audit_queue
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .take()
        .ok_or_else(|| anyhow::anyhow!("fila de auditoria já em uso"))?;
    tracing::info!("{}", state.notifier.describe());
    let router = crate::http::router(state.clone());
    let (stop_jobs, jobs_stopped) = tokio::sync::watch::channel(false);
    let audit_writer = tokio::spawn(crate::observe::audit::writer(
        store.clone(),
        audit_rx,
        jobs_stopped.clone(),
    ));
    let jobs = crate::jobs::spawn_all(state.clone(), jobs_stopped);
    let relay = (state.store.backend == Backend::Postgres)
        .then(|| tokio::spawn(crate::painel::live::relay_postgres(state.clone())));
    // Live streams never end by themselves: they are told to as soon as the server begins to
    // stop, so that the requests in flight can finish.
    let closing = state.clone();
    let shutdown = async move {
        shutdown.await;
        let _ = closing.painel.closing.send(true);
    };
    let addr = listener.local_addr()?;
    match state.settings.tls.files() {
        None => {
            tracing::info!(%addr, base_path = %state.settings.base_path, "ura escutando em http://{addr}");
            axum::serve(
                listener,
                router.into_make_service_with_connect_info::<std::net::SocketAddr>(),
            )
            .with_graceful_shutdown(shutdown)
            .await?;
        }
        Some((cert, key)) => {
            // One crypto provider for the process, whatever else the dependencies enable.
            let _ = rustls::crypto::aws_lc_rs::default_provider().install_default();
            let config = axum_server::tls_rustls::RustlsConfig::from_pem_file(cert, key)
                .await
                .map_err(|e| {
                    anyhow::anyhow!(
                        "certificado ou chave TLS inválidos ({}, {}): {e}",
                        cert.display(),
                        key.display()
                    )
                })?;
            tracing::info!(%addr, base_path = %state.settings.base_path, "ura escutando em https://{addr}");
            let handle = axum_server::Handle::new();
            let stopper = handle.clone();
            tokio::spawn(async move {
                shutdown.await;
                stopper.graceful_shutdown(Some(Duration::from_secs(30)));
            });
            axum_server::from_tcp_rustls(listener.into_std()?, config)?
                .handle(handle)
                .serve(router.into_make_service_with_connect_info::<std::net::SocketAddr>())
                .await?;
        }
    }
    let _ = stop_jobs.send(true);
    let _ = state.stopping.send(true);
    for job in jobs {
        let _ = job.await;
    }
    if let Some(relay) = relay {
        let _ = relay.await;
    }
    // Entries of the last requests are written before the pool closes.
    let _ = audit_writer.await;
    store.close().await;
    tracing::info!("ura encerrado");
    Ok(())
}

/// Resolves on SIGINT or SIGTERM.
pub async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        _ = ctrl_c => {},
        _ = term => {},
    }
    tracing::info!("sinal recebido: encerrando após as requisições em andamento");
}
