//! `Idempotency-Key` (CONTRACT.md §1): a repeat of a request with the same key from the same
//! app within 24 hours gets the first answer again and does nothing again, whichever process
//! answers it. IVRs retry on timeouts; this is how they avoid two tickets for one call.

use std::future::Future;
use std::time::Duration;

use axum::http::HeaderMap;
use chrono::{TimeDelta, Utc};
use serde_json::Value;
use sha2::{Digest, Sha256};

use super::error::ApiError;
use super::ura::{Ctx, Function};
use crate::store::idempotency::{self, Claim};

const HEADER: &str = "idempotency-key";
const MAX_LEN: usize = 255;

/// The request's key, if it has one; a malformed one is a `400`.
pub fn key(headers: &HeaderMap) -> Result<Option<String>, ApiError> {
    let Some(value) = headers.get(HEADER) else {
        return Ok(None);
    };
    let key = value.to_str().map(str::trim).unwrap_or("");
    if key.is_empty() || key.len() > MAX_LEN || !key.bytes().all(|b| b.is_ascii_graphic()) {
        return Err(ApiError::bad_request(format!(
            "Cabeçalho 'Idempotency-Key' inválido: use de 1 a {MAX_LEN} caracteres ASCII visíveis."
        )));
    }
    Ok(Some(key.to_string()))
}

/// What the request asks for: the function, its path argument and its parameters.
fn fingerprint(ctx: &Ctx, function: Function) -> String {
    let mut hash = Sha256::new();
    hash.update(function.name().as_bytes());
    hash.update([0]);
    hash.update(ctx.path_arg.as_deref().unwrap_or("").as_bytes());
    for (k, v) in ctx.params.fingerprint_pairs() {
        hash.update([0]);
        hash.update(k.as_bytes());
        hash.update([1]);
        hash.update(v.as_bytes());
    }
    hex::encode(hash.finalize())
}

fn conflict(detail: &str) -> ApiError {
    ApiError::Conflict(detail.to_string())
}

/// Answers with `run` the first time the key is seen, and with that answer afterwards.
pub async fn answer_once(
    ctx: &Ctx,
    function: Function,
    key: &str,
    run: impl Future<Output = Result<Value, ApiError>>,
) -> Result<Value, ApiError> {
    let store = &ctx.state.store;
    let fingerprint = fingerprint(ctx, function);
    // A claim older than twice the request timeout belongs to a process that died.
    let timeout = ctx.state.settings.request_timeout();
    let stale = TimeDelta::from_std(timeout * 2).unwrap_or(TimeDelta::minutes(1));
    let started = tokio::time::Instant::now();
    loop {
        match idempotency::claim(store, ctx.app.id, key, &fingerprint, Utc::now(), stale).await? {
            Claim::First => break,
            Claim::Answered(answer) => {
                tracing::info!(app = %ctx.app.name, "Idempotency-Key repetida: primeira resposta");
                return serde_json::from_str(&answer).map_err(|_| ApiError::internal());
            }
            Claim::Mismatch => {
                return Err(conflict(
                    "Idempotency-Key já usada em outra requisição deste app.",
                ));
            }
            Claim::InFlight => {
                // The first request is still being answered (here or in another process).
                if started.elapsed() + Duration::from_millis(100) >= timeout.mul_f64(0.8) {
                    return Err(conflict(
                        "Requisição com esta Idempotency-Key ainda em andamento.",
                    ));
                }
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
        }
    }
    let result = run.await;
    match &result {
        Ok(answer) => {
            idempotency::finish(store, ctx.app.id, key, &answer.to_string()).await?;
        }
        // Nothing to replay: a retry may try again.
        Err(_) => {
            if let Err(e) = idempotency::release(store, ctx.app.id, key).await {
                tracing::warn!("Idempotency-Key não liberada: {e}");
            }
        }
    }
    result
}
