//! The database, and the only place with SQL or a connection: the pool (private), migrations,
//! write transactions, and one module per aggregate. May import `domain` and `settings`. One SQL text serves SQLite and PostgreSQL where the dialects agree (through
//! sqlx's `Any` driver; both accept `$1` placeholders); each backend has its own migrations.
//! Timestamps are stored as fixed-width UTC text so that they compare as text on both, and
//! flags as integers (the `Any` driver decodes no SQLite boolean).

/// One statement over a batch of rows: the rows go as one JSON array of objects bound as
/// `$1`, read as `r`, each field as `r.value->>'name'` (text; `CAST` for a number) on both
/// backends. A batch of any size is then one statement. `$head` ends where the rows' source
/// goes; `$tail` follows it. A statement that looks rows up by the batch's keys is planned
/// each time (`persistent(false)`): PostgreSQL kept the plan it made while `messages` was
/// nearly empty (a dunning run's start), a scan of the whole table, as the run filled it.
macro_rules! over_json_rows {
    ($backend:expr, $head:literal, $tail:literal) => {
        match $backend {
            $crate::store::Backend::Sqlite => concat!($head, " json_each($1) AS r ", $tail),
            $crate::store::Backend::Postgres => {
                concat!($head, " json_array_elements($1::json) AS r(value) ", $tail)
            }
        }
    };
}
pub(crate) use over_json_rows;

/// A batch's rows as the JSON parameter of `over_json_rows!`.
pub(crate) fn json_rows(rows: &impl serde::Serialize) -> Result<String, sqlx::Error> {
    serde_json::to_string(rows).map_err(|e| sqlx::Error::Encode(Box::new(e)))
}

/// A batch of ids as `over_json_rows!` rows (`[{"id": 1}, ...]`).
pub(crate) fn json_ids(ids: &[i64]) -> String {
    let rows: Vec<String> = ids.iter().map(|id| format!("{{\"id\":{id}}}")).collect();
    format!("[{}]", rows.join(","))
}

pub mod admin_hooks;
pub mod admin_tokens;
pub mod agents;
pub mod app_credentials;
pub mod apps;
pub mod audit;
pub mod bank_returns;
pub mod catalogs;
pub mod contracts;
pub mod customers;
pub mod database;
pub mod dunning;
pub mod health;
pub mod idempotency;
pub mod import;
pub mod invoice_events;
pub mod invoices;
pub mod listen;
pub mod local_reads;
pub mod maintenances;
pub mod messages;
pub mod nas;
pub mod notifications;
pub mod painel;
pub mod pix;
pub mod promises;
pub mod protocols;
pub mod radacct;
pub mod radius;
pub mod resource;
pub mod resources;
pub mod seed;
mod states;
pub mod tickets;
mod write;

pub use write::WriteTx;

use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, NaiveDateTime, Utc};
use sqlx::AnyPool;
use sqlx::any::AnyPoolOptions;
use sqlx::{Any, Executor};

pub type Db = Any;

/// A pooled connection idle longer than this is pinged before it is used.
const PING_IF_IDLE: Duration = Duration::from_secs(1);
pub type Conn = sqlx::AnyConnection;

static SQLITE_MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("./migrations/sqlite");
static POSTGRES_MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("./migrations/postgres");

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

impl Backend {
    pub fn from_url(url: &str) -> Option<Backend> {
        if url.starts_with("sqlite:") {
            Some(Backend::Sqlite)
        } else if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            Some(Backend::Postgres)
        } else {
            None
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("banco de dados não suportado: {0} (use sqlite://ARQUIVO ou postgres://...)")]
    UnsupportedUrl(String),
    #[error(transparent)]
    Sqlx(#[from] sqlx::Error),
    #[error(transparent)]
    Migrate(#[from] sqlx::migrate::MigrateError),
}

/// Storage that is busy, locked or unreachable: the client should retry (503), as opposed
/// to a bug (500).
pub fn is_unavailable(e: &sqlx::Error) -> bool {
    match e {
        sqlx::Error::PoolTimedOut | sqlx::Error::PoolClosed | sqlx::Error::Io(_) => true,
        sqlx::Error::Database(db) => {
            let code = db.code().unwrap_or_default();
            if db
                .try_downcast_ref::<sqlx::postgres::PgDatabaseError>()
                .is_some()
            {
                // Connection exceptions (08), insufficient resources (53), operator
                // intervention (57: shutdown, cancel), system errors (58).
                ["08", "53", "57", "58"].iter().any(|c| code.starts_with(c))
            } else {
                // SQLITE_BUSY (5), SQLITE_LOCKED (6), SQLITE_IOERR (10), SQLITE_FULL (13),
                // SQLITE_CANTOPEN (14), with their extended codes.
                let code = code.parse::<i64>().unwrap_or(0) & 0xff;
                matches!(code, 5 | 6 | 10 | 13 | 14)
            }
        }
        _ => false,
    }
}

/// A transaction PostgreSQL undid to break a cycle of locks (40P01): trying it again is safe.
pub fn is_deadlock(e: &sqlx::Error) -> bool {
    matches!(e, sqlx::Error::Database(db) if db.code().as_deref() == Some("40P01"))
}

/// A write refused by a unique index or primary key.
pub fn is_unique_violation(e: &sqlx::Error) -> bool {
    match e {
        sqlx::Error::Database(db) => {
            let code = db.code().unwrap_or_default();
            // PostgreSQL 23505; SQLite 2067 (UNIQUE) and 1555 (PRIMARY KEY).
            code == "23505" || code == "2067" || code == "1555"
        }
        _ => false,
    }
}

/// Handle to the database, cheap to clone.
#[derive(Clone)]
pub struct Store {
    pool: AnyPool,
    pub backend: Backend,
    /// SQLite allows one writer: writers of this process queue here (and commit in groups)
    /// instead of spinning in SQLite's busy handler. Other processes (the CLI) are covered
    /// by `busy_timeout`. PostgreSQL needs none: rows are locked where the rules need it.
    writers: Arc<write::GroupCommit>,
    /// SQLite file: the hot reads run on the request's thread (see `local_reads`).
    pub local: Option<local_reads::LocalReads>,
    /// PostgreSQL: the apps' credentials, kept while the server listens to their changes.
    pub credentials: Arc<app_credentials::Credentials>,
}

/// How the pool is opened.
#[derive(Debug, Clone, Copy)]
pub struct StoreOptions {
    pub max_connections: u32,
    /// SQLite only: the largest the database may grow, in pages (`PRAGMA max_page_count`).
    /// Full, a write fails (`503`) and nothing is corrupted.
    pub sqlite_max_pages: Option<u64>,
}

impl Store {
    /// Opens (creating a SQLite file if missing) and migrates the database.
    pub async fn open(url: &str) -> Result<Store, StoreError> {
        Self::open_with(url, 16).await
    }

    pub async fn open_with(url: &str, max_connections: u32) -> Result<Store, StoreError> {
        Self::open_with_options(
            url,
            StoreOptions {
                max_connections,
                sqlite_max_pages: None,
            },
        )
        .await
    }

    pub async fn open_with_options(url: &str, opts: StoreOptions) -> Result<Store, StoreError> {
        let max_connections = opts.max_connections;
        // `PRAGMA max_page_count` holds per connection: every connection of the pool gets it.
        let max_pages = opts
            .sqlite_max_pages
            .map(|p| p.clamp(1, u64::from(u32::MAX)));
        sqlx::any::install_default_drivers();
        let backend =
            Backend::from_url(url).ok_or_else(|| StoreError::UnsupportedUrl(redact_url(url)))?;
        // A wait for a connection is a wait in line under load; a database that is away is
        // told apart by `health::DbHealth`, which answers 503 at once.
        let acquire = Duration::from_secs(5);
        // sqlx pings every connection it hands out: on PostgreSQL a round trip of its own
        // before every query (it pings again when the connection comes back, off the
        // request's path). Only a connection that sat idle is pinged here; one in use a
        // moment ago is alive or fails its query as unavailable (503) and is not put back.
        let options = AnyPoolOptions::new()
            .max_connections(max_connections)
            .acquire_timeout(acquire)
            .test_before_acquire(false)
            .before_acquire(|conn, meta| {
                Box::pin(async move {
                    if meta.idle_for > PING_IF_IDLE {
                        sqlx::Connection::ping(conn).await?;
                    }
                    Ok(true)
                })
            });
        let pool = match backend {
            Backend::Sqlite => {
                let url = sqlite_url(url);
                options
                    .after_connect(move |conn, _| {
                        Box::pin(async move {
                            if let Some(pages) = max_pages {
                                conn.execute(sqlx::AssertSqlSafe(format!(
                                    "PRAGMA max_page_count = {pages}"
                                )))
                                .await?;
                            }
                            // FULL: an acknowledged write survives a power cut, not only a
                            // crash. busy_timeout covers writers of other processes.
                            conn.execute(
                                "PRAGMA synchronous = FULL; PRAGMA busy_timeout = 5000; \
                                 PRAGMA foreign_keys = ON;",
                            )
                            .await?;
                            Ok(())
                        })
                    })
                    .connect(&url)
                    .await?
            }
            Backend::Postgres => options.connect(url).await?,
        };
        match backend {
            Backend::Sqlite => {
                // WAL lets readers go on while one writer writes; it persists in the file.
                pool.execute("PRAGMA journal_mode = WAL").await?;
                SQLITE_MIGRATOR.run(&pool).await?;
            }
            Backend::Postgres => POSTGRES_MIGRATOR.run(&pool).await?,
        }
        let store = Store {
            writers: write::GroupCommit::new(pool.clone()),
            local: match backend {
                Backend::Sqlite => local_reads::LocalReads::for_url(url),
                Backend::Postgres => None,
            },
            pool,
            backend,
            credentials: Arc::default(),
        };
        store.ensure_link_key().await?;
        invoices::backfill_our_number_keys(&store).await?;
        Ok(store)
    }

    /// The key that signs links to invoice PDFs, made once per database and shared by
    /// every process. Made here, before serving, so that start-up writes nothing.
    async fn ensure_link_key(&self) -> Result<(), sqlx::Error> {
        if self.meta("link_key").await?.is_some() {
            return Ok(());
        }
        let mut bytes = [0u8; 32];
        rand::RngCore::fill_bytes(&mut rand::rng(), &mut bytes);
        // Two processes starting at once: the first insert wins, both use it.
        let insert = match self.backend {
            Backend::Postgres => {
                "INSERT INTO meta (key, value) VALUES ('link_key', $1) ON CONFLICT (key) DO NOTHING"
            }
            Backend::Sqlite => "INSERT OR IGNORE INTO meta (key, value) VALUES ('link_key', $1)",
        };
        sqlx::query(insert)
            .bind(hex::encode(bytes))
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    /// Begins a write transaction. On SQLite it waits for this process's turn to write and
    /// joins the current commit group (see `write`); the group holds SQLite's write lock
    /// (`BEGIN IMMEDIATE`), so a transaction that reads before writing never fails with a
    /// stale snapshot.
    pub async fn write(&self) -> Result<WriteTx, sqlx::Error> {
        match self.backend {
            Backend::Sqlite => self.writers.begin().await,
            Backend::Postgres => Ok(WriteTx::own(self.pool.begin().await?)),
        }
    }

    /// How many write transactions a batch job (the dunning run) should keep going at once.
    /// SQLite: enough for each group commit to carry many (one fsync for all); they still
    /// write one at a time. PostgreSQL: an eighth of the pool (2 of the default 16). The
    /// database's CPU is shared with the URA's answers of every process, and each of the
    /// job's transactions keeps a backend busy: with 4, the answers' p99 during a run
    /// doubled (BENCHMARKS.md).
    pub fn write_concurrency(&self) -> usize {
        match self.backend {
            Backend::Sqlite => 16,
            Backend::Postgres => {
                (self.pool.options().get_max_connections() as usize / 8).clamp(1, 8)
            }
        }
    }

    pub async fn close(&self) {
        self.pool.close().await;
    }

    /// Whether the database answers within `within`.
    pub async fn ping(&self, within: Duration) -> bool {
        let ping = sqlx::query_scalar::<_, i64>("SELECT 1").fetch_one(&self.pool);
        matches!(tokio::time::timeout(within, ping).await, Ok(Ok(1)))
    }

    /// The pool, for the black-box tests to look at what the server wrote.
    #[cfg(feature = "test-support")]
    pub fn pool(&self) -> &AnyPool {
        &self.pool
    }

    /// A connection of the pool, for a run of reads.
    pub async fn acquire(&self) -> Result<sqlx::pool::PoolConnection<Any>, sqlx::Error> {
        self.pool.acquire().await
    }

    pub async fn meta(&self, key: &str) -> Result<Option<String>, sqlx::Error> {
        sqlx::query_scalar("SELECT value FROM meta WHERE key = $1")
            .bind(key)
            .fetch_optional(&self.pool)
            .await
    }
}

/// `sqlite://ura.db` → `sqlite://ura.db?mode=rwc`: the file is created when missing.
fn sqlite_url(url: &str) -> String {
    if url.contains("mode=") || url.contains(":memory:") {
        url.to_string()
    } else if url.contains('?') {
        format!("{url}&mode=rwc")
    } else {
        format!("{url}?mode=rwc")
    }
}

/// The URL without its password, for messages.
pub fn redact_url(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(scheme), Some(at)) if at > scheme => {
            let userinfo = &url[scheme + 3..at];
            let user = userinfo.split(':').next().unwrap_or("");
            format!("{}://{}:***{}", &url[..scheme], user, &url[at..])
        }
        _ => url.to_string(),
    }
}

const TS_FORMAT: &str = "%Y-%m-%dT%H:%M:%S%.6fZ";

/// UTC timestamp as stored: fixed width, so text order is time order.
pub fn ts(t: DateTime<Utc>) -> String {
    t.format(TS_FORMAT).to_string()
}

/// Reads a stored timestamp; also accepts FreeRADIUS's `YYYY-MM-DD HH:MM:SS`.
pub fn parse_ts(text: &str) -> Option<DateTime<Utc>> {
    let text = text.trim().trim_end_matches('Z');
    ["%Y-%m-%dT%H:%M:%S%.f", "%Y-%m-%d %H:%M:%S%.f"]
        .iter()
        .find_map(|f| NaiveDateTime::parse_from_str(text, f).ok())
        .map(|n| n.and_utc())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timestamps_sort_as_text() {
        let a = DateTime::parse_from_rfc3339("2026-11-29T06:41:50Z")
            .unwrap()
            .to_utc();
        let b = a + chrono::TimeDelta::microseconds(1);
        assert!(ts(a) < ts(b));
        assert_eq!(parse_ts(&ts(b)), Some(b));
        assert_eq!(parse_ts("2026-11-29 06:41:50"), Some(a));
    }

    #[test]
    fn urls_lose_their_password() {
        assert_eq!(
            redact_url("postgres://ura:segredo@db/ura"),
            "postgres://ura:***@db/ura"
        );
        assert_eq!(redact_url("sqlite://ura.db"), "sqlite://ura.db");
    }
}
