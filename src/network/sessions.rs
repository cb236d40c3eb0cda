//! Where open RADIUS sessions are read from: our own `radacct` (FreeRADIUS writes its
//! accounting into our database), or an existing FreeRADIUS database (PostgreSQL or
//! MySQL/MariaDB) named by `radacct_url`, read-only.

use std::time::Duration;

use sqlx::AnyPool;
use sqlx::any::AnyPoolOptions;

use crate::store::{Store, redact_url};

#[derive(Clone)]
pub enum Sessions {
    Own(Store),
    External { pool: AnyPool, mysql: bool },
}

impl Sessions {
    pub async fn connect(store: &Store, radacct_url: Option<&str>) -> anyhow::Result<Sessions> {
        let Some(url) = radacct_url.filter(|u| !u.trim().is_empty()) else {
            return Ok(Sessions::Own(store.clone()));
        };
        sqlx::any::install_default_drivers();
        let mysql = url.starts_with("mysql://") || url.starts_with("mariadb://");
        let url = url.replacen("mariadb://", "mysql://", 1);
        if !mysql && !url.starts_with("postgres://") && !url.starts_with("postgresql://") {
            anyhow::bail!(
                "radacct_url deve ser postgres:// ou mysql://: {}",
                redact_url(&url)
            );
        }
        // Lazy: the server starts even while the FreeRADIUS database is away.
        let pool = AnyPoolOptions::new()
            .max_connections(4)
            .acquire_timeout(Duration::from_secs(1))
            .connect_lazy(&url)?;
        Ok(Sessions::External { pool, mysql })
    }

    /// Whether the login has an accounting session without a stop time.
    pub async fn has_open_session(&self, login: &str) -> Result<bool, sqlx::Error> {
        let (pool, sql) = match self {
            Sessions::Own(store) => (
                &store.pool,
                "SELECT COUNT(*) FROM radacct WHERE username = $1 AND acctstoptime IS NULL",
            ),
            Sessions::External { pool, mysql: false } => (
                pool,
                "SELECT COUNT(*) FROM radacct WHERE username = $1 AND acctstoptime IS NULL",
            ),
            Sessions::External { pool, mysql: true } => (
                pool,
                "SELECT COUNT(*) FROM radacct WHERE username = ? AND acctstoptime IS NULL",
            ),
        };
        let n: i64 = sqlx::query_scalar(sql).bind(login).fetch_one(pool).await?;
        Ok(n > 0)
    }
}
