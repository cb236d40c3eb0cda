//! The caller's card: who is calling and why, gathered when it is shown so that it is current
//! (contracts with their last status changes, open invoices, promises this month, connection,
//! maintenances, last tickets).

use std::time::Duration;

use chrono::{DateTime, NaiveDate, Utc};
use serde::Serialize;

use super::PainelState;
use crate::domain::states::ContractStatus;
use crate::domain::{document, money, tempo};
use crate::store::agents::Session;
use crate::store::dunning::{self, Change};
use crate::store::painel::{self, Call, Catalog};
use crate::store::{contracts, maintenances, parse_ts};

/// How long the card waits for an external radacct database before saying "unknown".
const SESSIONS_WAIT: Duration = Duration::from_millis(800);
const INVOICES_SHOWN: i64 = 6;
const TICKETS_SHOWN: i64 = 5;
const STATUS_CHANGES_SHOWN: i64 = 10;

#[derive(Serialize)]
pub struct CardView {
    pub id: i64,
    pub protocolo: String,
    pub chamador: String,
    pub fila: Option<String>,
    pub hora: String,
    pub data: String,
    pub cliente: String,
    pub documento: String,
    pub contrato_chamada: i64,
    pub contratos: Vec<ContractView>,
    pub promessas: Vec<PromiseView>,
    pub manutencoes: Vec<MaintenanceView>,
    pub chamados: Vec<TicketView>,
    /// "livre", "minha" (taken by the viewer), "outro" or "encerrada".
    pub situacao: &'static str,
    pub atendida_por: Option<String>,
    pub encerrada_por: Option<String>,
    /// The protocol of the ticket opened from this call, once there is one.
    pub protocolo_chamado: Option<String>,
    pub aberta: bool,
}

#[derive(Serialize)]
pub struct ContractView {
    pub id: i64,
    pub status: &'static str,
    /// CSS class: ok, alerta, bloqueado.
    pub classe: &'static str,
    pub endereco: Option<String>,
    pub em_aberto: String,
    pub faturas_abertas: i64,
    pub faturas: Vec<InvoiceView>,
    pub servicos: Vec<ServiceView>,
    /// The last status changes, newest first.
    pub mudancas: Vec<StatusChangeView>,
}

/// One change of a contract's status, as the card and the day's dunning page show it.
#[derive(Serialize)]
pub struct StatusChangeView {
    pub id: i64,
    /// Local `dd/mm HH:MM`.
    pub quando: String,
    pub contrato: i64,
    pub cliente: String,
    pub de: &'static str,
    pub para: &'static str,
    pub motivo: &'static str,
    pub protocolo: Option<String>,
    /// Who or what made it: `cobranca`, `admin:NOME`, `ura:APP`...
    pub por: String,
}

impl StatusChangeView {
    pub fn new(state: &PainelState, c: Change) -> StatusChangeView {
        StatusChangeView {
            id: c.id,
            quando: local(state, &c.created_at, "%d/%m %H:%M"),
            contrato: c.contract_id,
            cliente: c.customer_name,
            de: c.from_status.name(),
            para: c.to_status.name(),
            motivo: c.reason.label(),
            protocolo: c.protocol,
            por: c.actor,
        }
    }
}

#[derive(Serialize)]
pub struct InvoiceView {
    pub id: i64,
    pub vencimento: String,
    pub valor: String,
    pub atrasada: bool,
}

#[derive(Serialize)]
pub struct ServiceView {
    pub login: String,
    pub plano: Option<String>,
    /// "online", "offline" or "desconhecida".
    pub conexao: &'static str,
    pub detalhe: String,
}

#[derive(Serialize)]
pub struct PromiseView {
    pub contrato: i64,
    pub data: String,
    pub situacao: &'static str,
}

#[derive(Serialize)]
pub struct MaintenanceView {
    pub id: i64,
    pub mensagem: String,
    pub previsao: Option<String>,
}

#[derive(Serialize)]
pub struct TicketView {
    pub protocolo: String,
    pub contrato: i64,
    pub tipo: String,
    pub texto: String,
    pub data: String,
    pub origem: &'static str,
}

/// Options of the ticket form.
#[derive(Serialize, Default)]
pub struct Catalogs {
    pub tipos: Vec<(i64, String)>,
    pub motivos: Vec<(i64, String)>,
    pub setores: Vec<(i64, String)>,
}

pub async fn catalogs(state: &PainelState) -> Result<Catalogs, sqlx::Error> {
    Ok(Catalogs {
        tipos: painel::catalog(&state.store, Catalog::TicketTypes).await?,
        motivos: painel::catalog(&state.store, Catalog::Reasons).await?,
        setores: painel::catalog(&state.store, Catalog::Sectors).await?,
    })
}

fn local(state: &PainelState, stored: &str, format: &str) -> String {
    parse_ts(stored)
        .map(|t| t.with_timezone(&state.tz).format(format).to_string())
        .unwrap_or_default()
}

fn date_br(iso: &str) -> String {
    NaiveDate::parse_from_str(iso, "%Y-%m-%d")
        .map(|d| d.format("%d/%m/%Y").to_string())
        .unwrap_or_else(|_| iso.to_string())
}

/// What the viewer may do with the call.
fn situation(call: &Call, viewer: i64) -> &'static str {
    if call.handled_at.is_some() {
        "encerrada"
    } else {
        match call.taken_by {
            None => "livre",
            Some(id) if id == viewer => "minha",
            Some(_) => "outro",
        }
    }
}

/// Builds the card of `call` as `viewer` sees it.
pub async fn build(
    state: &PainelState,
    call: &Call,
    viewer: &Session,
    now: DateTime<Utc>,
) -> Result<CardView, sqlx::Error> {
    let store = &state.store;
    let today = state.local_date(now);
    let mut contratos = Vec::new();
    let mut manutencoes: Vec<MaintenanceView> = Vec::new();
    for line in painel::customer_contracts(store, call.customer_id).await? {
        let mut conn = store.acquire().await?;
        let balance = contracts::open_balance(&mut conn, line.id).await?;
        let services = contracts::services(&mut conn, line.id).await?;
        drop(conn);
        let faturas = contracts::open_invoices(store, line.id, INVOICES_SHOWN)
            .await?
            .into_iter()
            .map(|i| InvoiceView {
                id: i.id,
                atrasada: NaiveDate::parse_from_str(&i.due_on, "%Y-%m-%d")
                    .map(|d| d < today)
                    .unwrap_or(false),
                vencimento: date_br(&i.due_on),
                valor: money::brl(i.amount_cents),
            })
            .collect();
        let mudancas = dunning::changes_of(store, line.id, STATUS_CHANGES_SHOWN)
            .await?
            .into_iter()
            .map(|c| StatusChangeView::new(state, c))
            .collect();
        let mut servicos = Vec::new();
        for s in &services {
            servicos.push(service_view(state, s).await);
            for m in maintenances::in_force(store, now, line.pop_id, s.element_id, s.nas_id).await?
            {
                push_maintenance(state, &mut manutencoes, m, now);
            }
        }
        if services.is_empty() {
            for m in maintenances::in_force(store, now, line.pop_id, None, None).await? {
                push_maintenance(state, &mut manutencoes, m, now);
            }
        }
        contratos.push(ContractView {
            id: line.id,
            status: line.status.name(),
            classe: match line.status {
                ContractStatus::Active => "ok",
                s if s.is_suspended() => "bloqueado",
                _ => "alerta",
            },
            endereco: line.address.filter(|a| !a.trim().is_empty()),
            em_aberto: money::brl(balance.cents),
            faturas_abertas: balance.count,
            faturas,
            servicos,
            mudancas,
        });
    }
    let month = today.format("%Y-%m").to_string();
    let promessas = painel::promises_in_month(store, call.customer_id, &month)
        .await?
        .into_iter()
        .map(|p| PromiseView {
            contrato: p.contract_id,
            data: local(state, &p.created_at, "%d/%m %H:%M"),
            situacao: p.state.label(),
        })
        .collect();
    let chamados = painel::last_tickets(store, call.customer_id, TICKETS_SHOWN)
        .await?
        .into_iter()
        .map(|t| TicketView {
            protocolo: t.protocol,
            contrato: t.contract_id,
            tipo: t.type_name.unwrap_or_default(),
            texto: t.content,
            data: local(state, &t.created_at, "%d/%m/%Y %H:%M"),
            origem: if t.origin == "painel" {
                "atendente"
            } else {
                "URA"
            },
        })
        .collect();
    let situacao = situation(call, viewer.agent.id);
    Ok(CardView {
        id: call.id,
        protocolo: call.protocol.clone(),
        chamador: call.caller.clone().unwrap_or_default(),
        fila: call.queue.clone(),
        hora: local(state, &call.created_at, "%H:%M:%S"),
        data: local(state, &call.created_at, "%d/%m/%Y"),
        cliente: call.customer_name.clone(),
        documento: document::mask_str(&call.document),
        contrato_chamada: call.contract_id,
        contratos,
        promessas,
        manutencoes,
        chamados,
        situacao,
        atendida_por: call.taken_by_name.clone(),
        encerrada_por: call.handled_by_name.clone(),
        protocolo_chamado: (call.tickets > 0).then(|| call.protocol.clone()),
        aberta: call.handled_at.is_none(),
    })
}

fn push_maintenance(
    state: &PainelState,
    list: &mut Vec<MaintenanceView>,
    m: maintenances::InForce,
    now: DateTime<Utc>,
) {
    if list.iter().any(|x| x.id == m.id) {
        return;
    }
    list.push(MaintenanceView {
        id: m.id,
        mensagem: m
            .ivr_message
            .unwrap_or_else(|| "Manutenção em andamento".into()),
        previsao: m.expected_end.map(|end| {
            format!(
                "{} (em {})",
                end.with_timezone(&state.tz).format("%d/%m %H:%M"),
                tempo::format(end - now)
            )
        }),
    });
}

async fn service_view(state: &PainelState, s: &contracts::Service) -> ServiceView {
    let sessions =
        tokio::time::timeout(SESSIONS_WAIT, state.sessions.open_sessions(&s.login)).await;
    let (conexao, detalhe) = match sessions {
        Ok(Ok(list)) => match list.first() {
            Some(session) => (
                "online",
                match (&session.framed_ip, &session.nas_ip) {
                    (Some(ip), Some(nas)) => format!("IP {ip} no NAS {nas}"),
                    (Some(ip), None) => format!("IP {ip}"),
                    (None, Some(nas)) => format!("NAS {nas}"),
                    (None, None) => String::new(),
                },
            ),
            None if s.enabled == 0 => ("offline", "serviço desabilitado".into()),
            None => ("offline", "sem sessão RADIUS aberta".into()),
        },
        _ => ("desconhecida", "radacct indisponível".into()),
    };
    ServiceView {
        login: s.login.clone(),
        plano: s.plan_name.clone(),
        conexao,
        detalhe,
    }
}
