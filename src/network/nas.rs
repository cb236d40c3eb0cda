//! The NAS (concentrador) as the network side needs it: where to send RFC 5176 requests,
//! how to ask it about a session, and what the server does with open sessions.

use std::net::{IpAddr, SocketAddr};

use super::coa::{NasTarget, Outcome, SessionRef};
use super::sessions::OpenSession;
use crate::app::AppState;
use crate::store::Store;

/// How a NAS is asked whether it holds a session, and how its health is probed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Method {
    /// A CoA-Request naming the session; NAK 503 means the NAS does not hold it.
    Coa,
    /// Health by RFC 5997 Status-Server; sessions are not asked.
    StatusServer,
    /// RouterOS API: not implemented yet, treated as `None`.
    MikrotikApi,
    None,
}

impl Method {
    pub fn parse(text: &str) -> Method {
        match text.trim().to_ascii_lowercase().as_str() {
            "coa" => Method::Coa,
            "status-server" => Method::StatusServer,
            "mikrotik-api" => Method::MikrotikApi,
            _ => Method::None,
        }
    }
}

#[derive(Debug, Clone)]
pub struct Nas {
    pub id: i64,
    pub name: String,
    pub ip: Option<IpAddr>,
    pub secret: String,
    pub coa_port: u16,
    pub method: Method,
}

impl Nas {
    pub fn target(&self) -> Option<NasTarget> {
        let ip = self.ip?;
        Some(NasTarget {
            addr: SocketAddr::new(ip, self.coa_port),
            secret: self.secret.as_bytes().to_vec(),
        })
    }
}

type NasRow = (i64, String, Option<String>, String, i64, String);

fn from_row((id, nasname, shortname, secret, port, method): NasRow) -> Nas {
    Nas {
        id,
        ip: nasname.trim().parse().ok(),
        name: shortname
            .filter(|s| !s.is_empty())
            .unwrap_or_else(|| nasname.clone()),
        secret,
        coa_port: u16::try_from(port).unwrap_or(3799),
        method: Method::parse(&method),
    }
}

const NAS_SELECT: &str = "SELECT id, nasname, shortname, secret, coa_port, check_method FROM nas";

pub async fn by_id(store: &Store, id: i64) -> Result<Option<Nas>, sqlx::Error> {
    let row: Option<NasRow> =
        sqlx::query_as(sqlx::AssertSqlSafe(format!("{NAS_SELECT} WHERE id = $1")))
            .bind(id)
            .fetch_optional(&store.pool)
            .await?;
    Ok(row.map(from_row))
}

pub async fn by_ip(store: &Store, ip: &str) -> Result<Option<Nas>, sqlx::Error> {
    let row: Option<NasRow> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "{NAS_SELECT} WHERE nasname = $1 ORDER BY id LIMIT 1"
    )))
    .bind(ip)
    .fetch_optional(&store.pool)
    .await?;
    Ok(row.map(from_row))
}

pub async fn all_probed(store: &Store) -> Result<Vec<Nas>, sqlx::Error> {
    let rows: Vec<NasRow> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "{NAS_SELECT} WHERE check_method IN ('coa', 'status-server') ORDER BY id"
    )))
    .fetch_all(&store.pool)
    .await?;
    Ok(rows.into_iter().map(from_row).collect())
}

/// The NAS a session lives on: the one whose address accounting reported, else the
/// service's.
pub async fn for_session(
    store: &Store,
    session: &OpenSession,
    service_nas: Option<i64>,
) -> Result<Option<Nas>, sqlx::Error> {
    if let Some(ip) = session.nas_ip.as_deref()
        && let Some(nas) = by_ip(store, ip).await?
    {
        return Ok(Some(nas));
    }
    match service_nas {
        Some(id) => by_id(store, id).await,
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
pub async fn disconnect_logins(state: &AppState, logins: &[(String, Option<i64>)]) -> String {
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
            let Some(target) = nas.target() else {
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

/// What the NAS says of a session `radacct` shows as open.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Holds {
    Yes,
    /// The NAS answered that it does not hold it: the session is stale.
    No,
    /// Not asked (method) or no usable answer.
    Unknown,
}

pub async fn ask(state: &AppState, nas: &Nas, session: &OpenSession) -> Holds {
    if nas.method != Method::Coa {
        return Holds::Unknown;
    }
    let Some(target) = nas.target() else {
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
