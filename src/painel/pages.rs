//! The console's pages: open calls (live), one call, the history, the choice of queues.
//! (The day's dunning page is in `dunning.rs`.)

use std::collections::HashMap;
use std::sync::Arc;

use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use chrono::{TimeDelta, Utc};
use minijinja::context;
use serde::Serialize;

use super::PainelState;
use super::auth::{AgentPost, AgentSession, Denied};
use super::card::{self, Catalogs};
use super::path;
use super::views::{error_page, page, render};
use crate::domain::document;
use crate::store::agents::{self, Session};
use crate::store::painel::{self, Call, Search};

const OPEN_CALLS_SHOWN: i64 = 100;
const HISTORY_PAGE: i64 = 30;

/// The agent as templates show it.
#[derive(Serialize)]
pub(super) struct Me<'a> {
    nome: &'a str,
    login: &'a str,
    filas: Vec<String>,
    csrf: &'a str,
}

pub(super) fn me(session: &Session) -> Me<'_> {
    Me {
        nome: &session.agent.name,
        login: &session.agent.login,
        filas: session.agent.queue_list(),
        csrf: &session.csrf,
    }
}

pub(super) fn unavailable(state: &PainelState, e: sqlx::Error) -> Response {
    tracing::warn!("painel: banco indisponível: {e}");
    Denied::Unavailable.respond(state, true)
}

/// One card's HTML as `session` sees it.
pub async fn card_html(
    state: &PainelState,
    call: &Call,
    session: &Session,
    catalogs: &Catalogs,
) -> Result<String, sqlx::Error> {
    let view = card::build(state, call, session, Utc::now()).await?;
    Ok(render(
        "cartao.html",
        context! {
            c => view,
            base => state.settings.base_path,
            csrf => session.csrf,
            catalogos => catalogs,
        },
    ))
}

pub async fn home(
    State(state): State<Arc<PainelState>>,
    AgentSession(session): AgentSession,
) -> Response {
    match home_page(&state, &session).await {
        Ok(r) => r,
        Err(e) => unavailable(&state, e),
    }
}

async fn home_page(state: &PainelState, session: &Session) -> Result<Response, sqlx::Error> {
    // The stream starts after the last event seen here, so nothing falls between the two.
    let last = painel::last_event_id(&state.store).await?;
    let hours = state.settings.painel.janela_horas.clamp(0.1, 24.0 * 30.0);
    let since = Utc::now() - TimeDelta::seconds((hours * 3600.0) as i64);
    let catalogs = card::catalogs(state).await?;
    let mut cards = Vec::new();
    for call in painel::open_calls(&state.store, since, OPEN_CALLS_SHOWN).await? {
        if session.agent.watches(call.queue.as_deref()) {
            cards.push(card_html(state, &call, session, &catalogs).await?);
        }
    }
    Ok(page(
        StatusCode::OK,
        render(
            "inicio.html",
            context! {
                base => state.settings.base_path,
                titulo => "Chamadas",
                me => me(session),
                cartoes => cards,
                desde => last,
            },
        ),
    ))
}

pub async fn card_page(
    State(state): State<Arc<PainelState>>,
    AgentSession(session): AgentSession,
    Path(id): Path<String>,
) -> Response {
    let base = &state.settings.base_path;
    let Ok(id) = id.trim().parse::<i64>() else {
        return error_page(StatusCode::NOT_FOUND, base, "Chamada não encontrada.");
    };
    let result = async {
        let Some(call) = painel::call(&state.store, id).await? else {
            return Ok(None);
        };
        let catalogs = card::catalogs(&state).await?;
        card_html(&state, &call, &session, &catalogs)
            .await
            .map(Some)
    }
    .await;
    match result {
        Ok(Some(html)) => page(
            StatusCode::OK,
            render(
                "chamada.html",
                context! {
                    base => base,
                    titulo => "Chamada",
                    me => me(&session),
                    cartao => html,
                },
            ),
        ),
        Ok(None) => error_page(StatusCode::NOT_FOUND, base, "Chamada não encontrada."),
        Err(e) => unavailable(&state, e),
    }
}

/// A row of the history.
#[derive(Serialize)]
struct HistoryRow {
    id: i64,
    data: String,
    protocolo: String,
    chamador: String,
    fila: Option<String>,
    cliente: String,
    documento: String,
    contrato: i64,
    situacao: String,
    chamados: i64,
}

/// A search term: a protocol and a phone are digits (the protocol matched whole, the phone
/// by its ending); a CPF/CNPJ in any punctuation matches the customer's document.
fn search_terms(q: &str) -> Search {
    let q = q.trim();
    if q.is_empty() {
        return Search::default();
    }
    let digits: String = q.chars().filter(char::is_ascii_digit).collect();
    Search {
        protocol: (!digits.is_empty()).then(|| digits.clone()),
        document: document::parse(q).map(|d| d.as_str().to_string()),
        phone_suffix: (digits.len() >= 8)
            .then(|| digits[digits.len().saturating_sub(11)..].to_string()),
    }
}

pub async fn history(
    State(state): State<Arc<PainelState>>,
    AgentSession(session): AgentSession,
    Query(query): Query<HashMap<String, String>>,
) -> Response {
    let q = query.get("q").map(|q| q.trim()).unwrap_or("");
    let page_no = query
        .get("pagina")
        .and_then(|p| p.trim().parse::<i64>().ok())
        .unwrap_or(1)
        .clamp(1, 10_000);
    let terms = search_terms(q);
    if !q.is_empty()
        && terms.protocol.is_none()
        && terms.document.is_none()
        && terms.phone_suffix.is_none()
    {
        return error_page(
            StatusCode::UNPROCESSABLE_ENTITY,
            &state.settings.base_path,
            "Busque por protocolo, CPF/CNPJ ou telefone.",
        );
    }
    let rows = match painel::history(
        &state.store,
        &terms,
        HISTORY_PAGE + 1,
        (page_no - 1) * HISTORY_PAGE,
    )
    .await
    {
        Ok(rows) => rows,
        Err(e) => return unavailable(&state, e),
    };
    let more = rows.len() as i64 > HISTORY_PAGE;
    let rows: Vec<HistoryRow> = rows
        .into_iter()
        .take(HISTORY_PAGE as usize)
        .map(|c| HistoryRow {
            data: crate::store::parse_ts(&c.created_at)
                .map(|t| {
                    t.with_timezone(&state.tz)
                        .format("%d/%m/%Y %H:%M")
                        .to_string()
                })
                .unwrap_or_default(),
            situacao: match (&c.handled_by_name, &c.taken_by_name) {
                (Some(by), _) => format!("Encerrada por {by}"),
                (None, Some(by)) => format!("Atendida por {by}"),
                (None, None) => "Não atendida".into(),
            },
            id: c.id,
            protocolo: c.protocol,
            chamador: c.caller.unwrap_or_default(),
            fila: c.queue,
            cliente: c.customer_name,
            documento: document::mask_str(&c.document),
            contrato: c.contract_id,
            chamados: c.tickets,
        })
        .collect();
    page(
        StatusCode::OK,
        render(
            "historico.html",
            context! {
                base => state.settings.base_path,
                titulo => "Histórico",
                me => me(&session),
                q => q,
                linhas => rows,
                pagina => page_no,
                anterior => (page_no > 1).then_some(page_no - 1),
                proxima => more.then_some(page_no + 1),
            },
        ),
    )
}

pub async fn queues_page(
    State(state): State<Arc<PainelState>>,
    AgentSession(session): AgentSession,
) -> Response {
    let known = match painel::recent_queues(&state.store, Utc::now() - TimeDelta::days(30)).await {
        Ok(k) => k,
        Err(e) => return unavailable(&state, e),
    };
    queues_form(&state, &session, known, StatusCode::OK, None)
}

fn queues_form(
    state: &PainelState,
    session: &Session,
    mut known: Vec<String>,
    status: StatusCode,
    message: Option<&str>,
) -> Response {
    let mine = session.agent.queue_list();
    for q in &mine {
        if !known.iter().any(|k| k.eq_ignore_ascii_case(q)) {
            known.push(q.clone());
        }
    }
    let options: Vec<(String, bool)> = known
        .into_iter()
        .map(|q| {
            let on = mine.iter().any(|m| m.eq_ignore_ascii_case(&q));
            (q, on)
        })
        .collect();
    page(
        status,
        render(
            "filas.html",
            context! {
                base => state.settings.base_path,
                titulo => "Filas",
                me => me(session),
                todas => mine.is_empty(),
                opcoes => options,
                mensagem => message,
            },
        ),
    )
}

pub async fn save_queues(
    State(state): State<Arc<PainelState>>,
    AgentPost {
        session,
        fields: form,
        form: map,
    }: AgentPost,
) -> Response {
    let all = map.get("todas").is_some_and(|v| v == "1");
    let mut chosen: Vec<String> = form
        .iter()
        .filter(|(k, _)| k == "fila")
        .map(|(_, v)| v.clone())
        .collect();
    if let Some(other) = map.get("outras") {
        chosen.push(other.clone());
    }
    let parsed = if all {
        Ok(None)
    } else {
        agents::parse_queues(&chosen.join(","))
    };
    let queues = match parsed {
        Ok(q) => q,
        Err(e) => {
            return queues_form(
                &state,
                &session,
                Vec::new(),
                StatusCode::UNPROCESSABLE_ENTITY,
                Some(&e.to_string()),
            );
        }
    };
    if let Err(e) =
        agents::set_queues_by_id(&state.store, session.agent.id, queues.as_deref()).await
    {
        return unavailable(&state, e);
    }
    Redirect::to(&path(&state, "")).into_response()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn search_terms_tell_protocol_document_and_phone() {
        let t = search_terms("529.982.247-25");
        assert_eq!(t.document.as_deref(), Some("52998224725"));
        assert_eq!(t.protocol.as_deref(), Some("52998224725"));
        let t = search_terms("(84) 99138-0000");
        assert_eq!(t.phone_suffix.as_deref(), Some("84991380000"));
        assert!(t.document.is_none());
        let t = search_terms("+55 84 99138-0000");
        assert_eq!(t.phone_suffix.as_deref(), Some("84991380000"));
        let t = search_terms("2026112900001");
        assert_eq!(t.protocol.as_deref(), Some("2026112900001"));
        assert!(search_terms("fulano").protocol.is_none());
        assert!(search_terms("").protocol.is_none());
    }
}
