//! Customers, contracts, their internet services and invoices, as the URA functions read them.

use crate::domain::states::{ContractStatus, InvoiceStatus};
use crate::store::Conn;
use chrono::NaiveDate;

use super::{Backend, Store};

/// A contract with its customer and POP.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct Contract {
    pub id: i64,
    pub customer_id: i64,
    pub customer_name: String,
    pub document: String,
    pub status: ContractStatus,
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

/// Locks the contract's row until the transaction ends, on PostgreSQL: two writers of one
/// contract (two unlocks at once, in any process) then decide one after the other. SQLite
/// writers take turns already.
pub async fn lock(conn: &mut Conn, id: i64) -> Result<(), sqlx::Error> {
    if conn.backend_name().eq_ignore_ascii_case("postgresql") {
        sqlx::query("SELECT id FROM contracts WHERE id = $1 FOR UPDATE")
            .bind(id)
            .execute(conn)
            .await?;
    }
    Ok(())
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
         WHERE contract_id = $1 AND status = $2",
    )
    .bind(contract_id)
    .bind(InvoiceStatus::Open)
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
         WHERE contract_id = $1 AND status = $2 ORDER BY due_on, id LIMIT $3",
    )
    .bind(contract_id)
    .bind(InvoiceStatus::Open)
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

/// `contacts` of a batch of customers, e-mails and mobiles: (customer, kind, value), each
/// customer's in their order.
pub async fn contacts_of(
    conn: &mut Conn,
    backend: Backend,
    customer_ids: &[i64],
) -> Result<Vec<(i64, String, String)>, sqlx::Error> {
    sqlx::query_as(super::over_json_rows!(
        backend,
        "SELECT customer_id, kind, value FROM customer_contacts \
         WHERE customer_id IN (SELECT CAST(r.value->>'id' AS BIGINT) FROM",
        ") AND kind IN ('email', 'mobile') AND TRIM(value) <> '' ORDER BY customer_id, id"
    ))
    .persistent(false)
    .bind(super::json_ids(customer_ids))
    .fetch_all(conn)
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

/// A contract as `consultacliente` shows it: with its open balance, this month's promises and
/// its first internet service (lowest id), read in one query.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct Summary {
    #[sqlx(flatten)]
    pub contract: Contract,
    pub open_cents: Option<i64>,
    pub open_count: i64,
    pub promised: i64,
    pub login: Option<String>,
    pub plan_name: Option<String>,
}

/// `$1`: the document or the contract id; `$2`: the local month, `YYYY-MM`; `$3`: the open
/// invoice status (`InvoiceStatus::Open`). A macro, so that each query's text is one literal
/// (`concat!`). SQLite's text finds the first service in its covering index (the `+` keeps
/// the planner from fetching the row by id instead); PostgreSQL's
/// (`summary_select!(lateral)`) reads the open invoices once for their sum and count, and
/// the first service through its index, where separate subqueries walked them again: the
/// same rows, fewer pages per answer.
macro_rules! summary_select {
    () => {
        "SELECT c.id, c.customer_id, cu.name AS customer_name, \
     cu.document, c.status, c.status_mode, c.pop_id, p.name AS pop_name, c.due_day, \
     (SELECT CAST(SUM(i.amount_cents) AS BIGINT) FROM invoices i \
       WHERE i.contract_id = c.id AND i.status = $3) AS open_cents, \
     (SELECT COUNT(*) FROM invoices i WHERE i.contract_id = c.id AND i.status = $3) \
       AS open_count, \
     (SELECT COUNT(*) FROM promises pr WHERE pr.contract_id = c.id AND pr.local_month = $2) \
       AS promised, \
     s.login AS login, pl.name AS plan_name \
     FROM contracts c JOIN customers cu ON cu.id = c.customer_id \
     LEFT JOIN pops p ON p.id = c.pop_id \
     LEFT JOIN internet_services s ON s.contract_id = c.id AND +s.id = \
       (SELECT MIN(s1.id) FROM internet_services s1 WHERE s1.contract_id = c.id) \
     LEFT JOIN plans pl ON pl.id = s.plan_id"
    };
    (lateral) => {
        "SELECT c.id, c.customer_id, cu.name AS customer_name, \
     cu.document, c.status, c.status_mode, c.pop_id, p.name AS pop_name, c.due_day, \
     o.open_cents, o.open_count, \
     (SELECT COUNT(*) FROM promises pr WHERE pr.contract_id = c.id AND pr.local_month = $2) \
       AS promised, \
     s.login AS login, pl.name AS plan_name \
     FROM contracts c JOIN customers cu ON cu.id = c.customer_id \
     LEFT JOIN pops p ON p.id = c.pop_id \
     CROSS JOIN LATERAL (SELECT CAST(SUM(i.amount_cents) AS BIGINT) AS open_cents, \
       COUNT(*) AS open_count FROM invoices i \
       WHERE i.contract_id = c.id AND i.status = $3) o \
     LEFT JOIN LATERAL (SELECT s1.login, s1.plan_id FROM internet_services s1 \
       WHERE s1.contract_id = c.id ORDER BY s1.id LIMIT 1) s ON TRUE \
     LEFT JOIN plans pl ON pl.id = s.plan_id"
    };
}

fn summary_from_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<Summary> {
    Ok(Summary {
        contract: Contract {
            id: r.get(0)?,
            customer_id: r.get(1)?,
            customer_name: r.get(2)?,
            document: r.get(3)?,
            status: r.get(4)?,
            status_mode: r.get(5)?,
            pop_id: r.get(6)?,
            pop_name: r.get(7)?,
            due_day: r.get(8)?,
        },
        open_cents: r.get(9)?,
        open_count: r.get(10)?,
        promised: r.get(11)?,
        login: r.get(12)?,
        plan_name: r.get(13)?,
    })
}

/// SQLite's text of `summaries_by_document`.
const SUMMARIES_BY_DOCUMENT: &str =
    concat!(summary_select!(), " WHERE cu.document = $1 ORDER BY c.id");

/// How SQLite runs `summaries_by_document` (`EXPLAIN QUERY PLAN`, one line per step), for
/// the test that keeps it on covering indexes; None on PostgreSQL, whose text differs.
pub async fn explain_summaries_by_document(
    store: &Store,
) -> Result<Option<Vec<String>>, sqlx::Error> {
    if store.backend == Backend::Postgres {
        return Ok(None);
    }
    // id, parent, notused, detail
    let rows: Vec<(i64, i64, i64, String)> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "EXPLAIN QUERY PLAN {SUMMARIES_BY_DOCUMENT}"
    )))
    .bind("52998224725")
    .bind("2026-01")
    .bind(InvoiceStatus::Open)
    .fetch_all(&store.pool)
    .await?;
    Ok(Some(rows.into_iter().map(|r| r.3).collect()))
}

/// Every contract of the customers holding this normalized document, by contract id.
pub async fn summaries_by_document(
    store: &Store,
    document: &str,
    month: &str,
) -> Result<Vec<Summary>, sqlx::Error> {
    let sql = SUMMARIES_BY_DOCUMENT;
    let postgres = concat!(
        summary_select!(lateral),
        " WHERE cu.document = $1 ORDER BY c.id"
    );
    if let Some(found) = store.local.as_ref().and_then(|local| {
        local.read(|conn| {
            let mut stmt = conn.prepare_cached(sql)?;
            let rows = stmt.query_map(
                rusqlite::named_params! { "$1": document, "$2": month, "$3": InvoiceStatus::Open },
                summary_from_row,
            )?;
            rows.collect::<rusqlite::Result<Vec<_>>>()
        })
    }) {
        return Ok(found);
    }
    sqlx::query_as(pick(store, sql, postgres))
        .bind(document)
        .bind(month)
        .bind(InvoiceStatus::Open)
        .fetch_all(&store.pool)
        .await
}

/// The query text of the store's backend.
fn pick(store: &Store, sqlite: &'static str, postgres: &'static str) -> &'static str {
    match store.backend {
        super::Backend::Postgres => postgres,
        super::Backend::Sqlite => sqlite,
    }
}

/// One contract, by id.
pub async fn summary_by_id(
    store: &Store,
    id: i64,
    month: &str,
) -> Result<Option<Summary>, sqlx::Error> {
    let sql = concat!(summary_select!(), " WHERE c.id = $1");
    let postgres = concat!(summary_select!(lateral), " WHERE c.id = $1");
    if let Some(found) = store.local.as_ref().and_then(|local| {
        local.read(|conn| {
            let mut stmt = conn.prepare_cached(sql)?;
            let mut rows = stmt.query_map(
                rusqlite::named_params! { "$1": id, "$2": month, "$3": InvoiceStatus::Open },
                summary_from_row,
            )?;
            rows.next().transpose()
        })
    }) {
        return Ok(found);
    }
    sqlx::query_as(pick(store, sql, postgres))
        .bind(id)
        .bind(month)
        .bind(InvoiceStatus::Open)
        .fetch_optional(&store.pool)
        .await
}

/// The logins of the contract's internet services with their NAS, to disconnect them.
pub async fn logins(
    store: &Store,
    contract_id: i64,
) -> Result<Vec<(String, Option<i64>)>, sqlx::Error> {
    sqlx::query_as(
        "SELECT login, CAST(nas_id AS BIGINT) FROM internet_services \
         WHERE contract_id = $1 ORDER BY id",
    )
    .bind(contract_id)
    .fetch_all(&store.pool)
    .await
}
