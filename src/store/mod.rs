//! The database: connection pool, migrations, write transactions, and one module per
//! aggregate. Timestamps are stored as fixed-width UTC text so that they compare as text.

pub mod apps;
pub mod catalogs;
pub mod contracts;
pub mod maintenances;
pub mod messages;
pub mod notifications;
pub mod promises;
pub mod protocols;
pub mod tickets;

use std::str::FromStr;
use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, NaiveDateTime, Utc};
use sqlx::sqlite::{
    SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqlitePoolOptions, SqliteSynchronous,
};
use sqlx::{Sqlite, Transaction};
use tokio::sync::{Mutex, OwnedMutexGuard};

pub type Db = Sqlite;

static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("./migrations/sqlite");

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("banco de dados não suportado: {0} (use sqlite://ARQUIVO)")]
    UnsupportedUrl(String),
    #[error(transparent)]
    Sqlx(#[from] sqlx::Error),
    #[error(transparent)]
    Migrate(#[from] sqlx::migrate::MigrateError),
}

impl StoreError {
    /// Storage that is busy, locked or unreachable: the client should retry (503), as
    /// opposed to a bug (500).
    pub fn is_unavailable(&self) -> bool {
        match self {
            StoreError::Sqlx(e) => is_unavailable(e),
            _ => false,
        }
    }
}

pub fn is_unavailable(e: &sqlx::Error) -> bool {
    match e {
        sqlx::Error::PoolTimedOut | sqlx::Error::PoolClosed | sqlx::Error::Io(_) => true,
        sqlx::Error::Database(db) => {
            // SQLITE_BUSY (5), SQLITE_LOCKED (6), SQLITE_FULL (13), SQLITE_IOERR (10),
            // SQLITE_CANTOPEN (14), with their extended codes.
            let code = db.code().and_then(|c| c.parse::<i64>().ok()).unwrap_or(0) & 0xff;
            matches!(code, 5 | 6 | 10 | 13 | 14)
        }
        _ => false,
    }
}

/// Handle to the database, cheap to clone.
#[derive(Clone)]
pub struct Store {
    pub pool: SqlitePool,
    /// SQLite allows one writer: writers of this process queue here instead of spinning in
    /// SQLite's busy handler. Other processes (the CLI) are covered by `busy_timeout`.
    write_lock: Arc<Mutex<()>>,
}

/// A write transaction; it holds the process's write lock until it ends.
pub struct WriteTx {
    pub tx: Transaction<'static, Db>,
    _guard: OwnedMutexGuard<()>,
}

impl WriteTx {
    pub async fn commit(self) -> Result<(), sqlx::Error> {
        self.tx.commit().await
    }
}

impl std::ops::Deref for WriteTx {
    type Target = Transaction<'static, Db>;
    fn deref(&self) -> &Self::Target {
        &self.tx
    }
}

impl std::ops::DerefMut for WriteTx {
    fn deref_mut(&mut self) -> &mut Self::Target {
        &mut self.tx
    }
}

impl Store {
    /// Opens (creating if missing) and migrates the database.
    pub async fn open(url: &str) -> Result<Store, StoreError> {
        if !url.starts_with("sqlite:") {
            return Err(StoreError::UnsupportedUrl(redact_url(url)));
        }
        let options = SqliteConnectOptions::from_str(url)?
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            // FULL: an acknowledged write survives a power cut, not only a crash.
            .synchronous(SqliteSynchronous::Full)
            .foreign_keys(true)
            .busy_timeout(Duration::from_secs(5));
        let pool = SqlitePoolOptions::new()
            .max_connections(8)
            .acquire_timeout(Duration::from_secs(5))
            .connect_with(options)
            .await?;
        MIGRATOR.run(&pool).await?;
        Ok(Store {
            pool,
            write_lock: Arc::new(Mutex::new(())),
        })
    }

    /// Begins a write transaction that takes SQLite's write lock at once (`BEGIN IMMEDIATE`),
    /// so that a transaction that reads before writing never fails with a stale snapshot.
    pub async fn write(&self) -> Result<WriteTx, sqlx::Error> {
        let guard = tokio::time::timeout(
            Duration::from_secs(10),
            self.write_lock.clone().lock_owned(),
        )
        .await
        .map_err(|_| sqlx::Error::PoolTimedOut)?;
        let tx = self.pool.begin_with("BEGIN IMMEDIATE").await?;
        Ok(WriteTx { tx, _guard: guard })
    }

    pub async fn close(&self) {
        self.pool.close().await;
    }

    pub async fn meta(&self, key: &str) -> Result<Option<String>, sqlx::Error> {
        sqlx::query_scalar("SELECT value FROM meta WHERE key = $1")
            .bind(key)
            .fetch_optional(&self.pool)
            .await
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
