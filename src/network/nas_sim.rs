//! A NAS simulator for tests and the demo: answers RFC 5176 requests (and RFC 5997
//! Status-Server) over UDP, holding a set of sessions, with switchable misbehaviours.

use std::collections::HashMap;
use std::io;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use tokio::net::UdpSocket;
use tokio::task::AbortHandle;

use super::coa::bind_udp;
use super::coa::codec::{
    ATTR_ACCT_SESSION_ID, ATTR_ERROR_CAUSE, ATTR_USER_NAME, CODE_ACCESS_ACCEPT, CODE_ACCESS_REJECT,
    CODE_COA_ACK, CODE_COA_NAK, CODE_COA_REQUEST, CODE_DISCONNECT_ACK, CODE_DISCONNECT_NAK,
    CODE_DISCONNECT_REQUEST, CODE_STATUS_SERVER, MAX_PACKET_LEN, Parsed, Sign, authenticator_ok,
    build, message_authenticator, parse,
};

/// How the simulator answers.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Behavior {
    /// Checks authenticators, answers from the sessions it holds.
    Normal,
    /// Never answers.
    Silent,
    /// Answers random bytes.
    Garbage,
    /// Answers normally but with a corrupted Response Authenticator.
    WrongAuthenticator,
    /// NAKs every valid request with this Error-Cause.
    NakAll(u32),
    /// Answers normally after this many milliseconds.
    DelayMs(u64),
}

/// One request as the simulator got it (whether or not it was valid).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Received {
    pub code: u8,
    pub identifier: u8,
    /// Request Authenticator: equal on a retransmission of the same packet.
    pub authenticator: [u8; 16],
    pub user_name: Option<String>,
    pub acct_session_id: Option<String>,
    /// Had a Message-Authenticator and it verified.
    pub message_authenticator_ok: bool,
    /// The Request Authenticator verified (always true for Status-Server, whose is random).
    pub authenticator_ok: bool,
    /// Every attribute in order, Message-Authenticator included.
    pub attributes: Vec<(u8, Vec<u8>)>,
}

struct State {
    behavior: Behavior,
    /// User-Name → Acct-Session-Id.
    sessions: HashMap<String, String>,
    received: Vec<Received>,
    /// Last request per (client, identifier) and its reply, so that a retransmission gets the
    /// same answer instead of being acted on twice (RFC 5080 §2.2.2); `None` while a delayed
    /// reply is still due.
    answered: HashMap<(SocketAddr, u8), Answered>,
}

struct Answered {
    request_auth: [u8; 16],
    reply: Option<Vec<u8>>,
}

struct Shared {
    secret: Vec<u8>,
    state: Mutex<State>,
    stopped: AtomicBool,
}

impl Shared {
    fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }
}

/// A running simulator; it stops when dropped.
pub struct NasSim {
    addr: SocketAddr,
    shared: Arc<Shared>,
    task: AbortHandle,
}

impl NasSim {
    /// Binds `bind` (port 0 picks one) and starts answering. Must be called within a tokio
    /// runtime.
    pub fn start(bind: SocketAddr, secret: Vec<u8>, behavior: Behavior) -> io::Result<NasSim> {
        let socket = Arc::new(bind_udp(bind)?);
        let addr = socket.local_addr()?;
        let shared = Arc::new(Shared {
            secret,
            state: Mutex::new(State {
                behavior,
                sessions: HashMap::new(),
                received: Vec::new(),
                answered: HashMap::new(),
            }),
            stopped: AtomicBool::new(false),
        });
        let task = tokio::spawn(serve(socket, shared.clone())).abort_handle();
        Ok(NasSim { addr, shared, task })
    }

    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// Starts holding a session (replacing the user's previous one).
    pub fn hold(&self, user_name: &str, acct_session_id: &str) {
        self.shared
            .lock()
            .sessions
            .insert(user_name.to_owned(), acct_session_id.to_owned());
    }

    pub fn release(&self, user_name: &str) {
        self.shared.lock().sessions.remove(user_name);
    }

    pub fn holds(&self, user_name: &str) -> bool {
        self.shared.lock().sessions.contains_key(user_name)
    }

    /// Applies to requests received from now on.
    pub fn set_behavior(&self, b: Behavior) {
        self.shared.lock().behavior = b;
    }

    /// Every request received, in order.
    pub fn received(&self) -> Vec<Received> {
        self.shared.lock().received.clone()
    }

    /// Stops answering, delayed replies included; the port is freed.
    pub fn stop(&self) {
        self.shared.stopped.store(true, Ordering::SeqCst);
        self.task.abort();
    }
}

impl Drop for NasSim {
    fn drop(&mut self) {
        self.stop();
    }
}

async fn serve(socket: Arc<UdpSocket>, shared: Arc<Shared>) {
    let mut buf = vec![0u8; MAX_PACKET_LEN + 1];
    loop {
        let (n, from) = match socket.recv_from(&mut buf).await {
            Ok(r) => r,
            Err(e) => {
                tracing::debug!(error = %e, "nas-sim: erro ao receber");
                tokio::time::sleep(Duration::from_millis(10)).await;
                continue;
            }
        };
        let Some((reply, delay)) = handle(&shared, &buf[..n], from) else {
            continue;
        };
        match delay {
            None => send(&socket, &reply, from).await,
            Some(delay) => {
                let (socket, shared) = (socket.clone(), shared.clone());
                tokio::spawn(async move {
                    tokio::time::sleep(delay).await;
                    if shared.stopped.load(Ordering::SeqCst) {
                        return;
                    }
                    send(&socket, &reply, from).await;
                    // From now on a retransmission gets this reply again.
                    let mut st = shared.lock();
                    if let Some(entry) = st.answered.get_mut(&(from, reply[1])) {
                        entry.reply.get_or_insert(reply);
                    }
                });
            }
        }
    }
}

async fn send(socket: &UdpSocket, reply: &[u8], to: SocketAddr) {
    if let Err(e) = socket.send_to(reply, to).await {
        tracing::debug!(error = %e, %to, "nas-sim: erro ao responder");
    }
}

/// Records the request and decides the reply (and its delay), if any.
fn handle(
    shared: &Shared,
    datagram: &[u8],
    from: SocketAddr,
) -> Option<(Vec<u8>, Option<Duration>)> {
    let p = match parse(datagram) {
        Ok(p) => p,
        Err(why) => {
            tracing::debug!(%from, why, "nas-sim: pacote malformado descartado");
            return None;
        }
    };
    let secret = &shared.secret;
    let (auth_ok, basis) = match p.code {
        CODE_DISCONNECT_REQUEST | CODE_COA_REQUEST => {
            (authenticator_ok(&p, &[0; 16], secret), [0; 16])
        }
        CODE_STATUS_SERVER => (true, p.authenticator),
        _ => (false, [0; 16]),
    };
    let ma = message_authenticator(&p, &basis, secret);

    let mut st = shared.lock();
    st.received.push(Received {
        code: p.code,
        identifier: p.identifier,
        authenticator: p.authenticator,
        user_name: p.string(ATTR_USER_NAME),
        acct_session_id: p.string(ATTR_ACCT_SESSION_ID),
        message_authenticator_ok: ma == Some(true),
        authenticator_ok: auth_ok,
        attributes: p.attrs.iter().map(|a| (a.typ, a.value.to_vec())).collect(),
    });
    let behavior = st.behavior;
    match behavior {
        Behavior::Silent => return None,
        Behavior::Garbage => return Some((garbage(&p), None)),
        _ => {}
    }
    // RFC 5997 §3: Status-Server without a Message-Authenticator is discarded.
    let ma_ok = match ma {
        Some(ok) => ok,
        None => p.code != CODE_STATUS_SERVER,
    };
    if !auth_ok || !ma_ok {
        tracing::debug!(%from, id = p.identifier, code = p.code, "nas-sim: requisição não autenticada descartada");
        return None;
    }
    let key = (from, p.identifier);
    if let Some(a) = st.answered.get(&key)
        && a.request_auth == p.authenticator
    {
        return a.reply.clone().map(|r| (r, None));
    }

    let (code, cause) = decide(&mut st, &p, behavior);
    let cause = cause.map(u32::to_be_bytes);
    let attrs: Vec<(u8, &[u8])> = cause
        .iter()
        .map(|c| (ATTR_ERROR_CAUSE, c.as_slice()))
        .collect();
    let mut reply = build(
        code,
        p.identifier,
        &attrs,
        secret,
        Sign::Md5(p.authenticator),
    )
    .ok()?;
    if behavior == Behavior::WrongAuthenticator {
        reply[4] ^= 0xff;
    }
    let delay = match behavior {
        Behavior::DelayMs(ms) => Some(Duration::from_millis(ms)),
        _ => None,
    };
    st.answered.insert(
        key,
        Answered {
            request_auth: p.authenticator,
            // A delayed reply is stored once it has gone out.
            reply: delay.is_none().then(|| reply.clone()),
        },
    );
    Some((reply, delay))
}

/// Reply code and Error-Cause for a valid request; acts on the sessions.
fn decide(st: &mut State, p: &Parsed<'_>, behavior: Behavior) -> (u8, Option<u32>) {
    let (ack, nak) = match p.code {
        CODE_DISCONNECT_REQUEST => (CODE_DISCONNECT_ACK, CODE_DISCONNECT_NAK),
        CODE_COA_REQUEST => (CODE_COA_ACK, CODE_COA_NAK),
        _ => {
            // Status-Server: there is no NAK for it.
            return match behavior {
                Behavior::NakAll(_) => (CODE_ACCESS_REJECT, None),
                _ => (CODE_ACCESS_ACCEPT, None),
            };
        }
    };
    if let Behavior::NakAll(cause) = behavior {
        return (nak, Some(cause));
    }
    let user = p.string(ATTR_USER_NAME);
    let sid = p.string(ATTR_ACCT_SESSION_ID);
    let found = match (&user, &sid) {
        (None, None) => return (nak, Some(402)),
        (Some(u), sid) => st
            .sessions
            .get(u)
            // A session held without an id (`--session LOGIN`) matches any id of the login.
            .filter(|held| held.is_empty() || sid.as_ref().is_none_or(|s| s == *held))
            .map(|_| u.clone()),
        (None, Some(s)) => st
            .sessions
            .iter()
            .find(|(_, held)| *held == s)
            .map(|(u, _)| u.clone()),
    };
    match found {
        Some(u) => {
            if p.code == CODE_DISCONNECT_REQUEST {
                st.sessions.remove(&u);
            }
            (ack, None)
        }
        None => (nak, Some(503)),
    }
}

/// Random bytes, sometimes shaped enough (reply code, identifier, Length) to get past the
/// first checks of a client and exercise the later ones.
fn garbage(p: &Parsed<'_>) -> Vec<u8> {
    let len = usize::from(rand::random::<u8>() % 64);
    let mut g: Vec<u8> = (0..len).map(|_| rand::random()).collect();
    if len >= 2 {
        g[0] = p.code.wrapping_add(1);
        g[1] = p.identifier;
    }
    if len >= 20 && rand::random::<bool>() {
        g[2] = 0;
        g[3] = len as u8;
    }
    g
}

#[cfg(test)]
mod tests {
    use std::collections::HashSet;

    use super::*;
    use crate::network::coa::{CoaClient, NasTarget, Outcome, SessionRef};

    const SECRET: &[u8] = b"testing123";

    fn sim(b: Behavior) -> NasSim {
        NasSim::start("127.0.0.1:0".parse().unwrap(), SECRET.to_vec(), b).unwrap()
    }

    fn target(sim: &NasSim) -> NasTarget {
        NasTarget {
            addr: sim.addr(),
            secret: SECRET.to_vec(),
        }
    }

    fn session(user: &str) -> SessionRef {
        SessionRef {
            user_name: user.into(),
            acct_session_id: None,
            framed_ip: Some("100.64.1.2".parse().unwrap()),
            nas_ip: Some("127.0.0.1".parse().unwrap()),
        }
    }

    fn client(timeout_ms: u64, retries: u32) -> CoaClient {
        CoaClient::new(Duration::from_millis(timeout_ms), retries).unwrap()
    }

    #[tokio::test]
    async fn normal_disconnect_and_coa() {
        let sim = sim(Behavior::Normal);
        let nas = target(&sim);
        let c = client(500, 2);
        sim.hold("maria", "S1");
        sim.hold("jose", "S2");

        assert_eq!(c.coa(&nas, &session("maria"), &[]).await, Outcome::Ack);
        assert!(sim.holds("maria"), "a CoA does not end the session");
        assert!(
            c.coa(&nas, &session("ninguem"), &[])
                .await
                .session_not_found()
        );

        assert_eq!(c.disconnect(&nas, &session("maria")).await, Outcome::Ack);
        assert!(!sim.holds("maria"));
        let again = c.disconnect(&nas, &session("maria")).await;
        assert!(again.session_not_found(), "{again:?}");

        // A mismatching Acct-Session-Id is another session.
        let mut other = session("jose");
        other.acct_session_id = Some("S9".into());
        assert!(c.disconnect(&nas, &other).await.session_not_found());
        other.acct_session_id = Some("S2".into());
        assert_eq!(c.disconnect(&nas, &other).await, Outcome::Ack);

        // Extra attributes reach the NAS as given.
        sim.hold("ana", "S3");
        let extra = vec![(11u8, b"plano-100M".to_vec())];
        assert_eq!(c.coa(&nas, &session("ana"), &extra).await, Outcome::Ack);
        let got = sim.received();
        assert_eq!(got.len(), 7);
        assert!(
            got.iter()
                .all(|r| r.authenticator_ok && r.message_authenticator_ok)
        );
        let last = got.last().unwrap();
        assert!(last.attributes.contains(&(11, b"plano-100M".to_vec())));
        assert!(last.attributes.contains(&(8, vec![100, 64, 1, 2])));
        assert_eq!(last.attributes[0].0, 80, "Message-Authenticator goes first");
    }

    #[tokio::test]
    async fn status_server_and_release() {
        let sim = sim(Behavior::Normal);
        let nas = target(&sim);
        let c = client(500, 2);
        assert_eq!(c.status_server(&nas).await, Outcome::Ack);
        sim.hold("u", "1");
        sim.release("u");
        assert!(!sim.holds("u"));
        let got = sim.received();
        assert_eq!(got.len(), 1);
        assert_eq!(got[0].code, 12);
        assert!(got[0].message_authenticator_ok);
    }

    #[tokio::test]
    async fn silent_retransmits_same_packet_then_times_out() {
        let sim = sim(Behavior::Silent);
        sim.hold("maria", "S1");
        let c = client(60, 2);
        let started = std::time::Instant::now();
        assert_eq!(
            c.disconnect(&target(&sim), &session("maria")).await,
            Outcome::Timeout
        );
        assert!(started.elapsed() >= Duration::from_millis(180));
        let got = sim.received();
        assert_eq!(got.len(), 3, "1 try + 2 retries");
        assert!(
            got.iter().all(|r| *r == got[0]),
            "identical retransmissions: {got:?}"
        );
        assert!(sim.holds("maria"));
    }

    #[tokio::test]
    async fn bad_replies_are_ignored_until_timeout() {
        for b in [Behavior::Garbage, Behavior::WrongAuthenticator] {
            let sim = sim(b);
            sim.hold("maria", "S1");
            let c = client(60, 2);
            let nas = target(&sim);
            assert_eq!(
                c.coa(&nas, &session("maria"), &[]).await,
                Outcome::Timeout,
                "{b:?}"
            );
            assert_eq!(c.status_server(&nas).await, Outcome::Timeout, "{b:?}");
            let got = sim.received();
            assert_eq!(got.len(), 6, "{b:?}");
            assert_eq!(got[0].identifier, got[2].identifier);
            assert_ne!(got[0].identifier, got[3].identifier);
        }
    }

    #[tokio::test]
    async fn nak_all_and_behavior_switch() {
        let sim = sim(Behavior::NakAll(501));
        sim.hold("maria", "S1");
        let nas = target(&sim);
        let c = client(500, 2);
        let out = c.disconnect(&nas, &session("maria")).await;
        assert_eq!(
            out,
            Outcome::Nak {
                error_cause: Some(501)
            }
        );
        assert!(out.describe().contains("proibido administrativamente"));
        assert!(sim.holds("maria"));
        // Any authenticated answer to Status-Server means the NAS is up.
        assert_eq!(c.status_server(&nas).await, Outcome::Ack);
        sim.set_behavior(Behavior::Normal);
        assert_eq!(c.disconnect(&nas, &session("maria")).await, Outcome::Ack);
    }

    #[tokio::test]
    async fn delayed_reply_within_timeout_is_ack() {
        let sim = sim(Behavior::DelayMs(100));
        sim.hold("maria", "S1");
        let c = client(500, 2);
        assert_eq!(
            c.coa(&target(&sim), &session("maria"), &[]).await,
            Outcome::Ack
        );
        assert_eq!(sim.received().len(), 1);
    }

    #[tokio::test]
    async fn late_reply_answers_the_retransmission() {
        // The reply comes after the first wait: the retransmission (same identifier) is not
        // acted on twice by the NAS, and the late reply still completes the request.
        let sim = sim(Behavior::DelayMs(150));
        sim.hold("maria", "S1");
        let c = client(100, 2);
        assert_eq!(
            c.disconnect(&target(&sim), &session("maria")).await,
            Outcome::Ack
        );
        let got = sim.received();
        assert!(got.len() >= 2, "{got:?}");
        assert!(got.iter().all(|r| r.identifier == got[0].identifier));
        assert!(!sim.holds("maria"));
    }

    #[tokio::test]
    async fn concurrent_requests_get_distinct_identifiers() {
        let sim = sim(Behavior::DelayMs(200));
        sim.hold("maria", "S1");
        let nas = target(&sim);
        let c = client(1000, 0);
        let tasks: Vec<_> = (0..40)
            .map(|_| {
                let (c, nas) = (c.clone(), nas.clone());
                tokio::spawn(async move { c.coa(&nas, &session("maria"), &[]).await })
            })
            .collect();
        for t in tasks {
            assert_eq!(t.await.unwrap(), Outcome::Ack);
        }
        let got = sim.received();
        assert_eq!(got.len(), 40);
        let ids: HashSet<u8> = got.iter().map(|r| r.identifier).collect();
        assert_eq!(ids.len(), 40);
    }

    #[tokio::test]
    async fn more_than_256_outstanding_wait_for_a_free_identifier() {
        let sim = sim(Behavior::DelayMs(100));
        sim.hold("maria", "S1");
        let nas = target(&sim);
        let c = client(1000, 1);
        let tasks: Vec<_> = (0..300)
            .map(|_| {
                let (c, nas) = (c.clone(), nas.clone());
                tokio::spawn(async move { c.coa(&nas, &session("maria"), &[]).await })
            })
            .collect();
        for t in tasks {
            assert_eq!(t.await.unwrap(), Outcome::Ack);
        }
        assert_eq!(sim.received().len(), 300);
    }

    #[tokio::test]
    async fn wrong_secret_is_dropped_by_the_nas() {
        let sim = sim(Behavior::Normal);
        sim.hold("maria", "S1");
        let nas = NasTarget {
            addr: sim.addr(),
            secret: b"errado".to_vec(),
        };
        let c = client(50, 1);
        assert_eq!(
            c.disconnect(&nas, &session("maria")).await,
            Outcome::Timeout
        );
        assert!(sim.holds("maria"));
        let got = sim.received();
        assert_eq!(got.len(), 2);
        assert!(
            got.iter()
                .all(|r| !r.authenticator_ok && !r.message_authenticator_ok)
        );
    }

    #[tokio::test]
    async fn stopped_simulator_does_not_answer() {
        let sim = sim(Behavior::Normal);
        let nas = target(&sim);
        sim.stop();
        let c = client(50, 0);
        assert_eq!(c.status_server(&nas).await, Outcome::Timeout);
    }

    #[tokio::test]
    async fn malformed_requests_do_not_stop_the_simulator() {
        let sim = sim(Behavior::Normal);
        let s = tokio::net::UdpSocket::bind("127.0.0.1:0").await.unwrap();
        for d in [
            &[][..],
            &[40, 1, 0],
            &[
                40, 1, 0, 21, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 80,
            ],
        ] {
            s.send_to(d, sim.addr()).await.unwrap();
        }
        let c = client(500, 0);
        assert_eq!(c.status_server(&target(&sim)).await, Outcome::Ack);
        assert_eq!(sim.received().len(), 1);
    }
}
