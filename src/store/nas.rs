//! The NAS table (FreeRADIUS's `nas`, with our columns: CoA port, how it is probed, whether
//! it answers): where RFC 5176 requests go.

use std::net::IpAddr;

use super::Store;

/// How a NAS is asked whether it holds a session, and how its health is probed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Method {
    /// A CoA-Request naming the session; NAK 503 means the NAS does not hold it.
    Coa,
    /// Health by RFC 5997 Status-Server; sessions are not asked.
    StatusServer,
    /// RouterOS API: not implemented yet, treated as `None`.
    MikrotikApi,
    None,
}

impl Method {
    pub fn parse(text: &str) -> Method {
        match text.trim().to_ascii_lowercase().as_str() {
            "coa" => Method::Coa,
            "status-server" => Method::StatusServer,
            "mikrotik-api" => Method::MikrotikApi,
            _ => Method::None,
        }
    }
}

#[derive(Debug, Clone)]
pub struct Nas {
    pub id: i64,
    pub name: String,
    pub ip: Option<IpAddr>,
    pub secret: String,
    pub coa_port: u16,
    pub method: Method,
}

type NasRow = (i64, String, Option<String>, String, i64, String);

fn from_row((id, nasname, shortname, secret, port, method): NasRow) -> Nas {
    Nas {
        id,
        ip: nasname.trim().parse().ok(),
        name: shortname
            .filter(|s| !s.is_empty())
            .unwrap_or_else(|| nasname.clone()),
        secret,
        coa_port: u16::try_from(port).unwrap_or(3799),
        method: Method::parse(&method),
    }
}

const NAS_SELECT: &str = "SELECT id, nasname, shortname, secret, coa_port, check_method FROM nas";

pub async fn by_id(store: &Store, id: i64) -> Result<Option<Nas>, sqlx::Error> {
    let row: Option<NasRow> =
        sqlx::query_as(sqlx::AssertSqlSafe(format!("{NAS_SELECT} WHERE id = $1")))
            .bind(id)
            .fetch_optional(&store.pool)
            .await?;
    Ok(row.map(from_row))
}

pub async fn by_ip(store: &Store, ip: &str) -> Result<Option<Nas>, sqlx::Error> {
    let row: Option<NasRow> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "{NAS_SELECT} WHERE nasname = $1 ORDER BY id LIMIT 1"
    )))
    .bind(ip)
    .fetch_optional(&store.pool)
    .await?;
    Ok(row.map(from_row))
}

/// Every NAS, for `ura doctor`.
pub async fn all(store: &Store) -> Result<Vec<Nas>, sqlx::Error> {
    let rows: Vec<NasRow> =
        sqlx::query_as(sqlx::AssertSqlSafe(format!("{NAS_SELECT} ORDER BY id")))
            .fetch_all(&store.pool)
            .await?;
    Ok(rows.into_iter().map(from_row).collect())
}

pub async fn all_probed(store: &Store) -> Result<Vec<Nas>, sqlx::Error> {
    let rows: Vec<NasRow> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "{NAS_SELECT} WHERE check_method IN ('coa', 'status-server') ORDER BY id"
    )))
    .fetch_all(&store.pool)
    .await?;
    Ok(rows.into_iter().map(from_row).collect())
}

/// Claims a NAS for this interval's probe: false when another process probed it since
/// `threshold`.
pub async fn claim_probe(
    store: &Store,
    id: i64,
    now: chrono::DateTime<chrono::Utc>,
    threshold: chrono::DateTime<chrono::Utc>,
) -> Result<bool, sqlx::Error> {
    let claimed = sqlx::query(
        "UPDATE nas SET checked_at = $1 WHERE id = $2 AND (checked_at IS NULL OR checked_at <= $3)",
    )
    .bind(super::ts(now))
    .bind(id)
    .bind(super::ts(threshold))
    .execute(&store.pool)
    .await?
    .rows_affected();
    Ok(claimed > 0)
}

/// Records whether the NAS answers; true when that changed.
pub async fn set_reachable(store: &Store, id: i64, reachable: bool) -> Result<bool, sqlx::Error> {
    let changed = sqlx::query("UPDATE nas SET reachable = $1 WHERE id = $2 AND reachable <> $1")
        .bind(i64::from(reachable))
        .bind(id)
        .execute(&store.pool)
        .await?
        .rows_affected();
    Ok(changed > 0)
}

/// Each NAS's address and whether it answered its last probe (None: not probed yet).
pub async fn reachability(store: &Store) -> Result<Vec<(String, Option<i64>)>, sqlx::Error> {
    sqlx::query_as("SELECT nasname, reachable FROM nas ORDER BY id")
        .fetch_all(&store.pool)
        .await
}
