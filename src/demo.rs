//! The demo provider: a small, realistic data set whose facts the documentation and the tests rely
//! on (see the table in docs/reference.md). Dates are relative to the moment it is created.

use crate::store::Conn;
use crate::store::radius;
use chrono::{DateTime, Days, NaiveDate, TimeDelta, Utc};
use chrono_tz::Tz;

use crate::domain::{boleto, pix};
use crate::settings::RadiusSettings;
use crate::store::protocols::{self, Owner};
use crate::store::seed::{
    self, ContactRow, ContractRow, CustomerRow, ElementRow, InvoiceRow, MaintenanceRow, NasRow,
    PlanRow, PopRow, PromiseRow, Rows, ServiceRow, SessionRow,
};
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
    if seed::has_customers(&mut tx).await? {
        return Ok(false);
    }
    let today = now.with_timezone(&tz).date_naive();
    let conn: &mut Conn = &mut tx;
    let t = ts(now);
    seed::put_meta(conn, "demo", &t).await?;

    let pops =
        [(1, "POP Centro", "Natal"), (2, "POP Zona Norte", "Natal")].map(|(id, name, city)| {
            PopRow {
                id,
                name: name.into(),
                city: city.into(),
            }
        });
    // Loopback addresses: nothing the demo does may reach a real router.
    let nas = [
        (1, "127.0.0.1", "nas-centro", 1),
        (2, "127.0.0.2", "nas-sul", 1),
    ]
    .map(|(id, ip, short, pop_id)| NasRow {
        id,
        nasname: ip.into(),
        shortname: short.into(),
        secret: "demo-secret".into(),
        pop_id,
    });
    let elements =
        [(1, "OLT Centro 01", 1), (2, "OLT Norte 01", 2)].map(|(id, name, pop_id)| ElementRow {
            id,
            name: name.into(),
            pop_id,
        });
    let plans = [
        (1, "FIBRA 300M", 300_000, 150_000, 9990, "plano-300m"),
        (2, "FIBRA 600M", 600_000, 300_000, 12990, "plano-600m"),
        (
            3,
            "EMPRESA 1G",
            1_000_000,
            500_000,
            49900,
            "plano-empresa-1g",
        ),
    ]
    .map(|(id, name, down, up, price, group)| PlanRow {
        id,
        name: name.into(),
        download_kbps: down,
        upload_kbps: up,
        price_cents: price,
        radius_group: group.into(),
    });

    // Customers and their contacts.
    let customers = [
        (1, "MARIA DE TESTE SILVA", "52998224725", Some("1985-03-14")),
        (2, "PROVEDOR EXEMPLO LTDA", "12ABC34501DE35", None),
        (3, "JOSE SEM CONTATO", "11144477735", Some("1970-07-01")),
        (4, "EMPRESA ANTIGA LTDA", "11222333000181", None),
        (5, "ANA OFFLINE COSTA", "39053344705", Some("1992-11-30")),
    ]
    .map(|(id, name, document, birth)| CustomerRow {
        id,
        name: name.into(),
        document: document.into(),
        birth_date: birth.map(str::to_string),
        created_at: t.clone(),
    });
    let contacts = [
        (1, "email", "maria.silva@example.com"),
        (1, "mobile", "84991380000"),
        (2, "phone", "8432110000"),
        (4, "email", "financeiro@empresaantiga.example.com"),
        (5, "email", "ana.costa@example.com"),
        (5, "mobile", "84988887777"),
    ]
    .map(|(customer_id, kind, value)| ContactRow {
        customer_id,
        kind,
        value: value.into(),
    });

    // Contracts: (id, customer, status, pop, due day, address).
    let contracts = [
        (1001, 1, 1, 1, 10, "Rua das Flores, 100, Centro"),
        (1002, 1, 4, 1, 15, "Av. Praia, 2000, Ponta Negra"),
        (2001, 2, 1, 2, 5, "Rua do Comércio, 50, Zona Norte"),
        (3001, 3, 4, 1, 20, "Rua Sem Saída, 7, Centro"),
        (4001, 4, 3, 1, 10, "Av. Antiga, 1, Centro"),
        (5001, 3, 1, 1, 20, "Rua da Loja, 9, Centro"),
        (6001, 5, 1, 1, 25, "Rua Desligada, 404, Centro"),
    ]
    .map(
        |(id, customer_id, status, pop_id, due_day, address)| ContractRow {
            id,
            customer_id,
            status,
            status_mode: 1,
            pop_id,
            due_day,
            address: address.into(),
            created_at: t.clone(),
        },
    );

    // Internet services: (id, contract, login, plan, nas, element, enabled).
    let services = [
        (101, 1001, "maria.silva", 2, 1, 1, true),
        (102, 1002, "maria.silva2", 1, 1, 1, false),
        (201, 2001, "provedor.exemplo", 3, 1, 2, true),
        (301, 3001, "jose.semcontato", 1, 1, 1, false),
        (401, 4001, "empresa.antiga", 1, 1, 1, false),
        (501, 5001, "jose.loja", 1, 2, 1, true),
        (601, 6001, "ana.costa", 2, 1, 1, true),
    ]
    .map(
        |(id, contract_id, login, plan_id, nas_id, element_id, enabled)| ServiceRow {
            id,
            contract_id,
            login: login.into(),
            password: format!("demo-{}", rand::random::<u32>()),
            plan_id,
            nas_id,
            element_id,
            mac: format!("02:00:00:00:{:02X}:{:02X}", id / 100, id % 100),
            enabled: i64::from(enabled),
        },
    );

    // Invoices: (id, contract, amount, due offset in days, status).
    let day = |offset: i64| -> NaiveDate {
        if offset >= 0 {
            today + Days::new(offset as u64)
        } else {
            today - Days::new(offset.unsigned_abs())
        }
    };
    let invoices = [
        (10011, 1001, 12990, -20, "paid"),
        (10012, 1001, 12990, 10, "open"),
        (10021, 1002, 4990, -40, "open"),
        (10022, 1002, 9990, -10, "open"),
        (20011, 2001, 49900, 5, "open"),
        (30011, 3001, 7990, -25, "open"),
        (40011, 4001, 9990, -200, "cancelled"),
        (50011, 5001, 9990, -15, "paid"),
        (60011, 6001, 12990, -5, "paid"),
    ]
    .map(|(id, contract_id, cents, offset, status)| {
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
        InvoiceRow {
            id,
            contract_id,
            amount_cents: cents,
            issued_on: (due - Days::new(20)).to_string(),
            due_on: due.to_string(),
            status,
            paid_on: (status == "paid").then(|| due.to_string()),
            paid_cents: (status == "paid").then_some(cents),
            cancelled_on: (status == "cancelled").then(|| due.to_string()),
            barcode,
            digitable_line: linha,
            pix_payload: Some(pix),
        }
    });

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
    let sessions: Vec<SessionRow> = sessions
        .into_iter()
        .enumerate()
        .map(|(i, (login, nas_ip, ip, start, stop))| SessionRow {
            session_id: format!("81D0{:04X}", i + 1),
            unique_id: format!("demo-{login}-{i}"),
            login: login.into(),
            nas_ip: nas_ip.into(),
            start,
            update: stop.unwrap_or(now),
            stop,
            session_time: (stop.unwrap_or(now) - start).num_seconds(),
            input_octets: None,
            output_octets: None,
            calling_station: format!("02:00:00:00:00:{:02X}", i + 1),
            terminate_cause: if stop.is_some() { "Lost-Carrier" } else { "" },
            framed_ip: ip.into(),
        })
        .collect();

    // Maintenances: one on 2001's POP (ends 90 minutes from now), one on 5001's NAS, and
    // an old resolved one.
    let week_ago = now - TimeDelta::days(7);
    let maintenances = [
        MaintenanceRow {
            id: 1,
            description: "Rompimento de fibra no anel da Zona Norte".into(),
            ivr_message: Some("Manutenção na região"),
            severity: 4,
            status: 2,
            starts_at: now - TimeDelta::minutes(30),
            expected_end: Some(now + TimeDelta::minutes(90)),
            resolved_at: None,
            created_at: now,
            pops: vec![2],
            nas: vec![],
            elements: vec![],
        },
        MaintenanceRow {
            id: 2,
            description: "Troca de fonte do concentrador nas-sul".into(),
            ivr_message: None,
            severity: 3,
            status: 1,
            starts_at: now - TimeDelta::minutes(10),
            expected_end: Some(now + TimeDelta::minutes(45)),
            resolved_at: None,
            created_at: now,
            pops: vec![],
            nas: vec![2],
            elements: vec![],
        },
        MaintenanceRow {
            id: 3,
            description: "Atualização de firmware da OLT Centro 01".into(),
            ivr_message: Some("Manutenção programada"),
            severity: 1,
            status: 4,
            starts_at: week_ago,
            expected_end: Some(week_ago + TimeDelta::hours(2)),
            resolved_at: Some(week_ago + TimeDelta::hours(1)),
            created_at: now,
            pops: vec![],
            nas: vec![],
            elements: vec![1],
        },
    ];

    seed::write(
        conn,
        store.backend,
        Rows {
            pops: &pops,
            nas: &nas,
            elements: &elements,
            plans: &plans,
            customers: &customers,
            contacts: &contacts,
            contracts: &contracts,
            services: &services,
            invoices: &invoices,
            sessions: &sessions,
            maintenances: &maintenances,
        },
    )
    .await?;

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
    seed::promise(
        conn,
        &PromiseRow {
            contract_id: 3001,
            local_month: today.format("%Y-%m").to_string(),
            created_at: now,
            promised_date: today.to_string(),
            protocol: &protocol,
            previous_status: 4,
            previous_mode: 1,
            state: "revoked",
            caller: "84999990000",
        },
    )
    .await?;

    seed::block_group_reply(conn, &radius_settings.grupo_bloqueio).await?;
    radius::sync_all(conn, radius_settings).await?;

    if store.backend == Backend::Postgres {
        seed::advance_sequences(conn).await?;
    }

    tx.commit().await?;
    Ok(true)
}

/// Whether this database was created by `ura demo`.
pub async fn is_demo(store: &Store) -> Result<bool, sqlx::Error> {
    Ok(store.meta("demo").await?.is_some())
}
