//! Customers as `clientes` searches them: by document, by contract, by a prefix of the
//! folded name (`customers.name_folded`, see `domain::name_fold`), each through an index.

use sqlx::Any;
use sqlx::any::AnyArguments;

use super::Store;
use crate::domain::name_fold;
use crate::domain::states::ContractStatus;

/// What to search; every given criterion must hold. None given: every customer.
#[derive(Debug, Clone, Default)]
pub struct Filter {
    /// The normalized document (`domain::document`).
    pub document: Option<String>,
    /// The customer owning this contract.
    pub contract_id: Option<i64>,
    /// A prefix of the name as typed; it is folded here.
    pub name_prefix: Option<String>,
}

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct Customer {
    pub id: i64,
    pub name: String,
    pub document: String,
}

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct ContractLine {
    pub id: i64,
    pub customer_id: i64,
    pub status: ContractStatus,
}

enum Bind {
    Int(i64),
    Text(String),
}

/// The `WHERE` clause of a filter and its values, numbered from `$1`.
fn conditions(filter: &Filter) -> (String, Vec<Bind>) {
    let mut clauses = Vec::new();
    let mut binds = Vec::new();
    if let Some(document) = &filter.document {
        binds.push(Bind::Text(document.clone()));
        clauses.push(format!("cu.document = ${}", binds.len()));
    }
    if let Some(id) = filter.contract_id {
        binds.push(Bind::Int(id));
        clauses.push(format!(
            "cu.id = (SELECT customer_id FROM contracts WHERE id = ${})",
            binds.len()
        ));
    }
    if let Some(prefix) = &filter.name_prefix {
        let folded = name_fold::fold(prefix);
        // A range over the index on the folded name: both SQLite (BINARY) and PostgreSQL
        // (the column's "C" collation) compare it in code point order.
        if let Some(upper) = name_fold::prefix_upper_bound(&folded) {
            binds.push(Bind::Text(folded));
            binds.push(Bind::Text(upper));
            clauses.push(format!(
                "cu.name_folded >= ${} AND cu.name_folded < ${}",
                binds.len() - 1,
                binds.len()
            ));
        } else {
            binds.push(Bind::Text(folded));
            clauses.push(format!("cu.name_folded >= ${}", binds.len()));
        }
    }
    if clauses.is_empty() {
        (String::new(), binds)
    } else {
        (format!(" WHERE {}", clauses.join(" AND ")), binds)
    }
}

fn bind_all<'q, O>(
    mut query: sqlx::query::QueryAs<'q, Any, O, AnyArguments>,
    binds: &[Bind],
) -> sqlx::query::QueryAs<'q, Any, O, AnyArguments> {
    for b in binds {
        query = match b {
            Bind::Int(v) => query.bind(*v),
            Bind::Text(v) => query.bind(v.clone()),
        };
    }
    query
}

/// Runs a query on the request's thread (SQLite, see `local_reads`), or else through the pool.
async fn fetch_all<O>(
    store: &Store,
    sql: String,
    binds: &[Bind],
    from_row: fn(&rusqlite::Row<'_>) -> rusqlite::Result<O>,
) -> Result<Vec<O>, sqlx::Error>
where
    O: for<'r> sqlx::FromRow<'r, sqlx::any::AnyRow> + Send + Unpin,
{
    let local = store.local.as_ref().and_then(|local| {
        local.read(|conn| {
            let values = binds.iter().map(|b| match b {
                Bind::Int(v) => rusqlite::types::Value::Integer(*v),
                Bind::Text(v) => rusqlite::types::Value::Text(v.clone()),
            });
            // `$n` are numbered in the order they appear, so they bind by position.
            let mut stmt = conn.prepare_cached(&sql)?;
            let rows = stmt.query_map(rusqlite::params_from_iter(values), from_row)?;
            rows.collect::<rusqlite::Result<Vec<O>>>()
        })
    });
    match local {
        Some(rows) => Ok(rows),
        None => {
            bind_all(sqlx::query_as(sqlx::AssertSqlSafe(sql)), binds)
                .fetch_all(&store.pool)
                .await
        }
    }
}

fn page_sql(filter: &Filter) -> (String, Vec<Bind>) {
    let (clause, mut binds) = conditions(filter);
    let n = binds.len();
    let sql = format!(
        "SELECT cu.id, cu.name, cu.document FROM customers cu{clause} \
         ORDER BY cu.id LIMIT ${} OFFSET ${}",
        n + 1,
        n + 2
    );
    binds.push(Bind::Int(0));
    binds.push(Bind::Int(0));
    (sql, binds)
}

fn with_paging(mut binds: Vec<Bind>, offset: i64, limit: i64) -> Vec<Bind> {
    let n = binds.len();
    binds[n - 2] = Bind::Int(limit);
    binds[n - 1] = Bind::Int(offset);
    binds
}

/// One page of the customers matching `filter`, by id, and how many match in all.
pub async fn page(
    store: &Store,
    filter: &Filter,
    offset: i64,
    limit: i64,
) -> Result<(Vec<Customer>, i64), sqlx::Error> {
    let (clause, binds) = conditions(filter);
    let count_sql = format!("SELECT COUNT(*) FROM customers cu{clause}");
    let counted: Vec<(i64,)> = fetch_all(store, count_sql, &binds, |r| Ok((r.get(0)?,))).await?;
    let total = counted.first().map_or(0, |c| c.0);
    if total <= offset {
        return Ok((Vec::new(), total));
    }
    let (sql, binds) = page_sql(filter);
    let binds = with_paging(binds, offset, limit);
    let rows = fetch_all(store, sql, &binds, |r| {
        Ok(Customer {
            id: r.get(0)?,
            name: r.get(1)?,
            document: r.get(2)?,
        })
    })
    .await?;
    Ok((rows, total))
}

/// The contracts of these customers, by customer then contract id.
pub async fn contracts_of(
    store: &Store,
    customer_ids: &[i64],
) -> Result<Vec<ContractLine>, sqlx::Error> {
    if customer_ids.is_empty() {
        return Ok(Vec::new());
    }
    let placeholders: Vec<String> = (1..=customer_ids.len()).map(|i| format!("${i}")).collect();
    let sql = format!(
        "SELECT id, customer_id, status FROM contracts WHERE customer_id IN ({}) \
         ORDER BY customer_id, id",
        placeholders.join(", ")
    );
    let binds: Vec<Bind> = customer_ids.iter().map(|id| Bind::Int(*id)).collect();
    fetch_all(store, sql, &binds, |r| {
        Ok(ContractLine {
            id: r.get(0)?,
            customer_id: r.get(1)?,
            status: r.get(2)?,
        })
    })
    .await
}

/// The database's plan for the page query (tests check that searches use an index).
#[doc(hidden)]
pub async fn explain_page(
    store: &Store,
    filter: &Filter,
    offset: i64,
    limit: i64,
) -> Result<Vec<String>, sqlx::Error> {
    let (sql, binds) = page_sql(filter);
    let binds = with_paging(binds, offset, limit);
    match store.backend {
        super::Backend::Sqlite => {
            // id, parent, notused, detail
            let rows: Vec<(i64, i64, i64, String)> = bind_all(
                sqlx::query_as(sqlx::AssertSqlSafe(format!("EXPLAIN QUERY PLAN {sql}"))),
                &binds,
            )
            .fetch_all(&store.pool)
            .await?;
            Ok(rows.into_iter().map(|r| r.3).collect())
        }
        super::Backend::Postgres => {
            let rows: Vec<(String,)> = bind_all(
                sqlx::query_as(sqlx::AssertSqlSafe(format!("EXPLAIN {sql}"))),
                &binds,
            )
            .fetch_all(&store.pool)
            .await?;
            Ok(rows.into_iter().map(|r| r.0).collect())
        }
    }
}
