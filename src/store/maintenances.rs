//! Maintenance windows in the database: what `verificaacesso` asks (`in_force`), and the
//! reads and writes behind the URA's `manutencao/*` routes and the admin API's `manutencoes`.
//! The rules (fields, checks, defaults, wire shape) are `domain::maintenance`; here is only
//! SQL, and the one check that needs it: that every covered id names a row.

use chrono::{DateTime, Utc};

use super::{Conn, Store, parse_ts, ts};
use crate::domain::maintenance::{
    Changes, Coverage, Fields, Invalid, Maintenance, STATUS_RESOLVED,
};

#[derive(Debug, Clone)]
pub struct InForce {
    pub id: i64,
    pub ivr_message: Option<String>,
    pub expected_end: Option<DateTime<Utc>>,
    /// Covers through the NAS (as opposed to the POP or a network element).
    pub via_nas: bool,
}

/// Maintenances in force now (started, not resolved: `status` 4 is `STATUS_RESOLVED`) covering
/// the POP, the element or the NAS.
pub async fn in_force(
    store: &Store,
    now: DateTime<Utc>,
    pop_id: Option<i64>,
    element_id: Option<i64>,
    nas_id: Option<i64>,
) -> Result<Vec<InForce>, sqlx::Error> {
    let rows: Vec<(i64, Option<String>, Option<String>, i64)> = sqlx::query_as(
        "SELECT m.id, m.ivr_message, m.expected_end, \
           CASE WHEN EXISTS (SELECT 1 FROM maintenance_nas x WHERE x.maintenance_id = m.id AND x.nas_id = $4) \
            AND NOT EXISTS (SELECT 1 FROM maintenance_pops x WHERE x.maintenance_id = m.id AND x.pop_id = $2) \
            AND NOT EXISTS (SELECT 1 FROM maintenance_elements x WHERE x.maintenance_id = m.id AND x.element_id = $3) \
           THEN 1 ELSE 0 END AS via_nas \
         FROM maintenances m \
         WHERE m.starts_at <= $1 AND m.resolved_at IS NULL AND m.status <> 4 AND ( \
           EXISTS (SELECT 1 FROM maintenance_pops x WHERE x.maintenance_id = m.id AND x.pop_id = $2) \
           OR EXISTS (SELECT 1 FROM maintenance_elements x WHERE x.maintenance_id = m.id AND x.element_id = $3) \
           OR EXISTS (SELECT 1 FROM maintenance_nas x WHERE x.maintenance_id = m.id AND x.nas_id = $4)) \
         ORDER BY m.starts_at, m.id",
    )
    .bind(ts(now))
    .bind(pop_id)
    .bind(element_id)
    .bind(nas_id)
    .fetch_all(&store.pool)
    .await?;
    Ok(rows
        .into_iter()
        .map(|(id, ivr_message, end, via_nas)| InForce {
            id,
            ivr_message: ivr_message.filter(|m| !m.trim().is_empty()),
            expected_end: end.as_deref().and_then(parse_ts),
            via_nas: via_nas != 0,
        })
        .collect())
}

/// Where each coverage is stored: its link table, the column there, and the table the ids
/// refer to.
trait Tables {
    fn link_table(self) -> &'static str;
    fn column(self) -> &'static str;
    fn target_table(self) -> &'static str;
}

impl Tables for Coverage {
    fn link_table(self) -> &'static str {
        match self {
            Coverage::Pops => "maintenance_pops",
            Coverage::Elements => "maintenance_elements",
            Coverage::Nas => "maintenance_nas",
        }
    }

    fn column(self) -> &'static str {
        match self {
            Coverage::Pops => "pop_id",
            Coverage::Elements => "element_id",
            Coverage::Nas => "nas_id",
        }
    }

    fn target_table(self) -> &'static str {
        match self {
            Coverage::Pops => "pops",
            Coverage::Elements => "network_elements",
            Coverage::Nas => "nas",
        }
    }
}

/// Which maintenances to read.
#[derive(Debug, Clone, Copy)]
pub enum Which {
    All,
    /// In force at this instant, as `in_force` means it (started, not resolved).
    InForce(DateTime<Utc>),
    One(i64),
}

impl Which {
    /// The `WHERE` clause (on `maintenances m`) and its values.
    fn clause(self) -> (String, Vec<Bind>) {
        match self {
            Which::All => (String::new(), Vec::new()),
            Which::InForce(now) => (
                format!(" WHERE {}", in_force_condition(1)),
                vec![Bind::Text(ts(now))],
            ),
            Which::One(id) => (" WHERE m.id = $1".to_string(), vec![Bind::Int(id)]),
        }
    }
}

/// In force at the instant bound to `$n`, as `in_force` means it (started, not resolved).
fn in_force_condition(n: usize) -> String {
    format!("m.starts_at <= ${n} AND m.resolved_at IS NULL AND m.status <> {STATUS_RESOLVED}")
}

/// A value bound to a placeholder of a read.
#[derive(Debug, Clone)]
enum Bind {
    Int(i64),
    Text(String),
}

fn bind_all<'q, O>(
    mut query: sqlx::query::QueryAs<'q, sqlx::Any, O, sqlx::any::AnyArguments>,
    binds: &[Bind],
) -> sqlx::query::QueryAs<'q, sqlx::Any, O, sqlx::any::AnyArguments> {
    for bind in binds {
        query = match bind {
            Bind::Int(n) => query.bind(*n),
            Bind::Text(t) => query.bind(t.clone()),
        };
    }
    query
}

type Row = (
    i64,
    String,
    Option<String>,
    i64,
    i64,
    String,
    Option<String>,
);

/// Maintenances with what they cover, by id. A stored time that cannot be read (edited by
/// hand) is an error rather than a guess.
pub async fn read(conn: &mut Conn, which: Which) -> Result<Vec<Maintenance>, sqlx::Error> {
    let (clause, binds) = which.clause();
    read_where(conn, &clause, &binds).await
}

/// Maintenances of `clause` (a `WHERE` on `maintenances m`, or nothing), by id.
async fn read_where(
    conn: &mut Conn,
    clause: &str,
    binds: &[Bind],
) -> Result<Vec<Maintenance>, sqlx::Error> {
    let sql = format!(
        "SELECT m.id, m.description, m.ivr_message, CAST(m.severity AS BIGINT), \
         CAST(m.status AS BIGINT), m.starts_at, m.expected_end FROM maintenances m{clause} \
         ORDER BY m.id"
    );
    let rows: Vec<Row> = bind_all(sqlx::query_as(sqlx::AssertSqlSafe(sql)), binds)
        .fetch_all(&mut *conn)
        .await?;
    let bad_time = |id: i64, text: &str| {
        sqlx::Error::Decode(format!("manutenção {id}: horário ilegível {text:?}").into())
    };
    let mut list = Vec::with_capacity(rows.len());
    let mut index = std::collections::HashMap::new();
    for (id, description, ivr_message, severity, status, starts, end) in rows {
        let starts_at = parse_ts(&starts).ok_or_else(|| bad_time(id, &starts))?;
        let expected_end = match end {
            None => None,
            Some(text) => Some(parse_ts(&text).ok_or_else(|| bad_time(id, &text))?),
        };
        index.insert(id, list.len());
        list.push(Maintenance {
            id,
            fields: Fields {
                description,
                ivr_message,
                severity,
                status,
                starts_at,
                expected_end,
                pops: Vec::new(),
                elements: Vec::new(),
                nas: Vec::new(),
            },
        });
    }
    if list.is_empty() {
        return Ok(list);
    }
    for coverage in Coverage::ALL {
        let sql = format!(
            "SELECT x.maintenance_id, CAST(x.{col} AS BIGINT) FROM {table} x \
             JOIN maintenances m ON m.id = x.maintenance_id{clause} \
             ORDER BY x.maintenance_id, x.{col}",
            col = coverage.column(),
            table = coverage.link_table(),
        );
        let links: Vec<(i64, i64)> = bind_all(sqlx::query_as(sqlx::AssertSqlSafe(sql)), binds)
            .fetch_all(&mut *conn)
            .await?;
        for (maintenance, target) in links {
            if let Some(&i) = index.get(&maintenance) {
                coverage.ids_mut(&mut list[i].fields).push(target);
            }
        }
    }
    Ok(list)
}

/// Locks maintenance `id` until the transaction ends (PostgreSQL; SQLite writers are
/// serialized already), so that an edit merges its changes into what the previous edit
/// committed rather than into what it read before.
pub async fn lock(conn: &mut Conn, id: i64) -> Result<(), sqlx::Error> {
    if conn.backend_name().eq_ignore_ascii_case("postgresql") {
        sqlx::query("SELECT id FROM maintenances WHERE id = $1 FOR UPDATE")
            .bind(id)
            .execute(&mut *conn)
            .await?;
    }
    Ok(())
}

/// The first of `ids` that names no row of what `coverage` refers to.
pub async fn first_unknown(
    conn: &mut Conn,
    coverage: Coverage,
    ids: &[i64],
) -> Result<Option<i64>, sqlx::Error> {
    if ids.is_empty() {
        return Ok(None);
    }
    let placeholders: Vec<String> = (1..=ids.len()).map(|i| format!("${i}")).collect();
    let sql = format!(
        "SELECT CAST(id AS BIGINT) FROM {} WHERE id IN ({})",
        coverage.target_table(),
        placeholders.join(", ")
    );
    let mut query = sqlx::query_scalar(sqlx::AssertSqlSafe(sql));
    for id in ids {
        query = query.bind(*id);
    }
    let known: Vec<i64> = query.fetch_all(&mut *conn).await?;
    Ok(ids.iter().copied().find(|id| !known.contains(id)))
}

/// `resolved_at` follows the status: set when it becomes 4, `STATUS_RESOLVED` (kept if it
/// already was),
/// cleared otherwise, so that `in_force` sees one truth.
const RESOLVED_AT: &str = "CASE WHEN $5 = 4 THEN COALESCE(resolved_at, $7) ELSE NULL END";

pub async fn insert(conn: &mut Conn, f: &Fields, now: DateTime<Utc>) -> Result<i64, sqlx::Error> {
    let id: i64 = sqlx::query_scalar(
        "INSERT INTO maintenances (description, ivr_message, severity, status, starts_at, \
         expected_end, resolved_at, created_at) \
         VALUES ($1, $2, $3, $4, $5, $6, CASE WHEN $4 = 4 THEN $7 ELSE NULL END, $7) \
         RETURNING id",
    )
    .bind(&f.description)
    .bind(&f.ivr_message)
    .bind(f.severity)
    .bind(f.status)
    .bind(ts(f.starts_at))
    .bind(f.expected_end.map(ts))
    .bind(ts(now))
    .fetch_one(&mut *conn)
    .await?;
    write_coverage(conn, id, f).await?;
    Ok(id)
}

/// Replaces every field of maintenance `id`; false when there is none.
pub async fn update(
    conn: &mut Conn,
    id: i64,
    f: &Fields,
    now: DateTime<Utc>,
) -> Result<bool, sqlx::Error> {
    let sql = format!(
        "UPDATE maintenances SET description = $2, ivr_message = $3, severity = $4, \
         status = $5, starts_at = $6, expected_end = $8, resolved_at = {RESOLVED_AT} \
         WHERE id = $1"
    );
    let done = sqlx::query(sqlx::AssertSqlSafe(sql))
        .bind(id)
        .bind(&f.description)
        .bind(&f.ivr_message)
        .bind(f.severity)
        .bind(f.status)
        .bind(ts(f.starts_at))
        .bind(ts(now))
        .bind(f.expected_end.map(ts))
        .execute(&mut *conn)
        .await?;
    if done.rows_affected() == 0 {
        return Ok(false);
    }
    for coverage in Coverage::ALL {
        let sql = format!(
            "DELETE FROM {} WHERE maintenance_id = $1",
            coverage.link_table()
        );
        sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(id)
            .execute(&mut *conn)
            .await?;
    }
    write_coverage(conn, id, f).await?;
    Ok(true)
}

async fn write_coverage(conn: &mut Conn, id: i64, f: &Fields) -> Result<(), sqlx::Error> {
    for coverage in Coverage::ALL {
        let sql = format!(
            "INSERT INTO {} (maintenance_id, {}) VALUES ($1, $2)",
            coverage.link_table(),
            coverage.column()
        );
        for target in coverage.ids(f) {
            sqlx::query(sqlx::AssertSqlSafe(sql.clone()))
                .bind(id)
                .bind(*target)
                .execute(&mut *conn)
                .await?;
        }
    }
    Ok(())
}

/// Removes maintenance `id` and what it covers; false when there is none.
pub async fn delete(conn: &mut Conn, id: i64) -> Result<bool, sqlx::Error> {
    for coverage in Coverage::ALL {
        let sql = format!(
            "DELETE FROM {} WHERE maintenance_id = $1",
            coverage.link_table()
        );
        sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(id)
            .execute(&mut *conn)
            .await?;
    }
    let done = sqlx::query("DELETE FROM maintenances WHERE id = $1")
        .bind(id)
        .execute(&mut *conn)
        .await?;
    Ok(done.rows_affected() > 0)
}

/// Removes maintenance `id` in a transaction of its own; false when there is none.
pub async fn remove(store: &Store, id: i64) -> Result<bool, sqlx::Error> {
    let mut tx = store.write().await?;
    if !delete(&mut tx, id).await? {
        return Ok(false);
    }
    tx.commit().await?;
    Ok(true)
}

/// What a list of maintenances is narrowed to; every criterion given must hold.
#[derive(Debug, Clone, Default)]
pub struct Filter {
    /// In force at this instant (started, not resolved).
    pub in_force: Option<DateTime<Utc>>,
    pub status: Option<i64>,
    /// Covers this POP, network element or NAS directly.
    pub pop: Option<i64>,
    pub element: Option<i64>,
    pub nas: Option<i64>,
}

/// Maintenances matching `filter`, by id, `limit` of them from `offset`, and how many match
/// in all.
pub async fn page(
    conn: &mut Conn,
    filter: &Filter,
    offset: i64,
    limit: i64,
) -> Result<(Vec<Maintenance>, i64), sqlx::Error> {
    let mut conditions = Vec::new();
    let mut binds = Vec::new();
    if let Some(now) = filter.in_force {
        binds.push(Bind::Text(ts(now)));
        conditions.push(in_force_condition(binds.len()));
    }
    if let Some(status) = filter.status {
        binds.push(Bind::Int(status));
        conditions.push(format!("m.status = ${}", binds.len()));
    }
    for (coverage, id) in [
        (Coverage::Pops, filter.pop),
        (Coverage::Elements, filter.element),
        (Coverage::Nas, filter.nas),
    ] {
        if let Some(id) = id {
            binds.push(Bind::Int(id));
            conditions.push(format!(
                "EXISTS (SELECT 1 FROM {} f WHERE f.maintenance_id = m.id AND f.{} = ${})",
                coverage.link_table(),
                coverage.column(),
                binds.len()
            ));
        }
    }
    let condition = if conditions.is_empty() {
        String::new()
    } else {
        format!(" WHERE {}", conditions.join(" AND "))
    };
    let sql = format!("SELECT COUNT(*) FROM maintenances m{condition}");
    let (total,): (i64,) = bind_all(sqlx::query_as(sqlx::AssertSqlSafe(sql)), &binds)
        .fetch_one(&mut *conn)
        .await?;
    let n = binds.len();
    binds.push(Bind::Int(limit));
    binds.push(Bind::Int(offset));
    let clause = format!(
        " WHERE m.id IN (SELECT m.id FROM maintenances m{condition} ORDER BY m.id \
         LIMIT ${} OFFSET ${})",
        n + 1,
        n + 2
    );
    let list = read_where(conn, &clause, &binds).await?;
    Ok((list, total))
}

/// Why a write did not happen: a refused field, or the database.
#[derive(Debug)]
pub enum WriteError {
    Invalid(Invalid),
    Db(sqlx::Error),
}

impl From<Invalid> for WriteError {
    fn from(e: Invalid) -> Self {
        WriteError::Invalid(e)
    }
}

impl From<sqlx::Error> for WriteError {
    fn from(e: sqlx::Error) -> Self {
        WriteError::Db(e)
    }
}

/// Every id of every list given must name an existing POP, network element or NAS.
async fn check_coverage(conn: &mut Conn, changes: &Changes) -> Result<(), WriteError> {
    for coverage in Coverage::ALL {
        let Some(ids) = changes.ids(coverage) else {
            continue;
        };
        if let Some(id) = first_unknown(conn, coverage, ids).await? {
            return Err(Invalid::unknown(coverage, id).into());
        }
    }
    Ok(())
}

/// Reads one maintenance back after a write, in the same transaction.
async fn read_one(conn: &mut Conn, id: i64) -> Result<Maintenance, sqlx::Error> {
    read(conn, Which::One(id)).await?.pop().ok_or_else(|| {
        tracing::error!(id, "manutenção gravada não encontrada na releitura");
        sqlx::Error::RowNotFound
    })
}

/// Creates a maintenance from the defaults and `changes` (checked first: nothing is written
/// when a field is refused); answers it as stored.
pub async fn create(
    store: &Store,
    changes: &Changes,
    now: DateTime<Utc>,
) -> Result<Maintenance, WriteError> {
    let fields = changes.new_fields(now)?;
    let mut tx = store.write().await?;
    check_coverage(&mut tx, changes).await?;
    let id = insert(&mut tx, &fields, now).await?;
    let created = read_one(&mut tx, id).await?;
    tx.commit().await?;
    Ok(created)
}

/// Changes the given fields of maintenance `id` (under its lock, so that edits at once
/// merge); `None` when there is none. Nothing is written when a field is refused.
pub async fn change(
    store: &Store,
    id: i64,
    changes: &Changes,
    now: DateTime<Utc>,
) -> Result<Option<Maintenance>, WriteError> {
    let mut tx = store.write().await?;
    lock(&mut tx, id).await?;
    let Some(current) = read(&mut tx, Which::One(id)).await?.pop() else {
        return Ok(None);
    };
    let fields = changes.edited(current.fields)?;
    check_coverage(&mut tx, changes).await?;
    if !update(&mut tx, id, &fields, now).await? {
        return Ok(None);
    }
    let updated = read_one(&mut tx, id).await?;
    tx.commit().await?;
    Ok(Some(updated))
}
