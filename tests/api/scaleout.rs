//! Scale-out: two `ura serve` processes on one database (a fresh PostgreSQL database when
//! `URA_TEST_DATABASE_URL` is set, else one SQLite file shared through its file lock), with
//! the load split between them. The rules that hold inside one process must hold across two:
//! one unlock per contract and month, protocols that never repeat.

use crate::common::*;
use crate::pgfault::DropDatabaseOnPanic;
use crate::process::Server;

use std::collections::HashSet;
use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};

use serde_json::{Value, json};
use tokio::sync::{Barrier, Semaphore};
use tokio::task::JoinSet;

const UNAVAILABLE: &str = r#"{"detail":"Serviço temporariamente indisponível."}"#;

/// The shared database: its URL, and the PostgreSQL database to drop at the end.
struct SharedDb {
    url: String,
    pg: Option<(String, String)>,
    token: String,
    _cleanup: DropDatabaseOnPanic,
}

impl SharedDb {
    /// Creates and seeds the database (demo provider plus the app `teste`).
    async fn create(dir: &Path) -> SharedDb {
        let (url, pg) = match postgres_admin_url() {
            Some(admin) => {
                let (name, url) = create_pg_database(&admin).await;
                (url, Some((admin, name)))
            }
            None => (
                format!("sqlite://{}", dir.join("shared.db").display()),
                None,
            ),
        };
        let store = ura::store::Store::open(&url).await.expect("open store");
        let tz: chrono_tz::Tz = "America/Sao_Paulo".parse().unwrap();
        assert!(
            ura::demo::seed(&store, chrono::Utc::now(), tz)
                .await
                .expect("seed")
        );
        let token = ura::store::apps::create(&store, APP).await.expect("app");
        store.close().await;
        SharedDb {
            _cleanup: DropDatabaseOnPanic::new(&url),
            url,
            pg,
            token,
        }
    }

    /// A connection of the test's own, to check rows.
    async fn store(&self) -> ura::store::Store {
        ura::store::Store::open(&self.url)
            .await
            .expect("open store")
    }

    async fn drop_database(self) {
        if let Some((admin, name)) = self.pg {
            drop_pg_database(&admin, &name).await;
        }
    }
}

async fn count(store: &ura::store::Store, sql: &str) -> i64 {
    sqlx::query_scalar(sqlx::AssertSqlSafe(sql.to_string()))
        .fetch_one(store.pool())
        .await
        .expect("count")
}

async fn text(store: &ura::store::Store, sql: &str) -> Option<String> {
    sqlx::query_scalar(sqlx::AssertSqlSafe(sql.to_string()))
        .fetch_optional(store.pool())
        .await
        .expect("text")
}

/// Starts the two servers on the shared database.
async fn two_servers(dir: &Path, url: &str) -> (Server, Server) {
    let args = ["serve", "--listen", "127.0.0.1:0", "--database", url];
    let a = Server::start(dir, &args).await;
    let b = Server::start(dir, &args).await;
    assert_ne!(a.base, b.base, "two processes, two ports");
    (a, b)
}

fn client() -> reqwest::Client {
    reqwest::Client::builder()
        .pool_max_idle_per_host(256)
        .timeout(Duration::from_secs(120))
        .build()
        .expect("client")
}

/// One answer of the burst: which server, HTTP status, body text and JSON.
#[derive(Debug)]
struct Answer {
    server: usize,
    status: u16,
    body: String,
    json: Value,
}

/// `n` calls of `function`, alternating between the servers, at most `parallel` in flight;
/// with `parallel == n` they all start together (barrier).
async fn burst(
    bases: [&str; 2],
    token: &str,
    n: usize,
    parallel: usize,
    function: &str,
    params: &[(&str, &str)],
) -> Vec<Answer> {
    let client = client();
    let mut form: Vec<(String, String)> =
        vec![("app".into(), APP.into()), ("token".into(), token.into())];
    form.extend(params.iter().map(|(k, v)| (k.to_string(), v.to_string())));
    let form = Arc::new(form);
    let barrier = Arc::new(Barrier::new(n.min(parallel)));
    let permits = Arc::new(Semaphore::new(parallel));
    let mut set = JoinSet::new();
    for i in 0..n {
        let server = i % 2;
        let url = format!("{}/ws/ura/{function}/", bases[server]);
        let (client, form, barrier, permits) = (
            client.clone(),
            form.clone(),
            barrier.clone(),
            permits.clone(),
        );
        let together = n <= parallel;
        set.spawn(async move {
            let _permit = permits.acquire_owned().await.expect("semaphore");
            if together {
                barrier.wait().await;
            }
            let response = client
                .post(&url)
                .form(form.as_slice())
                .send()
                .await
                .expect("send");
            let status = response.status().as_u16();
            let body = response.text().await.expect("body");
            let json = serde_json::from_str(&body).unwrap_or(Value::Null);
            Answer {
                server,
                status,
                body,
                json,
            }
        });
    }
    let mut out = Vec::with_capacity(n);
    while let Some(done) = set.join_next().await {
        out.push(done.expect("task"));
    }
    out
}

/// Every answer that is not a `200`: printed for a human, and counted by kind.
fn non_200_report(answers: &[Answer]) -> String {
    let unavailable = answers
        .iter()
        .filter(|a| a.status == 503 && a.body == UNAVAILABLE)
        .count();
    let other: Vec<String> = answers
        .iter()
        .filter(|a| a.status != 200 && !(a.status == 503 && a.body == UNAVAILABLE))
        .map(|a| format!("server {} → {} {}", a.server, a.status, a.body))
        .take(10)
        .collect();
    format!("{unavailable} answer(s) 503 {UNAVAILABLE}; other non-200 (first 10): {other:#?}",)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn two_processes_one_database_unlock_exactly_once() {
    let tmp = tempfile::tempdir().unwrap();
    let db = SharedDb::create(tmp.path()).await;
    let (a, b) = two_servers(tmp.path(), &db.url).await;

    let started = Instant::now();
    let answers = burst(
        [&a.base, &b.base],
        &db.token,
        100,
        100,
        "liberacaopromessa",
        &[("contrato", "1002"), ("uracontato", "84991380000")],
    )
    .await;
    println!(
        "scaleout: 100 liberacaopromessa over 2 processes ({}) in {:?}",
        if db.pg.is_some() {
            "PostgreSQL"
        } else {
            "SQLite"
        },
        started.elapsed()
    );
    assert_eq!(answers.len(), 100);
    let not_ok = answers.iter().filter(|a| a.status != 200).count();
    assert_eq!(
        not_ok,
        0,
        "every call must be answered 200 (503 only when storage is unavailable): {}",
        non_200_report(&answers)
    );
    for a in &answers {
        assert_eq!(a.json["contratoId"], json!(1002), "{}", a.body);
        assert_eq!(a.json["uracontato"], json!("84991380000"), "{}", a.body);
    }
    let ones: Vec<&Answer> = answers.iter().filter(|a| a.json["status"] == 1).collect();
    let twos: Vec<&Answer> = answers.iter().filter(|a| a.json["status"] == 2).collect();
    assert_eq!(ones.len(), 1, "exactly one unlock across both processes");
    assert_eq!(twos.len(), 99, "all the others: already used this month");
    let winner = ones[0];
    assert_eq!(winner.json["liberado"], json!(true), "{}", winner.body);
    for t in &twos {
        assert_eq!(t.json["liberado"], json!(false), "{}", t.body);
        assert_eq!(
            t.json["msg"],
            json!(
                "O recurso de promessa de pagamento já foi utilizado no mês. Recurso não disponível"
            ),
            "{}",
            t.body
        );
        assert!(t.json.get("protocolo").is_none(), "{}", t.body);
    }
    // Both processes answered, and both saw a refusal: the race really crossed processes.
    for server in 0..2 {
        assert!(
            twos.iter().any(|t| t.server == server),
            "server {server} refused none"
        );
    }
    let protocol = winner.json["protocolo"]
        .as_str()
        .expect("protocolo")
        .to_string();

    let store = db.store().await;
    let month = chrono::Utc::now()
        .with_timezone(&"America/Sao_Paulo".parse::<chrono_tz::Tz>().unwrap())
        .format("%Y-%m")
        .to_string();
    assert_eq!(
        count(
            &store,
            &format!(
                "SELECT COUNT(*) FROM promises WHERE contract_id = 1002 AND local_month = '{month}'"
            )
        )
        .await,
        1,
        "one promise row this month"
    );
    assert_eq!(
        count(
            &store,
            "SELECT COUNT(*) FROM promises WHERE contract_id = 1002"
        )
        .await,
        1
    );
    assert_eq!(
        text(
            &store,
            "SELECT protocol FROM promises WHERE contract_id = 1002"
        )
        .await
        .as_deref(),
        Some(protocol.as_str())
    );
    assert_eq!(
        count(
            &store,
            "SELECT COUNT(*) FROM tickets WHERE contract_id = 1002"
        )
        .await,
        1,
        "one ticket of the unlock"
    );
    assert_eq!(
        count(&store, "SELECT status FROM contracts WHERE id = 1002").await,
        1
    );
    // FreeRADIUS sees one group for the login, its plan's.
    assert_eq!(
        count(
            &store,
            "SELECT COUNT(*) FROM radusergroup WHERE username = 'maria.silva2'"
        )
        .await,
        1
    );
    assert_eq!(
        text(
            &store,
            "SELECT groupname FROM radusergroup WHERE username = 'maria.silva2'"
        )
        .await
        .as_deref(),
        Some("plano-300m")
    );
    store.close().await;
    drop(a);
    drop(b);
    db.drop_database().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn two_processes_one_database_thousand_tickets_distinct_protocols() {
    let tmp = tempfile::tempdir().unwrap();
    let db = SharedDb::create(tmp.path()).await;
    let (a, b) = two_servers(tmp.path(), &db.url).await;
    let store = db.store().await;
    let tickets_before = count(
        &store,
        "SELECT COUNT(*) FROM tickets WHERE contract_id = 1001",
    )
    .await;
    let work_orders_before = count(&store, "SELECT COUNT(*) FROM work_orders").await;
    let day = chrono::Utc::now()
        .with_timezone(&"America/Sao_Paulo".parse::<chrono_tz::Tz>().unwrap())
        .format("%Y%m%d")
        .to_string();

    let n = 1000;
    let parallel = 200;
    let started = Instant::now();
    let answers = burst(
        [&a.base, &b.base],
        &db.token,
        n,
        parallel,
        "chamado",
        &[("contrato", "1001")],
    )
    .await;
    println!(
        "scaleout: {n} chamado over 2 processes ({}), {parallel} in flight, in {:?}",
        if db.pg.is_some() {
            "PostgreSQL"
        } else {
            "SQLite"
        },
        started.elapsed()
    );
    assert_eq!(answers.len(), n);
    let not_ok = answers.iter().filter(|a| a.status != 200).count();
    assert_eq!(
        not_ok,
        0,
        "every call must be answered 200 (503 only when storage is unavailable): {}",
        non_200_report(&answers)
    );
    let mut protocols = Vec::with_capacity(n);
    for a in &answers {
        assert_eq!(a.json["status"], json!(1), "{}", a.body);
        assert_eq!(a.json["msg"], json!(""), "{}", a.body);
        let p = a.json["protocolo"]
            .as_str()
            .unwrap_or_else(|| panic!("no protocolo: {}", a.body))
            .to_string();
        assert_eq!(p.len(), 14, "{p}");
        assert!(p.starts_with(&day), "{p}");
        assert!(p.bytes().all(|c| c.is_ascii_digit()), "{p}");
        protocols.push(p);
    }
    let distinct: HashSet<&String> = protocols.iter().collect();
    assert_eq!(distinct.len(), n, "protocols never repeat across processes");
    for server in 0..2 {
        assert_eq!(answers.iter().filter(|a| a.server == server).count(), n / 2);
    }

    assert_eq!(
        count(
            &store,
            "SELECT COUNT(*) FROM tickets WHERE contract_id = 1001"
        )
        .await,
        tickets_before + n as i64,
        "one new ticket per call"
    );
    assert_eq!(
        count(&store, "SELECT COUNT(*) FROM work_orders").await,
        work_orders_before + n as i64,
        "one work order per ticket"
    );
    let in_list = protocols
        .iter()
        .map(|p| format!("'{p}'"))
        .collect::<Vec<_>>()
        .join(",");
    assert_eq!(
        count(
            &store,
            &format!(
                "SELECT COUNT(DISTINCT protocol) FROM tickets \
                 WHERE contract_id = 1001 AND protocol IN ({in_list})"
            )
        )
        .await,
        n as i64,
        "every answered protocol is stored with its ticket"
    );
    assert_eq!(
        count(
            &store,
            &format!(
                "SELECT COUNT(*) FROM protocols WHERE contract_id = 1001 AND protocol IN ({in_list})"
            )
        )
        .await,
        n as i64,
        "every answered protocol is recorded once"
    );
    store.close().await;
    drop(a);
    drop(b);
    db.drop_database().await;
}

/// The status `server` answers `consultacliente` with for `token`: at once on SQLite, where
/// every request reads the apps; on PostgreSQL once the server has heard of the change (each
/// server keeps the credentials while it listens to their changes), within a bound.
async fn settles_to(server: &Server, postgres: bool, token: &str, status: u16) {
    let deadline = Instant::now() + Duration::from_secs(5);
    loop {
        let r = server
            .call(token, APP, "consultacliente", &[("contrato", "1001")])
            .await;
        if r.status == status {
            return;
        }
        assert!(
            postgres && Instant::now() < deadline,
            "{}: {} {}, expected {status}",
            server.base,
            r.status,
            r.body
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_app_changed_by_the_command_line_is_seen_by_both_processes() {
    let tmp = tempfile::tempdir().unwrap();
    let db = SharedDb::create(tmp.path()).await;
    let postgres = db.pg.is_some();
    let (a, b) = two_servers(tmp.path(), &db.url).await;
    let cli = |args: &[&str]| {
        let mut all: Vec<String> = args.iter().map(|s| s.to_string()).collect();
        all.extend(["--database".to_string(), db.url.clone()]);
        all
    };
    let run_cli = |args: Vec<String>| {
        let dir = tmp.path().to_path_buf();
        async move {
            let args: Vec<&str> = args.iter().map(String::as_str).collect();
            let out = crate::process::run(&dir, &args).await;
            assert_eq!(out.code, Some(0), "{args:?}: {}", out.stderr);
            out.stdout
        }
    };
    // Both servers answer, and (on PostgreSQL) keep the app's credentials.
    for server in [&a, &b] {
        for _ in 0..3 {
            settles_to(server, false, &db.token, 200).await;
        }
    }

    run_cli(cli(&["app", "disable", APP])).await;
    for server in [&a, &b] {
        settles_to(server, postgres, &db.token, 403).await;
    }
    run_cli(cli(&["app", "enable", APP])).await;
    for server in [&a, &b] {
        settles_to(server, postgres, &db.token, 200).await;
    }
    let new_token = run_cli(cli(&["app", "rotate", APP]))
        .await
        .trim()
        .to_string();
    assert_ne!(new_token, db.token);
    for server in [&a, &b] {
        settles_to(server, postgres, &db.token, 403).await;
        settles_to(server, postgres, &new_token, 200).await;
    }
    // Limited to other functions by hand, in SQL: the change is announced all the same.
    let store = db.store().await;
    sqlx::query("UPDATE apps SET allowed_functions = 'chamado' WHERE name = $1")
        .bind(APP)
        .execute(store.pool())
        .await
        .expect("update");
    store.close().await;
    for server in [&a, &b] {
        settles_to(server, postgres, &new_token, 403).await;
    }
    drop(a);
    drop(b);
    db.drop_database().await;
}
