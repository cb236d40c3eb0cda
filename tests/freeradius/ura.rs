//! The ura server for these tests: in process on 127.0.0.1:0, the demo provider in a fresh
//! database (an SQLite file by default; a fresh PostgreSQL database when
//! `URA_TEST_DATABASE_URL` is set), and, for MariaDB, a fresh FreeRADIUS database.
//! Databases, roles and the server are cleaned up when dropped, a failed test included.

use std::path::PathBuf;

use serde_json::Value;
use sqlx::Connection;
use tokio::net::TcpListener;
use tokio::sync::oneshot;
use ura::settings::Settings;
use ura::store::Store;

use crate::radius::{Install, SqlTarget, random_hex};

pub const APP: &str = "teste";

/// Runs `f` once when dropped.
pub struct OnDrop(Option<Box<dyn FnOnce() + Send>>);

impl OnDrop {
    pub fn new(f: impl FnOnce() + Send + 'static) -> OnDrop {
        OnDrop(Some(Box::new(f)))
    }
}

impl Drop for OnDrop {
    fn drop(&mut self) {
        if let Some(f) = self.0.take() {
            f();
        }
    }
}

/// Runs async cleanup from `Drop`, where the test's runtime cannot be blocked on.
fn block_on_thread<F>(f: impl FnOnce() -> F + Send + 'static)
where
    F: std::future::Future<Output = ()>,
{
    let thread = std::thread::spawn(move || {
        tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("runtime")
            .block_on(f());
    });
    let _ = thread.join();
}

/// Parts of a `scheme://user:password@host:port/database` URL.
#[derive(Clone, Debug)]
pub struct DbUrl {
    pub host: String,
    pub port: u16,
    pub user: String,
    pub password: String,
    pub database: String,
}

fn percent_decode(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%'
            && let Some(b) = s
                .get(i + 1..i + 3)
                .and_then(|h| u8::from_str_radix(h, 16).ok())
        {
            out.push(b);
            i += 3;
            continue;
        }
        out.push(bytes[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

impl DbUrl {
    pub fn parse(url: &str, default_port: u16) -> DbUrl {
        let parsed = reqwest::Url::parse(url).unwrap_or_else(|e| panic!("bad URL {url}: {e}"));
        DbUrl {
            host: parsed.host_str().unwrap_or("127.0.0.1").to_string(),
            port: parsed.port().unwrap_or(default_port),
            user: percent_decode(parsed.username()),
            password: percent_decode(parsed.password().unwrap_or("")),
            database: parsed.path().trim_start_matches('/').to_string(),
        }
    }
}

/// PostgreSQL server for the tests (e.g. `postgres://postgres@127.0.0.1:5432/postgres`);
/// unset: SQLite.
pub fn postgres_admin_url() -> Option<String> {
    std::env::var("URA_TEST_DATABASE_URL")
        .ok()
        .filter(|u| !u.trim().is_empty())
}

/// `postgres://host/db?x` with another database name.
fn with_database(url: &str, name: &str) -> String {
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

async fn pg_exec(url: &str, sql: &str) {
    let mut conn = sqlx::PgConnection::connect(url)
        .await
        .unwrap_or_else(|e| panic!("connect to PostgreSQL: {e}"));
    sqlx::raw_sql(sqlx::AssertSqlSafe(sql.to_string()))
        .execute(&mut conn)
        .await
        .unwrap_or_else(|e| panic!("{sql}: {e}"));
    let _ = conn.close().await;
}

/// A fresh PostgreSQL database with a FreeRADIUS role limited by
/// `examples/freeradius/postgresql-grants.sql`: what FreeRADIUS connects as.
struct PgRadius {
    url: String,
    role: String,
    role_password: String,
}

pub struct Ura {
    /// `http://127.0.0.1:PORT`.
    pub base: String,
    pub token: String,
    pub store: Store,
    client: reqwest::Client,
    shutdown: Option<oneshot::Sender<()>>,
    pg: Option<PgRadius>,
    sqlite_file: PathBuf,
    /// Drops the PostgreSQL database and role (after the server has been told to stop).
    _cleanup: Option<OnDrop>,
    /// Holds the SQLite file and the message directory.
    _dir: tempfile::TempDir,
}

impl Drop for Ura {
    fn drop(&mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
    }
}

#[derive(Debug)]
pub struct Resp {
    pub status: u16,
    pub body: String,
    pub json: Value,
}

impl Ura {
    /// Starts a server on a fresh demo database; `configure` may change its settings.
    pub async fn spawn(install: &Install, configure: impl FnOnce(&mut Settings)) -> Ura {
        let dir = tempfile::tempdir().expect("tempdir");
        let sqlite_file = dir.path().join("ura.db");
        let (pg, cleanup, database_url) = match postgres_admin_url() {
            Some(admin) => {
                let suffix = format!("{}_{}", std::process::id(), random_hex(4));
                let name = format!("ura_test_fr_{suffix}");
                let role = format!("ura_fr_{suffix}");
                pg_exec(&admin, &format!("CREATE DATABASE {name}")).await;
                let cleanup = {
                    let (admin, name, role) = (admin.clone(), name.clone(), role.clone());
                    OnDrop::new(move || {
                        block_on_thread(move || async move {
                            if let Ok(mut conn) = sqlx::PgConnection::connect(&admin).await {
                                for sql in [
                                    format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"),
                                    format!("DROP ROLE IF EXISTS {role}"),
                                ] {
                                    let _ = sqlx::raw_sql(sqlx::AssertSqlSafe(sql))
                                        .execute(&mut conn)
                                        .await;
                                }
                                let _ = conn.close().await;
                            }
                        })
                    })
                };
                let url = with_database(&admin, &name);
                let pg = PgRadius {
                    url: url.clone(),
                    role,
                    role_password: random_hex(12),
                };
                (Some(pg), Some(cleanup), url)
            }
            None => (None, None, format!("sqlite://{}", sqlite_file.display())),
        };
        let mut settings = Settings {
            database_url,
            ..Settings::default()
        };
        settings.fatura.diretorio = dir.path().join("mensagens");
        configure(&mut settings);
        settings.validate().expect("valid settings");
        let store = Store::open(&settings.database_url)
            .await
            .expect("open store");
        let tz = settings.tz().expect("tz");
        ura::demo::seed(&store, chrono::Utc::now(), tz)
            .await
            .expect("seed demo");
        let token = ura::store::apps::create(&store, APP).await.expect("app");

        if let Some(pg) = &pg {
            // The operator's step: a role for FreeRADIUS with the example's grants.
            let grants = std::fs::read_to_string(install.examples.join("postgresql-grants.sql"))
                .expect("read examples/freeradius/postgresql-grants.sql");
            let grants = grants
                .replace("freeradius", &pg.role)
                .replace("troque-esta-senha", &pg.role_password);
            pg_exec(&pg.url, &grants).await;
        }

        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let addr = listener.local_addr().expect("addr");
        let (tx, rx) = oneshot::channel::<()>();
        tokio::spawn(ura::app::serve(
            store.clone(),
            settings.clone(),
            listener,
            async move {
                let _ = rx.await;
            },
        ));
        Ura {
            base: format!("http://{addr}{}", settings.base_path),
            token,
            store,
            client: reqwest::Client::new(),
            shutdown: Some(tx),
            pg,
            sqlite_file,
            _cleanup: cleanup,
            _dir: dir,
        }
    }

    /// How FreeRADIUS reaches this server's database: the SQLite file, or the PostgreSQL
    /// database as the limited FreeRADIUS role.
    pub fn radius_target(&self) -> SqlTarget {
        match &self.pg {
            None => SqlTarget::Sqlite {
                file: self.sqlite_file.clone(),
            },
            Some(pg) => {
                let url = DbUrl::parse(&pg.url, 5432);
                SqlTarget::Postgres {
                    host: url.host,
                    port: url.port,
                    login: pg.role.clone(),
                    password: pg.role_password.clone(),
                    database: url.database,
                }
            }
        }
    }

    /// POSTs a form with the test app's credentials plus `params` to `/ws/ura/{function}/`.
    pub async fn call(&self, function: &str, params: &[(&str, &str)]) -> Resp {
        let mut form: Vec<(&str, &str)> = vec![("app", APP), ("token", &self.token)];
        form.extend_from_slice(params);
        let response = self
            .client
            .post(format!("{}/ws/ura/{function}/", self.base))
            .form(&form)
            .send()
            .await
            .expect("send");
        let status = response.status().as_u16();
        let body = response.text().await.expect("body");
        let json = serde_json::from_str(&body).unwrap_or(Value::Null);
        Resp { status, body, json }
    }

    /// Sends `body` as JSON to the admin API (`/admin/api/v1/{path}`) with an admin token.
    pub async fn admin(
        &self,
        method: reqwest::Method,
        token: &str,
        path: &str,
        body: &Value,
    ) -> Resp {
        let response = self
            .client
            .request(method, format!("{}/admin/api/v1/{path}", self.base))
            .bearer_auth(token)
            .json(body)
            .send()
            .await
            .expect("send");
        let status = response.status().as_u16();
        let body = response.text().await.expect("body");
        let json = serde_json::from_str(&body).unwrap_or(Value::Null);
        Resp { status, body, json }
    }

    /// Runs test set-up SQL on ura's database.
    pub async fn exec(&self, sql: &str) {
        sqlx::raw_sql(sqlx::AssertSqlSafe(sql.to_string()))
            .execute(self.store.pool())
            .await
            .unwrap_or_else(|e| panic!("{sql}: {e}"));
    }

    pub async fn scalar_i64(&self, sql: &str) -> i64 {
        sqlx::query_scalar(sqlx::AssertSqlSafe(sql.to_string()))
            .fetch_one(self.store.pool())
            .await
            .unwrap_or_else(|e| panic!("{sql}: {e}"))
    }

    pub async fn scalar_str(&self, sql: &str) -> Option<String> {
        sqlx::query_scalar(sqlx::AssertSqlSafe(sql.to_string()))
            .fetch_optional(self.store.pool())
            .await
            .unwrap_or_else(|e| panic!("{sql}: {e}"))
    }
}

/// MariaDB/MySQL server for the tests: `URA_TEST_MYSQL_URL`, by default
/// `mysql://root@127.0.0.1:3306`.
pub fn mysql_admin_url() -> String {
    std::env::var("URA_TEST_MYSQL_URL")
        .ok()
        .filter(|u| !u.trim().is_empty())
        .unwrap_or_else(|| "mysql://root@127.0.0.1:3306".into())
}

/// A fresh MariaDB database with FreeRADIUS's stock MySQL schema, dropped when dropped.
pub struct MariaDb {
    pub admin: DbUrl,
    pub name: String,
    client: PathBuf,
    _cleanup: OnDrop,
}

fn mysql_command(client: &PathBuf, admin: &DbUrl) -> std::process::Command {
    let mut cmd = std::process::Command::new(client);
    cmd.args(["--protocol=TCP", "--batch", "--skip-column-names"])
        .arg(format!("--host={}", admin.host))
        .arg(format!("--port={}", admin.port))
        .arg(format!("--user={}", admin.user));
    // The password through the environment, never on a command line.
    cmd.env("MYSQL_PWD", &admin.password);
    cmd
}

fn mysql_run(client: &PathBuf, admin: &DbUrl, database: Option<&str>, sql: &str) -> String {
    use std::io::Write;
    let mut cmd = mysql_command(client, admin);
    if let Some(db) = database {
        cmd.arg(format!("--database={db}"));
    }
    let mut child = cmd
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("run {}: {e}", client.display()));
    child
        .stdin
        .take()
        .expect("stdin")
        .write_all(sql.as_bytes())
        .expect("write sql");
    let out = child.wait_with_output().expect("mysql");
    assert!(
        out.status.success(),
        "mysql failed: {}\n{}",
        String::from_utf8_lossy(&out.stderr),
        crate::radius::tail(sql, 5)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

impl MariaDb {
    /// Whether the `mariadb`/`mysql` client is installed and the server answers.
    pub fn probe() -> Result<(PathBuf, DbUrl), String> {
        let admin = DbUrl::parse(&mysql_admin_url(), 3306);
        let client = ["mariadb", "mysql"]
            .iter()
            .flat_map(|name| {
                std::env::var_os("PATH")
                    .map(|p| std::env::split_paths(&p).collect::<Vec<_>>())
                    .unwrap_or_default()
                    .into_iter()
                    .map(move |d| d.join(name))
            })
            .find(|p| p.is_file())
            .ok_or("the mariadb/mysql client is not installed")?;
        let out = mysql_command(&client, &admin)
            .arg("--execute=SELECT 1")
            .output()
            .map_err(|e| format!("run {}: {e}", client.display()))?;
        if !out.status.success() {
            return Err(format!(
                "MariaDB at {}:{} does not answer: {}",
                admin.host,
                admin.port,
                String::from_utf8_lossy(&out.stderr).trim()
            ));
        }
        Ok((client, admin))
    }

    /// Creates `ura_radacct_<random>` with `<stock>/mods-config/sql/main/mysql/schema.sql`.
    pub fn create(client: PathBuf, admin: DbUrl, install: &Install) -> MariaDb {
        let name = format!("ura_radacct_{}_{}", std::process::id(), random_hex(4));
        mysql_run(&client, &admin, None, &format!("CREATE DATABASE {name}"));
        let cleanup = {
            let (client, admin, name) = (client.clone(), admin.clone(), name.clone());
            OnDrop::new(move || {
                let _ = mysql_command(&client, &admin)
                    .arg(format!("--execute=DROP DATABASE IF EXISTS {name}"))
                    .output();
            })
        };
        let db = MariaDb {
            admin,
            name,
            client,
            _cleanup: cleanup,
        };
        let schema_path = install.stock.join("mods-config/sql/main/mysql/schema.sql");
        let schema = std::fs::read_to_string(&schema_path)
            .unwrap_or_else(|e| panic!("read {}: {e}", schema_path.display()));
        db.query(&schema);
        db
    }

    /// Runs SQL in the database; returns the rows, tab-separated.
    pub fn query(&self, sql: &str) -> String {
        mysql_run(&self.client, &self.admin, Some(&self.name), sql)
    }

    /// `mysql://user:password@host:port/<name>` for ura's `radacct_url`.
    pub fn url(&self) -> String {
        let mut url = reqwest::Url::parse(&format!(
            "mysql://{}:{}/{}",
            self.admin.host, self.admin.port, self.name
        ))
        .expect("url");
        url.set_username(&self.admin.user).expect("user");
        if !self.admin.password.is_empty() {
            url.set_password(Some(&self.admin.password)).expect("pw");
        }
        url.to_string()
    }

    pub fn radius_target(&self) -> SqlTarget {
        SqlTarget::Mysql {
            host: self.admin.host.clone(),
            port: self.admin.port,
            login: self.admin.user.clone(),
            password: self.admin.password.clone(),
            database: self.name.clone(),
        }
    }
}
