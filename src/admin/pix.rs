//! `GET /admin/api/v1/pix`: the PIX notices the PSP delivered, newest first (or the ones that
//! paid nothing first, `?ordem=pendentes_primeiro`), with their refunds.

use std::collections::HashMap;
use std::sync::Arc;

use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use serde::Serialize;
use serde_json::Value;

use super::{AdminState, AdminToken, db_error, error, filter_text, list_query, ok, parse_instant};
use crate::domain::money::reais;
use crate::domain::paging::Page;
use crate::domain::pix_notice::Outcome;
use crate::store::pix::{self, Filter, NoticeRow, Order, RefundRow};

/// A notice as the admin API shows it.
#[derive(Serialize)]
struct Notice {
    id: i64,
    #[serde(rename = "endToEndId")]
    end_to_end_id: String,
    txid: Option<String>,
    valor: Value,
    /// `horario` as the PSP wrote it.
    horario: String,
    horario_utc: String,
    info_pagador: Option<String>,
    fatura_id: Option<i64>,
    resultado: String,
    motivo: Option<String>,
    reaberta_em: Option<String>,
    recebida_em: String,
    devolucoes: Vec<Refund>,
}

#[derive(Serialize)]
struct Refund {
    id: String,
    #[serde(rename = "rtrId")]
    rtr_id: Option<String>,
    valor: Value,
    solicitacao: Option<String>,
    liquidacao: Option<String>,
    status: String,
    atualizada_em: String,
}

fn view(row: NoticeRow, refunds: &[RefundRow]) -> Notice {
    Notice {
        devolucoes: refunds
            .iter()
            .filter(|r| r.notice_id == row.id)
            .map(|r| Refund {
                id: r.refund_id.clone(),
                rtr_id: r.rtr_id.clone(),
                valor: reais(r.amount_cents),
                solicitacao: r.requested_at.clone(),
                liquidacao: r.settled_at.clone(),
                status: r.status.clone(),
                atualizada_em: r.updated_at.clone(),
            })
            .collect(),
        id: row.id,
        end_to_end_id: row.end_to_end_id,
        txid: row.txid,
        valor: reais(row.amount_cents),
        horario: row.paid_at_given,
        horario_utc: row.paid_at,
        info_pagador: row.payer_info,
        fatura_id: row.invoice_id,
        resultado: row.outcome,
        motivo: row.reason,
        reaberta_em: row.reopened_at,
        recebida_em: row.received_at,
    }
}

/// `?resultado=&txid=&endToEndId=&fatura=&desde=&ate=&ordem=&offset=&limit=`
pub async fn list(
    State(state): State<Arc<AdminState>>,
    _admin: AdminToken,
    Query(query): Query<HashMap<String, String>>,
) -> Response {
    const KNOWN: &[&str] = &[
        "resultado",
        "txid",
        "endToEndId",
        "fatura",
        "desde",
        "ate",
        "ordem",
        "offset",
        "limit",
    ];
    let (offset, limit) = match list_query(&query, KNOWN) {
        Ok(p) => p,
        Err(message) => return error(StatusCode::BAD_REQUEST, &message),
    };
    let text = |name: &str| filter_text(&query, name);
    let mut filter = Filter {
        txid: text("txid"),
        end_to_end_id: text("endToEndId"),
        ..Filter::default()
    };
    if let Some(v) = text("resultado") {
        match Outcome::parse(&v) {
            Some(o) => filter.outcome = Some(o),
            None => {
                return error(
                    StatusCode::BAD_REQUEST,
                    "resultado: use pago, ja_pago, desconhecido ou recusado.",
                );
            }
        }
    }
    if let Some(v) = text("fatura") {
        match v.parse::<i64>() {
            Ok(n) if n > 0 => filter.invoice_id = Some(n),
            _ => {
                return error(
                    StatusCode::BAD_REQUEST,
                    "fatura: informe um número inteiro positivo.",
                );
            }
        }
    }
    for (name, slot) in [("desde", &mut filter.since), ("ate", &mut filter.until)] {
        if let Some(v) = text(name) {
            match parse_instant(&state, &v) {
                Some(t) => *slot = Some(t),
                None => {
                    return error(
                        StatusCode::BAD_REQUEST,
                        &format!("{name}: use AAAA-MM-DD, AAAA-MM-DDTHH:MM:SS ou RFC 3339."),
                    );
                }
            }
        }
    }
    let order = match text("ordem").as_deref() {
        None | Some("recentes") => Order::Newest,
        Some("pendentes_primeiro") => Order::UnmatchedFirst,
        Some(_) => {
            return error(
                StatusCode::BAD_REQUEST,
                "ordem: use recentes ou pendentes_primeiro.",
            );
        }
    };
    let (rows, total) = match pix::list(&state.store, &filter, order, offset, limit).await {
        Ok(r) => r,
        Err(e) => return db_error(e),
    };
    let refunds = match pix::refunds_of_notices(&state.store, &rows).await {
        Ok(r) => r,
        Err(e) => return db_error(e),
    };
    let notices: Vec<Notice> = rows.into_iter().map(|r| view(r, &refunds)).collect();
    ok(StatusCode::OK, Page::new(offset, limit, total, notices))
}
