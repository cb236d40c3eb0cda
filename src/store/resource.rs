//! A resource of the admin API described as data: its table and fields (JSON name, column,
//! kind, whether required, writable, filterable). From that description come the checks of
//! what is written (every error names the field) and the SQL of list, read, create and
//! update, the same for every resource; what a resource does beyond that is a hook.

use chrono::NaiveDate;
use serde_json::{Map, Value, json};
use sqlx::Row;

use crate::domain::{document, money};
use crate::store::Conn;

/// How a field is written and shown.
#[derive(Debug, Clone, Copy)]
pub enum Kind {
    Text {
        max: usize,
    },
    Int {
        min: i64,
        max: i64,
    },
    /// Reais on the wire (`49.9` or `"49,90"`), centavos in the database.
    Money,
    /// `YYYY-MM-DD`.
    Date,
    /// `true`/`false` on the wire, 1/0 in the database.
    Bool,
    /// The id of a row of another table, which must exist.
    Ref {
        table: &'static str,
        label: &'static str,
    },
    /// One of (wire value, stored value).
    Enum(&'static [(&'static str, &'static str)]),
    /// A CPF or CNPJ: checked, stored normalized, shown formatted.
    Document,
    /// Written, never shown (passwords, secrets).
    Secret {
        max: usize,
    },
    /// A stored timestamp, shown as stored (UTC, RFC 3339).
    Timestamp,
}

#[derive(Debug, Clone, Copy)]
pub struct Field {
    pub json: &'static str,
    pub column: &'static str,
    pub kind: Kind,
    pub required: bool,
    pub writable: bool,
    pub filter: bool,
}

impl Field {
    pub const fn new(json: &'static str, column: &'static str, kind: Kind) -> Field {
        Field {
            json,
            column,
            kind,
            required: false,
            writable: true,
            filter: false,
        }
    }
    pub const fn required(mut self) -> Field {
        self.required = true;
        self
    }
    pub const fn read_only(mut self) -> Field {
        self.writable = false;
        self
    }
    pub const fn filter(mut self) -> Field {
        self.filter = true;
        self
    }
}

#[derive(Debug)]
pub struct Resource {
    /// The path segment: `/admin/api/v1/{path}`.
    pub path: &'static str,
    pub table: &'static str,
    /// How a row is named in messages ("cliente").
    pub label: &'static str,
    pub fields: &'static [Field],
    /// Whether rows can be created and updated (else read only).
    pub writable: bool,
}

/// A value ready to bind.
#[derive(Debug, Clone, PartialEq)]
pub enum Val {
    Null,
    Int(i64),
    Text(String),
}

/// Why a body was not written: a field's error (`campo: motivo`), or the database's.
#[derive(Debug)]
pub enum Problem {
    Invalid(String),
    Db(sqlx::Error),
}

impl From<sqlx::Error> for Problem {
    fn from(e: sqlx::Error) -> Self {
        Problem::Db(e)
    }
}

/// A field's error: `campo: motivo`.
pub fn field_error(field: &str, reason: impl std::fmt::Display) -> Problem {
    Problem::Invalid(format!("{field}: {reason}"))
}

/// Reads one field of the body into the value to store; checks references in `conn`.
pub async fn parse_value(conn: &mut Conn, f: &Field, v: &Value) -> Result<Val, Problem> {
    if v.is_null() {
        return if f.required {
            Err(field_error(f.json, "obrigatório."))
        } else {
            Ok(Val::Null)
        };
    }
    let err = |reason: &str| Err(field_error(f.json, reason));
    match f.kind {
        Kind::Text { max } | Kind::Secret { max } => match v.as_str().map(str::trim) {
            Some("") if f.required => err("obrigatório."),
            Some("") => Ok(Val::Null),
            Some(s) if s.chars().count() > max => err(&format!("até {max} caracteres.")),
            Some(s) if s.chars().any(|c| c.is_control() && c != '\n') => {
                err("caracteres de controle não são aceitos.")
            }
            Some(s) => Ok(Val::Text(s.to_string())),
            None => err("informe um texto."),
        },
        Kind::Int { min, max } => match integer(v) {
            Some(n) if (min..=max).contains(&n) => Ok(Val::Int(n)),
            Some(_) => err(&format!("de {min} a {max}.")),
            None => err("informe um número inteiro."),
        },
        Kind::Money => {
            let cents = match v {
                Value::Number(n) => n
                    .as_f64()
                    .filter(|x| x.is_finite() && *x >= 0.0 && *x < 1e12)
                    .map(|x| (x * 100.0).round() as i64)
                    .filter(|c| (*c as f64 - v.as_f64().unwrap_or(0.0) * 100.0).abs() < 0.01),
                Value::String(s) => money::parse_reais(s),
                _ => None,
            };
            match cents {
                Some(c) => Ok(Val::Int(c)),
                None => err("informe um valor em reais, não negativo, com até 2 casas decimais."),
            }
        }
        Kind::Date => match v.as_str().map(str::trim) {
            Some(s) if NaiveDate::parse_from_str(s, "%Y-%m-%d").is_ok() => {
                Ok(Val::Text(s.to_string()))
            }
            _ => err("use a data no formato AAAA-MM-DD."),
        },
        Kind::Bool => match v {
            Value::Bool(b) => Ok(Val::Int(i64::from(*b))),
            _ => err("use true ou false."),
        },
        Kind::Ref { table, label } => {
            let Some(id) = integer(v) else {
                return err("informe o id (número inteiro).");
            };
            let sql = format!("SELECT COUNT(*) FROM {table} WHERE id = $1");
            let n: i64 = sqlx::query_scalar(sqlx::AssertSqlSafe(sql))
                .bind(id)
                .fetch_one(&mut *conn)
                .await?;
            if n == 0 {
                return err(&format!("{label} {id} não existe."));
            }
            Ok(Val::Int(id))
        }
        Kind::Enum(options) => {
            let given = v.as_str().map(str::trim).unwrap_or("");
            match options.iter().find(|(wire, _)| *wire == given) {
                Some((_, stored)) => Ok(Val::Text(stored.to_string())),
                None => {
                    let names: Vec<&str> = options.iter().map(|(w, _)| *w).collect();
                    err(&format!("use um de: {}.", names.join(", ")))
                }
            }
        }
        Kind::Document => match v.as_str().and_then(document::parse) {
            Some(d) => Ok(Val::Text(d.as_str().to_string())),
            None => err("CPF ou CNPJ inválido (dígitos verificadores)."),
        },
        Kind::Timestamp => err("campo somente leitura."),
    }
}

fn integer(v: &Value) -> Option<i64> {
    match v {
        Value::Number(n) => n.as_i64(),
        Value::String(s) => s.trim().parse().ok(),
        _ => None,
    }
}

/// The fields of a body to write, checked: unknown and read-only fields are refused, and on
/// create every required field must be there.
pub async fn parse_body(
    conn: &mut Conn,
    resource: &Resource,
    body: &Map<String, Value>,
    creating: bool,
    extra: &[&str],
) -> Result<Vec<(&'static Field, Val)>, Problem> {
    for key in body.keys() {
        let known = resource.fields.iter().find(|f| f.json == key.as_str());
        match known {
            Some(f) if !(f.writable || (creating && f.json == "id")) => {
                return Err(field_error(key, "campo somente leitura."));
            }
            Some(_) => {}
            None if extra.contains(&key.as_str()) => {}
            None => return Err(field_error(key, "campo desconhecido.")),
        }
    }
    let mut values = Vec::new();
    for f in resource.fields {
        match body.get(f.json) {
            Some(v) if f.writable || (creating && f.json == "id") => {
                let val = parse_value(conn, f, v).await?;
                values.push((f, val));
            }
            None if creating && f.required => {
                return Err(field_error(f.json, "obrigatório."));
            }
            _ => {}
        }
    }
    Ok(values)
}

fn bind<'q>(
    q: sqlx::query::Query<'q, sqlx::Any, sqlx::any::AnyArguments>,
    f: &Field,
    v: &Val,
) -> sqlx::query::Query<'q, sqlx::Any, sqlx::any::AnyArguments> {
    // A NULL carries the column's type: PostgreSQL refuses a text NULL in a bigint column.
    let numeric = matches!(
        f.kind,
        Kind::Int { .. } | Kind::Ref { .. } | Kind::Money | Kind::Bool
    );
    match v {
        Val::Null if numeric => q.bind(None::<i64>),
        Val::Null => q.bind(None::<String>),
        Val::Int(n) => q.bind(*n),
        Val::Text(s) => q.bind(s.clone()),
    }
}

/// Inserts a row; returns its id.
pub async fn insert(
    conn: &mut Conn,
    resource: &Resource,
    values: &[(&'static Field, Val)],
    postgres: bool,
) -> Result<i64, sqlx::Error> {
    let columns: Vec<&str> = values.iter().map(|(f, _)| f.column).collect();
    let placeholders: Vec<String> = (1..=values.len()).map(|i| format!("${i}")).collect();
    let sql = if columns.is_empty() {
        format!("INSERT INTO {} DEFAULT VALUES RETURNING id", resource.table)
    } else {
        format!(
            "INSERT INTO {} ({}) VALUES ({}) RETURNING id",
            resource.table,
            columns.join(", "),
            placeholders.join(", ")
        )
    };
    let given_id = values.iter().any(|(f, _)| f.json == "id");
    if postgres && !given_id {
        // Rows written with the provider's own ids (imports, the demo) leave the identity
        // sequence behind: it is moved past the largest id first, under a lock, so that two
        // creations at once do not both take it back.
        let sql = format!(
            "SELECT pg_advisory_xact_lock(hashtext('ura_ids_{0}')), \
             setval(pg_get_serial_sequence('{0}', 'id'), \
             (SELECT COALESCE(MAX(id), 0) FROM {0}) + 1, false)",
            resource.table
        );
        sqlx::query(sqlx::AssertSqlSafe(sql))
            .execute(&mut *conn)
            .await?;
    }
    let mut q = sqlx::query(sqlx::AssertSqlSafe(sql));
    for (f, v) in values {
        q = bind(q, f, v);
    }
    let id: i64 = q.fetch_one(&mut *conn).await?.try_get(0)?;
    if postgres && given_id {
        // A provider's own id was given: the identity sequence must stay ahead of it.
        let sql = format!(
            "SELECT setval(pg_get_serial_sequence('{0}', 'id'), (SELECT MAX(id) FROM {0}))",
            resource.table
        );
        sqlx::query(sqlx::AssertSqlSafe(sql))
            .execute(&mut *conn)
            .await?;
    }
    Ok(id)
}

/// Updates the given fields of a row; false when there is no such row.
pub async fn update(
    conn: &mut Conn,
    resource: &Resource,
    id: i64,
    values: &[(&'static Field, Val)],
) -> Result<bool, sqlx::Error> {
    if values.is_empty() {
        return exists(conn, resource, id).await;
    }
    let sets: Vec<String> = values
        .iter()
        .enumerate()
        .map(|(i, (f, _))| format!("{} = ${}", f.column, i + 1))
        .collect();
    let sql = format!(
        "UPDATE {} SET {} WHERE id = ${}",
        resource.table,
        sets.join(", "),
        values.len() + 1
    );
    let mut q = sqlx::query(sqlx::AssertSqlSafe(sql));
    for (f, v) in values {
        q = bind(q, f, v);
    }
    Ok(q.bind(id).execute(&mut *conn).await?.rows_affected() > 0)
}

pub async fn exists(conn: &mut Conn, resource: &Resource, id: i64) -> Result<bool, sqlx::Error> {
    let sql = format!("SELECT COUNT(*) FROM {} WHERE id = $1", resource.table);
    let n: i64 = sqlx::query_scalar(sqlx::AssertSqlSafe(sql))
        .bind(id)
        .fetch_one(&mut *conn)
        .await?;
    Ok(n > 0)
}

fn select_list(resource: &Resource) -> String {
    resource
        .fields
        .iter()
        .map(|f| f.column)
        .collect::<Vec<_>>()
        .join(", ")
}

/// A row as JSON, by the resource's fields (secrets left out).
fn to_json(
    resource: &Resource,
    row: &sqlx::any::AnyRow,
) -> Result<Map<String, Value>, sqlx::Error> {
    let mut map = Map::new();
    for (i, f) in resource.fields.iter().enumerate() {
        let value = match f.kind {
            Kind::Secret { .. } => continue,
            Kind::Int { .. } | Kind::Ref { .. } => {
                json!(row.try_get::<Option<i64>, _>(i)?)
            }
            Kind::Bool => match row.try_get::<Option<i64>, _>(i)? {
                Some(n) => json!(n != 0),
                None => Value::Null,
            },
            Kind::Money => match row.try_get::<Option<i64>, _>(i)? {
                Some(c) => money::reais(c),
                None => Value::Null,
            },
            Kind::Enum(options) => match row.try_get::<Option<String>, _>(i)? {
                Some(stored) => json!(
                    options
                        .iter()
                        .find(|(_, s)| *s == stored)
                        .map(|(w, _)| *w)
                        .unwrap_or(stored.as_str())
                ),
                None => Value::Null,
            },
            Kind::Document => match row.try_get::<Option<String>, _>(i)? {
                Some(d) => json!(document::format_str(&d)),
                None => Value::Null,
            },
            Kind::Text { .. } | Kind::Date | Kind::Timestamp => {
                json!(row.try_get::<Option<String>, _>(i)?)
            }
        };
        map.insert(f.json.to_string(), value);
    }
    Ok(map)
}

pub async fn get(
    conn: &mut Conn,
    resource: &Resource,
    id: i64,
) -> Result<Option<Map<String, Value>>, sqlx::Error> {
    let sql = format!(
        "SELECT {} FROM {} WHERE id = $1",
        select_list(resource),
        resource.table
    );
    let row = sqlx::query(sqlx::AssertSqlSafe(sql))
        .bind(id)
        .fetch_optional(&mut *conn)
        .await?;
    row.map(|r| to_json(resource, &r)).transpose()
}

/// A filter of a list: the field and the value to match, checked like a written value.
pub type Filters = Vec<(&'static Field, Val)>;

/// Rows matching every filter, by id, and how many match in all.
pub async fn list(
    conn: &mut Conn,
    resource: &Resource,
    filters: &Filters,
    offset: i64,
    limit: i64,
) -> Result<(Vec<Map<String, Value>>, i64), sqlx::Error> {
    let conditions: Vec<String> = filters
        .iter()
        .enumerate()
        .map(|(i, (f, _))| format!("{} = ${}", f.column, i + 1))
        .collect();
    let clause = if conditions.is_empty() {
        String::new()
    } else {
        format!("WHERE {}", conditions.join(" AND "))
    };
    let n = filters.len();
    let sql = format!(
        "SELECT {} FROM {} {clause} ORDER BY id LIMIT ${} OFFSET ${}",
        select_list(resource),
        resource.table,
        n + 1,
        n + 2
    );
    let mut q = sqlx::query(sqlx::AssertSqlSafe(sql));
    for (f, v) in filters {
        q = bind(q, f, v);
    }
    let rows = q.bind(limit).bind(offset).fetch_all(&mut *conn).await?;
    let sql = format!("SELECT COUNT(*) FROM {} {clause}", resource.table);
    let mut q = sqlx::query(sqlx::AssertSqlSafe(sql));
    for (f, v) in filters {
        q = bind(q, f, v);
    }
    let total: i64 = q.fetch_one(&mut *conn).await?.try_get(0)?;
    let list = rows
        .iter()
        .map(|r| to_json(resource, r))
        .collect::<Result<Vec<_>, _>>()?;
    Ok((list, total))
}
