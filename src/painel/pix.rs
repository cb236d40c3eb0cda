//! "PIX recebidos": the PSP's notices, those that paid nothing (no invoice with their txid,
//! or an invoice that could not be paid) first, for an agent to match them by hand.

use std::collections::HashMap;
use std::sync::Arc;

use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use minijinja::context;
use serde::Serialize;

use super::PainelState;
use super::auth::AgentSession;
use super::pages::{me, unavailable};
use super::views::{page, render};
use crate::domain::money::brl;
use crate::domain::pix_notice::Outcome;
use crate::store::parse_ts;
use crate::store::pix::{self, Filter, NoticeRow, Order};

/// Rows per page.
const PAGE: i64 = 100;

#[derive(Serialize)]
struct NoticeView {
    id: i64,
    recebida: String,
    pago_em: String,
    valor: String,
    txid: String,
    e2e: String,
    pagador: String,
    fatura: Option<i64>,
    resultado: &'static str,
    pendente: bool,
    motivo: String,
    reaberta: bool,
}

fn label(outcome: &str) -> &'static str {
    match Outcome::parse(outcome) {
        Some(Outcome::Paid) => "pagou a fatura",
        Some(Outcome::AlreadyPaid) => "fatura já paga",
        Some(Outcome::Unknown) => "sem fatura",
        Some(Outcome::Refused) => "recusado",
        None => "?",
    }
}

fn view(state: &PainelState, n: NoticeRow) -> NoticeView {
    let local = |stored: &str| {
        parse_ts(stored)
            .map(|t| {
                t.with_timezone(&state.tz)
                    .format("%d/%m/%Y %H:%M")
                    .to_string()
            })
            .unwrap_or_default()
    };
    let pendente = matches!(
        Outcome::parse(&n.outcome),
        Some(Outcome::Unknown | Outcome::Refused)
    );
    NoticeView {
        id: n.id,
        recebida: local(&n.received_at),
        pago_em: local(&n.paid_at),
        valor: format!("R$ {}", brl(n.amount_cents)),
        txid: n.txid.unwrap_or_default(),
        e2e: n.end_to_end_id,
        pagador: n.payer_info.unwrap_or_default(),
        fatura: n.invoice_id,
        resultado: label(&n.outcome),
        pendente,
        motivo: n.reason.unwrap_or_default(),
        reaberta: n.reopened_at.is_some(),
    }
}

/// `/painel/pix?pagina=N`
pub async fn list_page(
    State(state): State<Arc<PainelState>>,
    AgentSession(session): AgentSession,
    Query(query): Query<HashMap<String, String>>,
) -> Response {
    let page_no = query
        .get("pagina")
        .and_then(|p| p.trim().parse::<i64>().ok())
        .filter(|p| (1..=100_000).contains(p))
        .unwrap_or(1);
    let offset = (page_no - 1) * PAGE;
    let (rows, total) = match pix::list(
        &state.store,
        &Filter::default(),
        Order::UnmatchedFirst,
        offset,
        PAGE,
    )
    .await
    {
        Ok(r) => r,
        Err(e) => return unavailable(&state, e),
    };
    let pendentes = match pix::count_by_outcome(&state.store).await {
        Ok(counts) => counts
            .iter()
            .filter(|(o, _)| matches!(Outcome::parse(o), Some(Outcome::Unknown | Outcome::Refused)))
            .map(|(_, n)| n)
            .sum::<i64>(),
        Err(e) => return unavailable(&state, e),
    };
    let linhas: Vec<NoticeView> = rows.into_iter().map(|n| view(&state, n)).collect();
    page(
        StatusCode::OK,
        render(
            "pix.html",
            context! {
                base => state.settings.base_path,
                titulo => "PIX recebidos",
                me => me(&session),
                linhas => linhas,
                total => total,
                pendentes => pendentes,
                pagina => page_no,
                anterior => (page_no > 1).then_some(page_no - 1),
                proxima => (offset + PAGE < total).then_some(page_no + 1),
            },
        ),
    )
}
