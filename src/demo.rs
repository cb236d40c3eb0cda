//! The demo provider: a small, realistic data set whose facts the README and the tests rely
//! on (see the table in README.md). Dates are relative to the moment it is created.

use crate::store::Conn;
use chrono::{DateTime, Days, NaiveDate, TimeDelta, Utc};
use chrono_tz::Tz;

use crate::domain::{boleto, pix};
use crate::settings::RadiusSettings;
use crate::store::protocols::{self, Owner};
use crate::store::radius;
use crate::store::{Backend, Store, ts};

/// Provider facts used in the demo's invoices.
const PIX_KEY: &str = "8c1f5e2a-4b7d-4e3a-9f21-6d0c2b7a9e15";

/// Fills an empty database with the demo provider. Returns false (and changes nothing) when
/// the database already holds customers.
pub async fn seed(store: &Store, now: DateTime<Utc>, tz: Tz) -> anyhow::Result<bool> {
    seed_with(store, now, tz, &RadiusSettings::default()).await
}

/// `seed`, provisioning FreeRADIUS with the operator's group names.
pub async fn seed_with(
    store: &Store,
    now: DateTime<Utc>,
    tz: Tz,
    radius_settings: &RadiusSettings,
) -> anyhow::Result<bool> {
    let mut tx = store.write().await?;
    let customers: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM customers")
        .fetch_one(&mut **tx)
        .await?;
    if customers > 0 {
        return Ok(false);
    }
    let today = now.with_timezone(&tz).date_naive();
    let conn: &mut Conn = &mut tx;
    let t = ts(now);

    exec(
        conn,
        "INSERT INTO meta (key, value) VALUES ('demo', $1)",
        &[&t],
    )
    .await?;

    for (id, name, city) in [
        (1_i64, "POP Centro", "Natal"),
        (2, "POP Zona Norte", "Natal"),
    ] {
        sqlx::query("INSERT INTO pops (id, name, city) VALUES ($1, $2, $3)")
            .bind(id)
            .bind(name)
            .bind(city)
            .execute(&mut *conn)
            .await?;
    }
    // Loopback addresses: nothing the demo does may reach a real router.
    for (id, ip, short, pop) in [
        (1_i64, "127.0.0.1", "nas-centro", 1_i64),
        (2, "127.0.0.2", "nas-sul", 1),
    ] {
        sqlx::query(
            "INSERT INTO nas (id, nasname, shortname, type, secret, description, coa_port, pop_id) \
             VALUES ($1, $2, $3, 'mikrotik', 'demo-secret', 'Concentrador PPPoE', 3799, $4)",
        )
        .bind(id)
        .bind(ip)
        .bind(short)
        .bind(pop)
        .execute(&mut *conn)
        .await?;
    }
    for (id, name, pop) in [(1_i64, "OLT Centro 01", 1_i64), (2, "OLT Norte 01", 2)] {
        sqlx::query(
            "INSERT INTO network_elements (id, name, kind, pop_id) VALUES ($1, $2, 'olt', $3)",
        )
        .bind(id)
        .bind(name)
        .bind(pop)
        .execute(&mut *conn)
        .await?;
    }
    for (id, name, down, up, price, group) in [
        (
            1_i64,
            "FIBRA 300M",
            300_000_i64,
            150_000_i64,
            9990_i64,
            "plano-300m",
        ),
        (2, "FIBRA 600M", 600_000, 300_000, 12990, "plano-600m"),
        (
            3,
            "EMPRESA 1G",
            1_000_000,
            500_000,
            49900,
            "plano-empresa-1g",
        ),
    ] {
        sqlx::query(
            "INSERT INTO plans (id, name, download_kbps, upload_kbps, price_cents, radius_group) \
             VALUES ($1, $2, $3, $4, $5, $6)",
        )
        .bind(id)
        .bind(name)
        .bind(down)
        .bind(up)
        .bind(price)
        .bind(group)
        .execute(&mut *conn)
        .await?;
    }

    // Customers and their contacts.
    let customers = [
        (
            1_i64,
            "MARIA DE TESTE SILVA",
            "52998224725",
            Some("1985-03-14"),
        ),
        (2, "PROVEDOR EXEMPLO LTDA", "12ABC34501DE35", None),
        (3, "JOSE SEM CONTATO", "11144477735", Some("1970-07-01")),
        (4, "EMPRESA ANTIGA LTDA", "11222333000181", None),
        (5, "ANA OFFLINE COSTA", "39053344705", Some("1992-11-30")),
    ];
    for (id, name, document, birth) in customers {
        sqlx::query(
            "INSERT INTO customers (id, name, document, birth_date, created_at) \
             VALUES ($1, $2, $3, $4, $5)",
        )
        .bind(id)
        .bind(name)
        .bind(document)
        .bind(birth)
        .bind(&t)
        .execute(&mut *conn)
        .await?;
    }
    for (customer, kind, value) in [
        (1_i64, "email", "maria.silva@example.com"),
        (1, "mobile", "84991380000"),
        (2, "phone", "8432110000"),
        (4, "email", "financeiro@empresaantiga.example.com"),
        (5, "email", "ana.costa@example.com"),
        (5, "mobile", "84988887777"),
    ] {
        sqlx::query("INSERT INTO customer_contacts (customer_id, kind, value) VALUES ($1, $2, $3)")
            .bind(customer)
            .bind(kind)
            .bind(value)
            .execute(&mut *conn)
            .await?;
    }

    // Contracts: (id, customer, status, pop, due day, address).
    let contracts = [
        (
            1001_i64,
            1_i64,
            1_i64,
            1_i64,
            10_i64,
            "Rua das Flores, 100, Centro",
        ),
        (1002, 1, 4, 1, 15, "Av. Praia, 2000, Ponta Negra"),
        (2001, 2, 1, 2, 5, "Rua do Comércio, 50, Zona Norte"),
        (3001, 3, 4, 1, 20, "Rua Sem Saída, 7, Centro"),
        (4001, 4, 3, 1, 10, "Av. Antiga, 1, Centro"),
        (5001, 3, 1, 1, 20, "Rua da Loja, 9, Centro"),
        (6001, 5, 1, 1, 25, "Rua Desligada, 404, Centro"),
    ];
    for (id, customer, status, pop, due_day, address) in contracts {
        sqlx::query(
            "INSERT INTO contracts (id, customer_id, status, status_mode, pop_id, due_day, \
             address, created_at) VALUES ($1, $2, $3, 1, $4, $5, $6, $7)",
        )
        .bind(id)
        .bind(customer)
        .bind(status)
        .bind(pop)
        .bind(due_day)
        .bind(address)
        .bind(&t)
        .execute(&mut *conn)
        .await?;
    }

    // Internet services: (id, contract, login, plan, nas, element, enabled).
    let services = [
        (101_i64, 1001_i64, "maria.silva", 2_i64, 1_i64, 1_i64, true),
        (102, 1002, "maria.silva2", 1, 1, 1, false),
        (201, 2001, "provedor.exemplo", 3, 1, 2, true),
        (301, 3001, "jose.semcontato", 1, 1, 1, false),
        (401, 4001, "empresa.antiga", 1, 1, 1, false),
        (501, 5001, "jose.loja", 1, 2, 1, true),
        (601, 6001, "ana.costa", 2, 1, 1, true),
    ];
    for (id, contract, login, plan, nas, element, enabled) in services {
        sqlx::query(
            "INSERT INTO internet_services (id, contract_id, login, password, plan_id, nas_id, \
             element_id, mac, enabled) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
        )
        .bind(id)
        .bind(contract)
        .bind(login)
        .bind(format!("demo-{}", rand::random::<u32>()))
        .bind(plan)
        .bind(nas)
        .bind(element)
        .bind(format!("02:00:00:00:{:02X}:{:02X}", id / 100, id % 100))
        .bind(i64::from(enabled))
        .execute(&mut *conn)
        .await?;
    }

    // Invoices: (id, contract, amount, due offset in days, status).
    let day = |offset: i64| -> NaiveDate {
        if offset >= 0 {
            today + Days::new(offset as u64)
        } else {
            today - Days::new(offset.unsigned_abs())
        }
    };
    let invoices = [
        (10011_i64, 1001_i64, 12990_i64, -20_i64, "paid"),
        (10012, 1001, 12990, 10, "open"),
        (10021, 1002, 4990, -40, "open"),
        (10022, 1002, 9990, -10, "open"),
        (20011, 2001, 49900, 5, "open"),
        (30011, 3001, 7990, -25, "open"),
        (40011, 4001, 9990, -200, "cancelled"),
        (50011, 5001, 9990, -15, "paid"),
        (60011, 6001, 12990, -5, "paid"),
    ];
    for (id, contract, cents, offset, status) in invoices {
        let due = day(offset);
        let free_field = format!("{:025}", 1_000_000_000_i64 + id);
        let barcode = boleto::barcode("001", '9', Some(due), cents as u64, &free_field);
        let linha = barcode.as_deref().and_then(boleto::linha_digitavel);
        let pix = pix::build(&pix::PixPayload {
            key: PIX_KEY.into(),
            merchant_name: "PROVEDOR DEMO".into(),
            merchant_city: "NATAL".into(),
            amount_cents: Some(cents as u64),
            txid: format!("FAT{id}"),
        });
        let issued = due - Days::new(20);
        sqlx::query(
            "INSERT INTO invoices (id, contract_id, document_number, our_number, amount_cents, \
             issued_on, due_on, status, paid_on, paid_cents, cancelled_on, barcode, \
             digitable_line, pix_payload) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14)",
        )
        .bind(id)
        .bind(contract)
        .bind(format!("{id}"))
        .bind(format!("{:017}", id))
        .bind(cents)
        .bind(issued.to_string())
        .bind(due.to_string())
        .bind(status)
        .bind((status == "paid").then(|| due.to_string()))
        .bind((status == "paid").then_some(cents))
        .bind((status == "cancelled").then(|| due.to_string()))
        .bind(barcode)
        .bind(linha)
        .bind(pix)
        .execute(&mut *conn)
        .await?;
    }

    // RADIUS accounting: Maria's 1001 online; Ana's last session closed yesterday.
    let sessions = [
        (
            "maria.silva",
            "127.0.0.1",
            "100.64.0.10",
            now - TimeDelta::hours(3),
            None,
        ),
        (
            "jose.loja",
            "127.0.0.2",
            "100.64.1.20",
            now - TimeDelta::hours(30),
            None,
        ),
        (
            "ana.costa",
            "127.0.0.1",
            "100.64.0.30",
            now - TimeDelta::hours(40),
            Some(now - TimeDelta::hours(20)),
        ),
    ];
    // FreeRADIUS's PostgreSQL schema types addresses and times; SQLite's are text.
    let radacct_sql = match store.backend {
        Backend::Sqlite => {
            "INSERT INTO radacct (acctsessionid, acctuniqueid, username, nasipaddress, \
             nasportid, nasporttype, acctstarttime, acctupdatetime, acctstoptime, \
             acctsessiontime, callingstationid, acctterminatecause, framedipaddress, \
             framedprotocol, servicetype) \
             VALUES ($1, $2, $3, $4, 'pppoe-in', 'Virtual', $5, $6, $7, $8, $9, $10, $11, \
             'PPP', 'Framed-User')"
        }
        Backend::Postgres => {
            "INSERT INTO radacct (acctsessionid, acctuniqueid, username, nasipaddress, \
             nasportid, nasporttype, acctstarttime, acctupdatetime, acctstoptime, \
             acctsessiontime, callingstationid, acctterminatecause, framedipaddress, \
             framedprotocol, servicetype) \
             VALUES ($1, $2, $3, CAST($4 AS INET), 'pppoe-in', 'Virtual', \
             CAST($5 AS TIMESTAMPTZ), CAST($6 AS TIMESTAMPTZ), CAST($7 AS TIMESTAMPTZ), \
             $8, $9, $10, CAST($11 AS INET), 'PPP', 'Framed-User')"
        }
    };
    let radius_time = |t: DateTime<Utc>| match store.backend {
        Backend::Sqlite => t.format("%Y-%m-%d %H:%M:%S").to_string(),
        Backend::Postgres => t.format("%Y-%m-%d %H:%M:%S+00").to_string(),
    };
    for (i, (login, nas, ip, start, stop)) in sessions.into_iter().enumerate() {
        sqlx::query(radacct_sql)
            .bind(format!("81D0{:04X}", i + 1))
            .bind(format!("demo-{login}-{i}"))
            .bind(login)
            .bind(nas)
            .bind(radius_time(start))
            .bind(radius_time(stop.unwrap_or(now)))
            .bind(stop.map(radius_time))
            .bind((stop.unwrap_or(now) - start).num_seconds())
            .bind(format!("02:00:00:00:00:{:02X}", i + 1))
            .bind(if stop.is_some() { "Lost-Carrier" } else { "" })
            .bind(ip)
            .execute(&mut *conn)
            .await?;
    }

    // 3001 already used this month's promise; the operator revoked it, and it still counts.
    let protocol = protocols::allocate(
        conn,
        now,
        today,
        Owner {
            contract_id: Some(3001),
            customer_id: 3,
            origin: "liberacaopromessa",
        },
        None,
    )
    .await?;
    sqlx::query(
        "INSERT INTO promises (contract_id, local_month, seq, created_at, promised_date, \
         expires_at, protocol, previous_status, previous_mode, state, caller) \
         VALUES (3001, $1, 1, $2, $3, $2, $4, 4, 1, 'revoked', '84999990000')",
    )
    .bind(today.format("%Y-%m").to_string())
    .bind(&t)
    .bind(today.to_string())
    .bind(&protocol)
    .execute(&mut *conn)
    .await?;

    // Maintenances: one on 2001's POP (ends 90 minutes from now), one on 5001's NAS, and
    // an old resolved one.
    let maintenances = [
        (
            1_i64,
            "Rompimento de fibra no anel da Zona Norte",
            Some("Manutenção na região"),
            4_i64,
            2_i64,
            now - TimeDelta::minutes(30),
            Some(now + TimeDelta::minutes(90)),
            None,
        ),
        (
            2,
            "Troca de fonte do concentrador nas-sul",
            None,
            3,
            1,
            now - TimeDelta::minutes(10),
            Some(now + TimeDelta::minutes(45)),
            None,
        ),
        (
            3,
            "Atualização de firmware da OLT Centro 01",
            Some("Manutenção programada"),
            1,
            4,
            now - TimeDelta::days(7),
            Some(now - TimeDelta::days(7) + TimeDelta::hours(2)),
            Some(now - TimeDelta::days(7) + TimeDelta::hours(1)),
        ),
    ];
    for (id, description, message, severity, status, start, end, resolved) in maintenances {
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
        .bind(&t)
        .execute(&mut *conn)
        .await?;
    }
    exec(
        conn,
        "INSERT INTO maintenance_pops (maintenance_id, pop_id) VALUES (1, 2)",
        &[],
    )
    .await?;
    exec(
        conn,
        "INSERT INTO maintenance_nas (maintenance_id, nas_id) VALUES (2, 2)",
        &[],
    )
    .await?;
    exec(
        conn,
        "INSERT INTO maintenance_elements (maintenance_id, element_id) VALUES (3, 1)",
        &[],
    )
    .await?;

    // The block group's reply is the operator's choice; the demo puts blocked customers in
    // an address list that a captive-portal rule would redirect.
    sqlx::query(
        "INSERT INTO radgroupreply (groupname, attribute, op, value) \
         VALUES ($1, 'Mikrotik-Address-List', ':=', 'bloqueados')",
    )
    .bind(&radius_settings.grupo_bloqueio)
    .execute(&mut *conn)
    .await?;
    radius::sync_all(conn, radius_settings).await?;

    if store.backend == Backend::Postgres {
        // Explicit ids above: move the identity sequences past them.
        for table in [
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
        ] {
            sqlx::query(sqlx::AssertSqlSafe(format!(
                "SELECT setval(pg_get_serial_sequence('{table}', 'id'), \
                 (SELECT COALESCE(MAX(id), 0) + 1 FROM {table}), false)"
            )))
            .execute(&mut *conn)
            .await?;
        }
    }

    tx.commit().await?;
    Ok(true)
}

async fn exec(conn: &mut Conn, sql: &'static str, binds: &[&str]) -> Result<(), sqlx::Error> {
    let mut q = sqlx::query(sql);
    for b in binds {
        q = q.bind(*b);
    }
    q.execute(conn).await?;
    Ok(())
}

/// Whether this database was created by `ura demo`.
pub async fn is_demo(store: &Store) -> Result<bool, sqlx::Error> {
    Ok(store.meta("demo").await?.is_some())
}
