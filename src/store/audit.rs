//! The audit trail's rows: written in batches by `observe::audit`'s writer, listed by the admin
//! API, pruned after the retention.

use chrono::{DateTime, TimeDelta, Utc};
use serde::Serialize;

use super::{Store, ts};

#[derive(Debug, Clone, Default)]
pub struct Entry {
    pub at: DateTime<Utc>,
    pub app_id: Option<i64>,
    pub app_name: Option<String>,
    pub route: String,
    pub method: String,
    pub http_status: u16,
    pub ura_status: Option<i64>,
    pub contract_id: Option<i64>,
    /// Already masked (`529.NNN.247-NN`).
    pub document: Option<String>,
    pub protocol: Option<String>,
    pub latency_ms: f64,
    pub remote_addr: Option<String>,
}

pub async fn insert(store: &Store, batch: &[Entry]) -> Result<(), sqlx::Error> {
    if batch.is_empty() {
        return Ok(());
    }
    if store.backend == super::Backend::Postgres {
        return insert_postgres(store, batch).await;
    }
    const COLUMNS: usize = 12;
    let mut sql = String::from(
        "INSERT INTO audit_log (at, app_id, app_name, route, method, http_status, ura_status, \
         contract_id, document, protocol, latency_ms, remote_addr) VALUES ",
    );
    // SQLite looks numbered parameters up by name, in time quadratic in their number (a
    // profile showed 12 % of a loaded server there); `?` is positional and free.
    for i in 0..batch.len() {
        if i > 0 {
            sql.push(',');
        }
        sql.push('(');
        for c in 0..COLUMNS {
            if c > 0 {
                sql.push(',');
            }
            sql.push('?');
        }
        sql.push(')');
    }
    // Not kept prepared: every batch size is another statement, and a connection caches up to
    // 100 of them, each holding a plan for up to 6,000 parameters (a server under load grew
    // by 150 MiB that way).
    let mut query = sqlx::query(sqlx::AssertSqlSafe(sql)).persistent(false);
    for e in batch {
        query = query
            .bind(ts(e.at))
            .bind(e.app_id)
            .bind(e.app_name.clone())
            .bind(e.route.clone())
            .bind(e.method.clone())
            .bind(i64::from(e.http_status))
            .bind(e.ura_status)
            .bind(e.contract_id)
            .bind(e.document.clone())
            .bind(e.protocol.clone())
            .bind(e.latency_ms)
            .bind(e.remote_addr.clone());
    }
    // A writer of its own: on SQLite it queues behind the URA's writes like any other.
    let mut tx = store.write().await?;
    query.execute(&mut **tx).await?;
    tx.commit().await
}

/// PostgreSQL: the batch as one JSON parameter of one statement, kept prepared. A statement
/// of 12 parameters per entry was parsed and planned again for every batch, and under load
/// took a quarter of the database's CPU.
async fn insert_postgres(store: &Store, batch: &[Entry]) -> Result<(), sqlx::Error> {
    const SQL: &str = "INSERT INTO audit_log (at, app_id, app_name, route, method, http_status, \
         ura_status, contract_id, document, protocol, latency_ms, remote_addr) \
         SELECT at, app_id, app_name, route, method, http_status, ura_status, contract_id, \
         document, protocol, latency_ms, remote_addr \
         FROM json_to_recordset($1::json) AS e(at TEXT, app_id BIGINT, app_name TEXT, \
         route TEXT, method TEXT, http_status INTEGER, ura_status INTEGER, contract_id BIGINT, \
         document TEXT, protocol TEXT, latency_ms DOUBLE PRECISION, remote_addr TEXT)";
    let rows: Vec<serde_json::Value> = batch
        .iter()
        .map(|e| {
            serde_json::json!({
                "at": ts(e.at),
                "app_id": e.app_id,
                "app_name": e.app_name,
                "route": e.route,
                "method": e.method,
                "http_status": e.http_status,
                "ura_status": e.ura_status,
                "contract_id": e.contract_id,
                "document": e.document,
                "protocol": e.protocol,
                // JSON has no NaN; a latency is never one, but the column refuses null.
                "latency_ms": if e.latency_ms.is_finite() { e.latency_ms } else { 0.0 },
                "remote_addr": e.remote_addr,
            })
        })
        .collect();
    let mut tx = store.write().await?;
    sqlx::query(SQL)
        .bind(serde_json::Value::Array(rows).to_string())
        .execute(&mut **tx)
        .await?;
    tx.commit().await
}

/// Deletes entries older than the retention; returns how many.
pub async fn prune(store: &Store, days: u32, now: DateTime<Utc>) -> Result<u64, sqlx::Error> {
    if days == 0 {
        return Ok(0);
    }
    let cutoff = now - TimeDelta::days(i64::from(days));
    let done = sqlx::query("DELETE FROM audit_log WHERE at < $1")
        .bind(ts(cutoff))
        .execute(&store.pool)
        .await?;
    Ok(done.rows_affected())
}

/// A stored entry, as the admin API lists it.
#[derive(Debug, Serialize, sqlx::FromRow)]
pub struct Row {
    pub id: i64,
    pub at: String,
    pub app_id: Option<i64>,
    pub app_name: Option<String>,
    pub route: String,
    pub method: String,
    pub http_status: i64,
    pub ura_status: Option<i64>,
    pub contract_id: Option<i64>,
    pub document: Option<String>,
    pub protocol: Option<String>,
    pub latency_ms: f64,
    pub remote_addr: Option<String>,
}

#[derive(Debug, Default)]
pub struct Filter {
    pub since: Option<DateTime<Utc>>,
    pub until: Option<DateTime<Utc>>,
    pub app: Option<String>,
    pub route: Option<String>,
    pub contract_id: Option<i64>,
    pub protocol: Option<String>,
    pub http_status: Option<i64>,
}

/// Entries matching `filter`, newest first, and how many match in all.
pub async fn list(
    store: &Store,
    filter: &Filter,
    offset: i64,
    limit: i64,
) -> Result<(Vec<Row>, i64), sqlx::Error> {
    // Every condition is written once, off when its parameter is the neutral value.
    const WHERE: &str = "WHERE ($1 = '' OR at >= $1) AND ($2 = '' OR at < $2) \
         AND ($3 = '' OR app_name = $3) AND ($4 = '' OR route = $4) \
         AND ($5 = 0 OR contract_id = $5) AND ($6 = '' OR protocol = $6) \
         AND ($7 = 0 OR http_status = $7)";
    let binds = |q: &'static str| {
        let q = sqlx::AssertSqlSafe(q);
        (
            q,
            filter.since.map(ts).unwrap_or_default(),
            filter.until.map(ts).unwrap_or_default(),
            filter.app.clone().unwrap_or_default(),
            filter.route.clone().unwrap_or_default(),
            filter.contract_id.unwrap_or(0),
            filter.protocol.clone().unwrap_or_default(),
            filter.http_status.unwrap_or(0),
        )
    };
    static SELECT: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    static COUNT: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    let select = SELECT.get_or_init(|| {
        format!(
            "SELECT id, at, app_id, app_name, route, method, http_status, ura_status, \
             contract_id, document, protocol, latency_ms, remote_addr FROM audit_log {WHERE} \
             ORDER BY id DESC LIMIT $8 OFFSET $9"
        )
    });
    let count = COUNT.get_or_init(|| format!("SELECT COUNT(*) FROM audit_log {WHERE}"));
    let (q, a, b, c, d, e, f, g) = binds(select);
    let rows: Vec<Row> = sqlx::query_as(q)
        .bind(a)
        .bind(b)
        .bind(c)
        .bind(d)
        .bind(e)
        .bind(f)
        .bind(g)
        .bind(limit)
        .bind(offset)
        .fetch_all(&store.pool)
        .await?;
    let (q, a, b, c, d, e, f, g) = binds(count);
    let total: i64 = sqlx::query_scalar(q)
        .bind(a)
        .bind(b)
        .bind(c)
        .bind(d)
        .bind(e)
        .bind(f)
        .bind(g)
        .fetch_one(&store.pool)
        .await?;
    Ok((rows, total))
}
