//! The NAS (concentrador) as the network side needs it: where to send RFC 5176 requests,
//! how to ask it about a session, and what the server does with open sessions.

use std::net::SocketAddr;

use super::coa::{CoaClient, NasTarget, Outcome, SessionRef};
use crate::store::Store;
use crate::store::nas::{self as nas_rows, Method};
use crate::store::radacct::{OpenSession, Sessions};

pub use crate::store::nas::Nas;

/// What acts on sessions at the NAS: where sessions are read, the NAS table, the RFC 5176
/// client.
#[derive(Clone)]
pub struct NasClient {
    pub store: Store,
    pub sessions: Sessions,
    pub coa: CoaClient,
}

/// Where RFC 5176 requests for this NAS go; None when its address is not an IP.
pub fn target(nas: &Nas) -> Option<NasTarget> {
    let ip = nas.ip?;
    Some(NasTarget {
        addr: SocketAddr::new(ip, nas.coa_port),
        secret: nas.secret.as_bytes().to_vec(),
    })
}

/// The NAS a session lives on: the one whose address accounting reported, else the
/// service's.
pub async fn for_session(
    store: &Store,
    session: &OpenSession,
    service_nas: Option<i64>,
) -> Result<Option<Nas>, sqlx::Error> {
    if let Some(ip) = session.nas_ip.as_deref()
        && let Some(nas) = nas_rows::by_ip(store, ip).await?
    {
        return Ok(Some(nas));
    }
    match service_nas {
        Some(id) => nas_rows::by_id(store, id).await,
        None => Ok(None),
    }
}

pub fn session_ref(session: &OpenSession) -> SessionRef {
    SessionRef {
        user_name: session.user_name.clone(),
        acct_session_id: Some(session.acct_session_id.clone()).filter(|s| !s.is_empty()),
        framed_ip: session.framed_ip.as_deref().and_then(|ip| ip.parse().ok()),
        nas_ip: session.nas_ip.as_deref().and_then(|ip| ip.parse().ok()),
    }
}

/// Sends a Disconnect-Request for every open session of the logins, and returns one line
/// per session saying what the NAS answered (stored with the promise, logged).
impl NasClient {
    pub async fn disconnect_logins(&self, logins: &[(String, Option<i64>)]) -> String {
        let state = self;
        let mut lines = Vec::new();
        for (login, service_nas) in logins {
            let sessions = match state.sessions.open_sessions(login).await {
                Ok(s) => s,
                Err(e) => {
                    lines.push(format!("{login}: sessões indisponíveis ({e})"));
                    continue;
                }
            };
            for session in sessions {
                let nas = match for_session(&state.store, &session, *service_nas).await {
                    Ok(Some(nas)) => nas,
                    Ok(None) => {
                        lines.push(format!("{login}: NAS da sessão desconhecido"));
                        continue;
                    }
                    Err(e) => {
                        lines.push(format!("{login}: NAS indisponível ({e})"));
                        continue;
                    }
                };
                let Some(target) = target(&nas) else {
                    lines.push(format!("{login}@{}: endereço do NAS inválido", nas.name));
                    continue;
                };
                let outcome = state.coa.disconnect(&target, &session_ref(&session)).await;
                lines.push(format!("{login}@{}: {}", nas.name, outcome.describe()));
            }
        }
        if lines.is_empty() {
            "nenhuma sessão aberta".to_string()
        } else {
            lines.join("; ")
        }
    }
}

/// What the NAS says of a session `radacct` shows as open.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Holds {
    Yes,
    /// The NAS answered that it does not hold it: the session is stale.
    No,
    /// Not asked (method) or no usable answer.
    Unknown,
}

impl NasClient {
    pub async fn ask(&self, nas: &Nas, session: &OpenSession) -> Holds {
        let state = self;
        if nas.method != Method::Coa {
            return Holds::Unknown;
        }
        let Some(target) = target(nas) else {
            return Holds::Unknown;
        };
        match state.coa.coa(&target, &session_ref(session), &[]).await {
            Outcome::Ack => Holds::Yes,
            o if o.session_not_found() => Holds::No,
            o => {
                tracing::info!(nas = %nas.name, "consulta de sessão sem resposta útil: {}", o.describe());
                Holds::Unknown
            }
        }
    }
}

/// The user name of a probe's CoA-Request: no session has it, so the NAS answers NAK.
const PROBE_USER: &str = "ura-sonda-de-saude";

/// Asks the NAS once whether it is up, as its health probe does: Status-Server, or a
/// CoA-Request naming no session (any answer, ACK or NAK, means it is up and shares the
/// secret). None when the NAS is not probed (`check_method` none) or has no IP address.
pub async fn probe(coa: &CoaClient, nas: &Nas) -> Option<Outcome> {
    let target = target(nas)?;
    match nas.method {
        Method::StatusServer => Some(coa.status_server(&target).await),
        Method::Coa => {
            let probe = SessionRef {
                user_name: PROBE_USER.into(),
                ..SessionRef::default()
            };
            Some(coa.coa(&target, &probe, &[]).await)
        }
        Method::MikrotikApi | Method::None => None,
    }
}
