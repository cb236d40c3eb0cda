//! The PSP's PIX webhook: `POST /webhooks/pix` (and `/webhooks/pix/pix`, as PSPs append
//! `/pix` to the registered URL; both also with the secret as a path segment). The body is
//! the BACEN API Pix webhook's (version 2.8.2; read in `domain::pix_notice`); each entry pays
//! the invoice holding its txid (`services::pix`). The answer is `200` once every entry is
//! stored; a PSP retries anything else, and a replay pays nothing twice.
//!
//! Authentication, in the forms PSPs offer: the secret `pix.webhook_segredo` in the
//! registered URL (`?hmac=SEGREDO` or a path segment) or an HMAC-SHA256 of the raw body keyed
//! with it in the header `pix.cabecalho_hmac`, compared in constant time; optionally only
//! from `pix.redes_permitidas`. Anything else is `401` and changes nothing. With no secret
//! set the webhook is off and answers `404` (saying so: the route is in the public OpenAPI
//! document anyway).

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::Arc;

use axum::body::{Body, Bytes};
use axum::extract::{ConnectInfo, Path, Query, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use base64::Engine;
use hmac::{Hmac, KeyInit, Mac};
use ipnet::IpNet;
use serde::Serialize;
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

use crate::domain::pix_notice;
use crate::http::limits::{Client, Limits};
use crate::services::pix::{PixNotices, Stored};
use crate::settings::{PixSettings, parse_networks};
use crate::store::is_unavailable;

/// What the webhook needs.
pub struct WebhookState {
    pub notices: PixNotices,
    pub settings: PixSettings,
    /// `pix.redes_permitidas`, parsed (empty: any address).
    pub allowed: Vec<IpNet>,
    /// The client's address behind trusted proxies, and the pause after failures.
    pub limits: Arc<Limits>,
}

impl WebhookState {
    pub fn new(
        notices: PixNotices,
        settings: PixSettings,
        limits: Arc<Limits>,
    ) -> Result<WebhookState, String> {
        let allowed = parse_networks(&settings.redes_permitidas)
            .map_err(|e| format!("pix.redes_permitidas: {e}"))?;
        Ok(WebhookState {
            notices,
            settings,
            allowed,
            limits,
        })
    }
}

/// `POST /webhooks/pix[/pix]`
pub async fn receive(
    State(state): State<Arc<WebhookState>>,
    Query(query): Query<HashMap<String, String>>,
    request: axum::http::Request<Body>,
) -> Response {
    handle(&state, None, &query, request).await
}

/// `POST /webhooks/pix/{segredo}[/pix]`
pub async fn receive_with_secret(
    State(state): State<Arc<WebhookState>>,
    Path(segment): Path<String>,
    Query(query): Query<HashMap<String, String>>,
    request: axum::http::Request<Body>,
) -> Response {
    handle(&state, Some(segment), &query, request).await
}

/// The answer once every entry is stored.
#[derive(Serialize)]
struct Answer {
    recebidas: usize,
    resultados: Vec<EntryAnswer>,
}

#[derive(Serialize)]
struct EntryAnswer {
    #[serde(rename = "endToEndId")]
    end_to_end_id: String,
    /// `pago`, `ja_pago`, `desconhecido`, `recusado`, or `repetida` for a replay.
    resultado: &'static str,
    fatura: Option<i64>,
    devolucoes_registradas: usize,
    reaberta: bool,
}

impl From<Stored> for EntryAnswer {
    fn from(s: Stored) -> Self {
        EntryAnswer {
            end_to_end_id: s.end_to_end_id,
            resultado: s.outcome.map_or("repetida", |o| o.as_str()),
            fatura: s.invoice_id,
            devolucoes_registradas: s.refunds_changed,
            reaberta: s.reopened,
        }
    }
}

async fn handle(
    state: &WebhookState,
    segment: Option<String>,
    query: &HashMap<String, String>,
    request: axum::http::Request<Body>,
) -> Response {
    let Some(secret) = state.settings.secret() else {
        return refuse(
            StatusCode::NOT_FOUND,
            "Webhook PIX desligado: defina pix.webhook_segredo.",
        );
    };
    let peer = request
        .extensions()
        .get::<ConnectInfo<SocketAddr>>()
        .map(|c| c.0);
    let client = state.limits.client(peer, request.headers());
    if let Err(e) = state.limits.check_address(client) {
        return e.into_response();
    }
    if !state.allowed.is_empty()
        && !client
            .ip
            .is_some_and(|ip| state.allowed.iter().any(|n| n.contains(&ip)))
    {
        return unauthenticated(state, client, "endereço fora de pix.redes_permitidas");
    }
    let headers = request.headers().clone();
    let body = match axum::body::to_bytes(request.into_body(), state.settings.corpo_max).await {
        Ok(body) => body,
        Err(_) => {
            return refuse(
                StatusCode::PAYLOAD_TOO_LARGE,
                &format!(
                    "Notificação maior que pix.corpo_max ({} bytes).",
                    state.settings.corpo_max
                ),
            );
        }
    };
    let given = [segment.as_deref(), query.get("hmac").map(String::as_str)];
    if !authentic(
        secret,
        &given,
        &state.settings.cabecalho_hmac,
        &headers,
        &body,
    ) {
        return unauthenticated(state, client, "segredo ou assinatura ausente ou inválido");
    }
    let notices = match pix_notice::parse(&body) {
        Ok(n) => n,
        Err(message) => {
            tracing::warn!(erro = %message, "webhook pix: notificação recusada");
            return refuse(StatusCode::BAD_REQUEST, &message);
        }
    };
    match state.notices.receive(&notices).await {
        Ok(stored) => {
            let resultados: Vec<EntryAnswer> = stored.into_iter().map(Into::into).collect();
            for r in &resultados {
                tracing::info!(
                    end_to_end_id = %r.end_to_end_id,
                    resultado = r.resultado,
                    fatura = ?r.fatura,
                    "webhook pix: pagamento registrado"
                );
            }
            (
                StatusCode::OK,
                [(header::CACHE_CONTROL, "no-store")],
                axum::Json(Answer {
                    recebidas: resultados.len(),
                    resultados,
                }),
            )
                .into_response()
        }
        Err(e) if is_unavailable(&e) => {
            tracing::warn!("webhook pix: banco indisponível: {e}");
            refuse(
                StatusCode::SERVICE_UNAVAILABLE,
                "Serviço temporariamente indisponível.",
            )
        }
        Err(e) => {
            tracing::error!("webhook pix: {e}");
            refuse(StatusCode::INTERNAL_SERVER_ERROR, "Erro interno.")
        }
    }
}

/// The secret given in the URL (path segment or `?hmac=`), or the body's HMAC-SHA256 in the
/// header, each compared in constant time.
fn authentic(
    secret: &str,
    given: &[Option<&str>],
    header_name: &str,
    headers: &HeaderMap,
    body: &Bytes,
) -> bool {
    // Digests of equal length: the comparison says nothing of the secret's length.
    let expected = Sha256::digest(secret.as_bytes());
    let by_url = given
        .iter()
        .flatten()
        .any(|g| bool::from(Sha256::digest(g.as_bytes()).ct_eq(&expected)));
    if by_url {
        return true;
    }
    let Some(signature) = headers
        .get(header_name.trim())
        .and_then(|v| v.to_str().ok())
        .and_then(decode_signature)
    else {
        return false;
    };
    let Ok(mut mac) = <Hmac<Sha256> as KeyInit>::new_from_slice(secret.as_bytes()) else {
        return false;
    };
    mac.update(body);
    mac.verify_slice(&signature).is_ok()
}

/// `sha256=`-prefixed or bare, hex (64 digits) or base64 (standard or URL-safe).
fn decode_signature(text: &str) -> Option<Vec<u8>> {
    let text = text.trim();
    let text = text
        .strip_prefix("sha256=")
        .or_else(|| text.strip_prefix("SHA256="))
        .unwrap_or(text);
    if text.len() == 64 && text.bytes().all(|b| b.is_ascii_hexdigit()) {
        return hex::decode(text).ok();
    }
    let engines = [
        base64::engine::general_purpose::STANDARD,
        base64::engine::general_purpose::URL_SAFE,
        base64::engine::general_purpose::URL_SAFE_NO_PAD,
        base64::engine::general_purpose::STANDARD_NO_PAD,
    ];
    engines
        .iter()
        .find_map(|e| e.decode(text).ok())
        .filter(|d| d.len() == 32)
}

fn unauthenticated(state: &WebhookState, client: Client, why: &str) -> Response {
    state.limits.auth_failed(client);
    let ip = client.ip;
    // Never the secret, nor what was given in its place.
    tracing::warn!(endereco = ?ip, motivo = why, "webhook pix: notificação não autenticada");
    refuse(StatusCode::UNAUTHORIZED, "Notificação não autenticada.")
}

/// `{"detail": ...}`, not cached.
fn refuse(status: StatusCode, detail: &str) -> Response {
    (
        status,
        [(header::CACHE_CONTROL, "no-store")],
        axum::Json(serde_json::json!({ "detail": detail })),
    )
        .into_response()
}

#[cfg(test)]
mod tests {
    use super::*;

    const SECRET: &str = "segredo-de-teste-1234";

    fn signed(body: &[u8]) -> Vec<u8> {
        let mut mac = <Hmac<Sha256> as KeyInit>::new_from_slice(SECRET.as_bytes()).unwrap();
        mac.update(body);
        mac.finalize().into_bytes().to_vec()
    }

    fn with_header(value: &str) -> HeaderMap {
        let mut h = HeaderMap::new();
        h.insert("x-webhook-signature", value.parse().unwrap());
        h
    }

    #[test]
    fn the_secret_in_the_url_or_the_bodys_hmac() {
        let body = Bytes::from_static(b"{\"pix\":[]}");
        let none = HeaderMap::new();
        let check = |given: &[Option<&str>], headers: &HeaderMap| {
            authentic(SECRET, given, "X-Webhook-Signature", headers, &body)
        };
        assert!(check(&[Some(SECRET), None], &none));
        assert!(check(&[None, Some(SECRET)], &none));
        assert!(!check(&[Some("segredo-de-teste-123"), None], &none));
        assert!(!check(&[None, None], &none));
        let mac = signed(&body);
        let b64 = base64::engine::general_purpose::STANDARD.encode(&mac);
        for value in [
            hex::encode(&mac),
            hex::encode_upper(&mac),
            format!("sha256={}", hex::encode(&mac)),
            b64.clone(),
        ] {
            assert!(check(&[None, None], &with_header(&value)), "{value}");
        }
        // Another body, another key, a truncated or garbled signature: refused.
        let other = signed(b"{\"pix\":[{}]}");
        for value in [
            hex::encode(&other),
            hex::encode(&mac[..16]),
            "zz".repeat(32),
            String::new(),
        ] {
            assert!(!check(&[None, None], &with_header(&value)), "{value}");
        }
    }
}
