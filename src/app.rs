//! Assembles the server from settings: the store, the services, the routers of each
//! transport with the slice of state each needs (`FromRef`), the background jobs, and one
//! `CancellationToken` tree that stops them. Nothing imports this module.

use std::collections::HashMap;
use std::future::Future;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::Router;
use axum::extract::FromRef;
use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;

use crate::admin::AdminState;
use crate::http::limits::Limits;
use crate::http::observe::ObserveState;
use crate::http::state::UraState;
use crate::http::webhooks::WebhookState;
use crate::jobs::{self, Jobs};
use crate::network::coa::CoaClient;
use crate::network::nas::NasClient;
use crate::notify::Notifier;
use crate::notify::invoice_doc::InvoiceDocument;
use crate::notify::links::LinkSigner;
use crate::notify::live::LiveHub;
use crate::notify::outbox::Outbox;
use crate::notify::templates::Templates;
use crate::observe::audit::{Entry, Recorder};
use crate::observe::metrics::Metrics;
use crate::painel::PainelState;
use crate::services::bank_returns::BankReturns;
use crate::services::dunning::Dunning;
use crate::services::line::LineControl;
use crate::services::nas_health::NasHealth;
use crate::services::pix::PixNotices;
use crate::services::promise_expiry::PromiseExpiry;
use crate::services::settle::Settlement;
use crate::settings::Settings;
use crate::store::health::DbHealth;
use crate::store::radacct::Sessions;
use crate::store::{Backend, Store};

/// The assembled server: each transport's state, the jobs' services, and the stop tree.
#[derive(Clone)]
pub struct AppState {
    pub ura: Arc<UraState>,
    pub admin: Arc<AdminState>,
    pub painel: Arc<PainelState>,
    pub webhooks: Arc<WebhookState>,
    pub observe: ObserveState,
    pub metrics: Arc<Metrics>,
    pub jobs: Jobs,
    pub limits: Arc<Limits>,
    pub notifier: Arc<Notifier>,
    /// Cancelled once the requests in flight are done: jobs, relays and the audit writer end.
    pub stop: CancellationToken,
    /// A child of `stop`, cancelled as soon as the server begins to stop: live streams end
    /// and `/readyz` says so, so that the graceful shutdown is not held open.
    pub closing: CancellationToken,
    audit_queue: Arc<Mutex<Option<tokio::sync::mpsc::Receiver<Entry>>>>,
}

/// The routers' state: the assembled server behind one pointer, so that a request clones
/// one `Arc` (not every part) and each handler takes its slice (`FromRef`).
#[derive(Clone)]
struct Routes(Arc<AppState>);

impl FromRef<Routes> for Arc<UraState> {
    fn from_ref(app: &Routes) -> Self {
        app.0.ura.clone()
    }
}

impl FromRef<Routes> for Arc<AdminState> {
    fn from_ref(app: &Routes) -> Self {
        app.0.admin.clone()
    }
}

impl FromRef<Routes> for Arc<PainelState> {
    fn from_ref(app: &Routes) -> Self {
        app.0.painel.clone()
    }
}

impl FromRef<Routes> for Arc<WebhookState> {
    fn from_ref(app: &Routes) -> Self {
        app.0.webhooks.clone()
    }
}

impl FromRef<Routes> for ObserveState {
    fn from_ref(app: &Routes) -> Self {
        app.0.observe.clone()
    }
}

impl AppState {
    pub async fn new(store: Store, mut settings: Settings) -> anyhow::Result<AppState> {
        settings.validate().map_err(anyhow::Error::msg)?;
        settings.check_delivery().map_err(anyhow::Error::msg)?;
        let tz = settings.tz().map_err(anyhow::Error::msg)?;
        let settings = Arc::new(settings);
        let stop = CancellationToken::new();
        let closing = stop.child_token();
        let notifier = Arc::new(Notifier::from_settings(&settings)?);
        let sessions = Sessions::connect(&store, settings.radacct_url.as_deref()).await?;
        let db_health = match store.backend {
            Backend::Postgres => {
                DbHealth::watch_postgres(settings.database_url.clone(), stop.clone())
            }
            Backend::Sqlite => DbHealth::always_up(),
        };
        let templates = Arc::new(Templates::load(settings.fatura.templates.as_deref())?);
        let links = LinkSigner::load(&store, settings.links_chave.as_deref()).await?;
        let coa = CoaClient::new(
            Duration::from_secs_f64(settings.nas.timeout.clamp(0.01, 30.0)),
            settings.nas.tentativas.min(10),
        )?;
        let nas = NasClient {
            store: store.clone(),
            sessions: sessions.clone(),
            coa: coa.clone(),
        };
        let document = InvoiceDocument::from_settings(&settings, tz);
        let outbox = Outbox {
            store: store.clone(),
            notifier: notifier.clone(),
            document: document.clone(),
            settings: settings.fatura.clone(),
        };
        let (audit, audit_rx) = Recorder::new();
        let metrics = Arc::new(Metrics::default());
        let limits = Arc::new(Limits::new(&settings.limites).map_err(anyhow::Error::msg)?);
        let live = LiveHub::default();
        let ura = Arc::new(UraState {
            store: store.clone(),
            settings: settings.clone(),
            tz,
            templates: templates.clone(),
            links,
            document,
            sessions: sessions.clone(),
            nas: nas.clone(),
            outbox: outbox.clone(),
            live: live.clone(),
            db_health,
            limits: limits.clone(),
            metrics: metrics.clone(),
            audit,
            app_seen: Mutex::new(HashMap::new()),
        });
        let line = LineControl {
            store: store.clone(),
            radius: settings.radius.clone(),
            nas: nas.clone(),
            outbox: outbox.clone(),
            templates: templates.clone(),
            metrics: metrics.clone(),
            provider_name: settings.provedor.nome.clone(),
            effects: crate::services::effects::Effects::default(),
        };
        let rule = if settings.cobranca.ativo {
            Some(settings.cobranca.rule().map_err(anyhow::Error::msg)?)
        } else {
            None
        };
        let settlement = Settlement {
            store: store.clone(),
            line: line.clone(),
            tz,
            min_cents: rule.as_ref().map_or(0, |r| r.min_cents),
            notify_restored: settings.cobranca.notificar_restabelecimento,
        };
        let dunning = Dunning {
            line: line.clone(),
            rule,
            tz,
        };
        let webhooks = Arc::new(
            WebhookState::new(
                PixNotices {
                    settlement: settlement.clone(),
                    metrics: metrics.clone(),
                },
                settings.pix.clone(),
                limits.clone(),
            )
            .map_err(anyhow::Error::msg)?,
        );
        let bank_returns = BankReturns {
            store: store.clone(),
            settlement: settlement.clone(),
            partial: settings.retorno.pagamento_parcial,
            tz,
        };
        let admin = Arc::new(
            AdminState::new(
                store.clone(),
                settings.clone(),
                tz,
                settlement,
                dunning.clone(),
                bank_returns.clone(),
            )
            .map_err(anyhow::Error::msg)?,
        );
        let painel = Arc::new(PainelState::new(
            store.clone(),
            settings.clone(),
            tz,
            sessions,
            metrics.clone(),
            live,
            closing.clone(),
            bank_returns,
        ));
        let observe = ObserveState {
            store: store.clone(),
            metrics: metrics.clone(),
            metrics_token: settings.metricas_token.clone(),
            stop: closing.clone(),
        };
        let jobs = Jobs {
            store: store.clone(),
            expiry: PromiseExpiry {
                store: store.clone(),
                radius: settings.radius.clone(),
                tz,
                nas,
            },
            outbox,
            nas_health: NasHealth {
                store: store.clone(),
                coa,
                every_seconds: settings.nas.verificar_saude,
            },
            dunning,
            dunning_every: jobs::period(settings.cobranca.intervalo),
            audit_days: settings.auditoria.dias,
            expiry_every: jobs::period(settings.promessa.verificar_expiracao),
            outbox_every: jobs::period(settings.fatura.reenviar),
            health_every: jobs::period(settings.nas.verificar_saude),
        };
        Ok(AppState {
            ura,
            admin,
            painel,
            webhooks,
            observe,
            metrics,
            jobs,
            limits,
            notifier,
            stop,
            closing,
            audit_queue: Arc::new(Mutex::new(Some(audit_rx))),
        })
    }

    /// Every route of the server, with the layers they all pass through.
    pub fn router(&self) -> Router {
        let settings = &self.ura.settings;
        let routes: Router<Routes> = Router::new()
            .merge(crate::http::ura_router(&settings.cors.origens))
            .merge(crate::painel::router())
            .merge(crate::http::operator_router())
            .merge(crate::admin::router())
            .merge(crate::http::webhooks::router())
            .route_layer(axum::middleware::from_fn_with_state(
                self.metrics.clone(),
                crate::http::observe::track,
            ));
        crate::http::finish(routes.with_state(Routes(Arc::new(self.clone()))), settings)
    }
}

/// Serves on `listener` until `shutdown` resolves, then finishes the requests in flight.
pub async fn serve(
    store: Store,
    settings: Settings,
    listener: TcpListener,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> anyhow::Result<()> {
    let state = AppState::new(store.clone(), settings).await?;
    let settings = state.ura.settings.clone();
    let audit_rx = state
        .audit_queue
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .take()
        .ok_or_else(|| anyhow::anyhow!("fila de auditoria já em uso"))?;
    tracing::info!("{}", state.notifier.describe());
    describe_dunning(&settings);
    let router = state.router();
    let audit_writer = tokio::spawn(crate::observe::audit::writer(
        store.clone(),
        audit_rx,
        state.stop.clone(),
    ));
    let mut background = state.jobs.spawn(&state.stop);
    let limits = state.limits.clone();
    let admin = state.admin.clone();
    background.push(jobs::every(
        Duration::from_secs(3600),
        state.stop.clone(),
        move || {
            let limits = limits.clone();
            let admin = admin.clone();
            async move {
                limits.tidy();
                admin.tidy();
            }
        },
    ));
    background.push(tokio::spawn(crate::painel::live::watch_sessions(
        state.painel.clone(),
        state.stop.clone(),
    )));
    if store.backend == Backend::Postgres {
        let url = settings.database_url.clone();
        let stop = state.stop.clone();
        let live = state.painel.live.clone();
        let credentials = store.credentials.clone();
        background.push(tokio::spawn(async move {
            let channels = [
                crate::store::painel::CHANNEL,
                crate::store::app_credentials::CHANNEL,
            ];
            crate::store::listen::relay(&url, &channels, stop, |heard| {
                credentials.heard(heard);
                if crate::store::painel::wakes_streams(heard) {
                    live.notify();
                }
            })
            .await
        }));
    }
    // Live streams never end by themselves: they are told to as soon as the server begins to
    // stop, so that the requests in flight can finish.
    let closing = state.closing.clone();
    let shutdown = async move {
        shutdown.await;
        closing.cancel();
    };
    let addr = listener.local_addr()?;
    let tls = match settings.tls.files() {
        None => {
            tracing::info!(%addr, base_path = %settings.base_path, "ura escutando em http://{addr}");
            None
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
            tracing::info!(%addr, base_path = %settings.base_path, "ura escutando em https://{addr}");
            Some(tokio_rustls::TlsAcceptor::from(config.get_inner()))
        }
    };
    let (header_timeout, idle_timeout) = settings.connection_timeouts();
    // Room kept for the database pool, the log, templates and the NAS sockets.
    let reserved = settings.database_max_connections as usize + 64;
    let options = crate::http::server::Options {
        header_timeout,
        idle_timeout,
        max_connections: crate::http::server::fit_connections(
            settings.limites.conexoes_max,
            reserved,
        ),
        drain_timeout: settings.request_timeout().max(Duration::from_secs(25))
            + Duration::from_secs(5),
        tls,
    };
    crate::http::server::serve(listener, router, options, shutdown).await;
    state.stop.cancel();
    for task in background {
        let _ = task.await;
    }
    // Disconnects and deliveries that follow committed changes finish before the pool closes.
    state.admin.dunning.line.settle_effects().await;
    // Entries of the last requests are written before the pool closes.
    let _ = audit_writer.await;
    store.close().await;
    tracing::info!("ura encerrado");
    Ok(())
}

/// Says at start what the dunning rule will do, so that the operator sees it in the log.
fn describe_dunning(settings: &Settings) {
    let c = &settings.cobranca;
    if !c.ativo {
        tracing::info!("cobrança automática desligada (cobranca.ativo = false)");
        return;
    }
    tracing::info!(
        dias_reducao = ?c.dias_reducao,
        dias_bloqueio = c.dias_bloqueio,
        aviso_antecedencia = c.aviso_antecedencia,
        horario = %c.horario,
        dias_uteis = c.dias_uteis,
        "cobrança automática ligada"
    );
    for warning in c.warnings() {
        tracing::warn!("{warning}");
    }
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
