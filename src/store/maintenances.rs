//! Maintenance windows and what they cover: what `verificaacesso` asks, and what the URA's
//! `manutencao/*` routes and the admin API's `manutencoes` read and write. Both writers share
//! the checks of a maintenance's fields, the transactions that write it and its JSON shape;
//! each words a refused field in its own error format.

use chrono::{DateTime, Utc};
use chrono_tz::Tz;
use serde_json::{Value, json};

use super::{Conn, Store, parse_ts, ts};
use crate::domain::local_time;

#[derive(Debug, Clone)]
pub struct InForce {
    pub id: i64,
    pub ivr_message: Option<String>,
    pub expected_end: Option<DateTime<Utc>>,
    /// Covers through the NAS (as opposed to the POP or a network element).
    pub via_nas: bool,
}

/// Maintenances in force now (started, not resolved) covering the POP, the element or the NAS.
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

/// A maintenance as `manutencao/*` reads and writes it. Times are stored text (`ts`).
#[derive(Debug, Clone)]
pub struct Maintenance {
    pub id: i64,
    pub fields: Fields,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Fields {
    pub description: String,
    pub ivr_message: Option<String>,
    pub severity: i64,
    pub status: i64,
    pub starts_at: DateTime<Utc>,
    pub expected_end: Option<DateTime<Utc>>,
    pub pops: Vec<i64>,
    pub elements: Vec<i64>,
    pub nas: Vec<i64>,
}

/// What a maintenance covers: link table, its column, and the table the ids refer to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Coverage {
    Pops,
    Elements,
    Nas,
}

impl Coverage {
    pub const ALL: [Coverage; 3] = [Coverage::Pops, Coverage::Elements, Coverage::Nas];

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

    fn ids(self, fields: &Fields) -> &[i64] {
        match self {
            Coverage::Pops => &fields.pops,
            Coverage::Elements => &fields.elements,
            Coverage::Nas => &fields.nas,
        }
    }

    fn ids_mut(self, fields: &mut Fields) -> &mut Vec<i64> {
        match self {
            Coverage::Pops => &mut fields.pops,
            Coverage::Elements => &mut fields.elements,
            Coverage::Nas => &mut fields.nas,
        }
    }

    /// The list's name on the wire.
    pub fn wire_name(self) -> &'static str {
        match self {
            Coverage::Pops => "pops",
            Coverage::Elements => "elementos",
            Coverage::Nas => "nas",
        }
    }

    /// How a row it refers to is named in messages.
    pub fn label(self) -> &'static str {
        match self {
            Coverage::Pops => "POP",
            Coverage::Elements => "elemento de rede",
            Coverage::Nas => "NAS",
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
    format!("m.starts_at <= ${n} AND m.resolved_at IS NULL AND m.status <> 4")
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

/// `resolved_at` follows the status: set when it becomes 4 (kept if it already was),
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

/// The wire shape, the same for the URA and the admin API: dates local, `data_final` null
/// when unknown, `mensagem_ura` `""` when none was set (the IVR then says the default
/// message).
pub fn to_json(m: &Maintenance, tz: Tz) -> Value {
    let f = &m.fields;
    json!({
        "id": m.id,
        "descricao": f.description,
        "mensagem_ura": f.ivr_message.clone().unwrap_or_default(),
        "severidade": f.severity,
        "status": f.status,
        "data_inicial": local_time::format(f.starts_at, tz),
        "data_final": f.expected_end.map(|t| local_time::format(t, tz)),
        "pops": f.pops,
        "elementos": f.elements,
        "nas": f.nas,
    })
}

/// The fields a caller may write, by their wire names, in the order of the shape.
pub const WRITABLE: [&str; 9] = [
    "descricao",
    "mensagem_ura",
    "severidade",
    "status",
    "data_inicial",
    "data_final",
    "pops",
    "elementos",
    "nas",
];

/// Why a field was refused; each caller words it in its own error format.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Reason {
    Required,
    /// What is wrong with the value (`use um número de 0 a 4.`).
    Bad(&'static str),
    /// An id of a list that names no POP, network element or NAS.
    Unknown {
        what: &'static str,
        id: i64,
    },
}

/// A refused field, by its wire name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Invalid {
    pub field: &'static str,
    pub reason: Reason,
}

fn bad(field: &'static str, why: &'static str) -> Invalid {
    Invalid {
        field,
        reason: Reason::Bad(why),
    }
}

const NOT_INTEGER: &str = "informe um número inteiro.";
const NOT_LEVEL: &str = "use um número de 0 a 4.";
const NOT_DATE_TIME: &str = "use o formato AAAA-MM-DD HH:MM:SS.";
const NOT_ID_LIST: &str = "informe uma lista de números inteiros.";

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

/// What the caller gave; absent fields keep their value (a change) or default (a new one).
#[derive(Debug, Default)]
pub struct Changes {
    pub description: Option<String>,
    /// `Some(None)`: the message cleared (the IVR says the default one).
    pub ivr_message: Option<Option<String>>,
    pub severity: Option<i64>,
    pub status: Option<i64>,
    pub starts_at: Option<DateTime<Utc>>,
    /// `Some(None)`: the expected end made unknown again (`indefinido`).
    pub expected_end: Option<Option<DateTime<Utc>>>,
    pub pops: Option<Vec<i64>>,
    pub elements: Option<Vec<i64>>,
    pub nas: Option<Vec<i64>>,
}

/// A text: `None` absent, `Some(None)` null or blank, else trimmed.
fn text(field: &'static str, v: Option<Value>) -> Result<Option<Option<String>>, Invalid> {
    match v {
        None => Ok(None),
        Some(Value::Null) => Ok(Some(None)),
        Some(Value::String(s)) => {
            let s = s.trim();
            Ok(Some((!s.is_empty()).then(|| s.to_string())))
        }
        Some(_) => Err(bad(field, "informe um texto.")),
    }
}

/// 0 to 4 (`severidade` and `status` share the range); a JSON number or its text.
pub fn level(field: &'static str, v: &Value) -> Result<i64, Invalid> {
    let n = match v {
        Value::Number(n) => n.as_i64(),
        Value::String(s) => s.trim().parse::<i64>().ok(),
        _ => None,
    };
    match n {
        None => Err(bad(field, NOT_INTEGER)),
        Some(n) if !(0..=4).contains(&n) => Err(bad(field, NOT_LEVEL)),
        Some(n) => Ok(n),
    }
}

fn date_time(field: &'static str, v: &Value, tz: Tz) -> Result<DateTime<Utc>, Invalid> {
    v.as_str()
        .and_then(|text| local_time::parse(text, tz))
        .ok_or_else(|| bad(field, NOT_DATE_TIME))
}

/// `[2,3]` (a JSON array, also of strings, or its text), `2,3`, `2 3` or `2`; `[]` (or
/// null) is an empty list. Repeated ids count once.
fn id_list(field: &'static str, v: Value) -> Result<Vec<i64>, Invalid> {
    let invalid = || bad(field, NOT_ID_LIST);
    let item = |v: &Value| match v {
        Value::Number(n) => n.as_i64(),
        Value::String(s) => s.trim().parse().ok(),
        _ => None,
    };
    let items: Vec<i64> = match v {
        Value::Null => Vec::new(),
        Value::Array(values) => values
            .iter()
            .map(item)
            .collect::<Option<_>>()
            .ok_or_else(invalid)?,
        Value::String(text) => {
            let text = text.trim();
            if text.starts_with('[') {
                let values: Vec<Value> = serde_json::from_str(text).map_err(|_| invalid())?;
                values
                    .iter()
                    .map(item)
                    .collect::<Option<_>>()
                    .ok_or_else(invalid)?
            } else {
                text.split(|c: char| c == ',' || c == ';' || c.is_whitespace())
                    .filter(|s| !s.is_empty())
                    .map(|s| s.parse::<i64>().ok())
                    .collect::<Option<_>>()
                    .ok_or_else(invalid)?
            }
        }
        _ => return Err(invalid()),
    };
    let mut unique = Vec::with_capacity(items.len());
    for id in items {
        if !unique.contains(&id) {
            unique.push(id);
        }
    }
    Ok(unique)
}

impl Changes {
    /// Reads every field through `get` (by wire name; `None` when not given), in the order
    /// of the shape; the first bad one is the answer. A new maintenance needs `descricao`.
    pub fn read(
        get: impl Fn(&str) -> Option<Value>,
        tz: Tz,
        new: bool,
    ) -> Result<Changes, Invalid> {
        let required = Invalid {
            field: "descricao",
            reason: Reason::Required,
        };
        let description = match text("descricao", get("descricao"))? {
            None if new => return Err(required),
            Some(None) => return Err(required),
            given => given.flatten(),
        };
        let ivr_message = text("mensagem_ura", get("mensagem_ura"))?;
        let severity = get("severidade")
            .map(|v| level("severidade", &v))
            .transpose()?;
        let status = get("status").map(|v| level("status", &v)).transpose()?;
        let starts_at = get("data_inicial")
            .map(|v| date_time("data_inicial", &v, tz))
            .transpose()?;
        let expected_end = match get("data_final") {
            None => None,
            Some(Value::Null) => Some(None),
            Some(Value::String(s))
                if s.trim().is_empty()
                    || s.trim().eq_ignore_ascii_case("indefinido")
                    || s.trim().eq_ignore_ascii_case("null") =>
            {
                Some(None)
            }
            Some(v) => Some(Some(date_time("data_final", &v, tz)?)),
        };
        let list = |coverage: Coverage| {
            let name = coverage.wire_name();
            get(name).map(|v| id_list(name, v)).transpose()
        };
        Ok(Changes {
            description,
            ivr_message,
            severity,
            status,
            starts_at,
            expected_end,
            pops: list(Coverage::Pops)?,
            elements: list(Coverage::Elements)?,
            nas: list(Coverage::Nas)?,
        })
    }

    /// The ids given for one coverage, if given.
    pub fn ids(&self, coverage: Coverage) -> Option<&[i64]> {
        match coverage {
            Coverage::Pops => self.pops.as_deref(),
            Coverage::Elements => self.elements.as_deref(),
            Coverage::Nas => self.nas.as_deref(),
        }
    }

    /// `base` with the given fields changed.
    pub fn apply_to(&self, base: Fields) -> Fields {
        let Fields {
            description,
            ivr_message,
            severity,
            status,
            starts_at,
            expected_end,
            pops,
            elements,
            nas,
        } = base;
        Fields {
            description: self.description.clone().unwrap_or(description),
            ivr_message: self.ivr_message.clone().unwrap_or(ivr_message),
            severity: self.severity.unwrap_or(severity),
            status: self.status.unwrap_or(status),
            starts_at: self.starts_at.unwrap_or(starts_at),
            expected_end: self.expected_end.unwrap_or(expected_end),
            pops: self.pops.clone().unwrap_or(pops),
            elements: self.elements.clone().unwrap_or(elements),
            nas: self.nas.clone().unwrap_or(nas),
        }
    }

    /// The expected end may not come before the start; the field blamed is the one given.
    pub fn check_period(&self, fields: &Fields) -> Result<(), Invalid> {
        match fields.expected_end {
            Some(end) if end < fields.starts_at => {
                if self.expected_end.is_some() || self.starts_at.is_none() {
                    Err(bad("data_final", "não pode ser anterior a data_inicial."))
                } else {
                    Err(bad("data_inicial", "não pode ser posterior a data_final."))
                }
            }
            _ => Ok(()),
        }
    }

    /// Every id of every list given must name an existing POP, network element or NAS.
    async fn check_coverage(&self, conn: &mut Conn) -> Result<(), WriteError> {
        for coverage in Coverage::ALL {
            let Some(ids) = self.ids(coverage) else {
                continue;
            };
            if let Some(id) = first_unknown(conn, coverage, ids).await? {
                return Err(WriteError::Invalid(Invalid {
                    field: coverage.wire_name(),
                    reason: Reason::Unknown {
                        what: coverage.label(),
                        id,
                    },
                }));
            }
        }
        Ok(())
    }
}

/// What a new maintenance starts from: severity 4 (indisponibilidade total), status 1
/// (investigando), starting `now`, end unknown, covering nothing.
pub fn defaults(now: DateTime<Utc>) -> Fields {
    Fields {
        description: String::new(),
        ivr_message: None,
        severity: 4,
        status: 1,
        starts_at: now,
        expected_end: None,
        pops: Vec::new(),
        elements: Vec::new(),
        nas: Vec::new(),
    }
}

/// `ativas`: 1 (or `true`) for those in force only, 0 (or `false`) for all.
pub fn only_in_force(given: Option<&str>) -> Result<bool, Invalid> {
    match given.map(|v| v.trim().to_ascii_lowercase()) {
        None => Ok(false),
        Some(v) if v == "1" || v == "true" => Ok(true),
        Some(v) if v == "0" || v == "false" => Ok(false),
        Some(_) => Err(bad("ativas", "use 0 ou 1.")),
    }
}

/// Whole seconds: what the wire shows is what is stored.
fn whole_seconds(t: DateTime<Utc>) -> DateTime<Utc> {
    DateTime::from_timestamp(t.timestamp(), 0).unwrap_or(t)
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
    let fields = changes.apply_to(defaults(whole_seconds(now)));
    changes.check_period(&fields)?;
    let mut tx = store.write().await?;
    changes.check_coverage(&mut tx).await?;
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
    let fields = changes.apply_to(current.fields);
    changes.check_period(&fields)?;
    changes.check_coverage(&mut tx).await?;
    if !update(&mut tx, id, &fields, now).await? {
        return Ok(None);
    }
    let updated = read_one(&mut tx, id).await?;
    tx.commit().await?;
    Ok(Some(updated))
}
