//! What an agent does with a call: take it, open a ticket from it, mark it handled. Each
//! records an event, so every agent's screen follows. Scripts ask for JSON (the new card and
//! a message); plain forms are sent back to the list.

use std::collections::HashMap;
use std::sync::Arc;

use axum::Json;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use chrono::Utc;
use serde::Serialize;

use super::PainelState;
use super::auth::{AgentPost, wants_json};
use super::card;
use super::pages::card_html;
use super::path;
use super::views::{error_page, secure_headers};
use crate::services::{self, protocols::TicketSpec};
use crate::store::agents::Session;
use crate::store::painel::{self, EventKind, Refusal};
use crate::store::protocols::Owner;
use crate::store::{catalogs, is_unavailable};

/// Longest ticket text accepted from the console.
const MAX_TEXT_CHARS: usize = 4000;

/// What an action answers a script: the call's card as it now is.
#[derive(Serialize)]
struct ActionDone<'a> {
    id: i64,
    mensagem: &'a str,
    protocolo: Option<&'a str>,
    html: String,
    aberta: bool,
}

/// A refusal, as JSON.
#[derive(Serialize)]
struct Detail<'a> {
    detail: &'a str,
}

/// A refusal the agent can act on (409, 422), as JSON or as a page.
fn refuse(state: &PainelState, headers: &HeaderMap, status: StatusCode, message: &str) -> Response {
    if wants_json(headers) {
        let mut r = (status, Json(Detail { detail: message })).into_response();
        secure_headers(&mut r);
        r
    } else {
        error_page(status, &state.settings.base_path, message)
    }
}

fn failed(state: &PainelState, headers: &HeaderMap, e: sqlx::Error) -> Response {
    if is_unavailable(&e) {
        tracing::warn!("painel: banco indisponível: {e}");
    } else {
        tracing::error!("painel: falha ao registrar a ação: {e}");
    }
    let message = "Não foi possível registrar agora. Tente novamente em instantes.";
    refuse(state, headers, StatusCode::SERVICE_UNAVAILABLE, message)
}

/// The answer to a done action: the card as it is now, and a message.
async fn done(
    state: &PainelState,
    headers: &HeaderMap,
    session: &Session,
    id: i64,
    message: &str,
    protocol: Option<&str>,
) -> Response {
    state.live.notify();
    if !wants_json(headers) {
        let mut r = Redirect::to(&format!("{}#chamada-{id}", path(state, ""))).into_response();
        secure_headers(&mut r);
        return r;
    }
    let html = async {
        let Some(call) = painel::call(&state.store, id).await? else {
            return Ok(String::new());
        };
        let catalogs = card::catalogs(state).await?;
        card_html(state, &call, session, &catalogs).await
    }
    .await;
    let (html, aberta) = match html {
        Ok(h) => {
            let open = !h.is_empty() && !h.contains("data-aberta=\"0\"");
            (h, open)
        }
        Err(e) => return failed(state, headers, e),
    };
    let mut r = Json(ActionDone {
        id,
        mensagem: message,
        protocolo: protocol,
        html,
        aberta,
    })
    .into_response();
    secure_headers(&mut r);
    r
}

struct Posted {
    session: Session,
    id: i64,
    form: HashMap<String, String>,
}

fn posted(
    state: &PainelState,
    headers: &HeaderMap,
    id: &str,
    post: AgentPost,
) -> Result<Posted, Box<Response>> {
    let AgentPost { session, form, .. } = post;
    let Ok(id) = id.trim().parse::<i64>() else {
        return Err(Box::new(refuse(
            state,
            headers,
            StatusCode::NOT_FOUND,
            "Chamada não encontrada.",
        )));
    };
    Ok(Posted { session, id, form })
}

fn refusal_message(r: &Refusal) -> (StatusCode, String) {
    match r {
        Refusal::NotFound => (StatusCode::NOT_FOUND, "Chamada não encontrada.".into()),
        Refusal::TakenBy(name) => (
            StatusCode::CONFLICT,
            format!("Chamada já atendida por {name}."),
        ),
        Refusal::Handled => (StatusCode::CONFLICT, "Chamada já encerrada.".into()),
    }
}

/// Takes the call for the agent unless another has it (acting on a free call takes it), and
/// records the taking for the other screens.
async fn take_recorded(
    state: &PainelState,
    conn: &mut crate::store::Conn,
    id: i64,
    agent_id: i64,
    now: chrono::DateTime<Utc>,
) -> Result<Result<bool, Refusal>, sqlx::Error> {
    let taken = painel::take(conn, id, agent_id, now).await?;
    if let Ok(true) = taken {
        painel::record_event(
            conn,
            state.store.backend,
            id,
            EventKind::Taken,
            Some(agent_id),
            now,
        )
        .await?;
    }
    Ok(taken)
}

pub async fn take(
    State(state): State<Arc<PainelState>>,
    Path(id): Path<String>,
    headers: HeaderMap,
    post: AgentPost,
) -> Response {
    let p = match posted(&state, &headers, &id, post) {
        Ok(p) => p,
        Err(r) => return *r,
    };
    let now = Utc::now();
    let result = async {
        let mut tx = state.store.write().await?;
        let taken = take_recorded(&state, &mut tx, p.id, p.session.agent.id, now).await?;
        tx.commit().await?;
        Ok::<_, sqlx::Error>(taken)
    }
    .await;
    match result {
        Ok(Ok(_)) => {
            tracing::info!(agente = %p.session.agent.login, chamada = p.id, "painel: chamada atendida");
            done(
                &state,
                &headers,
                &p.session,
                p.id,
                "Chamada atendida.",
                None,
            )
            .await
        }
        Ok(Err(refusal)) => {
            let (status, message) = refusal_message(&refusal);
            refuse(&state, &headers, status, &message)
        }
        Err(e) => failed(&state, &headers, e),
    }
}

/// A catalog choice from the form: absent or empty → None; not a number → Err.
fn choice(form: &HashMap<String, String>, name: &str) -> Result<Option<i64>, ()> {
    match form.get(name).map(|v| v.trim()).filter(|v| !v.is_empty()) {
        None => Ok(None),
        Some(v) => v.parse().map(Some).map_err(|_| ()),
    }
}

pub async fn ticket(
    State(state): State<Arc<PainelState>>,
    Path(id): Path<String>,
    headers: HeaderMap,
    post: AgentPost,
) -> Response {
    let p = match posted(&state, &headers, &id, post) {
        Ok(p) => p,
        Err(r) => return *r,
    };
    let invalid = |m: &str| refuse(&state, &headers, StatusCode::UNPROCESSABLE_ENTITY, m);
    let Ok(Some(type_id)) = choice(&p.form, "tipo") else {
        return invalid("Escolha o tipo de ocorrência.");
    };
    let Ok(reason_id) = choice(&p.form, "motivo") else {
        return invalid("Motivo de ordem de serviço inválido.");
    };
    let Ok(sector_id) = choice(&p.form, "setor") else {
        return invalid("Setor inválido.");
    };
    let text = p.form.get("texto").map(|t| t.trim()).unwrap_or("");
    if text.is_empty() {
        return invalid("Descreva o atendimento no texto do chamado.");
    }
    if text.chars().count() > MAX_TEXT_CHARS {
        return invalid(&format!(
            "Texto longo demais: até {MAX_TEXT_CHARS} caracteres."
        ));
    }
    let now = Utc::now();
    let today = state.local_date(now);
    let agent_id = p.session.agent.id;
    let result = async {
        let mut tx = state.store.write().await?;
        let Some(call) = painel::call(&state.store, p.id).await? else {
            return Ok(Err((
                StatusCode::NOT_FOUND,
                "Chamada não encontrada.".to_string(),
            )));
        };
        // Opening a ticket from a free call takes it.
        if let Err(r) = take_recorded(&state, &mut tx, p.id, agent_id, now).await? {
            return Ok(Err(refusal_message(&r)));
        }
        if !catalogs::ticket_type_active(&mut tx, type_id).await? {
            return Ok(Err((
                StatusCode::UNPROCESSABLE_ENTITY,
                "Tipo de ocorrência inválido.".into(),
            )));
        }
        if let Some(r) = reason_id
            && !catalogs::reason_active(&mut tx, r).await?
        {
            return Ok(Err((
                StatusCode::UNPROCESSABLE_ENTITY,
                "Motivo de ordem de serviço inválido.".into(),
            )));
        }
        if let Some(s) = sector_id
            && catalogs::sector(&mut tx, &s.to_string()).await?.is_none()
        {
            return Ok(Err((
                StatusCode::UNPROCESSABLE_ENTITY,
                "Setor inválido.".into(),
            )));
        }
        // The ticket carries the call's protocol while it is still today's.
        let opened = services::protocols::open(
            &mut tx,
            now,
            today,
            Owner {
                contract_id: Some(call.contract_id),
                customer_id: call.customer_id,
                origin: "painel",
            },
            Some(&call.protocol),
            Some(TicketSpec {
                type_id,
                sector_id,
                content: text,
                origin: "painel",
                caller: call.caller.as_deref(),
                app_id: None,
                agent_id: Some(agent_id),
                work_order_reason: reason_id,
            }),
        )
        .await?;
        let protocol = opened.protocol;
        painel::record_event(
            &mut tx,
            state.store.backend,
            p.id,
            EventKind::Ticket,
            Some(agent_id),
            now,
        )
        .await?;
        tx.commit().await?;
        Ok::<_, sqlx::Error>(Ok(protocol))
    }
    .await;
    match result {
        Ok(Ok(protocol)) => {
            tracing::info!(agente = %p.session.agent.login, chamada = p.id, "painel: chamado aberto, protocolo {protocol}");
            state.metrics.ticket_opened("painel");
            let message = format!("Chamado aberto: protocolo {protocol}.");
            done(
                &state,
                &headers,
                &p.session,
                p.id,
                &message,
                Some(&protocol),
            )
            .await
        }
        Ok(Err((status, message))) => refuse(&state, &headers, status, &message),
        Err(e) => failed(&state, &headers, e),
    }
}

pub async fn handle(
    State(state): State<Arc<PainelState>>,
    Path(id): Path<String>,
    headers: HeaderMap,
    post: AgentPost,
) -> Response {
    let p = match posted(&state, &headers, &id, post) {
        Ok(p) => p,
        Err(r) => return *r,
    };
    let now = Utc::now();
    let agent_id = p.session.agent.id;
    let result = async {
        let mut tx = state.store.write().await?;
        if let Err(r) = take_recorded(&state, &mut tx, p.id, agent_id, now).await? {
            return Ok(Err(refusal_message(&r)));
        }
        painel::mark_handled(&mut tx, p.id, agent_id, now).await?;
        painel::record_event(
            &mut tx,
            state.store.backend,
            p.id,
            EventKind::Handled,
            Some(agent_id),
            now,
        )
        .await?;
        tx.commit().await?;
        Ok::<_, sqlx::Error>(Ok(()))
    }
    .await;
    match result {
        Ok(Ok(())) => {
            tracing::info!(agente = %p.session.agent.login, chamada = p.id, "painel: chamada encerrada");
            done(
                &state,
                &headers,
                &p.session,
                p.id,
                "Chamada encerrada.",
                None,
            )
            .await
        }
        Ok(Err((status, message))) => refuse(&state, &headers, status, &message),
        Err(e) => failed(&state, &headers, e),
    }
}
