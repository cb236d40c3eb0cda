//! FreeRADIUS provisioning: the stock `rlm_sql` tables in our database (`radcheck`,
//! `radusergroup`, `radgroupreply`) follow the data — one password row and one group row per
//! login, each plan's rate limit on its group, blocked logins in the block group — in the same
//! transaction as every change, and `ura radius sync` rewrites them from the data.

use crate::common::*;
use crate::pgfault::DropDatabaseOnPanic;
use crate::process::ura;

use std::collections::BTreeMap;
use std::time::Duration;

use serde_json::json;

const BLOCKED: [&str; 3] = ["maria.silva2", "jose.semcontato", "empresa.antiga"];

/// The group each demo login starts in.
const DEMO_GROUPS: [(&str, &str); 7] = [
    ("maria.silva", "plano-600m"),
    ("maria.silva2", "bloqueado"),
    ("provedor.exemplo", "plano-empresa-1g"),
    ("jose.semcontato", "bloqueado"),
    ("empresa.antiga", "bloqueado"),
    ("jose.loja", "plano-300m"),
    ("ana.costa", "plano-600m"),
];

async fn strings(app: &TestApp, sql: &str) -> Vec<String> {
    sqlx::query_scalar(sqlx::AssertSqlSafe(sql.to_string()))
        .fetch_all(app.store.pool())
        .await
        .expect("rows")
}

/// Every row of the three tables, as `table|...` text, sorted (ids left out).
async fn rad_rows(app: &TestApp) -> Vec<String> {
    let mut rows = strings(
        app,
        "SELECT 'radcheck|' || username || '|' || attribute || '|' || op || '|' || value \
         FROM radcheck",
    )
    .await;
    rows.extend(
        strings(
            app,
            "SELECT 'radusergroup|' || username || '|' || groupname || '|' || \
             CAST(priority AS TEXT) FROM radusergroup",
        )
        .await,
    );
    rows.extend(
        strings(
            app,
            "SELECT 'radgroupreply|' || groupname || '|' || attribute || '|' || op || '|' || \
             value FROM radgroupreply",
        )
        .await,
    );
    rows.sort();
    rows
}

/// The groups of a login (all its `radusergroup` rows).
async fn groups_of(app: &TestApp, login: &str) -> Vec<String> {
    strings(
        app,
        &format!("SELECT groupname FROM radusergroup WHERE username = '{login}' ORDER BY id"),
    )
    .await
}

/// login → its services' (password, contract status, enabled, plan group).
async fn services(app: &TestApp) -> BTreeMap<String, (String, i64, bool, String)> {
    let rows: Vec<(String, String, String, String, String)> = sqlx::query_as(
        "SELECT s.login, s.password, CAST(c.status AS TEXT), CAST(s.enabled AS TEXT), \
         p.radius_group FROM internet_services s JOIN contracts c ON c.id = s.contract_id \
         JOIN plans p ON p.id = s.plan_id",
    )
    .fetch_all(app.store.pool())
    .await
    .expect("services");
    rows.into_iter()
        .map(|(login, password, status, enabled, group)| {
            (
                login,
                (
                    password,
                    status.parse().expect("status"),
                    enabled != "0",
                    group,
                ),
            )
        })
        .collect()
}

async fn password_rows(app: &TestApp, login: &str) -> Vec<String> {
    strings(
        app,
        &format!(
            "SELECT attribute || '|' || op || '|' || value FROM radcheck \
             WHERE username = '{login}' ORDER BY id"
        ),
    )
    .await
}

async fn group_replies(app: &TestApp, group: &str) -> Vec<String> {
    strings(
        app,
        &format!(
            "SELECT attribute || '|' || op || '|' || value FROM radgroupreply \
             WHERE groupname = '{group}' ORDER BY attribute, value"
        ),
    )
    .await
}

/// `ura radius sync` on the test's database; `block_group` sets URA_RADIUS_GRUPO_BLOQUEIO.
async fn radius_sync(app: &TestApp, block_group: Option<&str>) -> String {
    let mut cmd = ura(app.dir.path());
    if let Some(group) = block_group {
        cmd.env("URA_RADIUS_GRUPO_BLOQUEIO", group);
    }
    cmd.args(["radius", "sync", "--database", &app.settings.database_url]);
    let out = tokio::time::timeout(Duration::from_secs(60), cmd.output())
        .await
        .expect("ura radius sync did not finish")
        .expect("run ura radius sync");
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    assert_eq!(out.status.code(), Some(0), "ura radius sync: {stderr}");
    assert!(
        String::from_utf8_lossy(&out.stdout).trim().is_empty(),
        "nothing on stdout"
    );
    stderr
}

/// Every login has exactly one password row and one group row, nothing else is there.
async fn assert_one_row_each(app: &TestApp, block_group: &str) {
    let services = services(app).await;
    assert_eq!(services.len(), 7, "the demo's logins");
    for (login, (password, status, enabled, plan_group)) in &services {
        assert_eq!(
            password_rows(app, login).await,
            vec![format!("Cleartext-Password|:=|{password}")],
            "radcheck of {login}"
        );
        let expected = if *status == 1 && *enabled {
            plan_group.as_str()
        } else {
            block_group
        };
        assert_eq!(
            groups_of(app, login).await,
            vec![expected.to_string()],
            "radusergroup of {login} (contract status {status}, enabled {enabled})"
        );
    }
    assert_eq!(
        app.scalar_i64(
            "SELECT COUNT(*) FROM radcheck WHERE username NOT IN \
             (SELECT login FROM internet_services)"
        )
        .await,
        0,
        "radcheck rows of unknown logins"
    );
    assert_eq!(
        app.scalar_i64(
            "SELECT COUNT(*) FROM radusergroup WHERE username NOT IN \
             (SELECT login FROM internet_services)"
        )
        .await,
        0,
        "radusergroup rows of unknown logins"
    );
}

#[tokio::test]
async fn seeding_provisions_every_login_once_with_its_group_and_rate_limit() {
    let app = spawn().await;
    let _cleanup = DropDatabaseOnPanic::new(&app.settings.database_url);
    assert_one_row_each(&app, "bloqueado").await;
    for (login, group) in DEMO_GROUPS {
        assert_eq!(groups_of(&app, login).await, vec![group], "{login}");
    }
    for (group, rate) in [
        ("plano-300m", "150M/300M"),
        ("plano-600m", "300M/600M"),
        ("plano-empresa-1g", "500M/1000M"),
    ] {
        assert_eq!(
            group_replies(&app, group).await,
            vec![format!("Mikrotik-Rate-Limit|:=|{rate}")],
            "radgroupreply of {group}"
        );
    }
    assert_eq!(
        group_replies(&app, "bloqueado").await,
        vec!["Mikrotik-Address-List|:=|bloqueados"],
        "radgroupreply of the block group"
    );
    // The password FreeRADIUS checks is the service's, and no URA answer shows it.
    let password = app
        .scalar_str("SELECT password FROM internet_services WHERE login = 'maria.silva'")
        .await
        .expect("password");
    assert!(!password.is_empty());
    let r = app
        .call("consultacliente", &[("cpfcnpj", "529.982.247-25")])
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert!(!r.body.contains(&password), "{}", r.body);
    app.stop().await;
}

#[tokio::test]
async fn unlock_moves_the_login_to_its_plan_group_and_refusals_change_nothing() {
    let app = spawn().await;
    let _cleanup = DropDatabaseOnPanic::new(&app.settings.database_url);
    let seeded = rad_rows(&app).await;

    // Refused, for each reason: FreeRADIUS's rows stay as they are.
    for (contract, extra, status) in [
        ("1002", Some(("data_promessa", "2000-01-01")), 0),
        ("3001", None, 2),
        ("4001", None, 0),
        ("1001", None, 0),
        ("9999", None, 0),
    ] {
        let mut params = vec![("contrato", contract)];
        params.extend(extra);
        let r = app.call("liberacaopromessa", &params).await;
        assert_eq!(r.status, 200, "{}", r.body);
        assert_eq!(r.json["status"], json!(status), "{contract}: {}", r.body);
        assert_eq!(
            rad_rows(&app).await,
            seeded,
            "a refused liberacaopromessa ({contract}) changed FreeRADIUS rows"
        );
    }
    assert_eq!(groups_of(&app, "maria.silva2").await, vec!["bloqueado"]);

    let r = app.call("liberacaopromessa", &[("contrato", "1002")]).await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.json["status"], json!(1), "{}", r.body);
    assert_eq!(groups_of(&app, "maria.silva2").await, vec!["plano-300m"]);
    // Only that row changed.
    let expected: Vec<String> = {
        let mut rows: Vec<String> = seeded
            .iter()
            .map(|row| {
                if row == "radusergroup|maria.silva2|bloqueado|1" {
                    "radusergroup|maria.silva2|plano-300m|1".to_string()
                } else {
                    row.clone()
                }
            })
            .collect();
        rows.sort();
        rows
    };
    assert!(
        seeded.contains(&"radusergroup|maria.silva2|bloqueado|1".to_string()),
        "{seeded:#?}"
    );
    let unlocked = rad_rows(&app).await;
    assert_eq!(unlocked, expected);
    assert_one_row_each(&app, "bloqueado").await;

    // Refused again (used this month): nothing changes.
    let r = app.call("liberacaopromessa", &[("contrato", "1002")]).await;
    assert_eq!(r.json["status"], json!(2), "{}", r.body);
    assert_eq!(rad_rows(&app).await, unlocked);
    app.stop().await;
}

#[tokio::test]
async fn unlock_and_its_provisioning_commit_or_roll_back_together() {
    let app = spawn().await;
    let _cleanup = DropDatabaseOnPanic::new(&app.settings.database_url);
    let seeded = rad_rows(&app).await;
    // The unlock's last write (its ticket) fails: the whole unlock must roll back, including
    // the group change written before it.
    if app.is_postgres() {
        app.exec(
            "CREATE FUNCTION falha_de_teste() RETURNS trigger LANGUAGE plpgsql AS \
             $$ BEGIN RAISE EXCEPTION 'falha de teste'; END $$; \
             CREATE TRIGGER falha_de_teste BEFORE INSERT ON tickets \
             FOR EACH ROW EXECUTE FUNCTION falha_de_teste();",
        )
        .await;
    } else {
        app.exec(
            "CREATE TRIGGER falha_de_teste BEFORE INSERT ON tickets \
             BEGIN SELECT RAISE(ABORT, 'falha de teste'); END;",
        )
        .await;
    }
    let r = app.call("liberacaopromessa", &[("contrato", "1002")]).await;
    assert_eq!(
        (r.status, r.body.as_str()),
        (500, r#"{"detail":"Erro interno do servidor."}"#)
    );
    assert_eq!(rad_rows(&app).await, seeded, "rolled back with the unlock");
    assert_eq!(groups_of(&app, "maria.silva2").await, vec!["bloqueado"]);
    assert_eq!(
        app.scalar_i64("SELECT COUNT(*) FROM promises WHERE contract_id = 1002")
            .await,
        0
    );
    assert_eq!(
        app.scalar_i64("SELECT CAST(status AS BIGINT) FROM contracts WHERE id = 1002")
            .await,
        4
    );
    assert_eq!(
        app.scalar_i64(
            "SELECT COUNT(*) FROM internet_services WHERE contract_id = 1002 AND enabled = 1"
        )
        .await,
        0
    );

    if app.is_postgres() {
        app.exec("DROP TRIGGER falha_de_teste ON tickets; DROP FUNCTION falha_de_teste();")
            .await;
    } else {
        app.exec("DROP TRIGGER falha_de_teste;").await;
    }
    let r = app.call("liberacaopromessa", &[("contrato", "1002")]).await;
    assert_eq!(r.json["status"], json!(1), "{}", r.body);
    assert_eq!(groups_of(&app, "maria.silva2").await, vec!["plano-300m"]);
    app.stop().await;
}

#[tokio::test]
async fn radius_sync_moves_blocked_logins_to_the_configured_group_idempotently() {
    let app = spawn().await;
    let _cleanup = DropDatabaseOnPanic::new(&app.settings.database_url);
    let seeded = rad_rows(&app).await;
    let passwords_before = strings(
        &app,
        "SELECT username || '|' || value FROM radcheck ORDER BY username",
    )
    .await;

    let stderr = radius_sync(&app, Some("suspensos")).await;
    assert!(
        stderr.contains("FreeRADIUS sincronizado: 3 plano(s), 7 contrato(s)"),
        "{stderr}"
    );
    for login in BLOCKED {
        assert_eq!(groups_of(&app, login).await, vec!["suspensos"], "{login}");
    }
    for (login, group) in DEMO_GROUPS {
        if !BLOCKED.contains(&login) {
            assert_eq!(groups_of(&app, login).await, vec![group], "{login}");
        }
    }
    assert_eq!(
        app.scalar_i64("SELECT COUNT(*) FROM radusergroup WHERE groupname = 'bloqueado'")
            .await,
        0,
        "no login left in the old block group"
    );
    assert_one_row_each(&app, "suspensos").await;
    assert_eq!(
        strings(
            &app,
            "SELECT username || '|' || value FROM radcheck ORDER BY username"
        )
        .await,
        passwords_before,
        "passwords untouched"
    );
    for (group, rate) in [
        ("plano-300m", "150M/300M"),
        ("plano-600m", "300M/600M"),
        ("plano-empresa-1g", "500M/1000M"),
    ] {
        assert_eq!(
            group_replies(&app, group).await,
            vec![format!("Mikrotik-Rate-Limit|:=|{rate}")],
            "{group}"
        );
    }
    let once = rad_rows(&app).await;
    assert_ne!(once, seeded);

    // Twice: the same rows, no duplicates.
    radius_sync(&app, Some("suspensos")).await;
    assert_eq!(rad_rows(&app).await, once, "a second sync changes nothing");
    assert_one_row_each(&app, "suspensos").await;

    // Back to the default group: the blocked logins return to 'bloqueado'.
    radius_sync(&app, None).await;
    assert_eq!(rad_rows(&app).await, seeded);
    app.stop().await;
}

#[tokio::test]
async fn radius_sync_rewrites_what_was_changed_by_hand() {
    let app = spawn().await;
    let _cleanup = DropDatabaseOnPanic::new(&app.settings.database_url);
    // The operator edits the data by SQL, and damages FreeRADIUS's rows by hand.
    app.exec(
        "UPDATE internet_services SET password = 'nova-senha-7319' WHERE login = 'maria.silva'",
    )
    .await;
    app.exec(
        "UPDATE plans SET download_kbps = 800000, upload_kbps = 400000 \
         WHERE radius_group = 'plano-600m'",
    )
    .await;
    app.exec("DELETE FROM radusergroup WHERE username = 'ana.costa'")
        .await;
    app.exec(
        "INSERT INTO radcheck (username, attribute, op, value) \
         VALUES ('jose.loja', 'Cleartext-Password', ':=', 'duplicada')",
    )
    .await;
    app.exec(
        "INSERT INTO radusergroup (username, groupname, priority) \
         VALUES ('jose.loja', 'plano-empresa-1g', 1)",
    )
    .await;

    let before_sync = password_rows(&app, "maria.silva").await;
    assert_eq!(before_sync.len(), 1);
    assert_ne!(before_sync[0], "Cleartext-Password|:=|nova-senha-7319");

    radius_sync(&app, None).await;
    assert_eq!(
        password_rows(&app, "maria.silva").await,
        vec!["Cleartext-Password|:=|nova-senha-7319"]
    );
    assert_eq!(
        group_replies(&app, "plano-600m").await,
        vec!["Mikrotik-Rate-Limit|:=|400M/800M"]
    );
    assert_eq!(groups_of(&app, "ana.costa").await, vec!["plano-600m"]);
    assert_eq!(groups_of(&app, "jose.loja").await, vec!["plano-300m"]);
    assert_one_row_each(&app, "bloqueado").await;
    // The operator's own reply of the block group is kept.
    assert_eq!(
        group_replies(&app, "bloqueado").await,
        vec!["Mikrotik-Address-List|:=|bloqueados"]
    );

    // The running server provisions from the same data: an unlock after the sync keeps the
    // new password.
    let r = app.call("liberacaopromessa", &[("contrato", "1002")]).await;
    assert_eq!(r.json["status"], json!(1), "{}", r.body);
    assert_eq!(groups_of(&app, "maria.silva2").await, vec!["plano-300m"]);
    assert_eq!(
        password_rows(&app, "maria.silva").await,
        vec!["Cleartext-Password|:=|nova-senha-7319"]
    );
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_radius_syncs_leave_one_row_each() {
    let app = spawn().await;
    let _cleanup = DropDatabaseOnPanic::new(&app.settings.database_url);
    let seeded = rad_rows(&app).await;
    // Operators (or a cron job and an operator) may run the sync at the same moment.
    let mut set = tokio::task::JoinSet::new();
    for _ in 0..4 {
        let mut cmd = ura(app.dir.path());
        cmd.args(["radius", "sync", "--database", &app.settings.database_url]);
        set.spawn(async move {
            tokio::time::timeout(Duration::from_secs(60), cmd.output())
                .await
                .expect("ura radius sync did not finish")
                .expect("run ura radius sync")
        });
    }
    while let Some(out) = set.join_next().await {
        let out = out.expect("task");
        assert_eq!(
            out.status.code(),
            Some(0),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    assert_eq!(
        rad_rows(&app).await,
        seeded,
        "concurrent syncs must leave the same rows as one sync (no duplicates)"
    );
    assert_one_row_each(&app, "bloqueado").await;
    app.stop().await;
}

/// Polls (bounded) until `n` sessions of the test's PostgreSQL database wait on a lock.
async fn wait_for_lock_waiters(app: &TestApp, n: i64) {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
    loop {
        let waiting = app
            .scalar_i64(
                "SELECT COUNT(*) FROM pg_stat_activity \
                 WHERE datname = current_database() AND wait_event_type = 'Lock'",
            )
            .await;
        if waiting >= n {
            return;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "{waiting} session(s) waiting on a lock, expected {n}"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn sync_racing_an_unlock_leaves_the_login_in_its_plan_group() {
    let app = spawn().await;
    let _cleanup = DropDatabaseOnPanic::new(&app.settings.database_url);
    let form = vec![
        ("app".to_string(), APP.to_string()),
        ("token".to_string(), app.token.clone()),
        ("contrato".to_string(), "1002".to_string()),
    ];
    let unlock = {
        let (client, url, form) = (app.client.clone(), app.fn_url("liberacaopromessa"), form);
        move || async move { into_resp(client.post(url).form(&form).send().await.expect("send")).await }
    };
    let mut sync = ura(app.dir.path());
    sync.args(["radius", "sync", "--database", &app.settings.database_url]);

    let (answer, synced) = if app.is_postgres() {
        // Force the interleaving: the unlock is held (by a lock of the test's own) after it
        // rewrote the login's password row and before it commits; the sync starts meanwhile,
        // reads the contract as still suspended and waits for the unlock's rows. Then both
        // go on.
        let mut holder = app.store.pool().begin().await.expect("begin");
        sqlx::query("SELECT id FROM radusergroup WHERE username = 'maria.silva2' FOR UPDATE")
            .fetch_all(&mut *holder)
            .await
            .expect("lock");
        let unlocking = tokio::spawn(unlock());
        wait_for_lock_waiters(&app, 1).await;
        let syncing = tokio::spawn(async move {
            tokio::time::timeout(Duration::from_secs(60), sync.output())
                .await
                .expect("ura radius sync did not finish")
                .expect("run ura radius sync")
        });
        wait_for_lock_waiters(&app, 2).await;
        holder.commit().await.expect("release");
        (
            unlocking.await.expect("unlock task"),
            syncing.await.expect("sync task"),
        )
    } else {
        // SQLite: one writer at a time; the two simply run at the same moment.
        let syncing = tokio::spawn(async move {
            tokio::time::timeout(Duration::from_secs(60), sync.output())
                .await
                .expect("ura radius sync did not finish")
                .expect("run ura radius sync")
        });
        let answer = unlock().await;
        (answer, syncing.await.expect("sync task"))
    };
    assert_eq!(
        synced.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&synced.stderr)
    );
    assert_eq!(answer.status, 200, "{}", answer.body);
    assert_eq!(answer.json["status"], json!(1), "{}", answer.body);
    assert_eq!(
        app.scalar_i64("SELECT CAST(status AS BIGINT) FROM contracts WHERE id = 1002")
            .await,
        1
    );
    // The customer was told the line is back: FreeRADIUS must agree, with one row each.
    assert_eq!(
        groups_of(&app, "maria.silva2").await,
        vec!["plano-300m"],
        "the unlocked login's group after a concurrent sync"
    );
    assert_one_row_each(&app, "bloqueado").await;
    app.stop().await;
}
