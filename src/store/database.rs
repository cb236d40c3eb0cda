//! The database as a whole, before a pool is opened: whether it exists, creating it when
//! missing (a PostgreSQL database as well as a SQLite file), and a read-only look at it for
//! `ura doctor` (reachable, migrations applied, FreeRADIUS tables present, its clock).

use std::time::Duration;

use sqlx::migrate::MigrateDatabase;
use sqlx::{Any, Connection};

use super::{Backend, POSTGRES_MIGRATOR, SQLITE_MIGRATOR, StoreError, redact_url};

/// Whether the database exists: the SQLite file, or the PostgreSQL database on its server.
pub async fn exists(url: &str) -> Result<bool, StoreError> {
    sqlx::any::install_default_drivers();
    if Backend::from_url(url).is_none() {
        return Err(StoreError::UnsupportedUrl(redact_url(url)));
    }
    if url.contains(":memory:") {
        return Ok(true);
    }
    Ok(Any::database_exists(url).await?)
}

/// Creates the database when it does not exist; true when it was created. PostgreSQL: as
/// the URL's user, connected to the server's `postgres` database.
pub async fn create_if_missing(url: &str) -> Result<bool, StoreError> {
    if exists(url).await? {
        return Ok(false);
    }
    Any::create_database(url).await?;
    Ok(true)
}

/// The FreeRADIUS tables `ura` writes (or FreeRADIUS writes into `ura`'s database).
pub const FREERADIUS_TABLES: &[&str] = &[
    "nas",
    "radcheck",
    "radreply",
    "radgroupcheck",
    "radgroupreply",
    "radusergroup",
    "radacct",
    "radpostauth",
];

/// What `ura doctor` learns from the database without changing it.
#[derive(Debug)]
pub struct Inspection {
    pub backend: Backend,
    /// Migrations this version knows and the database has not applied.
    pub pending: Vec<String>,
    /// Migrations applied that this version does not know (a newer `ura` ran here).
    pub unknown: Vec<i64>,
    /// FreeRADIUS tables missing.
    pub missing_tables: Vec<String>,
    /// The database server's clock minus this machine's, in seconds (PostgreSQL only).
    pub clock_skew: Option<f64>,
}

/// Connects (never creating anything) and reads the migrations table and the catalog.
pub async fn inspect(url: &str, within: Duration) -> Result<Inspection, String> {
    sqlx::any::install_default_drivers();
    let backend = Backend::from_url(url)
        .ok_or_else(|| format!("banco de dados não suportado: {}", redact_url(url)))?;
    if !exists(url).await.map_err(|e| e.to_string())? {
        return Err("o banco não existe (crie-o com `ura migrate`)".into());
    }
    let connect_url = match backend {
        Backend::Sqlite if !url.contains("mode=") => {
            let sep = if url.contains('?') { '&' } else { '?' };
            format!("{url}{sep}mode=ro")
        }
        _ => url.to_string(),
    };
    let mut conn = tokio::time::timeout(within, sqlx::AnyConnection::connect(&connect_url))
        .await
        .map_err(|_| format!("sem resposta em {} s", within.as_secs()))?
        .map_err(|e| e.to_string())?;
    let migrator = match backend {
        Backend::Sqlite => &SQLITE_MIGRATOR,
        Backend::Postgres => &POSTGRES_MIGRATOR,
    };
    let tables: Vec<String> = match backend {
        Backend::Sqlite => {
            sqlx::query_scalar("SELECT name FROM sqlite_master WHERE type = 'table'")
                .fetch_all(&mut conn)
                .await
        }
        Backend::Postgres => {
            sqlx::query_scalar(
                "SELECT table_name::text FROM information_schema.tables \
                 WHERE table_schema = current_schema()",
            )
            .fetch_all(&mut conn)
            .await
        }
    }
    .map_err(|e| e.to_string())?;
    let applied: Vec<i64> = if tables.iter().any(|t| t == "_sqlx_migrations") {
        sqlx::query_scalar("SELECT version FROM _sqlx_migrations WHERE success = TRUE")
            .fetch_all(&mut conn)
            .await
            .map_err(|e| e.to_string())?
    } else {
        Vec::new()
    };
    let pending = migrator
        .iter()
        .filter(|m| !applied.contains(&m.version))
        .map(|m| format!("{:04}_{}", m.version, m.description.replace(' ', "_")))
        .collect();
    let unknown = applied
        .iter()
        .copied()
        .filter(|v| !migrator.iter().any(|m| m.version == *v))
        .collect();
    let missing_tables = FREERADIUS_TABLES
        .iter()
        .filter(|t| !tables.iter().any(|have| have == *t))
        .map(|t| t.to_string())
        .collect();
    let clock_skew = match backend {
        Backend::Postgres => {
            let server: f64 = sqlx::query_scalar("SELECT EXTRACT(EPOCH FROM now())::float8")
                .fetch_one(&mut conn)
                .await
                .map_err(|e| e.to_string())?;
            let here = chrono::Utc::now().timestamp_micros() as f64 / 1e6;
            Some(server - here)
        }
        Backend::Sqlite => None,
    };
    let _ = conn.close().await;
    Ok(Inspection {
        backend,
        pending,
        unknown,
        missing_tables,
        clock_skew,
    })
}

/// Whether an external FreeRADIUS database (`radacct_url`) answers and has `radacct`.
pub async fn check_radacct(url: &str, within: Duration) -> Result<(), String> {
    sqlx::any::install_default_drivers();
    let url = url.replacen("mariadb://", "mysql://", 1);
    let mut conn = tokio::time::timeout(within, sqlx::AnyConnection::connect(&url))
        .await
        .map_err(|_| format!("sem resposta em {} s", within.as_secs()))?
        .map_err(|e| e.to_string())?;
    let found = sqlx::query_scalar::<_, i64>("SELECT COUNT(*) FROM radacct WHERE 1 = 0")
        .fetch_one(&mut conn)
        .await;
    let _ = conn.close().await;
    found
        .map(|_| ())
        .map_err(|e| format!("tabela radacct: {e}"))
}
