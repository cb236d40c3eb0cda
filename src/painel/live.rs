//! Live delivery to the agents' screens: Server-Sent Events replaying the event log after
//! the last id the browser saw (`Last-Event-ID` on reconnection), woken at once by this
//! process's actions and, on PostgreSQL, by `LISTEN/NOTIFY` from every other process.

use std::collections::{HashMap, VecDeque};
use std::convert::Infallible;
use std::sync::Arc;
use std::time::Duration;

use axum::extract::{Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::sse::{Event, KeepAlive, Sse};
use axum::response::{IntoResponse, Response};
use chrono::Utc;
use futures_util::Stream;
use serde::Serialize;
use tokio::sync::broadcast;
use tokio_util::sync::CancellationToken;

use super::PainelState;
use super::auth::{self, Denied};
use super::card;
use super::pages::card_html;
use super::views::secure_headers;
use crate::store::agents::{self, Session};
use crate::store::painel;

/// A stream looks at the log at least this often, even if no wake-up reached it.
const POLL: Duration = Duration::from_secs(10);
/// How often the sessions are looked at while streams are open: an agent disabled or signed
/// out (here, by `ura agent disable` in another process, or in the database) loses its
/// stream within this time, not at the stream's next poll.
const SESSIONS_EVERY: Duration = Duration::from_secs(1);
const BATCH: i64 = 100;

struct Live {
    state: Arc<PainelState>,
    token: String,
    session: Session,
    last: i64,
    pending: VecDeque<painel::Event>,
    wake: broadcast::Receiver<()>,
    closing: CancellationToken,
    ended: bool,
}

pub async fn stream(
    State(state): State<Arc<PainelState>>,
    Query(query): Query<HashMap<String, String>>,
    headers: HeaderMap,
) -> Response {
    let session = match auth::current(&state, &headers).await {
        Ok(s) => s,
        Err(Denied::SignIn) => {
            let mut r = (StatusCode::UNAUTHORIZED, "Sessão encerrada.").into_response();
            secure_headers(&mut r);
            return r;
        }
        Err(denied) => return denied.respond(&state, false),
    };
    // Subscribed before the first look at the log, so no event falls in between.
    let wake = state.live.subscribe();
    let given = headers
        .get("last-event-id")
        .and_then(|v| v.to_str().ok())
        .or(query.get("desde").map(String::as_str))
        .and_then(|v| v.trim().parse::<i64>().ok())
        .filter(|v| *v >= 0);
    let last = match given {
        Some(v) => v,
        None => match painel::last_event_id(&state.store).await {
            Ok(v) => v,
            Err(_) => return Denied::Unavailable.respond(&state, false),
        },
    };
    let token = auth::session_token(&headers).unwrap_or_default();
    let closing = state.closing.clone();
    let live = Live {
        state,
        token,
        session,
        last,
        pending: VecDeque::new(),
        wake,
        closing,
        ended: false,
    };
    let mut response = Sse::new(events(live))
        .keep_alive(KeepAlive::new().interval(Duration::from_secs(15)))
        .into_response();
    secure_headers(&mut response);
    // Proxies (nginx) must pass events through as they come.
    response.headers_mut().insert(
        "x-accel-buffering",
        axum::http::HeaderValue::from_static("no"),
    );
    response
}

fn events(live: Live) -> impl Stream<Item = Result<Event, Infallible>> {
    futures_util::stream::unfold(live, |mut live| async move {
        let event = next(&mut live).await?;
        Some((Ok(event), live))
    })
}

/// The next event to send, or None when the stream ends (signed out, server stopping).
async fn next(live: &mut Live) -> Option<Event> {
    loop {
        if live.ended || live.closing.is_cancelled() {
            return None;
        }
        if let Some(event) = live.pending.pop_front() {
            match card_event(live, &event).await {
                Ok(Some(sse)) => {
                    live.last = event.id;
                    return Some(sse);
                }
                Ok(None) => {
                    live.last = event.id;
                    continue;
                }
                Err(e) => {
                    tracing::warn!("painel: evento {} não enviado: {e}", event.id);
                    live.pending.push_front(event);
                    wait(live, Duration::from_secs(1)).await;
                    continue;
                }
            }
        }
        // A signed-out or disabled agent's stream ends at its next look.
        match agents::session(&live.state.store, &live.token, Utc::now()).await {
            Ok(Some(session)) => live.session = session,
            Ok(None) => {
                live.ended = true;
                return Some(Event::default().event("sair").data("sessão encerrada"));
            }
            Err(_) => {}
        }
        match painel::events_after(&live.state.store, live.last, BATCH).await {
            Ok(list) if !list.is_empty() => live.pending.extend(list),
            Ok(_) => wait(live, POLL).await,
            Err(_) => wait(live, Duration::from_secs(1)).await,
        }
    }
}

async fn wait(live: &mut Live, at_most: Duration) {
    tokio::select! {
        _ = live.wake.recv() => {}
        _ = tokio::time::sleep(at_most) => {}
        () = live.closing.cancelled() => {}
    }
}

/// Wakes every live stream when the sessions change, so that a disabled or signed-out
/// agent's stream ends at once. One small query a second for the whole process, and none
/// while no stream is open.
pub async fn watch_sessions(state: Arc<PainelState>, stop: CancellationToken) {
    let mut last = None;
    let mut ticker = tokio::time::interval(SESSIONS_EVERY);
    ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tokio::select! {
            _ = ticker.tick() => {}
            () = stop.cancelled() => return,
        }
        if !state.live.has_listeners() {
            last = None;
            continue;
        }
        if let Ok(now) = agents::sessions_summary(&state.store).await {
            // Also at the first look: a change just before it must not be missed.
            if last != Some(now) {
                state.live.notify();
            }
            last = Some(now);
        }
    }
}

/// The `cartao` event's data: the card a call shows now.
#[derive(Serialize)]
struct CardEvent<'a> {
    id: i64,
    evento: &'a str,
    aberta: bool,
    html: String,
}

/// The card an event changed, as this agent sees it; None when the call is not for them.
async fn card_event(live: &Live, event: &painel::Event) -> Result<Option<Event>, sqlx::Error> {
    let state = &live.state;
    let Some(call) = painel::call(&state.store, event.notification_id).await? else {
        return Ok(None);
    };
    if !live.session.agent.watches(call.queue.as_deref()) {
        return Ok(None);
    }
    let catalogs = card::catalogs(state).await?;
    let html = card_html(state, &call, &live.session, &catalogs).await?;
    let data = CardEvent {
        id: call.id,
        evento: &event.kind,
        aberta: call.handled_at.is_none(),
        html,
    };
    Ok(Some(
        Event::default()
            .id(event.id.to_string())
            .event("cartao")
            .data(serde_json::to_string(&data).unwrap_or_default()),
    ))
}
