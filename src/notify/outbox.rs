//! The durable outbox. Every message is recorded before it is sent; one delivery attempt is
//! made while the caller waits (bounded by `fatura.tempo_max`), and a failed one is retried
//! by the background worker with backoff. A message is claimed (`claimed_until`) by one
//! process at a time, so several processes never send it twice.

use std::sync::Arc;

use chrono::{DateTime, TimeDelta, Utc};

use super::Notifier;
use super::invoice_doc::InvoiceDocument;
use crate::settings::InvoiceSettings;
use crate::store::messages::{self, Message};
use crate::store::{Store, invoices};

/// Messages taken per worker turn at most; the next turn takes the rest.
const BATCH: i64 = 100;

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
    /// Claims a message for one attempt; false when another process holds it or it is done.
    pub async fn claim(&self, id: i64, now: DateTime<Utc>) -> Result<bool, sqlx::Error> {
        messages::claim(&self.store, id, now, now + hold(self.settings.tempo_max)).await
    }

    /// Makes one attempt at a claimed message and records its outcome.
    pub async fn deliver(&self, id: i64) -> Result<(), String> {
        let row = messages::by_id(&self.store, id)
            .await
            .map_err(|e| e.to_string())?;
        let Some(row) = row else {
            return Err("mensagem inexistente".into());
        };
        let budget = std::time::Duration::from_secs_f64(self.settings.tempo_max.clamp(0.1, 600.0));
        let outcome = match tokio::time::timeout(budget, self.attempt(&row)).await {
            Ok(result) => result,
            Err(_) => Err("tempo esgotado".to_string()),
        };
        if let Err(e) = self
            .record(&row, outcome.as_ref().map(|_| ()).map_err(String::as_str))
            .await
        {
            tracing::error!(error = %e, mensagem = row.id, "não foi possível registrar o resultado do envio");
        }
        outcome
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

    async fn record(&self, row: &Message, outcome: Result<(), &str>) -> Result<(), sqlx::Error> {
        let now = Utc::now();
        match outcome {
            Ok(()) => messages::mark_sent(&self.store, row.id, now).await,
            Err(error) => {
                let attempts = row.attempts + 1;
                let give_up = attempts >= i64::from(self.settings.max_tentativas.max(1));
                let next = now + backoff(attempts, self.settings.espera_inicial);
                messages::mark_failed(&self.store, row.id, error, give_up, next).await?;
                if give_up {
                    tracing::error!(
                        mensagem = row.id,
                        "envio abandonado após {attempts} tentativas: {error}"
                    );
                }
                Ok(())
            }
        }
    }

    /// The worker's turn: every message due for an attempt, claimed one by one.
    pub async fn run_once(&self) -> Result<usize, sqlx::Error> {
        let due = messages::due(&self.store, Utc::now(), BATCH).await?;
        let mut sent = 0;
        for id in due {
            if !self.claim(id, Utc::now()).await? {
                continue;
            }
            match self.deliver(id).await {
                Ok(()) => {
                    tracing::info!(mensagem = id, "mensagem reenviada");
                    sent += 1;
                }
                Err(e) => tracing::warn!(mensagem = id, "nova tentativa de envio falhou: {e}"),
            }
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
