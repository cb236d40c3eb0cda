//! PostgreSQL going away under a running server: the server talks to its database through a
//! TCP proxy of the test's own, which can cut every connection (and refuse new ones) or
//! black-hole them (a network partition: nothing answers, nothing is reset). While the
//! database is away every call answers `503` promptly, nothing is half-written, and once it is
//! back the same server answers again without a restart.
//!
//! Only meaningful on PostgreSQL: without `URA_TEST_DATABASE_URL` these tests say so and
//! return.

use crate::common::*;

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use serde_json::json;
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{Mutex, Semaphore, watch};
use tokio::task::{JoinHandle, JoinSet};

const UNAVAILABLE: &str = r#"{"detail":"Serviço temporariamente indisponível."}"#;
/// A sanity bound only: the product's target for a 503 is one second.
const SANITY: Duration = Duration::from_secs(5);
/// How long the server may take to answer again once the database is back.
const RECOVERY: Duration = Duration::from_secs(15);

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Mode {
    /// Forwarding.
    Open,
    /// Every connection closed, new ones refused (the listening socket is closed).
    Cut,
    /// Connections stay open but nothing goes through, new ones are accepted and held.
    Blackhole,
}

/// A TCP proxy from 127.0.0.1:PORT to the PostgreSQL server.
struct Proxy {
    addr: SocketAddr,
    target: String,
    mode: watch::Sender<Mode>,
    accept: Mutex<Option<JoinHandle<()>>>,
}

impl Proxy {
    async fn start(target: String) -> Proxy {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind proxy");
        let addr = listener.local_addr().expect("proxy addr");
        let (mode, _) = watch::channel(Mode::Open);
        let proxy = Proxy {
            addr,
            target,
            mode,
            accept: Mutex::new(None),
        };
        *proxy.accept.lock().await = Some(proxy.serve(listener));
        proxy
    }

    fn serve(&self, listener: TcpListener) -> JoinHandle<()> {
        let mut stop = self.mode.subscribe();
        let modes = self.mode.subscribe();
        let target = self.target.clone();
        tokio::spawn(async move {
            loop {
                tokio::select! {
                    accepted = listener.accept() => {
                        let Ok((client, _)) = accepted else { continue };
                        let mode = *modes.borrow();
                        tokio::spawn(connection(client, target.clone(), mode, modes.clone()));
                    }
                    // Cut (or the proxy dropped): close the listening socket.
                    _ = stop.wait_for(|m| *m == Mode::Cut) => return,
                }
            }
        })
    }

    /// Closes every connection and the listening socket: connecting is refused.
    async fn cut(&self) {
        self.mode.send_replace(Mode::Cut);
        if let Some(task) = self.accept.lock().await.take() {
            task.await.expect("accept task");
        }
    }

    /// Freezes every connection, accepts new ones but never forwards them.
    fn blackhole(&self) {
        self.mode.send_replace(Mode::Blackhole);
    }

    /// Forwarding again, on the same port.
    async fn restore(&self) {
        let mut accept = self.accept.lock().await;
        if accept.is_none() {
            let listener = TcpListener::bind(self.addr)
                .await
                .expect("rebind the proxy's port");
            self.mode.send_replace(Mode::Open);
            *accept = Some(self.serve(listener));
        } else {
            self.mode.send_replace(Mode::Open);
        }
    }
}

impl Drop for Proxy {
    fn drop(&mut self) {
        self.mode.send_replace(Mode::Cut);
    }
}

async fn connection(
    mut client: TcpStream,
    target: String,
    mode: Mode,
    mut modes: watch::Receiver<Mode>,
) {
    match mode {
        Mode::Cut => {}
        Mode::Blackhole => {
            // Hold the socket, silent, until the partition ends; then drop it.
            let _ = modes.wait_for(|m| *m != Mode::Blackhole).await;
        }
        Mode::Open => {
            let Ok(mut upstream) = TcpStream::connect(&target).await else {
                return;
            };
            let mut watcher = modes.clone();
            let changed = async move {
                watcher
                    .wait_for(|m| *m != Mode::Open)
                    .await
                    .map(|m| *m)
                    .unwrap_or(Mode::Cut)
            };
            tokio::select! {
                _ = tokio::io::copy_bidirectional(&mut client, &mut upstream) => {}
                now = changed => {
                    if now == Mode::Blackhole {
                        let _ = modes.wait_for(|m| *m != Mode::Blackhole).await;
                    }
                }
            }
            // Dropping both sockets closes them.
        }
    }
}

/// Drops a test's PostgreSQL database when the test panics before its own cleanup (a
/// failing assertion must not leave databases behind). Does nothing on SQLite or on success.
pub(crate) struct DropDatabaseOnPanic(Option<(String, String)>);

impl DropDatabaseOnPanic {
    /// For the database of `url`, when it is a PostgreSQL one and a server is configured.
    pub(crate) fn new(url: &str) -> DropDatabaseOnPanic {
        let name = url
            .starts_with("postgres")
            .then(|| url.rsplit('/').next().unwrap_or("").split('?').next())
            .flatten()
            .filter(|n| n.starts_with("ura_test_"))
            .map(str::to_owned);
        DropDatabaseOnPanic(postgres_admin_url().zip(name))
    }
}

impl Drop for DropDatabaseOnPanic {
    fn drop(&mut self) {
        if !std::thread::panicking() {
            return;
        }
        if let Some((admin, name)) = self.0.take() {
            // Our runtime may be unwinding: a thread and a runtime of its own.
            let _ = std::thread::spawn(move || {
                if let Ok(rt) = tokio::runtime::Builder::new_current_thread()
                    .enable_all()
                    .build()
                {
                    rt.block_on(drop_pg_database(&admin, &name));
                }
            })
            .join();
        }
    }
}

/// `host:port` of a PostgreSQL URL (port 5432 when absent).
fn host_port(url: &str) -> String {
    let rest = &url[url.find("://").map(|i| i + 3).unwrap_or(0)..];
    let authority = rest.split(['/', '?']).next().unwrap_or(rest);
    let host = authority.rsplit('@').next().unwrap_or(authority);
    if host.contains(':') {
        host.to_string()
    } else {
        format!("{host}:5432")
    }
}

/// The URL with its `host:port` replaced by `addr` (user, database and options kept).
fn through(url: &str, addr: SocketAddr) -> String {
    let start = url.find("://").map(|i| i + 3).unwrap_or(0);
    let rest = &url[start..];
    let end = rest.find(['/', '?']).unwrap_or(rest.len());
    let authority = &rest[..end];
    let userinfo = match authority.rfind('@') {
        Some(at) => &authority[..=at],
        None => "",
    };
    format!("{}{userinfo}{addr}{}", &url[..start], &rest[end..])
}

#[test]
fn urls_are_rewritten_to_the_proxy() {
    let addr: SocketAddr = "127.0.0.1:40001".parse().unwrap();
    assert_eq!(
        through("postgres://postgres@127.0.0.1:5432/ura_test_1", addr),
        "postgres://postgres@127.0.0.1:40001/ura_test_1"
    );
    assert_eq!(
        through("postgresql://u:p@db.example:6543/x?sslmode=disable", addr),
        "postgresql://u:p@127.0.0.1:40001/x?sslmode=disable"
    );
    assert_eq!(
        host_port("postgres://postgres@127.0.0.1:5432/postgres"),
        "127.0.0.1:5432"
    );
    assert_eq!(host_port("postgres://localhost/postgres"), "localhost:5432");
}

/// The server, started on a fresh PostgreSQL database reached through the proxy, and a pool
/// of the test's own that reaches the database directly (to check rows while it is "away").
struct Setup {
    app: TestApp,
    proxy: Proxy,
    direct: sqlx::PgPool,
    _cleanup: DropDatabaseOnPanic,
}

async fn setup(admin: &str) -> Setup {
    let proxy = Proxy::start(host_port(admin)).await;
    let mut direct_url = String::new();
    let app = spawn_with(|s| {
        direct_url = s.database_url.clone();
        s.database_url = through(&s.database_url, proxy.addr);
    })
    .await;
    assert!(app.is_postgres());
    assert!(
        app.settings.database_url.contains(&proxy.addr.to_string()),
        "the server must reach PostgreSQL through the proxy: {}",
        app.settings.database_url
    );
    let cleanup = DropDatabaseOnPanic::new(&direct_url);
    let direct = sqlx::PgPool::connect(&direct_url)
        .await
        .expect("direct connection");
    Setup {
        app,
        proxy,
        direct,
        _cleanup: cleanup,
    }
}

impl Setup {
    async fn count(&self, sql: &str) -> i64 {
        sqlx::query_scalar(sqlx::AssertSqlSafe(sql.to_string()))
            .fetch_one(&self.direct)
            .await
            .expect("count")
    }

    async fn text(&self, sql: &str) -> Option<String> {
        sqlx::query_scalar(sqlx::AssertSqlSafe(sql.to_string()))
            .fetch_optional(&self.direct)
            .await
            .expect("text")
    }

    /// Everything a call could write, as counts.
    async fn snapshot(&self) -> Vec<(String, i64)> {
        let mut out = Vec::new();
        for sql in [
            "SELECT COUNT(*) FROM tickets",
            "SELECT COUNT(*) FROM work_orders",
            "SELECT COUNT(*) FROM protocols",
            "SELECT COALESCE(SUM(base), 0) FROM protocol_days",
            "SELECT COUNT(*) FROM promises",
            "SELECT COUNT(*) FROM notifications",
            "SELECT status FROM contracts WHERE id = 1002",
            "SELECT COUNT(*) FROM internet_services WHERE enabled = 1",
            "SELECT COUNT(*) FROM radusergroup WHERE groupname = 'bloqueado'",
        ] {
            // Scalar subquery cast: the direct pool decodes strictly (INT4, NUMERIC...).
            let value = self.count(&format!("SELECT CAST(({sql}) AS BIGINT)")).await;
            out.push((sql.to_string(), value));
        }
        out
    }

    /// Polls (bounded) until `consultacliente` answers 200; returns how long it took.
    async fn wait_recovered(&self) -> Duration {
        let started = Instant::now();
        loop {
            let r = timed_call(&self.app, "consultacliente", &[("contrato", "1001")]).await;
            if r.0.status == 200 {
                assert_eq!(
                    r.0.json["contratos"][0]["contratoId"],
                    json!(1001),
                    "{}",
                    r.0.body
                );
                return started.elapsed();
            }
            assert_eq!(r.0.status, 503, "while recovering: {}", r.0.body);
            assert!(
                started.elapsed() < RECOVERY,
                "no 200 within {RECOVERY:?} after the database came back: {}",
                r.0.body
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    async fn finish(self) {
        self.direct.close().await;
        drop(self.proxy);
        self.app.stop().await;
    }
}

async fn timed_call(app: &TestApp, function: &str, params: &[(&str, &str)]) -> (Resp, Duration) {
    let started = Instant::now();
    let mut form: Vec<(&str, &str)> = vec![("app", APP), ("token", &app.token)];
    form.extend_from_slice(params);
    let response = app
        .client
        .post(app.fn_url(function))
        .form(&form)
        .timeout(Duration::from_secs(120))
        .send()
        .await
        .expect("send");
    let resp = into_resp(response).await;
    (resp, started.elapsed())
}

fn assert_unavailable(label: &str, r: &Resp, elapsed: Duration) {
    assert_eq!(
        (r.status, r.body.as_str()),
        (503, UNAVAILABLE),
        "{label}: the database is away"
    );
    assert_eq!(r.content_type, "application/json", "{label}");
    assert!(
        elapsed < SANITY,
        "{label}: 503 took {elapsed:?} (sanity bound {SANITY:?}; target 1 s)"
    );
}

/// Calls made while the database is away: each answers 503, promptly. Returns the times.
async fn calls_while_away(app: &TestApp, what: &str) -> Vec<Duration> {
    let calls: [(&str, &[(&str, &str)]); 6] = [
        ("chamado", &[("contrato", "1001")]),
        ("chamado", &[("contrato", "1001"), ("ocorrenciatipo", "1")]),
        ("liberacaopromessa", &[("contrato", "1002")]),
        ("consultacliente", &[("contrato", "1001")]),
        ("notificacaosistema", &[("contrato", "1001")]),
        ("chamado", &[("contrato", "1001")]),
    ];
    let mut times = Vec::new();
    for (function, params) in calls {
        let (r, elapsed) = timed_call(app, function, params).await;
        println!("pgfault [{what}]: {function} → {} in {elapsed:?}", r.status);
        assert_unavailable(&format!("{what}: {function}"), &r, elapsed);
        times.push(elapsed);
    }
    // Several at once: every one answered, 503, promptly.
    let started = Instant::now();
    let mut set = JoinSet::new();
    for _ in 0..20 {
        let (client, url, token) = (app.client.clone(), app.fn_url("chamado"), app.token.clone());
        set.spawn(async move {
            let started = Instant::now();
            let form = [("app", APP), ("token", &token), ("contrato", "1001")];
            let response = client
                .post(url)
                .form(&form)
                .timeout(Duration::from_secs(120))
                .send()
                .await
                .expect("send");
            (into_resp(response).await, started.elapsed())
        });
    }
    let mut slowest = Duration::ZERO;
    while let Some(done) = set.join_next().await {
        let (r, elapsed) = done.expect("task");
        assert_unavailable(&format!("{what}: concurrent chamado"), &r, elapsed);
        slowest = slowest.max(elapsed);
    }
    println!(
        "pgfault [{what}]: 20 concurrent chamado → all 503, slowest {slowest:?}, all in {:?}",
        started.elapsed()
    );
    times.push(slowest);
    times
}

/// The PostgreSQL server's admin URL; None, with the test reported skipped, on SQLite.
fn postgres_or_skip() -> Option<String> {
    let admin = postgres_admin_url();
    if admin.is_none() {
        crate::skip::skip(
            "postgresql",
            "pgfault",
            "needs PostgreSQL",
            "URA_TEST_DATABASE_URL=postgres://postgres@127.0.0.1:5432/postgres ./test",
            None,
        );
    }
    admin
}

/// The scenario shared by the two ways of losing the database.
async fn database_away_then_back(mode: Mode) {
    let Some(admin) = postgres_or_skip() else {
        return;
    };
    let what = match mode {
        Mode::Cut => "connections cut",
        Mode::Blackhole => "partition",
        Mode::Open => unreachable!(),
    };
    let s = setup(&admin).await;

    let (r, elapsed) = timed_call(&s.app, "chamado", &[("contrato", "1001")]).await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.json["status"], json!(1), "{}", r.body);
    let before_protocol = r.json["protocolo"].as_str().expect("protocolo").to_string();
    println!("pgfault [{what}]: chamado before the fault → 200 in {elapsed:?}");
    let before = s.snapshot().await;

    match mode {
        Mode::Cut => s.proxy.cut().await,
        Mode::Blackhole => s.proxy.blackhole(),
        Mode::Open => unreachable!(),
    }
    let times = calls_while_away(&s.app, what).await;
    let slowest = times.iter().max().copied().unwrap_or_default();
    println!("pgfault [{what}]: slowest 503 {slowest:?} (target 1 s)");

    // Nothing was written by the refused calls (checked on a direct connection).
    assert_eq!(s.snapshot().await, before, "{what}: nothing half-written");

    s.proxy.restore().await;
    let recovered = s.wait_recovered().await;
    println!("pgfault [{what}]: 200 again {recovered:?} after the database came back");

    let (r, elapsed) = timed_call(&s.app, "chamado", &[("contrato", "1001")]).await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.json["status"], json!(1), "{}", r.body);
    let protocol = r.json["protocolo"].as_str().expect("protocolo").to_string();
    assert!(
        protocol > before_protocol,
        "{protocol} follows {before_protocol}"
    );
    println!("pgfault [{what}]: chamado after recovery → 200 {protocol} in {elapsed:?}");
    assert_eq!(
        s.count(&format!(
            "SELECT COUNT(*) FROM tickets WHERE protocol = '{protocol}' AND contract_id = 1001"
        ))
        .await,
        1
    );
    // The unlock refused with 503 was not consumed: it is still available.
    let r = s
        .app
        .call("liberacaopromessa", &[("contrato", "1002")])
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.json["status"], json!(1), "{}", r.body);
    assert_eq!(
        s.text("SELECT groupname FROM radusergroup WHERE username = 'maria.silva2'")
            .await
            .as_deref(),
        Some("plano-300m")
    );
    s.finish().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn connections_cut_answer_503_promptly_and_recover_without_restart() {
    database_away_then_back(Mode::Cut).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn network_partition_answers_503_promptly_and_recovers_without_restart() {
    database_away_then_back(Mode::Blackhole).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn cut_in_the_middle_of_a_burst_leaves_no_partial_writes() {
    away_in_the_middle_of_a_burst(Mode::Cut).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn partition_in_the_middle_of_a_burst_answers_promptly_and_leaves_no_partial_writes() {
    away_in_the_middle_of_a_burst(Mode::Blackhole).await;
}

/// 300 `chamado`, 50 at a time; the database goes away once 30 are answered. Calls in flight
/// at that moment, and those after, answer 503 promptly; whatever was acknowledged is stored
/// whole, and nothing is stored in part.
async fn away_in_the_middle_of_a_burst(mode: Mode) {
    let Some(admin) = postgres_or_skip() else {
        return;
    };
    let what = match mode {
        Mode::Cut => "burst, connections cut",
        Mode::Blackhole => "burst, partition",
        Mode::Open => unreachable!(),
    };
    let s = setup(&admin).await;
    let max_ticket = s.count("SELECT COALESCE(MAX(id), 0) FROM tickets").await;
    let protocols_before = s.count("SELECT COUNT(*) FROM protocols").await;

    let n = 300;
    let permits = Arc::new(Semaphore::new(50));
    let (done_tx, mut done_rx) = tokio::sync::mpsc::unbounded_channel::<()>();
    let mut set = JoinSet::new();
    for _ in 0..n {
        let (client, url, token, permits, done_tx) = (
            s.app.client.clone(),
            s.app.fn_url("chamado"),
            s.app.token.clone(),
            permits.clone(),
            done_tx.clone(),
        );
        set.spawn(async move {
            let _permit = permits.acquire_owned().await.expect("semaphore");
            let started = Instant::now();
            let form = [("app", APP), ("token", &token), ("contrato", "1001")];
            let response = client
                .post(url)
                .form(&form)
                .timeout(Duration::from_secs(120))
                .send()
                .await
                .expect("send");
            let r = into_resp(response).await;
            let _ = done_tx.send(());
            (r, started.elapsed())
        });
    }
    drop(done_tx);
    // Cut once 30 answers are back: the rest are in flight or not yet sent.
    for _ in 0..30 {
        done_rx.recv().await.expect("an answer");
    }
    match mode {
        Mode::Cut => s.proxy.cut().await,
        Mode::Blackhole => s.proxy.blackhole(),
        Mode::Open => unreachable!(),
    }
    let mut answers: Vec<(Resp, Duration)> = Vec::with_capacity(n);
    while let Some(done) = set.join_next().await {
        answers.push(done.expect("task"));
    }

    let mut ok_protocols = Vec::new();
    let mut unavailable = 0;
    let mut slowest_503 = Duration::ZERO;
    for (r, elapsed) in &answers {
        match r.status {
            200 => {
                assert_eq!(r.json["status"], json!(1), "{}", r.body);
                ok_protocols.push(r.json["protocolo"].as_str().expect("protocolo").to_string());
            }
            503 => {
                assert_eq!((r.status, r.body.as_str()), (503, UNAVAILABLE), "{what}");
                unavailable += 1;
                slowest_503 = slowest_503.max(*elapsed);
            }
            other => panic!("{what}: chamado answered {other} {}", r.body),
        }
    }
    let slow = answers
        .iter()
        .filter(|(r, elapsed)| r.status == 503 && *elapsed >= SANITY)
        .count();
    println!(
        "pgfault [{what}]: {} answered 200, {unavailable} answered 503 (slowest {slowest_503:?}, \
         {slow} over {SANITY:?})",
        ok_protocols.len()
    );
    assert!(ok_protocols.len() >= 30, "the first answers were 200");
    assert!(unavailable > 0, "the fault hit the burst");

    s.proxy.restore().await;
    let recovered = s.wait_recovered().await;
    println!("pgfault [{what}]: 200 again {recovered:?} after the database came back");

    // Every 200 is stored whole.
    for p in &ok_protocols {
        assert_eq!(
            s.count(&format!(
                "SELECT COUNT(*) FROM tickets t JOIN work_orders w ON w.ticket_id = t.id \
                 WHERE t.protocol = '{p}'"
            ))
            .await,
            1,
            "ticket and work order of {p}"
        );
    }
    // Nothing half-written: no new ticket without its work order, no protocol without its
    // ticket, no work order without its ticket.
    let new_tickets = s
        .count(&format!(
            "SELECT COUNT(*) FROM tickets WHERE id > {max_ticket}"
        ))
        .await;
    assert_eq!(
        s.count(&format!(
            "SELECT COUNT(*) FROM tickets t WHERE t.id > {max_ticket} \
             AND NOT EXISTS (SELECT 1 FROM work_orders w WHERE w.ticket_id = t.id)"
        ))
        .await,
        0,
        "tickets without their work order"
    );
    assert_eq!(
        s.count(
            "SELECT COUNT(*) FROM protocols p WHERE p.origin = 'chamado' \
             AND NOT EXISTS (SELECT 1 FROM tickets t WHERE t.protocol = p.protocol)"
        )
        .await,
        0,
        "protocols without their ticket"
    );
    assert_eq!(
        s.count("SELECT COUNT(*) FROM protocols").await - protocols_before,
        new_tickets,
        "one protocol per new ticket"
    );
    // A call whose commit reached the database just before its connection was cut may have
    // been answered 503: such a ticket exists, whole, without its caller knowing.
    assert!(
        new_tickets >= ok_protocols.len() as i64,
        "{new_tickets} new tickets for {} answers 200",
        ok_protocols.len()
    );
    println!(
        "pgfault [{what}]: {new_tickets} new tickets, {} acknowledged",
        ok_protocols.len()
    );
    s.finish().await;
    // Last, so that the checks above ran: a call in flight when the database went away must
    // not wait for the request timeout either.
    assert_eq!(
        slow, 0,
        "{what}: {slow} answer(s) 503 took {SANITY:?} or more (slowest {slowest_503:?}; target 1 s)"
    );
}

/// The connection that listens to the apps' changes is lost: while it is, no credential is
/// kept, so a change made meanwhile applies at once; once it is back, changes are heard again.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn app_changes_apply_while_the_listening_connection_is_lost_and_after() {
    if postgres_or_skip().is_none() {
        return;
    }
    let app = spawn().await;
    let consulta = || app.call("consultacliente", &[("contrato", "1001")]);
    let heard = || app.store.credentials.generation();
    let listening = "SELECT COUNT(*) FROM pg_stat_activity \
         WHERE datname = current_database() AND query LIKE 'LISTEN%'";
    // Until the server listens, nothing is kept: wait for it, then let it keep the app.
    let deadline = Instant::now() + SANITY;
    while app.scalar_i64(listening).await == 0 {
        assert!(Instant::now() < deadline, "the server never listened");
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    assert_eq!(consulta().await.status, 200);
    assert_eq!(consulta().await.status, 200);

    let before = heard();
    let cut = app
        .scalar_i64(
            "SELECT COUNT(*) FROM (SELECT pg_terminate_backend(pid) FROM pg_stat_activity \
             WHERE datname = current_database() AND query LIKE 'LISTEN%') t",
        )
        .await;
    assert_eq!(cut, 1, "one listening connection");
    heard_at_least(&app, before + 1, "the loss was never noticed").await;
    // Not listening (it tries again after a second): an answer now keeps nothing, so a
    // change that no one announces to this server still applies to the next call.
    assert_eq!(consulta().await.status, 200);
    sqlx::query("UPDATE apps SET enabled = 0 WHERE name = $1")
        .bind(APP)
        .execute(app.store.pool())
        .await
        .expect("disable");
    let r = consulta().await;
    assert_eq!(r.status, 403, "{}", r.body);
    assert_eq!(heard(), before + 1, "still not listening");

    // Back: listening again (lost, then listening), the app kept again, and a change heard.
    heard_at_least(&app, before + 2, "the server never listened again").await;
    app.exec(&format!("UPDATE apps SET enabled = 1 WHERE name = '{APP}'"))
        .await;
    assert_eq!(consulta().await.status, 200);
    assert_eq!(consulta().await.status, 200);
    app.exec(&format!("UPDATE apps SET enabled = 0 WHERE name = '{APP}'"))
        .await;
    let r = consulta().await;
    assert_eq!(r.status, 403, "{}", r.body);
    app.stop().await;
}

/// Waits (bounded) until the server has heard `at_least` changes of listening or of apps.
async fn heard_at_least(app: &TestApp, at_least: u64, what: &str) {
    let deadline = Instant::now() + SANITY;
    while app.store.credentials.generation() < at_least {
        assert!(Instant::now() < deadline, "{what}");
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
}
