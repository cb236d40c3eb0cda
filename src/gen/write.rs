//! Writing the generated rows: multi-row `INSERT`s of as many rows as the parameter limits
//! allow, with one SQL text per table and size so that prepared statements are reused.

use chrono::{DateTime, Utc};
use sqlx::AssertSqlSafe;

use super::model::{Batch, SessionRow, Shape};
use crate::store::radius;
use crate::store::{Backend, Conn};

/// Parameters per statement: under SQLite's limit (32,766) and PostgreSQL's (65,535).
const MAX_PARAMS: usize = 30_000;
/// Rows per statement, whatever their width.
const MAX_ROWS: usize = 1_000;

fn rows_per_statement(cols: usize) -> usize {
    (MAX_PARAMS / cols).clamp(1, MAX_ROWS)
}

/// `rows` tuples, each made by `tuple` from its first parameter's number.
fn values(rows: usize, cols: usize, tuple: impl Fn(usize) -> String) -> String {
    let mut out = String::with_capacity(rows * cols * 6);
    for r in 0..rows {
        if r > 0 {
            out.push_str(", ");
        }
        out.push_str(&tuple(1 + r * cols));
    }
    out
}

/// `($n, $n+1, ...)` on PostgreSQL, `(?, ?, ...)` on SQLite: SQLite's binding of numbered
/// parameters looks each name up in a list, which is quadratic in a statement of thousands
/// of parameters; anonymous ones are bound in order.
fn plain(backend: Backend, cols: usize) -> impl Fn(usize) -> String {
    move |first| {
        let list: Vec<String> = match backend {
            Backend::Sqlite => vec!["?".to_string(); cols],
            Backend::Postgres => (first..first + cols).map(|i| format!("${i}")).collect(),
        };
        format!("({})", list.join(", "))
    }
}

pub async fn batch(conn: &mut Conn, backend: Backend, b: &Batch) -> Result<(), sqlx::Error> {
    const CUSTOMER_COLS: usize = 5;
    for chunk in b.customers.chunks(rows_per_statement(CUSTOMER_COLS)) {
        let sql = format!(
            "INSERT INTO customers (id, name, document, birth_date, created_at) VALUES {}",
            values(chunk.len(), CUSTOMER_COLS, plain(backend, CUSTOMER_COLS))
        );
        let mut q = sqlx::query(AssertSqlSafe(sql));
        for r in chunk {
            q = q
                .bind(r.id)
                .bind(&r.name)
                .bind(&r.document)
                .bind(&r.birth_date)
                .bind(&r.created_at);
        }
        q.execute(&mut *conn).await?;
    }

    const CONTACT_COLS: usize = 3;
    for chunk in b.contacts.chunks(rows_per_statement(CONTACT_COLS)) {
        let sql = format!(
            "INSERT INTO customer_contacts (customer_id, kind, value) VALUES {}",
            values(chunk.len(), CONTACT_COLS, plain(backend, CONTACT_COLS))
        );
        let mut q = sqlx::query(AssertSqlSafe(sql));
        for r in chunk {
            q = q.bind(r.customer_id).bind(r.kind).bind(&r.value);
        }
        q.execute(&mut *conn).await?;
    }

    const CONTRACT_COLS: usize = 8;
    for chunk in b.contracts.chunks(rows_per_statement(CONTRACT_COLS)) {
        let sql = format!(
            "INSERT INTO contracts (id, customer_id, status, status_mode, pop_id, due_day, \
             address, created_at) VALUES {}",
            values(chunk.len(), CONTRACT_COLS, plain(backend, CONTRACT_COLS))
        );
        let mut q = sqlx::query(AssertSqlSafe(sql));
        for r in chunk {
            q = q
                .bind(r.id)
                .bind(r.customer_id)
                .bind(r.status)
                .bind(r.status_mode)
                .bind(r.pop_id)
                .bind(r.due_day)
                .bind(&r.address)
                .bind(&r.created_at);
        }
        q.execute(&mut *conn).await?;
    }

    const SERVICE_COLS: usize = 9;
    for chunk in b.services.chunks(rows_per_statement(SERVICE_COLS)) {
        let sql = format!(
            "INSERT INTO internet_services (id, contract_id, login, password, plan_id, nas_id, \
             element_id, mac, enabled) VALUES {}",
            values(chunk.len(), SERVICE_COLS, plain(backend, SERVICE_COLS))
        );
        let mut q = sqlx::query(AssertSqlSafe(sql));
        for r in chunk {
            q = q
                .bind(r.id)
                .bind(r.contract_id)
                .bind(&r.login)
                .bind(&r.password)
                .bind(r.plan_id)
                .bind(r.nas_id)
                .bind(r.element_id)
                .bind(&r.mac)
                .bind(r.enabled);
        }
        q.execute(&mut *conn).await?;
    }

    // FreeRADIUS: what `ura radius sync` would write for these services.
    radius::provision_logins(conn, &b.logins).await?;

    const INVOICE_COLS: usize = 14;
    for chunk in b.invoices.chunks(rows_per_statement(INVOICE_COLS)) {
        let sql = format!(
            "INSERT INTO invoices (id, contract_id, document_number, our_number, amount_cents, \
             issued_on, due_on, status, paid_on, paid_cents, cancelled_on, barcode, \
             digitable_line, pix_payload) VALUES {}",
            values(chunk.len(), INVOICE_COLS, plain(backend, INVOICE_COLS))
        );
        let mut q = sqlx::query(AssertSqlSafe(sql));
        for r in chunk {
            q = q
                .bind(r.id)
                .bind(r.contract_id)
                .bind(r.id.to_string())
                .bind(format!("{:017}", r.id))
                .bind(r.amount_cents)
                .bind(&r.issued_on)
                .bind(&r.due_on)
                .bind(r.status)
                .bind(&r.paid_on)
                .bind(r.paid_cents)
                .bind(&r.cancelled_on)
                .bind(&r.barcode)
                .bind(&r.digitable_line)
                .bind(&r.pix_payload);
        }
        q.execute(&mut *conn).await?;
    }

    sessions(conn, backend, &b.sessions).await
}

/// FreeRADIUS's own time format: PostgreSQL's columns are `timestamptz`, SQLite's text.
fn radius_time(backend: Backend, t: DateTime<Utc>) -> String {
    match backend {
        Backend::Sqlite => t.format("%Y-%m-%d %H:%M:%S").to_string(),
        Backend::Postgres => t.format("%Y-%m-%d %H:%M:%S+00").to_string(),
    }
}

async fn sessions(
    conn: &mut Conn,
    backend: Backend,
    rows: &[SessionRow],
) -> Result<(), sqlx::Error> {
    const COLS: usize = 13;
    // PostgreSQL's radacct types addresses and times.
    let tuple = move |n: usize| match backend {
        Backend::Sqlite => "(?, ?, ?, ?, 'pppoe-in', 'Virtual', ?, ?, ?, ?, ?, ?, ?, ?, ?, \
                            'PPP', 'Framed-User')"
            .to_string(),
        Backend::Postgres => format!(
            "(${}, ${}, ${}, CAST(${} AS INET), 'pppoe-in', 'Virtual', \
             CAST(${} AS TIMESTAMPTZ), CAST(${} AS TIMESTAMPTZ), CAST(${} AS TIMESTAMPTZ), \
             ${}, ${}, ${}, ${}, ${}, CAST(${} AS INET), 'PPP', 'Framed-User')",
            n,
            n + 1,
            n + 2,
            n + 3,
            n + 4,
            n + 5,
            n + 6,
            n + 7,
            n + 8,
            n + 9,
            n + 10,
            n + 11,
            n + 12
        ),
    };
    for chunk in rows.chunks(rows_per_statement(COLS)) {
        let sql = format!(
            "INSERT INTO radacct (acctsessionid, acctuniqueid, username, nasipaddress, \
             nasportid, nasporttype, acctstarttime, acctupdatetime, acctstoptime, \
             acctsessiontime, acctinputoctets, acctoutputoctets, callingstationid, \
             acctterminatecause, framedipaddress, framedprotocol, servicetype) VALUES {}",
            values(chunk.len(), COLS, tuple)
        );
        let mut q = sqlx::query(AssertSqlSafe(sql));
        for r in chunk {
            q = q
                .bind(&r.session_id)
                .bind(&r.unique_id)
                .bind(&r.login)
                .bind(&r.nas_ip)
                .bind(radius_time(backend, r.start))
                .bind(radius_time(backend, r.update))
                .bind(r.stop.map(|t| radius_time(backend, t)))
                .bind(r.session_time)
                .bind(r.input_octets)
                .bind(r.output_octets)
                .bind(&r.calling_station)
                .bind(r.terminate_cause)
                .bind(&r.framed_ip);
        }
        q.execute(&mut *conn).await?;
    }
    Ok(())
}

/// Plans (with their groups' rate limits), POPs, NAS and network elements.
pub async fn catalogs(
    conn: &mut Conn,
    shape: &Shape,
    block_group: &str,
) -> Result<(), sqlx::Error> {
    for (i, (name, down, up, price, group, _)) in super::model::PLANS.iter().enumerate() {
        let id = i as i64 + 1;
        sqlx::query(
            "INSERT INTO plans (id, name, download_kbps, upload_kbps, price_cents, radius_group) \
             VALUES ($1, $2, $3, $4, $5, $6)",
        )
        .bind(id)
        .bind(*name)
        .bind(*down)
        .bind(*up)
        .bind(*price)
        .bind(*group)
        .execute(&mut *conn)
        .await?;
        radius::provision_plan(conn, id).await?;
    }
    // The block group's reply is the operator's choice; as in the demo, an address list
    // that a captive-portal rule would redirect.
    sqlx::query(
        "INSERT INTO radgroupreply (groupname, attribute, op, value) \
         VALUES ($1, 'Mikrotik-Address-List', ':=', 'bloqueados')",
    )
    .bind(block_group)
    .execute(&mut *conn)
    .await?;
    let cities = super::model::CITIES;
    for pop in 1..=shape.pops {
        let city = cities[(pop as usize - 1) % cities.len()];
        sqlx::query("INSERT INTO pops (id, name, city) VALUES ($1, $2, $3)")
            .bind(pop)
            .bind(format!("POP {city} {pop:03}"))
            .bind(city)
            .execute(&mut *conn)
            .await?;
        for e in 1..=shape.elements_per_pop {
            let id = (pop - 1) * shape.elements_per_pop + e;
            sqlx::query(
                "INSERT INTO network_elements (id, name, kind, pop_id) VALUES ($1, $2, 'olt', $3)",
            )
            .bind(id)
            .bind(format!("OLT {pop:03}-{e:02}"))
            .bind(pop)
            .execute(&mut *conn)
            .await?;
        }
    }
    // One NAS per POP, at private addresses, never probed (check_method none).
    for id in 1..=shape.nas_count() {
        sqlx::query(
            "INSERT INTO nas (id, nasname, shortname, type, secret, description, coa_port, \
             pop_id, check_method) \
             VALUES ($1, $2, $3, 'mikrotik', $4, 'Concentrador PPPoE', 3799, $5, 'none')",
        )
        .bind(id)
        .bind(Shape::nas_ip(id))
        .bind(format!("bng-{id:03}"))
        .bind(format!("segredo-{id:03}"))
        .bind(id)
        .execute(&mut *conn)
        .await?;
    }
    Ok(())
}

/// A few maintenances: one in force on a network element (a small share of the contracts,
/// whatever the size, so that `verificaacesso` mostly reads), one on a NAS last week, and
/// past ones resolved.
pub async fn maintenances(conn: &mut Conn, shape: &Shape) -> Result<i64, sqlx::Error> {
    let now = shape.now;
    let hours = chrono::TimeDelta::hours;
    let ts = crate::store::ts;
    let mut id = 0;
    let mut add = async |conn: &mut Conn,
                         description: String,
                         message: Option<&str>,
                         severity: i64,
                         status: i64,
                         start: DateTime<Utc>,
                         end: Option<DateTime<Utc>>,
                         resolved: Option<DateTime<Utc>>|
           -> Result<i64, sqlx::Error> {
        id += 1;
        sqlx::query(
            "INSERT INTO maintenances (id, description, ivr_message, severity, status, \
             starts_at, expected_end, resolved_at, created_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
        )
        .bind(id)
        .bind(description)
        .bind(message)
        .bind(severity)
        .bind(status)
        .bind(ts(start))
        .bind(end.map(ts))
        .bind(resolved.map(ts))
        .bind(ts(start))
        .execute(&mut *conn)
        .await?;
        Ok(id)
    };
    let element = shape.elements();
    let m = add(
        conn,
        format!("Rompimento de fibra na OLT {element}"),
        Some("Manutenção na região"),
        4,
        2,
        now - hours(1),
        Some(now + hours(2)),
        None,
    )
    .await?;
    sqlx::query("INSERT INTO maintenance_elements (maintenance_id, element_id) VALUES ($1, $2)")
        .bind(m)
        .bind(element)
        .execute(&mut *conn)
        .await?;
    let nas = shape.nas_count();
    let start = now - hours(24 * 7);
    let m = add(
        conn,
        format!("Troca de fonte do concentrador bng-{nas:03}"),
        None,
        3,
        4,
        start,
        Some(start + hours(1)),
        Some(start + hours(1)),
    )
    .await?;
    sqlx::query("INSERT INTO maintenance_nas (maintenance_id, nas_id) VALUES ($1, $2)")
        .bind(m)
        .bind(nas)
        .execute(&mut *conn)
        .await?;
    for k in 1..=20i64 {
        let element = 1 + (k * 7919) % shape.elements();
        let start = now - hours(24 * 9 * k);
        let m = add(
            conn,
            format!("Atualização de firmware da OLT {element}"),
            Some("Manutenção programada"),
            1,
            4,
            start,
            Some(start + hours(2)),
            Some(start + hours(1)),
        )
        .await?;
        sqlx::query(
            "INSERT INTO maintenance_elements (maintenance_id, element_id) VALUES ($1, $2)",
        )
        .bind(m)
        .bind(element)
        .execute(&mut *conn)
        .await?;
    }
    Ok(id)
}
