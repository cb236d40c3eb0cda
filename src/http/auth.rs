//! The `token` + `app` pair, from parameters or from the `Authorization: Token` and `App`
//! headers.

use std::time::{Duration, Instant};

use axum::http::HeaderMap;

use super::error::{ApiError, MSG_BAD_CREDENTIALS, MSG_NO_CREDENTIALS};
use super::params::Params;
use crate::app::AppState;
use crate::store::apps::{self, App};

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

pub async fn authenticate(
    state: &AppState,
    headers: &HeaderMap,
    params: &Params,
) -> Result<App, ApiError> {
    let token = params.get("token").or_else(|| header_token(headers));
    let name = params.get("app").or_else(|| header(headers, "app"));
    let (Some(token), Some(name)) = (token, name) else {
        return Err(ApiError::forbidden(MSG_NO_CREDENTIALS));
    };
    let Some(app) = apps::authenticate(&state.store, name, token).await? else {
        tracing::info!("credenciais incorretas");
        return Err(ApiError::forbidden(MSG_BAD_CREDENTIALS));
    };
    note_use(state, app.id);
    Ok(app)
}

/// Records the app's last use off the answer's path, at most once a minute.
fn note_use(state: &AppState, id: i64) {
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
