//! The durable outbox. Every message is recorded before it is sent; one delivery attempt is
//! made while the caller waits (bounded by `fatura.tempo_max`), and a failed one is retried
//! by the background worker with backoff. A message is claimed (`claimed_until`) by one
//! process at a time, so several processes never send it twice.

use chrono::{DateTime, TimeDelta, Utc};

use crate::app::AppState;
use crate::domain::states::MessageStatus;
use crate::store::{invoices, ts};

#[derive(Debug, Clone, sqlx::FromRow)]
struct MessageRow {
    id: i64,
    channel: String,
    recipient: String,
    subject: Option<String>,
    body: String,
    body_html: Option<String>,
    invoice_ids: Option<String>,
    attempts: i64,
}

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

/// Claims a message for one attempt; false when another process holds it or it is done.
pub async fn claim(state: &AppState, id: i64, now: DateTime<Utc>) -> Result<bool, sqlx::Error> {
    let hold = hold(state.settings.fatura.tempo_max);
    let done = sqlx::query(
        "UPDATE messages SET status = 'sending', claimed_until = $1 WHERE id = $2 \
         AND status IN ('queued', 'failed', 'sending') \
         AND (claimed_until IS NULL OR claimed_until <= $3)",
    )
    .bind(ts(now + hold))
    .bind(id)
    .bind(ts(now))
    .execute(&state.store.pool)
    .await?;
    Ok(done.rows_affected() > 0)
}

/// Makes one attempt at a claimed message and records its outcome.
pub async fn deliver(state: &AppState, id: i64) -> Result<(), String> {
    let row: Option<MessageRow> = sqlx::query_as(
        "SELECT id, channel, recipient, subject, body, body_html, invoice_ids, \
         CAST(attempts AS BIGINT) AS attempts FROM messages WHERE id = $1",
    )
    .bind(id)
    .fetch_optional(&state.store.pool)
    .await
    .map_err(|e| e.to_string())?;
    let Some(row) = row else {
        return Err("mensagem inexistente".into());
    };
    let budget =
        std::time::Duration::from_secs_f64(state.settings.fatura.tempo_max.clamp(0.1, 600.0));
    let outcome = match tokio::time::timeout(budget, attempt(state, &row)).await {
        Ok(result) => result,
        Err(_) => Err("tempo esgotado".to_string()),
    };
    if let Err(e) = record(
        state,
        &row,
        outcome.as_ref().map(|_| ()).map_err(String::as_str),
    )
    .await
    {
        tracing::error!(error = %e, mensagem = row.id, "não foi possível registrar o resultado do envio");
    }
    outcome
}

async fn attempt(state: &AppState, row: &MessageRow) -> Result<(), String> {
    match row.channel.as_str() {
        "email" => {
            let to: Vec<String> = row
                .recipient
                .split(',')
                .map(|r| r.trim().to_string())
                .filter(|r| !r.is_empty())
                .collect();
            let attachments = pdfs(state, row.invoice_ids.as_deref()).await?;
            state
                .notifier
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
                result = state.notifier.send_sms(row.recipient.trim(), text).await;
                if result.is_err() {
                    break;
                }
            }
            result
        }
    }
}

/// The PDFs of the invoices, rendered now (a late invoice shows today's corrected amount).
async fn pdfs(state: &AppState, ids: Option<&str>) -> Result<Vec<(String, Vec<u8>)>, String> {
    let mut out = Vec::new();
    let now = Utc::now();
    for id in ids
        .unwrap_or("")
        .split(',')
        .filter_map(|i| i.trim().parse::<i64>().ok())
    {
        let Some(inv) = invoices::by_id(&state.store, id)
            .await
            .map_err(|e| e.to_string())?
        else {
            continue;
        };
        let bytes = crate::http::pdf::invoice_pdf(state, &inv, now).map_err(|e| e.to_string())?;
        out.push((format!("fatura-{id}.pdf"), bytes));
    }
    Ok(out)
}

async fn record(
    state: &AppState,
    row: &MessageRow,
    outcome: Result<(), &str>,
) -> Result<(), sqlx::Error> {
    let now = Utc::now();
    match outcome {
        Ok(()) => {
            sqlx::query(
                "UPDATE messages SET status = 'sent', attempts = attempts + 1, sent_at = $1, \
                 last_error = NULL, claimed_until = NULL WHERE id = $2",
            )
            .bind(ts(now))
            .bind(row.id)
            .execute(&state.store.pool)
            .await?;
        }
        Err(error) => {
            let attempts = row.attempts + 1;
            let give_up = attempts >= i64::from(state.settings.fatura.max_tentativas.max(1));
            sqlx::query(
                "UPDATE messages SET status = $1, attempts = attempts + 1, last_error = $2, \
                 next_attempt_at = $3, claimed_until = NULL WHERE id = $4",
            )
            .bind(if give_up {
                MessageStatus::Abandoned
            } else {
                MessageStatus::Failed
            })
            .bind(error)
            .bind(ts(
                now + backoff(attempts, state.settings.fatura.espera_inicial)
            ))
            .bind(row.id)
            .execute(&state.store.pool)
            .await?;
            if give_up {
                tracing::error!(
                    mensagem = row.id,
                    "envio abandonado após {attempts} tentativas: {error}"
                );
            }
        }
    }
    Ok(())
}

/// The worker's turn: every message due for an attempt (failed and past its backoff, or
/// left `sending` by a process that died), claimed one by one.
pub async fn run_once(state: &AppState) -> Result<usize, sqlx::Error> {
    let now = Utc::now();
    let due: Vec<i64> = sqlx::query_scalar(
        "SELECT id FROM messages WHERE \
         ((status IN ('queued', 'failed') AND (next_attempt_at IS NULL OR next_attempt_at <= $1)) \
          OR (status = 'sending' AND claimed_until <= $1)) \
         ORDER BY id LIMIT 100",
    )
    .bind(ts(now))
    .fetch_all(&state.store.pool)
    .await?;
    let mut sent = 0;
    for id in due {
        if !claim(state, id, Utc::now()).await? {
            continue;
        }
        match deliver(state, id).await {
            Ok(()) => {
                tracing::info!(mensagem = id, "mensagem reenviada");
                sent += 1;
            }
            Err(e) => tracing::warn!(mensagem = id, "nova tentativa de envio falhou: {e}"),
        }
    }
    Ok(sent)
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
