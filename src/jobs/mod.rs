//! Background loops of `ura serve`: each calls a service on a timer until the server's
//! `CancellationToken` is cancelled. Each is safe with several processes running it at once:
//! work is claimed with a conditional update, so nothing is done twice and nothing is missed.
//! May import `services` and everything below it; never `app` or another transport.

use std::time::Duration;

use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

use crate::notify::outbox::Outbox;
use crate::services::dunning::Dunning;
use crate::services::nas_health::NasHealth;
use crate::services::promise_expiry::PromiseExpiry;
use crate::store::Store;

/// The services the loops call, and how often.
#[derive(Clone)]
pub struct Jobs {
    pub store: Store,
    pub expiry: PromiseExpiry,
    pub outbox: Outbox,
    pub nas_health: NasHealth,
    /// The dunning rule (when `cobranca.ativo`).
    pub dunning: Dunning,
    pub dunning_every: Duration,
    /// Days the audit trail is kept (0: for ever).
    pub audit_days: u32,
    pub expiry_every: Duration,
    pub outbox_every: Duration,
    pub health_every: Duration,
}

/// A period from settings, in seconds, kept within sense.
pub fn period(seconds: f64) -> Duration {
    Duration::from_secs_f64(seconds.clamp(0.05, 86_400.0))
}

impl Jobs {
    /// Starts the loops; they end when `stop` is cancelled.
    pub fn spawn(&self, stop: &CancellationToken) -> Vec<JoinHandle<()>> {
        let housekeeping = self.clone();
        let expiry = self.expiry.clone();
        let outbox = self.outbox.clone();
        let outbox_stop = stop.clone();
        let health = self.nas_health.clone();
        let mut loops = Vec::new();
        if self.dunning.rule.is_some() {
            let dunning = self.dunning.clone();
            loops.push(every(self.dunning_every, stop.clone(), move || {
                let dunning = dunning.clone();
                async move {
                    match dunning.run_each(false, |_| {}).await {
                        Ok(tally) => {
                            if tally.done > 0 {
                                tracing::info!(
                                    mensagens_na_fila = tally.queued,
                                    "cobrança: {} ação(ões) em {} contrato(s)", tally.done, tally.lines
                                );
                            }
                        }
                        Err(e) => {
                            tracing::warn!(error = %e, "cobrança falhou; nova tentativa no próximo ciclo")
                        }
                    }
                }
            }));
        }
        loops.extend([
            every(Duration::from_secs(3600), stop.clone(), move || {
                let jobs = housekeeping.clone();
                async move { jobs.housekeeping().await }
            }),
            every(self.expiry_every, stop.clone(), move || {
                let expiry = expiry.clone();
                async move {
                    if let Err(e) = expiry.run_once().await {
                        tracing::warn!(error = %e, "verificação de promessas vencidas falhou; nova tentativa no próximo ciclo");
                    }
                }
            }),
            every(self.outbox_every, stop.clone(), move || {
                let (outbox, stop) = (outbox.clone(), outbox_stop.clone());
                async move {
                    if let Err(e) = outbox.drain(&stop).await {
                        tracing::warn!(error = %e, "reenvio de mensagens falhou; nova tentativa no próximo ciclo");
                    }
                }
            }),
            every(self.health_every, stop.clone(), move || {
                let health = health.clone();
                async move {
                    if let Err(e) = health.run_once().await {
                        tracing::warn!(error = %e, "verificação de saúde dos NAS falhou; nova tentativa no próximo ciclo");
                    }
                }
            }),
        ]);
        loops
    }

    /// Old `Idempotency-Key` answers and audit entries past their retention go.
    async fn housekeeping(&self) {
        let now = chrono::Utc::now();
        if let Err(e) = crate::store::idempotency::prune(&self.store, now).await {
            tracing::warn!(error = %e, "limpeza das Idempotency-Key falhou; nova tentativa no próximo ciclo");
        }
        match crate::store::audit::prune(&self.store, self.audit_days, now).await {
            Ok(0) => {}
            Ok(n) => tracing::info!("auditoria: {n} registros antigos apagados"),
            Err(e) => {
                tracing::warn!(error = %e, "limpeza da auditoria falhou; nova tentativa no próximo ciclo")
            }
        }
    }
}

/// Runs `job` every `period` until `stop` is cancelled. The first run is one period after
/// start, not at once: a process that restarts in a loop does not hammer the database.
pub fn every<F, Fut>(period: Duration, stop: CancellationToken, mut job: F) -> JoinHandle<()>
where
    F: FnMut() -> Fut + Send + 'static,
    Fut: std::future::Future<Output = ()> + Send,
{
    tokio::spawn(async move {
        let mut ticker = tokio::time::interval_at(tokio::time::Instant::now() + period, period);
        ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tokio::select! {
                _ = ticker.tick() => {}
                () = stop.cancelled() => return,
            }
            // A job under way finishes before the loop looks at `stop` again.
            job().await;
            if stop.is_cancelled() {
                return;
            }
        }
    })
}
