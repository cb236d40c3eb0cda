//! Customers, contracts, their internet services and invoices, as the URA functions read them.

use crate::store::Conn;
use chrono::NaiveDate;

use super::Store;

/// A contract with its customer and POP.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct Contract {
    pub id: i64,
    pub customer_id: i64,
    pub customer_name: String,
    pub document: String,
    pub status: i64,
    pub status_mode: i64,
    pub pop_id: Option<i64>,
    pub pop_name: Option<String>,
    pub due_day: i64,
}

const CONTRACT_SELECT: &str = "SELECT c.id, c.customer_id, cu.name AS customer_name, \
     cu.document, c.status, c.status_mode, c.pop_id, p.name AS pop_name, c.due_day \
     FROM contracts c JOIN customers cu ON cu.id = c.customer_id \
     LEFT JOIN pops p ON p.id = c.pop_id";

pub async fn by_id(conn: &mut Conn, id: i64) -> Result<Option<Contract>, sqlx::Error> {
    sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "{CONTRACT_SELECT} WHERE c.id = $1"
    )))
    .bind(id)
    .fetch_optional(conn)
    .await
}

/// Every contract of every customer holding this normalized document, by contract id.
pub async fn by_document(store: &Store, document: &str) -> Result<Vec<Contract>, sqlx::Error> {
    sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "{CONTRACT_SELECT} WHERE cu.document = $1 ORDER BY c.id"
    )))
    .bind(document)
    .fetch_all(&store.pool)
    .await
}

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct Service {
    pub id: i64,
    pub login: String,
    pub plan_name: Option<String>,
    pub nas_id: Option<i64>,
    pub element_id: Option<i64>,
    pub enabled: i64,
}

/// The contract's internet services, lowest id first.
pub async fn services(conn: &mut Conn, contract_id: i64) -> Result<Vec<Service>, sqlx::Error> {
    sqlx::query_as(
        "SELECT s.id, s.login, pl.name AS plan_name, s.nas_id, s.element_id, s.enabled \
         FROM internet_services s LEFT JOIN plans pl ON pl.id = s.plan_id \
         WHERE s.contract_id = $1 ORDER BY s.id",
    )
    .bind(contract_id)
    .fetch_all(conn)
    .await
}

/// Sum and count of the open invoices, and the oldest open due date.
#[derive(Debug, Clone, Default)]
pub struct OpenBalance {
    pub cents: i64,
    pub count: i64,
    pub oldest_due: Option<NaiveDate>,
}

pub async fn open_balance(conn: &mut Conn, contract_id: i64) -> Result<OpenBalance, sqlx::Error> {
    let (cents, count, oldest): (Option<i64>, i64, Option<String>) = sqlx::query_as(
        "SELECT CAST(SUM(amount_cents) AS BIGINT), COUNT(*), MIN(due_on) FROM invoices \
         WHERE contract_id = $1 AND status = 'open'",
    )
    .bind(contract_id)
    .fetch_one(conn)
    .await?;
    Ok(OpenBalance {
        cents: cents.unwrap_or(0),
        count,
        oldest_due: oldest.and_then(|d| NaiveDate::parse_from_str(&d, "%Y-%m-%d").ok()),
    })
}

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct Invoice {
    pub id: i64,
    pub amount_cents: i64,
    pub due_on: String,
    pub digitable_line: Option<String>,
    pub pix_payload: Option<String>,
}

/// Open invoices, oldest due date first.
pub async fn open_invoices(
    store: &Store,
    contract_id: i64,
    limit: i64,
) -> Result<Vec<Invoice>, sqlx::Error> {
    sqlx::query_as(
        "SELECT id, amount_cents, due_on, digitable_line, pix_payload FROM invoices \
         WHERE contract_id = $1 AND status = 'open' ORDER BY due_on, id LIMIT $2",
    )
    .bind(contract_id)
    .bind(limit)
    .fetch_all(&store.pool)
    .await
}

/// The customer's contacts of one kind (`email`, `mobile`), in the order they were added.
pub async fn contacts(
    store: &Store,
    customer_id: i64,
    kind: &str,
) -> Result<Vec<String>, sqlx::Error> {
    sqlx::query_scalar(
        "SELECT value FROM customer_contacts WHERE customer_id = $1 AND kind = $2 \
         AND TRIM(value) <> '' ORDER BY id",
    )
    .bind(customer_id)
    .bind(kind)
    .fetch_all(&store.pool)
    .await
}

/// Whether the NAS is known to be unreachable.
pub async fn nas_unreachable(store: &Store, nas_id: i64) -> Result<bool, sqlx::Error> {
    let reachable: Option<i64> = sqlx::query_scalar("SELECT reachable FROM nas WHERE id = $1")
        .bind(nas_id)
        .fetch_optional(&store.pool)
        .await?;
    Ok(reachable == Some(0))
}
