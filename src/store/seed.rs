//! The one seeder behind `ura demo` (the demo provider) and `ura gen` (a synthetic provider
//! of any size): what to write is decided by `demo.rs` and `gen/model.rs`; this module
//! writes it, table by table, with multi-row `INSERT`s of as many rows as the parameter
//! limits allow and one SQL text per table and size, so that prepared statements are reused.
//! Ids are explicit: on PostgreSQL `advance_sequences` moves the identity sequences past them.

use std::collections::HashMap;
use std::sync::Arc;

use chrono::{DateTime, Utc};
use sqlx::{AssertSqlSafe, Connection, Executor};

use super::{Backend, Conn, Store};
use crate::domain::cnab::our_number;
use crate::domain::pix;

/// Parameters per statement: under SQLite's limit (32,766) and PostgreSQL's (65,535).
const MAX_PARAMS: usize = 30_000;
/// Rows per statement, whatever their width.
const MAX_ROWS: usize = 1_000;
/// The bank every seeded boleto is registered with (demo and `ura gen`).
const SEED_BANK: &str = "001";

pub struct PopRow {
    pub id: i64,
    pub name: String,
    pub city: String,
}

/// A PPPoE concentrator (`mikrotik`, CoA on 3799); `check_method` keeps its default, `none`.
pub struct NasRow {
    pub id: i64,
    pub nasname: String,
    pub shortname: String,
    pub secret: String,
    pub pop_id: i64,
}

/// An OLT.
pub struct ElementRow {
    pub id: i64,
    pub name: String,
    pub pop_id: i64,
}

pub struct PlanRow {
    pub id: i64,
    pub name: String,
    pub download_kbps: i64,
    pub upload_kbps: i64,
    pub price_cents: i64,
    pub radius_group: String,
}

pub struct CustomerRow {
    pub id: i64,
    pub name: String,
    pub document: String,
    pub birth_date: Option<String>,
    pub created_at: String,
}

pub struct ContactRow {
    pub customer_id: i64,
    pub kind: &'static str,
    pub value: String,
}

pub struct ContractRow {
    pub id: i64,
    pub customer_id: i64,
    pub status: i64,
    pub status_mode: i64,
    pub pop_id: i64,
    pub due_day: i64,
    pub address: String,
    pub created_at: String,
}

pub struct ServiceRow {
    pub id: i64,
    pub contract_id: i64,
    pub login: String,
    pub password: String,
    pub plan_id: i64,
    pub nas_id: i64,
    pub element_id: i64,
    pub mac: String,
    pub enabled: i64,
}

/// An invoice; its document number is its id and its "nosso número" the id on 17 digits.
pub struct InvoiceRow {
    pub id: i64,
    pub contract_id: i64,
    pub amount_cents: i64,
    pub issued_on: String,
    pub due_on: String,
    pub status: &'static str,
    pub paid_on: Option<String>,
    pub paid_cents: Option<i64>,
    pub cancelled_on: Option<String>,
    pub barcode: Option<String>,
    pub digitable_line: Option<String>,
    pub pix_payload: Option<String>,
}

/// A FreeRADIUS accounting row (`radacct`) of a PPPoE session.
pub struct SessionRow {
    pub session_id: String,
    pub unique_id: String,
    pub login: String,
    pub nas_ip: String,
    pub start: DateTime<Utc>,
    pub update: DateTime<Utc>,
    pub stop: Option<DateTime<Utc>>,
    pub session_time: i64,
    pub input_octets: Option<i64>,
    pub output_octets: Option<i64>,
    pub calling_station: String,
    pub terminate_cause: &'static str,
    pub framed_ip: String,
}

/// A maintenance with the POPs, NAS and network elements it covers.
pub struct MaintenanceRow {
    pub id: i64,
    pub description: String,
    pub ivr_message: Option<&'static str>,
    pub severity: i64,
    pub status: i64,
    pub starts_at: DateTime<Utc>,
    pub expected_end: Option<DateTime<Utc>>,
    pub resolved_at: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
    pub pops: Vec<i64>,
    pub nas: Vec<i64>,
    pub elements: Vec<i64>,
}

/// What one `write` inserts; any part may be empty.
#[derive(Default, Clone, Copy)]
pub struct Rows<'a> {
    pub pops: &'a [PopRow],
    pub nas: &'a [NasRow],
    pub elements: &'a [ElementRow],
    pub plans: &'a [PlanRow],
    pub customers: &'a [CustomerRow],
    pub contacts: &'a [ContactRow],
    pub contracts: &'a [ContractRow],
    pub services: &'a [ServiceRow],
    pub invoices: &'a [InvoiceRow],
    pub sessions: &'a [SessionRow],
    pub maintenances: &'a [MaintenanceRow],
}

/// Inserts the rows, each table after those it refers to.
pub async fn write(conn: &mut Conn, backend: Backend, rows: Rows<'_>) -> Result<(), sqlx::Error> {
    let b = backend;
    insert(conn, b, "pops (id, name, city)", 3, rows.pops, |q, r| {
        q.bind(r.id).bind(&r.name).bind(&r.city)
    })
    .await?;
    insert(
        conn,
        b,
        "nas (id, nasname, shortname, type, secret, description, coa_port, pop_id)",
        Tuple::Nas,
        rows.nas,
        |q, r| {
            q.bind(r.id)
                .bind(&r.nasname)
                .bind(&r.shortname)
                .bind(&r.secret)
                .bind(r.pop_id)
        },
    )
    .await?;
    insert(
        conn,
        b,
        "network_elements (id, name, kind, pop_id)",
        Tuple::Element,
        rows.elements,
        |q, r| q.bind(r.id).bind(&r.name).bind(r.pop_id),
    )
    .await?;
    insert(
        conn,
        b,
        "plans (id, name, download_kbps, upload_kbps, price_cents, radius_group)",
        6,
        rows.plans,
        |q, r| {
            q.bind(r.id)
                .bind(&r.name)
                .bind(r.download_kbps)
                .bind(r.upload_kbps)
                .bind(r.price_cents)
                .bind(&r.radius_group)
        },
    )
    .await?;
    insert(
        conn,
        b,
        "customers (id, name, document, birth_date, created_at)",
        5,
        rows.customers,
        |q, r| {
            q.bind(r.id)
                .bind(&r.name)
                .bind(&r.document)
                .bind(&r.birth_date)
                .bind(&r.created_at)
        },
    )
    .await?;
    insert(
        conn,
        b,
        "customer_contacts (customer_id, kind, value)",
        3,
        rows.contacts,
        |q, r| q.bind(r.customer_id).bind(r.kind).bind(&r.value),
    )
    .await?;
    insert(
        conn,
        b,
        "contracts (id, customer_id, status, status_mode, pop_id, due_day, address, created_at)",
        8,
        rows.contracts,
        |q, r| {
            q.bind(r.id)
                .bind(r.customer_id)
                .bind(r.status)
                .bind(r.status_mode)
                .bind(r.pop_id)
                .bind(r.due_day)
                .bind(&r.address)
                .bind(&r.created_at)
        },
    )
    .await?;
    insert(
        conn,
        b,
        "internet_services (id, contract_id, login, password, plan_id, nas_id, element_id, mac, \
         enabled)",
        9,
        rows.services,
        |q, r| {
            q.bind(r.id)
                .bind(r.contract_id)
                .bind(&r.login)
                .bind(&r.password)
                .bind(r.plan_id)
                .bind(r.nas_id)
                .bind(r.element_id)
                .bind(&r.mac)
                .bind(r.enabled)
        },
    )
    .await?;
    insert(
        conn,
        b,
        "invoices (id, contract_id, document_number, our_number, amount_cents, issued_on, \
         due_on, status, paid_on, paid_cents, cancelled_on, barcode, digitable_line, pix_payload, \
         bank_code, pix_txid, our_number_key)",
        17,
        rows.invoices,
        |q, r| {
            // Every seeded boleto is registered with Banco do Brasil (its barcode says 001).
            let our_number = format!("{:017}", r.id);
            let key = our_number::key(Some(SEED_BANK), &our_number);
            q.bind(r.id)
                .bind(r.contract_id)
                .bind(r.id.to_string())
                .bind(our_number)
                .bind(r.amount_cents)
                .bind(&r.issued_on)
                .bind(&r.due_on)
                .bind(r.status)
                .bind(&r.paid_on)
                .bind(r.paid_cents)
                .bind(&r.cancelled_on)
                .bind(&r.barcode)
                .bind(&r.digitable_line)
                .bind(&r.pix_payload)
                .bind(SEED_BANK)
                .bind(r.pix_payload.as_deref().and_then(pix::txid))
                .bind(key)
        },
    )
    .await?;
    insert(
        conn,
        b,
        "radacct (acctsessionid, acctuniqueid, username, nasipaddress, nasportid, nasporttype, \
         acctstarttime, acctupdatetime, acctstoptime, acctsessiontime, acctinputoctets, \
         acctoutputoctets, callingstationid, acctterminatecause, framedipaddress, \
         framedprotocol, servicetype)",
        Tuple::Session,
        rows.sessions,
        |q, r| {
            q.bind(&r.session_id)
                .bind(&r.unique_id)
                .bind(&r.login)
                .bind(&r.nas_ip)
                .bind(radius_time(b, r.start))
                .bind(radius_time(b, r.update))
                .bind(r.stop.map(|t| radius_time(b, t)))
                .bind(r.session_time)
                .bind(r.input_octets)
                .bind(r.output_octets)
                .bind(&r.calling_station)
                .bind(r.terminate_cause)
                .bind(&r.framed_ip)
        },
    )
    .await?;
    maintenances(conn, b, rows.maintenances).await
}

async fn maintenances(
    conn: &mut Conn,
    backend: Backend,
    rows: &[MaintenanceRow],
) -> Result<(), sqlx::Error> {
    let ts = super::ts;
    insert(
        conn,
        backend,
        "maintenances (id, description, ivr_message, severity, status, starts_at, expected_end, \
         resolved_at, created_at)",
        9,
        rows,
        |q, r| {
            q.bind(r.id)
                .bind(&r.description)
                .bind(r.ivr_message)
                .bind(r.severity)
                .bind(r.status)
                .bind(ts(r.starts_at))
                .bind(r.expected_end.map(ts))
                .bind(r.resolved_at.map(ts))
                .bind(ts(r.created_at))
        },
    )
    .await?;
    let links = |targets: fn(&MaintenanceRow) -> &[i64]| -> Vec<(i64, i64)> {
        rows.iter()
            .flat_map(|m| targets(m).iter().map(|t| (m.id, *t)))
            .collect()
    };
    let bind = |q: Query, (m, t): &(i64, i64)| q.bind(*m).bind(*t);
    let pops = links(|m| m.pops.as_slice());
    insert(
        conn,
        backend,
        "maintenance_pops (maintenance_id, pop_id)",
        2,
        &pops,
        bind,
    )
    .await?;
    let nas = links(|m| m.nas.as_slice());
    insert(
        conn,
        backend,
        "maintenance_nas (maintenance_id, nas_id)",
        2,
        &nas,
        bind,
    )
    .await?;
    let elements = links(|m| m.elements.as_slice());
    insert(
        conn,
        backend,
        "maintenance_elements (maintenance_id, element_id)",
        2,
        &elements,
        bind,
    )
    .await
}

/// A statement being bound; sqlx 0.9 encodes each value as it is bound.
type Query = sqlx::query::Query<'static, super::Db, sqlx::any::AnyArguments>;

/// How one row's values are written: `cols` parameters, or a fixed tuple with constants
/// and (on PostgreSQL) casts around its parameters.
#[derive(Clone, Copy)]
enum Tuple {
    Plain(usize),
    /// 5 parameters: id, nasname, shortname, secret, pop_id.
    Nas,
    /// 3 parameters: id, name, pop_id.
    Element,
    /// 13 parameters; PostgreSQL's `radacct` types addresses and times.
    Session,
}

impl From<usize> for Tuple {
    fn from(cols: usize) -> Tuple {
        Tuple::Plain(cols)
    }
}

impl Tuple {
    fn params(self) -> usize {
        match self {
            Tuple::Plain(cols) => cols,
            Tuple::Nas => 5,
            Tuple::Element => 3,
            Tuple::Session => 13,
        }
    }

    /// The tuple whose first parameter is number `n`. SQLite gets anonymous `?`: its
    /// binding of numbered parameters looks each name up in a list, which is quadratic in a
    /// statement of thousands of parameters; anonymous ones are bound in order.
    fn render(self, backend: Backend, n: usize, out: &mut String) {
        let p = |i: usize| match backend {
            Backend::Sqlite => "?".to_string(),
            Backend::Postgres => format!("${}", n + i),
        };
        let text = match self {
            Tuple::Plain(cols) => (0..cols).map(p).collect::<Vec<_>>().join(", "),
            Tuple::Nas => format!(
                "{}, {}, {}, 'mikrotik', {}, 'Concentrador PPPoE', 3799, {}",
                p(0),
                p(1),
                p(2),
                p(3),
                p(4)
            ),
            Tuple::Element => format!("{}, {}, 'olt', {}", p(0), p(1), p(2)),
            Tuple::Session => {
                let (inet, time) = match backend {
                    Backend::Sqlite => (("", ""), ("", "")),
                    Backend::Postgres => (("CAST(", " AS INET)"), ("CAST(", " AS TIMESTAMPTZ)")),
                };
                let cast = |(open, close): (&str, &str), i: usize| format!("{open}{}{close}", p(i));
                format!(
                    "{}, {}, {}, {}, 'pppoe-in', 'Virtual', {}, {}, {}, {}, {}, {}, {}, {}, {}, \
                     'PPP', 'Framed-User'",
                    p(0),
                    p(1),
                    p(2),
                    cast(inet, 3),
                    cast(time, 4),
                    cast(time, 5),
                    cast(time, 6),
                    p(7),
                    p(8),
                    p(9),
                    p(10),
                    p(11),
                    cast(inet, 12)
                )
            }
        };
        out.push('(');
        out.push_str(&text);
        out.push(')');
    }
}

/// Inserts `rows` into `into` (a table with its column list) in statements of as many rows
/// as the limits allow; `bind` binds one row's parameters in order.
async fn insert<R>(
    conn: &mut Conn,
    backend: Backend,
    into: &str,
    tuple: impl Into<Tuple>,
    rows: &[R],
    bind: impl Fn(Query, &R) -> Query,
) -> Result<(), sqlx::Error> {
    let tuple = tuple.into();
    let params = tuple.params();
    let per_statement = (MAX_PARAMS / params).clamp(1, MAX_ROWS);
    let statement = |rows: usize| -> Arc<str> {
        let mut sql = String::with_capacity(32 + into.len() + rows * params * 6);
        sql.push_str("INSERT INTO ");
        sql.push_str(into);
        sql.push_str(" VALUES ");
        for i in 0..rows {
            if i > 0 {
                sql.push_str(", ");
            }
            tuple.render(backend, 1 + i * params, &mut sql);
        }
        sql.into()
    };
    // Every chunk but the last is full: its text is built once.
    let mut full: Option<Arc<str>> = None;
    for chunk in rows.chunks(per_statement) {
        let sql = if chunk.len() == per_statement {
            full.get_or_insert_with(|| statement(per_statement)).clone()
        } else {
            statement(chunk.len())
        };
        let mut q = sqlx::query(AssertSqlSafe(sql));
        for r in chunk {
            q = bind(q, r);
        }
        q.execute(&mut *conn).await?;
    }
    Ok(())
}

/// FreeRADIUS's own time format: PostgreSQL's columns are `timestamptz`, SQLite's text.
fn radius_time(backend: Backend, t: DateTime<Utc>) -> String {
    match backend {
        Backend::Sqlite => t.format("%Y-%m-%d %H:%M:%S").to_string(),
        Backend::Postgres => t.format("%Y-%m-%d %H:%M:%S+00").to_string(),
    }
}

/// Records how the data set was made (`demo`, `gen`), for the commands that ask.
pub async fn put_meta(conn: &mut Conn, key: &str, value: &str) -> Result<(), sqlx::Error> {
    sqlx::query("INSERT INTO meta (key, value) VALUES ($1, $2)")
        .bind(key)
        .bind(value)
        .execute(conn)
        .await?;
    Ok(())
}

/// The reply of FreeRADIUS's block group: the operator's choice; the seeded providers put
/// blocked customers in an address list that a captive-portal rule would redirect.
pub async fn block_group_reply(conn: &mut Conn, group: &str) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO radgroupreply (groupname, attribute, op, value) \
         VALUES ($1, 'Mikrotik-Address-List', ':=', 'bloqueados')",
    )
    .bind(group)
    .execute(conn)
    .await?;
    Ok(())
}

/// A promise as the URA would have recorded it, in a state of its own choosing.
pub struct PromiseRow<'a> {
    pub contract_id: i64,
    pub local_month: String,
    pub created_at: DateTime<Utc>,
    pub promised_date: String,
    pub protocol: &'a str,
    pub previous_status: i64,
    pub previous_mode: i64,
    pub state: &'static str,
    pub caller: &'a str,
}

/// Records the promise as the month's first, expiring when it was made.
pub async fn promise(conn: &mut Conn, p: &PromiseRow<'_>) -> Result<(), sqlx::Error> {
    let created = super::ts(p.created_at);
    sqlx::query(
        "INSERT INTO promises (contract_id, local_month, seq, created_at, promised_date, \
         expires_at, protocol, previous_status, previous_mode, state, caller) \
         VALUES ($1, $2, 1, $3, $4, $3, $5, $6, $7, $8, $9)",
    )
    .bind(p.contract_id)
    .bind(&p.local_month)
    .bind(&created)
    .bind(&p.promised_date)
    .bind(p.protocol)
    .bind(p.previous_status)
    .bind(p.previous_mode)
    .bind(p.state)
    .bind(p.caller)
    .execute(conn)
    .await?;
    Ok(())
}

/// Tables with explicit ids from the seeders and the import.
const SEEDED_TABLES: &[&str] = &[
    "pops",
    "nas",
    "network_elements",
    "plans",
    "customers",
    "customer_contacts",
    "contracts",
    "internet_services",
    "invoices",
    "maintenances",
];

/// PostgreSQL: moves the identity sequences past the explicit ids written.
pub async fn advance_sequences(conn: &mut Conn) -> Result<(), sqlx::Error> {
    for table in SEEDED_TABLES {
        conn.execute(AssertSqlSafe(format!(
            "SELECT setval(pg_get_serial_sequence('{table}', 'id'), \
             (SELECT COALESCE(MAX(id), 0) + 1 FROM {table}), false)"
        )))
        .await?;
    }
    Ok(())
}

/// Whether the database holds any customer.
pub async fn has_customers(conn: &mut Conn) -> Result<bool, sqlx::Error> {
    let n: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM customers")
        .fetch_one(conn)
        .await?;
    Ok(n > 0)
}

/// Tables that must be empty for `ura gen`: the provider's data.
const DATA_TABLES: &[&str] = &[
    "customers",
    "contracts",
    "internet_services",
    "invoices",
    "plans",
    "pops",
    "nas",
    "network_elements",
    "maintenances",
    "radcheck",
    "radusergroup",
    "radacct",
];

/// The first table of the provider's data that holds a row, if any.
pub async fn first_filled_table(store: &Store) -> Result<Option<&'static str>, sqlx::Error> {
    for table in DATA_TABLES {
        let any: i64 = sqlx::query_scalar(AssertSqlSafe(format!(
            "SELECT CASE WHEN EXISTS (SELECT 1 FROM {table}) THEN 1 ELSE 0 END"
        )))
        .fetch_one(&store.pool)
        .await?;
        if any != 0 {
            return Ok(Some(table));
        }
    }
    Ok(None)
}

/// A connection of its own for a bulk load, which the server's connections never use: on
/// SQLite with `synchronous = OFF`, a larger page cache and foreign keys unchecked (the rows
/// are consistent by construction); on PostgreSQL commits not waiting for the WAL flush.
pub async fn bulk_connection(url: &str, backend: Backend) -> Result<Conn, sqlx::Error> {
    let mut conn = Conn::connect(url).await?;
    match backend {
        Backend::Sqlite => {
            conn.execute(
                "PRAGMA synchronous = OFF; PRAGMA cache_size = -262144; \
                 PRAGMA temp_store = MEMORY; PRAGMA foreign_keys = OFF; \
                 PRAGMA busy_timeout = 5000;",
            )
            .await?;
        }
        Backend::Postgres => {
            conn.execute("SET synchronous_commit = off").await?;
        }
    }
    Ok(conn)
}

/// After a bulk load: on PostgreSQL the sequences past the ids, and statistics for the
/// planner as autovacuum would gather a little later; on SQLite everything into the database
/// file, so that the server starts on a short WAL.
pub async fn finish_bulk_load(conn: &mut Conn, backend: Backend) -> Result<(), sqlx::Error> {
    match backend {
        Backend::Postgres => {
            advance_sequences(conn).await?;
            // VACUUM as well as ANALYZE: a freshly loaded table has no visibility map, so
            // every index-only scan (the open balance, the promises of the month) also read
            // the table, and every first read of a row set its hint bits, writing the page.
            // `consultacliente` on 1,000,000 customers went from 1,728 to 4,158 answers/s.
            conn.execute("VACUUM (ANALYZE)").await?;
        }
        Backend::Sqlite => {
            conn.execute("PRAGMA wal_checkpoint(TRUNCATE)").await?;
        }
    }
    Ok(())
}

/// The customer's document of each contract found among `ids`.
pub async fn contract_documents(
    conn: &mut Conn,
    ids: &[i64],
) -> Result<HashMap<i64, String>, sqlx::Error> {
    let mut found = HashMap::with_capacity(ids.len());
    for chunk in ids.chunks(500) {
        let list: Vec<String> = (1..=chunk.len()).map(|i| format!("${i}")).collect();
        let sql = format!(
            "SELECT c.id, cu.document FROM contracts c JOIN customers cu ON cu.id = c.customer_id \
             WHERE c.id IN ({})",
            list.join(", ")
        );
        let mut q = sqlx::query_as::<_, (i64, String)>(AssertSqlSafe(sql));
        for id in chunk {
            q = q.bind(*id);
        }
        found.extend(q.fetch_all(&mut *conn).await?);
    }
    Ok(found)
}

/// A NAS the demo may stand a simulator in for.
pub struct DemoNas {
    pub id: i64,
    pub nasname: String,
    pub secret: String,
}

/// Every NAS, by id.
pub async fn demo_nas(store: &Store) -> Result<Vec<DemoNas>, sqlx::Error> {
    let rows: Vec<(i64, String, String)> =
        sqlx::query_as("SELECT id, nasname, secret FROM nas ORDER BY id")
            .fetch_all(&store.pool)
            .await?;
    Ok(rows
        .into_iter()
        .map(|(id, nasname, secret)| DemoNas {
            id,
            nasname,
            secret,
        })
        .collect())
}

/// `(login, acctsessionid)` of the sessions `radacct` shows open at the NAS address.
pub async fn open_sessions_at(
    store: &Store,
    nas_ip: &str,
) -> Result<Vec<(String, String)>, sqlx::Error> {
    let sql = match store.backend {
        Backend::Postgres => {
            "SELECT username, acctsessionid FROM radacct \
             WHERE host(nasipaddress) = $1 AND acctstoptime IS NULL"
        }
        Backend::Sqlite => {
            "SELECT username, acctsessionid FROM radacct \
             WHERE nasipaddress = $1 AND acctstoptime IS NULL"
        }
    };
    sqlx::query_as(sql)
        .bind(nas_ip)
        .fetch_all(&store.pool)
        .await
}

/// Points the NAS's CoA at a simulator's port, and has it checked by CoA.
pub async fn point_nas_at(store: &Store, id: i64, coa_port: u16) -> Result<(), sqlx::Error> {
    sqlx::query("UPDATE nas SET coa_port = $1, check_method = 'coa' WHERE id = $2")
        .bind(i64::from(coa_port))
        .bind(id)
        .execute(&store.pool)
        .await?;
    Ok(())
}
