//! What `ura import` reads and writes. A batch is read with one `IN (...)` and written with
//! one multi-row `INSERT ... ON CONFLICT` per chunk, instead of one statement per line. The
//! records are in stored form: `import/` checks the file's lines into them and compares them
//! with what these reads return.

use std::collections::{HashMap, HashSet};

use sqlx::any::AnyRow;
use sqlx::{Any, AssertSqlSafe};

use super::{Backend, Conn, Store};
use crate::domain::cnab::our_number;

/// Rows per statement: well under SQLite's and PostgreSQL's limits on parameters.
pub const ROWS_PER_STATEMENT: usize = 500;

/// `$from, $from+1, ...` (n placeholders).
pub(super) fn params(from: usize, n: usize) -> String {
    (from..from + n)
        .map(|i| format!("${i}"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// `($1, $2), ($3, $4)`: `rows` tuples of `cols` placeholders, for a statement whose only
/// parameters they are. SQLite gets anonymous `?` (bound in order): sqlx looks each numbered
/// one up by name, which walks the list of names, a cost that grows with the square of their
/// count (BENCHMARKS.md, "The generator": most of a 10,000-line return file's import went
/// there).
pub(super) fn tuples(conn: &Conn, rows: usize, cols: usize) -> String {
    tuples_for(
        conn.backend_name().eq_ignore_ascii_case("sqlite"),
        rows,
        cols,
    )
}

fn tuples_for(sqlite: bool, rows: usize, cols: usize) -> String {
    if sqlite {
        let one = format!("({})", vec!["?"; cols].join(", "));
        return vec![one; rows].join(", ");
    }
    (0..rows)
        .map(|r| format!("({})", params(1 + r * cols, cols)))
        .collect::<Vec<_>>()
        .join(", ")
}

/// Runs `select` (whose `{in}` is replaced by the placeholders) for the keys, in chunks.
pub(super) async fn fetch_in<T, K>(
    conn: &mut Conn,
    select: &str,
    keys: &[K],
) -> Result<Vec<T>, sqlx::Error>
where
    T: for<'r> sqlx::FromRow<'r, AnyRow> + Send + Unpin,
    K: for<'q> sqlx::Encode<'q, Any> + sqlx::Type<Any> + Clone + Send + Sync + 'static,
{
    let mut out = Vec::new();
    for chunk in keys.chunks(ROWS_PER_STATEMENT) {
        let sql = select.replace("{in}", &params(1, chunk.len()));
        let mut query = sqlx::query_as::<_, T>(AssertSqlSafe(sql));
        for key in chunk {
            query = query.bind(key.clone());
        }
        out.extend(query.fetch_all(&mut *conn).await?);
    }
    Ok(out)
}

/// The keys sorted, each once.
fn unique<K: Ord + Clone>(keys: impl IntoIterator<Item = K>) -> Vec<K> {
    let mut keys: Vec<K> = keys.into_iter().collect();
    keys.sort();
    keys.dedup();
    keys
}

/// Runs `statement` (whose `{in}` is replaced by placeholders from `$first`) for the ids, in
/// chunks, each bound after `lead`'s parameters.
async fn execute_in(
    conn: &mut Conn,
    statement: &str,
    lead: Option<i64>,
    ids: &[i64],
) -> Result<(), sqlx::Error> {
    let first = 1 + usize::from(lead.is_some());
    for chunk in ids.chunks(ROWS_PER_STATEMENT) {
        let sql = statement.replace("{in}", &params(first, chunk.len()));
        let mut query = sqlx::query(AssertSqlSafe(sql));
        if let Some(lead) = lead {
            query = query.bind(lead);
        }
        for id in chunk {
            query = query.bind(*id);
        }
        query.execute(&mut *conn).await?;
    }
    Ok(())
}

/// Which of the ids exist in `table` (`customers`, `contracts`).
pub async fn existing_ids(
    conn: &mut Conn,
    table: &str,
    ids: impl IntoIterator<Item = i64>,
) -> Result<HashSet<i64>, sqlx::Error> {
    let ids = unique(ids);
    let found: Vec<(i64,)> = fetch_in(
        conn,
        &format!("SELECT CAST(id AS BIGINT) FROM {table} WHERE id IN ({{in}})"),
        &ids,
    )
    .await?;
    Ok(found.into_iter().map(|(id,)| id).collect())
}

/// The invoices that hold these PIX txids: txid → invoice id.
pub async fn txid_owners(
    conn: &mut Conn,
    txids: impl IntoIterator<Item = String>,
) -> Result<HashMap<String, i64>, sqlx::Error> {
    let txids = unique(txids);
    let found: Vec<(String, i64)> = fetch_in(
        conn,
        "SELECT pix_txid, id FROM invoices WHERE pix_txid IN ({in})",
        &txids,
    )
    .await?;
    Ok(found.into_iter().collect())
}

/// Every id of a small table (plans, POPs, NAS).
async fn all_ids(conn: &mut Conn, table: &str) -> Result<HashSet<i64>, sqlx::Error> {
    let rows: Vec<(i64,)> = sqlx::query_as(AssertSqlSafe(format!(
        "SELECT CAST(id AS BIGINT) FROM {table}"
    )))
    .fetch_all(&mut *conn)
    .await?;
    Ok(rows.into_iter().map(|(id,)| id).collect())
}

/// The small catalogs an import checks its lines against, read once.
pub struct Catalogs {
    /// Plan id → its RADIUS group.
    pub plans: HashMap<i64, String>,
    pub pops: HashSet<i64>,
    pub nas: HashSet<i64>,
}

pub async fn catalogs(store: &Store) -> Result<Catalogs, sqlx::Error> {
    let mut conn = store.pool.acquire().await?;
    let plans: Vec<(i64, String)> = sqlx::query_as("SELECT id, radius_group FROM plans")
        .fetch_all(&mut *conn)
        .await?;
    Ok(Catalogs {
        plans: plans.into_iter().collect(),
        pops: all_ids(&mut conn, "pops").await?,
        nas: all_ids(&mut conn, "nas").await?,
    })
}

/// PostgreSQL: moves the table's id sequence past the ids the import wrote, so that a row
/// added later without an id does not collide with an imported one.
pub async fn advance_sequence(store: &Store, table: &str) -> Result<(), sqlx::Error> {
    let mut conn = store.pool.acquire().await?;
    let sequence: Option<String> = sqlx::query_scalar(AssertSqlSafe(format!(
        "SELECT pg_get_serial_sequence('{table}', 'id')"
    )))
    .fetch_one(&mut *conn)
    .await?;
    let Some(sequence) = sequence else {
        return Ok(());
    };
    sqlx::query(AssertSqlSafe(format!(
        "SELECT setval('{sequence}', m) FROM (SELECT MAX(CAST(id AS BIGINT)) AS m FROM {table}) t \
         WHERE m >= (SELECT last_value FROM {sequence})"
    )))
    .execute(&mut *conn)
    .await?;
    Ok(())
}

// Plans, POPs and NAS.

#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct Plan {
    pub id: i64,
    pub name: String,
    pub download_kbps: i64,
    pub upload_kbps: i64,
    pub price_cents: i64,
    pub radius_group: String,
}

pub async fn plans(conn: &mut Conn, ids: &[i64]) -> Result<HashMap<i64, Plan>, sqlx::Error> {
    let rows: Vec<Plan> = fetch_in(
        conn,
        "SELECT id, name, download_kbps, upload_kbps, price_cents, radius_group FROM plans \
         WHERE id IN ({in})",
        ids,
    )
    .await?;
    Ok(rows.into_iter().map(|p| (p.id, p)).collect())
}

pub async fn upsert_plans(conn: &mut Conn, plans: &[&Plan]) -> Result<(), sqlx::Error> {
    for chunk in plans.chunks(ROWS_PER_STATEMENT) {
        let sql = format!(
            "INSERT INTO plans (id, name, download_kbps, upload_kbps, price_cents, radius_group) \
             VALUES {} ON CONFLICT (id) DO UPDATE SET name = excluded.name, \
             download_kbps = excluded.download_kbps, upload_kbps = excluded.upload_kbps, \
             price_cents = excluded.price_cents, radius_group = excluded.radius_group",
            tuples(conn, chunk.len(), 6)
        );
        let mut query = sqlx::query(AssertSqlSafe(sql));
        for p in chunk {
            query = query
                .bind(p.id)
                .bind(&p.name)
                .bind(p.download_kbps)
                .bind(p.upload_kbps)
                .bind(p.price_cents)
                .bind(&p.radius_group);
        }
        query.execute(&mut *conn).await?;
    }
    Ok(())
}

#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct Pop {
    pub id: i64,
    pub name: String,
    pub city: Option<String>,
}

pub async fn pops(conn: &mut Conn, ids: &[i64]) -> Result<HashMap<i64, Pop>, sqlx::Error> {
    let rows: Vec<Pop> = fetch_in(
        conn,
        "SELECT id, name, city FROM pops WHERE id IN ({in})",
        ids,
    )
    .await?;
    Ok(rows.into_iter().map(|p| (p.id, p)).collect())
}

pub async fn upsert_pops(conn: &mut Conn, pops: &[&Pop]) -> Result<(), sqlx::Error> {
    for chunk in pops.chunks(ROWS_PER_STATEMENT) {
        let sql = format!(
            "INSERT INTO pops (id, name, city) VALUES {} ON CONFLICT (id) DO UPDATE SET \
             name = excluded.name, city = excluded.city",
            tuples(conn, chunk.len(), 3)
        );
        let mut query = sqlx::query(AssertSqlSafe(sql));
        for p in chunk {
            query = query.bind(p.id).bind(&p.name).bind(&p.city);
        }
        query.execute(&mut *conn).await?;
    }
    Ok(())
}

#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct Nas {
    pub id: i64,
    pub shortname: String,
    pub nasname: String,
    pub secret: String,
    pub kind: String,
    pub coa_port: i64,
    pub check_method: String,
    pub pop_id: Option<i64>,
}

pub async fn nas(conn: &mut Conn, ids: &[i64]) -> Result<HashMap<i64, Nas>, sqlx::Error> {
    let rows: Vec<Nas> = fetch_in(
        conn,
        "SELECT CAST(id AS BIGINT) AS id, COALESCE(shortname, '') AS shortname, nasname, secret, \
         COALESCE(type, 'other') AS kind, CAST(coa_port AS BIGINT) AS coa_port, check_method, \
         pop_id FROM nas WHERE id IN ({in})",
        ids,
    )
    .await?;
    Ok(rows.into_iter().map(|n| (n.id, n)).collect())
}

pub async fn upsert_nas(conn: &mut Conn, nas: &[&Nas]) -> Result<(), sqlx::Error> {
    for chunk in nas.chunks(ROWS_PER_STATEMENT) {
        let sql = format!(
            "INSERT INTO nas (id, shortname, nasname, secret, type, coa_port, check_method, \
             pop_id) VALUES {} ON CONFLICT (id) DO UPDATE SET shortname = excluded.shortname, \
             nasname = excluded.nasname, secret = excluded.secret, type = excluded.type, \
             coa_port = excluded.coa_port, check_method = excluded.check_method, \
             pop_id = excluded.pop_id",
            tuples(conn, chunk.len(), 8)
        );
        let mut query = sqlx::query(AssertSqlSafe(sql));
        for n in chunk {
            query = query
                .bind(n.id)
                .bind(&n.shortname)
                .bind(&n.nasname)
                .bind(&n.secret)
                .bind(&n.kind)
                .bind(n.coa_port)
                .bind(&n.check_method)
                .bind(n.pop_id);
        }
        query.execute(&mut *conn).await?;
    }
    Ok(())
}

// Customers and their contacts.

/// A customer with its contacts (kind, value).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Customer {
    pub id: i64,
    pub name: String,
    pub document: String,
    pub birth_date: Option<String>,
    pub contacts: Vec<(String, String)>,
}

/// The stored customers among `ids`, with their contacts in stored order.
pub async fn customers(
    conn: &mut Conn,
    ids: &[i64],
) -> Result<HashMap<i64, Customer>, sqlx::Error> {
    let rows: Vec<(i64, String, String, Option<String>)> = fetch_in(
        conn,
        "SELECT id, name, document, birth_date FROM customers WHERE id IN ({in})",
        ids,
    )
    .await?;
    let contacts: Vec<(i64, String, String)> = fetch_in(
        conn,
        "SELECT customer_id, kind, value FROM customer_contacts WHERE customer_id IN ({in}) \
         ORDER BY id",
        ids,
    )
    .await?;
    let mut by_customer: HashMap<i64, Vec<(String, String)>> = HashMap::new();
    for (customer, kind, value) in contacts {
        by_customer.entry(customer).or_default().push((kind, value));
    }
    Ok(rows
        .into_iter()
        .map(|(id, name, document, birth_date)| {
            let contacts = by_customer.remove(&id).unwrap_or_default();
            (
                id,
                Customer {
                    id,
                    name,
                    document,
                    birth_date,
                    contacts,
                },
            )
        })
        .collect())
}

/// Inserts or updates the customers (not their contacts); `now` is a new one's `created_at`.
pub async fn upsert_customers(
    conn: &mut Conn,
    customers: &[&Customer],
    now: &str,
) -> Result<(), sqlx::Error> {
    for chunk in customers.chunks(ROWS_PER_STATEMENT) {
        let sql = format!(
            "INSERT INTO customers (id, name, document, birth_date, created_at) VALUES {} \
             ON CONFLICT (id) DO UPDATE SET name = excluded.name, document = excluded.document, \
             birth_date = excluded.birth_date",
            tuples(conn, chunk.len(), 5)
        );
        let mut query = sqlx::query(AssertSqlSafe(sql));
        for c in chunk {
            query = query
                .bind(c.id)
                .bind(&c.name)
                .bind(&c.document)
                .bind(&c.birth_date)
                .bind(now);
        }
        query.execute(&mut *conn).await?;
    }
    Ok(())
}

/// Deletes the contacts of the customers.
pub async fn delete_contacts(conn: &mut Conn, customer_ids: &[i64]) -> Result<(), sqlx::Error> {
    execute_in(
        conn,
        "DELETE FROM customer_contacts WHERE customer_id IN ({in})",
        None,
        customer_ids,
    )
    .await
}

/// Adds the contacts of the customers, each customer's in its order.
pub async fn insert_contacts(conn: &mut Conn, customers: &[&Customer]) -> Result<(), sqlx::Error> {
    let contacts: Vec<(i64, &str, &str)> = customers
        .iter()
        .flat_map(|c| {
            c.contacts
                .iter()
                .map(|(k, v)| (c.id, k.as_str(), v.as_str()))
        })
        .collect();
    for chunk in contacts.chunks(ROWS_PER_STATEMENT) {
        let mut query = sqlx::query(AssertSqlSafe(format!(
            "INSERT INTO customer_contacts (customer_id, kind, value) VALUES {}",
            tuples(conn, chunk.len(), 3)
        )));
        for (id, kind, value) in chunk {
            query = query.bind(*id).bind(*kind).bind(*value);
        }
        query.execute(&mut *conn).await?;
    }
    Ok(())
}

// Contracts.

/// A contract's columns but its id and creation.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct ContractFields {
    pub customer_id: i64,
    pub status: i64,
    pub status_mode: i64,
    pub pop_id: Option<i64>,
    pub due_day: i64,
    pub address: Option<String>,
}

#[derive(sqlx::FromRow)]
struct StoredContract {
    id: i64,
    #[sqlx(flatten)]
    fields: ContractFields,
}

pub async fn contracts(
    conn: &mut Conn,
    ids: &[i64],
) -> Result<HashMap<i64, ContractFields>, sqlx::Error> {
    let rows: Vec<StoredContract> = fetch_in(
        conn,
        "SELECT id, customer_id, status, status_mode, pop_id, due_day, address \
         FROM contracts WHERE id IN ({in})",
        ids,
    )
    .await?;
    Ok(rows.into_iter().map(|c| (c.id, c.fields)).collect())
}

/// Inserts or updates the contracts `(id, fields)`; `now` is a new one's `created_at`.
pub async fn upsert_contracts(
    conn: &mut Conn,
    contracts: &[(i64, &ContractFields)],
    now: &str,
) -> Result<(), sqlx::Error> {
    for chunk in contracts.chunks(ROWS_PER_STATEMENT) {
        let sql = format!(
            "INSERT INTO contracts (id, customer_id, status, status_mode, pop_id, due_day, \
             address, created_at) VALUES {} ON CONFLICT (id) DO UPDATE SET \
             customer_id = excluded.customer_id, status = excluded.status, \
             status_mode = excluded.status_mode, pop_id = excluded.pop_id, \
             due_day = excluded.due_day, address = excluded.address",
            tuples(conn, chunk.len(), 8)
        );
        let mut query = sqlx::query(AssertSqlSafe(sql));
        for (id, s) in chunk {
            query = query
                .bind(*id)
                .bind(s.customer_id)
                .bind(s.status)
                .bind(s.status_mode)
                .bind(s.pop_id)
                .bind(s.due_day)
                .bind(&s.address)
                .bind(now);
        }
        query.execute(&mut *conn).await?;
    }
    Ok(())
}

/// Enables or disables every service of the contracts.
pub async fn set_services_enabled(
    conn: &mut Conn,
    contract_ids: &[i64],
    enabled: bool,
) -> Result<(), sqlx::Error> {
    execute_in(
        conn,
        "UPDATE internet_services SET enabled = $1 WHERE contract_id IN ({in})",
        Some(i64::from(enabled)),
        contract_ids,
    )
    .await
}

// Internet services.

/// A service as the file gives it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Service {
    pub id: i64,
    pub contract_id: i64,
    pub login: String,
    pub password: String,
    pub plan_id: i64,
    pub nas_id: Option<i64>,
    pub mac: Option<String>,
    pub enabled: bool,
}

/// A service as stored, but its id.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct ServiceFields {
    pub contract_id: i64,
    pub login: String,
    pub password: String,
    pub plan_id: Option<i64>,
    pub nas_id: Option<i64>,
    pub mac: Option<String>,
    pub enabled: i64,
}

impl Service {
    pub fn fields(&self) -> ServiceFields {
        ServiceFields {
            contract_id: self.contract_id,
            login: self.login.clone(),
            password: self.password.clone(),
            plan_id: Some(self.plan_id),
            nas_id: self.nas_id,
            mac: self.mac.clone(),
            enabled: i64::from(self.enabled),
        }
    }
}

#[derive(sqlx::FromRow)]
struct StoredService {
    id: i64,
    #[sqlx(flatten)]
    fields: ServiceFields,
}

/// The contracts' statuses; on PostgreSQL their rows are locked, as
/// `radius::provision_contract` does, so that a concurrent unlock and this import provision
/// one after the other.
pub async fn contract_statuses(
    conn: &mut Conn,
    backend: Backend,
    ids: &[i64],
) -> Result<HashMap<i64, i64>, sqlx::Error> {
    let select = match backend {
        Backend::Postgres => {
            "SELECT id, status FROM contracts WHERE id IN ({in}) ORDER BY id FOR UPDATE"
        }
        Backend::Sqlite => "SELECT id, status FROM contracts WHERE id IN ({in})",
    };
    let rows: Vec<(i64, i64)> = fetch_in(conn, select, &unique(ids.iter().copied())).await?;
    Ok(rows.into_iter().collect())
}

/// Login → the id of the service that holds it, for the logins already taken.
pub async fn login_owners(
    conn: &mut Conn,
    logins: impl IntoIterator<Item = String>,
) -> Result<HashMap<String, i64>, sqlx::Error> {
    let rows: Vec<(i64, String)> = fetch_in(
        conn,
        "SELECT id, login FROM internet_services WHERE login IN ({in})",
        &unique(logins),
    )
    .await?;
    Ok(rows.into_iter().map(|(id, login)| (login, id)).collect())
}

pub async fn services(
    conn: &mut Conn,
    ids: &[i64],
) -> Result<HashMap<i64, ServiceFields>, sqlx::Error> {
    let rows: Vec<StoredService> = fetch_in(
        conn,
        "SELECT id, contract_id, login, password, plan_id, CAST(nas_id AS BIGINT) AS nas_id, \
         mac, enabled FROM internet_services WHERE id IN ({in})",
        ids,
    )
    .await?;
    Ok(rows.into_iter().map(|s| (s.id, s.fields)).collect())
}

pub async fn upsert_services(conn: &mut Conn, services: &[&Service]) -> Result<(), sqlx::Error> {
    for chunk in services.chunks(ROWS_PER_STATEMENT) {
        let sql = format!(
            "INSERT INTO internet_services (id, contract_id, login, password, plan_id, nas_id, \
             mac, enabled) VALUES {} ON CONFLICT (id) DO UPDATE SET \
             contract_id = excluded.contract_id, login = excluded.login, \
             password = excluded.password, plan_id = excluded.plan_id, nas_id = excluded.nas_id, \
             mac = excluded.mac, enabled = excluded.enabled",
            tuples(conn, chunk.len(), 8)
        );
        let mut query = sqlx::query(AssertSqlSafe(sql));
        for s in chunk {
            query = query
                .bind(s.id)
                .bind(s.contract_id)
                .bind(&s.login)
                .bind(&s.password)
                .bind(s.plan_id)
                .bind(s.nas_id)
                .bind(&s.mac)
                .bind(i64::from(s.enabled));
        }
        query.execute(&mut *conn).await?;
    }
    Ok(())
}

/// Which services `services_of` selects.
#[derive(Debug, Clone, Copy)]
pub enum Of {
    Contracts,
    Plans,
}

/// What FreeRADIUS needs of a service.
#[derive(sqlx::FromRow)]
pub struct ServiceAccess {
    pub login: String,
    pub password: String,
    pub enabled: i64,
    pub status: i64,
    pub radius_group: Option<String>,
}

/// The services of the contracts or plans `ids`, by service id, as they stand in this
/// transaction.
pub async fn services_of(
    conn: &mut Conn,
    of: Of,
    ids: &[i64],
) -> Result<Vec<ServiceAccess>, sqlx::Error> {
    let column = match of {
        Of::Contracts => "contract_id",
        Of::Plans => "plan_id",
    };
    fetch_in(
        conn,
        &format!(
            "SELECT s.login, s.password, s.enabled, c.status, p.radius_group \
             FROM internet_services s JOIN contracts c ON c.id = s.contract_id \
             LEFT JOIN plans p ON p.id = s.plan_id WHERE s.{column} IN ({{in}}) ORDER BY s.id"
        ),
        ids,
    )
    .await
}

// Invoices.

/// An invoice in stored form (dates as `AAAA-MM-DD`), but its id.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct Invoice {
    pub contract_id: i64,
    pub document_number: String,
    pub our_number: String,
    pub amount_cents: i64,
    pub issued_on: String,
    pub due_on: String,
    pub status: String,
    pub paid_on: Option<String>,
    pub paid_cents: Option<i64>,
    pub barcode: Option<String>,
    pub digitable_line: Option<String>,
    pub pix_payload: Option<String>,
    pub bank_code: Option<String>,
    pub agreement: Option<String>,
    pub pix_txid: Option<String>,
}

#[derive(sqlx::FromRow)]
struct StoredInvoice {
    id: i64,
    #[sqlx(flatten)]
    invoice: Invoice,
}

pub async fn invoices(conn: &mut Conn, ids: &[i64]) -> Result<HashMap<i64, Invoice>, sqlx::Error> {
    let rows: Vec<StoredInvoice> = fetch_in(
        conn,
        "SELECT id, contract_id, document_number, our_number, amount_cents, issued_on, due_on, \
         status, paid_on, paid_cents, barcode, digitable_line, pix_payload, bank_code, \
         agreement, pix_txid FROM invoices WHERE id IN ({in})",
        ids,
    )
    .await?;
    Ok(rows.into_iter().map(|e| (e.id, e.invoice)).collect())
}

/// Inserts or updates the invoices `(id, invoice)`.
pub async fn upsert_invoices(
    conn: &mut Conn,
    invoices: &[(i64, &Invoice)],
) -> Result<(), sqlx::Error> {
    for chunk in invoices.chunks(ROWS_PER_STATEMENT) {
        let sql = format!(
            "INSERT INTO invoices (id, contract_id, document_number, our_number, amount_cents, \
             issued_on, due_on, status, paid_on, paid_cents, barcode, digitable_line, \
             pix_payload, bank_code, agreement, pix_txid, our_number_key) VALUES {} \
             ON CONFLICT (id) DO UPDATE SET contract_id = excluded.contract_id, \
             document_number = excluded.document_number, our_number = excluded.our_number, \
             amount_cents = excluded.amount_cents, issued_on = excluded.issued_on, \
             due_on = excluded.due_on, status = excluded.status, paid_on = excluded.paid_on, \
             paid_cents = excluded.paid_cents, barcode = excluded.barcode, \
             digitable_line = excluded.digitable_line, pix_payload = excluded.pix_payload, \
             bank_code = excluded.bank_code, agreement = excluded.agreement, \
             pix_txid = excluded.pix_txid, our_number_key = excluded.our_number_key",
            tuples(conn, chunk.len(), 17)
        );
        let mut query = sqlx::query(AssertSqlSafe(sql));
        for (id, inv) in chunk {
            query = query
                .bind(*id)
                .bind(inv.contract_id)
                .bind(&inv.document_number)
                .bind(&inv.our_number)
                .bind(inv.amount_cents)
                .bind(&inv.issued_on)
                .bind(&inv.due_on)
                .bind(&inv.status)
                .bind(&inv.paid_on)
                .bind(inv.paid_cents)
                .bind(&inv.barcode)
                .bind(&inv.digitable_line)
                .bind(&inv.pix_payload)
                .bind(&inv.bank_code)
                .bind(&inv.agreement)
                .bind(&inv.pix_txid)
                .bind(our_number::key(inv.bank_code.as_deref(), &inv.our_number));
        }
        query.execute(&mut *conn).await?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn placeholders() {
        assert_eq!(params(3, 2), "$3, $4");
        assert_eq!(tuples_for(false, 2, 3), "($1, $2, $3), ($4, $5, $6)");
        assert_eq!(tuples_for(true, 2, 3), "(?, ?, ?), (?, ?, ?)");
    }
}
