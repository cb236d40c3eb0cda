//! `verificaacesso` (CONTRACT.md §2.4): why the internet may not be working. In the
//! specification's order: maintenance, then the NAS, then the contract, then the session.

use serde_json::Value;

use super::Ctx;
use super::answers::{self, Access, VerificaAcesso};
use crate::domain::tempo;
use crate::http::error::ApiError;
use crate::network::nas::{self, Holds};
use crate::services;
use crate::store::contracts::{self, Contract, Service};
use crate::store::maintenances::{self, InForce};
use crate::store::protocols::Owner;
use crate::store::radacct::OpenSession;

/// "Suporte - Sem Acesso": the ticket recording a caller told of a maintenance.
const NO_ACCESS_TICKET_TYPE: i64 = 1;
const SUPPORT_SECTOR: i64 = 1;

/// The outcome for one service (or for a contract without one).
enum Outcome {
    Maintenance {
        status: i64,
        msg: String,
        tempo: String,
    },
    Plain {
        status: i64,
        msg: &'static str,
    },
}

impl Outcome {
    fn status(&self) -> i64 {
        match self {
            Outcome::Maintenance { status, .. } | Outcome::Plain { status, .. } => *status,
        }
    }
}

/// Among maintenances in force, the one that explains the outage best: a regional one
/// (POP or element, status 9) before one of the NAS, then the one that ends last.
fn pick(found: Vec<InForce>, now: chrono::DateTime<chrono::Utc>) -> Option<Outcome> {
    let best = found.into_iter().max_by_key(|m| {
        (
            !m.via_nas,
            m.expected_end.is_none(),
            m.expected_end.unwrap_or(now),
        )
    })?;
    let (status, default_msg) = if best.via_nas {
        (8, "Manutenção NAS")
    } else {
        (9, "Manutenção na região")
    };
    let tempo = match best.expected_end {
        None => "indefinido".to_string(),
        Some(end) => tempo::format(end - now),
    };
    Some(Outcome::Maintenance {
        status,
        msg: best.ivr_message.unwrap_or_else(|| default_msg.to_string()),
        tempo,
    })
}

async fn service_outcome(
    ctx: &Ctx,
    contract: &Contract,
    service: &Service,
) -> Result<Outcome, ApiError> {
    let store = &ctx.state.store;
    let found = maintenances::in_force(
        store,
        ctx.now,
        contract.pop_id,
        service.element_id,
        service.nas_id,
    )
    .await?;
    if let Some(outcome) = pick(found, ctx.now) {
        return Ok(outcome);
    }
    if let Some(nas) = service.nas_id
        && contracts::nas_unreachable(store, nas).await?
    {
        return Ok(Outcome::Plain {
            status: 8,
            msg: "Concentrador (NAS) offline",
        });
    }
    if let Some(msg) = contract.status.out_of_service_message() {
        return Ok(Outcome::Plain { status: 3, msg });
    }
    let sessions = ctx.state.sessions.open_sessions(&service.login).await?;
    if sessions.is_empty() {
        return Ok(OFFLINE);
    }
    // Step 6: ask the NAS whether it really holds the session, within what is left of
    // `acesso.tempo_max`; a NAS that cannot be asked in time counts as holding it.
    let left = ctx
        .deadline
        .saturating_duration_since(tokio::time::Instant::now());
    let asked = tokio::time::timeout(left, still_held(ctx, service, sessions)).await;
    Ok(match asked {
        Ok(Ok(false)) => OFFLINE,
        Ok(Err(e)) => return Err(e),
        _ => ONLINE,
    })
}

const ONLINE: Outcome = Outcome::Plain {
    status: 1,
    msg: "Serviço Online",
};
const OFFLINE: Outcome = Outcome::Plain {
    status: 2,
    msg: "Serviço Offline",
};

/// Whether any open session is held by its NAS. Sessions the NAS denies are stale: they are
/// closed in `radacct` and a Disconnect is sent, so that the next check is right at once.
async fn still_held(
    ctx: &Ctx,
    service: &Service,
    sessions: Vec<OpenSession>,
) -> Result<bool, ApiError> {
    let state = &ctx.state;
    let mut held = false;
    for session in sessions {
        let Some(nas) = nas::for_session(&state.store, &session, service.nas_id).await? else {
            held = true;
            continue;
        };
        match state.nas.ask(&nas, &session).await {
            Holds::No => {
                let closed = state
                    .sessions
                    .close_stale(session.radacctid, ctx.now, STALE_CAUSE)
                    .await?;
                tracing::info!(
                    login = %service.login,
                    nas = %nas.name,
                    closed,
                    "sessão inexistente no NAS encerrada"
                );
                let coa = state.nas.coa.clone();
                tokio::spawn(async move {
                    if let Some(target) = nas::target(&nas) {
                        let outcome = coa.disconnect(&target, &nas::session_ref(&session)).await;
                        tracing::debug!("desconexão da sessão obsoleta: {}", outcome.describe());
                    }
                });
            }
            Holds::Yes | Holds::Unknown => held = true,
        }
    }
    Ok(held)
}

/// `radacct.acctterminatecause` of a session closed because the NAS no longer holds it.
const STALE_CAUSE: &str = "Stale-Session";

pub async fn run(ctx: &Ctx) -> Result<Value, ApiError> {
    answers::to_value(answer(ctx).await?)
}

async fn answer(ctx: &Ctx) -> Result<VerificaAcesso, ApiError> {
    let id = ctx.params.required_int("contrato")?;
    let store = &ctx.state.store;
    let (contract, services) = {
        let mut conn = store.acquire().await?;
        let Some(contract) = ctx.find_contract(&mut conn, id).await? else {
            return Ok(VerificaAcesso::NotFound(ctx.not_found(id)));
        };
        let services = contracts::services(&mut conn, id).await?;
        (contract, services)
    };

    let (outcome, service) = if services.is_empty() {
        let found = maintenances::in_force(store, ctx.now, contract.pop_id, None, None).await?;
        let outcome = match pick(found, ctx.now) {
            Some(o) => o,
            None => Outcome::Plain {
                status: 3,
                msg: contract
                    .status
                    .out_of_service_message()
                    .unwrap_or("Contrato sem serviço de internet"),
            },
        };
        (outcome, None)
    } else {
        // The first service that is not online, or the first one when all are.
        let mut chosen = None;
        for service in &services {
            let outcome = service_outcome(ctx, &contract, service).await?;
            let online = outcome.status() == 1;
            if chosen.is_none() || !online {
                chosen = Some((outcome, Some(service)));
            }
            if !online {
                break;
            }
        }
        match chosen {
            Some(c) => c,
            None => return Err(ApiError::internal()),
        }
    };

    let (msg, tempo, protocolo) = match &outcome {
        Outcome::Plain { msg, .. } => (*msg, None, None),
        Outcome::Maintenance { msg, tempo, status } => {
            let protocol = record_contact(ctx, &contract, msg, tempo, *status).await?;
            (msg.as_str(), Some(tempo.clone()), Some(protocol))
        }
    };
    Ok(VerificaAcesso::Checked(Access {
        head: ctx.head(outcome.status(), &contract),
        tail: ctx.tail(msg, &contract),
        tempo,
        protocolo,
        login: service.map(|s| s.login.clone()),
        servico_id: service.map(|s| s.id),
    }))
}

/// Records the caller's contact as a ticket, and returns its protocol.
async fn record_contact(
    ctx: &Ctx,
    contract: &Contract,
    msg: &str,
    tempo: &str,
    status: i64,
) -> Result<String, ApiError> {
    let mut tx = ctx.state.store.write().await?;
    let content =
        format!("Verificação de acesso via URA: {msg} (status {status}, previsão {tempo})");
    let protocol = services::protocols::open(
        &mut tx,
        ctx.now,
        ctx.today,
        Owner {
            contract_id: Some(contract.id),
            customer_id: contract.customer_id,
            origin: "verificaacesso",
        },
        ctx.params.get("protocolo"),
        Some(ctx.ticket(NO_ACCESS_TICKET_TYPE, Some(SUPPORT_SECTOR), &content)),
    )
    .await?
    .protocol;
    tx.commit().await?;
    Ok(protocol)
}
