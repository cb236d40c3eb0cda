//! Where open RADIUS sessions are read from: our own `radacct` (FreeRADIUS writes its
//! accounting into our database), or an existing FreeRADIUS database (PostgreSQL or
//! MySQL/MariaDB) named by `radacct_url`, read-only. Each dialect of FreeRADIUS's schema
//! types addresses and times differently, hence one SQL text per dialect.

use std::time::Duration;

use chrono::{DateTime, Utc};
use sqlx::AnyPool;
use sqlx::any::AnyPoolOptions;

use crate::store::{Backend, Store, redact_url};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Dialect {
    Sqlite,
    Postgres,
    Mysql,
}

/// radacctid, username, acctsessionid, NAS address, framed address.
type SessionRow = (i64, Option<String>, String, Option<String>, Option<String>);

#[derive(Clone)]
pub struct Sessions {
    pool: AnyPool,
    dialect: Dialect,
    /// Our own `radacct` may be written (to close a stale session); an external one never.
    writable: bool,
}

/// An accounting session without a stop time.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OpenSession {
    pub radacctid: i64,
    pub user_name: String,
    pub acct_session_id: String,
    pub nas_ip: Option<String>,
    pub framed_ip: Option<String>,
}

impl Sessions {
    pub async fn connect(store: &Store, radacct_url: Option<&str>) -> anyhow::Result<Sessions> {
        let Some(url) = radacct_url.filter(|u| !u.trim().is_empty()) else {
            return Ok(Sessions {
                pool: store.pool.clone(),
                dialect: match store.backend {
                    Backend::Sqlite => Dialect::Sqlite,
                    Backend::Postgres => Dialect::Postgres,
                },
                writable: true,
            });
        };
        sqlx::any::install_default_drivers();
        let url = url.replacen("mariadb://", "mysql://", 1);
        let dialect = if url.starts_with("mysql://") {
            Dialect::Mysql
        } else if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            Dialect::Postgres
        } else {
            anyhow::bail!(
                "radacct_url deve ser postgres:// ou mysql://: {}",
                redact_url(&url)
            );
        };
        // Lazy: the server starts even while the FreeRADIUS database is away.
        let pool = AnyPoolOptions::new()
            .max_connections(4)
            .acquire_timeout(Duration::from_secs(1))
            .connect_lazy(&url)?;
        Ok(Sessions {
            pool,
            dialect,
            writable: false,
        })
    }

    /// Whether the login has an accounting session without a stop time.
    pub async fn has_open_session(&self, login: &str) -> Result<bool, sqlx::Error> {
        Ok(!self.open_sessions(login).await?.is_empty())
    }

    /// The login's open sessions, newest first.
    pub async fn open_sessions(&self, login: &str) -> Result<Vec<OpenSession>, sqlx::Error> {
        let sql = match self.dialect {
            Dialect::Sqlite => {
                "SELECT radacctid, username, acctsessionid, nasipaddress, framedipaddress \
                 FROM radacct WHERE username = $1 AND acctstoptime IS NULL \
                 ORDER BY radacctid DESC LIMIT 20"
            }
            Dialect::Postgres => {
                "SELECT radacctid, username, acctsessionid, host(nasipaddress), \
                 host(framedipaddress) FROM radacct WHERE username = $1 \
                 AND acctstoptime IS NULL ORDER BY radacctid DESC LIMIT 20"
            }
            Dialect::Mysql => {
                "SELECT CAST(radacctid AS SIGNED), username, acctsessionid, nasipaddress, \
                 framedipaddress FROM radacct WHERE username = ? AND acctstoptime IS NULL \
                 ORDER BY radacctid DESC LIMIT 20"
            }
        };
        let rows: Vec<SessionRow> = sqlx::query_as(sql)
            .bind(login)
            .fetch_all(&self.pool)
            .await?;
        Ok(rows
            .into_iter()
            .map(
                |(radacctid, user, acct_session_id, nas_ip, framed_ip)| OpenSession {
                    radacctid,
                    user_name: user.unwrap_or_else(|| login.to_string()),
                    acct_session_id,
                    nas_ip: nas_ip.filter(|s| !s.is_empty()),
                    framed_ip: framed_ip.filter(|s| !s.is_empty()),
                },
            )
            .collect())
    }

    /// Closes a session the NAS no longer holds: stop time now and a terminate cause that
    /// says why. Only our own `radacct`; an external one is FreeRADIUS's to write.
    pub async fn close_stale(
        &self,
        radacctid: i64,
        now: DateTime<Utc>,
        cause: &str,
    ) -> Result<bool, sqlx::Error> {
        if !self.writable {
            return Ok(false);
        }
        let (sql, time) = match self.dialect {
            Dialect::Postgres => (
                "UPDATE radacct SET acctstoptime = CAST($1 AS TIMESTAMPTZ), \
                 acctterminatecause = $2 WHERE radacctid = $3 AND acctstoptime IS NULL",
                now.format("%Y-%m-%d %H:%M:%S+00").to_string(),
            ),
            _ => (
                "UPDATE radacct SET acctstoptime = $1, acctterminatecause = $2 \
                 WHERE radacctid = $3 AND acctstoptime IS NULL",
                now.format("%Y-%m-%d %H:%M:%S").to_string(),
            ),
        };
        let done = sqlx::query(sql)
            .bind(time)
            .bind(cause)
            .bind(radacctid)
            .execute(&self.pool)
            .await?;
        Ok(done.rows_affected() > 0)
    }
}
