//! Test harness: starts the real server on 127.0.0.1:0 with a fresh SQLite file holding the
//! demo provider, and speaks HTTP to it.

#![allow(dead_code)]

use std::path::PathBuf;
use std::sync::atomic::{AtomicU32, Ordering};

use sqlx::Connection;

use serde_json::Value;
use tokio::net::TcpListener;
use tokio::sync::oneshot;
use ura::settings::Settings;
use ura::store::Store;

pub const APP: &str = "teste";

pub struct TestApp {
    /// `http://127.0.0.1:PORT` (plus the base path when one is set).
    pub base: String,
    pub token: String,
    pub store: Store,
    pub settings: Settings,
    pub dir: tempfile::TempDir,
    pub client: reqwest::Client,
    shutdown: Option<oneshot::Sender<()>>,
    server: Option<tokio::task::JoinHandle<anyhow::Result<()>>>,
    /// The PostgreSQL database made for this test, dropped by `stop`.
    pg_database: Option<String>,
}

/// PostgreSQL server for the tests (e.g. `postgres://postgres@127.0.0.1:5432/postgres`);
/// unset: SQLite.
pub fn postgres_admin_url() -> Option<String> {
    std::env::var("URA_TEST_DATABASE_URL")
        .ok()
        .filter(|u| !u.trim().is_empty())
}

/// `postgres://host/db?x` with another database name.
pub fn with_database(url: &str, name: &str) -> String {
    let (base, query) = match url.split_once('?') {
        Some((b, q)) => (b, format!("?{q}")),
        None => (url, String::new()),
    };
    let scheme_end = base.find("://").map(|i| i + 3).unwrap_or(0);
    let root = match base[scheme_end..].find('/') {
        Some(i) => &base[..scheme_end + i],
        None => base,
    };
    format!("{root}/{name}{query}")
}

/// Creates a fresh, uniquely named PostgreSQL database and returns its name and URL.
pub async fn create_pg_database(admin: &str) -> (String, String) {
    static COUNTER: AtomicU32 = AtomicU32::new(0);
    let name = format!(
        "ura_test_{}_{}_{}",
        std::process::id(),
        COUNTER.fetch_add(1, Ordering::Relaxed),
        rand_suffix()
    );
    let mut conn = sqlx::PgConnection::connect(admin)
        .await
        .expect("connect to URA_TEST_DATABASE_URL");
    sqlx::raw_sql(sqlx::AssertSqlSafe(format!("CREATE DATABASE {name}")))
        .execute(&mut conn)
        .await
        .expect("create test database");
    let _ = conn.close().await;
    let url = with_database(admin, &name);
    (name, url)
}

pub async fn drop_pg_database(admin: &str, name: &str) {
    if let Ok(mut conn) = sqlx::PgConnection::connect(admin).await {
        let _ = sqlx::raw_sql(sqlx::AssertSqlSafe(format!(
            "DROP DATABASE IF EXISTS {name} WITH (FORCE)"
        )))
        .execute(&mut conn)
        .await;
        let _ = conn.close().await;
    }
}

fn rand_suffix() -> u32 {
    use std::time::{SystemTime, UNIX_EPOCH};
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.subsec_nanos())
        .unwrap_or(0)
        % 100_000
}

/// With `URA_TEST_SCAN_DIR` set, the suite records its servers' logs, the URA answers it
/// received, and the secrets and documents it used, for `tests/scan-secrets` to check after
/// the run that no log line holds a full document, a token or a password, and no URA answer a
/// token or a password.
pub mod scan {
    use std::fs::{File, OpenOptions};
    use std::io::Write;
    use std::path::PathBuf;
    use std::sync::{Mutex, OnceLock};

    struct Files {
        log: Mutex<File>,
        responses: Mutex<File>,
        secrets: Mutex<File>,
        documents: Mutex<File>,
    }

    fn files() -> Option<&'static Files> {
        static FILES: OnceLock<Option<Files>> = OnceLock::new();
        FILES
            .get_or_init(|| {
                let dir = PathBuf::from(std::env::var_os("URA_TEST_SCAN_DIR")?);
                std::fs::create_dir_all(&dir).ok()?;
                let open = |name: &str| {
                    OpenOptions::new()
                        .create(true)
                        .append(true)
                        .open(dir.join(name))
                        .map(Mutex::new)
                };
                let files = Files {
                    log: open("server.log").ok()?,
                    responses: open("responses.txt").ok()?,
                    secrets: open("secrets.txt").ok()?,
                    documents: open("documents.txt").ok()?,
                };
                // Every in-process server of this test binary logs here.
                let writer = open("server.log").ok()?;
                let _ = tracing_subscriber::fmt()
                    .with_writer(writer)
                    .with_ansi(false)
                    .with_env_filter(tracing_subscriber::EnvFilter::new("info"))
                    .try_init();
                Some(files)
            })
            .as_ref()
    }

    fn append(file: &Mutex<File>, line: &str) {
        if let Ok(mut f) = file.lock() {
            let _ = writeln!(f, "{}", line.replace('\n', "\\n"));
        }
    }

    /// Starts recording (the log subscriber) when asked to.
    pub fn init() {
        let _ = files();
    }

    pub fn log_line(line: &str) {
        if let Some(f) = files() {
            append(&f.log, line);
        }
    }

    pub fn secret(secret: &str) {
        if let Some(f) = files() {
            append(&f.secrets, secret);
        }
    }

    pub fn document(stored: &str) {
        if let Some(f) = files() {
            append(&f.documents, stored);
            append(&f.documents, &ura::domain::document::format_str(stored));
        }
    }

    /// Keeps the answers of the URA routes.
    pub fn response(path: &str, body: &str) {
        let ura_route = path.contains("/ura/") || path.contains("/os/ocorrencia/");
        if let (Some(f), true) = (files(), ura_route) {
            append(&f.responses, &format!("{path}\t{body}"));
        }
    }
}

#[derive(Debug)]
pub struct Resp {
    pub status: u16,
    pub content_type: String,
    pub body: String,
    /// The body parsed as JSON (`Value::Null` when it is not JSON).
    pub json: Value,
}

pub async fn spawn() -> TestApp {
    spawn_with(|_| {}).await
}

/// Starts a server whose settings `configure` may change (the database and message
/// directory are set to the test's temp dir first).
pub async fn spawn_with(configure: impl FnOnce(&mut Settings)) -> TestApp {
    let dir = tempfile::tempdir().expect("tempdir");
    let (pg_database, database_url) = match postgres_admin_url() {
        Some(admin) => {
            let (name, url) = create_pg_database(&admin).await;
            (Some(name), url)
        }
        None => (
            None,
            format!("sqlite://{}", dir.path().join("ura.db").display()),
        ),
    };
    let mut settings = Settings {
        database_url,
        ..Settings::default()
    };
    settings.fatura.diretorio = dir.path().join("mensagens");
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let addr = listener.local_addr().expect("addr");
    configure(&mut settings);
    // Messages that really leave need `public_url` (the server does not start without it):
    // this server's own address, as an operator would set it.
    if settings.public_url.is_none() && (settings.smtp.url.is_some() || settings.sms.url.is_some())
    {
        settings.public_url = Some(format!("http://{addr}{}", settings.base_path));
    }
    settings.validate().expect("valid settings");
    let store = Store::open(&settings.database_url)
        .await
        .expect("open store");
    let tz = settings.tz().expect("tz");
    ura::demo::seed(&store, chrono::Utc::now(), tz)
        .await
        .expect("seed demo");
    let token = ura::store::apps::create(&store, APP).await.expect("app");
    scan::init();
    scan::secret(&token);
    for secret in sqlx::query_scalar::<_, String>(
        "SELECT password FROM internet_services UNION SELECT secret FROM nas",
    )
    .fetch_all(store.pool())
    .await
    .expect("secrets")
    {
        scan::secret(&secret);
    }
    for document in sqlx::query_scalar::<_, String>("SELECT document FROM customers")
        .fetch_all(store.pool())
        .await
        .expect("documents")
    {
        scan::document(&document);
    }
    let (tx, rx) = oneshot::channel::<()>();
    let server = tokio::spawn(ura::app::serve(
        store.clone(),
        settings.clone(),
        listener,
        async move {
            let _ = rx.await;
        },
    ));
    let base = format!("http://{addr}{}", settings.base_path);
    TestApp {
        base,
        token,
        store,
        settings,
        dir,
        client: reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .expect("client"),
        shutdown: Some(tx),
        server: Some(server),
        pg_database,
    }
}

impl TestApp {
    /// `base` + `path`; `path` starts with `/`.
    pub fn url(&self, path: &str) -> String {
        format!("{}{}", self.base, path)
    }

    /// The specification's path of a function: `/ws/ura/NAME/`.
    pub fn fn_url(&self, function: &str) -> String {
        self.url(&format!("/ws/ura/{function}/"))
    }

    /// POSTs a form with the test app's credentials plus `params` to `/ws/ura/{function}/`.
    pub async fn call(&self, function: &str, params: &[(&str, &str)]) -> Resp {
        let mut form: Vec<(&str, &str)> = vec![("app", APP), ("token", &self.token)];
        form.extend_from_slice(params);
        self.post_form(&self.fn_url(function), &form).await
    }

    pub async fn post_form(&self, url: &str, form: &[(&str, &str)]) -> Resp {
        into_resp(self.client.post(url).form(form).send().await.expect("send")).await
    }

    pub async fn post_json(&self, url: &str, body: &Value) -> Resp {
        into_resp(self.client.post(url).json(body).send().await.expect("send")).await
    }

    pub async fn post_raw(
        &self,
        url: &str,
        content_type: &str,
        body: impl Into<reqwest::Body>,
    ) -> Resp {
        into_resp(
            self.client
                .post(url)
                .header("content-type", content_type)
                .body(body)
                .send()
                .await
                .expect("send"),
        )
        .await
    }

    pub async fn get(&self, url: &str) -> Resp {
        into_resp(self.client.get(url).send().await.expect("send")).await
    }

    pub async fn send(&self, request: reqwest::RequestBuilder) -> Resp {
        into_resp(request.send().await.expect("send")).await
    }

    /// Runs SQL against the server's database (fixtures for scenarios the demo lacks).
    pub async fn exec(&self, sql: &str) {
        let heard = self.store.credentials.generation();
        sqlx::raw_sql(sqlx::AssertSqlSafe(sql.to_string()))
            .execute(self.store.pool())
            .await
            .expect("exec sql");
        // On PostgreSQL the server keeps the apps' credentials while it listens to their
        // changes: a change made by SQL applies once the server has heard of it.
        if self.store.backend == ura::store::Backend::Postgres && sql.contains("apps") {
            let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
            while self.store.credentials.generation() == heard {
                assert!(
                    std::time::Instant::now() < deadline,
                    "the server never heard of the apps' change"
                );
                tokio::time::sleep(std::time::Duration::from_millis(2)).await;
            }
        }
    }

    pub async fn scalar_i64(&self, sql: &str) -> i64 {
        sqlx::query_scalar(sqlx::AssertSqlSafe(sql.to_string()))
            .fetch_one(self.store.pool())
            .await
            .expect("scalar")
    }

    pub async fn scalar_str(&self, sql: &str) -> Option<String> {
        sqlx::query_scalar(sqlx::AssertSqlSafe(sql.to_string()))
            .fetch_optional(self.store.pool())
            .await
            .expect("scalar")
    }

    /// Files written into the message directory (e-mails as .eml, SMS as .txt).
    pub fn message_files(&self) -> Vec<PathBuf> {
        let mut files: Vec<PathBuf> = std::fs::read_dir(&self.settings.fatura.diretorio)
            .map(|rd| rd.filter_map(|e| e.ok().map(|e| e.path())).collect())
            .unwrap_or_default();
        files.sort();
        files
    }

    pub async fn stop(mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
        if let Some(server) = self.server.take() {
            let _ = server.await;
        }
        self.store.close().await;
        if let (Some(admin), Some(name)) = (postgres_admin_url(), self.pg_database.take()) {
            drop_pg_database(&admin, &name).await;
        }
    }

    pub fn is_postgres(&self) -> bool {
        self.pg_database.is_some()
    }
}

pub async fn into_resp(response: reqwest::Response) -> Resp {
    let path = response.url().path().to_string();
    let status = response.status().as_u16();
    let content_type = response
        .headers()
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_string();
    let body = response.text().await.expect("body");
    scan::response(&path, &body);
    let json = serde_json::from_str(&body).unwrap_or(Value::Null);
    Resp {
        status,
        content_type,
        body,
        json,
    }
}

/// Today in the operator's zone, as the server sees it.
pub fn today(settings: &Settings) -> chrono::NaiveDate {
    chrono::Utc::now()
        .with_timezone(&settings.tz().expect("tz"))
        .date_naive()
}

/// The object's keys, sorted (to compare an answer's fields with the contract's list).
pub fn keys(v: &Value) -> Vec<String> {
    let mut k: Vec<String> = v
        .as_object()
        .unwrap_or_else(|| panic!("not an object: {v}"))
        .keys()
        .cloned()
        .collect();
    k.sort();
    k
}

pub fn sorted(list: &[&str]) -> Vec<String> {
    let mut k: Vec<String> = list.iter().map(|s| s.to_string()).collect();
    k.sort();
    k
}

/// A protocol of today: 14 digits starting with today's `YYYYMMDD`; returns it.
pub fn assert_protocol_today(app: &TestApp, p: &Value) -> String {
    let p = p
        .as_str()
        .unwrap_or_else(|| panic!("protocolo is not a string: {p}"))
        .to_string();
    assert_eq!(p.len(), 14, "protocolo {p}");
    assert!(p.bytes().all(|b| b.is_ascii_digit()), "protocolo {p}");
    let day = today(&app.settings).format("%Y%m%d").to_string();
    assert!(
        p.starts_with(&day),
        "protocolo {p} does not start with {day}"
    );
    p
}
