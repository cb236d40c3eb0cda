//! The durable outbox. Every message is recorded before it is sent; one delivery attempt is
//! made while the caller waits (bounded by `fatura.tempo_max`), and a failed one is retried
//! by the background worker with backoff. A message is claimed (`claimed_until`) by one
//! process at a time, so several processes never send it twice.

use std::sync::Arc;

use chrono::{DateTime, TimeDelta, Utc};
use futures_util::stream::{self, StreamExt};
use tokio_util::sync::CancellationToken;

use super::Notifier;
use super::invoice_doc::InvoiceDocument;
use crate::settings::InvoiceSettings;
use crate::store::messages::{self, Message};
use crate::store::{Store, invoices};

/// Messages read at once by the worker.
const BATCH: i64 = 100;
/// Messages the worker delivers at once (SMTP sessions, SMS requests).
const AT_ONCE: usize = 8;

/// Backoff after the `attempts`-th failure: `base`, twice that, four times... at most 1 h
/// (with the default base of 30 s: 30 s, 1 min, 2 min, ...).
pub fn backoff(attempts: i64, base_seconds: f64) -> TimeDelta {
    let exp = attempts.clamp(1, 12) - 1;
    let millis = (base_seconds.clamp(0.01, 3600.0) * 1000.0) as i64;
    TimeDelta::milliseconds((millis << exp).min(3_600_000))
}

/// How long a claim outlives its attempt's budget: room for recording the outcome and for
/// clocks of several hosts that disagree a little. A process that dies holding a claim
/// delays that message by this much (plus the budget), no more.
pub const CLAIM_MARGIN: TimeDelta = TimeDelta::seconds(10);

/// How long one attempt holds a message.
pub fn hold(tempo_max: f64) -> TimeDelta {
    TimeDelta::milliseconds((tempo_max.clamp(0.1, 600.0) * 1000.0) as i64) + CLAIM_MARGIN
}

/// Sends recorded messages and records each attempt's outcome.
#[derive(Clone)]
pub struct Outbox {
    pub store: Store,
    pub notifier: Arc<Notifier>,
    pub document: InvoiceDocument,
    pub settings: InvoiceSettings,
}

impl Outbox {
    /// Makes one attempt at a claimed message and records its outcome.
    pub async fn deliver(&self, id: i64) -> Result<(), String> {
        match self.deliver_many(&[id]).await.pop() {
            Some((_, error)) => Err(error),
            None => Ok(()),
        }
    }

    /// Makes one attempt at each of the claimed messages, one after the other, each within
    /// `fatura.tempo_max`; reads them in one query and records their outcomes in one
    /// transaction. The ids not delivered, with why.
    pub async fn deliver_many(&self, ids: &[i64]) -> Vec<(i64, String)> {
        let rows = match messages::by_ids(&self.store, ids).await {
            Ok(rows) => rows,
            Err(e) => return ids.iter().map(|&id| (id, e.to_string())).collect(),
        };
        let mut missing: Vec<(i64, String)> = ids
            .iter()
            .filter(|id| !rows.iter().any(|r| r.id == **id))
            .map(|&id| (id, "mensagem inexistente".to_string()))
            .collect();
        let budget = std::time::Duration::from_secs_f64(self.settings.tempo_max.clamp(0.1, 600.0));
        let mut sent = Vec::new();
        let mut errors = Vec::new();
        for row in &rows {
            match tokio::time::timeout(budget, self.attempt(row)).await {
                Ok(Ok(())) => sent.push(row.id),
                Ok(Err(e)) => errors.push((row, e)),
                Err(_) => errors.push((row, "tempo esgotado".to_string())),
            }
        }
        let now = Utc::now();
        let failed: Vec<messages::Failed> = errors
            .iter()
            .map(|(row, error)| {
                let (give_up, next) = self.after_failure(row, error, now);
                messages::Failed {
                    id: row.id,
                    error,
                    give_up,
                    next_attempt: next,
                }
            })
            .collect();
        if let Err(e) = messages::record_outcomes(&self.store, &sent, &failed, now).await {
            tracing::error!(error = %e, "não foi possível registrar o resultado dos envios");
        }
        missing.extend(errors.into_iter().map(|(row, e)| (row.id, e)));
        missing
    }

    async fn attempt(&self, row: &Message) -> Result<(), String> {
        match row.channel.as_str() {
            "email" => {
                let to: Vec<String> = row
                    .recipient
                    .split(',')
                    .map(|r| r.trim().to_string())
                    .filter(|r| !r.is_empty())
                    .collect();
                let attachments = self.pdfs(row.invoice_ids.as_deref()).await?;
                self.notifier
                    .send_email(
                        &to,
                        row.subject.as_deref().unwrap_or_default(),
                        &row.body,
                        row.body_html.as_deref(),
                        attachments,
                    )
                    .await
            }
            _ => {
                let mut result = Ok(());
                // One SMS per line (one per invoice).
                for text in row.body.lines().filter(|l| !l.trim().is_empty()) {
                    result = self.notifier.send_sms(row.recipient.trim(), text).await;
                    if result.is_err() {
                        break;
                    }
                }
                result
            }
        }
    }

    /// The PDFs of the invoices, rendered now (a late invoice shows today's corrected amount).
    async fn pdfs(&self, ids: Option<&str>) -> Result<Vec<(String, Vec<u8>)>, String> {
        let mut out = Vec::new();
        let now = Utc::now();
        for id in ids
            .unwrap_or("")
            .split(',')
            .filter_map(|i| i.trim().parse::<i64>().ok())
        {
            let Some(inv) = invoices::by_id(&self.store, id)
                .await
                .map_err(|e| e.to_string())?
            else {
                continue;
            };
            let bytes = self.document.render(&inv, now).map_err(|e| e.to_string())?;
            out.push((format!("fatura-{id}.pdf"), bytes));
        }
        Ok(out)
    }

    /// After a failed attempt: whether the message is abandoned, and when it is tried next.
    fn after_failure(
        &self,
        row: &Message,
        error: &str,
        now: DateTime<Utc>,
    ) -> (bool, DateTime<Utc>) {
        let attempts = row.attempts + 1;
        let give_up = attempts >= i64::from(self.settings.max_tentativas.max(1));
        if give_up {
            tracing::error!(
                mensagem = row.id,
                "envio abandonado após {attempts} tentativas: {error}"
            );
        }
        (
            give_up,
            now + backoff(attempts, self.settings.espera_inicial),
        )
    }

    /// One look for messages due for an attempt: up to `BATCH` of them, in `AT_ONCE` groups
    /// delivered side by side, each group claimed in one statement for as long as its
    /// attempts may take. How many were delivered.
    pub async fn run_once(&self) -> Result<usize, sqlx::Error> {
        Ok(self.pass().await?.0)
    }

    /// The worker's turn: batch after batch while full ones come (a dunning run leaves a
    /// provider's notices queued), until `stop`.
    pub async fn drain(&self, stop: &CancellationToken) -> Result<usize, sqlx::Error> {
        let mut sent = 0;
        loop {
            let started = tokio::time::Instant::now();
            let (now, full) = self.pass().await?;
            sent += now;
            if !full || stop.is_cancelled() {
                return Ok(sent);
            }
            // At most `fatura.envios_por_segundo`: a full batch takes at least its share.
            let least = self.batch_time().saturating_sub(started.elapsed());
            tokio::select! {
                () = tokio::time::sleep(least) => {}
                () = stop.cancelled() => return Ok(sent),
            }
        }
    }

    /// The least time a batch of `BATCH` takes at `fatura.envios_por_segundo` (none when 0).
    fn batch_time(&self) -> std::time::Duration {
        let rate = self.settings.envios_por_segundo;
        if rate.is_nan() || rate <= 0.0 {
            return std::time::Duration::ZERO;
        }
        std::time::Duration::from_secs_f64((BATCH as f64 / rate).clamp(0.0, 3600.0))
    }

    /// `run_once`, and whether the batch was full (more may be due).
    async fn pass(&self) -> Result<(usize, bool), sqlx::Error> {
        let due = messages::due(&self.store, Utc::now(), BATCH).await?;
        let full = due.len() as i64 == BATCH;
        let group = due.len().div_ceil(AT_ONCE).max(1);
        let groups: Vec<Vec<i64>> = due.chunks(group).map(<[i64]>::to_vec).collect();
        let outcomes: Vec<Result<usize, sqlx::Error>> = stream::iter(groups)
            .map(|ids| self.retry(ids))
            .buffer_unordered(AT_ONCE)
            .collect()
            .await;
        let mut sent = 0;
        for outcome in outcomes {
            sent += outcome?;
        }
        Ok((sent, full))
    }

    /// One group of the worker's turn: how many were delivered now.
    async fn retry(&self, ids: Vec<i64>) -> Result<usize, sqlx::Error> {
        let now = Utc::now();
        // The group's attempts run one after the other: its claim lasts for all of them.
        let attempts = i32::try_from(ids.len()).unwrap_or(i32::MAX);
        let budget = hold(self.settings.tempo_max) - CLAIM_MARGIN;
        let until = now + budget * attempts + CLAIM_MARGIN;
        let claimed = messages::claim_many(&self.store, &ids, now, until).await?;
        if claimed.is_empty() {
            return Ok(0);
        }
        let failed = self.deliver_many(&claimed).await;
        for (id, e) in &failed {
            tracing::warn!(mensagem = id, "nova tentativa de envio falhou: {e}");
        }
        let sent = claimed.len() - failed.len();
        if sent > 0 {
            tracing::info!("{sent} mensagem(ns) enviada(s) pela fila");
        }
        Ok(sent)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_grows_and_is_capped() {
        assert_eq!(backoff(1, 30.0), TimeDelta::seconds(30));
        assert_eq!(backoff(2, 30.0), TimeDelta::seconds(60));
        assert_eq!(backoff(3, 30.0), TimeDelta::seconds(120));
        assert_eq!(backoff(20, 30.0), TimeDelta::seconds(3600));
        assert_eq!(backoff(0, 30.0), TimeDelta::seconds(30));
        assert_eq!(backoff(2, 0.2), TimeDelta::milliseconds(400));
    }
}
