//! Background loops of `ura serve`. Each is safe with several processes running it at once:
//! work is claimed with a conditional update, so nothing is done twice and nothing is missed.

pub mod expiry;
pub mod nas_health;

use std::sync::Arc;
use std::time::Duration;

use tokio::sync::watch;

use crate::app::AppState;

/// Starts the loops; they stop when `stop` turns true.
pub fn spawn_all(
    state: Arc<AppState>,
    stop: watch::Receiver<bool>,
) -> Vec<tokio::task::JoinHandle<()>> {
    let expiry_every = Duration::from_secs_f64(
        state
            .settings
            .promessa
            .verificar_expiracao
            .clamp(0.05, 86_400.0),
    );
    let health_every =
        Duration::from_secs_f64(state.settings.nas.verificar_saude.clamp(0.05, 86_400.0));
    let outbox_every =
        Duration::from_secs_f64(state.settings.fatura.reenviar.clamp(0.05, 86_400.0));
    let expiry_state = state.clone();
    let outbox_state = state.clone();
    let audit_state = state.clone();
    let health_state = state;
    vec![
        tokio::spawn(run_every(
            Duration::from_secs(3600),
            stop.clone(),
            move || {
                let state = audit_state.clone();
                async move {
                    state.limits.tidy();
                    if let Err(e) =
                        crate::store::idempotency::prune(&state.store, chrono::Utc::now()).await
                    {
                        tracing::warn!(error = %e, "limpeza das Idempotency-Key falhou; nova tentativa no próximo ciclo");
                    }
                    match crate::observe::audit::prune(&state, chrono::Utc::now()).await {
                        Ok(0) => {}
                        Ok(n) => tracing::info!("auditoria: {n} registros antigos apagados"),
                        Err(e) => {
                            tracing::warn!(error = %e, "limpeza da auditoria falhou; nova tentativa no próximo ciclo")
                        }
                    }
                }
            },
        )),
        tokio::spawn(run_every(expiry_every, stop.clone(), move || {
            let state = expiry_state.clone();
            async move {
                if let Err(e) = expiry::run_once(&state).await {
                    tracing::warn!(error = %e, "verificação de promessas vencidas falhou; nova tentativa no próximo ciclo");
                }
            }
        })),
        tokio::spawn(run_every(outbox_every, stop.clone(), move || {
            let state = outbox_state.clone();
            async move {
                if let Err(e) = crate::notify::outbox::run_once(&state).await {
                    tracing::warn!(error = %e, "reenvio de mensagens falhou; nova tentativa no próximo ciclo");
                }
            }
        })),
        tokio::spawn(run_every(health_every, stop, move || {
            let state = health_state.clone();
            async move {
                if let Err(e) = nas_health::run_once(&state).await {
                    tracing::warn!(error = %e, "verificação de saúde dos NAS falhou; nova tentativa no próximo ciclo");
                }
            }
        })),
    ]
}

async fn run_every<F, Fut>(every: Duration, mut stop: watch::Receiver<bool>, mut job: F)
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = ()>,
{
    // The first run one period after start, not at once: a process that restarts in a loop
    // does not hammer the database.
    let mut ticker = tokio::time::interval_at(tokio::time::Instant::now() + every, every);
    ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tokio::select! {
            _ = ticker.tick() => job().await,
            _ = stop.changed() => return,
        }
        if *stop.borrow() {
            return;
        }
    }
}
