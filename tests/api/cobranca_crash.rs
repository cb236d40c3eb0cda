//! The dunning run SIGKILLed in the middle (`ura cobranca executar`, a process of its own):
//! every contract is either suspended with its FreeRADIUS row, reason and history, or untouched;
//! the next run finishes the work, and nothing is done twice.

use std::time::Duration;

use crate::common::*;
use crate::process::{run, ura};

/// Contracts with an overdue invoice, beyond the demo's.
const CONTRACTS: i64 = 400;
const FIRST: i64 = 500_000;

async fn scalar(store: &ura::store::Store, sql: &str) -> i64 {
    sqlx::query_scalar(sqlx::AssertSqlSafe(sql.to_string()))
        .fetch_one(store.pool())
        .await
        .unwrap()
}

/// Each contract's (status, reason, radusergroup group, history rows to Suspenso).
async fn states(store: &ura::store::Store) -> Vec<(i64, i64, Option<String>, Option<String>, i64)> {
    sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "SELECT c.id, CAST(c.status AS BIGINT), c.status_reason, \
           (SELECT g.groupname FROM radusergroup g WHERE g.username = 'crash' || c.id), \
           (SELECT COUNT(*) FROM contract_status_changes h WHERE h.contract_id = c.id \
              AND h.to_status = 4 AND h.reason = 'debito') \
         FROM contracts c WHERE c.id >= {FIRST} ORDER BY c.id"
    )))
    .fetch_all(store.pool())
    .await
    .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_killed_dunning_run_leaves_each_contract_whole_and_the_next_run_finishes() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().to_path_buf();
    let (url, pg) = match postgres_admin_url() {
        Some(admin) => {
            let (name, url) = create_pg_database(&admin).await;
            (url, Some((admin, name)))
        }
        None => (format!("sqlite://{}", dir.join("ura.db").display()), None),
    };
    let _cleanup = crate::pgfault::DropDatabaseOnPanic::new(&url);
    let store = ura::store::Store::open(&url).await.unwrap();
    let tz: chrono_tz::Tz = "America/Sao_Paulo".parse().unwrap();
    ura::demo::seed(&store, chrono::Utc::now(), tz)
        .await
        .unwrap();
    let due =
        (chrono::Utc::now().with_timezone(&tz).date_naive() - chrono::Days::new(40)).to_string();
    for id in FIRST..FIRST + CONTRACTS {
        sqlx::query(sqlx::AssertSqlSafe(format!(
            "INSERT INTO customers (id, name, document, created_at) \
             VALUES ({id}, 'CLIENTE {id}', '{:011}', '2026-01-01T00:00:00.000000Z')",
            id
        )))
        .execute(store.pool())
        .await
        .unwrap();
        sqlx::query(sqlx::AssertSqlSafe(format!(
            "INSERT INTO contracts (id, customer_id, status, status_mode, due_day, created_at) \
             VALUES ({id}, {id}, 1, 1, 10, '2026-01-01T00:00:00.000000Z')"
        )))
        .execute(store.pool())
        .await
        .unwrap();
        sqlx::query(sqlx::AssertSqlSafe(format!(
            "INSERT INTO internet_services (id, contract_id, login, password, plan_id, enabled) \
             VALUES ({id}, {id}, 'crash{id}', 'senha', 1, 1)"
        )))
        .execute(store.pool())
        .await
        .unwrap();
        sqlx::query(sqlx::AssertSqlSafe(format!(
            "INSERT INTO invoices (id, contract_id, document_number, our_number, amount_cents, \
             issued_on, due_on, status) VALUES ({id}, {id}, 'D{id}', 'N{id}', 9990, '{due}', \
             '{due}', 'open')"
        )))
        .execute(store.pool())
        .await
        .unwrap();
    }
    store.close().await;
    let plan_group = {
        let store = ura::store::Store::open(&url).await.unwrap();
        let g: String = sqlx::query_scalar("SELECT radius_group FROM plans WHERE id = 1")
            .fetch_one(store.pool())
            .await
            .unwrap();
        store.close().await;
        g
    };
    std::fs::write(
        dir.join("ura.toml"),
        format!(
            "database_url = \"{url}\"\n\n[fatura]\ndiretorio = \"{}\"\n\n[cobranca]\n\
             ativo = true\naviso_antecedencia = 0\nhorario = \"00:00-24:00\"\n\
             dias_uteis = false\ndias_bloqueio = 10\n",
            dir.join("mensagens").display()
        ),
    )
    .unwrap();
    let sync = run(&dir, &["radius", "sync"]).await;
    assert_eq!(sync.code, Some(0), "{}", sync.stderr);

    // The run, killed once it has suspended some contracts.
    let store = ura::store::Store::open(&url).await.unwrap();
    let mut child = ura(&dir).args(["cobranca", "executar"]).spawn().unwrap();
    let deadline = tokio::time::Instant::now() + Duration::from_secs(120);
    loop {
        let done = scalar(
            &store,
            &format!("SELECT COUNT(*) FROM contract_status_changes WHERE contract_id >= {FIRST}"),
        )
        .await;
        if done >= 5 || tokio::time::Instant::now() > deadline {
            break;
        }
        if child.try_wait().unwrap().is_some() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    child.start_kill().unwrap();
    let _ = child.wait().await;

    let after_kill = states(&store).await;
    assert_eq!(after_kill.len() as i64, CONTRACTS);
    let mut suspended = 0;
    for (id, status, reason, group, history) in &after_kill {
        match status {
            4 => {
                suspended += 1;
                assert_eq!(reason.as_deref(), Some("debito"), "contract {id}");
                assert_eq!(group.as_deref(), Some("bloqueado"), "contract {id}");
                assert_eq!(*history, 1, "contract {id}");
            }
            1 => {
                assert_eq!(reason.as_deref(), None, "contract {id}");
                assert_eq!(group.as_deref(), Some(plan_group.as_str()), "contract {id}");
                assert_eq!(*history, 0, "contract {id}");
            }
            other => panic!("contract {id} in status {other}"),
        }
    }
    assert!(
        suspended > 0,
        "the run was killed before it suspended anything"
    );

    // The next run finishes the work; nothing is done twice.
    let again = run(&dir, &["cobranca", "executar"]).await;
    assert_eq!(again.code, Some(0), "{}", again.stderr);
    for (id, status, reason, group, history) in states(&store).await {
        assert_eq!(status, 4, "contract {id}");
        assert_eq!(reason.as_deref(), Some("debito"), "contract {id}");
        assert_eq!(group.as_deref(), Some("bloqueado"), "contract {id}");
        assert_eq!(history, 1, "contract {id}");
    }
    let notices = scalar(
        &store,
        &format!("SELECT COUNT(*) FROM dunning_notices WHERE contract_id >= {FIRST}"),
    )
    .await;
    assert_eq!(notices, CONTRACTS, "one notice per contract");
    // A third run finds nothing left to do.
    let third = run(&dir, &["cobranca", "executar"]).await;
    assert_eq!(third.code, Some(0), "{}", third.stderr);
    assert!(
        !third.stdout.contains("suspensão"),
        "nothing suspended twice: {}",
        third.stdout
    );
    store.close().await;
    if let Some((admin, name)) = pg {
        drop_pg_database(&admin, &name).await;
    }
}
