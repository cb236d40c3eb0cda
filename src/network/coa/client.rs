//! The RFC 5176 client over UDP: one socket per address family, one identifier space per
//! NAS, retransmissions, and the reader tasks that hand each reply to its request. Packets are
//! built and checked by [`super::codec`].

use std::collections::HashMap;
use std::fmt;
use std::io;
use std::net::{IpAddr, SocketAddr};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use tokio::net::UdpSocket;
use tokio::sync::{Notify, oneshot};
use tokio::task::AbortHandle;

use super::codec::{
    self, COA_PORT, MAX_PACKET_LEN, Outcome, ReplyRejected, Request, SessionRef, parse,
    session_attrs, verify_reply,
};

/// Default wait for a reply to each try.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_millis(500);
/// Default number of retransmissions after the first try.
pub const DEFAULT_RETRIES: u32 = 2;

/// A NAS's Dynamic Authorization server.
#[derive(Clone, PartialEq, Eq)]
pub struct NasTarget {
    /// NAS IP and CoA port (usually [`COA_PORT`]).
    pub addr: SocketAddr,
    pub secret: Vec<u8>,
}

impl NasTarget {
    /// A target on the standard CoA port.
    pub fn new(ip: IpAddr, secret: impl Into<Vec<u8>>) -> NasTarget {
        NasTarget {
            addr: SocketAddr::new(ip, COA_PORT),
            secret: secret.into(),
        }
    }
}

// The shared secret must never reach a log line.
impl fmt::Debug for NasTarget {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("NasTarget")
            .field("addr", &self.addr)
            .field("secret", &"<redacted>")
            .finish()
    }
}

/// Binds a UDP socket for the current tokio runtime without awaiting, so constructors can
/// stay synchronous; outside a runtime it is an error, not a panic.
pub(crate) fn bind_udp(addr: SocketAddr) -> io::Result<UdpSocket> {
    tokio::runtime::Handle::try_current().map_err(io::Error::other)?;
    let sock = std::net::UdpSocket::bind(addr)?;
    sock.set_nonblocking(true)?;
    UdpSocket::from_std(sock)
}

struct Pending {
    kind: Request,
    request_auth: [u8; 16],
    secret: Vec<u8>,
    /// Taken by the first valid reply; later duplicates find `None`.
    tx: Option<oneshot::Sender<Outcome>>,
}

#[derive(Default)]
struct State {
    next_id: HashMap<SocketAddr, u8>,
    pending: HashMap<(SocketAddr, u8), Pending>,
}

#[derive(Default)]
struct Shared {
    state: Mutex<State>,
    /// Signalled whenever an identifier is freed.
    freed: Notify,
}

impl Shared {
    fn lock(&self) -> MutexGuard<'_, State> {
        // Nothing panics while holding the lock; a poisoned one still holds consistent data.
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }
}

struct Inner {
    v4: Arc<UdpSocket>,
    v6: Option<Arc<UdpSocket>>,
    timeout: Duration,
    retries: u32,
    shared: Arc<Shared>,
    readers: Vec<AbortHandle>,
}

impl Drop for Inner {
    fn drop(&mut self) {
        for r in &self.readers {
            r.abort();
        }
    }
}

/// RFC 5176 client. Clones share one socket and one identifier space per NAS.
#[derive(Clone)]
pub struct CoaClient {
    inner: Arc<Inner>,
}

/// Frees the identifier when a request ends, including when its future is dropped.
struct Slot<'a> {
    shared: &'a Shared,
    key: (SocketAddr, u8),
}

impl Drop for Slot<'_> {
    fn drop(&mut self) {
        self.shared.lock().pending.remove(&self.key);
        self.shared.freed.notify_waiters();
    }
}

impl CoaClient {
    /// `timeout` is the wait for each try; `retries` the retransmissions after the first.
    /// Must be called within a tokio runtime.
    pub fn new(timeout: Duration, retries: u32) -> io::Result<CoaClient> {
        let shared = Arc::new(Shared::default());
        let v4 = Arc::new(bind_udp(SocketAddr::from(([0, 0, 0, 0], 0)))?);
        // IPv6 may be disabled on the host; IPv4 NASes must keep working then.
        let v6 = match bind_udp(SocketAddr::from(([0u16; 8], 0))) {
            Ok(s) => Some(Arc::new(s)),
            Err(e) => {
                tracing::debug!(error = %e, "CoA: sem socket IPv6");
                None
            }
        };
        let mut readers =
            vec![tokio::spawn(read_replies(v4.clone(), shared.clone())).abort_handle()];
        if let Some(s) = &v6 {
            readers.push(tokio::spawn(read_replies(s.clone(), shared.clone())).abort_handle());
        }
        Ok(CoaClient {
            inner: Arc::new(Inner {
                v4,
                v6,
                timeout,
                retries,
                shared,
                readers,
            }),
        })
    }

    /// Disconnect-Request (code 40).
    pub async fn disconnect(&self, nas: &NasTarget, session: &SessionRef) -> Outcome {
        self.exchange(nas, Request::Disconnect, session_attrs(session), &[])
            .await
    }

    /// CoA-Request (code 43). With no `extra` it asks whether the NAS holds the session:
    /// NAK 503 means it does not.
    pub async fn coa(
        &self,
        nas: &NasTarget,
        session: &SessionRef,
        extra: &[(u8, Vec<u8>)],
    ) -> Outcome {
        self.exchange(nas, Request::Coa, session_attrs(session), extra)
            .await
    }

    /// RFC 5997 Status-Server (code 12): whether the NAS is up and shares the secret.
    pub async fn status_server(&self, nas: &NasTarget) -> Outcome {
        self.exchange(nas, Request::Status, Vec::new(), &[]).await
    }

    async fn exchange(
        &self,
        nas: &NasTarget,
        kind: Request,
        mut attrs: Vec<(u8, Vec<u8>)>,
        extra: &[(u8, Vec<u8>)],
    ) -> Outcome {
        let inner = &*self.inner;
        if nas.secret.is_empty() {
            return Outcome::Failed("segredo do NAS vazio".to_owned());
        }
        let socket = if nas.addr.is_ipv4() {
            &inner.v4
        } else {
            match &inner.v6 {
                Some(s) => s,
                None => return Outcome::Failed("IPv6 indisponível neste servidor".to_owned()),
            }
        };
        attrs.extend(extra.iter().cloned());
        let attrs: Vec<(u8, &[u8])> = attrs.iter().map(|(t, v)| (*t, v.as_slice())).collect();

        let (tx, mut rx) = oneshot::channel();
        let mut tx = Some(tx);
        // Waiting for a free identifier counts against the same budget as the tries.
        let budget = inner
            .timeout
            .saturating_mul(inner.retries.saturating_add(1));
        let now = tokio::time::Instant::now();
        // Absurd settings must not overflow the clock: cap at a day.
        let deadline = now
            .checked_add(budget)
            .unwrap_or(now + Duration::from_secs(86_400));
        let (id, packet) = loop {
            let notified = inner.shared.freed.notified();
            tokio::pin!(notified);
            // Registered before looking, so a release in between is not missed.
            notified.as_mut().enable();
            match allocate(&inner.shared, nas, kind, &attrs, &mut tx) {
                Ok(Some(found)) => break found,
                Ok(None) => {}
                Err(why) => return Outcome::Failed(why),
            }
            if tokio::time::timeout_at(deadline, notified).await.is_err() {
                return Outcome::Failed(format!(
                    "256 requisições pendentes para o NAS {}, nenhum identificador livre",
                    nas.addr
                ));
            }
        };
        let _slot = Slot {
            shared: &inner.shared,
            key: (nas.addr, id),
        };

        for attempt in 0..=inner.retries {
            tracing::debug!(nas = %nas.addr, id, code = kind.code(), attempt, "CoA: enviando");
            if let Err(e) = socket.send_to(&packet, nas.addr).await {
                return Outcome::Failed(format!("erro ao enviar para {}: {e}", nas.addr));
            }
            match tokio::time::timeout(inner.timeout, &mut rx).await {
                Ok(Ok(outcome)) => return outcome,
                Ok(Err(_)) => return Outcome::Failed("requisição descartada".to_owned()),
                Err(_) => {}
            }
        }
        tracing::debug!(nas = %nas.addr, id, "CoA: sem resposta válida");
        Outcome::Timeout
    }
}

/// Takes the next free identifier for this NAS and registers the request under it; `Ok(None)`
/// when all 256 are outstanding.
fn allocate(
    shared: &Shared,
    nas: &NasTarget,
    kind: Request,
    attrs: &[(u8, &[u8])],
    tx: &mut Option<oneshot::Sender<Outcome>>,
) -> Result<Option<(u8, Vec<u8>)>, String> {
    let mut st = shared.lock();
    let start = st
        .next_id
        .get(&nas.addr)
        .copied()
        .unwrap_or_else(rand::random);
    let Some(id) = (0..=255u8)
        .map(|i| start.wrapping_add(i))
        .find(|id| !st.pending.contains_key(&(nas.addr, *id)))
    else {
        return Ok(None);
    };
    let request = codec::encode_request(kind, id, attrs, &nas.secret, rand::random())?;
    st.next_id.insert(nas.addr, id.wrapping_add(1));
    st.pending.insert(
        (nas.addr, id),
        Pending {
            kind,
            request_auth: request.authenticator,
            secret: nas.secret.clone(),
            tx: tx.take(),
        },
    );
    Ok(Some((id, request.bytes)))
}

async fn read_replies(socket: Arc<UdpSocket>, shared: Arc<Shared>) {
    let mut buf = vec![0u8; MAX_PACKET_LEN + 1];
    loop {
        match socket.recv_from(&mut buf).await {
            Ok((n, from)) => accept_reply(&shared, &buf[..n], from),
            Err(e) => {
                // Some systems report ICMP errors here; keep serving, without spinning.
                tracing::debug!(error = %e, "CoA: erro ao receber");
                tokio::time::sleep(Duration::from_millis(10)).await;
            }
        }
    }
}

/// Hands a reply to its request if it passes every check; anything else is dropped.
fn accept_reply(shared: &Shared, datagram: &[u8], from: SocketAddr) {
    let p = match parse(datagram) {
        Ok(p) => p,
        Err(why) => {
            tracing::debug!(%from, why, "CoA: resposta malformada ignorada");
            return;
        }
    };
    let mut st = shared.lock();
    // Keyed by the full NAS address: a reply from anywhere else finds nothing.
    let Some(pending) = st.pending.get_mut(&(from, p.identifier)) else {
        tracing::debug!(%from, id = p.identifier, "CoA: resposta sem requisição pendente ignorada");
        return;
    };
    if pending.tx.is_none() {
        tracing::debug!(%from, id = p.identifier, "CoA: resposta repetida ignorada");
        return;
    }
    let outcome = match verify_reply(&p, pending.kind, &pending.request_auth, &pending.secret) {
        Ok(outcome) => outcome,
        Err(ReplyRejected::Authenticator) => {
            tracing::debug!(%from, id = p.identifier, "CoA: Response Authenticator inválido, ignorada");
            return;
        }
        Err(ReplyRejected::MessageAuthenticator) => {
            tracing::debug!(%from, id = p.identifier, "CoA: Message-Authenticator inválido, ignorada");
            return;
        }
        Err(ReplyRejected::Code) => {
            tracing::debug!(%from, id = p.identifier, code = p.code, "CoA: código de resposta inesperado, ignorada");
            return;
        }
    };
    if let Some(tx) = pending.tx.take() {
        // The requester may have given up already; nothing to do then.
        let _ = tx.send(outcome);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::network::coa::codec::{Sign, build};
    use crate::network::nas_sim::{Behavior, NasSim};

    const SECRET: &[u8] = b"segredo-coa";

    fn vector_session() -> SessionRef {
        SessionRef {
            user_name: "cliente01".into(),
            acct_session_id: Some("81200001".into()),
            framed_ip: Some("100.64.0.10".parse().unwrap()),
            nas_ip: Some("10.0.0.1".parse().unwrap()),
        }
    }

    #[test]
    fn nas_target_hides_its_secret() {
        let t = NasTarget::new("10.0.0.1".parse().unwrap(), "segredo");
        assert_eq!(t.addr.port(), 3799);
        assert!(!format!("{t:?}").contains("segredo"));
    }

    #[test]
    fn new_outside_runtime_is_an_error() {
        assert!(CoaClient::new(DEFAULT_TIMEOUT, DEFAULT_RETRIES).is_err());
    }

    #[tokio::test]
    async fn round_trip_against_simulator() {
        let sim = NasSim::start(
            "127.0.0.1:0".parse().unwrap(),
            SECRET.to_vec(),
            Behavior::Normal,
        )
        .unwrap();
        sim.hold("cliente01", "81200001");
        let nas = NasTarget {
            addr: sim.addr(),
            secret: SECRET.to_vec(),
        };
        let client = CoaClient::new(DEFAULT_TIMEOUT, DEFAULT_RETRIES).unwrap();
        let session = vector_session();
        assert_eq!(client.coa(&nas, &session, &[]).await, Outcome::Ack);
        assert_eq!(client.disconnect(&nas, &session).await, Outcome::Ack);
        assert!(!sim.holds("cliente01"));
        assert!(client.coa(&nas, &session, &[]).await.session_not_found());
        assert_eq!(client.status_server(&nas).await, Outcome::Ack);
        let got = sim.received();
        assert_eq!(
            got.iter().map(|r| r.code).collect::<Vec<_>>(),
            vec![43, 40, 43, 12]
        );
        assert!(got.iter().all(|r| r.message_authenticator_ok));
        assert_eq!(got[1].user_name.as_deref(), Some("cliente01"));
        assert_eq!(got[1].acct_session_id.as_deref(), Some("81200001"));
    }

    #[tokio::test]
    async fn replies_from_another_address_or_forged_are_ignored() {
        // A hand-driven NAS: the request is answered first from a different socket, then
        // with a wrong secret, then correctly.
        let nas_sock = tokio::net::UdpSocket::bind("127.0.0.1:0").await.unwrap();
        let other = tokio::net::UdpSocket::bind("127.0.0.1:0").await.unwrap();
        let nas = NasTarget {
            addr: nas_sock.local_addr().unwrap(),
            secret: SECRET.to_vec(),
        };
        let client = CoaClient::new(Duration::from_secs(2), 0).unwrap();
        let task = tokio::spawn({
            let client = client.clone();
            let nas = nas.clone();
            async move { client.disconnect(&nas, &vector_session()).await }
        });
        let mut buf = [0u8; 4096];
        let (n, from) = nas_sock.recv_from(&mut buf).await.unwrap();
        let req = parse(&buf[..n]).unwrap();
        let auth = req.authenticator;
        let id = req.identifier;
        let good = build(41, id, &[], SECRET, Sign::Md5(auth)).unwrap();
        let forged = build(41, id, &[], b"outro", Sign::Md5(auth)).unwrap();
        let wrong_id = build(41, id.wrapping_add(1), &[], SECRET, Sign::Md5(auth)).unwrap();
        let wrong_code = build(44, id, &[], SECRET, Sign::Md5(auth)).unwrap();
        other.send_to(&good, from).await.unwrap();
        for bad in [&forged, &wrong_id, &wrong_code] {
            nas_sock.send_to(bad, from).await.unwrap();
        }
        nas_sock.send_to(&[1, 2, 3], from).await.unwrap();
        tokio::time::sleep(Duration::from_millis(100)).await;
        assert!(!task.is_finished(), "a bad reply was accepted");
        nas_sock.send_to(&good, from).await.unwrap();
        assert_eq!(task.await.unwrap(), Outcome::Ack);
    }
}
