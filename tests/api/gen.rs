//! `ura gen`: the synthetic provider of the benchmarks, made by the real binary. Counts,
//! valid documents, FreeRADIUS rows as `ura radius sync` writes them, a sample whose pairs
//! exist and that `consultacliente` answers, and a refusal to fill a database twice.
//! No timing here: speed is measured by bench/run.

use std::path::Path;
use std::time::Duration;

use crate::common::*;
use crate::process::{Server, run, sqlite_url};
use ura::domain::document;
use ura::store::Store;

const CUSTOMERS: i64 = 2000;
const SAMPLE: usize = 300;

async fn count(store: &Store, sql: &str) -> i64 {
    sqlx::query_scalar::<_, i64>(sqlx::AssertSqlSafe(sql.to_string()))
        .fetch_one(store.pool())
        .await
        .unwrap_or_else(|e| panic!("{sql}: {e}"))
}

/// FreeRADIUS's rows, without their ids: what FreeRADIUS reads.
async fn radius_rows(store: &Store) -> Vec<(String, String, String)> {
    sqlx::query_as(
        "SELECT 'check', username, value FROM radcheck \
         UNION ALL SELECT 'group', username, groupname FROM radusergroup \
         UNION ALL SELECT 'reply', groupname, value FROM radgroupreply \
         ORDER BY 1, 2, 3",
    )
    .fetch_all(store.pool())
    .await
    .expect("radius rows")
}

async fn generates_a_provider(dir: &Path, db: &str) {
    let sample = dir.join("amostra.csv");
    let sample_arg = sample.display().to_string();
    let customers = CUSTOMERS.to_string();
    let sample_size = SAMPLE.to_string();
    let out = run(
        dir,
        &[
            "gen",
            "--customers",
            &customers,
            "--seed",
            "7",
            "--database",
            db,
            "--sample",
            &sample_arg,
            "--sample-size",
            &sample_size,
        ],
    )
    .await;
    assert_eq!(out.code, Some(0), "{}\n{}", out.stdout, out.stderr);
    assert!(
        out.stdout.contains("2.000 clientes gerados") && out.stdout.contains("clientes/s"),
        "{}",
        out.stdout
    );

    let store = Store::open(db).await.expect("open");
    assert_eq!(
        count(&store, "SELECT COUNT(*) FROM customers").await,
        CUSTOMERS
    );
    let contracts = count(&store, "SELECT COUNT(*) FROM contracts").await;
    assert!(
        (CUSTOMERS * 11 / 10..=CUSTOMERS * 13 / 10).contains(&contracts),
        "about 1.2 contracts per customer: {contracts}"
    );
    let services = count(&store, "SELECT COUNT(*) FROM internet_services").await;
    assert_eq!(services, contracts);
    assert_eq!(
        count(&store, "SELECT COUNT(*) FROM invoices").await,
        12 * contracts
    );
    assert_eq!(
        count(
            &store,
            "SELECT COUNT(*) FROM contracts c WHERE (SELECT COUNT(*) FROM invoices i \
             WHERE i.contract_id = c.id) <> 12"
        )
        .await,
        0,
        "12 invoices for every contract"
    );
    // Mostly active, some suspended and cancelled.
    let active = count(&store, "SELECT COUNT(*) FROM contracts WHERE status = 1").await;
    assert!(active * 10 > contracts * 7, "{active} of {contracts}");
    assert!(count(&store, "SELECT COUNT(*) FROM contracts WHERE status = 4").await > 0);
    assert!(count(&store, "SELECT COUNT(*) FROM contracts WHERE status = 3").await > 0);
    // Invoices: most paid; the open ones carry their payment codes.
    let paid = count(
        &store,
        "SELECT COUNT(*) FROM invoices WHERE status = 'paid'",
    )
    .await;
    assert!(paid * 2 > 12 * contracts, "{paid}");
    let open: Vec<(String, String, String)> = sqlx::query_as(
        "SELECT barcode, digitable_line, pix_payload FROM invoices WHERE status = 'open' \
         ORDER BY id LIMIT 200",
    )
    .fetch_all(store.pool())
    .await
    .expect("open invoices");
    assert!(!open.is_empty());
    for (barcode, linha, pix) in &open {
        assert!(ura::domain::boleto::validate_barcode(barcode), "{barcode}");
        assert_eq!(
            ura::domain::boleto::barcode_from_linha(linha).as_deref(),
            Some(barcode.as_str())
        );
        assert!(ura::domain::pix::validate(pix), "{pix}");
    }
    assert!(
        count(
            &store,
            "SELECT COUNT(*) FROM customer_contacts WHERE kind = 'email'"
        )
        .await
            > 0
    );
    assert!(
        count(
            &store,
            "SELECT COUNT(*) FROM customer_contacts WHERE kind = 'mobile'"
        )
        .await
            > 0
    );
    assert!(count(&store, "SELECT COUNT(*) FROM pops").await >= 2);
    assert!(count(&store, "SELECT COUNT(*) FROM nas").await >= 2);
    assert!(count(&store, "SELECT COUNT(*) FROM network_elements").await >= 2);
    assert!(count(&store, "SELECT COUNT(*) FROM maintenances").await > 0);
    assert!(
        count(
            &store,
            "SELECT COUNT(*) FROM maintenances WHERE resolved_at IS NULL AND status <> 4"
        )
        .await
            > 0,
        "a maintenance in force"
    );

    // FreeRADIUS: one password and one group per service, open sessions for most of those
    // in service.
    assert_eq!(
        count(&store, "SELECT COUNT(*) FROM radcheck").await,
        services
    );
    assert_eq!(
        count(&store, "SELECT COUNT(*) FROM radusergroup").await,
        services
    );
    assert_eq!(
        count(
            &store,
            "SELECT COUNT(*) FROM internet_services s WHERE NOT EXISTS \
             (SELECT 1 FROM radcheck r WHERE r.username = s.login AND r.value = s.password)"
        )
        .await,
        0
    );
    let open_sessions = count(
        &store,
        "SELECT COUNT(*) FROM radacct WHERE acctstoptime IS NULL",
    )
    .await;
    assert!(open_sessions > 0);
    assert!(
        open_sessions * 2 > active,
        "{open_sessions} open, {active} active"
    );
    assert!(
        count(
            &store,
            "SELECT COUNT(*) FROM radacct WHERE acctstoptime IS NOT NULL"
        )
        .await
            > 0,
        "history"
    );

    // Documents: valid, each once, about 10 % CNPJs, some alphanumeric.
    let documents: Vec<String> = sqlx::query_scalar("SELECT document FROM customers")
        .fetch_all(store.pool())
        .await
        .expect("documents");
    let mut cnpjs = 0;
    let mut alphanumeric = 0;
    for d in &documents {
        let parsed = document::parse(d).unwrap_or_else(|| {
            panic!("invalid document {}", document::mask_str(d));
        });
        assert_eq!(parsed.as_str(), d);
        if parsed.kind() == document::Kind::Cnpj {
            cnpjs += 1;
            if d.bytes().any(|b| b.is_ascii_alphabetic()) {
                alphanumeric += 1;
            }
        }
    }
    let distinct: std::collections::HashSet<&String> = documents.iter().collect();
    assert_eq!(distinct.len(), documents.len(), "documents repeat");
    assert!((100..=400).contains(&cnpjs), "{cnpjs} CNPJs");
    assert!(alphanumeric > 0);

    // What `ura radius sync` writes is what gen wrote.
    let before = radius_rows(&store).await;
    let sync = run(dir, &["radius", "sync", "--database", db]).await;
    assert_eq!(sync.code, Some(0), "{}", sync.stderr);
    assert_eq!(
        radius_rows(&store).await,
        before,
        "radius sync changed rows"
    );

    // The sample: existing pairs.
    let text = std::fs::read_to_string(&sample).expect("sample");
    let pairs: Vec<(String, i64)> = text
        .lines()
        .map(|line| {
            let (d, c) = line.split_once(',').expect("document,contract");
            (d.to_string(), c.parse().expect("contract id"))
        })
        .collect();
    assert_eq!(pairs.len(), SAMPLE);
    for (d, c) in &pairs {
        let found: i64 = sqlx::query_scalar(
            "SELECT COUNT(*) FROM contracts c JOIN customers cu ON cu.id = c.customer_id \
             WHERE c.id = $1 AND cu.document = $2",
        )
        .bind(*c)
        .bind(d)
        .fetch_one(store.pool())
        .await
        .expect("pair");
        assert_eq!(found, 1, "sample pair for contract {c} not found");
    }
    store.close().await;

    // The server answers the sample.
    let token = run(dir, &["app", "add", "gen", "--database", db]).await;
    assert_eq!(token.code, Some(0), "{}", token.stderr);
    let token = token.stdout.trim().to_string();
    let server = Server::start(dir, &["serve", "--listen", "127.0.0.1:0", "--database", db]).await;
    let client = reqwest::Client::builder()
        .timeout(Duration::from_secs(30))
        .build()
        .unwrap();
    for (d, c) in pairs.iter().take(25) {
        let contract = c.to_string();
        for (key, value) in [("cpfcnpj", d.as_str()), ("contrato", contract.as_str())] {
            let resp = into_resp(
                client
                    .post(format!("{}/ws/ura/consultacliente/", server.base))
                    .form(&[("app", "gen"), ("token", token.as_str()), (key, value)])
                    .send()
                    .await
                    .expect("send"),
            )
            .await;
            assert_eq!(resp.status, 200, "{}", resp.body);
            let ids: Vec<i64> = resp.json["contratos"]
                .as_array()
                .unwrap_or_else(|| panic!("contratos: {}", resp.body))
                .iter()
                .filter_map(|c| c["contratoId"].as_i64())
                .collect();
            assert!(ids.contains(c), "contract {c} by {key}: {ids:?}");
        }
    }
    drop(server);

    // A second gen on the same database is refused, and changes nothing.
    let again = run(dir, &["gen", "--customers", "10", "--database", db]).await;
    assert_ne!(again.code, Some(0), "{}", again.stdout);
    assert!(again.stderr.contains("já tem dados"), "{}", again.stderr);
    let store = Store::open(db).await.expect("open");
    assert_eq!(
        count(&store, "SELECT COUNT(*) FROM customers").await,
        CUSTOMERS
    );
    store.close().await;
}

#[tokio::test]
async fn gen_fills_an_empty_sqlite_database() {
    let tmp = tempfile::tempdir().unwrap();
    let db = sqlite_url(tmp.path(), "gen.db");
    generates_a_provider(tmp.path(), &db).await;
    // Foreign keys hold although the generator does not check them while loading.
    let store = Store::open(&db).await.expect("open");
    let violations: Vec<(String,)> = sqlx::query_as("PRAGMA foreign_key_check")
        .fetch_all(store.pool())
        .await
        .expect("foreign_key_check");
    assert!(violations.is_empty(), "{violations:?}");
    store.close().await;
}

#[tokio::test]
async fn gen_fills_an_empty_postgres_database() {
    let Some(admin) = postgres_admin_url() else {
        return;
    };
    let tmp = tempfile::tempdir().unwrap();
    let (name, url) = create_pg_database(&admin).await;
    generates_a_provider(tmp.path(), &url).await;
    drop_pg_database(&admin, &name).await;
}
