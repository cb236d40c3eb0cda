//! The URA app of a request, as an extractor: the `token` + `app` pair from the parameters or
//! from the `Authorization: Token` and `App` headers, checked against the apps, their
//! networks and their request limit. A handler that takes a `UraApp` cannot skip the check:
//! only this module makes one.

use std::ops::Deref;
use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::extract::FromRequestParts;
use axum::http::HeaderMap;
use axum::http::request::Parts;

use super::error::ApiError;
use super::limits::Client;
use super::params::Params;
use super::state::UraState;
use crate::store::apps::{self, App};

/// An app whose credentials matched, called from one of its networks, within its limit.
#[derive(Debug)]
pub struct UraApp(App);

impl Deref for UraApp {
    type Target = App;
    fn deref(&self) -> &App {
        &self.0
    }
}

/// The client as the limits see it, put in the request's extensions beside its parsed
/// `Params` before the app is extracted.
#[derive(Debug, Clone, Copy)]
pub struct ClientIp(pub Client);

impl FromRequestParts<Arc<UraState>> for UraApp {
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &Arc<UraState>,
    ) -> Result<UraApp, ApiError> {
        let client = parts
            .extensions
            .get::<ClientIp>()
            .map(|c| c.0)
            .unwrap_or_default();
        let params = parts.extensions.get::<Params>();
        let app = match authenticate(state, &parts.headers, params).await {
            Ok(app) => app,
            Err(e) => {
                // A wrong pair is a guess; missing credentials are a misconfigured client.
                if matches!(e, ApiError::BadCredentials) {
                    state.limits.auth_failed(client);
                }
                return Err(e);
            }
        };
        // An app limited to some networks: from elsewhere its credentials are wrong.
        if !app.allowed_networks.is_empty()
            && !client
                .ip
                .is_some_and(|ip| app.allowed_networks.iter().any(|n| n.contains(&ip)))
        {
            tracing::warn!(app = %app.name, "app fora das redes permitidas");
            state.limits.auth_failed(client);
            return Err(ApiError::BadCredentials);
        }
        Ok(UraApp(app))
    }
}

fn header<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers
        .get(name)
        .and_then(|v| v.to_str().ok())
        .map(str::trim)
        .filter(|v| !v.is_empty())
}

fn header_token(headers: &HeaderMap) -> Option<&str> {
    let value = header(headers, "authorization")?;
    let (scheme, token) = value.split_once(' ')?;
    let token = token.trim();
    (scheme.eq_ignore_ascii_case("token") || scheme.eq_ignore_ascii_case("bearer"))
        .then_some(token)
        .filter(|t| !t.is_empty())
}

async fn authenticate(
    state: &UraState,
    headers: &HeaderMap,
    params: Option<&Params>,
) -> Result<App, ApiError> {
    let token = params
        .and_then(|p| p.get("token"))
        .or_else(|| header_token(headers));
    let name = params
        .and_then(|p| p.get("app"))
        .or_else(|| header(headers, "app"));
    let (Some(token), Some(name)) = (token, name) else {
        return Err(ApiError::NoCredentials);
    };
    let Some(app) = apps::authenticate(&state.store, name, token).await? else {
        tracing::info!("credenciais incorretas");
        return Err(ApiError::BadCredentials);
    };
    note_use(state, app.id);
    Ok(app)
}

/// Records the app's last use off the answer's path, at most once a minute.
fn note_use(state: &UraState, id: i64) {
    let due = {
        let Ok(mut seen) = state.app_seen.lock() else {
            return;
        };
        let now = Instant::now();
        match seen.get(&id) {
            Some(t) if now.duration_since(*t) < Duration::from_secs(60) => false,
            _ => {
                seen.insert(id, now);
                true
            }
        }
    };
    if due {
        let store = state.store.clone();
        tokio::spawn(async move {
            if let Err(e) = apps::touch(&store, id).await {
                tracing::debug!(error = %e, "não foi possível registrar o último uso do app");
            }
        });
    }
}
